/* What counts as the same result, for each oracle.
 *
 * Real hardware (a Linux kernel that runs i386 programs natively) reports everything the
 * exception frame holds: the signal context carries the trap number, the error code, CR2 and
 * EFLAGS with RF as the CPU pushed them. The comparison is then exact: vector, error code, CR2
 * of a #PF, EIP, registers, EFLAGS (but for the bits the SDM leaves undefined for the
 * instruction), the data segment selectors and every byte of the data area.
 *
 * qemu-i386 (QEMU's user mode) emulates a Linux process, not the exception frame: it reports
 * the signal Linux would send (number, si_code, si_addr) with the registers, EIP, EFLAGS and
 * error code, but no trap number (-1) and never RF. With it the vector is judged through its
 * signal (linux_signal() maps Ringside's exception the way arch/x86/kernel/traps.c does), RF
 * is not compared, and the rest is compared as on hardware.
 *
 * Some case classes an oracle cannot judge at all; they are listed in `exclusions` with the
 * reason, decided from the case and Ringside's result only (never from the oracle's answer, so
 * an exclusion cannot hide a Ringside bug elsewhere), and counted by name in every report.
 */
#include <string.h>

#include "cpu/cpu.h"
#include "cpu/insn.h"
#include "diff.h"

/* Linux's signal numbers and si_codes (the same on i386 and x86-64, include/uapi). */
enum {
    L_SIGILL = 4, L_SIGTRAP = 5, L_SIGBUS = 7, L_SIGFPE = 8, L_SIGSEGV = 11,
};
enum {
    L_SI_KERNEL = 0x80, L_SEGV_MAPERR = 1, L_SEGV_ACCERR = 2, L_ILL_ILLOPN = 2,
    L_FPE_INTDIV = 1, L_BUS_ADRALN = 1, L_TRAP_BRKPT = 1,
};

const char *oracle_kind_name(enum oracle_kind k)
{
    return k == ORACLE_HARDWARE ? "hardware" : k == ORACLE_QEMU ? "qemu-i386" : "?";
}

int oracle_kind_parse(const char *s, enum oracle_kind *k)
{
    for (int i = 0; i < ORACLE_KINDS; i++)
        if (strcmp(s, oracle_kind_name((enum oracle_kind)i)) == 0) {
            *k = (enum oracle_kind)i;
            return 0;
        }
    return -1;
}

void linux_signal(uint32_t vector, uint32_t err, uint32_t cr2, uint32_t eip, uint16_t *signo,
                  int32_t *sicode, uint32_t *siaddr)
{
    *siaddr = 0;
    *sicode = L_SI_KERNEL;
    switch (vector) {
    case EXC_DE: /* exc_divide_error: SIGFPE, FPE_INTDIV at the instruction */
        *signo = L_SIGFPE, *sicode = L_FPE_INTDIV, *siaddr = eip;
        break;
    case EXC_DB: /* exc_debug_user: SIGTRAP at the next instruction */
        *signo = L_SIGTRAP, *sicode = L_TRAP_BRKPT, *siaddr = eip;
        break;
    case EXC_BP: /* do_int3_user: SIGTRAP, SI_KERNEL */
        *signo = L_SIGTRAP;
        break;
    case EXC_OF: case EXC_BR: case EXC_TS: case EXC_GP: /* do_trap / do_error_trap: SIGSEGV */
        *signo = L_SIGSEGV;
        break;
    case EXC_UD: /* exc_invalid_op: SIGILL, ILL_ILLOPN at the instruction */
        *signo = L_SIGILL, *sicode = L_ILL_ILLOPN, *siaddr = eip;
        break;
    case EXC_NP: case EXC_SS: /* do_error_trap: SIGBUS */
        *signo = L_SIGBUS;
        break;
    case EXC_PF: /* bad_area: SIGSEGV at CR2, MAPERR when not present, else ACCERR */
        *signo = L_SIGSEGV, *sicode = (err & 1) ? L_SEGV_ACCERR : L_SEGV_MAPERR, *siaddr = cr2;
        break;
    case EXC_AC: /* exc_alignment_check: SIGBUS, BUS_ADRALN */
        *signo = L_SIGBUS, *sicode = L_BUS_ADRALN;
        break;
    default:
        *signo = 0, *sicode = 0;
        break;
    }
}

#define ERR_PF_W 0x2u /* #PF error code: write access */
#define ERR_PF_U 0x4u /* #PF error code: user-mode access */

