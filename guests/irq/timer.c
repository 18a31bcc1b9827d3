/* irq_timer: the PIT's IRQ 0 preempts a ring 3 loop into a ring 0 handler and back.
 *
 * The kernel programs the PIT at 100 Hz (mode 2, divisor 11932, as Linux and xv6 do), unmasks
 * IRQ 0 and enters a ring 3 loop with IF = 1. The loop counts in EAX and polls a flag; the IRQ 0
 * handler records, for each of TICKS ticks, the frame the cpu pushed (CS, EIP, EFLAGS: the ring
 * and place it interrupted) and the device time of its first instruction, then raises the flag
 * after the last one, and the loop returns to the kernel with int $0x80.
 *
 * On Ringside each handler starts exactly at its deadline: the device time of PIT tick
 * k * 11932 after the load (timing: lines). The ctest irq_timer.intlog also checks the
 * `--log int` line of the first delivery (info: tick 1 deadline) and that two runs log the same.
 */
#include "irq.h"

#define HZ 100
#define TICKS 3

struct tick {
    uint64_t tsc;
    uint32_t cs, eip, eflags, count;
};

static struct tick ticks[TICKS];
static const char *const names[TICKS] = {
    "tick 1: IRQ 0 handler", "tick 2: IRQ 0 handler", "tick 3: IRQ 0 handler",
};
static volatile unsigned nticks;
volatile uint32_t user_done; /* read by the ring 3 loop */
static uint8_t user_stack[4096] __attribute__((aligned(16)));

extern char user_loop[], user_loop_end[];
__asm__(".pushsection .text\n"
        ".globl user_loop\n"
        "user_loop:\n"
        "        xorl %eax, %eax\n"
        "1:      incl %eax\n"
        "        cmpl $0, user_done\n"
        "        je 1b\n"
        "        int $0x80\n"
        ".globl user_loop_end\n"
        "user_loop_end:\n"
        ".popsection\n");

static void timer(struct irq_frame *f)
{
    if (nticks >= TICKS)
        return;
    ticks[nticks] = (struct tick){ frame_tsc(f), f->cs, f->eip, f->eflags, f->eax };
    if (++nticks == TICKS)
        user_done = 1;
}

int kmain(const struct multiboot_info *mbi)
{
    (void)mbi;
    kern_init();
    irq_set_handler(0, timer);
    pic_unmask(0);
    rt_printf("irq_timer: PIT counter 0 mode 2, divisor %u (%u Hz), IRQ 0 -> vector 0x%x\n",
              PIT_DIV(HZ), HZ, IRQ_BASE);
    uint64_t t_load = pit_start(PIT_DIV(HZ));
    uint32_t count = enter_user((void (*)(void))user_loop,
                                (uint32_t)(user_stack + sizeof user_stack), FL_IF | 2);
    pic_mask(0);

    check("ticks seen", nticks, TICKS);
    for (unsigned k = 0; k < TICKS; k++) {
        const struct tick *t = &ticks[k];
        rt_printf("tick %u: interrupted cpl %u, IF %u, in the user loop %u\n", k + 1,
                  t->cs & 3, (t->eflags & FL_IF) != 0,
                  t->eip >= (uint32_t)user_loop && t->eip < (uint32_t)user_loop_end);
        check_quiet("interrupted cpl", t->cs & 3, 3);
        check_quiet("interrupted in the user loop",
                    t->eip >= (uint32_t)user_loop && t->eip < (uint32_t)user_loop_end, 1);
        if (k > 0)
            check_quiet("the user loop ran between ticks", t->count > ticks[k - 1].count, 1);
        uint64_t deadline = pit_deadline(t_load, (uint64_t)(k + 1) * PIT_DIV(HZ));
        rt_printf("info: tick %u deadline %llu handler %llu user count %u\n", k + 1,
                  (unsigned long long)deadline, (unsigned long long)t->tsc, t->count);
        check_timing(names[k], t->tsc, deadline);
    }
    check("the user loop counted on after the last tick", count >= ticks[TICKS - 1].count, 1);
    return rt_finish("irq_timer");
}
