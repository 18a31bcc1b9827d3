/* The fast paths of ring transitions (src/cpu/deliver.c gate_fast, src/cpu/control.c IRET)
 * against the general paths they short-cut.
 *
 * The fast paths read the IDT, the GDT, the TSS and the stack only through the TLB: with an
 * empty TLB they never apply and the general path runs. So every case runs twice on the same
 * machine: first after a TLB flush (the general path, which also fills the TLB), then again from
 * the same registers with the TLB warm (the fast path, where it applies). Both runs must end in
 * the same state: registers, segment caches, CPL, the stacks' bytes and every event (with all
 * its fields, before and after). The cases cover the common transitions (where the fast path
 * runs) and each thing that must send it back to the general path (a gate or code segment not
 * present, a gate DPL below CPL, a 16-bit gate, a target beyond the CS limit, a frame across a
 * page, a ring-0 stack that is not flat); a wrong decision shows as a difference, or as a
 * result that differs from the one the case expects.
 *
 * Physical memory (1 MiB, paging off):
 *
 *   0x1000 GDT   0x2000 IDT   0x3000 TSS   0x4000 user code (CPL 3)   0x5000 kernel code
 *   0x6000 handlers: hlt     0x7000 kernel stack page (ESP0 = 0x8000)
 *   0x9000 user stack page (ESP = 0xA000)   0x10000.. the non-flat ring-0 stack segment's base
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cpu/cpu.h"
#include "cpu/flags.h"
#include "cpu/segment.h"
#include "devices/bus.h"
#include "mmu/mem.h"

#define RAM_SIZE (1u << 20)
#define GDT 0x1000u
#define IDT 0x2000u
#define TSS 0x3000u
#define UCODE 0x4000u
#define KCODE 0x5000u
#define HANDLER 0x6000u
#define KSTACK_TOP 0x8000u
#define USTACK_TOP 0xA000u
#define SS_BASE 0x10000u

#define SEL_KCODE 0x08
#define SEL_KDATA 0x10
#define SEL_UCODE 0x1B
#define SEL_UDATA 0x23
#define SEL_TSS 0x28
#define SEL_KCODE_NP 0x30   /* ring 0 code, not present */
#define SEL_KDATA_BASE 0x38 /* ring 0 data, base SS_BASE, limit 0xFFFF: not flat */
#define SEL_KCODE_SMALL 0x40 /* ring 0 code, limit 0xFFF */

/* The vectors of the cases (interrupt gates unless said). */
#define V_SYS 0x31     /* DPL 3, to HANDLER */
#define V_TRAP 0x32    /* DPL 3 trap gate */
#define V_NP_CS 0x33   /* DPL 3, its CS not present */
#define V_DPL0 0x34    /* DPL 0: INT n from ring 3 is #GP */
#define V_16 0x35      /* DPL 3, a 16-bit interrupt gate */
#define V_NP 0x36      /* DPL 3, not present */
#define V_LIMIT 0x37   /* DPL 3, target beyond its CS limit */

#define MAX_EV 8

struct outcome {
    uint32_t r[8], eip, eflags;
    struct segment seg[SEG_COUNT];
    uint8_t cpl;
    uint8_t kstack[256], ustack[256], ss_stack[256];
    unsigned nev;
    struct trace_event ev[MAX_EV];
    enum run_result rr;
    int64_t inhibit; /* inhibit_until - icount, or -1 when before icount (no shadow) */
};

struct t {
    struct cpu c;
    struct bus bus;
    uint8_t *ram;
    unsigned nev;
    struct trace_event ev[MAX_EV];
    uint32_t frame[5]; /* an IRET frame for push_frame, from the lowest address */
    unsigned nframe;
    uint32_t frame_esp; /* where it goes: ESP after push_frame */
};

static void sink(void *ctx, const struct trace_event *e)
{
    struct t *t = ctx;
    if (t->nev < MAX_EV)
        t->ev[t->nev] = *e;
    t->nev++;
}

static void wr32(struct t *t, uint32_t pa, uint32_t v) { memcpy(t->ram + pa, &v, 4); }

static void gate(struct t *t, unsigned v, uint16_t sel, uint32_t off, uint8_t access)
{
    wr32(t, IDT + 8 * v, ((uint32_t)sel << 16) | (off & 0xFFFF));
    wr32(t, IDT + 8 * v + 4, (off & 0xFFFF0000u) | ((uint32_t)access << 8));
}

static int setup(void **state)
{
    struct t *t = calloc(1, sizeof *t);
    if (!t)
        return -1;
    t->ram = calloc(RAM_SIZE, 1);
    if (!t->ram)
        return -1;
    bus_init(&t->bus);
    if (cpu_init(&t->c, t->ram, RAM_SIZE, &t->bus))
        return -1;
    cpu_add_sink(&t->c, sink, t);
    static const uint32_t gdt[][2] = {
        {0, 0},
        {0x0000FFFF, 0x00CF9B00}, /* 0x08 ring 0 code (accessed) */
        {0x0000FFFF, 0x00CF9300}, /* 0x10 ring 0 data */
        {0x0000FFFF, 0x00CFFB00}, /* 0x18 ring 3 code */
        {0x0000FFFF, 0x00CFF300}, /* 0x20 ring 3 data */
        {(TSS << 16) | 0x67, 0x00008900}, /* 0x28 TSS */
        {0x0000FFFF, 0x00CF1B00}, /* 0x30 ring 0 code, not present */
        {(SS_BASE << 16) | 0xFFFF, 0x00409300 | (SS_BASE >> 16 & 0xFF)}, /* 0x38 */
        {0x00000FFF, 0x00409B00}, /* 0x40 ring 0 code, 4 KiB */
    };
    for (unsigned k = 0; k < sizeof gdt / sizeof gdt[0]; k++) {
        wr32(t, GDT + 8 * k, gdt[k][0]);
        wr32(t, GDT + 8 * k + 4, gdt[k][1]);
    }
    for (unsigned v = 0; v < 256; v++) /* exceptions and the rest: DPL 0 interrupt gates */
        gate(t, v, SEL_KCODE, HANDLER, 0x8E);
    gate(t, V_SYS, SEL_KCODE, HANDLER, 0xEE);
    gate(t, V_TRAP, SEL_KCODE, HANDLER, 0xEF);
    gate(t, V_NP_CS, SEL_KCODE_NP, HANDLER, 0xEE);
    gate(t, V_DPL0, SEL_KCODE, HANDLER, 0x8E);
    gate(t, V_16, SEL_KCODE, HANDLER, 0xE6);
    gate(t, V_NP, SEL_KCODE, HANDLER, 0x6E);
    gate(t, V_LIMIT, SEL_KCODE_SMALL, HANDLER, 0xEE);
    t->ram[HANDLER] = 0xF4; /* hlt */
    wr32(t, TSS + 4, KSTACK_TOP);
    wr32(t, TSS + 8, SEL_KDATA);
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    struct t *t = *state;
    cpu_free(&t->c);
    free(t->ram);
    free(t);
    return 0;
}

static struct segment seg_of(struct t *t, uint16_t sel)
{
    uint32_t lo, hi;
    memcpy(&lo, t->ram + GDT + (sel & ~7u), 4);
    memcpy(&hi, t->ram + GDT + (sel & ~7u) + 4, 4);
    struct desc d = desc_decode(lo, hi);
    struct segment s;
    desc_to_segment(sel, &d, &s);
    return s;
}

/* The state every run starts from: CPL `cpl` at its code page with its stack, EAX..EDI and the
 * lazy flags of an ADD pending, IF set. The TLB and decoded code are left as they are. */
static void enter(struct t *t, unsigned cpl)
{
    struct cpu *c = &t->c;
    c->gdtr.base = GDT;
    c->gdtr.limit = 9 * 8 - 1;
    c->idtr.base = IDT;
    c->idtr.limit = 256 * 8 - 1;
    c->tr = seg_of(t, SEL_TSS);
    struct segment cs = seg_of(t, cpl == 3 ? SEL_UCODE : SEL_KCODE);
    seg_set_cs(c, cs.sel, cs.base, cs.limit, cs.attr);
    struct segment ds = seg_of(t, cpl == 3 ? SEL_UDATA : SEL_KDATA);
    for (int k = 0; k < SEG_COUNT; k++)
        if (k != SEG_CS)
            c->seg[k] = ds;
    for (unsigned k = 0; k < 8; k++)
        c->r[k] = 0x11111111u * (k + 1);
    c->r[ESP] = cpl == 3 ? USTACK_TOP : KSTACK_TOP;
    c->eip = cpl == 3 ? UCODE : KCODE;
    c->eflags = FL_R1 | FL_IF;
    c->lf = (struct lazyflags){.res = 0, .op1 = 0xFFFFFFFFu, .op2 = 1, .op = LF_ADD, .size = 4};
    c->halted = false;
    cpu_update_acc(c);
    memset(t->ram + KSTACK_TOP - 0x100, 0xA5, 0x100);
    memset(t->ram + USTACK_TOP - 0x100, 0x5A, 0x100);
    memset(t->ram + SS_BASE + KSTACK_TOP - 0x100, 0x3C, 0x100);
    t->nev = 0;
}

