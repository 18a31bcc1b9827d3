/* `--log int`: one line per transition event (exception, interrupt, INT n, IRET, far call or
 * return through a gate, SYSENTER/SYSEXIT, task switch, HLT, shutdown), written by an event
 * sink with describe_event_in (src/trace/describe.h): the address space by the name the guest
 * gave it (machine/spaces.h), the vector and system call by name, every fault's reason, each
 * return paired with its entry, addresses as symbol+offset (frontend/symbols.h) and, at a
 * triple fault, its three steps. CR3 loads are events too, but not lines of this log. */
#ifndef RINGSIDE_INTLOG_H
#define RINGSIDE_INTLOG_H

#include <stdio.h>

#include "frontend/symbols.h"
#include "machine/machine.h"

struct intlog;

/* A log of m's events to out, naming addresses with syms (may be NULL); attached as a sink of
 * m's cpu. Returns NULL when out of memory or when the cpu has no room for another sink. */
struct intlog *intlog_open(struct machine *m, const struct symbols *syms, FILE *out);
/* Detaches and frees it (NULL: nothing). */
void intlog_close(struct intlog *l);

#endif
