/* tlbbench: TLB misses for the benchmark (guests/bench/run-tlb-bench.sh). Reads one word of each
 * of 512 heap pages, round after round (N rounds = the first argument, default 200): twice as
 * many pages as Ringside's TLB has entries, which it maps by the low 8 bits of the page number,
 * so every read misses and walks the page tables. Prints the instructions per read (RDTSC counts
 * instructions in Ringside) and a checksum; the host's time per read is measured around it. */
#include "ulib.h"

#define PAGES 512u

static unsigned parse(const char *s)
{
    unsigned v = 0;
    while (*s >= '0' && *s <= '9')
        v = v * 10 + (unsigned)(*s++ - '0');
    return v;
}

int main(int argc, char **argv)
{
    unsigned rounds = argc > 1 ? parse(argv[1]) : 200;
    if (rounds == 0)
        rounds = 1;
    volatile uint32_t *mem = sbrk(PAGES * 4096);
    if (IS_ERR(mem)) {
        printf("tlbbench: no memory\n");
        return 1;
    }
    for (unsigned p = 0; p < PAGES; p++)
        mem[p * 1024] = p; /* the dirty bits are set once, before the clock starts */
    uint32_t sum = 0;
    uint64_t t0 = rdtsc();
    for (unsigned r = 0; r < rounds; r++)
        for (unsigned p = 0; p < PAGES; p++)
            sum += mem[p * 1024];
    uint64_t t = rdtsc() - t0;
    printf("tlbbench: %u rounds over %u pages; instructions per read: %u; checksum %u\n", rounds,
           PAGES, (unsigned)(t / ((uint64_t)rounds * PAGES)), (unsigned)sum);
    return 0;
}