static void take(struct t *t, struct outcome *o, enum run_result rr)
{
    struct cpu *c = &t->c;
    memset(o, 0, sizeof *o);
    memcpy(o->r, c->r, sizeof o->r);
    o->eip = c->eip;
    o->eflags = cpu_get_eflags(c);
    memcpy(o->seg, c->seg, sizeof o->seg);
    o->cpl = c->cpl;
    memcpy(o->kstack, t->ram + KSTACK_TOP - 0x100, 0x100);
    memcpy(o->ustack, t->ram + USTACK_TOP - 0x100, 0x100);
    memcpy(o->ss_stack, t->ram + SS_BASE + KSTACK_TOP - 0x100, 0x100);
    o->nev = t->nev;
    memcpy(o->ev, t->ev, sizeof o->ev);
    o->rr = rr;
    o->inhibit = c->inhibit_until >= c->icount ? (int64_t)(c->inhibit_until - c->icount) : -1;
}

static void same_state(const struct trace_state *a, const struct trace_state *b)
{
    for (unsigned k = 0; k < 8; k++)
        assert_int_equal(a->r[k], b->r[k]);
    assert_int_equal(a->eip, b->eip);
    assert_int_equal(a->eflags, b->eflags);
    assert_int_equal(a->cr3, b->cr3);
    assert_int_equal(a->cs, b->cs);
    assert_int_equal(a->ss, b->ss);
    assert_int_equal(a->cpl, b->cpl);
}

static void same(const struct outcome *a, const struct outcome *b)
{
    assert_int_equal(a->rr, b->rr);
    for (unsigned k = 0; k < 8; k++)
        assert_int_equal(a->r[k], b->r[k]);
    assert_int_equal(a->eip, b->eip);
    assert_int_equal(a->eflags, b->eflags);
    for (unsigned k = 0; k < SEG_COUNT; k++) {
        assert_int_equal(a->seg[k].sel, b->seg[k].sel);
        assert_int_equal(a->seg[k].base, b->seg[k].base);
        assert_int_equal(a->seg[k].limit, b->seg[k].limit);
        assert_int_equal(a->seg[k].attr, b->seg[k].attr);
        assert_int_equal(a->seg[k].flat, b->seg[k].flat);
    }
    assert_int_equal(a->cpl, b->cpl);
    assert_memory_equal(a->kstack, b->kstack, sizeof a->kstack);
    assert_memory_equal(a->ustack, b->ustack, sizeof a->ustack);
    assert_memory_equal(a->ss_stack, b->ss_stack, sizeof a->ss_stack);
    assert_int_equal(a->inhibit, b->inhibit);
    assert_int_equal(a->nev, b->nev);
    for (unsigned k = 0; k < a->nev && k < MAX_EV; k++) {
        const struct trace_event *x = &a->ev[k], *y = &b->ev[k];
        assert_int_equal(x->kind, y->kind);
        assert_int_equal(x->vector, y->vector);
        assert_int_equal(x->has_error, y->has_error);
        assert_int_equal(x->error, y->error);
        assert_int_equal(x->cr2, y->cr2);
        assert_int_equal(x->detail.kind, y->detail.kind);
        same_state(&x->before, &y->before);
        same_state(&x->after, &y->after);
    }
}

/* Puts `code` at the code page of `cpl` and runs it from enter(cpl): with an empty TLB
 * (*cold), with the TLB the first run left (*warm), and once more (the descriptor memos the
 * fast paths made in the second run: segment.h seg_memo_get); all must agree. `prepare`, when
 * set, runs after enter() (to change the starting state). */
static void run_twice_n(struct t *t, unsigned cpl, const uint8_t *code, size_t n,
                        void (*prepare)(struct t *), struct outcome *cold, struct outcome *warm,
                        uint64_t budget)
{
    memcpy(t->ram + (cpl == 3 ? UCODE : KCODE), code, n);
    cpu_reset_protected_flat(&t->c, 0);
    cpu_flush_decoded(&t->c);
    enter(t, cpl);
    if (prepare)
        prepare(t);
    take(t, cold, cpu_run(&t->c, budget));
    /* The table the fast paths read is now in the TLB (unless the machine stopped first). */
    if (cold->rr != RUN_UNSUPPORTED)
        assert_non_null(tlb_hit(&t->c, GDT, 8, TLB_R_I));
    enter(t, cpl);
    if (prepare)
        prepare(t);
    take(t, warm, cpu_run(&t->c, budget));
    same(cold, warm);
    enter(t, cpl);
    if (prepare)
        prepare(t);
    take(t, warm, cpu_run(&t->c, budget));
    same(cold, warm);
}

static void run_twice(struct t *t, unsigned cpl, const uint8_t *code, size_t n,
                      void (*prepare)(struct t *), struct outcome *cold, struct outcome *warm)
{
    run_twice_n(t, cpl, code, n, prepare, cold, warm, 100);
}

static uint32_t stack32(const uint8_t *stack_page_end, unsigned below)
{
    uint32_t v;
    memcpy(&v, stack_page_end - below, 4);
    return v;
}

/* add eax, ebx; int V_SYS from ring 3: the frame, the new stack and CS, IF cleared. */
static void test_int_from_ring3(void **state)
{
    struct t *t = *state;
    struct outcome a, b;
    const uint8_t code[] = {0x01, 0xD8, 0xCD, V_SYS};
    run_twice(t, 3, code, sizeof code, NULL, &a, &b);
    assert_int_equal(b.rr, RUN_HALT);
    assert_int_equal(b.cpl, 0);
    assert_int_equal(b.seg[SEG_CS].sel, SEL_KCODE);
    assert_int_equal(b.seg[SEG_SS].sel, SEL_KDATA);
    assert_true(b.seg[SEG_SS].flat);
    assert_int_equal(b.r[ESP], KSTACK_TOP - 20);
    assert_int_equal(b.eip, HANDLER + 1);
    assert_int_equal(b.eflags & FL_IF, 0);
    const uint8_t *top = b.kstack + sizeof b.kstack;
    assert_int_equal(stack32(top, 4), SEL_UDATA);
    assert_int_equal(stack32(top, 8), USTACK_TOP);
    assert_int_equal(stack32(top, 12) & FL_IF, FL_IF);
    assert_int_equal(stack32(top, 16), SEL_UCODE);
    assert_int_equal(stack32(top, 20), UCODE + 4);
    assert_int_equal(b.nev, 2); /* the INT and the handler's HLT */
    assert_int_equal(b.ev[0].kind, TR_SOFTINT);
    assert_int_equal(b.ev[1].kind, TR_HALT);
}

/* A trap gate keeps IF. */
static void test_trap_gate(void **state)
{
    struct t *t = *state;
    struct outcome a, b;
    const uint8_t code[] = {0xCD, V_TRAP};
    run_twice(t, 3, code, sizeof code, NULL, &a, &b);
    assert_int_equal(b.cpl, 0);
    assert_int_equal(b.eflags & FL_IF, FL_IF);
}

/* hlt at CPL 3: #GP(0), a fault with an error code (a six-dword frame), EIP of the hlt. */
static void test_exception_with_error(void **state)
{
    struct t *t = *state;
    struct outcome a, b;
    const uint8_t code[] = {0x01, 0xD8, 0xF4};
    run_twice(t, 3, code, sizeof code, NULL, &a, &b);
    assert_int_equal(b.cpl, 0);
    assert_int_equal(b.r[ESP], KSTACK_TOP - 24);
    const uint8_t *top = b.kstack + sizeof b.kstack;
    assert_int_equal(stack32(top, 20), UCODE + 2);
    assert_int_equal(stack32(top, 24), 0);
    assert_int_equal(stack32(top, 12) & FL_RF, FL_RF);
    assert_int_equal(b.ev[0].kind, TR_EXCEPTION);
    assert_int_equal(b.ev[0].vector, EXC_GP);
}

/* INT n at CPL 0: the same stack, a three-dword frame. */
static void test_int_same_level(void **state)
{
    struct t *t = *state;
    struct outcome a, b;
    const uint8_t code[] = {0x01, 0xD8, 0xCD, V_SYS};
    run_twice(t, 0, code, sizeof code, NULL, &a, &b);
    assert_int_equal(b.cpl, 0);
    assert_int_equal(b.r[ESP], KSTACK_TOP - 12);
    const uint8_t *top = b.kstack + sizeof b.kstack;
    assert_int_equal(stack32(top, 8), SEL_KCODE);
    assert_int_equal(stack32(top, 12), KCODE + 4);
}

static void esp0_across_page(struct t *t) { wr32(t, TSS + 4, KSTACK_TOP - 0xFF8); }

/* ESP0 8 bytes above a page boundary: the 20-byte frame spans two pages. */
static void test_frame_across_page(void **state)
{
    struct t *t = *state;
    struct outcome a, b;
    const uint8_t code[] = {0xCD, V_SYS};
    run_twice(t, 3, code, sizeof code, esp0_across_page, &a, &b);
    assert_int_equal(b.cpl, 0);
    assert_int_equal(b.r[ESP], KSTACK_TOP - 0xFF8 - 20);
    uint32_t v;
    memcpy(&v, t->ram + KSTACK_TOP - 0xFF8 - 20, 4);
    assert_int_equal(v, UCODE + 2);
    memcpy(&v, t->ram + KSTACK_TOP - 0xFF8 - 4, 4);
    assert_int_equal(v, SEL_UDATA);
}

static void ss0_not_flat(struct t *t) { wr32(t, TSS + 8, SEL_KDATA_BASE); }

