/* The Ringside side of the differential test: a machine set up like the runner's process.
 *
 * CPL 3 with the runner's selectors mirrored in the GDT, paging on with only the data area, the
 * code pages (user, writable) and a read-only page present, CR0.AM and CR4.SMEP set as on the
 * host, an IDT whose gates all lead to a HLT at CPL 0 through the TSS stack, and DPL 3 gates for
 * vectors 3, 4 and 0x80 as Linux has them. A case runs until the first exception; the exception
 * frame on the ring-0 stack gives EIP, EFLAGS and ESP as the runner's signal context does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"
#include "cpu/flags.h"
#include "cpu/segment.h"
#include "devices/bus.h"
#include "diff.h"
#include "mmu/mem.h"

#define RAM_SIZE (8u << 20)
#define PD_PHYS 0x1000u        /* page directory (not mapped linearly) */
#define PT_PHYS 0x2000u        /* page table for 0-4 MiB */
#define KBASE 0x00180000u      /* supervisor pages: GDT, IDT, TSS, handler, stack */
#define K_GDT (KBASE + 0x0000)
#define K_IDT (KBASE + 0x1000)
#define K_TSS (KBASE + 0x2000)
#define K_HANDLER (KBASE + 0x3000)
#define K_STACK_TOP (KBASE + 0x6000)
#define SEL_KCODE 0x08
#define SEL_KDATA 0x10
#define SEL_TSS 0x78

/* Results that are not an exception of the user code (vector field). */
#define R_NO_EXCEPTION 0xFFFCu /* the budget ran out without an exception */
#define R_SHUTDOWN 0xFFFBu     /* triple fault */
#define R_NOT_USER 0xFFFDu     /* an exception from ring 0: the test machine itself failed */

struct rmachine {
    struct cpu cpu;
    struct bus bus;
    uint8_t *ram;
    struct layout L;
    struct segment ucs, uds, ues, uss, ufs, ugs;
    unsigned last_code_off, last_code_len;
    int have_event;
    struct diff_result got;
};

static void put32(uint8_t *ram, uint32_t a, uint32_t v) { memcpy(ram + a, &v, 4); }
static uint32_t get32(const uint8_t *ram, uint32_t a)
{
    uint32_t v;
    memcpy(&v, ram + a, 4);
    return v;
}

/* A flat 4 GiB descriptor: type (4 bits, S = 1 code/data), DPL, AVL (as the host's: LAR
 * returns the attributes). */
static void gdt_flat(uint8_t *ram, unsigned index, unsigned type, unsigned dpl, unsigned avl)
{
    uint32_t lo = 0x0000FFFFu;
    uint32_t hi = 0x000F0000u | (type << 8) | (1u << 12) | (dpl << 13) | (1u << 15) |
                  (avl << 20) | (1u << 22) | (1u << 23);
    put32(ram, K_GDT + index * 8, lo);
    put32(ram, K_GDT + index * 8 + 4, hi);
}

static struct segment user_seg(uint16_t sel, unsigned type)
{
    struct segment s = {0};
    s.sel = sel;
    if ((sel & 0xFFFC) == 0) /* null: unusable */
        return s;
    s.base = 0;
    s.limit = 0xFFFFFFFFu;
    s.attr = (uint16_t)(type | SA_S | (3u << 5) | SA_P | SA_DB | SA_G);
    seg_update_flat(&s);
    return s;
}

static void on_event(void *ctx, const struct trace_event *ev)
{
    struct rmachine *m = ctx;
    if (m->have_event || (ev->kind != TR_EXCEPTION && ev->kind != TR_SOFTINT))
        return;
    m->have_event = 1;
    struct diff_result *r = &m->got;
    const struct cpu *c = &m->cpu;
    memcpy(r->r, c->r, sizeof r->r);
    r->vector = ev->vector;
    r->cr2 = ev->vector == EXC_PF ? ev->cr2 : 0;
    if (ev->before.cpl != 3 || ev->after.r[ESP] + 24 > RAM_SIZE) {
        r->vector = R_NOT_USER;
        return;
    }
    /* The frame on the ring-0 stack: [error] EIP CS EFLAGS ESP SS. */
    uint32_t sp = ev->after.r[ESP];
    r->err = ev->has_error ? get32(m->ram, sp) : 0;
    if (ev->has_error)
        sp += 4;
    r->eip = get32(m->ram, sp);
    r->eflags = get32(m->ram, sp + 8);
    r->r[ESP] = get32(m->ram, sp + 12);
    r->ss = (uint16_t)get32(m->ram, sp + 16);
    r->ds = c->seg[SEG_DS].sel;
    r->es = c->seg[SEG_ES].sel;
    r->fs = c->seg[SEG_FS].sel;
    linux_signal(r->vector, r->err, r->cr2, r->eip, &r->signo, &r->sicode, &r->siaddr);
}

