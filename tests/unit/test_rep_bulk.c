/* REP MOVS and REP STOS in bulk (src/cpu/string.c, movs_bulk and stos_bulk): runs within one
 * page go at once, and the result must be the instruction's, element by element: both
 * directions, each size, runs across pages (with elements that straddle a page boundary) and
 * beyond a chunk, a fault in the middle (the registers as after the elements before it),
 * overlapping MOVS (a destination just above the source repeats the first elements), and a
 * store into decoded code (which must die). MOVS without REP in a loop (xv6's memmove: one
 * element per MOVS, through the host pointers when both TLB entries hit, movs_one_fast) gets
 * the same cases.
 *
 * The machine: 16 MiB of RAM, flat protected mode at CPL 0, paging on with the low 4 MiB
 * identity-mapped by 4 KiB pages (page directory at PD, its table at PT). Each test puts one
 * string instruction and a HLT at CODE and sets the registers directly. Every expected result
 * is computed here element by element (ref_movs, ref_stos).
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

#define RAM_SIZE (16u << 20)
#define CODE 0x4000u
#define PD 0x10000u
#define PT 0x11000u
#define DATA 0x20000u /* data pages from here on (identity-mapped) */

struct t {
    struct cpu c;
    struct bus bus;
    uint8_t *ram;
    uint8_t *want; /* the expected RAM */
    unsigned exceptions;
    struct trace_event fault; /* the first exception */
};

static void sink(void *ctx, const struct trace_event *e)
{
    struct t *t = ctx;
    if (e->kind == TR_EXCEPTION) {
        if (t->exceptions++ == 0)
            t->fault = *e;
        cpu_request_stop(&t->c);
    }
}

static void put32(uint8_t *ram, uint32_t pa, uint32_t v) { memcpy(ram + pa, &v, 4); }

static int setup(void **state)
{
    struct t *t = calloc(1, sizeof *t);
    if (!t)
        return -1;
    t->ram = calloc(RAM_SIZE, 1);
    t->want = calloc(RAM_SIZE, 1);
    if (!t->ram || !t->want)
        return -1;
    bus_init(&t->bus);
    if (cpu_init(&t->c, t->ram, RAM_SIZE, &t->bus))
        return -1;
    cpu_reset_protected_flat(&t->c, CODE);
    cpu_add_sink(&t->c, sink, t);
    for (uint32_t k = 0; k < 1024; k++)
        put32(t->ram, PT + 4 * k, (k << 12) | 0x3); /* present, writable, supervisor */
    put32(t->ram, PD, PT | 0x3);
    t->c.cr3 = PD;
    t->c.cr0 |= CR0_PG;
    t->c.r[ESP] = 0x9000;
    /* A GDT at 0x1000 (null, flat ring 0 code at 0x08) and an interrupt gate for #PF at IDT
     * entry 14 (the IDT is at 0) to a HLT at CODE + 0x100. */
    static const uint8_t gdt[16] = {0, 0, 0, 0, 0, 0, 0, 0,
                                    0xFF, 0xFF, 0x00, 0x00, 0x00, 0x9A, 0xCF, 0x00};
    memcpy(t->ram + 0x1000, gdt, sizeof gdt);
    t->c.gdtr.base = 0x1000;
    t->c.gdtr.limit = sizeof gdt - 1;
    t->c.idtr.base = 0;
    t->c.idtr.limit = 0x7FF;
    const uint32_t handler = CODE + 0x100;
    const uint8_t gate[8] = {handler & 0xFF, (handler >> 8) & 0xFF, 0x08, 0x00, 0x00, 0x8E,
                             (handler >> 16) & 0xFF, handler >> 24};
    memcpy(t->ram + 14 * 8, gate, sizeof gate);
    t->ram[handler] = 0xF4;
    /* Recognisable data in the data pages. */
    for (uint32_t a = DATA; a < DATA + 0x10000; a++)
        t->ram[a] = (uint8_t)(a * 7 + (a >> 8));
    cpu_flush_decoded(&t->c);
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    struct t *t = *state;
    cpu_free(&t->c);
    free(t->want);
    free(t->ram);
    free(t);
    return 0;
}

/* The instruction: REP MOVS or REP STOS of `size` bytes, then HLT. */
static void put_insn(struct t *t, bool movs, unsigned size)
{
    uint8_t code[4];
    unsigned n = 0;
    if (size == 2)
        code[n++] = 0x66;
    code[n++] = 0xF3;
    code[n++] = (uint8_t)((movs ? 0xA4 : 0xAA) + (size != 1));
    code[n++] = 0xF4;
    memcpy(t->ram + CODE, code, n);
    cpu_flush_decoded(&t->c);
}

