/* The I/O APIC (see ioapic.h). */
#include "devices/ioapic.h"

#include <string.h>

#include "devices/bus.h"

#define REDIR_LO_BITS 0x0001AFFFu /* writable: vector, mode, dest mode, polarity, trigger, mask */

void ioapic_init(struct ioapic *io, ioapic_deliver_fn deliver, void *ctx)
{
    memset(io, 0, sizeof *io);
    for (unsigned n = 0; n < IOAPIC_PINS; n++)
        io->s.redir[n] = IOREDTBL_MASKED;
    io->deliver = deliver;
    io->deliver_ctx = ctx;
}

static bool asserted(const struct ioapic *io, unsigned pin)
{
    bool high = io->s.level >> pin & 1;
    return (io->s.redir[pin] & IOREDTBL_LOW) ? !high : high;
}

/* NMI mode: always edge-triggered. */
static bool is_nmi(uint64_t e)
{
    return ((e >> 8) & 7) == 4;
}

static void send(struct ioapic *io, unsigned pin)
{
    uint64_t e = io->s.redir[pin];
    unsigned mode = (unsigned)(e >> 8) & 7;
    bool level = e & IOREDTBL_LEVEL;
    if (mode == 4) {
        if (io->nmi)
            io->nmi(io->deliver_ctx, (uint8_t)(e >> 56), e & IOREDTBL_LOGICAL, pin);
        return;
    }
    if (mode > 1)
        return; /* SMI, INIT, ExtINT: not modelled */
    if (level)
        io->s.redir[pin] |= IOREDTBL_REMOTEIRR;
    if (io->deliver)
        io->deliver(io->deliver_ctx, (uint8_t)(e >> 56), e & IOREDTBL_LOGICAL, (uint8_t)e, level,
                    pin);
}

/* A level-triggered input sends while asserted, unmasked and not waiting for its EOI. */
static void check_level(struct ioapic *io, unsigned pin)
{
    uint64_t e = io->s.redir[pin];
    if ((e & IOREDTBL_LEVEL) && !is_nmi(e) && !(e & (IOREDTBL_MASKED | IOREDTBL_REMOTEIRR))
        && asserted(io, pin))
        send(io, pin);
}

void ioapic_set_irq(struct ioapic *io, unsigned pin, bool level)
{
    if (pin >= IOAPIC_PINS)
        return;
    bool was = asserted(io, pin);
    io->s.level = (io->s.level & ~(1u << pin)) | ((uint32_t)level << pin);
    uint64_t e = io->s.redir[pin];
    if ((e & IOREDTBL_LEVEL) && !is_nmi(e))
        check_level(io, pin);
    else if (!was && asserted(io, pin) && !(e & IOREDTBL_MASKED))
        send(io, pin);
}

bool ioapic_nmi_routed(const struct ioapic *io)
{
    for (unsigned n = 0; n < IOAPIC_PINS; n++)
        if (is_nmi(io->s.redir[n]) && !(io->s.redir[n] & IOREDTBL_MASKED))
            return true;
    return false;
}

void ioapic_eoi(void *ctx, uint8_t vector)
{
    struct ioapic *io = ctx;
    for (unsigned n = 0; n < IOAPIC_PINS; n++) {
        if ((uint8_t)io->s.redir[n] == vector && (io->s.redir[n] & IOREDTBL_LEVEL)) {
            io->s.redir[n] &= ~(uint64_t)IOREDTBL_REMOTEIRR;
            check_level(io, n);
        }
    }
}

static void input_set(void *ctx, int pin, bool level)
{
    ioapic_set_irq(ctx, (unsigned)pin, level);
}

static bool input_unmasked(void *ctx, int pin)
{
    const struct ioapic *io = ctx;
    return (unsigned)pin < IOAPIC_PINS && !(io->s.redir[pin] & IOREDTBL_MASKED);
}

struct irq_line ioapic_input(struct ioapic *io, unsigned pin)
{
    return (struct irq_line){ input_set, input_unmasked, io, (int)pin };
}

uint32_t ioapic_read_reg(struct ioapic *io, uint32_t index)
{
    index &= 0xFF;
    if (index == 0x00 || index == 0x02)
        return io->s.id;
    if (index == 0x01)
        return IOAPIC_VERSION;
    if (index >= 0x10 && index < 0x10 + 2 * IOAPIC_PINS) {
        uint64_t e = io->s.redir[(index - 0x10) / 2];
        return (index & 1) ? (uint32_t)(e >> 32) : (uint32_t)e;
    }
    return 0;
}

void ioapic_write_reg(struct ioapic *io, uint32_t index, uint32_t v)
{
    index &= 0xFF;
    if (index == 0x00) {
        io->s.id = v & 0x0F000000u;
        return;
    }
    if (index < 0x10 || index >= 0x10 + 2 * IOAPIC_PINS)
        return; /* version, arbitration: read-only */
    unsigned pin = (index - 0x10) / 2;
    uint64_t e = io->s.redir[pin];
    if (index & 1) {
        e = (e & 0xFFFFFFFFu) | (uint64_t)(v & 0xFF000000u) << 32;
    } else {
        e = (e & ~(uint64_t)REDIR_LO_BITS) | (v & REDIR_LO_BITS);
        if (!(e & IOREDTBL_LEVEL))
            e &= ~(uint64_t)IOREDTBL_REMOTEIRR;
    }
    io->s.redir[pin] = e;
    check_level(io, pin); /* unmasking an asserted level input sends it */
}

static uint32_t mmio_read(void *dev, uint32_t off, unsigned size)
{
    struct ioapic *io = dev;
    uint32_t v;
    if (off < 0x10)
        v = off < 4 ? io->s.sel : 0;
    else
        v = off < 0x14 ? ioapic_read_reg(io, io->s.sel) : 0;
    return v >> (8 * (off & 3)) & (size == 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1);
}

static void mmio_write(void *dev, uint32_t off, uint32_t value, unsigned size)
{
    struct ioapic *io = dev;
    (void)size;
    if (off == 0x00)
        io->s.sel = value & 0xFF;
    else if (off == 0x10 && size == 4)
        ioapic_write_reg(io, io->s.sel, value);
}

int ioapic_attach(struct ioapic *io, struct bus *b)
{
    return bus_add_mmio(b, IOAPIC_BASE, IOAPIC_SIZE, mmio_read, mmio_write, io);
}
