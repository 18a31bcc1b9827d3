/* The portable half of the guest runtime: printf, checks, memset/memcpy/memmove/memcmp/strlen.
 *
 * Nothing here divides a 64-bit value with '/' or '%': that would pull the libgcc helpers
 * (__udivdi3, ...) into every guest, and only the arith64 guest is meant to test them.
 */
#include "rt.h"

static unsigned failures;

void rt_puts(const char *s)
{
    while (*s)
        rt_putc(*s++);
}

/* Divides *v by 10 in place and returns the remainder, working in 16-bit limbs so that each
 * step is a 32-by-32 division. */
static unsigned divmod10(uint64_t *v)
{
    uint32_t hi = (uint32_t)(*v >> 32), lo = (uint32_t)*v;
    uint32_t limbs[4] = {hi >> 16, hi & 0xFFFF, lo >> 16, lo & 0xFFFF};
    uint32_t rem = 0;
    for (int i = 0; i < 4; i++) {
        uint32_t cur = (rem << 16) | limbs[i];
        limbs[i] = cur / 10;
        rem = cur % 10;
    }
    *v = ((uint64_t)((limbs[0] << 16) | limbs[1]) << 32) | ((limbs[2] << 16) | limbs[3]);
    return rem;
}

/* Writes one number: base 10 or 16, minimum width, pad char, sign. */
static void put_number(uint64_t v, unsigned base, int negative, int width, char pad)
{
    char buf[24];
    int n = 0;
    do {
        unsigned digit;
        if (base == 16) {
            digit = (unsigned)(v & 0xF);
            v >>= 4;
        } else {
            digit = divmod10(&v);
        }
        buf[n++] = (char)(digit < 10 ? '0' + digit : 'a' + digit - 10);
    } while (v != 0);
    if (negative)
        width--;
    if (negative && pad == '0')
        rt_putc('-');
    for (int i = n; i < width; i++)
        rt_putc(pad);
    if (negative && pad != '0')
        rt_putc('-');
    while (n > 0)
        rt_putc(buf[--n]);
}

void rt_vprintf(const char *fmt, va_list ap)
{
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            rt_putc(*fmt);
            continue;
        }
        fmt++;
        char pad = ' ';
        int width = 0, longs = 0;
        if (*fmt == '0') {
            pad = '0';
            fmt++;
        }
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        while (*fmt == 'l') {
            longs++;
            fmt++;
        }
        switch (*fmt) {
        case 'c':
            rt_putc((char)va_arg(ap, int));
            break;
        case 's': {
            const char *s = va_arg(ap, const char *);
            int len = (int)strlen(s);
            for (int i = len; i < width; i++)
                rt_putc(' ');
            rt_puts(s);
            break;
        }
        case 'd': {
            int64_t v = longs >= 2 ? va_arg(ap, int64_t) : va_arg(ap, int32_t);
            uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
            put_number(mag, 10, v < 0, width, pad);
            break;
        }
        case 'u':
        case 'x': {
            uint64_t v = longs >= 2 ? va_arg(ap, uint64_t) : va_arg(ap, uint32_t);
            put_number(v, *fmt == 'x' ? 16 : 10, 0, width, pad);
            break;
        }
        case 'p':
            put_number((uintptr_t)va_arg(ap, void *), 16, 0, 8, '0');
            break;
        case '%':
            rt_putc('%');
            break;
        default: /* unknown conversion: show it as written */
            rt_putc('%');
            if (*fmt == '\0')
                return;
            rt_putc(*fmt);
            break;
        }
    }
}

void rt_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    rt_vprintf(fmt, ap);
    va_end(ap);
}

void check(const char *what, uint32_t got, uint32_t want)
{
    if (got == want) {
        rt_printf("%s = %08x ok\n", what, got);
    } else {
        failures++;
        rt_printf("%s = %08x FAIL (want %08x)\n", what, got, want);
    }
}

void check64(const char *what, uint64_t got, uint64_t want)
{
    if (got == want) {
        rt_printf("%s = %016llx ok\n", what, got);
    } else {
        failures++;
        rt_printf("%s = %016llx FAIL (want %016llx)\n", what, got, want);
    }
}

void check_quiet(const char *what, uint32_t got, uint32_t want)
{
    if (got != want) {
        failures++;
        rt_printf("%s = %08x FAIL (want %08x)\n", what, got, want);
    }
}

void check_str(const char *what, const char *got, const char *want)
{
    const char *a = got, *b = want;
    while (*a && *a == *b)
        a++, b++;
    if (*a == *b) {
        rt_printf("%s = %s ok\n", what, got);
    } else {
        failures++;
        rt_printf("%s = %s FAIL (want %s)\n", what, got, want);
    }
}

unsigned rt_failures(void)
{
    return failures;
}

int rt_finish(const char *name)
{
    if (failures == 0) {
        rt_printf("%s: PASS\n", name);
        return 0;
    }
    rt_printf("%s: FAIL (%u checks)\n", name, failures);
    return failures > 0x7f ? 0x7f : (int)failures;
}

/* The optimiser must not turn these loops back into calls to themselves: the build passes
 * -fno-tree-loop-distribute-patterns. */
__attribute__((weak)) void *memset(void *dst, int c, size_t n)
{
    unsigned char *d = dst;
    while (n--)
        *d++ = (unsigned char)c;
    return dst;
}

__attribute__((weak)) void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    while (n--)
        *d++ = *s++;
    return dst;
}

__attribute__((weak)) void *memmove(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    if (d < s) {
        while (n--)
            *d++ = *s++;
    } else if (d > s) {
        while (n--)
            d[n] = s[n];
    }
    return dst;
}

__attribute__((weak)) int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;
    for (; n; n--, x++, y++)
        if (*x != *y)
            return *x < *y ? -1 : 1;
    return 0;
}

__attribute__((weak)) size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}
