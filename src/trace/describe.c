/* Events and fault details in words (see describe.h). */
#include "trace/describe.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include "cpu/cpu.h"
#include "cpu/exceptions.h"

/* Appends to a buffer that may be too small; pos keeps counting what would have been written. */
struct out {
    char *buf;
    size_t len;
    size_t pos;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct out *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(o->pos < o->len ? o->buf + o->pos : NULL,
                      o->pos < o->len ? o->len - o->pos : 0, fmt, ap);
    va_end(ap);
    if (n > 0)
        o->pos += (size_t)n;
}

/* Appends what another formatter of this file writes into a buffer. */
static void put_detail(struct out *o, const struct fault_detail *d);

static int done(struct out *o)
{
    if (o->len && o->pos == 0)
        o->buf[0] = '\0';
    return (int)o->pos;
}

static const char *const kind_names[TR_KINDS] = {
    [TR_EXCEPTION] = "exception", [TR_INTERRUPT] = "interrupt", [TR_SOFTINT] = "int",
    [TR_IRET] = "iret",           [TR_SYSENTER] = "sysenter",   [TR_SYSEXIT] = "sysexit",
    [TR_FARCALL] = "lcall",       [TR_FARRET] = "lret",         [TR_FARJMP] = "ljmp",
    [TR_HALT] = "hlt",            [TR_SHUTDOWN] = "shutdown",   [TR_TASK] = "task switch",
    [TR_CR3] = "cr3",
};

const char *trace_kind_name(unsigned kind)
{
    if (kind < TR_KINDS && kind_names[kind])
        return kind_names[kind];
    return "?";
}

/* ---- #PF: the walk ---- */

static const char *access_name(const struct walk *w)
{
    static const char *const names[4][4] = {
        [PG_SUPERVISOR] = {"supervisor read", "supervisor write", "supervisor fetch", "lookup"},
        [PG_USER] = {"user read", "user write", "user fetch", "lookup"},
        [PG_SUPERVISOR_AC] = {"supervisor read", "supervisor write", "supervisor fetch",
                              "lookup"},
        [PG_IMPLICIT] = {"implicit supervisor read", "implicit supervisor write",
                         "supervisor fetch", "lookup"},
    };
    return w->mode < 4 && w->kind < 4 ? names[w->mode][w->kind] : "access";
}

static const char *walk_why(const struct walk *w)
{
    switch (w->result) {
    case WALK_OK: return "allowed";
    case WALK_NOT_PRESENT:
        return w->level == WALK_PDE ? "page table not present" : "page not present";
    case WALK_RESERVED: return "reserved bits 13..21 set";
    case WALK_SUPERVISOR_ONLY: return "supervisor-only page";
    case WALK_READ_ONLY: return "read-only page";
    case WALK_WP: return "read-only page with CR0.WP";
    case WALK_SMEP: return "supervisor fetch from a user page with CR4.SMEP";
    case WALK_SMAP: return "supervisor access to a user page with SMAP and AC=0";
    case WALK_SMAP_IMPLICIT: return "implicit supervisor access to a user page with SMAP";
    case WALK_NO_RAM:
        return w->level == WALK_PDE ? "page directory outside RAM" : "page table outside RAM";
    }
    return "?";
}

static void describe_walk(struct out *o, const struct walk *w)
{
    unsigned d = pdx(w->lin), t = ptx(w->lin);
    put(o, "%s of 0x%08" PRIx32 ": ", access_name(w), w->lin);
    if (w->level == WALK_PDE && (w->result == WALK_NOT_PRESENT || w->result == WALK_NO_RAM))
        put(o, "PDE[%u] P=0", d);
    else if (w->large)
        put(o, "4 MiB PDE[%u] U=%u W=%u", d, (unsigned)!!(w->pde & PTE_U),
            (unsigned)!!(w->pde & PTE_W));
    else if (w->result == WALK_NOT_PRESENT || w->result == WALK_NO_RAM)
        put(o, "PDE[%u] U=%u W=%u, PTE[%u] P=0", d, (unsigned)!!(w->pde & PTE_U),
            (unsigned)!!(w->pde & PTE_W), t);
    else
        put(o, "PDE[%u] U=%u W=%u, PTE[%u] U=%u W=%u", d, (unsigned)!!(w->pde & PTE_U),
            (unsigned)!!(w->pde & PTE_W), t, (unsigned)!!(w->pte & PTE_U),
            (unsigned)!!(w->pte & PTE_W));
    put(o, " — %s", walk_why(w));
}

