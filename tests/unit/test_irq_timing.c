/* External interrupts arrive at the instruction boundary where hardware takes them, whatever the
 * decoded-instruction cache and block chaining do: a whole machine (src/machine/machine.h) runs
 * small hand-assembled programs while the PIT (mode 2, count PIT_COUNT, loaded at device time 0)
 * raises IRQ 0 at the deadline D = the device time of PIT tick PIT_COUNT.
 *
 * The IRQ 0 handler's first instruction is RDTSC, which reads device time (the instruction count
 * plus time spent halted), so it returns exactly the boundary at which the interrupt was taken:
 * D when nothing holds the interrupt off. The handler stores it and halts (IF = 0: the run
 * ends). The cases: a one-instruction loop chained to itself, a two-instruction loop, a long
 * straight block interrupted in its middle, three ticks in a row, the STI and MOV SS / POP SS
 * interrupt shadows (exactly one instruction of delay when the request is there), an OUT that
 * unmasks a pending request, HLT ended by the timer and by a byte on COM1. Every timer case is
 * run with and without an instruction hook (the hook takes the dispatch loop's slow path), and
 * the trace event of the delivery must carry the same instruction count.
 *
 * Physical memory:
 *   0x1000 GDT (0x08 flat code, 0x10 flat data)    0x2000 IDT (vector 0x20 -> 0x3000, every
 *   other vector -> 0x3100, which flags an unexpected event and halts)
 *   0x3000 the IRQ 0 handler    0x5000 what it stores    0x9000 top of the stack
 *   0x10000 the program under test
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cpu/cpu.h"
#include "machine/input_fd.h"
#include "machine/machine.h"

#define GDT_BASE   0x1000u
#define IDT_BASE   0x2000u
#define HANDLER    0x3000u
#define BAD_EVENT  0x3100u
#define DATA       0x5000u /* tsc[0..2] at +0, +8, +16; tick counter at +0x20; bad flag +0x30 */
#define STACK_TOP  0x9000u
#define CODE       0x10000u
#define PIT_COUNT  100u   /* PIT ticks to the first IRQ 0 */

struct rig {
    struct machine *m;
    unsigned want_vector;    /* the interrupt the case expects (0x20: IRQ 0) */
    uint64_t deadline;       /* device time of the first IRQ 0 edge */
    bool use_hook;
    uint64_t hook_icount;    /* icount when the handler's first instruction was about to run */
    bool hook_seen;
    unsigned nevents;
    uint64_t event_icount;   /* icount of the first external-interrupt trace event */
    unsigned event_vector;
};

static void put(struct machine *m, uint32_t addr, const void *bytes, size_t n)
{
    memcpy(m->ram + addr, bytes, n);
}

static void put32(struct machine *m, uint32_t addr, uint32_t v)
{
    memcpy(m->ram + addr, &v, 4);
}

static uint32_t get32(struct machine *m, uint32_t addr)
{
    uint32_t v;
    memcpy(&v, m->ram + addr, 4);
    return v;
}

static void gate(struct machine *m, unsigned vector, uint32_t target)
{
    put32(m, IDT_BASE + vector * 8, (target & 0xFFFF) | 0x08u << 16);
    put32(m, IDT_BASE + vector * 8 + 4, (target & 0xFFFF0000u) | 0x8E00u); /* interrupt gate */
}

static void hook(void *ctx, struct cpu *c, uint32_t lin_eip)
{
    struct rig *r = ctx;
    if (lin_eip == HANDLER && !r->hook_seen) {
        r->hook_seen = true;
        r->hook_icount = c->icount;
    }
}

static void sink(void *ctx, const struct trace_event *ev)
{
    struct rig *r = ctx;
    if (ev->kind == TR_INTERRUPT && r->nevents++ == 0) {
        r->event_icount = ev->icount;
        r->event_vector = ev->vector;
    }
}

/* The IRQ 0 handler: tsc[n++] = RDTSC; after three ticks halt, else EOI and IRET.
 * With one_shot it halts after the first. */
