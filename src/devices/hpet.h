/* The High Precision Event Timer (IA-PC HPET specification 1.0a) at 0xFED00000: a 64-bit main
 * counter at 10 MHz of device time and three comparators, each routed to an I/O APIC input.
 *
 *   0x000 GCAP_ID    vendor 0x8086 (31..16), legacy replacement capable (15), 64-bit
 *                    counter (13), 3 timers (12..8 = 2), revision 1; the period in
 *                    femtoseconds in 63..32 (100000000: 10 MHz) (RO)
 *   0x010 GEN_CONF   bit 0 ENABLE_CNF: the counter runs; bit 1 LEG_RT_CNF: legacy replacement
 *                    (spec 2.3.9.2.2): timer 0 drives ISA IRQ 0 (the 8259A's input 0, I/O
 *                    APIC input 2) and timer 1 ISA IRQ 8 (input 8 of both), their
 *                    Tn_INT_ROUTE_CNF ignored; the machine then disconnects the 8254's IRQ 0
 *   0x020 GINTR_STA  a bit per timer: its level-triggered interrupt is active; write 1 clears
 *   0x0F0 MAIN_CNT   the counter (writable while it is stopped)
 *   0x100+0x20n Tn_CONF_CAP  1 level, 2 interrupt enable, 3 periodic, 4 periodic capable (RO),
 *                    5 64-bit capable (RO), 6 VAL_SET, 8 32-bit mode, 13..9 I/O APIC input;
 *                    63..32 the inputs it can use (RO: 20..23)
 *   0x108+0x20n Tn_COMPARATOR  when the counter reaches it the timer interrupts; periodic
 *                    timers then add the last value written (with VAL_SET: set it directly)
 *
 * Registers are 64 bits wide; 32-bit accesses reach either half. Interrupts are edge pulses, or
 * for level-triggered timers a level held until the guest clears its GINTR_STA bit. The
 * comparators' deadlines are one timer in the machine's timer queue.
 *
 * Not modelled: FSB (MSI) delivery, comparator matches after a 32-bit counter wraps. State:
 * `s`; clock, queue and lines are wiring.
 */
#ifndef RINGSIDE_HPET_H
#define RINGSIDE_HPET_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/devclock.h"
#include "devices/irq.h"

struct bus;
struct timerq;

#define HPET_BASE     0xFED00000u
#define HPET_SIZE     0x400u
#define HPET_TIMERS   3u
#define HPET_HZ       10000000u
#define HPET_PERIOD_FS 100000000u /* 10^15 / HPET_HZ */
#define HPET_ROUTE_CAP 0x00F00000u /* I/O APIC inputs 20..23 */
#define HPET_LINES    24u

#define HPET_LEG_RT_CAP 0x8000u   /* GCAP_ID bit 15 */
/* GCAP_ID's low half (also the ACPI HPET table's event timer block ID) */
#define HPET_CAP_LOW    (0x8086u << 16 | HPET_LEG_RT_CAP | 1u << 13 | (HPET_TIMERS - 1) << 8 \
                         | 0x01u)
#define HPET_ENABLE     0x1u      /* GEN_CONF bit 0 */
#define HPET_LEG_RT     0x2u      /* GEN_CONF bit 1 */

enum { HPET_CAP = 0x000, HPET_CONF = 0x010, HPET_ISR = 0x020, HPET_COUNTER = 0x0F0,
       HPET_T0_CONF = 0x100, HPET_T0_CMP = 0x108 };

#define HPET_TN_LEVEL    0x002u
#define HPET_TN_ENABLE   0x004u
#define HPET_TN_PERIODIC 0x008u
#define HPET_TN_VAL_SET  0x040u
#define HPET_TN_32BIT    0x100u

struct hpet_timer {
    uint64_t conf, cmp, period;
    uint64_t due;                /* device time the comparator matches (UINT64_MAX: never) */
    bool armed;                  /* the comparator was written and has not matched yet (or
                                    the timer is periodic) */
};

struct hpet_state {
    uint64_t conf, isr;
    uint64_t count_base;         /* the counter when it was last started or written */
    uint64_t time_base;          /* device time it was started */
    struct hpet_timer t[HPET_TIMERS];
};

struct hpet {
    struct hpet_state s;
    struct devclock *clock;
    struct timerq *timers;
    int timer;
    struct irq_line line[HPET_LINES]; /* I/O APIC inputs */
    struct irq_line legacy[2];        /* ISA IRQ 0 and IRQ 8 (legacy replacement) */
};

int hpet_init(struct hpet *h, struct devclock *clock, struct timerq *timers);
int hpet_attach(struct hpet *h, struct bus *b);
uint64_t hpet_read(struct hpet *h, uint32_t offset);
void hpet_write(struct hpet *h, uint32_t offset, uint64_t value);
/* Is legacy replacement on (the 8254's IRQ 0 and the RTC's IRQ 8 disconnected)? */
bool hpet_legacy(const struct hpet *h);

#endif
