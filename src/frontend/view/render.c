/* One frame of the view (see render.h). */
#include "frontend/view/render.h"

#include <fontconfig/fontconfig.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <SDL_ttf.h>

#include "trace/describe.h"
#include "trace/format.h"

#define RGB_TEXT 0xd8dee9u
#define RGB_DIM 0x8a93a3u
#define RGB_GRID 0x3a3f4bu
#define RGB_HEAD 0xffffffu
#define RGB_SELECT 0xffffffu
#define RGB_OK 0x9ccc65u

/* The glyphs the atlas holds: printable ASCII, then these. */
static const uint16_t extra_glyphs[] = { 0x2014, 0x2192, 0x00b7, 0x2026, 0x2190, 0x2013 };
#define NASCII 95
#define NGLYPHS (NASCII + (int)(sizeof extra_glyphs / sizeof extra_glyphs[0]))

struct view_render {
    SDL_Renderer *r;
    char font_path[512];
    TTF_Font *font;
    SDL_Texture *atlas;
    int cw, ch;                /* a glyph cell */
    float scale;
    struct describe_ctx dctx;  /* for one event's words at a time */
};

bool view_font_path(char *out, size_t len, char *why, size_t whylen)
{
    const char *env = getenv("RINGSIDE_FONT");
    if (env && *env) {
        if (access(env, R_OK) == 0) {
            snprintf(out, len, "%s", env);
            return true;
        }
        snprintf(why, whylen, "RINGSIDE_FONT=%s cannot be read", env);
        return false;
    }
    bool found = false;
    if (FcInit()) {
        FcPattern *pat = FcNameParse((const FcChar8 *)"DejaVu Sans Mono");
        if (pat) {
            FcConfigSubstitute(NULL, pat, FcMatchPattern);
            FcDefaultSubstitute(pat);
            FcResult res;
            FcPattern *match = FcFontMatch(NULL, pat, &res);
            FcChar8 *file = NULL;
            if (match && FcPatternGetString(match, FC_FILE, 0, &file) == FcResultMatch &&
                strstr((const char *)file, "DejaVuSansMono") && access((const char *)file,
                                                                      R_OK) == 0) {
                snprintf(out, len, "%s", (const char *)file);
                found = true;
            }
            if (match)
                FcPatternDestroy(match);
            FcPatternDestroy(pat);
        }
        FcFini(); /* the one question is answered: its caches go */
    }
    if (found)
        return true;
    static const char debian[] = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf";
    if (access(debian, R_OK) == 0) {
        snprintf(out, len, "%s", debian);
        return true;
    }
    snprintf(why, whylen, "no DejaVu Sans Mono font (install fonts-dejavu-core, or set "
                          "RINGSIDE_FONT to a .ttf file)");
    return false;
}

static bool open_font(struct view_render *R, float scale)
{
    int px = (int)lround(13 * scale);
    TTF_Font *f = TTF_OpenFont(R->font_path, px < 6 ? 6 : px);
    if (!f)
        return false;
    int adv = 0;
    if (TTF_GlyphMetrics(f, 'M', NULL, NULL, NULL, NULL, &adv) != 0 || adv <= 0) {
        TTF_CloseFont(f);
        return false;
    }
    int cw = adv, ch = TTF_FontLineSkip(f);
    SDL_Surface *s = SDL_CreateRGBSurfaceWithFormat(0, cw * NGLYPHS, ch, 32,
                                                    SDL_PIXELFORMAT_ARGB8888);
    if (!s) {
        TTF_CloseFont(f);
        return false;
    }
    SDL_FillRect(s, NULL, SDL_MapRGBA(s->format, 255, 255, 255, 0));
    SDL_Color white = { 255, 255, 255, 255 };
    for (int g = 0; g < NGLYPHS; g++) {
        uint16_t cp = g < NASCII ? (uint16_t)(32 + g) : extra_glyphs[g - NASCII];
        if (cp == ' ' || !TTF_GlyphIsProvided(f, cp))
            continue;
        SDL_Surface *gs = TTF_RenderGlyph_Blended(f, cp, white);
        if (!gs)
            continue;
        SDL_SetSurfaceBlendMode(gs, SDL_BLENDMODE_NONE);
        SDL_Rect dst = { g * cw, 0, gs->w < cw ? gs->w : cw, gs->h < ch ? gs->h : ch };
        SDL_Rect src = { 0, 0, dst.w, dst.h };
        SDL_BlitSurface(gs, &src, s, &dst);
        SDL_FreeSurface(gs);
    }
    SDL_Texture *t = SDL_CreateTextureFromSurface(R->r, s);
    SDL_FreeSurface(s);
    if (!t) {
        TTF_CloseFont(f);
        return false;
    }
    SDL_SetTextureBlendMode(t, SDL_BLENDMODE_BLEND);
    if (R->atlas)
        SDL_DestroyTexture(R->atlas);
    if (R->font)
        TTF_CloseFont(R->font);
    R->font = f;
    R->atlas = t;
    R->cw = cw;
    R->ch = ch;
    R->scale = scale;
    return true;
}

struct view_render *view_render_new(SDL_Renderer *r, float scale, char *why, size_t whylen)
{
    struct view_render *R = calloc(1, sizeof *R);
    if (!R) {
        snprintf(why, whylen, "out of memory");
        return NULL;
    }
    R->r = r;
    if (!view_font_path(R->font_path, sizeof R->font_path, why, whylen)) {
        free(R);
        return NULL;
    }
    if (!TTF_WasInit() && TTF_Init() != 0) {
        snprintf(why, whylen, "SDL_ttf: %s", TTF_GetError());
        free(R);
        return NULL;
    }
    if (!open_font(R, scale)) {
        snprintf(why, whylen, "cannot open the font %s: %s", R->font_path, TTF_GetError());
        free(R);
        return NULL;
    }
    SDL_SetRenderDrawBlendMode(r, SDL_BLENDMODE_BLEND);
    return R;
}

