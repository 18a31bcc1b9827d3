/* Guest loads and stores that reach an MMIO device, through the cpu's own instruction path.
 *
 * A device on the bus records every access it receives (offset, value, size). The cpu executes
 * real MOV instructions placed in guest RAM (cpu_run), so the whole route is tested: decode,
 * segmentation, the TLB (an MMIO page never gets a host pointer), the slow path in mem.c and the
 * bus. What the device must see:
 *   - a 1-, 2- or 4-byte access inside a page: one access of that size and value;
 *   - an access that crosses a page boundary (each page translated on its own, so the two halves
 *     may land in RAM and MMIO, or in two unrelated MMIO places): the part in each page, in
 *     address order, as the naturally aligned accesses of 1 or 2 bytes a bus makes of it
 *     (a 3-byte part is a byte and an aligned word); RAM parts go to RAM.
 *
 * Memory (4 MiB of RAM; the device claims 8 KiB at physical 0xE0000000):
 *   0x001000 code   0x010000 page directory   0x011000 page table for linear 0x400000..
 *   linear 0x400000 -> RAM 0x300000          linear 0x401000 -> MMIO 0xE0000000
 *   linear 0x402000 -> MMIO 0xE0001000       linear 0x403000 -> MMIO 0xE0000000
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cpu/cpu.h"
#include "devices/bus.h"
#include "mmu/mem.h"

#define RAM_SIZE (4u << 20)
#define CODE 0x1000u
#define PD 0x10000u
#define PT 0x11000u
#define MMIO_BASE 0xE0000000u
#define MMIO_SIZE 0x2000u

struct access {
    uint32_t off, value;
    unsigned size;
    bool write;
};

struct rig {
    struct cpu c;
    struct bus bus;
    uint8_t *ram;
    struct access log[16];
    unsigned n;
    unsigned exceptions;
};

static void dev_write(void *dev, uint32_t off, uint32_t value, unsigned size)
{
    struct rig *r = dev;
    if (r->n < 16)
        r->log[r->n] = (struct access){off, value, size, true};
    r->n++;
}

/* Reads return a pattern made of the offset, so a read that is split can be checked too. */
static uint32_t dev_read(void *dev, uint32_t off, unsigned size)
{
    struct rig *r = dev;
    uint32_t v = 0;
    for (unsigned k = 0; k < size; k++)
        v |= (uint32_t)((off + k) & 0xFF) << (8 * k);
    if (r->n < 16)
        r->log[r->n] = (struct access){off, v, size, false};
    r->n++;
    return v;
}

static void on_event(void *ctx, const struct trace_event *ev)
{
    struct rig *r = ctx;
    if (ev->kind == TR_EXCEPTION)
        r->exceptions++;
}

static void wr32(struct rig *r, uint32_t pa, uint32_t v) { memcpy(r->ram + pa, &v, 4); }

static struct rig *rig_new(bool paging)
{
    struct rig *r = calloc(1, sizeof *r);
    assert_non_null(r);
    r->ram = calloc(1, RAM_SIZE);
    assert_non_null(r->ram);
    bus_init(&r->bus);
    assert_int_equal(bus_add_mmio(&r->bus, MMIO_BASE, MMIO_SIZE, dev_read, dev_write, r), 0);
    assert_int_equal(cpu_init(&r->c, r->ram, RAM_SIZE, &r->bus), 0);
    cpu_add_sink(&r->c, on_event, r);
    cpu_reset_protected_flat(&r->c, CODE);
    if (paging) {
        /* PDE 0: identity 4 MiB page (code, tables); PDE 1: the page table below. */
        wr32(r, PD, 0x000000E3u); /* P W PS A D */
        wr32(r, PD + 4, PT | 0x23u);
        wr32(r, PT + 0, 0x300000u | 0x63u);
        wr32(r, PT + 4, MMIO_BASE | 0x63u);
        wr32(r, PT + 8, (MMIO_BASE + 0x1000u) | 0x63u);
        wr32(r, PT + 12, MMIO_BASE | 0x63u);
        r->c.cr4 = CR4_PSE;
        r->c.cr3 = PD;
        r->c.cr0 |= CR0_PG;
        tlb_flush_all(&r->c);
    }
    return r;
}

