/* The IA-32 CPU state and the interface the rest of Ringside uses to drive it.
 *
 * One struct cpu holds everything the core mutates; every function takes it explicitly, so
 * several machines can live in one process. The cpu reaches memory through its own TLB
 * (src/mmu/) and ports/MMIO through a struct bus (src/devices/bus.h); it reports transitions
 * as events to its sinks and, on request, every instruction to its instruction hooks
 * (event.h). Clients outside the core read and change the state through inspect.h, never
 * through the fields below.
 */
#ifndef RINGSIDE_CPU_H
#define RINGSIDE_CPU_H

#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cpu/descriptor.h"
#include "cpu/event.h"
#include "cpu/exceptions.h"
#include "cpu/fault.h"

struct bus;
struct mmio_range;
struct icache;
struct block;
struct insn;
struct cpu;

/* General registers, in ModRM encoding order. */
enum { EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI };

/* Segment registers, in ModRM/sreg encoding order. */
enum { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_COUNT };

/* EFLAGS bits (SDM vol. 1 3.4.3). */
#define FL_CF   0x00000001u /* carry */
#define FL_R1   0x00000002u /* reserved, always 1 */
#define FL_PF   0x00000004u /* parity of the low byte */
#define FL_AF   0x00000010u /* auxiliary carry (bit 3) */
#define FL_ZF   0x00000040u /* zero */
#define FL_SF   0x00000080u /* sign */
#define FL_TF   0x00000100u /* single-step trap */
#define FL_IF   0x00000200u /* interrupts enabled */
#define FL_DF   0x00000400u /* string direction (1 = down) */
#define FL_OF   0x00000800u /* overflow */
#define FL_IOPL 0x00003000u /* I/O privilege level (2 bits) */
#define FL_NT   0x00004000u /* nested task */
#define FL_RF   0x00010000u /* resume */
#define FL_VM   0x00020000u /* virtual-8086 mode (never set: no v8086) */
#define FL_AC   0x00040000u /* alignment check / SMAP override */
#define FL_VIF  0x00080000u
#define FL_VIP  0x00100000u
#define FL_ID   0x00200000u /* CPUID available (software can toggle it) */
#define FL_ARITH (FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_OF)

/* CR0 / CR4 bits used by the core. */
#define CR0_PE 0x00000001u /* protected mode */
#define CR0_MP 0x00000002u
#define CR0_EM 0x00000004u
#define CR0_TS 0x00000008u
#define CR0_ET 0x00000010u
#define CR0_NE 0x00000020u
#define CR0_WP 0x00010000u /* supervisor writes honour R/W */
#define CR0_AM 0x00040000u
#define CR0_NW 0x20000000u
#define CR0_CD 0x40000000u
#define CR0_PG 0x80000000u /* paging */
#define CR4_DE 0x00000008u   /* debug extensions: DR7 R/W 10 = I/O breakpoints, DR4/DR5 #UD */
#define CR4_PSE 0x00000010u  /* 4 MiB pages */
#define CR4_PGE 0x00000080u  /* global pages */
#define CR4_PCE 0x00000100u  /* RDPMC allowed at CPL > 0 */
#define CR4_SMEP 0x00100000u /* supervisor-mode execution prevention */
#define CR4_SMAP 0x00200000u /* supervisor-mode access prevention */
/* CR4 bits this cpu implements; setting any other raises #GP(0). */
#define CR4_SUPPORTED (CR4_DE | CR4_PSE | CR4_PGE | CR4_PCE | CR4_SMEP | CR4_SMAP)

/* Model-specific registers the cpu implements (SDM vol. 4, table 2-2); RDMSR/WRMSR of any other
 * (and of a device's, struct msr_dev, when no device claims it) raise #GP(0), as do writes of
 * reserved bits. */
