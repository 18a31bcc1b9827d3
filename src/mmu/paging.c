/* Linear -> physical translation: 32-bit two-level paging (SDM vol. 3 4.3, 4.6, 4.8, 4.10).
 *
 *   linear:  | 31 .. 22 PDE index | 21 .. 12 PTE index | 11 .. 0 offset |
 *   PDE/PTE: bit 0 P, 1 R/W, 2 U/S, 5 A, 6 D, 7 PS (PDE, with CR4.PSE), 8 G, 12..31 frame
 *   4 MiB PDE: bits 22..31 frame, bits 13..21 reserved (must be 0: #PF with RSVD)
 *
 * Access rights (SDM 4.6), U/S and R/W combined over both levels (a page is user only if both
 * entries say U=1, writable only if both say R/W=1):
 *
 *   access                      allowed when
 *   user read / fetch           U
 *   user write                  U and W
 *   supervisor read             not (SMAP and U and (AC = 0 or implicit))
 *   supervisor write            (W or not CR0.WP) and the SMAP rule above
 *   supervisor fetch            not (SMEP and U)
 *
 * Accessed bits are set in every entry used; the dirty bit in the PTE (or 4 MiB PDE) on a write.
 * A refused access raises #PF with CR2 = the linear address and the error code
 * P (a present entry refused it) W/R, U/S (CPL 3 explicit access), RSVD, I/D (fetch, with SMEP).
 */
#include "mmu/paging.h"

#include <stdio.h>

#include "mmu/mem.h"

#define PTE_P 0x001u
#define PTE_W 0x002u
#define PTE_U 0x004u
#define PTE_A 0x020u
#define PTE_D 0x040u
#define PDE_PS 0x080u
#define PTE_G 0x100u
#define PDE_4M_RSVD 0x003FE000u

#define PF_P 0x01u
#define PF_W 0x02u
#define PF_U 0x04u
#define PF_RSVD 0x08u
#define PF_I 0x10u

static const char *access_name(uint32_t need)
{
    if (need & (TLB_R_U | TLB_W_U | TLB_X_U))
        return need & TLB_W_U ? "user write" : need & TLB_X_U ? "user fetch" : "user read";
    if (need & (TLB_R_I | TLB_W_I))
        return need & TLB_W_I ? "implicit supervisor write" : "implicit supervisor read";
    if (need & (TLB_W_S | TLB_W_SA))
        return "supervisor write";
    if (need & (TLB_X_S | TLB_X_SA))
        return "supervisor fetch";
    return "supervisor read";
}

/* Raises #PF for lin; `why` completes the explanation a student reads in the log. */
static _Noreturn void page_fault(struct cpu *c, uint32_t lin, uint32_t need, uint32_t bits,
                                 const char *levels, const char *why)
{
    if (need & TLB_ANY_W)
        bits |= PF_W;
    if (need & TLB_ANY_U)
        bits |= PF_U;
    if ((need & TLB_ANY_X) && (c->cr4 & CR4_SMEP))
        bits |= PF_I;
    snprintf(c->pf_why, sizeof c->pf_why, "%s of 0x%08x: %s — %s", access_name(need), lin, levels,
             why);
    c->cr2 = lin;
    cpu_raise(c, EXC_PF, true, bits);
}

uint32_t paging_rights(uint32_t cr0, uint32_t cr4, bool user_page, bool writable)
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

/* Why a present translation refuses `need`, in words. */
static const char *refusal(const struct cpu *c, uint32_t need, bool user_page, bool writable)
{
    if (need & TLB_ANY_U)
        return !user_page ? "supervisor-only page" : "read-only page";
    if (need & TLB_ANY_X)
        return "supervisor fetch from a user page with CR4.SMEP";
    if (user_page && (c->cr4 & CR4_SMAP))
        return (need & (TLB_R_I | TLB_W_I)) ? "implicit supervisor access to a user page with SMAP"
                                            : "supervisor access to a user page with SMAP and AC=0";
    (void)writable;
    return "read-only page with CR0.WP";
}

