/* Chrome trace-event JSON from a trace (see export_perfetto.h). */
#include "trace/export_perfetto.h"

#include <inttypes.h>
#include <stdbool.h>
#include <string.h>

#include "cpu/exceptions.h"
#include "trace/describe.h"
#include "trace/json.h"
#include "trace/tracectx.h"

#define MAX_DEPTH 32     /* open slices on a track; deeper entries are not drawn */
#define MAX_SPACES 4096  /* tracks; later spaces share the last one */
#define NAME_LEN 80      /* a slice name: "IOAPIC pin 4 → COM1", a system call's */

struct pf {
    FILE *out;
    struct trace_ctx *t;      /* names as they were when each event happened */
    uint64_t ips;
    uint64_t written;
    uint32_t cr3[MAX_SPACES];
    struct { bool named, retired; uint32_t pid; } as[MAX_SPACES]; /* naming each track shows */
    unsigned nspaces;
    unsigned pid;                 /* the current space's track */
    int cpl;                      /* the CPL last counted, -1: none */
    char stack[MAX_DEPTH][NAME_LEN];
    unsigned depth, lost;         /* open slices; entries not drawn because too deep */
};


/* Microseconds of guest time, with nanoseconds. */
static void ts(struct pf *p, uint64_t icount)
{
    uint64_t whole = icount / p->ips, rest = icount % p->ips;
    double frac = (double)rest * 1e6 / (double)p->ips;
    fprintf(p->out, "%.3f", (double)whole * 1e6 + frac);
}

static void head(struct pf *p, const char *ph, const char *cat, const char *name, uint64_t at)
{
    fputs(p->written ? ",\n" : "\n", p->out);
    fprintf(p->out, "{\"ph\":\"%s\",\"cat\":\"%s\",\"name\":", ph, cat);
    trace_json_str(p->out, name);
    fprintf(p->out, ",\"pid\":%u,\"tid\":%u,\"ts\":", p->pid, p->pid);
    ts(p, at);
    p->written++;
}

/* The track of cr3, 0 when it has none yet. */
static unsigned track_of(const struct pf *p, uint32_t cr3)
{
    for (unsigned i = 0; i < p->nspaces; i++)
        if (p->cr3[i] == cr3 && !p->as[i].retired)
            return i + 1;
    return 0;
}

/* The track's process (and, the first time, thread) name: the space's name as the guest said
 * it so far ("hello (pid 3)"), else its CR3. */
static void name_track(struct pf *p, unsigned pid, uint32_t cr3, bool thread)
{
    char name[TRACE_NAME_MAX + 64];
    const struct trace_space *s = trace_ctx_space(p->t, cr3);
    if (s && pid <= MAX_SPACES) {
        p->as[pid - 1].named = true;
        p->as[pid - 1].pid = s->pid;
    }
    if (s)
        snprintf(name, sizeof name, "%s (pid %" PRIu32 ")", s->name, s->pid);
    else
        snprintf(name, sizeof name, "CR3 0x%08" PRIx32, cr3);
    static const char *const meta[2][2] = { { "process_name", NULL }, { "thread_name", "cpu" } };
    for (int m = 0; m < (thread ? 2 : 1); m++) {
        fputs(p->written ? ",\n" : "\n", p->out);
        fprintf(p->out, "{\"ph\":\"M\",\"name\":\"%s\",\"pid\":%u,\"tid\":%u,\"args\":{\"name\":",
                meta[m][0], pid, pid);
        trace_json_str(p->out, meta[m][1] ? meta[m][1] : name);
        fputs("}}", p->out);
        p->written++;
    }
}

/* The track (pid) of a space, made (with its names) on first use. */
static unsigned track(struct pf *p, uint32_t cr3)
{
    unsigned pid = track_of(p, cr3);
    if (pid)
        return pid;
    if (p->nspaces == MAX_SPACES)
        return MAX_SPACES;
    p->cr3[p->nspaces++] = cr3;
    name_track(p, p->nspaces, cr3, true);
    return p->nspaces;
}