/* ---- selector faults ---- */

static const char *const seg_names[SEG_COUNT] = {"ES", "CS", "SS", "DS", "FS", "GS"};

static const char *seg_name(unsigned seg)
{
    return seg < SEG_COUNT ? seg_names[seg] : "a segment register";
}

/* A descriptor type with its article: "a 32-bit interrupt gate", "an LDT". */
static void put_type(struct out *o, uint8_t stype)
{
    static const char *const sys[16] = {
        "a reserved system type 0", "an available 16-bit TSS", "an LDT", "a busy 16-bit TSS",
        "a 16-bit call gate", "a task gate", "a 16-bit interrupt gate", "a 16-bit trap gate",
        "a reserved system type 8", "an available 32-bit TSS", "a reserved system type 0xa",
        "a busy 32-bit TSS", "a 32-bit call gate", "a reserved system type 0xd",
        "a 32-bit interrupt gate", "a 32-bit trap gate",
    };
    unsigned t = stype & 0xF;
    if (!(stype & 0x10))
        put(o, "%s", sys[t]);
    else if (t & TYPE_CODE)
        put(o, "%s code segment", (t & TYPE_EC) ? (t & TYPE_RW) ? "a conforming readable"
                                                                : "a conforming execute-only"
                                  : (t & TYPE_RW) ? "a readable"
                                                  : "an execute-only");
    else
        put(o, "%s data segment", (t & TYPE_EC) ? (t & TYPE_RW) ? "an expand-down writable"
                                                                : "an expand-down read-only"
                                  : (t & TYPE_RW) ? "a writable"
                                                  : "a read-only");
}

int describe_desc_type(unsigned stype, char *buf, size_t len)
{
    struct out o = { buf, len, 0 };
    put_type(&o, (uint8_t)stype);
    return done(&o);
}

/* What the selector should have named, for SR_TYPE. */
static const char *wanted(const struct sel_fault *f)
{
    switch (f->use) {
    case SU_SEGREG:
    case SU_TASK_SEG:
        return f->seg == SEG_SS   ? "a writable data segment"
               : f->seg == SEG_CS ? "a code segment"
                                  : "a data segment or a readable code segment";
    case SU_HANDLER_CS: case SU_GATE_CS: case SU_RET_CS: return "a code segment";
    case SU_IDT: return "an interrupt, trap or task gate";
    case SU_FAR: return "a code segment, call gate, TSS or task gate";
    case SU_RET_SS: case SU_TSS_STACK: return "a writable data segment";
    case SU_LLDT: case SU_TASK_LDT: return "an LDT";
    case SU_LTR: return "an available TSS";
    case SU_TASK: return "an available 32-bit TSS";
    case SU_TASK_BACK: return "a busy 32-bit TSS";
    default: return "something else";
    }
}