#define MSR_TSC          0x010u /* time-stamp counter: device time + cpu.tsc_offset; writable */
#define MSR_APIC_BASE    0x01Bu /* IA32_APIC_BASE: the local APIC's (struct msr_dev) */
#define MSR_TSC_DEADLINE 0x6E0u /* IA32_TSC_DEADLINE: the local APIC's (struct msr_dev) */
#define MSR_SYSENTER_CS  0x174u
#define MSR_SYSENTER_ESP 0x175u
#define MSR_SYSENTER_EIP 0x176u
#define MSR_MCG_CAP      0x179u /* read-only: 0, no machine-check banks (CPUID.1:EDX.MCA) */
#define MSR_MCG_STATUS   0x17Au /* read/write, 0 at reset */
#define MSR_MISC_ENABLE  0x1A0u /* IA32_MISC_ENABLE */
#define MSR_PAT          0x277u /* IA32_PAT: eight memory types (CPUID.1:EDX.PAT) */
#define MSR_EFER         0xC0000080u /* IA32_EFER: only SCE (bit 0) holds a value (see below) */
#define MSR_MISC_ENABLE_RESET 0x1801u /* fast strings (0); BTS (11) and PEBS (12) unavailable */
#define MSR_MISC_ENABLE_BITS  0x400C51889ull /* bits that hold a value; others #GP */
#define MSR_PAT_RESET    0x0007040600070406ull /* WB WT UC- UC, twice (SDM vol. 3 11.12.4) */
/* IA32_EFER on a cpu without long mode or NX (CPUID.80000001H:EDX.LM = NX = 0): SCE (bit 0,
 * SYSCALL enable in 64-bit mode) reads back what was written and has no effect (SYSCALL
 * stays #UD, as outside 64-bit mode on Intel's cpus); LME (8), LMA (10, read-only), NXE (11)
 * and the rest are reserved: a write that sets one raises #GP(0). */
#define EFER_SCE         0x1ull
#define EFER_BITS        EFER_SCE

/* A segment register: the visible selector and its descriptor cache. */
struct segment {
    uint16_t sel;
    uint32_t base;
    uint32_t limit;   /* byte-granular effective limit */
    uint16_t attr;    /* descriptor bits 40..55 (SA_* in descriptor.h) */
    bool flat;        /* base 0, limit 4 GiB, expand-up, readable+writable data: no checks */
};

struct dtable {
    uint32_t base;
    uint16_t limit;
};

/* A descriptor that passed a segment load's checks (segment.c, seg_load; kinds DATA and SS) or
 * those of the fast paths of delivery and IRET (kinds SS and CODE): with the same selector,
 * descriptor bytes at the same linear address, CPL (the privilege the checks were made for)
 * and kind, the same checks pass the same way (segment.h seg_memo_get). */
#define SEG_MEMOS 8u
/* Kinds: a data segment register (DS, ES, FS, GS); SS; the CS of a transfer to the privilege
 * of the selector's RPL (a present non-conforming code segment with DPL = RPL: delivery to
 * ring 0 through a gate whose selector has RPL 0, IRET). */
enum { SEG_MEMO_DATA = 0, SEG_MEMO_SS = 1, SEG_MEMO_CODE = 2 };
/* The memo's key: selector, CPL, kind; bit 31 set (a key of 0 is an unused memo). */
#define SEG_MEMO_KEY(sel, cpl, kind) \
    ((uint32_t)(sel) | (uint32_t)(cpl) << 16 | (uint32_t)(kind) << 24 | 0x80000000u)
/* The memo's slot: the selector's index, low bits, 4 further on for SS and CS (a kernel's 0x10
 * as DS and as SS, its 0x08 and the user's 0x1B as CS, then do not share a slot with the data
 * selectors next to them: 0x10 and 0x23 as data in 2 and 4, as SS in 6 and 0, 0x08 and 0x1B
 * as CS in 5 and 7). */
#define SEG_MEMO_SLOT(sel, kind) ((((unsigned)(sel) >> 3) + ((kind) ? 4u : 0u)) & (SEG_MEMOS - 1))
struct seg_memo {
    uint32_t key;           /* SEG_MEMO_KEY; 0: unused (a null selector never gets here) */
    uint32_t lin, lo, hi;   /* the descriptor's address and bytes (accessed bit set); lo, hi
                               adjacent: segment.h compares the 8 bytes at once */
    struct segment s;       /* what the register got */
};