/* Opens a slice; a slice continued on another space's track says so in args.continued, an
 * entry's carries its --log int line in args.text. */
static void begin_slice(struct pf *p, const char *cat, const char *name, uint64_t at,
                        bool continued, const char *text)
{
    if (p->depth == MAX_DEPTH) {
        p->lost++;
        return;
    }
    snprintf(p->stack[p->depth++], NAME_LEN, "%s", name);
    head(p, "B", cat, name, at);
    if (continued) {
        fputs(",\"args\":{\"continued\":true}}", p->out);
    } else if (text) {
        fputs(",\"args\":{\"text\":", p->out);
        trace_json_str(p->out, text);
        fputs("}}", p->out);
    } else {
        fputc('}', p->out);
    }
}

static void begin(struct pf *p, const char *cat, const char *name, uint64_t at)
{
    begin_slice(p, cat, name, at, false, NULL);
}

static void end_top(struct pf *p, uint64_t at)
{
    if (p->lost) {
        p->lost--;
        return;
    }
    if (!p->depth)
        return;
    const char *name = p->stack[--p->depth];
    bool mode = strcmp(name, "user") == 0 || strcmp(name, "kernel") == 0;
    head(p, "E", mode ? "mode" : "transition", name, at);
    fputc('}', p->out);
}

static void end_all(struct pf *p, uint64_t at)
{
    p->lost = 0;
    while (p->depth)
        end_top(p, at);
}

static void counter(struct pf *p, int cpl, uint64_t at)
{
    if (cpl == p->cpl)
        return;
    p->cpl = cpl;
    head(p, "C", "cpl", "CPL", at);
    fprintf(p->out, ",\"args\":{\"cpl\":%d}}", cpl);
}

/* Moves the open slices to the track of cr3 (a CR3 load or a task switch). */
static void switch_space(struct pf *p, uint32_t cr3, uint64_t at, int cpl)
{
    unsigned pid = track(p, cr3);
    if (pid == p->pid)
        return;
    char saved[MAX_DEPTH][NAME_LEN];
    unsigned n = p->depth;
    memcpy(saved, p->stack, sizeof saved);
    end_all(p, at);
    p->pid = pid;
    p->cpl = -1;
    counter(p, cpl, at);
    for (unsigned i = 0; i < n; i++) {
        const char *name = saved[i];
        bool mode = strcmp(name, "user") == 0 || strcmp(name, "kernel") == 0;
        begin_slice(p, mode ? "mode" : "transition", name, at, true, NULL);
    }
}

/* The guest named cr3 (again). A space first named gets its name on its track; a CR3 named
 * for another process (the kernel reused the page directory) gets a new track from here on,
 * so each process is one Perfetto process. */
static void space_named(struct pf *p, uint32_t cr3, bool started, uint64_t at)
{
    unsigned id = track_of(p, cr3);
    if (!id)
        return; /* named before use: its track is made with the name */
    const struct trace_space *s = trace_ctx_space(p->t, cr3);
    if (!p->as[id - 1].named || !s || s->pid == p->as[id - 1].pid || id == MAX_SPACES) {
        name_track(p, id, cr3, false);
        return;
    }
    p->as[id - 1].retired = true;
    if (started && p->pid == id)
        switch_space(p, cr3, at, p->cpl < 0 ? 0 : p->cpl);
}

static bool is_entry(unsigned kind)
{
    return kind == TR_EXCEPTION || kind == TR_INTERRUPT || kind == TR_SOFTINT ||
           kind == TR_SYSENTER || kind == TR_FARCALL || kind == TR_FARJMP;
}

static bool is_return(unsigned kind)
{
    return kind == TR_IRET || kind == TR_SYSEXIT || kind == TR_FARRET;
}

