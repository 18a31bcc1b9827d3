/* trap(): where every entry into the kernel arrives (entry.S builds the trapframe).
 *
 * The one rule that makes crash isolation work: a fault in ring 3 is the program's problem,
 * a fault in ring 0 is the kernel's. A ring 3 fault kills only the process that caused it,
 * with a one-line report; every other process keeps running. A ring 0 fault means the kernel
 * itself is broken (nothing in ring 0 is supposed to fault: user pointers are checked before
 * use), so the kernel prints what it knows and stops the machine. */
#include "kernel.h"

static const char *const exc_names[32] = {
    "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "#09", "#TS", "#NP",
    "#SS", "#GP", "#PF", "#15", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP", "#22", "#23",
    "#24", "#25", "#26", "#27", "#28", "#29", "#30", "#31",
};

static const char *const exc_text[20] = {
    "divide error", "debug", "non-maskable interrupt", "breakpoint", "overflow",
    "bound range exceeded", "invalid opcode", "device not available", "double fault",
    "coprocessor segment overrun", "invalid TSS", "segment not present",
    "stack-segment fault", "general protection", "page fault", "reserved",
    "x87 floating-point error", "alignment check", "machine check", "SIMD floating-point error",
};

const char *exc_name(unsigned vec)
{
    return vec < 32 ? exc_names[vec] : "#??";
}

/* The exceptions for which the cpu pushes an error code. */
static bool has_error_code(unsigned vec)
{
    return vec == 8 || (vec >= 10 && vec <= 14) || vec == 17 || vec == 21;
}

_Noreturn void shutdown(uint32_t value)
{
    kprintf("[kernel] halting: debug-exit 0x%02x\n", value);
    outl(0xF4, value); /* QEMU's isa-debug-exit (and Ringside's) end the run here */
    for (;;)           /* on a machine without one, stop */
        __asm__ volatile("cli; hlt");
}

_Noreturn void panic(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    kprintf("[kernel] PANIC: ");
    kvprintf(fmt, ap);
    kprintf("\n");
    va_end(ap);
    shutdown(KEXIT_PANIC);
}

/* ---- describing a fault ---- */

/* "(user read, page not present)", "(user write, protection violation: read-only page)". The
 * page tables say why a present page refused: a supervisor page, or a read-only one. */
static void describe_pf(char *buf, size_t size, uint32_t err, uint32_t cr2)
{
    const char *who = (err & PF_U) ? "user" : "kernel";
    const char *what = (err & PF_W) ? "write" : "read";
    if (!(err & PF_P)) {
        bool in_guard = cr2 >= USER_GUARD && cr2 < USER_GUARD + PAGE_SIZE;
        fmt_snprintf(buf, size, "%s %s, page not present%s", who, what,
                     in_guard ? ": the stack's guard page (stack overflow)" : "");
        return;
    }
    uint32_t pte = pte_get(read_cr3(), cr2);
    const char *why = !(pte & PTE_U) && (err & PF_U) ? "supervisor page"
                      : !(pte & PTE_W) && (err & PF_W) ? "read-only page"
                                                         : "?";
    fmt_snprintf(buf, size, "%s %s, protection violation: %s", who, what, why);
}

/* Reads up to n instruction bytes at a user EIP (stopping at the first unreadable one). */
static unsigned fetch_user(uint32_t eip, uint8_t *b, unsigned n)
{
    unsigned k = 0;
    while (k < n && user_ok(eip + k, 1, false)) {
        b[k] = *(const uint8_t *)(eip + k);
        k++;
    }
    return k;
}

/* Why ring 3 got #GP. With an error code it names a selector or, bit 1 set, an IDT vector
 * (INT n to a gate whose DPL is below CPL). With error code 0 it is usually a privileged
 * instruction: we look at the instruction to say which. */
static void describe_gp(char *buf, size_t size, const struct trapframe *tf)
{
    if (tf->err & 2) {
        fmt_snprintf(buf, size, "int 0x%02x: the gate's DPL is 0, the caller's CPL 3",
                     tf->err >> 3);
        return;
    }
    if (tf->err) {
        fmt_snprintf(buf, size, "selector 0x%04x", tf->err & 0xFFF8);
        return;
    }
    uint8_t b[8] = {0};
    unsigned n = fetch_user(tf->eip, b, sizeof(b)), i = 0;
    while (i < n && (b[i] == 0x66 || b[i] == 0x67 || b[i] == 0xF2 || b[i] == 0xF3))
        i++; /* prefixes */
    const uint8_t *op = b + i;
    const char *priv = NULL;
    if (i >= n) {
        fmt_snprintf(buf, size, "general protection");
        return;
    }
    switch (op[0]) {
    case 0xF4: priv = "hlt"; break;
    case 0xFA:
        fmt_snprintf(buf, size, "cli: needs CPL <= IOPL, and IOPL is 0");
        return;
    case 0xFB:
        fmt_snprintf(buf, size, "sti: needs CPL <= IOPL, and IOPL is 0");
        return;
    case 0xE4: case 0xE5: case 0xE6: case 0xE7:  /* in/out with an immediate port */
    case 0xEC: case 0xED: case 0xEE: case 0xEF:  /* in/out with the port in DX */
    case 0x6C: case 0x6D: case 0x6E: case 0x6F: { /* ins/outs */
        bool imm = op[0] >= 0xE4 && op[0] <= 0xE7;
        bool out = (op[0] & 2) != 0; /* bit 1 of all twelve opcodes: 0 = in, 1 = out */
        uint32_t port = imm ? op[1] : (tf->edx & 0xFFFF);
        fmt_snprintf(buf, size, "%s port 0x%x: not in this process's I/O bitmap",
                     out ? "out to" : "in from", port);
        return;
    }
    case 0x0F: {
        unsigned reg = (op[2] >> 3) & 7;
        switch (op[1]) {
        case 0x00: priv = reg == 2 ? "lldt" : reg == 3 ? "ltr" : NULL; break;
        case 0x01: {
            static const char *const g7[8] = {NULL, NULL, "lgdt", "lidt", NULL, NULL, "lmsw",
                                             "invlpg"};
            priv = g7[reg];
            break;
        }
        case 0x06: priv = "clts"; break;
        case 0x08: priv = "invd"; break;
        case 0x09: priv = "wbinvd"; break;
        case 0x20: case 0x22:
            fmt_snprintf(buf, size, "mov %s cr%u: privileged instruction",
                         op[1] == 0x22 ? "to" : "from", reg);
            return;
        case 0x21: case 0x23: priv = "mov drN"; break;
        case 0x30: priv = "wrmsr"; break;
        case 0x32: priv = "rdmsr"; break;
        case 0x35: priv = "sysexit"; break;
        default: break;
        }
        break;
    }
    default: break;
    }
    if (priv)
        fmt_snprintf(buf, size, "%s: privileged instruction", priv);
    else
        fmt_snprintf(buf, size, "general protection");
}