/* Lazy flags: the last flag-setting arithmetic operation (see flags.h). */
struct lazyflags {
    uint32_t res;   /* result, truncated to the operation size */
    uint32_t op1;   /* first operand (destination before the operation) */
    uint32_t op2;   /* second operand */
    uint8_t op;     /* enum lf_op; LF_NONE when eflags holds the arithmetic flags */
    uint8_t size;   /* 1, 2 or 4 */
    uint8_t cf_in;  /* carry in (ADC/SBB) or preserved CF (INC/DEC) */
    uint8_t pad;    /* always 0: flags.h lf_set writes op, size, cf_in and it as one word */
};

/* cpu.page_flags bits: why stores to a RAM page must take the slow path. */
#define PGF_CODE  0x01u /* decoded code lives there: a store invalidates it */
#define PGF_WATCH 0x02u /* the machine wants to see the page before its next store (snapshots:
                           machine/snapshot.c); cleared as cpu.on_page_write is called */

/* One TLB entry: a linear page and what each kind of access may do there (src/mmu/mem.h). */
struct tlb_entry {
    uint32_t vpn;      /* linear page number, TLB_INVALID when empty */
    uint32_t perm;     /* TLB_R_S .. TLB_X_U bits allowed without a walk */
    uint8_t *host;     /* host pointer to the page, NULL if not RAM */
    uint32_t ppn_base; /* physical address of the page */
    bool global;       /* from a global page (G with CR4.PGE): survives CR3 loads */
};

/* Direct-mapped by the low bits of the linear page number: 1024 entries (4 MiB of linear
 * space) keep a kernel at 0x80100000 and its user processes at 0 in different slots. */
#define TLB_ENTRIES 1024u
#define TLB_INVALID 0xFFFFFFFFu

/* The fast TLB (mem.h tlb_fast_host): for each slot and each privilege mode of explicit
 * accesses (cpu.acc_mode), the tags an explicit read or write compares with: the linear page
 * address (lin & ~PAGE_MASK) when tlb[slot] grants that access in that mode, else
 * TLB_TAG_NONE, which no page address equals; and the host address of linear address 0 of the
 * page, so that a hit is (lin + size - 1) & ~PAGE_MASK == tag, then addend + lin. Derived from
 * tlb[] by mmu/mem.c: a fill sets the current mode's tags and empties the other modes' (they
 * get theirs when an access in that mode finds the entry, mem.c tlb_get); anything that drops
 * or narrows an entry drops its tags. Mode 0 supervisor, 1 user, 2 supervisor with SMAP and
 * EFLAGS.AC, 3 user with alignment checking (never set: every access takes the slow path).
 * The four modes of a slot fill one 64-byte line. */
struct tlb_fast {
    uint32_t rtag, wtag;
    uint64_t addend; /* 64 bits on any host: a slot's row is 64 bytes */
};
#define TLB_MODES 4u
#define TLB_FAST_ROW_SHIFT 6 /* log2(TLB_MODES * sizeof(struct tlb_fast)) */
_Static_assert(TLB_MODES * sizeof(struct tlb_fast) == 1u << TLB_FAST_ROW_SHIFT,
               "a slot's fast tags are 64 bytes");
#define TLB_TAG_NONE 1u

/* Why cpu_run() returned. */
enum run_result {
    RUN_LIMIT,        /* the instruction budget is used up */
    RUN_EXIT,         /* a device asked the machine to exit (debug-exit port) */
    RUN_HALT,         /* HLT with interrupts disabled, or with nothing left to wake the cpu */
    RUN_SHUTDOWN,     /* triple fault */
    RUN_STOP,         /* the frontend asked to stop (cpu_request_stop) */
    RUN_UNSUPPORTED,  /* the guest asked for something outside the subset (cpu.unsupported) */
};

/* What the guest asked for when the cpu stopped with RUN_UNSUPPORTED (cpu_stop_unsupported):
 * which instruction or event, where it was, and where it would have gone. */
