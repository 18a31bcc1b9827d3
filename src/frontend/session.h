/* One run of one machine, as every command that runs a guest does it: the machine built from
 * the options, the logs opened and attached, stdin connected (a terminal in raw mode, restored
 * on every way out), the run in chunks up to --max-insns, the end-of-run line, --stats and
 * --dump-pages, and the exit status, including output that could not be written (the console:
 * see console.h; the log file: one line and CLI_EXIT_OUTPUT).
 *
 *   struct session s;
 *   if (session_open(&s, &opts, &boot, con))
 *       session_run(&s);
 *   return session_close(&s);
 */
#ifndef RINGSIDE_SESSION_H
#define RINGSIDE_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "frontend/loader.h"

struct console;
struct insnlog;
struct intlog;
struct roundtrips;
struct symbols;
struct machine;
struct recorder;

#define SESSION_RUN_CHUNK 10000000u /* instructions per cpu_run call; console output is flushed
                                       between calls, so partial lines show up promptly */

/* What a run is made of, besides the image (struct boot_params). Zero is "not given" for
 * every field, except mem_mib, which must be set. */
struct session_options {
    uint32_t mem_mib;          /* guest RAM (MACHINE_MEM_MIN_MIB..MACHINE_MEM_MAX_MIB) */
    uint64_t max_insns;        /* units of device time to run, 0 = unlimited */
    uint64_t ips;              /* device clock: instructions per guest second, 0 = default */
    bool realtime;             /* device time paced by the wall clock */
    bool stats;                /* --stats at exit */
    bool dump_pages;           /* print the page tables at exit */
    bool log_insn, log_regs;   /* each instruction (and the registers) before it runs */
    bool log_int;              /* each transition (exception, interrupt, IRET, ...) */
    bool log_unimp;            /* the first access to each unclaimed port or MMIO address */
    const char *log_file;      /* where the logs go; NULL = stderr */
    const char *gdb;           /* --gdb [HOST:]PORT (or -s): serve gdb there, NULL: no */
    bool gdb_local;            /* -s: --gdb 127.0.0.1:1234 unless --gdb is given */
    bool gdb_wait;             /* -S: start halted, waiting for gdb */
    const char *record_file;   /* --record: the trace file (record.h), NULL = none */
    bool record_inputs_only;   /* --inputs-only: the trace holds the run's inputs only */
    bool view;                 /* --view: run under the live trace view (view/live.h) */
    uint32_t view_speed;       /* --view-speed: instructions per frame, 0 = the default */
    uint32_t view_width, view_height; /* --width/--height of the live window, 0 = default */
    const char *command;       /* the command's name and the argv, for a trace's header */
    int argc;
    char *const *argv;
};

/* --log unimp: where the lines go and whose icount they show. */
struct session_unimp {
    FILE *out;
    const struct machine *m;
};

struct session {
    const struct session_options *opt;
    struct console *con;
    struct machine *m;          /* NULL until created */
    FILE *log_out;              /* the --log-file, NULL for stderr or no log */
    struct insnlog *insnlog;    /* --log insn, NULL otherwise */
    struct intlog *intlog;      /* --log int, NULL otherwise */
    struct symbols *syms;       /* the images' symbol tables (for --log int), or NULL */
    struct roundtrips *rt;      /* --stats: entry-to-return costs, NULL otherwise */
    struct session_unimp unimp; /* --log unimp */
    struct recorder *rec;       /* --record, NULL otherwise */
    int status;                 /* the exit status so far */
};

/* Builds the machine (opt->mem_mib of RAM, COM1 output to con), loads boot, and opens and
 * attaches the logs. Returns true when the machine is ready to run; false after one line on
 * stderr, with s->status set (CLI_EXIT_USAGE, or CLI_EXIT_HOST when out of memory). opt and
 * con must outlive the session. */
bool session_open(struct session *s, const struct session_options *opt,
                  const struct boot_params *boot, struct console *con);

/* Connects stdin, runs the machine until it stops, the --max-insns budget is used up or the
 * console or the log file cannot be written, then reports how it ended (session_report.h),
 * --stats and --dump-pages. Returns the exit status (also kept in s->status). */
int session_run(struct session *s);

/* Detaches and closes the logs and destroys the machine. A log file that could not be
 * written overrides the status (CLI_EXIT_OUTPUT, one line) unless an output error was told
 * already. Returns the final exit status. */
int session_close(struct session *s);

#endif
