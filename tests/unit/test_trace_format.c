/* The trace file format (src/trace/format.h, reader.c, recorder.c): every event field survives
 * encode/decode; a recorded file reads back record for record with its header; every prefix
 * of a file reads as truncated (or not a trace) with the events before the cut intact; every
 * single damaged byte is caught (never read as a whole file); filters and names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cpu/flags.h"
#include "cpu/insn.h"
#include "machine/machine.h"
#include "trace/export_perfetto.h"
#include "trace/filter.h"
#include "trace/format.h"
#include "trace/recorder.h"
#include "trace/tracectx.h"
#include "trace/tracefile.h"

/* A deterministic pseudo-random source (xorshift). */
static uint32_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return (uint32_t)*s;
}

static void random_state(uint64_t *s, struct trace_state *st)
{
    for (int i = 0; i < 8; i++)
        st->r[i] = rnd(s);
    st->eip = rnd(s);
    st->eflags = rnd(s);
    st->cr3 = rnd(s);
    st->cs = (uint16_t)rnd(s);
    st->ss = (uint16_t)rnd(s);
    st->cpl = (uint8_t)(rnd(s) & 3);
}

static void random_event(uint64_t *s, struct trace_event *ev, unsigned detail)
{
    memset(ev, 0, sizeof *ev);
    ev->icount = (uint64_t)rnd(s) << 32 | rnd(s);
    ev->kind = (uint8_t)(rnd(s) % TR_KINDS);
    ev->vector = (uint8_t)rnd(s);
    ev->has_error = rnd(s) & 1;
    ev->error = rnd(s);
    if (!ev->has_error)
        ev->error = 0; /* as the cpu makes them (trace_begin) */
    ev->cr2 = rnd(s) & 1 ? rnd(s) : 0;
    random_state(s, &ev->before);
    random_state(s, &ev->after);
    /* about half of the state after as before (most transitions keep most registers) */
    uint32_t same = rnd(s);
    for (int i = 0; i < 8; i++)
        if (same & (1u << i))
            ev->after.r[i] = ev->before.r[i];
    if (same & 0x100)
        ev->after.eip = ev->before.eip;
    if (same & 0x200)
        ev->after.eflags = ev->before.eflags;
    if (same & 0x400)
        ev->after.cr3 = ev->before.cr3;
    if (same & 0x800)
        ev->after.cs = ev->before.cs;
    if (same & 0x1000)
        ev->after.ss = ev->before.ss;
    if (same & 0x2000)
        ev->after.cpl = ev->before.cpl;
    ev->detail.kind = (uint8_t)detail;
    if (detail == FD_PAGE) {
        struct walk *w = &ev->detail.u.page;
        w->lin = rnd(s), w->pde_addr = rnd(s), w->pde = rnd(s), w->pte_addr = rnd(s);
        w->pte = rnd(s), w->pa = rnd(s);
        w->kind = (uint8_t)rnd(s), w->mode = (uint8_t)rnd(s), w->result = (uint8_t)rnd(s);
        w->level = (uint8_t)rnd(s);
        w->large = rnd(s) & 1, w->user = rnd(s) & 1, w->writable = rnd(s) & 1;
        w->global = rnd(s) & 1;
    } else if (detail == FD_SELECTOR) {
        struct sel_fault *f = &ev->detail.u.sel;
        f->reason = (uint8_t)rnd(s), f->use = (uint8_t)rnd(s), f->table = (uint8_t)rnd(s);
        f->seg = (uint8_t)rnd(s), f->sel = (uint16_t)rnd(s), f->type = (uint8_t)rnd(s);
        f->cpl = (uint8_t)rnd(s), f->rpl = (uint8_t)rnd(s), f->dpl = (uint8_t)rnd(s);
        f->limit = rnd(s), f->offset = rnd(s);
    } else if (detail == FD_RULE) {
        struct rule_fault *r = &ev->detail.u.rule;
        r->reason = (uint8_t)rnd(s), r->cpl = (uint8_t)rnd(s), r->iopl = (uint8_t)rnd(s);
        r->size = (uint8_t)rnd(s), r->value = rnd(s);
    }
    ev->source = (uint8_t)(rnd(s) % ISRC_KINDS);
    ev->source_num = (uint8_t)rnd(s);
}

static void assert_state_equal(const struct trace_state *a, const struct trace_state *b)
{
    for (int i = 0; i < 8; i++)
        assert_int_equal(a->r[i], b->r[i]);
    assert_int_equal(a->eip, b->eip);
    assert_int_equal(a->eflags, b->eflags);
    assert_int_equal(a->cr3, b->cr3);
    assert_int_equal(a->cs, b->cs);
    assert_int_equal(a->ss, b->ss);
    assert_int_equal(a->cpl, b->cpl);
}

