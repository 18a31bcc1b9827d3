/* System instructions: privileged state (descriptor tables, control/debug registers, MSRs),
 * EFLAGS moves, HLT/CLI/STI, CPUID/RDTSC, SYSENTER/SYSEXIT, the descriptor queries
 * (LAR/LSL/VERR/VERW/ARPL) and the instructions that only ever fault (UD2, x87 escapes). */
#include "cpu/debug.h"
#include "cpu/deliver.h"
#include "cpu/icache.h"
#include "cpu/ops.h"

/* ---- faults ---- */

OP(ud) { (void)i; cpu_raise(c, EXC_UD, false, 0); }
OP(toolong) { (void)i; cpu_raise_rule(c, RR_TOO_LONG, 0, 0); }

/* There is no x87 FPU: with CR0.EM or CR0.TS set the escape raises #NM (the OS's emulation
 * hook), otherwise #UD. */
OP(fpu)
{
    (void)i;
    if (c->cr0 & (CR0_EM | CR0_TS))
        cpu_raise(c, EXC_NM, false, 0);
    cpu_raise(c, EXC_UD, false, 0);
}

OP(wait)
{
    (void)i;
    if ((c->cr0 & (CR0_TS | CR0_MP)) == (CR0_TS | CR0_MP))
        cpu_raise(c, EXC_NM, false, 0);
}

/* BOUND r, m: #BR unless lower <= index <= upper (signed). */
OP(bound)
{
    unsigned s = i->osize;
    uint32_t off = ea(c, i);
    int32_t idx = s == 2 ? (int16_t)get_reg(c, i->reg, 2) : (int32_t)c->r[i->reg];
    /* The lower bound is read and compared before the upper one is read, as processors do
     * (a #BR below the lower bound wins over a fault on the upper bound). */
    uint32_t lo = rd(c, i->seg, off, s);
    if (idx < (s == 2 ? (int16_t)lo : (int32_t)lo))
        cpu_raise(c, EXC_BR, false, 0);
    uint32_t hi = rd(c, i->seg, off + s, s);
    if (idx > (s == 2 ? (int16_t)hi : (int32_t)hi))
        cpu_raise(c, EXC_BR, false, 0);
}

/* ---- EFLAGS ---- */

/* The arithmetic flags of a 32-bit ADD, SUB (no carry in) or logic operation, as lf_compute
 * gives them: what usually comes before a PUSHF (the SUB ESP of a prologue, say). */
static inline uint32_t lf_quick32(const struct lazyflags *lf)
{
    uint32_t res = lf->res, a = lf->op1, b = lf->op2;
    uint32_t f = (res == 0 ? FL_ZF : 0) | ((res >> 24) & FL_SF) | (parity8(res) ? FL_PF : 0);
    if (lf->op == LF_LOGIC)
        return f;
    uint32_t cf = lf->op == LF_ADD ? res < a : a < b;
    uint32_t ov = lf->op == LF_ADD ? (a ^ res) & (b ^ res) : (a ^ b) & (a ^ res);
    return f | (cf ? FL_CF : 0) | ((a ^ b ^ res) & FL_AF) | ((ov >> 31) ? FL_OF : 0);
}

/* PUSHF pushes EFLAGS with VM and RF clear. */
static __attribute__((noinline)) void pushf_any(struct cpu *c, const struct insn *i)
{
    push(c, i->osize, cpu_get_eflags(c) & ~(FL_VM | FL_RF));
}

/* xv6 reads EFLAGS so on every lock (pushcli) and every mycpu(): a 32-bit PUSHF onto a flat
 * stack that the TLB lets it write, with no lazy flags or those of lf_quick32, goes straight to
 * the host page; anything else the general way (pushf_any), so that this needs no frame. */
