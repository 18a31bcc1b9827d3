/* The inspection API (src/cpu/inspect.h) against a real cpu: registers (EFLAGS over a pending
 * lazy-flag state; control registers flushing translations as MOV CRn does), segment
 * registers, descriptor tables (reads beyond the limit are errors, not faults), memory (unmapped
 * and non-RAM addresses are errors with the bytes done and where it stopped, never an abort;
 * reads leave the accessed/dirty bits alone; writes reach decoded code), the page walker
 * against hand-built tables for every refusal reason, and the statistics getters.
 *
 * Machine (RAM 2 MiB):
 *   0x1000 GDT  0x1800 LDT  0x8000 code  0x10000 page directory  0x11000 page table (0..4 MiB)
 *   linear 0x000000-0x0FFFFF -> identity, supervisor, writable
 *   linear 0x200000 -> 0x50000 user writable (A = D = 0)   0x201000 not present
 *   linear 0x202000 -> 0x52000 user read-only              0x203000 -> 0x300000 (not RAM)
 *   PDE[1]: a 4 MiB page with reserved bit 13 set; PDE[3]: a page table outside RAM
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cpu/inspect.h"
#include "cpu/flags.h"
#include "devices/bus.h"

#define RAM_SIZE (2u << 20)
#define GDT 0x1000u
#define LDT 0x1800u
#define CODE 0x8000u
#define PD 0x10000u
#define PT 0x11000u
#define PAGE_U 0x50000u
#define PAGE_RO 0x52000u
#define LIN_U 0x200000u
#define LIN_HOLE 0x201000u
#define LIN_RO 0x202000u
#define LIN_NORAM 0x203000u

struct t {
    struct cpu c;
    struct bus bus;
    uint8_t *ram;
};

static uint32_t get32(struct t *t, uint32_t pa)
{
    uint32_t v;
    memcpy(&v, t->ram + pa, 4);
    return v;
}

static void put32(struct t *t, uint32_t pa, uint32_t v) { memcpy(t->ram + pa, &v, 4); }

static struct t *new_cpu(void)
{
    struct t *t = calloc(1, sizeof *t);
    assert_non_null(t);
    t->ram = calloc(1, RAM_SIZE);
    assert_non_null(t->ram);
    bus_init(&t->bus);
    assert_int_equal(cpu_init(&t->c, t->ram, RAM_SIZE, &t->bus), 0);
    cpu_reset_protected_flat(&t->c, CODE);
    /* page tables (used when a test turns paging on) */
    put32(t, PD + 0, PT | PTE_P | PTE_W | PTE_U);
    put32(t, PD + 4, 0x00400000u | PDE_PS | PTE_P | PTE_W | 0x2000u); /* reserved bit 13 */
    put32(t, PD + 12, 0x01000000u | PTE_P | PTE_W);                   /* table outside RAM */
    for (uint32_t k = 0; k < 256; k++)
        put32(t, PT + 4 * k, (k << 12) | PTE_P | PTE_W);
    put32(t, PT + 4 * (LIN_U >> 12), PAGE_U | PTE_P | PTE_W | PTE_U);
    put32(t, PT + 4 * (LIN_RO >> 12), PAGE_RO | PTE_P | PTE_U);
    put32(t, PT + 4 * (LIN_NORAM >> 12), 0x300000u | PTE_P | PTE_W);
    return t;
}

static void paging_on(struct t *t, uint32_t cr0_extra, uint32_t cr4)
{
    assert_int_equal(cpu_set_reg(&t->c, REG_CR3, PD), INSP_OK);
    assert_int_equal(cpu_set_reg(&t->c, REG_CR4, cr4), INSP_OK);
    assert_int_equal(cpu_set_reg(&t->c, REG_CR0, CR0_PE | CR0_PG | cr0_extra), INSP_OK);
}

static void free_cpu(struct t *t)
{
    cpu_free(&t->c);
    free(t->ram);
    free(t);
}

/* Writes code at CODE (through the API: decoded copies die) and runs it to its HLT. */
static void run(struct t *t, const char *bytes, size_t n)
{
    struct xfer x = cpu_write_linear(&t->c, CODE, bytes, n);
    assert_int_equal(x.status, INSP_OK);
    assert_int_equal(x.done, n);
    cpu_set_reg(&t->c, REG_EIP, CODE);
    assert_int_equal(cpu_run(&t->c, 100), RUN_HALT);
}

