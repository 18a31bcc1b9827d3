/* Instruction semantics through the real cpu (cpu_run), against the SDM's pseudo-code:
 *
 *   LOOP/LOOPE/LOOPNE/JCXZ   vol. 2 "LOOP/LOOPcc", "Jcc": the count register is CX with a 16-bit
 *                            address size (0x67 in 32-bit code), ECX with a 32-bit one; the
 *                            other half of ECX is never read or written by a 16-bit count
 *   DAA/DAS                  vol. 2 "DAA", "DAS": the second step tests old_AL and old_CF, the
 *                            values before the first step changed them
 *   RCL/RCR                  vol. 2 "RCL/RCR/ROL/ROR": tempCOUNT = (COUNT AND 1FH) MOD 9 for
 *                            bytes, MOD 17 for words, (COUNT AND 1FH) for dwords; a masked
 *                            count of 0 changes no flag; OF is defined for a masked count of 1
 *
 * Each instruction has a table of cases whose expected values were worked out by hand from the
 * pseudo-code (the derivation is in each row's comment), and DAA/DAS and RCL/RCR also a sweep
 * over all inputs (DAA/DAS: every AL, CF and AF; RCL/RCR: a set of values, both CF, counts
 * 0..40 and 255, byte/word/dword, register and memory operands, CL, imm8 and the "by 1" forms)
 * against a model that follows the pseudo-code step by step (a loop of one-bit rotations, not
 * the implementation's formula).
 *
 * The machine: 1 MiB of RAM, the flat protected mode a Multiboot loader leaves, CPL 0, the code
 * under test at CODE. No case may raise an exception (the trace sink fails the test if one
 * does).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cpu/cpu.h"
#include "cpu/flags.h"
#include "devices/bus.h"

#define RAM_SIZE (1u << 20)
#define CODE 0x8000u
#define DATA 0x20000u

struct t {
    struct cpu c;
    struct bus bus;
    uint8_t *ram;
    unsigned deliveries;
    uint8_t last_vector;
};

static void sink(void *ctx, const struct trace_event *e)
{
    struct t *t = ctx;
    if (e->kind == TR_EXCEPTION || e->kind == TR_INTERRUPT || e->kind == TR_SOFTINT) {
        t->deliveries++;
        t->last_vector = e->vector;
        cpu_request_stop(&t->c);
    }
}

static int setup(void **state)
{
    struct t *t = calloc(1, sizeof *t);
    if (!t)
        return -1;
    t->ram = calloc(RAM_SIZE, 1);
    if (!t->ram)
        return -1;
    bus_init(&t->bus);
    if (cpu_init(&t->c, t->ram, RAM_SIZE, &t->bus))
        return -1;
    cpu_reset_protected_flat(&t->c, CODE);
    cpu_add_sink(&t->c, sink, t);
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    struct t *t = *state;
    cpu_free(&t->c);
    free(t->ram);
    free(t);
    return 0;
}

/* Puts code at `at` (the decoded-code cache does not see host writes: it is flushed). */
static void load(struct t *t, uint32_t at, const uint8_t *code, unsigned len)
{
    memcpy(t->ram + at, code, len);
    cpu_flush_decoded(&t->c);
}

/* Runs one instruction at `at` with EFLAGS = flags (arithmetic flags exact). */
static void step(struct t *t, uint32_t at, uint32_t flags)
{
    struct cpu *c = &t->c;
    c->eflags = flags | FL_R1;
    c->lf.op = LF_NONE;
    c->eip = at;
    t->deliveries = 0;
    cpu_run(c, 1);
    if (t->deliveries)
        fail_msg("unexpected exception %u", t->last_vector);
}

/* ---- LOOP, LOOPE, LOOPNE, JCXZ/JECXZ ---------------------------------------------------------
 *
 * SDM: Count is CX (address size 16) or ECX (32); Count <- Count - 1; LOOP branches when
 * Count != 0, LOOPE when also ZF = 1, LOOPNE when also ZF = 0; JCXZ/JECXZ branch when the count
 * register is 0 and do not change it. A taken branch with a 16-bit operand size truncates EIP to
 * 16 bits. Every row's rel8 is 0x10 unless the bytes say otherwise. */
struct loop_row {
    const char *name;
    uint8_t bytes[4];
    unsigned len;
    uint32_t at;       /* where the instruction is */
    uint32_t ecx;
    bool zf;
    uint32_t want_ecx;
    uint32_t want_eip;
};

