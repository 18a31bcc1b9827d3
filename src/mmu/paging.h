/* Linear -> physical translation (SDM vol. 3 ch. 4, 32-bit paging). */
#ifndef RINGSIDE_PAGING_H
#define RINGSIDE_PAGING_H

#include <stdint.h>

#include "cpu/cpu.h"

/* Translates lin for an access needing the TLB perm bit `need` (mem.h); on success returns the
 * physical address and stores in *perm every access the translation allows (the TLB caches
 * it). Raises #PF (does not return) when the access is refused. */
uint32_t paging_translate(struct cpu *c, uint32_t lin, uint32_t need, uint32_t *perm);

/* The page walk proper (CR0.PG = 1). */
uint32_t paging_walk(struct cpu *c, uint32_t lin, uint32_t need, uint32_t *perm);

/* Translates without faulting or setting accessed/dirty bits (debuggers, loggers). */
bool paging_peek(struct cpu *c, uint32_t lin, uint32_t *pa);

#endif
