/* The names port (see names_port.h). */
#include "devices/names_port.h"

#include <string.h>

#include "devices/bus.h"

static uint32_t names_read(void *dev, uint16_t port, unsigned size)
{
    (void)dev;
    uint32_t v = 0;
    for (unsigned k = 0; k < size; k++) {
        unsigned p = (unsigned)port + k;
        uint32_t byte = p == NAMES_PORT_SIG ? (NAMES_SIGNATURE & 0xFF)
                        : p == NAMES_PORT_SIG + 1 ? (NAMES_SIGNATURE >> 8) : 0;
        v |= byte << (8 * k);
    }
    return v;
}

static void command(struct names_port *n, uint8_t cmd)
{
    if (cmd >= NAMES_SPACE && cmd <= NAMES_SYSCALL_VECTOR && n->said) {
        struct names_said s = { .cmd = cmd, .cr3 = n->cr3, .id = n->id };
        memcpy(s.name, n->name, n->len);
        s.name[n->len] = '\0';
        n->said(n->ctx, &s);
    }
    n->len = 0;
}

static void names_write(void *dev, uint16_t port, uint32_t value, unsigned size)
{
    struct names_port *n = dev;
    /* Byte by byte, so any access size works as the same bytes written one at a time. */
    for (unsigned k = 0; k < size; k++) {
        unsigned p = (unsigned)port + k;
        uint8_t byte = (uint8_t)(value >> (8 * k));
        if (p >= NAMES_PORT_CR3 && p < NAMES_PORT_CR3 + 4) {
            unsigned sh = 8 * (p - NAMES_PORT_CR3);
            n->cr3 = (n->cr3 & ~(0xFFu << sh)) | ((uint32_t)byte << sh);
        } else if (p >= NAMES_PORT_ID && p < NAMES_PORT_ID + 4) {
            unsigned sh = 8 * (p - NAMES_PORT_ID);
            n->id = (n->id & ~(0xFFu << sh)) | ((uint32_t)byte << sh);
        } else if (p == NAMES_PORT_CHAR) {
            if (n->len < NAMES_LEN - 1)
                n->name[n->len++] = (char)byte; /* made printable where it is kept */
        } else if (p == NAMES_PORT_CMD) {
            command(n, byte);
        }
    }
}

int names_port_attach(struct names_port *n, struct bus *b, names_fn said, void *ctx)
{
    *n = (struct names_port){ .said = said, .ctx = ctx };
    return bus_add_ports(b, NAMES_IOBASE, NAMES_IOBASE + NAMES_IOSIZE - 1, names_read,
                         names_write, n);
}
