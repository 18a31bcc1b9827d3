/* pic8259.c: the 8259A pair as kernels program it (Linux init_8259A, xv6 picinit), EOI,
 * priority and rotation, IRR/ISR reads and polling, the cascade through IRQ 2, spurious IRQ 7,
 * edge triggering. Ports go through a real bus, as the cpu's IN/OUT do. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "devices/bus.h"
#include "devices/pic8259.h"

#define M_CMD 0x20 /* master command (ICW1, OCW2, OCW3; reads IRR/ISR) */
#define M_IMR 0x21 /* master data (ICW2..4, OCW1 = IMR) */
#define S_CMD 0xA0
#define S_IMR 0xA1

#define OCW3_READ_IRR 0x0A
#define OCW3_READ_ISR 0x0B
#define OCW3_POLL     0x0C
#define EOI           0x20 /* non-specific */
#define SEOI(n)       (0x60 | (n)) /* specific EOI for level n */

struct fixture {
    struct bus bus;
    struct pic_pair pic;
    bool intr;
};

/* The pair's INTR output, as the cpu's input (cpu_set_intr) would take it. */
static void intr_line(void *ctx, int irq, bool level)
{
    (void)irq;
    *(bool *)ctx = level;
}

static struct irq_line intr_to(bool *intr)
{
    return (struct irq_line){ intr_line, NULL, intr, 0 };
}

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    if (!fx)
        return -1;
    bus_init(&fx->bus);
    pic_init(&fx->pic, intr_to(&fx->intr));
    *state = fx;
    return pic_attach(&fx->pic, &fx->bus);
}

static int teardown(void **state)
{
    free(*state);
    return 0;
}

static void out8(struct fixture *fx, uint16_t port, uint8_t v)
{
    bus_out(&fx->bus, port, v, 1);
}

static uint8_t in8(struct fixture *fx, uint16_t port)
{
    return (uint8_t)bus_in(&fx->bus, port, 1);
}

/* Linux arch/x86/kernel/i8259.c init_8259A(auto_eoi = 0), with the vector bases of the
 * classic kernels (0x20/0x28), then the masks it restores: everything masked but the cascade
 * and the lines in `master` / `slave`. */
static void linux_init(struct fixture *fx, uint8_t master_mask, uint8_t slave_mask)
{
    out8(fx, M_IMR, 0xFF); /* mask all of 8259A-1 */
    out8(fx, S_IMR, 0xFF); /* mask all of 8259A-2 */
    out8(fx, M_CMD, 0x11); /* ICW1: edge, cascade, ICW4 follows */
    out8(fx, M_IMR, 0x20); /* ICW2: IR0-7 -> 0x20-0x27 */
    out8(fx, M_IMR, 0x04); /* ICW3: slave on IR2 */
    out8(fx, M_IMR, 0x01); /* ICW4: 8086 mode, normal EOI */
    out8(fx, S_CMD, 0x11);
    out8(fx, S_IMR, 0x28); /* IR0-7 -> 0x28-0x2F */
    out8(fx, S_IMR, 0x02); /* slave identity 2 */
    out8(fx, S_IMR, 0x01);
    out8(fx, M_IMR, master_mask);
    out8(fx, S_IMR, slave_mask);
}

static uint8_t read_isr(struct fixture *fx, uint16_t cmd)
{
    out8(fx, cmd, OCW3_READ_ISR);
    uint8_t v = in8(fx, cmd);
    out8(fx, cmd, OCW3_READ_IRR);
    return v;
}

static void power_on_state(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(in8(fx, M_IMR), 0xFF);
    assert_int_equal(in8(fx, S_IMR), 0xFF);
    assert_int_equal(in8(fx, M_CMD), 0); /* IRR */
    pic_pulse_irq(&fx->pic, 0);
    assert_int_equal(in8(fx, M_CMD), 0x01); /* requested, but masked */
    assert_false(fx->intr);
}

static void linux_init_8259A(void **state)
{
    struct fixture *fx = *state;
    linux_init(fx, 0xFA, 0xFF); /* IRQ 0 and the cascade (IRQ 2) open */
    assert_int_equal(in8(fx, M_IMR), 0xFA);
    assert_int_equal(in8(fx, S_IMR), 0xFF);
    assert_false(fx->intr);
    pic_pulse_irq(&fx->pic, 0);
    assert_true(fx->intr);
    assert_int_equal(pic_ack(&fx->pic), 0x20);
    assert_false(fx->intr);
    assert_int_equal(read_isr(fx, M_CMD), 0x01);
    /* Linux's mask_and_ack_8259A: mask, specific EOI (0x60 + irq). */
    out8(fx, M_IMR, 0xFB);
    out8(fx, M_CMD, SEOI(0));
    assert_int_equal(read_isr(fx, M_CMD), 0);
    out8(fx, M_IMR, 0xFA);
    assert_false(fx->intr);

    /* ICW1 cleared the IMR, as the data sheet says; kernels mask before and restore after. */
    out8(fx, M_CMD, 0x11);
    out8(fx, M_IMR, 0x20);
    out8(fx, M_IMR, 0x04);
    out8(fx, M_IMR, 0x01);
    assert_int_equal(in8(fx, M_IMR), 0x00);
}

