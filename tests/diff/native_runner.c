/* The native side of the differential test: a 32-bit program that runs test cases on the real
 * CPU, in user mode, and reports the state at the first exception (see diffcase.h).
 *
 * It maps a data area and a code page at fixed low addresses and reserves the pages around them
 * (PROT_NONE, so touching them is a not-present #PF, as in Ringside's page tables). For each
 * case it patches the data area, writes the instruction into the code page (the rest of which
 * is HLT), loads the eight registers and EFLAGS and jumps there. The case ends with a signal:
 * SIGSEGV/SIGBUS/SIGILL/SIGFPE/SIGTRAP. The handler (on an alternate stack, since ESP belongs to
 * the case) copies the signal number, si_code and si_addr, and the registers, EFLAGS, EIP, trap
 * number, error code and CR2 from the signal context, and returns into resume_point with the runner's own selectors and stack, which ends
 * enter_case(). Then the changed data bytes are listed and the areas restored.
 *
 * It runs the same on real hardware (a 64-bit or 32-bit Linux that runs i386 programs) and under
 * qemu-i386 on hosts that cannot: it reports what the program saw and leaves it to diff_test to
 * judge which fields its oracle fills in faithfully.
 *
 * Built with the host compiler in 32-bit mode (-m32 -static); it uses nothing from Ringside.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <ucontext.h>
#include <unistd.h>

#include "diffcase.h"

#if !defined(__i386__)
#error "native_runner must be built with -m32"
#endif

/* Read by the trampoline below. */
uint32_t dr_regs[8];
uint32_t dr_eflags;
uint32_t dr_entry;
uint32_t dr_host_esp;
uint32_t dr_tramp_top;
static uint8_t tramp_stack[256] __attribute__((aligned(16)));

void enter_case(void);
extern char resume_point[];

/* enter_case: saves the callee-saved registers and ESP, loads EFLAGS (through a private stack),
 * the general registers (ESP last) and jumps to the case. It "returns" when the signal handler
 * sends the thread to resume_point. */
__asm__(".text\n"
        ".globl enter_case\n"
        "enter_case:\n"
        "  pushl %ebp\n"
        "  pushl %ebx\n"
        "  pushl %esi\n"
        "  pushl %edi\n"
        "  movl %esp, dr_host_esp\n"
        "  movl dr_tramp_top, %esp\n"
        "  pushl dr_eflags\n"
        "  popfl\n"
        "  movl dr_regs+0, %eax\n"
        "  movl dr_regs+4, %ecx\n"
        "  movl dr_regs+8, %edx\n"
        "  movl dr_regs+12, %ebx\n"
        "  movl dr_regs+20, %ebp\n"
        "  movl dr_regs+24, %esi\n"
        "  movl dr_regs+28, %edi\n"
        "  movl dr_regs+16, %esp\n"
        "  jmp *dr_entry\n"
        ".globl resume_point\n"
        "resume_point:\n"
        "  movl dr_host_esp, %esp\n"
        "  popl %edi\n"
        "  popl %esi\n"
        "  popl %ebx\n"
        "  popl %ebp\n"
        "  ret\n");

static struct diff_hello hello;
static uint8_t *data, *code;
static uint8_t bg[DIFF_DATA_SIZE], init[DIFF_DATA_SIZE];
static struct diff_result res;
static volatile sig_atomic_t in_case;
static uint16_t sel_cs, sel_ds, sel_es, sel_fs, sel_gs, sel_ss;

/* A case that never stops is caught by a CPU-time timer (not wall time: a loaded machine must
 * not turn a slow batch into a timeout). */
static void arm_timer(int on)
{
    struct itimerval t = {{0, 0}, {on ? 2 : 0, 0}};
    setitimer(ITIMER_VIRTUAL, &t, NULL);
}

static void die(const char *what)
{
    fprintf(stderr, "native_runner: %s: %s\n", what, strerror(errno));
    exit(2);
}

static void on_signal(int sig, siginfo_t *si, void *ucv)
{
    ucontext_t *uc = ucv;
    greg_t *g = uc->uc_mcontext.gregs;
    if (!in_case) {
        if (sig == SIGVTALRM)
            return;
        static const char msg[] = "native_runner: fault outside a test case\n";
        if (write(2, msg, sizeof msg - 1) < 0) {
        }
        _exit(3);
    }
    res.r[0] = (uint32_t)g[REG_EAX];
    res.r[1] = (uint32_t)g[REG_ECX];
    res.r[2] = (uint32_t)g[REG_EDX];
    res.r[3] = (uint32_t)g[REG_EBX];
    res.r[4] = (uint32_t)g[REG_UESP];
    res.r[5] = (uint32_t)g[REG_EBP];
    res.r[6] = (uint32_t)g[REG_ESI];
    res.r[7] = (uint32_t)g[REG_EDI];
    res.eflags = (uint32_t)g[REG_EFL];
    res.eip = (uint32_t)g[REG_EIP];
    res.vector = sig == SIGVTALRM ? DIFF_TIMEOUT : (uint32_t)g[REG_TRAPNO];
    res.err = (uint32_t)g[REG_ERR];
    res.cr2 = (uint32_t)uc->uc_mcontext.cr2;
    res.signo = sig == SIGVTALRM ? 0 : (uint16_t)sig;
    res.sicode = si->si_code;
    res.siaddr = (uint32_t)(uintptr_t)si->si_addr;
    res.ds = (uint16_t)g[REG_DS];
    res.es = (uint16_t)g[REG_ES];
    res.fs = (uint16_t)g[REG_FS];
    res.ss = (uint16_t)g[REG_SS];
    in_case = 0;
    if (sig == SIGVTALRM)
        arm_timer(1); /* keep watching the rest of the batch */
    /* Return to the runner with its own selectors, stack and a clean EFLAGS. */
    g[REG_EIP] = (greg_t)(uintptr_t)resume_point;
    g[REG_UESP] = (greg_t)dr_host_esp;
    g[REG_EFL] = 0x202;
    g[REG_CS] = sel_cs;
    g[REG_DS] = sel_ds;
    g[REG_ES] = sel_es;
    g[REG_FS] = sel_fs;
    g[REG_GS] = sel_gs;
    g[REG_SS] = sel_ss;
}

