/* Events in words: the one formatter every client uses to turn a struct trace_event (or the
 * detail of a fault) into text — the `--log int` line, later `ringside log`, the view's
 * details panel and gdb's monitor output. The core formats nothing; text is made here, only
 * when someone reads it.
 *
 * The event line, in the style of QEMU's `-d int` (one line each; shown wrapped here), with
 * the address space first and what the event was after " | ":
 *
 *   icount: pid 5 (nullderef) v=0e e=0004 i=0 cpl=3 IP=001b:08048e38 <main+0x18>
 *           SP=0023:bfffefb0 CR2=00000000 -> cpl=0 IP=0008:001000c8 <stub_14> SP=0010:00112598
 *           | #PF(0x0004): user read of 0x00000000: PDE[0] U=0 W=1, PTE[0] P=0 — page not present
 *   icount: pid 1 (hello) iret cpl=0 IP=0008:00100249 <trap_return+0x14> SP=0010:0011059c
 *           -> cpl=3 IP=001b:08048033 <syscall_int80+0x13> SP=0023:bfffef78
 *           | back from int 0x80 syscall 3 (getpid) at 556988, 124 instructions
 *   icount: cr3=00010000 hlt cpl=0 IP=0008:00100a60
 *   icount: cr3=00010000 shutdown (triple fault) v=0e e=0002 cpl=0 IP=0008:0010006b CR2=007ffffc
 *           | triple fault: #PF(0x0000): ... -> #PF(0x0002): ... -> #PF(0x0002): ...
 *   icount: cr3=00120000 cr3 cpl=0 IP=0008:00100300 CR3=00120000 -> 00131000 cr3=00131000
 *
 * v, e and i are QEMU's vector, error code and "software interrupt" flag; "->" gives where
 * the event went, including the CPL change. An exception's line ends with its name from the
 * exception table, its error code and why it happened (describe_fault); names, symbols and
 * the pairing of returns come from the client's context (describe_event_in).
 */
#ifndef RINGSIDE_DESCRIBE_H
#define RINGSIDE_DESCRIBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cpu/event.h"

/* The name of an event kind ("exception", "iret", "task switch", "cr3", ...), "?" if none. */
const char *trace_kind_name(unsigned kind);

struct fault;

/* What a client knows beyond an event, to name things in it (every member optional). */
struct describe_names {
    /* The space whose page directory is at cr3, "pid 4 (spin)"; NULL: shown as cr3=... */
    const char *(*space)(void *ctx, uint32_t cr3);
    /* System call nr's name ("write"), NULL when not known. */
    const char *(*syscall)(void *ctx, uint32_t nr);
    /* The ISA IRQ line (0..15) an external interrupt's vector comes from, -1 if not known. */
    int (*irq)(void *ctx, unsigned vector);
    /* addr in the space cr3 as "symbol+0x12" into buf; false when no symbol covers it. */
    bool (*symbol)(void *ctx, uint32_t cr3, uint32_t addr, char *buf, size_t len);
    /* The three faults of the triple fault that just happened (struct fault, cpu/cpu.h);
     * false when not known (then only the last is told). */
    bool (*shutdown)(void *ctx, struct fault *three);
    void *ctx;
    int syscall_vector;       /* the INT n that makes system calls; -1: not known (0x80) */
};

#define DESCRIBE_SPACES 64 /* address spaces whose open entries are followed */
#define DESCRIBE_DEPTH 8   /* open entries (nested, or never returned) kept per space */

/* The entries of one space that have not returned yet. */
struct describe_stack {
    bool used;
    uint8_t n;
    uint32_t cr3;
    struct trace_event e[DESCRIBE_DEPTH];
};

/* A reader of a stream of events: the names, and the entries waiting for their return (a
 * return is paired with the newest open entry of the space it returns to whose CS, CPL and
 * stack pointer it restores; entries above that one never returned). */
