/* cmos.c: the deterministic RTC (start date, advance with device time, calendar), BCD/binary
 * and 12/24-hour formats, setting the clock, UIP, register C flags, the memory-size bytes and
 * plain CMOS RAM, through ports 0x70/0x71 on a fake device clock of 1 unit = 1 us. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "devices/bus.h"
#include "devices/cmos.h"
#include "devices/pit8254.h"

#define UPS 1000000u /* units per second of the fake clock */
#define SEC ((uint64_t)UPS)
#define DAY (86400 * SEC)

struct fixture {
    struct bus bus;
    struct cmos cmos;
    struct devclock clk;
    uint64_t t;
};

static uint64_t fake_now(void *ctx)
{
    return ((struct fixture *)ctx)->t;
}

static struct fixture *make(uint32_t ram_bytes)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    if (!fx)
        return NULL;
    bus_init(&fx->bus);
    fx->clk = (struct devclock){ .now = fake_now, .ctx = fx, .units_per_sec = UPS };
    cmos_init(&fx->cmos, &fx->clk, ram_bytes);
    if (cmos_attach(&fx->cmos, &fx->bus) < 0) {
        free(fx);
        return NULL;
    }
    return fx;
}

static int setup(void **state)
{
    *state = make(128u << 20);
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    free(*state);
    return 0;
}

/* The way every kernel reads CMOS: index to 0x70 (NMI stays enabled), byte from 0x71. */
static uint8_t rd(struct fixture *fx, uint8_t index)
{
    bus_out(&fx->bus, 0x70, index, 1);
    return (uint8_t)bus_in(&fx->bus, 0x71, 1);
}

static void wr(struct fixture *fx, uint8_t index, uint8_t v)
{
    bus_out(&fx->bus, 0x70, index, 1);
    bus_out(&fx->bus, 0x71, v, 1);
}

/* The time and date registers as one number 0xYYMMDDhhmmss (BCD reads as the digits). */
static uint64_t stamp(struct fixture *fx)
{
    uint8_t r[] = { CMOS_YEAR, CMOS_MONTH, CMOS_DAY, CMOS_HOURS, CMOS_MINUTES, CMOS_SECONDS };
    uint64_t v = 0;
    for (unsigned i = 0; i < sizeof r; i++)
        v = v << 8 | rd(fx, r[i]);
    return v;
}

static void power_on_clock(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(stamp(fx), 0x000101000000ull); /* 2000-01-01 00:00:00, BCD */
    assert_int_equal(rd(fx, CMOS_CENTURY), 0x20);
    assert_int_equal(rd(fx, CMOS_WEEKDAY), 7); /* a Saturday */
    assert_int_equal(rd(fx, CMOS_REG_A), 0x26);
    assert_int_equal(rd(fx, CMOS_REG_B), 0x02);
    assert_int_equal(rd(fx, CMOS_REG_D), 0x80);
    assert_int_equal(bus_in(&fx->bus, 0x70, 1), 0xFF); /* the index port is write-only */
}

static void clock_follows_device_time(void **state)
{
    struct fixture *fx = *state;
    fx->t = 59 * SEC + SEC - 1;
    assert_int_equal(stamp(fx), 0x000101000059ull);
    fx->t = 3661 * SEC;
    assert_int_equal(stamp(fx), 0x000101010101ull);
    fx->t = 59 * DAY; /* 2000 is a leap year */
    assert_int_equal(stamp(fx), 0x000229000000ull);
    assert_int_equal(rd(fx, CMOS_WEEKDAY), 3); /* 2000-02-29: Tuesday */
    fx->t = 60 * DAY;
    assert_int_equal(stamp(fx), 0x000301000000ull);
    fx->t = 366 * DAY + 86399 * SEC;
    assert_int_equal(stamp(fx), 0x010101235959ull);
    fx->t = 36525 * DAY; /* 2100-01-01 */
    assert_int_equal(stamp(fx), 0x000101000000ull);
    assert_int_equal(rd(fx, CMOS_CENTURY), 0x21);
    assert_int_equal(cmos_seconds(&fx->cmos), 36525 * (int64_t)86400);
}