/* ---- registers ---- */

static void registers_round_trip(void **state)
{
    (void)state;
    struct t *t = new_cpu();
    struct cpu *c = &t->c;
    static const enum cpu_reg plain[] = {
        REG_EAX, REG_ECX, REG_EDX, REG_EBX, REG_ESP, REG_EBP, REG_ESI, REG_EDI, REG_EIP,
        REG_CR2, REG_CR3, REG_DR0, REG_DR1, REG_DR2, REG_DR3,
        REG_SYSENTER_ESP, REG_SYSENTER_EIP,
    };
    for (unsigned k = 0; k < sizeof plain / sizeof plain[0]; k++) {
        uint32_t v = 0x10203040u + 0x01010101u * k;
        assert_int_equal(cpu_set_reg(c, plain[k], v), INSP_OK);
        assert_int_equal(cpu_get_reg(c, plain[k]), v);
    }
    assert_int_equal(c->r[EBX], cpu_get_reg(c, REG_EBX)); /* ModRM order */
    /* DR4/DR5 alias DR6/DR7 */
    cpu_set_reg(c, REG_DR4, 0xFFFF0FF0u);
    assert_int_equal(cpu_get_reg(c, REG_DR6), 0xFFFF0FF0u);
    cpu_set_reg(c, REG_DR7, 0x400u);
    assert_int_equal(cpu_get_reg(c, REG_DR5), 0x400u);
    /* DR6 and DR7 hold only their defined bits; the reserved ones read as the SDM says */
    cpu_set_reg(c, REG_DR6, 0);
    assert_int_equal(cpu_get_reg(c, REG_DR6), 0xFFFF0FF0u);
    cpu_set_reg(c, REG_DR6, 0xFFFFFFFFu);
    assert_int_equal(cpu_get_reg(c, REG_DR6), 0xFFFFEFFFu);
    cpu_set_reg(c, REG_DR7, 0xFFFFFFFFu);
    assert_int_equal(cpu_get_reg(c, REG_DR7), 0xFFFF27FFu);
    /* SYSENTER_CS keeps 16 bits, like WRMSR */
    cpu_set_reg(c, REG_SYSENTER_CS, 0x12340008u);
    assert_int_equal(cpu_get_reg(c, REG_SYSENTER_CS), 0x0008);
    /* CR0: ET always set; MOV CR0's #GP cases and real mode refused, nothing changed */
    assert_int_equal(cpu_set_reg(c, REG_CR0, CR0_PE | CR0_WP), INSP_OK);
    assert_int_equal(cpu_get_reg(c, REG_CR0), CR0_PE | CR0_WP | CR0_ET);
    assert_int_equal(cpu_set_reg(c, REG_CR0, CR0_PG), INSP_BAD_VALUE);
    assert_int_equal(cpu_set_reg(c, REG_CR0, CR0_PE | CR0_NW), INSP_BAD_VALUE);
    assert_int_equal(cpu_set_reg(c, REG_CR0, CR0_ET), INSP_BAD_VALUE);
    assert_int_equal(cpu_get_reg(c, REG_CR0), CR0_PE | CR0_WP | CR0_ET);
    /* CR4: only the implemented bits */
    assert_int_equal(cpu_set_reg(c, REG_CR4, CR4_PSE | CR4_SMEP), INSP_OK);
    assert_int_equal(cpu_get_reg(c, REG_CR4), CR4_PSE | CR4_SMEP);
    assert_int_equal(cpu_set_reg(c, REG_CR4, 0x20 /* PAE */), INSP_BAD_VALUE);
    assert_int_equal(cpu_get_reg(c, REG_CR4), CR4_PSE | CR4_SMEP);
    /* EFLAGS: VM refused, reserved bits 0, bit 1 set */
    assert_int_equal(cpu_set_reg(c, REG_EFLAGS, FL_VM | FL_R1), INSP_BAD_VALUE);
    assert_int_equal(cpu_set_reg(c, REG_EFLAGS, 0xFFC08028u | FL_IF), INSP_OK);
    assert_int_equal(cpu_get_reg(c, REG_EFLAGS), FL_R1 | FL_IF);
    /* unknown registers */
    assert_int_equal(cpu_set_reg(c, REG_COUNT, 1), INSP_BAD_REG);
    assert_int_equal(cpu_get_reg(c, REG_COUNT), 0);
    assert_string_equal(cpu_reg_name(REG_EFLAGS), "eflags");
    assert_string_equal(cpu_reg_name(REG_SYSENTER_CS), "sysenter_cs");
    assert_null(cpu_reg_name(REG_COUNT));
    assert_int_equal(cpu_get_cpl(c), 0);
    free_cpu(t);
}