/* What the instruction does, one element at a time, on t->want (a copy of RAM). */
static void ref_movs(uint8_t *m, uint32_t esi, uint32_t edi, uint32_t n, unsigned s, bool down)
{
    for (uint32_t k = 0; k < n; k++) {
        uint8_t e[4];
        memcpy(e, m + esi, s);
        memcpy(m + edi, e, s);
        esi += down ? -s : s;
        edi += down ? -s : s;
    }
}

static void ref_stos(uint8_t *m, uint32_t edi, uint32_t n, unsigned s, bool down, uint32_t v)
{
    for (uint32_t k = 0; k < n; k++) {
        memcpy(m + edi, &v, s);
        edi += down ? -s : s;
    }
}

/* Runs the instruction with these registers until the HLT (or a fault); returns the result. */
static enum run_result run(struct t *t, uint32_t esi, uint32_t edi, uint32_t ecx, uint32_t eax,
                           bool down)
{
    struct cpu *c = &t->c;
    c->r[ESI] = esi;
    c->r[EDI] = edi;
    c->r[ECX] = ecx;
    c->r[EAX] = eax;
    c->eip = CODE;
    c->halted = false;
    if (down)
        c->eflags |= FL_DF;
    else
        c->eflags &= ~FL_DF;
    return cpu_run(c, 1000000);
}

static void check_eax(struct t *t, bool movs, uint32_t esi, uint32_t edi, uint32_t n,
                      unsigned s, bool down, uint32_t eax)
{
    struct cpu *c = &t->c;
    memcpy(t->want, t->ram, RAM_SIZE);
    put_insn(t, movs, s);
    memcpy(t->want + CODE, t->ram + CODE, 16);
    if (movs)
        ref_movs(t->want, esi, edi, n, s, down);
    else
        ref_stos(t->want, edi, n, s, down, eax);
    assert_int_equal(run(t, esi, edi, n, eax, down), RUN_HALT);
    assert_int_equal(t->exceptions, 0);
    assert_int_equal(c->r[ECX], 0);
    uint32_t step = down ? (uint32_t)-(n * s) : n * s;
    assert_int_equal(c->r[EDI], edi + step);
    assert_int_equal(c->r[ESI], movs ? esi + step : esi);
    assert_int_equal(c->r[EAX], eax);
    assert_memory_equal(t->ram + DATA, t->want + DATA, 0x10000);
}

static void check(struct t *t, bool movs, uint32_t esi, uint32_t edi, uint32_t n, unsigned s,
                  bool down)
{
    check_eax(t, movs, esi, edi, n, s, down, 0xA1B2C3D4u);
}

static void test_stos_each_size_both_directions(void **state)
{
    struct t *t = *state;
    for (unsigned s = 1; s <= 4; s *= 2) {
        check(t, false, 0, DATA + 0x100, 300, s, false);
        check(t, false, 0, DATA + 0x2F00, 300, s, true);
        check(t, false, 0, DATA + 0x4001, 7, s, false); /* unaligned */
        /* One byte repeated in the element (filled like memset), with other bytes in EAX. */
        check_eax(t, false, 0, DATA + 0x5001, 700, s, false, 0x12340000u);
        check_eax(t, false, 0, DATA + 0x6FFE, 700, s, true, 0x77777777u);
        check_eax(t, false, 0, DATA + 0x8100, 700, s, false, 0x77770077u);
    }
}

static void test_movs_each_size_both_directions(void **state)
{
    struct t *t = *state;
    for (unsigned s = 1; s <= 4; s *= 2) {
        check(t, true, DATA + 0x100, DATA + 0x5200, 300, s, false);
        check(t, true, DATA + 0x2F00, DATA + 0x6F00, 300, s, true);
        check(t, true, DATA + 0x3003, DATA + 0x7001, 9, s, false); /* unaligned */
    }
}

/* Runs across several pages, with elements that straddle page boundaries, and longer than a
 * chunk (4096 elements: the instruction retires and restarts). */
static void test_runs_across_pages_and_chunks(void **state)
{
    struct t *t = *state;
    for (unsigned s = 1; s <= 4; s *= 2) {
        uint32_t n = 0x9000 / s;
        check(t, false, 0, DATA + 0x802, n, s, false);
        check(t, false, 0, DATA + 0xF7FF, n, s, true);
        check(t, true, DATA + 0x1001, DATA + 0x3FFD, 0xA000 / s, s, false);
        check(t, true, DATA + 0xEFFF, DATA + 0xCFFE, 0xA000 / s, s, true);
    }
    /* The source and destination in the same page and the same TLB entry. */
    check(t, true, DATA + 0x10, DATA + 0x800, 0x100, 4, false);
}

