/* insnlog.c: the line format, against a real cpu with paging off (linear = physical), which
 * the log reads through the inspection API only. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cpu/inspect.h"
#include "devices/bus.h"
#include "frontend/insnlog.h"

#define RAM 0x2000u

struct fixture {
    struct cpu *c;
    struct bus bus;
    uint8_t *ram;
    struct insnlog *log, *log_regs;
    char *text;
    size_t textlen;
    FILE *out;
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    char err[128];
    if (!fx)
        return -1;
    fx->c = calloc(1, sizeof(*fx->c));
    fx->ram = calloc(1, RAM);
    bus_init(&fx->bus);
    if (!fx->c || !fx->ram || cpu_init(fx->c, fx->ram, RAM, &fx->bus) < 0)
        return -1;
    cpu_reset_protected_flat(fx->c, 0); /* CS = 0x08, base 0 */
    fx->out = open_memstream(&fx->text, &fx->textlen);
    fx->log = insnlog_open(fx->out, false, err, sizeof(err));
    fx->log_regs = insnlog_open(fx->out, true, err, sizeof(err));
    *state = fx;
    return fx->out && fx->log && fx->log_regs ? 0 : -1;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    insnlog_close(fx->log);
    insnlog_close(fx->log_regs);
    fclose(fx->out);
    free(fx->text);
    cpu_free(fx->c);
    free(fx->ram);
    free(fx->c);
    free(fx);
    return 0;
}

static void instruction_line(void **state)
{
    struct fixture *fx = *state;
    char buf[512];
    memcpy(fx->ram + 0x1000, "\xb8\x01\x00\x00\x00", 5); /* mov eax, 1 */
    fx->c->icount = 42;
    insnlog_format(fx->log, fx->c, 0x1000, buf, sizeof(buf));
    assert_string_equal(buf, "42 0008:00001000 b8 01 00 00 00           mov eax, 1\n");
}

static void long_instruction_widens_the_byte_column(void **state)
{
    struct fixture *fx = *state;
    char buf[512];
    /* mov dword ptr [eax*4 + 0x12345678], 0x9abcdef0: 11 bytes */
    memcpy(fx->ram + 0x100, "\xc7\x04\x85\x78\x56\x34\x12\xf0\xde\xbc\x9a", 11);
    insnlog_format(fx->log, fx->c, 0x100, buf, sizeof(buf));
    assert_non_null(strstr(buf, "c7 04 85 78 56 34 12 f0 de bc 9a  mov dword ptr [eax*4 + "
                                "0x12345678], 0x9abcdef0\n"));
}

static void registers_line(void **state)
{
    struct fixture *fx = *state;
    char buf[512];
    memcpy(fx->ram + 0x10, "\xf4", 1); /* hlt */
    for (int i = 0; i < 8; i++)
        cpu_set_reg(fx->c, (enum cpu_reg)(REG_EAX + i), 0x11111111u * (uint32_t)(i + 1));
    cpu_set_reg(fx->c, REG_EFLAGS, FL_R1 | FL_ZF | FL_PF | FL_IF);
    insnlog_format(fx->log_regs, fx->c, 0x10, buf, sizeof(buf));
    assert_non_null(strstr(buf, " hlt\n    EAX=11111111 EBX=44444444 ECX=22222222 EDX=33333333 "
                                "ESI=77777777 EDI=88888888 EBP=66666666 ESP=55555555 "
                                "EFL=00000246 [---Z-P-]\n"));
}

static void unreadable_and_undecodable(void **state)
{
    struct fixture *fx = *state;
    char buf[512];
    insnlog_format(fx->log, fx->c, 0x10000, buf, sizeof(buf));
    assert_non_null(strstr(buf, "0008:00010000                          <unreadable>\n"));
    memcpy(fx->ram + RAM - 2, "\xb8\x01", 2); /* cut off by the end of memory */
    insnlog_format(fx->log, fx->c, RAM - 2, buf, sizeof(buf));
    assert_non_null(strstr(buf, "b8 01                    (bad)\n"));
}

static void eip_is_relative_to_cs_base(void **state)
{
    struct fixture *fx = *state;
    char buf[512];
    struct seg_value cs;
    cpu_get_seg(fx->c, SREG_CS, &cs);
    cs.base = 0x1000;
    cs.sel = 0x1B;
    cpu_set_seg(fx->c, SREG_CS, &cs);
    memcpy(fx->ram + 0x1004, "\xeb\xfe", 2); /* jmp $ */
    insnlog_format(fx->log, fx->c, 0x1004, buf, sizeof(buf));
    assert_non_null(strstr(buf, " 001b:00000004 eb fe"));
    assert_non_null(strstr(buf, "jmp 4\n"));
}

static void hook_writes_to_the_stream(void **state)
{
    struct fixture *fx = *state;
    memcpy(fx->ram + 0x20, "\x90", 1);
    assert_int_equal(insnlog_attach(fx->log, fx->c), 0);
    assert_non_null(fx->c->insn_hook);
    fx->c->insn_hook(fx->c->insn_hook_ctx, fx->c, 0x20);
    fflush(fx->out);
    assert_non_null(strstr(fx->text, "0008:00000020 90"));
    assert_non_null(strstr(fx->text, " nop\n"));
    insnlog_detach(fx->log_regs, fx->c); /* not this one's hook: left alone */
    assert_non_null(fx->c->insn_hook);
    insnlog_detach(fx->log, fx->c);
    assert_null(fx->c->insn_hook);
    assert_null(fx->c->insn_hook_ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(instruction_line, setup, teardown),
        cmocka_unit_test_setup_teardown(long_instruction_widens_the_byte_column, setup, teardown),
        cmocka_unit_test_setup_teardown(registers_line, setup, teardown),
        cmocka_unit_test_setup_teardown(unreadable_and_undecodable, setup, teardown),
        cmocka_unit_test_setup_teardown(eip_is_relative_to_cs_base, setup, teardown),
        cmocka_unit_test_setup_teardown(hook_writes_to_the_stream, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
