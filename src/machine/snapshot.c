/* Snapshots of a whole machine (see snapshot.h). */
#include "machine/snapshot.h"

#include <stdlib.h>
#include <string.h>

#include "machine/machine.h"

#define PAGE_BYTES 4096u

struct snapshot {
    struct machine *owner;   /* whose RAM holds the pages no snapshot from here on holds */
    struct snapshot *older, *newer; /* the owner's chain */
    uint32_t npages;
    uint8_t **page;          /* page[p]: p as it was at this snapshot; NULL: see snapshot.h */
    size_t saved;            /* pages held */
    bool broken;             /* a page could not be saved: restoring this one is refused */
    /* The state. Device structs are copied whole; only their state fields are put back (the
     * wiring fields are the restored machine's own, see each device's header). */
    struct cpu cpu;          /* cpu_state_save: a record, not a cpu */
    struct uart16550 uart;
    struct pic_pair pic;
    struct pit8254 pit;
    struct cmos cmos;
    /* The standard-PC devices (machine/pc.h): their state halves. */
    struct lapic_state lapic;
    struct ioapic_state ioapic;
    struct hpet_state hpet;
    struct acpipm_state acpipm;
    struct fwcfg_state fwcfg;
    struct crtc_state crtc;
    struct port92_state port92;
    uint64_t deadline[TIMERQ_MAX];
    bool timer_used[TIMERQ_MAX];
    struct machine_input input;
    bool exit_requested;
    int exit_status;
    uint64_t ips;
};

size_t snapshot_ram_bytes(const struct snapshot *s)
{
    return s ? s->saved * PAGE_BYTES : 0;
}

/* Gives snapshot s its own copy of page p from src (false: out of memory). */
static bool save_page(struct snapshot *s, uint32_t p, const uint8_t *src)
{
    uint8_t *copy = malloc(PAGE_BYTES);
    if (!copy)
        return false;
    memcpy(copy, src, PAGE_BYTES);
    s->page[p] = copy;
    s->saved++;
    return true;
}

/* Page p is about to change in m's RAM: the newest snapshot keeps what it was, unless it has
 * it already. */
static void before_ram_write(struct machine *m, uint32_t p)
{
    struct snapshot *n = m->snap_newest;
    if (n && !n->page[p] && !save_page(n, p, m->ram + (size_t)p * PAGE_BYTES)) {
        /* Every snapshot relying on this page is now unusable; mark the whole chain. */
        for (struct snapshot *t = n; t; t = t->older)
            t->broken = true;
    }
}

void snapshot_page_write(void *machine, uint32_t page)
{
    before_ram_write(machine, page);
}

/* Snapshot s's page p: the first copy from s on, else its owner's RAM. */
static const uint8_t *page_at(const struct snapshot *s, uint32_t p)
{
    for (const struct snapshot *t = s; t; t = t->newer)
        if (t->page[p])
            return t->page[p];
    return s->owner->ram + (size_t)p * PAGE_BYTES;
}

/* The first copy of p held from s on, NULL when p has not been written since s. */
static const uint8_t *page_saved(const struct snapshot *s, uint32_t p)
{
    for (const struct snapshot *t = s; t; t = t->newer)
        if (t->page[p])
            return t->page[p];
    return NULL;
}

struct snapshot *machine_snapshot(struct machine *m)
{
    if (m->cpu.jmp_ready)
        return NULL;
    struct snapshot *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->npages = m->ram_size / PAGE_BYTES;
    s->page = calloc(s->npages, sizeof *s->page);
    if (!s->page) {
        free(s);
        return NULL;
    }
    s->owner = m;
    cpu_state_save(&m->cpu, &s->cpu);
    s->uart = m->uart;
    s->pic = m->pic;
    s->pit = m->pit;
    s->cmos = m->cmos;
    s->lapic = m->lapic.s;
    s->ioapic = m->ioapic.s;
    s->hpet = m->hpet.s;
    s->acpipm = m->acpipm.s;
    s->fwcfg = m->fwcfg.s;
    s->crtc = m->crtc.s;
    s->port92 = m->port92.s;
    for (unsigned k = 0; k < TIMERQ_MAX; k++) {
        s->timer_used[k] = m->timers.t[k].fire != NULL;
        s->deadline[k] = m->timers.t[k].deadline;
    }
    s->input = m->input;
    s->exit_requested = m->bus.exit_requested;
    s->exit_status = m->bus.exit_status;
    s->ips = m->clock.units_per_sec;

