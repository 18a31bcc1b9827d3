/* Ringside's own voice: one line on stderr, "ringside: ...", after whatever the guest printed.
 * Every error, every end-of-run report and every --stats line goes through report(). */
#ifndef RINGSIDE_REPORT_H
#define RINGSIDE_REPORT_H

#include <stdio.h>

/* Flushes stdout (so the line follows the guest's output), writes "ringside: ", the formatted
 * text (escaped: report_write_escaped) and a newline to stderr, and flushes stderr. */
void report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Writes s to f with every control character (bytes 0x00-0x1F and 0x7F) as \xNN: text from a
 * flag, a file name or a guest can then neither end the line nor move the cursor, change
 * colours or set the terminal's title. */
void report_write_escaped(FILE *f, const char *s);

#endif
