/* IN/OUT and their permission check. */
#include "cpu/io.h"

#include "cpu/debug.h"
#include "cpu/ops.h"
#include "cpu/tss.h"
#include "devices/bus.h"

void io_check(struct cpu *c, uint16_t port, unsigned size)
{
    if (c->cpl <= iopl(c))
        return;
    /* The bitmap: 32-bit TSS, base offset at TSS+0x66 (tss.h), one bit per port; both bytes that may
     * hold the bits are read, and must lie within the TSS limit. */
    const struct segment *tr = &c->tr;
    struct desc d = desc_from_cache(tr->base, tr->limit, tr->attr);
    if (!d.p || !desc_is_tss(&d) || !desc_is_32bit_system(&d) || tr->limit < TSS32_MIN_LIMIT)
        cpu_raise_rule(c, RR_IO_NO_BITMAP, port, size);
    uint32_t base = lin_read_sup(c, tr->base + TSS_IOMAP + 2, 2);
    uint32_t off = base + port / 8;
    if (off + 1 > tr->limit)
        cpu_raise_rule(c, RR_IO_BEYOND_TSS, port, size);
    uint32_t bits = lin_read_sup(c, tr->base + off, 2);
    uint32_t mask = ((1u << size) - 1) << (port & 7);
    if (bits & mask)
        cpu_raise_rule(c, RR_IO_DENIED, port, size);
}

uint32_t io_in(struct cpu *c, uint16_t port, unsigned size)
{
    cpu_settle(c); /* the device sees exact time and state (INS in the middle of a block) */
    c->bus_ops++;
    uint32_t v = bus_in(c->bus, port, size) & size_mask(size);
    if (c->dbg_io)
        dbg_io_access(c, port, size); /* an I/O breakpoint: #DB after the instruction */
    return v;
}

void io_out(struct cpu *c, uint16_t port, unsigned size, uint32_t value)
{
    cpu_settle(c); /* the device sees exact time and state (OUTS in the middle of a block) */
    c->bus_ops++;
    bus_out(c->bus, port, value & size_mask(size), size);
    if (c->dbg_io)
        dbg_io_access(c, port, size);
    if (c->bus->exit_requested) {
        c->stop_reason = RUN_EXIT;
        c->stop_block = true;
    }
}

OP(in_imm)
{
    uint16_t port = (uint16_t)(i->imm & 0xFF);
    io_check(c, port, i->osize);
    set_reg(c, EAX, i->osize, io_in(c, port, i->osize));
}

OP(in_dx)
{
    uint16_t port = (uint16_t)c->r[EDX];
    io_check(c, port, i->osize);
    set_reg(c, EAX, i->osize, io_in(c, port, i->osize));
}

OP(out_imm)
{
    uint16_t port = (uint16_t)(i->imm & 0xFF);
    io_check(c, port, i->osize);
    io_out(c, port, i->osize, get_reg(c, EAX, i->osize));
}

OP(out_dx)
{
    uint16_t port = (uint16_t)c->r[EDX];
    io_check(c, port, i->osize);
    io_out(c, port, i->osize, get_reg(c, EAX, i->osize));
}
