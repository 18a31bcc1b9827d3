/* The dispatch loop's fast paths for conditional jumps (src/cpu/exec.c run_block, control.c,
 * icache.c): a Jcc taken back to the start of its own block runs the block again without leaving
 * it (STOP_LOOP), and a flag-setting instruction fused with the Jcc after it decides the branch
 * in one handler. Neither may change anything the guest or a listener sees.
 *
 * Each program runs three ways and the results must be equal:
 *   - the reference: under an instruction hook, which runs every instruction on its own with EIP
 *     and the count exact (no fast path can run there);
 *   - for every budget k, cpu_run(k) on a fresh machine, without a hook, against the reference
 *     run for k: the budget then ends at every instruction boundary, between a flag-setting
 *     instruction and its Jcc and in the middle of a loop of one block;
 *   - without a hook, in slices of k, to the end, against the reference's end.
 * Compared: the eight registers, EFLAGS, EIP, the instruction count, and the exceptions taken
 * (vector, EIP and count of the first). Programs with a fault at a chosen iteration, a loop that
 * rewrites its own code, a 16-bit Jcc and every condition code are among them.
 *
 * The machine: 1 MiB of RAM, the flat protected mode a Multiboot loader leaves, CPL 0, no paging,
 * the code at CODE, data at DATA, every exception vector to a HLT at HANDLER.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cpu/cpu.h"
#include "cpu/event.h"
#include "cpu/inspect.h"
#include "devices/bus.h"

#define RAM_SIZE (1u << 20)
#define CODE 0x8000u
#define HANDLER 0x6000u
#define DATA 0xC000u
#define MAX_INSNS 4000u
#define ALL_INSNS (1u << 20)

struct t {
    struct cpu c;
    struct bus bus;
    uint8_t *ram;
    unsigned exceptions;
    uint8_t vector;
    uint32_t fault_eip;
    uint64_t fault_icount;
};

struct state {
    uint32_t r[8];
    uint32_t eflags, eip;
    uint64_t icount;
    unsigned exceptions;
    uint8_t vector;
    uint32_t fault_eip;
    uint64_t fault_icount;
    int result;
};

static void sink(void *ctx, const struct trace_event *e)
{
    struct t *t = ctx;
    if (e->kind == TR_EXCEPTION && t->exceptions++ == 0) {
        t->vector = e->vector;
        t->fault_eip = e->before.eip;
        t->fault_icount = e->icount;
    }
}

static void hook(void *ctx, struct cpu *c, uint32_t lin_eip)
{
    (void)ctx;
    (void)c;
    (void)lin_eip;
}

/* A fresh machine with the program at CODE, ESP at 0x7000, and every vector of 0..31 through an
 * interrupt gate to a HLT at HANDLER (the GDT at 0x1000: null, flat ring 0 code at 0x08). */
/* Operand pairs (ebx, ebp): equal, above, below, signed and unsigned edges, zero. */
static const uint32_t pairs[][2] = {
    {5, 7}, {7, 5}, {3, 3}, {0, 0}, {0x80000000u, 1}, {0x7FFFFFFFu, 0xFFFFFFFFu},
    {0xFFFFFFFFu, 0x7FFFFFFFu}, {0x000080FFu, 0x00008001u}, {0x0000FF7Fu, 0x00000080u},
};

static uint32_t cs_limit = 0xFFFFFFFFu; /* the CS limit of the next machines */

static struct t *machine(const uint8_t *code, unsigned len, bool hooked)
{
    struct t *t = calloc(1, sizeof *t);
    assert_non_null(t);
    t->ram = calloc(RAM_SIZE, 1);
    assert_non_null(t->ram);
    bus_init(&t->bus);
    assert_int_equal(cpu_init(&t->c, t->ram, RAM_SIZE, &t->bus), 0);
    cpu_reset_protected_flat(&t->c, CODE);
    cpu_add_sink(&t->c, sink, t);
    if (hooked)
        assert_true(cpu_add_insn_hook(&t->c, hook, t) >= 0);
    static const uint8_t gdt[16] = {0, 0, 0, 0, 0, 0, 0, 0,
                                    0xFF, 0xFF, 0x00, 0x00, 0x00, 0x9A, 0xCF, 0x00};
    memcpy(t->ram + 0x1000, gdt, sizeof gdt);
    t->c.gdtr.base = 0x1000;
    t->c.gdtr.limit = sizeof gdt - 1;
    for (unsigned v = 0; v < 32; v++) {
        uint8_t gate[8] = {HANDLER & 0xFF, (HANDLER >> 8) & 0xFF, 0x08, 0x00, 0x00, 0x8E,
                           (HANDLER >> 16) & 0xFF, HANDLER >> 24};
        memcpy(t->ram + v * 8, gate, sizeof gate);
    }
    t->ram[HANDLER] = 0xF4;
    memcpy(t->ram + CODE, code, len);
    memcpy(t->ram + DATA, pairs, sizeof pairs);
    cpu_flush_decoded(&t->c);
    t->c.eip = CODE;
    t->c.r[ESP] = 0x7000;
    t->c.seg[SEG_CS].limit = cs_limit;
    return t;
}

static void done(struct t *t)
{
    cpu_free(&t->c);
    free(t->ram);
    free(t);
}

static struct state state_of(struct t *t, int result)
{
    struct state s;
    memset(&s, 0, sizeof s);
    for (unsigned r = 0; r < 8; r++)
        s.r[r] = t->c.r[r];
    s.eflags = cpu_get_reg(&t->c, REG_EFLAGS);
    s.eip = t->c.eip;
    s.icount = t->c.icount;
    s.exceptions = t->exceptions;
    s.vector = t->vector;
    s.fault_eip = t->fault_eip;
    s.fault_icount = t->fault_icount;
    s.result = result;
    return s;
}

static void same(const struct state *a, const struct state *b, const char *what, unsigned k)
{
    if (memcmp(a, b, sizeof *a) == 0)
        return;
    print_error("%s, budget %u: differs from the reference\n", what, k);
    for (unsigned r = 0; r < 8; r++)
        print_error("  r%u %08x %08x\n", r, a->r[r], b->r[r]);
    print_error("  eflags %08x %08x eip %08x %08x icount %llu %llu result %d %d\n", a->eflags,
                b->eflags, a->eip, b->eip, (unsigned long long)a->icount,
                (unsigned long long)b->icount, a->result, b->result);
    print_error("  exceptions %u %u (vector %u %u at %08x %08x, count %llu %llu)\n",
                a->exceptions, b->exceptions, a->vector, b->vector, a->fault_eip, b->fault_eip,
                (unsigned long long)a->fault_icount, (unsigned long long)b->fault_icount);
    fail();
}

/* Runs the program with a budget of k (under the hook or not) and returns the state. */
static struct state run_k(const uint8_t *code, unsigned len, bool hooked, unsigned k)
{
    struct t *t = machine(code, len, hooked);
    int r = cpu_run(&t->c, k);
    struct state s = state_of(t, r);
    done(t);
    return s;
}

/* The program under the hook and without it, both in slices of k instructions: equal after
 * every slice, for every k up to max_k. */
static void sliced(const uint8_t *code, unsigned len, const char *what, unsigned k)
{
    struct t *h = machine(code, len, true), *t = machine(code, len, false);
    int rh = RUN_LIMIT, rt = RUN_LIMIT;
    for (unsigned n = 0; rh == RUN_LIMIT && n <= ALL_INSNS; n++) {
        rh = cpu_run(&h->c, k);
        rt = cpu_run(&t->c, k);
        struct state want = state_of(h, rh), got = state_of(t, rt);
        same(&want, &got, what, k);
    }
    done(h);
    done(t);
}

static void check_max(const uint8_t *code, unsigned len, const char *what, unsigned max_k)
{
    struct state ref = run_k(code, len, true, ALL_INSNS);
    assert_int_equal(ref.result, RUN_HALT); /* every program ends in a HLT */
    unsigned total = (unsigned)ref.icount;
    /* small slices, and larger ones that hold whole blocks (a block runs fast only when the
     * budget holds all of it; ICACHE_BLOCK_MAX is 64) */
    static const unsigned large[] = {50, 63, 64, 65, 100, 127, 128, 129, 250, 1000, 4001};
    for (unsigned n = 0; n < max_k + sizeof large / sizeof large[0]; n++) {
        unsigned k = n < max_k ? n + 1 : large[n - max_k];
        if (k > total + 1 || (n < max_k && k > max_k))
            continue;
        if (total < 200) {
            struct state want = run_k(code, len, true, k);
            struct state got = run_k(code, len, false, k);
            same(&want, &got, what, k);
        }
        sliced(code, len, what, k);
    }
    struct state whole = run_k(code, len, false, ALL_INSNS);
    same(&ref, &whole, what, 0);
}