static int has_error_code(uint32_t v)
{
    return v == 8 || (v >= 10 && v <= 14) || v == 17;
}

/* ---- exclusions ---- */

/* The instruction's prefixes and opcode (the first byte that is not a prefix). */
struct decoded {
    unsigned npfx;
    uint8_t seg;   /* last segment override prefix, 0 if none */
    int o16;       /* 0x66 */
    uint8_t op;    /* opcode byte (0 if the case has none) */
    const uint8_t *rest; /* the bytes after the opcode */
    unsigned nrest;
};

static struct decoded decode_prefixes(const struct tcase *tc)
{
    struct decoded d = {0};
    for (unsigned k = 0; k < tc->in.code_len; k++) {
        uint8_t b = tc->in.code[k];
        switch (b) {
        case 0x26: case 0x2E: case 0x36: case 0x3E: case 0x64: case 0x65:
            d.seg = b;
            continue;
        case 0x66:
            d.o16 = 1;
            continue;
        case 0x67: case 0xF0: case 0xF2: case 0xF3:
            continue;
        }
        d.npfx = k;
        d.op = b;
        d.rest = tc->in.code + k + 1;
        d.nrest = tc->in.code_len - k - 1;
        break;
    }
    return d;
}

/* A 32-bit value the case planted in the data area at linear address a (0 if none). */
static uint32_t planted32(const struct layout *L, const struct tcase *tc, uint32_t a)
{
    uint32_t v = 0;
    for (unsigned k = 0; k < 4; k++) {
        uint32_t off = a + k - L->data;
        for (unsigned p = 0; p < tc->in.npatch; p++) {
            const struct diff_patch *pt = &tc->in.patch[p];
            if (off >= pt->off && off < (uint32_t)pt->off + pt->len)
                v |= (uint32_t)pt->bytes[off - pt->off] << (8 * k);
        }
    }
    return v;
}

/* The runner's selector for a segment override prefix. */
static uint16_t override_sel(const struct layout *L, uint8_t prefix)
{
    switch (prefix) {
    case 0x26: return L->es;
    case 0x2E: return L->cs;
    case 0x36: return L->ss;
    case 0x3E: return L->ds;
    case 0x64: return L->fs;
    default: return L->gs;
    }
}

/* Whether the runner's process can read [a, a + n): the data area, the code pages or the
 * read-only page. */
static int readable(const struct layout *L, uint32_t a, uint32_t n)
{
    return a - L->data <= L->dsize - n || a - L->code <= DIFF_CODE_SIZE - n ||
           a - L->ro <= 0x1000 - n;
}

/* r is NULL when the question is asked before the case runs (the oracle may not even be
 * given the case). */
static int ex_alignment(const struct layout *L, const struct tcase *tc,
                        const struct diff_result *r)
{
    (void)L, (void)tc;
    return r && r->vector == EXC_AC;
}

static int ex_icebp(const struct layout *L, const struct tcase *tc, const struct diff_result *r)
{
    (void)L, (void)r;
    return decode_prefixes(tc).op == 0xF1;
}

static int ex_test_alias(const struct layout *L, const struct tcase *tc,
                         const struct diff_result *r)
{
    (void)L, (void)r;
    struct decoded d = decode_prefixes(tc);
    return (d.op == 0xF6 || d.op == 0xF7) && d.nrest && ((d.rest[0] >> 3) & 7) == 1;
}

/* Ringside's #GP(0) on the instruction itself. */
static int own_gp0(const struct layout *L, const struct tcase *tc, const struct diff_result *r)
{
    return r && r->vector == EXC_GP && r->err == 0 && r->eip == L->code + tc->in.code_off;
}

/* An access through a null selector (the runner's FS) or a write through CS: #GP(0). */
static int ex_segment_checks(const struct layout *L, const struct tcase *tc,
                             const struct diff_result *r)
{
    struct decoded d = decode_prefixes(tc);
    return d.seg && (d.seg == 0x2E || (override_sel(L, d.seg) & 0xFFFC) == 0) &&
           own_gp0(L, tc, r);
}

