/* A small ring 0 / ring 3 kernel shared by the paging guests (kern.c, kern_asm.S).
 *
 * kern_init() loads a GDT, an IDT (every exception, plus int 0x30 "done" and int 0x31 for the
 * tests, both callable from ring 3), a TSS, and turns on paging with CR4.PSE and CR0.WP:
 *
 *   linear 0 .. 4 MiB   identity, 4 KiB pages, supervisor, writable (page 0 not present);
 *                       user_code[] and user_stack[] are user pages
 *   0x00800000 (TEST)   left to the tests: PDE[2], with test_pt[] ready as its page table
 *   0x00C00000 (ALIAS)  supervisor alias of physical 0x800000.. (alias_pt[], 1024 pages): the
 *                       kernel writes and checks the test pages' contents through it
 *
 * run_with() runs code at ring 0 or 3 with chosen EFLAGS and registers. The code ends with
 * `int $0x30`; any other trap ends it too (the trap is kept in last_frame/last_cr2), unless
 * trap_hook is set and returns true, in which case the trap handler returns (IRET) to the
 * frame, which the hook may have changed.
 *
 *   GDT: 0x08 ring 0 code   0x10 ring 0 data   0x1B ring 3 code   0x23 ring 3 data
 *        0x28 TSS           0x30 LDT (base TEST + 0x100, one descriptor)
 *        0x39 ring 1 code   0x41 ring 1 data
 */
#ifndef PAGING_KERN_H
#define PAGING_KERN_H

#include <stdbool.h>
#include <stdint.h>

#include "rt.h"

#define SEL_KCODE 0x08
#define SEL_KDATA 0x10
#define SEL_UCODE 0x1B
#define SEL_UDATA 0x23
#define SEL_TSS 0x28
#define SEL_LDT 0x30
#define SEL_R1CODE 0x39
#define SEL_R1DATA 0x41

#define TEST 0x00800000u  /* linear window the tests map as they like (PDE[2]) */
#define ALIAS 0x00C00000u /* supervisor alias of physical 0x800000 (PDE[3]) */
#define TEST_PHYS 0x00800000u

/* Page-table entry bits. */
#define PG_P 0x001u
#define PG_W 0x002u
#define PG_U 0x004u
#define PG_A 0x020u
#define PG_D 0x040u
#define PG_PS 0x080u
#define PG_G 0x100u

#define CR0_WP 0x00010000u
#define CR4_PSE 0x00000010u
#define CR4_PGE 0x00000080u
#define CR4_SMEP 0x00100000u
#define CR4_SMAP 0x00200000u
#define EFL_AC 0x00040000u

#define VEC_DONE 0x30 /* int $0x30: the code under test finished */
#define VEC_TEST 0x31 /* int $0x31: a gate the tests point where they like */

/* The frame the trap stubs build (kern_asm.S). esp/ss only when the trap came from an outer
 * ring. Segment registers are pushed as 32 bits; only the low 16 mean anything. */
struct frame {
    uint32_t gs, fs, es, ds;
    uint32_t edi, esi, ebp, esp_pusha, ebx, edx, ecx, eax;
    uint32_t vector, error;
    uint32_t eip, cs, eflags;
    uint32_t esp, ss;
};

extern uint32_t pd[1024];
extern uint32_t pt_low[1024];  /* identity map of 0 .. 4 MiB */
extern uint32_t test_pt[1024]; /* a page table for TEST (install with PDE[2] = test_pt | ...) */
extern uint8_t user_code[4096];
extern uint8_t user_stack[4096];
extern uint32_t tss[26];
extern uint64_t gdt[16];

extern volatile struct frame last_frame; /* the trap that ended run_at(), or the last one */
extern volatile uint32_t last_cr2;
extern bool (*trap_hook)(struct frame *f);

void kern_init(void);

