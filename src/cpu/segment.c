/* Segmentation checks and segment-register loads (SDM vol. 3 ch. 3 and 5), descriptor reads,
 * and the detail that goes with a fault about a selector. */
#include "cpu/segment.h"

#include "mmu/mem.h"

/* ---- selector faults ---- */

struct sel_fault sel_fault_of(const struct cpu *c, enum sel_reason why, enum sel_use use,
                              uint16_t sel, const struct desc *d)
{
    struct sel_fault f = {
        .reason = (uint8_t)why, .use = (uint8_t)use, .seg = SF_NO_SEG, .sel = sel,
        .type = SF_NO_TYPE, .cpl = c->cpl, .rpl = (uint8_t)sel_rpl(sel),
    };
    if (!sel_is_null(sel))
        f.table = sel_in_ldt(sel) ? ST_LDT : ST_GDT;
    if (why == SR_BEYOND_LIMIT)
        f.limit = sel_in_ldt(sel) ? c->ldtr.limit : c->gdtr.limit;
    if (d) {
        f.type = (uint8_t)((d->s ? 0x10u : 0) | d->type);
        f.dpl = d->dpl;
    }
    return f;
}

_Noreturn void raise_sel_fault(struct cpu *c, int vector, uint32_t error,
                               const struct sel_fault *f)
{
    struct fault_detail detail = {.kind = FD_SELECTOR, .u.sel = *f};
    cpu_raise_detail(c, vector, true, error, &detail);
}

_Noreturn void raise_sel(struct cpu *c, int vector, uint32_t error, enum sel_reason why,
                         enum sel_use use, uint16_t sel, const struct desc *d)
{
    struct sel_fault f = sel_fault_of(c, why, use, sel, d);
    raise_sel_fault(c, vector, error, &f);
}

_Noreturn void raise_gate(struct cpu *c, int exc, uint32_t error, enum sel_reason why,
                          unsigned vector, const struct desc *d)
{
    struct sel_fault f = sel_fault_of(c, why, SU_IDT, (uint16_t)vector, d);
    f.table = ST_IDT;
    f.rpl = 0;
    f.limit = c->idtr.limit;
    f.offset = vector * 8 + 7;
    raise_sel_fault(c, exc, error, &f);
}

_Noreturn void raise_limit(struct cpu *c, int exc, uint32_t error, enum sel_reason why,
                           enum sel_use use, uint16_t sel, uint32_t offset, uint32_t limit)
{
    struct sel_fault f = sel_fault_of(c, why, use, sel, NULL);
    f.table = ST_NONE;
    f.offset = offset;
    f.limit = limit;
    raise_sel_fault(c, exc, error, &f);
}

/* A #GP(0) or #SS(0) about an access through segment register `seg`. */
static _Noreturn void segment_fault(struct cpu *c, int seg, int vec, enum sel_reason why,
                                    uint32_t offset)
{
    const struct segment *s = &c->seg[seg];
    struct desc d = desc_from_cache(s->base, s->limit, s->attr);
    struct sel_fault f = sel_fault_of(c, why, SU_SEGMENT, s->sel, why == SR_SEG_UNUSABLE ? NULL : &d);
    f.table = ST_NONE;
    f.seg = (uint8_t)seg;
    f.offset = offset;
    f.limit = s->limit;
    raise_sel_fault(c, vec, 0, &f);
}

_Noreturn void seg_fetch_fault(struct cpu *c)
{
    segment_fault(c, SEG_CS, EXC_GP, SR_OFFSET_LIMIT, c->eip);
}

