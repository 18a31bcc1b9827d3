/* The memo of segment loads (src/cpu/segment.c, seg_load; cpu.seg_memo): a load repeated with the
 * same selector, descriptor bytes, CPL and kind of register skips the decoding and the checks,
 * and anything else is loaded and checked in full. Through the real cpu (cpu_run):
 *
 *   - the second MOV DS of the same selector gives the register what the first gave;
 *   - after the descriptor's bytes change in memory (a new base, then not present), the same
 *     selector loads the new descriptor, or faults (#NP) on it;
 *   - a selector sharing the memo's slot but with another RPL is checked: RPL 3 for a DPL 0
 *     data segment at CPL 0 is #GP(selector).
 *   - the fast path (seg_load reads the descriptor through the TLB, desc_peek) takes the memo
 *     only while the table still holds the descriptor: after the GDT limit shrinks below it the
 *     same selector is #GP(selector); after the GDT moves (the same bytes at another address)
 *     the load is made in full, and a change of the bytes at the new place is seen;
 *   - the memo of DS is not used for SS (another kind of register): a DPL 0 read-only data
 *     segment loads into DS but into SS is #GP(selector).
 *   - the memo check inline in MOV Sreg and POP Sreg (segment.h seg_memo_hit): the guest
 *     rewrites the GDT entry with a store (through the TLB) between two loads of DS, by MOV
 *     and by POP, in one block; the GDT moves to a copy whose entry differs while the old
 *     place still holds the memo's bytes (the memo's address is not the table's any more); an
 *     LDT selector's memo after the LDT moves, and after the LDTR is made unusable. The tables
 *     move, shrink and change by the guest's LGDT and LLDT, which drop every memo.
 *
 * The machine: 1 MiB of RAM, flat protected mode at CPL 0, no paging, a GDT at 0x1000 and an IDT
 * at 0 whose #GP and #NP gates lead to a HLT.
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
#define GDT 0x1000u
#define HANDLER (CODE + 0x100u)

struct t {
    struct cpu c;
    struct bus bus;
    uint8_t *ram;
    unsigned exceptions;
    uint8_t vector;
    uint32_t error;
};

static void sink(void *ctx, const struct trace_event *e)
{
    struct t *t = ctx;
    if (e->kind == TR_EXCEPTION && t->exceptions++ == 0) {
        t->vector = e->vector;
        t->error = e->error;
    }
}

static void put_desc(struct t *t, unsigned index, uint32_t base, uint32_t limit, uint8_t access,
                     uint8_t flags)
{
    uint8_t *p = t->ram + GDT + index * 8;
    p[0] = limit & 0xFF;
    p[1] = (limit >> 8) & 0xFF;
    p[2] = base & 0xFF;
    p[3] = (base >> 8) & 0xFF;
    p[4] = (base >> 16) & 0xFF;
    p[5] = access;
    p[6] = (uint8_t)((flags << 4) | ((limit >> 16) & 0xF));
    p[7] = base >> 24;
}

static void put_gate(struct t *t, unsigned vec)
{
    uint8_t gate[8] = {HANDLER & 0xFF, (HANDLER >> 8) & 0xFF, 0x08, 0x00, 0x00, 0x8E,
                       (HANDLER >> 16) & 0xFF, HANDLER >> 24};
    memcpy(t->ram + vec * 8, gate, sizeof gate);
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
    put_desc(t, 1, 0, 0xFFFFF, 0x9A, 0xC);      /* 0x08 ring 0 code */
    put_desc(t, 2, 0, 0xFFFFF, 0x93, 0xC);      /* 0x10 ring 0 data, accessed */
    t->c.gdtr.base = GDT;
    t->c.gdtr.limit = 3 * 8 - 1;
    put_gate(t, 11); /* #NP */
    put_gate(t, 13); /* #GP */
    t->ram[HANDLER] = 0xF4;
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

/* Loads DS with sel (mov ax, sel; mov ds, ax; hlt) and runs to the HLT. The code for each
 * selector has its own place (written once, the same bytes every time), so that nothing is
 * flushed between loads: the TLB stays warm and a repeated load takes the memo's fast path
 * (segment.h seg_memo_hit), whose checks these tests are about. */
