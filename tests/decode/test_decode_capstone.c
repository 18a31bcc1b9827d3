/* The decoder (decode.c + opcodes.def) against Capstone 4 on a generated corpus.
 *
 * Every one-byte and 0F xx opcode is tried with every ModRM byte, under a set of prefix
 * combinations, in 32-bit (CS.D = 1) and 16-bit (CS.D = 0) code, with random bytes after it so
 * that displacements and immediates exist; a second pass tries every SIB byte under mod 0-2.
 * The generator is seeded, so a failure reproduces exactly.
 *
 * For each encoding both decoders see the same 15 bytes. The verdicts:
 *   valid in Ringside   Capstone must decode it with the same length, after the naming table
 *                       below the same mnemonic, and the same operands (memory operand, register
 *                       operands, immediates: see "operands" below). x87 rows ("(fpu)") compare
 *                       lengths and the memory operand.
 *   #UD in Ringside     if Capstone decodes it, it must fall in a class outside the subset
 *                       (SSE, MMX, VMX, ...: classify_outside()); a LOCK prefix that Ringside
 *                       rejects compares lengths only.
 *   too long (#GP)      Capstone must not decode a shorter instruction from the same bytes.
 * Documented Capstone 4 limits, accepted and counted: it rejects some x87 escapes (Ringside
 * decodes every D8-DF form for its length, and faults on all of them) and some hint NOPs
 * (0F 0D, 0F 18 mod 3, 0F 1E); it decodes UD1/UD0 without their ModRM; it names 98/99 by code
 * and address size; it mishandles a repeated 67 and a 66 before F2, so a mismatch is retried
 * once with the prefixes in canonical order (canonical()).
 * Anything else is a mismatch: the first ones are printed and the test fails.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <capstone/capstone.h>

#include "cpu/insn.h"

#define SEED 0x52494E4753494445ull /* "RINGSIDE" */
#define MAX_SHOWN 25               /* mismatches printed in full */
#define NKEYS 512                  /* 0x000-0x0FF, 0x100-0x1FF (after 0F) */

/* ---- naming: Ringside's mnemonic vs Capstone's ----
 *
 * Capstone prints the prefixes it shows as words before the mnemonic ("rep movsb", "lock add",
 * "bnd jmp"); those are removed first. Then Ringside's mnemonic is put in the form Capstone uses
 * where the two name the same instruction differently. Each entry is a naming difference only:
 * the opcode, the length and the operation are the same. */

static const char *const cs_prefix_words[] = {
    "lock", "rep", "repe", "repz", "repne", "repnz", "bnd", "xacquire", "xrelease", "notrack",
};

enum rename { BY_OSIZE, BY_ASIZE, FIXED };
static const struct {
    const char *rs;    /* Ringside (opcode_table[].mnem) */
    enum rename how;
    const char *cs16;  /* Capstone's name at 16-bit operand (BY_OSIZE) or address (BY_ASIZE) size */
    const char *cs32;  /* ... at 32 bits, or the only name (FIXED) */
    const char *why;
} rename_table[] = {
    /* String instructions: Capstone names the operand size in the mnemonic. */
    {"movs", BY_OSIZE, "movsw", "movsd", "A5"},
    {"cmps", BY_OSIZE, "cmpsw", "cmpsd", "A7"},
    {"stos", BY_OSIZE, "stosw", "stosd", "AB"},
    {"lods", BY_OSIZE, "lodsw", "lodsd", "AD"},
    {"scas", BY_OSIZE, "scasw", "scasd", "AF"},
    {"ins", BY_OSIZE, "insw", "insd", "6D"},
    {"outs", BY_OSIZE, "outsw", "outsd", "6F"},
    /* One opcode, one Intel mnemonic per operand size. */
    {"cwde", BY_OSIZE, "cbw", "cwde", "98"},
    {"cdq", BY_OSIZE, "cwd", "cdq", "99"},
    {"pushal", BY_OSIZE, "pushaw", "pushal", "60"},
    {"popal", BY_OSIZE, "popaw", "popal", "61"},
    {"pushfd", BY_OSIZE, "pushf", "pushfd", "9C"},
    {"popfd", BY_OSIZE, "popf", "popfd", "9D"},
    {"iretd", BY_OSIZE, "iret", "iretd", "CF"},
    /* The count register is CX or ECX by address size. */
    {"jecxz", BY_ASIZE, "jcxz", "jecxz", "E3"},
    /* AT&T-style far return name in Ringside's logs; Capstone uses Intel's. */
    {"lret", FIXED, NULL, "retf", "CA, CB"},
    /* Capstone 4 names UD1 by its old name. */
    {"ud1", FIXED, NULL, "ud2b", "0F B9"},
};

/* Capstone names that Ringside gives another row name; each is the same opcode and length. */
static const struct {
    const char *cs;
    const char *rs;
    const char *why;
} cs_alias_table[] = {
    {"pause", "nop", "F3 90: PAUSE is NOP with a REP prefix"},
    /* 0F 18-1F and 0F 0D are the hint-NOP space (SDM vol. 2 table A-3): Ringside decodes them
     * all as NOP (a CPU without these features executes them so); Capstone names the hints. */
    {"prefetchnta", "nop", "0F 18 /0"},
    {"prefetcht0", "nop", "0F 18 /1"},
    {"prefetcht1", "nop", "0F 18 /2"},
    {"prefetcht2", "nop", "0F 18 /3"},
    {"prefetch", "nop", "0F 0D /0"},
    {"prefetchw", "nop", "0F 0D /1"},
    {"endbr32", "nop", "F3 0F 1E FB"},
    {"endbr64", "nop", "F3 0F 1E FA"},
    /* Capstone 4 names 98 and 99 by the code and address size, not the operand size
     * (16-bit code: always "cwde", "cdq"). */
    {"cwde", "cbw", "98"},
    {"cdq", "cwd", "99"},
};

static void strip_cs_prefixes(const char *in, char *out, size_t n)
{
    for (;;) {
        bool again = false;
        for (size_t k = 0; k < sizeof cs_prefix_words / sizeof cs_prefix_words[0]; k++) {
            size_t l = strlen(cs_prefix_words[k]);
            if (!strncmp(in, cs_prefix_words[k], l) && in[l] == ' ') {
                in += l + 1;
                again = true;
            }
        }
        if (!again)
            break;
    }
    snprintf(out, n, "%s", in);
}

/* Ringside's mnemonic in Capstone's spelling. */
static const char *rs_name(const struct insn *in)
{
    const struct opdesc *d = &opcode_table[in->id];
    /* 0F 01 /1 with a register operand shares the SIDT row: rm 2 is CLAC, rm 3 STAC. */
    if (d->key == 0x101 && d->ext == 1 && in->modreg)
        return in->rm == 2 ? "clac" : in->rm == 3 ? "stac" : d->mnem;
    for (size_t k = 0; k < sizeof rename_table / sizeof rename_table[0]; k++) {
        if (strcmp(rename_table[k].rs, d->mnem))
            continue;
        switch (rename_table[k].how) {
        case BY_OSIZE: return in->osize == 2 ? rename_table[k].cs16 : rename_table[k].cs32;
        case BY_ASIZE: return in->asize == 2 ? rename_table[k].cs16 : rename_table[k].cs32;
        case FIXED: return rename_table[k].cs32;
        }
    }
    return d->mnem;
}