static void binary_and_12_hour_modes(void **state)
{
    struct fixture *fx = *state;
    fx->t = (13 * 3600 + 45 * 60 + 30) * SEC + 12 * DAY;
    assert_int_equal(rd(fx, CMOS_HOURS), 0x13);
    wr(fx, CMOS_REG_B, CMOS_B_24H | CMOS_B_DM); /* binary */
    assert_int_equal(rd(fx, CMOS_HOURS), 13);
    assert_int_equal(rd(fx, CMOS_MINUTES), 45);
    assert_int_equal(rd(fx, CMOS_SECONDS), 30);
    assert_int_equal(rd(fx, CMOS_DAY), 13);
    assert_int_equal(rd(fx, CMOS_CENTURY), 20);
    wr(fx, CMOS_REG_B, 0); /* BCD, 12-hour: bit 7 = PM */
    assert_int_equal(rd(fx, CMOS_HOURS), 0x81);
    fx->t = 12 * DAY; /* midnight is 12 AM */
    assert_int_equal(rd(fx, CMOS_HOURS), 0x12);
    fx->t = 12 * DAY + 12 * 3600 * SEC; /* noon is 12 PM */
    assert_int_equal(rd(fx, CMOS_HOURS), 0x92);
    wr(fx, CMOS_REG_B, CMOS_B_DM); /* binary, 12-hour */
    assert_int_equal(rd(fx, CMOS_HOURS), 0x8C);
    /* Writing an hour in 12-hour form: 11 PM. */
    wr(fx, CMOS_HOURS, 0x80 | 11);
    wr(fx, CMOS_REG_B, CMOS_B_24H | CMOS_B_DM);
    assert_int_equal(rd(fx, CMOS_HOURS), 23);
}

/* How a kernel sets the clock (Linux mc146818_set_time): SET, the fields, SET off. */
static void setting_the_clock(void **state)
{
    struct fixture *fx = *state;
    fx->t = 5 * SEC + 300000; /* 0.3 s into a second */
    uint8_t b = rd(fx, CMOS_REG_B);
    wr(fx, CMOS_REG_B, b | CMOS_B_SET);
    wr(fx, CMOS_SECONDS, 0x58);
    wr(fx, CMOS_MINUTES, 0x59);
    wr(fx, CMOS_HOURS, 0x23);
    wr(fx, CMOS_DAY, 0x29);
    wr(fx, CMOS_MONTH, 0x02);
    wr(fx, CMOS_YEAR, 0x24);
    fx->t += 10 * SEC; /* stopped: no updates while SET */
    assert_int_equal(stamp(fx), 0x240229235958ull);
    assert_int_equal(rd(fx, CMOS_REG_A) & CMOS_A_UIP, 0);
    wr(fx, CMOS_REG_B, b);
    assert_int_equal(stamp(fx), 0x240229235958ull);
    /* The divider kept its phase: the next update is at the next whole second of the old
     * clock (t = 16 s), then one per second. */
    fx->t = 16 * SEC - 1;
    assert_int_equal(stamp(fx), 0x240229235958ull);
    fx->t = 16 * SEC;
    assert_int_equal(stamp(fx), 0x240229235959ull);
    fx->t = 17 * SEC;
    assert_int_equal(stamp(fx), 0x240301000000ull);
    assert_int_equal(rd(fx, CMOS_WEEKDAY), 6); /* 2024-03-01: Friday */
    /* A single field written while the clock runs; the others stay. */
    wr(fx, CMOS_MINUTES, 0x30);
    assert_int_equal(stamp(fx), 0x240301003000ull);
    fx->t += SEC;
    assert_int_equal(stamp(fx), 0x240301003001ull);
}

