/* The handlers specialised by operand form (src/cpu/forms.def, OP_FORMS in ops.h) through the
 * real cpu: every instruction of forms.def in every form (register, [base + disp], [disp32],
 * [base + index * scale + disp], [index * scale + disp32], ESP and EBP bases), against a model
 * written from the SDM (the effective address, the operation, the six arithmetic flags).
 *
 * The registers and the bytes of memory all differ (each byte is a hash of its address), so a
 * wrong base, index, scale, displacement, segment or register reads or writes something else and
 * the test fails. Each case runs twice from the same state: first with an empty TLB (the form
 * handler falls back to the general one), then with the page in the TLB (its fast path). Each
 * table runs three times: every segment flat; DS with a base (not flat: the fallback must add
 * it); SS with a base (ESP/EBP-based operands fall back, DS-based ones stay fast). One more case
 * crosses a page (the fallback). The decoder is checked to pick the specialised handler (for
 * MOV r32 <-> [base + index + disp] with scale 0, its version without the shift).
 * PUSH r32, POP r32, PUSHA and POPA, which have fast paths of their own, are checked the same way
 * with 32-bit, based and 16-bit stacks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cpu/cpu.h"
#include "cpu/flags.h"
#include "cpu/insn.h"
#include "cpu/segment.h"
#include "devices/bus.h"
#include "mmu/mem.h"

#define RAM_SIZE (1u << 20)
#define CODE 0x8000u
#define DATA 0x20000u
#define DATA_LEN 0x4000u

struct t {
    struct cpu c;
    struct bus bus;
    uint8_t *ram;
    unsigned deliveries;
    uint8_t last_vector;
    struct decode_map map;
};

static void sink(void *ctx, const struct trace_event *e)
{
    struct t *t = ctx;
    if (e->kind == TR_EXCEPTION || e->kind == TR_INTERRUPT || e->kind == TR_SOFTINT) {
        t->deliveries++;
        t->last_vector = e->vector;
        cpu_request_stop(&t->c);
    }
}

static int setup(void **state)
{
    struct t *t = calloc(1, sizeof *t);
    if (!t)
        return -1;
    t->ram = calloc(RAM_SIZE, 1);
    if (!t->ram)
        return -1;
    bus_init(&t->bus);
    if (cpu_init(&t->c, t->ram, RAM_SIZE, &t->bus))
        return -1;
    cpu_reset_protected_flat(&t->c, CODE);
    cpu_add_sink(&t->c, sink, t);
    decode_map_init(&t->map);
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    struct t *t = *state;
    cpu_free(&t->c);
    free(t->ram);
    free(t);
    return 0;
}

static uint8_t hash8(uint32_t a)
{
    a ^= a >> 7;
    a *= 0x9E3779B1u;
    a ^= a >> 15;
    return (uint8_t)(a >> 11);
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* ---- the instructions of forms.def ---- */

enum kind {
    K_LOAD,     /* reg = r/m */
    K_STORE,    /* r/m = reg */
    K_STORE_I,  /* r/m = imm32 */
    K_LEA,      /* reg = address */
    K_MOVZX8,   /* reg = zero-extended byte */
    K_MOVZX16,  /* reg = zero-extended word */
    K_ALU_EG,   /* r/m = r/m op reg */
    K_ALU_GE,   /* reg = reg op r/m */
    K_ALU_EI,   /* r/m = r/m op imm (imm32 or sign-extended imm8) */
    K_TEST_EG,
    K_TEST_EI,
    K_INC,      /* r/m = r/m + 1, CF kept */
    K_DEC,      /* r/m = r/m - 1, CF kept */
};

enum alu { ADD, OR, AND, SUB, XOR, CMP };

struct op {
    const char *name;
    uint8_t opc[2];
    unsigned opclen;
    int ext;       /* ModRM.reg for a group member, -1: the register operand (EDX) */
    enum kind kind;
    enum alu alu;
    unsigned imm;  /* immediate bytes: 0, 1 (sign-extended) or 4; with size 1, 1 */
    unsigned size; /* operand size: 1, or 4 when 0 */
};

