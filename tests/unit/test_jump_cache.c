/* The jump cache (src/cpu/icache.c jc_get): a block change whose link slot in the previous block
 * holds a link for another EIP (here a RET to one of six callers, two of them per slot) is
 * answered by the block last found at that EIP, under the same test as a link (same EIP, map
 * epoch, CPL, and the block's page not written since it was decoded).
 *
 * The code: an outer loop, three times, of six sites `call F; add ebx, 0x10`; F is
 * `mov eax, 1; ret`. The cases: the loops as they are (the cache answers); the outer loop also
 * incrementing the third site's immediate (a store into decoded code: a stale block would make
 * the sum come out short); a RET at CPL 3 to a site cached at CPL 0 on a supervisor page (must
 * fault on the fetch); the code page remapped to a changed copy and the TLB flushed (no entry
 * of the old map epoch may answer). Each case fails when its test in jc_get is removed.
 *
 * The machine: 1 MiB of RAM, flat protected mode; paging off, or on (identity, supervisor
 * pages) in the last two cases.
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
#include "mmu/mem.h"

#define RAM_SIZE (1u << 20)
#define CODE 0x4000u
#define OUTER 0x4005u
#define SITE_BYTES 11u
#define SITES 6u
#define F 0x6000u

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

/* Writes the loops; `modify`: the outer loop increments the third site's immediate. */
static void load_code(struct t *t, bool modify)
{
    uint8_t *p = t->ram + CODE;
    memcpy(p, (const uint8_t[]){0xBA, 0x03, 0x00, 0x00, 0x00}, 5); /* mov edx, 3 */
    for (uint32_t k = 0; k < SITES; k++) {
        uint32_t a = OUTER + k * SITE_BYTES;
        t->ram[a] = 0xE8; /* call F */
        put32(t, a + 1, F - (a + 5));
        memcpy(t->ram + a + 5, (const uint8_t[]){0x81, 0xC3, 0x10, 0x00, 0x00, 0x00}, 6);
    }
    uint32_t a = OUTER + SITES * SITE_BYTES; /* 0x4047 */
    if (modify) {
        memcpy(t->ram + a, (const uint8_t[]){0xFE, 0x05}, 2); /* inc byte [site 2's imm] */
        put32(t, a + 2, OUTER + 2 * SITE_BYTES + 7);
    } else {
        memset(t->ram + a, 0x90, 6);
    }
    memcpy(t->ram + a + 6, (const uint8_t[]){0x4A, 0x75, 0x00, 0xF4}, 4); /* dec edx; jnz; hlt */
    t->ram[a + 8] = (uint8_t)(OUTER - (a + 9));
    memcpy(t->ram + F, (const uint8_t[]){0xB8, 0x01, 0x00, 0x00, 0x00, 0xC3}, 6);
}

static uint32_t run(struct t *t)
{
    t->c.r[EBX] = 0;
    t->c.r[ESP] = 0x8000;
    t->c.eip = CODE;
    t->c.halted = false;
    assert_int_equal(cpu_run(&t->c, 10000), RUN_HALT);
    return t->c.r[EBX];
}

static void test_ret_to_many_callers(void **state)
{
    struct t *t = *state;
    load_code(t, false);
    cpu_reset_protected_flat(&t->c, CODE);
    cpu_flush_decoded(&t->c);
    uint64_t hits = t->c.icache->jc_hits;
    assert_int_equal(run(t), 3 * SITES * 0x10);
    assert_true(t->c.icache->jc_hits > hits); /* the path under test was taken */
}

static void test_code_written(void **state)
{
    struct t *t = *state;
    load_code(t, true);
    cpu_reset_protected_flat(&t->c, CODE);
    cpu_flush_decoded(&t->c);
    /* Every entry goes stale at each store into the page (no hit is expected here): what is
     * tested is that none is used then (removing jc_get's page_gen test fails this). */
    assert_int_equal(run(t), 3 * SITES * 0x10 + 3); /* site 2 adds 0x10, 0x11, 0x12 */
}

