/* The event builder (src/cpu/event.c) through the real cpu: every kind of event is produced by a
 * small program, and every event is checked field by field as it reaches the sink:
 *
 *   before   = the state an instruction hook saw at the start of the instruction the event
 *              belongs to (or the state before cpu_run, for an interrupt taken at once):
 *              EAX..EDI, EIP, EFLAGS, CR3, CS, SS, CPL
 *   after    = the cpu's state at the moment the sink is called, read through inspect.h
 *   icount   = the instructions retired so far;  cr2 = CR2 now
 *   vector, error, detail: what the program provoked
 *
 * Several sinks and hooks are installed at once (two sinks must see the same events, in order).
 *
 * Machine (paging off unless the program turns it on; identity 4 MiB pages then):
 *   0x1000 GDT  0x2000 IDT  0x3000 TSS A  0x3100 TSS B  0x4000 PD A  0x5000 PD B
 *   0x6000 ring 3 stack top  0x7000 ring 0 stack top  0x8000 code  0x9000 handlers
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cpu/flags.h"
#include "cpu/insn.h"
#include "cpu/inspect.h"
#include "devices/bus.h"

#define RAM_SIZE (1u << 20)
#define GDT 0x1000u
#define IDT 0x2000u
#define TSS_A 0x3000u
#define TSS_B 0x3100u
#define PD_A 0x4000u
#define PD_B 0x5000u
#define USTACK 0x6000u
#define KSTACK 0x7000u
#define CODE 0x8000u
#define TASK_B_CODE 0x8800u
#define H_IRET 0x9000u  /* iret */
#define H_HLT 0x9100u   /* hlt */
#define H_LRET 0x9200u  /* lret */
#define H_SYSEXIT 0x9300u /* sysexit */

#define S_KCODE 0x08
#define S_KDATA 0x10
#define S_UCODE 0x1B
#define S_UDATA 0x23
#define S_TSS_A 0x28
#define S_TSS_B 0x30
#define S_GATE3 0x3B /* call gate, DPL 3 -> 0x08:H_LRET */
#define S_GATE0 0x40 /* call gate, DPL 0 -> 0x08:H_HLT */

/* Descriptor: hi = base 31..24 | G D 0 0 | limit 19..16 | P DPL S type | base 23..16. */
static uint64_t seg_desc(uint32_t base, uint32_t limit, unsigned access, unsigned flags)
{
    uint32_t hi = (base & 0xFF000000u) | (flags << 20) | (limit & 0xF0000u) | (access << 8) |
                  ((base >> 16) & 0xFFu);
    uint32_t lo = (limit & 0xFFFFu) | (base << 16);
    return (uint64_t)hi << 32 | lo;
}

static uint64_t gate_desc(uint16_t sel, uint32_t off, unsigned type, unsigned dpl)
{
    uint32_t hi = (off & 0xFFFF0000u) | 0x8000u | (dpl << 13) | (type << 8);
    return (uint64_t)hi << 32 | (off & 0xFFFFu) | (uint32_t)sel << 16;
}

struct m {
    struct cpu c;
    struct bus bus;
    uint8_t *ram;
    struct trace_state snap; /* the state at the start of the last instruction */
    struct trace_event ev[16];
    unsigned nev, nev2;      /* events seen by the first and by the second sink */
    unsigned hooks_a, hooks_b;
    uint32_t trap_eip;       /* where a trap (#DB) is reported: after its instruction */
};

static unsigned kinds_seen;

static void put32(struct m *m, uint32_t pa, uint32_t v) { memcpy(m->ram + pa, &v, 4); }
static void put64(struct m *m, uint32_t pa, uint64_t v) { memcpy(m->ram + pa, &v, 8); }
static void put(struct m *m, uint32_t pa, const char *bytes, size_t n)
{
    memcpy(m->ram + pa, bytes, n);
}

static void state_now(const struct cpu *c, struct trace_state *s)
{
    for (int r = 0; r < 8; r++)
        s->r[r] = cpu_get_reg(c, (enum cpu_reg)(REG_EAX + r));
    s->eip = cpu_get_reg(c, REG_EIP);
    s->eflags = cpu_get_reg(c, REG_EFLAGS);
    s->cr3 = cpu_get_reg(c, REG_CR3);
    struct seg_value v;
    cpu_get_seg(c, SREG_CS, &v);
    s->cs = v.sel;
    cpu_get_seg(c, SREG_SS, &v);
    s->ss = v.sel;
    s->cpl = (uint8_t)cpu_get_cpl(c);
}