static void assert_event_equal(const struct trace_event *a, const struct trace_event *b)
{
    assert_int_equal(a->icount, b->icount);
    assert_int_equal(a->kind, b->kind);
    assert_int_equal(a->vector, b->vector);
    assert_int_equal(a->has_error, b->has_error);
    assert_int_equal(a->error, b->error);
    assert_int_equal(a->cr2, b->cr2);
    assert_state_equal(&a->before, &b->before);
    assert_state_equal(&a->after, &b->after);
    assert_int_equal(a->source, b->source);
    assert_int_equal(a->source_num, b->source_num);
    assert_int_equal(a->detail.kind, b->detail.kind);
    if (a->detail.kind == FD_PAGE) {
        const struct walk *x = &a->detail.u.page, *y = &b->detail.u.page;
        assert_int_equal(x->lin, y->lin);
        assert_int_equal(x->pde_addr, y->pde_addr);
        assert_int_equal(x->pde, y->pde);
        assert_int_equal(x->pte_addr, y->pte_addr);
        assert_int_equal(x->pte, y->pte);
        assert_int_equal(x->pa, y->pa);
        assert_int_equal(x->kind, y->kind);
        assert_int_equal(x->mode, y->mode);
        assert_int_equal(x->result, y->result);
        assert_int_equal(x->level, y->level);
        assert_int_equal(x->large, y->large);
        assert_int_equal(x->user, y->user);
        assert_int_equal(x->writable, y->writable);
        assert_int_equal(x->global, y->global);
    } else if (a->detail.kind == FD_SELECTOR) {
        const struct sel_fault *x = &a->detail.u.sel, *y = &b->detail.u.sel;
        assert_int_equal(x->reason, y->reason);
        assert_int_equal(x->use, y->use);
        assert_int_equal(x->table, y->table);
        assert_int_equal(x->seg, y->seg);
        assert_int_equal(x->sel, y->sel);
        assert_int_equal(x->type, y->type);
        assert_int_equal(x->cpl, y->cpl);
        assert_int_equal(x->rpl, y->rpl);
        assert_int_equal(x->dpl, y->dpl);
        assert_int_equal(x->limit, y->limit);
        assert_int_equal(x->offset, y->offset);
    } else if (a->detail.kind == FD_RULE) {
        const struct rule_fault *x = &a->detail.u.rule, *y = &b->detail.u.rule;
        assert_int_equal(x->reason, y->reason);
        assert_int_equal(x->cpl, y->cpl);
        assert_int_equal(x->iopl, y->iopl);
        assert_int_equal(x->size, y->size);
        assert_int_equal(x->value, y->value);
    }
}

/* Every field survives, for each kind of fault detail, in a stream of events each encoded
 * against those before (struct trace_codec); a changed field changes the encoding. */
static void test_event_round_trip(void **state)
{
    (void)state;
    uint64_t s = 0x9E3779B97F4A7C15ull;
    struct trace_codec enc_k, dec_k;
    trace_codec_init(&enc_k);
    trace_codec_init(&dec_k);
    struct trace_event prev = { 0 };
    for (int n = 0; n < 3000; n++) {
        struct trace_event ev, back;
        if (n % 5 == 4) { /* the last event again, a little later: the stream's gain */
            ev = prev;
            ev.icount += 100;
        } else {
            random_event(&s, &ev, (unsigned)n % 4);
        }
        uint8_t enc[TRACE_EVENT_MAX + 1], again[TRACE_EVENT_MAX];
        struct trace_codec k0 = enc_k, k1;
        size_t len = trace_event_encode(&enc_k, &ev, enc);
        assert_in_range(len, TRACE_EVENT_MIN, TRACE_EVENT_MAX);
        if (n % 5 == 4 && ev.detail.kind == FD_NONE && !ev.source && !ev.source_num)
            assert_int_equal(len, TRACE_EVENT_MIN); /* nothing but the step and the kind */
        /* any other length is not this event (and leaves the stream where it was) */
        k1 = dec_k;
        assert_false(trace_event_decode(&dec_k, enc, len - 1, &back));
        enc[len] = 0;
        assert_false(trace_event_decode(&dec_k, enc, len + 1, &back));
        assert_memory_equal(&k1, &dec_k, sizeof k1);
        assert_true(trace_event_decode(&dec_k, enc, len, &back));
        assert_event_equal(&ev, &back);
        assert_memory_equal(&enc_k, &dec_k, sizeof enc_k); /* in step */
        k1 = k0;
        assert_int_equal(trace_event_encode(&k1, &back, again), len);
        assert_memory_equal(enc, again, len);
        /* one bit of one register after: a different encoding */
        back.after.r[n % 8] ^= 1u << (n % 32);
        k1 = k0;
        size_t len2 = trace_event_encode(&k1, &back, again);
        assert_true(len2 != len || memcmp(enc, again, len) != 0);
        prev = ev;
    }
    /* The shortest event: a small step, nothing differs from the last of its kind; the
     * longest: everything differs (a huge step, an error code, CR2, every field of both
     * states, every chunk of a page walk, a source), and both survive. */
    {
        struct trace_codec ke, kd;
        trace_codec_init(&ke);
        trace_codec_init(&kd);
        struct trace_event ev, back;
        random_event(&s, &ev, FD_PAGE);
        ev.icount = ~0ull;
        ev.has_error = true;
        ev.error = 7;
        ev.cr2 = 1;
        for (int i = 0; i < 8; i++)
            ev.before.r[i] = 1 + (uint32_t)i, ev.after.r[i] = ~ev.before.r[i];
        ev.before.eip = ev.before.eflags = ev.before.cr3 = 5;
        ev.before.cs = ev.before.ss = 9;
        ev.before.cpl = 3;
        ev.after.eip = ~ev.before.eip;
        ev.after.eflags = ~ev.before.eflags;
        ev.after.cr3 = ~ev.before.cr3;
        ev.after.cs = (uint16_t)~ev.before.cs;
        ev.after.ss = (uint16_t)~ev.before.ss;
        ev.after.cpl = 0;
        struct walk *w = &ev.detail.u.page;
        w->lin = w->pde_addr = w->pde = w->pte_addr = w->pte = w->pa = 3;
        w->kind = 1;
        w->global = true;
        ev.source = 1;
        uint8_t enc[TRACE_EVENT_MAX];
        assert_int_equal(trace_event_encode(&ke, &ev, enc), TRACE_EVENT_MAX);
        assert_true(trace_event_decode(&kd, enc, TRACE_EVENT_MAX, &back));
        assert_event_equal(&ev, &back);
        ev.detail.kind = FD_NONE;
        ev.source = ev.source_num = 0;
        ev.icount += 3;
        assert_int_equal(trace_event_encode(&ke, &ev, enc), TRACE_EVENT_MIN);
        assert_true(trace_event_decode(&kd, enc, TRACE_EVENT_MIN, &back));
        assert_event_equal(&ev, &back);
        assert_int_equal(back.icount, 2); /* the step wraps around as the count does */
    }
    /* Impossible values, and encodings the recorder does not make, are refused. */
    struct trace_codec k, kd;
    trace_codec_init(&k);
    struct trace_event ev, back;
    random_event(&s, &ev, FD_NONE);
    ev.icount = 100; /* a one-byte step: the kind is byte 1 */
    ev.source = 1;
    uint8_t enc[TRACE_EVENT_MAX + 1];
    size_t len = trace_event_encode(&k, &ev, enc);
    enc[1] = TR_KINDS; /* the kind */
    trace_codec_init(&kd);
    assert_false(trace_event_decode(&kd, enc, len, &back));
    trace_codec_init(&k);
    len = trace_event_encode(&k, &ev, enc);
    enc[len - 2] = ISRC_KINDS; /* the interrupt's source */
    assert_false(trace_event_decode(&kd, enc, len, &back));
    /* a field in the after mask equal to its prediction, an unknown mask bit or flag, a
     * source of zeros said to follow, a step not in its shortest form */
    ev.before.cpl = 3; /* every field before differs from the zeros before the first event */
    ev.after = ev.before;
    ev.after.eip = ev.before.eip + 1;
    ev.has_error = false;
    ev.error = ev.cr2 = 0;
    ev.source = 0;
    ev.source_num = 0;
    trace_codec_init(&k);
    len = trace_event_encode(&k, &ev, enc);
    assert_int_equal(len, 1 + 3 + 2 + 49 + 2 + 4);
    assert_true(trace_event_decode(&kd, enc, len, &back));
    trace_codec_init(&kd);
    trace_put32(enc + len - 4, ev.before.eip); /* EIP after: the same as before */
    assert_false(trace_event_decode(&kd, enc, len, &back));
    trace_codec_init(&k);
    len = trace_event_encode(&k, &ev, enc);
    enc[len - 6 + 1] |= 0x40; /* after mask bit 14 */
    assert_false(trace_event_decode(&kd, enc, len, &back));
    trace_codec_init(&k);
    len = trace_event_encode(&k, &ev, enc);
    enc[3] |= 0x20; /* flag bit 5 */
    assert_false(trace_event_decode(&kd, enc, len, &back));
    trace_codec_init(&k);
    len = trace_event_encode(&k, &ev, enc);
    enc[3] |= 16; /* a source follows ... */
    enc[len] = 0, enc[len + 1] = 0; /* ... and says nothing */
    assert_false(trace_event_decode(&kd, enc, len + 2, &back));
    trace_codec_init(&k);
    len = trace_event_encode(&k, &ev, enc);
    uint8_t long_step[TRACE_EVENT_MAX];
    long_step[0] = (uint8_t)(enc[0] | 0x80), long_step[1] = 0; /* 100 in two bytes */
    memcpy(long_step + 2, enc + 1, len - 1);
    assert_false(trace_event_decode(&kd, long_step, len + 1, &back));
    assert_true(trace_event_decode(&kd, enc, len, &back));
}

