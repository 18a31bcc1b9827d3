/* The dispatch loop's fast paths for conditional jumps (src/cpu/exec.c run_block, control.c,
 * icache.c): a Jcc taken back to the start of its own block runs the block again without leaving
 * it (STOP_LOOP), and a flag-setting instruction fused with the Jcc after it decides the branch
 * in one handler. Neither may change anything the guest or a listener sees.
 *
 * Each program runs three ways and the results must be equal:
 *   - the reference: under an instruction hook, which runs every instruction on its own with EIP
 *     and the count exact (no fast path can run there);
 *   - for every budget k, cpu_run(k) on a fresh machine, without a hook, against the reference
 *     run for k: the budget then ends at every instruction boundary, between a flag-setting
 *     instruction and its Jcc and in the middle of a loop of one block;
 *   - without a hook, in slices of k, to the end, against the reference's end.
 * Compared: the eight registers, EFLAGS, EIP, the instruction count, and the exceptions taken
 * (vector, EIP and count of the first). Programs with a fault at a chosen iteration, a loop that
 * rewrites its own code, a 16-bit Jcc and every condition code are among them.
 *
 * The machine: 1 MiB of RAM, the flat protected mode a Multiboot loader leaves, CPL 0, no paging,
 * the code at CODE, every exception vector to a HLT at CODE + 0x100.
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
#include "cpu/event.h"
#include "cpu/inspect.h"
#include "devices/bus.h"

#define RAM_SIZE (1u << 20)
#define CODE 0x8000u
#define HANDLER (CODE + 0x100u)
#define MAX_INSNS 4000u

struct t {
    struct cpu c;
    struct bus bus;
    uint8_t *ram;
    unsigned exceptions;
    uint8_t vector;
    uint32_t fault_eip;
    uint64_t fault_icount;
};

struct state {
    uint32_t r[8];
    uint32_t eflags, eip;
    uint64_t icount;
    unsigned exceptions;
    uint8_t vector;
    uint32_t fault_eip;
    uint64_t fault_icount;
    int result;
};

static void sink(void *ctx, const struct trace_event *e)
{
    struct t *t = ctx;
    if (e->kind == TR_EXCEPTION && t->exceptions++ == 0) {
        t->vector = e->vector;
        t->fault_eip = e->before.eip;
        t->fault_icount = e->icount;
    }
}

static void hook(void *ctx, struct cpu *c, uint32_t lin_eip)
{
    (void)ctx;
    (void)c;
    (void)lin_eip;
}

/* A fresh machine with the program at CODE, ESP at 0x7000, and every vector of 0..31 through an
 * interrupt gate to a HLT at HANDLER (the GDT at 0x1000: null, flat ring 0 code at 0x08). */
static struct t *machine(const uint8_t *code, unsigned len, bool hooked)
{
    struct t *t = calloc(1, sizeof *t);
    assert_non_null(t);
    t->ram = calloc(RAM_SIZE, 1);
    assert_non_null(t->ram);
    bus_init(&t->bus);
    assert_int_equal(cpu_init(&t->c, t->ram, RAM_SIZE, &t->bus), 0);
    cpu_reset_protected_flat(&t->c, CODE);
    cpu_add_sink(&t->c, sink, t);
    if (hooked)
        assert_true(cpu_add_insn_hook(&t->c, hook, t) >= 0);
    static const uint8_t gdt[16] = {0, 0, 0, 0, 0, 0, 0, 0,
                                    0xFF, 0xFF, 0x00, 0x00, 0x00, 0x9A, 0xCF, 0x00};
    memcpy(t->ram + 0x1000, gdt, sizeof gdt);
    t->c.gdtr.base = 0x1000;
    t->c.gdtr.limit = sizeof gdt - 1;
    for (unsigned v = 0; v < 32; v++) {
        uint8_t gate[8] = {HANDLER & 0xFF, (HANDLER >> 8) & 0xFF, 0x08, 0x00, 0x00, 0x8E,
                           (HANDLER >> 16) & 0xFF, HANDLER >> 24};
        memcpy(t->ram + v * 8, gate, sizeof gate);
    }
    t->ram[HANDLER] = 0xF4;
    memcpy(t->ram + CODE, code, len);
    cpu_flush_decoded(&t->c);
    t->c.eip = CODE;
    t->c.r[ESP] = 0x7000;
    return t;
}

