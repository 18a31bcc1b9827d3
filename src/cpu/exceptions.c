/* The exception table (see exceptions.h). */
#include "cpu/exceptions.h"

#include <stddef.h>

#define X(v, n, ln, cl, ty, err) [v] = {v, n, ln, cl, ty, err}

/* SDM vol. 3 table 6-1 (mnemonic, description, type, error code) and table 6-4 (class). */
static const struct exception_info table[EXC_COUNT] = {
    X(0, "#DE", "divide error", EXC_CONTRIBUTORY, EXC_FAULT, false),
    X(1, "#DB", "debug exception", EXC_BENIGN, EXC_FAULT_OR_TRAP, false),
    X(2, "NMI", "non-maskable interrupt", EXC_BENIGN, EXC_INTERRUPT, false),
    X(3, "#BP", "breakpoint", EXC_BENIGN, EXC_TRAP, false),
    X(4, "#OF", "overflow", EXC_BENIGN, EXC_TRAP, false),
    X(5, "#BR", "BOUND range exceeded", EXC_BENIGN, EXC_FAULT, false),
    X(6, "#UD", "invalid opcode", EXC_BENIGN, EXC_FAULT, false),
    X(7, "#NM", "device not available", EXC_BENIGN, EXC_FAULT, false),
    X(8, "#DF", "double fault", EXC_DOUBLE, EXC_ABORT, true),
    X(9, "#CSO", "coprocessor segment overrun", EXC_BENIGN, EXC_FAULT, false),
    X(10, "#TS", "invalid TSS", EXC_CONTRIBUTORY, EXC_FAULT, true),
    X(11, "#NP", "segment not present", EXC_CONTRIBUTORY, EXC_FAULT, true),
    X(12, "#SS", "stack-segment fault", EXC_CONTRIBUTORY, EXC_FAULT, true),
    X(13, "#GP", "general protection", EXC_CONTRIBUTORY, EXC_FAULT, true),
    X(14, "#PF", "page fault", EXC_PAGE, EXC_FAULT, true),
    X(15, NULL, "reserved", EXC_BENIGN, EXC_RESERVED, false),
    X(16, "#MF", "x87 floating-point error", EXC_BENIGN, EXC_FAULT, false),
    X(17, "#AC", "alignment check", EXC_BENIGN, EXC_FAULT, true),
    X(18, "#MC", "machine check", EXC_BENIGN, EXC_ABORT, false),
    X(19, "#XM", "SIMD floating-point exception", EXC_BENIGN, EXC_FAULT, false),
    X(20, "#VE", "virtualization exception", EXC_PAGE, EXC_FAULT, false),
    X(21, "#CP", "control protection exception", EXC_CONTRIBUTORY, EXC_FAULT, true),
    X(22, NULL, "reserved", EXC_BENIGN, EXC_RESERVED, false),
    X(23, NULL, "reserved", EXC_BENIGN, EXC_RESERVED, false),
    X(24, NULL, "reserved", EXC_BENIGN, EXC_RESERVED, false),
    X(25, NULL, "reserved", EXC_BENIGN, EXC_RESERVED, false),
    X(26, NULL, "reserved", EXC_BENIGN, EXC_RESERVED, false),
    X(27, NULL, "reserved", EXC_BENIGN, EXC_RESERVED, false),
    X(28, NULL, "reserved", EXC_BENIGN, EXC_RESERVED, false),
    X(29, NULL, "reserved", EXC_BENIGN, EXC_RESERVED, false),
    X(30, NULL, "reserved", EXC_BENIGN, EXC_RESERVED, false),
    X(31, NULL, "reserved", EXC_BENIGN, EXC_RESERVED, false),
};

#undef X

const struct exception_info *exception_info(unsigned v)
{
    return v < EXC_COUNT ? &table[v] : NULL;
}

const char *exception_name(unsigned v)
{
    return v < EXC_COUNT ? table[v].name : NULL;
}

enum exc_class exception_class(unsigned v)
{
    return v < EXC_COUNT ? (enum exc_class)table[v].class_ : EXC_BENIGN;
}

bool exception_is_fault(unsigned v)
{
    return v < EXC_COUNT && table[v].type == EXC_FAULT;
}

/* SDM vol. 3 table 6-5, with the #DF row from 6.15 (interrupt 8):
 *
 *   first \ second     benign      contributory   page fault
 *   benign             serial      serial         serial
 *   contributory       serial      #DF            serial
 *   page fault         serial      #DF            #DF
 *   double fault       serial      shutdown       shutdown
 */
static const uint8_t combine[4][3] = {
    [EXC_BENIGN] = {EXC_SERIAL, EXC_SERIAL, EXC_SERIAL},
    [EXC_CONTRIBUTORY] = {EXC_SERIAL, EXC_TO_DF, EXC_SERIAL},
    [EXC_PAGE] = {EXC_SERIAL, EXC_TO_DF, EXC_TO_DF},
    [EXC_DOUBLE] = {EXC_SERIAL, EXC_SHUTDOWN, EXC_SHUTDOWN},
};

enum exc_combine exception_combine(enum exc_class first, enum exc_class second)
{
    if (second == EXC_DOUBLE) /* a #DF is never the second event: it is made from two */
        second = EXC_BENIGN;
    return (enum exc_combine)combine[first][second];
}
