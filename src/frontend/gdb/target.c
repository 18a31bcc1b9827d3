/* Registers, memory and the packets (see gdb.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/inspect.h"
#include "frontend/gdb/gdb.h"

/* The registers gdb sees, in the order of target.xml (the g packet's order): the i386 core
 * (general, EIP, EFLAGS, segment selectors, the x87 registers gdb's i386 core requires, which
 * read 0 since Ringside has no FPU), then Ringside's system registers. */
enum {
    GR_EAX, GR_EIP = 8, GR_EFLAGS, GR_CS, GR_SS, GR_DS, GR_ES, GR_FS, GR_GS,
    GR_ST0, GR_FCTRL = GR_ST0 + 8, GR_FOP = GR_FCTRL + 7,
    GR_CR0, GR_CR2, GR_CR3, GR_CR4, GR_CPL,
    GR_COUNT
};

static const char target_xml[] =
    "<?xml version=\"1.0\"?>\n"
    "<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n"
    "<target version=\"1.0\">\n"
    "<architecture>i386</architecture>\n"
    "<feature name=\"org.gnu.gdb.i386.core\">\n"
    "<flags id=\"i386_eflags\" size=\"4\">\n"
    "<field name=\"CF\" start=\"0\" end=\"0\"/><field name=\"\" start=\"1\" end=\"1\"/>\n"
    "<field name=\"PF\" start=\"2\" end=\"2\"/><field name=\"AF\" start=\"4\" end=\"4\"/>\n"
    "<field name=\"ZF\" start=\"6\" end=\"6\"/><field name=\"SF\" start=\"7\" end=\"7\"/>\n"
    "<field name=\"TF\" start=\"8\" end=\"8\"/><field name=\"IF\" start=\"9\" end=\"9\"/>\n"
    "<field name=\"DF\" start=\"10\" end=\"10\"/><field name=\"OF\" start=\"11\" end=\"11\"/>\n"
    "<field name=\"NT\" start=\"14\" end=\"14\"/><field name=\"RF\" start=\"16\" end=\"16\"/>\n"
    "<field name=\"VM\" start=\"17\" end=\"17\"/><field name=\"AC\" start=\"18\" end=\"18\"/>\n"
    "<field name=\"ID\" start=\"21\" end=\"21\"/>\n"
    "</flags>\n"
    "<reg name=\"eax\" bitsize=\"32\" type=\"int32\" regnum=\"0\"/>\n"
    "<reg name=\"ecx\" bitsize=\"32\" type=\"int32\"/>\n"
    "<reg name=\"edx\" bitsize=\"32\" type=\"int32\"/>\n"
    "<reg name=\"ebx\" bitsize=\"32\" type=\"int32\"/>\n"
    "<reg name=\"esp\" bitsize=\"32\" type=\"data_ptr\"/>\n"
    "<reg name=\"ebp\" bitsize=\"32\" type=\"data_ptr\"/>\n"
    "<reg name=\"esi\" bitsize=\"32\" type=\"int32\"/>\n"
    "<reg name=\"edi\" bitsize=\"32\" type=\"int32\"/>\n"
    "<reg name=\"eip\" bitsize=\"32\" type=\"code_ptr\"/>\n"
    "<reg name=\"eflags\" bitsize=\"32\" type=\"i386_eflags\"/>\n"
    "<reg name=\"cs\" bitsize=\"32\" type=\"int32\"/>\n"
    "<reg name=\"ss\" bitsize=\"32\" type=\"int32\"/>\n"
    "<reg name=\"ds\" bitsize=\"32\" type=\"int32\"/>\n"
    "<reg name=\"es\" bitsize=\"32\" type=\"int32\"/>\n"
    "<reg name=\"fs\" bitsize=\"32\" type=\"int32\"/>\n"
    "<reg name=\"gs\" bitsize=\"32\" type=\"int32\"/>\n"
    "<reg name=\"st0\" bitsize=\"80\" type=\"i387_ext\"/>\n"
    "<reg name=\"st1\" bitsize=\"80\" type=\"i387_ext\"/>\n"
    "<reg name=\"st2\" bitsize=\"80\" type=\"i387_ext\"/>\n"
    "<reg name=\"st3\" bitsize=\"80\" type=\"i387_ext\"/>\n"
    "<reg name=\"st4\" bitsize=\"80\" type=\"i387_ext\"/>\n"
    "<reg name=\"st5\" bitsize=\"80\" type=\"i387_ext\"/>\n"
    "<reg name=\"st6\" bitsize=\"80\" type=\"i387_ext\"/>\n"
    "<reg name=\"st7\" bitsize=\"80\" type=\"i387_ext\"/>\n"
    "<reg name=\"fctrl\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
    "<reg name=\"fstat\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
    "<reg name=\"ftag\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
    "<reg name=\"fiseg\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
    "<reg name=\"fioff\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
    "<reg name=\"foseg\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
    "<reg name=\"fooff\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
    "<reg name=\"fop\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
    "</feature>\n"
    "<feature name=\"org.ringside.i386.system\">\n"
    "<reg name=\"cr0\" bitsize=\"32\" type=\"int32\" group=\"system\"/>\n"
    "<reg name=\"cr2\" bitsize=\"32\" type=\"data_ptr\" group=\"system\"/>\n"
    "<reg name=\"cr3\" bitsize=\"32\" type=\"int32\" group=\"system\"/>\n"
    "<reg name=\"cr4\" bitsize=\"32\" type=\"int32\" group=\"system\"/>\n"
    "<reg name=\"cpl\" bitsize=\"32\" type=\"int32\" group=\"system\"/>\n"
    "</feature>\n"
    "</target>\n";

