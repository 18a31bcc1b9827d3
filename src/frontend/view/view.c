/* The view's screenshot and window (see view.h). */
#include "frontend/view/view.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <SDL.h>
#include <SDL_image.h>
#include <SDL_ttf.h>

void view_state_init(struct view_state *st, const struct view_model *m)
{
    *st = (struct view_state){ .selected = -1, .space_filter = -1, .vector_filter = -1,
                               .scale = 1.0f, .console_top = -1 };
    view_state_fit(st, m);
}

bool view_screenshot(const struct view_model *m, const struct view_state *st, int w, int h,
                     const char *out, const struct view_details *d, char *why, size_t whylen)
{
    bool ok = false;
    SDL_Surface *s = SDL_CreateRGBSurfaceWithFormat(0, w, h, 32, SDL_PIXELFORMAT_ARGB8888);
    SDL_Renderer *r = s ? SDL_CreateSoftwareRenderer(s) : NULL;
    struct view_render *R = NULL;
    if (!r) {
        snprintf(why, whylen, "cannot make a %dx%d software renderer: %s", w, h,
                 SDL_GetError());
        goto done;
    }
    R = view_render_new(r, st->scale, why, whylen);
    if (!R)
        goto done;
    struct view_layout L;
    view_layout_make(&L, w, h, st->scale, view_rings_used(m));
    view_render_frame(R, m, st, &L, d);
    SDL_RenderPresent(r);
    /* Written beside out, then renamed: never a half-written PNG under its name. */
    size_t n = strlen(out) + 16;
    char *tmp = malloc(n);
    if (!tmp) {
        snprintf(why, whylen, "out of memory");
        goto done;
    }
    snprintf(tmp, n, "%s.tmp%ld", out, (long)getpid());
    errno = 0;
    if (IMG_SavePNG(s, tmp) != 0) {
        snprintf(why, whylen, "cannot write %s: %s", out,
                 errno ? strerror(errno) : IMG_GetError());
        unlink(tmp);
    } else if (rename(tmp, out) != 0) {
        snprintf(why, whylen, "cannot write %s: %s", out, strerror(errno));
        unlink(tmp);
    } else {
        ok = true;
    }
    free(tmp);
done:
    view_render_free(R);
    if (r)
        SDL_DestroyRenderer(r);
    if (s)
        SDL_FreeSurface(s);
    return ok;
}

/* The event nearest x in the lanes (within a few pixels), -1 when none. */
static long pick(const struct view_model *m, const struct view_state *st,
                 const struct view_layout *L, int x)
{
    if (m->n == 0)
        return -1;
    double t = view_t_at(L, st, x);
    size_t i = view_model_find(m, t < 0 ? 0 : (uint64_t)t);
    long best = -1;
    double bd = 8 * L->s;
    for (size_t k = i > 2 ? i - 2 : 0; k < m->n && k < i + 2; k++) {
        double d = fabs(view_x_of(L, st, (double)m->ev[k].icount) - x);
        if (d <= bd && m->ev[k].cls != VC_RETURN) {
            bd = d;
            best = (long)k;
        }
    }
    return best;
}

static void select_event(struct view_state *st, const struct view_model *m, long i)
{
    if (i < 0)
        return;
    st->selected = i;
    double t = (double)m->ev[i].icount;
    if (t < st->t0 || t > st->t0 + st->span)
        view_state_center(st, m, t);
}

static const unsigned filter_cycle[] = { 0, VIEW_CLASS_BIT(VC_SYSCALL),
                                         VIEW_CLASS_BIT(VC_INTERRUPT),
                                         VIEW_CLASS_BIT(VC_FAULT) | VIEW_CLASS_BIT(VC_SHUTDOWN) };

