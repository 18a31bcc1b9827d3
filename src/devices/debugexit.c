/* QEMU's isa-debug-exit (see debugexit.h). */
#include "devices/debugexit.h"

#include <stddef.h>

#include "devices/bus.h"

static void debugexit_write(void *dev, uint16_t port, uint32_t value, unsigned size)
{
    (void)port;
    (void)size; /* the bus already cut value to the access size */
    struct debugexit *d = dev;
    d->bus->exit_requested = true;
    d->bus->exit_status = (int)((value << 1) | 1u);
}

int debugexit_attach(struct debugexit *d, struct bus *b, uint16_t iobase, uint16_t iosize)
{
    if (iosize == 0 || (unsigned)iobase + iosize - 1 > 0xFFFFu)
        return -1;
    d->bus = b;
    return bus_add_ports(b, iobase, (uint16_t)(iobase + iosize - 1), NULL, debugexit_write, d);
}
