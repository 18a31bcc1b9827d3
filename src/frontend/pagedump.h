/* `--dump-pages`: the guest's page tables as ranges of linear addresses with the same flags,
 * like QEMU's `info mem` (plus the physical address and the A/D/G bits):
 *
 *   linear range        size     phys      flags
 *   08048000-0804a000   00002000 00123000  u r w  a d -
 *
 * u = user (U/S over both levels), r = always, w = writable (R/W over both levels), a/d =
 * accessed/dirty of the PTE (or 4 MiB PDE), g = global. */
#ifndef RINGSIDE_PAGEDUMP_H
#define RINGSIDE_PAGEDUMP_H

#include <stdio.h>

#include "cpu/cpu.h"

/* Prints the mappings of the current CR3 (or a note when paging is off), through the cpu's own
 * page walker (cpu_page_walk in inspect.h). Reads guest RAM only; entries pointing outside RAM
 * are reported, not followed. */
void pagedump(FILE *out, const struct cpu *c);

#endif
