/* The inspection API (see inspect.h). Nothing here calls anything that can raise: memory is
 * read through paging_lookup (the side-effect-free walk) and RAM only. */
#include "cpu/inspect.h"

#include "cpu/debug.h"

#include <string.h>

#include "cpu/flags.h"
#include "cpu/insn.h"
#include "cpu/segment.h"
#include "mmu/mem.h"
#include "mmu/paging.h"

const char *insp_status_name(enum insp_status s)
{
    switch (s) {
    case INSP_OK: return "ok";
    case INSP_BAD_REG: return "no such register";
    case INSP_BAD_VALUE: return "a value the cpu cannot hold";
    case INSP_BEYOND_LIMIT: return "beyond the table limit";
    case INSP_NO_LDT: return "no LDT is loaded";
    case INSP_UNMAPPED: return "not mapped";
    case INSP_NOT_RAM: return "not RAM";
    }
    return "?";
}

/* ---- registers ---- */

static const char *const reg_names[REG_COUNT] = {
    "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi", "eip", "eflags",
    "cr0", "cr2", "cr3", "cr4", "dr0", "dr1", "dr2", "dr3", "dr4", "dr5", "dr6", "dr7",
    "sysenter_cs", "sysenter_esp", "sysenter_eip",
};

const char *cpu_reg_name(enum cpu_reg r)
{
    return (unsigned)r < REG_COUNT ? reg_names[r] : NULL;
}

/* DR4/DR5 alias DR6/DR7 (CR4.DE is not supported). */
static unsigned dr_index(enum cpu_reg r)
{
    unsigned n = (unsigned)(r - REG_DR0);
    return n == 4 ? 6 : n == 5 ? 7 : n;
}

uint32_t cpu_get_reg(const struct cpu *c, enum cpu_reg r)
{
    if ((unsigned)r <= REG_EDI)
        return c->r[r];
    switch (r) {
    case REG_EIP: return cpu_eip(c);
    case REG_EFLAGS: return cpu_get_eflags(c);
    case REG_CR0: return c->cr0;
    case REG_CR2: return c->cr2;
    case REG_CR3: return c->cr3;
    case REG_CR4: return c->cr4;
    case REG_DR0: case REG_DR1: case REG_DR2: case REG_DR3:
    case REG_DR4: case REG_DR5: case REG_DR6: case REG_DR7:
        return c->dr[dr_index(r)];
    case REG_SYSENTER_CS: return c->sysenter_cs;
    case REG_SYSENTER_ESP: return c->sysenter_esp;
    case REG_SYSENTER_EIP: return c->sysenter_eip;
    default: return 0;
    }
}

/* EFLAGS bits a set may change (VM is refused, the reserved bits read 0, bit 1 reads 1). */
#define EFLAGS_SETTABLE (FL_ARITH | FL_TF | FL_IF | FL_DF | FL_IOPL | FL_NT | FL_RF | FL_AC | \
                         FL_VIF | FL_VIP | FL_ID)

enum insp_status cpu_set_reg(struct cpu *c, enum cpu_reg r, uint32_t v)
{
    cpu_settle(c);
    if ((unsigned)r <= REG_EDI) {
        c->r[r] = v;
        return INSP_OK;
    }
    switch (r) {
    case REG_EIP:
        c->eip = v;
        c->halted = false; /* the cpu goes on from there */
        break;
    case REG_EFLAGS:
        if (v & FL_VM)
            return INSP_BAD_VALUE;
        c->lf.op = LF_NONE; /* the lazy state would override the new arithmetic flags */
        c->eflags = (v & EFLAGS_SETTABLE) | FL_R1;
        cpu_update_acc(c);
        break;
    case REG_CR0:
        /* As MOV CR0 (system.c): its #GP cases, and no way back to real mode. */
        if (((v & CR0_PG) && !(v & CR0_PE)) || ((v & CR0_NW) && !(v & CR0_CD)) ||
            !(v & CR0_PE))
            return INSP_BAD_VALUE;
        acct_update(c);
        c->cr0 = v | CR0_ET;
        tlb_flush_all(c);
        cpu_update_acc(c);
        break;
    case REG_CR2:
        c->cr2 = v;
        break;
    case REG_CR3:
        acct_update(c);
        c->cr3 = v;
        tlb_flush_nonglobal(c);
        break;
    case REG_CR4:
        if (v & ~CR4_SUPPORTED)
            return INSP_BAD_VALUE;
        c->cr4 = v;
        dbg_update(c); /* CR4.DE decides what DR7 R/W 10 means; flushes the TLB */
        tlb_flush_all(c);
        cpu_update_acc(c);
        break;
    case REG_DR0: case REG_DR1: case REG_DR2: case REG_DR3:
    case REG_DR4: case REG_DR5: case REG_DR6: case REG_DR7: {
        unsigned n = dr_index(r);
        c->dr[n] = n == 6 ? dbg_fix_dr6(v) : n == 7 ? dbg_fix_dr7(v) : v;
        if (n != 6) {
            dbg_update(c);
            c->stop_block = true;
        }
        return INSP_OK;
    }
    case REG_SYSENTER_CS:
        c->sysenter_cs = v & 0xFFFF;
        return INSP_OK;
    case REG_SYSENTER_ESP:
        c->sysenter_esp = v;
        return INSP_OK;
    case REG_SYSENTER_EIP:
        c->sysenter_eip = v;
        return INSP_OK;
    default:
        return INSP_BAD_REG;
    }
    c->stop_block = true; /* if called from a hook: the running block goes no further */
    return INSP_OK;
}

