/* Opening a trace for a command (see trace_open.h). */
#include "frontend/trace_open.h"

#include <string.h>

#include "frontend/cli.h"
#include "frontend/regen.h"
#include "frontend/report.h"
#include "frontend/symbols.h"
#include "trace/filehash.h"
#include "trace/tracectx.h"

bool trace_cli_open(const struct cli_options *o, struct trace_file *tf,
                    struct trace_filter *f, bool regenerate)
{
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
        trace_free(tf);
        return false;
    }
    char why[1280];
    if (regenerate && !trace_regenerate(o->operand, tf, why, sizeof why)) {
        report("%s", why);
        trace_free(tf);
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

static bool lookup(void *ctx, const char *space, uint32_t addr, char *buf, size_t len)
{
    return symbols_lookup(ctx, space, addr, buf, len);
}

struct trace_ctx *trace_cli_reader(const struct cli_options *o, const struct trace_file *tf,
                                   struct symbols **syms)
{
    const struct trace_header *h = &tf->hdr;
    char err[512];
    *syms = NULL;
    if (!trace_files_unchanged(h, err, sizeof err)) {
        report("%s: no symbols: %s", o->operand, err);
    } else {
        struct boot_params bp = {
            .image = h->image, .append = h->append, .modules = (const char *const *)h->modules,
            .nmodules = h->nmodules, .dir = h->dir,
        };
        *syms = symbols_load(&bp);
    }
    struct trace_ctx *t = trace_ctx_new(*syms ? lookup : NULL, *syms);
    if (!t) {
        report("%s: out of memory", o->operand);
        symbols_free(*syms);
        *syms = NULL;
    }
    return t;
}
