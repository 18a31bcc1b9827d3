/* System calls (the ABI is in abi.h). Both ways in, int $0x80 and sysenter, end up in
 * syscall(tf) with the same trapframe; only the registers holding arg2 and arg3 differ.
 *
 * Rule for every handler: a value from ring 3 is not trusted. Handles are looked up in the
 * process's own table; pointers are checked with user_ok()/copy_*_user() before the kernel
 * touches them, and a bad one gives -EFAULT. */
#include "kernel.h"

/* The I/O ports a program may ask for with grant(): only the serial port. The PIC, the PIT and
 * the debug-exit port (the machine's power switch) stay the kernel's. */
static const struct {
    uint16_t first, count;
} grantable[] = {
    {0x3F8, 8}, /* COM1 */
};

static int32_t sys_exit(uint32_t code, uint32_t a2, uint32_t a3)
{
    (void)a2, (void)a3;
    proc_exit((int)(code & 0xFF));
}

static int32_t sys_write(uint32_t fd, uint32_t buf, uint32_t len)
{
    if (fd >= NHANDLES || current->handles[fd] != H_CONSOLE_OUT)
        return -EBADF;
    if (!user_ok(buf, len, false))
        return -EFAULT;
    const char *s = (const char *)buf;
    for (uint32_t i = 0; i < len; i++)
        kputc(s[i]);
    return (int32_t)len;
}

/* One line of console input (or what fits in len). Blocks until a line is complete, Ctrl-D is
 * typed, or read_timeout ticks pass without input: then it returns 0, "end of input", so a
 * program reading a console nobody types on still finishes. */
static int32_t sys_read(uint32_t fd, uint32_t buf, uint32_t len)
{
    if (fd >= NHANDLES || current->handles[fd] != H_CONSOLE_IN)
        return -EBADF;
    if (!user_ok(buf, len, true))
        return -EFAULT;
    if (len == 0)
        return 0;
    uint32_t start = ticks;
    for (;;) {
        size_t n = console_take((char *)buf, len);
        if (n > 0)
            return (int32_t)n;
        if (console_eof())
            return 0;
        uint32_t last = console_last_input() > start ? console_last_input() : start;
        uint32_t deadline = last + read_timeout;
        if (read_timeout && ticks >= deadline)
            return 0;
        proc_block(B_READ, read_timeout ? deadline : 0);
    }
}

static int32_t sys_getpid(uint32_t a1, uint32_t a2, uint32_t a3)
{
    (void)a1, (void)a2, (void)a3;
    return current->pid;
}

static int32_t sys_yield(uint32_t a1, uint32_t a2, uint32_t a3)
{
    (void)a1, (void)a2, (void)a3;
    current->state = P_RUNNABLE;
    schedule();
    return 0;
}

static int32_t sys_sleep(uint32_t n, uint32_t a2, uint32_t a3)
{
    (void)a2, (void)a3;
    uint32_t wake = ticks + n;
    while (ticks < wake)
        proc_block(B_SLEEP, wake);
    return 0;
}

/* Moves the break by incr bytes (either way) and returns the old one. New pages are zeroed;
 * pages given back are freed. */
static int32_t sys_sbrk(uint32_t incr, uint32_t a2, uint32_t a3)
{
    (void)a2, (void)a3;
    struct proc *p = current;
    uint32_t old = p->brk, new = old + incr;
    int32_t d = (int32_t)incr;
    if ((d > 0 && (new < old || new - p->heap_start > HEAP_MAX)) ||
        (d < 0 && (new > old || new < p->heap_start)))
        return -ENOMEM;
    for (uint32_t va = PAGE_UP(old); va < PAGE_UP(new); va += PAGE_SIZE) {
        uint32_t pa = frame_alloc();
        if (!pa || map_page(p->pd, va, pa, PTE_U | PTE_W) < 0) {
            if (pa)
                frame_free(pa);
            for (uint32_t v = PAGE_UP(old); v < va; v += PAGE_SIZE)
                unmap_page(p->pd, v);
            return -ENOMEM;
        }
    }
    for (uint32_t va = PAGE_UP(new); va < PAGE_UP(old); va += PAGE_SIZE)
        unmap_page(p->pd, va);
    p->brk = new;
    return (int32_t)old;
}

