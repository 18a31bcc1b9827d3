/* pit8254.c: the 8254 as kernels program it (Linux/xv6: 0x34 or 0x36, divisor 11932 for
 * 100 Hz), IRQ 0 edges at exact device times on a fake clock and a timer queue (whose
 * deadline is always the PIT's next edge), one-shot mode 0, the latch command and read-back,
 * the bookkeeping of edges nobody serviced, and whether the next edge could end a halt. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "devices/bus.h"
#include "devices/pic8259.h"
#include "devices/pit8254.h"
#include "devices/timerq.h"

#define PIT_CH0  0x40
#define PIT_CH2  0x42
#define PIT_MODE 0x43
#define LATCH_100HZ 11932 /* (1193182 + 50) / 100, as Linux and xv6 compute it */

struct fixture {
    struct bus bus;
    struct pic_pair pic;
    bool intr;
    struct pit8254 pit;
    struct devclock clk;
    struct timerq tq;  /* the machine's timer queue */
    uint64_t t;        /* the fake device time */
    uint64_t deadline; /* the "cpu's" next_event: kicked by the queue, set by run_until */
};

static void intr_line(void *ctx, int irq, bool level)
{
    (void)irq;
    ((struct fixture *)ctx)->intr = level;
}

static uint64_t fake_now(void *ctx)
{
    return ((struct fixture *)ctx)->t;
}

static void out8(struct fixture *fx, uint16_t port, uint8_t v)
{
    bus_out(&fx->bus, port, v, 1);
}

static uint8_t in8(struct fixture *fx, uint16_t port)
{
    return (uint8_t)bus_in(&fx->bus, port, 1);
}

static struct fixture *make(uint64_t units_per_sec)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    if (!fx)
        return NULL;
    bus_init(&fx->bus);
    pic_init(&fx->pic, (struct irq_line){ intr_line, NULL, fx, 0 });
    fx->deadline = UINT64_MAX;
    fx->clk = (struct devclock){ .now = fake_now, .ctx = fx, .units_per_sec = units_per_sec };
    timerq_init(&fx->tq, &fx->clk, &fx->deadline);
    if (pit_init(&fx->pit, &fx->clk, &fx->tq, pic_input(&fx->pic, 0)) < 0
        || pic_attach(&fx->pic, &fx->bus) < 0 || pit_attach(&fx->pit, &fx->bus) < 0) {
        free(fx);
        return NULL;
    }
    /* The PIC as Linux leaves it, with only IRQ 0 open. */
    out8(fx, 0x20, 0x11);
    out8(fx, 0x21, 0x20);
    out8(fx, 0x21, 0x04);
    out8(fx, 0x21, 0x01);
    out8(fx, 0x21, 0xFE);
    return fx;
}

/* The machine's default clock: 100 M units (instructions) per second. */
static int setup_default(void **state)
{
    *state = make(100000000);
    return *state ? 0 : -1;
}

/* An exact clock: two units per PIT tick, so tick k is at time 2k. */
static int setup_exact(void **state)
{
    *state = make(2ull * PIT_HZ);
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    free(*state);
    return 0;
}

/* What the machine's event loop does: at each device event up to time `until`, fire the due
 * timers (the PIT's) and take the earliest deadline as the next event; an IRQ 0 that reaches
 * the cpu is acknowledged and ended at once. Records the times of the deliveries; returns how
 * many there were. The queue's deadline is always the PIT's own next edge. */
static unsigned run_until(struct fixture *fx, uint64_t until, uint64_t *times, unsigned max)
{
    unsigned n = 0;
    for (;;) {
        assert_int_equal(timerq_deadline(&fx->tq, fx->pit.timer), pit_next_event(&fx->pit));
        uint64_t next = timerq_next(&fx->tq);
        if (fx->deadline < next)
            next = fx->deadline; /* a kick: re-evaluate at once */
        if (next > until)
            break;
        if (next > fx->t)
            fx->t = next;
        timerq_run(&fx->tq, fx->t);
        fx->deadline = timerq_next(&fx->tq);
        if (fx->intr) {
            assert_int_equal(pic_ack(&fx->pic), 0x20);
            out8(fx, 0x20, 0x20);
            if (n < max)
                times[n] = fx->t;
            n++;
        }
    }
    fx->t = until;
    return n;
}