/* gdb's segment register order -> the inspection API's. */
static const enum cpu_sreg seg_of[6] = { SREG_CS, SREG_SS, SREG_DS, SREG_ES, SREG_FS, SREG_GS };
static const enum cpu_reg cr_of[4] = { REG_CR0, REG_CR2, REG_CR3, REG_CR4 };

/* Register n's size in bytes (0: no such register). */
static size_t reg_size(unsigned n)
{
    if (n >= GR_COUNT)
        return 0;
    return n >= GR_ST0 && n < GR_FCTRL ? 10 : 4;
}

/* Register n's value, little-endian, into out (reg_size(n) bytes). */
static void reg_read(const struct gdb_target *t, unsigned n, uint8_t *out)
{
    const struct cpu *c = &t->m->cpu;
    uint32_t v = 0;
    memset(out, 0, reg_size(n));
    if (n < 8)
        v = cpu_get_reg(c, (enum cpu_reg)(REG_EAX + n));
    else if (n == GR_EIP)
        v = cpu_get_reg(c, REG_EIP);
    else if (n == GR_EFLAGS)
        v = cpu_get_reg(c, REG_EFLAGS);
    else if (n >= GR_CS && n <= GR_GS) {
        struct seg_value s;
        if (cpu_get_seg(c, seg_of[n - GR_CS], &s) == INSP_OK)
            v = s.sel;
    } else if (n >= GR_CR0 && n <= GR_CR4)
        v = cpu_get_reg(c, cr_of[n - GR_CR0]);
    else if (n == GR_CPL)
        v = cpu_get_cpl(c);
    else if (n < GR_ST0 + 8)
        return; /* no FPU: st0..st7 read 0 */
    for (int k = 0; k < 4; k++)
        out[k] = (uint8_t)(v >> (8 * k));
}

/* Sets register n from reg_size(n) little-endian bytes; false when the cpu refuses. The x87
 * registers take only 0 (there is no FPU); CPL follows CS and cannot be written. */
