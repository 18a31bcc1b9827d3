/* The bundled demo guest (until the demo kernel replaces it): says what Ringside is, runs a
 * few of the computations the test guests check, shows what the Multiboot loader passed
 * (command line, memory size) and exits through the debug-exit port with value 0 -- so
 * `ringside run demo.elf`, like QEMU with isa-debug-exit, exits with status (0 << 1) | 1 = 1.
 * A wrong result makes the value the number of wrong results instead. */
#include "crc32.h"
#include "rt.h"
#include "sieve.h"

static unsigned wrong;

static void result(const char *what, uint32_t got, uint32_t want)
{
    rt_printf("  %s = %u%s\n", what, got, got == want ? "" : "  (WRONG)");
    wrong += got != want;
}

static uint32_t fib32(uint32_t n)
{
    uint32_t a = 0, b = 1;
    while (n--) {
        uint32_t t = a + b;
        a = b;
        b = t;
    }
    return a;
}

int kmain(const struct multiboot_info *mbi)
{
    rt_puts("Ringside demo guest\n"
            "Ringside emulates a 32-bit x86 (IA-32) CPU with its privilege rings: CPL 0-3,\n"
            "segment and page protection, precise exceptions and interrupts, and a trace of\n"
            "every change of ring. This guest runs in ring 0: flat protected mode, paging off.\n");

    if (mbi->flags & MBI_CMDLINE)
        rt_printf("cmdline: \"%s\"\n", (const char *)(uintptr_t)mbi->cmdline);
    else
        rt_puts("cmdline: (none)\n");
    if (mbi->flags & MBI_MEM)
        rt_printf("memory: %u KiB below 1 MiB, %u KiB above\n", mbi->mem_lower, mbi->mem_upper);
    else
        rt_puts("memory: (not given)\n");

    rt_puts("Some integer work:\n");
    uint32_t crc = crc32_update(0, "123456789", 9);
    rt_printf("  crc32(\"123456789\") = %08x%s\n", crc, crc == 0xCBF43926 ? "" : "  (WRONG)");
    wrong += crc != 0xCBF43926;
    result("primes below 100000", sieve_bytes(100000).count, 9592);
    result("fib(46)", fib32(46), 1836311903);

    uint64_t f = 1;
    for (uint32_t i = 2; i <= 20; i++)
        f *= i;
    rt_printf("  20! = %llu\n", f);
    result("20! / 18! (64-bit division)", (uint32_t)(f / 6402373705728000ull), 380);

    if (wrong) {
        rt_printf("demo: %u wrong results\n", wrong);
        return (int)wrong;
    }
    rt_puts("demo: done, exiting with value 0 (status 1)\n");
    return 0;
}