OP(pushf)
{
    const struct lazyflags *lf = &c->lf;
    uint32_t f = c->eflags;
    if (lf->op != LF_NONE) {
        if (lf->size != 4 || lf->cf_in ||
            (lf->op != LF_ADD && lf->op != LF_SUB && lf->op != LF_LOGIC)) {
            pushf_any(c, i);
            return;
        }
        f = (f & ~FL_ARITH) | lf_quick32(lf);
    }
    uint32_t sp = c->r[ESP] - 4;
    uint8_t *p;
    if (i->osize == 4 && (p = stack_host(c, sp, 4, TLB_W_S))) {
        host_store(p, 4, (f | FL_R1) & ~(FL_VM | FL_RF));
        c->r[ESP] = sp;
        return;
    }
    pushf_any(c, i);
}

/* POPF (SDM vol. 2 POPF, protected mode): IOPL changes only at CPL 0; IF only when
 * CPL <= IOPL (otherwise it silently keeps its value); VM, VIF, VIP are never changed; RF is
 * cleared. A 16-bit POPF changes only the low word. */
OP(popf)
{
    uint32_t v = stack_peek(c, i->osize, 0);
    uint32_t mask = FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_TF | FL_DF | FL_OF | FL_NT |
                    FL_AC | FL_ID;
    if (c->cpl == 0)
        mask |= FL_IOPL;
    if (c->cpl <= iopl(c))
        mask |= FL_IF;
    if (i->osize == 2)
        mask &= 0xFFFF;
    c->r[ESP] = sp_with(c, c->r[ESP] + i->osize);
    flags_materialize(c);
    c->eflags = (((c->eflags & ~mask) | (v & mask)) & ~FL_RF) | FL_R1;
    cpu_update_acc(c);
}

OP(cli)
{
    (void)i;
    if (c->cpl > iopl(c))
        cpu_raise_rule(c, RR_IOPL, 0, 0);
    c->eflags &= ~FL_IF;
}

OP(sti)
{
    (void)i;
    if (c->cpl > iopl(c))
        cpu_raise_rule(c, RR_IOPL, 0, 0);
    /* STI that sets IF holds external interrupts off until after the next instruction. */
    if (!(c->eflags & FL_IF))
        c->inhibit_until = c->icount + 2;
    c->eflags |= FL_IF;
}

OP(hlt)
{
    (void)i;
    require_cpl0(c);
    struct trace_event ev;
    trace_begin(c, &ev, TR_HALT, 0, false, 0);
    c->halted = true;
    c->stop_block = true;
    trace_end(c, &ev);
}

/* ---- descriptor tables ---- */

/* LGDT/LIDT m16&32: with a 16-bit operand size only 24 bits of the base are loaded. */
static void load_dtable(struct cpu *c, const struct insn *i, struct dtable *t)
{
    require_cpl0(c);
    uint32_t off = ea(c, i);
    uint16_t limit = (uint16_t)rd(c, i->seg, off, 2);
    uint32_t base = rd(c, i->seg, off + 2, 4);
    if (i->osize == 2)
        base &= 0x00FFFFFFu;
    t->limit = limit;
    t->base = base;
}

static void store_dtable(struct cpu *c, const struct insn *i, const struct dtable *t)
{
    uint32_t off = ea(c, i);
    probe_wr(c, i->seg, off, 6);
    wr(c, i->seg, off, 2, t->limit);
    wr(c, i->seg, off + 2, 4, t->base);
}

OP(lgdt)
{
    load_dtable(c, i, &c->gdtr);
    seg_memo_clear(c);
}
OP(lidt) { load_dtable(c, i, &c->idtr); }

OP(sgdt)
{
    if (i->modreg)
        cpu_raise(c, EXC_UD, false, 0);
    store_dtable(c, i, &c->gdtr);
}

/* 0F 01 /1: SIDT m; with a register operand, CLAC (rm 2) and STAC (rm 3), CPL 0 only. */
OP(sidt)
{
    if (!i->modreg) {
        store_dtable(c, i, &c->idtr);
        return;
    }
    if ((i->rm != 2 && i->rm != 3) || c->cpl != 0)
        cpu_raise(c, EXC_UD, false, 0);
    if (i->rm == 2)
        c->eflags &= ~FL_AC;
    else
        c->eflags |= FL_AC;
    cpu_update_acc(c);
}

