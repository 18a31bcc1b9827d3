/* lapic.c against the Intel SDM vol. 3 chapter 10, row by row, through the MMIO bus on a fake
 * device clock: reset values (10.4.7.1, 10.12.5.1 for the version), read-only registers and
 * bits, the software enable and its LVT masking (10.4.7.2), task and processor priority
 * (10.8.3.1), IRR -> ISR on acknowledge and EOI (10.8.4, 10.8.5), the TMR and the EOI broadcast
 * to the I/O APIC, illegal vectors in ESR (10.5.3), self IPIs and the idle delivery-status bit
 * (10.6.1), NMI, INIT and start-up IPIs and LINT NMIs (10.6.1, 10.5.1), the timer's one-shot
 * and periodic modes and its divide configuration (10.5.4), TSC-deadline mode (10.5.4.1), the
 * ExtINT path of the 8259A pair through LINT0 and IA32_APIC_BASE. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "cpu/cpu.h"
#include "devices/bus.h"
#include "devices/lapic.h"
#include "devices/timerq.h"

struct fixture {
    struct bus bus;
    struct lapic apic;
    struct devclock clk;
    struct timerq tq;
    uint64_t t, kick;
    bool intr;
    int extint_acks;
    int eois[8];
    int neoi;
    unsigned nmis, nmi_from, inits;
    uint64_t tsc_off; /* the fake cpu's TSC is t + tsc_off */
};

static uint64_t fake_tsc(void *ctx)
{
    struct fixture *fx = ctx;
    return fx->t + fx->tsc_off;
}

static void nmi_seen(void *ctx, unsigned from)
{
    struct fixture *fx = ctx;
    fx->nmis++;
    fx->nmi_from = from;
}

static void init_seen(void *ctx)
{
    ((struct fixture *)ctx)->inits++;
}

static uint64_t fake_now(void *ctx)
{
    return ((struct fixture *)ctx)->t;
}

static void intr_line(void *ctx, int irq, bool level)
{
    (void)irq;
    ((struct fixture *)ctx)->intr = level;
}

static int extint_ack(void *ctx)
{
    ((struct fixture *)ctx)->extint_acks++;
    return 0x20 + 3; /* what an 8259A with base 0x20 would give for IRQ 3 */
}

static void eoi_seen(void *ctx, uint8_t vector)
{
    struct fixture *fx = ctx;
    if (fx->neoi < 8)
        fx->eois[fx->neoi++] = vector;
}

static uint32_t rd(struct fixture *fx, uint32_t off)
{
    return bus_mmio_read(&fx->bus, LAPIC_BASE + off, 4);
}

static void wr(struct fixture *fx, uint32_t off, uint32_t v)
{
    bus_mmio_write(&fx->bus, LAPIC_BASE + off, v, 4);
}

/* Advances the fake clock to t, firing due timers as the machine would. */
static void run_until(struct fixture *fx, uint64_t t)
{
    fx->t = t;
    timerq_run(&fx->tq, t);
}

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    if (!fx)
        return -1;
    bus_init(&fx->bus);
    fx->clk = (struct devclock){ fake_now, fx, 1000000 };
    timerq_init(&fx->tq, &fx->clk, &fx->kick);
    if (lapic_init(&fx->apic, &fx->clk, &fx->tq, (struct irq_line){ intr_line, NULL, fx, 0 }) < 0
        || lapic_attach(&fx->apic, &fx->bus) < 0)
        return -1;
    fx->apic.extint_ack = extint_ack;
    fx->apic.extint_ctx = fx;
    fx->apic.eoi_broadcast = eoi_seen;
    fx->apic.eoi_ctx = fx;
    fx->apic.nmi = nmi_seen;
    fx->apic.init = init_seen;
    fx->apic.tsc = fake_tsc;
    fx->apic.cpu_ctx = fx;
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    free(*state);
    return 0;
}

static void enable(struct fixture *fx)
{
    wr(fx, LAPIC_SVR, SVR_ENABLE | 0xFF);
}