static const struct op ops[] = {
    {"mov r,r/m", {0x8B}, 1, -1, K_LOAD, 0, 0, 4},
    {"mov r/m,r", {0x89}, 1, -1, K_STORE, 0, 0, 4},
    {"mov r/m,imm32", {0xC7}, 1, 0, K_STORE_I, 0, 4, 4},
    {"lea", {0x8D}, 1, -1, K_LEA, 0, 0, 4},
    {"movzx r,r/m8", {0x0F, 0xB6}, 2, -1, K_MOVZX8, 0, 0, 4},
    {"movzx r,r/m16", {0x0F, 0xB7}, 2, -1, K_MOVZX16, 0, 0, 4},
    {"add r/m,r", {0x01}, 1, -1, K_ALU_EG, ADD, 0, 4},
    {"add r,r/m", {0x03}, 1, -1, K_ALU_GE, ADD, 0, 4},
    {"add r/m,imm32", {0x81}, 1, 0, K_ALU_EI, ADD, 4, 4},
    {"add r/m,imm8", {0x83}, 1, 0, K_ALU_EI, ADD, 1, 4},
    {"or r/m,r", {0x09}, 1, -1, K_ALU_EG, OR, 0, 4},
    {"or r,r/m", {0x0B}, 1, -1, K_ALU_GE, OR, 0, 4},
    {"or r/m,imm8", {0x83}, 1, 1, K_ALU_EI, OR, 1, 4},
    {"and r/m,r", {0x21}, 1, -1, K_ALU_EG, AND, 0, 4},
    {"and r,r/m", {0x23}, 1, -1, K_ALU_GE, AND, 0, 4},
    {"and r/m,imm32", {0x81}, 1, 4, K_ALU_EI, AND, 4, 4},
    {"sub r/m,r", {0x29}, 1, -1, K_ALU_EG, SUB, 0, 4},
    {"sub r,r/m", {0x2B}, 1, -1, K_ALU_GE, SUB, 0, 4},
    {"sub r/m,imm8", {0x83}, 1, 5, K_ALU_EI, SUB, 1, 4},
    {"xor r/m,r", {0x31}, 1, -1, K_ALU_EG, XOR, 0, 4},
    {"xor r,r/m", {0x33}, 1, -1, K_ALU_GE, XOR, 0, 4},
    {"xor r/m,imm32", {0x81}, 1, 6, K_ALU_EI, XOR, 4, 4},
    {"cmp r/m,r", {0x39}, 1, -1, K_ALU_EG, CMP, 0, 4},
    {"cmp r,r/m", {0x3B}, 1, -1, K_ALU_GE, CMP, 0, 4},
    {"cmp r/m,imm8", {0x83}, 1, 7, K_ALU_EI, CMP, 1, 4},
    {"cmp r/m,imm32", {0x81}, 1, 7, K_ALU_EI, CMP, 4, 4},
    {"test r/m,r", {0x85}, 1, -1, K_TEST_EG, 0, 0, 4},
    {"test r/m,imm32", {0xF7}, 1, 0, K_TEST_EI, 0, 4, 4},
    {"inc r/m", {0xFF}, 1, 0, K_INC, 0, 0, 4},
    {"dec r/m", {0xFF}, 1, 1, K_DEC, 0, 0, 4},
    /* Byte operands: the register operand is DH (ModRM.reg 6), the r/m registers CL and BH. */
    {"mov r8,r/m8", {0x8A}, 1, -1, K_LOAD, 0, 0, 1},
    {"mov r/m8,r8", {0x88}, 1, -1, K_STORE, 0, 0, 1},
    {"mov r/m8,imm8", {0xC6}, 1, 0, K_STORE_I, 0, 1, 1},
    {"add r/m8,r8", {0x00}, 1, -1, K_ALU_EG, ADD, 0, 1},
    {"add r8,r/m8", {0x02}, 1, -1, K_ALU_GE, ADD, 0, 1},
    {"add r/m8,imm8", {0x80}, 1, 0, K_ALU_EI, ADD, 1, 1},
    {"or r/m8,r8", {0x08}, 1, -1, K_ALU_EG, OR, 0, 1},
    {"or r/m8,imm8", {0x80}, 1, 1, K_ALU_EI, OR, 1, 1},
    {"and r8,r/m8", {0x22}, 1, -1, K_ALU_GE, AND, 0, 1},
    {"and r/m8,imm8", {0x80}, 1, 4, K_ALU_EI, AND, 1, 1},
    {"sub r/m8,r8", {0x28}, 1, -1, K_ALU_EG, SUB, 0, 1},
    {"sub r8,r/m8", {0x2A}, 1, -1, K_ALU_GE, SUB, 0, 1},
    {"xor r/m8,r8", {0x30}, 1, -1, K_ALU_EG, XOR, 0, 1},
    {"xor r8,r/m8", {0x32}, 1, -1, K_ALU_GE, XOR, 0, 1},
    {"xor r/m8,imm8", {0x80}, 1, 6, K_ALU_EI, XOR, 1, 1},
    {"cmp r/m8,r8", {0x38}, 1, -1, K_ALU_EG, CMP, 0, 1},
    {"cmp r8,r/m8", {0x3A}, 1, -1, K_ALU_GE, CMP, 0, 1},
    {"cmp r/m8,imm8", {0x80}, 1, 7, K_ALU_EI, CMP, 1, 1},
    {"test r/m8,r8", {0x84}, 1, -1, K_TEST_EG, 0, 0, 1},
    {"test r/m8,imm8", {0xF6}, 1, 0, K_TEST_EI, 0, 1, 1},
};

