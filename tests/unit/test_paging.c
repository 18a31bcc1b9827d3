/* The page walk and the TLB (src/mmu/), driven through the real instruction path.
 *
 * Every case builds a tiny protected-mode machine in RAM: a GDT with ring 0 and ring 3 flat
 * segments, an IDT whose gates all lead to a `hlt`, a TSS for the ring 3 -> ring 0 stack switch,
 * and page tables. It then runs one instruction (two for a fetch: a jmp and the instruction it
 * lands on) with cpu_run() and watches the trace sink: the access either succeeds, and then the
 * accessed bits of the entries used and (for writes only) the dirty bit are set in guest memory,
 * or #PF is delivered with the right error code and CR2.
 *
 * The expected outcome comes from the rule table below, written from the SDM (vol. 3 4.6.1 and
 * 4.7), never from the implementation's own helpers.
 *
 * Physical memory (identity-mapped 0..4 MiB through PT0, supervisor and writable unless said):
 *
 *   0x001000  kernel code page (the instruction under test at CPL 0; 0x1F00: hlt, every gate)
 *   0x002000  GDT   0x003000 IDT   0x004000 TSS   0x006000 ring 0 stack (ESP0 = 0x7000)
 *   0x005000  user code page (U=1): the instruction under test at CPL 3
 *   0x010000  page directory    0x011000 PT0    0x012000 PT1 (for PDE[1] when PS = 0)
 *   0x400000  the page under test: linear 0x400000 -> physical 0x400000, either by PT1[0] or
 *             by a 4 MiB PDE[1]; the test address is 0x400100
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cpu/cpu.h"
#include "cpu/segment.h"
#include "devices/bus.h"
#include "mmu/mem.h"

/* ---- the rules (SDM vol. 3 4.6.1, 32-bit paging: no XD, no protection keys) -----------------
 *
 * A "user page" has U/S = 1 in every entry used (PDE and PTE; the PDE alone for a 4 MiB page),
 * a "writable" page has R/W = 1 in every entry used. A user access is an explicit access at
 * CPL 3. A supervisor access is explicit at CPL 0, or implicit (GDT, LDT, IDT, TSS) at any CPL;
 * EFLAGS.AC lifts SMAP for explicit supervisor accesses only ("If EFLAGS.AC = 0 or the access is
 * implicit, data may not be read from / written to any user-mode address").
 *
 *   access               supervisor page (U=0)      user page (U=1)
 *   -------------------  -------------------------  ---------------------------------------------
 *   user read            refused                    allowed
 *   user write           refused                    writable
 *   user fetch           refused                    allowed
 *   explicit sup read    allowed                    not (SMAP and AC = 0)
 *   explicit sup write   writable or WP = 0         (writable or WP = 0) and not (SMAP and AC = 0)
 *   explicit sup fetch   allowed                    not SMEP
 *   implicit sup read    allowed                    not SMAP
 *   implicit sup write   writable or WP = 0         (writable or WP = 0) and not SMAP
 *
 * #PF error code (SDM 4.7): P = 1 (every entry was present; also with RSVD), W/R = the access was
 * a write, U/S = a user access (an implicit access at CPL 3 is a supervisor access: U/S = 0),
 * RSVD = a reserved bit was set, I/D = an instruction fetch while CR4.SMEP = 1 (32-bit paging has
 * no XD). CR2 = the linear address. */

enum mode { M_USER, M_SUP, M_IMPLICIT };
enum kind { K_READ, K_WRITE, K_FETCH };

/* Conditions of a rule cell: the access is refused when any of them holds. */
#define R_ALWAYS 0x01u    /* never allowed */
#define R_RO 0x02u        /* refused if the page is not writable */
#define R_RO_WP 0x04u     /* refused if the page is not writable and CR0.WP = 1 */
#define R_SMAP_NOAC 0x08u /* refused if CR4.SMAP = 1 and EFLAGS.AC = 0 */
#define R_SMAP 0x10u      /* refused if CR4.SMAP = 1 */
#define R_SMEP 0x20u      /* refused if CR4.SMEP = 1 */

/* rule[mode][kind][user page] */
static const uint8_t rule[3][3][2] = {
    [M_USER] = {[K_READ] = {R_ALWAYS, 0},
                [K_WRITE] = {R_ALWAYS, R_RO},
                [K_FETCH] = {R_ALWAYS, 0}},
    [M_SUP] = {[K_READ] = {0, R_SMAP_NOAC},
               [K_WRITE] = {R_RO_WP, R_RO_WP | R_SMAP_NOAC},
               [K_FETCH] = {0, R_SMEP}},
    [M_IMPLICIT] = {[K_READ] = {0, R_SMAP},
                    [K_WRITE] = {R_RO_WP, R_RO_WP | R_SMAP},
                    [K_FETCH] = {R_ALWAYS, R_ALWAYS}}, /* no such access */
};

struct env {
    bool wp, smep, smap, ac;
};

static bool allowed(enum mode m, enum kind k, bool user_page, bool writable, struct env e)
{
    unsigned r = rule[m][k][user_page];
    return !((r & R_ALWAYS) || ((r & R_RO) && !writable) || ((r & R_RO_WP) && !writable && e.wp) ||
             ((r & R_SMAP_NOAC) && e.smap && !e.ac) || ((r & R_SMAP) && e.smap) ||
             ((r & R_SMEP) && e.smep));
}