/* EFLAGS set over a pending lazy-flag state: the value set is the value read and the value the
 * next conditional jump sees. */
static void eflags_set_over_lazy_flags(void **state)
{
    (void)state;
    struct t *t = new_cpu();
    struct cpu *c = &t->c;
    run(t, "\xb8\x01\x00\x00\x00\x83\xf8\x02\xf4", 9); /* mov eax, 1; cmp eax, 2; hlt */
    assert_int_not_equal(c->lf.op, LF_NONE); /* the compare's flags are still lazy */
    uint32_t f = cpu_get_reg(c, REG_EFLAGS);
    assert_int_equal(f & (FL_CF | FL_SF | FL_ZF), FL_CF | FL_SF); /* 1 - 2 */
    assert_int_equal(cpu_set_reg(c, REG_EFLAGS, FL_R1 | FL_ZF), INSP_OK);
    assert_int_equal(c->lf.op, LF_NONE);
    assert_int_equal(cpu_get_reg(c, REG_EFLAGS), FL_R1 | FL_ZF);
    /* jz +1 (over a hlt); nop; hlt: with ZF set the jump is taken */
    memcpy(t->ram + CODE + 0x100, "\x74\x01\xf4\x90\xf4", 5);
    cpu_flush_decoded(c);
    cpu_set_reg(c, REG_EIP, CODE + 0x100);
    assert_int_equal(cpu_run(c, 10), RUN_HALT);
    assert_int_equal(cpu_get_reg(c, REG_EIP), CODE + 0x105);
    free_cpu(t);
}

/* A CR3 load drops the cached translations (a changed PTE is seen), as MOV CR3 does; without
 * it the TLB keeps the old one (what makes this test mean something). */
static void cr3_set_flushes_translations(void **state)
{
    (void)state;
    struct t *t = new_cpu();
    struct cpu *c = &t->c;
    put32(t, PAGE_U, 0x11111111u);
    put32(t, 0x60000, 0x22222222u);
    paging_on(t, 0, 0);
    static const char prog[] = "\xa1\x00\x00\x20\x00\xf4"; /* mov eax, [0x200000]; hlt */
    run(t, prog, 6);
    assert_int_equal(cpu_get_reg(c, REG_EAX), 0x11111111u);
    uint32_t pte = 0x60000 | PTE_P | PTE_W | PTE_U | PTE_A;
    assert_int_equal(cpu_write_phys(c, PT + 4 * (LIN_U >> 12), &pte, 4).status, INSP_OK);
    run(t, prog, 6);
    assert_int_equal(cpu_get_reg(c, REG_EAX), 0x11111111u); /* stale, as on hardware */
    assert_int_equal(cpu_set_reg(c, REG_CR3, PD), INSP_OK);
    run(t, prog, 6);
    assert_int_equal(cpu_get_reg(c, REG_EAX), 0x22222222u);
    /* CR4 and CR0 writes flush too */
    pte = PAGE_U | PTE_P | PTE_W | PTE_U | PTE_A;
    cpu_write_phys(c, PT + 4 * (LIN_U >> 12), &pte, 4);
    assert_int_equal(cpu_set_reg(c, REG_CR4, CR4_PGE), INSP_OK);
    run(t, prog, 6);
    assert_int_equal(cpu_get_reg(c, REG_EAX), 0x11111111u);
    pte = 0x60000 | PTE_P | PTE_W | PTE_U | PTE_A;
    cpu_write_phys(c, PT + 4 * (LIN_U >> 12), &pte, 4);
    assert_int_equal(cpu_set_reg(c, REG_CR0, CR0_PE | CR0_PG | CR0_WP), INSP_OK);
    run(t, prog, 6);
    assert_int_equal(cpu_get_reg(c, REG_EAX), 0x22222222u);
    free_cpu(t);
}

