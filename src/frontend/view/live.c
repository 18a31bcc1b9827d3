/* Live mode (see live.h). */
#include "frontend/view/live.h"

#include <stdio.h>
#include <stdlib.h>

#include "cpu/event.h"
#include "cpu/inspect.h"
#include "trace/format.h"
#include "machine/console.h"
#include "machine/machine.h"
#include "machine/spaces.h"
#include "frontend/view/details.h"
#include "frontend/view/view.h"

struct live {
    struct machine *m;
    struct view_model model;
    const struct view_live_options *o;
    uint64_t start;           /* device time when the run began (for --max-insns) */
    enum run_result r;
    bool ended, oom;
};

static void on_event(void *ctx, const struct trace_event *ev)
{
    struct live *l = ctx;
    if (!view_model_add_live(&l->model, ev))
        l->oom = true;
}

static void on_byte(void *ctx, const struct console_byte *b)
{
    struct live *l = ctx;
    if (!b->input && !view_model_add_output(&l->model, b->icount, b->byte))
        l->oom = true;
}

static void on_name(void *ctx, unsigned kind, const struct space_name *n)
{
    struct live *l = ctx;
    bool ok = true;
    if (kind == NAMES_SPACE)
        ok = view_model_add_space(&l->model, n->cr3, n->pid, n->name);
    else if (kind == NAMES_SYSCALL)
        ok = view_model_set_syscall(&l->model, n->pid, n->name);
    else if (kind == NAMES_SYSCALL_VECTOR)
        view_model_set_syscall_vector(&l->model, (int)n->pid);
    if (!ok)
        l->oom = true;
}

static int irq_of(void *ctx, unsigned vector)
{
    return machine_isa_irq_of(ctx, vector);
}

/* Runs up to budget instructions; false once the run is over. */
static bool run(void *ctx, uint64_t budget)
{
    struct live *l = ctx;
    if (l->ended)
        return false;
    struct cpu *c = &l->m->cpu;
    if (l->o->max_insns) {
        uint64_t done = cpu_time(c) - l->start;
        if (done >= l->o->max_insns) {
            l->r = RUN_LIMIT;
            l->ended = true;
            view_model_set_end(&l->model, cpu_stat_insns(c), false, TEND_LIMIT, 0);
            return false;
        }
        if (l->o->max_insns - done < budget)
            budget = l->o->max_insns - done;
    }
    l->r = cpu_run(c, budget);
    uint64_t now = cpu_stat_insns(c);
    if (now > l->model.end_icount)
        l->model.end_icount = now;
    bool out_ok = !l->o->flush || l->o->flush(l->o->flush_ctx);
    if (out_ok && l->r == RUN_LIMIT && !l->oom)
        return true;
    static const uint8_t reasons[] = {
        [RUN_LIMIT] = TEND_LIMIT, [RUN_EXIT] = TEND_EXIT, [RUN_HALT] = TEND_HALT,
        [RUN_SHUTDOWN] = TEND_SHUTDOWN, [RUN_STOP] = TEND_STOP,
        [RUN_UNSUPPORTED] = TEND_UNSUPPORTED,
    };
    uint8_t why = (unsigned)l->r < sizeof reasons ? reasons[l->r] : 0;
    if (!out_ok || l->oom)
        why = TEND_OUTPUT;
    l->ended = true;
    view_model_set_end(&l->model, now, l->r == RUN_SHUTDOWN, why, 0);
    return false;
}

/* Runs to the next transition (in small slices, up to VIEW_LIVE_STEP_MAX instructions). */
static bool step(void *ctx)
{
    struct live *l = ctx;
    size_t before = l->model.n;
    for (uint64_t done = 0; done < VIEW_LIVE_STEP_MAX && l->model.n == before; done += 64)
        if (!run(l, 64))
            return false;
    return true;
}

bool view_live_run(struct machine *m, const struct view_live_options *o, enum run_result *r,
                   char *why, size_t whylen)
{
    struct live *l = calloc(1, sizeof *l);
    if (!l) {
        snprintf(why, whylen, "out of memory");
        return false;
    }
    l->m = m;
    l->o = o;
    l->start = cpu_time(&m->cpu);
    l->r = RUN_LIMIT;
    view_model_init(&l->model);
    snprintf(l->model.title, sizeof l->model.title, "%s (live)", o->title ? o->title : "");
    l->model.ips = o->ips;
    l->model.start_icount = 0;
    l->model.irq = irq_of;
    l->model.irq_ctx = m;
    /* The names said before the window opened (none at boot; a restored run may have some). */
    for (unsigned k = 0; k < machine_space_count(m); k++) {
        const struct space_name *n = machine_space_at(m, k);
        view_model_add_space(&l->model, n->cr3, n->pid, n->name);
    }
    bool ok = false;
    if (cpu_add_sink(&m->cpu, on_event, l) < 0 || machine_add_tap(m, on_byte, l) < 0 ||
        machine_add_space_tap(m, on_name, l) < 0) {
        snprintf(why, whylen, "too many listeners on the machine for the live view");
    } else {
        struct view_state st;
        view_state_init(&st, &l->model);
        st.live = true;
        struct view_live live = { .run = run, .step = step, .ctx = l,
                                  .per_frame = o->per_frame ? o->per_frame
                                                            : VIEW_LIVE_PER_FRAME };
        struct view_files files;
        struct view_details details;
        view_files_use(&files, o->syms, &details);
        ok = view_window(&l->model, &st, o->width ? (int)o->width : VIEW_DEFAULT_W,
                         o->height ? (int)o->height : VIEW_DEFAULT_H, &details, &live, why,
                         whylen);
        view_files_close(&files);
        /* Closed before the guest ended: the run stops there. */
        *r = l->ended ? l->r : RUN_STOP;
    }
    cpu_remove_sink(&m->cpu, on_event, l);
    machine_remove_tap(m, on_byte, l);
    machine_remove_space_tap(m, on_name, l);
    if (ok && l->oom) {
        snprintf(why, whylen, "out of memory in the live view");
        ok = false;
    }
    view_model_free(&l->model);
    free(l);
    return ok;
}
