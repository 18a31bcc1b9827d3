/* Block links whose EIPs share a link slot (src/cpu/icache.c icache_next_slow): a block with
 * two successors in the same slot keeps the second in another slot, where the slow path finds
 * it under the same test as the fast one (same EIP, map epoch, CPL, and the successor's page
 * not written since it was decoded).
 *
 * The code: an inner loop whose block (at INNER) goes back to itself (a taken JNZ) or on to a
 * CALL of Y, where link_slot(Y) == link_slot(INNER); an outer loop around it, three times. Y
 * returns an immediate in EAX, summed into EBX. In the second case the outer loop also
 * increments Y's immediate (a store into decoded code): a link to Y kept across that store would
 * run the old code and the sum would come out short.
 *
 * A block that faults is also linked, to its handler's block (src/cpu/exec.c keeps
 * cpu.last_block across a fault): a loop divides by zero three times, the #DE handler adds an
 * immediate to EBX and returns past the DIV; in the second case the loop increments that
 * immediate between faults, and the link must give way to the rewritten handler.
 *
 * The machine: 1 MiB of RAM, flat protected mode at CPL 0, paging off.
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
#include "cpu/icache.h"
#include "devices/bus.h"

#define RAM_SIZE (1u << 20)
#define CODE 0x4000u
#define INNER 0x400Au
#define Y 0x6003u

struct t {
    struct cpu c;
    struct bus bus;
    uint8_t *ram;
};

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

/* Runs the loops; `modify`: the outer loop increments Y's immediate after each call. */
static uint32_t run(struct t *t, bool modify)
{
    static const uint8_t code[] = {
        0xBA, 0x03, 0x00, 0x00, 0x00,       /* 4000 mov edx, 3 */
        0xB9, 0x03, 0x00, 0x00, 0x00,       /* 4005 outer: mov ecx, 3 */
        0x49,                               /* 400A inner: dec ecx */
        0x75, 0xFD,                         /* 400B jnz inner */
        0xE8, 0xF1, 0x1F, 0x00, 0x00,       /* 400D call Y (0x6003) */
        0x01, 0xC3,                         /* 4012 add ebx, eax */
        0xFE, 0x05, 0x04, 0x60, 0x00, 0x00, /* 4014 inc byte [Y + 1] */
        0x4A,                               /* 401A dec edx */
        0x75, 0xE8,                         /* 401B jnz outer */
        0xF4,                               /* 401D hlt */
    };
    static const uint8_t y[] = {0xB8, 0x10, 0x00, 0x00, 0x00, 0xC3}; /* mov eax, 0x10; ret */
    assert_int_equal(link_slot(Y), link_slot(INNER));
    memcpy(t->ram + CODE, code, sizeof code);
    if (!modify)
        memset(t->ram + 0x4014, 0x90, 6); /* nop the increment */
    memcpy(t->ram + Y, y, sizeof y);
    cpu_reset_protected_flat(&t->c, CODE);
    cpu_flush_decoded(&t->c);
    t->c.r[EBX] = 0;
    t->c.r[ESP] = 0x8000;
    assert_int_equal(cpu_run(&t->c, 1000), RUN_HALT);
    return t->c.r[EBX];
}

static void test_collision_linked(void **state)
{
    struct t *t = *state;
    assert_int_equal(run(t, false), 3 * 0x10);
}

static void test_collision_code_written(void **state)
{
    struct t *t = *state;
    assert_int_equal(run(t, true), 0x10 + 0x11 + 0x12);
}

static void put32(struct t *t, uint32_t pa, uint32_t v) { memcpy(t->ram + pa, &v, 4); }

/* Three #DE from one block, the handler at 0x6000; `modify`: the loop increments the handler's
 * immediate after each fault. */
static uint32_t run_faults(struct t *t, bool modify)
{
    static const uint8_t code[] = {
        0xBD, 0x03, 0x00, 0x00, 0x00,       /* 4000 mov ebp, 3 */
        0x31, 0xC9,                         /* 4005 xor ecx, ecx */
        0x31, 0xD2,                         /* 4007 top: xor edx, edx */
        0xB8, 0x01, 0x00, 0x00, 0x00,       /* 4009 mov eax, 1 */
        0xF7, 0xF1,                         /* 400E div ecx: #DE */
        0xFE, 0x05, 0x06, 0x60, 0x00, 0x00, /* 4010 inc byte [0x6006] */
        0x4D,                               /* 4016 dec ebp */
        0x75, 0xEE,                         /* 4017 jnz top */
        0xF4,                               /* 4019 hlt */
    };
    static const uint8_t handler[] = {
        0x83, 0x04, 0x24, 0x02,             /* 6000 add dword [esp], 2 (past the DIV) */
        0x81, 0xC3, 0x10, 0x00, 0x00, 0x00, /* 6004 add ebx, 0x10 */
        0xCF,                               /* 600A iret */
    };
    memcpy(t->ram + CODE, code, sizeof code);
    if (!modify)
        memset(t->ram + 0x4010, 0x90, 6); /* nop the increment */
    memcpy(t->ram + 0x6000, handler, sizeof handler);
    put32(t, 0x1008, 0x0000FFFF); /* GDT: 0x08 flat ring-0 code, 0x10 flat data */
    put32(t, 0x100C, 0x00CF9B00);
    put32(t, 0x1010, 0x0000FFFF);
    put32(t, 0x1014, 0x00CF9300);
    put32(t, 0x2000, 0x00086000); /* IDT[0]: interrupt gate to 0x08:0x6000 */
    put32(t, 0x2004, 0x00008E00);
    cpu_reset_protected_flat(&t->c, CODE);
    cpu_flush_decoded(&t->c);
    t->c.gdtr.base = 0x1000;
    t->c.gdtr.limit = 23;
    t->c.idtr.base = 0x2000;
    t->c.idtr.limit = 7;
    t->c.r[EBX] = 0;
    t->c.r[ESP] = 0x8000;
    assert_int_equal(cpu_run(&t->c, 1000), RUN_HALT);
    assert_int_equal(t->c.r[ESP], 0x8000);
    return t->c.r[EBX];
}

static void test_fault_linked(void **state)
{
    struct t *t = *state;
    assert_int_equal(run_faults(t, false), 3 * 0x10);
}

static void test_fault_handler_written(void **state)
{
    struct t *t = *state;
    assert_int_equal(run_faults(t, true), 0x10 + 0x11 + 0x12);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_collision_linked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_collision_code_written, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fault_linked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fault_handler_written, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
