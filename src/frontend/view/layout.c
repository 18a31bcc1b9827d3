/* The view's geometry (see layout.h). */
#include "frontend/view/layout.h"

#include <math.h>

static int sc(const struct view_layout *L, double v)
{
    return (int)lround(v * L->s);
}

void view_layout_make(struct view_layout *L, int w, int h, float scale, bool rings_used)
{
    *L = (struct view_layout){ .w = w, .h = h, .s = scale };
    L->font_px = sc(L, 13);
    L->line_h = sc(L, 17);
    int pad = sc(L, 10);
    L->header = (struct view_rect){ 0, 0, w, sc(L, 30) };
    L->overview = (struct view_rect){ sc(L, 90), L->header.h + sc(L, 6), w - sc(L, 90) - pad,
                                      sc(L, 26) };
    int top = L->overview.y + L->overview.h + sc(L, 12);
    int dw = w / 3 > sc(L, 330) ? w / 3 : sc(L, 330);
    if (dw > w / 2)
        dw = w / 2;
    int rest_h = h - top - pad;
    int tl_h = rest_h * 44 / 100;
    if (tl_h < sc(L, 200))
        tl_h = sc(L, 200);
    L->timeline = (struct view_rect){ pad, top, w - dw - 3 * pad, tl_h };
    L->legend = (struct view_rect){ pad, top + tl_h + sc(L, 4), L->timeline.w, sc(L, 26) };
    int low = L->legend.y + L->legend.h + sc(L, 8);
    L->details = (struct view_rect){ L->timeline.x + L->timeline.w + pad, top, dw + pad,
                                     low - top };
    int low_h = h - low - pad;
    if (low_h < 0)
        low_h = 0;
    int pw = (w - 3 * pad) * 45 / 100;
    L->procs = (struct view_rect){ pad, low, pw, low_h };
    L->console = (struct view_rect){ 2 * pad + pw, low, w - 3 * pad - pw, low_h };
    L->lane_x0 = L->timeline.x + sc(L, 128);
    L->lane_x1 = L->timeline.x + L->timeline.w - sc(L, 16);
    if (L->lane_x1 < L->lane_x0 + 16)
        L->lane_x1 = L->lane_x0 + 16; /* a tiny frame still maps time to x */
    int y0 = L->timeline.y + sc(L, 40), y3 = L->timeline.y + L->timeline.h - sc(L, 80);
    static const double used[4] = { 0, 1.0 / 3, 2.0 / 3, 1 }, thin[4] = { 0, 0.34, 0.48, 1 };
    for (int r = 0; r < 4; r++)
        L->lane_y[r] = y0 + (int)lround((rings_used ? used[r] : thin[r]) * (y3 - y0));
    L->irq_y = y0 - sc(L, 14);
    L->sys_y = y3 + sc(L, 12);
    L->axis_y = y3 + sc(L, 40);
    L->time_y = L->axis_y + sc(L, 16);
    L->legend_entry_w = sc(L, 190);
}

double view_x_of(const struct view_layout *L, const struct view_state *st, double t)
{
    return L->lane_x0 + (t - st->t0) / st->span * (L->lane_x1 - L->lane_x0);
}

double view_t_at(const struct view_layout *L, const struct view_state *st, double x)
{
    return st->t0 + (x - L->lane_x0) / (double)(L->lane_x1 - L->lane_x0) * st->span;
}

double view_tick_step(const struct view_layout *L, const struct view_state *st)
{
    double span = st->span;
    int width = L->lane_x1 - L->lane_x0;
    float s = L->s;
    double want = span / (width / (110.0 * s) > 1 ? width / (110.0 * s) : 1);
    double p = pow(10, floor(log10(want > 1 ? want : 1)));
    if (p * 1 >= want)
        return p;
    if (p * 2 >= want)
        return 2 * p;
    if (p * 5 >= want)
        return 5 * p;
    return 10 * p;
}

void view_column(const struct view_layout *L, const struct view_state *st, int x, double *t0,
                 double *t1)
{
    *t0 = view_t_at(L, st, x);
    *t1 = view_t_at(L, st, x + 1);
}

int view_overview_x(const struct view_layout *L, const struct view_model *m, double t)
{
    double whole = (double)(m->end_icount - m->start_icount);
    if (whole < 1)
        whole = 1;
    return L->overview.x + (int)((t - (double)m->start_icount) / whole * (L->overview.w - 1));
}

void view_fault_marker(const struct view_layout *L, const struct view_state *st,
                       const struct view_model *m, size_t i, int *x, int *y)
{
    *x = (int)floor(view_x_of(L, st, (double)m->ev[i].icount));
    *y = L->lane_y[m->ev[i].cpl_from] - sc(L, 6);
}