struct rmachine *rmachine_new(const struct layout *L, char *err, size_t errlen)
{
    /* The runner's selectors must fit beside the kernel's in the test GDT. */
    unsigned used[] = {L->cs >> 3, L->ds >> 3, L->es >> 3, L->ss >> 3, L->gs >> 3};
    for (unsigned k = 0; k < sizeof used / sizeof used[0]; k++)
        if (used[k] == 1 || used[k] == 2 || used[k] >= 15 || (L->fs >> 3) != 0) {
            snprintf(err, errlen, "the runner's selectors (cs %#x ds %#x es %#x fs %#x gs %#x "
                     "ss %#x) collide with the test GDT layout", L->cs, L->ds, L->es, L->fs,
                     L->gs, L->ss);
            return NULL;
        }
    if (L->dsize != DIFF_DATA_SIZE || L->data + L->dsize > KBASE || L->code + DIFF_CODE_SIZE >
        KBASE || L->ro + 0x1000 > KBASE || (L->data | L->code | L->ro) & 0xFFF) {
        snprintf(err, errlen, "the layout (data %#x code %#x ro %#x) does not fit the test "
                 "machine", L->data, L->code, L->ro);
        return NULL;
    }
    struct rmachine *m = calloc(1, sizeof *m);
    if (!m) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    m->L = *L;
    m->ram = calloc(RAM_SIZE, 1);
    bus_init(&m->bus);
    struct cpu *c = &m->cpu;
    if (!m->ram || cpu_init(c, m->ram, RAM_SIZE, &m->bus) < 0) {
        free(m->ram);
        free(m);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    cpu_reset_protected_flat(c, L->code);
    cpu_add_sink(c, on_event, m);

    /* Page tables: identity mapping of the supervisor pages, the data area and the code page. */
    uint8_t *ram = m->ram;
    put32(ram, PD_PHYS, PT_PHYS | 0x7);
    for (uint32_t a = KBASE; a < K_STACK_TOP; a += 0x1000)
        put32(ram, PT_PHYS + (a >> 12) * 4, a | 0x3);
    for (uint32_t a = L->data; a < L->data + L->dsize; a += 0x1000)
        put32(ram, PT_PHYS + (a >> 12) * 4, a | 0x7);
    for (uint32_t a = L->code; a < L->code + DIFF_CODE_SIZE; a += 0x1000)
        put32(ram, PT_PHYS + (a >> 12) * 4, a | 0x7);
    put32(ram, PT_PHYS + (L->ro >> 12) * 4, L->ro | 0x5); /* user, read-only */
    for (uint32_t k = 0; k < 0x1000; k++)
        ram[L->ro + k] = diff_ro_byte(k);

    /* GDT: kernel code and data, the runner's user selectors, a TSS. */
    unsigned ucs = L->cs >> 3, uds = L->ds >> 3, ugs = L->gs >> 3;
    gdt_flat(ram, SEL_KCODE >> 3, 0xB, 0, 0);
    gdt_flat(ram, SEL_KDATA >> 3, 0x3, 0, 0);
    gdt_flat(ram, ucs, 0xB, 3, 0);
    gdt_flat(ram, uds, 0x3, 3, 0);
    gdt_flat(ram, L->es >> 3, 0x3, 3, 0);
    gdt_flat(ram, L->ss >> 3, 0x3, 3, 0);
    if (ugs)
        gdt_flat(ram, ugs, 0x3, 3, 1); /* Linux's TLS descriptor has AVL set */
    put32(ram, K_GDT + (SEL_TSS >> 3) * 8, (K_TSS << 16) | 0x67);
    put32(ram, K_GDT + (SEL_TSS >> 3) * 8 + 4, (K_TSS & 0xFF000000u) | 0x8B00u |
                                                     ((K_TSS >> 16) & 0xFF));
    c->gdtr.base = K_GDT;
    c->gdtr.limit = 16 * 8 - 1;

    /* IDT: 256 interrupt gates to the handler; DPL 3 for INT3, INTO and INT 0x80. */
    for (unsigned v = 0; v < 256; v++) {
        unsigned dpl = (v == 3 || v == 4 || v == 0x80) ? 3 : 0;
        put32(ram, K_IDT + v * 8, (SEL_KCODE << 16) | (K_HANDLER & 0xFFFF));
        put32(ram, K_IDT + v * 8 + 4, (K_HANDLER & 0xFFFF0000u) | 0x8E00u | (dpl << 13));
    }
    c->idtr.base = K_IDT;
    c->idtr.limit = 256 * 8 - 1;

    /* TSS: the ring-0 stack. */
    put32(ram, K_TSS + 4, K_STACK_TOP);
    put32(ram, K_TSS + 8, SEL_KDATA);
    put32(ram, K_TSS + 0x64, 0x0068u << 16); /* I/O map base beyond the limit: no bitmap */
    c->tr.sel = SEL_TSS;
    c->tr.base = K_TSS;
    c->tr.limit = 0x67;
    c->tr.attr = 0x8B; /* busy 32-bit TSS, present */

    /* The handler: hlt; jmp hlt. */
    ram[K_HANDLER] = 0xF4;
    ram[K_HANDLER + 1] = 0xEB;
    ram[K_HANDLER + 2] = 0xFD;

    memset(ram + L->code, 0xF4, DIFF_CODE_SIZE);
    c->cr3 = PD_PHYS;
    c->cr0 |= CR0_PG | CR0_WP | CR0_AM; /* as Linux: alignment checks on for EFLAGS.AC */
    c->cr4 |= CR4_SMEP; /* so that a fetch #PF reports I/D, as on the host (NX on) */
    cpu_flush_decoded(c);

    m->ucs = user_seg(L->cs, 0xB);
    m->uds = user_seg(L->ds, 0x3);
    m->ues = user_seg(L->es, 0x3);
    m->uss = user_seg(L->ss, 0x3);
    m->ufs = user_seg(L->fs, 0x3);
    m->ugs = user_seg(L->gs, 0x3);
    return m;
}

void rmachine_free(struct rmachine *m)
{
    if (!m)
        return;
    cpu_free(&m->cpu);
    free(m->ram);
    free(m);
}

void rmachine_run(struct rmachine *m, const struct tcase *tc, const uint8_t *bg,
                  struct diff_result *out, uint8_t *data)
{
    struct cpu *c = &m->cpu;
    const struct diff_case *in = &tc->in;
    const struct layout *L = &m->L;

