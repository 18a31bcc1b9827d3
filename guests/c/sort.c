/* Guest: sort 2000 pseudo-random 32-bit values with a generic quicksort (comparator called
 * through a function pointer, byte-wise swaps) and with insertion sort, as signed and as
 * unsigned; check that every result is sorted, that both sorts agree, and that a position-
 * weighted checksum matches the one computed on the host. */
#include "rt.h"

#define N 2000u

static int32_t orig[N], qs[N], ins[N];
static uint32_t uqs[N], uins[N];
static unsigned compares;

typedef int (*cmp_fn)(const void *, const void *);

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    compares++;
    return (x > y) - (x < y);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    compares++;
    return (x > y) - (x < y);
}

static void swap_bytes(unsigned char *a, unsigned char *b, size_t size)
{
    while (size--) {
        unsigned char t = *a;
        *a++ = *b;
        *b++ = t;
    }
}

/* Hoare partition around the median of three; recurses on the smaller side. */
static void quicksort(void *base, size_t n, size_t size, cmp_fn cmp)
{
    unsigned char *a = base;
    while (n > 1) {
        unsigned char *lo = a, *mid = a + (n / 2) * size, *hi = a + (n - 1) * size;
        if (cmp(mid, lo) < 0)
            swap_bytes(mid, lo, size);
        if (cmp(hi, mid) < 0) {
            swap_bytes(hi, mid, size);
            if (cmp(mid, lo) < 0)
                swap_bytes(mid, lo, size);
        }
        /* The pivot goes to position 0 so the scans below cannot run off either end. */
        swap_bytes(a, mid, size);
        size_t i = 0, j = n;
        for (;;) {
            do
                i++;
            while (i < n && cmp(a + i * size, a) < 0);
            do
                j--;
            while (cmp(a + j * size, a) > 0);
            if (i >= j)
                break;
            swap_bytes(a + i * size, a + j * size, size);
        }
        swap_bytes(a, a + j * size, size);
        size_t left = j, right = n - j - 1;
        if (left < right) {
            quicksort(a, left, size, cmp);
            a += (j + 1) * size;
            n = right;
        } else {
            quicksort(a + (j + 1) * size, right, size, cmp);
            n = left;
        }
    }
}

static void insertion_i32(int32_t *a, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        int32_t v = a[i];
        size_t j = i;
        while (j > 0 && a[j - 1] > v) {
            a[j] = a[j - 1];
            j--;
        }
        a[j] = v;
    }
}

static void insertion_u32(uint32_t *a, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        uint32_t v = a[i];
        size_t j = i;
        while (j > 0 && a[j - 1] > v) {
            a[j] = a[j - 1];
            j--;
        }
        a[j] = v;
    }
}

/* sum over i of a[i] * (i + 1), mod 2^32: depends on the order, not only the contents. */
static uint32_t weighted(const uint32_t *a, size_t n)
{
    uint32_t s = 0;
    for (size_t i = 0; i < n; i++)
        s += a[i] * (uint32_t)(i + 1);
    return s;
}

static uint32_t unsorted_pairs_i32(const int32_t *a, size_t n)
{
    uint32_t bad = 0;
    for (size_t i = 1; i < n; i++)
        bad += a[i - 1] > a[i];
    return bad;
}

static uint32_t unsorted_pairs_u32(const uint32_t *a, size_t n)
{
    uint32_t bad = 0;
    for (size_t i = 1; i < n; i++)
        bad += a[i - 1] > a[i];
    return bad;
}

int kmain(const struct multiboot_info *mbi)
{
    (void)mbi;
    uint32_t s = 0xC0FFEE11;
    for (uint32_t i = 0; i < N; i++) {
        orig[i] = (int32_t)xorshift32(&s);
        if (i % 7 == 3) /* some duplicates */
            orig[i] = orig[i / 2];
    }
    check("input checksum", weighted((const uint32_t *)orig, N), 0x3D97A4A0);

    memcpy(qs, orig, sizeof qs);
    memcpy(ins, orig, sizeof ins);
    memcpy(uqs, orig, sizeof uqs);
    memcpy(uins, orig, sizeof uins);

    quicksort(qs, N, sizeof qs[0], cmp_i32);
    rt_printf("signed quicksort: %u compares\n", compares);
    insertion_i32(ins, N);
    check("signed quicksort unsorted pairs", unsorted_pairs_i32(qs, N), 0);
    check("signed insertion unsorted pairs", unsorted_pairs_i32(ins, N), 0);
    check("signed sorts differ at", (uint32_t)memcmp(qs, ins, sizeof qs), 0);
    check("signed min", (uint32_t)qs[0], 0x803FA87F);
    check("signed median", (uint32_t)qs[N / 2], 0x04258B66);
    check("signed max", (uint32_t)qs[N - 1], 0x7FE2AE08);
    check("signed checksum", weighted((const uint32_t *)qs, N), 0xBA9D52C9);

    compares = 0;
    quicksort(uqs, N, sizeof uqs[0], cmp_u32);
    rt_printf("unsigned quicksort: %u compares\n", compares);
    insertion_u32(uins, N);
    check("unsigned quicksort unsorted pairs", unsorted_pairs_u32(uqs, N), 0);
    check("unsigned insertion unsorted pairs", unsorted_pairs_u32(uins, N), 0);
    check("unsigned sorts differ at", (uint32_t)memcmp(uqs, uins, sizeof uqs), 0);
    check("unsigned min", uqs[0], 0x0013CA0F);
    check("unsigned max", uqs[N - 1], 0xFFE20249);
    check("unsigned checksum", weighted(uqs, N), 0xE94EB2E1);

    return rt_finish("sort");
}