static void assert_state(const struct trace_state *got, const struct trace_state *want)
{
    for (int r = 0; r < 8; r++)
        assert_int_equal(got->r[r], want->r[r]);
    assert_int_equal(got->eip, want->eip);
    assert_int_equal(got->eflags, want->eflags);
    assert_int_equal(got->cr3, want->cr3);
    assert_int_equal(got->cs, want->cs);
    assert_int_equal(got->ss, want->ss);
    assert_int_equal(got->cpl, want->cpl);
}

static void hook_a(void *ctx, struct cpu *c, uint32_t lin_eip)
{
    struct m *m = ctx;
    (void)lin_eip;
    state_now(c, &m->snap);
    m->hooks_a++;
}

static void hook_b(void *ctx, struct cpu *c, uint32_t lin_eip)
{
    struct m *m = ctx;
    (void)c;
    (void)lin_eip;
    m->hooks_b++;
}

/* The first sink checks every field it can against the cpu, and keeps the event. */
static void sink(void *ctx, const struct trace_event *ev)
{
    struct m *m = ctx;
    const struct cpu *c = &m->c;
    assert_true(ev->kind < TR_KINDS);
    assert_int_equal(ev->icount, cpu_stat_insns(c));
    assert_int_equal(ev->cr2, cpu_get_reg(c, REG_CR2));
    struct trace_state now;
    state_now(c, &now);
    assert_state(&ev->after, &now);
    struct trace_state want = m->snap;
    if (ev->kind == TR_EXCEPTION && ev->vector == EXC_DB)
        want.eip = m->trap_eip; /* a trap belongs after the instruction that made it */
    assert_state(&ev->before, &want);
    if (!ev->has_error)
        assert_int_equal(ev->error, 0);
    if (ev->kind != TR_EXCEPTION && ev->kind != TR_SHUTDOWN && ev->kind != TR_TASK)
        assert_int_equal(ev->detail.kind, FD_NONE);
    if (ev->kind != TR_EXCEPTION && ev->kind != TR_INTERRUPT && ev->kind != TR_SOFTINT &&
        ev->kind != TR_SHUTDOWN && ev->kind != TR_TASK)
        assert_int_equal(ev->vector, 0);
    kinds_seen |= 1u << ev->kind;
    if (m->nev < 16)
        m->ev[m->nev] = *ev;
    m->nev++;
}

/* The second sink only counts, and checks it sees the same events in the same order. */
static void sink2(void *ctx, const struct trace_event *ev)
{
    struct m *m = ctx;
    assert_true(m->nev2 < m->nev);
    assert_int_equal(ev->kind, m->ev[m->nev2].kind);
    assert_int_equal(ev->icount, m->ev[m->nev2].icount);
    m->nev2++;
}

static struct m *machine(void)
{
    struct m *m = calloc(1, sizeof *m);
    assert_non_null(m);
    m->ram = calloc(1, RAM_SIZE);
    assert_non_null(m->ram);
    bus_init(&m->bus);
    assert_int_equal(cpu_init(&m->c, m->ram, RAM_SIZE, &m->bus), 0);
    struct cpu *c = &m->c;
    cpu_reset_protected_flat(c, CODE);