/* xv6 picirq.c picinit(): ICW4 = 0x03 (automatic EOI) on both chips, OCW3 0x68 (clear special
 * mask) and 0x0A (read IRR), then picsetmask(~(1 << IRQ_SLAVE) & ~(1 << IRQ_TIMER)). */
static void xv6_picinit_auto_eoi(void **state)
{
    struct fixture *fx = *state;
    out8(fx, M_IMR, 0xFF);
    out8(fx, S_IMR, 0xFF);
    out8(fx, M_CMD, 0x11);
    out8(fx, M_IMR, 32);
    out8(fx, M_IMR, 1 << 2);
    out8(fx, M_IMR, 0x3);
    out8(fx, S_CMD, 0x11);
    out8(fx, S_IMR, 32 + 8);
    out8(fx, S_IMR, 2);
    out8(fx, S_IMR, 0x3);
    out8(fx, M_CMD, 0x68);
    out8(fx, M_CMD, 0x0a);
    out8(fx, S_CMD, 0x68);
    out8(fx, S_CMD, 0x0a);
    out8(fx, M_IMR, (uint8_t)~((1 << 2) | (1 << 0)));
    out8(fx, S_IMR, 0xFF);

    pic_pulse_irq(&fx->pic, 0);
    assert_int_equal(pic_ack(&fx->pic), 32);
    assert_int_equal(read_isr(fx, M_CMD), 0); /* AEOI: nothing stays in service */
    pic_pulse_irq(&fx->pic, 0);
    assert_true(fx->intr); /* so the next tick is taken without an EOI */
    assert_int_equal(pic_ack(&fx->pic), 32);
    /* Through the slave, also AEOI (IRQ 14, the disk, as xv6 enables it). */
    out8(fx, S_IMR, (uint8_t)~(1 << 6));
    pic_pulse_irq(&fx->pic, 14);
    assert_int_equal(pic_ack(&fx->pic), 32 + 14);
    assert_int_equal(read_isr(fx, M_CMD), 0);
    assert_int_equal(read_isr(fx, S_CMD), 0);
    assert_false(fx->intr);
}

static void specific_and_non_specific_eoi(void **state)
{
    struct fixture *fx = *state;
    linux_init(fx, 0x00, 0xFF);
    pic_pulse_irq(&fx->pic, 3);
    assert_int_equal(pic_ack(&fx->pic), 0x23);
    pic_pulse_irq(&fx->pic, 1); /* higher priority: nests */
    assert_int_equal(pic_ack(&fx->pic), 0x21);
    assert_int_equal(read_isr(fx, M_CMD), 0x0A);
    out8(fx, M_CMD, EOI); /* non-specific: the highest in service, IRQ 1 */
    assert_int_equal(read_isr(fx, M_CMD), 0x08);
    out8(fx, M_CMD, SEOI(5)); /* specific EOI of a level not in service: no change */
    assert_int_equal(read_isr(fx, M_CMD), 0x08);
    out8(fx, M_CMD, SEOI(3));
    assert_int_equal(read_isr(fx, M_CMD), 0x00);
}

static void priority_nesting(void **state)
{
    struct fixture *fx = *state;
    linux_init(fx, 0x00, 0xFF);
    pic_pulse_irq(&fx->pic, 3);
    assert_int_equal(pic_ack(&fx->pic), 0x23);
    /* A lower-priority request waits for the EOI of the one in service ... */
    pic_pulse_irq(&fx->pic, 5);
    assert_false(fx->intr);
    /* ... and so does one of the same level ... */
    pic_pulse_irq(&fx->pic, 3);
    assert_false(fx->intr);
    /* ... but a higher-priority one preempts it. */
    pic_pulse_irq(&fx->pic, 0);
    assert_true(fx->intr);
    assert_int_equal(pic_ack(&fx->pic), 0x20);
    assert_false(fx->intr);
    out8(fx, M_CMD, EOI); /* IRQ 0 done: 3 is still in service, 3 and 5 wait */
    assert_false(fx->intr);
    out8(fx, M_CMD, EOI); /* IRQ 3 done: the second 3 comes first, then 5 */
    assert_true(fx->intr);
    assert_int_equal(pic_ack(&fx->pic), 0x23);
    out8(fx, M_CMD, EOI);
    assert_int_equal(pic_ack(&fx->pic), 0x25);
    out8(fx, M_CMD, EOI);
    assert_false(fx->intr);
    /* A masked request does not raise INTR and does not block a lower one. */
    out8(fx, M_IMR, 0x01);
    pic_pulse_irq(&fx->pic, 0);
    pic_pulse_irq(&fx->pic, 4);
    assert_int_equal(pic_ack(&fx->pic), 0x24);
}