static void program(struct fixture *fx, uint8_t control, uint16_t count)
{
    out8(fx, PIT_MODE, control);
    out8(fx, PIT_CH0, (uint8_t)count);
    out8(fx, PIT_CH0, (uint8_t)(count >> 8));
}

static void time_conversion_round_trips(void **state)
{
    struct fixture *fx = *state;
    for (uint64_t k = 1; k < 5000000; k += 997) {
        uint64_t t = pit_time_of_tick(&fx->clk, k);
        assert_int_equal(pit_ticks(&fx->clk, t), k);
        assert_int_equal(pit_ticks(&fx->clk, t - 1), k - 1);
    }
    /* One second of guest time is PIT_HZ ticks. */
    assert_int_equal(pit_ticks(&fx->clk, fx->clk.units_per_sec), PIT_HZ);
}

/* Linux (arch/x86/kernel/i8253.c, setup_pit_timer) and xv6 (timer.c): mode 2, lobyte then
 * hibyte of LATCH. */
static void linux_100hz_mode2(void **state)
{
    struct fixture *fx = *state;
    fx->t = 0;
    program(fx, 0x34, LATCH_100HZ);
    assert_int_equal(fx->deadline, 0); /* loading the count kicks the machine's clock */
    uint64_t times[4];
    assert_int_equal(run_until(fx, 3000046, times, 4), 3);
    /* Tick k * 11932 falls at ceil(k * 11932 * 1e8 / 1193182). */
    assert_int_equal(times[0], 1000016);
    assert_int_equal(times[1], 2000031);
    assert_int_equal(times[2], 3000046);
    assert_int_equal(pit_next_event(&fx->pit), pit_time_of_tick(&fx->clk, 4 * LATCH_100HZ));
    /* Ten periods take a tenth of a guest second, to within one tick. */
    assert_int_equal(run_until(fx, 10000151, times, 4), 7);
    assert_int_equal(times[3], pit_time_of_tick(&fx->clk, 7 * LATCH_100HZ));
}

static void linux_100hz_mode3(void **state)
{
    struct fixture *fx = *state;
    program(fx, 0x36, LATCH_100HZ);
    uint64_t times[2];
    assert_int_equal(run_until(fx, 2000031, times, 2), 2);
    assert_int_equal(times[0], 1000016);
    assert_int_equal(times[1], 2000031);
    /* OUT is high in the first half of the period, low in the second (read-back status). */
    fx->t = pit_time_of_tick(&fx->clk, 2 * LATCH_100HZ + LATCH_100HZ / 2 - 1);
    out8(fx, PIT_MODE, 0xE2);
    assert_int_equal(in8(fx, PIT_CH0), 0x80 | 0x30 | (3 << 1));
    fx->t = pit_time_of_tick(&fx->clk, 2 * LATCH_100HZ + LATCH_100HZ / 2);
    out8(fx, PIT_MODE, 0xE2);
    assert_int_equal(in8(fx, PIT_CH0), 0x30 | (3 << 1));
}

static void edges_at_exact_times(void **state)
{
    struct fixture *fx = *state;
    fx->t = 1; /* tick 0 */
    program(fx, 0x34, 100);
    uint64_t times[3];
    assert_int_equal(run_until(fx, 600, times, 3), 3);
    assert_int_equal(times[0], 200);
    assert_int_equal(times[1], 400);
    assert_int_equal(times[2], 600);
    /* Reprogrammed at tick 301: the period restarts there. */
    fx->t = 603;
    program(fx, 0x34, 50);
    assert_int_equal(run_until(fx, 801, times, 3), 1);
    assert_int_equal(times[0], 702);
    /* Nothing is early: at time 801 (tick 400) the next edge (tick 401) has not come. */
    assert_int_equal(pit_next_event(&fx->pit), 802);
    assert_int_equal(run_until(fx, 802, times, 3), 1);
    assert_int_equal(times[0], 802);
}

