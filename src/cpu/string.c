/* String instructions with REP/REPE/REPNE: MOVS, CMPS, STOS, LODS, SCAS, INS, OUTS.
 *
 * Each iteration commits ESI/EDI/ECX only after its memory accesses succeeded, so a fault in the
 * middle leaves the registers at the element that faulted and EIP at the instruction, which then
 * restarts from there (SDM vol. 1 7.3.9.2). A long REP is split into chunks: after a chunk the
 * instruction retires once and restarts, so device time and the instruction limit keep
 * advancing. A chunk ends when its host work reaches REP_CHUNK: an iteration costs one, and
 * each device access it made (MMIO: a page walk and a device call; port I/O: a device call)
 * REP_BUS_COST more. So one unit of device time is at most 4096 iterations in RAM or 64 device
 * accesses, and a REP INS, OUTS or MOVS to MMIO cannot spend unbounded host time per unit of
 * the guest's budget. The rings' guests' REP OUTS of a few dozen bytes still retire once. */
#include "cpu/io.h"
#include "cpu/ops.h"

#define REP_CHUNK 4096u
#define REP_BUS_COST 64u

/* The host work of a chunk so far: n iterations that made the device accesses since bus0. */
static inline uint32_t chunk_work(const struct cpu *c, unsigned n, uint32_t bus0)
{
    uint32_t ops = c->bus_ops - bus0;
    return ops >= REP_CHUNK / REP_BUS_COST ? REP_CHUNK : n + ops * REP_BUS_COST;
}

static inline uint32_t cnt_get(const struct cpu *c, const struct insn *i)
{
    return i->asize == 2 ? c->r[ECX] & 0xFFFF : c->r[ECX];
}

static inline void cnt_set(struct cpu *c, const struct insn *i, uint32_t v)
{
    if (i->asize == 2)
        set_reg(c, ECX, 2, v);
    else
        c->r[ECX] = v;
}

static inline uint32_t idx_get(const struct cpu *c, const struct insn *i, unsigned r)
{
    return i->asize == 2 ? c->r[r] & 0xFFFF : c->r[r];
}

static inline void idx_step(struct cpu *c, const struct insn *i, unsigned r)
{
    uint32_t d = (c->eflags & FL_DF) ? (uint32_t)-(int32_t)i->osize : i->osize;
    if (i->asize == 2)
        set_reg(c, r, 2, c->r[r] + d);
    else
        c->r[r] += d;
}

/* Runs `body` once, or under REP while the count is non-zero. */
#define REP_LOOP(body_call)                                                   \
    do {                                                                      \
        if (!i->rep) {                                                        \
            body_call;                                                        \
            return;                                                           \
        }                                                                     \
        uint32_t bus0 = c->bus_ops;                                           \
        for (unsigned n = 0; cnt_get(c, i) != 0; n++) {                       \
            if (chunk_work(c, n, bus0) >= REP_CHUNK) {                        \
                cpu_restart_insn(c); /* more to do: restart the instruction */ \
                c->stop_block = true;                                         \
                return;                                                       \
            }                                                                 \
            body_call;                                                        \
            cnt_set(c, i, cnt_get(c, i) - 1);                                 \
            if (c->dbg_hit && cnt_get(c, i) != 0) {                           \
                cpu_restart_insn(c); /* a data breakpoint: #DB after this */  \
                c->dbg_rep_cut = true; /* iteration, then the rest */         \
                return;                                                       \
            }                                                                 \
        }                                                                     \
    } while (0)

static void movs1(struct cpu *c, const struct insn *i)
{
    uint32_t v = rd(c, i->seg, idx_get(c, i, ESI), i->osize);
    wr(c, SEG_ES, idx_get(c, i, EDI), i->osize, v);
    idx_step(c, i, ESI);
    idx_step(c, i, EDI);
}

static void stos1(struct cpu *c, const struct insn *i)
{
    wr(c, SEG_ES, idx_get(c, i, EDI), i->osize, get_reg(c, EAX, i->osize));
    idx_step(c, i, EDI);
}

static void lods1(struct cpu *c, const struct insn *i)
{
    uint32_t v = rd(c, i->seg, idx_get(c, i, ESI), i->osize);
    set_reg(c, EAX, i->osize, v);
    idx_step(c, i, ESI);
}

