/* The small standard-PC devices through the bus on a fake device clock: the HPET (IA-PC HPET
 * 1.0a, 2.3: capabilities, the main counter at 10 MHz, one-shot and periodic comparators,
 * edge and level interrupts and their status bits), the ACPI PM timer (ACPI 4.8.3.3: 24 bits
 * at 3.579545 MHz, TMR_STS, SCI_EN), QEMU's fw_cfg (signature, ID, CPU count, RAM size,
 * selector rewinds), the CRTC index/data pair and port 0x92. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "devices/acpipm.h"
#include "devices/bus.h"
#include "devices/crtc.h"
#include "devices/fwcfg.h"
#include "devices/hpet.h"
#include "devices/port92.h"
#include "devices/timerq.h"

#define UPS 100000000u /* device time units per second, as the machine's default */
/* The fixture's lines: the HPET's I/O APIC inputs 0..23, then its legacy lines (ISA IRQ 0 and
 * 8) and the ACPI SCI. */
#define LINE_LEG0 24
#define LINE_LEG8 25
#define LINE_SCI  26
#define LINES     27

struct fixture {
    struct bus bus;
    struct devclock clk;
    struct timerq tq;
    uint64_t t, kick;
    struct hpet hpet;
    struct acpipm pm;
    struct fwcfg fw;
    struct crtc crtc;
    struct port92 p92;
    int level[LINES];
    int edges[LINES];
};

static uint64_t fake_now(void *ctx)
{
    return ((struct fixture *)ctx)->t;
}

static void line_set(void *ctx, int pin, bool level)
{
    struct fixture *fx = ctx;
    if (level && !fx->level[pin])
        fx->edges[pin]++;
    fx->level[pin] = level;
}

static bool line_unmasked(void *ctx, int pin)
{
    (void)ctx;
    return pin == 20 || pin == LINE_SCI;
}

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
    fx->clk = (struct devclock){ fake_now, fx, UPS };
    timerq_init(&fx->tq, &fx->clk, &fx->kick);
    if (hpet_init(&fx->hpet, &fx->clk, &fx->tq) < 0)
        return -1;
    for (int p = 0; p < (int)HPET_LINES; p++)
        fx->hpet.line[p] = (struct irq_line){ line_set, line_unmasked, fx, p };
    fx->hpet.legacy[0] = (struct irq_line){ line_set, line_unmasked, fx, LINE_LEG0 };
    fx->hpet.legacy[1] = (struct irq_line){ line_set, line_unmasked, fx, LINE_LEG8 };
    acpipm_init(&fx->pm, &fx->clk);
    if (acpipm_wire_sci(&fx->pm, &fx->tq, (struct irq_line){ line_set, line_unmasked, fx,
                                                             LINE_SCI }) < 0)
        return -1;
    fwcfg_init(&fx->fw, 256u << 20);
    crtc_init(&fx->crtc);
    port92_init(&fx->p92);
    if (hpet_attach(&fx->hpet, &fx->bus) < 0 || acpipm_attach(&fx->pm, &fx->bus) < 0
        || fwcfg_attach(&fx->fw, &fx->bus) < 0 || crtc_attach(&fx->crtc, &fx->bus) < 0
        || port92_attach(&fx->p92, &fx->bus) < 0)
        return -1;
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    free(*state);
    return 0;
}

static uint32_t hrd(struct fixture *fx, uint32_t off)
{
    return bus_mmio_read(&fx->bus, HPET_BASE + off, 4);
}

static void hwr(struct fixture *fx, uint32_t off, uint32_t v)
{
    bus_mmio_write(&fx->bus, HPET_BASE + off, v, 4);
}

