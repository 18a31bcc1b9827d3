/* Guest: page faults in awkward places.
 *
 *  1. On the stack push of exception delivery. A ring 3 #PF is delivered through a gate to a
 *     ring 1 handler whose stack (TSS.ESP1) lies on a not-present page: the push faults, and a
 *     #PF while delivering a #PF is a double fault (SDM vol. 3 6.15, table 6-5), delivered to
 *     ring 0 on a good stack. The same push fault while delivering a software interrupt (a
 *     benign event) is an ordinary #PF on the INT instruction (error code: supervisor write,
 *     not present). Once the ring 1 stack is mapped both reach the ring 1 handler.
 *  2. On an instruction that straddles a page boundary with the second page not present:
 *     CR2 = the first byte of the second page, EIP = the instruction's first byte; once the
 *     handler maps the page and returns, the instruction completes. The same for a read and
 *     a write that straddle (a faulting write stores nothing). With PAGING_STRADDLE_REMAP
 *     (image and test paging_faults_remap): unmapping the second page again (INVLPG) must make
 *     the fetch fault again, and remapping it must run the new bytes.
 *  3. On REP MOVS/STOS crossing into a not-present page: ECX, ESI and EDI are left at the
 *     element that faulted (a whole element, also one that straddles the boundary), and after
 *     the handler maps the page and returns the instruction completes.
 * The handler maps pages by setting P (0 -> 1 needs no TLB flush, SDM 4.10.4.3).
 */
#include "kern.h"

extern const uint8_t fault_code[], fault_code_end[], rep_movsl[], rep_movsb[], rep_stosl[],
    soft_int[], ring1_landing[];

#define F(k) (TEST_PHYS + (k) * 0x1000u)
#define PAGE(i) (TEST + (i) * 0x1000u)
#define FAULT_CODE_USER 0x800 /* offset of the ring 3 copy in user_code */

static volatile uint8_t *alias_of(unsigned k) { return (volatile uint8_t *)(ALIAS + k * 0x1000u); }

static uint32_t code_at(const uint8_t *p, unsigned cpl)
{
    return cpl == 3 ? addr(user_code) + FAULT_CODE_USER + (addr(p) - addr(fault_code)) : addr(p);
}

/* The page-fault fixer: on the first #PF, remember the frame and CR2, install `pte` at
 * test_pt[index] and return to the faulting instruction. */
static struct {
    unsigned hits, index;
    uint32_t pte, cr2;
    struct frame f;
    uint8_t at_fault[2]; /* two bytes the fault must not have written */
    volatile uint8_t *watch;
} fix;

static bool map_on_fault(struct frame *f)
{
    if (f->vector != 14 || fix.hits++)
        return false;
    fix.f = *f;
    fix.cr2 = last_cr2;
    if (fix.watch) {
        fix.at_fault[0] = fix.watch[0];
        fix.at_fault[1] = fix.watch[1];
    }
    test_pt[fix.index] = fix.pte;
    return true;
}

static void arm(unsigned index, uint32_t pte)
{
    fix.hits = 0;
    fix.index = index;
    fix.pte = pte;
    fix.cr2 = 0;
    fix.watch = 0;
    trap_hook = map_on_fault;
}

static void reset(void)
{
    trap_hook = 0;
    for (unsigned i = 0; i < 1024; i++)
        test_pt[i] = 0;
    pd[2] = addr(test_pt) | PG_P | PG_W | PG_U;
    flush_tlb();
}

/* ---- 1. the delivery stack push ------------------------------------------------------------- */

static void delivery_push(void)
{
    reset();
    /* Ring 1 stack: the top of page 0, which is not present. */
    tss[3] = PAGE(1); /* ESP1 */
    tss[4] = SEL_R1DATA; /* SS1 */
    set_gate(14, addr(ring1_landing), SEL_R1CODE, 0);
    set_gate(VEC_TEST, addr(ring1_landing), SEL_R1CODE, 3);

    uint32_t v;
    uint32_t vec = do_read(3, PAGE(5), &v); /* page 5 is not present either */
    check("#PF whose ring 1 stack push faults: vector", vec, 8);
    check("  #DF error code", last_frame.error, 0);
    check("  CR2 on the ring 1 stack page", last_cr2 & ~0xFFFu, PAGE(0));

    set_gate(14, trap_stub(14), SEL_KCODE, 0); /* now #PF goes to ring 0 */
    vec = run_at(3, code_at(soft_int, 3), 0x2, 0, 0);
    check("int $0x31 whose ring 1 stack push faults: vector", vec, 14);
    check("  error code (supervisor write, not present)", last_frame.error, 0x2);
    check("  CR2 on the ring 1 stack page", last_cr2 & ~0xFFFu, PAGE(0));
    check("  EIP at the int instruction", last_frame.eip, code_at(soft_int, 3));
    check("  CS", last_frame.cs & 0xFFFF, SEL_UCODE);

    test_pt[0] = F(0) | PG_P | PG_W; /* a supervisor page is fine for ring 1 */
    set_gate(14, addr(ring1_landing), SEL_R1CODE, 0);
    vec = run_at(3, code_at(soft_int, 3), 0x2, 0, 0);
    check("with the ring 1 stack mapped: int $0x31 reaches ring 1", vec, VEC_DONE);
    check("  from CS", last_frame.cs & 0xFFFF, SEL_R1CODE);
    vec = do_read(3, PAGE(5), &v);
    check("  and the #PF reaches ring 1", vec, VEC_DONE);
    check("  from CS", last_frame.cs & 0xFFFF, SEL_R1CODE);
    /* ring 1 frame below ESP1 = PAGE(1): SS, ESP, EFLAGS, CS, EIP, error code */
    check("  its error code on the ring 1 stack", *(volatile uint32_t *)(ALIAS + 0x1000 - 24),
          0x4);
    check("  CR2", last_cr2, PAGE(5));

    set_gate(14, trap_stub(14), SEL_KCODE, 0);
    set_gate(VEC_TEST, trap_stub(VEC_TEST), SEL_KCODE, 3);
    tss[3] = tss[4] = 0;
}

