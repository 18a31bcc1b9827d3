/* What the details panel knows beyond the trace: the symbols and code bytes of the image and
 * modules the trace's header names (when they can still be read), and Capstone to
 * disassemble them. */
#ifndef RINGSIDE_VIEW_DETAILS_H
#define RINGSIDE_VIEW_DETAILS_H

#include <capstone/capstone.h>

#include "frontend/symbols.h"
#include "frontend/view/render.h"
#include "trace/tracefile.h"

struct view_files {
    struct symbols *syms;   /* NULL: none */
    bool own;               /* syms is freed by view_files_close */
    csh cs;
    bool cs_open;
};

/* Reads the files the trace header h names (what cannot be read adds nothing) and fills d to
 * use them. */
void view_files_open(struct view_files *f, const struct trace_header *h,
                     struct view_details *d);
/* The same on symbols already loaded (a live run's; not freed here). */
void view_files_use(struct view_files *f, struct symbols *syms, struct view_details *d);
void view_files_close(struct view_files *f);

#endif
