/* The port-I/O bus and the MMIO map: how the cpu reaches devices.
 *
 * Devices register handlers for port ranges and physical address ranges. The cpu calls
 * bus_in/bus_out for IN/OUT and bus_mmio_read/bus_mmio_write for physical addresses that are not
 * RAM. Devices never see the cpu: a device that wants the machine to stop (the debug-exit port)
 * sets bus->exit_requested and bus->exit_status, which the cpu checks after each port write.
 * Unclaimed ports read as all ones and ignore writes, as on a PC.
 *
 * Unclaimed accesses can be reported (`--log unimp`): with bus_set_unclaimed, the first access
 * to each unclaimed port, and to each of the first BUS_MAX_SEEN_MMIO unclaimed MMIO addresses,
 * is passed to the callback once. An access of which no byte is claimed is reported once, with
 * its size; one that is partly claimed reports each unclaimed byte.
 */
#ifndef RINGSIDE_BUS_H
#define RINGSIDE_BUS_H

#include <stdbool.h>
#include <stdint.h>

/* size is 1, 2 or 4 bytes. */
typedef uint32_t (*io_read_fn)(void *dev, uint16_t port, unsigned size);
typedef void (*io_write_fn)(void *dev, uint16_t port, uint32_t value, unsigned size);
typedef uint32_t (*mmio_read_fn)(void *dev, uint32_t offset, unsigned size);
typedef void (*mmio_write_fn)(void *dev, uint32_t offset, uint32_t value, unsigned size);
/* A read that changes nothing and does not depend on device time (bus_set_mmio_peek): true with
 * the value the read function would give (size 1, 2 or 4, inside the range), or false, changing
 * nothing, when the read must go to the read function. */
typedef bool (*mmio_peek_fn)(const void *dev, uint32_t offset, unsigned size, uint32_t *value);

#define BUS_MAX_PORT_RANGES 32
#define BUS_MAX_MMIO_RANGES 16
#define BUS_MAX_SEEN_MMIO   64 /* unclaimed MMIO addresses reported; later ones are not */

/* Told of an unclaimed access: mmio says whether addr is a physical address or a port; size
 * is 1, 2 or 4. After BUS_MAX_SEEN_MMIO MMIO addresses, one last call comes with size 0 (the
 * list is full: further addresses are not reported). */
typedef void (*bus_unclaimed_fn)(void *ctx, bool mmio, uint32_t addr, unsigned size, bool write);

struct port_range {
    uint16_t first, last;
    io_read_fn read;
    io_write_fn write;
    void *dev;
};

struct mmio_range {
    uint32_t base, size;
    mmio_read_fn read;
    mmio_write_fn write;
    mmio_peek_fn peek; /* NULL: every read goes to read */
    void *dev;
};

struct bus {
    struct port_range ports[BUS_MAX_PORT_RANGES];
    int nports;
    struct mmio_range mmio[BUS_MAX_MMIO_RANGES];
    int nmmio;
    bool exit_requested;
    int exit_status;
    /* Reporting of unclaimed accesses (NULL: off). */
    bus_unclaimed_fn unclaimed;
    void *unclaimed_ctx;
    uint8_t port_seen[65536 / 8];     /* one bit per port: already reported */
    uint32_t mmio_seen[BUS_MAX_SEEN_MMIO];
    int nmmio_seen;                   /* BUS_MAX_SEEN_MMIO + 1 once the list overflowed */
};

void bus_init(struct bus *b);
/* Return 0, or -1 if the table is full or the range overlaps one already claimed. */
int bus_add_ports(struct bus *b, uint16_t first, uint16_t last, io_read_fn rd, io_write_fn wr,
                  void *dev);
int bus_add_mmio(struct bus *b, uint32_t base, uint32_t size, mmio_read_fn rd, mmio_write_fn wr,
                 void *dev);

/* Gives the range that starts at base a peek function: the cpu may take a read's value from it
 * without making the device's time exact first (mmu/mem.c mmio_read). Returns -1 if no range
 * starts there. */
int bus_set_mmio_peek(struct bus *b, uint32_t base, mmio_peek_fn peek);
/* The range that holds the whole access of size bytes at addr, or NULL (the cpu remembers it
 * per TLB slot). Ranges are never removed or moved, so the pointer stays valid as long as the
 * bus. */
const struct mmio_range *bus_mmio_range(const struct bus *b, uint32_t addr, unsigned size);

/* Reports each first unclaimed access to fn (NULL turns reporting off). */
void bus_set_unclaimed(struct bus *b, bus_unclaimed_fn fn, void *ctx);

uint32_t bus_in(struct bus *b, uint16_t port, unsigned size);
void bus_out(struct bus *b, uint16_t port, uint32_t value, unsigned size);
/* Physical addresses outside RAM: unclaimed reads give all ones, writes are dropped. */
uint32_t bus_mmio_read(struct bus *b, uint32_t addr, unsigned size);
void bus_mmio_write(struct bus *b, uint32_t addr, uint32_t value, unsigned size);
/* bus_mmio_read of an access of size 1, 2 or 4 that lies inside range m (bus_mmio_range): the
 * same value without the lookup. */
uint32_t bus_range_read(const struct mmio_range *m, uint32_t addr, unsigned size);

#endif
