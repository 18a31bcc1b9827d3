/* The fast TLB (cpu.h struct tlb_fast, mem.h tlb_fast_host): per slot and privilege mode, a
 * read tag and a write tag that fold the page, the permission and the page-crossing test into
 * one compare, and a host addend. It is derived from the TLB proper (cpu.tlb) by mmu/mem.c, so
 * what must hold is:
 *
 *   - soundness: whenever tlb_fast_host grants an access, tlb_hit with the current mode's perm
 *     bit grants it too, with the same host address (checked after every step of a random run
 *     of accesses in every mode, CR0.WP, CR4.SMAP, EFLAGS.AC and CR0.AM settings, INVLPG, CR3
 *     loads, full flushes, pages becoming code, PTEs changed behind the TLB's back, MMIO pages;
 *     and, slot by slot, every mode's tags against the entry);
 *   - no lost speed: after an access succeeds, the same access hits the fast TLB when tlb_hit
 *     grants it (a mode's tags are filled when an access in that mode finds the entry);
 *   - the cases the fast path must refuse, one by one: a user read of a supervisor page, a
 *     supervisor write to a read-only page with CR0.WP, a write to a page holding decoded code,
 *     a page-crossing access, a page INVLPG dropped, a user page at CPL 0 with SMAP (EFLAGS.AC
 *     clear), any access with alignment checking (CPL 3, CR0.AM, EFLAGS.AC).
 *
 * tlb_hit (the general lookup) refuses page-crossing accesses as well, wrapping at 4 GiB too.
 *
 * Same machine as test_tlb.c: 32 MiB of RAM, paging on at CPL 0, the low 4 MiB mapped by 4 KiB
 * pages through table PT, linear 0x80000000 mapping the same 4 MiB.
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
#define U 0x004u
#define G 0x100u

struct t {
    struct cpu c;
    struct bus bus;
    uint8_t *ram;
};

static void put32(struct t *t, uint32_t pa, uint32_t v) { memcpy(t->ram + pa, &v, 4); }

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
        map(t, k, k << 12, P | W | U);
        put32(t, (k << 12) + 0x10, k); /* every frame says which it is */
    }
    put32(t, PD, PT | P | W | U);
    put32(t, PD + 4 * 0x200, PT | P | W | U); /* 0x80000000 */
    t->c.cr3 = PD;
    t->c.cr0 |= CR0_PG | CR0_WP;
    t->c.cr4 |= CR4_PGE;
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

/* CPL, CR0.AM, CR4.SMAP and EFLAGS.AC as the instructions that change them leave the cpu
 * (a CR0 or CR4 write flushes the TLB; CPL and AC only select other perm bits). */
static void set_mode(struct t *t, unsigned cpl, bool smap, bool ac, bool am)
{
    struct cpu *c = &t->c;
    bool flush = !!(c->cr4 & CR4_SMAP) != smap || !!(c->cr0 & CR0_AM) != am;
    c->cpl = (uint8_t)cpl;
    c->cr4 = smap ? c->cr4 | CR4_SMAP : c->cr4 & ~CR4_SMAP;
    c->cr0 = am ? c->cr0 | CR0_AM : c->cr0 & ~CR0_AM;
    c->eflags = ac ? c->eflags | FL_AC : c->eflags & ~FL_AC;
    if (flush)
        tlb_flush_all(c);
    cpu_update_acc(c);
}

static bool fast(struct t *t, uint32_t lin, unsigned size, bool write)
{
    return tlb_fast_host(&t->c, lin, size, write) != NULL;
}

/* A read or write through mem.h, a fault caught: the vector, or -1. */
static int access(struct t *t, uint32_t lin, unsigned size, bool write, uint32_t *val)
{
    struct cpu *c = &t->c;
    int r = -1;
    c->jmp_ready = true;
    if (setjmp(c->jmp) == 0) {
        if (write)
            lin_write(c, lin, size, *val);
        else
            *val = lin_read(c, lin, size);
    } else {
        r = c->fault.vector;
    }
    c->jmp_ready = false;
    return r;
}

/* Soundness of one access: a fast hit is a tlb_hit at the same host address. */
static void check_access(struct t *t, uint32_t lin, unsigned size, bool write)
{
    struct cpu *c = &t->c;
    uint8_t *p = tlb_fast_host(c, lin, size, write);
    if (!p)
        return;
    struct tlb_entry *e = tlb_hit(c, lin, size, acc_need(c, write ? TLB_W_S : TLB_R_S));
    assert_non_null(e);
    assert_ptr_equal(p, e->host + (lin & PAGE_MASK));
}

