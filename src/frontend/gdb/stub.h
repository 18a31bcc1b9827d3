/* The GDB stub: `ringside run IMAGE --gdb [HOST:]PORT` (-s: 127.0.0.1:1234, -S: start
 * halted). It listens on a TCP socket (the loopback address unless a host is given; port 0
 * picks a free one) and says where on stderr:
 *
 *   ringside: gdb: listening on 127.0.0.1:1234
 *
 * then runs the machine as gdb asks (gdb.h: packets, breakpoints, monitor, reverse). Without
 * -S the machine runs from the start and stops when gdb connects. When gdb detaches or goes
 * away the run goes on to its end as without --gdb; `kill` ends it.
 */
#ifndef RINGSIDE_GDB_STUB_H
#define RINGSIDE_GDB_STUB_H

#include <stdbool.h>

#include "cpu/cpu.h"

struct machine;

enum gdb_outcome {
    GDB_ENDED,    /* the machine ended while served (*r says how) */
    GDB_DETACHED, /* gdb left; run on */
    GDB_KILLED,   /* gdb killed the run */
    GDB_FAILED,   /* no socket (one line said why) */
};

struct gdb_stub_options {
    const char *addr;                 /* "[HOST:]PORT" */
    bool start_halted;                /* -S */
    bool (*flush)(void *ctx);         /* called between chunks (console output); false: stop */
    void *flush_ctx;
};

/* Checks "[HOST:]PORT" (PORT 0..65535); false with a reason in err. */
bool gdb_addr_valid(const char *addr, char *err, size_t errlen);

enum gdb_outcome gdb_stub_serve(struct machine *m, const struct gdb_stub_options *o,
                                enum run_result *r);

#endif