/* A ring-0 stack segment with a base: the frame goes to base + ESP0 - 20. (The user code
 * first writes to the page at ESP0 - 20 without the base, so that the TLB maps it too: paging
 * is off, and a fast path that took the stack for flat would find it there.) */
static void test_ss0_not_flat(void **state)
{
    struct t *t = *state;
    struct outcome a, b;
    const uint8_t code[] = {0xA3, 0x00, 0x7F, 0x00, 0x00, 0xCD, V_SYS}; /* mov [0x7F00], eax */
    run_twice(t, 3, code, sizeof code, ss0_not_flat, &a, &b);
    assert_int_equal(b.cpl, 0);
    assert_int_equal(b.seg[SEG_SS].sel, SEL_KDATA_BASE);
    assert_int_equal(b.r[ESP], KSTACK_TOP - 20);
    assert_int_equal(stack32(b.ss_stack + sizeof b.ss_stack, 20), UCODE + 7);
}

/* The gate's code segment is not present: #NP(selector), delivered through vector 11. */
static void test_cs_not_present(void **state)
{
    struct t *t = *state;
    struct outcome a, b;
    const uint8_t code[] = {0xCD, V_NP_CS};
    run_twice(t, 3, code, sizeof code, NULL, &a, &b);
    assert_int_equal(b.ev[0].kind, TR_EXCEPTION);
    assert_int_equal(b.ev[0].vector, EXC_NP);
    assert_int_equal(b.ev[0].error, SEL_KCODE_NP);
}

/* INT n through a DPL 0 gate from ring 3: #GP(vector * 8 + 2). */
static void test_gate_dpl(void **state)
{
    struct t *t = *state;
    struct outcome a, b;
    const uint8_t code[] = {0xCD, V_DPL0};
    run_twice(t, 3, code, sizeof code, NULL, &a, &b);
    assert_int_equal(b.ev[0].vector, EXC_GP);
    assert_int_equal(b.ev[0].error, V_DPL0 * 8 + 2);
}

/* A gate not present: #NP(vector * 8 + 2). */
static void test_gate_not_present(void **state)
{
    struct t *t = *state;
    struct outcome a, b;
    const uint8_t code[] = {0xCD, V_NP};
    run_twice(t, 3, code, sizeof code, NULL, &a, &b);
    assert_int_equal(b.ev[0].vector, EXC_NP);
    assert_int_equal(b.ev[0].error, V_NP * 8 + 2);
}

/* A 16-bit gate: a frame of five words. */
static void test_gate16(void **state)
{
    struct t *t = *state;
    struct outcome a, b;
    const uint8_t code[] = {0xCD, V_16};
    run_twice(t, 3, code, sizeof code, NULL, &a, &b);
    assert_int_equal(b.cpl, 0);
    assert_int_equal(b.r[ESP], KSTACK_TOP - 10);
}

/* The target beyond the limit of the gate's code segment: #GP(0). */
static void test_target_beyond_limit(void **state)
{
    struct t *t = *state;
    struct outcome a, b;
    const uint8_t code[] = {0xCD, V_LIMIT};
    run_twice(t, 3, code, sizeof code, NULL, &a, &b);
    assert_int_equal(b.ev[0].vector, EXC_GP);
    assert_int_equal(b.ev[0].error, 0);
}

/* ---- IRET ---- */

/* Puts t->frame at t->frame_esp and points ESP at it. */
static void push_frame(struct t *t)
{
    memcpy(t->ram + t->frame_esp, t->frame, 4 * t->nframe);
    t->c.r[ESP] = t->frame_esp;
}

static void set_frame(struct t *t, uint32_t esp, uint32_t eip, uint32_t cs, uint32_t flags,
                      uint32_t uesp, uint32_t ss)
{
    t->frame_esp = esp;
    t->frame[0] = eip;
    t->frame[1] = cs;
    t->frame[2] = flags;
    t->frame[3] = uesp;
    t->frame[4] = ss;
    t->nframe = 5;
}

static const uint8_t iret_code[] = {0xCF};

/* IRET from ring 0 to ring 3, alone (a budget of one instruction): CS, SS, ESP, EIP, EFLAGS
 * from the frame (IOPL too, at CPL 0), DS..GS (ring-0 data) nulled. */
static void test_iret_to_ring3(void **state)
{
    struct t *t = *state;
    struct outcome a, b;
    set_frame(t, KSTACK_TOP - 20, UCODE + 0x10, SEL_UCODE, FL_R1 | FL_IF | FL_CF | 0x1000u,
              USTACK_TOP - 8, SEL_UDATA);
    run_twice_n(t, 0, iret_code, sizeof iret_code, push_frame, &a, &b, 1);
    assert_int_equal(b.rr, RUN_LIMIT);
    assert_int_equal(b.cpl, 3);
    assert_int_equal(b.seg[SEG_CS].sel, SEL_UCODE);
    assert_int_equal(b.seg[SEG_SS].sel, SEL_UDATA);
    assert_true(b.seg[SEG_SS].flat);
    assert_int_equal(b.r[ESP], USTACK_TOP - 8);
    assert_int_equal(b.eip, UCODE + 0x10);
    assert_int_equal(b.eflags, FL_R1 | FL_IF | FL_CF | 0x1000u);
    assert_int_equal(b.seg[SEG_DS].sel, 0);
    assert_int_equal(b.seg[SEG_DS].attr, 0);
    assert_int_equal(b.seg[SEG_GS].sel, 0);
    assert_int_equal(b.nev, 1);
    assert_int_equal(b.ev[0].kind, TR_IRET);
}

/* IRET at the same level: a three-dword frame. */
static void test_iret_same_level(void **state)
{
    struct t *t = *state;
    struct outcome a, b;
    set_frame(t, KSTACK_TOP - 20, KCODE + 0x10, SEL_KCODE, FL_R1 | FL_ZF, 0, 0);
    run_twice_n(t, 0, iret_code, sizeof iret_code, push_frame, &a, &b, 1);
    assert_int_equal(b.cpl, 0);
    assert_int_equal(b.r[ESP], KSTACK_TOP - 8);
    assert_int_equal(b.eip, KCODE + 0x10);
    assert_int_equal(b.eflags, FL_R1 | FL_ZF);
    assert_int_equal(b.seg[SEG_DS].sel, SEL_KDATA);
}

/* IRET at CPL 3 (> IOPL 0) to CPL 3: IF and IOPL stay. */
static void test_iret_ring3_keeps_if(void **state)
{
    struct t *t = *state;
    struct outcome a, b;
    set_frame(t, USTACK_TOP - 20, UCODE + 0x10, SEL_UCODE, FL_R1 | 0x3000u, 0, 0);
    run_twice_n(t, 3, iret_code, sizeof iret_code, push_frame, &a, &b, 1);
    assert_int_equal(b.cpl, 3);
    assert_int_equal(b.eip, UCODE + 0x10);
    assert_int_equal(b.eflags, FL_R1 | FL_IF);
}

/* The frame across a page boundary. */
static void test_iret_frame_across_page(void **state)
{
    struct t *t = *state;
    struct outcome a, b;
    set_frame(t, KSTACK_TOP - 8, UCODE + 0x10, SEL_UCODE, FL_R1, USTACK_TOP, SEL_UDATA);
    run_twice_n(t, 0, iret_code, sizeof iret_code, push_frame, &a, &b, 1);
    assert_int_equal(b.cpl, 3);
    assert_int_equal(b.r[ESP], USTACK_TOP);
    assert_int_equal(b.seg[SEG_SS].sel, SEL_UDATA);
}

/* The frame on a stack segment with a base, at SS_BASE + t->frame_esp; at t->frame_esp
 * itself a decoy, the same frame with EIP 0x20 further on. */
static void push_frame_based(struct t *t)
{
    memcpy(t->ram + SS_BASE + t->frame_esp, t->frame, 4 * t->nframe);
    memcpy(t->ram + t->frame_esp, t->frame, 4 * t->nframe);
    wr32(t, t->frame_esp, t->frame[0] + 0x20);
    t->c.seg[SEG_SS] = seg_of(t, SEL_KDATA_BASE);
    t->c.r[ESP] = t->frame_esp;
}

/* IRET on a stack that is not flat reads the frame at its base. (The code first reads the
 * frame's offset without the base, so that the TLB maps that page too.) */
static void test_iret_stack_not_flat(void **state)
{
    struct t *t = *state;
    struct outcome a, b;
    const uint8_t code[] = {0xA1, 0xEC, 0x7F, 0, 0, 0xCF}; /* mov eax, [0x7FEC]; iret */
    set_frame(t, KSTACK_TOP - 20, UCODE + 0x10, SEL_UCODE, FL_R1, USTACK_TOP, SEL_UDATA);
    run_twice_n(t, 0, code, sizeof code, push_frame_based, &a, &b, 2);
    assert_int_equal(b.cpl, 3);
    assert_int_equal(b.eip, UCODE + 0x10);
    assert_int_equal(b.r[ESP], USTACK_TOP);
}

