/* Breakpoints, watchpoints, resuming and stopping, history and reverse execution (gdb.h).
 *
 * Stopping. Breakpoints and watchpoints live here, not in guest memory: an instruction hook
 * (event.h) looks at each instruction before it runs and stops the run there (the instruction
 * does not execute) when its address has a breakpoint, when a write or access watchpoint's
 * bytes changed since the last look (the instruction before wrote them: the stop comes after
 * the writing instruction, as a data breakpoint's trap does), when a single step is done or
 * when `monitor break icount` is reached. The first instruction of a resume is never a stop,
 * so continuing from a breakpoint goes past it. Monitor break conditions on events (mode,
 * vector, syscall) are an event sink: it stops the run after the instruction that made the
 * event, at the first instruction of where the event went.
 *
 * The hook costs the run its fast path, so it is attached only while something needs it.
 *
 * History. Between two chunks of a forward run (outside cpu_run) a snapshot is taken every
 * snap_every instructions; when GDB_MAX_SNAPS are held, or their saved pages pass
 * GDB_HISTORY_BYTES, every second one is freed and the interval doubles, so memory stays
 * bounded whatever the length of the run (by the larger of GDB_HISTORY_BYTES and what two
 * snapshots hold, at most twice RAM). Going back to instruction count N is: restore the
 * newest snapshot at or before N, run forward with a budget of the instructions to go (device
 * time never advances slower than the count, so it cannot overshoot), then with the hook to
 * the first instruction boundary at N, where a forward breakpoint or step would have stopped
 * (after an interrupt delivered at that boundary; a stop by a monitor break condition is
 * before it). The run is deterministic, so this is the state the machine had at N. Console
 * output already written once is not written again (high_water); console input read from
 * stdin is not read again: input.c delivers the bytes the guest got then, at the same device
 * times.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/inspect.h"
#include "frontend/gdb/gdb.h"
#include "frontend/machine_names.h"
#include "machine/snapshot.h"
#include "trace/describe.h"

/* The machine's console, passed through only for output the run has not produced before. */
static void console_filter(void *ctx, uint8_t byte)
{
    struct gdb_target *t = ctx;
    if (cpu_stat_insns(&t->m->cpu) < t->high_water)
        return;
    if (t->console)
        t->console(t->console_ctx, byte);
}

void gdb_target_init(struct gdb_target *t, struct machine *m, const struct symbols *syms)
{
    memset(t, 0, sizeof *t);
    t->m = m;
    t->syms = syms;
    t->break_vector = -1;
    t->break_io = -1;
    t->snap_every = GDB_SNAP_EVERY;
    t->stop = STOP_INTERRUPT;
    t->console = m->console;
    t->console_ctx = m->console_ctx;
    m->console = console_filter;
    m->console_ctx = t;
    gdb_input_init(t);
}

static void insn_hook(void *ctx, struct cpu *c, uint32_t lin);
static void event_sink(void *ctx, const struct trace_event *ev);

static void set_hook(struct gdb_target *t, bool on)
{
    if (on && !t->hooked)
        t->hooked = cpu_add_insn_hook(&t->m->cpu, insn_hook, t) == 0;
    else if (!on && t->hooked) {
        cpu_remove_insn_hook(&t->m->cpu, insn_hook, t);
        t->hooked = false;
    }
}

static void set_sink(struct gdb_target *t, bool on)
{
    if (on && !t->sunk)
        t->sunk = cpu_add_sink(&t->m->cpu, event_sink, t) == 0;
    else if (!on && t->sunk) {
        cpu_remove_sink(&t->m->cpu, event_sink, t);
        t->sunk = false;
    }
}

void gdb_target_fini(struct gdb_target *t)
{
    set_hook(t, false);
    set_sink(t, false);
    for (unsigned k = 0; k < t->nsnaps; k++)
        snapshot_free(t->snaps[k].s);
    t->nsnaps = 0;
    if (t->cs_open)
        cs_close(&t->cs);
    t->cs_open = false;
    t->m->console = t->console;
    t->m->console_ctx = t->console_ctx;
    gdb_input_fini(t);
}

