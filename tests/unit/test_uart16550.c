/* uart16550.c: the register set a polling driver uses, FIFO, loopback, interrupt identification,
 * and whether a received byte could end a halt. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "devices/bus.h"
#include "devices/uart16550.h"

struct sink {
    char text[256];
    size_t n;
    int irq_changes;
    bool irq;
    bool unmasked; /* what the controller answers for the line */
};

static void sink_out(void *ctx, uint8_t byte)
{
    struct sink *s = ctx;
    if (s->n + 1 < sizeof(s->text))
        s->text[s->n++] = (char)byte;
}

static bool sink_unmasked(void *ctx, int irq)
{
    assert_int_equal(irq, UART_COM1_IRQ);
    return ((struct sink *)ctx)->unmasked;
}

static void sink_irq(void *ctx, int irq, bool level)
{
    assert_int_equal(irq, UART_COM1_IRQ);
    struct sink *s = ctx;
    s->irq_changes++;
    s->irq = level;
}

struct fixture {
    struct bus bus;
    struct uart16550 u;
    struct sink sink;
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    if (!fx)
        return -1;
    bus_init(&fx->bus);
    uart16550_init(&fx->u, sink_out, &fx->sink);
    uart16550_set_irq(&fx->u, (struct irq_line){ sink_irq, sink_unmasked, &fx->sink,
                                                 UART_COM1_IRQ });
    *state = fx;
    return uart16550_attach(&fx->u, &fx->bus, UART_COM1_BASE);
}

static int teardown(void **state)
{
    free(*state);
    return 0;
}

static uint8_t in8(struct fixture *fx, unsigned off)
{
    return (uint8_t)bus_in(&fx->bus, (uint16_t)(UART_COM1_BASE + off), 1);
}

static void out8(struct fixture *fx, unsigned off, uint8_t v)
{
    bus_out(&fx->bus, (uint16_t)(UART_COM1_BASE + off), v, 1);
}

static void reset_state(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(in8(fx, UART_LSR), UART_LSR_THRE | UART_LSR_TEMT);
    assert_int_equal(in8(fx, UART_IIR), UART_IIR_NO_INT);
    assert_int_equal(in8(fx, UART_IER), 0);
    assert_int_equal(in8(fx, UART_LCR), 0);
    assert_int_equal(in8(fx, UART_MCR), 0);
    assert_int_equal(in8(fx, UART_MSR), UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS);
    assert_int_equal(in8(fx, UART_RBR), 0);
    assert_false(fx->u.irq_level);
}

static void transmit_goes_to_output(void **state)
{
    struct fixture *fx = *state;
    const char *msg = "hi\n";
    for (const char *p = msg; *p; p++) {
        assert_true(in8(fx, UART_LSR) & UART_LSR_THRE);
        out8(fx, UART_THR, (uint8_t)*p);
    }
    assert_string_equal(fx->sink.text, "hi\n");
    assert_int_equal(in8(fx, UART_LSR) & (UART_LSR_THRE | UART_LSR_TEMT),
                     UART_LSR_THRE | UART_LSR_TEMT);
}

static void osdev_init_sequence(void **state)
{
    /* The usual polling-driver init: 38400 baud 8N1, FIFO on, loopback self-test, normal. */
    struct fixture *fx = *state;
    out8(fx, UART_IER, 0x00);
    out8(fx, UART_LCR, UART_LCR_DLAB);
    out8(fx, UART_DLL, 0x03);
    out8(fx, UART_DLM, 0x00);
    assert_int_equal(fx->u.divisor, 3);
    assert_int_equal(in8(fx, UART_DLL), 3);
    assert_int_equal(in8(fx, UART_DLM), 0);
    out8(fx, UART_LCR, 0x03);
    assert_int_equal(in8(fx, UART_LCR), 0x03);
    assert_int_equal(in8(fx, UART_IER), 0); /* the divisor write did not touch IER */
    out8(fx, UART_FCR, 0xC7);
    assert_int_equal(in8(fx, UART_IIR), UART_IIR_FIFO | UART_IIR_NO_INT);
    out8(fx, UART_MCR, 0x0B);
    out8(fx, UART_MCR, 0x1E); /* loopback */
    out8(fx, UART_THR, 0xAE);
    assert_int_equal(fx->sink.n, 0); /* nothing left the chip */
    assert_true(in8(fx, UART_LSR) & UART_LSR_DR);
    assert_int_equal(in8(fx, UART_RBR), 0xAE);
    assert_false(in8(fx, UART_LSR) & UART_LSR_DR);
    out8(fx, UART_MCR, 0x0F);
    out8(fx, UART_THR, 'x');
    assert_int_equal(fx->sink.n, 1);
    assert_int_equal(fx->sink.text[0], 'x');
}