void view_render_free(struct view_render *R)
{
    if (!R)
        return;
    if (R->atlas)
        SDL_DestroyTexture(R->atlas);
    if (R->font)
        TTF_CloseFont(R->font);
    free(R);
}

bool view_render_set_scale(struct view_render *R, float scale)
{
    return open_font(R, scale);
}

int view_render_line_h(const struct view_render *R)
{
    return R->ch;
}

/* ---- drawing primitives ---- */

static void colour(struct view_render *R, uint32_t rgb, uint8_t a)
{
    SDL_SetRenderDrawColor(R->r, (uint8_t)(rgb >> 16), (uint8_t)(rgb >> 8), (uint8_t)rgb, a);
}

static void fill(struct view_render *R, int x, int y, int w, int h, uint32_t rgb)
{
    colour(R, rgb, 255);
    SDL_Rect rc = { x, y, w, h };
    SDL_RenderFillRect(R->r, &rc);
}

static void frame(struct view_render *R, struct view_rect rc, uint32_t rgb)
{
    fill(R, rc.x, rc.y, rc.w, rc.h, rgb);
}

static void triangle(struct view_render *R, float x, float y, float size, bool down,
                     uint32_t rgb)
{
    SDL_Color c = { (uint8_t)(rgb >> 16), (uint8_t)(rgb >> 8), (uint8_t)rgb, 255 };
    float d = down ? -1.0f : 1.0f;
    SDL_Vertex v[3] = {
        { { x, y }, c, { 0, 0 } },
        { { x - size * 0.6f, y + d * size }, c, { 0, 0 } },
        { { x + size * 0.6f, y + d * size }, c, { 0, 0 } },
    };
    SDL_RenderGeometry(R->r, NULL, v, 3, NULL, 0);
}

/* The next code point of UTF-8 s (advancing *s); '?' for what is not well formed. */
static uint32_t utf8_next(const char **s)
{
    const unsigned char *p = (const unsigned char *)*s;
    uint32_t cp = p[0];
    int n = 0;
    if (cp < 0x80)
        n = 0;
    else if ((cp & 0xe0) == 0xc0)
        n = 1, cp &= 0x1f;
    else if ((cp & 0xf0) == 0xe0)
        n = 2, cp &= 0x0f;
    else if ((cp & 0xf8) == 0xf0)
        n = 3, cp &= 0x07;
    else {
        *s += 1;
        return '?';
    }
    for (int i = 1; i <= n; i++) {
        if ((p[i] & 0xc0) != 0x80) {
            *s += i;
            return '?';
        }
        cp = cp << 6 | (p[i] & 0x3f);
    }
    *s += n + 1;
    return cp;
}

static int glyph_index(uint32_t cp)
{
    if (cp >= 32 && cp < 127)
        return (int)cp - 32;
    for (int i = 0; i < NGLYPHS - NASCII; i++)
        if (extra_glyphs[i] == cp)
            return NASCII + i;
    return '?' - 32;
}

/* Draws UTF-8 text at (x, y) (its top), at most maxw pixels wide (0: no limit); returns the
 * width drawn. */
static int text(struct view_render *R, int x, int y, uint32_t rgb, int maxw, const char *s)
{
    SDL_SetTextureColorMod(R->atlas, (uint8_t)(rgb >> 16), (uint8_t)(rgb >> 8), (uint8_t)rgb);
    int x0 = x;
    while (*s) {
        if (maxw > 0 && x + R->cw > x0 + maxw)
            break;
        int g = glyph_index(utf8_next(&s));
        if (g != 0) {
            SDL_Rect src = { g * R->cw, 0, R->cw, R->ch }, dst = { x, y, R->cw, R->ch };
            SDL_RenderCopy(R->r, R->atlas, &src, &dst);
        }
        x += R->cw;
    }
    return x - x0;
}

static int textf(struct view_render *R, int x, int y, uint32_t rgb, int maxw, const char *fmt,
                 ...) __attribute__((format(printf, 6, 7)));
static int textf(struct view_render *R, int x, int y, uint32_t rgb, int maxw, const char *fmt,
                 ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return text(R, x, y, rgb, maxw, buf);
}

/* Code points in s. */
static int text_len(const char *s)
{
    int n = 0;
    while (*s) {
        utf8_next(&s);
        n++;
    }
    return n;
}

/* Draws s wrapped at cols columns from (x, *y), lines at most maxlines; advances *y. */
static void text_wrap(struct view_render *R, int x, int *y, uint32_t rgb, int cols,
                      int maxlines, int indent, const char *s)
{
    char line[512];
    int first = 1;
    while (*s && maxlines-- > 0) {
        int width = cols - (first ? 0 : indent);
        if (width < 8)
            width = 8;
        /* Take up to width code points, breaking at a space when the rest does not fit. */
        const char *p = s, *brk = NULL;
        int n = 0;
        while (*p && n < width) {
            if (*p == ' ')
                brk = p;
            utf8_next(&p);
            n++;
        }
        const char *end = (*p && brk && brk > s) ? brk : p;
        size_t len = (size_t)(end - s) < sizeof line - 1 ? (size_t)(end - s) : sizeof line - 1;
        memcpy(line, s, len);
        line[len] = 0;
        text(R, x + (first ? 0 : indent * R->cw), *y, rgb, 0, line);
        *y += R->ch;
        s = end;
        while (*s == ' ')
            s++;
        first = 0;
    }
}

/* "4.215M", "812.3k", "950" */
static void fmt_count(char *buf, size_t len, double v, double step)
{
    if (step >= 1e5 || fabs(v) >= 1e7)
        snprintf(buf, len, "%.*fM", step >= 1e6 ? 0 : step >= 1e5 ? 1 : step >= 1e4 ? 2 : 3,
                 v / 1e6);
    else if (step >= 100 && fabs(v) >= 1e4)
        snprintf(buf, len, "%.*fk", step >= 1e3 ? 0 : 1, v / 1e3);
    else
        snprintf(buf, len, "%.0f", v);
}

/* Guest time t seconds as a tick label ("12.5 ms"): in the largest unit t (or the step)
 * reaches, with the decimals the ticks' step (also in seconds) needs to tell neighbours apart. */
