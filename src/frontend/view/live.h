/* Live mode (`ringside run IMAGE --view`, `ringside demo --view`): the window drives the
 * machine in the same thread, a number of instructions per frame, while a sink, a console tap
 * and a space-name tap feed the view's model. Space pauses, `.` runs to the next transition;
 * the guest's console still goes to the terminal. When the guest ends the window stays open
 * on the whole run until it is closed; closing it earlier stops the run (RUN_STOP). */
#ifndef RINGSIDE_VIEW_LIVE_H
#define RINGSIDE_VIEW_LIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cpu/cpu.h"

struct machine;
struct symbols;

#define VIEW_LIVE_PER_FRAME 250000u /* instructions run between two frames (default) */
#define VIEW_LIVE_STEP_MAX 100000000u /* `.` gives up after this many without a transition */

struct view_live_options {
    const char *title;        /* the image, for the header */
    uint64_t ips;             /* instructions per guest second (0: not shown) */
    uint64_t max_insns;       /* 0: no limit */
    bool (*flush)(void *ctx); /* after each frame's run: the console; false ends the run */
    void *flush_ctx;
    struct symbols *syms;     /* the images' symbols and code for the details, or NULL */
    uint64_t per_frame;       /* instructions per frame, 0: VIEW_LIVE_PER_FRAME */
    unsigned width, height;   /* the window's size, 0: VIEW_DEFAULT_W x VIEW_DEFAULT_H */
};

/* Runs m under a window until the guest ends and the window is closed, or the window is
 * closed first (then *r is RUN_STOP). *r is what the last cpu_run returned. Returns false with
 * one line in why when no window can be opened (nothing has run then). */
bool view_live_run(struct machine *m, const struct view_live_options *o, enum run_result *r,
                   char *why, size_t whylen);

#endif
