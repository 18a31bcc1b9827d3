/* The decoded-instruction cache.
 *
 * Code is decoded once into blocks of struct insn. A block starts at a physical address and runs
 * until a control transfer or mode-changing instruction (F_END/F_MODE), the end of its page, or
 * ICACHE_BLOCK_MAX instructions; an instruction that straddles into the next page ends the block
 * it is in. A conditional jump (Jcc) does not end it: the block is a superblock that goes on
 * past it, and a Jcc that is taken leaves it (cpu.stop_block = STOP_BRANCH) for the block at its
 * target, found through the links without returning to the dispatch loop's checks. Blocks are keyed by physical address and CS.D (the only state decoding depends on):
 * the same linear address in another address space is other code, and the same physical code is
 * shared by every mapping of it.
 *
 * Invalidation is by page generation: each physical RAM page has a counter (cpu.page_gen) and a
 * "holds code" mark (PGF_CODE in cpu.page_flags). A block remembers the generation of the page(s) it came
 * from; a store into a marked page bumps the counter (mem.c), so every block decoded from that
 * page is stale at its next lookup. Memory is a bump arena that is reset when full.
 */
#ifndef RINGSIDE_ICACHE_H
#define RINGSIDE_ICACHE_H

#include <stdint.h>

#include "cpu/insn.h"

#define ICACHE_BLOCK_MAX 64u
#define ICACHE_SLOTS 16384u                 /* direct-mapped lookup table, power of two */
#define ICACHE_ARENA (8u * 1024u * 1024u)   /* bytes of blocks before a full reset */

#define BLOCK_LINKS 4u /* successor links per block (a superblock has several exits) */

struct block {
    uint32_t phys;       /* physical address of the first instruction */
    uint32_t gen0;       /* page_gen of the first page when decoded */
    uint32_t page1;      /* index of a second page the last instruction reaches into, or ~0 */
    uint32_t gen1;       /* its generation */
    uint8_t d32;         /* CS.D the block was decoded with */
    uint8_t mode_end;    /* the last instruction may change mode, IF or a device (F_MODE);
                            2: and has a tail link (INT n, IRET: control.c op_block_int) */
    uint16_t n;          /* instructions */
    uint16_t bytes;      /* their length in all (exec.c checks it against the CS limit) */
    insn_fn last_fn;     /* the last instruction's handler: its insn.fn is op_block_last */
    /* Chaining: the blocks that followed this one, for the EIP they started at, valid at the
     * CPL they were made at (a link skips the fetch permission check) while cpu.map_epoch is
     * unchanged (no TLB flush, CS base or size change, cache reset since). */
    uint8_t link_cpl[BLOCK_LINKS];
    uint32_t link_eip[BLOCK_LINKS];
    uint32_t link_epoch[BLOCK_LINKS];
    struct block *link[BLOCK_LINKS]; /* direct-mapped by link_slot(EIP) */
    struct insn insns[]; /* n of them, then a sentinel (op_block_end) */
};

/* A direct link: where a taken Jcc in the middle of a block goes (insn.jl, the links stored
 * after the block's instructions), without the link hash. It holds while the block runs at the
 * EIP it was made at (from: the target is a function of it), under the same map epoch and CPL,
 * the target block's page is not written since it was decoded, and the target block lies
 * within the CS limit (end: its last byte's EIP).
 *
 * A block ending in a 32-bit near CALL rel, JMP rel, RET or CALL r/m32 has one too (its last
 * insn's jl: a tail link, control.c op_block_call/op_block_jmp/op_block_ret/op_block_call_E), keyed by the EIP the transfer
 * went to (eip; from unused): it holds under the jump cache's test (icache_holds: the same EIP,
 * map epoch and CPL, the first page unwritten) and the CS limit test (end). A RET's target comes
 * from the stack, and a block valid at an EIP is the one to run there whichever instruction
 * went there, so the key is the target itself. Made by the dispatch loop (icache_keep_tail)
 * after the block ended in its last instruction. */
struct jlink {
    struct block *to; /* NULL: none yet */
    uint32_t from;    /* EIP of the start of the Jcc's block */
    uint32_t eip;     /* the target's EIP */
    uint32_t end;     /* EIP of the target block's last byte */
    uint32_t epoch;   /* cpu.map_epoch when made */
    uint8_t cpl;
};

