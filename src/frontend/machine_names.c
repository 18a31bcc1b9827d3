/* A running machine's names for the formatter (see machine_names.h). */
#include "frontend/machine_names.h"

#include "cpu/inspect.h"

static const char *space_name(void *ctx, uint32_t cr3)
{
    struct machine_names *n = ctx;
    if (!machine_space_find(n->m, cr3))
        return NULL;
    return machine_space_label(n->m, cr3, n->label, sizeof n->label);
}

static const char *syscall_name(void *ctx, uint32_t nr)
{
    return machine_syscall_name(((struct machine_names *)ctx)->m, nr);
}

static int irq_of(void *ctx, unsigned vector)
{
    return machine_isa_irq_of(((struct machine_names *)ctx)->m, vector);
}

static bool symbol(void *ctx, uint32_t cr3, uint32_t addr, char *buf, size_t len)
{
    struct machine_names *n = ctx;
    const struct space_name *s = machine_space_find(n->m, cr3);
    return symbols_lookup(n->syms, s ? s->name : NULL, addr, buf, len);
}

static bool shutdown_steps(void *ctx, struct fault *three)
{
    cpu_get_shutdown(&((struct machine_names *)ctx)->m->cpu, three);
    return true;
}

void machine_names_init(struct machine_names *n, struct machine *m, const struct symbols *syms,
                        struct describe_names *out)
{
    n->m = m;
    n->syms = syms;
    n->label[0] = '\0';
    *out = (struct describe_names){
        .space = space_name, .syscall = syscall_name, .irq = irq_of, .symbol = symbol,
        .shutdown = shutdown_steps, .ctx = n, .syscall_vector = machine_syscall_vector(m),
    };
}