/* Instructions that take a memory operand and write it back (ModRM forms). */
static int is_rmw(const struct decoded *d)
{
    if (!d->nrest)
        return 0;
    unsigned op = d->op, m = d->rest[0], ext = (m >> 3) & 7;
    if (op == 0x0F && d->nrest >= 2) {
        unsigned op2 = d->rest[0];
        ext = (d->rest[1] >> 3) & 7;
        return op2 == 0xA4 || op2 == 0xA5 || op2 == 0xAC || op2 == 0xAD || op2 == 0xAB ||
               op2 == 0xB3 || op2 == 0xBB || (op2 == 0xBA && ext >= 5) || op2 == 0xB0 ||
               op2 == 0xB1 || op2 == 0xC0 || op2 == 0xC1 || (op2 == 0xC7 && ext == 1);
    }
    if (op < 0x40 && (op & 7) < 2 && (op & 0x38) != 0x38) /* ALU E,G but CMP */
        return 1;
    if (op >= 0x80 && op <= 0x83)
        return ext != 7;
    if (op == 0x86 || op == 0x87 || op == 0xC0 || op == 0xC1 || (op >= 0xD0 && op <= 0xD3))
        return 1;
    if (op == 0xF6 || op == 0xF7)
        return ext == 2 || ext == 3;
    if (op == 0xFE || op == 0xFF)
        return ext <= 1;
    return 0;
}

/* A read-modify-write instruction whose #PF Ringside reports as a write (W = 1). */
static int ex_rmw_pf(const struct layout *L, const struct tcase *tc,
                     const struct diff_result *r)
{
    (void)L;
    struct decoded d = decode_prefixes(tc);
    return r && r->vector == EXC_PF && (r->err & ERR_PF_W) && is_rmw(&d);
}

/* PUSH ES/CS/SS/DS/FS/GS with a 32-bit operand size. */
static int ex_push_sreg(const struct layout *L, const struct tcase *tc,
                        const struct diff_result *r)
{
    (void)L, (void)r;
    struct decoded d = decode_prefixes(tc);
    int push = d.op == 0x06 || d.op == 0x0E || d.op == 0x16 || d.op == 0x1E ||
               (d.op == 0x0F && d.nrest && (d.rest[0] == 0xA0 || d.rest[0] == 0xA8));
    return push && !d.o16;
}

/* BSWAP with a 16-bit operand size. */
static int ex_bswap16(const struct layout *L, const struct tcase *tc,
                      const struct diff_result *r)
{
    (void)L, (void)r;
    struct decoded d = decode_prefixes(tc);
    return d.op == 0x0F && d.nrest && (d.rest[0] & 0xF8) == 0xC8 && d.o16;
}

/* ENTER faulting at the bottom of its new frame. */
static int ex_enter_probe(const struct layout *L, const struct tcase *tc,
                          const struct diff_result *r)
{
    (void)L;
    struct decoded d = decode_prefixes(tc);
    if (d.op != 0xC8 || d.nrest < 3 || !r || r->vector != EXC_PF)
        return 0;
    uint32_t s = d.o16 ? 2 : 4, size = d.rest[0] | d.rest[1] << 8, level = d.rest[2] & 31;
    uint32_t bottom = tc->in.r[ESP] - s * (level ? level + 1 : 1) - size;
    return r->cr2 - bottom < s;
}

/* LOCK before an instruction that cannot take it: #UD. */
static int ex_lock_ud(const struct layout *L, const struct tcase *tc,
                      const struct diff_result *r)
{
    (void)L;
    return r && r->vector == EXC_UD && memchr(tc->in.code, 0xF0, tc->in.code_len) &&
           r->eip == L->code + tc->in.code_off;
}

/* FEMMS (0F 0E), AMD's 3DNow!. */
static int ex_femms(const struct layout *L, const struct tcase *tc,
                    const struct diff_result *r)
{
    (void)L, (void)r;
    struct decoded d = decode_prefixes(tc);
    return d.op == 0x0F && d.nrest && d.rest[0] == 0x0E;
}

/* REP/REPNE CMPS or SCAS stopped by a #PF part way through. */
static int ex_rep_cmps_pf(const struct layout *L, const struct tcase *tc,
                          const struct diff_result *r)
{
    (void)L;
    struct decoded d = decode_prefixes(tc);
    int rep = memchr(tc->in.code, 0xF2, d.npfx) || memchr(tc->in.code, 0xF3, d.npfx);
    return rep && r && r->vector == EXC_PF &&
           (d.op == 0xA6 || d.op == 0xA7 || d.op == 0xAE || d.op == 0xAF);
}

