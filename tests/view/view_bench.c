/* The view's speed on a big trace (guests/bench/run-view-bench.sh; a benchmark, not a test):
 * how long the trace takes to open (load and model) and to draw its first frame, then how many
 * frames a second it draws while zooming from the whole run down to a few hundred
 * instructions and back, and while panning, on SDL's software renderer at W x H.
 *
 *   view_bench TRACE [W H]
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <SDL.h>

#include "frontend/view/view.h"

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Wall time, and the CPU time this process got (on a loaded machine, the fairer figure). */
static double now(void) { return clock_s(CLOCK_MONOTONIC); }
static double cpu(void) { return clock_s(CLOCK_PROCESS_CPUTIME_ID); }

/* Draws frames zooming (factor per frame) or panning; prints the rate. */
static void frames(const char *what, struct view_render *R, SDL_Renderer *r,
                   struct view_model *m, struct view_state *st, const struct view_layout *L,
                   int n, double factor, double pan)
{
    double worst = 0, t0 = now(), c0 = cpu();
    for (int k = 0; k < n; k++) {
        double f0 = now();
        if (factor != 1.0)
            view_state_zoom(st, m, factor, st->t0 + st->span / 2);
        if (pan != 0.0)
            view_state_pan(st, m, pan * st->span);
        view_render_frame(R, m, st, L, NULL);
        SDL_RenderPresent(r);
        double f = now() - f0;
        if (f > worst)
            worst = f;
    }
    double t = now() - t0, c = cpu() - c0;
    printf("%-34s %4d frames in %.3f s: %6.1f frames/s (slowest %.1f ms; CPU time: %.1f "
           "frames/s)\n", what, n, t, n / t, worst * 1e3, n / c);
}

int main(int argc, char **argv)
{
    if (argc != 2 && argc != 4) {
        fprintf(stderr, "usage: view_bench TRACE [W H]\n");
        return 2;
    }
    int w = argc == 4 ? atoi(argv[2]) : VIEW_DEFAULT_W, h = argc == 4 ? atoi(argv[3]) : VIEW_DEFAULT_H;
    if (w < 640 || h < 480) {
        fprintf(stderr, "view_bench: W H at least 640 480\n");
        return 2;
    }
    /* Reading and checking alone (the reader), then again with the model. */
    double tr = now(), trc = cpu();
    struct trace_file tf;
    trace_load(argv[1], &tf);
    trace_free(&tf);
    tr = now() - tr;
    trc = cpu() - trc;
    double t0 = now(), c0 = cpu();
    struct view_model m;
    view_model_init(&m);
    char why[512];
    if (!view_model_load(&m, argv[1], why, sizeof why)) {
        fprintf(stderr, "view_bench: %s\n", why);
        return 2;
    }
    double t1 = now();
    SDL_Surface *s = SDL_CreateRGBSurfaceWithFormat(0, w, h, 32, SDL_PIXELFORMAT_ARGB8888);
    SDL_Renderer *r = s ? SDL_CreateSoftwareRenderer(s) : NULL;
    struct view_render *R = r ? view_render_new(r, 1.0f, why, sizeof why) : NULL;
    if (!R) {
        fprintf(stderr, "view_bench: %s\n", r ? why : SDL_GetError());
        return 2;
    }
    struct view_state st;
    view_state_init(&st, &m);
    struct view_layout L;
    view_layout_make(&L, w, h, 1.0f, view_rings_used(&m));
    view_render_frame(R, &m, &st, &L, NULL);
    SDL_RenderPresent(r);
    double t2 = now(), c2 = cpu();
    printf("%zu events, %" PRIu64 " instructions, %zu console lines, %zu bytes of trace\n", m.n,
           m.end_icount, m.nlines, m.tf->size);
    printf("open (read, check, model): %.3f s (the reader alone: %.3f s); first frame drawn "
           "after %.3f s\n", t1 - t0, tr, t2 - t0);
    printf("the same in CPU time: reader %.3f s; open and first frame %.3f s\n", trc, c2 - c0);
    /* Whole run down to about 300 instructions: span * f^n = 300. */
    double whole = st.span, fz = pow(300.0 / whole, 1.0 / 120);
    frames("zooming in (whole run -> 300 insns)", R, r, &m, &st, &L, 120, fz, 0);
    frames("panning at 300 instructions", R, r, &m, &st, &L, 60, 1.0, 0.1);
    frames("zooming out (-> the whole run)", R, r, &m, &st, &L, 120, 1.0 / fz, 0);
    st.selected = (long)(m.n / 2);
    frames("whole run, an event selected", R, r, &m, &st, &L, 60, 1.0, 0);
    view_render_free(R);
    SDL_DestroyRenderer(r);
    SDL_FreeSurface(s);
    view_model_free(&m);
    return 0;
}
