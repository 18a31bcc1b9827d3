/* Dead arithmetic flags (issue 15): an instruction whose flags the next instructions of its
 * decoded block overwrite before anything can read or see them runs, in the middle of its block,
 * without recording them (a handler op_NAME_nf).
 *
 * Flags can be seen by an instruction that reads them, by a fault (the exception frame holds
 * EFLAGS), by an event or a device, and at the end of a block or a budget. So the flags of
 * instruction k are dead when the instructions after it in its block, up to one that writes
 * them all, are register-only instructions that cannot fault, stop the block, read flags or
 * write memory (the list below): the flags k leaves are then never observable. Instruction k
 * itself may fault (IMUL r32, r/m32: a fault changes nothing, flags included). A _nf handler
 * is a middle-of-block handler (insn.mid): it runs only in the middle of its block (c->cur set,
 * exec.c run_block; never the block's last instruction, whose flags are live) and tests nothing;
 * run alone (an instruction hook, a budget or CS limit that cuts the block short, a single
 * step: exec.c run_exact) the instruction runs its full handler (decode.c insn_plain_fn), so
 * EFLAGS is exact at every boundary where anything can look.
 */
#include "cpu/ops.h"

/* What a listed instruction does to the arithmetic flags. */
enum {
    DF_NONE, DF_ALL, DF_INCDEC, DF_SHIFT,
    DF_ALL_FAULT, /* writes them all, may fault: every flag is live before it */
};

/* 32-bit and byte register forms of the ALU operations (they cannot fault). */
#define NF_ALU_E(name, OPX)                                                                \
    static void op_##name##_EG32_r_nf(struct cpu *c, const struct insn *i)                 \
    {                                                                                      \
        c->r[i->rm] = c->r[i->rm] OPX c->r[i->reg];                                        \
        insn_go(c, i);                                                                     \
    }                                                                                      \
    static void op_##name##_GE32_r_nf(struct cpu *c, const struct insn *i)                 \
    {                                                                                      \
        c->r[i->reg] = c->r[i->reg] OPX c->r[i->rm];                                       \
        insn_go(c, i);                                                                     \
    }                                                                                      \
    static void op_##name##_EI32_r_nf(struct cpu *c, const struct insn *i)                 \
    {                                                                                      \
        c->r[i->rm] = c->r[i->rm] OPX i->imm;                                              \
        insn_go(c, i);                                                                     \
    }                                                                                      \
    static void op_##name##_AI32_nf(struct cpu *c, const struct insn *i)                   \
    {                                                                                      \
        c->r[EAX] = c->r[EAX] OPX i->imm;                                                  \
        insn_go(c, i);                                                                     \
    }                                                                                      \
    static void op_##name##_EG8_r_nf(struct cpu *c, const struct insn *i)                  \
    {                                                                                      \
        set_reg(c, i->rm, 1, get_reg(c, i->rm, 1) OPX get_reg(c, i->reg, 1));              \
        insn_go(c, i);                                                                     \
    }                                                                                      \
    static void op_##name##_GE8_r_nf(struct cpu *c, const struct insn *i)                  \
    {                                                                                      \
        set_reg(c, i->reg, 1, get_reg(c, i->reg, 1) OPX get_reg(c, i->rm, 1));             \
        insn_go(c, i);                                                                     \
    }                                                                                      \
    static void op_##name##_EI8_r_nf(struct cpu *c, const struct insn *i)                  \
    {                                                                                      \
        set_reg(c, i->rm, 1, (get_reg(c, i->rm, 1) OPX i->imm) & 0xFF);                    \
        insn_go(c, i);                                                                     \
    }
/* The byte forms again when every register operand is a low byte (AL, CL, DL, BL: r < 4): the
 * low byte of d OPX s depends only on the low bytes of d and s for these operations, so no test
 * for a high byte (AH..BH) is needed (nf_low picks them). */
#define NF_ALU_LOW(name, OPX)                                                              \
    static void op_##name##_EG8_rl_nf(struct cpu *c, const struct insn *i)                 \
    {                                                                                      \
        uint32_t d = c->r[i->rm];                                                          \
        c->r[i->rm] = (d & ~0xFFu) | ((d OPX c->r[i->reg]) & 0xFFu);                       \
        insn_go(c, i);                                                                     \
    }                                                                                      \
    static void op_##name##_GE8_rl_nf(struct cpu *c, const struct insn *i)                 \
    {                                                                                      \
        uint32_t d = c->r[i->reg];                                                         \
        c->r[i->reg] = (d & ~0xFFu) | ((d OPX c->r[i->rm]) & 0xFFu);                       \
        insn_go(c, i);                                                                     \
    }                                                                                      \
    static void op_##name##_EI8_rl_nf(struct cpu *c, const struct insn *i)                 \
    {                                                                                      \
        uint32_t d = c->r[i->rm];                                                          \
        c->r[i->rm] = (d & ~0xFFu) | ((d OPX i->imm) & 0xFFu);                             \
        insn_go(c, i);                                                                     \
    }
#define NF_ALU(name, OPX) NF_ALU_E(name, OPX) NF_ALU_LOW(name, OPX)
NF_ALU(add, +)
NF_ALU(or, |)
NF_ALU(and, &)
NF_ALU(sub, -)
NF_ALU(xor, ^)
#undef NF_ALU
#undef NF_ALU_LOW
#undef NF_ALU_E