/* Every slot's tags in every mode against its entry. */
static void check_slots(struct t *t)
{
    static const unsigned shift[TLB_MODES - 1] = {0, 3, 6};
    struct cpu *c = &t->c;
    for (unsigned k = 0; k < TLB_ENTRIES; k++) {
        const struct tlb_entry *e = &c->tlb[k];
        for (unsigned m = 0; m < TLB_MODES; m++) {
            const struct tlb_fast *f = &c->tlbf[k][m];
            for (unsigned w = 0; w < 2; w++) {
                uint32_t tag = w ? f->wtag : f->rtag;
                if (tag & PAGE_MASK) {
                    assert_int_equal(tag, TLB_TAG_NONE);
                    continue;
                }
                assert_true(m < TLB_MODES - 1); /* mode 3 never has a tag */
                assert_int_not_equal(e->vpn, TLB_INVALID);
                assert_int_equal(tag, e->vpn << 12);
                assert_true(e->perm & ((w ? TLB_W_S : TLB_R_S) << shift[m]));
                assert_ptr_equal((uint8_t *)(uintptr_t)(f->addend + tag), e->host);
            }
        }
    }
}

static uint32_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return (uint32_t)(*s >> 16);
}

/* 64 pages of random kinds (absent, read-only, writable, user or not, global or not, MMIO),
 * changed behind the TLB's back now and then; accesses in every mode; every kind of flush. */
static void sound_under_random_operations(void **state)
{
    struct t *t = *state;
    struct cpu *c = &t->c;
    static const uint32_t kinds[] = {0, P, P | W, P | U, P | W | U, P | W | G, P | U | G};
    uint64_t s = 0x9E3779B97F4A7C15ull;
    unsigned hits = 0, refusals = 0, faults = 0;
    for (unsigned step = 0; step < 60000; step++) {
        uint32_t r = rnd(&s), vpn = 16 + (r & 63), op = (r >> 6) & 31;
        uint32_t base = (r & 0x80000000u) ? 0x80000000u : 0;
        if (op == 0) { /* a PTE changed, no flush */
            uint32_t frame = (rnd(&s) & 15) == 0 ? (64u << 20) + (vpn << 12) : (vpn + 100) << 12;
            map(t, vpn, frame, kinds[rnd(&s) % (sizeof kinds / sizeof *kinds)]);
        } else if (op == 1) {
            tlb_flush_page(c, base + (vpn << 12));
        } else if (op == 2) {
            tlb_flush_nonglobal(c);
        } else if (op == 3 && (r & 0x100)) {
            tlb_flush_all(c);
        } else if (op == 4) { /* the frame becomes code */
            uint32_t frame = vpn + 100;
            c->page_flags[frame] |= PGF_CODE;
            tlb_protect_code_page(c, frame << 12);
        } else if (op == 5) {
            unsigned m = rnd(&s);
            set_mode(t, (m & 1) ? 3 : 0, m & 2, m & 4, (m & 24) == 24);
        } else if (op == 6) { /* CR0.WP toggled (a CR0 write flushes) */
            c->cr0 ^= CR0_WP;
            tlb_flush_all(c);
        } else {
            static const unsigned sizes[] = {1, 2, 4, 4};
            unsigned size = sizes[(r >> 11) & 3];
            uint32_t off = (r >> 13) & 1 ? PAGE_SIZE - 1 - ((r >> 14) & 3) : (r >> 16) & 0xFFC;
            uint32_t lin = base + (vpn << 12) + off;
            bool write = (r >> 20) & 1;
            uint32_t v = r;
            check_access(t, lin, size, write);
            if (access(t, lin, size, write, &v) >= 0) {
                faults++;
            } else if (tlb_hit(c, lin, size, acc_need(c, write ? TLB_W_S : TLB_R_S))) {
                assert_true(fast(t, lin, size, write)); /* filled for this mode */
                hits++;
            } else {
                assert_false(fast(t, lin, size, write));
                refusals++; /* page-crossing, MMIO, code page, watched, AC */
            }
        }
        for (unsigned k = 0; k < 8; k++) {
            uint32_t lin = base + ((16 + (rnd(&s) & 63)) << 12) + (rnd(&s) & PAGE_MASK);
            check_access(t, lin, 1u << (k & 3) > 4 ? 4 : 1u << (k & 3), k & 4);
        }
        if (step % 512 == 0)
            check_slots(t);
    }
    check_slots(t);
    print_message("hits %u refusals %u faults %u\n", hits, refusals, faults);
    assert_true(hits > 1000 && refusals > 1000 && faults > 1000);
}

