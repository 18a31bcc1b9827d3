/* Segmentation: from segment:offset to a linear address, with the SDM's checks.
 *
 * A segment register whose cache says `flat` (base 0, 4 GiB limit, writable expand-up data)
 * costs one test; anything else goes through seg_lin_check(), which applies the type, the limit
 * (expand-up or expand-down, byte or page granular) and raises #GP(0) — #SS(0) for SS. */
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

/* Recomputes seg->flat from its base, limit and attributes. */
void seg_update_flat(struct segment *s);

/* Loads a segment register in protected mode from a selector, applying every check of the SDM
 * for that register (see segment.c). */
void seg_load(struct cpu *c, int seg, uint16_t sel);

/* Descriptor access: reads the descriptor a selector names (false if beyond the table) and
 * turns a descriptor into a segment-register cache. */
bool desc_read(struct cpu *c, uint16_t sel, uint32_t *lo, uint32_t *hi, uint32_t *addr);
void desc_to_segment(uint16_t sel, uint32_t lo, uint32_t hi, struct segment *s);
/* The same for far transfers and returns: #GP(0) for a null selector, #GP(selector) outside the
 * table. */
void desc_read_or_gp(struct cpu *c, uint16_t sel, uint32_t *lo, uint32_t *hi);

/* Sets CS and CPL together (the single place CPL changes). */
void seg_set_cs(struct cpu *c, uint16_t sel, uint32_t base, uint32_t limit, uint16_t attr);
void cpu_set_cpl(struct cpu *c, uint8_t cpl);

#endif
