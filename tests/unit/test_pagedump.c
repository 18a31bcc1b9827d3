/* --dump-pages: ranges are coalesced while flags and physical contiguity hold; U and W combine
 * over both levels; 4 MiB pages and global bits show; paging off is said plainly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cpu/cpu.h"
#include "devices/bus.h"
#include "frontend/pagedump.h"

#define RAM (8u << 20)

static void put32(uint8_t *ram, uint32_t pa, uint32_t v) { memcpy(ram + pa, &v, 4); }

static char *dump(struct cpu *c)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    pagedump(f, c);
    fclose(f);
    return text;
}

static void test_ranges(void **state)
{
    (void)state;
    uint8_t *ram = calloc(RAM, 1);
    struct bus bus;
    struct cpu c;
    bus_init(&bus);
    assert_int_equal(cpu_init(&c, ram, RAM, &bus), 0);

    char *text = dump(&c);
    assert_non_null(strstr(text, "paging is off"));
    free(text);

    /* Directory at 0x10000, one table at 0x11000 for 0x00000000..0x003FFFFF. */
    put32(ram, 0x10000, 0x11000 | 0x7);                 /* PDE: P W U */
    put32(ram, 0x11000 + 4 * 0x48, 0x48000 | 0x7 | 0x20 | 0x40); /* user rw, A D */
    put32(ram, 0x11000 + 4 * 0x49, 0x49000 | 0x7 | 0x20 | 0x40); /* same: coalesces */
    put32(ram, 0x11000 + 4 * 0x4A, 0x90000 | 0x7 | 0x20 | 0x40); /* not contiguous */
    put32(ram, 0x11000 + 4 * 0x4B, 0x4B000 | 0x5);               /* user read-only */
    put32(ram, 0x10000 + 4 * 0x300, 0x11000 | 0x3);              /* supervisor PDE ... */
    put32(ram, 0x10000 + 4 * 0x301, 0x00400000u | 0x83 | 0x100); /* 4 MiB, global */
    c.cr0 = CR0_PE | CR0_PG;
    c.cr3 = 0x10000;
    c.cr4 = CR4_PSE | CR4_PGE;

    text = dump(&c);
    assert_non_null(strstr(text, "00048000-0004a000 00002000 00048000  u r w  a d -"));
    assert_non_null(strstr(text, "0004a000-0004b000 00001000 00090000  u r w  a d -"));
    assert_non_null(strstr(text, "0004b000-0004c000 00001000 0004b000  u r -  - - -"));
    /* The same table under a supervisor PDE: U is combined over both levels. */
    assert_non_null(strstr(text, "c0048000-c004a000 00002000 00048000  - r w  a d -"));
    assert_non_null(strstr(text, "c0400000-c0800000 00400000 00400000  - r w  - - g"));
    free(text);

    cpu_free(&c);
    free(ram);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_ranges)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
