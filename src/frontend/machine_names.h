/* What a running machine knows to name things in an event (trace/describe.h's struct
 * describe_names): its address spaces and system calls by the names the guest gave them
 * (machine/spaces.h), the ISA IRQ behind an interrupt vector, addresses as symbol+offset from
 * the images' symbol tables (frontend/symbols.h) and a triple fault's three steps. Used by
 * `--log int` (intlog.c) and the gdb stub's stop texts, so both name things alike. */
#ifndef RINGSIDE_MACHINE_NAMES_H
#define RINGSIDE_MACHINE_NAMES_H

#include "frontend/symbols.h"
#include "machine/machine.h"
#include "trace/describe.h"

struct machine_names {
    struct machine *m;
    const struct symbols *syms;  /* may be NULL: no symbols */
    char label[SPACE_LABEL_LEN]; /* the last space label made (used at once by the formatter) */
};

/* Fills out with callbacks reading m and syms through n (which must outlive their use); the
 * system-call vector is m's at this moment (refresh it before each event with
 * machine_syscall_vector, as the kernel may name it later). */
void machine_names_init(struct machine_names *n, struct machine *m, const struct symbols *syms,
                        struct describe_names *out);

#endif
