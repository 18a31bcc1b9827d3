/* Fuzz target: a whole machine (cpu, RAM, PIC, PIT, UART, CMOS, debug-exit: machine.c) running
 * code the input describes, from a starting mode the input chooses.
 *
 * Structure-aware: the input is not the code's bytes but a description from which a small
 * kernel is built, so that nearly every input reaches the privileged machinery:
 *
 *   header (every field is XORed into a working default, so an all-zero header is a valid
 *   kernel at CPL 0 with flat segments)
 *     mode      bits 0-1 starting CPL; bit 2 paging (identity, 4 KiB pages); bit 3 external
 *               interrupts (PIC remapped to 0x20, PIT and UART interrupts on, EFLAGS.IF=1);
 *               bit 4 one 4 MiB page (CR4.PSE) instead; bit 5 the system pages (tables,
 *               stubs) are user pages; bit 6 TSS B is busy (a target for IRET with NT); bit 7
 *               the IDT gates lead into the generated code instead of the handler stubs
 *     cr        CR0 WP, AM, TS, EM, NE, MP (bits 0-5), CR4 SMEP, SMAP (bits 6-7)
 *     eflags    IOPL (bits 0-1), NT, AC, DF, TF, RF, VM (bits 2-7) of the first IRET's image
 *     gates     bit 0 #DF through a task gate; bit 1 trap gates instead of interrupt gates;
 *               bit 2 INT 0x80 gate DPL 0; bits 3-7 the call gates' parameter count
 *     pic       master and slave masks; pit: counter 0's count (16 bits); uart: IER
 *     msr       SYSENTER_CS, _ESP, _EIP (written by WRMSR in the prologue)
 *     regs      EAX..EDI at the first instruction (ESP: the stack of the starting ring)
 *     nmut      0..15 table mutations of 11 bytes: table (GDT, IDT, LDT, TSS A, TSS B, PTE,
 *               PDE), 16-bit index, 8 bytes of new contents (a dword for TSSs and paging)
 *   records, to the end of the input, each one instruction or a short macro:
 *     0x00-0x9F  a row of src/cpu/opcodes.def (16-bit row number follows) with its ModRM, SIB,
 *                displacement and immediates drawn from the input; bits 0-2 pick a prefix
 *                (0x66, REP, LOCK, FS:); relative and far targets are biased towards slots
 *                of the generated code, far selectors towards the interesting ones
 *     0xA0-0xBF  a selector load: MOV Sreg, LLDT, LTR, VERR/VERW, LAR/LSL of a selector from
 *                the table of interesting selectors (call gates, task gates, TSSs, rings 0-3,
 *                conforming, expand-down, 16-bit, LDT)
 *     0xC0-0xDF  a macro: SYSENTER with a return slot, RDMSR/WRMSR of an MSR, EFLAGS bits
 *                flipped by POPF, an IRET frame to another ring, MOV DRn, INT n
 *     0xE0-0xFF  1..14 raw bytes
 *
 * Each instruction sits alone in a 16-byte slot and is followed by a short jump to the next
 * slot, so the exception stubs (vectors 0..31) resume at the next slot (EIP + 16, rounded
 * down): one fault does not stop the rest of the code. Interrupt stubs (0x20..0x2F) send EOI.
 *
 * The machine runs in two cpu_run calls of BUDGET/2 units of device time. Properties, each
 * checked by abort() (libFuzzer then keeps the input): every event is described by the one
 * formatter (describe.c) in one line; every run ends by a budget, a halt, a
 * triple fault, the debug-exit port or an unsupported mode, never by a stop nobody asked for;
 * device time advanced by at most the budget, and by at least the budget when the run ended by
 * it (no run exceeds its budget in device time, but for the one unit an event of the run's last
 * instruction may wait: cpu.h cpu_run); an unsupported mode says what, by whom and
 * why; device time = instructions + idle + stall; instructions by ring and by address space
 * add up to the instruction count.
 * RINGSIDE_FUZZ_VERBOSE=1 prints how each run ended and what happened in it. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/insn.h"
#include "cpu/inspect.h"
#include "machine/machine.h"
#include "machine/snapshot.h"
#include "trace/describe.h"

/* Device time per input. A REP string instruction retires once per 4096 elements in RAM, once
 * per 64 device accesses (src/cpu/string.c), so one unit is bounded host work. Most inputs end
 * (debug-exit port) after a few hundred units. */
#define BUDGET 2000u

/* Physical layout (the first 4 MiB are identity-mapped when paging is on). */
#define GDT       0x1000u
#define IDT       0x2000u
#define TSS_A     0x3000u /* the task that runs: TR = 0x28 */
#define TSS_B     0x3400u /* the other task: TSS 0x30, task gates 0x48 and IDT 0x81 */
#define LDT       0x3800u
#define PD        0x4000u
#define PT        0x5000u
#define STUBS     0x6000u /* 16 bytes per vector, then the other stubs */
#define STUB_CG   (STUBS + 0x1000u) /* call-gate target: LRET with the parameters */
#define STUB_SYSENTER (STUB_CG + 0x10u)
#define STUB_TASK (STUB_CG + 0x20u)
#define PROLOGUE  0x8000u
#define DTR       0x9000u /* GDTR and IDTR images for LGDT and LIDT */
#define STACK0    0x20000u
#define STACK1    0x2C000u
#define STACK2    0x2E000u
#define STACK3    0x3C000u
#define STACK_B   0x18000u
#define STACK_SYSENTER 0x1C000u
#define DATA      0x180000u
#define CODE      0x100000u
#define SLOTS     1024u
#define SLOT      16u
#define MAX_INSN  14u /* an instruction plus its 2-byte jump fills a slot */

