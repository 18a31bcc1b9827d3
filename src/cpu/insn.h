/* A decoded instruction and the opcode table it comes from.
 *
 * The decoder turns x86 bytes into a struct insn once; the handler named by the opcode table runs
 * it as many times as the code executes and never looks at the bytes again. Every fact about an
 * opcode (encoding form, handler, mnemonic, whether it ends a decoded block) lives in one row of
 * opcodes.def.
 */
#ifndef RINGSIDE_INSN_H
#define RINGSIDE_INSN_H

#include <stdint.h>

#include "cpu/cpu.h"

struct insn;
typedef void (*insn_fn)(struct cpu *c, const struct insn *i);

#define NOREG 8 /* base/index: none (c->r[NOREG] is always 0, see struct cpu) */
_Static_assert(sizeof ((struct cpu *)0)->r == (NOREG + 1) * sizeof(uint32_t),
               "struct cpu has r[NOREG]");

struct insn {
    insn_fn fn;
    union {
        uint32_t disp; /* memory operand displacement (or moffs) */
        struct {       /* a Jcc (it has none) whose target is an instruction of its own block
                          (icache.c; all 0 for other Jccs; control.c jcc_taken): */
            uint8_t jt; /* 1 + the target's index (1: the block's start, a loop) */
            int8_t jd;  /* this Jcc's index + 1 - the target's: the block's count moves by it */
            uint8_t jr; /* jd + the block's length: the count at the block's end, less the
                           count at its start before the jump */
        };
    };
    uint32_t imm;     /* first immediate (sign-extended where the form says so); the first of a
                         run of segment-register pushes, loads or pops: its registers (sreg.c) */
    uint16_t imm2;    /* second immediate: far-pointer selector, ENTER nesting level */
    uint16_t id;      /* row of the opcode table (mnemonic, flags) */
    uint8_t len;      /* bytes, prefixes included */
    uint8_t osize;    /* operand size: 1, 2 or 4 */
    uint8_t asize;    /* address size: 2 or 4 */
    uint8_t modreg;   /* 1 if the ModRM r/m operand is a register (mod == 3) */
    uint8_t reg;      /* ModRM.reg, or the register in the low opcode bits */
    uint8_t rm;       /* ModRM.rm (register operand when modreg) */
    uint8_t base;     /* memory operand base register or NOREG */
    uint8_t index;    /* memory operand index register or NOREG */
    uint8_t scale;    /* index shift 0..3 */
    uint8_t seg;      /* segment of the memory operand (default or override) */
    uint8_t rep;      /* 0, REP_E (F3) or REP_NE (F2) */
    uint8_t cc;       /* condition code (low opcode nibble) for Jcc/SETcc/CMOVcc */
    uint16_t off;     /* byte offset from the start of its decoded block (icache.c) */
    uint8_t idx;      /* index in its decoded block */
    uint8_t dfb;      /* a MOV to or from memory (or an IMUL r32, m32) whose slow path first
                         records the flags of an earlier ADD/SUB r32, imm of its block that
                         deferred them: how far back that instruction is (deadflags.c
                         insn_defer_fix), else 0 */
    uint16_t jl;      /* a Jcc in the middle of its block: the byte offset from this insn to
                         its direct link (icache.h struct jlink), else 0 */
    uint8_t mid;      /* fn is a middle-of-block handler (a dead-flags or fused one: it assumes
                         c->cur set and tests nothing); run on its own (exec.c run_exact) the
                         instruction runs insn_plain_fn's handler */
};

/* In the middle of a decoded block the dispatch loop (exec.c run_block) stores only c->cur:
 * c->eip is the block's start, c->icount the count at the block's start and c->insn_eip
 * stale. cpu_settle() makes them exact, as they would be with the bookkeeping done per
 * instruction (insn_eip = this instruction, eip = the next one, icount = instructions retired
 * before this one), and ends the block after this instruction (STOP_BRANCH: the dispatch loop
 * then counts it as retired). It does nothing when the state is already exact (c->cur NULL: the
 * block's last instruction, an instruction hook, between instructions). Anything in the middle
 * of an instruction that reads or writes EIP, insn_eip or icount calls it first (a taken Jcc, a
 * REP restart, a device access, a fault, an event); cpu.h has exact read-only accessors. */
