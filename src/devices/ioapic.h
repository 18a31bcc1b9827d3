/* The I/O APIC (Intel 82093AA data sheet) at 0xFEC00000: 24 interrupt inputs, each with a
 * redirection entry saying which vector goes to which local APIC.
 *
 *   0xFEC00000 IOREGSEL  bits 7..0 select a register        0xFEC00010 IOWIN  its value
 *
 *   index 0x00 IOAPICID   bits 27..24 the ID (others 0)     (reset 0; the firmware sets 1)
 *         0x01 IOAPICVER  0x00170011: 24 entries (23 in bits 23..16), version 0x11 (RO)
 *         0x02 IOAPICARB  arbitration ID, bits 27..24 (RO: the ID)
 *         0x10 + 2n       entry n, bits 31..0:                (reset: masked, the rest 0)
 *                           7..0 vector, 10..8 delivery mode (0 fixed, 1 lowest priority,
 *                           2 SMI, 4 NMI, 5 INIT, 7 ExtINT), 11 destination mode (1 logical),
 *                           12 delivery status (RO), 13 polarity (1 active low),
 *                           14 remote IRR (RO), 15 trigger (1 level), 16 mask
 *         0x11 + 2n       entry n, bits 63..32: 63..56 the destination
 *
 * An edge-triggered input sends its vector at each asserting edge while unmasked. A
 * level-triggered input sends it while asserted and unmasked when remote IRR is clear, and sets
 * remote IRR; the local APIC's EOI of that vector (ioapic_eoi) clears it, and an input still
 * asserted sends again. Messages go out through `deliver` (the machine gives them to the
 * local APIC whose ID or logical destination matches). An entry in NMI mode (4) sends an NMI
 * through `nmi` at each asserting edge while unmasked, whatever its trigger bit (the data
 * sheet: NMI is edge-triggered), vector ignored, remote IRR untouched. SMI, INIT and ExtINT
 * are not modelled (dropped).
 *
 * State and wiring: `s` is the state; deliver, nmi and their context are wiring.
 */
#ifndef RINGSIDE_IOAPIC_H
#define RINGSIDE_IOAPIC_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/irq.h"

struct bus;

#define IOAPIC_BASE    0xFEC00000u
#define IOAPIC_SIZE    0x20u
#define IOAPIC_PINS    24u
#define IOAPIC_VERSION 0x00170011u

#define IOREDTBL_MASKED    0x10000u
#define IOREDTBL_LEVEL     0x8000u
#define IOREDTBL_REMOTEIRR 0x4000u
#define IOREDTBL_LOW       0x2000u  /* active low */
#define IOREDTBL_LOGICAL   0x800u

/* A message to the local APICs: destination, mode, vector, trigger, and the input it came from. */
typedef void (*ioapic_deliver_fn)(void *ctx, uint8_t dest, bool logical, uint8_t vector,
                                  bool level, unsigned pin);

struct ioapic_state {
    uint32_t id;                  /* IOAPICID as read */
    uint32_t sel;                 /* IOREGSEL */
    uint64_t redir[IOAPIC_PINS];
    uint32_t level;               /* input levels, a bit per pin */
};

struct ioapic {
    struct ioapic_state s;
    ioapic_deliver_fn deliver;    /* wiring */
    void *deliver_ctx;
    /* An NMI message: destination and the input it came from (context deliver_ctx). */
    void (*nmi)(void *ctx, uint8_t dest, bool logical, unsigned pin);
};

void ioapic_init(struct ioapic *io, ioapic_deliver_fn deliver, void *ctx);
int ioapic_attach(struct ioapic *io, struct bus *b);

/* Input pin as a line (for a fan-out or a device to drive). Unmasked: its entry's mask clear. */
struct irq_line ioapic_input(struct ioapic *io, unsigned pin);
void ioapic_set_irq(struct ioapic *io, unsigned pin, bool level);
/* Is any unmasked entry in NMI delivery mode (can an input send an NMI)? */
bool ioapic_nmi_routed(const struct ioapic *io);
/* The local APIC ended a level-triggered vector. */
void ioapic_eoi(void *ioapic, uint8_t vector);

/* IOREGSEL/IOWIN by index (what the MMIO range does). */
uint32_t ioapic_read_reg(struct ioapic *io, uint32_t index);
void ioapic_write_reg(struct ioapic *io, uint32_t index, uint32_t value);

#endif