static void check(const uint8_t *code, unsigned len, const char *what)
{
    check_max(code, len, what, 200);
}

#define CHECK(code) check(code, sizeof code, #code)

/* A loop of one block: dec, jnz back to the block's start. */
static const uint8_t loop_dec[] = {
    0xB9, 0x05, 0x00, 0x00, 0x00, /* 00 mov ecx, 5 */
    0x31, 0xC0,                   /* 05 xor eax, eax */
    0x01, 0xC8,                   /* 07 add eax, ecx (the loop's block starts here) */
    0x49,                         /* 09 dec ecx */
    0x75, 0xFB,                   /* 0A jnz 07 */
    0x43,                         /* 0C inc ebx */
    0xF4,                         /* 0D hlt */
};

/* A loop of one block with a #DE in its fourth pass. */
static const uint8_t loop_fault[] = {
    0xB9, 0x03, 0x00, 0x00, 0x00, /* 00 mov ecx, 3 */
    0xBE, 0x0A, 0x00, 0x00, 0x00, /* 05 mov esi, 10 */
    0xB8, 0x64, 0x00, 0x00, 0x00, /* 0A mov eax, 100 */
    0x31, 0xD2,                   /* 0F xor edx, edx */
    0xF7, 0xF1,                   /* 11 div ecx: #DE when ecx = 0 */
    0x01, 0xC7,                   /* 13 add edi, eax */
    0x49,                         /* 15 dec ecx */
    0x4E,                         /* 16 dec esi */
    0x75, 0xF1,                   /* 17 jnz 0A */
    0xF4,                         /* 19 hlt */
};

/* A loop of one block that rewrites the immediate of its own ADD: 1 + 2 + 3. */
static const uint8_t loop_smc[] = {
    0xB9, 0x03, 0x00, 0x00, 0x00, /* 00 mov ecx, 3 */
    0xBB, 0x0D, 0x80, 0x00, 0x00, /* 05 mov ebx, CODE + 0x0D (the ADD's immediate) */
    0x31, 0xC0,                   /* 0A xor eax, eax */
    0x05, 0x01, 0x00, 0x00, 0x00, /* 0C add eax, 1 */
    0xFF, 0x03,                   /* 11 inc dword [ebx] */
    0x49,                         /* 13 dec ecx */
    0x75, 0xF6,                   /* 14 jnz 0C */
    0xF4,                         /* 16 hlt */
};

/* Nested loops: the inner one of one block, the outer one back over it; a 16-bit Jcc (66 75,
 * its target masked to 16 bits: not a loop of one block). */
static const uint8_t loop_nested[] = {
    0xBE, 0x03, 0x00, 0x00, 0x00, /* 00 mov esi, 3 */
    0xB9, 0x04, 0x00, 0x00, 0x00, /* 05 mov ecx, 4 (outer) */
    0x01, 0xCF,                   /* 0A add edi, ecx (inner) */
    0xD1, 0xC7,                   /* 0C rol edi, 1 */
    0x83, 0xE9, 0x01,             /* 0E sub ecx, 1 */
    0x7F, 0xF7,                   /* 11 jg 0A */
    0x4E,                         /* 13 dec esi */
    0x75, 0xEF,                   /* 14 jnz 05 */
    0x85, 0xF6,                   /* 16 test esi, esi */
    0x66, 0x75, 0x02,             /* 18 jnz (16-bit) +2: not taken */
    0x89, 0xF8,                   /* 1B mov eax, edi */
    0xF4,                         /* 1D hlt */
};

static void test_loop_dec(void **state)
{
    (void)state;
    CHECK(loop_dec);
}

static void test_loop_fault(void **state)
{
    (void)state;
    CHECK(loop_fault);
    struct state s = run_k(loop_fault, sizeof loop_fault, false, MAX_INSNS);
    assert_int_equal(s.exceptions, 1);
    assert_int_equal(s.vector, 0);
    assert_int_equal(s.fault_eip, CODE + 0x11);
    assert_int_equal(s.fault_icount, 2 + 3 * 7 + 2); /* the two MOVs, 3 passes, MOV, XOR */
}

static void test_loop_smc(void **state)
{
    (void)state;
    CHECK(loop_smc);
    struct state s = run_k(loop_smc, sizeof loop_smc, false, MAX_INSNS);
    assert_int_equal(s.r[EAX], 6);
}

static void test_loop_nested(void **state)
{
    (void)state;
    CHECK(loop_nested);
}

/* Jccs whose target is another instruction of their own block, not its start (icache.c
 * insn.jt): the Collatz steps of 27, a fused TEST/JZ forward and a fused CMP/JNE back to the
 * third instruction. */
static const uint8_t jump_in_block[] = {
    0xBA, 0x1B, 0x00, 0x00, 0x00, /* 00 mov edx, 27 */
    0x31, 0xC0,                   /* 05 xor eax, eax */
    0xF6, 0xC2, 0x01,             /* 07 test dl, 1 */
    0x74, 0x05,                   /* 0A jz 11 */
    0x8D, 0x54, 0x52, 0x01,       /* 0C lea edx, [edx + edx * 2 + 1] */
    0x40,                         /* 10 inc eax */
    0xD1, 0xEA,                   /* 11 shr edx, 1 */
    0x40,                         /* 13 inc eax */
    0x83, 0xFA, 0x01,             /* 14 cmp edx, 1 */
    0x75, 0xEE,                   /* 17 jne 07 */
    0xF4,                         /* 19 hlt */
};

/* The same with plain (not fused) Jccs, one back to the second instruction and one forward to
 * the block's last instruction. */
static const uint8_t jump_in_block_last[] = {
    0xB9, 0x0A, 0x00, 0x00, 0x00, /* 00 mov ecx, 10 */
    0x31, 0xC0,                   /* 05 xor eax, eax */
    0x40,                         /* 07 inc eax */
    0xF6, 0xC1, 0x01,             /* 08 test cl, 1 */
    0x75, 0x01,                   /* 0B jnz 0E */
    0x48,                         /* 0D dec eax */
    0x49,                         /* 0E dec ecx */
    0x75, 0xF6,                   /* 0F jnz 07 */
    0x85, 0xC0,                   /* 11 test eax, eax */
    0x75, 0x01,                   /* 13 jnz 16 */
    0x90,                         /* 15 nop */
    0xF4,                         /* 16 hlt */
};

static void test_jump_in_block(void **state)
{
    (void)state;
    CHECK(jump_in_block);
    struct state s = run_k(jump_in_block, sizeof jump_in_block, false, MAX_INSNS);
    assert_int_equal(s.r[EDX], 1);
    assert_int_equal(s.r[EAX], 111); /* the Collatz steps of 27 */
    CHECK(jump_in_block_last);
    s = run_k(jump_in_block_last, sizeof jump_in_block_last, false, MAX_INSNS);
    assert_int_equal(s.r[EAX], 5);
}

/* The number of instructions the fast loop path retires is exact: a loop of 1000 passes, cut by
 * budgets that end in the middle of a pass. */
static void test_loop_count(void **state)
{
    (void)state;
    static const uint8_t code[] = {
        0xB9, 0xE8, 0x03, 0x00, 0x00, /* 00 mov ecx, 1000 */
        0x40,                         /* 05 inc eax */
        0x43,                         /* 06 inc ebx */
        0x49,                         /* 07 dec ecx */
        0x75, 0xFB,                   /* 08 jnz 05 */
        0xF4,                         /* 0A hlt */
    };
    struct t *t = machine(code, sizeof code, false);
    assert_int_equal(cpu_run(&t->c, 1 + 4 * 500 + 2), RUN_LIMIT);
    assert_int_equal(t->c.icount, 1 + 4 * 500 + 2);
    assert_int_equal(t->c.eip, CODE + 7);
    assert_int_equal(t->c.r[EAX], 501);
    assert_int_equal(t->c.r[EBX], 501);
    assert_int_equal(cpu_run(&t->c, 10000), RUN_HALT);
    assert_int_equal(t->c.icount, 1 + 4 * 1000 + 1);
    assert_int_equal(t->c.r[EAX], 1000);
    done(t);
}

/* A loop of one block closed by a fused CMP EAX, imm / JNE. */
static const uint8_t loop_cmp[] = {
    0x31, 0xC0,                   /* 00 xor eax, eax */
    0x40,                         /* 02 inc eax (the loop's block starts here) */
    0x01, 0xC3,                   /* 03 add ebx, eax */
    0x3D, 0x64, 0x00, 0x00, 0x00, /* 05 cmp eax, 100 */
    0x75, 0xF6,                   /* 0A jne 02 */
    0xF4,                         /* 0C hlt */
};

