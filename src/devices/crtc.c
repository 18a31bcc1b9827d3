/* The CRT controller's index and data ports (see crtc.h). */
#include "devices/crtc.h"

#include <string.h>

#include "devices/bus.h"

void crtc_init(struct crtc *c)
{
    memset(c, 0, sizeof *c);
    c->s.reg[0x0A] = 0x0D; /* cursor start and end scan lines, as a BIOS sets them */
    c->s.reg[0x0B] = 0x0E;
}

static uint32_t crtc_read(void *dev, uint16_t port, unsigned size)
{
    const struct crtc *c = dev;
    (void)size;
    if (port == CRTC_INDEX)
        return c->s.index;
    return c->s.index < CRTC_REGS ? c->s.reg[c->s.index] : 0;
}

static void crtc_write(void *dev, uint16_t port, uint32_t value, unsigned size)
{
    struct crtc *c = dev;
    if (port == CRTC_INDEX) {
        c->s.index = (uint8_t)(value & 0x1F);
        if (size == 2) /* OUT DX, AX: index in AL, data in AH */
            crtc_write(dev, CRTC_DATA, value >> 8, 1);
    } else if (c->s.index < CRTC_REGS) {
        c->s.reg[c->s.index] = (uint8_t)value;
    }
}

int crtc_attach(struct crtc *c, struct bus *b)
{
    return bus_add_ports(b, CRTC_INDEX, CRTC_DATA, crtc_read, crtc_write, c);
}