    put64(m, GDT + 0x08, seg_desc(0, 0xFFFFF, 0x9A, 0xC));
    put64(m, GDT + 0x10, seg_desc(0, 0xFFFFF, 0x92, 0xC));
    put64(m, GDT + 0x18, seg_desc(0, 0xFFFFF, 0xFA, 0xC));
    put64(m, GDT + 0x20, seg_desc(0, 0xFFFFF, 0xF2, 0xC));
    put64(m, GDT + 0x28, seg_desc(TSS_A, 0x67, 0x89, 0));
    put64(m, GDT + 0x30, seg_desc(TSS_B, 0x67, 0x89, 0));
    put64(m, GDT + 0x38, gate_desc(S_KCODE, H_LRET, 0xC, 3));
    put64(m, GDT + 0x40, gate_desc(S_KCODE, H_HLT, 0xC, 0));
    cpu_set_gdtr(c, &(struct dtable){GDT, 0x47});
    for (unsigned v = 0; v < 256; v++)
        put64(m, IDT + 8 * v, gate_desc(S_KCODE, H_HLT, 0xE, 0));
    put64(m, IDT + 8 * 0x80, gate_desc(S_KCODE, H_IRET, 0xE, 3));
    cpu_set_idtr(c, &(struct dtable){IDT, 256 * 8 - 1});
    put(m, H_IRET, "\xcf", 1);
    put(m, H_HLT, "\xf4", 1);
    put(m, H_LRET, "\xcb", 1);
    put(m, H_SYSEXIT, "\x0f\x35", 2);
    put(m, TASK_B_CODE, "\xf4", 1);

    put32(m, TSS_A + 4, KSTACK);
    put32(m, TSS_A + 8, S_KDATA);
    put32(m, TSS_B + 0x1C, PD_B);
    put32(m, TSS_B + 0x20, TASK_B_CODE);
    put32(m, TSS_B + 0x24, 0x2);
    put32(m, TSS_B + 0x38, KSTACK - 0x100); /* ESP */
    for (unsigned k = 0; k < 6; k++)
        put32(m, TSS_B + 0x48 + 4 * k, k == 1 ? S_KCODE : S_KDATA);
    /* TR = TSS A (marked busy), as LTR would leave it */
    struct desc d = desc_decode((uint32_t)seg_desc(TSS_A, 0x67, 0x8B, 0),
                                (uint32_t)(seg_desc(TSS_A, 0x67, 0x8B, 0) >> 32));
    put64(m, GDT + 0x28, (uint64_t)d.hi << 32 | d.lo);
    c->tr = (struct segment){.sel = S_TSS_A, .base = d.base, .limit = d.limit,
                             .attr = desc_attr(&d)};
    /* identity 4 MiB pages in both directories */
    put32(m, PD_A, 0x83);
    put32(m, PD_B, 0x83);

    cpu_set_reg(c, REG_SYSENTER_CS, S_KCODE);
    cpu_set_reg(c, REG_SYSENTER_ESP, KSTACK);
    cpu_set_reg(c, REG_SYSENTER_EIP, H_SYSEXIT);
    for (int r = 0; r < 8; r++)
        if (r != ESP)
            cpu_set_reg(c, (enum cpu_reg)(REG_EAX + r), 0x01010101u * (uint32_t)(r + 1));
    cpu_set_reg(c, REG_ESP, KSTACK);

    assert_int_equal(cpu_add_sink(c, sink, m), 0);
    assert_int_equal(cpu_add_sink(c, sink2, m), 0);
    assert_int_equal(cpu_add_insn_hook(c, hook_a, m), 0);
    assert_int_equal(cpu_add_insn_hook(c, hook_b, m), 0);
    return m;
}

static void done(struct m *m)
{
    assert_int_equal(m->nev2, m->nev);
    assert_int_equal(m->hooks_a, m->hooks_b);
    cpu_free(&m->c);
    free(m->ram);
    free(m);
}

/* Loads segment register s from the descriptor sel names (read back through inspect.h). */
static void load(struct m *m, enum cpu_sreg s, uint16_t sel)
{
    struct desc d;
    assert_int_equal(cpu_read_desc(&m->c, sel, &d), INSP_OK);
    struct seg_value v = {sel, d.base, d.limit, desc_attr(&d)};
    assert_int_equal(cpu_set_seg(&m->c, s, &v), INSP_OK);
}

static void to_ring3(struct m *m)
{
    load(m, SREG_CS, S_UCODE);
    load(m, SREG_SS, S_UDATA);
    load(m, SREG_DS, S_UDATA);
    load(m, SREG_ES, S_UDATA);
    cpu_set_reg(&m->c, REG_ESP, USTACK);
}

static void code(struct m *m, const char *bytes, size_t n)
{
    put(m, CODE, bytes, n);
    cpu_flush_decoded(&m->c);
    cpu_set_reg(&m->c, REG_EIP, CODE);
    state_now(&m->c, &m->snap); /* an event before the first instruction starts from here */
}

