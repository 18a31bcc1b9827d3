/* The assembled PC (src/machine/pc.c): the firmware data a kernel looks for, checked against
 * the MultiProcessor Specification 1.4 (4.1 floating pointer, 4.2 header, 4.3 entries) and the
 * ACPI specification (5.2.5 RSDP, 5.2.6 headers, 5.2.7 RSDT, 5.2.9 FADT, 5.2.12 MADT):
 * signatures, lengths, checksums, and that what they say is the machine (the processor's APIC
 * ID is the local APIC's ID register, the I/O APIC's ID is its register, COM1 is on pin 4, the
 * PM timer is where the FADT says); the MSRs and CPUID as a guest sees them (RDMSR/WRMSR, #GP
 * for unknown MSRs and reserved bits, a writable TSC); and interrupts through the wiring: an
 * ISA IRQ via the I/O APIC into the local APIC with its source, the 8259A pair via LINT0. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cpu/cpu.h"
#include "machine/machine.h"
#include "machine/pc.h"

#define MEM_MIB 4u
#define CODE    0x10000u
#define DATA    0x20000u

static uint16_t get16(const struct machine *m, uint32_t a)
{
    return (uint16_t)(m->ram[a] | m->ram[a + 1] << 8);
}

static uint32_t get32(const struct machine *m, uint32_t a)
{
    return get16(m, a) | (uint32_t)get16(m, a + 2) << 16;
}

static struct machine *booted(void)
{
    struct machine *m = machine_create(MEM_MIB, NULL, NULL);
    assert_non_null(m);
    m->ram[CODE] = 0xF4; /* hlt */
    machine_boot(m, CODE, 0, 0);
    return m;
}

/* The BDA and the MP tables, as xv6's mpinit finds and reads them. */
static void test_bda_and_mp(void **state)
{
    (void)state;
    struct machine *m = booted();
    assert_int_equal(get16(m, 0x40E), 0x9FC0);  /* EBDA segment */
    assert_int_equal(get16(m, 0x413), 639);     /* base memory KiB */
    assert_int_equal(get16(m, 0x400), 0x3F8);   /* COM1 */
    /* the floating pointer: 16-byte aligned in 0xF0000..0xFFFFF, found by a scan as xv6 does */
    uint32_t fps = 0;
    for (uint32_t a = 0xF0000; a < 0x100000; a += 16)
        if (!memcmp(m->ram + a, "_MP_", 4) && pc_checksum(m->ram + a, 16) == 0) {
            fps = a;
            break;
        }
    assert_int_equal(fps, PC_MP_FPS);
    assert_int_equal(m->ram[fps + 8], 1);       /* length: one 16-byte unit */
    assert_int_equal(m->ram[fps + 9], 4);       /* version 1.4 */
    assert_int_equal(m->ram[fps + 11], 0);      /* a configuration table is present */
    uint32_t t = get32(m, fps + 4);
    assert_memory_equal(m->ram + t, "PCMP", 4);
    uint16_t len = get16(m, t + 4);
    assert_int_equal(pc_checksum(m->ram + t, len), 0);
    assert_int_equal(m->ram[t + 6], 4);
    assert_int_equal(get32(m, t + 36), 0xFEE00000u);
    unsigned count = get16(m, t + 34), procs = 0, ioapics = 0, buses = 0, com1_pin = 99,
             irq0_pin = 99, lints = 0;
    uint32_t e = t + 44;
    for (unsigned k = 0; k < count; k++) {
        switch (m->ram[e]) {
        case 0: /* processor */
            procs++;
            assert_int_equal(m->ram[e + 1], lapic_read(&m->lapic, LAPIC_ID) >> 24);
            assert_int_equal(m->ram[e + 3], 3); /* enabled, bootstrap */
            e += 20;
            continue;
        case 1:
            buses++;
            assert_memory_equal(m->ram + e + 2, "ISA   ", 6);
            break;
        case 2:
            ioapics++;
            assert_int_equal(m->ram[e + 1], ioapic_read_reg(&m->ioapic, 0) >> 24);
            assert_int_equal(get32(m, e + 4), IOAPIC_BASE);
            break;
        case 3:
            assert_int_equal(m->ram[e + 6], ioapic_read_reg(&m->ioapic, 0) >> 24);
            if (m->ram[e + 1] == 0 && m->ram[e + 5] == 4)
                com1_pin = m->ram[e + 7];
            if (m->ram[e + 1] == 0 && m->ram[e + 5] == 0)
                irq0_pin = m->ram[e + 7];
            break;
        case 4:
            lints++;
            break;
        default:
            fail_msg("MP entry type %u", m->ram[e]);
        }
        e += 8;
    }
    assert_int_equal(e - t, len);
    assert_int_equal(procs, 1);
    assert_int_equal(buses, 1);
    assert_int_equal(ioapics, 1);
    assert_int_equal(lints, 2);
    assert_int_equal(com1_pin, 4);
    assert_int_equal(irq0_pin, 2);
    machine_destroy(m);
}

