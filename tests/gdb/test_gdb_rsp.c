/* The GDB stub without a socket: the RSP framing parser row by row, the reply builder, and
 * gdb_handle() on a small machine (registers, memory by linear address, breakpoints kept
 * outside guest memory, stepping and reverse stepping). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cpu/inspect.h"
#include "frontend/gdb/gdb.h"
#include "frontend/gdb/rsp.h"
#include "machine/machine.h"

/* Feeds s; returns the last event. */
static enum rsp_event feed(struct rsp_parser *p, const char *s, size_t n)
{
    enum rsp_event ev = RSP_NONE;
    for (size_t k = 0; k < n; k++) {
        enum rsp_event e = rsp_feed(p, (uint8_t)s[k]);
        if (e != RSP_NONE)
            ev = e;
    }
    return ev;
}

static void test_framing(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        enum rsp_event ev;
        const char *data;
    } rows[] = {
        { "$g#67", RSP_PACKET, "g" },
        { "$g#68", RSP_BAD_CHECKSUM, NULL },     /* off by one */
        { "$g#6G", RSP_BAD_CHECKSUM, NULL },     /* not a hex digit */
        { "$g#x7", RSP_BAD_CHECKSUM, NULL },
        { "$#00", RSP_PACKET, "" },              /* empty packet */
        { "\x03", RSP_INTERRUPT, NULL },
        { "+", RSP_ACK, NULL },
        { "-", RSP_NACK, NULL },
        { "noise$g#67", RSP_PACKET, "g" },       /* bytes between packets are ignored */
        { "$m0,4$g#67", RSP_PACKET, "g" },       /* '$' restarts an unfinished packet */
        { "$?#3F", RSP_PACKET, "?" },            /* upper-case checksum digits */
    };
    for (size_t k = 0; k < sizeof rows / sizeof rows[0]; k++) {
        struct rsp_parser p;
        rsp_init(&p);
        enum rsp_event ev = feed(&p, rows[k].in, strlen(rows[k].in));
        assert_int_equal(ev, rows[k].ev);
        if (rows[k].data)
            assert_string_equal(p.data, rows[k].data);
    }
}

static void test_too_long(void **state)
{
    (void)state;
    struct rsp_parser p;
    rsp_init(&p);
    size_t n = RSP_MAX_PACKET + 10;
    char *big = malloc(n + 5);
    assert_non_null(big);
    big[0] = '$';
    memset(big + 1, 'a', n);
    memcpy(big + 1 + n, "#00", 3);
    assert_int_equal(feed(&p, big, n + 4), RSP_TOO_LONG);
    /* and the next packet is fine */
    assert_int_equal(feed(&p, "$g#67", 5), RSP_PACKET);
    assert_string_equal(p.data, "g");
    /* exactly the maximum is accepted */
    unsigned sum = 0;
    for (size_t k = 0; k < RSP_MAX_PACKET; k++)
        sum += 'a';
    char tail[4];
    snprintf(tail, sizeof tail, "#%02x", sum & 0xFF);
    memcpy(big + 1 + RSP_MAX_PACKET, tail, 3);
    assert_int_equal(feed(&p, big, RSP_MAX_PACKET + 4), RSP_PACKET);
    assert_int_equal(p.len, RSP_MAX_PACKET);
    free(big);
}

static void test_hex(void **state)
{
    (void)state;
    uint64_t v;
    assert_int_equal(rsp_parse_hex("1f,", 16, &v), 2);
    assert_int_equal(v, 0x1f);
    assert_int_equal(rsp_parse_hex("ffffffffffffffff", 16, &v), 16);
    assert_true(v == UINT64_MAX);
    assert_int_equal(rsp_parse_hex("10000000000000000", 17, &v), 0); /* 65 bits */
    assert_int_equal(rsp_parse_hex("zz", 2, &v), 0);
    uint8_t b[2];
    assert_true(rsp_unhex("a0FF", 2, b));
    assert_int_equal(b[0], 0xa0);
    assert_int_equal(b[1], 0xff);
    assert_false(rsp_unhex("a0F", 2, b)); /* a NUL is not a digit */
}

