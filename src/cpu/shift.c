/* Shifts and rotates: ROL ROR RCL RCR SHL/SAL SHR SAR (grp2), SHLD, SHRD.
 *
 * The count is masked to 5 bits; a masked count of 0 changes nothing (not even flags).
 * SHL/SHR/SAR: CF = last bit shifted out, SF ZF PF from the result, OF defined for a count of 1
 * (SHL: MSB(result) ^ CF; SHR: MSB(original); SAR: 0), AF undefined (0 here).
 * ROL/ROR: only CF and OF change; RCL/RCR rotate through CF (count mod 9/17 for bytes/words).
 * SHLD/SHRD: as shifts, with the bits coming from the second operand. */
#include "cpu/ops.h"

static uint32_t szp(unsigned s, uint32_t r)
{
    r &= size_mask(s);
    return (r == 0 ? FL_ZF : 0) | ((r & sign_bit(s)) ? FL_SF : 0) | (parity8(r) ? FL_PF : 0);
}

/* Sets CF and OF, keeping the other flags. */
static void set_cf_of(struct cpu *c, unsigned cf, unsigned of)
{
    flags_materialize(c);
    c->eflags = (c->eflags & ~(FL_CF | FL_OF)) | (cf ? FL_CF : 0) | (of ? FL_OF : 0);
}

static inline __attribute__((always_inline)) void do_shift(struct cpu *c, const struct insn *i,
                                                          unsigned s, unsigned count)
{
    unsigned bits = 8 * s, op = i->reg;
    count &= 31;
    uint32_t m = size_mask(s), sb = sign_bit(s);
    uint32_t a = rd_rm_rmw(c, i, s);
    if (count == 0)
        return;
    uint32_t r, cf, of;
    switch (op) {
    case 0: { /* ROL */
        unsigned n = count & (bits - 1);
        r = n ? ((a << n) | (a >> (bits - n))) & m : a;
        cf = r & 1;
        of = ((r & sb) != 0) ^ cf;
        wr_rm(c, i, s, r);
        set_cf_of(c, cf, of);
        return;
    }
    case 1: { /* ROR */
        unsigned n = count & (bits - 1);
        r = n ? ((a >> n) | (a << (bits - n))) & m : a;
        cf = (r & sb) != 0;
        of = cf ^ ((r & (sb >> 1)) != 0);
        wr_rm(c, i, s, r);
        set_cf_of(c, cf, of);
        return;
    }
    case 2: { /* RCL: rotate the (bits+1)-bit value CF:a left */
        unsigned n = bits == 32 ? count : count % (bits + 1);
        uint64_t v = ((uint64_t)get_cf(c) << bits) | a;
        uint64_t wide = (1ull << (bits + 1)) - 1;
        if (n)
            v = ((v << n) | (v >> (bits + 1 - n))) & wide;
        r = (uint32_t)v & m;
        cf = (unsigned)(v >> bits) & 1;
        of = ((r & sb) != 0) ^ cf;
        wr_rm(c, i, s, r);
        set_cf_of(c, cf, of);
        return;
    }
    case 3: { /* RCR */
        unsigned n = bits == 32 ? count : count % (bits + 1);
        unsigned cf_in = get_cf(c);
        uint64_t v = ((uint64_t)cf_in << bits) | a;
        uint64_t wide = (1ull << (bits + 1)) - 1;
        if (n)
            v = ((v >> n) | (v << (bits + 1 - n))) & wide;
        r = (uint32_t)v & m;
        cf = (unsigned)(v >> bits) & 1;
        of = ((a & sb) != 0) ^ cf_in; /* defined for count 1: MSB(original) ^ CF(original) */
        wr_rm(c, i, s, r);
        set_cf_of(c, cf, of);
        return;
    }
    case 4: case 6: /* SHL/SAL */
        r = (uint32_t)((uint64_t)a << count) & m;
        wr_rm(c, i, s, r);
        lf_set(c, LF_SHL, s, r, a, count, 0);
        return;
    case 5: /* SHR */
        r = (uint32_t)((uint64_t)a >> count) & m;
        wr_rm(c, i, s, r);
        lf_set(c, LF_SHR, s, r, a, count, 0);
        return;
    default: { /* SAR */
        int64_t sa = (int64_t)(a ^ sb) - (int64_t)sb;
        r = (uint32_t)(sa >> (count < bits ? count : bits)) & m;
        wr_rm(c, i, s, r);
        lf_set(c, LF_SAR, s, r, a, count, 0);
        return;
    }
    }
}

/* SHL/SAL, SHR, SAR of a 32-bit register (do_shift's cases, without the operand access or the
 * rotates); false, having changed nothing, for anything else. */
static inline bool shift_r32_fast(struct cpu *c, const struct insn *i, unsigned count)
{
    unsigned op = i->reg;
    if (!i->modreg || op < 4)
        return false;
    count &= 31;
    if (count == 0)
        return true;
    uint32_t a = c->r[i->rm], r;
    if (op == 5)
        r = a >> count;
    else if (op == 7)
        r = (uint32_t)((int32_t)a >> count);
    else
        r = a << count;
    c->r[i->rm] = r;
    lf_set(c, op == 5 ? LF_SHR : op == 7 ? LF_SAR : LF_SHL, 4, r, a, count, 0);
    return true;
}

static inline bool shift_imm_fast(struct cpu *c, const struct insn *i)
{
    return shift_r32_fast(c, i, i->imm & 0xFF);
}

