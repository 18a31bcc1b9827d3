/* Guest: arithmetic flags and the conditions that read them.
 *
 * Each operation runs in inline assembly between popfl (loading a chosen CF/PF/AF/ZF/SF/OF
 * pattern) and pushfl; its result and the defined flags are compared with a C model of the
 * SDM's definitions (undefined flags are masked out: AF after logic ops and shifts, OF after
 * multi-bit shifts and rotates, everything but CF/OF after mul/imul). A shift or rotate by 0
 * must leave every flag as it was. Then all 16 conditions are checked after cmp through setcc,
 * cmovcc, short jcc and near jcc, and lahf/sahf/stc/clc/cmc.
 * Operand pairs: edge values (0, 1, 0x7F, 0x80, 0x7FFFFFFF, ...) crossed, plus random pairs. */
#include "rt.h"

#define F_CF 0x001u
#define F_PF 0x004u
#define F_AF 0x010u
#define F_ZF 0x040u
#define F_SF 0x080u
#define F_OF 0x800u
#define F_ALL (F_CF | F_PF | F_AF | F_ZF | F_SF | F_OF)

/* Runs INSN with %0 = a (in/out), %2 = b, after loading the arithmetic flags from fin. */
#define RUN(insn, a, b, fin, fout)                                                           \
    __asm__("pushfl\n\t"                                                                     \
            "andl $~0x8D5, (%%esp)\n\t"                                                      \
            "orl %3, (%%esp)\n\t"                                                            \
            "popfl\n\t" insn "\n\t"                                                          \
            "pushfl\n\t"                                                                     \
            "popl %1"                                                                        \
            : "+r"(a), "=&r"(fout)                                                           \
            : "r"(b), "r"(fin)                                                               \
            : "cc")

/* The same with %0 in a byte register (q constraint) for 8-bit forms. */
#define RUNQ(insn, a, b, fin, fout)                                                          \
    __asm__("pushfl\n\t"                                                                     \
            "andl $~0x8D5, (%%esp)\n\t"                                                      \
            "orl %3, (%%esp)\n\t"                                                            \
            "popfl\n\t" insn "\n\t"                                                          \
            "pushfl\n\t"                                                                     \
            "popl %1"                                                                        \
            : "+q"(a), "=&r"(fout)                                                           \
            : "q"(b), "r"(fin)                                                               \
            : "cc")

/* Shifts and rotates: count in CL. */
#define RUNC(insn, a, c, fin, fout)                                                          \
    __asm__("pushfl\n\t"                                                                     \
            "andl $~0x8D5, (%%esp)\n\t"                                                      \
            "orl %3, (%%esp)\n\t"                                                            \
            "popfl\n\t" insn "\n\t"                                                          \
            "pushfl\n\t"                                                                     \
            "popl %1"                                                                        \
            : "+r"(a), "=&r"(fout)                                                           \
            : "c"(c), "r"(fin)                                                               \
            : "cc")

struct result {
    uint32_t value;
    uint32_t flags; /* arithmetic flags only */
    uint32_t mask;  /* which flags are defined (the model's only) */
};

static uint32_t szp(uint32_t r, unsigned bits)
{
    uint32_t f = 0;
    uint32_t sign = 1u << (bits - 1);
    uint32_t m = bits == 32 ? 0xFFFFFFFFu : (1u << bits) - 1;
    if ((r & m) == 0)
        f |= F_ZF;
    if (r & sign)
        f |= F_SF;
    uint32_t p = r & 0xFF;
    p ^= p >> 4;
    p ^= p >> 2;
    p ^= p >> 1;
    if (!(p & 1))
        f |= F_PF;
    return f;
}

/* x + y + c in `bits` bits, as add/adc define the flags. */
static struct result model_add(uint32_t x, uint32_t y, uint32_t c, unsigned bits)
{
    uint32_t m = bits == 32 ? 0xFFFFFFFFu : (1u << bits) - 1, sign = 1u << (bits - 1);
    x &= m;
    y &= m;
    uint64_t wide = (uint64_t)x + y + c;
    uint32_t r = (uint32_t)wide & m;
    uint32_t f = szp(r, bits);
    if (wide > m)
        f |= F_CF;
    if (~(x ^ y) & (x ^ r) & sign)
        f |= F_OF;
    if ((x ^ y ^ r) & 0x10)
        f |= F_AF;
    return (struct result){r, f, F_ALL};
}

