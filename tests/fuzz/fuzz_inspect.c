/* Fuzz target: the inspection API (src/cpu/inspect.h), snapshots (machine/snapshot.h), event
 * sinks and instruction hooks (cpu/event.h), driven by the input the way a debugger, a log or a
 * view drives them: in any order, with any values, between runs and from inside them.
 *
 * Input: 256 bytes of code (put at CODE, where the machine starts, flat at CPL 0), then
 * operations to the end, each an opcode byte and its operands (past the end every byte is 0):
 *   0 set a register (any enum cpu_reg, also unknown ones) to a value, read it back
 *   1 set a segment register (any enum cpu_sreg) to a selector, base, limit, attributes
 *   2 set GDTR or IDTR
 *   3 read a descriptor by selector, GDT/LDT index or IDT vector
 *   4 read or write 0..64 bytes of linear or physical memory
 *   5 a page walk (any kind, any mode)
 *   6 take a snapshot into one of 3 slots, or restore one
 *   7 run 1..256 units of device time
 *   8 add or remove a sink or an instruction hook (up to CPU_MAX_INSN_HOOKS: the fan-out)
 *   9 read every statistic, why the cpu stopped, every name
 * Properties (abort() = finding): a general register, EIP, a data segment register, GDTR and
 * IDTR read back what was set when the set said INSP_OK; every status has a name; a transfer
 * says it did at most what was asked, and INSP_OK only when it did all of it; a page walk's
 * answer agrees with its result; a restored snapshot gives back every register, the device
 * time and the memory it was taken with; inside a run (in a sink or a hook) a snapshot, a
 * restore and adding a sink are refused, and every inspection call answers; a run stays within
 * its budget in device time and its instructions were each seen by the hooks. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/inspect.h"
#include "machine/machine.h"
#include "machine/snapshot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CODE 0x1000u
#define CODE_BYTES 256u
#define SLOTS 3u
#define PROBE 0x2000u /* the memory a snapshot's check compares */

struct input {
    const uint8_t *d;
    size_t n, pos;
};

static uint8_t u8(struct input *in)
{
    return in->pos < in->n ? in->d[in->pos++] : 0;
}

static uint16_t u16(struct input *in)
{
    uint16_t lo = u8(in);
    return (uint16_t)(lo | (uint16_t)u8(in) << 8);
}

static uint32_t u32(struct input *in)
{
    uint32_t lo = u16(in);
    return lo | (uint32_t)u16(in) << 16;
}

static void fail(const char *what, unsigned long long a, unsigned long long b)
{
    fprintf(stderr, "fuzz_inspect: %s (%llu, %llu)\n", what, a, b);
    abort();
}

static void check_status(enum insp_status s)
{
    if (!insp_status_name(s))
        fail("a status without a name", s, 0);
}

/* What the callbacks see and count. */
struct watch {
    struct machine *m;
    const struct snapshot *any; /* a snapshot of m, which must not be restored inside a run */
    uint64_t hook_calls, events;
};

/* Everything a client may do from inside a run: read, and be refused what it may not do. */
static void look_inside(struct watch *w, struct cpu *c)
{
    for (unsigned r = 0; r < REG_COUNT; r++)
        (void)cpu_get_reg(c, (enum cpu_reg)r);
    struct seg_value sv;
    check_status(cpu_get_seg(c, SREG_CS, &sv));
    uint8_t buf[16];
    struct xfer x = cpu_read_linear(c, cpu_get_reg(c, REG_ESP), buf, sizeof buf);
    check_status(x.status);
    struct walk wk;
    (void)cpu_page_walk(c, cpu_get_reg(c, REG_EIP), PG_FETCH, PG_SUPERVISOR, &wk);
    struct snapshot *s = machine_snapshot(w->m);
    if (s) {
        snapshot_free(s);
        fail("a snapshot was taken inside cpu_run", 0, 0);
    }
    if (machine_restore(w->m, w->any) == 0)
        fail("a snapshot was restored inside cpu_run", 0, 0);
}