static void load_ds(struct t *t, uint16_t sel)
{
    const uint8_t code[] = {0x66, 0xB8, sel & 0xFF, sel >> 8, 0x8E, 0xD8, 0xF4};
    uint32_t at = CODE + 0x400 + (sel & 0xFF) * 8u;
    memcpy(t->ram + at, code, sizeof code);
    t->c.eip = at;
    t->c.halted = false;
    t->exceptions = 0;
    assert_int_equal(cpu_run(&t->c, 100), RUN_HALT);
}

static void test_repeat_gives_the_same(void **state)
{
    struct t *t = *state;
    load_ds(t, 0x10);
    assert_int_equal(t->exceptions, 0);
    struct segment first = t->c.seg[SEG_DS];
    t->c.seg[SEG_DS] = (struct segment){0};
    load_ds(t, 0x10);
    assert_int_equal(t->exceptions, 0);
    assert_int_equal(t->c.seg[SEG_DS].sel, first.sel);
    assert_int_equal(t->c.seg[SEG_DS].base, first.base);
    assert_int_equal(t->c.seg[SEG_DS].limit, first.limit);
    assert_int_equal(t->c.seg[SEG_DS].attr, first.attr);
    assert_int_equal(t->c.seg[SEG_DS].flat, first.flat);
    assert_true(first.flat);
}

static void test_changed_descriptor_is_read_again(void **state)
{
    struct t *t = *state;
    load_ds(t, 0x10);
    assert_int_equal(t->c.seg[SEG_DS].base, 0);
    put_desc(t, 2, 0x12345000u, 0xFF, 0x93, 0x4); /* a new base and a 256-byte limit */
    load_ds(t, 0x10);
    assert_int_equal(t->exceptions, 0);
    assert_int_equal(t->c.seg[SEG_DS].base, 0x12345000u);
    assert_int_equal(t->c.seg[SEG_DS].limit, 0xFF);
    assert_false(t->c.seg[SEG_DS].flat);
    put_desc(t, 2, 0x12345000u, 0xFF, 0x13, 0x4); /* not present */
    load_ds(t, 0x10);
    assert_int_equal(t->exceptions, 1);
    assert_int_equal(t->vector, 11);
    assert_int_equal(t->error, 0x10);
}

static void test_other_rpl_is_checked(void **state)
{
    struct t *t = *state;
    load_ds(t, 0x10);
    assert_int_equal(t->exceptions, 0);
    load_ds(t, 0x13); /* the same descriptor with RPL 3: max(CPL, RPL) > DPL 0 */
    assert_int_equal(t->exceptions, 1);
    assert_int_equal(t->vector, 13);
    assert_int_equal(t->error, 0x10);
    assert_int_equal(t->c.seg[SEG_DS].sel, 0x10);
}

/* mov eax, [GDT]; mov eax, [LDT] */
#define TOUCH_TABLES 0xA1, 0x00, 0x10, 0x00, 0x00, 0xA1, 0x00, 0x30, 0x00, 0x00
static void guest_lgdt(struct t *t, uint32_t base, uint16_t limit);
static void guest_lldt(struct t *t, uint16_t sel);

static void test_shrunk_table_faults(void **state)
{
    struct t *t = *state;
    load_ds(t, 0x10);
    assert_int_equal(t->exceptions, 0);
    guest_lgdt(t, GDT, 2 * 8 - 1); /* descriptor 2 is now beyond the limit */
    load_ds(t, 0x10);
    assert_int_equal(t->exceptions, 1);
    assert_int_equal(t->vector, 13);
    assert_int_equal(t->error, 0x10);
}

static void test_moved_table(void **state)
{
    struct t *t = *state;
    load_ds(t, 0x10);
    assert_int_equal(t->exceptions, 0);
    memcpy(t->ram + GDT + 0x800, t->ram + GDT, 3 * 8);
    memset(t->ram + GDT, 0, 3 * 8); /* the old place no longer holds the descriptors */
    guest_lgdt(t, GDT + 0x800, 3 * 8 - 1);
    load_ds(t, 0x10);
    assert_int_equal(t->exceptions, 0);
    assert_true(t->c.seg[SEG_DS].flat);
    t->ram[GDT + 0x800 + 2 * 8 + 4] = 0x20; /* base 23:16 at the new place */
    load_ds(t, 0x10);
    assert_int_equal(t->exceptions, 0);
    assert_int_equal(t->c.seg[SEG_DS].base, 0x200000u);
    assert_false(t->c.seg[SEG_DS].flat);
}