static bool reg_write(struct gdb_target *t, unsigned n, const uint8_t *in)
{
    struct cpu *c = &t->m->cpu;
    uint32_t v = (uint32_t)in[0] | (uint32_t)in[1] << 8 | (uint32_t)in[2] << 16 |
                 (uint32_t)in[3] << 24;
    if (n < 8)
        return cpu_set_reg(c, (enum cpu_reg)(REG_EAX + n), v) == INSP_OK;
    if (n == GR_EIP)
        return cpu_set_reg(c, REG_EIP, v) == INSP_OK;
    if (n == GR_EFLAGS)
        return cpu_set_reg(c, REG_EFLAGS, v) == INSP_OK;
    if (n >= GR_CS && n <= GR_GS) {
        struct seg_value s;
        enum cpu_sreg sr = seg_of[n - GR_CS];
        if (cpu_get_seg(c, sr, &s) != INSP_OK)
            return false;
        if (s.sel == (uint16_t)v)
            return true; /* unchanged (gdb's G packet writes everything back) */
        if (v > 0xFFFF)
            return false;
        /* A new selector: its hidden part from the descriptor it names. */
        struct desc d;
        if ((v & ~3u) == 0) {
            s = (struct seg_value){ .sel = (uint16_t)v };
        } else {
            if (cpu_read_desc(c, (uint16_t)v, &d) != INSP_OK || !d.s || !d.p)
                return false;
            s = (struct seg_value){ .sel = (uint16_t)v, .base = d.base, .limit = d.limit,
                                    .attr = desc_attr(&d) };
        }
        return cpu_set_seg(c, sr, &s) == INSP_OK;
    }
    if (n >= GR_CR0 && n <= GR_CR4)
        return cpu_set_reg(c, cr_of[n - GR_CR0], v) == INSP_OK;
    if (n == GR_CPL)
        return v == cpu_get_cpl(c);
    for (size_t k = 0; k < reg_size(n); k++)
        if (in[k])
            return false;
    return true;
}

/* "addr,len" -> values; returns the characters taken, 0 on a bad form. */
static size_t parse_addr_len(const char *p, uint64_t *addr, uint64_t *len)
{
    size_t a = rsp_parse_hex(p, 16, addr);
    if (!a || p[a] != ',')
        return 0;
    size_t l = rsp_parse_hex(p + a + 1, 16, len);
    if (!l)
        return 0;
    return a + 1 + l;
}

/* m addr,len: linear memory through the current page tables. What lies before the first
 * unmapped byte is returned; nothing at all mapped is an error (E14 = EFAULT). */
static void read_memory(struct gdb_target *t, const char *p, struct rsp_reply *r)
{
    uint64_t addr, len;
    size_t n = parse_addr_len(p, &addr, &len);
    if (!n || p[n] || addr > UINT32_MAX) {
        rsp_put(r, "E16");
        return;
    }
    if (len > RSP_MAX_PACKET / 2)
        len = RSP_MAX_PACKET / 2;
    uint8_t buf[RSP_MAX_PACKET / 2];
    struct xfer x = cpu_read_linear(&t->m->cpu, (uint32_t)addr, buf, (size_t)len);
    if (x.done == 0 && len > 0) {
        rsp_put(r, "E14");
        return;
    }
    rsp_put_hex(r, buf, x.done);
}

/* M addr,len:XX...: all or nothing as far as the check goes (every byte must be mapped). */
static void write_memory(struct gdb_target *t, const char *p, size_t plen, struct rsp_reply *r)
{
    uint64_t addr, len;
    size_t n = parse_addr_len(p, &addr, &len);
    if (!n || p[n] != ':' || addr > UINT32_MAX || len > RSP_MAX_PACKET / 2 ||
        plen - n - 1 != 2 * len) {
        rsp_put(r, "E16");
        return;
    }
    uint8_t buf[RSP_MAX_PACKET / 2], probe[RSP_MAX_PACKET / 2];
    if (!rsp_unhex(p + n + 1, (size_t)len, buf)) {
        rsp_put(r, "E16");
        return;
    }
    struct cpu *c = &t->m->cpu;
    if (cpu_read_linear(c, (uint32_t)addr, probe, (size_t)len).status != INSP_OK) {
        rsp_put(r, "E14");
        return;
    }
    struct xfer x = cpu_write_linear(c, (uint32_t)addr, buf, (size_t)len);
    rsp_put(r, x.status == INSP_OK ? "OK" : "E14");
}

static void read_all_regs(const struct gdb_target *t, struct rsp_reply *r)
{
    for (unsigned n = 0; n < GR_COUNT; n++) {
        uint8_t v[10];
        reg_read(t, n, v);
        rsp_put_hex(r, v, reg_size(n));
    }
}

