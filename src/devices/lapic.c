/* The local APIC (see lapic.h). */
#include "devices/lapic.h"

#include <string.h>

#include "cpu/cpu.h"
#include "devices/bus.h"
#include "devices/timerq.h"

/* LVT index of each LVT register. */
enum { LVT_TIMER, LVT_THERMAL, LVT_PERF, LVT_LINT0, LVT_LINT1, LVT_ERROR };

/* Writable bits of each LVT entry (delivery status, 12, and remote IRR, 14, are read-only). */
static const uint32_t lvt_bits[LAPIC_LVT_N] = {
    [LVT_TIMER] = 0x000300FFu,   /* vector, mask, periodic */
    [LVT_THERMAL] = 0x000107FFu, /* vector, delivery mode, mask */
    [LVT_PERF] = 0x000107FFu,
    [LVT_LINT0] = 0x0001A7FFu,   /* vector, mode, polarity, trigger, mask */
    [LVT_LINT1] = 0x0001A7FFu,
    [LVT_ERROR] = 0x000100FFu,
};

static bool test_bit(const uint32_t *v, unsigned n)
{
    return v[n >> 5] >> (n & 31) & 1;
}

static void set_bit(uint32_t *v, unsigned n, bool on)
{
    if (on)
        v[n >> 5] |= 1u << (n & 31);
    else
        v[n >> 5] &= ~(1u << (n & 31));
}

/* The highest vector set in a 256-bit register, or -1. */
static int highest(const uint32_t *v)
{
    for (int w = 7; w >= 0; w--)
        if (v[w])
            return w * 32 + 31 - __builtin_clz(v[w]);
    return -1;
}

static bool hw_enabled(const struct lapic *a)
{
    return a->s.apic_base & APIC_BASE_ENABLE;
}

static bool sw_enabled(const struct lapic *a)
{
    return hw_enabled(a) && (a->s.svr & SVR_ENABLE);
}

static uint32_t ppr(const struct lapic *a)
{
    int isrv = highest(a->s.isr);
    uint32_t tpr = a->s.tpr & 0xFF;
    if (isrv < 0 || (tpr >> 4) >= ((unsigned)isrv >> 4))
        return tpr;
    return (unsigned)isrv & 0xF0;
}

/* The vector the cpu would get now from IRR, or -1. */
static int deliverable(const struct lapic *a)
{
    int v = highest(a->s.irr);
    if (v < 0 || ((unsigned)v >> 4) <= (ppr(a) >> 4))
        return -1;
    return v;
}

/* Is the 8259A pair's INTR passed to the cpu through LINT0 now? */
static bool extint_pending(const struct lapic *a)
{
    if (!hw_enabled(a))
        return a->s.lint[0];
    uint32_t l = a->s.lvt[LVT_LINT0];
    return a->s.lint[0] && !(l & LVT_MASKED) && LVT_MODE(l) == 7;
}

static void update(struct lapic *a)
{
    irq_set(&a->intr, extint_pending(a) || (hw_enabled(a) && deliverable(a) >= 0));
}

static void error(struct lapic *a, uint32_t bits);

void lapic_accept(struct lapic *a, uint8_t vector, bool level, uint8_t kind, uint8_t num)
{
    if (!hw_enabled(a))
        return;
    if (vector < 16) {
        error(a, ESR_RECV_ILLEGAL);
        return;
    }
    set_bit(a->s.irr, vector, true);
    set_bit(a->s.tmr, vector, level);
    a->s.src_kind[vector] = kind;
    a->s.src_num[vector] = num;
    update(a);
}

/* An error is noted in ESR (seen at the next ESR write) and raises the LVT error vector. */
static void error(struct lapic *a, uint32_t bits)
{
    bool fresh = (a->s.esr_pending & bits) != bits;
    a->s.esr_pending |= bits;
    uint32_t l = a->s.lvt[LVT_ERROR];
    if (fresh && !(l & LVT_MASKED) && (l & 0xFF) >= 16)
        lapic_accept(a, (uint8_t)l, false, ISRC_LAPIC_ERROR, 0);
}

/* ---- the timer ---- */

static uint64_t divisor(const struct lapic *a)
{
    uint32_t d = a->s.timer_div;
    unsigned v = (d & 3) | ((d >> 1) & 4); /* bits 3, 1, 0 */
    return v == 7 ? 1 : 2u << v;
}

