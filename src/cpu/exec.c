/* The dispatch loop, machine-level cpu state, and the one route faults take back to it.
 *
 * Faults unwind by longjmp: cpu_raise() records the exception and jumps to the setjmp in
 * cpu_run(), which rolls EIP back to the faulting instruction (handlers change no register before
 * their last possible fault) and delivers the exception. A fault raised while an exception is
 * being delivered is combined into #DF, or a triple fault, by the SDM's table (deliver.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/debug.h"
#include "cpu/deliver.h"
#include "cpu/flags.h"
#include "cpu/icache.h"
#include "cpu/segment.h"
#include "mmu/mem.h"

int cpu_init(struct cpu *c, uint8_t *ram, uint32_t ram_size, struct bus *bus)
{
    memset(c, 0, sizeof *c);
    c->ram = ram;
    c->ram_size = ram_size;
    c->bus = bus;
    uint32_t pages = ram_size / PAGE_SIZE;
    c->page_flags = calloc(pages ? pages : 1, 1);
    c->page_gen = calloc(pages ? pages : 1, sizeof *c->page_gen);
    c->icache = icache_create();
    if (!c->page_flags || !c->page_gen || !c->icache) {
        cpu_free(c);
        return -1;
    }
    tlb_flush_all(c);
    cpu_update_acc(c); /* c->acc_need */
    c->eflags = FL_R1;
    c->cr0 = CR0_ET;
    c->stop_reason = -1;
    c->next_event = UINT64_MAX;
    c->last_delivery = UINT64_MAX;
    c->msr_misc_enable = MSR_MISC_ENABLE_RESET;
    c->msr_pat = MSR_PAT_RESET;
    return 0;
}

void cpu_free(struct cpu *c)
{
    free(c->page_flags);
    free(c->page_gen);
    icache_destroy(c->icache);
    c->page_flags = NULL;
    c->page_gen = NULL;
    c->icache = NULL;
}

static void flat_segment(struct segment *s, uint16_t sel, uint16_t type)
{
    s->sel = sel;
    s->base = 0;
    s->limit = 0xFFFFFFFFu;
    s->attr = (uint16_t)(type | SA_S | SA_P | SA_DB | SA_G);
    seg_update_flat(s);
}

void cpu_reset_protected_flat(struct cpu *c, uint32_t eip)
{
    memset(c->r, 0, sizeof c->r);
    c->eflags = FL_R1;
    c->lf.op = LF_NONE;
    c->cr0 = CR0_PE | CR0_ET;
    c->cr2 = c->cr3 = c->cr4 = 0;
    memset(c->dr, 0, sizeof c->dr);
    c->dr[6] = DR6_FIXED1;
    c->dr[7] = DR7_FIXED1;
    c->dbg_exec = c->dbg_data = c->dbg_io = c->dbg_hit = 0;
    /* Selectors as a Multiboot loader typically leaves them: 0x08 code, 0x10 data. */
    flat_segment(&c->seg[SEG_CS], 0x08, 0xB); /* code, execute/read, accessed */
    for (int s = 0; s < SEG_COUNT; s++)
        if (s != SEG_CS)
            flat_segment(&c->seg[s], 0x10, 0x3); /* data, read/write, accessed */
    c->seg[SEG_CS].flat = false;
    cpu_set_cpl(c, 0);
    c->gdtr.base = 0;
    c->gdtr.limit = 0;
    c->idtr.base = 0;
    c->idtr.limit = 0x3FF;
    memset(&c->ldtr, 0, sizeof c->ldtr);
    seg_memo_clear(c);
    memset(&c->tr, 0, sizeof c->tr);
    c->eip = eip;
    c->halted = false;
    c->nmi_pending = c->nmi_blocked = c->init_pending = false;
    tlb_flush_all(c);
}

void cpu_flush_decoded(struct cpu *c)
{
    icache_reset(c);
    for (uint32_t pg = 0; pg < c->ram_size / PAGE_SIZE; pg++)
        c->page_flags[pg] &= (uint8_t)~PGF_CODE;
    tlb_flush_all(c);
}

