/* Threaded dispatch (src/cpu/insn.h insn_next, exec.c run_block): in the middle of a decoded
 * block every handler runs the next instruction itself, as a tail call. Checked through the real
 * cpu (cpu_run):
 *
 *   - the paths that run one instruction on its own run exactly one: the block's last
 *     instruction (op_block_last, whatever its handler), every instruction under an instruction
 *     hook (one hook call per instruction) and a block the budget cuts short (slices of 1 and of
 *     7 instructions); a straight-line program with each kind of handler (plain, by operand form,
 *     the stack fast paths, dead flags, a compare fused with a Jcc not taken) at the end of a
 *     64-instruction block in turn ends in the state a model of it gives;
 *   - the host stack: a device access after 62 instructions of one block, or after a loop of
 *     one block (a Jcc back to its block's start runs the block again from its handler:
 *     control.c jcc_taken) has run 100000 times, is no deeper than after none by more than
 *     THREAD_NEST_MAX instructions' handler frames, nor after two blocks have jumped to each other
 *     100000 times (control.c jcc_jump) (with sibling calls, the RelWithDebInfo build
 *     without sanitizers, by no more than a few words); the loop's count and result exact.
 *
 * The machine: 1 MiB of RAM, the flat protected mode a Multiboot loader leaves, CPL 0, no paging,
 * the code at CODE, data at DATA, a device at MMIO (beyond RAM).
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
#include "devices/bus.h"

#define RAM_SIZE (1u << 20)
#define CODE 0x8000u
#define DATA 0xC000u
#define MMIO 0x200000u
#define REPEAT 10u

struct t {
    struct cpu c;
    struct bus bus;
    uint8_t *ram;
    uint64_t hooks;
    uintptr_t frame; /* the host frame address at the device access */
};

static void hook(void *ctx, struct cpu *c, uint32_t lin_eip)
{
    (void)c;
    (void)lin_eip;
    ((struct t *)ctx)->hooks++;
}

static __attribute__((noinline)) uint32_t mmio_rd(void *dev, uint32_t offset, unsigned size)
{
    (void)offset;
    (void)size;
    ((struct t *)dev)->frame = (uintptr_t)__builtin_frame_address(0);
    return 7;
}

static void mmio_wr(void *dev, uint32_t offset, uint32_t value, unsigned size)
{
    (void)dev;
    (void)offset;
    (void)value;
    (void)size;
}

static struct t *machine(const uint8_t *code, unsigned len, bool hooked)
{
    struct t *t = calloc(1, sizeof *t);
    assert_non_null(t);
    t->ram = calloc(RAM_SIZE, 1);
    assert_non_null(t->ram);
    bus_init(&t->bus);
    assert_int_equal(bus_add_mmio(&t->bus, MMIO, 0x1000, mmio_rd, mmio_wr, t), 0);
    assert_int_equal(cpu_init(&t->c, t->ram, RAM_SIZE, &t->bus), 0);
    cpu_reset_protected_flat(&t->c, CODE);
    if (hooked)
        assert_true(cpu_add_insn_hook(&t->c, hook, t) >= 0);
    memcpy(t->ram + CODE, code, len);
    cpu_flush_decoded(&t->c);
    t->c.eip = CODE;
    t->c.r[ESP] = 0x7000;
    return t;
}

static void done(struct t *t)
{
    cpu_free(&t->c);
    free(t->ram);
    free(t);
}

/* 14 instructions, each kind of handler: what the model below does. */
static const uint8_t pattern[] = {
    0x40,                               /* inc eax (dead flags) */
    0x83, 0xC3, 0x05,                   /* add ebx, 5 (by form) */
    0x89, 0xD9,                         /* mov ecx, ebx */
    0x8D, 0x7C, 0x19, 0x03,             /* lea edi, [ecx + ebx + 3] */
    0x53,                               /* push ebx (stack fast path) */
    0x5A,                               /* pop edx */
    0x39, 0xC0,                         /* cmp eax, eax (fused with the jne) */
    0x75, 0x02,                         /* jne +2: never taken */
    0x90,                               /* nop */
    0x90,                               /* nop */
    0x31, 0xC2,                         /* xor edx, eax */
    0x89, 0x15, 0x00, 0xC0, 0x00, 0x00, /* mov [DATA], edx */
    0x8B, 0x35, 0x00, 0xC0, 0x00, 0x00, /* mov esi, [DATA] */
    0xD1, 0xE7,                         /* shl edi, 1 */
};
#define PATTERN_INSNS 14u

