/* PUSHF (src/cpu/system.c): the flags it pushes after every kind of lazy operation (each
 * size, with and without a carry in, edge and random operands) are cpu_get_eflags' (the general
 * lf_compute) with VM and RF clear, whether the push goes through the host page (a 32-bit
 * PUSHF, flat stack, TLB hit) or the general way (the TLB cold, a 16-bit PUSHF); ESP moves by
 * the operand size and nothing else is written.
 *
 * The machine: 1 MiB of RAM, flat protected mode at CPL 0, paging off; "pushf; hlt" at CODE32
 * and "o16 pushf; hlt" at CODE16; the stack at STACK.
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
#include "devices/bus.h"
#include "mmu/mem.h"

#define RAM_SIZE (1u << 20)
#define CODE32 0x1000u
#define CODE16 0x1010u
#define STACK 0x8000u

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
    cpu_reset_protected_flat(&t->c, CODE32);
    static const uint8_t c32[] = {0x9C, 0xF4}, c16[] = {0x66, 0x9C, 0xF4};
    memcpy(t->ram + CODE32, c32, sizeof c32);
    memcpy(t->ram + CODE16, c16, sizeof c16);
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

static uint32_t get32(struct t *t, uint32_t pa)
{
    uint32_t v;
    memcpy(&v, t->ram + pa, 4);
    return v;
}

/* The lazy state of `op` on a and b (and carry in) as the handlers record it. */
static struct lazyflags lazy(enum lf_op op, unsigned size, uint32_t a, uint32_t b, unsigned cf)
{
    uint32_t m = size_mask(size), res;
    switch (op) {
    case LF_ADD: res = a + b + cf; break;
    case LF_SUB: res = a - b - cf; break;
    case LF_LOGIC: res = a & b; break;
    case LF_INC: res = a + 1; break;
    case LF_DEC: res = a - 1; break;
    case LF_SHL: b = 1 + b % (8 * size - 1); res = a << b; break;
    case LF_SHR: b = 1 + b % (8 * size - 1); res = (a & m) >> b; break;
    default: /* LF_SAR */
        b = 1 + b % (8 * size - 1);
        res = (uint32_t)((int32_t)((a & m) << (32 - 8 * size)) >> (32 - 8 * size)) >> b;
        break;
    }
    return (struct lazyflags){.res = res & m, .op1 = a & m, .op2 = b & m, .op = (uint8_t)op,
                              .size = (uint8_t)size, .cf_in = (uint8_t)cf};
}

/* Runs PUSHF (o16 when wide is false) with this lazy state and EFLAGS; checks what it pushed. */
static void check(struct t *t, const struct lazyflags *lf, uint32_t eflags, bool wide, bool cold)
{
    struct cpu *c = &t->c;
    c->lf = *lf;
    c->eflags = eflags;
    c->r[ESP] = STACK;
    c->eip = wide ? CODE32 : CODE16;
    c->halted = false;
    memset(t->ram + STACK - 8, 0xA5, 16);
    if (cold)
        tlb_flush_all(c);
    uint32_t want = cpu_get_eflags(c) & ~(FL_VM | FL_RF);
    assert_int_equal(cpu_run(c, 100), RUN_HALT);
    if (wide) {
        assert_int_equal(c->r[ESP], STACK - 4);
        assert_int_equal(get32(t, STACK - 4), want);
        assert_int_equal(get32(t, STACK - 8), 0xA5A5A5A5u);
    } else {
        assert_int_equal(c->r[ESP], STACK - 2);
        assert_int_equal(get32(t, STACK - 4), ((want & 0xFFFF) << 16) | 0xA5A5u);
    }
    assert_int_equal(get32(t, STACK), 0xA5A5A5A5u);
}

static void flags_after_every_lazy_operation(void **state)
{
    struct t *t = *state;
    static const uint32_t edges[] = {0, 1, 0x0F, 0x10, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000,
                                     0xFFFF, 0x7FFFFFFF, 0x80000000u, 0xFFFFFFFFu, 0x12345678u};
    const unsigned ne = sizeof edges / sizeof edges[0];
    uint32_t seed = 12345;
    unsigned n = 0;
    for (int op = LF_ADD; op <= LF_SAR; op++) {
        for (unsigned size = 1; size <= 4; size *= 2) {
            for (unsigned cf = 0; cf <= 1; cf++) {
                for (unsigned k = 0; k < ne * ne + 200; k++) {
                    uint32_t a, b;
                    if (k < ne * ne) {
                        a = edges[k / ne];
                        b = edges[k % ne];
                    } else {
                        seed = seed * 1103515245u + 12345u;
                        a = seed;
                        seed = seed * 1103515245u + 12345u;
                        b = seed;
                    }
                    struct lazyflags lf = lazy((enum lf_op)op, size, a, b, cf);
                    /* the other flags (IF, DF, TF stay; VM and RF must not be pushed) */
                    uint32_t other = (k & 1 ? FL_IF : 0) | (k & 2 ? FL_DF : 0) |
                                     (k & 4 ? FL_RF : 0) | (k & 8 ? FL_ARITH : 0);
                    check(t, &lf, other | FL_R1, true, k % 7 == 0);
                    if (k % 5 == 0)
                        check(t, &lf, other | FL_R1, false, false);
                    n++;
                }
            }
        }
    }
    /* No lazy state: EFLAGS as it is. */
    struct lazyflags none = {.op = LF_NONE};
    check(t, &none, FL_R1 | FL_CF | FL_ZF | FL_IF, true, false);
    check(t, &none, FL_R1 | FL_OF | FL_SF | FL_RF, true, true);
    assert_true(n > 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(flags_after_every_lazy_operation, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