static void done(struct t *t)
{
    cpu_free(&t->c);
    free(t->ram);
    free(t);
}

static struct state state_of(struct t *t, int result)
{
    struct state s;
    memset(&s, 0, sizeof s);
    for (unsigned r = 0; r < 8; r++)
        s.r[r] = t->c.r[r];
    s.eflags = cpu_get_reg(&t->c, REG_EFLAGS);
    s.eip = t->c.eip;
    s.icount = t->c.icount;
    s.exceptions = t->exceptions;
    s.vector = t->vector;
    s.fault_eip = t->fault_eip;
    s.fault_icount = t->fault_icount;
    s.result = result;
    return s;
}

static void same(const struct state *a, const struct state *b, const char *what, unsigned k)
{
    if (memcmp(a, b, sizeof *a) == 0)
        return;
    print_error("%s, budget %u: differs from the reference\n", what, k);
    for (unsigned r = 0; r < 8; r++)
        print_error("  r%u %08x %08x\n", r, a->r[r], b->r[r]);
    print_error("  eflags %08x %08x eip %08x %08x icount %llu %llu result %d %d\n", a->eflags,
                b->eflags, a->eip, b->eip, (unsigned long long)a->icount,
                (unsigned long long)b->icount, a->result, b->result);
    print_error("  exceptions %u %u (vector %u %u at %08x %08x, count %llu %llu)\n",
                a->exceptions, b->exceptions, a->vector, b->vector, a->fault_eip, b->fault_eip,
                (unsigned long long)a->fault_icount, (unsigned long long)b->fault_icount);
    fail();
}

/* Runs the program with a budget of k (under the hook or not) and returns the state. */
static struct state run_k(const uint8_t *code, unsigned len, bool hooked, unsigned k)
{
    struct t *t = machine(code, len, hooked);
    int r = cpu_run(&t->c, k);
    struct state s = state_of(t, r);
    done(t);
    return s;
}

static void check(const uint8_t *code, unsigned len, const char *what)
{
    struct state ref = run_k(code, len, true, MAX_INSNS);
    assert_int_equal(ref.result, RUN_HALT); /* every program ends in a HLT */
    unsigned total = (unsigned)ref.icount;
    for (unsigned k = 1; k <= total + 1; k++) {
        struct state want = run_k(code, len, true, k);
        struct state got = run_k(code, len, false, k);
        same(&want, &got, what, k);
        /* in slices of k to the end */
        struct t *t = machine(code, len, false);
        int r = RUN_LIMIT;
        for (unsigned n = 0; r == RUN_LIMIT && n <= total + 1; n++)
            r = cpu_run(&t->c, k);
        struct state sliced = state_of(t, r);
        done(t);
        same(&ref, &sliced, what, k);
    }
    struct state whole = run_k(code, len, false, MAX_INSNS);
    same(&ref, &whole, what, 0);
}

#define CHECK(code) check(code, sizeof code, #code)

/* A loop of one block: dec, jnz back to the block's start. */
static const uint8_t loop_dec[] = {
    0xB9, 0x05, 0x00, 0x00, 0x00, /* 00 mov ecx, 5 */
    0x31, 0xC0,                   /* 05 xor eax, eax */
    0x01, 0xC8,                   /* 07 add eax, ecx (the loop's block starts here) */
    0x49,                         /* 09 dec ecx */
    0x75, 0xFB,                   /* 0A jnz 07 */
    0x43,                         /* 0C inc ebx */
    0xF4,                         /* 0D hlt */
};

/* A loop of one block with a #DE in its fourth pass. */
static const uint8_t loop_fault[] = {
    0xB9, 0x03, 0x00, 0x00, 0x00, /* 00 mov ecx, 3 */
    0xBE, 0x0A, 0x00, 0x00, 0x00, /* 05 mov esi, 10 */
    0xB8, 0x64, 0x00, 0x00, 0x00, /* 0A mov eax, 100 */
    0x31, 0xD2,                   /* 0F xor edx, edx */
    0xF7, 0xF1,                   /* 11 div ecx: #DE when ecx = 0 */
    0x01, 0xC7,                   /* 13 add edi, eax */
    0x49,                         /* 15 dec ecx */
    0x4E,                         /* 16 dec esi */
    0x75, 0xF1,                   /* 17 jnz 0A */
    0xF4,                         /* 19 hlt */
};