static void put_handler(struct machine *m, bool one_shot)
{
    const uint8_t h[] = {
        0x0F, 0x31,                               /* rdtsc                          */
        0x8B, 0x0D, 0x20, 0x50, 0x00, 0x00,       /* mov ecx, [DATA + 0x20]         */
        0x89, 0x04, 0xCD, 0x00, 0x50, 0x00, 0x00, /* mov [DATA + ecx * 8], eax      */
        0x89, 0x14, 0xCD, 0x04, 0x50, 0x00, 0x00, /* mov [DATA + 4 + ecx * 8], edx  */
        0x41,                                     /* inc ecx                        */
        0x89, 0x0D, 0x20, 0x50, 0x00, 0x00,       /* mov [DATA + 0x20], ecx         */
        0x83, 0xF9, (uint8_t)(one_shot ? 1 : 3),  /* cmp ecx, N                     */
        0x74, 0x05,                               /* je .halt                       */
        0xB0, 0x20,                               /* mov al, 0x20                   */
        0xE6, 0x20,                               /* out 0x20, al (EOI)             */
        0xCF,                                     /* iret                           */
        0xF4,                                     /* .halt: hlt (IF = 0: the end)   */
    };
    put(m, HANDLER, h, sizeof h);
    const uint8_t bad[] = { 0xC6, 0x05, 0x30, 0x50, 0x00, 0x00, 0x01, /* mov byte [DATA+0x30], 1 */
                            0xF4 };
    put(m, BAD_EVENT, bad, sizeof bad);
}

static void outb(struct machine *m, uint16_t port, uint8_t v)
{
    bus_out(&m->bus, port, v, 1);
}

/* A machine in flat protected mode at CODE with the program, the PIC programmed as Linux does
 * (IRQ 0 -> vector 0x20; imr as given) and the PIT counting PIT_COUNT ticks in mode 2. */
static void rig_init(struct rig *r, const uint8_t *code, size_t n, bool irq_on, uint8_t imr,
                     bool one_shot)
{
    struct machine *m = machine_create(4, NULL, NULL);
    assert_non_null(m);
    memset(r, 0, sizeof *r);
    r->m = m;
    r->want_vector = 0x20;
    const uint64_t gdt[] = { 0, 0x00CF9A000000FFFFull, 0x00CF92000000FFFFull };
    put(m, GDT_BASE, gdt, sizeof gdt);
    for (unsigned v = 0; v < 256; v++)
        gate(m, v, v == 0x20 || v == 0x24 ? HANDLER : BAD_EVENT);
    put_handler(m, one_shot);
    put(m, CODE, code, n);
    cpu_reset_protected_flat(&m->cpu, CODE);
    m->cpu.gdtr.base = GDT_BASE;
    m->cpu.gdtr.limit = sizeof gdt - 1;
    m->cpu.idtr.base = IDT_BASE;
    m->cpu.idtr.limit = 256 * 8 - 1;
    m->cpu.r[ESP] = STACK_TOP;
    if (irq_on)
        m->cpu.eflags |= FL_IF;
    cpu_flush_decoded(&m->cpu);
    cpu_add_sink(&m->cpu, sink, r);

    outb(m, 0x20, 0x11);
    outb(m, 0x21, 0x20);
    outb(m, 0x21, 0x04);
    outb(m, 0x21, 0x01);
    outb(m, 0x21, imr);
    outb(m, 0x43, 0x34);
    outb(m, 0x40, PIT_COUNT & 0xFF);
    outb(m, 0x40, PIT_COUNT >> 8);
    r->deadline = pit_time_of_tick(&m->clock, PIT_COUNT);
}

/* Runs to the handler's final HLT; checks that nothing unexpected happened. */
static void rig_run(struct rig *r, bool use_hook)
{
    struct cpu *c = &r->m->cpu;
    if (use_hook) {
        assert_int_equal(cpu_add_insn_hook(c, hook, r), 0);
    }
    assert_int_equal(cpu_run(c, 10 * r->deadline + 100000), RUN_HALT);
    assert_int_equal(r->m->ram[DATA + 0x30], 0); /* no exception */
    assert_int_equal(r->event_vector, r->want_vector);
    if (use_hook) {
        assert_true(r->hook_seen);
        assert_int_equal(r->hook_icount, r->event_icount);
    }
}

