/* Operand access shared by the instruction handlers: registers, effective addresses, memory
 * through segments, and the stack. Everything here either completes or raises a fault before
 * changing state, which is what keeps exceptions precise: a handler reads and checks everything
 * first and writes registers last. */
#ifndef RINGSIDE_OPS_H
#define RINGSIDE_OPS_H

#include "cpu/flags.h"
#include "cpu/insn.h"
#include "cpu/segment.h"
#include "mmu/mem.h"

/* A handler in two versions from one body: for any operand size (s = i->osize), and for 32-bit
 * operands (s = 4, so the size tests fold away). The decoder picks the second when the operand
 * size is 4 (the handlers listed in fast32.def). Usage: OP_SIZED(inc_r) { ... s ... } */
#define OP_SIZED(name)                                                                     \
    static inline __attribute__((always_inline)) void name##_body(                        \
        struct cpu *c, const struct insn *i, unsigned s);                                  \
    OP(name) { name##_body(c, i, i->osize); }                                              \
    OP(name##32) { name##_body(c, i, 4); }                                                 \
    static inline __attribute__((always_inline)) void name##_body(                        \
        struct cpu *c, const struct insn *i, unsigned s)

/* ---- registers ---- */

static inline uint32_t get_reg(const struct cpu *c, unsigned r, unsigned size)
{
    if (size == 4)
        return c->r[r];
    if (size == 2)
        return c->r[r] & 0xFFFF;
    return r < 4 ? c->r[r] & 0xFF : (c->r[r - 4] >> 8) & 0xFF; /* AL..BL, AH..BH */
}

static inline void set_reg(struct cpu *c, unsigned r, unsigned size, uint32_t v)
{
    if (size == 4)
        c->r[r] = v;
    else if (size == 2)
        c->r[r] = (c->r[r] & 0xFFFF0000u) | (v & 0xFFFF);
    else if (r < 4)
        c->r[r] = (c->r[r] & 0xFFFFFF00u) | (v & 0xFF);
    else
        c->r[r - 4] = (c->r[r - 4] & 0xFFFF00FFu) | ((v & 0xFF) << 8);
}

/* ---- memory operands ---- */

/* Effective address (offset within the segment) of the ModRM memory operand. */
static inline uint32_t ea(const struct cpu *c, const struct insn *i)
{
    uint32_t a = i->disp;
    if (i->base != NOREG)
        a += c->r[i->base];
    if (i->index != NOREG)
        a += c->r[i->index] << i->scale;
    return i->asize == 2 ? a & 0xFFFF : a;
}

static inline uint32_t rd(struct cpu *c, int seg, uint32_t off, unsigned size)
{
    return lin_read(c, seg_lin(c, seg, off, size, 0), size);
}

static inline void wr(struct cpu *c, int seg, uint32_t off, unsigned size, uint32_t v)
{
    lin_write(c, seg_lin(c, seg, off, size, 1), size, v);
}

/* For read-modify-write: checks the destination is writable (a fault is a write fault). */
static inline void probe_wr(struct cpu *c, int seg, uint32_t off, unsigned size)
{
    lin_probe_write(c, seg_lin(c, seg, off, size, 1), size);
}

/* The r/m operand at the instruction's operand size. */
static inline uint32_t rd_rm(struct cpu *c, const struct insn *i, unsigned size)
{
    if (i->modreg)
        return get_reg(c, i->rm, size);
    return rd(c, i->seg, ea(c, i), size);
}

static inline void wr_rm(struct cpu *c, const struct insn *i, unsigned size, uint32_t v)
{
    if (i->modreg)
        set_reg(c, i->rm, size, v);
    else
        wr(c, i->seg, ea(c, i), size, v);
}

/* Reads the r/m operand of a read-modify-write instruction, faulting as a write if the
 * destination is not writable. */
static inline uint32_t rd_rm_rmw(struct cpu *c, const struct insn *i, unsigned size)
{
    if (i->modreg)
        return get_reg(c, i->rm, size);
    uint32_t off = ea(c, i);
    probe_wr(c, i->seg, off, size);
    return rd(c, i->seg, off, size);
}

/* ---- stack ---- */

static inline uint32_t sp_mask(const struct cpu *c)
{
    return (c->seg[SEG_SS].attr & SA_DB) ? 0xFFFFFFFFu : 0xFFFFu;
}

static inline uint32_t sp_with(const struct cpu *c, uint32_t new_sp)
{
    uint32_t m = sp_mask(c);
    return (c->r[ESP] & ~m) | (new_sp & m);
}

static inline void push(struct cpu *c, unsigned size, uint32_t v)
{
    uint32_t sp = (c->r[ESP] - size) & sp_mask(c);
    wr(c, SEG_SS, sp, size, v);
    c->r[ESP] = sp_with(c, sp);
}

/* Reads the value n bytes above the stack top without popping. */
static inline uint32_t stack_peek(struct cpu *c, unsigned size, uint32_t n)
{
    return rd(c, SEG_SS, (c->r[ESP] + n) & sp_mask(c), size);
}

static inline uint32_t pop(struct cpu *c, unsigned size)
{
    uint32_t v = stack_peek(c, size, 0);
    c->r[ESP] = sp_with(c, c->r[ESP] + size);
    return v;
}

/* ---- control flow ---- */

static inline void set_eip(struct cpu *c, uint32_t target, unsigned osize)
{
    c->eip = osize == 2 ? target & 0xFFFF : target;
}

/* Privilege checks shared by handlers. */
static inline void require_cpl0(struct cpu *c)
{
    if (c->cpl != 0)
        raise_sel(c, EXC_GP, 0, SR_PRIVILEGED, SU_INSN, 0, NULL);
}

static inline unsigned iopl(const struct cpu *c)
{
    return (c->eflags & FL_IOPL) >> 12;
}

#endif
