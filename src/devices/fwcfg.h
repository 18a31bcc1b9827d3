/* QEMU's firmware configuration device, legacy port interface (QEMU docs/specs/fw_cfg.rst):
 * a 16-bit write to 0x510 selects an item and rewinds it; each byte read from 0x511 gives the
 * item's next byte (0 past its end, and for an item that does not exist).
 *
 *   0x0000 signature  "QEMU"                  0x0001 ID       1 (port interface, no DMA)
 *   0x0002 UUID       16 zero bytes           0x0003 RAM size 8 bytes, little-endian
 *   0x0005 CPU count  1 (2 bytes)             0x000F max CPUs 1 (2 bytes)
 *   0x0019 file directory: a count of 0 (4 bytes, big-endian): no files
 *
 * Not modelled: the DMA interface (0x514), writes to items, files (ACPI tables are in memory,
 * see machine/pc.c). State: `s`; the RAM size is wiring (the machine's).
 */
#ifndef RINGSIDE_FWCFG_H
#define RINGSIDE_FWCFG_H

#include <stdint.h>

struct bus;

#define FWCFG_PORT_SEL  0x510u
#define FWCFG_PORT_DATA 0x511u

enum {
    FWCFG_SIGNATURE = 0x00, FWCFG_ID = 0x01, FWCFG_UUID = 0x02, FWCFG_RAM_SIZE = 0x03,
    FWCFG_NB_CPUS = 0x05, FWCFG_MAX_CPUS = 0x0F, FWCFG_FILE_DIR = 0x19,
};

struct fwcfg_state {
    uint16_t selector;
    uint32_t offset;
};

struct fwcfg {
    struct fwcfg_state s;
    uint64_t ram_size; /* wiring: what item 0x0003 says */
};

void fwcfg_init(struct fwcfg *f, uint64_t ram_size);
int fwcfg_attach(struct fwcfg *f, struct bus *b);
/* Byte `offset` of item `key` (0 past its end or for an unknown key). */
uint8_t fwcfg_item_byte(const struct fwcfg *f, uint16_t key, uint32_t offset);

#endif
