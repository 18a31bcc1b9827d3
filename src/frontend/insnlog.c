/* The instruction log (see insnlog.h). */
#include "frontend/insnlog.h"

#include <capstone/capstone.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>

#include "cpu/inspect.h"

/* Column the mnemonic starts at, after "<icount> CCCC:EEEEEEEE " and up to 8 bytes of hex. */
#define HEX_COLUMN_BYTES 8

struct insnlog {
    FILE *out;
    bool regs;
    csh cs;
    cs_insn *insn; /* reused for every instruction */
};

struct insnlog *insnlog_open(FILE *out, bool regs, char *err, size_t errlen)
{
    struct insnlog *log = calloc(1, sizeof(*log));
    if (!log) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    cs_err e = cs_open(CS_ARCH_X86, CS_MODE_32, &log->cs);
    if (e != CS_ERR_OK) {
        snprintf(err, errlen, "cannot start the Capstone disassembler: %s", cs_strerror(e));
        free(log);
        return NULL;
    }
    log->insn = cs_malloc(log->cs);
    if (!log->insn) {
        snprintf(err, errlen, "out of memory");
        cs_close(&log->cs);
        free(log);
        return NULL;
    }
    log->out = out;
    log->regs = regs;
    return log;
}

void insnlog_close(struct insnlog *log)
{
    if (!log)
        return;
    cs_free(log->insn, 1);
    cs_close(&log->cs);
    free(log);
}

/* Appends to buf at *pos, never past len; *pos keeps counting so the caller sees the total. */
static void append(char *buf, size_t len, size_t *pos, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void append(char *buf, size_t len, size_t *pos, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(*pos < len ? buf + *pos : NULL, *pos < len ? len - *pos : 0, fmt, ap);
    va_end(ap);
    if (n > 0)
        *pos += (size_t)n;
}

size_t insnlog_format(struct insnlog *log, const struct cpu *c, uint32_t lin_eip, char *buf,
                      size_t len)
{
    uint8_t bytes[INSNLOG_MAX_BYTES];
    size_t pos = 0;
    if (len)
        buf[0] = '\0';
    /* The offset in CS, whatever EIP means between instructions. */
    struct seg_value cs;
    cpu_get_seg(c, SREG_CS, &cs);
    uint32_t eip = lin_eip - cs.base;
    size_t n = cpu_read_linear(c, lin_eip, bytes, sizeof(bytes)).done;
    append(buf, len, &pos, "%" PRIu64 " %04x:%08x ", cpu_stat_insns(c), cs.sel, eip);

    const uint8_t *code = bytes;
    size_t avail = n;
    uint64_t addr = eip;
    bool ok = n && cs_disasm_iter(log->cs, &code, &avail, &addr, log->insn);
    size_t shown = ok ? log->insn->size : n;
    for (size_t i = 0; i < HEX_COLUMN_BYTES || i < shown; i++)
        append(buf, len, &pos, i < shown ? "%02x " : "   ", bytes[i < shown ? i : 0]);
    if (ok)
        append(buf, len, &pos, " %s%s%s\n", log->insn->mnemonic,
               log->insn->op_str[0] ? " " : "", log->insn->op_str);
    else
        append(buf, len, &pos, " %s\n", n ? "(bad)" : "<unreadable>");

    if (log->regs) {
        uint32_t fl = cpu_get_reg(c, REG_EFLAGS);
        append(buf, len, &pos,
               "    EAX=%08x EBX=%08x ECX=%08x EDX=%08x ESI=%08x EDI=%08x EBP=%08x ESP=%08x "
               "EFL=%08x [%c%c%c%c%c%c%c]\n",
               cpu_get_reg(c, REG_EAX), cpu_get_reg(c, REG_EBX), cpu_get_reg(c, REG_ECX),
               cpu_get_reg(c, REG_EDX), cpu_get_reg(c, REG_ESI), cpu_get_reg(c, REG_EDI),
               cpu_get_reg(c, REG_EBP), cpu_get_reg(c, REG_ESP), fl, fl & FL_DF ? 'D' : '-', fl & FL_OF ? 'O' : '-',
               fl & FL_SF ? 'S' : '-', fl & FL_ZF ? 'Z' : '-', fl & FL_AF ? 'A' : '-',
               fl & FL_PF ? 'P' : '-', fl & FL_CF ? 'C' : '-');
    }
    return pos;
}

static void insnlog_hook(void *ctx, struct cpu *c, uint32_t lin_eip)
{
    struct insnlog *log = ctx;
    char line[512];
    size_t n = insnlog_format(log, c, lin_eip, line, sizeof(line));
    fwrite(line, 1, n < sizeof(line) ? n : sizeof(line) - 1, log->out);
}

int insnlog_attach(struct insnlog *log, struct cpu *c)
{
    return cpu_add_insn_hook(c, insnlog_hook, log);
}

void insnlog_detach(struct insnlog *log, struct cpu *c)
{
    cpu_remove_insn_hook(c, insnlog_hook, log);
}