/* A fused pair, then a fault in the same block. */
static const uint8_t fuse_fault[] = {
    0x31, 0xC9, /* 00 xor ecx, ecx */
    0x83, 0xF9, 0x00, /* 02 cmp ecx, 0 */
    0x75, 0x01, /* 05 jne +1: not taken */
    0x47,       /* 07 inc edi */
    0x85, 0xC9, /* 08 test ecx, ecx */
    0x74, 0x01, /* 0A je +1: taken */
    0x47,       /* 0C inc edi */
    0xF7, 0xF1, /* 0D div ecx: #DE */
    0xF4,       /* 0F hlt */
};

/* A fused pair whose taken Jcc's target lies beyond the CS limit: #GP(0) at the Jcc. */
static const uint8_t fuse_limit[] = {
    0x39, 0xC9, /* 00 cmp ecx, ecx */
    0x74, 0x40, /* 02 je +0x40: beyond the limit */
    0xF4,       /* 04 hlt */
};

/* The producers fused, by form (ecx and edx, or eax, or cl, dh and ah as operands). */
static const uint8_t producers[][7] = {
    {2, 0x39, 0xD1}, {2, 0x3B, 0xCA}, {3, 0x83, 0xF9, 0x05}, {5, 0x3D, 0x00, 0x00, 0x00, 0x80},
    {2, 0x38, 0xF1}, {2, 0x3A, 0xCE}, {3, 0x80, 0xF9, 0x80},             /* cmp */
    {2, 0x29, 0xD1}, {2, 0x2B, 0xCA}, {3, 0x83, 0xE9, 0xFF}, {5, 0x2D, 0xFF, 0xFF, 0xFF, 0x7F},
    {2, 0x28, 0xF1}, {2, 0x2A, 0xCE}, {3, 0x80, 0xE9, 0x01},             /* sub */
    {2, 0x01, 0xD1}, {2, 0x03, 0xCA}, {6, 0x81, 0xC1, 0x00, 0x00, 0x00, 0x80},
    {5, 0x05, 0x01, 0x00, 0x00, 0x00}, {2, 0x00, 0xF1}, {2, 0x02, 0xCE}, {3, 0x80, 0xC1, 0x7F},
    {2, 0x21, 0xD1}, {2, 0x23, 0xCA}, {3, 0x83, 0xE1, 0xF0}, {5, 0x25, 0x00, 0xFF, 0x00, 0x80},
    {2, 0x20, 0xF1}, {2, 0x22, 0xCE}, {3, 0x80, 0xE1, 0x81},             /* and */
    {2, 0x09, 0xD1}, {2, 0x0B, 0xCA}, {3, 0x83, 0xC9, 0x00}, {5, 0x0D, 0x00, 0x00, 0x00, 0x00},
    {2, 0x08, 0xF1}, {2, 0x0A, 0xCE}, {3, 0x80, 0xC9, 0x00},             /* or */
    {2, 0x31, 0xD1}, {2, 0x33, 0xCA}, {3, 0x83, 0xF1, 0xFF}, {5, 0x35, 0x01, 0x00, 0x00, 0x80},
    {2, 0x30, 0xF1}, {2, 0x32, 0xCE}, {3, 0x80, 0xF1, 0x80},             /* xor */
    {2, 0x85, 0xD1}, {6, 0xF7, 0xC1, 0x01, 0x00, 0x00, 0x80}, {5, 0xA9, 0xFF, 0xFF, 0xFF, 0xFF},
    {2, 0x84, 0xF1}, {3, 0xF6, 0xC1, 0x81}, {3, 0xF6, 0xC4, 0x01},       /* test */
    {2, 0x38, 0xD1}, {2, 0x3A, 0xCA}, {2, 0x84, 0xD1}, /* cmp cl, dl; cmp cl, dl; test cl, dl */
};


/* The frame of each test program: an outer loop over the operand pairs (ESI walks pairs[] in
 * guest RAM at DATA, EBX and EBP the pair) around what the builder puts in between.
 * outer_begin writes `mov esi, DATA` and the loop's head (`mov ebx, [esi]; mov ebp, [esi + 4];
 * add esi, 8`) from p + *n on and returns where the head begins; outer_end writes `cmp esi,
 * end; jb outer; hlt` at p + n and returns the program's length. */
static unsigned outer_begin(uint8_t *p, unsigned *n)
{
    uint32_t table = DATA;
    p[(*n)++] = 0xBE; /* mov esi, DATA */
    memcpy(p + *n, &table, 4);
    *n += 4;
    unsigned outer = *n;
    static const uint8_t head[] = {0x8B, 0x1E, 0x8B, 0x6E, 0x04, 0x83, 0xC6, 0x08};
    memcpy(p + *n, head, sizeof head);
    *n += sizeof head;
    return outer;
}

static unsigned outer_end(uint8_t *p, unsigned n, unsigned outer)
{
    uint32_t end = DATA + sizeof pairs;
    p[n++] = 0x81; /* cmp esi, end */
    p[n++] = 0xFE;
    memcpy(p + n, &end, 4);
    n += 4;
    int32_t rel = (int32_t)outer - (int32_t)(n + 6);
    p[n++] = 0x0F; /* jb outer */
    p[n++] = 0x82;
    memcpy(p + n, &rel, 4);
    n += 4;
    p[n++] = 0xF4;
    return n;
}

/* For each operand pair (an outer loop), each producer with each condition code (rel8, and
 * JNE also rel32): set up the operands, the producer, the Jcc over an INC EDI, ROL EDI. */
static unsigned fuse_program(uint8_t *p)
{
    unsigned n = 0, outer = outer_begin(p, &n);
    for (unsigned k = 0; k < sizeof producers / sizeof producers[0]; k++) {
        for (unsigned cc = 0; cc < 17; cc++) {
            static const uint8_t setup[] = {0x89, 0xD8, 0x89, 0xD9, 0x89, 0xEA};
            memcpy(p + n, setup, sizeof setup); /* mov eax, ebx; mov ecx, ebx; mov edx, ebp */
            n += sizeof setup;
            memcpy(p + n, producers[k] + 1, producers[k][0]);
            n += producers[k][0];
            if (cc < 16) {
                p[n++] = (uint8_t)(0x70 + cc); /* jcc +1 */
                p[n++] = 0x01;
            } else {
                static const uint8_t jne32[] = {0x0F, 0x85, 0x01, 0x00, 0x00, 0x00};
                memcpy(p + n, jne32, sizeof jne32);
                n += sizeof jne32;
            }
            p[n++] = 0x47; /* inc edi */
            p[n++] = 0xD1; /* rol edi, 1 */
            p[n++] = 0xC7;
        }
    }
    return outer_end(p, n, outer);
}

/* An INC, DEC, XOR or load to a 32-bit register, then a CMP fused with its Jcc (control.c
 * op_fi_, op_fd_, op_fx_, op_fb_, op_fs_: the three as one): for each operand pair, each INC or
 * DEC (of an operand of the CMP or another register), XOR, load by [base + disp] and by [base +
 * index + disp], and a load from beyond RAM (no fast path: the MOV's own handler), each CMP form (EG, GE, EI) with each condition code (rel8, and JNE also
 * rel32), and two tails: the flags dead after the Jcc both ways (INC EDI, ROL EDI) or CF live
 * both ways (SBB EDI, EBX reads it). */
static const uint8_t fuse_pres[][10] = {
    {1, 0x41}, {1, 0x49}, {1, 0x42}, {1, 0x4A}, {1, 0x40}, /* inc/dec ecx, edx; inc eax */
    {2, 0x31, 0xC1},                                        /* xor ecx, eax */
    {3, 0x8B, 0x4E, 0xF8},                                  /* mov ecx, [esi - 8] */
    {7, 0x8B, 0x94, 0x34, 0xFC, 0x8F, 0xFF, 0xFF},          /* mov edx, [esp+esi-0x7004] */
    {6, 0x8B, 0x0D, 0x00, 0xF0, 0xFF, 0xFF},                /* mov ecx, [0xFFFFF000] */
};

/* A shift or an LEA, then an INC, a CMP of a register and an immediate and a Jcc (control.c
 * op_fqshl_, op_fqshr_, op_fqsar_, op_fql_: the four as one), and the same with what makes no
 * quad (a count of 0, a rotate, a 16-bit LEA, a DEC after the shift). */
