/* Linear -> physical translation: 32-bit two-level paging (SDM vol. 3 4.3, 4.6, 4.8, 4.10),
 * through one walker used by the cpu (paging_walk: accessed/dirty bits, #PF) and by clients
 * (paging_lookup: no side effects). Layouts: mmu/pagetable.h.
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
 * P (a present entry refused it) W/R, U/S (CPL 3 explicit access), RSVD, I/D (fetch, with SMEP);
 * the walk itself goes with the fault as its detail, to be put into words only if someone reads
 * it (src/trace/describe.c).
 */
#include "mmu/paging.h"

#include "mmu/mem.h"

/* Why a present translation refuses `need` (called only on a refusal). */
static uint8_t refusal(const struct cpu *c, uint32_t need, bool user_page)
{
    if (need & TLB_ANY_U)
        return !user_page ? WALK_SUPERVISOR_ONLY : WALK_READ_ONLY;
    if (need & TLB_ANY_X)
        return WALK_SMEP;
    if (user_page && (c->cr4 & CR4_SMAP) && !(need & (TLB_R_SA | TLB_W_SA)))
        return (need & (TLB_R_I | TLB_W_I)) ? WALK_SMAP_IMPLICIT : WALK_SMAP;
    return WALK_WP;
}

/* A page-table entry: through the bus for the running cpu (as the hardware reads it), from RAM
 * only for a client (running == NULL). */
static inline __attribute__((always_inline)) bool read_entry(const struct cpu *c,
                                                             struct cpu *running, uint32_t pa,
                                                             uint32_t *v)
{
    if (running) {
        /* phys_read's RAM case inline (the walk reads two entries per TLB miss) */
        *v = (uint64_t)pa + 4 <= running->ram_size ? host_load(running->ram + pa, 4)
                                                    : phys_read(running, pa, 4);
        return true;
    }
    if ((uint64_t)pa + 4 > c->ram_size)
        return false;
    *v = host_load(c->ram + pa, 4);
    return true;
}

/* The walk: reads the entries, decodes them and decides the access `need` (a TLB perm bit, or
 * 0 to ask only whether lin is mapped). Fills *w (but for kind/mode) and returns the rights
 * the translation grants, before the dirty-bit rule. Changes nothing. */
static inline __attribute__((always_inline)) uint32_t walk(const struct cpu *c,
                                                           struct cpu *running, uint32_t lin,
                                                           uint32_t need, struct walk *w)
{
    w->lin = lin;
    w->pde_addr = (c->cr3 & CR3_FRAME) | (pdx(lin) << 2);
    w->pde = w->pte_addr = w->pte = w->pa = 0;
    w->level = WALK_PDE;
    w->large = w->user = w->writable = w->global = false;
    if (!read_entry(c, running, w->pde_addr, &w->pde)) {
        w->result = WALK_NO_RAM;
        return 0;
    }
    uint32_t pde = w->pde;
    if (!(pde & PTE_P)) {
        w->result = WALK_NOT_PRESENT;
        return 0;
    }
    if ((pde & PDE_PS) && (c->cr4 & CR4_PSE)) {
        w->large = true;
        w->user = pde & PTE_U;
        w->writable = pde & PTE_W;
        w->global = (pde & PTE_G) && (c->cr4 & CR4_PGE);
        w->pa = (pde & PDE_FRAME_4M) | (lin & ~PDE_FRAME_4M);
        if (pde & PDE_4M_RSVD) {
            w->result = WALK_RESERVED;
            return 0;
        }
    } else {
        w->level = WALK_PTE;
        w->pte_addr = (pde & PTE_FRAME) | (ptx(lin) << 2);
        if (!read_entry(c, running, w->pte_addr, &w->pte)) {
            w->result = WALK_NO_RAM;
            return 0;
        }
        uint32_t pte = w->pte;
        if (!(pte & PTE_P)) {
            w->result = WALK_NOT_PRESENT;
            return 0;
        }
        w->user = (pde & pte) & PTE_U;
        w->writable = (pde & pte) & PTE_W;
        w->global = (pte & PTE_G) && (c->cr4 & CR4_PGE);
        w->pa = (pte & PTE_FRAME) | (lin & ~PTE_FRAME);
    }
    uint32_t allowed = paging_rights(c->cr0, c->cr4, w->user, w->writable);
    w->result = (need && !(allowed & need)) ? refusal(c, need, w->user) : WALK_OK;
    return allowed;
}