static bool same_name(const struct insn *in, const char *cs_mnem)
{
    char cs[64];
    strip_cs_prefixes(cs_mnem, cs, sizeof cs);
    const char *rs = rs_name(in);
    if (!strcmp(rs, cs))
        return true;
    for (size_t k = 0; k < sizeof cs_alias_table / sizeof cs_alias_table[0]; k++)
        if (!strcmp(cs_alias_table[k].cs, cs) && !strcmp(cs_alias_table[k].rs, rs))
            return true;
    return false;
}

/* ---- #UD decided by the handler ---- */

/* Rows that are valid but whose handler raises #UD for these operands: the table keys rows by
 * opcode and ModRM.reg, so the finer checks are in the handler (move.c, system.c). */
static bool handler_ud(const struct insn *in)
{
    switch (opcode_table[in->id].key) {
    case 0x8C: return in->reg >= SEG_COUNT;                      /* no such segment register */
    case 0x8E: return in->reg >= SEG_COUNT || in->reg == SEG_CS; /* ... or MOV to CS */
    case 0x120:
    case 0x122: return in->reg == 1 || in->reg > 4;              /* CR1, CR5-CR7 */
    case 0x101:                                                  /* 0F 01 /1 mod 3: CLAC, STAC */
        return in->reg == 1 && in->modreg && in->rm != 2 && in->rm != 3;
    default: return false;
    }
}

/* ---- outside the subset: what Capstone decodes and Ringside raises #UD for ---- */

struct outside_class {
    const char *name;
    uint8_t groups[4];            /* Capstone x86 instruction groups, 0 = none */
    const char *mnems;            /* or these mnemonics, space-separated */
    unsigned long count;
    uint8_t keys[NKEYS / 8];      /* opcodes seen, as a bitmap */
};

static struct outside_class outside[] = {
    {"SSE/SSE2/SSE3/SSSE3/SSE4", {X86_GRP_SSE1, X86_GRP_SSE2, X86_GRP_SSE3, X86_GRP_SSSE3},
     "ldmxcsr stmxcsr lfence mfence sfence", 0, {0}},
    {"SSE4.1/4.2/4A", {X86_GRP_SSE41, X86_GRP_SSE42, X86_GRP_SSE4A, 0}, "popcnt", 0, {0}},
    {"MMX", {X86_GRP_MMX, 0, 0, 0}, "emms", 0, {0}},
    {"3DNow!", {X86_GRP_3DNOW, 0, 0, 0}, "femms", 0, {0}},
#define CLASS_AVX "AVX/VEX/EVEX/XOP"
    {CLASS_AVX, {X86_GRP_AVX, X86_GRP_AVX2, X86_GRP_AVX512, X86_GRP_XOP},
     NULL, 0, {0}},
    {"FMA/F16C", {X86_GRP_FMA, X86_GRP_FMA4, X86_GRP_F16C, 0}, NULL, 0, {0}},
    {"AES/PCLMUL/SHA", {X86_GRP_AES, X86_GRP_PCLMUL, X86_GRP_SHA, 0}, NULL, 0, {0}},
    {"BMI/ADX/TBM", {X86_GRP_BMI, X86_GRP_BMI2, X86_GRP_ADX, X86_GRP_TBM}, NULL, 0, {0}},
#define CLASS_TZCNT "TZCNT/LZCNT (BSF/BSR on a CPU without BMI1/ABM, as here)"
    {CLASS_TZCNT, {0}, NULL, 0, {0}},
    {"VMX/SVM", {X86_GRP_VM, 0, 0, 0},
     "vmcall vmlaunch vmresume vmxoff vmxon vmclear vmptrld vmptrst vmread vmwrite vmfunc "
     "invept invvpid vmrun vmmcall vmload vmsave stgi clgi skinit invlpga", 0, {0}},
    {"TSX", {X86_GRP_RTM, X86_GRP_HLE, 0, 0}, "xbegin xabort xend xtest", 0, {0}},
    {"SGX/SMX", {X86_GRP_SGX, 0, 0, 0}, "encls enclu getsec", 0, {0}},
    {"FXSR/XSAVE", {0}, "fxsave fxrstor xsave xsaveopt xsavec xsaves xrstor xrstors "
     "xgetbv xsetbv", 0, {0}},
    {"MONITOR/MWAIT", {0}, "monitor mwait monitorx mwaitx clzero", 0, {0}},
    {"cache control (CLFLUSH ...)", {0}, "clflush clflushopt clwb pcommit", 0, {0}},
    {"later integer extensions", {0}, "movbe crc32 rdrand rdseed rdtscp rdfsbase rdgsbase "
     "wrfsbase wrgsbase rdpid invpcid", 0, {0}},
    {"SYSCALL/SYSRET (AMD)", {0}, "syscall sysret", 0, {0}},
    {"RDPMC, RSM", {0}, "rdpmc rsm", 0, {0}},
    {"VIA PadLock", {0}, "montmul xsha1 xsha256 xstorerng xcryptecb xcryptcbc xcryptctr "
     "xcryptcfb xcryptofb", 0, {0}},
    {"64-bit only", {X86_GRP_MODE64, 0, 0, 0}, "swapgs cmpxchg16b", 0, {0}},
    /* Capstone 4 accepts what the SDM says raises #UD: MOV to CS, CR1/CR5-CR7 (Ringside's
     * handlers raise #UD for these, see handler_ud()). */
#define CLASS_MOVUD "Capstone 4: MOV CS / CR1,5-7 (#UD in the SDM)"
    {CLASS_MOVUD, {0}, NULL, 0, {0}},
};
#define NOUTSIDE (sizeof outside / sizeof outside[0])

static struct outside_class *outside_named(const char *name)
{
    for (size_t k = 0; k < NOUTSIDE; k++)
        if (!strcmp(outside[k].name, name))
            return &outside[k];
    return NULL;
}

static bool word_in(const char *word, const char *list)
{
    size_t l = strlen(word);
    for (const char *p = list; p && *p;) {
        const char *e = strchr(p, ' ');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n == l && !strncmp(p, word, l))
            return true;
        p = e ? e + 1 : p + n;
    }
    return false;
}

