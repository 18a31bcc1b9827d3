/* Per-ring and per-address-space instruction accounting (see struct cpu). The core calls
 * acct_update just before CPL or CR3 changes, so each interval of instructions is charged to
 * the ring and the address space it ran in. */
#include "cpu/cpu.h"

static struct acct_space *space_of(struct cpu *c, uint32_t cr3)
{
    uint32_t key = cr3 & ~0xFFFu;
    for (unsigned k = 0; k < c->nspaces; k++)
        if (c->spaces[k].cr3 == key)
            return &c->spaces[k];
    if (c->nspaces < ACCT_SPACES) {
        struct acct_space *s = &c->spaces[c->nspaces++];
        s->cr3 = key;
        s->insns[0] = s->insns[1] = 0;
        return s;
    }
    return &c->spaces[ACCT_SPACES - 1];
}

void acct_update(struct cpu *c)
{
    uint64_t n = c->icount - c->acct_mark;
    if (n == 0)
        return;
    c->ring_insns[c->cpl & 3] += n;
    space_of(c, (c->cr0 & CR0_PG) ? c->cr3 : 0)->insns[c->cpl == 3] += n;
    c->acct_mark = c->icount;
}
