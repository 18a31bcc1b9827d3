/* Lazy flag evaluation (see flags.h). */
#include "cpu/flags.h"

uint32_t lf_compute(const struct lazyflags *lf)
{
    uint32_t m = size_mask(lf->size), sb = sign_bit(lf->size);
    uint32_t res = lf->res & m, a = lf->op1 & m, b = lf->op2 & m;
    uint32_t f = 0;

    if (res == 0)
        f |= FL_ZF;
    if (res & sb)
        f |= FL_SF;
    if (parity8(res))
        f |= FL_PF;

    switch (lf->op) {
    case LF_ADD:
        if (lf->cf_in ? res <= a : res < a)
            f |= FL_CF;
        if ((a ^ b ^ res) & 0x10)
            f |= FL_AF;
        if ((a ^ res) & (b ^ res) & sb)
            f |= FL_OF;
        break;
    case LF_SUB:
        if (lf->cf_in ? a <= b : a < b)
            f |= FL_CF;
        if ((a ^ b ^ res) & 0x10)
            f |= FL_AF;
        if ((a ^ b) & (a ^ res) & sb)
            f |= FL_OF;
        break;
    case LF_INC:
        if (lf->cf_in)
            f |= FL_CF;
        if ((res & 0xF) == 0)
            f |= FL_AF;
        if (res == sb)
            f |= FL_OF;
        break;
    case LF_DEC:
        if (lf->cf_in)
            f |= FL_CF;
        if ((res & 0xF) == 0xF)
            f |= FL_AF;
        if (res == sb - 1)
            f |= FL_OF;
        break;
    case LF_SHL: { /* CF = last bit out, OF = MSB(result) ^ CF (defined for a count of 1) */
        unsigned bits = 8u * lf->size, n = lf->op2;
        uint32_t cf = n <= bits ? (uint32_t)(((uint64_t)a << n) >> bits) & 1 : 0;
        if (cf)
            f |= FL_CF;
        if (((res & sb) != 0) ^ cf)
            f |= FL_OF;
        break;
    }
    case LF_SHR: { /* CF = last bit out, OF = MSB(original) */
        unsigned bits = 8u * lf->size, n = lf->op2;
        if (n <= bits && ((uint64_t)a >> (n - 1)) & 1)
            f |= FL_CF;
        if (a & sb)
            f |= FL_OF;
        break;
    }
    case LF_SAR: { /* CF = last bit out (the sign beyond the width), OF = 0 */
        unsigned bits = 8u * lf->size, n = lf->op2 < bits ? lf->op2 : bits;
        int64_t sa = (int64_t)(a ^ sb) - (int64_t)sb;
        if ((sa >> (n - 1)) & 1)
            f |= FL_CF;
        break;
    }
    default: /* LF_LOGIC: CF = OF = 0, AF undefined (0 here) */
        break;
    }
    return f;
}

uint32_t cpu_get_eflags(const struct cpu *c)
{
    uint32_t f = c->eflags;
    if (c->lf.op != LF_NONE)
        f = (f & ~FL_ARITH) | lf_compute(&c->lf);
    return f | FL_R1;
}

int cond_eval(struct cpu *c, unsigned cc)
{
    return cond_eval_inline(c, cc);
}

int cond_eval_slow(struct cpu *c, unsigned cc)
{
    uint32_t f = cpu_get_eflags(c);
    int r;
    switch (cc >> 1) {
    case 0: r = (f & FL_OF) != 0; break;
    case 1: r = (f & FL_CF) != 0; break;
    case 2: r = (f & FL_ZF) != 0; break;
    case 3: r = (f & (FL_CF | FL_ZF)) != 0; break;
    case 4: r = (f & FL_SF) != 0; break;
    case 5: r = (f & FL_PF) != 0; break;
    case 6: r = !(f & FL_SF) != !(f & FL_OF); break;
    default: r = (f & FL_ZF) || (!(f & FL_SF) != !(f & FL_OF)); break;
    }
    return r ^ (int)(cc & 1);
}