#define AT CODE
#define NEXT(len) (CODE + (len))
#define TAKEN(len) (CODE + (len) + 0x10)

static const struct loop_row loop_rows[] = {
    /* CX = 1 -> 0: not taken, although ECX - 1 = 0x10000 is not 0; bits 16..31 stay */
    {"loop_a16_cx1_high_half_set", {0x67, 0xE2, 0x10}, 3, AT, 0x00010001, false, 0x00010000,
     NEXT(3)},
    /* CX = 0 -> 0xFFFF: taken; the borrow does not reach bit 16 */
    {"loop_a16_cx0_wraps_in_cx", {0x67, 0xE2, 0x10}, 3, AT, 0x00020000, false, 0x0002FFFF,
     TAKEN(3)},
    {"loop_a16_cx2", {0x67, 0xE2, 0x10}, 3, AT, 0xFFFF0002, false, 0xFFFF0001, TAKEN(3)},
    /* a 32-bit count: 0x10000 -> 0xFFFF, taken */
    {"loop_a32_ecx_10000", {0xE2, 0x10}, 2, AT, 0x00010000, false, 0x0000FFFF, TAKEN(2)},
    {"loop_a32_ecx1", {0xE2, 0x10}, 2, AT, 0x00000001, false, 0x00000000, NEXT(2)},
    /* rel8 = -2: back to itself; CX 1 -> 0 ends the loop */
    {"loop_a16_self_cx1", {0x67, 0xE2, 0xFD}, 3, AT, 0x00030001, false, 0x00030000, NEXT(3)},
    /* LOOPE: taken when CX != 0 after the decrement and ZF = 1 */
    {"loope_a16_zf1_cx1_high_half_set", {0x67, 0xE1, 0x10}, 3, AT, 0x00050001, true, 0x00050000,
     NEXT(3)},
    {"loope_a16_zf1_cx2", {0x67, 0xE1, 0x10}, 3, AT, 0x00050002, true, 0x00050001, TAKEN(3)},
    {"loope_a16_zf0_cx2", {0x67, 0xE1, 0x10}, 3, AT, 0x00050002, false, 0x00050001, NEXT(3)},
    {"loope_a32_zf1_ecx_10001", {0xE1, 0x10}, 2, AT, 0x00010001, true, 0x00010000, TAKEN(2)},
    /* LOOPNE: taken when CX != 0 after the decrement and ZF = 0 */
    {"loopne_a16_zf0_cx1_high_half_set", {0x67, 0xE0, 0x10}, 3, AT, 0x00010001, false,
     0x00010000, NEXT(3)},
    {"loopne_a16_zf0_cx0", {0x67, 0xE0, 0x10}, 3, AT, 0x00010000, false, 0x0001FFFF, TAKEN(3)},
    {"loopne_a16_zf1_cx3", {0x67, 0xE0, 0x10}, 3, AT, 0x00010003, true, 0x00010002, NEXT(3)},
    /* JCXZ (address size 16) tests CX, JECXZ (32) ECX; neither writes it */
    {"jcxz_a16_cx0_high_half_set", {0x67, 0xE3, 0x10}, 3, AT, 0x00010000, false, 0x00010000,
     TAKEN(3)},
    {"jcxz_a16_cx1", {0x67, 0xE3, 0x10}, 3, AT, 0xFFFF0001, false, 0xFFFF0001, NEXT(3)},
    {"jecxz_a32_ecx_10000", {0xE3, 0x10}, 2, AT, 0x00010000, false, 0x00010000, NEXT(2)},
    {"jecxz_a32_ecx0", {0xE3, 0x10}, 2, AT, 0x00000000, false, 0x00000000, TAKEN(2)},
    /* a 16-bit operand size truncates the target: 0x18000 + 3 + 0x10 -> 0x8013 */
    {"loop_o16_target_truncated", {0x66, 0xE2, 0x10}, 3, 0x18000, 0x00000002, false, 0x00000001,
     0x8013},
    {"jcxz_o16_a16_target_truncated", {0x66, 0x67, 0xE3, 0x10}, 4, 0x18000, 0x12340000, false,
     0x12340000, 0x8014},
};

