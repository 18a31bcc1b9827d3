/* Port I/O from the cpu's side: the IOPL / I/O permission bitmap check and the bus access. */
#ifndef RINGSIDE_IO_H
#define RINGSIDE_IO_H

#include <stdint.h>

#include "cpu/cpu.h"

/* #GP(0) unless CPL <= IOPL or every bit for port..port+size-1 in the TSS I/O permission
 * bitmap is clear (SDM vol. 1 19.5). */
void io_check(struct cpu *c, uint16_t port, unsigned size);
uint32_t io_in(struct cpu *c, uint16_t port, unsigned size);
void io_out(struct cpu *c, uint16_t port, unsigned size, uint32_t value);

#endif