static void fmt_guest_time(char *buf, size_t len, double t, double step)
{
    static const struct { double unit; const char *name; } units[] = {
        { 1, "s" }, { 1e-3, "ms" }, { 1e-6, "us" }, { 1e-9, "ns" },
    };
    size_t u = 0;
    while (u + 1 < sizeof units / sizeof units[0] && fmax(fabs(t), step) < units[u].unit)
        u++;
    double su = step / units[u].unit;
    int dec = su > 0 ? (int)ceil(-log10(su) - 1e-9) : 0;
    dec = dec < 0 ? 0 : dec > 6 ? 6 : dec;
    snprintf(buf, len, "%.*f %s", dec, t / units[u].unit, units[u].name);
}

static void fmt_thousands(char *buf, size_t len, uint64_t v)
{
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "%" PRIu64, v);
    size_t o = 0;
    for (int i = 0; i < n && o + 2 < len; i++) {
        if (i && (n - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = tmp[i];
    }
    buf[o] = 0;
}

/* The part of an event's line after " | ", or the whole line. */
static const char *what_part(const char *line)
{
    const char *p = strstr(line, " | ");
    return p ? p + 3 : line;
}

/* Event i's line with names, and the pairing of a return with its entry. */
static void event_line(struct view_render *R, const struct view_model *m, size_t i, char *buf,
                       size_t len)
{
    struct describe_names names;
    view_model_names((struct view_model *)m, &names);
    describe_ctx_init(&R->dctx, &names);
    struct trace_event ev;
    if (m->ev[i].cls == VC_RETURN && m->ev[i].pair >= 0) {
        view_model_event(m, (size_t)m->ev[i].pair, &ev);
        describe_track(&R->dctx, &ev, &ev);
    }
    view_model_event(m, i, &ev);
    describe_event_in(&R->dctx, &ev, buf, len);
}

/* ---- the panels ---- */

static void draw_header(struct view_render *R, const struct view_model *m,
                        const struct view_state *st, const struct view_layout *L)
{
    frame(R, L->header, 0x1b1e24);
    int y = L->header.y + (L->header.h - R->ch) / 2, pad = (int)(10 * L->s);
    int x = pad + textf(R, pad, y, RGB_HEAD, 0, "Ringside view — %s", m->title);
    char ins[32];
    fmt_thousands(ins, sizeof ins, m->end_icount);
    char end[64];
    if (st->live && !m->ended)
        snprintf(end, sizeof end, "%s", st->paused ? "live, paused" : "live, running");
    else if (m->ended && m->tf)
        snprintf(end, sizeof end, "end: %s %" PRIu32, trace_end_reason_name(m->end_reason),
                 m->end_status);
    else if (m->ended)
        snprintf(end, sizeof end, "end: %s", trace_end_reason_name(m->end_reason));
    else
        snprintf(end, sizeof end, "end: not recorded");
    x += 3 * R->cw;
    x += textf(R, x, y, RGB_DIM, 0, "%s instructions · %zu transitions · %u processes · %s",
               ins, m->n, m->nsp ? (unsigned)m->nsp - 1 : 0, end);
    const char *keys = st->live ? "Space pause  . step  n/p select  +/- zoom  0 fit  h help"
                                : "n/p select  +/- zoom  drag pan  0 fit  h help";
    int kw = text_len(keys) * R->cw;
    if (L->w - pad - kw > x + 2 * R->cw)
        text(R, L->w - pad - kw, y, RGB_DIM, 0, keys);
}

static void draw_overview(struct view_render *R, const struct view_model *m,
                          const struct view_state *st, const struct view_layout *L)
{
    const struct view_rect *o = &L->overview;
    text(R, (int)(10 * L->s), o->y + (o->h - R->ch) / 2, RGB_DIM, 0, "whole run");
    fill(R, o->x, o->y, o->w, o->h, RGB_GRID);
    double whole = (double)(m->end_icount - m->start_icount);
    int band = o->h / 2;
    for (int x = 0; x < o->w && m->n; x++) {
        double t = m->start_icount + (x + 0.5) / o->w * whole;
        unsigned cpl, space;
        view_model_state_at(m, (uint64_t)t, &cpl, &space);
        fill(R, o->x + x, o->y + band, 1, o->h - band - 2, view_space_colour(m, space));
    }
    /* Faults as red ticks in the upper half. */
    for (size_t k = 0; k < m->nfaults; k++) {
        int x = view_overview_x(L, m, (double)m->ev[m->faults[k]].icount);
        fill(R, x, o->y + 2, 2, band - 2, VIEW_RGB_FAULT);
    }
    int x0 = view_overview_x(L, m, st->t0), x1 = view_overview_x(L, m, st->t0 + st->span);
    if (x1 < x0 + 3)
        x1 = x0 + 3;
    colour(R, RGB_SELECT, 255);
    SDL_Rect rc = { x0, o->y - 2, x1 - x0 + 1, o->h + 4 };
    SDL_RenderDrawRect(R->r, &rc);
    colour(R, RGB_SELECT, 40);
    SDL_RenderFillRect(R->r, &rc);
}

static void draw_path(struct view_render *R, const struct view_model *m,
                      const struct view_state *st, const struct view_layout *L)
{
    int th = (int)lround(3 * L->s);
    if (th < 2)
        th = 2;
    double end = (double)m->end_icount;
    int last_x = -1;
    unsigned last_cpl = 0;
    for (int x = L->lane_x0; x < L->lane_x1 && m->n; x++) {
        double t0, t1;
        view_column(L, st, x, &t0, &t1);
        if (t1 <= (double)m->start_icount)
            continue;
        if (t0 >= end)
            break;
        uint64_t a = t0 < 0 ? 0 : (uint64_t)ceil(t0), b = (uint64_t)ceil(t1);
        size_t i0 = view_model_find(m, a), i1 = view_model_find(m, b);
        unsigned cpl, space, cpl_end, space_mid;
        view_model_state_at(m, a, &cpl, &space);
        view_model_state_at(m, (uint64_t)((t0 + t1) / 2 > 0 ? (t0 + t1) / 2 : 0), &cpl_end,
                            &space_mid);
        unsigned mask = VIEW_RING_BIT(cpl) | (i1 > i0 ? view_model_mask(m, i0, i1) : 0);
        if (i1 > i0)
            view_model_state_at(m, b > 0 ? b - 1 : 0, &cpl_end, &space);
        int rmin = 3, rmax = 0;
        for (int r = 0; r < 4; r++)
            if (mask & VIEW_RING_BIT(r)) {
                if (r < rmin)
                    rmin = r;
                if (r > rmax)
                    rmax = r;
            }
        uint32_t c = view_space_colour(m, space_mid);
        if (rmax > rmin)
            fill(R, x, L->lane_y[rmin] - th / 2, th > 2 ? 2 : 1,
                 L->lane_y[rmax] - L->lane_y[rmin] + th, c);
        /* Where the column begins and ends; a column with a whole visit between shows it. */
        fill(R, x, L->lane_y[cpl] - th / 2, 1, th, c);
        if (i1 > i0) {
            fill(R, x, L->lane_y[cpl_end] - th / 2, 1, th, c);
            for (int r = rmin; r <= rmax; r++)
                if (mask & VIEW_RING_BIT(r))
                    fill(R, x, L->lane_y[r] - th / 2, 1, th, c);
        }
        last_x = x;
        last_cpl = i1 > i0 ? cpl_end : cpl;
    }
    long fatal = m->ended ? view_model_fatal(m) : -1;
    if (fatal >= 0 && last_x >= 0 && end <= st->t0 + st->span) {
        /* The line ends in red: a cross where the machine went down. */
        int s = (int)lround(7 * L->s), y = L->lane_y[last_cpl];
        fill(R, last_x - 12, y - th / 2, 12, th, VIEW_RGB_FAULT);
        for (int k = -s; k <= s; k++) {
            fill(R, last_x + k, y + k - 1, 2, 3, VIEW_RGB_FAULT);
            fill(R, last_x + k, y - k - 1, 2, 3, VIEW_RGB_FAULT);
        }
        text(R, last_x - 22 * R->cw, y + s + 2, VIEW_RGB_FAULT, 0,
             m->ev[fatal].cls == VC_SHUTDOWN ? "triple fault: shutdown" : "kernel panic: end");
    }
}

/* Markers per column: interrupts above ring 0, system calls below ring 3. */
static void draw_markers(struct view_render *R, const struct view_model *m,
                         const struct view_state *st, const struct view_layout *L)
{
    size_t first = view_model_find(m, (uint64_t)(st->t0 > 0 ? st->t0 : 0));
    size_t last = view_model_find(m, (uint64_t)ceil(st->t0 + st->span));
    bool sparse = last - first < (size_t)((L->lane_x1 - L->lane_x0) / (int)(12 * L->s));
    int sz = (int)lround(7 * L->s);
    int gap = sparse ? sz : 1;
    int last_sys = -1000, last_irq = -1000;
    for (int x = L->lane_x0; x < L->lane_x1 && m->n; x++) {
        double t0, t1;
        view_column(L, st, x, &t0, &t1);
        size_t i0 = view_model_find(m, (uint64_t)(t0 > 0 ? ceil(t0) : 0));
        size_t i1 = view_model_find(m, (uint64_t)(t1 > 0 ? ceil(t1) : 0));
        if (i1 <= i0)
            continue;
        unsigned mask = view_model_mask(m, i0, i1);
        if ((mask & VIEW_CLASS_BIT(VC_SYSCALL)) && x - last_sys >= gap) {
            if (sparse)
                triangle(R, (float)x, (float)L->sys_y - sz, (float)sz, false, VIEW_RGB_SYSCALL);
            else
                fill(R, x, L->sys_y - sz, 1, sz, VIEW_RGB_SYSCALL);
            last_sys = x;
        }
        if ((mask & VIEW_CLASS_BIT(VC_INTERRUPT)) && x - last_irq >= gap) {
            if (sparse)
                fill(R, x - sz / 2, L->irq_y - sz / 2, sz, sz, VIEW_RGB_IRQ);
            else
                fill(R, x, L->irq_y - sz / 2, 1, sz, VIEW_RGB_IRQ);
            last_irq = x;
        }
    }
    /* Labels when few events are in view. */
    if (sparse && last - first <= 16) {
        char line[512];
        int label_right[2] = { -1, -1 }; /* per row: system calls, interrupts */
        for (size_t i = first; i < last; i++) {
            unsigned c = m->ev[i].cls;
            if (c != VC_SYSCALL && c != VC_INTERRUPT)
                continue;
            int x = (int)view_x_of(L, st, (double)m->ev[i].icount);
            int row = c == VC_INTERRUPT;
            if (x - 4 * R->cw < label_right[row])
                continue;
            event_line(R, m, i, line, sizeof line);
            const char *w = what_part(line);
            int y = c == VC_SYSCALL ? L->sys_y + 2 : L->irq_y - R->ch / 2;
            int lx = c == VC_SYSCALL ? x - R->cw * 4 : x + sz;
            label_right[row] = lx + text(R, lx, y, c == VC_SYSCALL ? VIEW_RGB_SYSCALL
                                                                   : VIEW_RGB_IRQ,
                                         40 * R->cw, w) + R->cw;
        }
    }
}

/* A red bar where a process the kernel ended without a fault (a CPU limit, a kill) loses its
 * colour: the interrupt that took it out of ring 3 for the last time. */
static void draw_kills(struct view_render *R, const struct view_model *m,
                       const struct view_state *st, const struct view_layout *L)
{
    int th = (int)lround(3 * L->s);
    for (size_t s = 0; s < m->nsp; s++) {
        long i = view_model_killed_space(m, s);
        if (i < 0)
            continue;
        double t = (double)m->ev[i].icount;
        if (t < st->t0 || t > st->t0 + st->span)
            continue;
        int x = (int)lround(view_x_of(L, st, t));
        fill(R, x - 1, L->lane_y[3] - 3 * th, 3, 6 * th, VIEW_RGB_FAULT);
    }
}

static void draw_faults(struct view_render *R, const struct view_model *m,
                        const struct view_state *st, const struct view_layout *L)
{
    int sz = (int)lround(11 * L->s), last_x = -1000;
    size_t shown = 0;
    for (size_t k = 0; k < m->nfaults; k++) {
        size_t i = m->faults[k];
        double t = (double)m->ev[i].icount;
        if (t < st->t0 || t > st->t0 + st->span || m->ev[i].cls == VC_SHUTDOWN)
            continue;
        int x, y;
        view_fault_marker(L, st, m, i, &x, &y);
        if (x - last_x < 2)
            continue;
        last_x = x;
        triangle(R, (float)x, (float)y, (float)sz, true, VIEW_RGB_FAULT);
        if (view_model_killed(m, i)) {
            /* A red bar where the process's colour ends. */
            int th = (int)lround(3 * L->s);
            fill(R, x - 1, L->lane_y[3] - 3 * th, 3, 6 * th, VIEW_RGB_FAULT);
        }
        if (shown++ < 4) {
            struct trace_event ev;
            view_model_event(m, i, &ev);
            char why[384], label[512], who[TRACE_NAME_MAX + 32];
            describe_fault(ev.vector, ev.has_error, ev.error, &ev.detail, why, sizeof why);
            view_space_label(m, m->ev[i].space_from, who, sizeof who);
            if (view_model_killed(m, i))
                snprintf(label, sizeof label, "%s → %s killed", why, who);
            else if (view_model_panic(m, i))
                snprintf(label, sizeof label, "%s in the kernel → panic", why);
            else
                snprintf(label, sizeof label, "%s", why);
            int maxw = L->lane_x1 - x - sz;
            int lx = x + sz;
            if (maxw < 30 * R->cw) {
                maxw = x - L->lane_x0;
                lx = x - sz - (text_len(label) * R->cw < maxw ? text_len(label) * R->cw : maxw);
            }
            int lw = text_len(label) * R->cw < maxw ? text_len(label) * R->cw : maxw;
            colour(R, VIEW_RGB_PANEL, 225);
            SDL_Rect bg = { lx - 2, y - sz - R->ch, lw + 4, R->ch };
            SDL_RenderFillRect(R->r, &bg);
            text(R, lx, y - sz - R->ch, VIEW_RGB_FAULT, maxw, label);
        }
    }
}

static void draw_timeline(struct view_render *R, const struct view_model *m,
                          const struct view_state *st, const struct view_layout *L)
{
    frame(R, L->timeline, VIEW_RGB_PANEL);
    static const char *const lane_names[4] = { "ring 0  kernel", "ring 1", "ring 2",
                                               "ring 3  user" };
    bool used = view_rings_used(m);
    for (int r = 0; r < 4; r++) {
        bool strong = r == 0 || r == 3 || used;
        text(R, L->timeline.x + (int)(6 * L->s), L->lane_y[r] - R->ch / 2,
             strong ? RGB_HEAD : RGB_DIM, 0, lane_names[r]);
        fill(R, L->lane_x0, L->lane_y[r], L->lane_x1 - L->lane_x0, 1, RGB_GRID);
    }
    /* The axis: ticks and instruction counts, guest time at the right. */
    double step = view_tick_step(L, st);
    for (double t = ceil(st->t0 / step) * step; t <= st->t0 + st->span; t += step) {
        int x = (int)view_x_of(L, st, t);
        char lab[32];
        fmt_count(lab, sizeof lab, t, step);
        fill(R, x, L->axis_y - (int)(6 * L->s), 1, (int)(5 * L->s), RGB_DIM);
        int lw = text_len(lab) * R->cw;
        if (x - lw / 2 >= L->timeline.x && x + lw / 2 <= L->timeline.x + L->timeline.w)
            text(R, x - lw / 2, L->axis_y, RGB_DIM, 0, lab);
        if (!m->ips)
            continue;
        /* The same tick in guest seconds at the trace's --ips, under the count. */
        fmt_guest_time(lab, sizeof lab, t / (double)m->ips, step / (double)m->ips);
        lw = text_len(lab) * R->cw;
        if (x - lw / 2 >= L->timeline.x && x + lw / 2 <= L->timeline.x + L->timeline.w)
            text(R, x - lw / 2, L->time_y, RGB_TEXT, 0, lab);
    }
    if (m->ips) {
        /* The window's length in guest time (at the trace's --ips), under the lane names. */
        char span[64];
        double sec = st->span / (double)m->ips;
        if (sec >= 1)
            snprintf(span, sizeof span, "%.2f s", sec);
        else if (sec >= 1e-3)
            snprintf(span, sizeof span, "%.1f ms", sec * 1e3);
        else
            snprintf(span, sizeof span, "%.1f us", sec * 1e6);
        text(R, L->timeline.x + (int)(6 * L->s), L->axis_y, RGB_DIM,
             L->lane_x0 - L->timeline.x - (int)(36 * L->s), span);
    }
    /* The filters n/p obey, when any. */
    char filt[160] = "";
    int fo = 0;
    static const struct { unsigned bits; const char *name; } classes[] = {
        { VIEW_CLASS_BIT(VC_SYSCALL), "system calls" },
        { VIEW_CLASS_BIT(VC_INTERRUPT), "interrupts" },
        { VIEW_CLASS_BIT(VC_FAULT) | VIEW_CLASS_BIT(VC_SHUTDOWN), "faults" },
    };
    for (size_t k = 0; k < sizeof classes / sizeof classes[0]; k++)
        if (st->class_filter == classes[k].bits)
            fo += snprintf(filt + fo, sizeof filt - (size_t)fo, " · %s", classes[k].name);
    if (st->space_filter >= 0 && (size_t)st->space_filter < m->nsp) {
        char who[TRACE_NAME_MAX + 32];
        view_space_label(m, (unsigned)st->space_filter, who, sizeof who);
        fo += snprintf(filt + fo, sizeof filt - (size_t)fo, " · %s", who);
    }
    if (st->vector_filter >= 0 && fo < (int)sizeof filt)
        snprintf(filt + fo, sizeof filt - (size_t)fo, " · vector 0x%02x", st->vector_filter);
    if (filt[0])
        textf(R, L->lane_x0, L->timeline.y + (int)(4 * L->s), RGB_TEXT, 0, "n/p filter%s",
              filt);
    SDL_Rect clip = { L->timeline.x, L->timeline.y, L->timeline.w, L->timeline.h };
    SDL_RenderSetClipRect(R->r, &clip);
    if (st->selected >= 0 && (size_t)st->selected < m->n) {
        const struct view_event *v = &m->ev[st->selected];
        double xs = view_x_of(L, st, (double)v->icount);
        if (v->pair >= 0 && v->cls != VC_RETURN) {
            double xe = view_x_of(L, st, (double)m->ev[v->pair].icount);
            colour(R, RGB_SELECT, 28);
            SDL_Rect rc = { (int)xs, L->timeline.y + (int)(20 * L->s), (int)(xe - xs) + 1,
                            L->sys_y - L->timeline.y - (int)(20 * L->s) };
            SDL_RenderFillRect(R->r, &rc);
        }
        fill(R, (int)xs, L->timeline.y + (int)(20 * L->s), 1,
             L->sys_y - L->timeline.y - (int)(20 * L->s), RGB_SELECT);
    }
    draw_path(R, m, st, L);
    draw_markers(R, m, st, L);
    draw_faults(R, m, st, L);
    draw_kills(R, m, st, L);
    SDL_RenderSetClipRect(R->r, NULL);
}

static void draw_legend(struct view_render *R, const struct view_model *m,
                        const struct view_layout *L)
{
    unsigned ent[64];
    unsigned n = view_legend_entries(m, ent, 64);
    struct view_layout LL = *L;
    view_layout_legend(&LL, n);
    L = &LL;
    text(R, L->legend.x, L->legend.y + (L->legend.h - R->ch) / 2, RGB_DIM, 0, "processes");
    for (unsigned k = 0; k < n; k++) {
        struct view_rect sw = view_legend_swatch(L, k);
        fill(R, sw.x, sw.y, sw.w, sw.h, view_space_colour(m, ent[k]));
        char lab[TRACE_NAME_MAX + 32];
        const struct view_space *sp = &m->sp[ent[k]];
        if (view_space_is_boot(m, ent[k]))
            snprintf(lab, sizeof lab, "kernel");
        else if (sp->named)
            snprintf(lab, sizeof lab, "%s (%u)", sp->name, (unsigned)sp->pid);
        else
            view_space_label(m, ent[k], lab, sizeof lab);
        text(R, sw.x + sw.w + (int)(6 * L->s), sw.y + sw.h / 2 - R->ch / 2, RGB_TEXT,
             L->legend_entry_w - sw.w - (int)(10 * L->s), lab);
    }
}

static void symbol_of(const struct view_model *m, const struct view_details *d, uint32_t cr3,
                      uint32_t eip, char *buf, size_t len)
{
    buf[0] = 0;
    char sym[128];
    if (d && d->symbol && d->symbol(d->ctx, m, cr3, eip, sym, sizeof sym))
        snprintf(buf, len, "  <%s>", sym);
}

static void draw_details(struct view_render *R, const struct view_model *m,
                         const struct view_state *st, const struct view_layout *L,
                         const struct view_details *d)
{
    frame(R, L->details, VIEW_RGB_PANEL);
    int pad = (int)(10 * L->s), x = L->details.x + pad, y = L->details.y + pad;
    int cols = (L->details.w - 2 * pad) / R->cw;
    int bottom = L->details.y + L->details.h - R->ch;
    text(R, x, y, RGB_HEAD, 0, "Selected event");
    y += R->ch + (int)(4 * L->s);
    if (st->selected < 0 || (size_t)st->selected >= m->n) {
        text_wrap(R, x, &y, RGB_DIM, cols, 6, 0,
                  "none: click an event in the lanes, or n / p for the next / previous "
                  "(f cycles the kind filter, v the process filter).");
        return;
    }
    size_t i = (size_t)st->selected;
    const struct view_event *v = &m->ev[i];
    struct trace_event ev;
    view_model_event(m, i, &ev);
    char line[768], buf[1024], who[TRACE_NAME_MAX + 32], ins[32];
    event_line(R, m, i, line, sizeof line);
    fmt_thousands(ins, sizeof ins, v->icount);
    uint32_t hc = v->cls == VC_FAULT || v->cls == VC_SHUTDOWN ? VIEW_RGB_FAULT
                  : v->cls == VC_SYSCALL                      ? VIEW_RGB_SYSCALL
                  : v->cls == VC_INTERRUPT                    ? VIEW_RGB_IRQ
                                                              : RGB_OK;
    const char *what = what_part(line);
    snprintf(buf, sizeof buf, "#%zu  %s  %s", i, ins,
             what != line ? what : trace_kind_name(ev.kind));
    text_wrap(R, x, &y, hc, cols, 3, 4, buf);
    /* The decoded line itself (after "icount: "), as `ringside log` prints it. */
    const char *body = strstr(line, ": ");
    text_wrap(R, x, &y, RGB_DIM, cols, 5, 4, body ? body + 2 : line);
    view_space_label(m, v->space_from, who, sizeof who);
    snprintf(buf, sizeof buf, "process  %s, cr3 %08" PRIx32, who, ev.before.cr3);
    text_wrap(R, x, &y, RGB_TEXT, cols, 2, 9, buf);
    textf(R, x, y, RGB_TEXT, 0, "kind     %s", trace_kind_name(ev.kind));
    y += R->ch;
    if (ev.has_error) {
        textf(R, x, y, RGB_TEXT, 0, "error    0x%04" PRIx32, ev.error);
        y += R->ch;
    }
    if (ev.kind == TR_EXCEPTION && ev.vector == 14) {
        textf(R, x, y, RGB_TEXT, 0, "CR2      0x%08" PRIx32, ev.cr2);
        y += R->ch;
    }
    y += R->ch / 2;
    char sym[160];
    symbol_of(m, d, ev.before.cr3, ev.before.eip, sym, sizeof sym);
    snprintf(buf, sizeof buf, "from  ring %u  %04x:%08" PRIx32 "%s", ev.before.cpl,
             ev.before.cs, ev.before.eip, sym);
    text_wrap(R, x, &y, 0xa6d854, cols, 2, 6, buf);
    char dis[128], bytes[64];
    if (d && d->disasm &&
        d->disasm(d->ctx, m, ev.before.cr3, ev.before.eip, dis, sizeof dis, bytes,
                  sizeof bytes)) {
        textf(R, x + 6 * R->cw, y, RGB_DIM, 0, "%s", bytes);
        y += R->ch;
        textf(R, x + 6 * R->cw, y, RGB_HEAD, 0, "%s", dis);
        y += R->ch;
    } else {
        text(R, x + 6 * R->cw, y, RGB_DIM, 0, "(instruction bytes not in the image files)");
        y += R->ch;
    }
    symbol_of(m, d, ev.after.cr3, ev.after.eip, sym, sizeof sym);
    snprintf(buf, sizeof buf, "to    ring %u  %04x:%08" PRIx32 "%s", ev.after.cpl,
             ev.after.cs, ev.after.eip, sym);
    text_wrap(R, x, &y, RGB_TEXT, cols, 2, 6, buf);
    textf(R, x + 6 * R->cw, y, RGB_DIM, 0, "stack %04x:%08" PRIx32, ev.after.ss,
          ev.after.r[4]);
    y += R->ch + R->ch / 2;
    if (v->pair >= 0 && v->cls != VC_RETURN) {
        char c[32];
        fmt_thousands(c, sizeof c, m->ev[v->pair].icount - v->icount);
        snprintf(buf, sizeof buf, "cost     %s instructions until its return (#%d)", c,
                 v->pair);
        text_wrap(R, x, &y, RGB_TEXT, cols, 2, 9, buf);
    } else if (v->pair >= 0) {
        char c[32];
        fmt_thousands(c, sizeof c, v->icount - m->ev[v->pair].icount);
        snprintf(buf, sizeof buf, "returns  from #%d, %s instructions after it", v->pair, c);
        text_wrap(R, x, &y, RGB_TEXT, cols, 2, 9, buf);
    } else if (view_model_killed(m, i)) {
        text_wrap(R, x, &y, VIEW_RGB_FAULT, cols, 2, 9,
                  "then     the process never ran in ring 3 again: killed");
    } else if (view_model_panic(m, i)) {
        text_wrap(R, x, &y, VIEW_RGB_FAULT, cols, 2, 9,
                  "then     nothing ran in ring 3 again: the kernel went down (panic)");
    } else if (v->cls != VC_RETURN && v->cls != VC_OTHER) {
        text_wrap(R, x, &y, RGB_DIM, cols, 2, 9, "cost     no matching return in the trace");
    }
    y += R->ch / 2;
    static const char *const rn[8] = { "EAX", "ECX", "EDX", "EBX", "ESP", "EBP", "ESI", "EDI" };
    static const int order[8] = { 0, 3, 1, 2, 6, 7, 5, 4 };
    text(R, x, y, RGB_DIM, 0, "registers at the event (before)");
    y += R->ch;
    for (int k = 0; k < 8 && y < bottom; k += 2) {
        textf(R, x, y, RGB_DIM, 0, "%s %08" PRIx32 "  %s %08" PRIx32, rn[order[k]],
              ev.before.r[order[k]], rn[order[k + 1]], ev.before.r[order[k + 1]]);
        y += R->ch;
    }
    if (y < bottom)
        textf(R, x, y, RGB_DIM, 0, "EFLAGS %08" PRIx32 "  SS:ESP %04x:%08" PRIx32,
              ev.before.eflags, ev.before.ss, ev.before.r[4]);
}

static void draw_procs(struct view_render *R, const struct view_model *m,
                       const struct view_layout *L)
{
    frame(R, L->procs, VIEW_RGB_PANEL);
    int pad = (int)(10 * L->s), x = L->procs.x + pad, y = L->procs.y + pad;
    int bottom = L->procs.y + L->procs.h - R->ch;
    text(R, x, y, RGB_HEAD, 0, "Where the time goes (instructions)");
    y += R->ch;
    text(R, x, y, RGB_DIM, 0, "bars: user (colour) and kernel (grey), log scale");
    y += R->ch + (int)(4 * L->s);
    unsigned ent[64];
    unsigned n = view_legend_entries(m, ent, 64);
    uint64_t maxv = 1;
    for (unsigned k = 0; k < n; k++)
        for (int r = 0; r < 4; r++)
            if (m->sp[ent[k]].ring_time[r] > maxv)
                maxv = m->sp[ent[k]].ring_time[r];
    int namew = 18 * R->cw, numw = 35 * R->cw;
    int barw = L->procs.w - 2 * pad - namew - numw;
    if (barw < 20)
        barw = 20;
    for (unsigned k = 0; k < n && y < bottom - R->ch; k++) {
        const struct view_space *s = &m->sp[ent[k]];
        uint64_t user = s->ring_time[3] + s->ring_time[2] + s->ring_time[1], kern = s->ring_time[0];
        char lab[TRACE_NAME_MAX + 32];
        if (view_space_is_boot(m, ent[k]))
            snprintf(lab, sizeof lab, "kernel");
        else
            view_space_label(m, ent[k], lab, sizeof lab);
        uint32_t c = view_space_colour(m, ent[k]);
        text(R, x, y, c, namew - R->cw, lab);
        double lm = log10((double)maxv + 1);
        int uw = (int)(barw * log10((double)user + 1) / lm);
        int kw = (int)(barw * log10((double)kern + 1) / lm);
        int bh = R->ch / 2 - 1;
        fill(R, x + namew, y + 1, uw, bh, c);
        fill(R, x + namew, y + 1 + bh + 1, kw, bh, 0x5a6070);
        char u[32], kk[32];
        fmt_thousands(u, sizeof u, user);
        fmt_thousands(kk, sizeof kk, kern);
        textf(R, x + namew + barw + R->cw, y, RGB_DIM, 0, "%11s u %9s k %4u sc", u, kk,
              (unsigned)s->nsyscalls);
        y += R->ch + (int)(3 * L->s);
    }
    y += R->ch / 2;
    char buf[512];
    int o = snprintf(buf, sizeof buf, "transitions:");
    for (unsigned k = 0; k < TR_KINDS; k++)
        if (m->kinds[k] && o < (int)sizeof buf)
            o += snprintf(buf + o, sizeof buf - (size_t)o, " %s %" PRIu64 " ·", trace_kind_name(k),
                          m->kinds[k]);
    if (o > 0 && buf[o - 1] == '\xb7')
        buf[o - 3] = 0;
    int cols = (L->procs.w - 2 * pad) / R->cw;
    if (y < bottom)
        text_wrap(R, x, &y, RGB_TEXT, cols, 3, 2, buf);
    static const char *const cn[VC_COUNT] = { "system call", "interrupt", "fault", "", "", "" };
    o = snprintf(buf, sizeof buf, "average cost until the return:");
    for (unsigned c = 0; c < 3; c++)
        if (m->cost_n[c])
            o += snprintf(buf + o, sizeof buf - (size_t)o, " %s %" PRIu64 " (%" PRIu64 "x)",
                          cn[c], m->cost_sum[c] / m->cost_n[c], m->cost_n[c]);
    if (y < bottom)
        text_wrap(R, x, &y, RGB_TEXT, cols, 3, 2, buf);
    uint64_t ring[4] = { 0 }, tot = 0;
    for (size_t s = 0; s < m->nsp; s++)
        for (int r = 0; r < 4; r++)
            ring[r] += m->sp[s].ring_time[r];
    for (int r = 0; r < 4; r++)
        tot += ring[r];
    if (tot && y < bottom)
        textf(R, x, y, RGB_TEXT, 0, "ring 0: %.1f%% of all instructions · ring 3: %.1f%%",
              100.0 * (double)ring[0] / (double)tot, 100.0 * (double)ring[3] / (double)tot);
}

static void draw_console(struct view_render *R, const struct view_model *m,
                         const struct view_state *st, const struct view_layout *L)
{
    frame(R, L->console, VIEW_RGB_PANEL);
    int pad = (int)(10 * L->s), x = L->console.x + pad, y = L->console.y + pad;
    text(R, x, y, RGB_HEAD, 0, "Console (COM1), placed in time");
    int rows = view_console_rows(L, R->ch, &y);
    if (rows <= 0 || m->nlines == 0)
        return;
    double tend = st->t0 + st->span;
    size_t top = view_console_top(m, st, rows);
    int tw = 8 * R->cw, cols = (L->console.w - 2 * pad - tw) / R->cw;
    for (size_t k = top; k < m->nlines && rows-- > 0; k++) {
        const struct view_line *ln = &m->lines[k];
        bool in = (double)ln->icount >= st->t0 && (double)ln->icount <= tend;
        bool bad = strstr(ln->text, "killed") || strstr(ln->text, "panic");
        char lab[32];
        fmt_count(lab, sizeof lab, (double)ln->icount, 1e4);
        text(R, x, y, in ? RGB_TEXT : 0x5a6070, 0, lab);
        text(R, x + tw, y, bad ? VIEW_RGB_FAULT : in ? RGB_HEAD : RGB_DIM, cols * R->cw,
             ln->text);
        y += R->ch;
    }
}

static void draw_help(struct view_render *R, const struct view_layout *L, bool live)
{
    static const char *const keys[] = {
        "Keys and mouse",
        "",
        "wheel, + / -      zoom in / out around the mouse (or the centre)",
        "drag, left/right  pan (shift: a whole window)",
        "0                 fit the whole run",
        "click             select the nearest event; click the strip: jump there",
        "n / p             next / previous event (passing the filters)",
        "f                 kind filter: all, system calls, interrupts, faults",
        "v                 process filter: all, then each process",
        "x                 vector filter: the selected event's vector / any",
        "Enter             zoom to the selected event until its return",
        "c                 console follows the timeline / scroll it (up/down)",
        "s                 text scale (1x, 1.5x, 2x) for a projector",
        "Space / .         live: pause and resume / step to the next transition",
        "[ / ]             live: half / twice as many instructions per frame",
        "h / ?             this help;  q / Esc  quit",
    };
    int n = (int)(sizeof keys / sizeof keys[0]);
    int w = 80 * R->cw, h = (n + 2) * R->ch;
    int x = (L->w - w) / 2, y = (L->h - h) / 2;
    colour(R, 0x000000, 160);
    SDL_Rect all = { 0, 0, L->w, L->h };
    SDL_RenderFillRect(R->r, &all);
    fill(R, x, y, w, h, 0x262a33);
    for (int k = 0; k < n; k++) {
        if (!live && (strncmp(keys[k], "Space", 5) == 0 || keys[k][0] == '['))
            continue;
        text(R, x + R->cw * 2, y + R->ch * (k + 1), k ? RGB_TEXT : RGB_HEAD, 0, keys[k]);
    }
}

void view_render_frame(struct view_render *R, const struct view_model *m,
                       const struct view_state *st, const struct view_layout *L,
                       const struct view_details *d)
{
    colour(R, VIEW_RGB_BG, 255);
    SDL_RenderClear(R->r);
    draw_header(R, m, st, L);
    draw_overview(R, m, st, L);
    draw_timeline(R, m, st, L);
    draw_legend(R, m, L);
    draw_details(R, m, st, L, d);
    draw_procs(R, m, L);
    draw_console(R, m, st, L);
    if (st->help)
        draw_help(R, L, st->live);
}