static const uint8_t fuse_quads[][10] = {
    {3, 0xD1, 0xE9, 0x41},                   /* shr ecx, 1; inc ecx */
    {4, 0xC1, 0xE9, 0x1F, 0x40},             /* shr ecx, 31; inc eax */
    {4, 0xC1, 0xE1, 0x05, 0x40},             /* shl ecx, 5; inc eax */
    {3, 0xD1, 0xE1, 0x42},                   /* shl ecx, 1; inc edx */
    {4, 0xC1, 0xF1, 0x04, 0x41},             /* sal ecx, 4 (/6); inc ecx */
    {4, 0xC1, 0xF9, 0x03, 0x41},             /* sar ecx, 3; inc ecx */
    {3, 0xD1, 0xF9, 0x40},                   /* sar ecx, 1; inc eax */
    {4, 0xC1, 0xE9, 0x20, 0x41},             /* shr ecx, 32 (count 0: no quad) */
    {4, 0xC1, 0xC1, 0x03, 0x41},             /* rol ecx, 3 (no quad) */
    {4, 0xC1, 0xE2, 0x02, 0x41},             /* shl edx, 2; inc ecx */
    {5, 0x8D, 0x4C, 0x49, 0x01, 0x40},       /* lea ecx, [ecx + ecx*2 + 1]; inc eax */
    {4, 0x8D, 0x4D, 0xF9, 0x41},             /* lea ecx, [ebp - 7]; inc ecx */
    {8, 0x8D, 0x0C, 0x9D, 0x78, 0x56, 0x34, 0x12, 0x41}, /* lea ecx, [ebx*4 + disp32] */
    {5, 0x66, 0x8D, 0x4B, 0x01, 0x41},       /* lea cx, [ebx + 1] (16-bit: no quad) */
    {3, 0xD1, 0xE9, 0x49},                   /* shr ecx, 1; dec ecx (no quad) */
};

/* The program for npres first instructions of pres, each with the CMP forms from m0 on. */
static unsigned fuse_pre_program(uint8_t *p, const uint8_t (*pres)[10], unsigned npres,
                                 unsigned m0)
{
    static const uint8_t cmps[][4] = {{2, 0x39, 0xD1}, {2, 0x3B, 0xCA}, {3, 0x83, 0xF9, 0x05}};
    unsigned n = 0, outer = outer_begin(p, &n);
    for (unsigned k = 0; k < npres; k++)
        for (unsigned m = m0; m < sizeof cmps / sizeof cmps[0]; m++)
            for (unsigned tail = 0; tail < 2; tail++)
                for (unsigned cc = 0; cc < 17; cc++) {
                    static const uint8_t setup[] = {0x89, 0xD8, 0x89, 0xD9, 0x89, 0xEA};
                    memcpy(p + n, setup, sizeof setup); /* eax = ecx = ebx, edx = ebp */
                    n += sizeof setup;
                    memcpy(p + n, pres[k] + 1, pres[k][0]);
                    n += pres[k][0];
                    memcpy(p + n, cmps[m] + 1, cmps[m][0]);
                    n += cmps[m][0];
                    if (cc < 16) {
                        p[n++] = (uint8_t)(0x70 + cc); /* jcc +1 */
                        p[n++] = 0x01;
                    } else {
                        static const uint8_t jne32[] = {0x0F, 0x85, 0x01, 0x00, 0x00, 0x00};
                        memcpy(p + n, jne32, sizeof jne32);
                        n += sizeof jne32;
                    }
                    p[n++] = 0x47; /* inc edi */
                    if (tail == 0) {
                        p[n++] = 0xD1; /* rol edi, 1 */
                        p[n++] = 0xC7;
                    } else {
                        p[n++] = 0x19; /* sbb edi, ebx */
                        p[n++] = 0xDF;
                    }
                }
    return outer_end(p, n, outer);
}

/* A loop closed by INC, CMP, JNE back to the block's start; then a DEC, CMP, JBE whose CMP is
 * also the target of a JNZ later in the block (the CMP's own fused handler runs there), each
 * cut by every budget. */
static const uint8_t fuse_pre_loops[] = {
    0x31, 0xC0,                   /* 00 xor eax, eax */
    0x31, 0xDB,                   /* 02 xor ebx, ebx */
    0x01, 0xC3,                   /* 04 add ebx, eax (the first loop's block) */
    0x40,                         /* 05 inc eax */
    0x83, 0xF8, 0x1E,             /* 06 cmp eax, 30 */
    0x75, 0xF8,                   /* 09 jne 04 */
    0xB9, 0x28, 0x00, 0x00, 0x00, /* 0B mov ecx, 40 */
    0x49,                         /* 10 dec ecx */
    0x83, 0xF9, 0x07,             /* 11 cmp ecx, 7 */
    0x76, 0x0C,                   /* 14 jbe 22 */
    0x01, 0xCA,                   /* 16 add edx, ecx */
    0x83, 0xE9, 0x03,             /* 18 sub ecx, 3 */
    0xF6, 0xC1, 0x01,             /* 1B test cl, 1 */
    0x75, 0xF1,                   /* 1E jnz 11 */
    0xEB, 0xEE,                   /* 20 jmp 10 */
    0xF4,                         /* 22 hlt */
};

/* MOV r32, r32 then a shift of a 32-bit register with dead flags (deadflags.c op_mov_EG32_shl_nf
 * and the others: the two as one), for each operand pair: both MOV encodings, SHL, SAL, SHR, SAR
 * by an immediate and by 1, of the MOV's destination or another register; then ADD EDI, EAX
 * and ADD EDI, ECX, which write every flag (the shift's are dead), or ADC EDI, EAX, which reads
 * CF (live: no pair), or the shift the last instruction before a JMP; or XOR r/m32, r32 after
 * the shift (the three as one: op_mov_EG32_shl_xor_nf and the others), its flags dead, live
 * (ADC, PUSHFD after it) or before the next setup, or XOR r32, r/m32 (no three). */
static unsigned mov_shift_program(uint8_t *p)
{
    static const uint8_t movs[][3] = {{2, 0x89, 0xD8}, {2, 0x8B, 0xC5}, {2, 0x89, 0xE9}};
    /* mov eax, ebx; mov eax, ebp; mov ecx, ebp */
    static const uint8_t shifts[][4] = {
        {3, 0xC1, 0xE0, 0x0D}, {3, 0xC1, 0xE8, 0x11}, {3, 0xC1, 0xF8, 0x05}, /* eax */
        {3, 0xC1, 0xF0, 0x1F}, {2, 0xD1, 0xE0}, {2, 0xD1, 0xE8}, {2, 0xD1, 0xF8},
        {3, 0xC1, 0xE1, 0x03}, {2, 0xD1, 0xE9},                               /* ecx */
        {3, 0xC1, 0xE8, 0x00}, {3, 0xC1, 0xC0, 0x07},                         /* 0, rol */
    };
    static const uint8_t tails[][8] = {
        {4, 0x01, 0xC7, 0x01, 0xCF}, /* add edi, eax; add edi, ecx */
        {2, 0x11, 0xC7},             /* adc edi, eax */
        {2, 0xEB, 0x00},             /* jmp +0 */
        {4, 0x31, 0xD8, 0x01, 0xC7}, /* xor eax, ebx; add edi, eax (the XOR's flags dead) */
        {4, 0x31, 0xC1, 0x11, 0xCF}, /* xor ecx, eax; adc edi, ecx (live) */
        {6, 0x31, 0xC8, 0x9C, 0x5A, 0x31, 0xD7}, /* xor eax, ecx; pushfd; pop edx; xor edi, edx */
        {4, 0x33, 0xC3, 0x01, 0xC7}, /* xor eax, ebx (33 /r: no three); add edi, eax */
        {2, 0x31, 0xD8},             /* xor eax, ebx; (the next setup's MOV) */
    };
    unsigned n = 0, outer = outer_begin(p, &n);
    for (unsigned m = 0; m < sizeof movs / sizeof movs[0]; m++)
        for (unsigned k = 0; k < sizeof shifts / sizeof shifts[0]; k++)
            for (unsigned t = 0; t < sizeof tails / sizeof tails[0]; t++) {
                static const uint8_t setup[] = {0x89, 0xE9}; /* mov ecx, ebp */
                memcpy(p + n, setup, sizeof setup);
                n += sizeof setup;
                memcpy(p + n, movs[m] + 1, movs[m][0]);
                n += movs[m][0];
                memcpy(p + n, shifts[k] + 1, shifts[k][0]);
                n += shifts[k][0];
                memcpy(p + n, tails[t] + 1, tails[t][0]);
                n += tails[t][0];
            }
    return outer_end(p, n, outer);
}

/* MOVZX r32, r8 then MOV r32, [base + index * scale + disp] (deadflags.c op_movzx32_rl_ldx: the
 * two as one), for each operand pair: a low byte of the load's index or not, a high byte (no
 * pair), the load into its own index register, from beyond RAM (the load's own handler), with
 * a base; then ADD EDI, ECX, or a JMP after the load. */