/* MOVZX r32, r8 of a low byte (no flags: any position in the block). */
static void op_movzx32_rl(struct cpu *c, const struct insn *i)
{
    c->r[i->reg] = c->r[i->rm] & 0xFFu;
    insn_go(c, i);
}

/* In a handler: p, the host address of instruction I's SIZE-byte memory operand (operand form
 * FORM) when reading it takes the TLB's fast path; otherwise SLOW (a statement: an instruction's
 * own handler, threaded itself) and the handler returns. */
#define HOST_OR_(p, I, FORM, SIZE, SLOW)                                                   \
    uint8_t *p = form_host(c, I, FORM, SIZE, TLB_R_S);                                     \
    if (!p) {                                                                              \
        SLOW;                                                                              \
        return;                                                                            \
    }

/* MOVZX r32, r8 of a low byte, then MOV r32, [base + index * scale + disp] (`movzx edx, dl;
 * mov ecx, [edx*4 + table]`, a table lookup), as one handler: the MOVZX, then the load on the
 * TLB's fast path (form_host); otherwise the load runs its own handler (c->cur the load's: a
 * fault is the load's, the MOVZX retired). icache.c picks it (insn_movzx_load). */
static inline __attribute__((always_inline)) void movzx_ldx(struct cpu *c, const struct insn *i)
{
    c->r[i->reg] = c->r[i->rm] & 0xFFu;
    const struct insn *l = i + 1;
    HOST_OR_(p, l, FORM_X, 4, insn_go(c, i)) /* off it, the load's own handler */
    c->r[l->reg] = host_load(p, 4);
    insn_go(c, l);
}

static void op_movzx32_rl_ldx(struct cpu *c, const struct insn *i)
{
    movzx_ldx(c, i);
}

insn_fn insn_movzx_load(const struct insn *movzx, const struct insn *load)
{
    return movzx->fn == op_movzx32_rl && load->fn == op_mov_GE32_x ? op_movzx32_rl_ldx : NULL;
}

/* The handler for instruction i instead of nf (a byte form's _nf handler, or i's own for
 * MOVZX r32, r8) when its register operands are all low bytes; else nf. */
