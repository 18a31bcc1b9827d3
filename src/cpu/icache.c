/* The decoded-instruction cache (see icache.h). */
#include "cpu/icache.h"

#include <stdlib.h>
#include <string.h>

#include "cpu/segment.h"
#include "mmu/mem.h"

struct icache *icache_create(void)
{
    struct icache *ic = calloc(1, sizeof *ic);
    if (!ic)
        return NULL;
    ic->slots = calloc(ICACHE_SLOTS, sizeof *ic->slots);
    ic->jc = calloc(ICACHE_JC_SLOTS, sizeof *ic->jc);
    ic->arena = malloc(ICACHE_ARENA);
    if (!ic->slots || !ic->jc || !ic->arena) {
        icache_destroy(ic);
        return NULL;
    }
    decode_map_init(&ic->map);
    return ic;
}

void icache_destroy(struct icache *ic)
{
    if (!ic)
        return;
    free(ic->slots);
    free(ic->jc);
    free(ic->arena);
    free(ic);
}

void icache_reset(struct cpu *c)
{
    struct icache *ic = c->icache;
    c->map_epoch++; /* every link points into the arena being dropped */
    c->last_block = NULL;
    memset(ic->slots, 0, ICACHE_SLOTS * sizeof *ic->slots);
    ic->used = 0;
    ic->resets++;
}

static unsigned slot_of(uint32_t phys)
{
    return (phys ^ (phys >> 14)) & (ICACHE_SLOTS - 1);
}

/* The code a block was decoded from has not been written since. */
static bool block_fresh(const struct cpu *c, const struct block *b)
{
    return b->gen0 == c->page_gen[b->phys >> 12] &&
           (b->page1 == UINT32_MAX || b->gen1 == c->page_gen[b->page1]);
}

static bool block_valid(const struct cpu *c, const struct block *b, uint32_t phys, uint8_t d32)
{
    return b->phys == phys && b->d32 == d32 && block_fresh(c, b);
}

/* Marks a RAM page as holding decoded code, so stores to it go through the slow path. */
static void mark_code_page(struct cpu *c, uint32_t pg)
{
    if (!(c->page_flags[pg] & PGF_CODE)) {
        c->page_flags[pg] |= PGF_CODE;
        tlb_protect_code_page(c, pg << 12);
    }
}

/* A conditional jump (70-7F, 0F 80-8F): a superblock goes on past it (icache.h). */
static bool is_jcc(uint16_t id)
{
    uint16_t key = opcode_table[id].key;
    return (key & 0x1F0u) == 0x070u || (key & 0x1F0u) == 0x180u;
}

/* The handler of a block's last instruction that goes on through its tail link (icache.h
 * struct jlink): a 32-bit near CALL rel, JMP rel, RET or CALL r/m32, INT imm8, a 32-bit IRET;
 * NULL for any other. */
static insn_fn tail_fn(const struct insn *in)
{
    if (in->osize != 4 || in->fn == op_ud || in->fn == op_toolong)
        return NULL;
    if (in->fn == op_call_E)
        return op_block_call_E;
    switch (opcode_table[in->id].key) {
    case 0xE8: return op_block_call;
    case 0xE9:
    case 0xEB: return op_block_jmp;
    case 0xC3: return op_block_ret;
    case 0xCD: return op_block_int;
    case 0xCF: return op_block_iret;
    default: return NULL;
    }
}

/* The count (1..31) of a SHL/SAL, SHR or SAR of a 32-bit register by an immediate or by 1 that
 * runs its dead-flags handler (deadflags.c, insn.mid), kept in its insn.imm2 for the handlers
 * that fuse it (quads, MOV pairs); else 0. */
static unsigned nf_shift_count(struct insn *in)
{
    if (!in->mid || !in->modreg || in->osize != 4 || in->reg < 4)
        return 0;
    insn_fn plain = insn_plain_fn(in);
    if (plain != op_shift_imm32 && plain != op_shift_132)
        return 0;
    in->imm2 = (uint16_t)(plain == op_shift_132 ? 1u : in->imm & 31); /* not 0: mid */
    return in->imm2;
}

