/* Guest rings_sdm: privilege rules where QEMU (TCG, checked with 7.2) does not do what the Intel
 * SDM says, so this guest is not compared with QEMU (qemu-check.sh skips it). Each line names the
 * rule; the comment says what QEMU does instead.
 *
 * - Using a null data segment register faults #GP(0) (SDM vol. 3 5.4.1).
 *   QEMU does not check segment usability or limits on data accesses: the access goes through.
 * - An exception whose IDT gate is not present raises #NP(vector*8+2+EXT), EXT = 1 because the
 *   event came from the cpu, not INT n (vol. 3 6.13, error code format).
 *   QEMU pushes vector*8+2 without the EXT bit.
 * - The TSS stack for an inner-ring handler (vol. 2 INT n pseudo-code, INTER-PRIVILEGE-LEVEL-
 *   INTERRUPT): null SS0 -> #TS(EXT); SS0 with a bad RPL/DPL/type -> #TS(SS0 + EXT); SS0 not
 *   present -> #SS(SS0 + EXT); no room for the frame below ESP0 -> #SS(SS0 + EXT). Seen here by
 *   conforming #TS/#SS handlers (no stack switch) after UD2 (#UD is benign, so the #TS/#SS is
 *   delivered normally, with EXT = 1) and INT 84 (EXT = 0; the #TS cases QEMU gets right are in
 *   rings_df).
 *   QEMU raises #TS(SS0) without EXT in every case, and does not check the new stack's limit.
 * - #DF when the TSS stack has no room (ESP0 beyond SS0's limit): #GP from HLT, then #SS(SS0+1)
 *   delivering it -> #DF. QEMU delivers the #GP on the out-of-limit stack.
 * - A far RET (and IRET) to an outer ring whose SS is not present raises #SS(SS) (vol. 2 RET,
 *   IRET: "IF stack segment not present THEN #SS(SS selector)"). QEMU raises #NP(SS).
 * - A 32-bit IRET at CPL 0 loads VIF and VIP from the popped EFLAGS (vol. 2 IRET, "IF CPL = 0
 *   THEN EFLAGS(IOPL) <- tempEFLAGS; IF OperandSize = 32 THEN EFLAGS(VIF, VIP) <- ...").
 *   QEMU keeps them.
 */
#include "rings.h"

#define R3(ev) ev " eip=at cs=001b ss=0023 esp=top h=0008:0010 stack=tss back=3"

PROBE(n_ds, "xorl %eax, %eax; movw %ax, %ds", "movl (%esi), %eax");
PROBE(n_es, "xorl %eax, %eax; movw %ax, %es", "stosb");
PROBE(n_gs, "movl $3, %eax; movw %ax, %gs", "movl %gs:(%esi), %eax");
PROBE(u_ud2, "", "ud2");
PROBE(u_int, "", "int $0x84");
PROBE(u_hlt, "", "hlt");
PROBE(f_ss_np, "pushl $0x43; pushl $user_stack+4032; pushl $0x1b; pushl $f_ss_np_end", "lret");
PROBE(i_vif, "pushl $0x180002; pushl $0x08; pushl $i_vif_end", "iret");
PROBE(i_vif_ring3,
      "pushl $0x23; pushl $user_stack+4032; pushl $0x180002; pushl $0x1b; pushl $i_vif_ring3_end",
      "iret");
PROBE(i_ss_np,
      "pushl $0x43; pushl $user_stack+4032; pushl $0x2; pushl $0x1b; pushl $i_ss_np_end", "iret");

static uint8_t scratch[16];

