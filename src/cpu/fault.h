/* What made a fault, as data: carried by value with the fault while it is delivered and in the
 * trace event that reports it, and put into words only when someone reads it (src/trace/
 * describe.c). Nothing here is formatted on the cpu's path.
 *
 *   #PF                      the page walk (mmu/pagetable.h: every entry, the refusing level,
 *                            the reason, the access)
 *   #GP #TS #NP #SS          the selector (or IDT vector), its table, what it was for, the
 *                            check that failed and the privilege levels and limits it compared
 *   #GP(0) of an instruction the rule it broke (a port the I/O bitmap denies, CPL > IOPL, a
 *                            bad CR0/CR4 value, an unknown MSR, more than 15 bytes): one code
 *                            and a value, filled only when the fault is raised
 */
#ifndef RINGSIDE_FAULT_H
#define RINGSIDE_FAULT_H

#include <stdint.h>

#include "mmu/pagetable.h"

enum fault_detail_kind {
    FD_NONE,     /* nothing more is known than the vector and error code */
    FD_PAGE,     /* u.page: a refused page walk */
    FD_SELECTOR, /* u.sel: a selector, descriptor, gate or segment check */
    FD_RULE,     /* u.rule: an instruction's own check (#GP(0) without a selector) */
};

/* The rule an instruction broke (FD_RULE). */
enum rule_reason {
    RR_NONE,
    RR_IOPL,          /* CLI or STI at CPL > IOPL */
    RR_IO_NO_BITMAP,  /* IN/OUT at CPL > IOPL, and TR holds no 32-bit TSS with a bitmap */
    RR_IO_BEYOND_TSS, /* IN/OUT at CPL > IOPL, the port's bitmap bytes beyond the TSS limit */
    RR_IO_DENIED,     /* IN/OUT at CPL > IOPL, the port's bit set in the TSS I/O bitmap */
    RR_CR0_BITS,      /* MOV CR0 with PG=1 and PE=0, or NW=1 and CD=0 (value: the value) */
    RR_CR0_REAL,      /* MOV CR0 with PE=0: real mode is outside the subset */
    RR_CR4_BITS,      /* MOV CR4 with a bit Ringside does not implement (value) */
    RR_MSR,           /* RDMSR/WRMSR of an MSR Ringside does not implement (value: ECX) */
    RR_TOO_LONG,      /* an instruction longer than 15 bytes */
    RR_RDPMC_PCE,     /* RDPMC at CPL > 0 with CR4.PCE = 0 (value: ECX) */
    RR_RDPMC_COUNTER, /* RDPMC of a counter the cpu does not have (value: ECX): it has none */
};

struct rule_fault {
    uint8_t reason;   /* enum rule_reason */
    uint8_t cpl;      /* the CPL and IOPL when the rule was checked */
    uint8_t iopl;
    uint8_t size;     /* IN/OUT: the access size in bytes */
    uint32_t value;   /* IN/OUT: the port; CR0/CR4: the value written; MSR: its number */
};

/* Which table a selector indexes. */
enum sel_table {
    ST_NONE, /* no table: a null selector, or a check on a loaded segment */
    ST_GDT,
    ST_LDT,
    ST_IDT,  /* sel is the vector */
};

/* What the selector (or segment) was being used for: says what was wanted of it. */
enum sel_use {
    SU_NONE,
    SU_SEGREG,     /* MOV/POP/LDS.. into a segment register (seg says which) */
    SU_SEGMENT,    /* an access through a loaded segment register (seg says which) */
    SU_IDT,        /* an IDT gate (delivery of an exception, interrupt or INT n) */
    SU_HANDLER_CS, /* the code segment an interrupt or trap gate names */
    SU_FAR,        /* the operand of a far JMP or CALL */
    SU_GATE_CS,    /* the code segment a call gate names, or a far JMP/CALL's code segment */
    SU_TARGET,     /* the offset a far transfer or delivery goes to (checked against CS) */
    SU_RET_CS,     /* the CS popped by RETF or IRET */
    SU_RET_SS,     /* the SS popped by a return to an outer level */
    SU_TSS_STACK,  /* the inner stack (SSn:ESPn) in the current TSS */
    SU_STACK,      /* room on the stack for a frame (delivery, call gate) */
    SU_LLDT,       /* LLDT's operand */
    SU_LTR,        /* LTR's operand */
    SU_TASK,       /* the TSS a task switch goes to (far JMP/CALL, task gate) */
    SU_TASK_BACK,  /* the TSS IRET returns to (the back link) */
    SU_CUR_TSS,    /* the current task's TSS (TR) */
    SU_TASK_LDT,   /* the new task's LDT selector */
    SU_TASK_SEG,   /* a segment register of the new task (seg says which) */
    SU_SYSENTER,   /* IA32_SYSENTER_CS (SYSENTER, SYSEXIT) */
    SU_INSN,       /* the instruction itself (privileged) */
};