static unsigned size_of(const struct op *o)
{
    return o->size ? o->size : 4;
}

/* The register operand: EDX, DH for bytes. */
static unsigned greg(const struct op *o)
{
    return size_of(o) == 1 ? 6 : EDX;
}

/* Register n at size (byte registers: AL..BL, AH..BH). */
static uint32_t get(const uint32_t *r, unsigned n, unsigned size)
{
    if (size == 4)
        return r[n];
    return n < 4 ? r[n] & 0xFF : (r[n - 4] >> 8) & 0xFF;
}

static void set(uint32_t *r, unsigned n, unsigned size, uint32_t v)
{
    if (size == 4)
        r[n] = v;
    else if (n < 4)
        r[n] = (r[n] & ~0xFFu) | (v & 0xFF);
    else
        r[n - 4] = (r[n - 4] & ~0xFF00u) | (v & 0xFF) << 8;
}

/* ---- the operand forms ---- */

#define NONE 8
struct mode {
    const char *name;
    int reg;          /* register operand (mod = 3), or -1 */
    int base, index;  /* NONE when absent */
    unsigned scale;
    int32_t disp;
    unsigned dispsize; /* 0, 1 or 4 */
    char form;        /* 'r', 'b' or 'x': the handler the decoder must pick */
};

static const struct mode modes[] = {
    {"ecx/cl", ECX, NONE, NONE, 0, 0, 0, 'r'},
    {"edi/bh", EDI, NONE, NONE, 0, 0, 0, 'r'},
    {"[ebx]", -1, EBX, NONE, 0, 0, 0, 'b'},
    {"[ebx+0x24]", -1, EBX, NONE, 0, 0x24, 1, 'b'},
    {"[ebx-0x3c]", -1, EBX, NONE, 0, -0x3C, 1, 'b'},
    {"[ebx+0x1234]", -1, EBX, NONE, 0, 0x1234, 4, 'b'},
    {"[0x20a58]", -1, NONE, NONE, 0, 0x20A58, 4, 'b'},
    {"[esp+0x14]", -1, ESP, NONE, 0, 0x14, 1, 'b'},
    {"[ebp-0x8]", -1, EBP, NONE, 0, -0x8, 1, 'b'},
    {"[ebx+esi*2+0x6]", -1, EBX, ESI, 1, 6, 1, 'x'},
    {"[ebp+edi*4+0x20]", -1, EBP, EDI, 2, 0x20, 1, 'x'},
    {"[ebx+esi*8-0x200]", -1, EBX, ESI, 3, -0x200, 4, 'x'},
    {"[ebp+esi]", -1, EBP, ESI, 0, 0, 1, 'x'},
    {"[edi*8+0x20100]", -1, NONE, EDI, 3, 0x20100, 4, 'x'},
    {"[esp+edi*1+0x3]", -1, ESP, EDI, 0, 3, 1, 'x'},
};

/* Initial registers: every one different; EDX is the register operand, ECX the r/m register.
 * The index registers (ESI, EDI) are small and the bases large, so base and index swapped, or
 * another scale, give another address. */
static const uint32_t init_r[8] = {
    0x5A5AA5A5u,        /* EAX */
    0x80000001u,        /* ECX: the r/m register */
    0x7FFFFFF3u,        /* EDX: the reg operand */
    DATA + 0x100,       /* EBX */
    DATA + 0x800,       /* ESP */
    DATA + 0xC00,       /* EBP */
    0x1C4u,             /* ESI */
    0x2Cu,              /* EDI */
};

static unsigned encode(const struct op *o, const struct mode *m, uint32_t imm, uint8_t *p)
{
    unsigned n = 0;
    for (unsigned k = 0; k < o->opclen; k++)
        p[n++] = o->opc[k];
    unsigned reg = o->ext >= 0 ? (unsigned)o->ext : greg(o);
    if (m->reg >= 0) {
        p[n++] = (uint8_t)(0xC0 | reg << 3 | (unsigned)m->reg);
    } else {
        unsigned mod = m->dispsize == 1 ? 1 : m->dispsize == 4 && m->base != NONE ? 2 : 0;
        bool sib = m->index != NONE || m->base == ESP || (m->base == NONE && m->index != NONE);
        if (!sib && m->base == NONE) {
            p[n++] = (uint8_t)(reg << 3 | 5); /* [disp32] */
        } else if (!sib) {
            p[n++] = (uint8_t)(mod << 6 | reg << 3 | (unsigned)m->base);
        } else {
            p[n++] = (uint8_t)(mod << 6 | reg << 3 | 4);
            unsigned idx = m->index == NONE ? 4 : (unsigned)m->index;
            unsigned base = m->base == NONE ? 5 : (unsigned)m->base;
            p[n++] = (uint8_t)(m->scale << 6 | idx << 3 | base);
        }
        uint32_t d = (uint32_t)m->disp;
        for (unsigned k = 0; k < m->dispsize; k++)
            p[n++] = (uint8_t)(d >> (8 * k));
    }
    for (unsigned k = 0; k < o->imm; k++)
        p[n++] = (uint8_t)(imm >> (8 * k));
    return n;
}

