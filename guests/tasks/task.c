/* Guest: hardware task switches (SDM vol. 3 ch. 7), checked from inside the tasks, the same on
 * Ringside and under qemu-system-i386.
 *
 *   1. ljmp to a TSS: task B runs with its own registers and stack, then ljmps back; the main
 *      task resumes after its ljmp with its registers intact; busy bits follow (JMP leaves the
 *      old task not busy).
 *   2. lcall to a TSS and 3. int through a task gate in the IDT: task C runs nested (back link =
 *      the caller, NT set) and returns with IRET; the caller continues after its lcall / int.
 *   4. lcall through a task gate in the GDT: the same, by way of the gate.
 *   5. a double fault through a task gate: a missing gate for INT 0x41 (#NP), whose #NP cannot be
 *      delivered either (#NP during #NP -> #DF), reaches task D, which finds the #DF error code
 *      (0) on its own stack and the main task in its back link, and ends the guest.
 */
#include "rt.h"
#include "tasks.h"

#define KCODE 0x08
#define KDATA 0x10
#define TSS_A 0x18 /* the main task */
#define TSS_B 0x20 /* reached by ljmp, returns by ljmp */
#define TSS_C 0x28 /* reached by lcall / int, returns by iret */
#define TSS_D 0x30 /* the double-fault task */
#define TGATE 0x38 /* a task gate in the GDT -> TSS_C */

static uint64_t gdt[8];
static uint64_t idt[256];
static struct tss tss[4];
static uint8_t stacks[3][4096] __attribute__((aligned(16)));

static volatile uint32_t b_runs, b_eax, c_runs, c_link, c_eflags, c_eax;

static uint32_t gdt_word(uint16_t sel) { return (uint32_t)(gdt[sel >> 3] >> 32); }
static int busy(uint16_t sel) { return ((gdt_word(sel) >> 8) & 0xF) == 0xB; }

/* The tasks' code. B: count, remember EAX, go back to A by ljmp (and loop when resumed).
 * C: count, remember its back link, EFLAGS and EAX, return by iret (and loop when resumed).
 * D: report what the double fault left, end the guest. */
void task_b(void);
void task_c(void);
__asm__(".text\n"
        "task_b: incl b_runs\n"
        "        movl %eax, b_eax\n"
        "        ljmp $0x18, $0\n"
        "        jmp task_b\n"
        "task_c: incl c_runs\n"
        "        movl %eax, c_eax\n"
        "        movzwl tss+208, %edx\n" /* tss[2].link (2 * 104 bytes in) */
        "        movl %edx, c_link\n"
        "        pushfl\n"
        "        popl c_eflags\n"
        "        iret\n"
        "        jmp task_c\n");

static void task_d(void)
{
    uint32_t err;
    __asm__ volatile("movl (%%esp), %0" : "=r"(err)); /* the #DF error code, pushed by the cpu */
    uint16_t tr;
    __asm__ volatile("str %0" : "=r"(tr));
    check("double fault: running task", tr, TSS_D);
    check("double fault: error code on the new stack", err, 0);
    check("double fault: back link", tss[3].link, TSS_A);
    check("double fault: main task still busy", busy(TSS_A), 1);
    rt_exit(rt_finish("task"));
}

static void task_init(struct tss *t, void (*entry)(void), uint8_t *stack, uint32_t eax)
{
    t->eip = (uint32_t)(uintptr_t)entry;
    t->eflags = 0x2;
    t->eax = eax;
    t->esp = (uint32_t)(uintptr_t)(stack + 4096);
    t->cs = KCODE;
    t->ss = t->ds = t->es = t->fs = t->gs = KDATA;
    t->iomap = sizeof(struct tss);
}

int kmain(const struct multiboot_info *mbi)
{
    (void)mbi;
    gdt[1] = seg_desc(0, 0xFFFFF, 0x9A, 0xC);
    gdt[2] = seg_desc(0, 0xFFFFF, 0x92, 0xC);
    for (int k = 0; k < 4; k++)
        gdt[3 + k] = seg_desc((uint32_t)(uintptr_t)&tss[k], sizeof(struct tss) - 1, 0x89, 0);
    gdt[7] = task_gate(TSS_C);
    task_init(&tss[1], task_b, stacks[0], 0xB0B0B0B0u);
    task_init(&tss[2], task_c, stacks[1], 0xC0C0C0C0u);
    task_init(&tss[3], task_d, stacks[2], 0);
    idt[0x40] = task_gate(TSS_C);
    idt[8] = task_gate(TSS_D);
    struct { uint16_t limit; uint32_t base; } __attribute__((packed))
        gdtr = {sizeof gdt - 1, (uint32_t)(uintptr_t)gdt},
        idtr = {sizeof idt - 1, (uint32_t)(uintptr_t)idt};
    __asm__ volatile("lgdt %0\n"
                     "ljmp $0x08, $1f\n"
                     "1: movw $0x10, %%ax\n"
                     "movw %%ax, %%ds\n movw %%ax, %%es\n movw %%ax, %%ss\n"
                     "movw %%ax, %%fs\n movw %%ax, %%gs\n"
                     "lidt %1\n"
                     "movw $0x18, %%ax\n ltr %%ax"
                     : : "m"(gdtr), "m"(idtr) : "eax", "memory");
    check("ltr marks the main task busy", busy(TSS_A), 1);

    /* 1: ljmp there and back. */
    uint32_t kept;
    __asm__ volatile("movl $0x5151A5A5, %%esi\n"
                     "ljmp $0x20, $0\n"
                     "movl %%esi, %0"
                     : "=r"(kept) : : "esi", "memory");
    check("ljmp: task B ran", b_runs, 1);
    check("ljmp: task B's own EAX", b_eax, 0xB0B0B0B0u);
    check("ljmp: main task's ESI kept", kept, 0x5151A5A5u);
    check("ljmp: main task busy again", busy(TSS_A), 1);
    check("ljmp: task B left not busy", busy(TSS_B), 0);
    __asm__ volatile("ljmp $0x20, $0" : : : "memory"); /* B resumes after its ljmp */
    check("ljmp again: task B resumed and ran once more", b_runs, 2);

    /* 2: lcall to a TSS, back by iret. */
    __asm__ volatile("lcall $0x28, $0" : : : "memory");
    check("lcall: task C ran", c_runs, 1);
    check("lcall: task C's back link", c_link, TSS_A);
    check("lcall: NT set in task C", (c_eflags >> 14) & 1, 1);
    check("lcall: task C's own EAX", c_eax, 0xC0C0C0C0u);
    check("lcall: task C not busy after iret", busy(TSS_C), 0);
    uint32_t fl;
    __asm__ volatile("pushfl\n popl %0" : "=r"(fl));
    check("lcall: NT clear back in the main task", (fl >> 14) & 1, 0);

    /* 3: int through a task gate. */
    __asm__ volatile("int $0x40" : : : "memory");
    check("int 0x40 (task gate): task C ran", c_runs, 2);
    check("int 0x40 (task gate): back link", c_link, TSS_A);

    /* 4: lcall through a task gate in the GDT. */
    __asm__ volatile("lcall $0x38, $0" : : : "memory");
    check("lcall via a GDT task gate: task C ran", c_runs, 3);

    /* 5: #NP for INT 0x41 (no gate), #NP again delivering it (no gate 11): #DF -> task D. */
    __asm__ volatile("int $0x41" : : : "memory");
    check("double fault: not reached", 1, 0);
    return rt_finish("task");
}