/* The check that failed. */
enum sel_reason {
    SR_NONE,
    SR_NULL,             /* a null selector where a segment is required */
    SR_BEYOND_LIMIT,     /* the index lies beyond the table's limit (limit = the table's) */
    SR_NO_LDT,           /* TI = 1 but no LDT is loaded */
    SR_NOT_GDT,          /* TI = 1 where only the GDT may be used (LLDT, LTR, TSS, task LDT) */
    SR_TYPE,             /* the descriptor's type is not what the use wants */
    SR_NOT_PRESENT,      /* P = 0 */
    SR_GATE_DPL,         /* INT n: the gate's DPL < CPL */
    SR_DPL_LT_PRIV,      /* DPL < max(CPL, RPL): data segment, call/task gate, TSS */
    SR_RPL_NE_CPL,       /* RPL != CPL (SS) */
    SR_DPL_NE_CPL,       /* DPL != CPL (SS; non-conforming code reached directly or by JMP) */
    SR_RPL_GT_CPL,       /* RPL > CPL (non-conforming code reached directly) */
    SR_DPL_GT_CPL,       /* DPL > CPL (conforming code; any code reached through a gate) */
    SR_RPL_LT_CPL,       /* RPL < CPL: a return to a more privileged level */
    SR_DPL_GT_RPL,       /* DPL > RPL (conforming code returned to; conforming task CS) */
    SR_DPL_NE_RPL,       /* DPL != RPL (non-conforming code returned to; task CS) */
    SR_OFFSET_LIMIT,     /* offset beyond the segment's limit (offset, limit) */
    SR_TSS_LIMIT,        /* the TSS is too small for what is read or saved (offset, limit) */
    SR_SEG_UNUSABLE,     /* the segment register holds a null selector */
    SR_SEG_NOT_WRITABLE, /* a write through a read-only data or a code segment */
    SR_SEG_NOT_READABLE, /* a read through an execute-only code segment */
    SR_PRIVILEGED,       /* a privileged instruction at CPL > 0 */
    SR_REAL_MODE,        /* CR0.PE = 0: real mode is outside the subset */
};

#define SF_NO_TYPE 0xFFu /* sel_fault.type when no descriptor was read */
#define SF_NO_SEG 0xFFu  /* sel_fault.seg when no segment register is concerned */

struct sel_fault {
    uint8_t reason;  /* enum sel_reason */
    uint8_t use;     /* enum sel_use */
    uint8_t table;   /* enum sel_table */
    uint8_t seg;     /* SEG_ES..SEG_GS for SU_SEGREG/SU_SEGMENT/SU_TASK_SEG, else SF_NO_SEG */
    uint16_t sel;    /* the selector, or the vector for ST_IDT */
    uint8_t type;    /* the descriptor's S bit and type (S << 4 | type), or SF_NO_TYPE */
    uint8_t cpl;     /* the privilege levels the check compared */
    uint8_t rpl;
    uint8_t dpl;
    uint32_t limit;  /* the limit checked against (table, segment or TSS limit) */
    uint32_t offset; /* the offset (or last byte) checked against it */
};

struct fault_detail {
    uint8_t kind; /* enum fault_detail_kind */
    union {
        struct walk page;     /* FD_PAGE */
        struct sel_fault sel; /* FD_SELECTOR */
        struct rule_fault rule; /* FD_RULE */
    } u;
};

#endif
