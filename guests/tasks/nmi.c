/* Guest: non-maskable interrupts (SDM vol. 3 6.7.1, 10.6.1), sent by the local APIC's ICR to
 * the cpu itself (NMI delivery mode, physical destination 0, as kvm-unit-tests' taskswitch2
 * does), with interrupts disabled throughout. The same on Ringside and under qemu-system-i386.
 *
 *   1. through an interrupt gate: the NMI is taken with EFLAGS.IF = 0; a second NMI sent from
 *      inside the handler waits (NMIs are blocked until the next IRET) and arrives once the
 *      handler's IRET has run, so the handler runs twice, never nested.
 *   2. through a task gate: the NMI runs its own task (back link: the main task, NT set); a
 *      second NMI sent from inside that task waits for the task's IRET as well.
 *   3. INT 2 is not an NMI: it runs the vector-2 handler but neither blocks NMIs nor needs an
 *      IRET to unblock them (an NMI sent from it is taken in it, nested).
 *   4. HLT with IF = 0 is ended by an NMI from a device: HPET timer 2 (one-shot) on I/O APIC
 *      input 20, whose entry is in NMI delivery mode; the handler runs and the cpu goes on
 *      after the HLT.
 */
#include "rt.h"
#include "tasks.h"

#define KCODE 0x08
#define KDATA 0x10
#define TSS_A 0x18 /* the main task */
#define TSS_N 0x20 /* the NMI task */

#define APIC_ICR_LO ((volatile uint32_t *)0xFEE00300u)
#define APIC_ICR_HI ((volatile uint32_t *)0xFEE00310u)
#define ICR_NMI_TO_0 0x00004400u /* delivery mode NMI (4), level assert, physical dest */
#define IOAPIC_SEL ((volatile uint32_t *)0xFEC00000u)
#define IOAPIC_WIN ((volatile uint32_t *)0xFEC00010u)
#define HPET_REG(off) ((volatile uint32_t *)(0xFED00000u + (off)))

static uint64_t gdt[5];
static uint64_t idt[256];
static struct tss tss[2];
static uint8_t stack_n[4096] __attribute__((aligned(16)));

/* What the handlers saw. */
volatile uint32_t nmi_runs, nmi_depth, nmi_max_depth, nmi_resend, nmi_seen_inside, nmi_if;
volatile uint32_t task_runs, task_resend, task_seen_inside, task_link, task_nt;

static uint64_t intr_gate(void (*fn)(void))
{
    uint32_t off = (uint32_t)(uintptr_t)fn;
    return ((uint64_t)((off & 0xFFFF0000u) | 0x8E00u) << 32) | ((uint32_t)KCODE << 16) |
           (off & 0xFFFFu);
}

static void send_nmi(void)
{
    __asm__ volatile("" : : : "memory"); /* the IDT and the flags are written before */
    *APIC_ICR_HI = 0;
    *APIC_ICR_LO = ICR_NMI_TO_0;
}

/* Gives a pending NMI time to arrive (on Ringside it comes at the next boundary; QEMU takes
 * it within a few instructions). */
static void settle(void)
{
    for (volatile int k = 0; k < 1000; k++)
        ;
}

static void ioapic_write(uint32_t index, uint32_t v)
{
    *IOAPIC_SEL = index;
    *IOAPIC_WIN = v;
}

/* 4: HPET timer 2, one-shot, edge, on I/O APIC input 20, about 1 ms (or less) from now. */
static void hpet_nmi_soon(void)
{
    uint32_t period_fs = *HPET_REG(0x004);
    uint32_t ticks = 1000000000000u / period_fs; /* 1 ms */
    ioapic_write(0x10 + 2 * 20 + 1, 0);          /* destination APIC 0 */
    ioapic_write(0x10 + 2 * 20, 0x400);          /* NMI, physical, edge, high, unmasked */
    *HPET_REG(0x010) = 0;                        /* stop the counter */
    *HPET_REG(0x140) = 0x4u | 20u << 9;          /* timer 2: enabled, edge, input 20 */
    *HPET_REG(0x144) = 0;
    *HPET_REG(0x148) = *HPET_REG(0x0F0) + ticks; /* comparator */
    *HPET_REG(0x14C) = *HPET_REG(0x0F4);
    *HPET_REG(0x010) = 1;                        /* run */
}

/* 1: the interrupt-gate handler. */
void nmi_entry(void);
void nmi_handler(uint32_t eflags);
__asm__(".text\n"
        "nmi_entry: pushal\n"
        "        pushfl\n"
        "        call nmi_handler\n"
        "        addl $4, %esp\n"
        "        popal\n"
        "        iret\n");

