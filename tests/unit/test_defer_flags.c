/* Deferred flags (src/cpu/deadflags.c defer_flags, insn_defer_fix): an ADD or SUB of an
 * immediate to a 32-bit register followed by MOVs to or from memory and then an instruction that
 * writes all the arithmetic flags runs without recording its flags; each MOV between records
 * them on its slow path, before anything can see them. Checked through the real cpu (cpu_run):
 * a device that the MOVs reach (MMIO, the slow path) reads EFLAGS at each access, and the
 * values equal those of the same program run one instruction at a time under an instruction
 * hook (every instruction its full handler), and the flags an ADD/SUB gives (ZF, CF, ... by
 * hand). With an in-block Jcc leading into such a sequence the flags are recorded as before
 * (the same values). The machine: 1 MiB of RAM, the flat protected mode a Multiboot loader
 * leaves, CPL 0, no paging, the code at CODE, a device at MMIO (beyond RAM). */
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
#define MMIO 0x200000u
#define SEEN_MAX 64u
#define ARITH (FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_OF)

struct t {
    struct cpu c;
    struct bus bus;
    uint8_t *ram;
    uint32_t seen[SEEN_MAX]; /* EFLAGS's arithmetic flags at each device access */
    unsigned n;
};

static void hook(void *ctx, struct cpu *c, uint32_t lin_eip)
{
    (void)ctx;
    (void)c;
    (void)lin_eip;
}

static void saw(struct t *t)
{
    assert_true(t->n < SEEN_MAX);
    t->seen[t->n++] = cpu_get_eflags(&t->c) & ARITH;
}

static uint32_t mmio_rd(void *dev, uint32_t offset, unsigned size)
{
    (void)offset;
    (void)size;
    saw(dev);
    return 0x1234;
}

static void mmio_wr(void *dev, uint32_t offset, uint32_t value, unsigned size)
{
    (void)offset;
    (void)value;
    (void)size;
    saw(dev);
}

static struct t *run(const uint8_t *code, unsigned len, bool hooked)
{
    struct t *t = calloc(1, sizeof *t);
    assert_non_null(t);
    t->ram = calloc(RAM_SIZE, 1);
    assert_non_null(t->ram);
    bus_init(&t->bus);
    assert_int_equal(bus_add_mmio(&t->bus, MMIO, 0x1000, mmio_rd, mmio_wr, t), 0);
    /* the same device right after RAM: a copy loop runs into it (test_copy_loop) */
    assert_int_equal(bus_add_mmio(&t->bus, RAM_SIZE, 0x1000, mmio_rd, mmio_wr, t), 0);
    assert_int_equal(cpu_init(&t->c, t->ram, RAM_SIZE, &t->bus), 0);
    cpu_reset_protected_flat(&t->c, CODE);
    if (hooked)
        assert_true(cpu_add_insn_hook(&t->c, hook, t) >= 0);
    memcpy(t->ram + CODE, code, len);
    cpu_flush_decoded(&t->c);
    t->c.eip = CODE;
    t->c.r[ESP] = 0x7000;
    cpu_run(&t->c, 100000);
    assert_int_equal(t->c.eip, CODE + len); /* after the HLT */
    return t;
}

static void done(struct t *t)
{
    cpu_free(&t->c);
    free(t->ram);
    free(t);
}

/* Runs code whole and under a hook; the device saw the same flags both ways, and want[] (n of
 * them) in the hooked run. */
static void check(const uint8_t *code, unsigned len, const uint32_t *want, unsigned n)
{
    struct t *fast = run(code, len, false), *slow = run(code, len, true);
    assert_int_equal(slow->n, n);
    assert_int_equal(fast->n, n);
    for (unsigned k = 0; k < n; k++) {
        if (slow->seen[k] != want[k] || fast->seen[k] != want[k]) {
            print_error("access %u: flags %#x whole, %#x hooked, want %#x\n", k,
                        fast->seen[k], slow->seen[k], want[k]);
            fail();
        }
    }
    done(fast);
    done(slow);
}

