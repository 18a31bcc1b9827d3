/* The guest's debug registers and #DB (see debug.h). */
#include "cpu/debug.h"

#include "cpu/deliver.h"
#include "mmu/mem.h"

/* Breakpoint n's range from DR7's LEN field: the first byte and the length. */
static void range(const struct cpu *c, unsigned n, uint32_t *start, uint32_t *len)
{
    static const uint32_t lens[4] = { 1, 2, 8, 4 };
    *len = lens[(c->dr[7] >> (18 + 4 * n)) & 3];
    *start = c->dr[n] & ~(*len - 1);
}

static unsigned rw(const struct cpu *c, unsigned n)
{
    return (c->dr[7] >> (16 + 4 * n)) & 3;
}

void dbg_update(struct cpu *c)
{
    uint8_t exec = 0, data = 0, io = 0;
    for (unsigned n = 0; n < 4; n++) {
        if (!((c->dr[7] >> (2 * n)) & 3))
            continue;
        unsigned kind = rw(c, n);
        if (kind == 0 && ((c->dr[7] >> (18 + 4 * n)) & 3) == 0)
            exec |= (uint8_t)(1u << n);
        else if (kind == 1 || kind == 3)
            data |= (uint8_t)(1u << n);
        else if (kind == 2 && (c->cr4 & CR4_DE))
            io |= (uint8_t)(1u << n);
    }
    c->dbg_exec = exec;
    c->dbg_data = data;
    c->dbg_io = io;
    tlb_flush_all(c);
}

uint32_t dbg_fix_dr6(uint32_t v)
{
    return (v & DR6_WRITABLE) | DR6_FIXED1;
}

uint32_t dbg_fix_dr7(uint32_t v)
{
    return (v & DR7_WRITABLE) | DR7_FIXED1;
}

bool dbg_page_watched(const struct cpu *c, uint32_t lin)
{
    for (unsigned n = 0; n < 4; n++) {
        if (!(c->dbg_data & (1u << n)))
            continue;
        uint32_t start, len;
        range(c, n, &start, &len);
        if ((start >> 12) == (lin >> 12) || ((start + len - 1) >> 12) == (lin >> 12))
            return true;
    }
    return false;
}

/* Records the breakpoints among `which` whose range overlaps [addr, addr+size) (modulo 4 GiB)
 * and ends the block after this instruction. */
static void match(struct cpu *c, uint8_t which, uint32_t addr, unsigned size)
{
    for (unsigned n = 0; n < 4; n++) {
        if (!(which & (1u << n)))
            continue;
        uint32_t start, len;
        range(c, n, &start, &len);
        if ((uint32_t)(addr - start) < len || (uint32_t)(start - addr) < size) {
            c->dbg_hit |= (uint8_t)(1u << n);
            c->stop_block = true;
        }
    }
}

void dbg_data_access(struct cpu *c, uint32_t lin, unsigned size, bool write)
{
    uint8_t which = c->dbg_data;
    if (!write) /* a write breakpoint (R/W 01) does not see reads */
        for (unsigned n = 0; n < 4; n++)
            if (rw(c, n) == 1)
                which &= (uint8_t)~(1u << n);
    match(c, which, lin, size);
}

void dbg_io_access(struct cpu *c, uint16_t port, unsigned size)
{
    match(c, c->dbg_io, port, size);
}

bool dbg_exec_check(struct cpu *c)
{
    if (c->eflags & FL_RF)
        return false;
    uint32_t lin = c->seg[SEG_CS].base + c->eip;
    uint8_t hit = 0;
    for (unsigned n = 0; n < 4; n++)
        if ((c->dbg_exec & (1u << n)) && c->dr[n] == lin)
            hit |= (uint8_t)(1u << n);
    if (!hit)
        return false;
    c->dr[6] = (c->dr[6] & ~0xFu) | hit;
    c->insn_eip = c->eip;
    c->last_block = NULL;
    deliver(c, EXC_DB, TR_EXCEPTION); /* RF pushed as it is: 0 */
    return true;
}

bool dbg_trap(struct cpu *c, bool bs)
{
    bool data = c->dbg_hit && c->icount >= c->inhibit_until_db;
    if (!data && !bs)
        return false;
    c->dr[6] = (c->dr[6] & ~0xFu) | (data ? c->dbg_hit : 0u) | (bs ? DR6_BS : 0u);
    if (data)
        c->dbg_hit = 0;
    /* A REP instruction stopped after an iteration that was not its last points at itself:
       RF = 1 in the image, so that an instruction breakpoint there does not fire again. */
    if (c->eip == c->insn_eip && c->dbg_rep_cut)
        c->eflags |= FL_RF;
    c->dbg_rep_cut = false;
    c->insn_eip = c->eip;
    c->last_block = NULL;
    deliver(c, EXC_DB, TR_EXCEPTION);
    return true;
}

void dbg_general_detect(struct cpu *c)
{
    if (!(c->dr[7] & DR7_GD))
        return;
    c->dr[7] &= ~DR7_GD;
    c->dr[6] |= DR6_BD;
    c->eflags |= FL_RF; /* a fault-class #DB other than an instruction breakpoint */
    cpu_raise(c, EXC_DB, false, 0);
}
