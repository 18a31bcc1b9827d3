/* 8259A PIC pair (see pic8259.h). */
#include "devices/pic8259.h"

#include <string.h>

#include "devices/bus.h"

static void chip_reset(struct pic8259 *c)
{
    memset(c, 0, sizeof *c);
    c->lowest = 7;
}

void pic_init(struct pic_pair *p, struct irq_line intr)
{
    chip_reset(&p->chip[0]);
    chip_reset(&p->chip[1]);
    p->chip[0].base = 0x08; /* the BIOS defaults */
    p->chip[1].base = 0x70;
    p->chip[0].imr = p->chip[1].imr = 0xFF;
    p->intr = intr;
}

/* Priority order: lowest+1 .. lowest (mod 8). Returns the highest-priority bit set in mask,
 * or -1. */
static int highest(const struct pic8259 *c, uint8_t mask)
{
    for (unsigned k = 1; k <= 8; k++) {
        unsigned irq = (c->lowest + k) & 7;
        if (mask & (1u << irq))
            return (int)irq;
    }
    return -1;
}

/* The request this chip would raise now: the highest unmasked IRR bit that is of higher
 * priority than every ISR bit (fully nested mode), or -1. */
static int pending(const struct pic8259 *c)
{
    int req = highest(c, c->irr & ~c->imr);
    if (req < 0)
        return -1;
    int svc = highest(c, c->isr);
    if (svc >= 0) {
        /* compare priorities: distance from lowest+1 */
        unsigned preq = ((unsigned)req - c->lowest - 1) & 7, psvc = ((unsigned)svc - c->lowest - 1) & 7;
        if (preq >= psvc)
            return -1;
    }
    return req;
}

static void update(struct pic_pair *p)
{
    /* The slave's INT output drives master input 2 (as a level). */
    struct pic8259 *m = &p->chip[0], *s = &p->chip[1];
    bool slave_int = pending(s) >= 0;
    if (slave_int && !(m->lines & 4))
        m->irr |= 4;
    m->lines = (uint8_t)((m->lines & ~4) | (slave_int ? 4 : 0));
    if (!slave_int)
        m->irr &= (uint8_t)~4;
    irq_set(&p->intr, pending(m) >= 0);
}

void pic_set_irq(struct pic_pair *p, unsigned irq, bool level)
{
    struct pic8259 *c = &p->chip[irq >> 3 & 1];
    uint8_t bit = (uint8_t)(1u << (irq & 7));
    if (level && !(c->lines & bit))
        c->irr |= bit;
    if (level)
        c->lines |= bit;
    else
        c->lines &= (uint8_t)~bit;
    update(p);
}

void pic_pulse_irq(struct pic_pair *p, unsigned irq)
{
    pic_set_irq(p, irq, true);
    pic_set_irq(p, irq, false);
}

bool pic_input_unmasked(const struct pic_pair *p, unsigned irq)
{
    const struct pic8259 *c = &p->chip[irq >> 3 & 1];
    if (c->imr & (1u << (irq & 7)))
        return false;
    return c == &p->chip[0] || !(p->chip[0].imr & 4);
}

static void input_set(void *ctx, int irq, bool level)
{
    pic_set_irq(ctx, (unsigned)irq, level);
}

static bool input_unmasked(void *ctx, int irq)
{
    return pic_input_unmasked(ctx, (unsigned)irq);
}

struct irq_line pic_input(struct pic_pair *p, unsigned irq)
{
    return (struct irq_line){ input_set, input_unmasked, p, (int)(irq & 15) };
}

/* Moves the request from IRR to ISR (or not, in AEOI mode) and returns its vector. */
static int ack_chip(struct pic8259 *c, int irq)
{
    uint8_t bit = (uint8_t)(1u << irq);
    c->irr &= (uint8_t)~bit;
    if (c->aeoi) {
        if (c->rotate_aeoi)
            c->lowest = (uint8_t)irq;
    } else {
        c->isr |= bit;
    }
    return (c->base & 0xF8) | irq;
}