static struct outside_class *classify_outside(const cs_insn *ci, const struct insn *in,
                                              unsigned key)
{
    char m[64];
    strip_cs_prefixes(ci->mnemonic, m, sizeof m);
    for (size_t k = 0; k < NOUTSIDE; k++) {
        struct outside_class *oc = &outside[k];
        if (word_in(m, oc->mnems))
            return oc;
        for (unsigned g = 0; g < 4 && oc->groups[g]; g++)
            for (unsigned j = 0; j < ci->detail->groups_count; j++)
                if (ci->detail->groups[j] == oc->groups[g])
                    return oc;
    }
    if (handler_ud(in) && !strcmp(m, "mov"))
        return outside_named(CLASS_MOVUD);
    /* C4, C5 (LES/LDS), 62 (BOUND) and 8F (POP) with a register operand are VEX, EVEX and XOP
     * escapes; Capstone 4 does not put all of those instructions (v..., AVX-512 mask k...) in a
     * group. */
    if ((m[0] == 'v' || m[0] == 'k') && (key == 0xC4 || key == 0xC5 || key == 0x62 || key == 0x8F))
        return outside_named(CLASS_AVX);
    return NULL;
}

/* An encoding that an extension Ringside does not have (CPUID says so) gives another meaning:
 * F3 0F BC/BD are TZCNT/LZCNT with BMI1/ABM, BSF/BSR (F3 ignored) without. */
static struct outside_class *reinterpreted(const struct insn *in, const char *cs_mnem)
{
    char m[64];
    strip_cs_prefixes(cs_mnem, m, sizeof m);
    unsigned key = opcode_table[in->id].key;
    if ((key == 0x1BC && !strcmp(m, "tzcnt")) || (key == 0x1BD && !strcmp(m, "lzcnt")))
        return outside_named(CLASS_TZCNT);
    return NULL;
}

/* ---- operands: Ringside's decoded fields against Capstone's detail ----
 *
 * For every encoding both decoders accept (and the memory operand of every x87 escape), the
 * fields the decoder fills are compared with Capstone's operands (cs_option(CS_OPT_DETAIL)):
 *
 *   memory operand   (ModRM memory form, or moffs): Capstone must show exactly one; base, index
 *                    (and its scale), displacement (modulo 2^16 with a 16-bit address size: the
 *                    effective address wraps there, and Capstone sign-extends disp16) and
 *                    segment. Capstone names the segment only for an override prefix; without
 *                    one Ringside's segment must be the default, computed here from Capstone's
 *                    base register: SS for (E)BP and ESP, DS otherwise (SDM vol. 1 3.7.5).
 *                    String instructions: the source segment and the (E)SI/(E)DI size.
 *   registers        the r/m register (mod 3), the ModRM.reg register (when the row is not a
 *                    group member) and the register in the low opcode bits, each with its
 *                    class and size (operand_kinds()), must be among Capstone's register
 *                    operands (Capstone also lists implicit ones: AL/EAX, CL, DX).
 *   immediates       Capstone's immediate operands, in order, against Ringside's: imm, imm2
 *                    (far pointer: selector first; ENTER: size then level); a relative branch
 *                    as its target, (0x1000 + length + displacement) truncated to the operand
 *                    size (Capstone 4 also truncates it to 16 bits with a 16-bit address size
 *                    and for Jcc rel16/32 in 16-bit code: then only the low 16 bits compare);
 *                    values compared over the bytes both give them (Capstone sign-extends).
 *                    Two Capstone spellings carry no immediate in Ringside's fields: the "1"
 *                    of D0/D1 (shift by one) and AAM/AAD's default base 10, which Capstone
 *                    omits.
 */

enum rclass { RC_NONE, RC_GPR8, RC_GPR16, RC_GPR32, RC_SEG, RC_CR, RC_DR, RC_OTHER };

struct reg {
    uint8_t cls, num;
};

static const char *const reg_names[][8] = {
    [RC_NONE] = {"none", "none", "none", "none", "none", "none", "none", "none"},
    [RC_GPR8] = {"al", "cl", "dl", "bl", "ah", "ch", "dh", "bh"},
    [RC_GPR16] = {"ax", "cx", "dx", "bx", "sp", "bp", "si", "di"},
    [RC_GPR32] = {"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"},
    [RC_SEG] = {"es", "cs", "ss", "ds", "fs", "gs", "seg6", "seg7"},
    [RC_CR] = {"cr0", "cr1", "cr2", "cr3", "cr4", "cr5", "cr6", "cr7"},
    [RC_DR] = {"dr0", "dr1", "dr2", "dr3", "dr4", "dr5", "dr6", "dr7"},
    [RC_OTHER] = {"other", "other", "other", "other", "other", "other", "other", "other"},
};

static const char *reg_name(uint8_t cls, unsigned num) { return reg_names[cls][num & 7]; }

static const x86_reg cs_gpr8[8] = {X86_REG_AL, X86_REG_CL, X86_REG_DL, X86_REG_BL,
                                   X86_REG_AH, X86_REG_CH, X86_REG_DH, X86_REG_BH};
static const x86_reg cs_gpr16[8] = {X86_REG_AX, X86_REG_CX, X86_REG_DX, X86_REG_BX,
                                    X86_REG_SP, X86_REG_BP, X86_REG_SI, X86_REG_DI};
static const x86_reg cs_gpr32[8] = {X86_REG_EAX, X86_REG_ECX, X86_REG_EDX, X86_REG_EBX,
                                    X86_REG_ESP, X86_REG_EBP, X86_REG_ESI, X86_REG_EDI};
static const x86_reg cs_sreg[6] = {X86_REG_ES, X86_REG_CS, X86_REG_SS,
                                   X86_REG_DS, X86_REG_FS, X86_REG_GS};

static struct reg from_cs(x86_reg r)
{
    for (uint8_t k = 0; k < 8; k++) {
        if (r == cs_gpr8[k])
            return (struct reg){RC_GPR8, k};
        if (r == cs_gpr16[k])
            return (struct reg){RC_GPR16, k};
        if (r == cs_gpr32[k])
            return (struct reg){RC_GPR32, k};
        if (k < 6 && r == cs_sreg[k])
            return (struct reg){RC_SEG, k};
        if (r == (x86_reg)(X86_REG_CR0 + k))
            return (struct reg){RC_CR, k};
        if (r == (x86_reg)(X86_REG_DR0 + k))
            return (struct reg){RC_DR, k};
    }
    return (struct reg){r == X86_REG_INVALID ? RC_NONE : RC_OTHER, 0};
}

static uint8_t gpr_class(unsigned size)
{
    return size == 1 ? RC_GPR8 : size == 2 ? RC_GPR16 : RC_GPR32;
}

/* The class of the r/m register (mod 3) and of the ModRM.reg register (RC_NONE when ModRM.reg
 * is an opcode extension) by the opcode map's operand types (SDM vol. 2 A.2): Eb/Gb by F_BYTE,
 * Ev/Gv by the operand size, and these exceptions. rm_cls RC_NONE: not compared. */