static _Noreturn void unwind(struct cpu *c, int vector, bool has_error, uint32_t error)
{
    cpu_settle(c); /* insn_eip: the faulting instruction; icount: those before it */
    c->fault.vector = (uint8_t)vector;
    c->fault.has_error = has_error;
    c->fault.error = error;
    c->fault.cr2 = c->cr2; /* a #PF has just set it (paging.c) */
    if (!c->jmp_ready) {
        fprintf(stderr, "ringside: internal error: exception %d raised outside cpu_run\n", vector);
        abort();
    }
    longjmp(c->jmp, 1);
}

_Noreturn void cpu_raise(struct cpu *c, int vector, bool has_error, uint32_t error)
{
    c->fault.detail.kind = FD_NONE;
    unwind(c, vector, has_error, error);
}

_Noreturn void cpu_raise_detail(struct cpu *c, int vector, bool has_error, uint32_t error,
                                const struct fault_detail *detail)
{
    c->fault.detail = *detail;
    unwind(c, vector, has_error, error);
}

_Noreturn void cpu_raise_rule(struct cpu *c, uint8_t reason, uint32_t value, unsigned size)
{
    struct fault_detail *d = &c->fault.detail;
    d->kind = FD_RULE;
    d->u.rule = (struct rule_fault){ reason, c->cpl, (uint8_t)((c->eflags >> 12) & 3),
                                     (uint8_t)size, value };
    unwind(c, EXC_GP, true, 0);
}

_Noreturn void cpu_stop_unsupported(struct cpu *c, const struct unsupported *u)
{
    cpu_settle(c);
    c->unsupported = *u;
    c->stop_reason = RUN_UNSUPPORTED;
    c->delivering = false;
    if (!c->jmp_ready) {
        fprintf(stderr, "ringside: internal error: %s outside cpu_run\n", u->what);
        abort();
    }
    longjmp(c->jmp, 2);
}

uint32_t cpu_eip(const struct cpu *c)
{
    return c->cur ? c->eip + c->cur->off + c->cur->len : c->eip;
}

uint32_t cpu_insn_eip(const struct cpu *c)
{
    return c->cur ? c->eip + c->cur->off : c->insn_eip;
}

uint64_t cpu_icount(const struct cpu *c)
{
    return c->cur ? c->icount + c->cur->idx : c->icount;
}

void cpu_request_stop(struct cpu *c)
{
    c->stop_reason = RUN_STOP;
    c->stop_block = true;
}

/* The end of block b's instructions that lie wholly within the CS limit (a block is decoded
 * from bytes, not from a segment, so it may run past the limit of the CS it runs under); the
 * first instruction crossing it: #GP(0), as a fetch beyond the limit (SDM vol. 3 5.3). */
static const struct insn *within_cs_limit(struct cpu *c, const struct block *b,
                                          const struct insn *end)
{
    uint64_t last = c->seg[SEG_CS].limit;
    uint64_t at = c->eip;
    const struct insn *i = b->insns;
    for (; i < end; i++) {
        if (at + i->len - 1 > last)
            break;
        at += i->len;
    }
    if (i == b->insns) {
        c->insn_eip = c->eip;
        seg_fetch_fault(c);
    }
    return i;
}

/* After the instruction at i (in the middle of its block, c->cur == i) has run and asked to
 * leave the block: the state the instruction leaves, exact. A handler that settled the state
 * itself (cpu_settle: a taken Jcc, a REP restart, a device access) has left c->cur NULL and EIP
 * where it goes on. */
static void leave_mid(struct cpu *c, const struct insn *i)
{
    if (c->cur) {
        c->cur = NULL;
        c->icount += i->idx + 1u;
        c->insn_eip = c->eip + i->off;
        c->eip = c->insn_eip + i->len;
    } else {
        c->icount++;
    }
}

/* The Jcc at i (in the middle of block c->last_block, c->cur == i), taken back to the block's
 * start (icache.c marks it), has asked to run the block again (STOP_LOOP): it has retired, EIP
 * stays the block's start. True when the block runs again now: the budget holds all of it (the
 * block is still valid: nothing that would stop it has run, and a link from it to itself at the
 * same EIP would hold); otherwise the state is left exact and the block ends. */