void view_layout_legend(struct view_layout *L, unsigned n)
{
    int room = L->legend.w - sc(L, 100);
    L->legend_entry_w = sc(L, 190);
    if (n && room / (int)n < L->legend_entry_w)
        L->legend_entry_w = room / (int)n;
}

struct view_rect view_legend_swatch(const struct view_layout *L, unsigned k)
{
    int per_row = L->legend.w / (L->legend_entry_w ? L->legend_entry_w : 1);
    if (per_row < 1)
        per_row = 1;
    int row = (int)k / per_row, col = (int)k % per_row;
    int sz = sc(L, 11);
    return (struct view_rect){ L->legend.x + sc(L, 100) + col * L->legend_entry_w,
                               L->legend.y + (L->legend.h - sz) / 2 + row * L->line_h, sz, sz };
}

unsigned view_legend_entries(const struct view_model *m, unsigned *out, unsigned max)
{
    unsigned n = 0;
    /* Every process's space in the order first seen, then the kernel's. */
    for (size_t s = 0; s < m->nsp && n < max; s++)
        if (!view_space_is_boot(m, (unsigned)s))
            out[n++] = (unsigned)s;
    for (size_t s = 0; s < m->nsp && n < max; s++)
        if (view_space_is_boot(m, (unsigned)s))
            out[n++] = (unsigned)s;
    return n;
}

static void clamp(struct view_state *st, const struct view_model *m)
{
    double whole = (double)(m->end_icount - m->start_icount);
    if (whole < 1)
        whole = 1;
    if (st->span > whole)
        st->span = whole;
    if (st->span < 8)
        st->span = 8;
    if (st->t0 + st->span > (double)m->start_icount + whole)
        st->t0 = (double)m->start_icount + whole - st->span;
    if (st->t0 < (double)m->start_icount)
        st->t0 = (double)m->start_icount;
}

void view_state_fit(struct view_state *st, const struct view_model *m)
{
    st->t0 = (double)m->start_icount;
    st->span = (double)(m->end_icount - m->start_icount);
    if (st->span < 1)
        st->span = 1;
}

void view_state_zoom(struct view_state *st, const struct view_model *m, double factor,
                     double t)
{
    double frac = (t - st->t0) / st->span;
    st->span *= factor;
    clamp(st, m);
    st->t0 = t - frac * st->span;
    clamp(st, m);
}

void view_state_pan(struct view_state *st, const struct view_model *m, double dt)
{
    st->t0 += dt;
    clamp(st, m);
}

void view_state_center(struct view_state *st, const struct view_model *m, double t)
{
    st->t0 = t - st->span / 2;
    clamp(st, m);
}

long view_state_step(const struct view_state *st, const struct view_model *m, int dir)
{
    long i = st->selected;
    if (i < 0)
        i = dir > 0 ? (long)view_model_find(m, (uint64_t)st->t0) - 1 : (long)m->n;
    for (i += dir; i >= 0 && (size_t)i < m->n; i += dir) {
        const struct view_event *v = &m->ev[i];
        if (st->class_filter && !(st->class_filter & VIEW_CLASS_BIT(v->cls)))
            continue;
        if (st->space_filter >= 0 && v->space_from != st->space_filter)
            continue;
        if (st->vector_filter >= 0 && (v->vector != st->vector_filter || v->cls == VC_RETURN ||
                                       v->cls == VC_OTHER))
            continue;
        if (!st->class_filter && v->cls == VC_RETURN)
            continue; /* returns are reached from their entry's details */
        return i;
    }
    return -1;
}

bool view_rings_used(const struct view_model *m)
{
    return m->n && (view_model_mask(m, 0, m->n) & (VIEW_RING_BIT(1) | VIEW_RING_BIT(2)));
}

int view_console_rows(const struct view_layout *L, int line_h, int *y0)
{
    int pad = sc(L, 10);
    *y0 = L->console.y + pad + line_h + sc(L, 4);
    int rows = (L->console.y + L->console.h - pad - *y0) / (line_h > 0 ? line_h : 1);
    return rows > 0 ? rows : 0;
}

size_t view_console_top(const struct view_model *m, const struct view_state *st, int rows)
{
    if (m->nlines == 0)
        return 0;
    if (st->console_top >= 0)
        return (size_t)st->console_top < m->nlines ? (size_t)st->console_top : m->nlines - 1;
    double tend = st->t0 + st->span;
    size_t upto = 0;
    while (upto < m->nlines && (double)m->lines[upto].icount <= tend)
        upto++;
    return upto > (size_t)rows ? upto - (size_t)rows : 0;
}