static uint64_t tsc(struct rig *r, unsigned k)
{
    return get32(r->m, DATA + 8 * k) | (uint64_t)get32(r->m, DATA + 8 * k + 4) << 32;
}

/* The EIP the interrupt pushed (the handler halts with the frame on the stack). */
static uint32_t pushed_eip(struct rig *r)
{
    return get32(r->m, r->m->cpu.r[ESP]);
}

static void rig_free(struct rig *r)
{
    machine_destroy(r->m);
}

static void deadline_is_what_the_pit_says(void **state)
{
    (void)state;
    struct rig r;
    const uint8_t code[] = { 0xEB, 0xFE };
    rig_init(&r, code, sizeof code, true, 0xFE, true);
    /* ceil(100 * 1e8 / 1193182) at the default 100 M instructions per second */
    assert_int_equal(r.deadline, 8381);
    rig_free(&r);
}

/* jmp $ : one block of one instruction, chained to itself. */
static void tight_loop(void **state)
{
    (void)state;
    for (int h = 0; h < 2; h++) {
        struct rig r;
        const uint8_t code[] = { 0xEB, 0xFE };
        rig_init(&r, code, sizeof code, true, 0xFE, true);
        rig_run(&r, h);
        assert_int_equal(tsc(&r, 0), r.deadline);
        assert_int_equal(r.event_icount, r.deadline);
        assert_int_equal(pushed_eip(&r), CODE);
        rig_free(&r);
    }
}

/* 1: inc eax; jmp 1b : the boundary at D falls after an inc or after a jmp. */
static void two_instruction_loop(void **state)
{
    (void)state;
    for (int h = 0; h < 2; h++) {
        struct rig r;
        const uint8_t code[] = { 0x40, 0xEB, 0xFD };
        rig_init(&r, code, sizeof code, true, 0xFE, true);
        rig_run(&r, h);
        assert_int_equal(tsc(&r, 0), r.deadline);
        /* incs run at icounts 0, 2, ...: the instruction at D is the inc if D is even */
        assert_int_equal(pushed_eip(&r), CODE + (r.deadline % 2 ? 1 : 0));
        rig_free(&r);
    }
}

/* 60 nops and a jmp back: a full block, interrupted in its middle. */
static void inside_a_long_block(void **state)
{
    (void)state;
    for (int h = 0; h < 2; h++) {
        struct rig r;
        uint8_t code[62];
        memset(code, 0x90, 60);
        code[60] = 0xEB;
        code[61] = (uint8_t)-62;
        rig_init(&r, code, sizeof code, true, 0xFE, true);
        rig_run(&r, h);
        assert_int_equal(tsc(&r, 0), r.deadline);
        assert_int_equal(pushed_eip(&r), CODE + r.deadline % 61);
        rig_free(&r);
    }
}

/* Three ticks in a row: each handler starts at its tick's device time exactly. */
static void three_ticks(void **state)
{
    (void)state;
    for (int h = 0; h < 2; h++) {
        struct rig r;
        const uint8_t code[] = { 0x40, 0xEB, 0xFD };
        rig_init(&r, code, sizeof code, true, 0xFE, false);
        rig_run(&r, h);
        for (unsigned k = 0; k < 3; k++)
            assert_int_equal(tsc(&r, k), pit_time_of_tick(&r.m->clock, (k + 1) * PIT_COUNT));
        assert_int_equal(r.nevents, 3);
        rig_free(&r);
    }
}

/* mov ecx, K; 1: loop 1b; <insn at icount K + 1> ... */
static size_t spin_then(uint8_t *code, uint32_t k, const uint8_t *tail, size_t n)
{
    code[0] = 0xB9;
    memcpy(code + 1, &k, 4);
    code[5] = 0xE2;
    code[6] = 0xFE;
    memcpy(code + 7, tail, n);
    return 7 + n;
}

