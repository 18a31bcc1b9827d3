/* The system-call ABI between the demo kernel and its user programs (shared by both sides).
 *
 * Two ways into the kernel, with the same numbers and results:
 *
 *   int $0x80   EAX = number, EBX = arg1, ECX = arg2, EDX = arg3; result in EAX.
 *               Every other register is preserved (the kernel returns with IRET).
 *
 *   sysenter    EAX = number, EBX = arg1, ESI = arg2, EDI = arg3; result in EAX.
 *               The cpu saves nothing on SYSENTER, and SYSEXIT returns to EIP = EDX with
 *               ESP = ECX, so the stub passes its return address in EDX and its stack pointer
 *               in ECX (as Linux's does); that is why arg2 and arg3 move to ESI and EDI.
 *               ECX and EDX are clobbered; every other register is preserved.
 *
 * A result in [-4095, -1] is an error: -E... below. Everything else is success.
 */
#ifndef DEMO_ABI_H
#define DEMO_ABI_H

#define SYSCALL_VECTOR 0x80 /* int $0x80: a DPL 3 interrupt gate */

/* System-call numbers. */
#define SYS_EXIT    0  /* exit(code)                 -> does not return */
#define SYS_WRITE   1  /* write(fd, buf, len)        -> bytes written */
#define SYS_READ    2  /* read(fd, buf, len)         -> bytes read, 0 = end of input */
#define SYS_GETPID  3  /* getpid()                   -> pid */
#define SYS_YIELD   4  /* yield()                    -> 0 (gives up the rest of the time slice) */
#define SYS_SLEEP   5  /* sleep(ticks)               -> 0 */
#define SYS_SBRK    6  /* sbrk(increment)            -> the old break (start of the new memory) */
#define SYS_SPAWN   7  /* spawn("name args")         -> pid of the new process */
#define SYS_WAIT    8  /* wait(pid or -1 for any)    -> exit status of that child */
#define SYS_UPTIME  9  /* uptime()                   -> timer ticks since boot */
#define SYS_GRANT   10 /* grant(port, count)         -> 0: the ports are open to this process */
#define SYS_KDRIVER 11 /* kdriver(unit, value)       -> a deliberately buggy kernel-mode driver */
#define NSYSCALLS   12

/* Handles every process starts with (its handle table). */
#define FD_STDIN  0 /* console input: the UART receiver */
#define FD_STDOUT 1 /* console output: the UART transmitter */

/* Error results (negated), with their usual Unix numbers. */
#define EPERM  1  /* operation not permitted (grant of a port the kernel keeps) */
#define ENOENT 2  /* no such program (spawn) */
#define EBADF  9  /* not an open handle, or the wrong direction */
#define ECHILD 10 /* no such child (wait) */
#define EAGAIN 11 /* the process table is full (spawn) */
#define ENOMEM 12 /* out of memory (sbrk, spawn) */
#define EFAULT 14 /* a bad user pointer: outside user space, unmapped, or read-only */
#define EINVAL 22 /* a bad argument */
#define ENOSYS 38 /* no such system call */

/* Exit status as wait() reports it: exit(code) gives code & 0xFF; a process the kernel killed
 * gives 0x100 + the exception vector (0x10E = killed by #PF), or STATUS_CPULIMIT. */
#define STATUS_KILLED   0x100
#define STATUS_CPULIMIT 0x1FF

/* The user address space (every program is linked at USER_LOAD). */
#define USER_BASE      0x08000000u /* lowest user address; below it is the kernel's */
#define USER_LOAD      0x08048000u /* where the programs' code starts (the traditional place) */
#define USER_TOP       0xC0000000u /* first address above user space */
#define USER_STACK_TOP 0xBFFFF000u /* the initial ESP region ends here */

#endif