/* The faults IRET must raise, each one seen by the fast path first. */
static void iret_fault(void **state, uint32_t cs, uint32_t eip, uint32_t flags, uint32_t ss,
                       uint8_t vector, uint32_t error)
{
    struct t *t = *state;
    struct outcome a, b;
    set_frame(t, KSTACK_TOP - 20, eip, cs, flags, USTACK_TOP, ss);
    run_twice(t, 0, iret_code, sizeof iret_code, push_frame, &a, &b);
    assert_int_equal(b.ev[0].kind, TR_EXCEPTION); /* an IRET that faults has no event */
    assert_int_equal(b.ev[0].vector, vector);
    assert_int_equal(b.ev[0].error, error);
}

static void test_iret_cs_not_present(void **state)
{
    iret_fault(state, SEL_KCODE_NP, KCODE, FL_R1, 0, EXC_NP, SEL_KCODE_NP);
}

static void test_iret_cs_dpl_ne_rpl(void **state)
{
    iret_fault(state, SEL_KCODE | 3, UCODE, FL_R1, SEL_UDATA, EXC_GP, SEL_KCODE);
}

static void test_iret_ss_rpl(void **state)
{
    iret_fault(state, SEL_UCODE, UCODE, FL_R1, SEL_UDATA & ~3u, EXC_GP, SEL_UDATA & ~3u);
}

static void test_iret_ss_dpl(void **state)
{
    iret_fault(state, SEL_UCODE, UCODE, FL_R1, SEL_KDATA | 3, EXC_GP, SEL_KDATA);
}

static void test_iret_beyond_limit(void **state)
{
    iret_fault(state, SEL_KCODE_SMALL, 0x1000, FL_R1, 0, EXC_GP, 0);
}

/* EFLAGS.VM in the frame at CPL 0: outside the subset, the machine stops. (A read of the GDT
 * first puts it in the TLB: the IRET stops before it reads a descriptor.) */
static void test_iret_vm(void **state)
{
    struct t *t = *state;
    struct outcome a, b;
    const uint8_t code[] = {0xA1, GDT & 0xFF, GDT >> 8, 0, 0, 0xCF}; /* mov eax, [GDT]; iret */
    set_frame(t, KSTACK_TOP - 20, UCODE, SEL_UCODE, FL_R1 | FL_VM, USTACK_TOP, SEL_UDATA);
    run_twice(t, 0, code, sizeof code, push_frame, &a, &b);
    assert_int_equal(b.rr, RUN_UNSUPPORTED);
    assert_int_equal(b.cpl, 0);
}

/* ---- segment-register pushes, pops and moves (src/cpu/move.c) ---- */

/* PUSH DS, PUSH ES, PUSH FS (32-bit) at CPL 3: only the slots' low halves are written; the
 * first push (cold) takes the general path, which fills the TLB, the rest the fast path. The
 * HLT is #GP at CPL 3 (its delivery reads the GDT). */
static void test_push_sreg(void **state)
{
    struct t *t = *state;
    struct outcome a, b;
    const uint8_t code[] = {0x1E, 0x06, 0x0F, 0xA0, 0xF4}; /* push ds; push es; push fs; hlt */
    run_twice(t, 3, code, sizeof code, NULL, &a, &b);
    assert_int_equal(b.ev[0].kind, TR_EXCEPTION);
    assert_int_equal(b.ev[0].before.r[ESP], USTACK_TOP - 12);
    const uint8_t *top = b.ustack + sizeof b.ustack;
    assert_int_equal(stack32(top, 4), 0x5A5A0000u | SEL_UDATA);
    assert_int_equal(stack32(top, 8), 0x5A5A0000u | SEL_UDATA);
    assert_int_equal(stack32(top, 12), 0x5A5A0000u | SEL_UDATA);
    assert_int_equal(stack32(top, 16), 0x5A5A5A5Au);
}

/* Two selectors at the top of the ring-0 stack, the high halves of their slots not zero. */
static void sreg_stack(struct t *t, uint32_t first, uint32_t second)
{
    wr32(t, KSTACK_TOP - 8, first);
    wr32(t, KSTACK_TOP - 4, second);
    t->c.r[ESP] = KSTACK_TOP - 8;
}

static void pop_user_data(struct t *t) { sreg_stack(t, 0xBEEF0000u | SEL_UDATA, 0xCAFE0000u | SEL_UDATA); }

/* POP DS, POP ES: the low 16 bits of each slot, ESP up by 4 each. */
static void test_pop_sreg(void **state)
{
    struct t *t = *state;
    struct outcome a, b;
    const uint8_t code[] = {0x1F, 0x0F, 0xA9, 0xF4}; /* pop ds; pop gs; hlt */
    run_twice(t, 0, code, sizeof code, pop_user_data, &a, &b);
    assert_int_equal(b.rr, RUN_HALT);
    assert_int_equal(b.r[ESP], KSTACK_TOP);
    assert_int_equal(b.seg[SEG_DS].sel, SEL_UDATA);
    assert_int_equal(b.seg[SEG_GS].sel, SEL_UDATA);
    assert_int_equal(b.seg[SEG_ES].sel, SEL_KDATA);
    assert_true(b.seg[SEG_DS].flat);
}

static void pop_bad_selector(struct t *t) { sreg_stack(t, 0x80, SEL_UDATA); }

/* POP ES of a selector beyond the GDT limit: #GP(selector), ESP and ES unchanged. */
static void test_pop_sreg_fault(void **state)
{
    struct t *t = *state;
    struct outcome a, b;
    const uint8_t code[] = {0x07, 0xF4}; /* pop es */
    run_twice(t, 0, code, sizeof code, pop_bad_selector, &a, &b);
    assert_int_equal(b.ev[0].kind, TR_EXCEPTION);
    assert_int_equal(b.ev[0].vector, EXC_GP);
    assert_int_equal(b.ev[0].error, 0x80);
    assert_int_equal(b.ev[0].before.r[ESP], KSTACK_TOP - 8);
    assert_int_equal(b.seg[SEG_ES].sel, SEL_KDATA);
}

static void pop_kernel_data(struct t *t) { sreg_stack(t, SEL_KDATA, SEL_KDATA); }

/* POP SS: the general path (its interrupt shadow, the stack-pointer size of the new SS). */
static void test_pop_ss(void **state)
{
    struct t *t = *state;
    struct outcome a, b;
    const uint8_t code[] = {0x17, 0xF4}; /* pop ss; hlt */
    run_twice(t, 0, code, sizeof code, pop_kernel_data, &a, &b);
    assert_int_equal(b.rr, RUN_HALT);
    assert_int_equal(b.r[ESP], KSTACK_TOP - 4);
    assert_int_equal(t->c.inhibit_until, t->c.icount); /* set to the POP's count + 2 */
}

/* POP DS on a stack that is not flat reads at the stack's base. (The code first reads the
 * unbased offset, so that the TLB maps that page too.) */
static void pop_based(struct t *t)
{
    struct cpu *c = &t->c;
    c->seg[SEG_SS] = seg_of(t, SEL_KDATA_BASE);
    wr32(t, SS_BASE + KSTACK_TOP - 8, SEL_UDATA);
    wr32(t, KSTACK_TOP - 8, 0x80); /* the decoy: #GP if read */
    c->r[ESP] = KSTACK_TOP - 8;
}

static void test_pop_sreg_stack_not_flat(void **state)
{
    struct t *t = *state;
    struct outcome a, b;
    const uint8_t code[] = {0xA1, 0xF8, 0x7F, 0, 0, 0x1F, 0xF4}; /* mov eax, [0x7FF8]; pop ds */
    run_twice(t, 0, code, sizeof code, pop_based, &a, &b);
    assert_int_equal(b.rr, RUN_HALT);
    assert_int_equal(b.seg[SEG_DS].sel, SEL_UDATA);
    assert_int_equal(b.r[ESP], KSTACK_TOP - 4);
}

static void eax_user_data(struct t *t) { t->c.r[EAX] = 0xABCD0000u | SEL_UDATA; }

/* MOV DS, AX; MOV FS, AX: the low 16 bits of the register named by ModRM.rm. */
static void test_mov_sreg_reg(void **state)
{
    struct t *t = *state;
    struct outcome a, b;
    const uint8_t code[] = {0x8E, 0xD8, 0x8E, 0xE0, 0xF4}; /* mov ds, ax; mov fs, ax; hlt */
    run_twice(t, 0, code, sizeof code, eax_user_data, &a, &b);
    assert_int_equal(b.rr, RUN_HALT);
    struct segment want = seg_of(t, SEL_UDATA);
    assert_int_equal(b.seg[SEG_DS].sel, SEL_UDATA);
    assert_int_equal(b.seg[SEG_DS].attr, want.attr);
    assert_int_equal(b.seg[SEG_FS].sel, SEL_UDATA);
    assert_int_equal(b.seg[SEG_ES].sel, SEL_KDATA);
    assert_int_equal(b.r[EAX], 0xABCD0000u | SEL_UDATA);
}

/* MOV SS, AX sets the interrupt shadow; MOV CS, AX is #UD. */
static void eax_kernel_data(struct t *t) { t->c.r[EAX] = SEL_KDATA; }

static void test_mov_ss_cs(void **state)
{
    struct t *t = *state;
    struct outcome a, b;
    const uint8_t ss[] = {0x8E, 0xD0, 0xF4}; /* mov ss, ax; hlt */
    run_twice(t, 0, ss, sizeof ss, eax_kernel_data, &a, &b);
    assert_int_equal(b.rr, RUN_HALT);
    assert_int_equal(t->c.inhibit_until, t->c.icount);
    const uint8_t cs[] = {0x8E, 0xC8}; /* mov cs, ax */
    run_twice(t, 0, cs, sizeof cs, eax_kernel_data, &a, &b);
    assert_int_equal(b.ev[0].kind, TR_EXCEPTION);
    assert_int_equal(b.ev[0].vector, EXC_UD);
}

