/* Which events of a trace to show (`ringside log`, `ringside export`), and the names of the
 * address spaces a trace announces (TREC_SPACE: "CR3 X is pid N, name S"; a space nobody
 * named is "CR3 0x0012a000").
 *
 *   --pid N       events in the address space announced as pid N
 *   --space NAME  events in the space of that name (or "CR3 0x..." / "0x..." for an unnamed one)
 *   --kind K      events of kind K (trace_kind_name: exception, interrupt, int, iret, ...)
 *   --vector V    events with vector V (decimal or 0x hex)
 *   --cpl N       events that began at CPL N
 *   --from I      events at instruction count I or later; --to I: at I or earlier
 * An event "is in" the space whose CR3 was loaded when it began (before.cr3), named by the
 * names given (`ringside log` and `export` pass those said before the event, tracectx.h).
 */
#ifndef RINGSIDE_TRACE_FILTER_H
#define RINGSIDE_TRACE_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cpu/event.h"
#include "trace/tracefile.h"

/* The filter as typed (NULL: not given). */
struct trace_filter_spec {
    const char *pid, *space, *kind, *vector, *cpl, *from, *to;
};

struct trace_filter {
    bool has_pid;
    uint32_t pid;
    const char *space;
    int kind;            /* -1: any */
    int vector;          /* -1: any */
    int cpl;             /* -1: any */
    uint64_t from, to;
};

/* Checks and converts spec. Returns 0, or -1 with one line in err. */
int trace_filter_parse(const struct trace_filter_spec *spec, struct trace_filter *f, char *err,
                       size_t errlen);

/* The spaces a trace names: CR3 -> pid and name (the latest announcement wins). */
struct trace_space {
    uint32_t cr3, pid;
    bool named;
    char name[TRACE_NAME_MAX + 1];
};
struct trace_names {
    struct trace_space *s;
    size_t n, cap;
};

/* Names cr3 (a newer name replaces the older). Returns false when out of memory. */
bool trace_names_set(struct trace_names *names, uint32_t cr3, uint32_t pid, const char *name);
/* Collects every TREC_SPACE of tf (the newest of each CR3). Returns false when out of memory. */
bool trace_names_collect(const struct trace_file *tf, struct trace_names *names);
void trace_names_free(struct trace_names *names);
/* The entry for cr3, NULL when it was never named. */
const struct trace_space *trace_names_find(const struct trace_names *names, uint32_t cr3);
/* The label of cr3: its name, else "CR3 0x%08x". */
void trace_space_label(const struct trace_names *names, uint32_t cr3, char *buf, size_t len);

/* Whether events of this kind carry a vector (exception, interrupt, int, shutdown, task). */
bool trace_kind_has_vector(unsigned kind);

/* Whether ev passes the filter. */
bool trace_filter_match(const struct trace_filter *f, const struct trace_names *names,
                        const struct trace_event *ev);

#endif