static int32_t sys_spawn(uint32_t cmd, uint32_t a2, uint32_t a3)
{
    (void)a2, (void)a3;
    char buf[CMD_LEN];
    int n = copy_str_from_user(buf, cmd, sizeof(buf));
    if (n < 0)
        return n;
    return proc_spawn(buf, current);
}

static int32_t sys_wait(uint32_t pid, uint32_t a2, uint32_t a3)
{
    (void)a2, (void)a3;
    return proc_wait((int)pid);
}

static int32_t sys_uptime(uint32_t a1, uint32_t a2, uint32_t a3)
{
    (void)a1, (void)a2, (void)a3;
    return (int32_t)ticks;
}

/* Opens ports [port, port + count) to this process: clears their bits in its I/O bitmap, which
 * the kernel copies into the TSS whenever the process runs. After that, IN/OUT on them in ring
 * 3 work directly, with no system call: a user-mode driver. */
static int32_t sys_grant(uint32_t port, uint32_t count, uint32_t a3)
{
    (void)a3;
    if (count == 0 || port >= IOMAP_PORTS || count > IOMAP_PORTS - port)
        return -EINVAL;
    bool ok = false;
    for (unsigned i = 0; i < sizeof(grantable) / sizeof(grantable[0]); i++)
        if (port >= grantable[i].first && port + count <= grantable[i].first + grantable[i].count)
            ok = true;
    if (!ok)
        return -EPERM;
    for (uint32_t q = port; q < port + count; q++)
        current->iomap[q / 8] &= (uint8_t)~(1u << (q % 8));
    tss_set_iomap(current->iomap);
    kprintf("[kernel] pid %d (%s) may now use ports 0x%x..0x%x\n", current->pid, current->name,
            port, port + count - 1);
    return 0;
}

static int32_t sys_kdriver(uint32_t unit, uint32_t value, uint32_t a3)
{
    (void)a3;
    return kdriver_ioctl(unit, value);
}

typedef int32_t (*syscall_fn)(uint32_t, uint32_t, uint32_t);

static const syscall_fn table[NSYSCALLS] = {
    [SYS_EXIT] = sys_exit,     [SYS_WRITE] = sys_write,   [SYS_READ] = sys_read,
    [SYS_GETPID] = sys_getpid, [SYS_YIELD] = sys_yield,   [SYS_SLEEP] = sys_sleep,
    [SYS_SBRK] = sys_sbrk,     [SYS_SPAWN] = sys_spawn,   [SYS_WAIT] = sys_wait,
    [SYS_UPTIME] = sys_uptime, [SYS_GRANT] = sys_grant,   [SYS_KDRIVER] = sys_kdriver,
};

const char *syscall_name(int nr)
{
    static const char *const names[NSYSCALLS] = {
        "exit", "write", "read", "getpid", "yield", "sleep",
        "sbrk", "spawn", "wait", "uptime", "grant", "kdriver",
    };
    return nr >= 0 && nr < NSYSCALLS ? names[nr] : "?";
}

void syscall(struct trapframe *tf)
{
    uint32_t nr = tf->eax, a1 = tf->ebx, a2, a3;
    if (tf->vec == T_SYSENTER) { /* ECX and EDX carried the way back */
        n_sysenter++;
        a2 = tf->esi;
        a3 = tf->edi;
    } else {
        n_int80++;
        a2 = tf->ecx;
        a3 = tf->edx;
    }
    current->syscalls++;
    if (nr >= NSYSCALLS) {
        tf->eax = (uint32_t)-ENOSYS;
        return;
    }
    current->syscall_nr = (int)nr;
    tf->eax = (uint32_t)table[nr](a1, a2, a3);
    current->syscall_nr = -1;
}