static uint32_t acpi_find(const struct machine *m, uint32_t rsdt, const char *sig)
{
    uint32_t n = (get32(m, rsdt + 4) - 36) / 4;
    for (uint32_t k = 0; k < n; k++) {
        uint32_t t = get32(m, rsdt + 36 + 4 * k);
        if (!memcmp(m->ram + t, sig, 4))
            return t;
    }
    return 0;
}

static void test_acpi(void **state)
{
    (void)state;
    struct machine *m = booted();
    uint32_t rsdp = 0;
    for (uint32_t a = 0xE0000; a < 0x100000; a += 16)
        if (!memcmp(m->ram + a, "RSD PTR ", 8)) {
            rsdp = a;
            break;
        }
    assert_int_equal(rsdp, PC_ACPI_RSDP);
    assert_int_equal(pc_checksum(m->ram + rsdp, 20), 0);
    assert_int_equal(m->ram[rsdp + 15], 0); /* ACPI 1.0: RSDT only */
    uint32_t rsdt = get32(m, rsdp + 16);
    assert_memory_equal(m->ram + rsdt, "RSDT", 4);
    assert_int_equal(pc_checksum(m->ram + rsdt, get32(m, rsdt + 4)), 0);
    static const char *const sigs[] = {"APIC", "FACP", "HPET"};
    for (unsigned k = 0; k < 3; k++) {
        uint32_t t = acpi_find(m, rsdt, sigs[k]);
        assert_true(t != 0);
        assert_int_equal(pc_checksum(m->ram + t, get32(m, t + 4)), 0);
    }
    /* FADT: the PM timer block answers at its port; DSDT and FACS are there */
    uint32_t f = acpi_find(m, rsdt, "FACP");
    assert_int_equal(get32(m, f + 4), 116);
    assert_int_equal(get32(m, f + 76), ACPIPM_TMR);
    assert_int_equal(m->ram[f + 91], 4);
    assert_int_equal(get16(m, f + 46), 9);
    uint32_t dsdt = get32(m, f + 40), facs = get32(m, f + 36);
    assert_memory_equal(m->ram + dsdt, "DSDT", 4);
    assert_int_equal(pc_checksum(m->ram + dsdt, get32(m, dsdt + 4)), 0);
    assert_memory_equal(m->ram + facs, "FACS", 4);
    assert_int_equal(facs % 64, 0);
    m->cpu.idle = 100000000; /* a second of device time */
    assert_int_equal(bus_in(&m->bus, (uint16_t)get32(m, f + 76), 4), 3579545u);
    /* MADT: local APIC address, one processor (ID = the register), the I/O APIC, IRQ 0 on
     * GSI 2 */
    uint32_t a = acpi_find(m, rsdt, "APIC"), end = a + get32(m, a + 4);
    assert_int_equal(get32(m, a + 36), LAPIC_BASE);
    unsigned procs = 0, ioapics = 0, irq0_gsi = 99;
    for (uint32_t e = a + 44; e < end; e += m->ram[e + 1]) {
        assert_true(m->ram[e + 1] >= 2);
        if (m->ram[e] == 0) {
            procs++;
            assert_int_equal(m->ram[e + 3], lapic_read(&m->lapic, LAPIC_ID) >> 24);
            assert_int_equal(get32(m, e + 4) & 1, 1);
        } else if (m->ram[e] == 1) {
            ioapics++;
            assert_int_equal(m->ram[e + 2], ioapic_read_reg(&m->ioapic, 0) >> 24);
            assert_int_equal(get32(m, e + 4), IOAPIC_BASE);
        } else if (m->ram[e] == 2 && m->ram[e + 3] == 0) {
            irq0_gsi = get32(m, e + 4);
        }
    }
    assert_int_equal(procs, 1);
    assert_int_equal(ioapics, 1);
    assert_int_equal(irq0_gsi, 2);
    /* HPET table: the base address */
    uint32_t h = acpi_find(m, rsdt, "HPET");
    assert_int_equal(get32(m, h + 44), HPET_BASE);
    assert_int_equal(get32(m, h + 36), (uint32_t)hpet_read(&m->hpet, HPET_CAP));
    machine_destroy(m);
}

