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
    default: /* LF_LOGIC: CF = OF = 0, AF undefined (0 here) */
        break;
    }
    return f;
}

uint32_t cpu_get_eflags(struct cpu *c)
{
    uint32_t f = c->eflags;
    if (c->lf.op != LF_NONE)
        f = (f & ~FL_ARITH) | lf_compute(&c->lf);
    return f | FL_R1;
}

int cond_eval(struct cpu *c, unsigned cc)
{
    const struct lazyflags *lf = &c->lf;
    unsigned kind = cc >> 1;
    int r;
    if (lf->op != LF_NONE) {
        uint32_t m = size_mask(lf->size), sb = sign_bit(lf->size), res = lf->res & m;
        /* ZF and SF come from the result whatever the operation. */
        if (kind == 2)
            return (res == 0) ^ (int)(cc & 1);
        if (kind == 4)
            return ((res & sb) != 0) ^ (int)(cc & 1);
        if (lf->op == LF_LOGIC) { /* CF = OF = 0 */
            switch (kind) {
            case 0: case 1: r = 0; break;             /* O, B */
            case 3: r = res == 0; break;              /* BE */
            case 5: r = parity8(res); break;          /* P */
            case 6: r = (res & sb) != 0; break;       /* L: SF != OF */
            default: r = res == 0 || (res & sb); break; /* LE */
            }
            return r ^ (int)(cc & 1);
        }
        /* A compare (SUB without borrow-in): unsigned and signed order of the operands. */
        if (lf->op == LF_SUB && !lf->cf_in && kind != 0 && kind != 5) {
            uint32_t a = lf->op1 & m, b = lf->op2 & m;
            int32_t sa = (int32_t)((a ^ sb) - sb), sbv = (int32_t)((b ^ sb) - sb);
            switch (kind) {
            case 1: r = a < b; break;         /* B */
            case 3: r = a <= b; break;        /* BE */
            case 6: r = sa < sbv; break;      /* L */
            default: r = sa <= sbv; break;    /* LE */
            }
            return r ^ (int)(cc & 1);
        }
    }
    uint32_t f = cpu_get_eflags(c);
    switch (kind) {
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
