/* The tail links (src/cpu/control.c op_block_call, op_block_jmp, op_block_ret, op_block_call_E;
 * icache.h struct jlink): a block ending in a 32-bit CALL rel, JMP rel, RET or CALL r/m32 goes on to the block at the
 * target from the handler, through a link keyed by the target EIP, the map epoch and the CPL,
 * when the target block's page is unwritten and the block runs whole within the budget.
 *
 * The code (paging on, identity map of the first 4 MiB):
 *   0x4000 (supervisor page)  mov edx, 3
 *   0x4005                    call F
 *   0x400A                    add ebx, 0x10
 *   0x4010                    six NOPs, or inc byte [F + 1] (F's immediate: a code write)
 *   0x4016                    jmp 0x401A
 *   0x4018                    hlt; hlt (jumped over)
 *   0x401A                    call F
 *   0x401F                    dec edx; jnz 0x4005; hlt
 *   F = 0x6000 (user page)    mov eax, 1; add ebx, eax; ret
 * The stack is at 0x8000 (a user page). F's RET returns to two sites in turn: its link names
 * one, the jump cache answers for the other (control.c ret_miss). The cases: every link is
 * made, and a run cut at every budget ends where a run with every instruction on its own (an
 * instruction hook) ends; F's immediate rewritten each pass (a link to the stale block would
 * add the same each time); a RET at CPL 3 from F to either site, linked or cached at CPL 0,
 * faults on the fetch (a supervisor page) with nothing there run; and the same with CALL r32
 * and CALL m32 (test_call_indirect).
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
#include "cpu/icache.h"
#include "devices/bus.h"
#include "mmu/mem.h"

#define RAM_SIZE (1u << 20)
#define CODE 0x4000u
#define SITE 0x400Au  /* the first return address */
#define SITE2 0x401Fu /* the second */
#define F 0x6000u
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

static void put32(struct t *t, uint32_t pa, uint32_t v) { memcpy(t->ram + pa, &v, 4); }

static void load(struct t *t, bool modify)
{
    static const uint8_t main_code[] = {
        0xBA, 0x03, 0x00, 0x00, 0x00,       /* 4000 mov edx, 3 */
        0xE8, 0xF6, 0x1F, 0x00, 0x00,       /* 4005 call 0x6000 */
        0x81, 0xC3, 0x10, 0x00, 0x00, 0x00, /* 400A add ebx, 0x10 */
        0x90, 0x90, 0x90, 0x90, 0x90, 0x90, /* 4010 nop x6 */
        0xEB, 0x02,                         /* 4016 jmp 0x401A */
        0xF4, 0xF4,                         /* 4018 hlt; hlt */
        0xE8, 0xE1, 0x1F, 0x00, 0x00,       /* 401A call 0x6000 */
        0x4A,                               /* 401F dec edx */
        0x75, 0xE3,                         /* 4020 jnz 0x4005 */
        0xF4,                               /* 4022 hlt */
    };
    memcpy(t->ram + CODE, main_code, sizeof main_code);
    if (modify) /* inc byte [0x6001] */
        memcpy(t->ram + 0x4010, (const uint8_t[]){0xFE, 0x05, 0x01, 0x60, 0x00, 0x00}, 6);
    memcpy(t->ram + F, (const uint8_t[]){0xB8, 0x01, 0x00, 0x00, 0x00, 0x01, 0xC3, 0xC3}, 8);
    cpu_reset_protected_flat(&t->c, CODE);
    /* identity paging of the first 4 MiB: supervisor pages, but F's and the stack's */
    put32(t, 0x10000, 0x11000 | 0x7); /* PDE 0: P, W, U */
    for (uint32_t pg = 0; pg < 256; pg++)
        put32(t, 0x11000 + pg * 4, (pg << 12) | 0x3);
    put32(t, 0x11000 + (F >> 12) * 4, F | 0x7);
    put32(t, 0x11000 + ((STACK - 4) >> 12) * 4, (STACK - 0x1000) | 0x7);
    t->c.cr3 = 0x10000;
    t->c.cr0 |= CR0_PG;
    cpu_flush_decoded(&t->c);
}

