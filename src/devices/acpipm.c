/* ACPI power-management registers and timer (see acpipm.h). */
#include "devices/acpipm.h"

#include <string.h>

#include "devices/bus.h"
#include "devices/timerq.h"

void acpipm_init(struct acpipm *p, struct devclock *clock)
{
    memset(p, 0, sizeof *p);
    p->s.cnt = 1; /* SCI_EN */
    p->clock = clock;
}

/* Ticks of a clock of hz after `units` of device time, without overflow. */
static uint64_t ticks(uint64_t units, uint64_t ups, uint64_t hz)
{
    return units / ups * hz + units % ups * hz / ups;
}

static uint64_t pm_ticks(const struct acpipm *p)
{
    return ticks(devclock_now(p->clock), p->clock->units_per_sec, ACPIPM_TIMER_HZ);
}

uint32_t acpipm_timer(const struct acpipm *p)
{
    return (uint32_t)pm_ticks(p) & 0xFFFFFFu;
}

/* TMR_STS is set whenever bit 23 of the timer has changed since it was last looked at. */
static void update_sts(struct acpipm *p)
{
    uint64_t flips = pm_ticks(p) >> 23;
    if (flips != p->s.tmr_flips)
        p->s.sts |= 1;
    p->s.tmr_flips = flips;
}

/* Device time at which the timer reaches `t` ticks: ceil(t * ups / hz). */
static uint64_t units_at(uint64_t t, uint64_t ups)
{
    if (t / ACPIPM_TIMER_HZ > (UINT64_MAX / 4) / ups)
        return TIMER_NEVER;
    return t / ACPIPM_TIMER_HZ * ups + (t % ACPIPM_TIMER_HZ * ups + ACPIPM_TIMER_HZ - 1)
                                           / ACPIPM_TIMER_HZ;
}

static bool sci_level(const struct acpipm *p)
{
    return (p->s.cnt & ACPIPM_SCI_EN) && (p->s.sts & p->s.en & ACPIPM_EN_BITS);
}

/* Brings TMR_STS up to date, drives the SCI and arms the next bit-23 change when it matters. */
static void update(struct acpipm *p)
{
    update_sts(p);
    if (!p->timers)
        return;
    irq_set(&p->sci, sci_level(p));
    uint64_t due = TIMER_NEVER;
    if ((p->s.en & ACPIPM_TMR_STS) && !(p->s.sts & ACPIPM_TMR_STS))
        due = units_at((p->s.tmr_flips + 1) << 23, p->clock->units_per_sec);
    timerq_arm(p->timers, p->timer, due);
}

static void tmr_fire(void *ctx, uint64_t now)
{
    (void)now;
    update(ctx);
}

static bool tmr_can_wake(void *ctx)
{
    const struct acpipm *p = ctx;
    return (p->s.cnt & ACPIPM_SCI_EN) && irq_unmasked(&p->sci);
}

int acpipm_wire_sci(struct acpipm *p, struct timerq *timers, struct irq_line sci)
{
    p->timers = timers;
    p->sci = sci;
    p->timer = timerq_add(timers, tmr_fire, tmr_can_wake, p);
    if (p->timer < 0) {
        p->timers = NULL;
        return -1;
    }
    update(p);
    return 0;
}

static uint32_t pm_read(void *dev, uint16_t port, unsigned size)
{
    struct acpipm *p = dev;
    update_sts(p);
    uint8_t regs[12];
    uint32_t t = acpipm_timer(p);
    memcpy(regs, &p->s.sts, 2);
    memcpy(regs + 2, &p->s.en, 2);
    memcpy(regs + 4, &p->s.cnt, 2);
    memset(regs + 6, 0, 2);
    memcpy(regs + 8, &t, 4);
    uint32_t v = 0, off = port - ACPIPM_BASE;
    for (unsigned k = 0; k < size && off + k < sizeof regs; k++)
        v |= (uint32_t)regs[off + k] << (8 * k);
    return v;
}

static void pm_write(void *dev, uint16_t port, uint32_t value, unsigned size)
{
    struct acpipm *p = dev;
    update_sts(p);
    for (unsigned k = 0; k < size; k++) {
        unsigned off = port - ACPIPM_BASE + k, sh = 8 * (off & 1);
        uint16_t b = (uint16_t)((value >> (8 * k) & 0xFF) << sh);
        if (off < 2)
            p->s.sts &= (uint16_t)~b; /* write 1 to clear */
        else if (off < 4)
            p->s.en = (uint16_t)((p->s.en & ~(0xFF << sh)) | b);
        else if (off < 6)
            p->s.cnt = (uint16_t)(((p->s.cnt & ~(0xFF << sh)) | b) | 1); /* SCI_EN stays */
    }
    update(p);
}

int acpipm_attach(struct acpipm *p, struct bus *b)
{
    return bus_add_ports(b, ACPIPM_BASE, ACPIPM_BASE + 11, pm_read, pm_write, p);
}
