/* The ACPI power-management registers of a PIIX4-style chipset at port 0x600, as the FADT
 * (machine/pc.c) describes them (ACPI spec 4.8):
 *
 *   0x600 PM1a_STS  16 bits, write 1 to clear (bit 0 TMR_STS: the timer's bit 23 changed)
 *   0x602 PM1a_EN   16 bits, read/write (bit 0 TMR_EN: TMR_STS raises the SCI)
 *   0x604 PM1a_CNT  16 bits; SCI_EN (bit 0) reads 1: the machine is in ACPI mode from the
 *                   start (the FADT has no SMI command port); SLP_EN (13) is not modelled
 *   0x608 PM_TMR    the power-management timer: 24 bits counting at 3.579545 MHz of device
 *                   time, read-only
 *
 * The SCI (ACPI spec 4.8.3.1, 5.2.9 SCI_INT): a level, active high, on the line the FADT names
 * (ISA IRQ 9), held while SCI_EN is set and a status bit is set with its enable bit. The only
 * status the machine sets is TMR_STS, when bit 23 of the timer changes (every 2^23 ticks,
 * about 2.34 s); while TMR_EN is set and TMR_STS clear, that moment is a deadline in the
 * timer queue. The other status bits (power and sleep buttons, RTC, bus master, global
 * lock) have no source here.
 *
 * State: `s`; the clock, queue and SCI line are wiring.
 */
#ifndef RINGSIDE_ACPIPM_H
#define RINGSIDE_ACPIPM_H

#include <stdint.h>

#include "devices/devclock.h"
#include "devices/irq.h"

struct bus;
struct timerq;

#define ACPIPM_BASE     0x600u
#define ACPIPM_EVT      0x600u
#define ACPIPM_CNT      0x604u
#define ACPIPM_TMR      0x608u
#define ACPIPM_TIMER_HZ 3579545u
#define ACPIPM_SCI_IRQ  9u
#define ACPIPM_TMR_STS  0x0001u /* PM1 status/enable bit 0: the timer's bit 23 changed */
#define ACPIPM_SCI_EN   0x0001u /* PM1 control bit 0 */
#define ACPIPM_EN_BITS  0x0721u /* PM1 enable bits that exist: TMR, GBL, PWRBTN, SLPBTN, RTC */

struct acpipm_state {
    uint16_t sts, en, cnt;
    uint64_t tmr_flips;  /* changes of the timer's bit 23 when TMR_STS was last brought up to
                            date (ticks >> 23) */
};

struct acpipm {
    struct acpipm_state s;
    struct devclock *clock;
    struct timerq *timers;  /* NULL: no SCI (acpipm_wire_sci not called) */
    int timer;
    struct irq_line sci;
};

void acpipm_init(struct acpipm *p, struct devclock *clock);
/* Wires the SCI: its line and the timer queue for TMR_STS. Returns 0, or -1 when the queue is
 * full. */
int acpipm_wire_sci(struct acpipm *p, struct timerq *timers, struct irq_line sci);
int acpipm_attach(struct acpipm *p, struct bus *b);
/* The PM timer's value now. */
uint32_t acpipm_timer(const struct acpipm *p);

#endif