/* SDM 10.4.7.1: power-up and reset state. */
static void test_reset_values(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(rd(fx, LAPIC_ID), 0);
    assert_int_equal(rd(fx, LAPIC_VER), 0x00050014);
    assert_int_equal(rd(fx, LAPIC_TPR), 0);
    assert_int_equal(rd(fx, LAPIC_PPR), 0);
    assert_int_equal(rd(fx, LAPIC_LDR), 0);
    assert_int_equal(rd(fx, LAPIC_DFR), 0xFFFFFFFFu);
    assert_int_equal(rd(fx, LAPIC_SVR), 0xFF);
    for (uint32_t off = LAPIC_LVT_TIMER; off <= LAPIC_LVT_ERROR; off += 0x10)
        assert_int_equal(rd(fx, off), LVT_MASKED);
    for (uint32_t off = LAPIC_ISR; off < LAPIC_ESR; off += 0x10)
        assert_int_equal(rd(fx, off), 0);
    assert_int_equal(rd(fx, LAPIC_ICR_LO), 0);
    assert_int_equal(rd(fx, LAPIC_TIMER_INIT), 0);
    assert_int_equal(rd(fx, LAPIC_TIMER_CUR), 0);
    assert_int_equal(rd(fx, LAPIC_TIMER_DIV), 0);
    uint64_t base = 0;
    assert_int_equal(lapic_msr_read(&fx->apic, MSR_APIC_BASE, &base), 1);
    assert_int_equal(base, 0xFEE00900u); /* base, enabled, BSP */
    assert_int_equal(lapic_msr_read(&fx->apic, 0x10, &base), 0); /* not its MSR */
}

/* Read-only registers ignore writes; ID, LDR, DFR, TPR keep only their defined bits. */
static void test_read_only_and_bits(void **state)
{
    struct fixture *fx = *state;
    wr(fx, LAPIC_VER, 0x12345678);
    assert_int_equal(rd(fx, LAPIC_VER), LAPIC_VERSION);
    wr(fx, LAPIC_PPR, 0xFF);
    assert_int_equal(rd(fx, LAPIC_PPR), 0);
    wr(fx, LAPIC_IRR, 0xFFFFFFFF);
    wr(fx, LAPIC_ISR + 0x70, 0xFFFFFFFF);
    assert_int_equal(rd(fx, LAPIC_IRR), 0);
    assert_int_equal(rd(fx, LAPIC_ISR + 0x70), 0);
    wr(fx, LAPIC_ID, 0xFFFFFFFF);
    assert_int_equal(rd(fx, LAPIC_ID), 0xFF000000u);
    wr(fx, LAPIC_LDR, 0x12345678);
    assert_int_equal(rd(fx, LAPIC_LDR), 0x12000000u);
    wr(fx, LAPIC_DFR, 0x0);
    assert_int_equal(rd(fx, LAPIC_DFR), 0x0FFFFFFFu);
    wr(fx, LAPIC_TPR, 0x1FF);
    assert_int_equal(rd(fx, LAPIC_TPR), 0xFF);
    wr(fx, LAPIC_TIMER_DIV, 0xFF);
    assert_int_equal(rd(fx, LAPIC_TIMER_DIV), 0xB);
    /* the delivery status bit of the ICR reads idle whatever was written */
    enable(fx);
    wr(fx, LAPIC_ICR_HI, 0x01000000);
    wr(fx, LAPIC_ICR_LO, 0x00004500); /* INIT to APIC 1: nobody there */
    assert_int_equal(rd(fx, LAPIC_ICR_LO) & ICR_PENDING, 0);
    assert_int_equal(rd(fx, LAPIC_ICR_HI), 0x01000000);
    /* a byte read gives part of a register */
    assert_int_equal(bus_mmio_read(&fx->bus, LAPIC_BASE + LAPIC_VER, 1), 0x14);
    assert_int_equal(bus_mmio_read(&fx->bus, LAPIC_BASE + LAPIC_VER + 2, 1), 0x05);
}

