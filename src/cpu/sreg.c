/* Segment-register moves: PUSH/POP Sreg, MOV Sreg, r/m and MOV r/m, Sreg, and the far-pointer
 * loads (LDS/LES/LFS/LGS/LSS). Apart from move.c so that the segment-load memo check
 * (segment.h seg_memo_hit), inline here, leaves the code of move.c's MOV handlers as it was. */
#include "cpu/ops.h"

/* PUSH Sreg and POP Sreg: one handler per segment register (opcodes.def: 06/0E/16/1E and 0F
 * A0/A8 push ES/CS/SS/DS and FS/GS; 07/17/1F and 0F A1/A9 pop ES/SS/DS and FS/GS), so that the
 * register is a constant in each. */

/* A 32-bit push of a segment register writes only the low 16 bits (the rest of the slot is
 * left as it was), as current processors do. */
static __attribute__((noinline)) void push_sreg_any(struct cpu *c, const struct insn *i,
                                                     uint16_t sel)
{
    if (i->osize == 4) {
        uint32_t sp = (c->r[ESP] - 4) & sp_mask(c);
        wr(c, SEG_SS, sp, 2, sel);
        c->r[ESP] = sp_with(c, sp);
    } else {
        push(c, 2, sel);
    }
}

/* push_sreg_any with the handler's tail (insn_next): a tail call of push_sreg. */
static __attribute__((noinline)) void push_sreg_any_next(struct cpu *c, const struct insn *i,
                                                         uint16_t sel)
{
    push_sreg_any(c, i, sel);
    insn_next(c, i);
}

/* The fast path: a 32-bit push on a flat 32-bit stack whose slot's low half the TLB maps for
 * writing (the same 2-byte store the general path makes, with the same mask: none). A handler
 * (body and insn_next, as OP) whose other path is a tail call, so that it saves no registers. */
static inline __attribute__((always_inline)) void push_sreg(struct cpu *c, const struct insn *i,
                                                            int sr)
{
    uint16_t sel = c->seg[sr].sel;
    uint32_t sp = c->r[ESP] - 4;
    uint8_t *p;
    if (i->osize == 4 && (p = stack_host(c, sp, 2, TLB_W_S))) {
        host_store(p, 2, sel);
        c->r[ESP] = sp;
        insn_next(c, i);
        return;
    }
    push_sreg_any_next(c, i, sel);
}

static __attribute__((noinline)) void pop_sreg_any(struct cpu *c, const struct insn *i, int sr)
{
    uint16_t sel = (uint16_t)stack_peek(c, 2, 0);
    seg_load(c, sr, sel);
    c->r[ESP] = sp_with(c, c->r[ESP] + i->osize); /* SS's new B bit for POP SS */
    if (sr == SEG_SS) {
        cpu_settle(c); /* icount exact (it ends the block anyway) */
        c->inhibit_until = c->icount + 2; /* no interrupt until after the next instruction */
        c->inhibit_until_db = c->icount + 2; /* nor a data breakpoint's #DB (debug.h) */
        c->stop_block = true;
    }
}

/* The paths of pop_sreg other than a memo hit, each with the handler's tail (insn_next): tail
 * calls, so that the hit path saves no registers. */
static __attribute__((noinline)) void pop_sreg_load(struct cpu *c, const struct insn *i, int sr,
                                                    uint16_t sel, uint32_t sp)
{
    seg_load_slow(c, sr, sel);
    c->r[ESP] = sp + i->osize;
    insn_next(c, i);
}

static __attribute__((noinline)) void pop_sreg_any_next(struct cpu *c, const struct insn *i,
                                                        int sr)
{
    pop_sreg_any(c, i, sr);
    insn_next(c, i);
}

/* The fast path: POP DS/ES/FS/GS from a flat 32-bit stack the TLB maps for reading (the load
 * leaves SS, and so the stack-pointer size, as it was). POP SS always takes pop_sreg_any. A
 * handler (body and insn_next, as OP), written out so that the other paths are tail calls. */
