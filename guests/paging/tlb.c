/* Guest: TLB coherence as the architecture guarantees it (SDM vol. 3 4.10.4).
 *
 * After a paging-structure entry changes, INVLPG of the address or a CR3 load must make the new
 * entry take effect: a remapped page reads the new frame, a page made read-only, supervisor or
 * not present faults, cleared accessed/dirty bits are set again, remapped code runs the new
 * code. Without the flush the old translation may or may not be used, so that side is never
 * tested, except where the architecture promises it: a P = 0 -> 1 change needs no flush (no
 * translation is cached from a not-present entry, 4.10.4.3). Global pages: toggling CR4.PGE and
 * INVLPG drop them. A page table edited through another mapping of it (the page directory
 * mapped into itself at 0xFFC00000) is seen after the flush. INVLPG of one address of a 4 MiB
 * page drops the whole page.
 *
 * The test window TEST (kern.h) maps frames F(k) = physical 0x800000 + k * 4 KiB; each frame's
 * first dword holds the tag 0xA00 + k, written through the kernel's alias.
 */
#include "kern.h"

#define F(k) (TEST_PHYS + (k) * 0x1000u)
#define PAGE(i) (TEST + (i) * 0x1000u)
#define TAG(k) (0xA00u + (k))
#define RECURSIVE 0xFFC00000u /* pd[1023] = pd: page tables appear here */

static volatile uint32_t *alias_of(unsigned k) { return (volatile uint32_t *)(ALIAS + k * 0x1000u); }

static void reset(void)
{
    for (unsigned i = 0; i < 1024; i++)
        test_pt[i] = 0;
    pd[2] = addr(test_pt) | PG_P | PG_W | PG_U;
    for (unsigned k = 0; k < 32; k++)
        alias_of(k)[0] = TAG(k);
    flush_tlb();
}

static void map(unsigned i, unsigned k, uint32_t flags) { test_pt[i] = F(k) | PG_P | flags; }

static uint32_t rd(unsigned cpl, uint32_t lin)
{
    uint32_t v = 0;
    uint32_t vec = do_read(cpl, lin, &v);
    return vec == VEC_DONE ? v : 0xEEE00000u | vec;
}

/* The fault a write or read makes: 0 if none, else (vector << 16) | error code. */
static uint32_t fault_of(uint32_t vec)
{
    return vec == VEC_DONE ? 0 : (vec << 16) | (last_frame.error & 0xFFFF);
}

static void remap(void)
{
    reset();
    map(1, 10, PG_W);
    check("read through a fresh mapping", rd(0, PAGE(1)), TAG(10));
    map(1, 11, PG_W);
    invlpg(PAGE(1));
    check("remapped, INVLPG: new frame", rd(0, PAGE(1)), TAG(11));
    map(1, 10, PG_W);
    flush_tlb();
    check("remapped, CR3 load: new frame", rd(0, PAGE(1)), TAG(10));
    map(1, 12, PG_W | PG_U);
    invlpg(PAGE(1));
    check("remapped, INVLPG: new frame at ring 3", rd(3, PAGE(1)), TAG(12));
}