/* MOV DS, AX of a selector beyond the GDT limit: #GP(selector). */
static void eax_bad(struct t *t) { t->c.r[EAX] = 0x1234FFF8u; }

static void test_mov_sreg_fault(void **state)
{
    struct t *t = *state;
    struct outcome a, b;
    const uint8_t code[] = {0x8E, 0xD8}; /* mov ds, ax */
    run_twice(t, 0, code, sizeof code, eax_bad, &a, &b);
    assert_int_equal(b.ev[0].kind, TR_EXCEPTION);
    assert_int_equal(b.ev[0].vector, EXC_GP);
    assert_int_equal(b.ev[0].error, 0xFFF8);
}

/* POPA at CPL 3 from a prepared frame: EDI lowest, ESP's slot skipped, ESP up by 32; the HLT
 * after it is #GP (whose event holds the registers before it). Then PUSHA back. */
static void popa_frame(struct t *t)
{
    for (unsigned k = 0; k < 8; k++)
        wr32(t, USTACK_TOP - 32 + 4 * k, 0xA0000000u + k);
    t->c.r[ESP] = USTACK_TOP - 32;
}

static void test_popa_pusha(void **state)
{
    struct t *t = *state;
    struct outcome a, b;
    const uint8_t code[] = {0x61, 0x4F, 0x60, 0xF4}; /* popa; dec edi; pusha; hlt */
    run_twice(t, 3, code, sizeof code, popa_frame, &a, &b);
    const struct trace_state *r = &b.ev[0].before;
    assert_int_equal(b.ev[0].kind, TR_EXCEPTION);
    assert_int_equal(r->r[EDI], 0xA0000000u - 1);
    assert_int_equal(r->r[ESI], 0xA0000001u);
    assert_int_equal(r->r[EBP], 0xA0000002u);
    assert_int_equal(r->r[EBX], 0xA0000004u);
    assert_int_equal(r->r[EDX], 0xA0000005u);
    assert_int_equal(r->r[ECX], 0xA0000006u);
    assert_int_equal(r->r[EAX], 0xA0000007u);
    assert_int_equal(r->r[ESP], USTACK_TOP - 32);
    const uint8_t *top = b.ustack + sizeof b.ustack;
    assert_int_equal(stack32(top, 32), 0xA0000000u - 1); /* PUSHA: EDI lowest */
    assert_int_equal(stack32(top, 28), 0xA0000001u);     /* ESI */
    assert_int_equal(stack32(top, 24), 0xA0000002u);     /* EBP */
    assert_int_equal(stack32(top, 20), USTACK_TOP);      /* ESP as it was before PUSHA */
    assert_int_equal(stack32(top, 16), 0xA0000004u);     /* EBX */
    assert_int_equal(stack32(top, 12), 0xA0000005u);     /* EDX */
    assert_int_equal(stack32(top, 8), 0xA0000006u);      /* ECX */
    assert_int_equal(stack32(top, 4), 0xA0000007u);      /* EAX */
}

/* ---- CALL, RET and PUSH imm (src/cpu/control.c, move.c) ----
 * Each case's first stack access is the instruction under test, so the cold run takes its
 * general path and the warm run its fast path. The HLT at CPL 3 is #GP: its event holds the
 * state after the instructions before it. */

/* CALL rel32; RET. */
static void test_call_ret(void **state)
{
    struct t *t = *state;
    struct outcome a, b;
    const uint8_t code[] = {0xE8, 0x01, 0x00, 0x00, 0x00, 0xF4, 0xC3}; /* call +1; hlt; ret */
    run_twice(t, 3, code, sizeof code, NULL, &a, &b);
    assert_int_equal(b.ev[0].kind, TR_EXCEPTION);
    assert_int_equal(b.ev[0].before.eip, UCODE + 5);
    assert_int_equal(b.ev[0].before.r[ESP], USTACK_TOP);
    assert_int_equal(stack32(b.ustack + sizeof b.ustack, 4), UCODE + 5);
}

static void ret_frame(struct t *t)
{
    wr32(t, USTACK_TOP - 4, UCODE + 1);
    t->c.r[ESP] = USTACK_TOP - 4;
}

/* RET first. */
static void test_ret(void **state)
{
    struct t *t = *state;
    struct outcome a, b;
    const uint8_t code[] = {0xC3, 0xF4}; /* ret; hlt */
    run_twice(t, 3, code, sizeof code, ret_frame, &a, &b);
    assert_int_equal(b.ev[0].before.eip, UCODE + 1);
    assert_int_equal(b.ev[0].before.r[ESP], USTACK_TOP);
}

static void eax_target(struct t *t) { t->c.r[EAX] = UCODE + 3; }

/* CALL EAX; PUSH imm32 first. */
static void test_call_reg_push_imm(void **state)
{
    struct t *t = *state;
    struct outcome a, b;
    const uint8_t call[] = {0xFF, 0xD0, 0x90, 0xF4}; /* call eax; nop; hlt */
    run_twice(t, 3, call, sizeof call, eax_target, &a, &b);
    assert_int_equal(b.ev[0].before.eip, UCODE + 3);
    assert_int_equal(b.ev[0].before.r[ESP], USTACK_TOP - 4);
    assert_int_equal(stack32(b.ustack + sizeof b.ustack, 4), UCODE + 2);
    const uint8_t push[] = {0x68, 0x78, 0x56, 0x34, 0x12, 0xF4}; /* push 0x12345678; hlt */
    run_twice(t, 3, push, sizeof push, NULL, &a, &b);
    assert_int_equal(b.ev[0].before.r[ESP], USTACK_TOP - 4);
    assert_int_equal(stack32(b.ustack + sizeof b.ustack, 4), 0x12345678u);
}

/* A CS limit just past the code page: targets beyond it are #GP(0), before any push or pop. */
static void short_cs(struct t *t) { t->c.seg[SEG_CS].limit = UCODE + 0xFFF; }

static void short_cs_ret(struct t *t)
{
    short_cs(t);
    wr32(t, USTACK_TOP - 4, UCODE + 0x1000);
    t->c.r[ESP] = USTACK_TOP - 4;
}

static void short_cs_eax(struct t *t)
{
    short_cs(t);
    t->c.r[EAX] = UCODE + 0x1000;
}

static void test_call_ret_beyond_limit(void **state)
{
    struct t *t = *state;
    struct outcome a, b;
    /* push 0 (the stack page into the TLB); call UCODE + 0x1000 */
    const uint8_t call[] = {0x6A, 0x00, 0xE8, 0xF9, 0x0F, 0x00, 0x00};
    run_twice(t, 3, call, sizeof call, short_cs, &a, &b);
    assert_int_equal(b.ev[0].vector, EXC_GP);
    assert_int_equal(b.ev[0].before.eip, UCODE + 2);
    assert_int_equal(b.ev[0].before.r[ESP], USTACK_TOP - 4);
    assert_int_equal(stack32(b.ustack + sizeof b.ustack, 8), 0x5A5A5A5Au); /* nothing pushed */
    const uint8_t call_reg[] = {0x6A, 0x00, 0xFF, 0xD0}; /* push 0; call eax */
    run_twice(t, 3, call_reg, sizeof call_reg, short_cs_eax, &a, &b);
    assert_int_equal(b.ev[0].vector, EXC_GP);
    assert_int_equal(b.ev[0].before.eip, UCODE + 2);
    assert_int_equal(b.ev[0].before.r[ESP], USTACK_TOP - 4);
    assert_int_equal(stack32(b.ustack + sizeof b.ustack, 8), 0x5A5A5A5Au);
    const uint8_t ret[] = {0xC3};
    run_twice(t, 3, ret, sizeof ret, short_cs_ret, &a, &b);
    assert_int_equal(b.ev[0].vector, EXC_GP);
    assert_int_equal(b.ev[0].before.eip, UCODE);
    assert_int_equal(b.ev[0].before.r[ESP], USTACK_TOP - 4);
}

/* RET on a ring-0 stack that is not flat pops at the stack's base (the decoy at the unbased
 * offset, mapped by the TLB through the first read, would return elsewhere). INT 0x31 after it
 * reads the GDT. */
static void ret_based(struct t *t)
{
    struct cpu *c = &t->c;
    c->seg[SEG_SS] = seg_of(t, SEL_KDATA_BASE);
    wr32(t, SS_BASE + KSTACK_TOP - 4, KCODE + 6);
    wr32(t, KSTACK_TOP - 4, KCODE + 8); /* the decoy */
    c->r[ESP] = KSTACK_TOP - 4;
}

static void test_ret_stack_not_flat(void **state)
{
    struct t *t = *state;
    struct outcome a, b;
    const uint8_t code[] = {0xA1, 0xFC, 0x7F, 0, 0, /* mov eax, [0x7FFC] */
                            0xC3,                   /* ret */
                            0xCD, V_SYS,            /* KCODE + 6: int 0x31 */
                            0xF4};                  /* KCODE + 8: the decoy: hlt */
    run_twice(t, 0, code, sizeof code, ret_based, &a, &b);
    assert_int_equal(b.ev[0].kind, TR_SOFTINT);
    assert_int_equal(b.ev[0].before.eip, KCODE + 6);
    assert_int_equal(b.ev[0].before.r[ESP], KSTACK_TOP);
}