/* SLDT/STR/SMSW: a register destination takes the operand size (zero-extended), memory 16 bits. */
static void store_word(struct cpu *c, const struct insn *i, uint32_t v)
{
    if (i->modreg)
        set_reg(c, i->rm, i->osize, v);
    else
        wr(c, i->seg, ea(c, i), 2, v);
}

OP(sldt) { store_word(c, i, c->ldtr.sel); }
OP(str) { store_word(c, i, c->tr.sel); }
OP(smsw) { store_word(c, i, i->modreg && i->osize == 4 ? c->cr0 : c->cr0 & 0xFFFF); }

/* Reads the GDT descriptor LLDT or LTR loads: #GP(sel) when TI = 1 or beyond the table. */
static void gdt_system_desc(struct cpu *c, uint16_t sel, enum sel_use use, struct desc *d,
                            uint32_t *addr)
{
    enum sel_reason why = sel_in_ldt(sel) ? SR_NOT_GDT : desc_read(c, sel, d, addr);
    if (why != SR_NONE)
        raise_sel(c, EXC_GP, sel_error(sel), why, use, sel, NULL);
}

/* LLDT: null makes LDTR unusable; otherwise a present LDT descriptor (type 2) in the GDT. */
OP(lldt)
{
    require_cpl0(c);
    uint16_t sel = (uint16_t)rd_rm(c, i, 2);
    uint32_t err = sel_error(sel), addr;
    if (sel_is_null(sel)) {
        memset(&c->ldtr, 0, sizeof c->ldtr);
        c->ldtr.sel = sel;
        seg_memo_clear(c);
        return;
    }
    struct desc d;
    gdt_system_desc(c, sel, SU_LLDT, &d, &addr);
    if (!desc_is_ldt(&d))
        raise_sel(c, EXC_GP, err, SR_TYPE, SU_LLDT, sel, &d);
    if (!d.p)
        raise_sel(c, EXC_NP, err, SR_NOT_PRESENT, SU_LLDT, sel, &d);
    desc_to_segment(sel, &d, &c->ldtr);
    seg_memo_clear(c);
}

/* LTR: a present available TSS (type 1 or 9) in the GDT; it is marked busy in memory. */
OP(ltr)
{
    require_cpl0(c);
    uint16_t sel = (uint16_t)rd_rm(c, i, 2);
    uint32_t err = sel_error(sel), addr;
    if (sel_is_null(sel))
        raise_sel(c, EXC_GP, 0, SR_NULL, SU_LTR, sel, NULL);
    struct desc d;
    gdt_system_desc(c, sel, SU_LTR, &d, &addr);
    if (!desc_is_tss(&d) || desc_is_tss_busy(&d))
        raise_sel(c, EXC_GP, err, SR_TYPE, SU_LTR, sel, &d);
    if (!d.p)
        raise_sel(c, EXC_NP, err, SR_NOT_PRESENT, SU_LTR, sel, &d);
    d = desc_decode(d.lo, d.hi | DESC_HI_BUSY);
    lin_write_sup(c, addr + 4, 4, d.hi);
    desc_to_segment(sel, &d, &c->tr);
}

/* ---- descriptor queries: set ZF when the selector passes, else clear it ---- */

static void set_zf(struct cpu *c, int on)
{
    flags_materialize(c);
    c->eflags = on ? c->eflags | FL_ZF : c->eflags & ~FL_ZF;
}

/* Reads the descriptor for LAR/LSL/VERR/VERW; false for null or out-of-table selectors. A
 * segment that is not conforming code must have DPL >= max(CPL, RPL). */
static bool query_desc(struct cpu *c, uint16_t sel, struct desc *d)
{
    uint32_t addr;
    if (sel_is_null(sel) || desc_read(c, sel, d, &addr) != SR_NONE)
        return false;
    if (!desc_is_conforming(d) && (d->dpl < c->cpl || d->dpl < sel_rpl(sel)))
        return false;
    return true;
}

/* System descriptor types LAR accepts (SDM vol. 2 LAR): 16/32-bit TSS (available or busy), LDT,
 * call gates, task gates. LSL accepts TSS and LDT only. Code and data segments pass both. */
