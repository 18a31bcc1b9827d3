/* `ringside view TRACE [--screenshot OUT --at I --span N --select K --width PX --height PX]`:
 * a recorded run in a window, or one frame of it as a PNG without a display. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/cli.h"
#include "frontend/commands.h"
#include "frontend/options.h"
#include "frontend/report.h"
#include "frontend/view/details.h"
#include "frontend/view/view.h"

/* A whole decimal number into *v; false when s is not one. */
static bool number(const char *s, uint64_t *v)
{
    if (!s || !*s || *s == '-' || *s == '+')
        return false;
    char *end;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 10);
    if (errno || *end)
        return false;
    *v = x;
    return true;
}

int cmd_view_main(struct cli_options *o, const struct cli_env *env)
{
    (void)env;
    const struct view_cli_options *vo = &o->view;
    uint64_t at = 0, span = 0, sel = 0;
    if (vo->at && !number(vo->at, &at)) {
        report("--at must be a whole number of instructions, not '%s'", vo->at);
        return CLI_EXIT_USAGE;
    }
    if (vo->span && (!number(vo->span, &span) || span == 0)) {
        report("--span must be a whole number of instructions above 0, not '%s'", vo->span);
        return CLI_EXIT_USAGE;
    }
    if (vo->select && !number(vo->select, &sel)) {
        report("--select must be an event number, not '%s'", vo->select);
        return CLI_EXIT_USAGE;
    }
    struct view_model m;
    view_model_init(&m);
    char why[512];
    if (!view_model_load(&m, o->operand, why, sizeof why)) {
        report("%s", why);
        view_model_free(&m);
        return CLI_EXIT_USAGE;
    }
    if (why[0])
        report("%s", why); /* truncated or damaged: shown as far as it goes */
    struct view_state st;
    view_state_init(&st, &m);
    if (vo->span)
        st.span = (double)span;
    if (vo->select) {
        if (sel >= m.n) {
            report("--select %" PRIu64 ": the trace has %zu events (0 to %zu)", sel, m.n,
                   m.n ? m.n - 1 : 0);
            view_model_free(&m);
            return CLI_EXIT_USAGE;
        }
        st.selected = (long)sel;
        if (!vo->at)
            at = m.ev[sel].icount;
    }
    if (vo->at || vo->select)
        view_state_center(&st, &m, (double)at);
    else
        view_state_pan(&st, &m, 0);
    int w = vo->width ? (int)vo->width : VIEW_DEFAULT_W;
    int h = vo->height ? (int)vo->height : VIEW_DEFAULT_H;
    struct view_files files;
    struct view_details details;
    view_files_open(&files, &m.tf->hdr, &details);
    bool ok;
    if (vo->screenshot)
        ok = view_screenshot(&m, &st, w, h, vo->screenshot, &details, why, sizeof why);
    else
        ok = view_window(&m, &st, w, h, &details, NULL, why, sizeof why);
    view_files_close(&files);
    if (!ok)
        report("%s", why);
    bool whole = m.tf->status == TRACE_OK;
    view_model_free(&m);
    return ok && whole ? 0 : CLI_EXIT_USAGE;
}
