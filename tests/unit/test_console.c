/* machine/console.c and input_fd.c through a whole machine: console input as data and the
 * taps.
 *
 * The guests are a few hand-assembled instructions in flat protected mode at CODE:
 *   reader  polls LSR.DR and stores each byte it reads from RBR at BUF (IF = 0)
 *   sleeper sti; hlt; jmp back, with an IRQ 0 and IRQ 4 handler that reads RBR into BUF, EOIs
 *           and IRETs
 *   idle    jmp $ (never reads: the receiver stays full)
 *
 * Input is paced one byte per character time (CHAR_TIME at the default divisor and rate) and
 * only into an empty receiver; a full queue refuses bytes; after the end of input a halted
 * guest has nothing left to wait for; a halt that input cannot end (RDI off, IRQ 4 masked)
 * stops the run at once. Taps see input and output bytes with device time and instruction
 * count, several at once.
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

#define GDT_BASE  0x1000u
#define IDT_BASE  0x2000u
#define HANDLER   0x3000u
#define BUF       0x5000u /* bytes the guest read */
#define STACK_TOP 0x9000u
#define CODE      0x10000u
/* One character at 9600 baud (divisor 12, the UART's power-on rate): 10 bits, at the default
 * 10^8 units per second. */
#define CHAR_TIME (100000000ull * 10 * 12 / 115200)

struct taplog {
    unsigned n;
    struct console_byte b[64];
};

static void tap_fn(void *ctx, const struct console_byte *b)
{
    struct taplog *t = ctx;
    if (t->n < 64)
        t->b[t->n] = *b;
    t->n++;
}

struct outlog {
    char text[64];
    unsigned n;
    struct taplog *tap; /* taps run after the console callback: it sees n taps so far */
    unsigned taps_before[64];
};

static void console_fn(void *ctx, uint8_t byte)
{
    struct outlog *o = ctx;
    if (o->n < 63) {
        o->taps_before[o->n] = o->tap ? o->tap->n : 0;
        o->text[o->n++] = (char)byte;
    }
}

static void put(struct machine *m, uint32_t addr, const void *bytes, size_t n)
{
    memcpy(m->ram + addr, bytes, n);
}

static void put32(struct machine *m, uint32_t addr, uint32_t v)
{
    memcpy(m->ram + addr, &v, 4);
}

static void outb(struct machine *m, uint16_t port, uint8_t v)
{
    bus_out(&m->bus, port, v, 1);
}

/* A machine in flat protected mode at CODE running code, ESI = BUF. */
static struct machine *make(const uint8_t *code, size_t n, machine_console_fn con, void *ctx)
{
    struct machine *m = machine_create(4, con, ctx);
    assert_non_null(m);
    const uint64_t gdt[] = { 0, 0x00CF9A000000FFFFull, 0x00CF92000000FFFFull };
    put(m, GDT_BASE, gdt, sizeof gdt);
    put(m, CODE, code, n);
    machine_boot(m, CODE, 0, 0);
    m->cpu.gdtr.base = GDT_BASE;
    m->cpu.gdtr.limit = sizeof gdt - 1;
    m->cpu.r[ESP] = STACK_TOP;
    m->cpu.r[ESI] = BUF;
    return m;
}

static const uint8_t reader[] = {
    0x66, 0xBA, 0xFD, 0x03, /* 0:  mov dx, 0x3FD (LSR) */
    0xEC,                   /* 4:  in al, dx         */
    0xA8, 0x01,             /* 5:  test al, DR       */
    0x74, 0xF7,             /* 7:  jz 0              */
    0x66, 0xBA, 0xF8, 0x03, /* 9:  mov dx, 0x3F8     */
    0xEC,                   /* 13: in al, dx (RBR)   */
    0x88, 0x06,             /* 14: mov [esi], al     */
    0x46,                   /* 16: inc esi           */
    0xEB, 0xED,             /* 17: jmp 0             */
};

static const uint8_t idle[] = { 0xEB, 0xFE };

/* sti; 1: hlt; jmp 1b, with IRQ 0 and IRQ 4 (vectors 0x20, 0x24) reading RBR into [esi++].
 * RDI enabled and IRQ 4 unmasked as told; IRQ 0 masked. */