static void user_read_of_supervisor_page(void **state)
{
    struct t *t = *state;
    uint32_t v;
    map(t, 20, 20 << 12, P | W);
    assert_int_equal(access(t, 20 << 12, 4, false, &v), -1);
    assert_true(fast(t, 20 << 12, 4, false));
    set_mode(t, 3, false, false, false);
    assert_false(fast(t, 20 << 12, 4, false));
    assert_false(fast(t, 20 << 12, 4, true));
    assert_int_equal(access(t, 20 << 12, 4, false, &v), EXC_PF);
    set_mode(t, 0, false, false, false);
    assert_true(fast(t, 20 << 12, 4, false)); /* mode 0's tags were kept */
}

static void write_to_read_only_page_with_wp(void **state)
{
    struct t *t = *state;
    uint32_t v = 5;
    map(t, 21, 21 << 12, P | U);
    assert_int_equal(access(t, 21 << 12, 4, false, &v), -1);
    assert_true(fast(t, 21 << 12, 4, false));
    assert_false(fast(t, 21 << 12, 4, true));
    assert_int_equal(access(t, 21 << 12, 4, true, &v), EXC_PF);
    t->c.cr0 &= ~CR0_WP; /* then a supervisor write may */
    tlb_flush_all(&t->c);
    assert_int_equal(access(t, 21 << 12, 4, true, &v), -1);
    assert_true(fast(t, 21 << 12, 4, true));
    set_mode(t, 3, false, false, false); /* but not a user one */
    assert_false(fast(t, 21 << 12, 4, true));
    assert_int_equal(access(t, 21 << 12, 4, true, &v), EXC_PF);
}

static void write_to_code_page(void **state)
{
    struct t *t = *state;
    struct cpu *c = &t->c;
    uint32_t v = 7;
    assert_int_equal(access(t, 22 << 12, 4, true, &v), -1);
    assert_true(fast(t, 22 << 12, 4, true));
    c->page_flags[22] |= PGF_CODE; /* decoded code there now */
    tlb_protect_code_page(c, 22 << 12);
    assert_false(fast(t, 22 << 12, 4, true));
    assert_true(fast(t, 22 << 12, 4, false));
    uint32_t gen = c->page_gen[22];
    v = 8;
    assert_int_equal(access(t, (22 << 12) + 8, 4, true, &v), -1);
    assert_int_equal(c->page_gen[22], gen + 1); /* the code died */
    assert_int_equal(c->page_flags[22], 0);
}

static void page_crossing_access(void **state)
{
    struct t *t = *state;
    uint32_t v = 0;
    assert_int_equal(access(t, 23 << 12, 4, true, &v), -1);
    assert_int_equal(access(t, 24 << 12, 4, true, &v), -1);
    assert_true(fast(t, (23 << 12) + 0xFFC, 4, true));
    assert_false(fast(t, (23 << 12) + 0xFFD, 4, true));
    assert_false(fast(t, (23 << 12) + 0xFFE, 4, false));
    assert_false(fast(t, (23 << 12) + 0xFFF, 2, false));
    assert_true(fast(t, (23 << 12) + 0xFFE, 2, false));
    assert_true(fast(t, (23 << 12) + 0xFFF, 1, false));
    /* tlb_hit (implicit accesses, delivery, IRET, REP) refuses them too */
    struct cpu *c = &t->c;
    assert_non_null(tlb_hit(c, (23 << 12) + 0xFFC, 4, TLB_R_S));
    assert_null(tlb_hit(c, (23 << 12) + 0xFFD, 4, TLB_R_S));
    assert_null(tlb_hit(c, (23 << 12) + 0xFFF, 2, TLB_W_S));
    assert_null(tlb_hit(c, (23 << 12) + 0xFF9, 8, TLB_R_S));
    assert_non_null(tlb_hit(c, (23 << 12) + 0xFE0, 32, TLB_W_S));
    assert_null(tlb_hit(c, (23 << 12) + 0xFE1, 32, TLB_W_S));
    /* the last page of the linear space, and an access wrapping to 0 */
    map(t, 1023, 1023u << 12, P | W);
    put32(t, PD + 4 * 1023, PT | P | W);
    assert_int_equal(access(t, 0xFFFFF000u, 4, false, &v), -1);
    assert_int_equal(access(t, 0, 4, false, &v), -1);
    assert_true(fast(t, 0xFFFFFFFCu, 4, false));
    assert_false(fast(t, 0xFFFFFFFEu, 4, false));
    assert_false(fast(t, 0xFFFFFFFFu, 2, false));
    assert_non_null(tlb_hit(c, 0xFFFFFFFCu, 4, TLB_R_S));
    assert_null(tlb_hit(c, 0xFFFFFFFEu, 4, TLB_R_S));
}