static void loop_table(void **state)
{
    struct t *t = *state;
    for (size_t k = 0; k < sizeof loop_rows / sizeof loop_rows[0]; k++) {
        const struct loop_row *r = &loop_rows[k];
        load(t, r->at, r->bytes, r->len);
        t->c.r[ECX] = r->ecx;
        step(t, r->at, r->zf ? FL_ZF : 0);
        if (t->c.r[ECX] != r->want_ecx || t->c.eip != r->want_eip)
            fail_msg("%s: ECX %08x EIP %08x, want ECX %08x EIP %08x", r->name, t->c.r[ECX],
                     t->c.eip, r->want_ecx, r->want_eip);
        assert_int_equal(cpu_get_eflags(&t->c) & FL_ZF, r->zf ? FL_ZF : 0); /* flags untouched */
    }
}

/* ---- DAA, DAS ------------------------------------------------------------------------------ */

/* The SDM pseudo-code, step by step. OF is undefined; SF, ZF, PF come from the result. */
static void ref_daa(bool das, uint8_t al, bool cf, bool af, uint8_t *out, bool *cf_out,
                    bool *af_out)
{
    uint8_t old_al = al;
    bool old_cf = cf;
    cf = false;
    if ((al & 0x0F) > 9 || af) {
        unsigned wide = das ? (unsigned)al - 6u : (unsigned)al + 6u;
        cf = old_cf || wide > 0xFF; /* carry (DAA) or borrow (DAS, wraps above 0xFF) */
        al = (uint8_t)wide;
        af = true;
    } else {
        af = false;
    }
    if (old_al > 0x99 || old_cf) {
        al = (uint8_t)(das ? al - 0x60 : al + 0x60);
        cf = true;
    } else if (!das) {
        cf = false; /* DAA: "ELSE CF <- 0"; DAS keeps the first step's CF */
    }
    *out = al;
    *cf_out = cf;
    *af_out = af;
}

static uint32_t szp(uint8_t v)
{
    unsigned ones = 0;
    for (unsigned b = 0; b < 8; b++)
        ones += (v >> b) & 1;
    return (v == 0 ? FL_ZF : 0) | (v & 0x80 ? FL_SF : 0) | (ones % 2 == 0 ? FL_PF : 0);
}

struct bcd_row {
    const char *name;
    bool das;
    uint8_t al;
    bool cf, af;
    uint8_t want_al;
    bool want_cf, want_af;
};

static const struct bcd_row bcd_rows[] = {
    /* 94 AF=1: +6 = 9A; old_AL 94 <= 99 and old_CF = 0: no second step (the adjusted 9A would
     * say otherwise) */
    {"daa_94_af_second_step_uses_old_al", false, 0x94, false, true, 0x9A, false, true},
    /* 99 AF=1: +6 = 9F; old_AL 99 is not above 99: no second step */
    {"daa_99_af", false, 0x99, false, true, 0x9F, false, true},
    /* FA: low digit A > 9: +6 = 00 with a carry (CF = 1); old_AL FA > 99: +60 = 60 (the
     * adjusted 00 would skip it) */
    {"daa_fa_second_step_uses_old_al", false, 0xFA, false, false, 0x60, true, true},
    /* 9A: +6 = A0, then +60 = 00, CF = 1 */
    {"daa_9a", false, 0x9A, false, false, 0x00, true, true},
    {"daa_99_no_adjust", false, 0x99, false, false, 0x99, false, false},
    {"daa_0f", false, 0x0F, false, false, 0x15, false, true},
    {"daa_a0_high_only", false, 0xA0, false, false, 0x00, true, false},
    {"daa_00_cf", false, 0x00, true, false, 0x60, true, false},
    /* 00 CF=1 AF=1: +6 = 06, then +60 = 66 */
    {"daa_00_cf_af", false, 0x00, true, true, 0x66, true, true},
    /* 9A: -6 = 94 (no borrow); old_AL 9A > 99: -60 = 34, CF = 1 (the adjusted 94 would skip
     * it) */
    {"das_9a_second_step_uses_old_al", true, 0x9A, false, false, 0x34, true, true},
    /* 05 AF=1: -6 = FF with a borrow (CF = 1); old_AL 05 <= 99, old_CF = 0: no second step,
     * CF stays 1 from the first */
    {"das_05_af_borrow", true, 0x05, false, true, 0xFF, true, true},
    /* A0 AF=1: -6 = 9A; old_AL A0 > 99: -60 = 3A */
    {"das_a0_af", true, 0xA0, false, true, 0x3A, true, true},
    {"das_00_cf", true, 0x00, true, false, 0xA0, true, false},
    {"das_99_no_adjust", true, 0x99, false, false, 0x99, false, false},
    {"das_10_af", true, 0x10, false, true, 0x0A, false, true},
};

