/* The interrupt guests' small kernel (guests/irq/): a GDT with ring 0 and ring 3 flat segments
 * and a TSS (ring 3 -> ring 0 stack switch), an IDT with the exceptions, the sixteen IRQs of the
 * PIC pair at vectors 0x20..0x2F and a DPL 3 gate at 0x80 that returns from ring 3, the 8259A
 * pair programmed as Linux's init_8259A does, and the 8254 in mode 2 (rate generator).
 *
 * Every IRQ stub starts with
 *
 *     pushl %eax; pushl %edx; rdtsc
 *
 * so the stub's RDTSC runs two instructions after the stub's first one: on Ringside, where the
 * TSC is device time (one unit per retired instruction, and the time skipped in HLT), the device
 * time at which the interrupt was taken is frame->tsc - IRQ_TSC_SKEW. On other machines (QEMU,
 * hardware) the TSC counts cycles. So the guests print three kinds of lines:
 *   plain lines    results that hold on any PC (compared under Ringside and QEMU);
 *   "timing: ..."  instruction-exact results, as differences that do not depend on how the
 *                  guest was compiled (compared under Ringside only); a mismatch is a failure
 *                  only when the cpu is Ringside's (CPUID hypervisor leaf
 *                  0x40000000 signature "RingsideIA32");
 *   "info: ..."    absolute device times, which depend on the build (compared nowhere; the
 *                  --log int test reads them).
 *
 * Selectors:
 */
#ifndef IRQ_H
#define IRQ_H

#define KCODE  0x08 /* ring 0 code, flat */
#define KDATA  0x10 /* ring 0 data, flat */
#define UCODE  0x1B /* ring 3 code, flat (selector with RPL 3) */
#define UDATA  0x23 /* ring 3 data, flat (selector with RPL 3) */
#define TSSSEL 0x28 /* the 32-bit TSS */

#define IRQ_BASE    0x20 /* vector of IRQ 0 (the slave's IRQ 8 is at 0x28) */
#define VEC_RETURN  0x80 /* DPL 3: ring 3 goes back to the kernel (enter_user returns) */
#define IRQ_TSC_SKEW 2   /* instructions of an IRQ stub before its RDTSC */

#ifndef __ASSEMBLER__
#include <stdbool.h>
#include <stdint.h>

#include "rt.h"

#define PIT_HZ 1193182u        /* the 8254's input clock */
#define RINGSIDE_IPS 100000000u /* Ringside's default device clock (--ips) */
#define PIT_DIV(hz) ((PIT_HZ + (hz) / 2) / (hz)) /* Linux's and xv6's LATCH / TIMER_DIV */

/* What an IRQ stub and irq_common push (lowest address first), then the cpu's frame; esp and
 * ss only when the interrupt came from ring 3. */
struct irq_frame {
    uint32_t edi, esi, ebp, ebx, ecx;
    uint32_t gs, fs, es, ds;
    uint32_t vec;
    uint32_t tsc_lo, tsc_hi;
    uint32_t edx, eax;
    uint32_t eip, cs, eflags, esp, ss;
};

typedef void (*irq_fn)(struct irq_frame *f);

/* kern.c */
void kern_init(void);                 /* GDT, TSS, IDT, PIC (everything masked) */
void irq_set_handler(unsigned irq, irq_fn fn);
void pic_unmask(unsigned irq);
void pic_mask(unsigned irq);
/* Counter 0 in mode 2 with the given divisor. Returns, on Ringside, the device time at which
 * the OUT that loads the count ran (from a TSC read three instructions before it). */
uint64_t pit_start(uint16_t divisor);
/* On Ringside: the device time at which the k-th PIT tick after a load at device time t_load
 * raises its edge, at RINGSIDE_IPS (the arithmetic of pit8254.c). */
uint64_t pit_deadline(uint64_t t_load, uint64_t k);
bool on_ringside(void);               /* CPUID leaf 0x40000000 says "RingsideIA32" */
/* Prints "timing: WHAT at the deadline + N" (got - want) and, on Ringside only, counts
 * N != 0 as a failure. */
void check_timing(const char *what, uint64_t got, uint64_t want);
unsigned cmos_read(unsigned index);

static inline uint64_t frame_tsc(const struct irq_frame *f)
{
    return ((uint64_t)f->tsc_hi << 32 | f->tsc_lo) - IRQ_TSC_SKEW;
}

/* entry.S */
/* Runs eip in ring 3 (SS:ESP = UDATA:esp, DS..GS = UDATA, EFLAGS = eflags) until ring 3 executes
 * int $VEC_RETURN; returns its EAX. */
uint32_t enter_user(void (*eip)(void), uint32_t esp, uint32_t eflags);

static inline void outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (uint64_t)hi << 32 | lo;
}

static inline void sti(void)
{
    __asm__ volatile("sti" ::: "memory");
}

static inline void cli(void)
{
    __asm__ volatile("cli" ::: "memory");
}

#define FL_IF 0x200u /* EFLAGS.IF */

#endif
#endif
