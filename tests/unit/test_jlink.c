/* Direct links of taken Jccs (src/cpu/icache.h struct jlink, exec.c run_block): a Jcc in the
 * middle of a block that is taken goes straight to the block at its target through a link kept
 * with the Jcc. The link must not be followed once the target is not what it names:
 *
 *   - the target's code rewritten (its page generation): a loop whose Jcc goes to a block that
 *     increments its own ADD's immediate must add 1 + 2 + 3 (a stale link adds 1 three times);
 *     with a fused CMP/JNE and with a JNE on its own;
 *   - the mapping changed (map epoch: a CR3 load): the target's linear page remapped to other
 *     code between two passes must run the new code;
 *   - the same block run at another EIP (from): a physical page mapped at two linear addresses,
 *     its Jcc taken at both; the target's EIP (read by CALL/POP) must be the second alias's;
 *   - the CS limit lowered below the target between two runs: the taken Jcc raises #GP(0) at
 *     its own EIP;
 *   - the CPL raised between two runs (cpl): a loop on a user page whose Jcc goes to a
 *     supervisor-only page, linked at CPL 0, must fault on the target's fetch at CPL 3.
 *
 * The machine: 16 MiB of RAM, flat protected mode at CPL 0; paging on for the second and third
 * cases, the low 4 MiB identity-mapped by 4 KiB pages but for the pages named.
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
#include "cpu/segment.h"
#include "devices/bus.h"

#define RAM_SIZE (16u << 20)
#define CODE 0x4000u
#define PD 0x10000u
#define PT 0x11000u

struct t {
    struct cpu c;
    struct bus bus;
    uint8_t *ram;
    unsigned exceptions;
    uint8_t vector;
    uint32_t fault_eip;
};

static void sink(void *ctx, const struct trace_event *e)
{
    struct t *t = ctx;
    if (e->kind == TR_EXCEPTION && t->exceptions++ == 0) {
        t->vector = e->vector;
        t->fault_eip = e->before.eip;
    }
}

static void put32(struct t *t, uint32_t pa, uint32_t v) { memcpy(t->ram + pa, &v, 4); }

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

static void paging_on(struct t *t)
{
    for (uint32_t k = 0; k < 1024; k++)
        put32(t, PT + 4 * k, (k << 12) | 0x3); /* present, writable, supervisor */
    put32(t, PD, PT | 0x3);
    t->c.cr3 = PD;
    t->c.cr0 |= CR0_PG;
}

static void start(struct t *t)
{
    cpu_flush_decoded(&t->c);
    t->c.eip = CODE;
    t->c.r[ESP] = 0x9000; /* page 8: not a page the tests alias or rewrite */
}

/* head: 3 bytes that set the flags for JNE from ECX (a CMP fused with the JNE, or not). */
static void run_rewritten(struct t *t, const uint8_t head[3])
{
    static const uint8_t code[] = {
        0xB9, 0x03, 0x00, 0x00, 0x00,       /* 4000 mov ecx, 3 */
        0x31, 0xDB,                         /* 4005 xor ebx, ebx */
        0xEB, 0x00,                         /* 4007 jmp top (a block starts at top) */
        0x90, 0x90, 0x90,                   /* 4009 top: head */
        0x0F, 0x85, 0xEE, 0x0F, 0x00, 0x00, /* 400C jne 0x5000 */
        0xF4,                               /* 4012 hlt */
    };
    static const uint8_t target[] = {
        0x83, 0xC3, 0x01,                   /* 5000 add ebx, 1 */
        0xFE, 0x05, 0x02, 0x50, 0x00, 0x00, /* 5003 inc byte [0x5002] (the ADD's immediate) */
        0x49,                               /* 5009 dec ecx */
        0xE9, 0xFA, 0xEF, 0xFF, 0xFF,       /* 500A jmp top */
    };
    memcpy(t->ram + CODE, code, sizeof code);
    memcpy(t->ram + CODE + 9, head, 3);
    memcpy(t->ram + 0x5000, target, sizeof target);
    start(t);
    assert_int_equal(cpu_run(&t->c, 1000), RUN_HALT);
    assert_int_equal(t->exceptions, 0);
    assert_int_equal(t->c.r[EBX], 1 + 2 + 3);
}

static void test_target_rewritten_fused(void **state)
{
    static const uint8_t cmp[] = {0x83, 0xF9, 0x00}; /* cmp ecx, 0 */
    run_rewritten(*state, cmp);
}

static void test_target_rewritten_plain(void **state)
{
    static const uint8_t incdec[] = {0x41, 0x49, 0x90}; /* inc ecx; dec ecx; nop */
    run_rewritten(*state, incdec);
}

