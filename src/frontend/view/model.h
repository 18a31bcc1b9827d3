/* The view's model: a run's events, address spaces and console lines in flat arrays, built
 * from a trace file (view_model_load) or fed live by a sink (view_model_add_*), with what the
 * timeline and the panels ask of it: where the CPU was at an instruction count, the rings and
 * markers within a range (level of detail: an OR pyramid over the events, so a column of the
 * whole run costs a few lookups, not one per event), the time per process and the cost of
 * each entry until its matching return. No SDL here: the tests call it directly.
 *
 * The CPU's path is implicit: before event 0 it is at event 0's "before" state from
 * instruction 0; after event i it is at event i's "after" state until event i+1.
 */
#ifndef RINGSIDE_VIEW_MODEL_H
#define RINGSIDE_VIEW_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cpu/event.h"
#include "trace/describe.h"
#include "trace/tracefile.h"

/* What an event is, for markers, filters and costs. */
enum view_class {
    VC_SYSCALL,   /* INT 0x80 or SYSENTER (describe_is_syscall) */
    VC_INTERRUPT, /* an external interrupt */
    VC_FAULT,     /* an exception (or INT n other than the system-call vector) */
    VC_RETURN,    /* IRET, SYSEXIT, far RET */
    VC_SHUTDOWN,  /* triple fault */
    VC_OTHER,     /* HLT, CR3 loads, task switches, far calls and jumps through gates */
    VC_COUNT
};

/* Bits of a range's mask (view_model_mask): the rings visited, then one bit per class. */
#define VIEW_RING_BIT(r) (1u << (r))
#define VIEW_CLASS_BIT(c) (1u << (4 + (c)))
#define VIEW_KILL_BIT (1u << (4 + VC_COUNT)) /* a fault that ended its process */

#define VIEW_NO_SPACE 0xffffu
#define VIEW_SYSCALL_NAMES 256u /* system calls 0..255 can be named */
#define VIEW_LOD_LEVELS 8    /* pyramid levels above the events (8^8 events per top cell) */
#define VIEW_LOD_FAN 8u      /* events per cell of level 1, cells per cell above */

struct view_event {
    uint64_t icount;
    uint32_t rec;            /* the trace record (file) or the index in full[] (live) */
    int32_t pair;            /* an entry: the index of its return; a return: its entry; -1 */
    uint16_t space_from, space_to; /* view_space indexes */
    uint8_t kind, vector, cpl_from, cpl_to, cls;
};

struct view_space {
    uint32_t cr3, pid;
    bool named;
    char name[TRACE_NAME_MAX + 1];
    unsigned colour;         /* index in the palette (the boot space is grey whatever this says) */
    unsigned order;          /* the how-manyth space seen (legend order) */
    uint64_t ring_time[4];   /* instructions spent at each CPL with this CR3 loaded */
    uint32_t nsyscalls;
    size_t last_user;        /* 1 + the last event that entered ring 3 in this space, 0 none */
    size_t last_leave;       /* 1 + the last event that left ring 3 in this space, 0 none */
};

struct view_line {
    uint64_t icount;         /* of the line's first byte */
    char *text;
};

struct view_model {
    /* The file (NULL when live): its records hold the full events. */
    struct trace_file *tf;
    struct trace_event *full; /* live: every event as it came (NULL for a file) */
    size_t nfull, capfull;

    struct view_event *ev;
    size_t n, cap;
    uint16_t *lod[VIEW_LOD_LEVELS + 1]; /* lod[0][i]: event i's mask; lod[l]: OR of FAN cells */
    size_t lodcap[VIEW_LOD_LEVELS + 1];

    struct view_space *sp;
    size_t nsp, capsp;
    unsigned nnamed;
    unsigned boot_space;     /* where the first event began: the kernel's own space */

    size_t *faults;          /* indexes of the fault and shutdown events, in order */
    size_t nfaults, capfaults;

    struct view_line *lines;
    size_t nlines, caplines;
    char part[256];          /* the console line being written */
    size_t npart;
    uint64_t part_icount;

    struct describe_ctx pairing;
    size_t last_user;        /* 1 + the last event that entered ring 3 (any space), 0 none */
    uint64_t kinds[TR_KINDS];
    uint64_t cost_sum[VC_COUNT], cost_n[VC_COUNT];

