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

/* The instruction has more to do: it runs again from its start (the one place a REP instruction
 * sets EIP back to itself). */
static inline void rep_again(struct cpu *c)
{
    cpu_restart_insn(c);
}

/* Runs `body` once, or under REP while the count is non-zero. `bulk` (an expression of `max`)
 * moves up to max elements at once and says how many (see rep_bulk below; 0 for none), and
 * runs before each iteration; body then does one element the slow way. */
#define REP_LOOP_BULK(body_call, bulk)                                        \
    do {                                                                      \
        if (!i->rep) {                                                        \
            body_call;                                                        \
            return;                                                           \
        }                                                                     \
        uint32_t bus0 = c->bus_ops;                                           \
        for (unsigned n = 0; cnt_get(c, i) != 0; n++) {                       \
            uint32_t work = chunk_work(c, n, bus0);                           \
            if (work >= REP_CHUNK) {                                          \
                rep_again(c); /* more to do: restart the instruction */       \
                c->stop_block = true;                                         \
                return;                                                       \
            }                                                                 \
            uint32_t max = REP_CHUNK - work;                                  \
            if (max > cnt_get(c, i))                                          \
                max = cnt_get(c, i);                                          \
            uint32_t done = (bulk);                                           \
            if (done) {                                                       \
                cnt_set(c, i, cnt_get(c, i) - done);                          \
                n += done - 1;                                                \
                continue;                                                     \
            }                                                                 \
            body_call;                                                        \
            cnt_set(c, i, cnt_get(c, i) - 1);                                 \
            if (c->dbg_hit && cnt_get(c, i) != 0) {                           \
                rep_again(c); /* a data breakpoint: #DB after this */         \
                c->dbg_rep_cut = true; /* iteration, then the rest */         \
                return;                                                       \
            }                                                                 \
        }                                                                     \
    } while (0)

#define REP_LOOP(body_call) REP_LOOP_BULK(body_call, ((void)max, 0u))

/* ---- REP MOVS and REP STOS in bulk ----
 * A run of elements that lies whole in one page of the destination (and of the source, for
 * MOVS), where the TLB grants the access, is moved with memset/memcpy-like loops on the host
 * pointers instead of one iteration at a time. A TLB hit for a page says everything the slow
 * path would check: the page is RAM (MMIO entries grant nothing), holds no decoded code and is
 * not watched (their entries withhold the write bits), has no data breakpoint (its entries
 * grant only fetches), is dirty (writes), and the privilege (and alignment checking, which no
 * entry grants) allows the access. So such a run cannot fault, reach a device, hit a
 * breakpoint or invalidate code, and its result is the same as element by element. Anything
 * else (a miss, an element across a page boundary, segments that are not flat, 16-bit
 * addresses, a pending data breakpoint) takes one element the slow way, which fills the TLB,
 * and the next element tries again. Runs are cut to the chunk (REP_CHUNK), so the instruction
 * retires and restarts at the same counts as before. */

/* How many elements of `size` bytes, from lin on in the direction of DF, lie whole in lin's
 * page (0 when the first one does not). */
static inline uint32_t page_run(uint32_t lin, unsigned size, bool down)
{
    uint32_t off = lin & PAGE_MASK;
    if (off > PAGE_SIZE - size)
        return 0;
    return down ? off / size + 1 : (PAGE_SIZE - off) / size;
}

static inline bool bulk_ok(const struct cpu *c, const struct insn *i)
{
    return i->asize == 4 && c->seg[SEG_ES].flat && !c->dbg_hit;
}

