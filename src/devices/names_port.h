/* The names port: how a guest kernel tells Ringside what its address spaces and system calls
 * are called (docs/names-port.md), in the spirit of Bochs's port 0xE9 and QEMU's
 * isa-debug-exit. Writes only describe the guest; they never change what it does.
 *
 *   port    size  dir    meaning
 *   0x700   4     out    CR3: the page directory's physical address (for NAMES_SPACE)
 *   0x704   4     out    ID: the pid (NAMES_SPACE), system-call number (NAMES_SYSCALL) or
 *                        interrupt vector (NAMES_SYSCALL_VECTOR)
 *   0x708   1     out    the next byte of the name (up to NAMES_LEN - 1 bytes are kept)
 *   0x709   1     out    a command: NAMES_RESET, NAMES_SPACE, NAMES_SYSCALL,
 *                        NAMES_SYSCALL_VECTOR; the name is empty again after each
 *   0x70A   2     in     NAMES_SIGNATURE ("RS"), so a kernel knows it runs on Ringside
 *                        (elsewhere an unclaimed port reads 0xFFFF)
 *
 * The machine keeps names as printable ASCII (machine/spaces.c): any other byte becomes '?',
 * so a guest cannot send terminal control sequences into a log.
 */
#ifndef RINGSIDE_NAMES_PORT_H
#define RINGSIDE_NAMES_PORT_H

#include <stdint.h>

struct bus;

#define NAMES_IOBASE 0x700u
#define NAMES_IOSIZE 12u       /* ports 0x700..0x70B */
#define NAMES_PORT_CR3 0x700u
#define NAMES_PORT_ID 0x704u
#define NAMES_PORT_CHAR 0x708u
#define NAMES_PORT_CMD 0x709u
#define NAMES_PORT_SIG 0x70Au
#define NAMES_SIGNATURE 0x5352u /* 'R' at 0x70A, 'S' at 0x70B */
#define NAMES_LEN 32u           /* a name's bytes with its NUL */

enum names_cmd {
    NAMES_RESET = 0,          /* forget the name bytes written so far */
    NAMES_SPACE = 1,          /* "the space with page directory CR3 is pid ID, name NAME" */
    NAMES_SYSCALL = 2,        /* "system call ID is NAME" */
    NAMES_SYSCALL_VECTOR = 3, /* "INT ID is the system-call gate" (the name is ignored) */
};

/* What a command announced. */
struct names_said {
    uint8_t cmd;              /* enum names_cmd: NAMES_SPACE, NAMES_SYSCALL or NAMES_SYSCALL_VECTOR */
    uint32_t cr3, id;
    char name[NAMES_LEN];     /* NUL-terminated, the bytes as written */
};

typedef void (*names_fn)(void *ctx, const struct names_said *said);

struct names_port {
    /* State. */
    uint32_t cr3, id;
    uint8_t len;
    char name[NAMES_LEN];
    /* Wiring. */
    names_fn said;            /* told of each command (NULL: nobody listens) */
    void *ctx;
};

/* Claims NAMES_IOBASE..+NAMES_IOSIZE-1. Returns 0, or -1 if the ports are taken. */
int names_port_attach(struct names_port *n, struct bus *b, names_fn said, void *ctx);

#endif
