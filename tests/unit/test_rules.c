/* The privilege rules of segment loads, interrupt/exception delivery, far calls through gates,
 * data accesses through segment limits and the EFLAGS bits POPF/IRET may load, one table row per
 * case, driven through the real cpu (cpu_run) and observed through the trace sink (tables 4
 * and 5 state their rules above them).
 *
 * Each row builds a small protected-mode machine in RAM (GDT, LDT, IDT, TSS, stacks), puts the
 * cpu at the row's CPL, writes one or two instructions and runs them. The expected vector, error
 * code, CPL and stack frame of each row are written from the SDM, not from the implementation:
 *
 *   selector loads   vol. 3 5.5-5.7, vol. 2 MOV (Sreg) "Protected Mode Exceptions":
 *     null:           DS/ES/FS/GS load it (a later use is #GP(0)); SS: #GP(0)
 *     beyond the GDT/LDT limit, or TI = 1 with no LDT:            #GP(selector)
 *     DS/ES/FS/GS:   system descriptor, execute-only code           #GP(selector)
 *                    data or non-conforming code with DPL < max(CPL, RPL)   #GP(selector)
 *                    (conforming readable code: no privilege check)
 *                    not present (checked last)                     #NP(selector)
 *     SS:            RPL != CPL, DPL != CPL, not writable data      #GP(selector)
 *                    not present (checked last)                     #SS(selector)
 *
 *   delivery         vol. 3 6.10-6.15, vol. 2 INT n pseudo-code:
 *     vector*8+7 > IDT limit, or not an interrupt/trap gate         #GP(vector*8+2+EXT)
 *     INT n / INT3 / INTO only: gate DPL < CPL                      #GP(vector*8+2)
 *     gate not present                                              #NP(vector*8+2+EXT)
 *     gate selector null                                            #GP(EXT)
 *     beyond the table, not code, DPL > CPL                         #GP(selector+EXT)
 *     code not present                                              #NP(selector+EXT)
 *     offset beyond the code limit                                  #GP(EXT)
 *     inner ring (non-conforming, DPL < CPL): SSn:ESPn from the TSS; null SSn -> #TS(EXT);
 *       beyond the table, RPL or DPL != n, not writable data -> #TS(SSn+EXT); not present ->
 *       #SS(SSn+EXT); TSS too short for SSn:ESPn -> #TS(TSS+EXT); no room -> #SS(SSn+EXT)
 *     frame: inner ring SS, ESP, EFLAGS, CS, EIP [, error]; same ring EFLAGS, CS, EIP [, error];
 *       each 4 bytes through a 32-bit gate, 2 through a 16-bit one
 *     interrupt gate clears IF, trap gate keeps it; both clear TF, NT, RF, VM
 *     EXT = 0 for INT n, INT3, INTO; 1 for events the cpu raises (table 6-1 "source")
 *   #DF and shutdown (table 6-5): contributory (#DE #TS #NP #SS #GP) after contributory -> #DF;
 *     benign first -> the second is delivered normally; anything during #DF delivery -> shutdown.
 *
 * Machine (flat segments, paging off):
 *   0x1000 GDT (0x60 bytes)  0x1800 LDT (2 entries)  0x2000 IDT  0x3000 TSS (with I/O bitmap)
 *   0x6000 ring 3 stack top  0x6800 ring 1 stack top  0x7000 ring 0 stack top (ESP0)
 *   0x8000 the code under test  0x9000 hlt, where every gate leads
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cpu/cpu.h"
#include "cpu/flags.h"
#include "cpu/segment.h"
#include "devices/bus.h"

#define RAM_SIZE (1u << 20)
#define GDT 0x1000u
#define LDT 0x1800u
#define IDT 0x2000u
#define TSS 0x3000u
#define TSS_LIMIT 0x2068u /* 104 bytes, the 8 KiB bitmap and its 0xFF byte */
#define USTACK_TOP 0x6000u
#define R1STACK_TOP 0x6800u
#define KSTACK_TOP 0x7000u
#define CODE 0x8000u
#define HANDLER 0x9000u

/* Selectors. */
#define S_KCODE 0x08
#define S_KDATA 0x10
#define S_UCODE 0x18
#define S_UDATA 0x20
#define S_TSS 0x28
#define S_CODE1 0x30 /* DPL 1 code */
#define S_DATA1 0x38 /* DPL 1 data */
#define S_KCONF 0x40 /* DPL 0 conforming code */
#define S_LDT 0x48
#define S_T1 0x50    /* the row's test descriptor */
#define S_T2 0x58    /* a second one */
#define GDT_LIMIT 0x5F
#define S_BEYOND 0x60
#define S_LDT0 0x04  /* LDT entry 0: DPL 3 data */
#define S_LDT1 0x0C  /* LDT entry 1: empty */

/* Descriptor access bytes (P DPL S type) and flags (G D). */
#define P 0x80u
#define DPL(n) ((unsigned)(n) << 5)
#define DATA_RW 0x12u
#define DATA_RO 0x10u
#define DATA_RW_DOWN 0x16u
#define CODE_XO 0x18u
#define CODE_XR 0x1Au
#define CONF_XO 0x1Cu
#define CONF_XR 0x1Eu
#define SYS_LDT 0x02u
#define SYS_TSS32 0x09u
#define GF 0xCu /* G = 1, D/B = 1 */

/* A segment descriptor (constant expression, for the tables):
 *   hi: base 31..24 | G D 0 AVL | limit 19..16 | P DPL S type | base 23..16
 *   lo: base 15..0 | limit 15..0 */
#define desc(base, limit, access, flags)                                                         \
    (((uint64_t)(((uint32_t)(base) & 0xFF000000u) | (((uint32_t)(flags) & 0xFu) << 20) |        \
                 ((uint32_t)(limit) & 0xF0000u) | ((uint32_t)(access) << 8) |                   \
                 (((uint32_t)(base) >> 16) & 0xFFu))                                            \
      << 32) |                                                                                  \
     (((uint32_t)(limit) & 0xFFFFu) | (((uint32_t)(base) & 0xFFFFu) << 16)))

#define FLAT(access) desc(0, 0xFFFFF, (access), GF)

/* Gate types. */
#define G_INT32 0xEu
#define G_TRAP32 0xFu
#define G_INT16 0x6u
#define G_TRAP16 0x7u
#define G_CALL32 0xCu
#define G_TASK 0x5u

/* A gate: hi: offset 31..16 | P DPL 0 type | (params); lo: selector | offset 15..0. */
#define gate(sel, off, type, dpl, present)                                                       \
    (((uint64_t)(((uint32_t)(off) & 0xFFFF0000u) | ((present) ? 0x8000u : 0u) |                \
                 ((uint32_t)(dpl) << 13) | ((uint32_t)(type) << 8))                             \
      << 32) |                                                                                  \
     (((uint32_t)(off) & 0xFFFFu) | ((uint32_t)(sel) << 16)))

/* ---- the machine ---------------------------------------------------------------------------- */

struct m {
    struct cpu c;
    struct bus bus;
    uint8_t *ram;
    struct trace_event ev[16];
    unsigned nev;
};

/* Records every event; stops the cpu right after a delivery, before the handler runs. */
static void sink(void *ctx, const struct trace_event *e)
{
    struct m *m = ctx;
    if (m->nev < 16)
        m->ev[m->nev] = *e;
    m->nev++;
    if (e->kind == TR_EXCEPTION || e->kind == TR_INTERRUPT || e->kind == TR_SOFTINT)
        cpu_request_stop(&m->c);
}

static void put64(struct m *m, uint32_t addr, uint64_t v) { memcpy(m->ram + addr, &v, 8); }
static void put32(struct m *m, uint32_t addr, uint32_t v) { memcpy(m->ram + addr, &v, 4); }
static void put16(struct m *m, uint32_t addr, uint16_t v) { memcpy(m->ram + addr, &v, 2); }

static uint32_t get32(const struct m *m, uint32_t addr)
{
    uint32_t v;
    memcpy(&v, m->ram + addr, 4);
    return v;
}

static uint16_t get16(const struct m *m, uint32_t addr)
{
    uint16_t v;
    memcpy(&v, m->ram + addr, 2);
    return v;
}

/* A stack slot of a 32-bit (w = 4) or 16-bit (w = 2) frame. */
static uint32_t word_at(const struct m *m, uint32_t addr, unsigned w)
{
    return w == 4 ? get32(m, addr) : get16(m, addr);
}

static void set_gdt(struct m *m, uint16_t sel, uint64_t d) { put64(m, GDT + (sel & ~7u), d); }
static void set_idt(struct m *m, unsigned vec, uint64_t g) { put64(m, IDT + vec * 8, g); }

/* A segment cache loaded from the descriptor the selector names (GDT or LDT). */
static void load_cache(struct m *m, struct segment *s, uint16_t sel)
{
    uint32_t base = (sel & 4) ? LDT : GDT, lo = get32(m, base + (sel & ~7u)),
             hi = get32(m, base + (sel & ~7u) + 4);
    struct desc d = desc_decode(lo, hi);
    desc_to_segment(sel, &d, s);
}

/* Puts the cpu at `cpl` with flat code and data of that ring and the ring's stack. */
static void set_cpl(struct m *m, unsigned cpl)
{
    static const uint16_t code[4] = {S_KCODE, S_CODE1 | 1, 0, S_UCODE | 3};
    static const uint16_t data[4] = {S_KDATA, S_DATA1 | 1, 0, S_UDATA | 3};
    static const uint32_t top[4] = {KSTACK_TOP, R1STACK_TOP, 0, USTACK_TOP};
    struct segment cs;
    load_cache(m, &cs, code[cpl]);
    seg_set_cs(&m->c, cs.sel, cs.base, cs.limit, cs.attr);
    for (int s = 0; s < SEG_COUNT; s++)
        if (s != SEG_CS)
            load_cache(m, &m->c.seg[s], data[cpl]);
    m->c.r[ESP] = top[cpl];
}

static struct m *machine(unsigned cpl)
{
    struct m *m = calloc(1, sizeof(*m));
    assert_non_null(m);
    m->ram = calloc(RAM_SIZE, 1);
    assert_non_null(m->ram);
    bus_init(&m->bus);
    assert_int_equal(cpu_init(&m->c, m->ram, RAM_SIZE, &m->bus), 0);
    cpu_reset_protected_flat(&m->c, CODE);
    cpu_add_sink(&m->c, sink, m);

    set_gdt(m, S_KCODE, FLAT(P | DPL(0) | CODE_XR));
    set_gdt(m, S_KDATA, FLAT(P | DPL(0) | DATA_RW));
    set_gdt(m, S_UCODE, FLAT(P | DPL(3) | CODE_XR));
    set_gdt(m, S_UDATA, FLAT(P | DPL(3) | DATA_RW));
    set_gdt(m, S_TSS, desc(TSS, TSS_LIMIT, P | DPL(0) | SYS_TSS32, 0));
    set_gdt(m, S_CODE1, FLAT(P | DPL(1) | CODE_XR));
    set_gdt(m, S_DATA1, FLAT(P | DPL(1) | DATA_RW));
    set_gdt(m, S_KCONF, FLAT(P | DPL(0) | CONF_XR));
    set_gdt(m, S_LDT, desc(LDT, 15, P | DPL(0) | SYS_LDT, 0));
    put64(m, LDT, FLAT(P | DPL(3) | DATA_RW));
    m->c.gdtr.base = GDT;
    m->c.gdtr.limit = GDT_LIMIT;

    for (unsigned v = 0; v < 256; v++)
        set_idt(m, v, gate(S_KCODE, HANDLER, G_INT32, 0, true));
    m->c.idtr.base = IDT;
    m->c.idtr.limit = 0x7FF;

    put32(m, TSS + 4, KSTACK_TOP);   /* ESP0 */
    put32(m, TSS + 8, S_KDATA);      /* SS0 */
    put32(m, TSS + 12, R1STACK_TOP); /* ESP1 */
    put32(m, TSS + 16, S_DATA1 | 1); /* SS1 */
    put16(m, TSS + 0x66, 104);       /* I/O map base */
    memset(m->ram + TSS + 104, 0xFF, 8193);
    load_cache(m, &m->c.tr, S_TSS);
    m->c.tr.attr |= 0x2; /* busy */
    load_cache(m, &m->c.ldtr, S_LDT);
    m->ram[HANDLER] = 0xF4; /* hlt */

    set_cpl(m, cpl);
    return m;
}

static void machine_free(struct m *m)
{
    cpu_free(&m->c);
    free(m->ram);
    free(m);
}

/* Runs n instructions of `code` (at CODE) from the current state. */
static enum run_result run(struct m *m, const uint8_t *code, unsigned len, unsigned n)
{
    memcpy(m->ram + CODE, code, len);
    cpu_flush_decoded(&m->c);
    m->c.eip = CODE;
    return cpu_run(&m->c, n);
}

/* The first delivery (exception, interrupt, INT n) in the trace, or NULL. */
static const struct trace_event *first_delivery(const struct m *m)
{
    for (unsigned k = 0; k < m->nev && k < 16; k++) {
        unsigned kind = m->ev[k].kind;
        if (kind == TR_EXCEPTION || kind == TR_INTERRUPT || kind == TR_SOFTINT)
            return &m->ev[k];
    }
    return NULL;
}

/* ---- table 1: segment-register loads ---------------------------------------------------------- */

#define NOFAULT -1