static unsigned movzx_load_program(uint8_t *p)
{
    static const uint8_t movzxs[][4] = {
        {3, 0x0F, 0xB6, 0xD3}, {3, 0x0F, 0xB6, 0xD2}, {3, 0x0F, 0xB6, 0xC5}, /* edx,bl; edx,dl; eax,ch */
        {3, 0x0F, 0xB6, 0xC7},                                              /* eax, bh */
    };
    static const uint8_t loads[][8] = {
        {7, 0x8B, 0x0C, 0x95, 0x00, 0xC0, 0x00, 0x00}, /* mov ecx, [edx*4 + DATA] */
        {7, 0x8B, 0x14, 0x95, 0x00, 0xC0, 0x00, 0x00}, /* mov edx, [edx*4 + DATA] */
        {7, 0x8B, 0x0C, 0x85, 0x00, 0xF0, 0xFF, 0xFF}, /* mov ecx, [eax*4 - 0x1000] */
        {4, 0x8B, 0x4C, 0x96, 0xF8},                   /* mov ecx, [esi + edx*4 - 8] */
    };
    static const uint8_t tails[][3] = {{2, 0x01, 0xCF}, {2, 0xEB, 0x00}};
    unsigned n = 0, outer = outer_begin(p, &n);
    for (unsigned m = 0; m < sizeof movzxs / sizeof movzxs[0]; m++)
        for (unsigned k = 0; k < sizeof loads / sizeof loads[0]; k++)
            for (unsigned t = 0; t < sizeof tails / sizeof tails[0]; t++) {
                static const uint8_t setup[] = {0x89, 0xEA, 0x89, 0xE9}; /* edx = ecx = ebp */
                memcpy(p + n, setup, sizeof setup);
                n += sizeof setup;
                memcpy(p + n, movzxs[m] + 1, movzxs[m][0]);
                n += movzxs[m][0];
                memcpy(p + n, loads[k] + 1, loads[k][0]);
                n += loads[k][0];
                memcpy(p + n, tails[t] + 1, tails[t][0]);
                n += tails[t][0];
            }
    return outer_end(p, n, outer);
}

/* Pairs of an instruction and a register-only one after it (deadflags.c insn_pair: the two as
 * one), each after a setup and before each tail: ADD/SUB r32, imm pairs (same register or not,
 * imm8 and imm32; ADD EAX, imm32's own form makes none), IMUL r32, m32 then ADD r32, r32 (by
 * [base + disp] and [base + index * scale + disp], from beyond RAM: the IMUL's own handler,
 * after an ADD r32, imm whose flags it defers), MOVZX r32, m8 then INC/DEC (of the load's
 * register, of its base, from beyond RAM), XOR of low bytes then SHL/SAL/SHR/SAR by an
 * immediate (a shift by 1 and a high byte make none), and those with a MOVZX and table load
 * pair after them (the four as one; the load in RAM, beyond it, into its index), MOV r32, [base
 * + disp] then one or two ADD/SUB r32, imm (into the load's register, its base; beyond RAM).
 * Tails: ADD EDI, EAX; ADD EDI, ECX (every
 * flag written), ADC EDI, EAX (CF read), a JMP, a load (the flags deferred to it), PUSHFD
 * (every flag read). */
static unsigned pair_program(uint8_t *p)
{
    static const uint8_t firsts[][16] = {
        {6, 0x83, 0xC1, 0x50, 0x83, 0xC3, 0x04},                   /* add ecx, 0x50; add ebx, 4 */
        {6, 0x83, 0xC1, 0x50, 0x83, 0xE9, 0x03},                   /* add ecx, 0x50; sub ecx, 3 */
        {9, 0x83, 0xEB, 0x07, 0x81, 0xC0, 0x78, 0x56, 0x34, 0x12}, /* sub ebx, 7; add eax, imm32 */
        {9, 0x83, 0xEB, 0x07, 0x81, 0xEB, 0x00, 0x00, 0x00, 0x80}, /* sub ebx, 7; sub ebx, imm32 */
        {8, 0x83, 0xE8, 0x01, 0x05, 0x78, 0x56, 0x34, 0x12},       /* sub eax, 1; add eax, imm32 (AI) */
        {6, 0x0F, 0xAF, 0x6E, 0xF8, 0x01, 0xEA},                   /* imul ebp, [esi-8]; add edx, ebp */
        {6, 0x0F, 0xAF, 0x46, 0xFC, 0x01, 0xC0},                   /* imul eax, [esi-4]; add eax, eax */
        {7, 0x0F, 0xAF, 0x6C, 0x9E, 0xF8, 0x01, 0xE9},             /* imul ebp, [esi+ebx*4-8]; add ecx, ebp */
        {9, 0x0F, 0xAF, 0xAE, 0x00, 0x00, 0xFF, 0x7F, 0x01, 0xEA}, /* imul ebp, [esi+0x7FFF0000]; add */
        {9, 0x83, 0xC3, 0x04, 0x0F, 0xAF, 0x6E, 0xF8, 0x01, 0xEA}, /* add ebx, 4; imul; add */
        {12, 0x83, 0xC3, 0x04, 0x0F, 0xAF, 0xAE, 0x00, 0x00, 0xFF, 0x7F, 0x01, 0xEA}, /* beyond RAM */
        {4, 0x0F, 0xB6, 0x16, 0x46},                               /* movzx edx, byte [esi]; inc esi */
        {4, 0x0F, 0xB6, 0x1E, 0x4B},                               /* movzx ebx, byte [esi]; dec ebx */
        {5, 0x0F, 0xB6, 0x54, 0x1E, 0x47},                         /* movzx edx, [esi+ebx]; inc edi */
        {8, 0x0F, 0xB6, 0x96, 0x00, 0x00, 0xFF, 0x7F, 0x4A},       /* movzx edx, [esi+0x7FFF0000]; dec edx */
        {5, 0x30, 0xC2, 0xC1, 0xE8, 0x08},                         /* xor dl, al; shr eax, 8 */
        {5, 0x30, 0xCB, 0xC1, 0xE3, 0x0D},                         /* xor bl, cl; shl ebx, 13 */
        {5, 0x30, 0xD0, 0xC1, 0xF8, 0x1F},                         /* xor al, dl; sar eax, 31 */
        {5, 0x30, 0xD9, 0xC1, 0xF1, 0x01},                         /* xor cl, bl; sal ecx, 1 */
        {5, 0x30, 0xC2, 0xC1, 0xEA, 0x03},                         /* xor dl, al; shr edx, 3 */
        {4, 0x30, 0xC2, 0xD1, 0xE8},                               /* xor dl, al; shr eax, 1 */
        {5, 0x30, 0xC4, 0xC1, 0xE8, 0x08},                         /* xor ah, al; shr eax, 8 */
        /* xor dl, al; shr eax, 8; movzx edx, dl; mov ecx, [edx*4 + DATA] (the four as one) */
        {15, 0x30, 0xC2, 0xC1, 0xE8, 0x08, 0x0F, 0xB6, 0xD2, 0x8B, 0x0C, 0x95, 0x00, 0xC0, 0x00,
         0x00},
        /* the same, the load from beyond RAM ([edx*4 - 0x1000]: the load's own handler) */
        {15, 0x30, 0xC2, 0xC1, 0xE8, 0x08, 0x0F, 0xB6, 0xD2, 0x8B, 0x0C, 0x95, 0x00, 0xF0, 0xFF,
         0xFF},
        {9, 0x8B, 0x56, 0xF8, 0x83, 0xC1, 0x50, 0x83, 0xC0, 0x04}, /* mov edx, [esi-8]; add ecx, 0x50; add eax, 4 */
        /* mov ebx, [esi-4]; add ebx, 3; sub ebx, 0x80000000 */
        {12, 0x8B, 0x5E, 0xFC, 0x83, 0xC3, 0x03, 0x81, 0xEB, 0x00, 0x00, 0x00, 0x80},
        {9, 0x8B, 0x46, 0xF8, 0x83, 0xEE, 0x08, 0x83, 0xC6, 0x08}, /* mov eax, [esi-8]; sub esi, 8; add esi, 8 */
        {6, 0x8B, 0x46, 0xF8, 0x83, 0xEA, 0x05},                   /* mov eax, [esi-8]; sub edx, 5 */
        /* mov eax, [esi+0x7FFF0000] (beyond RAM: the MOV's own handler); add ecx, 1; add edx, 2 */
        {12, 0x8B, 0x86, 0x00, 0x00, 0xFF, 0x7F, 0x83, 0xC1, 0x01, 0x83, 0xC2, 0x02},
        /* xor bl, cl; sar ebx, 3; movzx edx, bl; mov edx, [edx*4 + DATA] */
        {15, 0x30, 0xCB, 0xC1, 0xFB, 0x03, 0x0F, 0xB6, 0xD3, 0x8B, 0x14, 0x95, 0x00, 0xC0, 0x00,
         0x00},
    };
    static const uint8_t tails[][6] = {
        {4, 0x01, 0xC7, 0x01, 0xCF}, /* add edi, eax; add edi, ecx */
        {2, 0x11, 0xC7},             /* adc edi, eax */
        {2, 0xEB, 0x00},             /* jmp +0 */
        {5, 0x8B, 0x56, 0xF8, 0x11, 0xD7}, /* mov edx, [esi-8]; adc edi, edx */
        {4, 0x9C, 0x5A, 0x31, 0xD7},       /* pushfd; pop edx; xor edi, edx */
    };
    unsigned n = 0, outer = outer_begin(p, &n);
    for (unsigned m = 0; m < sizeof firsts / sizeof firsts[0]; m++)
        for (unsigned t = 0; t < sizeof tails / sizeof tails[0]; t++) {
            /* mov eax, [esi-8]; mov ecx, [esi-4]; mov edx, eax; mov ebx, ecx; and ebx, 1 */
            static const uint8_t setup[] = {0x8B, 0x46, 0xF8, 0x8B, 0x4E, 0xFC, 0x89,
                                            0xC2, 0x89, 0xCB, 0x83, 0xE3, 0x01};
            memcpy(p + n, setup, sizeof setup);
            n += sizeof setup;
            memcpy(p + n, firsts[m] + 1, firsts[m][0]);
            n += firsts[m][0];
            memcpy(p + n, tails[t] + 1, tails[t][0]);
            n += tails[t][0];
        }
    return outer_end(p, n, outer);
}

