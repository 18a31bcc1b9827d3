/* The ACPI power-management registers of a PIIX4-style chipset at port 0x600, as the FADT
 * (machine/pc.c) describes them (ACPI spec 4.8):
 *
 *   0x600 PM1a_STS  16 bits, write 1 to clear (bit 0 TMR_STS: the timer's bit 23 changed)
 *   0x602 PM1a_EN   16 bits, read/write (no SCI is raised: not modelled)
 *   0x604 PM1a_CNT  16 bits; SCI_EN (bit 0) reads 1: the machine is in ACPI mode from the
 *                   start (the FADT has no SMI command port); SLP_EN (13) is not modelled
 *   0x608 PM_TMR    the power-management timer: 24 bits counting at 3.579545 MHz of device
 *                   time, read-only
 *
 * State: `s`; the clock is wiring.
 */
#ifndef RINGSIDE_ACPIPM_H
#define RINGSIDE_ACPIPM_H

#include <stdint.h>

#include "devices/devclock.h"

struct bus;

#define ACPIPM_BASE     0x600u
#define ACPIPM_EVT      0x600u
#define ACPIPM_CNT      0x604u
#define ACPIPM_TMR      0x608u
#define ACPIPM_TIMER_HZ 3579545u
#define ACPIPM_SCI_IRQ  9u

struct acpipm_state {
    uint16_t sts, en, cnt;
    uint64_t tmr_flips;  /* changes of the timer's bit 23 when TMR_STS was last brought up to
                            date (ticks >> 23) */
};

struct acpipm {
    struct acpipm_state s;
    struct devclock *clock;
};

void acpipm_init(struct acpipm *p, struct devclock *clock);
int acpipm_attach(struct acpipm *p, struct bus *b);
/* The PM timer's value now. */
uint32_t acpipm_timer(const struct acpipm *p);

#endif