/* What the selector (or segment) was for, as a noun. */
static void put_what(struct out *o, const struct sel_fault *f)
{
    switch (f->use) {
    case SU_SEGREG: put(o, "the %s selector", seg_name(f->seg)); break;
    case SU_SEGMENT: put(o, "%s", seg_name(f->seg)); break;
    case SU_IDT: put(o, "IDT gate"); break;
    case SU_HANDLER_CS: put(o, "the handler's code segment"); break;
    case SU_FAR: put(o, "the far JMP/CALL operand"); break;
    case SU_GATE_CS: put(o, "the target code segment"); break;
    case SU_TARGET: put(o, "the target"); break;
    case SU_RET_CS: put(o, "the return CS"); break;
    case SU_RET_SS: put(o, "the return SS"); break;
    case SU_TSS_STACK: put(o, "the TSS's stack segment for CPL %u", f->cpl); break;
    case SU_STACK: put(o, "the stack"); break;
    case SU_LLDT: put(o, "LLDT's selector"); break;
    case SU_LTR: put(o, "LTR's selector"); break;
    case SU_TASK: put(o, "the new task's TSS"); break;
    case SU_TASK_BACK: put(o, "the back-linked TSS"); break;
    case SU_CUR_TSS: put(o, "the current TSS"); break;
    case SU_TASK_LDT: put(o, "the new task's LDT"); break;
    case SU_TASK_SEG: put(o, "the new task's %s", seg_name(f->seg)); break;
    case SU_SYSENTER: put(o, "IA32_SYSENTER_CS"); break;
    case SU_INSN: put(o, "the instruction"); break;
    default: put(o, "the selector"); break;
    }
}

/* The subject of the sentence: "IDT gate 0x80", "the SS selector 0x002b", "DS". */
static void put_subject(struct out *o, const struct sel_fault *f)
{
    put_what(o, f);
    if (f->table == ST_IDT)
        put(o, " 0x%02x", f->sel);
    else if (f->table != ST_NONE)
        put(o, " 0x%04x", f->sel);
}

/* The level a check compares DPL/RPL with. */
static const char *level_name(const struct sel_fault *f)
{
    return f->use == SU_RET_SS ? "the new CPL" : f->use == SU_TSS_STACK ? "the stack's CPL"
                                                                         : "CPL";
}

static const char *const table_names[] = {"no table", "GDT", "LDT", "IDT"};

static void describe_sel(struct out *o, const struct sel_fault *f)
{
    const char *table = f->table < 4 ? table_names[f->table] : "?";
    switch (f->reason) {
    case SR_NULL:
        put(o, "null selector for ");
        put_what(o, f);
        break;
    case SR_BEYOND_LIMIT:
        if (f->table == ST_IDT)
            put(o, "IDT gate 0x%02x beyond the IDT limit 0x%" PRIx32, f->sel, f->limit);
        else
            put(o, "selector beyond the %s limit 0x%" PRIx32, table, f->limit);
        break;
    case SR_NO_LDT:
        put(o, "selector in the LDT, but no LDT is loaded");
        break;
    case SR_NOT_GDT:
        put_subject(o, f);
        put(o, " must be in the GDT, not the LDT");
        break;
    case SR_TYPE:
        put_subject(o, f);
        put(o, " is ");
        if (f->type != SF_NO_TYPE)
            put_type(o, f->type);
        else
            put(o, "of the wrong type");
        put(o, ", not %s", wanted(f));
        break;
    case SR_NOT_PRESENT:
        put_subject(o, f);
        put(o, " is not present");
        break;
    case SR_GATE_DPL:
        put_subject(o, f);
        put(o, " has DPL %u < CPL %u", f->dpl, f->cpl);
        break;
    case SR_DPL_LT_PRIV:
        put_subject(o, f);
        put(o, " has DPL %u < max(CPL %u, RPL %u)", f->dpl, f->cpl, f->rpl);
        break;
    case SR_RPL_NE_CPL:
        put_subject(o, f);
        put(o, " has RPL %u != %s %u", f->rpl, level_name(f), f->cpl);
        break;
    case SR_DPL_NE_CPL:
        put_subject(o, f);
        put(o, " has DPL %u != %s %u", f->dpl, level_name(f), f->cpl);
        break;
    case SR_RPL_GT_CPL:
        put_subject(o, f);
        put(o, " has RPL %u > CPL %u", f->rpl, f->cpl);
        break;
    case SR_DPL_GT_CPL:
        put_subject(o, f);
        put(o, " has DPL %u > CPL %u", f->dpl, f->cpl);
        break;
    case SR_RPL_LT_CPL:
        put_subject(o, f);
        put(o, " has RPL %u < CPL %u: a return to a more privileged level", f->rpl, f->cpl);
        break;
    case SR_DPL_GT_RPL:
        put_subject(o, f);
        put(o, " has DPL %u > RPL %u", f->dpl, f->rpl);
        break;
    case SR_DPL_NE_RPL:
        put_subject(o, f);
        put(o, " has DPL %u != RPL %u", f->dpl, f->rpl);
        break;
    case SR_OFFSET_LIMIT:
        if (f->use == SU_SEGMENT)
            put(o, "offset 0x%08" PRIx32 " outside the %s limit 0x%" PRIx32, f->offset,
                seg_name(f->seg), f->limit);
        else if (f->use == SU_STACK)
            put(o, "no room on the stack: offset 0x%08" PRIx32 " outside the SS limit 0x%" PRIx32,
                f->offset, f->limit);
        else
            put(o, "target 0x%08" PRIx32 " beyond the CS limit 0x%" PRIx32, f->offset,
                f->limit);
        break;
    case SR_TSS_LIMIT:
        put_subject(o, f);
        put(o, " is too small: limit 0x%" PRIx32 ", needs 0x%" PRIx32, f->limit, f->offset);
        break;
    case SR_SEG_UNUSABLE:
        put(o, "%s holds a null selector", seg_name(f->seg));
        break;
    case SR_SEG_NOT_WRITABLE:
        put(o, "write through %s, ", seg_name(f->seg));
        put_type(o, f->type);
        break;
    case SR_SEG_NOT_READABLE:
        put(o, "read through %s, ", seg_name(f->seg));
        put_type(o, f->type);
        break;
    case SR_PRIVILEGED:
        put(o, "privileged instruction at CPL %u", f->cpl);
        break;
    case SR_REAL_MODE:
        put(o, "real mode (CR0.PE = 0) is not supported");
        break;
    default:
        break;
    }
}

