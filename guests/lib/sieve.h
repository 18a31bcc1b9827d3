/* Sieve of Eratosthenes over [0, limit): one byte per number, and a bit-packed variant. */
#ifndef GUEST_SIEVE_H
#define GUEST_SIEVE_H

#include <stdint.h>

#define SIEVE_MAX 100000u /* largest limit the static arrays allow */

struct sieve_result {
    uint32_t count;   /* primes below limit */
    uint32_t sum;     /* their sum (mod 2^32) */
    uint32_t largest; /* the largest one, 0 if none */
};

/* Byte sieve: composite[i] = 1 for composite i. */
struct sieve_result sieve_bytes(uint32_t limit);
/* Bit sieve over odd numbers only, one bit each, words of 32 bits. */
struct sieve_result sieve_bits(uint32_t limit);

#endif
