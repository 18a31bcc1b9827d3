/* Hardware task switching (SDM vol. 3 7.3), for 32-bit TSSs: far JMP/CALL to a TSS descriptor
 * or a task gate, an interrupt or exception through a task gate, and IRET with EFLAGS.NT.
 * The TSS layout is drawn in tss.h.
 *
 * Order: the new TSS descriptor is checked (faults here belong to the old task and change
 * nothing), the outgoing state is saved into the current TSS, the busy bits and the back link
 * are updated, TR and every register are loaded from the new TSS, and only then are the new
 * segment descriptors checked: a fault there is delivered in the context of the new task. */
#include "cpu/task.h"

#include "cpu/deliver.h"
#include "cpu/flags.h"
#include "cpu/ops.h"
#include "cpu/tss.h"

static const int save_order[6] = {SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS};

/* Reads and checks the descriptor of the TSS a task switch goes to. */
static void new_tss(struct cpu *c, uint16_t sel, enum task_reason why, uint32_t ext,
                    struct desc *d, uint32_t *addr)
{
    uint32_t err = sel_error(sel) + ext;
    int vec = why == TASK_IRET ? EXC_TS : EXC_GP;
    enum sel_use use = why == TASK_IRET ? SU_TASK_BACK : SU_TASK;
    /* a TSS lives in the GDT */
    enum sel_reason r = sel_in_ldt(sel) ? SR_NOT_GDT : desc_read(c, sel, d, addr);
    if (r != SR_NONE)
        raise_sel(c, vec, err, r, use, sel, NULL);
    /* busy for IRET, available otherwise */
    bool ok = desc_is_tss(d) && desc_is_32bit_system(d) &&
              (why == TASK_IRET ? desc_is_tss_busy(d) : !desc_is_tss_busy(d));
    if (!ok)
        raise_sel(c, vec, err, SR_TYPE, use, sel, d);
    if (!d->p)
        raise_sel(c, EXC_NP, err, SR_NOT_PRESENT, use, sel, d);
    if (d->limit < TSS32_MIN_LIMIT) {
        struct sel_fault f = sel_fault_of(c, SR_TSS_LIMIT, use, sel, d);
        f.offset = TSS32_MIN_LIMIT;
        f.limit = d->limit;
        raise_sel_fault(c, EXC_TS, err, &f);
    }
}

static void set_busy(struct cpu *c, uint16_t sel, bool busy)
{
    struct desc d;
    uint32_t addr;
    if (desc_read(c, sel, &d, &addr) == SR_NONE)
        lin_write_sup(c, addr + 4, 4, busy ? d.hi | DESC_HI_BUSY : d.hi & ~DESC_HI_BUSY);
}

/* Raises #TS/#NP/#SS about the new task's segment register `seg`. */
static _Noreturn void task_seg_fault(struct cpu *c, int vec, uint32_t err, enum sel_reason why,
                                     int seg, uint16_t sel, const struct desc *d)
{
    struct sel_fault f = sel_fault_of(c, why, SU_TASK_SEG, sel, d);
    f.seg = (uint8_t)seg;
    raise_sel_fault(c, vec, err, &f);
}

/* Loads segment register `seg` of the new task; a bad selector raises #TS(sel) (#NP / #SS when
 * only the present bit is missing), as the SDM's task-switch checks say. */