/* ---- the chain going on past INT n, IRET, INVLPG and MOV CR3 (exec.c chain_on) ----
 * These end their block but no longer send the dispatch loop back to cpu_run's checks unless
 * those checks have something to do. Each case below makes one of those checks matter right
 * after such an instruction; had the chain gone on, the events or the time would differ. */

#define V_EXT 0x40 /* the vector the interrupt controller below answers with */

static int ack_ext(void *ctx)
{
    struct t *t = ctx;
    t->c.intr = false; /* one request, acknowledged */
    return V_EXT;
}

/* INTR up with IF = 0 (so that nothing is taken before the IRET); the IRET's frame sets IF. */
static void intr_pending_if0(struct t *t)
{
    push_frame(t);
    t->c.intc = (struct intc){.ack = ack_ext, .ctx = t};
    t->c.intr = true;
    t->c.eflags &= ~FL_IF;
}

/* IRET to ring 3 with IF = 1 in the frame and INTR up: the interrupt comes right after the
 * IRET, before the first instruction it returns to (add eax, ebx; hlt). */
static void test_chain_iret_intr(void **state)
{
    struct t *t = *state;
    struct outcome a, b;
    memcpy(t->ram + UCODE + 0x10, (const uint8_t[]){0x01, 0xD8, 0xF4}, 3);
    set_frame(t, KSTACK_TOP - 20, UCODE + 0x10, SEL_UCODE, FL_R1 | FL_IF, USTACK_TOP,
              SEL_UDATA);
    run_twice(t, 0, iret_code, sizeof iret_code, intr_pending_if0, &a, &b);
    assert_int_equal(b.rr, RUN_HALT);
    assert_int_equal(b.nev, 3);
    assert_int_equal(b.ev[0].kind, TR_IRET);
    assert_int_equal(b.ev[1].kind, TR_INTERRUPT);
    assert_int_equal(b.ev[1].vector, V_EXT);
    assert_int_equal(b.ev[1].before.eip, UCODE + 0x10);
    assert_int_equal(b.ev[2].kind, TR_HALT);
    assert_int_equal(b.r[EAX], 0x11111111u); /* the add did not run */
}

/* IRET with TF = 1 in the frame: the single-step trap comes after the first instruction it
 * returns to, not later. */
static void test_chain_iret_tf(void **state)
{
    struct t *t = *state;
    struct outcome a, b;
    memcpy(t->ram + UCODE + 0x10, (const uint8_t[]){0x01, 0xD8, 0x01, 0xD8, 0x01, 0xD8}, 6);
    set_frame(t, KSTACK_TOP - 20, UCODE + 0x10, SEL_UCODE, FL_R1 | FL_TF, USTACK_TOP,
              SEL_UDATA);
    run_twice(t, 0, iret_code, sizeof iret_code, push_frame, &a, &b);
    assert_int_equal(b.rr, RUN_HALT);
    assert_int_equal(b.nev, 3);
    assert_int_equal(b.ev[0].kind, TR_IRET);
    assert_int_equal(b.ev[1].kind, TR_EXCEPTION);
    assert_int_equal(b.ev[1].vector, EXC_DB);
    assert_int_equal(b.ev[1].before.eip, UCODE + 0x12);
    assert_int_equal(b.ev[2].kind, TR_HALT);
    assert_int_equal(b.r[EAX], 0x11111111u + 0x44444444u); /* one add */
}

static void nmi_blocked(struct t *t)
{
    push_frame(t);
    t->c.nmi_pending = true;
    t->c.nmi_blocked = true;
}

/* An NMI waiting behind the one being handled: the IRET unblocks it, and it comes right after
 * the IRET (at the same level, to add eax, ebx; hlt). */
static void test_chain_iret_nmi(void **state)
{
    struct t *t = *state;
    struct outcome a, b;
    memcpy(t->ram + KCODE + 0x10, (const uint8_t[]){0x01, 0xD8, 0xF4}, 3);
    set_frame(t, KSTACK_TOP - 12, KCODE + 0x10, SEL_KCODE, FL_R1, 0, 0);
    t->nframe = 3;
    run_twice(t, 0, iret_code, sizeof iret_code, nmi_blocked, &a, &b);
    assert_int_equal(b.rr, RUN_HALT);
    assert_int_equal(b.nev, 3);
    assert_int_equal(b.ev[0].kind, TR_IRET);
    assert_int_equal(b.ev[1].kind, TR_INTERRUPT);
    assert_int_equal(b.ev[1].vector, EXC_NMI);
    assert_int_equal(b.ev[1].before.eip, KCODE + 0x10);
    assert_int_equal(b.r[EAX], 0x11111111u);
}

/* INT n at CPL 0 with INTR up and IF = 0, through a trap gate: IF stays 0, so the chain goes
 * on into the handler (hlt) and the interrupt waits, never acknowledged. */
static void intr_pending_if0_only(struct t *t)
{
    t->c.intc = (struct intc){.ack = ack_ext, .ctx = t};
    t->c.intr = true;
    t->c.eflags &= ~FL_IF;
}

static void test_chain_int_intr_masked(void **state)
{
    struct t *t = *state;
    struct outcome a, b;
    const uint8_t code[] = {0xCD, V_TRAP};
    run_twice(t, 0, code, sizeof code, intr_pending_if0_only, &a, &b);
    assert_int_equal(b.rr, RUN_HALT);
    assert_int_equal(b.nev, 2);
    assert_int_equal(b.ev[0].kind, TR_SOFTINT);
    assert_int_equal(b.ev[1].kind, TR_HALT);
    assert_true(t->c.intr); /* never acknowledged */
}

/* A fault whose handler's first instruction is INT n: the INT's delivery comes at the same
 * device time as the fault's, so it adds a unit of stall (deliver.c); the chain must then
 * return to cpu_run, whose budget is device time. The handler of the INT spins (jmp $): the run
 * ends exactly at its budget, for every budget that the INT does not end. */
static void fault_then_int(struct t *t)
{
    gate(t, EXC_UD, SEL_KCODE, HANDLER + 0x100, 0x8E);
    gate(t, 0x38, SEL_KCODE, HANDLER + 0x200, 0x8E);
    memcpy(t->ram + HANDLER + 0x100, (const uint8_t[]){0xCD, 0x38}, 2);
    memcpy(t->ram + HANDLER + 0x200, (const uint8_t[]){0xEB, 0xFE}, 2);
}

static void test_chain_int_stall(void **state)
{
    struct t *t = *state;
    struct cpu *c = &t->c;
    const uint8_t code[] = {0x0F, 0x0B}; /* ud2 */
    memcpy(t->ram + KCODE, code, sizeof code);
    fault_then_int(t);
    for (uint64_t budget = 1; budget < 40; budget++) {
        for (int warm = 0; warm < 2; warm++) {
            cpu_reset_protected_flat(c, 0);
            if (!warm)
                cpu_flush_decoded(c);
            enter(t, 0);
            uint64_t t0 = c->icount + c->idle + c->stall;
            assert_int_equal(cpu_run(c, budget), RUN_LIMIT);
            /* budget 1: the INT is the instruction that uses it up, and its stall comes
             * on top (as it always has) */
            assert_int_equal(c->icount + c->idle + c->stall - t0, budget == 1 ? 2 : budget);
        }
    }
    assert_int_equal(c->eip, HANDLER + 0x200);
}

/* A fault in the first instruction of a handler the chain went on to (INT 0x39 from ring 3,
 * its handler ud2): #UD with the handler's EIP and CPL 0, its frame on the kernel stack below
 * the INT's, the INT's frame intact. */
static void ud_handler(struct t *t)
{
    gate(t, 0x39, SEL_KCODE, HANDLER + 0x300, 0xEE);
    memcpy(t->ram + HANDLER + 0x300, (const uint8_t[]){0x0F, 0x0B}, 2);
}

static void test_chain_int_then_fault(void **state)
{
    struct t *t = *state;
    struct outcome a, b;
    const uint8_t code[] = {0x01, 0xD8, 0xCD, 0x39};
    run_twice(t, 3, code, sizeof code, ud_handler, &a, &b);
    assert_int_equal(b.rr, RUN_HALT);
    assert_int_equal(b.nev, 3);
    assert_int_equal(b.ev[0].kind, TR_SOFTINT);
    assert_int_equal(b.ev[1].kind, TR_EXCEPTION);
    assert_int_equal(b.ev[1].vector, EXC_UD);
    assert_int_equal(b.ev[1].before.eip, HANDLER + 0x300);
    assert_int_equal(b.ev[1].before.cpl, 0);
    assert_int_equal(b.r[ESP], KSTACK_TOP - 20 - 12);
    const uint8_t *top = b.kstack + sizeof b.kstack;
    assert_int_equal(stack32(top, 20), UCODE + 4);       /* the INT's frame: EIP */
    assert_int_equal(stack32(top, 32), HANDLER + 0x300); /* the #UD's: EIP */
    assert_int_equal(stack32(top, 28), SEL_KCODE);
}

/* ---- descriptor memos (segment.h seg_memo_get) in delivery and IRET ---- */

