/* The view's model (see model.h). */
#include "frontend/view/model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/regen.h"
#include "trace/filter.h"
#include "trace/format.h"

/* Named processes in the order they were named; index 0 is the kernel and unnamed spaces. */
static const uint32_t palette[] = {
    0x9aa0ab, /* kernel / unnamed: grey */
    0x66c2a5, 0xfc8d62, 0x8da0cb, 0xe78ac3, 0xa6d854, 0xffd92f, 0x4fc3f7, 0xe5c494,
    0xb39ddb, 0x80cbc4,
};
#define NPALETTE (sizeof palette / sizeof palette[0])

void view_model_init(struct view_model *m)
{
    *m = (struct view_model){ 0 };
    /* No names: the system-call vector is not known (then INT 0x80 is taken). */
    struct describe_names none = { .syscall_vector = -1 };
    describe_ctx_init(&m->pairing, &none);
    m->syscall_vector = -1;
    m->pic_base[0] = m->pic_base[1] = -1;
    snprintf(m->title, sizeof m->title, "live");
}

void view_model_free(struct view_model *m)
{
    if (m->tf) {
        trace_free(m->tf);
        free(m->tf);
    }
    free(m->full);
    free(m->ev);
    for (unsigned l = 0; l <= VIEW_LOD_LEVELS; l++)
        free(m->lod[l]);
    free(m->sp);
    free(m->faults);
    for (size_t i = 0; i < m->nlines; i++)
        free(m->lines[i].text);
    free(m->lines);
    for (unsigned k = 0; k < VIEW_SYSCALL_NAMES; k++)
        free(m->syscall_names[k]);
    *m = (struct view_model){ 0 };
}

/* Grows *p (n elements of size sz, capacity *cap) to hold one more. */
static bool grow(void **p, size_t *cap, size_t n, size_t sz)
{
    if (n < *cap)
        return true;
    size_t ncap = *cap ? 2 * *cap : 64;
    void *q = realloc(*p, ncap * sz);
    if (!q)
        return false;
    *p = q;
    *cap = ncap;
    return true;
}

static unsigned space_index(struct view_model *m, uint32_t cr3)
{
    for (size_t i = 0; i < m->nsp; i++)
        if (m->sp[i].cr3 == cr3)
            return (unsigned)i;
    if (m->nsp >= VIEW_NO_SPACE || !grow((void **)&m->sp, &m->capsp, m->nsp, sizeof *m->sp))
        return VIEW_NO_SPACE;
    /* Colours in the order spaces are first seen (named ones first when a file is loaded). */
    m->sp[m->nsp] = (struct view_space){ .cr3 = cr3, .order = (unsigned)m->nsp,
                                         .colour = 1 + (unsigned)m->nsp % (NPALETTE - 1) };
    return (unsigned)m->nsp++;
}

bool view_model_add_live(struct view_model *m, const struct trace_event *ev)
{
    if (m->tf || !grow((void **)&m->full, &m->capfull, m->nfull, sizeof *m->full))
        return false;
    m->full[m->nfull] = *ev;
    if (!view_model_add_event(m, ev, (uint32_t)m->nfull))
        return false;
    m->nfull++;
    return true;
}

bool view_model_add_space(struct view_model *m, uint32_t cr3, uint32_t pid, const char *name)
{
    unsigned s = space_index(m, cr3);
    if (s == VIEW_NO_SPACE)
        return false;
    struct view_space *sp = &m->sp[s];
    if (!sp->named)
        m->nnamed++;
    sp->named = true;
    sp->pid = pid;
    snprintf(sp->name, sizeof sp->name, "%s", name);
    return true;
}

static enum view_class classify(const struct view_model *m, const struct trace_event *ev)
{
    switch (ev->kind) {
    case TR_SOFTINT:
    case TR_SYSENTER:
        return describe_is_syscall(&m->pairing, ev) ? VC_SYSCALL : VC_FAULT;
    case TR_INTERRUPT: return VC_INTERRUPT;
    case TR_EXCEPTION: return VC_FAULT;
    case TR_IRET:
    case TR_SYSEXIT:
    case TR_FARRET: return VC_RETURN;
    case TR_SHUTDOWN: return VC_SHUTDOWN;
    default: return VC_OTHER;
    }
}

/* Index of the entry event equal to e (the pairing's copy), -1 when not found. */
static long find_entry(const struct view_model *m, const struct trace_event *e)
{
    size_t i = view_model_find(m, e->icount);
    for (; i < m->n && m->ev[i].icount == e->icount; i++)
        if (m->ev[i].kind == e->kind && m->ev[i].vector == e->vector && m->ev[i].pair < 0)
            return (long)i;
    return -1;
}