static inline void cpu_settle(struct cpu *c)
{
    const struct insn *i = c->cur;
    if (i) {
        c->cur = NULL;
        c->icount += i->idx;
        c->insn_eip = c->eip + i->off;
        c->eip = c->insn_eip + i->len;
        c->stop_block |= STOP_BRANCH;
    }
}

/* The running instruction starts again (a REP instruction with more to do): EIP back to it. */
static inline void cpu_restart_insn(struct cpu *c)
{
    cpu_settle(c);
    c->eip = c->insn_eip;
}

/* trace_begin's fields and trace_begin_sinks, with a sink: inline in trace_begin (a constant
 * kind: most fields fold) and in event.c trace_begin_fields (a kind known only at run time). */
static inline __attribute__((always_inline)) void trace_begin_store(struct cpu *c,
                                                                    struct trace_event *ev,
                                                                    unsigned vector,
                                                                    bool has_error, uint32_t error)
{
    unsigned kind = ev->kind;
    ev->vector = (uint8_t)vector;
    ev->has_error = has_error;
    ev->error = has_error ? error : 0;
    ev->detail.kind = FD_NONE;
    ev->source = kind == TR_INTERRUPT ? (uint8_t)c->intr_source : 0;
    ev->source_num = kind == TR_INTERRUPT ? (uint8_t)(c->intr_source >> 8) : 0;
    /* An exception is reported at the instruction it belongs to: EIP has been rolled back
     * to the faulting instruction (or, after a trap, moved past it); a shutdown happens
     * there too. Everything else is caused by the instruction now executing (or, for an
     * external interrupt, at the boundary where insn_eip = eip). */
    trace_begin_sinks(c, ev, (kind == TR_EXCEPTION || kind == TR_SHUTDOWN) ? c->eip
                                                                           : c->insn_eip);
}

/* The event builder (event.h): the state before a transition, and after it. With no sink
 * nothing is built: the state is settled (exact icount and EIPs, as with a sink) and the kind
 * counted; only the kind is kept in *ev. With one, the fields given here are stored inline
 * (most are constants where trace_begin is called). */
static inline void trace_begin(struct cpu *c, struct trace_event *ev, enum trace_kind kind,
                               unsigned vector, bool has_error, uint32_t error)
{
    cpu_settle(c); /* exact icount and EIPs (exec.c run_block) */
    ev->kind = (uint8_t)kind;
    if (!__builtin_constant_p(kind)) { /* delivery: the fields stored out of line */
        if (__builtin_expect(c->nsinks != 0, 0))
            trace_begin_fields(c, ev, vector, has_error, error);
        return;
    }
    if (__builtin_expect(c->nsinks != 0, 0))
        trace_begin_store(c, ev, vector, has_error, error);
}

static inline void trace_end(struct cpu *c, struct trace_event *ev)
{
    if (ev->kind == TR_CR3)
        c->cr3_loads++;
    else if (ev->kind < TR_KINDS)
        c->transitions[ev->kind]++;
    if (__builtin_expect(c->nsinks != 0, 0))
        c->end_fn(c->end_ctx, c, ev);
}

enum { REP_NONE = 0, REP_E = 1, REP_NE = 2 };

