/* --stats: what a transition costs in instructions, measured. Every entry (system call by
 * INT n or SYSENTER, external interrupt, exception) is paired with its return by the
 * formatter's tracker (describe_track), and the instructions between them are summed by kind,
 * so `--stats` can show e.g. that an `int $0x80` system call takes fewer instructions than a
 * `sysenter` one (docs/accounting.md: INT and IRET count one each). */
#ifndef RINGSIDE_ROUNDTRIP_H
#define RINGSIDE_ROUNDTRIP_H

#include "machine/machine.h"

struct roundtrips;

/* Attached as a sink of m's cpu; NULL when out of memory or no sink is free. */
struct roundtrips *roundtrips_open(struct machine *m);
/* One line: "round trips (entry to return, instructions on average): ..." (nothing if none). */
void roundtrips_report(const struct roundtrips *r);
void roundtrips_close(struct roundtrips *r);

#endif
