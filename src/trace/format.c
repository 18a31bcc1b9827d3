/* Encoding and decoding of trace records (see format.h). */
#include "trace/format.h"

#include <string.h>
#include <libdeflate.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

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

/* The pieces of the event encoder, inlined into it (it runs on every transition of a recorded
 * run; called, they spilled their vectors). */
#define HOT static inline __attribute__((always_inline))

/* An event's flags byte (see format.h). */
enum {
    EVF_ERROR = 1,       /* the event has an error code */
    EVF_ERROR_VAL = 2,   /* ... and it follows (it differs from the reference's) */
    EVF_CR2 = 4,         /* CR2 follows (it differs from the reference's) */
    EVF_DETAIL = 8,      /* a fault detail follows */
    EVF_SOURCE = 16,     /* the interrupt's source and its number follow */
    EVF_ALL = 31
};
/* The bits of a state mask: 0-7 EAX..EDI, then these. */
enum {
    ST_EIP = 1u << 8, ST_EFLAGS = 1u << 9, ST_CR3 = 1u << 10, ST_CS = 1u << 11,
    ST_SS = 1u << 12, ST_CPL = 1u << 13, ST_ALL = (1u << 14) - 1
};

/* A state as its 14 fields, in mask order (EAX..EDI, EIP, EFLAGS, CR3, CS, SS, CPL), and two
 * lanes of zeros (TRACE_LANES). With SSE2 each group of four lanes is stored at once: the
 * 16-byte loads that compare them then take the stored value as it is (four 4-byte stores
 * read back by one 16-byte load stall the host's store forwarding, about 20 ns an event). */
HOT void state_fields(const struct trace_state *s, uint32_t f[TRACE_LANES])
{
    memcpy(f, s->r, sizeof s->r);
#ifdef __SSE2__
    _mm_storeu_si128((__m128i *)(void *)(f + 8),
                     _mm_setr_epi32((int)s->eip, (int)s->eflags, (int)s->cr3, s->cs));
    _mm_storeu_si128((__m128i *)(void *)(f + 12), _mm_setr_epi32(s->ss, s->cpl, 0, 0));
#else
    f[8] = s->eip;
    f[9] = s->eflags;
    f[10] = s->cr3;
    f[11] = s->cs;
    f[12] = s->ss;
    f[13] = s->cpl;
    f[14] = f[15] = 0;
#endif
}

/* Bit i set where v[i] != ref[i] (events are encoded on every transition of a recorded run:
 * four compares of four lanes where the host has them). */
HOT unsigned diff_mask(const uint32_t v[TRACE_LANES], const uint32_t ref[TRACE_LANES])
{
#ifdef __SSE2__
#define EQ4(i)                                                                       \
    ((unsigned)_mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(                     \
         _mm_loadu_si128((const __m128i *)(const void *)(v + (i))),                  \
         _mm_loadu_si128((const __m128i *)(const void *)(ref + (i)))))) << (i))
    return ~(EQ4(0) | EQ4(4) | EQ4(8) | EQ4(12)) & 0xffffu;
#undef EQ4
#else
    unsigned m = 0;
    for (int i = 0; i < TRACE_LANES; i++)
        m |= (unsigned)(v[i] != ref[i]) << i;
    return m;
#endif
}

/* The fields of v that mask names (u32, except CS and SS u16 and CPL u8), after the u16 mask.
 * Returns the end. */
HOT uint8_t *put_fields(uint8_t *p, unsigned mask, const uint32_t v[TRACE_LANES])
{
    trace_put16(p, (uint16_t)mask);
    p += 2;
    for (unsigned m = mask & 0x7ffu; m; m &= m - 1) {
        trace_put32(p, v[__builtin_ctz(m)]);
        p += 4;
    }
    if (mask & ST_CS) {
        trace_put16(p, (uint16_t)v[11]);
        p += 2;
    }
    if (mask & ST_SS) {
        trace_put16(p, (uint16_t)v[12]);
        p += 2;
    }
    if (mask & ST_CPL)
        *p++ = (uint8_t)v[13];
    return p;
}

/* The reverse: the state from ref and the fields the mask names. */
static void get_state_delta(struct cur *c, const uint32_t ref[TRACE_LANES], struct trace_state *s)
{
    unsigned mask = r16(c);
    uint32_t f[14];
    for (int i = 0; i < 11; i++)
        f[i] = mask & (1u << i) ? r32(c) : ref[i];
    for (int i = 11; i < 13; i++)
        f[i] = mask & (1u << i) ? r16(c) : ref[i];
    f[13] = mask & ST_CPL ? r8(c) : ref[13];
    memcpy(s->r, f, sizeof s->r);
    s->eip = f[8];
    s->eflags = f[9];
    s->cr3 = f[10];
    s->cs = (uint16_t)f[11];
    s->ss = (uint16_t)f[12];
    s->cpl = (uint8_t)f[13];
}

