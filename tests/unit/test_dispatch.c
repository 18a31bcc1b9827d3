/* The dispatch loop's bookkeeping per block (src/cpu/exec.c run_block): in the middle of a
 * decoded block EIP and the instruction count are not stored per instruction, so everything that
 * reads them there must see them exact. Checked through the real cpu (cpu_run):
 *
 *   - a fault in the middle of a block is reported at the faulting instruction's EIP with the
 *     instructions before it (and only those) retired;
 *   - a taken Jcc in the middle of a superblock lands at its target, and a limit that ends right
 *     after it leaves EIP and the count there;
 *   - a device reached by an MMIO access or a port access (OUTS) in the middle of a block sees
 *     device time equal to the instructions retired before the accessing one, and EIP as the
 *     instruction sees it (the next instruction).
 *
 * The machine: 1 MiB of RAM, the flat protected mode a Multiboot loader leaves, CPL 0, no paging,
 * the code at CODE, a device at MMIO (beyond RAM) and at PORT.
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
#include "cpu/inspect.h"
#include "devices/bus.h"

#define RAM_SIZE (1u << 20)
#define CODE 0x8000u
#define MMIO 0x200000u
#define PORT 0x80u

struct t {
    struct cpu c;
    struct bus bus;
    uint8_t *ram;
    unsigned exceptions;
    uint8_t vector;
    uint32_t fault_eip;
    uint64_t fault_icount;
    unsigned accesses;
    uint64_t time[4];   /* device time at each device access */
    uint32_t eip[4];    /* EIP (inspect.h) at each device access */
    uint64_t insns[4];  /* cpu_stat_insns at each device access */
};

static void sink(void *ctx, const struct trace_event *e)
{
    struct t *t = ctx;
    if (e->kind == TR_EXCEPTION) {
        if (t->exceptions++ == 0) {
            t->vector = e->vector;
            t->fault_eip = e->before.eip;
            t->fault_icount = e->icount;
        }
    }
}

static void seen(struct t *t)
{
    if (t->accesses < 4) {
        t->time[t->accesses] = cpu_time(&t->c);
        t->eip[t->accesses] = cpu_get_reg(&t->c, REG_EIP);
        t->insns[t->accesses] = cpu_stat_insns(&t->c);
    }
    t->accesses++;
}

static uint32_t mmio_rd(void *dev, uint32_t offset, unsigned size)
{
    (void)offset;
    (void)size;
    seen(dev);
    return 100;
}

static void mmio_wr(void *dev, uint32_t offset, uint32_t value, unsigned size)
{
    (void)offset;
    (void)value;
    (void)size;
    seen(dev);
}