static void rig_free(struct rig *r)
{
    cpu_free(&r->c);
    free(r->ram);
    free(r);
}

/* Runs the code at CODE (n instructions); no exception may happen. */
static void run(struct rig *r, const uint8_t *code, size_t len, unsigned n)
{
    memcpy(r->ram + CODE, code, len);
    cpu_flush_decoded(&r->c);
    r->c.eip = CODE;
    r->n = 0;
    assert_int_equal(cpu_run(&r->c, n), RUN_LIMIT);
    assert_int_equal(r->exceptions, 0);
    assert_int_equal(r->c.eip, CODE + len);
}

static void want(const struct rig *r, unsigned k, bool write, uint32_t off, uint32_t value,
                 unsigned size)
{
    assert_true(k < r->n);
    print_message("  access %u: %s off 0x%x value 0x%x size %u\n", k,
                  r->log[k].write ? "write" : "read", r->log[k].off, r->log[k].value,
                  r->log[k].size);
    assert_int_equal(r->log[k].write, write);
    assert_int_equal(r->log[k].off, off);
    assert_int_equal(r->log[k].size, size);
    assert_int_equal(r->log[k].value, value);
}

/* mov byte [addr], imm8 / mov word [addr], imm16 / mov dword [addr], imm32 */
static size_t mov_store(uint8_t *b, unsigned size, uint32_t addr, uint32_t imm)
{
    size_t n = 0;
    if (size == 2)
        b[n++] = 0x66;
    b[n++] = size == 1 ? 0xC6 : 0xC7;
    b[n++] = 0x05;
    memcpy(b + n, &addr, 4);
    n += 4;
    memcpy(b + n, &imm, size);
    return n + size;
}

/* mov al/ax/eax, [addr] */
static size_t mov_load(uint8_t *b, unsigned size, uint32_t addr)
{
    size_t n = 0;
    if (size == 2)
        b[n++] = 0x66;
    b[n++] = size == 1 ? 0xA0 : 0xA1;
    memcpy(b + n, &addr, 4);
    return n + 4;
}

static void stores_of_each_size(void **state)
{
    (void)state;
    struct rig *r = rig_new(false);
    uint8_t code[64];
    size_t n = mov_store(code, 1, MMIO_BASE + 0x10, 0x5A);
    n += mov_store(code + n, 2, MMIO_BASE + 0x20, 0x1234);
    n += mov_store(code + n, 4, MMIO_BASE + 0x30, 0xDEADBEEF);
    run(r, code, n, 3);
    assert_int_equal(r->n, 3);
    want(r, 0, true, 0x10, 0x5A, 1);
    want(r, 1, true, 0x20, 0x1234, 2);
    want(r, 2, true, 0x30, 0xDEADBEEF, 4);
    rig_free(r);
}

static void loads_of_each_size(void **state)
{
    (void)state;
    struct rig *r = rig_new(false);
    uint8_t code[64];
    size_t n = mov_load(code, 4, MMIO_BASE + 0x40);
    run(r, code, n, 1);
    assert_int_equal(r->n, 1);
    want(r, 0, false, 0x40, 0x43424140, 4);
    assert_int_equal(r->c.r[EAX], 0x43424140);
    r->c.r[EAX] = 0;
    n = mov_load(code, 2, MMIO_BASE + 0x52);
    run(r, code, n, 1);
    want(r, 0, false, 0x52, 0x5352, 2);
    assert_int_equal(r->c.r[EAX], 0x5352);
    n = mov_load(code, 1, MMIO_BASE + 0x61);
    run(r, code, n, 1);
    want(r, 0, false, 0x61, 0x61, 1);
    assert_int_equal(r->c.r[EAX], 0x5361);
    rig_free(r);
}

