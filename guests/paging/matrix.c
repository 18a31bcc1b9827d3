/* Guest: the paging permission matrix through the real instruction path.
 *
 * For every combination of PDE U/S and R/W, PTE U/S and R/W, a 4 KiB or 4 MiB page, CR0.WP,
 * CR4.SMEP, CR4.SMAP, EFLAGS.AC and CPL 0 / 3, five accesses to the test address are made:
 *   read    mov (%ebx), %eax            write   mov %eax, (%ebx)
 *   fetch   jmp *%ebx (to an int $0x30)
 *   implicit read    mov %ax, %ds with an LDT selector, the LDT lying at the test address and
 *                    its descriptor already accessed (a descriptor-table read)
 *   implicit write   the same with the accessed bit clear: the cpu reads the descriptor, then
 *                    writes its high dword back with A set
 * The outcome must be what the rule table below (SDM vol. 3 4.6.1 and 4.7) says: a #PF with
 * the right error code, CR2 and EIP, or success with the accessed bits of the entries used and
 * (writes only) the dirty bit set in memory. Then not-present entries (P = 0). Built with
 * PAGING_RSVD (guest paging_rsvd) it checks the reserved bits of a 4 MiB PDE instead, where
 * QEMU and the SDM part ways (see reserved_bits()).
 *
 * Output: counts per outcome class and a line per mismatch. On a cpu without SMEP/SMAP (QEMU's
 * default qemu32) the cases with either bit set are skipped; their summary lines start with
 * "smep-smap" and are left out of the comparison (IGNORE in CMakeLists.txt).
 */
#include "kern.h"

/* ---- the rules (SDM vol. 3 4.6.1; 32-bit paging: no XD, no protection keys) ----------------
 *
 * user page = U/S = 1 in the PDE and (4 KiB page) the PTE; writable = R/W = 1 likewise. A user
 * access is explicit at CPL 3; a supervisor access is explicit at CPL 0 or implicit (GDT, LDT,
 * IDT, TSS) at any CPL, and EFLAGS.AC lifts SMAP for explicit ones only.
 *
 *   access               supervisor page (U=0)      user page (U=1)
 *   user read / fetch    refused                    allowed
 *   user write           refused                    writable
 *   explicit sup read    allowed                    not (SMAP and AC = 0)
 *   explicit sup write   writable or WP = 0         (writable or WP = 0) and not (SMAP and AC = 0)
 *   explicit sup fetch   allowed                    not SMEP
 *   implicit sup read    allowed                    not SMAP
 *   implicit sup write   writable or WP = 0         (writable or WP = 0) and not SMAP
 *
 * #PF error code: P (present entries refused it, or RSVD), W/R (write), U/S (user access; an
 * implicit access at CPL 3 is a supervisor access), RSVD, I/D (fetch with CR4.SMEP). */
enum mode { M_USER, M_SUP, M_IMPLICIT };
enum kind { K_READ, K_WRITE, K_FETCH };

#define R_ALWAYS 0x01u    /* refused */
#define R_RO 0x02u        /* refused unless writable */
#define R_RO_WP 0x04u     /* refused unless writable, when CR0.WP = 1 */
#define R_SMAP_NOAC 0x08u /* refused when SMAP and AC = 0 */
#define R_SMAP 0x10u      /* refused when SMAP */
#define R_SMEP 0x20u      /* refused when SMEP */

static const uint8_t rule[3][3][2] = { /* [mode][kind][user page] */
    [M_USER] = {[K_READ] = {R_ALWAYS, 0}, [K_WRITE] = {R_ALWAYS, R_RO}, [K_FETCH] = {R_ALWAYS, 0}},
    [M_SUP] = {[K_READ] = {0, R_SMAP_NOAC},
               [K_WRITE] = {R_RO_WP, R_RO_WP | R_SMAP_NOAC},
               [K_FETCH] = {0, R_SMEP}},
    [M_IMPLICIT] = {[K_READ] = {0, R_SMAP},
                    [K_WRITE] = {R_RO_WP, R_RO_WP | R_SMAP},
                    [K_FETCH] = {R_ALWAYS, R_ALWAYS}},
};

struct env {
    bool wp, smep, smap, ac;
};

static inline bool allowed(enum mode m, enum kind k, bool user_page, bool writable, struct env e)
{
    unsigned r = rule[m][k][user_page];
    return !((r & R_ALWAYS) || ((r & R_RO) && !writable) || ((r & R_RO_WP) && !writable && e.wp) ||
             ((r & R_SMAP_NOAC) && e.smap && !e.ac) || ((r & R_SMAP) && e.smap) ||
             ((r & R_SMEP) && e.smep));
}

