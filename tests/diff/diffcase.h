/* The records the differential test and its native runner exchange over a pipe.
 *
 * Shared by diff_test.c (64-bit, links the core) and native_runner.c (32-bit, links nothing of
 * Ringside). Both sides run a case the same way: load the registers and EFLAGS, jump to the
 * instruction in the code page, and stop at the first exception. The rest of the code page is
 * HLT (F4), which faults (#GP(0)) at CPL 3, so an instruction that completes stops at the HLT it
 * falls through or jumps to, and the exception frame carries every register, EFLAGS and EIP.
 *
 * The runner reports how the case ended as a program sees it: the signal, its si_code and
 * si_addr, and the registers, EFLAGS and EIP of the signal context. It also copies the context's
 * trap number, error code and CR2, which a Linux kernel on real hardware fills in but an
 * emulator such as qemu-i386 may not (QEMU 7.2 reports trapno -1); diff_test decides which of
 * these fields its oracle reports faithfully (judge.c), never the runner.
 *
 * Protocol (host byte order, both sides on the same machine):
 *   runner -> test   struct diff_hello
 *   test -> runner   the data area's background bytes (hello.data_size)
 *   then repeatedly:
 *   test -> runner   uint32_t n, n x struct diff_case        (n = 0: exit)
 *   runner -> test   n x (struct diff_result, ndiff x struct diff_byte)
 */
#ifndef RINGSIDE_DIFFCASE_H
#define RINGSIDE_DIFFCASE_H

#include <stdint.h>

#define DIFF_MAGIC 0x32445352u /* "RSD2": the version with signal information */

/* Address layouts. The low one puts the data area under 64 KiB so that 16-bit addressing (0x67)
 * and 16-bit IP (0x66 jumps) reach it; it needs vm.mmap_min_addr <= 0x1000. */
#define DIFF_LOW_DATA  0x00008000u
#define DIFF_LOW_CODE  0x0000C000u
#define DIFF_HIGH_DATA 0x00200000u
#define DIFF_HIGH_CODE 0x00300000u
#define DIFF_LOW_RO    0x00006000u /* a read-only page (writes: #PF, P=1 W=1 U=1) */
#define DIFF_HIGH_RO   0x001FE000u
#define DIFF_DATA_SIZE 0x2000u     /* two pages */
#define DIFF_CODE_SIZE 0x2000u     /* two pages: instructions may straddle them */

struct diff_hello {
    uint32_t magic;
    uint32_t data_base, data_size, code_base, code_size, ro_base;
    uint16_t cs, ds, es, fs, gs, ss; /* the runner's selectors */
};

/* The read-only page's contents. */
static inline uint8_t diff_ro_byte(uint32_t k)
{
    return (uint8_t)((k * 0x9Du) ^ (k >> 7) ^ 0x5Au);
}

#define DIFF_CODE_MAX 32
#define DIFF_PATCHES 6
#define DIFF_PATCH_BYTES 12

/* Bytes written over the background at data offset `off` before the case runs. */
struct diff_patch {
    uint16_t off;
    uint8_t len;
    uint8_t pad;
    uint8_t bytes[DIFF_PATCH_BYTES];
};

struct diff_case {
    uint32_t r[8];       /* EAX ECX EDX EBX ESP EBP ESI EDI */
    uint32_t eflags;
    uint16_t code_off;   /* where the instruction starts in the code page */
    uint8_t code_len;
    uint8_t npatch;
    uint8_t code[DIFF_CODE_MAX];
    struct diff_patch patch[DIFF_PATCHES];
};

/* State at the first exception, as the signal handler saw it. */
struct diff_result {
    uint32_t r[8];
    uint32_t eflags;
    uint32_t eip;        /* as pushed: the faulting instruction, or the next one for traps */
    uint32_t vector;     /* the context's trap number (may be meaningless, see above);
                            DIFF_TIMEOUT if the case never stopped */
    uint32_t err;        /* the context's error code */
    uint32_t cr2;        /* the context's CR2 */
    uint32_t siaddr;     /* si_addr */
    int32_t sicode;      /* si_code */
    uint16_t signo;      /* the signal: SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP (0: timeout) */
    uint16_t ds, es, fs, ss;
    uint16_t ndiff;      /* data bytes that changed, listed after the record */
    uint16_t truncated;  /* 1 if more than DIFF_MAX_BYTES changed */
    uint16_t pad;
};

#define DIFF_TIMEOUT 0xFFFFu
#define DIFF_MAX_BYTES DIFF_DATA_SIZE

struct diff_byte {
    uint16_t off;
    uint8_t val;
    uint8_t pad;
};

#endif