/* ---- breakpoints and watchpoints ---- */

int gdb_point_insert(struct gdb_target *t, unsigned type, uint32_t addr, uint32_t len)
{
    if (type >= PT_TYPES)
        return -1;
    if (type >= PT_WRITE && (len == 0 || len > 8))
        return -1;
    for (unsigned k = 0; k < t->npts; k++)
        if (t->pts[k].type == type && t->pts[k].addr == addr && t->pts[k].len == len)
            return 0; /* already there */
    if (t->npts == GDB_MAX_POINTS)
        return -1;
    t->pts[t->npts++] = (struct gdb_point){ .type = (uint8_t)type, .addr = addr, .len = len };
    return 0;
}

int gdb_point_remove(struct gdb_target *t, unsigned type, uint32_t addr, uint32_t len)
{
    for (unsigned k = 0; k < t->npts; k++) {
        if (t->pts[k].type == type && t->pts[k].addr == addr && t->pts[k].len == len) {
            t->pts[k] = t->pts[--t->npts];
            return 0;
        }
    }
    return -1;
}

/* Remembers the bytes under each write/access watchpoint. */
static void watch_snapshot(struct gdb_target *t)
{
    for (unsigned k = 0; k < t->npts; k++) {
        struct gdb_point *p = &t->pts[k];
        if (p->type == PT_WRITE || p->type == PT_ACCESS)
            p->old_ok = cpu_read_linear(&t->m->cpu, p->addr, p->old, p->len).status == INSP_OK;
    }
}

/* The first write/access watchpoint whose bytes changed (updating them), NULL if none. */
static struct gdb_point *watch_changed(struct gdb_target *t)
{
    for (unsigned k = 0; k < t->npts; k++) {
        struct gdb_point *p = &t->pts[k];
        if (p->type != PT_WRITE && p->type != PT_ACCESS)
            continue;
        uint8_t now[8];
        bool ok = cpu_read_linear(&t->m->cpu, p->addr, now, p->len).status == INSP_OK;
        if (ok != p->old_ok || (ok && memcmp(now, p->old, p->len) != 0)) {
            memcpy(p->old, now, p->len);
            p->old_ok = ok;
            return p;
        }
    }
    return NULL;
}

/* A breakpoint at lin, NULL if none. */
static const struct gdb_point *break_at(const struct gdb_target *t, uint32_t lin)
{
    for (unsigned k = 0; k < t->npts; k++)
        if (t->pts[k].type <= PT_HARD && t->pts[k].addr == lin)
            return &t->pts[k];
    return NULL;
}

static bool has_read_watch(const struct gdb_target *t)
{
    for (unsigned k = 0; k < t->npts; k++)
        if (t->pts[k].type == PT_READ || t->pts[k].type == PT_ACCESS)
            return true;
    return false;
}

/* A general register by Capstone's name for it, 0 for none. */
static uint32_t cs_reg_value(const struct cpu *c, x86_reg r)
{
    static const x86_reg regs[8] = { X86_REG_EAX, X86_REG_ECX, X86_REG_EDX, X86_REG_EBX,
                                     X86_REG_ESP, X86_REG_EBP, X86_REG_ESI, X86_REG_EDI };
    static const x86_reg regs16[8] = { X86_REG_AX, X86_REG_CX, X86_REG_DX, X86_REG_BX,
                                       X86_REG_SP, X86_REG_BP, X86_REG_SI, X86_REG_DI };
    for (int k = 0; k < 8; k++) {
        if (r == regs[k])
            return cpu_get_reg(c, (enum cpu_reg)(REG_EAX + k));
        if (r == regs16[k])
            return cpu_get_reg(c, (enum cpu_reg)(REG_EAX + k)) & 0xFFFF;
    }
    return 0;
}