static void test_hpet_registers_and_counter(void **state)
{
    struct fixture *fx = *state;
    /* GCAP_ID: revision 1, three timers, 64-bit counter, legacy replacement capable, vendor
     * 8086, 10 MHz */
    assert_int_equal(hrd(fx, HPET_CAP), 0x8086A201u);
    assert_int_equal(hrd(fx, HPET_CAP + 4), 100000000u);
    hwr(fx, HPET_CAP, 0);
    assert_int_equal(hrd(fx, HPET_CAP), 0x8086A201u);
    assert_int_equal(hrd(fx, HPET_CONF), 0);
    /* Tn_CONF_CAP: periodic and 64-bit capable, routes 20..23 */
    for (unsigned n = 0; n < HPET_TIMERS; n++) {
        assert_int_equal(hrd(fx, HPET_T0_CONF + 0x20 * n), 0x30);
        assert_int_equal(hrd(fx, HPET_T0_CONF + 0x20 * n + 4), HPET_ROUTE_CAP);
    }
    /* stopped, the counter holds still and is writable */
    fx->t = 1000;
    assert_int_equal(hrd(fx, HPET_COUNTER), 0);
    hwr(fx, HPET_COUNTER, 500);
    assert_int_equal(hrd(fx, HPET_COUNTER), 500);
    hwr(fx, HPET_CONF, 1);
    fx->t = 1000 + UPS / 1000; /* a millisecond: 10000 ticks */
    assert_int_equal(hrd(fx, HPET_COUNTER), 10500);
    hwr(fx, HPET_COUNTER, 0); /* ignored while running */
    assert_int_equal(hrd(fx, HPET_COUNTER), 10500);
    hwr(fx, HPET_CONF, 0);
    fx->t += UPS;
    assert_int_equal(hrd(fx, HPET_COUNTER), 10500);
}

static void test_hpet_one_shot_and_periodic(void **state)
{
    struct fixture *fx = *state;
    /* timer 0: one-shot, edge, route 20, at counter 1000 (100 us) */
    hwr(fx, HPET_T0_CONF, HPET_TN_ENABLE | 20u << 9);
    hwr(fx, HPET_T0_CMP, 1000);
    hwr(fx, HPET_T0_CMP + 4, 0);
    hwr(fx, HPET_CONF, 1);
    assert_int_equal(timerq_deadline(&fx->tq, fx->hpet.timer), 10000);
    run_until(fx, 9999);
    assert_int_equal(fx->edges[20], 0);
    run_until(fx, 10000);
    assert_int_equal(fx->edges[20], 1);
    assert_int_equal(fx->level[20], 0); /* an edge pulse */
    run_until(fx, 1000000);
    assert_int_equal(fx->edges[20], 1); /* once */
    /* timer 1: 32-bit, periodic, level, route 21, every 500 ticks (50 us), set up as Linux
     * does: VAL_SET, the first match, then the period */
    hwr(fx, HPET_T0_CONF + 0x20, HPET_TN_ENABLE | HPET_TN_PERIODIC | HPET_TN_LEVEL
                                 | HPET_TN_VAL_SET | HPET_TN_32BIT | 21u << 9);
    uint32_t now = hrd(fx, HPET_COUNTER);
    hwr(fx, HPET_T0_CMP + 0x20, now + 500);
    hwr(fx, HPET_T0_CMP + 0x20, 500); /* the period */
    for (int k = 1; k <= 4; k++) {
        run_until(fx, fx->t + 5000);
        assert_int_equal(fx->edges[21], k);
        assert_int_equal(fx->level[21], 1);
        assert_int_equal(hrd(fx, HPET_ISR), 2);
        hwr(fx, HPET_ISR, 2); /* write 1 to clear: the level drops */
        assert_int_equal(fx->level[21], 0);
        assert_int_equal(hrd(fx, HPET_ISR), 0);
    }
    assert_true(timerq_deadline(&fx->tq, fx->hpet.timer) != TIMER_NEVER);
    /* stopping the counter stops the comparators */
    hwr(fx, HPET_CONF, 0);
    assert_int_equal(timerq_deadline(&fx->tq, fx->hpet.timer), TIMER_NEVER);
}

/* HPET spec 2.3.9.2.2: with LEG_RT_CNF, timer 0 drives IRQ 0 and timer 1 IRQ 8 whatever
 * their routes; timer 2 keeps its route; an active level moves when the mode changes. */
