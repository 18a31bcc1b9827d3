/* Names of the guest's address spaces and system calls, as the guest kernel announces them
 * through the names port (devices/names_port.h, docs/names-port.md), or as a client sets
 * them (a replay restoring a recorded run's names).
 *
 * A space is known by its CR3 (the page directory's physical address): "CR3 X is pid N,
 * name S". A kernel that reuses a page directory for a new process names it again; the newest
 * name wins, and machine_space_count/machine_space_at list every naming in the order it came.
 * Without a name a space is its CR3 (`cr3=00123000`), a system call its number.
 *
 * Taps (up to MACHINE_MAX_SPACE_TAPS) hear of every naming with the instruction count at
 * which it happened: a recorder stores them with the events.
 *
 * The names are observations, not machine state: a snapshot does not save them and a restore
 * keeps the names heard so far.
 */
#ifndef RINGSIDE_SPACES_H
#define RINGSIDE_SPACES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/names_port.h"

struct machine;

#define MACHINE_MAX_SPACES 256u    /* namings kept (later ones are not, but taps hear them) */
#define MACHINE_SYSCALL_NAMES 256u /* system calls 0..255 can be named */
#define MACHINE_MAX_SPACE_TAPS 4u
#define SPACE_LABEL_LEN 48u        /* "pid 4294967295 (" + 31 bytes + ")" and a NUL */

struct space_name {
    uint64_t icount;           /* retired instructions when the guest said it */
    uint32_t cr3;
    uint32_t pid;
    char name[NAMES_LEN];
};

/* Told of every naming: a space (kind NAMES_SPACE, n->cr3, n->pid, n->name), a system call
 * (NAMES_SYSCALL, n->pid holds the number) or the system-call vector (NAMES_SYSCALL_VECTOR,
 * n->pid holds the vector). */
typedef void (*space_tap_fn)(void *ctx, unsigned kind, const struct space_name *n);

struct machine_spaces {
    struct space_name list[MACHINE_MAX_SPACES]; /* in the order they were said */
    unsigned count;
    char syscall[MACHINE_SYSCALL_NAMES][NAMES_LEN]; /* "" when not named */
    int syscall_vector;        /* the INT n of system calls, -1 when not said */
    struct { space_tap_fn fn; void *ctx; } taps[MACHINE_MAX_SPACE_TAPS];
};

/* Records a naming as if the guest had said it (kind: enum names_cmd; for NAMES_SYSCALL and
 * NAMES_SYSCALL_VECTOR, id is the number or vector and cr3 is ignored) and tells the taps. */
void machine_set_name(struct machine *m, unsigned kind, uint32_t cr3, uint32_t id, const char *name);

/* The newest naming of the space cr3, NULL if it has none. */
const struct space_name *machine_space_find(const struct machine *m, uint32_t cr3);
/* The space as a person reads it: "pid 4 (spin)", else "cr3=00123000". Returns buf. */
const char *machine_space_label(const struct machine *m, uint32_t cr3, char *buf, size_t len);
/* Every naming, oldest first. */
unsigned machine_space_count(const struct machine *m);
const struct space_name *machine_space_at(const struct machine *m, unsigned k);

/* System call nr's name, NULL when not named. */
const char *machine_syscall_name(const struct machine *m, uint32_t nr);
/* The INT n vector the kernel named as its system-call gate, -1 if none. */
int machine_syscall_vector(const struct machine *m);

/* Adds a tap; 0, or -1 when MACHINE_MAX_SPACE_TAPS are there. */
int machine_add_space_tap(struct machine *m, space_tap_fn fn, void *ctx);
int machine_remove_space_tap(struct machine *m, space_tap_fn fn, void *ctx);

/* For machine.c: the names port's listener (a names_fn; ctx is the machine). */
void machine_names_said(void *ctx, const struct names_said *said);

#endif