#define PFEC_P 0x01u
#define PFEC_W 0x02u
#define PFEC_U 0x04u
#define PFEC_RSVD 0x08u
#define PFEC_I 0x10u

static uint32_t pf_code(enum mode m, enum kind k, bool present, struct env e)
{
    return (present ? PFEC_P : 0) | (k == K_WRITE ? PFEC_W : 0) | (m == M_USER ? PFEC_U : 0) |
           (k == K_FETCH && e.smep ? PFEC_I : 0);
}

/* ---- the machine ---------------------------------------------------------------------------- */

#define RAM_SIZE (12u << 20)
#define KCODE 0x1000u
#define HANDLER 0x1F00u
#define GDT 0x2000u
#define IDT 0x3000u
#define TSS 0x4000u
#define UCODE 0x5000u
#define KSTACK_TOP 0x7000u
#define PD 0x10000u
#define PT0 0x11000u
#define PT1 0x12000u
#define TEST_LIN 0x400100u

#define P 0x001u
#define W 0x002u
#define U 0x004u
#define A 0x020u
#define D 0x040u
#define PS 0x080u
#define G 0x100u

#define SEL_KCODE 0x08
#define SEL_KDATA 0x10
#define SEL_UCODE 0x1B
#define SEL_UDATA 0x23

struct rig {
    struct cpu c;
    struct bus bus;
    uint8_t *ram;
    struct trace_event ev[8];
    unsigned nev;
};

static void on_event(void *ctx, const struct trace_event *ev)
{
    struct rig *r = ctx;
    if (r->nev < 8)
        r->ev[r->nev] = *ev;
    r->nev++;
}

static void wr32(struct rig *r, uint32_t pa, uint32_t v) { memcpy(r->ram + pa, &v, 4); }

static uint32_t rd32(struct rig *r, uint32_t pa)
{
    uint32_t v;
    memcpy(&v, r->ram + pa, 4);
    return v;
}

static void put_bytes(struct rig *r, uint32_t pa, const uint8_t *b, size_t n)
{
    memcpy(r->ram + pa, b, n);
}

static struct rig *rig_new(void)
{
    struct rig *r = calloc(1, sizeof *r);
    assert_non_null(r);
    r->ram = calloc(1, RAM_SIZE);
    assert_non_null(r->ram);
    bus_init(&r->bus);
    assert_int_equal(cpu_init(&r->c, r->ram, RAM_SIZE, &r->bus), 0);
    cpu_add_sink(&r->c, on_event, r);
    return r;
}

static void rig_free(struct rig *r)
{
    cpu_free(&r->c);
    free(r->ram);
    free(r);
}

/* GDT, IDT, TSS and the identity map of the first 4 MiB (PDE[1] is left to the test). */
static void build_tables(struct rig *r)
{
    static const uint32_t gdt[][2] = {
        {0, 0},
        {0x0000FFFF, 0x00CF9A00}, /* 0x08 ring 0 code */
        {0x0000FFFF, 0x00CF9200}, /* 0x10 ring 0 data */
        {0x0000FFFF, 0x00CFFA00}, /* 0x18 ring 3 code */
        {0x0000FFFF, 0x00CFF200}, /* 0x20 ring 3 data */
        {(TSS << 16) | 0x67, 0x00008900}, /* 0x28 TSS */
    };
    for (unsigned k = 0; k < 6; k++) {
        wr32(r, GDT + 8 * k, gdt[k][0]);
        wr32(r, GDT + 8 * k + 4, gdt[k][1]);
    }
    for (unsigned v = 0; v < 256; v++) { /* interrupt gates, DPL 0, to the hlt */
        wr32(r, IDT + 8 * v, (SEL_KCODE << 16) | (HANDLER & 0xFFFF));
        wr32(r, IDT + 8 * v + 4, (HANDLER & 0xFFFF0000u) | 0x8E00);
    }
    r->ram[HANDLER] = 0xF4;
    memset(r->ram + TSS, 0, 0x68);
    wr32(r, TSS + 4, KSTACK_TOP);
    wr32(r, TSS + 8, SEL_KDATA);

    wr32(r, PD + 0, PT0 | P | W | U);
    for (uint32_t k = 2; k < 1024; k++)
        wr32(r, PD + 4 * k, 0);
    for (uint32_t k = 0; k < 1024; k++)
        wr32(r, PT0 + 4 * k, (k << 12) | P | W | (k << 12 == UCODE ? U : 0));
}

/* CS, the data segments, EIP and ESP of ring `cpl` (0 or 3), from the GDT. */
static void load_ring(struct rig *r, unsigned cpl)
{
    struct cpu *c = &r->c;
    uint16_t cs = cpl == 3 ? SEL_UCODE : SEL_KCODE, ds = cpl == 3 ? SEL_UDATA : SEL_KDATA;
    struct segment s;
    struct desc dc = desc_decode(rd32(r, GDT + (cs & ~7)), rd32(r, GDT + (cs & ~7) + 4));
    struct desc dd = desc_decode(rd32(r, GDT + (ds & ~7)), rd32(r, GDT + (ds & ~7) + 4));
    desc_to_segment(cs, &dc, &s);
    seg_set_cs(c, s.sel, s.base, s.limit, s.attr);
    for (int k = 0; k < SEG_COUNT; k++)
        if (k != SEG_CS)
            desc_to_segment(ds, &dd, &c->seg[k]);
    c->eip = cpl == 3 ? UCODE : KCODE;
    c->r[ESP] = cpl == 3 ? UCODE + 0xF00 : KSTACK_TOP;
}

