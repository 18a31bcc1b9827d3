/* `--record FILE` in a session: the trace's header from the run's options and files (with
 * their SHA-256), the recorder attached once stdin is connected, SIGINT/SIGTERM/SIGHUP turned
 * into a clean end of the run (the file then ends with an end record saying "signal"), the
 * records flushed between run chunks, and the end record with how the run ended. The trace
 * format: src/trace/format.h, docs/trace-format.md.
 */
#ifndef RINGSIDE_RECORD_H
#define RINGSIDE_RECORD_H

#include <stdbool.h>

#include "cpu/cpu.h"
#include "frontend/loader.h"
#include "frontend/session.h"

/* Opens the trace file and writes its header. False after one line on stderr (status set). */
bool record_open(struct session *s, const struct boot_params *boot);
/* Attaches the recorder and catches the stop signals (after stdin is connected). */
void record_start(struct session *s);
/* Between run chunks: writes what is buffered. False after one line on stderr when the file
 * cannot be written (status CLI_EXIT_OUTPUT); *sig is the stop signal that came, 0: none. */
bool record_between_chunks(struct session *s, int *sig);
/* The end record: how the run ended (r, or signal sig / a console error) and its status. */
void record_finish(struct session *s, enum run_result r, int sig, int status);
/* Closes the file; a write error not yet told becomes one line and CLI_EXIT_OUTPUT. */
void record_close(struct session *s);

#endif
