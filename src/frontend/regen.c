/* Regenerating the events of a trace of the inputs only (see regen.h). */
#include "frontend/regen.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "frontend/loader.h"
#include "frontend/report.h"
#include "machine/machine.h"
#include "trace/filehash.h"
#include "trace/recorder.h"
#include "trace/replay.h"

/* An unnamed temporary file (created, then unlinked at once: nothing is left behind however
 * the process ends) open for reading and writing, and its name while it had one (the recorder
 * opens it by name). -1 with why set. */
static int temp_file(char *path, size_t len, char *why, size_t whylen)
{
    const char *dir = getenv("TMPDIR");
    if (!dir || !*dir)
        dir = "/tmp";
    if ((size_t)snprintf(path, len, "%s/ringside-events-XXXXXX", dir) >= len) {
        snprintf(why, whylen, "the temporary directory's name is too long");
        return -1;
    }
    int fd = mkstemp(path);
    if (fd < 0)
        snprintf(why, whylen, "cannot create a temporary file in %s: %s", dir, strerror(errno));
    return fd;
}

/* The first line of a replay's divergence (it continues with the recorded and replayed
 * sides). */
static void first_line(const char *s, char *out, size_t len)
{
    size_t n = strcspn(s, "\n");
    if (n >= len)
        n = len - 1;
    memcpy(out, s, n);
    out[n] = '\0';
}

/* Progress on a terminal: regenerating a long run takes as long as the run did. */
struct progress {
    const struct machine *m;
    uint64_t total;           /* the run's device time, 0: unknown */
    double start, last;       /* wall-clock seconds */
    bool shown;               /* a progress line is on the terminal */
};

static double wall_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Between two chunks of the run: after the first second, a line updated twice a second on
 * stderr when it is a terminal. */
static bool show_progress(void *ctx)
{
    struct progress *p = ctx;
    double now = wall_seconds();
    if (now - p->start < 1.0 || now - p->last < 0.5 || !p->total)
        return true;
    p->last = now;
    p->shown = true;
    uint64_t done = cpu_time(&p->m->cpu);
    fprintf(stderr, "\rringside: regenerating the events: %3.0f%% of the run",
            100.0 * (double)done / (double)p->total);
    fflush(stderr);
    return true;
}

/* The run again with a recorder of everything on it, into the temporary file named path
 * (unlinked once the recorder has opened it: the caller holds it open). */
static bool rerun(const struct trace_file *tf, struct machine *m, const char *path, char *why,
                  size_t whylen)
{
    char err[512];
    struct recorder *r = recorder_open(path, err, sizeof err);
    unlink(path);
    if (!r) {
        snprintf(why, whylen, "%s", err);
        return false;
    }
    bool ok = recorder_write_header(r, &tf->hdr);
    struct replay rp;
    replay_init(&rp, tf);
    if (ok && (!replay_attach(&rp, m) || !recorder_attach(r, m))) {
        snprintf(why, whylen, "no room for the listeners of the run");
        ok = false;
    } else if (ok) {
        struct progress p = { .m = m, .total = replay_end_time(&rp) };
        p.start = p.last = wall_seconds();
        if (p.total == UINT64_MAX || !isatty(STDERR_FILENO))
            p.total = 0;
        replay_run(&rp, m, show_progress, &p);
        if (p.shown) /* the line cleared for what follows */
            fprintf(stderr, "\r%*s\r", 60, "");
        if (rp.diverged) {
            char line[512];
            first_line(rp.why, line, sizeof line);
            snprintf(why, whylen, "the guest ran differently this time (%s)", line);
            ok = false;
        } else if (tf->has_end) {
            recorder_finish(r, m, (enum trace_end_reason)tf->end.reason, tf->end.status);
        }
        replay_detach(&rp, m);
    }
    int e = 0;
    if (recorder_close(r, &e) < 0 && ok) {
        snprintf(why, whylen, "cannot write the temporary file: %s", strerror(e));
        ok = false;
    }
    return ok;
}

/* trace_regenerate's work: why without the name. */
static bool regenerate(struct trace_file *tf, char *why, size_t whylen)
{
    const struct trace_header *h = &tf->hdr;
    char err[512], path[4096];
    if (!trace_files_unchanged(h, err, sizeof err)) {
        snprintf(why, whylen, "%s", err);
        return false;
    }
    if (h->mem_mib < MACHINE_MEM_MIN_MIB || h->mem_mib > MACHINE_MEM_MAX_MIB) {
        snprintf(why, whylen, "the recorded memory size %" PRIu32 " MiB is out of range",
                 h->mem_mib);
        return false;
    }
    struct machine *m = machine_create(h->mem_mib, NULL, NULL);
    if (!m) {
        snprintf(why, whylen, "cannot create a machine with %" PRIu32 " MiB of RAM: out of "
                 "memory", h->mem_mib);
        return false;
    }
    machine_set_ips(m, h->ips);
    struct boot_params bp = {
        .image = h->image, .append = h->append, .modules = (const char *const *)h->modules,
        .nmodules = h->nmodules, .dir = h->dir,
    };
    bool ok = machine_load(m, &bp, err, sizeof err) == 0;
    if (!ok)
        snprintf(why, whylen, "%s", err);
    int fd = ok ? temp_file(path, sizeof path, why, whylen) : -1;
    ok = fd >= 0 && rerun(tf, m, path, why, whylen);
    machine_destroy(m);
    if (!ok) {
        if (fd >= 0)
            close(fd);
        return false;
    }
    struct trace_file full;
    trace_load_fd(fd, &full); /* closes fd */
    if (!trace_usable(&full) || full.inputs_only) {
        snprintf(why, whylen, "the regenerated trace cannot be read: %s", full.why);
        trace_free(&full);
        return false;
    }
    /* What the recording itself was (truncated, damaged) is what the reader is told. */
    full.status = tf->status;
    memcpy(full.why, tf->why, sizeof full.why);
    trace_free(tf);
    *tf = full;
    return true;
}

bool trace_regenerate(const char *name, struct trace_file *tf, char *why, size_t whylen)
{
    if (!tf->inputs_only || !trace_usable(tf))
        return true;
    report("%s: a trace of the inputs only: running the guest again to regenerate its events",
           name);
    char err[1024];
    if (regenerate(tf, err, sizeof err))
        return true;
    snprintf(why, whylen, "%s: cannot regenerate its events: %s", name, err);
    return false;
}