/* Protected mode with paging at `cpl`, GDT/IDT/TR loaded, EIP at that ring's code page, an
 * empty TLB and no decoded code. */
static void enter(struct rig *r, unsigned cpl, uint32_t cr0_extra, uint32_t cr4, bool ac)
{
    struct cpu *c = &r->c;
    cpu_reset_protected_flat(c, 0);
    cpu_flush_decoded(c); /* the host rewrote code and tables behind the cpu's back */
    c->gdtr.base = GDT;
    c->gdtr.limit = 6 * 8 - 1;
    c->idtr.base = IDT;
    c->idtr.limit = 256 * 8 - 1;
    struct desc tss = desc_decode(rd32(r, GDT + 0x28), rd32(r, GDT + 0x2C));
    desc_to_segment(0x28, &tss, &c->tr);
    load_ring(r, cpl);
    c->cr0 = CR0_PE | CR0_ET | CR0_PG | cr0_extra;
    c->cr3 = PD;
    c->cr4 = cr4;
    c->eflags = FL_R1 | (ac ? FL_AC : 0);
    cpu_update_acc(c);
    tlb_flush_all(c);
    r->nev = 0;
}

/* The exception events seen since enter(). */
static const struct trace_event *first_exception(struct rig *r)
{
    for (unsigned k = 0; k < r->nev && k < 8; k++)
        if (r->ev[k].kind == TR_EXCEPTION)
            return &r->ev[k];
    return NULL;
}

/* ---- the permission matrix ------------------------------------------------------------------ */

/* The five accesses of the matrix: as a mode and kind of the rule table, and the instruction. */
enum access { X_READ, X_WRITE, X_FETCH, X_IMPL_READ, X_IMPL_WRITE, X_COUNT };
static const char *const access_names[X_COUNT] = {"read", "write", "fetch", "implicit read",
                                                  "implicit write"};

/* Writes the instruction that makes `acc` at TEST_LIN at the code page of `cpl`, and the data
 * it needs at the test page; returns how many instructions to run. */
static unsigned prepare(struct rig *r, enum access acc, unsigned cpl)
{
    uint32_t code = cpl == 3 ? UCODE : KCODE;
    uint8_t b[8];
    struct cpu *c = &r->c;
    wr32(r, 0x400100, 0x11223344);
    wr32(r, 0x400104, 0x55667788);
    switch (acc) {
    case X_READ: /* mov eax, [TEST_LIN] */
    case X_WRITE: /* mov [TEST_LIN], eax */
        b[0] = acc == X_READ ? 0xA1 : 0xA3;
        memcpy(b + 1, &(uint32_t){TEST_LIN}, 4);
        put_bytes(r, code, b, 5);
        c->r[EAX] = 0xCAFEF00D;
        return 1;
    case X_FETCH: { /* jmp TEST_LIN, where a nop waits */
        uint32_t rel = TEST_LIN - (code + 5);
        b[0] = 0xE9;
        memcpy(b + 1, &rel, 4);
        put_bytes(r, code, b, 5);
        r->ram[0x400100] = 0x90;
        return 2;
    }
    case X_IMPL_READ:
    case X_IMPL_WRITE:
        /* mov ds, ax with an LDT selector: the LDT is at the test address. Its descriptor (a
         * ring 3 flat data segment) has A = 1 for a read only, A = 0 so that the cpu sets it
         * (a read, then a write of the descriptor). */
        wr32(r, 0x400100, 0x0000FFFF);
        wr32(r, 0x400104, acc == X_IMPL_READ ? 0x00CFF300 : 0x00CFF200);
        b[0] = 0x8E;
        b[1] = 0xD8;
        put_bytes(r, code, b, 2);
        c->r[EAX] = cpl == 3 ? 0x07 : 0x04;
        c->ldtr.sel = 0x30;
        c->ldtr.base = TEST_LIN;
        c->ldtr.limit = 7;
        c->ldtr.attr = SA_P | 0x2;
        c->ldtr.flat = false;
        return 1;
    default:
        fail();
    }
    return 0;
}

struct matrix_case {
    bool pde_u, pde_w, pte_u, pte_w, ps;
    struct env e;
    unsigned cpl;
    enum access acc;
};

static void describe(char *buf, size_t n, const struct matrix_case *m)
{
    snprintf(buf, n, "%s CPL%u PDE U%d W%d PTE U%d W%d %s WP%d SMEP%d SMAP%d AC%d",
             access_names[m->acc], m->cpl, m->pde_u, m->pde_w, m->pte_u, m->pte_w,
             m->ps ? "4M" : "4K", m->e.wp, m->e.smep, m->e.smap, m->e.ac);
}

