/* The HPET (see hpet.h). */
#include "devices/hpet.h"

#include <string.h>

#include "devices/bus.h"
#include "devices/timerq.h"

#define CAP_VALUE ((uint64_t)HPET_PERIOD_FS << 32 | HPET_CAP_LOW)
#define TN_RO_CAP (0x10u | 0x20u) /* periodic capable, 64-bit capable */
#define TN_BITS   (0x2u | 0x4u | 0x8u | 0x100u | 0x3E00u) /* writable config bits (+ VAL_SET) */

static bool running(const struct hpet *h)
{
    return h->s.conf & HPET_ENABLE;
}

static uint64_t ticks(uint64_t units, uint64_t ups)
{
    return units / ups * HPET_HZ + units % ups * HPET_HZ / ups;
}

/* Device time in which `n` ticks pass: ceil(n * ups / HZ), TIMER_NEVER when that is beyond
 * any run (thousands of years). */
static uint64_t units_for(uint64_t n, uint64_t ups)
{
    if (n / HPET_HZ > (UINT64_MAX / 4) / ups)
        return TIMER_NEVER;
    return n / HPET_HZ * ups + (n % HPET_HZ * ups + HPET_HZ - 1) / HPET_HZ;
}

static uint64_t counter(const struct hpet *h)
{
    if (!running(h))
        return h->s.count_base;
    return h->s.count_base + ticks(devclock_now(h->clock) - h->s.time_base,
                                   h->clock->units_per_sec);
}

/* Works out when each timer's comparator matches and arms the earliest. */
static void schedule(struct hpet *h)
{
    uint64_t now = devclock_now(h->clock), cnt = counter(h), first = TIMER_NEVER;
    for (unsigned n = 0; n < HPET_TIMERS; n++) {
        struct hpet_timer *t = &h->s.t[n];
        t->due = TIMER_NEVER;
        if (!running(h) || !(t->conf & HPET_TN_ENABLE) || !t->armed)
            continue;
        uint64_t cmp = t->cmp, c = cnt;
        if (t->conf & HPET_TN_32BIT) {
            cmp &= 0xFFFFFFFFu;
            c &= 0xFFFFFFFFu;
        }
        if (cmp < c)
            continue; /* passed: it matches again only after the counter wraps */
        uint64_t u = units_for(cmp - c, h->clock->units_per_sec);
        t->due = u == TIMER_NEVER ? TIMER_NEVER : now + u;
        if (t->due < first)
            first = t->due;
    }
    timerq_arm(h->timers, h->timer, first);
}

/* The line timer n drives under configuration conf: with legacy replacement, timers 0 and 1
 * the legacy lines (ISA IRQ 0 and 8) whatever their route; otherwise the I/O APIC input of
 * Tn_INT_ROUTE_CNF. NULL: none. */
static struct irq_line *line_in(struct hpet *h, unsigned n, uint64_t conf)
{
    if (n < 2 && (conf & HPET_LEG_RT))
        return &h->legacy[n];
    unsigned pin = (unsigned)(h->s.t[n].conf >> 9) & 0x1F;
    return pin < HPET_LINES ? &h->line[pin] : NULL;
}

static struct irq_line *line_of(struct hpet *h, unsigned n)
{
    return line_in(h, n, h->s.conf);
}

static void interrupt(struct hpet *h, unsigned n)
{
    struct hpet_timer *t = &h->s.t[n];
    struct irq_line *l = line_of(h, n);
    if (!l)
        return;
    if (t->conf & HPET_TN_LEVEL) {
        h->s.isr |= 1u << n;
        irq_set(l, true);
    } else {
        irq_pulse(l);
    }
}

/* Lowers timer n's active level-triggered interrupt (its GINTR_STA bit). */
static void level_off(struct hpet *h, unsigned n)
{
    h->s.isr &= ~(1ull << n);
    struct irq_line *l = line_of(h, n);
    if (l)
        irq_set(l, false);
}

static void fire(void *ctx, uint64_t now)
{
    struct hpet *h = ctx;
    for (unsigned n = 0; n < HPET_TIMERS; n++) {
        struct hpet_timer *t = &h->s.t[n];
        if (t->due > now)
            continue;
        if ((t->conf & HPET_TN_PERIODIC) && t->period)
            t->cmp += t->period;
        else
            t->armed = false; /* a one-shot matches once per comparator write */
        interrupt(h, n);
    }
    schedule(h);
}

static bool can_wake(void *ctx)
{
    struct hpet *h = ctx;
    for (unsigned n = 0; n < HPET_TIMERS; n++) {
        const struct irq_line *l = line_of(h, n);
        if ((h->s.t[n].conf & HPET_TN_ENABLE) && l && irq_unmasked(l))
            return true;
    }
    return false;
}

bool hpet_legacy(const struct hpet *h)
{
    return h->s.conf & HPET_LEG_RT;
}