static inline bool shift_1_fast(struct cpu *c, const struct insn *i)
{
    return shift_r32_fast(c, i, 1);
}

OP_SIZED_FAST(shift_imm) { do_shift(c, i, s, i->imm & 0xFF); }
OP_SIZED_FAST(shift_1) { do_shift(c, i, s, 1); }
OP_SIZED(shift_cl) { do_shift(c, i, s, c->r[ECX] & 0xFF); }

/* SHL/SAL, SHR, SAR of a 32-bit register by a count known at decode to be 1..31 (an immediate,
 * or 1) or by CL (0: nothing changes, not even flags), the flags recorded: one handler per
 * operation and count source, picked by shift_form (icache.c), so that none tests the operation
 * or the count's source. Handlers for any instruction (not middle-of-block ones). */
#define SHIFT_R32(name, LF, EXPR)                                                          \
    static void op_##name##_r32_imm(struct cpu *c, const struct insn *i)                   \
    {                                                                                      \
        uint32_t a = c->r[i->rm];                                                          \
        unsigned n = i->imm & 31;                                                          \
        uint32_t r = (EXPR);                                                               \
        c->r[i->rm] = r;                                                                   \
        lf_set(c, LF, 4, r, a, n, 0);                                                      \
        insn_go(c, i);                                                                     \
    }                                                                                      \
    static void op_##name##_r32_1(struct cpu *c, const struct insn *i)                     \
    {                                                                                      \
        uint32_t a = c->r[i->rm];                                                          \
        unsigned n = 1;                                                                    \
        uint32_t r = (EXPR);                                                               \
        c->r[i->rm] = r;                                                                   \
        lf_set(c, LF, 4, r, a, n, 0);                                                      \
        insn_go(c, i);                                                                     \
    }                                                                                      \
    static void op_##name##_r32_cl(struct cpu *c, const struct insn *i)                    \
    {                                                                                      \
        unsigned n = c->r[ECX] & 31;                                                       \
        if (n) {                                                                           \
            uint32_t a = c->r[i->rm];                                                      \
            uint32_t r = (EXPR);                                                           \
            c->r[i->rm] = r;                                                               \
            lf_set(c, LF, 4, r, a, n, 0);                                                  \
        }                                                                                  \
        insn_go(c, i);                                                                     \
    }
SHIFT_R32(shl, LF_SHL, a << n)
SHIFT_R32(shr, LF_SHR, a >> n)
SHIFT_R32(sar, LF_SAR, (uint32_t)((int32_t)a >> n))
#undef SHIFT_R32

insn_fn shift_form(const struct insn *i)
{
    static const insn_fn by_op[3][4] = {
        {op_shl_r32_imm, op_shr_r32_imm, op_shl_r32_imm, op_sar_r32_imm},
        {op_shl_r32_1, op_shr_r32_1, op_shl_r32_1, op_sar_r32_1},
        {op_shl_r32_cl, op_shr_r32_cl, op_shl_r32_cl, op_sar_r32_cl},
    };
    if (!i->modreg || i->reg < 4)
        return i->fn; /* memory; the rotates */
    if (i->fn == op_shift_imm32 && (i->imm & 31))
        return by_op[0][i->reg - 4];
    if (i->fn == op_shift_132)
        return by_op[1][i->reg - 4];
    if (i->fn == op_shift_cl32)
        return by_op[2][i->reg - 4];
    return i->fn;
}

/* SHLD/SHRD r/m, r, imm8|CL (0F A4/A5, AC/AD: odd opcodes take CL). For 16-bit operands with a
 * count above 16 the result is undefined; it is computed here as a 32-bit funnel shift of
 * dest:src:dest, as Intel processors do. */
static void shxd(struct cpu *c, const struct insn *i, int left)
{
    unsigned s = i->osize, bits = 8 * s;
    unsigned count = ((opcode_table[i->id].key & 1) ? c->r[ECX] : i->imm) & 31;
    uint32_t a = rd_rm_rmw(c, i, s), b = get_reg(c, i->reg, s);
    if (count == 0)
        return;
    uint32_t m = size_mask(s), sb = sign_bit(s), r;
    unsigned cf;
    if (s == 4) {
        uint64_t v;
        if (left) {
            v = ((uint64_t)a << 32) | b;
            r = (uint32_t)(v << count >> 32);
            cf = (a >> (32 - count)) & 1;
        } else {
            v = ((uint64_t)b << 32) | a;
            r = (uint32_t)(v >> count);
            cf = (a >> (count - 1)) & 1;
        }
    } else {
        /* 48-bit funnel: dest:src:dest for SHLD, dest:src:dest read the other way for SHRD */
        uint64_t v;
        if (left) {
            v = ((uint64_t)a << 32) | ((uint64_t)b << 16) | a;
            r = (uint32_t)((v << count) >> 32) & m;
            cf = (unsigned)((v << (count - 1)) >> 47) & 1;
        } else {
            v = ((uint64_t)a << 32) | ((uint64_t)b << 16) | a;
            r = (uint32_t)(v >> count) & m;
            cf = (unsigned)(v >> (count - 1)) & 1;
        }
        (void)bits;
    }
    unsigned of = ((a ^ r) & sb) != 0;
    wr_rm(c, i, s, r);
    flags_set_arith(c, szp(s, r) | (cf ? FL_CF : 0) | (of ? FL_OF : 0));
}

OP(shld) { shxd(c, i, 1); }
OP(shrd) { shxd(c, i, 0); }