/* What the rules say: *fault and, if so, the error code and CR2. */
static void expect(const struct matrix_case *m, bool *fault, uint32_t *err, uint32_t *cr2)
{
    bool user_page = m->pde_u && (m->ps || m->pte_u);
    bool writable = m->pde_w && (m->ps || m->pte_w);
    enum mode md = m->cpl == 3 ? M_USER : M_SUP;
    enum kind k = m->acc == X_WRITE ? K_WRITE : m->acc == X_FETCH ? K_FETCH : K_READ;
    if (m->acc == X_IMPL_READ || m->acc == X_IMPL_WRITE)
        md = M_IMPLICIT;
    *fault = false;
    *err = 0;
    *cr2 = TEST_LIN;
    if (!allowed(md, k, user_page, writable, m->e)) {
        *fault = true;
        *err = pf_code(md, k, true, m->e);
        return;
    }
    /* The descriptor's accessed bit: a second access, a write of its high dword. */
    if (m->acc == X_IMPL_WRITE && !allowed(md, K_WRITE, user_page, writable, m->e)) {
        *fault = true;
        *err = pf_code(md, K_WRITE, true, m->e);
        *cr2 = TEST_LIN + 4;
    }
}

/* Whether the reason the walk gives for a refusal is one of the conditions of the rule cell
 * that hold (when several hold, any of them is a true explanation). */
static bool reason_fits(enum mode md, enum kind k, bool user_page, bool writable, struct env e,
                        unsigned result)
{
    unsigned r = rule[md][k][user_page];
    switch (result) {
    case WALK_SUPERVISOR_ONLY: return md == M_USER && (r & R_ALWAYS);
    case WALK_READ_ONLY: return md == M_USER && (r & R_RO) && !writable;
    case WALK_WP: return (r & R_RO_WP) && !writable && e.wp;
    case WALK_SMEP: return (r & R_SMEP) && e.smep;
    case WALK_SMAP: return (r & R_SMAP_NOAC) && e.smap && !e.ac;
    case WALK_SMAP_IMPLICIT: return (r & R_SMAP) && e.smap;
    default: return false;
    }
}

/* The #PF's walk (its detail) against the case: the address, the access, U and W combined
 * over the levels, the entries, and a reason the rules give. Returns NULL or what is wrong. */
static const char *walk_mismatch(const struct matrix_case *m, const struct trace_event *ev,
                                 uint32_t want_cr2)
{
    if (ev->detail.kind != FD_PAGE)
        return "#PF without its walk";
    const struct walk *w = &ev->detail.u.page;
    bool user_page = m->pde_u && (m->ps || m->pte_u);
    bool writable = m->pde_w && (m->ps || m->pte_w);
    enum mode md = m->acc == X_IMPL_READ || m->acc == X_IMPL_WRITE ? M_IMPLICIT
                   : m->cpl == 3                                  ? M_USER
                                                                  : M_SUP;
    enum kind k = m->acc == X_READ || m->acc == X_IMPL_READ ? K_READ
                  : m->acc == X_FETCH                       ? K_FETCH
                                                            : K_WRITE;
    if (m->acc == X_IMPL_WRITE && want_cr2 == TEST_LIN)
        k = K_READ; /* the descriptor's read faulted, before its accessed bit was written */
    static const uint8_t pg_kind[] = {[K_READ] = PG_READ, [K_WRITE] = PG_WRITE,
                                      [K_FETCH] = PG_FETCH};
    unsigned want_mode = md == M_USER ? PG_USER : md == M_IMPLICIT ? PG_IMPLICIT
                         : (m->e.smap && m->e.ac) ? PG_SUPERVISOR_AC : PG_SUPERVISOR;
    if (w->lin != want_cr2)
        return "the walk is of another address";
    if (w->kind != pg_kind[k] || w->mode != want_mode)
        return "the walk checked another access";
    if (w->user != user_page || w->writable != writable || w->large != m->ps)
        return "the walk combined U/W (or the page size) wrongly";
    if (w->pde_addr != PD + 4 || (!m->ps && w->pte_addr != PT1))
        return "the walk read other entries";
    if (!reason_fits(md, k, user_page, writable, m->e, w->result))
        return "the walk's reason is not one the rules give";
    return NULL;
}

static unsigned mismatches;

static void mismatch(const struct matrix_case *m, const char *fmt, ...)
{
    char what[128];
    describe(what, sizeof what, m);
    if (++mismatches <= 40) {
        char msg[160];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        print_message("MISMATCH %s: %s\n", what, msg);
    }
}