static void test_reply_escapes(void **state)
{
    (void)state;
    struct rsp_reply r;
    rsp_reply_init(&r);
    rsp_put(&r, "a$b#c}d*e");
    size_t n;
    const char *pkt = rsp_finish(&r, &n);
    /* each special character becomes '}' and itself XOR 0x20 */
    assert_true(strncmp(pkt, "$a}\x04" "b}\x03" "c}]d}\x0a" "e#", n - 2) == 0);
    struct rsp_parser p;
    rsp_init(&p);
    assert_int_equal(feed(&p, pkt, n), RSP_PACKET);
}

/* A machine with a few instructions at 0x1000: inc eax; inc eax; inc eax; hlt. */
struct rig {
    struct machine *m;
    struct gdb_target *t;
    struct rsp_reply r;
};

static int setup(void **state)
{
    struct rig *g = calloc(1, sizeof *g);
    g->m = machine_create(2, NULL, NULL);
    g->t = calloc(1, sizeof *g->t);
    if (!g || !g->m || !g->t)
        return -1;
    static const uint8_t code[] = { 0x40, 0x40, 0x40, 0xF4 };
    cpu_write_phys(&g->m->cpu, 0x1000, code, sizeof code);
    machine_boot(g->m, 0x1000, 0, 0);
    gdb_target_init(g->t, g->m, NULL);
    *state = g;
    return 0;
}

static int teardown(void **state)
{
    struct rig *g = *state;
    gdb_target_fini(g->t);
    machine_destroy(g->m);
    free(g->t);
    free(g);
    return 0;
}

/* The reply's data for packet s. */
static const char *ask(struct rig *g, const char *s, enum gdb_action *a)
{
    rsp_reply_init(&g->r);
    enum gdb_action act = gdb_handle(g->t, s, strlen(s), &g->r);
    if (a)
        *a = act;
    g->r.buf[1 + g->r.len] = '\0';
    return g->r.buf + 1;
}

static void test_registers_memory(void **state)
{
    struct rig *g = *state;
    /* g: 16 core registers, 8 x87 of 10 bytes, 8 x87 control, cr0 cr2 cr3 cr4 cpl */
    assert_int_equal(strlen(ask(g, "g", NULL)), 2 * (16 * 4 + 8 * 10 + 8 * 4 + 5 * 4));
    assert_string_equal(ask(g, "p8", NULL), "00100000");          /* EIP 0x1000 */
    assert_string_equal(ask(g, "pa", NULL), "08000000");          /* CS 0x08 */
    assert_string_equal(ask(g, "p24", NULL), "00000000");         /* CPL 0 */
    assert_string_equal(ask(g, "P0=78563412", NULL), "OK");
    assert_int_equal(cpu_get_reg(&g->m->cpu, REG_EAX), 0x12345678);
    assert_string_equal(ask(g, "P24=03000000", NULL), "E16");     /* CPL follows CS */
    assert_string_equal(ask(g, "P20=00000000", NULL), "E16");     /* CR0.PE = 0: no real mode */
    assert_string_equal(ask(g, "m1000,4", NULL), "404040f4");
    assert_string_equal(ask(g, "m1fffff,4", NULL), "00");         /* up to the end of RAM */
    assert_string_equal(ask(g, "m200000,4", NULL), "E14");        /* beyond RAM: an error */
    assert_string_equal(ask(g, "M2000,2:abcd", NULL), "OK");
    assert_string_equal(ask(g, "m2000,2", NULL), "abcd");
    assert_string_equal(ask(g, "M1fffff,2:abcd", NULL), "E14");   /* all or nothing */
    assert_string_equal(ask(g, "m1fffff,1", NULL), "00");
    assert_string_equal(ask(g, "qNoSuchThing", NULL), "");
    /* the description in two pieces: "m" (more follows), then "l" (the last) */
    const char *x = ask(g, "qXfer:features:read:target.xml:0,ffff", NULL);
    assert_true(x[0] == 'm' && strstr(x, "<architecture>i386</architecture>") != NULL);
    x = ask(g, "qXfer:features:read:target.xml:800,ffff", NULL);
    assert_true(x[0] == 'l' && strstr(x, "<reg name=\"cr3\"") != NULL &&
                strstr(x, "<reg name=\"cpl\"") != NULL);
}