/* The frames' checksum is CRC-32C: the standard check value, pieces chain, and every length
 * and alignment agrees with a bitwise reference. */
/* The recorder's encoders (trace_event_put: the portable one, SSE2's, AVX2's, each where
 * the build and the host have it) write exactly what trace_event_encode makes of every event
 * after its length byte (one event of a TREC_EVENTS record), and leave the stream where it
 * leaves it: over events of every
 * kind and detail, repeats, a few fields changed (partial masks, changes of ring), a detail
 * kind after none and none after one. */
static void test_event_record_encoders(void **state)
{
    (void)state;
    uint64_t s = 0x5DEECE66Du;
    struct trace_codec ref_k, k[3];
    trace_codec_init(&ref_k);
    for (int i = 0; i < 3; i++)
        trace_codec_init(&k[i]);
    struct trace_event prev = { 0 };
    for (int n = 0; n < 6000; n++) {
        struct trace_event ev;
        unsigned how = rnd(&s) % 4;
        if (n == 0 || how == 0) {
            random_event(&s, &ev, rnd(&s) % 4);
        } else {
            ev = prev; /* the last event, a few fields changed */
            ev.icount += rnd(&s) % 300;
            ev.kind = (uint8_t)(rnd(&s) % TR_KINDS);
            for (unsigned f = rnd(&s) % 4; f; f--) {
                unsigned lane = rnd(&s) % 14;
                uint32_t v = rnd(&s);
                struct trace_state *st = rnd(&s) & 1 ? &ev.after : &ev.before;
                st->lane[lane] = lane == 13 ? v & 3 : lane >= 11 ? v & 0xffff : v;
            }
            if (how == 2) { /* another detail (or none) */
                struct trace_event other;
                random_event(&s, &other, rnd(&s) % 4);
                ev.detail = other.detail;
            }
        }
        uint8_t want[TRACE_EVENT_MAX];
        size_t len = trace_event_encode(&ref_k, &ev, want);
        for (unsigned isa = 0; isa < 3; isa++) {
            uint8_t rec[TRACE_EVENT_PUT_ROOM];
            memset(rec, 0xA5, sizeof rec);
            assert_int_equal(trace_event_put_isa(&k[isa], &ev, rec, isa), 1 + len);
            assert_int_equal(rec[0], len);
            assert_memory_equal(rec + 1, want, len);
            assert_memory_equal(&k[isa], &ref_k, sizeof ref_k);
        }
        prev = ev;
    }
}

/* The recorder's appenders (trace_appender: the portable one, SSE2's, AVX2's with the state
 * after read from the cpu), as used when the recorder is the only sink: given the event's
 * first half and a cpu in the state after (lazy flags pending now and then), each writes
 * exactly what trace_event_encode makes of the whole event after its length byte, whatever
 * the bytes in the buffer, and moves the stream on the same way. */