/* The base of the segment a memory operand uses. */
static uint32_t cs_seg_base(const struct cpu *c, const cs_x86_op *op)
{
    enum cpu_sreg s = SREG_DS;
    switch (op->mem.segment) {
    case X86_REG_ES: s = SREG_ES; break;
    case X86_REG_CS: s = SREG_CS; break;
    case X86_REG_SS: s = SREG_SS; break;
    case X86_REG_FS: s = SREG_FS; break;
    case X86_REG_GS: s = SREG_GS; break;
    case X86_REG_DS: s = SREG_DS; break;
    default:
        if (op->mem.base == X86_REG_ESP || op->mem.base == X86_REG_EBP ||
            op->mem.base == X86_REG_SP || op->mem.base == X86_REG_BP)
            s = SREG_SS;
        break;
    }
    struct seg_value v;
    return cpu_get_seg(c, s, &v) == INSP_OK ? v.base : 0;
}

/* The implicit stack access of a stack instruction (32-bit code): where, how many bytes,
 * whether it writes; false for other instructions. */
static bool stack_access(const struct cpu *c, unsigned id, uint32_t *addr, unsigned *len,
                         bool *write)
{
    uint32_t esp = cpu_get_reg(c, REG_ESP);
    struct seg_value ss;
    uint32_t base = cpu_get_seg(c, SREG_SS, &ss) == INSP_OK ? ss.base : 0;
    switch (id) {
    case X86_INS_PUSH: case X86_INS_CALL: case X86_INS_PUSHFD:
        *addr = base + esp - 4, *len = 4, *write = true;
        return true;
    case X86_INS_PUSHAL:
        *addr = base + esp - 32, *len = 32, *write = true;
        return true;
    case X86_INS_POP: case X86_INS_RET: case X86_INS_POPFD:
        *addr = base + esp, *len = 4, *write = false;
        return true;
    case X86_INS_POPAL:
        *addr = base + esp, *len = 32, *write = false;
        return true;
    case X86_INS_LEAVE:
        *addr = base + cpu_get_reg(c, REG_EBP), *len = 4, *write = false;
        return true;
    case X86_INS_RETF:
        *addr = base + esp, *len = 8, *write = false;
        return true;
    case X86_INS_IRETD: { /* EIP, CS, EFLAGS, and ESP, SS when it returns to an outer ring */
        uint8_t cs = 0;
        cpu_read_linear(c, base + esp + 4, &cs, 1);
        *addr = base + esp, *len = (cs & 3u) > cpu_get_cpl(c) ? 20 : 12, *write = false;
        return true;
    }
    default:
        return false;
    }
}

/* The first read or access watchpoint that an access [ea, ea+size) hits (a read, or a write
 * for an access watchpoint), NULL if none. */
static const struct gdb_point *watch_hit(const struct gdb_target *t, uint32_t ea,
                                         uint64_t size, bool read, bool write)
{
    for (unsigned p = 0; p < t->npts; p++) {
        const struct gdb_point *w = &t->pts[p];
        bool wants = (w->type == PT_READ && read) || (w->type == PT_ACCESS && (read || write));
        if (wants && ea < (uint64_t)w->addr + w->len && w->addr < (uint64_t)ea + size)
            return w;
    }
    return NULL;
}

/* The instruction at lin decoded by Capstone with its operands, in the code size of CS;
 * NULL when it cannot be read or decoded. Free with cs_free(insn, 1). */
static cs_insn *decode_at(struct gdb_target *t, const struct cpu *c, uint32_t lin)
{
    if (!t->cs_open) {
        if (cs_open(CS_ARCH_X86, CS_MODE_32, &t->cs) != CS_ERR_OK)
            return NULL;
        cs_option(t->cs, CS_OPT_DETAIL, CS_OPT_ON);
        t->cs_open = true;
    }
    struct seg_value cseg;
    cpu_get_seg(c, SREG_CS, &cseg);
    cs_option(t->cs, CS_OPT_MODE, (cseg.attr & SA_DB) ? CS_MODE_32 : CS_MODE_16);
    uint8_t code[16];
    struct xfer x = cpu_read_linear(c, lin, code, sizeof code);
    cs_insn *insn;
    if (x.done == 0 || cs_disasm(t->cs, code, x.done, lin, 1, &insn) != 1)
        return NULL;
    return insn;
}

