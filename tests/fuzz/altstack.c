/* ASan's cost on every guest fault, removed: a fault unwinds with longjmp (cpu_raise), and
 * before every longjmp (its interceptor, and every call of a noreturn function) ASan runs
 * __asan_handle_no_return, which asks the kernel for the signal alternate stack
 * (sigaltstack(NULL, &old)) to unpoison it. That system call was about a fifth of the
 * fuzzer's time. The fuzz binaries and, in sanitizer builds, the replay drivers link it.
 *
 * This definition of sigaltstack replaces ASan's interceptor (a weak symbol) and libc's for
 * the whole process. A change (ss != NULL) goes to the kernel and is remembered; a query
 * (ss == NULL) is answered from what was remembered, asking the kernel only the first time in
 * each thread. SS_ONSTACK is computed as the kernel computes it: is the stack pointer inside
 * the alternate stack. The answer is right as long as every change of the alternate stack in
 * the process goes through this function (ASan's own, libFuzzer's and libc's do; a raw
 * syscall(SYS_sigaltstack) by other code in the same thread would not be seen).
 *
 * RINGSIDE_ALTSTACK=syscall in the environment turns the cache off (every call goes to the
 * kernel), to measure what it saves: docs/fuzzing.md. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Per thread: the alternate stack as last set or read (thread-local, as the kernel's is). */
static _Thread_local bool known;
static _Thread_local stack_t current;
/* RINGSIDE_ALTSTACK=syscall, read once the environment exists: ASan's first calls come
 * before libc has set it up, from the dynamic loader. */
static bool passthrough;

__attribute__((constructor)) static void read_environment(void)
{
    const char *e = getenv("RINGSIDE_ALTSTACK");
    passthrough = e && strcmp(e, "syscall") == 0;
}

int sigaltstack(const stack_t *ss, stack_t *oss)
{
    if (ss != NULL || !known || passthrough) {
        stack_t old;
        long rc = syscall(SYS_sigaltstack, ss, &old);
        if (rc != 0)
            return -1; /* errno is set */
        if (oss)
            *oss = old;
        if (ss) {
            current = *ss;
            if (ss->ss_flags & SS_DISABLE)
                current = (stack_t){.ss_sp = NULL, .ss_flags = SS_DISABLE, .ss_size = 0};
        } else {
            current = old;
            current.ss_flags &= ~SS_ONSTACK;
        }
        known = true;
        return 0;
    }
    if (oss) {
        *oss = current;
        if (!(current.ss_flags & SS_DISABLE)) {
            uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
            uintptr_t lo = (uintptr_t)current.ss_sp;
            if (sp >= lo && sp - lo < current.ss_size)
                oss->ss_flags |= SS_ONSTACK;
        }
    }
    return 0;
}
