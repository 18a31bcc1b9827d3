/* The descriptor tables: the GDT (flat ring 0 and ring 3 segments and the TSS), the IDT (who
 * handles each vector, and who may raise it with INT n) and the TSS (where the cpu finds the
 * kernel stack when it leaves ring 3, and which I/O ports ring 3 may use). */
#include "kernel.h"

/* A segment descriptor (8 bytes):
 *
 *   63      56 55 54 53 52 51   48 47 46 45 44 43  40 39         16 15          0
 *  +----------+--+--+--+--+-------+--+-----+--+------+-------------+-------------+
 *  |base 31:24| G|DB| 0|AV|lim19:16| P| DPL | S| type |  base 23:0  | limit 15:0  |
 *  +----------+--+--+--+--+-------+--+-----+--+------+-------------+-------------+
 *
 * access = P DPL S type (bits 47..40); flags = G DB 0 AVL (bits 55..52). */
static uint64_t seg_desc(uint32_t base, uint32_t limit, unsigned access, unsigned flags)
{
    uint32_t lo = (limit & 0xFFFF) | (base << 16);
    uint32_t hi = ((base >> 16) & 0xFF) | (access << 8) | (limit & 0xF0000) | (flags << 20) |
                  (base & 0xFF000000u);
    return ((uint64_t)hi << 32) | lo;
}

#define ACC_KCODE 0x9A /* P, DPL 0, code, execute/read */
#define ACC_KDATA 0x92 /* P, DPL 0, data, read/write */
#define ACC_UCODE 0xFA /* P, DPL 3, code, execute/read */
#define ACC_UDATA 0xF2 /* P, DPL 3, data, read/write */
#define ACC_TSS   0x89 /* P, DPL 0, 32-bit TSS (available) */
#define FLAGS_4G  0xC  /* G = 4 KiB granularity (limit 0xFFFFF = 4 GiB), DB = 32-bit */

/* An IDT gate: offset 31..16 | P DPL 0 type (0xE = 32-bit interrupt gate: clears IF) |
 * selector | offset 15..0. The DPL is who may use INT n on it: a DPL 0 gate raised by INT n
 * from ring 3 gives #GP instead; the cpu's own exceptions and IRQs ignore it. */
static uint64_t int_gate(void (*handler)(void), unsigned dpl)
{
    uint32_t off = (uint32_t)handler;
    uint32_t lo = (off & 0xFFFF) | ((uint32_t)KCODE << 16);
    uint32_t hi = (off & 0xFFFF0000u) | 0x8000u | (dpl << 13) | (0xEu << 8);
    return ((uint64_t)hi << 32) | lo;
}

/* The 32-bit TSS. The kernel uses no hardware task switching: the TSS is only where the cpu
 * finds SS0:ESP0 (the stack for entering ring 0) and the I/O permission bitmap. */
struct tss {
    uint32_t link, esp0, ss0, esp1, ss1, esp2, ss2;
    uint32_t cr3, eip, eflags, eax, ecx, edx, ebx, esp, ebp, esi, edi;
    uint32_t es, cs, ss, ds, fs, gs, ldt;
    uint16_t trap, iomap_base;     /* offset of the I/O bitmap from the TSS start */
    uint8_t iomap[IOMAP_PORTS / 8]; /* one bit per port, 1 = denied in ring 3 (CPL > IOPL) */
    uint8_t iomap_end;             /* 0xFF: the cpu reads two bytes for a check */
} __attribute__((packed));
_Static_assert(offsetof(struct tss, iomap) == 104, "the TSS's fixed part is 104 bytes");

static uint64_t gdt[GDT_ENTRIES];
static uint64_t idt[256];
static struct tss tss;

struct dtr {
    uint16_t limit;
    uint32_t base;
} __attribute__((packed));

void desc_init(void)
{
    gdt[0] = 0;                                                     /* the null selector */
    gdt[KCODE / 8] = seg_desc(0, 0xFFFFF, ACC_KCODE, FLAGS_4G);
    gdt[KDATA / 8] = seg_desc(0, 0xFFFFF, ACC_KDATA, FLAGS_4G);
    gdt[UCODE / 8] = seg_desc(0, 0xFFFFF, ACC_UCODE, FLAGS_4G);
    gdt[UDATA / 8] = seg_desc(0, 0xFFFFF, ACC_UDATA, FLAGS_4G);
    /* The limit covers the bitmap and its 0xFF terminator; ports past the bitmap (1024 and up)
     * are beyond the limit, which the cpu treats as "denied". */
    gdt[TSSSEL / 8] = seg_desc((uint32_t)&tss, sizeof(tss) - 1, ACC_TSS, 0);
    static struct dtr gdtr;
    gdtr.limit = sizeof(gdt) - 1;
    gdtr.base = (uint32_t)gdt;
    load_gdt(&gdtr);

    /* Exceptions and IRQs: DPL 0, so ring 3 cannot fake them with INT n. #BP (int3) and #OF
     * (into) are DPL 3 as on most kernels; int $0x80 is the system-call gate. Every other
     * vector has no gate: INT n to it gives #NP (a ring 3 program is then killed). */
    for (unsigned v = 0; v < 48; v++)
        idt[v] = int_gate(vector_stubs[v], (v == 3 || v == 4) ? 3 : 0);
    idt[SYSCALL_VECTOR] = int_gate(syscall_stub, 3);
    static struct dtr idtr;
    idtr.limit = sizeof(idt) - 1;
    idtr.base = (uint32_t)idt;
    __asm__ volatile("lidt %0" : : "m"(idtr));

    tss.ss0 = KDATA;
    tss.esp0 = (uint32_t)&tss; /* replaced by the first process's stack before ring 3 runs */
    tss.iomap_base = (uint16_t)offsetof(struct tss, iomap);
    memset(tss.iomap, 0xFF, sizeof(tss.iomap));
    tss.iomap_end = 0xFF;
    __asm__ volatile("ltr %w0" : : "r"(TSSSEL));

    /* SYSENTER enters at sysenter_entry with CS = KCODE, SS = KDATA. */
    wrmsr(MSR_SYSENTER_CS, KCODE);
    wrmsr(MSR_SYSENTER_EIP, (uint32_t)sysenter_entry);
}

void tss_set_kstack(uint32_t esp0)
{
    tss.esp0 = esp0;
    wrmsr(MSR_SYSENTER_ESP, esp0);
}

void tss_set_iomap(const uint8_t *map)
{
    memcpy(tss.iomap, map, sizeof(tss.iomap));
}