/* How many times a string instruction with a REP prefix will run its access (E)CX, 0 for
 * none; 1 for any other instruction. */
static uint64_t rep_count(const struct cpu *c, const cs_insn *insn)
{
    const cs_x86 *d = &insn->detail->x86;
    if (d->prefix[0] != X86_PREFIX_REP && d->prefix[0] != X86_PREFIX_REPNE)
        return 1;
    switch (insn->id) {
    case X86_INS_MOVSB: case X86_INS_MOVSW: case X86_INS_MOVSD:
    case X86_INS_CMPSB: case X86_INS_CMPSW: case X86_INS_CMPSD:
    case X86_INS_LODSB: case X86_INS_LODSW: case X86_INS_LODSD:
    case X86_INS_STOSB: case X86_INS_STOSW: case X86_INS_STOSD:
    case X86_INS_SCASB: case X86_INS_SCASW: case X86_INS_SCASD:
    case X86_INS_INSB: case X86_INS_INSW: case X86_INS_INSD:
    case X86_INS_OUTSB: case X86_INS_OUTSW: case X86_INS_OUTSD: {
        uint32_t ecx = cpu_get_reg(c, REG_ECX);
        return d->addr_size == 2 ? (ecx & 0xFFFF) : ecx;
    }
    default:
        return 1;
    }
}

/* Whether the instruction at lin reads (or, for an access watchpoint, reads or writes) a
 * watched byte through an explicit memory operand or the stack (PUSH, POP, CALL, RET, ...):
 * the watchpoint's type and address. */
static bool reads_watched(struct gdb_target *t, const struct cpu *c, uint32_t lin,
                          uint8_t *type, uint32_t *addr)
{
    cs_insn *insn = decode_at(t, c, lin);
    if (!insn)
        return false;
    const struct gdb_point *w = NULL;
    const cs_x86 *d = &insn->detail->x86;
    for (unsigned k = 0; k < d->op_count && !w; k++) {
        const cs_x86_op *op = &d->operands[k];
        if (op->type != X86_OP_MEM)
            continue;
        uint32_t ea = cs_seg_base(c, op) + cs_reg_value(c, op->mem.base) +
                      cs_reg_value(c, op->mem.index) * (uint32_t)op->mem.scale +
                      (uint32_t)op->mem.disp;
        uint64_t size = op->size ? op->size : 1;
        uint64_t count = rep_count(c, insn);
        if (count != 1) { /* every iteration's operand, upwards or (DF) downwards */
            if (count == 0)
                continue;
            if (cpu_get_reg(c, REG_EFLAGS) & (1u << 10))
                ea -= (uint32_t)((count - 1) * size);
            size *= count;
        }
        w = watch_hit(t, ea, size, op->access & CS_AC_READ, op->access & CS_AC_WRITE);
    }
    uint32_t sa;
    unsigned slen;
    bool swrite;
    if (!w && stack_access(c, insn->id, &sa, &slen, &swrite))
        w = watch_hit(t, sa, slen, !swrite, swrite);
    cs_free(insn, 1);
    if (w) {
        *type = w->type;
        *addr = w->addr;
    }
    return w != NULL;
}

/* Whether the instruction at lin is an IN, OUT, INS or OUTS whose ports include the one of
 * `monitor break io`; if so, says what it does in t->stop_text. */