/* x - y - c, as sub/sbb/cmp/neg define the flags. */
static struct result model_sub(uint32_t x, uint32_t y, uint32_t c, unsigned bits)
{
    uint32_t m = bits == 32 ? 0xFFFFFFFFu : (1u << bits) - 1, sign = 1u << (bits - 1);
    x &= m;
    y &= m;
    uint32_t r = (x - y - c) & m;
    uint32_t f = szp(r, bits);
    if ((uint64_t)x < (uint64_t)y + c)
        f |= F_CF;
    if ((x ^ y) & (x ^ r) & sign)
        f |= F_OF;
    if ((x ^ y ^ r) & 0x10)
        f |= F_AF;
    return (struct result){r, f, F_ALL};
}

static struct result model_logic(uint32_t r)
{
    return (struct result){r, szp(r, 32), F_ALL & ~F_AF};
}

/* Each operation: run it on the CPU, and model it. fin = flags loaded before. */
struct op {
    const char *name;
    struct result (*run)(uint32_t a, uint32_t b, uint32_t fin);
    struct result (*model)(uint32_t a, uint32_t b, uint32_t fin);
};

#define DEF_RUN(fname, macro, insn)                                                         \
    static struct result fname(uint32_t a, uint32_t b, uint32_t fin)                         \
    {                                                                                        \
        uint32_t f;                                                                          \
        macro(insn, a, b, fin, f);                                                           \
        return (struct result){a, f & F_ALL, 0};                                             \
    }

DEF_RUN(run_add, RUN, "addl %2, %0")
DEF_RUN(run_adc, RUN, "adcl %2, %0")
DEF_RUN(run_sub, RUN, "subl %2, %0")
DEF_RUN(run_sbb, RUN, "sbbl %2, %0")
DEF_RUN(run_cmp, RUN, "cmpl %2, %0")
DEF_RUN(run_and, RUN, "andl %2, %0")
DEF_RUN(run_or, RUN, "orl %2, %0")
DEF_RUN(run_xor, RUN, "xorl %2, %0")
DEF_RUN(run_test, RUN, "testl %2, %0")
DEF_RUN(run_inc, RUN, "incl %0")
DEF_RUN(run_dec, RUN, "decl %0")
DEF_RUN(run_neg, RUN, "negl %0")
DEF_RUN(run_not, RUN, "notl %0")
DEF_RUN(run_add8, RUNQ, "addb %b2, %b0")
DEF_RUN(run_sub8, RUNQ, "subb %b2, %b0")
DEF_RUN(run_adc16, RUN, "adcw %w2, %w0")
DEF_RUN(run_sbb16, RUN, "sbbw %w2, %w0")
DEF_RUN(run_add_imm8, RUN, "addl $-128, %0")   /* 83 /0 ib, sign-extended */
DEF_RUN(run_sub_imm32, RUN, "subl $0x12345678, %0")
DEF_RUN(run_imul2, RUN, "imull %2, %0")
DEF_RUN(run_shl, RUNC, "shll %%cl, %0")
DEF_RUN(run_shr, RUNC, "shrl %%cl, %0")
DEF_RUN(run_sar, RUNC, "sarl %%cl, %0")
DEF_RUN(run_rol, RUNC, "roll %%cl, %0")
DEF_RUN(run_ror, RUNC, "rorl %%cl, %0")
DEF_RUN(run_rcl, RUNC, "rcll %%cl, %0")
DEF_RUN(run_rcr, RUNC, "rcrl %%cl, %0")
DEF_RUN(run_shl1, RUN, "shll $1, %0")    /* D1 /4: the by-one form, OF defined */
DEF_RUN(run_sar1, RUN, "sarl $1, %0")
DEF_RUN(run_shr5, RUN, "shrl $5, %0")    /* C1 /5 ib */

static struct result run_mul(uint32_t a, uint32_t b, uint32_t fin)
{
    uint32_t f, hi;
    __asm__("pushfl; andl $~0x8D5, (%%esp); orl %4, (%%esp); popfl\n\t"
            "mull %3\n\t"
            "pushfl; popl %1"
            : "+a"(a), "=&r"(f), "=d"(hi)
            : "r"(b), "r"(fin)
            : "cc");
    return (struct result){a ^ hi, f & F_ALL, 0};
}

static struct result run_imul1(uint32_t a, uint32_t b, uint32_t fin)
{
    uint32_t f, hi;
    __asm__("pushfl; andl $~0x8D5, (%%esp); orl %4, (%%esp); popfl\n\t"
            "imull %3\n\t"
            "pushfl; popl %1"
            : "+a"(a), "=&r"(f), "=d"(hi)
            : "r"(b), "r"(fin)
            : "cc");
    return (struct result){a ^ hi, f & F_ALL, 0};
}

