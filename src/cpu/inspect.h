/* The inspection API: what a client (a log, a trace recorder, a view, a debugger) may read and
 * change in a cpu, without ever reading struct cpu fields and without ever faulting.
 *
 * Every call here is safe at any time outside cpu_run, and from a sink or an instruction hook
 * inside it: nothing raises an exception (a fault outside cpu_run would abort the process),
 * nothing touches a device (MMIO is refused, not read), and reads change nothing (no accessed
 * or dirty bits, no TLB fills). What cannot be done is reported as a value:
 *
 *   registers           cpu_get_reg / cpu_set_reg by enum cpu_reg (set refuses values the cpu
 *                       cannot hold, with INSP_BAD_VALUE)
 *   segment registers   cpu_get_seg / cpu_set_seg: selector and the hidden part (base, limit,
 *                       attributes); LDTR and TR can be read
 *   tables              GDTR / IDTR get and set; descriptors by selector, GDT/LDT index or IDT
 *                       vector, decoded (descriptor.h), INSP_BEYOND_LIMIT past the table
 *   memory              linear (through the current page tables) and physical, read and
 *                       write: struct xfer says how many bytes were done and where it stopped
 *   page walk           cpu_page_walk: every level and, for an access, why it would be refused
 *   statistics          instructions per ring and per address space, events by kind, time
 */
#ifndef RINGSIDE_INSPECT_H
#define RINGSIDE_INSPECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cpu/cpu.h"
#include "mmu/pagetable.h"

enum insp_status {
    INSP_OK,
    INSP_BAD_REG,      /* no such register (or it cannot be set) */
    INSP_BAD_VALUE,    /* a value the cpu cannot hold (CR0.PE = 0, an unsupported CR4 bit,
                          EFLAGS.VM = 1) */
    INSP_BEYOND_LIMIT, /* the selector or vector lies beyond the table's limit */
    INSP_NO_LDT,       /* an LDT selector, but LDTR is null */
    INSP_UNMAPPED,     /* memory the current page tables do not map */
    INSP_NOT_RAM,      /* a physical address outside RAM (MMIO is never touched) */
};
const char *insp_status_name(enum insp_status s);

/* ---- registers ---- */

enum cpu_reg {
    REG_EAX, REG_ECX, REG_EDX, REG_EBX, REG_ESP, REG_EBP, REG_ESI, REG_EDI, /* ModRM order */
    REG_EIP,
    REG_EFLAGS,
    REG_CR0, REG_CR2, REG_CR3, REG_CR4,
    REG_DR0, REG_DR1, REG_DR2, REG_DR3, REG_DR4, REG_DR5, REG_DR6, REG_DR7,
    REG_SYSENTER_CS, REG_SYSENTER_ESP, REG_SYSENTER_EIP, /* MSRs 0x174..0x176 */
    REG_COUNT
};

/* "eax", "eflags", "cr3", "sysenter_cs", ...; NULL for an unknown register. */
const char *cpu_reg_name(enum cpu_reg r);

/* The register's value (EFLAGS with the lazy flags folded in; DR4/DR5 read DR6/DR7 as MOV
 * does); 0 for an unknown register. */
uint32_t cpu_get_reg(const struct cpu *c, enum cpu_reg r);

/* Sets a register as the instruction that loads it would, minus the privilege checks:
 *   EIP      a halted cpu (HLT) is halted no more: the next cpu_run starts at EIP
 *   EFLAGS   the lazy flags are dropped (the value is exact); bit 1 reads 1, the reserved bits
 *            0; VM = 1 is refused (no virtual-8086 mode)
 *   CR0      refused like MOV CR0's #GP (PG without PE, NW without CD) and PE = 0 (no real
 *            mode); flushes the TLB
 *   CR3      flushes the non-global translations (decoded code is keyed by physical address
 *            and stays valid); no TR_CR3 event: only guest transitions are events
 *   CR4      refused for bits the cpu does not implement; flushes the TLB
 *   DR4/DR5  alias DR6/DR7; DR6 and DR7 keep only their defined bits (cpu/debug.h), and
 *            DR0..DR3/DR7 take effect as breakpoints at once
 *   SYSENTER_CS keeps 16 bits, as WRMSR does */
enum insp_status cpu_set_reg(struct cpu *c, enum cpu_reg r, uint32_t v);

unsigned cpu_get_cpl(const struct cpu *c);

/* ---- segment registers ---- */

/* A segment register: the visible selector and the hidden descriptor cache. attr holds
 * descriptor bits 40..55 (SA_* in descriptor.h); desc_from_cache() decodes it. */
struct seg_value {
    uint16_t sel;
    uint32_t base;
    uint32_t limit; /* byte-granular */
    uint16_t attr;
};

