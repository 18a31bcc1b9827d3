/* Guest rings_debug: the debug registers DR0..DR3, DR6, DR7 and #DB (SDM vol. 3 17.2-17.3),
 * set by the kernel for code running in ring 3 (and ring 0), checked by what the #DB handler
 * saw and by DR6 afterwards. The same image runs under QEMU with the same output.
 *
 *   execute breakpoint      fault: EIP at the instruction, before it runs     DR6.B0
 *   write breakpoint        trap: EIP after the writing instruction            DR6.B1
 *   a read of it            nothing
 *   read/write breakpoint   trap after a read                                  DR6.B2
 *   LEN 4, DRn unaligned    the range is DRn rounded down: DRn-1 matches, DRn+1.. not
 *   REP STOSB               trap after the iteration that wrote the byte: EIP at the REP,
 *                           ECX counting what is left, RF = 1 in the pushed EFLAGS
 *   POP SS of a watched     the #DB waits for the next instruction (the MOV SS shadow)
 *   stack slot
 *   DR7.GD in ring 0        MOV from DR0 faults with DR6.BD, and GD is cleared
 * A breakpoint disabled in DR7 (L = G = 0) never fires; the handler's frame is on the TSS
 * stack as for any event from ring 3.
 *
 * Built twice: rings_debug has the rows QEMU (TCG) gets right and runs the same under QEMU;
 * rings_debug_sdm (-DDEBUG_SDM, NO_QEMU) adds the rows where QEMU departs from the SDM: it
 * does not round an unaligned DRn down to LEN, pushes RF = 0 after a REP iteration, has no
 * MOV SS shadow for #DB and no general detect.
 */
#include "rings.h"

#define R3(ev) ev " eip=at cs=001b ss=0023 esp=top h=0008:0010 stack=tss back=3"
#define R3T(ev) ev " eip=end cs=001b ss=0023 esp=top h=0008:0010 stack=tss back=3"

static volatile uint32_t watched[4] __attribute__((aligned(16)));

PROBE(p_exec, "nop", "incl %eax");
PROBE(p_write, "", "movl %eax, (%esi)");
PROBE(p_read, "", "movl (%esi), %eax");
PROBE(p_rep, "cld", "rep stosb");
PROBE(p_popss, "", "popl %ss; incl %eax");
PROBE(p_gd, "", "movl %dr0, %eax");

static inline void wr_dr(unsigned n, uint32_t v)
{
    switch (n) {
    case 0: __asm__ volatile("mov %0, %%dr0" : : "r"(v)); break;
    case 1: __asm__ volatile("mov %0, %%dr1" : : "r"(v)); break;
    case 2: __asm__ volatile("mov %0, %%dr2" : : "r"(v)); break;
    case 3: __asm__ volatile("mov %0, %%dr3" : : "r"(v)); break;
    case 6: __asm__ volatile("mov %0, %%dr6" : : "r"(v)); break;
    case 7: __asm__ volatile("mov %0, %%dr7" : : "r"(v)); break;
    }
}

static inline uint32_t rd_dr6(void) { uint32_t v; __asm__ volatile("mov %%dr6, %0" : "=r"(v)); return v; }
static inline uint32_t rd_dr7(void) { uint32_t v; __asm__ volatile("mov %%dr7, %0" : "=r"(v)); return v; }

/* DR7 with breakpoint n enabled (L and G), R/W and LEN as given. */
static uint32_t dr7(unsigned n, unsigned rw, unsigned len)
{
    return (3u << (2 * n)) | (rw << (16 + 4 * n)) | (len << (18 + 4 * n));
}

/* DR6's B0..B3, BD and BS, the bits the rules define. */
static uint32_t dr6_bits(void) { return rd_dr6() & 0x600F; }

/* Arms breakpoint n, clears DR6. */
static void arm(unsigned n, uint32_t addr, uint32_t dr7v)
{
    wr_dr(6, 0);
    wr_dr(n, addr);
    wr_dr(7, dr7v);
}

static void disarm(void)
{
    wr_dr(7, 0);
}

