/* Case generation for the differential test.
 *
 * A case is one instruction (or, for the lazy-flag tests, a flag producer and a consumer) with
 * its registers, EFLAGS and data. It is built by a "form" (one encoding family: "adc E,G",
 * "shift /4 by CL", "rep cmps", ...) that emits the bytes and chooses operands: registers get
 * edge values (0, 1, -1, 0x7f, 0x80, 0x7fff, 0x8000, 0x7fffffff, 0x80000000, ...), single bits or
 * random bits; a memory operand gets a target address in the data area (sometimes across its
 * edge or in an unmapped page, to fault) and the base/index registers are solved so that the
 * ModRM/SIB encoding reaches it. The first cases are a systematic sweep (every ALU op, shift,
 * MUL/DIV, BCD adjustment and condition on edge values and all flag combinations); the rest
 * are drawn from the forms by weight with one seeded generator, so a seed names a run exactly.
 *
 * A form also says which results the Intel SDM leaves undefined for its instruction: the
 * EFLAGS bits (tcase.fmask), register bits (rmask) and data bytes (ign_*) that the comparison
 * skips. Each undef() call cites the SDM rule it follows.
 */
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"
#include "diff.h"

struct gen {
    uint64_t s;
    struct layout L;
    unsigned *cum;       /* cumulative weights of the selectable forms */
    unsigned *idx;       /* their form indices */
    unsigned n, total;
    unsigned sys_n, sys_i;
    const char *filter;
    /* the case being built */
    struct tcase *tc;
    unsigned fixed;      /* registers whose value the encoding depends on */
    int a16;             /* 0x67: 16-bit addressing */
    unsigned off;        /* offset of the first instruction in the code page */
    int no_ro;           /* memory operands avoid the read-only page (it holds jump targets) */
};

/* ---- random numbers and values ---- */