/* ---- segments and tables ---- */

static void segment_registers(void **state)
{
    (void)state;
    struct t *t = new_cpu();
    struct cpu *c = &t->c;
    struct seg_value v;
    assert_int_equal(cpu_get_seg(c, SREG_CS, &v), INSP_OK);
    assert_int_equal(v.sel, 0x08);
    assert_int_equal(v.base, 0);
    assert_int_equal(v.limit, 0xFFFFFFFFu);
    struct desc d = desc_from_cache(v.base, v.limit, v.attr);
    assert_true(desc_is_code(&d) && desc_is_readable(&d) && d.p && d.db && d.g);
    /* DS with base 0x1000: an access through it lands there */
    put32(t, 0x1000 + 0x10, 0xABCD1234u);
    struct seg_value ds = {0x10, 0x1000, 0xFFFF, SA_P | SA_S | TYPE_RW | TYPE_ACCESSED};
    assert_int_equal(cpu_set_seg(c, SREG_DS, &ds), INSP_OK);
    run(t, "\xa1\x10\x00\x00\x00\xf4", 6); /* mov eax, [0x10]; hlt */
    assert_int_equal(cpu_get_reg(c, REG_EAX), 0xABCD1234u);
    assert_int_equal(cpu_get_seg(c, SREG_DS, &v), INSP_OK);
    assert_int_equal(v.base, 0x1000);
    assert_int_equal(v.limit, 0xFFFF);
    /* CS with RPL 3: CPL follows */
    cpu_get_seg(c, SREG_CS, &v);
    v.sel = 0x1B;
    assert_int_equal(cpu_set_seg(c, SREG_CS, &v), INSP_OK);
    assert_int_equal(cpu_get_cpl(c), 3);
    /* LDTR and TR: read only */
    assert_int_equal(cpu_get_seg(c, SREG_LDTR, &v), INSP_OK);
    assert_int_equal(cpu_get_seg(c, SREG_TR, &v), INSP_OK);
    assert_int_equal(cpu_set_seg(c, SREG_TR, &v), INSP_BAD_REG);
    assert_int_equal(cpu_get_seg(c, SREG_COUNT, &v), INSP_BAD_REG);
    /* GDTR / IDTR */
    struct dtable g = {0x12345678u, 0x1FF}, back;
    cpu_set_gdtr(c, &g);
    cpu_get_gdtr(c, &back);
    assert_int_equal(back.base, g.base);
    assert_int_equal(back.limit, g.limit);
    cpu_set_idtr(c, &(struct dtable){0x2000, 0x7FF});
    cpu_get_idtr(c, &back);
    assert_int_equal(back.base, 0x2000);
    assert_int_equal(back.limit, 0x7FF);
    free_cpu(t);
}

static void put_desc(struct t *t, uint32_t at, uint32_t base, uint32_t limit, unsigned access,
                     unsigned flags)
{
    put32(t, at, (limit & 0xFFFF) | base << 16);
    put32(t, at + 4, (base & 0xFF000000u) | flags << 20 | (limit & 0xF0000u) | access << 8 |
                         ((base >> 16) & 0xFF));
}