/* ---- 2. straddling the page boundary -------------------------------------------------------- */

static void straddle(unsigned cpl)
{
    const char *ring = cpl == 3 ? "ring 3" : "ring 0";
    uint32_t u = cpl == 3 ? PG_U : 0;
    reset();
    /* mov $0x12345678, %eax at PAGE(4) - 2; int $0x30 */
    test_pt[3] = F(3) | PG_P | PG_W | u;
    volatile uint8_t *p3 = alias_of(3), *p4 = alias_of(4), *p5 = alias_of(5);
    p3[0xFFE] = 0xB8;
    p3[0xFFF] = 0x78;
    p4[0] = 0x56;
    p4[1] = 0x34;
    p4[2] = 0x12;
    p4[3] = 0xCD;
    p4[4] = VEC_DONE;
    p5[0] = 0x11; /* the same tail, another immediate */
    p5[1] = 0x22;
    p5[2] = 0x33;
    p5[3] = 0xCD;
    p5[4] = VEC_DONE;
    uint32_t insn = PAGE(4) - 2;
    rt_printf("%s:\n", ring);

    arm(4, F(4) | PG_P | PG_W | u);
    uint32_t v;
    uint32_t vec = do_exec(cpl, insn, &v);
    check("  straddling instruction, second page not present: completes after the fix",
          vec == VEC_DONE ? v : vec, 0x12345678);
    check("  faults", fix.hits, 1);
    check("  CR2 = first byte of the second page", fix.cr2, PAGE(4));
    check("  EIP = the instruction", fix.f.eip, insn);
    check("  error code", fix.f.error, cpl == 3 ? 0x4 : 0x0);

#ifdef PAGING_STRADDLE_REMAP
    /* A decoded straddling instruction must not be reused once its second page translates
     * differently (src/cpu/icache.c re-checks that page on every use). Built and tested as
     * paging_faults_remap. */
    trap_hook = 0;
    test_pt[4] = 0;
    invlpg(PAGE(4));
    vec = do_exec(cpl, insn, &v);
    check("  second page unmapped again, INVLPG: the fetch faults again", vec, 14);
    check("  CR2", last_cr2, PAGE(4));
    check("  EIP", last_frame.eip, insn);
    test_pt[4] = F(5) | PG_P | PG_W | u;
    vec = do_exec(cpl, insn, &v);
    check("  second page mapped to other bytes: they run", vec == VEC_DONE ? v : vec,
          0x33221178);
#endif

    /* Data that straddles. */
    test_pt[4] = 0;
    invlpg(PAGE(4));
    arm(4, F(4) | PG_P | PG_W | u);
    vec = do_read(cpl, PAGE(4) - 2, &v);
    check("  straddling read: completes after the fix", vec == VEC_DONE ? v : vec, 0x345678B8);
    check("  CR2", fix.cr2, PAGE(4));
    check("  EIP = the read", fix.f.eip, access_stub(ACC_READ, cpl));
    test_pt[4] = 0;
    invlpg(PAGE(4));
    arm(4, F(4) | PG_P | PG_W | u);
    fix.watch = p3 + 0xFFE;
    vec = do_write(cpl, PAGE(4) - 2, 0xAABBCCDD);
    check("  straddling write: first page untouched at the fault",
          fix.at_fault[0] | fix.at_fault[1] << 8, 0x78B8);
    check("  completes after the fix", p3[0xFFE] | p3[0xFFF] << 8 | p4[0] << 16 | p4[1] << 24,
          0xAABBCCDD);
    check("  error code", fix.f.error, cpl == 3 ? 0x6 : 0x2);
    trap_hook = 0;
}

/* ---- 3. REP string instructions ------------------------------------------------------------- */

static uint32_t src_buf[8] = {1, 2, 3, 4, 5, 6, 7, 8};

