/* The 8254 programmable interval timer: counter 0 counts down the 1.193182 MHz input clock and,
 * in mode 2 ("rate generator"), pulses its output, wired to IRQ 0, every `divisor` counts.
 * That periodic interrupt is the kernel's tick: it drives preemption, sleep() and accounting.
 * On Ringside the input clock is derived from the retired-instruction count, so ticks fall on
 * the same instructions in every run. */
#include "kernel.h"

#define PIT_CH0  0x40
#define PIT_CMD  0x43
#define PIT_HZ   1193182u
#define PIT_MODE 0x34 /* counter 0, access low byte then high byte, mode 2, binary */

void pit_init(unsigned hz)
{
    uint32_t divisor = (PIT_HZ + hz / 2) / hz; /* 11932 for 100 Hz */
    outb(PIT_CMD, PIT_MODE);
    outb(PIT_CH0, (uint8_t)divisor);
    outb(PIT_CH0, (uint8_t)(divisor >> 8));
}