static void descriptor_reads(void **state)
{
    (void)state;
    struct t *t = new_cpu();
    struct cpu *c = &t->c;
    for (unsigned k = 1; k < 5; k++)
        put_desc(t, GDT + 8 * k, 0x00ABC000u * k, 0xFFFFF, 0x92 | (k << 5 & 0x60), 0xC);
    put_desc(t, GDT + 0x18, 0x12345678u, 0x00ABC, 0xFA, 0x4); /* ring 3 code, byte limit */
    cpu_set_gdtr(c, &(struct dtable){GDT, 0x27});
    struct desc d;
    assert_int_equal(cpu_read_desc(c, 0x1B, &d), INSP_OK);
    assert_int_equal(d.base, 0x12345678u);
    assert_int_equal(d.limit, 0xABC);
    assert_true(desc_is_code(&d) && desc_is_readable(&d) && !desc_is_conforming(&d));
    assert_int_equal(d.dpl, 3);
    assert_true(d.p && d.db && !d.g);
    assert_int_equal(cpu_read_desc(c, 0x20, &d), INSP_OK);
    assert_int_equal(d.limit, 0xFFFFFFFFu); /* G applied */
    assert_true(desc_is_writable(&d));
    /* beyond the GDT limit: an error, not a fault */
    assert_int_equal(cpu_read_desc(c, 0x28, &d), INSP_BEYOND_LIMIT);
    assert_int_equal(cpu_read_desc(c, 0x2B, &d), INSP_BEYOND_LIMIT);
    assert_int_equal(cpu_read_gdt(c, 5, &d), INSP_BEYOND_LIMIT);
    assert_int_equal(cpu_read_gdt(c, 0xFFFFFFFFu, &d), INSP_BEYOND_LIMIT);
    /* the LDT: none loaded, then one of two entries */
    assert_int_equal(cpu_read_desc(c, 0x04, &d), INSP_NO_LDT);
    put_desc(t, LDT + 8, 0x4000, 0xFFF, 0xF2, 0x4);
    c->ldtr = (struct segment){.sel = 0x28, .base = LDT, .limit = 0xF,
                               .attr = SA_P | SYS_LDT};
    assert_int_equal(cpu_read_desc(c, 0x0F, &d), INSP_OK);
    assert_int_equal(d.base, 0x4000);
    assert_int_equal(cpu_read_desc(c, 0x17, &d), INSP_BEYOND_LIMIT);
    assert_int_equal(cpu_read_ldt(c, 2, &d), INSP_BEYOND_LIMIT);
    /* the IDT (limit 0x3FF after reset: vectors 0..0x7F) */
    put32(t, 0x80 * 8 - 8, 0x0008ABCDu);
    put32(t, 0x80 * 8 - 4, 0x1234EE00u);
    cpu_set_idtr(c, &(struct dtable){0, 0x3FF});
    assert_int_equal(cpu_read_idt(c, 0x7F, &d), INSP_OK);
    assert_true(desc_is_int_gate(&d) && d.dpl == 3 && d.p);
    assert_int_equal(gate_selector(&d), 0x0008);
    assert_int_equal(gate_offset(&d), 0x1234ABCDu);
    assert_int_equal(cpu_read_idt(c, 0x80, &d), INSP_BEYOND_LIMIT);
    /* a GDT in unmapped memory */
    paging_on(t, 0, 0);
    cpu_set_gdtr(c, &(struct dtable){LIN_HOLE, 0x27});
    assert_int_equal(cpu_read_gdt(c, 1, &d), INSP_UNMAPPED);
    cpu_set_gdtr(c, &(struct dtable){LIN_NORAM, 0x27});
    assert_int_equal(cpu_read_gdt(c, 1, &d), INSP_NOT_RAM);
    free_cpu(t);
}

/* ---- memory ---- */