static void stale_entry_after_invlpg(void **state)
{
    struct t *t = *state;
    uint32_t v;
    assert_int_equal(access(t, (25 << 12) + 0x10, 4, false, &v), -1);
    assert_int_equal(v, 25);
    map(t, 25, 26 << 12, P | W);
    assert_int_equal(access(t, (25 << 12) + 0x10, 4, false, &v), -1);
    assert_int_equal(v, 25); /* cached, as the hardware may */
    tlb_flush_page(&t->c, 25 << 12);
    assert_false(fast(t, 25 << 12, 4, false));
    assert_int_equal(access(t, (25 << 12) + 0x10, 4, false, &v), -1);
    assert_int_equal(v, 26);
    map(t, 25, 27 << 12, P | W);
    tlb_flush_nonglobal(&t->c); /* a CR3 load */
    assert_false(fast(t, 25 << 12, 4, false));
    assert_int_equal(access(t, (25 << 12) + 0x10, 4, false, &v), -1);
    assert_int_equal(v, 27);
    /* a slot refilled with another page (the kernel alias, 0x80000 pages on: the same slot)
     * drops the old page's tags in every mode, those of the mode not running too */
    map(t, 25, 27 << 12, P | W | U);
    tlb_flush_page(&t->c, 25 << 12);
    set_mode(t, 3, false, false, false);
    assert_int_equal(access(t, (25 << 12) + 0x10, 4, false, &v), -1);
    assert_true(fast(t, 25 << 12, 4, false));
    set_mode(t, 0, false, false, false);
    assert_int_equal(access(t, (25 << 12) + 0x10, 4, false, &v), -1);
    assert_true(fast(t, 25 << 12, 4, false));
    assert_int_equal(access(t, 0x80000000u + (25 << 12) + 0x10, 4, false, &v), -1);
    assert_int_equal(v, 27);
    assert_false(fast(t, 25 << 12, 4, false));
    set_mode(t, 3, false, false, false);
    assert_false(fast(t, 25 << 12, 4, false));
    map(t, 25, 28 << 12, P | W | U);
    assert_int_equal(access(t, (25 << 12) + 0x10, 4, false, &v), -1);
    assert_int_equal(v, 28);
}

static void user_page_under_smap(void **state)
{
    struct t *t = *state;
    uint32_t v;
    set_mode(t, 3, true, false, false);
    assert_int_equal(access(t, 29 << 12, 4, false, &v), -1);
    assert_true(fast(t, 29 << 12, 4, false));
    set_mode(t, 0, true, false, false); /* SMAP, AC clear: no supervisor access to it */
    assert_false(fast(t, 29 << 12, 4, false));
    assert_int_equal(access(t, 29 << 12, 4, false, &v), EXC_PF);
    set_mode(t, 0, true, true, false); /* AC set: allowed */
    assert_int_equal(access(t, 29 << 12, 4, false, &v), -1);
    assert_true(fast(t, 29 << 12, 4, false));
    set_mode(t, 0, true, false, false);
    assert_false(fast(t, 29 << 12, 4, false));
}

static void alignment_checking_never_fast(void **state)
{
    struct t *t = *state;
    uint32_t v;
    set_mode(t, 3, false, true, true);
    assert_int_equal(access(t, 30 << 12, 4, false, &v), -1);
    assert_int_equal(access(t, 30 << 12, 4, true, &v), -1);
    assert_false(fast(t, 30 << 12, 4, false));
    assert_false(fast(t, 30 << 12, 4, true));
    assert_int_equal(access(t, (30 << 12) + 1, 4, false, &v), EXC_AC);
    set_mode(t, 3, false, false, true);
    assert_int_equal(access(t, 30 << 12, 4, false, &v), -1);
    assert_true(fast(t, 30 << 12, 4, false));
    assert_int_equal(access(t, (30 << 12) + 1, 4, false, &v), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(sound_under_random_operations, setup, teardown),
        cmocka_unit_test_setup_teardown(user_read_of_supervisor_page, setup, teardown),
        cmocka_unit_test_setup_teardown(write_to_read_only_page_with_wp, setup, teardown),
        cmocka_unit_test_setup_teardown(write_to_code_page, setup, teardown),
        cmocka_unit_test_setup_teardown(page_crossing_access, setup, teardown),
        cmocka_unit_test_setup_teardown(stale_entry_after_invlpg, setup, teardown),
        cmocka_unit_test_setup_teardown(user_page_under_smap, setup, teardown),
        cmocka_unit_test_setup_teardown(alignment_checking_never_fast, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