/* pad NOPs, the pattern REPEAT times, HLT; returns the length. */
static unsigned program(uint8_t *code, unsigned pad)
{
    unsigned n = 0;
    for (unsigned k = 0; k < pad; k++)
        code[n++] = 0x90;
    for (unsigned k = 0; k < REPEAT; k++) {
        memcpy(code + n, pattern, sizeof pattern);
        n += sizeof pattern;
    }
    code[n++] = 0xF4;
    return n;
}

static void check_end(const struct t *t, unsigned pad, unsigned len, const char *how)
{
    const struct cpu *c = &t->c;
    uint32_t eax = 0, ebx = 0, ecx = 0, edx = 0, esi = 0, edi = 0;
    for (unsigned k = 0; k < REPEAT; k++) {
        eax++;
        ebx += 5;
        ecx = ebx;
        edi = (ecx + ebx + 3) << 1;
        edx = ebx ^ eax;
        esi = edx;
    }
    uint64_t insns = pad + REPEAT * PATTERN_INSNS + 1;
    if (c->r[EAX] != eax || c->r[EBX] != ebx || c->r[ECX] != ecx || c->r[EDX] != edx ||
        c->r[ESI] != esi || c->r[EDI] != edi || c->r[ESP] != 0x7000 || c->eip != CODE + len ||
        c->icount != insns) {
        print_error("%s, pad %u: eax %x ebx %x ecx %x edx %x esi %x edi %x esp %x eip %x "
                    "icount %llu (want %llu)\n",
                    how, pad, c->r[EAX], c->r[EBX], c->r[ECX], c->r[EDX], c->r[ESI], c->r[EDI],
                    c->r[ESP], c->eip, (unsigned long long)c->icount,
                    (unsigned long long)insns);
        fail();
    }
}

/* Every kind of handler at a block's end (64 instructions: pad shifts them), run whole, under a
 * hook, and in slices that cut blocks short. */
static void test_one_at_a_time(void **state)
{
    (void)state;
    uint8_t code[32 + REPEAT * sizeof pattern];
    for (unsigned pad = 0; pad < PATTERN_INSNS; pad++) {
        unsigned len = program(code, pad);

        struct t *t = machine(code, len, false);
        assert_int_equal(cpu_run(&t->c, 100000), RUN_HALT);
        check_end(t, pad, len, "whole");
        done(t);

        t = machine(code, len, true);
        assert_int_equal(cpu_run(&t->c, 100000), RUN_HALT);
        check_end(t, pad, len, "hooked");
        assert_int_equal(t->hooks, t->c.icount); /* one hook call per instruction */
        done(t);

        static const unsigned slices[] = {1, 7, 63, 64};
        for (unsigned s = 0; s < sizeof slices / sizeof slices[0]; s++) {
            t = machine(code, len, false);
            int r = RUN_LIMIT;
            for (unsigned n = 0; r == RUN_LIMIT && n < 1000; n++) {
                uint64_t before = t->c.icount;
                r = cpu_run(&t->c, slices[s]);
                if (r == RUN_LIMIT)
                    assert_int_equal(t->c.icount, before + slices[s]);
            }
            assert_int_equal(r, RUN_HALT);
            check_end(t, pad, len, "sliced");
            done(t);
        }
    }
}

/* The host frame of the device's read callback for `mov eax, [MMIO]` after `before` INC ECX in
 * the same block. */
static uintptr_t frame_after(unsigned before)
{
    uint8_t code[80];
    unsigned n = 0;
    for (unsigned k = 0; k < before; k++)
        code[n++] = 0x41; /* inc ecx */
    static const uint8_t tail[] = {0xA1, 0x00, 0x00, 0x20, 0x00, 0xF4}; /* mov eax, [MMIO]; hlt */
    memcpy(code + n, tail, sizeof tail);
    n += sizeof tail;
    struct t *t = machine(code, n, false);
    assert_int_equal(cpu_run(&t->c, 1000), RUN_HALT);
    assert_int_equal(t->c.r[EAX], 7);
    assert_int_equal(t->c.r[ECX], before);
    uintptr_t f = t->frame;
    done(t);
    assert_true(f != 0);
    return f;
}