static void test_ds_memo_not_for_ss(void **state)
{
    struct t *t = *state;
    put_desc(t, 2, 0, 0xFFFFF, 0x91, 0xC); /* read-only data, accessed */
    load_ds(t, 0x10);
    assert_int_equal(t->exceptions, 0);
    /* mov ax, 0x10; mov ds, ax; mov ss, ax; hlt (the TLB warm for the MOV SS) */
    const uint8_t code[] = {0x66, 0xB8, 0x10, 0x00, 0x8E, 0xD8, 0x8E, 0xD0, 0xF4};
    memcpy(t->ram + CODE, code, sizeof code);
    cpu_flush_decoded(&t->c);
    t->c.eip = CODE;
    t->c.halted = false;
    assert_int_equal(cpu_run(&t->c, 100), RUN_HALT);
    assert_int_equal(t->exceptions, 1);
    assert_int_equal(t->vector, 13);
    assert_int_equal(t->error, 0x10);
}

/* Runs code at CODE to its HLT. */
static void run_code(struct t *t, const uint8_t *code, size_t n)
{
    memcpy(t->ram + CODE, code, n);
    cpu_flush_decoded(&t->c);
    t->c.eip = CODE;
    t->c.halted = false;
    t->exceptions = 0;
    assert_int_equal(cpu_run(&t->c, 100), RUN_HALT);
}

/* Runs code at `at` to its HLT, as load_ds does: the same bytes at each place every time, so
 * that nothing is flushed and the TLB stays warm (the memos' descriptors readable through it). */
static void run_at(struct t *t, uint32_t at, const uint8_t *code, size_t n)
{
    memcpy(t->ram + at, code, n);
    t->c.eip = at;
    t->c.halted = false;
    t->exceptions = 0;
    assert_int_equal(cpu_run(&t->c, 100), RUN_HALT);
}

/* The guest's LGDT (lgdt [CODE + 0x300]; reads of the pages of the GDT and the LDT, so that
 * the TLB maps them whatever ran before; hlt): the table moves or shrinks the way a guest moves
 * or shrinks it, which drops every memo (segment.h seg_memo_clear). */
static void guest_lgdt(struct t *t, uint32_t base, uint16_t limit)
{
    const uint32_t m = CODE + 0x300;
    t->ram[m] = limit & 0xFF;
    t->ram[m + 1] = limit >> 8;
    memcpy(t->ram + m + 2, &base, 4);
    const uint8_t code[] = {0x0F, 0x01, 0x15, m & 0xFF, (m >> 8) & 0xFF, (m >> 16) & 0xFF,
                            m >> 24, TOUCH_TABLES, 0xF4};
    run_at(t, CODE + 0x200, code, sizeof code);
    assert_int_equal(t->exceptions, 0);
    assert_int_equal(t->c.gdtr.base, base);
    assert_int_equal(t->c.gdtr.limit, limit);
}

/* The guest's LLDT (mov ax, sel; lldt ax; the same reads; hlt). */
static void guest_lldt(struct t *t, uint16_t sel)
{
    const uint8_t code[] = {0x66, 0xB8, sel & 0xFF, sel >> 8, 0x0F, 0x00, 0xD0, TOUCH_TABLES,
                            0xF4};
    run_at(t, CODE + 0x240 + (sel >> 3) * 0x20u, code, sizeof code);
    assert_int_equal(t->exceptions, 0);
    assert_int_equal(t->c.ldtr.sel, sel);
}

/* mov ax, 0x10; mov ds, ax; mov dword [GDT + 0x14], HI; mov ds, ax; hlt: the second load, in
 * the same block, sees the descriptor the guest just wrote (base 23:16 = 0x34). */
