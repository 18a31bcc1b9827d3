/* Encoding and decoding of trace records (see format.h). */
#include "trace/format.h"

#include <string.h>
#include <libdeflate.h>

#include "cpu/cpu.h"

/* A cursor over a fixed-size buffer; the sizes below are fixed, so it never overruns. */
struct cur {
    uint8_t *p;
    const uint8_t *q;
};

static void w8(struct cur *c, uint8_t v) { *c->p++ = v; }
static void w16(struct cur *c, uint16_t v) { trace_put16(c->p, v); c->p += 2; }
static void w32(struct cur *c, uint32_t v) { trace_put32(c->p, v); c->p += 4; }
static uint8_t r8(struct cur *c) { return *c->q++; }
static uint16_t r16(struct cur *c) { uint16_t v = trace_get16(c->q); c->q += 2; return v; }
static uint32_t r32(struct cur *c) { uint32_t v = trace_get32(c->q); c->q += 4; return v; }
static uint64_t r64(struct cur *c) { uint64_t v = trace_get64(c->q); c->q += 8; return v; }

/* An event's flags byte, and the bits of its after-state mask (see format.h). */
enum { EVF_ERROR = 1, EVF_CR2 = 2 };
enum {
    AFTER_EIP = 1u << 8, AFTER_EFLAGS = 1u << 9, AFTER_CR3 = 1u << 10, AFTER_CS = 1u << 11,
    AFTER_SS = 1u << 12, AFTER_CPL = 1u << 13, AFTER_ALL = (1u << 14) - 1
};

/* struct trace_state: 49 bytes at p (fixed offsets and a pointer in a register: events are
 * encoded on every transition of a recorded run). Returns the end. */
static uint8_t *put_state(uint8_t *p, const struct trace_state *s)
{
    for (int i = 0; i < 8; i++)
        trace_put32(p + 4 * i, s->r[i]);
    trace_put32(p + 32, s->eip);
    trace_put32(p + 36, s->eflags);
    trace_put32(p + 40, s->cr3);
    trace_put16(p + 44, s->cs);
    trace_put16(p + 46, s->ss);
    p[48] = s->cpl;
    return p + 49;
}

static void get_state(struct cur *c, struct trace_state *s)
{
    for (int i = 0; i < 8; i++)
        s->r[i] = r32(c);
    s->eip = r32(c);
    s->eflags = r32(c);
    s->cr3 = r32(c);
    s->cs = r16(c);
    s->ss = r16(c);
    s->cpl = r8(c);
}

/* The state after, as the fields that differ from the state before: a u16 mask (bit 0-7 the
 * registers, 8 EIP, 9 EFLAGS, 10 CR3, 11 CS, 12 SS, 13 CPL), then those fields in that order. */
static uint8_t *put_after(uint8_t *p, const struct trace_state *b, const struct trace_state *a)
{
    uint8_t *mask_at = p;
    unsigned mask = 0;
    p += 2;
    for (int i = 0; i < 8; i++)
        if (a->r[i] != b->r[i]) {
            mask |= 1u << i;
            trace_put32(p, a->r[i]);
            p += 4;
        }
    const uint32_t av[3] = { a->eip, a->eflags, a->cr3 }, bv[3] = { b->eip, b->eflags, b->cr3 };
    for (int i = 0; i < 3; i++)
        if (av[i] != bv[i]) {
            mask |= 1u << (8 + i);
            trace_put32(p, av[i]);
            p += 4;
        }
    if (a->cs != b->cs) {
        mask |= AFTER_CS;
        trace_put16(p, a->cs);
        p += 2;
    }
    if (a->ss != b->ss) {
        mask |= AFTER_SS;
        trace_put16(p, a->ss);
        p += 2;
    }
    if (a->cpl != b->cpl) {
        mask |= AFTER_CPL;
        *p++ = a->cpl;
    }
    trace_put16(mask_at, (uint16_t)mask);
    return p;
}

/* The reverse; false when the mask names a bit that means nothing or a field equal to the
 * one before (the encoding of an event is unique). */