static void downgrade(void)
{
    reset();
    map(1, 10, PG_W | PG_U);
    check("write to a writable page", fault_of(do_write(0, PAGE(1), 1)), 0);
    check("ring 3 write to a writable user page", fault_of(do_write(3, PAGE(1), 2)), 0);
    test_pt[1] &= ~PG_W;
    invlpg(PAGE(1));
    check("made read-only, INVLPG: ring 0 write faults", fault_of(do_write(0, PAGE(1), 3)),
          (14 << 16) | 0x3);
    check("  CR2", last_cr2, PAGE(1));
    check("made read-only: ring 3 write faults", fault_of(do_write(3, PAGE(1), 3)),
          (14 << 16) | 0x7);
    check("ring 3 read of a user page", fault_of(do_read(3, PAGE(1), &(uint32_t){0})), 0);
    test_pt[1] &= ~PG_U;
    flush_tlb();
    check("made supervisor, CR3 load: ring 3 read faults",
          fault_of(do_read(3, PAGE(1), &(uint32_t){0})), (14 << 16) | 0x5);
    check("read of a present page", rd(0, PAGE(1)), 2);
    test_pt[1] &= ~PG_P;
    invlpg(PAGE(1));
    check("made not present, INVLPG: read faults",
          fault_of(do_read(0, PAGE(1), &(uint32_t){0})), (14 << 16) | 0x0);
    test_pt[1] |= PG_P; /* P 0 -> 1: no flush needed */
    check("made present again, no flush: read works", rd(0, PAGE(1)), 2);
    pd[2] &= ~PG_P;
    invlpg(PAGE(1));
    check("PDE made not present, INVLPG: read faults",
          fault_of(do_read(0, PAGE(1), &(uint32_t){0})), (14 << 16) | 0x0);
    pd[2] |= PG_P;
    check("PDE present again, no flush: read works", rd(0, PAGE(1)), 2);
}

static void accessed_dirty(void)
{
    reset();
    map(1, 10, PG_W);
    rd(0, PAGE(1));
    do_write(0, PAGE(1), TAG(10));
    check("after a read and a write: A and D", test_pt[1] & (PG_A | PG_D), PG_A | PG_D);
    test_pt[1] &= ~(PG_A | PG_D);
    pd[2] &= ~PG_A;
    invlpg(PAGE(1));
    rd(0, PAGE(1));
    check("cleared, INVLPG, read: PTE A again, D still clear", test_pt[1] & (PG_A | PG_D),
          PG_A);
    check("  PDE A again", pd[2] & PG_A, PG_A);
    do_write(0, PAGE(1), TAG(10));
    check("then a write: D", test_pt[1] & (PG_A | PG_D), PG_A | PG_D);
}

static void global_pages(const struct features *f)
{
    reset();
    uint32_t cr4 = read_cr4();
    if (f->pge)
        write_cr4(cr4 | CR4_PGE);
    map(2, 12, PG_W | PG_G);
    map(3, 13, PG_W);
    check("global page", rd(0, PAGE(2)), TAG(12));
    check("non-global page", rd(0, PAGE(3)), TAG(13));
    map(2, 14, PG_W | PG_G);
    map(3, 15, PG_W);
    flush_tlb(); /* the global page may or may not keep its old frame: not checked */
    check("non-global page after a CR3 load: new frame", rd(0, PAGE(3)), TAG(15));
    write_cr4(read_cr4() & ~CR4_PGE);
    write_cr4(cr4 | (f->pge ? CR4_PGE : 0));
    check("global page after a CR4.PGE toggle: new frame", rd(0, PAGE(2)), TAG(14));
    map(2, 16, PG_W | PG_G);
    invlpg(PAGE(2));
    check("global page after INVLPG: new frame", rd(0, PAGE(2)), TAG(16));
    write_cr4(cr4);
}

static void edited_through_another_mapping(void)
{
    reset();
    pd[1023] = addr(pd) | PG_P | PG_W;
    flush_tlb();
    volatile uint32_t *pt_view = (volatile uint32_t *)(RECURSIVE + 2 * 0x1000u); /* = test_pt */
    volatile uint32_t *pd_view = (volatile uint32_t *)(RECURSIVE + 1023 * 0x1000u); /* = pd */
    pt_view[4] = F(14) | PG_P | PG_W;
    check("PTE written through the self-map lands in the table", test_pt[4],
          F(14) | PG_P | PG_W);
    invlpg(PAGE(4));
    check("mapped through the self-map", rd(0, PAGE(4)), TAG(14));
    pt_view[4] = F(15) | PG_P | PG_W;
    invlpg(PAGE(4));
    check("remapped through the self-map, INVLPG", rd(0, PAGE(4)), TAG(15));
    /* Swap the whole page table under PDE[2] through the self-mapped directory. */
    static uint32_t other_pt[1024] __attribute__((aligned(4096)));
    for (unsigned i = 0; i < 1024; i++)
        other_pt[i] = 0;
    other_pt[4] = F(16) | PG_P | PG_W;
    pd_view[2] = addr(other_pt) | PG_P | PG_W;
    invlpg(PAGE(4)); /* also drops cached directory entries (4.10.4.1) */
    check("PDE rewritten through the self-map, INVLPG", rd(0, PAGE(4)), TAG(16));
    pd[1023] = 0;
    flush_tlb();
}

