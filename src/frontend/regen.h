/* The events of a trace recorded with `--record FILE --inputs-only`, regenerated: such a file
 * holds only what running the guest again cannot give back (the header with the images'
 * SHA-256, the console's bytes, the end record; trace/format.h TRACE_FLAG_INPUTS), so a reader
 * runs the recorded guest again, as `ringside replay` does (the images checked, the input fed
 * back at the recorded times, the console output and every count of the end record compared),
 * with a recorder of every event writing an unnamed temporary file, and reads that file in the
 * trace's place. `ringside log`, `export` and `view` read such traces this way; `replay`
 * replays them as they are.
 *
 *   trace_load(path, &tf);
 *   if (trace_usable(&tf) && !trace_regenerate(path, &tf, why, sizeof why)) ... one line, status 2
 */
#ifndef RINGSIDE_REGEN_H
#define RINGSIDE_REGEN_H

#include <stdbool.h>
#include <stddef.h>

#include "trace/tracefile.h"

/* Nothing to do (true) unless tf is a usable trace of the inputs only; then, after one line on
 * stderr saying so ("NAME: a trace of the inputs only: running the guest again ..."), tf is
 * replaced by the regenerated trace, with tf's own status kept (a truncated or damaged
 * recording reads as truncated or damaged, its events up to its last progress mark). False
 * with one line in why ("NAME: cannot regenerate its events: ...", no newline) when the images
 * are gone or changed, the guest ran differently (the replay's first difference) or the
 * temporary file could not be written; tf is then left as it was. */
bool trace_regenerate(const char *name, struct trace_file *tf, char *why, size_t whylen);

#endif
