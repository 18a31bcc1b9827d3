/* The names port (devices/names_port.c), the names it leaves in the machine
 * (machine/spaces.c), and the log line that uses them (describe_event_in in
 * src/trace/describe.c): spaces and system calls named through the ports, a name cut at 31
 * bytes and made printable, the newest name of a reused page directory, the signature, the
 * taps; then the line: the space, the system call by name, the IRQ by name, a return paired
 * with its entry across a context switch, symbols, a triple fault's three steps, and every
 * #GP(0) rule's reason.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cpu/cpu.h"
#include "cpu/exceptions.h"
#include "machine/machine.h"
#include "trace/describe.h"

/* What a guest does: the id, the cr3, the name byte by byte, the command. */
static void say(struct machine *m, unsigned cmd, uint32_t cr3, uint32_t id, const char *name)
{
    bus_out(&m->bus, NAMES_PORT_CR3, cr3, 4);
    bus_out(&m->bus, NAMES_PORT_ID, id, 4);
    for (; *name; name++)
        bus_out(&m->bus, NAMES_PORT_CHAR, (uint8_t)*name, 1);
    bus_out(&m->bus, NAMES_PORT_CMD, cmd, 1);
}

struct heard {
    unsigned n;
    unsigned kind[8];
    struct space_name name[8];
};

static void tap(void *ctx, unsigned kind, const struct space_name *n)
{
    struct heard *h = ctx;
    if (h->n < 8) {
        h->kind[h->n] = kind;
        h->name[h->n] = *n;
    }
    h->n++;
}

static void names_through_the_port(void **state)
{
    (void)state;
    struct machine *m = machine_create(4, NULL, NULL);
    assert_non_null(m);
    char buf[SPACE_LABEL_LEN];
    assert_int_equal(bus_in(&m->bus, NAMES_PORT_SIG, 2), NAMES_SIGNATURE);
    assert_int_equal(bus_in(&m->bus, NAMES_PORT_SIG, 1), 'R');
    assert_int_equal(bus_in(&m->bus, NAMES_PORT_SIG + 1, 1), 'S');

    /* nothing said: the CR3 and the number */
    assert_string_equal(machine_space_label(m, 0x123000, buf, sizeof buf), "cr3=00123000");
    assert_null(machine_space_find(m, 0x123000));
    assert_null(machine_syscall_name(m, 4));
    assert_int_equal(machine_syscall_vector(m), -1);

    struct heard h = { 0 };
    assert_int_equal(machine_add_space_tap(m, tap, &h), 0);
    m->cpu.icount = 777;
    say(m, NAMES_SPACE, 0x123000, 4, "spin");
    say(m, NAMES_SYSCALL, 0, 4, "yield");
    say(m, NAMES_SYSCALL_VECTOR, 0, 0x80, "");
    assert_string_equal(machine_space_label(m, 0x123000, buf, sizeof buf), "pid 4 (spin)");
    assert_string_equal(machine_syscall_name(m, 4), "yield");
    assert_int_equal(machine_syscall_vector(m), 0x80);
    assert_int_equal(h.n, 3);
    assert_int_equal(h.kind[0], NAMES_SPACE);
    assert_int_equal(h.name[0].icount, 777);
    assert_int_equal(h.name[0].cr3, 0x123000);
    assert_int_equal(h.name[0].pid, 4);
    assert_string_equal(h.name[0].name, "spin");
    assert_int_equal(h.kind[1], NAMES_SYSCALL);
    assert_int_equal(h.name[1].pid, 4);

    /* a reused page directory: the newest name wins, both stay in the list */
    say(m, NAMES_SPACE, 0x123000, 9, "upper");
    assert_string_equal(machine_space_label(m, 0x123000, buf, sizeof buf), "pid 9 (upper)");
    assert_int_equal(machine_space_count(m), 2);
    assert_string_equal(machine_space_at(m, 0)->name, "spin");
    assert_null(machine_space_at(m, 2));

    /* control bytes become '?', a long name is cut at NAMES_LEN - 1 bytes */
    say(m, NAMES_SPACE, 0x200000, 1, "a\x1b[2Jb\n");
    assert_string_equal(machine_space_find(m, 0x200000)->name, "a?[2Jb?");
    say(m, NAMES_SPACE, 0x300000, 2, "0123456789abcdef0123456789abcdefXYZ");
    assert_string_equal(machine_space_find(m, 0x300000)->name,
                        "0123456789abcdef0123456789abcde");

    /* NAMES_RESET forgets the bytes; an unknown command does nothing but reset too */
    for (const char *s = "junk"; *s; s++)
        bus_out(&m->bus, NAMES_PORT_CHAR, (uint8_t)*s, 1);
    bus_out(&m->bus, NAMES_PORT_CMD, NAMES_RESET, 1);
    say(m, 0x7F, 0x400000, 3, "nope");
    assert_null(machine_space_find(m, 0x400000));
    say(m, NAMES_SPACE, 0x400000, 3, "ok");
    assert_string_equal(machine_space_find(m, 0x400000)->name, "ok");

    /* a system call number beyond the table is not kept */
    say(m, NAMES_SYSCALL, 0, MACHINE_SYSCALL_NAMES, "big");
    assert_null(machine_syscall_name(m, MACHINE_SYSCALL_NAMES));

    assert_int_equal(machine_remove_space_tap(m, tap, &h), 0);
    assert_int_equal(machine_remove_space_tap(m, tap, &h), -1);
    machine_destroy(m);
}