/* Runs one case; returns true when it faulted. */
static bool run_case(struct rig *r, const struct matrix_case *m)
{
    struct cpu *c = &r->c;
    build_tables(r);
    uint32_t pde = (m->pde_u ? U : 0) | (m->pde_w ? W : 0) | P;
    uint32_t pte = 0x400000u | (m->pte_u ? U : 0) | (m->pte_w ? W : 0) | P;
    wr32(r, PT1, pte); /* written with PS too: then it must be ignored */
    wr32(r, PD + 4, m->ps ? 0x400000u | PS | pde : PT1 | pde);
    uint32_t cr4 = CR4_PSE | (m->e.smep ? CR4_SMEP : 0) | (m->e.smap ? CR4_SMAP : 0);
    enter(r, m->cpl, m->e.wp ? CR0_WP : 0, cr4, m->e.ac);
    unsigned n = prepare(r, m->acc, m->cpl);
    uint32_t start = c->eip;
    cpu_run(c, n);

    bool want_fault;
    uint32_t want_err, want_cr2;
    expect(m, &want_fault, &want_err, &want_cr2);
    const struct trace_event *ev = first_exception(r);
    uint32_t pde_now = rd32(r, PD + 4), pte_now = rd32(r, PT1);
    uint32_t leaf = m->ps ? pde_now : pte_now;
    uint32_t fault_eip = m->acc == X_FETCH ? TEST_LIN : start;

    if (want_fault) {
        if (!ev) {
            mismatch(m, "no exception, want #PF %02x", want_err);
            return true;
        }
        if (ev->vector != EXC_PF || !ev->has_error || ev->error != want_err)
            mismatch(m, "vector %u error %02x, want #PF %02x", ev->vector, ev->error, want_err);
        if (ev->cr2 != want_cr2 || c->cr2 != want_cr2)
            mismatch(m, "CR2 %08x (event %08x), want %08x", c->cr2, ev->cr2, want_cr2);
        if (ev->before.eip != fault_eip)
            mismatch(m, "faulting EIP %08x, want %08x", ev->before.eip, fault_eip);
        const char *bad = walk_mismatch(m, ev, want_cr2);
        if (bad)
            mismatch(m, "%s (result %u)", bad, ev->detail.u.page.result);
        if (leaf & D)
            mismatch(m, "dirty bit set by a refused access");
        return true;
    }
    if (ev) {
        mismatch(m, "exception %u error %02x, want success", ev->vector, ev->error);
        return false;
    }
    bool writes = m->acc == X_WRITE || m->acc == X_IMPL_WRITE;
    if (!(pde_now & A) || (!m->ps && !(pte_now & A)))
        mismatch(m, "accessed bits PDE %d PTE %d", !!(pde_now & A), !!(pte_now & A));
    if (!!(leaf & D) != writes)
        mismatch(m, "dirty bit %d, want %d", !!(leaf & D), writes);
    if (m->ps && (pte_now & (A | D)))
        mismatch(m, "PTE touched although the PDE maps a 4 MiB page");
    switch (m->acc) {
    case X_READ:
        if (c->r[EAX] != 0x11223344)
            mismatch(m, "read %08x", c->r[EAX]);
        break;
    case X_WRITE:
        if (rd32(r, 0x400100) != 0xCAFEF00D)
            mismatch(m, "memory holds %08x after the write", rd32(r, 0x400100));
        break;
    case X_FETCH:
        if (c->eip != TEST_LIN + 1)
            mismatch(m, "EIP %08x after the fetched nop", c->eip);
        break;
    default:
        if (c->seg[SEG_DS].sel != c->r[EAX])
            mismatch(m, "DS = %04x", c->seg[SEG_DS].sel);
        if (!(rd32(r, 0x400104) & 0x100))
            mismatch(m, "descriptor accessed bit not set");
        break;
    }
    return false;
}

static void permission_matrix(void **state)
{
    struct rig *r = *state;
    unsigned cases = 0, faults = 0;
    mismatches = 0;
    for (unsigned bits = 0; bits < (1u << 10); bits++) {
        struct matrix_case m = {
            .pde_u = bits & 1, .pde_w = bits & 2, .pte_u = bits & 4, .pte_w = bits & 8,
            .ps = bits & 16,
            .e = {.wp = bits & 32, .smep = bits & 64, .smap = bits & 128, .ac = bits & 256},
            .cpl = (bits & 512) ? 3 : 0,
        };
        for (m.acc = 0; m.acc < X_COUNT; m.acc++) {
            faults += run_case(r, &m);
            cases++;
        }
    }
    print_message("permission matrix: %u cases, %u faults, %u mismatches\n", cases, faults,
                  mismatches);
    assert_int_equal(cases, 5120);
    assert_int_equal(mismatches, 0);
}

/* ---- reserved bits, not-present entries, PS without CR4.PSE ---------------------------------- */

/* Runs `acc` at `cpl` with the current PD/PT1 and returns the #PF error code, or -1 if the
 * access succeeded; checks CR2. */
static long one_access(struct rig *r, enum access acc, unsigned cpl, uint32_t cr4)
{
    enter(r, cpl, CR0_WP, cr4, false);
    unsigned n = prepare(r, acc, cpl);
    cpu_run(&r->c, n);
    const struct trace_event *ev = first_exception(r);
    if (!ev)
        return -1;
    assert_int_equal(ev->vector, EXC_PF);
    assert_int_equal(ev->cr2, TEST_LIN);
    assert_int_equal(r->c.cr2, TEST_LIN);
    return (long)ev->error;
}

static void reserved_bits_in_4m_pde(void **state)
{
    struct rig *r = *state;
    for (unsigned bit = 13; bit <= 21; bit++) {
        for (unsigned cpl = 0; cpl <= 3; cpl += 3) {
            for (enum access acc = 0; acc < X_COUNT; acc++) {
                for (unsigned smep = 0; smep < 2; smep++) {
                    if (cpl == 3 && (acc == X_IMPL_READ || acc == X_IMPL_WRITE) && smep)
                        continue;
                    build_tables(r);
                    wr32(r, PD + 4, 0x400000u | (1u << bit) | PS | U | W | P);
                    uint32_t cr4 = CR4_PSE | (smep ? CR4_SMEP : 0);
                    long e = one_access(r, acc, cpl, cr4);
                    uint32_t want = PFEC_P | PFEC_RSVD | (acc == X_WRITE ? PFEC_W : 0) |
                                    (cpl == 3 && acc <= X_FETCH ? PFEC_U : 0) |
                                    (acc == X_FETCH && smep ? PFEC_I : 0);
                    if (e != (long)want)
                        print_message("bit %u %s CPL%u SMEP%u: error %lx want %x\n", bit,
                                      access_names[acc], cpl, smep, e, want);
                    assert_int_equal(e, want);
                    assert_int_equal(rd32(r, PD + 4) & (A | D), 0);
                }
            }
        }
    }
}

