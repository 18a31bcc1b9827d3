/* The 16550A UART (see uart16550.h). Register semantics follow the National Semiconductor
 * PC16550D datasheet; where a datasheet leaves a choice open, QEMU's serial.c is followed so that
 * a guest sees the same device under both. */
#include "devices/uart16550.h"

#include <string.h>

#include "devices/bus.h"

/* Modem lines seen when nothing is looped back: a connected terminal (as QEMU reports). */
#define MSR_LINES_CONNECTED (UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS)

static uint8_t compute_iir(const struct uart16550 *u)
{
    uint8_t iir;
    if ((u->ier & UART_IER_RLSI) && (u->lsr & UART_LSR_ERRORS))
        iir = UART_IIR_RLSI;
    else if ((u->ier & UART_IER_RDI) && u->rx_count)
        iir = UART_IIR_RDI;
    else if ((u->ier & UART_IER_THRI) && u->thr_ipending)
        iir = UART_IIR_THRI;
    else if ((u->ier & UART_IER_MSI) && (u->msr & 0x0F))
        iir = UART_IIR_MSI;
    else
        iir = UART_IIR_NO_INT;
    if (u->fcr & UART_FCR_ENABLE)
        iir |= UART_IIR_FIFO;
    return iir;
}

static void update_irq(struct uart16550 *u)
{
    bool level = !(compute_iir(u) & UART_IIR_NO_INT);
    if (level != u->irq_level) {
        u->irq_level = level;
        irq_set(&u->irq, level);
    }
}

/* The modem-status lines (MSR bits 7..4) that follow from MCR. */
static uint8_t msr_lines(uint8_t mcr)
{
    if (!(mcr & UART_MCR_LOOP))
        return MSR_LINES_CONNECTED;
    uint8_t m = 0;
    if (mcr & UART_MCR_RTS)
        m |= UART_MSR_CTS;
    if (mcr & UART_MCR_DTR)
        m |= UART_MSR_DSR;
    if (mcr & UART_MCR_OUT1)
        m |= UART_MSR_RI;
    if (mcr & UART_MCR_OUT2)
        m |= UART_MSR_DCD;
    return m;
}

static void set_msr_lines(struct uart16550 *u, uint8_t lines)
{
    uint8_t old = u->msr & 0xF0, delta = u->msr & 0x0F;
    if ((old ^ lines) & UART_MSR_CTS)
        delta |= UART_MSR_DCTS;
    if ((old ^ lines) & UART_MSR_DSR)
        delta |= UART_MSR_DDSR;
    if ((old & UART_MSR_RI) && !(lines & UART_MSR_RI))
        delta |= UART_MSR_TERI;
    if ((old ^ lines) & UART_MSR_DCD)
        delta |= UART_MSR_DDCD;
    u->msr = (uint8_t)(lines | delta);
}

static unsigned rx_capacity(const struct uart16550 *u)
{
    return (u->fcr & UART_FCR_ENABLE) ? UART_FIFO_SIZE : 1;
}

void uart16550_init(struct uart16550 *u, uart_output_fn output, void *output_ctx)
{
    memset(u, 0, sizeof(*u));
    u->lsr = UART_LSR_THRE | UART_LSR_TEMT;
    u->msr = MSR_LINES_CONNECTED;
    u->divisor = 12; /* 9600 baud */
    u->output = output;
    u->output_ctx = output_ctx;
}

void uart16550_set_irq(struct uart16550 *u, struct irq_line line)
{
    u->irq = line;
}

bool uart16550_receive_can_wake(const struct uart16550 *u)
{
    return (u->ier & UART_IER_RDI) && irq_unmasked(&u->irq);
}

bool uart16550_receive(struct uart16550 *u, uint8_t byte)
{
    bool ok = true;
    if (u->rx_count >= rx_capacity(u)) {
        u->lsr |= UART_LSR_OE;
        ok = false;
    } else {
        u->rx[(u->rx_head + u->rx_count) % UART_FIFO_SIZE] = byte;
        u->rx_count++;
    }
    update_irq(u);
    return ok;
}

