/* Guest: bit operations. For 2000 pseudo-random values (and a few edge values) each
 * instruction-level form is checked against a plain C loop that computes the same thing:
 *   bsf/bsr (__builtin_ctz/__builtin_clz and inline asm, ZF on a zero source),
 *   bt/bts/btr/btc with a register and with a memory bit string (offsets beyond 32 bits),
 *   popcount (by hand, SWAR, and libgcc's __popcountsi2), parity (setnp after a test: PF),
 *   rotates (the (x << n) | (x >> (32 - n)) idiom, rol/ror by cl, 8- and 16-bit forms),
 *   bswap (__builtin_bswap32/64), and branchless min/max/abs/sign/compare (setcc/cmov at -O2).
 * A hash of all results is compared with the value the host CPU gives for the same code. */
#include "rt.h"

static unsigned bad;
static uint32_t hash;

static void expect(const char *what, uint32_t x, uint32_t got, uint32_t want)
{
    hash = ((hash << 5) | (hash >> 27)) ^ got;
    if (got != want) {
        bad++;
        if (bad <= 20)
            rt_printf("FAIL %s(%08x) = %08x, want %08x\n", what, x, got, want);
    }
}

/* --- references: one bit at a time ------------------------------------------------------ */

static uint32_t ref_ctz(uint32_t x)
{
    uint32_t n = 0;
    while (!(x & 1)) {
        x >>= 1;
        n++;
    }
    return n;
}

static uint32_t ref_bsr(uint32_t x)
{
    uint32_t n = 31;
    while (!(x & 0x80000000u)) {
        x <<= 1;
        n--;
    }
    return n;
}

static uint32_t ref_popcount(uint32_t x)
{
    uint32_t n = 0;
    for (int i = 0; i < 32; i++)
        n += (x >> i) & 1;
    return n;
}

static uint32_t ref_rotl(uint32_t x, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        x = (x << 1) | (x >> 31 & 1);
    return x;
}

