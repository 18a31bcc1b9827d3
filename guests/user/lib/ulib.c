/* The user runtime (see ulib.h). */
#include "ulib.h"

#include "fmt.h"

int use_sysenter;

_Noreturn void exit(int code)
{
    syscall3(SYS_EXIT, code, 0, 0);
    for (;;) /* not reached: the kernel does not return from exit */
        ;
}

long write(int fd, const void *buf, size_t len)
{
    return syscall3(SYS_WRITE, fd, (long)buf, (long)len);
}

long read(int fd, void *buf, size_t len)
{
    return syscall3(SYS_READ, fd, (long)buf, (long)len);
}

int getpid(void)
{
    return (int)syscall3(SYS_GETPID, 0, 0, 0);
}

void yield(void)
{
    syscall3(SYS_YIELD, 0, 0, 0);
}

void sleep(unsigned ticks)
{
    syscall3(SYS_SLEEP, (long)ticks, 0, 0);
}

void *sbrk(long increment)
{
    return (void *)syscall3(SYS_SBRK, increment, 0, 0);
}

int spawn(const char *cmd)
{
    return (int)syscall3(SYS_SPAWN, (long)cmd, 0, 0);
}

int wait(int pid)
{
    return (int)syscall3(SYS_WAIT, pid, 0, 0);
}

unsigned uptime(void)
{
    return (unsigned)syscall3(SYS_UPTIME, 0, 0, 0);
}

int grant(unsigned port, unsigned count)
{
    return (int)syscall3(SYS_GRANT, (long)port, (long)count, 0);
}

int kdriver(unsigned unit, unsigned value)
{
    return (int)syscall3(SYS_KDRIVER, (long)unit, (long)value, 0);
}

const char *errname(long err)
{
    switch (-err) {
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case EBADF: return "EBADF";
    case ECHILD: return "ECHILD";
    case EAGAIN: return "EAGAIN";
    case ENOMEM: return "ENOMEM";
    case EFAULT: return "EFAULT";
    case EINVAL: return "EINVAL";
    case ENOSYS: return "ENOSYS";
    default: return err < 0 ? "E?" : "ok";
    }
}

/* printf collects its output and writes it with one system call (or one per 256 bytes), so a
 * line from one process is not cut by a line from another. */
struct outbuf {
    char data[256];
    size_t len;
};

static void flush(struct outbuf *b)
{
    if (b->len)
        write(FD_STDOUT, b->data, b->len);
    b->len = 0;
}

static void emit(void *ctx, char c)
{
    struct outbuf *b = ctx;
    if (b->len == sizeof(b->data))
        flush(b);
    b->data[b->len++] = c;
}

void printf(const char *fmt, ...)
{
    struct outbuf b;
    b.len = 0;
    va_list ap;
    va_start(ap, fmt);
    fmt_vformat(emit, &b, fmt, ap);
    va_end(ap);
    flush(&b);
}
