/* printf-style formatting, shared by the kernel (kprintf) and the user runtime (printf).
 *
 * Conversions: %c %s %d %u %x %p %%, with an optional '-' (left-justify), '0' (zero pad),
 * a width, and 'l'/'ll' (ll = 64 bits). Output goes one character at a time to emit(ctx, c).
 * 64-bit division goes through libgcc's __udivdi3 (plain integer code, no FPU).
 */
#ifndef DEMO_FMT_H
#define DEMO_FMT_H

#include <stdarg.h>
#include <stddef.h>

typedef void (*fmt_emit_fn)(void *ctx, char c);

void fmt_vformat(fmt_emit_fn emit, void *ctx, const char *fmt, va_list ap);

/* Formats into buf (always NUL-terminated, truncated to size - 1). Returns the length. */
size_t fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
