/* The `--log int` transition log (see intlog.h). */
#include "frontend/intlog.h"

#include <inttypes.h>

static const char *const kind_names[] = {
    [TR_EXCEPTION] = "exception", [TR_INTERRUPT] = "interrupt", [TR_SOFTINT] = "int",
    [TR_IRET] = "iret",           [TR_SYSENTER] = "sysenter",   [TR_SYSEXIT] = "sysexit",
    [TR_FARCALL] = "lcall",       [TR_FARRET] = "lret",         [TR_FARJMP] = "ljmp",
    [TR_HALT] = "hlt",            [TR_SHUTDOWN] = "shutdown",   [TR_TASK] = "task switch",
};

const char *trace_kind_name(unsigned kind)
{
    if (kind < sizeof kind_names / sizeof kind_names[0] && kind_names[kind])
        return kind_names[kind];
    return "?";
}

static const char *const exc_names[32] = {
    "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", NULL, "#TS", "#NP",
    "#SS", "#GP", "#PF", NULL, "#MF", "#AC", "#MC", "#XM",
};

int intlog_format(const struct trace_event *ev, char *buf, size_t len)
{
    bool delivery = ev->kind == TR_EXCEPTION || ev->kind == TR_INTERRUPT ||
                    ev->kind == TR_SOFTINT;
    int n;
    if (delivery) {
        n = snprintf(buf, len,
                     "%6" PRIu64 ": v=%02x e=%04x i=%d cpl=%u IP=%04x:%08x SP=%04x:%08x",
                     ev->icount, ev->vector, ev->has_error ? ev->error : 0,
                     ev->kind == TR_SOFTINT, ev->cpl_before, ev->cs_before, ev->eip_before,
                     ev->ss_before, ev->esp_before);
        if (ev->kind == TR_EXCEPTION && ev->vector == EXC_PF)
            n += snprintf(buf + (size_t)n < buf + len ? buf + n : buf + len, (size_t)n < len ? len - (size_t)n : 0,
                          " CR2=%08x", ev->cr2);
    } else if (ev->kind == TR_SHUTDOWN) {
        n = snprintf(buf, len, "%6" PRIu64 ": shutdown (triple fault) v=%02x e=%04x cpl=%u IP=%04x:%08x",
                     ev->icount, ev->vector, ev->has_error ? ev->error : 0, ev->cpl_before,
                     ev->cs_before, ev->eip_before);
        if (ev->vector == EXC_PF && (size_t)n < len)
            n += snprintf(buf + n, len - (size_t)n, " CR2=%08x", ev->cr2);
        return n;
    } else {
        n = snprintf(buf, len, "%6" PRIu64 ": %s cpl=%u IP=%04x:%08x", ev->icount,
                     trace_kind_name(ev->kind), ev->cpl_before, ev->cs_before, ev->eip_before);
    }
    size_t used = (size_t)n < len ? (size_t)n : len;
    if (ev->kind == TR_HALT)
        return n;
    n += snprintf(buf + used, len - used, " -> cpl=%u IP=%04x:%08x SP=%04x:%08x", ev->cpl_after,
                  ev->cs_after, ev->eip_after, ev->ss_after, ev->esp_after);
    used = (size_t)n < len ? (size_t)n : len;
    const char *name = ev->vector < 32 ? exc_names[ev->vector] : NULL;
    if (ev->kind == TR_EXCEPTION && name)
        n += snprintf(buf + used, len - used, " | %s%s%s", name, ev->why ? " " : "",
                      ev->why ? ev->why : "");
    return n;
}

static void intlog_event(void *ctx, const struct trace_event *ev)
{
    char line[512];
    intlog_format(ev, line, sizeof line);
    fprintf((FILE *)ctx, "%s\n", line);
}

void intlog_attach(struct cpu *c, FILE *out)
{
    c->trace.event = intlog_event;
    c->trace.ctx = out;
}
