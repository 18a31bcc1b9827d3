/* The one event builder, and the sinks and instruction hooks that listen (see event.h). */
#include "cpu/event.h"

#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "cpu/cpu.h"
#include "cpu/flags.h"
#include "cpu/insn.h"

/* The state now, with eip. EFLAGS is folded into c->eflags (flags_materialize: the same
 * value, the lazy state dropped), so the fold happens once per event, not in each capture and
 * again when the transition pushes EFLAGS. With SSE2 each group of four lanes is stored at
 * once: the encoder reads them back four at a time (four 4-byte stores read back by one
 * 16-byte load stall the host's store forwarding). */

/* The six arithmetic flags of the usual last operations before a transition (a 32-bit ADD
 * or SUB without a carry in, a logic operation, INC, DEC, SHL: a loop's CMP before INT n, the
 * kernel's `addl $8, %esp` before IRET, an index scaled before a load that faults), by the
 * host's own instruction on the same operands:
 * LAHF puts SF ZF AF PF CF where EFLAGS has them, SETO gives OF. Exactly lf_compute's flags:
 * a logic operation's AF (undefined on the host) is 0 there, and INC and DEC keep the carry
 * in as CF. Returns false for the other operations. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define FOLD_HOST 1
#define HOST_FLAGS(insn, a, b)                                                           \
    __asm__(insn " %k[y], %k[x]\n\tlahf\n\tseto %b[o]\n\tmovzbl %%ah, %k[f]"             \
            : [f] "=Q"(f), [o] "=&q"(o), [x] "+r"(a)                                    \
            : [y] "r"(b)                                                                 \
            : "cc", "rax")
static inline bool host_fold32(const struct lazyflags *lf, uint32_t *out)
{
    uint32_t f, o, a = lf->op1, b = lf->op2;
    if (lf->op == LF_SUB && !lf->cf_in) {
        HOST_FLAGS("cmpl", a, b);
    } else if (lf->op == LF_ADD && !lf->cf_in) {
        HOST_FLAGS("addl", a, b);
    } else if (lf->op == LF_LOGIC) {
        a = lf->res;
        HOST_FLAGS("testl", a, a);
        f &= FL_ZF | FL_SF | FL_PF;
        o = 0;
    } else if (lf->op == LF_INC || lf->op == LF_DEC) {
        b = 1;
        if (lf->op == LF_INC)
            HOST_FLAGS("addl", a, b);
        else
            HOST_FLAGS("subl", a, b);
        f = (f & ~FL_CF) | lf->cf_in;
    } else if (lf->op == LF_SHL && b - 1 < 31) {
        /* ZF, SF, PF of the result by TEST, CF the last bit out, OF = MSB ^ CF (the host's SHL
         * defines OF for a count of 1 only), AF 0 */
        uint32_t cf = a >> (32 - b) & 1;
        a = lf->res;
        HOST_FLAGS("testl", a, a);
        f = (f & (FL_ZF | FL_SF | FL_PF)) | cf;
        o = (f >> 7 ^ cf) & 1;
    } else {
        return false;
    }
    *out = (f & (FL_SF | FL_ZF | FL_AF | FL_PF | FL_CF)) | (o & 1) << 11;
    return true;
}
#undef HOST_FLAGS
#endif

/* The fold's quick part: true when nothing is pending or the host's flags folded it. */
static inline bool fold_quick(struct cpu *c)
{
    const struct lazyflags *lf = &c->lf;
    if (lf->op == LF_NONE)
        return true;
#ifdef FOLD_HOST
    uint32_t hf;
    if (lf->size == 4 && c->fold_host && host_fold32(lf, &hf)) {
        c->eflags = (c->eflags & ~FL_ARITH) | hf;
        c->lf.op = LF_NONE;
        return true;
    }
#endif
    return false;
}

/* The rest: flags_materialize, with a 32-bit ADD or SUB with no carry in or a logic
 * operation folded here as lf_compute would, without the call. */