static void test_break_step_reverse(void **state)
{
    struct rig *g = *state;
    enum gdb_action a;
    assert_string_equal(ask(g, "Z0,1002,1", &a), "OK");
    /* guest memory untouched by the breakpoint */
    assert_string_equal(ask(g, "m1000,4", NULL), "404040f4");
    ask(g, "c", &a);
    assert_int_equal(a, ACT_CONTINUE);
    gdb_resume(g->t, false);
    assert_true(gdb_run_chunk(g->t, 1000));
    assert_int_equal(g->t->stop, STOP_BREAK);
    assert_int_equal(cpu_get_reg(&g->m->cpu, REG_EIP), 0x1002);
    assert_int_equal(cpu_get_reg(&g->m->cpu, REG_EAX), 2); /* two inc, not the third */
    assert_string_equal(ask(g, "?", NULL), "T05swbreak:;");
    /* a step goes past the breakpoint it stands on */
    gdb_resume(g->t, true);
    assert_true(gdb_run_chunk(g->t, 1000));
    assert_int_equal(g->t->stop, STOP_STEP);
    assert_int_equal(cpu_get_reg(&g->m->cpu, REG_EIP), 0x1003);
    assert_int_equal(cpu_get_reg(&g->m->cpu, REG_EAX), 3);
    /* back one instruction: EAX 2 again at 0x1002 */
    gdb_reverse_step(g->t);
    assert_int_equal(g->t->stop, STOP_STEP);
    assert_int_equal(cpu_get_reg(&g->m->cpu, REG_EIP), 0x1002);
    assert_int_equal(cpu_get_reg(&g->m->cpu, REG_EAX), 2);
    /* back to the breakpoint hit before now: none (this is it), so the start of history */
    gdb_reverse_continue(g->t);
    assert_int_equal(g->t->stop, STOP_HISTORY);
    assert_int_equal(cpu_get_reg(&g->m->cpu, REG_EIP), 0x1000);
    assert_string_equal(ask(g, "?", NULL), "T05replaylog:begin;");
    /* the run to its end: HLT with IF = 0 ends the machine */
    assert_string_equal(ask(g, "z0,1002,1", NULL), "OK");
    gdb_resume(g->t, false);
    assert_true(gdb_run_chunk(g->t, 1000));
    assert_int_equal(g->t->stop, STOP_EXITED);
    assert_string_equal(ask(g, "?", NULL), "W00");
}

/* A read watchpoint on a stack slot: the PUSH that writes it does not stop, the POP that
 * reads it does, right after it; an access watchpoint stops after the PUSH. */
