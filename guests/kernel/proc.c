/* Processes: creating them from ELF modules, the round-robin scheduler, blocking and waking,
 * exiting, and accounting for the time each one spends in ring 3 and in the kernel.
 *
 * A process is a slot in procs[]: an address space (its page directory), a kernel stack, and
 * the state the scheduler needs. Slot 0 is the idle loop (pid 0), which runs kmain's tail on
 * the boot stack in the kernel's own address space; it runs only when nothing else can.
 *
 *   spawn --> RUNNABLE <--> RUNNING --> ZOMBIE --(wait / orphan)--> UNUSED
 *                 ^            |
 *                 +- BLOCKED <-+   sleep, wait, read
 */
#include "kernel.h"

extern uint8_t boot_stack_top[]; /* boot.S: the idle loop's stack */

static struct proc procs[NPROC];
static uint8_t kstacks[NPROC][KSTACK_SIZE] __attribute__((aligned(16)));
struct proc *current;
static int next_pid = 1;

volatile uint32_t ticks;     /* timer interrupts since boot */
uint32_t n_int80, n_sysenter, n_switches, n_preempts;
static uint32_t idle_ticks;
static uint64_t tsc_mark;    /* RDTSC at the last accounting point */

/* What the summary at shutdown shows about each process that has exited. */
struct record {
    int pid;
    char name[NAME_LEN];
    int status;
    uint32_t real_ticks, user_ticks, sys_ticks, syscalls;
    uint64_t user_tsc, sys_tsc;
};
static struct record records[MAX_RECORDS];
static unsigned nrecords;

void proc_init(void)
{
    struct proc *idle = &procs[0];
    idle->state = P_RUNNING;
    idle->pid = 0;
    strlcpy(idle->name, "idle", NAME_LEN);
    idle->pd = kernel_pd;
    idle->kstack_top = (uint32_t)boot_stack_top;
    idle->syscall_nr = -1;
    current = idle;
    tsc_mark = rdtsc();
}

/* ---- accounting ----
 * tsc_mark is the RDTSC value at the last change of "who is running, in which ring". At each
 * change the time since then is charged to the process that was running: to its user time when
 * it comes into the kernel from ring 3, to its system time when the kernel leaves it (back to
 * ring 3, or to another process). The idle loop's system time is the machine's idle time. */
static uint64_t tsc_since_mark(void)
{
    uint64_t now = rdtsc(), d = now - tsc_mark;
    tsc_mark = now;
    return d;
}

void acct_enter(void)
{
    current->user_tsc += tsc_since_mark();
}

void acct_leave(void)
{
    current->sys_tsc += tsc_since_mark();
}

/* ---- creating a process ---- */

/* Copies len bytes to the user virtual address va of the (not running) address space pd,
 * through the identity map of the frame behind it. The range must lie in one mapped page. */
static void poke(uint32_t pd, uint32_t va, const void *src, uint32_t len)
{
    uint32_t pa = PTE_ADDR(pte_get(pd, va)) + (va & (PAGE_SIZE - 1));
    memcpy((void *)pa, src, len);
}

/* The user stack, with argc and argv at the top (what crt0.S expects):
 *
 *   USER_STACK_TOP ->  the argument strings, NUL-separated
 *                      argv[argc] = NULL, argv[argc-1], ..., argv[0]
 *   initial ESP    ->  argc            (the stack's lowest page's limit is the guard page)
 */
static int setup_stack(uint32_t pd, const char *name, const char *args, uint32_t *esp)
{
    for (uint32_t i = 1; i <= USER_STACK_PAGES; i++) {
        uint32_t pa = frame_alloc();
        if (!pa)
            return -ENOMEM;
        if (map_page(pd, USER_STACK_TOP - i * PAGE_SIZE, pa, PTE_U | PTE_W) < 0) {
            frame_free(pa);
            return -ENOMEM;
        }
    }
    /* "name args..." split at spaces into NUL-terminated words (all in the top page). */
    char buf[NAME_LEN + CMD_LEN + MAX_ARGS];
    uint32_t n = 0, argc = 0;
    uint32_t off[MAX_ARGS];
    const char *words[2] = {name, args};
    for (unsigned w = 0; w < 2; w++) {
        for (const char *s = words[w]; *s;) {
            while (*s == ' ')
                s++;
            if (!*s)
                break;
            if (argc == MAX_ARGS)
                return -EINVAL;
            off[argc++] = n;
            while (*s && *s != ' ') {
                if (n == sizeof(buf) - 1)
                    return -EINVAL;
                buf[n++] = *s++;
            }
            buf[n++] = '\0';
        }
    }
    uint32_t strings = USER_STACK_TOP - n;
    poke(pd, strings, buf, n);
    uint32_t argv[MAX_ARGS + 1];
    for (uint32_t i = 0; i < argc; i++)
        argv[i] = strings + off[i];
    argv[argc] = 0;
    uint32_t sp = (strings & ~3u) - (argc + 1) * 4;
    poke(pd, sp, argv, (argc + 1) * 4);
    sp -= 4;
    poke(pd, sp, &argc, 4);
    *esp = sp;
    return 0;
}

