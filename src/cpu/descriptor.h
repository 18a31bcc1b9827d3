/* Selectors, segment descriptors and gates as the hardware lays them out (SDM vol. 3 3.4,
 * 3.5, 5.8, 6.11), and one decoder with named predicates that every part of the cpu (and every
 * client) uses instead of masking raw descriptor words.
 *
 * Selector (16 bits):
 *
 *    15                                3   2   1  0
 *   +-----------------------------------+----+------+
 *   |               index               | TI | RPL  |     TI: 0 = GDT, 1 = LDT
 *   +-----------------------------------+----+------+     byte offset in the table = index * 8
 *
 * A selector whose index and TI are both 0 (0x0000..0x0003) is the null selector.
 *
 * Segment descriptor (8 bytes; lo = bytes 0..3, hi = bytes 4..7):
 *
 *   hi:  31        24 23  22  21  20  19    16 15  14 13 12  11    8 7          0
 *       +------------+---+---+---+---+--------+---+-----+---+-------+------------+
 *       | base 31:24 | G |D/B| L |AVL|lim 19:16| P | DPL | S | type  | base 23:16 |
 *       +------------+---+---+---+---+--------+---+-----+---+-------+------------+
 *   lo:  31                            16 15                                    0
 *       +--------------------------------+--------------------------------------+
 *       |          base 15:0             |              limit 15:0              |
 *       +--------------------------------+--------------------------------------+
 *
 * With G = 1 the 20-bit limit counts 4 KiB units: the byte limit is (limit << 12) | 0xFFF.
 *
 * Type field with S = 1 (code or data):
 *
 *   bit 3   bit 2                  bit 1                    bit 0
 *   0 data  E: expand-down         W: writable              A: accessed
 *   1 code  C: conforming          R: readable              A: accessed
 *
 * Type field with S = 0 (system), the 32-bit protected-mode types:
 *
 *   0x1 16-bit TSS (available)   0x2 LDT                    0x3 16-bit TSS (busy)
 *   0x4 16-bit call gate         0x5 task gate              0x6 16-bit interrupt gate
 *   0x7 16-bit trap gate         0x9 32-bit TSS (available) 0xB 32-bit TSS (busy)
 *   0xC 32-bit call gate         0xE 32-bit interrupt gate  0xF 32-bit trap gate
 *   (0x0, 0x8, 0xA, 0xD reserved)
 *
 * Gate descriptor (call, interrupt, trap; a task gate uses only the selector):
 *
 *   hi:  31                            16 15  14 13 12  11    8 7   5 4          0
 *       +--------------------------------+---+-----+---+-------+-----+------------+
 *       |          offset 31:16          | P | DPL | 0 | type  | 000 | param count|
 *       +--------------------------------+---+-----+---+-------+-----+------------+
 *   lo:  31                            16 15                                    0
 *       +--------------------------------+--------------------------------------+
 *       |       segment selector         |             offset 15:0              |
 *       +--------------------------------+--------------------------------------+
 *
 * (16-bit gates use only offset 15:0; param count is for call gates.)
 */
#ifndef RINGSIDE_DESCRIPTOR_H
#define RINGSIDE_DESCRIPTOR_H

#include <stdbool.h>
#include <stdint.h>

/* ---- selectors ---- */

#define SEL_RPL 0x0003u   /* requested privilege level */
#define SEL_TI 0x0004u    /* table indicator: 1 = LDT */
#define SEL_INDEX 0xFFF8u /* index * 8: the byte offset of the descriptor in its table */
#define SEL_NONNULL 0xFFFCu /* index and TI: all zero in a null selector */

static inline unsigned sel_rpl(uint16_t sel) { return sel & SEL_RPL; }
static inline bool sel_is_null(uint16_t sel) { return (sel & SEL_NONNULL) == 0; }
static inline bool sel_in_ldt(uint16_t sel) { return (sel & SEL_TI) != 0; }
/* The selector as an error code reports it: RPL replaced by the EXT/IDT bits (exceptions.h). */
static inline uint32_t sel_error(uint16_t sel) { return sel & SEL_NONNULL; }

/* ---- descriptor words (hi = bytes 4..7) ---- */

