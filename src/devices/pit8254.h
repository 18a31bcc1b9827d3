/* The Intel 8254 programmable interval timer: three 16-bit counters at ports 0x40..0x42 and the
 * control word at 0x43; counter 0's output drives IRQ 0. Its input clock is 1.193182 MHz.
 *
 * Time comes from the machine's clock (struct devclock), which is derived from the
 * retired-instruction count by default: the same guest and input give the same interrupts at
 * the same instructions. Counter 0's next IRQ 0 edge is kept as the PIT's timer in the machine's
 * timer queue (timerq.h); the machine calls pit_update when it is due.
 *
 * Control word (port 0x43): bits 7..6 counter (11 = read-back), 5..4 access (00 latch,
 * 01 low byte, 10 high byte, 11 low then high), 3..1 mode 0..5, 0 BCD (not supported: binary).
 * Modes: 0 interrupt on terminal count, 1 hardware one-shot (needs a gate edge: never for
 * counter 0), 2 rate generator, 3 square wave, 4 software strobe, 5 hardware strobe. For
 * counter 0 a rising edge of OUT is an IRQ 0 request: once per period in modes 2 and 3, once at
 * terminal count in modes 0 and 4.
 */
#ifndef RINGSIDE_PIT8254_H
#define RINGSIDE_PIT8254_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/devclock.h"
#include "devices/irq.h"

struct bus;
struct timerq;

#define PIT_HZ 1193182u /* input clock of every counter */

struct pit_counter {
    uint8_t mode, access;
    uint16_t reload;          /* count written (0 means 65536) */
    bool armed;               /* a count has been written since the mode was set */
    uint64_t start;           /* PIT tick at which the count was loaded */
    bool write_hi, read_hi;   /* low/high byte flip-flops */
    uint8_t write_lo;         /* low byte waiting for its high byte */
    bool latched;
    uint16_t latch;
    bool status_latched;
    uint8_t status;
    uint64_t fired;           /* IRQ edges delivered so far (counter 0) */
};

struct pit8254 {
    /* State: the three counters are everything a snapshot saves (the timer's deadline follows
     * from them: pit_update re-arms it). */
    struct pit_counter ctr[3];
    /* Wiring, set by pit_init. */
    struct devclock *clock;
    struct timerq *timers;
    int timer;                /* counter 0's next edge, in timers */
    struct irq_line out0;     /* counter 0's OUT: IRQ 0 */
};

/* Power-on state; registers counter 0's timer in q. Returns 0, or -1 if q is full. */
int pit_init(struct pit8254 *p, struct devclock *clock, struct timerq *q, struct irq_line out0);
int pit_attach(struct pit8254 *p, struct bus *b);

/* Delivers the IRQ 0 edges due by now and arms the timer for the next one (the timer's
 * callback; also safe to call at any time). */
void pit_update(struct pit8254 *p);
/* The clock time of counter 0's next IRQ 0 edge, or UINT64_MAX. */
uint64_t pit_next_event(const struct pit8254 *p);
/* Could counter 0's next edge end a halt: is its line unmasked at a controller? */
bool pit_can_wake(const struct pit8254 *p);

/* PIT ticks at clock time t, and the first clock time at or after tick k. */
uint64_t pit_ticks(const struct devclock *clk, uint64_t t);
uint64_t pit_time_of_tick(const struct devclock *clk, uint64_t k);

#endif
