/* Exception and interrupt delivery through the IDT (SDM vol. 3 6.10-6.15), the #DF/triple-fault
 * rules (from the exception table, exceptions.c), and the events of every transition that
 * passes here. */
#include <string.h>

#include "cpu/deliver.h"
#include "cpu/flags.h"
#include "cpu/ops.h"
#include "cpu/segment.h"
#include "cpu/task.h"
#include "mmu/mem.h"

static void shutdown(struct cpu *c, const struct fault *third)
{
    c->shutdown_events[0] = c->df_pair[0];
    c->shutdown_events[1] = c->df_pair[1];
    c->shutdown_events[2] = *third;
    c->delivering = false;
    c->stop_reason = RUN_SHUTDOWN;
    struct trace_event ev;
    trace_begin(c, &ev, TR_SHUTDOWN, third->vector, third->has_error, third->error);
    ev.detail = third->detail;
    trace_end(c, &ev);
}

static void deliver_event(struct cpu *c, const struct fault *f, enum trace_kind kind);

void deliver_fault(struct cpu *c)
{
    struct fault f = c->fault;
    if (c->delivering) {
        switch (exception_combine(c->delivering_class, exception_class(f.vector))) {
        case EXC_SHUTDOWN:
            shutdown(c, &f);
            return;
        case EXC_TO_DF:
            c->df_pair[0] = c->delivering_event;
            c->df_pair[1] = f;
            f = (struct fault){.vector = EXC_DF, .has_error = true, .error = 0, .cr2 = f.cr2};
            break;
        default: /* EXC_SERIAL: the second event is delivered on its own */
            break;
        }
        c->delivering = false;
    }
    deliver_event(c, &f, TR_EXCEPTION);
}

void deliver(struct cpu *c, unsigned vector, enum trace_kind kind)
{
    struct fault f = {.vector = (uint8_t)vector, .cr2 = c->cr2};
    deliver_event(c, &f, kind);
}

/* Linear address of a push of `size` bytes below `sp` on stack segment s, with the limit check
 * (#SS(err)) of expand-up and expand-down stacks. */
static uint32_t stack_slot(struct cpu *c, const struct segment *s, uint32_t sp, unsigned size,
                           uint32_t err)
{
    struct desc d = desc_from_cache(s->base, s->limit, s->attr);
    uint32_t m = d.db ? 0xFFFFFFFFu : 0xFFFFu;
    uint32_t off = (sp - size) & m;
    if (!s->flat) {
        uint64_t last = (uint64_t)off + size - 1;
        bool bad = desc_is_expand_down(&d) ? (off <= s->limit || last > m) : last > s->limit;
        if (bad)
            raise_limit(c, EXC_SS, err, SR_OFFSET_LIMIT, SU_STACK, s->sel, off, s->limit);
    }
    return s->base + off;
}