/* 10.4.7.2: software disabled, every LVT entry is masked and stays masked when written. */
static void test_software_disable_masks_lvt(void **state)
{
    struct fixture *fx = *state;
    wr(fx, LAPIC_LVT_TIMER, 0x30);
    assert_int_equal(rd(fx, LAPIC_LVT_TIMER), LVT_MASKED | 0x30);
    enable(fx);
    wr(fx, LAPIC_LVT_TIMER, 0x30);
    assert_int_equal(rd(fx, LAPIC_LVT_TIMER), 0x30);
    wr(fx, LAPIC_LVT_LINT0, 0x700);
    wr(fx, LAPIC_SVR, 0xFF); /* software disable */
    assert_int_equal(rd(fx, LAPIC_LVT_TIMER), LVT_MASKED | 0x30);
    assert_int_equal(rd(fx, LAPIC_LVT_LINT0), LVT_MASKED | 0x700);
    /* LVT bits: delivery status and remote IRR are read-only */
    enable(fx);
    wr(fx, LAPIC_LVT_LINT1, 0xFFFFFFFF);
    assert_int_equal(rd(fx, LAPIC_LVT_LINT1), 0x0001A7FFu);
    wr(fx, LAPIC_LVT_ERROR, 0xFFFFFFFF);
    assert_int_equal(rd(fx, LAPIC_LVT_ERROR), 0x000100FFu);
}

/* 10.8.3.1: PPR from TPR and the highest in-service vector; 10.8.4: acknowledge and EOI. */
static void test_priority_and_eoi(void **state)
{
    struct fixture *fx = *state;
    enable(fx);
    lapic_accept(&fx->apic, 0x51, false, ISRC_IOAPIC, 4);
    assert_true(fx->intr);
    assert_int_equal(rd(fx, LAPIC_IRR + 0x20), 1u << (0x51 - 64));
    /* TPR class 5 blocks vector class 5; class 4 does not */
    wr(fx, LAPIC_TPR, 0x50);
    assert_false(fx->intr);
    assert_int_equal(rd(fx, LAPIC_PPR), 0x50);
    wr(fx, LAPIC_TPR, 0x4F);
    assert_true(fx->intr);
    wr(fx, LAPIC_TPR, 0);
    int a = lapic_ack(&fx->apic);
    assert_int_equal(a & 0xFF, 0x51);
    assert_int_equal((a >> 8) & 0xFF, ISRC_IOAPIC);
    assert_int_equal((a >> 16) & 0xFF, 4);
    assert_int_equal(rd(fx, LAPIC_IRR + 0x20), 0);
    assert_int_equal(rd(fx, LAPIC_ISR + 0x20), 1u << (0x51 - 64));
    assert_int_equal(rd(fx, LAPIC_PPR), 0x50); /* ISRV class above TPR's */
    assert_false(fx->intr);
    /* a request of the same class waits; a higher class is taken (nested) */
    lapic_accept(&fx->apic, 0x5F, false, ISRC_IPI, 0);
    assert_false(fx->intr);
    lapic_accept(&fx->apic, 0x61, false, ISRC_IPI, 0);
    assert_true(fx->intr);
    assert_int_equal(lapic_ack(&fx->apic) & 0xFF, 0x61);
    assert_int_equal(rd(fx, LAPIC_PPR), 0x60);
    /* EOI ends the highest in service; edge vectors are not broadcast */
    wr(fx, LAPIC_EOI, 0);
    assert_int_equal(rd(fx, LAPIC_ISR + 0x30), 0);
    assert_int_equal(rd(fx, LAPIC_PPR), 0x50);
    assert_false(fx->intr);
    wr(fx, LAPIC_EOI, 0);
    assert_true(fx->intr); /* 0x5F now */
    assert_int_equal(lapic_ack(&fx->apic) & 0xFF, 0x5F);
    wr(fx, LAPIC_EOI, 0);
    assert_int_equal(fx->neoi, 0);
    /* a level-triggered vector sets TMR, and its EOI goes to the I/O APIC */
    lapic_accept(&fx->apic, 0x40, true, ISRC_IOAPIC, 9);
    assert_int_equal(rd(fx, LAPIC_TMR + 0x20), 1);
    assert_int_equal(lapic_ack(&fx->apic) & 0xFF, 0x40);
    wr(fx, LAPIC_EOI, 0);
    assert_int_equal(fx->neoi, 1);
    assert_int_equal(fx->eois[0], 0x40);
    /* nothing pending: the acknowledge gives the spurious vector */
    assert_int_equal(lapic_ack(&fx->apic) & 0xFF, 0xFF);
}