static void check_bcd(struct t *t, bool das, uint8_t al, bool cf, bool af, uint8_t want_al,
                      bool want_cf, bool want_af, const char *name)
{
    t->c.r[EAX] = 0xABCD1200u | al;
    step(t, CODE, (cf ? FL_CF : 0) | (af ? FL_AF : 0));
    uint32_t f = cpu_get_eflags(&t->c);
    uint32_t want_f = szp(want_al) | (want_cf ? FL_CF : 0) | (want_af ? FL_AF : 0);
    uint32_t got_f = f & (FL_CF | FL_AF | FL_ZF | FL_SF | FL_PF);
    if (t->c.r[EAX] != (0xABCD1200u | want_al) || got_f != want_f)
        fail_msg("%s %s AL=%02x CF=%d AF=%d: EAX %08x flags %03x, want AL %02x flags %03x", name,
                 das ? "das" : "daa", al, cf, af, t->c.r[EAX], got_f, want_al, want_f);
}

static void bcd_table(void **state)
{
    struct t *t = *state;
    for (int das = 0; das < 2; das++) {
        const uint8_t op = das ? 0x2F : 0x27;
        load(t, CODE, &op, 1);
        for (size_t k = 0; k < sizeof bcd_rows / sizeof bcd_rows[0]; k++) {
            const struct bcd_row *r = &bcd_rows[k];
            if (r->das != das)
                continue;
            /* the hand-worked row agrees with the pseudo-code model, and the cpu with both */
            uint8_t m;
            bool mcf, maf;
            ref_daa(r->das, r->al, r->cf, r->af, &m, &mcf, &maf);
            assert_int_equal(m, r->want_al);
            assert_int_equal(mcf, r->want_cf);
            assert_int_equal(maf, r->want_af);
            check_bcd(t, das, r->al, r->cf, r->af, r->want_al, r->want_cf, r->want_af, r->name);
        }
    }
}

static void bcd_sweep(void **state)
{
    struct t *t = *state;
    for (int das = 0; das < 2; das++) {
        const uint8_t op = das ? 0x2F : 0x27;
        load(t, CODE, &op, 1);
        for (unsigned v = 0; v < 1024; v++) {
            uint8_t al = (uint8_t)v, want;
            bool cf = v & 0x100, af = v & 0x200, wcf, waf;
            ref_daa(das, al, cf, af, &want, &wcf, &waf);
            check_bcd(t, das, al, cf, af, want, wcf, waf, "sweep");
        }
    }
}

/* ---- RCL, RCR -------------------------------------------------------------------------------- */

struct rot_ref {
    uint32_t res;
    bool cf;
    int of;          /* -1: undefined (masked count != 1) */
    bool unchanged;  /* masked count 0: no flag changes */
};

/* The SDM pseudo-code: one-bit rotations through CF, tempCOUNT times. */
static struct rot_ref ref_rotate(bool left, unsigned size, uint32_t val, bool cf, unsigned count)
{
    unsigned bits = 8 * size;
    uint32_t msb = 1u << (bits - 1), mask = size == 4 ? 0xFFFFFFFFu : (1u << bits) - 1;
    unsigned masked = count & 0x1F;
    unsigned temp = size == 1 ? masked % 9 : size == 2 ? masked % 17 : masked;
    struct rot_ref r = {val & mask, cf, -1, masked == 0};
    if (!left && masked == 1)
        r.of = ((r.res & msb) != 0) ^ r.cf; /* RCR: from the operand and CF before */
    while (temp--) {
        bool out;
        if (left) {
            out = (r.res & msb) != 0;
            r.res = ((r.res << 1) | (r.cf ? 1u : 0u)) & mask;
        } else {
            out = r.res & 1;
            r.res = (r.res >> 1) | (r.cf ? msb : 0);
        }
        r.cf = out;
    }
    if (left && masked == 1)
        r.of = ((r.res & msb) != 0) ^ r.cf; /* RCL: from the result and CF after */
    return r;
}

enum rot_form { BY_CL, BY_IMM, BY_1 };

/* Encodes rcl/rcr (ModRM.reg 2/3) on EAX/AX/AL (mem = 0) or on [ebx] (mem = 1). */
static unsigned encode_rot(uint8_t *b, bool left, unsigned size, enum rot_form form, bool mem,
                           unsigned count)
{
    unsigned n = 0;
    if (size == 2)
        b[n++] = 0x66;
    unsigned w = size == 1 ? 0 : 1;
    b[n++] = (uint8_t)((form == BY_CL ? 0xD2 : form == BY_1 ? 0xD0 : 0xC0) | w);
    b[n++] = (uint8_t)((mem ? 0x00 : 0xC0) | (left ? 2 : 3) << 3 | (mem ? 3 : 0));
    if (form == BY_IMM)
        b[n++] = (uint8_t)count;
    return n;
}