static void key(SDL_Keycode k, SDL_Keymod mod, struct view_model *m, struct view_state *st,
                struct view_render *R, struct view_live *live, bool *running, bool *quit)
{
    double mid = st->t0 + st->span / 2;
    switch (k) {
    case SDLK_q:
    case SDLK_ESCAPE: *quit = true; break;
    case SDLK_h:
    case SDLK_QUESTION:
    case SDLK_SLASH: st->help = !st->help; break;
    case SDLK_PLUS:
    case SDLK_EQUALS:
    case SDLK_KP_PLUS: view_state_zoom(st, m, 0.5, mid); break;
    case SDLK_MINUS:
    case SDLK_KP_MINUS: view_state_zoom(st, m, 2.0, mid); break;
    case SDLK_0: view_state_fit(st, m); break;
    case SDLK_LEFT: view_state_pan(st, m, -st->span * ((mod & KMOD_SHIFT) ? 1.0 : 0.1)); break;
    case SDLK_RIGHT: view_state_pan(st, m, st->span * ((mod & KMOD_SHIFT) ? 1.0 : 0.1)); break;
    case SDLK_n: select_event(st, m, view_state_step(st, m, 1)); break;
    case SDLK_p: select_event(st, m, view_state_step(st, m, -1)); break;
    case SDLK_f: {
        size_t n = sizeof filter_cycle / sizeof filter_cycle[0], i = 0;
        while (i < n && filter_cycle[i] != st->class_filter)
            i++;
        st->class_filter = filter_cycle[(i + 1) % n];
        break;
    }
    case SDLK_v: {
        long next = -1;
        for (size_t s = (size_t)(st->space_filter + 1); s < m->nsp; s++)
            if (!view_space_is_boot(m, (unsigned)s)) {
                next = (long)s;
                break;
            }
        st->space_filter = next;
        break;
    }
    case SDLK_x:
        /* Only the selected event's vector (again: any vector). */
        if (st->vector_filter >= 0 || st->selected < 0)
            st->vector_filter = -1;
        else
            st->vector_filter = m->ev[st->selected].vector;
        break;
    case SDLK_RETURN:
        if (st->selected >= 0 && m->ev[st->selected].pair > (int32_t)st->selected) {
            double a = (double)m->ev[st->selected].icount;
            double b = (double)m->ev[m->ev[st->selected].pair].icount;
            double pad = (b - a) * 0.25 + 4;
            st->t0 = a - pad;
            st->span = b - a + 2 * pad;
            view_state_pan(st, m, 0);
        }
        break;
    case SDLK_c: st->console_top = -1; break;
    case SDLK_UP:
        if (m->nlines == 0)
            break;
        if (st->console_top < 0)
            st->console_top = (long)m->nlines > 10 ? (long)m->nlines - 10 : 0;
        if (st->console_top > 0)
            st->console_top--;
        if ((size_t)st->console_top < m->nlines)
            view_state_center(st, m, (double)m->lines[st->console_top].icount);
        break;
    case SDLK_DOWN:
        if (m->nlines == 0)
            break;
        if (st->console_top < 0)
            st->console_top = (long)m->nlines > 10 ? (long)m->nlines - 10 : 0;
        if ((size_t)st->console_top + 1 < m->nlines)
            st->console_top++;
        view_state_center(st, m, (double)m->lines[st->console_top].icount);
        break;
    case SDLK_s: {
        float next = st->scale < 1.25f ? 1.5f : st->scale < 1.75f ? 2.0f : 1.0f;
        if (view_render_set_scale(R, next))
            st->scale = next;
        break;
    }
    case SDLK_SPACE:
        if (live)
            st->paused = !st->paused;
        break;
    case SDLK_LEFTBRACKET:
        if (live && live->per_frame > 1)
            live->per_frame /= 2;
        break;
    case SDLK_RIGHTBRACKET:
        if (live && live->per_frame < 1000000000u)
            live->per_frame *= 2;
        break;
    case SDLK_PERIOD:
        if (live && *running) {
            st->paused = true;
            size_t before = m->n;
            *running = live->step(live->ctx);
            if (m->n > before)
                select_event(st, m, (long)m->n - 1);
        }
        break;
    default: break;
    }
}