/* 10.5.3: vectors 0..15 are illegal; ESR latches on write; the error LVT interrupts. */
static void test_illegal_vectors_and_esr(void **state)
{
    struct fixture *fx = *state;
    enable(fx);
    wr(fx, LAPIC_LVT_ERROR, 0xFE);
    lapic_accept(&fx->apic, 0x0E, false, ISRC_IOAPIC, 1);
    assert_int_equal(rd(fx, LAPIC_IRR), 0); /* not accepted */
    assert_int_equal(rd(fx, LAPIC_ESR), 0); /* not latched until written */
    wr(fx, LAPIC_ESR, 0);
    assert_int_equal(rd(fx, LAPIC_ESR), ESR_RECV_ILLEGAL);
    assert_true(fx->intr);
    int a = lapic_ack(&fx->apic);
    assert_int_equal(a & 0xFF, 0xFE);
    assert_int_equal((a >> 8) & 0xFF, ISRC_LAPIC_ERROR);
    wr(fx, LAPIC_EOI, 0);
    wr(fx, LAPIC_ICR_LO, 0x00040005); /* fixed, self, vector 5 */
    wr(fx, LAPIC_ESR, 0);
    assert_int_equal(rd(fx, LAPIC_ESR), ESR_SEND_ILLEGAL);
    wr(fx, LAPIC_ESR, 0);
    assert_int_equal(rd(fx, LAPIC_ESR), 0);
}

/* The bus's peek (bus.h mmio_peek_fn, used by the cpu without settling the device's time): at
 * every offset and size it either declines or gives what the read gives, and then neither it
 * nor the read changed the APIC; it declines the timer's current count (time) and the illegal
 * registers (they set ESR bit 7). */
static void test_peek_is_the_read(void **state)
{
    struct fixture *fx = *state;
    enable(fx);
    wr(fx, LAPIC_ID, 0x03000000);
    wr(fx, LAPIC_LDR, 0x02000000);
    wr(fx, LAPIC_TPR, 0x20);
    wr(fx, LAPIC_ICR_HI, 0x01000000);
    wr(fx, LAPIC_LVT_ERROR, 0xFE);
    lapic_accept(&fx->apic, 0x51, false, ISRC_IOAPIC, 4);
    lapic_accept(&fx->apic, 0x62, true, ISRC_IOAPIC, 5);
    assert_int_equal(lapic_ack(&fx->apic) & 0xFF, 0x62);
    lapic_accept(&fx->apic, 0x05, false, ISRC_IOAPIC, 1); /* illegal: ESR */
    wr(fx, LAPIC_ESR, 0);
    wr(fx, LAPIC_TIMER_DIV, 0x3);
    wr(fx, LAPIC_LVT_TIMER, 0x20030);
    wr(fx, LAPIC_TIMER_INIT, 1000000);
    run_until(fx, 12345);
    const struct mmio_range *m = bus_mmio_range(&fx->bus, LAPIC_BASE, 4);
    assert_non_null(m);
    assert_non_null(m->peek);
    unsigned taken = 0;
    for (uint32_t off = 0; off < LAPIC_SIZE; off++) {
        for (unsigned size = 1; size <= 4; size *= 2) {
            if (off + size > LAPIC_SIZE)
                continue;
            struct lapic_state before = fx->apic.s;
            uint32_t v = 0xDEADBEEFu;
            bool ok = m->peek(&fx->apic, off, size, &v);
            assert_memory_equal(&fx->apic.s, &before, sizeof before);
            uint32_t r = bus_mmio_read(&fx->bus, LAPIC_BASE + off, size);
            if (ok) {
                taken++;
                assert_int_equal(v, r);
                assert_memory_equal(&fx->apic.s, &before, sizeof before); /* legal: no ESR */
                assert_int_not_equal(off & 0xFF0, LAPIC_TIMER_CUR);
            } else {
                assert_int_equal(v, 0xDEADBEEFu);
            }
            fx->apic.s = before;
        }
    }
    /* the ones xv6 reads all the time are taken */
    uint32_t v;
    assert_true(m->peek(&fx->apic, LAPIC_ID, 4, &v));
    assert_int_equal(v, 0x03000000);
    assert_true(m->peek(&fx->apic, LAPIC_IRR + 0x20, 4, &v));
    assert_int_equal(v, 1u << (0x51 - 64));
    assert_false(m->peek(&fx->apic, LAPIC_TIMER_CUR, 4, &v));
    assert_false(m->peek(&fx->apic, 0x000, 4, &v)); /* reserved: ESR bit 7 on a read */
    assert_true(taken > 1000);
    /* and the illegal read does set ESR bit 7 */
    rd(fx, 0x000);
    wr(fx, LAPIC_ESR, 0);
    assert_int_equal(rd(fx, LAPIC_ESR) & ESR_ILLEGAL_REG, ESR_ILLEGAL_REG);
}

