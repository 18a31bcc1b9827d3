/* Linear -> physical translation (SDM vol. 3 ch. 4, 32-bit paging). */
#ifndef RINGSIDE_PAGING_H
#define RINGSIDE_PAGING_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/cpu.h"

/* Translates lin for an access needing the TLB perm bit `need` (mem.h); on success returns the
 * physical address, stores in *perm every access the translation allows (the TLB caches it)
 * and in *global whether it is a global translation. Raises #PF (does not return) when the
 * access is refused, with an explanation in c->pf_why. */
uint32_t paging_translate(struct cpu *c, uint32_t lin, uint32_t need, uint32_t *perm,
                          bool *global);

/* The page walk proper (CR0.PG = 1). */
uint32_t paging_walk(struct cpu *c, uint32_t lin, uint32_t need, uint32_t *perm, bool *global);

/* The TLB perm bits a page with the combined U/S and R/W bits allows under CR0/CR4. */
uint32_t paging_rights(uint32_t cr0, uint32_t cr4, bool user_page, bool writable);

/* Translates without faulting or setting accessed/dirty bits (debuggers, loggers). */
bool paging_peek(struct cpu *c, uint32_t lin, uint32_t *pa);

#endif