static void scratch_register(void **state)
{
    struct fixture *fx = *state;
    out8(fx, UART_SCR, 0x5A);
    assert_int_equal(in8(fx, UART_SCR), 0x5A);
    out8(fx, UART_LSR, 0x00); /* read-only: ignored */
    assert_int_equal(in8(fx, UART_LSR), UART_LSR_THRE | UART_LSR_TEMT);
}

static void receive_fifo_and_overrun(void **state)
{
    struct fixture *fx = *state;
    out8(fx, UART_FCR, UART_FCR_ENABLE);
    for (int i = 0; i < UART_FIFO_SIZE; i++)
        assert_true(uart16550_receive(&fx->u, (uint8_t)('a' + i)));
    assert_false(uart16550_receive(&fx->u, '!'));
    uint8_t lsr = in8(fx, UART_LSR);
    assert_true(lsr & UART_LSR_DR);
    assert_true(lsr & UART_LSR_OE);
    assert_false(in8(fx, UART_LSR) & UART_LSR_OE); /* cleared by the read */
    for (int i = 0; i < UART_FIFO_SIZE; i++)
        assert_int_equal(in8(fx, UART_RBR), 'a' + i);
    assert_false(in8(fx, UART_LSR) & UART_LSR_DR);

    /* FCR clear-RX empties the FIFO. */
    uart16550_receive(&fx->u, '1');
    out8(fx, UART_FCR, UART_FCR_ENABLE | UART_FCR_CLEAR_RX);
    assert_false(in8(fx, UART_LSR) & UART_LSR_DR);
}

static void without_fifo_one_byte_holds(void **state)
{
    struct fixture *fx = *state;
    assert_true(uart16550_receive(&fx->u, '1'));
    assert_false(uart16550_receive(&fx->u, '2'));
    assert_int_equal(in8(fx, UART_RBR), '1');
}

static void interrupt_identification(void **state)
{
    struct fixture *fx = *state;
    out8(fx, UART_IER, UART_IER_THRI);
    assert_true(fx->u.irq_level);
    assert_true(fx->sink.irq);
    assert_int_equal(in8(fx, UART_IIR), UART_IIR_THRI);
    assert_int_equal(in8(fx, UART_IIR), UART_IIR_NO_INT); /* reading IIR acknowledged it */
    assert_false(fx->sink.irq);
    out8(fx, UART_THR, 'z');
    assert_int_equal(in8(fx, UART_IIR), UART_IIR_THRI);

    out8(fx, UART_IER, UART_IER_THRI | UART_IER_RDI);
    uart16550_receive(&fx->u, 'q');
    assert_int_equal(in8(fx, UART_IIR), UART_IIR_RDI); /* data beats THRE */
    assert_int_equal(in8(fx, UART_RBR), 'q');
    assert_int_equal(in8(fx, UART_IIR), UART_IIR_NO_INT); /* THRE was acknowledged above */

    out8(fx, UART_IER, UART_IER_RLSI);
    uart16550_receive(&fx->u, '1');
    uart16550_receive(&fx->u, '2'); /* overrun without FIFO */
    assert_int_equal(in8(fx, UART_IIR), UART_IIR_RLSI);
    in8(fx, UART_LSR);
    assert_int_equal(in8(fx, UART_IIR), UART_IIR_NO_INT);
}