static const struct trace_event *find(struct m *m, unsigned kind)
{
    for (unsigned k = 0; k < m->nev && k < 16; k++)
        if (m->ev[k].kind == kind)
            return &m->ev[k];
    return NULL;
}

/* INT 0x80 from ring 3, IRET back, then HLT at ring 3: #GP(0) (privileged), whose handler
 * halts at ring 0. */
static void int_iret_exception_hlt(void **state)
{
    (void)state;
    struct m *m = machine();
    to_ring3(m);
    cpu_set_reg(&m->c, REG_EFLAGS, 0x2 | FL_CF); /* a flag the events must carry */
    code(m, "\xcd\x80\xf4", 3);
    assert_int_equal(cpu_run(&m->c, 100), RUN_HALT);
    assert_int_equal(m->nev, 4);
    const struct trace_event *e = &m->ev[0];
    assert_int_equal(e->kind, TR_SOFTINT);
    assert_int_equal(e->vector, 0x80);
    assert_int_equal(e->before.cpl, 3);
    assert_int_equal(e->after.cpl, 0);
    assert_int_equal(e->before.eflags & FL_CF, FL_CF);
    assert_int_equal(e->after.r[ESP], KSTACK - 20);
    e = &m->ev[1];
    assert_int_equal(e->kind, TR_IRET);
    assert_int_equal(e->before.r[ESP], KSTACK - 20);
    assert_int_equal(e->before.ss, S_KDATA);
    assert_int_equal(e->after.cpl, 3);
    assert_int_equal(e->after.eip, CODE + 2);
    e = &m->ev[2];
    assert_int_equal(e->kind, TR_EXCEPTION);
    assert_int_equal(e->vector, EXC_GP);
    assert_true(e->has_error);
    assert_int_equal(e->error, 0);
    assert_int_equal(e->before.eip, CODE + 2);
    assert_int_equal(e->detail.kind, FD_SELECTOR);
    assert_int_equal(e->detail.u.sel.reason, SR_PRIVILEGED);
    assert_int_equal(e->detail.u.sel.cpl, 3);
    assert_int_equal(m->ev[3].kind, TR_HALT);
    assert_int_equal(m->ev[3].after.eip, H_HLT + 1);
    done(m);
}

/* SYSENTER from ring 3 to a SYSEXIT back. */
static void sysenter_sysexit(void **state)
{
    (void)state;
    struct m *m = machine();
    to_ring3(m);
    cpu_set_reg(&m->c, REG_EDX, CODE + 2); /* where SYSEXIT returns */
    cpu_set_reg(&m->c, REG_ECX, USTACK - 16);
    code(m, "\x0f\x34\x90\x90", 4);
    cpu_run(&m->c, 3);
    const struct trace_event *e = find(m, TR_SYSENTER);
    assert_non_null(e);
    assert_int_equal(e->before.cpl, 3);
    assert_int_equal(e->after.cs, S_KCODE);
    assert_int_equal(e->after.r[ESP], KSTACK);
    e = find(m, TR_SYSEXIT);
    assert_non_null(e);
    assert_int_equal(e->before.r[ESP], KSTACK);
    assert_int_equal(e->after.cs, S_UCODE);
    assert_int_equal(e->after.r[ESP], USTACK - 16);
    done(m);
}

/* A far CALL from ring 3 through a call gate to ring 0, and the far RET back. */
static void far_call_and_return(void **state)
{
    (void)state;
    struct m *m = machine();
    to_ring3(m);
    code(m, "\x9a\x00\x00\x00\x00\x3b\x00\x90", 8); /* lcall 0x3b:0; nop */
    cpu_run(&m->c, 3);
    const struct trace_event *e = find(m, TR_FARCALL);
    assert_non_null(e);
    assert_int_equal(e->before.cpl, 3);
    assert_int_equal(e->after.cpl, 0);
    assert_int_equal(e->after.eip, H_LRET);
    e = find(m, TR_FARRET);
    assert_non_null(e);
    assert_int_equal(e->before.cpl, 0);
    assert_int_equal(e->after.cpl, 3);
    assert_int_equal(e->after.eip, CODE + 7);
    assert_int_equal(e->after.r[ESP], USTACK);
    done(m);
}