static void port_wr(void *dev, uint16_t port, uint32_t value, unsigned size)
{
    (void)port;
    (void)value;
    (void)size;
    seen(dev);
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
    if (bus_add_mmio(&t->bus, MMIO, 0x1000, mmio_rd, mmio_wr, t) ||
        bus_add_ports(&t->bus, PORT, PORT, NULL, port_wr, t))
        return -1;
    if (cpu_init(&t->c, t->ram, RAM_SIZE, &t->bus))
        return -1;
    cpu_reset_protected_flat(&t->c, CODE);
    cpu_add_sink(&t->c, sink, t);
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

static void load(struct t *t, const uint8_t *code, unsigned len)
{
    memcpy(t->ram + CODE, code, len);
    cpu_flush_decoded(&t->c);
    t->c.eip = CODE;
}

/* A GDT at 0x1000 (null, flat ring 0 code at 0x08) and an interrupt gate for `vector` (the IDT
 * is at 0) to a HLT at CODE + 0x100. */
static void gate_to_hlt(struct t *t, unsigned vector)
{
    static const uint8_t gdt[16] = {0, 0, 0, 0, 0, 0, 0, 0,
                                    0xFF, 0xFF, 0x00, 0x00, 0x00, 0x9A, 0xCF, 0x00};
    memcpy(t->ram + 0x1000, gdt, sizeof gdt);
    t->c.gdtr.base = 0x1000;
    t->c.gdtr.limit = sizeof gdt - 1;
    uint32_t handler = CODE + 0x100;
    uint8_t gate[8] = {handler & 0xFF, (handler >> 8) & 0xFF, 0x08, 0x00, 0x00, 0x8E,
                       (handler >> 16) & 0xFF, handler >> 24};
    memcpy(t->ram + vector * 8, gate, sizeof gate);
    t->ram[handler] = 0xF4;
}

static void test_fault_mid_block(void **state)
{
    struct t *t = *state;
    struct cpu *c = &t->c;
    static const uint8_t code[] = {
        0x31, 0xC9, /* 00 xor ecx, ecx */
        0x40,       /* 02 inc eax */
        0x40,       /* 03 inc eax */
        0xF7, 0xF1, /* 04 div ecx: #DE */
        0x40,       /* 06 inc eax */
        0xF4,       /* 07 hlt */
    };
    gate_to_hlt(t, 0);
    load(t, code, sizeof code);
    c->r[ESP] = 0x7000;
    assert_int_equal(cpu_run(c, 1000), RUN_HALT);
    assert_int_equal(t->exceptions, 1);
    assert_int_equal(t->vector, 0);
    assert_int_equal(t->fault_eip, CODE + 4);
    assert_int_equal(t->fault_icount, 3); /* xor, inc, inc; not div */
    assert_int_equal(c->r[EAX], 2);
    assert_int_equal(c->eip, CODE + 0x101); /* after the handler's HLT */
    assert_int_equal(c->icount, 4);
    /* the frame holds the faulting instruction's EIP */
    uint32_t esp = c->r[ESP];
    assert_int_equal(t->ram[esp] | t->ram[esp + 1] << 8 | t->ram[esp + 2] << 16 |
                         (uint32_t)t->ram[esp + 3] << 24, CODE + 4);
}

static void test_fault_mid_second_block(void **state)
{
    struct t *t = *state;
    struct cpu *c = &t->c;
    static const uint8_t code[] = {
        0x31, 0xC9, /* 00 xor ecx, ecx (ZF = 1) */
        0x74, 0x01, /* 02 jz +1 (0x05): taken */
        0x40,       /* 04 inc eax */
        0x41,       /* 05 inc ecx */
        0x31, 0xC9, /* 06 xor ecx, ecx */
        0xF7, 0xF1, /* 08 div ecx: #DE */
        0xF4,       /* 0A hlt */
    };
    gate_to_hlt(t, 0);
    load(t, code, sizeof code);
    c->r[ESP] = 0x7000;
    assert_int_equal(cpu_run(c, 1000), RUN_HALT);
    assert_int_equal(t->exceptions, 1);
    assert_int_equal(t->fault_eip, CODE + 8);
    assert_int_equal(t->fault_icount, 4); /* xor, jz, inc ecx, xor */
    assert_int_equal(c->r[EAX], 0);
}

static const uint8_t jump[] = {
    0x31, 0xC0, /* 00 xor eax, eax (ZF = 1) */
    0x74, 0x03, /* 02 jz +3 (0x07): taken */
    0x43,       /* 04 inc ebx */
    0x43,       /* 05 inc ebx */
    0x43,       /* 06 inc ebx */
    0x41,       /* 07 inc ecx */
    0xF4,       /* 08 hlt */
};

static void test_jcc_taken_mid_block(void **state)
{
    struct t *t = *state;
    struct cpu *c = &t->c;
    load(t, jump, sizeof jump);
    assert_int_equal(cpu_run(c, 1000), RUN_HALT);
    assert_int_equal(c->r[EBX], 0);
    assert_int_equal(c->r[ECX], 1);
    assert_int_equal(c->eip, CODE + 9);
    assert_int_equal(c->icount, 4); /* xor, jz, inc ecx, hlt */
}

static void test_limit_after_jcc(void **state)
{
    struct t *t = *state;
    struct cpu *c = &t->c;
    load(t, jump, sizeof jump);
    assert_int_equal(cpu_run(c, 2), RUN_LIMIT);
    assert_int_equal(c->eip, CODE + 7);
    assert_int_equal(c->icount, 2);
    assert_int_equal(cpu_stat_insns(c), 2);
    assert_int_equal(cpu_run(c, 1), RUN_LIMIT);
    assert_int_equal(c->eip, CODE + 8);
    assert_int_equal(c->r[ECX], 1);
    assert_int_equal(c->icount, 3);
}

static void test_mmio_time_mid_block(void **state)
{
    struct t *t = *state;
    struct cpu *c = &t->c;
    static const uint8_t code[] = {
        0x40,                         /* 00 inc eax */
        0x40,                         /* 01 inc eax */
        0xA3, 0x00, 0x00, 0x20, 0x00, /* 02 mov [MMIO], eax */
        0x40,                         /* 07 inc eax */
        0xA1, 0x00, 0x00, 0x20, 0x00, /* 08 mov eax, [MMIO] */
        0x40,                         /* 0D inc eax */
        0xF4,                         /* 0E hlt */
    };
    load(t, code, sizeof code);
    assert_int_equal(cpu_run(c, 1000), RUN_HALT);
    assert_int_equal(t->accesses, 2);
    assert_int_equal(t->time[0], 2);
    assert_int_equal(t->insns[0], 2);
    assert_int_equal(t->eip[0], CODE + 7);
    assert_int_equal(t->time[1], 4);
    assert_int_equal(t->insns[1], 4);
    assert_int_equal(t->eip[1], CODE + 0xD);
    assert_int_equal(c->r[EAX], 101);
    assert_int_equal(c->icount, 7);
    assert_int_equal(c->eip, CODE + 0xF);
}

static void test_port_time_mid_block(void **state)
{
    struct t *t = *state;
    struct cpu *c = &t->c;
    static const uint8_t code[] = {
        0xBA, PORT, 0x00, 0x00, 0x00, /* 00 mov edx, PORT */
        0xBE, 0x00, 0x90, 0x00, 0x00, /* 05 mov esi, 0x9000 */
        0x40,                         /* 0A inc eax */
        0x6E,                         /* 0B outsb */
        0x40,                         /* 0C inc eax */
        0x6E,                         /* 0D outsb */
        0xF4,                         /* 0E hlt */
    };
    load(t, code, sizeof code);
    assert_int_equal(cpu_run(c, 1000), RUN_HALT);
    assert_int_equal(t->accesses, 2);
    assert_int_equal(t->time[0], 3);
    assert_int_equal(t->eip[0], CODE + 0xC);
    assert_int_equal(t->time[1], 5);
    assert_int_equal(t->eip[1], CODE + 0xE);
    assert_int_equal(c->r[ESI], 0x9002);
    assert_int_equal(c->icount, 7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fault_mid_block, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fault_mid_second_block, setup, teardown),
        cmocka_unit_test_setup_teardown(test_jcc_taken_mid_block, setup, teardown),
        cmocka_unit_test_setup_teardown(test_limit_after_jcc, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mmio_time_mid_block, setup, teardown),
        cmocka_unit_test_setup_teardown(test_port_time_mid_block, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