static void sink(void *ctx, const struct trace_event *ev)
{
    struct watch *w = ctx;
    w->events++;
    if (ev->kind >= TR_KINDS)
        fail("an event of no known kind", ev->kind, 0);
    if (cpu_add_sink(&w->m->cpu, sink, w) == 0)
        fail("a sink was added from inside a sink", 0, 0);
    look_inside(w, &w->m->cpu);
}

static void hook(void *ctx, struct cpu *c, uint32_t lin_eip)
{
    struct watch *w = ctx;
    (void)lin_eip;
    w->hook_calls++;
    if ((w->hook_calls & 63) == 1)
        look_inside(w, c);
}

/* A second hook, so that two or more make the dispatch fan out. */
static void hook2(void *ctx, struct cpu *c, uint32_t lin_eip)
{
    (void)ctx;
    (void)c;
    (void)lin_eip;
}

struct saved {
    struct snapshot *s;
    uint32_t regs[REG_COUNT];
    uint64_t time;
    uint8_t probe[64];
};

static void op_set_reg(struct cpu *c, struct input *in)
{
    enum cpu_reg r = (enum cpu_reg)(u8(in) % (REG_COUNT + 2));
    uint32_t v = u32(in);
    enum insp_status s = cpu_set_reg(c, r, v);
    check_status(s);
    if (r >= REG_COUNT && s == INSP_OK)
        fail("an unknown register was set", r, 0);
    if (r < REG_COUNT && !cpu_reg_name(r))
        fail("a register without a name", r, 0);
    if (s == INSP_OK && (r <= REG_EDI || r == REG_EIP) && cpu_get_reg(c, r) != v)
        fail("a register does not read back what was set", r, cpu_get_reg(c, r));
}

static void op_set_seg(struct cpu *c, struct input *in)
{
    enum cpu_sreg r = (enum cpu_sreg)(u8(in) % (SREG_COUNT + 1));
    struct seg_value v = {.sel = u16(in), .base = u32(in), .limit = u32(in), .attr = u16(in)};
    bool keep_cpl = u8(in) & 1; /* CS only: the selector's RPL made the current CPL */
    if (r == SREG_CS && keep_cpl)
        v.sel = (uint16_t)((v.sel & ~3u) | (cpu_get_cpl(c) & 3));
    enum insp_status s = cpu_set_seg(c, r, &v);
    check_status(s);
    struct seg_value got;
    enum insp_status g = cpu_get_seg(c, r, &got);
    check_status(g);
    if (s == INSP_OK && r != SREG_CS && r < SREG_LDTR &&
        (g != INSP_OK || got.sel != v.sel || got.base != v.base || got.limit != v.limit))
        fail("a segment register does not read back what was set", r, got.sel);
}

static void op_set_table(struct cpu *c, struct input *in)
{
    bool idt = u8(in) & 1;
    struct dtable t = {.base = u32(in), .limit = u16(in)}, got;
    if (idt) {
        cpu_set_idtr(c, &t);
        cpu_get_idtr(c, &got);
    } else {
        cpu_set_gdtr(c, &t);
        cpu_get_gdtr(c, &got);
    }
    if (got.base != t.base || got.limit != t.limit)
        fail("GDTR or IDTR does not read back what was set", got.base, got.limit);
}

static void op_read_desc(struct cpu *c, struct input *in)
{
    unsigned how = u8(in) & 3;
    uint16_t v = u16(in);
    struct desc d;
    enum insp_status s;
    switch (how) {
    case 0: s = cpu_read_desc(c, v, &d); break;
    case 1: s = cpu_read_gdt(c, v, &d); break;
    case 2: s = cpu_read_ldt(c, v, &d); break;
    default: s = cpu_read_idt(c, v & 0x1FF, &d); break;
    }
    check_status(s);
}

