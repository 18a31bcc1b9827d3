/* The port-I/O bus and the MMIO map: how the cpu reaches devices.
 *
 * Devices register handlers for port ranges and physical address ranges. The cpu calls
 * bus_in/bus_out for IN/OUT and bus_mmio_read/bus_mmio_write for physical addresses that are not
 * RAM. Devices never see the cpu: a device that wants the machine to stop (the debug-exit port)
 * sets bus->exit_requested and bus->exit_status, which the cpu checks after each port write.
 * Unclaimed ports read as all ones and ignore writes, as on a PC.
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

#define BUS_MAX_PORT_RANGES 32
#define BUS_MAX_MMIO_RANGES 16

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
    void *dev;
};

struct bus {
    struct port_range ports[BUS_MAX_PORT_RANGES];
    int nports;
    struct mmio_range mmio[BUS_MAX_MMIO_RANGES];
    int nmmio;
    bool exit_requested;
    int exit_status;
};

void bus_init(struct bus *b);
/* Return 0, or -1 if the table is full or the range overlaps one already claimed. */
int bus_add_ports(struct bus *b, uint16_t first, uint16_t last, io_read_fn rd, io_write_fn wr,
                  void *dev);
int bus_add_mmio(struct bus *b, uint32_t base, uint32_t size, mmio_read_fn rd, mmio_write_fn wr,
                 void *dev);

uint32_t bus_in(struct bus *b, uint16_t port, unsigned size);
void bus_out(struct bus *b, uint16_t port, uint32_t value, unsigned size);
/* Physical addresses outside RAM: unclaimed reads give all ones, writes are dropped. */
uint32_t bus_mmio_read(struct bus *b, uint32_t addr, unsigned size);
void bus_mmio_write(struct bus *b, uint32_t addr, uint32_t value, unsigned size);

#endif