static void test_target_remapped(void **state)
{
    struct t *t = *state;
    paging_on(t);
    static const uint8_t code[] = {
        0xB9, 0x02, 0x00, 0x00, 0x00,       /* 4000 mov ecx, 2 */
        0x31, 0xDB,                         /* 4005 xor ebx, ebx */
        0xEB, 0x00,                         /* 4007 jmp top */
        0x83, 0xF9, 0x00,                   /* 4009 top: cmp ecx, 0 */
        0x0F, 0x85, 0xEE, 0x0F, 0x00, 0x00, /* 400C jne 0x5000 */
        0xF4,                               /* 4012 hlt */
    };
    /* at linear 0x5000: page 0x30000, then 0x31000 (the same but for the ADD's immediate; pages
     * whose blocks do not share a cache slot with the Jcc's, which a lookup would rebuild) */
    uint8_t target[] = {
        0x81, 0xC3, 0x01, 0x00, 0x00, 0x00, /* 5000 add ebx, 1 (0x100 in the second page) */
        0xC7, 0x05, 0x14, 0x10, 0x01, 0x00, /* 5006 mov dword [PT + 5 * 4], 0x31003 */
        0x03, 0x10, 0x03, 0x00,
        0xB8, 0x00, 0x00, 0x01, 0x00,       /* 5010 mov eax, PD */
        0x0F, 0x22, 0xD8,                   /* 5015 mov cr3, eax */
        0x49,                               /* 5018 dec ecx */
        0xE9, 0xEB, 0xEF, 0xFF, 0xFF,       /* 5019 jmp top */
    };
    memcpy(t->ram + CODE, code, sizeof code);
    memcpy(t->ram + 0x30000, target, sizeof target);
    target[2] = 0x00;
    target[3] = 0x01;
    memcpy(t->ram + 0x31000, target, sizeof target);
    put32(t, PT + 5 * 4, 0x30000 | 0x3);
    start(t);
    assert_int_equal(cpu_run(&t->c, 1000), RUN_HALT);
    assert_int_equal(t->exceptions, 0);
    assert_int_equal(t->c.r[EBX], 0x101);
}

static void test_block_at_two_eips(void **state)
{
    struct t *t = *state;
    paging_on(t);
    put32(t, PT + 7 * 4, 0x6000 | 0x3); /* linear 0x7000: the page at 0x6000 again */
    static const uint8_t code[] = {
        0xB9, 0x01, 0x00, 0x00, 0x00,       /* 4000 mov ecx, 1 */
        0xE8, 0xF6, 0x1F, 0x00, 0x00,       /* 4005 call 0x6000 */
        0x89, 0xC6,                         /* 400A mov esi, eax */
        0xE8, 0xEF, 0x2F, 0x00, 0x00,       /* 400C call 0x7000 */
        0xF4,                               /* 4011 hlt */
    };
    static const uint8_t page[] = {
        0x83, 0xF9, 0x00,             /* +0 cmp ecx, 0 */
        0x75, 0x05,                   /* +3 jne +A */
        0xF4,                         /* +5 hlt */
        0x90, 0x90, 0x90, 0x90,       /* +6 */
        0xE8, 0x00, 0x00, 0x00, 0x00, /* +A call +F */
        0x58,                         /* +F pop eax: its own EIP */
        0xC3,                         /* +10 ret */
    };
    memcpy(t->ram + CODE, code, sizeof code);
    memcpy(t->ram + 0x6000, page, sizeof page);
    start(t);
    assert_int_equal(cpu_run(&t->c, 1000), RUN_HALT);
    assert_int_equal(t->exceptions, 0);
    assert_int_equal(t->c.r[ESI], 0x600F);
    assert_int_equal(t->c.r[EAX], 0x700F);
}

/* The GDT at 0x1000: null, flat ring-0 code at 0x08; every vector of 0..31 through an interrupt
 * gate to a HLT at 0x3000. */
static void handlers(struct t *t)
{
    put32(t, 0x1008, 0x0000FFFF);
    put32(t, 0x100C, 0x00CF9B00);
    t->c.gdtr.base = 0x1000;
    t->c.gdtr.limit = 15;
    for (uint32_t v = 0; v < 32; v++) {
        put32(t, v * 8, 0x00083000);
        put32(t, v * 8 + 4, 0x00008E00);
    }
    t->ram[0x3000] = 0xF4;
}

/* Dead flags (src/cpu/deadflags.c) before an instruction that may fault: the INC's flags, which
 * the IMUL would overwrite, are seen by the IMUL's #PF. */
