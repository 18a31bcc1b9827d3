/* MUL, IMUL (one-, two- and three-operand forms), DIV, IDIV.
 * Flags: CF = OF = "the result did not fit the destination"; SF, ZF, AF, PF are undefined (set
 * here from the low half of the result, AF = 0). DIV/IDIV leave every flag undefined (unchanged
 * here) and raise #DE for a zero divisor or a quotient that does not fit. */
#include "cpu/ops.h"

static inline __attribute__((always_inline)) void mul_flags(struct cpu *c, unsigned s,
                                                           uint32_t low, int overflow)
{
    uint32_t f = 0;
    low &= size_mask(s);
    if (overflow)
        f |= FL_CF | FL_OF;
    if (low == 0)
        f |= FL_ZF;
    if (low & sign_bit(s))
        f |= FL_SF;
    if (parity8(low))
        f |= FL_PF;
    flags_set_arith(c, f);
}

static int64_t sext(uint32_t v, unsigned s)
{
    return s == 4 ? (int64_t)(int32_t)v : s == 2 ? (int64_t)(int16_t)v : (int64_t)(int8_t)v;
}

/* Writes a double-width product: AX for bytes, DX:AX for words, EDX:EAX for dwords. */
static void set_wide(struct cpu *c, unsigned s, uint64_t p)
{
    if (s == 1) {
        set_reg(c, EAX, 2, (uint32_t)p);
    } else {
        set_reg(c, EAX, s, (uint32_t)p);
        set_reg(c, EDX, s, (uint32_t)(p >> (8 * s)));
    }
}

OP(mul)
{
    unsigned s = i->osize;
    uint64_t p = (uint64_t)get_reg(c, EAX, s) * rd_rm(c, i, s);
    set_wide(c, s, p);
    mul_flags(c, s, (uint32_t)p, (p >> (8 * s)) != 0);
}

OP(imul1)
{
    unsigned s = i->osize;
    int64_t p = sext(get_reg(c, EAX, s), s) * sext(rd_rm(c, i, s), s);
    set_wide(c, s, (uint64_t)p);
    mul_flags(c, s, (uint32_t)p, sext((uint32_t)p & size_mask(s), s) != p);
}

static void imul_to_reg(struct cpu *c, const struct insn *i, int64_t a, int64_t b)
{
    unsigned s = i->osize;
    int64_t p = a * b;
    set_reg(c, i->reg, s, (uint32_t)p);
    mul_flags(c, s, (uint32_t)p, sext((uint32_t)p & size_mask(s), s) != p);
}

/* IMUL r32, r/m32 with a register or a flat, TLB-hit memory operand within one page (32-bit
 * addressing); false, having changed nothing, otherwise. */
static inline bool imul_GE_fast(struct cpu *c, const struct insn *i)
{
    uint32_t b;
    if (i->modreg) {
        b = c->r[i->rm];
    } else {
        if (i->asize != 4)
            return false;
        uint8_t *p = form_host(c, i, FORM_X, 4, TLB_R_S); /* index NOREG: c->r[NOREG] = 0 */
        if (!p)
            return false;
        b = host_load(p, 4);
    }
    int64_t p = (int64_t)(int32_t)c->r[i->reg] * (int32_t)b;
    c->r[i->reg] = (uint32_t)p;
    mul_flags(c, 4, (uint32_t)p, (int64_t)(int32_t)(uint32_t)p != p);
    return true;
}

OP_SIZED_FAST(imul_GE)
{
    imul_to_reg(c, i, sext(get_reg(c, i->reg, s), s), sext(rd_rm(c, i, s), s));
}

OP(imul_GEI)
{
    unsigned s = i->osize;
    imul_to_reg(c, i, sext(rd_rm(c, i, s), s), sext(i->imm & size_mask(s), s));
}

OP(div)
{
    unsigned s = i->osize;
    uint64_t divisor = rd_rm(c, i, s);
    uint64_t dividend = s == 1 ? c->r[EAX] & 0xFFFF
                      : ((uint64_t)get_reg(c, EDX, s) << (8 * s)) | get_reg(c, EAX, s);
    if (divisor == 0)
        cpu_raise(c, EXC_DE, false, 0);
    uint64_t q = dividend / divisor, r = dividend % divisor;
    if (q > size_mask(s))
        cpu_raise(c, EXC_DE, false, 0);
    if (s == 1) {
        set_reg(c, EAX, 2, (uint32_t)((r << 8) | q));
    } else {
        set_reg(c, EAX, s, (uint32_t)q);
        set_reg(c, EDX, s, (uint32_t)r);
    }
}

OP(idiv)
{
    unsigned s = i->osize;
    int64_t divisor = sext(rd_rm(c, i, s), s);
    int64_t dividend;
    if (s == 1)
        dividend = (int16_t)(c->r[EAX] & 0xFFFF);
    else if (s == 2)
        dividend = (int32_t)((get_reg(c, EDX, 2) << 16) | get_reg(c, EAX, 2));
    else
        dividend = (int64_t)(((uint64_t)c->r[EDX] << 32) | c->r[EAX]);
    if (divisor == 0)
        cpu_raise(c, EXC_DE, false, 0);
    /* INT64_MIN / -1 cannot happen here: a 64-bit dividend with a 32-bit divisor of -1 has a
     * quotient that does not fit 32 bits, caught below; compute it without host overflow. */
    if (dividend == INT64_MIN && divisor == -1)
        cpu_raise(c, EXC_DE, false, 0);
    int64_t q = dividend / divisor, r = dividend % divisor;
    int64_t lo = -(int64_t)sign_bit(s), hi = (int64_t)sign_bit(s) - 1;
    if (q < lo || q > hi)
        cpu_raise(c, EXC_DE, false, 0);
    if (s == 1) {
        set_reg(c, EAX, 2, (((uint32_t)r & 0xFF) << 8) | ((uint32_t)q & 0xFF));
    } else {
        set_reg(c, EAX, s, (uint32_t)q);
        set_reg(c, EDX, s, (uint32_t)r);
    }
}