static void large_page(void)
{
    reset();
    /* Tag the frames of the second 4 MiB page (physical 0xC00000) through a 4 KiB mapping. */
    test_pt[6] = 0xC00000u | PG_P | PG_W;
    test_pt[7] = 0xC05000u | PG_P | PG_W;
    flush_tlb();
    *(volatile uint32_t *)PAGE(6) = 0xB00;
    *(volatile uint32_t *)PAGE(7) = 0xB05;
    pd[2] = TEST_PHYS | PG_PS | PG_P | PG_W;
    flush_tlb();
    check("4 MiB page, offset 0", rd(0, PAGE(0)), TAG(0));
    check("4 MiB page, offset 0x5000", rd(0, PAGE(5)), TAG(5));
    pd[2] = 0xC00000u | PG_PS | PG_P | PG_W;
    invlpg(PAGE(0)); /* one address of the large page: every piece goes */
    check("remapped 4 MiB page, INVLPG of its base: offset 0x5000", rd(0, PAGE(5)), 0xB05);
    check("  offset 0", rd(0, PAGE(0)), 0xB00);
    pd[2] = TEST_PHYS | PG_PS | PG_P | PG_W;
    invlpg(PAGE(5) + 0x123);
    check("remapped back, INVLPG inside: offset 0", rd(0, PAGE(0)), TAG(0));
}

/* mov $k, %eax; int $0x30 */
static void put_code(unsigned k)
{
    volatile uint8_t *p = (volatile uint8_t *)alias_of(k);
    p[0] = 0xB8;
    p[1] = (uint8_t)k;
    p[2] = p[3] = p[4] = 0;
    p[5] = 0xCD;
    p[6] = VEC_DONE;
}

static uint32_t ex(unsigned cpl, uint32_t lin)
{
    uint32_t v = 0;
    uint32_t vec = do_exec(cpl, lin, &v);
    return vec == VEC_DONE ? v : 0xEEE00000u | vec;
}

static void code_remap(void)
{
    reset();
    put_code(17);
    put_code(18);
    map(8, 17, PG_U);
    check("code page", ex(0, PAGE(8)), 17);
    check("code page at ring 3", ex(3, PAGE(8)), 17);
    map(8, 18, PG_U);
    invlpg(PAGE(8));
    check("code page remapped, INVLPG", ex(0, PAGE(8)), 18);
    check("  at ring 3", ex(3, PAGE(8)), 18);
    map(8, 17, PG_U);
    flush_tlb();
    check("code page remapped, CR3 load, ring 3", ex(3, PAGE(8)), 17);
    check("  ring 0", ex(0, PAGE(8)), 17);
    test_pt[8] &= ~PG_P;
    invlpg(PAGE(8));
    check("code page made not present, INVLPG: fetch faults", ex(0, PAGE(8)), 0xEEE0000Eu);
    check("  CR2", last_cr2, PAGE(8));
}

int kmain(const struct multiboot_info *mbi)
{
    (void)mbi;
    kern_init();
    struct features f;
    cpu_features(&f);
    remap();
    downgrade();
    accessed_dirty();
    global_pages(&f);
    edited_through_another_mapping();
    large_page();
    code_remap();
    return rt_finish("paging_tlb");
}
