/* Interrupt-line fan-out (see irq.h). */
#include "devices/irq.h"

#include <string.h>

void irq_fanout_init(struct irq_fanout *f)
{
    memset(f, 0, sizeof *f);
}

int irq_fanout_add(struct irq_fanout *f, struct irq_line sink)
{
    if (f->n >= IRQ_FANOUT_MAX)
        return -1;
    f->sink[f->n++] = sink;
    return 0;
}

static void fanout_set(void *ctx, int irq, bool level)
{
    (void)irq;
    const struct irq_fanout *f = ctx;
    for (unsigned k = 0; k < f->n; k++)
        irq_set(&f->sink[k], level);
}

static bool fanout_unmasked(void *ctx, int irq)
{
    (void)irq;
    const struct irq_fanout *f = ctx;
    for (unsigned k = 0; k < f->n; k++)
        if (irq_unmasked(&f->sink[k]))
            return true;
    return false;
}

struct irq_line irq_fanout_line(struct irq_fanout *f)
{
    return (struct irq_line){ fanout_set, fanout_unmasked, f, 0 };
}
