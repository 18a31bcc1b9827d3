/* One line on stderr (see report.h). */
#include "frontend/report.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void report_write_escaped(FILE *f, const char *s)
{
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch < 0x20 || ch == 0x7F)
            fprintf(f, "\\x%02x", ch);
        else
            fputc(ch, f);
    }
}

void report(const char *fmt, ...)
{
    char small[512];
    char *text = small;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n >= (int)sizeof small) {
        char *big = malloc((size_t)n + 1);
        if (big) {
            va_start(ap, fmt);
            vsnprintf(big, (size_t)n + 1, fmt, ap);
            va_end(ap);
            text = big;
        }
    }
    if (n < 0)
        small[0] = '\0';
    fflush(stdout);
    fputs("ringside: ", stderr);
    report_write_escaped(stderr, text);
    fputc('\n', stderr);
    fflush(stderr);
    if (text != small)
        free(text);
}
