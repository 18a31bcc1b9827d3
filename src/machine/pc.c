/* The standard-PC devices and firmware data (see pc.h). */
#include "machine/pc.h"

#include <string.h>

#include "machine/machine.h"

/* ---- wiring ---- */

/* The local APIC's output: the cpu's INTR input. */
static void lapic_out(void *cpu, int irq, bool level)
{
    (void)irq;
    cpu_set_intr(cpu, level);
}

static void lapic_nmi(void *cpu, unsigned from)
{
    cpu_nmi(cpu, ISRC_NMI, from);
}

static void lapic_init_signal(void *cpu)
{
    cpu_signal_init(cpu, "the local APIC sent INIT to this cpu");
}

static uint64_t cpu_tsc(void *cpu)
{
    const struct cpu *c = cpu;
    return cpu_time(c) + c->tsc_offset;
}

static void fast_reset(void *cpu)
{
    cpu_signal_init(cpu, "a write of 1 to bit 0 of port 0x92 (fast reset)");
}

/* The 8254's OUT0 reaches ISA IRQ 0 unless the HPET's legacy replacement has taken it. */
static void pit_gate(void *ctx, int irq, bool level)
{
    struct machine *m = ctx;
    (void)irq;
    if (!hpet_legacy(&m->hpet))
        irq_set((struct irq_line[]){ machine_isa_irq(m, 0) }, level);
}

static bool pit_gate_unmasked(void *ctx, int irq)
{
    struct machine *m = ctx;
    (void)irq;
    return !hpet_legacy(&m->hpet) && irq_unmasked((struct irq_line[]){ machine_isa_irq(m, 0) });
}

/* An I/O APIC message reaches the one local APIC if it is addressed to it. */
static void pc_deliver(void *ctx, uint8_t dest, bool logical, uint8_t vector, bool level,
                       unsigned pin)
{
    struct machine *m = ctx;
    if (lapic_match(&m->lapic, dest, logical))
        lapic_accept(&m->lapic, vector, level, ISRC_IOAPIC, (uint8_t)pin);
}

/* An I/O APIC NMI message reaches the cpu if it is addressed to the one local APIC. */
static void pc_nmi(void *ctx, uint8_t dest, bool logical, unsigned pin)
{
    struct machine *m = ctx;
    if (lapic_match(&m->lapic, dest, logical))
        cpu_nmi(&m->cpu, ISRC_NMI, NMI_FROM_IOAPIC + pin);
}

/* Can a device event still send an NMI: an unmasked I/O APIC entry in NMI mode, or LINT0 (the
 * 8259A pair's INTR) in NMI mode? (LINT1 has nothing behind it on this machine.) */
static bool pc_nmi_route(void *ctx)
{
    struct machine *m = ctx;
    return ioapic_nmi_routed(&m->ioapic) || lapic_lint_nmi(&m->lapic, 0);
}

int pc_attach(struct machine *m)
{
    if (lapic_init(&m->lapic, &m->clock, &m->timers,
                   (struct irq_line){ lapic_out, NULL, &m->cpu, 0 }) < 0
        || hpet_init(&m->hpet, &m->clock, &m->timers) < 0)
        return -1;
    ioapic_init(&m->ioapic, pc_deliver, m);
    m->ioapic.nmi = pc_nmi;
    m->ioapic.s.id = PC_IOAPIC_ID << 24;
    m->lapic.extint_ack = pic_ack;
    m->lapic.extint_ctx = &m->pic;
    m->lapic.eoi_broadcast = ioapic_eoi;
    m->lapic.eoi_ctx = &m->ioapic;
    m->lapic.nmi = lapic_nmi;
    m->lapic.init = lapic_init_signal;
    m->lapic.tsc = cpu_tsc;
    m->lapic.cpu_ctx = &m->cpu;
    lapic_firmware(&m->lapic);
    /* The 8259A pair's INTR now goes through LINT0; the cpu acknowledges at the local APIC. */
    m->pic.intr = lapic_lint(&m->lapic, 0);
    m->cpu.intc = (struct intc){ lapic_ack, &m->lapic, pc_nmi_route, m };
    m->cpu.msr_dev = (struct msr_dev){ lapic_msr_read, lapic_msr_write, &m->lapic };
    for (unsigned n = 0; n < MACHINE_ISA_IRQS; n++)
        if (n != 2 && irq_fanout_add(&m->isa_irq[n], ioapic_input(&m->ioapic, pc_isa_pin(n))) < 0)
            return -1;
    for (unsigned p = 0; p < HPET_LINES; p++)
        m->hpet.line[p] = ioapic_input(&m->ioapic, p);
    m->hpet.legacy[0] = machine_isa_irq(m, 0);
    m->hpet.legacy[1] = machine_isa_irq(m, 8);
    m->pit.out0 = (struct irq_line){ pit_gate, pit_gate_unmasked, m, 0 };
    acpipm_init(&m->acpipm, &m->clock);
    if (acpipm_wire_sci(&m->acpipm, &m->timers, machine_isa_irq(m, ACPIPM_SCI_IRQ)) < 0)
        return -1;
    fwcfg_init(&m->fwcfg, m->ram_size);
    crtc_init(&m->crtc);
    port92_init(&m->port92);
    m->port92.reset = fast_reset;
    m->port92.reset_ctx = &m->cpu;
    if (lapic_attach(&m->lapic, &m->bus) < 0 || ioapic_attach(&m->ioapic, &m->bus) < 0
        || hpet_attach(&m->hpet, &m->bus) < 0 || acpipm_attach(&m->acpipm, &m->bus) < 0
        || fwcfg_attach(&m->fwcfg, &m->bus) < 0 || crtc_attach(&m->crtc, &m->bus) < 0
        || port92_attach(&m->port92, &m->bus) < 0)
        return -1;
    return 0;
}

