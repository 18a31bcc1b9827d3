/* Exception and interrupt delivery through the IDT (SDM vol. 3 6.10-6.15), the #DF/triple-fault
 * rules (from the exception table, exceptions.c), and the events of every transition that
 * passes here. */
#include <string.h>

#include "cpu/deliver.h"
#include "cpu/flags.h"
#include "cpu/ops.h"
#include "cpu/segment.h"
#include "cpu/task.h"
#include "cpu/tss.h"
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

/* The last steps of a delivery, once the frame is on the new stack: SS:ESP (the new stack's
 * segment when inner, else only ESP), EFLAGS (TF, NT, RF, VM cleared, and IF for an interrupt
 * gate), CS:EIP, and the event. Cannot fault. Inline in both paths (every delivery). */
static inline __attribute__((always_inline)) void
deliver_commit(struct cpu *c, struct trace_event *ev, const struct segment *new_cs,
               uint32_t target, bool trap_gate, bool inner, const struct segment *new_ss,
               uint32_t sp)
{
    if (inner) {
        c->seg[SEG_SS] = *new_ss;
        c->r[ESP] = sp;
    } else {
        c->r[ESP] = sp_with(c, sp);
    }
    flags_materialize(c);
    c->eflags &= ~(FL_TF | FL_NT | FL_RF | FL_VM);
    if (!trap_gate)
        c->eflags &= ~FL_IF;
    seg_set_cs(c, new_cs->sel, new_cs->base, new_cs->limit, new_cs->attr);
    c->eip = target;
    c->delivering = false;
    c->stop_block |= STOP_CHECK; /* INT n: the chain may go on (exec.c chain_on) */
    c->last_delivery = cpu_time(c);
    trace_end(c, ev);
}

/* flags_materialize, with the usual case inline: a 32-bit SUB (a loop's CMP before an INT n),
 * the flags as lf_compute makes them; any other pending operation through lf_compute. */
static inline void materialize_sub32(struct cpu *c)
{
    const struct lazyflags *lf = &c->lf;
    if (lf->op == LF_SUB && lf->size == 4) {
        uint32_t res = lf->res, a = lf->op1, b = lf->op2;
        uint32_t f = (res == 0 ? FL_ZF : 0) | ((res & 0x80000000u) ? FL_SF : 0) |
                     (parity8(res) ? FL_PF : 0) |
                     ((lf->cf_in ? a <= b : a < b) ? FL_CF : 0) |
                     (((a ^ b ^ res) & 0x10) ? FL_AF : 0) |
                     ((((a ^ b) & (a ^ res)) & 0x80000000u) ? FL_OF : 0);
        c->eflags = (c->eflags & ~FL_ARITH) | f;
        c->lf.op = LF_NONE;
        return;
    }
    flags_materialize(c);
}

/* Gate words: a present 32-bit interrupt (0xE) or trap (0xF) gate, S = 0. */
#define GATE32_MASK (DESC_HI_S | DESC_HI_P | 0x00000E00u)
#define GATE32_WANT (DESC_HI_P | 0x00000E00u)
/* Descriptor words: a present non-conforming code segment with DPL 0. */
#define CODE0_MASK (DESC_HI_S | DESC_HI_P | DESC_HI_DPL | ((TYPE_CODE | TYPE_EC) << 8))
#define CODE0_WANT (DESC_HI_S | DESC_HI_P | (TYPE_CODE << 8))
/* A present writable data segment with DPL 0 (expand-down or not: seg->flat decides). */
#define DATA0_MASK (DESC_HI_S | DESC_HI_P | DESC_HI_DPL | ((TYPE_CODE | TYPE_RW) << 8))
#define DATA0_WANT (DESC_HI_S | DESC_HI_P | (TYPE_RW << 8))

/* The common delivery, decided from bytes read through the TLB: a present 32-bit interrupt or
 * trap gate (its DPL allowing INT n), a present non-conforming ring-0 code segment holding the
 * target, and either a stack switch from CPL 1-3 to the TSS's ring-0 stack or, at CPL 0, the
 * current stack, that stack flat and 32-bit, the frame inside one writable RAM page. Every one
 * of these the general path below would check and pass; the frame, registers and event come
 * out the same. Returns false, having read nothing through a walk and changed nothing, when
 * anything else holds (a TLB miss included): the general path then decides. */
static bool gate_fast(struct cpu *c, const struct fault *f, enum trace_kind kind,
                      struct trace_event *ev)
{
    unsigned vector = f->vector;
    if (vector * 8 + 7 > c->idtr.limit)
        return false;
    uint32_t glin = c->idtr.base + vector * 8;
    struct tlb_entry *e = tlb_hit(c, glin, 8, TLB_R_I);
    if (!e)
        return false;
    const uint8_t *g = e->host + (glin & PAGE_MASK);
    uint32_t glo = host_load(g, 4), ghi = host_load(g + 4, 4);
    if ((ghi & GATE32_MASK) != GATE32_WANT)
        return false;
    if (kind == TR_SOFTINT && ((ghi & DESC_HI_DPL) >> 13) < c->cpl)
        return false;
    uint16_t sel = (uint16_t)(glo >> 16);
    uint32_t target = (glo & 0xFFFFu) | (ghi & 0xFFFF0000u);
    uint32_t lo, hi, addr;
    /* The handler's CS: a selector with RPL 0 from the memo (a present non-conforming code
     * segment with DPL = RPL = 0 is what CODE0 asks for; the new CS selector is sel). */
    struct segment new_cs;
    const struct segment *ms = sel_rpl(sel) == 0 ? seg_memo_get(c, SEG_MEMO_CODE, 0, sel) : NULL;
    if (ms) {
        new_cs = *ms;
    } else {
        if (sel_is_null(sel) || !desc_peek(c, sel, &lo, &hi, &addr) ||
            (hi & CODE0_MASK) != CODE0_WANT)
            return false;
        seg_from_words(&new_cs, (uint16_t)sel_error(sel), lo, hi);
        if (sel_rpl(sel) == 0)
            seg_memo_put(c, SEG_MEMO_CODE, 0, sel, addr, lo, hi, &new_cs);
    }
    if (target > new_cs.limit)
        return false;