/* ---- the log line ---- */

struct world {
    struct machine *m;
    char label[SPACE_LABEL_LEN];
    struct fault three[3];
    bool have_three;
};

static const char *w_space(void *ctx, uint32_t cr3)
{
    struct world *w = ctx;
    return machine_space_find(w->m, cr3) ? machine_space_label(w->m, cr3, w->label,
                                                               sizeof w->label)
                                         : NULL;
}

static const char *w_syscall(void *ctx, uint32_t nr)
{
    return machine_syscall_name(((struct world *)ctx)->m, nr);
}

static int w_irq(void *ctx, unsigned vector)
{
    (void)ctx;
    return vector >= 0x20 && vector < 0x30 ? (int)vector - 0x20 : -1;
}

static bool w_symbol(void *ctx, uint32_t cr3, uint32_t addr, char *buf, size_t len)
{
    (void)ctx;
    if (addr >= 0x00100000 && addr < 0x00100100) {
        snprintf(buf, len, "isr+0x%x", addr - 0x00100000);
        return true;
    }
    if (cr3 == 0x20000 && addr >= 0x08048000 && addr < 0x08049000) {
        snprintf(buf, len, "main+0x%x", addr - 0x08048000);
        return true;
    }
    return false;
}

static bool w_shutdown(void *ctx, struct fault *three)
{
    struct world *w = ctx;
    memcpy(three, w->three, sizeof w->three);
    return w->have_three;
}

static struct trace_event ev(uint64_t icount, unsigned kind, unsigned vector, uint32_t cr3,
                             uint32_t user_esp)
{
    struct trace_event e;
    memset(&e, 0, sizeof e);
    e.icount = icount;
    e.kind = (uint8_t)kind;
    e.vector = (uint8_t)vector;
    bool entry = kind != TR_IRET && kind != TR_SYSEXIT;
    struct trace_state user = {.eip = 0x08048010, .cs = 0x1B, .ss = 0x23, .cpl = 3, .cr3 = cr3};
    struct trace_state kern = {.eip = 0x00100010, .cs = 0x08, .ss = 0x10, .cpl = 0, .cr3 = cr3};
    user.r[ESP] = user_esp;
    kern.r[ESP] = 0x00107FE8;
    e.before = entry ? user : kern;
    e.after = entry ? kern : user;
    return e;
}

static const char *tail(const char *line)
{
    const char *bar = strstr(line, " | ");
    return bar ? bar + 3 : "";
}

