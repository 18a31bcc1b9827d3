/* Opening a trace for a command (see trace_open.h). */
#include "frontend/trace_open.h"

#include <string.h>

#include "frontend/cli.h"
#include "frontend/report.h"

bool trace_cli_open(const struct cli_options *o, struct trace_file *tf,
                    struct trace_names *names, struct trace_filter *f)
{
    *names = (struct trace_names){ 0 };
    if (f) {
        const struct trace_cli_options *t = &o->trace;
        struct trace_filter_spec spec = { t->pid, t->space, t->kind, t->vector, t->cpl,
                                          t->from, t->to };
        char err[512];
        if (trace_filter_parse(&spec, f, err, sizeof err) < 0) {
            report("%s", err);
            memset(tf, 0, sizeof *tf);
            return false;
        }
    }
    trace_load(o->operand, tf);
    if (!trace_usable(tf)) {
        report("%s: %s", o->operand, tf->why);
        return false;
    }
    if (!trace_names_collect(tf, names)) {
        report("%s: out of memory", o->operand);
        return false;
    }
    return true;
}

int trace_cli_status(const struct cli_options *o, const struct trace_file *tf)
{
    if (tf->status == TRACE_OK)
        return 0;
    report("%s: %s", o->operand, tf->why);
    return CLI_EXIT_USAGE;
}
