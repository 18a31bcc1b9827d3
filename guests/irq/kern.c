/* The interrupt guests' kernel: descriptors, the PIC, the PIT, IRQ dispatch (see irq.h). */
#include "irq.h"

/* The 32-bit TSS; only the ring 0 stack and the I/O map base are used. */
struct tss {
    uint32_t link, esp0, ss0, esp1, ss1, esp2, ss2, cr3, eip, eflags;
    uint32_t eax, ecx, edx, ebx, esp, ebp, esi, edi;
    uint32_t es, cs, ss, ds, fs, gs, ldt;
    uint16_t trap, iomap;
};

static uint64_t gdt[6];
static uint64_t idt[256];
static struct tss tss;
static uint8_t int_stack[8192] __attribute__((aligned(16))); /* ring 0 stack for ring 3 events */
static irq_fn handlers[16];
static unsigned spurious;

extern char exc0[], exc1[], exc2[], exc3[], exc4[], exc5[], exc6[], exc7[], exc8[], exc9[];
extern char exc10[], exc11[], exc12[], exc13[], exc14[], exc15[], exc16[], exc17[], exc18[];
extern char exc19[];
extern char irq0[], irq1[], irq2[], irq3[], irq4[], irq5[], irq6[], irq7[], irq8[], irq9[];
extern char irq10[], irq11[], irq12[], irq13[], irq14[], irq15[];
extern char user_return[];

static char *const exc_stubs[20] = {
    exc0, exc1, exc2, exc3, exc4, exc5, exc6, exc7, exc8, exc9,
    exc10, exc11, exc12, exc13, exc14, exc15, exc16, exc17, exc18, exc19,
};
static char *const irq_stubs[16] = {
    irq0, irq1, irq2, irq3, irq4, irq5, irq6, irq7,
    irq8, irq9, irq10, irq11, irq12, irq13, irq14, irq15,
};

#define PIC1_CMD 0x20
#define PIC1_IMR 0x21
#define PIC2_CMD 0xA0
#define PIC2_IMR 0xA1
#define PIC_EOI  0x20 /* OCW2: non-specific EOI */

/* A flat segment (base 0, limit 4 GiB, 32-bit) of the given access byte. */
static uint64_t flat(uint8_t access)
{
    return 0x00CF00000000FFFFull | (uint64_t)access << 40;
}

static uint64_t tss_desc(uint32_t base, uint32_t limit)
{
    return (limit & 0xFFFFull) | (uint64_t)(base & 0xFFFFFF) << 16 | 0x89ull << 40 |
           (uint64_t)(limit >> 16 & 0xF) << 48 | (uint64_t)(base >> 24) << 56;
}

/* An interrupt gate (IF cleared on entry) to KCODE:target with the given DPL. */
static uint64_t intr_gate(void *target, unsigned dpl)
{
    uint32_t t = (uint32_t)target;
    return (t & 0xFFFFull) | (uint64_t)KCODE << 16 | (uint64_t)(0x8E | dpl << 5) << 40 |
           (uint64_t)(t >> 16) << 48;
}

/* Linux's outb_p: the write, then a write to port 0x80 (POST codes: nobody listens) as a
 * delay for slow ISA chips. */
static void outb_p(uint16_t port, uint8_t v)
{
    outb(port, v);
    outb(0x80, 0);
}

static void pic_init(void)
{
    /* Linux arch/x86/kernel/i8259.c init_8259A(0), vector bases 0x20 / 0x28. */
    outb(PIC1_IMR, 0xFF);
    outb(PIC2_IMR, 0xFF);
    outb_p(PIC1_CMD, 0x11);      /* ICW1: edge triggered, cascade, ICW4 follows */
    outb_p(PIC1_IMR, IRQ_BASE);  /* ICW2: IRQ 0-7 -> 0x20-0x27 */
    outb_p(PIC1_IMR, 1 << 2);    /* ICW3: the slave is on IR2 */
    outb_p(PIC1_IMR, 0x01);      /* ICW4: 8086 mode, normal EOI */
    outb_p(PIC2_CMD, 0x11);
    outb_p(PIC2_IMR, IRQ_BASE + 8);
    outb_p(PIC2_IMR, 2);         /* the slave's identity */
    outb_p(PIC2_IMR, 0x01);
    outb(PIC1_IMR, 0xFF & ~(1 << 2)); /* everything masked but the cascade */
    outb(PIC2_IMR, 0xFF);
}

void kern_init(void)
{
    gdt[KCODE >> 3] = flat(0x9A);
    gdt[KDATA >> 3] = flat(0x92);
    gdt[UCODE >> 3] = flat(0xFA);
    gdt[UDATA >> 3] = flat(0xF2);
    tss.esp0 = (uint32_t)(int_stack + sizeof int_stack);
    tss.ss0 = KDATA;
    tss.iomap = sizeof tss; /* no I/O bitmap: ring 3 has no port access (IOPL 0) */
    gdt[TSSSEL >> 3] = tss_desc((uint32_t)&tss, sizeof tss - 1);
    struct {
        uint16_t limit;
        uint32_t base;
    } __attribute__((packed)) gdtr = { sizeof gdt - 1, (uint32_t)gdt },
                              idtr = { sizeof idt - 1, (uint32_t)idt };
    __asm__ volatile("lgdt %0\n\t"
                     "ljmp %1, $1f\n"
                     "1:\n\t"
                     "movl %2, %%eax\n\t"
                     "movl %%eax, %%ds\n\t"
                     "movl %%eax, %%es\n\t"
                     "movl %%eax, %%fs\n\t"
                     "movl %%eax, %%gs\n\t"
                     "movl %%eax, %%ss\n\t"
                     "ltr %w3"
                     : : "m"(gdtr), "i"(KCODE), "i"(KDATA), "r"(TSSSEL) : "eax", "memory");
    for (unsigned v = 0; v < 20; v++)
        idt[v] = intr_gate(exc_stubs[v], 0);
    for (unsigned i = 0; i < 16; i++)
        idt[IRQ_BASE + i] = intr_gate(irq_stubs[i], 0);
    idt[VEC_RETURN] = intr_gate(user_return, 3);
    __asm__ volatile("lidt %0" : : "m"(idtr));
    pic_init();
}