struct load_row {
    const char *name;
    unsigned cpl;
    int sreg;        /* SEG_DS, SEG_SS, ... */
    uint16_t sel;
    uint64_t t1;     /* descriptor at S_T1 (0: empty) */
    bool no_ldt;     /* LDTR null */
    int vec;         /* NOFAULT: the register is loaded */
    uint32_t err;
};

#define T1(dpl_rpl) (S_T1 | (dpl_rpl))

static const struct load_row load_rows[] = {
    /* null selectors */
    {"ds_null_cpl3", 3, SEG_DS, 0x0000, 0, false, NOFAULT, 0},
    {"ds_null_rpl3", 3, SEG_DS, 0x0003, 0, false, NOFAULT, 0},
    {"es_null_cpl0", 0, SEG_ES, 0x0000, 0, false, NOFAULT, 0},
    {"gs_null_cpl3", 3, SEG_GS, 0x0002, 0, false, NOFAULT, 0},
    {"ss_null_cpl0", 0, SEG_SS, 0x0000, 0, false, EXC_GP, 0},
    {"ss_null_rpl3_cpl3", 3, SEG_SS, 0x0003, 0, false, EXC_GP, 0},
    /* table limits */
    {"ds_beyond_gdt", 0, SEG_DS, S_BEYOND, 0, false, EXC_GP, S_BEYOND},
    {"ds_beyond_gdt_rpl3", 3, SEG_DS, S_BEYOND | 3, 0, false, EXC_GP, S_BEYOND},
    {"ds_last_gdt_entry", 0, SEG_DS, S_T2, 0, false, EXC_GP, S_T2}, /* empty: system type 0 */
    {"ss_beyond_gdt", 0, SEG_SS, S_BEYOND, 0, false, EXC_GP, S_BEYOND},
    {"ds_ldt_entry", 3, SEG_DS, S_LDT0 | 3, 0, false, NOFAULT, 0},
    {"ds_ldt_empty_entry", 3, SEG_DS, S_LDT1 | 3, 0, false, EXC_GP, S_LDT1},
    {"ds_beyond_ldt", 3, SEG_DS, 0x14 | 3, 0, false, EXC_GP, 0x14},
    {"ds_ldt_without_ldtr", 3, SEG_DS, S_LDT0 | 3, 0, true, EXC_GP, S_LDT0},
    {"ss_ldt_entry", 3, SEG_SS, S_LDT0 | 3, 0, false, NOFAULT, 0},
    /* system descriptors */
    {"ds_tss", 0, SEG_DS, S_TSS, 0, false, EXC_GP, S_TSS},
    {"ds_ldt_descriptor", 0, SEG_DS, S_LDT, 0, false, EXC_GP, S_LDT},
    {"fs_call_gate", 3, SEG_FS, T1(3), gate(S_KCODE, 0, G_CALL32, 3, true), false, EXC_GP, S_T1},
    {"ss_tss", 0, SEG_SS, S_TSS, 0, false, EXC_GP, S_TSS},
    /* code segments */
    {"ds_execute_only", 3, SEG_DS, T1(3), FLAT(P | DPL(3) | CODE_XO), false, EXC_GP, S_T1},
    {"ds_readable_code_dpl3", 3, SEG_DS, T1(3), FLAT(P | DPL(3) | CODE_XR), false, NOFAULT, 0},
    {"ds_readable_code_dpl0_cpl3", 3, SEG_DS, T1(3), FLAT(P | DPL(0) | CODE_XR), false, EXC_GP,
     S_T1},
    {"ds_readable_code_rpl3_cpl0", 0, SEG_DS, T1(3), FLAT(P | DPL(0) | CODE_XR), false, EXC_GP,
     S_T1},
    {"ds_conforming_readable_dpl0_cpl3", 3, SEG_DS, T1(3), FLAT(P | DPL(0) | CONF_XR), false,
     NOFAULT, 0},
    {"ds_conforming_execute_only", 3, SEG_DS, T1(3), FLAT(P | DPL(0) | CONF_XO), false, EXC_GP,
     S_T1},
    {"ss_readable_code", 3, SEG_SS, T1(3), FLAT(P | DPL(3) | CODE_XR), false, EXC_GP, S_T1},
    /* data: max(CPL, RPL) <= DPL */
    {"ds_data_dpl0_cpl0", 0, SEG_DS, T1(0), FLAT(P | DPL(0) | DATA_RW), false, NOFAULT, 0},
    {"ds_data_dpl0_cpl3", 3, SEG_DS, T1(3), FLAT(P | DPL(0) | DATA_RW), false, EXC_GP, S_T1},
    {"ds_data_dpl0_rpl0_cpl3", 3, SEG_DS, T1(0), FLAT(P | DPL(0) | DATA_RW), false, EXC_GP,
     S_T1},
    {"ds_data_dpl3_rpl0_cpl3", 3, SEG_DS, T1(0), FLAT(P | DPL(3) | DATA_RW), false, NOFAULT, 0},
    {"ds_data_dpl2_rpl3_cpl0", 0, SEG_DS, T1(3), FLAT(P | DPL(2) | DATA_RW), false, EXC_GP,
     S_T1},
    {"ds_data_dpl2_rpl2_cpl1", 1, SEG_DS, T1(2), FLAT(P | DPL(2) | DATA_RW), false, NOFAULT, 0},
    {"ds_data_dpl1_rpl0_cpl3", 3, SEG_DS, T1(0), FLAT(P | DPL(1) | DATA_RW), false, EXC_GP,
     S_T1},
    {"es_read_only_data", 3, SEG_ES, T1(3), FLAT(P | DPL(3) | DATA_RO), false, NOFAULT, 0},
    {"ds_expand_down", 3, SEG_DS, T1(3), desc(0, 0xFFF, P | DPL(3) | DATA_RW_DOWN, 0x4), false,
     NOFAULT, 0},
    /* not present: #NP, but only after the type and privilege checks */
    {"ds_not_present", 3, SEG_DS, T1(3), FLAT(DPL(3) | DATA_RW), false, EXC_NP, S_T1},
    {"gs_not_present_rpl0", 0, SEG_GS, T1(0), FLAT(DPL(0) | DATA_RO), false, EXC_NP, S_T1},
    {"ds_not_present_dpl0_cpl3", 3, SEG_DS, T1(3), FLAT(DPL(0) | DATA_RW), false, EXC_GP, S_T1},
    {"ds_not_present_execute_only", 3, SEG_DS, T1(3), FLAT(DPL(3) | CODE_XO), false, EXC_GP,
     S_T1},
    /* SS: RPL = DPL = CPL, writable data */
    {"ss_data_cpl3", 3, SEG_SS, T1(3), FLAT(P | DPL(3) | DATA_RW), false, NOFAULT, 0},
    {"ss_data_cpl0", 0, SEG_SS, T1(0), FLAT(P | DPL(0) | DATA_RW), false, NOFAULT, 0},
    {"ss_rpl0_cpl3", 3, SEG_SS, T1(0), FLAT(P | DPL(3) | DATA_RW), false, EXC_GP, S_T1},
    {"ss_rpl3_cpl0", 0, SEG_SS, T1(3), FLAT(P | DPL(3) | DATA_RW), false, EXC_GP, S_T1},
    {"ss_dpl0_cpl3", 3, SEG_SS, T1(3), FLAT(P | DPL(0) | DATA_RW), false, EXC_GP, S_T1},
    {"ss_dpl3_cpl0", 0, SEG_SS, T1(0), FLAT(P | DPL(3) | DATA_RW), false, EXC_GP, S_T1},
    {"ss_read_only", 3, SEG_SS, T1(3), FLAT(P | DPL(3) | DATA_RO), false, EXC_GP, S_T1},
    {"ss_expand_down", 3, SEG_SS, T1(3), desc(0, 0xFFF, P | DPL(3) | DATA_RW_DOWN, 0x4), false,
     NOFAULT, 0},
    {"ss_not_present", 3, SEG_SS, T1(3), FLAT(DPL(3) | DATA_RW), false, EXC_SS, S_T1},
    {"ss_not_present_dpl0_cpl3", 3, SEG_SS, T1(3), FLAT(DPL(0) | DATA_RW), false, EXC_GP, S_T1},
    {"ss_not_present_read_only", 3, SEG_SS, T1(3), FLAT(DPL(3) | DATA_RO), false, EXC_GP, S_T1},
};

static void load_row_test(void **state)
{
    const struct load_row *row = *state;
    struct m *m = machine(row->cpl);
    if (row->t1)
        set_gdt(m, S_T1, row->t1);
    if (row->no_ldt)
        memset(&m->c.ldtr, 0, sizeof(m->c.ldtr));
    struct segment before = m->c.seg[row->sreg];
    uint32_t esp = m->c.r[ESP];
    m->c.r[EAX] = row->sel;
    const uint8_t code[] = {0x8E, (uint8_t)(0xC0 | (row->sreg << 3))}; /* mov sreg, ax */
    run(m, code, sizeof(code), 1);

    const struct trace_event *e = first_delivery(m);
    if (row->vec == NOFAULT) {
        if (e)
            fail_msg("%s: unexpected vector %u error %#x", row->name, e->vector, e->error);
        assert_int_equal(m->c.seg[row->sreg].sel, row->sel);
        assert_int_equal(m->c.eip, CODE + 2);
        if ((row->sel & ~3u) && row->t1) /* the accessed bit is set in the descriptor */
            assert_true(m->ram[GDT + S_T1 + 5] & 0x01);
    } else {
        assert_non_null(e);
        assert_int_equal(e->kind, TR_EXCEPTION);
        assert_int_equal(e->vector, row->vec);
        assert_true(e->has_error);
        assert_int_equal(e->error, row->err);
        /* A fault: the register is unchanged (SS: the one pushed) and the frame's EIP is the
         * instruction's. */
        uint32_t frame = e->after.r[ESP];
        if (row->sreg != SEG_SS)
            assert_int_equal(m->c.seg[row->sreg].sel, before.sel);
        else if (row->cpl == 3)
            assert_int_equal(get32(m, frame + 20) & 0xFFFF, before.sel);
        assert_int_equal(get32(m, frame + 4), CODE);
        if (row->cpl == 3) {
            assert_int_equal(e->after.cpl, 0);
            assert_int_equal(frame, KSTACK_TOP - 24);
            assert_int_equal(get32(m, frame + 16), esp);
            assert_int_equal(get32(m, frame + 20) & 0xFFFF, S_UDATA | 3);
        }
    }
    machine_free(m);
}

/* A null selector loads, and a later use of the register faults #GP(0) (vol. 3 5.4.1). */
static void null_ds_use_faults(void **state)
{
    (void)state;
    struct m *m = machine(3);
    m->c.r[EAX] = 0;
    m->c.r[EBX] = 0x100;
    const uint8_t code[] = {0x8E, 0xD8, 0x8B, 0x03}; /* mov ds, ax; mov eax, [ebx] */
    run(m, code, sizeof(code), 2);
    const struct trace_event *e = first_delivery(m);
    assert_non_null(e);
    assert_int_equal(e->vector, EXC_GP);
    assert_int_equal(e->error, 0);
    assert_int_equal(get32(m, e->after.r[ESP] + 4), CODE + 2);
    machine_free(m);
}

/* ---- table 2: delivery through the IDT -------------------------------------------------------- */

/* What the row runs. */
enum act { A_INT40, A_INT3, A_INTO, A_INT1, A_UD2, A_HLT, A_BADDS };

static const struct {
    uint8_t bytes[4];
    unsigned len;
    unsigned vector; /* the vector the action raises first */
    bool trap;       /* the pushed EIP is after the instruction */
} acts[] = {
    [A_INT40] = {{0xCD, 0x40}, 2, 0x40, true},
    [A_INT3] = {{0xCC}, 1, 3, true},
    [A_INTO] = {{0xCE}, 1, 4, true},
    [A_INT1] = {{0xF1}, 1, 1, true},
    [A_UD2] = {{0x0F, 0x0B}, 2, 6, false},
    [A_HLT] = {{0xF4}, 1, 13, false},    /* at CPL 3: #GP(0) */
    [A_BADDS] = {{0x8E, 0xD8}, 2, 13, false}, /* mov ds, ax with ax = S_BEYOND: #GP(0x60) */
};

#define NOERR -1
#define SHUTDOWN -2

struct gate_row {
    const char *name;
    unsigned cpl;
    enum act act;
    unsigned gvec;      /* the gate the row replaces (with `g`) */
    uint64_t g;
    uint64_t t1;        /* descriptor at S_T1 */
    uint32_t idt_limit; /* 0: 0x7FF; IDT_EMPTY: limit 0 */
    bool df_np;         /* the #DF gate is not present */
    uint32_t eflags;    /* set before the run (IF, NT, OF) */
    unsigned conf;      /* bit mask of vectors (8, 10, 12) whose gates go to KCONF */
    uint32_t ss0;       /* 0: S_KDATA; SS0(sel): sel */
    uint32_t esp0;      /* 0: KSTACK_TOP */
    uint16_t tss_limit; /* 0: TSS_LIMIT */
    /* expected */
    int vec;            /* the vector delivered (SHUTDOWN: triple fault) */
    int err;            /* NOERR: none pushed */
    unsigned new_cpl;
    unsigned frame;     /* bytes pushed */
    unsigned word;      /* 4 (32-bit gate) or 2 (16-bit gate) */
    int if_after;       /* -1: not checked */
    struct fault df[3]; /* #DF: the pair that caused it; SHUTDOWN: the three events */
};

#define CONF(v) (1u << (v))
#define SS0(sel) (0x10000u | (sel))
#define IDT_EMPTY 0x10000u
#define IDTG(v, sel, type, dpl, p) .gvec = (v), .g = gate((sel), HANDLER, (type), (dpl), (p))
#define F(v, e) {(v), true, (e)}

