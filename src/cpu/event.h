/* The event stream: every transition the cpu makes (exceptions, interrupts, INT n, IRET,
 * SYSENTER/SYSEXIT, far transfers through gates, task switches, HLT, shutdown, CR3 loads) as
 * one self-contained struct trace_event, built by one builder (event.c) and handed to every
 * sink that listens. An event holds no pointers: a sink may keep it, copy it to a file or
 * compare it with a recorded one.
 *
 * Emitting is off the hot path: events happen at transitions only, and the dispatch loop never
 * looks at the sinks. The instruction hooks (called before every instruction) are the
 * exception: the loop tests one pointer per block, so with no hook a run pays nothing.
 */
#ifndef RINGSIDE_EVENT_H
#define RINGSIDE_EVENT_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/fault.h"

struct cpu;

/* Transition kinds. */
enum trace_kind {
    TR_EXCEPTION, /* an exception raised by the cpu (or INT1) */
    TR_INTERRUPT, /* an external interrupt */
    TR_SOFTINT,   /* INT n, INT3, INTO */
    TR_IRET,      /* IRET (not to another task: that is TR_TASK) */
    TR_SYSENTER,
    TR_SYSEXIT,
    TR_FARCALL,   /* far CALL through a call gate */
    TR_FARRET,    /* far RET to an outer privilege level */
    TR_FARJMP,    /* far JMP through a call gate */
    TR_HALT,      /* HLT */
    TR_SHUTDOWN,  /* triple fault */
    TR_TASK,      /* a hardware task switch (far JMP/CALL, task gate, IRET with NT) */
    TR_CR3,       /* CR3 loaded (MOV CR3, or a task switch with paging on) */
    TR_KINDS
};

/* Where an external interrupt came from, as the interrupt controller said when the cpu
 * acknowledged it (struct intc in cpu.h); describe.c names it. ISRC_NONE: not said (the 8259A
 * pair, whose IRQ the vector already tells). */
enum intr_source {
    ISRC_NONE,
    ISRC_LAPIC_TIMER,   /* the local APIC's timer (LVT timer) */
    ISRC_LAPIC_LINT,    /* a LINT pin in fixed mode; num: 0 or 1 */
    ISRC_LAPIC_ERROR,   /* the LVT error entry */
    ISRC_IOAPIC,        /* an I/O APIC input; num: the pin */
    ISRC_IPI,           /* an interprocessor interrupt the cpu sent itself (ICR) */
    ISRC_SPURIOUS,      /* the local APIC's spurious vector */
    ISRC_NMI,           /* a non-maskable interrupt (vector 2); num: enum nmi_from */
    ISRC_KINDS
};

/* What sent an NMI (ISRC_NMI's number). */
enum nmi_from {
    NMI_FROM_IPI,       /* the local APIC's ICR, NMI delivery mode, to this cpu */
    NMI_FROM_LINT0,     /* LINT0 in NMI delivery mode */
    NMI_FROM_LINT1,     /* LINT1 in NMI delivery mode (a PC's NMI line) */
    NMI_FROM_IOAPIC = 16, /* + the pin: an I/O APIC redirection entry in NMI delivery mode */
};

/* The state an event changes, before and after it: 16 lanes of 4 bytes (the 14 fields, then
 * two lanes that are always 0), which the trace encoder (trace/format.c) compares four at a
 * time as they are, in the order of its field masks. */
struct trace_state {
    union {
        struct {
            uint32_t r[8];   /* EAX..EDI, in ModRM order (r[ESP] is the stack pointer) */
            uint32_t eip;    /* before: the instruction the event belongs to (for an exception,
                                the faulting one, or the next after a trap); after: where the
                                cpu goes on */
            uint32_t eflags; /* lazy flags folded in */
            uint32_t cr3;
            uint32_t cs, ss; /* selectors (16 bits) */
            uint32_t cpl;    /* 0..3 */
            uint32_t zero[2]; /* 0 */
        };
        uint32_t lane[16];   /* the same, in this order */
    };
};

