/* kmain: from the Multiboot hand-over to the first process, then the idle loop.
 *
 * Boot order matters: the console first (so everything after can report), then the descriptor
 * tables (so a fault is caught by our handlers, not a triple fault), paging, the interrupt
 * controller and the timer, the processes, and only then interrupts on.
 *
 * Command line (Multiboot cmdline, space-separated; words without '=' are ignored, since QEMU
 * puts the kernel's own path first):
 *   init=NAME,NAME,...  the modules to start, in that order (default: all of them)
 *   quantum=TICKS       time slice (default 2 ticks = 20 ms)
 *   cpulimit=TICKS      kill a process after this much cpu time (default 500, 0 = never)
 *   timeout=TICKS       console read() gives up after this long without input (default 300)
 */
#include "kernel.h"

#define MB_BOOT_MAGIC 0x2BADB002 /* what a Multiboot loader leaves in EAX */
#define MBI_MEM       0x001      /* mem_lower/mem_upper valid */
#define MBI_CMDLINE   0x004      /* cmdline valid */
#define MBI_MODS      0x008      /* mods_count/mods_addr valid */

struct multiboot_info {
    uint32_t flags;
    uint32_t mem_lower, mem_upper; /* KiB below 1 MiB, KiB above 1 MiB */
    uint32_t boot_device;
    uint32_t cmdline;              /* physical address of a NUL-terminated string */
    uint32_t mods_count, mods_addr;
};

struct multiboot_module {
    uint32_t start, end; /* [start, end): the file's bytes */
    uint32_t string;     /* "path args", as given to the loader */
    uint32_t reserved;
};

extern char __kernel_end[]; /* kernel.ld */

unsigned quantum = 2;
unsigned cpulimit = 500;
unsigned read_timeout = 300;

static struct module modules[MAX_MODULES];
static unsigned nmodules;
static char init_list[256];

const struct module *module_find(const char *name)
{
    for (unsigned i = 0; i < nmodules; i++)
        if (strcmp(modules[i].name, name) == 0)
            return &modules[i];
    return NULL;
}

/* "guests/user/hello.elf arg1 arg2" -> name "hello", args "arg1 arg2". */
static void add_module(const struct multiboot_module *mm)
{
    const char *s = mm->string ? (const char *)mm->string : "";
    const char *path_end = s;
    while (*path_end && *path_end != ' ')
        path_end++;
    const char *base = path_end;
    while (base > s && base[-1] != '/')
        base--;
    size_t len = (size_t)(path_end - base);
    if (len > 4 && path_end[-4] == '.' && path_end[-3] == 'e' && path_end[-2] == 'l' &&
        path_end[-1] == 'f')
        len -= 4; /* drop ".elf" */
    if (nmodules == MAX_MODULES || mm->end > KERNEL_MAP_END || mm->end < mm->start) {
        kprintf("[kernel] module %s ignored (too many, or not in the first 16 MiB)\n", s);
        return;
    }
    struct module *m = &modules[nmodules++];
    if (len >= NAME_LEN)
        len = NAME_LEN - 1;
    memcpy(m->name, base, len);
    m->name[len] = '\0';
    while (*path_end == ' ')
        path_end++;
    strlcpy(m->args, path_end, CMD_LEN);
    m->image = (const uint8_t *)mm->start;
    m->size = mm->end - mm->start;
}

static unsigned parse_uint(const char *s)
{
    unsigned v = 0;
    while (*s >= '0' && *s <= '9')
        v = v * 10 + (unsigned)(*s++ - '0');
    return v;
}

/* Does the word at w (ending at a space or NUL) start with key (which ends in '=')? */
static bool has_key(const char *w, const char *key)
{
    while (*key && *w == *key)
        w++, key++;
    return *key == '\0';
}

static void parse_cmdline(const char *s)
{
    while (*s) {
        while (*s == ' ')
            s++;
        const char *w = s;
        while (*s && *s != ' ')
            s++;
        if (has_key(w, "init=")) {
            size_t n = (size_t)(s - w) - 5;
            if (n >= sizeof(init_list))
                n = sizeof(init_list) - 1;
            memcpy(init_list, w + 5, n);
            init_list[n] = '\0';
        } else if (has_key(w, "quantum=")) {
            quantum = parse_uint(w + 8);
            if (quantum == 0)
                quantum = 1;
        } else if (has_key(w, "cpulimit=")) {
            cpulimit = parse_uint(w + 9);
        } else if (has_key(w, "timeout=")) {
            read_timeout = parse_uint(w + 8);
        }
    }
}