static inline bool loop_again(struct cpu *c, const struct insn *i, uint64_t stop_at)
{
    c->stop_block = 0;
    c->icount += i->idx + 1u;
    if (stop_at - c->icount >= c->last_block->n)
        return true;
    c->cur = NULL;
    c->insn_eip = c->eip + i->off;
    c->stop_block = STOP_BRANCH;
    return false;
}

/* The taken Jcc j (c->cur, in the middle of block b) whose direct link does not hold: it retires
 * (jcc_leave: a #GP(0) for a target beyond the CS limit is the Jcc's), and the block at its
 * target is looked up (a fetch fault there is that block's, at insn_eip = EIP), and linked from
 * j when it can be (not a block reaching into a second page, which re-checks that page on every
 * use; not when the cache was reset while looking up, which leaves cpu.last_block NULL). */
static __attribute__((noinline)) struct block *jump_slow(struct cpu *c, struct block *b,
                                                          const struct insn *j)
{
    uint32_t from = c->eip; /* b's start (c->cur is set) */
    jcc_leave(c, j);
    c->icount++;
    struct block *n = icache_next(c, b);
    uint64_t end = (uint64_t)c->eip + n->bytes - 1;
    if (c->last_block == b && n->page1 == UINT32_MAX && end <= UINT32_MAX) {
        struct jlink *l = jlink_of(j);
        l->to = n;
        l->from = from;
        l->eip = c->eip;
        l->end = (uint32_t)end;
        l->epoch = c->map_epoch;
        l->cpl = c->cpl;
    }
    return n;
}

/* Runs block b one instruction at a time with EIP, insn_eip and the count exact before each
 * (cur NULL): under an instruction hook, and when the budget (the count stops at stop_at) or the
 * CS limit ends the block early. Fused handlers (control.c) run as their first instruction alone
 * there. Out of line: rare but for a hook. */
static __attribute__((noinline)) void run_exact(struct cpu *c, struct block *b, uint64_t stop_at)
{
    uint64_t budget = stop_at - c->icount;
    const struct insn *i = b->insns, *end = b->insns + b->n;
    if (budget < b->n)
        end = i + budget;
    if ((uint64_t)c->eip + b->bytes - 1 > c->seg[SEG_CS].limit)
        end = within_cs_limit(c, b, end);
    for (; i < end; i++) {
        if (c->insn_hook) {
            c->insn_hook(c->insn_hook_ctx, c, c->seg[SEG_CS].base + c->eip);
            if (c->stop_reason >= 0)
                break; /* the hook stopped the run (a debugger's breakpoint): not executed */
        }
        c->insn_eip = c->eip;
        c->eip += i->len;
        /* a copy, followed by the sentinel: its handler's threaded tail returns (insn.h) */
        struct insn one[2] = {*i, {.fn = op_block_end}};
        if (i == b->insns + b->n - 1)
            one[0].fn = b->last_fn;
        else if (i->mid) /* a dead-flags or fused handler needs c->cur: the plain one */
            one[0].fn = insn_plain_fn(i);
        one[0].fn(c, one);
        c->icount++;
        if (c->stop_block)
            break;
    }
}

void op_block_end(struct cpu *c, const struct insn *i)
{
    (void)i;
    c->cur = NULL; /* as it was: the instruction before ran with its state exact */
}

/* The last instruction of block c->last_block, in run_block's loop (c->cur == i). */
void op_block_last(struct cpu *c, const struct insn *i)
{
    c->cur = NULL;
    c->icount += i->idx;
    c->insn_eip = c->eip + i->off;
    c->eip = c->insn_eip + i->len;
    c->stop_block = STOP_END; /* its handler's tail returns (insn.h insn_next, op_block_end) */
    c->last_block->last_fn(c, i);
    c->stop_block |= STOP_END; /* counted by leave_mid (c->cur NULL) */
}

/* Runs block b, or as much of it as the budget allows (the count stops at stop_at). All but the
 * block's last instruction run with no bookkeeping but c->cur (insn.h cpu_settle): EIP, insn_eip
 * and icount are brought up to date once when the block is left. The last one, the only one that
 * may be a control transfer or change mode (F_END, F_MODE), runs with them exact (its handler is
 * op_block_last, which always ends the block: the loop needs no test for the end), as does every
 * instruction under an instruction hook or in a block the budget or the CS limit cuts short
 * (run_exact). */