/* A misaligned store inside one page stays one access. */
static void misaligned_store_inside_a_page(void **state)
{
    (void)state;
    struct rig *r = rig_new(false);
    uint8_t code[16];
    size_t n = mov_store(code, 4, MMIO_BASE + 0x101, 0x11223344);
    run(r, code, n, 1);
    assert_int_equal(r->n, 1);
    want(r, 0, true, 0x101, 0x11223344, 4);
    rig_free(r);
}

/* RAM page, then MMIO page: the RAM part lands in RAM, the device gets the rest. */
static void store_from_ram_into_mmio(void **state)
{
    (void)state;
    struct rig *r = rig_new(true);
    uint8_t code[16];
    size_t n = mov_store(code, 4, 0x400FFE, 0xAABBCCDD); /* 2 + 2 */
    run(r, code, n, 1);
    assert_int_equal(r->ram[0x300FFE], 0xDD);
    assert_int_equal(r->ram[0x300FFF], 0xCC);
    assert_int_equal(r->n, 1);
    want(r, 0, true, 0x000, 0xAABB, 2);

    memset(r->ram + 0x300FF0, 0, 16);
    n = mov_store(code, 4, 0x400FFF, 0xAABBCCDD); /* 1 + 3: a word, then a byte */
    run(r, code, n, 1);
    assert_int_equal(r->ram[0x300FFF], 0xDD);
    assert_int_equal(r->n, 2);
    want(r, 0, true, 0x000, 0xBBCC, 2);
    want(r, 1, true, 0x002, 0xAA, 1);

    memset(r->ram + 0x300FF0, 0, 16);
    n = mov_store(code, 4, 0x400FFD, 0xAABBCCDD); /* 3 + 1 */
    run(r, code, n, 1);
    assert_int_equal(r->ram[0x300FFD], 0xDD);
    assert_int_equal(r->ram[0x300FFE], 0xCC);
    assert_int_equal(r->ram[0x300FFF], 0xBB);
    assert_int_equal(r->n, 1);
    want(r, 0, true, 0x000, 0xAA, 1);

    n = mov_store(code, 2, 0x400FFF, 0x9988); /* a word: 1 + 1 */
    run(r, code, n, 1);
    assert_int_equal(r->ram[0x300FFF], 0x88);
    assert_int_equal(r->n, 1);
    want(r, 0, true, 0x000, 0x99, 1);
    rig_free(r);
}

/* Two MMIO pages that are not adjacent physically (0xE0001000, then 0xE0000000). */
static void store_across_two_mmio_pages(void **state)
{
    (void)state;
    struct rig *r = rig_new(true);
    uint8_t code[16];
    size_t n = mov_store(code, 4, 0x402FFE, 0xAABBCCDD); /* 2 + 2 */
    run(r, code, n, 1);
    assert_int_equal(r->n, 2);
    want(r, 0, true, 0x1FFE, 0xCCDD, 2);
    want(r, 1, true, 0x0000, 0xAABB, 2);

    n = mov_store(code, 4, 0x402FFD, 0xAABBCCDD); /* 3 + 1: byte, word | byte */
    run(r, code, n, 1);
    assert_int_equal(r->n, 3);
    want(r, 0, true, 0x1FFD, 0xDD, 1);
    want(r, 1, true, 0x1FFE, 0xBBCC, 2);
    want(r, 2, true, 0x0000, 0xAA, 1);

    n = mov_store(code, 4, 0x402FFF, 0xAABBCCDD); /* 1 + 3: byte | word, byte */
    run(r, code, n, 1);
    assert_int_equal(r->n, 3);
    want(r, 0, true, 0x1FFF, 0xDD, 1);
    want(r, 1, true, 0x0000, 0xBBCC, 2);
    want(r, 2, true, 0x0002, 0xAA, 1);
    rig_free(r);
}