/* Collatz's loop, as ringbench's compute workload has it: an LEA quad (taken back from a TEST
 * and JNE) and a SHR quad closing the loop, cut by every budget. */
static const uint8_t quad_collatz[] = {
    0xBA, 0x1B, 0x00, 0x00, 0x00, /* 00 mov edx, 27 */
    0x31, 0xC0,                   /* 05 xor eax, eax */
    0xEB, 0x0A,                   /* 07 jmp 13 */
    0x8D, 0x54, 0x52, 0x01,       /* 09 lea edx, [edx + edx*2 + 1] */
    0x40,                         /* 0D inc eax */
    0x83, 0xFA, 0x01,             /* 0E cmp edx, 1 */
    0x74, 0x0D,                   /* 11 je 20 */
    0xF6, 0xC2, 0x01,             /* 13 test dl, 1 */
    0x75, 0xF1,                   /* 16 jne 09 */
    0xD1, 0xEA,                   /* 18 shr edx, 1 */
    0x40,                         /* 1A inc eax */
    0x83, 0xFA, 0x01,             /* 1B cmp edx, 1 */
    0x75, 0xF3,                   /* 1E jne 13 */
    0xF4,                         /* 20 hlt */
};

/* An INC, XOR or load with a LOCK prefix (#UD, which ends its block) before a CMP and a Jcc:
 * the #UD is taken. */
static const uint8_t fuse_pre_lock[][12] = {
    {10, 0xF0, 0x41, 0x83, 0xF9, 0x05, 0x75, 0x01, 0x47, 0x47, 0xF4},       /* lock inc ecx */
    {11, 0xF0, 0x31, 0xC1, 0x83, 0xF9, 0x05, 0x75, 0x01, 0x47, 0x47, 0xF4}, /* lock xor */
    {11, 0xF0, 0x8B, 0x0E, 0x83, 0xF9, 0x05, 0x75, 0x01, 0x47, 0x47, 0xF4}, /* lock mov */
};

static void test_fuse_pre(void **state)
{
    (void)state;
    for (unsigned k = 0; k < sizeof fuse_pre_lock / sizeof fuse_pre_lock[0]; k++) {
        struct state s = run_k(fuse_pre_lock[k] + 1, fuse_pre_lock[k][0], false, MAX_INSNS);
        assert_int_equal(s.exceptions, 1);
        assert_int_equal(s.vector, 6);
        assert_int_equal(s.fault_eip, CODE);
        assert_int_equal(s.r[ECX], 0);
    }
    static uint8_t code[DATA - CODE];
    unsigned len =
        fuse_pre_program(code, fuse_pres, sizeof fuse_pres / sizeof fuse_pres[0], 0);
    assert_true(len < DATA - CODE);
    check_max(code, len, "fuse_pre", 24);
    len = fuse_pre_program(code, fuse_quads, sizeof fuse_quads / sizeof fuse_quads[0], 2);
    assert_true(len < DATA - CODE);
    check_max(code, len, "fuse_quads", 24);
    CHECK(fuse_pre_loops);
    struct state st = run_k(fuse_pre_loops, sizeof fuse_pre_loops, false, MAX_INSNS);
    assert_int_equal(st.r[EBX], 435);
    assert_int_equal(st.result, RUN_HALT);
    len = mov_shift_program(code);
    assert_true(len < DATA - CODE);
    check_max(code, len, "mov_shift", 24);
    len = movzx_load_program(code);
    assert_true(len < DATA - CODE);
    check_max(code, len, "movzx_load", 24);
    len = pair_program(code);
    assert_true(len < DATA - CODE);
    check_max(code, len, "pairs", 24);
    CHECK(quad_collatz);
    st = run_k(quad_collatz, sizeof quad_collatz, false, MAX_INSNS);
    assert_int_equal(st.r[EAX], 111); /* 27 reaches 1 in 111 steps */
    assert_int_equal(st.result, RUN_HALT);
}

/* A block of ICACHE_BLOCK_MAX (64) instructions whose last is a Jcc after a CMP: the Jcc runs
 * as the block's last instruction (not fused). */
static void test_fuse_block_end(void **state)
{
    (void)state;
    uint8_t code[70];
    memset(code, 0x90, 62); /* nop */
    static const uint8_t tail[] = {
        0x39, 0xD1, /* 3E cmp ecx, edx */
        0x75, 0x01, /* 40 jne +1: the block's last instruction */
        0x47,       /* 42 inc edi */
        0xF4,       /* 43 hlt */
    };
    memcpy(code + 62, tail, sizeof tail);
    check(code, 62 + sizeof tail, "fuse_block_end");
}

static void test_loop_cmp(void **state)
{
    (void)state;
    CHECK(loop_cmp);
}

static void test_fuse_fault(void **state)
{
    (void)state;
    CHECK(fuse_fault);
    struct state s = run_k(fuse_fault, sizeof fuse_fault, false, MAX_INSNS);
    assert_int_equal(s.exceptions, 1);
    assert_int_equal(s.vector, 0);
    assert_int_equal(s.fault_eip, CODE + 0x0D);
    assert_int_equal(s.fault_icount, 6);
    assert_int_equal(s.r[EDI], 1);
}

static void test_fuse_limit(void **state)
{
    (void)state;
    cs_limit = CODE + 0x10;
    CHECK(fuse_limit);
    struct state s = run_k(fuse_limit, sizeof fuse_limit, false, MAX_INSNS);
    cs_limit = 0xFFFFFFFFu;
    assert_int_equal(s.exceptions, 1);
    assert_int_equal(s.vector, 13);
    assert_int_equal(s.fault_eip, CODE + 2);
    assert_int_equal(s.fault_icount, 1);
}

/* Every fused producer form with every condition, taken and not, against the hook path. */
static void test_fuse_all(void **state)
{
    (void)state;
    static uint8_t code[DATA - CODE]; /* the program is about 11.5 KiB */
    unsigned len = fuse_program(code);
    assert_true(len < DATA - CODE);
    check_max(code, len, "fuse_all", 24);
}


/* Dead flags (src/cpu/deadflags.c): shifts, rotates, INC/DEC and register ALU forms whose flags
 * the next instructions overwrite run without recording them in the middle of a block. Budgets
 * that end between such an instruction and the one that overwrites its flags see them exact;
 * a fault (the DIV) right after an INC sees the INC's flags; a CMP after the DIV does not make
 * the INC's flags dead. */
static const uint8_t dead_flags[] = {
    0xB9, 0x05, 0x00, 0x00, 0x00, /* 00 mov ecx, 5 */
    0xB8, 0x78, 0x56, 0x34, 0x12, /* 05 mov eax, 0x12345678 */
    0x31, 0xD2,                   /* 0A xor edx, edx */
    0xC1, 0xE0, 0x03,             /* 0C shl eax, 3 (dead: the XOR) */
    0x31, 0xC8,                   /* 0F xor eax, ecx (dead: the SHR) */
    0xD1, 0xE8,                   /* 11 shr eax, 1 (dead: INC, then CMP) */
    0x42,                         /* 13 inc edx (dead) */
    0xC1, 0xC0, 0x05,             /* 14 rol eax, 5 (dead: the ADD) */
    0x00, 0xD0,                   /* 17 add al, dl (dead: ROR, LEA, CMP) */
    0xD1, 0xC8,                   /* 19 ror eax, 1 (dead: the CMP) */
    0x8D, 0x1C, 0x08,             /* 1B lea ebx, [eax + ecx] */
    0x83, 0xF9, 0x03,             /* 1E cmp ecx, 3 (CF live: DEC, ADC) */
    0x4B,                         /* 21 dec ebx */
    0x83, 0xD6, 0x00,             /* 22 adc esi, 0 */
    0x49,                         /* 25 dec ecx */
    0x75, 0xE4,                   /* 26 jnz 0C */
    0xBD, 0x00, 0x00, 0x00, 0x00, /* 28 mov ebp, 0 */
    0x40,                         /* 2D inc eax (live: the DIV faults) */
    0xF7, 0xF5,                   /* 2E div ebp: #DE */
    0x39, 0xC0,                   /* 30 cmp eax, eax */
    0xF4,                         /* 32 hlt */
};