/* 10.6.1: self IPIs by shorthand and by destination; "all excluding self" reaches nobody. */
static void test_self_ipi(void **state)
{
    struct fixture *fx = *state;
    enable(fx);
    wr(fx, LAPIC_ICR_LO, 0x00040031); /* self */
    assert_int_equal(rd(fx, LAPIC_IRR + 0x10), 1u << (0x31 - 32));
    wr(fx, LAPIC_ICR_LO, 0x000C0032); /* all excluding self */
    assert_int_equal(rd(fx, LAPIC_IRR + 0x10), 1u << (0x31 - 32));
    wr(fx, LAPIC_ICR_HI, 0x00000000); /* physical destination 0: this APIC */
    wr(fx, LAPIC_ICR_LO, 0x00000033);
    wr(fx, LAPIC_ICR_HI, 0x05000000); /* physical destination 5: nobody */
    wr(fx, LAPIC_ICR_LO, 0x00000034);
    assert_int_equal(rd(fx, LAPIC_IRR + 0x10), (1u << (0x31 - 32)) | (1u << (0x33 - 32)));
    int a = lapic_ack(&fx->apic);
    assert_int_equal(a & 0xFF, 0x33);
    assert_int_equal((a >> 8) & 0xFF, ISRC_IPI);
    /* logical flat model: destination bits against LDR */
    wr(fx, LAPIC_LDR, 0x02000000);
    assert_true(lapic_match(&fx->apic, 0x03, true));
    assert_false(lapic_match(&fx->apic, 0x01, true));
    assert_true(lapic_match(&fx->apic, 0xFF, false));
}

/* 10.5.4: the timer counts at the clock divided by the divide configuration. */
/* SDM 10.6.1: an NMI by the ICR goes to the cpu's NMI input whatever the vector, to a
 * destination that matches; nothing lands in IRR; INIT reaches the cpu's INIT signal but for
 * the level de-assert; start-up does nothing to a cpu not waiting for one (8.4.4); the
 * delivery status stays idle. */
static void test_ipi_nmi_init_startup(void **state)
{
    struct fixture *fx = *state;
    enable(fx);
    wr(fx, LAPIC_ICR_HI, 0x05000000);
    wr(fx, LAPIC_ICR_LO, 0x00000400); /* NMI to APIC 5: nobody */
    assert_int_equal(fx->nmis, 0);
    wr(fx, LAPIC_ICR_LO, 0x000C0400); /* NMI to all excluding self */
    assert_int_equal(fx->nmis, 0);
    wr(fx, LAPIC_ICR_HI, 0x00000000);
    wr(fx, LAPIC_ICR_LO, 0x00004400); /* NMI, assert, physical destination 0: this cpu */
    assert_int_equal(fx->nmis, 1);
    assert_int_equal(fx->nmi_from, NMI_FROM_IPI);
    wr(fx, LAPIC_ICR_LO, 0x00044402); /* self, vector 2 (ignored, no illegal-vector error) */
    assert_int_equal(fx->nmis, 2);
    wr(fx, LAPIC_ESR, 0);
    assert_int_equal(rd(fx, LAPIC_ESR), 0);
    assert_int_equal(rd(fx, LAPIC_ICR_LO) & ICR_PENDING, 0);
    for (uint32_t off = LAPIC_IRR; off < LAPIC_ESR; off += 0x10)
        assert_int_equal(rd(fx, off), 0);
    assert_false(fx->intr);

    wr(fx, LAPIC_ICR_LO, 0x00008500); /* INIT level de-assert: only arbitration IDs */
    assert_int_equal(fx->inits, 0);
    wr(fx, LAPIC_ICR_LO, 0x00080600); /* start-up to all including self: ignored */
    assert_int_equal(fx->inits, 0);
    assert_false(fx->intr);
    wr(fx, LAPIC_ICR_LO, 0x0000C500); /* INIT, level assert, to APIC 0 */
    assert_int_equal(fx->inits, 1);
    wr(fx, LAPIC_ICR_LO, 0x00040500); /* INIT to self, edge */
    assert_int_equal(fx->inits, 2);
    assert_int_equal(fx->nmis, 2);
}