static bool lsl_type_ok(const struct desc *d)
{
    return d->s || desc_is_ldt(d) || desc_is_tss(d);
}
static bool lar_type_ok(const struct desc *d)
{
    return lsl_type_ok(d) || (!d->s && (d->type == SYS_CALL16 || d->type == SYS_TASK_GATE ||
                                        d->type == SYS_CALL32));
}

OP(lar)
{
    uint16_t sel = (uint16_t)rd_rm(c, i, 2);
    struct desc d;
    if (!query_desc(c, sel, &d) || !lar_type_ok(&d)) {
        set_zf(c, 0);
        return;
    }
    set_reg(c, i->reg, i->osize, d.hi & (i->osize == 4 ? 0x00FFFF00u : 0xFF00u));
    set_zf(c, 1);
}

OP(lsl)
{
    uint16_t sel = (uint16_t)rd_rm(c, i, 2);
    struct desc d;
    if (!query_desc(c, sel, &d) || !lsl_type_ok(&d)) {
        set_zf(c, 0);
        return;
    }
    set_reg(c, i->reg, i->osize, d.limit);
    set_zf(c, 1);
}

/* VERR: code/data; code must be readable. */
OP(verr)
{
    uint16_t sel = (uint16_t)rd_rm(c, i, 2);
    struct desc d;
    set_zf(c, query_desc(c, sel, &d) && d.s && desc_is_readable(&d));
}

/* VERW: writable data only. */
OP(verw)
{
    uint16_t sel = (uint16_t)rd_rm(c, i, 2);
    struct desc d;
    set_zf(c, query_desc(c, sel, &d) && desc_is_writable(&d));
}

/* ARPL r/m16, r16: raise the destination's RPL to the source's. */
/* ARPL reads its destination and writes it only when the RPL is raised (so a read-only
 * destination faults only then, as a write). */
OP(arpl)
{
    uint32_t d = rd_rm(c, i, 2), s = get_reg(c, i->reg, 2);
    if ((d & 3) < (s & 3)) {
        wr_rm(c, i, 2, (d & ~3u) | (s & 3));
        set_zf(c, 1);
    } else {
        set_zf(c, 0);
    }
}

/* ---- control and debug registers ---- */


OP(mov_R_C)
{
    uint32_t v;
    switch (i->reg) {
    case 0: v = c->cr0; break;
    case 2: v = c->cr2; break;
    case 3: v = c->cr3; break;
    case 4: v = c->cr4; break;
    default: cpu_raise(c, EXC_UD, false, 0);
    }
    require_cpl0(c);
    c->r[i->rm] = v;
}

OP(mov_C_R)
{
    if (i->reg == 1 || i->reg > 4)
        cpu_raise(c, EXC_UD, false, 0);
    require_cpl0(c);
    uint32_t v = c->r[i->rm];
    switch (i->reg) {
    case 0:
        if (((v & CR0_PG) && !(v & CR0_PE)) || ((v & CR0_NW) && !(v & CR0_CD)))
            cpu_raise_rule(c, RR_CR0_BITS, v, 4);
        if (!(v & CR0_PE))
            cpu_raise_rule(c, RR_CR0_REAL, v, 4); /* real mode is outside the subset */
        acct_update(c); /* paging on/off changes the address space the accounting sees */
        c->cr0 = v | CR0_ET;
        break;
    case 2: c->cr2 = v; break;
    case 3: {
        /* A CR3 load flushes every translation but the global ones (SDM vol. 3 4.10.4.1). */
        struct trace_event ev;
        trace_begin(c, &ev, TR_CR3, 0, false, 0);
        acct_update(c);
        c->cr3 = v;
        tlb_flush_nonglobal(c);
        c->stop_block |= STOP_CHECK; /* the chain may go on (exec.c chain_on) */
        trace_end(c, &ev);
        return;
    }
    default:
        if (v & ~CR4_SUPPORTED)
            cpu_raise_rule(c, RR_CR4_BITS, v, 4);
        bool de = (c->cr4 ^ v) & CR4_DE;
        c->cr4 = v;
        if (de)
            dbg_update(c); /* DR7 R/W 10 means I/O breakpoints now, or nothing */
        break;
    }
    tlb_flush_all(c); /* CR0.PG/WP and CR4.PSE/PGE/SMEP/SMAP change every translation */
    cpu_update_acc(c);
    c->stop_block = true;
}