/* Encoding form and behaviour bits of a table row. */
#define F_MODRM 0x0001u  /* a ModRM byte follows the opcode */
#define F_BYTE  0x0002u  /* byte operand size */
#define F_IB    0x0004u  /* imm8 */
#define F_IW    0x0008u  /* imm16 */
#define F_IZ    0x0010u  /* imm16 or imm32 by operand size */
#define F_MOFFS 0x0020u  /* moffs16/32 by address size (stored in disp) */
#define F_PTR   0x0040u  /* far pointer: offset16/32 then selector16 (imm, imm2) */
#define F_IWB   0x0080u  /* imm16 then imm8 (ENTER) */
#define F_SX    0x0100u  /* sign-extend imm8 */
#define F_MEM   0x0200u  /* the ModRM operand must be memory, else #UD */
#define F_CREG  0x0400u  /* MOV CRn/DRn: ModRM.mod is ignored, r/m is always a register */
#define F_LOCK  0x0800u  /* LOCK prefix legal (with a memory destination) */
#define F_END   0x1000u  /* control transfer: ends a decoded block */
#define F_MODE  0x2000u  /* may change CPL, mode, paging or interrupt state: ends a block */
#define F_PRIV  0x4000u  /* privileged: CPL 0 only (checked by the handler) */
#define F_IOPL  0x8000u  /* IOPL-sensitive (checked by the handler) */

struct opdesc {
    uint16_t key;      /* opcode: 0x000-0x0FF one byte, 0x100-0x1FF after 0F */
    int8_t ext;        /* ModRM.reg for group members, -1 otherwise */
    uint16_t flags;    /* F_* */
    insn_fn fn;
    const char *mnem;  /* Intel mnemonic, lower case */
};

/* The opcode table, index 0 being the invalid-opcode row. */
extern const struct opdesc opcode_table[];
extern const unsigned opcode_table_size;

#define OP_DECL(name) void op_##name(struct cpu *c, const struct insn *i)

/* Threaded dispatch (issue 15): a handler ends by running the next instruction of its block
 * itself, as a tail call (GCC -O2 emits a sibling-call `jmp *`), unless its block is to end
 * (stop_block set). The next instruction always exists: in the middle of a block (the last
 * one's handler is op_block_last), after the block's last one a sentinel (icache.h
 * op_block_end: it returns), and an instruction run on its own (exec.c run_exact) runs from a
 * copy followed by the sentinel. Without the sibling call (-O0, or sanitizers) the handlers
 * nest, at most a block's length (ICACHE_BLOCK_MAX) deep. */
static inline __attribute__((always_inline)) void insn_go(struct cpu *c, const struct insn *i)
{
    i++;
    /* An empty asm that takes i and gives it back: the compiler must have i + 1 in a register
     * (the one the call passes it in), and then loads the handler through it. Without it GCC
     * keeps i, loads i[1].fn and computes i + 1 apart, two more instructions per dispatch
     * (add; mov to c->cur; jmp *(reg) with it). */
    __asm__("" : "+r"(i));
    c->cur = i;
    i->fn(c, i);
}

/* The same for a handler that may have asked to end the block: any whose path may settle, raise
 * an event, touch a device, write code or stop. Fast paths that do none of that (registers, a
 * TLB hit, which is never a code page's write nor a device's) use insn_go. */
static inline __attribute__((always_inline)) void insn_next(struct cpu *c, const struct insn *i)
{
    if (__builtin_expect(c->stop_block != 0, 0))
        return;
    insn_go(c, i);
}

/* A handler: its body, then insn_next. Usage: OP(name) { ... } (a return in the body goes on
 * to the tail). */
#define OP(name)                                                                           \
    static inline __attribute__((always_inline)) void op_##name##_do(struct cpu *c,       \
                                                                     const struct insn *i); \
    OP_DECL(name)                                                                          \
    {                                                                                      \
        op_##name##_do(c, i);                                                              \
        insn_next(c, i);                                                                   \
    }                                                                                      \
    static inline __attribute__((always_inline)) void op_##name##_do(struct cpu *c,       \
                                                                     const struct insn *i)

/* Every handler named in opcodes.def. */
#define X(key, ext, mnem, flags, fn) OP_DECL(fn);
#include "cpu/opcodes.def"
#undef X
OP_DECL(toolong); /* an instruction longer than 15 bytes: #GP(0) */
#define F(name) OP_DECL(name##32);
#include "cpu/fast32.def"
#undef F
#define FORMS(name) OP_DECL(name##32_r); OP_DECL(name##32_b); OP_DECL(name##32_x);
#define FORMS_B(name) FORMS(name) OP_DECL(name##8_r); OP_DECL(name##8_b); OP_DECL(name##8_x);
#include "cpu/forms.def"
#undef FORMS
#undef FORMS_B

