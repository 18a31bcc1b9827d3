/* Multiboot v1 entry shared by the C guests.
 *
 * The loader (Ringside or `qemu-system-i386 -kernel`) hands over in flat 32-bit protected mode,
 * paging off, interrupts off, EAX = 0x2BADB002 and EBX = physical address of the Multiboot
 * information block. We do not touch the GDT, the IDT or any segment register: the loader's
 * flat segments are all a guest of this kind needs.
 *
 *   _start: cld; set up a 16 KiB stack in .bss; check the magic; clear .bss;
 *           eax = kmain(mbi); rt_exit(eax)      (never returns: port 0xF4, then cli/hlt)
 */

#define MB_MAGIC 0x1BADB002      /* Multiboot v1 header magic */
#define MB_FLAGS 0x00000003      /* bit 0: page-align modules, bit 1: give mem_lower/upper */
#define MB_BOOT_MAGIC 0x2BADB002 /* what the loader leaves in EAX */

        .section .multiboot, "a"
        .align 4
        .long MB_MAGIC
        .long MB_FLAGS
        .long -(MB_MAGIC + MB_FLAGS)    /* checksum: the three words sum to 0 */

        .section .bss
        .align 16
stack_bottom:
        .skip 16384
stack_top:

        .text
        .globl _start
        .type _start, @function
_start:
        cld                             /* the C ABI assumes DF = 0 */
        movl $stack_top, %esp
        xorl %ebp, %ebp                 /* end of the frame chain for debuggers */
        cmpl $MB_BOOT_MAGIC, %eax
        jne bad_magic

        movl %ebx, %esi                 /* keep the info pointer across the clear */
        movl $__bss_start, %edi         /* the loader should zero .bss; do not rely on it */
        movl $__bss_end, %ecx
        subl %edi, %ecx
        shrl $2, %ecx                   /* link.ld aligns both ends to 4 */
        xorl %eax, %eax
        rep stosl

        pushl %esi
        call kmain
        pushl %eax
        call rt_exit                    /* noreturn */

bad_magic:
        pushl %eax
        call rt_bad_magic               /* noreturn */
        .size _start, . - _start

        .section .note.GNU-stack, "", @progbits
