/* compute: a CPU-bound program. CRC-32 of a pseudo-random buffer, several rounds, then a sieve
 * of Eratosthenes in heap memory. It never yields: when it shares the cpu, it is the timer that
 * takes the cpu away from it. Each progress line shows the uptime, so the gaps show when other
 * processes ran.
 *
 *   compute [ROUNDS]     (default 8 rounds of 64 KiB)
 */
#include "ulib.h"

#define BUF_SIZE (64 * 1024)
#define SIEVE_N 200000

static uint8_t buf[BUF_SIZE];
static uint32_t table[256];

static void crc_init(void)
{
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        table[n] = c;
    }
}

static uint32_t crc32(uint32_t crc, const uint8_t *p, size_t n)
{
    crc = ~crc;
    while (n--)
        crc = table[(crc ^ *p++) & 0xFF] ^ (crc >> 8);
    return ~crc;
}

static unsigned parse(const char *s)
{
    unsigned v = 0;
    while (*s >= '0' && *s <= '9')
        v = v * 10 + (unsigned)(*s++ - '0');
    return v;
}

int main(int argc, char **argv)
{
    unsigned rounds = argc > 1 ? parse(argv[1]) : 8;
    int pid = getpid();
    crc_init();
    uint32_t crc = 0, x = 2463534242u; /* xorshift32 state */
    printf("compute[%d]: %u rounds of CRC-32 over %u KiB (tick %u)\n", pid, rounds,
           BUF_SIZE / 1024, uptime());
    for (unsigned r = 1; r <= rounds; r++) {
        for (int i = 0; i < BUF_SIZE; i++) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            buf[i] = (uint8_t)x;
        }
        crc = crc32(crc, buf, BUF_SIZE);
        printf("compute[%d]: round %u crc32 0x%08x (tick %u)\n", pid, r, crc, uptime());
    }

    uint8_t *composite = sbrk(SIEVE_N);
    if (IS_ERR(composite)) {
        printf("compute[%d]: sbrk failed: %s\n", pid, errname((long)composite));
        return 1;
    }
    unsigned count = 0, largest = 0;
    for (unsigned i = 2; i < SIEVE_N; i++) {
        if (composite[i])
            continue;
        count++;
        largest = i;
        for (unsigned j = i * 2; j < SIEVE_N; j += i)
            composite[j] = 1;
    }
    printf("compute[%d]: %u primes below %u, the largest %u (tick %u)\n", pid, count, SIEVE_N,
           largest, uptime());
    return 0;
}
