/* The guest's debug registers (SDM vol. 3 17.2, 17.3): DR0..DR3 breakpoint addresses, DR6
 * status, DR7 control, and the #DB they raise.
 *
 * DR7 (control):
 *
 *   31 30 29 28 27 26 25 24 23 22 21 20 19 18 17 16 15 14 13 12 11 10  9  8  7 ... 0
 *  | LEN3| R/W3| LEN2| R/W2| LEN1| R/W1| LEN0| R/W0| 0  0 |GD| 0  0| 1 |GE|LE| G3 L3 .. G0 L0
 *
 *   Ln/Gn   breakpoint n enabled (local / global: the same here, no task switch clears Ln)
 *   R/Wn    00 instruction execution, 01 data writes, 11 data reads or writes,
 *           10 I/O reads or writes with CR4.DE = 1: DRn holds the port (undefined with
 *           CR4.DE = 0: never matches here)
 *   LENn    00 1 byte, 01 2 bytes, 11 4 bytes, 10 8 bytes; the range is DRn rounded down to
 *           LEN (an instruction breakpoint must have LEN 00; otherwise it never matches)
 *   GD      general detect: a MOV to or from any DR raises #DB (fault, DR6.BD) first; GD is
 *           cleared when that #DB is delivered
 *
 * DR6 (status): B0..B3 (bits 0..3) the breakpoints that matched (set for enabled ones only),
 * BD (13) general detect, BS (14) single step; bits 4..11 and 16..31 read 1, bit 12 reads 0.
 * A #DB rewrites B0..B3; BD/BS stay until software clears them.
 *
 * When each breakpoint fires:
 *
 *   kind          class  when                          EIP pushed       RF pushed
 *   instruction   fault  before the instruction, if    the instruction  as it was (0)
 *                        EFLAGS.RF = 0
 *   data          trap   after the instruction (after  the next one     as it is (0), or 1
 *                        the REP iteration) that                        after an iteration
 *                        accessed the range                             that is not the last
 *   general       fault  before MOV DRn               the MOV           1
 *   detect
 *   I/O           trap   after the IN, OUT, INS or     the next one     as it is (0), or 1
 *                        OUTS whose ports overlap the                   after a REP's first
 *                        range (REP INS/OUTS: after                     iteration that is not
 *                        its first iteration)                           the last
 *
 * With CR4.DE = 1, MOV to or from DR4 or DR5 raises #UD; with CR4.DE = 0 they are DR6 and DR7.
 *
 * A data breakpoint hit by MOV SS or POP SS is held until after the next instruction, as
 * interrupts are (the SDM's MOV SS shadow), and reported with that instruction's hits.
 * Data matching sees every linear access an instruction makes (explicit operands, stack,
 * descriptor tables), not instruction fetches and not page walks.
 *
 * Cost: pages holding an enabled data breakpoint lose their TLB read/write bits, so accesses
 * there take the slow path; with an instruction breakpoint enabled the cpu runs one
 * instruction at a time. With DR7 clear nothing is slower.
 */
#ifndef RINGSIDE_DEBUG_H
#define RINGSIDE_DEBUG_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/cpu.h"

#define DR6_B(n)   (1u << (n))
#define DR6_BD     0x00002000u
#define DR6_BS     0x00004000u
#define DR6_FIXED1 0xFFFF0FF0u   /* bits that read 1 */
#define DR6_WRITABLE (0xFu | DR6_BD | DR6_BS | 0x8000u) /* B0..B3, BD, BS, BT */
#define DR7_GD     0x00002000u
#define DR7_FIXED1 0x00000400u
#define DR7_WRITABLE 0xFFFF23FFu /* L/G, LE/GE, GD, R/W and LEN fields */

/* After a write to DR0..DR3 or DR7: recomputes which breakpoints are enabled and drops the
 * TLB (pages with data breakpoints must take the slow path). */
void dbg_update(struct cpu *c);

/* Masks a value written to DR6 / DR7 as the register holds it. */
uint32_t dbg_fix_dr6(uint32_t v);
uint32_t dbg_fix_dr7(uint32_t v);

/* Whether the linear page of lin holds an enabled data breakpoint (the TLB gives it no
 * read/write bits). */
bool dbg_page_watched(const struct cpu *c, uint32_t lin);

/* A data access [lin, lin+size): records matching breakpoints in c->dbg_hit and ends the
 * block after this instruction. */
void dbg_data_access(struct cpu *c, uint32_t lin, unsigned size, bool write);

/* A port access [port, port+size) by IN, OUT, INS or OUTS: records matching I/O breakpoints
 * in c->dbg_hit and ends the block after this instruction (or REP iteration). */
void dbg_io_access(struct cpu *c, uint16_t port, unsigned size);

/* Before an instruction at CS:EIP with instruction breakpoints enabled: if one matches and RF
 * is clear, delivers the #DB fault and returns true (the instruction does not run). */
bool dbg_exec_check(struct cpu *c);

/* After an instruction: if data breakpoints matched (and no MOV SS shadow holds them), sets
 * DR6 (and BS when bs) and delivers the #DB trap; returns whether it did. */
bool dbg_trap(struct cpu *c, bool bs);

/* MOV to or from a debug register with DR7.GD set: #DB (fault) with DR6.BD. */
void dbg_general_detect(struct cpu *c);

#endif