/* ---- an instruction's own rule (#GP(0)) ---- */

static void describe_rule(struct out *o, const struct rule_fault *r)
{
    switch (r->reason) {
    case RR_IOPL:
        put(o, "CLI/STI at CPL %u > IOPL %u", r->cpl, r->iopl);
        break;
    case RR_IO_NO_BITMAP:
        put(o, "port 0x%04" PRIx32 " at CPL %u > IOPL %u, and TR holds no 32-bit TSS with an "
            "I/O bitmap", r->value, r->cpl, r->iopl);
        break;
    case RR_IO_BEYOND_TSS:
        put(o, "port 0x%04" PRIx32 " at CPL %u > IOPL %u: its I/O bitmap bits lie beyond the "
            "TSS limit", r->value, r->cpl, r->iopl);
        break;
    case RR_IO_DENIED:
        put(o, "port 0x%04" PRIx32 " (%u byte%s) at CPL %u > IOPL %u: denied by the TSS I/O "
            "bitmap", r->value, r->size, r->size == 1 ? "" : "s", r->cpl, r->iopl);
        break;
    case RR_CR0_BITS:
        put(o, "CR0 value 0x%08" PRIx32 " sets PG without PE or NW without CD", r->value);
        break;
    case RR_CR0_REAL:
        put(o, "CR0 value 0x%08" PRIx32 " clears PE: real mode is not supported", r->value);
        break;
    case RR_CR4_BITS:
        put(o, "CR4 value 0x%08" PRIx32 " sets bits Ringside does not implement", r->value);
        break;
    case RR_MSR:
        put(o, "MSR 0x%" PRIx32 " is not implemented", r->value);
        break;
    case RR_TOO_LONG:
        put(o, "instruction longer than 15 bytes");
        break;
    case RR_RDPMC_PCE:
        put(o, "RDPMC at CPL %u with CR4.PCE=0", r->cpl);
        break;
    case RR_RDPMC_COUNTER:
        put(o, "RDPMC of counter 0x%" PRIx32 ": there are no performance counters", r->value);
        break;
    default:
        break;
    }
}

