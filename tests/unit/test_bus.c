/* bus.c: port and MMIO dispatch, unclaimed accesses, overlap rejection, access splitting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "devices/bus.h"

/* A fake device that records its last access and reads back a fixed pattern. */
struct fake {
    unsigned reads, writes;
    uint32_t last_where, last_value;
    unsigned last_size;
    uint32_t pattern;
};

static uint32_t fake_in(void *dev, uint16_t port, unsigned size)
{
    struct fake *f = dev;
    f->reads++;
    f->last_where = port;
    f->last_size = size;
    return f->pattern;
}

static void fake_out(void *dev, uint16_t port, uint32_t value, unsigned size)
{
    struct fake *f = dev;
    f->writes++;
    f->last_where = port;
    f->last_value = value;
    f->last_size = size;
}

static uint32_t fake_mread(void *dev, uint32_t off, unsigned size)
{
    return fake_in(dev, (uint16_t)off, size) ^ off;
}

static void fake_mwrite(void *dev, uint32_t off, uint32_t value, unsigned size)
{
    struct fake *f = dev;
    fake_out(dev, 0, value, size);
    f->last_where = off;
}

static void unclaimed_ports_read_all_ones(void **state)
{
    (void)state;
    struct bus b;
    bus_init(&b);
    assert_int_equal(bus_in(&b, 0x80, 1), 0xFF);
    assert_int_equal(bus_in(&b, 0x80, 2), 0xFFFF);
    assert_int_equal(bus_in(&b, 0x80, 4), 0xFFFFFFFFu);
    assert_int_equal(bus_in(&b, 0xFFFF, 4), 0xFFFFFFFFu); /* wraps, no crash */
    bus_out(&b, 0x80, 0x12345678, 4);
    bus_out(&b, 0xFFFF, 0x12345678, 4);
    assert_false(b.exit_requested);
}

static void ports_dispatch_with_port_and_size(void **state)
{
    (void)state;
    struct bus b;
    struct fake f = { .pattern = 0xA1B2C3D4 };
    bus_init(&b);
    assert_int_equal(bus_add_ports(&b, 0x60, 0x64, fake_in, fake_out, &f), 0);
    assert_int_equal(bus_in(&b, 0x61, 1), 0xD4); /* masked to the access size */
    assert_int_equal(f.last_where, 0x61);
    assert_int_equal(f.last_size, 1);
    assert_int_equal(bus_in(&b, 0x60, 4), 0xA1B2C3D4);
    bus_out(&b, 0x62, 0xFFFF1234, 2);
    assert_int_equal(f.last_where, 0x62);
    assert_int_equal(f.last_value, 0x1234);
    assert_int_equal(f.last_size, 2);
    assert_int_equal(bus_in(&b, 0x65, 1), 0xFF);
    assert_int_equal(bus_in(&b, 0x5F, 1), 0xFF);
}

static void overlapping_claims_are_rejected(void **state)
{
    (void)state;
    struct bus b;
    struct fake f = { 0 };
    bus_init(&b);
    assert_int_equal(bus_add_ports(&b, 0x3F8, 0x3FF, fake_in, fake_out, &f), 0);
    assert_int_equal(bus_add_ports(&b, 0x3F8, 0x3FF, fake_in, fake_out, &f), -1);
    assert_int_equal(bus_add_ports(&b, 0x3F0, 0x3F8, fake_in, fake_out, &f), -1);
    assert_int_equal(bus_add_ports(&b, 0x3FF, 0x400, fake_in, fake_out, &f), -1);
    assert_int_equal(bus_add_ports(&b, 0x3FA, 0x3FB, fake_in, fake_out, &f), -1);
    assert_int_equal(bus_add_ports(&b, 0x300, 0x500, fake_in, fake_out, &f), -1);
    assert_int_equal(bus_add_ports(&b, 0x400, 0x300, fake_in, fake_out, &f), -1);
    assert_int_equal(bus_add_ports(&b, 0x3F0, 0x3F7, fake_in, fake_out, &f), 0);
    assert_int_equal(bus_add_ports(&b, 0x400, 0x400, fake_in, fake_out, &f), 0);
    assert_int_equal(b.nports, 3);
}

