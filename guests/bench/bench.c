/* Guest: the compute-bound benchmark. BENCH_ROUNDS rounds of integer work that looks like
 * what the other guests do (fill a buffer with xorshift32, CRC-32 it, multiply two small
 * integer matrices, walk Collatz sequences, insertion-sort a short array), about 383,000
 * instructions a round at -O2; the default 1300 rounds are about 500 million instructions
 * (measured with callgrind on the same code run natively), 2-5 seconds at 100-300 MIPS.
 * It prints a checksum and checks it against the value the host CPU computes for the same
 * number of rounds.
 *
 * Speed is measured by running it (bench/run-bench.sh or `make bench`), never by a test;
 * bench-short (8 rounds) is the correctness test of the same code. */
#include "crc32.h"
#include "rt.h"

#ifndef BENCH_ROUNDS
#define BENCH_ROUNDS 1300
#endif

/* The checksums the host CPU computes (see the file comment), by round count. */
#if BENCH_ROUNDS == 1300
#define BENCH_EXPECT 0xEDA7DC57u
#elif BENCH_ROUNDS == 8
#define BENCH_EXPECT 0x04CA66EEu
#endif

#include "compute.h"

int kmain(const struct multiboot_info *mbi)
{
    (void)mbi;
    uint32_t sum = 0;
    for (uint32_t r = 0; r < BENCH_ROUNDS; r++)
        sum = ((sum << 3) | (sum >> 29)) ^ round_work(r);
    rt_printf("bench: %u rounds, checksum %08x\n", (uint32_t)BENCH_ROUNDS, sum);
#ifdef BENCH_EXPECT
    check("bench checksum", sum, BENCH_EXPECT);
#else
    rt_printf("bench: no expected checksum for this round count\n");
#endif
    return rt_finish("bench");
}