int describe_fault_detail(const struct fault_detail *d, char *buf, size_t len)
{
    struct out o = {buf, len, 0};
    if (d->kind == FD_PAGE)
        describe_walk(&o, &d->u.page);
    else if (d->kind == FD_SELECTOR)
        describe_sel(&o, &d->u.sel);
    else if (d->kind == FD_RULE)
        describe_rule(&o, &d->u.rule);
    return done(&o);
}

static void put_detail(struct out *o, const struct fault_detail *d)
{
    size_t at = o->pos;
    o->pos += (size_t)describe_fault_detail(d, at < o->len ? o->buf + at : NULL,
                                            at < o->len ? o->len - at : 0);
}

int describe_fault(unsigned vector, bool has_error, uint32_t error,
                   const struct fault_detail *d, char *buf, size_t len)
{
    struct out o = {buf, len, 0};
    const char *name = exception_name(vector);
    if (!name)
        put(&o, "vector %u", vector);
    else if (has_error)
        put(&o, "%s(0x%04" PRIx32 ")", name, error);
    else
        put(&o, "%s", name);
    if (d && d->kind != FD_NONE) {
        put(&o, ": ");
        put_detail(&o, d);
    }
    return done(&o);
}

/* describe_fault, with the exception's long name when nothing more is known ("#UD: invalid
 * opcode"). */
static void put_fault(struct out *o, unsigned vector, bool has_error, uint32_t error,
                      const struct fault_detail *d)
{
    size_t at = o->pos;
    o->pos += (size_t)describe_fault(vector, has_error, error, d, at < o->len ? o->buf + at : NULL,
                                     at < o->len ? o->len - at : 0);
    const struct exception_info *x = exception_info(vector);
    if ((!d || d->kind == FD_NONE) && x && x->name && x->long_name)
        put(o, ": %s", x->long_name);
}

int describe_shutdown(const struct fault *f, char *buf, size_t len)
{
    struct out o = {buf, len, 0};
    for (int i = 0; i < 3; i++) {
        put(&o, "%s", i ? " -> " : "");
        put_fault(&o, f[i].vector, f[i].has_error, f[i].error, &f[i].detail);
        if (f[i].vector == EXC_PF && f[i].detail.kind == FD_NONE)
            put(&o, " CR2=%08" PRIx32, f[i].cr2);
    }
    return done(&o);
}

/* ---- the event line ---- */

/* What a PC wires to each I/O APIC input (the MP table and MADT in machine/pc.c say the same:
 * ISA IRQ n on pin n, but IRQ 0 on pin 2). */
static const char *const ioapic_pin_name[24] = {
    [1] = "keyboard", [2] = "PIT", [3] = "COM2", [4] = "COM1", [8] = "RTC", [9] = "ACPI SCI",
    [12] = "mouse", [14] = "IDE", [15] = "IDE2",
};

/* "LAPIC timer", "IOAPIC pin 4 → COM1": an interrupt's source, when its controller said. */
static void put_source(struct out *o, const struct trace_event *ev)
{
    switch (ev->source) {
    case ISRC_LAPIC_TIMER: put(o, "LAPIC timer"); break;
    case ISRC_LAPIC_LINT: put(o, "LAPIC LINT%u", ev->source_num); break;
    case ISRC_LAPIC_ERROR: put(o, "LAPIC error"); break;
    case ISRC_IPI: put(o, "self IPI"); break;
    case ISRC_SPURIOUS: put(o, "LAPIC spurious"); break;
    case ISRC_NMI:
        if (ev->source_num >= NMI_FROM_IOAPIC)
            put(o, "NMI from IOAPIC pin %u", ev->source_num - NMI_FROM_IOAPIC);
        else if (ev->source_num == NMI_FROM_IPI)
            put(o, "NMI, self IPI");
        else
            put(o, "NMI from LAPIC LINT%u", ev->source_num - NMI_FROM_LINT0);
        break;
    case ISRC_IOAPIC: {
        const char *n = ev->source_num < 24 ? ioapic_pin_name[ev->source_num] : NULL;
        put(o, "IOAPIC pin %u%s%s", ev->source_num, n ? " \xe2\x86\x92 " : "", n ? n : "");
        break;
    }
    default: break;
    }
}

