/* The privilege-ring guests' low-level code: interrupt stubs, entering and leaving probes, the
 * call-gate, SYSENTER and conforming #DF entry points. See rings.h. */
#include "rings.h"

/* struct probe offsets (kern.c asserts them). */
#define P_ENTRY  0
#define P_RING   12
#define P_EFLAGS 16
#define P_ESP    20
#define P_EAX    24
#define P_EBX    28
#define P_ECX    32
#define P_EDX    36
#define P_ESI    40
#define P_EDI    44
#define P_EBP    48

        .text

/* One stub per vector: push a 0 error code when the cpu pushes none, then the vector. */
.macro STUB name, vec, err
        .globl \name
\name:
        .if \err == 0
        pushl $0
        .endif
        pushl $\vec
        jmp isr_common
.endm

        STUB isr0, 0, 0
        STUB isr1, 1, 0
        STUB isr2, 2, 0
        STUB isr3, 3, 0
        STUB isr4, 4, 0
        STUB isr5, 5, 0
        STUB isr6, 6, 0
        STUB isr7, 7, 0
        STUB isr8, 8, 1
        STUB isr9, 9, 0
        STUB isr10, 10, 1
        STUB isr11, 11, 1
        STUB isr12, 12, 1
        STUB isr13, 13, 1
        STUB isr14, 14, 1
        STUB isr15, 15, 0
        STUB isr16, 16, 0
        STUB isr17, 17, 1
        STUB isr18, 18, 0
        STUB isr19, 19, 0
        STUB isr20, 20, 0
        STUB isr21, 21, 1
        STUB isr22, 22, 0
        STUB isr23, 23, 0
        STUB isr24, 24, 0
        STUB isr25, 25, 0
        STUB isr26, 26, 0
        STUB isr27, 27, 0
        STUB isr28, 28, 0
        STUB isr29, 29, 1
        STUB isr30, 30, 1
        STUB isr31, 31, 0
        STUB isr_exit, VEC_EXIT, 0
        STUB isr_priv, VEC_PRIV, 0
        STUB isr_trap, VEC_TRAP, 0
        STUB isr_intr, VEC_INTR, 0
        STUB isr_setk, VEC_SETK, 0

/* Saves the segment registers and PUSHAL (struct tf), switches to the kernel's data segments
 * and calls trap(tf); then restores what the frame holds (trap() may have changed it) and IRETs. */
isr_common:
        pushal
        pushl %ds
        pushl %es
        pushl %fs
        pushl %gs
        movl $KDATA, %eax
        movw %ax, %ds
        movw %ax, %es
        cld
        pushl %esp
        call trap
        addl $4, %esp
        popl %gs
        popl %fs
        popl %es
        popl %ds
        popal
        addl $8, %esp
        iret

        .section .rodata
        .align 4
        .globl isr_table
isr_table:
        .long isr0, isr1, isr2, isr3, isr4, isr5, isr6, isr7
        .long isr8, isr9, isr10, isr11, isr12, isr13, isr14, isr15
        .long isr16, isr17, isr18, isr19, isr20, isr21, isr22, isr23
        .long isr24, isr25, isr26, isr27, isr28, isr29, isr30, isr31
        .text

/* load_gdt_and_segments(gdtr): LGDT, reload CS with a far jump and the data registers. */
        .globl load_gdt_and_segments
load_gdt_and_segments:
        movl 4(%esp), %eax
        lgdt (%eax)
        ljmp $KCODE, $1f
1:      movl $KDATA, %eax
        movw %ax, %ds
        movw %ax, %es
        movw %ax, %fs
        movw %ax, %gs
        movw %ax, %ss
        ret

/* enter_probe(p): saves the kernel context (callee-saved registers, ESP) and IRETs to the probe:
 * ring 3 with SS:ESP = UDATA:p->esp and DS..GS = UDATA, or ring 0 on p->esp. probe_return()
 * (called by trap() at the probe's end) comes back here as if enter_probe returned. */
        .globl enter_probe
enter_probe:
        pushl %ebx
        pushl %esi
        pushl %edi
        pushl %ebp
        movl %esp, kctx_esp
        movl 20(%esp), %ebp             /* p; read through SS from here on */
        cmpl $0, P_RING(%ebp)
        je 1f
        pushl $(UDATA | 3)
        pushl P_ESP(%ebp)
        pushl P_EFLAGS(%ebp)
        pushl $(UCODE | 3)
        pushl P_ENTRY(%ebp)
        movl $(UDATA | 3), %eax
        jmp 2f
1:      movl P_ESP(%ebp), %esp
        pushl P_EFLAGS(%ebp)
        pushl $KCODE
        pushl P_ENTRY(%ebp)
        movl $KDATA, %eax
