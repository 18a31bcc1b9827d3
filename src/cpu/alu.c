/* Integer arithmetic and logic: ADD..CMP, TEST, INC/DEC, NOT/NEG, XADD, CMPXCHG(8B), flag
 * instructions, SETcc/CMOVcc and the BCD adjustments. */
#include "cpu/ops.h"

enum { A_ADD, A_OR, A_ADC, A_SBB, A_AND, A_SUB, A_XOR, A_CMP };

static inline uint32_t alu_res(unsigned op, uint32_t a, uint32_t b, unsigned cf)
{
    switch (op) {
    case A_ADD: return a + b;
    case A_OR: return a | b;
    case A_ADC: return a + b + cf;
    case A_SBB: return a - b - cf;
    case A_AND: return a & b;
    case A_XOR: return a ^ b;
    default: return a - b; /* SUB, CMP */
    }
}

static inline void alu_flags(struct cpu *c, unsigned op, unsigned size, uint32_t r, uint32_t a,
                             uint32_t b, unsigned cf)
{
    switch (op) {
    case A_ADD: lf_set(c, LF_ADD, size, r, a, b, 0); break;
    case A_ADC: lf_set(c, LF_ADD, size, r, a, b, cf); break;
    case A_SBB: lf_set(c, LF_SUB, size, r, a, b, cf); break;
    case A_SUB: case A_CMP: lf_set(c, LF_SUB, size, r, a, b, 0); break;
    default: lf_set(c, LF_LOGIC, size, r, a, b, 0); break;
    }
}

#define CARRY_IN(op) (((op) == A_ADC || (op) == A_SBB) ? get_cf(c) : 0u)

/* Each ALU operation in four forms: E <- E op G, G <- G op E, acc <- acc op imm, E <- E op imm.
 * The destination is written before the flags, so a faulting store leaves the flags alone. */
