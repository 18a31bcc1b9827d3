/* JSON strings for the trace's text outputs (`ringside log --format jsonl`, the Perfetto
 * export): quotes, backslashes and control bytes escaped; UTF-8 (the formatter's "—") passes
 * through as it is, as JSON allows. */
#ifndef RINGSIDE_TRACE_JSON_H
#define RINGSIDE_TRACE_JSON_H

#include <stdio.h>

void trace_json_str(FILE *out, const char *s);

#endif