static void start(struct t *t)
{
    t->c.r[EBX] = 0;
    t->c.r[EDX] = 0;
    t->c.r[ESP] = STACK;
    t->c.eip = CODE;
    t->c.halted = false;
}

/* The tail link of the block starting at eip (its last instruction's). */
static const struct jlink *tail_link(struct t *t, uint32_t eip)
{
    t->c.eip = eip;
    struct block *b = icache_lookup(&t->c);
    const struct insn *last = &b->insns[b->n - 1];
    assert_int_not_equal(last->jl, 0);
    return jlink_of(last);
}

static void check_link(struct t *t, uint32_t from, uint32_t to)
{
    const struct jlink *l = tail_link(t, from);
    assert_non_null(l->to);
    assert_int_equal(l->eip, to);
    assert_int_equal(l->epoch, t->c.map_epoch);
    assert_int_equal(l->cpl, 0);
}

static void no_hook(void *ctx, struct cpu *c, uint32_t lin_eip)
{
    (void)ctx;
    (void)c;
    (void)lin_eip;
}

struct outcome {
    uint32_t eip, ebx, edx, esp, eax;
    uint64_t icount;
    int result;
};

static struct outcome run_for(struct t *t, uint64_t budget)
{
    start(t);
    uint64_t before = t->c.icount;
    struct outcome o;
    o.result = cpu_run(&t->c, budget);
    o.eip = t->c.eip;
    o.ebx = t->c.r[EBX];
    o.edx = t->c.r[EDX];
    o.esp = t->c.r[ESP];
    o.eax = t->c.r[EAX];
    o.icount = t->c.icount - before;
    return o;
}

static void test_links_and_budgets(void **state)
{
    struct t *t = *state;
    load(t, false);
    struct outcome whole = run_for(t, 10000);
    assert_int_equal(whole.result, RUN_HALT);
    assert_int_equal(whole.ebx, 3 * 0x12);
    /* the blocks ending in CALL, RET and JMP are linked to their targets (F's RET: the last) */
    check_link(t, CODE, F);
    check_link(t, F, SITE2);
    check_link(t, SITE, 0x401A);
    check_link(t, 0x401A, F);
    /* warm links: every budget ends where the instruction-by-instruction run ends */
    for (uint64_t k = 1; k <= whole.icount + 1; k++) {
        struct outcome fast = run_for(t, k);
        assert_int_equal(cpu_add_insn_hook(&t->c, no_hook, NULL), 0);
        struct outcome slow = run_for(t, k);
        assert_true(cpu_remove_insn_hook(&t->c, no_hook, NULL));
        assert_int_equal(fast.result, slow.result);
        assert_int_equal(fast.icount, slow.icount);
        assert_int_equal(fast.eip, slow.eip);
        assert_int_equal(fast.ebx, slow.ebx);
        assert_int_equal(fast.edx, slow.edx);
        assert_int_equal(fast.esp, slow.esp);
        assert_int_equal(fast.eax, slow.eax);
    }
}

/* CALL r/m32 (op_block_call_E): the same program shape with indirect calls, through a register
 * and through memory; their blocks are linked to F, and every budget ends as one instruction at
 * a time does. */
