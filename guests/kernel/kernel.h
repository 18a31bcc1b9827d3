/* The demo kernel: declarations shared by its files.
 *
 * Physical and kernel memory (one address space per process; the kernel half is the same in
 * every one, mapped supervisor-only, so ring 3 can neither read nor write it):
 *
 *   0x00000000  page 0: never mapped, so a NULL pointer faults, in ring 3 and in ring 0
 *   0x00001000  identity-mapped low memory, supervisor only (KERNEL_MAP_END = 16 MiB):
 *   0x00100000    the kernel image (.text/.rodata read-only, .data/.bss writable)
 *     ...         the Multiboot modules (the user programs' ELF files), left where loaded
 *     ...         free frames, handed out by frame_alloc() for page tables and user pages
 *   0x01000000  nothing mapped up to USER_BASE
 *
 * User memory (per process, PTE_U):
 *
 *   0x08048000  the program's PT_LOAD segments (code read-only, data writable)
 *     ...       the heap, grown by sbrk() from the page after the last segment
 *   0xBFFFA000  the guard page: never mapped, so a stack overflow faults instead of
 *               silently running into other memory
 *   0xBFFFB000  the user stack (USER_STACK_PAGES pages), argc/argv at its top
 *   0xBFFFF000  unmapped up to USER_TOP = 0xC0000000
 *
 * Control flow: every entry from ring 3 (exception, IRQ, int $0x80, sysenter) builds one
 * struct trapframe on the process's kernel stack (entry.S) and calls trap() (trap.c). The
 * kernel runs with interrupts off (all gates are interrupt gates; SYSENTER clears IF), so it is
 * never preempted: a process is switched out only when it blocks, yields or exits, or when the
 * timer interrupts it in ring 3. The idle loop (main.c) is the only code that runs with
 * interrupts on in ring 0.
 */
#ifndef DEMO_KERNEL_H
#define DEMO_KERNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abi.h"
#include "fmt.h"
#include "x86.h"

/* ---- configuration ---- */
#define HZ               100          /* timer interrupts per second */
#define NPROC            16           /* process slots; slot 0 is the idle loop (pid 0) */
#define KSTACK_SIZE      8192         /* kernel stack per process */
#define NHANDLES         4            /* handle-table size per process */
#define NAME_LEN         16           /* process names (program base names), NUL included */
#define CMD_LEN          64           /* longest spawn command ("name args") */
#define MAX_ARGS         8            /* argv entries passed to a program */
#define MAX_MODULES      32           /* Multiboot modules the kernel remembers */
#define USER_STACK_PAGES 4            /* 16 KiB of user stack */
#define USER_GUARD  (USER_STACK_TOP - (USER_STACK_PAGES + 1) * PAGE_SIZE) /* never mapped */
#define HEAP_MAX         (4u << 20)   /* sbrk() limit per process */
#define KERNEL_MAP_END   (16u << 20)  /* physical memory identity-mapped for the kernel */
#define IOMAP_PORTS      1024         /* the TSS I/O bitmap covers ports 0..1023 */
#define MAX_RECORDS      64           /* exited processes remembered for the summary */

/* Values the kernel writes to the debug-exit port 0xF4 (the run's exit status is
 * (value << 1) | 1). */
#define KEXIT_OK    0x00 /* every process has exited */
#define KEXIT_BOOT  0x01 /* nothing to run: bad command line or module */
#define KEXIT_PANIC 0x0F /* a fault in ring 0, or a kernel check failed */

/* What the entry stubs save, lowest address first: the data segment registers, PUSHAL, the
 * vector (T_SYSENTER for the SYSENTER path) and an error code (0 when the cpu pushes none),
 * then the cpu's own frame. user_esp and user_ss exist only for entries from ring 3. */
struct trapframe {
    uint32_t gs, fs, es, ds;
    uint32_t edi, esi, ebp, kesp, ebx, edx, ecx, eax; /* PUSHAL (kesp: ESP before it) */
    uint32_t vec, err;
    uint32_t eip, cs, eflags; /* pushed by the cpu (or the SYSENTER stub) */
    uint32_t user_esp, user_ss;
};

/* ---- console.c: the 16550 UART at 0x3F8 ---- */
void console_init(void);
void kputc(char c);
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void kvprintf(const char *fmt, va_list ap);
void console_start_input(void);         /* after the PIC: receive interrupts on */
void console_irq(void);                 /* IRQ 4: received bytes into the line buffer */
size_t console_take(char *dst, size_t len); /* bytes of completed lines (0: none yet) */
bool console_eof(void);                 /* Ctrl-D was typed on an empty line (consumed) */
uint32_t console_last_input(void);      /* tick of the last received byte */

/* ---- desc.c: GDT, IDT, TSS ---- */
void desc_init(void);
void tss_set_kstack(uint32_t esp0);     /* TSS.ESP0 and IA32_SYSENTER_ESP */
void tss_set_iomap(const uint8_t *map); /* copy a process's I/O bitmap into the TSS */

/* ---- pic.c / pit.c ---- */
void pic_init(void);
void pic_unmask(unsigned irq);
void pic_eoi(unsigned irq);
bool pic_spurious(unsigned irq);
void pit_init(unsigned hz);