void nmi_handler(uint32_t eflags)
{
    nmi_depth++;
    if (nmi_depth > nmi_max_depth)
        nmi_max_depth = nmi_depth;
    nmi_runs++;
    nmi_if |= eflags & 0x200u;
    if (nmi_resend) {
        nmi_resend = 0;
        uint32_t before = nmi_runs;
        send_nmi();
        settle();
        nmi_seen_inside = nmi_runs - before;
    }
    nmi_depth--;
}

/* 2: the NMI task: count, send a second NMI the first time, return by IRET (and start over
 * when the next NMI resumes it). */
static void nmi_task(void)
{
    for (;;) {
        task_runs++;
        task_link = tss[1].link;
        uint32_t fl;
        __asm__ volatile("pushfl\n popl %0" : "=r"(fl));
        task_nt = (fl >> 14) & 1;
        if (task_resend) {
            task_resend = 0;
            uint32_t before = task_runs;
            send_nmi();
            settle();
            task_seen_inside = task_runs - before;
        }
        __asm__ volatile("iret" : : : "memory");
    }
}

int kmain(const struct multiboot_info *mbi)
{
    (void)mbi;
    gdt[1] = seg_desc(0, 0xFFFFF, 0x9A, 0xC);
    gdt[2] = seg_desc(0, 0xFFFFF, 0x92, 0xC);
    for (int k = 0; k < 2; k++)
        gdt[3 + k] = seg_desc((uint32_t)(uintptr_t)&tss[k], sizeof(struct tss) - 1, 0x89, 0);
    struct tss *t = &tss[1];
    t->eip = (uint32_t)(uintptr_t)nmi_task;
    t->eflags = 0x2;
    t->esp = (uint32_t)(uintptr_t)(stack_n + sizeof stack_n);
    t->cs = KCODE;
    t->ss = t->ds = t->es = t->fs = t->gs = KDATA;
    t->iomap = sizeof(struct tss);
    tss[0].iomap = sizeof(struct tss);
    idt[2] = intr_gate(nmi_entry);
    struct { uint16_t limit; uint32_t base; } __attribute__((packed))
        gdtr = {sizeof gdt - 1, (uint32_t)(uintptr_t)gdt},
        idtr = {sizeof idt - 1, (uint32_t)(uintptr_t)idt};
    __asm__ volatile("cli\n"
                     "lgdt %0\n"
                     "ljmp $0x08, $1f\n"
                     "1: movw $0x10, %%ax\n"
                     "movw %%ax, %%ds\n movw %%ax, %%es\n movw %%ax, %%ss\n"
                     "movw %%ax, %%fs\n movw %%ax, %%gs\n"
                     "lidt %1\n"
                     "movw $0x18, %%ax\n ltr %%ax"
                     : : "m"(gdtr), "m"(idtr) : "eax", "memory");

    /* 1: an interrupt gate, IF = 0. */
    send_nmi();
    settle();
    check("NMI with IF=0: handler ran", nmi_runs, 1);
    check("NMI: IF clear in the handler", nmi_if, 0);
    nmi_resend = 1;
    send_nmi();
    settle();
    check("NMI sent inside the handler: not taken there", nmi_seen_inside, 0);
    check("NMI sent inside the handler: taken after its IRET", nmi_runs, 3);
    check("NMI handler never nested", nmi_max_depth, 1);

    /* 3: INT 2 runs the handler but is no NMI: an NMI sent inside it is taken at once. */
    nmi_resend = 1;
    __asm__ volatile("int $2" : : : "memory");
    check("INT 2: handler ran, and the NMI sent inside it too", nmi_runs, 5);
    check("INT 2: the NMI nested inside it", nmi_seen_inside, 1);
    check("INT 2: nesting depth", nmi_max_depth, 2);

    /* 2: a task gate. */
    idt[2] = task_gate(TSS_N);
    task_resend = 1;
    send_nmi();
    settle();
    check("NMI through a task gate: the task ran", task_runs >= 1, 1);
    check("NMI task: back link is the main task", task_link, TSS_A);
    check("NMI task: NT set", task_nt, 1);
    check("NMI sent inside the NMI task: not taken there", task_seen_inside, 0);
    check("NMI sent inside the NMI task: taken after its IRET", task_runs, 2);
    uint32_t fl;
    __asm__ volatile("pushfl\n popl %0" : "=r"(fl));
    check("IF still clear in the main task", fl & 0x200u, 0);

    /* 4: HLT with IF = 0, woken by an NMI from the HPET through the I/O APIC. */
    idt[2] = intr_gate(nmi_entry);
    uint32_t before = nmi_runs;
    hpet_nmi_soon();
    __asm__ volatile("cli\n hlt" : : : "memory");
    check("HLT with IF=0: an I/O APIC NMI woke it", nmi_runs - before, 1);
    ioapic_write(0x10 + 2 * 20, 0x10000); /* masked again */
    *HPET_REG(0x010) = 0;
    return rt_finish("nmi");
}
