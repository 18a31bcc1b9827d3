/* Machine assembly: RAM, bus, devices and their wiring, and the device events (see machine.h). */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, madvise(MADV_HUGEPAGE) */
#include "machine/machine.h"

#include "machine/pc.h"
#include "machine/snapshot.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

/* Guest RAM: zeroed anonymous memory, aligned to 2 MiB and offered to the kernel for transparent
 * huge pages (a guest touching all its RAM then takes far fewer host TLB misses; with THP off
 * this is plain zeroed memory). RAM_ALIGN bytes more are mapped and the unaligned ends unmapped. */
#define RAM_ALIGN ((size_t)2 << 20)

static uint8_t *ram_alloc(size_t size)
{
    size_t span = size + RAM_ALIGN;
    uint8_t *p = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    uintptr_t a = ((uintptr_t)p + RAM_ALIGN - 1) & ~(uintptr_t)(RAM_ALIGN - 1);
    size_t head = a - (uintptr_t)p, tail = span - head - size;
    if (head)
        munmap(p, head);
    if (tail)
        munmap((uint8_t *)a + size, tail);
    (void)madvise((void *)a, size, MADV_HUGEPAGE); /* advice only: no THP is no failure */
    return (uint8_t *)a;
}

static void ram_free(uint8_t *ram, size_t size)
{
    if (ram)
        munmap(ram, size);
}

static uint64_t machine_now(void *ctx)
{
    return cpu_time(&((struct machine *)ctx)->cpu);
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

/* The cpu reached its next device event (or was asked to look again after a deadline changed):
 * the due timers fire, then the earliest deadline becomes the next event. While the cpu is
 * halted only events that can interrupt it count: a masked timer, or input whose interrupt is
 * off, cannot end the halt, and leaving them out lets a halt that nothing can end stop the run
 * instead of spinning through time forever. */
static void machine_event(void *ctx)
{
    struct machine *m = ctx;
    uint64_t now = cpu_time(&m->cpu);
    if (m->realtime)
        pace(m, now);
    timerq_run(&m->timers, now);
    m->cpu.next_event = m->cpu.halted ? timerq_next_wake(&m->timers) : timerq_next(&m->timers);
}

/* The 8259A pair's INTR output. */
static void cpu_intr_line(void *cpu, int irq, bool level)
{
    (void)irq;
    cpu_set_intr(cpu, level);
}

void machine_set_ips(struct machine *m, uint64_t ips)
{
    m->clock.units_per_sec = ips ? ips : MACHINE_DEFAULT_IPS;
}

struct irq_line machine_isa_irq(struct machine *m, unsigned irq)
{
    return irq_fanout_line(&m->isa_irq[irq % MACHINE_ISA_IRQS]);
}

/* The master's vectors (its ICW2 base) are IRQ 0..7, the slave's IRQ 8..15. */
int machine_isa_irq_of(const struct machine *m, unsigned vector)
{
    return pic_irq_of(m->pic.chip[0].base, m->pic.chip[1].base, vector);
}

/* The interrupt wiring: ISA IRQ n to the pair's input n (IRQ 2 is the pair's own cascade and
 * stays unconnected), the pair's INTR to the cpu. */
static void wire_interrupts(struct machine *m)
{
    pic_init(&m->pic, (struct irq_line){ cpu_intr_line, NULL, &m->cpu, 0 });
    for (unsigned n = 0; n < MACHINE_ISA_IRQS; n++) {
        irq_fanout_init(&m->isa_irq[n]);
        if (n != 2)
            irq_fanout_add(&m->isa_irq[n], pic_input(&m->pic, n));
    }
    m->cpu.intc = (struct intc){ .ack = pic_ack, .ctx = &m->pic };
}

struct machine *machine_create(uint32_t mem_mib, machine_console_fn console, void *console_ctx)
{
    if (mem_mib < MACHINE_MEM_MIN_MIB || mem_mib > MACHINE_MEM_MAX_MIB)
        return NULL;
    struct machine *m = calloc(1, sizeof(*m));
    if (!m)
        return NULL;
    m->ram_size = mem_mib << 20;
    m->ram = ram_alloc(m->ram_size);
    if (!m->ram) {
        free(m);
        return NULL;
    }
    bus_init(&m->bus);
    if (cpu_init(&m->cpu, m->ram, m->ram_size, &m->bus) < 0) {
        ram_free(m->ram, m->ram_size);
        free(m);
        return NULL;
    }
    m->clock = (struct devclock){ .now = machine_now, .ctx = m,
                                  .units_per_sec = MACHINE_DEFAULT_IPS };
    timerq_init(&m->timers, &m->clock, &m->cpu.next_event);
    m->cpu.on_event = machine_event;
    m->cpu.event_ctx = m;
    m->cpu.on_page_write = snapshot_page_write;
    m->cpu.page_write_ctx = m;
    wire_interrupts(m);
    m->spaces.syscall_vector = -1;

    /* Timers in this order: at equal deadlines the PIT fires before the console input. */
    uart16550_init(&m->uart, NULL, NULL);
    uart16550_set_irq(&m->uart, machine_isa_irq(m, UART_COM1_IRQ));
    m->console = console;
    m->console_ctx = console_ctx;
    cmos_init(&m->cmos, &m->clock, m->ram_size);
    if (pit_init(&m->pit, &m->clock, &m->timers, machine_isa_irq(m, 0)) < 0
        || machine_console_init(m) < 0
        || uart16550_attach(&m->uart, &m->bus, UART_COM1_BASE) < 0
        || debugexit_attach(&m->debugexit, &m->bus, DEBUGEXIT_IOBASE, DEBUGEXIT_IOSIZE) < 0
        || pic_attach(&m->pic, &m->bus) < 0 || pit_attach(&m->pit, &m->bus) < 0
        || cmos_attach(&m->cmos, &m->bus) < 0 || pc_attach(m) < 0
        || names_port_attach(&m->names, &m->bus, machine_names_said, m) < 0) {
        machine_destroy(m);
        return NULL;
    }
    return m;
}

void machine_destroy(struct machine *m)
{
    if (!m)
        return;
    snapshot_free_all(m);
    cpu_free(&m->cpu);
    ram_free(m->ram, m->ram_size);
    free(m);
}

void machine_boot(struct machine *m, uint32_t entry, uint32_t eax, uint32_t ebx)
{
    pc_firmware(m);
    cpu_reset_protected_flat(&m->cpu, entry);
    m->cpu.r[EAX] = eax;
    m->cpu.r[EBX] = ebx;
    cpu_flush_decoded(&m->cpu);
}