static struct machine *make_sleeper(bool rdi, bool unmask)
{
    static const uint8_t code[] = { 0xFB, 0xF4, 0xEB, 0xFD };
    static const uint8_t handler[] = {
        0x66, 0xBA, 0xF8, 0x03, /* mov dx, 0x3F8 */
        0xEC,                   /* in al, dx     */
        0x88, 0x06,             /* mov [esi], al */
        0x46,                   /* inc esi       */
        0xB0, 0x20,             /* mov al, 0x20  */
        0xE6, 0x20,             /* out 0x20, al  */
        0xCF,                   /* iret          */
    };
    struct machine *m = make(code, sizeof code, NULL, NULL);
    put(m, HANDLER, handler, sizeof handler);
    for (unsigned v = 0x20; v <= 0x24; v += 4) {
        put32(m, IDT_BASE + v * 8, (HANDLER & 0xFFFF) | 0x08u << 16);
        put32(m, IDT_BASE + v * 8 + 4, (HANDLER & 0xFFFF0000u) | 0x8E00u);
    }
    m->cpu.idtr.base = IDT_BASE;
    m->cpu.idtr.limit = 256 * 8 - 1;
    outb(m, 0x20, 0x11);
    outb(m, 0x21, 0x20);
    outb(m, 0x21, 0x04);
    outb(m, 0x21, 0x01);
    outb(m, 0x21, unmask ? 0xEF : 0xFF);
    outb(m, UART_COM1_BASE + UART_IER, rdi ? UART_IER_RDI : 0);
    return m;
}

static void push_all(struct machine *m, const char *s)
{
    for (; *s; s++)
        assert_true(machine_input_push(m, (uint8_t)*s));
}

/* One byte per character time, each only once the guest has read the one before. */
static void paced_delivery(void **state)
{
    (void)state;
    struct machine *m = make(reader, sizeof reader, NULL, NULL);
    struct taplog in = { 0 };
    assert_int_equal(machine_add_tap(m, tap_fn, &in), 0);
    push_all(m, "abc");
    machine_input_open(m, NULL, NULL);
    assert_int_equal(machine_input_queued(m), 3);
    assert_int_equal(cpu_run(&m->cpu, 3 * CHAR_TIME - 1), RUN_LIMIT);
    assert_int_equal(in.n, 3);
    for (unsigned k = 0; k < 3; k++) {
        assert_true(in.b[k].input);
        assert_int_equal(in.b[k].byte, "abc"[k]);
        assert_int_equal(in.b[k].time, k * CHAR_TIME); /* the first look is at once */
        assert_int_equal(in.b[k].icount, k * CHAR_TIME); /* nothing halted: the same */
    }
    assert_memory_equal(m->ram + BUF, "abc", 3);
    assert_int_equal(machine_input_queued(m), 0);
    /* Nothing more to deliver, but the input is still open: the machine keeps looking. */
    assert_true(m->input.open);
    assert_int_equal(timerq_deadline(&m->timers, m->input.timer), 3 * CHAR_TIME);
    /* A byte pushed later goes at the next look. */
    assert_true(machine_input_push(m, 'd'));
    assert_int_equal(cpu_run(&m->cpu, 100), RUN_LIMIT);
    assert_int_equal(in.n, 4);
    assert_int_equal(in.b[3].time, 3 * CHAR_TIME);
    assert_int_equal(m->ram[BUF + 3], 'd');
    machine_destroy(m);
}

/* A faster line (divisor 1, 115200 baud) is looked at twelve times as often. */
static void pace_follows_the_baud_rate(void **state)
{
    (void)state;
    struct machine *m = make(reader, sizeof reader, NULL, NULL);
    struct taplog in = { 0 };
    machine_add_tap(m, tap_fn, &in);
    outb(m, UART_COM1_BASE + UART_LCR, UART_LCR_DLAB);
    outb(m, UART_COM1_BASE + UART_DLL, 1);
    outb(m, UART_COM1_BASE + UART_DLM, 0);
    outb(m, UART_COM1_BASE + UART_LCR, 0x03);
    push_all(m, "xy");
    machine_input_open(m, NULL, NULL);
    assert_int_equal(cpu_run(&m->cpu, CHAR_TIME), RUN_LIMIT);
    assert_int_equal(in.n, 2);
    assert_int_equal(in.b[1].time, CHAR_TIME / 12);
    machine_destroy(m);
}

