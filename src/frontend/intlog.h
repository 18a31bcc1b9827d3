/* `--log int`: one line per transition event (exception, interrupt, INT n, IRET, far call or
 * return through a gate, SYSENTER/SYSEXIT, HLT, shutdown), in the style of QEMU's `-d int`:
 *
 *   icount: v=0e e=0006 i=0 cpl=3 IP=001b:08048010 SP=0023:bfffefe0 CR2=c0001000
 *           -> cpl=0 IP=0008:00100a40 SP=0010:00107fe8 | #PF user write of 0xc0001000: ...
 *   icount: iret cpl=0 IP=0008:00100a52 -> cpl=3 IP=001b:08048010 SP=0023:bfffefe0
 *   icount: shutdown (triple fault) v=0e e=0002 cpl=0 IP=0008:0010006b CR2=007ffffc
 *
 * (each event is one line; shown wrapped here). v, e and i are QEMU's vector, error code and
 * "software interrupt" flag; "->" gives where the event went, including the CPL change. */
#ifndef RINGSIDE_INTLOG_H
#define RINGSIDE_INTLOG_H

#include <stddef.h>
#include <stdio.h>

#include "cpu/cpu.h"

/* Formats one event (no newline) into buf; returns the length snprintf would have written. */
int intlog_format(const struct trace_event *ev, char *buf, size_t len);

/* A trace sink that writes one formatted line per event to out. */
void intlog_attach(struct cpu *c, FILE *out);

/* The name of a trace event kind ("exception", "iret", ...). */
const char *trace_kind_name(unsigned kind);

#endif