static void divider_reset_restarts_half_a_second_later(void **state)
{
    struct fixture *fx = *state;
    fx->t = 2 * SEC + 700000;
    wr(fx, CMOS_REG_A, 0x70 | 6); /* divider held in reset */
    fx->t += 5 * SEC;
    assert_int_equal(stamp(fx), 0x000101000002ull);
    wr(fx, CMOS_REG_A, 0x26);
    fx->t += SEC / 2 - 1;
    assert_int_equal(rd(fx, CMOS_SECONDS), 0x02);
    fx->t += 1;
    assert_int_equal(rd(fx, CMOS_SECONDS), 0x03);
}

/* UIP is up for the last 244 us of each second; a guest that waits for it never waits
 * forever (xv6's cmostime retries while it is set; Linux waits for it to drop). */
static void update_in_progress_flag(void **state)
{
    struct fixture *fx = *state;
    fx->t = 3 * SEC - 245;
    assert_int_equal(rd(fx, CMOS_REG_A), 0x26);
    fx->t = 3 * SEC - 244;
    assert_int_equal(rd(fx, CMOS_REG_A), 0x26 | CMOS_A_UIP);
    fx->t = 3 * SEC - 1;
    assert_int_equal(rd(fx, CMOS_REG_A), 0x26 | CMOS_A_UIP);
    assert_int_equal(rd(fx, CMOS_SECONDS), 0x02); /* the old second until the update */
    fx->t = 3 * SEC;
    assert_int_equal(rd(fx, CMOS_REG_A), 0x26);
    assert_int_equal(rd(fx, CMOS_SECONDS), 0x03);
    /* A polling loop: each read costs 10 units of device time. */
    fx->t = 7 * SEC - 200;
    unsigned reads = 0;
    while (rd(fx, CMOS_REG_A) & CMOS_A_UIP) {
        fx->t += 10;
        reads++;
        assert_true(reads < 100);
    }
    assert_int_equal(reads, 20);
    wr(fx, CMOS_REG_A, 0xA6); /* UIP is read-only */
    fx->t = 8 * SEC + 1;
    assert_int_equal(rd(fx, CMOS_REG_A), 0x26);
}

static void register_c_flags(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(rd(fx, CMOS_REG_C), 0);
    fx->t = SEC; /* an update happened */
    assert_int_equal(rd(fx, CMOS_REG_C), CMOS_C_UF | CMOS_C_PF);
    assert_int_equal(rd(fx, CMOS_REG_C), 0); /* cleared by reading */
    fx->t += 500; /* half a 1024 Hz period: nothing */
    assert_int_equal(rd(fx, CMOS_REG_C), 0);
    fx->t += 500;
    assert_int_equal(rd(fx, CMOS_REG_C), CMOS_C_PF);
    wr(fx, CMOS_REG_B, CMOS_B_24H | CMOS_B_UIE | CMOS_B_AIE);
    wr(fx, CMOS_REG_A, 0x20); /* no periodic rate */
    wr(fx, CMOS_ALARM_SEC, 0x05);
    wr(fx, CMOS_ALARM_MIN, 0xC0); /* any minute */
    wr(fx, CMOS_ALARM_HR, 0xFF);  /* any hour */
    fx->t = 4 * SEC;
    assert_int_equal(rd(fx, CMOS_REG_C), CMOS_C_IRQF | CMOS_C_UF);
    fx->t = 5 * SEC;
    assert_int_equal(rd(fx, CMOS_REG_C), CMOS_C_IRQF | CMOS_C_UF | CMOS_C_AF);
    fx->t = 3 * DAY;
    assert_int_equal(rd(fx, CMOS_REG_C), CMOS_C_IRQF | CMOS_C_UF | CMOS_C_AF);
    wr(fx, CMOS_REG_C, 0xFF); /* read-only */
    wr(fx, CMOS_REG_D, 0x00);
    assert_int_equal(rd(fx, CMOS_REG_D), 0x80);
}