/* The other forms: AI, GE and EG, byte registers (AH, DH), SAR, MOVZX, NOP, TEST. */
static const uint8_t dead_forms[] = {
    0xB8, 0xF0, 0xFF, 0x00, 0x80, /* 00 mov eax, 0x8000FFF0 */
    0xBB, 0x03, 0x00, 0x00, 0x00, /* 05 mov ebx, 3 */
    0xB9, 0x10, 0x00, 0x00, 0x00, /* 0A mov ecx, 16 */
    0x05, 0x11, 0x00, 0x00, 0x00, /* 0F add eax, 0x11 */
    0x2B, 0xC3,                   /* 14 sub eax, ebx */
    0x09, 0xD8,                   /* 16 or eax, ebx */
    0xC1, 0xF8, 0x02,             /* 18 sar eax, 2 */
    0x0F, 0xB6, 0xD0,             /* 1B movzx edx, al */
    0x90,                         /* 1E nop */
    0x85, 0xD2,                   /* 1F test edx, edx */
    0x80, 0xF2, 0x5A,             /* 21 xor dl, 0x5A */
    0x02, 0xF1,                   /* 24 add dh, cl */
    0x28, 0xCC,                   /* 26 sub ah, cl */
    0xD1, 0xE0,                   /* 28 shl eax, 1 */
    0x25, 0xFF, 0xFF, 0x0F, 0x00, /* 2A and eax, 0x000FFFFF */
    0x83, 0xE3, 0x07,             /* 2F and ebx, 7 */
    0x80, 0xF8, 0x05,             /* 32 cmp al, 5 (CF live: DEC, JNZ) */
    0x49,                         /* 35 dec ecx */
    0x75, 0xD7,                   /* 36 jnz 0F */
    0xF4,                         /* 38 hlt */
};

static void test_dead_flags(void **state)
{
    (void)state;
    CHECK(dead_flags);
    CHECK(dead_forms);
    struct state s = run_k(dead_flags, sizeof dead_flags, false, MAX_INSNS);
    assert_int_equal(s.exceptions, 1);
    assert_int_equal(s.fault_eip, CODE + 0x2E);
}

/* Each instruction with a dead-flags handler, X, checked against itself with live flags:
 * program A is SETUP, X, CMP ECX, EDX (which makes X's flags dead), HLT; program B is SETUP, X,
 * HLT (X's flags live: B runs X's full handler). Cut right after X, A must show what B shows
 * (the flags X leaves, exact, though the same block runs X without them when it runs whole);
 * run whole, A's registers must be B's. */
static void test_dead_each(void **state)
{
    (void)state;
    static const uint8_t setup[] = {
        0xB8, 0xF0, 0xFF, 0x00, 0x80, /* mov eax, 0x8000FFF0 */
        0xBB, 0x21, 0x43, 0x65, 0x87, /* mov ebx, 0x87654321 */
        0xB9, 0xFF, 0x00, 0x00, 0x00, /* mov ecx, 0xFF */
        0xBA, 0x01, 0x00, 0x00, 0x00, /* mov edx, 1 */
        0x01, 0xC3,                   /* add ebx, eax: a carry, lazy flags */
    };
    uint8_t xs[100][9]; /* length, then the bytes */
    unsigned nx = 0;
    static const uint8_t fixed[][9] = {
        {1, 0x40}, {1, 0x4B},                                       /* inc eax, dec ebx */
        {3, 0xC1, 0xE0, 0x07}, {3, 0xC1, 0xE8, 0x07}, {3, 0xC1, 0xF8, 0x07}, /* shl shr sar 7 */
        {3, 0xC1, 0xE4, 0x1F}, {3, 0xC1, 0xC0, 0x07}, {3, 0xC1, 0xC8, 0x07}, /* shl 31, rol ror */
        {2, 0xD1, 0xE0}, {2, 0xD1, 0xE8}, {2, 0xD1, 0xF8}, {2, 0xD1, 0xC0}, {2, 0xD1, 0xC8},
        {2, 0x85, 0xD8}, {5, 0xA9, 0x00, 0xF0, 0x00, 0x80}, {2, 0x84, 0xDC}, /* test */
        {3, 0xF6, 0xC4, 0x0F},
        {3, 0x0F, 0xAF, 0xC3},                             /* imul eax, ebx */
        {3, 0x0F, 0xB6, 0xCB}, {3, 0x0F, 0xB6, 0xC4},       /* movzx ecx, bl; eax, ah */
        {3, 0x0F, 0xB7, 0xCB},                             /* movzx ecx, bx */
        {7, 0x0F, 0xAF, 0x05, 0x04, 0xC0, 0x00, 0x00},     /* imul eax, [DATA + 4] */
        {5, 0x0F, 0xAF, 0x5C, 0x24, 0xF0},                 /* imul ebx, [esp - 0x10] */
        {8, 0x0F, 0xAF, 0x1C, 0x8D, 0x00, 0xC0, 0x00, 0x00}, /* imul ebx, [ecx*4 + DATA] */
    };
    for (unsigned k = 0; k < sizeof fixed / sizeof fixed[0]; k++, nx++)
        memcpy(xs[nx], fixed[k], (unsigned)fixed[k][0] + 1);
    static const uint8_t ops[] = {0, 1, 4, 5, 6, 7}; /* add or and sub xor cmp */
    for (unsigned k = 0; k < sizeof ops / sizeof ops[0]; k++) {
        uint8_t o = ops[k], b = (uint8_t)(o * 8);
        const uint8_t forms[][7] = {
            {2, (uint8_t)(b + 1), 0xC3},                             /* E32 op= G32 */
            {2, (uint8_t)(b + 3), 0xC3},                             /* G32 op= E32 */
            {3, 0x83, (uint8_t)(0xC3 | o << 3), 0x7F},               /* E32 op= imm8 */
            {6, 0x81, (uint8_t)(0xC0 | o << 3), 0x10, 0x00, 0x00, 0x80}, /* E32 op= imm32 */
            {5, (uint8_t)(b + 5), 0x10, 0x00, 0x01, 0x80},           /* EAX op= imm32 */
            {2, b, 0xDC},                                            /* AH op= BL */
            {2, (uint8_t)(b + 2), 0xE3},                             /* AH op= BL */
            {3, 0x80, (uint8_t)(0xC4 | o << 3), 0x7F},               /* AH op= imm8 */
            {2, b, 0xD9},                                            /* CL op= BL */
            {2, (uint8_t)(b + 2), 0xCB},                             /* CL op= BL */
            {3, 0x80, (uint8_t)(0xC1 | o << 3), 0x81},               /* CL op= imm8 */
        };
        for (unsigned f = 0; f < sizeof forms / sizeof forms[0]; f++, nx++)
            memcpy(xs[nx], forms[f], (unsigned)forms[f][0] + 1);
    }
    assert_true(nx <= sizeof xs / sizeof xs[0]);
    for (unsigned k = 0; k < nx; k++) {
        uint8_t a[64], b[64];
        unsigned n = sizeof setup, len = xs[k][0];
        memcpy(a, setup, n);
        memcpy(a + n, xs[k] + 1, len);
        memcpy(b, a, n + len);
        a[n + len] = 0x39; /* cmp ecx, edx */
        a[n + len + 1] = 0xD1;
        a[n + len + 2] = 0xF4;
        b[n + len] = 0xF4;
        unsigned cut = 6; /* the setup, X */
        struct state sa = run_k(a, n + len + 3, false, cut), sb = run_k(b, n + len + 1, false, cut);
        same(&sb, &sa, "dead flags, cut after X", k);
        sa = run_k(a, n + len + 3, false, ALL_INSNS);
        sb = run_k(b, n + len + 1, false, ALL_INSNS);
        assert_int_equal(sa.result, RUN_HALT);
        assert_memory_equal(sa.r, sb.r, sizeof sa.r);
    }
}