/* The GDT (selector = index * 8). */
static const uint64_t gdt_init[] = {
    0,
    0x00CF9A000000FFFFull, /* 0x08 code, DPL 0 */
    0x00CF92000000FFFFull, /* 0x10 data, DPL 0 */
    0x00CFFA000000FFFFull, /* 0x18 code, DPL 3 */
    0x00CFF2000000FFFFull, /* 0x20 data, DPL 3 */
    0,                     /* 0x28 TSS A (built below) */
    0,                     /* 0x30 TSS B */
    0,                     /* 0x38 LDT */
    0,                     /* 0x40 call gate DPL 3 -> 0x08 */
    0,                     /* 0x48 task gate DPL 3 -> TSS B */
    0x00CFBA000000FFFFull, /* 0x50 code, DPL 1 */
    0x00CFB2000000FFFFull, /* 0x58 data, DPL 1 */
    0x00CFDA000000FFFFull, /* 0x60 code, DPL 2 */
    0x00CFD2000000FFFFull, /* 0x68 data, DPL 2 */
    0x00CF9E000000FFFFull, /* 0x70 conforming code, DPL 0 */
    0x0040F60000000FFFull, /* 0x78 expand-down data, DPL 3, limit 0xFFF */
    0x0000FA100000FFFFull, /* 0x80 16-bit code, DPL 3, base 0x100000 */
    0,                     /* 0x88 call gate DPL 3 -> 0x50 (ring 1) */
    0x0000F2000000FFFFull, /* 0x90 16-bit data (stack), DPL 3 */
};
#define GDT_ENTRIES 32u

/* Selectors worth loading, jumping to and calling through. */
static const uint16_t selectors[] = {
    0x08, 0x10, 0x1B, 0x23, 0x28, 0x30, 0x38, 0x43, 0x4B, 0x51, 0x59, 0x62, 0x6A, 0x70, 0x7B,
    0x83, 0x8B, 0x93, 0x04, 0x0C, 0x17, 0x00, 0x03, 0x18, 0x20, 0x48, 0x40, 0xFFFF,
};
#define NSEL (sizeof selectors / sizeof selectors[0])

/* The rows of the opcode table. */
struct row {
    uint16_t key;
    int8_t ext;
    uint16_t flags;
};
static const struct row rows[] = {
#define X(key, ext, mnem, flags, handler) {(key), (ext), (flags)},
#include "cpu/opcodes.def"
#undef X
};
#define NROWS (sizeof rows / sizeof rows[0])

/* ---- reading the input: past its end every byte is 0 ---- */

struct input {
    const uint8_t *d;
    size_t n, pos;
};

static uint8_t u8(struct input *in)
{
    return in->pos < in->n ? in->d[in->pos++] : 0;
}

static uint16_t u16(struct input *in)
{
    uint16_t lo = u8(in);
    return (uint16_t)(lo | (uint16_t)u8(in) << 8);
}

static uint32_t u32(struct input *in)
{
    uint32_t lo = u16(in);
    return lo | (uint32_t)u16(in) << 16;
}

/* ---- writing code ---- */

struct code {
    uint8_t b[64];
    unsigned n;
};

static void b1(struct code *c, uint32_t v)
{
    if (c->n < sizeof c->b)
        c->b[c->n++] = (uint8_t)v;
}

static void b2(struct code *c, uint32_t v)
{
    b1(c, v);
    b1(c, v >> 8);
}

static void b4(struct code *c, uint32_t v)
{
    b2(c, v);
    b2(c, v >> 16);
}

/* A growing stretch of machine code at a physical address. */
struct stream {
    struct machine *m;
    uint32_t at;
};

static void put(struct stream *s, const struct code *c)
{
    cpu_write_phys(&s->m->cpu, s->at, c->b, c->n);
    s->at += c->n;
}

static void put_bytes(struct machine *m, uint32_t pa, const void *p, size_t n)
{
    cpu_write_phys(&m->cpu, pa, p, n);
}

static void put32(struct machine *m, uint32_t pa, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    put_bytes(m, pa, b, 4);
}

static void put64(struct machine *m, uint32_t pa, uint64_t v)
{
    put32(m, pa, (uint32_t)v);
    put32(m, pa + 4, (uint32_t)(v >> 32));
}

/* ---- descriptors ---- */

static uint64_t seg_desc(uint32_t base, uint32_t limit, unsigned type_byte, unsigned flags)
{
    return (uint64_t)(limit & 0xFFFF) | (uint64_t)(base & 0xFFFFFF) << 16 |
           (uint64_t)type_byte << 40 | (uint64_t)((limit >> 16) & 0xF) << 48 |
           (uint64_t)(flags & 0xF) << 52 | (uint64_t)(base >> 24) << 56;
}

