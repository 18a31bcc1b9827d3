/* The two ways into the kernel. Both take (number, arg1, arg2, arg3) in the C calling
 * convention and return the kernel's result; see guests/kernel/abi.h for the registers.
 *
 *   long syscall_int80(long nr, long a1, long a2, long a3);
 *   long syscall_sysenter(long nr, long a1, long a2, long a3);
 */
#include "abi.h"

        .text

/* int $0x80: a software interrupt through a DPL 3 gate. The cpu switches to the kernel stack
 * from the TSS and saves our SS, ESP, EFLAGS, CS and EIP on it; IRET restores them. */
        .globl syscall_int80
        .type syscall_int80, @function
syscall_int80:
        pushl %ebx                      /* callee-saved in the C convention */
        movl 8(%esp), %eax              /* nr */
        movl 12(%esp), %ebx             /* a1 */
        movl 16(%esp), %ecx             /* a2 */
        movl 20(%esp), %edx             /* a3 */
        int $SYSCALL_VECTOR
        popl %ebx
        ret
        .size syscall_int80, . - syscall_int80

/* sysenter: the fast way in. The cpu saves nothing: it jumps to the kernel's entry point on the
 * kernel's stack (both from MSRs). SYSEXIT comes back to EIP = EDX with ESP = ECX, so we pass
 * our return address and stack pointer there, and the arguments in EBX, ESI, EDI. */
        .globl syscall_sysenter
        .type syscall_sysenter, @function
syscall_sysenter:
        pushl %ebx                      /* callee-saved in the C convention */
        pushl %esi
        pushl %edi
        movl 16(%esp), %eax             /* nr */
        movl 20(%esp), %ebx             /* a1 */
        movl 24(%esp), %esi             /* a2 */
        movl 28(%esp), %edi             /* a3 */
        movl %esp, %ecx                 /* SYSEXIT's ESP */
        movl $1f, %edx                  /* SYSEXIT's EIP */
        sysenter
1:      popl %edi
        popl %esi
        popl %ebx
        ret
        .size syscall_sysenter, . - syscall_sysenter

        .section .note.GNU-stack, "", @progbits