static bool lod_set(struct view_model *m, size_t i, uint16_t mask)
{
    for (unsigned l = 0; l <= VIEW_LOD_LEVELS; l++) {
        size_t cell = i;
        for (unsigned k = 0; k < l; k++)
            cell /= VIEW_LOD_FAN;
        if (cell >= m->lodcap[l]) {
            size_t ncap = m->lodcap[l] ? 2 * m->lodcap[l] : 64;
            while (ncap <= cell)
                ncap *= 2;
            uint16_t *q = realloc(m->lod[l], ncap * sizeof *q);
            if (!q)
                return false;
            memset(q + m->lodcap[l], 0, (ncap - m->lodcap[l]) * sizeof *q);
            m->lod[l] = q;
            m->lodcap[l] = ncap;
        }
        m->lod[l][cell] |= mask;
    }
    return true;
}

bool view_model_add_event(struct view_model *m, const struct trace_event *ev, uint32_t rec)
{
    if (!grow((void **)&m->ev, &m->cap, m->n, sizeof *m->ev))
        return false;
    unsigned from = space_index(m, ev->before.cr3), to = space_index(m, ev->after.cr3);
    if (from == VIEW_NO_SPACE || to == VIEW_NO_SPACE)
        return false;
    /* Time since the previous event goes to where the CPU was. */
    uint64_t prev_t = m->n ? m->ev[m->n - 1].icount : m->start_icount;
    if (ev->icount >= prev_t) {
        unsigned cpl = m->n ? m->ev[m->n - 1].cpl_to : (ev->before.cpl & 3u);
        unsigned s = m->n ? m->ev[m->n - 1].space_to : from;
        m->sp[s].ring_time[cpl] += ev->icount - prev_t;
    }
    size_t i = m->n;
    if (i == 0)
        m->boot_space = from;
    struct view_event *v = &m->ev[i];
    *v = (struct view_event){
        .icount = ev->icount, .rec = rec, .pair = -1, .space_from = (uint16_t)from,
        .space_to = (uint16_t)to, .kind = ev->kind, .vector = ev->vector,
        .cpl_from = ev->before.cpl & 3u, .cpl_to = ev->after.cpl & 3u,
        .cls = (uint8_t)classify(m, ev),
    };
    m->n++;
    if (ev->kind < TR_KINDS)
        m->kinds[ev->kind]++;
    if (v->cls == VC_SYSCALL)
        m->sp[from].nsyscalls++;
    if (v->cpl_from == 3 && v->cpl_to != 3)
        m->sp[from].last_leave = i + 1;
    if (v->cpl_to == 3) {
        m->sp[to].last_user = i + 1;
        m->last_user = i + 1;
    }
    if (v->cls == VC_SHUTDOWN)
        m->shutdown = true;
    if (v->cls == VC_SHUTDOWN || (v->cls == VC_FAULT && v->kind == TR_EXCEPTION)) {
        if (!grow((void **)&m->faults, &m->capfaults, m->nfaults, sizeof *m->faults))
            return false;
        m->faults[m->nfaults++] = i;
    }
    struct trace_event entry;
    if (describe_track(&m->pairing, ev, &entry)) {
        long e = find_entry(m, &entry);
        if (e >= 0) {
            m->ev[e].pair = (int32_t)i;
            v->pair = (int32_t)e;
            unsigned c = m->ev[e].cls;
            m->cost_sum[c] += ev->icount - entry.icount;
            m->cost_n[c]++;
        }
    }
    uint16_t mask = (uint16_t)(VIEW_RING_BIT(v->cpl_to) | VIEW_RING_BIT(v->cpl_from) |
                               VIEW_CLASS_BIT(v->cls));
    if (!lod_set(m, i, mask))
        return false;
    if (ev->icount > m->end_icount)
        m->end_icount = ev->icount;
    return true;
}

static bool end_line(struct view_model *m)
{
    if (!grow((void **)&m->lines, &m->caplines, m->nlines, sizeof *m->lines))
        return false;
    char *t = malloc(m->npart + 1);
    if (!t)
        return false;
    memcpy(t, m->part, m->npart);
    t[m->npart] = 0;
    m->lines[m->nlines++] = (struct view_line){ .icount = m->part_icount, .text = t };
    m->npart = 0;
    return true;
}

bool view_model_add_output(struct view_model *m, uint64_t icount, uint8_t byte)
{
    if (icount > m->end_icount)
        m->end_icount = icount;
    if (byte == '\n')
        return end_line(m);
    if (byte == '\r')
        return true;
    if (m->npart == 0)
        m->part_icount = icount;
    if (m->npart + 1 >= sizeof m->part && !end_line(m))
        return false;
    if (m->npart == 0)
        m->part_icount = icount;
    m->part[m->npart++] = (byte == '\t') ? ' ' : (byte < 0x20 || byte >= 0x7f) ? '.' : (char)byte;
    return true;
}