uint8_t uart16550_read(struct uart16550 *u, unsigned offset)
{
    uint8_t v = 0;
    bool dlab = u->lcr & UART_LCR_DLAB;
    switch (offset) {
    case UART_RBR:
        if (dlab)
            return (uint8_t)(u->divisor & 0xFF);
        if (u->rx_count) {
            v = u->rx[u->rx_head];
            u->rx_head = (uint8_t)((u->rx_head + 1) % UART_FIFO_SIZE);
            u->rx_count--;
        }
        break;
    case UART_IER:
        return dlab ? (uint8_t)(u->divisor >> 8) : u->ier;
    case UART_IIR:
        v = compute_iir(u);
        if ((v & 0x0F) == UART_IIR_THRI)
            u->thr_ipending = false;
        break;
    case UART_LCR:
        return u->lcr;
    case UART_MCR:
        return u->mcr;
    case UART_LSR:
        v = (uint8_t)(u->lsr | UART_LSR_THRE | UART_LSR_TEMT | (u->rx_count ? UART_LSR_DR : 0));
        u->lsr &= (uint8_t)~(UART_LSR_ERRORS | UART_LSR_FIFOE);
        break;
    case UART_MSR:
        v = u->msr;
        u->msr &= 0xF0;
        break;
    case UART_SCR:
        return u->scr;
    default:
        return 0xFF;
    }
    update_irq(u);
    return v;
}

void uart16550_write(struct uart16550 *u, unsigned offset, uint8_t value)
{
    bool dlab = u->lcr & UART_LCR_DLAB;
    switch (offset) {
    case UART_THR:
        if (dlab) {
            u->divisor = (uint16_t)((u->divisor & 0xFF00) | value);
            return;
        }
        if (u->mcr & UART_MCR_LOOP)
            uart16550_receive(u, value);
        else if (u->output)
            u->output(u->output_ctx, value);
        /* The byte left at once: the holding register is empty again. */
        u->thr_ipending = true;
        break;
    case UART_IER:
        if (dlab) {
            u->divisor = (uint16_t)((u->divisor & 0x00FF) | (value << 8));
            return;
        }
        /* Enabling the THRE interrupt while THR is empty raises it at once. */
        if ((value & UART_IER_THRI) && !(u->ier & UART_IER_THRI))
            u->thr_ipending = true;
        u->ier = value & 0x0F;
        break;
    case UART_FCR:
        if ((value ^ u->fcr) & UART_FCR_ENABLE)
            u->rx_count = 0; /* switching FIFO mode empties the FIFOs */
        if (value & UART_FCR_CLEAR_RX)
            u->rx_count = 0;
        u->rx_head = u->rx_count ? u->rx_head : 0;
        u->fcr = value & (UART_FCR_ENABLE | UART_FCR_TRIGGER);
        break;
    case UART_LCR:
        u->lcr = value;
        return;
    case UART_MCR:
        u->mcr = value & 0x1F;
        set_msr_lines(u, msr_lines(u->mcr));
        break;
    case UART_SCR:
        u->scr = value;
        return;
    default: /* LSR and MSR are read-only */
        return;
    }
    update_irq(u);
}

static uint32_t uart_port_read(void *dev, uint16_t port, unsigned size)
{
    struct uart16550 *u = dev;
    uint32_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= (uint32_t)uart16550_read(u, (unsigned)(port + i - u->base)) << (8 * i);
    return v;
}

static void uart_port_write(void *dev, uint16_t port, uint32_t value, unsigned size)
{
    struct uart16550 *u = dev;
    for (unsigned i = 0; i < size; i++)
        uart16550_write(u, (unsigned)(port + i - u->base), (uint8_t)(value >> (8 * i)));
}

int uart16550_attach(struct uart16550 *u, struct bus *b, uint16_t base)
{
    if ((unsigned)base + UART_NPORTS - 1 > 0xFFFFu)
        return -1;
    u->base = base;
    return bus_add_ports(b, base, (uint16_t)(base + UART_NPORTS - 1), uart_port_read,
                         uart_port_write, u);
}
