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
#include <string.h>

#include "cpu/cpu.h"
#include "mmu/mem.h"

uint32_t seg_lin_check(struct cpu *c, int seg, uint32_t off, unsigned size, int write);

static inline uint32_t seg_lin(struct cpu *c, int seg, uint32_t off, unsigned size, int write)
{
    if (__builtin_expect(c->seg[seg].flat, 1))
        return off;
    return seg_lin_check(c, seg, off, size, write);
}

/* #GP(0) for an instruction at CS:EIP beyond the CS limit, or whose bytes end beyond it. */
_Noreturn void seg_fetch_fault(struct cpu *c);

/* Recomputes seg->flat from its base, limit and attributes. Flat: base 0, 4 GiB, present, a
 * writable expand-up data segment (one mask on the cached attributes: this runs on every
 * segment load). */
static inline void seg_update_flat(struct segment *s)
{
    const uint16_t mask = SA_P | SA_S | TYPE_CODE | TYPE_EC | TYPE_RW;
    s->flat = s->base == 0 && s->limit == 0xFFFFFFFFu &&
              (s->attr & mask) == (SA_P | SA_S | TYPE_RW);
}

/* A segment-register cache straight from a descriptor's words: what desc_to_segment makes of
 * desc_decode(lo, hi), for the fast paths. */
static inline void seg_from_words(struct segment *s, uint16_t sel, uint32_t lo, uint32_t hi)
{
    uint32_t limit = (lo & 0xFFFFu) | (hi & 0x000F0000u);
    s->sel = sel;
    s->base = (lo >> 16) | ((hi & 0xFFu) << 16) | (hi & 0xFF000000u);
    s->limit = (hi & DESC_HI_G) ? (limit << 12) | 0xFFFu : limit;
    s->attr = (uint16_t)(((hi >> 8) & 0xFFu) | ((hi >> 8) & 0xF000u));
    seg_update_flat(s);
}

/* Loads a segment register in protected mode from a selector, applying every check of the SDM
 * for that register (see segment.c). */
void seg_load(struct cpu *c, int seg, uint16_t sel);
/* The same without trying the memo first (for callers that just did, seg_memo_hit). */
void seg_load_slow(struct cpu *c, int seg, uint16_t sel);

/* The 8 bytes of the descriptor selector `sel` names, straight from the host page, and their
 * linear address: when the table (GDT, or a present LDT, by TI) holds the whole descriptor and
 * one TLB entry maps it for an implicit supervisor read. Returns false otherwise, having read
 * and changed nothing: the caller then takes its general path (desc_read and its checks,
 * which walk, fault and explain). A null selector reads the GDT's first entry: callers test
 * sel_is_null first. For fast paths (segment loads, delivery, IRET). */
static inline bool desc_peek(struct cpu *c, uint16_t sel, uint32_t *lo, uint32_t *hi,
                             uint32_t *addr)
{
    uint32_t base = c->gdtr.base, limit = c->gdtr.limit;
    if (sel_in_ldt(sel)) {
        if (!(c->ldtr.attr & SA_P))
            return false;
        base = c->ldtr.base;
        limit = c->ldtr.limit;
    }
    uint32_t off = sel & SEL_INDEX;
    if (off + 7 > limit)
        return false;
    uint32_t lin = base + off;
    struct tlb_entry *e = tlb_hit(c, lin, 8, TLB_R_I);
    if (!e)
        return false;
    const uint8_t *p = e->host + (lin & PAGE_MASK);
    *lo = host_load(p, 4);
    *hi = host_load(p + 4, 4);
    *addr = lin;
    return true;
}

/* The memo (cpu.h struct seg_memo) of selector `sel` for checks of `kind` made at privilege
 * `cpl`: the segment-register cache they gave, when the memo holds them and the descriptor's 8
 * bytes at the memo's linear address, read through the TLB, are the memo's: the checks would
 * read the same bytes and end the same way (they depend on nothing else; the accessed bit is
 * set in the bytes of DATA and SS memos, so seg_load_slow would not write it). The table
 * (GDTR, LDTR) the memo was made with is the current one: every change of GDTR or LDTR drops
 * every memo (seg_memo_clear), so the memo's address is still the descriptor's, inside the
 * table's limit (for TI = 1, a present LDT's). NULL otherwise (a TLB miss included), having
 * changed nothing. A null selector never has a memo. */
static inline __attribute__((always_inline)) const struct segment *
seg_memo_get(struct cpu *c, unsigned kind, unsigned cpl, uint16_t sel)
{
    const struct seg_memo *m = &c->seg_memo[SEG_MEMO_SLOT(sel, kind)];
    if (m->key != SEG_MEMO_KEY(sel, cpl, kind))
        return NULL;
    struct tlb_entry *e = tlb_hit(c, m->lin, 8, TLB_R_I);
    if (!e)
        return NULL;
    /* lo then hi, 8 bytes as the guest's: one compare (host_load reads either the same way) */
    uint64_t now, was;
    memcpy(&now, e->host + (m->lin & PAGE_MASK), 8);
    memcpy(&was, &m->lo, 8);
    if (now != was)
        return NULL;
    return &m->s;
}