static void test_stack_watch(void **state)
{
    struct rig *g = *state;
    static const uint8_t code[] = { 0x50, 0x5B, 0xF4 }; /* push eax; pop ebx; hlt */
    struct cpu *c = &g->m->cpu;
    cpu_write_phys(c, 0x3000, code, sizeof code);
    cpu_set_reg(c, REG_EIP, 0x3000);
    cpu_set_reg(c, REG_ESP, 0x8000);
    cpu_set_reg(c, REG_EAX, 0x1234);
    assert_string_equal(ask(g, "Z3,7ffc,4", NULL), "OK");
    gdb_resume(g->t, false);
    assert_true(gdb_run_chunk(g->t, 1000));
    assert_int_equal(g->t->stop, STOP_WATCH);
    assert_int_equal(cpu_get_reg(c, REG_EIP), 0x3002);    /* after the pop */
    assert_int_equal(cpu_get_reg(c, REG_EBX), 0x1234);
    assert_string_equal(ask(g, "?", NULL), "T05rwatch:00007ffc;");
    assert_string_equal(ask(g, "z3,7ffc,4", NULL), "OK");
    /* again from the start with an access watchpoint: after the push */
    cpu_set_reg(c, REG_EIP, 0x3000);
    cpu_set_reg(c, REG_ESP, 0x8000);
    cpu_write_phys(c, 0x7ffc, "\x34\x12\0\0", 4);  /* the same bytes: no change to see */
    assert_string_equal(ask(g, "Z4,7ffc,4", NULL), "OK");
    gdb_resume(g->t, false);
    assert_true(gdb_run_chunk(g->t, 1000));
    assert_int_equal(g->t->stop, STOP_WATCH);
    assert_int_equal(cpu_get_reg(c, REG_EIP), 0x3001);    /* after the push */
    assert_string_equal(ask(g, "?", NULL), "T05awatch:00007ffc;");
}

/* A read watchpoint in the middle of a REP MOVSB's source: the instruction reads it in its
 * ninth iteration; the stop is right after the whole REP. */
static void test_rep_watch(void **state)
{
    struct rig *g = *state;
    static const uint8_t code[] = { 0xF3, 0xA4, 0x40, 0xF4 }; /* rep movsb; inc eax; hlt */
    struct cpu *c = &g->m->cpu;
    cpu_write_phys(c, 0x3000, code, sizeof code);
    cpu_set_reg(c, REG_EIP, 0x3000);
    cpu_set_reg(c, REG_ESI, 0x4000);
    cpu_set_reg(c, REG_EDI, 0x5000);
    cpu_set_reg(c, REG_ECX, 16);
    cpu_set_reg(c, REG_EAX, 0);
    assert_string_equal(ask(g, "Z3,4008,1", NULL), "OK");
    gdb_resume(g->t, false);
    assert_true(gdb_run_chunk(g->t, 1000));
    assert_int_equal(g->t->stop, STOP_WATCH);
    assert_int_equal(cpu_get_reg(c, REG_EIP), 0x3002);    /* after the rep movsb */
    assert_int_equal(cpu_get_reg(c, REG_ECX), 0);
    assert_int_equal(cpu_get_reg(c, REG_EAX), 0);
    assert_string_equal(ask(g, "?", NULL), "T05rwatch:00004008;");
    /* downwards (DF = 1) from 0x4010: 0x4010..0x4001, also through 0x4008 */
    cpu_set_reg(c, REG_EIP, 0x3000);
    cpu_set_reg(c, REG_ESI, 0x4010);
    cpu_set_reg(c, REG_ECX, 16);
    cpu_set_reg(c, REG_EFLAGS, cpu_get_reg(c, REG_EFLAGS) | (1u << 10));
    gdb_resume(g->t, false);
    assert_true(gdb_run_chunk(g->t, 1000));
    assert_int_equal(g->t->stop, STOP_WATCH);
    assert_int_equal(cpu_get_reg(c, REG_EIP), 0x3002);
    /* a count that stops short of it: no stop at the rep, the run ends at the HLT */
    cpu_set_reg(c, REG_EIP, 0x3000);
    cpu_set_reg(c, REG_ESI, 0x4000);
    cpu_set_reg(c, REG_ECX, 8);
    cpu_set_reg(c, REG_EFLAGS, cpu_get_reg(c, REG_EFLAGS) & ~(1u << 10));
    gdb_resume(g->t, false);
    assert_true(gdb_run_chunk(g->t, 1000));
    assert_int_equal(g->t->stop, STOP_EXITED);
}