void describe_ctx_init(struct describe_ctx *d, const struct describe_names *names)
{
    *d = (struct describe_ctx){ .names = names ? *names : (struct describe_names){ 0 } };
}

/* The ISA interrupt lines' usual devices. */
static const char *const irq_names[16] = {
    "timer", "keyboard", "cascade", "COM2", "COM1", "LPT2", "floppy", "LPT1",
    "RTC", "ACPI", "IRQ10", "IRQ11", "mouse", "FPU", "ATA primary", "ATA secondary",
};

static void put_space(struct out *o, const struct describe_ctx *d, uint32_t cr3)
{
    const char *name = d && d->names.space ? d->names.space(d->names.ctx, cr3) : NULL;
    if (name)
        put(o, "%s", name);
    else
        put(o, "cr3=%08" PRIx32, cr3);
}

/* " <main+0x10>" when the address has a symbol. */
static void put_sym(struct out *o, const struct describe_ctx *d, uint32_t cr3, uint32_t addr)
{
    char sym[128];
    if (d && d->names.symbol && d->names.symbol(d->names.ctx, cr3, addr, sym, sizeof sym))
        put(o, " <%s>", sym);
}

static bool is_syscall_int(const struct describe_ctx *d, const struct trace_event *ev)
{
    int v = d ? d->names.syscall_vector : -1;
    /* No vector named: Linux's int 0x80 by convention. */
    return ev->kind == TR_SOFTINT && ev->vector == (v >= 0 ? v : 0x80);
}

/* What an entry event is, as words after " | ": "int 0x80 syscall 1 (write)", "IRQ0 timer",
 * "#PF(0x0004): ...". */
static void put_entry(struct out *o, const struct describe_ctx *d, const struct trace_event *ev,
                      bool why)
{
    const char *sc = NULL;
    uint32_t nr = ev->before.r[EAX];
    switch (ev->kind) {
    case TR_EXCEPTION:
        if (why)
            put_fault(o, ev->vector, ev->has_error, ev->error, &ev->detail);
        else
            put_fault(o, ev->vector, ev->has_error, ev->error, NULL);
        return;
    case TR_INTERRUPT: {
        int irq = d && d->names.irq ? d->names.irq(d->names.ctx, ev->vector) : -1;
        if (irq >= 0 && irq < 16)
            put(o, "IRQ%d %s", irq, irq_names[irq]);
        else
            put(o, "interrupt 0x%02x", ev->vector);
        return;
    }
    case TR_SOFTINT:
        if (ev->vector == EXC_BP)
            put(o, "int3 (#BP)");
        else
            put(o, "int 0x%02x", ev->vector);
        if (!is_syscall_int(d, ev))
            return;
        break;
    case TR_SYSENTER:
        put(o, "sysenter");
        break;
    default:
        put(o, "%s", trace_kind_name(ev->kind));
        return;
    }
    sc = d && d->names.syscall ? d->names.syscall(d->names.ctx, nr) : NULL;
    put(o, " syscall %" PRIu32, nr);
    if (sc)
        put(o, " (%s)", sc);
}

static bool is_entry(unsigned kind)
{
    return kind == TR_EXCEPTION || kind == TR_INTERRUPT || kind == TR_SOFTINT ||
           kind == TR_SYSENTER || kind == TR_FARCALL;
}

static bool is_return(unsigned kind)
{
    return kind == TR_IRET || kind == TR_SYSEXIT || kind == TR_FARRET;
}

