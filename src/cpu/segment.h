/* Segmentation: from segment:offset to a linear address, with the SDM's checks.
 *
 * A segment register whose cache says `flat` (base 0, 4 GiB limit, writable expand-up data)
 * costs one test; anything else goes through seg_lin_check(), which applies the type, the limit
 * (expand-up or expand-down, byte or page granular) and raises #GP(0) — #SS(0) for SS.
 * Descriptors are decoded by descriptor.h; faults about selectors carry a struct sel_fault
 * (fault.h) saying which check failed. */
#ifndef RINGSIDE_SEGMENT_H
#define RINGSIDE_SEGMENT_H

#include <stdint.h>

#include "cpu/cpu.h"

uint32_t seg_lin_check(struct cpu *c, int seg, uint32_t off, unsigned size, int write);

static inline uint32_t seg_lin(struct cpu *c, int seg, uint32_t off, unsigned size, int write)
{
    if (__builtin_expect(c->seg[seg].flat, 1))
        return off;
    return seg_lin_check(c, seg, off, size, write);
}

/* Linear address of CS:EIP for an instruction fetch (#GP(0) beyond the CS limit). */
uint32_t seg_fetch_lin(struct cpu *c);

/* #GP(0) for an instruction at CS:EIP whose bytes end beyond the CS limit. */
_Noreturn void seg_fetch_fault(struct cpu *c);

/* Recomputes seg->flat from its base, limit and attributes. */
void seg_update_flat(struct segment *s);

/* Loads a segment register in protected mode from a selector, applying every check of the SDM
 * for that register (see segment.c). */
void seg_load(struct cpu *c, int seg, uint16_t sel);

/* Descriptor access: reads and decodes the descriptor a selector names (GDT or LDT by TI; an
 * implicit supervisor access, which may #PF) and stores its linear address in *addr. Returns
 * SR_NONE, or why there is none: SR_NO_LDT (TI = 1, no LDT), SR_BEYOND_LIMIT. */
enum sel_reason desc_read(struct cpu *c, uint16_t sel, struct desc *d, uint32_t *addr);
/* A segment-register cache from a descriptor. */
void desc_to_segment(uint16_t sel, const struct desc *d, struct segment *s);
/* The same for far transfers and returns: #GP(0) for a null selector, #GP(selector) outside
 * the table; `use` says what the selector is for (the fault's detail). */
void desc_read_or_gp(struct cpu *c, uint16_t sel, enum sel_use use, struct desc *d);

/* Sets CS and CPL together (the single place CPL changes). */
void seg_set_cs(struct cpu *c, uint16_t sel, uint32_t base, uint32_t limit, uint16_t attr);
void cpu_set_cpl(struct cpu *c, uint8_t cpl);

/* ---- selector faults ----
 * The detail of a fault about selector `sel` used as `use`, when `why` failed: its table
 * (GDT/LDT by TI, none for a null selector), the table's limit for SR_BEYOND_LIMIT, and the
 * type and DPL of d (the descriptor read, or NULL). */
struct sel_fault sel_fault_of(const struct cpu *c, enum sel_reason why, enum sel_use use,
                              uint16_t sel, const struct desc *d);
/* Raises vector with error code `error` and the detail f (does not return). */
_Noreturn void raise_sel_fault(struct cpu *c, int vector, uint32_t error,
                               const struct sel_fault *f);
/* Both at once. */
_Noreturn void raise_sel(struct cpu *c, int vector, uint32_t error, enum sel_reason why,
                         enum sel_use use, uint16_t sel, const struct desc *d);
/* A fault about IDT gate `vector` (d: the gate read, or NULL). */
_Noreturn void raise_gate(struct cpu *c, int exc, uint32_t error, enum sel_reason why,
                          unsigned vector, const struct desc *d);
/* An offset beyond a limit (a branch target beyond CS, a TSS too small), #GP or #TS. */
_Noreturn void raise_limit(struct cpu *c, int exc, uint32_t error, enum sel_reason why,
                           enum sel_use use, uint16_t sel, uint32_t offset, uint32_t limit);

#endif
