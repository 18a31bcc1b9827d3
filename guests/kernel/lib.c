/* The few C library functions the kernel uses (gcc may also call memset/memcpy by itself). */
#include "kernel.h"

/* One string instruction each: REP STOSB / REP MOVSB repeat a byte store (or copy) ECX
 * times, advancing EDI (and ESI). The kernel zeroes every frame it hands out, so this is
 * most of its memory traffic. */
void *memset(void *dst, int c, size_t n)
{
    void *d = dst;
    __asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
    return dst;
}

void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
    void *d = dst;
    const void *s = src;
    __asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
    return dst;
}

size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

int strcmp(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return (unsigned char)*a - (unsigned char)*b;
}

/* Copies at most size - 1 characters and always terminates (if size > 0). */
void strlcpy(char *dst, const char *src, size_t size)
{
    if (size == 0)
        return;
    size_t i = 0;
    for (; i < size - 1 && src[i]; i++)
        dst[i] = src[i];
    dst[i] = '\0';
}
