/* The privilege-ring guests' kernel half in C: descriptor tables, the TSS, the trap handler that
 * records events, running probes and describing what happened (see rings.h). */
#include <stddef.h>

#include "rings.h"

uint64_t gdt[GDT_ENTRIES];
uint64_t idt[256];
uint64_t ldt[2];
struct tss tss;
uint8_t user_stack[USER_STACK_SIZE] __attribute__((aligned(16)));
uint8_t r0_stack[USER_STACK_SIZE] __attribute__((aligned(16)));
uint8_t trap_stack[TRAP_STACK_SIZE] __attribute__((aligned(16)));

/* entry.S reads struct probe at these offsets. */
_Static_assert(offsetof(struct probe, ring) == 12, "P_RING");
_Static_assert(offsetof(struct probe, eflags) == 16, "P_EFLAGS");
_Static_assert(offsetof(struct probe, esp) == 20, "P_ESP");
_Static_assert(offsetof(struct probe, eax) == 24, "P_EAX");
_Static_assert(offsetof(struct probe, ebp) == 48, "P_EBP");
_Static_assert(offsetof(struct tss, iobitmap) == 104, "TSS layout");
_Static_assert(sizeof(struct tf) == 19 * 4, "tf layout");

/* A code/data/system descriptor:
 *   63..56 base 31..24 | 55 G 54 D/B 53 0 52 AVL | 51..48 limit 19..16 | 47 P 46..45 DPL 44 S
 *   43..40 type | 39..16 base 23..0 | 15..0 limit 15..0
 * access = P DPL S type (bits 47..40), flags = G D/B 0 AVL (bits 55..52). */
uint64_t seg_desc(uint32_t base, uint32_t limit, unsigned access, unsigned flags)
{
    uint32_t lo = (limit & 0xFFFF) | (base << 16);
    uint32_t hi = ((base >> 16) & 0xFF) | (access << 8) | (limit & 0xF0000) | (flags << 20) |
                  (base & 0xFF000000u);
    return ((uint64_t)hi << 32) | lo;
}

/* A gate: offset 31..16 | P DPL 0 type | params (call gates) || selector | offset 15..0. */
uint64_t gate_desc(uint16_t sel, uint32_t off, unsigned type, unsigned dpl, bool present,
                   unsigned params)
{
    uint32_t lo = (off & 0xFFFF) | ((uint32_t)sel << 16);
    uint32_t hi = (off & 0xFFFF0000u) | (present ? 0x8000u : 0) | (dpl << 13) | (type << 8) |
                  (params & 0x1F);
    return ((uint64_t)hi << 32) | lo;
}

void set_idt_gate(unsigned vec, uint16_t sel, void (*fn)(void), unsigned type, unsigned dpl,
                  bool present)
{
    idt[vec] = gate_desc(sel, (uint32_t)fn, type, dpl, present, 0);
}

void set_idt_default(unsigned vec)
{
    if (vec < 32) {
        /* #BP and #OF may be raised with INT3/INTO from ring 3, as on most kernels. */
        unsigned dpl = (vec == 3 || vec == 4) ? 3 : 0;
        set_idt_gate(vec, KCODE, isr_table[vec], 0xE, dpl, true);
        return;
    }
    switch (vec) {
    case VEC_EXIT: set_idt_gate(vec, KCODE, isr_exit, 0xE, 3, true); break;
    case VEC_PRIV: set_idt_gate(vec, KCODE, isr_priv, 0xE, 0, true); break;
    case VEC_NP: set_idt_gate(vec, KCODE, isr_priv, 0xE, 3, false); break;
    case VEC_TRAP: set_idt_gate(vec, KCODE, isr_trap, 0xF, 3, true); break;
    case VEC_INTR: set_idt_gate(vec, KCODE, isr_intr, 0xE, 3, true); break;
    case VEC_SETK: set_idt_gate(vec, KCODE, isr_setk, 0xE, 3, true); break;
    case VEC_NP0: set_idt_gate(vec, KCODE, isr_priv, 0xE, 0, false); break;
    default: idt[vec] = 0; break;
    }
}

void io_allow(unsigned port, unsigned n, bool allow)
{
    for (unsigned p = port; p < port + n; p++) {
        if (allow)
            tss.iobitmap[p / 8] &= (uint8_t)~(1u << (p % 8));
        else
            tss.iobitmap[p / 8] |= (uint8_t)(1u << (p % 8));
    }
}

struct __attribute__((packed)) dtr {
    uint16_t limit;
    uint32_t base;
};

