/* The inline TLB refill (paging.h paging_walk_fast, mem.c's miss path) against the general
 * walk (paging_walk): for every combination of the PDE's and PTE's flag bits (P, R/W, U/S, A,
 * D, G, PS), CR0.WP, CR4.PSE/PGE/SMEP/SMAP and every access (each TLB perm bit), both walk
 * the same tables from the same memory, and
 *
 *   - when the fast walk takes the case, the general one must allow it too and give the same
 *     physical address, rights and global bit, and leave the same PDE and PTE behind (accessed
 *     and dirty bits);
 *   - when it declines, it must have written nothing;
 *   - it must take the usual case (present, granted, 4 KiB page): otherwise the miss path would
 *     be as slow as before and nothing here would notice.
 *
 * Also: entries outside RAM (declined), a page table that is its own directory (the PDE and PTE
 * one word: the general walk writes A into it, then the PTE it read before), and the same
 * through the TLB (lin_read, lin_write): the values reach the right frames and A/D are set.
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
#include "mmu/paging.h"

#define RAM_SIZE (8u << 20)
#define PD 0x100000u
#define PT 0x101000u
#define LIN 0x00400123u /* PDE 1, PTE 0 */
#define FRAME 0x345000u

struct t {
    struct cpu c;
    struct bus bus;
    uint8_t *ram;
};