#define DESC_HI_TYPE 0x00000F00u  /* type field */
#define DESC_HI_S 0x00001000u     /* 1 = code/data, 0 = system */
#define DESC_HI_DPL 0x00006000u   /* descriptor privilege level */
#define DESC_HI_P 0x00008000u     /* present */
#define DESC_HI_AVL 0x00100000u   /* available to software */
#define DESC_HI_L 0x00200000u     /* 64-bit code (IA-32e only; 0 here) */
#define DESC_HI_DB 0x00400000u    /* default operand size (code) / big (stack) */
#define DESC_HI_G 0x00800000u     /* granularity: limit in 4 KiB units */
#define DESC_HI_ACCESSED 0x00000100u /* type bit 0 of a code/data descriptor */
#define DESC_HI_BUSY 0x00000200u  /* type bit 1 of a TSS descriptor: busy */
#define GATE_HI_PARAMS 0x0000001Fu /* call gate: parameters to copy */

/* Type bits of a code/data descriptor (S = 1). */
#define TYPE_ACCESSED 0x1u /* A */
#define TYPE_RW 0x2u       /* data: W (writable); code: R (readable) */
#define TYPE_EC 0x4u       /* data: E (expand-down); code: C (conforming) */
#define TYPE_CODE 0x8u     /* 1 = code */

/* System descriptor types (S = 0). */
enum sys_type {
    SYS_TSS16 = 0x1,       /* available 16-bit TSS */
    SYS_LDT = 0x2,         /* local descriptor table */
    SYS_TSS16_BUSY = 0x3,  /* busy 16-bit TSS */
    SYS_CALL16 = 0x4,      /* 16-bit call gate */
    SYS_TASK_GATE = 0x5,   /* task gate */
    SYS_INT16 = 0x6,       /* 16-bit interrupt gate */
    SYS_TRAP16 = 0x7,      /* 16-bit trap gate */
    SYS_TSS32 = 0x9,       /* available 32-bit TSS */
    SYS_TSS32_BUSY = 0xB,  /* busy 32-bit TSS */
    SYS_CALL32 = 0xC,      /* 32-bit call gate */
    SYS_INT32 = 0xE,       /* 32-bit interrupt gate */
    SYS_TRAP32 = 0xF,      /* 32-bit trap gate */
};
#define SYS_BUSY 0x2u   /* the busy bit of a TSS type */
#define SYS_32BIT 0x8u  /* the 32-bit bit of a TSS or gate type */

/* A decoded descriptor. */
struct desc {
    uint32_t lo, hi;  /* the raw words */
    uint32_t base;
    uint32_t limit;   /* byte-granular: G already applied */
    uint8_t type;     /* the 4-bit type field */
    uint8_t dpl;
    bool s;           /* code/data (1) or system (0) */
    bool p, avl, db, g;
};

static inline struct desc desc_decode(uint32_t lo, uint32_t hi)
{
    struct desc d;
    d.lo = lo;
    d.hi = hi;
    d.base = (lo >> 16) | ((hi & 0xFFu) << 16) | (hi & 0xFF000000u);
    d.limit = (lo & 0xFFFFu) | (hi & 0x000F0000u);
    d.g = (hi & DESC_HI_G) != 0;
    if (d.g)
        d.limit = (d.limit << 12) | 0xFFFu;
    d.type = (uint8_t)((hi & DESC_HI_TYPE) >> 8);
    d.dpl = (uint8_t)((hi & DESC_HI_DPL) >> 13);
    d.s = (hi & DESC_HI_S) != 0;
    d.p = (hi & DESC_HI_P) != 0;
    d.avl = (hi & DESC_HI_AVL) != 0;
    d.db = (hi & DESC_HI_DB) != 0;
    return d;
}

/* ---- the descriptor cache of a segment register (struct segment.attr) ----
 * Descriptor bits 40..55, i.e. hi bits 8..23: type(4) S DPL(2) P in the low byte, AVL L D/B G
 * in bits 12..15 (bits 8..11, the limit's top nibble, are 0). */
#define SA_TYPE 0x000Fu /* type field */
#define SA_S 0x0010u    /* 1 = code/data, 0 = system */
#define SA_DPL 0x0060u  /* descriptor privilege level (2 bits) */
#define SA_P 0x0080u    /* present */
#define SA_AVL 0x1000u  /* available to software */
#define SA_DB 0x4000u   /* default operation size (CS) / big (SS) */
#define SA_G 0x8000u    /* granularity (limit in 4 KiB units) */