int kmain(const struct multiboot_info *mbi)
{
    (void)mbi;
    rings_init();
#ifdef DEBUG_SDM
    rt_printf("rings_debug_sdm: DR0-DR7 breakpoints and #DB, the SDM's rows QEMU departs from\n");
#else
    rt_printf("rings_debug: DR0-DR7 breakpoints and #DB\n");
#endif
    struct result r;
    uint32_t w = (uint32_t)watched;

    /* An execute breakpoint at the probe's instruction: fault, before it runs. */
    arm(0, (uint32_t)p_exec_at, dr7(0, 0, 0));
    RUN3(r, p_exec, .eax = 5);
    disarm();
    expect("db.exec", &r, R3("#DB"));
    check("db.exec.dr6", dr6_bits(), 0x1);
    check("db.exec.pushed_rf", r.ev[0].eflags & 0x10000, 0);
    check("db.exec.not_run", r.exit.eax, 5);
    /* ... disabled in DR7: nothing */
    arm(0, (uint32_t)p_exec_at, dr7(0, 0, 0) & ~3u);
    RUN3(r, p_exec, .eax = 5);
    disarm();
    expect("db.exec_disabled", &r, "none back=3");
    check("db.exec_disabled.ran", r.exit.eax, 6);

    /* A write breakpoint (4 bytes): trap after the write. */
    arm(1, w, dr7(1, 1, 3));
    RUN3(r, p_write, .esi = w, .eax = 0x1234);
    disarm();
    expect("db.write", &r, R3T("#DB"));
    check("db.write.dr6", dr6_bits(), 0x2);
    check("db.write.done", watched[0], 0x1234);
    /* ... a read of it: nothing */
    arm(1, w, dr7(1, 1, 3));
    RUN3(r, p_read, .esi = w);
    disarm();
    expect("db.write_bp_read", &r, "none back=3");

    /* A read/write breakpoint fires on a read. */
    arm(2, w + 4, dr7(2, 3, 3));
    RUN3(r, p_read, .esi = w + 4);
    disarm();
    expect("db.read", &r, R3T("#DB"));
    check("db.read.dr6", dr6_bits(), 0x4);
    /* LEN 4 at an unaligned DR3 = w+6: the range is w+4..w+7 */
    arm(3, w + 6, dr7(3, 3, 3));
    RUN3(r, p_read, .esi = w + 4);
    disarm();
    expect("db.unaligned_low", &r, R3T("#DB"));
    check("db.unaligned_low.dr6", dr6_bits(), 0x8);
#ifdef DEBUG_SDM
    arm(3, w + 6, dr7(3, 3, 3));
    RUN3(r, p_read, .esi = w + 8);
    disarm();
    expect("db.unaligned_beyond", &r, "none back=3");
#endif

    /* REP STOSB through a watched byte: after that iteration, at the REP, RF = 1. */
    arm(0, w + 2, dr7(0, 1, 0));
    RUN3(r, p_rep, .edi = w, .ecx = 8, .eax = 0xEE);
    disarm();
    expect("db.rep", &r, R3("#DB"));
    check("db.rep.dr6", dr6_bits(), 0x1);
    check("db.rep.left", r.exit.ecx, 5);
#ifdef DEBUG_SDM
    check("db.rep.pushed_rf", r.ev[0].eflags & 0x10000, 0x10000);

    /* POP SS reading a watched stack slot: the #DB comes after the next instruction. */
    *(volatile uint32_t *)(USER_TOP - 4) = UDATA | 3;
    arm(1, USER_TOP - 4, dr7(1, 3, 3));
    RUN3(r, p_popss, .eax = 0, .esp = USER_TOP - 4);
    disarm();
    check("db.pop_ss_shadow.event", r.n == 1 && r.ev[0].vec == 1, 1);
    check("db.pop_ss_shadow.eip_end", r.ev[0].eip == (uint32_t)p_popss_end, 1);
    check("db.pop_ss_shadow.dr6", dr6_bits() & 0x2, 0x2);
    check("db.pop_ss_shadow.inc_ran", r.exit.eax, 1);

    /* General detect in ring 0: MOV from DR0 faults; GD is cleared for the handler. */
    wr_dr(6, 0);
    wr_dr(7, 0x2000);
    RUN0(r, p_gd, .eax = 7);
    uint32_t dr7_after = rd_dr7();
    check("db.gd.event", r.n >= 1 && r.ev[0].vec == 1 && r.ev[0].eip == (uint32_t)p_gd_at, 1);
    check("db.gd.dr6_bd", dr6_bits() & 0x2000, 0x2000);
    check("db.gd.cleared", dr7_after & 0x2000, 0);
    check("db.gd.not_run", r.exit.eax, 7);
    disarm();
#endif

#ifdef DEBUG_SDM
    return rt_finish("rings_debug_sdm");
#else
    return rt_finish("rings_debug");
#endif
}
