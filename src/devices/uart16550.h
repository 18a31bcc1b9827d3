/* A National Semiconductor 16550A UART, as on a PC's COM1 (ports 0x3F8..0x3FF, IRQ 4).
 *
 * Register map, offset from the base port (DLAB = LCR bit 7):
 *
 *   off  read                     write
 *    0   RBR receive buffer       THR transmit holding      (DLAB=1: DLL divisor low)
 *    1   IER interrupt enable     IER                       (DLAB=1: DLM divisor high)
 *    2   IIR interrupt ident      FCR FIFO control
 *    3   LCR line control         LCR
 *    4   MCR modem control        MCR
 *    5   LSR line status          (ignored)
 *    6   MSR modem status         (ignored)
 *    7   SCR scratch              SCR
 *
 * Transmission is instantaneous: a byte written to THR goes straight to the output callback, so
 * LSR always shows THRE|TEMT. Received bytes (uart16550_receive) wait in a 16-byte FIFO (1 byte
 * when FIFOs are off). MCR loopback (bit 4) routes THR back into the receiver and MSR mirrors the
 * MCR outputs, as drivers that self-test the port expect. The interrupt logic (IIR priority, the
 * THRE "interrupt pending" latch) is modelled; the interrupt output drives an irq_line (set by
 * uart16550_set_irq), told each change of level. The UART raises it whether or not MCR.OUT2
 * is set, as QEMU's UART does.
 */
#ifndef RINGSIDE_UART16550_H
#define RINGSIDE_UART16550_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/irq.h"

struct bus;

#define UART_COM1_BASE 0x3F8u /* COM1 base port */
#define UART_COM1_IRQ  4      /* COM1 ISA interrupt line */
#define UART_NPORTS    8      /* ports per UART */
#define UART_FIFO_SIZE 16     /* receive FIFO depth of a 16550A */

/* Register offsets from the base port. */
#define UART_RBR 0 /* read, DLAB=0: receive buffer */
#define UART_THR 0 /* write, DLAB=0: transmit holding */
#define UART_DLL 0 /* DLAB=1: divisor latch, low byte */
#define UART_IER 1 /* DLAB=0: interrupt enable */
#define UART_DLM 1 /* DLAB=1: divisor latch, high byte */
#define UART_IIR 2 /* read: interrupt identification */
#define UART_FCR 2 /* write: FIFO control */
#define UART_LCR 3 /* line control */
#define UART_MCR 4 /* modem control */
#define UART_LSR 5 /* line status */
#define UART_MSR 6 /* modem status */
#define UART_SCR 7 /* scratch */

/* IER bits. */
#define UART_IER_RDI  0x01 /* received data available */
#define UART_IER_THRI 0x02 /* transmit holding register empty */
#define UART_IER_RLSI 0x04 /* receiver line status (errors, break) */
#define UART_IER_MSI  0x08 /* modem status change */

/* IIR values (bits 3..1 = source, bit 0 = 1 when nothing is pending, 7..6 = 11 with FIFOs). */
#define UART_IIR_NO_INT 0x01 /* no interrupt pending */
#define UART_IIR_MSI    0x00 /* modem status */
#define UART_IIR_THRI   0x02 /* transmitter holding register empty */
#define UART_IIR_RDI    0x04 /* received data available */
#define UART_IIR_RLSI   0x06 /* receiver line status */
#define UART_IIR_FIFO   0xC0 /* FIFOs enabled */

/* FCR bits. */
#define UART_FCR_ENABLE   0x01 /* enable FIFOs */
#define UART_FCR_CLEAR_RX 0x02 /* clear the receive FIFO (self-clearing) */
#define UART_FCR_CLEAR_TX 0x04 /* clear the transmit FIFO (self-clearing) */
#define UART_FCR_TRIGGER  0xC0 /* receive trigger level: 1, 4, 8, 14 bytes */

/* LCR bits. */
#define UART_LCR_DLAB 0x80 /* divisor latch access */

/* MCR bits. */
#define UART_MCR_DTR  0x01 /* data terminal ready */
#define UART_MCR_RTS  0x02 /* request to send */
#define UART_MCR_OUT1 0x04 /* user output 1 */
#define UART_MCR_OUT2 0x08 /* user output 2 (gates the IRQ on a PC) */
#define UART_MCR_LOOP 0x10 /* loopback */

/* LSR bits. */
#define UART_LSR_DR   0x01 /* data ready */
#define UART_LSR_OE   0x02 /* overrun error */
#define UART_LSR_PE   0x04 /* parity error */
#define UART_LSR_FE   0x08 /* framing error */
#define UART_LSR_BI   0x10 /* break interrupt */
#define UART_LSR_THRE 0x20 /* transmit holding register empty */
#define UART_LSR_TEMT 0x40 /* transmitter empty */
#define UART_LSR_FIFOE 0x80 /* error in the receive FIFO */
#define UART_LSR_ERRORS (UART_LSR_OE | UART_LSR_PE | UART_LSR_FE | UART_LSR_BI)

/* MSR bits (low nibble: changed since the last MSR read). */
#define UART_MSR_DCTS 0x01 /* CTS changed */
#define UART_MSR_DDSR 0x02 /* DSR changed */
#define UART_MSR_TERI 0x04 /* RI went from on to off */
#define UART_MSR_DDCD 0x08 /* DCD changed */
#define UART_MSR_CTS  0x10 /* clear to send */
#define UART_MSR_DSR  0x20 /* data set ready */
#define UART_MSR_RI   0x40 /* ring indicator */
#define UART_MSR_DCD  0x80 /* data carrier detect */

/* Receives each transmitted byte. */
typedef void (*uart_output_fn)(void *ctx, uint8_t byte);

struct uart16550 {
    /* State (what a snapshot saves). */
    uint8_t ier, lcr, mcr, lsr, msr, scr, fcr;
    uint16_t divisor;             /* baud rate = 115200 / divisor */
    bool thr_ipending;            /* THRE interrupt latched (cleared by IIR read, THR write) */
    uint8_t rx[UART_FIFO_SIZE];   /* receive FIFO, rx_head = oldest byte */
    uint8_t rx_head, rx_count;
    bool irq_level;               /* current level of the interrupt output */
    /* Wiring, set by init, attach and set_irq. */
    uint16_t base;                /* first port, once attached */
    uart_output_fn output;
    void *output_ctx;
    struct irq_line irq;          /* the interrupt output (COM1: IRQ 4) */
};

/* Resets to the power-on state; output may be NULL (bytes are dropped). The interrupt output
 * is not connected. */
void uart16550_init(struct uart16550 *u, uart_output_fn output, void *output_ctx);
/* Claims the 8 ports from base on the bus. Returns 0, or -1 if they are taken. */
int uart16550_attach(struct uart16550 *u, struct bus *b, uint16_t base);
/* Connects the interrupt output to line (which is told only of later changes of level). */
void uart16550_set_irq(struct uart16550 *u, struct irq_line line);

/* Register access by offset 0..7 (what the bus handlers call). */
uint8_t uart16550_read(struct uart16550 *u, unsigned offset);
void uart16550_write(struct uart16550 *u, unsigned offset, uint8_t value);

/* A byte arrives on the line. Returns false if the FIFO was full (the byte is lost, LSR.OE set). */
bool uart16550_receive(struct uart16550 *u, uint8_t byte);

/* Could a byte arriving now end a halt: would it raise the interrupt (IER.RDI) on a line that
 * is unmasked at a controller? */
bool uart16550_receive_can_wake(const struct uart16550 *u);

#endif