/* Runs code at `eip` at ring `cpl` (0 or 3) with EFLAGS = eflags (IF stays 0) and the
 * general registers given; returns the vector that ended it (VEC_DONE when the code reached
 * int $0x30). Ring 3 code runs on user_stack. */
struct regs {
    uint32_t eax, ebx, ecx, edx, esi, edi;
};
uint32_t run_with(unsigned cpl, uint32_t eip, uint32_t eflags, const struct regs *r);
static inline uint32_t run_at(unsigned cpl, uint32_t eip, uint32_t eflags, uint32_t eax,
                              uint32_t ebx)
{
    struct regs r = {eax, ebx, 0, 0, 0, 0};
    return run_with(cpl, eip, eflags, &r);
}

/* Small accesses that end with int $0x30 (access.S), EBX = the address, EAX = the value written
 * or the selector loaded: the kernel's copy for ring 0, the copy in user_code for ring 3. */
enum access_stub { ACC_READ, ACC_WRITE, ACC_FETCH, ACC_SREG };
uint32_t access_stub(enum access_stub which, unsigned cpl);

/* Through those: a read (value in *val), a write, a jump to code that ends with int $0x30
 * (its EAX in *val). Each returns the vector that ended it: VEC_DONE, or the fault's. */
uint32_t do_read(unsigned cpl, uint32_t lin, uint32_t *val);
uint32_t do_write(unsigned cpl, uint32_t lin, uint32_t val);
uint32_t do_exec(unsigned cpl, uint32_t lin, uint32_t *val);

/* Sets IDT entry `vec` to an interrupt gate to `handler` in code segment `sel` with `dpl`. */
void set_gate(unsigned vec, uint32_t handler, uint16_t sel, unsigned dpl);
/* The address of the kernel's trap stub for `vec` (0..31, 0x30, 0x31). */
uint32_t trap_stub(unsigned vec);

static inline uint32_t read_cr0(void)
{
    uint32_t v;
    __asm__ volatile("mov %%cr0, %0" : "=r"(v));
    return v;
}
static inline uint32_t read_cr3(void)
{
    uint32_t v;
    __asm__ volatile("mov %%cr3, %0" : "=r"(v));
    return v;
}
static inline uint32_t read_cr4(void)
{
    uint32_t v;
    __asm__ volatile("mov %%cr4, %0" : "=r"(v));
    return v;
}
static inline void write_cr0(uint32_t v) { __asm__ volatile("mov %0, %%cr0" : : "r"(v) : "memory"); }
static inline void write_cr3(uint32_t v) { __asm__ volatile("mov %0, %%cr3" : : "r"(v) : "memory"); }
static inline void write_cr4(uint32_t v) { __asm__ volatile("mov %0, %%cr4" : : "r"(v) : "memory"); }
static inline void invlpg(uint32_t lin)
{
    __asm__ volatile("invlpg (%0)" : : "r"(lin) : "memory");
}
static inline void flush_tlb(void) { write_cr3(read_cr3()); }

/* What the cpu offers, from CPUID: PSE and PGE (leaf 1 EDX bits 3, 13), PSE-36 (bit 17), SMEP
 * and SMAP (leaf 7 EBX bits 7, 20, only if leaf 7 exists). Ringside implements PSE, PGE, SMEP
 * and SMAP but its CPUID does not report them yet, so on Ringside (hypervisor leaf
 * 0x40000000, signature "RingsideIA32") they are taken as present. (Probing by writing CR4 is no option: QEMU 7.2 does not raise #GP for a reserved
 * CR4 bit, it wrecks the machine state.) */
struct features {
    bool pse, pge, pse36, smep, smap, ringside;
};
void cpu_features(struct features *f);

/* Identity-mapped kernel pointer <-> address. */
static inline uint32_t addr(const volatile void *p) { return (uint32_t)(uintptr_t)p; }

/* The PTE of a page in the identity-mapped low 4 MiB. */
static inline volatile uint32_t *low_pte(uint32_t lin) { return &pt_low[lin >> 12]; }

#endif