static void operand_kinds(const struct insn *in, uint8_t *rm_cls, uint8_t *reg_cls)
{
    const struct opdesc *d = &opcode_table[in->id];
    *rm_cls = gpr_class(in->osize);
    *reg_cls = d->ext < 0 ? gpr_class(in->osize) : RC_NONE;
    switch (d->key) {
    case 0x1B6: case 0x1BE: *rm_cls = RC_GPR8; break;            /* MOVZX/MOVSX Gv, Eb */
    case 0x1B7: case 0x1BF: *rm_cls = RC_GPR16; break;           /* MOVZX/MOVSX Gv, Ew */
    case 0x8C: case 0x8E: *reg_cls = RC_SEG; break;              /* MOV Ev, Sw / Sw, Ew */
    case 0x190: case 0x191: case 0x192: case 0x193: case 0x194: case 0x195: case 0x196:
    case 0x197: case 0x198: case 0x199: case 0x19A: case 0x19B: case 0x19C: case 0x19D:
    case 0x19E: case 0x19F: *reg_cls = RC_NONE; break;           /* SETcc Eb: reg unused */
    case 0x63: *rm_cls = *reg_cls = RC_GPR16; break;             /* ARPL Ew, Gw */
    case 0x120: case 0x122: *rm_cls = RC_GPR32; *reg_cls = RC_CR; break; /* MOV Rd, Cd */
    case 0x121: case 0x123: *rm_cls = RC_GPR32; *reg_cls = RC_DR; break; /* MOV Rd, Dd */
    case 0x100:                                                  /* LLDT LTR VERR VERW Ew */
        if (d->ext >= 2)
            *rm_cls = RC_GPR16;
        break;
    case 0x101:
        if (d->ext == 6) /* LMSW Ew */
            *rm_cls = RC_GPR16;
        else if (d->ext == 1) /* mod 3: CLAC/STAC, no operand */
            *rm_cls = RC_NONE;
        break;
    default:
        break;
    }
    if (d->fn == op_nop || d->fn == op_fpu) /* hint NOPs, x87: no integer register operands */
        *rm_cls = *reg_cls = RC_NONE;
}

/* Rows whose ModRM-less opcode names a register in its low three bits. */
static uint8_t opcode_reg_class(const struct insn *in)
{
    unsigned key = opcode_table[in->id].key;
    if ((key >= 0x40 && key <= 0x5F) || (key >= 0x91 && key <= 0x97) ||
        (key >= 0xB8 && key <= 0xBF) || (key >= 0x1C8 && key <= 0x1CF))
        return gpr_class(in->osize);
    if (key >= 0xB0 && key <= 0xB7)
        return RC_GPR8;
    return RC_NONE;
}

static bool is_relative(unsigned key)
{
    return (key >= 0x70 && key <= 0x7F) || (key >= 0xE0 && key <= 0xE3) || key == 0xE8 ||
           key == 0xE9 || key == 0xEB || (key >= 0x180 && key <= 0x18F);
}

struct op_stats {
    unsigned long mem, regs, imms;
};

#define OPS_WHY 200
static char ops_why[OPS_WHY];

static bool ops_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ops_why, sizeof ops_why, fmt, ap);
    va_end(ap);
    return false;
}

static uint32_t bytes_mask(unsigned n) { return n >= 4 ? 0xFFFFFFFFu : (1u << (8 * n)) - 1; }

/* The memory operand. */
static bool same_mem(const struct insn *in, const cs_x86 *x, struct op_stats *st)
{
    const cs_x86_op *m = NULL;
    for (unsigned k = 0; k < x->op_count; k++) {
        if (x->operands[k].type != X86_OP_MEM)
            continue;
        if (m)
            return ops_fail("Capstone shows two memory operands");
        m = &x->operands[k];
    }
    if (!m)
        return ops_fail("Capstone shows no memory operand");
    uint8_t acls = in->asize == 2 ? RC_GPR16 : RC_GPR32;
    struct reg base = from_cs(m->mem.base), index = from_cs(m->mem.index);
    if (in->base == NOREG ? base.cls != RC_NONE : base.cls != acls || base.num != in->base)
        return ops_fail("base: ringside %s, capstone %s",
                        reg_name(in->base == NOREG ? RC_NONE : acls, in->base),
                        reg_name(base.cls, base.num));
    if (in->index == NOREG ? index.cls != RC_NONE : index.cls != acls || index.num != in->index)
        return ops_fail("index: ringside %s, capstone %s",
                        reg_name(in->index == NOREG ? RC_NONE : acls, in->index),
                        reg_name(index.cls, index.num));
    if (in->index != NOREG && m->mem.scale != 1 << in->scale)
        return ops_fail("scale: ringside %u, capstone %d", 1u << in->scale, m->mem.scale);
    uint32_t amask = bytes_mask(in->asize);
    if (((uint32_t)m->mem.disp & amask) != (in->disp & amask))
        return ops_fail("displacement: ringside %#x, capstone %#llx", in->disp,
                        (unsigned long long)m->mem.disp);
    int want_seg;
    if (m->mem.segment != X86_REG_INVALID) {
        struct reg s = from_cs(m->mem.segment);
        if (s.cls != RC_SEG)
            return ops_fail("Capstone segment %d is not a segment register", m->mem.segment);
        want_seg = s.num;
    } else {
        want_seg = base.cls != RC_NONE && (base.num == EBP || base.num == ESP) ? SEG_SS : SEG_DS;
    }
    if (in->seg != want_seg)
        return ops_fail("segment: ringside %s, %s %s", reg_name(RC_SEG, in->seg),
                        m->mem.segment != X86_REG_INVALID ? "capstone's override" : "default",
                        reg_name(RC_SEG, (unsigned)want_seg));
    st->mem++;
    return true;
}

/* String instructions: the (E)SI operand's segment (default DS, or the override) and the
 * size of (E)SI and (E)DI (the address size). */
static bool same_string_mem(const struct insn *in, const cs_x86 *x, struct op_stats *st)
{
    uint8_t acls = in->asize == 2 ? RC_GPR16 : RC_GPR32;
    for (unsigned k = 0; k < x->op_count; k++) {
        const cs_x86_op *m = &x->operands[k];
        if (m->type != X86_OP_MEM)
            continue;
        struct reg base = from_cs(m->mem.base);
        if (base.cls != acls || (base.num != ESI && base.num != EDI))
            return ops_fail("string operand base %s with a %u-byte address size",
                            reg_name(base.cls, base.num), in->asize);
        if (base.num == ESI) {
            int want = SEG_DS;
            if (m->mem.segment != X86_REG_INVALID)
                want = from_cs(m->mem.segment).num;
            if (in->seg != want)
                return ops_fail("string source segment: ringside %s, capstone %s",
                                reg_name(RC_SEG, in->seg), reg_name(RC_SEG, (unsigned)want));
        }
        st->mem++;
    }
    return true;
}

static bool take_reg(struct reg *have, unsigned *n, struct reg want)
{
    for (unsigned k = 0; k < *n; k++)
        if (have[k].cls == want.cls && have[k].num == want.num) {
            have[k] = have[--*n];
            return true;
        }
    return false;
}

