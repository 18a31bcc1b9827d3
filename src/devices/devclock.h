/* The machine's device clock: the one notion of time every device reads.
 *
 * Time is counted in units (the cpu's device time: retired instructions plus time spent
 * halted, see cpu_time), units_per_sec of them making one second of guest time. Devices read it
 * only through now(); they never read the wall clock, so the same guest and input give the same
 * device behaviour at the same instructions.
 */
#ifndef RINGSIDE_DEVCLOCK_H
#define RINGSIDE_DEVCLOCK_H

#include <stdint.h>

struct devclock {
    uint64_t (*now)(void *ctx);
    void *ctx;
    uint64_t units_per_sec;    /* how many time units are one second of guest time */
};

static inline uint64_t devclock_now(const struct devclock *clk)
{
    return clk->now(clk->ctx);
}

#endif