static uint32_t cf(uint32_t fin) { return fin & F_CF ? 1 : 0; }

/* A one-line model: MODEL(name, statements using a, b, fin). */
#define MODEL(name, ...)                                                                     \
    static struct result name(uint32_t a, uint32_t b, uint32_t fin)                          \
    {                                                                                        \
        (void)a, (void)b, (void)fin;                                                         \
        __VA_ARGS__                                                                          \
    }

MODEL(m_add, return model_add(a, b, 0, 32);)
MODEL(m_adc, return model_add(a, b, cf(fin), 32);)
MODEL(m_sub, return model_sub(a, b, 0, 32);)
MODEL(m_sbb, return model_sub(a, b, cf(fin), 32);)
static struct result m_cmp(uint32_t a, uint32_t b, uint32_t fin)
{
    struct result r = m_sub(a, b, fin);
    r.value = a;
    return r;
}
MODEL(m_and, return model_logic(a & b);)
MODEL(m_or, return model_logic(a | b);)
MODEL(m_xor, return model_logic(a ^ b);)
static struct result m_test(uint32_t a, uint32_t b, uint32_t fin)
{
    struct result r = m_and(a, b, fin);
    r.value = a;
    return r;
}

/* inc/dec: like add/sub 1, but CF is left as it was. */
static struct result m_inc(uint32_t a, uint32_t b, uint32_t fin)
{
    (void)b;
    struct result r = model_add(a, 1, 0, 32);
    r.flags = (r.flags & ~F_CF) | (fin & F_CF);
    return r;
}
static struct result m_dec(uint32_t a, uint32_t b, uint32_t fin)
{
    (void)b;
    struct result r = model_sub(a, 1, 0, 32);
    r.flags = (r.flags & ~F_CF) | (fin & F_CF);
    return r;
}
/* neg: 0 - a; CF = (a != 0). */
MODEL(m_neg, return model_sub(0, a, 0, 32);)
/* not: no flag changes. */
MODEL(m_not, return (struct result){~a, fin, F_ALL};)

static struct result m_add8(uint32_t a, uint32_t b, uint32_t fin)
{
    (void)fin;
    struct result r = model_add(a, b, 0, 8);
    r.value |= a & 0xFFFFFF00u;
    return r;
}
static struct result m_sub8(uint32_t a, uint32_t b, uint32_t fin)
{
    (void)fin;
    struct result r = model_sub(a, b, 0, 8);
    r.value |= a & 0xFFFFFF00u;
    return r;
}
static struct result m_adc16(uint32_t a, uint32_t b, uint32_t fin)
{
    struct result r = model_add(a, b, cf(fin), 16);
    r.value |= a & 0xFFFF0000u;
    return r;
}
static struct result m_sbb16(uint32_t a, uint32_t b, uint32_t fin)
{
    struct result r = model_sub(a, b, cf(fin), 16);
    r.value |= a & 0xFFFF0000u;
    return r;
}
MODEL(m_add_imm8, return model_add(a, 0xFFFFFF80u, 0, 32);)
MODEL(m_sub_imm32, return model_sub(a, 0x12345678u, 0, 32);)

/* Multiplies: only CF and OF are defined (set when the high half is significant). */
static struct result m_imul2(uint32_t a, uint32_t b, uint32_t fin)
{
    (void)fin;
    int64_t p = (int64_t)(int32_t)a * (int32_t)b;
    uint32_t f = p != (int64_t)(int32_t)(uint32_t)p ? F_CF | F_OF : 0;
    return (struct result){(uint32_t)p, f, F_CF | F_OF};
}
static struct result m_mul(uint32_t a, uint32_t b, uint32_t fin)
{
    (void)fin;
    uint64_t p = (uint64_t)a * b;
    uint32_t hi = (uint32_t)(p >> 32);
    return (struct result){(uint32_t)p ^ hi, hi ? F_CF | F_OF : 0, F_CF | F_OF};
}
static struct result m_imul1(uint32_t a, uint32_t b, uint32_t fin)
{
    (void)fin;
    int64_t p = (int64_t)(int32_t)a * (int32_t)b;
    uint32_t f = p != (int64_t)(int32_t)(uint32_t)p ? F_CF | F_OF : 0;
    return (struct result){(uint32_t)p ^ (uint32_t)((uint64_t)p >> 32), f, F_CF | F_OF};
}

