/* Machine assembly (see machine.h). */
#include "frontend/machine.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static uint64_t machine_now(void *ctx)
{
    return cpu_time(&((struct machine *)ctx)->cpu);
}

/* Device time of one character on COM1: 10 bits at 115200 / divisor baud. */
static uint64_t char_time(const struct machine *m)
{
    uint64_t divisor = m->uart.divisor ? m->uart.divisor : 1;
    uint64_t t = m->clock.units_per_sec * 10 * divisor / 115200;
    return t ? t : 1;
}

/* Moves one byte of input to COM1 if its receiver is empty. */
static void poll_input(struct machine *m, uint64_t now)
{
    if (m->input_fd < 0 || now < m->next_input)
        return;
    m->next_input = now + char_time(m);
    if (m->uart.rx_count)
        return;
    uint8_t byte;
    ssize_t n;
    do
        n = read(m->input_fd, &byte, 1);
    while (n < 0 && errno == EINTR);
    if (n == 1)
        uart16550_receive(&m->uart, byte);
    else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
        m->input_fd = -1; /* end of input */
}

static uint64_t host_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* --realtime: sleeps until the wall clock has caught up with device time `now`. */
static void pace(struct machine *m, uint64_t now)
{
    uint64_t ups = m->clock.units_per_sec;
    uint64_t due = m->wall_start_ns + (now / ups) * 1000000000u + (now % ups) * 1000000000u / ups;
    uint64_t t = host_ns();
    if (due > t) {
        uint64_t d = due - t;
        struct timespec ts = {(time_t)(d / 1000000000u), (long)(d % 1000000000u)};
        nanosleep(&ts, NULL);
    }
}

void machine_set_realtime(struct machine *m, bool on)
{
    m->realtime = on;
    m->wall_start_ns = host_ns() - cpu_time(&m->cpu) * 1000000000u / m->clock.units_per_sec;
}

/* The cpu reached the next device event: let the devices catch up, then schedule the next. */
static void machine_event(void *ctx)
{
    struct machine *m = ctx;
    uint64_t now = cpu_time(&m->cpu);
    if (m->realtime)
        pace(m, now);
    pit_update(&m->pit);
    poll_input(m, now);
    /* While the cpu is halted, only events that can interrupt it matter: a masked timer or a
     * receiver whose interrupt is off cannot end the halt, and leaving them out lets a halt
     * that nothing can end stop the run instead of spinning through time forever. (MCR.OUT2
     * does not count: uart16550.c raises IRQ 4 without it, as QEMU's UART does.) */
    bool halted = m->cpu.halted;
    bool timer_wakes = !(m->pic.chip[0].imr & 0x01);
    bool input_wakes = !(m->pic.chip[0].imr & (1u << UART_COM1_IRQ)) &&
                       (m->uart.ier & UART_IER_RDI);
    uint64_t next = halted && !timer_wakes ? UINT64_MAX : pit_next_event(&m->pit);
    if (m->input_fd >= 0 && (!halted || input_wakes) && m->next_input < next)
        next = m->next_input;
    m->cpu.next_event = next;
}

void machine_set_input(struct machine *m, int fd)
{
    m->input_fd = fd;
    m->next_input = 0;
    m->cpu.next_event = 0; /* start polling at the first instruction boundary */
}

static void uart_irq(void *ctx, bool level)
{
    struct machine *m = ctx;
    pic_set_irq(&m->pic, UART_COM1_IRQ, level);
}

void machine_set_ips(struct machine *m, uint64_t ips)
{
    m->clock.units_per_sec = ips ? ips : MACHINE_DEFAULT_IPS;
}

struct machine *machine_create(uint32_t mem_mib, machine_console_fn console, void *console_ctx)
{
    if (mem_mib < MACHINE_MEM_MIN_MIB || mem_mib > MACHINE_MEM_MAX_MIB)
        return NULL;
    struct machine *m = calloc(1, sizeof(*m));
    if (!m)
        return NULL;
    m->ram_size = mem_mib << 20;
    m->input_fd = -1;
    m->ram = calloc(m->ram_size, 1);
    if (!m->ram) {
        free(m);
        return NULL;
    }
    bus_init(&m->bus);
    uart16550_init(&m->uart, console, console_ctx);
    if (cpu_init(&m->cpu, m->ram, m->ram_size, &m->bus) < 0) {
        free(m->ram);
        free(m);
        return NULL;
    }
    m->clock = (struct devclock){.now = machine_now, .ctx = m, .deadline = &m->cpu.next_event,
                                 .units_per_sec = MACHINE_DEFAULT_IPS};
    pic_init(&m->pic, &m->cpu.intr);
    pit_init(&m->pit, &m->clock, &m->pic);
    cmos_init(&m->cmos, &m->clock, m->ram_size);
    uart16550_set_irq(&m->uart, uart_irq, m);
    m->cpu.intr_ack = pic_ack;
    m->cpu.intr_ctx = &m->pic;
    m->cpu.on_event = machine_event;
    m->cpu.event_ctx = m;
    if (uart16550_attach(&m->uart, &m->bus, UART_COM1_BASE) < 0
        || debugexit_attach(&m->debugexit, &m->bus, DEBUGEXIT_IOBASE, DEBUGEXIT_IOSIZE) < 0
        || pic_attach(&m->pic, &m->bus) < 0 || pit_attach(&m->pit, &m->bus) < 0
        || cmos_attach(&m->cmos, &m->bus) < 0) {
        machine_destroy(m);
        return NULL;
    }
    return m;
}

void machine_destroy(struct machine *m)
{
    if (!m)
        return;
    cpu_free(&m->cpu);
    free(m->ram);
    free(m);
}

int machine_load(struct machine *m, const struct boot_params *p, char *err, size_t errlen)
{
    if (loader_load(m->ram, m->ram_size, p, &m->boot, err, errlen) < 0)
        return -1;
    cpu_reset_protected_flat(&m->cpu, m->boot.entry);
    m->cpu.r[EAX] = m->boot.eax;
    m->cpu.r[EBX] = m->boot.ebx;
    cpu_flush_decoded(&m->cpu);
    return 0;
}