static bool io_watched(struct gdb_target *t, const struct cpu *c, uint32_t lin)
{
    cs_insn *insn = decode_at(t, c, lin);
    if (!insn)
        return false;
    unsigned size = 0;
    bool io = true, out = false;
    switch (insn->id) {
    case X86_INS_OUTSB: out = true; /* fall through */
    case X86_INS_INSB: size = 1; break;
    case X86_INS_OUTSW: out = true; /* fall through */
    case X86_INS_INSW: size = 2; break;
    case X86_INS_OUTSD: out = true; /* fall through */
    case X86_INS_INSD: size = 4; break;
    case X86_INS_OUT: out = true; break;
    case X86_INS_IN: break;
    default: io = false; break;
    }
    uint32_t port = cpu_get_reg(c, REG_EDX) & 0xFFFF;
    const cs_x86 *d = &insn->detail->x86;
    for (unsigned k = 0; io && k < d->op_count; k++) {
        const cs_x86_op *op = &d->operands[k];
        if (op->type == X86_OP_IMM)
            port = (uint32_t)op->imm & 0xFF;
        else if (op->type == X86_OP_REG && op->reg != X86_REG_DX)
            size = op->size; /* AL, AX or EAX */
    }
    if (!size)
        size = 1;
    uint32_t want = (uint32_t)t->break_io;
    bool hit = io && want < port + size && port <= want;
    if (hit) {
        struct seg_value cs;
        cpu_get_seg(c, SREG_CS, &cs);
        snprintf(t->stop_text, sizeof t->stop_text,
                 "%" PRIu64 ": %s port 0x%04" PRIx32 " (%u byte%s) by `%s %s` at %04x:%08" PRIx32,
                 cpu_stat_insns(c), out ? "write to" : "read of", port, size,
                 size == 1 ? "" : "s", insn->mnemonic, insn->op_str, cs.sel,
                 cpu_get_reg(c, REG_EIP));
    }
    cs_free(insn, 1);
    return hit;
}

/* ---- stopping ---- */

static void stop(struct gdb_target *t, struct cpu *c, enum gdb_stop why)
{
    t->stop = why;
    cpu_request_stop(c);
}

static void insn_hook(void *ctx, struct cpu *c, uint32_t lin)
{
    struct gdb_target *t = ctx;
    uint64_t icount = cpu_stat_insns(c);
    if (t->replaying) {
        if (icount >= t->goto_icount)
            stop(t, c, STOP_STEP);
        return;
    }
    bool first = t->hook_calls++ == 0;
    bool was_pending = t->pending;
    uint8_t ptype = t->pend_type;
    uint32_t paddr = t->pend_addr;
    t->pending = false;
    if (has_read_watch(t))
        t->pending = reads_watched(t, c, lin, &t->pend_type, &t->pend_addr);
    /* monitor break io: the port access is reported after the instruction (if it retired) */
    bool was_io = t->pend_io && icount > t->pend_io_icount;
    t->pend_io = false;
    if (t->break_io >= 0 && !t->scanning && io_watched(t, c, lin)) {
        t->pend_io = true;
        t->pend_io_icount = icount;
    }
    if (t->scanning) {
        /* Where would a forward run have stopped? Remember the last such place. */
        if (icount >= t->scan_limit) {
            stop(t, c, STOP_STEP);
            return;
        }
        if (first)
            return;
        struct gdb_point *w = NULL;
        if (was_pending) {
            t->stop_type = ptype;
            t->stop_addr = paddr;
        } else if ((w = watch_changed(t)) != NULL) {
            t->stop_type = w->type;
            t->stop_addr = w->addr;
        } else if (!break_at(t, lin)) {
            return;
        }
        t->scan_hit = icount;
        return;
    }
    if (first)
        return;
    if (was_io) {
        stop(t, c, STOP_EVENT);
        return;
    }
    if (was_pending) {
        t->stop_type = ptype;
        t->stop_addr = paddr;
        t->pending = false;
        stop(t, c, STOP_WATCH);
        return;
    }
    struct gdb_point *w = watch_changed(t);
    if (w) {
        t->stop_type = w->type;
        t->stop_addr = w->addr;
        t->pending = false;
        stop(t, c, STOP_WATCH);
        return;
    }
    if (t->stepping) {
        stop(t, c, STOP_STEP);
        return;
    }
    const struct gdb_point *b = break_at(t, lin);
    if (b) {
        t->stop_type = b->type;
        stop(t, c, STOP_BREAK);
    }
}

/* Whether ev is a system call: INT n or SYSENTER from CPL 3 to an inner ring, or a far CALL
 * through a call gate inward. */