static inline uint16_t desc_attr(const struct desc *d)
{
    return (uint16_t)(((d->hi >> 8) & 0xFFu) | ((d->hi >> 8) & 0xF000u));
}

/* The descriptor a segment register's cache describes (lo/hi rebuilt from it). */
static inline struct desc desc_from_cache(uint32_t base, uint32_t limit, uint16_t attr)
{
    struct desc d;
    d.base = base;
    d.limit = limit;
    d.type = attr & SA_TYPE;
    d.s = (attr & SA_S) != 0;
    d.dpl = (uint8_t)((attr & SA_DPL) >> 5);
    d.p = (attr & SA_P) != 0;
    d.avl = (attr & SA_AVL) != 0;
    d.db = (attr & SA_DB) != 0;
    d.g = (attr & SA_G) != 0;
    uint32_t raw_limit = d.g ? limit >> 12 : limit & 0xFFFFFu;
    d.lo = (base << 16) | (raw_limit & 0xFFFFu);
    d.hi = (base & 0xFF000000u) | ((base >> 16) & 0xFFu) | (raw_limit & 0x000F0000u) |
           ((uint32_t)(attr & 0xF0FFu) << 8);
    return d;
}

/* ---- predicates ---- */

static inline bool desc_is_code(const struct desc *d) { return d->s && (d->type & TYPE_CODE); }
static inline bool desc_is_data(const struct desc *d) { return d->s && !(d->type & TYPE_CODE); }
static inline bool desc_is_system(const struct desc *d) { return !d->s; }
static inline bool desc_is_conforming(const struct desc *d)
{
    return desc_is_code(d) && (d->type & TYPE_EC);
}
/* Data segments are always readable; code only with R. */
static inline bool desc_is_readable(const struct desc *d)
{
    return desc_is_data(d) || (desc_is_code(d) && (d->type & TYPE_RW));
}
static inline bool desc_is_writable(const struct desc *d)
{
    return desc_is_data(d) && (d->type & TYPE_RW);
}
static inline bool desc_is_expand_down(const struct desc *d)
{
    return desc_is_data(d) && (d->type & TYPE_EC);
}
static inline bool desc_is_ldt(const struct desc *d) { return !d->s && d->type == SYS_LDT; }
/* Any TSS: 16 or 32-bit, available or busy. */
static inline bool desc_is_tss(const struct desc *d)
{
    return !d->s && (d->type == SYS_TSS16 || d->type == SYS_TSS16_BUSY || d->type == SYS_TSS32 ||
                     d->type == SYS_TSS32_BUSY);
}
static inline bool desc_is_tss_busy(const struct desc *d)
{
    return desc_is_tss(d) && (d->type & SYS_BUSY);
}
static inline bool desc_is_call_gate(const struct desc *d)
{
    return !d->s && (d->type == SYS_CALL16 || d->type == SYS_CALL32);
}
static inline bool desc_is_task_gate(const struct desc *d)
{
    return !d->s && d->type == SYS_TASK_GATE;
}
static inline bool desc_is_int_gate(const struct desc *d)
{
    return !d->s && (d->type == SYS_INT16 || d->type == SYS_INT32);
}
static inline bool desc_is_trap_gate(const struct desc *d)
{
    return !d->s && (d->type == SYS_TRAP16 || d->type == SYS_TRAP32);
}
static inline bool desc_is_gate(const struct desc *d)
{
    return desc_is_call_gate(d) || desc_is_task_gate(d) || desc_is_int_gate(d) ||
           desc_is_trap_gate(d);
}
/* A 32-bit TSS or gate (type bit 3 of a system descriptor). */
static inline bool desc_is_32bit_system(const struct desc *d)
{
    return !d->s && (d->type & SYS_32BIT);
}

/* Gate fields. */
static inline uint16_t gate_selector(const struct desc *d) { return (uint16_t)(d->lo >> 16); }
static inline uint32_t gate_offset(const struct desc *d)
{
    return (d->lo & 0xFFFFu) | (desc_is_32bit_system(d) ? (d->hi & 0xFFFF0000u) : 0);
}
static inline unsigned gate_params(const struct desc *d) { return d->hi & GATE_HI_PARAMS; }

#endif