static inline struct jlink *jlink_of(const struct insn *j)
{
    return (struct jlink *)(void *)((char *)(uintptr_t)j + j->jl);
}

/* The handlers a block's last instruction gets when it is a 32-bit CALL rel, JMP rel, RET or
 * CALL r/m32 (icache.c build): as op_block_last, then on to the next block through the tail link when it
 * holds and the block runs whole within cpu.thread_end (control.c). */
void op_block_call(struct cpu *c, const struct insn *i);
void op_block_jmp(struct cpu *c, const struct insn *i);
void op_block_ret(struct cpu *c, const struct insn *i);
void op_block_call_E(struct cpu *c, const struct insn *i); /* CALL r/m32 */
void op_block_int(struct cpu *c, const struct insn *i);    /* INT imm8 */
void op_block_iret(struct cpu *c, const struct insn *i);   /* IRET (32-bit) */

/* The jump cache: the block last found at an EIP, for block changes whose link slot in the
 * previous block holds a link for another EIP (a RET to one of many callers, an indirect jump,
 * an IRET), before the other slots and the full lookup (icache.c icache_next_slow).
 * An entry holds under the same conditions as a link (the same EIP, map epoch and CPL, its first
 * page not written since it was decoded): it is made only by a full lookup, under the current
 * epoch, as links are (a cache reset bumps the epoch, so no entry outlives the arena it points
 * into). Blocks reaching into a second page are never cached (they re-check it). */
#define ICACHE_JC_SLOTS 4096u /* power of two */

struct jc_entry {
    uint32_t eip;
    uint32_t epoch;
    uint8_t cpl;
    struct block *b; /* NULL: empty */
};

struct icache {
    struct block **slots;
    struct jc_entry *jc; /* ICACHE_JC_SLOTS of them */
    uint8_t *arena;
    size_t used;
    uint64_t blocks_built, resets;
    uint64_t jc_hits; /* block changes the jump cache answered */
    struct decode_map map;
};

/* The handler in the last instruction of every block: runs the block's last_fn with EIP,
 * insn_eip and the count exact, then ends the block (STOP_END), so that the dispatch loop needs
 * no test for the block's end (exec.c run_block). */
void op_block_last(struct cpu *c, const struct insn *i);

/* The handler of the sentinel after a block's last instruction (and after the copy exec.c
 * run_exact runs an instruction from): a handler's threaded tail (insn.h insn_go) after an
 * instruction run with its state exact (cur NULL) comes here and returns, cur NULL again. */
void op_block_end(struct cpu *c, const struct insn *i);

struct icache *icache_create(void);
void icache_destroy(struct icache *ic);
void icache_reset(struct cpu *c);

/* The block for the instruction at CS:EIP, decoding it if needed. May raise a fetch fault for
 * the first instruction of the block. */
struct block *icache_lookup(struct cpu *c);

/* The block to run next, through the previous block's links when they still hold: same EIP,
 * same map epoch, and its page not written since it was decoded. May raise a fetch fault (then
 * at insn_eip = EIP). */
struct block *icache_next_slow(struct cpu *c, struct block *prev);

/* The link slot a successor starting at eip goes in. */
static inline unsigned link_slot(uint32_t eip)
{
    return (eip ^ (eip >> 3) ^ (eip >> 7)) & (BLOCK_LINKS - 1);
}

/* Whether block n, remembered for (eip, epoch, cpl) by a link or the jump cache, is the block to
 * run at CS:EIP now: the same EIP, map epoch and CPL, and its first page not written since it
 * was decoded. */
static inline bool icache_holds(const struct cpu *c, const struct block *n, uint32_t eip,
                                uint32_t epoch, uint8_t cpl)
{
    return n && eip == c->eip && epoch == c->map_epoch && cpl == c->cpl &&
           n->gen0 == c->page_gen[n->phys >> 12];
}

/* The block prev links to for CS:EIP when that link holds, else NULL. */
static inline struct block *icache_link(const struct cpu *c, const struct block *prev)
{
    unsigned k = link_slot(c->eip);
    struct block *n = prev->link[k];
    return icache_holds(c, n, prev->link_eip[k], prev->link_epoch[k], prev->link_cpl[k]) ? n
                                                                                        : NULL;
}