/* Identity paging of the first 4 MiB with supervisor pages (a CPL 3 fetch faults). */
static void paging_on(struct t *t)
{
    put32(t, 0x10000, 0x11000 | 0x3); /* PDE 0: P, W, supervisor */
    for (uint32_t pg = 0; pg < 256; pg++)
        put32(t, 0x11000 + pg * 4, (pg << 12) | 0x3);
    t->c.cr3 = 0x10000;
    t->c.cr0 |= CR0_PG;
    cpu_flush_decoded(&t->c);
}

/* After a run: a return site R whose link slot in F's block holds a link for another site,
 * with a jump cache entry for R: a RET from F to R goes through jc_get. F's block is returned. */
static struct block *collided_site(struct t *t, uint32_t *site)
{
    t->c.eip = F;
    struct block *f = icache_lookup(&t->c);
    for (uint32_t k = 0; k < SITES; k++) {
        uint32_t r = OUTER + k * SITE_BYTES + 5;
        unsigned slot = link_slot(r);
        if (!f->link[slot] || f->link_epoch[slot] != t->c.map_epoch || f->link_eip[slot] == r)
            continue;
        for (uint32_t j = 0; j < ICACHE_JC_SLOTS; j++)
            if (t->c.icache->jc[j].b && t->c.icache->jc[j].eip == r) {
                *site = r;
                return f;
            }
    }
    fail_msg("no return site whose link slot in F's block is taken by another");
    return NULL;
}

/* The loops at CPL 0 on supervisor pages; then, with nothing flushed, CPL 3 returns from F to a
 * site whose jump cache entry was made at CPL 0: the fetch there must fault (a triple fault,
 * without an IDT) with nothing retired, not run the cached block (the entry skips the fetch
 * permission check, as a link does). */
static void test_other_cpl(void **state)
{
    struct t *t = *state;
    load_code(t, false);
    cpu_reset_protected_flat(&t->c, CODE);
    paging_on(t);
    assert_int_equal(run(t), 3 * SITES * 0x10);
    assert_true(t->c.icache->jc_hits > 0);
    uint32_t r = 0;
    struct block *f = collided_site(t, &r);
    t->c.cpl = 3;
    t->c.seg[SEG_CS].sel |= 3;
    t->c.seg[SEG_CS].attr = (uint16_t)(t->c.seg[SEG_CS].attr | (3u << 5));
    t->c.seg[SEG_SS].sel |= 3;
    t->c.seg[SEG_SS].attr = (uint16_t)(t->c.seg[SEG_SS].attr | (3u << 5));
    cpu_update_acc(&t->c);
    t->c.idtr.limit = 0;
    t->c.last_block = f; /* as after F's RET */
    t->c.eip = r;
    t->c.r[EBX] = 0x1234;
    t->c.halted = false;
    uint64_t count = t->c.icount;
    assert_int_equal(cpu_run(&t->c, 10000), RUN_SHUTDOWN);
    assert_int_equal(t->c.icount, count); /* not even the ADD at the site ran */
    assert_int_equal(t->c.r[EBX], 0x1234);
}

/* The code page remapped to a copy whose fifth site adds 0x20, and the TLB flushed (a new map
 * epoch, as MOV CR3 makes): no entry made under the old mapping may answer (the fifth site's
 * link slot in F's block is the third's, so its RET goes through jc_get in the first pass). */
static void test_remapped(void **state)
{
    struct t *t = *state;
    load_code(t, false);
    cpu_reset_protected_flat(&t->c, CODE);
    paging_on(t);
    assert_int_equal(run(t), 3 * SITES * 0x10);
    uint32_t site4 = OUTER + 4 * SITE_BYTES + 5, site2 = OUTER + 2 * SITE_BYTES + 5;
    assert_int_equal(link_slot(site4), link_slot(site2));
    memcpy(t->ram + 0x20000, t->ram + CODE, 0x1000);
    t->ram[0x20000 + (site4 - CODE) + 2] = 0x20;
    put32(t, 0x11000 + (CODE >> 12) * 4, 0x20000 | 0x3);
    tlb_flush_all(&t->c);
    uint64_t hits = t->c.icache->jc_hits;
    assert_int_equal(run(t), 3 * (SITES - 1) * 0x10 + 3 * 0x20);
    assert_true(t->c.icache->jc_hits > hits);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ret_to_many_callers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_code_written, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_cpl, setup, teardown),
        cmocka_unit_test_setup_teardown(test_remapped, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