static const struct gate_row gate_rows[] = {
    /* IDT limit: vector*8+7 must be within it */
    {"int40_beyond_idt_limit", 3, A_INT40, .idt_limit = 0x1FF, .vec = EXC_GP, .err = 0x202,
     .new_cpl = 0, .frame = 24, .word = 4, .if_after = -1},
    {"int40_limit_one_short", 3, A_INT40, .idt_limit = 0x206, .vec = EXC_GP, .err = 0x202,
     .new_cpl = 0, .frame = 24, .word = 4, .if_after = -1},
    {"int40_last_gate_in_limit", 3, A_INT40, IDTG(0x40, S_KCODE, G_INT32, 3, true),
     .idt_limit = 0x207, .vec = 0x40, .err = NOERR, .new_cpl = 0, .frame = 20, .word = 4,
     .if_after = -1},
    /* gate type */
    {"int40_call_gate_type", 3, A_INT40, IDTG(0x40, S_KCODE, G_CALL32, 3, true), .vec = EXC_GP,
     .err = 0x202, .new_cpl = 0, .frame = 24, .word = 4, .if_after = -1},
    {"int40_type_0", 3, A_INT40, IDTG(0x40, S_KCODE, 0, 3, true), .vec = EXC_GP, .err = 0x202,
     .new_cpl = 0, .frame = 24, .word = 4, .if_after = -1},
    {"int40_code_descriptor", 3, A_INT40, .gvec = 0x40, .g = FLAT(P | DPL(3) | CODE_XR),
     .vec = EXC_GP, .err = 0x202, .new_cpl = 0, .frame = 24, .word = 4, .if_after = -1},
    {"ud2_call_gate_type_ext", 3, A_UD2, IDTG(6, S_KCODE, G_CALL32, 0, true), .vec = EXC_GP,
     .err = 0x33, .new_cpl = 0, .frame = 24, .word = 4, .if_after = -1},
    /* DPL vs CPL for software interrupts only */
    {"int40_dpl0_cpl3", 3, A_INT40, IDTG(0x40, S_KCODE, G_INT32, 0, true), .vec = EXC_GP,
     .err = 0x202, .new_cpl = 0, .frame = 24, .word = 4, .if_after = -1},
    {"int40_dpl2_cpl3", 3, A_INT40, IDTG(0x40, S_KCODE, G_INT32, 2, true), .vec = EXC_GP,
     .err = 0x202, .new_cpl = 0, .frame = 24, .word = 4, .if_after = -1},
    {"int40_dpl1_cpl1", 1, A_INT40, IDTG(0x40, S_KCODE, G_INT32, 1, true), .vec = 0x40,
     .err = NOERR, .new_cpl = 0, .frame = 20, .word = 4, .if_after = -1},
    {"int40_dpl3_cpl3", 3, A_INT40, IDTG(0x40, S_KCODE, G_INT32, 3, true), .vec = 0x40,
     .err = NOERR, .new_cpl = 0, .frame = 20, .word = 4, .if_after = -1},
    {"int40_dpl0_cpl0", 0, A_INT40, IDTG(0x40, S_KCODE, G_INT32, 0, true), .vec = 0x40,
     .err = NOERR, .new_cpl = 0, .frame = 12, .word = 4, .if_after = -1},
    {"int3_dpl0_cpl3", 3, A_INT3, IDTG(3, S_KCODE, G_INT32, 0, true), .vec = EXC_GP,
     .err = 0x1A, .new_cpl = 0, .frame = 24, .word = 4, .if_after = -1},
    {"int3_dpl3_cpl3", 3, A_INT3, IDTG(3, S_KCODE, G_INT32, 3, true), .vec = EXC_BP,
     .err = NOERR, .new_cpl = 0, .frame = 20, .word = 4, .if_after = -1},
    {"into_dpl0_cpl3", 3, A_INTO, IDTG(4, S_KCODE, G_INT32, 0, true), .eflags = FL_OF,
     .vec = EXC_GP, .err = 0x22, .new_cpl = 0, .frame = 24, .word = 4, .if_after = -1},
    {"int1_dpl0_cpl3_no_check", 3, A_INT1, IDTG(1, S_KCODE, G_INT32, 0, true), .vec = EXC_DB,
     .err = NOERR, .new_cpl = 0, .frame = 20, .word = 4, .if_after = -1},
    {"ud2_dpl0_cpl3_no_check", 3, A_UD2, IDTG(6, S_KCODE, G_INT32, 0, true), .vec = EXC_UD,
     .err = NOERR, .new_cpl = 0, .frame = 20, .word = 4, .if_after = -1},
    /* not present: #NP(vector*8+2+EXT), after the DPL check */
    {"int40_not_present", 3, A_INT40, IDTG(0x40, S_KCODE, G_INT32, 3, false), .vec = EXC_NP,
     .err = 0x202, .new_cpl = 0, .frame = 24, .word = 4, .if_after = -1},
    {"int40_not_present_dpl0_cpl3", 3, A_INT40, IDTG(0x40, S_KCODE, G_INT32, 0, false),
     .vec = EXC_GP, .err = 0x202, .new_cpl = 0, .frame = 24, .word = 4, .if_after = -1},
    {"ud2_not_present_ext", 3, A_UD2, IDTG(6, S_KCODE, G_INT32, 0, false), .vec = EXC_NP,
     .err = 0x33, .new_cpl = 0, .frame = 24, .word = 4, .if_after = -1},
    {"ud2_not_present_ext_cpl0", 0, A_UD2, IDTG(6, S_KCODE, G_INT32, 0, false), .vec = EXC_NP,
     .err = 0x33, .new_cpl = 0, .frame = 16, .word = 4, .if_after = -1},
    /* the gate's code segment */
    {"int40_null_selector", 3, A_INT40, IDTG(0x40, 0, G_INT32, 3, true), .vec = EXC_GP, .err = 0,
     .new_cpl = 0, .frame = 24, .word = 4, .if_after = -1},
    {"ud2_null_selector_ext", 3, A_UD2, IDTG(6, 0, G_INT32, 0, true), .vec = EXC_GP, .err = 1,
     .new_cpl = 0, .frame = 24, .word = 4, .if_after = -1},
    {"int40_selector_beyond_gdt", 3, A_INT40, IDTG(0x40, S_BEYOND, G_INT32, 3, true),
     .vec = EXC_GP, .err = S_BEYOND, .new_cpl = 0, .frame = 24, .word = 4, .if_after = -1},
    {"int40_selector_data", 3, A_INT40, IDTG(0x40, S_KDATA, G_INT32, 3, true), .vec = EXC_GP,
     .err = S_KDATA, .new_cpl = 0, .frame = 24, .word = 4, .if_after = -1},
    {"ud2_selector_data_ext", 3, A_UD2, IDTG(6, S_KDATA, G_INT32, 0, true), .vec = EXC_GP,
     .err = S_KDATA + 1, .new_cpl = 0, .frame = 24, .word = 4, .if_after = -1},
    {"int40_code_dpl3_cpl0", 0, A_INT40, IDTG(0x40, S_UCODE, G_INT32, 3, true), .vec = EXC_GP,
     .err = S_UCODE, .new_cpl = 0, .frame = 16, .word = 4, .if_after = -1},
    {"int40_code_not_present", 3, A_INT40, IDTG(0x40, S_T1, G_INT32, 3, true),
     .t1 = FLAT(DPL(0) | CODE_XR), .vec = EXC_NP, .err = S_T1, .new_cpl = 0, .frame = 24,
     .word = 4, .if_after = -1},
    {"int40_offset_beyond_code_limit", 3, A_INT40, IDTG(0x40, S_T1, G_INT32, 3, true),
     .t1 = desc(0, HANDLER - 1, P | DPL(0) | CODE_XR, 0x4), .vec = EXC_GP, .err = 0,
     .new_cpl = 0, .frame = 24, .word = 4, .if_after = -1},
    /* where the handler runs */
    {"int40_to_conforming_stays_cpl3", 3, A_INT40, IDTG(0x40, S_KCONF, G_INT32, 3, true),
     .vec = 0x40, .err = NOERR, .new_cpl = 3, .frame = 12, .word = 4, .if_after = -1},
    {"int40_to_dpl3_code_stays_cpl3", 3, A_INT40, IDTG(0x40, S_UCODE, G_INT32, 3, true),
     .vec = 0x40, .err = NOERR, .new_cpl = 3, .frame = 12, .word = 4, .if_after = -1},
    {"int40_to_ring1_uses_ss1_esp1", 3, A_INT40, IDTG(0x40, S_CODE1, G_INT32, 3, true),
     .vec = 0x40, .err = NOERR, .new_cpl = 1, .frame = 20, .word = 4, .if_after = -1},
    /* frame sizes: 16- and 32-bit gates, with and without an error code */
    {"int40_16bit_gate_inner", 3, A_INT40, IDTG(0x40, S_KCODE, G_INT16, 3, true), .vec = 0x40,
     .err = NOERR, .new_cpl = 0, .frame = 10, .word = 2, .if_after = -1},
    {"int40_16bit_gate_same_ring", 0, A_INT40, IDTG(0x40, S_KCODE, G_INT16, 0, true),
     .vec = 0x40, .err = NOERR, .new_cpl = 0, .frame = 6, .word = 2, .if_after = -1},
    {"hlt_16bit_gate_error_code", 3, A_HLT, IDTG(13, S_KCODE, G_INT16, 0, true), .vec = EXC_GP,
     .err = 0, .new_cpl = 0, .frame = 12, .word = 2, .if_after = -1},
    {"hlt_32bit_gate_error_code", 3, A_HLT, .vec = EXC_GP, .err = 0, .new_cpl = 0, .frame = 24,
     .word = 4, .if_after = -1},
    {"bad_ds_32bit_gate_same_ring", 0, A_BADDS, .vec = EXC_GP, .err = S_BEYOND, .new_cpl = 0,
     .frame = 16, .word = 4, .if_after = -1},
    /* IF: interrupt gates clear it, trap gates keep it (NT is cleared by both) */
    {"int40_interrupt_gate_clears_if", 3, A_INT40, IDTG(0x40, S_KCODE, G_INT32, 3, true),
     .eflags = FL_IF | FL_NT, .vec = 0x40, .err = NOERR, .new_cpl = 0, .frame = 20, .word = 4,
     .if_after = 0},
    {"int40_trap_gate_keeps_if", 3, A_INT40, IDTG(0x40, S_KCODE, G_TRAP32, 3, true),
     .eflags = FL_IF | FL_NT, .vec = 0x40, .err = NOERR, .new_cpl = 0, .frame = 20, .word = 4,
     .if_after = 1},
    {"int40_16bit_trap_gate_keeps_if", 3, A_INT40, IDTG(0x40, S_KCODE, G_TRAP16, 3, true),
     .eflags = FL_IF, .vec = 0x40, .err = NOERR, .new_cpl = 0, .frame = 10, .word = 2,
     .if_after = 1},
    /* The TSS stack, seen by conforming #TS/#SS handlers (no stack switch of their own). */
    {"ss0_null_int40", 3, A_INT40, IDTG(0x40, S_KCODE, G_INT32, 3, true), .conf = CONF(10),
     .ss0 = SS0(0x0000), .vec = EXC_TS, .err = 0, .new_cpl = 3, .frame = 16, .word = 4, .if_after = -1},
    {"ss0_null_ud2_ext", 3, A_UD2, .conf = CONF(10), .ss0 = SS0(0x0000), .vec = EXC_TS, .err = 1,
     .new_cpl = 3, .frame = 16, .word = 4, .if_after = -1},
    {"ss0_rpl3", 3, A_UD2, .conf = CONF(10), .ss0 = SS0(S_KDATA | 3), .vec = EXC_TS,
     .err = S_KDATA + 1, .new_cpl = 3, .frame = 16, .word = 4, .if_after = -1},
    {"ss0_dpl3", 3, A_INT40, IDTG(0x40, S_KCODE, G_INT32, 3, true), .conf = CONF(10),
     .ss0 = SS0(S_UDATA), .vec = EXC_TS, .err = S_UDATA, .new_cpl = 3, .frame = 16, .word = 4,
     .if_after = -1},
    {"ss0_read_only", 3, A_UD2, .t1 = FLAT(P | DPL(0) | DATA_RO), .conf = CONF(10), .ss0 = SS0(S_T1),
     .vec = EXC_TS, .err = S_T1 + 1, .new_cpl = 3, .frame = 16, .word = 4, .if_after = -1},
    {"ss0_code", 3, A_UD2, .conf = CONF(10), .ss0 = SS0(S_KCODE), .vec = EXC_TS, .err = S_KCODE + 1,
     .new_cpl = 3, .frame = 16, .word = 4, .if_after = -1},
    {"ss0_beyond_gdt", 3, A_UD2, .conf = CONF(10), .ss0 = SS0(S_BEYOND), .vec = EXC_TS,
     .err = S_BEYOND + 1, .new_cpl = 3, .frame = 16, .word = 4, .if_after = -1},
    {"ss0_not_present", 3, A_UD2, .t1 = FLAT(DPL(0) | DATA_RW), .conf = CONF(10) | CONF(12),
     .ss0 = SS0(S_T1), .vec = EXC_SS, .err = S_T1 + 1, .new_cpl = 3, .frame = 16, .word = 4,
     .if_after = -1},
    {"ss0_not_present_int40", 3, A_INT40, IDTG(0x40, S_KCODE, G_INT32, 3, true),
     .t1 = FLAT(DPL(0) | DATA_RW), .conf = CONF(10) | CONF(12), .ss0 = SS0(S_T1), .vec = EXC_SS,
     .err = S_T1, .new_cpl = 3, .frame = 16, .word = 4, .if_after = -1},
    {"esp0_beyond_ss0_limit", 3, A_UD2, .t1 = desc(0, 0xFFF, P | DPL(0) | DATA_RW, 0x4),
     .conf = CONF(12), .ss0 = SS0(S_T1), .esp0 = 0x2000, .vec = EXC_SS, .err = S_T1 + 1,
     .new_cpl = 3, .frame = 16, .word = 4, .if_after = -1},
    {"esp0_frame_fits_ss0_limit", 3, A_UD2, .t1 = desc(0, 0xFFF, P | DPL(0) | DATA_RW, 0x4),
     .conf = CONF(12), .ss0 = SS0(S_T1), .esp0 = 0x1000, .vec = EXC_UD, .err = NOERR, .new_cpl = 0,
     .frame = 20, .word = 4, .if_after = -1},
    {"esp0_expand_down_fits", 3, A_UD2, .t1 = desc(0, 0xFFF, P | DPL(0) | DATA_RW_DOWN, 0x4),
     .conf = CONF(12), .ss0 = SS0(S_T1), .esp0 = 0x1000 + 20, .vec = EXC_UD, .err = NOERR,
     .new_cpl = 0, .frame = 20, .word = 4, .if_after = -1},
    {"esp0_expand_down_below_limit", 3, A_UD2,
     .t1 = desc(0, 0xFFF, P | DPL(0) | DATA_RW_DOWN, 0x4), .conf = CONF(12), .ss0 = SS0(S_T1),
     .esp0 = 0x1000 + 16, .vec = EXC_SS, .err = S_T1 + 1, .new_cpl = 3, .frame = 16, .word = 4,
     .if_after = -1},
    {"tss_too_short_for_ss0", 3, A_UD2, .conf = CONF(10), .tss_limit = 8, .vec = EXC_TS,
     .err = S_TSS + 1, .new_cpl = 3, .frame = 16, .word = 4, .if_after = -1},
    /* #DF (table 6-5) and shutdown */
    {"gp_then_np_is_df", 0, A_BADDS, IDTG(13, S_KCODE, G_INT32, 0, false), .vec = EXC_DF,
     .err = 0, .new_cpl = 0, .frame = 16, .word = 4, .if_after = -1,
     .df = {F(EXC_GP, S_BEYOND), F(EXC_NP, 13 * 8 + 3)}},
    {"ud_then_np_is_serial", 0, A_UD2, IDTG(6, S_KCODE, G_INT32, 0, false), .vec = EXC_NP,
     .err = 0x33, .new_cpl = 0, .frame = 16, .word = 4, .if_after = -1},
    {"hlt_gp_then_ts_is_df", 3, A_HLT, .conf = CONF(8), .ss0 = SS0(0), .vec = EXC_DF, .err = 0,
     .new_cpl = 3, .frame = 16, .word = 4, .if_after = -1, .df = {F(EXC_GP, 0), F(EXC_TS, 1)}},
    {"int40_ts_then_ts_is_df", 3, A_INT40, IDTG(0x40, S_KCODE, G_INT32, 3, true),
     .conf = CONF(8), .ss0 = SS0(0), .vec = EXC_DF, .err = 0, .new_cpl = 3, .frame = 16, .word = 4,
     .if_after = -1, .df = {F(EXC_TS, 0), F(EXC_TS, 1)}},
    {"df_gate_not_present_shuts_down", 0, A_BADDS, IDTG(13, S_KCODE, G_INT32, 0, false),
     .df_np = true, .vec = SHUTDOWN,
     .df = {F(EXC_GP, S_BEYOND), F(EXC_NP, 13 * 8 + 3), F(EXC_NP, 8 * 8 + 3)}},
    {"int3_empty_idt_shuts_down", 0, A_INT3, .idt_limit = IDT_EMPTY, .vec = SHUTDOWN,
     .df = {F(EXC_GP, 0x1A), F(EXC_GP, 13 * 8 + 3), F(EXC_GP, 8 * 8 + 3)}},
};