static void test_call_indirect(void **state)
{
    struct t *t = *state;
    load(t, false);
    static const uint8_t code[] = {
        0xBA, 0x03, 0x00, 0x00, 0x00,       /* 4000 mov edx, 3 */
        0xB9, 0x00, 0x60, 0x00, 0x00,       /* 4005 mov ecx, 0x6000 */
        0xFF, 0xD1,                         /* 400A call ecx */
        0xFF, 0x15, 0x00, 0x50, 0x00, 0x00, /* 400C call [0x5000] */
        0x4A,                               /* 4012 dec edx */
        0x75, 0xF0,                         /* 4013 jnz 0x4005 */
        0xF4,                               /* 4015 hlt */
    };
    memcpy(t->ram + CODE, code, sizeof code);
    put32(t, 0x5000, F);
    cpu_flush_decoded(&t->c);
    struct outcome whole = run_for(t, 10000);
    assert_int_equal(whole.result, RUN_HALT);
    assert_int_equal(whole.ebx, 6);
    check_link(t, CODE, F);
    check_link(t, 0x400C, F);
    for (uint64_t k = 1; k <= whole.icount + 1; k++) {
        struct outcome fast = run_for(t, k);
        assert_int_equal(cpu_add_insn_hook(&t->c, no_hook, NULL), 0);
        struct outcome slow = run_for(t, k);
        assert_true(cpu_remove_insn_hook(&t->c, no_hook, NULL));
        assert_int_equal(fast.result, slow.result);
        assert_int_equal(fast.icount, slow.icount);
        assert_int_equal(fast.eip, slow.eip);
        assert_int_equal(fast.ebx, slow.ebx);
        assert_int_equal(fast.edx, slow.edx);
        assert_int_equal(fast.esp, slow.esp);
    }
}

/* F's immediate is incremented each pass between the two calls: the CALLs' links to F's block
 * must not hold once F's page is written (1 + 2 + 2 + 3 + 3 + 4, not six times 1). Twice: the
 * second run starts with every link made. */
static void test_code_written(void **state)
{
    struct t *t = *state;
    load(t, true);
    struct outcome o = run_for(t, 10000);
    assert_int_equal(o.result, RUN_HALT);
    assert_int_equal(o.ebx, 3 * 0x10 + 15);
    phys_write(&t->c, F + 1, 1, 1); /* as a store would: F's decoded block goes stale */
    o = run_for(t, 10000);
    assert_int_equal(o.result, RUN_HALT);
    assert_int_equal(o.ebx, 3 * 0x10 + 15);
}

/* The loop at CPL 0 links F's RET to SITE2 and leaves SITE in the jump cache. Then at CPL 3
 * (nothing flushed: the same map epoch), F runs with `site` on the stack: its RET must neither
 * follow the link nor take the jump cache's entry made at CPL 0 (both skip the fetch check)
 * but fault on the fetch there, a supervisor page (a triple fault, without an IDT), nothing
 * there run. */
static void ret_other_cpl(struct t *t, uint32_t site)
{
    load(t, false);
    assert_int_equal(run_for(t, 10000).result, RUN_HALT);
    check_link(t, F, SITE2);
    t->c.eip = SITE;
    assert_non_null(icache_jc_get(&t->c));
    t->c.cpl = 3;
    t->c.seg[SEG_CS].sel |= 3;
    t->c.seg[SEG_CS].attr = (uint16_t)(t->c.seg[SEG_CS].attr | (3u << 5));
    t->c.seg[SEG_SS].sel |= 3;
    t->c.seg[SEG_SS].attr = (uint16_t)(t->c.seg[SEG_SS].attr | (3u << 5));
    cpu_update_acc(&t->c);
    t->c.idtr.limit = 0;
    t->c.r[EBX] = 0x1000;
    t->c.r[ESP] = STACK - 4;
    put32(t, STACK - 4, site);
    /* the stack slot in the TLB for CPL 3, so that the RET takes its fast path (the link) */
    assert_int_equal(lin_read(&t->c, STACK - 4, 4), site);
    t->c.eip = F;
    t->c.last_block = NULL;
    t->c.halted = false;
    uint64_t count = t->c.icount;
    assert_int_equal(cpu_run(&t->c, 10000), RUN_SHUTDOWN);
    assert_int_equal(t->c.icount, count + 3); /* mov, add, ret */
    assert_int_equal(t->c.r[EBX], 0x1001);   /* F's add ran, the site's did not */
    assert_int_equal(t->c.cr2, site);         /* the fetch's #PF */
}

static void test_ret_other_cpl_linked(void **state) { ret_other_cpl(*state, SITE2); }
static void test_ret_other_cpl_cached(void **state) { ret_other_cpl(*state, SITE); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_links_and_budgets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_code_written, setup, teardown),
        cmocka_unit_test_setup_teardown(test_call_indirect, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ret_other_cpl_linked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ret_other_cpl_cached, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
