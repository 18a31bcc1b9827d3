/* Whatever a guest does, Ringside does not crash, touch host memory outside guest RAM or hang:
 * random code run from random descriptor tables, TSS and page tables (seeded, so a failure
 * reproduces) must end every time in an ordinary way — an instruction limit, a halt, a triple
 * fault — and, in the sanitizer build, without an AddressSanitizer or UBSan report. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cpu/cpu.h"
#include "devices/bus.h"

#define RAM_SIZE (4u << 20)
#define RUNS 100

static uint32_t next(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static void random_machines(void **state)
{
    (void)state;
    uint8_t *ram = malloc(RAM_SIZE);
    assert_non_null(ram);
    unsigned ends[RUN_UNSUPPORTED + 1] = {0};
    for (uint32_t run = 0; run < RUNS; run++) {
        uint32_t s = 0x9E3779B9u ^ (run * 7919u + 1);
        struct bus bus;
        struct cpu c;
        bus_init(&bus);
        memset(ram, 0, RAM_SIZE);
        for (uint32_t k = 0; k < 0x4000; k++) /* GDT, IDT, TSS and page tables live here */
            ram[k] = (uint8_t)next(&s);
        for (uint32_t k = 0x100000; k < 0x101000; k++) /* the code */
            ram[k] = (uint8_t)next(&s);
        for (unsigned k = 0; k < 64; k++)
            ram[next(&s) % RAM_SIZE] = (uint8_t)next(&s);
        assert_int_equal(cpu_init(&c, ram, RAM_SIZE, &bus), 0);
        cpu_reset_protected_flat(&c, 0x100000);
        c.gdtr.base = next(&s) & 0x3FFF;
        c.gdtr.limit = (uint16_t)(next(&s) & 0xFFF);
        c.idtr.base = next(&s) & 0x3FFF;
        c.idtr.limit = (uint16_t)(next(&s) & 0x7FF);
        c.tr.base = next(&s) & 0x3FFF;
        c.tr.limit = next(&s) & 0x2FFF;
        c.tr.attr = 0x8B;
        for (int r = 0; r < 8; r++)
            c.r[r] = next(&s) & ((next(&s) & 1) ? 0x3FFFFFu : 0xFFFFFFFFu);
        if (run & 1) {
            /* Valid tables whose gates lead back into the random code: execution goes on
             * through exceptions, so many more instructions and transitions run. */
            static const uint64_t gdt[] = {
                0, 0x00CF9A000000FFFFull, 0x00CF92000000FFFFull, 0x00CFFA000000FFFFull,
                0x00CFF2000000FFFFull, 0x0000890030000067ull,
            };
            memcpy(ram + 0x1000, gdt, sizeof gdt);
            c.gdtr.base = 0x1000;
            c.gdtr.limit = sizeof gdt - 1;
            for (uint32_t v = 0; v < 256; v++) {
                uint32_t off = 0x100000 + (next(&s) & 0xFFF);
                uint32_t lo = (off & 0xFFFF) | (0x08u << 16);
                uint32_t hi = (off & 0xFFFF0000u) | 0xEE00u; /* present, DPL 3, interrupt gate */
                memcpy(ram + 0x2000 + 8 * v, &lo, 4);
                memcpy(ram + 0x2000 + 8 * v + 4, &hi, 4);
            }
            c.idtr.base = 0x2000;
            c.idtr.limit = 0x7FF;
            uint32_t esp0 = 0x200000, ss0 = 0x10;
            memcpy(ram + 0x3004, &esp0, 4);
            memcpy(ram + 0x3008, &ss0, 4);
            c.tr.sel = 0x28;
            c.tr.base = 0x3000;
            c.tr.limit = 0x67;
            c.r[ESP] = 0x300000;
        }
        if (next(&s) % 3 == 0) { /* paging on, with random tables */
            c.cr3 = next(&s) & 0x3FF000u;
            c.cr0 |= CR0_PG;
            c.cr4 = next(&s) & (CR4_PSE | CR4_PGE | CR4_SMEP | CR4_SMAP);
        }
        enum run_result r = RUN_LIMIT;
        for (int k = 0; k < 20 && r == RUN_LIMIT; k++)
            r = cpu_run(&c, 10000);
        assert_true(r == RUN_LIMIT || r == RUN_HALT || r == RUN_SHUTDOWN || r == RUN_EXIT ||
                    r == RUN_UNSUPPORTED);
        ends[r]++;
        cpu_free(&c);
    }
    print_message("random code: %u runs: %u limit, %u halt, %u shutdown, %u exit, "
                  "%u unsupported\n", RUNS, ends[RUN_LIMIT], ends[RUN_HALT], ends[RUN_SHUTDOWN],
                  ends[RUN_EXIT], ends[RUN_UNSUPPORTED]);
    free(ram);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(random_machines)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