static void describe_with_names(void **state)
{
    (void)state;
    struct world w = { .m = machine_create(4, NULL, NULL) };
    assert_non_null(w.m);
    say(w.m, NAMES_SPACE, 0x20000, 1, "hello");
    say(w.m, NAMES_SPACE, 0x30000, 2, "spin");
    say(w.m, NAMES_SYSCALL, 0, 1, "write");
    static struct describe_ctx d;
    describe_ctx_init(&d, &(struct describe_names){ .space = w_space, .syscall = w_syscall,
                                                     .irq = w_irq, .symbol = w_symbol,
                                                     .shutdown = w_shutdown, .ctx = &w,
                                                     .syscall_vector = -1 });
    char line[1024];

    /* hello makes a system call: its space, the symbols, the call by number and name */
    struct trace_event call = ev(1000, TR_SOFTINT, 0x80, 0x20000, 0xBFFFEF00);
    call.before.r[EAX] = 1;
    describe_event_in(&d, &call, line, sizeof line);
    assert_string_equal(line, "  1000: pid 1 (hello) v=80 e=0000 i=1 cpl=3 IP=001b:08048010 "
                              "<main+0x10> SP=0023:bfffef00 -> cpl=0 IP=0008:00100010 "
                              "<isr+0x10> SP=0010:00107fe8 | int 0x80 syscall 1 (write)");

    /* spin is preempted by IRQ0 (a context switch follows: hello's call returns later) */
    struct trace_event tick = ev(1100, TR_INTERRUPT, 0x20, 0x30000, 0xBFFFE000);
    describe_event_in(&d, &tick, line, sizeof line);
    assert_string_equal(tail(line), "IRQ0 timer");
    assert_non_null(strstr(line, "  1100: pid 2 (spin) v=20"));

    /* hello's return pairs with its call (not with spin's tick), 150 instructions later */
    struct trace_event ret = ev(1150, TR_IRET, 0, 0x20000, 0xBFFFEF00);
    ret.after.eip = 0x08048012;
    describe_event_in(&d, &ret, line, sizeof line);
    assert_string_equal(tail(line), "back from int 0x80 syscall 1 (write) at 1000, "
                                    "150 instructions");
    /* it was taken: a second return to the same place pairs with nothing */
    describe_event_in(&d, &ret, line, sizeof line);
    assert_null(strstr(line, "back from"));

    /* an entry that never returns (its process was killed) is skipped: a return pairs with the
     * newest entry whose stack pointer it restores, not simply the newest */
    struct trace_event lost = ev(1110, TR_EXCEPTION, EXC_PF, 0x30000, 0xBFFFD000);
    describe_event_in(&d, &lost, line, sizeof line);
    assert_string_equal(tail(line), "#PF: page fault");

    /* spin's return pairs with the tick */
    struct trace_event back = ev(1300, TR_IRET, 0, 0x30000, 0xBFFFE000);
    describe_event_in(&d, &back, line, sizeof line);
    assert_string_equal(tail(line), "back from IRQ0 timer at 1100, 200 instructions");

    /* an unnamed system call, a kernel-named vector other than 0x80, an unknown space */
    d.names.syscall_vector = 0x30;
    struct trace_event other = ev(1400, TR_SOFTINT, 0x30, 0x90000, 0xBFFFEF00);
    other.before.r[EAX] = 7;
    describe_event_in(&d, &other, line, sizeof line);
    assert_non_null(strstr(line, "  1400: cr3=00090000 v=30"));
    assert_string_equal(tail(line), "int 0x30 syscall 7");
    other.vector = 0x80;
    describe_event_in(&d, &other, line, sizeof line);
    assert_string_equal(tail(line), "int 0x80");

    /* sysenter is always a system call */
    struct trace_event se = ev(1500, TR_SYSENTER, 0, 0x20000, 0xBFFFEE00);
    se.before.r[EAX] = 1;
    describe_event_in(&d, &se, line, sizeof line);
    assert_string_equal(tail(line), "sysenter syscall 1 (write)");
    struct trace_event sx = ev(1637, TR_SYSEXIT, 0, 0x20000, 0xBFFFEE00);
    describe_event_in(&d, &sx, line, sizeof line);
    assert_string_equal(tail(line), "back from sysenter syscall 1 (write) at 1500, "
                                    "137 instructions");

    /* a task switch that changes CR3 says where it went */
    struct trace_event task = ev(1700, TR_TASK, 0, 0x20000, 0xBFFFEE00);
    task.after.cr3 = 0x30000;
    describe_event_in(&d, &task, line, sizeof line);
    assert_string_equal(tail(line), "now pid 2 (spin)");

    /* a triple fault: all three steps, in words */
    w.have_three = true;
    w.three[0] = (struct fault){ .vector = EXC_GP, .has_error = true, .error = 0x402 };
    w.three[0].detail.kind = FD_SELECTOR;
    w.three[0].detail.u.sel = (struct sel_fault){ .reason = SR_GATE_DPL, .use = SU_IDT,
                                                  .table = ST_IDT, .sel = 0x80, .cpl = 3,
                                                  .dpl = 0, .type = 0xE };
    w.three[1] = (struct fault){ .vector = EXC_DF, .has_error = true, .error = 0 };
    w.three[2] = (struct fault){ .vector = EXC_NP, .has_error = true, .error = 0x43 };
    struct trace_event sd = ev(1800, TR_SHUTDOWN, EXC_NP, 0x20000, 0xBFFFEE00);
    sd.has_error = true;
    sd.error = 0x43;
    describe_event_in(&d, &sd, line, sizeof line);
    assert_string_equal(tail(line), "triple fault: #GP(0x0402): IDT gate 0x80 has DPL 0 < CPL 3 "
                                    "-> #DF(0x0000): double fault -> #NP(0x0043): segment not "
                                    "present");
    machine_destroy(w.m);
}