/* Runs a program at CODE (flat protected mode, no IDT: a fault ends in a triple fault whose
 * first event is the fault). */
static enum run_result run_code(struct machine *m, const uint8_t *code, size_t n)
{
    memcpy(m->ram + CODE, code, n);
    machine_boot(m, CODE, 0, 0);
    return cpu_run(&m->cpu, 10000);
}

#define MOV_ECX(v) 0xB9, (v) & 0xFF, ((v) >> 8) & 0xFF, ((v) >> 16) & 0xFF, (v) >> 24
#define MOV_EAX(v) 0xB8, (v) & 0xFF, ((v) >> 8) & 0xFF, ((v) >> 16) & 0xFF, (v) >> 24
#define MOV_EDX(v) 0xBA, (v) & 0xFF, ((v) >> 8) & 0xFF, ((v) >> 16) & 0xFF, (v) >> 24
#define STORE_EAX(a) 0xA3, (a) & 0xFF, ((a) >> 8) & 0xFF, ((a) >> 16) & 0xFF, (a) >> 24
#define STORE_EDX(a) 0x89, 0x15, (a) & 0xFF, ((a) >> 8) & 0xFF, ((a) >> 16) & 0xFF, (a) >> 24
#define RDMSR 0x0F, 0x32
#define WRMSR 0x0F, 0x30
#define RDTSC 0x0F, 0x31
#define CPUID 0x0F, 0xA2
#define HLT   0xF4