static uint64_t period(const struct lapic *a)
{
    return (uint64_t)a->s.timer_init * divisor(a);
}

static bool deadline_mode(const struct lapic *a)
{
    return a->tsc && LVT_TIMER_MODE(a->s.lvt[LVT_TIMER]) == 2;
}

static void timer_arm(struct lapic *a)
{
    uint64_t d = TIMER_NEVER;
    if (deadline_mode(a)) {
        if (a->s.tsc_deadline) {
            uint64_t now = devclock_now(a->clock), tsc = a->tsc(a->cpu_ctx);
            d = a->s.tsc_deadline > tsc ? now + (a->s.tsc_deadline - tsc) : now;
            if (d < now)
                d = TIMER_NEVER; /* beyond any run */
        }
    } else if (a->s.timer_running) {
        d = a->s.timer_start + period(a);
    }
    timerq_arm(a->timers, a->timer, d);
}

static uint32_t current_count(const struct lapic *a)
{
    if (!a->s.timer_running || !a->s.timer_init || deadline_mode(a))
        return 0;
    uint64_t ticks = (devclock_now(a->clock) - a->s.timer_start) / divisor(a);
    if (ticks >= a->s.timer_init)
        return 0;
    return a->s.timer_init - (uint32_t)ticks;
}

static void timer_fire(void *ctx, uint64_t now)
{
    struct lapic *a = ctx;
    (void)now;
    uint32_t l = a->s.lvt[LVT_TIMER];
    if (deadline_mode(a)) {
        if (!a->s.tsc_deadline || a->tsc(a->cpu_ctx) < a->s.tsc_deadline) {
            timer_arm(a); /* the TSC was written back since: not yet */
            return;
        }
        a->s.tsc_deadline = 0;
    } else if (LVT_TIMER_MODE(l) == 1) {
        a->s.timer_start += period(a);
    } else {
        a->s.timer_running = false;
    }
    timer_arm(a);
    if (!(l & LVT_MASKED))
        lapic_accept(a, (uint8_t)l, false, ISRC_LAPIC_TIMER, 0);
}

bool lapic_timer_can_wake(const struct lapic *a)
{
    return sw_enabled(a) && !(a->s.lvt[LVT_TIMER] & LVT_MASKED);
}

static bool timer_can_wake(void *ctx)
{
    return lapic_timer_can_wake(ctx);
}

/* ---- reset, wiring ---- */

static void reset(struct lapic *a)
{
    memset(&a->s, 0, sizeof a->s);
    a->s.apic_base = LAPIC_BASE | APIC_BASE_BSP | APIC_BASE_ENABLE;
    a->s.dfr = 0xFFFFFFFFu;
    a->s.svr = 0xFF;
    for (unsigned k = 0; k < LAPIC_LVT_N; k++)
        a->s.lvt[k] = LVT_MASKED;
}

int lapic_init(struct lapic *a, struct devclock *clock, struct timerq *timers,
               struct irq_line intr)
{
    memset(a, 0, sizeof *a);
    reset(a);
    a->clock = clock;
    a->timers = timers;
    a->intr = intr;
    a->timer = timerq_add(timers, timer_fire, timer_can_wake, a);
    return a->timer < 0 ? -1 : 0;
}

void lapic_firmware(struct lapic *a)
{
    a->s.svr = SVR_ENABLE | 0xFF;
    a->s.lvt[LVT_LINT0] = 0x8700; /* ExtINT, level */
    a->s.lvt[LVT_LINT1] = 0x0400; /* NMI */
    update(a);
}

static void nmi(struct lapic *a, unsigned from)
{
    if (a->nmi)
        a->nmi(a->cpu_ctx, from);
}

static void lint_set(void *ctx, int pin, bool level)
{
    struct lapic *a = ctx;
    bool was = a->s.lint[pin & 1];
    a->s.lint[pin & 1] = level;
    uint32_t l = a->s.lvt[LVT_LINT0 + (pin & 1)];
    if (hw_enabled(a) && level && !was && !(l & LVT_MASKED)) {
        if (LVT_MODE(l) == DM_FIXED)
            lapic_accept(a, (uint8_t)l, l & LVT_LEVEL, ISRC_LAPIC_LINT, (uint8_t)(pin & 1));
        else if (LVT_MODE(l) == DM_NMI)
            nmi(a, (pin & 1) ? NMI_FROM_LINT1 : NMI_FROM_LINT0);
    }
    update(a);
}

