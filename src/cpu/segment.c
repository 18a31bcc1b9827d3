/* Segmentation checks and segment-register loads (SDM vol. 3 ch. 3 and 5). */
#include "cpu/segment.h"

#include "mmu/mem.h"

void seg_update_flat(struct segment *s)
{
    unsigned type = s->attr & SA_TYPE;
    /* data (S=1, type bit 3 = 0), writable (bit 1), expand-up (bit 2 = 0), present */
    s->flat = s->base == 0 && s->limit == 0xFFFFFFFFu && (s->attr & SA_S) && (s->attr & SA_P) &&
              (type & 0xA) == 0x2 && !(type & 0x4);
}

void cpu_set_cpl(struct cpu *c, uint8_t cpl)
{
    if (cpl != c->cpl)
        acct_update(c);
    c->cpl = cpl; /* block links remember the CPL they were made at (icache.h) */
    cpu_update_acc(c);
}

void seg_set_cs(struct cpu *c, uint16_t sel, uint32_t base, uint32_t limit, uint16_t attr)
{
    struct segment *s = &c->seg[SEG_CS];
    if (s->base != base || ((s->attr ^ attr) & SA_DB))
        c->map_epoch++; /* the same EIP now names other code, or decodes differently */
    s->sel = sel;
    s->base = base;
    s->limit = limit;
    s->attr = attr;
    s->flat = false;
    cpu_set_cpl(c, sel & 3);
}

uint32_t seg_fetch_lin(struct cpu *c)
{
    const struct segment *s = &c->seg[SEG_CS];
    if (c->eip > s->limit)
        cpu_raise(c, EXC_GP, true, 0);
    return s->base + c->eip;
}

uint32_t seg_lin_check(struct cpu *c, int seg, uint32_t off, unsigned size, int write)
{
    const struct segment *s = &c->seg[seg];
    int vec = seg == SEG_SS ? EXC_SS : EXC_GP;
    unsigned type = s->attr & SA_TYPE;

    /* A null selector loaded into a data segment register leaves it unusable (attr 0). */
    if (!(s->attr & SA_P))
        cpu_raise(c, vec, true, 0);
    if (s->attr & SA_S) {
        if (type & 0x8) { /* code: never writable, readable only with R */
            if (write || !(type & 0x2))
                cpu_raise(c, vec, true, 0);
        } else if (write && !(type & 0x2)) {
            cpu_raise(c, vec, true, 0);
        }
    }
    uint64_t last = (uint64_t)off + size - 1;
    if (!(s->attr & SA_S) || (type & 0xC) != 0x4) { /* expand-up (or code) */
        if (last > s->limit)
            cpu_raise(c, vec, true, 0);
    } else { /* expand-down: valid offsets are limit+1 .. 0xFFFF or 0xFFFFFFFF */
        uint32_t upper = (s->attr & SA_DB) ? 0xFFFFFFFFu : 0xFFFFu;
        if (off <= s->limit || last > upper)
            cpu_raise(c, vec, true, 0);
    }
    return s->base + off;
}

/* Reads the 8-byte descriptor a selector names (GDT or LDT by TI). Returns false when the
 * index is outside the table. Descriptor-table reads are implicit supervisor accesses. */
bool desc_read(struct cpu *c, uint16_t sel, uint32_t *lo, uint32_t *hi, uint32_t *addr)
{
    uint32_t base, limit;
    if (sel & 4) {
        if (!(c->ldtr.attr & SA_P))
            return false;
        base = c->ldtr.base;
        limit = c->ldtr.limit;
    } else {
        base = c->gdtr.base;
        limit = c->gdtr.limit;
    }
    uint32_t off = sel & 0xFFF8u;
    if (off + 7 > limit)
        return false;
    *addr = base + off;
    *lo = lin_read_sup(c, base + off, 4);
    *hi = lin_read_sup(c, base + off + 4, 4);
    return true;
}

void desc_read_or_gp(struct cpu *c, uint16_t sel, uint32_t *lo, uint32_t *hi)
{
    uint32_t addr;
    if ((sel & 0xFFFC) == 0)
        cpu_raise(c, EXC_GP, true, 0);
    if (!desc_read(c, sel, lo, hi, &addr))
        cpu_raise(c, EXC_GP, true, sel & 0xFFFCu);
}

void desc_to_segment(uint16_t sel, uint32_t lo, uint32_t hi, struct segment *s)
{
    s->sel = sel;
    s->base = (lo >> 16) | ((hi & 0xFF) << 16) | (hi & 0xFF000000u);
    uint32_t limit = (lo & 0xFFFF) | (hi & 0x000F0000u);
    if (hi & 0x00800000u)
        limit = (limit << 12) | 0xFFF;
    s->limit = limit;
    s->attr = (uint16_t)(((hi >> 8) & 0xFF) | ((hi >> 8) & 0xF000));
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
void seg_load(struct cpu *c, int seg, uint16_t sel)
{
    struct segment *s = &c->seg[seg];
    uint32_t err = sel & 0xFFFCu;
    if ((sel & 0xFFFCu) == 0) {
        if (seg == SEG_SS)
            cpu_raise(c, EXC_GP, true, 0);
        s->sel = sel;
        s->base = 0;
        s->limit = 0;
        s->attr = 0;
        s->flat = false;
        return;
    }
    uint32_t lo, hi, addr;
    if (!desc_read(c, sel, &lo, &hi, &addr))
        cpu_raise(c, EXC_GP, true, err);
    unsigned rpl = sel & 3, dpl = (hi >> 13) & 3, type = (hi >> 8) & 0xF;
    bool is_seg = hi & 0x1000, present = hi & 0x8000;
    if (seg == SEG_SS) {
        if (rpl != c->cpl || !is_seg || (type & 0xA) != 0x2 || dpl != c->cpl)
            cpu_raise(c, EXC_GP, true, err);
        if (!present)
            cpu_raise(c, EXC_SS, true, err);
    } else {
        bool code = type & 0x8, readable = type & 0x2, conforming = code && (type & 0x4);
        if (!is_seg || (code && !readable))
            cpu_raise(c, EXC_GP, true, err);
        if (!conforming && (rpl > dpl || c->cpl > dpl))
            cpu_raise(c, EXC_GP, true, err);
        if (!present)
            cpu_raise(c, EXC_NP, true, err);
    }
    if (!(hi & 0x100)) /* accessed */
        lin_write_sup(c, addr + 4, 4, hi | 0x100);
    desc_to_segment(sel, lo, hi | 0x100, s);
}