    uint64_t start_icount;   /* where the path begins (0) */
    uint64_t end_icount;     /* the run's last instruction count known so far */
    uint64_t ips;            /* instructions per guest second (0: not known) */
    bool ended;
    bool shutdown;           /* the run ended in a triple fault */
    uint8_t end_reason;
    uint32_t end_status;
    char title[128];
    char *syscall_names[VIEW_SYSCALL_NAMES]; /* "" / NULL: not named */
    int syscall_vector;      /* the INT n of system calls, -1: not said (0x80 is taken) */
    int (*irq)(void *ctx, unsigned vector); /* live: the ISA IRQ of a vector, NULL: unknown */
    int pic_base[2];         /* a trace's 8259A vector bases (TREC_IRQ), -1: not recorded */
    void *irq_ctx;
    char namebuf[TRACE_NAME_MAX + 32]; /* the space name view_model_names last gave */
};

void view_model_init(struct view_model *m);
void view_model_free(struct view_model *m);

/* Loads path into m (which owns the file afterwards). Returns false with one line in why
 * when the trace cannot be used (missing, not a trace, another version, nothing in it); a
 * truncated or damaged trace loads what it holds, with a warning line in why. */
bool view_model_load(struct view_model *m, const char *path, char *why, size_t whylen);

/* Live feeding (and what the loader uses): false when out of memory. */
bool view_model_add_event(struct view_model *m, const struct trace_event *ev, uint32_t rec);
/* A live event: kept in full[] and added. */
bool view_model_add_live(struct view_model *m, const struct trace_event *ev);
bool view_model_add_space(struct view_model *m, uint32_t cr3, uint32_t pid, const char *name);
bool view_model_add_output(struct view_model *m, uint64_t icount, uint8_t byte);
void view_model_set_end(struct view_model *m, uint64_t icount, bool shutdown, uint8_t reason,
                        uint32_t status);

/* Event i in full (decoded from its record, or the live copy). */
void view_model_event(const struct view_model *m, size_t i, struct trace_event *out);

/* The first event with icount >= t (n when none). */
size_t view_model_find(const struct view_model *m, uint64_t t);
/* Where the CPU is at instruction t: its CPL and space. */
void view_model_state_at(const struct view_model *m, uint64_t t, unsigned *cpl,
                         unsigned *space);
/* The OR of the masks of events [a, b) (rings entered and classes), through the pyramid. */
unsigned view_model_mask(const struct view_model *m, size_t a, size_t b);

/* Whether fault event i ended its process (nothing in its space ran in ring 3 after it). */
bool view_model_killed(const struct view_model *m, size_t i);
/* The event at which space s's colour ends because the kernel ended it without a fault (the
 * demo's spin, killed at its CPU limit from a timer interrupt): the run ended by itself (exit or
 * halt), and s last left ring 3 through an external interrupt and never came back. -1: none. */
long view_model_killed_space(const struct view_model *m, size_t s);

/* Whether exception event i came from ring 0 and no ring 3 code ran after it in any space:
 * the kernel went down with it (a panic; a triple fault is its own event). */
bool view_model_panic(const struct view_model *m, size_t i);
/* The event where the run went down: a triple fault, else a panic; -1 when none. */
long view_model_fatal(const struct view_model *m);

/* The space's label: "name (pid N)", "kernel (CR3 0x...)" when never named. */
void view_space_label(const struct view_model *m, unsigned space, char *buf, size_t len);

/* Names system call nr (live: as the guest says it); false when out of memory. */
bool view_model_set_syscall(struct view_model *m, uint32_t nr, const char *name);
/* The system-call vector, as the guest said it (before its first system call). */
void view_model_set_syscall_vector(struct view_model *m, int vector);
/* The name of system call nr, NULL when not known: the one place that names system calls
 * (from the trace's TREC_NAME records, or as a live guest says them). */
const char *view_syscall_name(const struct view_model *m, uint32_t nr);

/* A describe_names on the model: spaces by label, system calls by view_syscall_name. */
void view_model_names(struct view_model *m, struct describe_names *names);

/* Whether space is the kernel's boot space (where the run began) and was never named. */
bool view_space_is_boot(const struct view_model *m, unsigned space);

/* The palette colour (0xRRGGBB) of a space's index. */
uint32_t view_space_colour(const struct view_model *m, unsigned space);

#endif