void view_model_set_end(struct view_model *m, uint64_t icount, bool shutdown, uint8_t reason,
                        uint32_t status)
{
    if (m->npart)
        end_line(m);
    /* The time after the last event goes to where the CPU stayed. */
    if (!m->ended && m->n && icount > m->ev[m->n - 1].icount) {
        const struct view_event *last = &m->ev[m->n - 1];
        m->sp[last->space_to].ring_time[last->cpl_to] += icount - last->icount;
    }
    if (icount > m->end_icount)
        m->end_icount = icount;
    m->ended = true;
    m->shutdown = m->shutdown || shutdown;
    m->end_reason = reason;
    m->end_status = status;
}

bool view_model_load(struct view_model *m, const char *path, char *why, size_t whylen)
{
    why[0] = 0;
    m->tf = calloc(1, sizeof *m->tf);
    if (!m->tf) {
        snprintf(why, whylen, "out of memory");
        return false;
    }
    trace_load(path, m->tf);
    if (!trace_usable(m->tf)) {
        snprintf(why, whylen, "%s: %s", path, m->tf->why);
        return false;
    }
    if (!trace_regenerate(path, m->tf, why, whylen))
        return false;
    const char *base = strrchr(path, '/');
    snprintf(m->title, sizeof m->title, "%s", base ? base + 1 : path);
    m->ips = m->tf->hdr.ips;
    /* Names first: a space is announced after its first events, the system-call vector
     * decides which INT n are system calls. */
    for (size_t i = 0; i < m->tf->nrecs; i++) {
        const struct trace_record *r = &m->tf->recs[i];
        if (r->type == TREC_SPACE) {
            struct trace_space_rec s;
            trace_record_space(r, &s);
            if (!view_model_add_space(m, s.cr3, s.pid, s.name))
                goto oom;
        } else if (r->type == TREC_NAME) {
            struct trace_name_rec n;
            trace_record_name(r, &n);
            if (n.what == TNAME_SYSCALL && !view_model_set_syscall(m, n.id, n.name))
                goto oom;
            if (n.what == TNAME_SYSCALL_VECTOR && n.id < 256)
                view_model_set_syscall_vector(m, (int)n.id);
        } else if (r->type == TREC_IRQ) {
            m->pic_base[0] = r->payload[0];
            m->pic_base[1] = r->payload[1];
        }
    }
    for (size_t i = 0; i < m->tf->nrecs; i++) {
        const struct trace_record *r = &m->tf->recs[i];
        if (r->type == TREC_EVENT) {
            struct trace_event ev;
            trace_record_event(r, &ev);
            if (!view_model_add_event(m, &ev, (uint32_t)i))
                goto oom;
        } else if (r->type == TREC_OUTPUT) {
            struct trace_byte_rec b;
            trace_record_byte(r, &b);
            if (!view_model_add_output(m, b.icount, b.byte))
                goto oom;
        }
    }
    if (m->tf->has_end)
        view_model_set_end(m, m->tf->end.icount, m->tf->end.reason == TEND_SHUTDOWN,
                           m->tf->end.reason, m->tf->end.status);
    else if (m->npart)
        end_line(m);
    if (m->tf->status != TRACE_OK)
        snprintf(why, whylen, "%s: %s (showing what it holds)", path, m->tf->why);
    if (m->n == 0 && m->nlines == 0) {
        snprintf(why, whylen, "%s: the trace holds no events", path);
        return false;
    }
    return true;
oom:
    snprintf(why, whylen, "%s: out of memory", path);
    return false;
}

void view_model_event(const struct view_model *m, size_t i, struct trace_event *out)
{
    if (m->tf)
        trace_record_event(&m->tf->recs[m->ev[i].rec], out);
    else
        *out = m->full[m->ev[i].rec];
}

