/* Snapshots of a whole machine (src/machine/snapshot.c) with the demo kernel and its programs:
 * a run continued from a snapshot and a run restored to it give the same events (every field),
 * the same console bytes, the same registers and the same RAM; restoring into a second machine
 * does too; a snapshot costs only the pages written after it; several snapshots of one machine
 * stay valid whichever is restored or freed; refusals change nothing. The standard-PC devices
 * (local APIC, I/O APIC, HPET, ACPI PM, fw_cfg, CRTC, port 0x92) and the cpu's MSRs and TSC
 * offset come back as they were, their timers' deadlines included.
 *
 * argv[1] is the build's guest directory (kernel.elf, the programs in user/).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cpu/inspect.h"
#include "frontend/loader.h"
#include "machine/machine.h"
#include "machine/snapshot.h"

#define MEM_MIB 64u
#define WARMUP  400000u   /* instructions before the snapshot: booted, first program started */
#define STRETCH 10000000u /* instructions compared after it: syscalls both ways, IRQ 0, a #PF */

static const char *guest_dir;

/* What a run shows: its events and console bytes. */
struct record {
    struct trace_event *ev;
    size_t nev, cap;
    char *out;
    size_t nout, outcap;
};

static void sink(void *ctx, const struct trace_event *e)
{
    struct record *r = ctx;
    if (r->nev == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 1024;
        r->ev = realloc(r->ev, r->cap * sizeof *r->ev);
        assert_non_null(r->ev);
    }
    r->ev[r->nev++] = *e;
}

static void console(void *ctx, uint8_t byte)
{
    struct record **slot = ctx; /* the machine's current record */
    struct record *r = *slot;
    if (!r)
        return;
    if (r->nout == r->outcap) {
        r->outcap = r->outcap ? 2 * r->outcap : 4096;
        r->out = realloc(r->out, r->outcap);
        assert_non_null(r->out);
    }
    r->out[r->nout++] = (char)byte;
}

static void record_free(struct record *r)
{
    free(r->ev);
    free(r->out);
    memset(r, 0, sizeof *r);
}

struct rig {
    struct machine *m;
    struct record *cur; /* where the console and the sink write */
};

static void rig_sink(void *ctx, const struct trace_event *e)
{
    struct rig *g = ctx;
    if (g->cur)
        sink(g->cur, e);
}

static void rig_open(struct rig *g, bool load)
{
    g->cur = NULL;
    g->m = machine_create(MEM_MIB, console, &g->cur);
    assert_non_null(g->m);
    assert_int_equal(cpu_add_sink(&g->m->cpu, rig_sink, g), 0);
    if (!load)
        return;
    static const char *const mods[] = {
        "user/hello.elf", "user/syscalls.elf", "user/compute.elf", "user/spin.elf",
        "user/nullderef.elf",
    };
    struct boot_params bp = {
        .image = "kernel.elf",
        .append = "init=hello,syscalls,compute,spin,nullderef cpulimit=30",
        .modules = mods, .nmodules = 5, .dir = guest_dir,
    };
    char err[256];
    if (machine_load(g->m, &bp, err, sizeof err) < 0)
        fail_msg("loading the demo from %s: %s", guest_dir, err);
}

/* Runs n units of device time into r. */
static enum run_result run_into(struct rig *g, struct record *r, uint64_t n)
{
    g->cur = r;
    enum run_result rr = cpu_run(&g->m->cpu, n);
    g->cur = NULL;
    return rr;
}

static void assert_state_equal(const struct trace_state *a, const struct trace_state *b)
{
    assert_memory_equal(a->r, b->r, sizeof a->r);
    assert_int_equal(a->eip, b->eip);
    assert_int_equal(a->eflags, b->eflags);
    assert_int_equal(a->cr3, b->cr3);
    assert_int_equal(a->cs, b->cs);
    assert_int_equal(a->ss, b->ss);
    assert_int_equal(a->cpl, b->cpl);
}

