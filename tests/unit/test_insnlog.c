/* insnlog.c: the line format, against a fake cpu whose linear memory is c->ram. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cpu/cpu.h"
#include "frontend/insnlog.h"

/* The two cpu functions the log uses, faked: linear = physical = c->ram. */
size_t cpu_peek_linear(struct cpu *c, uint32_t lin, void *buf, size_t len)
{
    if (lin >= c->ram_size)
        return 0;
    size_t n = c->ram_size - lin < len ? c->ram_size - lin : len;
    memcpy(buf, c->ram + lin, n);
    return n;
}

uint32_t cpu_get_eflags(struct cpu *c)
{
    return c->eflags;
}

#define RAM 0x2000u

struct fixture {
    struct cpu *c;
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
    fx->c->ram = calloc(1, RAM);
    fx->c->ram_size = RAM;
    fx->c->seg[SEG_CS].sel = 0x08;
    fx->out = open_memstream(&fx->text, &fx->textlen);
    fx->log = insnlog_open(fx->out, false, err, sizeof(err));
    fx->log_regs = insnlog_open(fx->out, true, err, sizeof(err));
    *state = fx;
    return fx->c->ram && fx->out && fx->log && fx->log_regs ? 0 : -1;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    insnlog_close(fx->log);
    insnlog_close(fx->log_regs);
    fclose(fx->out);
    free(fx->text);
    free(fx->c->ram);
    free(fx->c);
    free(fx);
    return 0;
}

static void instruction_line(void **state)
{
    struct fixture *fx = *state;
    char buf[512];
    memcpy(fx->c->ram + 0x1000, "\xb8\x01\x00\x00\x00", 5); /* mov eax, 1 */
    fx->c->icount = 42;
    insnlog_format(fx->log, fx->c, 0x1000, buf, sizeof(buf));
    assert_string_equal(buf, "42 0008:00001000 b8 01 00 00 00           mov eax, 1\n");
}

static void long_instruction_widens_the_byte_column(void **state)
{
    struct fixture *fx = *state;
    char buf[512];
    /* mov dword ptr [eax*4 + 0x12345678], 0x9abcdef0: 11 bytes */
    memcpy(fx->c->ram + 0x100, "\xc7\x04\x85\x78\x56\x34\x12\xf0\xde\xbc\x9a", 11);
    insnlog_format(fx->log, fx->c, 0x100, buf, sizeof(buf));
    assert_non_null(strstr(buf, "c7 04 85 78 56 34 12 f0 de bc 9a  mov dword ptr [eax*4 + "
                                "0x12345678], 0x9abcdef0\n"));
}

static void registers_line(void **state)
{
    struct fixture *fx = *state;
    char buf[512];
    memcpy(fx->c->ram + 0x10, "\xf4", 1); /* hlt */
    for (int i = 0; i < 8; i++)
        fx->c->r[i] = 0x11111111u * (uint32_t)(i + 1);
    fx->c->eflags = FL_R1 | FL_ZF | FL_PF | FL_IF;
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
    memcpy(fx->c->ram + RAM - 2, "\xb8\x01", 2); /* cut off by the end of memory */
    insnlog_format(fx->log, fx->c, RAM - 2, buf, sizeof(buf));
    assert_non_null(strstr(buf, "b8 01                    (bad)\n"));
}

static void eip_is_relative_to_cs_base(void **state)
{
    struct fixture *fx = *state;
    char buf[512];
    fx->c->seg[SEG_CS].base = 0x1000;
    fx->c->seg[SEG_CS].sel = 0x1B;
    memcpy(fx->c->ram + 0x1004, "\xeb\xfe", 2); /* jmp $ */
    insnlog_format(fx->log, fx->c, 0x1004, buf, sizeof(buf));
    assert_non_null(strstr(buf, " 001b:00000004 eb fe"));
    assert_non_null(strstr(buf, "jmp 4\n"));
}

static void hook_writes_to_the_stream(void **state)
{
    struct fixture *fx = *state;
    memcpy(fx->c->ram + 0x20, "\x90", 1);
    insnlog_attach(fx->log, fx->c);
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