/* ---- the model ---- */

static uint32_t parity(uint32_t v)
{
    v &= 0xFF;
    v ^= v >> 4;
    v ^= v >> 2;
    v ^= v >> 1;
    return (v & 1) ? 0 : FL_PF;
}

static uint32_t szp(uint32_t r)
{
    return (r == 0 ? FL_ZF : 0) | (r & 0x80000000u ? FL_SF : 0) | parity(r);
}

/* Result and flags of INC/DEC r/m32 (SDM vol. 2 INC, DEC): CF is kept (cf_in). */
static uint32_t incdec(bool inc, uint32_t a, uint32_t cf_in, uint32_t *flags)
{
    uint32_t r = inc ? a + 1 : a - 1;
    *flags = szp(r) | cf_in | ((a ^ 1 ^ r) & 0x10 ? FL_AF : 0) |
             (r == (inc ? 0x80000000u : 0x7FFFFFFFu) ? FL_OF : 0);
    return r;
}

/* Result and flags of a op b (SDM vol. 2 ADD, SUB, CMP, AND, OR, XOR; AF of the logic
 * operations is undefined, 0 here as in Ringside). */
static uint32_t alu(enum alu op, uint32_t a, uint32_t b, unsigned size, uint32_t *flags)
{
    /* Bytes: computed with the operands in the top byte, so the 32-bit carry, sign and overflow
     * are the byte's. */
    unsigned sh = size == 1 ? 24 : 0;
    a <<= sh;
    b <<= sh;
    uint32_t r;
    switch (op) {
    case ADD:
        r = a + b;
        *flags = szp(r) | (r < a ? FL_CF : 0) | (((a ^ b ^ r) >> sh) & 0x10 ? FL_AF : 0) |
                 (((a ^ r) & (b ^ r)) >> 31 ? FL_OF : 0);
        break;
    case SUB: case CMP:
        r = a - b;
        *flags = szp(r) | (a < b ? FL_CF : 0) | (((a ^ b ^ r) >> sh) & 0x10 ? FL_AF : 0) |
                 (((a ^ b) & (a ^ r)) >> 31 ? FL_OF : 0);
        break;
    case AND: r = a & b; *flags = szp(r); break;
    case OR: r = a | b; *flags = szp(r); break;
    default: r = a ^ b; *flags = szp(r); break;
    }
    if (sh) /* PF: of the byte */
        *flags = (*flags & ~FL_PF) | parity(r >> sh);
    return r >> sh;
}

#define START_FLAGS (FL_CF | FL_ZF | FL_AF)

struct state {
    uint32_t r[8];
    uint32_t flags;   /* the arithmetic flags */
    uint32_t addr;    /* linear address written (mem_len bytes), if mem_len */
    unsigned mem_len;
    uint32_t mem;
};

static void fill(struct t *t)
{
    for (uint32_t a = DATA - 0x1000; a < DATA + DATA_LEN; a++)
        t->ram[a] = hash8(a);
}