static bool is_syscall(const struct trace_event *ev)
{
    return (ev->kind == TR_SOFTINT || ev->kind == TR_SYSENTER || ev->kind == TR_FARCALL) &&
           ev->before.cpl == 3 && ev->after.cpl < 3;
}

static void event_sink(void *ctx, const struct trace_event *ev)
{
    struct gdb_target *t = ctx;
    if (t->replaying || t->scanning || !t->running)
        return;
    bool vec_kind = ev->kind == TR_EXCEPTION || ev->kind == TR_INTERRUPT ||
                    ev->kind == TR_SOFTINT;
    bool hit = (t->break_mode && ev->before.cpl != ev->after.cpl &&
                ev->kind != TR_SHUTDOWN && ev->kind != TR_HALT) ||
               (t->break_vector >= 0 && vec_kind && ev->vector == t->break_vector) ||
               (t->break_syscall && is_syscall(ev));
    if (!hit)
        return;
    /* Named as --log int names it; a fresh context (the stops are not the whole stream, so
       a return is not paired with an entry this sink never saw). */
    struct machine_names n;
    struct describe_names names;
    machine_names_init(&n, t->m, t->syms, &names);
    describe_ctx_init(&t->dctx, &names);
    describe_event_in(&t->dctx, ev, t->stop_text, sizeof t->stop_text);
    stop(t, &t->m->cpu, STOP_EVENT);
}

/* ---- history ---- */

void gdb_history_stats(const struct gdb_target *t, unsigned *n, size_t *bytes)
{
    *n = t->nsnaps;
    *bytes = 0;
    for (unsigned k = 0; k < t->nsnaps; k++)
        *bytes += snapshot_ram_bytes(t->snaps[k].s);
}

/* Frees every second snapshot but the first, doubling the interval. */
static void thin_history(struct gdb_target *t)
{
    unsigned kept = 0;
    for (unsigned k = 0; k < t->nsnaps; k++) {
        if (k % 2 == 1 && k + 1 < t->nsnaps)
            snapshot_free(t->snaps[k].s);
        else
            t->snaps[kept++] = t->snaps[k];
    }
    t->nsnaps = kept;
    t->snap_every *= 2;
}

/* Takes a snapshot when the newest is snap_every instructions old (or there is none). */
static void maybe_snapshot(struct gdb_target *t)
{
    uint64_t now = cpu_stat_insns(&t->m->cpu);
    if (t->history_off)
        return;
    if (t->nsnaps && now < t->snaps[t->nsnaps - 1].icount + t->snap_every)
        return;
    if (t->nsnaps && t->snaps[t->nsnaps - 1].icount == now)
        return;
    unsigned n;
    size_t bytes;
    gdb_history_stats(t, &n, &bytes);
    if (t->nsnaps == GDB_MAX_SNAPS || (bytes > GDB_HISTORY_BYTES && t->nsnaps > 2))
        thin_history(t);
    struct snapshot *s = machine_snapshot(t->m);
    if (s)
        t->snaps[t->nsnaps++] = (struct gdb_snap){ s, now, t->in_pos };
}

/* ---- resuming ---- */

void gdb_resume(struct gdb_target *t, bool step)
{
    t->running = true;
    t->stepping = step;
    t->hook_calls = 0;
    t->stop = STOP_NONE;
    t->replaying = t->scanning = false;
    t->pending = false;
    watch_snapshot(t);
    t->pend_io = false;
    set_hook(t, step || t->npts || t->break_io >= 0);
    set_sink(t, t->break_mode || t->break_vector >= 0 || t->break_syscall);
    maybe_snapshot(t);
}

/* The machine ended with r: the stop reply's W/X. */
static void ended(struct gdb_target *t, enum run_result r)
{
    t->stop = STOP_EXITED;
    t->end_result = (int)r;
    t->exit_signal = r == RUN_SHUTDOWN || r == RUN_UNSUPPORTED;
    if (r == RUN_EXIT)
        t->exit_code = t->m->bus.exit_status & 0xFF;
    else if (r == RUN_HALT)
        t->exit_code = 0;
    else if (r == RUN_LIMIT)
        t->exit_code = 124; /* as --max-insns ends a run */
    else
        t->exit_code = r == RUN_SHUTDOWN ? 4 : 6;
}