size_t view_model_find(const struct view_model *m, uint64_t t)
{
    size_t lo = 0, hi = m->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->ev[mid].icount < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

void view_model_state_at(const struct view_model *m, uint64_t t, unsigned *cpl,
                         unsigned *space)
{
    if (m->n == 0) {
        *cpl = 0;
        *space = VIEW_NO_SPACE;
        return;
    }
    /* The last event at or before t (an event at t has happened at t). */
    size_t i = view_model_find(m, t + 1);
    if (i == 0) {
        *cpl = m->ev[0].cpl_from;
        *space = m->ev[0].space_from;
    } else {
        *cpl = m->ev[i - 1].cpl_to;
        *space = m->ev[i - 1].space_to;
    }
}

unsigned view_model_mask(const struct view_model *m, size_t a, size_t b)
{
    unsigned mask = 0;
    if (b > m->n)
        b = m->n;
    unsigned l = 0;
    size_t scale = 1;
    while (a < b) {
        /* Climb while a is aligned to the next level and a whole cell of it fits. */
        while (l < VIEW_LOD_LEVELS && a % (scale * VIEW_LOD_FAN) == 0 &&
               a + scale * VIEW_LOD_FAN <= b) {
            l++;
            scale *= VIEW_LOD_FAN;
        }
        /* Come down while a cell of this level does not fit. */
        while (l > 0 && (a % scale != 0 || a + scale > b)) {
            l--;
            scale /= VIEW_LOD_FAN;
        }
        mask |= m->lod[l][a / scale];
        a += scale;
    }
    return mask;
}

bool view_model_killed(const struct view_model *m, size_t i)
{
    const struct view_event *v = &m->ev[i];
    if (v->cls != VC_FAULT || v->kind != TR_EXCEPTION || v->cpl_from != 3)
        return false;
    return m->sp[v->space_from].last_user <= i;
}

long view_model_killed_space(const struct view_model *m, size_t s)
{
    if (!m->ended || (m->end_reason != TEND_EXIT && m->end_reason != TEND_HALT) || s >= m->nsp)
        return -1;
    const struct view_space *sp = &m->sp[s];
    if (!sp->last_leave || sp->last_leave <= sp->last_user)
        return -1;
    size_t i = sp->last_leave - 1;
    return m->ev[i].cls == VC_INTERRUPT ? (long)i : -1;
}

bool view_model_panic(const struct view_model *m, size_t i)
{
    const struct view_event *v = &m->ev[i];
    return v->kind == TR_EXCEPTION && v->cpl_from == 0 && m->last_user <= i;
}

long view_model_fatal(const struct view_model *m)
{
    for (size_t k = m->nfaults; k-- > 0;) {
        size_t i = m->faults[k];
        if (m->ev[i].cls == VC_SHUTDOWN || view_model_panic(m, i))
            return (long)i;
    }
    return -1;
}

void view_space_label(const struct view_model *m, unsigned space, char *buf, size_t len)
{
    if (space >= m->nsp) {
        snprintf(buf, len, "-");
        return;
    }
    const struct view_space *s = &m->sp[space];
    if (s->named)
        snprintf(buf, len, "%s (pid %u)", s->name, (unsigned)s->pid);
    else if (view_space_is_boot(m, space))
        snprintf(buf, len, "kernel (CR3 0x%08x)", (unsigned)s->cr3);
    else
        snprintf(buf, len, "CR3 0x%08x", (unsigned)s->cr3);
}

bool view_model_set_syscall(struct view_model *m, uint32_t nr, const char *name)
{
    if (nr >= VIEW_SYSCALL_NAMES)
        return true;
    char *copy = strdup(name);
    if (!copy)
        return false;
    free(m->syscall_names[nr]);
    m->syscall_names[nr] = copy;
    return true;
}

void view_model_set_syscall_vector(struct view_model *m, int vector)
{
    m->syscall_vector = vector;
    m->pairing.names.syscall_vector = vector;
}

const char *view_syscall_name(const struct view_model *m, uint32_t nr)
{
    if (nr >= VIEW_SYSCALL_NAMES || !m->syscall_names[nr] || !m->syscall_names[nr][0])
        return NULL;
    return m->syscall_names[nr];
}

static const char *names_space(void *ctx, uint32_t cr3)
{
    struct view_model *m = ctx;
    for (size_t i = 0; i < m->nsp; i++)
        if (m->sp[i].cr3 == cr3 && m->sp[i].named) {
            snprintf(m->namebuf, sizeof m->namebuf, "pid %u (%s)", (unsigned)m->sp[i].pid,
                     m->sp[i].name);
            return m->namebuf;
        }
    return NULL;
}

static const char *names_syscall(void *ctx, uint32_t nr)
{
    return view_syscall_name(ctx, nr);
}

static int names_irq(void *ctx, unsigned vector)
{
    struct view_model *m = ctx;
    if (m->irq)
        return m->irq(m->irq_ctx, vector);
    for (int k = 0; k < 2; k++)
        if (m->pic_base[k] >= 0 && vector >= (unsigned)m->pic_base[k] &&
            vector < (unsigned)m->pic_base[k] + 8)
            return 8 * k + (int)(vector - (unsigned)m->pic_base[k]);
    return -1;
}

void view_model_names(struct view_model *m, struct describe_names *names)
{
    *names = (struct describe_names){ .space = names_space, .syscall = names_syscall,
                                      .irq = names_irq, .ctx = m,
                                      .syscall_vector = m->syscall_vector };
}

bool view_space_is_boot(const struct view_model *m, unsigned space)
{
    return m->n && space == m->boot_space && space < m->nsp && !m->sp[space].named;
}

uint32_t view_space_colour(const struct view_model *m, unsigned space)
{
    if (space >= m->nsp || view_space_is_boot(m, space))
        return palette[0];
    return palette[m->sp[space].colour % NPALETTE];
}
