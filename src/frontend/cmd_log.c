/* `ringside log TRACE`: a recorded trace's events, as the --log int lines or as JSON lines
 * (the schema is in docs/trace-format.md), filtered (trace/filter.h). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cpu/cpu.h"
#include "frontend/cli.h"
#include "frontend/commands.h"
#include "frontend/report.h"
#include "frontend/trace_open.h"
#include "trace/describe.h"
#include "frontend/symbols.h"
#include "trace/json.h"
#include "trace/tracectx.h"

static void json_state(FILE *out, const struct trace_state *s)
{
    static const char *const regs[8] = { "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi",
                                         "edi" };
    fprintf(out, "{\"cpl\":%u,\"cs\":%u,\"eip\":%" PRIu32 ",\"ss\":%u,\"eflags\":%" PRIu32
            ",\"cr3\":%" PRIu32, s->cpl, s->cs, s->eip, s->ss, s->eflags, s->cr3);
    for (int i = 0; i < 8; i++)
        fprintf(out, ",\"%s\":%" PRIu32, regs[i], s->r[i]);
    fputc('}', out);
}

/* One event as a JSON object; text is its --log int line. */
static void json_event(FILE *out, const struct trace_ctx *t, const struct trace_event *ev,
                       const char *text)
{
    const struct trace_space *sp = trace_ctx_space(t, ev->before.cr3);
    fprintf(out, "{\"icount\":%" PRIu64 ",\"kind\":", ev->icount);
    trace_json_str(out, trace_kind_name(ev->kind));
    if (trace_kind_has_vector(ev->kind))
        fprintf(out, ",\"vector\":%u", ev->vector);
    else
        fputs(",\"vector\":null", out);
    if (ev->has_error)
        fprintf(out, ",\"error\":%" PRIu32, ev->error);
    else
        fputs(",\"error\":null", out);
    fprintf(out, ",\"cr2\":%" PRIu32 ",\"space\":", ev->cr2);
    if (sp) {
        trace_json_str(out, sp->name);
        fprintf(out, ",\"pid\":%" PRIu32, sp->pid);
    } else {
        fprintf(out, "\"CR3 0x%08" PRIx32 "\",\"pid\":null", ev->before.cr3);
    }
    if (describe_is_syscall(&t->d, ev)) {
        uint32_t nr = ev->before.r[EAX];
        const char *name = trace_ctx_syscall(t, nr);
        fprintf(out, ",\"syscall\":{\"nr\":%" PRIu32 ",\"name\":", nr);
        if (name)
            trace_json_str(out, name);
        else
            fputs("null", out);
        fputc('}', out);
    }
    fputs(",\"before\":", out);
    json_state(out, &ev->before);
    fputs(",\"after\":", out);
    json_state(out, &ev->after);
    if (ev->kind == TR_EXCEPTION || ev->kind == TR_SHUTDOWN) {
        char why[1536];
        describe_fault_of(&t->d, ev, why, sizeof why);
        fputs(",\"fault\":", out);
        trace_json_str(out, why);
    }
    fputs(",\"text\":", out);
    trace_json_str(out, text);
    fputs("}\n", out);
}

int cmd_log_main(struct cli_options *o, const struct cli_env *env)
{
    (void)env;
    const char *format = o->trace.format ? o->trace.format : "text";
    bool jsonl = strcmp(format, "jsonl") == 0;
    if (!jsonl && strcmp(format, "text") != 0) {
        report("unknown --format '%s' (known: text, jsonl)", format);
        return CLI_EXIT_USAGE;
    }
    struct trace_file tf;
    struct trace_filter f;
    if (!trace_cli_open(o, &tf, &f, true))
        return CLI_EXIT_USAGE;
    struct symbols *syms;
    struct trace_ctx *t = trace_cli_reader(o, &tf, &syms);
    int status = CLI_EXIT_HOST;
    if (!t)
        goto out;
    for (size_t i = 0; i < tf.nrecs; i++) {
        struct trace_event ev;
        if (!trace_ctx_step(t, &tf.recs[i], &ev))
            continue;
        /* The live --log int shows no CR3 loads (its golden files predate the kind); the
         * text here is the same lines unless they are asked for. */
        if (!jsonl && ev.kind == TR_CR3 && f.kind != TR_CR3)
            continue;
        struct trace_event entry;
        if (!trace_filter_match(&f, &t->names, &ev)) {
            describe_track(&t->d, &ev, &entry); /* a later return still finds its entry */
            continue;
        }
        char line[1536];
        describe_event_in(&t->d, &ev, line, sizeof line);
        if (jsonl)
            json_event(stdout, t, &ev, line);
        else
            printf("%s\n", line);
    }
    status = trace_cli_status(o, &tf);
out:
    trace_ctx_free(t);
    symbols_free(syms);
    trace_free(&tf);
    return status;
}
