/* Guest: 16-bit operand size (0x66 prefix) and high-byte registers. The instructions are in
 * c/op16.S; this file feeds them edge and pseudo-random values and computes each expected
 * result in C. A 16-bit write must leave bits 16..31 of its register alone; immediates after
 * 0x66 are 2 bytes (imm16) and pushw/popw move ESP by 2. */
#include "rt.h"

uint32_t op16_add(uint32_t a, uint32_t b);
uint32_t op16_adc_chain(uint16_t *dst, const uint16_t *a, const uint16_t *b, uint32_t n);
uint32_t op16_mul(uint32_t a, uint32_t b);
uint32_t op16_imul(uint32_t a, uint32_t b);
uint32_t op16_div(uint32_t dx_ax, uint32_t divisor);
uint32_t op16_idiv(uint32_t dx_ax, uint32_t divisor);
uint32_t op16_imul3(uint32_t a);
uint32_t op16_imm(uint32_t a);
uint32_t op16_imm_mix(void);
uint32_t op16_pushpop(uint32_t a);
void op16_ext(uint32_t out[8], uint32_t a);
void op16_atomics(uint32_t out[6], uint32_t a, uint32_t b);
void op16_shifts(uint32_t out[7], uint32_t a, uint32_t count);
uint32_t op16_bits(uint32_t out[3], uint32_t a, uint32_t bit);
uint32_t op16_strings(uint32_t *found, uint32_t *diff);
uint32_t op16_unary(uint32_t a, uint32_t op, uint32_t *whole);
uint32_t op16_lea(uint32_t a, uint32_t b);
uint32_t op8_high(uint32_t a);

static unsigned bad, cases;

static void expect(const char *what, uint32_t a, uint32_t b, uint32_t got, uint32_t want)
{
    cases++;
    if (got != want) {
        bad++;
        if (bad <= 20)
            rt_printf("FAIL %s(%08x, %08x) = %08x, want %08x\n", what, a, b, got, want);
    }
}

static uint32_t hi(uint32_t x) { return x & 0xFFFF0000u; }
static uint32_t lo(uint32_t x) { return x & 0xFFFFu; }
static uint32_t sx8(uint32_t x) { return (uint32_t)(int32_t)(int8_t)(uint8_t)x; }
static uint32_t sx16(uint32_t x) { return (uint32_t)(int32_t)(int16_t)(uint16_t)x; }