static void not_present_entries(void **state)
{
    struct rig *r = *state;
    for (unsigned level = 0; level < 3; level++) { /* PDE, PTE, 4 MiB PDE */
        for (unsigned cpl = 0; cpl <= 3; cpl += 3) {
            for (enum access acc = 0; acc < X_COUNT; acc++) {
                for (unsigned smep = 0; smep < 2; smep++) {
                    build_tables(r);
                    /* Everything else allows everything: only P is missing. */
                    wr32(r, PT1, 0x400000u | U | W | (level == 1 ? 0 : P));
                    wr32(r, PD + 4, level == 2 ? 0x400000u | PS | U | W
                                    : PT1 | U | W | (level == 0 ? 0 : P));
                    uint32_t cr4 = CR4_PSE | (smep ? CR4_SMEP : 0);
                    long e = one_access(r, acc, cpl, cr4);
                    uint32_t want = (acc == X_WRITE ? PFEC_W : 0) |
                                    (cpl == 3 && acc <= X_FETCH ? PFEC_U : 0) |
                                    (acc == X_FETCH && smep ? PFEC_I : 0);
                    assert_int_equal(e, want);
                }
            }
        }
    }
}

/* With CR4.PSE = 0 the PS bit of a PDE is ignored: the PDE points to a page table. */
static void ps_ignored_without_pse(void **state)
{
    struct rig *r = *state;
    build_tables(r);
    wr32(r, PD + 4, PT1 | PS | U | W | P);
    wr32(r, PT1, 0x430000u | U | W | P);
    wr32(r, 0x430100, 0xABCD0123);
    enter(r, 0, CR0_WP, 0, false);
    prepare(r, X_READ, 0);
    wr32(r, 0x430100, 0xABCD0123);
    cpu_run(&r->c, 1);
    assert_null(first_exception(r));
    assert_int_equal(r->c.r[EAX], 0xABCD0123);
    assert_true(rd32(r, PT1) & A);
}

/* ---- the TLB ------------------------------------------------------------------------------- */

/* Two pages whose TLB slots (0x30, 0x31) no code, stack or table page of the rig uses. */
#define LX 0x430000u /* PT1[0x30] */
#define LY 0x431000u /* PT1[0x31] */
#define F1 0x440000u
#define F2 0x441000u
#define F3 0x442000u
#define F4 0x443000u
#define LE32(x) (x) & 0xFF, ((x) >> 8) & 0xFF, ((x) >> 16) & 0xFF, (x) >> 24 /* imm32 bytes */

static void tlb_setup(struct rig *r, uint32_t x_extra, uint32_t y_extra, uint32_t cr4)
{
    build_tables(r);
    memset(r->ram + PT1, 0, PAGE_SIZE);
    wr32(r, PD + 4, PT1 | P | W);
    wr32(r, PT1 + 4 * 0x30, F1 | P | W | x_extra);
    wr32(r, PT1 + 4 * 0x31, F2 | P | W | y_extra);
    wr32(r, F1, 0x1111);
    wr32(r, F2, 0x2222);
    wr32(r, F3, 0x3333);
    wr32(r, F4, 0x4444);
    enter(r, 0, CR0_WP, cr4, false);
}

static void code(struct rig *r, const uint8_t *b, size_t n) { put_bytes(r, KCODE, b, n); }

static void run_ok(struct rig *r, unsigned n)
{
    cpu_run(&r->c, n);
    const struct trace_event *ev = first_exception(r);
    if (ev)
        print_message("unexpected exception %u error %x\n", ev->vector, ev->error);
    assert_null(ev);
}

/* A write through a TLB entry that a read filled (with D = 0) must still set D. */
static void write_after_read_sets_dirty(void **state)
{
    struct rig *r = *state;
    tlb_setup(r, 0, 0, 0);
    static const uint8_t prog[] = {
        0xA1, LE32(LX),              /* mov eax, [LX] */
        0xA3, LE32(LX),              /* mov [LX], eax */
        0xF4,
    };
    code(r, prog, sizeof prog);
    run_ok(r, 1);
    assert_int_equal(r->c.r[EAX], 0x1111);
    assert_int_equal(rd32(r, PT1 + 4 * 0x30) & (A | D), A);
    run_ok(r, 1);
    assert_int_equal(rd32(r, PT1 + 4 * 0x30) & (A | D), A | D);
    /* the same through a 4 MiB page */
    build_tables(r);
    wr32(r, PD + 4, 0x400000u | PS | P | W);
    enter(r, 0, CR0_WP, CR4_PSE, false);
    code(r, prog, sizeof prog);
    run_ok(r, 1);
    assert_int_equal(rd32(r, PD + 4) & (A | D), A);
    run_ok(r, 1);
    assert_int_equal(rd32(r, PD + 4) & (A | D), A | D);
}

/* mov cr3 drops non-global translations and keeps global ones (CR4.PGE and PTE.G); toggling
 * CR4.PGE drops the global ones too. */