static void load_task_segment(struct cpu *c, int seg, uint16_t sel)
{
    struct segment *s = &c->seg[seg];
    uint32_t err = sel_error(sel), addr;
    if (sel_is_null(sel)) {
        if (seg == SEG_CS || seg == SEG_SS)
            task_seg_fault(c, EXC_TS, 0, SR_NULL, seg, sel, NULL);
        *s = (struct segment){.sel = sel};
        return;
    }
    struct desc d;
    enum sel_reason why = desc_read(c, sel, &d, &addr);
    if (why != SR_NONE)
        task_seg_fault(c, EXC_TS, err, why, seg, sel, NULL);
    unsigned rpl = sel_rpl(sel);
    bool code = desc_is_code(&d), conforming = desc_is_conforming(&d);
    if (seg == SEG_CS)
        why = !code ? SR_TYPE
              : conforming ? (d.dpl > rpl ? SR_DPL_GT_RPL : SR_NONE)
                           : (d.dpl != rpl ? SR_DPL_NE_RPL : SR_NONE);
    else if (seg == SEG_SS)
        why = !desc_is_writable(&d) ? SR_TYPE
              : rpl != c->cpl       ? SR_RPL_NE_CPL
              : d.dpl != c->cpl     ? SR_DPL_NE_CPL
                                    : SR_NONE;
    else /* readable means a data or readable code segment: never a system descriptor */
        why = !desc_is_readable(&d) ? SR_TYPE
              : !conforming && (d.dpl < c->cpl || d.dpl < rpl) ? SR_DPL_LT_PRIV
                                                               : SR_NONE;
    if (why != SR_NONE)
        task_seg_fault(c, EXC_TS, err, why, seg, sel, &d);
    if (!d.p)
        task_seg_fault(c, seg == SEG_SS ? EXC_SS : EXC_NP, err, SR_NOT_PRESENT, seg, sel, &d);
    desc_to_segment(sel, &d, s);
}