/* A page that is not present in the middle of a run: #PF at its first element, with ESI, EDI
 * and ECX as after the elements before it, those elements stored, the rest not, and the fault
 * at the instruction. */
static void test_fault_mid_run(void **state)
{
    struct t *t = *state;
    struct cpu *c = &t->c;
    const uint32_t hole = DATA + 0x3000;
    put32(t->ram, PT + 4 * (hole >> 12), 0); /* not present */
    for (int movs = 0; movs <= 1; movs++) {
        for (unsigned s = 1; s <= 4; s *= 2) {
            t->exceptions = 0;
            cpu_flush_decoded(c);
            memcpy(t->want, t->ram, RAM_SIZE);
            put_insn(t, movs, s);
            uint32_t edi = hole - 0x800, esi = DATA + 0x100, n = 0x1000 / s;
            uint32_t before = 0x800 / s; /* the elements before the hole */
            if (movs)
                ref_movs(t->want, esi, edi, before, s, false);
            else
                ref_stos(t->want, edi, before, s, false, 0x5A5A5A5Au);
            memcpy(t->want + CODE, t->ram + CODE, 16);
            assert_int_equal(run(t, esi, edi, n, 0x5A5A5A5Au, false), RUN_STOP);
            assert_int_equal(t->exceptions, 1);
            assert_int_equal(t->fault.vector, EXC_PF);
            assert_int_equal(t->fault.cr2, hole);
            assert_int_equal(t->fault.before.eip, CODE);
            assert_int_equal(t->fault.before.r[ECX], n - before);
            assert_int_equal(t->fault.before.r[EDI], hole);
            assert_int_equal(t->fault.before.r[ESI], movs ? esi + before * s : esi);
            assert_memory_equal(t->ram + DATA, t->want + DATA, hole - DATA);
            /* A fault on the source side (MOVS): a read of the hole. */
            if (movs) {
                t->exceptions = 0;
                memcpy(t->want, t->ram, RAM_SIZE);
                ref_movs(t->want, hole - 0x10, DATA + 0x100, 0x10 / s, s, false);
                assert_int_equal(run(t, hole - 0x10, DATA + 0x100, 100, 0, false), RUN_STOP);
                assert_int_equal(t->exceptions, 1);
                assert_int_equal(t->fault.vector, EXC_PF);
                assert_int_equal(t->fault.cr2, hole);
                assert_int_equal(t->fault.before.r[ECX], 100 - 0x10 / s);
                assert_int_equal(t->fault.before.r[ESI], hole);
                assert_int_equal(t->fault.before.r[EDI], DATA + 0x100 + 0x10);
                assert_memory_equal(t->ram + DATA, t->want + DATA, hole - DATA);
            }
        }
    }
}

/* Overlapping MOVS behaves element by element: a destination just above the source (DF = 0)
 * or just below it (DF = 1) repeats the first elements; the other overlaps move the data. */
static void test_movs_overlap(void **state)
{
    struct t *t = *state;
    for (unsigned s = 1; s <= 4; s *= 2) {
        check(t, true, DATA + 0x100, DATA + 0x101, 200, s, false);
        check(t, true, DATA + 0x100, DATA + 0x100 + s, 200, s, false);
        check(t, true, DATA + 0x100, DATA + 0x103, 200, s, false);
        check(t, true, DATA + 0x101, DATA + 0x100, 200, s, false);
        check(t, true, DATA + 0x900, DATA + 0x8FF, 200, s, true);
        check(t, true, DATA + 0x900, DATA + 0x900 - s, 200, s, true);
        check(t, true, DATA + 0x8FF, DATA + 0x900, 200, s, true);
        check(t, true, DATA + 0x100, DATA + 0x100, 200, s, false); /* onto itself */
    }
}

/* A page mapped twice: the overlap is in physical memory, not in linear addresses. */
static void test_movs_overlap_through_an_alias(void **state)
{
    struct t *t = *state;
    const uint32_t alias = 0x300000u; /* maps DATA's first page */
    put32(t->ram, PT + 4 * (alias >> 12), DATA | 0x3);
    memcpy(t->want, t->ram, RAM_SIZE);
    put_insn(t, true, 1);
    memcpy(t->want + CODE, t->ram + CODE, 16);
    /* The source through the alias, the destination one byte above it through DATA. */
    for (uint32_t k = 0; k < 100; k++)
        t->want[DATA + 0x201 + k] = t->want[DATA + 0x200];
    assert_int_equal(run(t, alias + 0x200, DATA + 0x201, 100, 0, false), RUN_HALT);
    assert_int_equal(t->exceptions, 0);
    assert_memory_equal(t->ram + DATA, t->want + DATA, 0x1000);
}

