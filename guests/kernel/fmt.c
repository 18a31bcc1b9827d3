/* printf-style formatting (see fmt.h). */
#include "fmt.h"

#include <stdint.h>

static void put_number(fmt_emit_fn emit, void *ctx, uint64_t v, unsigned base, int negative,
                       int width, char pad, int left)
{
    char digits[24];
    int n = 0;
    do {
        unsigned d = (unsigned)(v % base);
        v /= base;
        digits[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
    } while (v != 0);
    int len = n + (negative ? 1 : 0);
    if (!left && pad == ' ')
        for (int i = len; i < width; i++)
            emit(ctx, ' ');
    if (negative)
        emit(ctx, '-');
    if (!left && pad == '0')
        for (int i = len; i < width; i++)
            emit(ctx, '0');
    while (n > 0)
        emit(ctx, digits[--n]);
    if (left)
        for (int i = len; i < width; i++)
            emit(ctx, ' ');
}

void fmt_vformat(fmt_emit_fn emit, void *ctx, const char *fmt, va_list ap)
{
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            emit(ctx, *fmt);
            continue;
        }
        fmt++;
        int left = 0, width = 0, longs = 0;
        char pad = ' ';
        if (*fmt == '-') {
            left = 1;
            fmt++;
        }
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
            emit(ctx, (char)va_arg(ap, int));
            break;
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (!s)
                s = "(null)";
            int len = 0;
            while (s[len])
                len++;
            if (!left)
                for (int i = len; i < width; i++)
                    emit(ctx, ' ');
            for (int i = 0; i < len; i++)
                emit(ctx, s[i]);
            if (left)
                for (int i = len; i < width; i++)
                    emit(ctx, ' ');
            break;
        }
        case 'd': {
            int64_t v = longs >= 2 ? va_arg(ap, int64_t) : va_arg(ap, int32_t);
            uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
            put_number(emit, ctx, mag, 10, v < 0, width, pad, left);
            break;
        }
        case 'u':
        case 'x': {
            uint64_t v = longs >= 2 ? va_arg(ap, uint64_t) : va_arg(ap, uint32_t);
            put_number(emit, ctx, v, *fmt == 'x' ? 16 : 10, 0, width, pad, left);
            break;
        }
        case 'p':
            emit(ctx, '0');
            emit(ctx, 'x');
            put_number(emit, ctx, (uintptr_t)va_arg(ap, void *), 16, 0, 8, '0', 0);
            break;
        case '%':
            emit(ctx, '%');
            break;
        case '\0': /* a lone '%' at the end */
            return;
        default: /* unknown conversion: show it as written */
            emit(ctx, '%');
            emit(ctx, *fmt);
            break;
        }
    }
}

struct sbuf {
    char *p;
    size_t left; /* room for characters, not counting the NUL */
    size_t len;
};

static void sbuf_emit(void *ctx, char c)
{
    struct sbuf *b = ctx;
    if (b->left) {
        *b->p++ = c;
        b->left--;
        b->len++;
    }
}

size_t fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
{
    if (size == 0)
        return 0;
    struct sbuf b = {buf, size - 1, 0};
    va_list ap;
    va_start(ap, fmt);
    fmt_vformat(sbuf_emit, &b, fmt, ap);
    va_end(ap);
    *b.p = '\0';
    return b.len;
}