static bool same_operands(const struct insn *in, const cs_insn *ci, bool fpu,
                          struct op_stats *st)
{
    const cs_x86 *x = &ci->detail->x86;
    const struct opdesc *d = &opcode_table[in->id];
    bool modrm_mem = (d->flags & F_MODRM) && !in->modreg;
    if (modrm_mem || (d->flags & F_MOFFS))
        return same_mem(in, x, st);
    if (fpu) /* x87 register forms: no integer operand */
        return true;
    unsigned key = d->key;
    if ((key >= 0xA4 && key <= 0xA7) || (key >= 0xAA && key <= 0xAF) ||
        (key >= 0x6C && key <= 0x6F)) {
        if (!same_string_mem(in, x, st))
            return false;
    }

    /* registers */
    struct reg have[8];
    unsigned nhave = 0;
    for (unsigned k = 0; k < x->op_count && nhave < 8; k++)
        if (x->operands[k].type == X86_OP_REG)
            have[nhave++] = from_cs(x->operands[k].reg);
    uint8_t rm_cls, reg_cls;
    operand_kinds(in, &rm_cls, &reg_cls);
    if (d->flags & F_MODRM) {
        if (in->modreg && rm_cls != RC_NONE) {
            if (!take_reg(have, &nhave, (struct reg){rm_cls, in->rm}))
                return ops_fail("r/m register %s not among Capstone's", reg_name(rm_cls, in->rm));
            st->regs++;
        }
        if (reg_cls != RC_NONE) {
            if (!take_reg(have, &nhave, (struct reg){reg_cls, in->reg}))
                return ops_fail("ModRM.reg register %s not among Capstone's",
                                reg_name(reg_cls, in->reg));
            st->regs++;
        }
    } else {
        uint8_t oc = opcode_reg_class(in);
        if (oc != RC_NONE) {
            if (!take_reg(have, &nhave, (struct reg){oc, in->reg}))
                return ops_fail("opcode register %s not among Capstone's", reg_name(oc, in->reg));
            st->regs++;
        }
    }
    return true;
}

struct imm_want {
    uint32_t v;
    unsigned bytes; /* how many low bytes Ringside's value defines */
};

/* Immediates, in Capstone's order. */
static bool same_immediates(const struct insn *in, const cs_insn *ci, int d32,
                            struct op_stats *st)
{
    const cs_x86 *x = &ci->detail->x86;
    const struct opdesc *d = &opcode_table[in->id];
    uint16_t fl = d->flags;
    struct imm_want want[2];
    unsigned nwant = 0;
    unsigned width = fl & F_IB ? 1 : fl & F_IW ? 2 : fl & F_IZ ? (in->osize == 2 ? 2 : 4) : 0;
    if (fl & F_SX)
        width = in->osize; /* sign-extended to the operand size */
    if (is_relative(d->key)) {
        /* The SDM truncates the target by the operand size only; Capstone 4 also truncates it
         * to 16 bits with a 16-bit address size, and for 0F 80-8F (Jcc rel16/32) in 16-bit
         * code whatever the sizes: there only the low 16 bits compare. */
        uint32_t target = 0x1000u + in->len + in->imm;
        bool cs16 = in->asize == 2 || (!d32 && d->key >= 0x180 && d->key <= 0x18F);
        unsigned n = cs16 ? 2 : in->osize;
        want[nwant++] = (struct imm_want){target & bytes_mask(in->osize), n};
    } else if (fl & F_PTR) {
        want[nwant++] = (struct imm_want){in->imm2, 2};
        want[nwant++] = (struct imm_want){in->imm, in->osize};
    } else if (fl & F_IWB) {
        want[nwant++] = (struct imm_want){in->imm, 2};
        want[nwant++] = (struct imm_want){in->imm2, 1};
    } else if (width) {
        want[nwant++] = (struct imm_want){in->imm, width};
    }
    unsigned seen = 0;
    for (unsigned k = 0; k < x->op_count; k++) {
        const cs_x86_op *o = &x->operands[k];
        if (o->type != X86_OP_IMM)
            continue;
        if (seen == nwant) {
            /* D0/D1: Capstone spells the count of one as an immediate 1 */
            if ((d->key == 0xD0 || d->key == 0xD1) && o->imm == 1 && nwant == 0)
                continue;
            return ops_fail("Capstone immediate %#llx that Ringside does not have",
                            (unsigned long long)o->imm);
        }
        unsigned n = o->size && o->size < want[seen].bytes ? o->size : want[seen].bytes;
        uint32_t m = bytes_mask(n);
        if (((uint32_t)o->imm & m) != (want[seen].v & m))
            return ops_fail("immediate %u: ringside %#x, capstone %#llx", seen, want[seen].v,
                            (unsigned long long)o->imm);
        seen++;
        st->imms++;
    }
    if (seen != nwant) {
        /* AAM/AAD with the default base 10: Capstone writes no operand */
        if ((d->key == 0xD4 || d->key == 0xD5) && seen == 0 && in->imm == 10)
            return true;
        return ops_fail("Ringside has %u immediates, Capstone %u", nwant, seen);
    }
    return true;
}

enum verdict {
    /* The two decoders agree. */
    V_AGREE,        /* both valid: same length, mnemonic and operands */
    V_FPU,          /* x87 escape: same length and memory operand */
    V_UDX_AGREE,    /* UD0/UD1/UD2: same length, same mnemonic */
    V_LOCK_LEN,     /* LOCK that Ringside rejects, Capstone decodes: same length */
    V_CS_PREFIX,    /* agreed once the prefixes are in canonical order (canonical()) */
    V_BOTH_REJECT,  /* Ringside #UD, Capstone rejects */
    V_TOOLONG,      /* longer than 15 bytes, Capstone does not decode it either */
    /* Capstone decodes an instruction outside the subset: Ringside raises #UD, or the encoding
     * means something else with an extension Ringside does not have. */
    V_OUTSIDE,
    /* Documented Capstone 4 limitations. */
    V_FPU_CSREJ,    /* x87 escape Capstone rejects (Ringside faults on every escape) */
    V_HINT_CSREJ,   /* hint-NOP space (0F 0D, 0F 18-1F) Capstone 4 rejects */
    V_CS_UDLEN,     /* UD0/UD1: Capstone 4 decodes them without their ModRM */
    V_MISMATCH,
    V_COUNT
};
#define V_AGREED_LAST V_TOOLONG

static const char *const verdict_name[V_COUNT] = {
    "agreed: length, mnemonic and operands",
    "agreed: x87 escape, length and memory operand",
    "agreed: UD2/UD1/UD0",
    "agreed: LOCK that Ringside rejects, length",
    "agreed once prefixes are in canonical order (Capstone 4 prefix bugs)",
    "agreed: both reject",
    "agreed: over 15 bytes, both reject",
    "outside the subset",
    "Capstone 4 limit: rejects an x87 escape (no FPU here: every escape faults)",
    "Capstone 4 limit: rejects a hint NOP (0F 0D, 0F 18-1F)",
    "Capstone 4 limit: UD1/UD0 without their ModRM",
    "MISMATCH",
};

struct cs_view {
    bool ok;
    unsigned len;
    char mnem[32], ops[160];
};