static void memory_errors_not_faults(void **state)
{
    (void)state;
    struct t *t = new_cpu();
    struct cpu *c = &t->c;
    paging_on(t, CR0_WP, 0);
    for (unsigned k = 0; k < 4096; k++)
        t->ram[PAGE_U + k] = (uint8_t)k;
    uint8_t buf[32];
    /* an unmapped page */
    struct xfer x = cpu_read_linear(c, LIN_HOLE + 8, buf, 16);
    assert_int_equal(x.done, 0);
    assert_int_equal(x.status, INSP_UNMAPPED);
    assert_int_equal(x.stop, LIN_HOLE + 8);
    /* from a mapped page into an unmapped one: the mapped part, then where it stopped */
    memset(buf, 0xEE, sizeof buf);
    x = cpu_read_linear(c, LIN_HOLE - 8, buf, 16);
    assert_int_equal(x.done, 8);
    assert_int_equal(x.status, INSP_UNMAPPED);
    assert_int_equal(x.stop, LIN_HOLE);
    for (unsigned k = 0; k < 8; k++)
        assert_int_equal(buf[k], (uint8_t)(4088 + k));
    assert_int_equal(buf[8], 0xEE);
    /* the same for writes */
    x = cpu_write_linear(c, LIN_HOLE - 4, "abcdefgh", 8);
    assert_int_equal(x.done, 4);
    assert_int_equal(x.status, INSP_UNMAPPED);
    assert_int_equal(x.stop, LIN_HOLE);
    assert_memory_equal(t->ram + PAGE_U + 4092, "abcd", 4);
    /* mapped, but not RAM: not touched */
    x = cpu_read_linear(c, LIN_NORAM, buf, 4);
    assert_int_equal(x.status, INSP_NOT_RAM);
    assert_int_equal(x.stop, LIN_NORAM);
    /* a page table outside RAM, a reserved-bit PDE: unmapped */
    assert_int_equal(cpu_read_linear(c, 0xC00000, buf, 4).status, INSP_UNMAPPED);
    assert_int_equal(cpu_read_linear(c, 0x400000, buf, 4).status, INSP_UNMAPPED);
    /* physical: up to the end of RAM */
    x = cpu_read_phys(c, RAM_SIZE - 4, buf, 8);
    assert_int_equal(x.done, 4);
    assert_int_equal(x.status, INSP_NOT_RAM);
    assert_int_equal(x.stop, RAM_SIZE);
    assert_int_equal(cpu_write_phys(c, 0xFFFFFFF0u, buf, 32).status, INSP_NOT_RAM);
    /* reads and writes leave the accessed and dirty bits alone; a read-only page is written
     * (a debugger's write) */
    x = cpu_read_linear(c, LIN_U, buf, 16);
    assert_int_equal(x.status, INSP_OK);
    assert_int_equal(x.done, 16);
    x = cpu_write_linear(c, LIN_RO + 2, "xy", 2);
    assert_int_equal(x.status, INSP_OK);
    assert_memory_equal(t->ram + PAGE_RO + 2, "xy", 2);
    assert_int_equal(get32(t, PD) & PTE_A, 0);
    assert_int_equal(get32(t, PT + 4 * (LIN_U >> 12)) & (PTE_A | PTE_D), 0);
    assert_int_equal(get32(t, PT + 4 * (LIN_RO >> 12)) & (PTE_A | PTE_D), 0);
    /* wrapping at 4 GiB with paging off */
    assert_int_equal(cpu_set_reg(c, REG_CR0, CR0_PE), INSP_OK);
    x = cpu_read_linear(c, 0xFFFFFFFCu, buf, 8);
    assert_int_equal(x.done, 0);
    assert_int_equal(x.status, INSP_NOT_RAM);
    free_cpu(t);
}

/* A write into decoded code, linear or physical, is seen by the next execution. */
static void write_reaches_decoded_code(void **state)
{
    (void)state;
    struct t *t = new_cpu();
    struct cpu *c = &t->c;
    run(t, "\xb8\x01\x00\x00\x00\xf4", 6); /* mov eax, 1; hlt */
    assert_int_equal(cpu_get_reg(c, REG_EAX), 1);
    uint8_t two = 2, three = 3;
    assert_int_equal(cpu_write_linear(c, CODE + 1, &two, 1).status, INSP_OK);
    cpu_set_reg(c, REG_EIP, CODE);
    assert_int_equal(cpu_run(c, 10), RUN_HALT);
    assert_int_equal(cpu_get_reg(c, REG_EAX), 2);
    assert_int_equal(cpu_write_phys(c, CODE + 1, &three, 1).status, INSP_OK);
    cpu_set_reg(c, REG_EIP, CODE);
    assert_int_equal(cpu_run(c, 10), RUN_HALT);
    assert_int_equal(cpu_get_reg(c, REG_EAX), 3);
    /* the same through paging, to a read-only user mapping of the code page */
    put32(t, PT + 4 * (LIN_RO >> 12), CODE | PTE_P | PTE_U);
    paging_on(t, CR0_WP, 0);
    uint8_t four = 4;
    assert_int_equal(cpu_write_linear(c, LIN_RO + 1, &four, 1).status, INSP_OK);
    cpu_set_reg(c, REG_EIP, CODE);
    assert_int_equal(cpu_run(c, 10), RUN_HALT);
    assert_int_equal(cpu_get_reg(c, REG_EAX), 4);
    free_cpu(t);
}

/* ---- the page walker, every refusal ---- */

static struct walk walk(struct t *t, uint32_t lin, enum pg_kind k, enum pg_mode m)
{
    struct walk w;
    bool ok = cpu_page_walk(&t->c, lin, k, m, &w);
    assert_int_equal(ok, w.result == WALK_OK);
    assert_int_equal(w.lin, lin);
    assert_int_equal(w.kind, k);
    assert_int_equal(w.mode, m);
    return w;
}