/* The open entries of the space cr3 (a free or the least used slot when new). */
static struct describe_stack *stack_of(struct describe_ctx *d, uint32_t cr3, bool make)
{
    struct describe_stack *free_one = NULL;
    for (unsigned k = 0; k < DESCRIBE_SPACES; k++) {
        if (d->stacks[k].used && d->stacks[k].cr3 == cr3)
            return &d->stacks[k];
        if (!d->stacks[k].used && !free_one)
            free_one = &d->stacks[k];
    }
    if (!make)
        return NULL;
    if (!free_one)
        free_one = &d->stacks[cr3 % DESCRIBE_SPACES]; /* full: forget one space's entries */
    *free_one = (struct describe_stack){ .used = true, .cr3 = cr3 };
    return free_one;
}

static void remember(struct describe_ctx *d, const struct trace_event *ev)
{
    struct describe_stack *st = stack_of(d, ev->before.cr3, true);
    if (st->n == DESCRIBE_DEPTH) { /* the oldest never returned: drop it */
        for (unsigned k = 1; k < DESCRIBE_DEPTH; k++)
            st->e[k - 1] = st->e[k];
        st->n--;
    }
    st->e[st->n++] = *ev;
}

/* The entry this return goes back from: the newest open entry of the space returned to whose
 * stack pointer and code segment the return restores (entries above it never returned). */
static bool pair(struct describe_ctx *d, const struct trace_event *ret, struct trace_event *out)
{
    struct describe_stack *st = stack_of(d, ret->after.cr3, false);
    if (!st)
        return false;
    for (unsigned k = st->n; k-- > 0;) {
        const struct trace_event *e = &st->e[k];
        if (e->before.r[ESP] == ret->after.r[ESP] && e->before.cs == ret->after.cs &&
            e->before.cpl == ret->after.cpl) {
            *out = *e;
            st->n = k;
            return true;
        }
    }
    return false;
}

bool describe_track(struct describe_ctx *d, const struct trace_event *ev,
                    struct trace_event *entry)
{
    if (is_entry(ev->kind))
        remember(d, ev);
    return is_return(ev->kind) && pair(d, ev, entry);
}

bool describe_is_syscall(const struct describe_ctx *d, const struct trace_event *ev)
{
    return ev->kind == TR_SYSENTER || is_syscall_int(d, ev);
}

