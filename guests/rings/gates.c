/* Guest rings_gates: IDT gate checks, the call-gate round trip and SYSENTER/SYSEXIT.
 *
 * IDT (SDM vol. 3 6.10-6.12, vol. 2 INT n): a vector beyond the IDT limit, or a gate that is not
 * an interrupt or trap gate, raises #GP(vector*8+2); INT n checks the gate DPL first (#GP), then
 * presence (#NP(vector*8+2)); the gate's selector must name code (#GP(selector)). (The EXT bit for
 * hardware events is checked by rings_sdm.)
 *
 * Call gate (5.8.4-5.8.6): `lcall` through a DPL 3 gate to ring 0 code switches to SS0:ESP0 and
 * pushes the caller's SS, ESP, the gate's parameter count of dwords copied from the caller's
 * stack, CS and EIP; `lret $8` goes back to ring 3, reloads SS:ESP and releases the parameters
 * on both stacks.
 *
 * SYSENTER/SYSEXIT (vol. 2): CS = IA32_SYSENTER_CS, SS = CS + 8, ESP/EIP from the MSRs, IF
 * cleared; SYSEXIT: CS = (IA32_SYSENTER_CS + 16) | 3, SS = (IA32_SYSENTER_CS + 24) | 3,
 * ESP = ECX, EIP = EDX. IA32_SYSENTER_CS = 0 makes SYSENTER raise #GP(0).
 */
#include "rings.h"

#define R3(ev) ev " eip=at cs=001b ss=0023 esp=top h=0008:0010 stack=tss back=3"

PROBE(g_int_np, "", "int $0x82");
PROBE(g_int_np0, "", "int $0x86");
PROBE(g_int_87, "", "int $0x87");
PROBE(g_int_84, "", "int $0x84");
PROBE(g_int_90, "", "int $0x90");
PROBE(g_call, "pushl $0x22222222; pushl $0x11111111", "lcall $0x33, $0");
PROBE(g_sysenter, "movl $g_sysenter_end, %edx; movl %esp, %ecx", "sysenter");
PROBE(g_sysenter_esp, "movl $g_sysenter_esp_end, %edx; leal -64(%esp), %ecx", "sysenter");

static uint8_t sysenter_stack[1024] __attribute__((aligned(16)));

static void wrmsr(uint32_t msr, uint32_t lo)
{
    __asm__ volatile("wrmsr" : : "c"(msr), "a"(lo), "d"(0));
}

static void lidt_limit(uint16_t limit)
{
    struct __attribute__((packed)) {
        uint16_t limit;
        uint32_t base;
    } d = {limit, (uint32_t)idt};
    __asm__ volatile("lidt %0" : : "m"(d));
}

int kmain(const struct multiboot_info *mbi)
{
    (void)mbi;
    rings_init();
    rt_printf("rings_gates: IDT gates, a call gate round trip, SYSENTER/SYSEXIT\n");
    struct result r;

    /* ---- IDT gates ---- */
    RUN3(r, g_int_np);
    expect("idt.not_present_dpl3", &r, R3("#NP(0412)"));
    RUN3(r, g_int_np0);
    expect("idt.not_present_dpl0", &r, R3("#GP(0432)"));
    idt[0x87] = gate_desc(KCODE, (uint32_t)isr_intr, 0xC, 3, true, 0); /* a call gate */
    RUN3(r, g_int_87);
    expect("idt.call_gate_type", &r, R3("#GP(043a)"));
    idt[0x87] = gate_desc(UDATA, (uint32_t)isr_intr, 0xE, 3, true, 0); /* selector: data */
    RUN3(r, g_int_87);
    expect("idt.gate_to_data_segment", &r, R3("#GP(0020)"));
    idt[0x87] = gate_desc(0, (uint32_t)isr_intr, 0xE, 3, true, 0); /* selector: null */
    RUN3(r, g_int_87);
    expect("idt.gate_to_null_selector", &r, R3("#GP(0000)"));
    idt[0x87] = 0;
    lidt_limit(0x84 * 8 - 1); /* vectors 0..0x83 */
    RUN3(r, g_int_84);
    expect("idt.beyond_limit", &r, R3("#GP(0422)"));
    lidt_limit(0x84 * 8 + 6); /* one byte short of vector 0x84's gate */
    RUN3(r, g_int_84);
    expect("idt.beyond_limit_by_one", &r, R3("#GP(0422)"));
    lidt_limit(0x84 * 8 + 7);
    RUN3(r, g_int_84);
    expect("idt.last_gate_in_limit", &r,
           "int84 eip=end cs=001b ss=0023 esp=top h=0008:0010 stack=tss back=3");
    lidt_limit(sizeof(idt) - 1);
    RUN3(r, g_int_90);
    expect("idt.empty_gate", &r, R3("#GP(0482)"));

    /* ---- call gate round trip ---- */
    for (unsigned k = 0; k < 10; k++)
        cg_rec[k] = 0;
    RUN3(r, g_call);
    expect("callgate.round_trip", &r, "none back=3");
    check("callgate.handler_cs", cg_rec[1], KCODE);
    check("callgate.handler_ss", cg_rec[2], KDATA);
    check("callgate.handler_esp0_minus_esp", TRAP_TOP - cg_rec[0], 24);
    check("callgate.pushed_eip_after_lcall", cg_rec[3] == (uint32_t)g_call_end, 1);
    check("callgate.pushed_cs", cg_rec[4] & 0xFFFF, UCODE | 3);
    check("callgate.param1", cg_rec[5], 0x11111111);
    check("callgate.param2", cg_rec[6], 0x22222222);
    check("callgate.pushed_esp_below_top", USER_TOP - cg_rec[7], 8);
    check("callgate.pushed_ss", cg_rec[8] & 0xFFFF, UDATA | 3);
    check("callgate.back_cs", r.exit.cs, UCODE | 3);
    check("callgate.back_ss", r.exit.ss, UDATA | 3);
    check("callgate.back_esp_below_top", USER_TOP - r.exit.esp, 0);

    /* ---- SYSENTER / SYSEXIT ---- */
    uint32_t sys_top = (uint32_t)sysenter_stack + sizeof(sysenter_stack);
    wrmsr(0x174, KCODE);
    wrmsr(0x175, sys_top);
    wrmsr(0x176, (uint32_t)sysenter_entry);
    for (unsigned k = 0; k < 5; k++)
        sysenter_rec[k] = 0;
    RUN3(r, g_sysenter, .eflags = 0x200);
    expect("sysenter.round_trip", &r, "none back=3");
    check("sysenter.cs", sysenter_rec[1], KCODE);
    check("sysenter.ss", sysenter_rec[2], KDATA);
    check("sysenter.esp_is_msr", sysenter_rec[0] == sys_top, 1);
    check("sysenter.if_cleared", sysenter_rec[3] & 0x200, 0);
    check("sysexit.cs", r.exit.cs, UCODE | 3);
    check("sysexit.ss", r.exit.ss, UDATA | 3);
    check("sysexit.esp_is_ecx", USER_TOP - r.exit.esp, 0);
    check("sysexit.if_still_clear", r.exit.eflags & 0x200, 0);
    RUN3(r, g_sysenter_esp);
    expect("sysexit.other_esp", &r, "none back=3");
    check("sysexit.other_esp.below_top", USER_TOP - r.exit.esp, 64);
    wrmsr(0x174, 0);
    RUN3(r, g_sysenter);
    expect("sysenter.msr_cs_null", &r, R3("#GP(0000)"));
    wrmsr(0x174, KCODE);

    return rt_finish("rings_gates");
}