static void walker_refusals(void **state)
{
    (void)state;
    struct t *t = new_cpu();
    struct cpu *c = &t->c;
    struct walk w = walk(t, 0x12345678u, PG_WRITE, PG_USER); /* paging off: identity */
    assert_int_equal(w.result, WALK_OK);
    assert_int_equal(w.pa, 0x12345678u);
    put32(t, PT + 4 * (LIN_U >> 12), PAGE_U | PTE_P | PTE_W | PTE_U | PTE_G);
    paging_on(t, CR0_WP, CR4_PSE | CR4_PGE);

    w = walk(t, LIN_U + 0x123, PG_READ, PG_USER);
    assert_int_equal(w.result, WALK_OK);
    assert_int_equal(w.pa, PAGE_U + 0x123);
    assert_int_equal(w.pde_addr, PD);
    assert_int_equal(w.pde, PT | PTE_P | PTE_W | PTE_U);
    assert_int_equal(w.pte_addr, PT + 4 * (LIN_U >> 12));
    assert_int_equal(w.pte, PAGE_U | PTE_P | PTE_W | PTE_U | PTE_G);
    assert_int_equal(w.level, WALK_PTE);
    assert_true(w.user && w.writable && w.global && !w.large);
    assert_int_equal(get32(t, w.pte_addr) & PTE_A, 0); /* no side effects */

    w = walk(t, 0x00800000u, PG_READ, PG_SUPERVISOR); /* PDE[2] empty */
    assert_int_equal(w.result, WALK_NOT_PRESENT);
    assert_int_equal(w.level, WALK_PDE);
    assert_int_equal(w.pde_addr, PD + 8);
    assert_int_equal(w.pde, 0);
    assert_int_equal(w.pte_addr, 0);

    w = walk(t, LIN_HOLE, PG_READ, PG_SUPERVISOR);
    assert_int_equal(w.result, WALK_NOT_PRESENT);
    assert_int_equal(w.level, WALK_PTE);
    assert_int_equal(w.pte_addr, PT + 4 * (LIN_HOLE >> 12));

    w = walk(t, 0x00400000u, PG_READ, PG_SUPERVISOR);
    assert_int_equal(w.result, WALK_RESERVED);
    assert_true(w.large);
    assert_int_equal(w.level, WALK_PDE);

    w = walk(t, 0x1000, PG_READ, PG_USER);
    assert_int_equal(w.result, WALK_SUPERVISOR_ONLY);
    assert_false(w.user);

    w = walk(t, LIN_RO, PG_WRITE, PG_USER);
    assert_int_equal(w.result, WALK_READ_ONLY);
    assert_true(w.user);
    assert_false(w.writable);
    assert_int_equal(walk(t, LIN_RO, PG_READ, PG_USER).result, WALK_OK);

    w = walk(t, LIN_RO, PG_WRITE, PG_SUPERVISOR);
    assert_int_equal(w.result, WALK_WP);
    assert_int_equal(cpu_set_reg(c, REG_CR0, CR0_PE | CR0_PG), INSP_OK); /* WP = 0 */
    assert_int_equal(walk(t, LIN_RO, PG_WRITE, PG_SUPERVISOR).result, WALK_OK);

    assert_int_equal(walk(t, LIN_U, PG_FETCH, PG_SUPERVISOR).result, WALK_OK);
    cpu_set_reg(c, REG_CR4, CR4_PSE | CR4_SMEP | CR4_SMAP);
    assert_int_equal(walk(t, LIN_U, PG_FETCH, PG_SUPERVISOR).result, WALK_SMEP);
    assert_int_equal(walk(t, LIN_U, PG_FETCH, PG_USER).result, WALK_OK);
    assert_int_equal(walk(t, LIN_U, PG_READ, PG_SUPERVISOR).result, WALK_SMAP);
    assert_int_equal(walk(t, LIN_U, PG_WRITE, PG_SUPERVISOR).result, WALK_SMAP);
    assert_int_equal(walk(t, LIN_U, PG_READ, PG_SUPERVISOR_AC).result, WALK_OK);
    assert_int_equal(walk(t, LIN_U, PG_READ, PG_IMPLICIT).result, WALK_SMAP_IMPLICIT);
    assert_int_equal(walk(t, LIN_U, PG_WRITE, PG_IMPLICIT).result, WALK_SMAP_IMPLICIT);
    assert_int_equal(walk(t, 0x1000, PG_READ, PG_IMPLICIT).result, WALK_OK);
    /* with AC = 1 a read-only user page refuses a supervisor write for WP, not SMAP */
    cpu_set_reg(c, REG_CR0, CR0_PE | CR0_PG | CR0_WP);
    assert_int_equal(walk(t, LIN_RO, PG_WRITE, PG_SUPERVISOR_AC).result, WALK_WP);
    assert_int_equal(walk(t, LIN_U, PG_LOOKUP, PG_SUPERVISOR).result, WALK_OK);

    w = walk(t, 0x00C00000u, PG_LOOKUP, PG_SUPERVISOR); /* its page table is outside RAM */
    assert_int_equal(w.result, WALK_NO_RAM);
    assert_int_equal(w.level, WALK_PTE);
    assert_int_equal(w.pte_addr, 0x01000000u);
    cpu_set_reg(c, REG_CR3, 0x00F00000u); /* a directory outside RAM */
    w = walk(t, LIN_U, PG_LOOKUP, PG_SUPERVISOR);
    assert_int_equal(w.result, WALK_NO_RAM);
    assert_int_equal(w.level, WALK_PDE);
    free_cpu(t);
}