static void test_event_appenders(void **state)
{
    (void)state;
    uint64_t s = 0xC0FFEE1234u;
    struct trace_codec ref_k, k[3];
    trace_codec_init(&ref_k);
    for (int i = 0; i < 3; i++)
        trace_codec_init(&k[i]);
    struct cpu *c = calloc(1, sizeof *c);
    assert_non_null(c);
    struct trace_event prev = { 0 };
    for (int n = 0; n < 6000; n++) {
        struct trace_event ev;
        if (n == 0 || rnd(&s) % 4 == 0) {
            random_event(&s, &ev, rnd(&s) % 4);
        } else {
            ev = prev; /* the last event, a few fields changed */
            ev.icount += rnd(&s) % 300;
            ev.kind = (uint8_t)(rnd(&s) % TR_KINDS);
            for (unsigned f = rnd(&s) % 4; f; f--) {
                unsigned lane = rnd(&s) % 14;
                uint32_t v = rnd(&s);
                struct trace_state *st = rnd(&s) & 1 ? &ev.after : &ev.before;
                st->lane[lane] = lane == 13 ? v & 3 : lane >= 11 ? v & 0xffff : v;
            }
        }
        /* the cpu in the state after (EFLAGS as the cpu has it: bit 1 set) */
        memcpy(c->r, ev.after.r, sizeof ev.after.r);
        c->eip = ev.after.eip;
        c->eflags = ev.after.eflags & ~(uint32_t)FL_R1;
        c->lf.op = LF_NONE;
        if (rnd(&s) % 8 == 0) { /* flags still lazy: what the event holds is their fold */
            c->lf = (struct lazyflags){ .res = rnd(&s), .op1 = rnd(&s), .op2 = rnd(&s),
                                        .op = LF_LOGIC, .size = 4 };
        }
        ev.after.eflags = cpu_get_eflags(c);
        c->cr3 = ev.after.cr3;
        c->seg[SEG_CS].sel = (uint16_t)ev.after.cs;
        c->seg[SEG_SS].sel = (uint16_t)ev.after.ss;
        c->cpl = (uint8_t)ev.after.cpl;
        c->cr2 = ev.cr2;
        struct cpu saved = *c;
        uint8_t want[TRACE_EVENT_MAX];
        size_t len = trace_event_encode(&ref_k, &ev, want);
        for (unsigned isa = 0; isa < 3; isa++) {
            uint8_t area[TRACE_EVENT_PUT_ROOM];
            for (size_t i = 0; i < sizeof area; i++)
                area[i] = (uint8_t)rnd(&s);
            uint8_t *rec = area;
            struct trace_event half = ev; /* what trace_begin built: no state after, no CR2 */
            memset(&half.after, 0x5A, sizeof half.after);
            half.cr2 = 0x5A5A5A5Au;
            *c = saved;
            struct trace_out o = { .buf = rec, .len = 0, .room = SIZE_MAX, .codec = k[isa] };
            trace_appender(isa)(&o, c, &half);
            k[isa] = o.codec;
            assert_int_equal(o.len, 1 + len);
            assert_int_equal(rec[0], len);
            assert_memory_equal(rec + 1, want, len);
            assert_memory_equal(&k[isa], &ref_k, sizeof ref_k);
        }
        prev = ev;
    }
    free(c);
}

static void test_crc32c(void **state)
{
    (void)state;
    assert_int_equal(trace_crc32c(0, "123456789", 9), 0xE3069283u);
    assert_int_equal(trace_crc32c(0, "", 0), 0);
    assert_int_equal(trace_crc32c(trace_crc32c(0, "1234", 4), "56789", 5), 0xE3069283u);
    uint8_t buf[160];
    uint64_t s = 0x1234567887654321ull;
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)rnd(&s);
    for (size_t off = 0; off < 8; off++)
        for (size_t n = 0; n + off <= sizeof buf; n++) {
            uint32_t c = 0xFFFFFFFFu;
            for (size_t i = 0; i < n; i++) {
                c ^= buf[off + i];
                for (int k = 0; k < 8; k++)
                    c = (c >> 1) ^ (c & 1 ? 0x82F63B78u : 0);
            }
            assert_int_equal(trace_crc32c(0, buf + off, n), ~c);
            if (n >= 5) { /* a frame's checksum, by the host's crc32 and by the table */
                assert_int_equal(trace_frame_crc(buf + off, (uint32_t)n - 5), ~c);
                assert_int_equal(trace_frame_crc_portable(buf + off, (uint32_t)n - 5), ~c);
            }
        }
    /* Long runs (three streams at once where the host has crc32 and clmul): every length
     * around the streams' block sizes (3 x 256, 3 x 2048 bytes) and their multiples, from
     * an odd start, against the bitwise reference. */
    enum { LONG = 5 * 3 * 2048 + 4 * 3 * 256 + 64 };
    uint8_t *big = malloc(LONG + 1);
    assert_non_null(big);
    for (size_t i = 0; i <= LONG; i++)
        big[i] = (uint8_t)rnd(&s);
    uint32_t *ref = malloc((LONG + 1) * sizeof *ref); /* ref[n]: the register after n bytes */
    assert_non_null(ref);
    uint32_t c = 0xFFFFFFFFu;
    ref[0] = c;
    for (size_t i = 0; i < LONG; i++) {
        c ^= big[1 + i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (c & 1 ? 0x82F63B78u : 0);
        ref[i + 1] = c;
    }
    for (size_t n = 0; n <= LONG; n += n < 8000 ? 1 : 97) {
        assert_int_equal(trace_crc32c(0, big + 1, n), ~ref[n]);
        if (n >= 5)
            assert_int_equal(trace_frame_crc(big + 1, (uint32_t)n - 5), ~ref[n]);
    }
    for (size_t n = 3 * 256 - 40; n <= LONG; n += 3 * 256) /* each block count, +-40 */
        for (size_t d = 0; d < 80 && n + d <= LONG; d++)
            assert_int_equal(trace_crc32c(0, big + 1, n + d), ~ref[n + d]);
    assert_int_equal(trace_frame_crc_portable(big + 1, LONG - 5), ~ref[LONG]);
    free(ref);
    free(big);
}

