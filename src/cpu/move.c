/* Data movement: MOV forms, MOVZX/MOVSX, XCHG, LEA, stack push/pop, PUSHA/POPA, ENTER/LEAVE,
 * CBW/CWD, BSWAP, XLAT (segment-register moves and far-pointer loads: sreg.c). */
#include "cpu/ops.h"

OP_SIZED(mov_EG) { wr_rm(c, i, s, get_reg(c, i->reg, s)); }
OP_SIZED(mov_GE) { set_reg(c, i->reg, s, rd_rm(c, i, s)); }
OP_SIZED(mov_EI) { wr_rm(c, i, s, i->imm); }
OP_SIZED(mov_r_imm) { set_reg(c, i->reg, s, i->imm); }

/* MOV EAX/AX/AL, moffs and back: a 4-byte access through fast_host (a flat segment, a TLB hit
 * within one page) without a frame; anything else the general way, out of line (it ends with
 * the handler's tail). */
static __attribute__((noinline)) void mov_A_O_any(struct cpu *c, const struct insn *i)
{
    set_reg(c, EAX, i->osize, rd(c, i->seg, i->disp, i->osize));
    insn_next(c, i);
}

OP_DECL(mov_A_O)
{
    uint8_t *p;
    if (i->osize == 4 && (p = fast_host(c, i->seg, i->disp, 4, TLB_R_S))) {
        c->r[EAX] = host_load(p, 4);
        insn_go(c, i);
        return;
    }
    mov_A_O_any(c, i);
}

static __attribute__((noinline)) void mov_O_A_any(struct cpu *c, const struct insn *i)
{
    wr(c, i->seg, i->disp, i->osize, get_reg(c, EAX, i->osize));
    insn_next(c, i);
}

OP_DECL(mov_O_A)
{
    uint8_t *p;
    if (i->osize == 4 && (p = fast_host(c, i->seg, i->disp, 4, TLB_W_S))) {
        host_store(p, 4, c->r[EAX]);
        insn_go(c, i);
        return;
    }
    mov_O_A_any(c, i);
}

OP_SIZED(lea) { set_reg(c, i->reg, s, ea(c, i)); }

/* MOVZX/MOVSX: opcode B6/BE read a byte, B7/BF a word (odd low nibble). */
OP_SIZED(movzx)
{
    unsigned ss = (i->cc & 1) ? 2 : 1;
    set_reg(c, i->reg, s, rd_rm(c, i, ss));
}

/* The same by operand form (forms.def, OP_FORMS in ops.h). */
OP_FORMS_B(mov_GE)
{
    uint32_t v;
    if (form == FORM_R) {
        v = get_reg(c, i->rm, s);
    } else {
        uint8_t *p = form_host(c, i, form, s, TLB_R_S);
        if (!p)
            return false;
        v = host_load(p, s);
    }
    set_reg(c, i->reg, s, v);
    return true;
}

OP_FORMS_B(mov_EG)
{
    if (form == FORM_R) {
        set_reg(c, i->rm, s, get_reg(c, i->reg, s));
        return true;
    }
    uint8_t *p = form_host(c, i, form, s, TLB_W_S);
    if (!p)
        return false;
    host_store(p, s, get_reg(c, i->reg, s));
    return true;
}

/* The same with deferred flags (deadflags.c insn_defer_fix): the slow path first records the
 * flags an earlier ADD/SUB r32, imm of the block left unrecorded; the fast path cannot fault,
 * stop the block or reach a device, so nothing sees them there. */
static __attribute__((noinline)) void mov_EG32_df_slow(struct cpu *c, const struct insn *i)
{
    insn_defer_fix(c, i);
    op_mov_EG32(c, i); /* threaded itself */
}

static __attribute__((noinline)) void mov_GE32_df_slow(struct cpu *c, const struct insn *i)
{
    insn_defer_fix(c, i);
    op_mov_GE32(c, i); /* threaded itself */
}