static void fold_slow(struct cpu *c)
{
    const struct lazyflags *lf = &c->lf;
    if (lf->size != 4 || lf->cf_in || (lf->op != LF_ADD && lf->op != LF_SUB && lf->op != LF_LOGIC)) {
        flags_materialize(c);
        return;
    }
    uint32_t res = lf->res, a = lf->op1, b = lf->op2;
    uint32_t f = (res == 0 ? FL_ZF : 0) | (res & 0x80000000u ? FL_SF : 0) |
                 (parity8(res) ? FL_PF : 0);
    if (lf->op == LF_ADD)
        f |= (res < a ? FL_CF : 0) | ((a ^ b ^ res) & 0x10 ? FL_AF : 0) |
             ((a ^ res) & (b ^ res) & 0x80000000u ? FL_OF : 0);
    else if (lf->op == LF_SUB)
        f |= (a < b ? FL_CF : 0) | ((a ^ b ^ res) & 0x10 ? FL_AF : 0) |
             ((a ^ b) & (a ^ res) & 0x80000000u ? FL_OF : 0);
    c->eflags = (c->eflags & ~FL_ARITH) | f;
    c->lf.op = LF_NONE;
}

/* The state now into s, the flags already folded, for the state before: the lanes after the
 * registers stored one by one (fewer host instructions than building them in a vector; the
 * appender reads them back at the end of the transition, long after the stores have left the
 * store buffer). */
static inline void store_before(const struct cpu *restrict c, struct trace_state *restrict s,
                                uint32_t eip)
{
#ifdef __SSE2__
    __m128i *l = (__m128i *)(void *)s->lane;
    _mm_storeu_si128(l, _mm_loadu_si128((const __m128i *)(const void *)c->r));
    _mm_storeu_si128(l + 1, _mm_loadu_si128((const __m128i *)(const void *)(c->r + 4)));
#else
    memcpy(s->r, c->r, sizeof s->r);
#endif
    s->eip = eip;
    s->eflags = c->eflags | FL_R1;
    s->cr3 = c->cr3;
    s->cs = c->seg[SEG_CS].sel;
    s->ss = c->seg[SEG_SS].sel;
    s->cpl = c->cpl;
    s->zero[0] = s->zero[1] = 0;
}

/* The same for the state after (trace_event_finish): all of it built in vectors. */
static inline void store_state(const struct cpu *c, struct trace_state *s, uint32_t eip)
{
#ifdef __SSE2__
    __m128i *l = (__m128i *)(void *)s->lane;
    _mm_storeu_si128(l, _mm_loadu_si128((const __m128i *)(const void *)c->r));
    _mm_storeu_si128(l + 1, _mm_loadu_si128((const __m128i *)(const void *)(c->r + 4)));
    _mm_storeu_si128(l + 2, _mm_setr_epi32((int)eip, (int)(c->eflags | FL_R1), (int)c->cr3,
                                           c->seg[SEG_CS].sel));
    _mm_storeu_si128(l + 3, _mm_setr_epi32(c->seg[SEG_SS].sel, c->cpl, 0, 0));
#else
    store_before(c, s, eip);
#endif
}

static void capture(struct cpu *c, struct trace_state *s, uint32_t eip)
{
    if (!fold_quick(c))
        fold_slow(c);
    store_state(c, s, eip);
}

/* trace_begin_sinks when the flags need the slow fold (out of line: the usual path calls
 * nothing, so it saves no registers). */
static __attribute__((noinline)) void begin_slow(struct cpu *c, struct trace_event *ev,
                                                 uint32_t eip)
{
    fold_slow(c);
    ev->icount = c->icount;
    store_before(c, &ev->before, eip);
}

void trace_begin_sinks(struct cpu *restrict c, struct trace_event *restrict ev, uint32_t eip)
{
    if (__builtin_expect(!fold_quick(c), 0)) {
        begin_slow(c, ev, eip);
        return;
    }
    ev->icount = c->icount; /* exact: trace_begin settled it */
    store_before(c, &ev->before, eip);
}