static void test_flags_at_fault(void **state)
{
    struct t *t = *state;
    paging_on(t);
    put32(t, PT + 0xA0 * 4, 0); /* 0xA0000: not present */
    handlers(t);
    static const uint8_t code[] = {
        0xB8, 0xFF, 0xFF, 0xFF, 0xFF,             /* 4000 mov eax, -1 */
        0x40,                                     /* 4005 inc eax: ZF */
        0x0F, 0xAF, 0x1D, 0x00, 0x00, 0x0A, 0x00, /* 4006 imul ebx, [0xA0000]: #PF */
        0x39, 0xC9,                               /* 400D cmp ecx, ecx */
        0xF4,                                     /* 400F hlt */
    };
    memcpy(t->ram + CODE, code, sizeof code);
    start(t);
    assert_int_equal(cpu_run(&t->c, 1000), RUN_HALT);
    assert_int_equal(t->exceptions, 1);
    assert_int_equal(t->vector, 14);
    assert_int_equal(t->fault_eip, 0x4006);
    assert_true(cpu_get_eflags(&t->c) & FL_ZF);
    assert_false(cpu_get_eflags(&t->c) & FL_CF);
}

static void test_limit_lowered(void **state)
{
    struct t *t = *state;
    static const uint8_t code[] = {
        0xB9, 0x64, 0x00, 0x00, 0x00,       /* 4000 mov ecx, 100 */
        0xEB, 0x00,                         /* 4005 jmp top */
        0x83, 0xF9, 0x00,                   /* 4007 top: cmp ecx, 0 */
        0x0F, 0x85, 0xF0, 0x0F, 0x00, 0x00, /* 400A jne 0x5000 */
        0xF4,                               /* 4010 hlt */
    };
    static const uint8_t target[] = {
        0x49,                         /* 5000 dec ecx */
        0xE9, 0x01, 0xF0, 0xFF, 0xFF, /* 5001 jmp top */
    };
    memcpy(t->ram + CODE, code, sizeof code);
    memcpy(t->ram + 0x5000, target, sizeof target);
    handlers(t);
    start(t);
    assert_int_equal(cpu_run(&t->c, 50), RUN_LIMIT);
    assert_int_equal(t->exceptions, 0);
    t->c.seg[SEG_CS].limit = 0x4FFF; /* the Jcc's target beyond it */
    assert_int_equal(cpu_run(&t->c, 1000), RUN_HALT);
    assert_int_equal(t->exceptions, 1);
    assert_int_equal(t->vector, 13);
    assert_int_equal(t->fault_eip, 0x400A);
}

static void test_cpl_raised(void **state)
{
    struct t *t = *state;
    paging_on(t);
    put32(t, PD, PT | 0x7);
    put32(t, PT + 4 * 4, 0x4000 | 0x7); /* the loop's page: user; 0x5000 stays supervisor */
    static const uint8_t code[] = {
        0xB9, 0x64, 0x00, 0x00, 0x00,       /* 4000 mov ecx, 100 */
        0xEB, 0x00,                         /* 4005 jmp top */
        0x83, 0xF9, 0x00,                   /* 4007 top: cmp ecx, 0 */
        0x0F, 0x85, 0xF0, 0x0F, 0x00, 0x00, /* 400A jne 0x5000 */
        0xF4,                               /* 4010 hlt */
    };
    static const uint8_t target[] = {
        0x49,                         /* 5000 dec ecx */
        0xE9, 0x01, 0xF0, 0xFF, 0xFF, /* 5001 jmp top */
    };
    memcpy(t->ram + CODE, code, sizeof code);
    memcpy(t->ram + 0x5000, target, sizeof target);
    handlers(t);
    start(t);
    assert_int_equal(cpu_run(&t->c, 50), RUN_LIMIT); /* at CPL 0: the links are made */
    assert_int_equal(t->exceptions, 0);
    uint32_t ecx = t->c.r[ECX];
    assert_true(ecx < 100);
    cpu_set_cpl(&t->c, 3);
    /* At CPL 3 the target's fetch is a #PF (CR2 0x5000); with no ring-0 stack for it (no TSS)
     * its delivery ends in a triple fault. Had the link been followed, the loop would run to
     * its HLT at CPL 3. */
    assert_int_equal(cpu_run(&t->c, 1000), RUN_SHUTDOWN);
    assert_int_equal(t->c.cr2, 0x5000);
    assert_int_equal(t->c.r[ECX], ecx); /* the target never ran at CPL 3 */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_target_rewritten_fused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_target_rewritten_plain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_target_remapped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_block_at_two_eips, setup, teardown),
        cmocka_unit_test_setup_teardown(test_limit_lowered, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flags_at_fault, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cpl_raised, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