bool lapic_lint_nmi(const struct lapic *a, unsigned pin)
{
    uint32_t l = a->s.lvt[LVT_LINT0 + (pin & 1)];
    return hw_enabled(a) && !(l & LVT_MASKED) && LVT_MODE(l) == DM_NMI;
}

static bool lint_unmasked(void *ctx, int pin)
{
    const struct lapic *a = ctx;
    if (!hw_enabled(a))
        return pin == 0;
    return !(a->s.lvt[LVT_LINT0 + (pin & 1)] & LVT_MASKED);
}

struct irq_line lapic_lint(struct lapic *a, unsigned pin)
{
    return (struct irq_line){ lint_set, lint_unmasked, a, (int)(pin & 1) };
}

bool lapic_match(const struct lapic *a, uint8_t dest, bool logical)
{
    if (dest == 0xFF)
        return true;
    if (!logical)
        return dest == (a->s.id >> 24);
    if ((a->s.dfr >> 28) == 0xF) /* flat model: a bit per APIC */
        return (dest & (a->s.ldr >> 24)) != 0;
    /* cluster model: cluster in the high nibble, members in the low one */
    uint8_t ldr = (uint8_t)(a->s.ldr >> 24);
    return (dest >> 4) == (ldr >> 4) && (dest & ldr & 0xF);
}

/* ---- the cpu's side ---- */

int lapic_ack(void *ctx)
{
    struct lapic *a = ctx;
    int v = hw_enabled(a) ? deliverable(a) : -1;
    int r;
    if (v >= 0) {
        set_bit(a->s.irr, (unsigned)v, false);
        set_bit(a->s.isr, (unsigned)v, true);
        r = INTC_SOURCE(v, a->s.src_kind[v], a->s.src_num[v]);
    } else if (extint_pending(a) && a->extint_ack) {
        r = a->extint_ack(a->extint_ctx) & 0xFF;
    } else {
        r = INTC_SOURCE(a->s.svr & 0xFF, ISRC_SPURIOUS, 0); /* the request went away */
    }
    update(a);
    return r;
}

int lapic_msr_read(void *ctx, uint32_t msr, uint64_t *value)
{
    const struct lapic *a = ctx;
    if (msr == MSR_TSC_DEADLINE && a->tsc) {
        *value = deadline_mode(a) ? a->s.tsc_deadline : 0;
        return 1;
    }
    if (msr != MSR_APIC_BASE)
        return 0;
    *value = a->s.apic_base;
    return 1;
}

int lapic_msr_write(void *ctx, uint32_t msr, uint64_t value)
{
    struct lapic *a = ctx;
    if (msr == MSR_TSC_DEADLINE && a->tsc) {
        if (deadline_mode(a)) {
            a->s.tsc_deadline = value;
            timer_arm(a);
        }
        return 1;
    }
    if (msr != MSR_APIC_BASE)
        return 0;
    /* Bits 8 (BSP), 11 (enable) and 31..12 (base, below 4 GiB: no PAE here) hold values;
     * bit 10 (x2APIC) and the rest are reserved. */
    if (value & ~0xFFFFF900ull)
        return -1;
    bool was = hw_enabled(a);
    a->s.apic_base = value;
    if (was && !hw_enabled(a)) {
        /* Disabling resets the APIC to its power-on state, keeping the MSR (SDM 10.4.3). */
        uint64_t base = a->s.apic_base;
        bool lint[2] = { a->s.lint[0], a->s.lint[1] };
        reset(a);
        a->s.apic_base = base;
        a->s.lint[0] = lint[0];
        a->s.lint[1] = lint[1];
        timer_arm(a);
    }
    update(a);
    return 1;
}

/* ---- registers ---- */

/* The interrupt command: a fixed or lowest-priority IPI to this cpu lands in its own IRR, an
 * NMI or INIT reaches the cpu's input; start-up and SMI do nothing (see lapic.h). */