void trace_begin_fields(struct cpu *c, struct trace_event *ev, unsigned vector, bool has_error,
                        uint32_t error)
{
    trace_begin_store(c, ev, vector, has_error, error);
}

void trace_event_finish(struct cpu *c, struct trace_event *ev)
{
    ev->cr2 = c->cr2;
    capture(c, &ev->after, c->eip);
}

void trace_end_sinks(void *ctx, struct cpu *c, struct trace_event *ev)
{
    (void)ctx;
    trace_event_finish(c, ev);
    c->emitting = true;
    for (unsigned k = 0; k < c->nsinks; k++)
        c->sinks[k].event(c->sinks[k].ctx, ev);
    c->emitting = false;
}

void cpu_set_portable(struct cpu *c, bool portable)
{
    c->portable = portable;
#ifdef FOLD_HOST
    c->fold_host = !portable && __builtin_cpu_supports("lahf_lm");
#else
    c->fold_host = false;
#endif
}

/* What trace_end calls: the one sink's own end, or every sink through trace_end_sinks. */
static void update_end(struct cpu *c)
{
    cpu_set_portable(c, c->portable);
    if (c->nsinks == 1 && c->sinks[0].end) {
        c->end_fn = c->sinks[0].end;
        c->end_ctx = c->sinks[0].ctx;
    } else {
        c->end_fn = trace_end_sinks;
        c->end_ctx = NULL;
    }
}

int cpu_add_sink_end(struct cpu *c, trace_sink_fn fn, trace_end_fn end, void *ctx)
{
    if (!fn || c->nsinks >= CPU_MAX_SINKS || c->emitting)
        return -1;
    c->sinks[c->nsinks++] = (struct trace_sink){fn, end, ctx};
    update_end(c);
    return 0;
}

int cpu_add_sink(struct cpu *c, trace_sink_fn fn, void *ctx)
{
    return cpu_add_sink_end(c, fn, NULL, ctx);
}

bool cpu_remove_sink(struct cpu *c, trace_sink_fn fn, void *ctx)
{
    if (c->emitting)
        return false;
    for (unsigned k = 0; k < c->nsinks; k++) {
        if (c->sinks[k].event == fn && c->sinks[k].ctx == ctx) {
            memmove(&c->sinks[k], &c->sinks[k + 1], (c->nsinks - k - 1) * sizeof c->sinks[0]);
            c->nsinks--;
            update_end(c);
            return true;
        }
    }
    return false;
}

/* With more than one hook, the dispatch loop calls this one, which calls them all. */
static void fan_out(void *ctx, struct cpu *c, uint32_t lin_eip)
{
    (void)ctx;
    for (unsigned k = 0; k < c->nhooks; k++)
        c->hooks[k].fn(c->hooks[k].ctx, c, lin_eip);
}

static void update_dispatch(struct cpu *c)
{
    if (c->nhooks == 0) {
        c->insn_hook = NULL;
        c->insn_hook_ctx = NULL;
    } else if (c->nhooks == 1) {
        c->insn_hook = c->hooks[0].fn;
        c->insn_hook_ctx = c->hooks[0].ctx;
    } else {
        c->insn_hook = fan_out;
        c->insn_hook_ctx = NULL;
    }
}

int cpu_add_insn_hook(struct cpu *c, insn_hook_fn fn, void *ctx)
{
    if (!fn || c->nhooks >= CPU_MAX_INSN_HOOKS)
        return -1;
    c->hooks[c->nhooks++] = (struct insn_hook){fn, ctx};
    update_dispatch(c);
    return 0;
}

bool cpu_remove_insn_hook(struct cpu *c, insn_hook_fn fn, void *ctx)
{
    for (unsigned k = 0; k < c->nhooks; k++) {
        if (c->hooks[k].fn == fn && c->hooks[k].ctx == ctx) {
            memmove(&c->hooks[k], &c->hooks[k + 1], (c->nhooks - k - 1) * sizeof c->hooks[0]);
            c->nhooks--;
            update_dispatch(c);
            return true;
        }
    }
    return false;
}
