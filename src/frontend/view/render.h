/* Drawing one frame of the view with an SDL_Renderer (a window's, or a software renderer on a
 * surface for --screenshot): header, whole-run strip, ring lanes with the CPU's path coloured
 * by address space, markers, legend, details of the selected event, time per process and the
 * console. Text is DejaVu Sans Mono through SDL2_ttf, cached as a glyph atlas. */
#ifndef RINGSIDE_VIEW_RENDER_H
#define RINGSIDE_VIEW_RENDER_H

#include <stdbool.h>
#include <stddef.h>

#include <SDL.h>

#include "frontend/view/layout.h"
#include "frontend/view/model.h"

/* What the details panel can say beyond the trace (the trace's image files, when found). */
struct view_details {
    /* addr as "symbol+0x12" in the space cr3; false when none. */
    bool (*symbol)(void *ctx, const struct view_model *m, uint32_t cr3, uint32_t addr,
                   char *buf, size_t len);
    /* The instruction at addr in the space cr3 as "mov eax, dword ptr [0]" with its bytes
     * ("8b 05 00 00 00 00"); false when its bytes are not known. */
    bool (*disasm)(void *ctx, const struct view_model *m, uint32_t cr3, uint32_t addr,
                   char *text, size_t tlen, char *bytes, size_t blen);
    void *ctx;
};

struct view_render;

/* The path of the font (RINGSIDE_FONT, fontconfig's "DejaVu Sans Mono", the Debian path);
 * false with one line in why when none is found. */
bool view_font_path(char *out, size_t len, char *why, size_t whylen);

/* A renderer's drawing state with the font at this scale; NULL with one line in why. */
struct view_render *view_render_new(SDL_Renderer *r, float scale, char *why, size_t whylen);
void view_render_free(struct view_render *R);
/* The font at another scale; false (and the old font kept) when it cannot be opened. */
bool view_render_set_scale(struct view_render *R, float scale);

/* The height of a line of text. */
int view_render_line_h(const struct view_render *R);

/* Draws a frame (does not present it). */
void view_render_frame(struct view_render *R, const struct view_model *m,
                       const struct view_state *st, const struct view_layout *L,
                       const struct view_details *d);

/* The RGB colours the renderer uses, for the tests. */
#define VIEW_RGB_FAULT 0xef4444u   /* fault markers, killed marks, a triple fault */
#define VIEW_RGB_SYSCALL 0x60a5fau /* system-call markers */
#define VIEW_RGB_IRQ 0xfacc15u     /* interrupt markers */
#define VIEW_RGB_BG 0x15171cu
#define VIEW_RGB_PANEL 0x1f222au

#endif
