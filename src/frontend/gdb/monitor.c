/* `monitor ...` commands (gdb.h): break conditions and views of the machine in words. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/inspect.h"
#include "cpu/tss.h"
#include "frontend/gdb/gdb.h"
#include "frontend/pagedump.h"
#include "machine/snapshot.h"
#include "trace/describe.h"

static const char help_text[] =
    "monitor commands:\n"
    "  help                  this text\n"
    "  break mode            stop at the next CPL change (Bochs's modebp)\n"
    "  break vector N        stop at the next exception, interrupt or INT n with vector N\n"
    "  break syscall         stop at the next system call (INT n, SYSENTER or a call gate\n"
    "                        from CPL 3 inward)\n"
    "  break icount N        stop before the instruction that makes the count N\n"
    "  break io PORT         stop after the next IN, OUT, INS or OUTS of port PORT\n"
    "  break off             clear every break condition above\n"
    "  break                 list the break conditions\n"
    "  info mode             CPL, CR0, CR3 (and its space's name), CR4, IF and IOPL\n"
    "  info gdt              the GDT's descriptors\n"
    "  info idt              the IDT's gates with their DPLs\n"
    "  info tss              the current TSS: the stacks per ring, CR3, the I/O map\n"
    "  info pages            the page tables of the current CR3\n"
    "  info spaces           the address spaces seen (by CR3, with the names the guest\n"
    "                        gave them) and their instructions\n"
    "  info history          the snapshots kept for reverse execution\n"
    "A break condition stops once and is then cleared (break icount), or stays until\n"
    "`break off` (the others). Stops on events print the event as --log int does.\n";

struct text {
    char *buf;
    size_t len, pos;
};

static void say(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say(struct text *t, const char *fmt, ...)
{
    if (t->pos + 1 >= t->len)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->buf + t->pos, t->len - t->pos, fmt, ap);
    va_end(ap);
    if (n > 0)
        t->pos += (size_t)n < t->len - t->pos ? (size_t)n : t->len - t->pos - 1;
}

static void info_mode(struct gdb_target *g, struct text *t)
{
    const struct cpu *c = &g->m->cpu;
    uint32_t fl = cpu_get_reg(c, REG_EFLAGS);
    uint32_t cr0 = cpu_get_reg(c, REG_CR0), cr3 = cpu_get_reg(c, REG_CR3);
    char label[SPACE_LABEL_LEN];
    say(t, "CPL %u (%s mode), CR0 0x%08" PRIx32 " (PE=%u WP=%u PG=%u), CR3 0x%08" PRIx32
        " (%s), CR4 0x%08" PRIx32 ", IF %u, IOPL %u, icount %" PRIu64 "\n",
        cpu_get_cpl(c), cpu_get_cpl(c) == 3 ? "user" : "kernel", cr0, cr0 & 1,
        (cr0 >> 16) & 1, cr0 >> 31, cr3, machine_space_label(g->m, cr3, label, sizeof label),
        cpu_get_reg(c, REG_CR4), (fl >> 9) & 1, (fl >> 12) & 3, cpu_stat_insns(c));
}

/* One descriptor in words. */
static void say_desc(struct text *t, const struct desc *d)
{
    char type[64];
    describe_desc_type((unsigned)d->s << 4 | d->type, type, sizeof type);
    if (desc_is_gate(d)) {
        if (desc_is_task_gate(d))
            say(t, "%s to TSS 0x%04x", type, gate_selector(d));
        else
            say(t, "%s to %04x:%08" PRIx32, type, gate_selector(d), gate_offset(d));
    } else {
        say(t, "%s base 0x%08" PRIx32 " limit 0x%08" PRIx32 "%s", type, d->base, d->limit,
            d->s ? (d->db ? " 32-bit" : " 16-bit") : "");
    }
    say(t, ", DPL %u%s\n", d->dpl, d->p ? "" : ", not present");
}

static void info_gdt(struct gdb_target *g, struct text *t)
{
    const struct cpu *c = &g->m->cpu;
    struct dtable gdtr;
    cpu_get_gdtr(c, &gdtr);
    say(t, "GDT at 0x%08" PRIx32 ", limit 0x%04x (%u entries)\n", gdtr.base, gdtr.limit,
        (gdtr.limit + 1u) / 8);
    for (unsigned k = 1; k < (gdtr.limit + 1u) / 8; k++) {
        struct desc d;
        enum insp_status st = cpu_read_gdt(c, k, &d);
        if (st != INSP_OK) {
            say(t, "  [%u] 0x%04x: %s\n", k, k * 8, insp_status_name(st));
            continue;
        }
        if (!d.lo && !d.hi)
            continue;
        say(t, "  [%u] 0x%04x: ", k, k * 8);
        say_desc(t, &d);
    }
}