/* An instant event with the fault's explanation (a triple fault's: its three steps). */
static void fault_instant(struct pf *p, const struct trace_event *ev, const char *name)
{
    char why[1536];
    describe_fault_of(&p->t->d, ev, why, sizeof why);
    head(p, "i", "fault", name, ev->icount);
    fputs(",\"s\":\"t\",\"args\":{\"fault\":", p->out);
    trace_json_str(p->out, why);
    fprintf(p->out, ",\"cpl\":%u,\"eip\":\"0x%08" PRIx32 "\"}}", ev->before.cpl, ev->before.eip);
}

/* The mode slice for a CPL: user at 3, kernel otherwise. */
static const char *mode_of(unsigned cpl)
{
    return cpl == 3 ? "user" : "kernel";
}

static void event(struct pf *p, const struct trace_event *ev, const char *text)
{
    uint64_t at = ev->icount;
    if (track(p, ev->before.cr3) != p->pid)
        switch_space(p, ev->before.cr3, at, ev->before.cpl);
    char name[NAME_LEN];
    if (is_entry(ev->kind)) {
        describe_entry_name(&p->t->d, ev, name, sizeof name);
        if (ev->kind == TR_EXCEPTION)
            fault_instant(p, ev, name);
        if (ev->after.cpl != 3 && ev->before.cpl == 3) {
            end_all(p, at);
            begin(p, "mode", "kernel", at);
        }
        begin_slice(p, "transition", name, at, false, text);
    } else if (is_return(ev->kind)) {
        if (p->depth > 1 || p->lost)
            end_top(p, at);
        if (ev->after.cpl == 3 && !(p->depth == 1 && strcmp(p->stack[0], "user") == 0)) {
            end_all(p, at);
            begin(p, "mode", "user", at);
        }
    } else if (ev->kind == TR_HALT) {
        head(p, "i", "halt", "hlt", at);
        fputs(",\"s\":\"t\"}", p->out);
    } else if (ev->kind == TR_SHUTDOWN) {
        fault_instant(p, ev, "triple fault");
    }
    if (ev->after.cr3 != ev->before.cr3)
        switch_space(p, ev->after.cr3, at, ev->after.cpl);
    if (ev->kind == TR_TASK && (p->depth == 0 ||
                                strcmp(p->stack[0], mode_of(ev->after.cpl)) != 0)) {
        end_all(p, at);
        begin(p, "mode", mode_of(ev->after.cpl), at);
    }
    counter(p, ev->after.cpl, at);
}

uint64_t export_perfetto(const struct trace_file *tf, struct trace_ctx *t,
                         const struct trace_filter *f, uint64_t ips, FILE *out)
{
    struct pf p = { .out = out, .t = t, .ips = ips ? ips : tf->hdr.ips, .cpl = -1 };
    if (!p.ips)
        p.ips = 1;
    fputs("{\"displayTimeUnit\":\"ns\",\"traceEvents\":[", out);
    uint64_t last = 0;
    bool started = false;
    for (size_t i = 0; i < tf->nrecs; i++) {
        const struct trace_record *r = &tf->recs[i];
        struct trace_event ev;
        if (!trace_ctx_step(t, r, &ev)) {
            if (r->type == TREC_SPACE)
                space_named(&p, trace_get32(r->payload), started, last);
            continue;
        }
        struct trace_event entry;
        if (f && !trace_filter_match(f, &t->names, &ev)) {
            describe_track(&t->d, &ev, &entry); /* a later return still finds its entry */
            continue;
        }
        char text[1536];
        describe_event_in(&t->d, &ev, text, sizeof text);
        if (!started) { /* the machine starts in the kernel at instruction 0 */
            p.pid = track(&p, ev.before.cr3);
            counter(&p, ev.before.cpl, 0);
            begin(&p, "mode", mode_of(ev.before.cpl), 0);
            started = true;
        }
        event(&p, &ev, text);
        last = ev.icount;
    }
    if (tf->has_end && tf->end.icount > last)
        last = tf->end.icount;
    end_all(&p, last);
    fputs("\n]}\n", out);
    return p.written;
}