static void assert_detail_equal(const struct fault_detail *a, const struct fault_detail *b)
{
    assert_int_equal(a->kind, b->kind);
    if (a->kind == FD_PAGE) {
        assert_int_equal(a->u.page.lin, b->u.page.lin);
        assert_int_equal(a->u.page.pde, b->u.page.pde);
        assert_int_equal(a->u.page.pte, b->u.page.pte);
        assert_int_equal(a->u.page.pa, b->u.page.pa);
        assert_int_equal(a->u.page.result, b->u.page.result);
        assert_int_equal(a->u.page.level, b->u.page.level);
    } else if (a->kind == FD_SELECTOR) {
        assert_int_equal(a->u.sel.sel, b->u.sel.sel);
        assert_int_equal(a->u.sel.reason, b->u.sel.reason);
        assert_int_equal(a->u.sel.use, b->u.sel.use);
        assert_int_equal(a->u.sel.table, b->u.sel.table);
        assert_int_equal(a->u.sel.limit, b->u.sel.limit);
        assert_int_equal(a->u.sel.offset, b->u.sel.offset);
    }
}

static void assert_records_equal(const struct record *a, const struct record *b)
{
    assert_int_equal(a->nev, b->nev);
    for (size_t k = 0; k < a->nev; k++) {
        const struct trace_event *x = &a->ev[k], *y = &b->ev[k];
        assert_int_equal(x->icount, y->icount);
        assert_int_equal(x->kind, y->kind);
        assert_int_equal(x->vector, y->vector);
        assert_int_equal(x->has_error, y->has_error);
        assert_int_equal(x->error, y->error);
        assert_int_equal(x->cr2, y->cr2);
        assert_state_equal(&x->before, &y->before);
        assert_state_equal(&x->after, &y->after);
        assert_detail_equal(&x->detail, &y->detail);
        assert_int_equal(x->source, y->source);
        assert_int_equal(x->source_num, y->source_num);
    }
    assert_int_equal(a->nout, b->nout);
    assert_memory_equal(a->out, b->out, a->nout);
}

/* Every register, segment and table register, and all of RAM. */
static void assert_machines_equal(const struct machine *a, const struct machine *b)
{
    for (int r = 0; r < REG_COUNT; r++)
        assert_int_equal(cpu_get_reg(&a->cpu, r), cpu_get_reg(&b->cpu, r));
    for (int s = 0; s < SREG_COUNT; s++) {
        struct seg_value x, y;
        assert_int_equal(cpu_get_seg(&a->cpu, s, &x), INSP_OK);
        assert_int_equal(cpu_get_seg(&b->cpu, s, &y), INSP_OK);
        assert_int_equal(x.sel, y.sel);
        assert_int_equal(x.base, y.base);
        assert_int_equal(x.limit, y.limit);
        assert_int_equal(x.attr, y.attr);
    }
    assert_int_equal(cpu_stat_insns(&a->cpu), cpu_stat_insns(&b->cpu));
    assert_int_equal(cpu_time(&a->cpu), cpu_time(&b->cpu));
    assert_int_equal(a->ram_size, b->ram_size);
    assert_true(memcmp(a->ram, b->ram, a->ram_size) == 0);
}

/* A stretch shows what the demo does: system calls both ways, timer interrupts, output. */
static void assert_eventful(const struct record *r)
{
    unsigned kinds[TR_KINDS] = {0};
    for (size_t k = 0; k < r->nev; k++)
        kinds[r->ev[k].kind]++;
    assert_true(kinds[TR_SOFTINT] > 10);
    assert_true(kinds[TR_SYSENTER] > 10);
    assert_true(kinds[TR_INTERRUPT] > 2);
    assert_true(kinds[TR_IRET] > 10);
    assert_true(kinds[TR_EXCEPTION] >= 1);
    assert_true(r->nout > 100);
}

