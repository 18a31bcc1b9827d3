/* `ringside replay TRACE --gdb [HOST:]PORT` (-s, -S): a recorded run debugged with gdb. The
 * machine is the recorded one (its images checked by SHA-256 and loaded as recorded), its
 * console input is fed from the recording at the device times it arrived, and the gdb stub
 * (gdb/stub.h) serves it as it serves `ringside run --gdb`, reverse execution included: the
 * run is re-executed deterministically, so every stretch gdb goes back over is the recorded
 * one. A run the recording cut (--max-insns, a signal) ends where it was cut. The events are
 * not compared as plain `replay` does; at the end, the final instruction count and device
 * time are compared with the recording's. */
#ifndef RINGSIDE_REPLAY_GDB_H
#define RINGSIDE_REPLAY_GDB_H

#include "frontend/commands.h"
#include "frontend/loader.h"
#include "machine/machine.h"
#include "trace/replay.h"

/* Serves m (loaded from bp, console to env->con) under gdb with rp's input; returns the exit
 * status: 0 the run ended as recorded, 1 it ended elsewhere, 2 no socket, 3 killed by gdb,
 * 8/10 the console could not be written. */
int replay_gdb(const struct cli_options *o, const struct cli_env *env, struct machine *m,
               const struct boot_params *bp, struct replay *rp);

#endif