/* CMPS compares [ESI] - [EDI]; SCAS compares accumulator - [EDI]. One iteration's flags go to
 * *lf, and rep_compare() commits them when the instruction stops: "When a fault occurs during
 * the execution of a CMPS or SCAS instruction that is prefixed with REPE or REPNE, the EFLAGS
 * value is restored to the state prior to the execution of the instruction." (SDM vol. 2, REP) */
static void compare_flags(struct lazyflags *lf, unsigned size, uint32_t a, uint32_t b)
{
    *lf = (struct lazyflags){.res = (a - b) & size_mask(size), .op1 = a, .op2 = b,
                             .op = LF_SUB, .size = (uint8_t)size, .cf_in = 0};
}

/* ES:[EDI] is read first: when both operands fault, Intel processors report the [EDI] one. */
static void cmps1(struct cpu *c, const struct insn *i, struct lazyflags *lf)
{
    uint32_t b = rd(c, SEG_ES, idx_get(c, i, EDI), i->osize);
    uint32_t a = rd(c, i->seg, idx_get(c, i, ESI), i->osize);
    compare_flags(lf, i->osize, a, b);
    idx_step(c, i, ESI);
    idx_step(c, i, EDI);
}

static void scas1(struct cpu *c, const struct insn *i, struct lazyflags *lf)
{
    uint32_t a = get_reg(c, EAX, i->osize);
    uint32_t b = rd(c, SEG_ES, idx_get(c, i, EDI), i->osize);
    compare_flags(lf, i->osize, a, b);
    idx_step(c, i, EDI);
}

/* CMPS/SCAS once, or under REPE/REPNE while the count is non-zero and ZF allows. */
static void rep_compare(struct cpu *c, const struct insn *i,
                        void (*one)(struct cpu *, const struct insn *, struct lazyflags *))
{
    struct lazyflags lf;
    if (!i->rep) {
        one(c, i, &lf);
        c->lf = lf;
        return;
    }
    bool ran = false;
    uint32_t bus0 = c->bus_ops;
    for (unsigned n = 0; cnt_get(c, i) != 0; n++) {
        if (chunk_work(c, n, bus0) >= REP_CHUNK) {
            cpu_restart_insn(c); /* more to do: restart the instruction */
            c->stop_block = true;
            break;
        }
        one(c, i, &lf);
        ran = true;
        cnt_set(c, i, cnt_get(c, i) - 1);
        bool zf = lf.res == 0;
        if ((i->rep == REP_E && !zf) || (i->rep == REP_NE && zf))
            break;
        if (c->dbg_hit && cnt_get(c, i) != 0) {
            cpu_restart_insn(c); /* a data breakpoint: #DB after this iteration */
            c->dbg_rep_cut = true;
            break;
        }
    }
    if (ran)
        c->lf = lf;
}

static void ins1(struct cpu *c, const struct insn *i)
{
    uint16_t port = (uint16_t)c->r[EDX];
    uint32_t lin = seg_lin(c, SEG_ES, idx_get(c, i, EDI), i->osize, 1);
    lin_probe_write(c, lin, i->osize); /* the store must be possible before the port is read */
    uint32_t v = io_in(c, port, i->osize);
    lin_write(c, lin, i->osize, v);
    idx_step(c, i, EDI);
}

static void outs1(struct cpu *c, const struct insn *i)
{
    uint32_t v = rd(c, i->seg, idx_get(c, i, ESI), i->osize);
    io_out(c, (uint16_t)c->r[EDX], i->osize, v);
    idx_step(c, i, ESI);
}

OP(movs) { REP_LOOP(movs1(c, i)); }
OP(stos) { REP_LOOP(stos1(c, i)); }
OP(lods) { REP_LOOP(lods1(c, i)); }
OP(cmps) { rep_compare(c, i, cmps1); }
OP(scas) { rep_compare(c, i, scas1); }

OP(ins)
{
    io_check(c, (uint16_t)c->r[EDX], i->osize);
    REP_LOOP(ins1(c, i));
}

OP(outs)
{
    io_check(c, (uint16_t)c->r[EDX], i->osize);
    REP_LOOP(outs1(c, i));
}
