/* The two 8259A interrupt controllers of a PC: the master (ports 0x20/0x21) takes IRQ 0..7,
 * the slave (0xA0/0xA1) IRQ 8..15 and is cascaded into the master's IRQ 2.
 *
 * After reset they would deliver IRQ 0..7 on vectors 0x08..0x0F, on top of the cpu's own
 * exceptions (0x08 is #DF), so the first thing a protected-mode kernel does is reprogram
 * ("remap") them: IRQ n arrives as vector IRQ_BASE + n = 0x20 + n. */
#include "kernel.h"

#define PIC1_CMD  0x20
#define PIC1_DATA 0x21 /* the interrupt mask register (IMR) after initialisation */
#define PIC2_CMD  0xA0
#define PIC2_DATA 0xA1

#define ICW1_INIT 0x11 /* initialisation, edge-triggered, cascade, ICW4 follows */
#define ICW4_8086 0x01 /* 8086 mode, normal (not automatic) end of interrupt */
#define OCW2_EOI  0x20 /* non-specific end of interrupt */
#define OCW3_ISR  0x0B /* the next read of the command port returns the in-service register */

static uint16_t mask = 0xFFFF; /* bit n set: IRQ n masked */

static void write_mask(void)
{
    outb(PIC1_DATA, (uint8_t)mask);
    outb(PIC2_DATA, (uint8_t)(mask >> 8));
}

void pic_init(void)
{
    outb(PIC1_CMD, ICW1_INIT);
    outb(PIC2_CMD, ICW1_INIT);
    outb(PIC1_DATA, IRQ_BASE);      /* ICW2: master vectors 0x20..0x27 */
    outb(PIC2_DATA, IRQ_BASE + 8);  /* ICW2: slave vectors 0x28..0x2F */
    outb(PIC1_DATA, 1u << 2);       /* ICW3: a slave on the master's IRQ 2 */
    outb(PIC2_DATA, 2);             /* ICW3: the slave's cascade identity */
    outb(PIC1_DATA, ICW4_8086);
    outb(PIC2_DATA, ICW4_8086);
    mask = 0xFFFF & ~(1u << 2);     /* everything masked but the cascade */
    write_mask();
}

void pic_unmask(unsigned irq)
{
    mask &= (uint16_t)~(1u << irq);
    write_mask();
}

/* The PIC delivers no further interrupt of the same or lower priority until it is told that
 * this one has been handled. */
void pic_eoi(unsigned irq)
{
    if (irq >= 8)
        outb(PIC2_CMD, OCW2_EOI);
    outb(PIC1_CMD, OCW2_EOI);
}

/* IRQ 7 and 15 can be "spurious": a request that went away before the cpu acknowledged it.
 * Then the in-service bit is clear and no EOI must be sent (to the slave; the master still
 * saw a real cascade interrupt on IRQ 2). */
bool pic_spurious(unsigned irq)
{
    if (irq != 7 && irq != 15)
        return false;
    uint16_t port = irq == 7 ? PIC1_CMD : PIC2_CMD;
    outb(port, OCW3_ISR);
    if (inb(port) & 0x80)
        return false;
    if (irq == 15)
        outb(PIC1_CMD, OCW2_EOI);
    return true;
}
