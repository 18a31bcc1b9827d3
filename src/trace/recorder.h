/* The trace recorder: a sink on the event stream and a tap on the console that write a trace
 * file (format.h) as the run goes. Records go through a buffer that is written out when full
 * and whenever the session flushes (between run chunks), so a run killed at any moment leaves
 * the records before the last flush, and the end record is written only by recorder_finish:
 * a file without it reads as truncated, never as whole. The first write error stops all
 * writing (the file stays without an end record) and is reported once.
 *
 *   struct recorder *r = recorder_open(path, err, sizeof err);
 *   recorder_write_header(r, &hdr);
 *   recorder_attach(r, m);                     (events, console bytes, input, end of input,
 *                                               names, and what naming an event needs)
 *   ... run, recorder_flush(r) now and then ...
 *   recorder_finish(r, m, TEND_EXIT, status);  (the end record)
 *   recorder_close(r, &err_no);                (0, or -1 when something could not be written)
 */
#ifndef RINGSIDE_RECORDER_H
#define RINGSIDE_RECORDER_H

#include <stdbool.h>
#include <stdint.h>

#include "trace/tracefile.h"

struct machine;
struct recorder;

/* Creates (truncates) path and writes the file head. A path ending in ".zst" is written
 * zstd-compressed (one frame, flushed whenever the records are: what was flushed decodes
 * even when the run is killed later); readers detect it. NULL with one line in err. */
struct recorder *recorder_open(const char *path, char *err, size_t errlen);
/* Writes the header record (first). Returns false when it does not fit in a record. */
bool recorder_write_header(struct recorder *r, const struct trace_header *h);
/* Starts recording m: its events, console output and input (call after the input is
 * connected, so the end of input is seen). Returns false if a sink or tap slot is missing. */
bool recorder_attach(struct recorder *r, struct machine *m);
void recorder_detach(struct recorder *r, struct machine *m);
/* Records the run's inputs only (right after recorder_open, before the header): the header,
 * the console's bytes, the end of input, a progress mark (TREC_MARK) at each flush and the end
 * record; no events, names or context records (format.h TRACE_FLAG_INPUTS: readers regenerate
 * them by running the guest again). */
void recorder_set_inputs_only(struct recorder *r);
/* Records events with the portable encoder and checksum only (before recorder_attach; for the
 * tests: the bytes are the same whichever the recorder uses). */
void recorder_set_portable(struct recorder *r);
/* An address space's name ("CR3 X is pid N, name S"). recorder_attach records the names the
 * machine knows and then every naming its space-name tap hears (machine/spaces.h): spaces,
 * system-call names and the system-call vector; a client may add its own. Nothing with
 * recorder_set_inputs_only. */
void record_space_name(struct recorder *r, uint32_t cr3, uint32_t pid, const char *name);
/* Writes what is buffered (with --inputs-only, after a progress mark). Returns false once
 * any write has failed. */
bool recorder_flush(struct recorder *r);
/* Writes the end record (reason, status, the machine's final counts) and flushes. */
bool recorder_finish(struct recorder *r, struct machine *m, enum trace_end_reason reason,
                     uint32_t status);
/* Closes and frees. Returns 0, or -1 with *err_no set when a write (or close) failed. */
int recorder_close(struct recorder *r, int *err_no);
/* Bytes written so far. */
uint64_t recorder_bytes(const struct recorder *r);

#endif