/* A far JMP through a call gate at ring 0. */
static void far_jump(void **state)
{
    (void)state;
    struct m *m = machine();
    code(m, "\xea\x00\x00\x00\x00\x40\x00", 7); /* ljmp 0x40:0 */
    assert_int_equal(cpu_run(&m->c, 10), RUN_HALT);
    const struct trace_event *e = find(m, TR_FARJMP);
    assert_non_null(e);
    assert_int_equal(e->after.eip, H_HLT);
    assert_non_null(find(m, TR_HALT));
    done(m);
}

/* MOV CR3 with paging on, then a task switch to a task with another page directory: TR_CR3
 * for each load (the task switch's before its TR_TASK), with CR3 before and after. */
static void cr3_loads_and_task_switch(void **state)
{
    (void)state;
    struct m *m = machine();
    cpu_set_reg(&m->c, REG_CR3, PD_A);
    cpu_set_reg(&m->c, REG_CR4, CR4_PSE);
    assert_int_equal(cpu_set_reg(&m->c, REG_CR0, CR0_PE | CR0_PG), INSP_OK);
    cpu_set_reg(&m->c, REG_EAX, PD_A);
    code(m, "\x0f\x22\xd8\xea\x00\x00\x00\x00\x30\x00", 10); /* mov cr3, eax; ljmp 0x30:0 */
    assert_int_equal(cpu_run(&m->c, 10), RUN_HALT);
    assert_int_equal(m->nev, 4);
    assert_int_equal(m->ev[0].kind, TR_CR3);
    assert_int_equal(m->ev[0].before.cr3, PD_A);
    assert_int_equal(m->ev[0].after.cr3, PD_A);
    assert_int_equal(m->ev[0].after.eip, CODE + 3);
    assert_int_equal(m->ev[1].kind, TR_CR3);
    assert_int_equal(m->ev[1].before.cr3, PD_A);
    assert_int_equal(m->ev[1].after.cr3, PD_B);
    assert_int_equal(m->ev[2].kind, TR_TASK);
    assert_int_equal(m->ev[2].before.cr3, PD_A);
    assert_int_equal(m->ev[2].after.cr3, PD_B);
    assert_int_equal(m->ev[2].after.eip, TASK_B_CODE);
    assert_int_equal(m->ev[2].after.r[ESP], KSTACK - 0x100);
    assert_int_equal(m->ev[3].kind, TR_HALT);
    assert_int_equal(cpu_stat_events(&m->c, TR_CR3), 2);
    assert_int_equal(cpu_stat_events(&m->c, TR_TASK), 1);
    done(m);
}

static int ack_0x21(void *ctx)
{
    (void)ctx;
    return 0x21;
}

/* An external interrupt taken before the first instruction. */
static void external_interrupt(void **state)
{
    (void)state;
    struct m *m = machine();
    to_ring3(m);
    cpu_set_reg(&m->c, REG_EFLAGS, 0x2 | FL_IF);
    code(m, "\x90", 1);
    m->c.intc = (struct intc){.ack = ack_0x21};
    cpu_set_intr(&m->c, true);
    cpu_run(&m->c, 1);
    cpu_set_intr(&m->c, false);
    const struct trace_event *e = find(m, TR_INTERRUPT);
    assert_non_null(e);
    assert_int_equal(e->vector, 0x21);
    assert_false(e->has_error);
    assert_int_equal(e->before.eip, CODE);
    assert_int_equal(e->after.eflags & FL_IF, 0);
    done(m);
}

/* UD2 with no IDT: #UD, #GP for its missing gate, #GP for that one's: #DF, whose missing gate
 * is a third #GP: shutdown. */