static insn_fn nf_low(const struct insn *i, insn_fn nf)
{
#define LOW_(name)                                                                         \
    {op_##name##_EG8_r_nf, op_##name##_EG8_rl_nf, 2},                                      \
        {op_##name##_GE8_r_nf, op_##name##_GE8_rl_nf, 2},                                  \
        {op_##name##_EI8_r_nf, op_##name##_EI8_rl_nf, 1}
    static const struct {
        insn_fn nf, low;
        uint8_t regs; /* 2: rm and reg, 1: rm */
    } rows[] = {LOW_(add), LOW_(or), LOW_(and), LOW_(sub), LOW_(xor),
                {op_movzx32_r, op_movzx32_rl, 0}};
#undef LOW_
    for (unsigned k = 0; k < sizeof rows / sizeof rows[0]; k++) {
        if (rows[k].nf != nf)
            continue;
        if (rows[k].regs == 0) /* MOVZX: a byte source (B6, not B7) */
            return !(i->cc & 1) && i->rm < 4 ? rows[k].low : nf;
        return i->rm < 4 && (rows[k].regs == 1 || i->reg < 4) ? rows[k].low : nf;
    }
    return nf;
}

/* CMP and TEST with dead flags do nothing at all. */
#define NF_NOTHING(fname)                                                                  \
    static void op_##fname##_nf(struct cpu *c, const struct insn *i)                       \
    {                                                                                      \
        insn_go(c, i);                                                                     \
    }
#define NF_CMP_FORMS(name)                                                                 \
    NF_NOTHING(name##_EG32_r) NF_NOTHING(name##_EI32_r) NF_NOTHING(name##_AI32)            \
    NF_NOTHING(name##_EG8_r) NF_NOTHING(name##_EI8_r)
NF_CMP_FORMS(cmp)
NF_CMP_FORMS(test)
NF_NOTHING(cmp_GE32_r)
NF_NOTHING(cmp_GE8_r)
#undef NF_CMP_FORMS
#undef NF_NOTHING

static void op_inc_r32_nf(struct cpu *c, const struct insn *i)
{
    c->r[i->reg]++;
    insn_go(c, i);
}

static void op_dec_r32_nf(struct cpu *c, const struct insn *i)
{
    c->r[i->reg]--;
    insn_go(c, i);
}

/* Shifts and rotates of a 32-bit register by an immediate (COUNT: 1 <= i->imm & 31 <= 31, the
 * list below only takes those) or by 1. */
#define NF_SHIFT(name, src, COUNT, EXPR)                                                   \
    static void op_##name##_##src##_nf(struct cpu *c, const struct insn *i)                \
    {                                                                                      \
        uint32_t a = c->r[i->rm];                                                          \
        unsigned n = (COUNT);                                                              \
        c->r[i->rm] = (EXPR);                                                              \
        insn_go(c, i);                                                                     \
    }
#define NF_SHIFTS(src, COUNT)                                                              \
    NF_SHIFT(rol, src, COUNT, (a << n) | (a >> ((32 - n) & 31)))                           \
    NF_SHIFT(ror, src, COUNT, (a >> n) | (a << ((32 - n) & 31)))                           \
    NF_SHIFT(shl, src, COUNT, a << n)                                                      \
    NF_SHIFT(shr, src, COUNT, a >> n)                                                      \
    NF_SHIFT(sar, src, COUNT, (uint32_t)((int32_t)a >> n))
NF_SHIFTS(imm, i->imm & 31)
NF_SHIFTS(1, 1)
#undef NF_SHIFTS
#undef NF_SHIFT

/* Pairs: MOV r32, r32 (89 /r: EG, 8B /r: GE), then a SHL/SAL, SHR, SAR of a 32-bit register by
 * 1..31 with dead flags (one of the _nf handlers above; its count in its insn.imm2: icache.c),
 * as one handler (`mov eax, ebx; shl eax, 13`: copy, then shift). Neither writes a flag that is
 * seen, reads memory or faults: the two handlers' work one after the other. A middle-of-block
 * handler (insn.mid): run on its own, the MOV's plain handler. icache.c picks them
 * (insn_mov_shift). */
#define MOV_SHIFT_(mov, DST, SRC, name, EXPR)                                              \
    static void op_##mov##_##name##_nf(struct cpu *c, const struct insn *i)                \
    {                                                                                      \
        c->r[i->DST] = c->r[i->SRC];                                                       \
        i++;                                                                               \
        uint32_t a = c->r[i->rm];                                                          \
        unsigned n = i->imm2;                                                              \
        c->r[i->rm] = (EXPR);                                                              \
        insn_go(c, i);                                                                     \
    }
#define MOV_SHIFTS_(mov, DST, SRC)                                                         \
    MOV_SHIFT_(mov, DST, SRC, shl, a << n)                                                 \
    MOV_SHIFT_(mov, DST, SRC, shr, a >> n)                                                 \
    MOV_SHIFT_(mov, DST, SRC, sar, (uint32_t)((int32_t)a >> n))
MOV_SHIFTS_(mov_EG32, rm, reg)
MOV_SHIFTS_(mov_GE32, reg, rm)
#undef MOV_SHIFTS_
#undef MOV_SHIFT_

/* The same pairs followed by XOR r/m32, r32 of registers (31 /r, op_xor_EG32_r or its _nf),
 * the three as one (`mov eax, ebx; shl eax, 13; xor eax, ebx`: xorshift's steps); the XOR's
 * flags recorded (_f) or dead (_nf), as its own handler. It cannot fault either, and it is not
 * the block's last instruction (insn_mov_shift_xor). */
#define MOV_SHIFT_XOR_(mov, DST, SRC, name, EXPR, F)                                       \
    static void op_##mov##_##name##_xor_##F(struct cpu *c, const struct insn *i)           \
    {                                                                                      \
        c->r[i->DST] = c->r[i->SRC];                                                       \
        i++;                                                                               \
        uint32_t a = c->r[i->rm];                                                          \
        unsigned n = i->imm2;                                                              \
        c->r[i->rm] = (EXPR);                                                              \
        i++;                                                                               \
        uint32_t x = c->r[i->rm], y = c->r[i->reg], r = x ^ y;                             \
        c->r[i->rm] = r;                                                                   \
        if (F##_FLAGS)                                                                     \
            lf_set(c, LF_LOGIC, 4, r, x, y, 0);                                            \
        insn_go(c, i);                                                                     \
    }
#define f_FLAGS 1
#define nf_FLAGS 0
#define MOV_SHIFTS_XOR_(mov, DST, SRC, F)                                                  \
    MOV_SHIFT_XOR_(mov, DST, SRC, shl, a << n, F)                                          \
    MOV_SHIFT_XOR_(mov, DST, SRC, shr, a >> n, F)                                          \
    MOV_SHIFT_XOR_(mov, DST, SRC, sar, (uint32_t)((int32_t)a >> n), F)
MOV_SHIFTS_XOR_(mov_EG32, rm, reg, f)
MOV_SHIFTS_XOR_(mov_EG32, rm, reg, nf)
MOV_SHIFTS_XOR_(mov_GE32, reg, rm, f)
MOV_SHIFTS_XOR_(mov_GE32, reg, rm, nf)
#undef MOV_SHIFTS_XOR_
#undef MOV_SHIFT_XOR_
#undef f_FLAGS
#undef nf_FLAGS

insn_fn insn_mov_shift(const struct insn *mov, const struct insn *shift)
{
    /* by the shift's ModRM.reg: 4 SHL, 5 SHR, 6 SAL (= SHL), 7 SAR */
    static const insn_fn eg[4] = {op_mov_EG32_shl_nf, op_mov_EG32_shr_nf, op_mov_EG32_shl_nf,
                                  op_mov_EG32_sar_nf};
    static const insn_fn ge[4] = {op_mov_GE32_shl_nf, op_mov_GE32_shr_nf, op_mov_GE32_shl_nf,
                                  op_mov_GE32_sar_nf};
    if (shift->reg < 4)
        return NULL;
    if (mov->fn == op_mov_EG32_r)
        return eg[shift->reg - 4];
    if (mov->fn == op_mov_GE32_r)
        return ge[shift->reg - 4];
    return NULL;
}

insn_fn insn_mov_shift_xor(const struct insn *mov, const struct insn *shift,
                           const struct insn *x)
{
    /* [EG, GE][flags recorded, dead][by the shift's ModRM.reg - 4] */
    static const insn_fn by[2][2][4] = {
        {{op_mov_EG32_shl_xor_f, op_mov_EG32_shr_xor_f, op_mov_EG32_shl_xor_f,
          op_mov_EG32_sar_xor_f},
         {op_mov_EG32_shl_xor_nf, op_mov_EG32_shr_xor_nf, op_mov_EG32_shl_xor_nf,
          op_mov_EG32_sar_xor_nf}},
        {{op_mov_GE32_shl_xor_f, op_mov_GE32_shr_xor_f, op_mov_GE32_shl_xor_f,
          op_mov_GE32_sar_xor_f},
         {op_mov_GE32_shl_xor_nf, op_mov_GE32_shr_xor_nf, op_mov_GE32_shl_xor_nf,
          op_mov_GE32_sar_xor_nf}},
    };
    if (shift->reg < 4 || (x->fn != op_xor_EG32_r && x->fn != op_xor_EG32_r_nf))
        return NULL;
    if (mov->fn != op_mov_EG32_r && mov->fn != op_mov_GE32_r)
        return NULL;
    return by[mov->fn == op_mov_GE32_r][x->fn == op_xor_EG32_r_nf][shift->reg - 4];
}

/* IMUL r32, r/m32 by operand form (as the decoder's forms, ops.h: a register; a flat TLB-hit
 * memory operand within one page, [base + disp] or [base + index * scale + disp], as
 * imul_GE_fast in muldiv.c; anything else, faults included, the full handler). */
#define NF_IMUL(sfx, FORM)                                                                 \
    static void op_imul_GE32_##sfx##_nf(struct cpu *c, const struct insn *i)               \
    {                                                                                      \
        uint32_t b;                                                                        \
        if ((FORM) == FORM_R) {                                                            \
            b = c->r[i->rm];                                                               \
        } else {                                                                           \
            HOST_OR_(p, i, FORM, 4, op_imul_GE32(c, i))                                    \
            b = host_load(p, 4);                                                           \
        }                                                                                  \
        c->r[i->reg] *= b; /* the low half of the signed product */                        \
        insn_go(c, i);                                                                     \
    }
NF_IMUL(r, FORM_R)
NF_IMUL(b, FORM_B)
NF_IMUL(x, FORM_X)
#undef NF_IMUL

/* The same ending a deferral (defer_flags): its slow path, where a fault or a device can see
 * the flags, first records those of the ADD/SUB r32, imm i->dfb instructions before it (the
 * fast path, a TLB hit in RAM, cannot fault or reach a device). */
static __attribute__((noinline)) void imul_df_slow(struct cpu *c, const struct insn *i)
{
    insn_defer_fix(c, i);
    op_imul_GE32(c, i); /* threaded itself */
}

#define DF_IMUL(sfx, FORM)                                                                 \
    static void op_imul_GE32_##sfx##_nfdf(struct cpu *c, const struct insn *i)             \
    {                                                                                      \
        HOST_OR_(p, i, FORM, 4, imul_df_slow(c, i))                                        \
        c->r[i->reg] *= host_load(p, 4);                                                   \
        insn_go(c, i);                                                                     \
    }
DF_IMUL(b, FORM_B)
DF_IMUL(x, FORM_X)
#undef DF_IMUL

/* Pairs of a first instruction and a register-only second one that cannot fault, as one
 * handler (icache.c picks them, insn_pair; the first gets insn.mid, so run on its own it runs
 * its plain handler and the second its own; the second keeps its handler, for a jump to it):
 * - ADD/SUB r32, imm then ADD/SUB r32, imm, both with dead flags (or deferred: deadflags.c
 *   defer_flags; the MOV that records them finds the second where it was): `add ecx, 0x50;
 *   add ebx, 4`;
 * - IMUL r32, m32 (dead or deferred flags) then ADD r32, r32 with its flags recorded: `imul
 *   ebp, [ecx-0x50]; add edx, ebp` (matmul's inner loop);
 * - MOVZX r32, m8 then INC/DEC r32 with dead flags: `movzx edx, byte [esi]; inc esi`;
 * - XOR r8, r8 of low bytes with dead flags then SHL/SHR/SAR r32 by 1..31 with its flags
 *   recorded: `xor dl, al; shr eax, 8` (CRC-32's step).
 * A first instruction with a memory operand takes the TLB's fast path only (form_host);
 * otherwise it runs its own handler (c->cur its own: a fault is its, nothing of the second
 * done), which goes on with the second's. The second's work never faults, reads memory nor
 * ends the block, so the state between the two is never seen. */
#define PAIR_ALU2_(name, OP1, OP2)                                                         \
    static void op_pair_##name(struct cpu *c, const struct insn *i)                        \
    {                                                                                      \
        c->r[i->rm] = c->r[i->rm] OP1 i->imm;                                              \
        i++;                                                                               \
        c->r[i->rm] = c->r[i->rm] OP2 i->imm;                                              \
        insn_go(c, i);                                                                     \
    }
PAIR_ALU2_(add_add, +, +)
PAIR_ALU2_(add_sub, +, -)
PAIR_ALU2_(sub_add, -, +)
PAIR_ALU2_(sub_sub, -, -)
#undef PAIR_ALU2_

/* MOV r32, [base + disp] (op_mov_GE32_b: no deferred flags to record) then one or two ADD/SUB
 * r32, imm with dead flags (matmul's `mov ebp, [ebx]; add ecx, 0x50; add ebx, 4`): the load on
 * the TLB's fast path; otherwise the MOV's own handler (a fault is the MOV's, nothing of the
 * rest done), which goes on with the next. */
#define LOAD_ALU_(name, N, OP1, OP2)                                                       \
    static void op_pair_ld_##name(struct cpu *c, const struct insn *i)                     \
    {                                                                                      \
        HOST_OR_(p, i, FORM_B, 4, op_mov_GE32_b(c, i))                                     \
        c->r[i->reg] = host_load(p, 4);                                                    \
        i++;                                                                               \
        c->r[i->rm] = c->r[i->rm] OP1 i->imm;                                              \
        if (N == 2) {                                                                      \
            i++;                                                                           \
            c->r[i->rm] = c->r[i->rm] OP2 i->imm;                                          \
        }                                                                                  \
        insn_go(c, i);                                                                     \
    }
LOAD_ALU_(add, 1, +, +)
LOAD_ALU_(sub, 1, -, -)
LOAD_ALU_(add_add, 2, +, +)
LOAD_ALU_(add_sub, 2, +, -)
LOAD_ALU_(sub_add, 2, -, +)
LOAD_ALU_(sub_sub, 2, -, -)
#undef LOAD_ALU_

#define PAIR_IMUL_ADD_(name, FORM, SLOW)                                                   \
    static void op_pair_##name(struct cpu *c, const struct insn *i)                        \
    {                                                                                      \
        HOST_OR_(p, i, FORM, 4, SLOW(c, i)) /* then the ADD's own handler */              \
        c->r[i->reg] *= host_load(p, 4);                                                   \
        i++;                                                                               \
        uint32_t a = c->r[i->rm], b = c->r[i->reg], r = a + b;                             \
        c->r[i->rm] = r;                                                                   \
        lf_set(c, LF_ADD, 4, r, a, b, 0);                                                  \
        insn_go(c, i);                                                                     \
    }
PAIR_IMUL_ADD_(imul_b_add, FORM_B, op_imul_GE32)
PAIR_IMUL_ADD_(imul_x_add, FORM_X, op_imul_GE32)
PAIR_IMUL_ADD_(imul_b_df_add, FORM_B, imul_df_slow)
PAIR_IMUL_ADD_(imul_x_df_add, FORM_X, imul_df_slow)
#undef PAIR_IMUL_ADD_

#define PAIR_MOVZX_INC_(name, FORM, SELF, OP)                                              \
    static void op_pair_##name(struct cpu *c, const struct insn *i)                        \
    {                                                                                      \
        HOST_OR_(p, i, FORM, 1, SELF(c, i)) /* then the INC's own handler */              \
        c->r[i->reg] = host_load(p, 1);                                                    \
        i++;                                                                               \
        c->r[i->reg] OP;                                                                   \
        insn_go(c, i);                                                                     \
    }
PAIR_MOVZX_INC_(movzxb_b_inc, FORM_B, op_movzxb32_b, ++)
PAIR_MOVZX_INC_(movzxb_x_inc, FORM_X, op_movzxb32_x, ++)
PAIR_MOVZX_INC_(movzxb_b_dec, FORM_B, op_movzxb32_b, --)
PAIR_MOVZX_INC_(movzxb_x_dec, FORM_X, op_movzxb32_x, --)
#undef PAIR_MOVZX_INC_

/* XOR r/m8, r8 of registers (i), then the shift after it, i left at the shift (the pair and
 * the quad below). */
#define XOR8_SHIFT_(LF, EXPR)                                                              \
    uint32_t d = c->r[i->rm];                                                              \
    c->r[i->rm] = (d & ~0xFFu) | ((d ^ c->r[i->reg]) & 0xFFu);                             \
    i++;                                                                                   \
    uint32_t a = c->r[i->rm];                                                              \
    unsigned n = i->imm & 31;                                                              \
    uint32_t r = (EXPR);                                                                   \
    c->r[i->rm] = r;                                                                       \
    lf_set(c, LF, 4, r, a, n, 0)
#define PAIR_XOR8_SHIFT_(name, LF, EXPR)                                                   \
    static void op_pair_xor8_##name(struct cpu *c, const struct insn *i)                   \
    {                                                                                      \
        XOR8_SHIFT_(LF, EXPR);                                                             \
        insn_go(c, i);                                                                     \
    }
PAIR_XOR8_SHIFT_(shl, LF_SHL, a << n)
PAIR_XOR8_SHIFT_(shr, LF_SHR, a >> n)
PAIR_XOR8_SHIFT_(sar, LF_SAR, (uint32_t)((int32_t)a >> n))
#undef PAIR_XOR8_SHIFT_

/* The XOR and shift pair, then the MOVZX r32, r8 and table load pair (op_movzx32_rl_ldx), the
 * four as one (CRC-32's `xor dl, al; shr eax, 8; movzx edx, dl; mov ecx, [edx*4 + table]`):
 * the load on the TLB's fast path; otherwise, the first three done, the load's own handler
 * (c->cur the load's: a fault is the load's, the three retired, the shift's flags recorded). */
#define QUAD_XOR8_SHIFT_LDX_(name, LF, EXPR)                                               \
    static void op_quad_xor8_##name##_ldx(struct cpu *c, const struct insn *i)             \
    {                                                                                      \
        XOR8_SHIFT_(LF, EXPR);                                                             \
        movzx_ldx(c, i + 1); /* the MOVZX and the load, as op_movzx32_rl_ldx */            \
    }
QUAD_XOR8_SHIFT_LDX_(shl, LF_SHL, a << n)
QUAD_XOR8_SHIFT_LDX_(shr, LF_SHR, a >> n)
QUAD_XOR8_SHIFT_LDX_(sar, LF_SAR, (uint32_t)((int32_t)a >> n))
#undef QUAD_XOR8_SHIFT_LDX_
#undef XOR8_SHIFT_
#undef HOST_OR_

insn_fn insn_pair(const struct insn *a, const struct insn *b, bool third)
{
    insn_fn f = a->fn, g = b->fn;
    if (f == op_mov_GE32_b && (g == op_add_EI32_r_nf || g == op_sub_EI32_r_nf)) {
        /* and a second ADD/SUB after it (not the block's last) */
        insn_fn h = third ? b[1].fn : NULL;
        bool add = g == op_add_EI32_r_nf;
        if (h == op_add_EI32_r_nf)
            return add ? op_pair_ld_add_add : op_pair_ld_sub_add;
        if (h == op_sub_EI32_r_nf)
            return add ? op_pair_ld_add_sub : op_pair_ld_sub_sub;
        return add ? op_pair_ld_add : op_pair_ld_sub;
    }
    if (f == op_add_EI32_r_nf || f == op_sub_EI32_r_nf) {
        bool add = f == op_add_EI32_r_nf;
        if (g == op_add_EI32_r_nf)
            return add ? op_pair_add_add : op_pair_sub_add;
        if (g == op_sub_EI32_r_nf)
            return add ? op_pair_add_sub : op_pair_sub_sub;
        return NULL;
    }
    if (g == op_add_EG32_r) {
        if (f == op_imul_GE32_b_nf)
            return op_pair_imul_b_add;
        if (f == op_imul_GE32_x_nf)
            return op_pair_imul_x_add;
        if (f == op_imul_GE32_b_nfdf)
            return op_pair_imul_b_df_add;
        if (f == op_imul_GE32_x_nfdf)
            return op_pair_imul_x_df_add;
        return NULL;
    }
    if (g == op_inc_r32_nf || g == op_dec_r32_nf) {
        bool inc = g == op_inc_r32_nf;
        if (f == op_movzxb32_b)
            return inc ? op_pair_movzxb_b_inc : op_pair_movzxb_b_dec;
        if (f == op_movzxb32_x)
            return inc ? op_pair_movzxb_x_inc : op_pair_movzxb_x_dec;
        return NULL;
    }
    /* the shift by an immediate of 1..31 with its flags (shift_form gives it op_shl_r32_imm
     * and the like later) */
    if (f == op_xor_EG8_rl_nf && g == op_shift_imm32 && b->modreg && b->osize == 4 &&
        b->reg >= 4 && (b->imm & 31)) {
        static const insn_fn by_op[2][4] = {
            {op_pair_xor8_shl, op_pair_xor8_shr, op_pair_xor8_shl, op_pair_xor8_sar},
            {op_quad_xor8_shl_ldx, op_quad_xor8_shr_ldx, op_quad_xor8_shl_ldx,
             op_quad_xor8_sar_ldx}};
        /* a MOVZX r32, r8 and load pair after them (never the block's last two) */
        return by_op[b[1].fn == op_movzx32_rl_ldx][b->reg - 4];
    }
    return NULL;
}


struct df_row {
    insn_fn fn, nf; /* the handler, and its dead-flags version (NULL: none) */
    uint8_t kind;   /* DF_* */
};

#define DF_ALU(name)                                                                       \
    {op_##name##_EG32_r, op_##name##_EG32_r_nf, DF_ALL},                                   \
        {op_##name##_GE32_r, op_##name##_GE32_r_nf, DF_ALL},                               \
        {op_##name##_EI32_r, op_##name##_EI32_r_nf, DF_ALL},                               \
        {op_##name##_AI32, op_##name##_AI32_nf, DF_ALL},                                   \
        {op_##name##_EG8_r, op_##name##_EG8_r_nf, DF_ALL},                                 \
        {op_##name##_GE8_r, op_##name##_GE8_r_nf, DF_ALL},                                 \
        {op_##name##_EI8_r, op_##name##_EI8_r_nf, DF_ALL}
#define DF_CMP(name)                                                                       \
    {op_##name##_EG32_r, op_##name##_EG32_r_nf, DF_ALL},                                   \
        {op_##name##_EI32_r, op_##name##_EI32_r_nf, DF_ALL},                               \
        {op_##name##_AI32, op_##name##_AI32_nf, DF_ALL},                                   \
        {op_##name##_EG8_r, op_##name##_EG8_r_nf, DF_ALL},                                 \
        {op_##name##_EI8_r, op_##name##_EI8_r_nf, DF_ALL}
static const struct df_row df_rows[] = {
    DF_ALU(add), DF_ALU(or), DF_ALU(and), DF_ALU(sub), DF_ALU(xor),
    DF_CMP(cmp), DF_CMP(test),
    {op_cmp_GE32_r, op_cmp_GE32_r_nf, DF_ALL}, {op_cmp_GE8_r, op_cmp_GE8_r_nf, DF_ALL},
    {op_inc_r32, op_inc_r32_nf, DF_INCDEC}, {op_dec_r32, op_dec_r32_nf, DF_INCDEC},
    {op_imul_GE32, op_imul_GE32_r_nf, DF_ALL_FAULT}, /* by form: df_effect */
    {op_shift_imm32, NULL, DF_SHIFT}, {op_shift_132, NULL, DF_SHIFT},
    /* no flags, no fault, no memory */
    {op_mov_EG32_r, NULL, DF_NONE}, {op_mov_GE32_r, NULL, DF_NONE},
    {op_mov_EG8_r, NULL, DF_NONE}, {op_mov_GE8_r, NULL, DF_NONE},
    {op_mov_EI32_r, NULL, DF_NONE}, {op_mov_EI8_r, NULL, DF_NONE},
    {op_mov_r_imm32, NULL, DF_NONE}, {op_mov_r_imm, NULL, DF_NONE},
    {op_lea32_b, NULL, DF_NONE}, {op_lea32_x, NULL, DF_NONE},
    {op_movzx32_r, NULL, DF_NONE}, {op_nop90, NULL, DF_NONE},
};
#undef DF_ALU
#undef DF_CMP

/* The flags instruction i writes and reads, false when it is not a listed instruction (it may
 * read flags, fault or stop the block: all flags are live before it). *nf: its dead-flags
 * handler, or NULL. */
static bool df_effect(const struct insn *i, uint32_t *writes, uint32_t *reads, insn_fn *nf,
                      bool *fault)
{
    const struct df_row *d = NULL;
    for (unsigned k = 0; k < sizeof df_rows / sizeof df_rows[0]; k++)
        if (df_rows[k].fn == i->fn) {
            d = &df_rows[k];
            break;
        }
    if (!d)
        return false;
    *nf = d->nf;
    if (d->fn == op_imul_GE32) /* the operand form; 16-bit addressing: none */
        *nf = i->modreg ? op_imul_GE32_r_nf
              : i->asize != 4 ? NULL
              : i->index == NOREG ? op_imul_GE32_b_nf : op_imul_GE32_x_nf;
    *reads = 0;
    *fault = d->kind == DF_ALL_FAULT;
    switch (d->kind) {
    case DF_NONE: *writes = 0; return true;
    case DF_ALL: case DF_ALL_FAULT: *writes = FL_ARITH; return true;
    case DF_INCDEC: *writes = FL_ARITH & ~FL_CF; return true;
    default: break;
    }
    /* a shift: a register operand, a count of 1..31 (0 changes nothing, not even flags) */
    unsigned count = i->fn == op_shift_132 ? 1 : i->imm & 31;
    if (!i->modreg || count == 0 || i->reg == 2 || i->reg == 3)
        return false; /* memory, no change, RCL/RCR (they read CF) */
    static const insn_fn by_op[2][8] = {
        {op_rol_imm_nf, op_ror_imm_nf, NULL, NULL, op_shl_imm_nf, op_shr_imm_nf,
         op_shl_imm_nf, op_sar_imm_nf},
        {op_rol_1_nf, op_ror_1_nf, NULL, NULL, op_shl_1_nf, op_shr_1_nf, op_shl_1_nf,
         op_sar_1_nf},
    };
    *nf = by_op[i->fn == op_shift_132][i->reg];
    *writes = i->reg < 2 ? FL_CF | FL_OF : FL_ARITH;
    return true;
}

/* Deferred flags: ADD or SUB of an immediate to a 32-bit register (k) whose flags only a fault
 * or a device could see before an instruction that writes them all (w; also an IMUL r32, m32
 * whose flags are dead, which records k's on its slow path too: op_imul_GE32_*_nfdf): between
 * the two only
 * MOVs to or from memory (32-bit, 32-bit addresses) that do not write the register. k's result
 * stays in that register up to w, so its flags can be made again from it: res = the register,
 * op1 = res - imm (ADD) or res + imm (SUB), op2 = imm, as k's full handler records them. k
 * runs without recording them (its _nf handler), and each MOV between, whose fast path (a flat
 * segment, a TLB hit in RAM) nothing can observe, records them first on its slow path, where
 * anything may (a fault, a device, a store into code or a watched page that ends the block:
 * move.c op_mov_*32_*_df, insn_defer_fix). Not when an in-block Jcc leads to an instruction
 * after k up to w (k's flags would not be the ones there). Run on its own (exec.c run_exact,
 * from the block's start) each of them runs its full handler (insn.mid): k records them. */
static const struct {
    insn_fn plain, df;
} df_movs[] = {
    {op_mov_EG32_b, op_mov_EG32_b_df}, {op_mov_EG32_x, op_mov_EG32_x_df},
    {op_mov_GE32_b, op_mov_GE32_b_df}, {op_mov_GE32_x, op_mov_GE32_x_df},
    {op_mov_EG32_x0, op_mov_EG32_x0_df}, {op_mov_GE32_x0, op_mov_GE32_x0_df},
};

/* Instruction i (its handler, or its dead-flags one) writes all the arithmetic flags, reads
 * none and cannot fault. */
static bool df_writes_all(const struct insn *i)
{
    for (unsigned k = 0; k < sizeof df_rows / sizeof df_rows[0]; k++)
        if (df_rows[k].fn == i->fn || (df_rows[k].nf && df_rows[k].nf == i->fn))
            return df_rows[k].kind == DF_ALL;
    return false;
}

static void defer_flags(struct insn *insns, unsigned n, uint64_t targets)
{
    for (unsigned k = 0; k + 2 < n; k++) {
        struct insn *p = &insns[k];
        unsigned r;
        if (p->fn == op_add_EI32_r || p->fn == op_sub_EI32_r)
            r = p->rm;
        else if (p->fn == op_add_AI32 || p->fn == op_sub_AI32)
            r = EAX;
        else
            continue;
        unsigned w = k + 1;
        for (; w < n && !(targets >> w & 1); w++) {
            struct insn *m = &insns[w];
            unsigned t = 0;
            while (t < sizeof df_movs / sizeof df_movs[0] && df_movs[t].plain != m->fn)
                t++;
            if (t == sizeof df_movs / sizeof df_movs[0])
                break;
            if (m->fn != op_mov_EG32_b && m->fn != op_mov_EG32_x && m->fn != op_mov_EG32_x0 &&
                m->reg == r)
                break; /* a load into the register */
        }
        /* the end: an instruction that writes all the flags and cannot fault; or an IMUL
         * r32, m32 whose own flags are dead (its _nf handler), which records k's on its slow
         * path before it may fault (then nothing has changed k's register) */
        bool imul = w < n - 1 && !(targets >> w & 1) &&
                    (insns[w].fn == op_imul_GE32_b_nf || insns[w].fn == op_imul_GE32_x_nf);
        if (w >= n - 1 || (targets >> w & 1) ||
            (!imul && (w == k + 1 || !df_writes_all(&insns[w]))))
            continue;
        if (imul) {
            insns[w].fn = insns[w].fn == op_imul_GE32_b_nf ? op_imul_GE32_b_nfdf
                                                           : op_imul_GE32_x_nfdf;
            insns[w].dfb = (uint8_t)(w - k);
        }
        p->fn = p->fn == op_add_EI32_r ? op_add_EI32_r_nf
                : p->fn == op_sub_EI32_r ? op_sub_EI32_r_nf
                : p->fn == op_add_AI32 ? op_add_AI32_nf : op_sub_AI32_nf;
        p->mid = 1;
        for (unsigned j = k + 1; j < w; j++) {
            struct insn *m = &insns[j];
            for (unsigned t = 0; t < sizeof df_movs / sizeof df_movs[0]; t++)
                if (df_movs[t].plain == m->fn) {
                    m->fn = df_movs[t].df;
                    break;
                }
            m->dfb = (uint8_t)(j - k);
            m->mid = 1;
        }
    }
}

void insn_defer_fix(struct cpu *c, const struct insn *i)
{
    const struct insn *p = i - i->dfb;
    bool add = p->fn == op_add_EI32_r_nf || p->fn == op_add_AI32_nf;
    bool acc = p->fn == op_add_AI32_nf || p->fn == op_sub_AI32_nf;
    uint32_t res = c->r[acc ? EAX : p->rm], b = p->imm;
    if (add)
        lf_set(c, LF_ADD, 4, res, res - b, b, 0);
    else
        lf_set(c, LF_SUB, 4, res, res + b, b, 0);
}

void insn_kill_dead_flags(struct insn *insns, unsigned n, uint32_t *live_in, uint64_t targets)
{
    uint32_t live = FL_ARITH; /* after the block's last instruction: all */
    live_in[n] = live;
    for (unsigned k = n; k-- > 0; live_in[k] = live) {
        struct insn *in = &insns[k];
        uint32_t writes, reads;
        insn_fn nf;
        bool fault;
        if (!df_effect(in, &writes, &reads, &nf, &fault)) {
            live = FL_ARITH;
            continue;
        }
        if (writes && !(writes & live) && nf) {
            in->fn = nf_low(in, nf);
            in->mid = 1;
        } else if (in->fn == op_movzx32_r && (nf = nf_low(in, in->fn)) != in->fn) {
            in->fn = nf;
            in->mid = 1; /* run on its own: its plain handler */
        }
        live = fault ? FL_ARITH : (live & ~writes) | reads;
    }
    defer_flags(insns, n, targets);
}