/* need (one TLB perm bit: bit 3 * mode + kind, mem.h) -> the access it stands for. */
static void set_access(struct walk *w, uint32_t need)
{
    unsigned bit = need ? (unsigned)__builtin_ctz(need) : 0;
    w->kind = need ? (uint8_t)(bit % 3) : PG_LOOKUP;
    w->mode = (uint8_t)(bit / 3);
}

/* Raises #PF for a refused walk, with the walk as the fault's detail. */
static _Noreturn void page_fault(struct cpu *c, struct walk *w, uint32_t need)
{
    uint32_t bits = 0;
    if (w->result == WALK_RESERVED)
        bits |= PFEC_P | PFEC_RSVD;
    else if (w->result != WALK_NOT_PRESENT)
        bits |= PFEC_P;
    if (need & TLB_ANY_W)
        bits |= PFEC_W;
    if (need & TLB_ANY_U)
        bits |= PFEC_U;
    if ((need & TLB_ANY_X) && (c->cr4 & CR4_SMEP))
        bits |= PFEC_I;
    set_access(w, need);
    struct fault_detail d = {.kind = FD_PAGE, .u.page = *w};
    c->cr2 = w->lin;
    cpu_raise_detail(c, EXC_PF, true, bits, &d);
}

uint32_t paging_walk(struct cpu *c, uint32_t lin, uint32_t need, uint32_t *perm, bool *global)
{
    struct walk w;
    uint32_t allowed = walk(c, c, lin, need, &w);
    if (__builtin_expect(w.result != WALK_OK, 0)) {
        struct walk f = w; /* only this copy's address escapes: w can live in registers */
        page_fault(c, &f, need);
    }

    bool write = need & TLB_ANY_W;
    uint32_t dirty;
    if (w.large) {
        uint32_t npde = w.pde | PTE_A | (write ? PTE_D : 0);
        if (npde != w.pde)
            phys_write(c, w.pde_addr, 4, npde);
        dirty = npde & PTE_D;
    } else {
        if (!(w.pde & PTE_A))
            phys_write(c, w.pde_addr, 4, w.pde | PTE_A);
        uint32_t npte = w.pte | PTE_A | (write ? PTE_D : 0);
        if (npte != w.pte)
            phys_write(c, w.pte_addr, 4, npte);
        dirty = npte & PTE_D;
    }
    if (w.large)
        c->tlb_large = true; /* INVLPG must now look for its other 4 KiB pieces (mem.c) */
    /* Until the dirty bit is set, writes must come back here to set it. */
    if (!dirty)
        allowed &= ~TLB_ANY_W;
    *perm = allowed;
    *global = w.global;
    return w.pa;
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

/* The TLB perm bit of an access (an implicit fetch does not exist: a supervisor fetch). */
static uint32_t need_of(enum pg_kind kind, enum pg_mode mode)
{
    if (kind >= PG_LOOKUP)
        return 0;
    if (mode == PG_IMPLICIT && kind == PG_FETCH)
        mode = PG_SUPERVISOR;
    return TLB_R_S << (3 * (unsigned)mode + (unsigned)kind);
}

bool paging_lookup(const struct cpu *c, uint32_t lin, enum pg_kind kind, enum pg_mode mode,
                   struct walk *w)
{
    uint32_t need = need_of(kind, mode);
    if (!(c->cr0 & CR0_PG)) {
        *w = (struct walk){.lin = lin, .pa = lin, .result = WALK_OK, .user = true,
                           .writable = true};
    } else {
        walk(c, NULL, lin, need, w);
    }
    w->kind = (uint8_t)kind;
    w->mode = (uint8_t)mode;
    return w->result == WALK_OK;
}
