/* The privilege-ring guests' own small kernel: a GDT with ring 0 and ring 3 segments, a TSS with
 * a ring 0 stack and an I/O permission bitmap, an IDT whose handlers record what the cpu pushed,
 * and "probes": short snippets of code run in ring 3 (or ring 0) whose faults are caught, recorded
 * and skipped, so that one guest can check many privilege rules in a row.
 *
 * A probe is written with PROBE(name, setup, insn) as
 *
 *     name:     setup            (any instructions that must not fault)
 *     name_at:  insn             (the instruction under test)
 *     name_end: int $0x80        (VEC_EXIT: back to the kernel, registers recorded)
 *
 * run_probe() enters it with IRET (ring 3: SS:ESP = UDATA:user stack, DS..GS = UDATA; ring 0:
 * the ring 0 probe stack), with the registers and EFLAGS the probe asks for. Every exception or
 * interrupt is recorded (vector, error code, the pushed EIP, CS, EFLAGS and, when the privilege
 * changed, ESP and SS; the handler's own CS and SS; where the frame lies). A fault at name_at
 * resumes at name_end, so the probe then leaves through int $0x80 — after an IRET back to the
 * ring it faulted in. The result describes the first event as one line, compared with the line
 * the rule predicts (expect()). Conforming handlers (conf_*, run_conf) see faults that a ring 0
 * handler could not, such as those of a broken TSS stack.
 *
 * Selectors (the SYSENTER layout: KCODE, +8 KDATA, +16 UCODE, +24 UDATA):
 */
#ifndef RINGS_H
#define RINGS_H

#define KCODE   0x08 /* ring 0 code, flat, execute/read */
#define KDATA   0x10 /* ring 0 data, flat, read/write */
#define UCODE   0x18 /* DPL 3 code, flat, execute/read */
#define UDATA   0x20 /* DPL 3 data, flat, read/write */
#define TSSSEL  0x28 /* the 32-bit TSS */
#define CGATE3  0x30 /* 32-bit call gate, DPL 3, 2 parameters -> KCODE:cg_entry */
#define KCONF   0x38 /* ring 0 conforming code, flat, execute/read */
#define UNP     0x40 /* DPL 3 data, not present */
#define UXO     0x48 /* DPL 3 code, execute-only */
#define LDTSEL  0x50 /* the LDT (one entry: DPL 3 data, flat) */
#define KSMALL  0x58 /* ring 0 data, read/write, limit 0xFFF (for a stack that cannot grow) */
#define CGATE0  0x60 /* 32-bit call gate, DPL 0 -> KCODE:cg_entry */
#define URO     0x68 /* DPL 3 data, read-only */
#define KNP     0x70 /* ring 0 data, read/write, not present (a bad SS0) */
#define GDT_ENTRIES 16

#define LDT_UDATA 0x07 /* LDT entry 0 (TI = 1) with RPL 3 */

#define VEC_EXIT  0x80 /* DPL 3 interrupt gate: the end of every probe */
#define VEC_PRIV  0x81 /* DPL 0 interrupt gate: INT from ring 3 -> #GP */
#define VEC_NP    0x82 /* DPL 3, not present */
#define VEC_TRAP  0x83 /* DPL 3 trap gate: records, returns */
#define VEC_INTR  0x84 /* DPL 3 interrupt gate: records, returns */
#define VEC_SETK  0x85 /* DPL 3: returns with DS/ES/FS/GS = KDATA in the frame it pops */
#define VEC_NP0   0x86 /* DPL 0, not present */

#define USER_STACK_SIZE 4096
#define TRAP_STACK_SIZE 8192

#ifndef __ASSEMBLER__
#include <stdbool.h>
#include <stdint.h>

#include "rt.h"

/* What the common interrupt stub saves (lowest address first): the segment registers, PUSHAL,
 * the vector and error code (0 when the cpu pushes none), then the cpu's frame. esp and ss are
 * valid only when the event came from an outer ring. */
struct tf {
    uint32_t gs, fs, es, ds;
    uint32_t edi, esi, ebp, kesp, ebx, edx, ecx, eax;
    uint32_t vec, err;
    uint32_t eip, cs, eflags, esp, ss;
};

/* One recorded event, as the handler saw it. */
struct event {
    uint32_t vec, err, eip, cs, eflags, esp, ss;
    bool outer;        /* came from an outer ring: esp/ss were pushed */
    uint16_t h_cs, h_ss; /* the handler's CS and SS (their RPL is the CPL it runs at) */
    uint32_t h_eflags; /* EFLAGS in the handler (IF: interrupt vs trap gate) */
    uint32_t frame;    /* address of the pushed EIP */
};

#define MAX_EVENTS 4

struct probe {
    char *entry, *at, *end; /* from PROBE() */
    unsigned ring;          /* 0 or 3 */
    uint32_t eflags;        /* EFLAGS to enter with (bit 1 is added) */
    uint32_t esp;           /* 0: the default stack of that ring */
    uint32_t eax, ebx, ecx, edx, esi, edi, ebp;
};

struct result {
    struct probe p;         /* the probe as run (defaults filled in) */
    unsigned n;             /* events recorded (at most MAX_EVENTS kept) */
    struct event ev[MAX_EVENTS];
    bool exited;            /* left through VEC_EXIT */
    bool aborted;           /* too many events: the probe was abandoned */
    struct tf exit;         /* registers at int $0x80 (exit.cs & 3 = the ring it ended in) */
};