static void rotation(void **state)
{
    struct fixture *fx = *state;
    linux_init(fx, 0x00, 0xFF);
    /* Rotate on non-specific EOI (OCW2 0xA0): the level served becomes the lowest. */
    pic_pulse_irq(&fx->pic, 0);
    assert_int_equal(pic_ack(&fx->pic), 0x20);
    out8(fx, M_CMD, 0xA0);
    pic_pulse_irq(&fx->pic, 0);
    pic_pulse_irq(&fx->pic, 7);
    assert_int_equal(pic_ack(&fx->pic), 0x27); /* 7 now outranks 0 */
    out8(fx, M_CMD, EOI);
    assert_int_equal(pic_ack(&fx->pic), 0x20);
    out8(fx, M_CMD, EOI);
    /* Set priority (OCW2 0xC0 | L): L lowest, L + 1 highest. */
    out8(fx, M_CMD, 0xC4);
    pic_pulse_irq(&fx->pic, 3);
    pic_pulse_irq(&fx->pic, 6);
    assert_int_equal(pic_ack(&fx->pic), 0x26);
    /* With 6 in service, 3 (priority 5, 6 has 1) is lower: it waits. */
    assert_false(fx->intr);
    /* Rotate on specific EOI (0xE0 | L): EOI of 6, and 6 becomes the lowest. */
    out8(fx, M_CMD, 0xE6);
    assert_int_equal(read_isr(fx, M_CMD), 0);
    pic_pulse_irq(&fx->pic, 6);
    assert_int_equal(pic_ack(&fx->pic), 0x23); /* order now 7, 0, 1, 2, 3, ..., 6 */
    out8(fx, M_CMD, EOI);
    assert_int_equal(pic_ack(&fx->pic), 0x26);
}

static void irr_isr_reads_and_poll(void **state)
{
    struct fixture *fx = *state;
    linux_init(fx, 0xFF, 0xFF);
    pic_pulse_irq(&fx->pic, 1);
    pic_pulse_irq(&fx->pic, 6);
    out8(fx, M_CMD, OCW3_READ_IRR);
    assert_int_equal(in8(fx, M_CMD), 0x42); /* IRR shows masked requests too */
    out8(fx, M_CMD, OCW3_READ_ISR);
    assert_int_equal(in8(fx, M_CMD), 0x00);
    assert_int_equal(in8(fx, M_CMD), 0x00); /* the choice sticks */
    out8(fx, M_CMD, 0x08); /* OCW3 with RR = 0: no change */
    assert_int_equal(in8(fx, M_CMD), 0x00);
    assert_int_equal(in8(fx, M_IMR), 0xFF); /* the data port reads the IMR */
    /* Poll: the next read of the command port acknowledges the highest request. */
    out8(fx, M_IMR, 0x00);
    out8(fx, M_CMD, OCW3_POLL);
    assert_int_equal(in8(fx, M_CMD), 0x81);
    assert_int_equal(in8(fx, M_CMD), 0x02); /* poll is one-shot: ISR read again */
    out8(fx, M_CMD, EOI);
    out8(fx, M_CMD, OCW3_POLL);
    assert_int_equal(in8(fx, M_CMD), 0x86);
    out8(fx, M_CMD, EOI);
    out8(fx, M_CMD, OCW3_POLL);
    assert_int_equal(in8(fx, M_CMD), 0x00); /* nothing pending */
}

static void cascade_through_irq2(void **state)
{
    struct fixture *fx = *state;
    linux_init(fx, 0xFB, 0xFF); /* only the cascade open on the master */
    pic_pulse_irq(&fx->pic, 12);
    assert_false(fx->intr); /* masked on the slave */
    out8(fx, S_IMR, (uint8_t)~(1 << 4));
    assert_true(fx->intr);
    assert_int_equal(pic_ack(&fx->pic), 0x2C);
    assert_int_equal(read_isr(fx, M_CMD), 0x04);
    assert_int_equal(read_isr(fx, S_CMD), 0x10);
    /* Another slave request waits: IR2 is in service on the master. */
    out8(fx, S_IMR, 0x00);
    pic_pulse_irq(&fx->pic, 8);
    assert_false(fx->intr);
    /* Linux: EOI the slave, then the cascade on the master. */
    out8(fx, S_CMD, SEOI(4));
    assert_false(fx->intr);
    out8(fx, M_CMD, SEOI(2));
    assert_true(fx->intr);
    assert_int_equal(pic_ack(&fx->pic), 0x28);
    out8(fx, S_CMD, EOI);
    out8(fx, M_CMD, EOI);
    assert_false(fx->intr);
    /* The master's IR2 mask closes the whole slave. */
    out8(fx, M_IMR, 0xFF);
    pic_pulse_irq(&fx->pic, 9);
    assert_false(fx->intr);
    out8(fx, M_IMR, 0xFB);
    assert_int_equal(pic_ack(&fx->pic), 0x29);
}

