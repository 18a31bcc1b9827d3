/* Console input under the debugger (gdb.h): every byte the guest received, re-delivered at
 * the same device time when a stretch of the run is executed again (reverse execution, or a
 * forward run after it), so that going back and forth never reads the input source twice and
 * never changes what the guest got.
 *
 * The machine asks its input client for a byte whenever COM1 could take one and the queue is
 * empty (machine/console.h); a byte pushed then is delivered at once. The debugger puts itself
 * between the machine and that client (stdin's adapter, or a recording being replayed):
 *
 *   - a request at a device time later than any request before it is new: it goes to the
 *     client, and a byte the guest then receives is added to the log (with its device time),
 *     an end of input is remembered with its time;
 *   - a request at a device time already reached before (after a restore) is answered from
 *     the log: the next byte not yet re-delivered if it arrived at this time or earlier, else
 *     the end of input if it ended by then, else nothing, as the client answered then.
 *
 * Each snapshot remembers how many bytes had been delivered when it was taken; a restore
 * puts that count back (gdb_input_rewound). The log grows by one entry per byte the guest
 * receives (16 bytes each).
 */
#include <stdlib.h>

#include "cpu/inspect.h"
#include "frontend/gdb/gdb.h"

/* The machine asks for input. */
static void input_refill(void *ctx, struct machine *m)
{
    struct gdb_target *t = ctx;
    uint64_t now = cpu_time(&m->cpu);
    if (t->in_asked && now <= t->in_asked_time) { /* asked before: answer as then */
        if (t->in_pos < t->in_n) {
            if (t->in_log[t->in_pos].time <= now)
                machine_input_push(m, t->in_log[t->in_pos].byte);
        } else if (t->in_ended && now >= t->in_end_time) {
            machine_input_end(m);
        }
        return;
    }
    t->in_asked = true;
    t->in_asked_time = now;
    if (t->refill)
        t->refill(t->refill_ctx, m);
    if (m->input.ended && !t->in_ended) {
        t->in_ended = true;
        t->in_end_time = now;
    }
}

/* A byte COM1 received (output bytes are not input's business). */
static void input_tap(void *ctx, const struct console_byte *b)
{
    struct gdb_target *t = ctx;
    if (!b->input)
        return;
    if (t->in_pos < t->in_n) { /* delivered again, as logged */
        t->in_pos++;
        return;
    }
    if (t->in_n == t->in_cap) {
        size_t cap = t->in_cap ? t->in_cap * 2 : 256;
        struct gdb_input *grown = realloc(t->in_log, cap * sizeof *grown);
        if (!grown) {
            t->in_lost = true; /* later re-executions may then differ: info history says so */
            return;
        }
        t->in_log = grown;
        t->in_cap = cap;
    }
    t->in_log[t->in_n++] = (struct gdb_input){ b->time, b->byte };
    t->in_pos = t->in_n;
}

void gdb_input_init(struct gdb_target *t)
{
    struct machine *m = t->m;
    t->refill = m->input.refill;
    t->refill_ctx = m->input.refill_ctx;
    m->input.refill = input_refill;
    m->input.refill_ctx = t;
    t->in_tapped = machine_add_tap(m, input_tap, t) == 0;
}

void gdb_input_fini(struct gdb_target *t)
{
    struct machine *m = t->m;
    if (t->in_tapped)
        machine_remove_tap(m, input_tap, t);
    t->in_tapped = false;
    if (m->input.refill == input_refill) {
        m->input.refill = t->refill;
        m->input.refill_ctx = t->refill_ctx;
    }
    free(t->in_log);
    t->in_log = NULL;
    t->in_n = t->in_cap = t->in_pos = 0;
}

void gdb_input_rewound(struct gdb_target *t, size_t delivered)
{
    t->in_pos = delivered;
}