/* What the instruction must do from init_r and the filled memory, with segment bases ds, ss. */
static struct state model(const struct t *t, const struct op *o, const struct mode *m,
                          uint32_t imm, uint32_t ds, uint32_t ss)
{
    struct state s;
    memcpy(s.r, init_r, sizeof s.r);
    s.flags = START_FLAGS;
    s.mem_len = 0;
    s.addr = s.mem = 0;
    uint32_t off = 0, lin = 0, v = 0;
    if (m->reg < 0) {
        off = (m->base == NONE ? 0 : init_r[m->base]) + (uint32_t)m->disp +
              (m->index == NONE ? 0 : init_r[m->index] << m->scale);
        lin = off + (m->base == ESP || m->base == EBP ? ss : ds);
        v = le32(t->ram + lin);
        if (size_of(o) == 1)
            v &= 0xFF;
    } else {
        v = get(init_r, (unsigned)m->reg, o->kind == K_MOVZX8 ? 1 : size_of(o)); /* CL, BH */
    }
    unsigned sz = size_of(o);
    uint32_t g = get(init_r, greg(o), sz);
    uint32_t b = o->imm == 1 ? (uint32_t)(int32_t)(int8_t)imm : imm;
    if (sz == 1)
        b &= 0xFF;
    uint32_t res, fl;
    bool to_rm = false;
    switch (o->kind) {
    case K_LOAD: set(s.r, greg(o), sz, v); break;
    case K_STORE: res = g; to_rm = true; break;
    case K_STORE_I: res = b; to_rm = true; break;
    case K_LEA: s.r[EDX] = off; break;
    case K_MOVZX8: s.r[EDX] = v & 0xFF; break;
    case K_MOVZX16: s.r[EDX] = v & 0xFFFF; break;
    case K_ALU_EG:
        res = alu(o->alu, v, g, sz, &fl);
        s.flags = fl;
        to_rm = o->alu != CMP;
        break;
    case K_ALU_GE:
        res = alu(o->alu, g, v, sz, &fl);
        s.flags = fl;
        if (o->alu != CMP)
            set(s.r, greg(o), sz, res);
        break;
    case K_ALU_EI:
        res = alu(o->alu, v, b, sz, &fl);
        s.flags = fl;
        to_rm = o->alu != CMP;
        break;
    case K_TEST_EG: alu(AND, v, g, sz, &s.flags); break;
    case K_TEST_EI: alu(AND, v, b, sz, &s.flags); break;
    case K_INC: case K_DEC:
        res = incdec(o->kind == K_INC, v, START_FLAGS & FL_CF, &s.flags);
        to_rm = true;
        break;
    }
    if (to_rm) {
        if (m->reg >= 0) {
            set(s.r, (unsigned)m->reg, sz, res);
        } else {
            s.addr = lin;
            s.mem_len = sz;
            s.mem = res;
        }
    }
    return s;
}

static void set_base(struct cpu *c, int seg, uint32_t base)
{
    c->seg[seg].base = base;
    seg_update_flat(&c->seg[seg]);
}

