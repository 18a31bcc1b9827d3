/* `--log int`: one line per transition event (exception, interrupt, INT n, IRET, far call or
 * return through a gate, SYSENTER/SYSEXIT, task switch, HLT, shutdown), written by an event
 * sink in the format of describe_event (src/trace/describe.h). CR3 loads are events too, but
 * not (yet) lines of this log. */
#ifndef RINGSIDE_INTLOG_H
#define RINGSIDE_INTLOG_H

#include <stdio.h>

#include "cpu/cpu.h"
#include "trace/describe.h"

/* Adds a sink to the cpu that writes one line per event to out. Returns 0, or -1 when the cpu
 * has no room for another sink. */
int intlog_attach(struct cpu *c, FILE *out);
/* Removes it again. */
void intlog_detach(struct cpu *c, FILE *out);

#endif