/* G: every register; those that cannot be set are an error, the rest stay set. */
static void write_all_regs(struct gdb_target *t, const char *p, size_t plen, struct rsp_reply *r)
{
    size_t need = 0;
    for (unsigned n = 0; n < GR_COUNT; n++)
        need += 2 * reg_size(n);
    if (plen != need) {
        rsp_put(r, "E16");
        return;
    }
    bool ok = true;
    for (unsigned n = 0; n < GR_COUNT; n++) {
        uint8_t v[10];
        if (!rsp_unhex(p, reg_size(n), v)) {
            rsp_put(r, "E16");
            return;
        }
        p += 2 * reg_size(n);
        ok &= reg_write(t, n, v);
    }
    rsp_put(r, ok ? "OK" : "E16");
}

/* p n / P n=v. */
static void one_reg(struct gdb_target *t, const char *p, bool write, struct rsp_reply *r)
{
    uint64_t n;
    size_t k = rsp_parse_hex(p, 8, &n);
    if (!k || reg_size((unsigned)n) == 0 || n >= GR_COUNT) {
        rsp_put(r, "E16");
        return;
    }
    size_t sz = reg_size((unsigned)n);
    if (!write) {
        if (p[k]) {
            rsp_put(r, "E16");
            return;
        }
        uint8_t v[10];
        reg_read(t, (unsigned)n, v);
        rsp_put_hex(r, v, sz);
        return;
    }
    uint8_t v[10];
    if (p[k] != '=' || strlen(p + k + 1) != 2 * sz || !rsp_unhex(p + k + 1, sz, v)) {
        rsp_put(r, "E16");
        return;
    }
    rsp_put(r, reg_write(t, (unsigned)n, v) ? "OK" : "E16");
}

/* qXfer:features:read:target.xml:offset,length */
static void xfer_features(const char *p, struct rsp_reply *r)
{
    static const char prefix[] = "target.xml:";
    if (strncmp(p, prefix, sizeof prefix - 1) != 0) {
        rsp_put(r, "E00");
        return;
    }
    uint64_t off, len;
    size_t n = parse_addr_len(p + sizeof prefix - 1, &off, &len);
    if (!n || p[sizeof prefix - 1 + n]) {
        rsp_put(r, "E16");
        return;
    }
    size_t total = sizeof target_xml - 1;
    if (off >= total) {
        rsp_put(r, "l");
        return;
    }
    if (len > RSP_MAX_PACKET / 2)
        len = RSP_MAX_PACKET / 2;
    size_t take = total - off < len ? total - (size_t)off : (size_t)len;
    char chunk[RSP_MAX_PACKET / 2 + 1];
    memcpy(chunk, target_xml + off, take);
    chunk[take] = '\0';
    rsp_put(r, off + take >= total ? "l" : "m");
    rsp_put(r, chunk); /* rsp_finish escapes what needs it */
}

/* qRcmd,HEX: a monitor command; its text goes to t->mon (the stub sends it as console
 * output). False for a malformed command. */
static bool monitor_cmd(struct gdb_target *t, const char *p)
{
    size_t n = strlen(p);
    char cmd[512];
    if (n % 2 || n / 2 >= sizeof cmd || !rsp_unhex(p, n / 2, (uint8_t *)cmd))
        return false;
    cmd[n / 2] = '\0';
    gdb_monitor(t, cmd, t->mon, sizeof t->mon);
    return true;
}

/* Z/z type,addr,kind */
static void point(struct gdb_target *t, const char *p, bool insert, struct rsp_reply *r)
{
    uint64_t type, addr, kind;
    size_t a = rsp_parse_hex(p, 2, &type);
    if (!a || p[a] != ',' || type >= PT_TYPES) {
        rsp_put(r, a && p[a] == ',' ? "" : "E16"); /* an unknown type: not supported */
        return;
    }
    size_t b = parse_addr_len(p + a + 1, &addr, &kind);
    if (!b || (p[a + 1 + b] && p[a + 1 + b] != ';') || addr > UINT32_MAX) {
        rsp_put(r, "E16");
        return;
    }
    int rc = insert ? gdb_point_insert(t, (unsigned)type, (uint32_t)addr, (uint32_t)kind)
                    : gdb_point_remove(t, (unsigned)type, (uint32_t)addr, (uint32_t)kind);
    rsp_put(r, rc == 0 ? "OK" : "E16");
}