uint32_t paging_walk(struct cpu *c, uint32_t lin, uint32_t need, uint32_t *perm, bool *global)
{
    bool write = need & TLB_ANY_W;
    char levels[96];
    uint32_t pde_pa = (c->cr3 & ~PAGE_MASK) | ((lin >> 22) << 2);
    uint32_t pde = phys_read(c, pde_pa, 4);
    if (!(pde & PTE_P)) {
        snprintf(levels, sizeof levels, "PDE[%u] P=0", lin >> 22);
        page_fault(c, lin, need, 0, levels, "page table not present");
    }

    uint32_t pa, allowed, dirty, g;
    if ((pde & PDE_PS) && (c->cr4 & CR4_PSE)) {
        snprintf(levels, sizeof levels, "4 MiB PDE[%u] U=%u W=%u", lin >> 22, (pde >> 2) & 1,
                 (pde >> 1) & 1);
        if (pde & PDE_4M_RSVD)
            page_fault(c, lin, need, PF_P | PF_RSVD, levels, "reserved bits 13..21 set");
        allowed = paging_rights(c->cr0, c->cr4, pde & PTE_U, pde & PTE_W);
        if (!(allowed & need))
            page_fault(c, lin, need, PF_P, levels,
                       refusal(c, need, pde & PTE_U, pde & PTE_W));
        uint32_t npde = pde | PTE_A | (write ? PTE_D : 0);
        if (npde != pde)
            phys_write(c, pde_pa, 4, npde);
        dirty = npde & PTE_D;
        g = pde & PTE_G;
        pa = (pde & 0xFFC00000u) | (lin & 0x003FFFFFu);
    } else {
        uint32_t pte_pa = (pde & ~PAGE_MASK) | (((lin >> 12) & 0x3FF) << 2);
        uint32_t pte = phys_read(c, pte_pa, 4);
        if (!(pte & PTE_P)) {
            snprintf(levels, sizeof levels, "PDE[%u] U=%u W=%u, PTE[%u] P=0", lin >> 22,
                     (pde >> 2) & 1, (pde >> 1) & 1, (lin >> 12) & 0x3FF);
            page_fault(c, lin, need, 0, levels, "page not present");
        }
        snprintf(levels, sizeof levels, "PDE[%u] U=%u W=%u, PTE[%u] U=%u W=%u", lin >> 22,
                 (pde >> 2) & 1, (pde >> 1) & 1, (lin >> 12) & 0x3FF, (pte >> 2) & 1,
                 (pte >> 1) & 1);
        bool u = (pde & pte) & PTE_U, w = (pde & pte) & PTE_W;
        allowed = paging_rights(c->cr0, c->cr4, u, w);
        if (!(allowed & need))
            page_fault(c, lin, need, PF_P, levels, refusal(c, need, u, w));
        if (!(pde & PTE_A))
            phys_write(c, pde_pa, 4, pde | PTE_A);
        uint32_t npte = pte | PTE_A | (write ? PTE_D : 0);
        if (npte != pte)
            phys_write(c, pte_pa, 4, npte);
        dirty = npte & PTE_D;
        g = pte & PTE_G;
        pa = (pte & ~PAGE_MASK) | (lin & PAGE_MASK);
    }
    /* Until the dirty bit is set, writes must come back here to set it. */
    if (!dirty)
        allowed &= ~TLB_ANY_W;
    *perm = allowed;
    *global = g && (c->cr4 & CR4_PGE);
    return pa;
}

uint32_t paging_translate(struct cpu *c, uint32_t lin, uint32_t need, uint32_t *perm,
                          bool *global)
{
    if (!(c->cr0 & CR0_PG)) {
        *perm = TLB_ALL;
        *global = false;
        return lin;
    }
    return paging_walk(c, lin, need, perm, global);
}

bool paging_peek(struct cpu *c, uint32_t lin, uint32_t *pa)
{
    if (!(c->cr0 & CR0_PG)) {
        *pa = lin;
        return true;
    }
    uint32_t pde_pa = (c->cr3 & ~PAGE_MASK) | ((lin >> 22) << 2);
    if ((uint64_t)pde_pa + 4 > c->ram_size)
        return false;
    uint32_t pde = host_load(c->ram + pde_pa, 4);
    if (!(pde & PTE_P))
        return false;
    if ((pde & PDE_PS) && (c->cr4 & CR4_PSE)) {
        *pa = (pde & 0xFFC00000u) | (lin & 0x003FFFFFu);
        return true;
    }
    uint32_t pte_pa = (pde & ~PAGE_MASK) | (((lin >> 12) & 0x3FF) << 2);
    if ((uint64_t)pte_pa + 4 > c->ram_size)
        return false;
    uint32_t pte = host_load(c->ram + pte_pa, 4);
    if (!(pte & PTE_P))
        return false;
    *pa = (pte & ~PAGE_MASK) | (lin & PAGE_MASK);
    return true;
}