static void send_ipi(struct lapic *a)
{
    uint32_t lo = a->s.icr_lo;
    unsigned mode = (lo >> 8) & 7, shorthand = (lo >> 18) & 3;
    uint8_t vector = (uint8_t)lo;
    bool to_self;
    switch (shorthand) {
    case 1: case 2: to_self = true; break; /* self; all including self */
    case 3: to_self = false; break;        /* all excluding self: nobody else */
    default: to_self = lapic_match(a, (uint8_t)(a->s.icr_hi >> 24), lo & 0x800); break;
    }
    if (mode == DM_NMI) {
        if (to_self)
            nmi(a, NMI_FROM_IPI);
        return;
    }
    if (mode == DM_INIT) {
        bool deassert = (lo & ICR_TRIGGER_LEVEL) && !(lo & ICR_LEVEL_ASSERT);
        if (to_self && !deassert && a->init)
            a->init(a->cpu_ctx);
        return;
    }
    if (mode > DM_LOWEST)
        return; /* SMI, start-up, ExtINT and the reserved modes */
    if (vector < 16) {
        error(a, ESR_SEND_ILLEGAL);
        return;
    }
    if (to_self)
        lapic_accept(a, vector, false, ISRC_IPI, 0);
}

/* The value of the register at off (16-byte aligned) into *v, or false, *v untouched, for the
 * registers whose read depends on time (the timer's current count) or changes the APIC (an
 * illegal register sets an ESR bit): lapic_read reads those. */
static bool read_plain(const struct lapic *a, uint32_t off, uint32_t *v)
{
    if (off >= LAPIC_ISR && off < LAPIC_ESR) {
        const uint32_t *r = off < LAPIC_TMR ? a->s.isr : off < LAPIC_IRR ? a->s.tmr : a->s.irr;
        *v = r[(off >> 4) & 7];
        return true;
    }
    if (off >= LAPIC_LVT_TIMER && off <= LAPIC_LVT_ERROR) {
        *v = a->s.lvt[(off - LAPIC_LVT_TIMER) >> 4];
        return true;
    }
    switch (off) {
    case LAPIC_ID: *v = a->s.id; return true;
    case LAPIC_VER: *v = LAPIC_VERSION; return true;
    case LAPIC_TPR: *v = a->s.tpr; return true;
    case LAPIC_APR: case LAPIC_RRD: case LAPIC_EOI: *v = 0; return true;
    case LAPIC_PPR: *v = ppr(a); return true;
    case LAPIC_LDR: *v = a->s.ldr; return true;
    case LAPIC_DFR: *v = a->s.dfr; return true;
    case LAPIC_SVR: *v = a->s.svr; return true;
    case LAPIC_ESR: *v = a->s.esr; return true;
    case LAPIC_ICR_LO: *v = a->s.icr_lo; return true; /* delivery status idle */
    case LAPIC_ICR_HI: *v = a->s.icr_hi; return true;
    case LAPIC_TIMER_INIT: *v = a->s.timer_init; return true;
    case LAPIC_TIMER_DIV: *v = a->s.timer_div; return true;
    default: return false; /* the current count; illegal registers */
    }
}

uint32_t lapic_read(struct lapic *a, uint32_t off)
{
    off &= 0xFF0;
    uint32_t v;
    if (read_plain(a, off, &v))
        return v;
    if (off == LAPIC_TIMER_CUR)
        return current_count(a);
    error(a, ESR_ILLEGAL_REG);
    return 0;
}