#define PF_P 0x01u
#define PF_W 0x02u
#define PF_U 0x04u
#define PF_RSVD 0x08u
#define PF_I 0x10u

static uint32_t pf_code(enum mode m, enum kind k, bool present, bool smep)
{
    return (present ? PF_P : 0) | (k == K_WRITE ? PF_W : 0) | (m == M_USER ? PF_U : 0) |
           (k == K_FETCH && smep ? PF_I : 0);
}

/* ---- running one access ------------------------------------------------------------------- */

enum access { X_READ, X_WRITE, X_FETCH, X_IMPL_READ, X_IMPL_WRITE, X_COUNT };
static const char *const access_names[X_COUNT] = {"read", "write", "fetch", "implicit read",
                                                  "implicit write"};

#define TEST_LIN (TEST + 0x100)
#define TEST_VIA_ALIAS ((volatile uint32_t *)(ALIAS + 0x100))
#define VALUE 0x11223344u
#define WRITTEN 0xCAFEF00Du

struct result {
    uint32_t vector, error, cr2, eip;
};

static uint32_t stub(enum access acc, unsigned cpl)
{
    static const enum access_stub which[X_COUNT] = {ACC_READ, ACC_WRITE, ACC_FETCH, ACC_SREG,
                                                    ACC_SREG};
    return access_stub(which[acc], cpl);
}

static uint32_t cr0_base;

/* Makes `acc` at ring `cpl` under `e` with the translation already in place. */
static struct result run_access(enum access acc, unsigned cpl, struct env e)
{
    volatile uint32_t *data = TEST_VIA_ALIAS;
    data[0] = VALUE;
    data[1] = 0x55667788;
    uint32_t eax = WRITTEN;
    if (acc == X_FETCH) {
        data[0] = 0x30CD; /* int $0x30 */
    } else if (acc == X_IMPL_READ || acc == X_IMPL_WRITE) {
        data[0] = 0x0000FFFF; /* ring 3 flat data, A set or clear */
        data[1] = acc == X_IMPL_READ ? 0x00CFF300 : 0x00CFF200;
        eax = cpl == 3 ? 0x07 : 0x04;
    }
    write_cr0(e.wp ? cr0_base | CR0_WP : cr0_base & ~CR0_WP);
    write_cr4(CR4_PSE | (e.smep ? CR4_SMEP : 0) | (e.smap ? CR4_SMAP : 0));
    flush_tlb();
    uint32_t vec = run_at(cpl, stub(acc, cpl), 0x2 | (e.ac ? EFL_AC : 0), eax, TEST_LIN);
    write_cr4(CR4_PSE);
    write_cr0(cr0_base | CR0_WP);
    return (struct result){vec, last_frame.error, last_cr2, last_frame.eip};
}

#ifndef PAGING_RSVD
/* ---- the matrix ----------------------------------------------------------------------------- */

struct tally {
    unsigned cases, ok, pf[32];
};

static unsigned mismatches;
static unsigned cur_bits;
static enum access cur_acc;

/* One line per wrong outcome (the first 40): the access, the case bits, what went wrong. */
static void mismatch(const char *fmt, ...)
{
    if (++mismatches > 40)
        return;
    rt_printf("MISMATCH %s bits=%03x: ", access_names[cur_acc], cur_bits);
    va_list ap;
    va_start(ap, fmt);
    rt_vprintf(fmt, ap);
    va_end(ap);
    rt_putc('\n');
}

/* bits: 0 PDE.U  1 PDE.W  2 PTE.U  3 PTE.W  4 PS (4 MiB page)  5 CR0.WP  6 CR4.SMEP
 *       7 CR4.SMAP  8 EFLAGS.AC  9 CPL 3 (else CPL 0) */
