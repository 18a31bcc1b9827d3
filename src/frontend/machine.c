/* Machine assembly (see machine.h). */
#include "frontend/machine.h"

#include <stdlib.h>

struct machine *machine_create(uint32_t mem_mib, machine_console_fn console, void *console_ctx)
{
    if (mem_mib < MACHINE_MEM_MIN_MIB || mem_mib > MACHINE_MEM_MAX_MIB)
        return NULL;
    struct machine *m = calloc(1, sizeof(*m));
    if (!m)
        return NULL;
    m->ram_size = mem_mib << 20;
    m->ram = calloc(m->ram_size, 1);
    if (!m->ram) {
        free(m);
        return NULL;
    }
    bus_init(&m->bus);
    uart16550_init(&m->uart, console, console_ctx);
    if (uart16550_attach(&m->uart, &m->bus, UART_COM1_BASE) < 0
        || debugexit_attach(&m->debugexit, &m->bus, DEBUGEXIT_IOBASE, DEBUGEXIT_IOSIZE) < 0
        || cpu_init(&m->cpu, m->ram, m->ram_size, &m->bus) < 0) {
        free(m->ram);
        free(m);
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
