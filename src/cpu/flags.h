/* Lazy arithmetic flags.
 *
 * ADD/ADC/SUB/SBB/CMP/NEG, INC/DEC and the logic operations do not compute CF, PF, AF, ZF, SF
 * and OF; they record the operation, its operands and result in cpu.lf. The flags are computed
 * when something reads them (Jcc, SETcc, PUSHF, ...). Any other instruction that writes
 * arithmetic flags first folds the lazy state into cpu.eflags (flags_materialize) or overwrites
 * them all (flags_set_arith).
 */
#ifndef RINGSIDE_FLAGS_H
#define RINGSIDE_FLAGS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cpu/cpu.h"

enum lf_op {
    LF_NONE = 0, /* cpu.eflags holds the arithmetic flags */
    LF_ADD,      /* res = op1 + op2 + cf_in */
    LF_SUB,      /* res = op1 - op2 - cf_in (CMP, NEG with op1 = 0) */
    LF_LOGIC,    /* CF = OF = 0, AF = 0 */
    LF_INC,      /* res = op1 + 1, CF preserved in cf_in */
    LF_DEC,      /* res = op1 - 1, CF preserved in cf_in */
    LF_SHL,      /* res = op1 << op2 (op2 = masked count 1..31); AF = 0 */
    LF_SHR,      /* res = op1 >> op2 (logical) */
    LF_SAR,      /* res = op1 >> op2 (arithmetic) */
};

static inline uint32_t size_mask(unsigned size)
{
    return size == 4 ? 0xFFFFFFFFu : size == 2 ? 0xFFFFu : 0xFFu;
}

static inline uint32_t sign_bit(unsigned size)
{
    return size == 4 ? 0x80000000u : size == 2 ? 0x8000u : 0x80u;
}

_Static_assert(offsetof(struct lazyflags, size) == offsetof(struct lazyflags, op) + 1 &&
                   offsetof(struct lazyflags, cf_in) == offsetof(struct lazyflags, op) + 2 &&
                   offsetof(struct lazyflags, pad) == offsetof(struct lazyflags, op) + 3,
               "lf_set writes op, size, cf_in and pad as one word");

static inline void lf_set(struct cpu *c, enum lf_op op, unsigned size, uint32_t res, uint32_t op1,
                          uint32_t op2, unsigned cf_in)
{
    c->lf.res = res;
    c->lf.op1 = op1;
    c->lf.op2 = op2;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    /* one store (with constant op, size and cf_in, of a constant) instead of two or three */
    uint32_t w = (uint32_t)(uint8_t)op | (uint32_t)(uint8_t)size << 8 |
                 (uint32_t)(uint8_t)cf_in << 16;
    memcpy((unsigned char *)&c->lf + offsetof(struct lazyflags, op), &w, sizeof w);
#else
    c->lf.op = (uint8_t)op;
    c->lf.size = (uint8_t)size;
    c->lf.cf_in = (uint8_t)cf_in;
    c->lf.pad = 0;
#endif
}

/* The six arithmetic flags of the recorded operation. */
uint32_t lf_compute(const struct lazyflags *lf);

/* Folds lazy flags into eflags (after this, eflags is exact and lf.op == LF_NONE). */
static inline void flags_materialize(struct cpu *c)
{
    if (c->lf.op != LF_NONE) {
        c->eflags = (c->eflags & ~FL_ARITH) | lf_compute(&c->lf);
        c->lf.op = LF_NONE;
    }
}

/* Sets all six arithmetic flags at once. */
static inline void flags_set_arith(struct cpu *c, uint32_t arith)
{
    c->lf.op = LF_NONE;
    c->eflags = (c->eflags & ~FL_ARITH) | (arith & FL_ARITH);
}

/* CF of the recorded operation, or -1 when only lf_compute knows it (SAR): no call, so a caller
 * with a fallback needs no stack frame on its fast path. */
static inline int get_cf_quick(const struct cpu *c)
{
    const struct lazyflags *lf = &c->lf;
    uint32_t m;
    switch (lf->op) {
    case LF_NONE: return (c->eflags & FL_CF) != 0;
    case LF_ADD:
        return lf->cf_in ? lf->res <= lf->op1 : lf->res < lf->op1;
    case LF_SUB:
        m = size_mask(lf->size);
        return lf->cf_in ? (lf->op1 & m) <= (lf->op2 & m) : (lf->op1 & m) < (lf->op2 & m);
    case LF_LOGIC: return 0;
    case LF_INC: case LF_DEC: return lf->cf_in;
    case LF_SHL:
        m = 8u * lf->size; /* width */
        return lf->op2 <= m ? (int)(((uint64_t)lf->op1 << lf->op2) >> m) & 1 : 0;
    case LF_SHR:
        return lf->op2 <= 8u * lf->size ? (int)((uint64_t)lf->op1 >> (lf->op2 - 1)) & 1 : 0;
    default:
        return -1; /* SAR */
    }
}

static inline uint32_t get_cf(struct cpu *c)
{
    int cf = get_cf_quick(c);
    return cf >= 0 ? (uint32_t)cf : (lf_compute(&c->lf) & FL_CF) != 0;
}

/* Parity of the low byte: 1 when the number of set bits is even. */
static inline uint32_t parity8(uint32_t v)
{
    return (0x9669u >> ((v ^ (v >> 4)) & 0xF)) & 1;
}

/* Evaluates condition code cc (the low nibble of Jcc/SETcc/CMOVcc). */
int cond_eval(struct cpu *c, unsigned cc);
int cond_eval_slow(struct cpu *c, unsigned cc);

/* The same, inline, for callers with a constant cc (the Jcc handlers): the common producers
 * of a condition (a compare, a logic result, anything for ZF/SF) are decided without computing
 * EFLAGS; -1 when the condition needs EFLAGS (cond_eval_slow). */
static inline int cond_eval_quick(struct cpu *c, unsigned cc)
{
    const struct lazyflags *lf = &c->lf;
    unsigned kind = cc >> 1;
    if (lf->op != LF_NONE) {
        uint32_t m = size_mask(lf->size), sb = sign_bit(lf->size), res = lf->res & m;
        if (kind == 2) /* E: ZF from the result whatever the operation */
            return (res == 0) ^ (int)(cc & 1);
        if (kind == 4) /* S */
            return ((res & sb) != 0) ^ (int)(cc & 1);
        if (lf->op == LF_SUB && !lf->cf_in && (kind == 1 || kind == 3 || kind >= 6)) {
            uint32_t a = lf->op1 & m, b = lf->op2 & m;
            int32_t sa = (int32_t)((a ^ sb) - sb), sbv = (int32_t)((b ^ sb) - sb);
            int r = kind == 1 ? a < b : kind == 3 ? a <= b : kind == 6 ? sa < sbv : sa <= sbv;
            return r ^ (int)(cc & 1);
        }
        if (lf->op == LF_LOGIC && (kind == 3 || kind >= 6)) { /* CF = OF = 0 */
            int r = kind == 3 ? res == 0 : kind == 6 ? (res & sb) != 0 : res == 0 || (res & sb);
            return r ^ (int)(cc & 1);
        }
    }
    return -1;
}

/* cond_eval_quick, or EFLAGS computed when it cannot decide. */
static inline int cond_eval_inline(struct cpu *c, unsigned cc)
{
    int r = cond_eval_quick(c, cc);
    return r >= 0 ? r : cond_eval_slow(c, cc);
}

#endif
