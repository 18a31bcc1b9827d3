/* Replay's comparison (see replay.h). */
#include "trace/replay.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cpu/inspect.h"
#include "machine/machine.h"
#include "trace/describe.h"

#define REPLAY_CHUNK 1000000u /* device time between checks that a recorded event is late */

static void diverge(struct replay *rp, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void diverge(struct replay *rp, const char *fmt, ...)
{
    if (rp->diverged)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rp->why, sizeof rp->why, fmt, ap);
    va_end(ap);
    rp->diverged = true;
    if (rp->cpu)
        cpu_request_stop(rp->cpu);
}

/* The next record of type at or after *i; NULL at the end. */
static const struct trace_record *next_of(const struct trace_file *tf, size_t *i, uint8_t type)
{
    while (*i < tf->nrecs && tf->recs[*i].type != type)
        (*i)++;
    return *i < tf->nrecs ? &tf->recs[*i] : NULL;
}

static bool truncated(const struct replay *rp)
{
    return !rp->tf->has_end;
}

/* A truncated trace's records are all compared: nothing more to do. */
static void stop_done(struct replay *rp)
{
    rp->done = true;
    if (rp->cpu)
        cpu_request_stop(rp->cpu);
}

/* Whether every event and console byte recorded has been compared. */
static bool all_compared(struct replay *rp)
{
    size_t e = rp->ev_i, o = rp->out_i, n = rp->in_i;
    return !next_of(rp->tf, &e, TREC_EVENT) && !next_of(rp->tf, &o, TREC_OUTPUT) &&
           !next_of(rp->tf, &n, TREC_INPUT);
}

/* The fields of two events that differ, named ("eax after, cr2"). */
static void differing(const struct trace_event *a, const struct trace_event *b, char *buf,
                      size_t len)
{
    static const char *const regs[8] = { "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi",
                                         "edi" };
    size_t at = 0;
    buf[0] = '\0';
#define DIFF(cond, ...)                                                             \
    do {                                                                            \
        if ((cond) && at < len) {                                                   \
            at += (size_t)snprintf(buf + at, len - at, "%s", at ? ", " : "");       \
            if (at < len)                                                           \
                at += (size_t)snprintf(buf + at, len - at, __VA_ARGS__);            \
        }                                                                           \
    } while (0)
    DIFF(a->icount != b->icount, "icount");
    DIFF(a->kind != b->kind, "kind");
    DIFF(a->vector != b->vector, "vector");
    DIFF(a->has_error != b->has_error || a->error != b->error, "error code");
    DIFF(a->cr2 != b->cr2, "cr2");
    const struct trace_state *s[2][2] = { { &a->before, &b->before }, { &a->after, &b->after } };
    for (int w = 0; w < 2; w++) {
        const char *when = w ? "after" : "before";
        const struct trace_state *x = s[w][0], *y = s[w][1];
        for (int r = 0; r < 8; r++)
            DIFF(x->r[r] != y->r[r], "%s %s", regs[r], when);
        DIFF(x->eip != y->eip, "eip %s", when);
        DIFF(x->eflags != y->eflags, "eflags %s", when);
        DIFF(x->cr3 != y->cr3, "cr3 %s", when);
        DIFF(x->cs != y->cs || x->ss != y->ss, "cs/ss %s", when);
        DIFF(x->cpl != y->cpl, "cpl %s", when);
    }
    DIFF(at == 0, "fault detail");
#undef DIFF
}

static void replay_event(void *ctx, const struct trace_event *ev)
{
    struct replay *rp = ctx;
    if (rp->diverged || rp->done)
        return;
    const struct trace_record *r = next_of(rp->tf, &rp->ev_i, TREC_EVENT);
    if (!r && truncated(rp)) { /* past the end of what was recorded */
        stop_done(rp);
        return;
    }
    char got[512];
    describe_event(ev, got, sizeof got);
    if (!r) {
        diverge(rp, "replay: diverged after %" PRIu64 " identical events: an event the "
                "recording does not have\n  replayed: %s", rp->events, got);
        return;
    }
    uint8_t enc[TRACE_EVENT_MAX];
    size_t n = trace_event_encode(&rp->codec, ev, enc);
    if (n != r->len || memcmp(enc, r->payload, n) != 0) {
        struct trace_event want;
        trace_record_event(r, &want);
        char rec[512], fields[256];
        describe_event(&want, rec, sizeof rec);
        differing(&want, ev, fields, sizeof fields);
        diverge(rp, "replay: diverged at event %" PRIu64 " (%s differ)\n  recorded: %s\n"
                "  replayed: %s", rp->events + 1, fields, rec, got);
        return;
    }
    rp->events++;
    rp->ev_i++;
}