/* Continue, restore, run again: the same run; and into a second machine too. */
static void test_restore_same_and_other_machine(void **state)
{
    (void)state;
    struct rig a, b, c;
    rig_open(&a, true);
    struct record warm = {0}, first = {0}, again = {0}, other = {0};
    assert_int_equal(run_into(&a, &warm, WARMUP), RUN_LIMIT);
    struct snapshot *s = machine_snapshot(a.m);
    assert_non_null(s);
    assert_int_equal(snapshot_ram_bytes(s), 0);

    assert_int_equal(run_into(&a, &first, STRETCH), RUN_LIMIT);
    assert_eventful(&first);
    /* Only the pages written since: far less than RAM (the demo writes a few hundred KiB). */
    size_t cost = snapshot_ram_bytes(s);
    assert_true(cost > 0);
    assert_true(cost < (MEM_MIB << 20) / 16);
    /* Keep the end state to compare with: a second machine restored to "after first". */
    struct snapshot *end = machine_snapshot(a.m);
    assert_non_null(end);
    rig_open(&c, false);
    assert_int_equal(machine_restore(c.m, end), 0);

    assert_int_equal(machine_restore(a.m, s), 0);
    assert_int_equal(cpu_stat_insns(&a.m->cpu), WARMUP);
    assert_int_equal(run_into(&a, &again, STRETCH), RUN_LIMIT);
    assert_records_equal(&first, &again);
    assert_machines_equal(a.m, c.m);

    /* Into a machine that never ran: its RAM all comes from the snapshot's chain. */
    rig_open(&b, false);
    assert_int_equal(machine_restore(b.m, s), 0);
    assert_int_equal(run_into(&b, &other, STRETCH), RUN_LIMIT);
    assert_records_equal(&first, &other);
    assert_machines_equal(a.m, b.m);

    record_free(&warm);
    record_free(&first);
    record_free(&again);
    record_free(&other);
    machine_destroy(b.m);
    machine_destroy(c.m); /* c has no snapshots; a's are freed with a */
    machine_destroy(a.m);
}

/* Three snapshots; go back to the first, forward to the last, free the middle one, go back to
 * the second (its pages now live in the first): every restore replays its own future. */
static void test_chain_back_and_forth(void **state)
{
    (void)state;
    struct rig a;
    rig_open(&a, true);
    struct record r[3] = {{0}}, again = {0};
    struct snapshot *s[3];
    assert_int_equal(run_into(&a, &again, WARMUP), RUN_LIMIT);
    record_free(&again);
    for (int k = 0; k < 3; k++) {
        s[k] = machine_snapshot(a.m);
        assert_non_null(s[k]);
        assert_int_equal(run_into(&a, &r[k], STRETCH / 4), RUN_LIMIT);
    }
    /* Back to s[0]: the run continues as the recorded s[0] stretch. */
    assert_int_equal(machine_restore(a.m, s[0]), 0);
    assert_int_equal(run_into(&a, &again, STRETCH / 4), RUN_LIMIT);
    assert_records_equal(&r[0], &again);
    record_free(&again);
    /* Forward to s[2] after having run from s[0] again. */
    assert_int_equal(machine_restore(a.m, s[2]), 0);
    assert_int_equal(run_into(&a, &again, STRETCH / 4), RUN_LIMIT);
    assert_records_equal(&r[2], &again);
    record_free(&again);
    /* Free the middle one; s[0] and s[2] keep working. */
    snapshot_free(s[1]);
    assert_int_equal(machine_restore(a.m, s[0]), 0);
    assert_int_equal(run_into(&a, &again, STRETCH / 4), RUN_LIMIT);
    assert_records_equal(&r[0], &again);
    record_free(&again);
    /* Free the newest: s[0] still replays s[0] then s[1]'s stretch. */
    snapshot_free(s[2]);
    assert_int_equal(machine_restore(a.m, s[0]), 0);
    assert_int_equal(run_into(&a, &again, STRETCH / 4), RUN_LIMIT);
    assert_records_equal(&r[0], &again);
    record_free(&again);
    assert_int_equal(run_into(&a, &again, STRETCH / 4), RUN_LIMIT);
    assert_records_equal(&r[1], &again);
    record_free(&again);
    snapshot_free(s[0]);
    for (int k = 0; k < 3; k++)
        record_free(&r[k]);
    machine_destroy(a.m);
}

