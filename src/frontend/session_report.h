/* Everything the command line reads of a machine's state, in one place: where the cpu is,
 * its counters, how a run ended and why (--stats and the end-of-run line).
 *
 * This file and no other in src/frontend reads fields of struct cpu or struct bus for the
 * CLI; the rest of the frontend asks these functions, so that the reads can move to the core's
 * inspection API in one spot.
 */
#ifndef RINGSIDE_SESSION_REPORT_H
#define RINGSIDE_SESSION_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "cpu/cpu.h"

struct machine;

#define SESSION_WHERE_LEN 14 /* "CCCC:EEEEEEEE" (CS selector : EIP, hex) and its NUL */

/* Where the cpu is, as every end-of-run line shows it: "0008:00101234". */
void session_where(const struct machine *m, char out[SESSION_WHERE_LEN]);

/* Instructions retired so far (what --log unimp lines call the icount). */
uint64_t session_icount(const struct machine *m);

/* How the run ended, r being what cpu_run last returned (max_insns: the --max-insns budget,
 * shown when r is RUN_LIMIT): one line on stderr (none for RUN_EXIT), and the exit status:
 * the guest's debug-exit status for RUN_EXIT, else CLI_EXIT_HALT, _SHUTDOWN (with the three
 * events of the triple fault, each explained), _STOPPED, _UNSUPPORTED or _LIMIT. */
int session_report_end(struct machine *m, enum run_result r, uint64_t max_insns);

/* --stats: instructions, wall time (secs) and MIPS; instructions per ring; device time when
 * deliveries came back to back; transitions by kind; instructions per address space. */
void session_report_stats(struct machine *m, double secs);

#endif
