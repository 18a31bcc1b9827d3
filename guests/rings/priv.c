/* Guest rings_priv: ring 3 running privileged and IOPL-sensitive instructions, INT n against
 * the gate's DPL, and the instructions ring 3 may run.
 *
 * Each privileged instruction in ring 3 must raise #GP(0) (SDM vol. 3 5.9), delivered to the
 * ring 0 handler with a stack switch to the TSS's SS0:ESP0: the handler sees SS, ESP, EFLAGS,
 * CS, EIP and the error code, EIP at the faulting instruction, CS and SS with RPL 3, and runs
 * itself with CS = 0008 (CPL 0) on the TSS stack ("stack=tss"). It skips the instruction and
 * IRETs back to ring 3 ("back=3"). RDPMC too, CR4.PCE being 0. With IOPL = 0, CLI/STI and I/O
 * to a port whose bitmap bit is set also raise #GP(0) (SDM vol. 1 19.5, 19.8).
 *
 * INT n checks the gate's DPL against CPL (SDM vol. 3 6.12.1.1): INT n, INT3 (CC) and INT 3 (CD 03)
 * to a DPL 0 gate raise #GP(n*8+2); to a DPL 3 gate they are traps (EIP after the INT). A trap
 * gate leaves IF alone, an interrupt gate clears it (6.12.1.3).
 */
#include "rings.h"

#define R3(ev) ev " eip=at cs=001b ss=0023 esp=top h=0008:0010 stack=tss back=3"
#define R3T(ev) ev " eip=end cs=001b ss=0023 esp=top h=0008:0010 stack=tss back=3"
#define GP0 R3("#GP(0000)")

PROBE(p_hlt, "", "hlt");
PROBE(p_lgdt, "", "lgdt (%esi)");
PROBE(p_lidt, "", "lidt (%esi)");
PROBE(p_lldt, "", "lldt %ax");
PROBE(p_ltr, "", "ltr %ax");
PROBE(p_lmsw, "", "lmsw %ax");
PROBE(p_rd_cr0, "", "mov %cr0, %eax");
PROBE(p_wr_cr0, "", "mov %eax, %cr0");
PROBE(p_rd_cr2, "", "mov %cr2, %eax");
PROBE(p_wr_cr2, "", "mov %eax, %cr2");
PROBE(p_rd_cr3, "", "mov %cr3, %eax");
PROBE(p_wr_cr3, "", "mov %eax, %cr3");
PROBE(p_rd_cr4, "", "mov %cr4, %eax");
PROBE(p_wr_cr4, "", "mov %eax, %cr4");
PROBE(p_rd_dr7, "", "mov %dr7, %eax");
PROBE(p_wr_dr7, "", "mov %eax, %dr7");
PROBE(p_invlpg, "", "invlpg (%esi)");
PROBE(p_wrmsr, "", "wrmsr");
PROBE(p_rdmsr, "", "rdmsr");
PROBE(p_rdpmc, "", "rdpmc");
PROBE(p_clts, "", "clts");
PROBE(p_wbinvd, "", "wbinvd");
PROBE(p_invd, "", "invd");
PROBE(p_sysexit, "", "sysexit");
PROBE(p_cli, "", "cli");
PROBE(p_sti, "", "sti");
PROBE(p_in_imm, "", "inb $0x80, %al");
PROBE(p_out_imm, "", "outb %al, $0x80");
PROBE(p_in_dx, "", "inl %dx, %eax");
PROBE(p_out_dx, "", "outw %ax, %dx");
PROBE(p_ins, "", "insb");
PROBE(p_outs, "", "outsl");
PROBE(p_rep_outs, "", "rep outsb");

/* Allowed in ring 3. */
PROBE(p_sgdt, "", "sgdt (%esi)");
PROBE(p_sidt, "", "sidt (%esi)");
PROBE(p_str, "", "str %eax");
PROBE(p_sldt, "", "sldt %eax");
PROBE(p_smsw, "", "smsw %eax");
PROBE(p_pushf, "", "pushf; popl %eax");
PROBE(p_popf_iopl, "pushl $0x3202; popf", "pushf; popl %eax");

