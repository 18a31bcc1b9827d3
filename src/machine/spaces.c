/* Names of address spaces and system calls (see spaces.h). */
#include "machine/spaces.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "machine/machine.h"

void machine_set_name(struct machine *m, unsigned kind, uint32_t cr3, uint32_t id, const char *name)
{
    struct machine_spaces *s = &m->spaces;
    struct space_name n = { .icount = cpu_icount(&m->cpu), .cr3 = cr3, .pid = id };
    size_t len = 0;
    for (; name && name[len] && len < NAMES_LEN - 1; len++) {
        unsigned char ch = (unsigned char)name[len];
        n.name[len] = ch >= 0x20 && ch < 0x7F ? (char)ch : '?';
    }
    n.name[len] = '\0';
    switch (kind) {
    case NAMES_SPACE:
        if (s->count < MACHINE_MAX_SPACES)
            s->list[s->count++] = n;
        break;
    case NAMES_SYSCALL:
        n.cr3 = 0;
        if (id < MACHINE_SYSCALL_NAMES)
            memcpy(s->syscall[id], n.name, sizeof n.name);
        break;
    case NAMES_SYSCALL_VECTOR:
        n.cr3 = 0;
        if (id < 256)
            s->syscall_vector = (int)id;
        break;
    default:
        return;
    }
    for (unsigned k = 0; k < MACHINE_MAX_SPACE_TAPS; k++)
        if (s->taps[k].fn)
            s->taps[k].fn(s->taps[k].ctx, kind, &n);
}

void machine_names_said(void *ctx, const struct names_said *said)
{
    machine_set_name(ctx, said->cmd, said->cr3, said->id, said->name);
}

const struct space_name *machine_space_find(const struct machine *m, uint32_t cr3)
{
    for (unsigned k = m->spaces.count; k-- > 0;)
        if (m->spaces.list[k].cr3 == cr3)
            return &m->spaces.list[k];
    return NULL;
}

const char *machine_space_label(const struct machine *m, uint32_t cr3, char *buf, size_t len)
{
    const struct space_name *n = machine_space_find(m, cr3);
    if (n)
        snprintf(buf, len, "pid %" PRIu32 " (%s)", n->pid, n->name);
    else
        snprintf(buf, len, "cr3=%08" PRIx32, cr3);
    return buf;
}

unsigned machine_space_count(const struct machine *m)
{
    return m->spaces.count;
}

const struct space_name *machine_space_at(const struct machine *m, unsigned k)
{
    return k < m->spaces.count ? &m->spaces.list[k] : NULL;
}

const char *machine_syscall_name(const struct machine *m, uint32_t nr)
{
    return nr < MACHINE_SYSCALL_NAMES && m->spaces.syscall[nr][0] ? m->spaces.syscall[nr] : NULL;
}

int machine_syscall_vector(const struct machine *m)
{
    return m->spaces.syscall_vector;
}

int machine_add_space_tap(struct machine *m, space_tap_fn fn, void *ctx)
{
    for (unsigned k = 0; fn && k < MACHINE_MAX_SPACE_TAPS; k++) {
        if (!m->spaces.taps[k].fn) {
            m->spaces.taps[k].fn = fn;
            m->spaces.taps[k].ctx = ctx;
            return 0;
        }
    }
    return -1;
}

int machine_remove_space_tap(struct machine *m, space_tap_fn fn, void *ctx)
{
    for (unsigned k = 0; fn && k < MACHINE_MAX_SPACE_TAPS; k++) {
        if (m->spaces.taps[k].fn == fn && m->spaces.taps[k].ctx == ctx) {
            m->spaces.taps[k].fn = NULL;
            m->spaces.taps[k].ctx = NULL;
            return 0;
        }
    }
    return -1;
}
