/* A recorded trace as Chrome trace-event JSON (the "JSON Object Format" that ui.perfetto.dev
 * and chrome://tracing open): https://docs.google.com/document/d/1CvAClvFfyA5R-PhYUmn5OOQtYMH4h6I0nSsKchNAySU
 *
 *   - one process per guest address space (pid 1, 2, ... in order of first use), named by the
 *     names the guest gave the space ("hello (pid 3)") or "CR3 0x...", with one thread "cpu";
 *     a CR3 the guest names for another process (a reused page directory) starts a new
 *     process there, so each guest process is one Perfetto process;
 *   - slices ("B"/"E", cat "mode") for every stretch in user mode ("user") and kernel mode
 *     ("kernel"), and inside them one slice (cat "transition") per entry to the kernel or an
 *     inner ring, named by describe_entry_name: a system call by its name ("write", or
 *     "syscall 4"), an exception by the exception table ("#PF"), an interrupt by its source
 *     ("IRQ0 timer", "LAPIC timer"), "int 0x30", sysenter, a far call or jump through a
 *     gate; args.text is the event's --log int line. The return (iret, sysexit, far ret)
 *     ends it. A CR3 load closes the open slices on the old space's track and opens them
 *     again on the new one, so every track's slices nest;
 *   - instant events ("i", cat "fault") for every exception and the triple fault, with the
 *     explanation (describe_fault_of: a triple fault's three steps) in args.fault; "hlt"
 *     instants (cat "halt");
 *   - a counter "CPL" (ph "C") per space whenever the CPL changes;
 *   - ts in microseconds of guest time: icount * 1e6 / ips.
 * With a filter (the options of `ringside log`), only the events that pass are drawn; the
 * others are still read, so that names and the pairing of returns stay right. A filter that
 * keeps entries but not their returns leaves their slices open to the end of the trace.
 */
#ifndef RINGSIDE_EXPORT_PERFETTO_H
#define RINGSIDE_EXPORT_PERFETTO_H

#include <stdint.h>
#include <stdio.h>

#include "trace/filter.h"
#include "trace/tracefile.h"

struct trace_ctx;

/* Writes tf to out, read through t (trace/tracectx.h, at the trace's start), the events that
 * pass f (NULL: all; --pid and --space match the space as named when the event happened);
 * ips 0 means the trace's own. Returns the number of trace events written. */
uint64_t export_perfetto(const struct trace_file *tf, struct trace_ctx *t,
                         const struct trace_filter *f, uint64_t ips, FILE *out);

#endif