static void check_rot(struct t *t, bool left, unsigned size, enum rot_form form, bool mem,
                      uint32_t val, bool cf, unsigned count, const struct rot_ref *want,
                      const char *name)
{
    struct cpu *c = &t->c;
    uint32_t mask = size == 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
    const uint32_t fill = 0x5A5A5A5Au;
    c->r[EAX] = (fill & ~mask) | (val & mask);
    c->r[ECX] = 0xFFFFFF00u | count; /* only CL counts */
    c->r[EBX] = DATA;
    uint32_t before = FL_PF | FL_ZF | FL_SF | FL_AF | (cf ? FL_CF : 0) | FL_OF;
    memcpy(t->ram + DATA, &c->r[EAX], 4);
    step(t, CODE, before);
    uint32_t got;
    if (mem) {
        memcpy(&got, t->ram + DATA, 4);
        assert_int_equal(c->r[EAX], (fill & ~mask) | (val & mask));
    } else {
        got = c->r[EAX];
    }
    uint32_t f = cpu_get_eflags(c);
    bool bad = got != ((fill & ~mask) | want->res) || ((f & FL_CF) != 0) != want->cf;
    if (want->of >= 0 && ((f & FL_OF) != 0) != (want->of != 0))
        bad = true;
    if (want->unchanged && (f & FL_ARITH) != before)
        bad = true;
    if (bad)
        fail_msg("%s: %s%u %s%s val %08x CF %d count %u: got %08x CF %d OF %d flags %03x, want "
                 "%08x CF %d OF %d%s",
                 name, left ? "rcl" : "rcr", 8 * size, mem ? "[mem] " : "",
                 form == BY_CL ? "cl" : form == BY_1 ? "1" : "imm8", val & mask, cf, count,
                 got & mask, (f & FL_CF) != 0, (f & FL_OF) != 0, f & FL_ARITH, want->res,
                 want->cf, want->of, want->unchanged ? " (flags unchanged)" : "");
}

struct rot_row {
    const char *name;
    bool left;
    unsigned size;
    uint32_t val;
    bool cf;
    unsigned count;
    uint32_t want;
    bool want_cf;
    int want_of; /* -1: not checked (undefined) */
};

static const struct rot_row rot_rows[] = {
    /* bytes: the 9-bit value CF:AL turns by (count & 1F) mod 9 */
    {"rcl8_by_8", true, 1, 0x01, false, 8, 0x00, true, -1},   /* bit 0 -> bit 8 = CF */
    {"rcl8_by_9", true, 1, 0x01, false, 9, 0x01, false, -1},  /* 9 mod 9 = 0: unchanged */
    {"rcl8_by_10", true, 1, 0x01, false, 10, 0x02, false, -1}, /* like 1 */
    {"rcl8_by_17", true, 1, 0x01, false, 17, 0x00, true, -1}, /* 17 mod 9 = 8 */
    {"rcl8_by_31", true, 1, 0x01, false, 31, 0x10, false, -1}, /* 31 mod 9 = 4 */
    {"rcl8_by_32", true, 1, 0x01, true, 32, 0x01, true, -1},  /* 32 & 1F = 0: unchanged */
    /* CF:AL = 1_1000_0000; left 8 of 9 bits = right 1: 0_1100_0000 */
    {"rcl8_80_cf_by_8", true, 1, 0x80, true, 8, 0xC0, false, -1},
    {"rcl8_by_1_of", true, 1, 0x40, false, 1, 0x80, false, 1},  /* OF = MSB(80) ^ CF(0) */
    {"rcr8_by_8", false, 1, 0x01, false, 8, 0x02, false, -1},  /* right 8 = left 1 */
    {"rcr8_by_9", false, 1, 0x80, false, 9, 0x80, false, -1},  /* unchanged */
    {"rcr8_by_10", false, 1, 0x80, false, 10, 0x40, false, -1}, /* like 1 */
    {"rcr8_by_17", false, 1, 0x01, false, 17, 0x02, false, -1}, /* 17 mod 9 = 8 */
    {"rcr8_by_31", false, 1, 0x10, false, 31, 0x01, false, -1}, /* 31 mod 9 = 4 */
    {"rcr8_by_1_of", false, 1, 0x80, true, 1, 0xC0, false, 0}, /* OF = MSB(80) ^ CF(1) = 0 */
    /* words: 17-bit value, count mod 17 */
    {"rcl16_by_16", true, 2, 0x0001, false, 16, 0x0000, true, -1},
    {"rcl16_by_17", true, 2, 0x0001, false, 17, 0x0001, false, -1},
    {"rcl16_by_18", true, 2, 0x0001, false, 18, 0x0002, false, -1},
    {"rcl16_by_31", true, 2, 0x0001, false, 31, 0x4000, false, -1}, /* 31 mod 17 = 14 */
    {"rcr16_by_17", false, 2, 0x8000, true, 17, 0x8000, true, -1},
    {"rcr16_by_16", false, 2, 0x0001, false, 16, 0x0002, false, -1}, /* right 16 = left 1 */
    /* dwords: 33-bit value, count & 1F only */
    {"rcl32_by_31", true, 4, 0x00000001, false, 31, 0x80000000, false, -1}, /* = right 2 */
    {"rcr32_by_31", false, 4, 0x80000000, false, 31, 0x00000001, false, -1}, /* = left 2 */
    {"rcl32_by_33", true, 4, 0x80000000, false, 33, 0x00000000, true, 1},  /* 33 & 1F = 1 */
};