/* ---- firmware data ---- */

uint8_t pc_checksum(const uint8_t *p, uint32_t len)
{
    uint8_t s = 0;
    while (len--)
        s = (uint8_t)(s + *p++);
    return s;
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)v);
    put16(p + 2, (uint16_t)(v >> 16));
}

/* Makes the byte sum of [p, p+len) zero through the byte at p + at. */
static void fix_checksum(uint8_t *p, uint32_t len, uint32_t at)
{
    p[at] = 0;
    p[at] = (uint8_t)(0x100 - pc_checksum(p, len));
}

/* MP configuration table entries (MP spec 1.4, 4.3). */
static uint8_t *mp_ioint(uint8_t *e, uint8_t type, uint8_t irq, uint8_t pin)
{
    e[0] = 3;        /* I/O interrupt assignment */
    e[1] = type;     /* 0 INT, 3 ExtINT */
    put16(e + 2, 0); /* polarity and trigger: as the bus (ISA: active high, edge) */
    e[4] = 0;        /* source bus: ISA */
    e[5] = irq;
    e[6] = PC_IOAPIC_ID;
    e[7] = pin;
    return e + 8;
}

static uint32_t mp_tables(uint8_t *ram)
{
    uint8_t *t = ram + PC_MP_TABLE, *e = t + 44;
    uint16_t count = 0;
    /* processor: APIC ID 0, version, enabled + bootstrap, signature, features */
    e[0] = 0;
    e[1] = 0;
    e[2] = (uint8_t)LAPIC_VERSION;
    e[3] = 0x03;
    put32(e + 4, 0x00000600);
    put32(e + 8, 0x0001EB38); /* CPUID.1:EDX as the cpu reports it, APIC included */
    e += 20, count++;
    /* bus 0: ISA */
    e[0] = 1;
    e[1] = 0;
    memcpy(e + 2, "ISA   ", 6);
    e += 8, count++;
    /* the I/O APIC */
    e[0] = 2;
    e[1] = PC_IOAPIC_ID;
    e[2] = (uint8_t)IOAPIC_VERSION;
    e[3] = 1; /* enabled */
    put32(e + 4, IOAPIC_BASE);
    e += 8, count++;
    /* the 8259A pair on pin 0 (ExtINT), every ISA IRQ but the cascade on its pin */
    e = mp_ioint(e, 3, 0, 0), count++;
    for (unsigned irq = 0; irq < 16; irq++)
        if (irq != 2)
            e = mp_ioint(e, 0, (uint8_t)irq, (uint8_t)pc_isa_pin(irq)), count++;
    /* local interrupts: ExtINT on LINT0, NMI on LINT1 of every APIC */
    for (unsigned lint = 0; lint < 2; lint++) {
        e[0] = 4;
        e[1] = lint ? 1 : 3;
        put16(e + 2, 0);
        e[4] = 0;
        e[5] = 0;
        e[6] = 0xFF;
        e[7] = (uint8_t)lint;
        e += 8, count++;
    }
    uint32_t len = (uint32_t)(e - t);
    memcpy(t, "PCMP", 4);
    put16(t + 4, (uint16_t)len);
    t[6] = 4; /* spec 1.4 */
    memcpy(t + 8, "RINGSIDE", 8);
    memcpy(t + 16, "STANDARD PC ", 12);
    put16(t + 34, count);
    put32(t + 36, LAPIC_BASE);
    fix_checksum(t, len, 7);

    uint8_t *f = ram + PC_MP_FPS;
    memcpy(f, "_MP_", 4);
    put32(f + 4, PC_MP_TABLE);
    f[8] = 1;  /* length in 16-byte units */
    f[9] = 4;  /* spec 1.4 */
    fix_checksum(f, 16, 10);
    return len;
}

/* An ACPI table header (ACPI 5.2.6); the checksum is fixed when the table is complete. */
static void acpi_header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev)
{
    memcpy(t, sig, 4);
    put32(t + 4, len);
    t[8] = rev;
    memcpy(t + 10, "RINGSD", 6);
    memcpy(t + 16, "RINGSIDE", 8);
    put32(t + 24, 1);
    memcpy(t + 28, "RSDE", 4);
    put32(t + 32, 1);
}