static inline unsigned jc_slot(uint32_t eip)
{
    return (eip ^ (eip >> 12)) & (ICACHE_JC_SLOTS - 1);
}

/* The block the jump cache holds for CS:EIP, or NULL (then icache_lookup decides, faults
 * included: an EIP beyond the CS limit is never answered here). */
static inline __attribute__((always_inline)) struct block *icache_jc_get(struct cpu *c)
{
    struct icache *ic = c->icache;
    const struct jc_entry *e = &ic->jc[jc_slot(c->eip)];
    struct block *b = e->b;
    if (icache_holds(c, b, e->eip, e->epoch, e->cpl) && c->eip <= c->seg[SEG_CS].limit) {
        ic->jc_hits++;
        return b;
    }
    return NULL;
}

/* b, just found for CS:EIP under the current map epoch, goes in the jump cache (not a block
 * reaching into a second page: it re-checks that page on every use). */
static inline void icache_jc_put(struct cpu *c, struct block *b)
{
    if (b->page1 == UINT32_MAX) {
        struct jc_entry *e = &c->icache->jc[jc_slot(c->eip)];
        e->eip = c->eip;
        e->epoch = c->map_epoch;
        e->cpl = c->cpl;
        e->b = b;
    }
}

/* Tail link l names n, found for CS:EIP now (its last byte's EIP within 32 bits). */
static inline void jlink_set(const struct cpu *c, struct jlink *l, struct block *n)
{
    l->to = n;
    l->eip = c->eip;
    l->end = (uint32_t)((uint64_t)c->eip + n->bytes - 1);
    l->epoch = c->map_epoch;
    l->cpl = c->cpl;
}

/* After prev ended in its last instruction (STOP_END) and n was found for CS:EIP: n becomes
 * prev's tail link when prev's last instruction has one (a block reaching into a second page
 * re-checks it on every use: never linked). Whatever transfer led here, the link names the
 * block valid at its EIP, so a link made after an event is only a wasted one. */
static inline void icache_keep_tail(struct cpu *c, struct block *prev, struct block *n)
{
    const struct insn *t = &prev->insns[prev->n - 1];
    uint64_t end = (uint64_t)c->eip + n->bytes - 1;
    if (t->fn == op_block_ret || t->fn == op_block_call_E)
        icache_jc_put(c, n); /* their link misses go to the jump cache (control.c ret_miss) */
    if (t->jl && n->page1 == UINT32_MAX && end <= UINT32_MAX)
        jlink_set(c, jlink_of(t), n);
}

/* After a block that ended in an instruction asking only for the dispatch loop's checks
 * (STOP_CHECK: INT n, IRET, INVLPG, MOV CR3): true when cpu_run, between instructions, would
 * find nothing to do but run the chain again up to the same stop_at. That is: no stop, device
 * time still icount plus what it was when the chain began (a delivery at the same time as the
 * last one adds a unit of stall), no debug trap or single step to come, nothing that
 * take_interrupt would take (an INIT, an NMI, INTR with IF set), not halted. The budget is
 * device time: while the count stays below stop_at no device event is due (a device access
 * ends the chain by STOP_CHAIN). Also for INT n and IRET at a block's end going on through their
 * tail links (control.c op_block_int, op_block_iret). */
static inline bool chain_on(const struct cpu *c, uint64_t stall)
{
    return (c->stop_block & ~STOP_END) == STOP_CHECK && c->stop_reason < 0 &&
           c->stall == stall && !(c->eflags & (FL_TF | FL_RF)) && !c->dbg_exec && !c->dbg_hit &&
           !c->init_pending && !c->nmi_pending && !(c->intr && (c->eflags & FL_IF)) &&
           !c->halted;
}

static inline struct block *icache_next(struct cpu *c, struct block *prev)
{
    if (prev) {
        struct block *n = icache_link(c, prev);
        if (n)
            return n;
    }
    c->insn_eip = c->eip; /* a fetch fault belongs to the instruction at EIP */
    return icache_next_slow(c, prev);
}

#endif