static void rep_strings(void)
{
    reset();
    rt_printf("rep movsl, ring 0, destination crosses into a not-present page:\n");
    test_pt[6] = F(6) | PG_P | PG_W;
    volatile uint32_t *d6 = (volatile uint32_t *)alias_of(6), *d7 = (volatile uint32_t *)alias_of(7);
    for (unsigned k = 0; k < 1024; k++)
        d6[k] = d7[k] = 0;
    arm(7, F(7) | PG_P | PG_W);
    struct regs r = {0, 0, 6, 0, addr(src_buf), PAGE(7) - 8};
    uint32_t vec = run_with(0, code_at(rep_movsl, 0), 0x2, &r);
    check("  completes", vec, VEC_DONE);
    check("  faults", fix.hits, 1);
    check("  CR2", fix.cr2, PAGE(7));
    check("  error code", fix.f.error, 0x2);
    check("  EIP = the instruction", fix.f.eip, code_at(rep_movsl, 0));
    check("  ECX at the fault", fix.f.ecx, 4);
    check("  ESI at the fault", fix.f.esi - addr(src_buf), 8);
    check("  EDI at the fault", fix.f.edi, PAGE(7));
    check("  ECX at the end", last_frame.ecx, 0);
    check("  ESI at the end", last_frame.esi - addr(src_buf), 24);
    check("  EDI at the end", last_frame.edi, PAGE(7) + 16);
    uint32_t sum = d6[1022] + 10 * d6[1023] + 100 * d7[0] + 1000 * d7[1] + 10000 * d7[2] +
                   100000 * d7[3] + 1000000 * d7[4];
    check("  destination (digits: elements 0..5, then the word after)", sum, 654321);

    rt_printf("rep stosl, ring 3, an element straddles into a not-present page:\n");
    reset();
    test_pt[8] = F(8) | PG_P | PG_W | PG_U;
    volatile uint8_t *b8 = alias_of(8), *b9 = alias_of(9);
    for (unsigned k = 0; k < 4096; k++)
        b8[k] = b9[k] = 0;
    arm(9, F(9) | PG_P | PG_W | PG_U);
    fix.watch = b8 + 0xFFE;
    r = (struct regs){0xA5A5A5A5, 0, 4, 0, 0, PAGE(9) - 6};
    vec = run_with(3, code_at(rep_stosl, 3), 0x2, &r);
    check("  completes", vec, VEC_DONE);
    check("  faults", fix.hits, 1);
    check("  CR2", fix.cr2, PAGE(9));
    check("  error code", fix.f.error, 0x6);
    check("  ECX at the fault", fix.f.ecx, 3);
    check("  EDI at the fault", fix.f.edi, PAGE(9) - 2);
    check("  straddling element not stored at the fault", fix.at_fault[0] | fix.at_fault[1], 0);
    check("  ECX at the end", last_frame.ecx, 0);
    check("  EDI at the end", last_frame.edi, PAGE(9) + 10);
    uint32_t bytes = 0;
    for (unsigned k = 0xFFA; k < 0x1000; k++)
        bytes += b8[k] == 0xA5;
    for (unsigned k = 0; k < 0x0B; k++)
        bytes += b9[k] == 0xA5;
    check("  bytes stored (16) and the one after untouched", bytes, 16);

    rt_printf("rep movsb, ring 3, source crosses into a not-present page:\n");
    reset();
    test_pt[10] = F(10) | PG_P | PG_U;
    test_pt[12] = F(12) | PG_P | PG_W | PG_U;
    volatile uint8_t *b10 = alias_of(10), *b11 = alias_of(11), *b12 = alias_of(12);
    for (unsigned k = 0; k < 8; k++) {
        b10[0xFFD + (k % 3)] = (uint8_t)(0x10 + k % 3);
        b11[k] = (uint8_t)(0x20 + k);
        b12[k] = 0;
    }
    arm(11, F(11) | PG_P | PG_U);
    r = (struct regs){0, 0, 8, 0, PAGE(11) - 3, PAGE(12)};
    vec = run_with(3, code_at(rep_movsb, 3), 0x2, &r);
    check("  completes", vec, VEC_DONE);
    check("  CR2", fix.cr2, PAGE(11));
    check("  error code", fix.f.error, 0x4);
    check("  ECX at the fault", fix.f.ecx, 5);
    check("  ESI at the fault", fix.f.esi, PAGE(11));
    check("  EDI at the fault", fix.f.edi, PAGE(12) + 3);
    check("  ECX, ESI, EDI at the end", last_frame.ecx | (last_frame.esi - PAGE(11)) << 8 |
                                            (last_frame.edi - PAGE(12)) << 16, 0x00080500);
    check("  destination bytes 0..3", b12[0] | b12[1] << 8 | b12[2] << 16 | b12[3] << 24,
          0x20121110);
    check("  destination bytes 4..7", b12[4] | b12[5] << 8 | b12[6] << 16 | b12[7] << 24,
          0x24232221);
    trap_hook = 0;
}

int kmain(const struct multiboot_info *mbi)
{
    (void)mbi;
    kern_init();
    for (uint32_t k = 0; k < (uint32_t)(fault_code_end - fault_code); k++)
        user_code[FAULT_CODE_USER + k] = fault_code[k];
    delivery_push();
    straddle(0);
    straddle(3);
    rep_strings();
    return rt_finish("paging_faults");
}
