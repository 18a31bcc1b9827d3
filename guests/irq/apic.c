/* irq_apic: the standard PC's interrupt path as xv6 and Linux use it, with the 8259A pair fully
 * masked: the local APIC's timer, its task priority, EOI, a self IPI, and COM1's receive
 * interrupt routed by the I/O APIC to the local APIC. It first finds the firmware's MP table
 * (as xv6's mpinit does: EBDA, then the BIOS area) and checks that the processor entry names the
 * local APIC's ID and the I/O APIC entry the I/O APIC's ID.
 *
 *   LAPIC timer  -> vector 0x20 (periodic: ten ticks ended by HLT; one-shot: held back while
 *                   TPR's class is 2, delivered as soon as TPR drops)
 *   self IPI     -> vector 0x21 (ICR, shorthand "self")
 *   I/O APIC pin 4 (COM1, ISA IRQ 4) -> vector 0x24, edge, to APIC ID 0
 *
 * Input bytes (hello.txt) are echoed upper-cased up to the first newline, as irq_uart does.
 * The same image gives the same plain lines under QEMU (guests/qemu-check.sh); "info:" lines
 * (register values that differ between models, e.g. the I/O APIC's version) are compared
 * nowhere, and `--log int` names each source (guest.irq_apic.intlog).
 */
#include "irq.h"

#define LAPIC     0xFEE00000u
#define IOAPIC    0xFEC00000u
#define COM1      0x3F8
#define VEC_TIMER 0x20
#define VEC_IPI   0x21
#define VEC_COM1  0x24

enum { ID = 0x20, VER = 0x30, TPR = 0x80, PPR = 0xA0, EOI = 0xB0, SVR = 0xF0, ISR = 0x100,
       IRR = 0x200, ESR = 0x280, ICR_LO = 0x300, ICR_HI = 0x310, LVT_TIMER = 0x320,
       LVT_LINT0 = 0x350, LVT_LINT1 = 0x360, LVT_ERROR = 0x370, TIMER_INIT = 0x380,
       TIMER_CUR = 0x390, TIMER_DIV = 0x3E0 };

static volatile uint32_t *const lapic = (volatile uint32_t *)LAPIC;

static uint32_t lapic_rd(unsigned off)
{
    return lapic[off / 4];
}

static void lapic_wr(unsigned off, uint32_t v)
{
    lapic[off / 4] = v;
    (void)lapic[ID / 4]; /* wait for the write, as xv6's lapicw does */
}

static uint32_t ioapic_rd(unsigned reg)
{
    *(volatile uint32_t *)IOAPIC = reg;
    return *(volatile uint32_t *)(IOAPIC + 0x10);
}

static void ioapic_wr(unsigned reg, uint32_t v)
{
    *(volatile uint32_t *)IOAPIC = reg;
    *(volatile uint32_t *)(IOAPIC + 0x10) = v;
}

static volatile unsigned timer_ticks, ipis, com1_irqs, rx_bytes;
static volatile uint8_t rxbuf[256];
static volatile uint8_t rx_head, rx_tail;

static void on_timer(struct irq_frame *f)
{
    (void)f;
    timer_ticks++;
    lapic_wr(EOI, 0);
}

static void on_ipi(struct irq_frame *f)
{
    (void)f;
    ipis++;
    lapic_wr(EOI, 0);
}

static void on_com1(struct irq_frame *f)
{
    (void)f;
    com1_irqs++;
    (void)inb(COM1 + 2); /* IIR */
    while (inb(COM1 + 5) & 0x01) {
        rxbuf[rx_head++] = inb(COM1 + 0);
        rx_bytes++;
    }
    lapic_wr(EOI, 0);
}

static uint8_t sum(const uint8_t *p, unsigned n)
{
    uint8_t s = 0;
    while (n--)
        s = (uint8_t)(s + *p++);
    return s;
}