/* The debug register a MOV names: DR4/DR5 are DR6/DR7 with CR4.DE = 0 and raise #UD with
 * CR4.DE = 1; then DR7.GD's #DB. Breakpoints: debug.h. */
static unsigned dr_operand(struct cpu *c, unsigned reg)
{
    require_cpl0(c);
    if ((reg == 4 || reg == 5) && (c->cr4 & CR4_DE))
        cpu_raise(c, EXC_UD, false, 0);
    dbg_general_detect(c);
    return reg == 4 ? 6 : reg == 5 ? 7 : reg;
}

OP(mov_R_D)
{
    unsigned n = dr_operand(c, i->reg);
    c->r[i->rm] = c->dr[n];
}

OP(mov_D_R)
{
    unsigned n = dr_operand(c, i->reg);
    uint32_t v = c->r[i->rm];
    c->dr[n] = n == 6 ? dbg_fix_dr6(v) : n == 7 ? dbg_fix_dr7(v) : v;
    if (n != 6) {
        dbg_update(c);
        c->stop_block = true; /* the dispatch loop must see new instruction breakpoints */
    }
}

OP(clts) { (void)i; require_cpl0(c); c->cr0 &= ~CR0_TS; }
OP(invd) { (void)i; require_cpl0(c); }

OP(lmsw)
{
    require_cpl0(c);
    uint32_t v = rd_rm(c, i, 2) & 0xF;
    /* PE can be set but not cleared; MP, EM, TS are loaded. */
    c->cr0 = (c->cr0 & ~0xEu) | v | (c->cr0 & CR0_PE);
    c->stop_block = true;
}

OP(invlpg)
{
    require_cpl0(c);
    tlb_flush_page(c, c->seg[i->seg].base + ea(c, i));
    c->stop_block |= STOP_CHECK; /* ends its block (F_MODE); the chain may go on (exec.c) */
}

/* ---- MSRs, time stamp, identification ---- */

/* A PAT entry is a memory type: 0 UC, 1 WC, 4 WT, 5 WP, 6 WB, 7 UC-; 2, 3 and 8..255 are
 * reserved and make WRMSR raise #GP(0) (SDM vol. 3 11.12.2). */
static bool pat_valid(uint64_t v)
{
    for (unsigned k = 0; k < 8; k++) {
        unsigned t = (unsigned)(v >> (8 * k)) & 0xFFu;
        if (t == 2 || t == 3 || t > 7)
            return false;
    }
    return true;
}

OP(rdmsr)
{
    (void)i;
    require_cpl0(c);
    uint32_t msr = c->r[ECX];
    uint64_t v = 0;
    int dev = c->msr_dev.rd ? c->msr_dev.rd(c->msr_dev.ctx, msr, &v) : 0;
    if (dev < 0)
        cpu_raise(c, EXC_GP, true, 0);
    if (dev == 0) {
        switch (msr) {
        case MSR_TSC: v = cpu_time(c) + c->tsc_offset; break;
        case MSR_SYSENTER_CS: v = c->sysenter_cs; break;
        case MSR_SYSENTER_ESP: v = c->sysenter_esp; break;
        case MSR_SYSENTER_EIP: v = c->sysenter_eip; break;
        case MSR_MCG_CAP: v = 0; break;
        case MSR_MCG_STATUS: v = c->msr_mcg_status; break;
        case MSR_MISC_ENABLE: v = c->msr_misc_enable; break;
        case MSR_PAT: v = c->msr_pat; break;
        case MSR_EFER: v = c->msr_efer; break;
        default: cpu_raise_rule(c, RR_MSR, msr, 4);
        }
    }
    c->r[EAX] = (uint32_t)v;
    c->r[EDX] = (uint32_t)(v >> 32);
}

