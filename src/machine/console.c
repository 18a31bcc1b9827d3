/* Console input queue, its pacing, and the taps (see console.h). */
#include "machine/console.h"

#include "machine/machine.h"

/* Device time of one character on COM1: 10 bits at 115200 / divisor baud. */
static uint64_t char_time(const struct machine *m)
{
    uint64_t divisor = m->uart.divisor ? m->uart.divisor : 1;
    uint64_t t = m->clock.units_per_sec * 10 * divisor / 115200;
    return t ? t : 1;
}

static void tap(struct machine *m, uint8_t byte, bool input, uint64_t time)
{
    struct console_byte b = { time, cpu_icount(&m->cpu), byte, input };
    for (unsigned k = 0; k < MACHINE_MAX_TAPS; k++)
        if (m->taps[k].fn)
            m->taps[k].fn(m->taps[k].ctx, &b);
}

/* COM1 transmitted a byte (the UART's output callback). */
static void console_output(void *ctx, uint8_t byte)
{
    struct machine *m = ctx;
    if (m->console)
        m->console(m->console_ctx, byte);
    tap(m, byte, false, cpu_time(&m->cpu));
}

/* The pacing timer: one look per character time; a byte moves only into an empty receiver. */
static void input_fire(void *ctx, uint64_t now)
{
    struct machine *m = ctx;
    struct machine_input *in = &m->input;
    timerq_arm(&m->timers, in->timer, now + char_time(m));
    if (m->uart.rx_count)
        return;
    if (!in->count && !in->ended && in->refill)
        in->refill(in->refill_ctx, m);
    if (in->count) {
        uint8_t byte = in->buf[in->head];
        in->head = (uint16_t)((in->head + 1) % MACHINE_INPUT_QUEUE);
        in->count--;
        uart16550_receive(&m->uart, byte);
        tap(m, byte, true, now);
    } else if (in->ended) {
        in->open = false; /* the end of input */
        timerq_arm(&m->timers, in->timer, TIMER_NEVER);
    }
}

/* While the cpu is halted: would the byte this timer may deliver wake it? */
static bool input_can_wake(void *ctx)
{
    struct machine *m = ctx;
    return uart16550_receive_can_wake(&m->uart);
}

int machine_console_init(struct machine *m)
{
    m->input = (struct machine_input){ .timer = -1 };
    m->input.timer = timerq_add(&m->timers, input_fire, input_can_wake, m);
    m->uart.output = console_output;
    m->uart.output_ctx = m;
    return m->input.timer < 0 ? -1 : 0;
}

void machine_input_open(struct machine *m, machine_input_fn refill, void *ctx)
{
    struct machine_input *in = &m->input;
    in->refill = refill;
    in->refill_ctx = ctx;
    in->open = true;
    in->ended = false;
    /* Look at once: the first byte may go at the next instruction boundary. */
    timerq_arm(&m->timers, in->timer, 0);
}

bool machine_input_push(struct machine *m, uint8_t byte)
{
    struct machine_input *in = &m->input;
    if (in->count >= MACHINE_INPUT_QUEUE)
        return false;
    in->buf[(in->head + in->count) % MACHINE_INPUT_QUEUE] = byte;
    in->count++;
    return true;
}

void machine_input_end(struct machine *m)
{
    m->input.ended = true;
}

size_t machine_input_queued(const struct machine *m)
{
    return m->input.count;
}

int machine_add_tap(struct machine *m, console_tap_fn fn, void *ctx)
{
    for (unsigned k = 0; fn && k < MACHINE_MAX_TAPS; k++) {
        if (!m->taps[k].fn) {
            m->taps[k] = (struct console_tap){ fn, ctx };
            return 0;
        }
    }
    return -1;
}

int machine_remove_tap(struct machine *m, console_tap_fn fn, void *ctx)
{
    for (unsigned k = 0; k < MACHINE_MAX_TAPS; k++) {
        if (m->taps[k].fn == fn && m->taps[k].ctx == ctx && fn) {
            m->taps[k] = (struct console_tap){ NULL, NULL };
            return 0;
        }
    }
    return -1;
}
