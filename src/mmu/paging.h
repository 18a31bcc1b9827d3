/* Linear -> physical translation (SDM vol. 3 ch. 4, 32-bit paging): the one page walker. */
#ifndef RINGSIDE_PAGING_H
#define RINGSIDE_PAGING_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/cpu.h"
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
uint32_t paging_rights(uint32_t cr0, uint32_t cr4, bool user_page, bool writable);

/* The same walk without side effects, for clients (inspect.h, --dump-pages): fills *w with
 * every level and, when the access (kind, mode) would be refused, why. Entries are read from
 * RAM only (an entry outside RAM stops the walk with WALK_NO_RAM; MMIO is never touched);
 * accessed and dirty bits are left alone. With paging off, lin maps to itself. Returns
 * w->result == WALK_OK. */
bool paging_lookup(const struct cpu *c, uint32_t lin, enum pg_kind kind, enum pg_mode mode,
                   struct walk *w);

#endif