struct run {
    const struct decode_map *map;
    csh cs, cs_detail;
    cs_insn *ci, *ci_detail;
    int d32;
    unsigned long n[V_COUNT];
    unsigned long checked;
    struct op_stats ops;
};

/* Both decoders' operands for bytes b (Capstone in detail mode); on a difference ops_why
 * says which. */
static bool operands_agree(struct run *r, const uint8_t *b, const struct insn *in, bool fpu)
{
    const uint8_t *code = b;
    size_t size = 15;
    uint64_t addr = 0x1000;
    if (!cs_disasm_iter(r->cs_detail, &code, &size, &addr, r->ci_detail))
        return ops_fail("Capstone with details rejects what it decoded without");
    if (!same_operands(in, r->ci_detail, fpu, &r->ops))
        return false;
    return fpu || same_immediates(in, r->ci_detail, r->d32, &r->ops);
}

static bool is_prefix(unsigned b)
{
    return b == 0x26 || b == 0x2E || b == 0x36 || b == 0x3E || b == 0x64 || b == 0x65 ||
           b == 0x66 || b == 0x67 || b == 0xF0 || b == 0xF2 || b == 0xF3;
}

static unsigned prefix_count(const uint8_t *b)
{
    unsigned k = 0;
    while (k < 15 && is_prefix(b[k]))
        k++;
    return k;
}

static void show(struct run *r, const uint8_t *b, const struct insn *in, const struct cs_view *cv,
                 const char *why)
{
    if (r->n[V_MISMATCH] >= MAX_SHOWN)
        return;
    char hex[64] = "";
    for (unsigned k = 0; k < 15; k++)
        snprintf(hex + strlen(hex), sizeof hex - strlen(hex), "%02X ", b[k]);
    print_message("mismatch (%s code): %s\n  bytes %s\n  ringside len %u '%s'%s | capstone len %u "
                  "'%s %s'\n",
                  r->d32 ? "32-bit" : "16-bit", why, hex, in->len, opcode_table[in->id].mnem,
                  in->fn == op_ud || handler_ud(in) ? " (#UD)" : "", cv->len,
                  cv->ok ? cv->mnem : "(rejects)", cv->ops);
}

/* One encoding through both decoders. On V_OUTSIDE *oc is the class, on V_MISMATCH *why the
 * reason; nothing is counted or printed here. */
static enum verdict compare(struct run *r, const uint8_t *b, struct insn *in, struct cs_view *cv,
                            const char **why, struct outside_class **oc)
{
    unsigned len = decode_insn(r->map, b, 15, r->d32, in);
    assert_int_equal(len, in->len);

    const uint8_t *code = b;
    size_t size = 15;
    uint64_t addr = 0x1000;
    cv->ok = cs_disasm_iter(r->cs, &code, &size, &addr, r->ci);
    cv->len = cv->ok ? r->ci->size : 0;
    snprintf(cv->mnem, sizeof cv->mnem, "%s", cv->ok ? r->ci->mnemonic : "");
    cv->ops[0] = '\0'; /* filled by judge() for a mismatch */

    if (in->fn == op_toolong) {
        *why = "Ringside: longer than 15 bytes";
        if (!cv->ok)
            return V_TOOLONG;
        /* Capstone 4 reads UD1/UD0 without their ModRM, so it finds them inside 15 bytes. */
        unsigned np = prefix_count(b);
        if (np + 2 == cv->len && b[np] == 0x0F && (b[np + 1] == 0xB9 || b[np + 1] == 0xFF))
            return V_CS_UDLEN;
        return V_MISMATCH;
    }

    const struct opdesc *d = &opcode_table[in->id];
    bool lock = memchr(b, 0xF0, prefix_count(b)) != NULL;
    bool lock_ud = lock && (!(d->flags & F_LOCK) || in->modreg);
    bool mem_ud = (d->flags & F_MEM) && in->modreg;

    if (in->fn != op_ud && !handler_ud(in)) {
        if (d->fn == op_fpu) {
            *why = "x87 escape";
            if (!cv->ok)
                return V_FPU_CSREJ;
            char m[64];
            strip_cs_prefixes(cv->mnem, m, sizeof m);
            if (cv->len != len || m[0] != 'f')
                return V_MISMATCH;
            if (!operands_agree(r, b, in, true)) {
                *why = ops_why;
                return V_MISMATCH;
            }
            return V_FPU;
        }
        if (!cv->ok) {
            *why = "Ringside valid, Capstone rejects";
            return d->fn == op_nop ? V_HINT_CSREJ : V_MISMATCH;
        }
        *why = cv->len != len ? "length" : "mnemonic";
        if (cv->len != len)
            return V_MISMATCH;
        if (same_name(in, cv->mnem)) {
            if (!operands_agree(r, b, in, false)) {
                *why = ops_why;
                return V_MISMATCH;
            }
            return V_AGREE;
        }
        *oc = reinterpreted(in, cv->mnem);
        return *oc ? V_OUTSIDE : V_MISMATCH;
    }

    /* Ringside #UD from here. UD2, UD1 and UD0 are defined to raise it. */
    if (in->id && d->fn == op_ud && !mem_ud) {
        *why = "UD0/UD1/UD2";
        if (!cv->ok)
            return V_BOTH_REJECT;
        if (!same_name(in, cv->mnem))
            return V_MISMATCH;
        if (cv->len == len)
            return V_UDX_AGREE;
        if ((d->key == 0x1B9 || d->key == 0x1FF) && cv->len == prefix_count(b) + 2)
            return V_CS_UDLEN;
        return V_MISMATCH;
    }
    if (!cv->ok)
        return V_BOTH_REJECT;
    /* A LOCK prefix Ringside rejects (not lockable, or a register destination) on an otherwise
     * valid encoding: Capstone 4 does not check LOCK, so compare lengths only. */
    if (in->id && lock_ud && !mem_ud && !handler_ud(in)) {
        *why = "LOCK: length";
        return cv->len == len ? V_LOCK_LEN : V_MISMATCH;
    }
    /* Capstone decodes what Ringside raises #UD for: it must be outside the subset. */
    code = b;
    size = 15;
    addr = 0x1000;
    if (!cs_disasm_iter(r->cs_detail, &code, &size, &addr, r->ci_detail))
        fail_msg("Capstone with details rejects what it decoded without");
    unsigned np = prefix_count(b);
    *oc = classify_outside(r->ci_detail, in, b[np] == 0x0F ? 0x100u | b[np + 1] : b[np]);
    *why = "Ringside #UD, Capstone decodes (not outside the subset)";
    return *oc ? V_OUTSIDE : V_MISMATCH;
}

/* The same instruction with its prefixes in one order, each once: F0, F2/F3, segment override,
 * 66, 67 (the last of F2/F3 and the last segment override win, as in decode.c). The SDM gives
 * order and repetition of legacy prefixes no meaning; Capstone 4 gets some wrong (a repeated 67
 * cancels itself, a 66 before F2 is lost). Returns how many bytes shorter the result is, or -1
 * when the prefixes are already in that form. */