/* PUSHA faulting part way through its eight stores. */
static int ex_pusha_pf(const struct layout *L, const struct tcase *tc,
                       const struct diff_result *r)
{
    (void)L;
    return r && r->vector == EXC_PF && decode_prefixes(tc).op == 0x60;
}

/* IRET at CPL 3 with VM set in the EFLAGS image (which the CPU ignores there). */
static int ex_iret_vm(const struct layout *L, const struct tcase *tc,
                      const struct diff_result *r)
{
    (void)r;
    struct decoded d = decode_prefixes(tc);
    return d.op == 0xCF && !d.o16 &&
           (planted32(L, tc, tc->in.r[ESP] + 8) & FL_VM);
}

/* RET imm16 or RETF imm16 whose new ESP is in another 64 KiB than the frame's end. */
static int ex_ret_imm_esp(const struct layout *L, const struct tcase *tc,
                          const struct diff_result *r)
{
    (void)L, (void)r;
    struct decoded d = decode_prefixes(tc);
    if ((d.op != 0xCA && d.op != 0xC2) || d.nrest < 2)
        return 0;
    uint32_t popped = tc->in.r[ESP] + (d.o16 ? 2 : 4) * (d.op == 0xCA ? 2 : 1);
    uint32_t esp = popped + (uint32_t)(d.rest[0] | d.rest[1] << 8);
    return (esp >> 16) != (popped >> 16);
}

/* A far return (RETF, RETF imm16, IRET) whose frame is not all readable. */
static int ex_far_return_frame(const struct layout *L, const struct tcase *tc,
                               const struct diff_result *r)
{
    (void)r;
    struct decoded d = decode_prefixes(tc);
    if (d.op != 0xCA && d.op != 0xCB && d.op != 0xCF)
        return 0;
    uint32_t s = d.o16 ? 2 : 4;
    return !readable(L, tc->in.r[ESP], (d.op == 0xCF ? 3 : 2) * s);
}

/* IDIV (F7 /7) of the most negative 32- or 16-bit dividend. */
static int ex_idiv_min(const struct layout *L, const struct tcase *tc,
                       const struct diff_result *r)
{
    (void)L, (void)r;
    struct decoded d = decode_prefixes(tc);
    if (d.op != 0xF7 || !d.nrest || ((d.rest[0] >> 3) & 7) != 7)
        return 0;
    const uint32_t *x = tc->in.r;
    if (d.o16)
        return (x[EDX] & 0xFFFF) == 0x8000 && (x[EAX] & 0xFFFF) == 0;
    return x[EDX] == 0x80000000u && x[EAX] == 0;
}

/* Decodes 16 bytes with Ringside's decoder in 32-bit code (built once: this program is
 * single-threaded). Returns the length, 0 if the bytes end inside the instruction. */
static unsigned decoder_ready(struct insn *i, const uint8_t bytes[16])
{
    static struct decode_map map;
    static int ready;
    if (!ready) {
        decode_map_init(&map);
        ready = 1;
    }
    return decode_insn(&map, bytes, 16, 1, i);
}

/* The effective address of the case's memory operand, as Ringside decodes it (segment bases
 * are 0 in the runner); 0 when it has none. */
static int operand_address(const struct tcase *tc, uint32_t *ea)
{
    struct insn i;
    if (!decoder_ready(&i, tc->in.code) || i.modreg)
        return 0;
    const uint32_t *r = tc->in.r;
    uint32_t a = i.disp + (i.base < NOREG ? r[i.base] : 0) +
                 (i.index < NOREG ? r[i.index] << i.scale : 0);
    *ea = i.asize == 2 ? a & 0xFFFF : a;
    return 1;
}

/* ARPL with a memory destination that it leaves as it is (ZF = 0). */
static int ex_arpl_write(const struct layout *L, const struct tcase *tc,
                         const struct diff_result *r)
{
    (void)L;
    struct decoded d = decode_prefixes(tc);
    return r && d.op == 0x63 && d.nrest && (d.rest[0] >> 6) != 3 && !(r->eflags & FL_ZF);
}

/* POP DS/ES/SS/FS/GS with a 32-bit operand size from a slot whose upper half is unreadable. */
static int ex_pop_sreg(const struct layout *L, const struct tcase *tc,
                       const struct diff_result *r)
{
    (void)r;
    struct decoded d = decode_prefixes(tc);
    int pop = d.op == 0x07 || d.op == 0x17 || d.op == 0x1F ||
              (d.op == 0x0F && d.nrest && (d.rest[0] == 0xA1 || d.rest[0] == 0xA9));
    return pop && !d.o16 && !readable(L, tc->in.r[ESP], 4);
}