/* A guest that does not read: the byte in the receiver stays, the rest wait in the queue (no
 * overrun), and a full queue refuses bytes until the guest makes room. */
static void backpressure(void **state)
{
    (void)state;
    struct machine *m = make(idle, sizeof idle, NULL, NULL);
    outb(m, UART_COM1_BASE + UART_FCR, UART_FCR_ENABLE); /* 16-byte FIFO: still one at a time */
    unsigned pushed = 0;
    while (machine_input_push(m, (uint8_t)pushed))
        pushed++;
    assert_int_equal(pushed, MACHINE_INPUT_QUEUE);
    assert_int_equal(machine_input_queued(m), MACHINE_INPUT_QUEUE);
    machine_input_open(m, NULL, NULL);
    assert_int_equal(cpu_run(&m->cpu, 20 * CHAR_TIME), RUN_LIMIT);
    assert_int_equal(m->uart.rx_count, 1);
    assert_int_equal(m->uart.rx[m->uart.rx_head], 0);
    assert_int_equal(machine_input_queued(m), MACHINE_INPUT_QUEUE - 1);
    assert_false(m->uart.lsr & UART_LSR_OE);
    assert_true(machine_input_push(m, 0xEE)); /* the room the delivery made */
    assert_false(machine_input_push(m, 0xEF));
    /* The guest (here the test, on its behalf) reads: the next byte comes at the next look. */
    assert_int_equal(uart16550_read(&m->uart, UART_RBR), 0);
    assert_int_equal(cpu_run(&m->cpu, CHAR_TIME), RUN_LIMIT);
    assert_int_equal(m->uart.rx_count, 1);
    assert_int_equal(m->uart.rx[m->uart.rx_head], 1);
    assert_int_equal(machine_input_queued(m), MACHINE_INPUT_QUEUE - 1);
    machine_destroy(m);
}

/* The refill callback is asked only when the queue is empty and the receiver free. */
struct source {
    const char *text;
    unsigned pos;
    unsigned calls;
    unsigned calls_with_rx_full;
};

static void refill(void *ctx, struct machine *m)
{
    struct source *s = ctx;
    s->calls++;
    if (m->uart.rx_count || machine_input_queued(m))
        s->calls_with_rx_full++;
    if (s->text[s->pos])
        machine_input_push(m, (uint8_t)s->text[s->pos++]);
    else
        machine_input_end(m);
}

static void refill_and_end_of_input(void **state)
{
    (void)state;
    struct machine *m = make(reader, sizeof reader, NULL, NULL);
    struct source src = { .text = "hey" };
    machine_input_open(m, refill, &src);
    assert_int_equal(cpu_run(&m->cpu, 10 * CHAR_TIME), RUN_LIMIT);
    assert_memory_equal(m->ram + BUF, "hey", 3);
    assert_int_equal(src.calls, 4); /* three bytes, then the end */
    assert_int_equal(src.calls_with_rx_full, 0);
    assert_false(m->input.open);
    assert_int_equal(timerq_deadline(&m->timers, m->input.timer), TIMER_NEVER);
    machine_destroy(m);
}

/* Queued bytes still go after machine_input_end; then the input closes. A halted guest that
 * reads by interrupt ends the run once nothing is left to wake it. */
static void halted_guest_and_end_of_input(void **state)
{
    (void)state;
    struct machine *m = make_sleeper(true, true);
    push_all(m, "ok");
    machine_input_open(m, NULL, NULL);
    machine_input_end(m);
    assert_int_equal(cpu_run(&m->cpu, 100 * CHAR_TIME), RUN_HALT);
    assert_memory_equal(m->ram + BUF, "ok", 2);
    /* The third look found the queue empty and the input ended. */
    assert_int_equal(cpu_time(&m->cpu), 2 * CHAR_TIME);
    assert_false(m->input.open);
    machine_destroy(m);

    /* Input still open (no end): the halt waits, look after look, until the budget. */
    m = make_sleeper(true, true);
    push_all(m, "ok");
    machine_input_open(m, NULL, NULL);
    assert_int_equal(cpu_run(&m->cpu, 100 * CHAR_TIME), RUN_LIMIT);
    assert_memory_equal(m->ram + BUF, "ok", 2);
    assert_true(m->input.open);
    machine_destroy(m);
}

