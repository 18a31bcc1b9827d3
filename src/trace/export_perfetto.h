/* A recorded trace as Chrome trace-event JSON (the "JSON Object Format" that ui.perfetto.dev
 * and chrome://tracing open): https://docs.google.com/document/d/1CvAClvFfyA5R-PhYUmn5OOQtYMH4h6I0nSsKchNAySU
 *
 *   - one process per guest address space (pid 1, 2, ... in order of first use), named by the
 *     trace's space names ("hello (pid 3)") or "CR3 0x...", with one thread "cpu";
 *   - slices ("B"/"E", cat "mode") for every stretch in user mode ("user") and kernel mode
 *     ("kernel"), and inside them one slice (cat "transition") per entry to the kernel or an
 *     inner ring: exception ("#PF"), interrupt ("interrupt 0x20"), INT n ("int 0x80"),
 *     sysenter, a far call or jump through a gate; the return (iret, sysexit, far ret) ends
 *     it. A CR3 load closes the open slices on the old space's track and opens them again on
 *     the new one, so every track's slices nest;
 *   - instant events ("i", cat "fault") for every exception and the triple fault, with the
 *     explanation (describe_fault) in args.fault; "hlt" instants (cat "halt");
 *   - a counter "CPL" (ph "C") per space whenever the CPL changes;
 *   - ts in microseconds of guest time: icount * 1e6 / ips.
 */
#ifndef RINGSIDE_EXPORT_PERFETTO_H
#define RINGSIDE_EXPORT_PERFETTO_H

#include <stdint.h>
#include <stdio.h>

#include "trace/filter.h"
#include "trace/tracefile.h"

/* Writes tf to out; ips 0 means the trace's own. Returns the number of trace events written. */
uint64_t export_perfetto(const struct trace_file *tf, const struct trace_names *names,
                         uint64_t ips, FILE *out);

#endif