#define ALU_HANDLERS(name, OPN)                                                   \
    OP_SIZED(name##_EG)                                                           \
    {                                                                             \
        uint32_t a = (OPN) == A_CMP ? rd_rm(c, i, s) : rd_rm_rmw(c, i, s);        \
        uint32_t b = get_reg(c, i->reg, s);                                       \
        unsigned cf = CARRY_IN(OPN);                                              \
        uint32_t r = alu_res(OPN, a, b, cf) & size_mask(s);                       \
        if ((OPN) != A_CMP)                                                       \
            wr_rm(c, i, s, r);                                                    \
        alu_flags(c, OPN, s, r, a, b, cf);                                        \
    }                                                                             \
    OP_SIZED(name##_GE)                                                           \
    {                                                                             \
        uint32_t a = get_reg(c, i->reg, s), b = rd_rm(c, i, s);                   \
        unsigned cf = CARRY_IN(OPN);                                              \
        uint32_t r = alu_res(OPN, a, b, cf) & size_mask(s);                       \
        if ((OPN) != A_CMP)                                                       \
            set_reg(c, i->reg, s, r);                                             \
        alu_flags(c, OPN, s, r, a, b, cf);                                        \
    }                                                                             \
    OP_SIZED(name##_AI)                                                           \
    {                                                                             \
        uint32_t a = get_reg(c, EAX, s), b = i->imm & size_mask(s);               \
        unsigned cf = CARRY_IN(OPN);                                              \
        uint32_t r = alu_res(OPN, a, b, cf) & size_mask(s);                       \
        if ((OPN) != A_CMP)                                                       \
            set_reg(c, EAX, s, r);                                                \
        alu_flags(c, OPN, s, r, a, b, cf);                                        \
    }                                                                             \
    OP_SIZED(name##_EI)                                                           \
    {                                                                             \
        uint32_t a = (OPN) == A_CMP ? rd_rm(c, i, s) : rd_rm_rmw(c, i, s);        \
        uint32_t b = i->imm & size_mask(s);                                       \
        unsigned cf = CARRY_IN(OPN);                                              \
        uint32_t r = alu_res(OPN, a, b, cf) & size_mask(s);                       \
        if ((OPN) != A_CMP)                                                       \
            wr_rm(c, i, s, r);                                                    \
        alu_flags(c, OPN, s, r, a, b, cf);                                        \
    }

ALU_HANDLERS(add, A_ADD)
ALU_HANDLERS(or, A_OR)
ALU_HANDLERS(adc, A_ADC)
ALU_HANDLERS(sbb, A_SBB)
ALU_HANDLERS(and, A_AND)
ALU_HANDLERS(sub, A_SUB)
ALU_HANDLERS(xor, A_XOR)
ALU_HANDLERS(cmp, A_CMP)

/* The same by operand form (forms.def, OP_FORMS in ops.h), for the operations without a carry
 * in. A memory destination is looked up once, for writing (a write hit is also a read hit). */
/* A destination in the ModRM operand, the source B (a register or the immediate). */
#define ALU_FORM_E(fname, OPN, B)                                                 \
    OP_FORMS_B(fname)                                                             \
    {                                                                             \
        uint32_t a, b = (B), r;                                                   \
        if (form == FORM_R) {                                                     \
            a = get_reg(c, i->rm, s);                                             \
            r = alu_res(OPN, a, b, 0) & size_mask(s);                             \
            if ((OPN) != A_CMP)                                                   \
                set_reg(c, i->rm, s, r);                                          \
        } else {                                                                  \
            uint8_t *p = form_host(c, i, form, s,                                 \
                                   (OPN) == A_CMP ? TLB_R_S : TLB_W_S);           \
            if (!p)                                                               \
                return false;                                                     \
            a = host_load(p, s);                                                  \
            r = alu_res(OPN, a, b, 0) & size_mask(s);                             \
            if ((OPN) != A_CMP)                                                   \
                host_store(p, s, r);                                              \
        }                                                                         \
        alu_flags(c, OPN, s, r, a, b, 0);                                         \
        return true;                                                              \
    }

/* The same by operand form (forms.def, OP_FORMS in ops.h), for the operations without a carry
 * in. A memory destination is looked up once, for writing (a write hit is also a read hit). */
#define ALU_FORMS(name, OPN)                                                      \
    ALU_FORM_E(name##_EG, OPN, get_reg(c, i->reg, s))                             \
    OP_FORMS_B(name##_GE)                                                         \
    {                                                                             \
        uint32_t a = get_reg(c, i->reg, s), b;                                    \
        if (form == FORM_R) {                                                     \
            b = get_reg(c, i->rm, s);                                             \
        } else {                                                                  \
            uint8_t *p = form_host(c, i, form, s, TLB_R_S);                       \
            if (!p)                                                               \
                return false;                                                     \
            b = host_load(p, s);                                                  \
        }                                                                         \
        uint32_t r = alu_res(OPN, a, b, 0) & size_mask(s);                        \
        if ((OPN) != A_CMP)                                                       \
            set_reg(c, i->reg, s, r);                                             \
        alu_flags(c, OPN, s, r, a, b, 0);                                         \
        return true;                                                              \
    }                                                                             \
    ALU_FORM_E(name##_EI, OPN, i->imm & size_mask(s))

ALU_FORMS(add, A_ADD)
ALU_FORMS(or, A_OR)
ALU_FORMS(and, A_AND)
ALU_FORMS(sub, A_SUB)
ALU_FORMS(xor, A_XOR)
ALU_FORMS(cmp, A_CMP)

OP_SIZED(test_EG)
{
    uint32_t r = rd_rm(c, i, s) & get_reg(c, i->reg, s);
    lf_set(c, LF_LOGIC, s, r, 0, 0, 0);
}

OP_SIZED(test_AI)
{
    uint32_t r = get_reg(c, EAX, s) & i->imm & size_mask(s);
    lf_set(c, LF_LOGIC, s, r, 0, 0, 0);
}

OP_SIZED(test_EI)
{
    uint32_t r = rd_rm(c, i, s) & i->imm & size_mask(s);
    lf_set(c, LF_LOGIC, s, r, 0, 0, 0);
}

OP_FORMS_B(test_EG)
{
    uint32_t a;
    if (form == FORM_R) {
        a = get_reg(c, i->rm, s);
    } else {
        uint8_t *p = form_host(c, i, form, s, TLB_R_S);
        if (!p)
            return false;
        a = host_load(p, s);
    }
    lf_set(c, LF_LOGIC, s, a & get_reg(c, i->reg, s), 0, 0, 0);
    return true;
}

OP_FORMS_B(test_EI)
{
    uint32_t a;
    if (form == FORM_R) {
        a = get_reg(c, i->rm, s);
    } else {
        uint8_t *p = form_host(c, i, form, s, TLB_R_S);
        if (!p)
            return false;
        a = host_load(p, s);
    }
    lf_set(c, LF_LOGIC, s, a & i->imm & size_mask(s), 0, 0, 0);
    return true;
}

/* INC/DEC leave CF alone: it is carried in lf.cf_in. */
static void incdec_flags(struct cpu *c, int inc, unsigned s, uint32_t r, uint32_t a, unsigned cf)
{
    lf_set(c, inc ? LF_INC : LF_DEC, s, r, a, 1, cf);
}

/* INC/DEC r32 when CF is known without lf_compute (get_cf_quick): no stack frame. */
static inline bool incdec_r_fast(struct cpu *c, const struct insn *i, int inc)
{
    int cf = get_cf_quick(c);
    if (cf < 0)
        return false;
    uint32_t a = c->r[i->reg], r = inc ? a + 1 : a - 1;
    c->r[i->reg] = r;
    incdec_flags(c, inc, 4, r, a, (unsigned)cf);
    return true;
}

static inline bool inc_r_fast(struct cpu *c, const struct insn *i)
{
    return incdec_r_fast(c, i, 1);
}

static inline bool dec_r_fast(struct cpu *c, const struct insn *i)
{
    return incdec_r_fast(c, i, 0);
}

OP_SIZED_FAST(inc_r)
{
    unsigned cf = get_cf(c);
    uint32_t a = get_reg(c, i->reg, s), r = (a + 1) & size_mask(s);
    set_reg(c, i->reg, s, r);
    incdec_flags(c, 1, s, r, a, cf);
}

OP_SIZED_FAST(dec_r)
{
    unsigned cf = get_cf(c);
    uint32_t a = get_reg(c, i->reg, s), r = (a - 1) & size_mask(s);
    set_reg(c, i->reg, s, r);
    incdec_flags(c, 0, s, r, a, cf);
}

OP_SIZED(inc_E)
{
    unsigned cf = get_cf(c);
    uint32_t a = rd_rm_rmw(c, i, s), r = (a + 1) & size_mask(s);
    wr_rm(c, i, s, r);
    incdec_flags(c, 1, s, r, a, cf);
}

OP_SIZED(dec_E)
{
    unsigned cf = get_cf(c);
    uint32_t a = rd_rm_rmw(c, i, s), r = (a - 1) & size_mask(s);
    wr_rm(c, i, s, r);
    incdec_flags(c, 0, s, r, a, cf);
}

/* INC/DEC r/m32 by operand form (forms.def): a memory operand is looked up once, for writing
 * (a write hit is also a read hit); anything else (not flat, a TLB miss, a page crossing, a
 * code or watched page) goes to op_inc_E32/op_dec_E32 before anything changes. CF is kept. */
static inline __attribute__((always_inline)) bool incdec_E_form(struct cpu *c,
                                                                const struct insn *i,
                                                                unsigned form, int inc)
{
    uint32_t a, r;
    if (form == FORM_R) {
        unsigned cf = get_cf(c);
        a = c->r[i->rm];
        r = inc ? a + 1 : a - 1;
        c->r[i->rm] = r;
        incdec_flags(c, inc, 4, r, a, cf);
        return true;
    }
    uint8_t *p = form_host(c, i, form, 4, TLB_W_S);
    if (!p)
        return false;
    unsigned cf = get_cf(c);
    a = host_load(p, 4);
    r = inc ? a + 1 : a - 1;
    host_store(p, 4, r);
    incdec_flags(c, inc, 4, r, a, cf);
    return true;
}

OP_FORMS(inc_E)
{
    (void)s;
    return incdec_E_form(c, i, form, 1);
}

OP_FORMS(dec_E)
{
    (void)s;
    return incdec_E_form(c, i, form, 0);
}

OP(not)
{
    unsigned s = i->osize;
    uint32_t a = rd_rm_rmw(c, i, s);
    wr_rm(c, i, s, ~a & size_mask(s));
}

OP(neg)
{
    unsigned s = i->osize;
    uint32_t a = rd_rm_rmw(c, i, s), r = (0u - a) & size_mask(s);
    wr_rm(c, i, s, r);
    lf_set(c, LF_SUB, s, r, 0, a, 0);
}

/* XADD: TEMP = SRC + DEST; SRC = DEST; DEST = TEMP (so with one register, DEST wins). */
OP(xadd)
{
    unsigned s = i->osize;
    uint32_t a = rd_rm_rmw(c, i, s), b = get_reg(c, i->reg, s);
    uint32_t r = (a + b) & size_mask(s);
    if (i->modreg) {
        set_reg(c, i->reg, s, a);
        set_reg(c, i->rm, s, r);
    } else {
        wr_rm(c, i, s, r);
        set_reg(c, i->reg, s, a);
    }
    lf_set(c, LF_ADD, s, r, a, b, 0);
}

/* CMPXCHG: compare the accumulator with DEST (flags as CMP). Equal: DEST = SRC. Not equal:
 * accumulator = DEST, and DEST is written back unchanged (the access is always a write). */
OP(cmpxchg)
{
    unsigned s = i->osize;
    uint32_t d = rd_rm_rmw(c, i, s), acc = get_reg(c, EAX, s);
    uint32_t r = (acc - d) & size_mask(s);
    if (acc == d) {
        wr_rm(c, i, s, get_reg(c, i->reg, s));
    } else {
        if (!i->modreg)
            wr_rm(c, i, s, d);
        set_reg(c, EAX, s, d);
    }
    lf_set(c, LF_SUB, s, r, acc, d, 0);
}

/* CMPXCHG8B m64: EDX:EAX == m64 ? (ZF = 1, m64 = ECX:EBX) : (ZF = 0, EDX:EAX = m64). */
OP(cmpxchg8b)
{
    uint32_t off = ea(c, i);
    probe_wr(c, i->seg, off, 8);
    uint32_t lo = rd(c, i->seg, off, 4), hi = rd(c, i->seg, off + 4, 4);
    flags_materialize(c);
    if (lo == c->r[EAX] && hi == c->r[EDX]) {
        wr(c, i->seg, off, 4, c->r[EBX]);
        wr(c, i->seg, off + 4, 4, c->r[ECX]);
        c->eflags |= FL_ZF;
    } else {
        wr(c, i->seg, off, 4, lo);
        wr(c, i->seg, off + 4, 4, hi);
        c->r[EAX] = lo;
        c->r[EDX] = hi;
        c->eflags &= ~FL_ZF;
    }
}

OP(setcc)
{
    wr_rm(c, i, 1, (uint32_t)cond_eval(c, i->cc));
}

/* CMOVcc reads its source whether or not the condition holds. */
OP(cmov)
{
    uint32_t v = rd_rm(c, i, i->osize);
    if (cond_eval(c, i->cc))
        set_reg(c, i->reg, i->osize, v);
}

/* ---- flag instructions ---- */

OP(clc) { (void)i; flags_materialize(c); c->eflags &= ~FL_CF; }
OP(stc) { (void)i; flags_materialize(c); c->eflags |= FL_CF; }
OP(cmc) { (void)i; flags_materialize(c); c->eflags ^= FL_CF; }
OP(cld) { (void)i; c->eflags &= ~FL_DF; }
OP(std) { (void)i; c->eflags |= FL_DF; }

/* SAHF: SF ZF AF PF CF <- AH (bits 7, 6, 4, 2, 0). */
OP(sahf)
{
    (void)i;
    flags_materialize(c);
    uint32_t ah = (c->r[EAX] >> 8) & 0xFF;
    uint32_t m = FL_SF | FL_ZF | FL_AF | FL_PF | FL_CF;
    c->eflags = (c->eflags & ~m) | (ah & m);
}

OP(lahf)
{
    (void)i;
    uint32_t f = cpu_get_eflags(c) & (FL_SF | FL_ZF | FL_AF | FL_PF | FL_CF);
    set_reg(c, 4 /* AH */, 1, f | FL_R1);
}

/* SALC (D6): not in the SDM's instruction pages, but every IA-32 cpu executes it outside 64-bit
 * mode: AL = CF ? 0xFF : 0x00, no flag changes. */
OP(salc)
{
    (void)i;
    set_reg(c, EAX, 1, get_cf(c) ? 0xFF : 0x00);
}

/* ---- BCD adjustments (SDM vol. 2 pseudo-code; OF, and for AAA/AAS SF ZF PF, undefined) ---- */

static uint32_t szp8(uint32_t v)
{
    v &= 0xFF;
    return (v == 0 ? FL_ZF : 0) | (v & 0x80 ? FL_SF : 0) | (parity8(v) ? FL_PF : 0);
}

OP(daa)
{
    (void)i;
    uint32_t f = cpu_get_eflags(c), al = c->r[EAX] & 0xFF, old_al = al;
    uint32_t cf = 0, af = 0;
    if ((al & 0xF) > 9 || (f & FL_AF)) {
        cf = (f & FL_CF) || al > 0xF9;
        al = (al + 6) & 0xFF;
        af = 1;
    }
    if (old_al > 0x99 || (f & FL_CF)) {
        al = (al + 0x60) & 0xFF;
        cf = 1;
    }
    set_reg(c, EAX, 1, al);
    flags_set_arith(c, szp8(al) | (cf ? FL_CF : 0) | (af ? FL_AF : 0));
}

OP(das)
{
    (void)i;
    uint32_t f = cpu_get_eflags(c), al = c->r[EAX] & 0xFF, old_al = al;
    uint32_t cf = 0, af = 0;
    if ((al & 0xF) > 9 || (f & FL_AF)) {
        cf = (f & FL_CF) || al < 6;
        al = (al - 6) & 0xFF;
        af = 1;
    }
    if (old_al > 0x99 || (f & FL_CF)) {
        al = (al - 0x60) & 0xFF;
        cf = 1;
    }
    set_reg(c, EAX, 1, al);
    flags_set_arith(c, szp8(al) | (cf ? FL_CF : 0) | (af ? FL_AF : 0));
}

OP(aaa)
{
    (void)i;
    uint32_t f = cpu_get_eflags(c), ax = c->r[EAX] & 0xFFFF, adj = 0;
    if ((ax & 0xF) > 9 || (f & FL_AF)) {
        ax = (ax + 0x106) & 0xFFFF;
        adj = FL_AF | FL_CF;
    }
    set_reg(c, EAX, 2, ax & 0xFF0F);
    flags_set_arith(c, szp8(ax & 0x0F) | adj);
}

OP(aas)
{
    (void)i;
    uint32_t f = cpu_get_eflags(c), ax = c->r[EAX] & 0xFFFF, adj = 0;
    if ((ax & 0xF) > 9 || (f & FL_AF)) {
        ax = (ax - 6) & 0xFFFF;
        ax = (ax - 0x100) & 0xFFFF;
        adj = FL_AF | FL_CF;
    }
    set_reg(c, EAX, 2, ax & 0xFF0F);
    flags_set_arith(c, szp8(ax & 0x0F) | adj);
}

OP(aam)
{
    uint32_t base = i->imm & 0xFF, al = c->r[EAX] & 0xFF;
    if (base == 0)
        cpu_raise(c, EXC_DE, false, 0);
    uint32_t ah = al / base;
    al %= base;
    set_reg(c, EAX, 2, (ah << 8) | al);
    flags_set_arith(c, szp8(al));
}

OP(aad)
{
    uint32_t base = i->imm & 0xFF, al = c->r[EAX] & 0xFF, ah = (c->r[EAX] >> 8) & 0xFF;
    al = (al + ah * base) & 0xFF;
    set_reg(c, EAX, 2, al);
    flags_set_arith(c, szp8(al));
}