/* Whether console input can end a halt is the UART's and the PIC's answer: with RDI off, or
 * IRQ 4 masked, a halt with input waiting stops the run at once instead of waiting. */
static void input_can_wake(void **state)
{
    (void)state;
    for (int k = 0; k < 3; k++) {
        bool rdi = k != 1, unmask = k != 2;
        struct machine *m = make_sleeper(rdi, unmask);
        assert_int_equal(uart16550_receive_can_wake(&m->uart), rdi && unmask);
        push_all(m, "z");
        machine_input_open(m, NULL, NULL);
        enum run_result r = cpu_run(&m->cpu, 100 * CHAR_TIME);
        if (k == 0) {
            assert_int_equal(r, RUN_LIMIT);
            assert_int_equal(m->ram[BUF], 'z');
        } else {
            /* The byte arrived at the first look (before HLT), but nobody took it. Time
             * moves on to the event set before the HLT, where the machine finds nothing
             * left that could wake the cpu. */
            assert_int_equal(r, RUN_HALT);
            assert_int_equal(m->ram[BUF], 0);
            assert_int_equal(m->uart.rx_count, 1);
            assert_int_equal(cpu_time(&m->cpu), CHAR_TIME);
        }
        machine_destroy(m);
    }
}

/* The PIT likewise: a masked IRQ 0 cannot end a halt, an unmasked one does. */
static void timer_can_wake(void **state)
{
    (void)state;
    for (int unmask = 0; unmask < 2; unmask++) {
        struct machine *m = make_sleeper(false, false);
        outb(m, 0x21, unmask ? 0xFE : 0xFF);
        outb(m, 0x43, 0x34);
        outb(m, 0x40, 100);
        outb(m, 0x40, 0);
        assert_int_equal(pit_can_wake(&m->pit), unmask);
        enum run_result r = cpu_run(&m->cpu, 1000000);
        /* Unmasked, each tick ends the halt and the run goes on to its budget; masked, it
         * stops at the first halt. */
        assert_int_equal(r, unmask ? RUN_LIMIT : RUN_HALT);
        assert_int_equal(m->cpu.r[ESI] - BUF, unmask ? 1000000 / 8381 : 0);
        machine_destroy(m);
    }
}