static void op_memory(struct cpu *c, struct input *in)
{
    uint8_t how = u8(in);
    uint32_t addr = u32(in);
    size_t len = u8(in) % 65;
    uint8_t buf[64];
    for (size_t k = 0; k < len; k++)
        buf[k] = u8(in);
    struct xfer x;
    switch (how & 3) {
    case 0: x = cpu_read_linear(c, addr, buf, len); break;
    case 1: x = cpu_write_linear(c, addr, buf, len); break;
    case 2: x = cpu_read_phys(c, addr, buf, len); break;
    default: x = cpu_write_phys(c, addr, buf, len); break;
    }
    check_status(x.status);
    if (x.done > len || (x.status == INSP_OK) != (x.done == len))
        fail("a transfer's count and status disagree", x.done, x.status);
}

static void op_walk(struct cpu *c, struct input *in)
{
    uint32_t lin = u32(in);
    uint8_t km = u8(in);
    struct walk w;
    bool ok = cpu_page_walk(c, lin, (enum pg_kind)(km & 3), (enum pg_mode)((km >> 2) & 3), &w);
    if (ok != (w.result == WALK_OK))
        fail("a page walk's answer and result disagree", ok, w.result);
}

static void save(struct machine *m, struct saved *sv)
{
    struct cpu *c = &m->cpu;
    snapshot_free(sv->s);
    sv->s = machine_snapshot(m);
    if (!sv->s)
        return; /* out of memory */
    for (unsigned r = 0; r < REG_COUNT; r++)
        sv->regs[r] = cpu_get_reg(c, (enum cpu_reg)r);
    sv->time = cpu_time(c);
    (void)cpu_read_phys(c, PROBE, sv->probe, sizeof sv->probe);
}

static void restore(struct machine *m, const struct saved *sv)
{
    struct cpu *c = &m->cpu;
    if (!sv->s)
        return;
    if (machine_restore(m, sv->s) != 0)
        fail("a snapshot of this machine could not be restored", 0, 0);
    for (unsigned r = 0; r < REG_COUNT; r++)
        if (cpu_get_reg(c, (enum cpu_reg)r) != sv->regs[r])
            fail("a restored register differs", r, cpu_get_reg(c, (enum cpu_reg)r));
    if (cpu_time(c) != sv->time)
        fail("the restored device time differs", cpu_time(c), sv->time);
    uint8_t probe[64];
    (void)cpu_read_phys(c, PROBE, probe, sizeof probe);
    if (memcmp(probe, sv->probe, sizeof probe) != 0)
        fail("restored memory differs", PROBE, 0);
}

static void op_run(struct machine *m, struct watch *w, struct input *in, bool hooked)
{
    struct cpu *c = &m->cpu;
    uint64_t budget = 1 + u8(in);
    uint64_t t0 = cpu_time(c), i0 = cpu_stat_insns(c), h0 = w->hook_calls;
    enum run_result r = cpu_run(c, budget);
    if (!run_result_name(r))
        fail("a run result without a name", r, 0);
    if (cpu_time(c) - t0 > budget)
        fail("a run exceeded its budget in device time", cpu_time(c) - t0, budget);
    if (hooked && w->hook_calls - h0 < cpu_stat_insns(c) - i0)
        fail("instructions ran that the hook did not see", w->hook_calls - h0,
             cpu_stat_insns(c) - i0);
    if (r == RUN_UNSUPPORTED && !cpu_get_unsupported(c))
        fail("RUN_UNSUPPORTED without a reason", 0, 0);
    if (r == RUN_SHUTDOWN) {
        struct fault f[3];
        cpu_get_shutdown(c, f);
    }
}

