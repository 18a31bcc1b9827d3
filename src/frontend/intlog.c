/* The `--log int` transition log (see intlog.h). */
#include "frontend/intlog.h"

#include <stdlib.h>

#include "cpu/inspect.h"
#include "trace/describe.h"

struct intlog {
    FILE *out;
    struct machine *m;
    const struct symbols *syms;
    char label[SPACE_LABEL_LEN]; /* the last space label made (used at once by the formatter) */
    struct describe_ctx d;
};

static const char *space_name(void *ctx, uint32_t cr3)
{
    struct intlog *l = ctx;
    if (!machine_space_find(l->m, cr3))
        return NULL;
    return machine_space_label(l->m, cr3, l->label, sizeof l->label);
}

static const char *syscall_name(void *ctx, uint32_t nr)
{
    return machine_syscall_name(((struct intlog *)ctx)->m, nr);
}

static int irq_of(void *ctx, unsigned vector)
{
    return machine_isa_irq_of(((struct intlog *)ctx)->m, vector);
}

static bool symbol(void *ctx, uint32_t cr3, uint32_t addr, char *buf, size_t len)
{
    struct intlog *l = ctx;
    const struct space_name *n = machine_space_find(l->m, cr3);
    return symbols_lookup(l->syms, n ? n->name : NULL, addr, buf, len);
}

static bool shutdown_steps(void *ctx, struct fault *three)
{
    cpu_get_shutdown(&((struct intlog *)ctx)->m->cpu, three);
    return true;
}

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
    l->syms = syms;
    describe_ctx_init(&l->d, &(struct describe_names){
        .space = space_name, .syscall = syscall_name, .irq = irq_of, .symbol = symbol,
        .shutdown = shutdown_steps,
        .ctx = l, .syscall_vector = -1 });
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