int describe_event_in(struct describe_ctx *d, const struct trace_event *ev, char *buf,
                      size_t len)
{
    struct out o = {buf, len, 0};
    const struct trace_state *b = &ev->before, *a = &ev->after;
    uint32_t err = ev->has_error ? ev->error : 0;
    put(&o, "%6" PRIu64 ": ", ev->icount);
    put_space(&o, d, b->cr3);
    switch (ev->kind) {
    case TR_EXCEPTION: case TR_INTERRUPT: case TR_SOFTINT:
        put(&o, " v=%02x e=%04" PRIx32 " i=%d cpl=%u IP=%04x:%08" PRIx32, ev->vector, err,
            ev->kind == TR_SOFTINT, b->cpl, b->cs, b->eip);
        put_sym(&o, d, b->cr3, b->eip);
        put(&o, " SP=%04x:%08" PRIx32, b->ss, b->r[ESP]);
        if (ev->kind == TR_EXCEPTION && ev->vector == EXC_PF)
            put(&o, " CR2=%08" PRIx32, ev->cr2);
        break;
    case TR_SHUTDOWN:
        put(&o, " shutdown (triple fault) v=%02x e=%04" PRIx32 " cpl=%u IP=%04x:%08" PRIx32,
            ev->vector, err, b->cpl, b->cs, b->eip);
        put_sym(&o, d, b->cr3, b->eip);
        if (ev->vector == EXC_PF)
            put(&o, " CR2=%08" PRIx32, ev->cr2);
        struct fault three[3];
        if (d && d->names.shutdown && d->names.shutdown(d->names.ctx, three)) {
            put(&o, " | triple fault: ");
            size_t at = o.pos;
            o.pos += (size_t)describe_shutdown(three, at < len ? buf + at : NULL,
                                               at < len ? len - at : 0);
        } else {
            put(&o, " | ");
            put_fault(&o, ev->vector, ev->has_error, ev->error, &ev->detail);
        }
        return done(&o);
    case TR_HALT:
        put(&o, " hlt cpl=%u IP=%04x:%08" PRIx32, b->cpl, b->cs, b->eip);
        put_sym(&o, d, b->cr3, b->eip);
        return done(&o);
    case TR_CR3:
        put(&o, " cr3 cpl=%u IP=%04x:%08" PRIx32 " CR3=%08" PRIx32 " -> %08" PRIx32 " ", b->cpl,
            b->cs, b->eip, b->cr3, a->cr3);
        put_space(&o, d, a->cr3);
        return done(&o);
    default:
        put(&o, " %s cpl=%u IP=%04x:%08" PRIx32, trace_kind_name(ev->kind), b->cpl, b->cs,
            b->eip);
        put_sym(&o, d, b->cr3, b->eip);
        put(&o, " SP=%04x:%08" PRIx32, b->ss, b->r[ESP]);
        break;
    }
    put(&o, " -> cpl=%u IP=%04x:%08" PRIx32, a->cpl, a->cs, a->eip);
    put_sym(&o, d, a->cr3, a->eip);
    put(&o, " SP=%04x:%08" PRIx32, a->ss, a->r[ESP]);
    /* An interrupt whose controller said where it came from (LAPIC, I/O APIC) is named by
     * that source; the others (the 8259A pair) by their ISA line. */
    if (ev->kind == TR_INTERRUPT && ev->source != ISRC_NONE) {
        put(&o, " | ");
        put_source(&o, ev);
    } else if (is_entry(ev->kind) && ev->kind != TR_FARCALL) {
        put(&o, " | ");
        put_entry(&o, d, ev, true);
    }
    struct trace_event from;
    if (d && describe_track(d, ev, &from)) {
        put(&o, " | back from ");
        put_entry(&o, d, &from, false);
        uint64_t spent = ev->icount - from.icount;
        put(&o, " at %" PRIu64 ", %" PRIu64 " instruction%s", from.icount, spent,
            spent == 1 ? "" : "s");
    }
    if (a->cr3 != b->cr3 && ev->kind != TR_CR3) {
        put(&o, " | now ");
        put_space(&o, d, a->cr3);
    }
    return done(&o);
}

int describe_entry_name(const struct describe_ctx *d, const struct trace_event *ev, char *buf,
                        size_t len)
{
    struct out o = {buf, len, 0};
    const char *exc = exception_name(ev->vector);
    const char *sc = NULL;
    if (describe_is_syscall(d, ev)) {
        uint32_t nr = ev->before.r[EAX];
        sc = d && d->names.syscall ? d->names.syscall(d->names.ctx, nr) : NULL;
        if (sc)
            put(&o, "%s", sc);
        else
            put(&o, "syscall %" PRIu32, nr);
    } else if (ev->kind == TR_EXCEPTION) {
        if (exc)
            put(&o, "%s", exc);
        else
            put(&o, "exception 0x%02x", ev->vector);
    } else if (ev->kind == TR_INTERRUPT && ev->source != ISRC_NONE) {
        put_source(&o, ev);
    } else {
        put_entry(&o, d, ev, false);
    }
    return done(&o);
}

int describe_fault_of(const struct describe_ctx *d, const struct trace_event *ev, char *buf,
                      size_t len)
{
    struct fault three[3];
    if (ev->kind == TR_SHUTDOWN && d && d->names.shutdown &&
        d->names.shutdown(d->names.ctx, three))
        return describe_shutdown(three, buf, len);
    return describe_fault(ev->vector, ev->has_error, ev->error, &ev->detail, buf, len);
}

int describe_event(const struct trace_event *ev, char *buf, size_t len)
{
    return describe_event_in(NULL, ev, buf, len);
}