static void test_guest_store_then_mov(void **state)
{
    struct t *t = *state;
    load_ds(t, 0x10); /* the memo */
    assert_true(t->c.seg[SEG_DS].flat);
    uint32_t hi = 0x00CF9334u; /* base 23:16 = 0x34, present DPL 0 data, accessed */
    uint32_t a = GDT + 0x14;
    const uint8_t code[] = {0x66, 0xB8, 0x10, 0x00, 0x8E, 0xD8,
                            0xC7, 0x05, a & 0xFF, (a >> 8) & 0xFF, (a >> 16) & 0xFF, a >> 24,
                            hi & 0xFF, (hi >> 8) & 0xFF, (hi >> 16) & 0xFF, hi >> 24,
                            0x8E, 0xD8, 0xF4};
    run_code(t, code, sizeof code);
    assert_int_equal(t->exceptions, 0);
    assert_int_equal(t->c.seg[SEG_DS].base, 0x340000u);
    assert_false(t->c.seg[SEG_DS].flat);
}

/* The same by POP DS: push 0x10; pop ds; (the store); push 0x10; pop ds; hlt. The stack is
 * below CODE. */
static void test_guest_store_then_pop(void **state)
{
    struct t *t = *state;
    load_ds(t, 0x10);
    t->c.r[ESP] = CODE - 0x100;
    uint32_t hi = 0x00CF9334u;
    uint32_t a = GDT + 0x14;
    const uint8_t code[] = {0x6A, 0x10, 0x1F,
                            0xC7, 0x05, a & 0xFF, (a >> 8) & 0xFF, (a >> 16) & 0xFF, a >> 24,
                            hi & 0xFF, (hi >> 8) & 0xFF, (hi >> 16) & 0xFF, hi >> 24,
                            0x6A, 0x10, 0x1F, 0xF4};
    run_code(t, code, sizeof code);
    assert_int_equal(t->exceptions, 0);
    assert_int_equal(t->c.seg[SEG_DS].base, 0x340000u);
    assert_int_equal(t->c.r[ESP], CODE - 0x100);
    /* and a not-present descriptor written the same way faults at the second POP */
    load_ds(t, 0x10);
    t->c.r[ESP] = CODE - 0x100;
    hi = 0x00CF1300u; /* P = 0 */
    const uint8_t code2[] = {0x6A, 0x10, 0x1F,
                             0xC7, 0x05, a & 0xFF, (a >> 8) & 0xFF, (a >> 16) & 0xFF, a >> 24,
                             hi & 0xFF, (hi >> 8) & 0xFF, (hi >> 16) & 0xFF, hi >> 24,
                             0x6A, 0x10, 0x1F, 0xF4};
    put_desc(t, 2, 0, 0xFFFFF, 0x93, 0xC);
    run_code(t, code2, sizeof code2);
    assert_int_equal(t->exceptions, 1);
    assert_int_equal(t->vector, 11);
    assert_int_equal(t->error, 0x10);
    /* the faulting POP popped nothing: below its slot, the #NP frame (error code, EIP of
     * the POP, CS, EFLAGS) */
    uint32_t sp = t->c.r[ESP];
    assert_int_equal(sp, CODE - 0x100 - 4 - 16);
    uint32_t eip;
    memcpy(&eip, t->ram + sp + 4, 4);
    assert_int_equal(eip, CODE + 15);
    assert_int_equal(t->c.seg[SEG_DS].sel, 0x10);
    assert_true(t->c.seg[SEG_DS].flat); /* DS as the first POP left it */
}

/* The GDT moves to a copy whose entry 2 has another base; the old place keeps the memo's
 * bytes. The load must take the new table's descriptor. */
static void test_moved_table_old_bytes_kept(void **state)
{
    struct t *t = *state;
    load_ds(t, 0x10);
    assert_true(t->c.seg[SEG_DS].flat);
    memcpy(t->ram + GDT + 0x800, t->ram + GDT, 3 * 8);
    t->ram[GDT + 0x800 + 2 * 8 + 4] = 0x56; /* base 23:16 at the new place only */
    guest_lgdt(t, GDT + 0x800, 3 * 8 - 1);
    load_ds(t, 0x10);
    assert_int_equal(t->exceptions, 0);
    assert_int_equal(t->c.seg[SEG_DS].base, 0x560000u);
}

/* An LDT at 0x3000 (GDT entry 3 describes it), selector 0x0C (LDT entry 1). */
#define LDT 0x3000u
static void put_ldt_desc(struct t *t, uint32_t ldt, unsigned index, uint8_t base_16)
{
    uint8_t *p = t->ram + ldt + index * 8;
    const uint8_t d[8] = {0xFF, 0xFF, 0x00, 0x00, base_16, 0x93, 0xCF, 0x00};
    memcpy(p, d, 8);
}

