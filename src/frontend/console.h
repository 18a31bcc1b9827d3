/* The guest's console on the host: COM1's output goes to stdout.
 *
 * Whole lines are flushed at once, partial ones when the frontend calls console_flush (between
 * run chunks). The first write error (a full disk; a reader that went away: EPIPE, SIGPIPE
 * being ignored) is kept and stops the cpu the console is attached to: the rest of the console
 * would be lost. The same struct watches stdout for every command (usage text included), so
 * any output that could not be written ends with one line and a status (console_error).
 */
#ifndef RINGSIDE_CONSOLE_H
#define RINGSIDE_CONSOLE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct cpu;

struct console {
    FILE *out;
    bool midline;    /* the last byte was not a newline */
    int err;         /* errno of the first failed write, 0 while all is well */
    struct cpu *cpu; /* stopped on a write error (NULL while no machine runs) */
};

/* A console writing to out, attached to no cpu. */
void console_init(struct console *con, FILE *out);

/* Receives each byte COM1 transmits (a machine_console_fn; ctx is the struct console). */
void console_out(void *ctx, uint8_t byte);

/* Flushes the console; false (and the error recorded) when it cannot be written. */
bool console_flush(struct console *con);

/* On a terminal, starts the final report on a line of its own after a partial guest line. */
void console_end_line(struct console *con);

/* Reports the console's write error in one line ending with where (e.g. "the run stopped at
 * 0008:00101234") and returns its exit status: CLI_EXIT_PIPE for a reader that went away,
 * CLI_EXIT_OUTPUT for any other error. */
int console_error(const struct console *con, const char *where);

#endif