static void test_chains(void **state)
{
    (void)state;
    static const uint8_t code[] = {
        0xB8, 0xFC, 0xFF, 0xFF, 0xFF,       /* mov eax, 0xFFFFFFFC */
        0xBB, 0x00, 0x00, 0x20, 0x00,       /* mov ebx, MMIO */
        0x31, 0xD2,                         /* xor edx, edx */
        0x83, 0xC0, 0x04,                   /* add eax, 4: 0 (CF ZF PF AF), deferred */
        0x89, 0x03,                         /* mov [ebx], eax: sees them (ends the block) */
        0x8B, 0x4B, 0x08,                   /* mov ecx, [ebx + 8]: sees them */
        0x83, 0xF8, 0x01,                   /* cmp eax, 1 */
        0x83, 0xEA, 0x01,                   /* sub edx, 1: 0xFFFFFFFF (CF SF AF PF), deferred */
        0x8B, 0xB2, 0x01, 0x90, 0x00, 0x00, /* mov esi, [edx + 0x9001]: RAM 0x9000, 0 */
        0x89, 0x54, 0x33, 0x04,             /* mov [ebx + esi + 4], edx: sees them */
        0x39, 0xC9,                         /* cmp ecx, ecx */
        0x05, 0xFF, 0xFF, 0xFF, 0x7F,       /* add eax, 0x7FFFFFFF (ADD EAX, imm32): PF */
        0x89, 0x4B, 0x04,                   /* mov [ebx + 4], ecx: sees it */
        0x2D, 0x00, 0x00, 0x00, 0x80,       /* sub eax, 0x80000000: 0xFFFFFFFF (OF CF SF PF) */
        0x89, 0x0B,                         /* mov [ebx], ecx: sees them */
        0x31, 0xFF,                         /* xor edi, edi */
        0x83, 0xC0, 0x01,                   /* add eax, 1: 0 (CF ZF PF AF), deferred */
        0x8B, 0x13,                         /* mov edx, [ebx]: sees them */
        0x39, 0xC0,                         /* cmp eax, eax */
        0x83, 0xE8, 0x01,                   /* sub eax, 1: 0xFFFFFFFF (CF SF AF PF), deferred */
        0x8B, 0x14, 0xB3,                   /* mov edx, [ebx + esi * 4]: sees them */
        0x8B, 0x0C, 0x33,                   /* mov ecx, [ebx + esi]: sees them */
        0x89, 0x44, 0x73, 0x08,             /* mov [ebx + esi * 2 + 8], eax: sees them */
        0x39, 0xC0,                         /* cmp eax, eax */
        0xF4,                               /* hlt */
    };
    static const uint32_t want[] = {
        FL_CF | FL_ZF | FL_PF | FL_AF, FL_CF | FL_ZF | FL_PF | FL_AF,
        FL_CF | FL_SF | FL_AF | FL_PF, FL_PF, FL_OF | FL_CF | FL_SF | FL_PF,
        FL_CF | FL_ZF | FL_PF | FL_AF, FL_CF | FL_SF | FL_AF | FL_PF, FL_CF | FL_SF | FL_AF | FL_PF,
        FL_CF | FL_SF | FL_AF | FL_PF,
    };
    check(code, sizeof code, want, sizeof want / sizeof want[0]);
}

/* A loop whose Jcc leads to the MOV between the ADD and the CMP: the MOV there may follow the
 * loop's first instruction or the CMP (not the ADD), so nothing is deferred; the flags the
 * device sees are still exact. */
static void test_jump_into(void **state)
{
    (void)state;
    static const uint8_t code[] = {
        0xB8, 0xFD, 0xFF, 0xFF, 0xFF, /* mov eax, 0xFFFFFFFD */
        0xBB, 0x00, 0x00, 0x20, 0x00, /* mov ebx, MMIO */
        0x83, 0xC0, 0x01,             /* add eax, 1 */
        0x89, 0x03,                   /* top: mov [ebx], eax */
        0x83, 0xC0, 0x01,             /* add eax, 1 */
        0x75, 0xF9,                   /* jnz top */
        0xF4,                         /* hlt */
    };
    /* 0xFFFFFFFE (SF), 0xFFFFFFFF (SF PF), then 0 after the second ADD ends the loop */
    static const uint32_t want[] = {FL_SF, FL_SF | FL_PF};
    check(code, sizeof code, want, sizeof want / sizeof want[0]);
}

