/* Whatever a guest does, Ringside does not crash, touch host memory outside guest RAM or hang:
 * random code run from random descriptor tables, TSS and page tables (seeded, so a failure
 * reproduces) must end every time in an ordinary way — an instruction limit, a halt, a triple
 * fault — and, in the sanitizer build, without an AddressSanitizer or UBSan report.
 *
 * Each cpu_run (budget BUDGET) is also checked for what its end promises (cpu.h):
 *   the result is RUN_LIMIT, RUN_HALT, RUN_SHUTDOWN or RUN_EXIT (never RUN_STOP: nobody asks
 *     to stop), and stop_reason holds it (not -1); the cpu is out of cpu_run (jmp_ready clear);
 *   RUN_LIMIT: device time advanced by exactly BUDGET;
 *   otherwise by at most BUDGET; RUN_HALT: the cpu is halted; RUN_SHUTDOWN: the three events
 *     of the triple fault are exceptions (vector < 32);
 *   device time = icount + idle, and idle stays 0 (no device here ever schedules an event, so a
 *     halt ends the run instead of idling);
 *   the accounting adds up: instructions per ring and per address space (kernel + user) both
 *     sum to icount, and every instruction that retired at CPL 3 is a user instruction.
 * Over all runs device time advanced, some runs reached their budget and some code ran in
 * ring 3 (a quarter of the runs start there, with valid tables whose gates lead to ring 0). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cpu/cpu.h"
#include "cpu/segment.h"
#include "devices/bus.h"

#define RAM_SIZE (4u << 20)
#define RUNS 100
#define BUDGET 10000

static uint32_t next(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

/* What the end of one cpu_run promises (see the header). */
static void check_end(struct cpu *c, enum run_result r, uint64_t before, uint32_t run)
{
    if (r != RUN_LIMIT && r != RUN_HALT && r != RUN_SHUTDOWN && r != RUN_EXIT &&
        r != RUN_UNSUPPORTED)
        fail_msg("run %u: ended by %d (%s)", run, (int)r, run_result_name(r));
    assert_int_equal(c->stop_reason, (int)r);
    assert_false(c->jmp_ready);
    uint64_t now = cpu_time(c);
    assert_true(now >= before);
    if (r == RUN_LIMIT && now != before + BUDGET)
        fail_msg("run %u: instruction limit after %llu units of device time, budget %u", run,
                 (unsigned long long)(now - before), BUDGET);
    assert_true(now - before <= BUDGET);
    if (r == RUN_HALT)
        assert_true(c->halted);
    if (r == RUN_SHUTDOWN)
        for (int k = 0; k < 3; k++)
            assert_true(c->shutdown_events[k].vector < 32);
    assert_int_equal(c->idle, 0);
    assert_int_equal(now, c->icount + c->idle + c->stall);

    acct_update(c);
    uint64_t rings = 0, spaces = 0, user_spaces = 0;
    for (int k = 0; k < 4; k++)
        rings += c->ring_insns[k];
    for (unsigned k = 0; k < c->nspaces; k++) {
        spaces += c->spaces[k].insns[0] + c->spaces[k].insns[1];
        user_spaces += c->spaces[k].insns[1];
    }
    if (rings != c->icount || spaces != c->icount || user_spaces != c->ring_insns[3])
        fail_msg("run %u: %llu instructions, by ring %llu, by address space %llu (user %llu, "
                 "ring 3 %llu)",
                 run, (unsigned long long)c->icount, (unsigned long long)rings,
                 (unsigned long long)spaces, (unsigned long long)user_spaces,
                 (unsigned long long)c->ring_insns[3]);
}

static void random_machines(void **state)
{
    (void)state;
    uint8_t *ram = malloc(RAM_SIZE);
    assert_non_null(ram);
    unsigned ends[RUN_UNSUPPORTED + 1] = {0};
    uint64_t total_time = 0, ring3 = 0;
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
            if (run & 2) {
                /* Start in ring 3 (code 0x1B, data 0x23): faults then cross to ring 0. */
                struct segment s3;
                struct desc d3 = desc_decode((uint32_t)gdt[3], (uint32_t)(gdt[3] >> 32));
                struct desc d4 = desc_decode((uint32_t)gdt[4], (uint32_t)(gdt[4] >> 32));
                desc_to_segment(0x1B, &d3, &s3);
                seg_set_cs(&c, s3.sel, s3.base, s3.limit, s3.attr);
                for (int k = 0; k < SEG_COUNT; k++)
                    if (k != SEG_CS)
                        desc_to_segment(0x23, &d4, &c.seg[k]);
            }
        }
        if (next(&s) % 3 == 0) { /* paging on, with random tables */
            c.cr3 = next(&s) & 0x3FF000u;
            c.cr0 |= CR0_PG;
            c.cr4 = next(&s) & (CR4_PSE | CR4_PGE | CR4_SMEP | CR4_SMAP);
        }
        enum run_result r = RUN_LIMIT;
        for (int k = 0; k < 20 && r == RUN_LIMIT; k++) {
            uint64_t before = cpu_time(&c);
            r = cpu_run(&c, BUDGET);
            check_end(&c, r, before, run);
        }
        total_time += cpu_time(&c);
        ring3 += c.ring_insns[3];
        ends[r]++;
        cpu_free(&c);
    }
    print_message("random code: %u runs: %u limit, %u halt, %u shutdown, %u exit, %u unsupported; %llu "
                  "instructions, %llu in ring 3\n",
                  RUNS, ends[RUN_LIMIT], ends[RUN_HALT], ends[RUN_SHUTDOWN], ends[RUN_EXIT],
                  ends[RUN_UNSUPPORTED],
                  (unsigned long long)total_time, (unsigned long long)ring3);
    assert_true(total_time > 0);
    assert_true(ends[RUN_LIMIT] > 0); /* some runs go on until the budget */
    assert_true(ring3 > 0);           /* and some run code in ring 3 */
    free(ram);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(random_machines)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
