/* The PC's pair of Intel 8259A programmable interrupt controllers (master at 0x20/0x21, slave
 * at 0xA0/0xA1 cascaded on the master's IRQ 2).
 *
 * Programming (8259A data sheet):
 *   ICW1 (port 0, bit 4 = 1):  bit 0 IC4 (an ICW4 follows), bit 1 SNGL (no cascade), bit 3 LTIM
 *   ICW2 (port 1):             vector base (bits 7..3)
 *   ICW3 (port 1, cascade):    master: which inputs have slaves; slave: its cascade identity
 *   ICW4 (port 1, if IC4):     bit 0 8086 mode, bit 1 AEOI (automatic EOI)
 *   OCW1 (port 1):             IMR, the interrupt mask
 *   OCW2 (port 0, bits 4..3 = 00): bits 7..5 R SL EOI, bits 2..0 level
 *        001 non-specific EOI, 011 specific EOI, 101 rotate on non-specific EOI,
 *        111 rotate on specific EOI, 110 set priority, 100/000 rotate in AEOI mode set/clear
 *   OCW3 (port 0, bits 4..3 = 01): bits 1..0 = 10 read IRR, 11 read ISR; bit 2 poll
 * Reads: port 0 gives IRR or ISR (as OCW3 chose), port 1 the IMR.
 *
 * Inputs are edge-triggered: a rising edge on an input line sets its IRR bit. The INTR output
 * (to the cpu) is high while an unmasked request has higher priority than everything in
 * service; the pair drives it through an irq_line (the machine connects it to cpu_set_intr) at
 * every change of its state. pic_ack is the cpu's interrupt-acknowledge cycle (struct intc).
 *
 * Devices reach the inputs through lines (pic_input): input n is IRQ n, 0..7 on the master and
 * 8..15 on the slave, whose INT output is master input 2 (the cascade).
 */
#ifndef RINGSIDE_PIC8259_H
#define RINGSIDE_PIC8259_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/irq.h"

struct bus;

struct pic8259 {
    uint8_t irr, isr, imr;
    uint8_t lines;        /* current input levels (for edge detection) */
    uint8_t base;         /* vector base from ICW2 */
    uint8_t icw3;
    uint8_t init_step;    /* 0 operational, else the next ICW expected (2, 3 or 4) */
    bool icw4, single, aeoi, rotate_aeoi;
    bool read_isr, poll;
    uint8_t lowest;       /* the lowest-priority input (priority rotation) */
};

struct pic_pair {
    struct pic8259 chip[2]; /* state: [0] master, [1] slave (all a snapshot saves) */
    struct irq_line intr;   /* wiring: the INTR output, to the cpu */
};

/* Power-on state (everything masked, the BIOS's vector bases); intr is the INTR output. */
void pic_init(struct pic_pair *p, struct irq_line intr);
int pic_attach(struct pic_pair *p, struct bus *b);

/* Sets input line irq (0..15) to level; a 0 -> 1 transition requests an interrupt. */
void pic_set_irq(struct pic_pair *p, unsigned irq, bool level);
/* A rising and falling edge (a device pulse). */
void pic_pulse_irq(struct pic_pair *p, unsigned irq);

/* The line into input irq (0..15), for a device or a fan-out to drive. It is unmasked when the
 * input's IMR bit is clear (for a slave input, master input 2 too): in-service priority is not
 * considered, since it changes at the guest's next EOI. */
struct irq_line pic_input(struct pic_pair *p, unsigned irq);
bool pic_input_unmasked(const struct pic_pair *p, unsigned irq);

/* Interrupt acknowledge: the vector of the highest-priority request (moved from IRR to ISR),
 * or the chip's IRQ 7 vector when the request went away (a spurious interrupt). */
int pic_ack(void *pair);

/* The input (ISA IRQ 0..15) whose interrupts a pair with these vector bases (master, slave)
 * delivers at vector, -1 if none: the master's 8 vectors are IRQ 0..7, the slave's 8..15. */
int pic_irq_of(uint8_t master_base, uint8_t slave_base, unsigned vector);

#endif
