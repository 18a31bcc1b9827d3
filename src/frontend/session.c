/* One run of one machine (see session.h). */
#include "frontend/session.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cpu/cpu.h"
#include "frontend/cli.h"
#include "frontend/console.h"
#include "frontend/gdb/stub.h"
#include "frontend/insnlog.h"
#include "frontend/intlog.h"
#include "frontend/roundtrip.h"
#include "frontend/symbols.h"
#include "machine/machine.h"
#include "frontend/pagedump.h"
#include "frontend/record.h"
#include "frontend/report.h"
#include "frontend/session_report.h"
#include "frontend/terminal.h"
#include "frontend/view/live.h"

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The log file has a write error (checked with a flush, so errno is fresh): fills *err. */
static bool log_failed(FILE *log, int *err)
{
    errno = 0;
    if (fflush(log) == EOF || ferror(log)) {
        *err = errno ? errno : EIO;
        return true;
    }
    return false;
}

/* Where the logs go: the --log-file, else stdout when stdout and stderr are one file (so the
 * log and the console keep their order; see console.h), else stderr. */
static FILE *log_stream(const struct session *s)
{
    return s->log_out ? s->log_out : s->con->hold ? s->con->out : stderr;
}

/* stdout and stderr are the same file (a terminal, a pipe, or one file opened once). */
static bool same_file(int a, int b)
{
    struct stat sa, sb;
    return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

/* --log unimp: one line for the first access to each unclaimed port or MMIO address. */
static void log_unimp(void *ctx, bool mmio, uint32_t addr, unsigned size, bool write)
{
    const struct session_unimp *u = ctx;
    if (size == 0) {
        fprintf(u->out, "unimp: more than %d unclaimed MMIO addresses; the rest are not "
                "reported\n", BUS_MAX_SEEN_MMIO);
        return;
    }
    fprintf(u->out, "unimp: %s 0x%0*" PRIx32 " %s (%u byte%s) at icount %" PRIu64,
            mmio ? "mmio" : "port", mmio ? 8 : 4, addr, write ? "write" : "read", size,
            size == 1 ? "" : "s", session_icount(u->m));
    if (mmio && addr >= u->m->ram_size)
        fprintf(u->out, ", beyond RAM (which ends at 0x%08" PRIx32 ")", u->m->ram_size);
    fputc('\n', u->out);
}

/* Opens the log file (or makes stderr fully buffered) and attaches the logs asked for. */
static bool open_logs(struct session *s, const struct boot_params *boot)
{
    const struct session_options *o = s->opt;
    struct machine *m = s->m;
    if (!o->log_insn && !o->log_int && !o->log_unimp)
        return true;
    if (o->log_file) {
        s->log_out = fopen(o->log_file, "w");
        if (!s->log_out) {
            report("cannot write log file '%s': %s", o->log_file, strerror(errno));
            s->status = CLI_EXIT_USAGE;
            return false;
        }
    } else if (same_file(fileno(s->con->out), STDERR_FILENO)) {
        s->con->hold = true; /* one ordered stream: the log goes into stdout's buffer */
    } else {
        /* Buffered: one write per line would dominate the run time. */
        setvbuf(stderr, NULL, _IOFBF, 1 << 16);
    }
    if (o->log_int) {
        s->syms = symbols_load(boot);
        s->intlog = s->syms ? intlog_open(m, s->syms, log_stream(s)) : NULL;
        if (!s->intlog) {
            report("cannot start the interrupt log: out of memory");
            s->status = CLI_EXIT_HOST;
            return false;
        }
    }
    if (o->log_unimp) {
        s->unimp = (struct session_unimp){ log_stream(s), m };
        bus_set_unclaimed(&m->bus, log_unimp, &s->unimp);
    }
    if (o->log_insn) {
        char err[512];
        s->insnlog = insnlog_open(log_stream(s), o->log_regs, err, sizeof(err));
        if (!s->insnlog) {
            report("%s", err);
            s->status = CLI_EXIT_HOST;
            return false;
        }
        insnlog_attach(s->insnlog, &m->cpu);
    }
    return true;
}

bool session_open(struct session *s, const struct session_options *opt,
                  const struct boot_params *boot, struct console *con)
{
    *s = (struct session){ .opt = opt, .con = con, .status = CLI_EXIT_USAGE };
    s->m = machine_create(opt->mem_mib, console_out, con);
    if (!s->m) {
        report("cannot create a machine with %u MiB of RAM: out of memory", opt->mem_mib);
        s->status = CLI_EXIT_HOST;
        return false;
    }
    con->cpu = &s->m->cpu;
    char err[512];
    if (machine_load(s->m, boot, err, sizeof(err)) < 0) {
        report("%s", err);
        return false;
    }
    machine_set_ips(s->m, opt->ips);
    machine_set_realtime(s->m, opt->realtime);
    if (opt->stats && !(s->rt = roundtrips_open(s->m))) {
        report("cannot count round trips for --stats: out of memory");
        s->status = CLI_EXIT_HOST;
        return false;
    }
    if (!open_logs(s, boot) || !record_open(s, boot))
        return false;
    if ((opt->gdb || opt->view) && !s->syms)
        s->syms = symbols_load(boot); /* gdb's stop texts and the live view's details name
                                       * addresses (NULL: they do not) */
    return true;
}

/* Between two chunks of a gdb-served run: the console's partial lines. */
static bool session_flush(void *ctx)
{
    return console_flush(ctx);
}

/* Runs until the guest stops or the budget is used up, or the console or the log file cannot
 * be written; returns the exit status. */
static int run_machine(struct session *s)
{
    const struct session_options *o = s->opt;
    struct cpu *c = &s->m->cpu;
    char at[SESSION_WHERE_LEN];
    uint64_t start = cpu_time(c);
    enum run_result r = RUN_LIMIT;
    bool ended = false;
    int sig = 0;
    if (o->gdb) {
        struct gdb_stub_options g = { o->gdb, o->gdb_wait, session_flush, s->con, s->syms,
                                      o->max_insns, 0 };
        switch (gdb_stub_serve(s->m, &g, &r)) {
        case GDB_FAILED:
            return CLI_EXIT_USAGE;
        case GDB_KILLED:
            console_flush(s->con);
            console_end_line(s->con);
            session_where(s->m, at);
            report("killed by gdb at %s", at);
            return CLI_EXIT_STOPPED;
        case GDB_ENDED:
            ended = true;
            break;
        case GDB_DETACHED:
            start = cpu_time(c); /* --max-insns counts from here */
            break;
        }
    }
    if (o->view && !ended) {
        /* The window runs the machine (view/live.h) until the guest ends and it is closed. */
        char why[512];
        struct view_live_options vo = { .title = o->command, .ips = o->ips,
                                        .max_insns = o->max_insns, .flush = session_flush,
                                        .flush_ctx = s->con, .syms = s->syms,
                                        .per_frame = o->view_speed,
                                        .width = o->view_width, .height = o->view_height };
        if (!view_live_run(s->m, &vo, &r, why, sizeof why)) {
            report("%s", why);
            return CLI_EXIT_USAGE;
        }
        ended = true;
    }
    while (!ended) {
        uint64_t chunk = SESSION_RUN_CHUNK;
        if (o->max_insns) {
            uint64_t done = cpu_time(c) - start;
            if (done >= o->max_insns) {
                r = RUN_LIMIT;
                break;
            }
            if (o->max_insns - done < chunk)
                chunk = o->max_insns - done;
        }
        r = cpu_run(c, chunk);
        if (!console_flush(s->con) || r != RUN_LIMIT)
            break;
        if (!record_between_chunks(s, &sig))
            return CLI_EXIT_OUTPUT;
        if (sig)
            break;
        int err;
        if (s->log_out && log_failed(s->log_out, &err)) {
            session_where(s->m, at);
            report("cannot write log file '%s': %s; the run stopped at %s", o->log_file,
                   strerror(err), at);
            return CLI_EXIT_OUTPUT;
        }
    }

    console_release(s->con);
    console_flush(s->con);
    session_where(s->m, at);
    if (r != RUN_EXIT)
        console_end_line(s->con);
    int status;
    if (s->con->err) {
        char where[64];
        snprintf(where, sizeof where, "the run stopped at %s", at);
        status = console_error(s->con, where);
    } else if (sig) {
        report("stopped by signal %d at %s", sig, at);
        status = 128 + sig;
    } else {
        status = session_report_end(s->m, r, o->max_insns);
    }
    record_finish(s, r, sig, status);
    return status;
}

int session_run(struct session *s)
{
    terminal_attach_input(s->m);
    record_start(s);
    double t0 = now_seconds();
    s->status = run_machine(s);
    terminal_restore();
    double secs = now_seconds() - t0;
    if (s->opt->stats)
    {
        session_report_stats(s->m, secs);
        roundtrips_report(s->rt);
    }
    if (s->opt->dump_pages) {
        fflush(stdout);
        pagedump(log_stream(s), &s->m->cpu);
    }
    return s->status;
}

int session_close(struct session *s)
{
    record_close(s);
    intlog_close(s->intlog);
    s->intlog = NULL;
    roundtrips_close(s->rt);
    s->rt = NULL;
    symbols_free(s->syms);
    s->syms = NULL;
    if (s->insnlog) {
        insnlog_detach(s->insnlog, &s->m->cpu);
        insnlog_close(s->insnlog);
        s->insnlog = NULL;
    }
    /* Output that could not be written overrides the run's own status: a run whose console
     * or log is incomplete must not look like a success. The first error is the one told. */
    if (s->log_out) {
        const char *name = s->opt->log_file;
        bool told = s->status == CLI_EXIT_OUTPUT || s->status == CLI_EXIT_PIPE;
        int lerr = 0;
        if (log_failed(s->log_out, &lerr) && !told) {
            report("cannot write log file '%s': %s", name, strerror(lerr));
            s->status = CLI_EXIT_OUTPUT;
            told = true;
        }
        if (fclose(s->log_out) != 0 && !lerr && !told) {
            report("cannot write log file '%s': %s", name, strerror(errno));
            s->status = CLI_EXIT_OUTPUT;
        }
        s->log_out = NULL;
    }
    s->con->cpu = NULL;
    machine_destroy(s->m);
    s->m = NULL;
    return s->status;
}
