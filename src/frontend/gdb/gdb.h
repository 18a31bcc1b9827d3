/* The debugger's side of a machine: what gdb asked for (breakpoints, watchpoints, monitor
 * break conditions), why the machine stopped, and the history that reverse execution goes
 * back through. A client of the core: it reads and changes the machine through inspect.h,
 * stops it from an instruction hook or an event sink (event.h), and goes back with snapshots
 * (machine/snapshot.h). Nothing here does I/O: the stub (stub.c) owns the socket.
 *
 *   target.c   registers (the g/p/P/G layout of target.xml), memory by linear address,
 *              the packets, one at a time: gdb_handle()
 *   run.c      breakpoints and watchpoints, the hook and the sink that stop the machine,
 *              resuming (continue, step), stop replies; history and reverse execution
 *   monitor.c  `monitor ...` commands (qRcmd)
 *   input.c    console input logged and re-delivered when a stretch is run again
 *   stub.c     the socket: listen, accept, read packets, run the machine, Ctrl-C
 */
#ifndef RINGSIDE_GDB_H
#define RINGSIDE_GDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <capstone/capstone.h>

#include "frontend/gdb/rsp.h"
#include "frontend/symbols.h"
#include "machine/machine.h"
#include "trace/describe.h"

#define GDB_MAX_POINTS   64u  /* breakpoints and watchpoints at once */
#define GDB_MAX_SNAPS    32u  /* snapshots kept for reverse execution (thinned when full) */
#define GDB_HISTORY_BYTES (512u << 20) /* saved pages above this: the history is thinned */
#define GDB_MONITOR_TEXT 65536u /* the longest monitor output */
#define GDB_SNAP_EVERY   2000000u /* instructions between two snapshots at first */

/* Z/z types. */
enum gdb_point_type { PT_SOFT, PT_HARD, PT_WRITE, PT_READ, PT_ACCESS, PT_TYPES };

struct gdb_point {
    uint8_t type;      /* enum gdb_point_type */
    uint32_t addr;     /* linear */
    uint32_t len;      /* watchpoints: 1..8 bytes */
    uint8_t old[8];    /* a write/access watchpoint: the bytes when the run resumed */
    bool old_ok;       /* old[] could be read */
};

/* Why the machine stopped (the stop reply). */
enum gdb_stop {
    STOP_NONE,
    STOP_STEP,       /* one instruction done (S05) */
    STOP_BREAK,      /* a breakpoint (swbreak/hwbreak) */
    STOP_WATCH,      /* a watchpoint (watch/rwatch/awatch:ADDR) */
    STOP_INTERRUPT,  /* Ctrl-C (S02) */
    STOP_EVENT,      /* a monitor break condition: an event (text in stop_text) */
    STOP_ICOUNT,     /* monitor break icount N */
    STOP_HISTORY,    /* reverse execution reached the start of the history */
    STOP_EXITED,     /* the machine ended (W/X) */
};

/* What a packet asks the caller (the stub) to do once the reply is sent. */
enum gdb_action {
    ACT_REPLY,       /* nothing more */
    ACT_CONTINUE,    /* run until a stop */
    ACT_STEP,        /* one instruction */
    ACT_REVERSE_STEP,
    ACT_REVERSE_CONTINUE,
    ACT_DETACH,      /* gdb leaves; the run goes on */
    ACT_KILL,        /* end the run */
    ACT_MONITOR,     /* send t->mon as console output (O packets), then OK */
};

/* A snapshot in the history. */
struct gdb_snap {
    struct snapshot *s;
    uint64_t icount;
    size_t in_pos;          /* console input bytes delivered when it was taken */
};

/* A console input byte the guest received, at device time `time` (input.c). */
struct gdb_input {
    uint64_t time;
    uint8_t byte;
};