static void test_msrs(void **state)
{
    (void)state;
    struct machine *m = booted();
    static const uint8_t prog[] = {
        MOV_ECX(0x1B), RDMSR, STORE_EAX(DATA), STORE_EDX(DATA + 4),
        MOV_ECX(0x277), RDMSR, STORE_EAX(DATA + 8), STORE_EDX(DATA + 12),
        MOV_ECX(0x1A0), RDMSR, STORE_EAX(DATA + 16),
        MOV_ECX(0x179), RDMSR, STORE_EAX(DATA + 20),
        /* the TSC written to 0x100000000 reads back from there on */
        MOV_ECX(0x10), MOV_EAX(0), MOV_EDX(1), WRMSR, RDTSC, STORE_EAX(DATA + 24),
        STORE_EDX(DATA + 28),
        MOV_ECX(0x277), MOV_EAX(0x00070106), MOV_EDX(0x00070406), WRMSR,
        MOV_EAX(1), CPUID, STORE_EDX(DATA + 32),
        HLT,
    };
    assert_int_equal(run_code(m, prog, sizeof prog), RUN_HALT);
    assert_int_equal(get32(m, DATA), 0xFEE00900u);
    assert_int_equal(get32(m, DATA + 4), 0);
    assert_int_equal(get32(m, DATA + 8), 0x00070406u);
    assert_int_equal(get32(m, DATA + 12), 0x00070406u);
    assert_int_equal(get32(m, DATA + 16), MSR_MISC_ENABLE_RESET);
    assert_int_equal(get32(m, DATA + 20), 0);
    assert_int_equal(get32(m, DATA + 28), 1);
    assert_int_equal(get32(m, DATA + 24), 1); /* one instruction after the WRMSR */
    assert_int_equal(m->cpu.msr_pat, 0x0007040600070106ull);
    uint32_t edx = get32(m, DATA + 32);
    assert_true(edx & 1u << 9);  /* APIC */
    assert_true(edx & 1u << 16); /* PAT */
    assert_true(edx & 1u << 14); /* MCA */

    /* #GP(0): an unknown MSR, a reserved PAT type, MCG_CAP written, an x2APIC enable */
    static const uint8_t bad_rd[] = { MOV_ECX(0xC0000081u), RDMSR, HLT }; /* STAR: no */
    static const uint8_t bad_pat[] = { MOV_ECX(0x277), MOV_EAX(0x02), MOV_EDX(0), WRMSR, HLT };
    static const uint8_t bad_mcg[] = { MOV_ECX(0x179), MOV_EAX(0), MOV_EDX(0), WRMSR, HLT };
    static const uint8_t bad_apic[] = { MOV_ECX(0x1B), MOV_EAX(0xFEE00C00u), MOV_EDX(0), WRMSR,
                                        HLT };
    static const uint8_t bad_misc[] = { MOV_ECX(0x1A0), MOV_EAX(0x2), MOV_EDX(0), WRMSR, HLT };
    /* EFER: LME (8), LMA (10), NXE (11: no NX), a high bit */
    static const uint8_t bad_lme[] = { MOV_ECX(0xC0000080u), MOV_EAX(0x101), MOV_EDX(0), WRMSR,
                                       HLT };
    static const uint8_t bad_lma[] = { MOV_ECX(0xC0000080u), MOV_EAX(0x400), MOV_EDX(0), WRMSR,
                                       HLT };
    static const uint8_t bad_nxe[] = { MOV_ECX(0xC0000080u), MOV_EAX(0x800), MOV_EDX(0), WRMSR,
                                       HLT };
    static const uint8_t bad_efer_hi[] = { MOV_ECX(0xC0000080u), MOV_EAX(0), MOV_EDX(1), WRMSR,
                                           HLT };
    const struct { const uint8_t *p; size_t n; } bad[] = {
        {bad_rd, sizeof bad_rd}, {bad_pat, sizeof bad_pat}, {bad_mcg, sizeof bad_mcg},
        {bad_apic, sizeof bad_apic}, {bad_misc, sizeof bad_misc}, {bad_lme, sizeof bad_lme},
        {bad_lma, sizeof bad_lma}, {bad_nxe, sizeof bad_nxe}, {bad_efer_hi, sizeof bad_efer_hi},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        assert_int_equal(run_code(m, bad[k].p, bad[k].n), RUN_SHUTDOWN);
        assert_int_equal(m->cpu.shutdown_events[0].vector, EXC_GP);
        assert_int_equal(m->cpu.shutdown_events[0].error, 0);
    }
    machine_destroy(m);
}

/* IA32_EFER without long mode or NX: 0 at reset, SCE reads back; CPUID's extended leaves say
 * no SYSCALL, NX or LM; leaf 1 says TSC-deadline, and the local APIC's deadline follows the
 * TSC; RDPMC at CPL 0 names a counter the cpu does not have: #GP(0). */
