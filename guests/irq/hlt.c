/* irq_hlt: HLT with IF = 1 idles until the timer.
 *
 * The PIT runs at 100 Hz; the kernel executes HLT 100 times with interrupts on and counts the
 * IRQ 0 ticks: each HLT ends with exactly one tick. On Ringside the instructions retired stay
 * in the thousands (the ctest checks --stats) while device time, and so the TSC and the CMOS
 * clock, move on by a whole guest second: the last tick's handler starts exactly at its
 * deadline, and the RTC goes from 00:00:00 to 00:00:01. The CMOS memory-size bytes are checked
 * too (what a BIOS leaves there for 256 MiB, Ringside's default; qemu-check.sh gives QEMU
 * -m 256). It also reads a physical address beyond RAM that no device claims: guest.irq_hlt.unimp
 * checks that `--log unimp` reports that address (and says it is beyond RAM), and port 0x80
 * (kern.c's outb_p), once each.
 */
#include "irq.h"

#define HZ 100
#define NHLT 100

static volatile unsigned ticks;
static volatile uint64_t last_tick_tsc;

static void timer(struct irq_frame *f)
{
    ticks++;
    last_tick_tsc = frame_tsc(f);
}

/* hh:mm:ss as BCD digits (0xhhmmss), read the way xv6's cmostime does: until two reads agree
 * with no update in progress. */
static uint32_t rtc_hms(void)
{
    for (;;) {
        while (cmos_read(0x0A) & 0x80)
            ;
        uint32_t a = cmos_read(4) << 16 | cmos_read(2) << 8 | cmos_read(0);
        uint32_t b = cmos_read(4) << 16 | cmos_read(2) << 8 | cmos_read(0);
        if (a == b && !(cmos_read(0x0A) & 0x80))
            return a;
    }
}

int kmain(const struct multiboot_info *mbi)
{
    (void)mbi;
    kern_init();
    irq_set_handler(0, timer);
    pic_unmask(0);
    rt_printf("irq_hlt: %u x HLT with IF = 1, PIT at %u Hz (divisor %u)\n", NHLT, HZ,
              PIT_DIV(HZ));

    unsigned b = cmos_read(0x0B);
    rt_printf("cmos: register B %x (24-hour %u, binary %u), register D %x\n", b, (b >> 1) & 1,
              (b >> 2) & 1, cmos_read(0x0D));
    rt_printf("cmos: base memory %u KiB, extended %u KiB (copy %u), above 16 MiB %u x 64 KiB\n",
              cmos_read(0x15) | cmos_read(0x16) << 8, cmos_read(0x17) | cmos_read(0x18) << 8,
              cmos_read(0x30) | cmos_read(0x31) << 8, cmos_read(0x34) | cmos_read(0x35) << 8);

    /* Beyond the end of RAM, where no device answers (all ones; `--log unimp` names the
     * address). */
    rt_printf("info: beyond RAM %x\n", *(volatile uint32_t *)0xE0000000u);

    uint32_t rtc0 = rtc_hms();
    uint64_t t_load = pit_start(PIT_DIV(HZ));
    unsigned extra = 0;
    sti();
    for (unsigned i = 0; i < NHLT; i++) {
        __asm__ volatile("hlt" ::: "memory");
        if (ticks != i + 1)
            extra++;
    }
    cli();
    pic_mask(0);
    uint32_t rtc1 = rtc_hms();

    check("ticks after the HLTs", ticks, NHLT);
    check("HLTs that did not end with exactly one tick", extra, 0);
    check("device time passed at least 100 periods",
          last_tick_tsc - t_load >= (uint64_t)NHLT * PIT_DIV(HZ), 1);
    rt_printf("info: load %llu last tick %llu\n", (unsigned long long)t_load,
              (unsigned long long)last_tick_tsc);
    check_timing("tick 100: IRQ 0 handler", last_tick_tsc,
                 pit_deadline(t_load, (uint64_t)NHLT * PIT_DIV(HZ)));
    rt_printf("timing: rtc %02x:%02x:%02x -> %02x:%02x:%02x\n", rtc0 >> 16, rtc0 >> 8 & 0xFF,
              rtc0 & 0xFF, rtc1 >> 16, rtc1 >> 8 & 0xFF, rtc1 & 0xFF);
    return rt_finish("irq_hlt");
}