int hpet_init(struct hpet *h, struct devclock *clock, struct timerq *timers)
{
    memset(h, 0, sizeof *h);
    h->clock = clock;
    h->timers = timers;
    for (unsigned n = 0; n < HPET_TIMERS; n++) {
        h->s.t[n].cmp = UINT64_MAX;
        h->s.t[n].due = TIMER_NEVER;
        h->s.t[n].conf = (uint64_t)HPET_ROUTE_CAP << 32 | TN_RO_CAP;
    }
    h->timer = timerq_add(timers, fire, can_wake, h);
    return h->timer < 0 ? -1 : 0;
}

uint64_t hpet_read(struct hpet *h, uint32_t off)
{
    off &= ~7u;
    if (off >= HPET_T0_CONF && off < HPET_T0_CONF + 0x20 * HPET_TIMERS) {
        const struct hpet_timer *t = &h->s.t[(off - HPET_T0_CONF) / 0x20];
        switch (off & 0x1F) {
        case 0x00: return t->conf;
        case 0x08: return (t->conf & HPET_TN_32BIT) ? t->cmp & 0xFFFFFFFFu : t->cmp;
        default: return 0; /* FSB route: not modelled */
        }
    }
    switch (off) {
    case HPET_CAP: return CAP_VALUE;
    case HPET_CONF: return h->s.conf;
    case HPET_ISR: return h->s.isr;
    case HPET_COUNTER: return counter(h);
    default: return 0;
    }
}

void hpet_write(struct hpet *h, uint32_t off, uint64_t v)
{
    off &= ~7u;
    if (off >= HPET_T0_CONF && off < HPET_T0_CONF + 0x20 * HPET_TIMERS) {
        unsigned n = (off - HPET_T0_CONF) / 0x20;
        struct hpet_timer *t = &h->s.t[n];
        if ((off & 0x1F) == 0x00) {
            bool was_level = t->conf & HPET_TN_LEVEL;
            t->conf = (t->conf & ~(uint64_t)TN_BITS) | (v & TN_BITS) | (v & HPET_TN_VAL_SET);
            if (was_level && !(t->conf & HPET_TN_LEVEL) && (h->s.isr >> n & 1))
                level_off(h, n);
        } else if ((off & 0x1F) == 0x08) {
            if (t->conf & HPET_TN_32BIT)
                v &= 0xFFFFFFFFu;
            if (!(t->conf & HPET_TN_PERIODIC) || (t->conf & HPET_TN_VAL_SET))
                t->cmp = v;
            if (t->conf & HPET_TN_PERIODIC)
                t->period = v;
            t->conf &= ~(uint64_t)HPET_TN_VAL_SET;
            t->armed = true;
        }
        schedule(h);
        return;
    }
    switch (off) {
    case HPET_CONF: {
        uint64_t cnt = counter(h), was = h->s.conf;
        h->s.conf = v & (HPET_ENABLE | HPET_LEG_RT);
        h->s.count_base = cnt;
        h->s.time_base = devclock_now(h->clock);
        /* An active level moves with its timer when legacy replacement changes. */
        for (unsigned n = 0; n < 2 && ((was ^ h->s.conf) & HPET_LEG_RT); n++) {
            struct irq_line *from = line_in(h, n, was), *to = line_of(h, n);
            if ((h->s.isr >> n & 1) && from != to) {
                if (from)
                    irq_set(from, false);
                if (to)
                    irq_set(to, true);
            }
        }
        break;
    }
    case HPET_ISR:
        for (unsigned n = 0; n < HPET_TIMERS; n++)
            if ((v >> n & 1) && (h->s.isr >> n & 1))
                level_off(h, n);
        break;
    case HPET_COUNTER:
        if (!running(h))
            h->s.count_base = v;
        break;
    default:
        break;
    }
    schedule(h);
}

/* 32-bit accesses reach one half of a 64-bit register; 8-byte ones do not exist on this bus. */
static uint32_t mmio_read(void *dev, uint32_t off, unsigned size)
{
    uint64_t v = hpet_read(dev, off) >> (8 * (off & 7));
    return (uint32_t)v & (size == 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1);
}

static void mmio_write(void *dev, uint32_t off, uint32_t value, unsigned size)
{
    struct hpet *h = dev;
    unsigned sh = 8 * (off & 7);
    uint64_t mask = (size == 4 ? 0xFFFFFFFFull : (1ull << (8 * size)) - 1) << sh;
    uint64_t old = hpet_read(h, off);
    if ((off & ~7u) == HPET_ISR)
        old = 0; /* write 1 to clear: the other bits must not clear themselves */
    hpet_write(h, off, (old & ~mask) | ((uint64_t)value << sh & mask));
}

int hpet_attach(struct hpet *h, struct bus *b)
{
    return bus_add_mmio(b, HPET_BASE, HPET_SIZE, mmio_read, mmio_write, h);
}
