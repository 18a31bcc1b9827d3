/* Linear -> physical translation: 32-bit two-level paging (SDM vol. 3 4.3, 4.6, 4.8).
 *
 *   linear:  | 31 .. 22 PDE index | 21 .. 12 PTE index | 11 .. 0 offset |
 *   PDE/PTE: bit 0 P, 1 R/W, 2 U/S, 5 A, 6 D, 7 PS (PDE, with CR4.PSE), 8 G, 12..31 frame
 *
 * Access rights combine over both levels (U/S and R/W must allow at each); supervisor writes to
 * read-only pages are allowed unless CR0.WP; with CR4.SMEP a supervisor fetch from a user page
 * faults; with CR4.SMAP a supervisor data access to a user page faults unless EFLAGS.AC. */
#include "mmu/paging.h"

#include "mmu/mem.h"

#define PERM_ALL (TLB_R_S | TLB_W_S | TLB_X_S | TLB_R_U | TLB_W_U | TLB_X_U)
#define PTE_P 0x001u
#define PTE_W 0x002u
#define PTE_U 0x004u
#define PTE_A 0x020u
#define PTE_D 0x040u
#define PDE_PS 0x080u
#define PDE_4M_RSVD 0x003FE000u /* bits 13..21 of a 4 MiB PDE (no PSE-36) */

/* #PF error code bits */
#define PF_P 0x01u
#define PF_W 0x02u
#define PF_U 0x04u
#define PF_RSVD 0x08u
#define PF_I 0x10u

static _Noreturn void page_fault(struct cpu *c, uint32_t lin, uint32_t need, uint32_t bits)
{
    if (need & (TLB_W_S | TLB_W_U))
        bits |= PF_W;
    if (need & (TLB_R_U | TLB_W_U | TLB_X_U))
        bits |= PF_U;
    if ((need & (TLB_X_S | TLB_X_U)) && (c->cr4 & CR4_SMEP))
        bits |= PF_I;
    c->cr2 = lin;
    cpu_raise(c, EXC_PF, true, bits);
}

/* Every access the combined U/S and R/W bits allow, under CR0.WP, SMEP and SMAP. */
static uint32_t rights(const struct cpu *c, bool user_page, bool writable)
{
    uint32_t p = TLB_R_S | TLB_X_S;
    if (writable || !(c->cr0 & CR0_WP))
        p |= TLB_W_S;
    if (user_page) {
        p |= TLB_R_U | TLB_X_U | (writable ? TLB_W_U : 0);
        if (c->cr4 & CR4_SMEP)
            p &= ~TLB_X_S;
        if ((c->cr4 & CR4_SMAP) && !(c->eflags & FL_AC))
            p &= ~(TLB_R_S | TLB_W_S);
    }
    return p;
}

uint32_t paging_walk(struct cpu *c, uint32_t lin, uint32_t need, uint32_t *perm)
{
    bool write = need & (TLB_W_S | TLB_W_U);
    uint32_t pde_pa = (c->cr3 & ~PAGE_MASK) | ((lin >> 22) << 2);
    uint32_t pde = phys_read(c, pde_pa, 4);
    if (!(pde & PTE_P))
        page_fault(c, lin, need, 0);

    uint32_t pa, allowed, dirty;
    if ((pde & PDE_PS) && (c->cr4 & CR4_PSE)) {
        if (pde & PDE_4M_RSVD)
            page_fault(c, lin, need, PF_P | PF_RSVD);
        allowed = rights(c, pde & PTE_U, pde & PTE_W);
        if (!(allowed & need))
            page_fault(c, lin, need, PF_P);
        uint32_t npde = pde | PTE_A | (write ? PTE_D : 0);
        if (npde != pde)
            phys_write(c, pde_pa, 4, npde);
        dirty = npde & PTE_D;
        pa = (pde & 0xFFC00000u) | (lin & 0x003FFFFFu);
    } else {
        uint32_t pte_pa = (pde & ~PAGE_MASK) | (((lin >> 12) & 0x3FF) << 2);
        uint32_t pte = phys_read(c, pte_pa, 4);
        if (!(pte & PTE_P))
            page_fault(c, lin, need, 0);
        allowed = rights(c, (pde & pte) & PTE_U, (pde & pte) & PTE_W);
        if (!(allowed & need))
            page_fault(c, lin, need, PF_P);
        if (!(pde & PTE_A))
            phys_write(c, pde_pa, 4, pde | PTE_A);
        uint32_t npte = pte | PTE_A | (write ? PTE_D : 0);
        if (npte != pte)
            phys_write(c, pte_pa, 4, npte);
        dirty = npte & PTE_D;
        pa = (pte & ~PAGE_MASK) | (lin & PAGE_MASK);
    }
    /* Until the dirty bit is set, writes must come back here to set it. */
    if (!dirty)
        allowed &= ~(TLB_W_S | TLB_W_U);
    *perm = allowed;
    return pa;
}

uint32_t paging_translate(struct cpu *c, uint32_t lin, uint32_t need, uint32_t *perm)
{
    if (!(c->cr0 & CR0_PG)) {
        *perm = PERM_ALL;
        return lin;
    }
    return paging_walk(c, lin, need, perm);
}

bool paging_peek(struct cpu *c, uint32_t lin, uint32_t *pa)
{
    if (!(c->cr0 & CR0_PG)) {
        *pa = lin;
        return true;
    }
    uint32_t pde_pa = (c->cr3 & ~PAGE_MASK) | ((lin >> 22) << 2);
    if (pde_pa + 4 > c->ram_size)
        return false;
    uint32_t pde = host_load(c->ram + pde_pa, 4);
    if (!(pde & PTE_P))
        return false;
    if ((pde & PDE_PS) && (c->cr4 & CR4_PSE)) {
        *pa = (pde & 0xFFC00000u) | (lin & 0x003FFFFFu);
        return true;
    }
    uint32_t pte_pa = (pde & ~PAGE_MASK) | (((lin >> 12) & 0x3FF) << 2);
    if (pte_pa + 4 > c->ram_size)
        return false;
    uint32_t pte = host_load(c->ram + pte_pa, 4);
    if (!(pte & PTE_P))
        return false;
    *pa = (pte & ~PAGE_MASK) | (lin & PAGE_MASK);
    return true;
}
