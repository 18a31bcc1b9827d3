/* irq_uart: bytes on COM1's receiver arrive through the UART's interrupt (IRQ 4).
 *
 * The kernel sets COM1 to 115200 8N1 with MCR.OUT2 (which gates the IRQ on a PC) and
 * IER.RDI (received data available) and unmasks IRQ 4 at the PIC. Its IRQ 4 handler reads IIR
 * and then every byte while LSR.DR is set into a ring buffer; the main loop sleeps in HLT and
 * echoes each byte upper-cased. It stops at the first newline, or when no byte came for half a
 * second of the 100 Hz PIT (the end of the input). Run it as
 *
 *     printf 'hello\n' | ringside run irq_uart.elf
 *
 * The FIFOs stay off (16450 mode): enabling them empties the receiver, and a byte may be waiting
 * there already when the kernel starts (the line was live before the driver was).
 */
#include "irq.h"

#define COM1 0x3F8
#define HZ 100
#define EOF_TICKS 50 /* half a second without a byte: the input has ended */

static volatile uint8_t rxbuf[256];
static volatile uint8_t rx_head, rx_tail;
static volatile unsigned rx_irqs, rx_bytes, ticks, last_rx_tick, first_iir = 0x100;

static void uart_irq(struct irq_frame *f)
{
    (void)f;
    unsigned iir = inb(COM1 + 2);
    if (first_iir == 0x100)
        first_iir = iir;
    rx_irqs++;
    while (inb(COM1 + 5) & 0x01) { /* LSR.DR */
        rxbuf[rx_head++] = inb(COM1 + 0);
        rx_bytes++;
    }
    last_rx_tick = ticks;
}

static void timer(struct irq_frame *f)
{
    (void)f;
    ticks++;
}

int kmain(const struct multiboot_info *mbi)
{
    (void)mbi;
    kern_init();
    outb(COM1 + 1, 0x00); /* IER: no interrupts while setting up */
    outb(COM1 + 3, 0x80); /* LCR.DLAB */
    outb(COM1 + 0, 1);    /* divisor 1: 115200 baud */
    outb(COM1 + 1, 0);
    outb(COM1 + 3, 0x03); /* 8N1 */
    outb(COM1 + 2, 0x00); /* FCR: FIFOs off (see above) */
    outb(COM1 + 4, 0x0B); /* MCR: DTR, RTS, OUT2 */
    rt_printf("irq_uart: COM1 115200 8N1, IER.RDI, MCR.OUT2, IRQ 4 -> vector 0x%x\n",
              IRQ_BASE + 4);
    irq_set_handler(0, timer);
    irq_set_handler(4, uart_irq);
    pic_unmask(0);
    pic_unmask(4);
    pit_start(PIT_DIV(HZ));
    outb(COM1 + 1, 0x01); /* IER.RDI */

    unsigned n = 0;
    bool newline = false;
    for (;;) {
        cli();
        while (rx_tail != rx_head && !newline) {
            char c = (char)rxbuf[rx_tail++];
            if (c == '\n') {
                newline = true;
                break;
            }
            rt_putc(c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c);
            n++;
        }
        if (newline || ticks - last_rx_tick >= EOF_TICKS)
            break;
        __asm__ volatile("sti; hlt" ::: "memory"); /* STI's shadow: no wake-up is lost */
    }
    outb(COM1 + 1, 0x00);
    pic_mask(4);
    pic_mask(0);
    rt_putc('\n');
    rt_printf("irq_uart: %u bytes before %s\n", n,
              newline ? "the newline" : "the end of the input (half a second without a byte)");
    rt_printf("first IIR %x (received data available)\n", first_iir);
    check("bytes received", rx_bytes >= n + newline, 1);
    rt_printf("timing: %u bytes in %u receive interrupts\n", rx_bytes, rx_irqs);
    return rt_finish("irq_uart");
}