/* INT n and the gate DPL. */
PROBE(p_int_priv, "", "int $0x81");
PROBE(p_int_gp, "", "int $13");
PROBE(p_int_df, "", "int $8");
PROBE(p_int3, "", "int3");
PROBE(p_int_3, "", ".byte 0xcd, 0x03");
PROBE(p_into, "movl $0x7fffffff, %eax; addl $1, %eax", "into");
PROBE(p_int_trap, "", "int $0x83");
PROBE(p_int_intr, "", "int $0x84");

static uint8_t scratch[64] __attribute__((aligned(16)));

int kmain(const struct multiboot_info *mbi)
{
    (void)mbi;
    rings_init();
    rt_printf("rings_priv: privileged instructions in ring 3, INT n and gate DPL\n");
    struct result r;
    uint32_t buf = (uint32_t)scratch;

    /* Privileged instructions: #GP(0). */
    RUN3(r, p_hlt);
    expect("priv.hlt", &r, GP0);
    RUN3(r, p_lgdt, .esi = buf);
    expect("priv.lgdt", &r, GP0);
    RUN3(r, p_lidt, .esi = buf);
    expect("priv.lidt", &r, GP0);
    RUN3(r, p_lldt, .eax = LDTSEL);
    expect("priv.lldt", &r, GP0);
    RUN3(r, p_ltr, .eax = TSSSEL);
    expect("priv.ltr", &r, GP0);
    RUN3(r, p_lmsw, .eax = 0x11);
    expect("priv.lmsw", &r, GP0);
    RUN3(r, p_rd_cr0);
    expect("priv.mov_from_cr0", &r, GP0);
    RUN3(r, p_wr_cr0, .eax = 0x11);
    expect("priv.mov_to_cr0", &r, GP0);
    RUN3(r, p_rd_cr2);
    expect("priv.mov_from_cr2", &r, GP0);
    RUN3(r, p_wr_cr2);
    expect("priv.mov_to_cr2", &r, GP0);
    RUN3(r, p_rd_cr3);
    expect("priv.mov_from_cr3", &r, GP0);
    RUN3(r, p_wr_cr3);
    expect("priv.mov_to_cr3", &r, GP0);
    RUN3(r, p_rd_cr4);
    expect("priv.mov_from_cr4", &r, GP0);
    RUN3(r, p_wr_cr4);
    expect("priv.mov_to_cr4", &r, GP0);
    RUN3(r, p_rd_dr7);
    expect("priv.mov_from_dr7", &r, GP0);
    RUN3(r, p_wr_dr7);
    expect("priv.mov_to_dr7", &r, GP0);
    RUN3(r, p_invlpg, .esi = buf);
    expect("priv.invlpg", &r, GP0);
    RUN3(r, p_wrmsr, .ecx = 0x174, .eax = KCODE);
    expect("priv.wrmsr", &r, GP0);
    RUN3(r, p_rdmsr, .ecx = 0x174);
    expect("priv.rdmsr", &r, GP0);
    RUN3(r, p_rdpmc, .ecx = 0); /* CR4.PCE = 0 (SDM vol. 2 RDPMC) */
    expect("priv.rdpmc", &r, GP0);
    RUN3(r, p_clts);
    expect("priv.clts", &r, GP0);
    RUN3(r, p_wbinvd);
    expect("priv.wbinvd", &r, GP0);
    RUN3(r, p_invd);
    expect("priv.invd", &r, GP0);
    RUN3(r, p_sysexit, .ecx = USER_TOP, .edx = (uint32_t)p_sysexit_end);
    expect("priv.sysexit", &r, GP0);

    /* IOPL-sensitive with IOPL = 0 and every port denied by the bitmap. */
    RUN3(r, p_cli);
    expect("priv.cli", &r, GP0);
    RUN3(r, p_sti);
    expect("priv.sti", &r, GP0);
    RUN3(r, p_in_imm);
    expect("priv.in_imm", &r, GP0);
    RUN3(r, p_out_imm);
    expect("priv.out_imm", &r, GP0);
    RUN3(r, p_in_dx, .edx = 0x3F8);
    expect("priv.in_dx", &r, GP0);
    RUN3(r, p_out_dx, .edx = 0x3F8);
    expect("priv.out_dx", &r, GP0);
    RUN3(r, p_ins, .edx = 0x3F8, .edi = buf);
    expect("priv.ins", &r, GP0);
    RUN3(r, p_outs, .edx = 0x3F8, .esi = buf);
    expect("priv.outs", &r, GP0);
    RUN3(r, p_rep_outs, .edx = 0x3F8, .esi = buf, .ecx = 4);
    expect("priv.rep_outs", &r, GP0);
    check("priv.rep_outs.ecx_kept", r.exit.ecx, 4);

    /* What ring 3 may do: no event. */
    RUN3(r, p_sgdt, .esi = buf);
    expect("priv.sgdt", &r, "none back=3");
    check("priv.sgdt.limit", *(uint16_t *)scratch, sizeof(gdt) - 1);
    check("priv.sgdt.base_is_gdt", *(uint32_t *)(scratch + 2) == (uint32_t)gdt, 1);
    RUN3(r, p_sidt, .esi = buf);
    expect("priv.sidt", &r, "none back=3");
    check("priv.sidt.limit", *(uint16_t *)scratch, sizeof(idt) - 1);
    check("priv.sidt.base_is_idt", *(uint32_t *)(scratch + 2) == (uint32_t)idt, 1);
    RUN3(r, p_str);
    expect("priv.str", &r, "none back=3");
    check("priv.str.value", r.exit.eax, TSSSEL);
    RUN3(r, p_sldt);
    expect("priv.sldt", &r, "none back=3");
    check("priv.sldt.value", r.exit.eax, LDTSEL);
    RUN3(r, p_smsw);
    expect("priv.smsw", &r, "none back=3");
    check("priv.smsw.value", r.exit.eax & 0xFFFF, rd_cr0() & 0xFFFF);
    RUN3(r, p_pushf, .eflags = 0x0);
    expect("priv.pushf", &r, "none back=3");
    check("priv.pushf.value", r.exit.eax & 0x3202, 0x0002);
    /* POPF in ring 3 with IOPL 0: IOPL and IF silently keep their values. */
    RUN3(r, p_popf_iopl);
    expect("priv.popf", &r, "none back=3");
    check("priv.popf.iopl_if", r.exit.eax & 0x3200, 0);

    /* INT n to a DPL 0 gate: #GP(n*8+2), EIP at the INT. */
    RUN3(r, p_int_priv);
    expect("int.dpl0_gate", &r, R3("#GP(040a)"));
    RUN3(r, p_int_gp);
    expect("int.13", &r, R3("#GP(006a)"));
    RUN3(r, p_int_df);
    expect("int.8", &r, R3("#GP(0042)"));
    /* To DPL 3 gates: traps, EIP after the instruction. */
    RUN3(r, p_int3);
    expect("int.int3", &r, R3T("#BP"));
    RUN3(r, p_int_3);
    expect("int.int_3", &r, R3T("#BP"));
    RUN3(r, p_into);
    expect("int.into", &r, R3T("#OF"));
    /* Trap gate: IF stays set in the handler; interrupt gate: IF clear. Both push IF = 1. */
    RUN3(r, p_int_trap, .eflags = 0x200);
    expect("int.trap_gate", &r, R3T("int83"));
    check("int.trap_gate.pushed_if", r.ev[0].eflags & 0x200, 0x200);
    check("int.trap_gate.handler_if", r.ev[0].h_eflags & 0x200, 0x200);
    check("int.trap_gate.exit_if", r.exit.eflags & 0x200, 0x200);
    RUN3(r, p_int_intr, .eflags = 0x200);
    expect("int.intr_gate", &r, R3T("int84"));
    check("int.intr_gate.pushed_if", r.ev[0].eflags & 0x200, 0x200);
    check("int.intr_gate.handler_if", r.ev[0].h_eflags & 0x200, 0);
    check("int.intr_gate.exit_if", r.exit.eflags & 0x200, 0x200);

    return rt_finish("rings_priv");
}