2:      movw %ax, %ds
        movw %ax, %es
        movw %ax, %fs
        movw %ax, %gs
        movl P_EAX(%ebp), %eax
        movl P_EBX(%ebp), %ebx
        movl P_ECX(%ebp), %ecx
        movl P_EDX(%ebp), %edx
        movl P_ESI(%ebp), %esi
        movl P_EDI(%ebp), %edi
        movl P_EBP(%ebp), %ebp
        iret

        .globl probe_return
probe_return:
        movl $KDATA, %eax
        movw %ax, %ds
        movw %ax, %es
        movw %ax, %fs
        movw %ax, %gs
        movw %ax, %ss
        movl kctx_esp, %esp
        popl %ebp
        popl %edi
        popl %esi
        popl %ebx
        cld
        ret

/* The ring 0 end of the call gates: records ESP, CS, SS and the six dwords the gate pushed
 * (EIP, CS, two parameters, ESP, SS), then returns with RET 8 (releasing the parameters on both
 * stacks). Uses only SS (the TSS's ring 0 stack) for its stores; clobbers EAX. */
        .globl cg_entry
cg_entry:
        movl %esp, %ss:cg_rec
        xorl %eax, %eax
        movw %cs, %ax
        movl %eax, %ss:cg_rec + 4
        movw %ss, %ax
        movl %eax, %ss:cg_rec + 8
        movl 0(%esp), %eax
        movl %eax, %ss:cg_rec + 12
        movl 4(%esp), %eax
        movl %eax, %ss:cg_rec + 16
        movl 8(%esp), %eax
        movl %eax, %ss:cg_rec + 20
        movl 12(%esp), %eax
        movl %eax, %ss:cg_rec + 24
        movl 16(%esp), %eax
        movl %eax, %ss:cg_rec + 28
        movl 20(%esp), %eax
        movl %eax, %ss:cg_rec + 32
        lret $8

/* SYSENTER's target: records ESP, CS, SS and EFLAGS, then SYSEXIT (to EDX with ESP = ECX, which
 * the ring 3 caller set). Clobbers EAX. */
        .globl sysenter_entry
sysenter_entry:
        movl %esp, %ss:sysenter_rec
        xorl %eax, %eax
        movw %cs, %ax
        movl %eax, %ss:sysenter_rec + 4
        movw %ss, %ax
        movl %eax, %ss:sysenter_rec + 8
        pushfl
        popl %eax
        movl %eax, %ss:sysenter_rec + 12
        sysexit

/* Handlers in the conforming segment KCONF for #DF, #TS, #NP, #SS and #GP (all push an error
 * code). A conforming handler runs at the CPL of the code that was interrupted, on that code's
 * stack: no stack switch, so a broken TSS stack does not matter. conf_common records ESP, CS, SS,
 * the pushed error code, EIP, CS, EFLAGS and the vector in conf_rec, writes conf_fix_ss0 and
 * conf_fix_esp0 into the TSS's SS0:ESP0 (repairing it) and leaves the probe with int $0x80.
 * Only SS is used for memory accesses. */
.macro CONF name, vec
        .globl \name
\name:
        movl $\vec, %ss:conf_rec + 28
        jmp conf_common
.endm
        CONF conf_df, 8
        CONF conf_ts, 10
        CONF conf_np, 11
        CONF conf_ss, 12
        CONF conf_gp, 13

conf_common:
        movl %esp, %ss:conf_rec
        xorl %eax, %eax
        movw %cs, %ax
        movl %eax, %ss:conf_rec + 4
        movw %ss, %ax
        movl %eax, %ss:conf_rec + 8
        movl 0(%esp), %eax
        movl %eax, %ss:conf_rec + 12
        movl 4(%esp), %eax
        movl %eax, %ss:conf_rec + 16
        movl 8(%esp), %eax
        movl %eax, %ss:conf_rec + 20
        movl 12(%esp), %eax
        movl %eax, %ss:conf_rec + 24
        movl %ss:conf_fix_ss0, %eax
        movl %eax, %ss:tss + 8
        movl %ss:conf_fix_esp0, %eax
        movl %eax, %ss:tss + 4
        int $VEC_EXIT

        .data
        .align 4
kctx_esp:       .long 0
        .globl cg_rec, sysenter_rec, conf_rec, conf_fix_ss0, conf_fix_esp0
cg_rec:         .fill 10, 4, 0
sysenter_rec:   .fill 5, 4, 0
conf_rec:       .fill 8, 4, 0
conf_fix_ss0:   .long 0
conf_fix_esp0:  .long 0

        .section .note.GNU-stack, "", @progbits