/* Copy loops (src/cpu/copyloop.c: a 32-bit load, ADD r32, imm, a 32-bit store, CMP r32, imm and
 * a Jcc back to the load, run by the load's handler pass after pass), then a loop that sums the
 * copy (rotating, so the order counts) into ESI: cut by every budget in the middle of the passes
 * and of a pass, against the instruction hook's run. DATA's operand pairs are the words copied. */
static const uint8_t copy_basic[] = {
    0xBB, 0x00, 0xC0, 0x00, 0x00,             /* 00 mov ebx, DATA */
    0x31, 0xC0,                               /* 05 xor eax, eax */
    0x8B, 0x14, 0x03,                         /* 07 mov edx, [ebx + eax] */
    0x83, 0xC0, 0x04,                         /* 0A add eax, 4 */
    0x89, 0x90, 0xFC, 0xC0, 0x00, 0x00,       /* 0D mov [eax + DATA + 0xFC], edx */
    0x83, 0xF8, 0x48,                         /* 13 cmp eax, 72 */
    0x72, 0xEF,                               /* 16 jb 07 */
    0x31, 0xF6,                               /* 18 xor esi, esi */
    0x31, 0xC9,                               /* 1A xor ecx, ecx */
    0x03, 0xB4, 0x0B, 0x00, 0x01, 0x00, 0x00, /* 1C add esi, [ebx + ecx + 0x100] */
    0xD1, 0xC6,                               /* 23 rol esi, 1 */
    0x83, 0xC1, 0x04,                         /* 25 add ecx, 4 */
    0x83, 0xF9, 0x48,                         /* 28 cmp ecx, 72 */
    0x72, 0xEF,                               /* 2B jb 1C */
    0xF4,                                     /* 2D hlt */
};

/* The store 4 bytes above the load (JNE): each pass loads the word the one before stored. */
static const uint8_t copy_overlap[] = {
    0xBB, 0x00, 0xC0, 0x00, 0x00, /* 00 mov ebx, DATA */
    0x31, 0xC0,                   /* 05 xor eax, eax */
    0x8B, 0x14, 0x03,             /* 07 mov edx, [ebx + eax] */
    0x83, 0xC0, 0x04,             /* 0A add eax, 4 */
    0x89, 0x14, 0x03,             /* 0D mov [ebx + eax], edx */
    0x83, 0xF8, 0x20,             /* 10 cmp eax, 32 */
    0x75, 0xF2,                   /* 13 jne 07 */
    0x31, 0xF6,                   /* 15 xor esi, esi */
    0x31, 0xC9,                   /* 17 xor ecx, ecx */
    0x03, 0x34, 0x0B,             /* 19 add esi, [ebx + ecx] */
    0xD1, 0xC6,                   /* 1C rol esi, 1 */
    0x83, 0xC1, 0x04,             /* 1E add ecx, 4 */
    0x83, 0xF9, 0x24,             /* 21 cmp ecx, 36 */
    0x72, 0xF3,                   /* 24 jb 19 */
    0xF4,                         /* 26 hlt */
};

/* Scaled operands, a signed condition (JL: the loop's general version) and a source that
 * crosses a page boundary in the middle of a word (that pass off the fast path, the next ones on
 * it again). */
static const uint8_t copy_cross[] = {
    0xBB, 0xE6, 0xBF, 0x00, 0x00,             /* 00 mov ebx, 0xBFE6 */
    0x31, 0xC0,                               /* 05 xor eax, eax */
    0x8B, 0x14, 0x83,                         /* 07 mov edx, [ebx + eax * 4] */
    0x83, 0xC0, 0x01,                         /* 0A add eax, 1 */
    0x89, 0x14, 0x85, 0xFC, 0xDF, 0x00, 0x00, /* 0D mov [eax * 4 + 0xDFFC], edx */
    0x83, 0xF8, 0x0A,                         /* 14 cmp eax, 10 */
    0x7C, 0xEE,                               /* 17 jl 07 */
    0x31, 0xF6,                               /* 19 xor esi, esi */
    0xB9, 0x01, 0x00, 0x00, 0x00,             /* 1B mov ecx, 1 */
    0x03, 0x34, 0x8D, 0xFC, 0xDF, 0x00, 0x00, /* 20 add esi, [ecx * 4 + 0xDFFC] */
    0xD1, 0xC6,                               /* 27 rol esi, 1 */
    0x41,                                     /* 29 inc ecx */
    0x83, 0xF9, 0x0B,                         /* 2A cmp ecx, 11 */
    0x7C, 0xF1,                               /* 2D jl 20 */
    0xF4,                                     /* 2F hlt */
};

/* A copy of the program's first 32 bytes onto themselves, the loop among them: every store is
 * into a code page (the slow path, which ends the block and drops it). */
static const uint8_t copy_smc[] = {
    0xBB, 0x00, 0x80, 0x00, 0x00, /* 00 mov ebx, CODE */
    0x31, 0xC0,                   /* 05 xor eax, eax */
    0x8B, 0x14, 0x03,             /* 07 mov edx, [ebx + eax] */
    0x83, 0xC0, 0x04,             /* 0A add eax, 4 */
    0x89, 0x54, 0x03, 0xFC,       /* 0D mov [ebx + eax - 4], edx */
    0x83, 0xF8, 0x20,             /* 11 cmp eax, 32 */
    0x72, 0xF1,                   /* 14 jb 07 */
    0x31, 0xF6,                   /* 16 xor esi, esi */
    0xF4,                         /* 18 hlt */
};

/* A loop whose registers mix (the loop's general version): the store writes the ADD's register
 * and the CMP compares the loaded one (JNE: up to the word 0x8001). */
static const uint8_t copy_general[] = {
    0xBB, 0x00, 0xC0, 0x00, 0x00,                   /* 00 mov ebx, DATA */
    0x31, 0xC0,                                     /* 05 xor eax, eax */
    0x8B, 0x14, 0x03,                               /* 07 mov edx, [ebx + eax] */
    0x83, 0xC0, 0x04,                               /* 0A add eax, 4 */
    0x89, 0x84, 0x03, 0xFC, 0x00, 0x00, 0x00,       /* 0D mov [ebx + eax + 0xFC], eax */
    0x81, 0xFA, 0x01, 0x80, 0x00, 0x00,             /* 14 cmp edx, 0x8001 */
    0x75, 0xEB,                                     /* 1A jne 07 */
    0x31, 0xF6,                                     /* 1C xor esi, esi */
    0x31, 0xC9,                                     /* 1E xor ecx, ecx */
    0x03, 0xB4, 0x0B, 0x00, 0x01, 0x00, 0x00,       /* 20 add esi, [ebx + ecx + 0x100] */
    0xD1, 0xC6,                                     /* 27 rol esi, 1 */
    0x83, 0xC1, 0x04,                               /* 29 add ecx, 4 */
    0x83, 0xF9, 0x40,                               /* 2C cmp ecx, 64 */
    0x72, 0xEF,                                     /* 2F jb 20 */
    0xF4,                                           /* 31 hlt */
};

static void test_copy_loop(void **state)
{
    (void)state;
    CHECK(copy_basic);
    CHECK(copy_overlap);
    CHECK(copy_cross);
    CHECK(copy_smc);
    CHECK(copy_general);
    struct state s = run_k(copy_basic, sizeof copy_basic, false, ALL_INSNS);
    assert_int_equal(s.icount, 2 + 18 * 5 + 2 + 18 * 5 + 1);
    assert_int_equal(s.eflags & (FL_CF | FL_ZF), FL_ZF); /* cmp ecx, 72 at 72 */
    s = run_k(copy_overlap, sizeof copy_overlap, false, ALL_INSNS);
    uint32_t first = pairs[0][0], sum = 0;
    for (unsigned k = 0; k < 9; k++)
        sum = ((sum + first) << 1) | ((sum + first) >> 31);
    assert_int_equal(s.r[ESI], sum); /* the first word in all nine */
    s = run_k(copy_general, sizeof copy_general, false, ALL_INSNS);
    assert_int_equal(s.r[EAX], 16 * 4); /* 0x8001 is the 16th word */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loop_dec),
        cmocka_unit_test(test_loop_fault),
        cmocka_unit_test(test_loop_smc),
        cmocka_unit_test(test_loop_nested),
        cmocka_unit_test(test_loop_count),
        cmocka_unit_test(test_jump_in_block),
        cmocka_unit_test(test_loop_cmp),
        cmocka_unit_test(test_fuse_fault),
        cmocka_unit_test(test_fuse_limit),
        cmocka_unit_test(test_fuse_block_end),
        cmocka_unit_test(test_fuse_all),
        cmocka_unit_test(test_fuse_pre),
        cmocka_unit_test(test_dead_flags),
        cmocka_unit_test(test_dead_each),
        cmocka_unit_test(test_copy_loop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
