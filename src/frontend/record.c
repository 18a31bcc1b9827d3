/* --record in a session (see record.h). */
#include "frontend/record.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "frontend/cli.h"
#include "frontend/report.h"
#include "frontend/session_report.h"
#include "machine/machine.h"
#include "trace/filehash.h"
#include "trace/recorder.h"

/* A stop signal arrived while recording. Signals are process-wide by nature, so this flag is,
 * like the terminal's saved state (terminal.c), state outside any struct. */
static volatile sig_atomic_t stop_signal;

static void on_stop_signal(int sig)
{
    stop_signal = sig;
}

/* Hashes every file of the run into h (image, then each module's FILE). */
static bool hash_files(struct trace_header *h, const struct boot_params *boot, const char *dir)
{
    char path[4096], err[512];
    for (size_t i = 0; i <= boot->nmodules; i++) {
        if (i >= TRACE_MAX_FILES) {
            report("cannot record more than %u files", TRACE_MAX_FILES);
            return false;
        }
        const char *spec = i == 0 ? boot->image : boot->modules[i - 1];
        char file[4096];
        size_t n = strcspn(spec, " ");
        if (n < sizeof file) {
            memcpy(file, spec, n);
            file[n] = '\0';
        }
        if (n >= sizeof file || !trace_file_path(dir, file, path, sizeof path)) {
            report("path too long: '%s'", spec);
            return false;
        }
        if (trace_sha256_file(path, h->hash[i], err, sizeof err) < 0) {
            report("%s", err);
            return false;
        }
        h->hash_path[i] = strdup(path);
        if (!h->hash_path[i]) {
            report("out of memory");
            return false;
        }
        h->nhashes = i + 1;
    }
    return true;
}

bool record_open(struct session *s, const struct boot_params *boot)
{
    const struct session_options *o = s->opt;
    if (!o->record_file)
        return true;
    char cwd[4096];
    const char *dir = boot->dir;
    if (!dir) {
        if (!getcwd(cwd, sizeof cwd)) {
            report("cannot record: the current directory is unknown: %s", strerror(errno));
            return false;
        }
        dir = cwd;
    }
    struct trace_header h = {
        .version = RINGSIDE_VERSION, .command = (char *)(o->command ? o->command : "run"),
        .argv = (char **)o->argv, .argc = o->argc > 0 ? (size_t)o->argc : 0,
        .image = (char *)boot->image, .append = (char *)boot->append,
        .modules = (char **)boot->modules, .nmodules = boot->nmodules, .dir = (char *)dir,
        .mem_mib = o->mem_mib, .ips = s->m->clock.units_per_sec, .max_insns = o->max_insns,
    };
    bool ok = hash_files(&h, boot, dir);
    if (ok) {
        char err[512];
        s->rec = recorder_open(o->record_file, err, sizeof err);
        if (s->rec && o->record_inputs_only)
            recorder_set_inputs_only(s->rec);
        if (!s->rec) {
            report("%s", err);
            ok = false;
        } else if (!recorder_write_header(s->rec, &h)) {
            report("cannot record: the command line is too long for a trace header");
            ok = false;
        }
    }
    for (size_t i = 0; i < h.nhashes; i++)
        free(h.hash_path[i]);
    if (!ok)
        s->status = CLI_EXIT_USAGE;
    return ok;
}

void record_start(struct session *s)
{
    if (!s->rec)
        return;
    /* RINGSIDE_PORTABLE=1 (tests): the recorder and the cpu's EFLAGS fold without the
     * host-specific paths (AVX2, SSE4.2, LAHF); the trace must come out byte for byte the same. */
    const char *portable = getenv("RINGSIDE_PORTABLE");
    if (portable && *portable && strcmp(portable, "0") != 0) {
        recorder_set_portable(s->rec);
        cpu_set_portable(&s->m->cpu, true);
    }
    recorder_attach(s->rec, s->m);
    stop_signal = 0;
    struct sigaction sa = { .sa_handler = on_stop_signal };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

static void report_write_error(struct session *s, int err)
{
    char at[SESSION_WHERE_LEN];
    session_where(s->m, at);
    report("cannot write trace file '%s': %s; the run stopped at %s", s->opt->record_file,
           strerror(err), at);
    s->status = CLI_EXIT_OUTPUT;
}

bool record_between_chunks(struct session *s, int *sig)
{
    *sig = stop_signal;
    if (!s->rec || recorder_flush(s->rec))
        return true;
    int err = 0;
    recorder_close(s->rec, &err);
    s->rec = NULL;
    report_write_error(s, err);
    return false;
}

static enum trace_end_reason end_reason(enum run_result r)
{
    switch (r) {
    case RUN_EXIT: return TEND_EXIT;
    case RUN_HALT: return TEND_HALT;
    case RUN_SHUTDOWN: return TEND_SHUTDOWN;
    case RUN_UNSUPPORTED: return TEND_UNSUPPORTED;
    case RUN_LIMIT: return TEND_LIMIT;
    case RUN_STOP: return TEND_STOP;
    }
    return TEND_STOP;
}

void record_finish(struct session *s, enum run_result r, int sig, int status)
{
    if (!s->rec)
        return;
    enum trace_end_reason why = sig ? TEND_SIGNAL
                              : status == CLI_EXIT_OUTPUT || status == CLI_EXIT_PIPE
                                  ? TEND_OUTPUT : end_reason(r);
    recorder_finish(s->rec, s->m, why, (uint32_t)status);
    recorder_detach(s->rec, s->m);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
}

void record_close(struct session *s)
{
    if (!s->rec)
        return;
    int err = 0;
    bool told = s->status == CLI_EXIT_OUTPUT || s->status == CLI_EXIT_PIPE;
    if (recorder_close(s->rec, &err) < 0 && !told) {
        report("cannot write trace file '%s': %s", s->opt->record_file, strerror(err));
        s->status = CLI_EXIT_OUTPUT;
    }
    s->rec = NULL;
}