static void info_idt(struct gdb_target *g, struct text *t)
{
    const struct cpu *c = &g->m->cpu;
    struct dtable idtr;
    cpu_get_idtr(c, &idtr);
    say(t, "IDT at 0x%08" PRIx32 ", limit 0x%04x (%u gates)\n", idtr.base, idtr.limit,
        (idtr.limit + 1u) / 8);
    for (unsigned v = 0; v < 256 && v < (idtr.limit + 1u) / 8; v++) {
        struct desc d;
        enum insp_status st = cpu_read_idt(c, v, &d);
        if (st != INSP_OK) {
            say(t, "  0x%02x: %s\n", v, insp_status_name(st));
            continue;
        }
        if (!d.p && !d.lo && !d.hi)
            continue;
        say(t, "  0x%02x: ", v);
        say_desc(t, &d);
    }
}

static void info_tss(struct gdb_target *g, struct text *t)
{
    const struct cpu *c = &g->m->cpu;
    struct seg_value tr;
    cpu_get_seg(c, SREG_TR, &tr);
    if ((tr.sel & ~3u) == 0) {
        say(t, "TR is null: no TSS loaded\n");
        return;
    }
    say(t, "TR 0x%04x: TSS at 0x%08" PRIx32 ", limit 0x%" PRIx32 "\n", tr.sel, tr.base,
        tr.limit);
    uint8_t tss[TSS_IOMAP + 4];
    struct xfer x = cpu_read_linear(c, tr.base, tss, sizeof tss);
    if (x.status != INSP_OK) {
        say(t, "  unreadable at 0x%08" PRIx32 ": %s\n", x.stop, insp_status_name(x.status));
        return;
    }
#define U32(off) ((uint32_t)tss[(off)] | (uint32_t)tss[(off) + 1] << 8 | \
                  (uint32_t)tss[(off) + 2] << 16 | (uint32_t)tss[(off) + 3] << 24)
    for (unsigned r = 0; r < 3; r++)
        say(t, "  ring %u stack SS:ESP %04" PRIx32 ":%08" PRIx32 "\n", r,
            U32(TSS_SS0 + r * TSS_STACK_STRIDE) & 0xFFFF, U32(TSS_ESP0 + r * TSS_STACK_STRIDE));
    say(t, "  CR3 0x%08" PRIx32 ", EIP 0x%08" PRIx32 ", EFLAGS 0x%08" PRIx32
        ", LDT 0x%04" PRIx32 ", back link 0x%04" PRIx32 ", I/O map base 0x%04" PRIx32 "\n",
        U32(TSS_CR3), U32(TSS_EIP), U32(TSS_EFLAGS), U32(TSS_LDT) & 0xFFFF,
        U32(TSS_LINK) & 0xFFFF, U32(TSS_IOMAP) >> 16);
#undef U32
}

static void info_pages(struct gdb_target *g, struct text *t)
{
    char *mem = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&mem, &n);
    if (!f) {
        say(t, "out of memory\n");
        return;
    }
    pagedump(f, &g->m->cpu);
    fclose(f);
    say(t, "%s", mem ? mem : "");
    if (mem && n + 1 >= t->len - t->pos)
        say(t, "\n(truncated: use --dump-pages at exit for the whole dump)\n");
    free(mem);
}

/* The spaces the cpu has run in, by CR3 with the name the guest gave it (the newest naming),
 * then every naming in the order the guest said it (a CR3 reused by a later process). */
static void info_spaces(struct gdb_target *g, struct text *t)
{
    const struct cpu *c = &g->m->cpu;
    char label[SPACE_LABEL_LEN];
    uint32_t now = cpu_get_reg(c, REG_CR3);
    say(t, "address spaces by CR3 (current 0x%08" PRIx32 ", %s):\n", now,
        machine_space_label(g->m, now, label, sizeof label));
    for (unsigned k = 0; k < cpu_stat_nspaces(c); k++) {
        uint32_t cr3;
        uint64_t kern, user;
        if (!cpu_stat_space(c, k, &cr3, &kern, &user))
            continue;
        bool named = machine_space_find(g->m, cr3) != NULL;
        say(t, "  CR3 0x%08" PRIx32 "%s%s: %" PRIu64 " kernel, %" PRIu64
            " user instructions\n", cr3, named ? " " : "",
            named ? machine_space_label(g->m, cr3, label, sizeof label) : "", kern, user);
    }
    unsigned n = machine_space_count(g->m);
    if (n)
        say(t, "named by the guest (oldest first):\n");
    for (unsigned k = 0; k < n; k++) {
        const struct space_name *sn = machine_space_at(g->m, k);
        say(t, "  icount %" PRIu64 ": CR3 0x%08" PRIx32 " is pid %" PRIu32 " (%s)\n",
            sn->icount, sn->cr3, sn->pid, sn->name);
    }
}