/* POPA from a frame that is not all readable. */
static int ex_popa_frame(const struct layout *L, const struct tcase *tc,
                         const struct diff_result *r)
{
    (void)r;
    struct decoded d = decode_prefixes(tc);
    return d.op == 0x61 && !readable(L, tc->in.r[ESP], d.o16 ? 16 : 32);
}

/* BOUND raising #BR on the lower bound while the upper one is unreadable. */
static int ex_bound_upper(const struct layout *L, const struct tcase *tc,
                          const struct diff_result *r)
{
    struct decoded d = decode_prefixes(tc);
    uint32_t ea;
    return r && r->vector == EXC_BR && d.op == 0x62 && operand_address(tc, &ea) &&
           !readable(L, ea, d.o16 ? 4 : 8);
}

/* An instruction that faults by its encoding at CPL 3 (#UD, longer than 15 bytes, privileged
 * or IOPL-sensitive, as Ringside decodes it) and whose bytes run to the end of the code pages. */
static int ex_encoding_fetch(const struct layout *L, const struct tcase *tc,
                             const struct diff_result *r)
{
    (void)L, (void)r;
    if (tc->in.code_off + tc->in.code_len < DIFF_CODE_SIZE)
        return 0;
    uint8_t bytes[16] = {0}; /* what follows is unknown: zeros decode to the shortest form */
    memcpy(bytes, tc->in.code, tc->in.code_len < 16 ? tc->in.code_len : 16);
    struct insn i;
    if (!decoder_ready(&i, bytes))
        return 0;
    if (i.id == 0 || i.fn == op_toolong || i.fn == op_ud ||
        (opcode_table[i.id].flags & (F_PRIV | F_IOPL)))
        return 1;
    /* MOV Sreg, r/m to CS, or either MOV with a register number beyond GS: #UD */
    return (i.fn == op_mov_SE && (i.reg == SEG_CS || i.reg >= SEG_COUNT)) ||
           (i.fn == op_mov_ES && i.reg >= SEG_COUNT);
}

struct exclusion {
    const char *name;
    const char *reason;
    unsigned oracles; /* 1 << enum oracle_kind */
    int before_run;   /* decided from the case alone: the oracle is not given the case */
    int (*applies)(const struct layout *L, const struct tcase *tc, const struct diff_result *r);
};

