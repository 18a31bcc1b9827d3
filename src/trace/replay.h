/* Replay's comparison: a recorded trace against a machine running the same guest again.
 * A sink compares each event the machine makes with the next recorded one (all fields: their
 * encodings must be equal), a console tap each byte COM1 sends or receives with the recorded
 * one (byte, instruction count, device time), and the input is fed from the recording: a
 * recorded byte is pushed when the machine asks for input at the device time it was delivered,
 * and the input ends when it ended. At the first difference the cpu is asked to stop and the
 * divergence is kept (both sides); past the end of a truncated trace nothing more is compared.
 *
 *   struct replay rp;
 *   replay_init(&rp, &tf);  replay_attach(&rp, m);   (before the run)
 *   ... cpu_run in chunks, replay_check(&rp, m) after each ...
 *   replay_finish(&rp, m, result);   (the end matches the end record?)
 * or replay_run for the three. A trace of the inputs only (tf->inputs_only) has no events:
 * its console bytes are compared and fed, and at the end every count of the end record
 * (instructions, device time, instructions per CPL, events per kind).
 */
#ifndef RINGSIDE_REPLAY_H
#define RINGSIDE_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cpu/cpu.h"
#include "trace/tracefile.h"

struct machine;

struct replay {
    const struct trace_file *tf;
    struct cpu *cpu;          /* asked to stop at a divergence */
    size_t ev_i, out_i, in_i, feed_i;  /* next record of each stream to compare / feed */
    uint64_t events, out_bytes, in_bytes; /* matched so far */
    bool done;                /* a truncated trace's records are all compared */
    bool diverged;
    char why[1536];           /* the divergence, several lines */
    struct trace_codec codec; /* the events compared so far: the next is encoded against them */
};

void replay_init(struct replay *rp, const struct trace_file *tf);
/* Adds the sink and tap and opens the machine's input from the recording. False if a slot
 * is missing. */
bool replay_attach(struct replay *rp, struct machine *m);
void replay_detach(struct replay *rp, struct machine *m);
/* Only feeds the recorded input (no comparison): for a run debugged with gdb, which goes
 * back and forth (the debugger re-delivers what was fed before when it goes back). */
void replay_attach_input(struct replay *rp, struct machine *m);
/* After a chunk: a recorded event whose instruction count has passed without it happening is
 * a divergence. Returns whether the replay should go on (no divergence, not done). */
bool replay_check(struct replay *rp, struct machine *m);
/* After the run (r is how cpu_run ended): every record compared, the final counts equal.
 * Returns !rp->diverged. */
bool replay_finish(struct replay *rp, struct machine *m, enum run_result r);
/* The device time to run to: the end record's (the whole budget); for a truncated trace of
 * the inputs only its last mark's (0 without one), for another truncated trace UINT64_MAX. */
uint64_t replay_end_time(const struct replay *rp);
/* The run against the recording (attached before): cpu_run in chunks to replay_end_time, a
 * run that ended by itself given one unit more (it must end by itself again), replay_check
 * after each chunk and between(ctx) too when not NULL (false stops the run: RUN_STOP), then
 * replay_finish. Returns how the last cpu_run ended. */
enum run_result replay_run(struct replay *rp, struct machine *m, bool (*between)(void *),
                           void *ctx);

#endif