static bool starts(const char *p, const char *prefix)
{
    return strncmp(p, prefix, strlen(prefix)) == 0;
}

enum gdb_action gdb_handle(struct gdb_target *t, const char *pkt, size_t len,
                           struct rsp_reply *r)
{
    if (len == 0)
        return ACT_REPLY; /* empty reply: not supported */
    const char *arg = pkt + 1;
    switch (pkt[0]) {
    case '?':
        gdb_stop_reply(t, r);
        return ACT_REPLY;
    case 'g':
        read_all_regs(t, r);
        return ACT_REPLY;
    case 'G':
        write_all_regs(t, arg, len - 1, r);
        return ACT_REPLY;
    case 'p':
        one_reg(t, arg, false, r);
        return ACT_REPLY;
    case 'P':
        one_reg(t, arg, true, r);
        return ACT_REPLY;
    case 'm':
        read_memory(t, arg, r);
        return ACT_REPLY;
    case 'M':
        write_memory(t, arg, len - 1, r);
        return ACT_REPLY;
    case 'Z':
    case 'z':
        point(t, arg, pkt[0] == 'Z', r);
        return ACT_REPLY;
    case 'c':
    case 's':
        if (*arg) { /* resume at an address */
            uint64_t a;
            size_t k = rsp_parse_hex(arg, 8, &a);
            if (!k || arg[k] || cpu_set_reg(&t->m->cpu, REG_EIP, (uint32_t)a) != INSP_OK) {
                rsp_put(r, "E16");
                return ACT_REPLY;
            }
        }
        return pkt[0] == 'c' ? ACT_CONTINUE : ACT_STEP;
    case 'b':
        if (strcmp(pkt, "bs") == 0)
            return ACT_REVERSE_STEP;
        if (strcmp(pkt, "bc") == 0)
            return ACT_REVERSE_CONTINUE;
        return ACT_REPLY;
    case 'D':
        rsp_put(r, "OK");
        return ACT_DETACH;
    case 'k':
        return ACT_KILL;
    case 'H':
    case 'T':
        rsp_put(r, "OK"); /* one thread */
        return ACT_REPLY;
    case 'v':
        if (strcmp(pkt, "vMustReplyEmpty") == 0)
            return ACT_REPLY;
        if (starts(pkt, "vKill")) {
            rsp_put(r, "OK");
            return ACT_KILL;
        }
        return ACT_REPLY; /* vCont and the rest: not supported (gdb uses c and s) */
    case 'q':
        if (starts(pkt, "qSupported")) {
            rsp_putf(r, "PacketSize=%x;qXfer:features:read+;swbreak+;hwbreak+;"
                     "ReverseStep+;ReverseContinue+", RSP_MAX_PACKET);
        } else if (strcmp(pkt, "qAttached") == 0) {
            rsp_put(r, "1");
        } else if (strcmp(pkt, "qC") == 0) {
            rsp_put(r, "QC1");
        } else if (strcmp(pkt, "qfThreadInfo") == 0) {
            rsp_put(r, "m1");
        } else if (strcmp(pkt, "qsThreadInfo") == 0) {
            rsp_put(r, "l");
        } else if (starts(pkt, "qXfer:features:read:")) {
            xfer_features(pkt + strlen("qXfer:features:read:"), r);
        } else if (starts(pkt, "qRcmd,")) {
            if (monitor_cmd(t, pkt + strlen("qRcmd,")))
                return ACT_MONITOR;
            rsp_put(r, "E16");
        } else if (strcmp(pkt, "qOffsets") == 0) {
            rsp_put(r, "Text=0;Data=0;Bss=0");
        } else if (strcmp(pkt, "qSymbol::") == 0) {
            rsp_put(r, "OK");
        }
        return ACT_REPLY;
    default:
        return ACT_REPLY; /* unknown: the empty reply */
    }
}