static void describe(char *buf, size_t size, const struct trapframe *tf, uint32_t cr2)
{
    switch (tf->vec) {
    case 13: describe_gp(buf, size, tf); return;
    case 14: describe_pf(buf, size, tf->err, cr2); return;
    case 11:
        if (tf->err & 2) {
            fmt_snprintf(buf, size, "int 0x%02x: no gate for this vector", tf->err >> 3);
            return;
        }
        break;
    case 6: {
        uint8_t b[2];
        if (fetch_user(tf->eip, b, 2) == 2 && b[0] == 0x0F && b[1] == 0x0B) {
            fmt_snprintf(buf, size, "invalid opcode: ud2");
            return;
        }
        break;
    }
    default: break;
    }
    fmt_snprintf(buf, size, "%s", tf->vec < 20 ? exc_text[tf->vec] : "exception");
}

/* A fault in ring 3: kill the process, nobody else. */
static _Noreturn void user_fault(struct trapframe *tf)
{
    uint32_t cr2 = read_cr2();
    char why[96], err[24] = "", addr[24] = "";
    describe(why, sizeof(why), tf, cr2);
    if (tf->vec == 14)
        fmt_snprintf(addr, sizeof(addr), " cr2=0x%08x", cr2);
    else if (has_error_code(tf->vec))
        fmt_snprintf(err, sizeof(err), " error=0x%04x", tf->err);
    kprintf("[kernel] pid %d (%s) killed: %s at eip=0x%08x%s%s (%s)\n", current->pid,
            current->name, exc_name(tf->vec), tf->eip, addr, err, why);
    proc_exit(STATUS_KILLED + (int)tf->vec);
}

/* A fault in ring 0: the kernel is broken. Print everything, stop the machine. */
static _Noreturn void kernel_fault(struct trapframe *tf)
{
    uint32_t cr2 = read_cr2();
    char why[96];
    if (tf->vec == 14)
        describe_pf(why, sizeof(why), tf->err, cr2);
    else
        fmt_snprintf(why, sizeof(why), "%s", tf->vec < 20 ? exc_text[tf->vec] : "exception");
    kprintf("[kernel] PANIC: %s in ring 0, error=0x%04x (%s)\n", exc_name(tf->vec), tf->err, why);
    kprintf("[kernel]   eip=0x%08x cs=0x%04x eflags=0x%08x cr2=0x%08x cr3=0x%08x\n", tf->eip,
            tf->cs & 0xFFFF, tf->eflags, cr2, read_cr3());
    kprintf("[kernel]   eax=0x%08x ebx=0x%08x ecx=0x%08x edx=0x%08x\n", tf->eax, tf->ebx,
            tf->ecx, tf->edx);
    /* Same-ring exception: the cpu pushed no SS:ESP; the interrupted ESP is just above the
     * EFLAGS it pushed. */
    kprintf("[kernel]   esi=0x%08x edi=0x%08x ebp=0x%08x esp=0x%08x\n", tf->esi, tf->edi,
            tf->ebp, (uint32_t)&tf->user_esp);
    if (current->syscall_nr >= 0)
        kprintf("[kernel]   in pid %d (%s), system call %d (%s)\n", current->pid,
                current->name, current->syscall_nr, syscall_name(current->syscall_nr));
    else
        kprintf("[kernel]   in pid %d (%s)\n", current->pid, current->name);
    shutdown(KEXIT_PANIC);
}

static void irq(struct trapframe *tf)
{
    unsigned n = tf->vec - IRQ_BASE;
    if (pic_spurious(n))
        return;
    /* Acknowledge first: the timer handler may switch to another process, and the PIC must
     * not wait for this one to come back before it sends the next tick. */
    pic_eoi(n);
    switch (n) {
    case IRQ_TIMER: timer_tick(tf); break;
    case IRQ_COM1: console_irq(); break;
    default: break;
    }
}

void trap(struct trapframe *tf)
{
    bool from_user = (tf->cs & 3) == 3;
    if (from_user)
        acct_enter();
    if (tf->vec == SYSCALL_VECTOR || tf->vec == T_SYSENTER)
        syscall(tf);
    else if (tf->vec >= IRQ_BASE && tf->vec < IRQ_BASE + 16)
        irq(tf);
    else if (tf->vec < 32 && from_user)
        user_fault(tf);
    else
        kernel_fault(tf);
    if (from_user)
        acct_leave();
}
