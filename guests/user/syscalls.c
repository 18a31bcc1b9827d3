/* syscalls: the system-call interface at work.
 *
 * 1. 1000 getpid() calls, 500 through int $0x80 and 500 through sysenter, with the cost of
 *    each kind measured by RDTSC (on Ringside: instructions per round trip).
 * 2. Bad arguments: each gets an error result, and the program (and the kernel) carry on.
 * 3. sleep() and uptime(); sbrk() for heap memory.
 */
#include "ulib.h"

#define CALLS 500

static void show(const char *what, long r)
{
    printf("syscalls: %-40s = %d (%s)\n", what, (int)r, errname(r));
}

int main(void)
{
    int pid = getpid(), bad = 0;
    uint64_t t0 = rdtsc();
    for (int i = 0; i < CALLS; i++)
        bad += syscall_int80(SYS_GETPID, 0, 0, 0) != pid;
    uint64_t t1 = rdtsc();
    for (int i = 0; i < CALLS; i++)
        bad += syscall_sysenter(SYS_GETPID, 0, 0, 0) != pid;
    uint64_t t2 = rdtsc();
    printf("syscalls: %d getpid calls (%d by int $0x80, %d by sysenter): %d wrong results\n",
           2 * CALLS, CALLS, CALLS, bad);
    printf("syscalls: tsc per call: int $0x80 %u, sysenter %u\n", (unsigned)((t1 - t0) / CALLS),
           (unsigned)((t2 - t1) / CALLS));

    /* Pointers the kernel must refuse: NULL, kernel memory, our own read-only code (as a
     * buffer to read into), a range running off the end of user space. */
    char buf[16];
    show("write(1, NULL, 5)", write(1, (void *)0, 5));
    show("write(1, 0x00100000 (kernel), 16)", write(1, (void *)0x00100000, 16));
    show("read(0, main (read-only code), 8)", read(0, (void *)main, 8));
    show("write(1, buf, 0x7fffffff)", write(1, buf, 0x7fffffff));
    show("write(7, buf, 1)", write(7, buf, 1));
    show("write(0, buf, 1) (0 is input only)", write(0, buf, 1));
    show("spawn(0xc0000000)", spawn((const char *)0xC0000000u));
    show("spawn(\"nosuch\")", spawn("nosuch"));
    show("wait(4242)", wait(4242));
    show("grant(0x20, 2) (the PIC)", grant(0x20, 2));
    show("syscall 99", syscall_int80(99, 0, 0, 0));
    show("syscall 99 by sysenter", syscall_sysenter(99, 0, 0, 0));

    /* sleep: other processes (or the idle loop) run meanwhile. */
    unsigned before = uptime();
    sleep(5);
    unsigned after = uptime();
    printf("syscalls: sleep(5) from tick %u to tick %u: %s\n", before, after,
           after - before >= 5 ? "ok" : "TOO SHORT");

    /* sbrk: 3 pages of fresh, zeroed heap; then more than the kernel allows. */
    char *heap = sbrk(3 * 4096);
    unsigned zero = 1;
    for (int i = 0; i < 3 * 4096; i++)
        zero &= heap[i] == 0;
    heap[0] = 'x';
    heap[3 * 4096 - 1] = 'y';
    printf("syscalls: sbrk(12288) gave %p, zeroed: %s\n", (void *)heap, zero ? "yes" : "NO");
    show("sbrk(64 MiB)", (long)sbrk(64L << 20));
    return bad != 0;
}