static void mode0_one_shot(void **state)
{
    struct fixture *fx = *state;
    program(fx, 0x30, 1000);
    uint64_t times[2];
    assert_int_equal(run_until(fx, 4000, times, 2), 1);
    assert_int_equal(times[0], 2000);
    assert_int_equal(pit_next_event(&fx->pit), UINT64_MAX);
    /* Writing a new count arms it again, counting from the write. */
    fx->t = 5000;
    out8(fx, PIT_CH0, 10);
    out8(fx, PIT_CH0, 0);
    assert_int_equal(run_until(fx, 100000, times, 2), 1);
    assert_int_equal(times[0], 5020);
    /* A control word alone disarms the counter: no edge until a count is written. */
    out8(fx, PIT_MODE, 0x34);
    assert_int_equal(pit_next_event(&fx->pit), UINT64_MAX);
}

static void latch_command(void **state)
{
    struct fixture *fx = *state;
    program(fx, 0x34, LATCH_100HZ);
    fx->t = 2 * 100; /* 100 ticks later */
    out8(fx, PIT_MODE, 0x00); /* counter latch, counter 0 */
    fx->t += 2 * 500; /* the latched value does not move */
    uint16_t v = in8(fx, PIT_CH0);
    v |= (uint16_t)(in8(fx, PIT_CH0) << 8);
    assert_int_equal(v, LATCH_100HZ - 100);
    /* After both bytes the counter is followed live again. */
    v = in8(fx, PIT_CH0);
    v |= (uint16_t)(in8(fx, PIT_CH0) << 8);
    assert_int_equal(v, LATCH_100HZ - 600);
    /* A second latch command before the first is read is ignored. */
    out8(fx, PIT_MODE, 0x00);
    fx->t += 2 * 10;
    out8(fx, PIT_MODE, 0x00);
    v = in8(fx, PIT_CH0);
    v |= (uint16_t)(in8(fx, PIT_CH0) << 8);
    assert_int_equal(v, LATCH_100HZ - 600);
    /* Mode 2 wraps to the reload value each period. */
    fx->t = 2 * (3 * LATCH_100HZ + 7);
    out8(fx, PIT_MODE, 0x00);
    v = in8(fx, PIT_CH0);
    v |= (uint16_t)(in8(fx, PIT_CH0) << 8);
    assert_int_equal(v, LATCH_100HZ - 7);
}

static void read_back_command(void **state)
{
    struct fixture *fx = *state;
    out8(fx, PIT_MODE, 0x34);
    out8(fx, PIT_MODE, 0xE2); /* read-back: status only, counter 0 */
    assert_int_equal(in8(fx, PIT_CH0), 0x80 | 0x40 | 0x34); /* null count: no count yet */
    out8(fx, PIT_CH0, (uint8_t)LATCH_100HZ);
    out8(fx, PIT_CH0, (uint8_t)(LATCH_100HZ >> 8));
    fx->t = 2 * 40;
    out8(fx, PIT_MODE, 0xC2); /* count and status of counter 0 */
    fx->t += 2 * 3;
    assert_int_equal(in8(fx, PIT_CH0), 0x80 | 0x34); /* status first */
    uint16_t v = in8(fx, PIT_CH0);
    v |= (uint16_t)(in8(fx, PIT_CH0) << 8);
    assert_int_equal(v, LATCH_100HZ - 40);
    /* Counter 2, the speaker's (Linux's beep: 0xB6 = counter 2, lobyte/hibyte, mode 3). */
    out8(fx, PIT_MODE, 0xB6);
    out8(fx, PIT_CH2, 0x34);
    out8(fx, PIT_CH2, 0x12);
    out8(fx, PIT_MODE, 0xC8); /* read-back: count and status of counter 2 */
    assert_int_equal(in8(fx, PIT_CH2), 0x80 | 0x36);
    assert_int_equal(in8(fx, PIT_CH2), 0x34);
    assert_int_equal(in8(fx, PIT_CH2), 0x12);
    /* The control word port reads as nothing. */
    assert_int_equal(in8(fx, PIT_MODE), 0xFF);
}