static void replay_byte(void *ctx, const struct console_byte *b)
{
    struct replay *rp = ctx;
    if (rp->diverged || rp->done)
        return;
    if (!b->input && rp->tf->inputs_only) { /* output is not recorded there: regenerated */
        rp->out_bytes++;
        return;
    }
    uint8_t type = b->input ? TREC_INPUT : TREC_OUTPUT;
    size_t *i = b->input ? &rp->in_i : &rp->out_i;
    const char *what = b->input ? "input" : "console output";
    uint64_t n = (b->input ? rp->in_bytes : rp->out_bytes) + 1;
    const struct trace_record *r = next_of(rp->tf, i, type);
    if (!r && truncated(rp)) {
        stop_done(rp);
        return;
    }
    if (!r) {
        diverge(rp, "replay: diverged at %s byte %" PRIu64 ": the recording has no more "
                "(replayed 0x%02x at instruction %" PRIu64 ")", what, n, b->byte, b->icount);
        return;
    }
    struct trace_byte_rec want;
    trace_record_byte(r, &want);
    if (want.byte != b->byte || want.icount != b->icount || want.time != b->time) {
        diverge(rp, "replay: diverged at %s byte %" PRIu64 "\n  recorded: 0x%02x at "
                "instruction %" PRIu64 ", device time %" PRIu64 "\n  replayed: 0x%02x at "
                "instruction %" PRIu64 ", device time %" PRIu64, what, n, want.byte,
                want.icount, want.time, b->byte, b->icount, b->time);
        return;
    }
    (*i)++;
    if (b->input)
        rp->in_bytes++;
    else
        rp->out_bytes++;
}

/* The machine asks for input: the recorded byte delivered now, or the end of input. */
static void replay_refill(void *ctx, struct machine *m)
{
    struct replay *rp = ctx;
    uint64_t now = cpu_time(&m->cpu);
    const struct trace_record *r = next_of(rp->tf, &rp->feed_i, TREC_INPUT);
    if (r) {
        struct trace_byte_rec b;
        trace_record_byte(r, &b);
        if (b.time <= now && machine_input_push(m, b.byte))
            rp->feed_i++;
        return;
    }
    size_t e = 0;
    const struct trace_record *end = next_of(rp->tf, &e, TREC_INPUT_END);
    if (end) {
        struct trace_byte_rec b;
        trace_record_byte(end, &b);
        if (b.time <= now)
            machine_input_end(m);
    }
}

void replay_init(struct replay *rp, const struct trace_file *tf)
{
    *rp = (struct replay){ .tf = tf };
    trace_codec_init(&rp->codec);
}

bool replay_attach(struct replay *rp, struct machine *m)
{
    /* A trace of the inputs only has no events to compare them with. */
    bool events = !rp->tf->inputs_only;
    if (events && cpu_add_sink(&m->cpu, replay_event, rp) < 0)
        return false;
    if (machine_add_tap(m, replay_byte, rp) < 0) {
        cpu_remove_sink(&m->cpu, replay_event, rp);
        return false;
    }
    machine_input_open(m, replay_refill, rp);
    rp->cpu = &m->cpu;
    return true;
}

void replay_attach_input(struct replay *rp, struct machine *m)
{
    machine_input_open(m, replay_refill, rp);
}

void replay_detach(struct replay *rp, struct machine *m)
{
    cpu_remove_sink(&m->cpu, replay_event, rp);
    machine_remove_tap(m, replay_byte, rp);
    rp->cpu = NULL;
}