static void spurious_irq7(void **state)
{
    struct fixture *fx = *state;
    linux_init(fx, 0x00, 0xFF);
    pic_pulse_irq(&fx->pic, 1);
    assert_true(fx->intr);
    /* The request is masked between INTR and the acknowledge cycle. */
    out8(fx, M_IMR, 0x02);
    assert_false(fx->intr);
    assert_int_equal(pic_ack(&fx->pic), 0x27);
    /* Linux's check (i8259A_irq_real): a real IRQ 7 would be in the ISR; a spurious one is
     * not, and must not get an EOI. */
    assert_int_equal(read_isr(fx, M_CMD) & 0x80, 0);
    out8(fx, M_IMR, 0x00);
    assert_int_equal(pic_ack(&fx->pic), 0x21); /* IRQ 1 is still requested */
    out8(fx, M_CMD, EOI);
    /* A real IRQ 7 is in service. */
    pic_pulse_irq(&fx->pic, 7);
    assert_int_equal(pic_ack(&fx->pic), 0x27);
    assert_int_equal(read_isr(fx, M_CMD), 0x80);
}

static void edge_triggered_inputs(void **state)
{
    struct fixture *fx = *state;
    linux_init(fx, 0x00, 0xFF);
    pic_set_irq(&fx->pic, 4, true);
    assert_int_equal(pic_ack(&fx->pic), 0x24);
    out8(fx, M_CMD, EOI);
    assert_false(fx->intr); /* the line is still high, but there was no new edge */
    pic_set_irq(&fx->pic, 4, true);
    assert_false(fx->intr);
    pic_set_irq(&fx->pic, 4, false);
    pic_set_irq(&fx->pic, 4, true);
    assert_true(fx->intr);
    assert_int_equal(pic_ack(&fx->pic), 0x24);
    /* Two pairs are independent. */
    struct pic_pair other;
    bool intr2 = false;
    pic_init(&other, intr_to(&intr2));
    pic_pulse_irq(&other, 0);
    assert_false(intr2); /* masked at power-on */
    assert_false(fx->intr);
}

static void auto_eoi_rotation(void **state)
{
    struct fixture *fx = *state;
    out8(fx, M_CMD, 0x11);
    out8(fx, M_IMR, 0x20);
    out8(fx, M_IMR, 0x04);
    out8(fx, M_IMR, 0x03); /* AEOI */
    out8(fx, M_CMD, 0x80); /* rotate in AEOI mode: set */
    pic_pulse_irq(&fx->pic, 1);
    assert_int_equal(pic_ack(&fx->pic), 0x21);
    pic_pulse_irq(&fx->pic, 1);
    pic_pulse_irq(&fx->pic, 5);
    assert_int_equal(pic_ack(&fx->pic), 0x25); /* 1 became the lowest */
    out8(fx, M_CMD, 0x00); /* rotate in AEOI mode: clear */
    pic_pulse_irq(&fx->pic, 5);
    assert_int_equal(pic_ack(&fx->pic), 0x21); /* order stays 6, 7, 0, 1, ..., 5 */
    assert_int_equal(pic_ack(&fx->pic), 0x25);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(power_on_state, setup, teardown),
        cmocka_unit_test_setup_teardown(linux_init_8259A, setup, teardown),
        cmocka_unit_test_setup_teardown(xv6_picinit_auto_eoi, setup, teardown),
        cmocka_unit_test_setup_teardown(specific_and_non_specific_eoi, setup, teardown),
        cmocka_unit_test_setup_teardown(priority_nesting, setup, teardown),
        cmocka_unit_test_setup_teardown(rotation, setup, teardown),
        cmocka_unit_test_setup_teardown(irr_isr_reads_and_poll, setup, teardown),
        cmocka_unit_test_setup_teardown(cascade_through_irq2, setup, teardown),
        cmocka_unit_test_setup_teardown(spurious_irq7, setup, teardown),
        cmocka_unit_test_setup_teardown(edge_triggered_inputs, setup, teardown),
        cmocka_unit_test_setup_teardown(auto_eoi_rotation, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