/* A REP STOS over decoded code: the code dies and the new bytes run. The code at CODE + 0x40
 * (mov eax, 1; hlt) is run first, so it is decoded; then a REP STOS in the same page fills the
 * MOV's first four bytes with NOPs (its fifth is made a NOP behind the decoder's back) and jumps
 * there: EAX must keep the 0x90909090 stored, not become 1. */
static void test_stos_into_decoded_code(void **state)
{
    struct t *t = *state;
    struct cpu *c = &t->c;
    static const uint8_t code_b[] = {0xF3, 0xAA, 0xEB, 0x3C};       /* rep stosb; jmp 0x4040 */
    static const uint8_t code_w[] = {0x66, 0xF3, 0xAB, 0xEB, 0x3B}; /* rep stosw; jmp 0x4040 */
    static const uint8_t code_d[] = {0xF3, 0xAB, 0xEB, 0x3C};       /* rep stosd; jmp 0x4040 */
    static const uint8_t target[] = {
        0xB8, 0x01, 0x00, 0x00, 0x00, /* 4040 mov eax, 1 */
        0xF4,                         /* 4045 hlt */
    };
    for (unsigned s = 1; s <= 4; s *= 2) {
        if (s == 1)
            memcpy(t->ram + CODE, code_b, sizeof code_b);
        else if (s == 2)
            memcpy(t->ram + CODE, code_w, sizeof code_w);
        else
            memcpy(t->ram + CODE, code_d, sizeof code_d);
        memcpy(t->ram + CODE + 0x40, target, sizeof target);
        cpu_flush_decoded(c);
        c->eip = CODE + 0x40;
        c->halted = false;
        assert_int_equal(cpu_run(c, 1000), RUN_HALT);
        assert_int_equal(c->r[EAX], 1); /* decoded and run */
        t->ram[CODE + 0x44] = 0x90;
        assert_int_equal(run(t, 0, CODE + 0x40, 4 / s, 0x90909090u, false), RUN_HALT);
        assert_int_equal(t->exceptions, 0);
        assert_int_equal(c->r[EAX], 0x90909090u); /* the MOV did not run again */
        assert_int_equal(c->r[ECX], 0);
        assert_int_equal(c->r[EDI], CODE + 0x44);
    }
}

/* ---- MOVS without REP: a loop of "movs; dec ecx; jnz back; hlt" at CODE ---- */

static void put_movs_loop(struct t *t, unsigned size)
{
    static const uint8_t b[] = {0xA4, 0x49, 0x75, 0xFC, 0xF4};
    static const uint8_t w[] = {0x66, 0xA5, 0x49, 0x75, 0xFB, 0xF4};
    static const uint8_t d[] = {0xA5, 0x49, 0x75, 0xFC, 0xF4};
    if (size == 1)
        memcpy(t->ram + CODE, b, sizeof b);
    else if (size == 2)
        memcpy(t->ram + CODE, w, sizeof w);
    else
        memcpy(t->ram + CODE, d, sizeof d);
    cpu_flush_decoded(&t->c);
}

static void check_loop(struct t *t, uint32_t esi, uint32_t edi, uint32_t n, unsigned s,
                       bool down)
{
    struct cpu *c = &t->c;
    t->exceptions = 0;
    memcpy(t->want, t->ram, RAM_SIZE);
    put_movs_loop(t, s);
    memcpy(t->want + CODE, t->ram + CODE, 16);
    ref_movs(t->want, esi, edi, n, s, down);
    assert_int_equal(run(t, esi, edi, n, 0, down), RUN_HALT);
    assert_int_equal(t->exceptions, 0);
    assert_int_equal(c->r[ECX], 0);
    uint32_t step = down ? (uint32_t)-(n * s) : n * s;
    assert_int_equal(c->r[EDI], edi + step);
    assert_int_equal(c->r[ESI], esi + step);
    assert_memory_equal(t->ram + DATA, t->want + DATA, 0x10000);
}