static void op_stats(struct cpu *c)
{
    uint64_t events = 0;
    for (unsigned k = 0; k < TR_KINDS; k++)
        events += cpu_stat_events(c, (enum trace_kind)k);
    uint64_t rings = 0;
    for (unsigned k = 0; k < 4; k++)
        rings += cpu_stat_ring(c, k);
    if (rings != cpu_stat_insns(c))
        fail("instructions per ring do not add up", rings, cpu_stat_insns(c));
    uint32_t cr3;
    uint64_t kernel, user;
    unsigned n = 0;
    while (cpu_stat_space(c, n, &cr3, &kernel, &user))
        n++;
    if (n != cpu_stat_nspaces(c))
        fail("the address spaces counted differ", n, cpu_stat_nspaces(c));
    (void)cpu_is_halted(c);
    (void)events;
}

static struct machine *shared;
static struct snapshot *pristine;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!shared) {
        shared = machine_create(MACHINE_MEM_MIN_MIB, NULL, NULL);
        if (!shared)
            return 0;
        pristine = machine_snapshot(shared);
        if (!pristine)
            fail("no snapshot of a new machine", 0, 0);
    } else if (machine_restore(shared, pristine) != 0) {
        fail("the pristine snapshot could not be restored", 0, 0);
    }
    struct machine *m = shared;
    struct cpu *c = &m->cpu;
    struct input in = {data, size, 0};
    uint8_t code[CODE_BYTES];
    for (unsigned k = 0; k < CODE_BYTES; k++)
        code[k] = u8(&in);
    cpu_write_phys(c, CODE, code, sizeof code);
    machine_boot(m, CODE, 0, 0);

    struct watch w = {.m = m, .any = pristine};
    struct saved saved[SLOTS] = {{0}};
    bool sinked = false;
    unsigned hooks = 0;
    static const insn_hook_fn hook_fns[2] = {hook, hook2};
    void *hook_ctx[CPU_MAX_INSN_HOOKS];
    insn_hook_fn hook_fn[CPU_MAX_INSN_HOOKS];
    for (unsigned ops = 0; in.pos < in.n && ops < 256; ops++) {
        uint8_t op = u8(&in);
        switch (op % 10) {
        case 0: op_set_reg(c, &in); break;
        case 1: op_set_seg(c, &in); break;
        case 2: op_set_table(c, &in); break;
        case 3: op_read_desc(c, &in); break;
        case 4: op_memory(c, &in); break;
        case 5: op_walk(c, &in); break;
        case 6: {
            uint8_t a = u8(&in);
            struct saved *sv = &saved[(a & 0x7F) % SLOTS];
            if (a & 0x80)
                restore(m, sv);
            else
                save(m, sv);
            break;
        }
        case 7: op_run(m, &w, &in, hooks > 0 && hook_fn[0] == hook); break;
        case 8:
            if (u8(&in) & 1) {
                if (sinked)
                    (void)cpu_remove_sink(c, sink, &w);
                else if (cpu_add_sink(c, sink, &w) != 0)
                    break;
                sinked = !sinked;
            } else if (op & 0x10) {
                if (hooks > 0 && cpu_remove_insn_hook(c, hook_fn[hooks - 1], hook_ctx[hooks - 1]))
                    hooks--;
            } else if (hooks < CPU_MAX_INSN_HOOKS) {
                /* The first hook counts; the others only make the dispatch fan out. */
                insn_hook_fn fn = hook_fns[hooks > 0];
                void *ctx = hooks > 0 ? (void *)&hook_ctx[hooks] : (void *)&w;
                if (cpu_add_insn_hook(c, fn, ctx) == 0) {
                    hook_fn[hooks] = fn;
                    hook_ctx[hooks] = ctx;
                    hooks++;
                }
            }
            break;
        default: op_stats(c); break;
        }
    }
    if (sinked)
        (void)cpu_remove_sink(c, sink, &w);
    while (hooks > 0) {
        hooks--;
        if (!cpu_remove_insn_hook(c, hook_fn[hooks], hook_ctx[hooks]))
            fail("an instruction hook could not be removed", hooks, 0);
    }
    for (unsigned k = 0; k < SLOTS; k++)
        snapshot_free(saved[k].s);
    return 0;
}