static uint64_t gate_desc(uint16_t sel, uint32_t off, unsigned type_byte, unsigned params)
{
    return (uint64_t)(off & 0xFFFF) | (uint64_t)sel << 16 | (uint64_t)(params & 31) << 32 |
           (uint64_t)type_byte << 40 | (uint64_t)(off >> 16) << 48;
}

static bool has_error_code(unsigned v)
{
    return v == 8 || (v >= 10 && v <= 14) || v == 17 || v == 21;
}

/* The handler stub of vector v: exceptions resume at the next slot, IRQs send EOI. */
static void write_stub(struct machine *m, unsigned v)
{
    struct code c = {0};
    if (has_error_code(v))
        b1(&c, 0x83), b1(&c, 0xC4), b1(&c, 0x04); /* add $4, %esp */
    if (v < 32) {
        b1(&c, 0x83), b1(&c, 0x04), b1(&c, 0x24), b1(&c, SLOT);     /* addl $16, (%esp) */
        b1(&c, 0x83), b1(&c, 0x24), b1(&c, 0x24), b1(&c, 0xF0);     /* andl $-16, (%esp) */
    } else if (v >= 0x20 && v < 0x30) {
        b1(&c, 0x50);                                               /* push %eax */
        b1(&c, 0xB0), b1(&c, 0x20);                                 /* mov $0x20, %al */
        b1(&c, 0xE6), b1(&c, 0x20);                                 /* out %al, $0x20 */
        if (v >= 0x28)
            b1(&c, 0xE6), b1(&c, 0xA0);                             /* out %al, $0xA0 */
        b1(&c, 0x58);                                               /* pop %eax */
    }
    b1(&c, 0xCF);                                                   /* iret */
    put_bytes(m, STUBS + v * 16, c.b, c.n);
}

/* ---- the header ---- */

struct header {
    uint8_t mode, cr, eflags, gates;
    uint8_t pic_master, pic_slave, uart_ier;
    uint16_t pit_count;
    uint32_t msr[3];
    uint32_t regs[8];
};

static unsigned cpl_of(const struct header *h)
{
    return h->mode & 3;
}

static void write_tables(struct machine *m, const struct header *h)
{
    for (unsigned k = 0; k < sizeof gdt_init / sizeof gdt_init[0]; k++)
        put64(m, GDT + 8 * k, gdt_init[k]);
    put64(m, GDT + 0x28, seg_desc(TSS_A, 0x88, 0x89, 0));
    put64(m, GDT + 0x30, seg_desc(TSS_B, 0x67, (h->mode & 0x40) ? 0x8B : 0x89, 0));
    put64(m, GDT + 0x38, seg_desc(LDT, 0x3F, 0x82, 0));
    unsigned params = h->gates >> 3;
    put64(m, GDT + 0x40, gate_desc(0x08, STUB_CG, 0xEC, params));
    put64(m, GDT + 0x48, gate_desc(0x30, 0, 0xE5, 0));
    put64(m, GDT + 0x88, gate_desc(0x50, STUB_CG, 0xEC, params));
    /* The LDT: ring-3 code and data, a call gate, a data segment of DPL 0. */
    put64(m, LDT + 0x00, gdt_init[3]);
    put64(m, LDT + 0x08, gdt_init[4]);
    put64(m, LDT + 0x10, gate_desc(0x08, STUB_CG, 0xEC, params));
    put64(m, LDT + 0x18, gdt_init[2]);
    /* The IDT. */
    for (unsigned v = 0; v < 256; v++) {
        uint32_t target = (h->mode & 0x80) ? CODE + SLOT * ((v * 37u) % SLOTS) : STUBS + v * 16;
        unsigned type = (h->gates & 2) ? 0x8F : 0x8E;
        if (v == 3 || v == 4 || v == 0x80)
            type |= 0x60; /* INT3, INTO, INT 0x80 from ring 3 */
        if (v == 0x80 && (h->gates & 4))
            type &= ~0x60u;
        uint64_t g = gate_desc(0x08, target, type, 0);
        if (v == 0x81 || (v == 8 && (h->gates & 1)))
            g = gate_desc(0x30, 0, 0xE5, 0); /* task gate to TSS B, DPL 3 */
        put64(m, IDT + 8 * v, g);
        write_stub(m, v);
    }
    /* TSS A: the inner stacks, CR3, the back link for IRET with NT, an I/O bitmap for ports
     * 0x00..0xFF (all allowed) ending at the limit. */
    put32(m, TSS_A + 0x00, 0x30);
    put32(m, TSS_A + 0x04, STACK0), put32(m, TSS_A + 0x08, 0x10);
    put32(m, TSS_A + 0x0C, STACK1), put32(m, TSS_A + 0x10, 0x59);
    put32(m, TSS_A + 0x14, STACK2), put32(m, TSS_A + 0x18, 0x6A);
    put32(m, TSS_A + 0x1C, PD);
    put32(m, TSS_A + 0x64, 0x68u << 16);
    /* TSS B: a task that returns at once (IRET with NT, back to its caller). */
    put32(m, TSS_B + 0x04, STACK_B), put32(m, TSS_B + 0x08, 0x10);
    put32(m, TSS_B + 0x1C, PD);
    put32(m, TSS_B + 0x20, STUB_TASK);
    put32(m, TSS_B + 0x24, 0x2);
    put32(m, TSS_B + 0x38, STACK_B);
    static const unsigned segs[] = {0x48, 0x50, 0x54, 0x58, 0x5C};
    for (unsigned k = 0; k < 5; k++)
        put32(m, TSS_B + segs[k], 0x10);
    put32(m, TSS_B + 0x4C, 0x08);
    put32(m, TSS_B + 0x60, 0x38);
    put32(m, TSS_B + 0x64, 0x68u << 16);
    /* Paging: identity for the first 4 MiB. */
    bool user_sys = h->mode & 0x20;
    if (h->mode & 0x10) {
        put32(m, PD, 0x87); /* 4 MiB page, user, writable */
    } else {
        put32(m, PD, PT | 0x7);
        for (uint32_t p = 0; p < 1024; p++) {
            uint32_t pa = p << 12;
            bool sys = pa < 0x30000u; /* tables, stubs, the stacks of rings 0-2 */
            put32(m, PT + 4 * p, pa | ((sys && !user_sys) ? 0x3u : 0x7u));
        }
    }
    /* Other stubs: the call-gate target returns with its parameters, SYSENTER returns by
     * SYSEXIT (to EDX with ESP = ECX), task B returns to its caller and, entered again, does
     * it again. */
    struct code c = {0};
    b1(&c, 0xCA), b2(&c, 4 * params); /* lret $4n */
    put_bytes(m, STUB_CG, c.b, c.n);
    c.n = 0;
    b1(&c, 0x0F), b1(&c, 0x35); /* sysexit */
    put_bytes(m, STUB_SYSENTER, c.b, c.n);
    c.n = 0;
    b1(&c, 0xCF);               /* iret */
    b1(&c, 0xEB), b1(&c, 0xFD); /* jmp back to the iret */
    put_bytes(m, STUB_TASK, c.b, c.n);
}