/* ---- mm.c: frames, page tables, user pointers ---- */
void mm_init(uint32_t first_free, uint32_t ram_end);
uint32_t frame_alloc(void);             /* a zeroed 4 KiB frame, or 0 */
void frame_free(uint32_t pa);
uint32_t frames_free(void);
extern uint32_t kernel_pd;              /* physical address of the kernel's page directory */
uint32_t pd_create(void);               /* a new address space with the kernel half, or 0 */
void pd_destroy(uint32_t pd);           /* frees every user page, page table and the directory */
int map_page(uint32_t pd, uint32_t va, uint32_t pa, uint32_t flags);
void unmap_page(uint32_t pd, uint32_t va);
uint32_t pte_get(uint32_t pd, uint32_t va); /* the PTE for va (0 = not mapped) */
bool user_ok(uint32_t va, uint32_t len, bool write); /* in the current address space */
int copy_from_user(void *dst, uint32_t src, uint32_t len);  /* 0 or -EFAULT */
int copy_to_user(uint32_t dst, const void *src, uint32_t len);
int copy_str_from_user(char *dst, uint32_t src, uint32_t size); /* length or -EFAULT/-EINVAL */

/* ---- elf.c ---- */
int elf_load(uint32_t pd, const uint8_t *image, uint32_t size, uint32_t *entry, uint32_t *end);

/* ---- main.c: boot information and settings ---- */
struct module {
    char name[NAME_LEN];   /* base name of the file, without ".elf" */
    char args[CMD_LEN];    /* the rest of the module string */
    const uint8_t *image;  /* the ELF file, where the loader put it */
    uint32_t size;
};
const struct module *module_find(const char *name);
extern unsigned quantum;                /* ticks per time slice */
extern unsigned cpulimit;               /* ticks of cpu time before a process is killed (0: off) */
extern unsigned read_timeout;           /* ticks without input before console read gives up */

/* ---- proc.c: processes, scheduling, accounting ---- */
enum pstate { P_UNUSED, P_RUNNABLE, P_RUNNING, P_BLOCKED, P_ZOMBIE };
enum blocked_on { B_NONE, B_SLEEP, B_WAIT, B_READ };

struct proc {
    enum pstate state;
    int pid;
    char name[NAME_LEN];
    struct proc *parent;            /* NULL: the kernel started it (or its parent exited) */
    uint32_t pd;                    /* physical address of its page directory */
    uint32_t kesp;                  /* saved kernel ESP while switched out (swtch) */
    uint32_t kstack_top;            /* top of its kernel stack: TSS.ESP0 while it runs */
    uint32_t heap_start, brk;       /* sbrk(): [heap_start, brk) is the heap */
    uint8_t handles[NHANDLES];      /* H_... by handle number */
    uint8_t iomap[IOMAP_PORTS / 8]; /* its I/O permission bitmap: bit clear = port allowed */

    enum blocked_on blocked_on;     /* why it is P_BLOCKED */
    uint32_t wake_tick;             /* wake at this tick even if nothing happened (0: never) */
    unsigned slice;                 /* ticks used of its current time slice */
    int exit_status;                /* for wait(), once P_ZOMBIE */

    /* accounting: ticks are sampled by the timer (which ring it interrupted); tsc is measured
     * with RDTSC at every entry and exit, so it also sees time slices shorter than a tick */
    uint32_t start_tick;
    uint32_t user_ticks, sys_ticks;
    uint64_t user_tsc, sys_tsc;
    uint32_t syscalls;
    int syscall_nr;                 /* the system call it is in, or -1 */
};

enum { H_NONE, H_CONSOLE_IN, H_CONSOLE_OUT };

extern struct proc *current;
extern volatile uint32_t ticks;
extern uint32_t n_int80, n_sysenter, n_switches, n_preempts;

void proc_init(void);
void names_init(void);                  /* names.c: tell Ringside the system calls' names */
void names_space(uint32_t pd, int pid, const char *name); /* ... and an address space's */
int proc_spawn(const char *cmd, struct proc *parent); /* pid or -E... */
_Noreturn void proc_exit(int status);
int proc_wait(int pid);                 /* for the current process */
void proc_block(enum blocked_on why, uint32_t wake_tick);
void wake_all(enum blocked_on why);
void schedule(void);
void timer_tick(const struct trapframe *tf);
bool proc_any_alive(void);
bool proc_any_runnable(void);
void proc_reap_orphans(void);
void acct_enter(void);                  /* ring 3 -> kernel */
void acct_leave(void);                  /* kernel -> ring 3 */
void proc_summary(void);

/* ---- trap.c ---- */
void trap(struct trapframe *tf);
const char *exc_name(unsigned vec);     /* "#PF", ... */
_Noreturn void panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void shutdown(uint32_t value);

/* ---- syscall.c / kdriver.c ---- */
void syscall(struct trapframe *tf);
const char *syscall_name(int nr);
int32_t kdriver_ioctl(uint32_t unit, uint32_t value);

/* ---- entry.S ---- */
extern void (*const vector_stubs[48])(void); /* 0..31 exceptions, 32..47 IRQs */
void syscall_stub(void);                     /* int $0x80 */
void sysenter_entry(void);
void trap_return(void);                      /* pops a trapframe and returns to it */
void swtch(uint32_t *save_esp, uint32_t new_esp);
void load_gdt(const void *gdtr);

/* ---- lib ---- */
#include "str.h" /* memset, memcpy, strlen, strcmp, strlcpy */

#endif