struct unsupported {
    const char *what;       /* what is not supported, e.g. "virtual-8086 mode is not supported" */
    const char *by;         /* the instruction or event that asked for it, e.g. "IRET" */
    const char *why;        /* what in the guest's state asked for it, e.g. "EFLAGS.VM=1 ..." */
    uint16_t cs;            /* where: the instruction (or the boundary of the event) */
    uint32_t eip;
    uint16_t target_cs;     /* where it would have gone */
    uint32_t target_eip;
};

/* Instructions retired per address space (CR3), split kernel (CPL 0-2) / user (CPL 3). */
#define ACCT_SPACES 64
struct acct_space {
    uint32_t cr3;
    uint64_t insns[2]; /* [0] CPL 0..2, [1] CPL 3 */
};

/* The interrupt controller as the cpu sees it (the 8259A pair today; a local APIC later). The
 * controller decides whether an interrupt is pending (its masks, and the priority of a request
 * against what is in service) and raises or lowers the cpu's INTR input with cpu_set_intr
 * whenever that answer changes; the cpu only tests the flag, with EFLAGS.IF and the interrupt
 * shadow, at instruction boundaries. When it takes the interrupt it runs the acknowledge
 * cycle, ack, which returns the vector to deliver (and updates INTR). */
struct intc {
    int (*ack)(void *ctx);  /* interrupt acknowledge: the vector in bits 7..0 and, optionally,
                               where it came from (INTC_SOURCE); NULL: no controller */
    void *ctx;
    /* Could a device event still raise the NMI input (an unmasked route in NMI delivery
     * mode)? Asked when the cpu halts with IF = 0, which only an NMI can end: if not, the
     * halt ends the run. NULL: never. */
    bool (*nmi_route)(void *ctx);
    void *nmi_ctx;
};

/* What intc.ack may return: a vector and its source (enum intr_source in event.h, and a pin,
 * IRQ or LVT number), carried into the event of the interrupt. */
#define INTC_SOURCE(vector, kind, num) \
    ((int)((unsigned)(vector) & 0xFFu) | (int)(((unsigned)(kind) & 0xFFu) << 8) \
     | (int)(((unsigned)(num) & 0xFFu) << 16))

/* MSRs that belong to a device rather than to the cpu (the local APIC's IA32_APIC_BASE): the
 * cpu asks rd/wr first. They return 1 when the MSR is theirs (done), 0 when it is not, -1 when
 * it is theirs but the access is refused (#GP(0)). */
struct msr_dev {
    int (*rd)(void *ctx, uint32_t msr, uint64_t *value);
    int (*wr)(void *ctx, uint32_t msr, uint64_t value);
    void *ctx;
};

/* A pending fault, filled by cpu_raise() before it unwinds to the dispatch loop. */
struct fault {
    uint8_t vector;
    bool has_error;
    uint32_t error;
    uint32_t cr2;           /* CR2 when the event was raised: a #PF's linear address */
    struct fault_detail detail; /* what made it (fault.h), FD_NONE when nothing more is known */
};

#define STOP_CHAIN 1u  /* cpu.stop_block: back to the dispatch loop (written as true) */
#define STOP_BRANCH 2u /* cpu.stop_block: only this block ends (a taken Jcc) */
#define STOP_LOOP 4u   /* cpu.stop_block: a taken Jcc back to its block's start, in the middle
                          of the block (exec.c run_block restarts the block) */
#define STOP_END 32u   /* cpu.stop_block: the block's last instruction has run (exec.c
                          op_block_last) */
#define STOP_JUMP 16u  /* cpu.stop_block: a taken Jcc in the middle of its block, not yet
                          retired (c->cur is the Jcc): exec.c run_block follows its direct
                          link (icache.h struct jlink) or settles it (jcc_leave) */
#define STOP_CHECK 64u /* cpu.stop_block: the block ends (an instruction that ends it: INT n,
                          IRET, INVLPG, MOV CR3); back to the dispatch loop only when its checks
                          have something to do (exec.c chain_on), else the chain goes on */