/* An IMUL r32, m32 whose own flags are dead ends a deferral: its slow path (here the device)
 * records the ADD/SUB's flags first, also when the IMUL writes the ADD's register, and after
 * MOVs that deferred them too. */
static void test_imul(void **state)
{
    (void)state;
    static const uint8_t code[] = {
        0xB8, 0xFC, 0xFF, 0xFF, 0xFF, /* mov eax, 0xFFFFFFFC */
        0xBB, 0x00, 0x00, 0x20, 0x00, /* mov ebx, MMIO */
        0x31, 0xF6,                   /* xor esi, esi */
        0x31, 0xD2,                   /* xor edx, edx */
        0x83, 0xC0, 0x04,             /* add eax, 4: 0 (CF ZF PF AF), deferred */
        0x0F, 0xAF, 0x4B, 0x08,       /* imul ecx, [ebx + 8]: sees them */
        0x39, 0xC0,                   /* cmp eax, eax */
        0x83, 0xEA, 0x01,             /* sub edx, 1: 0xFFFFFFFF (CF SF AF PF), deferred */
        0x0F, 0xAF, 0x54, 0xB3, 0x04, /* imul edx, [ebx + esi * 4 + 4]: sees them */
        0x39, 0xC9,                   /* cmp ecx, ecx */
        0xB8, 0xFF, 0xFF, 0xFF, 0x7F, /* mov eax, 0x7FFFFFFF */
        0x05, 0x01, 0x00, 0x00, 0x00, /* add eax, 1: 0x80000000 (OF SF AF PF), deferred */
        0x89, 0x0B,                   /* mov [ebx], ecx: sees them */
        0x0F, 0xAF, 0x43, 0x04,       /* imul eax, [ebx + 4]: sees them */
        0x39, 0xC0,                   /* cmp eax, eax */
        0xBE, 0x00, 0x90, 0x00, 0x00, /* mov esi, 0x9000 (RAM) */
        0x83, 0xC6, 0x04,             /* add esi, 4: 0x9004 (none), deferred */
        0x0F, 0xAF, 0x0E,             /* imul ecx, [esi]: RAM, its fast path */
        0x89, 0x03,                   /* mov [ebx], eax: sees the IMUL's (0) */
        0x39, 0xC9,                   /* cmp ecx, ecx */
        0x83, 0xEE, 0x08,             /* sub esi, 8: 0x8FFC (AF PF), deferred */
        0x0F, 0xAF, 0x43, 0x04,       /* imul eax, [ebx + 4]: sees them */
        0x39, 0xC0,                   /* cmp eax, eax */
        0xF4,                         /* hlt */
    };
    static const uint32_t want[] = {
        FL_CF | FL_ZF | FL_PF | FL_AF, FL_CF | FL_SF | FL_AF | FL_PF,
        FL_OF | FL_SF | FL_AF | FL_PF, FL_OF | FL_SF | FL_AF | FL_PF,
        FL_ZF | FL_PF, FL_AF | FL_PF,
    };
    check(code, sizeof code, want, sizeof want / sizeof want[0]);
}

/* A deferring MOV that is also the load before a fused CMP + Jcc (a triple, control.c
 * jcc_fused_pre) keeps its deferral: the device it reads sees the ADD's flags. */
static void test_triple(void **state)
{
    (void)state;
    static const uint8_t code[] = {
        0xB8, 0xFC, 0xFF, 0xFF, 0xFF, /* mov eax, 0xFFFFFFFC */
        0xBB, 0x00, 0x00, 0x20, 0x00, /* mov ebx, MMIO */
        0x31, 0xF6,                   /* xor esi, esi */
        0x83, 0xC0, 0x04,             /* add eax, 4: 0 (CF ZF PF AF), deferred */
        0x8B, 0x4B, 0x08,             /* mov ecx, [ebx + 8]: sees them */
        0x39, 0xC1,                   /* cmp ecx, eax */
        0x75, 0x00,                   /* jne +0 */
        0x83, 0xE8, 0x01,             /* sub eax, 1: 0xFFFFFFFF (CF SF AF PF), deferred */
        0x8B, 0x4C, 0xB3, 0x04,       /* mov ecx, [ebx + esi * 4 + 4]: sees them */
        0x83, 0xF9, 0x05,             /* cmp ecx, 5 */
        0x74, 0x00,                   /* je +0 */
        0x39, 0xC0,                   /* cmp eax, eax */
        0xF4,                         /* hlt */
    };
    static const uint32_t want[] = {
        FL_CF | FL_ZF | FL_PF | FL_AF, FL_CF | FL_SF | FL_AF | FL_PF,
    };
    check(code, sizeof code, want, sizeof want / sizeof want[0]);
}