/* STI with IF = 0 while IRQ 0 is already waiting: the instruction after STI still runs. */
static void sti_shadow_with_request_waiting(void **state)
{
    (void)state;
    for (int h = 0; h < 2; h++) {
        struct rig r;
        uint8_t code[32];
        const uint8_t tail[] = { 0xFB, 0x43, 0x43, 0xEB, 0xFE }; /* sti; inc ebx; inc ebx */
        uint32_t k = 9000; /* past the deadline (8381) with IF = 0 */
        size_t n = spin_then(code, k, tail, sizeof tail);
        rig_init(&r, code, n, false, 0xFE, true);
        rig_run(&r, h);
        assert_int_equal(tsc(&r, 0), (uint64_t)k + 3); /* sti at K + 1, inc at K + 2 */
        assert_int_equal(r.m->cpu.r[EBX], 1);
        assert_int_equal(pushed_eip(&r), CODE + 7 + 2);
        rig_free(&r);
    }
}

/* STI as the last instruction before the deadline: delayed by exactly one instruction. */
static void sti_shadow_at_deadline(void **state)
{
    (void)state;
    for (int h = 0; h < 2; h++) {
        struct rig r;
        uint8_t code[32];
        const uint8_t tail[] = { 0xFB, 0x43, 0x43, 0xEB, 0xFE };
        uint32_t k = 8381 - 2; /* sti at icount D - 1 */
        size_t n = spin_then(code, k, tail, sizeof tail);
        rig_init(&r, code, n, false, 0xFE, true);
        assert_int_equal(r.deadline, 8381);
        rig_run(&r, h);
        assert_int_equal(tsc(&r, 0), r.deadline + 1);
        assert_int_equal(r.m->cpu.r[EBX], 1);
        rig_free(&r);
    }
}

/* MOV SS, AX as the last instruction before the deadline (IF = 1 all along). */
static void mov_ss_shadow_at_deadline(void **state)
{
    (void)state;
    for (int h = 0; h < 2; h++) {
        struct rig r;
        uint8_t code[32];
        const uint8_t tail[] = { 0x8E, 0xD0, 0x43, 0x43, 0xEB, 0xFE }; /* mov ss, ax; inc ebx */
        uint32_t k = 8381 - 2; /* mov ss at icount D - 1 */
        size_t n = spin_then(code, k, tail, sizeof tail);
        rig_init(&r, code, n, true, 0xFE, true);
        r.m->cpu.r[EAX] = 0x10;
        rig_run(&r, h);
        assert_int_equal(tsc(&r, 0), r.deadline + 1);
        assert_int_equal(r.m->cpu.r[EBX], 1);
        assert_int_equal(pushed_eip(&r), CODE + 7 + 3);
        rig_free(&r);
    }
}

/* POP SS likewise; and a MOV SS one instruction earlier does not delay anything. */
static void pop_ss_shadow_at_deadline(void **state)
{
    (void)state;
    for (int h = 0; h < 2; h++) {
        struct rig r;
        uint8_t code[32];
        const uint8_t tail[] = { 0x16, 0x17, 0x43, 0x43, 0xEB, 0xFE }; /* push ss; pop ss */
        uint32_t k = 8381 - 3; /* pop ss at icount D - 1 */
        size_t n = spin_then(code, k, tail, sizeof tail);
        rig_init(&r, code, n, true, 0xFE, true);
        rig_run(&r, h);
        assert_int_equal(tsc(&r, 0), r.deadline + 1);
        assert_int_equal(r.m->cpu.r[EBX], 1);
        rig_free(&r);

        const uint8_t early[] = { 0x8E, 0xD0, 0x90, 0x43, 0x43, 0xEB, 0xFE }; /* mov ss; nop */
        k = 8381 - 3; /* mov ss at D - 2: its shadow ends before the deadline */
        n = spin_then(code, k, early, sizeof early);
        rig_init(&r, code, n, true, 0xFE, true);
        r.m->cpu.r[EAX] = 0x10;
        rig_run(&r, h);
        assert_int_equal(tsc(&r, 0), r.deadline);
        assert_int_equal(r.m->cpu.r[EBX], 0);
        rig_free(&r);
    }
}

