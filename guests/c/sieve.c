/* Guest: sieve of Eratosthenes, byte and bit representations, at several limits.
 * pi(100000) = 9592, the sum of the primes below 100000 is 454396537, the largest is 99991. */
#include "rt.h"
#include "sieve.h"

static void one(uint32_t limit, uint32_t count, uint32_t sum, uint32_t largest)
{
    struct sieve_result b = sieve_bytes(limit);
    struct sieve_result k = sieve_bits(limit);
    rt_printf("primes below %u: %u, sum %u, largest %u\n", limit, b.count, b.sum, b.largest);
    check_quiet("byte sieve count", b.count, count);
    check_quiet("byte sieve sum", b.sum, sum);
    check_quiet("byte sieve largest", b.largest, largest);
    check_quiet("bit sieve count", k.count, count);
    check_quiet("bit sieve sum", k.sum, sum);
    check_quiet("bit sieve largest", k.largest, largest);
}

int kmain(const struct multiboot_info *mbi)
{
    (void)mbi;
    one(2, 0, 0, 0);
    one(3, 1, 2, 2);
    one(10, 4, 17, 7);
    one(1000, 168, 76127, 997);
    one(10000, 1229, 5736396, 9973);
    one(100000, 9592, 454396537, 99991);
    return rt_finish("sieve");
}
