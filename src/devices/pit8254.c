/* 8254 PIT (see pit8254.h). */
#include "devices/pit8254.h"

#include <string.h>

#include "devices/bus.h"
#include "devices/timerq.h"

uint64_t pit_ticks(const struct devclock *clk, uint64_t t)
{
    uint64_t u = clk->units_per_sec;
    return (t / u) * PIT_HZ + (t % u) * PIT_HZ / u;
}

uint64_t pit_time_of_tick(const struct devclock *clk, uint64_t k)
{
    uint64_t u = clk->units_per_sec;
    return (k / PIT_HZ) * u + ((k % PIT_HZ) * u + PIT_HZ - 1) / PIT_HZ;
}

static void timer_fire(void *ctx, uint64_t now)
{
    (void)now; /* pit_update reads the clock itself */
    pit_update(ctx);
}

static bool timer_can_wake(void *ctx)
{
    return pit_can_wake(ctx);
}

int pit_init(struct pit8254 *p, struct devclock *clock, struct timerq *q, struct irq_line out0)
{
    memset(p, 0, sizeof *p);
    p->clock = clock;
    p->timers = q;
    p->out0 = out0;
    for (int k = 0; k < 3; k++)
        p->ctr[k].access = 3;
    p->timer = timerq_add(q, timer_fire, timer_can_wake, p);
    return p->timer < 0 ? -1 : 0;
}

bool pit_can_wake(const struct pit8254 *p)
{
    return irq_unmasked(&p->out0);
}

static uint64_t period(const struct pit_counter *c)
{
    return c->reload ? c->reload : 65536u;
}

static bool periodic(const struct pit_counter *c)
{
    return c->mode == 2 || c->mode == 3;
}

/* PIT tick of counter 0's n-th OUT rising edge after its load (n >= 1), or UINT64_MAX. */
static uint64_t edge_tick(const struct pit_counter *c, uint64_t n)
{
    if (!c->armed)
        return UINT64_MAX;
    if (periodic(c))
        return c->start + n * period(c);
    if (n != 1)
        return UINT64_MAX;
    if (c->mode == 0)
        return c->start + period(c);
    if (c->mode == 4)
        return c->start + period(c) + 1;
    return UINT64_MAX; /* modes 1 and 5 wait for a gate edge that counter 0 never sees */
}

uint64_t pit_next_event(const struct pit8254 *p)
{
    uint64_t t = edge_tick(&p->ctr[0], p->ctr[0].fired + 1);
    return t == UINT64_MAX ? UINT64_MAX : pit_time_of_tick(p->clock, t);
}

void pit_update(struct pit8254 *p)
{
    struct pit_counter *c = &p->ctr[0];
    uint64_t now = pit_ticks(p->clock, devclock_now(p->clock));
    uint64_t next = edge_tick(c, c->fired + 1);
    if (next <= now) {
        /* Edges that pile up while nobody serviced them are one request, as on the chip. */
        c->fired = periodic(c) ? (now - c->start) / period(c) : 1;
        irq_pulse(&p->out0);
    }
    timerq_arm(p->timers, p->timer, pit_next_event(p));
}

/* The counter's current value. */
static uint16_t current(const struct pit8254 *p, const struct pit_counter *c)
{
    if (!c->armed)
        return c->reload;
    uint64_t el = pit_ticks(p->clock, devclock_now(p->clock)) - c->start;
    uint64_t n = period(c);
    switch (c->mode) {
    case 2: return (uint16_t)(n - el % n);
    case 3: return (uint16_t)((n - (2 * el) % n) & ~1u);
    default: return (uint16_t)(n - el);
    }
}

static bool out_level(const struct pit8254 *p, const struct pit_counter *c)
{
    if (!c->armed)
        return c->mode != 0;
    uint64_t el = pit_ticks(p->clock, devclock_now(p->clock)) - c->start;
    uint64_t n = period(c);
    switch (c->mode) {
    case 0: return el >= n;
    case 2: return el % n != n - 1;
    case 3: return el % n < (n + 1) / 2;
    case 4: return el != n;
    default: return true;
    }
}

/* Counter 0 was reprogrammed: its next edge moves (timerq_arm also makes the machine look
 * again at the next instruction boundary). */
static void rearm(struct pit8254 *p)
{
    timerq_arm(p->timers, p->timer, pit_next_event(p));
}

static uint32_t pit_read(void *dev, uint16_t port, unsigned size)
{
    struct pit8254 *p = dev;
    (void)size;
    if (port == 0x43)
        return 0xFF; /* the control word cannot be read */
    struct pit_counter *c = &p->ctr[port - 0x40];
    if (c->status_latched) {
        c->status_latched = false;
        return c->status;
    }
    uint16_t v = c->latched ? c->latch : current(p, c);
    uint8_t out;
    switch (c->access) {
    case 1: out = (uint8_t)v; c->latched = false; break;
    case 2: out = (uint8_t)(v >> 8); c->latched = false; break;
    default:
        out = c->read_hi ? (uint8_t)(v >> 8) : (uint8_t)v;
        if (c->read_hi)
            c->latched = false;
        c->read_hi = !c->read_hi;
        break;
    }
    return out;
}

static void latch_count(struct pit8254 *p, struct pit_counter *c)
{
    if (!c->latched) {
        c->latched = true;
        c->latch = current(p, c);
    }
}

static void load(struct pit8254 *p, struct pit_counter *c, uint16_t v)
{
    c->reload = v;
    c->armed = true;
    c->fired = 0;
    c->start = pit_ticks(p->clock, devclock_now(p->clock));
    if (c == &p->ctr[0])
        rearm(p);
}

static void pit_write(void *dev, uint16_t port, uint32_t value, unsigned size)
{
    struct pit8254 *p = dev;
    (void)size;
    uint8_t v = (uint8_t)value;
    if (port == 0x43) {
        unsigned sel = v >> 6;
        if (sel == 3) { /* read-back: bit 5 = 0 latch counts, bit 4 = 0 latch status */
            for (unsigned k = 0; k < 3; k++) {
                if (!(v & (2u << k)))
                    continue;
                struct pit_counter *c = &p->ctr[k];
                if (!(v & 0x20))
                    latch_count(p, c);
                if (!(v & 0x10) && !c->status_latched) {
                    c->status_latched = true;
                    c->status = (uint8_t)((out_level(p, c) ? 0x80 : 0) | (c->armed ? 0 : 0x40) |
                                          (c->access << 4) | (c->mode << 1));
                }
            }
            return;
        }
        struct pit_counter *c = &p->ctr[sel];
        unsigned access = (v >> 4) & 3;
        if (access == 0) {
            latch_count(p, c);
            return;
        }
        c->access = (uint8_t)access;
        c->mode = (v >> 1) & 7;
        if (c->mode > 5)
            c->mode -= 4; /* 6 and 7 are aliases of 2 and 3 */
        c->armed = false;
        c->write_hi = c->read_hi = false;
        c->latched = c->status_latched = false;
        if (sel == 0)
            rearm(p);
        return;
    }
    struct pit_counter *c = &p->ctr[port - 0x40];
    switch (c->access) {
    case 1: load(p, c, v); break;
    case 2: load(p, c, (uint16_t)(v << 8)); break;
    default:
        if (!c->write_hi) {
            c->write_lo = v;
            c->write_hi = true;
        } else {
            c->write_hi = false;
            load(p, c, (uint16_t)(c->write_lo | v << 8));
        }
        break;
    }
}

int pit_attach(struct pit8254 *p, struct bus *b)
{
    return bus_add_ports(b, 0x40, 0x43, pit_read, pit_write, p);
}