/* SREG_ES..SREG_GS are the segment registers in SEG_ES.. order; LDTR and TR follow. */
enum cpu_sreg { SREG_ES, SREG_CS, SREG_SS, SREG_DS, SREG_FS, SREG_GS, SREG_LDTR, SREG_TR,
                SREG_COUNT };

enum insp_status cpu_get_seg(const struct cpu *c, enum cpu_sreg s, struct seg_value *out);
/* Loads selector and hidden part as given, without descriptor checks (a debugger's write).
 * Setting CS sets CPL to its RPL. LDTR and TR cannot be set (INSP_BAD_REG). */
enum insp_status cpu_set_seg(struct cpu *c, enum cpu_sreg s, const struct seg_value *in);

void cpu_get_gdtr(const struct cpu *c, struct dtable *out);
void cpu_get_idtr(const struct cpu *c, struct dtable *out);
void cpu_set_gdtr(struct cpu *c, const struct dtable *in);
void cpu_set_idtr(struct cpu *c, const struct dtable *in);

/* ---- descriptors ---- */

/* The descriptor selector `sel` names (GDT or LDT by TI; index 0 of the GDT is read like any
 * other), decoded. INSP_BEYOND_LIMIT past the table, INSP_NO_LDT, INSP_UNMAPPED when the table
 * itself is not mapped. */
enum insp_status cpu_read_desc(const struct cpu *c, uint16_t sel, struct desc *d);
enum insp_status cpu_read_gdt(const struct cpu *c, unsigned index, struct desc *d);
enum insp_status cpu_read_ldt(const struct cpu *c, unsigned index, struct desc *d);
/* IDT gate `vector` (desc_is_gate() and gate_selector()/gate_offset() read it). */
enum insp_status cpu_read_idt(const struct cpu *c, unsigned vector, struct desc *d);

/* ---- memory ---- */

/* How a memory transfer went. */
struct xfer {
    size_t done;            /* bytes transferred, from the start */
    enum insp_status status; /* INSP_OK when done == len, else why it stopped */
    uint32_t stop;          /* when it stopped: the first address not transferred (linear for
                               the linear calls, physical for the physical ones) */
};

/* Linear memory through the current page tables (identity with paging off). Every present
 * mapping counts, whatever U/S and R/W say (a debugger's view): a write to read-only code
 * works. MMIO is not touched (INSP_NOT_RAM), accessed and dirty bits are not set. A write
 * invalidates decoded code in the pages it reaches, so the next execution sees the new bytes.
 * Addresses wrap at 4 GiB. */
struct xfer cpu_read_linear(const struct cpu *c, uint32_t lin, void *buf, size_t len);
struct xfer cpu_write_linear(struct cpu *c, uint32_t lin, const void *buf, size_t len);
/* Physical memory (RAM only). */
struct xfer cpu_read_phys(const struct cpu *c, uint32_t pa, void *buf, size_t len);
struct xfer cpu_write_phys(struct cpu *c, uint32_t pa, const void *buf, size_t len);

/* The page walk for lin with every level, and whether an access (kind, mode) would be
 * allowed, with the reason when not (PG_LOOKUP: only whether lin is mapped). Side-effect
 * free: the same walker the cpu uses (mmu/paging.c). Returns w->result == WALK_OK. */
bool cpu_page_walk(const struct cpu *c, uint32_t lin, enum pg_kind kind, enum pg_mode mode,
                   struct walk *w);

/* ---- statistics (account.c): current to the instruction, whenever read ---- */

uint64_t cpu_stat_insns(const struct cpu *c);           /* retired instructions */
uint64_t cpu_stat_ring(const struct cpu *c, unsigned ring); /* ... at CPL ring (0..3) */
uint64_t cpu_stat_idle(const struct cpu *c);            /* device time spent halted */
uint64_t cpu_stat_stall(const struct cpu *c);           /* device time added between
                                                           back-to-back deliveries */
uint64_t cpu_stat_events(const struct cpu *c, enum trace_kind k); /* events of kind k */
/* Address spaces seen (CR3 values; 0 while paging is off), in order of first use; the last
 * one also counts everything after ACCT_SPACES were seen. */
unsigned cpu_stat_nspaces(const struct cpu *c);
/* Space k: its CR3 and instructions at CPL 0..2 (kernel) and 3 (user); false past the end. */
bool cpu_stat_space(const struct cpu *c, unsigned k, uint32_t *cr3, uint64_t *kernel,
                    uint64_t *user);

/* ---- why the cpu stopped ---- */

bool cpu_is_halted(const struct cpu *c);
/* What the guest asked for when cpu_run returned RUN_UNSUPPORTED. */
const struct unsupported *cpu_get_unsupported(const struct cpu *c);
/* The three events of the triple fault when cpu_run returned RUN_SHUTDOWN. */
void cpu_get_shutdown(const struct cpu *c, struct fault out[3]);

#endif
