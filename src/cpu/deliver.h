/* One delivery path for every exception and interrupt (SDM vol. 3 ch. 6). */
#ifndef RINGSIDE_DELIVER_H
#define RINGSIDE_DELIVER_H

#include <stdint.h>

#include "cpu/cpu.h"

/* Delivers an event with no error code through the IDT. kind is TR_EXCEPTION (raised by the
 * cpu: the single-step trap, INT1), TR_INTERRUPT (external), or TR_SOFTINT (INT n / INT3 /
 * INTO: the gate's DPL is checked against CPL). The return address pushed is the current
 * c->eip. May fault (and so not return). */
void deliver(struct cpu *c, unsigned vector, enum trace_kind kind);

/* Delivers c->fault (called by cpu_run after unwinding), turning a fault during the delivery of
 * another into #DF or a triple fault. */
void deliver_fault(struct cpu *c);

/* Reads and checks SS:ESP for privilege level pl from the current 32-bit TSS (#TS/#SS with
 * the EXT bit `ext`), for interrupt delivery and call gates. */
void tss_stack(struct cpu *c, unsigned pl, uint32_t ext, struct segment *ss, uint32_t *esp);

#endif
