/* Guest: 64-bit arithmetic on a 32-bit CPU, i.e. through the compiler's helpers (__udivdi3,
 * __umoddi3, __divdi3, __moddi3 from libgcc) and the inline sequences gcc emits for 64-bit
 * multiply (mul/imul + add), shifts (shld/shrd + test $32 + cmov) and add/sub (adc/sbb).
 * Expected values were computed on the host with Python's integers (C truncating division). */
#include "rt.h"

struct udiv_case {
    uint64_t a, b, q, r;
};
struct sdiv_case {
    int64_t a, b, q, r;
};

/* {a, b, a / b, a % b} */
static const struct udiv_case udiv_cases[] = {
    {0xdda79f4dc1aca07ull, 0x3039ull, 0x498b35202a5cull, 0x1b8bull},
    {0xffffffffffffffffull, 0x1ull, 0xffffffffffffffffull, 0x0ull},
    {0xffffffffffffffffull, 0x2ull, 0x7fffffffffffffffull, 0x1ull},
    {0xffffffffffffffffull, 0x3ull, 0x5555555555555555ull, 0x0ull},
    {0xffffffffffffffffull, 0xffffffffffffffffull, 0x1ull, 0x0ull},
    {0xffffffffffffffffull, 0x100000000ull, 0xffffffffull, 0xffffffffull},
    {0xffffffffffffffffull, 0xffffffffull, 0x100000001ull, 0x0ull},
    {0x123456789abcdef0ull, 0x100000000ull, 0x12345678ull, 0x9abcdef0ull},
    {0x123456789abcdef0ull, 0xfedcba98ull, 0x12492492ull, 0x51451440ull},
    {0x8000000000000000ull, 0x8000000000000001ull, 0x0ull, 0x8000000000000000ull},
    {0x5ull, 0x7ull, 0x0ull, 0x5ull},
    {0x0ull, 0x9ull, 0x0ull, 0x0ull},
    {0xfffffffeffffffffull, 0xffffffffull, 0xffffffffull, 0xfffffffeull},
    {0x100000000ull, 0x100000001ull, 0x0ull, 0x100000000ull},
    {0x21c3677c82b40000ull, 0x13077775800ull, 0x1c6380ull, 0x0ull},
    {0xdeadbeefcafebabeull, 0x1337ull, 0xb96c170dee67cull, 0x21aull},
};
/* {a, b, a / b, a % b}, C's truncating division (INT64_MIN / -1 left out: it overflows) */
static const struct sdiv_case sdiv_cases[] = {
    {-7, 2, -3, -1},
    {7, -2, -3, 1},
    {-7, -2, 3, -1},
    {7, 2, 3, 1},
    {INT64_MIN, 1, INT64_MIN, 0},
    {INT64_MIN, 2, -4611686018427387904ll, 0},
    {INT64_MIN, -3, 3074457345618258602ll, -2},
    {INT64_MAX, -1, -9223372036854775807ll, 0},
    {-1000000000000ll, 999, -1001001001, -1},
    {123456789012345ll, -1000000, -123456789, 12345},
    {-1, INT64_MAX, 0, -1},
    {-9223372036854775807ll, INT64_MAX, -1, 0},
};

/* The hash (the expected values come from the same formula on Python integers): rotate left
 * by 7, xor in the value. */
static uint64_t mix(uint64_t h, uint64_t v)
{
    return ((h << 7) | (h >> 57)) ^ v;
}

static uint64_t lcg_state = 0x0123456789ABCDEFull;

static uint64_t lcg_next(void)
{
    lcg_state = lcg_state * 6364136223846793005ull + 1442695040888963407ull;
    return lcg_state;
}

int kmain(const struct multiboot_info *mbi)
{
    (void)mbi;
    unsigned bad = 0;
    for (unsigned i = 0; i < sizeof udiv_cases / sizeof udiv_cases[0]; i++) {
        uint64_t a = udiv_cases[i].a, b = udiv_cases[i].b;
        OPAQUE(a);
        OPAQUE(b);
        uint64_t q = a / b, r = a % b;
        if (q != udiv_cases[i].q || r != udiv_cases[i].r) {
            bad++;
            rt_printf("FAIL %llx / %llx = %llx rem %llx (want %llx rem %llx)\n", a, b, q, r,
                      udiv_cases[i].q, udiv_cases[i].r);
        }
    }
    check("unsigned division cases failed", bad, 0);

    bad = 0;
    for (unsigned i = 0; i < sizeof sdiv_cases / sizeof sdiv_cases[0]; i++) {
        int64_t a = sdiv_cases[i].a, b = sdiv_cases[i].b;
        OPAQUE(a);
        OPAQUE(b);
        int64_t q = a / b, r = a % b;
        if (q != sdiv_cases[i].q || r != sdiv_cases[i].r) {
            bad++;
            rt_printf("FAIL %lld / %lld = %lld rem %lld (want %lld rem %lld)\n", a, b, q, r,
                      sdiv_cases[i].q, sdiv_cases[i].r);
        }
    }
    check("signed division cases failed", bad, 0);

    /* 200 pseudo-random pairs, divisor shifted right by 0..63 bits (never 0). */
    uint64_t h = 0;
    for (unsigned i = 0; i < 200; i++) {
        uint64_t a = lcg_next();
        uint64_t b = lcg_next() >> (i % 64);
        if (b == 0)
            b = 1;
        h = mix(h, a / b);
        h = mix(h, a % b);
        int64_t sa = (int64_t)a, sb = (int64_t)b;
        h = mix(h, (uint64_t)(sa / sb));
        h = mix(h, (uint64_t)(sa % sb));
        h = mix(h, a * b);
    }
    check64("div/mod/mul hash", h, 0xeabba7142b6237bbull);
    check64("lcg state", lcg_state, 0xa3bbb5c2eb84477full);

    /* Shifts by every count 0..63, logical and arithmetic. */
    h = 0;
    uint64_t v = 0xF0E1D2C3B4A59687ull;
    for (unsigned n = 0; n < 64; n++) {
        unsigned k = n;
        OPAQUE(k);
        h = mix(h, v << k);
        h = mix(h, v >> k);
        h = mix(h, (uint64_t)((int64_t)v >> k));
    }
    check64("shift hash", h, 0xd8a8d4b1eb9be782ull);

    /* 32x32 -> 64 multiplies, unsigned (mul) and signed (imul). */
    h = 0;
    uint32_t a = 0x9E3779B9;
    for (uint32_t i = 0; i < 100; i++) {
        uint32_t b = a * 2654435761u + i;
        h = mix(h, (uint64_t)a * b);
        h = mix(h, (uint64_t)((int64_t)(int32_t)a * (int32_t)b));
        a = b;
    }
    check64("mul32 hash", h, 0x6ab01835b49f9275ull);

    uint64_t f = 1;
    for (uint32_t i = 2; i <= 20; i++)
        f *= i;
    rt_printf("20! = %llu\n", f);
    check64("20!", f, 2432902008176640000ull);
    check64("20! / 15!", f / 1307674368000ull, 1860480);

    uint64_t x = 0, y = 1;
    for (unsigned i = 0; i < 90; i++) {
        uint64_t t = x + y;
        x = y;
        y = t;
    }
    rt_printf("fib(90) = %llu\n", x);
    check64("fib(90)", x, 2880067194370816120ull);

    int64_t neg = -(int64_t)x;
    rt_printf("-fib(90) = %lld\n", neg);
    check64("-fib(90) / 1000000007", (uint64_t)(neg / 1000000007), (uint64_t)-2880067174ll);

    return rt_finish("arith64");
}