/* What the state after is predicted to be: field by field, the value the reference event
 * left when it changed that field (a transition of a kind tends to go where the last one
 * went), else this event's value before (it keeps it). */
HOT void predict_after(const struct trace_codec_ref *ref, const uint32_t before[TRACE_LANES],
                          uint32_t pred[TRACE_LANES])
{
#ifdef __SSE2__
#define PRED4(i)                                                                          \
    do {                                                                                  \
        __m128i a = _mm_loadu_si128((const __m128i *)(const void *)(ref->after + (i)));   \
        __m128i c = _mm_loadu_si128((const __m128i *)(const void *)(ref->changed + (i))); \
        __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(before + (i)));       \
        _mm_storeu_si128((__m128i *)(void *)(pred + (i)),                                 \
                         _mm_or_si128(_mm_and_si128(a, c), _mm_andnot_si128(c, b)));      \
    } while (0)
    PRED4(0);
    PRED4(4);
    PRED4(8);
    PRED4(12);
#undef PRED4
#else
    for (int i = 0; i < TRACE_LANES; i++)
        pred[i] = (ref->after[i] & ref->changed[i]) | (before[i] & ~ref->changed[i]);
#endif
}

/* changed[i] = ~0 where a[i] != b[i], else 0. */
HOT void lanes_changed(const uint32_t a[TRACE_LANES], const uint32_t b[TRACE_LANES],
                          uint32_t changed[TRACE_LANES])
{
#ifdef __SSE2__
    const __m128i ones = _mm_set1_epi32(-1);
#define CHG4(i)                                                                       \
    _mm_storeu_si128((__m128i *)(void *)(changed + (i)),                               \
                     _mm_andnot_si128(_mm_cmpeq_epi32(                                 \
                         _mm_loadu_si128((const __m128i *)(const void *)(a + (i))),    \
                         _mm_loadu_si128((const __m128i *)(const void *)(b + (i)))),   \
                         ones))
    CHG4(0);
    CHG4(4);
    CHG4(8);
    CHG4(12);
#undef CHG4
#else
    for (int i = 0; i < TRACE_LANES; i++)
        changed[i] = a[i] != b[i] ? ~0u : 0;
#endif
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

/* LEB128: 7 bits a byte, low first, bit 7 set on every byte but the last; at most 10. */
HOT uint8_t *put_varint(uint8_t *p, uint64_t v)
{
    while (v >= 0x80) {
        *p++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *p++ = (uint8_t)v;
    return p;
}

static uint64_t get_varint(struct cur *c)
{
    uint64_t v = 0;
    for (int i = 0; i < 10; i++) {
        uint8_t b = r8(c);
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80))
            break;
    }
    return v;
}

static const uint8_t no_detail[DETAIL_SIZE];

/* What an encoding worked out that moving the codec on needs again. */
struct scratch {
    uint32_t b[TRACE_LANES], a[TRACE_LANES]; /* the states' fields */
    uint8_t det[DETAIL_SIZE];                /* the fault detail's bytes (zeros: none) */
};

/* ev's encoding against k (pure: k is not moved on). */
static size_t encode_with(const struct trace_codec *k, const struct trace_event *ev,
                          uint8_t *out, struct scratch *x)
{
    const struct trace_codec_ref *ref = &k->ref[ev->kind < TR_KINDS ? ev->kind : 0];
    uint8_t *p = put_varint(out, ev->icount - k->icount);
    *p++ = ev->kind;
    *p++ = ev->vector;
    uint8_t *flags_at = p++;
    unsigned flags = 0;
    if (ev->has_error) {
        flags |= EVF_ERROR;
        if (ev->error != ref->error) {
            flags |= EVF_ERROR_VAL;
            trace_put32(p, ev->error);
            p += 4;
        }
    }
    if (ev->cr2 != ref->cr2) {
        flags |= EVF_CR2;
        trace_put32(p, ev->cr2);
        p += 4;
    }
    uint32_t pred[TRACE_LANES];
    state_fields(&ev->before, x->b);
    state_fields(&ev->after, x->a);
    p = put_fields(p, diff_mask(x->b, ref->before), x->b);
    predict_after(ref, x->b, pred);
    p = put_fields(p, diff_mask(x->a, pred), x->a);
    if (ev->detail.kind != FD_NONE) {
        flags |= EVF_DETAIL;
        uint8_t d[1 + DETAIL_SIZE] = { 0 };
        struct cur c = { .p = d };
        put_detail(&c, &ev->detail, true);
        memcpy(x->det, d + 1, DETAIL_SIZE);
        const uint8_t *rd = ref->detail_kind == ev->detail.kind ? ref->detail : no_detail;
        *p++ = ev->detail.kind;
        uint8_t *mask_at = p++;
        unsigned mask = 0;
        for (unsigned i = 0; i < DETAIL_SIZE / 4; i++)
            if (memcmp(x->det + 4 * i, rd + 4 * i, 4) != 0) {
                mask |= 1u << i;
                memcpy(p, x->det + 4 * i, 4);
                p += 4;
            }
        *mask_at = (uint8_t)mask;
    }
    if (ev->source || ev->source_num) {
        flags |= EVF_SOURCE;
        *p++ = ev->source;
        *p++ = ev->source_num;
    }
    *flags_at = (uint8_t)flags;
    return (size_t)(p - out);
}

