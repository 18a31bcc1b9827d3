/* Where every user program starts. The kernel enters here in ring 3 with ESP pointing at
 * argc, then argv[0..argc-1], NULL (the strings are above them). We call main(argc, argv) and
 * pass its return value to exit(). */
        .section .text.start, "ax"
        .globl _start
        .type _start, @function
_start:
        movl (%esp), %eax               /* argc */
        leal 4(%esp), %edx              /* argv */
        xorl %ebp, %ebp                 /* end of the frame chain */
        andl $-16, %esp                 /* the usual alignment at a call */
        subl $8, %esp
        pushl %edx
        pushl %eax
        call main
        movl %eax, (%esp)
        call exit                       /* does not return */
1:      jmp 1b
        .size _start, . - _start

        .section .note.GNU-stack, "", @progbits