static void test_hpet_legacy_replacement(void **state)
{
    struct fixture *fx = *state;
    hwr(fx, HPET_T0_CONF, HPET_TN_ENABLE | 20u << 9);
    hwr(fx, HPET_T0_CMP, 1000);
    hwr(fx, HPET_T0_CMP + 4, 0);
    hwr(fx, HPET_T0_CONF + 0x20, HPET_TN_ENABLE | HPET_TN_LEVEL | 21u << 9);
    hwr(fx, HPET_T0_CMP + 0x20, 2000);
    hwr(fx, HPET_T0_CMP + 0x20 + 4, 0);
    hwr(fx, HPET_T0_CONF + 0x40, HPET_TN_ENABLE | 22u << 9);
    hwr(fx, HPET_T0_CMP + 0x40, 3000);
    hwr(fx, HPET_T0_CMP + 0x40 + 4, 0);
    hwr(fx, HPET_CONF, HPET_ENABLE | HPET_LEG_RT);
    assert_int_equal(hrd(fx, HPET_CONF), 3);
    run_until(fx, 30000);
    assert_int_equal(fx->edges[LINE_LEG0], 1);
    assert_int_equal(fx->edges[20], 0);
    assert_int_equal(fx->edges[LINE_LEG8], 1);
    assert_int_equal(fx->level[LINE_LEG8], 1); /* level-triggered: held */
    assert_int_equal(fx->edges[21], 0);
    assert_int_equal(fx->edges[22], 1);        /* timer 2: its own route */
    /* legacy off: timer 1's active level moves to its route */
    hwr(fx, HPET_CONF, HPET_ENABLE);
    assert_int_equal(fx->level[LINE_LEG8], 0);
    assert_int_equal(fx->level[21], 1);
    hwr(fx, HPET_ISR, 2);
    assert_int_equal(fx->level[21], 0);
    /* timer 0 again, now on its route */
    hwr(fx, HPET_T0_CMP, 40000);
    run_until(fx, 400000);
    assert_int_equal(fx->edges[20], 1);
    assert_int_equal(fx->edges[LINE_LEG0], 1);
}

static uint32_t in(struct fixture *fx, uint16_t port, unsigned size)
{
    return bus_in(&fx->bus, port, size);
}

static void test_acpi_pm_timer(void **state)
{
    struct fixture *fx = *state;
    fx->t = UPS; /* one second: 3579545 ticks */
    assert_int_equal(in(fx, ACPIPM_TMR, 4), 3579545u);
    fx->t = 5 * (uint64_t)UPS; /* 17897725 = 0x1111AFD: 24 bits wrap */
    assert_int_equal(in(fx, ACPIPM_TMR, 4), 17897725u & 0xFFFFFFu);
    bus_out(&fx->bus, ACPIPM_TMR, 0, 4); /* read-only */
    assert_int_equal(in(fx, ACPIPM_TMR, 4), 17897725u & 0xFFFFFFu);
    /* bit 23 changed since the start: TMR_STS; write 1 clears it */
    assert_int_equal(in(fx, ACPIPM_EVT, 2) & 1, 1);
    bus_out(&fx->bus, ACPIPM_EVT, 1, 2);
    assert_int_equal(in(fx, ACPIPM_EVT, 2) & 1, 0);
    /* SCI_EN reads 1 and stays; PM1_EN is read/write */
    assert_int_equal(in(fx, ACPIPM_CNT, 2), 1);
    bus_out(&fx->bus, ACPIPM_CNT, 0, 2);
    assert_int_equal(in(fx, ACPIPM_CNT, 2), 1);
    bus_out(&fx->bus, ACPIPM_EVT + 2, 0x0121, 2);
    assert_int_equal(in(fx, ACPIPM_EVT + 2, 2), 0x0121);
}

/* ACPI 4.8.3.1, 4.8.3.3: TMR_STS with TMR_EN and SCI_EN holds the SCI (a level) until the
 * status is cleared; the next bit-23 change is a timer-queue deadline only while it matters. */
static void test_acpi_sci(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(fx->level[LINE_SCI], 0);
    assert_int_equal(timerq_deadline(&fx->tq, fx->pm.timer), TIMER_NEVER);
    bus_out(&fx->bus, ACPIPM_EVT + 2, ACPIPM_TMR_STS, 2); /* TMR_EN */
    /* 2^23 ticks at 3579545 Hz: ceil(8388608 * 10^8 / 3579545) device time units */
    uint64_t flip = (8388608ull * UPS + ACPIPM_TIMER_HZ - 1) / ACPIPM_TIMER_HZ;
    assert_int_equal(timerq_deadline(&fx->tq, fx->pm.timer), flip);
    run_until(fx, flip - 1);
    assert_int_equal(fx->level[LINE_SCI], 0);
    run_until(fx, flip);
    assert_int_equal(fx->level[LINE_SCI], 1);
    assert_int_equal(in(fx, ACPIPM_EVT, 2) & 1, 1);
    assert_int_equal(timerq_deadline(&fx->tq, fx->pm.timer), TIMER_NEVER);
    bus_out(&fx->bus, ACPIPM_EVT, ACPIPM_TMR_STS, 2); /* clear the status: the SCI drops */
    assert_int_equal(fx->level[LINE_SCI], 0);
    assert_int_equal(timerq_deadline(&fx->tq, fx->pm.timer),
                     (16777216ull * UPS + ACPIPM_TIMER_HZ - 1) / ACPIPM_TIMER_HZ);
    /* disabled, the status still sets but raises nothing */
    bus_out(&fx->bus, ACPIPM_EVT + 2, 0, 2);
    assert_int_equal(timerq_deadline(&fx->tq, fx->pm.timer), TIMER_NEVER);
    fx->t = 3 * flip;
    assert_int_equal(in(fx, ACPIPM_EVT, 2) & 1, 1);
    assert_int_equal(fx->level[LINE_SCI], 0);
    /* enabling with the status already set raises it at once */
    bus_out(&fx->bus, ACPIPM_EVT + 2, ACPIPM_TMR_STS, 2);
    assert_int_equal(fx->level[LINE_SCI], 1);
    assert_int_equal(fx->edges[LINE_SCI], 2);
}