/* ev becomes the reference of its kind. */
static void update_with(struct trace_codec *k, const struct trace_event *ev,
                        const struct scratch *x)
{
    k->icount = ev->icount;
    if (ev->kind >= TR_KINDS)
        return;
    struct trace_codec_ref *ref = &k->ref[ev->kind];
    memcpy(ref->before, x->b, sizeof ref->before);
    memcpy(ref->after, x->a, sizeof ref->after);
    lanes_changed(x->a, x->b, ref->changed);
    ref->error = ev->error;
    ref->cr2 = ev->cr2;
    if (ev->detail.kind != FD_NONE || ref->detail_kind != FD_NONE)
        memcpy(ref->detail, ev->detail.kind != FD_NONE ? x->det : no_detail, DETAIL_SIZE);
    ref->detail_kind = ev->detail.kind;
}

void trace_codec_init(struct trace_codec *k)
{
    memset(k, 0, sizeof *k);
}

size_t trace_event_encode(struct trace_codec *k, const struct trace_event *ev,
                          uint8_t out[TRACE_EVENT_MAX])
{
    struct scratch x;
    size_t n = encode_with(k, ev, out, &x);
    update_with(k, ev, &x);
    return n;
}

bool trace_event_decode(struct trace_codec *k, const uint8_t *in, size_t len,
                        struct trace_event *ev)
{
    memset(ev, 0, sizeof *ev);
    if (len < TRACE_EVENT_MIN || len > TRACE_EVENT_MAX)
        return false;
    uint8_t buf[TRACE_EVENT_MAX] = { 0 }; /* the longest event: no read goes past it */
    memcpy(buf, in, len);
    struct cur c = { .q = buf };
    ev->icount = k->icount + get_varint(&c);
    ev->kind = r8(&c);
    if (ev->kind >= TR_KINDS)
        return false;
    const struct trace_codec_ref *ref = &k->ref[ev->kind];
    ev->vector = r8(&c);
    unsigned flags = r8(&c);
    if (flags & ~(unsigned)EVF_ALL)
        return false;
    ev->has_error = flags & EVF_ERROR;
    if (flags & EVF_ERROR_VAL)
        ev->error = r32(&c);
    else if (ev->has_error)
        ev->error = ref->error;
    ev->cr2 = flags & EVF_CR2 ? r32(&c) : ref->cr2;
    get_state_delta(&c, ref->before, &ev->before);
    uint32_t b[TRACE_LANES], pred[TRACE_LANES];
    state_fields(&ev->before, b);
    predict_after(ref, b, pred);
    get_state_delta(&c, pred, &ev->after);
    if (flags & EVF_DETAIL) {
        uint8_t d[1 + DETAIL_SIZE] = { r8(&c) };
        if (d[0] == FD_NONE || d[0] > FD_RULE)
            return false;
        const uint8_t *rd = ref->detail_kind == d[0] ? ref->detail : no_detail;
        unsigned mask = r8(&c);
        for (unsigned i = 0; i < DETAIL_SIZE / 4; i++) {
            memcpy(d + 1 + 4 * i, mask & (1u << i) ? c.q : rd + 4 * i, 4);
            c.q += mask & (1u << i) ? 4 : 0;
        }
        struct cur dc = { .q = d };
        get_detail(&dc, &ev->detail, true);
    }
    if (flags & EVF_SOURCE) {
        ev->source = r8(&c);
        ev->source_num = r8(&c);
    }
    if ((size_t)(c.q - buf) != len || ev->before.cpl > 3 || ev->after.cpl > 3 ||
        ev->source >= ISRC_KINDS)
        return false;
    /* One encoding per event: what the recorder would write for it, byte for byte. */
    uint8_t again[TRACE_EVENT_MAX];
    struct scratch x;
    if (encode_with(k, ev, again, &x) != len || memcmp(again, in, len) != 0)
        return false;
    update_with(k, ev, &x);
    return true;
}

/* The shortest event: an icount step under 128, kind, vector, flags, two empty masks; the
 * longest: everything. */
_Static_assert(1 + 3 + 2 + 2 == TRACE_EVENT_MIN, "TRACE_EVENT_MIN");
_Static_assert(10 + 3 + 8 + 2 + 49 + 2 + 49 + 2 + DETAIL_SIZE + 2 == TRACE_EVENT_MAX,
               "TRACE_EVENT_MAX");
_Static_assert(DETAIL_SIZE == TRACE_DETAIL_SIZE, "TRACE_DETAIL_SIZE");

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