static void rot_table(void **state)
{
    struct t *t = *state;
    for (size_t k = 0; k < sizeof rot_rows / sizeof rot_rows[0]; k++) {
        const struct rot_row *r = &rot_rows[k];
        struct rot_ref want = {r->want, r->want_cf, r->want_of, (r->count & 0x1F) == 0};
        struct rot_ref model = ref_rotate(r->left, r->size, r->val, r->cf, r->count);
        assert_int_equal(model.res, want.res);
        assert_int_equal(model.cf, want.cf);
        if (want.of >= 0)
            assert_int_equal(model.of, want.of);
        for (int form = BY_CL; form <= BY_IMM; form++) {
            uint8_t b[8];
            unsigned n = encode_rot(b, r->left, r->size, (enum rot_form)form, false, r->count);
            load(t, CODE, b, n);
            check_rot(t, r->left, r->size, (enum rot_form)form, false, r->val, r->cf, r->count,
                      &want, r->name);
        }
    }
}

static void rot_sweep(void **state)
{
    struct t *t = *state;
    static const uint32_t vals[] = {0x00000000, 0x00000001, 0x80000000, 0x80000001, 0x12345678,
                                    0xA5A5A5A5, 0xFFFFFFFF, 0x7FFFFFFF, 0x00008000, 0x00000080,
                                    0xDEADBEEF, 0x0F0F0F0F};
    unsigned counts[43];
    unsigned nc = 0;
    for (unsigned k = 0; k <= 40; k++)
        counts[nc++] = k;
    counts[nc++] = 255;
    counts[nc++] = 64 + 9;
    unsigned runs = 0;
    for (int left = 0; left < 2; left++)
        for (unsigned size = 1; size <= 4; size *= 2)
            for (int form = BY_CL; form <= BY_1; form++)
                for (int mem = 0; mem < 2; mem++)
                    for (unsigned ci = 0; ci < (form == BY_1 ? 1u : nc); ci++) {
                        unsigned count = form == BY_1 ? 1 : counts[ci];
                        uint8_t b[8];
                        unsigned n = encode_rot(b, left, size, (enum rot_form)form, mem, count);
                        if (form != BY_CL || ci == 0)
                            load(t, CODE, b, n);
                        for (size_t v = 0; v < sizeof vals / sizeof vals[0]; v++)
                            for (int cf = 0; cf < 2; cf++) {
                                struct rot_ref want = ref_rotate(left, size, vals[v], cf, count);
                                check_rot(t, left, size, (enum rot_form)form, mem, vals[v], cf,
                                          count, &want, "sweep");
                                runs++;
                            }
                    }
    print_message("rcl/rcr sweep: %u cases\n", runs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(loop_table, setup, teardown),
        cmocka_unit_test_setup_teardown(bcd_table, setup, teardown),
        cmocka_unit_test_setup_teardown(bcd_sweep, setup, teardown),
        cmocka_unit_test_setup_teardown(rot_table, setup, teardown),
        cmocka_unit_test_setup_teardown(rot_sweep, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