/* Applies one table mutation (11 bytes). */
static void mutate(struct machine *m, struct input *in)
{
    unsigned which = u8(in) % 7;
    unsigned idx = u16(in);
    uint32_t lo = u32(in), hi = u32(in);
    switch (which) {
    case 0: put64(m, GDT + 8 * (idx % GDT_ENTRIES), (uint64_t)hi << 32 | lo); break;
    case 1: put64(m, IDT + 8 * (idx % 256), (uint64_t)hi << 32 | lo); break;
    case 2: put64(m, LDT + 8 * (idx % 8), (uint64_t)hi << 32 | lo); break;
    case 3: put32(m, TSS_A + 4 * (idx % 34), lo); break;
    case 4: put32(m, TSS_B + 4 * (idx % 26), lo); break;
    case 5: put32(m, PT + 4 * (idx % 1024), lo); break;
    default: put32(m, PD + 4 * (idx % 1024), lo); break;
    }
}

/* The prologue: a kernel's start, run at CPL 0 from the Multiboot hand-over. */
static void write_prologue(struct machine *m, const struct header *h)
{
    struct stream s = {m, PROLOGUE};
    struct code c = {0};
    uint8_t dtr[12] = {GDT_ENTRIES * 8 - 1, 0, GDT & 0xFF, GDT >> 8, 0, 0,
                       0xFF, 0x07, IDT & 0xFF, IDT >> 8, 0, 0};
    put_bytes(m, DTR, dtr, sizeof dtr);
    b1(&c, 0x0F), b1(&c, 0x01), b1(&c, 0x15), b4(&c, DTR);     /* lgdt DTR */
    b1(&c, 0x0F), b1(&c, 0x01), b1(&c, 0x1D), b4(&c, DTR + 6); /* lidt DTR+6 */
    put(&s, &c);
    c.n = 0;
    b1(&c, 0xEA), b4(&c, s.at + 7), b2(&c, 0x08);              /* ljmp $0x08, next */
    b1(&c, 0x66), b1(&c, 0xB8), b2(&c, 0x10);                  /* mov $0x10, %ax */
    static const uint8_t sregs[] = {0xD8, 0xC0, 0xE0, 0xE8, 0xD0};
    for (unsigned k = 0; k < 5; k++)
        b1(&c, 0x8E), b1(&c, sregs[k]);                        /* mov %ax, %ds.. %ss */
    b1(&c, 0xBC), b4(&c, STACK0);                              /* mov $STACK0, %esp */
    b1(&c, 0x66), b1(&c, 0xB8), b2(&c, 0x28);
    b1(&c, 0x0F), b1(&c, 0x00), b1(&c, 0xD8);                  /* ltr %ax */
    b1(&c, 0x66), b1(&c, 0xB8), b2(&c, 0x38);
    b1(&c, 0x0F), b1(&c, 0x00), b1(&c, 0xD0);                  /* lldt %ax */
    put(&s, &c);
    c.n = 0;
    uint32_t cr0 = CR0_PE | CR0_ET;
    static const uint32_t cr0_bits[] = {CR0_WP, CR0_AM, CR0_TS, CR0_EM, CR0_NE, CR0_MP};
    for (unsigned k = 0; k < 6; k++)
        if (h->cr & (1u << k))
            cr0 |= cr0_bits[k];
    if (h->mode & 4) {
        uint32_t cr4 = ((h->mode & 0x10) ? CR4_PSE : 0) | ((h->cr & 0x40) ? CR4_SMEP : 0) |
                       ((h->cr & 0x80) ? CR4_SMAP : 0);
        b1(&c, 0xB8), b4(&c, cr4), b1(&c, 0x0F), b1(&c, 0x22), b1(&c, 0xE0); /* mov cr4 */
        b1(&c, 0xB8), b4(&c, PD), b1(&c, 0x0F), b1(&c, 0x22), b1(&c, 0xD8);  /* mov cr3 */
        cr0 |= CR0_PG;
    }
    b1(&c, 0xB8), b4(&c, cr0), b1(&c, 0x0F), b1(&c, 0x22), b1(&c, 0xC0);     /* mov cr0 */
    put(&s, &c);
    for (unsigned k = 0; k < 3; k++) {
        c.n = 0;
        b1(&c, 0xB9), b4(&c, 0x174 + k);                      /* mov $msr, %ecx */
        b1(&c, 0xB8), b4(&c, h->msr[k]);                      /* mov $value, %eax */
        b1(&c, 0x31), b1(&c, 0xD2);                           /* xor %edx, %edx */
        b1(&c, 0x0F), b1(&c, 0x30);                           /* wrmsr */
        put(&s, &c);
    }
    uint32_t eflags = 0x2;
    if (h->mode & 8) {
        /* 8259A pair: ICW1..ICW4 (vectors 0x20 and 0x28), then the masks; PIT counter 0 in
         * rate-generator mode; the UART's interrupt enables. */
        static const uint8_t pic[2][5] = {{0x11, 0x20, 0x04, 0x01, 0}, {0x11, 0x28, 0x02, 0x01, 0}};
        for (unsigned k = 0; k < 2; k++) {
            uint8_t base = k ? 0xA0 : 0x20;
            for (unsigned w = 0; w < 5; w++) {
                c.n = 0;
                uint8_t v = w < 4 ? pic[k][w] : (k ? h->pic_slave : h->pic_master);
                b1(&c, 0xB0), b1(&c, v), b1(&c, 0xE6), b1(&c, w ? base + 1 : base);
                put(&s, &c);
            }
        }
        c.n = 0;
        b1(&c, 0xB0), b1(&c, 0x34), b1(&c, 0xE6), b1(&c, 0x43);
        b1(&c, 0xB0), b1(&c, h->pit_count), b1(&c, 0xE6), b1(&c, 0x40);
        b1(&c, 0xB0), b1(&c, h->pit_count >> 8), b1(&c, 0xE6), b1(&c, 0x40);
        b1(&c, 0x66), b1(&c, 0xBA), b2(&c, 0x3F9);            /* mov $0x3F9, %dx */
        b1(&c, 0xB0), b1(&c, h->uart_ier), b1(&c, 0xEE);      /* out %al, %dx */
        put(&s, &c);
        eflags |= FL_IF;
    }
    static const uint32_t efl_bits[] = {FL_NT, FL_AC, FL_DF, FL_TF, FL_RF, FL_VM};
    eflags |= (uint32_t)(h->eflags & 3) << 12;
    for (unsigned k = 0; k < 6; k++)
        if (h->eflags & (4u << k))
            eflags |= efl_bits[k];
    /* The first IRET: to the code, at the starting CPL, with that ring's data segments. */
    static const uint16_t cs_of[4] = {0x08, 0x51, 0x62, 0x1B};
    static const uint16_t ds_of[4] = {0x10, 0x59, 0x6A, 0x23};
    static const uint32_t sp_of[4] = {STACK0, STACK1, STACK2, STACK3};
    unsigned cpl = cpl_of(h);
    c.n = 0;
    if (cpl > 0) {
        b1(&c, 0x68), b4(&c, ds_of[cpl]);                       /* push $ss */
        b1(&c, 0x68), b4(&c, sp_of[cpl] ^ h->regs[ESP]);        /* push $esp */
    }
    b1(&c, 0x68), b4(&c, eflags);
    b1(&c, 0x68), b4(&c, cs_of[cpl]);
    b1(&c, 0x68), b4(&c, CODE);
    put(&s, &c);
    c.n = 0;
    b1(&c, 0x66), b1(&c, 0xB8), b2(&c, ds_of[cpl]);
    for (unsigned k = 0; k < 4; k++)
        b1(&c, 0x8E), b1(&c, sregs[k]);                         /* mov %ax, %ds..%gs */
    for (unsigned r = 0; r < 8; r++)
        if (r != ESP)
            b1(&c, 0xB8 + r), b4(&c, h->regs[r]);               /* mov $v, %reg */
    b1(&c, 0xCF);                                               /* iret */
    put(&s, &c);
}

