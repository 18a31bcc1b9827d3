/* An MMIO read in the middle of a decoded block (src/mmu/mem.c mmio_read) goes back to the
 * dispatch loop's checks between instructions only when the device changed what they look at;
 * whatever it changed must then be seen right after the reading instruction:
 *
 *   - a read that raises INTR (IF = 1): the interrupt is delivered after the read, before the
 *     next instruction (EAX as the read left it, the return EIP the next instruction's);
 *   - a read that moves the next device event to now: the event runs after the read, at
 *     device time = the instructions retired by then;
 *   - a read that changes nothing: the block goes on, EIP and the count exact at the device
 *     and at the end.
 *
 * The machine: 1 MiB of RAM, flat protected mode, CPL 0, no paging, code at CODE, a device at
 * MMIO (beyond RAM), an interrupt gate for VECTOR to a HLT.
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
#include "devices/bus.h"

#define RAM_SIZE (1u << 20)
#define CODE 0x8000u
#define HANDLER (CODE + 0x100u)
#define MMIO 0x200000u
#define VECTOR 0x30u

enum action { NOTHING, RAISE_INTR, EVENT_NOW };

struct t {
    struct cpu c;
    struct bus bus;
    uint8_t *ram;
    enum action action;
    unsigned reads, acks, events;
    uint64_t event_time;
    uint32_t event_eax;
    /* what the device saw at the read: the count and EIPs, as stored (settled) */
    uint64_t read_icount;
    uint32_t read_eip, read_insn_eip;
    bool read_cur;
};

static uint32_t mmio_rd(void *dev, uint32_t offset, unsigned size)
{
    struct t *t = dev;
    (void)offset;
    (void)size;
    t->reads++;
    t->read_icount = t->c.icount;
    t->read_eip = t->c.eip;
    t->read_insn_eip = t->c.insn_eip;
    t->read_cur = t->c.cur != NULL;
    if (t->action == RAISE_INTR)
        cpu_set_intr(&t->c, true);
    else if (t->action == EVENT_NOW)
        t->c.next_event = cpu_time(&t->c);
    return 100;
}

static int ack(void *ctx)
{
    struct t *t = ctx;
    t->acks++;
    cpu_set_intr(&t->c, false);
    return VECTOR;
}