static struct block *build(struct cpu *c, uint32_t lin, uint32_t phys, const uint8_t *host,
                           uint8_t d32)
{
    struct icache *ic = c->icache;
    size_t max_bytes = sizeof(struct block) +
                       (ICACHE_BLOCK_MAX + 1) * sizeof(struct insn) +
                       ICACHE_BLOCK_MAX * sizeof(struct jlink) + 8;
    if (ic->used + max_bytes > ICACHE_ARENA)
        icache_reset(c);
    struct block *b = (struct block *)(void *)(ic->arena + ic->used);
    b->phys = phys;
    b->d32 = d32;
    b->page1 = UINT32_MAX;
    b->gen1 = 0;
    b->n = 0;
    b->bytes = 0;
    b->mode_end = 0;
    for (unsigned k = 0; k < BLOCK_LINKS; k++) {
        b->link_epoch[k] = c->map_epoch - 1;
        b->link_eip[k] = 0;
        b->link[k] = NULL;
    }

    uint32_t off = phys & PAGE_MASK;
    while (b->n < ICACHE_BLOCK_MAX) {
        unsigned avail = PAGE_SIZE - off;
        struct insn *in = &b->insns[b->n];
        unsigned len = decode_insn(&ic->map, host + off, avail, d32, in);
        if (len == 0) {
            /* The instruction reaches into the next page. Only the first instruction of a block
             * may fetch there (a fault then is this instruction's, and precise); otherwise the
             * block ends before it. */
            if (b->n > 0)
                break;
            uint8_t buf[15];
            uint8_t *host2;
            memcpy(buf, host + off, avail);
            uint32_t lin2 = lin + avail;
            uint32_t pa2 = mem_translate(c, lin2, TLB_X_S << c->acc_shift, &host2);
            if (!host2) /* code outside RAM cannot be executed: treat as a fetch of all ones */
                memset(buf + avail, 0xFF, 15 - avail);
            else
                memcpy(buf + avail, host2, 15 - avail);
            len = decode_insn(&ic->map, buf, 15, d32, in);
            if (host2) {
                b->page1 = pa2 >> 12;
                b->gen1 = c->page_gen[b->page1];
                mark_code_page(c, b->page1);
            }
            b->mode_end = (opcode_table[in->id].flags & F_MODE) != 0;
            in->off = 0;
            in->idx = 0;
            in->jl = 0;
            b->n++;
            b->bytes = (uint16_t)len;
            break;
        }
        in->off = b->bytes;
        in->idx = (uint8_t)b->n;
        in->jl = 0;
        b->n++;
        b->bytes = (uint16_t)(b->bytes + len);
        off += len;
        uint16_t fl = opcode_table[in->id].flags;
        b->mode_end = (fl & F_MODE) != 0;
        if (((fl & (F_END | F_MODE)) && !is_jcc(in->id)) || in->fn == op_ud || off >= PAGE_SIZE)
            break;
    }
    /* A Jcc whose target is an instruction of its own block (the block's start: a loop of one
     * block; or another instruction of it): the target is a constant offset from the block's
     * start, so it is known here (control.c jcc_taken goes there without leaving the block). */
    _Static_assert(ICACHE_BLOCK_MAX <= 64, "one bit per instruction in targets");
    uint64_t targets = 0; /* bit t: instruction t is one's target */
    for (unsigned k = 0; k < b->n; k++) {
        struct insn *in = &b->insns[k];
        if (!is_jcc(in->id) || in->osize != 4 || in->fn == op_ud)
            continue;
        uint32_t to = (uint32_t)(in->off + in->len + in->imm);
        for (unsigned t = 0; t < b->n && b->insns[t].off <= to; t++)
            if (b->insns[t].off == to) {
                in->jt = (uint8_t)(t + 1);
                in->jd = (int8_t)(k + 1 - t);
                in->jr = (uint8_t)(k + 1 - t + b->n);
                targets |= (uint64_t)1 << t;
                break;
            }
    }
    uint32_t live_in[ICACHE_BLOCK_MAX + 1];
    insn_kill_dead_flags(b->insns, b->n, live_in, targets);
    /* A flag-setting instruction and the Jcc after it, the Jcc not the block's last (run_block
     * steps over a Jcc its fused handler decided): fused (control.c). */
    for (unsigned k = 0; k + 2 < b->n; k++) {
        struct insn *in = &b->insns[k], *j = in + 1;
        insn_fn f;
        if (!is_jcc(j->id) || j->osize != 4 || j->fn == op_ud)
            continue;
        /* the flags dead where the Jcc leads: the fused handler does not store them there
         * (the producers with such handlers write them all) */
        unsigned dead = (j->jt && !(live_in[j->jt - 1] & FL_ARITH) ? 1u : 0u) |
                        (!(live_in[k + 2] & FL_ARITH) ? 2u : 0u);
        if (dead == 0 && j->jt)
            dead = 4; /* none dead, the target in the block (control.c FUSED_CC) */
        if ((f = jcc_fused(in, j->cc, dead))) {
            in->fn = f;
            in->mid = 1; /* run on its own, its plain handler: the Jcc runs next */
        }
    }
    /* INC, DEC, XOR of registers or a load to a 32-bit register before a fused CMP: the three
     * fused (control.c; the CMP keeps its fused handler, for a jump to it) */
    for (unsigned k = 0; k + 3 < b->n; k++) {
        struct insn *in = &b->insns[k];
        /* (op_ud: a LOCK prefix makes these #UD; such an instruction ends its block, so it is
         * never before a fused CMP, but its row is still the instruction's) */
        if (!in[1].mid || in->osize != 4 || in->fn == op_ud)
            continue;
        if (in->dfb)
            continue; /* a MOV that records deferred flags on its slow path (deadflags.c
                         defer_flags): the triple's slow path would not */
        insn_fn row = opcode_table[in->id].fn, f;
        enum fused_pre kind;
        if (row == op_inc_r)
            kind = PRE_INC;
        else if (row == op_dec_r)
            kind = PRE_DEC;
        else if (row == op_xor_EG && in->modreg)
            kind = PRE_XOR;
        else if (row == op_mov_GE && !in->modreg && in->asize == 4)
            kind = in->index == NOREG ? PRE_LOAD_B : PRE_LOAD_X;
        else
            continue;
        if ((f = jcc_fused_pre(in[1].fn, kind))) {
            in->fn = f;
            in->mid = 1; /* run on its own: its plain handler, then the CMP's */
        }
    }
    /* A shift with dead flags or an LEA before such a triple of an INC: the four fused
     * (control.c; the INC keeps its triple, for a jump to it) */
    for (unsigned k = 0; k + 4 < b->n; k++) {
        struct insn *in = &b->insns[k];
        if (!in[1].mid || opcode_table[in[1].id].fn != op_inc_r || in->osize != 4 ||
            in->fn == op_ud)
            continue;
        insn_fn plain = insn_plain_fn(in), f;
        enum fused_quad kind;
        if (nf_shift_count(in)) {
            kind = in->reg == 5 ? QUAD_SHR : in->reg == 7 ? QUAD_SAR : QUAD_SHL;
        } else if ((plain == op_lea32_b || plain == op_lea32_x) && in->asize == 4) {
            kind = QUAD_LEA;
        } else {
            continue;
        }
        if ((f = jcc_fused_quad(in[1].fn, kind))) {
            in->fn = f;
            in->mid = 1; /* run on its own: its plain handler, then the INC's triple */
        }
    }
    /* MOV r32, r32 before such a shift (not the block's last instruction): the two fused
     * (deadflags.c; the shift keeps its handler, for a jump to it) */
    for (unsigned k = 0; k + 2 < b->n; k++) {
        struct insn *in = &b->insns[k];
        insn_fn f;
        if (!(in->fn == op_mov_EG32_r || in->fn == op_mov_GE32_r) || !nf_shift_count(&in[1]))
            continue;
        /* and an XOR of registers after them (not the block's last): the three fused */
        if ((k + 3 < b->n && (f = insn_mov_shift_xor(in, &in[1], &in[2]))) ||
            (f = insn_mov_shift(in, &in[1]))) {
            in->fn = f;
            in->mid = 1; /* run on its own: its plain handler, then the shift's */
        }
    }
    /* MOVZX r32, r8 before a 32-bit load by [base + index * scale + disp] (not the block's
     * last): the two fused (deadflags.c; the load keeps its handler) */
    for (unsigned k = 0; k + 2 < b->n; k++) {
        struct insn *in = &b->insns[k];
        insn_fn f;
        if (in->mid && (f = insn_movzx_load(in, &in[1]))) {
            in->fn = f;
            in->mid = 1; /* run on its own: its plain handler, then the load's */
        }
    }
    /* pairs of a first instruction and a register-only one after it that cannot fault (not
     * the block's last): the two fused (deadflags.c insn_pair; the second keeps its handler) */
    for (unsigned k = 0; k + 2 < b->n; k++) {
        struct insn *in = &b->insns[k];
        insn_fn f;
        if (in->fn != op_ud && (f = insn_pair(in, &in[1], k + 3 < b->n))) {
            in->fn = f;
            in->mid = 1; /* run on its own: its plain handler, then the second's */
        }
    }
    /* runs of segment-register pushes, loads and pops (sreg.c), not the block's last */
    sreg_fuse(b->insns, b->n - 1);
    for (unsigned k = 0; k < b->n; k++)
        b->insns[k].fn = shift_form(&b->insns[k]);
    /* copy loops of five instructions, not reaching the block's last (copyloop.c) */
    insn_copy_loop(b->insns, b->n);
    /* After the last instruction the sentinel (op_block_end), then the direct links of the Jccs
     * in the middle of the block (struct jlink). */
    b->insns[b->n] = (struct insn){.fn = op_block_end};
    size_t at = (sizeof(struct block) + (b->n + 1u) * sizeof(struct insn) + 7) & ~(size_t)7;
    insn_fn tail = tail_fn(&b->insns[b->n - 1]);
    for (unsigned k = 0; k < b->n; k++) {
        struct insn *in = &b->insns[k];
        if (k + 1 < b->n ? !is_jcc(in->id) || in->fn == op_ud : !tail)
            continue;
        struct jlink *l = (struct jlink *)(void *)((uint8_t *)b + at);
        l->to = NULL;
        l->epoch = c->map_epoch - 1;
        in->jl = (uint16_t)((uint8_t *)l - (uint8_t *)in);
        at += sizeof(struct jlink);
    }
    b->last_fn = b->insns[b->n - 1].fn;
    b->insns[b->n - 1].fn = tail ? tail : op_block_last;
    if (tail && b->mode_end)
        b->mode_end = 2; /* INT n, IRET: run_chain makes their tail links */
    b->gen0 = c->page_gen[phys >> 12];
    mark_code_page(c, phys >> 12);
    ic->used += at;
    ic->used = (ic->used + 7) & ~(size_t)7;
    ic->blocks_built++;
    ic->slots[slot_of(phys)] = b;
    return b;
}