/* MOV r32 <-> [base + index + disp] (scale 0: one shift fewer than _x; decode.c specialise) */
OP_FORM_(mov_GE, 32_x0, FORM_X0, 4, op_mov_GE32)
OP_FORM_(mov_EG, 32_x0, FORM_X0, 4, op_mov_EG32)

OP_FORM_(mov_EG, 32_b_df, FORM_B, 4, mov_EG32_df_slow)
OP_FORM_(mov_EG, 32_x0_df, FORM_X0, 4, mov_EG32_df_slow)
OP_FORM_(mov_GE, 32_x0_df, FORM_X0, 4, mov_GE32_df_slow)
OP_FORM_(mov_EG, 32_x_df, FORM_X, 4, mov_EG32_df_slow)
OP_FORM_(mov_GE, 32_b_df, FORM_B, 4, mov_GE32_df_slow)
OP_FORM_(mov_GE, 32_x_df, FORM_X, 4, mov_GE32_df_slow)

OP_FORMS_B(mov_EI)
{
    if (form == FORM_R) {
        set_reg(c, i->rm, s, i->imm);
        return true;
    }
    uint8_t *p = form_host(c, i, form, s, TLB_W_S);
    if (!p)
        return false;
    host_store(p, s, i->imm);
    return true;
}

OP_FORMS(lea)
{
    (void)s;
    if (form == FORM_R)
        return false; /* never decoded so (#UD) */
    c->r[i->reg] = ea_form(c, i, form);
    return true;
}

OP_FORMS(movzx)
{
    (void)s;
    unsigned ss = (i->cc & 1) ? 2 : 1;
    uint32_t v;
    if (form == FORM_R) {
        v = get_reg(c, i->rm, ss);
    } else {
        uint8_t *p = form_host(c, i, form, ss, TLB_R_S);
        if (!p)
            return false;
        v = host_load(p, ss);
    }
    c->r[i->reg] = v;
    return true;
}

/* MOVZX r32, m8 with 32-bit addressing (decode.c specialise: opcode 0F B6): the byte source
 * known at decode, no test of the opcode; else as op_movzx32_b, _x. */
OP_FORM_DECL_(movzxb);
OP_FORM_(movzxb, 32_b, FORM_B, 4, op_movzx32)
OP_FORM_(movzxb, 32_x, FORM_X, 4, op_movzx32)
OP_FORM_DECL_(movzxb)
{
    (void)s;
    uint8_t *p = form_host(c, i, form, 1, TLB_R_S);
    if (!p)
        return false;
    c->r[i->reg] = host_load(p, 1);
    return true;
}

OP_SIZED(movsx)
{
    unsigned ss = (i->cc & 1) ? 2 : 1;
    uint32_t v = rd_rm(c, i, ss);
    v = ss == 1 ? (uint32_t)(int32_t)(int8_t)v : (uint32_t)(int32_t)(int16_t)v;
    set_reg(c, i->reg, s, v);
}

/* XCHG with memory is always locked; the store happens before the register changes. */
OP(xchg_EG)
{
    unsigned s = i->osize;
    uint32_t a = rd_rm_rmw(c, i, s), b = get_reg(c, i->reg, s);
    wr_rm(c, i, s, b);
    set_reg(c, i->reg, s, a);
}

OP(xchg_ar)
{
    unsigned s = i->osize;
    uint32_t a = get_reg(c, EAX, s), b = get_reg(c, i->reg, s);
    set_reg(c, EAX, s, b);
    set_reg(c, i->reg, s, a);
}

OP(nop90) { (void)c; (void)i; } /* XCHG eAX,eAX; F3 90 is PAUSE */
OP(nop) { (void)c; (void)i; }   /* 0F 1F /0 and the hint NOPs: no memory access */

OP(cbw)
{
    if (i->osize == 4)
        c->r[EAX] = (uint32_t)(int32_t)(int16_t)c->r[EAX];
    else
        set_reg(c, EAX, 2, (uint32_t)(int32_t)(int8_t)c->r[EAX]);
}

