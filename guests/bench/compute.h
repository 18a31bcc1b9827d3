/* The compute workload shared by bench.c (the compute benchmark) and ringbench.c (its ring-3
 * compute workload beside QEMU): one round fills a buffer with xorshift32, CRC-32s it,
 * multiplies two small integer matrices, walks Collatz sequences and insertion-sorts a short
 * array. Included by one file of each guest (the functions are static). */
#ifndef RINGSIDE_GUEST_BENCH_COMPUTE_H
#define RINGSIDE_GUEST_BENCH_COMPUTE_H

#include "crc32.h"

#define WORDS 2048u /* 8 KiB buffer */
#define DIM 20u     /* matrix size */
#define SORTN 64u

static uint32_t buf[WORDS];
static int32_t ma[DIM][DIM], mb[DIM][DIM], mc[DIM][DIM];
static uint32_t sortbuf[SORTN];

static uint32_t matmul(uint32_t seed)
{
    for (uint32_t i = 0; i < DIM; i++)
        for (uint32_t j = 0; j < DIM; j++) {
            ma[i][j] = (int32_t)(xorshift32(&seed) >> 20) - 2048;
            mb[i][j] = (int32_t)(xorshift32(&seed) >> 20) - 2048;
        }
    uint32_t sum = 0;
    for (uint32_t i = 0; i < DIM; i++)
        for (uint32_t j = 0; j < DIM; j++) {
            int32_t acc = 0;
            for (uint32_t k = 0; k < DIM; k++)
                acc += ma[i][k] * mb[k][j];
            mc[i][j] = acc;
            sum = sum * 33 + (uint32_t)acc;
        }
    return sum;
}

/* Total steps of the Collatz sequences of start .. start+count-1 (branchy code). */
static uint32_t collatz(uint32_t start, uint32_t count)
{
    uint32_t steps = 0;
    for (uint32_t n = start; n < start + count; n++) {
        uint32_t x = n;
        while (x != 1) {
            x = (x & 1) ? 3 * x + 1 : x >> 1;
            steps++;
        }
    }
    return steps;
}

static uint32_t sort_short(uint32_t seed)
{
    for (uint32_t i = 0; i < SORTN; i++)
        sortbuf[i] = xorshift32(&seed);
    for (uint32_t i = 1; i < SORTN; i++) {
        uint32_t v = sortbuf[i], j = i;
        while (j > 0 && sortbuf[j - 1] > v) {
            sortbuf[j] = sortbuf[j - 1];
            j--;
        }
        sortbuf[j] = v;
    }
    return sortbuf[0] ^ sortbuf[SORTN / 2] ^ sortbuf[SORTN - 1];
}

static uint32_t round_work(uint32_t r)
{
    uint32_t seed = 0x9E3779B9u ^ (r * 0x85EBCA6Bu);
    if (seed == 0)
        seed = 1;
    for (uint32_t i = 0; i < WORDS; i++)
        buf[i] = xorshift32(&seed);
    uint32_t h = crc32_update(r, buf, sizeof buf);
    h = h * 31 + matmul(seed);
    h = h * 31 + collatz(1000 + r * 97, 300);
    h = h * 31 + sort_short(seed ^ h);
    return h;
}

#endif