/* A free slot: never used, or a zombie nobody will wait for. */
static struct proc *alloc_slot(void)
{
    for (unsigned i = 1; i < NPROC; i++) {
        struct proc *p = &procs[i];
        if (p->state == P_UNUSED || (p->state == P_ZOMBIE && !p->parent && p != current))
            return p;
    }
    return NULL;
}

/* Starts the module named by the first word of cmd, with the rest of cmd as its arguments
 * (or, if there is no rest, the arguments on the module's own string). */
int proc_spawn(const char *cmd, struct proc *parent)
{
    char name[NAME_LEN];
    unsigned n = 0;
    while (*cmd == ' ')
        cmd++;
    while (*cmd && *cmd != ' ' && n < NAME_LEN - 1)
        name[n++] = *cmd++;
    name[n] = '\0';
    while (*cmd == ' ')
        cmd++;
    const struct module *m = module_find(name);
    if (!m)
        return -ENOENT;
    struct proc *p = alloc_slot();
    if (!p)
        return -EAGAIN;

    uint32_t pd = pd_create(), entry = 0, end = 0, esp = 0;
    if (!pd)
        return -ENOMEM;
    int err = elf_load(pd, m->image, m->size, &entry, &end);
    if (err == 0)
        err = setup_stack(pd, m->name, *cmd ? cmd : m->args, &esp);
    if (err < 0) {
        pd_destroy(pd);
        return err;
    }

    memset(p, 0, sizeof(*p));
    p->pid = next_pid++;
    strlcpy(p->name, m->name, NAME_LEN);
    p->parent = parent;
    p->pd = pd;
    p->heap_start = p->brk = PAGE_UP(end);
    p->handles[FD_STDIN] = H_CONSOLE_IN;
    p->handles[FD_STDOUT] = H_CONSOLE_OUT;
    memset(p->iomap, 0xFF, sizeof(p->iomap)); /* no I/O ports until grant() */
    p->start_tick = ticks;
    p->syscall_nr = -1;

    /* Its kernel stack, made to look as if the process had entered the kernel from ring 3 and
     * called swtch(): the first swtch() to it "returns" into trap_return, which IRETs to
     * the program's entry point in ring 3 with interrupts on. */
    p->kstack_top = (uint32_t)kstacks[p - procs] + KSTACK_SIZE;
    struct trapframe *tf = (struct trapframe *)(p->kstack_top - sizeof(*tf));
    memset(tf, 0, sizeof(*tf));
    tf->ds = tf->es = tf->fs = tf->gs = UDATA | 3;
    tf->cs = UCODE | 3;
    tf->eip = entry;
    tf->eflags = FL_IF | FL_RSVD;       /* IOPL 0: port I/O only through the I/O bitmap */
    tf->user_ss = UDATA | 3;
    tf->user_esp = esp;
    uint32_t *sp = (uint32_t *)tf;
    *--sp = (uint32_t)trap_return;      /* swtch's RET goes here */
    *--sp = 0;                          /* EBP, EBX, ESI, EDI popped by swtch */
    *--sp = 0;
    *--sp = 0;
    *--sp = 0;
    p->kesp = (uint32_t)sp;
    p->state = P_RUNNABLE;
    names_space(pd, p->pid, p->name);

    if (parent)
        kprintf("[kernel] pid %d (%s) started by pid %d\n", p->pid, p->name, parent->pid);
    else
        kprintf("[kernel] pid %d (%s) started\n", p->pid, p->name);
    return p->pid;
}

/* ---- scheduling ---- */