/* ---- statistics ---- */

static void statistics(void **state)
{
    (void)state;
    struct t *t = new_cpu();
    struct cpu *c = &t->c;
    /* 5 nops, mov cr3 (paging still off), 2 nops, hlt: 9 instructions at CPL 0 */
    cpu_set_reg(c, REG_EAX, PD);
    run(t, "\x90\x90\x90\x90\x90\x0f\x22\xd8\x90\x90\xf4", 11);
    assert_int_equal(cpu_stat_insns(c), 9);
    assert_int_equal(cpu_stat_ring(c, 0), 9); /* current without acct_update */
    assert_int_equal(cpu_stat_ring(c, 3), 0);
    assert_int_equal(cpu_stat_ring(c, 4), 0);
    assert_int_equal(cpu_stat_events(c, TR_HALT), 1);
    assert_int_equal(cpu_stat_events(c, TR_CR3), 1);
    assert_int_equal(cpu_stat_events(c, TR_IRET), 0);
    assert_int_equal(cpu_stat_nspaces(c), 1);
    uint32_t cr3;
    uint64_t k, u;
    assert_true(cpu_stat_space(c, 0, &cr3, &k, &u));
    assert_int_equal(cr3, 0);
    assert_int_equal(k, 9);
    assert_int_equal(u, 0);
    assert_false(cpu_stat_space(c, 1, &cr3, &k, &u));
    /* with paging on, a second space, still only counted when it ran */
    paging_on(t, 0, 0);
    assert_int_equal(cpu_stat_nspaces(c), 1);
    run(t, "\x90\xf4", 2);
    assert_int_equal(cpu_stat_nspaces(c), 2);
    assert_true(cpu_stat_space(c, 1, &cr3, &k, &u));
    assert_int_equal(cr3, PD);
    assert_int_equal(k, 2);
    /* the getters agree with the accounting brought up to date */
    acct_update(c);
    assert_int_equal(cpu_stat_ring(c, 0), c->ring_insns[0]);
    assert_int_equal(cpu_stat_nspaces(c), c->nspaces);
    assert_int_equal(cpu_stat_idle(c), 0);
    assert_int_equal(cpu_stat_stall(c), 0);
    assert_true(cpu_is_halted(c));
    assert_int_equal(cpu_get_reg(c, REG_EIP), CODE + 2);
    cpu_set_reg(c, REG_EIP, CODE);
    assert_false(cpu_is_halted(c));
    free_cpu(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(registers_round_trip),
        cmocka_unit_test(eflags_set_over_lazy_flags),
        cmocka_unit_test(cr3_set_flushes_translations),
        cmocka_unit_test(segment_registers),
        cmocka_unit_test(descriptor_reads),
        cmocka_unit_test(memory_errors_not_faults),
        cmocka_unit_test(write_reaches_decoded_code),
        cmocka_unit_test(walker_refusals),
        cmocka_unit_test(statistics),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
