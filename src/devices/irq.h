/* Interrupt lines: how a device's interrupt output reaches an interrupt controller, without the
 * device knowing which controller (or how many) listen.
 *
 * A line is a small value (after TinyEMU's IRQSignal): the controller's input function, its
 * context and the input number. A device keeps the line it drives in a wiring field, set by
 * whoever assembles the machine, and drives it with irq_set / irq_pulse; it never holds a
 * pointer to another device.
 *
 *     device output            struct irq_line                   controller input
 *     PIT OUT0  ---- irq_set ---> { set, unmasked, ctx, irq } ---> pic_set_irq(ctx, 0, level)
 *
 * One source may feed several controllers (a PC's ISA IRQ goes to the 8259A pair and to the I/O
 * APIC): the source then drives the line of a struct irq_fanout, which passes every level on to
 * each of its sinks in the order they were added.
 *
 *     source --> fan-out --+--> sink 0 (8259A input n)
 *                          +--> sink 1 (I/O APIC input n)  ... up to IRQ_FANOUT_MAX
 *
 * Besides the level, a line answers one question about its controllers: would a request on it
 * reach the cpu, i.e. is the input unmasked (`unmasked`; for a fan-out, is any sink unmasked)?
 * The machine asks it, through the devices, to decide whether a halted cpu can still be woken.
 * A line with no controller (set == NULL) drops every level and is never unmasked.
 */
#ifndef RINGSIDE_IRQ_H
#define RINGSIDE_IRQ_H

#include <stdbool.h>

#define IRQ_FANOUT_MAX 4 /* sinks one fan-out can drive */

/* A controller input: takes the new level of input irq (a controller sees its own numbering). */
typedef void (*irq_set_fn)(void *ctx, int irq, bool level);
/* Would a request on input irq be passed on to the cpu now (the input is not masked)? */
typedef bool (*irq_unmasked_fn)(void *ctx, int irq);

struct irq_line {
    irq_set_fn set;           /* NULL: not connected */
    irq_unmasked_fn unmasked; /* NULL: never reaches the cpu */
    void *ctx;                /* the controller (or the fan-out) */
    int irq;                  /* the controller's input number */
};

/* Sets the line's level (nothing if it is not connected). */
static inline void irq_set(const struct irq_line *l, bool level)
{
    if (l->set)
        l->set(l->ctx, l->irq, level);
}

/* A rising and a falling edge: how an edge-triggered device signals one event. */
static inline void irq_pulse(const struct irq_line *l)
{
    irq_set(l, true);
    irq_set(l, false);
}

/* Would a request on the line reach the cpu (see above)? */
static inline bool irq_unmasked(const struct irq_line *l)
{
    return l->unmasked && l->unmasked(l->ctx, l->irq);
}

/* One source driving up to IRQ_FANOUT_MAX sinks. Wiring only: it keeps no level of its own,
 * each sink keeps what it needs (the 8259A its input levels for edge detection). */
struct irq_fanout {
    struct irq_line sink[IRQ_FANOUT_MAX];
    unsigned n;
};

void irq_fanout_init(struct irq_fanout *f);
/* Adds a sink. Returns 0, or -1 if the fan-out already has IRQ_FANOUT_MAX. */
int irq_fanout_add(struct irq_fanout *f, struct irq_line sink);
/* The line a source drives: every level goes to each sink; unmasked if any sink is. */
struct irq_line irq_fanout_line(struct irq_fanout *f);

#endif
