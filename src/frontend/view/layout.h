/* Where the view draws what: the panels of a frame of a given size and text scale, the x of an
 * instruction count, the y of each ring's lane, where an event's marker and a legend entry go.
 * Pure arithmetic (no SDL): the renderer draws at these positions and the tests read pixels at
 * them.
 *
 *   +---------------------------------------------------------------------------+
 *   | title · instructions · transitions · processes · end        keys          |  header
 *   | whole run [====|zoom window|==========================================]   |  overview
 *   | +---------------------------------------------+  +----------------------+ |
 *   | | ring 0  ___/\____   path coloured by space  |  | selected event       | |
 *   | | ring 1 / ring 2 (thin unless used)          |  | decoded line, CS:EIP | |
 *   | | ring 3 ‾‾‾  ‾‾‾‾  markers, axis             |  | disassembly, regs    | |
 *   | +---------------------------------------------+  |                      | |
 *   |   legend: one swatch per process                 |                      | |
 *   | +-- where the time goes --+ +-- console (COM1) placed in time ---------+ |
 */
#ifndef RINGSIDE_VIEW_LAYOUT_H
#define RINGSIDE_VIEW_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "frontend/view/model.h"

struct view_rect {
    int x, y, w, h;
};

/* What is shown: the time window, the selection, the filters and toggles. */
struct view_state {
    double t0, span;         /* instructions: the window is [t0, t0 + span) */
    long selected;           /* event index, -1: none */
    unsigned class_filter;   /* VIEW_CLASS_BITs that n/p stop at (0: every class) */
    long space_filter;       /* n/p stop only in this space, -1: any */
    int vector_filter;       /* n/p stop only at events with this vector, -1: any */
    float scale;             /* text and spacing (1: 1x; the scale key cycles) */
    bool help;               /* the key list is shown */
    bool paused;             /* live: the machine does not run */
    bool live;               /* fed by a running machine */
    long console_top;        /* first console line shown, -1: follow the timeline */
};

struct view_layout {
    int w, h;
    float s;                 /* scale */
    int font_px;             /* text height asked of the font */
    int line_h;              /* a text line */
    struct view_rect header, overview, timeline, legend, details, procs, console;
    int lane_x0, lane_x1;    /* where time is drawn, in the timeline */
    int lane_y[4];           /* each ring's lane */
    int irq_y;               /* interrupt markers (above ring 0) */
    int sys_y;               /* system-call markers (below ring 3) */
    int axis_y;              /* tick labels (instruction counts) */
    int time_y;              /* tick labels in guest time (at the trace's --ips) */
    int legend_entry_w;
};

/* The layout of a w x h frame at this scale; rings_used: whether rings 1 or 2 ever ran (their
 * lanes get room then). */
void view_layout_make(struct view_layout *L, int w, int h, float scale, bool rings_used);

/* The x of instruction count t in the timeline (may lie outside the lanes). */
double view_x_of(const struct view_layout *L, const struct view_state *st, double t);
/* The instruction count at x. */
double view_t_at(const struct view_layout *L, const struct view_state *st, double x);
/* The window [t0, t1) column x of the lanes covers. */
void view_column(const struct view_layout *L, const struct view_state *st, int x, double *t0,
                 double *t1);

/* The axis' tick step in instructions: 1, 2 or 5 times a power of ten, about every 110
 * pixels (the ticks are its multiples in the window). */
double view_tick_step(const struct view_layout *L, const struct view_state *st);

/* The x of t in the whole-run strip. */
int view_overview_x(const struct view_layout *L, const struct view_model *m, double t);

/* A fault's marker: the tip of the red triangle above the lane it came from. */
void view_fault_marker(const struct view_layout *L, const struct view_state *st,
                       const struct view_model *m, size_t i, int *x, int *y);

/* Narrows the legend's entries so that n fit in one row (up to a limit). */
void view_layout_legend(struct view_layout *L, unsigned n);
/* The swatch of legend entry k (k-th named space, then "kernel"). */
struct view_rect view_legend_swatch(const struct view_layout *L, unsigned k);
/* The legend's entries: the named spaces in colour order, then one for the kernel when an
 * unnamed space ran. Fills up to max space indexes; returns how many. */
unsigned view_legend_entries(const struct view_model *m, unsigned *out, unsigned max);

/* The whole run in the window (t0 = start, span = end - start, at least 1). */
void view_state_fit(struct view_state *st, const struct view_model *m);
/* Zooms by factor (< 1: in) keeping instruction count t at the same x. */
void view_state_zoom(struct view_state *st, const struct view_model *m, double factor,
                     double t);
/* Moves the window by dt instructions (clamped to the run). */
void view_state_pan(struct view_state *st, const struct view_model *m, double dt);
/* Centres the window on t. */
void view_state_center(struct view_state *st, const struct view_model *m, double t);

/* The next (dir > 0) or previous event after the selection that passes the filters; -1 none. */
long view_state_step(const struct view_state *st, const struct view_model *m, int dir);

/* The console pane: its first text row's y, how many rows fit, and the first line shown
 * (the last rows lines up to the window's end, or from st->console_top). */
int view_console_rows(const struct view_layout *L, int line_h, int *y0);
size_t view_console_top(const struct view_model *m, const struct view_state *st, int rows);

/* Whether rings 1 or 2 ever ran. */
bool view_rings_used(const struct view_model *m);

#endif
