/* Copy loops: a loop of five instructions in one decoded block that copies 32-bit words,
 *
 *     top: mov r, [base + index * scale + disp]     (MOV r32, m32)
 *          add x, imm                               (ADD r/m32, imm with a register: x != r)
 *          mov [base' + index' * scale' + disp'], r' (MOV m32, r32)
 *          cmp y, imm'                              (CMP r/m32, imm with a register)
 *          jcc top                                  (not P/NP; not the block's last)
 *
 * as GCC emits for a structure assignment (guests/paging/kern.c trap_c's `last_frame = *f`, 19
 * words, on every trap of ringbench's syscall and pf workloads: 95 of a round trip's ~155 guest
 * instructions). The first instruction's handler (op_copy_loop, a middle-of-block one: run on
 * its own, the instruction runs its plain handler) runs the five, pass after pass, without a
 * dispatch between them, while each pass stays on the fast path of its parts: both memory
 * operands in flat segments and hits of the fast TLB within one page (RAM, no code page for
 * the store, no watched page, no alignment checking: mem.h tlb_fast_host), and, for a pass that
 * jumps back, the budget holding the block again (control.c jump_in_block's test, so the count
 * and the nesting bound are the in-block Jcc's). A pass is decided whole before anything of it
 * is written (the load, the ADD and the store's address, the comparison), so that a pass off the
 * fast path has changed nothing: the five then run their own handlers from the first (its plain
 * one), faults, devices and events as always, with the flags of the last CMP recorded first.
 * The ADD's flags are never seen (the CMP overwrites them and nothing between can fault); the
 * CMP's are recorded (lazily, as its handler does) when the loop ends or leaves the fast path.
 * Each pass is SDM order: the load, the register updates, the store (which may overwrite a
 * word a later pass loads), the comparison. Two versions: op_copy_loop_s when r' = r, y = x and
 * r is in no address (each address then moves by a constant a pass and each page's host address
 * is kept while the accesses stay in it; first it tries all the passes at once: x alone decides
 * the comparisons, so their number is known before any access), op_copy_loop for any other
 * registers.
 */
#include "cpu/ops.h"

/* Condition cc (not P, NP) of the flags of CMP a, b (a - b, 32 bits). */
static inline bool sub_cond(unsigned cc, uint32_t a, uint32_t b)
{
    uint32_t r = a - b;
    bool v;
    switch (cc >> 1) {
    case 0: v = (((a ^ b) & (a ^ r)) >> 31) != 0; break; /* O */
    case 1: v = a < b; break;                              /* B */
    case 2: v = r == 0; break;                             /* E */
    case 3: v = a <= b; break;                             /* BE */
    case 4: v = (r >> 31) != 0; break;                     /* S */
    case 6: v = (int32_t)a < (int32_t)b; break;            /* L */
    default: v = (int32_t)a <= (int32_t)b; break;          /* LE (7; 5, P, never) */
    }
    return v ^ (cc & 1);
}

/* This pass by the five handlers (threaded), the load by its plain one (decode.c specialise's
 * choice for a 32-bit load with 32-bit addresses). */
static inline __attribute__((always_inline)) void copy_plain(struct cpu *c, const struct insn *i)
{
    if (i->index == NOREG)
        op_mov_GE32_b(c, i);
    else if (i->scale == 0)
        op_mov_GE32_x0(c, i);
    else
        op_mov_GE32_x(c, i);
}

/* The loop with the condition cc (a constant where inlined). The operands are read from the
 * instructions once (the stores through host pointers would make the compiler read them again
 * each pass); the registers are read each pass (the load or the ADD may write a base). */