unsigned cpu_get_cpl(const struct cpu *c)
{
    return c->cpl;
}

/* ---- segment registers and tables ---- */

static struct seg_value seg_value_of(const struct segment *s)
{
    return (struct seg_value){s->sel, s->base, s->limit, s->attr};
}

enum insp_status cpu_get_seg(const struct cpu *c, enum cpu_sreg s, struct seg_value *out)
{
    if ((unsigned)s < SEG_COUNT)
        *out = seg_value_of(&c->seg[s]);
    else if (s == SREG_LDTR)
        *out = seg_value_of(&c->ldtr);
    else if (s == SREG_TR)
        *out = seg_value_of(&c->tr);
    else
        return INSP_BAD_REG;
    return INSP_OK;
}

enum insp_status cpu_set_seg(struct cpu *c, enum cpu_sreg s, const struct seg_value *in)
{
    if ((unsigned)s >= SEG_COUNT)
        return INSP_BAD_REG;
    if (s == SREG_CS) {
        seg_set_cs(c, in->sel, in->base, in->limit, in->attr);
    } else {
        struct segment *g = &c->seg[s];
        g->sel = in->sel;
        g->base = in->base;
        g->limit = in->limit;
        g->attr = in->attr;
        seg_update_flat(g);
    }
    c->stop_block = true;
    return INSP_OK;
}

void cpu_get_gdtr(const struct cpu *c, struct dtable *out) { *out = c->gdtr; }
void cpu_get_idtr(const struct cpu *c, struct dtable *out) { *out = c->idtr; }
void cpu_set_gdtr(struct cpu *c, const struct dtable *in)
{
    c->gdtr = *in;
    seg_memo_clear(c);
}
void cpu_set_idtr(struct cpu *c, const struct dtable *in) { c->idtr = *in; }

/* Entry `index` (8 bytes) of the table at linear base with limit `limit`. */
static enum insp_status read_entry(const struct cpu *c, uint32_t base, uint32_t limit,
                                   unsigned index, struct desc *d)
{
    uint64_t off = (uint64_t)index * 8;
    if (off + 7 > limit)
        return INSP_BEYOND_LIMIT;
    uint32_t w[2];
    struct xfer x = cpu_read_linear(c, base + (uint32_t)off, w, sizeof w);
    if (x.status != INSP_OK)
        return x.status;
    *d = desc_decode(w[0], w[1]);
    return INSP_OK;
}

enum insp_status cpu_read_gdt(const struct cpu *c, unsigned index, struct desc *d)
{
    return read_entry(c, c->gdtr.base, c->gdtr.limit, index, d);
}

enum insp_status cpu_read_ldt(const struct cpu *c, unsigned index, struct desc *d)
{
    if (!(c->ldtr.attr & SA_P))
        return INSP_NO_LDT;
    return read_entry(c, c->ldtr.base, c->ldtr.limit, index, d);
}