static void test_ldt_memo(void **state)
{
    struct t *t = *state;
    put_ldt_desc(t, LDT, 1, 0x12);
    put_ldt_desc(t, LDT + 0x100, 1, 0x78);
    guest_lgdt(t, GDT, 4 * 8 - 1);
    put_desc(t, 3, LDT, 0xF, 0x82, 0x0); /* 0x18: the LDT, present */
    guest_lldt(t, 0x18);
    load_ds(t, 0x0C);
    assert_int_equal(t->exceptions, 0);
    assert_int_equal(t->c.seg[SEG_DS].base, 0x120000u);
    load_ds(t, 0x0C); /* the memo */
    assert_int_equal(t->c.seg[SEG_DS].base, 0x120000u);
    put_desc(t, 3, LDT + 0x100, 0xF, 0x82, 0x0); /* another LDT: its entry 1 has another base */
    guest_lldt(t, 0x18);
    load_ds(t, 0x0C);
    assert_int_equal(t->exceptions, 0);
    assert_int_equal(t->c.seg[SEG_DS].base, 0x780000u);
    guest_lldt(t, 0); /* no LDT: #GP(selector) */
    load_ds(t, 0x0C);
    assert_int_equal(t->exceptions, 1);
    assert_int_equal(t->vector, 13);
    assert_int_equal(t->error, 0x0C);
}

/* ---- Runs of segment-register pushes, loads and pops (sreg.c sreg_fuse): 2 to 4 in a row as
 * one handler when all are on their fast paths, else one by one ---- */

/* 0x18: a ring 0 data segment with base 0x1000 (accessed), the GDT grown to hold it (0x20 is
 * beyond its limit). */
static void add_data18(struct t *t)
{
    put_desc(t, 3, 0x1000, 0xFFFFF, 0x93, 0xC);
    guest_lgdt(t, GDT, 4 * 8 - 1);
}

static uint32_t rd32(const struct t *t, uint32_t a)
{
    uint32_t v;
    memcpy(&v, t->ram + a, 4);
    return v;
}

/* The pops take their selectors in order (GS first), the loads one selector into each of
 * four registers, the pushes write each register's selector in the low half of its slot
 * only; each run twice (cold: memos made one by one; warm: the runs' handlers), and once from
 * a stack whose slots straddle a page (one by one). */