/* Runs `code` at CPL `cpl` twice with the TLB warm (the second run with the memos the first
 * made), then changes the GDT entry of `sel` to lo/hi (a store by the host, as a guest store
 * through the TLB would leave the bytes), runs once more warm (*after), and once cold
 * (*cold: the general path reads everything afresh); those two must agree. */
static void run_then_change(struct t *t, unsigned cpl, const uint8_t *code, size_t n,
                            void (*prepare)(struct t *), uint16_t sel, uint32_t lo, uint32_t hi,
                            struct outcome *after, struct outcome *cold, uint64_t budget)
{
    struct outcome first;
    memcpy(t->ram + (cpl == 3 ? UCODE : KCODE), code, n);
    cpu_reset_protected_flat(&t->c, 0);
    cpu_flush_decoded(&t->c);
    for (int k = 0; k < 2; k++) {
        enter(t, cpl);
        if (prepare)
            prepare(t);
        take(t, &first, cpu_run(&t->c, budget));
    }
    wr32(t, GDT + (sel & ~7u), lo);
    wr32(t, GDT + (sel & ~7u) + 4, hi);
    enter(t, cpl);
    if (prepare)
        prepare(t);
    assert_non_null(tlb_hit(&t->c, GDT, 8, TLB_R_I)); /* the fast paths may run */
    take(t, after, cpu_run(&t->c, budget));
    cpu_flush_decoded(&t->c);
    enter(t, cpl);
    if (prepare)
        prepare(t);
    take(t, cold, cpu_run(&t->c, budget));
    same(after, cold);
}

/* INT n from ring 3; then the handler's CS (0x08) gets base 0x1000: the next INT runs the
 * handler at 0x1000 + HANDLER (a HLT there too). */
static void test_memo_int_cs_changed(void **state)
{
    struct t *t = *state;
    struct outcome a, b;
    const uint8_t code[] = {0xCD, V_SYS};
    t->ram[0x1000 + HANDLER] = 0xF4;
    run_then_change(t, 3, code, sizeof code, NULL, SEL_KCODE, 0x1000FFFFu, 0x00CF9B00u, &a, &b,
                    100);
    assert_int_equal(a.rr, RUN_HALT);
    assert_int_equal(a.seg[SEG_CS].base, 0x1000u);
    assert_int_equal(a.eip, HANDLER + 1);
}

/* The same, the CS made not present: #NP, then #DF, then a shutdown (every handler is there). */
static void test_memo_int_cs_not_present(void **state)
{
    struct t *t = *state;
    struct outcome a, b;
    const uint8_t code[] = {0xCD, V_SYS};
    run_then_change(t, 3, code, sizeof code, NULL, SEL_KCODE, 0x0000FFFFu, 0x00CF1B00u, &a, &b,
                    100);
    assert_int_equal(a.rr, RUN_SHUTDOWN);
}

/* SS0 (0x10, accessed, as setup() makes it: so that the delivery keeps a memo of it) gets
 * base SS_BASE. */
static void kdata_accessed(struct t *t) { wr32(t, GDT + 0x14, 0x00CF9300u); }
static void test_memo_int_ss0_changed(void **state)
{
    struct t *t = *state;
    struct outcome a, b;
    const uint8_t code[] = {0xCD, V_SYS};
    kdata_accessed(t);
    /* base SS_BASE, limit 4 GiB: not flat, so the general path delivers */
    run_then_change(t, 3, code, sizeof code, NULL, SEL_KDATA, 0x0000FFFFu | (SS_BASE << 16),
                    0x00CF9300u | (SS_BASE >> 16 & 0xFF), &a, &b, 100);
    assert_int_equal(a.rr, RUN_HALT);
    assert_int_equal(a.seg[SEG_SS].base, SS_BASE);
    assert_false(a.seg[SEG_SS].flat);
}

/* LGDT drops the memos (segment.h seg_memo_clear): at CPL 0, `lgdt [0x5F00]; int 0x31` runs
 * twice with the GDT at GDT (the delivery keeps a memo of its CS, 0x08); then the GDT is copied
 * to 0xB000 with 0x08 given base 0x1000 there, and the LGDT's operand names the copy: the next
 * INT runs the handler at 0x1000 + HANDLER (the old table's bytes, still in the TLB and
 * unchanged, must not stand in for the new one's). */
static void gdt_at(struct t *t, uint32_t base)
{
    t->ram[KCODE + 0xF00] = 9 * 8 - 1;
    t->ram[KCODE + 0xF01] = 0;
    wr32(t, KCODE + 0xF02, base);
}
static void test_memo_lgdt_moved(void **state)
{
    struct t *t = *state;
    struct outcome first, a, b;
    const uint8_t code[] = {0x0F, 0x01, 0x15, 0x00, 0x5F, 0x00, 0x00, 0xCD, V_SYS};
    memcpy(t->ram + KCODE, code, sizeof code);
    t->ram[0x1000 + HANDLER] = 0xF4;
    gdt_at(t, GDT);
    cpu_reset_protected_flat(&t->c, 0);
    cpu_flush_decoded(&t->c);
    for (int k = 0; k < 2; k++) {
        enter(t, 0);
        take(t, &first, cpu_run(&t->c, 100));
    }
    assert_int_equal(first.rr, RUN_HALT);
    assert_int_equal(first.seg[SEG_CS].base, 0u);
    memcpy(t->ram + 0xB000, t->ram + GDT, 9 * 8);
    wr32(t, 0xB000 + SEL_KCODE, 0x1000FFFFu);
    wr32(t, 0xB000 + SEL_KCODE + 4, 0x00CF9B00u);
    gdt_at(t, 0xB000);
    enter(t, 0);
    assert_non_null(tlb_hit(&t->c, GDT, 8, TLB_R_I)); /* the fast path may run */
    take(t, &a, cpu_run(&t->c, 100));
    cpu_flush_decoded(&t->c);
    enter(t, 0);
    take(t, &b, cpu_run(&t->c, 100));
    same(&a, &b);
    assert_int_equal(a.rr, RUN_HALT);
    assert_int_equal(a.seg[SEG_CS].base, 0x1000u);
    assert_int_equal(a.eip, HANDLER + 1);
}

/* IRET to ring 3 with the ring-3 data descriptor accessed (an SS memo is kept); then the ring-3
 * code segment (0x1B) gets base 0x100: EIP stays, CS.base is the new one. */
static void user_data_accessed(struct t *t) { wr32(t, GDT + 0x24, 0x00CFF300u); }
static void test_memo_iret_cs_changed(void **state)
{
    struct t *t = *state;
    struct outcome a, b;
    set_frame(t, KSTACK_TOP - 20, UCODE + 0x10, SEL_UCODE, FL_R1 | FL_IF, USTACK_TOP - 8,
              SEL_UDATA);
    user_data_accessed(t);
    run_then_change(t, 0, iret_code, sizeof iret_code, push_frame, SEL_UCODE,
                    0x0100FFFFu, 0x00CFFB00u, &a, &b, 1);
    assert_int_equal(a.rr, RUN_LIMIT);
    assert_int_equal(a.cpl, 3);
    assert_int_equal(a.seg[SEG_CS].base, 0x100u);
}

/* The same, the ring-3 data segment (the new SS) made read-only: #GP(0x20), at CPL 0 (then
 * the handler's HLT). */
static void test_memo_iret_ss_changed(void **state)
{
    struct t *t = *state;
    struct outcome a, b;
    set_frame(t, KSTACK_TOP - 20, UCODE + 0x10, SEL_UCODE, FL_R1 | FL_IF, USTACK_TOP - 8,
              SEL_UDATA);
    user_data_accessed(t);
    run_then_change(t, 0, iret_code, sizeof iret_code, push_frame, SEL_UDATA,
                    0x0000FFFFu, 0x00CFF100u, &a, &b, 2);
    assert_int_equal(a.cpl, 0);
    assert_true(a.nev >= 1);
    assert_int_equal(a.ev[0].kind, TR_EXCEPTION);
    assert_int_equal(a.ev[0].vector, 13);
    assert_int_equal(a.ev[0].error, SEL_UDATA & ~3u);
}

/* IRET to ring 3 whose SS descriptor (0x23) has the accessed bit clear, then MOV SS, AX of the
 * same selector at CPL 3: the load sets the bit in the GDT (no memo from the IRET stands in
 * for it). */
static void test_memo_iret_then_mov_ss_accessed(void **state)
{
    struct t *t = *state;
    const uint8_t user[] = {0x66, 0xB8, SEL_UDATA, 0x00, 0x8E, 0xD0, 0xF4}; /* ..., hlt: #GP */
    memcpy(t->ram + UCODE + 0x10, user, sizeof user);
    set_frame(t, KSTACK_TOP - 20, UCODE + 0x10, SEL_UCODE, FL_R1, USTACK_TOP - 8, SEL_UDATA);
    memcpy(t->ram + KCODE, iret_code, sizeof iret_code);
    cpu_reset_protected_flat(&t->c, 0);
    cpu_flush_decoded(&t->c);
    for (int k = 0; k < 3; k++) { /* cold, warm (the fast path), warm again */
        wr32(t, GDT + 0x24, 0x00CFF200u); /* accessed clear */
        enter(t, 0);
        push_frame(t);
        cpu_run(&t->c, 4);
        uint32_t hi;
        memcpy(&hi, t->ram + GDT + 0x24, 4);
        assert_int_equal(hi, 0x00CFF300u);
        assert_int_equal(t->c.cpl, 0); /* the HLT's #GP */
        assert_int_equal(t->c.r[EAX] & 0xFFFF, SEL_UDATA);
    }
}