static uint32_t ref_bswap(uint32_t x)
{
    uint8_t b[4] = {(uint8_t)x, (uint8_t)(x >> 8), (uint8_t)(x >> 16), (uint8_t)(x >> 24)};
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* --- forms under test ------------------------------------------------------------------- */

static uint32_t popcount_kernighan(uint32_t x)
{
    uint32_t n = 0;
    while (x) {
        x &= x - 1;
        n++;
    }
    return n;
}

static uint32_t popcount_swar(uint32_t x)
{
    x = x - ((x >> 1) & 0x55555555u);
    x = (x & 0x33333333u) + ((x >> 2) & 0x33333333u);
    x = (x + (x >> 4)) & 0x0F0F0F0Fu;
    return (x * 0x01010101u) >> 24;
}

static uint32_t rotl_idiom(uint32_t x, unsigned n)
{
    return (x << (n & 31)) | (x >> ((32 - n) & 31));
}

static uint32_t rotr_idiom(uint32_t x, unsigned n)
{
    return (x >> (n & 31)) | (x << ((32 - n) & 31));
}

static uint32_t rol_asm(uint32_t x, unsigned n)
{
    __asm__("roll %%cl, %0" : "+r"(x) : "c"(n) : "cc");
    return x;
}

static uint32_t ror_asm(uint32_t x, unsigned n)
{
    __asm__("rorl %%cl, %0" : "+r"(x) : "c"(n) : "cc");
    return x;
}

/* 16-bit and 8-bit rotates leave the rest of the register alone. */
static uint32_t rolw_asm(uint32_t x, unsigned n)
{
    __asm__("rolw %%cl, %w0" : "+r"(x) : "c"(n) : "cc");
    return x;
}

static uint32_t rorb_asm(uint32_t x, unsigned n)
{
    __asm__("rorb %%cl, %b0" : "+q"(x) : "c"(n) : "cc");
    return x;
}

/* bsf/bsr: the index, and ZF (1 when the source is 0; the destination is then not checked). */
static uint32_t bsf_asm(uint32_t x, uint32_t *zf)
{
    uint32_t r = 0;
    uint8_t z;
    __asm__("bsfl %2, %0; setz %1" : "+r"(r), "=q"(z) : "rm"(x) : "cc");
    *zf = z;
    return r;
}

static uint32_t bsr_asm(uint32_t x, uint32_t *zf)
{
    uint32_t r = 0;
    uint8_t z;
    __asm__("bsrl %2, %0; setz %1" : "+r"(r), "=q"(z) : "rm"(x) : "cc");
    *zf = z;
    return r;
}

/* bt family on a register: returns CF in bit 0 and the new value in *x. */
static uint32_t bt_reg(uint32_t *x, uint32_t bit, int op)
{
    uint8_t cf;
    uint32_t v = *x;
    switch (op) {
    case 0:
        __asm__("btl %2, %1; setc %0" : "=q"(cf), "+r"(v) : "r"(bit) : "cc");
        break;
    case 1:
        __asm__("btsl %2, %1; setc %0" : "=q"(cf), "+r"(v) : "r"(bit) : "cc");
        break;
    case 2:
        __asm__("btrl %2, %1; setc %0" : "=q"(cf), "+r"(v) : "r"(bit) : "cc");
        break;
    default:
        __asm__("btcl %2, %1; setc %0" : "=q"(cf), "+r"(v) : "r"(bit) : "cc");
        break;
    }
    *x = v;
    return cf;
}

/* bt family on a memory bit string: a register offset addresses bits beyond the first dword
 * (bit k lives in dword k >> 5 of the string). */
static uint32_t bitstring[8];

static uint32_t bt_mem(uint32_t bit, int op)
{
    uint8_t cf;
    switch (op) {
    case 0:
        __asm__("btl %1, %2; setc %0" : "=q"(cf) : "r"(bit), "m"(bitstring[0]) : "cc", "memory");
        break;
    case 1:
        __asm__("btsl %1, %2; setc %0" : "=q"(cf) : "r"(bit), "m"(bitstring[0]) : "cc", "memory");
        break;
    case 2:
        __asm__("btrl %1, %2; setc %0" : "=q"(cf) : "r"(bit), "m"(bitstring[0]) : "cc", "memory");
        break;
    default:
        __asm__("btcl %1, %2; setc %0" : "=q"(cf) : "r"(bit), "m"(bitstring[0]) : "cc", "memory");
        break;
    }
    return cf;
}

/* With an immediate offset only its low 5 bits count: bt $37 tests bit 5 of the first dword,
 * not bit 5 of the second (unlike a register offset). Returns CF of bt $37, then of bts $5. */
static uint32_t bt_imm_mem(void)
{
    uint8_t a, b;
    __asm__("btl $37, %2; setc %0; btsl $5, %2; setc %1"
            : "=q"(a), "=q"(b)
            : "m"(bitstring[0])
            : "cc", "memory");
    return (uint32_t)a | (uint32_t)b << 1;
}

/* Branchless at -O2 (cmov / setcc / sbb). */
static int32_t min_i(int32_t a, int32_t b) { return a < b ? a : b; }
static uint32_t max_u(uint32_t a, uint32_t b) { return a > b ? a : b; }
static uint32_t abs_i(int32_t a) { return a < 0 ? -(uint32_t)a : (uint32_t)a; }
static int32_t sign_i(int32_t a) { return (a > 0) - (a < 0); }
static uint32_t lt_mask(uint32_t a, uint32_t b) { return -(uint32_t)(a < b); }
static uint32_t parity(uint32_t x) { return (uint32_t)__builtin_parity(x); }

static uint32_t ref_parity(uint32_t x)
{
    return ref_popcount(x) & 1;
}

static void one(uint32_t x, uint32_t y)
{
    uint32_t zf;
    if (x != 0) {
        expect("ctz", x, (uint32_t)__builtin_ctz(x), ref_ctz(x));
        expect("clz", x, (uint32_t)__builtin_clz(x), 31 - ref_bsr(x));
        expect("bsf", x, bsf_asm(x, &zf), ref_ctz(x));
        expect("bsf zf", x, zf, 0);
        expect("bsr", x, bsr_asm(x, &zf), ref_bsr(x));
        expect("bsr zf", x, zf, 0);
    } else {
        bsf_asm(x, &zf);
        expect("bsf zf", x, zf, 1);
        bsr_asm(x, &zf);
        expect("bsr zf", x, zf, 1);
    }

    uint32_t pc = ref_popcount(x);
    expect("popcount kernighan", x, popcount_kernighan(x), pc);
    expect("popcount swar", x, popcount_swar(x), pc);
    expect("popcount builtin", x, (uint32_t)__builtin_popcount(x), pc);
    expect("parity", x, parity(x), ref_parity(x));
    expect("parity low byte", x, parity(x & 0xFF), ref_parity(x & 0xFF));

    unsigned n = y & 31;
    uint32_t r = ref_rotl(x, n);
    expect("rotl idiom", x, rotl_idiom(x, n), r);
    expect("rotr idiom", x, rotr_idiom(x, 32 - n), r);
    expect("rol cl", x, rol_asm(x, n), r);
    expect("ror cl", x, ror_asm(x, (32 - n) & 31), r);
    expect("rol cl (count masked)", x, rol_asm(x, n + 32), r);
    uint32_t w = ((x & 0xFFFF) << (y & 15) | (x & 0xFFFF) >> (16 - (y & 15))) & 0xFFFF;
    expect("rolw cl", x, rolw_asm(x, y & 15), (x & 0xFFFF0000u) | w);
    uint32_t b = ((x & 0xFF) >> (y & 7) | (x & 0xFF) << (8 - (y & 7))) & 0xFF;
    expect("rorb cl", x, rorb_asm(x, y & 7), (x & 0xFFFFFF00u) | b);

    expect("bswap32", x, __builtin_bswap32(x), ref_bswap(x));
    uint64_t q = (uint64_t)x << 32 | y;
    uint64_t qs = __builtin_bswap64(q);
    expect("bswap64 lo", x, (uint32_t)qs, ref_bswap(x));
    expect("bswap64 hi", x, (uint32_t)(qs >> 32), ref_bswap(y));

    uint32_t bit = y % 32, v = x, old = (x >> bit) & 1;
    expect("bt", x, bt_reg(&v, bit, 0), old);
    expect("bt value", x, v, x);
    expect("bts", x, bt_reg(&v, bit, 1), old);
    expect("bts value", x, v, x | 1u << bit);
    expect("btr", x, bt_reg(&v, bit, 2), 1);
    expect("btr value", x, v, x & ~(1u << bit));
    expect("btc", x, bt_reg(&v, bit, 3), 0);
    expect("btc value", x, v, x | 1u << bit);

    uint32_t sbit = y % 256, word = sbit / 32, mask = 1u << (sbit % 32);
    uint32_t sold = (bitstring[word] & mask) != 0;
    expect("bt mem", sbit, bt_mem(sbit, 0), sold);
    expect("btc mem", sbit, bt_mem(sbit, 3), sold);
    expect("btc mem value", sbit, (bitstring[word] & mask) != 0, !sold);
    expect("bts mem", sbit, bt_mem(sbit, 1), !sold);
    expect("btr mem", sbit, bt_mem(sbit, 2), 1);
    expect("btr mem value", sbit, (bitstring[word] & mask) != 0, 0);
    if (sold)
        bitstring[word] |= mask;
    bitstring[(x >> 8) % 8] ^= x; /* keep the string changing */

    int32_t sx = (int32_t)x, sy = (int32_t)y;
    expect("min", x, (uint32_t)min_i(sx, sy), (uint32_t)(sx < sy ? sx : sy));
    expect("max", x, max_u(x, y), x > y ? x : y);
    expect("abs", x, abs_i(sx), sx < 0 ? 0u - x : x);
    expect("sign", x, (uint32_t)sign_i(sx), sx > 0 ? 1u : sx < 0 ? 0xFFFFFFFFu : 0u);
    expect("lt mask", x, lt_mask(x, y), x < y ? 0xFFFFFFFFu : 0u);
    expect("sar", x, (uint32_t)(sx >> n), sx < 0 ? ~(~x >> n) : x >> n);
}

int kmain(const struct multiboot_info *mbi)
{
    (void)mbi;
    static const uint32_t edges[] = {0, 1, 2, 0x80000000u, 0xFFFFFFFFu, 0x7FFFFFFFu,
                                     0x00010000u, 0x0000FFFFu, 0xAAAAAAAAu, 0x55555555u};
    for (unsigned i = 0; i < sizeof edges / sizeof edges[0]; i++)
        for (unsigned j = 0; j < sizeof edges / sizeof edges[0]; j++)
            one(edges[i], edges[j]);
    uint32_t s = 0xB175B175;
    for (unsigned i = 0; i < 2000; i++) {
        uint32_t x = xorshift32(&s), y = xorshift32(&s);
        one(x >> (i % 32), y); /* shorter values too, so low bit counts get covered */
    }
    bitstring[0] |= 1u << 5;
    bitstring[1] &= ~(1u << 5);
    check("bt $37 reads bit 5 of dword 0", bt_imm_mem(), 3);
    bitstring[0] &= ~(1u << 5);
    bitstring[1] |= 1u << 5;
    check("bt $37 ignores dword 1", bt_imm_mem(), 0);
    check("bts $5 sets bit 5", bitstring[0] & (1u << 5), 1u << 5);
    check("mismatches", bad, 0);
    check("result hash", hash, 0x1479A47B);
    return rt_finish("bitops");
}