static void port_table_full_is_rejected(void **state)
{
    (void)state;
    struct bus b;
    struct fake f = { 0 };
    bus_init(&b);
    for (int i = 0; i < BUS_MAX_PORT_RANGES; i++)
        assert_int_equal(bus_add_ports(&b, (uint16_t)(i * 2), (uint16_t)(i * 2), fake_in,
                                       fake_out, &f), 0);
    assert_int_equal(bus_add_ports(&b, 0x1000, 0x1000, fake_in, fake_out, &f), -1);
}

static void straddling_access_is_split_into_bytes(void **state)
{
    (void)state;
    struct bus b;
    struct fake f = { .pattern = 0x42 };
    bus_init(&b);
    assert_int_equal(bus_add_ports(&b, 0x70, 0x71, fake_in, fake_out, &f), 0);
    /* 0x71 belongs to the device, 0x72..0x74 to nobody. */
    assert_int_equal(bus_in(&b, 0x71, 4), 0xFFFFFF42u);
    assert_int_equal(f.last_size, 1);
    assert_int_equal(bus_in(&b, 0x6F, 2), 0x42FF);
    f.writes = 0;
    bus_out(&b, 0x71, 0xAABBCCDD, 4);
    assert_int_equal(f.writes, 1);
    assert_int_equal(f.last_value, 0xDD);
    assert_int_equal(f.last_size, 1);
}

static void null_handlers_behave_as_unclaimed(void **state)
{
    (void)state;
    struct bus b;
    bus_init(&b);
    assert_int_equal(bus_add_ports(&b, 0x10, 0x13, NULL, NULL, NULL), 0);
    assert_int_equal(bus_in(&b, 0x10, 2), 0xFFFF);
    bus_out(&b, 0x10, 1, 1);
}

static void mmio_dispatch_and_rejection(void **state)
{
    (void)state;
    struct bus b;
    struct fake f = { .pattern = 0x11223344 };
    bus_init(&b);
    assert_int_equal(bus_add_mmio(&b, 0xFEC00000, 0x1000, fake_mread, fake_mwrite, &f), 0);
    assert_int_equal(bus_add_mmio(&b, 0xFEC00800, 0x1000, fake_mread, fake_mwrite, &f), -1);
    assert_int_equal(bus_add_mmio(&b, 0xFEBFF000, 0x1001, fake_mread, fake_mwrite, &f), -1);
    assert_int_equal(bus_add_mmio(&b, 0xFEBFF000, 0x1000, fake_mread, fake_mwrite, &f), 0);
    assert_int_equal(bus_add_mmio(&b, 0x10000000, 0, fake_mread, fake_mwrite, &f), -1);
    assert_int_equal(bus_add_mmio(&b, 0xFFFFF000, 0x2000, fake_mread, fake_mwrite, &f), -1);
    assert_int_equal(bus_add_mmio(&b, 0xFFFFF000, 0x1000, fake_mread, fake_mwrite, &f), 0);

    assert_int_equal(bus_mmio_read(&b, 0xFEC00010, 4), 0x11223344u ^ 0x10);
    assert_int_equal(f.last_size, 4);
    bus_mmio_write(&b, 0xFEC00020, 0xCAFEBABE, 2);
    assert_int_equal(f.last_where, 0x20);
    assert_int_equal(f.last_value, 0xBABE);
    assert_int_equal(bus_mmio_read(&b, 0xE0000000, 4), 0xFFFFFFFFu);
    assert_int_equal(bus_mmio_read(&b, 0xE0000000, 1), 0xFF);
    bus_mmio_write(&b, 0xE0000000, 1, 4);
    /* The very top of the address space: a 4-byte read at 0xFFFFFFFE takes two bytes from
     * the device (offsets 0xFFE, 0xFFF) and two unclaimed ones from the wrapped addresses 0, 1. */
    assert_int_equal(bus_mmio_read(&b, 0xFFFFFFFF, 1), 0x44u ^ 0xFF);
    assert_int_equal(bus_mmio_read(&b, 0xFFFFFFFE, 4), 0xFFFF0000u | (0x44u ^ 0xFF) << 8
                                                           | (0x44u ^ 0xFE));
}