static void loopback_modem_lines(void **state)
{
    struct fixture *fx = *state;
    in8(fx, UART_MSR);
    out8(fx, UART_MCR, UART_MCR_LOOP | UART_MCR_RTS | UART_MCR_OUT2);
    uint8_t msr = in8(fx, UART_MSR);
    assert_int_equal(msr & 0xF0, UART_MSR_CTS | UART_MSR_DCD);
    assert_true(msr & UART_MSR_DDSR); /* DSR dropped */
    assert_int_equal(in8(fx, UART_MSR) & 0x0F, 0); /* deltas cleared by the read */
    out8(fx, UART_MCR, UART_MCR_LOOP | UART_MCR_OUT1);
    out8(fx, UART_MCR, UART_MCR_LOOP);
    assert_true(in8(fx, UART_MSR) & UART_MSR_TERI);
}

static void wide_access_is_bytewise(void **state)
{
    struct fixture *fx = *state;
    /* A 16-bit read of LSR (0x3FD) and MSR (0x3FE). */
    uint32_t v = bus_in(&fx->bus, UART_COM1_BASE + UART_LSR, 2);
    assert_int_equal(v & 0xFF, UART_LSR_THRE | UART_LSR_TEMT);
    assert_int_equal(v >> 8, UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS);
    /* Past the last port (0x3FF) lies nothing. */
    assert_int_equal(bus_in(&fx->bus, UART_COM1_BASE + 7, 2) >> 8, 0xFF);
    bus_out(&fx->bus, UART_COM1_BASE, 'A' | ('B' << 8), 2); /* THR then IER */
    assert_int_equal(fx->sink.text[0], 'A');
    assert_int_equal(in8(fx, UART_IER), 'B' & 0x0F);
}

/* A received byte can end a halt only if it raises the interrupt (IER.RDI) and the line is
 * unmasked at its controller; the other interrupt sources do not count. */
static void receive_can_wake(void **state)
{
    struct fixture *fx = *state;
    assert_false(uart16550_receive_can_wake(&fx->u));
    fx->sink.unmasked = true;
    assert_false(uart16550_receive_can_wake(&fx->u));
    out8(fx, UART_IER, UART_IER_THRI | UART_IER_RLSI | UART_IER_MSI);
    assert_false(uart16550_receive_can_wake(&fx->u));
    out8(fx, UART_IER, UART_IER_RDI);
    assert_true(uart16550_receive_can_wake(&fx->u));
    fx->sink.unmasked = false;
    assert_false(uart16550_receive_can_wake(&fx->u));
    /* Not connected at all: nothing to wake. */
    struct uart16550 other;
    uart16550_init(&other, NULL, NULL);
    uart16550_write(&other, UART_IER, UART_IER_RDI);
    assert_false(uart16550_receive_can_wake(&other));
}

static void ports_cannot_be_claimed_twice(void **state)
{
    struct fixture *fx = *state;
    struct uart16550 other;
    uart16550_init(&other, NULL, NULL);
    assert_int_equal(uart16550_attach(&other, &fx->bus, UART_COM1_BASE + 4), -1);
    assert_int_equal(uart16550_attach(&other, &fx->bus, 0xFFFC), -1);
    assert_int_equal(uart16550_attach(&other, &fx->bus, 0x2F8), 0);
    bus_out(&fx->bus, 0x2F8, 'x', 1); /* no output callback: dropped */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(reset_state, setup, teardown),
        cmocka_unit_test_setup_teardown(transmit_goes_to_output, setup, teardown),
        cmocka_unit_test_setup_teardown(osdev_init_sequence, setup, teardown),
        cmocka_unit_test_setup_teardown(scratch_register, setup, teardown),
        cmocka_unit_test_setup_teardown(receive_fifo_and_overrun, setup, teardown),
        cmocka_unit_test_setup_teardown(without_fifo_one_byte_holds, setup, teardown),
        cmocka_unit_test_setup_teardown(interrupt_identification, setup, teardown),
        cmocka_unit_test_setup_teardown(loopback_modem_lines, setup, teardown),
        cmocka_unit_test_setup_teardown(wide_access_is_bytewise, setup, teardown),
        cmocka_unit_test_setup_teardown(ports_cannot_be_claimed_twice, setup, teardown),
        cmocka_unit_test_setup_teardown(receive_can_wake, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