struct trace_event {
    uint64_t icount;      /* retired instructions when the event happened */
    uint8_t kind;         /* enum trace_kind */
    uint8_t vector;       /* exception/interrupt vector (also of a task gate's event, #DF,
                             shutdown's third fault); 0 for the other kinds */
    bool has_error;       /* an error code was pushed (or, for shutdown, came with the fault) */
    uint32_t error;       /* the error code, 0 when none */
    uint32_t cr2;         /* CR2 after the event (a #PF's linear address) */
    struct trace_state before, after;
    struct fault_detail detail; /* why the fault happened (FD_NONE when not known) */
    uint8_t source;       /* TR_INTERRUPT: enum intr_source; ISRC_NONE for the other kinds */
    uint8_t source_num;   /* the source's pin or number (see enum intr_source), else 0 */
};

/* A listener for events. */
typedef void (*trace_sink_fn)(void *ctx, const struct trace_event *ev);
/* A sink's own end of an event (optional, cpu_add_sink_end): called by trace_end instead of
 * completing the event and calling the sink's trace_sink_fn, whenever that sink is the only
 * one. ev holds everything but the state after and CR2 (trace_event_finish adds them); the
 * function must do what the sink would do with the event completed, and may leave ev as it
 * is (the recorder encodes the state after straight from the cpu). */
typedef void (*trace_end_fn)(void *ctx, struct cpu *c, struct trace_event *ev);
struct trace_sink {
    trace_sink_fn event;
    trace_end_fn end;  /* NULL: none */
    void *ctx;
};
#define CPU_MAX_SINKS 4 /* event sinks at once (a recorder, a log, a view, a debugger) */

/* Called before each instruction (slow path: --log insn, a debugger's single step). A hook
 * that calls cpu_request_stop stops the run before the instruction: it does not execute, EIP
 * stays at it, and cpu_run returns RUN_STOP. */
typedef void (*insn_hook_fn)(void *ctx, struct cpu *c, uint32_t lin_eip);
struct insn_hook {
    insn_hook_fn fn;
    void *ctx;
};
#define CPU_MAX_INSN_HOOKS 4

/* Adds a sink; returns 0, or -1 when CPU_MAX_SINKS are already there or when called from
 * inside a sink (an event in the making would miss its state before). Sinks are called in the
 * order they were added; an event's state is captured only when a sink listens. */
int cpu_add_sink(struct cpu *c, trace_sink_fn fn, void *ctx);
/* The same with the sink's own end of an event (trace_end_fn), used while it is alone. */
int cpu_add_sink_end(struct cpu *c, trace_sink_fn fn, trace_end_fn end, void *ctx);
/* Removes the sink (fn, ctx); returns whether it was there (false from inside a sink). */
bool cpu_remove_sink(struct cpu *c, trace_sink_fn fn, void *ctx);

/* The same for instruction hooks. */
int cpu_add_insn_hook(struct cpu *c, insn_hook_fn fn, void *ctx);
bool cpu_remove_insn_hook(struct cpu *c, insn_hook_fn fn, void *ctx);

/* ---- the builder (used by the core only) ----
 * trace_begin records the kind and the state before the transition; trace_end the state after,
 * counts the event and hands it to every sink. Between the two the transition happens; if it
 * faults, trace_end is never reached and no event is emitted (the fault is delivered as its
 * own event). Both are inline in insn.h (they need struct cpu and cpu_settle): with no sink
 * they only settle the state and count the kind. With a sink, trace_begin fills the fields it
 * was given (constants at most call sites) and calls trace_begin_sinks for the icount and the
 * state before (eip: the EIP the event belongs to); trace_end calls c->end_fn: the one sink's
 * own end (trace_end_fn), or trace_end_sinks, which completes the event and calls every sink. */
void trace_begin_sinks(struct cpu *c, struct trace_event *ev, uint32_t eip);
void trace_end_sinks(void *ctx, struct cpu *c, struct trace_event *ev);
/* The state after and CR2 of an event (what trace_end_sinks adds before calling the sinks). */
void trace_event_finish(struct cpu *c, struct trace_event *ev);

#endif