/* A loop of one block that rewrites the immediate of its own ADD: 1 + 2 + 3. */
static const uint8_t loop_smc[] = {
    0xB9, 0x03, 0x00, 0x00, 0x00, /* 00 mov ecx, 3 */
    0xBB, 0x0D, 0x80, 0x00, 0x00, /* 05 mov ebx, CODE + 0x0D (the ADD's immediate) */
    0x31, 0xC0,                   /* 0A xor eax, eax */
    0x05, 0x01, 0x00, 0x00, 0x00, /* 0C add eax, 1 */
    0xFF, 0x03,                   /* 11 inc dword [ebx] */
    0x49,                         /* 13 dec ecx */
    0x75, 0xF6,                   /* 14 jnz 0C */
    0xF4,                         /* 16 hlt */
};

/* Nested loops: the inner one of one block, the outer one back over it; a 16-bit Jcc (66 75,
 * its target masked to 16 bits: not a loop of one block). */
static const uint8_t loop_nested[] = {
    0xBE, 0x03, 0x00, 0x00, 0x00, /* 00 mov esi, 3 */
    0xB9, 0x04, 0x00, 0x00, 0x00, /* 05 mov ecx, 4 (outer) */
    0x01, 0xCF,                   /* 0A add edi, ecx (inner) */
    0xD1, 0xC7,                   /* 0C rol edi, 1 */
    0x83, 0xE9, 0x01,             /* 0E sub ecx, 1 */
    0x7F, 0xF7,                   /* 11 jg 0A */
    0x4E,                         /* 13 dec esi */
    0x75, 0xEF,                   /* 14 jnz 05 */
    0x85, 0xF6,                   /* 16 test esi, esi */
    0x66, 0x75, 0x02,             /* 18 jnz (16-bit) +2: not taken */
    0x89, 0xF8,                   /* 1B mov eax, edi */
    0xF4,                         /* 1D hlt */
};

static void test_loop_dec(void **state)
{
    (void)state;
    CHECK(loop_dec);
}

static void test_loop_fault(void **state)
{
    (void)state;
    CHECK(loop_fault);
    struct state s = run_k(loop_fault, sizeof loop_fault, false, MAX_INSNS);
    assert_int_equal(s.exceptions, 1);
    assert_int_equal(s.vector, 0);
    assert_int_equal(s.fault_eip, CODE + 0x11);
    assert_int_equal(s.fault_icount, 2 + 3 * 7 + 2); /* the two MOVs, 3 passes, MOV, XOR */
}

static void test_loop_smc(void **state)
{
    (void)state;
    CHECK(loop_smc);
    struct state s = run_k(loop_smc, sizeof loop_smc, false, MAX_INSNS);
    assert_int_equal(s.r[EAX], 6);
}

static void test_loop_nested(void **state)
{
    (void)state;
    CHECK(loop_nested);
}

/* The number of instructions the fast loop path retires is exact: a loop of 1000 passes, cut by
 * budgets that end in the middle of a pass. */
static void test_loop_count(void **state)
{
    (void)state;
    static const uint8_t code[] = {
        0xB9, 0xE8, 0x03, 0x00, 0x00, /* 00 mov ecx, 1000 */
        0x40,                         /* 05 inc eax */
        0x43,                         /* 06 inc ebx */
        0x49,                         /* 07 dec ecx */
        0x75, 0xFB,                   /* 08 jnz 05 */
        0xF4,                         /* 0A hlt */
    };
    struct t *t = machine(code, sizeof code, false);
    assert_int_equal(cpu_run(&t->c, 1 + 4 * 500 + 2), RUN_LIMIT);
    assert_int_equal(t->c.icount, 1 + 4 * 500 + 2);
    assert_int_equal(t->c.eip, CODE + 7);
    assert_int_equal(t->c.r[EAX], 501);
    assert_int_equal(t->c.r[EBX], 501);
    assert_int_equal(cpu_run(&t->c, 10000), RUN_HALT);
    assert_int_equal(t->c.icount, 1 + 4 * 1000 + 1);
    assert_int_equal(t->c.r[EAX], 1000);
    done(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loop_dec),
        cmocka_unit_test(test_loop_fault),
        cmocka_unit_test(test_loop_smc),
        cmocka_unit_test(test_loop_nested),
        cmocka_unit_test(test_loop_count),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