static bool get_after(struct cur *c, const struct trace_state *b, struct trace_state *a)
{
    unsigned mask = r16(c);
    *a = *b;
    if (mask & ~(unsigned)AFTER_ALL)
        return false;
    bool same = false;
    for (int i = 0; i < 8; i++)
        if (mask & (1u << i))
            same |= (a->r[i] = r32(c)) == b->r[i];
    if (mask & AFTER_EIP)
        same |= (a->eip = r32(c)) == b->eip;
    if (mask & AFTER_EFLAGS)
        same |= (a->eflags = r32(c)) == b->eflags;
    if (mask & AFTER_CR3)
        same |= (a->cr3 = r32(c)) == b->cr3;
    if (mask & AFTER_CS)
        same |= (a->cs = r16(c)) == b->cs;
    if (mask & AFTER_SS)
        same |= (a->ss = r16(c)) == b->ss;
    if (mask & AFTER_CPL)
        same |= (a->cpl = r8(c)) == b->cpl;
    return !same;
}

#define DETAIL_SIZE 32u /* the larger of the union's encodings (the page walk) */

/* struct fault_detail: the kind, then the union's fields for that kind; with full, the union
 * at full size (DETAIL_SIZE bytes, zeros where unused; the caller zeroed them). */
static void put_detail(struct cur *c, const struct fault_detail *d, bool full)
{
    uint8_t *start = c->p;
    w8(c, d->kind);
    if (d->kind == FD_PAGE) {
        const struct walk *w = &d->u.page;
        w32(c, w->lin);
        w32(c, w->pde_addr);
        w32(c, w->pde);
        w32(c, w->pte_addr);
        w32(c, w->pte);
        w32(c, w->pa);
        w8(c, w->kind);
        w8(c, w->mode);
        w8(c, w->result);
        w8(c, w->level);
        w8(c, w->large);
        w8(c, w->user);
        w8(c, w->writable);
        w8(c, w->global);
    } else if (d->kind == FD_SELECTOR) {
        const struct sel_fault *s = &d->u.sel;
        w8(c, s->reason);
        w8(c, s->use);
        w8(c, s->table);
        w8(c, s->seg);
        w16(c, s->sel);
        w8(c, s->type);
        w8(c, s->cpl);
        w8(c, s->rpl);
        w8(c, s->dpl);
        w32(c, s->limit);
        w32(c, s->offset);
    } else if (d->kind == FD_RULE) {
        const struct rule_fault *r = &d->u.rule;
        w8(c, r->reason);
        w8(c, r->cpl);
        w8(c, r->iopl);
        w8(c, r->size);
        w32(c, r->value);
    }
    if (full)
        c->p = start + 1 + DETAIL_SIZE;
}

static void get_detail(struct cur *c, struct fault_detail *d, bool full)
{
    const uint8_t *start = c->q;
    d->kind = r8(c);
    if (d->kind == FD_PAGE) {
        struct walk *w = &d->u.page;
        w->lin = r32(c);
        w->pde_addr = r32(c);
        w->pde = r32(c);
        w->pte_addr = r32(c);
        w->pte = r32(c);
        w->pa = r32(c);
        w->kind = r8(c);
        w->mode = r8(c);
        w->result = r8(c);
        w->level = r8(c);
        w->large = r8(c) != 0;
        w->user = r8(c) != 0;
        w->writable = r8(c) != 0;
        w->global = r8(c) != 0;
    } else if (d->kind == FD_SELECTOR) {
        struct sel_fault *s = &d->u.sel;
        s->reason = r8(c);
        s->use = r8(c);
        s->table = r8(c);
        s->seg = r8(c);
        s->sel = r16(c);
        s->type = r8(c);
        s->cpl = r8(c);
        s->rpl = r8(c);
        s->dpl = r8(c);
        s->limit = r32(c);
        s->offset = r32(c);
    } else if (d->kind == FD_RULE) {
        struct rule_fault *r = &d->u.rule;
        r->reason = r8(c);
        r->cpl = r8(c);
        r->iopl = r8(c);
        r->size = r8(c);
        r->value = r32(c);
    }
    if (full)
        c->q = start + 1 + DETAIL_SIZE;
}

size_t trace_event_encode(const struct trace_event *ev, uint8_t out[TRACE_EVENT_MAX])
{
    trace_put64(out, ev->icount);
    out[8] = ev->kind;
    out[9] = ev->vector;
    out[10] = (uint8_t)((ev->has_error ? EVF_ERROR : 0) | (ev->cr2 ? EVF_CR2 : 0));
    uint8_t *p = out + 11;
    if (ev->has_error) {
        trace_put32(p, ev->error);
        p += 4;
    }
    if (ev->cr2) {
        trace_put32(p, ev->cr2);
        p += 4;
    }
    struct cur c = { .p = put_after(put_state(p, &ev->before), &ev->before, &ev->after) };
    put_detail(&c, &ev->detail, false);
    w8(&c, ev->source);
    w8(&c, ev->source_num);
    return (size_t)(c.p - out);
}