static int canonical(const uint8_t *b, uint8_t *out)
{
    unsigned np = prefix_count(b);
    int seg = -1, rep = -1;
    bool o = false, a = false, lock = false;
    for (unsigned k = 0; k < np; k++) {
        switch (b[k]) {
        case 0x66: o = true; break;
        case 0x67: a = true; break;
        case 0xF0: lock = true; break;
        case 0xF2: case 0xF3: rep = b[k]; break;
        default: seg = b[k]; break;
        }
    }
    unsigned n = 0;
    if (lock)
        out[n++] = 0xF0;
    if (rep >= 0)
        out[n++] = (uint8_t)rep;
    if (seg >= 0)
        out[n++] = (uint8_t)seg;
    if (o)
        out[n++] = 0x66;
    if (a)
        out[n++] = 0x67;
    if (n == np && !memcmp(b, out, n))
        return -1;
    memcpy(out + n, b + np, 15 - np);
    memset(out + n + 15 - np, 0, np - n);
    return (int)(np - n);
}

static enum verdict judge(struct run *r, const uint8_t *b)
{
    struct insn in;
    struct cs_view cv;
    const char *why = "";
    struct outside_class *oc = NULL;
    enum verdict v = compare(r, b, &in, &cv, &why, &oc);
    if (v == V_MISMATCH && cv.ok)
        snprintf(cv.ops, sizeof cv.ops, "%s", r->ci->op_str);

    uint8_t cb[15];
    int shorter;
    if (v == V_MISMATCH && (shorter = canonical(b, cb)) >= 0) {
        struct insn cin;
        struct cs_view ccv;
        const char *cwhy = "";
        struct outside_class *coc = NULL;
        enum verdict cv2 = compare(r, cb, &cin, &ccv, &cwhy, &coc);
        /* Ringside must read both forms alike for the retry to say anything. */
        bool same_rs = cin.id == in.id && cin.fn == in.fn && cin.osize == in.osize &&
                       cin.asize == in.asize && cin.rep == in.rep && cin.seg == in.seg &&
                       cin.modreg == in.modreg && cin.reg == in.reg && cin.rm == in.rm &&
                       cin.base == in.base && cin.index == in.index &&
                       cin.scale == in.scale && cin.disp == in.disp && cin.imm == in.imm &&
                       cin.imm2 == in.imm2 &&
                       (in.fn == op_toolong || cin.len + shorter == in.len);
        if (!same_rs)
            why = "Ringside decodes the prefixes differently in canonical order";
        else if (cv2 != V_MISMATCH)
            v = V_CS_PREFIX;
    }
    if (v == V_MISMATCH)
        show(r, b, &in, &cv, why);
    if (v == V_OUTSIDE) {
        unsigned k = prefix_count(b);
        unsigned key = b[k] == 0x0F ? 0x100u | b[k + 1] : b[k];
        oc->count++;
        oc->keys[key / 8] |= (uint8_t)(1u << (key % 8));
    }
    return v;
}

/* ---- the corpus ---- */

