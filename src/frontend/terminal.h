/* The guest's console input: stdin feeds COM1's receiver.
 *
 * A terminal on stdin is put in raw mode (no line buffering or echo, no CR->NL or XON/XOFF;
 * Ctrl-C still stops the run) and restored on every way out: by terminal_restore, at exit,
 * and on SIGINT, SIGTERM and SIGHUP. It is never made non-blocking (stdout and stderr share
 * its file description); every kind of stdin is polled (machine/input_fd.h).
 */
#ifndef RINGSIDE_TERMINAL_H
#define RINGSIDE_TERMINAL_H

struct machine;

/* Connects stdin to m's console input, a terminal in raw mode. */
void terminal_attach_input(struct machine *m);

/* Puts the terminal back as it was (no effect when it was not changed or is restored). */
void terminal_restore(void);

#endif
