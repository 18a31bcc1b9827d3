/* The user programs' runtime: system-call wrappers, printf, a few string functions.
 *
 * Every wrapper goes into the kernel through int $0x80, or through sysenter when the program
 * sets use_sysenter = 1. The results are the same either way (guests/kernel/abi.h); a negative
 * result is -E... (e.g. -EFAULT = -14 for a bad pointer). */
#ifndef DEMO_ULIB_H
#define DEMO_ULIB_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "abi.h"

long syscall_int80(long nr, long a1, long a2, long a3);
long syscall_sysenter(long nr, long a1, long a2, long a3);
extern int use_sysenter; /* 0: int $0x80 (the default), 1: sysenter */

static inline long syscall3(long nr, long a1, long a2, long a3)
{
    return use_sysenter ? syscall_sysenter(nr, a1, a2, a3) : syscall_int80(nr, a1, a2, a3);
}

_Noreturn void exit(int code);
long write(int fd, const void *buf, size_t len);
long read(int fd, void *buf, size_t len);
int getpid(void);
void yield(void);
void sleep(unsigned ticks);
void *sbrk(long increment);          /* (void *)-ENOMEM... on failure: check with IS_ERR */
int spawn(const char *cmd);          /* "name args" -> pid */
int wait(int pid);                   /* -1: any child */
unsigned uptime(void);               /* timer ticks since boot (100 per second) */
int grant(unsigned port, unsigned count);
int kdriver(unsigned unit, unsigned value);

#define IS_ERR(x) ((unsigned long)(x) >= (unsigned long)-4095)
const char *errname(long err);       /* -14 -> "EFAULT" */

void printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#include "str.h" /* memset, memcpy, strlen, ...: shared with the kernel (guests/kernel/str.c) */

/* A value the optimiser cannot see through: keeps -O2 from proving a pointer NULL or a divisor
 * zero and replacing the faulting instruction with something else. */
#define OPAQUE(x) __asm__ volatile("" : "+r"(x))

static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

#endif