static uint32_t stos_bulk(struct cpu *c, const struct insn *i, uint32_t max)
{
    if (!bulk_ok(c, i))
        return 0;
    unsigned s = i->osize;
    bool down = c->eflags & FL_DF;
    uint32_t edi = c->r[EDI];
    struct tlb_entry *e = tlb_hit(c, edi, s, TLB_W_S << c->acc_shift);
    if (!e)
        return 0;
    uint32_t n = page_run(edi, s, down);
    if (n > max)
        n = max;
    if (n == 0)
        return 0;
    uint8_t *p = e->host + (edi & PAGE_MASK); /* the first element */
    uint8_t *lo = down ? p - (n - 1) * s : p;
    uint32_t v = get_reg(c, EAX, s);
    if (s == 1 || v == (v & 0xFF) * (s == 2 ? 0x0101u : 0x01010101u)) {
        memset(lo, (int)(v & 0xFF), (size_t)n * s); /* one byte repeated (a clear, say) */
    } else if (s == 2) {
        for (uint32_t k = 0; k < n; k++)
            host_store(lo + 2 * k, 2, v);
    } else {
        for (uint32_t k = 0; k < n; k++)
            host_store(lo + 4 * k, 4, v);
    }
    c->r[EDI] = down ? edi - n * s : edi + n * s;
    return n;
}

static uint32_t movs_bulk(struct cpu *c, const struct insn *i, uint32_t max)
{
    if (!bulk_ok(c, i) || !c->seg[i->seg].flat)
        return 0;
    unsigned s = i->osize;
    bool down = c->eflags & FL_DF;
    uint32_t esi = c->r[ESI], edi = c->r[EDI];
    struct tlb_entry *es = tlb_hit(c, esi, s, TLB_R_S << c->acc_shift);
    if (!es)
        return 0;
    struct tlb_entry *ed = tlb_hit(c, edi, s, TLB_W_S << c->acc_shift);
    if (!ed)
        return 0;
    uint32_t n = page_run(esi, s, down), nd = page_run(edi, s, down);
    if (n > nd)
        n = nd;
    if (n > max)
        n = max;
    if (n == 0)
        return 0;
    uint8_t *ps = es->host + (esi & PAGE_MASK), *pd = ed->host + (edi & PAGE_MASK);
    size_t len = (size_t)n * s;
    uint8_t *src_lo = down ? ps - (len - s) : ps, *dst_lo = down ? pd - (len - s) : pd;
    if (dst_lo + len <= src_lo || src_lo + len <= dst_lo) {
        memcpy(dst_lo, src_lo, len); /* apart (also in host memory: pages may alias) */
    } else if (!down) {
        /* Overlapping: element by element, as the instruction does (a destination just above
         * the source repeats the first elements). */
        for (size_t k = 0; k < len; k += s)
            host_store(pd + k, s, host_load(ps + k, s));
    } else {
        for (size_t k = 0; k < len; k += s)
            host_store(pd - k, s, host_load(ps - k, s));
    }
    c->r[ESI] = down ? esi - (uint32_t)len : esi + (uint32_t)len;
    c->r[EDI] = down ? edi - (uint32_t)len : edi + (uint32_t)len;
    return n;
}

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
            rep_again(c); /* more to do: restart the instruction */
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
            rep_again(c); /* a data breakpoint: #DB after this iteration */
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

/* MOVS without REP (xv6's memmove is a loop of MOVSB, CMP, JNE): flat segments, 32-bit
 * addresses, and TLB hits for the read and the write: the element cannot fault, reach a device,
 * hit a data breakpoint or land in decoded code (see the bulk paths above), so it moves through
 * the host pointers. Returns false, having changed nothing, otherwise (movs1 then). */
static inline __attribute__((always_inline)) bool movs_one_fast(struct cpu *c,
                                                                const struct insn *i)
{
    if (i->asize != 4)
        return false;
    unsigned s = i->osize;
    const uint8_t *src = fast_host(c, i->seg, c->r[ESI], s, TLB_R_S);
    if (!src)
        return false;
    uint8_t *dst = fast_host(c, SEG_ES, c->r[EDI], s, TLB_W_S);
    if (!dst)
        return false;
    host_store(dst, s, host_load(src, s));
    uint32_t d = (c->eflags & FL_DF) ? (uint32_t)-(int32_t)s : s;
    c->r[ESI] += d;
    c->r[EDI] += d;
    return true;
}

OP(movs)
{
    if (!i->rep && movs_one_fast(c, i))
        return;
    REP_LOOP_BULK(movs1(c, i), movs_bulk(c, i, max));
}
OP(stos) { REP_LOOP_BULK(stos1(c, i), stos_bulk(c, i, max)); }
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