void rings_init(void)
{
    gdt[0] = 0;
    gdt[KCODE / 8] = seg_desc(0, 0xFFFFF, 0x9A, 0xC);
    gdt[KDATA / 8] = seg_desc(0, 0xFFFFF, 0x92, 0xC);
    gdt[UCODE / 8] = seg_desc(0, 0xFFFFF, 0xFA, 0xC);
    gdt[UDATA / 8] = seg_desc(0, 0xFFFFF, 0xF2, 0xC);
    gdt[TSSSEL / 8] = seg_desc((uint32_t)&tss, sizeof(tss) - 1, 0x89, 0x0);
    gdt[CGATE3 / 8] = gate_desc(KCODE, (uint32_t)cg_entry, 0xC, 3, true, 2);
    gdt[KCONF / 8] = seg_desc(0, 0xFFFFF, 0x9E, 0xC);
    gdt[UNP / 8] = seg_desc(0, 0xFFFFF, 0x72, 0xC);
    gdt[UXO / 8] = seg_desc(0, 0xFFFFF, 0xF8, 0xC);
    gdt[LDTSEL / 8] = seg_desc((uint32_t)ldt, sizeof(ldt) - 1, 0x82, 0x0);
    gdt[KSMALL / 8] = seg_desc(0, 0xFFF, 0x92, 0x4);
    gdt[CGATE0 / 8] = gate_desc(KCODE, (uint32_t)cg_entry, 0xC, 0, true, 2);
    gdt[URO / 8] = seg_desc(0, 0xFFFFF, 0xF0, 0xC);
    gdt[KNP / 8] = seg_desc(0, 0xFFFFF, 0x12, 0xC);
    ldt[0] = seg_desc(0, 0xFFFFF, 0xF2, 0xC);
    ldt[1] = 0;

    static struct dtr gdtr, idtr;
    gdtr.limit = sizeof(gdt) - 1;
    gdtr.base = (uint32_t)gdt;
    load_gdt_and_segments(&gdtr);

    for (unsigned v = 0; v < 256; v++)
        set_idt_default(v);
    idtr.limit = sizeof(idt) - 1;
    idtr.base = (uint32_t)idt;
    __asm__ volatile("lidt %0" : : "m"(idtr));

    tss.esp0 = TRAP_TOP;
    tss.ss0 = KDATA;
    tss.iomap = (uint16_t)offsetof(struct tss, iobitmap);
    for (unsigned k = 0; k < sizeof(tss.iobitmap); k++)
        tss.iobitmap[k] = 0xFF;
    tss.iobitmap_end = 0xFF;
    __asm__ volatile("ltr %w0" : : "r"(TSSSEL));
    __asm__ volatile("lldt %w0" : : "r"(LDTSEL));

    /* Mask both 8259s (QEMU's BIOS leaves the timer enabled); ports Ringside ignores. */
    outb(0x21, 0xFF);
    outb(0xA1, 0xFF);
}

/* ---- the trap handler ---- */

static struct result *cur;

void trap(struct tf *tf);
void trap(struct tf *tf)
{
    struct result *r = cur;
    if (!r) {
        rt_printf("unexpected event %x error %x at %x:%x\n", tf->vec, tf->err, tf->cs & 0xFFFF,
                  tf->eip);
        rt_exit(0x7d);
    }
    if (tf->vec == VEC_EXIT) {
        r->exit = *tf;
        r->exit.cs &= 0xFFFF;
        r->exit.ss &= 0xFFFF;
        r->exited = true;
        cur = NULL;
        probe_return();
    }
    if (r->n < MAX_EVENTS) {
        struct event *e = &r->ev[r->n];
        e->vec = tf->vec;
        e->err = tf->err;
        e->eip = tf->eip;
        e->cs = tf->cs & 0xFFFF;
        e->eflags = tf->eflags;
        e->outer = (e->cs & 3) != (rd_cs() & 3u);
        e->esp = e->outer ? tf->esp : 0;
        e->ss = e->outer ? tf->ss & 0xFFFF : 0;
        e->h_cs = rd_cs();
        e->h_ss = rd_ss();
        __asm__ volatile("pushfl; popl %0" : "=r"(e->h_eflags));
        e->frame = (uint32_t)&tf->eip;
    }
    r->n++;
    if (r->n > 8) {
        r->aborted = true;
        cur = NULL;
        probe_return();
    }
    if (tf->vec == VEC_SETK)
        tf->ds = tf->es = tf->fs = tf->gs = KDATA;
    if (tf->eip == (uint32_t)r->p.at)
        tf->eip = (uint32_t)r->p.end; /* a fault: skip the instruction */
}

void run_probe(struct result *r, const struct probe *p)
{
    for (unsigned k = 0; k < sizeof(*r); k++)
        ((uint8_t *)r)[k] = 0;
    r->p = *p;
    if (!r->p.esp)
        r->p.esp = r->p.ring ? USER_TOP : R0_TOP;
    r->p.eflags |= 0x2;
    cur = r;
    enter_probe(&r->p);
    cur = NULL;
}

/* ---- formatting ---- */

struct buf {
    char *p;
    unsigned left;
};

static void put(struct buf *b, char ch)
{
    if (b->left > 1) {
        *b->p++ = ch;
        b->left--;
    }
}