/* ---- the generated code ---- */

static uint32_t slot_addr(unsigned slot)
{
    return CODE + SLOT * (slot % SLOTS);
}

/* ModRM (with the row's group member and memory-only rule), SIB and displacement. */
static void modrm(struct code *c, struct input *in, const struct row *r)
{
    uint8_t m = u8(in);
    if (r->ext >= 0)
        m = (uint8_t)((m & 0xC7) | r->ext << 3);
    if ((r->flags & F_MEM) && (m & 0xC0) == 0xC0)
        m &= 0x3F;
    b1(c, m);
    if (r->flags & F_CREG)
        return;
    unsigned mod = m >> 6, rm = m & 7;
    if (mod == 3)
        return;
    if (rm == 4) {
        uint8_t sib = u8(in);
        b1(c, sib);
        if (mod == 0 && (sib & 7) == 5)
            b4(c, DATA + u16(in));
    }
    if (mod == 0 && rm == 5)
        b4(c, DATA + u16(in));
    else if (mod == 1)
        b1(c, u8(in));
    else if (mod == 2)
        b4(c, (uint32_t)(int32_t)(int16_t)u16(in));
}

/* One row of the opcode table at slot address `at`. */
static void table_insn(struct code *c, struct input *in, uint8_t t, uint32_t at)
{
    const struct row *r = &rows[u16(in) % NROWS];
    if (r->key == 0xFFFF)
        r = &rows[1];
    unsigned osize = 4;
    switch (t & 7) {
    case 4: b1(c, 0x66), osize = 2; break;
    case 5: b1(c, 0xF3); break;
    case 6: b1(c, 0xF0); break;
    case 7: b1(c, 0x64); break;
    default: break;
    }
    if (r->key >= 0x100)
        b1(c, 0x0F);
    b1(c, r->key & 0xFF);
    if (r->flags & F_MODRM)
        modrm(c, in, r);
    bool rel = (r->flags & F_END) && !(r->flags & F_MODE);
    if (r->flags & F_PTR) {
        uint32_t off = slot_addr(u8(in));
        uint16_t sel = selectors[u8(in) % NSEL];
        if ((sel & ~3u) == 0x80)
            off -= CODE; /* the 16-bit code segment starts at CODE */
        if (osize == 4)
            b4(c, off);
        else
            b2(c, off);
        b2(c, sel);
    } else if (r->flags & F_IWB) {
        b2(c, u8(in)), b1(c, u8(in) & 3);
    } else if (r->flags & F_MOFFS) {
        b4(c, DATA + u16(in));
    } else if (r->flags & F_IZ) {
        if (rel && osize == 4) {
            /* CALL/JMP/Jcc rel32: to a slot. */
            unsigned len = c->n + 4;
            b4(c, slot_addr(u8(in)) - (at + len));
        } else if (osize == 4) {
            b4(c, u32(in));
        } else {
            b2(c, u16(in));
        }
    } else if (r->flags & F_IW) {
        b2(c, u16(in) & 0x3F);
    } else if (r->flags & F_IB) {
        b1(c, u8(in));
    }
}