static void byte_access_modes(void **state)
{
    struct fixture *fx = *state;
    out8(fx, PIT_MODE, 0x14); /* counter 0, low byte only, mode 2 */
    out8(fx, PIT_CH0, 200);
    uint64_t times[2];
    assert_int_equal(run_until(fx, 400, times, 2), 1);
    assert_int_equal(times[0], 400);
    assert_int_equal(in8(fx, PIT_CH0), 200); /* just reloaded */
    out8(fx, PIT_MODE, 0x24); /* high byte only: count 0x0100 */
    out8(fx, PIT_CH0, 0x01);
    fx->t += 2 * 16;
    assert_int_equal(in8(fx, PIT_CH0), 0x00); /* high byte of 0x00F0 */
    /* A control word resets the low/high flip-flop. */
    out8(fx, PIT_MODE, 0x34);
    out8(fx, PIT_CH0, 0xAA);
    out8(fx, PIT_MODE, 0x34);
    out8(fx, PIT_CH0, 0x10);
    out8(fx, PIT_CH0, 0x00);
    assert_int_equal(pit_next_event(&fx->pit), fx->t + 2 * 16);
}

static void unserviced_edges_are_one_request(void **state)
{
    struct fixture *fx = *state;
    program(fx, 0x34, 100);
    /* Ten periods pass before the machine looks (a long stretch without an event). */
    fx->t = 2 * 1000 + 1;
    pit_update(&fx->pit);
    assert_true(fx->intr);
    assert_int_equal(pic_ack(&fx->pic), 0x20);
    out8(fx, 0x20, 0x20);
    pit_update(&fx->pit);
    assert_false(fx->intr); /* no backlog */
    assert_int_equal(pit_next_event(&fx->pit), 2 * 1100);
    /* Counter 2 never interrupts. */
    out8(fx, PIT_MODE, 0xB4);
    out8(fx, PIT_CH2, 2);
    out8(fx, PIT_CH2, 0);
    fx->t = 2 * 1099;
    pit_update(&fx->pit);
    assert_false(fx->intr);
}

/* Counter 0's next edge can end a halt exactly when IRQ 0 is unmasked at the PIC. */
static void can_wake_follows_the_mask(void **state)
{
    struct fixture *fx = *state;
    program(fx, 0x34, 100);
    assert_true(pit_can_wake(&fx->pit)); /* the fixture's PIC has only IRQ 0 open */
    out8(fx, 0x21, 0xFF);
    assert_false(pit_can_wake(&fx->pit));
    assert_int_equal(timerq_next_wake(&fx->tq), TIMER_NEVER);
    assert_int_equal(timerq_next(&fx->tq), pit_next_event(&fx->pit));
    out8(fx, 0x21, 0xFE);
    assert_true(pit_can_wake(&fx->pit));
    assert_int_equal(timerq_next_wake(&fx->tq), pit_next_event(&fx->pit));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(time_conversion_round_trips, setup_default, teardown),
        cmocka_unit_test_setup_teardown(linux_100hz_mode2, setup_default, teardown),
        cmocka_unit_test_setup_teardown(linux_100hz_mode3, setup_default, teardown),
        cmocka_unit_test_setup_teardown(edges_at_exact_times, setup_exact, teardown),
        cmocka_unit_test_setup_teardown(mode0_one_shot, setup_exact, teardown),
        cmocka_unit_test_setup_teardown(latch_command, setup_exact, teardown),
        cmocka_unit_test_setup_teardown(read_back_command, setup_exact, teardown),
        cmocka_unit_test_setup_teardown(byte_access_modes, setup_exact, teardown),
        cmocka_unit_test_setup_teardown(unserviced_edges_are_one_request, setup_exact, teardown),
        cmocka_unit_test_setup_teardown(can_wake_follows_the_mask, setup_exact, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
