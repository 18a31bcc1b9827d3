/* SALC (opcode D6) through the real cpu: AL = CF ? 0xFF : 0x00, the rest of EAX and every flag
 * unchanged. Every IA-32 cpu executes it outside 64-bit mode (the differential test cannot
 * check it on a host that runs no i386 code, so this one does).
 *
 * The code runs at CPL 0 with the flat segments a Multiboot loader leaves, from 0x1000; the
 * stack is at 0x8000. The IDT is empty, so an exception (the #UD SALC used to raise) ends the
 * run in a triple fault, and the test fails.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cpu/cpu.h"
#include "devices/bus.h"

#define RAM_SIZE (1u << 20)
#define CODE 0x1000u
#define STACK_TOP 0x8000u

struct rig {
    struct cpu c;
    struct bus bus;
    uint8_t *ram;
    unsigned exceptions;
};

static void on_event(void *ctx, const struct trace_event *ev)
{
    struct rig *r = ctx;
    if (ev->kind == TR_EXCEPTION) {
        r->exceptions++;
        cpu_request_stop(&r->c);
    }
}

/* Runs `code` (n instructions) from CODE with EAX = eax; returns EAX. */
static uint32_t run(const uint8_t *code, size_t len, unsigned n, uint32_t eax, uint32_t *ebx)
{
    struct rig *r = calloc(1, sizeof *r);
    assert_non_null(r);
    r->ram = calloc(1, RAM_SIZE);
    assert_non_null(r->ram);
    bus_init(&r->bus);
    assert_int_equal(cpu_init(&r->c, r->ram, RAM_SIZE, &r->bus), 0);
    cpu_add_sink(&r->c, on_event, r);
    cpu_reset_protected_flat(&r->c, CODE);
    memcpy(r->ram + CODE, code, len);
    r->c.r[EAX] = eax;
    r->c.r[ESP] = STACK_TOP;
    enum run_result res = cpu_run(&r->c, n);
    assert_int_equal(r->exceptions, 0);
    assert_int_equal(res, RUN_LIMIT);
    assert_int_equal(r->c.eip, CODE + len);
    uint32_t out = r->c.r[EAX];
    if (ebx)
        *ebx = r->c.r[EBX];
    cpu_free(&r->c);
    free(r->ram);
    free(r);
    return out;
}

static void salc_with_cf_set(void **state)
{
    (void)state;
    const uint8_t code[] = {0xF9, 0xD6}; /* stc; salc */
    assert_int_equal(run(code, sizeof code, 2, 0x41D71234, NULL), 0x41D712FF);
}

static void salc_with_cf_clear(void **state)
{
    (void)state;
    const uint8_t code[] = {0xF8, 0xD6}; /* clc; salc */
    assert_int_equal(run(code, sizeof code, 2, 0x41D712AB, NULL), 0x41D71200);
}

/* CF from lazy flags: cmp al, 0x80 with AL < 0x80 borrows; with AL = 0xFF it does not. */
static void salc_reads_lazy_cf(void **state)
{
    (void)state;
    const uint8_t code[] = {0x3C, 0x80, 0xD6}; /* cmp al, 0x80; salc */
    assert_int_equal(run(code, sizeof code, 2, 0x41D70010, NULL), 0x41D700FF);
    assert_int_equal(run(code, sizeof code, 2, 0x41D700FF, NULL), 0x41D70000);
}

/* The flags are the same before and after: pushfd; salc; pushfd; pop ebx; pop ecx; xor ebx, ecx
 * leaves EBX = 0. Both CF values, with the other arithmetic flags in a mix. */
static void salc_leaves_flags(void **state)
{
    (void)state;
    const uint8_t code[] = {0x3C, 0x80,       /* cmp al, 0x80 */
                            0x9C, 0xD6, 0x9C, /* pushfd; salc; pushfd */
                            0x5B, 0x59, 0x31, 0xCB}; /* pop ebx; pop ecx; xor ebx, ecx */
    uint32_t ebx;
    run(code, sizeof code, 7, 0x10, &ebx);
    assert_int_equal(ebx, 0);
    run(code, sizeof code, 7, 0xFF, &ebx);
    assert_int_equal(ebx, 0);
}

/* The sequence an outside test suite runs: EAX = 0x41D7xxxx, SALC with CF = 1 (AL = 0xFF)
 * moved to AH, then SALC with CF = 0: EAX = 0x41D7FF00. */
static void salc_suite_sequence(void **state)
{
    (void)state;
    const uint8_t code[] = {0xF9, 0xD6, 0x88, 0xC4, /* stc; salc; mov ah, al */
                            0xF8, 0xD6};            /* clc; salc */
    assert_int_equal(run(code, sizeof code, 5, 0x41D75A5A, NULL), 0x41D7FF00);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(salc_with_cf_set),
        cmocka_unit_test(salc_with_cf_clear),
        cmocka_unit_test(salc_reads_lazy_cf),
        cmocka_unit_test(salc_leaves_flags),
        cmocka_unit_test(salc_suite_sequence),
    };
    return cmocka_run_group_tests_name("salc", tests, NULL, NULL);
}