static void deliver_event(struct cpu *c, const struct fault *f, enum trace_kind kind)
{
    unsigned vector = f->vector;
    uint32_t ext = kind == TR_SOFTINT ? 0 : ERR_EXT;
    uint32_t idt_err = vector * 8 + ERR_IDT + ext;
    struct trace_event ev;
    trace_begin(c, &ev, kind, vector, f->has_error, f->error);
    ev.detail = f->detail;

    /* No two events are delivered at the same device time: one that would be (its handler's
     * first instruction faulted, or its fetch did) first waits one unit. An instruction that
     * faults does not retire, so without this a storm of faults would freeze time, and with it
     * the instruction limit and the devices. Between ordinary events instructions retire, and
     * an event whose delivery fails (and so becomes #DF or a shutdown) was never delivered, so
     * this adds nothing there. */
    if (cpu_time(c) == c->last_delivery)
        c->stall++;

    c->delivering = true;
    c->delivering_class = kind == TR_EXCEPTION ? exception_class(vector) : EXC_BENIGN;
    c->delivering_event = *f;
    c->halted = false;

    /* CR0.PE = 1 here: cpu_run refuses to run in real mode (exec.c). */

    /* The gate. */
    if (vector * 8 + 7 > c->idtr.limit)
        raise_gate(c, EXC_GP, idt_err, SR_BEYOND_LIMIT, vector, NULL);
    uint32_t lo = lin_read_sup(c, c->idtr.base + vector * 8, 4);
    uint32_t hi = lin_read_sup(c, c->idtr.base + vector * 8 + 4, 4);
    struct desc gate = desc_decode(lo, hi);
    if (desc_is_task_gate(&gate)) { /* the handler is another task (task.c) */
        if (kind == TR_SOFTINT && gate.dpl < c->cpl)
            raise_gate(c, EXC_GP, idt_err, SR_GATE_DPL, vector, &gate);
        if (!gate.p)
            raise_gate(c, EXC_NP, idt_err, SR_NOT_PRESENT, vector, &gate);
        task_switch(c, gate_selector(&gate), TASK_INT, f, ext);
        c->delivering = false;
        c->last_delivery = cpu_time(c);
        return;
    }
    if (!desc_is_int_gate(&gate) && !desc_is_trap_gate(&gate))
        raise_gate(c, EXC_GP, idt_err, SR_TYPE, vector, &gate);
    bool gate32 = desc_is_32bit_system(&gate);
    bool trap_gate = desc_is_trap_gate(&gate);
    if (kind == TR_SOFTINT && gate.dpl < c->cpl)
        raise_gate(c, EXC_GP, idt_err, SR_GATE_DPL, vector, &gate);
    if (!gate.p)
        raise_gate(c, EXC_NP, idt_err, SR_NOT_PRESENT, vector, &gate);

    /* The handler's code segment. */
    uint16_t sel = gate_selector(&gate);
    uint32_t target = gate_offset(&gate);
    if (sel_is_null(sel))
        raise_sel(c, EXC_GP, ext, SR_NULL, SU_HANDLER_CS, sel, NULL);
    struct desc cd;
    uint32_t caddr;
    enum sel_reason why = desc_read(c, sel, &cd, &caddr);
    if (why != SR_NONE)
        raise_sel(c, EXC_GP, sel_error(sel) + ext, why, SU_HANDLER_CS, sel, NULL);
    if (!desc_is_code(&cd))
        raise_sel(c, EXC_GP, sel_error(sel) + ext, SR_TYPE, SU_HANDLER_CS, sel, &cd);
    if (cd.dpl > c->cpl)
        raise_sel(c, EXC_GP, sel_error(sel) + ext, SR_DPL_GT_CPL, SU_HANDLER_CS, sel, &cd);
    if (!cd.p)
        raise_sel(c, EXC_NP, sel_error(sel) + ext, SR_NOT_PRESENT, SU_HANDLER_CS, sel, &cd);
    unsigned new_cpl = desc_is_conforming(&cd) ? c->cpl : cd.dpl;

    struct segment new_cs;
    desc_to_segment((uint16_t)(sel_error(sel) | new_cpl), &cd, &new_cs);
    if (target > new_cs.limit)
        raise_limit(c, EXC_GP, ext, SR_OFFSET_LIMIT, SU_TARGET, new_cs.sel, target,
                    new_cs.limit);

    uint32_t eflags = cpu_get_eflags(c);
    if (kind == TR_EXCEPTION && exception_is_fault(vector))
        eflags |= FL_RF;
    unsigned w = gate32 ? 4 : 2;
    uint32_t frame[6];
    unsigned n = 0;
    struct segment new_ss = c->seg[SEG_SS];
    uint32_t sp = c->r[ESP];
    uint32_t need = new_cpl == 3 ? TLB_W_U : TLB_W_S;

    if (new_cpl < c->cpl) {
        /* Inner privilege: the new stack comes from the TSS (SDM 6.12.1). */
        uint32_t new_esp;
        tss_stack(c, new_cpl, ext, &new_ss, &new_esp);
        frame[n++] = c->seg[SEG_SS].sel;
        frame[n++] = c->r[ESP];
        sp = new_esp;
    }
    frame[n++] = eflags;
    frame[n++] = c->seg[SEG_CS].sel;
    frame[n++] = c->eip;
    if (f->has_error)
        frame[n++] = f->error;

    /* Write the frame (any fault here leaves registers untouched), then commit. */
    /* No room on the new stack: #SS(new SS selector + EXT); on the same stack #SS(EXT). */
    uint32_t ss_err = new_cpl < c->cpl ? sel_error(new_ss.sel) + ext : ext;
    for (unsigned k = 0; k < n; k++) {
        uint32_t lin = stack_slot(c, &new_ss, sp, w, ss_err);
        lin_write_need(c, lin, w, frame[k], need);
        sp = (sp - w) & ((new_ss.attr & SA_DB) ? 0xFFFFFFFFu : 0xFFFFu);
    }
    if (new_cpl < c->cpl) {
        c->seg[SEG_SS] = new_ss;
        c->r[ESP] = sp;
    } else {
        c->r[ESP] = sp_with(c, sp);
    }
    flags_materialize(c);
    c->eflags &= ~(FL_TF | FL_NT | FL_RF | FL_VM);
    if (!trap_gate)
        c->eflags &= ~FL_IF;
    seg_set_cs(c, new_cs.sel, new_cs.base, new_cs.limit, new_cs.attr);
    c->eip = target;
    c->delivering = false;
    c->stop_block = true;
    c->last_delivery = cpu_time(c);
    trace_end(c, &ev);
}