OP(cwd)
{
    if (i->osize == 4)
        c->r[EDX] = (c->r[EAX] & 0x80000000u) ? 0xFFFFFFFFu : 0;
    else
        set_reg(c, EDX, 2, (c->r[EAX] & 0x8000) ? 0xFFFF : 0);
}

/* BSWAP with a 16-bit operand is undefined; processors clear the low word. */
OP(bswap)
{
    if (i->osize == 2) {
        set_reg(c, i->reg, 2, 0);
        return;
    }
    c->r[i->reg] = __builtin_bswap32(c->r[i->reg]);
}

OP(xlat)
{
    uint32_t off = c->r[EBX] + (c->r[EAX] & 0xFF);
    if (i->asize == 2)
        off &= 0xFFFF;
    set_reg(c, EAX, 1, rd(c, i->seg, off, 1));
}

/* ---- stack ---- */

/* PUSH r32 / POP r32 with a flat 32-bit SS and the stack page in the TLB. */
static inline bool push_r_fast(struct cpu *c, const struct insn *i)
{
    uint32_t sp = c->r[ESP] - 4;
    uint8_t *p = stack_host(c, sp, 4, TLB_W_S);
    if (!p)
        return false;
    host_store(p, 4, c->r[i->reg]); /* PUSH ESP: ESP as it was */
    c->r[ESP] = sp;
    return true;
}

static inline bool pop_r_fast(struct cpu *c, const struct insn *i)
{
    uint32_t sp = c->r[ESP];
    uint8_t *p = stack_host(c, sp, 4, TLB_R_S);
    if (!p)
        return false;
    c->r[ESP] = sp + 4;
    c->r[i->reg] = host_load(p, 4); /* POP ESP: ESP = the popped value */
    return true;
}

OP_SIZED_FAST(push_r) { push(c, s, get_reg(c, i->reg, s)); }
/* The general path with the handler's tail (insn_next): a tail call of op_push_imm, whose fast
 * path then saves no registers (as pusha_any, popa_any). */
static __attribute__((noinline)) void push_imm_any(struct cpu *c, const struct insn *i)
{
    push(c, i->osize, i->imm);
    insn_next(c, i);
}

OP_DECL(push_imm)
{
    uint32_t sp = c->r[ESP] - 4;
    uint8_t *p;
    if (i->osize == 4 && (p = stack_host(c, sp, 4, TLB_W_S))) {
        host_store(p, 4, i->imm);
        c->r[ESP] = sp;
        insn_next(c, i);
        return;
    }
    push_imm_any(c, i);
}
OP(push_E) { push(c, i->osize, rd_rm(c, i, i->osize)); }

OP_SIZED_FAST(pop_r)
{
    uint32_t v = stack_peek(c, s, 0);
    c->r[ESP] = sp_with(c, c->r[ESP] + s);
    set_reg(c, i->reg, s, v); /* POP ESP: ESP = the popped value */
}

/* POP m: the address is computed with ESP already incremented (SDM vol. 2, POP). */
OP(pop_E)
{
    unsigned s = i->osize;
    uint32_t v = stack_peek(c, s, 0);
    if (i->modreg) {
        c->r[ESP] = sp_with(c, c->r[ESP] + s);
        set_reg(c, i->rm, s, v);
        return;
    }
    uint32_t old = c->r[ESP];
    c->r[ESP] = sp_with(c, old + s);
    uint32_t off = ea(c, i);
    c->r[ESP] = old;
    wr(c, i->seg, off, s, v);
    c->r[ESP] = sp_with(c, old + s);
}

/* PUSHA/POPA: all eight stores/loads are checked before ESP moves. With 32-bit operands, a flat
 * 32-bit SS and the 32 bytes in one page in the TLB, one lookup does for all eight. */
/* The general paths, out of line, with the handlers' tail (insn_next): the fast paths below
 * then need no stack frame and save no registers (tail calls). */
