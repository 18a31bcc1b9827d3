/* System control port A (see port92.h). */
#include "devices/port92.h"

#include <stddef.h>

#include "devices/bus.h"

void port92_init(struct port92 *p)
{
    p->s.value = 0x02;
    p->reset = NULL;
    p->reset_ctx = NULL;
}

static uint32_t port92_read(void *dev, uint16_t port, unsigned size)
{
    (void)port;
    (void)size;
    return ((const struct port92 *)dev)->s.value;
}

static void port92_write(void *dev, uint16_t port, uint32_t value, unsigned size)
{
    struct port92 *p = dev;
    (void)port;
    (void)size;
    p->s.value = (uint8_t)(value & ~1u);
    if ((value & 1) && p->reset)
        p->reset(p->reset_ctx);
}

int port92_attach(struct port92 *p, struct bus *b)
{
    return bus_add_ports(b, PORT92, PORT92, port92_read, port92_write, p);
}