/* A triple fault's three steps (TREC_TRIPLE) survive, each with its detail. */
static void test_triple_round_trip(void **state)
{
    (void)state;
    uint64_t s = 0x2545F4914F6CDD1Dull;
    for (int n = 0; n < 300; n++) {
        struct fault f[3], back[3];
        for (int i = 0; i < 3; i++) {
            struct trace_event ev;
            random_event(&s, &ev, (unsigned)(n + i) % 3);
            f[i] = (struct fault){ .vector = ev.vector, .has_error = ev.has_error,
                                   .error = ev.error, .cr2 = ev.cr2, .detail = ev.detail };
        }
        uint8_t enc[TRACE_TRIPLE_SIZE];
        trace_triple_encode(f, enc);
        assert_true(trace_triple_decode(enc, back));
        for (int i = 0; i < 3; i++) {
            struct trace_event a = { .vector = f[i].vector, .has_error = f[i].has_error,
                                     .error = f[i].error, .cr2 = f[i].cr2,
                                     .detail = f[i].detail };
            struct trace_event b = { .vector = back[i].vector, .has_error = back[i].has_error,
                                     .error = back[i].error, .cr2 = back[i].cr2,
                                     .detail = back[i].detail };
            assert_event_equal(&a, &b);
        }
    }
}

/* A small recorded file in memory: header, a name, events from a machine, console bytes, end. */
struct small {
    uint8_t *buf;
    size_t size;
    struct trace_event ev[40];
    size_t nev;
};

static void capture_event(void *ctx, const struct trace_event *ev)
{
    struct small *sm = ctx;
    if (sm->nev < 40)
        sm->ev[sm->nev++] = *ev;
}

static char *argv_words[] = { "ringside", "run", "k.elf", "--record", "x" };
static char *mods[] = { "user/a.elf arg", "user/b.elf" };

