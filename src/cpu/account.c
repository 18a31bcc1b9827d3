/* Per-ring and per-address-space instruction accounting (see struct cpu). The core calls
 * acct_update just before CPL or CR3 changes, so each interval of instructions is charged to
 * the ring and the address space it ran in. */
#include "cpu/inspect.h"

#include "cpu/insn.h"

static struct acct_space *space_of(struct cpu *c, uint32_t cr3)
{
    uint32_t key = cr3 & ~0xFFFu;
    /* The space of the last update first: CPL changes far more often than CR3. */
    if (c->acct_last < c->nspaces && c->spaces[c->acct_last].cr3 == key)
        return &c->spaces[c->acct_last];
    for (unsigned k = 0; k < c->nspaces; k++)
        if (c->spaces[k].cr3 == key) {
            c->acct_last = k;
            return &c->spaces[k];
        }
    if (c->nspaces < ACCT_SPACES) {
        c->acct_last = c->nspaces;
        struct acct_space *s = &c->spaces[c->nspaces++];
        s->cr3 = key;
        s->insns[0] = s->insns[1] = 0;
        return s;
    }
    return &c->spaces[ACCT_SPACES - 1];
}

void acct_update(struct cpu *c)
{
    cpu_settle(c);
    uint64_t n = c->icount - c->acct_mark;
    if (n == 0)
        return;
    c->ring_insns[c->cpl & 3] += n;
    space_of(c, (c->cr0 & CR0_PG) ? c->cr3 : 0)->insns[c->cpl == 3] += n;
    c->acct_mark = c->icount;
}

/* ---- the statistics getters (inspect.h): the interval since acct_mark is counted as
 * acct_update would count it, without changing anything ---- */

static uint64_t pending(const struct cpu *c)
{
    return cpu_icount(c) - c->acct_mark;
}

static uint32_t current_space(const struct cpu *c)
{
    return ((c->cr0 & CR0_PG) ? c->cr3 : 0) & ~0xFFFu;
}

/* The index the current space has or would get (space_of), or -1 when it is a new one that
 * has not been entered yet (no instructions pending). */
static int current_index(const struct cpu *c)
{
    uint32_t key = current_space(c);
    for (unsigned k = 0; k < c->nspaces; k++)
        if (c->spaces[k].cr3 == key)
            return (int)k;
    if (pending(c) == 0)
        return -1;
    return c->nspaces < ACCT_SPACES ? (int)c->nspaces : ACCT_SPACES - 1;
}

uint64_t cpu_stat_insns(const struct cpu *c)
{
    return cpu_icount(c);
}

uint64_t cpu_stat_ring(const struct cpu *c, unsigned ring)
{
    if (ring > 3)
        return 0;
    return c->ring_insns[ring] + (ring == c->cpl ? pending(c) : 0);
}

uint64_t cpu_stat_idle(const struct cpu *c)
{
    return c->idle;
}

uint64_t cpu_stat_stall(const struct cpu *c)
{
    return c->stall;
}

uint64_t cpu_stat_events(const struct cpu *c, enum trace_kind k)
{
    if (k == TR_CR3)
        return c->cr3_loads;
    return (unsigned)k < TR_KINDS ? c->transitions[k] : 0;
}

unsigned cpu_stat_nspaces(const struct cpu *c)
{
    int cur = current_index(c);
    return cur >= (int)c->nspaces ? c->nspaces + 1 : c->nspaces;
}

bool cpu_stat_space(const struct cpu *c, unsigned k, uint32_t *cr3, uint64_t *kernel,
                    uint64_t *user)
{
    if (k >= cpu_stat_nspaces(c))
        return false;
    uint64_t insns[2] = {0, 0};
    if (k < c->nspaces) {
        *cr3 = c->spaces[k].cr3;
        insns[0] = c->spaces[k].insns[0];
        insns[1] = c->spaces[k].insns[1];
    } else {
        *cr3 = current_space(c);
    }
    if ((int)k == current_index(c))
        insns[c->cpl == 3] += pending(c);
    *kernel = insns[0];
    *user = insns[1];
    return true;
}