uint32_t seg_lin_check(struct cpu *c, int seg, uint32_t off, unsigned size, int write)
{
    const struct segment *s = &c->seg[seg];
    int vec = seg == SEG_SS ? EXC_SS : EXC_GP;
    struct desc d = desc_from_cache(s->base, s->limit, s->attr);

    /* A null selector loaded into a data segment register leaves it unusable (attr 0). */
    if (!d.p)
        segment_fault(c, seg, vec, SR_SEG_UNUSABLE, off);
    if (desc_is_code(&d)) { /* code: never writable, readable only with R */
        if (write)
            segment_fault(c, seg, vec, SR_SEG_NOT_WRITABLE, off);
        if (!desc_is_readable(&d))
            segment_fault(c, seg, vec, SR_SEG_NOT_READABLE, off);
    } else if (write && !desc_is_writable(&d)) {
        /* Data without W. (Loads never leave a system descriptor in a segment register; one
         * set through the inspection API, cpu_set_seg, is not writable either.) */
        segment_fault(c, seg, vec, SR_SEG_NOT_WRITABLE, off);
    }
    uint64_t last = (uint64_t)off + size - 1;
    if (!desc_is_expand_down(&d)) { /* expand-up (or code) */
        if (last > s->limit)
            segment_fault(c, seg, vec, SR_OFFSET_LIMIT, off);
    } else { /* expand-down: valid offsets are limit+1 .. 0xFFFF or 0xFFFFFFFF */
        uint32_t upper = d.db ? 0xFFFFFFFFu : 0xFFFFu;
        if (off <= s->limit || last > upper)
            segment_fault(c, seg, vec, SR_OFFSET_LIMIT, off);
    }
    return s->base + off;
}

/* ---- descriptors ---- */

/* Descriptor-table reads are implicit supervisor accesses. */
/* The 8 bytes of the descriptor sel names, and their linear address. */
static enum sel_reason desc_read_raw(struct cpu *c, uint16_t sel, uint32_t *lo, uint32_t *hi,
                                     uint32_t *addr)
{
    /* Both halves from one TLB entry when the table holds them and they lie in one page (the
     * usual case); else the checks below, each with its reason, and two reads that walk. */
    if (desc_peek(c, sel, lo, hi, addr))
        return SR_NONE;
    uint32_t base, limit;
    if (sel_in_ldt(sel)) {
        if (!(c->ldtr.attr & SA_P))
            return SR_NO_LDT;
        base = c->ldtr.base;
        limit = c->ldtr.limit;
    } else {
        base = c->gdtr.base;
        limit = c->gdtr.limit;
    }
    uint32_t off = sel & SEL_INDEX;
    if (off + 7 > limit)
        return SR_BEYOND_LIMIT;
    uint32_t lin = base + off;
    *addr = lin;
    *lo = lin_read_sup(c, lin, 4);
    *hi = lin_read_sup(c, lin + 4, 4);
    return SR_NONE;
}

enum sel_reason desc_read(struct cpu *c, uint16_t sel, struct desc *d, uint32_t *addr)
{
    uint32_t lo, hi;
    enum sel_reason why = desc_read_raw(c, sel, &lo, &hi, addr);
    if (why == SR_NONE)
        *d = desc_decode(lo, hi);
    return why;
}

void desc_read_or_gp(struct cpu *c, uint16_t sel, enum sel_use use, struct desc *d)
{
    uint32_t addr;
    if (sel_is_null(sel))
        raise_sel(c, EXC_GP, 0, SR_NULL, use, sel, NULL);
    enum sel_reason why = desc_read(c, sel, d, &addr);
    if (why != SR_NONE)
        raise_sel(c, EXC_GP, sel_error(sel), why, use, sel, NULL);
}

void desc_to_segment(uint16_t sel, const struct desc *d, struct segment *s)
{
    s->sel = sel;
    s->base = d->base;
    s->limit = d->limit;
    s->attr = desc_attr(d);
    seg_update_flat(s);
}