/* Every #GP(0) rule has its words. */
static void rule_reasons(void **state)
{
    (void)state;
    static const struct {
        struct rule_fault r;
        const char *want;
    } rows[] = {
        {{RR_IOPL, 3, 0, 0, 0}, "CLI/STI at CPL 3 > IOPL 0"},
        {{RR_IO_NO_BITMAP, 3, 1, 1, 0x60},
         "port 0x0060 at CPL 3 > IOPL 1, and TR holds no 32-bit TSS with an I/O bitmap"},
        {{RR_IO_BEYOND_TSS, 3, 0, 2, 0x3F8},
         "port 0x03f8 at CPL 3 > IOPL 0: its I/O bitmap bits lie beyond the TSS limit"},
        {{RR_IO_DENIED, 3, 0, 4, 0xCF8},
         "port 0x0cf8 (4 bytes) at CPL 3 > IOPL 0: denied by the TSS I/O bitmap"},
        {{RR_CR0_BITS, 0, 0, 4, 0x80000000}, "CR0 value 0x80000000 sets PG without PE or NW "
                                             "without CD"},
        {{RR_CR0_REAL, 0, 0, 4, 0x10}, "CR0 value 0x00000010 clears PE: real mode is not "
                                       "supported"},
        {{RR_CR4_BITS, 0, 0, 4, 0x200}, "CR4 value 0x00000200 sets bits Ringside does not "
                                        "implement"},
        {{RR_MSR, 0, 0, 4, 0x1B}, "MSR 0x1b is not implemented"},
        {{RR_TOO_LONG, 3, 0, 0, 0}, "instruction longer than 15 bytes"},
    };
    for (unsigned k = 0; k < sizeof rows / sizeof rows[0]; k++) {
        struct fault_detail d = { .kind = FD_RULE };
        d.u.rule = rows[k].r;
        char buf[256];
        describe_fault_detail(&d, buf, sizeof buf);
        assert_string_equal(buf, rows[k].want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(names_through_the_port),
        cmocka_unit_test(describe_with_names),
        cmocka_unit_test(rule_reasons),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