void task_switch(struct cpu *c, uint16_t sel, enum task_reason why, const struct fault *event,
                 uint32_t ext)
{
    struct trace_event ev;
    trace_begin(c, &ev, TR_TASK, event ? event->vector : 0, event && event->has_error,
                event ? event->error : 0);
    if (event)
        ev.detail = event->detail;
    struct desc nd;
    uint32_t addr;
    new_tss(c, sel, why, ext, &nd, &addr);
    if (!(c->tr.attr & SA_P) || c->tr.limit < TSS32_SAVE_LIMIT)
        raise_limit(c, EXC_TS, sel_error(c->tr.sel) + ext, SR_TSS_LIMIT, SU_CUR_TSS, c->tr.sel,
                    TSS32_SAVE_LIMIT, (c->tr.attr & SA_P) ? c->tr.limit : 0);

    /* A new task with EFLAGS.VM = 1 runs in virtual-8086 mode, which Ringside does not
     * implement: the machine stops before anything changes. (Reading the new TSS here, before
     * the old task is saved, is within the SDM's order: both TSSs are checked to be paged in
     * before the save, vol. 3 7.3.) */
    struct segment tr;
    nd = desc_decode(nd.lo, nd.hi | DESC_HI_BUSY);
    desc_to_segment(sel, &nd, &tr);
    if (lin_read_sup(c, tr.base + TSS_EFLAGS, 4) & FL_VM) {
        static const char *const by[] = {
            [TASK_JMP] = "task switch (far JMP)", [TASK_CALL] = "task switch (far CALL)",
            [TASK_INT] = "task switch (task gate in the IDT)",
            [TASK_IRET] = "task switch (IRET to the back-linked task)",
        };
        cpu_stop_unsupported(c, &(struct unsupported){
            .what = "virtual-8086 mode is not supported", .by = by[why],
            .why = "EFLAGS.VM=1 in the new TSS", .cs = c->seg[SEG_CS].sel, .eip = c->insn_eip,
            .target_cs = (uint16_t)lin_read_sup(c, tr.base + TSS_SEG + 4 * 1, 2),
            .target_eip = lin_read_sup(c, tr.base + TSS_EIP, 4)});
    }

    /* Save the outgoing task. */
    uint32_t ob = c->tr.base, eflags = cpu_get_eflags(c);
    if (why == TASK_IRET)
        eflags &= ~FL_NT;
    lin_write_sup(c, ob + TSS_EIP, 4, c->eip);
    lin_write_sup(c, ob + TSS_EFLAGS, 4, eflags);
    for (unsigned r = 0; r < 8; r++)
        lin_write_sup(c, ob + TSS_GPR + 4 * r, 4, c->r[r]);
    for (unsigned k = 0; k < 6; k++)
        lin_write_sup(c, ob + TSS_SEG + 4 * k, 2, c->seg[save_order[k]].sel);

    /* Busy bits and the back link. */
    uint16_t old_sel = c->tr.sel;
    if (why == TASK_JMP || why == TASK_IRET)
        set_busy(c, old_sel, false);
    if (why != TASK_IRET)
        set_busy(c, sel, true);
    uint32_t nb = tr.base;
    if (why == TASK_CALL || why == TASK_INT)
        lin_write_sup(c, nb + TSS_LINK, 2, old_sel);

    /* Load the new task's state (reads before any register changes). */
    uint32_t cr3 = lin_read_sup(c, nb + TSS_CR3, 4), eip = lin_read_sup(c, nb + TSS_EIP, 4);
    uint32_t nflags = lin_read_sup(c, nb + TSS_EFLAGS, 4), regs[8];
    uint16_t sels[6], ldt = (uint16_t)lin_read_sup(c, nb + TSS_LDT, 2);
    for (unsigned r = 0; r < 8; r++)
        regs[r] = lin_read_sup(c, nb + TSS_GPR + 4 * r, 4);
    for (unsigned k = 0; k < 6; k++)
        sels[k] = (uint16_t)lin_read_sup(c, nb + TSS_SEG + 4 * k, 2);

    c->tr = tr;
    c->cr0 |= CR0_TS;
    if (c->cr0 & CR0_PG) {
        /* CR3 changes here, whatever happens next: its own event, before the switch's. */
        struct trace_event cr3_ev;
        trace_begin(c, &cr3_ev, TR_CR3, 0, false, 0);
        acct_update(c);
        c->cr3 = cr3;
        tlb_flush_nonglobal(c);
        trace_end(c, &cr3_ev);
    }
    for (unsigned r = 0; r < 8; r++)
        c->r[r] = regs[r];
    if (why == TASK_CALL || why == TASK_INT)
        nflags |= FL_NT;
    c->lf.op = LF_NONE;
    c->eflags = nflags | FL_R1; /* VM = 0: checked above */
    c->eip = eip;
    for (unsigned k = 0; k < 6; k++)
        c->seg[save_order[k]].sel = sels[k];
    c->insn_eip = eip; /* from here on, faults belong to the new task */
    c->delivering = false;
    c->last_block = NULL;
    c->stop_block = true;

    /* The new task's LDT and segments, with their checks. */
    if (sel_is_null(ldt)) {
        c->ldtr = (struct segment){.sel = ldt};
    } else {
        struct desc ld;
        uint32_t laddr;
        enum sel_reason r = sel_in_ldt(ldt) ? SR_NOT_GDT : desc_read(c, ldt, &ld, &laddr);
        if (r == SR_NONE && !desc_is_ldt(&ld))
            r = SR_TYPE;
        if (r != SR_NONE)
            raise_sel(c, EXC_TS, sel_error(ldt), r, SU_TASK_LDT, ldt,
                      r == SR_TYPE ? &ld : NULL);
        if (!ld.p)
            raise_sel(c, EXC_TS, sel_error(ldt), SR_NOT_PRESENT, SU_TASK_LDT, ldt, &ld);
        desc_to_segment(ldt, &ld, &c->ldtr);
    }
    seg_memo_clear(c);
    uint16_t cs = sels[1];
    load_task_segment(c, SEG_CS, cs);
    cpu_set_cpl(c, sel_rpl(cs));
    load_task_segment(c, SEG_SS, sels[2]);
    load_task_segment(c, SEG_ES, sels[0]);
    load_task_segment(c, SEG_DS, sels[3]);
    load_task_segment(c, SEG_FS, sels[4]);
    load_task_segment(c, SEG_GS, sels[5]);
    if (c->eip > c->seg[SEG_CS].limit)
        raise_limit(c, EXC_GP, 0, SR_OFFSET_LIMIT, SU_TARGET, cs, c->eip,
                    c->seg[SEG_CS].limit);
    cpu_update_acc(c);

    /* An exception with an error code pushes it on the new task's stack. */
    if (event && event->has_error)
        push(c, 4, event->error);

    trace_end(c, &ev);
}
