/* The C string functions of the kernel and of the user runtime (see str.h). */
#include "str.h"

/* Plain loops, not REP STOSB/MOVSB: QEMU's -icount counts every iteration of a REP string
 * instruction as one instruction, Ringside counts the instruction, so with REP the timer would
 * interrupt at different places on the two (scenarios/run.sh --vs-qemu compares them). */
void *memset(void *dst, int c, size_t n)
{
    unsigned char *d = dst;
    while (n--)
        *d++ = (unsigned char)c;
    return dst;
}

void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    while (n--)
        *d++ = *s++;
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

void strlcpy(char *dst, const char *src, size_t size)
{
    if (size == 0)
        return;
    size_t i = 0;
    for (; i < size - 1 && src[i]; i++)
        dst[i] = src[i];
    dst[i] = '\0';
}