static void gate_row_test(void **state)
{
    const struct gate_row *row = *state;
    struct m *m = machine(row->cpl);
    struct cpu *c = &m->c;
    if (row->g)
        set_idt(m, row->gvec, row->g);
    if (row->t1)
        set_gdt(m, S_T1, row->t1);
    if (row->df_np)
        set_idt(m, EXC_DF, gate(S_KCODE, HANDLER, G_INT32, 0, false));
    if (row->idt_limit)
        c->idtr.limit = (uint16_t)row->idt_limit; /* IDT_EMPTY: 0 */
    for (unsigned v = 0; v < 32; v++)
        if (row->conf & CONF(v))
            set_idt(m, v, gate(S_KCONF, HANDLER, G_INT32, 0, true));
    uint16_t ss0 = row->ss0 ? (uint16_t)row->ss0 : S_KDATA;
    put32(m, TSS + 8, ss0);
    if (row->esp0)
        put32(m, TSS + 4, row->esp0);
    if (row->tss_limit)
        c->tr.limit = row->tss_limit;
    c->eflags |= row->eflags;
    m->c.r[EAX] = S_BEYOND;
    uint32_t esp = c->r[ESP];
    uint16_t cs = c->seg[SEG_CS].sel, ss = c->seg[SEG_SS].sel;
    uint32_t eflags_before = cpu_get_eflags(c);

    enum run_result r = run(m, acts[row->act].bytes, acts[row->act].len, 2);

    if (row->vec == SHUTDOWN) {
        assert_int_equal(r, RUN_SHUTDOWN);
        for (int k = 0; k < 3; k++) {
            assert_int_equal(c->shutdown_events[k].vector, row->df[k].vector);
            assert_int_equal(c->shutdown_events[k].error, row->df[k].error);
        }
        machine_free(m);
        return;
    }
    const struct trace_event *e = first_delivery(m);
    assert_non_null(e);
    assert_int_equal(e->vector, row->vec);
    assert_int_equal(e->has_error, row->err != NOERR);
    if (row->err != NOERR)
        assert_int_equal(e->error, (uint32_t)row->err);
    assert_int_equal(e->after.cpl, row->new_cpl);
    assert_int_equal(c->cpl, row->new_cpl);
    assert_int_equal(c->seg[SEG_CS].sel & 3, row->new_cpl); /* CPL = CS.RPL */
    if (row->vec == EXC_DF) {
        assert_int_equal(c->df_pair[0].vector, row->df[0].vector);
        assert_int_equal(c->df_pair[0].error, row->df[0].error);
        assert_int_equal(c->df_pair[1].vector, row->df[1].vector);
        assert_int_equal(c->df_pair[1].error, row->df[1].error);
    }

    /* The frame: where it lies and what it holds. */
    bool inner = row->new_cpl < row->cpl;
    uint32_t top = !inner ? esp : row->new_cpl == 1 ? R1STACK_TOP : row->esp0 ? row->esp0 : KSTACK_TOP;
    uint32_t w = row->word, f = c->r[ESP];
    assert_int_equal(top - f, row->frame);
    if (inner) {
        assert_int_equal(c->seg[SEG_SS].sel & 3, row->new_cpl);
        assert_int_equal(c->seg[SEG_SS].sel, row->new_cpl == 1 ? (S_DATA1 | 1) : ss0);
    } else {
        assert_int_equal(c->seg[SEG_SS].sel, ss);
    }
    uint32_t slot[6], mask = w == 2 ? 0xFFFFu : 0xFFFFFFFFu;
    for (unsigned k = 0; k < row->frame / w && k < 6; k++)
        slot[k] = word_at(m, f + k * w, w);
    unsigned k = 0;
    if (row->err != NOERR)
        assert_int_equal(slot[k++], (uint32_t)row->err & mask);
    uint32_t want_eip = CODE + (acts[row->act].trap && row->vec == (int)acts[row->act].vector
                                    ? acts[row->act].len : 0);
    if (row->vec != EXC_DF) /* the EIP #DF pushes is undefined (6.15) */
        assert_int_equal(slot[k], want_eip & mask);
    assert_int_equal(slot[k + 1] & 0xFFFF, cs);
    uint32_t pushed_flags = slot[k + 2];
    assert_int_equal(pushed_flags & (FL_IF | FL_NT), eflags_before & (FL_IF | FL_NT));
    if (inner) {
        assert_int_equal(slot[k + 3], esp & mask);
        assert_int_equal(slot[k + 4] & 0xFFFF, ss);
    }
    if (row->if_after >= 0)
        assert_int_equal((c->eflags & FL_IF) != 0, row->if_after);
    assert_int_equal(c->eflags & (FL_NT | FL_TF | FL_RF | FL_VM), 0);
    assert_int_equal(c->eip, HANDLER);
    machine_free(m);
}

/* ---- table 3: far CALL/JMP through a call gate (vol. 3 5.8.4-5.8.6, vol. 2 CALL, JMP) -------
 *
 *   gate DPL < CPL or < RPL of the gate selector           #GP(gate)
 *   gate not present                                         #NP(gate)
 *   target selector null                                     #GP(0)
 *   target beyond the table, not code, DPL > CPL             #GP(target)
 *   JMP: target non-conforming with DPL != CPL               #GP(target)
 *   target not present                                       #NP(target)
 *   offset beyond the target's limit                         #GP(0)
 *   CALL to a more privileged non-conforming target: the TSS's SSn:ESPn (null -> #TS(0); bad ->
 *   #TS(SSn); not present -> #SS(SSn); no room -> #SS(SSn)), then SS, ESP, the gate's parameter
 *   count of words/dwords copied from the caller's stack, CS, EIP (4 bytes each through a
 *   32-bit gate, 2 through a 16-bit one). A conforming target keeps CPL and the stack.
 */
#define S_GATE S_T2

struct call_row {
    const char *name;
    unsigned cpl;
    bool jmp;
    uint16_t sel;       /* the far pointer's selector (S_GATE | RPL) */
    uint64_t g;         /* the gate at S_GATE */
    uint64_t t1;        /* descriptor at S_T1 */
    uint32_t ss0;       /* SS0(sel) or 0 */
    uint32_t esp0;
    unsigned conf;      /* vectors whose gates go to KCONF */
    int vec;            /* NOFAULT: the call lands */
    uint32_t err;
    unsigned new_cpl;
    unsigned frame;     /* bytes pushed on the new (or same) stack */
    unsigned word;
    unsigned params;
};

#define CG(target, type, dpl, p, params) (gate((target), HANDLER, (type), (dpl), (p)) | ((uint64_t)(params) << 32))
#define G_CALL16 0x4u