/* Shifts by CL: the count is masked to 5 bits; a count of 0 changes nothing. AF is undefined
 * for any other count, OF for counts above 1. */
static struct result shift_common(uint32_t a, uint32_t r, uint32_t c, uint32_t carry,
                                  uint32_t of, uint32_t fin)
{
    if (c == 0)
        return (struct result){a, fin, F_ALL};
    uint32_t f = szp(r, 32) | (carry ? F_CF : 0) | (of ? F_OF : 0);
    return (struct result){r, f, c == 1 ? F_ALL & ~F_AF : F_ALL & ~(F_AF | F_OF)};
}
static struct result m_shl(uint32_t a, uint32_t b, uint32_t fin)
{
    uint32_t c = b & 31, r = a << c, carry = c ? (a >> (32 - c)) & 1 : 0;
    return shift_common(a, r, c, carry, (r >> 31) ^ carry, fin);
}
static struct result m_shr(uint32_t a, uint32_t b, uint32_t fin)
{
    uint32_t c = b & 31, r = a >> c, carry = c ? (a >> (c - 1)) & 1 : 0;
    return shift_common(a, r, c, carry, a >> 31, fin);
}
static struct result m_sar(uint32_t a, uint32_t b, uint32_t fin)
{
    uint32_t c = b & 31;
    uint32_t r = (a & 0x80000000u) ? ~(~a >> c) : a >> c;
    uint32_t carry = c ? ((a & 0x80000000u) ? ~(~a >> (c - 1)) : a >> (c - 1)) & 1 : 0;
    return shift_common(a, r, c, carry, 0, fin);
}
MODEL(m_shl1, return m_shl(a, 1, fin);)
MODEL(m_sar1, return m_sar(a, 1, fin);)
MODEL(m_shr5, return m_shr(a, 5, fin);)

/* Rotates change only CF and OF (OF defined for a count of 1); others keep fin. */
static struct result rot_common(uint32_t a, uint32_t r, uint32_t c, uint32_t carry, uint32_t of,
                                uint32_t fin)
{
    if (c == 0)
        return (struct result){a, fin, F_ALL};
    uint32_t f = (fin & ~(F_CF | F_OF)) | (carry ? F_CF : 0) | (of ? F_OF : 0);
    return (struct result){r, f, c == 1 ? F_ALL : F_ALL & ~F_OF};
}
static struct result m_rol(uint32_t a, uint32_t b, uint32_t fin)
{
    uint32_t c = b & 31, r = c ? a << c | a >> (32 - c) : a;
    return rot_common(a, r, c, r & 1, (r >> 31) ^ (r & 1), fin);
}
static struct result m_ror(uint32_t a, uint32_t b, uint32_t fin)
{
    uint32_t c = b & 31, r = c ? a >> c | a << (32 - c) : a;
    return rot_common(a, r, c, r >> 31, (r >> 31) ^ ((r >> 30) & 1), fin);
}
/* rcl/rcr rotate the 33-bit value CF:a. */
static struct result m_rcl(uint32_t a, uint32_t b, uint32_t fin)
{
    uint32_t c = b & 31, r = a, carry = cf(fin);
    for (uint32_t i = 0; i < c; i++) {
        uint32_t out = r >> 31;
        r = r << 1 | carry;
        carry = out;
    }
    return rot_common(a, r, c, carry, (r >> 31) ^ carry, fin);
}
static struct result m_rcr(uint32_t a, uint32_t b, uint32_t fin)
{
    uint32_t c = b & 31, r = a, carry = cf(fin);
    uint32_t of = (a >> 31) ^ carry; /* for a count of 1: MSB before xor CF before */
    for (uint32_t i = 0; i < c; i++) {
        uint32_t out = r & 1;
        r = r >> 1 | carry << 31;
        carry = out;
    }
    return rot_common(a, r, c, carry, of, fin);
}