static void info_history(struct gdb_target *g, struct text *t)
{
    unsigned n;
    size_t bytes;
    gdb_history_stats(g, &n, &bytes);
    say(t, "%u snapshots, one every %" PRIu64 " instructions, %zu KiB of saved pages\n", n,
        g->snap_every, bytes / 1024);
    say(t, "%zu console input bytes logged for re-execution%s\n", g->in_n,
        g->in_lost ? " (some could not be: out of memory; going back may then differ)" : "");
    for (unsigned k = 0; k < g->nsnaps; k++)
        say(t, "  icount %" PRIu64 ": %zu KiB\n", g->snaps[k].icount,
            snapshot_ram_bytes(g->snaps[k].s) / 1024);
}

static void list_breaks(struct gdb_target *g, struct text *t)
{
    char vec[16] = "off", ic[24] = "off", io[16] = "off";
    if (g->break_vector >= 0)
        snprintf(vec, sizeof vec, "0x%02x", (unsigned)g->break_vector);
    if (g->break_io >= 0)
        snprintf(io, sizeof io, "0x%04x", (unsigned)g->break_io);
    if (g->break_icount)
        snprintf(ic, sizeof ic, "%" PRIu64, g->break_icount);
    say(t, "break mode %s, vector %s, syscall %s, icount %s, io %s\n",
        g->break_mode ? "on" : "off", vec, g->break_syscall ? "on" : "off", ic, io);
}

/* A number in decimal or 0x-hex; false on anything else. */
static bool number(const char *s, uint64_t *v)
{
    char *end;
    if (!*s || *s == '-')
        return false;
    *v = strtoull(s, &end, 0);
    return *end == '\0';
}

void gdb_monitor(struct gdb_target *g, const char *cmd, char *out, size_t len)
{
    struct text t = { out, len, 0 };
    out[0] = '\0';
    char w[4][32] = { "", "", "", "" };
    int n = sscanf(cmd, "%31s %31s %31s %31s", w[0], w[1], w[2], w[3]);
    uint64_t v;
    if (n <= 0 || strcmp(w[0], "help") == 0) {
        say(&t, "%s", help_text);
    } else if (strcmp(w[0], "break") == 0 && n == 1) {
        list_breaks(g, &t);
    } else if (strcmp(w[0], "break") == 0 && n == 2 && strcmp(w[1], "mode") == 0) {
        g->break_mode = true;
        say(&t, "will stop at the next CPL change\n");
    } else if (strcmp(w[0], "break") == 0 && n == 2 && strcmp(w[1], "syscall") == 0) {
        g->break_syscall = true;
        say(&t, "will stop at the next system call\n");
    } else if (strcmp(w[0], "break") == 0 && n == 2 && strcmp(w[1], "off") == 0) {
        g->break_mode = g->break_syscall = false;
        g->break_vector = -1;
        g->break_io = -1;
        g->break_icount = 0;
        say(&t, "break conditions cleared\n");
    } else if (strcmp(w[0], "break") == 0 && n == 3 && strcmp(w[1], "vector") == 0 &&
               number(w[2], &v) && v < 256) {
        g->break_vector = (int)v;
        say(&t, "will stop at the next event with vector 0x%02x\n", (unsigned)v);
    } else if (strcmp(w[0], "break") == 0 && n == 3 && strcmp(w[1], "io") == 0 &&
               number(w[2], &v) && v <= 0xFFFF) {
        g->break_io = (int)v;
        say(&t, "will stop after the next access to port 0x%04x\n", (unsigned)v);
    } else if (strcmp(w[0], "break") == 0 && n == 3 && strcmp(w[1], "icount") == 0 &&
               number(w[2], &v) && v > cpu_stat_insns(&g->m->cpu)) {
        g->break_icount = v;
        say(&t, "will stop at icount %" PRIu64 "\n", v);
    } else if (strcmp(w[0], "info") == 0 && n == 2) {
        if (strcmp(w[1], "mode") == 0)
            info_mode(g, &t);
        else if (strcmp(w[1], "gdt") == 0)
            info_gdt(g, &t);
        else if (strcmp(w[1], "idt") == 0)
            info_idt(g, &t);
        else if (strcmp(w[1], "tss") == 0)
            info_tss(g, &t);
        else if (strcmp(w[1], "pages") == 0)
            info_pages(g, &t);
        else if (strcmp(w[1], "spaces") == 0)
            info_spaces(g, &t);
        else if (strcmp(w[1], "history") == 0)
            info_history(g, &t);
        else
            say(&t, "unknown: info %s (try 'monitor help')\n", w[1]);
    } else {
        say(&t, "unknown or incomplete monitor command '%s' (try 'monitor help'); "
            "break vector takes 0..255, break io 0..0xffff, break icount a count ahead of "
            "now\n", cmd);
    }
}
