/* Hardware task switching (SDM vol. 3 7.3), for 32-bit TSSs: far JMP/CALL to a TSS descriptor
 * or a task gate, an interrupt or exception through a task gate, and IRET with EFLAGS.NT.
 *
 *   32-bit TSS: 0x00 back link  0x04 ESP0 0x08 SS0 ... 0x1C CR3  0x20 EIP  0x24 EFLAGS
 *               0x28 EAX ECX EDX EBX ESP EBP ESI EDI (to 0x44)  0x48 ES CS SS DS FS GS (to 0x5C)
 *               0x60 LDT selector  0x64 T bit / I/O map base
 *
 * Order: the new TSS descriptor is checked (faults here belong to the old task and change
 * nothing), the outgoing state is saved into the current TSS, the busy bits and the back link
 * are updated, TR and every register are loaded from the new TSS, and only then are the new
 * segment descriptors checked: a fault there is delivered in the context of the new task. */
#include "cpu/task.h"

#include "cpu/deliver.h"
#include "cpu/flags.h"
#include "cpu/ops.h"

#define TSS_BUSY 0x200u /* type bit 1 in the descriptor's high word */

static const int save_order[6] = {SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS};

/* Reads and checks the descriptor of the TSS a task switch goes to. */
static void new_tss(struct cpu *c, uint16_t sel, enum task_reason why, uint32_t ext,
                    uint32_t *lo, uint32_t *hi, uint32_t *addr)
{
    uint32_t err = (sel & 0xFFFCu) + ext;
    if ((sel & 4) || !desc_read(c, sel, lo, hi, addr)) /* a TSS lives in the GDT */
        cpu_raise(c, why == TASK_IRET ? EXC_TS : EXC_GP, true, err);
    unsigned type = (*hi >> 8) & 0x1F;
    if (why == TASK_IRET ? type != 0x0B : type != 0x09) /* busy for IRET, available otherwise */
        cpu_raise(c, why == TASK_IRET ? EXC_TS : EXC_GP, true, err);
    if (!(*hi & 0x8000))
        cpu_raise(c, EXC_NP, true, err);
    struct segment s;
    desc_to_segment(sel, *lo, *hi, &s);
    if (s.limit < 0x67)
        cpu_raise(c, EXC_TS, true, err);
}

static void set_busy(struct cpu *c, uint16_t sel, bool busy)
{
    uint32_t lo, hi, addr;
    if (desc_read(c, sel, &lo, &hi, &addr))
        lin_write_sup(c, addr + 4, 4, busy ? hi | TSS_BUSY : hi & ~TSS_BUSY);
}

/* Loads segment register `seg` of the new task; a bad selector raises #TS(sel) (#NP / #SS when
 * only the present bit is missing), as the SDM's task-switch checks say. */
static void load_task_segment(struct cpu *c, int seg, uint16_t sel)
{
    struct segment *s = &c->seg[seg];
    uint32_t err = sel & 0xFFFCu, lo, hi, addr;
    if (err == 0) {
        if (seg == SEG_CS || seg == SEG_SS)
            cpu_raise(c, EXC_TS, true, 0);
        *s = (struct segment){.sel = sel};
        return;
    }
    if (!desc_read(c, sel, &lo, &hi, &addr))
        cpu_raise(c, EXC_TS, true, err);
    unsigned type = (hi >> 8) & 0x1F, dpl = (hi >> 13) & 3, rpl = sel & 3;
    bool code = (type & 0x18) == 0x18, conforming = code && (type & 4);
    bool ok;
    if (seg == SEG_CS)
        ok = code && (conforming ? dpl <= rpl : dpl == rpl);
    else if (seg == SEG_SS)
        ok = (type & 0x1A) == 0x12 && rpl == c->cpl && dpl == c->cpl;
    else
        ok = (type & 0x10) && (!code || (type & 2)) &&
             (conforming || (dpl >= c->cpl && dpl >= rpl));
    if (!ok)
        cpu_raise(c, EXC_TS, true, err);
    if (!(hi & 0x8000))
        cpu_raise(c, seg == SEG_SS ? EXC_SS : EXC_NP, true, err);
    desc_to_segment(sel, lo, hi, s);
}

