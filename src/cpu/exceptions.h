/* Exception facts in one table (SDM vol. 3 table 6-1, and tables 6-4/6-5 for the double-fault
 * classes), used by delivery (deliver.c: RF, #DF and shutdown) and by every printer.
 *
 * Error code of the selector faults #TS, #NP, #SS, #GP (SDM vol. 3 6.13):
 *
 *    31          16 15                                3   2   1   0
 *   +--------------+-----------------------------------+---+---+---+
 *   |   reserved   |          selector index           |TI |IDT|EXT|
 *   +--------------+-----------------------------------+---+---+---+
 *
 * EXT: the event was external to the program (an interrupt, or an exception during delivery);
 * IDT: the index names an IDT gate (TI is then ignored); TI: the index is in the LDT.
 */
#ifndef RINGSIDE_EXCEPTIONS_H
#define RINGSIDE_EXCEPTIONS_H

#include <stdbool.h>
#include <stdint.h>

/* Exception vectors (SDM vol. 3 table 6-1). */
enum {
    EXC_DE = 0,   /* divide error */
    EXC_DB = 1,   /* debug */
    EXC_NMI = 2,  /* non-maskable interrupt */
    EXC_BP = 3,   /* breakpoint (INT3) */
    EXC_OF = 4,   /* overflow (INTO) */
    EXC_BR = 5,   /* BOUND range exceeded */
    EXC_UD = 6,   /* invalid opcode */
    EXC_NM = 7,   /* device not available */
    EXC_DF = 8,   /* double fault */
    EXC_CSO = 9,  /* coprocessor segment overrun (reserved since the 486) */
    EXC_TS = 10,  /* invalid TSS */
    EXC_NP = 11,  /* segment not present */
    EXC_SS = 12,  /* stack-segment fault */
    EXC_GP = 13,  /* general protection */
    EXC_PF = 14,  /* page fault */
    EXC_MF = 16,  /* x87 floating-point error */
    EXC_AC = 17,  /* alignment check */
    EXC_MC = 18,  /* machine check */
    EXC_XM = 19,  /* SIMD floating-point */
    EXC_VE = 20,  /* virtualization exception */
    EXC_CP = 21,  /* control protection */
    EXC_COUNT = 32, /* vectors 0..31 are the architecture's; 22..31 and 15 are reserved */
};

#define ERR_EXT 0x1u /* error code: external event */
#define ERR_IDT 0x2u /* error code: the index is an IDT vector */
#define ERR_TI 0x4u  /* error code: the index is in the LDT */

/* Double-fault classes (SDM vol. 3 table 6-4). */
enum exc_class {
    EXC_BENIGN,       /* every other exception, INT n and external interrupts */
    EXC_CONTRIBUTORY, /* #DE #TS #NP #SS #GP #CP */
    EXC_PAGE,         /* #PF #VE */
    EXC_DOUBLE,       /* #DF itself */
};

/* How an exception reports (SDM vol. 3 6.5). */
enum exc_type {
    EXC_FAULT,          /* EIP names the faulting instruction, which can restart */
    EXC_TRAP,           /* EIP names the next instruction */
    EXC_FAULT_OR_TRAP,  /* #DB: by cause (always a trap in Ringside: single step, INT1) */
    EXC_ABORT,          /* no reliable EIP */
    EXC_INTERRUPT,      /* NMI */
    EXC_RESERVED,       /* a reserved vector */
};

struct exception_info {
    uint8_t vector;
    const char *name;      /* "#PF", or NULL for a reserved vector */
    const char *long_name; /* "page fault" */
    uint8_t class_;        /* enum exc_class */
    uint8_t type;          /* enum exc_type */
    bool has_error;        /* pushes an error code */
};

/* The facts of vector v (0..31), NULL beyond. */
const struct exception_info *exception_info(unsigned v);

/* "#PF" for an architectural exception vector, NULL for a reserved one or v >= 32. */
const char *exception_name(unsigned v);

/* The double-fault class an event of vector v has when it is an exception (an external
 * interrupt or INT n is always benign: the caller decides that). */
enum exc_class exception_class(unsigned v);

/* What happens when the second exception occurs while the first is being delivered (SDM
 * vol. 3 table 6-5; a fault while delivering #DF, 6.15 interrupt 8). */
enum exc_combine {
    EXC_SERIAL,   /* the second is delivered as usual (the first is lost) */
    EXC_TO_DF,    /* a double fault is delivered instead */
    EXC_SHUTDOWN, /* triple fault: the processor shuts down */
};
enum exc_combine exception_combine(enum exc_class first, enum exc_class second);

/* Whether delivering vector v as an exception sets RF in the pushed EFLAGS (fault-class
 * exceptions, SDM vol. 3 17.3.1.1; #DB is a trap here). */
bool exception_is_fault(unsigned v);

#endif