/* The range lookup the cpu remembers per TLB slot (bus_mmio_range) names a range only when it
 * holds the whole access; bus_range_read reads as bus_mmio_read does; a peek goes to the range
 * that starts at the base given. */
static bool fake_peek(const void *dev, uint32_t off, unsigned size, uint32_t *v)
{
    (void)dev;
    *v = off + size;
    return true;
}

static void mmio_ranges_and_peeks(void **state)
{
    (void)state;
    struct bus b;
    struct fake f = { .pattern = 0x11223344 };
    bus_init(&b);
    assert_int_equal(bus_add_mmio(&b, 0xFEC00000, 0x2000, fake_mread, fake_mwrite, &f), 0);
    assert_int_equal(bus_add_mmio(&b, 0xFED00000, 0x400, fake_mread, fake_mwrite, &f), 0);
    assert_int_equal(bus_add_mmio(&b, 0xFFFFF000, 0x1000, fake_mread, fake_mwrite, &f), 0);
    assert_ptr_equal(bus_mmio_range(&b, 0xFEC00000, 4), &b.mmio[0]);
    assert_ptr_equal(bus_mmio_range(&b, 0xFEC01FFC, 4), &b.mmio[0]);
    assert_null(bus_mmio_range(&b, 0xFEC01FFE, 4)); /* runs past the end */
    assert_ptr_equal(bus_mmio_range(&b, 0xFEC01FFE, 2), &b.mmio[0]);
    assert_null(bus_mmio_range(&b, 0xFEC02000, 1));
    assert_null(bus_mmio_range(&b, 0xFEBFFFFE, 4)); /* starts before */
    assert_ptr_equal(bus_mmio_range(&b, 0xFED003FF, 1), &b.mmio[1]);
    assert_null(bus_mmio_range(&b, 0xFED00400, 1));
    assert_ptr_equal(bus_mmio_range(&b, 0xFFFFFFFC, 4), &b.mmio[2]);
    assert_null(bus_mmio_range(&b, 0xFFFFFFFE, 4)); /* wraps */
    assert_null(bus_mmio_range(&b, 0x00000000, 1));
    for (unsigned size = 1; size <= 4; size *= 2)
        assert_int_equal(bus_range_read(&b.mmio[0], 0xFEC01FF0, size),
                         bus_mmio_read(&b, 0xFEC01FF0, size));
    assert_null(b.mmio[0].peek);
    assert_int_equal(bus_set_mmio_peek(&b, 0xFEC01000, fake_peek), -1);
    assert_int_equal(bus_set_mmio_peek(&b, 0xFED00000, fake_peek), 0);
    assert_null(b.mmio[0].peek);
    assert_ptr_equal(b.mmio[1].peek, fake_peek);
}

static void two_buses_are_independent(void **state)
{
    (void)state;
    struct bus a, b;
    struct fake f = { .pattern = 7 };
    bus_init(&a);
    bus_init(&b);
    assert_int_equal(bus_add_ports(&a, 0x20, 0x21, fake_in, fake_out, &f), 0);
    assert_int_equal(bus_in(&a, 0x20, 1), 7);
    assert_int_equal(bus_in(&b, 0x20, 1), 0xFF);
    assert_int_equal(bus_add_ports(&b, 0x20, 0x21, fake_in, fake_out, &f), 0);
}