static void run_case(struct t *t, const struct op *o, const struct mode *m, uint32_t ds,
                     uint32_t ss, bool cross)
{
    struct cpu *c = &t->c;
    uint8_t code[16];
    uint32_t imm = o->imm == 1 ? 0x9C : 0x8421F00Fu;
    unsigned sz = size_of(o);
    if (o->kind == K_LEA && m->reg >= 0)
        return; /* #UD */
    unsigned len = encode(o, m, imm, code);
    code[len] = 0xF4; /* HLT (not reached: the run is one instruction) */
    char what[96];
    snprintf(what, sizeof what, "%s with %s, DS base %#x, SS base %#x%s", o->name, m->name, ds,
             ss, cross ? ", crossing a page" : "");

    /* The decoder's choice. */
    struct insn in;
    assert_int_equal(decode_insn(&t->map, code, 15, 1, &in), len);
    if (!cross) {
        insn_fn want = NULL, general = opcode_table[in.id].fn;
#define FORMS(name)                                                                           \
    if (general == op_##name && sz == 4)                                                      \
        want = m->form == 'r' ? op_##name##32_r : m->form == 'b' ? op_##name##32_b : op_##name##32_x;
#define FORMS_B(name)                                                                         \
    FORMS(name)                                                                               \
    if (general == op_##name && sz == 1)                                                      \
        want = m->form == 'r' ? op_##name##8_r : m->form == 'b' ? op_##name##8_b : op_##name##8_x;
#include "cpu/forms.def"
#undef FORMS
#undef FORMS_B
        /* scale 0: the MOVs' own version, without the shift (decode.c specialise) */
        if (m->form == 'x' && m->scale == 0 && want == op_mov_GE32_x)
            want = op_mov_GE32_x0;
        if (m->form == 'x' && m->scale == 0 && want == op_mov_EG32_x)
            want = op_mov_EG32_x0;
        /* MOVZX r32, m8: its own version, without the source size's test */
        if (o->kind == K_MOVZX8 && want == op_movzx32_b)
            want = op_movzxb32_b;
        if (o->kind == K_MOVZX8 && want == op_movzx32_x)
            want = op_movzxb32_x;
        if (!want || in.fn != want)
            fail_msg("%s: the decoder did not pick the form handler", what);
    }

    /* Pass 0 with an empty TLB (the fallback), pass 1 with the data page in it (fast). */
    for (int pass = 0; pass < 2; pass++) {
        memcpy(t->ram + CODE, code, len + 1);
        if (pass == 0)
            cpu_flush_decoded(c);
        fill(t);
        struct state want = model(t, o, m, imm, ds, ss);
        memcpy(c->r, init_r, sizeof init_r);
        c->eflags = START_FLAGS | FL_R1;
        c->lf.op = LF_NONE;
        c->eip = CODE;
        t->deliveries = 0;
        cpu_run(c, 1);
        if (t->deliveries)
            fail_msg("%s: exception %u", what, t->last_vector);
        if (c->eip != CODE + len)
            fail_msg("%s (pass %d): EIP %#x, want %#x", what, pass, c->eip, CODE + len);
        for (int r = 0; r < 8; r++)
            if (c->r[r] != want.r[r])
                fail_msg("%s (pass %d): r%d = %#x, want %#x", what, pass, r, c->r[r], want.r[r]);
        assert_int_equal(c->r[NOREG], 0);
        uint32_t fl = cpu_get_eflags(c) & FL_ARITH;
        if (fl != want.flags)
            fail_msg("%s (pass %d): flags %#x, want %#x", what, pass, fl, want.flags);
        uint32_t got = want.mem_len == 1 ? t->ram[want.addr] : le32(t->ram + want.addr);
        if (want.mem_len && got != want.mem)
            fail_msg("%s (pass %d): memory at %#x = %#x, want %#x", what, pass, want.addr, got,
                     want.mem);
        for (uint32_t a = DATA - 0x1000; a < DATA + DATA_LEN; a++)
            if ((!want.mem_len || a < want.addr || a >= want.addr + want.mem_len) &&
                t->ram[a] != hash8(a))
                fail_msg("%s (pass %d): byte at %#x changed", what, pass, a);
    }
}

static void run_all(struct t *t, uint32_t ds, uint32_t ss)
{
    set_base(&t->c, SEG_DS, ds);
    set_base(&t->c, SEG_SS, ss);
    for (unsigned k = 0; k < sizeof ops / sizeof ops[0]; k++)
        for (unsigned j = 0; j < sizeof modes / sizeof modes[0]; j++)
            run_case(t, &ops[k], &modes[j], ds, ss, false);
    set_base(&t->c, SEG_DS, 0);
    set_base(&t->c, SEG_SS, 0);
}

static void test_flat(void **state)
{
    struct t *t = *state;
    assert_true(t->c.seg[SEG_DS].flat && t->c.seg[SEG_SS].flat);
    run_all(t, 0, 0);
}

static void test_ds_base(void **state)
{
    struct t *t = *state;
    run_all(t, 0x1000, 0);
}

static void test_ss_base(void **state)
{
    struct t *t = *state;
    run_all(t, 0, 0x800);
}

/* [ebx+0xefe] = DATA + 0xFFE: four bytes across a page boundary (the fallback). */
static void test_page_crossing(void **state)
{
    struct t *t = *state;
    static const struct mode cross = {"[ebx+0xefe]", -1, EBX, NONE, 0, 0xEFE, 4, 'b'};
    for (unsigned k = 0; k < sizeof ops / sizeof ops[0]; k++)
        run_case(t, &ops[k], &cross, 0, 0, true);
}

static void put32(uint8_t *ram, uint32_t a, uint32_t v)
{
    for (int k = 0; k < 4; k++)
        ram[a + k] = (uint8_t)(v >> (8 * k));
}

/* ---- INC/DEC r/m32 (op_inc_E32_b etc.): CF kept from every kind of producer, OF at the
 * signed edges, a write to the code being run, a dword at the end of a page ---- */

/* Runs n instructions from CODE (code: len bytes there), the decoded code flushed (and with it
 * the TLB) when cold. */
static void run_code(struct t *t, const uint8_t *code, unsigned len, unsigned n, bool cold)
{
    struct cpu *c = &t->c;
    memcpy(t->ram + CODE, code, len);
    if (cold)
        cpu_flush_decoded(c);
    c->eflags = FL_R1;
    c->lf.op = LF_NONE;
    c->eip = CODE;
    t->deliveries = 0;
    cpu_run(c, n);
    assert_int_equal(t->deliveries, 0);
    assert_int_equal(c->eip, CODE + len - 1); /* at the final HLT */
}

static void test_incdec_edges(void **state)
{
    struct t *t = *state;
    struct cpu *c = &t->c;
    /* The carry producer, then INC or DEC dword [ebx], HLT. */
    static const struct {
        const char *name;
        uint8_t code[3];
        unsigned len;
        uint32_t eax, ecx;
        uint32_t cf;
    } producers[] = {
        {"cmp eax,ecx (borrow)", {0x39, 0xC8}, 2, 1, 2, FL_CF},
        {"cmp eax,ecx (none)", {0x39, 0xC8}, 2, 2, 1, 0},
        {"add eax,ecx (carry)", {0x01, 0xC8}, 2, 0xFFFFFFFFu, 2, FL_CF},
        {"sar eax,1 (carry)", {0xD1, 0xF8}, 2, 0x80000003u, 0, FL_CF},
        {"sar eax,1 (none)", {0xD1, 0xF8}, 2, 0x80000002u, 0, 0},
        {"stc", {0xF9}, 1, 0, 0, FL_CF},
        {"clc", {0xF8}, 1, 0, 0, 0},
    };
    static const uint32_t values[] = {0x7FFFFFFFu, 0x80000000u, 0xFFFFFFFFu, 0, 0x1234560Fu};
    static const uint32_t addrs[] = {DATA + 0x100, DATA + 0xFFC}; /* the last dword of a page */
    for (unsigned p = 0; p < sizeof producers / sizeof producers[0]; p++)
        for (int inc = 0; inc < 2; inc++)
            for (unsigned v = 0; v < sizeof values / sizeof values[0]; v++)
                for (unsigned a = 0; a < 2; a++)
                    for (int pass = 0; pass < 2; pass++) {
                        uint8_t code[8];
                        unsigned n = producers[p].len;
                        memcpy(code, producers[p].code, n);
                        code[n++] = 0xFF;
                        code[n++] = inc ? 0x03 : 0x0B; /* [ebx], ModRM.reg 0 or 1 */
                        code[n++] = 0xF4;
                        memset(c->r, 0, sizeof c->r);
                        c->r[EAX] = producers[p].eax;
                        c->r[ECX] = producers[p].ecx;
                        c->r[EBX] = addrs[a];
                        put32(t->ram, addrs[a], values[v]);
                        run_code(t, code, n, 2, pass == 0);
                        uint32_t want_fl, want = incdec(inc, values[v], producers[p].cf, &want_fl);
                        uint32_t got = le32(t->ram + addrs[a]);
                        uint32_t fl = cpu_get_eflags(c) & FL_ARITH;
                        if (got != want || fl != want_fl)
                            fail_msg("%s; %s [%#x] = %#x (pass %d): %#x flags %#x, want %#x "
                                     "flags %#x", producers[p].name, inc ? "inc" : "dec",
                                     addrs[a], values[v], pass, got, fl, want, want_fl);
                    }
}

/* INC of the code that runs next: the instruction after it must run as changed (a page that
 * was data, written through the TLB, then run as code). */
static void test_incdec_code(void **state)
{
    struct t *t = *state;
    struct cpu *c = &t->c;
    const uint32_t page = CODE + 0x1000;
    for (int pass = 0; pass < 2; pass++) {
        static const uint8_t at_page[] = {
            0xFF, 0x05, 0x06, 0x90, 0x00, 0x00, /* inc dword [page + 6] */
            0x40, 0x90, 0x90, 0x90,             /* inc eax, becomes inc ecx */
            0xF4,
        };
        memcpy(t->ram + page, at_page, sizeof at_page);
        put32(t->ram, page + 0x100, 7);
        uint8_t code[16] = {0xFF, 0x05}; /* inc dword [page + 0x100]: the page is data yet */
        put32(code, 2, page + 0x100);
        code[6] = 0xE9; /* jmp page */
        put32(code, 7, page - (CODE + 11));
        memcpy(t->ram + CODE, code, 11);
        if (pass == 0)
            cpu_flush_decoded(c);
        c->eflags = FL_R1;
        c->lf.op = LF_NONE;
        c->eip = CODE;
        memset(c->r, 0, sizeof c->r);
        t->deliveries = 0;
        cpu_run(c, 4);
        assert_int_equal(t->deliveries, 0);
        assert_int_equal(le32(t->ram + page + 0x100), 8);
        assert_int_equal(t->ram[page + 6], 0x41);
        assert_int_equal(c->r[EAX], 0);
        assert_int_equal(c->r[ECX], 1);
        assert_int_equal(c->eip, page + 7);
    }
}

/* ---- PUSH r32, POP r32, PUSHA, POPA (their fast paths in move.c) ----
 * Against a model of the SDM's pseudo-code, with SS flat and 32-bit (the fast path on the second
 * run), SS with a base (not flat: the general path), and SS flat but 16-bit (B = 0: SP wraps in
 * 64 KiB, the general path). */
#define LOW 0x1000u     /* filled like DATA: the 16-bit stack is there */
#define TOP 0x30000u

struct stack_cfg {
    const char *name;
    uint32_t base;
    bool b32;
    uint32_t esp;
};

static void fill_all(struct t *t)
{
    for (uint32_t a = LOW; a < TOP; a++)
        if (a < CODE || a >= CODE + 0x1000)
            t->ram[a] = hash8(a);
}

static void run_stack_case(struct t *t, const struct stack_cfg *cfg, uint8_t opcode)
{
    struct cpu *c = &t->c;
    static uint8_t want_ram[TOP];
    uint32_t m = cfg->b32 ? 0xFFFFFFFFu : 0xFFFFu;
    uint32_t r0[8];
    memcpy(r0, init_r, sizeof r0);
    r0[ESP] = cfg->esp;
    char what[64];
    snprintf(what, sizeof what, "opcode %#x, %s", opcode, cfg->name);

    c->seg[SEG_SS].base = cfg->base;
    if (cfg->b32)
        c->seg[SEG_SS].attr |= SA_DB;
    else
        c->seg[SEG_SS].attr &= (uint16_t)~SA_DB;
    seg_update_flat(&c->seg[SEG_SS]);

    for (int pass = 0; pass < 2; pass++) {
        t->ram[CODE] = opcode;
        t->ram[CODE + 1] = 0xF4;
        if (pass == 0)
            cpu_flush_decoded(c);
        fill_all(t);
        /* The model. */
        memcpy(want_ram, t->ram, TOP);
        uint32_t w[8], sp = r0[ESP] & m, b = cfg->base;
        memcpy(w, r0, sizeof w);
        if (opcode >= 0x50 && opcode <= 0x57) {
            sp = (sp - 4) & m;
            put32(want_ram, b + sp, r0[opcode & 7]);
            w[ESP] = (r0[ESP] & ~m) | sp;
        } else if (opcode >= 0x58 && opcode <= 0x5F) {
            uint32_t v = le32(want_ram + b + sp);
            w[ESP] = (r0[ESP] & ~m) | ((sp + 4) & m);
            w[opcode & 7] = v;
        } else if (opcode == 0x60) {
            for (int r = 0; r < 8; r++)
                put32(want_ram, b + ((sp - 4 * (uint32_t)(r + 1)) & m), r0[r]);
            w[ESP] = (r0[ESP] & ~m) | ((sp - 32) & m);
        } else {
            for (int k = 0; k < 8; k++) /* EDI at the top, ..., EAX; the ESP slot skipped */
                if (7 - k != ESP)
                    w[7 - k] = le32(want_ram + b + ((sp + 4 * (uint32_t)k) & m));
            w[ESP] = (r0[ESP] & ~m) | ((sp + 32) & m);
        }
        /* Pass 1: the pages the stack would be at as a 32-bit ESP are in the TLB too, so a
         * fast path that ignored SS.B would hit there. */
        if (pass == 1)
            for (uint32_t d = 0; d <= 64; d += 32)
                if (cfg->esp + d - 32 < RAM_SIZE)
                    (void)lin_read(c, cfg->esp + d - 32, 1);
        /* The run. */
        memcpy(c->r, r0, sizeof r0);
        c->eip = CODE;
        t->deliveries = 0;
        cpu_run(c, 1);
        if (t->deliveries)
            fail_msg("%s: exception %u", what, t->last_vector);
        for (int r = 0; r < 8; r++)
            if (c->r[r] != w[r])
                fail_msg("%s (pass %d): r%d = %#x, want %#x", what, pass, r, c->r[r], w[r]);
        assert_int_equal(c->r[NOREG], 0);
        for (uint32_t a = LOW; a < TOP; a++)
            if (t->ram[a] != want_ram[a])
                fail_msg("%s (pass %d): byte at %#x = %#x, want %#x", what, pass, a, t->ram[a],
                         want_ram[a]);
    }
    c->seg[SEG_SS].base = 0;
    c->seg[SEG_SS].attr |= SA_DB;
    seg_update_flat(&c->seg[SEG_SS]);
}

static void test_stack(void **state)
{
    struct t *t = *state;
    static const struct stack_cfg cfgs[] = {
        {"flat 32-bit SS", 0, true, DATA + 0x800},
        {"32-bit SS with base 0x1000", 0x1000, true, DATA + 0x800},
        {"flat 16-bit SS", 0, false, 0x00011810u}, /* 32-bit, ESP would be in RAM too */
        {"flat 16-bit SS, SP wrapping", 0, false, 0x00020008u}, /* base 0: SP 8 wraps to 0xFFF8 */
    };
    for (unsigned k = 0; k < sizeof cfgs / sizeof cfgs[0]; k++) {
        for (unsigned op = 0x50; op <= 0x61; op++)
            run_stack_case(t, &cfgs[k], (uint8_t)op);
    }
    /* The decoder picks the 32-bit handlers (the fast paths). */
    struct insn in;
    static const uint8_t push_ebx[] = {0x53}, pop_esi[] = {0x5E};
    assert_int_equal(decode_insn(&t->map, push_ebx, 15, 1, &in), 1);
    assert_ptr_equal(in.fn, op_push_r32);
    assert_int_equal(decode_insn(&t->map, pop_esi, 15, 1, &in), 1);
    assert_ptr_equal(in.fn, op_pop_r32);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_flat, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ds_base, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ss_base, setup, teardown),
        cmocka_unit_test_setup_teardown(test_page_crossing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stack, setup, teardown),
        cmocka_unit_test_setup_teardown(test_incdec_edges, setup, teardown),
        cmocka_unit_test_setup_teardown(test_incdec_code, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
