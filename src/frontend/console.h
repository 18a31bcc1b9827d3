/* The guest's console on the host: COM1's output goes to stdout.
 *
 * Whole lines are flushed at once, partial ones when the frontend calls console_flush (between
 * run chunks). The first write error (a full disk; a reader that went away: EPIPE, SIGPIPE
 * being ignored) is kept and stops the cpu the console is attached to: the rest of the console
 * would be lost. The same struct watches stdout for every command (usage text included), so
 * any output that could not be written ends with one line and a status (console_error).
 *
 * When the logs share the console's stream (stdout and stderr are one file, a terminal or a
 * pipe: `ringside demo --log int 2>&1`), the session writes them into stdout too, so the two
 * appear in the order they happened, and sets `hold`: a guest's partial line is then held back
 * until its newline (or the end of the run), so a log line never cuts it in half.
 */
#ifndef RINGSIDE_CONSOLE_H
#define RINGSIDE_CONSOLE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct cpu;

#define CONSOLE_HOLD 4096 /* bytes of a partial guest line held back (longer: written out) */

struct console {
    FILE *out;
    bool hold;       /* hold partial lines back (the logs share the stream) */
    size_t nheld;    /* bytes in held */
    char held[CONSOLE_HOLD];
    bool midline;    /* the last byte was not a newline */
    int err;         /* errno of the first failed write, 0 while all is well */
    struct cpu *cpu; /* stopped on a write error (NULL while no machine runs) */
};

/* A console writing to out, attached to no cpu. */
void console_init(struct console *con, FILE *out);

/* Receives each byte COM1 transmits (a machine_console_fn; ctx is the struct console). */
void console_out(void *ctx, uint8_t byte);

/* Writes a held partial line out (at the end of a run). */
void console_release(struct console *con);
/* Flushes the console (a held partial line stays held); false (and the error recorded) when it cannot be written. */
bool console_flush(struct console *con);

/* On a terminal, starts the final report on a line of its own after a partial guest line. */
void console_end_line(struct console *con);

/* Reports the console's write error in one line ending with where (e.g. "the run stopped at
 * 0008:00101234") and returns its exit status: CLI_EXIT_PIPE for a reader that went away,
 * CLI_EXIT_OUTPUT for any other error. */
int console_error(const struct console *con, const char *where);

#endif
