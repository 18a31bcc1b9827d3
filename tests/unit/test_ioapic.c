/* ioapic.c against the Intel 82093AA I/O APIC data sheet (3.2, 3.2.4): IOREGSEL/IOWIN through
 * the MMIO bus, the ID, version and arbitration registers, the redirection entries' reset value
 * and read-only bits, masking, edge- and level-triggered inputs with remote IRR and the EOI
 * that clears it, active-low polarity, and what a message carries (destination, vector,
 * trigger, pin). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "devices/bus.h"
#include "devices/ioapic.h"

struct msg {
    uint8_t dest, vector;
    bool logical, level;
    unsigned pin;
};

struct fixture {
    struct bus bus;
    struct ioapic io;
    struct msg m[16];
    int n;
    int nmis;
    unsigned nmi_pin, nmi_dest;
};

static void nmi_seen(void *ctx, uint8_t dest, bool logical, unsigned pin)
{
    struct fixture *fx = ctx;
    (void)logical;
    fx->nmis++;
    fx->nmi_pin = pin;
    fx->nmi_dest = dest;
}

static void deliver(void *ctx, uint8_t dest, bool logical, uint8_t vector, bool level,
                    unsigned pin)
{
    struct fixture *fx = ctx;
    if (fx->n < 16)
        fx->m[fx->n++] = (struct msg){ dest, vector, logical, level, pin };
}

static uint32_t rd(struct fixture *fx, uint32_t index)
{
    bus_mmio_write(&fx->bus, IOAPIC_BASE, index, 4);
    return bus_mmio_read(&fx->bus, IOAPIC_BASE + 0x10, 4);
}

static void wr(struct fixture *fx, uint32_t index, uint32_t v)
{
    bus_mmio_write(&fx->bus, IOAPIC_BASE, index, 4);
    bus_mmio_write(&fx->bus, IOAPIC_BASE + 0x10, v, 4);
}

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    if (!fx)
        return -1;
    bus_init(&fx->bus);
    ioapic_init(&fx->io, deliver, fx);
    fx->io.nmi = nmi_seen;
    if (ioapic_attach(&fx->io, &fx->bus) < 0)
        return -1;
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    free(*state);
    return 0;
}

/* 3.2.1-3.2.3: ID (bits 27..24 writable), version 0x11 with 23 in bits 23..16 (read-only),
 * arbitration ID; 3.2.4: every entry masked at reset. */
static void test_registers(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(rd(fx, 0x00), 0);
    wr(fx, 0x00, 0xFFFFFFFF);
    assert_int_equal(rd(fx, 0x00), 0x0F000000u);
    assert_int_equal(rd(fx, 0x02), 0x0F000000u);
    assert_int_equal(rd(fx, 0x01), 0x00170011u);
    wr(fx, 0x01, 0);
    assert_int_equal(rd(fx, 0x01), 0x00170011u);
    for (unsigned n = 0; n < IOAPIC_PINS; n++) {
        assert_int_equal(rd(fx, 0x10 + 2 * n), IOREDTBL_MASKED);
        assert_int_equal(rd(fx, 0x11 + 2 * n), 0);
    }
    /* IOREGSEL reads back; an index past the table reads 0 */
    bus_mmio_write(&fx->bus, IOAPIC_BASE, 0x3F, 4);
    assert_int_equal(bus_mmio_read(&fx->bus, IOAPIC_BASE, 4), 0x3F);
    assert_int_equal(bus_mmio_read(&fx->bus, IOAPIC_BASE + 0x10, 4), 0);
    /* delivery status (12) and remote IRR (14) are read-only; destination is bits 63..56 */
    wr(fx, 0x10, 0xFFFFFFFF);
    assert_int_equal(rd(fx, 0x10), 0x0001AFFFu);
    wr(fx, 0x11, 0xFFFFFFFF);
    assert_int_equal(rd(fx, 0x11), 0xFF000000u);
}

static void test_edge(void **state)
{
    struct fixture *fx = *state;
    struct irq_line pin4 = ioapic_input(&fx->io, 4);
    irq_pulse(&pin4);
    assert_int_equal(fx->n, 0); /* masked: lost */
    assert_false(irq_unmasked(&pin4));
    wr(fx, 0x18, 0x24);          /* pin 4: vector 0x24, fixed, physical, edge, high */
    wr(fx, 0x19, 0x00000000);
    assert_true(irq_unmasked(&pin4));
    irq_set(&pin4, true);
    irq_set(&pin4, true);        /* no new edge */
    assert_int_equal(fx->n, 1);
    assert_int_equal(fx->m[0].vector, 0x24);
    assert_int_equal(fx->m[0].pin, 4);
    assert_false(fx->m[0].level);
    assert_int_equal(fx->m[0].dest, 0);
    irq_set(&pin4, false);
    irq_set(&pin4, true);
    assert_int_equal(fx->n, 2);
    assert_int_equal(rd(fx, 0x18) & IOREDTBL_REMOTEIRR, 0); /* edge: no remote IRR */
    /* unmasking an edge input that is already high sends nothing */
    wr(fx, 0x1A, IOREDTBL_MASKED | 0x25);
    struct irq_line pin5 = ioapic_input(&fx->io, 5);
    irq_set(&pin5, true);
    wr(fx, 0x1A, 0x25);
    assert_int_equal(fx->n, 2);
    /* logical destination */
    wr(fx, 0x1D, 0x03000000);
    wr(fx, 0x1C, IOREDTBL_LOGICAL | 0x26);
    ioapic_set_irq(&fx->io, 6, true);
    assert_int_equal(fx->n, 3);
    assert_true(fx->m[2].logical);
    assert_int_equal(fx->m[2].dest, 3);
}