/* A selector load (0xA0-0xBF). */
static void selector_macro(struct code *c, struct input *in, uint8_t t)
{
    uint16_t sel = selectors[u8(in) % NSEL];
    b1(c, 0x66), b1(c, 0xB8), b2(c, sel); /* mov $sel, %ax */
    unsigned k = t & 0xF;
    if (k < 6) {
        b1(c, 0x8E), b1(c, 0xC0 | (k << 3)); /* mov %ax, %sreg (CS: #UD) */
        return;
    }
    switch (k) {
    case 6: b1(c, 0x0F), b1(c, 0x00), b1(c, 0xD0); break;              /* lldt %ax */
    case 7: b1(c, 0x0F), b1(c, 0x00), b1(c, 0xD8); break;              /* ltr %ax */
    case 8: b1(c, 0x0F), b1(c, 0x00), b1(c, 0xE0); break;              /* verr %ax */
    case 9: b1(c, 0x0F), b1(c, 0x00), b1(c, 0xE8); break;              /* verw %ax */
    case 10: b1(c, 0x0F), b1(c, 0x02), b1(c, 0xC8); break;             /* lar %ax, %ecx */
    case 11: b1(c, 0x0F), b1(c, 0x03), b1(c, 0xC8); break;             /* lsl %ax, %ecx */
    case 12: b1(c, 0x50), b1(c, 0x1F); break;                          /* push; pop %ds */
    case 13: b1(c, 0x50), b1(c, 0x17); break;                          /* push; pop %ss */
    case 14: b1(c, 0x66), b1(c, 0x6A), b1(c, 0), b1(c, 0x50), b1(c, 0xCB); break; /* lret */
    default: b1(c, 0x8E), b1(c, 0xE0 | (u8(in) & 8)); break;           /* %fs or %gs */
    }
}