static uint64_t next64(struct gen *g)
{
    uint64_t z = (g->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint32_t rnd(struct gen *g) { return (uint32_t)(next64(g) >> 32); }
static unsigned rn(struct gen *g, unsigned n) { return (unsigned)(((uint64_t)rnd(g) * n) >> 32); }
static int chance(struct gen *g, unsigned pct) { return rn(g, 100) < pct; }

static uint32_t smask(unsigned s) { return s == 4 ? 0xFFFFFFFFu : s == 2 ? 0xFFFFu : 0xFFu; }

#define NEDGE 24
static const uint32_t edges8[NEDGE] = {
    0x00, 0x01, 0x02, 0x7F, 0x80, 0x81, 0xFE, 0xFF, 0x0F, 0x10, 0x99, 0x9A,
    0x55, 0xAA, 0x40, 0x3F, 0x09, 0x0A, 0x60, 0x66, 0xF0, 0xC0, 0x20, 0x1F,
};
static const uint32_t edges16[NEDGE] = {
    0x0000, 0x0001, 0x0002, 0x007F, 0x0080, 0x00FF, 0x0100, 0x7FFF, 0x8000, 0x8001, 0xFFFF, 0xFFFE,
    0x0F0F, 0x5555, 0xAAAA, 0xFF7F, 0xFF80, 0x1234, 0x7FFE, 0x8080, 0x3FFF, 0x4000, 0xC000, 0x0010,
};
static const uint32_t edges32[NEDGE] = {
    0x00000000, 0x00000001, 0x00000002, 0x0000007F, 0x00000080, 0x000000FF, 0x00007FFF, 0x00008000,
    0x0000FFFF, 0x00010000, 0x7FFFFFFF, 0x80000000, 0x80000001, 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFF8000,
    0xFFFFFF80, 0x55555555, 0xAAAAAAAA, 0x12345678, 0x7FFFFFFE, 0x3FFFFFFF, 0x40000000, 0xC0000000,
};

static uint32_t edge_at(unsigned s, unsigned k)
{
    return (s == 1 ? edges8 : s == 2 ? edges16 : edges32)[k % NEDGE];
}

/* An operand value of size s: edges, small signed numbers, single bits or random bits. */
static uint32_t val(struct gen *g, unsigned s)
{
    unsigned k = rn(g, 100);
    uint32_t v;
    if (k < 40)
        v = edge_at(s, rn(g, NEDGE));
    else if (k < 50)
        v = (uint32_t)((int)rn(g, 33) - 16);
    else if (k < 58)
        v = 1u << rn(g, 32);
    else {
        v = rnd(g);
        if (k < 70)
            v &= rnd(g);
        else if (k < 80)
            v |= rnd(g);
    }
    return v & smask(s);
}

/* ---- registers ---- */

/* The 32-bit register an operand register of size s lives in (AH..BH are EAX..EBX). */
static unsigned home(unsigned r, unsigned s) { return s == 1 ? (r & 3) : r; }

static uint32_t get_lane(const uint32_t *regs, unsigned r, unsigned s)
{
    if (s == 4)
        return regs[r];
    if (s == 2)
        return regs[r] & 0xFFFF;
    return r < 4 ? regs[r] & 0xFF : (regs[r - 4] >> 8) & 0xFF;
}

static void set_lane(uint32_t *regs, unsigned r, unsigned s, uint32_t v)
{
    if (s == 4)
        regs[r] = v;
    else if (s == 2)
        regs[r] = (regs[r] & 0xFFFF0000u) | (v & 0xFFFF);
    else if (r < 4)
        regs[r] = (regs[r] & 0xFFFFFF00u) | (v & 0xFF);
    else
        regs[r - 4] = (regs[r - 4] & 0xFFFF00FFu) | ((v & 0xFF) << 8);
}

/* Gives an operand register a value unless the encoding already depends on it. */
static void setop(struct gen *g, unsigned r, unsigned s, uint32_t v)
{
    if (!(g->fixed & (1u << home(r, s))))
        set_lane(g->tc->in.r, r, s, v);
}

static uint32_t getop(struct gen *g, unsigned r, unsigned s) { return get_lane(g->tc->in.r, r, s); }

static void fix(struct gen *g, unsigned r, uint32_t v)
{
    g->tc->in.r[r] = v;
    g->fixed |= 1u << r;
}

static void fix_lane(struct gen *g, unsigned r, unsigned s, uint32_t v)
{
    set_lane(g->tc->in.r, r, s, v);
    g->fixed |= 1u << home(r, s);
}

/* ---- what the comparison skips ---- */

static void undef(struct gen *g, uint32_t flags) { g->tc->fmask &= ~flags; }

static void undef_reg(struct gen *g, unsigned r, unsigned s)
{
    if (s == 1 && r >= 4)
        g->tc->rmask[r - 4] &= ~0xFF00u;
    else
        g->tc->rmask[r] &= ~smask(s);
}

static void undef_mem(struct gen *g, uint32_t addr, unsigned n)
{
    if (addr >= g->L.data && addr - g->L.data < g->L.dsize) {
        g->tc->ign_off = (uint16_t)(addr - g->L.data);
        g->tc->ign_len = (uint16_t)n;
    }
}

/* ---- code ---- */

static void emit(struct gen *g, uint32_t b)
{
    if (g->tc->in.code_len < DIFF_CODE_MAX)
        g->tc->in.code[g->tc->in.code_len++] = (uint8_t)b;
}

static void emitv(struct gen *g, uint32_t v, unsigned s)
{
    for (unsigned k = 0; k < s; k++)
        emit(g, v >> (8 * k));
}

static uint32_t code_start(const struct gen *g) { return g->L.code + g->off; }

/* A landing place for a control transfer that is not inside [start, end): a HLT elsewhere in
 * the code page, or now and then the page before or after it (not mapped: a fetch #PF). */
static uint32_t land(struct gen *g, uint32_t start, uint32_t end)
{
    unsigned k = rn(g, 100);
    if (k < 4)
        return g->L.code + DIFF_CODE_SIZE + rn(g, 64);
    if (k < 8)
        return g->L.code - 1 - rn(g, 64);
    for (;;) {
        uint32_t t = g->L.code + rn(g, DIFF_CODE_SIZE);
        if (t < start || t >= end)
            return t;
    }
}

/* The relative displacement (rsize bytes) that ends the instruction, to a landing place. A rel8
 * lands within reach; with a 16-bit operand size the target is truncated to 16 bits. */
static void emit_rel(struct gen *g, unsigned rsize)
{
    uint32_t start = code_start(g), end = start + g->tc->in.code_len + rsize, t;
    if (rsize == 1) {
        do
            t = end + (uint32_t)(int32_t)(int8_t)rnd(g);
        while (t >= start && t < end);
    } else {
        t = land(g, start, end);
    }
    emitv(g, t - end, rsize);
}

/* ---- data ---- */

static int in_data(const struct gen *g, uint32_t a) { return a - g->L.data < g->L.dsize; }

/* Plants bytes at linear address a (the parts inside the data area). */
static void patch_bytes(struct gen *g, uint32_t a, const uint8_t *b, unsigned n)
{
    struct diff_case *in = &g->tc->in;
    unsigned k = 0;
    while (k < n) {
        if (!in_data(g, a + k)) {
            k++;
            continue;
        }
        if (in->npatch >= DIFF_PATCHES)
            return;
        struct diff_patch *p = &in->patch[in->npatch++];
        p->off = (uint16_t)(a + k - g->L.data);
        p->len = 0;
        while (k < n && p->len < DIFF_PATCH_BYTES && in_data(g, a + k))
            p->bytes[p->len++] = b[k++];
    }
}

static void patch_val(struct gen *g, uint32_t a, unsigned s, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    patch_bytes(g, a, b, s);
}

/* An address for an n-byte access: inside the data area (now and then across the boundary of
 * its two pages), or (about 3.5%) across its lower or upper edge or in the null page, which
 * faults, or (2%) in the read-only page. */
static uint32_t dtarget(struct gen *g, unsigned n)
{
    unsigned k = rn(g, 1000);
    uint32_t lo = g->L.data, hi = g->L.data + g->L.dsize;
    if (k < 15)
        return lo - 1 - rn(g, n + 6);
    if (k < 30)
        return hi - n + 1 + rn(g, n + 6);
    if (k < 35)
        return 0x100 + rn(g, 0xE00);
    if (k < 55 && !g->no_ro) /* the read-only page: reads work, writes are #PF(P W U) */
        return g->L.ro + rn(g, 0x1000 - n + 1);
    if (k < 85) /* across the boundary between the data area's two pages */
        return lo + 0x1000 - 1 - rn(g, n > 1 ? n - 1 : 1);
    uint32_t a = lo + 64 + rn(g, g->L.dsize - 128);
    if (chance(g, 60))
        a &= ~(uint32_t)(n >= 4 ? 3 : n - 1);
    return a;
}

/* The same for 16-bit addressing: the data area when it lies below 64 KiB, else any 16-bit
 * address (which then faults in both machines). */
static uint32_t dtarget16(struct gen *g, unsigned n)
{
    if (g->L.data + g->L.dsize <= 0x10000)
        return dtarget(g, n) & 0xFFFF;
    return rn(g, 0x10000);
}

static uint32_t target(struct gen *g, unsigned n) { return g->a16 ? dtarget16(g, n) : dtarget(g, n); }

/* ---- ModRM memory operands ---- */

static const uint8_t rm16_base[8] = {EBX, EBX, EBP, EBP, ESI, EDI, EBP, EBX};
static const uint8_t rm16_index[8] = {ESI, EDI, ESI, EDI, 8, 8, 8, 8};

/* Emits ModRM (+SIB, displacement) for a memory operand whose effective address is t, with
 * ModRM.reg = reg, choosing an addressing form at random and solving its base/index registers.
 * Registers in `avoid` (and those already fixed) are not used. Returns the effective address
 * encoded: t, or a few bytes below it when base and index are the same register. */
static uint32_t mem_operand(struct gen *g, unsigned reg, uint32_t t, unsigned avoid)
{
    avoid |= g->fixed;
    if (g->a16) {
        for (unsigned tries = 0; tries < 32; tries++) {
            unsigned mod = rn(g, 3), rm = rn(g, 8);
            if (mod == 0 && rm == 6)
                break;
            unsigned b = rm16_base[rm], x = rm16_index[rm];
            if (((avoid >> b) & 1) || (x != 8 && ((avoid >> x) & 1)))
                continue;
            uint32_t disp = mod == 1 ? (uint32_t)(int32_t)(int8_t)rnd(g)
                          : mod == 2 ? rnd(g) & 0xFFFF : 0;
            uint32_t xv = x != 8 ? rnd(g) : 0; /* upper halves are garbage: they must not count */
            fix(g, b, ((t - disp - xv) & 0xFFFF) | (rnd(g) & 0xFFFF0000u));
            if (x != 8)
                fix(g, x, xv);
            emit(g, mod << 6 | reg << 3 | rm);
            emitv(g, disp, mod);
            return t & 0xFFFF;
        }
        emit(g, reg << 3 | 6);
        emitv(g, t, 2);
        return t & 0xFFFF;
    }
    for (unsigned tries = 0; tries < 64; tries++) {
        unsigned form = rn(g, 8), mod = rn(g, 3), scale = rn(g, 4);
        unsigned base = 8, index = 8;
        int sib = 0;
        if (form == 0)
            break; /* [disp32] */
        if (form == 1) {
            sib = 1; /* [index*s + disp32], or [disp32] through a SIB with no index */
            mod = 0;
            index = rn(g, 8);
        } else if (form <= 4) {
            base = rn(g, 8);
            sib = base == ESP;
        } else {
            sib = 1;
            base = rn(g, 8);
            index = rn(g, 8);
        }
        if (index == ESP)
            index = 8;
        if (base == EBP && mod == 0)
            mod = 1;
        if (base == ESP && mod == 2)
            mod = 1; /* keep ESP close to the address, in the data area */
        if ((base != 8 && ((avoid >> base) & 1)) || (index != 8 && ((avoid >> index) & 1)))
            continue;
        uint32_t disp = 0, bv = 0, xv = 0;
        if (mod == 1)
            disp = (uint32_t)(int32_t)(int8_t)rnd(g);
        else if (mod == 2 || base == 8)
            disp = chance(g, 50) ? (uint32_t)((int)rn(g, 0x1000) - 0x800) : rnd(g);
        if (index != 8 && index == base) {
            uint32_t k = 1 + (1u << scale);
            bv = xv = (t - disp) / k;
            t = bv * k + disp;
        } else if (index != 8) {
            unsigned c = rn(g, 10);
            xv = c < 5 ? (uint32_t)((int)rn(g, 128) - 64) : c < 8 ? val(g, 4) : rnd(g);
            if (base != 8)
                bv = t - disp - (xv << scale);
            else
                disp = t - (xv << scale);
        } else if (base != 8) {
            bv = t - disp;
        } else {
            disp = t;
        }
        if (base == ESP && (bv - g->L.data + 0x1000) > g->L.dsize + 0x2000)
            continue; /* an ESP outside the data area's neighbourhood */
        if (base != 8)
            fix(g, base, bv);
        if (index != 8 && index != base)
            fix(g, index, xv);
        emit(g, mod << 6 | reg << 3 | (sib ? 4 : base));
        if (sib)
            emit(g, scale << 6 | (index == 8 ? 4 : index) << 3 | (base == 8 ? 5 : base));
        if (mod == 1)
            emit(g, disp);
        else if (mod == 2 || base == 8)
            emitv(g, disp, 4);
        return t;
    }
    emit(g, reg << 3 | 5);
    emitv(g, t, 4);
    return t;
}

/* The r/m operand: a register (given value v) or memory at a fresh target (holding v). */
struct rmop {
    int mem;
    unsigned reg;   /* the register, for mod = 3 */
    uint32_t addr;  /* the effective address, for memory */
};

static struct rmop rm_opv(struct gen *g, unsigned regfield, unsigned s, int mem, unsigned avoid,
                          uint32_t v)
{
    struct rmop o = {mem, 0, 0};
    if (!mem) {
        o.reg = rn(g, 8);
        emit(g, 0xC0 | regfield << 3 | o.reg);
        setop(g, o.reg, s, v);
        return o;
    }
    o.addr = mem_operand(g, regfield, target(g, s), avoid);
    patch_val(g, o.addr, s, v);
    return o;
}

static struct rmop rm_op(struct gen *g, unsigned regfield, unsigned s, int mem, unsigned avoid)
{
    return rm_opv(g, regfield, s, mem, avoid, val(g, s));
}

/* The current value of an r/m operand (as planted). */
static uint32_t rm_value(struct gen *g, const struct rmop *o, unsigned s, uint32_t planted)
{
    return o->mem ? planted : getop(g, o->reg, s);
}

/* Prefixes in a fixed order: LOCK, a segment override (ES CS SS DS or FS, which is null in
 * both machines), operand size, address size. */
static void prefixes(struct gen *g, unsigned s, int mem, int lock)
{
    static const uint8_t segs[5] = {0x26, 0x2E, 0x36, 0x3E, 0x64};
    g->a16 = mem && chance(g, 12);
    if (lock)
        emit(g, 0xF0);
    if (mem && chance(g, 8))
        emit(g, segs[rn(g, 5)]);
    if (s == 2)
        emit(g, 0x66);
    if (g->a16)
        emit(g, 0x67);
}

static unsigned pick_size(struct gen *g, unsigned sizes)
{
    for (;;) {
        unsigned s = 1u << rn(g, 3);
        if (sizes & s)
            return s;
    }
}

/* ---- forms ---- */

typedef void (*form_fn)(struct gen *g, unsigned arg);

enum { K_EG, K_GE, K_AI, K_80, K_81, K_82, K_83 };

/* AND, OR, XOR, TEST: "The OF and CF flags are cleared; the SF, ZF, and PF flags are set
 * according to the result. The state of the AF flag is undefined." (SDM vol. 2, AND/OR/XOR) */
static int is_logic(unsigned op) { return op == 1 || op == 4 || op == 6; }

static void f_alu(struct gen *g, unsigned arg)
{
    unsigned op = arg & 7, kind = arg >> 4;
    unsigned s = (kind == K_80 || kind == K_82) ? 1
               : (kind == K_81 || kind == K_83) ? pick_size(g, 6) : pick_size(g, 7);
    int mem = kind != K_AI && chance(g, 45);
    int lock = mem && op != 7 && kind != K_GE && chance(g, 10);
    unsigned w = s > 1, reg = rn(g, 8);
    prefixes(g, s, mem, lock);
    switch (kind) {
    case K_EG:
    case K_GE:
        emit(g, op * 8 + (kind == K_GE ? 2 : 0) + w);
        setop(g, reg, s, val(g, s));
        rm_op(g, reg, s, mem, 0);
        break;
    case K_AI:
        emit(g, op * 8 + 4 + w);
        setop(g, EAX, s, val(g, s));
        emitv(g, val(g, s), s);
        break;
    default:
        emit(g, 0x80 + (kind - K_80));
        rm_op(g, op, s, mem, 0);
        emitv(g, val(g, kind == K_81 ? s : 1), kind == K_81 ? s : 1);
        break;
    }
    if (is_logic(op))
        undef(g, FL_AF);
}

/* TEST: 84/85, A8/A9, F6/F7 /0 and the /1 alias. AF undefined (SDM vol. 2, TEST). */
static void f_test(struct gen *g, unsigned kind)
{
    unsigned s = pick_size(g, 7), w = s > 1, reg = rn(g, 8);
    int mem = kind != 1 && chance(g, 40);
    prefixes(g, s, mem, 0);
    if (kind == 0) {
        emit(g, 0x84 + w);
        setop(g, reg, s, val(g, s));
        rm_op(g, reg, s, mem, 0);
    } else if (kind == 1) {
        emit(g, 0xA8 + w);
        setop(g, EAX, s, val(g, s));
        emitv(g, val(g, s), s);
    } else {
        emit(g, 0xF6 + w);
        rm_op(g, kind - 2, s, mem, 0);
        emitv(g, val(g, s), s);
    }
    undef(g, FL_AF);
}

/* INC/DEC: 40+r, 48+r, FE/FF /0 /1. All flags but CF defined, CF unchanged. */
static void f_incdec(struct gen *g, unsigned kind)
{
    if (kind < 2) {
        unsigned s = pick_size(g, 6), r = rn(g, 8);
        if (s == 2)
            emit(g, 0x66);
        emit(g, 0x40 + 8 * kind + r);
        setop(g, r, s, val(g, s));
        return;
    }
    unsigned s = pick_size(g, 7);
    int mem = chance(g, 40), lock = mem && chance(g, 10);
    prefixes(g, s, mem, lock);
    emit(g, 0xFE + (s > 1));
    rm_op(g, kind - 2, s, mem, 0);
}

/* NOT (/2: no flags) and NEG (/3: all flags defined, CF = source != 0). */
static void f_unary(struct gen *g, unsigned ext)
{
    unsigned s = pick_size(g, 7);
    int mem = chance(g, 40), lock = mem && chance(g, 10);
    prefixes(g, s, mem, lock);
    emit(g, 0xF6 + (s > 1));
    rm_op(g, ext, s, mem, 0);
}

static int64_t sx(uint32_t v, unsigned s)
{
    return s == 4 ? (int64_t)(int32_t)v : s == 2 ? (int64_t)(int16_t)v : (int64_t)(int8_t)v;
}

/* Sets the dividend (AX, DX:AX or EDX:EAX) of a DIV (ext 6) or IDIV (7) by d so that the
 * quotient sometimes fits and sometimes (just) does not. */
static void set_dividend(struct gen *g, unsigned ext, unsigned s, uint32_t d, unsigned regime)
{
    unsigned bits = 8 * s;
    uint32_t m = smask(s);
    uint64_t dv;
    if (regime == 0) {
        dv = ((uint64_t)val(g, s) << bits) | val(g, s);
    } else if (ext == 6) {
        if (regime == 1)
            dv = (uint64_t)val(g, s) * d + (d ? rnd(g) % d : 0);
        else /* the quotient just fits, or just does not */
            dv = ((uint64_t)(d ? d - rn(g, 2) : 0) << bits) | val(g, s);
    } else {
        int64_t sd = sx(d, s);
        if (regime == 1) {
            int64_t q = sx(val(g, s), s), p = q * sd;
            int64_t r = sd ? (int64_t)(rnd(g) % (uint32_t)(sd < 0 ? -sd : sd)) : 0;
            dv = (uint64_t)(p < 0 ? p - r : p + r);
        } else {
            /* quotient -2^(n-1) (fits), 2^(n-1) (does not), or MIN / -1 */
            int64_t q = chance(g, 50) ? -((int64_t)1 << (bits - 1)) : ((int64_t)1 << (bits - 1));
            dv = chance(g, 30) ? (uint64_t)1 << (2 * bits - 1) : (uint64_t)(q * sd);
        }
    }
    if (s == 1) {
        setop(g, EAX, 2, (uint32_t)dv & 0xFFFF);
    } else {
        setop(g, EAX, s, (uint32_t)dv & m);
        setop(g, EDX, s, (uint32_t)(dv >> bits) & m);
    }
}

/* MUL/IMUL (ext 4/5): "The SF, ZF, AF, and PF flags are undefined." DIV/IDIV (6/7): "The CF,
 * OF, SF, ZF, AF, and PF flags are undefined." (SDM vol. 2, MUL, IMUL, DIV, IDIV) */
static void f_muldiv(struct gen *g, unsigned ext)
{
    unsigned s = pick_size(g, 7);
    int mem = chance(g, 35);
    prefixes(g, s, mem, 0);
    emit(g, 0xF6 + (s > 1));
    uint32_t d = chance(g, 6) ? 0 : val(g, s);
    unsigned avoid = (1u << EAX) | (s > 1 ? 1u << EDX : 0);
    struct rmop o = rm_opv(g, ext, s, mem, avoid, d);
    if (ext < 6) {
        setop(g, EAX, s, val(g, s));
        undef(g, FL_SF | FL_ZF | FL_AF | FL_PF);
    } else {
        set_dividend(g, ext, s, rm_value(g, &o, s, d), rn(g, 3));
        undef(g, FL_ARITH);
    }
}

/* IMUL r, r/m (0F AF), r, r/m, imm (69, 6B): SF ZF AF PF undefined (SDM vol. 2, IMUL). */
static void f_imul(struct gen *g, unsigned kind)
{
    unsigned s = pick_size(g, 6), reg = rn(g, 8);
    int mem = chance(g, 35);
    prefixes(g, s, mem, 0);
    if (kind == 0)
        emit(g, 0x0F), emit(g, 0xAF);
    else
        emit(g, kind == 1 ? 0x69 : 0x6B);
    setop(g, reg, s, val(g, s));
    rm_op(g, reg, s, mem, 0);
    if (kind == 1)
        emitv(g, val(g, s), s);
    else if (kind == 2)
        emitv(g, val(g, 1), 1);
    undef(g, FL_SF | FL_ZF | FL_AF | FL_PF);
}

static const uint8_t shift_counts[] = {0, 1, 2, 3, 4, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33, 63,
                                       64, 255, 0x81};
#define NCOUNTS (sizeof shift_counts / sizeof shift_counts[0])

/* Undefined flags of grp2 (SDM vol. 2, RCL/RCR/ROL/ROR and SAL/SAR/SHL/SHR):
 *   masked count 0: no flag changes;
 *   rotates: "The OF flag is defined only for the 1-bit rotates; it is undefined in all other
 *   cases"; SF ZF AF PF are not affected;
 *   shifts: "The OF flag is affected only on 1-bit shifts"; "For a non-zero count, the AF flag
 *   is undefined"; CF "is undefined for SHL and SHR instructions where the count is greater
 *   than or equal to the size (in bits) of the destination operand". */
static void shift_undef(struct gen *g, unsigned ext, unsigned s, unsigned count)
{
    unsigned c = count & 31;
    if (c == 0)
        return;
    if (c != 1)
        undef(g, FL_OF);
    if (ext <= 3)
        return;
    undef(g, FL_AF);
    if (ext != 7 && c >= 8 * s)
        undef(g, FL_CF);
}

static unsigned pick_count(struct gen *g)
{
    return chance(g, 75) ? shift_counts[rn(g, NCOUNTS)] : rn(g, 256);
}

/* grp2: arg = ext | encoding << 4 (0: C0/C1 imm8, 1: D0/D1 by 1, 2: D2/D3 by CL). */
static void f_shift(struct gen *g, unsigned arg)
{
    unsigned ext = arg & 7, enc = arg >> 4, s = pick_size(g, 7);
    int mem = chance(g, 30);
    unsigned count = enc == 1 ? 1 : pick_count(g);
    prefixes(g, s, mem, 0);
    emit(g, (enc == 0 ? 0xC0 : enc == 1 ? 0xD0 : 0xD2) + (s > 1));
    if (enc == 2)
        fix_lane(g, ECX, 1, count);
    rm_op(g, ext, s, mem, 0);
    if (enc == 0)
        emit(g, count);
    if (enc == 2)
        count = g->tc->in.r[ECX] & 0xFF;
    shift_undef(g, ext, s, count);
}

/* SHLD/SHRD (arg: bit 0 = by CL, bit 1 = SHRD). SDM vol. 2 SHLD/SHRD: count 0 changes nothing;
 * "For a 1-bit shift, the OF flag is set if a sign change occurred; otherwise, it is cleared.
 * For shifts greater than 1 bit, the OF flag is undefined."; AF undefined for a non-zero
 * count; "If the count operand is greater than the operand size, the result is undefined" and
 * "the flags are undefined" (possible only for 16-bit operands, counts 17..31). */
static void f_shxd(struct gen *g, unsigned arg)
{
    unsigned cl = arg & 1, right = arg >> 1, s = pick_size(g, 6), reg = rn(g, 8);
    int mem = chance(g, 30);
    unsigned count = pick_count(g);
    prefixes(g, s, mem, 0);
    emit(g, 0x0F);
    emit(g, (right ? 0xAC : 0xA4) + cl);
    if (cl)
        fix_lane(g, ECX, 1, count);
    setop(g, reg, s, val(g, s));
    struct rmop o = rm_op(g, reg, s, mem, 0);
    if (!cl)
        emit(g, count);
    else
        count = g->tc->in.r[ECX] & 0xFF;
    unsigned c = count & 31;
    if (c == 0)
        return;
    undef(g, FL_AF);
    if (c != 1)
        undef(g, FL_OF);
    if (c > 8 * s) {
        undef(g, FL_ARITH);
        if (o.mem)
            undef_mem(g, o.addr, s);
        else
            undef_reg(g, o.reg, s);
    }
}

/* BT/BTS/BTR/BTC (arg 0..3 with a register bit offset, 4..7 with imm8). "The ZF flag is
 * unaffected. The OF, SF, AF, and PF flags are undefined." (SDM vol. 2, BT) A register offset
 * into memory is signed and selects an operand (offset >> 4 or 5) away from the address. */
static void f_bt(struct gen *g, unsigned arg)
{
    unsigned op = arg & 3, imm = arg >> 2, s = pick_size(g, 6), bits = 8 * s;
    int mem = chance(g, 50), lock = mem && op != 0 && chance(g, 10);
    prefixes(g, s, mem, lock);
    emit(g, 0x0F);
    emit(g, imm ? 0xBA : 0xA3 + 8 * op);
    undef(g, FL_OF | FL_SF | FL_AF | FL_PF);
    if (imm) {
        rm_op(g, 4 + op, s, mem, 0);
        emit(g, chance(g, 70) ? rn(g, bits) : rn(g, 256));
        return;
    }
    unsigned reg = rn(g, 8), k = rn(g, 10);
    uint32_t off = k < 4 ? rn(g, bits) : k < 6 ? (uint32_t)((int)rn(g, 32 * bits) - 16 * (int)bits)
                 : k < 8 ? (uint32_t)(int32_t)(int16_t)rnd(g) : rnd(g);
    if (!mem) {
        setop(g, reg, s, off);
        rm_op(g, reg, s, 0, 0);
        return;
    }
    fix_lane(g, reg, s, off);
    int64_t so = sx(off, s);
    int64_t q = so >= 0 ? so / bits : -((-so + bits - 1) / bits);
    uint32_t t = target(g, s), shift = (uint32_t)(q * (int64_t)s);
    uint32_t ea = mem_operand(g, reg, t - shift, 0);
    patch_val(g, g->a16 ? t : ea + shift, s, val(g, s));
}

/* BSF/BSR: "The CF, OF, SF, AF, and PF flags are undefined"; "If the content of the source
 * operand is 0, the content of the destination operand is undefined." (SDM vol. 2, BSF) */
static void f_bscan(struct gen *g, unsigned rev)
{
    unsigned s = pick_size(g, 6), reg = rn(g, 8);
    int mem = chance(g, 40);
    uint32_t v = chance(g, 20) ? 0 : val(g, s);
    prefixes(g, s, mem, 0);
    emit(g, 0x0F);
    emit(g, 0xBC + rev);
    struct rmop o = rm_opv(g, reg, s, mem, 0, v);
    undef(g, FL_CF | FL_OF | FL_SF | FL_AF | FL_PF);
    if (rm_value(g, &o, s, v) == 0)
        undef_reg(g, reg, s);
}

/* BSWAP r32; with a 16-bit operand "the result is undefined" (SDM vol. 2, BSWAP). */
static void f_bswap(struct gen *g, unsigned arg)
{
    (void)arg;
    unsigned r = rn(g, 8), s = chance(g, 10) ? 2 : 4;
    if (s == 2)
        emit(g, 0x66);
    emit(g, 0x0F);
    emit(g, 0xC8 + r);
    if (s == 2)
        undef_reg(g, r, 2);
}

/* MOV: 0 88/89, 1 8A/8B, 2 C6/C7, 3 B0+r/B8+r, 4 A0/A1 (moffs load), 5 A2/A3 (moffs store). */
static void f_mov(struct gen *g, unsigned kind)
{
    unsigned s = pick_size(g, 7), w = s > 1, reg = rn(g, 8);
    int mem = kind >= 4 || (kind < 3 && chance(g, 50));
    prefixes(g, s, mem, 0);
    switch (kind) {
    case 0:
    case 1:
        emit(g, 0x88 + 2 * kind + w);
        setop(g, reg, s, val(g, s));
        rm_op(g, reg, s, mem, 0);
        break;
    case 2:
        emit(g, 0xC6 + w);
        rm_op(g, 0, s, mem, 0);
        emitv(g, val(g, s), s);
        break;
    case 3:
        emit(g, 0xB0 + 8 * w + reg);
        emitv(g, val(g, s), s);
        break;
    default: {
        uint32_t t = target(g, s);
        emit(g, 0xA0 + 2 * (kind - 4) + w);
        emitv(g, t, g->a16 ? 2 : 4);
        patch_val(g, t, s, val(g, s));
        setop(g, EAX, s, val(g, s));
        break;
    }
    }
}

/* Selectors both machines can load (the runner's own, with other RPLs, null, and CS). */
static uint16_t pick_sel(struct gen *g)
{
    const struct layout *L = &g->L;
    uint16_t sels[6] = {L->ds, L->es, (uint16_t)(L->ds & ~3), 0, 3, L->cs};
    return sels[rn(g, 6)];
}

/* MOV r/m, Sreg (8C) and MOV Sreg, r/m (8E) for ES SS DS FS (and #UD for CS and 6, 7). */
static void f_movsreg(struct gen *g, unsigned kind)
{
    unsigned s = pick_size(g, 6);
    int mem = chance(g, 40);
    prefixes(g, s, mem, 0);
    emit(g, 0x8C + 2 * kind);
    unsigned sr;
    if (kind == 0) {
        sr = chance(g, 8) ? 6 + rn(g, 2) : rn(g, 6);
        rm_op(g, sr, s, mem, 0);
    } else {
        static const uint8_t ok[4] = {SEG_ES, SEG_SS, SEG_DS, SEG_FS};
        static const uint8_t bad[3] = {SEG_CS, 6, 7};
        sr = chance(g, 8) ? bad[rn(g, 3)] : ok[rn(g, 4)];
        rm_opv(g, sr, 2, mem, 0, pick_sel(g));
    }
}

/* MOVZX/MOVSX: 0F B6 B7 BE BF (arg 0..3). */
static void f_movx(struct gen *g, unsigned arg)
{
    static const uint8_t opc[4] = {0xB6, 0xB7, 0xBE, 0xBF};
    unsigned s = pick_size(g, 6), ss = (arg & 1) ? 2 : 1, reg = rn(g, 8);
    int mem = chance(g, 40);
    prefixes(g, s, mem, 0);
    emit(g, 0x0F);
    emit(g, opc[arg]);
    rm_op(g, reg, ss, mem, 0);
}

/* XCHG: 0 86/87 (with memory always locked; an explicit LOCK too), 1 90+r. */
static void f_xchg(struct gen *g, unsigned kind)
{
    if (kind == 1) {
        unsigned s = pick_size(g, 6), r = rn(g, 8);
        if (s == 2)
            emit(g, 0x66);
        emit(g, 0x90 + r);
        return;
    }
    unsigned s = pick_size(g, 7), reg = rn(g, 8);
    int mem = chance(g, 50), lock = mem && chance(g, 10);
    prefixes(g, s, mem, lock);
    emit(g, 0x86 + (s > 1));
    setop(g, reg, s, val(g, s));
    rm_op(g, reg, s, mem, 0);
}

/* CMPXCHG (0F B0/B1): flags as CMP; half the cases have the accumulator equal to the
 * destination. XADD (0F C0/C1): flags as ADD. */
static void f_cmpxchg(struct gen *g, unsigned xadd)
{
    unsigned s = pick_size(g, 7), reg = rn(g, 8);
    int mem = chance(g, 50), lock = mem && chance(g, 10);
    prefixes(g, s, mem, lock);
    emit(g, 0x0F);
    emit(g, (xadd ? 0xC0 : 0xB0) + (s > 1));
    setop(g, reg, s, val(g, s));
    uint32_t dv = val(g, s);
    struct rmop o = rm_opv(g, reg, s, mem, 1u << EAX, dv);
    if (!xadd && chance(g, 50))
        setop(g, EAX, s, rm_value(g, &o, s, dv));
}

/* CMPXCHG8B m64 (0F C7 /1): only ZF changes. A register operand is #UD. */
static void f_cmpxchg8b(struct gen *g, unsigned arg)
{
    (void)arg;
    if (chance(g, 8)) {
        emit(g, 0x0F), emit(g, 0xC7), emit(g, 0xC8 + rn(g, 8));
        return;
    }
    prefixes(g, 4, 1, chance(g, 20));
    emit(g, 0x0F);
    emit(g, 0xC7);
    uint32_t a = mem_operand(g, 1, target(g, 8), 0);
    const uint32_t *r = g->tc->in.r;
    uint32_t lo = chance(g, 50) ? r[EAX] : rnd(g), hi = chance(g, 60) && lo == r[EAX] ? r[EDX]
                                                                                       : rnd(g);
    patch_val(g, a, 4, lo);
    patch_val(g, a + 4, 4, hi);
}

/* LEA with every 32-bit and 16-bit (0x67) addressing form; a register operand is #UD. */
static void f_lea(struct gen *g, unsigned arg)
{
    (void)arg;
    unsigned s = pick_size(g, 6), reg = rn(g, 8);
    if (s == 2)
        emit(g, 0x66);
    g->a16 = chance(g, 30);
    if (g->a16)
        emit(g, 0x67);
    emit(g, 0x8D);
    if (chance(g, 3)) {
        emit(g, 0xC0 | reg << 3 | rn(g, 8));
        return;
    }
    mem_operand(g, reg, chance(g, 50) ? rnd(g) : val(g, 4), 0);
}

/* CMOVcc (0F 40+cc): the source is read (and may fault) whatever the condition. */
static void f_cmov(struct gen *g, unsigned cc)
{
    unsigned s = pick_size(g, 6), reg = rn(g, 8);
    int mem = chance(g, 40);
    prefixes(g, s, mem, 0);
    emit(g, 0x0F);
    emit(g, 0x40 + cc);
    setop(g, reg, s, val(g, s));
    rm_op(g, reg, s, mem, 0);
}

static void f_setcc(struct gen *g, unsigned cc)
{
    int mem = chance(g, 40);
    prefixes(g, 1, mem, 0);
    emit(g, 0x0F);
    emit(g, 0x90 + cc);
    rm_op(g, rn(g, 8), 1, mem, 0);
}

/* Jcc: arg = cc | long << 4 (70+cc rel8, 0F 80+cc rel32; 0x66: rel16 and a 16-bit IP). */
static void f_jcc(struct gen *g, unsigned arg)
{
    unsigned cc = arg & 15, lng = arg >> 4;
    int o16 = chance(g, 10);
    if (o16)
        emit(g, 0x66);
    if (!lng) {
        emit(g, 0x70 + cc);
        emit_rel(g, 1);
    } else {
        emit(g, 0x0F);
        emit(g, 0x80 + cc);
        emit_rel(g, o16 ? 2 : 4);
    }
}

static void f_cbw(struct gen *g, unsigned arg)
{
    if (chance(g, 50))
        emit(g, 0x66);
    emit(g, 0x98 + arg);
}

/* Puts ESP in the data area, now and then near its lower edge (pushes fault) or its upper
 * edge (pops fault). */
static void stack_at(struct gen *g)
{
    unsigned k = rn(g, 100);
    uint32_t sp;
    if (k < 6)
        sp = g->L.data + rn(g, 24);
    else if (k < 10)
        sp = g->L.data + g->L.dsize - rn(g, 24);
    else
        sp = g->L.data + 0x1000 + ((uint32_t)((int)rn(g, 0x400) - 0x200) & ~3u);
    if (chance(g, 5))
        sp += 1 + rn(g, 3);
    fix(g, ESP, sp);
}

/* Stack forms: 0 push r, 1 pop r, 2 push ib, 3 push iz, 4 push r/m, 5 pop r/m, 6 push sreg,
 * 7 pop sreg, 8 pusha, 9 popa, 10 pushf, 11 popf, 12 enter, 13 leave. */
static void f_stack(struct gen *g, unsigned kind)
{
    unsigned s = pick_size(g, 6), r = rn(g, 8);
    int mem = (kind == 4 || kind == 5) && chance(g, 60);
    if (!(mem && chance(g, 40))) /* else ESP may be the operand's base: push [esp+8] */
        stack_at(g);
    uint32_t sp = g->tc->in.r[ESP];
    switch (kind) {
    case 0:
    case 1:
        if (s == 2)
            emit(g, 0x66);
        emit(g, 0x50 + 8 * kind + r);
        if (kind == 1)
            patch_val(g, sp, s, val(g, s));
        break;
    case 2:
    case 3:
        if (s == 2)
            emit(g, 0x66);
        emit(g, kind == 2 ? 0x6A : 0x68);
        emitv(g, val(g, kind == 2 ? 1 : s), kind == 2 ? 1 : s);
        break;
    case 4:
        prefixes(g, s, mem, 0);
        emit(g, 0xFF);
        rm_op(g, 6, s, mem, 0);
        break;
    case 5: {
        prefixes(g, s, mem, 0);
        emit(g, 0x8F);
        rm_op(g, 0, s, mem, 0);
        sp = g->tc->in.r[ESP]; /* ESP may be the base register */
        patch_val(g, sp, s, val(g, s));
        break;
    }
    case 6: {
        static const uint8_t one[4] = {0x06, 0x0E, 0x16, 0x1E};
        unsigned k = rn(g, 6);
        if (s == 2)
            emit(g, 0x66);
        if (k < 4)
            emit(g, one[k]);
        else
            emit(g, 0x0F), emit(g, k == 4 ? 0xA0 : 0xA8);
        break;
    }
    case 7: {
        static const uint8_t one[3] = {0x07, 0x17, 0x1F};
        unsigned k = rn(g, 4);
        if (s == 2)
            emit(g, 0x66);
        if (k < 3)
            emit(g, one[k]);
        else
            emit(g, 0x0F), emit(g, 0xA1);
        patch_val(g, sp, s, (rnd(g) & 0xFFFF0000u) | pick_sel(g));
        break;
    }
    case 8:
    case 9:
        if (s == 2)
            emit(g, 0x66);
        emit(g, 0x60 + (kind - 8));
        /* A POPA that faults part way leaves the registers it loaded so far on this host; the
         * SDM says nothing of it (vol. 3 6.5 has faults restore the state before the
         * instruction, as Ringside does). */
        g->tc->fault_regs = kind == 9;
        break;
    case 10:
    case 11:
        if (s == 2)
            emit(g, 0x66);
        emit(g, 0x9C + (kind - 10));
        if (kind == 11) /* any image, but not TF (a single-step trap is not in the subset) */
            patch_val(g, sp, s, rnd(g) & ~FL_TF);
        break;
    case 12: {
        unsigned k = rn(g, 10);
        unsigned level = k < 4 ? 0 : k < 6 ? 1 : k < 9 ? 2 + rn(g, 4) : rn(g, 256);
        unsigned size = chance(g, 60) ? rn(g, 64) : chance(g, 75) ? rn(g, 0x400) : rnd(g) & 0xFFFF;
        if (s == 2)
            emit(g, 0x66);
        emit(g, 0xC8);
        emitv(g, size, 2);
        emit(g, level);
        fix(g, EBP, chance(g, 90) ? sp + rn(g, 0x200) : dtarget(g, 4));
        break;
    }
    default:
        if (s == 2)
            emit(g, 0x66);
        emit(g, 0xC9);
        fix(g, EBP, chance(g, 92) ? g->L.data + 0x800 + rn(g, 0x1000) : dtarget(g, 4));
        break;
    }
}

/* String instructions (arg = opcode A4..AF but A8/A9), alone or with REP/REPE/REPNE, byte,
 * word and dword, DF = 0 and 1, 16-bit addressing, a source segment override. Counts are
 * small; regions sometimes run into an unmapped page so the instruction faults part way. */
static void f_string(struct gen *g, unsigned op)
{
    unsigned s = (op & 1) ? pick_size(g, 6) : 1;
    int uses_si = op <= 0xA7 || op == 0xAC || op == 0xAD;
    int uses_di = op != 0xAC && op != 0xAD;
    int cmp = op == 0xA6 || op == 0xA7 || op == 0xAE || op == 0xAF;
    unsigned k = rn(g, 100), rep = k < 35 ? 0 : k < 80 ? 0xF3 : 0xF2;
    int df = chance(g, 50);
    uint32_t *r = g->tc->in.r;
    g->a16 = chance(g, 15);
    unsigned n = rep ? (chance(g, 6) ? 0 : 1 + rn(g, 8)) : 1;
    if (rep && s == 1 && chance(g, 4)) /* long enough for Ringside to split it in chunks */
        n = 4000 + rn(g, 3000);

    if (df)
        g->tc->in.eflags |= FL_DF;
    else
        g->tc->in.eflags &= ~FL_DF;
    if (rep)
        emit(g, rep);
    if (uses_si && chance(g, 10)) {
        static const uint8_t segs[5] = {0x26, 0x2E, 0x36, 0x3E, 0x64};
        emit(g, segs[rn(g, 5)]);
    }
    if (s == 2)
        emit(g, 0x66);
    if (g->a16)
        emit(g, 0x67);
    emit(g, op);
    if (rep)
        fix_lane(g, ECX, g->a16 ? 2 : 4, n);

    /* Regions: [p, p + n*s) upwards or [p - (n-1)*s, p + s) downwards. */
    uint32_t p[2] = {0, 0};
    for (unsigned j = 0; j < 2; j++) {
        uint32_t total = (n ? n : 1) * s, lo;
        unsigned e = rn(g, 100);
        if (e < 5)
            lo = g->L.data - total + s * rn(g, n ? n : 1); /* runs below the data area */
        else if (e < 10)
            lo = g->L.data + g->L.dsize - s * rn(g, n ? n : 1) - (e & 1); /* runs above it */
        else if (total > g->L.dsize - 0x200)
            lo = g->L.data + rn(g, g->L.dsize - total);
        else
            lo = g->L.data + 0x100 + rn(g, g->L.dsize - 0x200 - total);
        if (j == 1 && op <= 0xA5 && chance(g, 20))
            lo = p[0] + (uint32_t)((int)rn(g, 16) - 8); /* overlapping MOVS */
        p[j] = lo;
        uint32_t start = df ? lo + (n ? n - 1 : 0) * s : lo;
        if (g->a16)
            start = (g->L.data + g->L.dsize <= 0x10000 ? start : rnd(g)) & 0xFFFF;
        uint32_t full = g->a16 ? (rnd(g) & 0xFFFF0000u) | start : start;
        if (j == 0 && uses_si)
            fix(g, ESI, full);
        if (j == 1 && uses_di)
            fix(g, EDI, full);
    }
    if (!cmp)
        return;
    /* CMPS/SCAS contents: equal (or unequal) for the first m elements, then the other way. */
    unsigned m = rn(g, (n ? n : 1) + 1);
    uint8_t a[32], b[32];
    uint32_t acc = val(g, s);
    setop(g, EAX, s, acc);
    for (unsigned e = 0; e < (n ? n : 1) && e < 8; e++) {
        int same = (e < m) == (rep != 0xF2);
        for (unsigned q = 0; q < s; q++) {
            uint8_t x = op >= 0xAE ? (uint8_t)(acc >> (8 * q)) : (uint8_t)rnd(g);
            a[e * s + q] = x;
            b[e * s + q] = same ? x : (uint8_t)(x ^ (1u << rn(g, 8)));
        }
    }
    unsigned len = ((n ? n : 1) < 8 ? (n ? n : 1) : 8) * s;
    uint32_t base_si = df ? r[ESI] - (len - s) : r[ESI];
    uint32_t base_di = df ? r[EDI] - (len - s) : r[EDI];
    if (g->a16) {
        base_si &= 0xFFFF;
        base_di &= 0xFFFF;
    }
    /* Downwards, element e sits at p - e*s: lay the arrays out reversed. */
    if (df) {
        uint8_t ra[32], rb[32];
        for (unsigned e = 0; e < len / s; e++)
            for (unsigned q = 0; q < s; q++) {
                ra[(len / s - 1 - e) * s + q] = a[e * s + q];
                rb[(len / s - 1 - e) * s + q] = b[e * s + q];
            }
        memcpy(a, ra, len);
        memcpy(b, rb, len);
    }
    if (op <= 0xA7) {
        patch_bytes(g, base_si, a, len);
        patch_bytes(g, base_di, b, len);
    } else {
        patch_bytes(g, base_di, b, len);
    }
}

/* CMC CLC STC CLD STD SAHF LAHF (arg = opcode). */
static void f_flagop(struct gen *g, unsigned op)
{
    emit(g, op);
}

/* BCD: DAA DAS (OF undefined), AAA AAS (OF SF ZF PF undefined), AAM AAD (OF AF CF undefined;
 * AAM 0 is #DE). SDM vol. 2, each instruction's "Flags Affected". */
static void f_bcd(struct gen *g, unsigned op)
{
    emit(g, op);
    if (op == 0xD4 || op == 0xD5) {
        unsigned k = rn(g, 100);
        emit(g, k < 70 ? 10 : k < 95 ? rn(g, 256) : 0);
        undef(g, FL_OF | FL_AF | FL_CF);
    } else if (op == 0x27 || op == 0x2F) {
        undef(g, FL_OF);
    } else {
        undef(g, FL_OF | FL_SF | FL_ZF | FL_PF);
    }
    setop(g, EAX, 2, rnd(g) & 0xFFFF);
}

/* XLAT: AL = [EBX + AL] (BX + AL with 0x67), with a segment override now and then. */
static void f_xlat(struct gen *g, unsigned arg)
{
    (void)arg;
    prefixes(g, 1, 1, 0);
    emit(g, 0xD7);
    uint32_t al = rn(g, 256), t = target(g, 1);
    fix_lane(g, EAX, 1, al);
    fix(g, EBX, g->a16 ? (rnd(g) & 0xFFFF0000u) | ((t - al) & 0xFFFF) : t - al);
    patch_val(g, t, 1, val(g, 1));
}

/* LOOPNE LOOPE LOOP JECXZ (arg = opcode), with CX (0x67) and a 16-bit IP (0x66). */
static void f_loop(struct gen *g, unsigned op)
{
    static const uint32_t counts[8] = {0, 1, 2, 0x10000, 0x10001, 0xFFFFFFFF, 0xFFFF, 0x12345};
    if (chance(g, 8))
        emit(g, 0x66);
    if (chance(g, 25))
        emit(g, 0x67);
    emit(g, op);
    fix(g, ECX, chance(g, 80) ? counts[rn(g, 8)] : rnd(g));
    emit_rel(g, 1);
}

/* Near jumps, calls and returns: 0 EB, 1 E9, 2 E8, 3 C3, 4 C2 iw, 5 FF /4, 6 FF /2. */
static void f_jmp(struct gen *g, unsigned kind)
{
    int o16 = chance(g, 10);
    stack_at(g);
    if (kind <= 2) {
        if (o16)
            emit(g, 0x66);
        emit(g, kind == 0 ? 0xEB : kind == 1 ? 0xE9 : 0xE8);
        emit_rel(g, kind == 0 ? 1 : o16 ? 2 : 4);
        return;
    }
    uint32_t start = code_start(g), t;
    if (kind <= 4) {
        if (o16)
            emit(g, 0x66);
        emit(g, kind == 3 ? 0xC3 : 0xC2);
        if (kind == 4)
            emitv(g, chance(g, 70) ? rn(g, 64) : rnd(g), 2);
        t = land(g, start, start + g->tc->in.code_len);
        patch_val(g, g->tc->in.r[ESP], o16 ? 2 : 4, t);
        return;
    }
    unsigned s = o16 ? 2 : 4;
    int mem = chance(g, 50);
    g->no_ro = 1; /* a target read from there would land in it: not executable on the host */
    prefixes(g, s, mem, 0);
    emit(g, 0xFF);
    /* The target is known only once the instruction's length is: plant it afterwards. */
    if (mem) {
        uint32_t a = mem_operand(g, kind == 5 ? 4 : 2, target(g, s), 0);
        t = land(g, start, start + g->tc->in.code_len);
        patch_val(g, a, s, t);
    } else {
        unsigned r;
        do
            r = rn(g, 8);
        while (r == ESP); /* CALL ESP would run the data area (executable only in Ringside) */
        emit(g, 0xC0 | (kind == 5 ? 4 : 2) << 3 | r);
        t = land(g, start, start + g->tc->in.code_len);
        fix_lane(g, r, s, t);
    }
}

/* NOPs: 0 90, 66 90, F3 90 (PAUSE); 1 0F 1F /0 (multi-byte NOP; its operand is not accessed);
 * 2 the hint space 0F 18/19/1C/1D/0D, also never accessing memory. */
static void f_nop(struct gen *g, unsigned kind)
{
    if (kind == 0) {
        unsigned k = rn(g, 3);
        if (k)
            emit(g, k == 1 ? 0x66 : 0xF3);
        emit(g, 0x90);
        return;
    }
    static const uint8_t hints[5] = {0x18, 0x19, 0x1C, 0x1D, 0x0D};
    unsigned opc = kind == 1 ? 0x1F : hints[rn(g, 5)];
    unsigned s = pick_size(g, 6);
    if (s == 2)
        emit(g, 0x66);
    g->a16 = chance(g, 10);
    if (g->a16)
        emit(g, 0x67);
    emit(g, 0x0F);
    emit(g, opc);
    unsigned reg = opc == 0x0D ? 1 : kind == 1 ? 0 : rn(g, 8);
    if (opc != 0x18 && opc != 0x0D && chance(g, 20))
        emit(g, 0xC0 | reg << 3 | rn(g, 8));
    else
        mem_operand(g, reg, rnd(g), 0);
}

/* Instructions that only fault at CPL 3 (or trap), each with its expected vector noted. */
struct fixed_insn {
    uint8_t n;
    uint8_t b[7];
};
static const struct fixed_insn fault_insns[] = {
    {2, {0x0F, 0x0B}},             /* ud2: #UD */
    {3, {0x0F, 0xFF, 0xC0}},       /* ud0: #UD */
    {3, {0x0F, 0xB9, 0xC0}},       /* ud1: #UD */
    {1, {0xF4}},                   /* hlt: #GP(0) */
    {1, {0xFA}},                   /* cli (IOPL 0): #GP(0) */
    {1, {0xFB}},                   /* sti: #GP(0) */
    {2, {0xE4, 0x60}},             /* in al, 0x60: #GP(0) */
    {2, {0xE5, 0x40}},             /* in eax, 0x40 */
    {2, {0xE6, 0x80}},             /* out 0x80, al */
    {2, {0xE7, 0x70}},             /* out 0x70, eax */
    {1, {0xEC}}, {1, {0xED}}, {1, {0xEE}}, {1, {0xEF}},
    {1, {0x6C}}, {1, {0x6D}}, {1, {0x6E}}, {2, {0xF3, 0x6F}},
    {1, {0xCC}},                   /* int3: #BP trap */
    {2, {0xCD, 0x03}},             /* int 3: #BP trap */
    {2, {0xCD, 0x04}},             /* int 4: #OF trap (DPL 3 gate) */
    {1, {0xCE}},                   /* into: #OF when OF = 1 */
    {1, {0xF1}},                   /* int1/icebp: #DB trap */
    {3, {0x0F, 0x01, 0x10}},       /* lgdt [eax]: #GP(0) */
    {3, {0x0F, 0x01, 0x18}},       /* lidt [eax] */
    {3, {0x0F, 0x01, 0x38}},       /* invlpg [eax] */
    {3, {0x0F, 0x01, 0xF0}},       /* lmsw ax */
    {3, {0x0F, 0x00, 0xD0}},       /* lldt ax */
    {3, {0x0F, 0x00, 0xD8}},       /* ltr ax */
    {3, {0x0F, 0x20, 0xC0}},       /* mov eax, cr0 */
    {3, {0x0F, 0x22, 0xD8}},       /* mov cr3, eax */
    {3, {0x0F, 0x21, 0xC0}},       /* mov eax, dr0 */
    {3, {0x0F, 0x23, 0xF8}},       /* mov dr7, eax */
    {2, {0x0F, 0x06}},             /* clts */
    {2, {0x0F, 0x08}},             /* invd */
    {2, {0x0F, 0x09}},             /* wbinvd */
    {2, {0x0F, 0x30}},             /* wrmsr */
    {2, {0x0F, 0x32}},             /* rdmsr */
    {2, {0x0F, 0x35}},             /* sysexit */
    {2, {0xF0, 0x90}},             /* lock nop: #UD */
    {3, {0xF0, 0x01, 0xC0}},       /* lock add eax, eax (register destination): #UD */
    {3, {0xF0, 0x8B, 0x00}},       /* lock mov: #UD */
    {3, {0xF0, 0x0F, 0xA3}},       /* lock bt [..]: #UD (BT is not lockable) */
    {2, {0x8E, 0xC8}},             /* mov cs, ax: #UD */
    {2, {0x8E, 0xF0}},             /* mov sreg6, ax: #UD */
    {2, {0x8C, 0xF8}},             /* mov ax, sreg7: #UD */
    {3, {0x0F, 0xC7, 0xC8}},       /* cmpxchg8b eax: #UD */
    {2, {0x8D, 0xC0}},             /* lea eax, eax: #UD */
    {2, {0x62, 0xC0}},             /* bound eax, eax: #UD */
    {2, {0x0F, 0x0A}},             /* unassigned two-byte opcodes: #UD */
    {2, {0x0F, 0x0C}},
    {2, {0x0F, 0x0E}},
    {3, {0x0F, 0x24, 0xC0}},
    {2, {0x0F, 0x36}},
};
#define NFAULTS (sizeof fault_insns / sizeof fault_insns[0])

/* arg 0: a fixed faulting instruction; 1: INT n (#GP(n*8+2) through a DPL 0 gate); 2: BOUND
 * in and out of range (#BR); 3: too long (16 bytes: #GP(0)) or exactly 15; 4: ARPL. */
static void f_fault(struct gen *g, unsigned kind)
{
    if (kind == 0) {
        const struct fixed_insn *f = &fault_insns[rn(g, NFAULTS)];
        for (unsigned k = 0; k < f->n; k++)
            emit(g, f->b[k]);
        if (f->b[0] == 0xF0 && f->b[1] == 0x0F) /* lock bt [eax], eax */
            emit(g, 0x00);
        return;
    }
    if (kind == 1) {
        unsigned n;
        do
            n = rn(g, 256);
        while (n == 3 || n == 4 || n == 0x80);
        emit(g, 0xCD);
        emit(g, n);
        return;
    }
    if (kind == 2) {
        unsigned s = pick_size(g, 6), reg = rn(g, 8);
        prefixes(g, s, 1, 0);
        emit(g, 0x62);
        uint32_t a = mem_operand(g, reg, target(g, 2 * s), 0);
        uint32_t lo = val(g, s), hi = val(g, s);
        patch_val(g, a, s, lo);
        patch_val(g, a + s, s, hi);
        if (chance(g, 50)) { /* an index between the bounds (when they allow one) */
            int64_t l = sx(lo, s), h = sx(hi, s);
            if (l <= h)
                setop(g, reg, s, (uint32_t)(l + (int64_t)rn(g, (uint32_t)(h - l < 1000 ? h - l + 1
                                                                                      : 1000))));
        }
        return;
    }
    if (kind == 3) {
        unsigned n = chance(g, 50) ? 15 : 14;
        for (unsigned k = 0; k < n; k++)
            emit(g, 0x66);
        emit(g, 0x90);
        return;
    }
    /* ARPL r/m16, r16 (63): ZF = 1 and RPL raised when the destination's RPL is lower. */
    int mem = chance(g, 40);
    prefixes(g, 2, mem, 0);
    emit(g, 0x63);
    unsigned reg = rn(g, 8);
    setop(g, reg, 2, val(g, 2));
    rm_op(g, reg, 2, mem, 0);
}

/* Alignment checking: EFLAGS.AC = 1 at CPL 3 (Linux sets CR0.AM), a load or store of 2 or 4
 * bytes at an aligned or misaligned address: misaligned is #AC(0). */
static void f_align(struct gen *g, unsigned store)
{
    unsigned s = chance(g, 50) ? 2 : 4, reg = rn(g, 8);
    g->tc->in.eflags |= FL_AC;
    if (s == 2)
        emit(g, 0x66);
    emit(g, store ? 0x89 : 0x8B);
    uint32_t t = g->L.data + 0x100 + rn(g, g->L.dsize - 0x200);
    mem_operand(g, reg, t, 0);
    patch_val(g, t, s, val(g, s));
}

/* Far transfers to the runner's own code segment (or a selector that faults): 0 JMP ptr16:32
 * (EA), 1 CALL ptr (9A), 2 JMP m16:32 (FF /5), 3 CALL m (FF /3), 4 RETF (CB), 5 RETF iw (CA),
 * 6 IRET at CPL 3 (CF; IF and IOPL keep their values, the rest of EFLAGS is loaded). */
static uint16_t far_sel(struct gen *g)
{
    unsigned k = rn(g, 100);
    const struct layout *L = &g->L;
    if (k < 80)
        return L->cs;
    uint16_t other[4] = {(uint16_t)(L->cs & ~3), L->ds, 0, 3};
    return other[k % 4];
}

static void f_far(struct gen *g, unsigned kind)
{
    int o16 = chance(g, 10);
    unsigned s = o16 ? 2 : 4;
    stack_at(g);
    uint32_t sp = g->tc->in.r[ESP], start = code_start(g), t;
    uint16_t sel = far_sel(g);
    g->no_ro = 1;
    if (kind <= 1) {
        if (o16)
            emit(g, 0x66);
        emit(g, kind == 0 ? 0xEA : 0x9A);
        t = land(g, start, start + g->tc->in.code_len + s + 2);
        emitv(g, t, s);
        emitv(g, sel, 2);
    } else if (kind <= 3) {
        int mem = 1;
        prefixes(g, s, mem, 0);
        emit(g, 0xFF);
        uint32_t a = mem_operand(g, kind == 2 ? 5 : 3, target(g, s + 2), 0);
        t = land(g, start, start + g->tc->in.code_len);
        patch_val(g, a, s, t);
        patch_val(g, a + s, 2, sel);
    } else {
        if (o16)
            emit(g, 0x66);
        emit(g, kind == 4 ? 0xCB : kind == 5 ? 0xCA : 0xCF);
        if (kind == 5)
            emitv(g, chance(g, 70) ? rn(g, 64) : rnd(g), 2);
        t = land(g, start, start + g->tc->in.code_len);
        patch_val(g, sp, s, t);
        patch_val(g, sp + s, s, (rnd(g) & 0xFFFF0000u) | sel);
        if (kind == 6) /* any EFLAGS image but TF */
            patch_val(g, sp + 2 * s, s, rnd(g) & ~FL_TF);
    }
}

/* LES LDS LSS LFS LGS r, m16:32 (C4, C5, 0F B2, 0F B4, 0F B5) with loadable and faulting
 * selectors; a register operand of 0F B2/B4/B5 is #UD (C4/C5 with one are VEX prefixes). */
static void f_lxs(struct gen *g, unsigned kind)
{
    static const uint8_t opc[5] = {0xC4, 0xC5, 0xB2, 0xB4, 0xB5};
    unsigned s = pick_size(g, 6), reg = rn(g, 8);
    if (kind >= 2 && chance(g, 5)) {
        emit(g, 0x0F), emit(g, opc[kind]), emit(g, 0xC0 | reg << 3 | rn(g, 8));
        return;
    }
    prefixes(g, s, 1, 0);
    if (kind >= 2)
        emit(g, 0x0F);
    emit(g, opc[kind]);
    uint32_t a = mem_operand(g, reg, target(g, s + 2), 0);
    patch_val(g, a, s, val(g, s));
    patch_val(g, a + s, 2, pick_sel(g));
}

/* LAR LSL (0F 02, 0F 03) and VERR VERW (0F 00 /4 /5) on the selectors both GDTs hold alike. */
static void f_lar(struct gen *g, unsigned kind)
{
    unsigned s = pick_size(g, 6), reg = rn(g, 8);
    int mem = chance(g, 30);
    uint16_t sel = chance(g, 15) ? g->L.gs : pick_sel(g);
    prefixes(g, s, mem, 0);
    emit(g, 0x0F);
    if (kind < 2) {
        emit(g, 0x02 + kind);
        rm_opv(g, reg, 2, mem, 0, (rnd(g) & 0xFFFF0000u) | sel);
        /* LAR: "the doubleword is masked by 00FxFF00H" (SDM vol. 2 LAR): bits 19:16 of the
         * result are undefined (CPUs copy the limit's top bits, QEMU clears them). */
        if (kind == 0 && s == 4)
            g->tc->rmask[reg] &= ~0x000F0000u;
    } else {
        emit(g, 0x00);
        rm_opv(g, 4 + (kind - 2), 2, mem, 0, (rnd(g) & 0xFFFF0000u) | sel);
    }
}

/* ---- flag producer + consumer pairs: the lazy flags as the next instruction reads them ---- */

/* Producers: 0-7 ALU op r,r; 8 test; 9 inc; 10 dec; 11 neg; 12 shl 1; 13 shr 1; 14 sar 1;
 * 15 bt r,r. Returns the flags the producer leaves undefined. */
static uint32_t producer(struct gen *g, unsigned p)
{
    unsigned s = pick_size(g, 7), w = s > 1, a = rn(g, 8), b = rn(g, 8);
    if (a == ESP) /* the destination: ESP (or AH) keeps its value, PUSHF may follow */
        a = EBX;
    if (p == 15 && s == 1)
        s = 4, w = 1;
    if (s == 2)
        emit(g, 0x66);
    setop(g, a, s, val(g, s));
    setop(g, b, s, val(g, s));
    if (p < 8) {
        emit(g, p * 8 + w);
        emit(g, 0xC0 | b << 3 | a);
        return is_logic(p) ? FL_AF : 0;
    }
    switch (p) {
    case 8: emit(g, 0x84 + w); emit(g, 0xC0 | b << 3 | a); return FL_AF;
    case 9: case 10: case 11:
        emit(g, (p == 11 ? 0xF6 : 0xFE) + w);
        emit(g, 0xC0 | (p == 11 ? 3 : p - 9) << 3 | a);
        return 0;
    case 12: case 13: case 14:
        emit(g, 0xD0 + w);
        emit(g, 0xC0 | (p == 12 ? 4 : p == 13 ? 5 : 7) << 3 | a);
        return FL_AF;
    default:
        emit(g, 0x0F), emit(g, 0xA3), emit(g, 0xC0 | b << 3 | a);
        return FL_OF | FL_SF | FL_AF | FL_PF;
    }
}

/* Consumers: 0 jcc rel8, 1 setcc, 2 cmovcc, 3 adc, 4 sbb, 5 inc, 6 dec, 7 lahf, 8 cmc,
 * 9 rcl 1, 10 rcr 1, 11 loope/loopne, 12 daa/das, 13 pushf, 14 into. */
static void f_pair(struct gen *g, unsigned c)
{
    unsigned p;
    for (;;) {
        p = rn(g, 16);
        int arith = p == 0 || p == 2 || p == 3 || p == 5 || p == 7 || (p >= 9 && p <= 11);
        if ((c == 12 || c == 13) && !arith)
            continue; /* DAA/DAS read AF; PUSHF stores it */
        break;
    }
    uint32_t u = producer(g, p);
    undef(g, u);
    unsigned cc = rn(g, 16);
    if (u & (FL_OF | FL_SF | FL_PF)) /* after BT only the CF and ZF conditions are defined */
        cc = (rn(g, 2) ? 2 : 4) | (cc & 1);
    unsigned s = pick_size(g, 7), w = s > 1, a = rn(g, 8), b = rn(g, 8);
    switch (c) {
    case 0: emit(g, 0x70 + cc); emit_rel(g, 1); break;
    case 1: emit(g, 0x0F); emit(g, 0x90 + cc); emit(g, 0xC0 | rn(g, 8)); break;
    case 2: emit(g, 0x0F); emit(g, 0x40 + cc); emit(g, 0xC0 | a << 3 | b); break;
    case 3: case 4:
        if (s == 2)
            emit(g, 0x66);
        emit(g, (c == 3 ? 0x10 : 0x18) + w);
        emit(g, 0xC0 | a << 3 | b);
        break;
    case 5: case 6:
        emit(g, 0xFE + w);
        emit(g, 0xC0 | (c - 5) << 3 | a);
        break;
    case 7:
        emit(g, 0x9F);
        g->tc->rmask[EAX] &= ~(u << 8);
        break;
    case 8: emit(g, 0xF5); break;
    case 9: case 10: emit(g, 0xD0 + w); emit(g, 0xC0 | (c - 7) << 3 | a); break;
    case 11:
        emit(g, 0xE0 + rn(g, 2));
        fix(g, ECX, rn(g, 3));
        emit_rel(g, 1);
        break;
    case 12: emit(g, chance(g, 50) ? 0x27 : 0x2F); undef(g, FL_OF); break;
    case 13: stack_at(g); emit(g, 0x9C); break;
    default: emit(g, 0xCE); break;
    }
}

/* ---- the form table ---- */

struct form {
    const char *name;
    form_fn fn;
    unsigned arg;
    unsigned weight;
    int plain; /* falls through: may be placed at the end of the code page */
};

#define ALU_FORMS(op, nm)                                            \
    {nm " E,G", f_alu, op | K_EG << 4, 12, 1},                       \
    {nm " G,E", f_alu, op | K_GE << 4, 12, 1},                       \
    {nm " acc,imm", f_alu, op | K_AI << 4, 6, 1},                    \
    {nm " 80 E,ib", f_alu, op | K_80 << 4, 6, 1},                    \
    {nm " 81 E,iz", f_alu, op | K_81 << 4, 6, 1},                    \
    {nm " 82 E,ib", f_alu, op | K_82 << 4, 3, 1},                    \
    {nm " 83 E,ib", f_alu, op | K_83 << 4, 6, 1}

#define SHIFT_FORMS(ext, nm)                                         \
    {nm " imm", f_shift, ext, 10, 1},                                \
    {nm " 1", f_shift, ext | 1 << 4, 6, 1},                          \
    {nm " cl", f_shift, ext | 2 << 4, 10, 1}

#define CC_FORMS(cc, nm)                                             \
    {"j" nm " rel8", f_jcc, cc, 4, 0},                               \
    {"j" nm " rel32", f_jcc, cc | 16, 3, 0},                         \
    {"cmov" nm, f_cmov, cc, 4, 1},                                   \
    {"set" nm, f_setcc, cc, 4, 1}

#define PAIR_FORMS(c, nm) {"pair flags->" nm, f_pair, c, 6, 0}

static const struct form forms[] = {
    /* the systematic sweep's families (weight 0: not drawn at random) */
    {"sweep alu", NULL, 0, 0, 0},
    {"sweep shift", NULL, 0, 0, 0},
    {"sweep mul/div", NULL, 0, 0, 0},
    {"sweep inc/dec/not/neg", NULL, 0, 0, 0},
    {"sweep daa/das/aaa/aas", NULL, 0, 0, 0},
    {"sweep aam/aad", NULL, 0, 0, 0},
    {"sweep conditions", NULL, 0, 0, 0},
    {"sweep bsf/bsr", NULL, 0, 0, 0},
    ALU_FORMS(0, "add"), ALU_FORMS(1, "or"), ALU_FORMS(2, "adc"), ALU_FORMS(3, "sbb"),
    ALU_FORMS(4, "and"), ALU_FORMS(5, "sub"), ALU_FORMS(6, "xor"), ALU_FORMS(7, "cmp"),
    {"test E,G", f_test, 0, 8, 1}, {"test acc,imm", f_test, 1, 4, 1},
    {"test F6/F7 /0", f_test, 2, 6, 1}, {"test F6/F7 /1", f_test, 3, 3, 1},
    {"inc r", f_incdec, 0, 5, 1}, {"dec r", f_incdec, 1, 5, 1},
    {"inc E", f_incdec, 2, 8, 1}, {"dec E", f_incdec, 3, 8, 1},
    {"not", f_unary, 2, 6, 1}, {"neg", f_unary, 3, 10, 1},
    {"mul", f_muldiv, 4, 12, 1}, {"imul E", f_muldiv, 5, 12, 1},
    {"div", f_muldiv, 6, 20, 1}, {"idiv", f_muldiv, 7, 20, 1},
    {"imul G,E", f_imul, 0, 10, 1}, {"imul G,E,iz", f_imul, 1, 8, 1},
    {"imul G,E,ib", f_imul, 2, 8, 1},
    SHIFT_FORMS(0, "rol"), SHIFT_FORMS(1, "ror"), SHIFT_FORMS(2, "rcl"), SHIFT_FORMS(3, "rcr"),
    SHIFT_FORMS(4, "shl"), SHIFT_FORMS(5, "shr"), SHIFT_FORMS(6, "sal(/6)"),
    SHIFT_FORMS(7, "sar"),
    {"shld imm", f_shxd, 0, 10, 1}, {"shld cl", f_shxd, 1, 10, 1},
    {"shrd imm", f_shxd, 2, 10, 1}, {"shrd cl", f_shxd, 3, 10, 1},
    {"bt G", f_bt, 0, 8, 1}, {"bts G", f_bt, 1, 8, 1}, {"btr G", f_bt, 2, 8, 1},
    {"btc G", f_bt, 3, 8, 1}, {"bt ib", f_bt, 4, 5, 1}, {"bts ib", f_bt, 5, 5, 1},
    {"btr ib", f_bt, 6, 5, 1}, {"btc ib", f_bt, 7, 5, 1},
    {"bsf", f_bscan, 0, 8, 1}, {"bsr", f_bscan, 1, 8, 1}, {"bswap", f_bswap, 0, 4, 1},
    {"mov E,G", f_mov, 0, 6, 1}, {"mov G,E", f_mov, 1, 6, 1}, {"mov E,imm", f_mov, 2, 5, 1},
    {"mov r,imm", f_mov, 3, 3, 1}, {"mov acc,moffs", f_mov, 4, 4, 1},
    {"mov moffs,acc", f_mov, 5, 4, 1},
    {"mov E,sreg", f_movsreg, 0, 5, 1}, {"mov sreg,E", f_movsreg, 1, 6, 1},
    {"movzx b", f_movx, 0, 5, 1}, {"movzx w", f_movx, 1, 5, 1},
    {"movsx b", f_movx, 2, 5, 1}, {"movsx w", f_movx, 3, 5, 1},
    {"xchg E,G", f_xchg, 0, 6, 1}, {"xchg acc,r", f_xchg, 1, 4, 1},
    {"cmpxchg", f_cmpxchg, 0, 10, 1}, {"xadd", f_cmpxchg, 1, 8, 1},
    {"cmpxchg8b", f_cmpxchg8b, 0, 8, 1}, {"lea", f_lea, 0, 15, 1},
    CC_FORMS(0, "o"), CC_FORMS(1, "no"), CC_FORMS(2, "b"), CC_FORMS(3, "ae"),
    CC_FORMS(4, "e"), CC_FORMS(5, "ne"), CC_FORMS(6, "be"), CC_FORMS(7, "a"),
    CC_FORMS(8, "s"), CC_FORMS(9, "ns"), CC_FORMS(10, "p"), CC_FORMS(11, "np"),
    CC_FORMS(12, "l"), CC_FORMS(13, "ge"), CC_FORMS(14, "le"), CC_FORMS(15, "g"),
    {"cbw/cwde", f_cbw, 0, 3, 1}, {"cwd/cdq", f_cbw, 1, 3, 1},
    {"push r", f_stack, 0, 5, 1}, {"pop r", f_stack, 1, 5, 1}, {"push ib", f_stack, 2, 3, 1},
    {"push iz", f_stack, 3, 3, 1}, {"push E", f_stack, 4, 6, 1}, {"pop E", f_stack, 5, 8, 1},
    {"push sreg", f_stack, 6, 4, 1}, {"pop sreg", f_stack, 7, 5, 1},
    {"pusha", f_stack, 8, 5, 1}, {"popa", f_stack, 9, 5, 1}, {"pushf", f_stack, 10, 5, 1},
    {"popf", f_stack, 11, 8, 1}, {"enter", f_stack, 12, 12, 1}, {"leave", f_stack, 13, 5, 1},
    {"movs", f_string, 0xA4, 10, 1}, {"movs v", f_string, 0xA5, 12, 1},
    {"cmps", f_string, 0xA6, 10, 1}, {"cmps v", f_string, 0xA7, 12, 1},
    {"stos", f_string, 0xAA, 8, 1}, {"stos v", f_string, 0xAB, 10, 1},
    {"lods", f_string, 0xAC, 6, 1}, {"lods v", f_string, 0xAD, 8, 1},
    {"scas", f_string, 0xAE, 10, 1}, {"scas v", f_string, 0xAF, 12, 1},
    {"cmc", f_flagop, 0xF5, 2, 1}, {"clc", f_flagop, 0xF8, 2, 1}, {"stc", f_flagop, 0xF9, 2, 1},
    {"cld", f_flagop, 0xFC, 2, 1}, {"std", f_flagop, 0xFD, 2, 1},
    {"sahf", f_flagop, 0x9E, 3, 1}, {"lahf", f_flagop, 0x9F, 3, 1},
    {"salc", f_flagop, 0xD6, 3, 1},
    {"daa", f_bcd, 0x27, 4, 1}, {"das", f_bcd, 0x2F, 4, 1}, {"aaa", f_bcd, 0x37, 4, 1},
    {"aas", f_bcd, 0x3F, 4, 1}, {"aam", f_bcd, 0xD4, 4, 1}, {"aad", f_bcd, 0xD5, 4, 1},
    {"xlat", f_xlat, 0, 5, 1},
    {"loopne", f_loop, 0xE0, 5, 0}, {"loope", f_loop, 0xE1, 5, 0}, {"loop", f_loop, 0xE2, 5, 0},
    {"jecxz", f_loop, 0xE3, 5, 0},
    {"jmp rel8", f_jmp, 0, 4, 0}, {"jmp rel32", f_jmp, 1, 4, 0}, {"call rel", f_jmp, 2, 6, 0},
    {"ret", f_jmp, 3, 5, 0}, {"ret iw", f_jmp, 4, 4, 0}, {"jmp E", f_jmp, 5, 6, 0},
    {"call E", f_jmp, 6, 6, 0},
    {"ljmp ptr", f_far, 0, 3, 0}, {"lcall ptr", f_far, 1, 3, 0}, {"ljmp m", f_far, 2, 3, 0},
    {"lcall m", f_far, 3, 3, 0}, {"lret", f_far, 4, 3, 0}, {"lret iw", f_far, 5, 3, 0},
    {"iret", f_far, 6, 6, 0},
    {"les", f_lxs, 0, 2, 1}, {"lds", f_lxs, 1, 2, 1}, {"lss", f_lxs, 2, 3, 1},
    {"lfs", f_lxs, 3, 2, 1}, {"lgs", f_lxs, 4, 2, 1},
    {"lar", f_lar, 0, 3, 1}, {"lsl", f_lar, 1, 3, 1}, {"verr", f_lar, 2, 2, 1},
    {"verw", f_lar, 3, 2, 1},
    {"nop", f_nop, 0, 2, 1}, {"nop E (0F 1F)", f_nop, 1, 4, 1}, {"hint nops", f_nop, 2, 4, 1},
    {"faulting insns", f_fault, 0, 20, 1}, {"int n", f_fault, 1, 3, 1},
    {"bound", f_fault, 2, 6, 1}, {"alignment check load", f_align, 0, 2, 1},
    {"alignment check store", f_align, 1, 2, 1}, {"15/16-byte insn", f_fault, 3, 2, 1}, {"arpl", f_fault, 4, 4, 1},
    PAIR_FORMS(0, "jcc"), PAIR_FORMS(1, "setcc"), PAIR_FORMS(2, "cmovcc"),
    PAIR_FORMS(3, "adc"), PAIR_FORMS(4, "sbb"), PAIR_FORMS(5, "inc"), PAIR_FORMS(6, "dec"),
    PAIR_FORMS(7, "lahf"), PAIR_FORMS(8, "cmc"), PAIR_FORMS(9, "rcl"), PAIR_FORMS(10, "rcr"),
    PAIR_FORMS(11, "loopcc"), PAIR_FORMS(12, "daa/das"), PAIR_FORMS(13, "pushf"),
    PAIR_FORMS(14, "into"),
};
#define NFORMS (sizeof forms / sizeof forms[0])

enum { SYS_ALU, SYS_SHIFT, SYS_MULDIV, SYS_UNARY, SYS_BCD, SYS_AAM, SYS_COND, SYS_BITS };

unsigned gen_form_count(void) { return NFORMS; }
const char *gen_form_name(unsigned form) { return form < NFORMS ? forms[form].name : "?"; }

/* ---- case setup ---- */

static uint32_t reg_value(struct gen *g)
{
    switch (rn(g, 4)) {
    case 0: return val(g, 4);
    case 1: return (rnd(g) & 0xFFFF0000u) | val(g, 2);
    case 2: return (rnd(g) & 0xFFFFFF00u) | val(g, 1);
    default: return rnd(g);
    }
}

/* Input EFLAGS: any combination of CF PF AF ZF SF OF, DF a quarter of the time, ID half of
 * the time; IF = 1 and IOPL = 0 as for any Linux process; never TF, AC, NT. */
static uint32_t in_flags(struct gen *g)
{
    uint32_t f = FL_R1 | FL_IF | (rnd(g) & FL_ARITH);
    if (chance(g, 25))
        f |= FL_DF;
    if (chance(g, 50))
        f |= FL_ID;
    return f;
}

static void begin(struct gen *g, struct tcase *tc, unsigned form)
{
    memset(tc, 0, sizeof *tc);
    g->tc = tc;
    g->fixed = 0;
    g->a16 = 0;
    g->no_ro = 0;
    /* Mostly mid-way in the first code page; now and then across the boundary of the two. */
    g->off = chance(g, 3) ? 0x1000 - 1 - rn(g, 12) : 0x700 + rn(g, 0x200);
    tc->form = (uint16_t)form;
    for (unsigned r = 0; r < 8; r++)
        tc->in.r[r] = reg_value(g);
    tc->in.r[ESP] = g->L.data + 0x1000 + ((uint32_t)((int)rn(g, 0x400) - 0x200) & ~3u);
    tc->in.eflags = in_flags(g);
    tc->fmask = 0xFFFFFFFFu;
    for (unsigned r = 0; r < 8; r++)
        tc->rmask[r] = 0xFFFFFFFFu;
}

static void finish(struct gen *g, int plain)
{
    struct diff_case *in = &g->tc->in;
    /* Now and then put an instruction that falls through at the very end of the code area (the
     * next fetch faults), or across it (its own fetch faults). */
    if (plain && chance(g, 2))
        g->off = DIFF_CODE_SIZE - in->code_len + (chance(g, 50) ? 0 : 1 + rn(g, in->code_len));
    if (g->off > DIFF_CODE_SIZE - 1)
        g->off = DIFF_CODE_SIZE - 1;
    if (g->off + in->code_len > DIFF_CODE_SIZE) /* only the part inside the code area exists */
        in->code_len = (uint8_t)(DIFF_CODE_SIZE - g->off);
    in->code_off = (uint16_t)g->off;
}

/* ---- the systematic sweep ---- */

static const uint8_t sys_counts[13] = {0, 1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 255};

struct sysfam {
    unsigned n;
    void (*fn)(struct gen *g, unsigned k);
};

static unsigned size_at(unsigned i) { return i == 0 ? 1 : i == 1 ? 2 : 4; }

/* op cl/cx/ecx, dl/dx/edx for the 8 ALU ops, 3 sizes, 24 x 24 edge values, CF in 0/1. */
static void sys_alu(struct gen *g, unsigned k)
{
    unsigned cf = k & 1, bi = (k >> 1) % NEDGE, ai = (k >> 1) / NEDGE % NEDGE;
    unsigned si = (k >> 1) / (NEDGE * NEDGE) % 3, op = (k >> 1) / (NEDGE * NEDGE * 3);
    unsigned s = size_at(si);
    if (s == 2)
        emit(g, 0x66);
    emit(g, op * 8 + (s > 1));
    emit(g, 0xC0 | EDX << 3 | ECX);
    set_lane(g->tc->in.r, ECX, s, edge_at(s, ai));
    set_lane(g->tc->in.r, EDX, s, edge_at(s, bi));
    g->tc->in.eflags = (g->tc->in.eflags & ~FL_CF) | cf;
    if (is_logic(op))
        undef(g, FL_AF);
}

/* D3 /ext on eax by cl: 8 ops, 3 sizes, 13 counts, 12 values, CF in 0/1. */
static void sys_shift(struct gen *g, unsigned k)
{
    unsigned cf = k & 1, vi = (k >> 1) % 12, ci = (k >> 1) / 12 % 13;
    unsigned si = (k >> 1) / (12 * 13) % 3, ext = (k >> 1) / (12 * 13 * 3);
    unsigned s = size_at(si);
    if (s == 2)
        emit(g, 0x66);
    emit(g, 0xD2 + (s > 1));
    emit(g, 0xC0 | ext << 3 | EAX);
    set_lane(g->tc->in.r, EAX, s, edge_at(s, vi * 2 + (ci & 1)));
    set_lane(g->tc->in.r, ECX, 1, sys_counts[ci]);
    g->tc->in.eflags = (g->tc->in.eflags & ~FL_CF) | cf;
    shift_undef(g, ext, s, sys_counts[ci]);
}

/* MUL IMUL DIV IDIV ebx: 4 ops, 3 sizes, 24 x 24 edges, 3 kinds of high half. */
static void sys_muldiv(struct gen *g, unsigned k)
{
    unsigned hi = k % 3, bi = k / 3 % NEDGE, ai = k / 3 / NEDGE % NEDGE;
    unsigned si = k / 3 / (NEDGE * NEDGE) % 3, ext = 4 + k / 3 / (NEDGE * NEDGE * 3);
    unsigned s = size_at(si);
    uint32_t a = edge_at(s, ai), b = edge_at(s, bi), *r = g->tc->in.r;
    if (s == 2)
        emit(g, 0x66);
    emit(g, 0xF6 + (s > 1));
    emit(g, 0xC0 | ext << 3 | EBX);
    set_lane(r, EBX, s, b);
    uint32_t h = hi == 0 ? 0 : hi == 1 ? smask(s) : (b >> 1);
    if (ext == 7 && hi == 0 && sx(a, s) < 0)
        h = smask(s);
    if (s == 1) {
        set_lane(r, EAX, 1, a);
        set_lane(r, 4 /* AH */, 1, h);
    } else {
        set_lane(r, EAX, s, a);
        set_lane(r, EDX, s, h);
    }
    undef(g, ext < 6 ? (FL_SF | FL_ZF | FL_AF | FL_PF) : FL_ARITH);
}

/* INC DEC NOT NEG ebx: 3 sizes, 24 edges, CF in 0/1. */
static void sys_unary(struct gen *g, unsigned k)
{
    unsigned cf = k & 1, vi = (k >> 1) % NEDGE, si = (k >> 1) / NEDGE % 3;
    unsigned ext = (k >> 1) / (NEDGE * 3), s = size_at(si);
    if (s == 2)
        emit(g, 0x66);
    emit(g, ext < 2 ? 0xFE + (s > 1) : 0xF6 + (s > 1));
    emit(g, 0xC0 | ext << 3 | EBX);
    set_lane(g->tc->in.r, EBX, s, edge_at(s, vi));
    g->tc->in.eflags = (g->tc->in.eflags & ~FL_CF) | cf;
}

/* DAA DAS AAA AAS for every AL with every AF, CF. */
static void sys_bcd(struct gen *g, unsigned k)
{
    static const uint8_t ops[4] = {0x27, 0x2F, 0x37, 0x3F};
    unsigned op = ops[k / 1024], al = k % 256, af = (k / 256) & 1, cf = (k / 512) & 1;
    emit(g, op);
    set_lane(g->tc->in.r, EAX, 1, al);
    g->tc->in.eflags = (g->tc->in.eflags & ~(FL_CF | FL_AF)) | (cf ? FL_CF : 0) | (af ? FL_AF : 0);
    if (op == 0x27 || op == 0x2F)
        undef(g, FL_OF);
    else
        undef(g, FL_OF | FL_SF | FL_ZF | FL_PF);
}

/* AAM AAD for every AL with bases 10, 16, 1, 255 and 0. */
static void sys_aam(struct gen *g, unsigned k)
{
    static const uint8_t bases[5] = {10, 16, 1, 255, 0};
    unsigned op = k / 1280 ? 0xD5 : 0xD4, al = k % 256, base = bases[k / 256 % 5];
    emit(g, op);
    emit(g, base);
    set_lane(g->tc->in.r, EAX, 1, al);
    undef(g, FL_OF | FL_AF | FL_CF);
}

/* Every condition (Jcc, SETcc, CMOVcc) and every flag reader under all 128 combinations of
 * CF PF AF ZF SF OF DF. */
static void sys_cond(struct gen *g, unsigned k)
{
    static const uint8_t bit[7] = {0, 2, 4, 6, 7, 11, 10};
    unsigned combo = k % 128, kind = k / 128;
    uint32_t f = FL_R1 | FL_IF;
    for (unsigned b = 0; b < 7; b++)
        if (combo & (1u << b))
            f |= 1u << bit[b];
    g->tc->in.eflags = f;
    if (kind < 16) {
        emit(g, 0x70 + kind);
        emit_rel(g, 1);
    } else if (kind < 32) {
        emit(g, 0x0F), emit(g, 0x90 + kind - 16), emit(g, 0xC0 | rn(g, 8));
    } else if (kind < 48) {
        emit(g, 0x0F), emit(g, 0x40 + kind - 32), emit(g, 0xC0 | rn(g, 8) << 3 | rn(g, 8));
    } else {
        static const uint8_t readers[9][3] = {
            {1, 0x9F}, {1, 0x9C}, {1, 0xF5}, {2, 0x14, 0x00}, {2, 0x1C, 0x00}, {2, 0xE1, 0x10},
            {2, 0xE0, 0x10}, {1, 0xCE}, {2, 0xD0, 0xD0},
        };
        const uint8_t *rd = readers[kind - 48];
        for (unsigned b = 0; b < rd[0]; b++)
            emit(g, rd[1 + b]);
        if (rd[1] == 0xE0 || rd[1] == 0xE1)
            fix(g, ECX, 2);
    }
}

/* BSF BSR with every single bit and every edge, 16 and 32 bits. */
static void sys_bits(struct gen *g, unsigned k)
{
    unsigned rev = k & 1, s = (k >> 1) & 1 ? 4 : 2, i = k >> 2;
    uint32_t v = i < 32 ? 1u << i : edge_at(4, i - 32);
    if (s == 2)
        emit(g, 0x66);
    emit(g, 0x0F), emit(g, 0xBC + rev), emit(g, 0xC0 | EAX << 3 | EBX);
    set_lane(g->tc->in.r, EBX, s, v);
    undef(g, FL_CF | FL_OF | FL_SF | FL_AF | FL_PF);
    if ((v & smask(s)) == 0)
        undef_reg(g, EAX, s);
}

static const struct sysfam sysfams[] = {
    [SYS_ALU] = {8 * 3 * NEDGE * NEDGE * 2, sys_alu},
    [SYS_SHIFT] = {8 * 3 * 13 * 12 * 2, sys_shift},
    [SYS_MULDIV] = {4 * 3 * NEDGE * NEDGE * 3, sys_muldiv},
    [SYS_UNARY] = {4 * 3 * NEDGE * 2, sys_unary},
    [SYS_BCD] = {4 * 1024, sys_bcd},
    [SYS_AAM] = {2 * 1280, sys_aam},
    [SYS_COND] = {57 * 128, sys_cond},
    [SYS_BITS] = {4 * (32 + NEDGE), sys_bits},
};
#define NSYS (sizeof sysfams / sizeof sysfams[0])

static int keep(const struct gen *g, unsigned form)
{
    return !g->filter || strstr(forms[form].name, g->filter) != NULL;
}

struct gen *gen_new(uint64_t seed, const struct layout *L, const char *filter)
{
    struct gen *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->s = seed;
    g->L = *L;
    g->filter = filter && *filter ? filter : NULL;
    g->cum = calloc(NFORMS, sizeof *g->cum);
    g->idx = calloc(NFORMS, sizeof *g->idx);
    if (!g->cum || !g->idx) {
        gen_free(g);
        return NULL;
    }
    for (unsigned f = 0; f < NFORMS; f++) {
        if (!forms[f].weight || !keep(g, f))
            continue;
        g->total += forms[f].weight;
        g->cum[g->n] = g->total;
        g->idx[g->n++] = f;
    }
    for (unsigned k = 0; k < NSYS; k++)
        if (keep(g, k))
            g->sys_n += sysfams[k].n;
    return g;
}

void gen_free(struct gen *g)
{
    if (!g)
        return;
    free(g->cum);
    free(g->idx);
    free(g);
}

unsigned gen_sys_count(const struct gen *g) { return g->sys_n; }

void gen_case(struct gen *g, struct tcase *tc)
{
    if (g->sys_i < g->sys_n) {
        unsigned k = g->sys_i++;
        for (unsigned f = 0; f < NSYS; f++) {
            if (!keep(g, f))
                continue;
            if (k < sysfams[f].n) {
                begin(g, tc, f);
                sysfams[f].fn(g, k);
                finish(g, 0);
                return;
            }
            k -= sysfams[f].n;
        }
    }
    if (!g->n) { /* the filter matched only sweep families, or nothing */
        begin(g, tc, 0);
        emit(g, 0x90);
        finish(g, 0);
        return;
    }
    unsigned w = rn(g, g->total), lo = 0, hi = g->n - 1;
    while (lo < hi) {
        unsigned mid = (lo + hi) / 2;
        if (g->cum[mid] > w)
            hi = mid;
        else
            lo = mid + 1;
    }
    const struct form *f = &forms[g->idx[lo]];
    begin(g, tc, g->idx[lo]);
    f->fn(g, f->arg);
    finish(g, f->plain);
}

void gen_background(uint64_t seed, uint8_t *buf, uint32_t size)
{
    struct gen g = {.s = seed ^ 0xB4C6B0D5u};
    for (uint32_t k = 0; k < size; k++)
        buf[k] = (uint8_t)rnd(&g);
}
