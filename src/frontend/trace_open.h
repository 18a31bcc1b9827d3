/* What `ringside log`, `replay` and `export` share: opening a trace (one line and status 2
 * when it cannot be used), the filter from the command line, and the line for a trace that is
 * usable but truncated or damaged. */
#ifndef RINGSIDE_TRACE_OPEN_H
#define RINGSIDE_TRACE_OPEN_H

#include <stdbool.h>

#include "frontend/options.h"
#include "trace/filter.h"
#include "trace/tracefile.h"

/* Loads o->operand into tf, and the filter into f (when f is not NULL); with regenerate, a
 * trace of the inputs only (--inputs-only) has its events regenerated (regen.h) after one
 * line on stderr saying so. False after one line on stderr, with nothing left to free (the
 * caller exits with CLI_EXIT_USAGE); when true the caller frees tf. */
bool trace_cli_open(const struct cli_options *o, struct trace_file *tf,
                    struct trace_filter *f, bool regenerate);
/* For a trace that was not whole: one line naming the file and what is wrong. Returns the
 * status to exit with: 0 for a whole trace, CLI_EXIT_USAGE otherwise. */
int trace_cli_status(const struct cli_options *o, const struct trace_file *tf);

struct trace_ctx;
struct symbols;

/* A reader of tf in order (trace/tracectx.h) that names addresses with the symbols of the
 * images tf's header names (*syms, free it with symbols_free after the reader), as the live
 * log did. When an image is missing or has changed since the recording (SHA-256), addresses
 * stay bare after one line on stderr saying so. NULL after one line when out of memory. */
struct trace_ctx *trace_cli_reader(const struct cli_options *o, const struct trace_file *tf,
                                   struct symbols **syms);

#endif