static sigjmp_buf probe_jmp;
static volatile int probe_trapno = -1, probe_err = -1;

static void on_probe_signal(int sig, siginfo_t *si, void *ucv)
{
    (void)sig, (void)si;
    ucontext_t *uc = ucv;
    probe_trapno = (int)uc->uc_mcontext.gregs[REG_TRAPNO];
    probe_err = (int)uc->uc_mcontext.gregs[REG_ERR];
    siglongjmp(probe_jmp, 1);
}

/* HLT at CPL 3 is #GP(0): real hardware reports trap 13, error code 0. Exit status 0 when it
 * does, 3 when the trap number is missing. */
static int probe(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_probe_signal;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGSEGV, &sa, NULL) < 0)
        return 3;
    if (!sigsetjmp(probe_jmp, 1))
        __asm__ volatile("hlt");
    return probe_trapno == 13 && probe_err == 0 ? 0 : 3;
}

static void read_all(void *buf, size_t n)
{
    uint8_t *p = buf;
    while (n) {
        ssize_t k = read(0, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            if (k == 0)
                exit(0); /* the test went away */
            die("read");
        }
        p += k;
        n -= (size_t)k;
    }
}

static uint8_t outbuf[1 << 20];
static size_t outlen;

static void flush_out(void)
{
    uint8_t *p = outbuf;
    while (outlen) {
        ssize_t k = write(1, p, outlen);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            die("write");
        p += k;
        outlen -= (size_t)k;
    }
}

static void out(const void *p, size_t n)
{
    if (outlen + n > sizeof outbuf)
        flush_out();
    memcpy(outbuf + outlen, p, n);
    outlen += n;
}

