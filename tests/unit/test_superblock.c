/* Superblocks (src/cpu/icache.h): a decoded block goes on past a conditional jump, and a Jcc
 * that is taken leaves the block for its target. Checked through the real cpu (cpu_run):
 *
 *   - a loop whose body has a Jcc in its middle, taken on every other pass: the registers and the
 *     instruction count after it are the ones worked out by hand (a taken Jcc that did not leave
 *     its block would run the fall-through as well);
 *   - an instruction limit that ends in the middle of a superblock stops exactly there, and the
 *     run goes on from there;
 *   - a fault after a not-taken Jcc in the same block is precise: it is reported at the faulting
 *     instruction, with the instructions before it (and only those) retired.
 *
 * The machine: 1 MiB of RAM, the flat protected mode a Multiboot loader leaves, CPL 0, no paging,
 * the code at CODE.
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

struct t {
    struct cpu c;
    struct bus bus;
    uint8_t *ram;
    unsigned exceptions;
    uint8_t vector;
    uint32_t fault_eip;
    uint64_t fault_icount;
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
        cpu_request_stop(&t->c);
    }
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

/* ECX = 10 down to 1; odd ECX is added to EAX, even ECX to EBX, chosen by a JZ in the middle of
 * the loop body. */
static const uint8_t odd_even[] = {
    0xB9, 0x0A, 0x00, 0x00, 0x00, /* 00 mov ecx, 10 */
    0x31, 0xC0,                   /* 05 xor eax, eax */
    0x31, 0xDB,                   /* 07 xor ebx, ebx */
    0xF6, 0xC1, 0x01,             /* 09 top: test cl, 1 */
    0x74, 0x04,                   /* 0C jz even (0x12) */
    0x01, 0xC8,                   /* 0E add eax, ecx */
    0xEB, 0x02,                   /* 10 jmp next (0x14) */
    0x01, 0xCB,                   /* 12 even: add ebx, ecx */
    0x49,                         /* 14 next: dec ecx */
    0x75, 0xF2,                   /* 15 jnz top (0x09) */
    0xF4,                         /* 17 hlt */
};

static void test_mid_block_jcc_taken_and_not(void **state)
{
    struct t *t = *state;
    struct cpu *c = &t->c;
    load(t, odd_even, sizeof odd_even);
    enum run_result r = cpu_run(c, 1000);
    assert_int_equal(r, RUN_HALT);
    assert_int_equal(t->exceptions, 0);
    assert_int_equal(c->r[EAX], 9 + 7 + 5 + 3 + 1);
    assert_int_equal(c->r[EBX], 10 + 8 + 6 + 4 + 2);
    assert_int_equal(c->r[ECX], 0);
    assert_int_equal(c->eip, CODE + 0x18);
    /* 3 before the loop; odd passes: test, jz (not taken), add, jmp, dec, jnz = 6; even passes:
     * test, jz (taken), add, dec, jnz = 5; then hlt: 3 + 5 * 6 + 5 * 5 + 1 */
    assert_int_equal(c->icount, 3 + 5 * 6 + 5 * 5 + 1);
}

static void test_limit_inside_superblock(void **state)
{
    struct t *t = *state;
    struct cpu *c = &t->c;
    load(t, odd_even, sizeof odd_even);
    /* mov, xor, xor, test, jz (ECX = 10 is even: taken), add ebx, dec: stop before jnz */
    assert_int_equal(cpu_run(c, 7), RUN_LIMIT);
    assert_int_equal(c->icount, 7);
    assert_int_equal(c->eip, CODE + 0x15);
    assert_int_equal(c->r[EBX], 10);
    assert_int_equal(c->r[EAX], 0);
    assert_int_equal(c->r[ECX], 9);
    /* jnz (taken), test, jz (ECX = 9: not taken), add eax: stop before jmp */
    assert_int_equal(cpu_run(c, 4), RUN_LIMIT);
    assert_int_equal(c->icount, 11);
    assert_int_equal(c->eip, CODE + 0x10);
    assert_int_equal(c->r[EAX], 9);
    assert_int_equal(cpu_run(c, 1000), RUN_HALT);
    assert_int_equal(c->r[EAX], 25);
    assert_int_equal(c->r[EBX], 30);
    assert_int_equal(c->icount, 59);
}

static void test_fault_after_not_taken_jcc(void **state)
{
    struct t *t = *state;
    struct cpu *c = &t->c;
    static const uint8_t code[] = {
        0x31, 0xC0, /* 00 xor eax, eax (ZF = 1) */
        0x75, 0x03, /* 02 jnz +3: not taken */
        0x43,       /* 04 inc ebx */
        0x0F, 0x0B, /* 05 ud2 */
        0x43,       /* 07 inc ebx */
        0xF4,       /* 08 hlt */
    };
    /* A GDT at 0x1000 (null, flat ring 0 code at 0x08) and an interrupt gate for #UD at IDT
     * entry 6 (the IDT is at 0) to a HLT at CODE + 0x100. */
    static const uint8_t gdt[16] = {0, 0, 0, 0, 0, 0, 0, 0,
                                    0xFF, 0xFF, 0x00, 0x00, 0x00, 0x9A, 0xCF, 0x00};
    memcpy(t->ram + 0x1000, gdt, sizeof gdt);
    c->gdtr.base = 0x1000;
    c->gdtr.limit = sizeof gdt - 1;
    uint32_t handler = CODE + 0x100;
    uint8_t gate[8] = {handler & 0xFF, (handler >> 8) & 0xFF, 0x08, 0x00, 0x00, 0x8E,
                       (handler >> 16) & 0xFF, handler >> 24};
    memcpy(t->ram + 6 * 8, gate, sizeof gate);
    t->ram[handler] = 0xF4;
    load(t, code, sizeof code);
    c->r[EBX] = 0;
    cpu_run(c, 1000);
    assert_int_equal(t->exceptions, 1);
    assert_int_equal(t->vector, 6); /* #UD */
    assert_int_equal(t->fault_eip, CODE + 5);
    assert_int_equal(t->fault_icount, 3); /* xor, jnz, inc retired; ud2 did not */
    assert_int_equal(c->r[EBX], 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_mid_block_jcc_taken_and_not, setup, teardown),
        cmocka_unit_test_setup_teardown(test_limit_inside_superblock, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fault_after_not_taken_jcc, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
