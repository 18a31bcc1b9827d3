/* Exception and interrupt delivery through the IDT (SDM vol. 3 6.10-6.15), the #DF/triple-fault
 * rules, and the trace events of every transition that passes here. */
#include <string.h>

#include "cpu/deliver.h"
#include "cpu/flags.h"
#include "cpu/ops.h"
#include "cpu/segment.h"
#include "cpu/task.h"
#include "mmu/mem.h"

void trace_emit(struct cpu *c, const struct trace_event *ev)
{
    if (ev->kind < TR_KINDS)
        c->transitions[ev->kind]++;
    if (c->trace.event)
        c->trace.event(c->trace.ctx, ev);
}

/* Exception classes for the double-fault rules (SDM vol. 3 table 6-4/6-5). */
enum exc_class { EC_BENIGN, EC_CONTRIB, EC_PAGE, EC_DOUBLE };

static enum exc_class exc_class(unsigned v)
{
    switch (v) {
    case EXC_DE: case EXC_TS: case EXC_NP: case EXC_SS: case EXC_GP: return EC_CONTRIB;
    case EXC_PF: return EC_PAGE;
    case EXC_DF: return EC_DOUBLE;
    default: return EC_BENIGN;
    }
}

/* Fault-class exceptions: EIP points at the faulting instruction and RF is set in the pushed
 * EFLAGS image (SDM vol. 3 17.3.1.1); #DB is excluded (it is a trap here). */
static bool is_fault_class(unsigned v)
{
    switch (v) {
    case EXC_DE: case EXC_BR: case EXC_UD: case EXC_NM: case EXC_TS: case EXC_NP:
    case EXC_SS: case EXC_GP: case EXC_PF: case EXC_MF: case EXC_AC: case EXC_XM:
        return true;
    default:
        return false;
    }
}

static void shutdown(struct cpu *c, struct fault third)
{
    c->shutdown_events[0] = c->df_pair[0];
    c->shutdown_events[1] = c->df_pair[1];
    c->shutdown_events[2] = third;
    c->delivering = false;
    c->stop_reason = RUN_SHUTDOWN;
    struct trace_event ev = {
        .icount = c->icount, .kind = TR_SHUTDOWN, .vector = third.vector,
        .has_error = third.has_error, .error = third.error, .cpl_before = c->cpl,
        .cpl_after = c->cpl, .cs_before = c->seg[SEG_CS].sel, .cs_after = c->seg[SEG_CS].sel,
        .eip_before = c->eip, .eip_after = c->eip, .ss_after = c->seg[SEG_SS].sel,
        .esp_after = c->r[ESP], .cr2 = c->cr2, .cr3 = c->cr3, .why = "triple fault",
    };
    trace_emit(c, &ev);
}

void deliver_fault(struct cpu *c)
{
    struct fault f = c->fault;
    if (c->delivering) {
        enum exc_class first = c->delivering_class, second = exc_class(f.vector);
        if (first == EC_DOUBLE && (second == EC_CONTRIB || second == EC_PAGE)) {
            shutdown(c, f);
            return;
        }
        if ((first == EC_CONTRIB && second == EC_CONTRIB) ||
            (first == EC_PAGE && second != EC_BENIGN)) {
            c->df_pair[0] = c->delivering_event;
            c->df_pair[1] = f;
            f = (struct fault){.vector = EXC_DF, .has_error = true, .error = 0};
        }
        c->delivering = false;
    }
    deliver(c, f.vector, TR_EXCEPTION, f.has_error, f.error);
}

/* Linear address of a push of `size` bytes below `sp` on stack segment s, with the limit check
 * (#SS(err)) of expand-up and expand-down stacks. */
static uint32_t stack_slot(struct cpu *c, const struct segment *s, uint32_t sp, unsigned size,
                           uint32_t err)
{
    uint32_t m = (s->attr & SA_DB) ? 0xFFFFFFFFu : 0xFFFFu;
    uint32_t off = (sp - size) & m;
    if (!s->flat) {
        unsigned type = s->attr & SA_TYPE;
        uint64_t last = (uint64_t)off + size - 1;
        bool bad = (type & 0x4) ? (off <= s->limit || last > m) : last > s->limit;
        if (bad)
            cpu_raise(c, EXC_SS, true, err);
    }
    return s->base + off;
}