struct describe_ctx {
    struct describe_names names;
    struct describe_stack stacks[DESCRIBE_SPACES];
};

/* A context with these names (NULL: none); pass every event of the stream, in order, to
 * describe_event_in. */
void describe_ctx_init(struct describe_ctx *d, const struct describe_names *names);

/* One line for the event in a stream (no newline) into buf, like snprintf:
 *
 *   icount: SPACE v=0e e=0004 i=0 cpl=3 IP=001b:08048010 <main+0x10> SP=... CR2=00000000
 *           -> cpl=0 IP=0008:00100a40 <isr14> SP=... | #PF(0x0004): user read of ...
 *   icount: SPACE v=80 ... | int 0x80 syscall 1 (write)
 *   icount: SPACE iret ... | back from int 0x80 syscall 1 (write) at 15800, 46 instructions
 *   icount: SPACE v=20 ... | IRQ0 timer
 *
 * SPACE is the address space the event happened in (before.cr3): its name, or cr3=XXXXXXXX.
 * Every exception ends with its name, error code and reason (describe_fault), or the
 * exception's long name when no reason is known; an event that changes CR3 ends with
 * "now SPACE". d may be NULL (no names, no pairing). */
int describe_event_in(struct describe_ctx *d, const struct trace_event *ev, char *buf,
                      size_t len);

/* Follows a stream's entries and returns without words (describe_event_in does it too):
 * remembers an entry; for a return, fills *entry with the entry it goes back from and returns
 * true. */
bool describe_track(struct describe_ctx *d, const struct trace_event *ev,
                    struct trace_event *entry);
/* The event is a system call: SYSENTER, or INT n of the system-call vector (0x80 when the
 * context names none). */
bool describe_is_syscall(const struct describe_ctx *d, const struct trace_event *ev);

/* An entry's short name, for a slice in a timeline: the system call's name ("write", or
 * "syscall 4" when the kernel named none), the exception's ("#PF"), the interrupt's source
 * ("IRQ0 timer", "LAPIC timer", "interrupt 0x30"), "int 0x30", "int3 (#BP)", "lcall". d may be
 * NULL (no names). */
int describe_entry_name(const struct describe_ctx *d, const struct trace_event *ev, char *buf,
                        size_t len);

/* The three steps of a triple fault, each as describe_fault (the shutdown line ends with them
 * when the context knows them: "| triple fault: #GP(0x0102): ... -> #DF(0x0000): double
 * fault -> #GP(0x0042): ..."). */
int describe_shutdown(const struct fault *f, char *buf, size_t len); /* f: three faults */

/* An exception's or a triple fault's explanation: describe_fault, or for a shutdown whose
 * steps the context knows, describe_shutdown. */
int describe_fault_of(const struct describe_ctx *d, const struct trace_event *ev, char *buf,
                      size_t len);

/* describe_event_in without a context. */
int describe_event(const struct trace_event *ev, char *buf, size_t len);

/* What made a fault, in words, "" when nothing is known (FD_NONE):
 *   #PF        "user read of 0x00000000: PDE[0] U=0 W=1, PTE[0] P=0 — page not present"
 *   selectors  "IDT gate 0x80 has DPL 0 < CPL 3", "selector beyond the GDT limit 0x27" */
int describe_fault_detail(const struct fault_detail *d, char *buf, size_t len);

/* The fault as a whole: "#GP(0x0402): IDT gate 0x80 has DPL 0 < CPL 3", "#UD", "vector 15"
 * (the name from the exception table, the error code when there is one, the detail). */
int describe_fault(unsigned vector, bool has_error, uint32_t error,
                   const struct fault_detail *d, char *buf, size_t len);

/* A descriptor's type in words with its article, from S and the type field (stype = S << 4 |
 * type): "a 32-bit interrupt gate", "a readable code segment", "an available 32-bit TSS". */
int describe_desc_type(unsigned stype, char *buf, size_t len);

#endif
