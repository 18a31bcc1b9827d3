/* The TLB's structure (src/mmu/mem.c, cpu.h): 1024 direct-mapped slots, and the list of the
 * slots filled since the last flush (cpu.tlb_used) that flushes and the code-page protection
 * walk instead of every slot. Each case fails if an entry the list should name is missed:
 *
 *   - global entries survive any number of CR3 loads (tlb_flush_nonglobal keeps them in the
 *     list), and the next full flush (a CR4.PGE toggle) still drops them;
 *   - INVLPG drops one page, and its refills (which list the slot again) overflowing the list
 *     make the next flush walk every slot;
 *   - every slot filled at once, then flushed;
 *   - a 4 MiB page cached as several 4 KiB pieces: INVLPG of one drops them all;
 *   - a page becoming code loses write permission in every entry that maps it;
 *   - a kernel at 0x80100000 and user page 0 keep separate slots;
 *   - an MMIO page's translation is kept (no walk on every access, as xv6's LAPIC reads did),
 *     though no fast path ever hits it.
 *
 * The accesses go straight through mem.h (lin_read, lin_write) at CPL 0 with paging on: 32 MiB
 * of RAM, the page directory at PD (above 4 MiB), the low 4 MiB identity-mapped by 4 KiB pages
 * (table PT), and linear 0x80000000 mapping the same 4 MiB through the same table.
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
#include "mmu/mem.h"

#define RAM_SIZE (32u << 20)
#define PD 0x1800000u
#define PT 0x1801000u
#define P 0x001u
#define W 0x002u
#define G 0x100u
#define PS 0x080u

struct t {
    struct cpu c;
    struct bus bus;
    uint8_t *ram;
};

static void put32(struct t *t, uint32_t pa, uint32_t v) { memcpy(t->ram + pa, &v, 4); }

/* The PTE of linear page vpn in the low 4 MiB. */
static void map(struct t *t, uint32_t vpn, uint32_t frame, uint32_t flags)
{
    put32(t, PT + 4 * vpn, frame | flags);
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
    cpu_reset_protected_flat(&t->c, 0x1000);
    for (uint32_t k = 0; k < 1024; k++) {
        map(t, k, k << 12, P | W);
        put32(t, (k << 12) + 0x10, k); /* every frame says which it is */
    }
    put32(t, PD, PT | P | W);
    put32(t, PD + 4 * 0x200, PT | P | W); /* 0x80000000 */
    t->c.cr3 = PD;
    t->c.cr0 |= CR0_PG | CR0_WP;
    t->c.cr4 |= CR4_PGE | CR4_PSE;
    cpu_flush_decoded(&t->c);
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

/* The frame number the translation of linear page vpn now gives (its word at +0x10). */
static uint32_t frame_of(struct t *t, uint32_t lin) { return lin_read(&t->c, lin + 0x10, 4); }

static bool cached(struct t *t, uint32_t lin, uint32_t need)
{
    return tlb_hit(&t->c, lin, 4, need) != NULL;
}

static void globals_survive_cr3_loads_until_a_full_flush(void **state)
{
    struct t *t = *state;
    map(t, 5, 5 << 12, P | W | G);
    map(t, 6, 6 << 12, P | W);
    for (unsigned round = 0; round < 5; round++) {
        assert_int_equal(frame_of(t, 5 << 12), 5);
        assert_int_equal(frame_of(t, 6 << 12), 6);
        for (uint32_t k = 100; k < 140; k++) /* other, non-global, slots */
            assert_int_equal(frame_of(t, k << 12), k);
        tlb_flush_nonglobal(&t->c);
        assert_true(cached(t, 5 << 12, TLB_R_S));
        assert_false(cached(t, 6 << 12, TLB_R_S));
        for (uint32_t k = 100; k < 140; k++)
            assert_false(cached(t, k << 12, TLB_R_S));
    }
    /* Behind the TLB's back: the global page still reads its old frame after a CR3 load. */
    map(t, 5, 7 << 12, P | W | G);
    map(t, 6, 8 << 12, P | W);
    tlb_flush_nonglobal(&t->c);
    assert_int_equal(frame_of(t, 5 << 12), 5);
    assert_int_equal(frame_of(t, 6 << 12), 8);
    tlb_flush_all(&t->c); /* CR4.PGE toggled, CR0 written */
    assert_false(cached(t, 5 << 12, TLB_R_S));
    assert_int_equal(frame_of(t, 5 << 12), 7);
}

static void invlpg_refills_overflow_the_list(void **state)
{
    struct t *t = *state;
    for (unsigned k = 0; k < 3 * TLB_ENTRIES; k++) { /* each refill lists the slot again */
        assert_int_equal(frame_of(t, 9 << 12), 9);
        tlb_flush_page(&t->c, 9 << 12);
        assert_false(cached(t, 9 << 12, TLB_R_S));
    }
    assert_int_equal(frame_of(t, 10 << 12), 10); /* filled while the list has overflowed */
    assert_int_equal(frame_of(t, 9 << 12), 9);
    assert_false(t->c.tlb_used_ok);
    map(t, 9, 11 << 12, P | W);
    map(t, 10, 12 << 12, P | W);
    assert_int_equal(frame_of(t, 10 << 12), 10); /* the TLB still holds the old ones */
    tlb_flush_nonglobal(&t->c);
    assert_true(t->c.tlb_used_ok);
    assert_int_equal(frame_of(t, 9 << 12), 11);
    assert_int_equal(frame_of(t, 10 << 12), 12);
    /* INVLPG drops that page only. */
    map(t, 9, 13 << 12, P | W);
    map(t, 10, 14 << 12, P | W);
    tlb_flush_page(&t->c, 9 << 12);
    assert_int_equal(frame_of(t, 9 << 12), 13);
    assert_int_equal(frame_of(t, 10 << 12), 12);
}

static void every_slot_filled_then_flushed(void **state)
{
    struct t *t = *state;
    for (uint32_t k = 0; k < TLB_ENTRIES; k += 3)
        map(t, k, k << 12, P | W | G);
    for (unsigned round = 0; round < 3; round++) {
        for (uint32_t k = 0; k < TLB_ENTRIES; k++)
            assert_int_equal(frame_of(t, k << 12), k);
        for (uint32_t k = 0; k < TLB_ENTRIES; k++)
            assert_true(cached(t, k << 12, TLB_R_S));
        tlb_flush_nonglobal(&t->c);
        for (uint32_t k = 0; k < TLB_ENTRIES; k++)
            assert_int_equal(cached(t, k << 12, TLB_R_S), k % 3 == 0);
    }
    tlb_flush_all(&t->c);
    for (uint32_t k = 0; k < TLB_ENTRIES; k++)
        assert_false(cached(t, k << 12, TLB_R_S));
}

static void invlpg_drops_every_piece_of_a_4m_page(void **state)
{
    struct t *t = *state;
    put32(t, PD + 4 * 2, (16u << 20) | PS | P | W); /* 0x800000 -> 16 MiB, 4 MiB page */
    put32(t, (16u << 20) + 0x10, 0x1600);
    put32(t, (16u << 20) + 0x3FF010, 0x19FF);
    tlb_flush_all(&t->c);
    assert_int_equal(frame_of(t, 20 << 12), 20); /* a 4 KiB page elsewhere */
    assert_int_equal(frame_of(t, 0x800000), 0x1600);
    assert_int_equal(frame_of(t, 0xBFF000), 0x19FF);
    tlb_flush_page(&t->c, 0xBFF123);
    assert_false(cached(t, 0x800000, TLB_R_S));
    assert_false(cached(t, 0xBFF000, TLB_R_S));
    assert_true(cached(t, 20 << 12, TLB_R_S));
}

static void code_page_loses_write_in_every_alias(void **state)
{
    struct t *t = *state;
    map(t, 30, 40 << 12, P | W);
    map(t, 31, 40 << 12, P | W); /* an alias of the same frame */
    lin_write(&t->c, 30 << 12, 4, 0x55);
    lin_write(&t->c, (31 << 12) + 4, 4, 0x66);
    lin_write(&t->c, 0x80000000u + (40 << 12), 4, 0x77); /* and the frame's own kernel alias */
    assert_true(cached(t, 30 << 12, TLB_W_S));
    assert_true(cached(t, 31 << 12, TLB_W_S));
    assert_true(cached(t, 0x80000000u + (40 << 12), TLB_W_S));
    tlb_protect_code_page(&t->c, 40 << 12);
    assert_false(cached(t, 30 << 12, TLB_W_S));
    assert_false(cached(t, 31 << 12, TLB_W_S));
    assert_false(cached(t, 0x80000000u + (40 << 12), TLB_W_S));
    assert_true(cached(t, 30 << 12, TLB_R_S));
    assert_true(cached(t, 0x80000000u + (40 << 12), TLB_R_S));
    assert_int_equal(lin_read(&t->c, 31 << 12, 4), 0x77);
}

static void kernel_and_user_page_keep_separate_slots(void **state)
{
    struct t *t = *state;
    map(t, 0x100, 0x100 << 12, P | W);
    assert_int_equal(frame_of(t, 0), 0);
    assert_int_equal(frame_of(t, 0x80100000u), 0x100);
    assert_true(cached(t, 0, TLB_R_S));
    assert_true(cached(t, 0x80100000u, TLB_R_S));
}

static void mmio_translation_is_kept_but_never_a_fast_hit(void **state)
{
    struct t *t = *state;
    map(t, 50, 64u << 20, P | W); /* beyond RAM: nothing there reads as all ones */
    assert_int_equal(lin_read(&t->c, 50 << 12, 4), 0xFFFFFFFFu);
    assert_false(cached(t, 50 << 12, TLB_R_S));
    map(t, 50, 50 << 12, P | W); /* behind the TLB's back: the translation is cached */
    assert_int_equal(lin_read(&t->c, (50 << 12) + 0x10, 4), 0xFFFFFFFFu);
    lin_write(&t->c, 50 << 12, 4, 1); /* a write walks once more to set D, to the RAM frame */
    assert_true(t->ram[(50 << 12) + 0x0] == 1);
    map(t, 50, 64u << 20, P | W);
    tlb_flush_page(&t->c, 50 << 12);
    assert_int_equal(lin_read(&t->c, 50 << 12, 4), 0xFFFFFFFFu);
    map(t, 50, 50 << 12, P | W);
    tlb_flush_nonglobal(&t->c);
    assert_int_equal(frame_of(t, 50 << 12), 50);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(globals_survive_cr3_loads_until_a_full_flush, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(invlpg_refills_overflow_the_list, setup, teardown),
        cmocka_unit_test_setup_teardown(every_slot_filled_then_flushed, setup, teardown),
        cmocka_unit_test_setup_teardown(invlpg_drops_every_piece_of_a_4m_page, setup, teardown),
        cmocka_unit_test_setup_teardown(code_page_loses_write_in_every_alias, setup, teardown),
        cmocka_unit_test_setup_teardown(kernel_and_user_page_keep_separate_slots, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(mmio_translation_is_kept_but_never_a_fast_hit, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