/* A block whose (only) instruction runs into the next page is valid only while that page still
 * translates, for a fetch, to the physical page it was decoded from: the fetch is checked again
 * (a #PF here is the instruction's) on every use. */
static bool second_page_ok(struct cpu *c, uint32_t lin, const struct block *b)
{
    uint8_t *host;
    uint32_t pa2 = mem_translate(c, (lin | PAGE_MASK) + 1, TLB_X_S << c->acc_shift, &host);
    return host && (pa2 >> 12) == b->page1;
}

struct block *icache_lookup(struct cpu *c)
{
    const struct segment *cs = &c->seg[SEG_CS];
    if (c->eip > cs->limit)
        seg_fetch_fault(c);
    uint32_t lin = cs->base + c->eip;
    c->fetch_pages |= 1ull << ((lin >> 12) & 63); /* a link to this block may follow (mem.c) */
    uint32_t need = TLB_X_S << c->acc_shift;
    uint8_t *host;
    uint32_t phys;
    struct tlb_entry *e = tlb_hit(c, lin, 1, need);
    if (e) {
        host = e->host + (lin & PAGE_MASK);
        phys = e->ppn_base | (lin & PAGE_MASK);
    } else {
        phys = mem_translate(c, lin, need, &host);
        if (!host) /* unbacked physical memory reads as all ones; FF FF is undefined */
            cpu_raise(c, EXC_UD, false, 0);
    }
    uint8_t d32 = (c->seg[SEG_CS].attr & SA_DB) ? 1 : 0;
    struct icache *ic = c->icache;
    struct block *b = ic->slots[slot_of(phys)];
    if (b && block_valid(c, b, phys, d32) &&
        (b->page1 == UINT32_MAX || second_page_ok(c, lin, b)))
        return b;
    return build(c, lin, phys, host - (phys & PAGE_MASK), d32);
}