/* SDM 10.5.1: LINT0/LINT1 in NMI delivery mode send an NMI on each rising edge while the
 * entry is unmasked; NMI entries do not touch IRR. */
static void test_lint_nmi(void **state)
{
    struct fixture *fx = *state;
    enable(fx);
    struct irq_line l1 = lapic_lint(&fx->apic, 1);
    wr(fx, LAPIC_LVT_LINT1, LVT_MASKED | 0x400);
    irq_pulse(&l1);
    assert_int_equal(fx->nmis, 0);
    wr(fx, LAPIC_LVT_LINT1, 0x400); /* NMI */
    irq_set(&l1, true);
    assert_int_equal(fx->nmis, 1);
    assert_int_equal(fx->nmi_from, NMI_FROM_LINT1);
    irq_set(&l1, true); /* no new edge */
    assert_int_equal(fx->nmis, 1);
    irq_set(&l1, false);
    irq_pulse(&l1);
    assert_int_equal(fx->nmis, 2);
    struct irq_line l0 = lapic_lint(&fx->apic, 0);
    wr(fx, LAPIC_LVT_LINT0, 0x400);
    irq_pulse(&l0);
    assert_int_equal(fx->nmis, 3);
    assert_int_equal(fx->nmi_from, NMI_FROM_LINT0);
    for (uint32_t off = LAPIC_IRR; off < LAPIC_ESR; off += 0x10)
        assert_int_equal(rd(fx, off), 0);
    assert_false(fx->intr);
}

static uint64_t msr_rd(struct fixture *fx, uint32_t msr)
{
    uint64_t v = 0xDEAD;
    assert_int_equal(lapic_msr_read(&fx->apic, msr, &v), 1);
    return v;
}

/* SDM 10.5.4.1: TSC-deadline mode. IA32_TSC_DEADLINE arms the timer for a TSC value (at once
 * when passed), reads 0 after it fired and in the other modes (where writes are ignored);
 * the initial count is ignored and the current count reads 0; changing the mode disarms. */