/* Loads split the same way; the value is assembled in byte order. */
static void load_across_pages(void **state)
{
    (void)state;
    struct rig *r = rig_new(true);
    uint8_t code[16];
    r->ram[0x300FFF] = 0x77;
    size_t n = mov_load(code, 4, 0x400FFF); /* RAM byte, then word + byte from the device */
    run(r, code, n, 1);
    assert_int_equal(r->n, 2);
    want(r, 0, false, 0x000, 0x0100, 2);
    want(r, 1, false, 0x002, 0x02, 1);
    assert_int_equal(r->c.r[EAX], 0x02010077);

    n = mov_load(code, 4, 0x402FFE); /* two words from two MMIO pages */
    run(r, code, n, 1);
    assert_int_equal(r->n, 2);
    want(r, 0, false, 0x1FFE, 0xFFFE, 2);
    want(r, 1, false, 0x0000, 0x0100, 2);
    assert_int_equal(r->c.r[EAX], 0x0100FFFE);
    rig_free(r);
}

/* A REP string instruction retires (and restarts) once its host work reaches 4096: one per
 * iteration, 64 more per device access (src/cpu/string.c). So one unit of device time moves
 * at most 4096 elements in RAM but only 64 to or from a device, and a guest's budget bounds
 * the host time a REP to MMIO or a port can take. */
static void rep_string_host_work_per_unit(void **state)
{
    (void)state;
    struct rig *r = rig_new(false);
    static const uint8_t stosb[] = {0xF3, 0xAA}, outsb[] = {0xF3, 0x6E};
    struct cpu *c = &r->c;

    /* rep stosb into MMIO: 64 writes per unit, 1000 bytes in 16 units. */
    memcpy(r->ram + CODE, stosb, sizeof stosb);
    cpu_flush_decoded(c);
    c->eip = CODE;
    c->r[EDI] = MMIO_BASE;
    c->r[ECX] = 1000;
    c->r[EAX] = 0x5A;
    r->n = 0;
    uint64_t i0 = c->icount;
    assert_int_equal(cpu_run(c, 1), RUN_LIMIT);
    assert_int_equal(c->r[ECX], 1000 - 64);
    assert_int_equal(r->n, 64);
    assert_int_equal(c->eip, CODE); /* restarts */
    assert_int_equal(cpu_run(c, 15), RUN_LIMIT);
    assert_int_equal(c->r[ECX], 0);
    assert_int_equal(r->n, 1000);
    assert_int_equal(c->eip, CODE + sizeof stosb);
    assert_int_equal(c->icount - i0, 16);
    want(r, 15, true, 15, 0x5A, 1); /* the first 16 of them are logged */

    /* The same in RAM: 4096 per unit. */
    c->eip = CODE;
    c->r[EDI] = 0x100000;
    c->r[ECX] = 5000;
    assert_int_equal(cpu_run(c, 1), RUN_LIMIT);
    assert_int_equal(c->r[ECX], 5000 - 4096);
    assert_int_equal(cpu_run(c, 1), RUN_LIMIT);
    assert_int_equal(c->r[ECX], 0);
    assert_int_equal(c->eip, CODE + sizeof stosb);
    assert_int_equal(r->ram[0x100000 + 4999], 0x5A);

    /* rep outsb to a port: 64 per unit as well. */
    memcpy(r->ram + CODE, outsb, sizeof outsb);
    cpu_flush_decoded(c);
    c->eip = CODE;
    c->r[ESI] = 0x100000;
    c->r[EDX] = 0x80;
    c->r[ECX] = 100;
    assert_int_equal(cpu_run(c, 1), RUN_LIMIT);
    assert_int_equal(c->r[ECX], 100 - 64);
    assert_int_equal(c->r[ESI], 0x100000 + 64);
    assert_int_equal(cpu_run(c, 1), RUN_LIMIT);
    assert_int_equal(c->r[ECX], 0);
    assert_int_equal(c->eip, CODE + sizeof outsb);
    assert_int_equal(r->exceptions, 0);
    rig_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stores_of_each_size),
        cmocka_unit_test(loads_of_each_size),
        cmocka_unit_test(misaligned_store_inside_a_page),
        cmocka_unit_test(store_from_ram_into_mmio),
        cmocka_unit_test(store_across_two_mmio_pages),
        cmocka_unit_test(load_across_pages),
        cmocka_unit_test(rep_string_host_work_per_unit),
    };
    return cmocka_run_group_tests_name("mmio", tests, NULL, NULL);
}