/* Maps [base, base+len) with prot, failing if anything is there already. */
static int map_fixed(uint32_t base, uint32_t len, int prot)
{
    void *p = mmap((void *)(uintptr_t)base, len, prot,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (p == MAP_FAILED)
        return -1;
    if (p != (void *)(uintptr_t)base) {
        munmap(p, len);
        errno = EEXIST;
        return -1;
    }
    return 0;
}

/* The data area and code page, with everything around them reserved and inaccessible. */
static int map_layout(uint32_t dbase, uint32_t cbase, uint32_t rbase, uint32_t lo, uint32_t hi)
{
    if (map_fixed(dbase, DIFF_DATA_SIZE, PROT_READ | PROT_WRITE) < 0)
        return -1;
    if (map_fixed(cbase, DIFF_CODE_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC) < 0) {
        munmap((void *)(uintptr_t)dbase, DIFF_DATA_SIZE);
        return -1;
    }
    if (map_fixed(rbase, 0x1000, PROT_READ | PROT_WRITE) < 0) {
        munmap((void *)(uintptr_t)dbase, DIFF_DATA_SIZE);
        munmap((void *)(uintptr_t)cbase, DIFF_CODE_SIZE);
        return -1;
    }
    for (uint32_t k = 0; k < 0x1000; k++)
        ((uint8_t *)(uintptr_t)rbase)[k] = diff_ro_byte(k);
    if (mprotect((void *)(uintptr_t)rbase, 0x1000, PROT_READ) < 0)
        die("mprotect");
    /* Guards: best effort, a page that cannot be reserved is simply not reserved. */
    for (uint32_t a = lo; a < hi; a += 0x1000) {
        if ((a >= dbase && a < dbase + DIFF_DATA_SIZE) || a == cbase || a == rbase)
            continue;
        map_fixed(a, 0x1000, PROT_NONE);
    }
    hello.data_base = dbase;
    hello.code_base = cbase;
    hello.ro_base = rbase;
    return 0;
}

static void run_case(const struct diff_case *c)
{
    uint32_t *live32 = (uint32_t *)(void *)data, *init32 = (uint32_t *)(void *)init;
    for (unsigned k = 0; k < c->npatch && k < DIFF_PATCHES; k++) {
        const struct diff_patch *p = &c->patch[k];
        if (p->off + p->len <= DIFF_DATA_SIZE && p->len <= DIFF_PATCH_BYTES) {
            memcpy(data + p->off, p->bytes, p->len);
            memcpy(init + p->off, p->bytes, p->len);
        }
    }
    unsigned len = c->code_len <= DIFF_CODE_MAX ? c->code_len : DIFF_CODE_MAX;
    unsigned off = c->code_off;
    if (off + len > DIFF_CODE_SIZE)
        len = DIFF_CODE_SIZE - off;
    memcpy(code + off, c->code, len);

    memcpy(dr_regs, c->r, sizeof dr_regs);
    dr_eflags = c->eflags;
    dr_entry = hello.code_base + off;
    memset(&res, 0, sizeof res);
    in_case = 1;
    enter_case();

    /* The bytes that changed, against the initial contents; then restore the background. */
    static struct diff_byte list[DIFF_MAX_BYTES];
    unsigned n = 0;
    for (unsigned w = 0; w < DIFF_DATA_SIZE / 4; w++) {
        if (live32[w] == init32[w])
            continue;
        for (unsigned b = 4 * w; b < 4 * w + 4; b++) {
            if (data[b] == init[b])
                continue;
            if (n < DIFF_MAX_BYTES)
                list[n++] = (struct diff_byte){(uint16_t)b, data[b], 0};
            else
                res.truncated = 1;
        }
        live32[w] = ((uint32_t *)(void *)bg)[w];
    }
    for (unsigned k = 0; k < c->npatch && k < DIFF_PATCHES; k++) {
        const struct diff_patch *p = &c->patch[k];
        if (p->off + p->len <= DIFF_DATA_SIZE && p->len <= DIFF_PATCH_BYTES) {
            memcpy(data + p->off, bg + p->off, p->len);
            memcpy(init + p->off, bg + p->off, p->len);
        }
    }
    memset(code + off, 0xF4, len);
    res.ndiff = (uint16_t)n;
    out(&res, sizeof res);
    out(list, n * sizeof list[0]);
}

int main(int argc, char **argv)
{
    /* --probe: is this real hardware? diff_test asks before it chooses its oracle. A host that
     * cannot run i386 programs fails to exec this at all; one that runs it through an emulator
     * (qemu-i386, perhaps by binfmt_misc) does not report the trap number of a fault. */
    if (argc > 1 && strcmp(argv[1], "--probe") == 0)
        return probe();
    __asm__("movw %%cs, %0\n\tmovw %%ds, %1\n\tmovw %%es, %2\n\t"
            "movw %%fs, %3\n\tmovw %%gs, %4\n\tmovw %%ss, %5"
            : "=m"(sel_cs), "=m"(sel_ds), "=m"(sel_es), "=m"(sel_fs), "=m"(sel_gs),
              "=m"(sel_ss));
    const char *high = getenv("RINGSIDE_DIFF_HIGH"); /* 1: force the fallback layout */
    int mapped = !(high && *high == '1') &&
                 map_layout(DIFF_LOW_DATA, DIFF_LOW_CODE, DIFF_LOW_RO, 0x1000, 0x20000) == 0;
    if (!mapped &&
        map_layout(DIFF_HIGH_DATA, DIFF_HIGH_CODE, DIFF_HIGH_RO, 0x1F0000, 0x310000) < 0)
        die("cannot map the data area and code page");
    data = (uint8_t *)(uintptr_t)hello.data_base;
    code = (uint8_t *)(uintptr_t)hello.code_base;
    memset(code, 0xF4, DIFF_CODE_SIZE);
    dr_tramp_top = (uint32_t)(uintptr_t)(tramp_stack + sizeof tramp_stack);

    static uint8_t altstack[1 << 16];
    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0};
    if (sigaltstack(&ss, NULL) < 0)
        die("sigaltstack");
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_signal;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    static const int sigs[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGVTALRM};
    for (unsigned k = 0; k < sizeof sigs / sizeof sigs[0]; k++)
        if (sigaction(sigs[k], &sa, NULL) < 0)
            die("sigaction");

    hello.magic = DIFF_MAGIC;
    hello.data_size = DIFF_DATA_SIZE;
    hello.code_size = DIFF_CODE_SIZE;
    hello.cs = sel_cs;
    hello.ds = sel_ds;
    hello.es = sel_es;
    hello.fs = sel_fs;
    hello.gs = sel_gs;
    hello.ss = sel_ss;
    out(&hello, sizeof hello);
    flush_out();

    read_all(bg, sizeof bg);
    memcpy(data, bg, sizeof bg);
    memcpy(init, bg, sizeof bg);

    static struct diff_case batch[4096];
    for (;;) {
        uint32_t n;
        read_all(&n, sizeof n);
        if (n == 0)
            return 0;
        while (n) {
            uint32_t k = n < 4096 ? n : 4096;
            read_all(batch, k * sizeof batch[0]);
            arm_timer(1);
            for (uint32_t j = 0; j < k; j++)
                run_case(&batch[j]);
            arm_timer(0);
            n -= k;
        }
        flush_out();
    }
}
