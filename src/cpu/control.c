/* Control transfers: near and far jumps, calls and returns, LOOP/JCXZ, INT n/INT3/INTO/INT1 and
 * IRET. Far transfers and IRET follow the protected-mode pseudo-code of SDM vol. 2. */
#include "cpu/deliver.h"
#include "cpu/icache.h"
#include "cpu/ops.h"
#include "cpu/task.h"
#include "cpu/tss.h"

/* A near transfer's target beyond the CS limit: #GP(0). */
static _Noreturn void target_fault(struct cpu *c, uint32_t target)
{
    raise_limit(c, EXC_GP, 0, SR_OFFSET_LIMIT, SU_TARGET, c->seg[SEG_CS].sel, target,
                c->seg[SEG_CS].limit);
}

/* A near transfer: the target must lie within CS (#GP(0)). */
static void jump_near(struct cpu *c, uint32_t target, unsigned osize)
{
    if (osize == 2)
        target &= 0xFFFF;
    if (target > c->seg[SEG_CS].limit)
        target_fault(c, target);
    c->eip = target;
}

/* A taken Jcc j in the middle of block c->last_block (c->cur == j), not back to the block's
 * start: straight on to the block at its target through j's direct link (icache.h struct
 * jlink) when that holds and the block runs whole within c->thread_end (the budget and the
 * nesting bound: jcc_taken), threaded; else the dispatch loop decides (STOP_JUMP: exec.c
 * run_block, which checks the same and makes the link). Out of line: one copy, tail-called. */
static __attribute__((noinline)) void jcc_jump(struct cpu *c, const struct insn *j)
{
    const struct jlink *l = jlink_of(j);
    struct block *n = l->to;
    uint64_t count = c->icount + j->idx + 1u;
    if (n && l->from == c->eip && l->epoch == c->map_epoch && l->cpl == c->cpl &&
        n->gen0 == c->page_gen[n->phys >> 12] && l->end <= c->seg[SEG_CS].limit &&
        count + n->n <= c->thread_end) {
        c->icount = count; /* the Jcc and those before it retire */
        c->eip = l->eip;
        c->last_block = n;
        c->cur = n->insns;
        n->insns->fn(c, n->insns);
        return;
    }
    c->stop_block = STOP_JUMP;
}

/* Jcc: one handler per condition, so the condition folds to a few tests of the lazy flags. A
 * Jcc does not end its decoded block (a superblock goes on past it, icache.h): taken, it leaves
 * the block for the one at its target. */
/* The taken Jcc j, running in the middle of its block, whose target is an instruction of the
 * same block (insn.jt set): when the budget holds the rest of the block, the count moves so that
 * j and those before it retire (insn.jd), the target runs next, threaded, and true; else false,
 * nothing changed. */
static inline __attribute__((always_inline)) bool jump_in_block(struct cpu *c,
                                                             const struct insn *j)
{
    if (c->icount + j->jr > c->thread_end)
        return false;
    const struct insn *to = j + 1 - j->jd;
    c->icount += (uint64_t)(int64_t)j->jd;
    c->cur = to;
    to->fn(c, to);
    return true;
}

static inline __attribute__((always_inline)) void jcc_taken(struct cpu *c,
                                                         const struct insn *i)
{
    if (c->cur) {
        /* In the middle of its block. The target an instruction of the same block (icache.c
         * insn.jt; within the CS limit, as the whole block): on there, the block's count moved
         * so that the Jcc and those before it retire (count + the target's index), when the
         * budget holds the rest of the block (nothing that would stop the block has run,
         * stop_block is 0); else, for the block's start, the dispatch loop runs it again
         * (STOP_LOOP). Elsewhere, the Jcc's direct link leads on (jcc_jump) or the dispatch
         * loop decides (STOP_JUMP). */
        if (i->jt) {
            if (jump_in_block(c, i))
                return;
            if (i->jt == 1) {
                c->stop_block = STOP_LOOP;
                return;
            }
        }
        jcc_jump(c, i);
        return;
    }
    jump_near(c, c->eip + i->imm, i->osize);
    c->stop_block |= STOP_BRANCH;
}

void jcc_leave(struct cpu *c, const struct insn *j)
{
    cpu_settle(c); /* EIP: the next instruction (not kept in the middle of a block) */
    jump_near(c, c->eip + j->imm, j->osize);
    c->stop_block = STOP_BRANCH;
}

/* A condition the lazy flags cannot decide: out of line, so that the handlers' common path
 * saves no registers (a tail call; threaded itself). */
static __attribute__((noinline)) void jcc_slow(struct cpu *c, const struct insn *i, unsigned cc)
{
    if (cond_eval_slow(c, cc)) {
        jcc_taken(c, i); /* sets stop_block, or runs its block again (a tail call) */
        return;
    }
    insn_go(c, i);
}

