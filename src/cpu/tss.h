/* The 32-bit task-state segment (SDM vol. 3 7.2.1, figure 7-2): byte offsets of its fields.
 *
 *    31                  16 15                   0
 *   +----------------------+----------------------+
 *   | I/O map base         |             reserved|T| 0x64
 *   | reserved             | LDT selector         | 0x60
 *   | reserved             | GS                   | 0x5C
 *   | reserved             | FS                   | 0x58
 *   | reserved             | DS                   | 0x54
 *   | reserved             | SS                   | 0x50
 *   | reserved             | CS                   | 0x4C
 *   | reserved             | ES                   | 0x48
 *   |                     EDI                     | 0x44
 *   |           ESI EBP ESP EBX EDX ECX           | 0x40 .. 0x2C
 *   |                     EAX                     | 0x28
 *   |                    EFLAGS                   | 0x24
 *   |                     EIP                     | 0x20
 *   |                  CR3 (PDBR)                 | 0x1C
 *   | reserved             | SS2                  | 0x18
 *   |                    ESP2                     | 0x14
 *   | reserved             | SS1                  | 0x10
 *   |                    ESP1                     | 0x0C
 *   | reserved             | SS0                  | 0x08
 *   |                    ESP0                     | 0x04
 *   | reserved             | previous task link   | 0x00
 *   +----------------------+----------------------+
 */
#ifndef RINGSIDE_TSS_H
#define RINGSIDE_TSS_H

#define TSS_LINK 0x00u      /* back link: the selector of the previous task (nested tasks) */
#define TSS_ESP0 0x04u      /* stack for CPL 0: ESPn at 0x04 + 8n, SSn at 0x08 + 8n */
#define TSS_SS0 0x08u
#define TSS_STACK_STRIDE 8u /* from one privilege level's ESP/SS pair to the next */
#define TSS_CR3 0x1Cu       /* page directory base, loaded by a task switch with paging on */
#define TSS_EIP 0x20u
#define TSS_EFLAGS 0x24u
#define TSS_GPR 0x28u       /* EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI, 4 bytes each */
#define TSS_SEG 0x48u       /* ES, CS, SS, DS, FS, GS, 4 bytes apart (16-bit selectors) */
#define TSS_LDT 0x60u       /* LDT selector */
#define TSS_IOMAP 0x64u     /* T bit (bit 0) and the I/O map base (bits 16..31) */

#define TSS32_MIN_LIMIT 0x67u /* a 32-bit TSS descriptor's limit must be at least this */
#define TSS32_SAVE_LIMIT 0x5Fu /* the outgoing TSS must hold the fields a switch saves */

/* Offset of ESPn (SSn follows 4 bytes later) for privilege level n. */
static inline unsigned tss_esp_offset(unsigned pl) { return TSS_ESP0 + TSS_STACK_STRIDE * pl; }

#endif
