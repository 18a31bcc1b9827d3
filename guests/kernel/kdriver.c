/* A kernel-mode driver with a bug, reached through the kdriver(unit, value) system call.
 *
 * It pretends to drive a bank of status LEDs. Units that are not fitted have a NULL entry in
 * the unit table, and the driver forgets to check for that: kdriver(2, ...) writes through a
 * NULL pointer. In ring 3 that would kill one process; here it is the kernel that faults, in
 * ring 0, and no one can contain that: the machine panics. (This is why drivers in user mode,
 * like the uartdrv program, are attractive.) */
#include "kernel.h"

struct led {
    const char *label;
    uint32_t state;   /* offset 4: the write that faults lands at address 0x00000004 */
};

static struct led leds[2] = {{"power", 1}, {"disk", 0}};
static struct led *units[4] = {&leds[0], &leds[1], NULL, NULL}; /* units 2, 3: not fitted */

int32_t kdriver_ioctl(uint32_t unit, uint32_t value)
{
    struct led *d = units[unit & 3];
    /* BUG: no `if (!d) return -ENODEV;` here. */
    d->state = value;
    return 0;
}