/* The EFLAGS image of an INT n with a 32-bit SUB pending (deliver.c materialize_sub32), with no
 * sink: the same on the fast path as lf_compute gives on the general path, for a borrow, zero
 * (PF), SBB's carry in with equal operands, signed overflow, AF with PF, AF alone. */
static void lf_sub(struct t *t, uint32_t a, uint32_t b, uint8_t cf_in)
{
    t->c.lf = (struct lazyflags){.res = a - b - cf_in, .op1 = a, .op2 = b, .op = LF_SUB,
                                 .size = 4, .cf_in = cf_in};
}
static void sub_borrow(struct t *t) { lf_sub(t, 1, 2, 0); }
static void sub_zero(struct t *t) { lf_sub(t, 0x1234, 0x1234, 0); }
static void sbb_equal(struct t *t) { lf_sub(t, 7, 7, 1); }
static void sub_overflow(struct t *t) { lf_sub(t, 0x80000000u, 1, 0); }
static void sub_af(struct t *t) { lf_sub(t, 0x10, 0x01, 0); }
static void sub_parity_odd(struct t *t) { lf_sub(t, 0x100, 0xFE, 0); } /* res 2: one bit */

static void test_int_sub_flags(void **state)
{
    struct t *t = *state;
    struct outcome a, b;
    const uint8_t code[] = {0xCD, V_SYS};
    void (*cases[])(struct t *) = {sub_borrow, sub_zero, sbb_equal, sub_overflow, sub_af,
                                   sub_parity_odd};
    /* No sink: with one, the event's state folds the flags before the delivery does. */
    assert_true(cpu_remove_sink(&t->c, sink, t));
    const uint32_t want[] = {FL_CF | FL_SF | FL_PF | FL_AF, FL_ZF | FL_PF, FL_CF | FL_SF | FL_PF | FL_AF,
                             FL_OF | FL_PF | FL_AF, FL_AF | FL_PF, FL_AF};
    for (unsigned k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        run_twice(t, 3, code, sizeof code, cases[k], &a, &b);
        const uint8_t *top = b.kstack + sizeof b.kstack;
        assert_int_equal(stack32(top, 12) & FL_ARITH, want[k]);
    }
}

/* INT n from ring 3 whose SS0 descriptor (0x10) has the accessed bit clear, to a handler that
 * loads SS with the same selector (MOV SS at CPL 0): the load sets the bit (no memo from the
 * delivery stands in for it). */
static void test_memo_int_then_mov_ss_accessed(void **state)
{
    struct t *t = *state;
    const uint8_t handler[] = {0x66, 0xB8, SEL_KDATA, 0x00, 0x8E, 0xD0, 0xF4};
    memcpy(t->ram + HANDLER + 0x20, handler, sizeof handler);
    gate(t, 0x38, SEL_KCODE, HANDLER + 0x20, 0xEE);
    const uint8_t code[] = {0xCD, 0x38};
    memcpy(t->ram + UCODE, code, sizeof code);
    cpu_reset_protected_flat(&t->c, 0);
    cpu_flush_decoded(&t->c);
    for (int k = 0; k < 3; k++) { /* cold, warm (the fast path), warm again */
        wr32(t, GDT + 0x14, 0x00CF9200u); /* accessed clear */
        enter(t, 3);
        assert_int_equal(cpu_run(&t->c, 100), RUN_HALT);
        uint32_t hi;
        memcpy(&hi, t->ram + GDT + 0x14, 4);
        assert_int_equal(hi, 0x00CF9300u);
        assert_int_equal(t->c.eip, HANDLER + 0x20 + sizeof handler);
    }
}

/* ---- INT n and IRET at a block's end going on through their tail links (control.c
 * op_block_int, op_block_iret) ---- */

#define V_LOOP 0x3A            /* DPL 3, to LOOP_HANDLER */
#define LOOP_HANDLER 0x6200u /* inc ebx; iret */

static void no_hook(void *ctx, struct cpu *c, uint32_t lin_eip)
{
    (void)ctx;
    (void)c;
    (void)lin_eip;
}

/* mov ecx, 4; L: int V_LOOP; dec ecx; jnz L; int V_SYS (HANDLER: hlt) */
static const uint8_t loop_code[] = {0xB9, 0x04, 0x00, 0x00, 0x00, 0xCD, V_LOOP, 0x49,
                                    0x75, 0xFB, 0xCD, V_SYS};

static void loop_setup(struct t *t)
{
    gate(t, V_LOOP, SEL_KCODE, LOOP_HANDLER, 0xEE);
    t->ram[LOOP_HANDLER] = 0x43; /* inc ebx */
    t->ram[LOOP_HANDLER + 1] = 0xCF; /* iret */
    memcpy(t->ram + UCODE, loop_code, sizeof loop_code);
}

/* From ring 3, four INT/IRET round trips (the INT's and the IRET's tail links made by the first
 * and used by the others), then INT to a HLT: at every budget, and whole, the run ends as one
 * with every instruction on its own (an instruction hook: run_exact, which never runs the
 * tails), events included. */
static void test_int_iret_tails(void **state)
{
    struct t *t = *state;
    loop_setup(t);
    const unsigned total = 1 + 4 * 5 + 1 + 1; /* mov; 4 x (int, inc, iret, dec, jnz); int; hlt */
    for (unsigned budget = 1; budget <= total + 1; budget++) {
        struct outcome exact, fast;
        for (int hook = 1; hook >= 0; hook--) {
            cpu_reset_protected_flat(&t->c, 0);
            cpu_flush_decoded(&t->c);
            if (hook)
                assert_int_equal(cpu_add_insn_hook(&t->c, no_hook, NULL), 0);
            for (int pass = 0; pass < 2; pass++) { /* the second with the links made */
                enter(t, 3);
                uint64_t at = t->c.icount;
                enum run_result rr = cpu_run(&t->c, budget);
                take(t, hook ? &exact : &fast, rr);
                if (!hook) {
                    same(&exact, &fast);
                    assert_int_equal(t->c.icount - at, budget < total ? budget : total);
                }
            }
            if (hook)
                assert_true(cpu_remove_insn_hook(&t->c, no_hook, NULL));
        }
        if (budget > total) {
            assert_int_equal(fast.rr, RUN_HALT);
            assert_int_equal(fast.r[EBX], 0x44444444u + 4);
            assert_int_equal(fast.nev, 2 * 4 + 1 + 1); /* and the HLT */
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_int_from_ring3, setup, teardown),
        cmocka_unit_test_setup_teardown(test_trap_gate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exception_with_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_int_same_level, setup, teardown),
        cmocka_unit_test_setup_teardown(test_frame_across_page, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ss0_not_flat, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cs_not_present, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gate_dpl, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gate_not_present, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gate16, setup, teardown),
        cmocka_unit_test_setup_teardown(test_target_beyond_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_iret_to_ring3, setup, teardown),
        cmocka_unit_test_setup_teardown(test_iret_same_level, setup, teardown),
        cmocka_unit_test_setup_teardown(test_iret_ring3_keeps_if, setup, teardown),
        cmocka_unit_test_setup_teardown(test_iret_frame_across_page, setup, teardown),
        cmocka_unit_test_setup_teardown(test_iret_cs_not_present, setup, teardown),
        cmocka_unit_test_setup_teardown(test_iret_cs_dpl_ne_rpl, setup, teardown),
        cmocka_unit_test_setup_teardown(test_iret_ss_rpl, setup, teardown),
        cmocka_unit_test_setup_teardown(test_iret_ss_dpl, setup, teardown),
        cmocka_unit_test_setup_teardown(test_iret_beyond_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_iret_vm, setup, teardown),
        cmocka_unit_test_setup_teardown(test_iret_stack_not_flat, setup, teardown),
        cmocka_unit_test_setup_teardown(test_push_sreg, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pop_sreg, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pop_sreg_fault, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pop_ss, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pop_sreg_stack_not_flat, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mov_sreg_reg, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mov_ss_cs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mov_sreg_fault, setup, teardown),
        cmocka_unit_test_setup_teardown(test_popa_pusha, setup, teardown),
        cmocka_unit_test_setup_teardown(test_int_iret_tails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_call_ret, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ret, setup, teardown),
        cmocka_unit_test_setup_teardown(test_call_reg_push_imm, setup, teardown),
        cmocka_unit_test_setup_teardown(test_call_ret_beyond_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ret_stack_not_flat, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chain_iret_intr, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chain_iret_tf, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chain_iret_nmi, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chain_int_intr_masked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chain_int_stall, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chain_int_then_fault, setup, teardown),
        cmocka_unit_test_setup_teardown(test_memo_int_cs_changed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_memo_int_cs_not_present, setup, teardown),
        cmocka_unit_test_setup_teardown(test_memo_int_ss0_changed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_memo_lgdt_moved, setup, teardown),
        cmocka_unit_test_setup_teardown(test_memo_iret_cs_changed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_memo_iret_ss_changed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_memo_iret_then_mov_ss_accessed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_memo_int_then_mov_ss_accessed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_int_sub_flags, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