#define QEMU (1u << ORACLE_QEMU)
static const struct exclusion exclusions[] = {
    {"iret-vm", "QEMU 7.2's user mode takes an IRET at CPL 3 whose EFLAGS image has VM set as "
     "a return to virtual-8086 mode (the CPU ignores VM there) and crashes", QEMU, 1, ex_iret_vm},
    {"idiv-min", "QEMU 7.2 divides with the host's IDIV, which traps inside QEMU (it dies) for "
     "the most negative dividend divided by -1", QEMU, 1, ex_idiv_min},
    {"alignment-check", "QEMU's user mode does not implement alignment checking: with "
     "EFLAGS.AC set a misaligned access completes instead of raising #AC", QEMU, 0, ex_alignment},
    {"icebp", "QEMU 7.2's user mode reports INT1 (F1) as SIGILL instead of #DB (SIGTRAP)",
     QEMU, 1, ex_icebp},
    {"test-alias", "QEMU 7.2 raises #UD for F6/F7 /1, which the CPU executes as TEST", QEMU, 1,
     ex_test_alias},
    {"segment-checks", "QEMU's user mode does not check segments: an access through a null "
     "selector (the runner's FS) or a write through CS completes instead of #GP(0)", QEMU, 0,
     ex_segment_checks},
    {"ret-imm-esp", "QEMU 7.2 keeps only the low 16 bits of ESP after RET/RETF imm16 when the "
     "sum carries into bit 16", QEMU, 1, ex_ret_imm_esp},
    {"rmw-pf-write", "for a read-modify-write instruction QEMU reports the #PF of the read "
     "(W = 0), the CPU that of the write (W = 1)", QEMU, 0, ex_rmw_pf},
    {"push-sreg", "PUSH of a segment register with a 32-bit operand size: recent CPUs write "
     "its low 16 bits only, QEMU 32 bits", QEMU, 1, ex_push_sreg},
    {"bswap16", "BSWAP of a 16-bit register is undefined (SDM): CPUs clear it, QEMU swaps it",
     QEMU, 1, ex_bswap16},
    {"enter-probe", "ENTER on the CPU writes the bottom of its new frame first (a fault "
     "there comes before the pushes); QEMU does not touch it", QEMU, 0, ex_enter_probe},
    {"lock-ud", "QEMU 7.2 does not raise #UD for LOCK before an instruction that cannot be "
     "locked", QEMU, 0, ex_lock_ud},
    {"femms", "QEMU executes AMD's FEMMS (0F 0E); the modelled CPU raises #UD", QEMU, 1,
     ex_femms},
    {"rep-cmps-pf", "after a #PF part way through REP CMPS/SCAS, QEMU's EFLAGS are not those of "
     "the last completed iteration, as the CPU's are", QEMU, 0, ex_rep_cmps_pf},
    {"pusha-pf", "PUSHA on the CPU stores its registers one by one (a fault leaves the upper "
     "ones written); QEMU checks the lowest address first", QEMU, 0, ex_pusha_pf},
    {"arpl-write", "ARPL writes its memory destination only when it raises the RPL; QEMU "
     "always writes it back (a fault on a read-only page)", QEMU, 0, ex_arpl_write},
    {"pop-sreg-width", "POP of a segment register with a 32-bit operand size reads 16 bits on "
     "the CPU, 32 on QEMU (a slot whose upper half is unreadable faults on QEMU only)", QEMU, 1,
     ex_pop_sreg},
    {"popa-frame", "POPA from a frame that is not all readable: the CPU reads the slot of the "
     "ESP it discards, QEMU skips it (and changes registers before it faults)", QEMU, 1,
     ex_popa_frame},
    {"bound-upper", "BOUND on the CPU compares the lower bound before it reads the upper one; "
     "QEMU reads both first (an unreadable upper bound faults on QEMU only)", QEMU, 0,
     ex_bound_upper},
    {"encoding-fetch", "an instruction that faults by its encoding (#UD, over 15 bytes, "
     "privileged) and runs into the unreadable page after the code: Ringside fetches all of "
     "its bytes first (a fetch #PF comes first) and stops at 15; QEMU raises #UD/#GP as soon "
     "as it has decoded the opcode, or fetches a 16th byte", QEMU, 1, ex_encoding_fetch},
    {"far-return-frame", "a far return whose frame is not all readable: the CPU reads the CS "
     "slot first and 16 bits of it, QEMU the EIP slot first and 32 bits, so they fault at "
     "other addresses or not at all", QEMU, 1, ex_far_return_frame},
};
#undef QEMU
#define NEXCL (sizeof exclusions / sizeof exclusions[0])

unsigned exclusion_count(void) { return NEXCL; }
const char *exclusion_name(unsigned k) { return k < NEXCL ? exclusions[k].name : "?"; }
const char *exclusion_reason(unsigned k) { return k < NEXCL ? exclusions[k].reason : "?"; }

int exclusion_of(enum oracle_kind o, const struct layout *L, const struct tcase *tc,
                 const struct diff_result *ringside)
{
    for (unsigned k = 0; k < NEXCL; k++)
        if ((exclusions[k].oracles & (1u << o)) &&
            (ringside || exclusions[k].before_run) && exclusions[k].applies(L, tc, ringside))
            return (int)k;
    return -1;
}

/* ---- the comparison ---- */

/* Null selectors compare equal whatever their RPL: on the host, an interrupt that returns to
 * the test between the load and the end of the case (a timer tick) may replace a null selector
 * with RPL 3 by 0 (IRET nulls data segment registers the new CPL may not use). */
static uint16_t null_sel(uint16_t sel)
{
    return (sel & 0xFFFC) ? sel : 0;
}