static void triple_fault(void **state)
{
    (void)state;
    struct m *m = machine();
    cpu_set_idtr(&m->c, &(struct dtable){IDT, 0});
    code(m, "\x0f\x0b", 2);
    assert_int_equal(cpu_run(&m->c, 10), RUN_SHUTDOWN);
    assert_int_equal(m->nev, 1);
    const struct trace_event *e = &m->ev[0];
    assert_int_equal(e->kind, TR_SHUTDOWN);
    assert_int_equal(e->vector, EXC_GP);
    assert_true(e->has_error);
    assert_int_equal(e->error, 8 * 8 + 2 + 1); /* the #DF gate, IDT, EXT */
    assert_int_equal(e->before.eip, CODE);
    assert_int_equal(e->detail.kind, FD_SELECTOR);
    assert_int_equal(e->detail.u.sel.reason, SR_BEYOND_LIMIT);
    assert_int_equal(e->detail.u.sel.table, ST_IDT);
    assert_int_equal(e->detail.u.sel.sel, EXC_DF);
    struct fault f[3]; /* #UD was lost to the first #GP (benign, then contributory) */
    cpu_get_shutdown(&m->c, f);
    assert_int_equal(f[0].error, 6 * 8 + 2 + 1);
    assert_int_equal(f[1].error, 13 * 8 + 2 + 1);
    assert_int_equal(f[2].error, 8 * 8 + 2 + 1);
    done(m);
}

/* A #PF carries its walk by value: a later #PF does not change an event already kept. */
static void page_fault_detail_by_value(void **state)
{
    (void)state;
    struct m *m = machine();
    cpu_set_reg(&m->c, REG_CR3, PD_A);
    cpu_set_reg(&m->c, REG_CR4, CR4_PSE);
    cpu_set_reg(&m->c, REG_CR0, CR0_PE | CR0_PG);
    /* The #PF handler skips the 5-byte instruction: pop eax (the error code); add dword
     * [esp], 5; iret. */
    put(m, H_HLT + 0x10, "\x58\x83\x04\x24\x05\xcf", 6);
    put64(m, IDT + 8 * EXC_PF, gate_desc(S_KCODE, H_HLT + 0x10, 0xE, 0));
    /* mov eax, [0x00800000]; mov eax, [0x00C00004] (both unmapped); hlt */
    code(m, "\xa1\x00\x00\x80\x00\xa1\x04\x00\xc0\x00\xf4", 11);
    assert_int_equal(cpu_run(&m->c, 20), RUN_HALT);
    assert_int_equal(m->nev, 5); /* #PF, IRET, #PF, IRET, HLT */
    const struct trace_event *a = &m->ev[0], *b = &m->ev[2];
    assert_int_equal(a->kind, TR_EXCEPTION);
    assert_int_equal(a->vector, EXC_PF);
    assert_int_equal(a->cr2, 0x00800000u);
    assert_int_equal(a->detail.kind, FD_PAGE);
    assert_int_equal(a->detail.u.page.lin, 0x00800000u); /* still the first fault's */
    assert_int_equal(a->detail.u.page.result, WALK_NOT_PRESENT);
    assert_int_equal(a->detail.u.page.level, WALK_PDE);
    assert_int_equal(a->detail.u.page.pde_addr, PD_A + 2 * 4);
    assert_int_equal(b->kind, TR_EXCEPTION);
    assert_int_equal(b->cr2, 0x00C00004u);
    assert_int_equal(b->detail.u.page.lin, 0x00C00004u);
    assert_int_equal(b->detail.u.page.pde_addr, PD_A + 3 * 4);
    done(m);
}

/* A single-step trap is reported after the instruction; so is INT1 (ICEBP). */
static void traps_after_the_instruction(void **state)
{
    (void)state;
    struct m *m = machine();
    cpu_set_reg(&m->c, REG_EFLAGS, FL_R1 | FL_TF);
    m->trap_eip = CODE + 1;
    code(m, "\x90", 1);
    assert_int_equal(cpu_run(&m->c, 10), RUN_HALT);
    assert_int_equal(m->ev[0].kind, TR_EXCEPTION);
    assert_int_equal(m->ev[0].vector, EXC_DB);
    assert_int_equal(m->ev[0].before.eip, CODE + 1);
    assert_int_equal(m->ev[0].after.eflags & FL_TF, 0);
    done(m);

    m = machine();
    m->trap_eip = CODE + 1;
    code(m, "\xf1", 1);
    assert_int_equal(cpu_run(&m->c, 10), RUN_HALT);
    assert_int_equal(m->ev[0].kind, TR_EXCEPTION);
    assert_int_equal(m->ev[0].vector, EXC_DB);
    assert_int_equal(m->ev[0].before.eip, CODE + 1);
    done(m);
}

