/* The port-I/O bus and the MMIO map (see bus.h).
 *
 * Lookups are a linear scan: a PC has a handful of devices and the cpu only comes here for IN/OUT
 * and for physical addresses outside RAM. An access that does not fit entirely inside one claimed
 * range is split into byte accesses, each dispatched on its own, the way an ISA bus splits a wide
 * access to narrow devices; a device therefore only ever sees accesses inside its own range.
 */
#include "devices/bus.h"

#include <string.h>

/* All ones of an access size of 1, 2 or 4 bytes (anything else is treated as 4). */
static uint32_t size_mask(unsigned size)
{
    return size == 1 ? 0xFFu : size == 2 ? 0xFFFFu : 0xFFFFFFFFu;
}

static unsigned clamp_size(unsigned size)
{
    return (size == 1 || size == 2) ? size : 4;
}

void bus_init(struct bus *b)
{
    memset(b, 0, sizeof(*b));
}

int bus_add_ports(struct bus *b, uint16_t first, uint16_t last, io_read_fn rd, io_write_fn wr,
                  void *dev)
{
    if (first > last || b->nports >= BUS_MAX_PORT_RANGES)
        return -1;
    for (int i = 0; i < b->nports; i++) {
        const struct port_range *p = &b->ports[i];
        if (first <= p->last && p->first <= last)
            return -1;
    }
    b->ports[b->nports++] = (struct port_range){ first, last, rd, wr, dev };
    return 0;
}

int bus_add_mmio(struct bus *b, uint32_t base, uint32_t size, mmio_read_fn rd, mmio_write_fn wr,
                 void *dev)
{
    uint64_t end = (uint64_t)base + size;
    if (size == 0 || end > 0x100000000ull || b->nmmio >= BUS_MAX_MMIO_RANGES)
        return -1;
    for (int i = 0; i < b->nmmio; i++) {
        const struct mmio_range *m = &b->mmio[i];
        if (base < (uint64_t)m->base + m->size && m->base < end)
            return -1;
    }
    b->mmio[b->nmmio++] = (struct mmio_range){ base, size, rd, wr, dev };
    return 0;
}

static const struct port_range *find_port(const struct bus *b, uint16_t port)
{
    for (int i = 0; i < b->nports; i++)
        if (port >= b->ports[i].first && port <= b->ports[i].last)
            return &b->ports[i];
    return NULL;
}

static const struct mmio_range *find_mmio(const struct bus *b, uint32_t addr)
{
    for (int i = 0; i < b->nmmio; i++)
        if (addr - b->mmio[i].base < b->mmio[i].size)
            return &b->mmio[i];
    return NULL;
}

uint32_t bus_in(struct bus *b, uint16_t port, unsigned size)
{
    size = clamp_size(size);
    const struct port_range *p = find_port(b, port);
    if (p && (unsigned)port + size - 1 <= p->last)
        return p->read ? p->read(p->dev, port, size) & size_mask(size) : size_mask(size);
    if (size == 1)
        return 0xFFu;
    uint32_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= bus_in(b, (uint16_t)(port + i), 1) << (8 * i);
    return v;
}

void bus_out(struct bus *b, uint16_t port, uint32_t value, unsigned size)
{
    size = clamp_size(size);
    value &= size_mask(size);
    const struct port_range *p = find_port(b, port);
    if (p && (unsigned)port + size - 1 <= p->last) {
        if (p->write)
            p->write(p->dev, port, value, size);
        return;
    }
    if (size == 1)
        return;
    for (unsigned i = 0; i < size; i++)
        bus_out(b, (uint16_t)(port + i), (value >> (8 * i)) & 0xFFu, 1);
}

uint32_t bus_mmio_read(struct bus *b, uint32_t addr, unsigned size)
{
    size = clamp_size(size);
    const struct mmio_range *m = find_mmio(b, addr);
    if (m && (uint64_t)(addr - m->base) + size <= m->size)
        return m->read ? m->read(m->dev, addr - m->base, size) & size_mask(size)
                       : size_mask(size);
    if (size == 1)
        return 0xFFu;
    uint32_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= bus_mmio_read(b, addr + i, 1) << (8 * i);
    return v;
}

void bus_mmio_write(struct bus *b, uint32_t addr, uint32_t value, unsigned size)
{
    size = clamp_size(size);
    value &= size_mask(size);
    const struct mmio_range *m = find_mmio(b, addr);
    if (m && (uint64_t)(addr - m->base) + size <= m->size) {
        if (m->write)
            m->write(m->dev, addr - m->base, value, size);
        return;
    }
    if (size == 1)
        return;
    for (unsigned i = 0; i < size; i++)
        bus_mmio_write(b, addr + i, (value >> (8 * i)) & 0xFFu, 1);
}