void lapic_write(struct lapic *a, uint32_t off, uint32_t v)
{
    off &= 0xFF0;
    if (off >= LAPIC_LVT_TIMER && off <= LAPIC_LVT_ERROR) {
        unsigned k = (off - LAPIC_LVT_TIMER) >> 4;
        uint32_t ro = a->s.lvt[k] & ~lvt_bits[k];
        uint32_t bits = lvt_bits[k] | (k == LVT_TIMER && a->tsc ? LVT_TSC_DEADLINE : 0);
        bool was_deadline = deadline_mode(a);
        a->s.lvt[k] = (v & bits) | (ro & 0x5000u) | (sw_enabled(a) ? 0 : LVT_MASKED);
        if (k == LVT_TIMER && was_deadline != deadline_mode(a)) {
            a->s.tsc_deadline = 0; /* into or out of TSC-deadline mode: disarmed */
            a->s.timer_running = false;
            timer_arm(a);
        }
        update(a);
        return;
    }
    switch (off) {
    case LAPIC_ID: a->s.id = v & 0xFF000000u; break;
    case LAPIC_TPR: a->s.tpr = v & 0xFF; break;
    case LAPIC_EOI: {
        int s = highest(a->s.isr);
        if (s >= 0) {
            set_bit(a->s.isr, (unsigned)s, false);
            if (test_bit(a->s.tmr, (unsigned)s) && a->eoi_broadcast)
                a->eoi_broadcast(a->eoi_ctx, (uint8_t)s);
        }
        break;
    }
    case LAPIC_LDR: a->s.ldr = v & 0xFF000000u; break;
    case LAPIC_DFR: a->s.dfr = v | 0x0FFFFFFFu; break;
    case LAPIC_SVR:
        a->s.svr = v & 0x3FF;
        if (!(v & SVR_ENABLE))
            for (unsigned k = 0; k < LAPIC_LVT_N; k++)
                a->s.lvt[k] |= LVT_MASKED;
        break;
    case LAPIC_ESR:
        a->s.esr = a->s.esr_pending;
        a->s.esr_pending = 0;
        break;
    case LAPIC_ICR_LO:
        a->s.icr_lo = v & 0x000CEFFFu; /* delivery status (12) and bits 13, 16.. read 0 */
        send_ipi(a);
        break;
    case LAPIC_ICR_HI: a->s.icr_hi = v & 0xFF000000u; break;
    case LAPIC_TIMER_INIT:
        if (deadline_mode(a))
            break; /* ignored in TSC-deadline mode */
        a->s.timer_init = v;
        a->s.timer_start = devclock_now(a->clock);
        a->s.timer_running = v != 0;
        timer_arm(a);
        break;
    case LAPIC_TIMER_DIV: a->s.timer_div = v & 0xB; break;
    case LAPIC_VER: case LAPIC_PPR: case LAPIC_APR: case LAPIC_RRD: case LAPIC_TIMER_CUR:
        break; /* read-only */
    default:
        if (off >= LAPIC_ISR && off < LAPIC_ESR)
            break; /* ISR, TMR, IRR: read-only */
        error(a, ESR_ILLEGAL_REG);
        break;
    }
    update(a);
}

/* MMIO: the registers are 32 bits wide at 16-byte steps; a narrower access reads or writes
 * part of the register (a write of part keeps the rest of it). */
static uint32_t mmio_part(uint32_t v, uint32_t off, unsigned size)
{
    return v >> (8 * (off & 3)) & (size == 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1);
}

static uint32_t mmio_read(void *dev, uint32_t off, unsigned size)
{
    return mmio_part(lapic_read(dev, off & ~3u), off, size);
}

/* The bus's peek (bus.h mmio_peek_fn): every register but the current count and the illegal
 * ones reads the APIC's state as it is, whatever the time (a timer interrupt is accepted into
 * the IRR by the device event at its instruction, never by a read). */
static bool mmio_peek(const void *dev, uint32_t off, unsigned size, uint32_t *value)
{
    const struct lapic *a = dev;
    if (off == LAPIC_ID && size == 4) { /* xv6's mycpu(), in every lock */
        *value = a->s.id;
        return true;
    }
    uint32_t v;
    if (!read_plain(dev, off & 0xFF0, &v))
        return false;
    *value = mmio_part(v, off, size);
    return true;
}

static void mmio_write(void *dev, uint32_t off, uint32_t value, unsigned size)
{
    if ((off & 0xF) != 0 || size != 4) {
        /* Only whole, aligned writes reach a register (SDM 10.4.1: other accesses are
         * undefined); the rest of a 16-byte slot is ignored. */
        if ((off & 0xF) + size > 4)
            return;
        uint32_t shift = 8 * (off & 3), mask = ((size == 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1))
                                               << shift;
        uint32_t old = lapic_read(dev, off & ~3u);
        value = (old & ~mask) | ((value << shift) & mask);
    }
    lapic_write(dev, off & ~3u, value);
}

int lapic_attach(struct lapic *a, struct bus *b)
{
    if (bus_add_mmio(b, LAPIC_BASE, LAPIC_SIZE, mmio_read, mmio_write, a))
        return -1;
    return bus_set_mmio_peek(b, LAPIC_BASE, mmio_peek);
}