static void test_level_remote_irr(void **state)
{
    struct fixture *fx = *state;
    wr(fx, 0x22, IOREDTBL_LEVEL | 0x39); /* pin 9 */
    ioapic_set_irq(&fx->io, 9, true);
    assert_int_equal(fx->n, 1);
    assert_true(fx->m[0].level);
    assert_int_equal(rd(fx, 0x22) & IOREDTBL_REMOTEIRR, IOREDTBL_REMOTEIRR);
    ioapic_set_irq(&fx->io, 9, true);
    assert_int_equal(fx->n, 1);  /* waits for the EOI */
    ioapic_eoi(&fx->io, 0x38);   /* another vector: nothing */
    assert_int_equal(fx->n, 1);
    ioapic_eoi(&fx->io, 0x39);   /* still asserted: sent again */
    assert_int_equal(fx->n, 2);
    ioapic_set_irq(&fx->io, 9, false);
    ioapic_eoi(&fx->io, 0x39);
    assert_int_equal(fx->n, 2);
    assert_int_equal(rd(fx, 0x22) & IOREDTBL_REMOTEIRR, 0);
    /* masked while asserted; unmasking sends it */
    wr(fx, 0x22, IOREDTBL_MASKED | IOREDTBL_LEVEL | 0x39);
    ioapic_set_irq(&fx->io, 9, true);
    assert_int_equal(fx->n, 2);
    wr(fx, 0x22, IOREDTBL_LEVEL | 0x39);
    assert_int_equal(fx->n, 3);
}

static void test_active_low(void **state)
{
    struct fixture *fx = *state;
    wr(fx, 0x24, IOREDTBL_LEVEL | IOREDTBL_LOW | 0x3A); /* pin 10, active low */
    assert_int_equal(fx->n, 1); /* the input is low = asserted */
    ioapic_eoi(&fx->io, 0x3A);
    assert_int_equal(fx->n, 2);
    ioapic_set_irq(&fx->io, 10, true);   /* deasserted */
    ioapic_eoi(&fx->io, 0x3A);
    assert_int_equal(fx->n, 2);
    /* the fixed and lowest-priority modes are sent; NMI, INIT, ExtINT are not modelled */
    wr(fx, 0x26, 0x0100 | 0x3B);          /* pin 11, lowest priority */
    ioapic_set_irq(&fx->io, 11, true);
    assert_int_equal(fx->n, 3);
    wr(fx, 0x28, 0x0400 | 0x3C);          /* pin 12, NMI */
    ioapic_set_irq(&fx->io, 12, true);
    assert_int_equal(fx->n, 3);
}

/* 3.2.4: delivery mode NMI (100b): an NMI message at each asserting edge while unmasked, the
 * vector ignored, no fixed message, no remote IRR even when the entry says level. */
static void test_nmi_mode(void **state)
{
    struct fixture *fx = *state;
    struct irq_line pin7 = ioapic_input(&fx->io, 7);
    wr(fx, 0x1F, 0x00000000);
    wr(fx, 0x1E, IOREDTBL_MASKED | IOREDTBL_LEVEL | 0x400);
    irq_pulse(&pin7);
    assert_int_equal(fx->nmis, 0);
    wr(fx, 0x1E, IOREDTBL_LEVEL | 0x400);
    irq_set(&pin7, true);
    irq_set(&pin7, true);
    assert_int_equal(fx->nmis, 1);
    assert_int_equal(fx->nmi_pin, 7);
    assert_int_equal(fx->nmi_dest, 0);
    assert_int_equal(rd(fx, 0x1E) & IOREDTBL_REMOTEIRR, 0);
    irq_set(&pin7, false);
    irq_set(&pin7, true);
    assert_int_equal(fx->nmis, 2);
    assert_int_equal(fx->n, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_registers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_edge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_level_remote_irr, setup, teardown),
        cmocka_unit_test_setup_teardown(test_active_low, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nmi_mode, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