static void one_case(unsigned bits, enum access acc, struct tally *t)
{
    bool pde_u = bits & 1, pde_w = bits & 2, pte_u = bits & 4, pte_w = bits & 8, ps = bits & 16;
    struct env e = {bits & 32, bits & 64, bits & 128, bits & 256};
    unsigned cpl = (bits & 512) ? 3 : 0;
    cur_bits = bits;
    cur_acc = acc;

    test_pt[0] = TEST_PHYS | (pte_u ? PG_U : 0) | (pte_w ? PG_W : 0) | PG_P;
    uint32_t pde = (pde_u ? PG_U : 0) | (pde_w ? PG_W : 0) | PG_P;
    pd[2] = ps ? TEST_PHYS | PG_PS | pde : addr(test_pt) | pde;
    struct result r = run_access(acc, cpl, e);

    /* What the rules say. */
    bool user_page = pde_u && (ps || pte_u), writable = pde_w && (ps || pte_w);
    enum mode md = cpl == 3 ? M_USER : M_SUP;
    if (acc == X_IMPL_READ || acc == X_IMPL_WRITE)
        md = M_IMPLICIT;
    enum kind k = acc == X_WRITE ? K_WRITE : acc == X_FETCH ? K_FETCH : K_READ;
    bool fault = false;
    uint32_t err = 0, cr2 = TEST_LIN;
    uint32_t eip = acc == X_FETCH ? TEST_LIN : stub(acc, cpl);
    if (!allowed(md, k, user_page, writable, e)) {
        fault = true;
        err = pf_code(md, k, true, e.smep);
    } else if (acc == X_IMPL_WRITE && !allowed(md, K_WRITE, user_page, writable, e)) {
        fault = true; /* the descriptor read went through, setting its accessed bit did not */
        err = pf_code(md, K_WRITE, true, e.smep);
        cr2 = TEST_LIN + 4;
    }

    uint32_t pde_now = pd[2], pte_now = test_pt[0], leaf = ps ? pde_now : pte_now;
    t->cases++;
    if (fault) {
        if (r.vector == VEC_DONE) {
            mismatch("completed, want #PF(%02x)", err);
            return;
        }
        if (r.vector != 14 || r.error != err) {
            mismatch("vector %u error %x, want #PF(%02x)", r.vector, r.error, err);
            return;
        }
        /* the descriptor's A bit lives in byte 5: accept a write of dword 4 or of byte 5 */
        if (r.cr2 != cr2 && !(cr2 == TEST_LIN + 4 && r.cr2 == TEST_LIN + 5))
            mismatch("CR2 %x, want %x", r.cr2, cr2);
        if (r.eip != eip)
            mismatch("EIP %x, want %x", r.eip, eip);
        if (leaf & PG_D)
            mismatch("dirty bit set by a refused access (leaf %x)", leaf);
        t->pf[err]++;
        return;
    }
    if (r.vector != VEC_DONE) {
        mismatch("vector %u error %x, want success", r.vector, r.error);
        return;
    }
    bool writes = acc == X_WRITE || acc == X_IMPL_WRITE;
    if (!(pde_now & PG_A) || (!ps && !(pte_now & PG_A)))
        mismatch("accessed bits: PDE %x PTE %x", pde_now, pte_now);
    if (((leaf & PG_D) != 0) != writes)
        mismatch("dirty bit: leaf %x, writes %u", leaf, writes);
    volatile uint32_t *data = TEST_VIA_ALIAS;
    switch (acc) {
    case X_READ:
        if (last_frame.eax != VALUE)
            mismatch("read %x, want %x", last_frame.eax, VALUE);
        break;
    case X_WRITE:
        if (data[0] != WRITTEN)
            mismatch("memory holds %x, want %x", data[0], WRITTEN);
        break;
    case X_FETCH:
        if (last_frame.eip != TEST_LIN + 2)
            mismatch("returned from %x, want %x", last_frame.eip, TEST_LIN + 2);
        break;
    default:
        if ((last_frame.ds & 0xFFFF) != (cpl == 3 ? 0x07u : 0x04u))
            mismatch("DS = %x", last_frame.ds & 0xFFFF);
        if (!(data[1] & 0x100))
            mismatch("descriptor not marked accessed: %x", data[1]);
        break;
    }
    t->ok++;
}

static void print_tally(const char *prefix, const struct tally *t)
{
    rt_printf("%s: %u cases, allowed %u", prefix, t->cases, t->ok);
    for (unsigned e = 0; e < 32; e++)
        if (t->pf[e])
            rt_printf(", #PF(%02x) %u", e, t->pf[e]);
    rt_putc('\n');
}

/* ---- not present; reserved bits ----------------------------------------------------------- */