static void check_depth(uintptr_t none, uintptr_t deep, const char *what, uintptr_t most)
{
    uintptr_t depth = none > deep ? none - deep : 0; /* the stack grows down */
    print_message("host stack below the dispatch loop's call after %s: %lu bytes\n", what,
                  (unsigned long)depth);
    assert_true(depth < most); /* nested: at most so many frames */
#ifdef RINGSIDE_SIBCALLS
    assert_true(depth <= 64u); /* sibling calls: the handlers replace each other's frames */
#endif
}

/* `mov ecx, 100000; L: [sub ecx, 1 | dec ecx]; jnz L; mov eax, [MMIO]; hlt`: the loop, with
 * a fused or a plain Jcc, runs 100000 times in its block; the device's read is after it. */
static uintptr_t frame_after_loop(bool fused)
{
    uint8_t code[32];
    unsigned n = 0;
    static const uint8_t head[] = {0xB9, 0xA0, 0x86, 0x01, 0x00}; /* mov ecx, 100000 */
    memcpy(code + n, head, sizeof head);
    n += sizeof head;
    if (fused) {
        static const uint8_t body[] = {0x83, 0xE9, 0x01, 0x75, 0xFB}; /* sub ecx, 1; jnz -5 */
        memcpy(code + n, body, sizeof body);
        n += sizeof body;
    } else {
        static const uint8_t body[] = {0x49, 0x75, 0xFD}; /* dec ecx; jnz -3 */
        memcpy(code + n, body, sizeof body);
        n += sizeof body;
    }
    static const uint8_t tail[] = {0xA1, 0x00, 0x00, 0x20, 0x00, 0xF4}; /* mov eax, [MMIO]; hlt */
    memcpy(code + n, tail, sizeof tail);
    n += sizeof tail;
    struct t *t = machine(code, n, false);
    assert_int_equal(cpu_run(&t->c, 1000000), RUN_HALT);
    assert_int_equal(t->c.r[EAX], 7);
    assert_int_equal(t->c.r[ECX], 0);
    assert_int_equal(t->c.icount, 1 + 2 * 100000 + 2);
    assert_int_equal(t->c.eip, CODE + n);
    uintptr_t f = t->frame;
    done(t);
    assert_true(f != 0);
    return f;
}

/* Two blocks that jump to each other (taken Jccs that are not loops of one block: their
 * direct links are followed from the Jcc's handler, control.c jcc_jump) 100000 times, then the
 * device's read in the same chain (after a Jcc not taken):
 *   0: mov ecx, 100000;  5: dec ecx; jnz 14; mov eax, [MMIO]; hlt;  14: xor eax, eax; jz 5 */
static uintptr_t frame_after_pingpong(void)
{
    static const uint8_t code[] = {
        0xB9, 0xA0, 0x86, 0x01, 0x00, 0x49, 0x75, 0x06, 0xA1, 0x00,
        0x00, 0x20, 0x00, 0xF4, 0x31, 0xC0, 0x74, 0xF3,
    };
    struct t *t = machine(code, sizeof code, false);
    assert_int_equal(cpu_run(&t->c, 1000000), RUN_HALT);
    assert_int_equal(t->c.r[EAX], 7);
    assert_int_equal(t->c.r[ECX], 0);
    assert_int_equal(t->c.icount, 1 + 4 * 99999 + 4);
    assert_int_equal(t->c.eip, CODE + 14);
    uintptr_t f = t->frame;
    done(t);
    assert_true(f != 0);
    return f;
}

static void test_stack_depth(void **state)
{
    (void)state;
    uintptr_t none = frame_after(0);
    check_depth(none, frame_after(62), "62 instructions", 64u * 1024u);
    /* a loop: THREAD_NEST_MAX instructions at most, then back to the dispatch loop */
    check_depth(none, frame_after_loop(true), "a fused loop", 1024u * 1024u);
    check_depth(none, frame_after_loop(false), "a loop", 1024u * 1024u);
    check_depth(none, frame_after_pingpong(), "two blocks jumping to each other", 1024u * 1024u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_at_a_time),
        cmocka_unit_test(test_stack_depth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
