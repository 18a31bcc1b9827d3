/* sysbench: ring round trips for the benchmark (guests/bench/run-syscall-bench.sh). Makes N
 * getpid calls through int $0x80, then N through sysenter (N = the first argument, default
 * 100000), and prints how many instructions one round trip took each way (RDTSC counts
 * instructions in Ringside). The host's time per round trip is measured around it. */
#include "ulib.h"

static unsigned parse(const char *s)
{
    unsigned v = 0;
    while (*s >= '0' && *s <= '9')
        v = v * 10 + (unsigned)(*s++ - '0');
    return v;
}

static uint64_t loop(unsigned n)
{
    uint64_t t0 = rdtsc();
    for (unsigned k = 0; k < n; k++)
        getpid();
    return rdtsc() - t0;
}

int main(int argc, char **argv)
{
    unsigned n = argc > 1 ? parse(argv[1]) : 100000;
    if (n == 0)
        n = 1;
    use_sysenter = 0;
    uint64_t a = loop(n);
    use_sysenter = 1;
    uint64_t b = loop(n);
    printf("sysbench: %u round trips each way; instructions per round trip: int $0x80 %u, "
           "sysenter %u\n", n, (unsigned)(a / n), (unsigned)(b / n));
    return 0;
}