struct cpu {
    /* Architectural state. */
    /* General registers, enum EAX.. order, and r[8] (NOREG in insn.h), which is always 0: an
     * effective address is r[base] + (r[index] << scale) + disp without a test for a missing
     * base or index (ops.h). Every register write takes a 3-bit register number, so nothing
     * writes r[8]; whatever iterates over the registers stops at 8. */
    uint32_t r[9];
    uint32_t eip;           /* during an instruction: the address of the next one */
    uint32_t eflags;        /* arithmetic flags valid only when lf.op == LF_NONE */
    struct lazyflags lf;
    struct segment seg[SEG_COUNT];
    struct dtable gdtr, idtr;
    struct segment ldtr, tr;
    struct seg_memo seg_memo[SEG_MEMOS]; /* by selector index, low bits */
    uint32_t cr0, cr2, cr3, cr4;
    uint32_t dr[8];
    /* Debug registers decoded (debug.c): what DR7 enables, and what the running instruction
     * matched. */
    uint8_t dbg_exec;       /* DR0..DR3 enabled as instruction breakpoints (bit n) */
    uint8_t dbg_data;       /* ... as data breakpoints */
    uint8_t dbg_io;         /* ... as I/O breakpoints (R/W 10 with CR4.DE) */
    uint8_t dbg_hit;        /* data breakpoints matched, to report in DR6 B0..B3 */
    bool dbg_rep_cut;       /* a REP instruction stopped after an iteration for dbg_hit */
    uint64_t inhibit_until_db; /* MOV SS / POP SS: a data #DB waits until icount reaches this */
    uint32_t sysenter_cs, sysenter_esp, sysenter_eip;
    /* Model-specific registers (system.c): the TSC is device time plus tsc_offset (WRMSR 0x10
     * changes the offset), the rest plain values with their reset values. */
    uint64_t tsc_offset;
    uint64_t msr_misc_enable;  /* IA32_MISC_ENABLE (0x1A0) */
    uint64_t msr_pat;          /* IA32_PAT (0x277) */
    uint64_t msr_mcg_status;   /* IA32_MCG_STATUS (0x17A) */
    uint64_t msr_efer;         /* IA32_EFER (0xC0000080) */
    uint8_t cpl;            /* current privilege level (= CS.RPL) */
    uint8_t acc_shift;      /* selects the TLB perm bits of an explicit access (mem.h):
                               0 supervisor, 3 user (CPL 3), 6 supervisor with SMAP and AC,
                               ACC_SHIFT_AC user with alignment checking */
    uint8_t acc_mode;       /* the fast TLB's mode (struct tlb_fast): 0 supervisor, 1 user, 2
                               supervisor with SMAP and AC, 3 user with alignment checking */
    uint32_t acc_need[3];   /* TLB_R_S, TLB_W_S, TLB_X_S << acc_shift: the perm bit an explicit
                               read, write, fetch needs (mem.h acc_need), one load instead of a
                               load and a shift on every access; set with acc_shift */

    /* Execution bookkeeping. */
    uint32_t insn_eip;      /* address of the instruction being executed */
    uint64_t icount;        /* retired instructions */
    uint64_t icount_limit;  /* cpu_run stops when device time (cpu_time) reaches this */
    /* Leave the current block after this instruction: true (STOP_CHAIN) also goes back to the
     * dispatch loop's checks (interrupts, limits, mode); STOP_BRANCH only leaves the block for
     * the next one (a taken conditional branch inside a superblock, see icache.h). */
    uint8_t stop_block;
    uint32_t bus_ops;       /* device accesses made (MMIO, port I/O), wrapping: what a REP
                               instruction weighs its host work by (string.c) */
    bool halted;            /* in HLT, waiting for an interrupt */
    int stop_reason;        /* enum run_result once set, -1 while running */
    bool delivering;        /* an event is being delivered (a fault now may become #DF) */
    uint8_t delivering_class;       /* its enum exc_class for the #DF rules (deliver.c) */
    struct fault delivering_event;  /* the event being delivered */
    struct fault df_pair[2];        /* the two events that made the last #DF */
    struct fault fault;     /* the fault being unwound */
    struct fault shutdown_events[3];  /* the three events of a triple fault */
    struct unsupported unsupported;   /* why the cpu stopped with RUN_UNSUPPORTED */
    jmp_buf jmp;            /* where cpu_raise() unwinds to */
    bool jmp_ready;