/* Copy loops (copyloop.c: the five run by the load's handler while each pass stays on the fast
 * path): a load that runs from RAM into the device sees the flags of the last pass's CMP (the
 * loop's handler records them when it leaves its fast path); a store into the device sees the
 * ADD's (deferred, the store's slow path records them). */
static void test_copy_loop(void **state)
{
    (void)state;
    static const uint8_t load[] = {
        0xBB, 0xF4, 0xFF, 0x0F, 0x00,       /* mov ebx, RAM_SIZE - 12 */
        0x31, 0xC0,                         /* xor eax, eax */
        0x8B, 0x14, 0x03,                   /* top: mov edx, [ebx + eax]: the device from 12 */
        0x83, 0xC0, 0x04,                   /* add eax, 4 */
        0x89, 0x90, 0x00, 0x90, 0x00, 0x00, /* mov [eax + 0x9000], edx */
        0x83, 0xF8, 0x14,                   /* cmp eax, 20 */
        0x72, 0xEF,                         /* jb top */
        0x39, 0xC0,                         /* cmp eax, eax */
        0xF4,                               /* hlt */
    };
    /* the first pass by the handlers (a cold TLB), the next two by the loop's: cmp 12, 20:
     * 0xFFFFFFF8 (CF SF; the first pass's cmp 4, 20 gave CF SF PF); cmp 16, 20: 0xFFFFFFFC
     * (CF SF PF AF) */
    static const uint32_t want_load[] = {FL_CF | FL_SF, FL_CF | FL_SF | FL_PF | FL_AF};
    check(load, sizeof load, want_load, sizeof want_load / sizeof want_load[0]);
    /* from RAM_SIZE - 14: the fourth word straddles RAM's end and the device (the loop leaves
     * its fast path there; the device sees what it sees under the hook) */
    uint8_t load_s[sizeof load];
    memcpy(load_s, load, sizeof load);
    load_s[1] = 0xF2; /* mov ebx, RAM_SIZE - 14 */
    struct t *fast = run(load_s, sizeof load_s, false), *slow = run(load_s, sizeof load_s, true);
    assert_true(slow->n >= 2);
    assert_int_equal(fast->n, slow->n);
    assert_memory_equal(fast->seen, slow->seen, slow->n * sizeof slow->seen[0]);
    assert_int_equal(fast->c.r[EDX], slow->c.r[EDX]);
    done(fast);
    done(slow);
    /* the same storing the ADD's register (the loop's general version) */
    uint8_t load_x[sizeof load];
    memcpy(load_x, load, sizeof load);
    load_x[14] = 0x80; /* mov [eax + 0x9000], eax */
    check(load_x, sizeof load_x, want_load, sizeof want_load / sizeof want_load[0]);
    static const uint8_t store[] = {
        0xBB, 0x00, 0x90, 0x00, 0x00,       /* mov ebx, 0x9000 */
        0x31, 0xC0,                         /* xor eax, eax */
        0x8B, 0x14, 0x03,                   /* top: mov edx, [ebx + eax] */
        0x83, 0xC0, 0x04,                   /* add eax, 4 */
        0x89, 0x90, 0xF4, 0xFF, 0x0F, 0x00, /* mov [eax + RAM_SIZE - 12], edx: the device from 12 */
        0x83, 0xF8, 0x10,                   /* cmp eax, 16 */
        0x72, 0xEF,                         /* jb top */
        0x39, 0xC0,                         /* cmp eax, eax */
        0xF4,                               /* hlt */
    };
    /* add 8, 4: 12 (PF); add 12, 4: 16 (AF) */
    static const uint32_t want_store[] = {FL_PF, FL_AF};
    check(store, sizeof store, want_store, sizeof want_store / sizeof want_store[0]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chains),
        cmocka_unit_test(test_jump_into),
        cmocka_unit_test(test_imul),
        cmocka_unit_test(test_triple),
        cmocka_unit_test(test_copy_loop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