static void one(uint32_t a, uint32_t b)
{
    expect("addw", a, b, op16_add(a, b), hi(a) | lo(a + b));
    expect("mulw", a, b, op16_mul(a, b), lo(a) * lo(b));
    expect("imulw", a, b, op16_imul(a, b), (uint32_t)((int32_t)sx16(a) * (int32_t)sx16(b)));

    /* divw: keep the quotient within 16 bits by dividing (dividend mod (divisor << 16)). */
    uint32_t d = lo(b) ? lo(b) : 7;
    uint32_t n = a % (d << 16);
    expect("divw", n, d, op16_div(n, d), (n % d) << 16 | (n / d));
    /* idivw: |quotient| < 2^15 when |dividend| < 2^15 * |divisor|. */
    int32_t sd = (int16_t)d;
    int32_t sn = (int32_t)(a % ((uint32_t)(sd < 0 ? -sd : sd) << 15));
    if (b & 1)
        sn = -sn;
    uint32_t q = (uint32_t)(sn / sd), r = (uint32_t)(sn % sd);
    expect("idivw", (uint32_t)sn, d, op16_idiv((uint32_t)sn, d), lo(r) << 16 | lo(q));

    expect("imulw imm", a, 0, op16_imul3(a),
           lo((uint32_t)((int32_t)sx16(a) * -300)) << 16 | lo((uint32_t)((int32_t)sx16(a) * 5)));

    uint32_t flags = op16_imm(a);
    uint32_t low = ((a | 0x1234) ^ (a & 0x0FF0) ^ (a - 3) ^ 0x5B5B ^ 0xBEEF) & 0xFFFF;
    expect("imm16 forms", a, 0, op16_imm_mix(), (hi(a) ^ 0xCAFE0000u) | low);
    expect("imm16 flags", a, 0, flags,
           ((a & 0x0FF0) >= 0x0800 ? 1u : 0u) | (((a - 3) & 0x8000) ? 2u : 0u));

    expect("pushw/popw", a, 0, op16_pushpop(a), 0x04340000u | lo(a));

    uint32_t ext[8];
    op16_ext(ext, a);
    expect("cbw", a, 0, ext[0], hi(a) | lo(sx8(a)));
    expect("cwde", a, 0, ext[1], sx16(a));
    expect("cwd", a, 0, ext[2], 0x77770000u | ((a & 0x8000) ? 0xFFFFu : 0));
    expect("cdq", a, 0, ext[3], (a & 0x80000000u) ? 0xFFFFFFFFu : 0);
    expect("movsbw", a, 0, ext[4], 0x55550000u | lo(sx8(a)));
    expect("movzbw", a, 0, ext[5], 0x55550000u | (a & 0xFF));
    expect("movswl", a, 0, ext[6], sx16(a));
    expect("movzwl", a, 0, ext[7], lo(a));

    uint32_t at[6];
    op16_atomics(at, a, b);
    uint32_t sum = lo(a + b);
    expect("xchgw ax", a, b, at[0], hi(a) | lo(b));
    expect("xchgw cx", a, b, at[1], hi(b) | lo(a));
    expect("xaddw reg", a, b, at[2], b);
    expect("xaddw mem", a, b, at[3], sum);
    expect("cmpxchgw", a, b, at[4], sum == 0x1111 ? 0x22220101u : 0x11110001u);
    expect("cmpxchgw ax", a, b, at[5], hi(a) | 0x1111);

    uint32_t c = b & 31, sh[7];
    op16_shifts(sh, a, c);
    uint32_t r16 = c & 15;
    uint32_t rol = lo(lo(a) << r16 | lo(a) >> (16 - r16));
    uint32_t ror = lo(lo(a) >> r16 | lo(a) << (16 - r16));
    expect("rolw", a, c, sh[3], hi(a) | rol);
    expect("rorw", a, c, sh[4], hi(a) | ror);
    if (c < 16) {
        expect("shlw", a, c, sh[0], hi(a) | lo(a << c));
        expect("shrw", a, c, sh[1], hi(a) | (lo(a) >> c));
        expect("sarw", a, c, sh[2], hi(a) | lo(sx16(a) >> c));
        uint32_t shld = c ? lo(a << c | (a >> 16) >> (16 - c)) : lo(a);
        uint32_t shrd = c ? lo(lo(a) >> c | a >> 16 << (16 - c)) : lo(a);
        expect("shldw", a, c, sh[5], hi(a) | shld);
        expect("shrdw", a, c, sh[6], hi(a) | shrd);
    }

    if (lo(a)) {
        uint32_t bits[3];
        uint32_t cfs = op16_bits(bits, a, c);
        uint32_t first = 0, last = 15;
        while (!(a >> first & 1))
            first++;
        while (!(lo(a) >> last & 1))
            last--;
        uint32_t bit = c & 15, old = a >> bit & 1;
        expect("bsfw", a, 0, bits[0], 0xFFFF0000u | first);
        expect("bsrw", a, 0, bits[1], 0xEEEE0000u | last);
        expect("btsw value", a, c, bits[2], a | 1u << bit);
        expect("btw/btsw CF", a, c, cfs, old | old << 8);
    }

    static const char *const unary[] = {"incw", "decw", "negw", "notw"};
    for (uint32_t op = 0; op < 4; op++) {
        uint32_t whole, x = lo(a), res, zf, sf, cf, of;
        uint32_t got = op16_unary(a, op, &whole);
        switch (op) {
        case 0:
            res = lo(x + 1), cf = 1, of = x == 0x7FFF;
            break;
        case 1:
            res = lo(x - 1), cf = 1, of = x == 0x8000;
            break;
        case 2:
            res = lo(0 - x), cf = x != 0, of = x == 0x8000;
            break;
        default:
            res = lo(~x), cf = 1, of = 0;
            break;
        }
        zf = op == 3 ? 0 : res == 0;
        sf = op == 3 ? 0 : res >> 15;
        expect(unary[op], a, 0, got, res | zf << 16 | sf << 17 | cf << 18 | of << 19);
        expect(unary[op], a, 1, whole, hi(a) | res);
    }

    expect("leaw", a, b, op16_lea(a, b), 0x9ABC0000u | lo(a + 2 * b + 0x1234));

    uint32_t b0 = a & 0xFF, b1 = a >> 8 & 0xFF, b2 = a >> 16 & 0xFF, b3 = a >> 24;
    expect("high bytes", a, 0, op8_high(a), ((b0 + b1) & 0xFF) << 16 | (b2 ^ b3) << 8 | b1);
}

int kmain(const struct multiboot_info *mbi)
{
    (void)mbi;
    static const uint32_t edges[] = {0, 1, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0x8001, 0xFFFF,
                                     0x10000, 0x1234FFFF, 0xFFFF0000u, 0xFFFFFFFFu, 0x80007FFFu,
                                     0x00011111u, 0xEEEE1110u, 16, 17, 31};
    const unsigned ne = sizeof edges / sizeof edges[0];
    for (unsigned i = 0; i < ne; i++)
        for (unsigned j = 0; j < ne; j++)
            one(edges[i], edges[j]);
    uint32_t s = 0x16B17161;
    for (unsigned i = 0; i < 1500; i++) {
        uint32_t a = xorshift32(&s), b = xorshift32(&s);
        one(a, b);
    }

    /* 64-bit add as four adcw steps; compare with the C 64-bit add. */
    uint32_t chain_bad = 0;
    for (unsigned i = 0; i < 200; i++) {
        uint64_t x = (uint64_t)xorshift32(&s) << 32 | xorshift32(&s);
        uint64_t y = i & 1 ? ~x + i : (uint64_t)xorshift32(&s) << 32 | xorshift32(&s);
        uint16_t xa[4], ya[4], za[4];
        for (int k = 0; k < 4; k++) {
            xa[k] = (uint16_t)(x >> 16 * k);
            ya[k] = (uint16_t)(y >> 16 * k);
        }
        uint32_t carry = op16_adc_chain(za, xa, ya, 4);
        uint64_t z = 0;
        for (int k = 0; k < 4; k++)
            z |= (uint64_t)za[k] << 16 * k;
        chain_bad += z != x + y || carry != (x + y < x);
    }
    check("adcw chain mismatches", chain_bad, 0);

    uint32_t found, diff;
    uint32_t sum = op16_strings(&found, &diff);
    check("repne scasw index", found, 40);
    check("repe cmpsw index", diff, 40);
    check("lodsw sum", sum, 63 * 0xA55Au + 0x1234u);

    rt_printf("%u 16-bit cases checked\n", cases);
    check("16-bit mismatches", bad, 0);
    return rt_finish("op16");
}
