/* Guest: self-modifying code through two linear aliases of one physical page, and decoded code
 * across CR3 loads and privilege changes.
 *
 *   A = TEST + 0x10000  supervisor, writable  \  both map frame F(20)
 *   B = TEST + 0x11000  user, writable        /
 *
 * Code written through A runs through B (at ring 0 and 3) and the other way round, including a
 * store through one alias into the very block running through the other (followed by a jump, as
 * SDM vol. 3 8.1.3 asks of self-modifying code). Two page directories map the same linear C to
 * different code: each CR3 load must run the code of its own address space, while the decoded
 * code of both stays valid. The same decoded code runs at ring 0 and 3; a supervisor code page
 * faults at ring 3 however often ring 0 ran it, and (with SMEP, silently when there is none) a
 * user code page faults at ring 0 after ring 3 ran it.
 */
#include "kern.h"

#define F(k) (TEST_PHYS + (k) * 0x1000u)
#define PAGE(i) (TEST + (i) * 0x1000u)
#define A PAGE(16)
#define B PAGE(17)
#define C PAGE(24)
#define D PAGE(25)
#define S PAGE(26)

static uint32_t pd2[1024] __attribute__((aligned(4096)));
static uint32_t test_pt2[1024] __attribute__((aligned(4096)));

static volatile uint8_t *alias_of(unsigned k) { return (volatile uint8_t *)(ALIAS + k * 0x1000u); }

/* mov $v, %eax; int $0x30 at p (7 bytes) */
static void put_ret(volatile uint8_t *p, uint32_t v)
{
    p[0] = 0xB8;
    for (unsigned k = 0; k < 4; k++)
        p[1 + k] = (uint8_t)(v >> (8 * k));
    p[5] = 0xCD;
    p[6] = VEC_DONE;
}

static uint32_t ex(unsigned cpl, uint32_t lin)
{
    uint32_t v = 0;
    uint32_t vec = do_exec(cpl, lin, &v);
    return vec == VEC_DONE ? v : 0xEEE00000u | vec;
}

static void two_aliases(void)
{
    test_pt[16] = F(20) | PG_P | PG_W;
    test_pt[17] = F(20) | PG_P | PG_W | PG_U;
    flush_tlb();
    put_ret((volatile uint8_t *)A, 1);
    check("written through A, run through B", ex(0, B), 1);
    put_ret((volatile uint8_t *)A, 2);
    check("rewritten through A, run through B", ex(0, B), 2);
    check("  at ring 3", ex(3, B), 2);
    put_ret((volatile uint8_t *)A, 3);
    check("rewritten through A, run through B at ring 3", ex(3, B), 3);
    put_ret((volatile uint8_t *)B, 4);
    check("written through B, run through A", ex(0, A), 4);
    check("ring 3 writes the immediate through B", do_write(3, B + 1, 5), VEC_DONE);
    check("  run through A", ex(0, A), 5);
    check("  run through B at ring 3", ex(3, B), 5);

    /* A store through one alias into the block running through the other:
     *   +0  mov %eax, (%edx)      edx = the other alias + 6: the immediate at +6
     *   +2  jmp +4
     *   +4  nop
     *   +5  mov $imm, %eax; int $0x30 */
    volatile uint8_t *b = (volatile uint8_t *)A;
    b[0] = 0x89;
    b[1] = 0x02;
    b[2] = 0xEB;
    b[3] = 0x00;
    b[4] = 0x90;
    put_ret(b + 5, 0x11111111);
    static const struct {
        const char *what;
        unsigned cpl;
        uint32_t run, store;
    } v[] = {
        {"block running through B patches itself through A", 0, B, A},
        {"block running through A patches itself through B", 0, A, B},
        {"ring 3 block running through B patches itself through B", 3, B, B},
        {"block running through B patches itself through A, again", 0, B, A},
    };
    for (unsigned k = 0; k < sizeof v / sizeof v[0]; k++) {
        uint32_t val = 0x22222222u * (k + 1);
        struct regs r = {val, 0, 0, v[k].store + 6, 0, 0};
        uint32_t vec = run_with(v[k].cpl, v[k].run, 0x2, &r);
        check(v[k].what, vec == VEC_DONE ? last_frame.eax : 0xEEE00000u | vec, val);
    }
}

