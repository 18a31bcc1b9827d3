/* The `ringside` command line: `ringside COMMAND [OPERAND] [options]`.
 *
 *   ringside run IMAGE [options]    run an ELF32 / Multiboot v1 image
 *   ringside demo [options]         run the bundled demo guest (also: plain `ringside`,
 *                                   or `ringside` followed directly by options)
 *   ringside help [COMMAND]         the usage text, or one command's
 *   ringside --help | --version     (and `ringside COMMAND --help`)
 *
 * The commands are rows of one table (commands.h), the options rows of another (options.h);
 * both make the usage text. Each command is one file (cmd_*.c); commands that run a guest share
 * the session (session.h).
 *
 * Exit status (CLI_EXIT_*): the debug-exit status when the guest writes port 0xF4, 0 when the cpu
 * halts with interrupts disabled, 4 on a triple fault, 6 when the guest enters virtual-8086 mode
 * (not implemented), 8 when stdout or the log file cannot be written, 10 when stdout's reader
 * went away (broken pipe), 124 when --max-insns runs out, 2 for bad usage or bad input
 * (including a closed stdout), 1 when the host fails (out of memory). Each but the guest's own
 * comes with one line on stderr.
 */
#ifndef RINGSIDE_CLI_H
#define RINGSIDE_CLI_H

#define RINGSIDE_VERSION "0.1.0"

#define CLI_EXIT_HALT     0   /* HLT that nothing can end (interrupts disabled, no device) */
#define CLI_EXIT_HOST     1   /* the host failed (memory) */
#define CLI_EXIT_USAGE    2   /* bad flag, bad image, bad module, unwritable log file */
#define CLI_EXIT_STOPPED  3   /* the run was stopped on request (cpu_request_stop) */
#define CLI_EXIT_SHUTDOWN 4   /* triple fault */
#define CLI_EXIT_UNSUPPORTED 6 /* the guest asked for what Ringside does not implement
                                  (virtual-8086 mode); Ringside's own statuses are even (but
                                  1), so they never look like a debug-exit status (V << 1) | 1 */
#define CLI_EXIT_OUTPUT   8   /* stdout (the console) or the log file could not be written
                                 (a full disk, an I/O error): the output is incomplete */
#define CLI_EXIT_PIPE     10  /* stdout's reader went away (broken pipe, e.g. `| head`) */
#define CLI_EXIT_LIMIT    124 /* --max-insns used up (as timeout(1) reports a timeout) */

/* The whole program: parse, run the command, check that stdout was written. guest_dir is
 * where the demo image is looked for first. Returns the process exit status. */
int cli_main(int argc, char **argv, const char *guest_dir);

#endif