bool replay_check(struct replay *rp, struct machine *m)
{
    if (rp->diverged)
        return false;
    if (rp->tf->inputs_only) /* runs to its end record's time or its last mark's */
        return true;
    if (truncated(rp) && all_compared(rp)) {
        rp->done = true;
        return false;
    }
    uint64_t now = cpu_stat_insns(&m->cpu);
    const struct trace_record *r = next_of(rp->tf, &rp->ev_i, TREC_EVENT);
    if (r) {
        struct trace_event want;
        trace_record_event(r, &want);
        if (want.icount < now) {
            char rec[512];
            describe_event(&want, rec, sizeof rec);
            diverge(rp, "replay: diverged at event %" PRIu64 ": the recorded event did not "
                    "happen (the replay is at instruction %" PRIu64 ")\n  recorded: %s",
                    rp->events + 1, now, rec);
            return false;
        }
    }
    return true;
}

uint64_t replay_end_time(const struct replay *rp)
{
    const struct trace_file *tf = rp->tf;
    if (tf->has_end)
        return tf->end.time;
    if (tf->inputs_only) /* truncated: as far as its last mark says the run went */
        return tf->has_mark ? tf->mark_time : 0;
    return UINT64_MAX;
}

enum run_result replay_run(struct replay *rp, struct machine *m, bool (*between)(void *),
                           void *ctx)
{
    uint64_t end = replay_end_time(rp);
    /* A run that ended by itself is given one unit more, so that it must end by itself. */
    uint8_t reason = rp->tf->has_end ? rp->tf->end.reason : 0;
    if (end != UINT64_MAX && reason != TEND_LIMIT && reason != TEND_SIGNAL &&
        reason != TEND_OUTPUT && reason != TEND_STOP && rp->tf->has_end)
        end++;
    enum run_result r = RUN_LIMIT;
    while (cpu_time(&m->cpu) < end) {
        uint64_t chunk = end - cpu_time(&m->cpu);
        if (chunk > REPLAY_CHUNK)
            chunk = REPLAY_CHUNK;
        r = cpu_run(&m->cpu, chunk);
        if (!replay_check(rp, m) || r != RUN_LIMIT)
            break;
        if (between && !between(ctx)) {
            r = RUN_STOP;
            break;
        }
    }
    replay_finish(rp, m, r);
    return r;
}

bool replay_finish(struct replay *rp, struct machine *m, enum run_result r)
{
    (void)r;
    if (rp->diverged || truncated(rp))
        return !rp->diverged;
    const struct trace_end *e = &rp->tf->end;
    size_t i = rp->ev_i;
    const struct trace_record *left = next_of(rp->tf, &i, TREC_EVENT);
    if (left) {
        struct trace_event want;
        trace_record_event(left, &want);
        char rec[512];
        describe_event(&want, rec, sizeof rec);
        diverge(rp, "replay: diverged at event %" PRIu64 ": the replay ended before it\n"
                "  recorded: %s", rp->events + 1, rec);
    } else if (!all_compared(rp)) {
        diverge(rp, "replay: diverged: the replay ended before all console bytes were sent "
                "(%" PRIu64 " output, %" PRIu64 " input bytes identical)", rp->out_bytes,
                rp->in_bytes);
    } else if (cpu_stat_insns(&m->cpu) != e->icount || cpu_time(&m->cpu) != e->time) {
        diverge(rp, "replay: diverged at the end: recorded %" PRIu64 " instructions (device "
                "time %" PRIu64 "), replayed %" PRIu64 " (device time %" PRIu64 ")",
                e->icount, e->time, cpu_stat_insns(&m->cpu), cpu_time(&m->cpu));
    } else if (rp->tf->inputs_only) {
        /* No events to compare one by one: the end record's counts, every one. */
        for (unsigned i = 0; i < 4; i++)
            if (cpu_stat_ring(&m->cpu, i) != e->ring[i])
                diverge(rp, "replay: diverged: recorded %" PRIu64 " instructions at CPL %u, "
                        "replayed %" PRIu64, e->ring[i], i, cpu_stat_ring(&m->cpu, i));
        for (unsigned k = 0; k < e->nkinds && k < TR_KINDS; k++)
            if (cpu_stat_events(&m->cpu, (enum trace_kind)k) != e->kinds[k])
                diverge(rp, "replay: diverged: recorded %" PRIu64 " events of kind %s, "
                        "replayed %" PRIu64, e->kinds[k], trace_kind_name((enum trace_kind)k),
                        cpu_stat_events(&m->cpu, (enum trace_kind)k));
    }
    return !rp->diverged;
}