static const struct op ops[] = {
    {"add", run_add, m_add},       {"adc", run_adc, m_adc},
    {"sub", run_sub, m_sub},       {"sbb", run_sbb, m_sbb},
    {"cmp", run_cmp, m_cmp},       {"and", run_and, m_and},
    {"or", run_or, m_or},          {"xor", run_xor, m_xor},
    {"test", run_test, m_test},    {"inc", run_inc, m_inc},
    {"dec", run_dec, m_dec},       {"neg", run_neg, m_neg},
    {"not", run_not, m_not},       {"add8", run_add8, m_add8},
    {"sub8", run_sub8, m_sub8},    {"adc16", run_adc16, m_adc16},
    {"sbb16", run_sbb16, m_sbb16}, {"add imm8", run_add_imm8, m_add_imm8},
    {"sub imm32", run_sub_imm32, m_sub_imm32},
    {"imul r,r", run_imul2, m_imul2}, {"mul", run_mul, m_mul},
    {"imul edx:eax", run_imul1, m_imul1},
    {"shl cl", run_shl, m_shl},    {"shr cl", run_shr, m_shr},
    {"sar cl", run_sar, m_sar},    {"rol cl", run_rol, m_rol},
    {"ror cl", run_ror, m_ror},    {"rcl cl", run_rcl, m_rcl},
    {"rcr cl", run_rcr, m_rcr},    {"shl 1", run_shl1, m_shl1},
    {"sar 1", run_sar1, m_sar1},   {"shr 5", run_shr5, m_shr5},
};

static const uint32_t edges[] = {
    0, 1, 2, 0xF, 0x10, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFF, 0x10000,
    0x7FFFFFFF, 0x80000000u, 0x80000001u, 0xFFFFFFFEu, 0xFFFFFFFFu, 31, 32, 33,
};
#define NEDGES (sizeof edges / sizeof edges[0])
#define NRANDOM 600u

/* Flag patterns loaded before each operation: none, all, and just CF. */
static const uint32_t fins[] = {0, F_ALL, F_CF};

static unsigned total_bad;

static void test_op(const struct op *op)
{
    unsigned cases = 0, bad = 0;
    uint32_t s = 0xF1A65EED;
    for (unsigned i = 0; i < NEDGES * NEDGES + NRANDOM; i++) {
        uint32_t a, b;
        if (i < NEDGES * NEDGES) {
            a = edges[i / NEDGES];
            b = edges[i % NEDGES];
        } else {
            a = xorshift32(&s);
            b = xorshift32(&s);
            if (i & 1)
                b >>= (a & 31); /* small shift counts and small operands */
        }
        for (unsigned k = 0; k < sizeof fins / sizeof fins[0]; k++) {
            struct result want = op->model(a, b, fins[k]);
            struct result got = op->run(a, b, fins[k]);
            cases++;
            if (got.value != want.value || (got.flags & want.mask) != (want.flags & want.mask)) {
                bad++;
                if (bad <= 5)
                    rt_printf("FAIL %s a=%08x b=%08x flags in %03x: value %08x flags %03x, want "
                              "%08x flags %03x (mask %03x)\n",
                              op->name, a, b, fins[k], got.value, got.flags & want.mask,
                              want.value, want.flags & want.mask, want.mask);
            }
        }
    }
    rt_printf("%s: %u cases, %u wrong\n", op->name, cases, bad);
    total_bad += bad;
}

/* --- conditions ------------------------------------------------------------------------- */

#define CC_LIST(X)                                                                           \
    X(o, 0) X(no, 1) X(b, 2) X(ae, 3) X(e, 4) X(ne, 5) X(be, 6) X(a, 7)                      \
    X(s, 8) X(ns, 9) X(p, 10) X(np, 11) X(l, 12) X(ge, 13) X(le, 14) X(g, 15)

