/* A trace read in order with the names the live log had (see tracectx.h). */
#include "trace/tracectx.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/pic8259.h"
#include "machine/spaces.h"

const struct trace_space *trace_ctx_space(const struct trace_ctx *t, uint32_t cr3)
{
    return trace_names_find(&t->names, cr3);
}

const char *trace_ctx_syscall(const struct trace_ctx *t, uint32_t nr)
{
    return nr < 256 && t->syscall[nr][0] ? t->syscall[nr] : NULL;
}

/* The describe_names callbacks: what machine_space_label, machine_syscall_name,
 * machine_isa_irq_of and cpu_get_shutdown told the live log. */
static const char *space_name(void *ctx, uint32_t cr3)
{
    struct trace_ctx *t = ctx;
    const struct trace_space *s = trace_ctx_space(t, cr3);
    if (!s)
        return NULL;
    snprintf(t->label, sizeof t->label, "pid %" PRIu32 " (%s)", s->pid, s->name);
    return t->label;
}

static const char *syscall_name(void *ctx, uint32_t nr)
{
    return trace_ctx_syscall(ctx, nr);
}

static int irq_of(void *ctx, unsigned vector)
{
    const struct trace_ctx *t = ctx;
    if (t->pic_base[0] < 0)
        return -1;
    return pic_irq_of((uint8_t)t->pic_base[0], (uint8_t)t->pic_base[1], vector);
}

static bool symbol(void *ctx, uint32_t cr3, uint32_t addr, char *buf, size_t len)
{
    const struct trace_ctx *t = ctx;
    const struct trace_space *s = trace_ctx_space(t, cr3);
    return t->symbol && t->symbol(t->symbol_ctx, s ? s->name : NULL, addr, buf, len);
}

static bool shutdown_steps(void *ctx, struct fault *three)
{
    const struct trace_ctx *t = ctx;
    if (!t->has_three)
        return false;
    memcpy(three, t->three, sizeof t->three);
    return true;
}

struct trace_ctx *trace_ctx_new(trace_symbol_fn sym, void *symbol_ctx)
{
    struct trace_ctx *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->pic_base[0] = t->pic_base[1] = -1;
    t->symbol = sym;
    t->symbol_ctx = symbol_ctx;
    describe_ctx_init(&t->d, &(struct describe_names){
        .space = space_name, .syscall = syscall_name, .irq = irq_of, .symbol = symbol,
        .shutdown = shutdown_steps, .ctx = t, .syscall_vector = -1 });
    return t;
}

void trace_ctx_free(struct trace_ctx *t)
{
    if (!t)
        return;
    trace_names_free(&t->names);
    free(t);
}

/* A space naming; like the machine, only the first MACHINE_MAX_SPACES are kept. */
static void name_space(struct trace_ctx *t, const struct trace_record *r)
{
    if (t->namings >= MACHINE_MAX_SPACES)
        return;
    t->namings++;
    struct trace_space_rec rec;
    trace_record_space(r, &rec);
    trace_names_set(&t->names, rec.cr3, rec.pid, rec.name); /* no memory: stays unnamed */
}

bool trace_ctx_step(struct trace_ctx *t, const struct trace_record *r, struct trace_event *ev)
{
    switch (r->type) {
    case TREC_EVENT:
        trace_record_event(r, ev);
        return true;
    case TREC_SPACE:
        name_space(t, r);
        break;
    case TREC_NAME: {
        struct trace_name_rec n;
        trace_record_name(r, &n);
        if (n.what == TNAME_SYSCALL && n.id < 256)
            memcpy(t->syscall[n.id], n.name, sizeof t->syscall[n.id]);
        else if (n.what == TNAME_SYSCALL_VECTOR && n.id < 256)
            t->d.names.syscall_vector = (int)n.id;
        break;
    }
    case TREC_IRQ:
        t->pic_base[0] = r->payload[0];
        t->pic_base[1] = r->payload[1];
        break;
    case TREC_TRIPLE:
        t->has_three = trace_triple_decode(r->payload, t->three);
        break;
    default:
        break;
    }
    return false;
}
