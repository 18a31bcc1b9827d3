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

#define DETAIL_SIZE 32u /* the larger of the union's encodings (the page walk) */

/* struct fault_detail: DETAIL_SIZE + 1 bytes (the kind, then the union at full size). */
static void put_detail(struct cur *c, const struct fault_detail *d)
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
    c->p = start + 1 + DETAIL_SIZE;
}

static void get_detail(struct cur *c, struct fault_detail *d)
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
    c->q = start + 1 + DETAIL_SIZE;
}

void trace_event_encode(const struct trace_event *ev, uint8_t out[TRACE_EVENT_SIZE])
{
    trace_put64(out, ev->icount);
    out[8] = ev->kind;
    out[9] = ev->vector;
    out[10] = ev->has_error;
    trace_put32(out + 11, ev->error);
    trace_put32(out + 15, ev->cr2);
    struct cur c = { .p = put_state(put_state(out + 19, &ev->before), &ev->after) };
    memset(c.p, 0, 1 + DETAIL_SIZE); /* the union at full size, zeros where unused */
    put_detail(&c, &ev->detail);
    w8(&c, ev->source);
    w8(&c, ev->source_num);
}

bool trace_event_decode(const uint8_t in[TRACE_EVENT_SIZE], struct trace_event *ev)
{
    memset(ev, 0, sizeof *ev);
    struct cur c = { .q = in };
    ev->icount = r64(&c);
    ev->kind = r8(&c);
    ev->vector = r8(&c);
    uint8_t has_error = r8(&c);
    ev->has_error = has_error != 0;
    ev->error = r32(&c);
    ev->cr2 = r32(&c);
    get_state(&c, &ev->before);
    get_state(&c, &ev->after);
    struct fault_detail *d = &ev->detail;
    get_detail(&c, d);
    ev->source = r8(&c);
    ev->source_num = r8(&c);
    return ev->kind < TR_KINDS && has_error <= 1 && d->kind <= FD_RULE &&
           ev->before.cpl <= 3 && ev->after.cpl <= 3 && ev->source < ISRC_KINDS;
}

_Static_assert(8 + 3 + 8 + 2 * 49 + 1 + DETAIL_SIZE + 2 == TRACE_EVENT_SIZE,
               "TRACE_EVENT_SIZE is the sum of the encoded fields");

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
        put_detail(&c, &f[i].detail);
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
        get_detail(&c, &f[i].detail);
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
