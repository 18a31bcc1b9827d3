/* The kernel's first instructions: the Multiboot v1 header and the jump into C.
 *
 * The loader (Ringside, QEMU's -kernel, GRUB) leaves us in flat 32-bit protected mode with
 * paging and interrupts off, EAX = 0x2BADB002 and EBX = the physical address of the Multiboot
 * information block (memory size, command line, modules). We set up a stack and call
 * kmain(magic, info). That stack later becomes the idle loop's kernel stack.
 * The loader zeroes .bss (ELF memsz beyond filesz); we do it again rather than rely on it.
 */
#define MB_MAGIC 0x1BADB002      /* Multiboot v1 header magic */
#define MB_FLAGS 0x00000003      /* bit 0: page-align modules; bit 1: give us the memory map */

        .section .multiboot, "a"
        .align 4
        .long MB_MAGIC
        .long MB_FLAGS
        .long -(MB_MAGIC + MB_FLAGS)    /* checksum: the three words sum to 0 */

        .section .bss
        .align 16
        .globl boot_stack
boot_stack:
        .skip 16384
        .globl boot_stack_top
boot_stack_top:

        .text
        .globl _start
        .type _start, @function
_start:
        cld                             /* the C ABI assumes DF = 0 */
        movl $boot_stack_top, %esp
        xorl %ebp, %ebp                 /* end of the frame chain for debuggers */
        movl %eax, %esi                 /* keep magic and info across the clearing */
        movl $__bss_start, %edi
        movl $__bss_end, %ecx
        subl %edi, %ecx
        shrl $2, %ecx                   /* kernel.ld aligns both ends to 4 */
        xorl %eax, %eax
        rep stosl                       /* (the stack is in .bss: nothing is on it yet) */
        pushl %ebx                      /* kmain(magic, info); kmain checks the magic */
        pushl %esi
        call kmain
1:      cli                             /* kmain does not return; if it did, stop */
        hlt
        jmp 1b
        .size _start, . - _start

        .section .note.GNU-stack, "", @progbits
