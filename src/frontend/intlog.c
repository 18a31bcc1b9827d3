/* The `--log int` transition log (see intlog.h). */
#include "frontend/intlog.h"

static void intlog_event(void *ctx, const struct trace_event *ev)
{
    if (ev->kind == TR_CR3) /* not a line of this log (the golden logs predate the kind) */
        return;
    char line[512];
    describe_event(ev, line, sizeof line);
    fprintf((FILE *)ctx, "%s\n", line);
}

int intlog_attach(struct cpu *c, FILE *out)
{
    return cpu_add_sink(c, intlog_event, out);
}

void intlog_detach(struct cpu *c, FILE *out)
{
    cpu_remove_sink(c, intlog_event, out);
}
