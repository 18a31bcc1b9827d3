/* The few C string functions the kernel and the user runtime share (str.c); gcc may also call
 * memset and memcpy by itself. */
#ifndef STR_H
#define STR_H

#include <stddef.h>

void *memset(void *dst, int c, size_t n);
void *memcpy(void *restrict dst, const void *restrict src, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
/* Copies at most size - 1 characters and always terminates (if size > 0). */
void strlcpy(char *dst, const char *src, size_t size);

#endif
