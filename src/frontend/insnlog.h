/* The instruction log (`--log insn`, `--log insn,regs`): one line per executed instruction,
 * written from the cpu's instruction hook before the instruction runs.
 *
 *   <icount> <CS>:<EIP> <bytes in hex, padded>  <Capstone disassembly>
 *   12 0008:00100010 b8 01 00 00 00           mov eax, 1
 *
 * With registers, a second line shows the state the instruction starts from, as QEMU's `-d cpu`
 * names it:
 *
 *       EAX=00000001 EBX=00009500 ECX=00000000 EDX=00000000 ESI=00000000 EDI=00000000
 *       EBP=00000000 ESP=00007000 EFL=00000046 [---Z-P-]
 *
 * (one line; wrapped here). Bytes that cannot be read (no RAM behind the linear address) are
 * shown as "<unreadable>", bytes Capstone cannot decode as "(bad)".
 * The hook is installed only while logging is on, so a run without --log pays nothing.
 */
#ifndef RINGSIDE_INSNLOG_H
#define RINGSIDE_INSNLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct cpu;
struct insnlog;

#define INSNLOG_MAX_BYTES 15 /* longest x86 instruction */

/* Opens Capstone for 32-bit x86 and logs to out (not closed by insnlog_close).
 * Returns NULL with a one-line reason in err. */
struct insnlog *insnlog_open(FILE *out, bool regs, char *err, size_t errlen);
/* Adds the log as an instruction hook of the cpu (event.h); 0, or -1 when the cpu has no room
 * for another hook. */
int insnlog_attach(struct insnlog *log, struct cpu *c);
/* Removes this log's hook. */
void insnlog_detach(struct insnlog *log, struct cpu *c);
void insnlog_close(struct insnlog *log);

/* Formats one instruction's line(s) into buf (what the hook prints). Returns the length. */
size_t insnlog_format(struct insnlog *log, const struct cpu *c, uint32_t lin_eip, char *buf,
                      size_t len);

#endif
