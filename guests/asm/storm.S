/* Guest, pure GNU as: a fault storm that never retires another instruction. Ringside must stop
 * it at its instruction limit (exit status 124), quickly: each delivered event moves device
 * time by at least one unit, even when the handler's first instruction faults again at once.
 * It never ends by itself, so it is not run under QEMU.
 *
 * After printing one line it installs a GDT and an IDT whose only gate is the storm's, then:
 *   (default)          #UD gate -> a handler that is ud2 itself; ud2
 *   STORM_UNBACKED     #UD gate -> 0xF0000000, an address with no RAM behind it (a fetch there
 *                      reads all ones: FF FF, #UD again); ud2
 *   STORM_NOTPRESENT   paging on (the first 4 MiB identity-mapped by one 4 MiB page, 4 MiB
 *                      pages from 12 MiB up for the stack), #PF gate -> 0x00800000, which is
 *                      not mapped (the fetch faults: #PF again); a read of 0x00400000
 * Each delivery pushes a frame, so the stack runs down: it starts at 0x90000, below the image,
 * and after 0x90000 / 12 frames wraps around to the top of the 4 GiB, where no memory is (with
 * paging, everything from 12 MiB up is mapped there), so writes vanish and nothing the storm needs is ever
 * overwritten: without a limit it would go on for ever. Any other fault has no gate: a triple
 * fault, exit status 4, which fails the test.
 */

#define MB_MAGIC 0x1BADB002
#define MB_FLAGS 0x00000003
#define UART_THR 0x3F8
#define UART_LSR 0x3FD

        .section .multiboot, "a"
        .align 4
        .long MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

        .section .rodata
#if defined(STORM_UNBACKED)
msg:    .asciz "storm: #UD handler at an address with no memory, then ud2\n"
#elif defined(STORM_NOTPRESENT)
msg:    .asciz "storm: #PF handler on a page that is not present, then a #PF\n"
#else
msg:    .asciz "storm: #UD handler that is ud2, then ud2\n"
#endif

        .data
        .align 8
gdt:    .quad 0
        .quad 0x00CF9A000000FFFF        /* 0x08 ring 0 code, flat */
        .quad 0x00CF92000000FFFF        /* 0x10 ring 0 data, flat */
gdtr:   .word 3 * 8 - 1
        .long gdt
idtr:   .word 256 * 8 - 1
        .long idt

        .bss
        .align 4096
pd:     .skip 4096                      /* page directory (STORM_NOTPRESENT) */
idt:    .skip 256 * 8

        .text
        .globl _start
_start:
        movl $0x00090000, %esp
        movl $msg, %esi
1:      movb (%esi), %al
        testb %al, %al
        jz 3f
        movw $UART_LSR, %dx
2:      inb %dx, %al
        testb $0x20, %al
        jz 2b
        movw $UART_THR, %dx
        movb (%esi), %al
        outb %al, %dx
        incl %esi
        jmp 1b
3:
        lgdt gdtr
        ljmp $0x08, $4f
4:      movw $0x10, %ax
        movw %ax, %ds
        movw %ax, %es
        movw %ax, %ss

#if defined(STORM_UNBACKED)
        movl $0xF0000000, %eax
        movl $6, %ebx
#elif defined(STORM_NOTPRESENT)
        movl $0x00800000, %eax
        movl $14, %ebx
#else
        movl $ud_handler, %eax
        movl $6, %ebx
#endif
        /* An interrupt gate: offset 15..0, selector 0x08; offset 31..16, P DPL 0 type 0xE. */
        movl %eax, %ecx
        andl $0xFFFF, %ecx
        orl $0x00080000, %ecx
        movl %ecx, idt(, %ebx, 8)
        andl $0xFFFF0000, %eax
        orl $0x8E00, %eax
        movl %eax, idt + 4(, %ebx, 8)
        lidt idtr

#if defined(STORM_NOTPRESENT)
        movl $0x00000083, pd            /* PDE 0: 4 MiB page at 0, present, writable */
        movl $3, %ecx                   /* PDEs 3..1023: where the stack wraps to, 4 MiB pages */
5:      movl $0xFFC00083, pd(, %ecx, 4) /* all onto the same physical 4 MiB with no memory */
        incl %ecx
        cmpl $1024, %ecx
        jb 5b
        movl %cr4, %eax
        orl $0x10, %eax                 /* CR4.PSE */
        movl %eax, %cr4
        movl $pd, %eax
        movl %eax, %cr3
        movl %cr0, %eax
        orl $0x80000000, %eax
        movl %eax, %cr0
        movl 0x00400000, %eax           /* not mapped: #PF, whose handler is not mapped */
#else
        ud2
#endif
        hlt

ud_handler:
        ud2