static void on_event(void *ctx)
{
    struct t *t = ctx;
    t->events++;
    t->event_time = cpu_time(&t->c);
    t->event_eax = t->c.r[EAX];
    t->c.next_event = UINT64_MAX;
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
    if (bus_add_mmio(&t->bus, MMIO, 0x1000, mmio_rd, NULL, t))
        return -1;
    if (cpu_init(&t->c, t->ram, RAM_SIZE, &t->bus))
        return -1;
    cpu_reset_protected_flat(&t->c, CODE);
    t->c.intc = (struct intc){.ack = ack, .ctx = t};
    t->c.on_event = on_event;
    t->c.event_ctx = t;
    /* A GDT at 0x1000 (null, flat ring 0 code at 0x08), the IDT at 0 with a gate for VECTOR to
     * a HLT at HANDLER, the stack at 0x9000. */
    static const uint8_t gdt[16] = {0, 0, 0, 0, 0, 0, 0, 0,
                                    0xFF, 0xFF, 0x00, 0x00, 0x00, 0x9A, 0xCF, 0x00};
    memcpy(t->ram + 0x1000, gdt, sizeof gdt);
    t->c.gdtr.base = 0x1000;
    t->c.gdtr.limit = sizeof gdt - 1;
    t->c.idtr.base = 0;
    t->c.idtr.limit = 0x7FF;
    const uint32_t h = HANDLER;
    const uint8_t gate[8] = {h & 0xFF, (h >> 8) & 0xFF, 0x08, 0x00, 0x00, 0x8E,
                             (h >> 16) & 0xFF, h >> 24};
    memcpy(t->ram + VECTOR * 8, gate, sizeof gate);
    t->ram[HANDLER] = 0xF4;
    t->c.r[ESP] = 0x9000;
    static const uint8_t code[] = {
        0x40,                         /* 00 inc eax */
        0x40,                         /* 01 inc eax */
        0xA1, 0x00, 0x00, 0x20, 0x00, /* 02 mov eax, [MMIO] */
        0x40,                         /* 07 inc eax */
        0x40,                         /* 08 inc eax */
        0x40,                         /* 09 inc eax */
        0xEB, 0x10,                   /* 0A jmp 0x1C (not HLT: a block ending in an
                                         instruction that may change mode goes back to the
                                         dispatch loop anyway) */
    };
    memcpy(t->ram + CODE, code, sizeof code);
    t->ram[CODE + 0x1C] = 0xF4; /* hlt */
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

/* Runs the code from CODE twice (the second time decoded and linked already). */
static void run_twice(struct t *t, enum action action, void (*check)(struct t *))
{
    for (int k = 0; k < 2; k++) {
        struct cpu *c = &t->c;
        t->action = action;
        t->reads = t->acks = t->events = 0;
        c->eip = CODE;
        c->r[EAX] = 0;
        c->r[ESP] = 0x9000;
        c->eflags |= FL_IF;
        c->halted = false;
        c->icount = c->idle = c->stall = 0;
        c->next_event = UINT64_MAX;
        assert_int_equal(cpu_run(c, 1000), RUN_HALT);
        check(t);
    }
}

static void check_intr(struct t *t)
{
    struct cpu *c = &t->c;
    assert_int_equal(t->reads, 1);
    assert_int_equal(t->acks, 1);
    assert_int_equal(c->r[EAX], 100); /* no INC after the read ran */
    uint32_t ret;
    memcpy(&ret, t->ram + c->r[ESP], 4);
    assert_int_equal(ret, CODE + 7); /* the interrupted instruction: the one after the read */
    assert_int_equal(c->eip, HANDLER + 1);
}

static void check_event(struct t *t)
{
    struct cpu *c = &t->c;
    assert_int_equal(t->reads, 1);
    assert_int_equal(t->events, 1);
    assert_int_equal(t->event_time, 3); /* inc, inc, the read */
    assert_int_equal(t->event_eax, 100);
    assert_int_equal(c->r[EAX], 103);
}

static void check_nothing(struct t *t)
{
    struct cpu *c = &t->c;
    assert_int_equal(t->reads, 1);
    assert_int_equal(t->acks, 0);
    assert_int_equal(t->events, 0);
    assert_int_equal(c->r[EAX], 103);
    assert_int_equal(c->eip, CODE + 0x1D);
    /* the device saw the state exact, though the block goes on after the read */
    assert_false(t->read_cur);
    assert_int_equal(t->read_icount, 2);
    assert_int_equal(t->read_insn_eip, CODE + 2);
    assert_int_equal(t->read_eip, CODE + 7);
    assert_int_equal(c->icount, 8); /* inc, inc, the read, inc x3, jmp, hlt */
}

static void read_raising_intr(void **state) { run_twice(*state, RAISE_INTR, check_intr); }
static void read_moving_the_next_event(void **state) { run_twice(*state, EVENT_NOW, check_event); }
static void read_changing_nothing(void **state) { run_twice(*state, NOTHING, check_nothing); }

/* A read changing nothing, then every budget cut: the run stops at the count asked for, with
 * EIP that of the instruction after the last one run (the block went on after the read). */
static void read_changing_nothing_cut(void **state)
{
    struct t *t = *state;
    static const uint32_t eip_after[] = {CODE, CODE + 1, CODE + 2, CODE + 7, CODE + 8,
                                         CODE + 9, CODE + 0xA, CODE + 0x1C};
    for (uint64_t n = 1; n < sizeof eip_after / sizeof eip_after[0]; n++)
        for (int k = 0; k < 2; k++) {
            struct cpu *c = &t->c;
            t->action = NOTHING;
            c->eip = CODE;
            c->r[EAX] = 0;
            c->halted = false;
            c->icount = c->idle = c->stall = 0;
            c->next_event = UINT64_MAX;
            assert_int_equal(cpu_run(c, n), RUN_LIMIT);
            assert_int_equal(c->icount, n);
            assert_int_equal(c->eip, eip_after[n]);
            assert_int_equal(c->r[EAX], n <= 2 ? n : 100 + (n >= 4 ? (n > 6 ? 3 : n - 3) : 0));
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(read_raising_intr, setup, teardown),
        cmocka_unit_test_setup_teardown(read_moving_the_next_event, setup, teardown),
        cmocka_unit_test_setup_teardown(read_changing_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(read_changing_nothing_cut, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