static const struct call_row call_rows[] = {
    {"call_gate_2_params", 3, false, S_GATE | 3, CG(S_KCODE, G_CALL32, 3, true, 2), .vec = NOFAULT,
     .new_cpl = 0, .frame = 24, .word = 4, .params = 2},
    {"call_gate_3_params", 3, false, S_GATE | 3, CG(S_KCODE, G_CALL32, 3, true, 3), .vec = NOFAULT,
     .new_cpl = 0, .frame = 28, .word = 4, .params = 3},
    {"call_gate_no_params", 3, false, S_GATE | 3, CG(S_KCODE, G_CALL32, 3, true, 0),
     .vec = NOFAULT, .new_cpl = 0, .frame = 16, .word = 4},
    {"call_gate16_2_params", 3, false, S_GATE | 3, CG(S_KCODE, G_CALL16, 3, true, 2),
     .vec = NOFAULT, .new_cpl = 0, .frame = 12, .word = 2, .params = 2},
    {"call_gate_to_ring1", 3, false, S_GATE | 3, CG(S_CODE1, G_CALL32, 3, true, 1),
     .vec = NOFAULT, .new_cpl = 1, .frame = 20, .word = 4, .params = 1},
    {"call_gate_to_conforming_keeps_cpl", 3, false, S_GATE | 3,
     CG(S_KCONF, G_CALL32, 3, true, 2), .vec = NOFAULT, .new_cpl = 3, .frame = 8, .word = 4},
    {"call_gate_dpl0_cpl3", 3, false, S_GATE | 3, CG(S_KCODE, G_CALL32, 0, true, 0),
     .vec = EXC_GP, .err = S_GATE},
    {"call_gate_rpl3_above_dpl1", 1, false, S_GATE | 3, CG(S_KCODE, G_CALL32, 1, true, 0),
     .vec = EXC_GP, .err = S_GATE},
    {"call_gate_not_present", 3, false, S_GATE | 3, CG(S_KCODE, G_CALL32, 3, false, 0),
     .vec = EXC_NP, .err = S_GATE},
    {"call_gate_not_present_dpl0", 3, false, S_GATE | 3, CG(S_KCODE, G_CALL32, 0, false, 0),
     .vec = EXC_GP, .err = S_GATE},
    {"call_gate_target_null", 3, false, S_GATE | 3, CG(0, G_CALL32, 3, true, 0), .vec = EXC_GP,
     .err = 0},
    {"call_gate_target_data", 3, false, S_GATE | 3, CG(S_KDATA, G_CALL32, 3, true, 0),
     .vec = EXC_GP, .err = S_KDATA},
    {"call_gate_target_beyond_gdt", 3, false, S_GATE | 3, CG(S_BEYOND, G_CALL32, 3, true, 0),
     .vec = EXC_GP, .err = S_BEYOND},
    {"call_gate_target_dpl3_cpl0", 0, false, S_GATE, CG(S_UCODE, G_CALL32, 3, true, 0),
     .vec = EXC_GP, .err = S_UCODE},
    {"call_gate_target_not_present", 3, false, S_GATE | 3, CG(S_T1, G_CALL32, 3, true, 0),
     .t1 = FLAT(DPL(0) | CODE_XR), .vec = EXC_NP, .err = S_T1},
    {"call_gate_offset_beyond_limit", 3, false, S_GATE | 3, CG(S_T1, G_CALL32, 3, true, 0),
     .t1 = desc(0, HANDLER - 1, P | DPL(0) | CODE_XR, 0x4), .vec = EXC_GP, .err = 0},
    {"jmp_gate_to_ring0", 3, true, S_GATE | 3, CG(S_KCODE, G_CALL32, 3, true, 0),
     .vec = EXC_GP, .err = S_KCODE},
    {"jmp_gate_to_conforming", 3, true, S_GATE | 3, CG(S_KCONF, G_CALL32, 3, true, 0),
     .vec = NOFAULT, .new_cpl = 3, .frame = 0, .word = 4},
    /* the new stack */
    {"call_ss0_null", 3, false, S_GATE | 3, CG(S_KCODE, G_CALL32, 3, true, 2), .ss0 = SS0(0),
     .conf = CONF(10), .vec = EXC_TS, .err = 0},
    {"call_ss0_rpl3", 3, false, S_GATE | 3, CG(S_KCODE, G_CALL32, 3, true, 2),
     .ss0 = SS0(S_KDATA | 3), .conf = CONF(10), .vec = EXC_TS, .err = S_KDATA},
    {"call_ss0_not_present", 3, false, S_GATE | 3, CG(S_KCODE, G_CALL32, 3, true, 2),
     .t1 = FLAT(DPL(0) | DATA_RW), .ss0 = SS0(S_T1), .conf = CONF(10) | CONF(12),
     .vec = EXC_SS, .err = S_T1},
    {"call_esp0_beyond_limit", 3, false, S_GATE | 3, CG(S_KCODE, G_CALL32, 3, true, 2),
     .t1 = desc(0, 0xFFF, P | DPL(0) | DATA_RW, 0x4), .ss0 = SS0(S_T1), .esp0 = 0x2000,
     .conf = CONF(12), .vec = EXC_SS, .err = S_T1},
    {"call_expand_down_ss0_fits", 3, false, S_GATE | 3, CG(S_KCODE, G_CALL32, 3, true, 2),
     .t1 = desc(0, 0xFFF, P | DPL(0) | DATA_RW_DOWN, 0x4), .ss0 = SS0(S_T1), .esp0 = 0x2000,
     .conf = CONF(12), .vec = NOFAULT, .new_cpl = 0, .frame = 24, .word = 4, .params = 2},
    {"call_expand_down_ss0_below_limit", 3, false, S_GATE | 3,
     CG(S_KCODE, G_CALL32, 3, true, 2), .t1 = desc(0, 0xFFF, P | DPL(0) | DATA_RW_DOWN, 0x4),
     .ss0 = SS0(S_T1), .esp0 = 0x1010, .conf = CONF(12), .vec = EXC_SS, .err = S_T1},
};

static void call_row_test(void **state)
{
    const struct call_row *row = *state;
    struct m *m = machine(row->cpl);
    struct cpu *c = &m->c;
    set_gdt(m, S_GATE, row->g);
    if (row->t1)
        set_gdt(m, S_T1, row->t1);
    for (unsigned v = 0; v < 32; v++)
        if (row->conf & CONF(v))
            set_idt(m, v, gate(S_KCONF, HANDLER, G_INT32, 0, true));
    uint16_t ss0 = row->ss0 ? (uint16_t)row->ss0 : S_KDATA;
    put32(m, TSS + 8, ss0);
    if (row->esp0)
        put32(m, TSS + 4, row->esp0);
    /* The caller's stack holds four parameter dwords. */
    c->r[ESP] -= 16;
    uint32_t esp = c->r[ESP];
    for (unsigned k = 0; k < 4; k++)
        put32(m, esp + 4 * k, 0x11111111u * (k + 1));
    uint16_t cs = c->seg[SEG_CS].sel, ss = c->seg[SEG_SS].sel;
    const uint8_t code[] = {row->jmp ? 0xEA : 0x9A, 0x78, 0x56, 0x34, 0x12,
                            (uint8_t)row->sel, (uint8_t)(row->sel >> 8)};
    run(m, code, sizeof(code), 1);

    const struct trace_event *e = first_delivery(m);
    if (row->vec != NOFAULT) {
        assert_non_null(e);
        assert_int_equal(e->vector, row->vec);
        assert_int_equal(e->error, row->err);
        assert_int_equal(get32(m, e->after.r[ESP] + 4), CODE); /* a fault of the CALL */
        machine_free(m);
        return;
    }
    if (e)
        fail_msg("%s: unexpected vector %u error %#x", row->name, e->vector, e->error);
    assert_int_equal(c->eip, HANDLER);
    assert_int_equal(c->cpl, row->new_cpl);
    assert_int_equal(c->seg[SEG_CS].sel & 3, row->new_cpl);
    bool inner = row->new_cpl < row->cpl;
    uint32_t top = !inner ? esp : row->new_cpl == 1 ? R1STACK_TOP : row->esp0 ? row->esp0 : KSTACK_TOP;
    uint32_t f = c->r[ESP], w = row->word, mask = w == 2 ? 0xFFFFu : 0xFFFFFFFFu;
    assert_int_equal(top - f, row->frame);
    if (row->jmp)
        goto out;
    assert_int_equal(word_at(m, f, w), (CODE + sizeof(code)) & mask);
    assert_int_equal(word_at(m, f + w, w) & 0xFFFF, cs);
    if (inner) {
        for (unsigned k = 0; k < row->params; k++) /* in the caller's order */
            assert_int_equal(word_at(m, f + (2 + k) * w, w), word_at(m, esp + k * w, w));
        assert_int_equal(word_at(m, f + (2 + row->params) * w, w), esp & mask);
        assert_int_equal(word_at(m, f + (3 + row->params) * w, w) & 0xFFFF, ss);
        assert_int_equal(c->seg[SEG_SS].sel, row->new_cpl == 1 ? (S_DATA1 | 1) : ss0);
    } else {
        assert_int_equal(c->seg[SEG_SS].sel, ss);
    }
out:
    machine_free(m);
}

/* ---- table 4: accesses through a segment with a limit (vol. 3 3.4.5, 5.3; vol. 2 MOV, PUSH,
 * POP "Protected Mode Exceptions") ------------------------------------------------------------
 *
 *   expand-up data, readable code:  offsets 0 .. limit; an access of n bytes at offset o is
 *                                   inside when o + n - 1 <= limit (no wrap past 4 GiB)
 *   expand-down data:               offsets limit + 1 .. 0xFFFFFFFF (B = 1) or 0xFFFF (B = 0):
 *                                   inside when o > limit and o + n - 1 <= that upper bound
 *   G = 1:                          limit = limit field * 4096 + 0xFFF
 *   a write to read-only data or to a code segment: #GP(0), wherever it lies
 *   outside: #GP(0); through SS (an ss: operand, PUSH, POP) #SS(0)
 * A fault reads and writes nothing: the register, the stack pointer and memory keep their
 * values and the frame's EIP is the instruction's. Every row runs at CPL 3 with the test
 * segment (base LIM_BASE, DPL 3) in DS or SS. */
#define LIM_BASE 0x20000u
#define UPB 0x4u  /* flags: D/B = 1 (expand-down: upper bound 0xFFFFFFFF) */
#define UPB0 0x0u /* flags: B = 0 (expand-down: upper bound 0xFFFF) */
#define GRAN 0xCu /* flags: G = 1, D/B = 1 */
#define DATA_RO_DOWN 0x14u

enum lim_op { L_READ, L_WRITE, L_RMW, L_PUSH, L_POP };

struct limit_row {
    const char *name;
    int sreg;          /* the register holding the test segment: SEG_DS or SEG_SS */
    uint8_t access;    /* descriptor access byte */
    uint8_t flags;     /* descriptor G and D/B */
    uint32_t limit;    /* limit field */
    enum lim_op op;    /* mov r, [ebx] / mov [ebx], r / add [ebx], r / push eax / pop eax */
    unsigned size;     /* 1, 2 or 4 */
    uint32_t off;      /* the first byte accessed: EBX, or for PUSH the new ESP, for POP ESP */
    int vec;           /* NOFAULT, EXC_GP or EXC_SS (error code 0) */
};

#define DSU(n, op, sz, off, vec) {n, SEG_DS, P | DPL(3) | DATA_RW, UPB, 0xFFF, op, sz, off, vec}
#define DSD(n, op, sz, off, vec)                                                               \
    {n, SEG_DS, P | DPL(3) | DATA_RW_DOWN, UPB, 0xFFF, op, sz, off, vec}
#define DSD0(n, op, sz, off, vec)                                                              \
    {n, SEG_DS, P | DPL(3) | DATA_RW_DOWN, UPB0, 0xFFF, op, sz, off, vec}
#define SSU(n, op, sz, off, vec) {n, SEG_SS, P | DPL(3) | DATA_RW, UPB, 0xFFF, op, sz, off, vec}
#define SSD(n, op, sz, off, vec)                                                               \
    {n, SEG_SS, P | DPL(3) | DATA_RW_DOWN, UPB, 0xFFF, op, sz, off, vec}
#define SSD0(n, op, sz, off, vec)                                                              \
    {n, SEG_SS, P | DPL(3) | DATA_RW_DOWN, UPB0, 0xFFF, op, sz, off, vec}

