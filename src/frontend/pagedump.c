/* Page-table dump (see pagedump.h). */
#include "frontend/pagedump.h"

#include <inttypes.h>
#include <string.h>

struct run {
    bool open;
    uint32_t lin, phys, size;
    unsigned flags; /* bit 0 U, 1 W, 2 A, 3 D, 4 G */
};

static void flush(FILE *out, struct run *r)
{
    if (!r->open)
        return;
    uint64_t end = (uint64_t)r->lin + r->size;
    fprintf(out, "%08x-%08" PRIx64 " %08x %08x  %c r %c  %c %c %c\n", r->lin, end & 0xFFFFFFFFu,
            r->size, r->phys, r->flags & 1 ? 'u' : '-', r->flags & 2 ? 'w' : '-',
            r->flags & 4 ? 'a' : '-', r->flags & 8 ? 'd' : '-', r->flags & 16 ? 'g' : '-');
    r->open = false;
}

static void add(FILE *out, struct run *r, uint32_t lin, uint32_t phys, uint32_t size,
                unsigned flags)
{
    if (r->open && r->flags == flags && r->lin + r->size == lin && r->phys + r->size == phys &&
        (uint64_t)r->size + size <= 0xFFFFFFFFu) {
        r->size += size;
        return;
    }
    flush(out, r);
    *r = (struct run){true, lin, phys, size, flags};
}

static bool read_entry(const struct cpu *c, uint32_t pa, uint32_t *v)
{
    if ((uint64_t)pa + 4 > c->ram_size)
        return false;
    memcpy(v, c->ram + pa, 4);
    return true;
}

void pagedump(FILE *out, const struct cpu *c)
{
    if (!(c->cr0 & CR0_PG)) {
        fprintf(out, "paging is off (CR0.PG = 0): linear addresses are physical\n");
        return;
    }
    fprintf(out, "page tables at CR3=%08x (CR4.PSE=%d PGE=%d)\n", c->cr3,
            !!(c->cr4 & CR4_PSE), !!(c->cr4 & CR4_PGE));
    fprintf(out, "linear range      size     phys      U R W  A D G\n");
    struct run r = {0};
    uint32_t dir = c->cr3 & ~0xFFFu;
    for (uint32_t i = 0; i < 1024; i++) {
        uint32_t pde;
        if (!read_entry(c, dir + i * 4, &pde)) {
            flush(out, &r);
            fprintf(out, "page directory at %08x is outside RAM\n", dir);
            return;
        }
        if (!(pde & 1)) {
            flush(out, &r);
            continue;
        }
        uint32_t lin = i << 22;
        if ((pde & 0x80) && (c->cr4 & CR4_PSE)) {
            unsigned f = ((pde >> 2) & 1) | (((pde >> 1) & 1) << 1) | (((pde >> 5) & 1) << 2) |
                         (((pde >> 6) & 1) << 3) | (((pde >> 8) & 1) << 4);
            add(out, &r, lin, pde & 0xFFC00000u, 0x400000u, f);
            continue;
        }
        uint32_t table = pde & ~0xFFFu;
        for (uint32_t j = 0; j < 1024; j++) {
            uint32_t pte;
            if (!read_entry(c, table + j * 4, &pte)) {
                flush(out, &r);
                fprintf(out, "page table for %08x at %08x is outside RAM\n", lin, table);
                break;
            }
            if (!(pte & 1)) {
                flush(out, &r);
                continue;
            }
            uint32_t both = pde & pte;
            unsigned f = ((both >> 2) & 1) | (((both >> 1) & 1) << 1) | (((pte >> 5) & 1) << 2) |
                         (((pte >> 6) & 1) << 3) | (((pte >> 8) & 1) << 4);
            add(out, &r, lin | (j << 12), pte & ~0xFFFu, 0x1000u, f);
        }
    }
    flush(out, &r);
}
