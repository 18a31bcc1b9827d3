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
 * size is 4 (the handlers listed in fast32.def). The second is never inlined: the form handlers
 * (OP_FORMS below) jump to it for their slow path. Usage: OP_SIZED(inc_r) { ... s ... } */
#define OP_SIZED(name)                                                                     \
    static inline __attribute__((always_inline)) void name##_body(                        \
        struct cpu *c, const struct insn *i, unsigned s);                                  \
    __attribute__((noinline)) OP_DECL(name)                                                \
    {                                                                                      \
        name##_body(c, i, i->osize);                                                       \
        insn_next(c, i);                                                                   \
    }                                                                                      \
    __attribute__((noinline)) OP_DECL(name##32)                                            \
    {                                                                                      \
        name##_body(c, i, 4);                                                              \
        insn_next(c, i);                                                                   \
    }                                                                                      \
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

/* Effective address (offset within the segment) of the ModRM memory operand. A missing base or
 * index is NOREG, and c->r[NOREG] is always 0. */
static inline uint32_t ea(const struct cpu *c, const struct insn *i)
{
    uint32_t a = i->disp + c->r[i->base] + (c->r[i->index] << i->scale);
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

/* ---- handlers specialised by operand form (forms.def) ----
 * A handler in three versions for 32-bit operands (and three more for byte operands, with
 * OP_FORMS_B) and, for memory, 32-bit addresses, picked by
 * the decoder: FORM_R when the ModRM operand is a register, FORM_B for [base + disp] (base may
 * be NOREG: [disp32]), FORM_X for [base + index * scale + disp]. The body is a fast path that
 * returns false, having changed nothing, when the access needs the slow path (a segment that is
 * not flat, a TLB miss, a page crossing, a watched or code page, MMIO): the handler then jumps
 * to op_NAME32 (op_NAME for bytes), which does everything, faults included.
 * Usage: OP_FORMS(mov_GE) { ... form ... s ... }
 */
enum { FORM_R, FORM_B, FORM_X, FORM_X0 /* FORM_X with scale 0: [base + index + disp] */ };

#define OP_FORM_(name, sfx, form, s, fallback)                                            \
    OP_DECL(name##sfx)                                                                     \
    {                                                                                      \
        if (!name##_form(c, i, form, s)) {                                                 \
            fallback(c, i); /* threaded itself */                                          \
            return;                                                                        \
        }                                                                                  \
        insn_go(c, i);                                                                     \
    }
#define OP_FORM_DECL_(name)                                                                \
    static inline __attribute__((always_inline)) bool name##_form(                        \
        struct cpu *c, const struct insn *i, unsigned form, unsigned s)
#define OP_FORMS_32_(name)                                                                 \
    OP_FORM_DECL_(name);                                                                   \
    OP_FORM_(name, 32_r, FORM_R, 4, op_##name##32)                                         \
    OP_FORM_(name, 32_b, FORM_B, 4, op_##name##32)                                         \
    OP_FORM_(name, 32_x, FORM_X, 4, op_##name##32)
#define OP_FORMS(name) OP_FORMS_32_(name) OP_FORM_DECL_(name)
/* The same, and three more versions for byte operands (s = 1: op_NAME8_r, _b, _x), which fall
 * back to op_NAME. */
#define OP_FORMS_B(name)                                                                   \
    OP_FORMS_32_(name)                                                                     \
    OP_FORM_(name, 8_r, FORM_R, 1, op_##name)                                              \
    OP_FORM_(name, 8_b, FORM_B, 1, op_##name)                                              \
    OP_FORM_(name, 8_x, FORM_X, 1, op_##name)                                              \
    OP_FORM_DECL_(name)

/* The effective address of a FORM_B or FORM_X operand (32-bit addressing). */
static inline uint32_t ea_form(const struct cpu *c, const struct insn *i, unsigned form)
{
    uint32_t a = c->r[i->base] + i->disp;
    if (form == FORM_X)
        a += c->r[i->index] << i->scale;
    else if (form == FORM_X0)
        a += c->r[i->index];
    return a;
}

/* The host address of a size-byte access at off in segment seg when it needs no check and no
 * slow path: a flat segment and a TLB hit for kind (TLB_R_S or TLB_W_S, at the current
 * privilege) within one page. NULL otherwise. */
static inline uint8_t *fast_host(struct cpu *c, int seg, uint32_t off, unsigned size,
                                 uint32_t kind)
{
    if (!c->seg[seg].flat)
        return NULL;
    return tlb_fast_host(c, off, size, kind == TLB_W_S);
}

/* The host address of the memory operand of a FORM_B/FORM_X handler, or NULL. A write hit is
 * also a read hit (no page is write-only), so read-modify-write asks for TLB_W_S once. */
static inline uint8_t *form_host(struct cpu *c, const struct insn *i, unsigned form,
                                 unsigned size, uint32_t kind)
{
    return fast_host(c, i->seg, ea_form(c, i, form), size, kind);
}

/* ---- stack ---- */

static inline uint32_t sp_mask(const struct cpu *c)
{
    return (c->seg[SEG_SS].attr & SA_DB) ? 0xFFFFFFFFu : 0xFFFFu;
}

/* The host address of size bytes at stack offset sp when SS is flat with a 32-bit stack pointer
 * and the TLB hits for kind (TLB_R_S or TLB_W_S) within one page; NULL otherwise (the caller
 * then does the access the general way). */
static inline uint8_t *stack_host(struct cpu *c, uint32_t sp, unsigned size, uint32_t kind)
{
    if (!(c->seg[SEG_SS].attr & SA_DB))
        return NULL;
    return fast_host(c, SEG_SS, sp, size, kind);
}

/* A 32-bit handler with a fast path: like OP_SIZED, but op_NAME32 first runs NAME_fast(c, i),
 * which returns false, having changed nothing, when the general body must run (out of line, so
 * the fast path needs no stack frame). Usage: OP_SIZED_FAST(push_r) { ... s ... }, with
 * static inline bool push_r_fast(struct cpu *c, const struct insn *i) defined before. */
#define OP_SIZED_FAST(name)                                                                \
    static inline __attribute__((always_inline)) void name##_body(                        \
        struct cpu *c, const struct insn *i, unsigned s);                                  \
    OP(name) { name##_body(c, i, i->osize); }                                              \
    static __attribute__((noinline)) void name##_any32(struct cpu *c, const struct insn *i) \
    {                                                                                      \
        name##_body(c, i, 4);                                                              \
        insn_next(c, i);                                                                   \
    }                                                                                      \
    OP_DECL(name##32)                                                                      \
    {                                                                                      \
        if (!name##_fast(c, i)) {                                                          \
            name##_any32(c, i); /* threaded itself */                                      \
            return;                                                                        \
        }                                                                                  \
        insn_go(c, i);                                                                     \
    }                                                                                      \
    static inline __attribute__((always_inline)) void name##_body(                        \
        struct cpu *c, const struct insn *i, unsigned s)

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
