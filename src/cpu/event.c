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
/* flags_materialize, with the usual last operation before a transition (a 32-bit ADD or SUB
 * with no carry in, or a logic operation: the kernel's `addl $8, %esp` before IRET) folded
 * here as lf_compute would, without the call. */
static inline void fold_flags(struct cpu *c)
{
    const struct lazyflags *lf = &c->lf;
    if (lf->op == LF_NONE)
        return;
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

static inline void capture(struct cpu *c, struct trace_state *s, uint32_t eip)
{
    fold_flags(c);
#ifdef __SSE2__
    __m128i *l = (__m128i *)(void *)s->lane;
    _mm_storeu_si128(l, _mm_loadu_si128((const __m128i *)(const void *)c->r));
    _mm_storeu_si128(l + 1, _mm_loadu_si128((const __m128i *)(const void *)(c->r + 4)));
    _mm_storeu_si128(l + 2, _mm_setr_epi32((int)eip, (int)(c->eflags | FL_R1), (int)c->cr3,
                                           c->seg[SEG_CS].sel));
    _mm_storeu_si128(l + 3, _mm_setr_epi32(c->seg[SEG_SS].sel, c->cpl, 0, 0));
#else
    memcpy(s->r, c->r, sizeof s->r);
    s->eip = eip;
    s->eflags = c->eflags | FL_R1;
    s->cr3 = c->cr3;
    s->cs = c->seg[SEG_CS].sel;
    s->ss = c->seg[SEG_SS].sel;
    s->cpl = c->cpl;
    s->zero[0] = s->zero[1] = 0;
#endif
}

void trace_begin_sinks(struct cpu *c, struct trace_event *ev, enum trace_kind kind,
                       unsigned vector, bool has_error, uint32_t error)
{
    ev->icount = c->icount; /* exact: trace_begin settled it */
    ev->kind = (uint8_t)kind;
    ev->vector = (uint8_t)vector;
    ev->has_error = has_error;
    ev->error = has_error ? error : 0;
    ev->detail.kind = FD_NONE;
    ev->source = kind == TR_INTERRUPT ? (uint8_t)c->intr_source : 0;
    ev->source_num = kind == TR_INTERRUPT ? (uint8_t)(c->intr_source >> 8) : 0;
    /* An exception is reported at the instruction it belongs to: EIP has been rolled back to
     * the faulting instruction (or, after a trap, moved past it); a shutdown happens there
     * too. Everything else is caused by the instruction now executing (or, for an external
     * interrupt, at the boundary where insn_eip = eip). */
    capture(c, &ev->before,
            (kind == TR_EXCEPTION || kind == TR_SHUTDOWN) ? c->eip : c->insn_eip);
}

void trace_end_sinks(struct cpu *c, struct trace_event *ev)
{
    ev->cr2 = c->cr2;
    capture(c, &ev->after, c->eip);
    c->emitting = true;
    for (unsigned k = 0; k < c->nsinks; k++)
        c->sinks[k].event(c->sinks[k].ctx, ev);
    c->emitting = false;
}

int cpu_add_sink(struct cpu *c, trace_sink_fn fn, void *ctx)
{
    if (!fn || c->nsinks >= CPU_MAX_SINKS || c->emitting)
        return -1;
    c->sinks[c->nsinks++] = (struct trace_sink){fn, ctx};
    return 0;
}

bool cpu_remove_sink(struct cpu *c, trace_sink_fn fn, void *ctx)
{
    if (c->emitting)
        return false;
    for (unsigned k = 0; k < c->nsinks; k++) {
        if (c->sinks[k].event == fn && c->sinks[k].ctx == ctx) {
            memmove(&c->sinks[k], &c->sinks[k + 1], (c->nsinks - k - 1) * sizeof c->sinks[0]);
            c->nsinks--;
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
