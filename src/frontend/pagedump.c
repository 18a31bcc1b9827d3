/* Page-table dump (see pagedump.h): every page the walker finds mapped, coalesced. */
#include "frontend/pagedump.h"

#include <inttypes.h>

#include "cpu/inspect.h"

enum { F_U = 1, F_W = 2, F_A = 4, F_D = 8, F_G = 16 };

struct run {
    bool open;
    uint32_t lin, phys, size;
    unsigned flags; /* F_U .. F_G */
};

static void flush(FILE *out, struct run *r)
{
    if (!r->open)
        return;
    uint64_t end = (uint64_t)r->lin + r->size;
    fprintf(out, "%08x-%08" PRIx64 " %08x %08x  %c r %c  %c %c %c\n", r->lin, end & 0xFFFFFFFFu,
            r->size, r->phys, r->flags & F_U ? 'u' : '-', r->flags & F_W ? 'w' : '-',
            r->flags & F_A ? 'a' : '-', r->flags & F_D ? 'd' : '-', r->flags & F_G ? 'g' : '-');
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

/* U and W combined over the levels; A, D and G of the last entry (the PTE, or a 4 MiB PDE). */
static unsigned flags_of(const struct walk *w)
{
    uint32_t last = w->large ? w->pde : w->pte;
    return (w->user ? F_U : 0) | (w->writable ? F_W : 0) | (last & PTE_A ? F_A : 0) |
           (last & PTE_D ? F_D : 0) | (last & PTE_G ? F_G : 0);
}

void pagedump(FILE *out, const struct cpu *c)
{
    uint32_t cr0 = cpu_get_reg(c, REG_CR0), cr3 = cpu_get_reg(c, REG_CR3);
    uint32_t cr4 = cpu_get_reg(c, REG_CR4);
    if (!(cr0 & CR0_PG)) {
        fprintf(out, "paging is off (CR0.PG = 0): linear addresses are physical\n");
        return;
    }
    fprintf(out, "page tables at CR3=%08x (CR4.PSE=%d PGE=%d)\n", cr3, !!(cr4 & CR4_PSE),
            !!(cr4 & CR4_PGE));
    fprintf(out, "linear range      size     phys      U R W  A D G\n");
    struct run r = {0};
    for (uint32_t i = 0; i < 1024; i++) {
        uint32_t lin = i << 22;
        struct walk w;
        cpu_page_walk(c, lin, PG_LOOKUP, PG_SUPERVISOR, &w);
        if (w.result == WALK_NO_RAM && w.level == WALK_PDE) {
            flush(out, &r);
            fprintf(out, "page directory at %08x is outside RAM\n", cr3 & CR3_FRAME);
            return;
        }
        if (w.level == WALK_PDE && w.result == WALK_NOT_PRESENT) {
            flush(out, &r);
            continue;
        }
        if (w.large) { /* reserved bits or not, the entry maps the page: shown as it is */
            add(out, &r, lin, w.pde & PDE_FRAME_4M, 0x400000u, flags_of(&w));
            continue;
        }
        for (uint32_t j = 0; j < 1024; j++) {
            if (j)
                cpu_page_walk(c, lin | (j << 12), PG_LOOKUP, PG_SUPERVISOR, &w);
            if (w.result == WALK_NO_RAM) {
                flush(out, &r);
                fprintf(out, "page table for %08x at %08x is outside RAM\n", lin,
                        w.pde & PTE_FRAME);
                break;
            }
            if (w.result == WALK_NOT_PRESENT) {
                flush(out, &r);
                continue;
            }
            add(out, &r, lin | (j << 12), w.pte & PTE_FRAME, 0x1000u, flags_of(&w));
        }
    }
    flush(out, &r);
}