static void refusing_sink(void *ctx, const struct trace_event *e)
{
    (void)e;
    struct rig *g = ctx;
    /* Inside cpu_run: neither a snapshot nor a restore. */
    assert_null(machine_snapshot(g->m));
    g->cur = (struct record *)1; /* seen */
}

/* Another RAM size, inside cpu_run, NULL: refused, nothing changed. */
static void test_refusals(void **state)
{
    (void)state;
    struct rig a;
    rig_open(&a, true);
    struct record warm = {0};
    assert_int_equal(run_into(&a, &warm, WARMUP), RUN_LIMIT);
    record_free(&warm);
    struct snapshot *s = machine_snapshot(a.m);
    assert_non_null(s);
    struct machine *small = machine_create(MEM_MIB / 2, NULL, NULL);
    assert_non_null(small);
    uint32_t eip = cpu_get_reg(&small->cpu, REG_EIP);
    assert_int_equal(machine_restore(small, s), -1);
    assert_int_equal(cpu_get_reg(&small->cpu, REG_EIP), eip);
    assert_int_equal(machine_restore(small, NULL), -1);
    machine_destroy(small);

    struct rig probe = {a.m, NULL};
    assert_int_equal(cpu_remove_sink(&a.m->cpu, rig_sink, &a), true);
    assert_int_equal(cpu_add_sink(&a.m->cpu, refusing_sink, &probe), 0);
    cpu_run(&a.m->cpu, STRETCH / 4);
    assert_non_null(probe.cur); /* the sink ran */
    machine_destroy(a.m); /* frees s */
}

/* Every register of the standard-PC devices a guest can read, the MSRs and the TSC, read the
 * way a guest would (through the bus and the cpu's MSR interface). */
struct pc_regs {
    uint32_t lapic[64];          /* offsets 0x000..0x3F0 */
    uint32_t ioapic[0x40];       /* indexes 0..0x3F */
    uint32_t ioregsel;
    uint32_t hpet[0x2C];         /* low halves of the registers 0x000..0x158 */
    uint32_t pm[3];
    uint8_t crtc[32], crtc_index, port92, fwcfg_next;
    uint64_t apic_base, tsc, pat, misc, mcg_status;
    uint64_t deadline[TIMERQ_MAX];
};

static void read_pc(struct machine *m, struct pc_regs *r)
{
    memset(r, 0, sizeof *r);
    for (unsigned k = 0; k < 64; k++)
        if (k != LAPIC_ESR >> 4 && k != LAPIC_EOI >> 4) /* an ESR read has no side effect, but
                                                           reserved slots set an error bit */
            r->lapic[k] = lapic_read(&m->lapic, k << 4);
    r->lapic[LAPIC_ESR >> 4] = lapic_read(&m->lapic, LAPIC_ESR);
    r->ioregsel = bus_mmio_read(&m->bus, IOAPIC_BASE, 4);
    for (unsigned k = 0; k < 0x40; k++)
        r->ioapic[k] = ioapic_read_reg(&m->ioapic, k);
    for (unsigned k = 0; k < 0x2C; k++) /* general registers, then the three timers' */
        r->hpet[k] = (uint32_t)hpet_read(&m->hpet, k * 8);
    for (unsigned k = 0; k < 3; k++)
        r->pm[k] = bus_in(&m->bus, (uint16_t)(ACPIPM_BASE + 4 * k), 4);
    r->crtc_index = (uint8_t)bus_in(&m->bus, CRTC_INDEX, 1);
    for (unsigned k = 0; k < 32; k++)
        r->crtc[k] = m->crtc.s.reg[k];
    r->port92 = (uint8_t)bus_in(&m->bus, PORT92, 1);
    r->fwcfg_next = fwcfg_item_byte(&m->fwcfg, m->fwcfg.s.selector, m->fwcfg.s.offset);
    assert_int_equal(lapic_msr_read(&m->lapic, MSR_APIC_BASE, &r->apic_base), 1);
    r->tsc = cpu_time(&m->cpu) + m->cpu.tsc_offset;
    r->pat = m->cpu.msr_pat;
    r->misc = m->cpu.msr_misc_enable;
    r->mcg_status = m->cpu.msr_mcg_status;
    for (unsigned k = 0; k < TIMERQ_MAX; k++)
        r->deadline[k] = m->timers.t[k].deadline;
}