static inline __attribute__((always_inline)) void copy_loop(struct cpu *c, const struct insn *i,
                                                            unsigned cc)
{
    const struct insn *j = i + 4;
    const unsigned rd = i->reg, rx = i[1].rm, rc = i[3].rm, rs = i[2].reg;
    const unsigned lb = i->base, li = i->index, ls = i->scale;
    const unsigned sb = i[2].base, si = i[2].index, ss = i[2].scale;
    const uint32_t ldisp = i->disp, sdisp = i[2].disp, inc = i[1].imm, b = i[3].imm;
    const uint64_t jr = j->jr, end = c->thread_end;
    const int64_t jd = j->jd;
    uint64_t count = c->icount;
    uint32_t a = 0;
    bool passed = false;
    if (!c->seg[i->seg].flat || !c->seg[i[2].seg].flat)
        goto plain;
    for (;;) {
        uint8_t *ps = tlb_fast_host(c, c->r[lb] + (c->r[li] << ls) + ldisp, 4, false);
        if (!ps)
            break;
        uint32_t old_d = c->r[rd], old_x = c->r[rx];
        c->r[rd] = host_load(ps, 4);
        c->r[rx] = old_x + inc;
        uint8_t *pd = tlb_fast_host(c, c->r[sb] + (c->r[si] << ss) + sdisp, 4, true);
        uint32_t na = c->r[rc];
        bool taken = sub_cond(cc, na, b);
        if (!pd || (taken && count + jr > end)) {
            c->r[rx] = old_x; /* rx != rd: the pass undone */
            c->r[rd] = old_d;
            break;
        }
        host_store(pd, 4, c->r[rs]);
        a = na;
        passed = true;
        if (!taken) {
            c->icount = count;
            lf_set(c, LF_SUB, 4, a - b, a, b, 0);
            insn_go(c, j); /* on after the Jcc, threaded */
            return;
        }
        count += (uint64_t)jd; /* as jump_in_block: the five retire */
    }
    c->icount = count;
    if (passed)
        lf_set(c, LF_SUB, 4, a - b, a, b, 0);
plain:
    copy_plain(c, i);
}

/* The loop when its registers do not mix (icache.c gives it then, insn_copy_loop): the store
 * writes the loaded register r, which no address uses, and the CMP compares the ADD's register
 * x. Each address then moves by a constant a pass (dl, ds: the ADD's immediate, scaled where x
 * is an index), r and x stay in locals up to the loop's end, and each memory operand keeps the
 * host address of its page from the fast TLB while it stays in that page (a pass's access at
 * lin is a hit there when lin - page <= PAGE_SIZE - 4: what tlb_fast_host would find, as nothing
 * in the loop changes the TLB). */
static inline __attribute__((always_inline)) void copy_loop_s(struct cpu *c,
                                                              const struct insn *i, unsigned cc)
{
    const struct insn *j = i + 4;
    const unsigned rd = i->reg, rx = i[1].rm;
    const uint32_t inc = i[1].imm, b = i[3].imm;
    const uint64_t jr = j->jr, end = c->thread_end;
    const int64_t jd = j->jd;
    uint64_t count = c->icount;
    uint32_t x = c->r[rx], v = c->r[rd];
    bool passed = false;
    if (!c->seg[i->seg].flat || !c->seg[i[2].seg].flat)
        goto plain;
    const uint32_t dl = (i->base == rx ? inc : 0) + (i->index == rx ? inc << i->scale : 0);
    const uint32_t ds = (i[2].base == rx ? inc : 0) + (i[2].index == rx ? inc << i[2].scale : 0);
    uint32_t la = c->r[i->base] + (c->r[i->index] << i->scale) + i->disp;
    /* the store's address with x after the ADD: its value with x before, moved once */
    uint32_t sa = c->r[i[2].base] + (c->r[i[2].index] << i[2].scale) + i[2].disp + ds;
    /* All the passes at once when the comparisons (x alone decides them) end the loop within
     * 1024 passes and while the budget holds every jump back (the test below, pass by pass),
     * and the loads and the stores each stay within one page (every access a hit there, as
     * below) */
    /* pass p may jump back when count + p * jd + jr <= end (jd >= 5 here): at most nmax passes */
    uint32_t n = 0, nx = x, nmax = 1;
    if (count + jr <= end) {
        uint64_t q = (end - count - jr) / (uint64_t)jd + 2;
        nmax = q < 1024 ? (uint32_t)q : 1024;
    }
    bool t;
    do {
        nx += inc;
        n++;
        t = sub_cond(cc, nx, b);
    } while (t && n < nmax);
    uint64_t cnt = count + (uint64_t)(n - 1) * (uint64_t)jd; /* at the start of the last pass */
    if (!t && dl < PAGE_SIZE && ds < PAGE_SIZE &&
        (la & PAGE_MASK) + (n - 1) * dl <= PAGE_SIZE - 4 &&
        (sa & PAGE_MASK) + (n - 1) * ds <= PAGE_SIZE - 4) {
        uint8_t *ps = tlb_fast_host(c, la, 4, false), *pd = tlb_fast_host(c, sa, 4, true);
        if (ps && pd) {
            for (uint32_t k = n;;) {
                v = host_load(ps, 4); /* in order: a store may change a later load's word */
                host_store(pd, 4, v);
                if (--k == 0)
                    break;
                ps += dl; /* (only to a pass that follows: within the page) */
                pd += ds;
            }
            c->r[rd] = v;
            c->r[rx] = nx;
            c->icount = cnt;
            lf_set(c, LF_SUB, 4, nx - b, nx, b, 0);
            insn_go(c, j); /* on after the Jcc, threaded */
            return;
        }
    }
    uint32_t lpage = la + 1, spage = sa + 1; /* no page yet: the offsets are out of range */
    uint8_t *lhost = NULL, *shost = NULL;
    for (;;) {
        if (la - lpage > PAGE_SIZE - 4) {
            uint8_t *p = tlb_fast_host(c, la, 4, false);
            if (!p)
                break;
            lpage = la & ~PAGE_MASK;
            lhost = p - (la - lpage);
        }
        uint32_t nv = host_load(lhost + (la - lpage), 4);
        nx = x + inc;
        if (sa - spage > PAGE_SIZE - 4) {
            uint8_t *p = tlb_fast_host(c, sa, 4, true);
            if (!p)
                break;
            spage = sa & ~PAGE_MASK;
            shost = p - (sa - spage);
        }
        bool taken = sub_cond(cc, nx, b);
        if (taken && count + jr > end)
            break;
        host_store(shost + (sa - spage), 4, nv);
        v = nv;
        x = nx;
        passed = true;
        if (!taken) {
            c->r[rd] = v;
            c->r[rx] = x;
            c->icount = count;
            lf_set(c, LF_SUB, 4, x - b, x, b, 0);
            insn_go(c, j); /* on after the Jcc, threaded */
            return;
        }
        count += (uint64_t)jd; /* as jump_in_block: the five retire */
        la += dl;
        sa += ds;
    }
    c->r[rd] = v;
    c->r[rx] = x;
    c->icount = count;
    if (passed)
        lf_set(c, LF_SUB, 4, x - b, x, b, 0);
plain:
    copy_plain(c, i);
}