static inline __attribute__((always_inline)) struct block *run_block(struct cpu *c,
                                                                     struct block *b,
                                                                     uint64_t stop_at)
{
    c->stop_block = false;
    if (__builtin_expect(stop_at - c->icount < b->n ||
                         (uint64_t)c->eip + b->bytes - 1 > c->seg[SEG_CS].limit ||
                         c->insn_hook != NULL, 0)) {
        run_exact(c, b, stop_at);
        return b;
    }
    const struct insn *i = b->insns;
    for (;;) {
        /* Threaded: each handler runs the next instruction itself (insn.h insn_next) and
         * the chain returns here once one sets stop_block; the last instruction
         * (op_block_last) always does. */
        c->thread_end = stop_at - c->icount > THREAD_NEST_MAX ? c->icount + THREAD_NEST_MAX
                                                               : stop_at;
        c->cur = i;
        i->fn(c, i);
        while (__builtin_expect(!c->stop_block, 0)) {
            /* a handler without the threaded tail returned: on with the next one */
            i = c->cur + 1;
            c->cur = i;
            i->fn(c, i);
        }
        /* the block the chain ended in (a taken Jcc may have gone on to others: control.c
         * jcc_jump); NULL when an instruction has dropped it (a task switch: STOP_CHAIN) */
        if (c->last_block)
            b = c->last_block;
        if (c->stop_block == STOP_LOOP) {
            i = c->cur; /* the Jcc (a fused handler's is the next instruction) */
            if (!loop_again(c, i, stop_at))
                return b;
            i = b->insns;
            continue;
        }
        if (c->stop_block == STOP_JUMP) {
            /* A taken Jcc (c->cur; a fused handler's is the next instruction): straight on to
             * the block at its target through its direct link when that holds and the block
             * runs whole in the fast loop; else jump_slow retires it and finds the block. */
            const struct insn *j = c->cur;
            const struct jlink *l = jlink_of(j);
            struct block *n = l->to;
            uint64_t count = c->icount + j->idx + 1u;
            if (__builtin_expect(n && l->from == c->eip && l->epoch == c->map_epoch &&
                                 l->cpl == c->cpl && n->gen0 == c->page_gen[n->phys >> 12] &&
                                 l->end <= c->seg[SEG_CS].limit && stop_at - count >= n->n,
                                 1)) {
                c->icount = count;
                c->eip = l->eip;
                c->cur = NULL;
            } else {
                struct block *from = b;
                n = jump_slow(c, b, j);
                if (c->last_block != from)
                    return n; /* the cache was reset: b is gone (run_chain looks n up again) */
                if (stop_at - c->icount < n->n ||
                    (uint64_t)c->eip + n->bytes - 1 > c->seg[SEG_CS].limit)
                    return b; /* run_chain runs n, cut short */
            }
            c->stop_block = 0;
            c->last_block = b = n;
            i = n->insns;
            continue;
        }
        if (c->stop_block == STOP_BRANCH && !c->cur) {
            /* Settled (a taken Jcc): straight on to the next block when b's link to it holds
             * and it runs whole in the fast loop (else run_chain looks it up). */
            c->icount++;
            struct block *n = icache_link(c, b);
            if (!n || stop_at - c->icount < n->n ||
                (uint64_t)c->eip + n->bytes - 1 > c->seg[SEG_CS].limit)
                return b;
            c->stop_block = 0;
            c->last_block = b = n;
            i = n->insns;
            continue;
        }
        leave_mid(c, c->cur);
        return b;
    }
}

/* Chained blocks back to back until the count reaches stop_at, a block ends in an instruction
 * that may change mode (F_MODE; but for STOP_CHECK, chain_on) or one asks to go back to the
 * dispatch loop (STOP_CHAIN). Out of line, so that the loop keeps the cpu in a register. */