/* Console input under the debugger (input.c): a client that hands out "abcdefgh" one byte
 * per request, counting requests; a guest that reads COM1 in a loop; a tap that lists what
 * the guest received. */
struct script {
    const char *bytes;
    unsigned next, asked;
    char got[64];
    uint64_t at[64];
    unsigned ngot;
};

static void script_refill(void *ctx, struct machine *m)
{
    struct script *sc = ctx;
    sc->asked++;
    if (sc->bytes[sc->next] && machine_input_push(m, (uint8_t)sc->bytes[sc->next]))
        sc->next++;
}

static void script_tap(void *ctx, const struct console_byte *b)
{
    struct script *sc = ctx;
    if (b->input && sc->ngot < sizeof sc->got) {
        sc->at[sc->ngot] = b->time;
        sc->got[sc->ngot++] = (char)b->byte;
    }
}

static void test_input_redelivered(void **state)
{
    (void)state;
    struct machine *m = machine_create(2, NULL, NULL);
    struct gdb_target *t = calloc(1, sizeof *t);
    struct script sc = { .bytes = "abcdefgh" };
    assert_non_null(m);
    assert_non_null(t);
    /* mov dx, 0x3f8; in al, dx; jmp back to the in */
    static const uint8_t code[] = { 0x66, 0xBA, 0xF8, 0x03, 0xEC, 0xEB, 0xFD };
    cpu_write_phys(&m->cpu, 0x1000, code, sizeof code);
    machine_boot(m, 0x1000, 0, 0);
    machine_input_open(m, script_refill, &sc);
    assert_int_equal(machine_add_tap(m, script_tap, &sc), 0);
    gdb_target_init(t, m, NULL);
    /* forward until three bytes have arrived */
    gdb_resume(t, false);
    while (sc.ngot < 3)
        assert_false(gdb_run_chunk(t, 1000));
    unsigned asked = sc.asked;
    uint64_t now = cpu_stat_insns(&m->cpu);
    char first[4];
    uint64_t first_at[3];
    memcpy(first, sc.got, 3);
    memcpy(first_at, sc.at, sizeof first_at);
    assert_int_equal(t->in_n, 3);
    /* one instruction back: re-executed from the snapshot at 0, the same three bytes
       arrive at the same device times, from the log: the client is not asked */
    sc.ngot = 0;
    gdb_reverse_step(t);
    assert_int_equal(t->stop, STOP_STEP);
    assert_int_equal(cpu_stat_insns(&m->cpu), now - 1);
    assert_int_equal(sc.asked, asked);
    assert_true(sc.ngot >= 2 && sc.ngot <= 3);
    assert_memory_equal(sc.got, first, sc.ngot);
    assert_memory_equal(sc.at, first_at, sc.ngot * sizeof first_at[0]);
    /* forward again past where the run had been: the client is asked again, and the guest
       gets the next bytes in order after those of the re-execution, none twice, none lost */
    gdb_resume(t, false);
    while (sc.ngot < 5)
        assert_false(gdb_run_chunk(t, 1000));
    assert_true(sc.asked > asked);
    assert_int_equal(sc.ngot, 5);
    assert_memory_equal(sc.got, "abcde", 5);
    assert_int_equal(t->in_n, 5);
    for (unsigned k = 0; k < 5; k++)
        assert_int_equal(t->in_log[k].byte, (uint8_t)"abcde"[k]);
    gdb_target_fini(t);
    machine_remove_tap(m, script_tap, &sc);
    machine_destroy(m);
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_framing),
        cmocka_unit_test(test_too_long),
        cmocka_unit_test(test_hex),
        cmocka_unit_test(test_reply_escapes),
        cmocka_unit_test_setup_teardown(test_registers_memory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_break_step_reverse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stack_watch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rep_watch, setup, teardown),
        cmocka_unit_test(test_input_redelivered),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