static void test_efer_rdpmc(void **state)
{
    (void)state;
    struct machine *m = booted();
    static const uint8_t prog[] = {
        MOV_ECX(0xC0000080u), RDMSR, STORE_EAX(DATA), STORE_EDX(DATA + 4),
        MOV_EAX(1), MOV_EDX(0), WRMSR, MOV_EAX(0), RDMSR, STORE_EAX(DATA + 8),
        STORE_EDX(DATA + 12),
        MOV_EAX(0x80000000u), CPUID, STORE_EAX(DATA + 16),
        MOV_EAX(0x80000001u), CPUID, STORE_EDX(DATA + 20),
        MOV_EAX(1), CPUID, 0x89, 0x0D, (DATA + 24) & 0xFF, ((DATA + 24) >> 8) & 0xFF,
        ((DATA + 24) >> 16) & 0xFF, (DATA + 24) >> 24, /* mov %ecx, DATA + 24 */
        HLT,
    };
    assert_int_equal(run_code(m, prog, sizeof prog), RUN_HALT);
    assert_int_equal(get32(m, DATA), 0);
    assert_int_equal(get32(m, DATA + 4), 0);
    assert_int_equal(get32(m, DATA + 8), 1);
    assert_int_equal(get32(m, DATA + 12), 0);
    assert_int_equal(get32(m, DATA + 16), 0x80000001u);
    assert_int_equal(get32(m, DATA + 20) & (1u << 11 | 1u << 20 | 1u << 29), 0);
    assert_true(get32(m, DATA + 24) & 1u << 24); /* TSC-deadline */
    /* ... whose deadline is in the cpu's TSC, offset by a TSC write */
    m->cpu.tsc_offset = 1000000;
    lapic_write(&m->lapic, LAPIC_LVT_TIMER, LVT_TSC_DEADLINE | 0x41);
    assert_int_equal(lapic_msr_write(&m->lapic, MSR_TSC_DEADLINE,
                                     cpu_time(&m->cpu) + 1000000 + 500), 1);
    assert_int_equal(timerq_deadline(&m->timers, m->lapic.timer), cpu_time(&m->cpu) + 500);

    static const uint8_t rdpmc[] = { MOV_ECX(0), 0x0F, 0x33, HLT };
    assert_int_equal(run_code(m, rdpmc, sizeof rdpmc), RUN_SHUTDOWN);
    assert_int_equal(m->cpu.shutdown_events[0].vector, EXC_GP);
    assert_int_equal(m->cpu.shutdown_events[0].error, 0);
    assert_int_equal(m->cpu.shutdown_events[0].detail.kind, FD_RULE);
    assert_int_equal(m->cpu.shutdown_events[0].detail.u.rule.reason, RR_RDPMC_COUNTER);
    machine_destroy(m);
}

/* An INIT IPI to itself would reset the cpu into real mode: the machine stops after the ICR
 * write with a report naming INIT and the reset vector; INIT to another APIC does nothing.
 * Port 0x92's fast reset (bit 0) is an INIT too. */
static void test_init_ipi(void **state)
{
    (void)state;
    struct machine *m = booted();
    static const uint8_t prog[] = {
        MOV_EAX(0x01000000u), STORE_EAX(0xFEE00310u), /* destination APIC 1: nobody */
        MOV_EAX(0x00004500u), STORE_EAX(0xFEE00300u), /* INIT, assert */
        MOV_EAX(0), STORE_EAX(0xFEE00310u),           /* destination APIC 0: this cpu */
        MOV_EAX(0x00004500u), STORE_EAX(0xFEE00300u),
        HLT,
    };
    assert_int_equal(run_code(m, prog, sizeof prog), RUN_UNSUPPORTED);
    assert_string_equal(m->cpu.unsupported.by, "INIT");
    assert_int_equal(m->cpu.unsupported.eip, CODE + sizeof prog - 1); /* after the write */
    assert_int_equal(m->cpu.unsupported.target_cs, 0xF000);
    assert_int_equal(m->cpu.unsupported.target_eip, 0xFFF0);
    /* a fast reset through port 0x92 is the same INIT */
    static const uint8_t fast[] = { 0xB0, 0x02, 0xE6, 0x92, 0xB0, 0x03, 0xE6, 0x92, HLT };
    assert_int_equal(run_code(m, fast, sizeof fast), RUN_UNSUPPORTED);
    assert_string_equal(m->cpu.unsupported.by, "INIT");
    assert_int_equal(m->cpu.unsupported.eip, CODE + sizeof fast - 1);
    assert_non_null(strstr(m->cpu.unsupported.why, "0x92"));
    machine_destroy(m);
}

/* COM1's IRQ 4 through the I/O APIC (as xv6 programs it) into the local APIC, named by source;
 * the 8259A pair through LINT0 when the I/O APIC entry is masked. */
