/* The `--log int` transition log (see intlog.h). */
#include "frontend/intlog.h"

#include <stdlib.h>

#include "frontend/machine_names.h"

struct intlog {
    FILE *out;
    struct machine *m;
    struct machine_names names;
    struct describe_ctx d;
};

static void intlog_event(void *ctx, const struct trace_event *ev)
{
    struct intlog *l = ctx;
    if (ev->kind == TR_CR3) /* not a line of this log */
        return;
    l->d.names.syscall_vector = machine_syscall_vector(l->m);
    char line[1536];
    describe_event_in(&l->d, ev, line, sizeof line);
    fprintf(l->out, "%s\n", line);
}

struct intlog *intlog_open(struct machine *m, const struct symbols *syms, FILE *out)
{
    struct intlog *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->out = out;
    l->m = m;
    struct describe_names names;
    machine_names_init(&l->names, m, syms, &names);
    describe_ctx_init(&l->d, &names);
    if (cpu_add_sink(&m->cpu, intlog_event, l) < 0) {
        free(l);
        return NULL;
    }
    return l;
}

void intlog_close(struct intlog *l)
{
    if (!l)
        return;
    cpu_remove_sink(&l->m->cpu, intlog_event, l);
    free(l);
}
