/* INVLPG and the caches that skip work after it (src/mmu/mem.c, tlb_flush_page):
 *
 *   - links between decoded blocks survive an INVLPG only of a page no block was looked up at
 *     (cpu.fetch_pages): code that calls into a page, remaps that page to other code and
 *     INVLPGs it must run the new code on the next call (a link kept would run the old);
 *   - a 4 MiB page is cached as one TLB entry per 4 KiB piece, and INVLPG of one piece must drop
 *     them all (cpu.tlb_large): after the PDE changes, a read through another piece sees the new
 *     frame.
 *
 * The machine: 16 MiB of RAM, flat protected mode at CPL 0, paging on with the low 4 MiB
 * identity-mapped by 4 KiB pages (page directory at PD, its table at PT).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cpu/cpu.h"
#include "devices/bus.h"

#define RAM_SIZE (16u << 20)
#define CODE 0x4000u
#define PD 0x10000u
#define PT 0x11000u

struct t {
    struct cpu c;
    struct bus bus;
    uint8_t *ram;
    unsigned exceptions;
};

static void sink(void *ctx, const struct trace_event *e)
{
    struct t *t = ctx;
    if (e->kind == TR_EXCEPTION) {
        t->exceptions++;
        cpu_request_stop(&t->c);
    }
}

static void put32(struct t *t, uint32_t pa, uint32_t v) { memcpy(t->ram + pa, &v, 4); }

static int setup(void **state)
{
    struct t *t = calloc(1, sizeof *t);
    if (!t)
        return -1;
    t->ram = calloc(RAM_SIZE, 1);
    if (!t->ram)
        return -1;
    bus_init(&t->bus);
    if (cpu_init(&t->c, t->ram, RAM_SIZE, &t->bus))
        return -1;
    cpu_reset_protected_flat(&t->c, CODE);
    cpu_add_sink(&t->c, sink, t);
    for (uint32_t k = 0; k < 1024; k++)
        put32(t, PT + 4 * k, (k << 12) | 0x3); /* present, writable, supervisor */
    put32(t, PD, PT | 0x3);
    t->c.cr3 = PD;
    t->c.cr0 |= CR0_PG;
    cpu_flush_decoded(&t->c);
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    struct t *t = *state;
    cpu_free(&t->c);
    free(t->ram);
    free(t);
    return 0;
}

static void test_remapped_code_page_runs_new_code(void **state)
{
    struct t *t = *state;
    struct cpu *c = &t->c;
    static const uint8_t loop[] = {
        0xB9, 0x02, 0x00, 0x00, 0x00,             /* 4000 mov ecx, 2 */
        0x31, 0xDB,                               /* 4005 xor ebx, ebx */
        0xEB, 0x00,                               /* 4007 jmp top: the call starts a block */
        0xE8, 0xF2, 0x0F, 0x00, 0x00,             /* 4009 top: call 0x5000 (linked the */
                                                  /*      first time, used the second) */
        0x01, 0xC3,                               /* 400E add ebx, eax */
        0xC7, 0x05, 0x14, 0x10, 0x01, 0x00,       /* 4010 mov dword [PT + 5 * 4], */
        0x03, 0x60, 0x00, 0x00,                   /*      0x6003 (0x5000 -> phys 0x6000) */
        0x0F, 0x01, 0x3D, 0x00, 0x50, 0x00, 0x00, /* 401A invlpg [0x5000] */
        0x49,                                     /* 4021 dec ecx */
        0x75, 0xE5,                               /* 4022 jnz top */
        0xF4,                                     /* 4024 hlt */
    };
    static const uint8_t one[] = {0xB8, 0x01, 0x00, 0x00, 0x00, 0xC3}; /* mov eax, 1; ret */
    static const uint8_t two[] = {0xB8, 0x02, 0x00, 0x00, 0x00, 0xC3}; /* mov eax, 2; ret */
    memcpy(t->ram + CODE, loop, sizeof loop);
    memcpy(t->ram + 0x5000, one, sizeof one);
    memcpy(t->ram + 0x6000, two, sizeof two);
    c->r[ESP] = 0x9000;
    assert_int_equal(cpu_run(c, 1000), RUN_HALT);
    assert_int_equal(t->exceptions, 0);
    assert_int_equal(c->r[EBX], 1 + 2); /* the first call ran phys 0x5000, the second 0x6000 */
}

static void test_invlpg_drops_every_piece_of_a_4m_page(void **state)
{
    struct t *t = *state;
    struct cpu *c = &t->c;
    static const uint8_t code[] = {
        0xA1, 0x00, 0x00, 0x40, 0x00,             /* 00 mov eax, [0x400000] */
        0x8B, 0x1D, 0x00, 0x10, 0x40, 0x00,       /* 05 mov ebx, [0x401000] */
        0xC7, 0x05, 0x04, 0x00, 0x01, 0x00,       /* 0B mov dword [PD + 4], */
        0x83, 0x00, 0x80, 0x00,                   /*    0x800083 (4 MiB page at 8 MiB) */
        0x0F, 0x01, 0x3D, 0x00, 0x00, 0x40, 0x00, /* 15 invlpg [0x400000] */
        0x8B, 0x0D, 0x00, 0x10, 0x40, 0x00,       /* 1C mov ecx, [0x401000] */
        0xF4,                                     /* 22 hlt */
    };
    memcpy(t->ram + CODE, code, sizeof code);
    put32(t, PD + 4, 0x400000u | 0x83); /* 4 MiB page, present, writable */
    put32(t, 0x400000, 0xA0);
    put32(t, 0x401000, 0xA1);
    put32(t, 0x801000, 0xB1);
    c->cr4 |= CR4_PSE;
    cpu_flush_decoded(c);
    assert_int_equal(cpu_run(c, 1000), RUN_HALT);
    assert_int_equal(t->exceptions, 0);
    assert_int_equal(c->r[EAX], 0xA0);
    assert_int_equal(c->r[EBX], 0xA1);
    assert_int_equal(c->r[ECX], 0xB1); /* the piece at 0x401000 was dropped too */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_remapped_code_page_runs_new_code, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invlpg_drops_every_piece_of_a_4m_page, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