static void put32(struct t *t, uint32_t pa, uint32_t v) { memcpy(t->ram + pa, &v, 4); }
static uint32_t get32(struct t *t, uint32_t pa)
{
    uint32_t v;
    memcpy(&v, t->ram + pa, 4);
    return v;
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
    t->c.cr3 = PD;
    t->c.cr0 |= CR0_PG;
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

struct outcome {
    bool ok;
    uint32_t pa, perm, pde, pte;
    bool global;
};

/* The general walk, a #PF caught (ok = false). */
static struct outcome general(struct t *t, uint32_t lin, uint32_t need, uint32_t pde_addr,
                              uint32_t pte_addr)
{
    struct outcome o = {0};
    struct cpu *c = &t->c;
    c->jmp_ready = true;
    if (setjmp(c->jmp) == 0) {
        o.pa = paging_walk(c, lin, need, &o.perm, &o.global);
        o.ok = true;
    }
    c->jmp_ready = false;
    o.pde = get32(t, pde_addr);
    o.pte = get32(t, pte_addr);
    return o;
}

static struct outcome fast(struct t *t, uint32_t lin, uint32_t need, uint32_t pde_addr,
                           uint32_t pte_addr)
{
    struct outcome o = {0};
    o.ok = paging_walk_fast(&t->c, lin, need, &o.pa, &o.perm, &o.global);
    o.pde = get32(t, pde_addr);
    o.pte = get32(t, pte_addr);
    return o;
}

/* Both walks from the same entries; returns whether the fast one took the case. */
static bool compare(struct t *t, uint32_t lin, uint32_t need, uint32_t pde_addr, uint32_t pde,
                    uint32_t pte_addr, uint32_t pte)
{
    put32(t, pde_addr, pde);
    put32(t, pte_addr, pte);
    struct outcome f = fast(t, lin, need, pde_addr, pte_addr);
    uint32_t f_pde_after = get32(t, pde_addr), f_pte_after = get32(t, pte_addr);
    put32(t, pde_addr, pde);
    put32(t, pte_addr, pte);
    struct outcome g = general(t, lin, need, pde_addr, pte_addr);
    if (!f.ok) {
        /* declined: nothing written */
        assert_int_equal(f_pde_after, pde);
        assert_int_equal(f_pte_after, pte);
        return false;
    }
    assert_true(g.ok);
    assert_int_equal(f.pa, g.pa);
    assert_int_equal(f.perm, g.perm);
    assert_int_equal(f.global, g.global);
    assert_int_equal(f.pde, g.pde);
    assert_int_equal(f.pte, g.pte);
    return true;
}

static void every_flag_combination(void **state)
{
    struct t *t = *state;
    static const uint32_t cr4s[] = {CR4_PSE, CR4_PGE, CR4_SMEP, CR4_SMAP};
    unsigned taken = 0, usual = 0;
    for (unsigned pdef = 0; pdef < 64; pdef++) {
        /* PDE: P W U A PS G */
        uint32_t pde = PT | (pdef & 1 ? PTE_P : 0) | (pdef & 2 ? PTE_W : 0) |
                       (pdef & 4 ? PTE_U : 0) | (pdef & 8 ? PTE_A : 0) |
                       (pdef & 16 ? PDE_PS : 0) | (pdef & 32 ? PTE_G : 0);
        for (unsigned ptef = 0; ptef < 64; ptef++) {
            /* PTE: P W U A D G */
            uint32_t pte = FRAME | (ptef & 1 ? PTE_P : 0) | (ptef & 2 ? PTE_W : 0) |
                           (ptef & 4 ? PTE_U : 0) | (ptef & 8 ? PTE_A : 0) |
                           (ptef & 16 ? PTE_D : 0) | (ptef & 32 ? PTE_G : 0);
            for (unsigned cr = 0; cr < 32; cr++) {
                t->c.cr0 = (t->c.cr0 & ~CR0_WP) | (cr & 1 ? CR0_WP : 0);
                t->c.cr4 = 0;
                for (unsigned k = 0; k < 4; k++)
                    if (cr & (2u << k))
                        t->c.cr4 |= cr4s[k];
                for (uint32_t need = 1; need <= TLB_W_I; need <<= 1) {
                    bool took = compare(t, LIN, need, PD + 4, pde, PT, pte);
                    taken += took;
                    bool plain = (pde & (PTE_P | PDE_PS)) == PTE_P && (pte & PTE_P) &&
                                 !(t->c.cr4 & (CR4_SMEP | CR4_SMAP)) &&
                                 (need == TLB_R_S || need == TLB_X_S || need == TLB_R_I ||
                                  (need == TLB_R_U && (pde & pte & PTE_U)) ||
                                  (need == TLB_W_S && (pde & pte & PTE_W)));
                    if (plain) {
                        assert_true(took); /* the usual case stays on the fast path */
                        usual++;
                    }
                }
            }
        }
    }
    assert_true(usual > 1000);
    assert_true(taken >= usual);
}

static void entries_outside_ram_are_declined(void **state)
{
    struct t *t = *state;
    /* the page table beyond RAM */
    put32(t, PD + 4, (RAM_SIZE + 0x1000) | PTE_P | PTE_W | PTE_A);
    uint32_t pa, perm;
    bool global;
    assert_false(paging_walk_fast(&t->c, LIN, TLB_R_S, &pa, &perm, &global));
    /* the directory beyond RAM */
    t->c.cr3 = RAM_SIZE + 0x2000;
    assert_false(paging_walk_fast(&t->c, LIN, TLB_R_S, &pa, &perm, &global));
    t->c.cr3 = PD;
}

/* PDE 1 points at the directory itself: the PTE of LIN is the directory's word 0, and of
 * linear 0x00401000 (PTE 1) the PDE itself. */
static void directory_as_its_own_table(void **state)
{
    struct t *t = *state;
    for (unsigned a = 0; a < 4; a++) {
        uint32_t pde = PD | PTE_P | PTE_W | (a & 1 ? PTE_A : 0) | (a & 2 ? PTE_D : 0);
        assert_true(compare(t, 0x00401010u, TLB_W_S, PD + 4, pde, PD + 4, pde));
        assert_true(compare(t, 0x00401010u, TLB_R_S, PD + 4, pde, PD + 4, pde));
    }
}

/* Through the TLB: a read and a write of a page never walked before reach its frame, set A in
 * both entries and D on the write only, and the entry then hits. */
static void refill_through_the_tlb(void **state)
{
    struct t *t = *state;
    put32(t, PD + 4, PT | PTE_P | PTE_W | PTE_U);
    put32(t, PT, FRAME | PTE_P | PTE_W | PTE_U);
    put32(t, PT + 4, (FRAME + 0x1000) | PTE_P | PTE_W | PTE_U);
    put32(t, FRAME + 0x123, 0xCAFEF00Du);
    tlb_flush_all(&t->c);
    assert_int_equal(lin_read(&t->c, LIN, 4), 0xCAFEF00Du);
    assert_int_equal(get32(t, PD + 4) & (PTE_A | PTE_D), PTE_A);
    assert_int_equal(get32(t, PT) & (PTE_A | PTE_D), PTE_A);
    assert_null(tlb_hit(&t->c, LIN, 4, TLB_W_S)); /* not dirty: no write through the TLB */
    assert_non_null(tlb_hit(&t->c, LIN, 4, TLB_R_S));
    lin_write(&t->c, LIN + 0x1000, 4, 0x12345678u);
    assert_int_equal(get32(t, FRAME + 0x1123), 0x12345678u);
    assert_int_equal(get32(t, PT + 4) & (PTE_A | PTE_D), PTE_A | PTE_D);
    assert_non_null(tlb_hit(&t->c, LIN + 0x1000, 4, TLB_W_S));
    lin_write(&t->c, LIN, 4, 1);
    assert_int_equal(get32(t, FRAME + 0x123), 1u);
    assert_int_equal(get32(t, PT) & (PTE_A | PTE_D), PTE_A | PTE_D);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(every_flag_combination, setup, teardown),
        cmocka_unit_test_setup_teardown(entries_outside_ram_are_declined, setup, teardown),
        cmocka_unit_test_setup_teardown(directory_as_its_own_table, setup, teardown),
        cmocka_unit_test_setup_teardown(refill_through_the_tlb, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