/* B and NE (a loop up to an end, a loop to a value) with their condition folded; the others. */
static void op_copy_loop(struct cpu *c, const struct insn *i)
{
    switch (i[4].cc) {
    case 2: copy_loop(c, i, 2); return;
    case 5: copy_loop(c, i, 5); return;
    default: copy_loop(c, i, i[4].cc); return;
    }
}

static void op_copy_loop_s(struct cpu *c, const struct insn *i)
{
    switch (i[4].cc) {
    case 2: copy_loop_s(c, i, 2); return;
    case 5: copy_loop_s(c, i, 5); return;
    default: copy_loop_s(c, i, i[4].cc); return;
    }
}

static bool is_jcc_row(uint16_t id)
{
    uint16_t key = opcode_table[id].key;
    return (key & 0x1F0u) == 0x070u || (key & 0x1F0u) == 0x180u;
}

/* A 32-bit MOV between a register and memory (32-bit addresses), by its plain handler. */
static bool mov_mem32(const struct insn *in, insn_fn row)
{
    return opcode_table[in->id].fn == row && in->osize == 4 && in->asize == 4 &&
           !in->modreg && in->rep == REP_NONE;
}

void insn_copy_loop(struct insn *insns, unsigned n)
{
    for (unsigned k = 0; k + 5 < n; k++) {
        struct insn *ld = &insns[k], *add = ld + 1, *st = ld + 2, *cmp = ld + 3, *j = ld + 4;
        if (add->fn == op_ud || st->fn == op_ud || cmp->fn == op_ud)
            continue; /* a LOCK prefix (#UD; such an instruction ends its block anyway) */
        if (!mov_mem32(ld, op_mov_GE) || ld->fn != insn_plain_fn(ld) || ld->mid)
            continue; /* a load with its own handler (not fused with anything) */
        if (opcode_table[add->id].fn != op_add_EI || !add->modreg || add->osize != 4 ||
            add->rm == ld->reg)
            continue;
        if (!mov_mem32(st, op_mov_EG))
            continue;
        insn_fn sp = insn_plain_fn(st);
        if (sp != op_mov_EG32_b && sp != op_mov_EG32_x && sp != op_mov_EG32_x0)
            continue;
        if (opcode_table[cmp->id].fn != op_cmp_EI || !cmp->modreg || cmp->osize != 4)
            continue;
        if (!is_jcc_row(j->id) || j->osize != 4 || j->fn == op_ud || j->jt != k + 1 ||
            j->cc == 10 || j->cc == 11)
            continue;
        unsigned r = ld->reg, x = add->rm;
        bool simple = st->reg == r && cmp->rm == x && ld->base != r && ld->index != r &&
                      st->base != r && st->index != r;
        ld->fn = simple ? op_copy_loop_s : op_copy_loop;
        ld->mid = 1; /* run on its own: its plain handler */
    }
}