#define JCC(n)                                              \
    OP_DECL(jcc_##n)                                        \
    {                                                       \
        int r = cond_eval_quick(c, n);                      \
        if (r < 0) {                                        \
            jcc_slow(c, i, n);                              \
            return;                                         \
        }                                                   \
        if (r) {                                            \
            jcc_taken(c, i); /* as in jcc_slow */           \
            return;                                         \
        }                                                   \
        insn_go(c, i);                                      \
    }
JCC(0) JCC(1) JCC(2) JCC(3) JCC(4) JCC(5) JCC(6) JCC(7)
JCC(8) JCC(9) JCC(10) JCC(11) JCC(12) JCC(13) JCC(14) JCC(15)
#undef JCC

/* A flag-setting instruction with a register or immediate operand fused with the Jcc that
 * follows it in its block (icache.c fuses them at decode; the Jcc stays in the block, never the
 * block's last instruction). The fused handler does the instruction exactly as its own handler
 * (result, lazy flags), then decides the Jcc from the operands it has in hand: not taken, it
 * goes on with the instruction after the Jcc (insn_go: threaded dispatch); taken, the Jcc's own
 * taken path runs as the running instruction (c->cur = the Jcc: EIP, the count and a #GP for a
 * target beyond the CS limit are the Jcc's). It is a middle-of-block handler (insn.mid): it
 * runs only with c->cur set; where run_block runs every instruction on its own (an instruction
 * hook, a budget that ends in the block, a single step: exec.c run_exact) the instruction runs
 * its plain handler and the Jcc its own. */
enum { FZ_ADD, FZ_SUB, FZ_AND, FZ_OR, FZ_XOR };

/* Condition cc after `r = a op b` (size s, operands and result masked to it). */
static inline int fz_cond(unsigned op, unsigned s, unsigned cc, uint32_t r, uint32_t a,
                          uint32_t b)
{
    uint32_t sb = sign_bit(s);
    int sf = (r & sb) != 0, of, cf, v;
    if (op == FZ_SUB) {
        cf = a < b;
        of = ((a ^ b) & (a ^ r) & sb) != 0;
    } else if (op == FZ_ADD) {
        cf = r < a;
        of = ((a ^ r) & (b ^ r) & sb) != 0;
    } else {
        cf = of = 0;
    }
    if (op == FZ_SUB && (cc >> 1 == 1 || cc >> 1 == 3 || cc >> 1 >= 6)) {
        /* B, BE, L, LE: the comparison itself (SF != OF is signed a < b) */
        int32_t sa = (int32_t)((a ^ sb) - sb), sbv = (int32_t)((b ^ sb) - sb);
        switch (cc >> 1) {
        case 1: v = a < b; break;
        case 3: v = a <= b; break;
        case 6: v = sa < sbv; break;
        default: v = sa <= sbv; break;
        }
        return v ^ (int)(cc & 1);
    }
    switch (cc >> 1) {
    case 0: v = of; break;
    case 1: v = cf; break;
    case 2: v = r == 0; break;
    case 3: v = cf || r == 0; break;
    case 4: v = sf; break;
    case 5: v = (int)parity8(r); break;
    case 6: v = sf != of; break;
    default: v = r == 0 || sf != of; break;
    }
    return v ^ (int)(cc & 1);
}

static inline uint32_t fz_res(unsigned op, uint32_t a, uint32_t b)
{
    switch (op) {
    case FZ_ADD: return a + b;
    case FZ_SUB: return a - b;
    case FZ_AND: return a & b;
    case FZ_OR: return a | b;
    default: return a ^ b;
    }
}

/* name: the fused handlers op_fz_NAME (any condition), op_fz_NAME_cN (the Jcc's condition N
 * folded in at decode: for JE and JNE a test of the result, for the others of CMP, SUB and TEST
 * a comparison of the operands); OPN: FZ_*; WR: write the result (not CMP, TEST);
 * TEST: lazy flags as TEST records them (no operands); A, B: the operands; DST: where the
 * result goes. CC: the Jcc's condition, or 16 for the one in the Jcc.
 * DEAD (CMP and TEST, op_fz_NAME_cN_dD: icache.c picks them from deadflags.c's liveness): the
 * flags are dead where the Jcc leads, so the lazy flags are not stored on that way: 1, taken
 * (the target an instruction of the same block, insn.jt, where nothing sees the flags before
 * they are all written again; they are stored when the jump cannot stay in the block: the
 * budget); 2, not taken (after the Jcc, in the block); 3, both. 4: none dead, but the Jcc's
 * target is an instruction of the block (insn.jt): the taken way tries it without testing
 * insn.jt. */
#define FZ_FLAGS_(OPN, S, TEST)                                                      \
    do {                                                                             \
        if (TEST)                                                                    \
            lf_set(c, LF_LOGIC, S, r, 0, 0, 0);                                      \
        else                                                                         \
            lf_set(c, OPN == FZ_ADD ? LF_ADD : OPN == FZ_SUB ? LF_SUB : LF_LOGIC, S, \
                   r, a, b, 0);                                                      \
    } while (0)
#define FUSED_CC(name, OPN, S, WR, TEST, A, B, DST, CC, DEAD)                        \
    FUSED_FN_(op_fz_##name, (void)0, OPN, S, WR, TEST, A, B, DST, CC, DEAD)
/* The handler fname: PRE (a statement: the register moved by the first of a triple,
 * FUSED_PRE), then the fused instruction and its Jcc. */
#define FUSED_FN_(fname, PRE, OPN, S, WR, TEST, A, B, DST, CC, DEAD)                 \
    static void fname(struct cpu *c, const struct insn *i)                           \
    {                                                                                \
        PRE;                                                                         \
        uint32_t a = (A), b = (B), r = fz_res(OPN, a, b) & size_mask(S);             \
        if (WR)                                                                      \
            set_reg(c, DST, S, r);                                                   \
        if ((DEAD) == 0 || (DEAD) == 4)                                              \
            FZ_FLAGS_(OPN, S, TEST);                                                 \
        const struct insn *j = i + 1;                                                \
        if (!fz_cond(OPN, S, (CC) < 16 ? (CC) : j->cc, r, a, b)) {                   \
            if ((DEAD) == 1)                                                         \
                FZ_FLAGS_(OPN, S, TEST);                                             \
            insn_go(c, j); /* not taken: on after the Jcc (threaded) */              \
            return;                                                                  \
        }                                                                            \
        /* as jcc_taken, the target in the block, without storing the flags */       \
        if (((DEAD) & 1) && jump_in_block(c, j))                                     \
            return;                                                                  \
        if ((DEAD) != 0 && (DEAD) != 4)                                              \
            FZ_FLAGS_(OPN, S, TEST);                                                 \
        /* jcc_taken's in-block way first: no store of c->cur for the Jcc (DEAD 4:    \
         * the target is known to be in the block, no test of insn.jt) */            \
        if ((DEAD) == 4 && jump_in_block(c, j))                                      \
            return;                                                                  \
        if (((DEAD) == 0 || (DEAD) == 2) && j->jt && jump_in_block(c, j))            \
            return;                                                                  \
        c->cur = j;                                                                  \
        jcc_taken(c, j);                                                             \
    }
/* ALL: every condition but the parity ones (P, NP: rare) has its own handler; else only E and
 * NE. */
#define FUSED_EACH_(name, OPN, S, WR, TEST, A, B, DST, CC)                           \
    FUSED_CC(name##_c##CC, OPN, S, WR, TEST, A, B, DST, CC, 0)
#define FUSED(name, OPN, S, WR, TEST, A, B, DST, ALL)                                \
    FUSED_CC(name, OPN, S, WR, TEST, A, B, DST, 16, 0)                               \
    FUSED_EACH_(name, OPN, S, WR, TEST, A, B, DST, 4)                                \
    FUSED_EACH_(name, OPN, S, WR, TEST, A, B, DST, 5)                                \
    FUSED_MORE_##ALL(name, OPN, S, WR, TEST, A, B, DST)
#define FUSED_MORE_0(name, OPN, S, WR, TEST, A, B, DST)
#define FUSED_MORE_1(name, OPN, S, WR, TEST, A, B, DST)                              \
    FUSED_EACH_(name, OPN, S, WR, TEST, A, B, DST, 0)                                \
    FUSED_EACH_(name, OPN, S, WR, TEST, A, B, DST, 1)                                \
    FUSED_EACH_(name, OPN, S, WR, TEST, A, B, DST, 2)                                \
    FUSED_EACH_(name, OPN, S, WR, TEST, A, B, DST, 3)                                \
    FUSED_EACH_(name, OPN, S, WR, TEST, A, B, DST, 6)                                \
    FUSED_EACH_(name, OPN, S, WR, TEST, A, B, DST, 7)                                \
    FUSED_EACH_(name, OPN, S, WR, TEST, A, B, DST, 8)                                \
    FUSED_EACH_(name, OPN, S, WR, TEST, A, B, DST, 9)                                \
    FUSED_EACH_(name, OPN, S, WR, TEST, A, B, DST, 12)                               \
    FUSED_EACH_(name, OPN, S, WR, TEST, A, B, DST, 13)                               \
    FUSED_EACH_(name, OPN, S, WR, TEST, A, B, DST, 14)                               \
    FUSED_EACH_(name, OPN, S, WR, TEST, A, B, DST, 15)

/* The handlers with dead flags (DEAD 1..3) for every condition but P and NP. */
#define FUSED_D_(name, OPN, S, TEST, A, B, CC)                                       \
    FUSED_CC(name##_c##CC##_d1, OPN, S, 0, TEST, A, B, EAX, CC, 1)                   \
    FUSED_CC(name##_c##CC##_d2, OPN, S, 0, TEST, A, B, EAX, CC, 2)                   \
    FUSED_CC(name##_c##CC##_d3, OPN, S, 0, TEST, A, B, EAX, CC, 3)                   \
    FUSED_CC(name##_c##CC##_d4, OPN, S, 0, TEST, A, B, EAX, CC, 4)
#define FUSED_DEAD(name, OPN, S, TEST, A, B)                                         \
    FUSED_D_(name, OPN, S, TEST, A, B, 0) FUSED_D_(name, OPN, S, TEST, A, B, 1)      \
    FUSED_D_(name, OPN, S, TEST, A, B, 2) FUSED_D_(name, OPN, S, TEST, A, B, 3)      \
    FUSED_D_(name, OPN, S, TEST, A, B, 4) FUSED_D_(name, OPN, S, TEST, A, B, 5)      \
    FUSED_D_(name, OPN, S, TEST, A, B, 6) FUSED_D_(name, OPN, S, TEST, A, B, 7)      \
    FUSED_D_(name, OPN, S, TEST, A, B, 8) FUSED_D_(name, OPN, S, TEST, A, B, 9)      \
    FUSED_D_(name, OPN, S, TEST, A, B, 12) FUSED_D_(name, OPN, S, TEST, A, B, 13)    \
    FUSED_D_(name, OPN, S, TEST, A, B, 14) FUSED_D_(name, OPN, S, TEST, A, B, 15)
FUSED_DEAD(cmp_EG32_r, FZ_SUB, 4, 0, c->r[i->rm], c->r[i->reg])
FUSED_DEAD(cmp_GE32_r, FZ_SUB, 4, 0, c->r[i->reg], c->r[i->rm])
FUSED_DEAD(cmp_EI32_r, FZ_SUB, 4, 0, c->r[i->rm], i->imm)
FUSED_DEAD(cmp_AI32, FZ_SUB, 4, 0, c->r[EAX], i->imm)
FUSED_DEAD(cmp_EG8_r, FZ_SUB, 1, 0, get_reg(c, i->rm, 1), get_reg(c, i->reg, 1))
FUSED_DEAD(cmp_GE8_r, FZ_SUB, 1, 0, get_reg(c, i->reg, 1), get_reg(c, i->rm, 1))
FUSED_DEAD(cmp_EI8_r, FZ_SUB, 1, 0, get_reg(c, i->rm, 1), i->imm & 0xFF)
FUSED_DEAD(test_EG32_r, FZ_AND, 4, 1, c->r[i->rm], c->r[i->reg])
FUSED_DEAD(test_EI32_r, FZ_AND, 4, 1, c->r[i->rm], i->imm)
FUSED_DEAD(test_AI32, FZ_AND, 4, 1, c->r[EAX], i->imm)
FUSED_DEAD(test_EG8_r, FZ_AND, 1, 1, get_reg(c, i->rm, 1), get_reg(c, i->reg, 1))
FUSED_DEAD(test_EI8_r, FZ_AND, 1, 1, get_reg(c, i->rm, 1), i->imm & 0xFF)
/* The byte forms whose register operands are all low bytes (AL..BL, r < 4: jcc_fused) */
FUSED_DEAD(cmp_EG8_rl, FZ_SUB, 1, 0, c->r[i->rm] & 0xFF, c->r[i->reg] & 0xFF)
FUSED_DEAD(cmp_GE8_rl, FZ_SUB, 1, 0, c->r[i->reg] & 0xFF, c->r[i->rm] & 0xFF)
FUSED_DEAD(cmp_EI8_rl, FZ_SUB, 1, 0, c->r[i->rm] & 0xFF, i->imm & 0xFF)
FUSED_DEAD(test_EG8_rl, FZ_AND, 1, 1, c->r[i->rm] & 0xFF, c->r[i->reg] & 0xFF)
FUSED_DEAD(test_EI8_rl, FZ_AND, 1, 1, c->r[i->rm] & 0xFF, i->imm & 0xFF)
#undef FUSED_DEAD
#undef FUSED_D_

/* The four register and immediate forms (EG, GE, EI with a register operand; AI) of a 32-bit
 * ALU operation, and the three of a byte one. */
#define FUSED_ALU(name, OPN, WR, ALL)                                                \
    FUSED(name##_EG32_r, OPN, 4, WR, 0, c->r[i->rm], c->r[i->reg], i->rm, ALL)       \
    FUSED(name##_GE32_r, OPN, 4, WR, 0, c->r[i->reg], c->r[i->rm], i->reg, ALL)      \
    FUSED(name##_EI32_r, OPN, 4, WR, 0, c->r[i->rm], i->imm, i->rm, ALL)             \
    FUSED(name##_AI32, OPN, 4, WR, 0, c->r[EAX], i->imm, EAX, ALL)                   \
    FUSED(name##_EG8_r, OPN, 1, WR, 0, get_reg(c, i->rm, 1), get_reg(c, i->reg, 1),  \
          i->rm, ALL)                                                                \
    FUSED(name##_GE8_r, OPN, 1, WR, 0, get_reg(c, i->reg, 1), get_reg(c, i->rm, 1),  \
          i->reg, ALL)                                                               \
    FUSED(name##_EI8_r, OPN, 1, WR, 0, get_reg(c, i->rm, 1), i->imm & 0xFF, i->rm, ALL)
FUSED_ALU(cmp, FZ_SUB, 0, 1)
FUSED_ALU(sub, FZ_SUB, 1, 1)
FUSED_ALU(add, FZ_ADD, 1, 0)
FUSED_ALU(and, FZ_AND, 1, 0)
FUSED_ALU(or, FZ_OR, 1, 0)
FUSED_ALU(xor, FZ_XOR, 1, 0)
FUSED(test_EG32_r, FZ_AND, 4, 0, 1, c->r[i->rm], c->r[i->reg], EAX, 1)
FUSED(test_EI32_r, FZ_AND, 4, 0, 1, c->r[i->rm], i->imm, EAX, 1)
FUSED(test_AI32, FZ_AND, 4, 0, 1, c->r[EAX], i->imm, EAX, 1)
FUSED(test_EG8_r, FZ_AND, 1, 0, 1, get_reg(c, i->rm, 1), get_reg(c, i->reg, 1), EAX, 1)
FUSED(test_EI8_r, FZ_AND, 1, 0, 1, get_reg(c, i->rm, 1), i->imm & 0xFF, EAX, 1)
FUSED(cmp_EG8_rl, FZ_SUB, 1, 0, 0, c->r[i->rm] & 0xFF, c->r[i->reg] & 0xFF, EAX, 1)
FUSED(cmp_GE8_rl, FZ_SUB, 1, 0, 0, c->r[i->reg] & 0xFF, c->r[i->rm] & 0xFF, EAX, 1)
FUSED(cmp_EI8_rl, FZ_SUB, 1, 0, 0, c->r[i->rm] & 0xFF, i->imm & 0xFF, EAX, 1)
FUSED(test_EG8_rl, FZ_AND, 1, 0, 1, c->r[i->rm] & 0xFF, c->r[i->reg] & 0xFF, EAX, 1)
FUSED(test_EI8_rl, FZ_AND, 1, 0, 1, c->r[i->rm] & 0xFF, i->imm & 0xFF, EAX, 1)

/* Keys for the low-byte forms' rows in jcc_fused (never run: jcc_fused returns their fused
 * handlers for op_cmp_EG8_r and the others when the operands are low bytes). */
#define LOW_KEY_(name)                                                               \
    static void op_##name##_rl(struct cpu *c, const struct insn *i) { op_##name##_r(c, i); }
LOW_KEY_(cmp_EG8)
LOW_KEY_(cmp_GE8)
LOW_KEY_(cmp_EI8)
LOW_KEY_(test_EG8)
LOW_KEY_(test_EI8)
#undef LOW_KEY_
#undef FUSED_ALU

/* Triples: an instruction X (i) whose flags, if any, the CMP after it overwrites, then a CMP of
 * a 32-bit register with a register or an immediate (i + 1) fused with its Jcc (i + 2), as one
 * handler: op_fK_NAME for each fused handler op_fz_NAME of those CMPs and each X (K):
 *   i, d: INC, DEC of a 32-bit register, the loop counter's idiom (`inc edx; cmp edx, 0x800;
 *         jne`; the CMP writes every flag they write);
 *   x:    XOR r/m32, r32 with a register operand (`xor eax, ecx; cmp esi, edi; jne`);
 *   b, s: MOV r32, [base + disp] and [base + index * scale + disp] (`mov ebp, [esp + 0x14];
 *         cmp ecx, ebp; jne`): on the TLB's fast path (form_host) only; otherwise X's own
 *         handler runs (c->cur is X: a fault is X's), and then the CMP's fused handler, as
 *         without the triple.
 * X done, exactly what op_fz_NAME does with i + 1 follows (a taken Jcc runs as the Jcc, c->cur
 * = i + 2). A middle-of-block handler (insn.mid); the CMP keeps its fused handler in i + 1, for
 * a jump to it. icache.c picks them (jcc_fused_pre). */
static inline __attribute__((always_inline)) bool pre_load(struct cpu *c, const struct insn *i,
                                                           unsigned form)
{
    uint8_t *p = form_host(c, i, form, 4, TLB_R_S);
    if (!p)
        return false;
    c->r[i->reg] = host_load(p, 4);
    return true;
}
#define PRE_i (c->r[i->reg]++, i++)
#define PRE_d (c->r[i->reg]--, i++)
#define PRE_x (c->r[i->rm] ^= c->r[i->reg], i++)
#define PRE_b                                                                        \
    if (!pre_load(c, i, FORM_B)) {                                                   \
        op_mov_GE32_b(c, i);                                                         \
        return;                                                                      \
    }                                                                                \
    i++
#define PRE_s                                                                        \
    if (!pre_load(c, i, FORM_X)) {                                                   \
        op_mov_GE32_x(c, i);                                                         \
        return;                                                                      \
    }                                                                                \
    i++
#define FUSED_PRE(name, OPN, S, A, B, CC, DEAD)                                      \
    FUSED_FN_(op_fi_##name, PRE_i, OPN, S, 0, 0, A, B, EAX, CC, DEAD)                \
    FUSED_FN_(op_fd_##name, PRE_d, OPN, S, 0, 0, A, B, EAX, CC, DEAD)                \
    FUSED_FN_(op_fx_##name, PRE_x, OPN, S, 0, 0, A, B, EAX, CC, DEAD)                \
    FUSED_FN_(op_fb_##name, PRE_b, OPN, S, 0, 0, A, B, EAX, CC, DEAD)                \
    FUSED_FN_(op_fs_##name, PRE_s, OPN, S, 0, 0, A, B, EAX, CC, DEAD)
#define FUSED_PRE_CC_(name, A, B, CC)                                                \
    FUSED_PRE(name##_c##CC, FZ_SUB, 4, A, B, CC, 0)                                  \
    FUSED_PRE(name##_c##CC##_d1, FZ_SUB, 4, A, B, CC, 1)                             \
    FUSED_PRE(name##_c##CC##_d2, FZ_SUB, 4, A, B, CC, 2)                             \
    FUSED_PRE(name##_c##CC##_d3, FZ_SUB, 4, A, B, CC, 3)                             \
    FUSED_PRE(name##_c##CC##_d4, FZ_SUB, 4, A, B, CC, 4)
#define FUSED_PRE_ALL_(name, A, B)                                                   \
    FUSED_PRE(name, FZ_SUB, 4, A, B, 16, 0)                                          \
    FUSED_PRE_CC_(name, A, B, 0) FUSED_PRE_CC_(name, A, B, 1)                        \
    FUSED_PRE_CC_(name, A, B, 2) FUSED_PRE_CC_(name, A, B, 3)                        \
    FUSED_PRE_CC_(name, A, B, 4) FUSED_PRE_CC_(name, A, B, 5)                        \
    FUSED_PRE_CC_(name, A, B, 6) FUSED_PRE_CC_(name, A, B, 7)                        \
    FUSED_PRE_CC_(name, A, B, 8) FUSED_PRE_CC_(name, A, B, 9)                        \
    FUSED_PRE_CC_(name, A, B, 12) FUSED_PRE_CC_(name, A, B, 13)                      \
    FUSED_PRE_CC_(name, A, B, 14) FUSED_PRE_CC_(name, A, B, 15)
FUSED_PRE_ALL_(cmp_EG32_r, c->r[i->rm], c->r[i->reg])
FUSED_PRE_ALL_(cmp_GE32_r, c->r[i->reg], c->r[i->rm])
FUSED_PRE_ALL_(cmp_EI32_r, c->r[i->rm], i->imm)

/* Quads: an instruction Y, then a triple of an INC with a CMP of a 32-bit register and an
 * immediate (op_fi_NAME, NAME a cmp_EI32_r handler), the four as one handler, op_fQ_NAME:
 *   qshl, qshr, qsar: SHL/SAL, SHR, SAR of a 32-bit register by a count of 1..31 (imm8 or
 *       1: the count in the shift's insn.imm2, set by icache.c) whose flags are dead (the INC and the CMP
 *       write them all before anything can see them; deadflags.c gave it its _nf handler),
 *       Collatz's `shr edx, 1; inc eax; cmp edx, 1; jne`;
 *   ql: LEA r32 with 32-bit addressing, `lea edx, [edx + edx*2 + 1]; inc eax; cmp edx, 1; je`.
 * Y cannot fault, touches no memory and writes no flag that is seen, so Y's work, then the
 * triple's, then its fused CMP and Jcc (with i + 3 as the Jcc) are exactly what the four
 * handlers would do one after another. A middle-of-block handler (insn.mid); the INC keeps
 * its triple in i + 1, for a jump to it. icache.c picks them (jcc_fused_quad). */
#define PRE_Q_(EXPR) c->r[i->rm] = (EXPR), i++, PRE_i /* the count i->imm2: 1..31 */
#define PRE_qshl PRE_Q_(c->r[i->rm] << i->imm2)
#define PRE_qshr PRE_Q_(c->r[i->rm] >> i->imm2)
#define PRE_qsar PRE_Q_((uint32_t)((int32_t)c->r[i->rm] >> i->imm2))
#define PRE_ql c->r[i->reg] = ea_form(c, i, FORM_X), i++, PRE_i /* index NOREG: c->r[8] = 0 */
#define FUSED_QUAD(name, CC, DEAD)                                                   \
    FUSED_FN_(op_fqshl_##name, PRE_qshl, FZ_SUB, 4, 0, 0, c->r[i->rm], i->imm, EAX,   \
              CC, DEAD)                                                              \
    FUSED_FN_(op_fqshr_##name, PRE_qshr, FZ_SUB, 4, 0, 0, c->r[i->rm], i->imm, EAX,   \
              CC, DEAD)                                                              \
    FUSED_FN_(op_fqsar_##name, PRE_qsar, FZ_SUB, 4, 0, 0, c->r[i->rm], i->imm, EAX,   \
              CC, DEAD)                                                              \
    FUSED_FN_(op_fql_##name, PRE_ql, FZ_SUB, 4, 0, 0, c->r[i->rm], i->imm, EAX, CC, DEAD)
#define FUSED_QUAD_CC_(name, CC)                                                     \
    FUSED_QUAD(name##_c##CC, CC, 0)                                                  \
    FUSED_QUAD(name##_c##CC##_d1, CC, 1)                                             \
    FUSED_QUAD(name##_c##CC##_d2, CC, 2)                                             \
    FUSED_QUAD(name##_c##CC##_d3, CC, 3)                                             \
    FUSED_QUAD(name##_c##CC##_d4, CC, 4)
FUSED_QUAD(cmp_EI32_r, 16, 0)
FUSED_QUAD_CC_(cmp_EI32_r, 0) FUSED_QUAD_CC_(cmp_EI32_r, 1) FUSED_QUAD_CC_(cmp_EI32_r, 2)
FUSED_QUAD_CC_(cmp_EI32_r, 3) FUSED_QUAD_CC_(cmp_EI32_r, 4) FUSED_QUAD_CC_(cmp_EI32_r, 5)
FUSED_QUAD_CC_(cmp_EI32_r, 6) FUSED_QUAD_CC_(cmp_EI32_r, 7) FUSED_QUAD_CC_(cmp_EI32_r, 8)
FUSED_QUAD_CC_(cmp_EI32_r, 9) FUSED_QUAD_CC_(cmp_EI32_r, 12) FUSED_QUAD_CC_(cmp_EI32_r, 13)
FUSED_QUAD_CC_(cmp_EI32_r, 14) FUSED_QUAD_CC_(cmp_EI32_r, 15)
#undef FUSED_QUAD_CC_
#undef FUSED_QUAD
#undef PRE_ql
#undef PRE_qsar
#undef PRE_qshr
#undef PRE_qshl
#undef PRE_Q_
#undef FUSED_PRE_ALL_
#undef FUSED_PRE_CC_
#undef FUSED_PRE
#undef PRE_s
#undef PRE_b
#undef PRE_x
#undef PRE_d
#undef PRE_i
#undef FUSED_FN_
#undef FUSED_MORE_1
#undef FUSED_MORE_0
#undef FUSED
#undef FUSED_EACH_
#undef FUSED_CC
#undef FZ_FLAGS_

insn_fn jcc_fused(const struct insn *in, unsigned cc, unsigned dead)
{
    insn_fn producer = in->fn;
    /* byte forms of low-byte registers: their own rows */
    if (in->rm < 4 && (in->reg < 4 || producer == op_cmp_EI8_r || producer == op_test_EI8_r)) {
        static const insn_fn low[][2] = {
            {op_cmp_EG8_r, op_cmp_EG8_rl}, {op_cmp_GE8_r, op_cmp_GE8_rl},
            {op_cmp_EI8_r, op_cmp_EI8_rl}, {op_test_EG8_r, op_test_EG8_rl},
            {op_test_EI8_r, op_test_EI8_rl},
        };
        for (unsigned k = 0; k < sizeof low / sizeof low[0]; k++)
            if (low[k][0] == producer)
                producer = low[k][1];
    }
    /* the dead-flags handlers, by dead (1..3) and condition (NULL: P, NP) */
#define FZ_D_(name, d)                                                               \
    {op_fz_##name##_c0_d##d, op_fz_##name##_c1_d##d, op_fz_##name##_c2_d##d,         \
     op_fz_##name##_c3_d##d, op_fz_##name##_c4_d##d, op_fz_##name##_c5_d##d,         \
     op_fz_##name##_c6_d##d, op_fz_##name##_c7_d##d, op_fz_##name##_c8_d##d,         \
     op_fz_##name##_c9_d##d, NULL, NULL, op_fz_##name##_c12_d##d,                    \
     op_fz_##name##_c13_d##d, op_fz_##name##_c14_d##d, op_fz_##name##_c15_d##d}
#define FZ_DEAD(name)                                                                \
    {op_##name, {FZ_D_(name, 1), FZ_D_(name, 2), FZ_D_(name, 3), FZ_D_(name, 4)}}
    static const struct {
        insn_fn plain, by_cc[4][16];
    } dead_rows[] = {
        FZ_DEAD(cmp_EG32_r), FZ_DEAD(cmp_GE32_r), FZ_DEAD(cmp_EI32_r), FZ_DEAD(cmp_AI32),
        FZ_DEAD(cmp_EG8_r), FZ_DEAD(cmp_GE8_r), FZ_DEAD(cmp_EI8_r), FZ_DEAD(test_EG32_r),
        FZ_DEAD(test_EI32_r), FZ_DEAD(test_AI32), FZ_DEAD(test_EG8_r), FZ_DEAD(test_EI8_r),
        FZ_DEAD(cmp_EG8_rl), FZ_DEAD(cmp_GE8_rl), FZ_DEAD(cmp_EI8_rl), FZ_DEAD(test_EG8_rl),
        FZ_DEAD(test_EI8_rl),
    };
#undef FZ_DEAD
#undef FZ_D_
    if (dead >= 1 && dead <= 4)
        for (unsigned k = 0; k < sizeof dead_rows / sizeof dead_rows[0]; k++)
            if (dead_rows[k].plain == producer && dead_rows[k].by_cc[dead - 1][cc & 15])
                return dead_rows[k].by_cc[dead - 1][cc & 15];
    /* by condition: NULL where op_fz_NAME (any condition) does it */
#define FZ_EN_(name) [4] = op_fz_##name##_c4, [5] = op_fz_##name##_c5
#define FZ_ROW_0(name) {op_##name, op_fz_##name, {FZ_EN_(name)}}
#define FZ_ROW_1(name)                                                               \
    {op_##name, op_fz_##name,                                                        \
     {op_fz_##name##_c0, op_fz_##name##_c1, op_fz_##name##_c2, op_fz_##name##_c3,    \
      op_fz_##name##_c4, op_fz_##name##_c5, op_fz_##name##_c6, op_fz_##name##_c7,    \
      op_fz_##name##_c8, op_fz_##name##_c9, NULL, NULL, op_fz_##name##_c12,          \
      op_fz_##name##_c13, op_fz_##name##_c14, op_fz_##name##_c15}}
#define FZ_ALU(name, ALL)                                                            \
    FZ_ROW_##ALL(name##_EG32_r), FZ_ROW_##ALL(name##_GE32_r),                        \
        FZ_ROW_##ALL(name##_EI32_r), FZ_ROW_##ALL(name##_AI32),                      \
        FZ_ROW_##ALL(name##_EG8_r), FZ_ROW_##ALL(name##_GE8_r),                      \
        FZ_ROW_##ALL(name##_EI8_r)
    static const struct {
        insn_fn plain, any, by_cc[16];
    } rows[] = {
        FZ_ALU(cmp, 1), FZ_ALU(sub, 1), FZ_ALU(add, 0), FZ_ALU(and, 0), FZ_ALU(or, 0),
        FZ_ALU(xor, 0), FZ_ROW_1(test_EG32_r), FZ_ROW_1(test_EI32_r), FZ_ROW_1(test_AI32),
        FZ_ROW_1(test_EG8_r), FZ_ROW_1(test_EI8_r), FZ_ROW_1(cmp_EG8_rl),
        FZ_ROW_1(cmp_GE8_rl), FZ_ROW_1(cmp_EI8_rl), FZ_ROW_1(test_EG8_rl),
        FZ_ROW_1(test_EI8_rl),
    };
#undef FZ_ALU
#undef FZ_ROW_1
#undef FZ_ROW_0
#undef FZ_EN_
    for (unsigned k = 0; k < sizeof rows / sizeof rows[0]; k++)
        if (rows[k].plain == producer)
            return rows[k].by_cc[cc & 15] ? rows[k].by_cc[cc & 15] : rows[k].any;
    return NULL;
}

insn_fn jcc_fused_quad(insn_fn triple, enum fused_quad kind)
{
#define FQ_(name)                                                                    \
    {op_fi_##name, {op_fqshl_##name, op_fqshr_##name, op_fqsar_##name, op_fql_##name}}
#define FQ_CC_(name, CC)                                                             \
    FQ_(name##_c##CC), FQ_(name##_c##CC##_d1), FQ_(name##_c##CC##_d2),                \
        FQ_(name##_c##CC##_d3), FQ_(name##_c##CC##_d4)
    static const struct {
        insn_fn triple, by_kind[QUAD_KINDS];
    } rows[] = {FQ_(cmp_EI32_r),       FQ_CC_(cmp_EI32_r, 0),  FQ_CC_(cmp_EI32_r, 1),
                FQ_CC_(cmp_EI32_r, 2), FQ_CC_(cmp_EI32_r, 3),  FQ_CC_(cmp_EI32_r, 4),
                FQ_CC_(cmp_EI32_r, 5), FQ_CC_(cmp_EI32_r, 6),  FQ_CC_(cmp_EI32_r, 7),
                FQ_CC_(cmp_EI32_r, 8), FQ_CC_(cmp_EI32_r, 9),  FQ_CC_(cmp_EI32_r, 12),
                FQ_CC_(cmp_EI32_r, 13), FQ_CC_(cmp_EI32_r, 14), FQ_CC_(cmp_EI32_r, 15)};
#undef FQ_CC_
#undef FQ_
    for (unsigned k = 0; k < sizeof rows / sizeof rows[0]; k++)
        if (rows[k].triple == triple)
            return rows[k].by_kind[kind];
    return NULL;
}

insn_fn jcc_fused_pre(insn_fn fused, enum fused_pre kind)
{
#define FP_(name) {op_fz_##name, {op_fi_##name, op_fd_##name, op_fx_##name, op_fb_##name, op_fs_##name}}
#define FP_CC_(name, CC)                                                             \
    FP_(name##_c##CC), FP_(name##_c##CC##_d1), FP_(name##_c##CC##_d2),                \
        FP_(name##_c##CC##_d3), FP_(name##_c##CC##_d4)
#define FP_ALL_(name)                                                                \
    FP_(name), FP_CC_(name, 0), FP_CC_(name, 1), FP_CC_(name, 2), FP_CC_(name, 3),   \
        FP_CC_(name, 4), FP_CC_(name, 5), FP_CC_(name, 6), FP_CC_(name, 7),          \
        FP_CC_(name, 8), FP_CC_(name, 9), FP_CC_(name, 12), FP_CC_(name, 13),        \
        FP_CC_(name, 14), FP_CC_(name, 15)
    static const struct {
        insn_fn fused, by_kind[PRE_KINDS];
    } rows[] = {FP_ALL_(cmp_EG32_r), FP_ALL_(cmp_GE32_r), FP_ALL_(cmp_EI32_r)};
#undef FP_ALL_
#undef FP_CC_
#undef FP_
    for (unsigned k = 0; k < sizeof rows / sizeof rows[0]; k++)
        if (rows[k].fused == fused)
            return rows[k].by_kind[kind];
    return NULL;
}

OP(jmp_rel) { jump_near(c, c->eip + i->imm, i->osize); }

static __attribute__((noinline)) void call_rel_any(struct cpu *c, const struct insn *i)
{
    uint32_t target = c->eip + i->imm;
    if (i->osize == 2)
        target &= 0xFFFF;
    if (target > c->seg[SEG_CS].limit)
        target_fault(c, target);
    push(c, i->osize, c->eip);
    c->eip = target;
}

/* The fast paths of CALL and RET: 32-bit, the target within the CS limit, the stack flat and
 * 32-bit with the slot in the TLB (stack_host); the general path (which checks the limit first,
 * then pushes or pops) otherwise. */
static inline bool call_fast(struct cpu *c, uint32_t target)
{
    uint8_t *p;
    if (target > c->seg[SEG_CS].limit || !(p = stack_host(c, c->r[ESP] - 4, 4, TLB_W_S)))
        return false;
    host_store(p, 4, c->eip);
    c->r[ESP] -= 4;
    c->eip = target;
    return true;
}

OP(call_rel)
{
    if (!(i->osize == 4 && call_fast(c, c->eip + i->imm)))
        call_rel_any(c, i);
}

OP(jmp_E) { jump_near(c, rd_rm(c, i, i->osize), i->osize); }

static __attribute__((noinline)) void call_E_any(struct cpu *c, const struct insn *i)
{
    uint32_t target = rd_rm(c, i, i->osize);
    if (target > c->seg[SEG_CS].limit)
        target_fault(c, target);
    push(c, i->osize, c->eip);
    c->eip = target;
}

/* CALL r32 (a register operand) by the same fast path. */
OP(call_E)
{
    if (!(i->osize == 4 && i->modreg && call_fast(c, c->r[i->rm])))
        call_E_any(c, i);
}

static __attribute__((noinline)) void near_return(struct cpu *c, unsigned osize, uint32_t extra)
{
    uint32_t target = stack_peek(c, osize, 0);
    if (target > c->seg[SEG_CS].limit)
        target_fault(c, target);
    c->r[ESP] = sp_with(c, c->r[ESP] + osize + extra);
    c->eip = target;
}

OP(ret)
{
    uint32_t sp = c->r[ESP];
    const uint8_t *p;
    if (i->osize == 4 && (p = stack_host(c, sp, 4, TLB_R_S))) {
        uint32_t target = host_load(p, 4);
        if (target <= c->seg[SEG_CS].limit) {
            c->r[ESP] = sp + 4;
            c->eip = target;
            return;
        }
    }
    near_return(c, i->osize, 0);
}

OP(ret_imm) { near_return(c, i->osize, i->imm & 0xFFFF); }

/* ---- a block's last instruction going on to the next block (icache.h struct jlink) ---- */

/* The last instruction i of block c->last_block (c->cur == i, in run_block's chain): EIP,
 * insn_eip and the count exact, as op_block_last makes them (the instruction not yet counted). */
static inline __attribute__((always_inline)) void tail_settle(struct cpu *c,
                                                           const struct insn *i)
{
    c->cur = NULL;
    c->icount += i->idx;
    c->insn_eip = c->eip + i->off;
    c->eip = c->insn_eip + i->len;
}

/* The transfer's general path, as op_block_last runs it: the block ends (STOP_END), and the
 * dispatch loop finds the next block (and makes the tail link: exec.c run_chain). */
static __attribute__((noinline)) void tail_any(struct cpu *c, const struct insn *i)
{
    c->stop_block = STOP_END;
    c->last_block->last_fn(c, i);
    c->stop_block |= STOP_END;
}

/* The transfer's side effects done (the push or pop: a TLB hit on the stack is never a
 * device's, a code page's write or a watched address, so nothing asked to stop the block) and
 * i still running unsettled (c->cur == i): the instruction retires and the block at target runs
 * next, threaded, when i's tail link holds for target (icache_holds' test) and that block runs
 * whole within c->thread_end (the budget: no device event or limit falls inside it; and the
 * nesting bound, as control.c jcc_jump); else the state is made exact, EIP the target, and the
 * block ends here as after op_block_last, the instruction counted by the dispatch loop (exec.c
 * leave_mid). */
/* The block i's tail link leads to when the link holds for target (icache_holds' test and the
 * CS limit) and that block runs whole within c->thread_end with count instructions retired
 * before it; else NULL. Shared by tail_go and tail_event. */
static inline __attribute__((always_inline)) struct block *tail_link(const struct cpu *c,
                                                                  const struct insn *i,
                                                                  uint32_t target, uint64_t count)
{
    const struct jlink *l = jlink_of(i);
    struct block *n = l->to;
    return n && l->eip == target && l->epoch == c->map_epoch && l->cpl == c->cpl &&
                   n->gen0 == c->page_gen[n->phys >> 12] && l->end <= c->seg[SEG_CS].limit &&
                   count + n->n <= c->thread_end
               ? n
               : NULL;
}

/* Block n (at c->eip) runs next, threaded, count instructions retired before it. */
static inline __attribute__((always_inline)) void tail_enter(struct cpu *c, struct block *n,
                                                          uint64_t count)
{
    c->icount = count;
    c->last_block = n;
    c->cur = n->insns;
    n->insns->fn(c, n->insns);
}

static inline __attribute__((always_inline)) void tail_go(struct cpu *c, const struct insn *i,
                                                       uint32_t target)
{
    uint64_t count = c->icount + i->idx + 1u;
    struct block *n = tail_link(c, i, target, count);
    if (n) {
        c->eip = target;
        tail_enter(c, n, count);
        return;
    }
    tail_settle(c, i);
    c->eip = target;
    c->stop_block = STOP_END;
}

/* A RET whose tail link names another target (a function with many callers), settled, EIP the
 * target: the block the jump cache holds for EIP, under the same tests, becomes the link and
 * runs next; else the block ends (as in tail_go). */
static __attribute__((noinline)) void ret_miss(struct cpu *c, const struct insn *i)
{
    struct block *n = icache_jc_get(c);
    uint64_t count = c->icount + 1u;
    if (n && (uint64_t)c->eip + n->bytes - 1 <= c->seg[SEG_CS].limit &&
        count + n->n <= c->thread_end) {
        jlink_set(c, jlink_of(i), n);
        c->icount = count;
        c->last_block = n;
        c->cur = n->insns;
        n->insns->fn(c, n->insns);
        return;
    }
    c->stop_block = STOP_END;
}

/* To target through a link keyed by the target (RET's, CALL r/m32's): tail_go when the link
 * names target or nothing yet, else the jump cache (ret_miss). */
static inline __attribute__((always_inline)) void tail_keyed(struct cpu *c, const struct insn *i,
                                                             uint32_t target)
{
    const struct jlink *l = jlink_of(i);
    if (l->eip != target && l->to) {
        tail_settle(c, i);
        c->eip = target;
        ret_miss(c, i);
        return;
    }
    tail_go(c, i, target);
}

/* CALL rel32 at a block's end: call_fast's test (the target within the CS limit, a flat 32-bit
 * stack whose slot hits the TLB), else the general path. */
void op_block_call(struct cpu *c, const struct insn *i)
{
    uint32_t next = c->eip + i->off + i->len, target = next + i->imm;
    uint8_t *p;
    if (target > c->seg[SEG_CS].limit || !(p = stack_host(c, c->r[ESP] - 4, 4, TLB_W_S))) {
        tail_settle(c, i);
        tail_any(c, i);
        return;
    }
    host_store(p, 4, next);
    c->r[ESP] -= 4;
    tail_go(c, i, target);
}

/* CALL r/m32 (FF /2) at a block's end: the target from a register or, through fast_host (a
 * flat segment, a TLB hit in one page), from memory, then call_fast's test; else the general
 * path. Like RET's, its link is keyed by the target, and a link that names another target
 * (a call through a table of functions) asks the jump cache (ret_miss). */
void op_block_call_E(struct cpu *c, const struct insn *i)
{
    uint32_t target;
    uint8_t *p;
    if (i->modreg) {
        target = c->r[i->rm];
    } else {
        const uint8_t *q = fast_host(c, i->seg, ea(c, i), 4, TLB_R_S);
        if (!q) {
            tail_settle(c, i);
            tail_any(c, i);
            return;
        }
        target = host_load(q, 4);
    }
    if (target > c->seg[SEG_CS].limit || !(p = stack_host(c, c->r[ESP] - 4, 4, TLB_W_S))) {
        tail_settle(c, i);
        tail_any(c, i);
        return;
    }
    host_store(p, 4, c->eip + i->off + i->len);
    c->r[ESP] -= 4;
    tail_keyed(c, i, target);
}

/* JMP rel8/rel32 (32-bit operand size) at a block's end. */
void op_block_jmp(struct cpu *c, const struct insn *i)
{
    uint32_t target = c->eip + i->off + i->len + i->imm;
    if (target > c->seg[SEG_CS].limit) {
        tail_settle(c, i);
        tail_any(c, i); /* #GP(0), the JMP's */
        return;
    }
    tail_go(c, i, target);
}

/* RET (32-bit) at a block's end: op_ret's fast path, else the general path. The link is keyed
 * by the target popped and the CPL: a RET at CPL 3 to where a RET at CPL 0 went is looked up
 * (and its fetch checked) again; so is the jump cache's answer when the link names another
 * target (ret_miss). */
void op_block_ret(struct cpu *c, const struct insn *i)
{
    uint32_t sp = c->r[ESP];
    const uint8_t *p = stack_host(c, sp, 4, TLB_R_S);
    uint32_t target;
    if (!p || (target = host_load(p, 4)) > c->seg[SEG_CS].limit) {
        tail_settle(c, i);
        tail_any(c, i);
        return;
    }
    c->r[ESP] = sp + 4;
    tail_keyed(c, i, target);
}

/* INT n and IRET at a block's end: the instruction runs as op_block_last runs it (settled,
 * STOP_END; a fault is its own, an event is delivered or returned from the usual way), and then,
 * when the dispatch loop would go on with the chain anyway (exec.c run_chain: chain_on with the
 * stall from before the instruction, which only a delivery here can change), the block at the
 * new CS:EIP runs next, threaded, through the instruction's tail link, keyed by that EIP and the
 * new CPL (icache_holds' tests; made by run_chain after a return to it: icache_keep_tail), when
 * it holds and that block runs whole within c->thread_end (as tail_go). Otherwise the block
 * ends here as after op_block_last. */
static inline __attribute__((always_inline)) void tail_event(struct cpu *c, const struct insn *i,
                                                              uint64_t stall)
{
    c->stop_block |= STOP_END; /* counted by leave_mid (c->cur NULL), as op_block_last's */
    uint64_t count = c->icount + 1u;
    struct block *n = tail_link(c, i, c->eip, count);
    if (n && chain_on(c, stall)) {
        c->stop_block = 0;
        tail_enter(c, n, count);
    }
}

void op_block_int(struct cpu *c, const struct insn *i)
{
    uint64_t stall = c->stall;
    tail_settle(c, i);
    c->stop_block = STOP_END; /* the handler's tail returns (insn.h insn_next) */
    op_int_imm(c, i);
    tail_event(c, i, stall);
}

void op_block_iret(struct cpu *c, const struct insn *i)
{
    uint64_t stall = c->stall;
    tail_settle(c, i);
    c->stop_block = STOP_END;
    op_iret(c, i);
    tail_event(c, i, stall);
}

/* LOOP/LOOPE/LOOPNE (E2/E1/E0): decrement the count register (CX or ECX by address size)
 * without touching flags, then jump while it is not zero (and ZF matches). */
OP(loop)
{
    uint32_t count = (i->asize == 2 ? (c->r[ECX] - 1) & 0xFFFF : c->r[ECX] - 1);
    int take = count != 0;
    if (take && i->cc != 2) {
        int zf = cond_eval(c, 4); /* E */
        take = i->cc == 1 ? zf : !zf;
    }
    uint32_t target = c->eip + i->imm;
    if (i->osize == 2)
        target &= 0xFFFF;
    if (take && target > c->seg[SEG_CS].limit)
        target_fault(c, target);
    if (i->asize == 2)
        set_reg(c, ECX, 2, count);
    else
        c->r[ECX] = count;
    if (take)
        c->eip = target;
}

OP(jcxz)
{
    uint32_t count = i->asize == 2 ? c->r[ECX] & 0xFFFF : c->r[ECX];
    if (count == 0)
        jump_near(c, c->eip + i->imm, i->osize);
}

/* ---- far transfers ---- */

/* The code segment a far JMP/CALL (directly, or through a call gate) lands in. Direct
 * (SDM vol. 2 JMP, CALL): conforming needs DPL <= CPL, non-conforming RPL <= CPL and DPL = CPL.
 * Through a gate the RPL of the gate's selector does not matter and a non-conforming target may
 * be more privileged (DPL <= CPL; only CALL may actually change CPL). Present: else #NP(sel). */
static struct segment code_target(struct cpu *c, uint16_t sel, bool via_gate, bool is_jmp)
{
    uint32_t err = sel_error(sel);
    struct desc d;
    desc_read_or_gp(c, sel, SU_GATE_CS, &d);
    unsigned rpl = sel_rpl(sel);
    if (!desc_is_code(&d))
        raise_sel(c, EXC_GP, err, SR_TYPE, SU_GATE_CS, sel, &d);
    bool conforming = desc_is_conforming(&d);
    enum sel_reason why = SR_NONE;
    if (!via_gate) {
        if (conforming)
            why = d.dpl > c->cpl ? SR_DPL_GT_CPL : SR_NONE;
        else
            why = rpl > c->cpl ? SR_RPL_GT_CPL : d.dpl != c->cpl ? SR_DPL_NE_CPL : SR_NONE;
    } else if (d.dpl > c->cpl) {
        why = SR_DPL_GT_CPL;
    } else if (is_jmp && !conforming && d.dpl != c->cpl) {
        why = SR_DPL_NE_CPL;
    }
    if (why != SR_NONE)
        raise_sel(c, EXC_GP, err, why, SU_GATE_CS, sel, &d);
    if (!d.p)
        raise_sel(c, EXC_NP, err, SR_NOT_PRESENT, SU_GATE_CS, sel, &d);
    struct segment s;
    desc_to_segment(sel_error(sel), &d, &s);
    unsigned new_cpl = (via_gate && !conforming) ? d.dpl : c->cpl;
    s.sel = (uint16_t)(sel_error(sel) | new_cpl);
    return s;
}

/* A far JMP/CALL operand: either a code segment, or a call gate (type 4: 16-bit, type 0xC:
 * 32-bit) whose DPL must be >= max(CPL, RPL) (#GP(gate)) and which must be present
 * (#NP(gate)). A TSS descriptor or a task gate means a task switch (task.c). */
struct far_dest {
    struct segment cs;
    uint32_t eip;
    bool gate;
    unsigned gate_size;   /* 2 or 4: the size of what the gate pushes */
    unsigned params;      /* parameters the gate copies */
};

static struct far_dest far_dest(struct cpu *c, uint16_t sel, uint32_t off, bool is_jmp)
{
    struct far_dest d = {0};
    uint32_t err = sel_error(sel);
    struct desc g;
    desc_read_or_gp(c, sel, SU_FAR, &g);
    if (g.s) {
        d.cs = code_target(c, sel, false, is_jmp);
        d.eip = off;
    } else if (desc_is_call_gate(&g)) {
        if (g.dpl < c->cpl || g.dpl < sel_rpl(sel))
            raise_sel(c, EXC_GP, err, SR_DPL_LT_PRIV, SU_FAR, sel, &g);
        if (!g.p)
            raise_sel(c, EXC_NP, err, SR_NOT_PRESENT, SU_FAR, sel, &g);
        d.gate = true;
        d.gate_size = desc_is_32bit_system(&g) ? 4 : 2;
        d.params = gate_params(&g);
        d.cs = code_target(c, gate_selector(&g), true, is_jmp);
        d.eip = gate_offset(&g);
    } else {
        raise_sel(c, EXC_GP, err, SR_TYPE, SU_FAR, sel, &g);
    }
    if (d.eip > d.cs.limit)
        raise_limit(c, EXC_GP, 0, SR_OFFSET_LIMIT, SU_TARGET, d.cs.sel, d.eip, d.cs.limit);
    return d;
}

/* A far JMP/CALL whose selector names a TSS (type 9, 0xB) or a task gate (type 5) switches
 * tasks: the descriptor's DPL must be >= max(CPL, RPL) (#GP(sel)), a gate must be present
 * (#NP(sel)). Returns false when the selector names something else. */
static bool far_task(struct cpu *c, uint16_t sel, enum task_reason why)
{
    struct desc d;
    desc_read_or_gp(c, sel, SU_FAR, &d);
    bool gate = desc_is_task_gate(&d);
    if (!gate && !(desc_is_tss(&d) && desc_is_32bit_system(&d)))
        return false;
    if (d.dpl < c->cpl || d.dpl < sel_rpl(sel))
        raise_sel(c, EXC_GP, sel_error(sel), SR_DPL_LT_PRIV, SU_FAR, sel, &d);
    if (gate) {
        if (!d.p)
            raise_sel(c, EXC_NP, sel_error(sel), SR_NOT_PRESENT, SU_FAR, sel, &d);
        sel = gate_selector(&d);
    }
    task_switch(c, sel, why, NULL, 0);
    return true;
}

static void far_jump(struct cpu *c, uint16_t sel, uint32_t off)
{
    if (far_task(c, sel, TASK_JMP))
        return;
    struct trace_event ev;
    trace_begin(c, &ev, TR_FARJMP, 0, false, 0);
    struct far_dest d = far_dest(c, sel, off, true);
    seg_set_cs(c, d.cs.sel, d.cs.base, d.cs.limit, d.cs.attr);
    c->eip = d.eip;
    if (d.gate)
        trace_end(c, &ev);
}

/* Reads SS:ESP for privilege level `pl` from the 32-bit TSS and checks the stack segment as
 * the SDM's call-gate and interrupt pseudo-code do (#TS(sel), #SS(sel) if not present). */
void tss_stack(struct cpu *c, unsigned pl, uint32_t ext, struct segment *ss, uint32_t *esp)
{
    unsigned off = tss_esp_offset(pl);
    if (!(c->tr.attr & SA_P) || off + 5 > c->tr.limit)
        raise_limit(c, EXC_TS, sel_error(c->tr.sel) + ext, SR_TSS_LIMIT, SU_CUR_TSS, c->tr.sel,
                    off + 5, (c->tr.attr & SA_P) ? c->tr.limit : 0);
    *esp = lin_read_sup(c, c->tr.base + off, 4);
    uint16_t sel = (uint16_t)lin_read_sup(c, c->tr.base + off + 4, 2);
    struct desc d;
    uint32_t addr;
    uint32_t err = sel_error(sel) + ext;
    if (sel_is_null(sel))
        raise_sel(c, EXC_TS, ext, SR_NULL, SU_TSS_STACK, sel, NULL);
    enum sel_reason why = desc_read(c, sel, &d, &addr);
    if (why != SR_NONE)
        raise_sel(c, EXC_TS, err, why, SU_TSS_STACK, sel, NULL);
    why = sel_rpl(sel) != pl ? SR_RPL_NE_CPL
          : d.dpl != pl      ? SR_DPL_NE_CPL
          : !desc_is_writable(&d) ? SR_TYPE
                                  : SR_NONE;
    if (why != SR_NONE) {
        struct sel_fault f = sel_fault_of(c, why, SU_TSS_STACK, sel, &d);
        f.cpl = (uint8_t)pl; /* the level the stack is for */
        raise_sel_fault(c, EXC_TS, err, &f);
    }
    if (!d.p)
        raise_sel(c, EXC_SS, err, SR_NOT_PRESENT, SU_TSS_STACK, sel, &d);
    desc_to_segment(sel, &d, ss);
}

/* Writes `n` values of `w` bytes below *sp on stack segment ss with the access rights of
 * privilege `pl`, checking the segment limit (#SS(err)) of an expand-up or expand-down stack
 * (valid offsets limit+1 .. 0xFFFF or 0xFFFFFFFF by B, SDM vol. 3 3.4.5.1); *sp moves down. */
static void stack_write(struct cpu *c, const struct segment *ss, unsigned pl, uint32_t *sp,
                        unsigned w, const uint32_t *vals, unsigned n, uint32_t err)
{
    struct desc d = desc_from_cache(ss->base, ss->limit, ss->attr);
    uint32_t m = d.db ? 0xFFFFFFFFu : 0xFFFFu;
    uint32_t need = pl == 3 ? TLB_W_U : TLB_W_S;
    bool down = desc_is_expand_down(&d);
    for (unsigned k = 0; k < n; k++) {
        uint32_t off = (*sp - w) & m;
        uint64_t last = (uint64_t)off + w - 1;
        if (!ss->flat && (down ? off <= ss->limit || last > m : last > ss->limit))
            raise_limit(c, EXC_SS, err, SR_OFFSET_LIMIT, SU_STACK, ss->sel, off, ss->limit);
        lin_write_need(c, ss->base + off, w, vals[k], need);
        *sp = off;
    }
}

/* Far CALL (SDM vol. 2 CALL, protected mode). Through a call gate to a more privileged
 * non-conforming segment the stack switches to the TSS's SS:ESP for the new CPL, and the new
 * stack receives the old SS, ESP, `params` parameters copied from the old stack, CS and EIP. */
static void far_call(struct cpu *c, uint16_t sel, uint32_t off, unsigned osize)
{
    if (far_task(c, sel, TASK_CALL))
        return;
    struct trace_event ev;
    trace_begin(c, &ev, TR_FARCALL, 0, false, 0);
    struct far_dest d = far_dest(c, sel, off, false);
    unsigned new_cpl = sel_rpl(d.cs.sel);

    if (d.gate && new_cpl < c->cpl) {
        struct segment ss;
        uint32_t esp, vals[36];
        unsigned w = d.gate_size, n = 0;
        tss_stack(c, new_cpl, 0, &ss, &esp);
        vals[n++] = c->seg[SEG_SS].sel;
        vals[n++] = c->r[ESP];
        for (unsigned k = d.params; k-- > 0;)
            vals[n++] = stack_peek(c, w, k * w);
        vals[n++] = c->seg[SEG_CS].sel;
        vals[n++] = c->eip;
        uint32_t sp = esp;
        stack_write(c, &ss, new_cpl, &sp, w, vals, n, sel_error(ss.sel));
        c->seg[SEG_SS] = ss;
        c->r[ESP] = (ss.attr & SA_DB) ? sp : (esp & 0xFFFF0000u) | sp;
    } else {
        unsigned w = d.gate ? d.gate_size : osize;
        uint32_t vals[2] = {c->seg[SEG_CS].sel, c->eip};
        uint32_t sp = c->r[ESP];
        stack_write(c, &c->seg[SEG_SS], c->cpl, &sp, w, vals, 2, 0);
        c->r[ESP] = sp_with(c, sp);
    }
    seg_set_cs(c, d.cs.sel, d.cs.base, d.cs.limit, d.cs.attr);
    c->eip = d.eip;
    if (d.gate)
        trace_end(c, &ev);
}

OP(jmpf_ptr) { far_jump(c, i->imm2, i->osize == 2 ? i->imm & 0xFFFF : i->imm); }
OP(callf_ptr) { far_call(c, i->imm2, i->osize == 2 ? i->imm & 0xFFFF : i->imm, i->osize); }

OP(jmpf_E)
{
    uint32_t off = ea(c, i);
    uint32_t target = rd(c, i->seg, off, i->osize);
    uint16_t sel = (uint16_t)rd(c, i->seg, off + i->osize, 2);
    far_jump(c, sel, target);
}

OP(callf_E)
{
    uint32_t off = ea(c, i);
    uint32_t target = rd(c, i->seg, off, i->osize);
    uint16_t sel = (uint16_t)rd(c, i->seg, off + i->osize, 2);
    far_call(c, sel, target, i->osize);
}

/* Checks the CS selector popped by RETF/IRET (SDM vol. 2 RET, IRET): not null, in the table,
 * a code segment, RPL >= CPL, conforming: DPL <= RPL, non-conforming: DPL = RPL, present. */
static struct segment return_cs(struct cpu *c, uint16_t sel)
{
    uint32_t err = sel_error(sel);
    struct desc d;
    desc_read_or_gp(c, sel, SU_RET_CS, &d);
    unsigned rpl = sel_rpl(sel);
    enum sel_reason why = !desc_is_code(&d) ? SR_TYPE
                          : rpl < c->cpl    ? SR_RPL_LT_CPL
                                            : SR_NONE;
    if (why == SR_NONE && desc_is_conforming(&d) && d.dpl > rpl)
        why = SR_DPL_GT_RPL;
    if (why == SR_NONE && !desc_is_conforming(&d) && d.dpl != rpl)
        why = SR_DPL_NE_RPL;
    if (why != SR_NONE)
        raise_sel(c, EXC_GP, err, why, SU_RET_CS, sel, &d);
    if (!d.p)
        raise_sel(c, EXC_NP, err, SR_NOT_PRESENT, SU_RET_CS, sel, &d);
    struct segment s;
    desc_to_segment(sel, &d, &s);
    return s;
}

/* Checks the SS selector popped on a return to an outer level: RPL and DPL equal the new CPL,
 * writable data, present (#GP(sel) / #SS(sel)). */
static struct segment return_ss(struct cpu *c, uint16_t sel, unsigned new_cpl)
{
    uint32_t err = sel_error(sel);
    struct desc d;
    desc_read_or_gp(c, sel, SU_RET_SS, &d);
    enum sel_reason why = sel_rpl(sel) != new_cpl ? SR_RPL_NE_CPL
                          : d.dpl != new_cpl      ? SR_DPL_NE_CPL
                          : !desc_is_writable(&d) ? SR_TYPE
                                                  : SR_NONE;
    if (why != SR_NONE) {
        struct sel_fault f = sel_fault_of(c, why, SU_RET_SS, sel, &d);
        f.cpl = (uint8_t)new_cpl; /* compared with the CPL being returned to */
        raise_sel_fault(c, EXC_GP, err, &f);
    }
    if (!d.p)
        raise_sel(c, EXC_SS, err, SR_NOT_PRESENT, SU_RET_SS, sel, &d);
    struct segment s;
    desc_to_segment(sel, &d, &s);
    return s;
}

/* After a return to an outer level, data segment registers the new CPL may not use become null
 * (data or non-conforming code with DPL < CPL). */
static inline void null_if_inaccessible(struct segment *s, unsigned cpl)
{
    /* Present, not conforming code, DPL < CPL (SA_* bits of the cache). */
    const uint16_t conforming = SA_S | TYPE_CODE | TYPE_EC;
    uint16_t a = s->attr;
    if ((unsigned)((a & SA_DPL) >> 5) < cpl && (a & SA_P) && (a & conforming) != conforming)
        *s = (struct segment){0}; /* sel, base, limit, attr 0, not flat */
}

static inline void null_inaccessible_segments(struct cpu *c)
{
    /* The usual case: all four have DPL 3, and none is inaccessible at any CPL. */
    if ((c->seg[SEG_ES].attr & c->seg[SEG_DS].attr & c->seg[SEG_FS].attr &
         c->seg[SEG_GS].attr & SA_DPL) == SA_DPL)
        return;
    unsigned cpl = c->cpl;
    null_if_inaccessible(&c->seg[SEG_ES], cpl);
    null_if_inaccessible(&c->seg[SEG_DS], cpl);
    null_if_inaccessible(&c->seg[SEG_FS], cpl);
    null_if_inaccessible(&c->seg[SEG_GS], cpl);
}

/* Pops EIP and CS (and EFLAGS when flags_too), and for a return to an outer level ESP and SS;
 * `extra` bytes (RETF imm16) are released from each stack. Returns the popped EFLAGS. */
static uint32_t far_return(struct cpu *c, unsigned osize, uint32_t extra, bool flags_too)
{
    /* The CS slot is read first, as 16 bits, then EIP (a fault on the CS slot wins). */
    uint16_t sel = (uint16_t)stack_peek(c, 2, osize);
    uint32_t new_eip = stack_peek(c, osize, 0);
    uint32_t new_flags = flags_too ? stack_peek(c, osize, 2 * osize) : 0;
    unsigned nframe = (flags_too ? 3 : 2) * osize;
    if (osize == 2)
        new_eip &= 0xFFFF;

    struct segment cs = return_cs(c, sel);
    unsigned new_cpl = sel_rpl(sel);
    if (new_eip > cs.limit)
        raise_limit(c, EXC_GP, 0, SR_OFFSET_LIMIT, SU_TARGET, sel, new_eip, cs.limit);
    if (new_cpl == c->cpl) {
        c->r[ESP] = sp_with(c, c->r[ESP] + nframe + extra);
        seg_set_cs(c, cs.sel, cs.base, cs.limit, cs.attr);
        c->eip = new_eip;
    } else {
        uint32_t new_esp = stack_peek(c, osize, nframe + extra);
        uint16_t ss_sel = (uint16_t)stack_peek(c, osize, nframe + extra + osize);
        struct segment ss = return_ss(c, ss_sel, new_cpl);
        seg_set_cs(c, cs.sel, cs.base, cs.limit, cs.attr);
        c->seg[SEG_SS] = ss;
        if (osize == 2)
            new_esp &= 0xFFFF;
        c->r[ESP] = (ss.attr & SA_DB) ? new_esp + extra : (c->r[ESP] & 0xFFFF0000u) |
                                                             ((new_esp + extra) & 0xFFFF);
        c->eip = new_eip;
        null_inaccessible_segments(c);
    }
    return new_flags;
}

OP(retf)
{
    struct trace_event ev;
    uint8_t cpl = c->cpl;
    trace_begin(c, &ev, TR_FARRET, 0, false, 0);
    far_return(c, i->osize, opcode_table[i->id].key == 0xCA ? i->imm & 0xFFFF : 0, false);
    if (c->cpl != cpl)
        trace_end(c, &ev);
}

/* IRET in protected mode (NT = 0). EFLAGS restore rules (SDM vol. 2 IRET):
 *   CPL 0:           every flag; VIF and VIP only with a 32-bit operand size. VM = 1 in a
 *                    32-bit frame is a return to virtual-8086 mode, which Ringside does not
 *                    implement: the machine stops (cpu_stop_unsupported)
 *   CPL <= IOPL:     all but IOPL (and VM/VIF/VIP)
 *   CPL > IOPL:      all but IOPL and IF
 * CPL here is the privilege *before* the return. A 16-bit IRET restores only the low word. */
/* EFLAGS after an IRET from privilege `cpl` with operand size `osize` (the rules above). */
static void iret_flags(struct cpu *c, uint8_t cpl, unsigned osize, uint32_t new_flags)
{
    uint32_t mask = FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_TF | FL_DF | FL_OF | FL_NT |
                    FL_RF | FL_AC | FL_ID;
    if (cpl == 0)
        mask |= FL_IOPL | FL_IF | FL_VIF | FL_VIP; /* VIF/VIP fall to the 16-bit mask below */
    else if (cpl <= iopl(c))
        mask |= FL_IF;
    if (osize == 2)
        mask &= 0xFFFF;
    /* Every arithmetic flag is in the mask (both sizes): the popped ones replace the lazy
     * flags, which need not be computed first. */
    c->lf.op = LF_NONE;
    c->eflags = ((c->eflags & ~mask) | (new_flags & mask)) | FL_R1;
    cpu_update_acc(c);
}

/* Descriptor words: a present non-conforming code segment (DPL tested apart). */
#define CODE_MASK (DESC_HI_S | DESC_HI_P | ((TYPE_CODE | TYPE_EC) << 8))
#define CODE_WANT (DESC_HI_S | DESC_HI_P | (TYPE_CODE << 8))
/* A present writable data segment with DPL pl. */
#define DATA_MASK (DESC_HI_S | DESC_HI_P | DESC_HI_DPL | ((TYPE_CODE | TYPE_RW) << 8))
#define DATA_WANT(pl) (DESC_HI_S | DESC_HI_P | ((uint32_t)(pl) << 13) | (TYPE_RW << 8))

/* The common 32-bit IRET, decided from bytes read through the TLB: a flat 32-bit stack holding
 * the frame (EIP, CS, EFLAGS, and ESP, SS for an outer level) in one page (each half in one),
 * EFLAGS.VM clear in it (or CPL > 0), a present non-conforming code segment with DPL = RPL >=
 * CPL holding EIP, and for an outer level a present writable data segment with RPL = DPL = the
 * new CPL. The general path would check and pass every one of these and end the same way.
 * Returns false, having changed nothing, when anything else holds (a TLB miss included). */
static bool iret_fast(struct cpu *c, struct trace_event *ev)
{
    const struct segment *ss = &c->seg[SEG_SS];
    if (!ss->flat || !(ss->attr & SA_DB))
        return false;
    /* the stack through the fast TLB: what tlb_hit(TLB_R_S << acc_shift) would find, in one
     * compare (mem.h tlb_fast_host) */
    uint32_t sp = c->r[ESP];
    const uint8_t *p = tlb_fast_host(c, sp, 12, false);
    if (!p)
        return false;
    uint32_t new_eip = host_load(p, 4);
    uint16_t sel = (uint16_t)host_load(p + 4, 2);
    uint32_t new_flags = host_load(p + 8, 4);
    uint8_t cpl = c->cpl;
    unsigned rpl = sel_rpl(sel);
    if (((new_flags & FL_VM) && cpl == 0) || sel_is_null(sel) || rpl < cpl)
        return false;
    uint32_t lo, hi, addr;
    struct segment cs;
    const struct segment *ms = seg_memo_get(c, SEG_MEMO_CODE, 0, sel);
    if (ms) {
        cs = *ms;
    } else {
        if (!desc_peek(c, sel, &lo, &hi, &addr) || (hi & CODE_MASK) != CODE_WANT ||
            ((hi & DESC_HI_DPL) >> 13) != rpl)
            return false;
        seg_from_words(&cs, sel, lo, hi);
        seg_memo_put(c, SEG_MEMO_CODE, 0, sel, addr, lo, hi, &cs);
    }
    if (new_eip > cs.limit)
        return false;
    /* CS and CPL; the access rights of the new CPL and EFLAGS.AC once, in iret_flags */
    if (rpl == cpl) {
        c->r[ESP] = sp + 12;
        seg_set_cs_cpl(c, cs.sel, cs.base, cs.limit, cs.attr);
        c->eip = new_eip;
    } else {
        uint32_t sp2 = sp + 12;
        p = tlb_fast_host(c, sp2, 8, false);
        if (!p)
            return false;
        uint32_t new_esp = host_load(p, 4);
        uint16_t ss_sel = (uint16_t)host_load(p + 4, 2);
        /* SS: the memo of an SS load at the new CPL (RPL = DPL = CPL, present, writable data:
         * what DATA_WANT(rpl) asks for), else the descriptor, and a memo when its accessed bit
         * is set (as a MOV SS would leave it) */
        struct segment new_ss;
        const struct segment *mss = seg_memo_get(c, SEG_MEMO_SS, rpl, ss_sel);
        if (mss) {
            new_ss = *mss;
        } else {
            if (sel_is_null(ss_sel) || sel_rpl(ss_sel) != rpl ||
                !desc_peek(c, ss_sel, &lo, &hi, &addr) || (hi & DATA_MASK) != DATA_WANT(rpl))
                return false;
            seg_from_words(&new_ss, ss_sel, lo, hi);
            if (hi & DESC_HI_ACCESSED)
                seg_memo_put(c, SEG_MEMO_SS, rpl, ss_sel, addr, lo, hi, &new_ss);
        }
        seg_set_cs_cpl(c, cs.sel, cs.base, cs.limit, cs.attr);
        c->seg[SEG_SS] = new_ss;
        c->r[ESP] = (new_ss.attr & SA_DB) ? new_esp
                                          : (c->r[ESP] & 0xFFFF0000u) | (new_esp & 0xFFFF);
        c->eip = new_eip;
        null_inaccessible_segments(c);
    }
    iret_flags(c, cpl, 4, new_flags);
    c->stop_block |= STOP_CHECK; /* the chain may go on (exec.c chain_on) */
    trace_end(c, ev);
    return true;
}

OP(iret)
{
    c->nmi_blocked = false; /* even if the IRET faults (SDM vol. 3 6.7.1, 27.2.3) */
    if (c->eflags & FL_NT) { /* return to the task in the back link */
        uint16_t back = (uint16_t)lin_read_sup(c, c->tr.base + TSS_LINK, 2);
        task_switch(c, back, TASK_IRET, NULL, 0);
        return;
    }
    struct trace_event ev;
    trace_begin(c, &ev, TR_IRET, 0, false, 0);
    if (i->osize == 4 && iret_fast(c, &ev))
        return;
    uint8_t cpl = c->cpl;
    uint16_t cs = c->seg[SEG_CS].sel;
    unsigned osize = i->osize;
    uint32_t popped = stack_peek(c, osize, 2 * osize);
    if (osize == 4 && (popped & FL_VM) && cpl == 0) {
        uint16_t sel = (uint16_t)stack_peek(c, 2, osize); /* the CS slot first, as far_return */
        uint32_t target = stack_peek(c, osize, 0);
        cpu_stop_unsupported(c, &(struct unsupported){
            .what = "virtual-8086 mode is not supported", .by = "IRET",
            .why = "EFLAGS.VM=1 in the popped frame at CPL 0", .cs = cs, .eip = c->insn_eip,
            .target_cs = sel, .target_eip = target});
    }
    uint32_t new_flags = far_return(c, osize, 0, true);
    iret_flags(c, cpl, osize, new_flags);
    c->stop_block |= STOP_CHECK;
    trace_end(c, &ev);
}

/* ---- software interrupts ---- */

OP(int_imm) { deliver(c, i->imm & 0xFF, TR_SOFTINT); }
OP(int3) { (void)i; deliver(c, EXC_BP, TR_SOFTINT); }
OP(int1) { (void)i; deliver(c, EXC_DB, TR_EXCEPTION); }

OP(into)
{
    (void)i;
    if (cond_eval(c, 0))
        deliver(c, EXC_OF, TR_SOFTINT);
}
