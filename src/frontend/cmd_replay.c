/* `ringside replay TRACE`: the recorded guest run again from the recorded images (checked by
 * SHA-256) and input, every event and console byte compared (trace/replay.h); with --gdb,
 * the same run served to gdb instead (replay_gdb.h). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cpu/inspect.h"
#include "frontend/cli.h"
#include "frontend/commands.h"
#include "frontend/console.h"
#include "frontend/loader.h"
#include "frontend/replay_gdb.h"
#include "frontend/report.h"
#include "frontend/trace_open.h"
#include "machine/machine.h"
#include "trace/filehash.h"
#include "trace/replay.h"

/* "14,211" */
static const char *grouped(uint64_t v, char buf[32])
{
    char digits[24];
    int n = snprintf(digits, sizeof digits, "%" PRIu64, v), o = 0;
    for (int i = 0; i < n; i++) {
        if (i && (n - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = digits[i];
    }
    buf[o] = '\0';
    return buf;
}

/* Runs the machine against the recording; returns the exit status. */
static int run_replay(struct machine *m, struct replay *rp)
{
    replay_run(rp, m, NULL, NULL);
    if (rp->diverged) {
        fprintf(stdout, "%s\n", rp->why);
        return 1;
    }
    char a[32], b[32], c[32];
    if (rp->tf->inputs_only) { /* nothing recorded to compare event by event */
        uint64_t events = 0;
        for (unsigned k = 0; k < TR_KINDS; k++)
            events += cpu_stat_events(&m->cpu, (enum trace_kind)k);
        char d[32];
        printf("replay: the same run: %s instructions, %s events, %s console bytes out, %s in "
               "(a trace of the inputs only: %s)\n", grouped(cpu_stat_insns(&m->cpu), a),
               grouped(events, b), grouped(rp->out_bytes, c), grouped(rp->in_bytes, d),
               rp->tf->has_end ? "every count of its end record identical"
                               : "truncated, replayed to its last mark");
        return 0;
    }
    printf("replay: %s events identical (%s console bytes out, %s in)%s\n",
           grouped(rp->events, a), grouped(rp->out_bytes, b), grouped(rp->in_bytes, c),
           rp->done ? ", up to the end of the truncated trace" : "");
    return 0;
}

int cmd_replay_main(struct cli_options *o, const struct cli_env *env)
{
    struct trace_file tf;
    if (!trace_cli_open(o, &tf, NULL, false))
        return CLI_EXIT_USAGE;
    const struct trace_header *h = &tf.hdr;
    int status = CLI_EXIT_USAGE;
    struct machine *m = NULL;
    char err[512];
    if (!trace_files_unchanged(h, err, sizeof err)) {
        report("replay: %s", err);
        goto out;
    }
    if (h->mem_mib < MACHINE_MEM_MIN_MIB || h->mem_mib > MACHINE_MEM_MAX_MIB) {
        report("%s: the recorded memory size %" PRIu32 " MiB is out of range", o->operand,
               h->mem_mib);
        goto out;
    }
    /* Under gdb the guest's console is shown (gdb_stub writes a stretch run again once). */
    m = machine_create(h->mem_mib, o->run.gdb ? console_out : NULL, env->con);
    if (!m) {
        report("cannot create a machine with %" PRIu32 " MiB of RAM: out of memory", h->mem_mib);
        status = CLI_EXIT_HOST;
        goto out;
    }
    machine_set_ips(m, h->ips);
    struct boot_params bp = {
        .image = h->image, .append = h->append, .modules = (const char *const *)h->modules,
        .nmodules = h->nmodules, .dir = h->dir,
    };
    if (machine_load(m, &bp, err, sizeof err) < 0) {
        report("replay: %s", err);
        goto out;
    }
    struct replay rp;
    replay_init(&rp, &tf);
    if (o->run.gdb) {
        env->con->cpu = &m->cpu;
        status = replay_gdb(o, env, m, &bp, &rp);
        env->con->cpu = NULL;
    } else if (!replay_attach(&rp, m)) {
        report("replay: no room for the replay's listeners");
        status = CLI_EXIT_HOST;
        goto out;
    } else {
        status = run_replay(m, &rp);
        replay_detach(&rp, m);
    }
    if (status == 0 && tf.status != TRACE_OK)
        status = trace_cli_status(o, &tf);
out:
    if (m)
        machine_destroy(m);
    trace_free(&tf);
    return status;
}