static void address_spaces(void)
{
    /* pd2: the kernel's directory but for PDE[2], which maps C to other code and D to C's. */
    for (unsigned i = 0; i < 1024; i++) {
        pd2[i] = pd[i];
        test_pt2[i] = 0;
    }
    pd2[2] = addr(test_pt2) | PG_P | PG_W | PG_U;
    put_ret(alias_of(21), 0x21);
    put_ret(alias_of(22), 0x22);
    test_pt[24] = F(21) | PG_P | PG_U;
    test_pt2[24] = F(22) | PG_P | PG_U;
    test_pt2[25] = F(21) | PG_P | PG_U;
    uint32_t cr3 = read_cr3();
    flush_tlb();
    uint32_t got = 0, want = 0;
    for (unsigned round = 0; round < 3; round++) {
        for (unsigned cpl = 0; cpl <= 3; cpl += 3) {
            write_cr3(cr3);
            got = got * 3 + ex(cpl, C);
            write_cr3(addr(pd2));
            got = got * 3 + ex(cpl, C);
            got = got * 3 + ex(cpl, D);
            want = ((want * 3 + 0x21) * 3 + 0x22) * 3 + 0x21;
        }
    }
    write_cr3(cr3);
    check("C in two address spaces, D = C's frame in the second, 3 rounds, ring 0 and 3", got,
          want);
    put_ret(alias_of(21), 0x121);
    write_cr3(addr(pd2));
    check("C's code rewritten: D in the second address space", ex(3, D), 0x121);
    write_cr3(cr3);
    check("  C in the first", ex(0, C), 0x121);
}

static void privilege(const struct features *f)
{
    put_ret(alias_of(23), 0x23);
    test_pt[26] = F(23) | PG_P;
    flush_tlb();
    check("supervisor code page at ring 0", ex(0, S), 0x23);
    check("  at ring 3: #PF", ex(3, S), 0xEEE0000Eu);
    check("  error code (P, U/S)", last_frame.error, 0x5);
    check("  CR2", last_cr2, S);
    check("  at ring 0 again", ex(0, S), 0x23);
    check("  at ring 3 again: #PF", ex(3, S), 0xEEE0000Eu);
    put_ret((volatile uint8_t *)A, 0x88888888u);
    uint32_t mixed = 0;
    for (unsigned k = 0; k < 4; k++)
        mixed += ex(k & 1 ? 3 : 0, B) == 0x88888888u;
    check("user code page alternately at ring 0 and 3", mixed, 4);
    if (f->smep) { /* silent: the output must not depend on the cpu */
        uint32_t cr4 = read_cr4();
        write_cr4(cr4 | CR4_SMEP);
        check_quiet("SMEP: user code page at ring 3", ex(3, B), 0x88888888u);
        check_quiet("SMEP: user code page at ring 0 faults", ex(0, B), 0xEEE0000Eu);
        check_quiet("SMEP:   error code (P, I/D)", last_frame.error, 0x11);
        check_quiet("SMEP: at ring 3 again", ex(3, B), 0x88888888u);
        write_cr4(cr4);
        check_quiet("SMEP off: user code page at ring 0", ex(0, B), 0x88888888u);
    }
}

int kmain(const struct multiboot_info *mbi)
{
    (void)mbi;
    kern_init();
    struct features f;
    cpu_features(&f);
    pd[2] = addr(test_pt) | PG_P | PG_W | PG_U;
    two_aliases();
    address_spaces();
    privilege(&f);
    return rt_finish("paging_smc");
}