/* The macros (0xC0-0xDF), each one slot. */
static void misc_macro(struct code *c, struct input *in, uint8_t t, uint32_t at)
{
    static const uint32_t msrs[] = {0x174, 0x175, 0x176, 0x10, 0x1B, 0xC0000080u};
    switch (t & 7) {
    case 0: /* SYSENTER, returning (SYSEXIT) to the next slot */
        b1(c, 0xBA), b4(c, at + SLOT);      /* mov $next, %edx */
        b1(c, 0x89), b1(c, 0xE1);           /* mov %esp, %ecx */
        b1(c, 0x0F), b1(c, 0x34);           /* sysenter */
        break;
    case 1: /* RDMSR or WRMSR */
        b1(c, 0xB9), b4(c, msrs[u8(in) % 6]);
        b1(c, 0x0F), b1(c, (u8(in) & 1) ? 0x30 : 0x32);
        break;
    case 2: /* flip EFLAGS bits through POPF */
        b1(c, 0x9C);                                  /* pushf */
        b1(c, 0x81), b1(c, 0x34), b1(c, 0x24);        /* xorl $imm, (%esp) */
        b4(c, (uint32_t)u16(in) << 8);
        b1(c, 0x9D);                                  /* popf */
        break;
    case 3: /* MOV DRn in either direction */
        b1(c, 0x0F), b1(c, (u8(in) & 1) ? 0x23 : 0x21), b1(c, 0xC0 | (u8(in) & 0x3F));
        break;
    case 4: /* INT n */
        b1(c, 0xCD), b1(c, u8(in));
        break;
    case 5: /* mov $v, %ecx; CLTS / INVLPG (%ecx) / LMSW %cx / WBINVD */
        b1(c, 0xB9), b4(c, DATA + u16(in));
        switch (u8(in) & 3) {
        case 0: b1(c, 0x0F), b1(c, 0x06); break;
        case 1: b1(c, 0x0F), b1(c, 0x01), b1(c, 0x39); break;
        case 2: b1(c, 0x0F), b1(c, 0x01), b1(c, 0xF1); break;
        default: b1(c, 0x0F), b1(c, 0x09); break;
        }
        break;
    case 6: /* CMPXCHG8B / CMPXCHG on data */
        b1(c, 0xBE), b4(c, DATA + (u16(in) & 0xFFF8));               /* mov $a, %esi */
        if (u8(in) & 1)
            b1(c, 0xF0);
        b1(c, 0x0F), b1(c, 0xC7), b1(c, 0x0E);                       /* cmpxchg8b (%esi) */
        break;
    default: /* HLT (waits for an interrupt when IF=1) */
        b1(c, 0xF4);
        break;
    }
}

/* Builds the code from the records; returns the number of slots used. */
static unsigned write_code(struct machine *m, struct input *in)
{
    unsigned slot = 0;
    while (in->pos < in->n && slot < SLOTS - 4) {
        uint32_t at = slot_addr(slot);
        struct code c = {0};
        uint8_t t = u8(in);
        if (t < 0xA0) {
            table_insn(&c, in, t, at);
        } else if (t < 0xC0) {
            selector_macro(&c, in, t);
        } else if (t < 0xE0) {
            misc_macro(&c, in, t, at);
        } else {
            unsigned n = (t & 0xF) + 1;
            for (unsigned k = 0; k < n && k < MAX_INSN; k++)
                b1(&c, u8(in));
        }
        if (c.n > MAX_INSN)
            c.n = MAX_INSN; /* a cut instruction: the decoder decides */
        /* jmp to the next slot, and int3 as filler */
        b1(&c, 0xEB), b1(&c, SLOT - c.n - 1);
        while (c.n < SLOT)
            b1(&c, 0xCC);
        put_bytes(m, at, c.b, SLOT);
        slot++;
    }
    /* The end: the debug-exit port, then HLT, then back to the start. */
    struct code c = {0};
    b1(&c, 0xB0), b1(&c, 0x00), b1(&c, 0xE6), b1(&c, 0xF4);   /* mov $0, %al; out %al, $0xF4 */
    b1(&c, 0xF4);                                             /* hlt */
    uint32_t at = slot_addr(slot);
    b1(&c, 0xE9), b4(&c, CODE - (at + c.n + 5));              /* jmp CODE */
    put_bytes(m, at, c.b, c.n);
    return slot;
}

/* ---- the properties ---- */

static void fail(const char *what, unsigned long long a, unsigned long long b)
{
    fprintf(stderr, "fuzz_cpu: %s (%llu, %llu)\n", what, a, b);
    abort();
}

static void check_run(const struct cpu *c, enum run_result r, uint64_t before, uint64_t budget,
                      uint64_t stall_before)
{
    if (r != RUN_LIMIT && r != RUN_HALT && r != RUN_SHUTDOWN && r != RUN_EXIT &&
        r != RUN_UNSUPPORTED)
        fail("cpu_run ended in an unexpected way", r, 0);
    uint64_t now = cpu_time(c);
    if (now < before)
        fail("device time went backwards", before, now);
    /* One unit past the budget only when the last instruction's event waited its unit (an
     * instruction started within the budget completes; cpu.h cpu_run) */
    if (now - before > budget + (cpu_stat_stall(c) > stall_before ? 1 : 0))
        fail("a run exceeded its budget in device time", now - before, budget);
    if (r == RUN_LIMIT && now - before < budget)
        fail("a run ended by its budget before using it", now - before, budget);
    if (r == RUN_HALT && !cpu_is_halted(c))
        fail("RUN_HALT but the cpu is not halted", 0, 0);
    if (r == RUN_UNSUPPORTED) {
        const struct unsupported *u = cpu_get_unsupported(c);
        if (!u || !u->what || !u->by || !u->why)
            fail("RUN_UNSUPPORTED without what, by whom and why", 0, 0);
    }
    uint64_t insns = cpu_stat_insns(c);
    if (now != insns + cpu_stat_idle(c) + cpu_stat_stall(c))
        fail("device time is not instructions + idle + stall", now, insns);
    uint64_t rings = 0, spaces = 0;
    for (unsigned k = 0; k < 4; k++)
        rings += cpu_stat_ring(c, k);
    uint32_t cr3;
    uint64_t kernel, user, user_total = 0;
    for (unsigned k = 0; cpu_stat_space(c, k, &cr3, &kernel, &user); k++)
        spaces += kernel + user, user_total += user;
    if (rings != insns || spaces != insns)
        fail("the accounting does not add up", rings, spaces);
    if (user_total != cpu_stat_ring(c, 3))
        fail("user instructions by address space differ from ring 3's", user_total,
             cpu_stat_ring(c, 3));
}