bool view_window(struct view_model *m, struct view_state *st, int w, int h,
                 const struct view_details *d, struct view_live *live, char *why,
                 size_t whylen)
{
    const char *drv = getenv("SDL_VIDEODRIVER");
    if (!(drv && *drv) && !getenv("DISPLAY") && !getenv("WAYLAND_DISPLAY")) {
        /* SDL would fall back to an invisible driver and wait for a close nobody can make. */
        snprintf(why, whylen, "no display (DISPLAY and WAYLAND_DISPLAY are not set); "
                              "use --screenshot OUT for a PNG");
        return false;
    }
    const char *x = getenv("DISPLAY"), *wl = getenv("WAYLAND_DISPLAY");
    char where[160];
    snprintf(where, sizeof where, "%s%s", x && *x ? "DISPLAY=" : "WAYLAND_DISPLAY=",
             x && *x ? x : wl ? wl : "");
    if (!(drv && *drv)) {
        /* Only the drivers of the displays named: when none answers, SDL would fall back to
         * one that shows nothing (offscreen, dummy), and the view would draw where nobody
         * sees it and wait for a close nobody can make. */
        SDL_SetHint(SDL_HINT_VIDEODRIVER, x && *x && wl && *wl ? "x11,wayland"
                                          : x && *x            ? "x11"
                                                               : "wayland");
    }
    if (SDL_Init(SDL_INIT_VIDEO) != 0) {
        if (drv && *drv)
            snprintf(why, whylen, "cannot open a window with SDL_VIDEODRIVER=%s (%s); use "
                                  "--screenshot OUT for a PNG", drv, SDL_GetError());
        else
            snprintf(why, whylen, "cannot open a window: no display answers at %s (%s); use "
                                  "--screenshot OUT for a PNG", where, SDL_GetError());
        return false;
    }
    const char *used = SDL_GetCurrentVideoDriver();
    if (!used || !strcmp(used, "offscreen") || !strcmp(used, "dummy")) {
        snprintf(why, whylen, "SDL_VIDEODRIVER=%s shows no window; use --screenshot OUT for a PNG",
                 used ? used : "");
        SDL_Quit();
        return false;
    }
    /* Hidden until the renderer exists: an OpenGL renderer re-creates the window it is given,
     * so a window shown at once would appear, vanish and be replaced by another (a flash on
     * screen, and a window id that dies under anyone who found it, such as xdotool). */
    SDL_Window *win = SDL_CreateWindow("Ringside view", SDL_WINDOWPOS_UNDEFINED,
                                       SDL_WINDOWPOS_UNDEFINED, w, h,
                                       SDL_WINDOW_RESIZABLE | SDL_WINDOW_ALLOW_HIGHDPI |
                                           SDL_WINDOW_HIDDEN);
    if (win)
        SDL_SetWindowMinimumSize(win, 640, 480);
    SDL_Renderer *r = win ? SDL_CreateRenderer(win, -1, SDL_RENDERER_PRESENTVSYNC) : NULL;
    if (win && !r)
        r = SDL_CreateRenderer(win, -1, SDL_RENDERER_SOFTWARE);
    if (!r) {
        snprintf(why, whylen, "cannot open a window: %s", SDL_GetError());
        if (win)
            SDL_DestroyWindow(win);
        SDL_Quit();
        return false;
    }
    struct view_render *R = view_render_new(r, st->scale, why, whylen);
    if (!R) {
        SDL_DestroyRenderer(r);
        SDL_DestroyWindow(win);
        SDL_Quit();
        return false;
    }
    SDL_ShowWindow(win);
    bool quit = false, running = live != NULL, dragging = false, follow = live != NULL;
    int drag_x = 0;
    while (!quit) {
        SDL_Event e;
        int ow, oh;
        SDL_GetRendererOutputSize(r, &ow, &oh);
        struct view_layout L;
        view_layout_make(&L, ow, oh, st->scale, view_rings_used(m));
        while (SDL_PollEvent(&e)) {
            switch (e.type) {
            case SDL_QUIT: quit = true; break;
            case SDL_KEYDOWN:
                key(e.key.keysym.sym, (SDL_Keymod)e.key.keysym.mod, m, st, R, live, &running,
                    &quit);
                if (e.key.keysym.sym == SDLK_0)
                    follow = live != NULL;
                else if (e.key.keysym.sym != SDLK_SPACE && e.key.keysym.sym != SDLK_h)
                    follow = false;
                break;
            case SDL_MOUSEWHEEL: {
                int mx, my;
                SDL_GetMouseState(&mx, &my);
                double t = mx >= L.lane_x0 && mx < L.lane_x1 ? view_t_at(&L, st, mx)
                                                             : st->t0 + st->span / 2;
                view_state_zoom(st, m, e.wheel.y > 0 ? 0.8 : 1.25, t);
                follow = false;
                break;
            }
            case SDL_MOUSEBUTTONDOWN: {
                if (st->help) {
                    st->help = false;
                    break;
                }
                int x = e.button.x, y = e.button.y;
                if (y >= L.overview.y && y < L.overview.y + L.overview.h && x >= L.overview.x) {
                    double whole = (double)(m->end_icount - m->start_icount);
                    view_state_center(st, m, (double)m->start_icount +
                                                 (x - L.overview.x) / (double)L.overview.w *
                                                     whole);
                    follow = false;
                } else if (x >= L.timeline.x && x < L.timeline.x + L.timeline.w &&
                           y >= L.timeline.y && y < L.timeline.y + L.timeline.h) {
                    long i = pick(m, st, &L, x);
                    if (i >= 0)
                        st->selected = i;
                    dragging = true;
                    drag_x = x;
                } else if (x >= L.console.x && x < L.console.x + L.console.w) {
                    /* A console line: the timeline goes to it (and the pane stays put). */
                    int y0, ch = view_render_line_h(R);
                    int rows = view_console_rows(&L, ch, &y0);
                    size_t top = view_console_top(m, st, rows);
                    if (y >= y0 && (y - y0) / ch < rows && top + (size_t)((y - y0) / ch) <
                                                               m->nlines) {
                        size_t k = top + (size_t)((y - y0) / ch);
                        st->console_top = (long)top;
                        view_state_center(st, m, (double)m->lines[k].icount);
                        st->selected = -1;
                        long i = (long)view_model_find(m, m->lines[k].icount);
                        if (i > 0)
                            st->selected = i - 1; /* the transition before the line */
                        follow = false;
                    }
                }
                break;
            }
            case SDL_MOUSEBUTTONUP: dragging = false; break;
            case SDL_MOUSEMOTION:
                if (dragging && (e.motion.state & SDL_BUTTON_LMASK)) {
                    double dt = (drag_x - e.motion.x) / (double)(L.lane_x1 - L.lane_x0) *
                                st->span;
                    view_state_pan(st, m, dt);
                    drag_x = e.motion.x;
                    follow = false;
                }
                break;
            default: break;
            }
        }
        if (live && running && !st->paused) {
            running = live->run(live->ctx, live->per_frame);
            if (follow)
                view_state_fit(st, m);
        }
        view_layout_make(&L, ow, oh, st->scale, view_rings_used(m));
        view_render_frame(R, m, st, &L, d);
        SDL_RenderPresent(r);
        SDL_Delay(live && running && !st->paused ? 1 : 8);
    }
    view_render_free(R);
    SDL_DestroyRenderer(r);
    SDL_DestroyWindow(win);
    SDL_Quit();
    return true;
}