/* The event: exact on hardware; through the signal under qemu-i386. */
static int same_event(enum oracle_kind o, const struct diff_result *n,
                      const struct diff_result *r)
{
    if (n->eip != r->eip || n->truncated)
        return 0;
    if (o == ORACLE_HARDWARE) {
        if (n->vector != r->vector)
            return 0;
        if (has_error_code(n->vector) && n->err != r->err)
            return 0;
        return n->vector != EXC_PF || n->cr2 == r->cr2;
    }
    if (r->vector >= 32 || n->vector == DIFF_TIMEOUT) /* Ringside or the oracle never stopped */
        return 0;
    if (n->signo != r->signo)
        return 0;
    if (r->vector == EXC_PF) {
        /* si_code depends on the process's mappings (MAPERR: none; ACCERR: a mapping that
         * forbids the access, as the runner's PROT_NONE guard pages do), and QEMU computes the
         * error code from its own page flags: P set for a PROT_NONE page, I/D never. The
         * address and the W/R and U/S bits are what it reports faithfully. */
        return n->sicode != L_SI_KERNEL && n->siaddr == r->siaddr &&
               ((n->err ^ r->err) & (ERR_PF_W | ERR_PF_U)) == 0;
    }
    if (n->signo != L_SIGTRAP && n->sicode != r->sicode)
        return 0;
    return !has_error_code(r->vector) || n->err == r->err;
}

unsigned judge(enum oracle_kind o, const struct layout *L, const struct tcase *tc,
               const struct diff_result *n, const uint8_t *nd, const struct diff_result *r,
               const uint8_t *rd, int strict)
{
    unsigned bad = 0;
    if (!same_event(o, n, r))
        bad |= BAD_EVENT;
    /* A fault of the instruction itself (not a trap after it, not the HLT it reached). */
    int own_fault = n->eip == L->code + tc->in.code_off && r->vector != EXC_BP &&
                    r->vector != EXC_OF;
    for (unsigned k = 0; k < 8; k++)
        if ((n->r[k] ^ r->r[k]) & (strict ? 0xFFFFFFFFu : tc->rmask[k]) &&
            !(tc->fault_regs && own_fault && !strict))
            bad |= BAD_REGS;
    uint32_t fmask = strict ? 0xFFFFFFFFu : tc->fmask;
    if (o != ORACLE_HARDWARE)
        fmask &= ~FL_RF; /* pushed by the CPU's delivery, which QEMU's user mode does not model */
    if ((n->eflags ^ r->eflags) & fmask)
        bad |= BAD_EFLAGS;
    if (null_sel(n->ds) != null_sel(r->ds) || null_sel(n->es) != null_sel(r->es) ||
        null_sel(n->fs) != null_sel(r->fs) || n->ss != r->ss)
        bad |= BAD_SELECTORS;
    if (memcmp(nd, rd, L->dsize) == 0)
        return bad;
    for (uint32_t k = 0; k < L->dsize; k++) {
        if (nd[k] == rd[k])
            continue;
        if (!strict && k >= tc->ign_off && k < (uint32_t)tc->ign_off + tc->ign_len)
            continue;
        bad |= BAD_DATA;
        break;
    }
    return bad;
}

const char *vector_name(uint32_t v)
{
    static const char *names[] = {"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF",
                                  "#9", "#TS", "#NP", "#SS", "#GP", "#PF", "#15", "#MF", "#AC"};
    if (v < sizeof names / sizeof names[0])
        return names[v];
    switch (v) {
    case DIFF_TIMEOUT: return "timeout";
    case 0xFFFC: return "no-exception";
    case 0xFFFB: return "shutdown";
    case 0xFFFD: return "fault-in-handler";
    }
    return "?";
}

static const char *signal_name(unsigned s)
{
    switch (s) {
    case L_SIGILL: return "SIGILL";
    case L_SIGTRAP: return "SIGTRAP";
    case L_SIGBUS: return "SIGBUS";
    case L_SIGFPE: return "SIGFPE";
    case L_SIGSEGV: return "SIGSEGV";
    case 0: return "none";
    }
    return "signal?";
}

void print_result(FILE *f, const char *who, const struct diff_result *x)
{
    fprintf(f, "  %-8s %s", who, vector_name(x->vector));
    if (has_error_code(x->vector) || x->vector > 31)
        fprintf(f, "(%#x)", x->err);
    if (x->vector == EXC_PF)
        fprintf(f, " cr2=%08x", x->cr2);
    fprintf(f, " %s code=%d addr=%08x", signal_name(x->signo), x->sicode, x->siaddr);
    fprintf(f, " eip=%08x eflags=%08x ds=%x es=%x fs=%x ss=%x\n", x->eip, x->eflags, x->ds,
            x->es, x->fs, x->ss);
    fprintf(f, "           eax=%08x ecx=%08x edx=%08x ebx=%08x esp=%08x ebp=%08x esi=%08x "
            "edi=%08x\n",
            x->r[0], x->r[1], x->r[2], x->r[3], x->r[4], x->r[5], x->r[6], x->r[7]);
}