void deliver(struct cpu *c, unsigned vector, enum trace_kind kind, bool has_error, uint32_t error)
{
    uint32_t ext = kind == TR_SOFTINT ? 0 : 1;
    uint32_t idt_err = vector * 8 + 2 + ext;
    uint8_t cpl_before = c->cpl;
    uint16_t cs_before = c->seg[SEG_CS].sel;
    uint32_t eip_before = kind == TR_EXCEPTION ? c->eip : c->insn_eip;
    uint16_t ss_before = c->seg[SEG_SS].sel;
    uint32_t esp_before = c->r[ESP];

    /* No two events are delivered at the same device time: one that would be (its handler's
     * first instruction faulted, or its fetch did) first waits one unit. An instruction that
     * faults does not retire, so without this a storm of faults would freeze time, and with it
     * the instruction limit and the devices. Between ordinary events instructions retire, and
     * an event whose delivery fails (and so becomes #DF or a shutdown) was never delivered, so
     * this adds nothing there. */
    if (cpu_time(c) == c->last_delivery)
        c->stall++;

    c->delivering = true;
    c->delivering_class = kind == TR_EXCEPTION ? exc_class(vector) : EC_BENIGN;
    c->delivering_event = (struct fault){(uint8_t)vector, has_error, error, c->cr2};
    c->halted = false;

    if (!(c->cr0 & CR0_PE))
        cpu_raise(c, EXC_GP, true, 0); /* real mode is outside the subset */

    /* The gate. */
    if (vector * 8 + 7 > c->idtr.limit)
        cpu_raise(c, EXC_GP, true, idt_err);
    uint32_t lo = lin_read_sup(c, c->idtr.base + vector * 8, 4);
    uint32_t hi = lin_read_sup(c, c->idtr.base + vector * 8 + 4, 4);
    unsigned gtype = (hi >> 8) & 0x1F, gdpl = (hi >> 13) & 3;
    bool gate32;
    switch (gtype) {
    case 0x0E: case 0x0F: gate32 = true; break;
    case 0x06: case 0x07: gate32 = false; break;
    case 0x05: /* task gate: the handler is another task (task.c) */
        if (kind == TR_SOFTINT && gdpl < c->cpl)
            cpu_raise(c, EXC_GP, true, idt_err);
        if (!(hi & 0x8000))
            cpu_raise(c, EXC_NP, true, idt_err);
        task_switch(c, (uint16_t)(lo >> 16), TASK_INT, vector, has_error, error, ext);
        c->delivering = false;
        c->last_delivery = cpu_time(c);
        return;
    default: cpu_raise(c, EXC_GP, true, idt_err);
    }
    bool trap_gate = gtype & 1;
    if (kind == TR_SOFTINT && gdpl < c->cpl)
        cpu_raise(c, EXC_GP, true, idt_err);
    if (!(hi & 0x8000))
        cpu_raise(c, EXC_NP, true, idt_err);

    /* The handler's code segment. */
    uint16_t sel = lo >> 16;
    uint32_t target = (lo & 0xFFFF) | (gate32 ? (hi & 0xFFFF0000u) : 0);
    if ((sel & 0xFFFC) == 0)
        cpu_raise(c, EXC_GP, true, ext);
    uint32_t clo, chi, caddr;
    if (!desc_read(c, sel, &clo, &chi, &caddr))
        cpu_raise(c, EXC_GP, true, (sel & 0xFFFC) + ext);
    unsigned ctype = (chi >> 8) & 0x1F, cdpl = (chi >> 13) & 3;
    if ((ctype & 0x18) != 0x18 || cdpl > c->cpl)
        cpu_raise(c, EXC_GP, true, (sel & 0xFFFC) + ext);
    if (!(chi & 0x8000))
        cpu_raise(c, EXC_NP, true, (sel & 0xFFFC) + ext);
    bool conforming = ctype & 0x4;
    unsigned new_cpl = conforming ? c->cpl : cdpl;

    struct segment new_cs;
    desc_to_segment((uint16_t)((sel & 0xFFFC) | new_cpl), clo, chi, &new_cs);
    if (target > new_cs.limit)
        cpu_raise(c, EXC_GP, true, ext);

    uint32_t eflags = cpu_get_eflags(c);
    if (kind == TR_EXCEPTION && is_fault_class(vector))
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
    if (has_error)
        frame[n++] = error;

    /* Write the frame (any fault here leaves registers untouched), then commit. */
    /* No room on the new stack: #SS(new SS selector + EXT); on the same stack #SS(EXT). */
    uint32_t ss_err = new_cpl < c->cpl ? (new_ss.sel & 0xFFFCu) + ext : ext;
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

    struct trace_event ev = {
        .icount = c->icount, .kind = (uint8_t)kind, .vector = (uint8_t)vector,
        .has_error = has_error, .error = error, .cpl_before = cpl_before, .cpl_after = c->cpl,
        .cs_before = cs_before, .cs_after = c->seg[SEG_CS].sel, .eip_before = eip_before,
        .eip_after = c->eip, .ss_before = ss_before, .ss_after = c->seg[SEG_SS].sel,
        .esp_before = esp_before, .esp_after = c->r[ESP],
        .cr2 = vector == EXC_PF ? c->cr2 : 0, .cr3 = c->cr3,
        .why = kind == TR_EXCEPTION && vector == EXC_PF ? c->pf_why : NULL,
    };
    trace_emit(c, &ev);
}