bool trace_event_decode(const uint8_t *in, size_t len, struct trace_event *ev)
{
    memset(ev, 0, sizeof *ev);
    if (len < TRACE_EVENT_MIN || len > TRACE_EVENT_MAX)
        return false;
    uint8_t buf[TRACE_EVENT_MAX] = { 0 }; /* the longest event: no read goes past it */
    memcpy(buf, in, len);
    struct cur c = { .q = buf };
    ev->icount = r64(&c);
    ev->kind = r8(&c);
    ev->vector = r8(&c);
    uint8_t flags = r8(&c);
    ev->has_error = flags & EVF_ERROR;
    if (flags & EVF_ERROR)
        ev->error = r32(&c);
    if (flags & EVF_CR2)
        ev->cr2 = r32(&c);
    get_state(&c, &ev->before);
    bool after_ok = get_after(&c, &ev->before, &ev->after);
    struct fault_detail *d = &ev->detail;
    get_detail(&c, d, false);
    ev->source = r8(&c);
    ev->source_num = r8(&c);
    return (size_t)(c.q - buf) == len && after_ok && !(flags & ~(EVF_ERROR | EVF_CR2)) &&
           (!(flags & EVF_CR2) || ev->cr2) && ev->kind < TR_KINDS && d->kind <= FD_RULE &&
           ev->before.cpl <= 3 && ev->after.cpl <= 3 && ev->source < ISRC_KINDS;
}

/* The shortest event: no error code, no CR2, nothing changed, no detail; the longest: all. */
_Static_assert(8 + 3 + 49 + 2 + 1 + 2 == TRACE_EVENT_MIN, "TRACE_EVENT_MIN");
_Static_assert(8 + 3 + 8 + 49 + 2 + 49 + 1 + DETAIL_SIZE + 2 == TRACE_EVENT_MAX, "TRACE_EVENT_MAX");

#define FAULT_SIZE (1u + 1u + 4u + 4u + 1u + DETAIL_SIZE) /* one struct fault */
_Static_assert(3 * FAULT_SIZE == TRACE_TRIPLE_SIZE, "TRACE_TRIPLE_SIZE is three faults");

void trace_triple_encode(const struct fault *f, uint8_t out[TRACE_TRIPLE_SIZE])
{
    memset(out, 0, TRACE_TRIPLE_SIZE);
    struct cur c = { .p = out };
    for (int i = 0; i < 3; i++) {
        w8(&c, f[i].vector);
        w8(&c, f[i].has_error);
        w32(&c, f[i].error);
        w32(&c, f[i].cr2);
        put_detail(&c, &f[i].detail, true);
    }
}

bool trace_triple_decode(const uint8_t in[TRACE_TRIPLE_SIZE], struct fault *f)
{
    struct cur c = { .q = in };
    bool ok = true;
    for (int i = 0; i < 3; i++) {
        memset(&f[i], 0, sizeof f[i]);
        f[i].vector = r8(&c);
        uint8_t has_error = r8(&c);
        f[i].has_error = has_error != 0;
        f[i].error = r32(&c);
        f[i].cr2 = r32(&c);
        get_detail(&c, &f[i].detail, true);
        ok = ok && has_error <= 1 && f[i].detail.kind <= FD_RULE;
    }
    return ok;
}

const char *trace_end_reason_name(unsigned reason)
{
    static const char *const names[TEND_REASONS] = {
        [TEND_EXIT] = "exit", [TEND_HALT] = "halt", [TEND_SHUTDOWN] = "triple fault",
        [TEND_UNSUPPORTED] = "unsupported", [TEND_LIMIT] = "instruction limit",
        [TEND_SIGNAL] = "signal", [TEND_OUTPUT] = "output error", [TEND_STOP] = "stopped",
    };
    return reason < TEND_REASONS && names[reason] ? names[reason] : "?";
}

uint32_t trace_frame_crc(const uint8_t *frame, uint32_t len)
{
    return libdeflate_crc32(0, frame, 5 + (size_t)len);
}

uint32_t trace_record_crc(uint8_t type, const uint8_t *payload, uint32_t len)
{
    uint8_t head[5] = { type };
    trace_put32(head + 1, len);
    uint32_t crc = libdeflate_crc32(0, head, sizeof head);
    return len ? libdeflate_crc32(crc, payload, len) : crc;
}