static void test_runs(void **state)
{
    struct t *t = *state;
    add_data18(t);
    const uint8_t code[] = {
        0xBC, 0x00, 0x90, 0x00, 0x00,                   /* mov esp, 0x9000 */
        0x83, 0xEC, 0x10,                               /* sub esp, 16 */
        0xC7, 0x04, 0x24, 0x10, 0x00, 0x00, 0x00,       /* mov dword [esp], 0x10 */
        0xC7, 0x44, 0x24, 0x04, 0x18, 0x00, 0x00, 0x00, /* mov dword [esp + 4], 0x18 */
        0xC7, 0x44, 0x24, 0x08, 0x10, 0x00, 0x00, 0x00, /* mov dword [esp + 8], 0x10 */
        0xC7, 0x44, 0x24, 0x0C, 0x18, 0x00, 0x00, 0x00, /* mov dword [esp + 12], 0x18 */
        0x0F, 0xA9, 0x0F, 0xA1, 0x07, 0x1F,             /* pop gs; pop fs; pop es; pop ds */
        0x90, 0xF4,                                     /* nop; hlt */
    };
    for (int pass = 0; pass < 2; pass++) {
        run_at(t, CODE + 0x600, code, sizeof code);
        assert_int_equal(t->exceptions, 0);
        assert_int_equal(t->c.r[ESP], 0x9000);
        assert_int_equal(t->c.seg[SEG_GS].sel, 0x10);
        assert_int_equal(t->c.seg[SEG_FS].sel, 0x18);
        assert_int_equal(t->c.seg[SEG_ES].sel, 0x10);
        assert_int_equal(t->c.seg[SEG_DS].sel, 0x18);
        assert_int_equal(t->c.seg[SEG_FS].base, 0x1000);
        assert_int_equal(t->c.seg[SEG_DS].base, 0x1000);
        assert_true(t->c.seg[SEG_GS].flat);
        assert_false(t->c.seg[SEG_DS].flat);
    }
    const uint8_t movs[] = {
        0x66, 0xB8, 0x18, 0x00,                         /* mov ax, 0x18 */
        0x8E, 0xD8, 0x8E, 0xC0, 0x8E, 0xE0, 0x8E, 0xE8, /* mov ds/es/fs/gs, ax */
        0x66, 0xB8, 0x10, 0x00, 0x8E, 0xE0, 0x8E, 0xD8, /* mov ax, 0x10; mov fs, ax; mov ds, ax */
        0x90, 0xF4,                                     /* nop; hlt */
    };
    for (int pass = 0; pass < 2; pass++) {
        t->c.r[EAX] = 0;
        run_at(t, CODE + 0x680, movs, sizeof movs);
        assert_int_equal(t->exceptions, 0);
        assert_int_equal(t->c.seg[SEG_ES].sel, 0x18);
        assert_int_equal(t->c.seg[SEG_GS].sel, 0x18);
        assert_int_equal(t->c.seg[SEG_GS].base, 0x1000);
        assert_int_equal(t->c.seg[SEG_FS].sel, 0x10);
        assert_int_equal(t->c.seg[SEG_DS].sel, 0x10);
        assert_true(t->c.seg[SEG_DS].flat);
    }
    /* push es; push cs; push ss; push ds; push fs; push gs (ES, GS 0x18; the others 0x10) */
    const uint8_t pushes[] = {0x06, 0x0E, 0x16, 0x1E, 0x0F, 0xA0, 0x0F, 0xA8, 0x90, 0xF4};
    const uint32_t tops[] = {0x9000, 0x9000, 0x900C};
    for (int pass = 0; pass < 3; pass++) {
        uint32_t top = tops[pass];
        memset(t->ram + top - 24, 0xAA, 24);
        t->c.r[ESP] = top;
        run_at(t, CODE + 0x700, pushes, sizeof pushes);
        assert_int_equal(t->exceptions, 0);
        assert_int_equal(t->c.r[ESP], top - 24);
        const uint32_t want[] = {0xAAAA0018u, 0xAAAA0008u, 0xAAAA0010u,
                                 0xAAAA0010u, 0xAAAA0010u, 0xAAAA0018u};
        for (unsigned k = 0; k < 6; k++)
            assert_int_equal(rd32(t, top - 4 * (k + 1)), want[k]);
    }
}

/* A fault in the middle of a run of pops is the faulting POP's, with the pops before it done
 * and nothing after: the third selector (0x20) is beyond the GDT's limit, #GP(0x20) at that
 * POP's address, GS and FS loaded, ES and DS as they were, ESP past two slots. Twice: the
 * second time the first two selectors' memos are there (the run's handler finds the miss). */
static void test_run_fault_in_the_middle(void **state)
{
    struct t *t = *state;
    add_data18(t);
    const uint8_t code[] = {
        0x66, 0xB8, 0x18, 0x00, 0x8E, 0xC0, 0x8E, 0xD8, /* mov ax, 0x18; mov es, ax; mov ds, ax */
        0xBC, 0xF0, 0x8F, 0x00, 0x00,                   /* mov esp, 0x8FF0 */
        0xC7, 0x04, 0x24, 0x10, 0x00, 0x00, 0x00,       /* mov dword [esp], 0x10 */
        0xC7, 0x44, 0x24, 0x04, 0x10, 0x00, 0x00, 0x00, /* mov dword [esp + 4], 0x10 */
        0xC7, 0x44, 0x24, 0x08, 0x20, 0x00, 0x00, 0x00, /* mov dword [esp + 8], 0x20 */
        0xC7, 0x44, 0x24, 0x0C, 0x10, 0x00, 0x00, 0x00, /* mov dword [esp + 12], 0x10 */
        0x0F, 0xA9, 0x0F, 0xA1, 0x07, 0x1F,             /* pop gs; pop fs; pop es; pop ds */
        0x90, 0xF4,                                     /* nop; hlt */
    };
    const uint32_t at = CODE + 0x780, pop_es = at + sizeof code - 4;
    for (int pass = 0; pass < 2; pass++) {
        run_at(t, at, code, sizeof code);
        assert_int_equal(t->exceptions, 1);
        assert_int_equal(t->vector, 13);
        assert_int_equal(t->error, 0x20);
        assert_int_equal(t->c.seg[SEG_GS].sel, 0x10);
        assert_int_equal(t->c.seg[SEG_FS].sel, 0x10);
        assert_int_equal(t->c.seg[SEG_ES].sel, 0x18);
        assert_int_equal(t->c.seg[SEG_DS].sel, 0x18);
        /* the #GP's frame below the stack the two pops left (0x8FF8): error, EIP */
        assert_int_equal(t->c.r[ESP], 0x8FF8 - 16);
        assert_int_equal(rd32(t, 0x8FF8 - 16), 0x20);
        assert_int_equal(rd32(t, 0x8FF8 - 12), pop_es);
    }
}