void task_switch(struct cpu *c, uint16_t sel, enum task_reason why, unsigned vector,
                 bool has_error, uint32_t error, uint32_t ext)
{
    uint8_t cpl_before = c->cpl;
    uint16_t cs_before = c->seg[SEG_CS].sel, ss_before = c->seg[SEG_SS].sel;
    uint32_t eip_before = c->insn_eip, esp_before = c->r[ESP];
    uint32_t lo, hi, addr;
    new_tss(c, sel, why, ext, &lo, &hi, &addr);
    if (!(c->tr.attr & SA_P) || c->tr.limit < 0x5F)
        cpu_raise(c, EXC_TS, true, (c->tr.sel & 0xFFFCu) + ext);

    /* A new task with EFLAGS.VM = 1 runs in virtual-8086 mode, which Ringside does not
     * implement: the machine stops before anything changes. (Reading the new TSS here, before
     * the old task is saved, is within the SDM's order: both TSSs are checked to be paged in
     * before the save, vol. 3 7.3.) */
    struct segment tr;
    desc_to_segment(sel, lo, hi | TSS_BUSY, &tr);
    if (lin_read_sup(c, tr.base + 0x24, 4) & FL_VM) {
        static const char *const by[] = {
            [TASK_JMP] = "task switch (far JMP)", [TASK_CALL] = "task switch (far CALL)",
            [TASK_INT] = "task switch (task gate in the IDT)",
            [TASK_IRET] = "task switch (IRET to the back-linked task)",
        };
        cpu_stop_unsupported(c, &(struct unsupported){
            .what = "virtual-8086 mode is not supported", .by = by[why],
            .why = "EFLAGS.VM=1 in the new TSS", .cs = cs_before, .eip = eip_before,
            .target_cs = (uint16_t)lin_read_sup(c, tr.base + 0x4C, 2),
            .target_eip = lin_read_sup(c, tr.base + 0x20, 4)});
    }

    /* Save the outgoing task. */
    uint32_t ob = c->tr.base, eflags = cpu_get_eflags(c);
    if (why == TASK_IRET)
        eflags &= ~FL_NT;
    lin_write_sup(c, ob + 0x20, 4, c->eip);
    lin_write_sup(c, ob + 0x24, 4, eflags);
    for (unsigned r = 0; r < 8; r++)
        lin_write_sup(c, ob + 0x28 + 4 * r, 4, c->r[r]);
    for (unsigned k = 0; k < 6; k++)
        lin_write_sup(c, ob + 0x48 + 4 * k, 2, c->seg[save_order[k]].sel);

    /* Busy bits and the back link. */
    uint16_t old_sel = c->tr.sel;
    if (why == TASK_JMP || why == TASK_IRET)
        set_busy(c, old_sel, false);
    if (why != TASK_IRET)
        set_busy(c, sel, true);
    uint32_t nb = tr.base;
    if (why == TASK_CALL || why == TASK_INT)
        lin_write_sup(c, nb, 2, old_sel);

    /* Load the new task's state (reads before any register changes). */
    uint32_t cr3 = lin_read_sup(c, nb + 0x1C, 4), eip = lin_read_sup(c, nb + 0x20, 4);
    uint32_t nflags = lin_read_sup(c, nb + 0x24, 4), regs[8];
    uint16_t sels[6], ldt = (uint16_t)lin_read_sup(c, nb + 0x60, 2);
    for (unsigned r = 0; r < 8; r++)
        regs[r] = lin_read_sup(c, nb + 0x28 + 4 * r, 4);
    for (unsigned k = 0; k < 6; k++)
        sels[k] = (uint16_t)lin_read_sup(c, nb + 0x48 + 4 * k, 2);

    c->tr = tr;
    c->cr0 |= CR0_TS;
    if (c->cr0 & CR0_PG) {
        acct_update(c);
        c->cr3 = cr3;
        tlb_flush_nonglobal(c);
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
    if ((ldt & 0xFFFC) == 0) {
        c->ldtr = (struct segment){.sel = ldt};
    } else {
        uint32_t llo, lhi, laddr;
        if ((ldt & 4) || !desc_read(c, ldt, &llo, &lhi, &laddr) || ((lhi >> 8) & 0x1F) != 2)
            cpu_raise(c, EXC_TS, true, ldt & 0xFFFCu);
        if (!(lhi & 0x8000))
            cpu_raise(c, EXC_TS, true, ldt & 0xFFFCu);
        desc_to_segment(ldt, llo, lhi, &c->ldtr);
    }
    uint16_t cs = sels[1];
    load_task_segment(c, SEG_CS, cs);
    cpu_set_cpl(c, cs & 3);
    load_task_segment(c, SEG_SS, sels[2]);
    load_task_segment(c, SEG_ES, sels[0]);
    load_task_segment(c, SEG_DS, sels[3]);
    load_task_segment(c, SEG_FS, sels[4]);
    load_task_segment(c, SEG_GS, sels[5]);
    if (c->eip > c->seg[SEG_CS].limit)
        cpu_raise(c, EXC_GP, true, 0);
    cpu_update_acc(c);

    /* An exception with an error code pushes it on the new task's stack. */
    if (has_error)
        push(c, 4, error);

    struct trace_event ev = {
        .icount = c->icount, .kind = TR_TASK, .vector = (uint8_t)vector, .has_error = has_error,
        .error = error, .cpl_before = cpl_before, .cpl_after = c->cpl, .cs_before = cs_before,
        .cs_after = c->seg[SEG_CS].sel, .eip_before = eip_before, .eip_after = c->eip,
        .ss_before = ss_before, .ss_after = c->seg[SEG_SS].sel, .esp_before = esp_before,
        .esp_after = c->r[ESP], .cr3 = c->cr3, .why = NULL,
    };
    trace_emit(c, &ev);
}