OP(wrmsr)
{
    (void)i;
    require_cpl0(c);
    uint32_t msr = c->r[ECX];
    uint64_t v = (uint64_t)c->r[EDX] << 32 | c->r[EAX];
    int dev = c->msr_dev.wr ? c->msr_dev.wr(c->msr_dev.ctx, msr, v) : 0;
    if (dev < 0)
        cpu_raise(c, EXC_GP, true, 0);
    if (dev > 0)
        return;
    switch (msr) {
    case MSR_TSC: c->tsc_offset = v - cpu_time(c); break;
    case MSR_SYSENTER_CS: c->sysenter_cs = c->r[EAX] & 0xFFFF; break;
    case MSR_SYSENTER_ESP: c->sysenter_esp = c->r[EAX]; break;
    case MSR_SYSENTER_EIP: c->sysenter_eip = c->r[EAX]; break;
    case MSR_MCG_STATUS:
        if (v >> 3) /* RIPV, EIPV, MCIP; the rest reserved */
            cpu_raise(c, EXC_GP, true, 0);
        c->msr_mcg_status = v;
        break;
    case MSR_MISC_ENABLE:
        if (v & ~MSR_MISC_ENABLE_BITS)
            cpu_raise(c, EXC_GP, true, 0);
        c->msr_misc_enable = v;
        break;
    case MSR_PAT:
        if (!pat_valid(v))
            cpu_raise(c, EXC_GP, true, 0);
        c->msr_pat = v;
        break;
    case MSR_EFER:
        if (v & ~EFER_BITS)
            cpu_raise(c, EXC_GP, true, 0);
        c->msr_efer = v;
        break;
    default: cpu_raise_rule(c, RR_MSR, c->r[ECX], 4); /* MCG_CAP is read-only; unknown MSRs */
    }
}

/* RDTSC reads device time (retired instructions plus time spent halted): deterministic. */
OP(rdtsc)
{
    (void)i;
    uint64_t t = cpu_time(c) + c->tsc_offset;
    c->r[EAX] = (uint32_t)t;
    c->r[EDX] = (uint32_t)(t >> 32);
}

/* RDPMC (SDM vol. 2): at CPL > 0 with CR4.PCE = 0, #GP(0); otherwise ECX names a counter,
 * and this cpu has none (CPUID leaf 0xA reports version 0, no counters), so every ECX is
 * invalid: #GP(0). */
OP(rdpmc)
{
    (void)i;
    if (c->cpl > 0 && !(c->cr4 & CR4_PCE))
        cpu_raise_rule(c, RR_RDPMC_PCE, c->r[ECX], 4);
    cpu_raise_rule(c, RR_RDPMC_COUNTER, c->r[ECX], 4);
}

/* CPUID describes what this cpu implements and nothing else:
 *   leaf 0: highest leaf 7, vendor "GenuineIntel" (EBX, EDX, ECX): the family 6 programming
 *           model (MSRs, APIC, PAT) is Intel's, and software that sees another vendor assumes
 *           AMD's performance-counter MSRs, which this cpu does not have
 *   leaf 1: family 6, model 0; EDX: PSE(3) TSC(4) MSR(5) CX8(8) APIC(9, when a local APIC
 *           is wired: cpu.msr_dev) SEP(11) PGE(13) MCA(14, no banks) CMOV(15) PAT(16);
 *           no FPU, no SSE, no PAE; ECX: bit 31, "running under a hypervisor" (the
 *           convention by which a virtual machine names itself), bit 24 TSC-deadline (with
 *           the local APIC, whose timer has the mode); EBX: initial APIC ID 0
 *   leaf 7 (subleaf 0): EBX: SMEP(7) SMAP(20)
 *   leaf 0x40000000: the hypervisor leaf: highest hypervisor leaf 0x40000000, signature
 *           "RingsideIA32" (EBX, ECX, EDX): how a guest knows it runs on Ringside
 *   leaf 0x80000000: highest extended leaf 0x80000001
 *   leaf 0x80000001: zeros: no SYSCALL (in 64-bit mode), no NX, no long mode; IA32_EFER holds
 *           only SCE (see cpu.h)
 * Other leaves return zeros (leaf 0xA: no performance counters, RDPMC has nothing to read). */
