/* Guest: the side-by-side benchmark (guests/bench/compare-qemu.sh runs it on Ringside and on
 * qemu-system-i386). Built on the paging guests' kernel (paging/kern.c): GDT, IDT, TSS, paging
 * on with CR0.WP. The Multiboot command line names one workload and its count N:
 *
 *   compute N   N rounds of bench.c's integer work (xorshift, CRC-32, matrix, Collatz, sort)
 *               in ring 3 with paging on
 *   syscall N   N null system calls: int $0x31 from ring 3, the kernel's full trap path (PUSHA,
 *               four data segment loads, a C handler, IRET back to ring 3)
 *   pf N        N page faults from ring 3 on a page of the TEST window that is not present; the
 *               handler maps it, unmaps the one it mapped last (INVLPG) and IRETs to the access
 *   cr3 N       N rounds in ring 0 of: reload CR3, read 16 pages (16 page walks), INVLPG one
 *
 * With no command line (the ctest test guest.ringbench and qemu-check.sh), it runs each
 * workload with a small N and checks its result. Each run prints one "ringbench:" line with the
 * workload's result; the script subtracts a run with N = 0 to remove the start-up. */
#include "crc32.h"
#include "../paging/kern.h"

/* --- the compute workload (the same work as bench.c) ------------------------------------- */
#include "compute.h"

/* --- ring 3 entry points: each reads arg_n, leaves its result in result, ends with int $0x30 */
static volatile uint32_t arg_n, result;

static void __attribute__((noreturn, used)) user_compute(void)
{
    uint32_t sum = 0;
    for (uint32_t r = 0; r < arg_n; r++)
        sum = ((sum << 3) | (sum >> 29)) ^ round_work(r);
    result = sum;
    __asm__ volatile("int $0x30");
    for (;;)
        ;
}

static void __attribute__((noreturn, used)) user_syscall(void)
{
    uint32_t sum = 0, n = arg_n;
    for (uint32_t k = 0; k < n; k++) {
        uint32_t v = k;
        __asm__ volatile("int $0x31" : "+a"(v) : : "memory");
        sum += v; /* the handler returned k + 1 */
    }
    result = sum;
    __asm__ volatile("int $0x30");
    for (;;)
        ;
}

static void __attribute__((noreturn, used)) user_pf(void)
{
    uint32_t sum = 0, n = arg_n;
    for (uint32_t k = 0; k < n; k++)
        sum += *(volatile uint32_t *)(TEST + (k & 1023u) * 4096u);
    result = sum;
    __asm__ volatile("int $0x30");
    for (;;)
        ;
}

/* --- the kernel's side ------------------------------------------------------------------ */
static uint32_t pf_last = 0xFFFFFFFFu; /* the TEST page the fault handler mapped last */

static bool bench_hook(struct frame *f)
{
    if (f->vector == VEC_TEST) {
        f->eax += 1;
        return true;
    }
    if (f->vector == 14 && last_cr2 >= TEST && last_cr2 < TEST + 0x400000u) {
        uint32_t page = (last_cr2 - TEST) >> 12;
        test_pt[page] = (TEST_PHYS + (page << 12)) | PG_P | PG_W | PG_U;
        if (pf_last != 0xFFFFFFFFu && pf_last != page) {
            test_pt[pf_last] = 0;
            invlpg(TEST + (pf_last << 12));
        }
        pf_last = page;
        return true;
    }
    return false;
}

static uint32_t run_user(void (*fn)(void), uint32_t n)
{
    arg_n = n;
    result = 0;
    uint32_t v = run_at(3, addr((const void *)fn), 0x2, 0, 0);
    if (v != VEC_DONE) {
        rt_printf("ringbench: ring 3 code ended by vector %u at %x\n", v, last_frame.eip);
        rt_exit(0x7d);
    }
    return result;
}

static uint32_t cr3_work(uint32_t n)
{
    uint32_t sum = 0;
    for (uint32_t k = 0; k < n; k++) {
        write_cr3(addr(pd));
        for (uint32_t p = 0; p < 16; p++)
            sum += *(volatile uint32_t *)(ALIAS + p * 4096u);
        invlpg(ALIAS + (k & 15u) * 4096u);
    }
    return sum;
}

/* The word after the image path (QEMU and Ringside both pass "IMAGE ARGS"), as a name and N. */
static const char *skip_word(const char *s)
{
    while (*s && *s != ' ')
        s++;
    while (*s == ' ')
        s++;
    return s;
}

static bool word_is(const char *s, const char *w)
{
    while (*w && *s == *w)
        s++, w++;
    return *w == 0 && (*s == ' ' || *s == 0);
}

static uint32_t parse_n(const char *s)
{
    uint32_t v = 0;
    while (*s >= '0' && *s <= '9')
        v = v * 10 + (uint32_t)(*s++ - '0');
    return v;
}

static uint32_t expect_pf(uint32_t n)
{
    uint32_t sum = 0;
    for (uint32_t k = 0; k < n; k++)
        sum += k & 1023u;
    return sum;
}

int kmain(const struct multiboot_info *mbi)
{
    kern_init();
    for (uint32_t k = 0; k < 1024; k++)
        pt_low[k] |= k ? PG_U : 0; /* ring 3 runs the kernel image's code and data */
    pd[2] = addr(test_pt) | PG_P | PG_W | PG_U;
    for (uint32_t p = 0; p < 1024; p++) /* each TEST page holds its own number */
        *(volatile uint32_t *)(ALIAS + p * 4096u) = p;
    flush_tlb();
    trap_hook = bench_hook;

    const char *cmd = (mbi->flags & MBI_CMDLINE) ? (const char *)(uintptr_t)mbi->cmdline : "";
    const char *w = skip_word(cmd);
    if (*w) {
        uint32_t n = parse_n(skip_word(w)), r;
        if (word_is(w, "compute"))
            r = run_user(user_compute, n);
        else if (word_is(w, "syscall"))
            r = run_user(user_syscall, n);
        else if (word_is(w, "pf"))
            r = run_user(user_pf, n);
        else if (word_is(w, "cr3"))
            r = cr3_work(n);
        else {
            rt_printf("ringbench: unknown workload '%s' (compute, syscall, pf or cr3 N)\n", w);
            rt_exit(0x7e);
        }
        rt_printf("ringbench: %s result %08x\n", w, r);
        rt_exit(0);
    }
    /* No command line: every workload once with a small N, results checked. */
    check("compute 8 rounds (bench-short's checksum)", run_user(user_compute, 8), 0x04CA66EEu);
    check("syscall 1000: sum of the returned values", run_user(user_syscall, 1000), 1000u * 1001u / 2);
    check("pf 2000: sum of the pages read", run_user(user_pf, 2000), expect_pf(2000));
    check("cr3 100: sum of the pages read", cr3_work(100), 100u * 120u);
    return rt_finish("ringbench");
}