/* Output and input bytes with their times, seen by two taps; the console callback first. */
static void taps(void **state)
{
    (void)state;
    /* mov dx, 0x3F8; mov al, 'A'; out dx, al; mov al, 'B'; out dx, al; then read as reader */
    uint8_t code[64];
    const uint8_t head[] = { 0x66, 0xBA, 0xF8, 0x03, 0xB0, 'A', 0xEE, 0xB0, 'B', 0xEE };
    memcpy(code, head, sizeof head);
    memcpy(code + sizeof head, reader, sizeof reader);
    struct outlog out = { 0 };
    struct machine *m = make(code, sizeof head + sizeof reader, console_fn, &out);
    struct taplog t1 = { 0 }, t2 = { 0 };
    out.tap = &t1;
    assert_int_equal(machine_add_tap(m, tap_fn, &t1), 0);
    assert_int_equal(machine_add_tap(m, tap_fn, &t2), 0);
    push_all(m, "q");
    machine_input_open(m, NULL, NULL);
    /* The first look is at time 0, before the guest's first instruction: 'q' comes first.
     * Then mov dx, mov al, out (icount 2), mov al, out (icount 4). */
    assert_int_equal(cpu_run(&m->cpu, 1000), RUN_LIMIT);
    assert_string_equal(out.text, "AB");
    assert_int_equal(t1.n, 3);
    assert_int_equal(t2.n, 3);
    assert_memory_equal(t1.b, t2.b, 3 * sizeof t1.b[0]);
    assert_true(t1.b[0].input);
    assert_int_equal(t1.b[0].byte, 'q');
    assert_int_equal(t1.b[0].time, 0);
    assert_false(t1.b[1].input);
    assert_int_equal(t1.b[1].byte, 'A');
    assert_int_equal(t1.b[1].icount, 2); /* the OUT is the third instruction */
    assert_int_equal(t1.b[1].time, 2);
    assert_int_equal(t1.b[2].byte, 'B');
    assert_int_equal(t1.b[2].icount, 4);
    /* The console callback saw each byte before the taps did. */
    assert_int_equal(out.taps_before[0], 1);
    assert_int_equal(out.taps_before[1], 2);

    /* Removing one tap leaves the other; the slots are bounded. */
    assert_int_equal(machine_remove_tap(m, tap_fn, &t2), 0);
    assert_int_equal(machine_remove_tap(m, tap_fn, &t2), -1);
    assert_true(machine_input_push(m, 'r'));
    assert_int_equal(cpu_run(&m->cpu, CHAR_TIME), RUN_LIMIT);
    assert_int_equal(t1.n, 4);
    assert_int_equal(t2.n, 3);
    assert_int_equal(t1.b[3].time, CHAR_TIME);
    struct taplog extra[MACHINE_MAX_TAPS];
    for (unsigned k = 0; k < MACHINE_MAX_TAPS - 1; k++)
        assert_int_equal(machine_add_tap(m, tap_fn, &extra[k]), 0);
    assert_int_equal(machine_add_tap(m, tap_fn, &extra[MACHINE_MAX_TAPS - 1]), -1);
    machine_destroy(m);
}

/* The fd adapter: a pipe's bytes, then its end. */
static void fd_adapter(void **state)
{
    (void)state;
    struct machine *m = make(reader, sizeof reader, NULL, NULL);
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    assert_int_equal(write(fds[1], "pipe", 4), 4);
    close(fds[1]);
    machine_set_input(m, fds[0]);
    assert_int_equal(cpu_run(&m->cpu, 10 * CHAR_TIME), RUN_LIMIT);
    assert_memory_equal(m->ram + BUF, "pipe", 4);
    assert_false(m->input.open); /* end of file closed the input at the fifth look */
    close(fds[0]);
    machine_destroy(m);
}

/* The fd adapter never waits for the host: a pipe whose writer stays open and silent leaves
 * the guest running (a blocking read would hang here); bytes written later arrive; the end
 * of the pipe closes the input. */
static void fd_adapter_never_waits(void **state)
{
    (void)state;
    struct machine *m = make(reader, sizeof reader, NULL, NULL);
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    machine_set_input(m, fds[0]);
    uint64_t t0 = cpu_time(&m->cpu);
    assert_int_equal(cpu_run(&m->cpu, 10 * CHAR_TIME), RUN_LIMIT);
    assert_true(cpu_time(&m->cpu) - t0 >= 10 * CHAR_TIME);
    assert_true(m->input.open);
    assert_int_equal(m->ram[BUF], 0);
    assert_int_equal(write(fds[1], "ab", 2), 2);
    assert_int_equal(cpu_run(&m->cpu, 10 * CHAR_TIME), RUN_LIMIT);
    assert_memory_equal(m->ram + BUF, "ab", 2);
    assert_true(m->input.open);
    close(fds[1]);
    assert_int_equal(cpu_run(&m->cpu, 10 * CHAR_TIME), RUN_LIMIT);
    assert_false(m->input.open);
    close(fds[0]);
    machine_destroy(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(paced_delivery),
        cmocka_unit_test(pace_follows_the_baud_rate),
        cmocka_unit_test(backpressure),
        cmocka_unit_test(refill_and_end_of_input),
        cmocka_unit_test(halted_guest_and_end_of_input),
        cmocka_unit_test(input_can_wake),
        cmocka_unit_test(timer_can_wake),
        cmocka_unit_test(taps),
        cmocka_unit_test(fd_adapter),
        cmocka_unit_test(fd_adapter_never_waits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