/* Whether prev's link k names the block to run at EIP now (icache_next's test). */
static bool link_holds(const struct cpu *c, const struct block *prev, unsigned k)
{
    return icache_holds(c, prev->link[k], prev->link_eip[k], prev->link_epoch[k],
                        prev->link_cpl[k]);
}

/* The full lookup, and its answer kept in the jump cache (unless the cache was reset while
 * looking up, or the block reaches into a second page). */
static struct block *lookup_and_keep(struct cpu *c)
{
    uint32_t epoch = c->map_epoch;
    struct block *b = icache_lookup(c);
    if (c->map_epoch == epoch)
        icache_jc_put(c, b);
    return b;
}

/* Two successors whose EIPs share a link slot k (a loop's back edge and its exit, say) would
 * evict each other on every pass: when slot k holds a current link for another EIP, EIP's link
 * goes in a stale or empty slot, where this finds it. (Once slot k's link is stale, so is every
 * link made before it went stale: then no other slot can hold a current link for EIP, and
 * icache_next_slow does not look.) */
static __attribute__((noinline)) struct block *next_collided(struct cpu *c, struct block *prev,
                                                            unsigned k)
{
    for (unsigned j = 0; j < BLOCK_LINKS; j++)
        if (j != k && link_holds(c, prev, j))
            return prev->link[j];
    struct block *b = lookup_and_keep(c);
    if (prev != c->last_block || b->page1 != UINT32_MAX)
        return b; /* the cache was reset while looking up, or b is never linked (below) */
    for (unsigned j = 0; j < BLOCK_LINKS; j++)
        if (!prev->link[j] || prev->link_epoch[j] != c->map_epoch) {
            k = j;
            break;
        }
    prev->link_eip[k] = c->eip;
    prev->link_epoch[k] = c->map_epoch;
    prev->link_cpl[k] = c->cpl;
    prev->link[k] = b;
    return b;
}

struct block *icache_next_slow(struct cpu *c, struct block *prev)
{
    if (prev) {
        unsigned k = link_slot(c->eip);
        if (prev->link_epoch[k] == c->map_epoch && prev->link_eip[k] != c->eip && prev->link[k]) {
            /* Slot k links another EIP: the jump cache answers first, and prev's links stay. */
            struct block *b = icache_jc_get(c);
            return b ? b : next_collided(c, prev, k);
        }
    }
    struct block *b = icache_lookup(c);
    if (prev && prev != c->last_block)
        return b; /* the cache was reset while looking up: prev is gone */
    /* A block reaching into a second page re-checks that page on every use: never linked. */
    if (prev && b->page1 == UINT32_MAX) {
        unsigned k = link_slot(c->eip);
        prev->link_eip[k] = c->eip;
        prev->link_epoch[k] = c->map_epoch;
        prev->link_cpl[k] = c->cpl;
        prev->link[k] = b;
    }
    return b;
}