static inline __attribute__((always_inline)) void pop_sreg(struct cpu *c, const struct insn *i,
                                                           int sr)
{
    uint32_t sp = c->r[ESP];
    const uint8_t *p;
    if ((p = stack_host(c, sp, 2, TLB_R_S))) {
        uint16_t sel = (uint16_t)host_load(p, 2);
        if (!seg_memo_hit(c, sr, sel)) {
            pop_sreg_load(c, i, sr, sel, sp);
            return;
        }
        c->r[ESP] = sp + i->osize;
        insn_next(c, i);
        return;
    }
    pop_sreg_any_next(c, i, sr);
}

#define PUSH_POP_SREG(name, sr)                          \
    OP_DECL(push_##name) { push_sreg(c, i, sr); }        \
    OP_DECL(pop_##name) { pop_sreg(c, i, sr); }
PUSH_POP_SREG(es, SEG_ES)
PUSH_POP_SREG(ds, SEG_DS)
PUSH_POP_SREG(fs, SEG_FS)
PUSH_POP_SREG(gs, SEG_GS)
#undef PUSH_POP_SREG
OP_DECL(push_cs) { push_sreg(c, i, SEG_CS); }
OP_DECL(push_ss) { push_sreg(c, i, SEG_SS); }
OP(pop_ss) { pop_sreg_any(c, i, SEG_SS); }

/* MOV r/m, Sreg: a register destination with 32-bit operand size gets the selector
 * zero-extended; a memory destination is always 16 bits. */
OP(mov_ES)
{
    if (i->reg >= SEG_COUNT)
        cpu_raise(c, EXC_UD, false, 0);
    uint16_t sel = c->seg[i->reg].sel;
    if (i->modreg)
        set_reg(c, i->rm, i->osize, sel);
    else
        wr(c, i->seg, ea(c, i), 2, sel);
}

static __attribute__((noinline)) void mov_SE_any(struct cpu *c, const struct insn *i)
{
    if (i->reg >= SEG_COUNT || i->reg == SEG_CS)
        cpu_raise(c, EXC_UD, false, 0);
    uint16_t sel = (uint16_t)rd_rm(c, i, 2);
    seg_load(c, i->reg, sel);
    if (i->reg == SEG_SS) {
        cpu_settle(c); /* icount exact (it ends the block anyway) */
        c->inhibit_until = c->icount + 2; /* no interrupt until after the next instruction */
        c->inhibit_until_db = c->icount + 2; /* nor a data breakpoint's #DB (debug.h) */
        c->stop_block = true;
    }
}

/* mov_SE's paths other than a memo hit, each with the handler's tail (as pop_sreg's). */
static __attribute__((noinline)) void mov_SE_load(struct cpu *c, const struct insn *i,
                                                  uint16_t sel)
{
    seg_load_slow(c, i->reg, sel);
    insn_next(c, i);
}

static __attribute__((noinline)) void mov_SE_any_next(struct cpu *c, const struct insn *i)
{
    mov_SE_any(c, i);
    insn_next(c, i);
}

/* The fast path: MOV DS/ES/FS/GS, r16 (a register source, no shadow to set). A handler (body
 * and insn_next, as OP) whose other paths are tail calls. */
OP_DECL(mov_SE)
{
    if (i->modreg && (i->reg == SEG_DS || i->reg == SEG_ES || i->reg == SEG_FS ||
                      i->reg == SEG_GS)) {
        uint16_t sel = (uint16_t)c->r[i->rm];
        if (!seg_memo_hit(c, i->reg, sel)) {
            mov_SE_load(c, i, sel);
            return;
        }
        insn_next(c, i);
        return;
    }
    mov_SE_any_next(c, i);
}

/* The same for a register source and DS, ES, FS or GS, which the decoder tells apart
 * (decode.c specialise): the memo hit without the tests of op_mov_SE. */
OP_DECL(mov_SE_data)
{
    uint16_t sel = (uint16_t)c->r[i->rm];
    const struct segment *s = seg_memo_get(c, SEG_MEMO_DATA, c->cpl, sel);
    if (!s) {
        mov_SE_load(c, i, sel);
        return;
    }
    c->seg[i->reg] = *s;
    insn_next(c, i);
}

/* ---- Runs of segment-register pushes, loads and pops ----
 * A trap stub's `push ds; push es; push fs; push gs`, `mov ds, ax; mov es, ax; mov fs, ax; mov
 * gs, ax` and `pop gs; pop fs; pop es; pop ds`: 2 to 4 of one kind in a row in the middle of a
 * block (not its last instruction) run as one handler, the run's first instruction's (a
 * middle-of-block handler, insn.mid: run on its own it runs its plain handler). sreg_fuse
 * (icache.c) picks them and packs the runs' segment registers into the first instruction's
 * imm, which none of these has (4 bits each, the first instruction's in the low bits). Each is
 * all or nothing: when everything the run's instructions would do one by one is on its fast
 * path (the stack's bytes through one TLB hit, every selector's memo), the run is done at once
 * (nothing in it can fault, settle or stop); otherwise nothing has changed and the first
 * instruction runs as without the run (its own slow path, with c->cur itself), then the next
 * with its own handler. Every instruction but the first keeps its plain handler, for a jump to
 * it. */
#define RUN_SR(i, j) ((int)(((i)->imm >> (4 * (j))) & 0xFu))

/* Each step j < m of a run, written out (m is a constant in each handler). */
#define RUN_EACH(m, STEP) \
    do {                  \
        STEP(0);          \
        if ((m) > 1)      \
            STEP(1);      \
        if ((m) > 2)      \
            STEP(2);      \
        if ((m) > 3)      \
            STEP(3);      \
    } while (0)

/* PUSH Sreg, m of them (32-bit): their 2-byte stores into the m slots below ESP, one page. */
static inline __attribute__((always_inline)) void push_sreg_run(struct cpu *c,
                                                                const struct insn *i, unsigned m)
{
    uint32_t sp = c->r[ESP] - 4 * m;
    uint8_t *p = stack_host(c, sp, 4 * m - 2, TLB_W_S);
    if (!p) {
        push_sreg_any_next(c, i, c->seg[RUN_SR(i, 0)].sel);
        return;
    }
#define PUSH_STEP(j) host_store(p + 4 * (m - 1 - (j)), 2, c->seg[RUN_SR(i, j)].sel)
    RUN_EACH(m, PUSH_STEP);
#undef PUSH_STEP
    c->r[ESP] = sp;
    insn_go(c, i + m - 1);
}

/* MOV DS/ES/FS/GS, r16, m of them from the same register: one memo (the same selector, CPL and
 * kind of register each time; a memo hit writes nothing, so each load would read the same
 * descriptor bytes). */
static inline __attribute__((always_inline)) void mov_SE_run(struct cpu *c, const struct insn *i,
                                                             unsigned m)
{
    uint16_t sel = (uint16_t)c->r[i->rm];
    const struct segment *s = seg_memo_get(c, SEG_MEMO_DATA, c->cpl, sel);
    if (!s) {
        mov_SE_load(c, i, sel);
        return;
    }
    const struct segment v = *s;
#define MOV_STEP(j) c->seg[RUN_SR(i, j)] = v
    RUN_EACH(m, MOV_STEP);
#undef MOV_STEP
    insn_go(c, i + m - 1);
}

/* POP DS/ES/FS/GS, m of them (32-bit): the selectors from the m slots at ESP, one page, each
 * with its memo (the one before's for a selector equal to the one before). */
static inline __attribute__((always_inline)) void pop_sreg_run(struct cpu *c, const struct insn *i,
                                                               unsigned m)
{
    uint32_t sp = c->r[ESP];
    const uint8_t *p = stack_host(c, sp, 4 * (m - 1) + 2, TLB_R_S);
    if (!p) {
        pop_sreg_any_next(c, i, RUN_SR(i, 0));
        return;
    }
    const struct segment *s[4];
    uint16_t sel[4];
#define POP_GET(j)                                                                       \
    do {                                                                                 \
        sel[j] = (uint16_t)host_load(p + 4 * (j), 2);                                    \
        if ((j) > 0 && sel[j] == sel[(j) > 0 ? (j) - 1 : 0])                              \
            s[j] = s[(j) > 0 ? (j) - 1 : 0];                                              \
        else if (!(s[j] = seg_memo_get(c, SEG_MEMO_DATA, c->cpl, sel[j]))) {             \
            pop_sreg_any_next(c, i, RUN_SR(i, 0));                                       \
            return;                                                                      \
        }                                                                                \
    } while (0)
    RUN_EACH(m, POP_GET);
#undef POP_GET
#define POP_SET(j) c->seg[RUN_SR(i, j)] = *s[j]
    RUN_EACH(m, POP_SET);
#undef POP_SET
    c->r[ESP] = sp + 4 * m;
    insn_go(c, i + m - 1);
}

#define SREG_RUNS(m)                                                                       \
    static void op_push_sreg_run##m(struct cpu *c, const struct insn *i)                  \
    {                                                                                      \
        push_sreg_run(c, i, m);                                                            \
    }                                                                                      \
    static void op_mov_SE_run##m(struct cpu *c, const struct insn *i) { mov_SE_run(c, i, m); } \
    static void op_pop_sreg_run##m(struct cpu *c, const struct insn *i)                   \
    {                                                                                      \
        pop_sreg_run(c, i, m);                                                             \
    }
SREG_RUNS(2)
SREG_RUNS(3)
SREG_RUNS(4)
#undef SREG_RUNS
#undef RUN_EACH

/* The kind of run instruction i may be part of: 0 a 32-bit PUSH Sreg, 1 MOV DS/ES/FS/GS, r16,
 * 2 a 32-bit POP DS/ES/FS/GS, 3 none; *sr: its segment register. By the opcode, each of
 * which has 1 or 2 bytes here (no prefix), then its handler (op_ud for a LOCK prefix). */
static inline unsigned run_kind(const struct insn *i, int *sr)
{
    if (i->len > 2)
        return 3;
    insn_fn want;
    unsigned kind;
    switch (opcode_table[i->id].key) {
#define K_(key, k, fn, r) \
    case key:             \
        kind = k;         \
        want = fn;        \
        *sr = r;          \
        break;
    K_(0x06, 0, op_push_es, SEG_ES)
    K_(0x0E, 0, op_push_cs, SEG_CS)
    K_(0x16, 0, op_push_ss, SEG_SS)
    K_(0x1E, 0, op_push_ds, SEG_DS)
    K_(0x1A0, 0, op_push_fs, SEG_FS)
    K_(0x1A8, 0, op_push_gs, SEG_GS)
    K_(0x8E, 1, op_mov_SE_data, i->reg)
    K_(0x07, 2, op_pop_es, SEG_ES)
    K_(0x1F, 2, op_pop_ds, SEG_DS)
    K_(0x1A1, 2, op_pop_fs, SEG_FS)
    K_(0x1A9, 2, op_pop_gs, SEG_GS)
#undef K_
    default:
        return 3;
    }
    return i->fn == want && (kind == 1 || i->osize == 4) ? kind : 3;
}

void sreg_fuse(struct insn *insns, unsigned n)
{
    static const insn_fn runs[3][3] = {
        {op_push_sreg_run2, op_push_sreg_run3, op_push_sreg_run4},
        {op_mov_SE_run2, op_mov_SE_run3, op_mov_SE_run4},
        {op_pop_sreg_run2, op_pop_sreg_run3, op_pop_sreg_run4},
    };
    unsigned k = 0;
    while (k + 1 < n) {
        struct insn *in = &insns[k];
        int sr;
        unsigned kind = run_kind(in, &sr);
        if (kind == 3) {
            k++;
            continue;
        }
        uint32_t regs = (uint32_t)sr;
        unsigned m = 1;
        for (; m < 4 && k + m < n; m++) {
            const struct insn *x = &in[m];
            if (run_kind(x, &sr) != kind || (kind == 1 && x->rm != in->rm))
                break;
            regs |= (uint32_t)sr << (4 * m);
        }
        if (m >= 2) {
            in->fn = runs[kind][m - 2];
            in->imm = regs;
            in->mid = 1; /* run on its own: its plain handler */
        }
        k += m;
    }
}

/* LDS/LES/LFS/LGS/LSS r, m16:32. */
OP(lxs)
{
    unsigned key = opcode_table[i->id].key;
    int sr = key == 0xC4 ? SEG_ES : key == 0xC5 ? SEG_DS : key == 0x1B2 ? SEG_SS
             : key == 0x1B4 ? SEG_FS : SEG_GS;
    uint32_t off = ea(c, i);
    uint32_t v = rd(c, i->seg, off, i->osize);
    uint16_t sel = (uint16_t)rd(c, i->seg, off + i->osize, 2);
    seg_load(c, sr, sel);
    set_reg(c, i->reg, i->osize, v);
}