/* The handler of instruction producer (by its handler, and for byte forms whether its register
 * operands are all low bytes) fused with a Jcc of condition cc that follows it (control.c), NULL
 * when it has none. dead: the producer's flags are dead where the Jcc leads when taken (1: its
 * target is an instruction of its block, insn.jt), when not taken (2), both (3), or 0; 4: none
 * dead, the target an instruction of its block. */
insn_fn jcc_fused(const struct insn *producer, unsigned cc, unsigned dead);

/* The first instruction of a triple (control.c jcc_fused_pre): INC, DEC of a 32-bit register;
 * XOR r/m32, r32 of registers; MOV r32 from [base + disp], from [base + index * scale + disp]
 * (32-bit addressing). */
enum fused_pre { PRE_INC, PRE_DEC, PRE_XOR, PRE_LOAD_B, PRE_LOAD_X, PRE_KINDS };

/* The handler of an instruction of that kind followed by the instruction whose fused handler
 * (jcc_fused's) is fused, the three as one (control.c), NULL when there is none. */
insn_fn jcc_fused_pre(insn_fn fused, enum fused_pre kind);

/* Runs of 2 to 4 PUSH Sreg, MOV DS/ES/FS/GS, r16 from one register, or POP DS/ES/FS/GS
 * (32-bit) among the first n instructions of a decoded block (not its last): the first of each
 * gets one handler for the run (a middle-of-block one, its imm the run's segment registers;
 * sreg.c). After dead flags and fusion: it knows the plain handlers. */
void sreg_fuse(struct insn *insns, unsigned n);

/* Copy loops among the n instructions of a decoded block (copyloop.c): a 32-bit load, ADD r32,
 * imm, a 32-bit store, CMP r32, imm and a Jcc back to the load, the Jcc not the block's last:
 * the load gets a middle-of-block handler that runs the five pass after pass. Last of the
 * decode-time passes: it knows the plain handlers and leaves the other four alone. */
void insn_copy_loop(struct insn *insns, unsigned n);

/* The first instruction of a quad (control.c jcc_fused_quad): SHL/SAL, SHR, SAR of a 32-bit
 * register by 1..31 with dead flags (the count in its insn.imm2); LEA r32 (32-bit addressing). */
enum fused_quad { QUAD_SHL, QUAD_SHR, QUAD_SAR, QUAD_LEA, QUAD_KINDS };

/* The handler of an instruction of that kind followed by the INC whose triple handler
 * (jcc_fused_pre's, PRE_INC) is triple, the four as one (control.c), NULL when there is none. */
insn_fn jcc_fused_quad(insn_fn triple, enum fused_quad kind);

/* The taken Jcc j left the dispatch loop to decide (STOP_JUMP, c->cur == j): settles it and
 * jumps to its target (#GP(0) beyond the CS limit, as the Jcc's), STOP_BRANCH (control.c). */
void jcc_leave(struct cpu *c, const struct insn *j);

/* Gives the instructions of a decoded block whose arithmetic flags are dead (overwritten by
 * the next ones before anything can see them) their handlers without flags (deadflags.c).
 * Before jcc_fused is applied: it knows the plain handlers. live_in[k] (n + 1 of them): the
 * flags that may be seen once the block's instruction k is reached, in the middle of the block
 * (live_in[n]: all). Bit k of targets: instruction k is the target of an in-block Jcc (insn.jt;
 * n <= 64); it also defers flags (insn_defer_fix below). */
void insn_kill_dead_flags(struct insn *insns, unsigned n, uint32_t *live_in, uint64_t targets);

/* Deferred flags (deadflags.c): the MOV to or from memory i (i->dfb != 0, running in its
 * block, not a copy) records the flags of the ADD/SUB r32, imm i->dfb instructions before it,
 * which did not, before anything can see them (its slow path: a fault, a device, a stop). */