/* Starts the init= list (or every module, in order, without one). Returns how many started. */
static unsigned start_init(void)
{
    unsigned started = 0;
    if (!init_list[0]) {
        for (unsigned i = 0; i < nmodules; i++)
            started += proc_spawn(modules[i].name, NULL) > 0;
        return started;
    }
    for (char *s = init_list; *s;) {
        char *w = s;
        while (*s && *s != ',')
            s++;
        if (*s)
            *s++ = '\0';
        if (!*w)
            continue;
        int pid = proc_spawn(w, NULL);
        if (pid < 0)
            kprintf("[kernel] cannot start %s: %s\n", w,
                    pid == -ENOENT   ? "no such module"
                    : pid == -EINVAL ? "not a valid ELF program, or too many arguments"
                    : pid == -EAGAIN ? "the process table is full"
                                     : "out of memory");
        else
            started++;
    }
    return started;
}

void kmain(uint32_t magic, const struct multiboot_info *mbi);
void kmain(uint32_t magic, const struct multiboot_info *mbi)
{
    console_init();
    kprintf("Ringside demo kernel\n");
    if (magic != MB_BOOT_MAGIC) {
        kprintf("[kernel] not started by a Multiboot loader (EAX=0x%08x)\n", magic);
        shutdown(KEXIT_BOOT);
    }

    /* Everything the loader told us is read now, before mm_init() hands out the memory after
     * the modules (where the loader may also have put the information block). */
    uint32_t first_free = (uint32_t)__kernel_end;
    if (mbi->flags & MBI_MODS) {
        const struct multiboot_module *mm = (const struct multiboot_module *)mbi->mods_addr;
        for (uint32_t i = 0; i < mbi->mods_count; i++) {
            add_module(&mm[i]);
            if (mm[i].end > first_free && mm[i].end <= KERNEL_MAP_END)
                first_free = mm[i].end;
        }
    }
    if (mbi->flags & MBI_CMDLINE)
        parse_cmdline((const char *)mbi->cmdline);
    uint32_t ram_end = (mbi->flags & MBI_MEM) ? 0x100000 + mbi->mem_upper * 1024 : KERNEL_MAP_END;

    desc_init();
    mm_init(first_free, ram_end);
    pic_init();
    pit_init(HZ); /* the timer counts from here: on Ringside, where its ticks fall depends on
                   * how many instructions ran before, so the command line and the module
                   * strings (read above) shift them slightly with their lengths */
    proc_init();
    names_init();
    kprintf("[kernel] GDT, IDT, TSS loaded; paging on; PIC at vectors 0x%02x..0x%02x; "
            "PIT at %u Hz\n", IRQ_BASE, IRQ_BASE + 15, HZ);
    kprintf("[kernel] modules:");
    for (unsigned i = 0; i < nmodules; i++)
        kprintf(" %s", modules[i].name);
    kprintf("\n[kernel] time slice %u ticks, cpu limit %u ticks, read timeout %u ticks\n",
            quantum, cpulimit, read_timeout);

    if (start_init() == 0) {
        kprintf("[kernel] nothing to run\n");
        shutdown(KEXIT_BOOT);
    }
    pic_unmask(IRQ_TIMER);
    pic_unmask(IRQ_COM1);
    console_start_input();

    /* The idle loop, the kernel's pid 0. It runs (always in ring 0, on the boot stack) when no
     * process can: it hands the cpu to any process that became runnable, and otherwise halts
     * with interrupts on until the next interrupt (a timer tick may wake a sleeper; console
     * input may wake a reader). When no process is left, it prints the summary and powers
     * off. */
    for (;;) {
        proc_reap_orphans();
        if (!proc_any_alive())
            break;
        if (proc_any_runnable())
            schedule();
        else
            sti_hlt(); /* returns after one interrupt has been handled */
        cli();
    }
    kprintf("[kernel] all processes have exited\n");
    proc_summary();
    shutdown(KEXIT_OK);
}
