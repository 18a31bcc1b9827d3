/* The GDB stub: `ringside run IMAGE --gdb [HOST:]PORT` (-s: 127.0.0.1:1234, -S: start
 * halted). It listens on a TCP socket (the loopback address unless a host is given; port 0
 * picks a free one) and says where on stderr:
 *
 *   ringside: gdb: listening on 127.0.0.1:1234
 *
 * then runs the machine as gdb asks (gdb.h: packets, breakpoints, monitor, reverse). Without
 * -S the machine runs from the start and stops when gdb connects. When gdb detaches or goes
 * away the run goes on to its end as without --gdb (first, if gdb took it back in time, to
 * where it had been, without writing its console output twice; max_insns counts from then),
 * and the stub still listens: the next debugger can attach. `kill` ends the run. A second
 * debugger while one is attached is refused (an error reply saying why, a line on stderr).
 */
#ifndef RINGSIDE_GDB_STUB_H
#define RINGSIDE_GDB_STUB_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/cpu.h"

struct machine;
struct symbols;

enum gdb_outcome {
    GDB_ENDED,    /* the machine ended while served, with or without a debugger attached
                     (*r says how; RUN_LIMIT: max_insns after a debugger left) */
    GDB_DETACHED, /* the socket failed for good; run on without the stub */
    GDB_KILLED,   /* gdb killed the run */
    GDB_FAILED,   /* no socket (one line said why) */
};

struct gdb_stub_options {
    const char *addr;                 /* "[HOST:]PORT" */
    bool start_halted;                /* -S */
    bool (*flush)(void *ctx);         /* called between chunks (console output); false: stop */
    void *flush_ctx;
    const struct symbols *syms;       /* names addresses in stop texts; may be NULL */
    uint64_t max_insns;               /* after a debugger left: device time to run on, 0: all */
    uint64_t end_time;                /* the run ends at this device time (a recorded run that
                                         was cut there), 0: when the guest ends it */
};

/* Checks "[HOST:]PORT" (PORT 0..65535); false with a reason in err. */
bool gdb_addr_valid(const char *addr, char *err, size_t errlen);

enum gdb_outcome gdb_stub_serve(struct machine *m, const struct gdb_stub_options *o,
                                enum run_result *r);

#endif