/* A recorder on a new temporary file (its name in path, at least 23 bytes). */
static struct recorder *open_temp_recorder(char *path)
{
    strcpy(path, "/tmp/test_trace_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    char err[256];
    struct recorder *r = recorder_open(path, err, sizeof err);
    assert_non_null(r);
    return r;
}

/* The k-th event of make_small's run: its kind k modulo the kinds, 100 instructions later. */
static void small_event(struct machine *m, unsigned k)
{
    struct trace_event ev;
    trace_begin(&m->cpu, &ev, (enum trace_kind)(k % TR_KINDS), 0x20 + k, k & 1, k);
    m->cpu.icount += 100;
    trace_end(&m->cpu, &ev);
}

static void make_small(struct small *sm)
{
    memset(sm, 0, sizeof *sm);
    char path[32];
    struct recorder *r = open_temp_recorder(path);
    struct trace_header h = {
        .version = "9.9", .command = "run", .argv = argv_words, .argc = 5, .image = "k.elf",
        .append = "init=a", .modules = mods, .nmodules = 2, .dir = "/somewhere",
        .mem_mib = 16, .ips = 1234567, .max_insns = 42, .nhashes = 3,
        .hash_path = { "/somewhere/k.elf", "/somewhere/user/a.elf", "/somewhere/user/b.elf" },
    };
    for (int i = 0; i < 3; i++)
        memset(h.hash[i], 0x10 + i, TRACE_SHA256_LEN);
    assert_true(recorder_write_header(r, &h));
    struct machine *m = machine_create(2, NULL, NULL);
    assert_non_null(m);
    assert_true(recorder_attach(r, m));
    assert_int_equal(cpu_add_sink(&m->cpu, capture_event, sm), 0);
    record_space_name(r, 0x1000, 7, "hello");
    for (unsigned k = 0; k < 12; k++) {
        small_event(m, k);
        if (k % 3 == 0)
            bus_out(&m->bus, 0x3F8, 'a' + k, 1); /* COM1 transmits at once */
    }
    assert_true(recorder_finish(r, m, TEND_HALT, 5));
    int e = 0;
    assert_int_equal(recorder_close(r, &e), 0);
    machine_destroy(m);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    sm->size = (size_t)ftell(f);
    rewind(f);
    sm->buf = malloc(sm->size);
    assert_int_equal(fread(sm->buf, 1, sm->size, f), sm->size);
    fclose(f);
    unlink(path);
}

/* recorder_set_inputs_only: the file head's flag, no events, names or console output; a
 * progress mark at each flush; the end record. */
static void test_inputs_only_file(void **state)
{
    (void)state;
    char path[32];
    struct recorder *r = open_temp_recorder(path);
    recorder_set_inputs_only(r);
    struct trace_header h = {
        .version = "9.9", .command = "run", .argv = argv_words, .argc = 5, .image = "k.elf",
        .mem_mib = 16, .ips = 1234567, .nhashes = 1, .hash_path = { "/somewhere/k.elf" },
    };
    assert_true(recorder_write_header(r, &h));
    struct machine *m = machine_create(2, NULL, NULL);
    assert_non_null(m);
    assert_true(recorder_attach(r, m));
    record_space_name(r, 0x1000, 7, "hello");
    for (unsigned k = 0; k < 12; k++) {
        small_event(m, k);
        bus_out(&m->bus, 0x3F8, 'a' + k, 1);
        if (k == 5)
            assert_true(recorder_flush(r));
    }
    assert_true(recorder_flush(r));
    assert_true(recorder_finish(r, m, TEND_HALT, 5));
    int e = 0;
    assert_int_equal(recorder_close(r, &e), 0);
    machine_destroy(m);
    struct trace_file tf;
    assert_int_equal(trace_load(path, &tf), TRACE_OK);
    unlink(path);
    assert_true(tf.inputs_only);
    assert_int_equal(trace_get16(tf.buf + 10), TRACE_FLAG_INPUTS);
    assert_int_equal(tf.nevents, 0);
    assert_int_equal(tf.nrecs, 3); /* two marks, the end */
    assert_int_equal(tf.recs[0].type, TREC_MARK);
    assert_int_equal(trace_get64(tf.recs[0].payload + 8), 600);
    assert_int_equal(tf.recs[1].type, TREC_MARK);
    assert_int_equal(tf.recs[2].type, TREC_END);
    assert_true(tf.has_mark);
    assert_int_equal(tf.mark_icount, 1200);
    assert_int_equal(tf.end.icount, 1200);
    assert_int_equal(tf.end.status, 5);
    trace_free(&tf);
}

static void test_file_round_trip(void **state)
{
    (void)state;
    struct small sm;
    make_small(&sm);
    assert_int_equal(sm.nev, 12);
    struct trace_file tf = { 0 };
    assert_int_equal(trace_parse(sm.buf, sm.size, &tf), TRACE_OK);
    const struct trace_header *h = &tf.hdr;
    assert_string_equal(h->version, "9.9");
    assert_string_equal(h->command, "run");
    assert_int_equal(h->argc, 5);
    assert_string_equal(h->argv[3], "--record");
    assert_string_equal(h->image, "k.elf");
    assert_string_equal(h->append, "init=a");
    assert_int_equal(h->nmodules, 2);
    assert_string_equal(h->modules[0], "user/a.elf arg");
    assert_string_equal(h->dir, "/somewhere");
    assert_int_equal(h->mem_mib, 16);
    assert_int_equal(h->ips, 1234567);
    assert_int_equal(h->max_insns, 42);
    assert_int_equal(h->nhashes, 3);
    assert_string_equal(h->hash_path[2], "/somewhere/user/b.elf");
    assert_int_equal(h->hash[1][31], 0x11);
    /* records in order: the name, then events with their console bytes */
    assert_int_equal(tf.recs[0].type, TREC_SPACE);
    struct trace_space_rec sp;
    trace_record_space(&tf.recs[0], &sp);
    assert_int_equal(sp.cr3, 0x1000);
    assert_int_equal(sp.pid, 7);
    assert_string_equal(sp.name, "hello");
    size_t ev = 0, out = 0;
    for (size_t i = 0; i < tf.nrecs; i++) {
        if (tf.recs[i].type == TREC_EVENT) {
            struct trace_event got;
            trace_record_event(&tf.recs[i], &got);
            assert_event_equal(&sm.ev[ev], &got);
            ev++;
        } else if (tf.recs[i].type == TREC_OUTPUT) {
            struct trace_byte_rec b;
            trace_record_byte(&tf.recs[i], &b);
            assert_int_equal(b.byte, 'a' + 3 * out);
            assert_int_equal(b.icount, 100 * (3 * out + 1));
            out++;
        }
    }
    assert_int_equal(ev, 12);
    assert_int_equal(tf.nevents, 12);
    assert_int_equal(out, 4);
    assert_true(tf.has_end);
    assert_int_equal(tf.end.reason, TEND_HALT);
    assert_int_equal(tf.end.status, 5);
    assert_int_equal(tf.end.icount, 1200);
    assert_int_equal(tf.end.nkinds, TR_KINDS);
    assert_int_equal(tf.end.kinds[TR_SOFTINT], 1);
    trace_free(&tf);
    free(sm.buf);
}

/* Every prefix: truncated (or not a trace before the head), never whole, never more events
 * than were whole before the cut, and those equal to the recorded ones. */
static void test_every_prefix(void **state)
{
    (void)state;
    struct small sm;
    make_small(&sm);
    size_t last = 0;
    for (size_t n = 0; n < sm.size; n++) {
        struct trace_file tf = { 0 };
        enum trace_status st = trace_parse(sm.buf, n, &tf);
        assert_true(st == TRACE_TRUNCATED || st == TRACE_NOT_TRACE);
        assert_true(tf.nevents >= last);
        last = tf.nevents;
        size_t ev = 0;
        for (size_t i = 0; i < tf.nrecs; i++) {
            if (tf.recs[i].type != TREC_EVENT)
                continue;
            struct trace_event got;
            trace_record_event(&tf.recs[i], &got);
            assert_event_equal(&sm.ev[ev++], &got);
        }
        trace_free(&tf);
    }
    assert_int_equal(last, 12);
    free(sm.buf);
}

/* Every byte changed (each of three ways): never read as a whole file. */
static void test_every_damaged_byte(void **state)
{
    (void)state;
    struct small sm;
    make_small(&sm);
    uint8_t *copy = malloc(sm.size);
    static const uint8_t flips[] = { 0x01, 0x80, 0xFF };
    for (size_t at = 0; at < sm.size; at++) {
        for (size_t f = 0; f < sizeof flips; f++) {
            memcpy(copy, sm.buf, sm.size);
            copy[at] ^= flips[f];
            struct trace_file tf = { 0 };
            enum trace_status st = trace_parse(copy, sm.size, &tf);
            if (st == TRACE_OK)
                fail_msg("byte %zu ^ 0x%02x reads as a whole trace", at, flips[f]);
            trace_free(&tf);
        }
    }
    free(copy);
    free(sm.buf);
}

static void test_filters_and_names(void **state)
{
    (void)state;
    struct small sm;
    make_small(&sm);
    struct trace_file tf = { 0 };
    assert_int_equal(trace_parse(sm.buf, sm.size, &tf), TRACE_OK);
    struct trace_names names;
    assert_true(trace_names_collect(&tf, &names));
    char label[80];
    trace_space_label(&names, 0x1000, label, sizeof label);
    assert_string_equal(label, "hello");
    trace_space_label(&names, 0x2000, label, sizeof label);
    assert_string_equal(label, "CR3 0x00002000");

    struct trace_filter f;
    char err[256];
    struct trace_filter_spec bad[] = {
        { .kind = "nope" }, { .vector = "256" }, { .cpl = "4" }, { .pid = "x" },
        { .from = "10", .to = "5" }, { .vector = "0x" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(trace_filter_parse(&bad[i], &f, err, sizeof err), -1);
    struct trace_filter_spec spec = { .kind = "int", .vector = "0x80", .cpl = "3",
                                      .from = "100", .to = "200", .pid = "7" };
    assert_int_equal(trace_filter_parse(&spec, &f, err, sizeof err), 0);
    struct trace_event ev = { .icount = 150, .kind = TR_SOFTINT, .vector = 0x80 };
    ev.before.cpl = 3;
    ev.before.cr3 = 0x1000;
    assert_true(trace_filter_match(&f, &names, &ev));
    struct trace_event other = ev;
    other.vector = 0x81;
    assert_false(trace_filter_match(&f, &names, &other));
    other = ev;
    other.icount = 201;
    assert_false(trace_filter_match(&f, &names, &other));
    other = ev;
    other.before.cr3 = 0x2000; /* not pid 7 */
    assert_false(trace_filter_match(&f, &names, &other));
    other = ev;
    other.before.cpl = 0;
    assert_false(trace_filter_match(&f, &names, &other));
    struct trace_filter_spec byspace = { .space = "hello" };
    assert_int_equal(trace_filter_parse(&byspace, &f, err, sizeof err), 0);
    assert_true(trace_filter_match(&f, &names, &ev));
    byspace.space = "CR3 0x00001000";
    assert_int_equal(trace_filter_parse(&byspace, &f, err, sizeof err), 0);
    assert_true(trace_filter_match(&f, &names, &ev));
    byspace.space = "0x2000";
    assert_int_equal(trace_filter_parse(&byspace, &f, err, sizeof err), 0);
    assert_false(trace_filter_match(&f, &names, &ev));
    trace_names_free(&names);
    trace_free(&tf);
    free(sm.buf);
}


/* A record of type t over payload p (its frame is not needed to step a reader). */
static struct trace_record rec(uint8_t t, const uint8_t *p, uint32_t len)
{
    return (struct trace_record){ .type = t, .len = len, .payload = p };
}

/* An event record as the reader keeps it: the event decoded. */
static struct trace_record ev_rec(const struct trace_event *ev)
{
    return (struct trace_record){ .type = TREC_EVENT, .ev = ev };
}

/* The reader names each event as the live log did at that moment: names said before it (the
 * newest naming of a CR3 wins, none after the machine's 256th), system-call names and vector,
 * the ISA line from the 8259A's vector bases, a triple fault's steps, returns paired. */
static void test_reader_context(void **state)
{
    (void)state;
    struct trace_ctx *t = trace_ctx_new(NULL, NULL);
    assert_non_null(t);
    struct trace_event ev = { .icount = 10, .kind = TR_SOFTINT, .vector = 0x30 };
    ev.before = (struct trace_state){ .cr3 = 0x1000, .cpl = 3, .cs = 0x1b, .ss = 0x23 };
    ev.before.r[EAX] = 4;
    ev.before.r[ESP] = 0xbff0;
    ev.after = (struct trace_state){ .cr3 = 0x1000, .cpl = 0, .cs = 0x08, .ss = 0x10 };
    struct trace_event got;
    char line[1536];

    /* Nothing said yet: a CR3, an INT 0x30 that is no system call. */
    struct trace_record r = ev_rec(&ev);
    assert_true(trace_ctx_step(t, &r, &got));
    describe_event_in(&t->d, &got, line, sizeof line);
    assert_non_null(strstr(line, "cr3=00001000 v=30"));
    assert_non_null(strstr(line, "| int 0x30"));
    assert_null(strstr(line, "syscall"));

    /* The kernel names the space, system call 4 and its gate 0x30. */
    uint8_t sp[8 + 5], nm[5 + 5], vec[5];
    trace_put32(sp, 0x1000), trace_put32(sp + 4, 7), memcpy(sp + 8, "shell", 5);
    nm[0] = TNAME_SYSCALL, trace_put32(nm + 1, 4), memcpy(nm + 5, "write", 5);
    vec[0] = TNAME_SYSCALL_VECTOR, trace_put32(vec + 1, 0x30);
    struct trace_record names[] = { rec(TREC_SPACE, sp, sizeof sp), rec(TREC_NAME, nm, sizeof nm),
                                    rec(TREC_NAME, vec, sizeof vec) };
    for (size_t i = 0; i < 3; i++)
        assert_false(trace_ctx_step(t, &names[i], &got));
    ev.icount = 20;
    r = ev_rec(&ev);
    assert_true(trace_ctx_step(t, &r, &got));
    describe_event_in(&t->d, &got, line, sizeof line);
    assert_non_null(strstr(line, "    20: pid 7 (shell) v=30"));
    assert_non_null(strstr(line, "| int 0x30 syscall 4 (write)"));
    char name[80];
    describe_entry_name(&t->d, &got, name, sizeof name);
    assert_string_equal(name, "write");

    /* Its return pairs with the newest entry (at 20). */
    struct trace_event ret = { .icount = 25, .kind = TR_IRET };
    ret.before = ev.after;
    ret.after = ev.before;
    r = ev_rec(&ret);
    assert_true(trace_ctx_step(t, &r, &got));
    describe_event_in(&t->d, &got, line, sizeof line);
    assert_non_null(strstr(line, "| back from int 0x30 syscall 4 (write) at 20, 5 instructions"));

    /* Renamed: the newest name wins; after 256 namings, no more are kept. */
    memcpy(sp + 8, "other", 5);
    for (unsigned k = 1; k < 256; k++) {
        trace_put32(sp + 4, 100 + k);
        assert_false(trace_ctx_step(t, &names[0], &got));
    }
    trace_put32(sp + 4, 999);
    assert_false(trace_ctx_step(t, &names[0], &got));
    assert_int_equal(trace_ctx_space(t, 0x1000)->pid, 355);

    /* An interrupt's ISA line from the vector bases; a triple fault's steps. */
    uint8_t bases[2] = { 0x20, 0x28 };
    struct trace_record irq = rec(TREC_IRQ, bases, 2);
    assert_false(trace_ctx_step(t, &irq, &got));
    struct trace_event in = ev;
    in.kind = TR_INTERRUPT;
    in.vector = 0x29;
    r = ev_rec(&in);
    assert_true(trace_ctx_step(t, &r, &got));
    describe_event_in(&t->d, &got, line, sizeof line);
    assert_non_null(strstr(line, "| IRQ9 ACPI"));
    struct fault three[3] = { { .vector = 13, .has_error = true, .error = 0x402 },
                              { .vector = 8, .has_error = true },
                              { .vector = 14, .has_error = true, .error = 2, .cr2 = 0x7ffffc } };
    uint8_t tp[TRACE_TRIPLE_SIZE];
    trace_triple_encode(three, tp);
    struct trace_record triple = rec(TREC_TRIPLE, tp, sizeof tp);
    assert_false(trace_ctx_step(t, &triple, &got));
    struct trace_event sd = { .icount = 40, .kind = TR_SHUTDOWN, .vector = 14, .has_error = true,
                              .error = 2 };
    r = ev_rec(&sd);
    assert_true(trace_ctx_step(t, &r, &got));
    describe_event_in(&t->d, &got, line, sizeof line);
    assert_non_null(strstr(line, "| triple fault: #GP(0x0402)"));
    assert_non_null(strstr(line, "-> #DF(0x0000)"));
    assert_non_null(strstr(line, "-> #PF(0x0002): page fault CR2=007ffffc"));
    trace_ctx_free(t);
}

/* A kernel that reuses a page directory for a new process: the Perfetto export gives each
 * process its own track (one Perfetto process per guest process), named as the guest said. */
static void test_export_reused_cr3(void **state)
{
    (void)state;
    uint8_t sp[2][8 + 5];
    struct trace_event evs[4];
    trace_put32(sp[0], 0x1000), trace_put32(sp[0] + 4, 7), memcpy(sp[0] + 8, "first", 5);
    trace_put32(sp[1], 0x1000), trace_put32(sp[1] + 4, 8), memcpy(sp[1] + 8, "later", 5);
    struct trace_state user = { .cr3 = 0x1000, .cpl = 3, .cs = 0x1b, .ss = 0x23 };
    struct trace_state kern = { .cr3 = 0x1000, .cpl = 0, .cs = 0x08, .ss = 0x10 };
    for (unsigned k = 0; k < 4; k++) {
        struct trace_event ev = { .icount = 100 * (k + 1), .vector = 0x80 };
        ev.kind = k % 2 ? TR_IRET : TR_SOFTINT;
        ev.before = k % 2 ? kern : user;
        ev.after = k % 2 ? user : kern;
        evs[k] = ev;
    }
    struct trace_record recs[] = {
        rec(TREC_SPACE, sp[0], sizeof sp[0]), ev_rec(&evs[0]),
        ev_rec(&evs[1]),                       rec(TREC_SPACE, sp[1], sizeof sp[1]),
        ev_rec(&evs[2]),                       ev_rec(&evs[3]),
    };
    struct trace_file tf = { .recs = recs, .nrecs = 6, .nevents = 4 };
    tf.hdr.ips = 1000000;
    struct trace_ctx *t = trace_ctx_new(NULL, NULL);
    assert_non_null(t);
    char *json = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&json, &len);
    assert_non_null(out);
    export_perfetto(&tf, t, NULL, 0, out);
    fclose(out);
    trace_ctx_free(t);
    const char *a = strstr(json, "\"process_name\",\"pid\":1,\"tid\":1,\"args\":{\"name\":\"first (pid 7)\"");
    const char *b = strstr(json, "\"process_name\",\"pid\":2,\"tid\":2,\"args\":{\"name\":\"later (pid 8)\"");
    if (!a || !b)
        fail_msg("process tracks not as expected:\n%s", json);
    /* The later process's system call is on its own track, the first one's on the first. */
    const char *s1 = strstr(json, "\"pid\":1,\"tid\":1,\"ts\":100.000");
    const char *s2 = strstr(json, "\"pid\":2,\"tid\":2,\"ts\":300.000");
    if (!s1 || !s2)
        fail_msg("slices not on their process's track:\n%s", json);
    free(json);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_event_round_trip),
        cmocka_unit_test(test_triple_round_trip),
        cmocka_unit_test(test_event_record_encoders),
        cmocka_unit_test(test_event_appenders),
        cmocka_unit_test(test_crc32c),
        cmocka_unit_test(test_file_round_trip),
        cmocka_unit_test(test_inputs_only_file),
        cmocka_unit_test(test_every_prefix),
        cmocka_unit_test(test_every_damaged_byte),
        cmocka_unit_test(test_filters_and_names),
        cmocka_unit_test(test_reader_context),
        cmocka_unit_test(test_export_reused_cr3),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
