/* A recorded run under gdb (see replay_gdb.h). */
#include "frontend/replay_gdb.h"

#include <inttypes.h>
#include <stdio.h>

#include "cpu/inspect.h"
#include "frontend/cli.h"
#include "frontend/console.h"
#include "frontend/gdb/stub.h"
#include "frontend/options.h"
#include "frontend/report.h"
#include "frontend/session_report.h"
#include "frontend/symbols.h"
#include "trace/format.h"

static bool flush(void *ctx)
{
    return console_flush(ctx);
}

/* Where a recording's run was cut rather than ended by the guest: the device time to stop
 * at, 0 for a run that ended by itself (or a truncated trace with events: it runs on; one of
 * the inputs only stops at its last mark, as far as the recording went). */
static uint64_t cut_time(const struct trace_file *tf)
{
    if (!tf->has_end)
        return tf->inputs_only && tf->has_mark ? tf->mark_time : 0;
    uint8_t why = tf->end.reason;
    bool cut = why == TEND_LIMIT || why == TEND_SIGNAL || why == TEND_OUTPUT || why == TEND_STOP;
    return cut && tf->end.time ? tf->end.time : 0;
}

int replay_gdb(const struct cli_options *o, const struct cli_env *env, struct machine *m,
               const struct boot_params *bp, struct replay *rp)
{
    struct console *con = env->con;
    const struct trace_file *tf = rp->tf;
    replay_attach_input(rp, m);
    struct symbols *syms = symbols_load(bp);
    struct gdb_stub_options g = { o->run.gdb, o->run.gdb_wait, flush, con, syms, 0,
                                  cut_time(tf) };
    enum run_result r = RUN_LIMIT;
    enum gdb_outcome out = gdb_stub_serve(m, &g, &r);
    /* The socket failed for good: the run goes on to its end. */
    uint64_t end = cut_time(tf);
    while (out == GDB_DETACHED && r == RUN_LIMIT && (!end || cpu_time(&m->cpu) < end) &&
           console_flush(con))
        r = cpu_run(&m->cpu, end ? end - cpu_time(&m->cpu) : 10000000u);
    symbols_free(syms);
    console_release(con);
    console_flush(con);
    char at[SESSION_WHERE_LEN];
    session_where(m, at);
    console_end_line(con);
    if (out == GDB_FAILED)
        return CLI_EXIT_USAGE;
    if (con->err) {
        char where[64];
        snprintf(where, sizeof where, "the run stopped at %s", at);
        return console_error(con, where);
    }
    if (out == GDB_KILLED) {
        report("killed by gdb at %s", at);
        return CLI_EXIT_STOPPED;
    }
    uint64_t icount = cpu_stat_insns(&m->cpu), time = cpu_time(&m->cpu);
    if (!tf->has_end) {
        printf("replay: under gdb: the run ended at instruction %" PRIu64 "; the trace is "
               "truncated (no end to compare)\n", icount);
        return 0;
    }
    if (icount != tf->end.icount || time != tf->end.time) {
        printf("replay: under gdb: diverged at the end: recorded %" PRIu64 " instructions "
               "(device time %" PRIu64 "), replayed %" PRIu64 " (device time %" PRIu64 ")\n",
               tf->end.icount, tf->end.time, icount, time);
        return 1;
    }
    printf("replay: under gdb: the run ended as recorded, at instruction %" PRIu64 "\n",
           icount);
    return 0;
}