/* Drops every memo: GDTR or LDTR has changed (LGDT, LLDT, a task switch, a reset, the
 * debugger, a snapshot), and with it where a selector's descriptor is. */
static inline void seg_memo_clear(struct cpu *c)
{
    memset(c->seg_memo, 0, sizeof c->seg_memo);
}

/* Records that the descriptor of `sel` at linear address lin, bytes lo and hi, passed the
 * checks of `kind` at privilege `cpl`, giving s. A DATA or SS memo only with the accessed bit
 * set in hi. */
static inline void seg_memo_put(struct cpu *c, unsigned kind, unsigned cpl, uint16_t sel,
                                uint32_t lin, uint32_t lo, uint32_t hi, const struct segment *s)
{
    c->seg_memo[SEG_MEMO_SLOT(sel, kind)] =
        (struct seg_memo){SEG_MEMO_KEY(sel, cpl, kind), lin, lo, hi, *s};
}

/* A segment load from the memo (seg_memo_get: a load of sel at this CPL into this kind of
 * register that succeeded before and would again, the same way): true, having loaded register
 * `seg`; false, having changed nothing. Inline in the MOV/POP Sreg handlers. */
static inline __attribute__((always_inline)) bool seg_memo_hit(struct cpu *c, int seg,
                                                                 uint16_t sel)
{
    const struct segment *s =
        seg_memo_get(c, seg == SEG_SS ? SEG_MEMO_SS : SEG_MEMO_DATA, c->cpl, sel);
    if (!s)
        return false;
    c->seg[seg] = *s;
    return true;
}

/* Descriptor access: reads and decodes the descriptor a selector names (GDT or LDT by TI; an
 * implicit supervisor access, which may #PF) and stores its linear address in *addr. Returns
 * SR_NONE, or why there is none: SR_NO_LDT (TI = 1, no LDT), SR_BEYOND_LIMIT. */
enum sel_reason desc_read(struct cpu *c, uint16_t sel, struct desc *d, uint32_t *addr);
/* A segment-register cache from a descriptor. */
void desc_to_segment(uint16_t sel, const struct desc *d, struct segment *s);
/* The same for far transfers and returns: #GP(0) for a null selector, #GP(selector) outside
 * the table; `use` says what the selector is for (the fault's detail). */
void desc_read_or_gp(struct cpu *c, uint16_t sel, enum sel_use use, struct desc *d);

/* acct_update (account.c) with its usual case inline: the state settled (c->cur NULL) and the
 * address space of the last update (its hint, acct_last) still the current one; the same
 * counts (an interval of 0 adds nothing). */
static inline void acct_update_quick(struct cpu *c)
{
    uint32_t key = ((c->cr0 & CR0_PG) ? c->cr3 : 0) & ~0xFFFu;
    unsigned k = c->acct_last;
    if (c->cur || k >= c->nspaces || c->spaces[k].cr3 != key) {
        acct_update(c);
        return;
    }
    uint64_t n = c->icount - c->acct_mark;
    c->ring_insns[c->cpl & 3] += n;
    c->spaces[k].insns[c->cpl == 3] += n;
    c->acct_mark = c->icount;
}

/* Sets CPL: the accounting charged to the old one, the access rights of the new one. */
static inline void cpu_set_cpl(struct cpu *c, uint8_t cpl)
{
    if (cpl != c->cpl)
        acct_update(c);
    c->cpl = cpl; /* block links remember the CPL they were made at (icache.h) */
    cpu_update_acc(c);
}

/* Sets CS and CPL together (the single place CPL changes), with the accounting charged to the
 * old CPL, but not the access rights of the new one: for IRET, which changes EFLAGS.AC as well
 * and then calls cpu_update_acc once. */
static inline void seg_set_cs_cpl(struct cpu *c, uint16_t sel, uint32_t base, uint32_t limit,
                                  uint16_t attr)
{
    struct segment *s = &c->seg[SEG_CS];
    if (s->base != base || ((s->attr ^ attr) & SA_DB))
        c->map_epoch++; /* the same EIP now names other code, or decodes differently */
    s->sel = sel;
    s->base = base;
    s->limit = limit;
    s->attr = attr;
    s->flat = false;
    uint8_t cpl = (uint8_t)sel_rpl(sel);
    if (cpl != c->cpl)
        acct_update_quick(c);
    c->cpl = cpl; /* block links remember the CPL they were made at (icache.h) */
}

/* Sets CS and CPL together, and the access rights of the new CPL. Inline: every delivery and
 * IRET. */
static inline void seg_set_cs(struct cpu *c, uint16_t sel, uint32_t base, uint32_t limit,
                              uint16_t attr)
{
    seg_set_cs_cpl(c, sel, base, limit, attr);
    cpu_update_acc(c);
}

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
