/* The accesses of the paging matrix, each ending with int $0x30 (kern.h). They are position
 * independent: ring 0 runs them here (supervisor pages), ring 3 runs copies in user_code.
 *   EBX = the address, EAX = the value to write / the selector to load. */
        .text
        .globl access_read, access_write, access_fetch, access_sreg, access_end
access_read:
        movl (%ebx), %eax
        int $0x30
access_write:
        movl %eax, (%ebx)
        int $0x30
access_fetch:
        jmp *%ebx                       /* the target holds int $0x30 */
access_sreg:
        movw %ax, %ds                   /* an LDT selector: the LDT is at the test address */
        int $0x30
access_end:

        .section .note.GNU-stack, "", @progbits