void irq_set_handler(unsigned irq, irq_fn fn)
{
    handlers[irq & 15] = fn;
}

void pic_unmask(unsigned irq)
{
    uint16_t port = irq < 8 ? PIC1_IMR : PIC2_IMR;
    outb(port, inb(port) & (uint8_t) ~(1u << (irq & 7)));
}

void pic_mask(unsigned irq)
{
    uint16_t port = irq < 8 ? PIC1_IMR : PIC2_IMR;
    outb(port, inb(port) | (uint8_t)(1u << (irq & 7)));
}

/* Is `irq` (7 or 15) really in service? A spurious IRQ 7 is not (Linux i8259A_irq_real). */
static bool in_service(unsigned irq)
{
    uint16_t cmd = irq < 8 ? PIC1_CMD : PIC2_CMD;
    outb(cmd, 0x0B); /* OCW3: read ISR */
    bool v = inb(cmd) & (1u << (irq & 7));
    outb(cmd, 0x0A); /* back to IRR */
    return v;
}

void irq_dispatch(struct irq_frame *f)
{
    unsigned irq = f->vec - IRQ_BASE;
    if ((irq == 7 || irq == 15) && !in_service(irq)) {
        spurious++;
        if (irq == 15)
            outb(PIC1_CMD, PIC_EOI); /* the master did see IR2 */
        return;
    }
    if (handlers[irq])
        handlers[irq](f);
    if (irq >= 8)
        outb(PIC2_CMD, PIC_EOI);
    outb(PIC1_CMD, PIC_EOI);
}

_Noreturn void exception(uint32_t *frame);
_Noreturn void exception(uint32_t *frame)
{
    rt_printf("unexpected exception %u (error %x) at %x:%x\n", frame[0], frame[1], frame[3],
              frame[2]);
    rt_exit(0x7f);
}

uint64_t pit_start(uint16_t divisor)
{
    uint32_t lo, hi;
    outb(0x43, 0x34); /* counter 0, lobyte/hibyte, mode 2 (rate generator), binary */
    outb(0x40, (uint8_t)divisor);
    /* The high byte loads the count: read the TSC three instructions before that OUT. */
    __asm__ volatile("rdtsc\n\t"
                     "movl %%eax, %%ebx\n\t"
                     "movb %%cl, %%al\n\t"
                     "outb %%al, $0x40"
                     : "=b"(lo), "=d"(hi)
                     : "c"((uint32_t)(divisor >> 8))
                     : "eax", "memory");
    return ((uint64_t)hi << 32 | lo) + 3;
}

/* pit8254.c's arithmetic: ticks at device time t, and the first device time of tick k. */
static uint64_t ticks_at(uint64_t t)
{
    return t / RINGSIDE_IPS * PIT_HZ + t % RINGSIDE_IPS * PIT_HZ / RINGSIDE_IPS;
}

static uint64_t time_of_tick(uint64_t k)
{
    return k / PIT_HZ * RINGSIDE_IPS + (k % PIT_HZ * RINGSIDE_IPS + PIT_HZ - 1) / PIT_HZ;
}

uint64_t pit_deadline(uint64_t t_load, uint64_t k)
{
    return time_of_tick(ticks_at(t_load) + k);
}

bool on_ringside(void)
{
    uint32_t a = 1, b, c, d;
    __asm__ volatile("cpuid" : "+a"(a), "=b"(b), "=c"(c), "=d"(d));
    if (!(c >> 31))
        return false; /* no hypervisor */
    a = 0x40000000;
    __asm__ volatile("cpuid" : "+a"(a), "=b"(b), "=c"(c), "=d"(d));
    /* "RingsideIA32" in EBX, ECX, EDX */
    return b == 0x676e6952u && c == 0x65646973u && d == 0x32334149u;
}

void check_timing(const char *what, uint64_t got, uint64_t want)
{
    static int ringside = -1;
    if (ringside < 0)
        ringside = on_ringside();
    char sign = got >= want ? '+' : '-';
    unsigned long long d = got >= want ? got - want : want - got;
    if (d == 0) {
        rt_printf("timing: %s at the deadline + 0 ok\n", what);
    } else if (ringside) {
        rt_printf("timing: %s at the deadline %c %llu FAIL (want + 0)\n", what, sign, d);
        check_quiet(what, 1, 0); /* counts the failure */
    } else {
        rt_printf("timing: %s at the deadline %c %llu (not Ringside)\n", what, sign, d);
    }
}

unsigned cmos_read(unsigned index)
{
    outb(0x70, (uint8_t)index);
    return inb(0x71);
}
