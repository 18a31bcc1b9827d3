/* The standard-PC half of the machine: what `qemu-system-i386 -kernel` gives a kernel beyond
 * the ISA devices of machine.c, and the firmware data a PC BIOS leaves in memory.
 *
 * Devices (one file each in src/devices; docs/machine.md has the whole table):
 *
 *   0xFEE00000  local APIC (lapic.c), IA32_APIC_BASE    0xFEC00000  I/O APIC (ioapic.c)
 *   0xFED00000  HPET (hpet.c)                           ports 0x600..0x60B ACPI PM (acpipm.c)
 *   ports 0x510..0x511 fw_cfg (fwcfg.c)                 ports 0x3D4..0x3D5 CGA CRTC (crtc.c)
 *   port 0x92   system control port A (port92.c)
 *
 * Interrupt wiring (no device holds a pointer to another: lines and callbacks only):
 *
 *   ISA IRQ n --fan-out--+--> 8259A input n --INTR--> LAPIC LINT0 (ExtINT) --+
 *                        +--> I/O APIC pin n (IRQ 0: pin 2)                   |
 *   HPET timer --------------> I/O APIC pin 20..23                            +--> cpu INTR
 *   I/O APIC --message (pc_deliver: destination match)--> LAPIC IRR ---------+
 *   LAPIC timer, LINTn (fixed), error, self IPI -------> LAPIC IRR
 *   cpu.intc.ack = lapic_ack (an ExtINT acknowledge is the 8259A pair's: pic_ack)
 *   LAPIC EOI of a level-triggered vector --> ioapic_eoi
 *
 * Firmware data (pc_firmware, at boot; SeaBIOS's layout where it matters to a kernel):
 *
 *   0x00400  BDA: COM1 base (0x400), EBDA segment (0x40E) 0x9FC0, base memory (0x413) 639 KiB
 *   0x9FC00  EBDA (1 KiB; first word: its size in KiB)
 *   0xF0000  MP floating pointer "_MP_", then the MP configuration table "PCMP": one processor
 *            (APIC ID 0, BSP), bus 0 ISA, one I/O APIC (ID 1), an interrupt entry per ISA IRQ
 *            and ExtINT/NMI local entries (MP spec 1.4 chapter 4)
 *   0xF0400  ACPI: RSDP "RSD PTR " (revision 0) -> RSDT -> MADT "APIC", FADT "FACP" (with the
 *            PM timer, FACS and an empty DSDT), "HPET"; every checksum right
 *
 * Each device's state is in its `s` field (snapshots copy them); the rest is wiring.
 */
#ifndef RINGSIDE_PC_H
#define RINGSIDE_PC_H

#include <stdint.h>

struct machine;

#define PC_IOAPIC_ID  1u        /* the I/O APIC's ID, as the firmware sets and the tables say */
#define PC_EBDA       0x9FC00u
#define PC_MP_FPS     0xF0000u  /* MP floating pointer structure */
#define PC_MP_TABLE   0xF0010u  /* MP configuration table */
#define PC_ACPI_RSDP  0xF0400u
#define PC_ACPI_BASE  0xF0420u  /* the ACPI tables follow the RSDP */
#define PC_FIRMWARE_END 0xF1000u

/* The I/O APIC input an ISA IRQ reaches (IRQ 0 is on pin 2, as on QEMU's PC). */
static inline unsigned pc_isa_pin(unsigned irq)
{
    return irq == 0 ? 2u : irq;
}

/* Creates, attaches and wires the PC devices of m (after machine.c's own). Returns 0 or -1. */
int pc_attach(struct machine *m);

/* Writes the BIOS data area, EBDA, MP and ACPI tables into RAM (RAM must reach 1 MiB). */
void pc_firmware(struct machine *m);

/* A byte sum (tables are right when it is 0 mod 256). */
uint8_t pc_checksum(const uint8_t *p, uint32_t len);

#endif
