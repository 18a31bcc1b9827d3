/* The `ringside` command line.
 *
 *   ringside run IMAGE [options]    run an ELF32 / Multiboot v1 image
 *   ringside demo [options]         run the bundled demo guest (also: plain `ringside`,
 *                                   or `ringside` followed directly by options)
 *   ringside --help | --version
 *
 * Options: --append "CMDLINE", --module "FILE[ ARGS]" (repeatable), --mem MIB, --max-insns N,
 * --stats, --log insn[,regs][,int][,unimp], --log-file F, --ips N, --realtime,
 * --dump-pages. A value may follow as the next argument or after '='.
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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

#define CLI_RUN_CHUNK 10000000u /* instructions per cpu_run call; console output is flushed
                                   between calls, so partial lines show up promptly */
#define CLI_DEMO_IMAGE "kernel.elf" /* the demo kernel, with CLI_DEMO_CMDLINE and modules */
#define CLI_DEMO_CMDLINE "init=hello,syscalls,compute,spin,nullderef cpulimit=30"

enum cli_command { CLI_RUN, CLI_DEMO, CLI_HELP, CLI_VERSION };

struct cli_options {
    enum cli_command command;
    const char *image;         /* run: the IMAGE argument */
    const char *append;        /* NULL when absent */
    const char **modules;      /* "FILE[ ARGS]" strings, pointing into argv */
    size_t nmodules;
    uint32_t mem_mib;
    uint64_t max_insns;        /* 0 = unlimited */
    bool stats;
    bool realtime;             /* --realtime: device time paced by the wall clock */
    bool dump_pages;           /* --dump-pages: print the page tables at exit */
    bool log_insn, log_regs, log_int;
    bool log_unimp;            /* --log unimp: first touch of each unclaimed port / MMIO address */
    uint64_t ips;              /* device clock: instructions per guest second, 0 = default */
    const char *log_file;      /* NULL = stderr */
};

/* Parses argv into o. Returns 0, or -1 with a one-line reason in err. Free with
 * cli_options_free either way. */
int cli_parse(int argc, char **argv, struct cli_options *o, char *err, size_t errlen);
void cli_options_free(struct cli_options *o);

/* The whole program: parse, load, run, report. guest_dir is where the demo image is looked for
 * first. Returns the process exit status. */
int cli_main(int argc, char **argv, const char *guest_dir);

#endif