    /* Memory. */
    uint8_t *ram;
    uint32_t ram_size;
    struct tlb_entry tlb[TLB_ENTRIES];
    /* The bus's range last read through tlb[k] when it has no host pointer (not RAM), or NULL:
     * a device read that it holds skips the bus's lookup (mmu/mem.c dev_read), any other looks
     * again. */
    const struct mmio_range *tlb_dev[TLB_ENTRIES];
    /* &tlbf[0][acc_mode] (cpu_update_acc sets it; a pointer into this struct, so a saved
     * state holds NULL and a loaded one gets it again): slot k's tags at tlbf_cur[k * TLB_MODES]. */
    const struct tlb_fast *tlbf_cur;
    struct tlb_fast tlbf[TLB_ENTRIES][TLB_MODES];
    bool tlb_large;         /* a 4 MiB page may be in the TLB (set by its walk, cleared by a
                               full flush): INVLPG then drops the whole 4 MiB region */
    /* The slots filled since the last flush, so that a flush (a CR3 load on every process
     * switch) visits those instead of all TLB_ENTRIES (mmu/mem.c). Every slot not empty is in
     * tlb_used[0 .. tlb_nused) (a slot may appear twice) while tlb_used_ok; when the list
     * overflows, or in a zeroed cpu, tlb_used_ok is false and the next flush walks them all. */
    uint16_t tlb_used[TLB_ENTRIES];
    uint32_t tlb_nused;
    bool tlb_used_ok;
    uint8_t *page_flags;    /* per physical RAM page: PGF_* bits; a page with any bit set is
                               never writable through the TLB, so its first store reaches
                               mem_code_written (mmu/mem.c) */
    uint32_t *page_gen;     /* per physical RAM page: bumped when its decoded code dies */
    struct icache *icache;
    struct block *last_block; /* the block that ran last (for chaining; kept across a fault) */
    uint32_t map_epoch;       /* bumped by anything that may change what code an EIP names
                                 (TLB flushes, CS base or size, cache resets) */
    uint64_t fetch_pages;     /* bit (linear page & 63) set for every page a block was looked
                                 up at since map_epoch last changed: an INVLPG of a page whose
                                 bit is clear cannot change what a link names (mem.c) */

    /* External interrupts and device time. Device time is icount + idle + stall: it advances one
     * unit per retired instruction, jumps to the next device event while the cpu is halted, and
     * moves one unit before an event would be delivered at the same time as the previous one
     * (deliver.c), so it cannot stand still in a storm of faults. */
    bool intr;              /* the INTR input, set by the interrupt controller (cpu_set_intr) */
    struct intc intc;       /* the interrupt controller, acknowledged when INTR is taken */
    uint32_t intr_source;   /* the source half of the last acknowledge (INTC_SOURCE >> 8) */
    struct msr_dev msr_dev; /* wiring: device MSRs (the local APIC's base), or none */
    /* The NMI input and the INIT signal (cpu_nmi, cpu_signal_init; SDM vol. 3 6.7.1, 10.6.1):
     * an NMI is an edge, latched in nmi_pending (one more while one is pending is lost) and
     * taken at the next instruction boundary through IDT vector 2 whatever EFLAGS.IF says;
     * from its delivery until the next IRET (which unblocks even if it faults) further NMIs
     * wait. INIT would reset the cpu to real mode, outside the subset: at the next boundary
     * the machine stops with a report (RUN_UNSUPPORTED). */
    bool nmi_pending;
    bool nmi_blocked;
    uint16_t nmi_source;    /* the pending NMI's source: enum intr_source | num << 8 */
    bool init_pending;
    const char *init_why;   /* what sent the INIT (a static string) */
    uint64_t inhibit_until; /* no external interrupt before icount reaches this (STI, MOV SS) */
    uint64_t idle;          /* time units spent halted */
    uint64_t stall;         /* time units added between deliveries with no time between them */
    uint64_t last_delivery; /* device time of the last completed delivery (UINT64_MAX: none) */
    uint64_t next_event;    /* device time of the next device event (UINT64_MAX: none); the
                               machine sets it, lowers it to "now" to be called at the next
                               boundary, and while the cpu is halted leaves out events that
                               cannot wake it */
    void (*on_event)(void *ctx);  /* called at next_event; sets the following next_event */
    void *event_ctx;
    /* Called before the first store to a RAM page marked PGF_WATCH (the flag is already
     * cleared): page number, RAM still unchanged. */
    void (*on_page_write)(void *ctx, uint32_t page);
    void *page_write_ctx;