int kmain(const struct multiboot_info *mbi)
{
    (void)mbi;
    rings_init();
    rt_printf("rings_sdm: rules QEMU does not follow (not compared with QEMU)\n");
    struct result r;
    char got[160];
    uint32_t buf = (uint32_t)scratch;

    /* Null selectors load, and fault when used. */
    RUN3(r, n_ds, .esi = buf);
    expect("sdm.null_ds.use", &r, R3("#GP(0000)"));
    RUN3(r, n_es, .edi = buf);
    expect("sdm.null_es.stos", &r, R3("#GP(0000)"));
    RUN3(r, n_gs, .esi = buf);
    expect("sdm.null_gs_rpl3.use", &r, R3("#GP(0000)"));
    RUN0(r, n_ds, .esi = buf);
    expect("sdm.null_ds.use_ring0", &r, "#GP(0000) eip=at cs=0008 h=0008:0010 stack=top-12 back=0");

    /* A not-present gate for an exception: #NP with EXT. */
    set_idt_gate(6, KCODE, isr_table[6], 0xE, 0, false);
    RUN3(r, u_ud2);
    expect("sdm.ud_gate_not_present", &r, R3("#NP(0033)"));
    RUN0(r, u_ud2);
    expect("sdm.ud_gate_not_present_ring0", &r,
           "#NP(0033) eip=at cs=0008 h=0008:0010 stack=top-12 back=0");
    set_idt_default(6);

    /* The TSS stack checks, seen by conforming #TS/#SS handlers. */
    set_idt_gate(10, KCONF, conf_ts, 0xE, 0, true);
    set_idt_gate(12, KCONF, conf_ss, 0xE, 0, true);
    set_idt_gate(8, KCONF, conf_df, 0xE, 0, true);
    RUNCONF3(r, 0, TRAP_TOP, got, u_ud2);
    check_str("sdm.ud2.ss0_null", got, "#TS(0001) cs=001b h=003b:0023 stack=top-16 exit=003b");
    RUNCONF3(r, UDATA | 3, TRAP_TOP, got, u_ud2);
    check_str("sdm.ud2.ss0_rpl3", got, "#TS(0021) cs=001b h=003b:0023 stack=top-16 exit=003b");
    RUNCONF3(r, KNP, TRAP_TOP, got, u_int);
    check_str("sdm.int84.ss0_not_present", got, "#SS(0070) cs=001b h=003b:0023 stack=top-16 exit=003b");
    RUNCONF3(r, KNP, TRAP_TOP, got, u_ud2);
    check_str("sdm.ud2.ss0_not_present", got, "#SS(0071) cs=001b h=003b:0023 stack=top-16 exit=003b");
    RUNCONF3(r, KSMALL, 0x2000, got, u_int);
    check_str("sdm.int84.esp0_beyond_limit", got, "#SS(0058) cs=001b h=003b:0023 stack=top-16 exit=003b");
    RUNCONF3(r, KSMALL, 0x2000, got, u_ud2);
    check_str("sdm.ud2.esp0_beyond_limit", got, "#SS(0059) cs=001b h=003b:0023 stack=top-16 exit=003b");
    /* #GP (contributory) then #SS delivering it (contributory): #DF. */
    RUNCONF3(r, KSMALL, 0x2000, got, u_hlt);
    check_str("sdm.hlt.esp0_beyond_limit", got, "#DF(0000) cs=001b h=003b:0023 stack=top-16 exit=003b");
    set_idt_default(8);
    set_idt_default(10);
    set_idt_default(12);

    /* Returns to an outer ring with a not-present SS. */
    RUN0(r, f_ss_np);
    expect("sdm.retf.ss_not_present", &r, "#SS(0040) eip=at cs=0008 h=0008:0010 stack=top-28 back=0");
    RUN0(r, i_ss_np);
    expect("sdm.iret.ss_not_present", &r, "#SS(0040) eip=at cs=0008 h=0008:0010 stack=top-32 back=0");

    /* IRET at CPL 0 loads VIF and VIP (to the same ring and to ring 3). */
    RUN0(r, i_vif);
    expect("sdm.iret.ring0_vif_vip", &r, "none back=0");
    check("sdm.iret.ring0_vif_vip.loaded", r.exit.eflags & 0x180000, 0x180000);
    RUN0(r, i_vif_ring3);
    expect("sdm.iret.to_ring3_vif_vip", &r, "none back=3");
    check("sdm.iret.to_ring3_vif_vip.loaded", r.exit.eflags & 0x180000, 0x180000);

    return rt_finish("rings_sdm");
}
