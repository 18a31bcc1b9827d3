/* Linear -> physical translation (SDM vol. 3 ch. 4, 32-bit paging): the one page walker. */
#ifndef RINGSIDE_PAGING_H
#define RINGSIDE_PAGING_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/cpu.h"
#include "mmu/mem.h"
#include "mmu/pagetable.h"

/* Translates lin for an access needing the TLB perm bit `need` (mem.h); on success returns the
 * physical address, stores in *perm every access the translation allows (the TLB caches it)
 * and in *global whether it is a global translation. Raises #PF (does not return) when the
 * access is refused, with the walk (struct walk) as the fault's detail. */
uint32_t paging_translate(struct cpu *c, uint32_t lin, uint32_t need, uint32_t *perm,
                          bool *global);

/* The page walk proper (CR0.PG = 1): the cpu's own walk, which sets the accessed and dirty
 * bits and raises #PF. */
uint32_t paging_walk(struct cpu *c, uint32_t lin, uint32_t need, uint32_t *perm, bool *global);

/* The TLB perm bits a page with the combined U/S and R/W bits allows under CR0/CR4. */
static inline uint32_t paging_rights(uint32_t cr0, uint32_t cr4, bool user_page, bool writable)
{
    uint32_t p = TLB_R_S | TLB_X_S | TLB_R_SA | TLB_X_SA | TLB_R_I;
    if (writable || !(cr0 & CR0_WP))
        p |= TLB_W_S | TLB_W_SA | TLB_W_I;
    if (user_page) {
        p |= TLB_R_U | TLB_X_U | (writable ? TLB_W_U : 0);
        if (cr4 & CR4_SMEP)
            p &= ~(TLB_X_S | TLB_X_SA);
        if (cr4 & CR4_SMAP)
            p &= ~(TLB_R_S | TLB_W_S | TLB_R_I | TLB_W_I); /* AC = 1 keeps the _SA bits */
    }
    return p;
}


/* The usual TLB refill, for mem.c's miss path, without the general walk's struct walk: with
 * paging on, a 4 KiB page whose PDE and PTE lie in RAM, are present and grant `need` (one TLB
 * perm bit). It sets the accessed bits (and for a write the dirty bit) as paging_walk does, in
 * the same order (PDE, then PTE), and comes to the same physical address, rights and global
 * bit. Returns false, having changed nothing, for anything else (a 4 MiB page, an entry outside
 * RAM, a refusal): then paging_walk decides, faults and explains. */
static inline __attribute__((always_inline)) bool paging_walk_fast(struct cpu *c, uint32_t lin,
                                                                   uint32_t need, uint32_t *pa,
                                                                   uint32_t *perm, bool *global)
{
    uint32_t pde_addr = (c->cr3 & CR3_FRAME) | (pdx(lin) << 2);
    if ((uint64_t)pde_addr + 4 > c->ram_size)
        return false;
    uint32_t pde = host_load(c->ram + pde_addr, 4);
    if ((pde & (PTE_P | PDE_PS)) != PTE_P)
        return false;
    uint32_t pte_addr = (pde & PTE_FRAME) | (ptx(lin) << 2);
    if ((uint64_t)pte_addr + 4 > c->ram_size)
        return false;
    uint32_t pte = host_load(c->ram + pte_addr, 4);
    if (!(pte & PTE_P))
        return false;
    uint32_t both = pde & pte;
    uint32_t allowed = paging_rights(c->cr0, c->cr4, both & PTE_U, both & PTE_W);
    if (!(allowed & need))
        return false;
    uint32_t npte = pte | PTE_A | ((need & TLB_ANY_W) ? PTE_D : 0);
    if (__builtin_expect(npte != pte || !(pde & PTE_A), 0)) {
        if (!(pde & PTE_A))
            phys_write(c, pde_addr, 4, pde | PTE_A);
        if (npte != pte)
            phys_write(c, pte_addr, 4, npte);
    }
    if (!(npte & PTE_D))
        allowed &= ~TLB_ANY_W; /* until the dirty bit is set, writes walk again */
    *perm = allowed;
    *global = (pte & PTE_G) && (c->cr4 & CR4_PGE);
    *pa = (pte & PTE_FRAME) | (lin & PAGE_MASK);
    return true;
}

/* The same walk without side effects, for clients (inspect.h, --dump-pages): fills *w with
 * every level and, when the access (kind, mode) would be refused, why. Entries are read from
 * RAM only (an entry outside RAM stops the walk with WALK_NO_RAM; MMIO is never touched);
 * accessed and dirty bits are left alone. With paging off, lin maps to itself. Returns
 * w->result == WALK_OK. */
bool paging_lookup(const struct cpu *c, uint32_t lin, enum pg_kind kind, enum pg_mode mode,
                   struct walk *w);

#endif
