/* Every way into the kernel and back out, in assembly because C cannot say "push these
 * registers" or "return with IRET/SYSEXIT":
 *
 *   vector_stubs[0..47]  exceptions 0..31 and IRQs 0..15 (vectors 0x20..0x2F)
 *   syscall_stub         int $0x80
 *   sysenter_entry       SYSENTER
 *   trap_return          back to whatever a trapframe describes (IRET or SYSEXIT)
 *   swtch                switch kernel stacks: the heart of a context switch
 *
 * Each entry builds a struct trapframe (kernel.h) on the current kernel stack and calls
 * trap(tf). From ring 3 the cpu itself switches to the kernel stack (SS0:ESP0 from the TSS for
 * interrupts; IA32_SYSENTER_ESP for SYSENTER; the kernel sets both to the top of the running
 * process's kernel stack).
 */
#include "x86.h"

#define TF_VEC 48       /* offsetof(struct trapframe, vec): 4 segment registers + PUSHAL */

        .text

/* One stub per vector. The cpu pushes an error code for some exceptions only; the others push
 * a 0 so that every trapframe has the same layout. */
.macro STUB vec, has_err
        .align 4
stub_\vec:
        .if \has_err == 0
        pushl $0
        .endif
        pushl $\vec
        jmp trap_common
.endm

        /* exceptions: #DF(8), #TS(10), #NP(11), #SS(12), #GP(13), #PF(14), #AC(17) push one */
        STUB 0, 0
        STUB 1, 0
        STUB 2, 0
        STUB 3, 0
        STUB 4, 0
        STUB 5, 0
        STUB 6, 0
        STUB 7, 0
        STUB 8, 1
        STUB 9, 0
        STUB 10, 1
        STUB 11, 1
        STUB 12, 1
        STUB 13, 1
        STUB 14, 1
        STUB 15, 0
        STUB 16, 0
        STUB 17, 1
        STUB 18, 0
        STUB 19, 0
        STUB 20, 0
        STUB 21, 1
        STUB 22, 0
        STUB 23, 0
        STUB 24, 0
        STUB 25, 0
        STUB 26, 0
        STUB 27, 0
        STUB 28, 0
        STUB 29, 1
        STUB 30, 1
        STUB 31, 0
        /* the 16 IRQ lines of the two 8259As */
        STUB 32, 0
        STUB 33, 0
        STUB 34, 0
        STUB 35, 0
        STUB 36, 0
        STUB 37, 0
        STUB 38, 0
        STUB 39, 0
        STUB 40, 0
        STUB 41, 0
        STUB 42, 0
        STUB 43, 0
        STUB 44, 0
        STUB 45, 0
        STUB 46, 0
        STUB 47, 0

        .globl syscall_stub
syscall_stub:
        pushl $0
        pushl $0x80
        jmp trap_common

/* The rest of the trapframe, then trap(tf). Interrupts are off (interrupt gates). */
trap_common:
        pushal
        pushl %ds
        pushl %es
        pushl %fs
        pushl %gs
        movl $KDATA, %eax               /* ring 3 left its own selectors in DS..GS */
        movw %ax, %ds
        movw %ax, %es
        movw %ax, %fs
        movw %ax, %gs
        cld
        pushl %esp                      /* trap(tf) */
        call trap
        addl $4, %esp
        /* fall through */

/* Returns to what the trapframe at ESP describes. A frame the SYSENTER entry built goes back
 * with SYSEXIT; every other one with IRET (which also works for a new process's first entry
 * into ring 3: its frame is made by hand in proc.c). */
        .globl trap_return
trap_return:
        cmpl $T_SYSENTER, TF_VEC(%esp)
        je sysexit_return
        popl %gs
        popl %fs
        popl %es
        popl %ds
        popal
        addl $8, %esp                   /* the vector and the error code */
        iret

/* SYSENTER: the cpu has loaded CS = KCODE, SS = KDATA, ESP = IA32_SYSENTER_ESP (the top of
 * this process's kernel stack), EIP = here, and cleared IF. It saved nothing: the user stub
 * passed its return address in EDX and its stack pointer in ECX (the arguments are in EAX,
 * EBX, ESI, EDI). We build the same frame an interrupt from ring 3 would have (SS, ESP,
 * EFLAGS, CS, EIP), so trap() need not care. */
        .globl sysenter_entry
sysenter_entry:
        pushl $(UDATA | 3)              /* user SS */
        pushl %ecx                      /* user ESP */
        pushfl
        orl $FL_IF, (%esp)              /* ring 3 always runs with interrupts on */
        pushl $(UCODE | 3)              /* user CS */
        pushl %edx                      /* user EIP: where SYSEXIT will return */
        pushl $0                        /* error code */
        pushl $T_SYSENTER               /* "vector": marks the frame for trap_return */
        jmp trap_common

/* SYSEXIT loads EIP = EDX, ESP = ECX, CS = UCODE|3, SS = UDATA|3. Everything else comes from
 * the frame; ECX and EDX are lost (the ABI says so). EFLAGS is restored with IF still clear,
 * then STI: its one-instruction delay means no interrupt can arrive before SYSEXIT, while the
 * kernel stack is still in use. */
sysexit_return:
        popl %gs
        popl %fs
        popl %es
        popl %ds
        popal                           /* EAX = the result, EBX ESI EDI EBP restored */
        addl $8, %esp                   /* ESP -> EIP, CS, EFLAGS, ESP, SS */
        movl 0(%esp), %edx              /* user EIP */
        movl 12(%esp), %ecx             /* user ESP */
        andl $~FL_IF, 8(%esp)
        pushl 8(%esp)
        popfl
        sti
        sysexit

/* swtch(&old->kesp, new->kesp): saves the callee-saved registers on the current kernel stack,
 * stores ESP in *save_esp, loads the other process's ESP and pops its registers. The RET then
 * returns into that process's kernel code, wherever it called swtch (or, for a new process,
 * into trap_return: proc.c builds that first frame by hand). */
        .globl swtch
swtch:
        movl 4(%esp), %eax              /* save_esp */
        movl 8(%esp), %edx              /* new_esp */
        pushl %ebp
        pushl %ebx
        pushl %esi
        pushl %edi
        movl %esp, (%eax)
        movl %edx, %esp
        popl %edi
        popl %esi
        popl %ebx
        popl %ebp
        ret

/* load_gdt(&gdtr): LGDT, then reload every segment register so that they hold our selectors
 * (a far jump for CS). */
        .globl load_gdt
load_gdt:
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

        .section .rodata
        .align 4
        .globl vector_stubs
vector_stubs:
        .long stub_0, stub_1, stub_2, stub_3, stub_4, stub_5, stub_6, stub_7
        .long stub_8, stub_9, stub_10, stub_11, stub_12, stub_13, stub_14, stub_15
        .long stub_16, stub_17, stub_18, stub_19, stub_20, stub_21, stub_22, stub_23
        .long stub_24, stub_25, stub_26, stub_27, stub_28, stub_29, stub_30, stub_31
        .long stub_32, stub_33, stub_34, stub_35, stub_36, stub_37, stub_38, stub_39
        .long stub_40, stub_41, stub_42, stub_43, stub_44, stub_45, stub_46, stub_47

        .section .note.GNU-stack, "", @progbits