static void not_present(void)
{
    struct env e = {true, false, false, false};
    unsigned bad = 0, n = 0;
    for (unsigned cpl = 0; cpl <= 3; cpl += 3) {
        for (enum access acc = 0; acc < X_COUNT; acc++) {
            enum mode md = acc >= X_IMPL_READ ? M_IMPLICIT : cpl == 3 ? M_USER : M_SUP;
            enum kind k = acc == X_WRITE ? K_WRITE : acc == X_FETCH ? K_FETCH : K_READ;
            for (unsigned level = 0; level < 3; level++) { /* PDE, PTE, 4 MiB PDE not present */
                /* everything else in the entries allows everything */
                test_pt[0] = TEST_PHYS | PG_U | PG_W | (level == 1 ? 0 : PG_P);
                pd[2] = level == 2 ? TEST_PHYS | PG_PS | PG_U | PG_W
                                   : addr(test_pt) | PG_U | PG_W | (level == 0 ? 0 : PG_P);
                struct result r = run_access(acc, cpl, e);
                n++;
                if (r.vector != 14 || r.error != pf_code(md, k, false, false) ||
                    r.cr2 != TEST_LIN) {
                    bad++;
                    rt_printf("MISMATCH not-present level %u %s CPL%u: vector %u error %x\n",
                              level, access_names[acc], cpl, r.vector, r.error);
                }
            }
        }
    }
    rt_printf("not-present PDE, PTE, 4 MiB PDE: %u cases, %u wrong\n", n, bad);
    check_quiet("not present", bad, 0);
}

#else /* PAGING_RSVD */

/* Bits 13..21 of a 4 MiB PDE are reserved when the cpu has no PSE-36 (SDM vol. 3 4.3, table
 * 4-4); bit 21 even with it (for MAXPHYADDR 40). The walk stops: #PF with P = 1 and RSVD = 1
 * (SDM 4.7). QEMU 7.2 disagrees twice: it reports RSVD without P, and it takes bits 13..20 as
 * PSE-36 address bits although its CPUID says no PSE-36; this guest follows the SDM. */
static void reserved_bits(const struct features *f)
{
    struct env e = {true, false, false, false};
    unsigned bad_total = 0, n = 0;
    for (unsigned bit = f->pse36 ? 21 : 13; bit <= 21; bit++) {
        unsigned bad = 0;
        for (unsigned cpl = 0; cpl <= 3; cpl += 3) {
            for (enum access acc = 0; acc < X_COUNT; acc++) {
                enum mode md = acc >= X_IMPL_READ ? M_IMPLICIT : cpl == 3 ? M_USER : M_SUP;
                enum kind k = acc == X_WRITE ? K_WRITE : acc == X_FETCH ? K_FETCH : K_READ;
                pd[2] = TEST_PHYS | (1u << bit) | PG_PS | PG_U | PG_W | PG_P;
                struct result r = run_access(acc, cpl, e);
                n++;
                uint32_t want = pf_code(md, k, true, false) | PF_RSVD;
                /* a refused walk marks nothing accessed */
                if (r.vector != 14 || r.error != want || r.cr2 != TEST_LIN ||
                    (pd[2] & (PG_A | PG_D))) {
                    if (!bad++)
                        rt_printf("MISMATCH reserved bit %u, first %s CPL%u: vector %u error %x "
                                  "cr2 %x PDE %x (want #PF %x)\n", bit, access_names[acc], cpl,
                                  r.vector, r.error, r.cr2, pd[2], want);
                }
            }
        }
        if (bad)
            rt_printf("MISMATCH reserved bit %u: %u of 10 accesses wrong\n", bit, bad);
        bad_total += bad;
    }
    rt_printf("reserved bits of a 4 MiB PDE: %u cases, %u wrong\n", n, bad_total);
    check_quiet("reserved bits", bad_total, 0);
}

#endif

int kmain(const struct multiboot_info *mbi)
{
    (void)mbi;
    kern_init();
    cr0_base = read_cr0();
    struct features f;
    cpu_features(&f);
#ifdef PAGING_RSVD
    reserved_bits(&f);
    return rt_finish("paging_rsvd");
#else
    struct tally base = {0, 0, {0}}, smx = {0, 0, {0}};
    unsigned skipped = 0;
    for (unsigned bits = 0; bits < 1024; bits++) {
        bool smep = bits & 64, smap = bits & 128;
        for (enum access acc = 0; acc < X_COUNT; acc++) {
            if ((smep && !f.smep) || (smap && !f.smap)) {
                skipped++;
                continue;
            }
            one_case(bits, acc, smep || smap ? &smx : &base);
        }
    }
    print_tally("without SMEP/SMAP", &base);
    if (skipped)
        rt_printf("smep-smap: not offered by this cpu, %u cases skipped\n", skipped);
    else
        print_tally("smep-smap", &smx);
    rt_printf("matrix: %u cases, %u mismatches\n", base.cases + smx.cases + skipped, mismatches);
    check_quiet("matrix mismatches", mismatches, 0);
    not_present();
    return rt_finish("paging_matrix");
#endif
}