    bool inner = c->cpl > 0;
    struct segment new_ss;
    uint32_t sp;
    if (inner) { /* tss_stack(c, 0, ...) */
        if (!(c->tr.attr & SA_P) || TSS_ESP0 + 5 > c->tr.limit)
            return false;
        uint32_t tlin = c->tr.base + TSS_ESP0;
        e = tlb_hit(c, tlin, 6, TLB_R_I);
        if (!e)
            return false;
        sp = host_load(e->host + (tlin & PAGE_MASK), 4);
        uint16_t ss_sel = (uint16_t)host_load(e->host + (tlin & PAGE_MASK) + 4, 2);
        /* SS0: the memo of an SS load at CPL 0 (its checks: RPL = DPL = 0, present, writable
         * data, what DATA0 asks for), else the descriptor, and a memo when its accessed bit is
         * set (as a MOV SS would leave it) */
        const struct segment *mss = seg_memo_get(c, SEG_MEMO_SS, 0, ss_sel);
        if (mss) {
            new_ss = *mss;
        } else {
            if (sel_is_null(ss_sel) || sel_rpl(ss_sel) != 0 ||
                !desc_peek(c, ss_sel, &lo, &hi, &addr) || (hi & DATA0_MASK) != DATA0_WANT)
                return false;
            seg_from_words(&new_ss, ss_sel, lo, hi);
            if (hi & DESC_HI_ACCESSED)
                seg_memo_put(c, SEG_MEMO_SS, 0, ss_sel, addr, lo, hi, &new_ss);
        }
    } else {
        new_ss = c->seg[SEG_SS];
        sp = c->r[ESP];
    }
    if (!new_ss.flat || !(new_ss.attr & SA_DB))
        return false;
    unsigned n = (inner ? 5 : 3) + f->has_error;
    uint32_t low = sp - 4 * n; /* below 0 it wraps into a page tlb_hit refuses */
    e = tlb_hit(c, low, 4 * n, TLB_W_S);
    if (!e)
        return false;

    /* Committed: from here on nothing can fault. */
    materialize_sub32(c); /* once, for the frame and for the commit */
    uint32_t eflags = c->eflags | FL_R1; /* cpu_get_eflags */
    if (kind == TR_EXCEPTION && exception_is_fault(vector))
        eflags |= FL_RF;
    uint8_t *q = e->host + (low & PAGE_MASK); /* [error] EIP CS EFLAGS [ESP SS], upwards */
    if (f->has_error) {
        host_store(q, 4, f->error);
        q += 4;
    }
    host_store(q, 4, c->eip);
    host_store(q + 4, 4, c->seg[SEG_CS].sel);
    host_store(q + 8, 4, eflags);
    if (inner) {
        host_store(q + 12, 4, c->r[ESP]);
        host_store(q + 16, 4, c->seg[SEG_SS].sel);
    }

    deliver_commit(c, ev, &new_cs, target, (ghi & 0x100u) != 0, inner, &new_ss, low);
    return true;
}

static void deliver_event(struct cpu *c, const struct fault *f, enum trace_kind kind)
{
    unsigned vector = f->vector;
    uint32_t ext = kind == TR_SOFTINT ? 0 : ERR_EXT;
    uint32_t idt_err = vector * 8 + ERR_IDT + ext;
    struct trace_event ev;
    trace_begin(c, &ev, kind, vector, f->has_error, f->error);
    if (c->nsinks && f->detail.kind != FD_NONE) /* only a sink reads it (trace_end); none:
                                                    * trace_begin made it FD_NONE */
        ev.detail = f->detail;

    /* No two events are delivered at the same device time: one that would be (its handler's
     * first instruction faulted, or its fetch did) first waits one unit. An instruction that
     * faults does not retire, so without this a storm of faults would freeze time, and with it
     * the instruction limit and the devices. Between ordinary events instructions retire, and
     * an event whose delivery fails (and so becomes #DF or a shutdown) was never delivered, so
     * this adds nothing there. */
    if (cpu_time(c) == c->last_delivery)
        c->stall++;

    c->halted = false;

    /* CR0.PE = 1 here: cpu_run refuses to run in real mode (exec.c). The fast path cannot
     * fault, so it needs no record of the event being delivered (for the #DF rules). */
    if (gate_fast(c, f, kind, &ev))
        return;
    c->delivering = true;
    c->delivering_class = kind == TR_EXCEPTION ? exception_class(vector) : EXC_BENIGN;
    c->delivering_event = *f;

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
    deliver_commit(c, &ev, &new_cs, target, trap_gate, new_cpl < c->cpl, &new_ss, sp);
}