static __attribute__((noinline)) void run_chain(struct cpu *c, uint64_t stop_at)
{
    uint64_t stall = c->stall;
    do {
        struct block *prev = c->last_block;
        struct block *b = icache_next(c, prev); /* a fetch fault: insn_eip = EIP */
        /* prev ended in its last instruction (for INT n and IRET with a tail link, also asking
         * for chain_on), and the cache was not reset in the lookup */
        if ((c->stop_block == STOP_END ||
             (c->stop_block == (STOP_END | STOP_CHECK) && prev && prev->mode_end == 2)) &&
            prev && c->last_block == prev)
            icache_keep_tail(c, prev, b);
        c->last_block = b;
        b = run_block(c, b, stop_at); /* the block it ended in */
        if (b->mode_end && !chain_on(c, stall))
            break;
    } while (!(c->stop_block & STOP_CHAIN) && c->icount < stop_at);
}

/* One instruction with EFLAGS.TF or RF set (SDM vol. 3 17.3.1.4, 17.3.1.1): RF is cleared once
 * the instruction completes, and TF set at its start makes a single-step trap, #DB with
 * DR6.BS, after it — unless the instruction itself delivered an event (INT n, a fault). */
static void step_one(struct cpu *c, struct block *b)
{
    if (c->dbg_exec && dbg_exec_check(c))
        return; /* an instruction breakpoint: #DB before the instruction */
    bool tf = c->eflags & FL_TF;
    uint64_t before = c->icount;
    uint64_t events = c->transitions[TR_EXCEPTION] + c->transitions[TR_SOFTINT];
    run_block(c, b, before + 1);
    if (c->icount != before + 1)
        return;
    if (!c->dbg_rep_cut)
        c->eflags &= ~FL_RF;
    bool bs = tf && events == c->transitions[TR_EXCEPTION] + c->transitions[TR_SOFTINT] &&
              c->stop_reason < 0;
    if (bs || (c->dbg_hit && c->stop_reason < 0))
        dbg_trap(c, bs); /* DR6.BS and any data breakpoints, in one #DB */
}

/* cpu_time() between instructions (c->cur is NULL there). */
static inline uint64_t time_now(const struct cpu *c)
{
    return c->icount + c->idle + c->stall;
}

/* Between instructions: device events that are due, then an external interrupt if INTR is up,
 * IF is set and no STI / MOV SS shadow covers this boundary (SDM vol. 3 6.8.3). Returns true
 * when an interrupt was delivered. */
static bool take_interrupt(struct cpu *c)
{
    if (time_now(c) >= c->next_event && c->on_event)
        c->on_event(c->event_ctx);
    if (c->init_pending) {
        /* INIT: the cpu would restart at 0xF000:0xFFF0 in real mode (SDM vol. 3 9.1.1). */
        c->init_pending = false;
        c->unsupported = (struct unsupported){
            .what = "INIT (a reset to real mode) is not supported", .by = "INIT",
            .why = c->init_why ? c->init_why : "INIT", .cs = c->seg[SEG_CS].sel,
            .eip = c->eip, .target_cs = 0xF000, .target_eip = 0xFFF0};
        c->stop_reason = RUN_UNSUPPORTED;
        return true;
    }
    if (c->nmi_pending && !c->nmi_blocked && c->icount >= c->inhibit_until) {
        /* NMI (SDM vol. 3 6.7.1): not masked by IF; blocks further NMIs until an IRET. */
        c->nmi_pending = false;
        c->nmi_blocked = true;
        c->intr_source = c->nmi_source;
        c->halted = false;
        c->insn_eip = c->eip;
        c->last_block = NULL;
        deliver(c, EXC_NMI, TR_INTERRUPT);
        return true;
    }
    if (!c->intr || !(c->eflags & FL_IF) || c->icount < c->inhibit_until || !c->intc.ack)
        return false;
    int vector = c->intc.ack(c->intc.ctx);
    c->intr_source = (uint32_t)vector >> 8;
    c->halted = false;
    c->insn_eip = c->eip;
    c->last_block = NULL;
    deliver(c, (unsigned)vector & 0xFF, TR_INTERRUPT);
    return true;
}

