/* The paging guests' kernel: descriptor tables, page tables, traps (see kern.h). */
#include "kern.h"

uint32_t pd[1024] __attribute__((aligned(4096)));
uint32_t pt_low[1024] __attribute__((aligned(4096)));
uint32_t test_pt[1024] __attribute__((aligned(4096)));
static uint32_t alias_pt[1024] __attribute__((aligned(4096)));
uint8_t user_code[4096] __attribute__((aligned(4096)));
uint8_t user_stack[4096] __attribute__((aligned(4096)));
static uint8_t trap_stack[4096] __attribute__((aligned(4096)));

uint64_t gdt[16];
uint64_t idt[256];
uint32_t tss[26];

volatile struct frame last_frame;
volatile uint32_t last_cr2;
bool (*trap_hook)(struct frame *f);

/* access.S */
extern const uint8_t access_read[], access_write[], access_fetch[], access_sreg[], access_end[];

/* kern_asm.S */
extern uint32_t kctx_esp;
extern const uint32_t trap_stubs[34]; /* 0..31, then 0x30, 0x31 */
_Noreturn void resume_kernel(uint32_t value);
void load_tables(void);

static uint64_t seg_desc(uint32_t base, uint32_t limit, unsigned access, unsigned flags)
{
    return (uint64_t)(limit & 0xFFFF) | ((uint64_t)(base & 0xFFFFFF) << 16) |
           ((uint64_t)access << 40) | ((uint64_t)((limit >> 16) & 0xF) << 48) |
           ((uint64_t)flags << 52) | ((uint64_t)(base >> 24) << 56);
}

void set_gate(unsigned vec, uint32_t handler, uint16_t sel, unsigned dpl)
{
    idt[vec] = (uint64_t)(handler & 0xFFFF) | ((uint64_t)sel << 16) |
               ((uint64_t)(0x8E | (dpl << 5)) << 40) | ((uint64_t)(handler >> 16) << 48);
}

uint32_t trap_stub(unsigned vec)
{
    return vec < 32 ? trap_stubs[vec] : trap_stubs[32 + (vec - 0x30)];
}

void kern_init(void)
{
    gdt[0] = 0;
    gdt[1] = seg_desc(0, 0xFFFFF, 0x9A, 0xC); /* 0x08 ring 0 code */
    gdt[2] = seg_desc(0, 0xFFFFF, 0x92, 0xC); /* 0x10 ring 0 data */
    gdt[3] = seg_desc(0, 0xFFFFF, 0xFA, 0xC); /* 0x18 ring 3 code */
    gdt[4] = seg_desc(0, 0xFFFFF, 0xF2, 0xC); /* 0x20 ring 3 data */
    gdt[5] = seg_desc(addr(tss), sizeof tss - 1, 0x89, 0); /* 0x28 TSS */
    gdt[6] = seg_desc(TEST + 0x100, 7, 0x82, 0);           /* 0x30 LDT */
    gdt[7] = seg_desc(0, 0xFFFFF, 0xBA, 0xC); /* 0x38 ring 1 code */
    gdt[8] = seg_desc(0, 0xFFFFF, 0xB2, 0xC); /* 0x40 ring 1 data */
    for (unsigned v = 0; v < 32; v++)
        set_gate(v, trap_stubs[v], SEL_KCODE, 0);
    set_gate(VEC_DONE, trap_stubs[32], SEL_KCODE, 3);
    set_gate(VEC_TEST, trap_stubs[33], SEL_KCODE, 3);
    for (unsigned k = 0; k < 26; k++)
        tss[k] = 0;
    tss[1] = addr(trap_stack) + sizeof trap_stack; /* ESP0 */
    tss[2] = SEL_KDATA;                            /* SS0 */
    tss[25] = sizeof tss << 16;                    /* no I/O bitmap */

    for (uint32_t k = 0; k < 1024; k++) {
        pt_low[k] = (k << 12) | PG_P | PG_W;
        alias_pt[k] = (TEST_PHYS + (k << 12)) | PG_P | PG_W;
        test_pt[k] = 0;
        pd[k] = 0;
    }
    pt_low[0] = 0;
    *low_pte(addr(user_code)) |= PG_U;
    *low_pte(addr(user_stack)) |= PG_U;
    pd[0] = addr(pt_low) | PG_P | PG_W | PG_U;
    pd[3] = addr(alias_pt) | PG_P | PG_W;

    for (uint32_t k = 0; k < (uint32_t)(access_end - access_read); k++)
        user_code[k] = access_read[k];

    load_tables(); /* lgdt, segment reloads, lidt, ltr, lldt */
    write_cr3(addr(pd));
    write_cr4(CR4_PSE);
    write_cr0(read_cr0() | 0x80000000u | CR0_WP);
}

uint32_t access_stub(enum access_stub which, unsigned cpl)
{
    const uint8_t *s = which == ACC_READ ? access_read : which == ACC_WRITE ? access_write
                     : which == ACC_FETCH ? access_fetch : access_sreg;
    return cpl == 3 ? addr(user_code) + (addr(s) - addr(access_read)) : addr(s);
}

uint32_t do_read(unsigned cpl, uint32_t lin, uint32_t *val)
{
    uint32_t v = run_at(cpl, access_stub(ACC_READ, cpl), 0x2, 0, lin);
    *val = last_frame.eax;
    return v;
}

uint32_t do_write(unsigned cpl, uint32_t lin, uint32_t val)
{
    return run_at(cpl, access_stub(ACC_WRITE, cpl), 0x2, val, lin);
}

uint32_t do_exec(unsigned cpl, uint32_t lin, uint32_t *val)
{
    uint32_t v = run_at(cpl, access_stub(ACC_FETCH, cpl), 0x2, 0, lin);
    *val = last_frame.eax;
    return v;
}

static void cpuid(uint32_t leaf, uint32_t r[4])
{
    __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(0));
}

void cpu_features(struct features *f)
{
    uint32_t r0[4], r1[4], r7[4] = {0, 0, 0, 0}, rh[4] = {0, 0, 0, 0};
    cpuid(0, r0);
    cpuid(1, r1);
    if (r0[0] >= 7)
        cpuid(7, r7);
    if (r1[2] >> 31) /* a hypervisor: its leaf names it */
        cpuid(0x40000000, rh);
    /* "RingsideIA32" is EBX, ECX, EDX = "Ring", "side", "IA32" */
    f->ringside = rh[1] == 0x676E6952 && rh[2] == 0x65646973 && rh[3] == 0x32334149;
    f->pse = (r1[3] >> 3) & 1;
    f->pge = (r1[3] >> 13) & 1;
    f->pse36 = (r1[3] >> 17) & 1;
    f->smep = (r7[1] >> 7) & 1;
    f->smap = (r7[1] >> 20) & 1;
    if (f->ringside)
        f->pse = f->pge = f->smep = f->smap = true;
}

/* Called by the trap stubs with the frame on the trap stack. */
void trap_c(struct frame *f);
void trap_c(struct frame *f)
{
    uint32_t cr2;
    __asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
    last_cr2 = cr2;
    last_frame = *f;
    if (f->vector != VEC_DONE && trap_hook && trap_hook(f))
        return; /* IRET to the (possibly changed) frame */
    if (kctx_esp == 0) {
        rt_printf("unexpected trap %u error %x at %x:%x cr2 %x\n", f->vector, f->error,
                  f->cs & 0xFFFF, f->eip, cr2);
        rt_exit(0x7d);
    }
    resume_kernel(f->vector);
}
