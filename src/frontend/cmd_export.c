/* `ringside export TRACE --perfetto OUT [filters]`: a recorded trace as Chrome trace-event
 * JSON (trace/export_perfetto.h), the events `ringside log` would show with the same filters
 * (trace/filter.h), named as the live log names them. A regular OUT (or a new one) is
 * written beside as OUT.tmp and renamed when whole, so a failed export never leaves a file
 * that looks complete; anything else that exists (a device, a pipe: /dev/stdout) is written
 * directly, never replaced. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "frontend/cli.h"
#include "frontend/commands.h"
#include "frontend/report.h"
#include "frontend/trace_open.h"
#include "frontend/symbols.h"
#include "trace/export_perfetto.h"
#include "trace/tracectx.h"

int cmd_export_main(struct cli_options *o, const struct cli_env *env)
{
    (void)env;
    const char *dst = o->trace.perfetto;
    if (!dst) {
        report("export needs --perfetto OUT (the only format so far)");
        return CLI_EXIT_USAGE;
    }
    struct trace_file tf;
    struct trace_filter f;
    if (!trace_cli_open(o, &tf, &f, true))
        return CLI_EXIT_USAGE;
    struct symbols *syms;
    struct trace_ctx *t = trace_cli_reader(o, &tf, &syms);
    int status = CLI_EXIT_HOST;
    char tmp[4200];
    FILE *out = NULL;
    if (!t)
        goto done;
    status = CLI_EXIT_OUTPUT;
    struct stat st;
    bool direct = stat(dst, &st) == 0 && !S_ISREG(st.st_mode);
    if ((size_t)snprintf(tmp, sizeof tmp, direct ? "%s" : "%s.tmp", dst) >= sizeof tmp) {
        report("output path too long: '%s'", dst);
        status = CLI_EXIT_USAGE;
        goto done;
    }
    out = fopen(tmp, "w");
    if (!out) {
        report("cannot write '%s': %s", tmp, strerror(errno));
        status = CLI_EXIT_USAGE;
        goto done;
    }
    export_perfetto(&tf, t, &f, o->run.ips, out);
    errno = 0;
    bool bad = fflush(out) != 0 || ferror(out);
    int err = errno ? errno : EIO;
    if (fclose(out) != 0 && !bad) {
        bad = true;
        err = errno;
    }
    out = NULL;
    if (bad) {
        report("cannot write '%s': %s", tmp, strerror(err));
        if (!direct)
            unlink(tmp);
        goto done;
    }
    if (!direct && rename(tmp, dst) != 0) {
        report("cannot rename '%s' to '%s': %s", tmp, dst, strerror(errno));
        unlink(tmp);
        goto done;
    }
    status = trace_cli_status(o, &tf);
done:
    trace_ctx_free(t);
    symbols_free(syms);
    trace_free(&tf);
    return status;
}
