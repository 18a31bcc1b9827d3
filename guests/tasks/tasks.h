/* What the task-switch guests (task.c, nmi.c) share: the 32-bit TSS layout (Intel SDM vol. 3,
 * figure 8-2) and the descriptors they build (a segment, a task gate). */
#ifndef RINGSIDE_GUEST_TASKS_H
#define RINGSIDE_GUEST_TASKS_H

#include <stdint.h>

struct tss {
    uint16_t link, r0;
    uint32_t esp0;
    uint16_t ss0, r1;
    uint32_t esp1;
    uint16_t ss1, r2;
    uint32_t esp2;
    uint16_t ss2, r3;
    uint32_t cr3, eip, eflags, eax, ecx, edx, ebx, esp, ebp, esi, edi;
    uint16_t es, r4, cs, r5, ss, r6, ds, r7, fs, r8, gs, r9, ldt, r10, trap, iomap;
} __attribute__((packed));

static inline uint64_t seg_desc(uint32_t base, uint32_t limit, unsigned access, unsigned flags)
{
    return ((uint64_t)((base & 0xFF000000u) | ((flags & 0xFu) << 20) | (limit & 0xF0000u) |
                       (access << 8) | ((base >> 16) & 0xFFu)) << 32) |
           ((limit & 0xFFFFu) | ((base & 0xFFFFu) << 16));
}

static inline uint64_t task_gate(uint16_t tss_sel)
{
    return ((uint64_t)(0x8000u | 0x05u << 8) << 32) | ((uint32_t)tss_sel << 16);
}

#endif
