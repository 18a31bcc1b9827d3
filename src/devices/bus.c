/* The port-I/O bus and the MMIO map (see bus.h).
 *
 * Lookups are a linear scan: a PC has a handful of devices and the cpu only comes here for IN/OUT
 * and for physical addresses outside RAM. An access that does not fit entirely inside one claimed
 * range is split into byte accesses, each dispatched on its own, the way an ISA bus splits a wide
 * access to narrow devices; a device therefore only ever sees accesses inside its own range.
 * An access that touches no claimed byte at all is not split: it reads all ones (and is
 * reported as one access when reporting is on).
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
    b->mmio[b->nmmio++] = (struct mmio_range){ base, size, rd, wr, NULL, dev };
    return 0;
}

int bus_set_mmio_peek(struct bus *b, uint32_t base, mmio_peek_fn peek)
{
    for (int i = 0; i < b->nmmio; i++)
        if (b->mmio[i].base == base) {
            b->mmio[i].peek = peek;
            return 0;
        }
    return -1;
}

void bus_set_unclaimed(struct bus *b, bus_unclaimed_fn fn, void *ctx)
{
    b->unclaimed = fn;
    b->unclaimed_ctx = ctx;
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

const struct mmio_range *bus_mmio_range(const struct bus *b, uint32_t addr, unsigned size)
{
    const struct mmio_range *m = find_mmio(b, addr); /* ranges never overlap */
    return m && (uint64_t)(addr - m->base) + size <= m->size ? m : NULL;
}

/* Reports an unclaimed port access unless the port was reported before. Ports of a wide
 * access of which no byte is claimed are all marked, and reported as one access. */
static void port_unclaimed(struct bus *b, uint16_t port, unsigned size, bool write)
{
    if (!b->unclaimed || (b->port_seen[port >> 3] & (1u << (port & 7))))
        return;
    for (unsigned i = 0; i < size; i++) {
        uint16_t q = (uint16_t)(port + i);
        b->port_seen[q >> 3] |= (uint8_t)(1u << (q & 7));
    }
    b->unclaimed(b->unclaimed_ctx, false, port, size, write);
}

static void mmio_unclaimed(struct bus *b, uint32_t addr, unsigned size, bool write)
{
    if (!b->unclaimed || b->nmmio_seen > BUS_MAX_SEEN_MMIO)
        return;
    for (int i = 0; i < b->nmmio_seen; i++)
        if (b->mmio_seen[i] == addr)
            return;
    if (b->nmmio_seen == BUS_MAX_SEEN_MMIO) {
        b->nmmio_seen++;
        b->unclaimed(b->unclaimed_ctx, true, addr, 0, write);
        return;
    }
    b->mmio_seen[b->nmmio_seen++] = addr;
    b->unclaimed(b->unclaimed_ctx, true, addr, size, write);
}

/* Does any range claim a byte of the access? */
static bool any_port_claimed(const struct bus *b, uint16_t port, unsigned size)
{
    for (unsigned i = 0; i < size; i++)
        if (find_port(b, (uint16_t)(port + i)))
            return true;
    return false;
}

static bool any_mmio_claimed(const struct bus *b, uint32_t addr, unsigned size)
{
    for (unsigned i = 0; i < size; i++)
        if (find_mmio(b, addr + i))
            return true;
    return false;
}

uint32_t bus_in(struct bus *b, uint16_t port, unsigned size)
{
    size = clamp_size(size);
    const struct port_range *p = find_port(b, port);
    if (p && (unsigned)port + size - 1 <= p->last)
        return p->read ? p->read(p->dev, port, size) & size_mask(size) : size_mask(size);
    if (size == 1 || !any_port_claimed(b, port, size)) {
        port_unclaimed(b, port, size, false);
        return size_mask(size);
    }
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
    if (size == 1 || !any_port_claimed(b, port, size)) {
        port_unclaimed(b, port, size, true);
        return;
    }
    for (unsigned i = 0; i < size; i++)
        bus_out(b, (uint16_t)(port + i), (value >> (8 * i)) & 0xFFu, 1);
}

uint32_t bus_mmio_read(struct bus *b, uint32_t addr, unsigned size)
{
    size = clamp_size(size);
    const struct mmio_range *m = bus_mmio_range(b, addr, size);
    if (m)
        return bus_range_read(m, addr, size);
    if (size == 1 || !any_mmio_claimed(b, addr, size)) {
        mmio_unclaimed(b, addr, size, false);
        return size_mask(size);
    }
    uint32_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= bus_mmio_read(b, addr + i, 1) << (8 * i);
    return v;
}

uint32_t bus_range_read(const struct mmio_range *m, uint32_t addr, unsigned size)
{
    size = clamp_size(size);
    return m->read ? m->read(m->dev, addr - m->base, size) & size_mask(size) : size_mask(size);
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
    if (size == 1 || !any_mmio_claimed(b, addr, size)) {
        mmio_unclaimed(b, addr, size, true);
        return;
    }
    for (unsigned i = 0; i < size; i++)
        bus_mmio_write(b, addr + i, (value >> (8 * i)) & 0xFFu, 1);
}