static void test_timer_tsc_deadline(void **state)
{
    struct fixture *fx = *state;
    enable(fx);
    fx->tsc_off = 5000;
    assert_int_equal(lapic_msr_write(&fx->apic, MSR_TSC_DEADLINE, 9000), 1); /* one-shot mode */
    assert_int_equal(msr_rd(fx, MSR_TSC_DEADLINE), 0);
    wr(fx, LAPIC_LVT_TIMER, LVT_TSC_DEADLINE | 0x41);
    assert_int_equal(rd(fx, LAPIC_LVT_TIMER), LVT_TSC_DEADLINE | 0x41);
    assert_int_equal(timerq_deadline(&fx->tq, fx->apic.timer), TIMER_NEVER);
    wr(fx, LAPIC_TIMER_INIT, 100); /* ignored */
    assert_int_equal(rd(fx, LAPIC_TIMER_INIT), 0);
    assert_int_equal(rd(fx, LAPIC_TIMER_CUR), 0);
    lapic_msr_write(&fx->apic, MSR_TSC_DEADLINE, 9000); /* TSC 9000 = device time 4000 */
    assert_int_equal(msr_rd(fx, MSR_TSC_DEADLINE), 9000);
    assert_int_equal(timerq_deadline(&fx->tq, fx->apic.timer), 4000);
    run_until(fx, 3999);
    assert_false(fx->intr);
    run_until(fx, 4000);
    assert_true(fx->intr);
    assert_int_equal(lapic_ack(&fx->apic), INTC_SOURCE(0x41, ISRC_LAPIC_TIMER, 0));
    wr(fx, LAPIC_EOI, 0);
    assert_int_equal(msr_rd(fx, MSR_TSC_DEADLINE), 0); /* fired: disarmed */
    assert_int_equal(timerq_deadline(&fx->tq, fx->apic.timer), TIMER_NEVER);
    /* a deadline already passed fires at once; 0 disarms */
    lapic_msr_write(&fx->apic, MSR_TSC_DEADLINE, 10);
    assert_int_equal(timerq_deadline(&fx->tq, fx->apic.timer), 4000);
    lapic_msr_write(&fx->apic, MSR_TSC_DEADLINE, 0);
    assert_int_equal(timerq_deadline(&fx->tq, fx->apic.timer), TIMER_NEVER);
    /* the TSC written back after arming: the timer checks and waits on */
    lapic_msr_write(&fx->apic, MSR_TSC_DEADLINE, 20000); /* device time 15000 */
    fx->tsc_off = 0; /* at 15000 the TSC reads 15000: five thousand more */
    run_until(fx, 19999);
    assert_false(fx->intr);
    assert_int_equal(timerq_deadline(&fx->tq, fx->apic.timer), 20000);
    run_until(fx, 20000);
    assert_true(fx->intr);
    assert_int_equal(lapic_ack(&fx->apic), INTC_SOURCE(0x41, ISRC_LAPIC_TIMER, 0));
    wr(fx, LAPIC_EOI, 0);
    /* leaving the mode disarms it */
    lapic_msr_write(&fx->apic, MSR_TSC_DEADLINE, 30000);
    wr(fx, LAPIC_LVT_TIMER, 0x41);
    assert_int_equal(timerq_deadline(&fx->tq, fx->apic.timer), TIMER_NEVER);
    wr(fx, LAPIC_LVT_TIMER, LVT_TSC_DEADLINE | 0x41);
    assert_int_equal(msr_rd(fx, MSR_TSC_DEADLINE), 0);
    /* without a TSC wired there is no such mode: bit 18 is reserved, the MSR not the APIC's */
    fx->apic.tsc = NULL;
    wr(fx, LAPIC_LVT_TIMER, LVT_TSC_DEADLINE | 0x41);
    assert_int_equal(rd(fx, LAPIC_LVT_TIMER), 0x41);
    uint64_t v;
    assert_int_equal(lapic_msr_read(&fx->apic, MSR_TSC_DEADLINE, &v), 0);
}

static void test_timer_one_shot_and_divide(void **state)
{
    struct fixture *fx = *state;
    enable(fx);
    wr(fx, LAPIC_LVT_TIMER, 0x40);  /* one-shot, vector 0x40 */
    wr(fx, LAPIC_TIMER_DIV, 0x3);   /* divide by 16 */
    wr(fx, LAPIC_TIMER_INIT, 1000);
    assert_int_equal(timerq_deadline(&fx->tq, fx->apic.timer), 16000);
    run_until(fx, 1600);
    assert_int_equal(rd(fx, LAPIC_TIMER_CUR), 900);
    run_until(fx, 15999);
    assert_int_equal(rd(fx, LAPIC_TIMER_CUR), 1);
    assert_false(fx->intr);
    run_until(fx, 16000);
    assert_int_equal(rd(fx, LAPIC_TIMER_CUR), 0);
    assert_true(fx->intr);
    int a = lapic_ack(&fx->apic);
    assert_int_equal(a & 0xFF, 0x40);
    assert_int_equal((a >> 8) & 0xFF, ISRC_LAPIC_TIMER);
    wr(fx, LAPIC_EOI, 0);
    run_until(fx, 100000);
    assert_false(fx->intr); /* one-shot: once */
    assert_int_equal(timerq_deadline(&fx->tq, fx->apic.timer), TIMER_NEVER);
    /* the divide values: bits 3,1,0 = 111 is 1, 000 is 2, 110 is 128 */
    static const struct { uint32_t div; uint64_t by; } rows[] = {
        {0x0, 2}, {0x1, 4}, {0x2, 8}, {0x3, 16}, {0x8, 32}, {0x9, 64}, {0xA, 128}, {0xB, 1},
    };
    for (size_t k = 0; k < sizeof rows / sizeof rows[0]; k++) {
        wr(fx, LAPIC_TIMER_DIV, rows[k].div);
        wr(fx, LAPIC_TIMER_INIT, 10);
        assert_int_equal(timerq_deadline(&fx->tq, fx->apic.timer), fx->t + 10 * rows[k].by);
    }
    wr(fx, LAPIC_TIMER_INIT, 0); /* a zero count stops it */
    assert_int_equal(timerq_deadline(&fx->tq, fx->apic.timer), TIMER_NEVER);
}