static void acpi_tables(uint8_t *ram)
{
    uint32_t at = PC_ACPI_BASE;
    /* FACS (64 bytes, 64-byte aligned, no checksum) */
    at = (at + 63) & ~63u;
    uint32_t facs = at;
    memcpy(ram + facs, "FACS", 4);
    put32(ram + facs + 4, 64);
    at += 64;
    /* DSDT: the header alone (no AML: nothing to enumerate) */
    uint32_t dsdt = at;
    acpi_header(ram + dsdt, "DSDT", 36, 1);
    fix_checksum(ram + dsdt, 36, 9);
    at += 36;
    /* FADT, ACPI 1.0 layout (116 bytes) */
    uint32_t fadt = at;
    uint8_t *f = ram + fadt;
    acpi_header(f, "FACP", 116, 1);
    put32(f + 36, facs);
    put32(f + 40, dsdt);
    put16(f + 46, ACPIPM_SCI_IRQ);
    put32(f + 56, ACPIPM_EVT);  /* PM1a_EVT_BLK */
    put32(f + 64, ACPIPM_CNT);  /* PM1a_CNT_BLK */
    put32(f + 76, ACPIPM_TMR);  /* PM_TMR_BLK */
    f[88] = 4;                  /* PM1_EVT_LEN */
    f[89] = 2;                  /* PM1_CNT_LEN */
    f[91] = 4;                  /* PM_TMR_LEN */
    put16(f + 96, 101);         /* C2 not supported */
    put16(f + 98, 1001);        /* C3 not supported */
    put32(f + 112, 1u << 0 | 1u << 4); /* WBINVD, PWR_BUTTON (none); TMR_VAL_EXT 0: 24 bits */
    fix_checksum(f, 116, 9);
    at += 116;
    /* MADT */
    uint32_t madt = at;
    uint8_t *m = ram + madt, *e = m + 44;
    put32(m + 36, LAPIC_BASE);
    put32(m + 40, 1); /* PCAT_COMPAT: there are 8259As too */
    e[0] = 0, e[1] = 8, e[2] = 0, e[3] = 0, put32(e + 4, 1); /* processor 0, APIC ID 0, enabled */
    e += 8;
    e[0] = 1, e[1] = 12, e[2] = PC_IOAPIC_ID, e[3] = 0; /* I/O APIC, GSI base 0 */
    put32(e + 4, IOAPIC_BASE);
    put32(e + 8, 0);
    e += 12;
    /* interrupt source overrides: IRQ 0 on GSI 2; the SCI level-triggered, active high */
    e[0] = 2, e[1] = 10, e[2] = 0, e[3] = 0, put32(e + 4, 2), put16(e + 8, 0);
    e += 10;
    e[0] = 2, e[1] = 10, e[2] = 0, e[3] = ACPIPM_SCI_IRQ, put32(e + 4, ACPIPM_SCI_IRQ);
    put16(e + 8, 0x000D);
    e += 10;
    /* local APIC NMI: LINT1 of every processor */
    e[0] = 4, e[1] = 6, e[2] = 0xFF, put16(e + 3, 0), e[5] = 1;
    e += 6;
    uint32_t mlen = (uint32_t)(e - m);
    acpi_header(m, "APIC", mlen, 1);
    fix_checksum(m, mlen, 9);
    at += mlen;
    /* HPET description table */
    uint32_t hpet = at;
    uint8_t *h = ram + hpet;
    acpi_header(h, "HPET", 56, 1);
    put32(h + 36, HPET_CAP_LOW);
    h[40] = 0;   /* memory space */
    h[41] = 64;  /* register width */
    put32(h + 44, HPET_BASE);
    h[52] = 0;   /* HPET number */
    put16(h + 53, 128);  /* minimum periodic tick */
    fix_checksum(h, 56, 9);
    at += 56;
    /* RSDT */
    uint32_t rsdt = at;
    acpi_header(ram + rsdt, "RSDT", 36 + 3 * 4, 1);
    put32(ram + rsdt + 36, madt);
    put32(ram + rsdt + 40, fadt);
    put32(ram + rsdt + 44, hpet);
    fix_checksum(ram + rsdt, 48, 9);
    /* RSDP (ACPI 1.0: 20 bytes) */
    uint8_t *r = ram + PC_ACPI_RSDP;
    memcpy(r, "RSD PTR ", 8);
    memcpy(r + 9, "RINGSD", 6);
    r[15] = 0;
    put32(r + 16, rsdt);
    fix_checksum(r, 20, 8);
}

void pc_firmware(struct machine *m)
{
    if (m->ram_size < PC_FIRMWARE_END)
        return;
    uint8_t *ram = m->ram;
    memset(ram + PC_MP_FPS, 0, PC_FIRMWARE_END - PC_MP_FPS);
    memset(ram + PC_EBDA, 0, 0x400);
    put16(ram + 0x400, UART_COM1_BASE);   /* COM1's I/O base */
    put16(ram + 0x40E, PC_EBDA >> 4);     /* the EBDA's segment */
    put16(ram + 0x413, PC_EBDA >> 10);    /* base memory in KiB: 639 */
    ram[PC_EBDA] = 1;                     /* the EBDA's size in KiB */
    mp_tables(ram);
    acpi_tables(ram);
}
