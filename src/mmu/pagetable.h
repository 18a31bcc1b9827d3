/* 32-bit paging as the hardware lays it out (SDM vol. 3 4.3, 4.6, 4.7), and the result of one
 * walk through it: struct walk, filled by the one page walker (paging.c) for the cpu's own
 * translations, for a #PF's explanation and for clients (inspect.h, --dump-pages).
 *
 * Linear address:
 *
 *    31                22 21                12 11                     0
 *   +--------------------+--------------------+------------------------+
 *   |  directory index   |    table index     |     offset in page     |
 *   +--------------------+--------------------+------------------------+
 *        PDX(lin)              PTX(lin)               lin & 0xFFF
 *   4 MiB page (PDE.PS = 1 with CR4.PSE): bits 21..0 are the offset in the page.
 *
 * CR3 bits 31..12 are the page directory's physical address. Page-directory entry (PDE) and
 * page-table entry (PTE):
 *
 *    31                                12 11  9  8   7   6   5   4   3   2   1   0
 *   +------------------------------------+-----+---+---+---+---+---+---+---+---+---+
 *   | physical address of the table/page | AVL | G |PS | D | A |PCD|PWT|U/S|R/W| P |
 *   +------------------------------------+-----+---+---+---+---+---+---+---+---+---+
 *   (PS only in a PDE; D and G matter in a PTE or a 4 MiB PDE)
 *
 * 4 MiB PDE: bits 31..22 are the page's physical address; bits 21..13 are reserved (a set one
 * makes every access #PF with RSVD); bit 12 is PAT (ignored here).
 *
 * #PF error code (SDM vol. 3 4.7):
 *
 *    4   3    2   1   0
 *   +---+----+---+---+---+
 *   |I/D|RSVD|U/S|W/R| P |
 *   +---+----+---+---+---+
 */
#ifndef RINGSIDE_PAGETABLE_H
#define RINGSIDE_PAGETABLE_H

#include <stdbool.h>
#include <stdint.h>

#define PTE_P 0x001u   /* present */
#define PTE_W 0x002u   /* R/W: writable */
#define PTE_U 0x004u   /* U/S: user-accessible */
#define PTE_PWT 0x008u /* write-through (no effect here) */
#define PTE_PCD 0x010u /* cache disable (no effect here) */
#define PTE_A 0x020u   /* accessed: set by the walk in every entry used */
#define PTE_D 0x040u   /* dirty: set on a write in the PTE or 4 MiB PDE */
#define PDE_PS 0x080u  /* page size: a 4 MiB page (with CR4.PSE) */
#define PTE_G 0x100u   /* global: survives CR3 loads (with CR4.PGE) */
#define PTE_FRAME 0xFFFFF000u  /* physical address of the 4 KiB page or page table */
#define PDE_FRAME_4M 0xFFC00000u /* physical address of a 4 MiB page */
#define PDE_4M_RSVD 0x003FE000u  /* reserved bits 13..21 of a 4 MiB PDE */
#define CR3_FRAME 0xFFFFF000u    /* the page directory's physical address in CR3 */

#define PFEC_P 0x01u    /* 0: not present; 1: a present entry refused the access */
#define PFEC_W 0x02u    /* the access was a write */
#define PFEC_U 0x04u    /* the access was a user access (explicit, at CPL 3) */
#define PFEC_RSVD 0x08u /* a reserved bit was set */
#define PFEC_I 0x10u    /* an instruction fetch (reported with CR4.SMEP) */

static inline unsigned pdx(uint32_t lin) { return lin >> 22; }
static inline unsigned ptx(uint32_t lin) { return (lin >> 12) & 0x3FFu; }

/* The kind of access a walk checks, and who makes it. */
enum pg_kind {
    PG_READ,
    PG_WRITE,
    PG_FETCH,
    PG_LOOKUP, /* no access: only whether the address is mapped (debuggers) */
};
enum pg_mode {
    PG_SUPERVISOR,    /* explicit access at CPL 0..2 */
    PG_USER,          /* explicit access at CPL 3 */
    PG_SUPERVISOR_AC, /* explicit supervisor access with CR4.SMAP and EFLAGS.AC = 1 */
    PG_IMPLICIT,      /* implicit supervisor access (GDT, LDT, IDT, TSS) at any CPL */
};

/* Why a walk stopped short of, or refused, the access. */
enum walk_result {
    WALK_OK,              /* mapped, and the access is allowed */
    WALK_NOT_PRESENT,     /* the entry at `level` has P = 0 */
    WALK_RESERVED,        /* a 4 MiB PDE has reserved bits 13..21 set */
    WALK_SUPERVISOR_ONLY, /* a user access, and U/S = 0 in an entry */
    WALK_READ_ONLY,       /* a user write, and R/W = 0 in an entry */
    WALK_WP,              /* a supervisor write to a read-only page with CR0.WP = 1 */
    WALK_SMEP,            /* a supervisor fetch from a user page with CR4.SMEP */
    WALK_SMAP,            /* an explicit supervisor access to a user page, CR4.SMAP, AC = 0 */
    WALK_SMAP_IMPLICIT,   /* an implicit supervisor access to a user page with CR4.SMAP */
    WALK_NO_RAM,          /* (clients only) the entry at `level` lies outside RAM: not read */
};

enum walk_level { WALK_PDE = 1, WALK_PTE = 2 };

/* One walk, every level. Entries not reached are 0. */
struct walk {
    uint32_t lin;      /* the linear address walked */
    uint32_t pde_addr; /* physical address of the PDE (from CR3) */
    uint32_t pde;      /* its value */
    uint32_t pte_addr; /* physical address of the PTE (0 for a 4 MiB page or not reached) */
    uint32_t pte;      /* its value */
    uint32_t pa;       /* the physical address lin maps to (when every entry was present) */
    uint8_t kind;      /* enum pg_kind: the access checked */
    uint8_t mode;      /* enum pg_mode */
    uint8_t result;    /* enum walk_result */
    uint8_t level;     /* enum walk_level: the last entry the walk reached (the one with P = 0,
                          reserved bits or outside RAM when it stopped there; the rights of a
                          refusal for lack of them combine every level up to it) */
    bool large;        /* a 4 MiB page */
    bool user;         /* U/S combined over the levels (user only if every entry says U) */
    bool writable;     /* R/W combined over the levels */
    bool global;       /* G in the last entry, with CR4.PGE */
};

/* Whether the walk found a present translation (whatever the access rights say). */
static inline bool walk_mapped(const struct walk *w)
{
    return w->result != WALK_NOT_PRESENT && w->result != WALK_RESERVED &&
           w->result != WALK_NO_RAM;
}

#endif
