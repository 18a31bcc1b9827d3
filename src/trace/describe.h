/* Events in words: the one formatter every client uses to turn a struct trace_event (or the
 * detail of a fault) into text — the `--log int` line, later `ringside log`, the view's
 * details panel and gdb's monitor output. The core formats nothing; text is made here, only
 * when someone reads it.
 *
 * The event line, in the style of QEMU's `-d int` (one line each; shown wrapped here):
 *
 *   icount: v=0e e=0006 i=0 cpl=3 IP=001b:08048010 SP=0023:bfffefe0 CR2=c0001000
 *           -> cpl=0 IP=0008:00100a40 SP=0010:00107fe8 | #PF user write of 0xc0001000: ...
 *   icount: iret cpl=0 IP=0008:00100a52 SP=0010:00107fe8 -> cpl=3 IP=001b:08048010
 *           SP=0023:bfffefe0
 *   icount: hlt cpl=0 IP=0008:00100a60
 *   icount: shutdown (triple fault) v=0e e=0002 cpl=0 IP=0008:0010006b CR2=007ffffc
 *   icount: cr3 cpl=0 IP=0008:00100300 CR3=00120000 -> 00131000
 *
 * v, e and i are QEMU's vector, error code and "software interrupt" flag; "->" gives where
 * the event went, including the CPL change. An exception's line ends with its name from the
 * exception table and, for #PF, the walk in words (describe_fault_detail).
 */
#ifndef RINGSIDE_DESCRIBE_H
#define RINGSIDE_DESCRIBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cpu/event.h"

/* The name of an event kind ("exception", "iret", "task switch", "cr3", ...), "?" if none. */
const char *trace_kind_name(unsigned kind);

/* One line for the event (no newline) into buf. Returns the length it would have written,
 * like snprintf (buf may be too small; it is always terminated when len > 0). */
int describe_event(const struct trace_event *ev, char *buf, size_t len);

/* What made a fault, in words, "" when nothing is known (FD_NONE):
 *   #PF        "user read of 0x00000000: PDE[0] U=0 W=1, PTE[0] P=0 — page not present"
 *   selectors  "IDT gate 0x80 has DPL 0 < CPL 3", "selector beyond the GDT limit 0x27" */
int describe_fault_detail(const struct fault_detail *d, char *buf, size_t len);

/* The fault as a whole: "#GP(0x0402): IDT gate 0x80 has DPL 0 < CPL 3", "#UD", "vector 15"
 * (the name from the exception table, the error code when there is one, the detail). */
int describe_fault(unsigned vector, bool has_error, uint32_t error,
                   const struct fault_detail *d, char *buf, size_t len);

/* A descriptor's type in words with its article, from S and the type field (stype = S << 4 |
 * type): "a 32-bit interrupt gate", "a readable code segment", "an available 32-bit TSS". */
int describe_desc_type(unsigned stype, char *buf, size_t len);

#endif