enum insp_status cpu_read_desc(const struct cpu *c, uint16_t sel, struct desc *d)
{
    unsigned index = (sel & SEL_INDEX) >> 3;
    return sel_in_ldt(sel) ? cpu_read_ldt(c, index, d) : cpu_read_gdt(c, index, d);
}

enum insp_status cpu_read_idt(const struct cpu *c, unsigned vector, struct desc *d)
{
    return read_entry(c, c->idtr.base, c->idtr.limit, vector, d);
}

/* ---- memory ---- */

bool cpu_page_walk(const struct cpu *c, uint32_t lin, enum pg_kind kind, enum pg_mode mode,
                   struct walk *w)
{
    return paging_lookup(c, lin, kind, mode, w);
}

/* The RAM behind linear address lin, up to the end of its page: a host pointer and the bytes
 * available there, or a status. */
static enum insp_status linear_ram(const struct cpu *c, uint32_t lin, uint32_t *pa)
{
    struct walk w;
    paging_lookup(c, lin, PG_LOOKUP, PG_SUPERVISOR, &w);
    if (!walk_mapped(&w))
        return INSP_UNMAPPED;
    if ((uint64_t)w.pa + 1 > c->ram_size)
        return INSP_NOT_RAM;
    *pa = w.pa;
    return INSP_OK;
}

/* Copies len bytes between buf and the linear address space, a page at a time. */
static struct xfer linear_copy(struct cpu *wc, const struct cpu *c, uint32_t lin, uint8_t *rbuf,
                               const uint8_t *wbuf, size_t len)
{
    struct xfer x = {0, INSP_OK, 0};
    while (x.done < len) {
        uint32_t a = lin + (uint32_t)x.done, pa;
        enum insp_status st = linear_ram(c, a, &pa);
        if (st != INSP_OK) {
            x.status = st;
            x.stop = a;
            return x;
        }
        size_t n = PAGE_SIZE - (a & PAGE_MASK); /* RAM is whole pages: all of it is RAM */
        if (n > len - x.done)
            n = len - x.done;
        if (wc) {
            mem_code_written(wc, pa);
            memcpy(wc->ram + pa, wbuf + x.done, n);
        } else {
            memcpy(rbuf + x.done, c->ram + pa, n);
        }
        x.done += n;
    }
    return x;
}

struct xfer cpu_read_linear(const struct cpu *c, uint32_t lin, void *buf, size_t len)
{
    return linear_copy(NULL, c, lin, buf, NULL, len);
}

struct xfer cpu_write_linear(struct cpu *c, uint32_t lin, const void *buf, size_t len)
{
    struct xfer x = linear_copy(c, c, lin, NULL, buf, len);
    if (x.done)
        c->stop_block = true;
    return x;
}

static struct xfer phys_copy(struct cpu *wc, const struct cpu *c, uint32_t pa, uint8_t *rbuf,
                             const uint8_t *wbuf, size_t len)
{
    struct xfer x = {0, INSP_OK, 0};
    while (x.done < len) {
        uint64_t a = (uint64_t)pa + x.done;
        if (a >= c->ram_size) {
            x.status = INSP_NOT_RAM;
            x.stop = (uint32_t)a;
            return x;
        }
        size_t n = PAGE_SIZE - (a & PAGE_MASK);
        if (n > len - x.done)
            n = len - x.done;
        if (wc) {
            mem_code_written(wc, (uint32_t)a);
            memcpy(wc->ram + a, wbuf + x.done, n);
        } else {
            memcpy(rbuf + x.done, c->ram + a, n);
        }
        x.done += n;
    }
    return x;
}

struct xfer cpu_read_phys(const struct cpu *c, uint32_t pa, void *buf, size_t len)
{
    return phys_copy(NULL, c, pa, buf, NULL, len);
}

struct xfer cpu_write_phys(struct cpu *c, uint32_t pa, const void *buf, size_t len)
{
    struct xfer x = phys_copy(c, c, pa, NULL, buf, len);
    if (x.done)
        c->stop_block = true;
    return x;
}

/* ---- why the cpu stopped ---- */

bool cpu_is_halted(const struct cpu *c)
{
    return c->halted;
}

const struct unsupported *cpu_get_unsupported(const struct cpu *c)
{
    return &c->unsupported;
}

void cpu_get_shutdown(const struct cpu *c, struct fault out[3])
{
    for (int k = 0; k < 3; k++)
        out[k] = c->shutdown_events[k];
}
