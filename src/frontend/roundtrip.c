/* Round trips by kind, for --stats (see roundtrip.h). */
#include "frontend/roundtrip.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "frontend/report.h"
#include "trace/describe.h"

enum { RT_INT, RT_SYSENTER, RT_IRQ, RT_EXC, RT_KINDS };

struct roundtrips {
    struct machine *m;
    uint64_t n[RT_KINDS], sum[RT_KINDS];
    uint64_t switched[RT_KINDS]; /* returned after a CR3 load: another process ran between */
    uint64_t last_cr3_load;      /* icount + 1 of the last CR3 load, 0 = none yet */
    struct describe_ctx d;
};

static void rt_event(void *ctx, const struct trace_event *ev)
{
    struct roundtrips *r = ctx;
    if (ev->kind == TR_CR3 || ev->after.cr3 != ev->before.cr3)
        r->last_cr3_load = ev->icount + 1;
    r->d.names.syscall_vector = machine_syscall_vector(r->m);
    struct trace_event entry;
    if (!describe_track(&r->d, ev, &entry))
        return;
    int k = entry.kind == TR_SYSENTER                  ? RT_SYSENTER
            : describe_is_syscall(&r->d, &entry)       ? RT_INT
            : entry.kind == TR_INTERRUPT               ? RT_IRQ
            : entry.kind == TR_EXCEPTION               ? RT_EXC
                                                       : -1;
    if (k < 0)
        return;
    if (r->last_cr3_load > entry.icount) {
        r->switched[k]++;
        return;
    }
    r->n[k]++;
    r->sum[k] += ev->icount - entry.icount;
}

struct roundtrips *roundtrips_open(struct machine *m)
{
    struct roundtrips *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->m = m;
    describe_ctx_init(&r->d, &(struct describe_names){ .syscall_vector = -1 });
    if (cpu_add_sink(&m->cpu, rt_event, r) < 0) {
        free(r);
        return NULL;
    }
    return r;
}

void roundtrips_report(const struct roundtrips *r)
{
    if (!r)
        return;
    static const char *const what[RT_KINDS] = {
        "system calls by INT n", "system calls by SYSENTER", "interrupts", "exceptions",
    };
    char line[512];
    int len = 0;
    for (unsigned k = 0; k < RT_KINDS && len < (int)sizeof line - 120; k++) {
        if (!r->n[k] && !r->switched[k])
            continue;
        if (r->n[k])
            len += snprintf(line + len, sizeof line - (size_t)len, "%s%s %" PRIu64 " x %.1f",
                            len ? ", " : "", what[k], r->n[k],
                            (double)r->sum[k] / (double)r->n[k]);
        else
            len += snprintf(line + len, sizeof line - (size_t)len, "%s%s none", len ? ", " : "",
                            what[k]);
        if (r->switched[k])
            len += snprintf(line + len, sizeof line - (size_t)len,
                            " (+%" PRIu64 " across a process switch)", r->switched[k]);
    }
    if (len)
        report("round trips without a process switch (count x instructions from entry to "
               "return, on average): %s", line);
}

void roundtrips_close(struct roundtrips *r)
{
    if (!r)
        return;
    cpu_remove_sink(&r->m->cpu, rt_event, r);
    free(r);
}
