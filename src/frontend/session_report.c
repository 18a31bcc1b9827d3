/* The CLI's reads of the machine's state, the end-of-run line and --stats (see
 * session_report.h). */
#include "frontend/session_report.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "frontend/cli.h"
#include "frontend/intlog.h"
#include "machine/machine.h"
#include "frontend/report.h"

void session_where(const struct machine *m, char out[SESSION_WHERE_LEN])
{
    const struct cpu *c = &m->cpu;
    snprintf(out, SESSION_WHERE_LEN, "%04x:%08" PRIx32, c->seg[SEG_CS].sel, c->eip);
}

uint64_t session_icount(const struct machine *m)
{
    return m->cpu.icount;
}

static const char *vector_name(unsigned v)
{
    static const char *const names[] = {
        "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "#CSO", "#TS", "#NP",
        "#SS", "#GP", "#PF", "#15", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
    };
    return v < sizeof(names) / sizeof(names[0]) ? names[v] : NULL;
}

static void format_fault(char *buf, size_t len, const struct fault *f)
{
    const char *name = vector_name(f->vector);
    if (!name)
        snprintf(buf, len, "vector %u", f->vector);
    else if (f->has_error)
        snprintf(buf, len, "%s(0x%04x)", name, f->error);
    else
        snprintf(buf, len, "%s", name);
}

/* What an event's error code says, e.g. "#GP(0x006b): IDT vector 13" for the selector error
 * code (SDM vol. 3 6.13: index << 3 | TI << 2 | IDT << 1 | EXT) of #TS, #NP, #SS or #GP, or
 * "#PF(0x0006): not-present user write, CR2=0x00000000" for a page fault (SDM vol. 3 4.7: P,
 * W/R, U/S, RSVD, I/D) with the CR2 it set; "" when there is nothing to say. */
static void explain_fault(char *buf, size_t len, const struct fault *f)
{
    bool selector_error = f->has_error && (f->vector == EXC_TS || f->vector == EXC_NP
                                           || f->vector == EXC_SS || f->vector == EXC_GP);
    char name[32];
    format_fault(name, sizeof name, f);
    buf[0] = '\0';
    if (f->vector == EXC_PF) {
        uint32_t e = f->error;
        const char *cause = (e & 0x08) ? "reserved-bit" : (e & 0x01) ? "protection"
                                                                      : "not-present";
        const char *access = (e & 0x10) ? "fetch" : (e & 0x02) ? "write" : "read";
        snprintf(buf, len, "%s: %s %s %s, CR2=0x%08" PRIx32, name, cause,
                 (e & 0x04) ? "user" : "supervisor", access, f->cr2);
    } else if (selector_error && (f->error & 2)) {
        snprintf(buf, len, "%s: IDT vector %u", name, (f->error >> 3) & 0xFF);
    } else if (selector_error && (f->error & ~3u)) {
        snprintf(buf, len, "%s: %s selector 0x%04x", name, f->error & 4 ? "LDT" : "GDT",
                 f->error & 0xFFF8u);
    }
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
        char f[3][32], why[3][96], whys[320] = "";
        for (int i = 0; i < 3; i++) {
            format_fault(f[i], sizeof(f[i]), &c->shutdown_events[i]);
            explain_fault(why[i], sizeof(why[i]), &c->shutdown_events[i]);
            if (why[i][0])
                snprintf(whys + strlen(whys), sizeof(whys) - strlen(whys), "%s%s",
                         whys[0] ? "; " : " (", why[i]);
        }
        report("triple fault at %s: %s -> %s -> %s, machine shut down%s%s", at, f[0], f[1],
               f[2], whys, whys[0] ? ")" : "");
        return CLI_EXIT_SHUTDOWN;
    }
    case RUN_STOP:
        report("stopped on request at %s", at);
        return CLI_EXIT_STOPPED;
    case RUN_UNSUPPORTED: {
        const struct unsupported *u = &c->unsupported;
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
    struct cpu *c = &m->cpu;
    uint64_t n = c->icount;
    report("%" PRIu64 " instructions in %.3f s (%.1f MIPS)", n, secs,
           secs > 0 ? (double)n / secs / 1e6 : 0.0);
    acct_update(c);
    char line[512];
    int len = 0;
    for (int r = 0; r < 4; r++)
        if (c->ring_insns[r] || r == 0 || r == 3)
            len += snprintf(line + len, sizeof line - (size_t)len, "%sring %d %" PRIu64 " (%.1f%%)",
                            len ? ", " : "", r, c->ring_insns[r],
                            n ? 100.0 * (double)c->ring_insns[r] / (double)n : 0.0);
    report("instructions by ring: %s", line);
    if (c->stall)
        report("device time %" PRIu64 ": %" PRIu64 " instructions, %" PRIu64 " halted, %" PRIu64
               " before events delivered right after another (their handler or its fetch "
               "faulted at once)", cpu_time(c), c->icount, c->idle, c->stall);
    len = 0;
    for (unsigned k = 0; k < TR_KINDS && len < (int)sizeof line - 40; k++)
        if (c->transitions[k])
            len += snprintf(line + len, sizeof line - (size_t)len, "%s%s %" PRIu64,
                            len ? ", " : "", trace_kind_name(k), c->transitions[k]);
    report("transitions: %s", len ? line : "none");
    if (c->cr0 & CR0_PG || c->nspaces > 1) {
        for (unsigned k = 0; k < c->nspaces; k++)
            report("address space cr3=%08x: kernel %" PRIu64 ", user %" PRIu64 " instructions",
                   c->spaces[k].cr3, c->spaces[k].insns[0], c->spaces[k].insns[1]);
    }
}