/* What the unclaimed-access callback was told. */
struct unimp {
    unsigned calls;
    bool mmio, write;
    uint32_t addr;
    unsigned size;
};

static void record_unimp(void *ctx, bool mmio, uint32_t addr, unsigned size, bool write)
{
    struct unimp *u = ctx;
    u->calls++;
    u->mmio = mmio;
    u->addr = addr;
    u->size = size;
    u->write = write;
}

static void unclaimed_accesses_are_reported_once(void **state)
{
    (void)state;
    struct bus b;
    struct fake f = { .pattern = 0x11223344 };
    struct unimp u = { 0 };
    bus_init(&b);
    assert_int_equal(bus_in(&b, 0x61, 1), 0xFF); /* reporting off: nothing */
    bus_set_unclaimed(&b, record_unimp, &u);
    assert_int_equal(bus_add_ports(&b, 0x60, 0x60, fake_in, fake_out, &f), 0);
    assert_int_equal(bus_in(&b, 0x61, 1), 0xFF);
    assert_int_equal(u.calls, 1);
    assert_false(u.mmio);
    assert_false(u.write);
    assert_int_equal(u.addr, 0x61);
    assert_int_equal(u.size, 1);
    bus_out(&b, 0x61, 0, 1); /* the same port again, even written: already reported */
    assert_int_equal(u.calls, 1);
    bus_in(&b, 0x60, 1); /* claimed: never reported */
    assert_int_equal(u.calls, 1);
    /* A wide access that no device claims any byte of: one report, with its size. */
    bus_out(&b, 0xCF8, 0x80000000u, 4);
    assert_int_equal(u.calls, 2);
    assert_true(u.write);
    assert_int_equal(u.addr, 0xCF8);
    assert_int_equal(u.size, 4);
    bus_in(&b, 0xCFA, 1); /* inside it: already reported */
    assert_int_equal(u.calls, 2);
    /* Partly claimed: the device gets its byte, the unclaimed byte is reported alone. */
    assert_int_equal(bus_in(&b, 0x5F, 2), 0x44FFu);
    assert_int_equal(u.calls, 3);
    assert_int_equal(u.addr, 0x5F);
    assert_int_equal(u.size, 1);
    /* MMIO: each address once, the list is short, and its end is announced once. */
    assert_int_equal(bus_mmio_read(&b, 0xFEE00030u, 4), 0xFFFFFFFFu);
    assert_int_equal(u.calls, 4);
    assert_true(u.mmio);
    assert_int_equal(u.addr, 0xFEE00030u);
    bus_mmio_write(&b, 0xFEE00030u, 1, 4);
    assert_int_equal(u.calls, 4);
    for (uint32_t i = 1; i < BUS_MAX_SEEN_MMIO + 10; i++)
        bus_mmio_write(&b, 0xE0000000u + 4 * i, 0, 4);
    assert_int_equal(u.calls, 4 + (BUS_MAX_SEEN_MMIO - 1) + 1);
    assert_int_equal(u.size, 0); /* the "list full" call */
    bus_mmio_read(&b, 0xD0000000u, 1);
    assert_int_equal(u.calls, 4 + BUS_MAX_SEEN_MMIO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(unclaimed_ports_read_all_ones),
        cmocka_unit_test(ports_dispatch_with_port_and_size),
        cmocka_unit_test(overlapping_claims_are_rejected),
        cmocka_unit_test(port_table_full_is_rejected),
        cmocka_unit_test(straddling_access_is_split_into_bytes),
        cmocka_unit_test(null_handlers_behave_as_unclaimed),
        cmocka_unit_test(mmio_dispatch_and_rejection),
        cmocka_unit_test(mmio_ranges_and_peeks),
        cmocka_unit_test(two_buses_are_independent),
        cmocka_unit_test(unclaimed_accesses_are_reported_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