static uint64_t rng_state;
static uint64_t rng(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Prefix combinations. The first FULL_MODRM sets (both address sizes) are tried with all 256
 * ModRM bytes, the others with 32: every mod and reg, a random rm. */
static const struct {
    uint8_t n, b[14];
} prefix_sets[] = {
    {0, {0}}, {1, {0x67}},
#define PSET_NONE 0
#define PSET_67 1
#define FULL_MODRM 2
    {1, {0x66}}, {2, {0x66, 0x67}}, {1, {0xF3}}, {1, {0xF2}}, {1, {0xF0}},
    {1, {0x26}}, {1, {0x2E}}, {1, {0x36}}, {1, {0x3E}}, {1, {0x64}}, {1, {0x65}},
    {2, {0x66, 0x66}}, {2, {0xF3, 0x66}}, {2, {0x66, 0xF2}}, {2, {0xF2, 0xF3}}, {2, {0xF3, 0xF2}},
    {2, {0xF0, 0xF3}}, {2, {0xF0, 0xF2}}, {3, {0xF0, 0x66, 0x67}}, {3, {0x2E, 0x65, 0x3E}},
    {3, {0x67, 0x26, 0x66}}, {3, {0x64, 0xF0, 0x64}}, {3, {0x67, 0x67, 0xF3}},
    /* Long prefix runs: the 15-byte limit falls inside the ModRM, displacement or immediate. */
    {8, {0xF3, 0x26, 0x66, 0x2E, 0x67, 0x36, 0x3E, 0x65}},
    {11, {0x3E, 0x3E, 0x3E, 0x3E, 0x3E, 0x3E, 0x3E, 0x3E, 0x3E, 0x3E, 0x66}},
    {13, {0x26, 0x26, 0x26, 0x26, 0x26, 0x26, 0x26, 0x26, 0x26, 0x26, 0x26, 0x26, 0x26}},
    {14, {0x2E, 0x2E, 0x2E, 0x2E, 0x2E, 0x2E, 0x2E, 0x2E, 0x2E, 0x2E, 0x2E, 0x2E, 0x2E, 0x2E}},
};
#define NPREFIX_SETS (sizeof prefix_sets / sizeof prefix_sets[0])

static void try_one(struct run *r, unsigned pset, unsigned key, unsigned modrm, int sib)
{
    uint8_t b[32];
    unsigned n = 0;
    for (unsigned k = 0; k < prefix_sets[pset].n; k++)
        b[n++] = prefix_sets[pset].b[k];
    if (key >= 0x100)
        b[n++] = 0x0F;
    b[n++] = (uint8_t)key;
    b[n++] = (uint8_t)modrm;
    if (sib >= 0)
        b[n++] = (uint8_t)sib;
    for (uint64_t fill = 0; n < sizeof b; fill >>= 8) {
        if (!fill)
            fill = rng() | 1ull << 63; /* the top bit only marks "bytes left" */
        b[n++] = (uint8_t)fill;
    }
    enum verdict v = judge(r, b); /* both decoders see b[0..15) */
    r->n[v]++;
    r->checked++;
}

static bool has_key(const uint8_t *keys, unsigned k) { return keys[k / 8] & (1u << (k % 8)); }

/* The opcodes in a bitmap as ranges ("0F 10-17"), at most 12 of them. */
static void print_keys(const uint8_t *keys)
{
    unsigned shown = 0;
    for (unsigned k = 0; k < NKEYS; k++) {
        if (!has_key(keys, k))
            continue;
        unsigned e = k;
        while (e + 1 < NKEYS && has_key(keys, e + 1) && (e + 1) >> 8 == k >> 8)
            e++;
        if (shown++ == 12) {
            print_message(" ...");
            break;
        }
        if (e == k)
            print_message(" %s%02X", k >> 8 ? "0F " : "", k & 0xFF);
        else
            print_message(" %s%02X-%02X", k >> 8 ? "0F " : "", k & 0xFF, e & 0xFF);
        k = e;
    }
}

static void run_mode(void **state, int d32)
{
    struct run *r = *state;
    memset(r->n, 0, sizeof r->n);
    for (size_t k = 0; k < NOUTSIDE; k++) {
        outside[k].count = 0;
        memset(outside[k].keys, 0, sizeof outside[k].keys);
    }
    r->checked = 0;
    memset(&r->ops, 0, sizeof r->ops);
    r->d32 = d32;
    cs_option(r->cs, CS_OPT_MODE, d32 ? CS_MODE_32 : CS_MODE_16);
    cs_option(r->cs_detail, CS_OPT_MODE, d32 ? CS_MODE_32 : CS_MODE_16);
    rng_state = SEED ^ (uint64_t)d32;

    /* Every opcode x every ModRM under each prefix set. */
    for (unsigned p = 0; p < NPREFIX_SETS; p++)
        for (unsigned key = 0; key < NKEYS; key++) {
            if (key < 0x100 && (is_prefix(key) || key == 0x0F))
                continue;
            if (p < FULL_MODRM) {
                for (unsigned m = 0; m < 256; m++)
                    try_one(r, p, key, m, -1);
            } else {
                for (unsigned modreg = 0; modreg < 32; modreg++)
                    try_one(r, p, key, modreg << 3 | (unsigned)(rng() & 7), -1);
            }
        }

    /* Every SIB byte under mod 0, 1, 2 (rm = 4) with 32-bit addressing (no prefix in 32-bit code,
     * 67 in 16-bit code), for the opcodes with a ModRM byte; reg walks through the group. */
    unsigned pset = d32 ? PSET_NONE : PSET_67;
    for (unsigned key = 0; key < NKEYS; key++) {
        if ((key < 0x100 && (is_prefix(key) || key == 0x0F)) || !r->map->modrm[key])
            continue;
        for (unsigned mod = 0; mod < 3; mod++)
            for (unsigned sib = 0; sib < 256; sib++)
                try_one(r, pset, key, mod << 6 | ((sib + mod) & 7) << 3 | 4, (int)sib);
    }

    unsigned long agreed = 0;
    for (unsigned v = 0; v <= V_AGREED_LAST; v++)
        agreed += r->n[v];
    print_message("[decode %s] %lu encodings checked: %lu agreed, %lu outside the subset, %lu "
                  "Capstone 4 limits, %lu mismatches\n",
                  d32 ? "32-bit" : "16-bit", r->checked, agreed, r->n[V_OUTSIDE],
                  r->checked - agreed - r->n[V_OUTSIDE] - r->n[V_MISMATCH], r->n[V_MISMATCH]);
    for (unsigned v = 0; v < V_COUNT; v++)
        print_message("    %8lu  %s\n", r->n[v], verdict_name[v]);
    print_message("  operands compared: %lu memory, %lu registers, %lu immediates\n", r->ops.mem,
                  r->ops.regs, r->ops.imms);
    print_message("  outside the subset, by class (opcodes):\n");
    for (size_t k = 0; k < NOUTSIDE; k++) {
        if (!outside[k].count)
            continue;
        print_message("    %8lu  %s:", outside[k].count, outside[k].name);
        print_keys(outside[k].keys);
        print_message("\n");
    }
    assert_true(r->checked > 100000);
    assert_int_equal(r->n[V_MISMATCH], 0);
}

static void test_decode_32(void **state) { run_mode(state, 1); }
static void test_decode_16(void **state) { run_mode(state, 0); }

/* The SIB corner the corpus relies on Capstone for, checked field by field: mod 0, base 5 is
 * disp32 with no base, index 4 is no index. */
static void test_sib_no_base_no_index(void **state)
{
    struct run *r = *state;
    const uint8_t b[15] = {0x8B, 0x04, 0x25, 0x78, 0x56, 0x34, 0x12};
    struct insn in;
    assert_int_equal(decode_insn(r->map, b, 15, 1, &in), 7);
    assert_int_equal(in.base, NOREG);
    assert_int_equal(in.index, NOREG);
    assert_int_equal(in.disp, 0x12345678);
}

/* The eight 16-bit addressing forms, field by field from SDM vol. 2 table 2-1 (mod 1, so every
 * form has a base or index; rm 6 with mod 0 is a bare disp16): base, index and the default
 * segment, SS for the forms with BP. */
static void test_rm16_forms(void **state)
{
    struct run *r = *state;
    static const struct {
        uint8_t base, index, seg;
    } want[8] = {
        {EBX, ESI, SEG_DS}, {EBX, EDI, SEG_DS}, {EBP, ESI, SEG_SS}, {EBP, EDI, SEG_SS},
        {ESI, NOREG, SEG_DS}, {EDI, NOREG, SEG_DS}, {EBP, NOREG, SEG_SS}, {EBX, NOREG, SEG_DS},
    };
    for (unsigned rm = 0; rm < 8; rm++) {
        const uint8_t b[15] = {0x8B, (uint8_t)(0x40 | rm), 0x80}; /* mov ax, [form - 0x80] */
        struct insn in;
        assert_int_equal(decode_insn(r->map, b, 15, 0, &in), 3);
        assert_int_equal(in.asize, 2);
        assert_int_equal(in.base, want[rm].base);
        assert_int_equal(in.index, want[rm].index);
        assert_int_equal(in.seg, want[rm].seg);
        assert_int_equal(in.disp & 0xFFFF, 0xFF80);
    }
    const uint8_t b[15] = {0x8B, 0x06, 0x34, 0x12}; /* mod 0, rm 6: [0x1234] in DS */
    struct insn in;
    assert_int_equal(decode_insn(r->map, b, 15, 0, &in), 4);
    assert_int_equal(in.base, NOREG);
    assert_int_equal(in.index, NOREG);
    assert_int_equal(in.seg, SEG_DS);
    assert_int_equal(in.disp, 0x1234);
}

static int setup(void **state)
{
    struct run *r = calloc(1, sizeof *r);
    struct decode_map *map = malloc(sizeof *map);
    if (!r || !map)
        return -1;
    decode_map_init(map);
    r->map = map;
    if (cs_open(CS_ARCH_X86, CS_MODE_32, &r->cs) != CS_ERR_OK ||
        cs_open(CS_ARCH_X86, CS_MODE_32, &r->cs_detail) != CS_ERR_OK)
        return -1;
    cs_option(r->cs_detail, CS_OPT_DETAIL, CS_OPT_ON);
    r->ci = cs_malloc(r->cs);
    r->ci_detail = cs_malloc(r->cs_detail);
    *state = r;
    return 0;
}

static int teardown(void **state)
{
    struct run *r = *state;
    cs_free(r->ci, 1);
    cs_free(r->ci_detail, 1);
    cs_close(&r->cs);
    cs_close(&r->cs_detail);
    free((void *)r->map);
    free(r);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sib_no_base_no_index),
        cmocka_unit_test(test_rm16_forms),
        cmocka_unit_test(test_decode_32),
        cmocka_unit_test(test_decode_16),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