    /* Accounting (account.c): where the instructions went. An instruction that changes CPL
     * or CR3 counts for the new one. */
    uint64_t ring_insns[4];         /* retired instructions per CPL */
    uint64_t transitions[TR_KINDS]; /* events by kind, but for TR_CR3 (the --stats line) */
    uint64_t cr3_loads;             /* TR_CR3 events */
    struct acct_space spaces[ACCT_SPACES];
    unsigned nspaces;               /* address spaces seen (the rest count in the last) */
    unsigned acct_last;             /* where account.c found a space last (a hint: checked) */
    uint64_t acct_mark;             /* icount when the current CPL/CR3 interval began */

    /* Outside world (event.c). */
    struct bus *bus;
    struct trace_sink sinks[CPU_MAX_SINKS];
    unsigned nsinks;
    bool emitting;          /* the sinks are being called: they cannot be added or removed */
    bool portable;          /* the host-specific fast paths off (event.c's EFLAGS fold by the
                               host's own flags): RINGSIDE_PORTABLE, for the tests */
    bool fold_host;         /* that fold may be used: not portable, and the host has LAHF in
                               64-bit mode (set by cpu_set_portable and cpu_add_sink_end) */
    trace_end_fn end_fn;    /* what trace_end calls with a sink: the one sink's own end, or
                               trace_end_sinks (event.c) */
    void *end_ctx;
    struct insn_hook hooks[CPU_MAX_INSN_HOOKS];
    unsigned nhooks;
    insn_hook_fn insn_hook; /* what the dispatch loop calls: the one hook, or a fan-out to all */
    void *insn_hook_ctx;

    /* The decoded instruction running in the middle of a block, NULL otherwise: while it is
     * set, eip and icount hold the block's start and insn_eip is stale (insn.h cpu_settle;
     * cpu_eip, cpu_insn_eip and cpu_icount below read the exact values). */
    const struct insn *cur;
    /* The count up to which a Jcc back to its block's start may run the block again itself, in
     * the threaded chain (control.c jcc_taken): the budget, and at most THREAD_NEST_MAX
     * instructions past the dispatch loop's call, so that without sibling calls the handlers
     * nest no deeper (exec.c run_block). */
    uint64_t thread_end;
};
#define THREAD_NEST_MAX 1024u

/* Lifecycle. ram must stay valid; ram_size a multiple of 4 KiB. Returns 0 or -1 (no memory). */
int cpu_init(struct cpu *c, uint8_t *ram, uint32_t ram_size, struct bus *bus);
void cpu_free(struct cpu *c);

/* The state a Multiboot loader hands over: protected mode, flat 4 GiB code and data segments,
 * paging off, interrupts off. */
void cpu_reset_protected_flat(struct cpu *c, uint32_t eip);

/* Runs until the budget (max_insns more units of device time: instructions, plus time spent
 * halted), an exit, a halt that nothing can end, or a shutdown. No instruction starts once the
 * budget is used; one that started within it completes, so device time can end one unit past
 * the budget when that instruction's event (INT n, say, as the first instruction of the last
 * event's handler) waited a unit because it came at the same device time as the last delivery
 * (deliver.c: no two events at one time). Where the runs are cut does not change what happens:
 * the same instruction would have taken the same two units in one longer run. */
enum run_result cpu_run(struct cpu *c, uint64_t max_insns);
void cpu_request_stop(struct cpu *c);

/* The full EFLAGS value, lazy flags folded in. */
uint32_t cpu_get_eflags(const struct cpu *c);