static void cr3_load_keeps_globals_pge_toggle_drops_them(void **state)
{
    struct rig *r = *state;
    tlb_setup(r, G, 0, CR4_PGE);
    static const uint8_t prog[] = {
        0xA1, LE32(LX),              /* mov eax, [LX] */
        0x8B, 0x1D, LE32(LY),        /* mov ebx, [LY] */
        0x0F, 0x22, 0xD9,            /* mov cr3, ecx */
        0xA1, LE32(LX),              /* mov eax, [LX] */
        0x8B, 0x1D, LE32(LY),        /* mov ebx, [LY] */
        0x0F, 0x22, 0xE2,            /* mov cr4, edx (PGE off) */
        0x0F, 0x22, 0xE6,            /* mov cr4, esi (PGE on) */
        0xA1, LE32(LX),              /* mov eax, [LX] */
        0xF4,
    };
    code(r, prog, sizeof prog);
    r->c.r[ECX] = PD;
    r->c.r[EDX] = 0;
    r->c.r[ESI] = CR4_PGE;
    run_ok(r, 2);
    assert_int_equal(r->c.r[EAX], 0x1111);
    assert_int_equal(r->c.r[EBX], 0x2222);
    /* Remap both behind the TLB's back. */
    wr32(r, PT1 + 4 * 0x30, F3 | P | W | G);
    wr32(r, PT1 + 4 * 0x31, F4 | P | W);
    run_ok(r, 3);
    assert_int_equal(r->c.r[EAX], 0x1111); /* global: kept */
    assert_int_equal(r->c.r[EBX], 0x4444); /* not global: walked again */
    run_ok(r, 3);
    assert_int_equal(r->c.r[EAX], 0x3333); /* the PGE toggle dropped it */

    /* G without CR4.PGE is not global. */
    tlb_setup(r, G, 0, 0);
    code(r, prog, sizeof prog);
    r->c.r[ECX] = PD;
    run_ok(r, 2);
    wr32(r, PT1 + 4 * 0x30, F3 | P | W | G);
    run_ok(r, 3);
    assert_int_equal(r->c.r[EAX], 0x3333);
}

/* INVLPG drops the translation of one page (global or not), and not the others. */
static void invlpg_drops_one_page(void **state)
{
    struct rig *r = *state;
    for (unsigned global = 0; global < 2; global++) {
        tlb_setup(r, global ? G : 0, global ? G : 0, CR4_PGE);
        static const uint8_t prog[] = {
            0xA1, LE32(LX),              /* mov eax, [LX] */
            0x8B, 0x1D, LE32(LY),        /* mov ebx, [LY] */
            0x0F, 0x01, 0x38,            /* invlpg [eax] (EAX = LX, set below) */
            0xA1, LE32(LX),              /* mov eax, [LX] */
            0x8B, 0x1D, LE32(LY),        /* mov ebx, [LY] */
            0xF4,
        };
        code(r, prog, sizeof prog);
        run_ok(r, 2);
        assert_int_equal(r->c.r[EAX], 0x1111);
        assert_int_equal(r->c.r[EBX], 0x2222);
        wr32(r, PT1 + 4 * 0x30, F3 | P | W | (global ? G : 0));
        wr32(r, PT1 + 4 * 0x31, F4 | P | W | (global ? G : 0));
        r->c.r[EAX] = LX;
        run_ok(r, 3);
        assert_int_equal(r->c.r[EAX], 0x3333);
        assert_int_equal(r->c.r[EBX], 0x2222); /* still the old translation */
    }
}

/* INVLPG of any address in a 4 MiB page drops every TLB entry made from that page (SDM vol. 3
 * 4.10.4.1: "the instruction invalidates all of them"). */
static void invlpg_drops_a_whole_4m_page(void **state)
{
    struct rig *r = *state;
    build_tables(r);
    wr32(r, PD + 4, 0x400000u | PS | P | W);
    wr32(r, 0x400000, 0xAAAA0000);
    wr32(r, 0x4A5000, 0xAAAA0A50);
    wr32(r, 0x800000, 0xBBBB0000);
    wr32(r, 0x8A5000, 0xBBBB0A50);
    enter(r, 0, CR0_WP, CR4_PSE, false);
    static const uint8_t prog[] = {
        0xA1, LE32(0x400000u),       /* mov eax, [0x400000] */
        0x8B, 0x1D, LE32(0x4A5000u), /* mov ebx, [0x4A5000] */
        0x0F, 0x01, 0x39,            /* invlpg [ecx] (ECX = 0x400000) */
        0x8B, 0x1D, LE32(0x4A5000u), /* mov ebx, [0x4A5000] */
        0xF4,
    };
    code(r, prog, sizeof prog);
    r->c.r[ECX] = 0x400000;
    run_ok(r, 2);
    assert_int_equal(r->c.r[EAX], 0xAAAA0000);
    assert_int_equal(r->c.r[EBX], 0xAAAA0A50);
    wr32(r, PD + 4, 0x800000u | PS | P | W);
    run_ok(r, 2);
    assert_int_equal(r->c.r[EBX], 0xBBBB0A50);
}

/* Moves the cpu to `cpl` at that ring's code page without touching the TLB. */
static void switch_ring(struct rig *r, unsigned cpl)
{
    load_ring(r, cpl);
    r->nev = 0;
}