static void memory_size_bytes(void **state)
{
    struct fixture *fx = *state;
    /* 128 MiB, as QEMU's PC board reports it. */
    assert_int_equal(rd(fx, CMOS_BASEMEM_LO) | rd(fx, CMOS_BASEMEM_HI) << 8, 640);
    assert_int_equal(rd(fx, CMOS_EXTMEM_LO) | rd(fx, CMOS_EXTMEM_HI) << 8, 0xFFFF);
    assert_int_equal(rd(fx, CMOS_EXTMEM2_LO) | rd(fx, CMOS_EXTMEM2_HI) << 8, 0xFFFF);
    assert_int_equal(rd(fx, CMOS_HIGHMEM_LO) | rd(fx, CMOS_HIGHMEM_HI) << 8, 112 * 16);
    struct fixture *small = make(32u << 20);
    assert_non_null(small);
    assert_int_equal(rd(small, CMOS_EXTMEM_LO) | rd(small, CMOS_EXTMEM_HI) << 8, 31 * 1024);
    assert_int_equal(rd(small, CMOS_HIGHMEM_LO) | rd(small, CMOS_HIGHMEM_HI) << 8, 16 * 16);
    free(small);
    struct fixture *tiny = make(2u << 20);
    assert_non_null(tiny);
    assert_int_equal(rd(tiny, CMOS_EXTMEM2_LO) | rd(tiny, CMOS_EXTMEM2_HI) << 8, 1024);
    assert_int_equal(rd(tiny, CMOS_HIGHMEM_LO) | rd(tiny, CMOS_HIGHMEM_HI) << 8, 0);
    free(tiny);
    struct fixture *big = make(3072u << 20);
    assert_non_null(big);
    assert_int_equal(rd(big, CMOS_HIGHMEM_LO) | rd(big, CMOS_HIGHMEM_HI) << 8, 3056 * 16);
    free(big);
}

static void plain_ram_and_index_register(void **state)
{
    struct fixture *fx = *state;
    for (unsigned i = 0x40; i < CMOS_SIZE; i++)
        wr(fx, (uint8_t)i, (uint8_t)(i ^ 0x5A));
    for (unsigned i = 0x40; i < CMOS_SIZE; i++)
        assert_int_equal(rd(fx, (uint8_t)i), i ^ 0x5A);
    wr(fx, 0x0F, 0x0A); /* shutdown status byte */
    /* Bit 7 of the index disables NMI and does not select a byte. */
    bus_out(&fx->bus, 0x70, 0x80 | 0x0F, 1);
    assert_true(fx->cmos.nmi_disabled);
    assert_int_equal(bus_in(&fx->bus, 0x71, 1), 0x0A);
    bus_out(&fx->bus, 0x70, 0x0F, 1);
    assert_false(fx->cmos.nmi_disabled);
    /* A 16-bit access: index then data, as two bytes. */
    bus_out(&fx->bus, 0x70, 0x6641, 2);
    assert_int_equal(rd(fx, 0x41), 0x66);
    /* The alarm bytes are storage. */
    wr(fx, CMOS_ALARM_HR, 0x17);
    assert_int_equal(rd(fx, CMOS_ALARM_HR), 0x17);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(power_on_clock, setup, teardown),
        cmocka_unit_test_setup_teardown(clock_follows_device_time, setup, teardown),
        cmocka_unit_test_setup_teardown(binary_and_12_hour_modes, setup, teardown),
        cmocka_unit_test_setup_teardown(setting_the_clock, setup, teardown),
        cmocka_unit_test_setup_teardown(divider_reset_restarts_half_a_second_later, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(update_in_progress_flag, setup, teardown),
        cmocka_unit_test_setup_teardown(register_c_flags, setup, teardown),
        cmocka_unit_test_setup_teardown(memory_size_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(plain_ram_and_index_register, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