OP(cpuid)
{
    (void)i;
    uint32_t leaf = c->r[EAX];
    uint32_t a = 0, b = 0, cc = 0, d = 0;
    if (leaf == 0) {
        a = 7;
        b = 0x756E6547;  /* "Genu" */
        d = 0x49656E69;  /* "ineI" */
        cc = 0x6C65746E; /* "ntel" */
    } else if (leaf == 1) {
        a = 0x00000600;
        d = (1u << 2) | (1u << 3) | (1u << 4) | (1u << 5) | (1u << 8) | (1u << 11) | (1u << 13) | (1u << 14)
            | (1u << 15) | (1u << 16);
        cc = 1u << 31;
        if (c->msr_dev.rd) {
            d |= 1u << 9;   /* APIC */
            cc |= 1u << 24; /* TSC-deadline mode of its timer */
        }
    } else if (leaf == 7 && c->r[ECX] == 0) {
        b = (1u << 7) | (1u << 20);
    } else if (leaf == 0x80000000) {
        a = 0x80000001;
    } else if (leaf == 0x40000000) {
        a = 0x40000000;
        b = 0x676E6952;  /* "Ring" */
        cc = 0x65646973; /* "side" */
        d = 0x32334149;  /* "IA32" */
    }
    c->r[EAX] = a;
    c->r[EBX] = b;
    c->r[ECX] = cc;
    c->r[EDX] = d;
}

/* ---- SYSENTER / SYSEXIT (SDM vol. 2): flat segments derived from IA32_SYSENTER_CS ---- */

static void fixed_segment(struct segment *s, uint16_t sel, unsigned type, unsigned dpl)
{
    s->sel = sel;
    s->base = 0;
    s->limit = 0xFFFFFFFFu;
    s->attr = (uint16_t)(type | SA_S | (dpl << 5) | SA_P | SA_DB | SA_G);
    seg_update_flat(s);
}

OP(sysenter)
{
    (void)i;
    uint16_t cs_sel = (uint16_t)(c->sysenter_cs & 0xFFFC);
    if (cs_sel == 0)
        raise_sel(c, EXC_GP, 0, SR_NULL, SU_SYSENTER, cs_sel, NULL);
    struct trace_event ev;
    trace_begin(c, &ev, TR_SYSENTER, 0, false, 0);
    flags_materialize(c);
    c->eflags &= ~(FL_VM | FL_IF | FL_RF);
    struct segment s;
    fixed_segment(&s, cs_sel, 0xB, 0);
    seg_set_cs(c, s.sel, s.base, s.limit, s.attr);
    fixed_segment(&c->seg[SEG_SS], (uint16_t)(cs_sel + 8), 0x3, 0);
    c->r[ESP] = c->sysenter_esp;
    c->eip = c->sysenter_eip;
    trace_end(c, &ev);
}

OP(sysexit)
{
    (void)i;
    if (c->cpl != 0)
        raise_sel(c, EXC_GP, 0, SR_PRIVILEGED, SU_INSN, 0, NULL);
    if ((c->sysenter_cs & 0xFFFC) == 0)
        raise_sel(c, EXC_GP, 0, SR_NULL, SU_SYSENTER, 0, NULL);
    struct trace_event ev;
    trace_begin(c, &ev, TR_SYSEXIT, 0, false, 0);
    struct segment s;
    fixed_segment(&s, (uint16_t)((c->sysenter_cs + 16) | 3), 0xB, 3);
    seg_set_cs(c, s.sel, s.base, s.limit, s.attr);
    fixed_segment(&c->seg[SEG_SS], (uint16_t)((c->sysenter_cs + 24) | 3), 0x3, 3);
    c->r[ESP] = c->r[ECX];
    c->eip = c->r[EDX];
    trace_end(c, &ev);
}
