/* Multiboot v1 entry: the loader leaves us in flat 32-bit protected mode, paging and
 * interrupts off, EAX = 0x2BADB002. We set a stack and call kmain; the kernel ends itself. */
#define MB_MAGIC 0x1BADB002
#define MB_FLAGS 0x00000003

        .section .multiboot, "a"
        .align 4
        .long MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

        .section .bss
        .align 16
        .skip 16384
stack_top:

        .text
        .globl _start
_start:
        cld
        movl $stack_top, %esp
        xorl %ebp, %ebp
        call kmain
1:      cli
        hlt
        jmp 1b

/* The system call entry, through an interrupt gate of DPL 3 (int $0x80 from ring 3): the
 * registers go to syscall(struct regs *) and come back as it leaves them. */
        .globl syscall_entry
syscall_entry:
        pushal
        pushl %esp
        call syscall
        addl $4, %esp
        popal
        iret

/* Any other exception: fault(vector) never returns. */
        .globl fault_entry
fault_entry:
        call fault

        .section .note.GNU-stack, "", @progbits