/* One machine for the whole process, put back into its freshly created state before each
 * input by restoring a snapshot taken right after creation (machine/snapshot.h): creating a
 * machine costs about 10 MiB of zeroed memory (RAM, the decoded-code arena and index), which
 * was nine tenths of the time per input. RINGSIDE_FUZZ_FRESH=1 creates a new machine for every
 * input instead (to rule the snapshot out when a finding does not reproduce). These two are the
 * harness's only state; the core has none. */
static struct machine *shared;
static struct snapshot *pristine;

/* Every event goes through the one formatter, as --log int would print it: the line must be
 * one line, and the event's kind known. */
static void describe_sink(void *ctx, const struct trace_event *ev)
{
    (void)ctx;
    char line[512];
    int n = describe_event(ev, line, sizeof line);
    if (n <= 0 || strchr(line, '\n'))
        fail("describe_event gave no line, or more than one", (unsigned long long)n, ev->kind);
    if (strcmp(trace_kind_name(ev->kind), "?") == 0)
        fail("an event of no known kind", ev->kind, 0);
    n = describe_fault(ev->vector, ev->has_error, ev->error, &ev->detail, line, sizeof line);
    if (n <= 0 || strchr(line, '\n'))
        fail("describe_fault gave no line, or more than one", (unsigned long long)n, ev->vector);
}

static struct machine *fresh_machine(void)
{
    struct machine *m = machine_create(MACHINE_MEM_MIN_MIB, NULL, NULL);
    if (m) {
        machine_set_ips(m, 1193182); /* one PIT tick per instruction: interrupts come often */
        cpu_add_sink(&m->cpu, describe_sink, NULL);
    }
    return m;
}

static struct machine *get_machine(void)
{
    const char *e = getenv("RINGSIDE_FUZZ_FRESH");
    if (e && *e && strcmp(e, "0") != 0)
        return fresh_machine();
    if (!shared) {
        shared = fresh_machine();
        if (!shared)
            return NULL;
        pristine = machine_snapshot(shared);
        if (!pristine) {
            machine_destroy(shared);
            shared = NULL;
            return NULL;
        }
        return shared;
    }
    if (machine_restore(shared, pristine) != 0)
        fail("the pristine snapshot could not be restored", 0, 0);
    return shared;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct input in = {data, size, 0};
    struct header h;
    h.mode = u8(&in);
    h.cr = u8(&in);
    h.eflags = u8(&in);
    h.gates = u8(&in);
    h.pic_master = u8(&in) ^ 0xEA; /* IRQ 0, 2 (cascade) and 4 unmasked */
    h.pic_slave = u8(&in) ^ 0xFF;
    h.uart_ier = u8(&in) ^ 0x02;   /* transmitter empty */
    h.pit_count = u16(&in) ^ 200;
    h.msr[0] = u32(&in) ^ 0x08;
    h.msr[1] = u32(&in) ^ STACK_SYSENTER;
    h.msr[2] = u32(&in) ^ STUB_SYSENTER;
    static const uint32_t regs0[8] = {DATA, 0x10, DATA + 0x100, DATA + 0x200, 0,
                                      STACK3 - 0x100, DATA + 0x300, DATA + 0x400};
    for (unsigned r = 0; r < 8; r++)
        h.regs[r] = u32(&in) ^ regs0[r];

    struct machine *m = get_machine();
    if (!m)
        return 0;
    write_tables(m, &h);
    unsigned nmut = u8(&in) & 15;
    for (unsigned k = 0; k < nmut; k++)
        mutate(m, &in);
    write_prologue(m, &h);
    write_code(m, &in);
    machine_boot(m, PROLOGUE, 0, 0);

    struct cpu *c = &m->cpu;
    enum run_result r = RUN_LIMIT;
    for (unsigned k = 0; k < 2 && r == RUN_LIMIT; k++) {
        uint64_t before = cpu_time(c), stall_before = cpu_stat_stall(c);
        r = cpu_run(c, BUDGET / 2);
        if (getenv("RINGSIDE_FUZZ_VERBOSE"))
            fprintf(stderr,
                    "fuzz_cpu: %s after %llu units: %llu instructions (ring 3: %llu), stall "
                    "%llu, idle %llu, %llu exceptions, %llu interrupts, %llu task switches\n",
                    run_result_name(r), (unsigned long long)(cpu_time(c) - before),
                    (unsigned long long)cpu_stat_insns(c),
                    (unsigned long long)cpu_stat_ring(c, 3),
                    (unsigned long long)cpu_stat_stall(c), (unsigned long long)cpu_stat_idle(c),
                    (unsigned long long)cpu_stat_events(c, TR_EXCEPTION),
                    (unsigned long long)cpu_stat_events(c, TR_INTERRUPT),
                    (unsigned long long)cpu_stat_events(c, TR_TASK));
        check_run(c, r, before, BUDGET / 2, stall_before);
    }
    if (m != shared)
        machine_destroy(m);
    return 0;
}