static void every_kind_was_seen(void **state)
{
    (void)state;
    assert_int_equal(kinds_seen, (1u << TR_KINDS) - 1);
}

/* Sinks and hooks are bounded, and removal finds the right one. */
static void sink_slots(void **state)
{
    (void)state;
    struct m *m = machine(); /* two sinks and two hooks already */
    assert_int_equal(cpu_add_sink(&m->c, sink2, NULL), 0);
    assert_int_equal(cpu_add_sink(&m->c, sink2, &m->c), 0);
    assert_int_equal(cpu_add_sink(&m->c, sink2, m->ram), -1); /* CPU_MAX_SINKS = 4 */
    assert_true(cpu_remove_sink(&m->c, sink2, NULL));
    assert_false(cpu_remove_sink(&m->c, sink2, NULL));
    assert_true(cpu_remove_sink(&m->c, sink2, &m->c));
    assert_true(cpu_remove_insn_hook(&m->c, hook_b, m));
    assert_true(m->c.insn_hook == hook_a); /* one hook left: called directly */
    assert_true(cpu_remove_insn_hook(&m->c, hook_a, m));
    assert_null(m->c.insn_hook);          /* none: the dispatch loop pays nothing */
    done(m);
}

static void keep_event(void *ctx, const struct trace_event *ev)
{
    *(struct trace_event *)ctx = *ev;
}

/* The state an event captures folds the lazy flags (event.c fold_flags: the common 32-bit
 * operations by the host's own flags where it has LAHF, else the common ADD, SUB and logic
 * operations inline, the rest through lf_compute) to exactly what cpu_get_eflags says, for
 * every operation, size and carry in, on random operands, on both paths (c->portable). */
static void captured_eflags_are_folded(void **state)
{
    (void)state;
    struct cpu *c = calloc(1, sizeof *c);
    assert_non_null(c);
    struct trace_event got;
    assert_int_equal(cpu_add_sink(c, keep_event, &got), 0);
    uint64_t x = 0x9E3779B97F4A7C15u;
    for (unsigned n = 0; n < 20000; n++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        static const uint8_t sizes[] = { 1, 2, 4, 4 };
        unsigned op = 1 + (unsigned)(x % LF_SAR), size = sizes[(x >> 8) & 3];
        uint32_t a = (uint32_t)(x >> 16), b = (uint32_t)(x >> 29) ^ (uint32_t)x;
        if ((x >> 60) == 0)
            b = a; /* equal operands: zero results, carries of equality */
        uint32_t res = op == LF_ADD ? a + b : op == LF_SUB ? a - b : op == LF_INC ? a + 1
                     : op == LF_DEC ? a - 1 : a ^ b;
        if (op >= LF_SHL)
            b = 1 + (b & 31) % (8u * size); /* a shift count the operation can have */
        for (int portable = 0; portable < 2; portable++) { /* the host's fold, the portable */
            c->portable = portable;
            lf_set(c, (enum lf_op)op, size, res & size_mask(size), a & size_mask(size),
                   b & size_mask(size), (unsigned)(x >> 40) & 1);
            c->eflags = (uint32_t)(x >> 24) & ~(uint32_t)FL_ARITH;
            uint32_t want = cpu_get_eflags(c);
            struct trace_event ev;
            trace_begin(c, &ev, TR_IRET, 0, false, 0);
            trace_end(c, &ev);
            assert_int_equal(got.before.eflags, want);
            assert_int_equal(got.after.eflags, want);
        }
    }
    free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(int_iret_exception_hlt),
        cmocka_unit_test(sysenter_sysexit),
        cmocka_unit_test(far_call_and_return),
        cmocka_unit_test(far_jump),
        cmocka_unit_test(cr3_loads_and_task_switch),
        cmocka_unit_test(external_interrupt),
        cmocka_unit_test(triple_fault),
        cmocka_unit_test(page_fault_detail_by_value),
        cmocka_unit_test(traps_after_the_instruction),
        cmocka_unit_test(every_kind_was_seen),
        cmocka_unit_test(sink_slots),
        cmocka_unit_test(captured_eflags_are_folded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
