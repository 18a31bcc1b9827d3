/* One run of one machine (see session.h). */
#include "frontend/session.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "cpu/cpu.h"
#include "frontend/cli.h"
#include "frontend/console.h"
#include "frontend/insnlog.h"
#include "frontend/intlog.h"
#include "machine/machine.h"
#include "frontend/pagedump.h"
#include "frontend/record.h"
#include "frontend/report.h"
#include "frontend/session_report.h"
#include "frontend/terminal.h"

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

/* Where the logs go: the --log-file, else stderr. */
static FILE *log_stream(const struct session *s)
{
    return s->log_out ? s->log_out : stderr;
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
    fprintf(u->out, "unimp: %s 0x%0*" PRIx32 " %s (%u byte%s) at icount %" PRIu64 "\n",
            mmio ? "mmio" : "port", mmio ? 8 : 4, addr, write ? "write" : "read", size,
            size == 1 ? "" : "s", session_icount(u->m));
}

/* Opens the log file (or makes stderr fully buffered) and attaches the logs asked for. */
static bool open_logs(struct session *s)
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
    } else {
        /* Buffered: one write per line would dominate the run time. */
        setvbuf(stderr, NULL, _IOFBF, 1 << 16);
    }
    if (o->log_int)
        intlog_attach(&m->cpu, log_stream(s));
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
    return open_logs(s) && record_open(s, boot);
}

/* Runs until the guest stops or the budget is used up, or the console or the log file cannot
 * be written; returns the exit status. */
static int run_machine(struct session *s)
{
    const struct session_options *o = s->opt;
    struct cpu *c = &s->m->cpu;
    char at[SESSION_WHERE_LEN];
    uint64_t start = cpu_time(c);
    enum run_result r;
    int sig = 0;
    for (;;) {
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
        session_report_stats(s->m, secs);
    if (s->opt->dump_pages) {
        fflush(stdout);
        pagedump(log_stream(s), &s->m->cpu);
    }
    return s->status;
}

int session_close(struct session *s)
{
    record_close(s);
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
