/* Reading a trace in order, knowing at each event what the live `--log int` knew when it
 * printed it: the names of the address spaces and system calls said so far (TREC_SPACE,
 * TREC_NAME), the 8259A pair's vector bases (TREC_IRQ: an interrupt's ISA line), the steps of
 * the triple fault about to be told (TREC_TRIPLE), the entries still waiting for their return
 * (describe.h) and, from a client, the symbols of the images. Its describe_ctx makes the same
 * lines as the live log through the one formatter:
 *
 *   struct trace_ctx *t = trace_ctx_new(symbol_fn, syms);
 *   for each record r, in order:
 *       if (trace_ctx_step(t, r, &ev))                 (names and the like are taken in)
 *           describe_event_in(&t->d, &ev, line, sizeof line);   (or describe_track)
 *   trace_ctx_free(t);
 *
 * Every event must be described or tracked, in order, even those a filter hides, or a return
 * would not find its entry. A filter's --pid and --space match t->names: the space as the
 * event's line names it.
 */
#ifndef RINGSIDE_TRACECTX_H
#define RINGSIDE_TRACECTX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cpu/cpu.h"
#include "trace/describe.h"
#include "trace/filter.h"
#include "trace/tracefile.h"

/* addr as "symbol+0x12" into buf, for an address in the space the guest named space (NULL:
 * not named); false when no symbol covers it. */
typedef bool (*trace_symbol_fn)(void *ctx, const char *space, uint32_t addr, char *buf,
                                size_t len);

struct trace_ctx {
    struct describe_ctx d;        /* names point back here */
    struct trace_names names;     /* the newest naming of each CR3 so far (for filters too) */
    unsigned namings;             /* space namings heard (the machine keeps the first 256) */
    char syscall[256][TRACE_NAME_MAX + 1]; /* "" when not named */
    int pic_base[2];              /* the 8259A pair's vector bases, -1: not recorded yet */
    struct fault three[3];        /* the last triple fault's steps */
    bool has_three;
    trace_symbol_fn symbol;
    void *symbol_ctx;
    char label[TRACE_NAME_MAX + 32]; /* the last space label made */
};

/* A reader at the start of a trace; symbol may be NULL (no symbols). NULL when out of memory. */
struct trace_ctx *trace_ctx_new(trace_symbol_fn symbol, void *symbol_ctx);
void trace_ctx_free(struct trace_ctx *t);

/* Takes in record r (the next in the file). True when it is an event, decoded into *ev. */
bool trace_ctx_step(struct trace_ctx *t, const struct trace_record *r, struct trace_event *ev);

/* The newest naming of cr3 so far, NULL when none. */
const struct trace_space *trace_ctx_space(const struct trace_ctx *t, uint32_t cr3);
/* System call nr's name so far, NULL when none. */
const char *trace_ctx_syscall(const struct trace_ctx *t, uint32_t nr);

#endif
