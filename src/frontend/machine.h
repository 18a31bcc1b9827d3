/* A whole Ringside PC: the cpu, its RAM, the port bus and the devices wired to it.
 *
 *   ports 0x20..0x21, 0xA0..0xA1  8259A PIC pair -> the cpu's INTR input
 *   ports 0x40..0x43              8254 PIT, counter 0 -> IRQ 0
 *   ports 0x70..0x71              CMOS RAM and RTC (deterministic clock, memory size bytes)
 *   ports 0x3F8..0x3FF            COM1 16550 UART (output through the console callback) -> IRQ 4
 *   ports 0xF4..0xF7              isa-debug-exit
 *
 * Device time is the cpu's instruction count (plus the time it spends halted), at
 * MACHINE_DEFAULT_IPS instructions per second of guest time unless set otherwise, so a run is
 * reproducible bit for bit.
 *
 * A machine is self-contained (no globals), so tests may create several.
 */
#ifndef RINGSIDE_MACHINE_H
#define RINGSIDE_MACHINE_H

#include <stddef.h>
#include <stdint.h>

#include "cpu/cpu.h"
#include "devices/bus.h"
#include "devices/cmos.h"
#include "devices/debugexit.h"
#include "devices/pic8259.h"
#include "devices/pit8254.h"
#include "devices/uart16550.h"
#include "frontend/loader.h"

#define MACHINE_MEM_MIN_MIB     2u    /* smallest RAM: low memory plus 1 MiB above it */
#define MACHINE_MEM_MAX_MIB     3072u /* largest RAM: stays below the 3 GiB..4 GiB MMIO hole */
#define MACHINE_MEM_DEFAULT_MIB 128u
#define MACHINE_DEFAULT_IPS 100000000u /* guest time: 100 instructions per microsecond */

struct machine {
    struct cpu cpu;
    struct bus bus;
    uint8_t *ram;
    uint32_t ram_size;        /* bytes */
    struct uart16550 uart;    /* COM1 */
    struct debugexit debugexit;
    struct pic_pair pic;
    struct pit8254 pit;
    struct cmos cmos;
    struct devclock clock;
    /* Console input: bytes read from input_fd arrive on COM1's receiver, at most one per
     * character time of the programmed baud rate and only when its FIFO is empty, so a run is
     * reproducible for the same input. */
    int input_fd;             /* -1: no input (or it ended) */
    uint64_t next_input;      /* device time of the next input poll */
    bool realtime;            /* pace device time by the wall clock (--realtime) */
    uint64_t wall_start_ns;   /* host monotonic time when pacing started */
    struct boot_state boot;   /* what the last machine_load handed over */
};

/* Receives each byte COM1 transmits. */
typedef void (*machine_console_fn)(void *ctx, uint8_t byte);

/* A machine with mem_mib MiB of zeroed RAM (MACHINE_MEM_MIN_MIB..MACHINE_MEM_MAX_MIB); the
 * console callback may be NULL (output dropped). Returns NULL when out of memory or when
 * mem_mib is out of range. */
struct machine *machine_create(uint32_t mem_mib, machine_console_fn console, void *console_ctx);
void machine_destroy(struct machine *m);

/* Loads the image (loader_load), then sets up the cpu as the boot protocol says: flat
 * protected mode at the entry point, EAX/EBX for Multiboot, decoded code flushed.
 * Returns 0, or -1 with a one-line reason in err. */
/* Feeds COM1's receiver from fd (see struct machine): a blocking fd makes the guest wait for
 * input deterministically; a non-blocking one (a terminal) is polled. */
void machine_set_input(struct machine *m, int fd);

/* --realtime: device time never runs ahead of the wall clock (the host sleeps instead, e.g.
 * while the guest halts), so guest seconds are real seconds whenever the cpu is fast enough.
 * Runs are then no longer reproducible. */
void machine_set_realtime(struct machine *m, bool on);

/* Sets how many instructions make one second of guest time (device clock rate). */
void machine_set_ips(struct machine *m, uint64_t ips);

int machine_load(struct machine *m, const struct boot_params *p, char *err, size_t errlen);

#endif