enum run_result cpu_run(struct cpu *c, uint64_t max_insns)
{
    if (!(c->cr0 & CR0_PE)) {
        /* Real mode is outside the subset. Only a cpu never reset to protected mode has
         * CR0.PE = 0 (cpu_init); MOV CR0, LMSW and cpu_set_reg keep PE set, so this is the
         * one place real mode is refused, and nothing run below needs to check it. */
        c->unsupported = (struct unsupported){
            .what = "real mode is not supported", .by = "cpu_run",
            .why = "CR0.PE=0 (the cpu was never reset to protected mode)",
            .cs = c->seg[SEG_CS].sel, .eip = c->eip, .target_cs = c->seg[SEG_CS].sel,
            .target_eip = c->eip};
        c->stop_reason = RUN_UNSUPPORTED;
        return RUN_UNSUPPORTED;
    }
    c->icount_limit = time_now(c) + max_insns;
    if (c->icount_limit < max_insns)
        c->icount_limit = UINT64_MAX;
    c->stop_reason = -1;
    c->jmp_ready = true;
    switch (setjmp(c->jmp)) {
    case 0:
        break;
    case 1:
        /* A fault: the instruction did not happen (nor its data breakpoint hits, but those
         * of a MOV SS before it). */
        c->eip = c->insn_eip;
        /* last_block stays: the handler's block is linked from the one that faulted (a link
         * holds only for its EIP, map epoch, CPL and page generation; a cache reset while
         * the instruction ran has set last_block to NULL). */
        if (c->icount >= c->inhibit_until_db)
            c->dbg_hit = 0;
        c->dbg_rep_cut = false;
        deliver_fault(c);
        break;
    default:
        /* cpu_stop_unsupported: the instruction did not happen and the machine stops. */
        c->eip = c->insn_eip;
        c->last_block = NULL;
        break;
    }
    while (c->stop_reason < 0) {
        uint64_t now = time_now(c);
        if (now >= c->icount_limit) {
            c->stop_reason = RUN_LIMIT;
            break;
        }
        if (c->dbg_hit && dbg_trap(c, false))
            continue; /* a data breakpoint's #DB after the instruction that hit it */
        if (take_interrupt(c))
            continue;
        if (c->halted) {
            /* HLT: time jumps to the next device event; with no event to come, or IF = 0
             * and no route by which an event could send an NMI, nothing can end the halt. */
            bool nmi_route = c->intc.nmi_route && c->intc.nmi_route(c->intc.nmi_ctx);
            if ((!(c->eflags & FL_IF) && !nmi_route) || c->next_event == UINT64_MAX) {
                c->stop_reason = RUN_HALT;
                break;
            }
            uint64_t to = c->next_event < c->icount_limit ? c->next_event : c->icount_limit;
            if (to > now)
                c->idle += to - now;
            continue;
        }
        /* Run until the budget, the next device event, or the end of an interrupt shadow
         * when a request is waiting behind it. */
        uint64_t end = c->icount_limit < c->next_event ? c->icount_limit : c->next_event;
        uint64_t budget = end > now ? end - now : 1;
        if ((c->intr || c->nmi_pending) && c->icount < c->inhibit_until
            && c->inhibit_until - c->icount < budget)
            budget = c->inhibit_until - c->icount;
        if ((c->eflags & (FL_TF | FL_RF)) || c->dbg_exec || c->dbg_hit) {
            c->insn_eip = c->eip; /* instruction fetch faults belong to the instruction at EIP */
            struct block *b = icache_next(c, c->last_block);
            c->last_block = b;
            step_one(c, b);
            continue;
        }
        /* Chained blocks run back to back until the budget is used up or a block ends in
         * something the checks above must see: an instruction that may change mode, the
         * interrupt flag or a device (F_MODE: OUT, STI, IRET, ...), or a stop request (a
         * store into decoded code, an MMIO access, HLT, a delivery). */
        run_chain(c, c->icount + budget);
    }
    c->jmp_ready = false;
    return (enum run_result)c->stop_reason;
}

const char *run_result_name(enum run_result r)
{
    switch (r) {
    case RUN_LIMIT: return "instruction limit";
    case RUN_EXIT: return "exit";
    case RUN_HALT: return "halt";
    case RUN_SHUTDOWN: return "shutdown";
    case RUN_STOP: return "stop";
    case RUN_UNSUPPORTED: return "unsupported";
    }
    return "?";
}
