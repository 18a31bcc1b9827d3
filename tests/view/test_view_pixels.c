/* The view's headless screenshots, checked by reading pixels at positions computed from the
 * trace with the view's own layout functions:
 *   - the whole run: each fault's marker is red at the fault's x, above the lane it came from;
 *     the legend has one swatch per process (and the kernel), in that process's colour, and
 *     nothing after the last one;
 *   - zoomed on a system call: the ring-0 lane holds the calling process's colour halfway
 *     through the call, the ring-3 lane does not; the system-call marker is drawn at its x;
 *     under the axis each tick is labelled in guest time too (the trace's --ips);
 *   - a selected event: the details panel holds text (differs from the unselected frame).
 *
 * usage: test_view_pixels RINGSIDE TRACE WORKDIR (TRACE recorded by the caller, e.g. the demo)
 */
#include <inttypes.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include <SDL.h>
#include <SDL_image.h>

#include "frontend/view/view.h"

#define W 1600
#define H 1000

struct fixture {
    const char *ringside, *trace, *dir;
    struct view_model m;
};

static struct fixture fx;

/* Runs ringside view TRACE --screenshot DIR/name.png with extra arguments; loads the PNG. */
static SDL_Surface *shot(const char *name, const char *extra)
{
    char png[1024], cmd[4096];
    snprintf(png, sizeof png, "%s/%s.png", fx.dir, name);
    remove(png);
    snprintf(cmd, sizeof cmd, "'%s' view '%s' --screenshot '%s' --width %d --height %d %s",
             fx.ringside, fx.trace, png, W, H, extra);
    int rc = system(cmd);
    if (rc != 0)
        fail_msg("'%s' exited with %d", cmd, WIFEXITED(rc) ? WEXITSTATUS(rc) : -1);
    SDL_Surface *s = IMG_Load(png);
    assert_non_null(s);
    SDL_Surface *c = SDL_ConvertSurfaceFormat(s, SDL_PIXELFORMAT_ARGB8888, 0);
    SDL_FreeSurface(s);
    assert_non_null(c);
    assert_int_equal(c->w, W);
    assert_int_equal(c->h, H);
    return c;
}

static uint32_t rgb_at(SDL_Surface *s, int x, int y)
{
    assert_true(x >= 0 && x < s->w && y >= 0 && y < s->h);
    const uint32_t *row = (const uint32_t *)((const uint8_t *)s->pixels + (size_t)y * s->pitch);
    return row[x] & 0xffffffu;
}

/* Whether some pixel within r pixels of (x, y) has colour rgb. */
static bool near(SDL_Surface *s, int x, int y, int r, uint32_t rgb)
{
    for (int dy = -r; dy <= r; dy++)
        for (int dx = -r; dx <= r; dx++)
            if (x + dx >= 0 && x + dx < s->w && y + dy >= 0 && y + dy < s->h &&
                rgb_at(s, x + dx, y + dy) == rgb)
                return true;
    return false;
}

static void whole_state(struct view_state *st)
{
    view_state_init(st, &fx.m);
}

static void test_fault_marker_and_legend(void **state)
{
    (void)state;
    SDL_Surface *s = shot("whole", "");
    struct view_state st;
    whole_state(&st);
    struct view_layout L;
    view_layout_make(&L, W, H, 1.0f, view_rings_used(&fx.m));
    /* The demo has a fault (nullderef's #PF). */
    assert_true(fx.m.nfaults > 0);
    for (size_t k = 0; k < fx.m.nfaults; k++) {
        size_t i = fx.m.faults[k];
        if (fx.m.ev[i].cls != VC_FAULT)
            continue;
        int x, y;
        view_fault_marker(&L, &st, &fx.m, i, &x, &y);
        /* The triangle's body, just above its tip. */
        if (rgb_at(s, x, y - 4) != VIEW_RGB_FAULT)
            fail_msg("fault %zu (icount %" PRIu64 "): no red marker at (%d, %d): %06x", i,
                     fx.m.ev[i].icount, x, y - 4, rgb_at(s, x, y - 4));
        /* Not red well away from it, below its lane's path (a marker, not a red panel). */
        assert_int_not_equal(rgb_at(s, x, L.axis_y - 10), VIEW_RGB_FAULT);
    }
    unsigned ent[64];
    unsigned n = view_legend_entries(&fx.m, ent, 64);
    view_layout_legend(&L, n);
    /* One per process (each address space), the kernel's boot space last. */
    assert_int_equal(n, fx.m.nsp);
    assert_true(fx.m.nsp >= 6); /* the demo's five programs and the kernel */
    assert_true(view_space_is_boot(&fx.m, ent[n - 1]));
    for (unsigned k = 0; k < n; k++) {
        struct view_rect r = view_legend_swatch(&L, k);
        assert_int_equal(rgb_at(s, r.x + r.w / 2, r.y + r.h / 2),
                         view_space_colour(&fx.m, ent[k]));
    }
    struct view_rect after = view_legend_swatch(&L, n);
    uint32_t bg = rgb_at(s, after.x + after.w / 2, after.y + after.h / 2);
    for (unsigned k = 0; k < n; k++)
        assert_int_not_equal(bg, view_space_colour(&fx.m, ent[k]));
    SDL_FreeSurface(s);
}

