/* The guests' tiny runtime.
 *
 * Console: the 16550 UART at 0x3F8, by polling (wait for LSR bit 5 "THR empty", write THR).
 * Exit: QEMU's isa-debug-exit at port 0xF4; the emulator (or QEMU) exits with status
 * (value << 1) | 1, so rt_exit(0) ("pass") gives status 1.
 * Checks: check()/check64() print one line per result and count mismatches; rt_finish() prints
 * the verdict and returns the exit value (0 = pass, else the number of failed checks).
 *
 * The I/O half lives in rt_io.c, the rest in rt.c, so a host harness can reuse rt.c.
 */
#ifndef GUEST_RT_H
#define GUEST_RT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* Multiboot v1 information block (the fields the guests read). */
struct multiboot_info {
    uint32_t flags;       /* which of the fields below are valid */
    uint32_t mem_lower;   /* KiB below 1 MiB          (flags bit 0) */
    uint32_t mem_upper;   /* KiB above 1 MiB          (flags bit 0) */
    uint32_t boot_device; /*                          (flags bit 1) */
    uint32_t cmdline;     /* physical address, NUL-terminated (flags bit 2) */
    uint32_t mods_count;  /*                          (flags bit 3) */
    uint32_t mods_addr;
};
#define MBI_MEM     0x00000001u /* mem_lower / mem_upper valid */
#define MBI_CMDLINE 0x00000004u /* cmdline valid */

#define UART_THR 0x3F8     /* transmit holding register (write) */
#define UART_LSR 0x3FD     /* line status register */
#define UART_LSR_THRE 0x20 /* THR empty: a byte may be written */
#define DEBUG_EXIT_PORT 0xF4

/* Each guest defines this; its return value is the exit value (0 = pass). */
int kmain(const struct multiboot_info *mbi);

/* rt_io.c: the hardware half. */
void rt_putc(char c);
_Noreturn void rt_exit(uint32_t value);
_Noreturn void rt_bad_magic(uint32_t eax);

/* rt.c: formatting and checks. */
void rt_puts(const char *s);                /* no newline added */
void rt_printf(const char *fmt, ...);       /* %c %s %d %u %x %p, width, '0', 'll' */
void rt_vprintf(const char *fmt, va_list ap);
void check(const char *what, uint32_t got, uint32_t want);
void check64(const char *what, uint64_t got, uint64_t want);
void check_quiet(const char *what, uint32_t got, uint32_t want); /* prints only on mismatch */
void check_str(const char *what, const char *got, const char *want); /* "what = got ok" */
unsigned rt_failures(void);
int rt_finish(const char *name);           /* prints "NAME: PASS" or "NAME: FAIL (n)" */

/* Freestanding libc subset; gcc may emit calls to the first four on its own. The runtime's
 * versions are weak, so a guest (string) can supply its own. */
void *memset(void *dst, int c, size_t n);
void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

/* A value the optimiser cannot see through (keeps -O2 from folding a test away). */
#define OPAQUE(x) __asm__ volatile("" : "+r"(x))

/* The guests' shared pseudo-random generator (Marsaglia xorshift32; state never 0). */
static inline uint32_t xorshift32(uint32_t *state)
{
    uint32_t x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *state = x;
    return x;
}

#endif