static uint32_t fw_item(struct fixture *fx, uint16_t key, unsigned len)
{
    bus_out(&fx->bus, FWCFG_PORT_SEL, key, 2);
    uint32_t v = 0;
    for (unsigned k = 0; k < len; k++)
        v |= in(fx, FWCFG_PORT_DATA, 1) << (8 * k);
    return v;
}

static void test_fwcfg(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(fw_item(fx, FWCFG_SIGNATURE, 4), 0x554D4551u); /* "QEMU" */
    assert_int_equal(fw_item(fx, FWCFG_ID, 4), 1);
    assert_int_equal(fw_item(fx, FWCFG_NB_CPUS, 2), 1);
    assert_int_equal(fw_item(fx, FWCFG_MAX_CPUS, 2), 1);
    assert_int_equal(fw_item(fx, FWCFG_RAM_SIZE, 4), 256u << 20);
    assert_int_equal(fw_item(fx, FWCFG_FILE_DIR, 4), 0);
    assert_int_equal(fw_item(fx, 0x1234, 4), 0);
    /* reading on goes past the end (zeros); selecting again rewinds */
    bus_out(&fx->bus, FWCFG_PORT_SEL, FWCFG_SIGNATURE, 2);
    assert_int_equal(in(fx, FWCFG_PORT_DATA, 1), 'Q');
    assert_int_equal(in(fx, FWCFG_PORT_DATA, 1), 'E');
    bus_out(&fx->bus, FWCFG_PORT_SEL, FWCFG_SIGNATURE, 2);
    assert_int_equal(in(fx, FWCFG_PORT_DATA, 1), 'Q');
}

static void test_crtc_and_port92(void **state)
{
    struct fixture *fx = *state;
    /* the cursor location, as xv6's cgaputc reads and writes it */
    bus_out(&fx->bus, CRTC_INDEX, 14, 1);
    bus_out(&fx->bus, CRTC_DATA, 0x07, 1);
    bus_out(&fx->bus, CRTC_INDEX, 15, 1);
    bus_out(&fx->bus, CRTC_DATA, 0xD0, 1);
    bus_out(&fx->bus, CRTC_INDEX, 14, 1);
    assert_int_equal(in(fx, CRTC_INDEX, 1), 14);
    assert_int_equal(in(fx, CRTC_DATA, 1), 0x07);
    bus_out(&fx->bus, CRTC_INDEX, 15, 1);
    assert_int_equal(in(fx, CRTC_DATA, 1), 0xD0);
    /* a word OUT: index in the low byte, data in the high byte */
    bus_out(&fx->bus, CRTC_INDEX, 0x3F0A, 2);
    assert_int_equal(in(fx, CRTC_DATA, 1), 0x3F);
    /* port 0x92: A20 on at reset; the reset bit does not stick */
    assert_int_equal(in(fx, PORT92, 1), 0x02);
    bus_out(&fx->bus, PORT92, 0x03, 1);
    assert_int_equal(in(fx, PORT92, 1), 0x02);
    bus_out(&fx->bus, PORT92, 0x00, 1);
    assert_int_equal(in(fx, PORT92, 1), 0x00);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_hpet_registers_and_counter, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hpet_one_shot_and_periodic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hpet_legacy_replacement, setup, teardown),
        cmocka_unit_test_setup_teardown(test_acpi_sci, setup, teardown),
        cmocka_unit_test_setup_teardown(test_acpi_pm_timer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fwcfg, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crtc_and_port92, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
