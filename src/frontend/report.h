/* Ringside's own voice: one line on stderr, "ringside: ...", after whatever the guest printed.
 * Every error, every end-of-run report and every --stats line goes through report(). */
#ifndef RINGSIDE_REPORT_H
#define RINGSIDE_REPORT_H

/* Flushes stdout (so the line follows the guest's output), writes "ringside: ", the formatted
 * text and a newline to stderr, and flushes stderr. */
void report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