static void vformat(struct buf *b, const char *fmt, va_list ap)
{
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            put(b, *fmt);
            continue;
        }
        fmt++;
        int width = 0;
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        if (*fmt == 's') {
            for (const char *s = va_arg(ap, const char *); *s; s++)
                put(b, *s);
        } else if (*fmt == 'x' || *fmt == 'u') {
            uint32_t v = va_arg(ap, uint32_t), base = *fmt == 'x' ? 16 : 10;
            char tmp[12];
            int n = 0;
            do {
                tmp[n++] = "0123456789abcdef"[v % base];
                v /= base;
            } while (v);
            for (int k = n; k < width; k++)
                put(b, '0');
            while (n)
                put(b, tmp[--n]);
        } else {
            put(b, *fmt);
        }
    }
}

void snprint(char *out, unsigned len, const char *fmt, ...)
{
    struct buf b = {out, len};
    va_list ap;
    va_start(ap, fmt);
    vformat(&b, fmt, ap);
    va_end(ap);
    *b.p = 0;
}

static void append(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vformat(b, fmt, ap);
    va_end(ap);
    *b->p = 0;
}

static const char *const vec_names[32] = {
    "DE", "DB", "NMI", "BP", "OF", "BR", "UD", "NM", "DF", "09", "TS", "NP", "SS", "GP", "PF",
    "15", "MF", "AC", "MC", "XM", "VE", "CP", "22", "23", "24", "25", "26", "27", "28", "29",
    "30", "31",
};

static bool has_error_code(unsigned v)
{
    return v == 8 || (v >= 10 && v <= 14) || v == 17 || v == 21 || v == 29 || v == 30;
}

/* ESP-like value relative to the probe's initial ESP. */
static void rel(struct buf *b, uint32_t v, uint32_t top)
{
    if (v == top)
        append(b, "top");
    else if (v < top && top - v < 4096)
        append(b, "top-%u", top - v);
    else
        append(b, "%08x", v);
}

void describe(const struct result *r, char *out, unsigned len)
{
    struct buf b = {out, len};
    *out = 0;
    if (r->n == 0) {
        append(&b, "none");
    } else {
        const struct event *e = &r->ev[0];
        if (e->vec < 32)
            append(&b, "#%s", vec_names[e->vec]);
        else
            append(&b, "int%02x", e->vec);
        if (e->vec < 32 && has_error_code(e->vec))
            append(&b, "(%04x)", e->err);
        append(&b, " eip=");
        if (e->eip == (uint32_t)r->p.at)
            append(&b, "at");
        else if (e->eip == (uint32_t)r->p.end)
            append(&b, "end");
        else
            append(&b, "%08x", e->eip);
        append(&b, " cs=%04x", e->cs);
        if (e->outer) {
            append(&b, " ss=%04x esp=", e->ss);
            rel(&b, e->esp, r->p.esp);
        }
        append(&b, " h=%04x:%04x stack=", e->h_cs, e->h_ss);
        if (e->frame == TRAP_TOP - 20)
            append(&b, "tss");
        else
            rel(&b, e->frame, r->p.esp);
        if (r->n > 1)
            append(&b, " (+%u more)", r->n - 1);
    }
    if (r->exited)
        append(&b, " back=%u", r->exit.cs & 3);
    else
        append(&b, r->aborted ? " aborted" : " lost");
}

void expect(const char *name, const struct result *r, const char *want)
{
    char got[160];
    describe(r, got, sizeof(got));
    check_str(name, got, want);
}

void run_conf(struct result *r, uint32_t ss0, uint32_t esp0, char *out, unsigned len,
              const struct probe *p)
{
    for (unsigned k = 0; k < 8; k++)
        conf_rec[k] = 0;
    conf_fix_ss0 = KDATA;
    conf_fix_esp0 = TRAP_TOP;
    tss.ss0 = ss0;
    tss.esp0 = esp0;
    run_probe(r, p);
    bool repaired = tss.ss0 == KDATA && tss.esp0 == TRAP_TOP;
    tss.ss0 = KDATA;
    tss.esp0 = TRAP_TOP;
    struct buf b = {out, len};
    *out = 0;
    if (!conf_rec[CR_CS]) {
        append(&b, "no conforming handler ran");
    } else {
        unsigned v = conf_rec[CR_VEC] & 31;
        append(&b, "#%s(%04x) cs=%04x h=%04x:%04x stack=", vec_names[v], conf_rec[CR_ERR],
               conf_rec[CR_PCS] & 0xFFFF, conf_rec[CR_CS], conf_rec[CR_SS]);
        rel(&b, conf_rec[CR_ESP], r->p.esp);
    }
    if (r->exited)
        append(&b, " exit=%04x", r->exit.cs);
    if (!repaired)
        append(&b, " tss-not-repaired");
    if (r->n) {
        append(&b, " ring0:");
        describe(r, b.p, len - (unsigned)(b.p - out));
    }
}