/* Round robin: the first runnable process after the one that ran last, in slot order (that
 * one itself last), else the idle loop. */
static unsigned last_slot; /* slot of the last process (not idle) given the cpu */

static struct proc *pick_next(struct proc *prev)
{
    unsigned start = prev == &procs[0] ? last_slot : (unsigned)(prev - procs);
    for (unsigned k = 1; k <= NPROC; k++) {
        unsigned i = (start + k) % NPROC;
        if (i != 0 && procs[i].state == P_RUNNABLE)
            return &procs[i];
    }
    return &procs[0];
}

/* Gives the cpu to the next process. The caller has already set current->state to what it
 * should be (RUNNABLE when preempted or yielding, BLOCKED, ZOMBIE). Returns when this process
 * is scheduled again (a zombie never is). */
void schedule(void)
{
    struct proc *prev = current, *next = pick_next(prev);
    if (next == prev) {
        prev->state = P_RUNNING;
        return;
    }
    acct_leave();
    if (prev->state == P_RUNNING) /* the idle loop */
        prev->state = P_RUNNABLE;
    next->state = P_RUNNING;
    next->slice = 0;
    if (next != &procs[0])
        last_slot = (unsigned)(next - procs);
    current = next;
    n_switches++;
    /* The three things the cpu takes from the kernel on the next entry or access: the address
     * space (CR3), the kernel stack for the next entry from ring 3 (TSS.ESP0 and
     * IA32_SYSENTER_ESP), and which I/O ports ring 3 may touch (the TSS I/O bitmap). */
    write_cr3(next->pd);
    tss_set_kstack(next->kstack_top);
    tss_set_iomap(next->iomap);
    swtch(&prev->kesp, next->kesp);
}

void proc_block(enum blocked_on why, uint32_t wake_tick)
{
    current->state = P_BLOCKED;
    current->blocked_on = why;
    current->wake_tick = wake_tick;
    schedule();
    current->blocked_on = B_NONE;
    current->wake_tick = 0;
}

void wake_all(enum blocked_on why)
{
    for (unsigned i = 1; i < NPROC; i++)
        if (procs[i].state == P_BLOCKED && procs[i].blocked_on == why)
            procs[i].state = P_RUNNABLE;
}

/* IRQ 0. Samples who was running where (classic Unix tick accounting), wakes timed sleepers,
 * enforces the cpu limit, and preempts a process that has used up its time slice. Only a
 * process interrupted in ring 3 is preempted: the kernel itself never is. */
void timer_tick(const struct trapframe *tf)
{
    bool from_user = (tf->cs & 3) == 3;
    struct proc *p = current;
    ticks++;
    if (p == &procs[0])
        idle_ticks++;
    else if (from_user)
        p->user_ticks++;
    else
        p->sys_ticks++;
    for (unsigned i = 1; i < NPROC; i++) {
        struct proc *q = &procs[i];
        if (q->state == P_BLOCKED && q->wake_tick && ticks >= q->wake_tick)
            q->state = P_RUNNABLE;
    }
    if (!from_user || p == &procs[0])
        return;
    if (cpulimit && p->user_ticks + p->sys_ticks >= cpulimit) {
        kprintf("[kernel] pid %d (%s) killed: cpu time limit of %u ticks used up, at "
                "eip=0x%08x\n", p->pid, p->name, cpulimit, tf->eip);
        proc_exit(STATUS_CPULIMIT);
    }
    if (++p->slice >= quantum) {
        p->state = P_RUNNABLE;
        if (pick_next(p) != p) /* (alone, it just starts a new slice) */
            n_preempts++;
        schedule();
    }
}

/* ---- exit ---- */

/* "1.23s" for a tick count. */
static void put_secs(char *buf, size_t size, uint32_t t)
{
    fmt_snprintf(buf, size, "%u.%02us", t / HZ, (t % HZ) * 100 / HZ);
}

static void status_text(char *buf, size_t size, int status)
{
    if (status == STATUS_CPULIMIT)
        fmt_snprintf(buf, size, "cpu limit");
    else if (status >= STATUS_KILLED)
        fmt_snprintf(buf, size, "killed %s", exc_name((unsigned)status - STATUS_KILLED));
    else
        fmt_snprintf(buf, size, "exit %d", status);
}