static void test_movs_loop(void **state)
{
    struct t *t = *state;
    for (unsigned s = 1; s <= 4; s *= 2) {
        check_loop(t, DATA + 0x100, DATA + 0x5200, 300, s, false);
        check_loop(t, DATA + 0x2F00, DATA + 0x6F00, 300, s, true);
        check_loop(t, DATA + 0x3003, DATA + 0x7001, 9, s, false);   /* unaligned */
        check_loop(t, DATA + 0x1001, DATA + 0x3FFD, 0x2000 / s, s, false); /* straddling */
        check_loop(t, DATA + 0xEFFF, DATA + 0xCFFE, 0x2000 / s, s, true);
        check_loop(t, DATA + 0x100, DATA + 0x101, 200, s, false);   /* overlapping */
        check_loop(t, DATA + 0x900, DATA + 0x8FF, 200, s, true);
    }
}

/* A hole in the middle of the loop's destination, then of its source: #PF at the MOVS with
 * the registers as after the elements before it. */
static void test_movs_loop_fault(void **state)
{
    struct t *t = *state;
    const uint32_t hole = DATA + 0x3000;
    put32(t->ram, PT + 4 * (hole >> 12), 0); /* not present */
    for (unsigned s = 1; s <= 4; s *= 2) {
        for (int src_side = 0; src_side <= 1; src_side++) {
            t->exceptions = 0;
            cpu_flush_decoded(&t->c);
            put_movs_loop(t, s);
            memcpy(t->want, t->ram, RAM_SIZE);
            uint32_t esi = src_side ? hole - 0x40 : DATA + 0x100;
            uint32_t edi = src_side ? DATA + 0x100 : hole - 0x40, n = 0x100 / s;
            uint32_t before = 0x40 / s;
            ref_movs(t->want, esi, edi, before, s, false);
            assert_int_equal(run(t, esi, edi, n, 0, false), RUN_STOP);
            assert_int_equal(t->exceptions, 1);
            assert_int_equal(t->fault.vector, EXC_PF);
            assert_int_equal(t->fault.cr2, hole);
            assert_int_equal(t->fault.before.eip, CODE);
            assert_int_equal(t->fault.before.r[ECX], n - before);
            assert_int_equal(t->fault.before.r[ESI], esi + before * s);
            assert_int_equal(t->fault.before.r[EDI], edi + before * s);
            assert_memory_equal(t->ram + DATA, t->want + DATA, hole - DATA);
        }
    }
}

/* The loop copying NOPs over decoded code (mov eax, 1 at CODE + 0x40, run first), with the
 * source's TLB entry warm and the code page's readable: the code dies, and running it again
 * keeps EAX. */
static void test_movs_loop_into_decoded_code(void **state)
{
    struct t *t = *state;
    struct cpu *c = &t->c;
    static const uint8_t target[] = {0xB8, 0x01, 0x00, 0x00, 0x00, 0xF4}; /* mov eax, 1; hlt */
    for (unsigned s = 1; s <= 4; s *= 2) {
        put_movs_loop(t, s);
        memcpy(t->ram + CODE + 0x40, target, sizeof target);
        memset(t->ram + DATA + 0x500, 0x90, 8);
        cpu_flush_decoded(c);
        c->eip = CODE + 0x40;
        c->halted = false;
        c->r[EAX] = 0;
        assert_int_equal(cpu_run(c, 1000), RUN_HALT);
        assert_int_equal(c->r[EAX], 1); /* decoded and run */
        t->exceptions = 0;
        /* the source's TLB entry warm, so that the first store could take the fast path */
        assert_int_equal(run(t, DATA + 0x500, DATA + 0x600, 4 / s, 7, false), RUN_HALT);
        assert_int_equal(run(t, DATA + 0x500, CODE + 0x40, 4 / s, 7, false), RUN_HALT);
        t->ram[CODE + 0x44] = 0x90;
        c->eip = CODE + 0x40;
        c->halted = false;
        assert_int_equal(cpu_run(c, 1000), RUN_HALT);
        assert_int_equal(t->exceptions, 0);
        assert_int_equal(c->r[EAX], 7); /* the MOV did not run again */
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_stos_each_size_both_directions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_movs_each_size_both_directions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_runs_across_pages_and_chunks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fault_mid_run, setup, teardown),
        cmocka_unit_test_setup_teardown(test_movs_overlap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_movs_overlap_through_an_alias, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stos_into_decoded_code, setup, teardown),
        cmocka_unit_test_setup_teardown(test_movs_loop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_movs_loop_fault, setup, teardown),
        cmocka_unit_test_setup_teardown(test_movs_loop_into_decoded_code, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