/* Loading DS, ES, FS, GS or SS in protected mode (SDM vol. 3 5.5 and the MOV/POP/LDS
 * pseudo-code). Checks, in order:
 *   null selector         DS/ES/FS/GS: loads an unusable segment;  SS: #GP(0)
 *   index beyond table    #GP(sel)
 *   SS:  RPL = CPL, writable data, DPL = CPL      else #GP(sel);  not present: #SS(sel)
 *   others: data or readable code; for data and non-conforming code max(CPL, RPL) <= DPL
 *                                                else #GP(sel);  not present: #NP(sel)
 * The descriptor's accessed bit is set in memory. */
__attribute__((noinline)) void seg_load_slow(struct cpu *c, int seg, uint16_t sel)
{
    struct segment *s = &c->seg[seg];
    uint32_t err = sel_error(sel);
    struct sel_fault f;
    if (sel_is_null(sel)) {
        if (seg == SEG_SS) {
            f = sel_fault_of(c, SR_NULL, SU_SEGREG, sel, NULL);
            f.seg = SEG_SS;
            raise_sel_fault(c, EXC_GP, 0, &f);
        }
        s->sel = sel;
        s->base = 0;
        s->limit = 0;
        s->attr = 0;
        s->flat = false;
        return;
    }
    struct desc d;
    uint32_t addr, lo, hi;
    enum sel_reason why = desc_read_raw(c, sel, &lo, &hi, &addr);
    int vec = EXC_GP;
    if (why != SR_NONE)
        goto fail;
    /* The descriptor is read every time (a store to it counts at once); only when its bytes,
     * address, the selector, CPL and the kind of register are those of a load that succeeded
     * are the decoding and the checks below skipped: they depend on nothing else. */
    unsigned kind = seg == SEG_SS ? SEG_MEMO_SS : SEG_MEMO_DATA;
    struct seg_memo *m = &c->seg_memo[SEG_MEMO_SLOT(sel, kind)];
    uint32_t key = SEG_MEMO_KEY(sel, c->cpl, kind);
    if (m->key == key && m->lin == addr && m->lo == lo && m->hi == hi) {
        *s = m->s;
        return;
    }
    d = desc_decode(lo, hi);
    unsigned rpl = sel_rpl(sel);
    if (seg == SEG_SS) {
        why = rpl != c->cpl              ? SR_RPL_NE_CPL
              : !desc_is_writable(&d)    ? SR_TYPE
              : d.dpl != c->cpl          ? SR_DPL_NE_CPL
                                         : SR_NONE;
        if (why == SR_NONE && !d.p) {
            why = SR_NOT_PRESENT;
            vec = EXC_SS;
        }
    } else {
        bool code = desc_is_code(&d), conforming = desc_is_conforming(&d);
        why = (!d.s || (code && !desc_is_readable(&d)))      ? SR_TYPE
              : (!conforming && (rpl > d.dpl || c->cpl > d.dpl)) ? SR_DPL_LT_PRIV
                                                                 : SR_NONE;
        if (why == SR_NONE && !d.p) {
            why = SR_NOT_PRESENT;
            vec = EXC_NP;
        }
    }
    if (why != SR_NONE)
        goto fail;
    if (!(d.hi & DESC_HI_ACCESSED)) {
        d.hi |= DESC_HI_ACCESSED;
        d.type |= TYPE_ACCESSED;
        lin_write_sup(c, addr + 4, 4, d.hi);
    }
    desc_to_segment(sel, &d, s);
    *m = (struct seg_memo){key, addr, d.lo, d.hi, *s};
    return;
fail:
    f = sel_fault_of(c, why, SU_SEGREG, sel,
                     why == SR_BEYOND_LIMIT || why == SR_NO_LDT ? NULL : &d);
    f.seg = (uint8_t)seg;
    raise_sel_fault(c, vec, err, &f);
}

/* The common load (segment.h seg_memo_hit); anything else, a TLB miss included, takes the
 * general path. */
void seg_load(struct cpu *c, int seg, uint16_t sel)
{
    if (seg_memo_hit(c, seg, sel))
        return;
    seg_load_slow(c, seg, sel);
}