/* IRQ 0 masked at the PIC until an OUT unmasks it, long after the edge: the handler runs
 * right after the OUT. */
static void unmasking_out(void **state)
{
    (void)state;
    for (int h = 0; h < 2; h++) {
        struct rig r;
        uint8_t code[32];
        const uint8_t tail[] = { 0xB0, 0xFE, 0xE6, 0x21, 0x43, 0xEB, 0xFE }; /* out 0x21, 0xFE */
        uint32_t k = 9000;
        size_t n = spin_then(code, k, tail, sizeof tail);
        rig_init(&r, code, n, true, 0xFF, true);
        rig_run(&r, h);
        assert_int_equal(tsc(&r, 0), (uint64_t)k + 3); /* mov al at K + 1, out at K + 2 */
        assert_int_equal(r.m->cpu.r[EBX], 0);
        rig_free(&r);
    }
}

/* HLT with IF = 1: device time jumps to the deadline; one instruction has retired. */
static void hlt_wakes_at_the_deadline(void **state)
{
    (void)state;
    for (int h = 0; h < 2; h++) {
        struct rig r;
        const uint8_t code[] = { 0xF4, 0x43, 0xEB, 0xFE };
        rig_init(&r, code, sizeof code, true, 0xFE, true);
        rig_run(&r, h);
        assert_int_equal(tsc(&r, 0), r.deadline);
        assert_int_equal(r.event_icount, 1);
        assert_int_equal(r.m->cpu.idle, r.deadline - 1);
        assert_int_equal(pushed_eip(&r), CODE + 1);
        rig_free(&r);
    }
}

/* A byte on COM1 ends a HLT: IRQ 4 (IER.RDI, unmasked at the PIC; the timer masked) arrives
 * when the machine's input schedule delivers the byte. With or without MCR.OUT2: the UART
 * raises IRQ 4 either way, as QEMU's does, so a halt waiting for input is not "a halt nothing
 * can end". */
static void uart_input_ends_hlt(void **state)
{
    (void)state;
    for (int out2 = 0; out2 < 2; out2++) {
        struct rig r;
        const uint8_t code[] = { 0xF4, 0xEB, 0xFE };
        int fds[2];
        assert_int_equal(pipe(fds), 0);
        assert_int_equal(write(fds[1], "A", 1), 1);
        close(fds[1]);
        rig_init(&r, code, sizeof code, true, 0xEF, true);
        r.want_vector = 0x24;
        outb(r.m, UART_COM1_BASE + UART_IER, UART_IER_RDI);
        outb(r.m, UART_COM1_BASE + UART_MCR, out2 ? UART_MCR_OUT2 : 0);
        machine_set_input(r.m, fds[0]);
        timerq_arm(&r.m->timers, r.m->input.timer, 5000); /* the byte comes at time 5000 */
        rig_run(&r, false);
        assert_int_equal(tsc(&r, 0), 5000);
        assert_int_equal(r.m->uart.rx_count, 1);
        assert_int_equal(r.m->uart.rx[r.m->uart.rx_head], 'A');
        close(fds[0]);
        rig_free(&r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(deadline_is_what_the_pit_says),
        cmocka_unit_test(tight_loop),
        cmocka_unit_test(two_instruction_loop),
        cmocka_unit_test(inside_a_long_block),
        cmocka_unit_test(three_ticks),
        cmocka_unit_test(sti_shadow_with_request_waiting),
        cmocka_unit_test(sti_shadow_at_deadline),
        cmocka_unit_test(mov_ss_shadow_at_deadline),
        cmocka_unit_test(pop_ss_shadow_at_deadline),
        cmocka_unit_test(unmasking_out),
        cmocka_unit_test(hlt_wakes_at_the_deadline),
        cmocka_unit_test(uart_input_ends_hlt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