static __attribute__((noinline)) void pusha_any(struct cpu *c, const struct insn *i)
{
    unsigned s = i->osize;
    uint32_t sp = c->r[ESP], m = sp_mask(c);
    for (unsigned r = 0; r < 8; r++)
        wr(c, SEG_SS, (sp - (r + 1) * s) & m, s, get_reg(c, r, s)); /* ESP as it was */
    c->r[ESP] = sp_with(c, sp - 8 * s);
    insn_next(c, i);
}

static __attribute__((noinline)) void popa_any(struct cpu *c, const struct insn *i)
{
    unsigned s = i->osize;
    uint32_t sp = c->r[ESP], m = sp_mask(c), v[8];
    for (unsigned r = 0; r < 8; r++)
        v[7 - r] = rd(c, SEG_SS, (sp + r * s) & m, s);
    for (unsigned r = 0; r < 8; r++)
        if (r != ESP)
            set_reg(c, r, s, v[r]);
    c->r[ESP] = sp_with(c, sp + 8 * s);
    insn_next(c, i);
}

OP_DECL(pusha)
{
    uint32_t sp = c->r[ESP];
    uint8_t *p;
    if (i->osize == 4 && (p = stack_host(c, sp - 32, 32, TLB_W_S))) {
        host_store(p + 28, 4, c->r[EAX]); /* EAX highest; ESP as it was */
        host_store(p + 24, 4, c->r[ECX]);
        host_store(p + 20, 4, c->r[EDX]);
        host_store(p + 16, 4, c->r[EBX]);
        host_store(p + 12, 4, sp);
        host_store(p + 8, 4, c->r[EBP]);
        host_store(p + 4, 4, c->r[ESI]);
        host_store(p, 4, c->r[EDI]);
        c->r[ESP] = sp - 32;
        insn_next(c, i);
        return;
    }
    pusha_any(c, i);
}

OP_DECL(popa)
{
    uint32_t sp = c->r[ESP];
    const uint8_t *p;
    if (i->osize == 4 && (p = stack_host(c, sp, 32, TLB_R_S))) {
        c->r[EDI] = host_load(p, 4); /* EDI lowest; ESP's slot skipped */
        c->r[ESI] = host_load(p + 4, 4);
        c->r[EBP] = host_load(p + 8, 4);
        c->r[EBX] = host_load(p + 16, 4);
        c->r[EDX] = host_load(p + 20, 4);
        c->r[ECX] = host_load(p + 24, 4);
        c->r[EAX] = host_load(p + 28, 4);
        c->r[ESP] = sp + 32;
        insn_next(c, i);
        return;
    }
    popa_any(c, i);
}

/* ENTER imm16, imm8 (SDM vol. 2 ENTER, 32-bit stack). The frame is built with stores checked
 * before any register changes. */
OP(enter)
{
    unsigned s = i->osize, level = i->imm2 & 31;
    uint32_t m = sp_mask(c), sp = c->r[ESP], bp = c->r[EBP];
    sp = (sp - s) & m;
    wr(c, SEG_SS, sp, s, bp & size_mask(s));
    uint32_t frame = sp;
    if (level > 0) {
        for (unsigned k = 1; k < level; k++) {
            bp = (bp - s) & m;
            uint32_t v = rd(c, SEG_SS, bp, s);
            sp = (sp - s) & m;
            wr(c, SEG_SS, sp, s, v);
        }
        sp = (sp - s) & m;
        wr(c, SEG_SS, sp, s, frame & size_mask(s));
    }
    sp = (sp - i->imm) & m;
    /* The final stack top is checked as a write without being written (as Bochs does). */
    probe_wr(c, SEG_SS, sp, s);
    set_reg(c, EBP, s, frame);
    c->r[ESP] = sp_with(c, sp);
}

OP(leave)
{
    unsigned s = i->osize;
    uint32_t sp = c->r[EBP] & sp_mask(c);
    uint32_t v = rd(c, SEG_SS, sp, s);
    c->r[ESP] = sp_with(c, sp + s);
    set_reg(c, EBP, s, v);
}