/* The MP floating pointer in [a, a + len), 16-byte aligned, with a good checksum. */
static const uint8_t *mp_search(uint32_t a, uint32_t len)
{
    for (uint32_t p = a; p + 16 <= a + len; p += 16) {
        const uint8_t *q = (const uint8_t *)p;
        if (q[0] == '_' && q[1] == 'M' && q[2] == 'P' && q[3] == '_' && sum(q, 16) == 0)
            return q;
    }
    return 0;
}

/* A pointer to low physical memory the compiler cannot see through (gcc 12 warns about
 * constant addresses below 4 KiB). */
static const uint8_t *phys(uint32_t a)
{
    const uint8_t *p = (const uint8_t *)a;
    __asm__("" : "+r"(p));
    return p;
}

static void check_mp(void)
{
    const uint8_t *bda = phys(0x400);
    uint32_t ebda = (uint32_t)(bda[0x0F] << 8 | bda[0x0E]) << 4;
    const uint8_t *fp = ebda ? mp_search(ebda, 1024) : 0;
    if (!fp)
        fp = mp_search(0xF0000, 0x10000);
    check("mp: floating pointer found", fp != 0, 1);
    if (!fp)
        return;
    const uint8_t *t = (const uint8_t *)(fp[4] | fp[5] << 8 | fp[6] << 16 | (uint32_t)fp[7] << 24);
    unsigned len = t[4] | t[5] << 8, count = t[34] | t[35] << 8;
    check("mp: table checksum", sum(t, len), 0);
    unsigned procs = 0, proc_id = 0xFFFF, ioapic_id = 0xFFFF;
    const uint8_t *e = t + 44;
    for (unsigned k = 0; k < count && e < t + len; k++) {
        if (e[0] == 0) {
            procs++;
            proc_id = e[1];
            e += 20;
        } else {
            if (e[0] == 2)
                ioapic_id = e[1];
            e += 8;
        }
    }
    check("mp: processors", procs, 1);
    check("mp: processor's APIC ID is the LAPIC's", proc_id == lapic_rd(ID) >> 24, 1);
    check("mp: I/O APIC entry's ID is the I/O APIC's", ioapic_id == ((ioapic_rd(0) >> 24) & 0xF),
          1);
    rt_printf("info: I/O APIC ID %u\n", ioapic_id);
}

/* Halts until `cond` holds (interrupts wake the cpu); STI's shadow keeps the wake-up. */
#define WAIT_FOR(cond)                                             \
    do {                                                           \
        cli();                                                     \
        while (!(cond)) {                                          \
            __asm__ volatile("sti; hlt; cli" ::: "memory");        \
        }                                                          \
        sti();                                                     \
    } while (0)