    memcpy(m->ram + L->data, bg, L->dsize);
    for (unsigned k = 0; k < in->npatch && k < DIFF_PATCHES; k++) {
        const struct diff_patch *p = &in->patch[k];
        if (p->off + p->len <= L->dsize && p->len <= DIFF_PATCH_BYTES)
            memcpy(m->ram + L->data + p->off, p->bytes, p->len);
    }
    /* The code goes in through physical writes, which retire decoded code of the page. */
    for (unsigned k = 0; k < m->last_code_len; k++)
        phys_write(c, L->code + m->last_code_off + k, 1, 0xF4);
    unsigned len = in->code_len < DIFF_CODE_MAX ? in->code_len : DIFF_CODE_MAX;
    unsigned off = in->code_off < DIFF_CODE_SIZE ? in->code_off : DIFF_CODE_SIZE - 1;
    if (off + len > DIFF_CODE_SIZE)
        len = DIFF_CODE_SIZE - off;
    for (unsigned k = 0; k < len; k++)
        phys_write(c, L->code + off + k, 1, in->code[k]);
    m->last_code_off = off;
    m->last_code_len = len;

    memcpy(c->r, in->r, sizeof in->r);
    c->eflags = in->eflags | FL_R1;
    c->lf.op = LF_NONE;
    c->seg[SEG_DS] = m->uds;
    c->seg[SEG_ES] = m->ues;
    c->seg[SEG_SS] = m->uss;
    c->seg[SEG_FS] = m->ufs;
    c->seg[SEG_GS] = m->ugs;
    seg_set_cs(c, m->ucs.sel, 0, 0xFFFFFFFFu, m->ucs.attr);
    c->eip = L->code + off;
    c->halted = false;
    c->delivering = false;

    memset(&m->got, 0, sizeof m->got);
    m->have_event = 0;
    enum run_result rr = cpu_run(c, 64);
    if (!m->have_event)
        m->got.vector = rr == RUN_SHUTDOWN ? R_SHUTDOWN : R_NO_EXCEPTION;
    *out = m->got;
    memcpy(data, m->ram + L->data, L->dsize);
}
