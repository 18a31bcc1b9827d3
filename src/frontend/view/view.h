/* The view as a program: a headless screenshot of one frame, or a window with its event loop
 * (keys, mouse, resizing), on a recorded trace or fed live by a running machine. */
#ifndef RINGSIDE_VIEW_H
#define RINGSIDE_VIEW_H

#include <stdbool.h>
#include <stddef.h>

#include "frontend/view/layout.h"
#include "frontend/view/model.h"
#include "frontend/view/render.h"

#define VIEW_DEFAULT_W 1600
#define VIEW_DEFAULT_H 1000

/* A running machine the window drives (live mode). */
struct view_live {
    /* Runs up to budget instructions (feeding the model through its sink and console tap);
     * returns false once the run has ended. */
    bool (*run)(void *ctx, uint64_t budget);
    /* Runs until the next transition (or the end); returns false once the run has ended. */
    bool (*step)(void *ctx);
    void *ctx;
    uint64_t per_frame;      /* instructions per frame while running */
};

/* Renders one frame of w x h to the PNG file out (written whole or not at all). Returns
 * false with one line in why. */
bool view_screenshot(const struct view_model *m, const struct view_state *st, int w, int h,
                     const char *out, const struct view_details *d, char *why, size_t whylen);

/* Opens a window and runs until it is closed (or q/Esc). live may be NULL (a recorded run).
 * Returns false with one line in why when no window can be opened. */
bool view_window(struct view_model *m, struct view_state *st, int w, int h,
                 const struct view_details *d, struct view_live *live, char *why,
                 size_t whylen);

/* The state of a fresh view: the whole run, nothing selected, scale 1. */
void view_state_init(struct view_state *st, const struct view_model *m);

#endif