int kmain(const struct multiboot_info *mbi)
{
    (void)mbi;
    kern_init(); /* the 8259A pair stays fully masked */
    rt_printf("irq_apic: local APIC at %x, I/O APIC at %x, 8259A pair masked\n", LAPIC, IOAPIC);
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(0x1B));
    check("IA32_APIC_BASE base", lo & 0xFFFFF000u, LAPIC);
    check("IA32_APIC_BASE enabled, BSP", lo & 0x900u, 0x900u);
    uint32_t a, b, c, d;
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1));
    check("CPUID.1:EDX.APIC", (d >> 9) & 1, 1);
    rt_printf("lapic: version %x, max LVT %u\n", lapic_rd(VER) & 0xFF, (lapic_rd(VER) >> 16) & 0xFF);
    rt_printf("ioapic: %u redirection entries\n", ((ioapic_rd(1) >> 16) & 0xFF) + 1);
    rt_printf("info: ioapic version %x\n", ioapic_rd(1) & 0xFF);
    check_mp();

    irq_set_handler(VEC_TIMER - IRQ_BASE, on_timer);
    irq_set_handler(VEC_IPI - IRQ_BASE, on_ipi);
    irq_set_handler(VEC_COM1 - IRQ_BASE, on_com1);

    /* As xv6's lapicinit: enable, spurious vector 0x3F, LINT0/LINT1 masked, errors cleared. */
    lapic_wr(SVR, 0x100 | 0x3F);
    lapic_wr(LVT_LINT0, 0x10000);
    lapic_wr(LVT_LINT1, 0x10000);
    lapic_wr(LVT_ERROR, 0x10000 | 0x33);
    lapic_wr(ESR, 0);
    lapic_wr(ESR, 0);
    lapic_wr(EOI, 0);
    lapic_wr(TPR, 0);
    check("lapic: ESR after clearing", lapic_rd(ESR), 0);
    check("lapic: ICR delivery status idle", lapic_rd(ICR_LO) & 0x1000, 0);

    /* The timer, periodic, divide by 1. */
    lapic_wr(TIMER_DIV, 0xB);
    lapic_wr(LVT_TIMER, 0x20000 | VEC_TIMER);
    lapic_wr(TIMER_INIT, 1000000);
    check("lapic: timer counting down", lapic_rd(TIMER_CUR) < 1000000, 1);
    WAIT_FOR(timer_ticks >= 10);
    lapic_wr(LVT_TIMER, 0x10000 | VEC_TIMER); /* masked */
    lapic_wr(TIMER_INIT, 0);
    check("lapic: periodic timer ticks", timer_ticks, 10);

    /* One-shot while TPR holds class 2 back: it expires into IRR (polled, with interrupts on:
     * QEMU's timer may fire a little after the count reads 0), stays there, and is delivered
     * as soon as TPR drops. */
    unsigned before = timer_ticks;
    lapic_wr(TPR, 0x20);
    lapic_wr(LVT_TIMER, VEC_TIMER);
    lapic_wr(TIMER_INIT, 20000);
    sti();
    for (unsigned k = 0; k < 50000000 && !((lapic_rd(IRR + 0x10) >> (VEC_TIMER - 32)) & 1); k++)
        ;
    check("lapic: its vector waits in IRR", (lapic_rd(IRR + 0x10) >> (VEC_TIMER - 32)) & 1, 1);
    check("lapic: timer held back by TPR", timer_ticks - before, 0);
    check("lapic: PPR = TPR", lapic_rd(PPR), 0x20);
    lapic_wr(TPR, 0);
    WAIT_FOR(timer_ticks - before >= 1);
    check("lapic: delivered when TPR drops", timer_ticks - before, 1);

    /* A self IPI. */
    lapic_wr(ICR_HI, 0);
    lapic_wr(ICR_LO, 0x40000 | VEC_IPI);
    WAIT_FOR(ipis >= 1);
    check("lapic: self IPI", ipis, 1);

    /* COM1 through the I/O APIC, as xv6's uartinit + ioapicenable(IRQ_COM1, 0). */
    outb(COM1 + 1, 0x00);
    outb(COM1 + 3, 0x80);
    outb(COM1 + 0, 1);
    outb(COM1 + 1, 0);
    outb(COM1 + 3, 0x03);
    outb(COM1 + 2, 0x00);
    outb(COM1 + 4, 0x0B);
    ioapic_wr(0x10 + 2 * 4, VEC_COM1);
    ioapic_wr(0x11 + 2 * 4, 0);
    outb(COM1 + 1, 0x01);
    bool newline = false;
    unsigned n = 0;
    lapic_wr(LVT_TIMER, 0x20000 | VEC_TIMER); /* a tick to end the wait if no input comes */
    lapic_wr(TIMER_INIT, 5000000);
    unsigned t0 = timer_ticks;
    for (;;) {
        cli();
        while (rx_tail != rx_head && !newline) {
            char ch = (char)rxbuf[rx_tail++];
            if (ch == '\n') {
                newline = true;
                break;
            }
            rt_putc(ch >= 'a' && ch <= 'z' ? (char)(ch - 'a' + 'A') : ch);
            n++;
        }
        if (newline || timer_ticks - t0 > 100)
            break;
        __asm__ volatile("sti; hlt" ::: "memory");
    }
    sti();
    lapic_wr(LVT_TIMER, 0x10000);
    rt_printf("\nirq_apic: %u bytes before the newline\n", n);
    check("com1: interrupts through the I/O APIC", com1_irqs > 0, 1);
    check("lapic: no errors", (lapic_wr(ESR, 0), lapic_rd(ESR)), 0);
    return rt_finish("irq_apic");
}
