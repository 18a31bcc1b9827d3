/* A minimal kernel that enters ring 3 and makes system calls: a GDT with ring 0 and ring 3
 * segments and a TSS (the ring 0 stack for events from ring 3), an IDT with the system call
 * gate (int $0x80, DPL 3), output on COM1, and the end through QEMU's isa-debug-exit port.
 *
 *   kmain: GDT, TSS, IDT -> IRET to user_main in ring 3
 *   user_main (ring 3): write("hello from ring 3\n") with int $0x80, then exit(0)
 *   syscall (ring 0): SYS_WRITE prints, SYS_EXIT writes the status to port 0xF4
 */
#include <stdint.h>

#define KCODE 0x08
#define KDATA 0x10
#define UCODE (0x18 | 3)
#define UDATA (0x20 | 3)
#define TSSSEL 0x28

#define SYS_WRITE 1
#define SYS_EXIT 2

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }

/* COM1: wait until the transmitter holds nothing, then send. */
static void putc_serial(char ch)
{
    while (!(inb(0x3F8 + 5) & 0x20))
        ;
    outb(0x3F8, (uint8_t)ch);
}

static void puts_serial(const char *s)
{
    while (*s)
        putc_serial(*s++);
}

static void exit_machine(uint8_t status)
{
    outb(0xF4, status); /* isa-debug-exit: the run ends with (status << 1) | 1 */
    for (;;)
        __asm__ volatile("cli; hlt");
}

/* ---- descriptor tables ---- */

struct tss {
    uint32_t link, esp0, ss0, esp1, ss1, esp2, ss2, cr3, eip, eflags;
    uint32_t eax, ecx, edx, ebx, esp, ebp, esi, edi;
    uint32_t es, cs, ss, ds, fs, gs, ldt;
    uint16_t trap, iomap;
} __attribute__((packed));

static uint64_t gdt[6];
static uint64_t idt[256];
static struct tss tss;
static uint8_t kstack[8192] __attribute__((aligned(16)));
static uint8_t ustack[8192] __attribute__((aligned(16)));

/* A segment descriptor: access = P DPL S type, flags = G D/B. */
static uint64_t seg(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
    return (limit & 0xFFFFull) | (uint64_t)(base & 0xFFFFFF) << 16 | (uint64_t)access << 40 |
           (uint64_t)((limit >> 16) & 0xF) << 48 | (uint64_t)(flags & 0xF) << 52 |
           (uint64_t)(base >> 24) << 56;
}

/* An interrupt gate (type 0xE) to KCODE:fn with the given DPL. */
static uint64_t gate(void (*fn)(void), unsigned dpl)
{
    uint32_t off = (uint32_t)fn;
    return (off & 0xFFFF) | (uint64_t)KCODE << 16 | (uint64_t)(0x8E | dpl << 5) << 40 |
           (uint64_t)(off >> 16) << 48;
}

struct __attribute__((packed)) dtr {
    uint16_t limit;
    uint32_t base;
};

void syscall_entry(void);
void fault_entry(void);

static void tables_init(void)
{
    gdt[1] = seg(0, 0xFFFFF, 0x9A, 0xC); /* ring 0 code */
    gdt[2] = seg(0, 0xFFFFF, 0x92, 0xC); /* ring 0 data */
    gdt[3] = seg(0, 0xFFFFF, 0xFA, 0xC); /* ring 3 code (DPL 3) */
    gdt[4] = seg(0, 0xFFFFF, 0xF2, 0xC); /* ring 3 data (DPL 3) */
    gdt[5] = seg((uint32_t)&tss, sizeof tss - 1, 0x89, 0x0); /* 32-bit TSS */
    tss.ss0 = KDATA;
    tss.esp0 = (uint32_t)(kstack + sizeof kstack);
    tss.iomap = sizeof tss; /* no I/O bitmap: ring 3 may not touch ports */
    struct dtr g = { sizeof gdt - 1, (uint32_t)gdt };
    __asm__ volatile("lgdt %0\n"
                     "ljmp %1, $1f\n"
                     "1: movw %w2, %%ds; movw %w2, %%es; movw %w2, %%ss\n"
                     "movw %w2, %%fs; movw %w2, %%gs"
                     : : "m"(g), "i"(KCODE), "r"(KDATA));
    __asm__ volatile("ltr %w0" : : "r"(TSSSEL));
    for (unsigned v = 0; v < 32; v++)
        idt[v] = gate(fault_entry, 0);
    idt[0x80] = gate(syscall_entry, 3); /* DPL 3: ring 3 may use int $0x80 */
    struct dtr i = { sizeof idt - 1, (uint32_t)idt };
    __asm__ volatile("lidt %0" : : "m"(i));
}

/* ---- ring 3 ---- */

static int sys(int nr, uint32_t a, uint32_t b)
{
    int ret;
    __asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(a), "c"(b) : "memory");
    return ret;
}

static void user_main(void)
{
    static const char msg[] = "hello from ring 3\n";
    sys(SYS_WRITE, (uint32_t)msg, sizeof msg - 1);
    sys(SYS_EXIT, 0, 0);
}

/* ---- ring 0 ---- */

struct regs { uint32_t edi, esi, ebp, esp, ebx, edx, ecx, eax; }; /* PUSHAL order */

unsigned syscalls; /* a kernel variable to watch from gdb */

void syscall(struct regs *r);
void syscall(struct regs *r)
{
    syscalls++;
    switch (r->eax) {
    case SYS_WRITE: {
        const char *p = (const char *)r->ebx;
        for (uint32_t k = 0; k < r->ecx; k++)
            putc_serial(p[k]);
        r->eax = r->ecx;
        break;
    }
    case SYS_EXIT:
        puts_serial("kernel: user exited, ");
        putc_serial((char)('0' + syscalls));
        puts_serial(" system calls\n");
        exit_machine((uint8_t)r->ebx);
        break;
    default:
        r->eax = (uint32_t)-1;
    }
}

void fault(void);
void fault(void)
{
    puts_serial("kernel: unexpected exception\n");
    exit_machine(1);
}

void kmain(void);
void kmain(void)
{
    puts_serial("kernel: entering ring 3\n");
    tables_init();
    /* IRET to ring 3: SS, ESP, EFLAGS (IF off), CS, EIP. */
    __asm__ volatile("pushl %0; pushl %1; pushl $0x2; pushl %2; pushl %3\n"
                     "movw %w0, %%ax; movw %%ax, %%ds; movw %%ax, %%es\n"
                     "iret"
                     : : "i"(UDATA), "r"((uint32_t)(ustack + sizeof ustack)), "i"(UCODE),
                         "r"((uint32_t)user_main)
                     : "eax", "memory");
}