/* Brings ring_insns and spaces up to date with icount (call before reading them); also called
 * by the core just before CPL or CR3 changes. */
void acct_update(struct cpu *c);

/* The INTR input: what the interrupt controller drives (see struct intc). */
static inline void cpu_set_intr(struct cpu *c, bool level)
{
    c->intr = level;
}

/* The NMI input (see struct cpu): an edge from `kind` (enum intr_source) number `num`. */
static inline void cpu_nmi(struct cpu *c, unsigned kind, unsigned num)
{
    c->nmi_pending = true;
    c->nmi_source = (uint16_t)((kind & 0xFFu) | (num & 0xFFu) << 8);
    c->stop_block = true;
}

/* The INIT signal (see struct cpu); why: what sent it, for the report (a static string). */
static inline void cpu_signal_init(struct cpu *c, const char *why)
{
    c->init_pending = true;
    c->init_why = why;
    c->stop_block = true;
}

/* Exact at any time, also in the middle of a decoded block (struct cpu cur): EIP as an
 * instruction sees it (the next instruction's address), the running instruction's address,
 * and the instructions retired (before the running one). */
uint32_t cpu_eip(const struct cpu *c);
uint32_t cpu_insn_eip(const struct cpu *c);
uint64_t cpu_icount(const struct cpu *c);

/* Device time (see struct cpu). */
static inline uint64_t cpu_time(const struct cpu *c)
{
    return (__builtin_expect(c->cur != NULL, 0) ? cpu_icount(c) : c->icount) + c->idle + c->stall;
}

/* Raises an exception from inside an instruction: state is rolled back to the instruction's
 * start and the exception is delivered. Does not return. Only the core calls it, and only
 * inside cpu_run (anywhere else it is an internal error that aborts the process): clients use
 * inspect.h, which never faults. */
_Noreturn void cpu_raise(struct cpu *c, int vector, bool has_error, uint32_t error);
/* The same, with what made the fault (carried to the event that reports it). */
_Noreturn void cpu_raise_detail(struct cpu *c, int vector, bool has_error, uint32_t error,
                                const struct fault_detail *detail);
/* #GP(0) for a broken instruction rule (fault.h FD_RULE): reason and value, with CPL and IOPL. */
_Noreturn void cpu_raise_rule(struct cpu *c, uint8_t reason, uint32_t value, unsigned size);

/* Stops the machine from inside an instruction or a delivery because the guest asked for
 * something Ringside does not implement (virtual-8086 mode): the instruction does not happen
 * (EIP stays at its start), u is kept in c->unsupported and cpu_run returns RUN_UNSUPPORTED.
 * Does not return. */
_Noreturn void cpu_stop_unsupported(struct cpu *c, const struct unsupported *u);

/* Invalidates every decoded instruction (e.g. after the loader wrote guest memory). */
void cpu_flush_decoded(struct cpu *c);

const char *run_result_name(enum run_result r);

/* Snapshots (cpu/state.c; the machine's snapshot.c uses them). The cpu's state is every field
 * of struct cpu but the wiring and the caches: ram and the per-page arrays, the TLB, decoded
 * code, the bus, the interrupt controller, the callbacks, sinks and hooks, and the unwinding
 * context. Saving copies the state (a struct cpu used as a plain record: nothing in it may be
 * run); loading puts a saved state into a live cpu, keeping its wiring, and rebuilds the
 * caches (TLB and decoded code empty, the next block looked up afresh). Both are for use
 * outside cpu_run; RAM is the machine's business. Loading returns -1, changing nothing, when
 * the saved cpu had another RAM size or when c is inside cpu_run. */
void cpu_state_save(const struct cpu *c, struct cpu *out);
int cpu_state_load(struct cpu *c, const struct cpu *saved);

/* Marks RAM page `page` PGF_WATCH: c->on_page_write sees it before its next store. */
void cpu_watch_page(struct cpu *c, uint32_t page);
/* After a run of cpu_watch_page calls: no TLB entry may still write without looking. */
void cpu_watch_commit(struct cpu *c);

#endif