    s->older = m->snap_newest;
    if (s->older)
        s->older->newer = s;
    m->snap_newest = s;
    for (uint32_t p = 0; p < s->npages; p++)
        cpu_watch_page(&m->cpu, p);
    cpu_watch_commit(&m->cpu);
    return s;
}

/* The device state of s into m, keeping m's wiring. */
static void load_devices(struct machine *m, const struct snapshot *s)
{
    struct uart16550 u = s->uart;
    u.base = m->uart.base;
    u.output = m->uart.output;
    u.output_ctx = m->uart.output_ctx;
    u.irq = m->uart.irq;
    m->uart = u;

    memcpy(m->pic.chip, s->pic.chip, sizeof m->pic.chip);

    memcpy(m->pit.ctr, s->pit.ctr, sizeof m->pit.ctr);

    struct cmos c = s->cmos;
    c.clock = m->cmos.clock;
    m->cmos = c;

    m->lapic.s = s->lapic;
    m->ioapic.s = s->ioapic;
    m->hpet.s = s->hpet;
    m->acpipm.s = s->acpipm;
    m->fwcfg.s = s->fwcfg;
    m->crtc.s = s->crtc;
    m->port92.s = s->port92;

    for (unsigned k = 0; k < TIMERQ_MAX; k++)
        if (m->timers.t[k].fire)
            m->timers.t[k].deadline = s->deadline[k];

    struct machine_input in = s->input;
    in.refill = m->input.refill;
    in.refill_ctx = m->input.refill_ctx;
    in.timer = m->input.timer;
    m->input = in;

    m->bus.exit_requested = s->exit_requested;
    m->bus.exit_status = s->exit_status;
    m->clock.units_per_sec = s->ips;
}

/* Same RAM size and the same timers in the same slots: the same kind of machine. */
static bool compatible(const struct machine *m, const struct snapshot *s)
{
    if (m->ram_size != s->owner->ram_size)
        return false;
    for (unsigned k = 0; k < TIMERQ_MAX; k++)
        if ((m->timers.t[k].fire != NULL) != s->timer_used[k])
            return false;
    return true;
}

int machine_restore(struct machine *m, const struct snapshot *s)
{
    if (!s || s->broken || m->cpu.jmp_ready || !compatible(m, s))
        return -1;
    for (uint32_t p = 0; p < s->npages; p++) {
        const uint8_t *src = m == s->owner ? page_saved(s, p) : page_at(s, p);
        if (!src)
            continue; /* not written since s: RAM already holds it */
        uint8_t *dst = m->ram + (size_t)p * PAGE_BYTES;
        if (src == dst || !memcmp(dst, src, PAGE_BYTES))
            continue;
        before_ram_write(m, p);
        memcpy(dst, src, PAGE_BYTES);
    }
    if (cpu_state_load(&m->cpu, &s->cpu) < 0)
        return -1; /* cannot happen: checked above */
    load_devices(m, s);
    if (m->realtime)
        machine_set_realtime(m, true);
    return 0;
}

void snapshot_free(struct snapshot *s)
{
    if (!s)
        return;
    struct snapshot *o = s->older;
    for (uint32_t p = 0; p < s->npages; p++) {
        if (!s->page[p])
            continue;
        if (o && !o->page[p]) {
            o->page[p] = s->page[p]; /* o relied on this copy */
            o->saved++;
        } else {
            free(s->page[p]);
        }
    }
    if (o && s->broken)
        o->broken = true;
    if (o)
        o->newer = s->newer;
    if (s->newer)
        s->newer->older = o;
    else
        s->owner->snap_newest = o;
    /* Watching stays right: a page the newest snapshot lacks was lacked by s too, so it has
     * not been written since s and is still watched. */
    free(s->page);
    free(s);
}

void snapshot_free_all(struct machine *m)
{
    while (m->snap_newest)
        snapshot_free(m->snap_newest);
}