int pic_ack(void *pair)
{
    struct pic_pair *p = pair;
    struct pic8259 *m = &p->chip[0], *s = &p->chip[1];
    int irq = pending(m);
    int vec;
    if (irq < 0) {
        vec = (m->base & 0xF8) | 7; /* spurious */
    } else if (irq == 2 && !m->single) {
        ack_chip(m, 2);
        int sirq = pending(s);
        vec = sirq < 0 ? (s->base & 0xF8) | 7 : ack_chip(s, sirq);
    } else {
        vec = ack_chip(m, irq);
    }
    update(p);
    return vec;
}

static void eoi(struct pic8259 *c, unsigned ocw2)
{
    unsigned cmd = ocw2 >> 5, level = ocw2 & 7;
    int irq;
    switch (cmd) {
    case 1: /* non-specific EOI */
    case 5: /* rotate on non-specific EOI */
        irq = highest(c, c->isr);
        if (irq >= 0) {
            c->isr &= (uint8_t)~(1u << irq);
            if (cmd == 5)
                c->lowest = (uint8_t)irq;
        }
        break;
    case 3: /* specific EOI */
    case 7: /* rotate on specific EOI */
        c->isr &= (uint8_t)~(1u << level);
        if (cmd == 7)
            c->lowest = (uint8_t)level;
        break;
    case 6: c->lowest = (uint8_t)level; break;   /* set priority */
    case 4: c->rotate_aeoi = true; break;
    case 0: c->rotate_aeoi = false; break;
    default: break;
    }
}

static uint32_t pic_read(void *dev, uint16_t port, unsigned size)
{
    struct pic_pair *p = dev;
    (void)size;
    struct pic8259 *c = &p->chip[port >= 0xA0];
    if (port & 1)
        return c->imr;
    if (c->poll) {
        c->poll = false;
        int irq = pending(c);
        if (irq < 0)
            return 0;
        ack_chip(c, irq);
        update(p);
        return 0x80u | (unsigned)irq;
    }
    return c->read_isr ? c->isr : c->irr;
}

static void pic_write(void *dev, uint16_t port, uint32_t value, unsigned size)
{
    struct pic_pair *p = dev;
    (void)size;
    struct pic8259 *c = &p->chip[port >= 0xA0];
    uint8_t v = (uint8_t)value;
    if (!(port & 1)) {
        if (v & 0x10) { /* ICW1: start initialisation */
            uint8_t base = c->base, lines = c->lines;
            chip_reset(c); /* also clears IMR and ISR, IR7 lowest priority, IRR read */
            c->base = base;
            c->lines = lines;
            c->icw4 = v & 1;
            c->single = v & 2;
            c->init_step = 2;
        } else if (v & 0x08) { /* OCW3 */
            if (v & 0x04)
                c->poll = true;
            if (v & 0x02)
                c->read_isr = v & 1;
        } else { /* OCW2 */
            eoi(c, v);
        }
    } else {
        switch (c->init_step) {
        case 2:
            c->base = v & 0xF8;
            c->init_step = c->single ? (c->icw4 ? 4 : 0) : 3;
            break;
        case 3:
            c->icw3 = v;
            c->init_step = c->icw4 ? 4 : 0;
            break;
        case 4:
            c->aeoi = v & 2;
            c->init_step = 0;
            break;
        default: /* OCW1 */
            c->imr = v;
            break;
        }
    }
    update(p);
}

int pic_irq_of(uint8_t master_base, uint8_t slave_base, unsigned vector)
{
    if (vector >= master_base && vector < master_base + 8u)
        return (int)(vector - master_base);
    if (vector >= slave_base && vector < slave_base + 8u)
        return (int)(8 + vector - slave_base);
    return -1;
}

int pic_attach(struct pic_pair *p, struct bus *b)
{
    if (bus_add_ports(b, 0x20, 0x21, pic_read, pic_write, p) < 0)
        return -1;
    return bus_add_ports(b, 0xA0, 0xA1, pic_read, pic_write, p);
}
