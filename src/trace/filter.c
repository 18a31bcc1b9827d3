/* Event filters and address-space names (see filter.h). */
#include "trace/filter.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace/describe.h"

/* A whole number (decimal, or hex after 0x) up to max. */
static bool number(const char *s, uint64_t max, uint64_t *out)
{
    int base = 10;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    }
    if (!*s)
        return false;
    uint64_t v = 0;
    for (; *s; s++) {
        unsigned d;
        if (*s >= '0' && *s <= '9')
            d = (unsigned)(*s - '0');
        else if (base == 16 && *s >= 'a' && *s <= 'f')
            d = (unsigned)(*s - 'a' + 10);
        else if (base == 16 && *s >= 'A' && *s <= 'F')
            d = (unsigned)(*s - 'A' + 10);
        else
            return false;
        if (v > (UINT64_MAX - d) / (unsigned)base)
            return false;
        v = v * (unsigned)base + d;
    }
    if (v > max)
        return false;
    *out = v;
    return true;
}

int trace_filter_parse(const struct trace_filter_spec *spec, struct trace_filter *f, char *err,
                       size_t errlen)
{
    *f = (struct trace_filter){ .kind = -1, .vector = -1, .cpl = -1, .to = UINT64_MAX,
                                .space = spec->space };
    uint64_t v;
    if (spec->pid) {
        if (!number(spec->pid, UINT32_MAX, &v)) {
            snprintf(err, errlen, "--pid must be a process number, not '%s'", spec->pid);
            return -1;
        }
        f->has_pid = true;
        f->pid = (uint32_t)v;
    }
    if (spec->kind) {
        for (unsigned k = 0; k < TR_KINDS; k++)
            if (strcmp(spec->kind, trace_kind_name(k)) == 0)
                f->kind = (int)k;
        if (f->kind < 0) {
            char known[256] = "";
            for (unsigned k = 0; k < TR_KINDS; k++) {
                size_t at = strlen(known);
                snprintf(known + at, sizeof known - at, "%s%s", k ? ", " : "",
                         trace_kind_name(k));
            }
            snprintf(err, errlen, "unknown --kind '%s' (known: %s)", spec->kind, known);
            return -1;
        }
    }
    if (spec->vector) {
        if (!number(spec->vector, 255, &v)) {
            snprintf(err, errlen, "--vector must be 0..255 (or 0x0..0xff), not '%s'",
                     spec->vector);
            return -1;
        }
        f->vector = (int)v;
    }
    if (spec->cpl) {
        if (!number(spec->cpl, 3, &v)) {
            snprintf(err, errlen, "--cpl must be 0, 1, 2 or 3, not '%s'", spec->cpl);
            return -1;
        }
        f->cpl = (int)v;
    }
    const char *const *bound[2] = { &spec->from, &spec->to };
    uint64_t *dst[2] = { &f->from, &f->to };
    for (int i = 0; i < 2; i++) {
        if (*bound[i] && !number(*bound[i], UINT64_MAX, dst[i])) {
            snprintf(err, errlen, "%s must be an instruction count, not '%s'",
                     i ? "--to" : "--from", *bound[i]);
            return -1;
        }
    }
    if (f->from > f->to) {
        snprintf(err, errlen, "--from %" PRIu64 " is after --to %" PRIu64, f->from, f->to);
        return -1;
    }
    return 0;
}

bool trace_kind_has_vector(unsigned kind)
{
    return kind == TR_EXCEPTION || kind == TR_INTERRUPT || kind == TR_SOFTINT ||
           kind == TR_SHUTDOWN || kind == TR_TASK;
}

static struct trace_space *find(const struct trace_names *names, uint32_t cr3)
{
    for (size_t i = 0; i < names->n; i++)
        if (names->s[i].cr3 == cr3)
            return &names->s[i];
    return NULL;
}

bool trace_names_set(struct trace_names *names, uint32_t cr3, uint32_t pid, const char *name)
{
    struct trace_space *s = find(names, cr3);
    if (!s) {
        if (names->n == names->cap) {
            size_t cap = names->cap ? 2 * names->cap : 16;
            struct trace_space *p = realloc(names->s, cap * sizeof *p);
            if (!p)
                return false;
            names->s = p;
            names->cap = cap;
        }
        s = &names->s[names->n++];
    }
    *s = (struct trace_space){ .cr3 = cr3, .pid = pid, .named = true };
    snprintf(s->name, sizeof s->name, "%s", name);
    return true;
}

bool trace_names_collect(const struct trace_file *tf, struct trace_names *names)
{
    *names = (struct trace_names){ 0 };
    for (size_t i = 0; i < tf->nrecs; i++) {
        if (tf->recs[i].type != TREC_SPACE)
            continue;
        struct trace_space_rec r;
        trace_record_space(&tf->recs[i], &r);
        if (!trace_names_set(names, r.cr3, r.pid, r.name))
            return false;
    }
    return true;
}

void trace_names_free(struct trace_names *names)
{
    free(names->s);
    *names = (struct trace_names){ 0 };
}

const struct trace_space *trace_names_find(const struct trace_names *names, uint32_t cr3)
{
    return find(names, cr3);
}

void trace_space_label(const struct trace_names *names, uint32_t cr3, char *buf, size_t len)
{
    const struct trace_space *s = find(names, cr3);
    if (s && s->name[0])
        snprintf(buf, len, "%s", s->name);
    else
        snprintf(buf, len, "CR3 0x%08" PRIx32, cr3);
}

/* --space NAME against the space with this CR3. */
static bool space_matches(const char *want, const struct trace_names *names, uint32_t cr3)
{
    char label[TRACE_NAME_MAX + 16];
    trace_space_label(names, cr3, label, sizeof label);
    if (strcmp(want, label) == 0)
        return true;
    uint64_t v;
    const char *num = strncmp(want, "CR3 ", 4) == 0 ? want + 4 : want;
    return number(num, UINT32_MAX, &v) && v == cr3 && num[0] == '0' &&
           (num[1] == 'x' || num[1] == 'X');
}

bool trace_filter_match(const struct trace_filter *f, const struct trace_names *names,
                        const struct trace_event *ev)
{
    if (ev->icount < f->from || ev->icount > f->to)
        return false;
    if (f->kind >= 0 && ev->kind != f->kind)
        return false;
    if (f->vector >= 0 && (!trace_kind_has_vector(ev->kind) || ev->vector != f->vector))
        return false;
    if (f->cpl >= 0 && ev->before.cpl != (unsigned)f->cpl)
        return false;
    if (f->has_pid) {
        const struct trace_space *s = find(names, ev->before.cr3);
        if (!s || s->pid != f->pid)
            return false;
    }
    if (f->space && !space_matches(f->space, names, ev->before.cr3))
        return false;
    return true;
}