static uint32_t by_setcc(uint32_t a, uint32_t b)
{
    uint32_t m = 0;
    uint8_t t;
#define X(cc, i)                                                                             \
    __asm__("cmpl %2, %1; set" #cc " %0" : "=q"(t) : "r"(a), "r"(b) : "cc");                 \
    m |= (uint32_t)t << i;
    CC_LIST(X)
#undef X
    return m;
}

static uint32_t by_cmov(uint32_t a, uint32_t b)
{
    uint32_t m = 0;
    const uint32_t one = 1;
#define X(cc, i)                                                                             \
    {                                                                                        \
        uint32_t r = 0;                                                                      \
        __asm__("cmpl %2, %1; cmov" #cc "l %3, %0" : "+r"(r) : "r"(a), "r"(b), "rm"(one)      \
                : "cc");                                                                     \
        m |= r << i;                                                                         \
    }
    CC_LIST(X)
#undef X
    return m;
}

static uint32_t by_jcc(uint32_t a, uint32_t b)
{
    uint32_t m = 0;
#define X(cc, i)                                                                             \
    {                                                                                        \
        uint32_t r;                                                                          \
        __asm__("movl $1, %0; cmpl %2, %1; j" #cc " 1f; movl $0, %0; 1:"                     \
                : "=&r"(r) : "r"(a), "r"(b) : "cc");                                         \
        m |= r << i;                                                                         \
    }
    CC_LIST(X)
#undef X
    return m;
}

/* Near (0F 8x, rel32) forms. */
static uint32_t by_jcc32(uint32_t a, uint32_t b)
{
    uint32_t m = 0;
#define X(cc, i)                                                                             \
    {                                                                                        \
        uint32_t r;                                                                          \
        __asm__("movl $1, %0; cmpl %2, %1; %{disp32%} j" #cc " 1f; movl $0, %0; 1:"            \
                : "=&r"(r) : "r"(a), "r"(b) : "cc");                                         \
        m |= r << i;                                                                         \
    }
    CC_LIST(X)
#undef X
    return m;
}

/* The model: conditions from the flags of a - b. */
static uint32_t cc_model(uint32_t a, uint32_t b)
{
    uint32_t f = model_sub(a, b, 0, 32).flags;
    uint32_t o = !!(f & F_OF), c = !!(f & F_CF), z = !!(f & F_ZF), s = !!(f & F_SF),
             p = !!(f & F_PF);
    uint32_t conds[16] = {o, !o, c, !c, z, !z, c | z, !(c | z),
                          s, !s, p, !p, s != o, s == o, z | (s != o), !(z | (s != o))};
    uint32_t m = 0;
    for (int i = 0; i < 16; i++)
        m |= conds[i] << i;
    return m;
}

static void test_conditions(void)
{
    unsigned bad[4] = {0, 0, 0, 0}, cases = 0;
    uint32_t s = 0x5E7CC000;
    for (unsigned i = 0; i < NEDGES * NEDGES + NRANDOM; i++) {
        uint32_t a, b;
        if (i < NEDGES * NEDGES) {
            a = edges[i / NEDGES];
            b = edges[i % NEDGES];
        } else {
            a = xorshift32(&s);
            b = (i & 1) ? xorshift32(&s) : a ^ (1u << (i & 31));
        }
        uint32_t want = cc_model(a, b);
        uint32_t got[4] = {by_setcc(a, b), by_cmov(a, b), by_jcc(a, b), by_jcc32(a, b)};
        cases++;
        for (int k = 0; k < 4; k++) {
            if (got[k] != want) {
                bad[k]++;
                if (bad[k] <= 3)
                    rt_printf("FAIL conditions(%u) a=%08x b=%08x: %04x, want %04x\n", k, a, b,
                              got[k], want);
            }
        }
    }
    rt_printf("setcc: %u cases, %u wrong\n", cases, bad[0]);
    rt_printf("cmovcc: %u cases, %u wrong\n", cases, bad[1]);
    rt_printf("jcc rel8: %u cases, %u wrong\n", cases, bad[2]);
    rt_printf("jcc rel32: %u cases, %u wrong\n", cases, bad[3]);
    total_bad += bad[0] + bad[1] + bad[2] + bad[3];
}

/* lahf/sahf move SF ZF AF PF CF between AH and EFLAGS; stc/clc/cmc set, clear, flip CF. */
static void test_misc(void)
{
    unsigned bad = 0;
    for (uint32_t ah = 0; ah < 256; ah++) {
        uint32_t v = ah << 8, f;
        __asm__("sahf; pushfl; popl %1; lahf" : "+a"(v), "=r"(f) : : "cc");
        uint32_t want = ah & 0xD5; /* SF ZF AF PF CF */
        bad += (f & 0xD5) != want;
        bad += ((v >> 8) & 0xFF) != (want | 0x02); /* bit 1 of EFLAGS reads as 1 */
    }
    uint32_t a, b, c;
    __asm__("stc; setc %b0; clc; setc %b1; stc; cmc; setc %b2"
            : "=q"(a), "=q"(b), "=q"(c)
            :
            : "cc");
    bad += (a & 0xFF) != 1 || (b & 0xFF) != 0 || (c & 0xFF) != 0;
    rt_printf("lahf/sahf/stc/clc/cmc: %u wrong\n", bad);
    total_bad += bad;
}

int kmain(const struct multiboot_info *mbi)
{
    (void)mbi;
    for (unsigned i = 0; i < sizeof ops / sizeof ops[0]; i++)
        test_op(&ops[i]);
    test_conditions();
    test_misc();
    check("flags mismatches", total_bad, 0);
    return rt_finish("flags");
}