bool gdb_run_chunk(struct gdb_target *t, uint64_t chunk)
{
    struct cpu *c = &t->m->cpu;
    /* monitor break icount: device time never advances slower than the instruction count,
       so a budget of the instructions still to go cannot overshoot */
    if (t->break_icount) {
        uint64_t now = cpu_stat_insns(c);
        if (now >= t->break_icount) {
            t->break_icount = 0;
            t->running = false;
            t->stop = STOP_ICOUNT;
            return true;
        }
        if (t->break_icount - now < chunk)
            chunk = t->break_icount - now;
    }
    if (t->end_time) { /* a recording cut here: the run ends as it did */
        uint64_t time = cpu_time(c);
        if (time >= t->end_time) {
            t->running = false;
            ended(t, RUN_LIMIT);
            return true;
        }
        if (t->end_time - time < chunk)
            chunk = t->end_time - time;
    }
    enum run_result r = cpu_run(c, chunk);
    uint64_t now = cpu_stat_insns(c);
    if (now > t->high_water)
        t->high_water = now;
    if (r == RUN_STOP || t->stop != STOP_NONE) {
        t->running = false;
        if (t->stop == STOP_NONE)
            t->stop = STOP_INTERRUPT; /* the console asked (output error) */
        return true;
    }
    if (r != RUN_LIMIT) {
        t->running = false;
        ended(t, r);
        return true;
    }
    maybe_snapshot(t);
    return false;
}

void gdb_forget(struct gdb_target *t)
{
    /* Nobody will go back over what ran before now: the history and the input log go, and
       no snapshot is taken until a debugger attaches again (history_off). */
    for (unsigned k = 0; k < t->nsnaps; k++)
        snapshot_free(t->snaps[k].s);
    t->nsnaps = 0;
    t->snap_every = GDB_SNAP_EVERY;
    t->history_off = true;
    t->in_n = t->in_pos = 0;
    t->npts = 0;
    t->break_mode = t->break_syscall = false;
    t->break_vector = -1;
    t->break_io = -1;
    t->break_icount = 0;
}

bool gdb_catch_up(struct gdb_target *t)
{
    struct cpu *c = &t->m->cpu;
    set_hook(t, false);
    set_sink(t, false);
    t->running = false;
    for (;;) {
        uint64_t icount = cpu_stat_insns(c), time = cpu_time(c), budget;
        if (icount < t->high_water)
            budget = t->high_water - icount; /* time never runs slower than the count */
        else if (t->in_asked && time <= t->in_asked_time)
            budget = t->in_asked_time + 1 - time;
        else
            return false;
        enum run_result r = cpu_run(c, budget);
        if (r == RUN_STOP)
            return false; /* the console asked (output error): the session says so */
        if (r != RUN_LIMIT) {
            ended(t, r);
            return true;
        }
    }
}

void gdb_interrupt(struct gdb_target *t)
{
    t->running = false;
    t->stop = STOP_INTERRUPT;
}

enum run_result gdb_end_result(const struct gdb_target *t)
{
    return (enum run_result)t->end_result;
}

/* Restores snapshot k, with the count of console input bytes delivered by then. */
static bool restore(struct gdb_target *t, unsigned k)
{
    if (machine_restore(t->m, t->snaps[k].s) != 0)
        return false;
    gdb_input_rewound(t, t->snaps[k].in_pos);
    return true;
}

/* Puts the machine at instruction count `to` (<= now): from the newest snapshot at or before
 * it, forward with the hook. Returns false when the history does not reach back that far. */