static const struct limit_row limit_rows[] = {
    /* DS, expand-up, limit 0xFFF */
    DSU("ds_up_read_byte_at_0", L_READ, 1, 0, NOFAULT),
    DSU("ds_up_read_byte_at_limit", L_READ, 1, 0xFFF, NOFAULT),
    DSU("ds_up_read_byte_at_limit_plus_1", L_READ, 1, 0x1000, EXC_GP),
    DSU("ds_up_read_word_ends_at_limit", L_READ, 2, 0xFFE, NOFAULT),
    DSU("ds_up_read_word_straddles_limit", L_READ, 2, 0xFFF, EXC_GP),
    DSU("ds_up_read_word_at_limit_plus_1", L_READ, 2, 0x1000, EXC_GP),
    DSU("ds_up_read_dword_ends_at_limit", L_READ, 4, 0xFFC, NOFAULT),
    DSU("ds_up_read_dword_straddles_by_1", L_READ, 4, 0xFFD, EXC_GP),
    DSU("ds_up_read_dword_straddles_by_3", L_READ, 4, 0xFFF, EXC_GP),
    DSU("ds_up_read_dword_at_limit_plus_1", L_READ, 4, 0x1000, EXC_GP),
    DSU("ds_up_read_dword_wraps_4g", L_READ, 4, 0xFFFFFFFE, EXC_GP),
    DSU("ds_up_write_byte_at_limit", L_WRITE, 1, 0xFFF, NOFAULT),
    DSU("ds_up_write_byte_at_limit_plus_1", L_WRITE, 1, 0x1000, EXC_GP),
    DSU("ds_up_write_word_ends_at_limit", L_WRITE, 2, 0xFFE, NOFAULT),
    DSU("ds_up_write_word_straddles_limit", L_WRITE, 2, 0xFFF, EXC_GP),
    DSU("ds_up_write_dword_ends_at_limit", L_WRITE, 4, 0xFFC, NOFAULT),
    DSU("ds_up_write_dword_straddles_by_2", L_WRITE, 4, 0xFFE, EXC_GP),
    DSU("ds_up_write_dword_at_limit_plus_1", L_WRITE, 4, 0x1000, EXC_GP),
    DSU("ds_up_rmw_byte_at_limit", L_RMW, 1, 0xFFF, NOFAULT),
    DSU("ds_up_rmw_dword_straddles_by_1", L_RMW, 4, 0xFFD, EXC_GP),
    /* limit 0: a one-byte segment */
    {"ds_limit_0_read_byte", SEG_DS, P | DPL(3) | DATA_RW, UPB, 0, L_READ, 1, 0, NOFAULT},
    {"ds_limit_0_read_word", SEG_DS, P | DPL(3) | DATA_RW, UPB, 0, L_READ, 2, 0, EXC_GP},
    {"ds_limit_0_read_byte_at_1", SEG_DS, P | DPL(3) | DATA_RW, UPB, 0, L_READ, 1, 1, EXC_GP},
    /* G = 1: limit field 1 is 0x1FFF */
    {"ds_gran_read_byte_at_limit", SEG_DS, P | DPL(3) | DATA_RW, GRAN, 1, L_READ, 1, 0x1FFF,
     NOFAULT},
    {"ds_gran_read_byte_at_limit_plus_1", SEG_DS, P | DPL(3) | DATA_RW, GRAN, 1, L_READ, 1,
     0x2000, EXC_GP},
    {"ds_gran_write_dword_straddles", SEG_DS, P | DPL(3) | DATA_RW, GRAN, 1, L_WRITE, 4, 0x1FFE,
     EXC_GP},
    {"ds_gran_write_dword_ends_at_limit", SEG_DS, P | DPL(3) | DATA_RW, GRAN, 1, L_WRITE, 4,
     0x1FFC, NOFAULT},
    /* DS, expand-down, limit 0xFFF, B = 1: offsets 0x1000 .. 0xFFFFFFFF */
    DSD("ds_down_read_byte_at_limit", L_READ, 1, 0xFFF, EXC_GP),
    DSD("ds_down_read_byte_at_limit_plus_1", L_READ, 1, 0x1000, NOFAULT),
    DSD("ds_down_read_byte_at_0", L_READ, 1, 0, EXC_GP),
    DSD("ds_down_read_word_straddles_limit", L_READ, 2, 0xFFF, EXC_GP),
    DSD("ds_down_read_word_at_limit_plus_1", L_READ, 2, 0x1000, NOFAULT),
    DSD("ds_down_read_dword_straddles_limit", L_READ, 4, 0xFFE, EXC_GP),
    DSD("ds_down_read_dword_at_limit_plus_1", L_READ, 4, 0x1000, NOFAULT),
    DSD("ds_down_read_dword_ends_at_4g", L_READ, 4, 0xFFFFFFFC, NOFAULT),
    DSD("ds_down_read_dword_past_4g", L_READ, 4, 0xFFFFFFFD, EXC_GP),
    DSD("ds_down_read_byte_at_4g_minus_1", L_READ, 1, 0xFFFFFFFF, NOFAULT),
    DSD("ds_down_write_byte_at_limit", L_WRITE, 1, 0xFFF, EXC_GP),
    DSD("ds_down_write_dword_at_limit_plus_1", L_WRITE, 4, 0x1000, NOFAULT),
    DSD("ds_down_write_word_straddles_limit", L_WRITE, 2, 0xFFF, EXC_GP),
    DSD("ds_down_rmw_word_at_limit_plus_1", L_RMW, 2, 0x1000, NOFAULT),
    /* DS, expand-down, limit 0xFFF, B = 0: offsets 0x1000 .. 0xFFFF */
    DSD0("ds_down16_read_byte_at_limit_plus_1", L_READ, 1, 0x1000, NOFAULT),
    DSD0("ds_down16_read_byte_at_limit", L_READ, 1, 0xFFF, EXC_GP),
    DSD0("ds_down16_read_word_ends_at_ffff", L_READ, 2, 0xFFFE, NOFAULT),
    DSD0("ds_down16_read_word_past_ffff", L_READ, 2, 0xFFFF, EXC_GP),
    DSD0("ds_down16_read_dword_past_ffff", L_READ, 4, 0xFFFD, EXC_GP),
    DSD0("ds_down16_read_byte_at_10000", L_READ, 1, 0x10000, EXC_GP),
    DSD0("ds_down16_write_byte_at_ffff", L_WRITE, 1, 0xFFFF, NOFAULT),
    /* read-only data and readable code: reads inside the limit only, never a write */
    {"ds_ro_read_dword_ends_at_limit", SEG_DS, P | DPL(3) | DATA_RO, UPB, 0xFFF, L_READ, 4, 0xFFC,
     NOFAULT},
    {"ds_ro_read_byte_at_limit_plus_1", SEG_DS, P | DPL(3) | DATA_RO, UPB, 0xFFF, L_READ, 1,
     0x1000, EXC_GP},
    {"ds_ro_write_byte_at_0", SEG_DS, P | DPL(3) | DATA_RO, UPB, 0xFFF, L_WRITE, 1, 0, EXC_GP},
    {"ds_ro_write_dword_inside", SEG_DS, P | DPL(3) | DATA_RO, UPB, 0xFFF, L_WRITE, 4, 0x100,
     EXC_GP},
    {"ds_ro_rmw_word_inside", SEG_DS, P | DPL(3) | DATA_RO, UPB, 0xFFF, L_RMW, 2, 0x100, EXC_GP},
    {"ds_ro_down_write_inside", SEG_DS, P | DPL(3) | DATA_RO_DOWN, UPB, 0xFFF, L_WRITE, 1,
     0x2000, EXC_GP},
    {"ds_ro_down_read_inside", SEG_DS, P | DPL(3) | DATA_RO_DOWN, UPB, 0xFFF, L_READ, 1, 0x2000,
     NOFAULT},
    {"ds_code_read_at_limit", SEG_DS, P | DPL(3) | CODE_XR, UPB, 0xFFF, L_READ, 1, 0xFFF,
     NOFAULT},
    {"ds_code_read_word_straddles", SEG_DS, P | DPL(3) | CODE_XR, UPB, 0xFFF, L_READ, 2, 0xFFF,
     EXC_GP},
    {"ds_code_write_inside", SEG_DS, P | DPL(3) | CODE_XR, UPB, 0xFFF, L_WRITE, 1, 0x10, EXC_GP},
    /* SS, expand-up, limit 0xFFF: ss: operands, PUSH and POP */
    SSU("ss_up_read_byte_at_limit", L_READ, 1, 0xFFF, NOFAULT),
    SSU("ss_up_read_byte_at_limit_plus_1", L_READ, 1, 0x1000, EXC_SS),
    SSU("ss_up_read_dword_straddles_by_1", L_READ, 4, 0xFFD, EXC_SS),
    SSU("ss_up_write_word_ends_at_limit", L_WRITE, 2, 0xFFE, NOFAULT),
    SSU("ss_up_write_word_straddles_limit", L_WRITE, 2, 0xFFF, EXC_SS),
    SSU("ss_up_write_byte_at_limit_plus_1", L_WRITE, 1, 0x1000, EXC_SS),
    SSU("ss_up_rmw_dword_straddles_by_3", L_RMW, 4, 0xFFF, EXC_SS),
    SSU("ss_up_push_dword_ends_at_limit", L_PUSH, 4, 0xFFC, NOFAULT),
    SSU("ss_up_push_dword_straddles_by_1", L_PUSH, 4, 0xFFD, EXC_SS),
    SSU("ss_up_push_word_straddles_limit", L_PUSH, 2, 0xFFF, EXC_SS),
    SSU("ss_up_pop_dword_ends_at_limit", L_POP, 4, 0xFFC, NOFAULT),
    SSU("ss_up_pop_dword_straddles_by_1", L_POP, 4, 0xFFD, EXC_SS),
    SSU("ss_up_pop_word_at_limit_plus_1", L_POP, 2, 0x1000, EXC_SS),
    /* SS, expand-down, limit 0xFFF, B = 1 */
    SSD("ss_down_read_byte_at_limit", L_READ, 1, 0xFFF, EXC_SS),
    SSD("ss_down_read_byte_at_limit_plus_1", L_READ, 1, 0x1000, NOFAULT),
    SSD("ss_down_write_dword_straddles_limit", L_WRITE, 4, 0xFFF, EXC_SS),
    SSD("ss_down_push_dword_at_limit_plus_1", L_PUSH, 4, 0x1000, NOFAULT),
    SSD("ss_down_push_dword_straddles_limit", L_PUSH, 4, 0xFFF, EXC_SS),
    SSD("ss_down_push_word_below_limit", L_PUSH, 2, 0xFF0, EXC_SS),
    SSD("ss_down_pop_dword_ends_at_4g", L_POP, 4, 0xFFFFFFFC, NOFAULT),
    SSD("ss_down_pop_dword_past_4g", L_POP, 4, 0xFFFFFFFD, EXC_SS),
    SSD("ss_down_pop_dword_below_limit", L_POP, 4, 0xFFC, EXC_SS),
    /* SS, expand-down, limit 0xFFF, B = 0 (a 16-bit stack: SP) */
    SSD0("ss_down16_push_word_at_limit_plus_1", L_PUSH, 2, 0x1000, NOFAULT),
    SSD0("ss_down16_push_word_straddles_limit", L_PUSH, 2, 0xFFF, EXC_SS),
    SSD0("ss_down16_pop_word_ends_at_ffff", L_POP, 2, 0xFFFE, NOFAULT),
    SSD0("ss_down16_read_word_past_ffff", L_READ, 2, 0xFFFF, EXC_SS),
};

/* The bytes around the access: a pattern that tells every linear address apart. */
static uint8_t lim_pattern(uint32_t lin) { return (uint8_t)(lin * 7u + 0x35u); }

static void limit_row_test(void **state)
{
    const struct limit_row *row = *state;
    struct m *m = machine(3);
    struct cpu *c = &m->c;
    set_gdt(m, S_T1, desc(LIM_BASE, row->limit, row->access, row->flags));
    load_cache(m, &c->seg[row->sreg], S_T1 | 3);
    bool stack = row->op == L_PUSH || row->op == L_POP;
    uint32_t lin = LIM_BASE + row->off; /* modulo 4 GiB, as the cpu computes it */
    for (int k = -8; k < 8; k++) {
        uint32_t a = (lin + (uint32_t)k) & (RAM_SIZE - 1);
        m->ram[a] = lim_pattern(lin + (uint32_t)k);
    }
    uint8_t before[16];
    for (int k = 0; k < 16; k++)
        before[k] = m->ram[(lin - 8 + (uint32_t)k) & (RAM_SIZE - 1)];

    uint8_t code[4];
    unsigned n = 0;
    if (row->sreg == SEG_SS && !stack)
        code[n++] = 0x36; /* ss: */
    if (row->size == 2)
        code[n++] = 0x66;
    unsigned w = row->size == 1 ? 0 : 1;
    switch (row->op) {
    case L_READ: code[n++] = (uint8_t)(0x8A | w); code[n++] = 0x03; break;  /* mov r, [ebx] */
    case L_WRITE: code[n++] = (uint8_t)(0x88 | w); code[n++] = 0x03; break; /* mov [ebx], r */
    case L_RMW: code[n++] = (uint8_t)(0x00 | w); code[n++] = 0x03; break;   /* add [ebx], r */
    case L_PUSH: code[n++] = 0x50; break;                                   /* push eax */
    case L_POP: code[n++] = 0x58; break;                                    /* pop eax */
    }
    uint32_t eax = row->op == L_READ || row->op == L_POP ? 0xCCCCCCCCu : 0x11223344u;
    uint32_t esp = row->op == L_PUSH ? row->off + row->size : row->op == L_POP ? row->off
                                                                               : c->r[ESP];
    c->r[EAX] = eax;
    c->r[EBX] = row->off;
    c->r[ESP] = esp;
    run(m, code, n, 1);

    const struct trace_event *e = first_delivery(m);
    uint32_t mask = row->size == 4 ? 0xFFFFFFFFu : (1u << (8 * row->size)) - 1;
    if (row->vec != NOFAULT) {
        if (!e)
            fail_msg("%s: no fault, want vector %d", row->name, row->vec);
        assert_int_equal(e->vector, row->vec);
        assert_true(e->has_error);
        assert_int_equal(e->error, 0);
        assert_int_equal(e->before.cpl, 3);
        uint32_t frame = e->after.r[ESP]; /* error, EIP, CS, EFLAGS, ESP, SS on the ring 0 stack */
        assert_int_equal(get32(m, frame + 4), CODE);
        assert_int_equal(get32(m, frame + 16), esp);
        assert_int_equal(c->r[EAX], eax);
        for (int k = 0; k < 16; k++)
            assert_int_equal(m->ram[(lin - 8 + (uint32_t)k) & (RAM_SIZE - 1)], before[k]);
        machine_free(m);
        return;
    }
    if (e)
        fail_msg("%s: unexpected vector %u error %#x", row->name, e->vector, e->error);
    assert_int_equal(c->eip, CODE + n);
    uint32_t old = 0, now = 0;
    for (unsigned k = 0; k < row->size; k++) {
        old |= (uint32_t)lim_pattern(lin + k) << (8 * k);
        now |= (uint32_t)m->ram[(lin + k) & (RAM_SIZE - 1)] << (8 * k);
    }
    switch (row->op) {
    case L_READ:
    case L_POP:
        assert_int_equal(c->r[EAX], (eax & ~mask) | old);
        break;
    case L_WRITE:
    case L_PUSH:
        assert_int_equal(now, eax & mask);
        break;
    case L_RMW:
        assert_int_equal(now, (old + eax) & mask);
        break;
    }
    /* A 16-bit stack (SS.B = 0) moves SP only: it wraps at 64 KiB. */
    uint32_t sp_mask = (c->seg[SEG_SS].attr & SA_DB) ? 0xFFFFFFFFu : 0xFFFFu;
    if (row->op == L_PUSH)
        assert_int_equal(c->r[ESP], row->off);
    else if (row->op == L_POP)
        assert_int_equal(c->r[ESP], (row->off + row->size) & sp_mask);
    machine_free(m);
}

/* ---- table 5: which EFLAGS bits POPF and IRET load (vol. 2 POPF table 4-16 "Effect of POPF
 * on the EFLAGS register", the POPF and IRET pseudo-code; IRET here is a return to the same
 * privilege level, NT = 0) -----------------------------------------------------------------
 *
 *   POPF  CPL 0:          CF PF AF ZF SF TF DF OF NT AC ID  IF  IOPL
 *         0 < CPL <= IOPL: CF PF AF ZF SF TF DF OF NT AC ID  IF
 *         CPL > IOPL:     CF PF AF ZF SF TF DF OF NT AC ID       (IF kept, no fault)
 *         never:          VM VIF VIP (kept), RF (cleared)
 *   IRET  CPL 0:          CF PF AF ZF SF TF DF OF NT RF AC ID  IF  IOPL  VIF VIP
 *         0 < CPL <= IOPL: CF PF AF ZF SF TF DF OF NT RF AC ID  IF
 *         CPL > IOPL:     CF PF AF ZF SF TF DF OF NT RF AC ID
 *         VM: a return to virtual-8086 mode at CPL 0 (outside Ringside's subset: #GP(0));
 *         at CPL > 0 it is not loaded
 *   A 16-bit operand size loads the low word only (of the bits above).
 * Ringside has no virtual-8086 mode: VM is never set.
 *
 * Each row runs twice: once from EFLAGS with every bit above clear, popping an image with them
 * all set, and once the other way round (IOPL goes from the row's value to its complement). TF
 * and RF start clear in both (TF set at the start would trap after the instruction) and the
 * image always has TF, RF and (POPF, IRET at CPL > 0) VM set. */
