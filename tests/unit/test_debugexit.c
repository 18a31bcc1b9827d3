/* debugexit.c: QEMU isa-debug-exit semantics on ports 0xF4..0xF7. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "devices/bus.h"
#include "devices/debugexit.h"

static void byte_write_requests_exit(void **state)
{
    (void)state;
    struct bus b;
    struct debugexit d;
    bus_init(&b);
    assert_int_equal(debugexit_attach(&d, &b, DEBUGEXIT_IOBASE, DEBUGEXIT_IOSIZE), 0);
    assert_false(b.exit_requested);
    bus_out(&b, 0xF4, 0x10, 1);
    assert_true(b.exit_requested);
    assert_int_equal(b.exit_status, 0x21);
}

static void value_of_the_access_size(void **state)
{
    (void)state;
    struct bus b;
    struct debugexit d;
    bus_init(&b);
    assert_int_equal(debugexit_attach(&d, &b, DEBUGEXIT_IOBASE, DEBUGEXIT_IOSIZE), 0);
    bus_out(&b, 0xF4, 0x1234, 2);
    assert_int_equal(b.exit_status, 0x2469);
    bus_out(&b, 0xF4, 0xFFFF0000 | 0x0100, 1); /* byte access: only 0x00 counts */
    assert_int_equal(b.exit_status, 1);
    bus_out(&b, 0xF4, 0x00000003, 4);
    assert_int_equal(b.exit_status, 7);
    bus_out(&b, 0xF7, 0x02, 1); /* any port of the range */
    assert_int_equal(b.exit_status, 5);
}

static void reads_and_other_ports(void **state)
{
    (void)state;
    struct bus b;
    struct debugexit d;
    bus_init(&b);
    assert_int_equal(debugexit_attach(&d, &b, DEBUGEXIT_IOBASE, DEBUGEXIT_IOSIZE), 0);
    assert_int_equal(bus_in(&b, 0xF4, 1), 0xFF);
    bus_out(&b, 0xF8, 1, 1);
    bus_out(&b, 0xF3, 1, 1);
    assert_false(b.exit_requested);
}

static void bad_claims(void **state)
{
    (void)state;
    struct bus b;
    struct debugexit d, e;
    bus_init(&b);
    assert_int_equal(debugexit_attach(&d, &b, 0xF4, 0), -1);
    assert_int_equal(debugexit_attach(&d, &b, 0xFFFE, 4), -1);
    assert_int_equal(debugexit_attach(&d, &b, 0x501, 2), 0); /* QEMU's default iobase works */
    assert_int_equal(debugexit_attach(&e, &b, 0x502, 1), -1);
    bus_out(&b, 0x501, 0, 1);
    assert_true(b.exit_requested);
    assert_int_equal(b.exit_status, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(byte_write_requests_exit),
        cmocka_unit_test(value_of_the_access_size),
        cmocka_unit_test(reads_and_other_ports),
        cmocka_unit_test(bad_claims),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