static void test_interrupt_wiring(void **state)
{
    (void)state;
    struct machine *m = booted();
    struct irq_line com1 = machine_isa_irq(m, 4);
    ioapic_write_reg(&m->ioapic, 0x10 + 2 * 4, 0x24);  /* edge, vector 0x24, to APIC 0 */
    ioapic_write_reg(&m->ioapic, 0x11 + 2 * 4, 0);
    irq_set(&com1, true);
    assert_true(m->cpu.intr);
    int a = m->cpu.intc.ack(m->cpu.intc.ctx);
    assert_int_equal(a, INTC_SOURCE(0x24, ISRC_IOAPIC, 4));
    assert_false(m->cpu.intr);
    lapic_write(&m->lapic, LAPIC_EOI, 0);
    irq_set(&com1, false);
    /* IRQ 0 reaches pin 2 */
    ioapic_write_reg(&m->ioapic, 0x10 + 2 * 2, 0x30);
    irq_pulse((struct irq_line[]){ machine_isa_irq(m, 0) });
    a = m->cpu.intc.ack(m->cpu.intc.ctx);
    assert_int_equal(a, INTC_SOURCE(0x30, ISRC_IOAPIC, 2));
    lapic_write(&m->lapic, LAPIC_EOI, 0);
    /* masked at the I/O APIC, unmasked at the 8259A: the ExtINT path, the pair's vector */
    ioapic_write_reg(&m->ioapic, 0x10 + 2 * 4, IOREDTBL_MASKED | 0x24);
    bus_out(&m->bus, 0x21, 0xEF, 1); /* master IMR: IRQ 4 only */
    irq_set(&com1, true);
    assert_true(m->cpu.intr);
    a = m->cpu.intc.ack(m->cpu.intc.ctx);
    assert_int_equal(a, 0x08 + 4); /* the BIOS's master base 0x08, no source named */
    machine_destroy(m);
}

/* HPET legacy replacement takes ISA IRQ 0 from the 8254 (I/O APIC pin 2) and drives IRQ 8;
 * the ACPI SCI arrives on the FADT's IRQ 9 (pin 9, level, as the MADT's override says). */
static void test_legacy_and_sci_wiring(void **state)
{
    (void)state;
    struct machine *m = booted();
    ioapic_write_reg(&m->ioapic, 0x10 + 2 * 2, 0x30);  /* pin 2: edge, vector 0x30 */
    ioapic_write_reg(&m->ioapic, 0x10 + 2 * 8, 0x38);  /* pin 8: edge, vector 0x38 */
    ioapic_write_reg(&m->ioapic, 0x10 + 2 * 9, IOREDTBL_LEVEL | 0x39);
    irq_pulse(&m->pit.out0);
    assert_int_equal(m->cpu.intc.ack(m->cpu.intc.ctx), INTC_SOURCE(0x30, ISRC_IOAPIC, 2));
    lapic_write(&m->lapic, LAPIC_EOI, 0);
    hpet_write(&m->hpet, HPET_CONF, HPET_LEG_RT);
    irq_pulse(&m->pit.out0); /* disconnected */
    assert_false(m->cpu.intr);
    irq_pulse(&m->hpet.legacy[0]);
    assert_int_equal(m->cpu.intc.ack(m->cpu.intc.ctx), INTC_SOURCE(0x30, ISRC_IOAPIC, 2));
    lapic_write(&m->lapic, LAPIC_EOI, 0);
    irq_pulse(&m->hpet.legacy[1]);
    assert_int_equal(m->cpu.intc.ack(m->cpu.intc.ctx), INTC_SOURCE(0x38, ISRC_IOAPIC, 8));
    lapic_write(&m->lapic, LAPIC_EOI, 0);
    hpet_write(&m->hpet, HPET_CONF, 0);
    irq_pulse(&m->pit.out0); /* connected again */
    assert_int_equal(m->cpu.intc.ack(m->cpu.intc.ctx), INTC_SOURCE(0x30, ISRC_IOAPIC, 2));
    lapic_write(&m->lapic, LAPIC_EOI, 0);
    irq_set(&m->acpipm.sci, true);
    assert_int_equal(m->cpu.intc.ack(m->cpu.intc.ctx), INTC_SOURCE(0x39, ISRC_IOAPIC, 9));
    machine_destroy(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bda_and_mp),
        cmocka_unit_test(test_acpi),
        cmocka_unit_test(test_msrs),
        cmocka_unit_test(test_efer_rdpmc),
        cmocka_unit_test(test_init_ipi),
        cmocka_unit_test(test_legacy_and_sci_wiring),
        cmocka_unit_test(test_interrupt_wiring),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
