/* The CLI's reads of the machine's state, the end-of-run line and --stats (see
 * session_report.h). */
#include "frontend/session_report.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cpu/inspect.h"
#include "frontend/cli.h"
#include "frontend/report.h"
#include "machine/machine.h"
#include "trace/describe.h"

void session_where(const struct machine *m, char out[SESSION_WHERE_LEN])
{
    struct seg_value cs;
    cpu_get_seg(&m->cpu, SREG_CS, &cs);
    snprintf(out, SESSION_WHERE_LEN, "%04x:%08" PRIx32, cs.sel, cpu_get_reg(&m->cpu, REG_EIP));
}

uint64_t session_icount(const struct machine *m)
{
    return cpu_stat_insns(&m->cpu);
}

int session_report_end(struct machine *m, enum run_result r, uint64_t max_insns)
{
    struct cpu *c = &m->cpu;
    char at[SESSION_WHERE_LEN];
    session_where(m, at);
    switch (r) {
    case RUN_EXIT:
        return m->bus.exit_status;
    case RUN_HALT:
        if (cpu_get_eflags(c) & FL_IF)
            report("cpu halted at %s with interrupts enabled, but no device can interrupt it",
                   at);
        else
            report("cpu halted with interrupts disabled at %s", at);
        return CLI_EXIT_HALT;
    case RUN_SHUTDOWN: {
        /* The three steps by name, then what made each (the formatter's words). */
        struct fault f[3];
        cpu_get_shutdown(c, f);
        char name[3][32], why[3][200], whys[620] = "";
        for (int i = 0; i < 3; i++) {
            describe_fault(f[i].vector, f[i].has_error, f[i].error, NULL, name[i],
                           sizeof name[i]);
            if (f[i].detail.kind == FD_NONE)
                continue;
            describe_fault(f[i].vector, f[i].has_error, f[i].error, &f[i].detail, why[i],
                           sizeof why[i]);
            snprintf(whys + strlen(whys), sizeof(whys) - strlen(whys), "%s%s",
                     whys[0] ? "; " : " (", why[i]);
        }
        report("triple fault at %s: %s -> %s -> %s, machine shut down%s%s", at, name[0],
               name[1], name[2], whys, whys[0] ? ")" : "");
        return CLI_EXIT_SHUTDOWN;
    }
    case RUN_STOP:
        report("stopped on request at %s", at);
        return CLI_EXIT_STOPPED;
    case RUN_UNSUPPORTED: {
        const struct unsupported *u = cpu_get_unsupported(c);
        report("%s: %s at %04x:%08x to %04x:%08x (%s); machine stopped", u->what, u->by, u->cs,
               u->eip, u->target_cs, u->target_eip, u->why);
        return CLI_EXIT_UNSUPPORTED;
    }
    case RUN_LIMIT:
    default:
        report("instruction limit %" PRIu64 " reached at %s", max_insns, at);
        return CLI_EXIT_LIMIT;
    }
}

void session_report_stats(struct machine *m, double secs)
{
    const struct cpu *c = &m->cpu;
    uint64_t n = cpu_stat_insns(c);
    report("%" PRIu64 " instructions in %.3f s (%.1f MIPS)", n, secs,
           secs > 0 ? (double)n / secs / 1e6 : 0.0);
    char line[512];
    int len = 0;
    for (unsigned r = 0; r < 4; r++) {
        uint64_t k = cpu_stat_ring(c, r);
        if (k || r == 0 || r == 3)
            len += snprintf(line + len, sizeof line - (size_t)len, "%sring %u %" PRIu64 " (%.1f%%)",
                            len ? ", " : "", r, k, n ? 100.0 * (double)k / (double)n : 0.0);
    }
    report("instructions by ring: %s", line);
    if (cpu_stat_stall(c))
        report("device time %" PRIu64 ": %" PRIu64 " instructions, %" PRIu64 " halted, %" PRIu64
               " before events delivered right after another (their handler or its fetch "
               "faulted at once)", cpu_time(c), n, cpu_stat_idle(c), cpu_stat_stall(c));
    len = 0;
    for (unsigned k = 0; k < TR_KINDS && len < (int)sizeof line - 40; k++)
        if (k != TR_CR3 && cpu_stat_events(c, k))
            len += snprintf(line + len, sizeof line - (size_t)len, "%s%s %" PRIu64,
                            len ? ", " : "", trace_kind_name(k), cpu_stat_events(c, k));
    report("transitions: %s", len ? line : "none");
    report("counting: one instruction is one retired instruction of any kind: INT n, IRET, "
           "SYSENTER and SYSEXIT count one each however much they do, a delivery (exception, "
           "interrupt) counts none, a REP string instruction one per 4096 elements "
           "(docs/accounting.md)");
    unsigned nspaces = cpu_stat_nspaces(c);
    if ((cpu_get_reg(c, REG_CR0) & CR0_PG) || nspaces > 1) {
        for (unsigned k = 0; k < nspaces; k++) {
            uint32_t cr3;
            uint64_t kernel, user;
            char name[SPACE_LABEL_LEN + 2] = "";
            cpu_stat_space(c, k, &cr3, &kernel, &user);
            if (machine_space_find(m, cr3)) {
                name[0] = ' ';
                machine_space_label(m, cr3, name + 1, sizeof name - 1);
            } else if (cr3 == 0) {
                snprintf(name, sizeof name, " (paging off)");
            }
            report("address space cr3=%08x%s: kernel %" PRIu64 ", user %" PRIu64 " instructions",
                   cr3, name, kernel, user);
        }
    }
}