static void test_timer_periodic_and_masked(void **state)
{
    struct fixture *fx = *state;
    enable(fx);
    wr(fx, LAPIC_TIMER_DIV, 0xB);               /* divide by 1 */
    wr(fx, LAPIC_LVT_TIMER, LVT_PERIODIC | 0x20);
    wr(fx, LAPIC_TIMER_INIT, 500);
    int ticks = 0;
    for (uint64_t t = 0; t <= 5000; t += 50) {
        run_until(fx, t);
        if (fx->intr) {
            assert_int_equal(t % 500, 0);
            assert_int_equal(lapic_ack(&fx->apic) & 0xFF, 0x20);
            wr(fx, LAPIC_EOI, 0);
            ticks++;
        }
    }
    assert_int_equal(ticks, 10);
    assert_true(lapic_timer_can_wake(&fx->apic));
    /* masked: it counts on but raises nothing */
    wr(fx, LAPIC_LVT_TIMER, LVT_MASKED | LVT_PERIODIC | 0x20);
    assert_false(lapic_timer_can_wake(&fx->apic));
    run_until(fx, 7000);
    assert_false(fx->intr);
    assert_int_equal(rd(fx, LAPIC_IRR + 0x10), 0);
}

/* The 8259A pair through LINT0: ExtINT passes its INTR and its acknowledge; masked, nothing. */
static void test_extint_through_lint0(void **state)
{
    struct fixture *fx = *state;
    struct irq_line lint0 = lapic_lint(&fx->apic, 0);
    irq_set(&lint0, true);
    assert_false(fx->intr); /* LINT0 masked at reset */
    lapic_firmware(&fx->apic);
    assert_int_equal(rd(fx, LAPIC_LVT_LINT0), 0x8700);
    assert_int_equal(rd(fx, LAPIC_LVT_LINT1), 0x0400);
    assert_true(fx->intr);
    assert_int_equal(lapic_ack(&fx->apic), 0x23);
    assert_int_equal(fx->extint_acks, 1);
    irq_set(&lint0, false);
    assert_false(fx->intr);
    /* a fixed vector outranks the ExtINT request */
    irq_set(&lint0, true);
    lapic_accept(&fx->apic, 0x90, false, ISRC_IPI, 0);
    assert_int_equal(lapic_ack(&fx->apic) & 0xFF, 0x90);
    assert_int_equal(fx->extint_acks, 1);
    /* IA32_APIC_BASE: disabling the APIC resets it; INTR then passes straight through */
    assert_int_equal(lapic_msr_write(&fx->apic, MSR_APIC_BASE, 0xFEE00100u), 1);
    assert_int_equal(rd(fx, LAPIC_SVR), 0xFF);
    assert_int_equal(rd(fx, LAPIC_ISR + 0x40), 0);
    assert_true(fx->intr);
    assert_int_equal(lapic_ack(&fx->apic), 0x23);
    lapic_accept(&fx->apic, 0x90, false, ISRC_IPI, 0); /* a disabled APIC accepts nothing */
    assert_int_equal(rd(fx, LAPIC_IRR + 0x40), 0);
    /* reserved bits (x2APIC, 10) refuse the write */
    assert_int_equal(lapic_msr_write(&fx->apic, MSR_APIC_BASE, 0xFEE00D00u), -1);
    assert_int_equal(lapic_msr_write(&fx->apic, MSR_APIC_BASE, 0xFEE00900u), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reset_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_only_and_bits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_software_disable_masks_lvt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_priority_and_eoi, setup, teardown),
        cmocka_unit_test_setup_teardown(test_illegal_vectors_and_esr, setup, teardown),
        cmocka_unit_test_setup_teardown(test_self_ipi, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ipi_nmi_init_startup, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lint_nmi, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timer_tsc_deadline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timer_one_shot_and_divide, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timer_periodic_and_masked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_extint_through_lint0, setup, teardown),
        cmocka_unit_test_setup_teardown(test_peek_is_the_read, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