#define PROBE_ASM(name, setup, insn)                                                     \
    __asm__(".pushsection .text\n"                                                       \
            ".globl " #name "\n" #name ":\n" setup "\n"                                  \
            #name "_at:\n" insn "\n" #name "_end:\n"                                     \
            "int $0x80\n"                                                                \
            ".popsection\n")
#define PROBE(name, setup, insn)                                                         \
    PROBE_ASM(name, setup, insn);                                                        \
    extern char name[], name##_at[], name##_end[]

#define PROBE_OF(name) .entry = name, .at = name##_at, .end = name##_end

/* Runs a probe: RUN3(r, name, .eax = 1, ...) in ring 3, RUN0 in ring 0. */
#define RUN3(r, name, ...) run_probe(&(r), &(struct probe){PROBE_OF(name), .ring = 3, __VA_ARGS__})
#define RUN0(r, name, ...) run_probe(&(r), &(struct probe){PROBE_OF(name), .ring = 0, __VA_ARGS__})

/* kern.c */
extern uint64_t gdt[GDT_ENTRIES];
extern uint64_t idt[256];
extern uint64_t ldt[2];
extern uint8_t user_stack[USER_STACK_SIZE];
extern uint8_t r0_stack[USER_STACK_SIZE];
extern uint8_t trap_stack[TRAP_STACK_SIZE];

struct tss {
    uint32_t link, esp0, ss0, esp1, ss1, esp2, ss2, cr3, eip, eflags;
    uint32_t eax, ecx, edx, ebx, esp, ebp, esi, edi;
    uint32_t es, cs, ss, ds, fs, gs, ldt;
    uint16_t trap, iomap;
    uint8_t iobitmap[8192];
    uint8_t iobitmap_end; /* 0xFF: the cpu may read one byte past the last port's */
} __attribute__((packed));
extern struct tss tss;

#define USER_TOP ((uint32_t)(user_stack + USER_STACK_SIZE))
#define R0_TOP   ((uint32_t)(r0_stack + USER_STACK_SIZE))
#define TRAP_TOP ((uint32_t)(trap_stack + TRAP_STACK_SIZE))

uint64_t seg_desc(uint32_t base, uint32_t limit, unsigned access, unsigned flags);
uint64_t gate_desc(uint16_t sel, uint32_t off, unsigned type, unsigned dpl, bool present,
                   unsigned params);
void set_idt_gate(unsigned vec, uint16_t sel, void (*fn)(void), unsigned type, unsigned dpl,
                  bool present);
void set_idt_default(unsigned vec); /* the standard gate of that vector */
void rings_init(void);              /* GDT, IDT, TSS (all ports denied), LTR, LLDT, PIC masked */
void io_allow(unsigned port, unsigned n, bool allow);
void run_probe(struct result *r, const struct probe *p);

/* The first event (and the ring the probe ended in) as one line:
 *   "#GP(0010) eip=at cs=001b ss=0023 esp=top h=0008:0010 stack=tss back=3"
 * eip: at / end / hex; esp: top (the probe's initial ESP) / top-N / hex; stack: tss (frame at the
 * top of the TSS ring 0 stack) / top-N (on the probe's own stack) / hex; "none" for no event. */
void describe(const struct result *r, char *buf, unsigned len);
void expect(const char *name, const struct result *r, const char *want);
void snprint(char *buf, unsigned len, const char *fmt, ...);

/* entry.S */
extern void (*const isr_table[32])(void);
void isr_exit(void), isr_priv(void), isr_trap(void), isr_intr(void), isr_setk(void);
void cg_entry(void), sysenter_entry(void);
void conf_df(void), conf_ts(void), conf_np(void), conf_ss(void), conf_gp(void);
void load_gdt_and_segments(const void *gdtr);
void enter_probe(const struct probe *p);
_Noreturn void probe_return(void);
extern uint32_t cg_rec[10];       /* call gate handler: ESP, CS, SS, then 6 stack dwords */
extern uint32_t sysenter_rec[5];  /* sysenter entry: ESP, CS, SS, EFLAGS, EIP of the caller */
/* The conforming handlers (conf_*): their ESP, CS, SS, then the pushed error code, EIP, CS,
 * EFLAGS, and the vector. They write conf_fix_ss0/esp0 into the TSS before leaving. */
enum { CR_ESP, CR_CS, CR_SS, CR_ERR, CR_EIP, CR_PCS, CR_EFLAGS, CR_VEC };
extern uint32_t conf_rec[8];
extern uint32_t conf_fix_ss0, conf_fix_esp0;
/* Runs a ring 3 probe with SS0:ESP0 = ss0:esp0 (conf_fix_* restore the good values) and formats
 * what the conforming handler saw: "#SS(0071) cs=001b h=003b:0023 stack=top-16". */
void run_conf(struct result *r, uint32_t ss0, uint32_t esp0, char *buf, unsigned len,
              const struct probe *p);
#define RUNCONF3(r, ss0, esp0, buf, name, ...)                                           \
    run_conf(&(r), ss0, esp0, buf, sizeof(buf),                                          \
             &(struct probe){PROBE_OF(name), .ring = 3, __VA_ARGS__})

static inline uint32_t rd_cr0(void) { uint32_t v; __asm__ volatile("mov %%cr0, %0" : "=r"(v)); return v; }
static inline uint16_t rd_cs(void) { uint16_t v; __asm__ volatile("mov %%cs, %0" : "=r"(v)); return v; }
static inline uint16_t rd_ss(void) { uint16_t v; __asm__ volatile("mov %%ss, %0" : "=r"(v)); return v; }
static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }

#endif /* __ASSEMBLER__ */
#endif
