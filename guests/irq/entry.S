/* The interrupt guests' low-level code: exception and IRQ stubs, entering ring 3 and coming
 * back from it. See irq.h. */
#include "irq.h"

        .text

/* Exceptions: push a 0 error code when the cpu pushes none, then the vector; exc_common hands
 * both and the cpu's frame to exception() (kern.c), which reports and exits. */
.macro EXC vec, err
        .globl exc\vec
exc\vec:
        .if \err == 0
        pushl $0
        .endif
        pushl $\vec
        jmp exc_common
.endm

        EXC 0, 0
        EXC 1, 0
        EXC 2, 0
        EXC 3, 0
        EXC 4, 0
        EXC 5, 0
        EXC 6, 0
        EXC 7, 0
        EXC 8, 1
        EXC 9, 0
        EXC 10, 1
        EXC 11, 1
        EXC 12, 1
        EXC 13, 1
        EXC 14, 1
        EXC 15, 0
        EXC 16, 0
        EXC 17, 1
        EXC 18, 0
        EXC 19, 0

exc_common:
        movl $KDATA, %eax
        movl %eax, %ds
        movl %eax, %es
        pushl %esp                      /* -> vec, err, eip, cs, eflags */
        call exception                  /* noreturn */

/* IRQs: the device time is read as early as possible (see irq.h), then the vector. */
.macro IRQ n
        .globl irq\n
irq\n:
        pushl %eax
        pushl %edx
        rdtsc
        pushl %edx
        pushl %eax
        pushl $(IRQ_BASE + \n)
        jmp irq_common
.endm

        IRQ 0
        IRQ 1
        IRQ 2
        IRQ 3
        IRQ 4
        IRQ 5
        IRQ 6
        IRQ 7
        IRQ 8
        IRQ 9
        IRQ 10
        IRQ 11
        IRQ 12
        IRQ 13
        IRQ 14
        IRQ 15

irq_common:
        pushl %ds
        pushl %es
        pushl %fs
        pushl %gs
        pushl %ecx
        pushl %ebx
        pushl %ebp
        pushl %esi
        pushl %edi
        movl $KDATA, %eax
        movl %eax, %ds
        movl %eax, %es
        cld
        pushl %esp                      /* struct irq_frame * */
        call irq_dispatch
        addl $4, %esp
        popl %edi
        popl %esi
        popl %ebp
        popl %ebx
        popl %ecx
        popl %gs
        popl %fs
        popl %es
        popl %ds
        addl $12, %esp                  /* vec, tsc */
        popl %edx
        popl %eax
        iret

/* uint32_t enter_user(void (*eip)(void), uint32_t esp, uint32_t eflags) */
        .globl enter_user
enter_user:
        pushl %ebp
        pushl %ebx
        pushl %esi
        pushl %edi
        movl %esp, kernel_sp
        movl 20(%esp), %eax             /* eip */
        movl 24(%esp), %ecx             /* esp */
        movl 28(%esp), %edx             /* eflags */
        movl $UDATA, %ebx
        movl %ebx, %ds
        movl %ebx, %es
        movl %ebx, %fs
        movl %ebx, %gs
        pushl $UDATA
        pushl %ecx
        pushl %edx
        pushl $UCODE
        pushl %eax
        iret

/* int $VEC_RETURN from ring 3: back onto the kernel stack enter_user saved, with the user's
 * EAX as its return value. */
        .globl user_return
user_return:
        movl $KDATA, %ecx
        movl %ecx, %ds
        movl %ecx, %es
        movl %ecx, %fs
        movl %ecx, %gs
        movl kernel_sp, %esp
        popl %edi
        popl %esi
        popl %ebx
        popl %ebp
        ret

        .bss
        .align 4
kernel_sp:
        .long 0

        .section .note.GNU-stack, "", @progbits