#define FL_TOGGLE (FL_ARITH | FL_DF | FL_IF | FL_IOPL | FL_NT | FL_AC | FL_ID | FL_VIF | FL_VIP)
#define FL_POPF_ALL (FL_ARITH | FL_TF | FL_DF | FL_NT | FL_AC | FL_ID)
#define FL_IRET_ALL (FL_POPF_ALL | FL_RF)
#define W16 0xFFFFu

struct flags_row {
    const char *name;
    bool iret;
    unsigned osize;    /* 4 or 2 */
    unsigned cpl;      /* 0, 1 or 3 */
    unsigned iopl;
    uint32_t changes;  /* the bits loaded from the image */
};

static const struct flags_row flags_rows[] = {
    {"popfd_cpl0_iopl0", false, 4, 0, 0, FL_POPF_ALL | FL_IF | FL_IOPL},
    {"popfd_cpl0_iopl3", false, 4, 0, 3, FL_POPF_ALL | FL_IF | FL_IOPL},
    {"popf16_cpl0_iopl0", false, 2, 0, 0, (FL_POPF_ALL | FL_IF | FL_IOPL) & W16},
    {"popf16_cpl0_iopl2", false, 2, 0, 2, (FL_POPF_ALL | FL_IF | FL_IOPL) & W16},
    {"popfd_cpl1_iopl1", false, 4, 1, 1, FL_POPF_ALL | FL_IF},
    {"popfd_cpl1_iopl3", false, 4, 1, 3, FL_POPF_ALL | FL_IF},
    {"popfd_cpl1_iopl0", false, 4, 1, 0, FL_POPF_ALL},
    {"popf16_cpl1_iopl1", false, 2, 1, 1, (FL_POPF_ALL | FL_IF) & W16},
    {"popfd_cpl3_iopl3", false, 4, 3, 3, FL_POPF_ALL | FL_IF},
    {"popfd_cpl3_iopl2", false, 4, 3, 2, FL_POPF_ALL},
    {"popfd_cpl3_iopl0", false, 4, 3, 0, FL_POPF_ALL},
    {"popf16_cpl3_iopl3", false, 2, 3, 3, (FL_POPF_ALL | FL_IF) & W16},
    {"popf16_cpl3_iopl0", false, 2, 3, 0, FL_POPF_ALL & W16},
    {"iretd_cpl0_iopl0", true, 4, 0, 0, FL_IRET_ALL | FL_IF | FL_IOPL | FL_VIF | FL_VIP},
    {"iretd_cpl0_iopl3", true, 4, 0, 3, FL_IRET_ALL | FL_IF | FL_IOPL | FL_VIF | FL_VIP},
    {"iret16_cpl0_iopl0", true, 2, 0, 0, (FL_IRET_ALL | FL_IF | FL_IOPL) & W16},
    {"iretd_cpl1_iopl1", true, 4, 1, 1, FL_IRET_ALL | FL_IF},
    {"iretd_cpl1_iopl0", true, 4, 1, 0, FL_IRET_ALL},
    {"iretd_cpl3_iopl3", true, 4, 3, 3, FL_IRET_ALL | FL_IF},
    {"iretd_cpl3_iopl1", true, 4, 3, 1, FL_IRET_ALL},
    {"iretd_cpl3_iopl0", true, 4, 3, 0, FL_IRET_ALL},
    {"iret16_cpl3_iopl3", true, 2, 3, 3, (FL_IRET_ALL | FL_IF) & W16},
    {"iret16_cpl3_iopl0", true, 2, 3, 0, FL_IRET_ALL & W16},
};

#define IRET_TARGET (CODE + 0x100)

static void flags_run(const struct flags_row *row, bool start_set)
{
    struct m *m = machine(row->cpl);
    struct cpu *c = &m->c;
    uint32_t toggle = row->iret ? FL_TOGGLE & ~FL_NT : FL_TOGGLE; /* IRET with NT: a task return */
    uint32_t old = FL_R1 | (uint32_t)row->iopl << 12 | (start_set ? toggle & ~FL_IOPL : 0);
    uint32_t vm = row->iret && row->cpl == 0 ? 0 : FL_VM;
    uint32_t image = FL_R1 | ((old ^ toggle) & toggle) | FL_TF | FL_RF | vm;
    if (row->osize == 2)
        image &= W16;
    c->eflags = old;
    c->lf.op = LF_NONE; /* EFLAGS holds the arithmetic flags */
    unsigned w = row->osize;
    uint32_t sp = c->r[ESP] - 3 * w;
    uint8_t code[2];
    unsigned n = 0;
    if (w == 2)
        code[n++] = 0x66;
    if (row->iret) {
        code[n++] = 0xCF;
        uint16_t cs = c->seg[SEG_CS].sel;
        if (w == 4) {
            put32(m, sp, IRET_TARGET);
            put32(m, sp + 4, cs);
            put32(m, sp + 8, image);
        } else {
            put16(m, sp, IRET_TARGET);
            put16(m, sp + 2, cs);
            put16(m, sp + 4, (uint16_t)image);
        }
    } else {
        code[n++] = 0x9D;
        if (w == 4)
            put32(m, sp, image);
        else
            put16(m, sp, (uint16_t)image);
    }
    c->r[ESP] = sp;
    run(m, code, n, 1);

    const struct trace_event *e = first_delivery(m);
    if (e)
        fail_msg("%s: unexpected vector %u error %#x", row->name, e->vector, e->error);
    uint32_t want = FL_R1 | (old & ~row->changes & ~(FL_RF | FL_VM)) | (image & row->changes);
    uint32_t got = cpu_get_eflags(c);
    if (got != want)
        fail_msg("%s (start %s): EFLAGS %08x, want %08x (differs in %08x)", row->name,
                 start_set ? "set" : "clear", got, want, got ^ want);
    assert_int_equal(c->r[ESP], sp + (row->iret ? 3 : 1) * w);
    assert_int_equal(c->eip, row->iret ? IRET_TARGET : CODE + n);
    assert_int_equal(c->cpl, row->cpl);
    machine_free(m);
}

static void flags_row_test(void **state)
{
    flags_run(*state, false);
    flags_run(*state, true);
}

/* ---- single-step (SDM vol. 3 17.3.1.4): #DB trap after the instruction that began with TF ---- */

static void single_step_traps_after_one(void **state)
{
    (void)state;
    struct m *m = machine(0);
    m->c.eflags |= FL_TF;
    const uint8_t code[] = {0x90, 0x90}; /* nop; nop */
    run(m, code, sizeof code, 10);
    const struct trace_event *e = first_delivery(m);
    assert_non_null(e);
    assert_int_equal(e->vector, EXC_DB);
    assert_int_equal(e->before.eip, CODE + 1);      /* a trap: after the first nop */
    assert_int_equal(get32(m, KSTACK_TOP - 12), CODE + 1);
    assert_true(m->c.dr[6] & 0x4000);               /* DR6.BS */
    assert_false(m->c.eflags & FL_TF);              /* cleared for the handler */
    assert_true(get32(m, KSTACK_TOP - 4) & FL_TF);  /* and saved set in the frame */
    machine_free(m);
}

static void popf_setting_tf_traps_after_next(void **state)
{
    (void)state;
    struct m *m = machine(0);
    m->c.r[ESP] = KSTACK_TOP - 0x100;
    m->c.r[EAX] = FL_TF | FL_R1;
    const uint8_t code[] = {0x50, 0x9D, 0x90, 0x90}; /* push eax; popf; nop; nop */
    run(m, code, sizeof code, 10);
    const struct trace_event *e = first_delivery(m);
    assert_non_null(e);
    assert_int_equal(e->vector, EXC_DB);
    assert_int_equal(e->before.eip, CODE + 3); /* after the nop that followed POPF */
    machine_free(m);
}

static void int_n_is_not_single_stepped(void **state)
{
    (void)state;
    struct m *m = machine(0);
    m->c.eflags |= FL_TF;
    const uint8_t code[] = {0xCD, 0x40}; /* int 0x40: the delivery clears TF, no #DB */
    run(m, code, sizeof code, 10);
    const struct trace_event *e = first_delivery(m);
    assert_non_null(e);
    assert_int_equal(e->kind, TR_SOFTINT);
    assert_int_equal(e->vector, 0x40);
    assert_int_equal(m->nev, 1);
    machine_free(m);
}

/* ---- task switches (SDM vol. 3 7.3) ---------------------------------------------------------- */

#define TSS2 0xA000u       /* a second 32-bit TSS, selector S_T1 */
#define TASK2_CODE 0xB000u /* where the second task starts */
#define TASK2_STACK 0xC000u

/* A second task: ring 0, flat segments, EAX = 0x2222, starting at TASK2_CODE with `code`. */
static void second_task(struct m *m, const uint8_t *code, unsigned len)
{
    set_gdt(m, S_T1, desc(TSS2, 0x67, P | DPL(0) | SYS_TSS32, 0));
    memset(m->ram + TSS2, 0, 0x68);
    put32(m, TSS2 + 0x20, TASK2_CODE);          /* EIP */
    put32(m, TSS2 + 0x24, FL_R1);               /* EFLAGS */
    put32(m, TSS2 + 0x28, 0x2222);              /* EAX */
    put32(m, TSS2 + 0x38, TASK2_STACK);         /* ESP */
    put16(m, TSS2 + 0x4C, S_KCODE);             /* CS */
    put16(m, TSS2 + 0x48, S_KDATA);             /* ES */
    put16(m, TSS2 + 0x50, S_KDATA);             /* SS */
    put16(m, TSS2 + 0x54, S_KDATA);             /* DS */
    memcpy(m->ram + TASK2_CODE, code, len);
}

static const struct trace_event *event_of(const struct m *m, unsigned kind)
{
    for (unsigned k = 0; k < m->nev && k < 16; k++)
        if (m->ev[k].kind == kind)
            return &m->ev[k];
    return NULL;
}

static bool tss_busy(const struct m *m, uint16_t sel)
{
    return (get32(m, GDT + (sel & ~7u) + 4) >> 8 & 0x1F) == 0x0B;
}

static void far_jmp_to_tss_switches_tasks(void **state)
{
    (void)state;
    struct m *m = machine(0);
    const uint8_t task2[] = {0xF4}; /* hlt */
    second_task(m, task2, sizeof task2);
    m->c.r[EAX] = 0x1111;
    const uint8_t code[] = {0xEA, 0, 0, 0, 0, S_T1, 0}; /* ljmp $S_T1, $0 */
    run(m, code, sizeof code, 10);
    assert_int_equal(m->c.tr.sel, S_T1);
    assert_int_equal(m->c.r[EAX], 0x2222);
    assert_int_equal(m->c.r[ESP], TASK2_STACK);
    assert_int_equal(m->c.eip, TASK2_CODE + 1);          /* after the hlt */
    assert_int_equal(get32(m, TSS + 0x20), CODE + 7);    /* the old task resumes after ljmp */
    assert_int_equal(get32(m, TSS + 0x28), 0x1111);      /* its EAX was saved */
    assert_false(tss_busy(m, S_TSS));                    /* JMP: the old task is not busy */
    assert_true(tss_busy(m, S_T1));
    assert_true(m->c.cr0 & CR0_TS);
    assert_false(m->c.eflags & FL_NT);
    assert_non_null(event_of(m, TR_TASK));
    machine_free(m);
}

static void int_through_task_gate_and_iret_back(void **state)
{
    (void)state;
    struct m *m = machine(0);
    const uint8_t task2[] = {0xCF}; /* iret: NT is set, so it returns to the back-linked task */
    second_task(m, task2, sizeof task2);
    set_gdt(m, S_TSS, desc(TSS, TSS_LIMIT, P | DPL(0) | 0x0B, 0)); /* busy, as LTR leaves it */
    set_idt(m, 0x40, gate(S_T1, 0, G_TASK, 0, true));
    const uint8_t code[] = {0xCD, 0x40, 0xF4}; /* int $0x40; hlt */
    run(m, code, sizeof code, 10);
    assert_int_equal(get16(m, TSS2), S_TSS);     /* the back link */
    assert_int_equal(m->c.tr.sel, S_TSS);        /* back in the first task */
    assert_int_equal(m->c.eip, CODE + 3);        /* after its hlt */
    assert_false(tss_busy(m, S_T1));             /* IRET left the nested task */
    assert_true(tss_busy(m, S_TSS));
    assert_false(get32(m, TSS2 + 0x24) & FL_NT); /* IRET saved the nested task without NT */
    machine_free(m);
}

/* The classic: ring 3 raises an exception while the TSS's SS0 is unusable, so delivering it and
 * the #TS that follows both fail: #DF, which goes through a task gate to a task with its own
 * stack, and the error code 0 is pushed there. */