static bool go_to(struct gdb_target *t, uint64_t to)
{
    struct cpu *c = &t->m->cpu;
    int k = (int)t->nsnaps - 1;
    while (k >= 0 && t->snaps[k].icount > to)
        k--;
    if (k < 0 || !restore(t, (unsigned)k))
        return false;
    /* Fast (no hook) to the count: a budget of the instructions to go cannot overshoot, as
       device time never advances slower than the count. */
    t->replaying = true;
    t->goto_icount = to;
    bool hooked = t->hooked;
    set_hook(t, false);
    enum run_result r = RUN_LIMIT;
    while (cpu_stat_insns(c) < to && r == RUN_LIMIT)
        r = cpu_run(c, to - cpu_stat_insns(c));
    /* Then as a forward run stops there: at the first instruction hook at that count (after
       an interrupt delivered at that boundary, as a breakpoint or a step stops). */
    set_hook(t, true);
    if (r == RUN_LIMIT)
        cpu_run(c, UINT64_MAX);
    set_hook(t, hooked);
    t->replaying = false;
    return cpu_stat_insns(c) == to;
}

void gdb_reverse_step(struct gdb_target *t)
{
    uint64_t now = cpu_stat_insns(&t->m->cpu);
    if (now == 0 || t->nsnaps == 0 || now - 1 < t->snaps[0].icount) {
        t->stop = STOP_HISTORY;
        return;
    }
    t->stop = go_to(t, now - 1) ? STOP_STEP : STOP_HISTORY;
}

void gdb_reverse_continue(struct gdb_target *t)
{
    struct cpu *c = &t->m->cpu;
    uint64_t now = cpu_stat_insns(c);
    /* Scan forward from each snapshot, newest first, for the last stop before now. */
    for (int k = (int)t->nsnaps - 1; k >= 0; k--) {
        uint64_t from = t->snaps[k].icount;
        if (from >= now)
            continue;
        uint64_t limit = k + 1 < (int)t->nsnaps && t->snaps[k + 1].icount < now
                             ? t->snaps[k + 1].icount + 1 : now;
        if (!restore(t, (unsigned)k))
            break;
        t->scanning = true;
        t->scan_limit = limit;
        t->scan_hit = UINT64_MAX;
        t->hook_calls = 1; /* the snapshot's own instruction may be a hit */
        t->pending = false;
        watch_snapshot(t);
        set_hook(t, true);
        while (cpu_stat_insns(c) < limit) {
            enum run_result r = cpu_run(c, limit - cpu_stat_insns(c) + 1000000);
            if (r != RUN_LIMIT && r != RUN_STOP)
                break;
        }
        t->scanning = false;
        if (t->scan_hit != UINT64_MAX && go_to(t, t->scan_hit)) {
            /* the hit's watchpoint is in stop_type/stop_addr; a breakpoint is at CS:EIP */
            struct seg_value cs;
            cpu_get_seg(c, SREG_CS, &cs);
            const struct gdb_point *b = break_at(t, cs.base + cpu_get_reg(c, REG_EIP));
            t->stop = b ? STOP_BREAK : STOP_WATCH;
            if (b)
                t->stop_type = b->type;
            return;
        }
    }
    /* No hit: the start of the history. */
    if (t->nsnaps)
        go_to(t, t->snaps[0].icount);
    t->stop = STOP_HISTORY;
}

void gdb_stop_reply(const struct gdb_target *t, struct rsp_reply *r)
{
    static const char *const watch_name[PT_TYPES] = { "", "", "watch", "rwatch", "awatch" };
    switch (t->stop) {
    case STOP_BREAK:
        rsp_put(r, t->stop_type == PT_SOFT ? "T05swbreak:;" : "T05hwbreak:;");
        return;
    case STOP_WATCH:
        rsp_putf(r, "T05%s:%08" PRIx32 ";", watch_name[t->stop_type], t->stop_addr);
        return;
    case STOP_INTERRUPT:
        rsp_put(r, "S02");
        return;
    case STOP_HISTORY:
        rsp_put(r, "T05replaylog:begin;");
        return;
    case STOP_EXITED:
        rsp_putf(r, "%c%02x", t->exit_signal ? 'X' : 'W', t->exit_signal ? 9 : t->exit_code);
        return;
    case STOP_NONE:
    case STOP_STEP:
    case STOP_EVENT:
    case STOP_ICOUNT:
        rsp_put(r, "S05");
        return;
    }
}