_Noreturn void proc_exit(int status)
{
    struct proc *p = current;
    acct_leave();
    char st[24], real[16], user[16], sys[16];
    status_text(st, sizeof(st), status);
    put_secs(real, sizeof(real), ticks - p->start_tick);
    put_secs(user, sizeof(user), p->user_ticks);
    put_secs(sys, sizeof(sys), p->sys_ticks);
    kprintf("[kernel] pid %d (%s) %s: real %s user %s sys %s; tsc user %llu sys %llu\n", p->pid,
            p->name, st, real, user, sys, p->user_tsc, p->sys_tsc);
    if (nrecords < MAX_RECORDS) {
        struct record *r = &records[nrecords++];
        r->pid = p->pid;
        strlcpy(r->name, p->name, NAME_LEN);
        r->status = status;
        r->real_ticks = ticks - p->start_tick;
        r->user_ticks = p->user_ticks;
        r->sys_ticks = p->sys_ticks;
        r->syscalls = p->syscalls;
        r->user_tsc = p->user_tsc;
        r->sys_tsc = p->sys_tsc;
    }

    /* Its memory: leave its address space first (the kernel half is the same everywhere). */
    write_cr3(kernel_pd);
    pd_destroy(p->pd);
    p->pd = kernel_pd;

    /* Its children are orphans now: nobody will wait for them. */
    for (unsigned i = 1; i < NPROC; i++)
        if (procs[i].parent == p)
            procs[i].parent = NULL;

    p->exit_status = status;
    p->state = P_ZOMBIE;
    if (p->parent && p->parent->state == P_BLOCKED && p->parent->blocked_on == B_WAIT)
        p->parent->state = P_RUNNABLE;
    schedule();
    panic("pid %d ran after its exit", p->pid);
}

/* wait(pid) for the current process: the exit status of that child (pid -1: of any child),
 * blocking until it has exited. */
int proc_wait(int pid)
{
    for (;;) {
        bool have = false;
        for (unsigned i = 1; i < NPROC; i++) {
            struct proc *q = &procs[i];
            if (q->parent != current || q->state == P_UNUSED || (pid != -1 && q->pid != pid))
                continue;
            have = true;
            if (q->state == P_ZOMBIE) {
                q->state = P_UNUSED;
                return q->exit_status;
            }
        }
        if (!have)
            return -ECHILD;
        proc_block(B_WAIT, 0);
    }
}

/* ---- the idle loop's questions ---- */

bool proc_any_alive(void)
{
    for (unsigned i = 1; i < NPROC; i++)
        if (procs[i].state != P_UNUSED && procs[i].state != P_ZOMBIE)
            return true;
    return false;
}

bool proc_any_runnable(void)
{
    for (unsigned i = 1; i < NPROC; i++)
        if (procs[i].state == P_RUNNABLE)
            return true;
    return false;
}

void proc_reap_orphans(void)
{
    for (unsigned i = 1; i < NPROC; i++)
        if (procs[i].state == P_ZOMBIE && !procs[i].parent)
            procs[i].state = P_UNUSED;
}

/* The table printed at shutdown, like time(1) for every process. */
void proc_summary(void)
{
    acct_leave();
    char real[16], user[16], sys[16], st[24];
    kprintf("[kernel] summary after %u ticks:\n", ticks);
    kprintf("  pid name          status        real    user     sys syscalls"
            "    user tsc     sys tsc\n");
    for (unsigned i = 0; i < nrecords; i++) {
        const struct record *r = &records[i];
        status_text(st, sizeof(st), r->status);
        put_secs(real, sizeof(real), r->real_ticks);
        put_secs(user, sizeof(user), r->user_ticks);
        put_secs(sys, sizeof(sys), r->sys_ticks);
        kprintf("  %3d %-13s %-11s %6s %7s %7s %8u %11llu %11llu\n", r->pid, r->name, st, real,
                user, sys, r->syscalls, r->user_tsc, r->sys_tsc);
    }
    put_secs(sys, sizeof(sys), idle_ticks);
    kprintf("  %3d %-13s %-11s %6s %7s %7s %8s %11s %11llu\n", 0, "(boot+idle)", "", "", "", sys, "",
            "", procs[0].sys_tsc);
    kprintf("  system calls: %u by int 0x80, %u by sysenter; %u context switches, %u of them "
            "by preemption\n", n_int80, n_sysenter, n_switches, n_preempts);
}
