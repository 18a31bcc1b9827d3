/* A whole Ringside PC: the cpu, its RAM, the port bus and the devices wired to it.
 *
 *   ports 0x20..0x21, 0xA0..0xA1  8259A PIC pair -> the cpu's INTR input
 *   ports 0x40..0x43              8254 PIT, counter 0 -> IRQ 0
 *   ports 0x70..0x71              CMOS RAM and RTC (deterministic clock, memory size bytes)
 *   ports 0x3F8..0x3FF            COM1 16550 UART (bytes out to the console and the taps,
 *                                 in from the input queue) -> IRQ 4
 *   ports 0xF4..0xF7              isa-debug-exit
 *   and the standard-PC devices of machine/pc.h: local APIC, I/O APIC, HPET, ACPI PM timer,
 *   fw_cfg, CRTC, port 0x92 (the 8259A pair's INTR reaches the cpu through the local APIC's
 *   LINT0), with the firmware tables a PC BIOS leaves written at boot.
 *   ports 0x700..0x70B            the names port: the guest names its address spaces and
 *                                 system calls (machine/spaces.h, docs/names-port.md)
 *
 * Wiring: no device knows another. Each drives interrupt lines (devices/irq.h) that the machine
 * connects: an ISA IRQ is a fan-out (today to the 8259A pair's input, later also to the I/O
 * APIC), and the pair's INTR output goes to cpu_set_intr; the cpu acknowledges through
 * cpu.intc. Devices with a future event keep a deadline in the machine's timer queue
 * (devices/timerq.h); the earliest is the cpu's next_event.
 *
 *     PIT OUT0 --> isa_irq[0] --> PIC input 0 --+
 *     UART     --> isa_irq[4] --> PIC input 4 --+--> 8259A pair --INTR--> cpu_set_intr(cpu)
 *                                                     ^
 *                          cpu.intc.ack = pic_ack ----+  (when the cpu takes INTR)
 *
 *     timer queue: PIT (next IRQ 0 edge), console input (pace) --earliest--> cpu.next_event
 *
 * Device time is the cpu's instruction count (plus the time it spends halted), at
 * MACHINE_DEFAULT_IPS instructions per second of guest time unless set otherwise, so a run is
 * reproducible bit for bit. At a device event the machine fires the due timers and sets the
 * next event; while the cpu is halted only timers whose event could wake it count (each device
 * answers: is its interrupt enabled and its line unmasked), so a halt that no device can end
 * stops the run.
 *
 * A machine is self-contained (no globals), so tests may create several. Its state, which a
 * snapshot saves (machine/snapshot.h): the cpu, RAM, each device's state fields (documented in
 * its header), the timer deadlines and the console input queue; everything else is wiring
 * rebuilt by machine_create.
 */
#ifndef RINGSIDE_MACHINE_H
#define RINGSIDE_MACHINE_H

#include <stddef.h>
#include <stdint.h>

#include "cpu/cpu.h"
#include "devices/acpipm.h"
#include "devices/bus.h"
#include "devices/cmos.h"
#include "devices/crtc.h"
#include "devices/debugexit.h"
#include "devices/devclock.h"
#include "devices/fwcfg.h"
#include "devices/hpet.h"
#include "devices/ioapic.h"
#include "devices/irq.h"
#include "devices/lapic.h"
#include "devices/pic8259.h"
#include "devices/pit8254.h"
#include "devices/timerq.h"
#include "devices/port92.h"
#include "devices/uart16550.h"
#include "machine/console.h"
#include "machine/spaces.h"

#define MACHINE_MEM_MIN_MIB     2u    /* smallest RAM: low memory plus 1 MiB above it */
#define MACHINE_MEM_MAX_MIB     3072u /* largest RAM: stays below the 3 GiB..4 GiB MMIO hole */
#define MACHINE_MEM_DEFAULT_MIB 256u /* xv6 needs 224 MiB */
#define MACHINE_DEFAULT_IPS 100000000u /* guest time: 100 instructions per microsecond */
#define MACHINE_ISA_IRQS    16u        /* ISA interrupt lines (IRQ 2 is the cascade) */

/* Receives each byte COM1 transmits. */
typedef void (*machine_console_fn)(void *ctx, uint8_t byte);

struct machine {
    struct cpu cpu;
    struct bus bus;
    uint8_t *ram;
    uint32_t ram_size;        /* bytes */
    /* Devices. */
    struct uart16550 uart;    /* COM1 */
    struct debugexit debugexit;
    struct pic_pair pic;
    struct pit8254 pit;
    struct cmos cmos;
    /* The standard-PC devices (machine/pc.h). */
    struct lapic lapic;
    struct ioapic ioapic;
    struct hpet hpet;
    struct acpipm acpipm;
    struct fwcfg fwcfg;
    struct crtc crtc;
    struct port92 port92;
    struct names_port names;  /* the guest's names for its spaces (machine/spaces.h) */
    /* Time and wiring. */
    struct devclock clock;
    struct timerq timers;     /* every device deadline; the earliest is cpu.next_event */
    struct irq_fanout isa_irq[MACHINE_ISA_IRQS]; /* ISA IRQ n -> PIC input n */
    /* The console: COM1's bytes as data (machine/console.h). */
    struct machine_input input;
    machine_console_fn console;
    void *console_ctx;
    struct console_tap taps[MACHINE_MAX_TAPS];
    /* What the guest called its address spaces and system calls. */
    struct machine_spaces spaces;
    /* Snapshots (machine/snapshot.h): the newest of this machine's chain, NULL: none. */
    struct snapshot *snap_newest;
    /* --realtime. */
    bool realtime;            /* pace device time by the wall clock */
    uint64_t wall_start_ns;   /* host monotonic time when pacing started */
};

/* A machine with mem_mib MiB of zeroed RAM (MACHINE_MEM_MIN_MIB..MACHINE_MEM_MAX_MIB); the
 * console callback may be NULL (output dropped, taps still see it). Returns NULL when out of
 * memory or when mem_mib is out of range. */
struct machine *machine_create(uint32_t mem_mib, machine_console_fn console, void *console_ctx);
void machine_destroy(struct machine *m);

/* Hands the cpu over as a Multiboot loader does, once the image is in RAM: the firmware data
 * written (machine/pc.h: BDA, EBDA, MP and ACPI tables), flat protected mode at entry, EAX and
 * EBX as given, decoded code flushed. */
void machine_boot(struct machine *m, uint32_t entry, uint32_t eax, uint32_t ebx);

/* The line a device on ISA IRQ irq (0..15) drives. */
struct irq_line machine_isa_irq(struct machine *m, unsigned irq);

/* The ISA IRQ (0..15) whose interrupts the 8259A pair delivers at vector, -1 if none. */
int machine_isa_irq_of(const struct machine *m, unsigned vector);

/* --realtime: device time never runs ahead of the wall clock (the host sleeps instead, e.g.
 * while the guest halts), so guest seconds are real seconds whenever the cpu is fast enough.
 * Runs are then no longer reproducible. */
void machine_set_realtime(struct machine *m, bool on);

/* Sets how many instructions make one second of guest time (device clock rate); call it before
 * the run (deadlines already armed keep the device times they were given). */
void machine_set_ips(struct machine *m, uint64_t ips);

#endif
