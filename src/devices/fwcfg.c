/* QEMU's fw_cfg, port interface (see fwcfg.h). */
#include "devices/fwcfg.h"

#include <string.h>

#include "devices/bus.h"

void fwcfg_init(struct fwcfg *f, uint64_t ram_size)
{
    memset(f, 0, sizeof *f);
    f->ram_size = ram_size;
}

uint8_t fwcfg_item_byte(const struct fwcfg *f, uint16_t key, uint32_t off)
{
    switch (key) {
    case FWCFG_SIGNATURE: return off < 4 ? (uint8_t)"QEMU"[off] : 0;
    case FWCFG_ID: return off == 0 ? 1 : 0;
    case FWCFG_RAM_SIZE: return off < 8 ? (uint8_t)(f->ram_size >> (8 * off)) : 0;
    case FWCFG_NB_CPUS: case FWCFG_MAX_CPUS: return off == 0 ? 1 : 0;
    default: return 0; /* UUID, the empty file directory, unknown items */
    }
}

static uint32_t fwcfg_read(void *dev, uint16_t port, unsigned size)
{
    struct fwcfg *f = dev;
    if (port != FWCFG_PORT_DATA)
        return 0;
    uint32_t v = 0;
    for (unsigned k = 0; k < size; k++) /* a wider read gives successive bytes */
        v |= (uint32_t)fwcfg_item_byte(f, f->s.selector, f->s.offset++) << (8 * k);
    return v;
}

static void fwcfg_write(void *dev, uint16_t port, uint32_t value, unsigned size)
{
    struct fwcfg *f = dev;
    (void)size;
    if (port == FWCFG_PORT_SEL) {
        f->s.selector = (uint16_t)value;
        f->s.offset = 0;
    }
}

int fwcfg_attach(struct fwcfg *f, struct bus *b)
{
    return bus_add_ports(b, FWCFG_PORT_SEL, FWCFG_PORT_DATA, fwcfg_read, fwcfg_write, f);
}