/* A translation cached for one kind of access grants nothing to another: after a user read of a
 * user page, a supervisor read with SMAP and AC = 0 still faults; after a supervisor write to a
 * read-only user page (allowed: WP = 0), a user write still faults. */
static void tlb_entry_does_not_leak_rights(void **state)
{
    struct rig *r = *state;
    build_tables(r);
    wr32(r, PT1, 0x400000u | P | U); /* user, read-only */
    wr32(r, PD + 4, PT1 | P | U | W);
    enter(r, 3, CR0_WP, CR4_SMAP, false);
    prepare(r, X_READ, 3);
    prepare(r, X_READ, 0); /* the same read at the ring 0 code page, for after switch_ring */
    run_ok(r, 1);
    assert_int_equal(r->c.r[EAX], 0x11223344);
    switch_ring(r, 0);
    cpu_run(&r->c, 1);
    const struct trace_event *ev = first_exception(r);
    assert_non_null(ev);
    assert_int_equal(ev->vector, EXC_PF);
    assert_int_equal(ev->error, PFEC_P);

    enter(r, 0, 0, 0, false); /* WP = 0: ring 0 may write the read-only page */
    prepare(r, X_WRITE, 3);
    prepare(r, X_WRITE, 0);
    run_ok(r, 1);
    assert_int_equal(rd32(r, 0x400100), 0xCAFEF00D);
    assert_int_equal(rd32(r, PT1) & D, D);
    switch_ring(r, 3);
    cpu_run(&r->c, 1);
    ev = first_exception(r);
    assert_non_null(ev);
    assert_int_equal(ev->vector, EXC_PF);
    assert_int_equal(ev->error, PFEC_P | PFEC_W | PFEC_U);
}

/* A chained block link skips the fetch permission check, so it holds only at the CPL it was made
 * at (src/cpu/icache.h). The same two blocks run first at CPL 0, which links A -> B, then at
 * CPL 3 with no TLB flush or CS base change in between (IRET to a ring 3 CS with the same base
 * and size keeps the map epoch): A is on the user code page, B on a supervisor page, so at
 * CPL 3 the jump into B must fault #PF(P | U = 5) at B, with B's first instruction not run.
 *
 *   A (UCODE, U = 1):          nop; jmp B
 *   B (KCODE + 0x10, U = 0):   inc esi; iret        (the frame sends CPL 0 to A at CPL 3)
 */
static void chained_link_does_not_cross_cpl(void **state)
{
    struct rig *r = *state;
    struct cpu *c = &r->c;
    build_tables(r);
    enter(r, 0, CR0_WP, 0, false);
    const uint32_t b_addr = KCODE + 0x10, frame = KSTACK_TOP - 20;
    uint32_t rel = b_addr - (UCODE + 6);
    const uint8_t a[] = {0x90, 0xE9, LE32(rel)}; /* nop; jmp B */
    const uint8_t b[] = {0x46, 0xCF};            /* inc esi; iret */
    put_bytes(r, UCODE, a, sizeof a);
    put_bytes(r, b_addr, b, sizeof b);
    wr32(r, frame, UCODE);              /* EIP */
    wr32(r, frame + 4, SEL_UCODE);      /* CS */
    wr32(r, frame + 8, FL_R1);          /* EFLAGS */
    wr32(r, frame + 12, UCODE + 0xF00); /* ESP */
    wr32(r, frame + 16, SEL_UDATA);     /* SS */
    c->eip = UCODE;
    c->r[ESP] = frame;
    c->r[ESI] = 0;
    uint32_t epoch = c->map_epoch;
    /* nop, jmp, inc, iret at CPL 0; nop, jmp at CPL 3; the #PF; hlt in its handler */
    cpu_run(c, 20);
    assert_int_equal(c->map_epoch, epoch); /* else the link would die for another reason */
    const struct trace_event *ev = first_exception(r);
    assert_non_null(ev);
    assert_int_equal(ev->vector, EXC_PF);
    assert_int_equal(ev->error, PFEC_P | PFEC_U);
    assert_int_equal(ev->before.cpl, 3);
    assert_int_equal(ev->before.eip, b_addr);
    assert_int_equal(ev->cr2, b_addr);
    assert_int_equal(c->r[ESI], 1); /* B ran once, at CPL 0 only */
    assert_int_equal(c->icount, 6 + 1); /* and the handler's hlt */
}

static int setup(void **state)
{
    *state = rig_new();
    return 0;
}

static int teardown(void **state)
{
    rig_free(*state);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(permission_matrix, setup, teardown),
        cmocka_unit_test_setup_teardown(reserved_bits_in_4m_pde, setup, teardown),
        cmocka_unit_test_setup_teardown(not_present_entries, setup, teardown),
        cmocka_unit_test_setup_teardown(ps_ignored_without_pse, setup, teardown),
        cmocka_unit_test_setup_teardown(write_after_read_sets_dirty, setup, teardown),
        cmocka_unit_test_setup_teardown(cr3_load_keeps_globals_pge_toggle_drops_them, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(invlpg_drops_one_page, setup, teardown),
        cmocka_unit_test_setup_teardown(invlpg_drops_a_whole_4m_page, setup, teardown),
        cmocka_unit_test_setup_teardown(tlb_entry_does_not_leak_rights, setup, teardown),
        cmocka_unit_test_setup_teardown(chained_link_does_not_cross_cpl, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
