/* The paging guests' kernel, assembly half: table loading, trap stubs, run_at/resume_kernel.
 *
 *   run_with(cpl, eip, eflags, regs): saves the callee-saved registers, EFLAGS and ESP (kctx_esp),
 *       loads EAX..EDI from *regs and IRETs to eip at ring cpl (ring 3: SS:ESP = 0x23:user_stack
 *       top, data segments 0x23).
 *   trap stubs: push a dummy error code where the cpu pushes none, the vector, the segment and
 *       general registers, and call trap_c(frame); if it returns, IRET to the frame.
 *   resume_kernel(value): back to run_at's caller with value, from any stack.
 */
        .text

        .globl load_tables
load_tables:
        lgdt gdt_ptr
        ljmp $0x08, $1f
1:      movw $0x10, %ax
        movw %ax, %ds
        movw %ax, %es
        movw %ax, %fs
        movw %ax, %gs
        movw %ax, %ss
        lidt idt_ptr
        movw $0x28, %ax
        ltr %ax
        movw $0x30, %ax
        lldt %ax
        ret

        .globl run_with
run_with:
        pushl %ebp
        pushl %ebx
        pushl %esi
        pushl %edi
        pushfl
        movl %esp, kctx_esp
        movl 24(%esp), %ecx             /* cpl */
        movl 28(%esp), %edx             /* eip */
        movl 32(%esp), %esi             /* eflags */
        movl 36(%esp), %edi             /* struct regs * */
        cmpl $3, %ecx
        je 1f
        pushl %esi                      /* ring 0: IRET to the same ring */
        pushl $0x08
        pushl %edx
        jmp 2f
1:      pushl $0x23
        pushl $user_stack + 4096
        pushl %esi
        pushl $0x1B
        pushl %edx
        movw $0x23, %cx
        movw %cx, %ds
        movw %cx, %es
        movw %cx, %fs
        movw %cx, %gs
2:      movl 0(%edi), %eax
        movl 4(%edi), %ebx
        movl 8(%edi), %ecx
        movl 12(%edi), %edx
        movl 16(%edi), %esi
        movl 20(%edi), %edi
        iret

        .globl resume_kernel
resume_kernel:
        movl 4(%esp), %eax
        movw $0x10, %cx
        movw %cx, %ss
        movl kctx_esp, %esp
        movw %cx, %ds
        movw %cx, %es
        movw %cx, %fs
        movw %cx, %gs
        movl $0, kctx_esp
        popfl
        popl %edi
        popl %esi
        popl %ebx
        popl %ebp
        ret

trap_common:
        pushal
        pushl %ds
        pushl %es
        pushl %fs
        pushl %gs
        movw $0x10, %ax
        movw %ax, %ds
        movw %ax, %es
        movw %ax, %fs
        movw %ax, %gs
        cld
        pushl %esp
        call trap_c
        addl $4, %esp
        popl %gs
        popl %fs
        popl %es
        popl %ds
        popal
        addl $8, %esp
        iret

/* Vectors that push an error code: 8, 10..14, 17. */
.macro stub vec
stub_\vec:
        .if (\vec == 8) || (\vec >= 10 && \vec <= 14) || (\vec == 17)
        .else
        pushl $0
        .endif
        pushl $\vec
        jmp trap_common
.endm

        .irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,48,49
        stub \v
        .endr

        .section .rodata
        .align 4
        .globl trap_stubs
trap_stubs:
        .irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,48,49
        .long stub_\v
        .endr

        .align 4
gdt_ptr:
        .word 16 * 8 - 1
        .long gdt
        .align 4
idt_ptr:
        .word 256 * 8 - 1
        .long idt

        .data
        .align 4
        .globl kctx_esp
kctx_esp:
        .long 0

        .section .note.GNU-stack, "", @progbits