/* The budget ends in the middle of a run (warm memos, run_exact one by one): the state is that
 * of the instructions run, and the rest of the run follows in the next cpu_run. */
static void test_run_cut_by_budget(void **state)
{
    struct t *t = *state;
    add_data18(t);
    const uint8_t code[] = {
        0xBC, 0xF0, 0x8F, 0x00, 0x00,                   /* mov esp, 0x8FF0 */
        0xC7, 0x04, 0x24, 0x18, 0x00, 0x00, 0x00,       /* mov dword [esp], 0x18 */
        0xC7, 0x44, 0x24, 0x04, 0x18, 0x00, 0x00, 0x00, /* mov dword [esp + 4], 0x18 */
        0xC7, 0x44, 0x24, 0x08, 0x18, 0x00, 0x00, 0x00, /* mov dword [esp + 8], 0x18 */
        0xC7, 0x44, 0x24, 0x0C, 0x18, 0x00, 0x00, 0x00, /* mov dword [esp + 12], 0x18 */
        0x0F, 0xA9, 0x0F, 0xA1, 0x07, 0x1F,             /* pop gs; pop fs; pop es; pop ds */
        0x90, 0xF4,                                     /* nop; hlt */
    };
    const uint32_t at = CODE + 0x800;
    run_at(t, at, code, sizeof code); /* the memo of 0x18, the TLB warm */
    for (unsigned cut = 1; cut <= 4; cut++) {
        for (int s = 0; s < SEG_COUNT; s++)
            if (s != SEG_CS && s != SEG_SS)
                t->c.seg[s] = t->c.seg[SEG_SS]; /* 0x10 */
        t->c.eip = at;
        t->c.halted = false;
        t->exceptions = 0;
        assert_int_equal(cpu_run(&t->c, 5 + cut), RUN_LIMIT);
        assert_int_equal(t->c.r[ESP], 0x8FF0 + 4 * cut);
        assert_int_equal(t->c.seg[SEG_GS].sel, 0x18);
        assert_int_equal(t->c.seg[SEG_FS].sel, cut >= 2 ? 0x18 : 0x10);
        assert_int_equal(t->c.seg[SEG_ES].sel, cut >= 3 ? 0x18 : 0x10);
        assert_int_equal(t->c.seg[SEG_DS].sel, cut >= 4 ? 0x18 : 0x10);
        assert_int_equal(cpu_run(&t->c, 100), RUN_HALT);
        assert_int_equal(t->exceptions, 0);
        assert_int_equal(t->c.r[ESP], 0x9000);
        assert_int_equal(t->c.seg[SEG_DS].sel, 0x18);
        assert_int_equal(t->c.seg[SEG_DS].base, 0x1000);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_repeat_gives_the_same, setup, teardown),
        cmocka_unit_test_setup_teardown(test_changed_descriptor_is_read_again, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_rpl_is_checked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shrunk_table_faults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_moved_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ds_memo_not_for_ss, setup, teardown),
        cmocka_unit_test_setup_teardown(test_guest_store_then_mov, setup, teardown),
        cmocka_unit_test_setup_teardown(test_guest_store_then_pop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_moved_table_old_bytes_kept, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ldt_memo, setup, teardown),
        cmocka_unit_test_setup_teardown(test_runs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_run_fault_in_the_middle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_run_cut_by_budget, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
