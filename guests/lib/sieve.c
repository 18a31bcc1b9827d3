/* Sieve of Eratosthenes, two representations. */
#include "sieve.h"

static uint8_t composite[SIEVE_MAX];
static uint32_t odd_composite[(SIEVE_MAX / 2 + 31) / 32];

static void add(struct sieve_result *r, uint32_t p)
{
    r->count++;
    r->sum += p;
    r->largest = p;
}

struct sieve_result sieve_bytes(uint32_t limit)
{
    struct sieve_result r = {0, 0, 0};
    if (limit > SIEVE_MAX)
        limit = SIEVE_MAX;
    for (uint32_t i = 0; i < limit; i++)
        composite[i] = 0;
    for (uint32_t i = 2; i < limit; i++) {
        if (composite[i])
            continue;
        add(&r, i);
        for (uint32_t j = i * i; i < 65536 && j < limit; j += i)
            composite[j] = 1;
    }
    return r;
}

/* Bit k of odd_composite stands for the number 2k+1. */
struct sieve_result sieve_bits(uint32_t limit)
{
    struct sieve_result r = {0, 0, 0};
    if (limit > SIEVE_MAX)
        limit = SIEVE_MAX;
    uint32_t bits = limit / 2;
    for (uint32_t w = 0; w < (bits + 31) / 32; w++)
        odd_composite[w] = 0;
    if (limit > 2)
        add(&r, 2);
    for (uint32_t k = 1; k < bits; k++) {
        if (odd_composite[k >> 5] & (1u << (k & 31)))
            continue;
        uint32_t p = 2 * k + 1;
        if (p >= limit)
            break;
        add(&r, p);
        for (uint32_t m = (p * p) / 2; p < 65536 && m < bits; m += p)
            odd_composite[m >> 5] |= 1u << (m & 31);
    }
    return r;
}