/* Puts every device into a state far from its reset state. */
static void scribble_pc(struct machine *m, uint32_t salt)
{
    lapic_write(&m->lapic, LAPIC_TPR, 0x20 + salt);
    lapic_write(&m->lapic, LAPIC_LDR, salt << 24);
    lapic_write(&m->lapic, LAPIC_LVT_TIMER, LVT_PERIODIC | (0x40 + salt));
    lapic_write(&m->lapic, LAPIC_TIMER_DIV, salt & 0xB);
    lapic_write(&m->lapic, LAPIC_TIMER_INIT, 100000 + salt);
    lapic_accept(&m->lapic, (uint8_t)(0x80 + salt), true, ISRC_IOAPIC, 4);
    lapic_write(&m->lapic, LAPIC_ICR_HI, salt << 24);
    ioapic_write_reg(&m->ioapic, 0x18, 0x30 + salt);
    ioapic_write_reg(&m->ioapic, 0x19, salt << 24);
    bus_mmio_write(&m->bus, IOAPIC_BASE, 0x10 + salt, 4);
    hpet_write(&m->hpet, HPET_T0_CONF, HPET_TN_ENABLE | HPET_TN_PERIODIC | 21u << 9);
    hpet_write(&m->hpet, HPET_T0_CMP, 5000 + salt);
    hpet_write(&m->hpet, HPET_CONF, 1);
    bus_out(&m->bus, ACPIPM_EVT + 2, salt, 2);
    bus_out(&m->bus, CRTC_INDEX, 14, 1);
    bus_out(&m->bus, CRTC_DATA, salt, 1);
    bus_out(&m->bus, PORT92, salt & 2, 1);
    bus_out(&m->bus, FWCFG_PORT_SEL, FWCFG_SIGNATURE, 2);
    for (uint32_t k = 0; k < (salt & 3); k++)
        bus_in(&m->bus, FWCFG_PORT_DATA, 1);
    m->cpu.tsc_offset = 12345 * salt;
    m->cpu.msr_pat = 0x0606060606060606ull + salt;
    m->cpu.msr_misc_enable = salt & 1;
    m->cpu.msr_mcg_status = salt & 7;
}

static void test_pc_devices_and_msrs(void **state)
{
    (void)state;
    struct machine *a = machine_create(MEM_MIB, NULL, NULL), *b = machine_create(MEM_MIB, NULL,
                                                                                  NULL);
    assert_non_null(a);
    assert_non_null(b);
    scribble_pc(a, 1);
    struct pc_regs want, got;
    read_pc(a, &want);
    struct snapshot *s = machine_snapshot(a);
    assert_non_null(s);
    scribble_pc(a, 2);
    read_pc(a, &got);
    assert_true(memcmp(&want, &got, sizeof want) != 0); /* the scribble changed things */
    assert_int_equal(machine_restore(a, s), 0);
    read_pc(a, &got);
    assert_memory_equal(&want, &got, sizeof want);
    assert_int_equal(machine_restore(b, s), 0);
    read_pc(b, &got);
    assert_memory_equal(&want, &got, sizeof want);
    machine_destroy(b);
    machine_destroy(a);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_snapshot GUEST_DIR\n");
        return 2;
    }
    guest_dir = argv[1];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_restore_same_and_other_machine),
        cmocka_unit_test(test_chain_back_and_forth),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_pc_devices_and_msrs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