void insn_defer_fix(struct cpu *c, const struct insn *i);
/* The 32-bit MOVs to and from memory (forms _b, _x) that call it on their slow path. */
OP_DECL(mov_EG32_b_df);
OP_DECL(mov_EG32_x_df);
OP_DECL(mov_GE32_b_df);
OP_DECL(mov_GE32_x_df);
OP_DECL(mov_EG32_x0_df);
OP_DECL(mov_GE32_x0_df);
/* MOV DS/ES/FS/GS, r16 (sreg.c; decode.c gives it for op_mov_SE with those). */
OP_DECL(mov_SE_data);
/* MOV r32 <-> [base + index + disp], index scale 0 (move.c; decode.c gives them for _x). */
OP_DECL(mov_GE32_x0);
OP_DECL(mov_EG32_x0);
/* MOVZX r32, m8 by [base + disp], [base + index * scale + disp] (move.c; decode.c gives them
 * for op_movzx32_b, _x with a byte source). */
OP_DECL(movzxb32_b);
OP_DECL(movzxb32_x);

/* The handler of MOV r32, r32 (mov, its handler op_mov_EG32_r or op_mov_GE32_r) followed by a
 * SHL/SAL, SHR or SAR of a 32-bit register whose flags are dead (shift: its _nf handler, its
 * count of 1..31 in imm2), the two as one (deadflags.c), NULL when there is none. */
insn_fn insn_mov_shift(const struct insn *mov, const struct insn *shift);
/* The same followed by XOR r/m32, r32 of registers (x: op_xor_EG32_r or its _nf), the three
 * as one, NULL when there is none. */
insn_fn insn_mov_shift_xor(const struct insn *mov, const struct insn *shift,
                           const struct insn *x);

/* The handler of MOVZX r32, r8 of a low byte (movzx: its handler op_movzx32_rl) followed by a
 * MOV r32, [base + index * scale + disp] (load: op_mov_GE32_x, no deferred flags), the two as
 * one (deadflags.c), NULL when there is none. */
insn_fn insn_movzx_load(const struct insn *movzx, const struct insn *load);

/* The handler of instruction a followed by b, the two as one (deadflags.c insn_pair: ADD/SUB
 * r32, imm pairs with dead flags, IMUL r32, m32 then ADD r32, r32, MOVZX r32, m8 then INC/DEC
 * r32, XOR of low bytes then a shift by an immediate, the last also with a MOVZX r32, r8 and
 * table load pair after them: four as one; MOV r32, [base + disp] then one or two ADD/SUB r32,
 * imm with dead flags), NULL when there is none. b is a register-only instruction that cannot
 * fault, and not the block's last; third: the instruction after b is not the last either. */
insn_fn insn_pair(const struct insn *a, const struct insn *b, bool third);

/* The handler of a SHL/SHR/SAR of a 32-bit register by a count of 1..31 (imm8 or 1) or by CL
 * for instruction i (decoded, its handler op_shift_imm32, op_shift_132 or op_shift_cl32), else
 * i->fn (shift.c). Applied after dead flags (icache.c), which know the general handlers. */
insn_fn shift_form(const struct insn *i);

/* The handler the decoder gives instruction i, before dead flags and fusion (icache.c) replace
 * it by a middle-of-block one (insn.mid) (decode.c). */
insn_fn insn_plain_fn(const struct insn *i);

/* Decoding (decode.c). A decode map is built from the table once per machine. */
struct decode_map {
    uint16_t row[512 * 8]; /* (key * 8 + ModRM.reg) -> table row, 0 = invalid */
    uint8_t modrm[512];    /* key has a ModRM byte */
};

void decode_map_init(struct decode_map *m);

/* Decodes one instruction from bytes[0..avail). d32 is CS.D. Returns the length, or 0 when the
 * instruction runs past avail (avail < 15). An undefined encoding decodes to a #UD handler; one
 * longer than 15 bytes to a #GP(0) handler. */
unsigned decode_insn(const struct decode_map *m, const uint8_t *bytes, unsigned avail, int d32,
                     struct insn *out);

#endif