/* Whether the text row at y (a line of labels) has a pixel unlike the background at x. */
static bool inked(SDL_Surface *s, int x, int y, int h, uint32_t bg)
{
    for (int dy = 2; dy < h - 2; dy++)
        if (rgb_at(s, x, y + dy) != bg)
            return true;
    return false;
}

/* The guest-time row under the axis (the trace has --ips): a label centred on each tick that
 * fits, blank halfway between two ticks. */
static void check_guest_time_ticks(SDL_Surface *s, const struct view_layout *L,
                                   const struct view_state *st)
{
    assert_true(fx.m.ips > 0);
    double step = view_tick_step(L, st);
    uint32_t bg = rgb_at(s, L->lane_x0 - 4, L->time_y + 1);
    int labels = 0;
    for (double t = ceil(st->t0 / step) * step; t <= st->t0 + st->span; t += step) {
        int x = (int)view_x_of(L, st, t), xm = (int)view_x_of(L, st, t + step / 2);
        if (x < L->lane_x0 + 40 || x > L->lane_x1 - 40)
            continue; /* a label at the edge may be left out */
        if (!inked(s, x, L->time_y, L->line_h, bg) && !inked(s, x - 2, L->time_y, L->line_h, bg) &&
            !inked(s, x + 2, L->time_y, L->line_h, bg))
            fail_msg("no guest-time label under the tick at %.0f (x=%d, y=%d)", t, x, L->time_y);
        if (xm < L->lane_x1 - 40 && inked(s, xm, L->time_y, L->line_h, bg))
            fail_msg("ink between the ticks at %.0f and %.0f (x=%d)", t, t + step, xm);
        labels++;
    }
    assert_true(labels >= 3);
}

static void test_syscall_on_ring0(void **state)
{
    (void)state;
    /* The first system call with a return, from ring 3. */
    size_t i = 0;
    while (i < fx.m.n && !(fx.m.ev[i].cls == VC_SYSCALL && fx.m.ev[i].pair > (int32_t)i &&
                           fx.m.ev[i].cpl_from == 3))
        i++;
    assert_true(i < fx.m.n);
    uint64_t a = fx.m.ev[i].icount, b = fx.m.ev[fx.m.ev[i].pair].icount;
    uint64_t span = 4 * (b - a), at = a + (b - a) / 2;
    char extra[128];
    snprintf(extra, sizeof extra, "--at %" PRIu64 " --span %" PRIu64, at, span);
    SDL_Surface *s = shot("syscall", extra);
    struct view_state st;
    whole_state(&st);
    st.span = (double)span;
    view_state_center(&st, &fx.m, (double)at);
    struct view_layout L;
    view_layout_make(&L, W, H, 1.0f, view_rings_used(&fx.m));
    int x = (int)view_x_of(&L, &st, (double)at);
    uint32_t c = view_space_colour(&fx.m, fx.m.ev[i].space_from);
    if (rgb_at(s, x, L.lane_y[0]) != c)
        fail_msg("ring 0 at x=%d (icount %" PRIu64 "): %06x, not the caller's %06x", x, at,
                 rgb_at(s, x, L.lane_y[0]), c);
    assert_int_not_equal(rgb_at(s, x, L.lane_y[3]), c);
    /* Before the call the path is on ring 3, not ring 0. */
    int xb = (int)view_x_of(&L, &st, (double)a) - 10;
    assert_int_equal(rgb_at(s, xb, L.lane_y[3]), c);
    assert_int_not_equal(rgb_at(s, xb, L.lane_y[0]), c);
    /* The system-call marker under ring 3 at the call. */
    int xs = (int)view_x_of(&L, &st, (double)a);
    assert_true(near(s, xs, L.sys_y - 3, 2, VIEW_RGB_SYSCALL));
    check_guest_time_ticks(s, &L, &st);
    SDL_FreeSurface(s);
}

static void test_selection_changes_details(void **state)
{
    (void)state;
    SDL_Surface *a = shot("unselected", "--at 1000000 --span 100000");
    SDL_Surface *b = shot("selected", "--at 1000000 --span 100000 --select 5");
    struct view_layout L;
    view_layout_make(&L, W, H, 1.0f, view_rings_used(&fx.m));
    long differ = 0;
    for (int y = L.details.y; y < L.details.y + L.details.h; y++)
        for (int x = L.details.x; x < L.details.x + L.details.w; x++)
            differ += rgb_at(a, x, y) != rgb_at(b, x, y);
    /* Many lines of text: thousands of pixels. */
    assert_true(differ > 2000);
    SDL_FreeSurface(a);
    SDL_FreeSurface(b);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s RINGSIDE TRACE WORKDIR\n", argv[0]);
        return 2;
    }
    fx.ringside = argv[1];
    fx.trace = argv[2];
    fx.dir = argv[3];
    view_model_init(&fx.m);
    char why[512];
    if (!view_model_load(&fx.m, fx.trace, why, sizeof why)) {
        fprintf(stderr, "%s\n", why);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fault_marker_and_legend),
        cmocka_unit_test(test_syscall_on_ring0),
        cmocka_unit_test(test_selection_changes_details),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    view_model_free(&fx.m);
    return rc;
}