struct gdb_target {
    struct machine *m;
    struct gdb_point pts[GDB_MAX_POINTS];
    unsigned npts;
    /* monitor break conditions */
    bool break_mode;        /* at the next CPL change */
    int break_vector;       /* at an event with this vector, -1: none */
    bool break_syscall;     /* at a system call: INT n or SYSENTER from CPL 3 inward */
    uint64_t break_icount;  /* when icount reaches this, 0: none */
    int break_io;           /* after an IN/OUT/INS/OUTS of this port, -1: none */
    bool pend_io;           /* the instruction just run (at pend_io_icount) accessed it */
    uint64_t pend_io_icount;
    uint64_t end_time;      /* the run ends (RUN_LIMIT) at this device time, 0: never */
    /* the resume in progress */
    bool running;
    bool stepping;
    uint64_t hook_calls;    /* hook calls since the resume (the first is never a stop) */
    bool hooked, sunk;      /* the hook / sink are attached */
    /* read and access watchpoints: the instruction about to run is decoded (Capstone) and
       its explicit memory operands compared; a hit stops before the next instruction */
    csh cs;
    bool cs_open;
    bool pending;           /* the instruction just run read a watched address */
    uint8_t pend_type;
    uint32_t pend_addr;
    /* re-execution (reverse): stop when icount reaches goto_icount; scan for hits */
    bool replaying;
    uint64_t goto_icount;
    bool scanning;
    uint64_t scan_limit, scan_hit; /* the last hit before scan_limit (UINT64_MAX: none) */
    /* why it stopped */
    enum gdb_stop stop;
    uint8_t stop_type;      /* STOP_BREAK/STOP_WATCH: enum gdb_point_type */
    uint32_t stop_addr;     /* STOP_WATCH: the watched address */
    char stop_text[256];    /* STOP_EVENT: the event in words (describe.c) */
    int exit_code;          /* STOP_EXITED: W code */
    int end_result;         /* STOP_EXITED: the enum run_result that ended the machine */
    bool exit_signal;       /* STOP_EXITED by a signal-like end (triple fault): X */
    /* history */
    struct gdb_snap snaps[GDB_MAX_SNAPS];
    unsigned nsnaps;
    uint64_t snap_every;
    uint64_t high_water;    /* the furthest icount run to: console output before it is not
                               written again when re-executed */
    bool history_off;       /* no debugger attached since one left: no snapshots */
    char mon[GDB_MONITOR_TEXT]; /* the last monitor command's text */
    machine_console_fn console;  /* the console the machine had */
    void *console_ctx;
    /* console input (input.c): the client's refill, the bytes delivered so far */
    machine_input_fn refill;
    void *refill_ctx;
    struct gdb_input *in_log;
    size_t in_n, in_cap;
    size_t in_pos;          /* bytes delivered in this pass (< in_n: re-executing) */
    bool in_asked;          /* the client has been asked, last at device time in_asked_time */
    uint64_t in_asked_time;
    bool in_ended;          /* the client ended the input, at device time in_end_time */
    uint64_t in_end_time;
    bool in_tapped;
    bool in_lost;           /* a byte could not be logged (out of memory) */
    /* names in stop texts (describe.h): spaces, system calls, IRQs, symbols (may be NULL) */
    const struct symbols *syms;
    char label[SPACE_LABEL_LEN];
    struct describe_ctx dctx;
};

/* Sets t up for machine m (no hook or sink yet) and wraps its console and its console
 * input; syms (may be NULL) names addresses in stop texts. */
void gdb_target_init(struct gdb_target *t, struct machine *m, const struct symbols *syms);
/* Detaches the hook and sink, frees the history, gives the machine its console back. */
void gdb_target_fini(struct gdb_target *t);

/* One packet (NUL-terminated data) -> the reply in r (not yet framed) and what to do next. */
enum gdb_action gdb_handle(struct gdb_target *t, const char *pkt, size_t len,
                           struct rsp_reply *r);

/* run.c */
int gdb_point_insert(struct gdb_target *t, unsigned type, uint32_t addr, uint32_t len);
int gdb_point_remove(struct gdb_target *t, unsigned type, uint32_t addr, uint32_t len);
/* Prepares a forward resume (step or continue): hook and sink as needed, watch values. */
void gdb_resume(struct gdb_target *t, bool step);
/* Runs at most chunk units of device time; returns true when the machine stopped (t->stop
 * says why), false when the chunk ran out with no stop (call again, after looking for
 * Ctrl-C). Takes history snapshots between chunks. */
bool gdb_run_chunk(struct gdb_target *t, uint64_t chunk);
/* Ctrl-C. */
void gdb_interrupt(struct gdb_target *t);
/* Reverse: one instruction back / back to the previous breakpoint or watchpoint hit. Sets
 * t->stop. */
void gdb_reverse_step(struct gdb_target *t);
void gdb_reverse_continue(struct gdb_target *t);
/* The stop reply for t->stop into r ("T05swbreak:;", "S02", "W01", ...). */
void gdb_stop_reply(const struct gdb_target *t, struct rsp_reply *r);
/* The run result when the machine ended (for the session's report). */
enum run_result gdb_end_result(const struct gdb_target *t);
/* Before the debugger lets go of a machine it took back in time: runs it (no breakpoints) to
 * the furthest point run before, so that console output is not written twice and the input
 * client goes on where it stopped. Returns true when the machine ended on the way (t->stop
 * is STOP_EXITED). */
bool gdb_catch_up(struct gdb_target *t);
/* The debugger left (after gdb_catch_up): forgets every breakpoint, watchpoint and break
 * condition, frees the history and the input log, and takes no snapshot until the stub clears
 * history_off (a debugger attached). */
void gdb_forget(struct gdb_target *t);
/* History figures: snapshots, bytes of RAM pages they hold. */
void gdb_history_stats(const struct gdb_target *t, unsigned *n, size_t *bytes);

/* input.c: wraps the machine's input client / gives it back; the delivered count after a
 * restore. */
void gdb_input_init(struct gdb_target *t);
void gdb_input_fini(struct gdb_target *t);
void gdb_input_rewound(struct gdb_target *t, size_t delivered);

/* monitor.c: the text of `monitor CMD` into out (NUL-terminated, truncated at len). */
void gdb_monitor(struct gdb_target *t, const char *cmd, char *out, size_t len);

#endif
