/* One line on stderr (see report.h). */
#include "frontend/report.h"

#include <stdarg.h>
#include <stdio.h>

void report(const char *fmt, ...)
{
    va_list ap;
    fflush(stdout);
    fputs("ringside: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
}
