/* What the kernel needs to know about the x86: selectors, descriptor and page-table bits,
 * control-register bits, and one-instruction helpers (port I/O, control registers, MSRs). */
#ifndef DEMO_X86_H
#define DEMO_X86_H

/* GDT selectors. The order KCODE, KDATA, UCODE, UDATA is the one SYSENTER/SYSEXIT require:
 * SYSENTER loads CS = IA32_SYSENTER_CS and SS = CS + 8; SYSEXIT loads CS = that + 16 and
 * SS = that + 24, both with RPL 3. */
#define KCODE  0x08 /* ring 0 code, flat 4 GiB */
#define KDATA  0x10 /* ring 0 data, flat 4 GiB */
#define UCODE  0x18 /* ring 3 code, flat (selector UCODE | 3) */
#define UDATA  0x20 /* ring 3 data, flat (selector UDATA | 3) */
#define TSSSEL 0x28 /* the one 32-bit TSS */
#define GDT_ENTRIES 6

/* Vectors. 0..31 are the cpu's exceptions; the PIC is remapped to 0x20..0x2F. */
#define IRQ_BASE    0x20 /* IRQ n arrives as vector IRQ_BASE + n */
#define IRQ_TIMER   0    /* 8254 PIT counter 0 */
#define IRQ_COM1    4    /* 16550 UART at 0x3F8 */
#define T_SYSENTER  0x100 /* not a vector: marks a trap frame built by the SYSENTER entry */

/* EFLAGS. */
#define FL_IF   0x00000200 /* interrupts enabled */
#define FL_IOPL 0x00003000 /* I/O privilege level (0 here: user I/O goes by the bitmap) */
#define FL_RSVD 0x00000002 /* bit 1 always reads 1 */

/* CR0 / CR4. */
#define CR0_PG  0x80000000u /* paging */
#define CR0_WP  0x00010000u /* ring 0 writes respect read-only pages too */
#define CR4_PGE 0x00000080u /* global pages: survive a CR3 load */

/* Page-table entries (both levels):
 *
 *   31                12 11  9 8 7 6 5 4 3 2 1 0
 *  +--------------------+-----+-+-+-+-+-+-+-+-+-+
 *  | frame address      | AVL |G|S|D|A|C|W|U|W|P|
 *  +--------------------+-----+-+-+-+-+-+-+-+-+-+
 *                                        /S /R
 * A linear address splits into PDX (10 bits: the page-directory slot), PTX (10 bits: the
 * page-table slot) and a 12-bit offset. */
#define PTE_P 0x001u /* present */
#define PTE_W 0x002u /* writable (else read-only) */
#define PTE_U 0x004u /* user: ring 3 may access (else supervisor only) */
#define PTE_A 0x020u /* accessed */
#define PTE_D 0x040u /* dirty */
#define PTE_G 0x100u /* global (with CR4.PGE) */
#define PAGE_SIZE 4096u
#define PDX(va) ((uint32_t)(va) >> 22)
#define PTX(va) (((uint32_t)(va) >> 12) & 0x3FF)
#define PTE_ADDR(e) ((e) & ~0xFFFu)
#define PAGE_DOWN(a) ((uint32_t)(a) & ~(PAGE_SIZE - 1))
#define PAGE_UP(a) (((uint32_t)(a) + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1))

/* #PF error code. */
#define PF_P 0x1 /* 1: protection violation; 0: page not present */
#define PF_W 0x2 /* the access was a write */
#define PF_U 0x4 /* the access came from ring 3 */

/* MSRs for SYSENTER. */
#define MSR_SYSENTER_CS  0x174
#define MSR_SYSENTER_ESP 0x175
#define MSR_SYSENTER_EIP 0x176

#ifndef __ASSEMBLER__
#include <stdint.h>

static inline void outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(uint16_t port, uint32_t v)
{
    __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static inline uint16_t inw(uint16_t port)
{
    uint16_t v;
    __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static inline uint32_t read_cr0(void)
{
    uint32_t v;
    __asm__ volatile("movl %%cr0, %0" : "=r"(v));
    return v;
}

static inline void write_cr0(uint32_t v)
{
    __asm__ volatile("movl %0, %%cr0" : : "r"(v) : "memory");
}

static inline uint32_t read_cr2(void)
{
    uint32_t v;
    __asm__ volatile("movl %%cr2, %0" : "=r"(v));
    return v;
}

static inline uint32_t read_cr3(void)
{
    uint32_t v;
    __asm__ volatile("movl %%cr3, %0" : "=r"(v));
    return v;
}

static inline void write_cr3(uint32_t v)
{
    __asm__ volatile("movl %0, %%cr3" : : "r"(v) : "memory");
}

static inline uint32_t read_cr4(void)
{
    uint32_t v;
    __asm__ volatile("movl %%cr4, %0" : "=r"(v));
    return v;
}

static inline void write_cr4(uint32_t v)
{
    __asm__ volatile("movl %0, %%cr4" : : "r"(v) : "memory");
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
    __asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

/* The time-stamp counter. On Ringside it counts retired instructions, so it is exact and
 * repeatable; on QEMU and real hardware it counts cycles of some clock. */
static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

static inline void cpuid(uint32_t leaf, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
    __asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(0));
}

static inline void invlpg(uint32_t va)
{
    __asm__ volatile("invlpg (%0)" : : "r"(va) : "memory");
}

static inline void cli(void)
{
    __asm__ volatile("cli" ::: "memory");
}

/* STI takes effect after the next instruction, so "sti; hlt" cannot lose an interrupt that
 * arrives between the two: the cpu halts first and the interrupt wakes it. */
static inline void sti_hlt(void)
{
    __asm__ volatile("sti; hlt" ::: "memory");
}
#endif

#endif
