/* Control transfers: near and far jumps, calls and returns, LOOP/JCXZ, INT n/INT3/INTO/INT1 and
 * IRET. Far transfers and IRET follow the protected-mode pseudo-code of SDM vol. 2. */
#include "cpu/deliver.h"
#include "cpu/task.h"
#include "cpu/ops.h"

/* A near transfer: the target must lie within CS (#GP(0)). */
static void jump_near(struct cpu *c, uint32_t target, unsigned osize)
{
    if (osize == 2)
        target &= 0xFFFF;
    if (target > c->seg[SEG_CS].limit)
        cpu_raise(c, EXC_GP, true, 0);
    c->eip = target;
}

/* Jcc: one handler per condition, so the condition folds to a few tests of the lazy flags. */
#define JCC(n)                                              \
    OP(jcc_##n)                                             \
    {                                                       \
        if (cond_eval_inline(c, n))                         \
            jump_near(c, c->eip + i->imm, i->osize);        \
    }
JCC(0) JCC(1) JCC(2) JCC(3) JCC(4) JCC(5) JCC(6) JCC(7)
JCC(8) JCC(9) JCC(10) JCC(11) JCC(12) JCC(13) JCC(14) JCC(15)
#undef JCC

OP(jmp_rel) { jump_near(c, c->eip + i->imm, i->osize); }

OP(call_rel)
{
    uint32_t target = c->eip + i->imm;
    if (i->osize == 2)
        target &= 0xFFFF;
    if (target > c->seg[SEG_CS].limit)
        cpu_raise(c, EXC_GP, true, 0);
    push(c, i->osize, c->eip);
    c->eip = target;
}

OP(jmp_E) { jump_near(c, rd_rm(c, i, i->osize), i->osize); }

OP(call_E)
{
    uint32_t target = rd_rm(c, i, i->osize);
    if (target > c->seg[SEG_CS].limit)
        cpu_raise(c, EXC_GP, true, 0);
    push(c, i->osize, c->eip);
    c->eip = target;
}

static void near_return(struct cpu *c, unsigned osize, uint32_t extra)
{
    uint32_t target = stack_peek(c, osize, 0);
    if (target > c->seg[SEG_CS].limit)
        cpu_raise(c, EXC_GP, true, 0);
    c->r[ESP] = sp_with(c, c->r[ESP] + osize + extra);
    c->eip = target;
}

OP(ret) { near_return(c, i->osize, 0); }
OP(ret_imm) { near_return(c, i->osize, i->imm & 0xFFFF); }

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
        cpu_raise(c, EXC_GP, true, 0);
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

static void emit_transfer(struct cpu *c, enum trace_kind kind, uint8_t cpl_before,
                          uint16_t cs_before)
{
    struct trace_event ev = {
        .icount = c->icount, .kind = (uint8_t)kind, .cpl_before = cpl_before,
        .cpl_after = c->cpl, .cs_before = cs_before, .cs_after = c->seg[SEG_CS].sel,
        .eip_before = c->insn_eip, .eip_after = c->eip, .ss_after = c->seg[SEG_SS].sel,
        .esp_after = c->r[ESP], .cr3 = c->cr3,
    };
    trace_emit(c, &ev);
}

/* The code segment a far JMP/CALL (directly, or through a call gate) lands in. Direct
 * (SDM vol. 2 JMP, CALL): conforming needs DPL <= CPL, non-conforming RPL <= CPL and DPL = CPL.
 * Through a gate the RPL of the gate's selector does not matter and a non-conforming target may
 * be more privileged (DPL <= CPL; only CALL may actually change CPL). Present: else #NP(sel). */
static struct segment code_target(struct cpu *c, uint16_t sel, bool via_gate, bool is_jmp)
{
    uint32_t err = sel & 0xFFFC, lo, hi;
    desc_read_or_gp(c, sel, &lo, &hi);
    unsigned type = (hi >> 8) & 0x1F, dpl = (hi >> 13) & 3, rpl = sel & 3;
    if ((type & 0x18) != 0x18)
        cpu_raise(c, EXC_GP, true, err);
    bool conforming = type & 0x4;
    if (!via_gate) {
        if (conforming ? dpl > c->cpl : (rpl > c->cpl || dpl != c->cpl))
            cpu_raise(c, EXC_GP, true, err);
    } else if (dpl > c->cpl || (is_jmp && !conforming && dpl != c->cpl)) {
        cpu_raise(c, EXC_GP, true, err);
    }
    if (!(hi & 0x8000))
        cpu_raise(c, EXC_NP, true, err);
    struct segment s;
    desc_to_segment((uint16_t)(sel & 0xFFFC), lo, hi, &s);
    unsigned new_cpl = (via_gate && !conforming) ? dpl : c->cpl;
    s.sel = (uint16_t)((sel & 0xFFFC) | new_cpl);
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
    uint32_t err = sel & 0xFFFC, lo, hi;
    desc_read_or_gp(c, sel, &lo, &hi);
    unsigned type = (hi >> 8) & 0x1F;
    if (type & 0x10) {
        d.cs = code_target(c, sel, false, is_jmp);
        d.eip = off;
    } else if (type == 0x0C || type == 0x04) {
        unsigned dpl = (hi >> 13) & 3;
        if (dpl < c->cpl || dpl < (sel & 3u))
            cpu_raise(c, EXC_GP, true, err);
        if (!(hi & 0x8000))
            cpu_raise(c, EXC_NP, true, err);
        d.gate = true;
        d.gate_size = type == 0x0C ? 4 : 2;
        d.params = hi & 0x1F;
        d.cs = code_target(c, (uint16_t)(lo >> 16), true, is_jmp);
        d.eip = (lo & 0xFFFF) | (type == 0x0C ? (hi & 0xFFFF0000u) : 0);
    } else {
        cpu_raise(c, EXC_GP, true, err);
    }
    if (d.eip > d.cs.limit)
        cpu_raise(c, EXC_GP, true, 0);
    return d;
}

/* A far JMP/CALL whose selector names a TSS (type 9, 0xB) or a task gate (type 5) switches
 * tasks: the descriptor's DPL must be >= max(CPL, RPL) (#GP(sel)), a gate must be present
 * (#NP(sel)). Returns false when the selector names something else. */
static bool far_task(struct cpu *c, uint16_t sel, enum task_reason why)
{
    uint32_t lo, hi;
    desc_read_or_gp(c, sel, &lo, &hi);
    unsigned type = (hi >> 8) & 0x1F, dpl = (hi >> 13) & 3;
    if (type != 0x05 && type != 0x09 && type != 0x0B)
        return false;
    if (dpl < c->cpl || dpl < (sel & 3u))
        cpu_raise(c, EXC_GP, true, sel & 0xFFFCu);
    if (type == 0x05) {
        if (!(hi & 0x8000))
            cpu_raise(c, EXC_NP, true, sel & 0xFFFCu);
        sel = (uint16_t)(lo >> 16);
    }
    task_switch(c, sel, why, 0, false, 0, 0);
    return true;
}

static void far_jump(struct cpu *c, uint16_t sel, uint32_t off)
{
    if (far_task(c, sel, TASK_JMP))
        return;
    uint8_t cpl = c->cpl;
    uint16_t cs = c->seg[SEG_CS].sel;
    struct far_dest d = far_dest(c, sel, off, true);
    seg_set_cs(c, d.cs.sel, d.cs.base, d.cs.limit, d.cs.attr);
    c->eip = d.eip;
    if (d.gate)
        emit_transfer(c, TR_FARJMP, cpl, cs);
}

/* Reads SS:ESP for privilege level `pl` from the 32-bit TSS and checks the stack segment as
 * the SDM's call-gate and interrupt pseudo-code do (#TS(sel), #SS(sel) if not present). */
void tss_stack(struct cpu *c, unsigned pl, uint32_t ext, struct segment *ss, uint32_t *esp)
{
    unsigned off = 4 + 8 * pl;
    if (!(c->tr.attr & SA_P) || off + 5 > c->tr.limit)
        cpu_raise(c, EXC_TS, true, (c->tr.sel & 0xFFFC) + ext);
    *esp = lin_read_sup(c, c->tr.base + off, 4);
    uint16_t sel = (uint16_t)lin_read_sup(c, c->tr.base + off + 4, 2);
    uint32_t lo, hi, addr;
    if ((sel & 0xFFFC) == 0)
        cpu_raise(c, EXC_TS, true, ext);
    if (!desc_read(c, sel, &lo, &hi, &addr))
        cpu_raise(c, EXC_TS, true, (sel & 0xFFFC) + ext);
    unsigned type = (hi >> 8) & 0x1F, dpl = (hi >> 13) & 3;
    if ((sel & 3) != pl || dpl != pl || (type & 0x1A) != 0x12)
        cpu_raise(c, EXC_TS, true, (sel & 0xFFFC) + ext);
    if (!(hi & 0x8000))
        cpu_raise(c, EXC_SS, true, (sel & 0xFFFC) + ext);
    desc_to_segment(sel, lo, hi, ss);
}

/* Writes `n` values of `w` bytes below *sp on stack segment ss with the access rights of
 * privilege `pl`, checking the segment limit (#SS(err)) of an expand-up or expand-down stack
 * (valid offsets limit+1 .. 0xFFFF or 0xFFFFFFFF by B, SDM vol. 3 3.4.5.1); *sp moves down. */
static void stack_write(struct cpu *c, const struct segment *ss, unsigned pl, uint32_t *sp,
                        unsigned w, const uint32_t *vals, unsigned n, uint32_t err)
{
    uint32_t m = (ss->attr & SA_DB) ? 0xFFFFFFFFu : 0xFFFFu;
    uint32_t need = pl == 3 ? TLB_W_U : TLB_W_S;
    bool down = (ss->attr & SA_TYPE & 0x4) != 0;
    for (unsigned k = 0; k < n; k++) {
        uint32_t off = (*sp - w) & m;
        uint64_t last = (uint64_t)off + w - 1;
        if (!ss->flat && (down ? off <= ss->limit || last > m : last > ss->limit))
            cpu_raise(c, EXC_SS, true, err);
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
    uint8_t cpl = c->cpl;
    uint16_t cs = c->seg[SEG_CS].sel;
    struct far_dest d = far_dest(c, sel, off, false);
    unsigned new_cpl = d.cs.sel & 3;

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
        stack_write(c, &ss, new_cpl, &sp, w, vals, n, ss.sel & 0xFFFC);
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
        emit_transfer(c, TR_FARCALL, cpl, cs);
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
    uint32_t err = sel & 0xFFFC, lo, hi;
    desc_read_or_gp(c, sel, &lo, &hi);
    unsigned type = (hi >> 8) & 0x1F, dpl = (hi >> 13) & 3, rpl = sel & 3;
    if ((type & 0x18) != 0x18 || rpl < c->cpl)
        cpu_raise(c, EXC_GP, true, err);
    if ((type & 0x4) ? dpl > rpl : dpl != rpl)
        cpu_raise(c, EXC_GP, true, err);
    if (!(hi & 0x8000))
        cpu_raise(c, EXC_NP, true, err);
    struct segment s;
    desc_to_segment(sel, lo, hi, &s);
    return s;
}

/* Checks the SS selector popped on a return to an outer level: RPL and DPL equal the new CPL,
 * writable data, present (#GP(sel) / #SS(sel)). */
static struct segment return_ss(struct cpu *c, uint16_t sel, unsigned new_cpl)
{
    uint32_t err = sel & 0xFFFC, lo, hi;
    desc_read_or_gp(c, sel, &lo, &hi);
    unsigned type = (hi >> 8) & 0x1F, dpl = (hi >> 13) & 3;
    if ((sel & 3) != new_cpl || dpl != new_cpl || (type & 0x1A) != 0x12)
        cpu_raise(c, EXC_GP, true, err);
    if (!(hi & 0x8000))
        cpu_raise(c, EXC_SS, true, err);
    struct segment s;
    desc_to_segment(sel, lo, hi, &s);
    return s;
}

/* After a return to an outer level, data segment registers the new CPL may not use become null
 * (data or non-conforming code with DPL < CPL). */
static void null_inaccessible_segments(struct cpu *c)
{
    static const int regs[] = {SEG_ES, SEG_DS, SEG_FS, SEG_GS};
    for (unsigned k = 0; k < 4; k++) {
        struct segment *s = &c->seg[regs[k]];
        unsigned dpl = (s->attr & SA_DPL) >> 5, type = s->attr & SA_TYPE;
        bool conforming_code = (s->attr & SA_S) && (type & 0xC) == 0xC;
        if ((s->attr & SA_P) && !conforming_code && dpl < c->cpl) {
            s->sel = 0;
            s->attr = 0;
            s->base = 0;
            s->limit = 0;
            s->flat = false;
        }
    }
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
    unsigned new_cpl = sel & 3;
    if (new_eip > cs.limit)
        cpu_raise(c, EXC_GP, true, 0);
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
    uint8_t cpl = c->cpl;
    uint16_t cs = c->seg[SEG_CS].sel;
    far_return(c, i->osize, opcode_table[i->id].key == 0xCA ? i->imm & 0xFFFF : 0, false);
    if (c->cpl != cpl)
        emit_transfer(c, TR_FARRET, cpl, cs);
}

/* IRET in protected mode (NT = 0). EFLAGS restore rules (SDM vol. 2 IRET):
 *   CPL 0:           every flag; VIF and VIP only with a 32-bit operand size. VM = 1 in a
 *                    32-bit frame is a return to virtual-8086 mode, which Ringside does not
 *                    implement: the machine stops (cpu_stop_unsupported)
 *   CPL <= IOPL:     all but IOPL (and VM/VIF/VIP)
 *   CPL > IOPL:      all but IOPL and IF
 * CPL here is the privilege *before* the return. A 16-bit IRET restores only the low word. */
OP(iret)
{
    if (c->eflags & FL_NT) { /* return to the task in the back link */
        uint16_t back = (uint16_t)lin_read_sup(c, c->tr.base, 2);
        task_switch(c, back, TASK_IRET, 0, false, 0, 0);
        return;
    }
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

    uint32_t mask = FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_TF | FL_DF | FL_OF | FL_NT |
                    FL_RF | FL_AC | FL_ID;
    if (cpl == 0)
        mask |= FL_IOPL | FL_IF | FL_VIF | FL_VIP; /* VIF/VIP fall to the 16-bit mask below */
    else if (cpl <= iopl(c))
        mask |= FL_IF;
    if (osize == 2)
        mask &= 0xFFFF;
    flags_materialize(c);
    c->eflags = ((c->eflags & ~mask) | (new_flags & mask)) | FL_R1;
    cpu_update_acc(c);
    c->stop_block = true;
    emit_transfer(c, TR_IRET, cpl, cs);
}

/* ---- software interrupts ---- */

OP(int_imm) { deliver(c, i->imm & 0xFF, TR_SOFTINT, false, 0); }
OP(int3) { (void)i; deliver(c, EXC_BP, TR_SOFTINT, false, 0); }
OP(int1) { (void)i; deliver(c, EXC_DB, TR_EXCEPTION, false, 0); }

OP(into)
{
    (void)i;
    if (cond_eval(c, 0))
        deliver(c, EXC_OF, TR_SOFTINT, false, 0);
}