static void double_fault_through_task_gate(void **state)
{
    (void)state;
    struct m *m = machine(3);
    const uint8_t task2[] = {0xF4}; /* hlt */
    second_task(m, task2, sizeof task2);
    set_idt(m, EXC_DF, gate(S_T1, 0, G_TASK, 0, true));
    put32(m, TSS + 8, 0); /* SS0 = null */
    const uint8_t code[] = {0x0F, 0x0B}; /* ud2 */
    run(m, code, sizeof code, 10);
    const struct trace_event *t = event_of(m, TR_TASK);
    assert_non_null(t);
    assert_int_equal(t->vector, EXC_DF);
    assert_int_equal(m->c.tr.sel, S_T1);
    assert_int_equal(m->c.cpl, 0);
    assert_int_equal(m->c.r[ESP], TASK2_STACK - 4);  /* the #DF error code, pushed */
    assert_int_equal(get32(m, TASK2_STACK - 4), 0);
    assert_int_equal(get16(m, TSS2), S_TSS);
    machine_free(m);
}

static void jmp_to_busy_tss_faults(void **state)
{
    (void)state;
    struct m *m = machine(0);
    set_gdt(m, S_TSS, desc(TSS, TSS_LIMIT, P | DPL(0) | 0x0B, 0)); /* busy, as LTR leaves it */
    const uint8_t code[] = {0xEA, 0, 0, 0, 0, S_TSS, 0}; /* the running task's own TSS */
    run(m, code, sizeof code, 10);
    const struct trace_event *e = first_delivery(m);
    assert_non_null(e);
    assert_int_equal(e->vector, EXC_GP);
    assert_int_equal(e->error, S_TSS);
    machine_free(m);
}

/* An instruction is fetched only within the CS limit (SDM vol. 3 5.3): one whose bytes end
 * beyond it is #GP(0) at that instruction, even inside a block of decoded code that began
 * within the limit; the instructions before it retire. */
static void fetch_beyond_cs_limit_faults(void **state)
{
    (void)state;
    static const uint8_t code[] = {0x90, 0x90, 0x90, 0xB8, 1, 2, 3, 4, 0x90}; /* mov $imm, %eax */
    for (unsigned cut = 0; cut < 3; cut++) {
        /* cut 0: the MOV's last byte is the one past the limit; 1: its first; 2: the NOP after
         * it is the first past the limit (the MOV retires). */
        static const uint32_t limit_of[3] = {CODE + 6, CODE + 2, CODE + 7};
        static const uint32_t eip_of[3] = {CODE + 3, CODE + 3, CODE + 8};
        struct m *m = machine(0);
        struct segment *cs = &m->c.seg[SEG_CS];
        seg_set_cs(&m->c, cs->sel, cs->base, limit_of[cut], cs->attr);
        m->c.r[EAX] = 0;
        run(m, code, sizeof code, 20);
        const struct trace_event *e = first_delivery(m);
        assert_non_null(e);
        print_message("  limit 0x%x: #%u at 0x%x after %llu instructions\n", limit_of[cut],
                      e->vector, e->before.eip, (unsigned long long)e->icount);
        assert_int_equal(e->vector, EXC_GP);
        assert_int_equal(e->error, 0);
        assert_int_equal(e->before.eip, eip_of[cut]);
        assert_int_equal(e->icount, cut == 2 ? 4 : 3);
        assert_int_equal(m->c.r[EAX], cut == 2 ? 0x04030201u : 0);
        machine_free(m);
    }
}

/* ---- virtual-8086 mode (not implemented): entering it stops the machine -------------------- */

#define V86_CS 0x4200u
#define V86_EIP 0x0010u

/* A 32-bit IRET frame for virtual-8086 mode at ESP: EIP, CS, EFLAGS (VM = 1), ESP, SS, ES, DS,
 * FS, GS. */
static void v86_frame(struct m *m, uint32_t esp)
{
    const uint32_t frame[9] = {V86_EIP, V86_CS, FL_VM | FL_R1, 0x0FFE, 0x4000,
                               0x4000, 0x4000, 0x4000, 0x4000};
    for (unsigned k = 0; k < 9; k++)
        put32(m, esp + 4 * k, frame[k]);
}

/* SDM vol. 2 IRET: at CPL 0, VM = 1 in the popped EFLAGS returns to virtual-8086 mode. */
static void iret_to_v86_at_cpl0_stops(void **state)
{
    (void)state;
    struct m *m = machine(0);
    uint32_t esp = KSTACK_TOP - 0x100;
    m->c.r[ESP] = esp;
    v86_frame(m, esp);
    const uint8_t code[] = {0xCF}; /* iretd */
    enum run_result r = run(m, code, sizeof code, 10);
    assert_int_equal(r, RUN_UNSUPPORTED);
    const struct unsupported *u = &m->c.unsupported;
    assert_string_equal(u->what, "virtual-8086 mode is not supported");
    assert_string_equal(u->by, "IRET");
    assert_int_equal(u->cs, S_KCODE);
    assert_int_equal(u->eip, CODE);
    assert_int_equal(u->target_cs, V86_CS);
    assert_int_equal(u->target_eip, V86_EIP);
    /* Nothing happened: still at the IRET, same stack, same CS, VM clear, no event. */
    assert_int_equal(m->c.eip, CODE);
    assert_int_equal(m->c.r[ESP], esp);
    assert_int_equal(m->c.seg[SEG_CS].sel, S_KCODE);
    assert_false(m->c.eflags & FL_VM);
    assert_int_equal(m->nev, 0);
    machine_free(m);
}

/* At CPL 3 (and with a 16-bit frame) VM is not popped: an ordinary return. */
static void iret_with_vm_above_cpl0_is_ordinary(void **state)
{
    (void)state;
    struct m *m = machine(3);
    uint32_t esp = USTACK_TOP - 0x100;
    m->c.r[ESP] = esp;
    put32(m, esp, CODE + 0x10);                  /* EIP */
    put32(m, esp + 4, S_UCODE | 3);              /* CS: same ring */
    put32(m, esp + 8, FL_VM | FL_R1 | FL_CF);    /* EFLAGS */
    const uint8_t code[] = {0xCF};
    enum run_result r = run(m, code, sizeof code, 1);
    assert_int_equal(r, RUN_LIMIT);
    assert_int_equal(m->c.eip, CODE + 0x10);
    assert_int_equal(m->c.r[ESP], esp + 12);
    assert_false(m->c.eflags & FL_VM);
    assert_true(m->c.eflags & FL_CF);
    machine_free(m);

    m = machine(0);
    esp = KSTACK_TOP - 0x100;
    m->c.r[ESP] = esp;
    put16(m, esp, CODE + 0x10);                  /* IP */
    put16(m, esp + 2, S_KCODE);                  /* CS */
    put16(m, esp + 4, FL_R1);                    /* FLAGS: no VM in 16 bits */
    put16(m, esp + 6, 0xFFFF);                   /* what a 32-bit frame would see as VM = 1 */
    const uint8_t code16[] = {0x66, 0xCF};       /* iret (16-bit) */
    r = run(m, code16, sizeof code16, 1);
    assert_int_equal(r, RUN_LIMIT);
    assert_int_equal(m->c.eip, CODE + 0x10);
    assert_false(m->c.eflags & FL_VM);
    machine_free(m);
}

/* A task switch to a TSS whose EFLAGS has VM = 1 would run the new task in virtual-8086 mode:
 * the machine stops before the old task is saved or any busy bit changes. */
static void task_switch_to_v86_task_stops(void **state)
{
    (void)state;
    struct m *m = machine(0);
    const uint8_t task2[] = {0xF4};
    second_task(m, task2, sizeof task2);
    put32(m, TSS2 + 0x24, FL_VM | FL_R1);
    put32(m, TSS2 + 0x20, V86_EIP);
    put16(m, TSS2 + 0x4C, V86_CS);
    set_gdt(m, S_TSS, desc(TSS, TSS_LIMIT, P | DPL(0) | 0x0B, 0)); /* busy, as LTR leaves it */
    const uint8_t code[] = {0xEA, 0, 0, 0, 0, S_T1, 0}; /* ljmp $S_T1, $0 */
    enum run_result r = run(m, code, sizeof code, 10);
    assert_int_equal(r, RUN_UNSUPPORTED);
    const struct unsupported *u = &m->c.unsupported;
    assert_string_equal(u->what, "virtual-8086 mode is not supported");
    assert_string_equal(u->by, "task switch (far JMP)");
    assert_int_equal(u->cs, S_KCODE);
    assert_int_equal(u->eip, CODE);
    assert_int_equal(u->target_cs, V86_CS);
    assert_int_equal(u->target_eip, V86_EIP);
    assert_int_equal(m->c.eip, CODE);
    assert_int_equal(m->c.tr.sel, S_TSS);
    assert_int_equal(get32(m, TSS + 0x20), 0);   /* the old task was not saved */
    assert_true(tss_busy(m, S_TSS));
    assert_false(tss_busy(m, S_T1));
    assert_false(m->c.eflags & FL_VM);
    assert_int_equal(m->nev, 0);
    machine_free(m);

    /* The same through a task gate in the IDT (INT n): stopped at the INT. */
    m = machine(0);
    second_task(m, task2, sizeof task2);
    put32(m, TSS2 + 0x24, FL_VM | FL_R1);
    set_gdt(m, S_TSS, desc(TSS, TSS_LIMIT, P | DPL(0) | 0x0B, 0));
    set_idt(m, 0x40, gate(S_T1, 0, G_TASK, 0, true));
    const uint8_t code2[] = {0x90, 0xCD, 0x40}; /* nop; int $0x40 */
    r = run(m, code2, sizeof code2, 10);
    assert_int_equal(r, RUN_UNSUPPORTED);
    assert_string_equal(m->c.unsupported.by, "task switch (task gate in the IDT)");
    assert_int_equal(m->c.unsupported.eip, CODE + 1);
    assert_int_equal(m->c.eip, CODE + 1);
    assert_int_equal(m->c.tr.sel, S_TSS);
    assert_int_equal(m->nev, 0);
    machine_free(m);
}

int main(void)
{
    size_t nl = sizeof(load_rows) / sizeof(load_rows[0]);
    size_t ng = sizeof(gate_rows) / sizeof(gate_rows[0]);
    struct CMUnitTest *loads = calloc(nl + 1, sizeof(*loads));
    size_t nc = sizeof(call_rows) / sizeof(call_rows[0]);
    struct CMUnitTest *gates = calloc(ng, sizeof(*gates));
    struct CMUnitTest *calls = calloc(nc, sizeof(*calls));
    if (!loads || !gates || !calls)
        return 1;
    for (size_t k = 0; k < nc; k++)
        calls[k] = (struct CMUnitTest){call_rows[k].name, call_row_test, NULL, NULL,
                                       (void *)&call_rows[k]};
    for (size_t k = 0; k < nl; k++)
        loads[k] = (struct CMUnitTest){load_rows[k].name, load_row_test, NULL, NULL,
                                       (void *)&load_rows[k]};
    loads[nl] = (struct CMUnitTest){"null_ds_use_faults", null_ds_use_faults, NULL, NULL, NULL};
    for (size_t k = 0; k < ng; k++)
        gates[k] = (struct CMUnitTest){gate_rows[k].name, gate_row_test, NULL, NULL,
                                       (void *)&gate_rows[k]};
    int failed = _cmocka_run_group_tests("selector_loads", loads, nl + 1, NULL, NULL);
    failed += _cmocka_run_group_tests("delivery", gates, ng, NULL, NULL);
    failed += _cmocka_run_group_tests("call_gates", calls, nc, NULL, NULL);
    const struct CMUnitTest step[] = {
        cmocka_unit_test(single_step_traps_after_one),
        cmocka_unit_test(popf_setting_tf_traps_after_next),
        cmocka_unit_test(int_n_is_not_single_stepped),
    };
    failed += cmocka_run_group_tests_name("single_step", step, NULL, NULL);
    size_t nlim = sizeof(limit_rows) / sizeof(limit_rows[0]);
    size_t nfl = sizeof(flags_rows) / sizeof(flags_rows[0]);
    struct CMUnitTest *lims = calloc(nlim, sizeof(*lims));
    struct CMUnitTest *fls = calloc(nfl, sizeof(*fls));
    if (!lims || !fls)
        return 1;
    for (size_t k = 0; k < nlim; k++)
        lims[k] = (struct CMUnitTest){limit_rows[k].name, limit_row_test, NULL, NULL,
                                      (void *)&limit_rows[k]};
    for (size_t k = 0; k < nfl; k++)
        fls[k] = (struct CMUnitTest){flags_rows[k].name, flags_row_test, NULL, NULL,
                                     (void *)&flags_rows[k]};
    failed += _cmocka_run_group_tests("segment_limits", lims, nlim, NULL, NULL);
    failed += _cmocka_run_group_tests("popf_iret_flags", fls, nfl, NULL, NULL);
    free(lims);
    free(fls);
    const struct CMUnitTest tasks[] = {
        cmocka_unit_test(far_jmp_to_tss_switches_tasks),
        cmocka_unit_test(int_through_task_gate_and_iret_back),
        cmocka_unit_test(double_fault_through_task_gate),
        cmocka_unit_test(jmp_to_busy_tss_faults),
    };
    failed += cmocka_run_group_tests_name("task_switch", tasks, NULL, NULL);
    const struct CMUnitTest v86[] = {
        cmocka_unit_test(iret_to_v86_at_cpl0_stops),
        cmocka_unit_test(iret_with_vm_above_cpl0_is_ordinary),
        cmocka_unit_test(task_switch_to_v86_task_stops),
        cmocka_unit_test(fetch_beyond_cs_limit_faults),
    };
    failed += cmocka_run_group_tests_name("virtual_8086", v86, NULL, NULL);
    free(loads);
    free(gates);
    free(calls);
    return failed ? 1 : 0;
}
