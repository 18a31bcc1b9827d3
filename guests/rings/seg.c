/* Guest rings_seg: segment-register loads in ring 3, IRET and far RET to an outer ring, and far
 * JMP/CALL to code of another privilege.
 *
 * Loads (SDM vol. 3 5.5-5.7, vol. 2 MOV/POP/LDS): DS/ES/FS/GS take data or readable code with
 * max(CPL, RPL) <= DPL (conforming code: any DPL), else #GP(selector); not present: #NP(selector);
 * a null selector loads (and only a later use faults). SS needs RPL = DPL = CPL and writable data,
 * else #GP(selector); null: #GP(0); not present: #SS(selector). Error codes carry the selector
 * with the RPL bits cleared (TI kept).
 *
 * IRET and RETF (vol. 2 IRET, RET): the popped CS must be code with RPL >= CPL, non-conforming
 * DPL = RPL, else #GP(CS); a return to an outer ring pops SS:ESP, which must have RPL = DPL = the
 * new CPL and be writable data (#GP(SS)), present (#SS(SS)); RETF imm16 releases imm16 bytes of
 * parameters on both stacks. Afterwards DS/ES/FS/GS holding data or non-conforming code with
 * DPL < new CPL are loaded with null. IRET at CPL > IOPL changes neither IOPL nor IF.
 *
 * Far JMP/CALL (vol. 2 JMP, CALL): directly only to non-conforming code of DPL = CPL (the RPL may
 * be lower: CS.RPL becomes CPL) or conforming code of DPL <= CPL (CPL does not change); a call
 * gate's DPL must be >= CPL; JMP through a gate cannot change CPL (#GP(code selector)).
 *
 * LAR/LSL/VERR/VERW never fault: ZF says whether the descriptor passes the privilege check
 * (DPL >= max(CPL, RPL) unless conforming code) and suits the query (LAR: code, data, TSS, LDT,
 * gates; LSL: code, data, TSS, LDT; VERR: readable; VERW: writable data). ARPL raises an RPL.
 */
#include "rings.h"

#define R3(ev) ev " eip=at cs=001b ss=0023 esp=top h=0008:0010 stack=tss back=3"
#define NONE3 "none back=3"

/* ---- loads from ring 3, selector in EAX ---- */
PROBE(l_ds, "", "mov %ax, %ds");
PROBE(l_es, "", "mov %ax, %es");
PROBE(l_fs, "", "mov %ax, %fs");
PROBE(l_gs, "", "mov %ax, %gs");
PROBE(l_ss, "", "mov %ax, %ss");
PROBE(l_pop_ds, "pushl %eax", "popl %ds");
PROBE(l_lds, "", "lds (%esi), %ebx");
PROBE(l_lss, "", "lss (%esi), %ebx");

enum { R_DS, R_ES, R_FS, R_GS, R_SS };

struct load_case {
    const char *name;
    int reg;
    uint16_t sel;
    const char *want; /* NULL: no event, the register then holds sel */
};

static const struct load_case load_cases[] = {
    {"ds.kdata_rpl3", R_DS, KDATA | 3, R3("#GP(0010)")},
    {"ds.kdata_rpl0", R_DS, KDATA, R3("#GP(0010)")},
    {"ds.kcode_readable", R_DS, KCODE | 3, R3("#GP(0008)")},
    {"ds.execute_only", R_DS, UXO | 3, R3("#GP(0048)")},
    {"ds.tss", R_DS, TSSSEL | 3, R3("#GP(0028)")},
    {"ds.ldt_descriptor", R_DS, LDTSEL | 3, R3("#GP(0050)")},
    {"ds.call_gate", R_DS, CGATE3 | 3, R3("#GP(0030)")},
    {"ds.beyond_gdt", R_DS, 0x403, R3("#GP(0400)")},
    {"ds.ldt_empty_entry", R_DS, 0x0F, R3("#GP(000c)")},
    {"ds.beyond_ldt", R_DS, 0x17, R3("#GP(0014)")},
    {"ds.not_present", R_DS, UNP | 3, R3("#NP(0040)")},
    {"ds.udata", R_DS, UDATA | 3, NULL},
    {"ds.udata_rpl0", R_DS, UDATA, NULL},
    {"ds.ucode_readable", R_DS, UCODE | 3, NULL},
    {"ds.kconf_conforming", R_DS, KCONF | 3, NULL},
    {"ds.ldt_udata", R_DS, LDT_UDATA, NULL},
    {"ds.null", R_DS, 0, NULL},
    {"ds.null_rpl3", R_DS, 3, NULL},
    {"es.kdata_rpl3", R_ES, KDATA | 3, R3("#GP(0010)")},
    {"es.not_present", R_ES, UNP | 3, R3("#NP(0040)")},
    {"es.null", R_ES, 0, NULL},
    {"fs.kdata_rpl3", R_FS, KDATA | 3, R3("#GP(0010)")},
    {"fs.not_present", R_FS, UNP | 3, R3("#NP(0040)")},
    {"fs.udata", R_FS, UDATA | 3, NULL},
    {"gs.kdata_rpl3", R_GS, KDATA | 3, R3("#GP(0010)")},
    {"gs.kcode", R_GS, KCODE | 3, R3("#GP(0008)")},
    {"gs.udata", R_GS, UDATA | 3, NULL},
    {"ss.udata", R_SS, UDATA | 3, NULL},
    {"ss.ldt_udata", R_SS, LDT_UDATA, NULL},
    {"ss.udata_rpl0", R_SS, UDATA, R3("#GP(0020)")},
    {"ss.kdata_rpl3", R_SS, KDATA | 3, R3("#GP(0010)")},
    {"ss.kdata", R_SS, KDATA, R3("#GP(0010)")},
    {"ss.ucode", R_SS, UCODE | 3, R3("#GP(0018)")},
    {"ss.read_only", R_SS, URO | 3, R3("#GP(0068)")},
    {"ss.tss", R_SS, TSSSEL | 3, R3("#GP(0028)")},
    {"ss.beyond_gdt", R_SS, 0x403, R3("#GP(0400)")},
    {"ss.not_present", R_SS, UNP | 3, R3("#SS(0040)")},
    {"ss.null", R_SS, 0, R3("#GP(0000)")},
    {"ss.null_rpl3", R_SS, 3, R3("#GP(0000)")},
};

static void run_load(struct result *r, int reg, uint16_t sel)
{
    static char *const probes[][3] = {
        {l_ds, l_ds_at, l_ds_end}, {l_es, l_es_at, l_es_end}, {l_fs, l_fs_at, l_fs_end},
        {l_gs, l_gs_at, l_gs_end}, {l_ss, l_ss_at, l_ss_end},
    };
    run_probe(r, &(struct probe){.entry = probes[reg][0], .at = probes[reg][1],
                                 .end = probes[reg][2], .ring = 3, .eax = sel});
}

static uint32_t exit_sreg(const struct result *r, int reg)
{
    switch (reg) {
    case R_DS: return r->exit.ds & 0xFFFF;
    case R_ES: return r->exit.es & 0xFFFF;
    case R_FS: return r->exit.fs & 0xFFFF;
    case R_GS: return r->exit.gs & 0xFFFF;
    default: return r->exit.ss & 0xFFFF;
    }
}

/* ---- IRET and RETF from ring 0 (the probe runs on the ring 0 probe stack) ---- */
#define USP "user_stack+4032" /* the ring 3 ESP the returns load */
#define FRAME3(ss, cs, eip) "pushl $" ss "; pushl $" USP "; pushl $0x2; pushl $" cs "; pushl $" eip
PROBE(i_cs_rpl0, "pushl $0x2; pushl $0x18; pushl $i_cs_rpl0_end", "iret");
PROBE(i_cs_dpl0, FRAME3("0x23", "0x0b", "i_cs_dpl0_end"), "iret");
PROBE(i_cs_data, FRAME3("0x23", "0x23", "i_cs_data_end"), "iret");
PROBE(i_cs_null, FRAME3("0x23", "0x03", "i_cs_null_end"), "iret");
PROBE(i_ss_rpl0, FRAME3("0x20", "0x1b", "i_ss_rpl0_end"), "iret");
PROBE(i_ss_dpl0, FRAME3("0x13", "0x1b", "i_ss_dpl0_end"), "iret");
PROBE(i_ss_code, FRAME3("0x1b", "0x1b", "i_ss_code_end"), "iret");
PROBE(i_ss_ro, FRAME3("0x6b", "0x1b", "i_ss_ro_end"), "iret");
PROBE(i_ss_null, FRAME3("0x03", "0x1b", "i_ss_null_end"), "iret");
/* Valid: DS = KDATA, ES = KCONF (conforming), FS = UDATA, GS = KDATA; IOPL 3 and IF in EFLAGS. */
PROBE(i_ok,
      "movl $0x10, %eax; movw %ax, %ds; movl $0x38, %eax; movw %ax, %es;"
      "movl $0x23, %eax; movw %ax, %fs; movl $0x10, %eax; movw %ax, %gs;"
      "pushl $0x23; pushl $" USP "; pushl $0x3202; pushl $0x1b; pushl $i_ok_end",
      "iret");
PROBE(i_xo, FRAME3("0x23", "0x4b", "i_xo_end"), "iret");
/* IRET at CPL 3 keeps VIF and VIP (they are loaded only at CPL 0: rings_sdm). */
PROBE(i3_vif, "pushl $0x180002; pushl $0x1b; pushl $i3_vif_end", "iret");
/* From ring 3. */
PROBE(i3_to_ring0, "pushl $0x2; pushl $0x08; pushl $i3_to_ring0_end", "iret");
PROBE(i3_flags, "pushl $0x3202; pushl $0x1b; pushl $i3_flags_end", "iret");

PROBE(f_ok, "pushl $0x23; pushl $" USP "; pushl $0x1b; pushl $f_ok_end", "lret");
PROBE(f_imm,
      "pushl $0x23; pushl $" USP "; pushl $0x22222222; pushl $0x11111111;"
      "pushl $0x1b; pushl $f_imm_end",
      "lret $8");
PROBE(f_ss_rpl0, "pushl $0x20; pushl $" USP "; pushl $0x1b; pushl $f_ss_rpl0_end", "lret");
PROBE(f_cs_rpl0, "pushl $0x18; pushl $f_cs_rpl0_end", "lret");
PROBE(f3_to_ring0, "pushl $0x08; pushl $f3_to_ring0_end", "lret");

/* ---- far JMP/CALL from ring 3 ---- */
PROBE(j_kcode, "", "ljmp $0x08, $j_kcode_end");
PROBE(c_kcode, "", "lcall $0x08, $c_kcode_end");
PROBE(j_data, "", "ljmp $0x23, $j_data_end");
PROBE(j_ucode_rpl0, "", "ljmp $0x18, $j_ucode_rpl0_end");
PROBE(j_kconf, "", "ljmp $0x38, $j_kconf_end");
PROBE(j_kconf_hlt, "ljmp $0x38, $j_kconf_hlt_at", "hlt");
PROBE(j_gate, "", "ljmp $0x33, $0");
PROBE(c_gate_dpl0, "", "lcall $0x63, $0");

/* ---- descriptor queries (vol. 2 LAR, LSL, VERR, VERW, ARPL): ZF = 1 when the selector is
 * valid for the query from CPL/RPL (DPL >= max(CPL, RPL) unless conforming code); LAR/LSL leave
 * the destination alone otherwise. The selector is in EBX; result EAX, flags ECX. ---- */
PROBE(q_lar, "movl $0xdeadbeef, %eax", "larl %bx, %eax; pushfl; popl %ecx");
PROBE(q_lsl, "movl $0xdeadbeef, %eax", "lsll %bx, %eax; pushfl; popl %ecx");
PROBE(q_verr, "", "verr %bx; pushfl; popl %ecx");
PROBE(q_verw, "", "verw %bx; pushfl; popl %ecx");
PROBE(q_arpl, "", "arpl %bx, %ax; pushfl; popl %ecx");

enum { Q_LAR, Q_LSL, Q_VERR, Q_VERW, Q_ARPL };

struct query_case {
    const char *name;
    int q;
    unsigned ring;
    uint16_t sel;      /* EBX */
    uint32_t eax;      /* EAX before (ARPL's destination) */
    uint32_t zf;       /* ZF after */
    uint32_t mask;     /* bits of EAX compared (0: EAX not checked) */
    uint32_t want;
};

/* LAR: the accessed bit (8) and bits 19:16 (undefined, SDM) are masked out; for gates only the
 * type/DPL/P byte is defined. */
#define ARM 0x00F0FE00u
static const struct query_case query_cases[] = {
    {"lar.udata", Q_LAR, 3, UDATA | 3, 0, 1, ARM, 0x00C0F200},
    {"lar.ucode", Q_LAR, 3, UCODE | 3, 0, 1, ARM, 0x00C0FA00},
    {"lar.execute_only", Q_LAR, 3, UXO | 3, 0, 1, ARM, 0x00C0F800},
    {"lar.not_present", Q_LAR, 3, UNP | 3, 0, 1, ARM, 0x00C07200},
    {"lar.ldt_udata", Q_LAR, 3, LDT_UDATA, 0, 1, ARM, 0x00C0F200},
    {"lar.kconf_conforming", Q_LAR, 3, KCONF | 3, 0, 1, ARM, 0x00C09E00},
    {"lar.call_gate", Q_LAR, 3, CGATE3 | 3, 0, 1, 0xFF00, 0xEC00},
    {"lar.kdata_from_ring3", Q_LAR, 3, KDATA | 3, 0, 0, ~0u, 0xdeadbeef},
    {"lar.kdata_rpl3_from_ring0", Q_LAR, 0, KDATA | 3, 0, 0, ~0u, 0xdeadbeef},
    {"lar.tss_from_ring3", Q_LAR, 3, TSSSEL | 3, 0, 0, ~0u, 0xdeadbeef},
    {"lar.tss_from_ring0", Q_LAR, 0, TSSSEL, 0, 1, 0xFF00, 0x8B00},
    {"lar.ldt_from_ring0", Q_LAR, 0, LDTSEL, 0, 1, 0xFF00, 0x8200},
    {"lar.null", Q_LAR, 3, 0, 0, 0, ~0u, 0xdeadbeef},
    {"lar.beyond_gdt", Q_LAR, 3, 0x403, 0, 0, ~0u, 0xdeadbeef},
    {"lsl.udata", Q_LSL, 3, UDATA | 3, 0, 1, ~0u, 0xFFFFFFFF},
    {"lsl.ksmall_from_ring3", Q_LSL, 3, KSMALL | 3, 0, 0, ~0u, 0xdeadbeef},
    {"lsl.ksmall_from_ring0", Q_LSL, 0, KSMALL, 0, 1, ~0u, 0xFFF},
    {"lsl.tss_from_ring0", Q_LSL, 0, TSSSEL, 0, 1, ~0u, sizeof(struct tss) - 1},
    {"lsl.ldt_from_ring0", Q_LSL, 0, LDTSEL, 0, 1, ~0u, 15},
    {"lsl.call_gate", Q_LSL, 3, CGATE3 | 3, 0, 0, ~0u, 0xdeadbeef},
    {"verr.ucode", Q_VERR, 3, UCODE | 3, 0, 1, 0, 0},
    {"verr.execute_only", Q_VERR, 3, UXO | 3, 0, 0, 0, 0},
    {"verr.kconf_conforming", Q_VERR, 3, KCONF | 3, 0, 1, 0, 0},
    {"verr.udata", Q_VERR, 3, UDATA | 3, 0, 1, 0, 0},
    {"verr.kdata_from_ring3", Q_VERR, 3, KDATA | 3, 0, 0, 0, 0},
    {"verr.kdata_rpl3_from_ring0", Q_VERR, 0, KDATA | 3, 0, 0, 0, 0},
    {"verr.kdata_from_ring0", Q_VERR, 0, KDATA, 0, 1, 0, 0},
    {"verr.tss_from_ring0", Q_VERR, 0, TSSSEL, 0, 0, 0, 0},
    {"verr.null", Q_VERR, 3, 0, 0, 0, 0, 0},
    {"verw.udata", Q_VERW, 3, UDATA | 3, 0, 1, 0, 0},
    {"verw.read_only", Q_VERW, 3, URO | 3, 0, 0, 0, 0},
    {"verw.ucode", Q_VERW, 3, UCODE | 3, 0, 0, 0, 0},
    {"verw.kdata_from_ring3", Q_VERW, 3, KDATA | 3, 0, 0, 0, 0},
    {"verw.kconf", Q_VERW, 3, KCONF | 3, 0, 0, 0, 0},
    {"arpl.raises_rpl", Q_ARPL, 3, 3, KDATA, 1, 0xFFFF, KDATA | 3},
    {"arpl.keeps_higher_rpl", Q_ARPL, 3, 0, KDATA | 3, 0, 0xFFFF, KDATA | 3},
    {"arpl.keeps_equal_rpl", Q_ARPL, 3, 2, KDATA | 2, 0, 0xFFFF, KDATA | 2},
};

static void run_query(struct result *r, const struct query_case *qc)
{
    static char *const probes[][3] = {
        {q_lar, q_lar_at, q_lar_end}, {q_lsl, q_lsl_at, q_lsl_end},
        {q_verr, q_verr_at, q_verr_end}, {q_verw, q_verw_at, q_verw_end},
        {q_arpl, q_arpl_at, q_arpl_end},
    };
    run_probe(r, &(struct probe){.entry = probes[qc->q][0], .at = probes[qc->q][1],
                                 .end = probes[qc->q][2], .ring = qc->ring, .ebx = qc->sel,
                                 .eax = qc->eax});
}

static uint8_t farptr[8] __attribute__((aligned(8)));

int kmain(const struct multiboot_info *mbi)
{
    (void)mbi;
    rings_init();
    rt_printf("rings_seg: segment loads in ring 3, IRET/RETF to an outer ring, far JMP/CALL\n");
    struct result r;
    char name[64];

    for (unsigned k = 0; k < sizeof(load_cases) / sizeof(load_cases[0]); k++) {
        const struct load_case *lc = &load_cases[k];
        run_load(&r, lc->reg, lc->sel);
        snprint(name, sizeof(name), "load.%s", lc->name);
        expect(name, &r, lc->want ? lc->want : NONE3);
        if (!lc->want) {
            snprint(name, sizeof(name), "load.%s.value", lc->name);
            check(name, exit_sreg(&r, lc->reg), lc->sel);
        }
    }
    /* POP DS faults with ESP not yet incremented; LDS/LSS leave the offset register alone. */
    RUN3(r, l_pop_ds, .eax = KDATA | 3);
    expect("load.pop_ds.kdata_rpl3", &r,
           "#GP(0010) eip=at cs=001b ss=0023 esp=top-4 h=0008:0010 stack=tss back=3");
    *(uint32_t *)farptr = 0x12345678;
    *(uint16_t *)(farptr + 4) = KDATA | 3;
    RUN3(r, l_lds, .esi = (uint32_t)farptr, .ebx = 0xB0B0B0B0);
    expect("load.lds.kdata_rpl3", &r, R3("#GP(0010)"));
    check("load.lds.ebx_kept", r.exit.ebx, 0xB0B0B0B0);
    *(uint16_t *)(farptr + 4) = UDATA;
    RUN3(r, l_lss, .esi = (uint32_t)farptr, .ebx = 0xB0B0B0B0);
    expect("load.lss.udata_rpl0", &r, R3("#GP(0020)"));
    check("load.lss.ebx_kept", r.exit.ebx, 0xB0B0B0B0);

    /* IRET from ring 0. */
    RUN0(r, i_cs_rpl0);
    expect("iret.cs_rpl0_dpl3", &r, "#GP(0018) eip=at cs=0008 h=0008:0010 stack=top-24 back=0");
    RUN0(r, i_cs_dpl0);
    expect("iret.cs_rpl3_dpl0", &r, "#GP(0008) eip=at cs=0008 h=0008:0010 stack=top-32 back=0");
    RUN0(r, i_cs_data);
    expect("iret.cs_data", &r, "#GP(0020) eip=at cs=0008 h=0008:0010 stack=top-32 back=0");
    RUN0(r, i_cs_null);
    expect("iret.cs_null", &r, "#GP(0000) eip=at cs=0008 h=0008:0010 stack=top-32 back=0");
    RUN0(r, i_ss_rpl0);
    expect("iret.ss_rpl0", &r, "#GP(0020) eip=at cs=0008 h=0008:0010 stack=top-32 back=0");
    RUN0(r, i_ss_dpl0);
    expect("iret.ss_dpl0", &r, "#GP(0010) eip=at cs=0008 h=0008:0010 stack=top-32 back=0");
    RUN0(r, i_ss_code);
    expect("iret.ss_code", &r, "#GP(0018) eip=at cs=0008 h=0008:0010 stack=top-32 back=0");
    RUN0(r, i_ss_ro);
    expect("iret.ss_read_only", &r, "#GP(0068) eip=at cs=0008 h=0008:0010 stack=top-32 back=0");
    RUN0(r, i_ss_null);
    expect("iret.ss_null", &r, "#GP(0000) eip=at cs=0008 h=0008:0010 stack=top-32 back=0");
    RUN0(r, i_ok);
    expect("iret.to_ring3", &r, "none back=3");
    check("iret.to_ring3.cs", r.exit.cs, UCODE | 3);
    check("iret.to_ring3.ss", r.exit.ss, UDATA | 3);
    check("iret.to_ring3.esp_is_popped", r.exit.esp == (uint32_t)user_stack + 4032, 1);
    check("iret.to_ring3.ds_kdata_nulled", r.exit.ds & 0xFFFF, 0);
    check("iret.to_ring3.es_conforming_kept", r.exit.es & 0xFFFF, KCONF);
    check("iret.to_ring3.fs_udata_kept", r.exit.fs & 0xFFFF, UDATA | 3);
    check("iret.to_ring3.gs_kdata_nulled", r.exit.gs & 0xFFFF, 0);
    check("iret.to_ring3.iopl_if_loaded", r.exit.eflags & 0x3200, 0x3200);
    RUN0(r, i_xo);
    expect("iret.to_execute_only", &r, "none back=3");
    check("iret.to_execute_only.cs", r.exit.cs, UXO | 3);
    RUN3(r, i3_vif);
    expect("iret.ring3_vif_vip", &r, "none back=3");
    check("iret.ring3_vif_vip.kept", r.exit.eflags & 0x180000, 0);
    RUN3(r, i3_to_ring0);
    expect("iret.ring3_to_ring0", &r,
           "#GP(0008) eip=at cs=001b ss=0023 esp=top-12 h=0008:0010 stack=tss back=3");
    RUN3(r, i3_flags);
    expect("iret.ring3_same_ring", &r, "none back=3");
    check("iret.ring3_same_ring.iopl_if_kept", r.exit.eflags & 0x3200, 0);

    /* Far RET from ring 0 to ring 3. */
    RUN0(r, f_ok);
    expect("retf.to_ring3", &r, "none back=3");
    check("retf.to_ring3.cs", r.exit.cs, UCODE | 3);
    check("retf.to_ring3.ss", r.exit.ss, UDATA | 3);
    check("retf.to_ring3.esp_is_popped", r.exit.esp == (uint32_t)user_stack + 4032, 1);
    check("retf.to_ring3.ds_nulled", r.exit.ds & 0xFFFF, 0);
    check("retf.to_ring3.es_nulled", r.exit.es & 0xFFFF, 0);
    RUN0(r, f_imm);
    expect("retf_imm.to_ring3", &r, "none back=3");
    check("retf_imm.to_ring3.esp_released", r.exit.esp - ((uint32_t)user_stack + 4032), 8);
    RUN0(r, f_ss_rpl0);
    expect("retf.ss_rpl0", &r, "#GP(0020) eip=at cs=0008 h=0008:0010 stack=top-28 back=0");
    RUN0(r, f_cs_rpl0);
    expect("retf.cs_rpl0_dpl3", &r, "#GP(0018) eip=at cs=0008 h=0008:0010 stack=top-20 back=0");
    RUN3(r, f3_to_ring0);
    expect("retf.ring3_to_ring0", &r,
           "#GP(0008) eip=at cs=001b ss=0023 esp=top-8 h=0008:0010 stack=tss back=3");

    /* Far JMP/CALL from ring 3. */
    RUN3(r, j_kcode);
    expect("jmp.kcode", &r, R3("#GP(0008)"));
    RUN3(r, c_kcode);
    expect("call.kcode", &r, R3("#GP(0008)"));
    RUN3(r, j_data);
    expect("jmp.data", &r, R3("#GP(0020)"));
    RUN3(r, j_ucode_rpl0);
    expect("jmp.ucode_rpl0", &r, NONE3);
    check("jmp.ucode_rpl0.cs", r.exit.cs, UCODE | 3);
    RUN3(r, j_kconf);
    expect("jmp.conforming", &r, NONE3);
    check("jmp.conforming.cs", r.exit.cs, KCONF | 3);
    RUN3(r, j_kconf_hlt);
    expect("jmp.conforming.hlt", &r, "#GP(0000) eip=at cs=003b ss=0023 esp=top h=0008:0010 stack=tss back=3");
    RUN3(r, j_gate);
    expect("jmp.call_gate_to_ring0", &r, R3("#GP(0008)"));
    RUN3(r, c_gate_dpl0);
    expect("call.gate_dpl0", &r, R3("#GP(0060)"));

    /* Descriptor queries. */
    for (unsigned k = 0; k < sizeof(query_cases) / sizeof(query_cases[0]); k++) {
        const struct query_case *qc = &query_cases[k];
        char got[96], want[96];
        run_query(&r, qc);
        snprint(got, sizeof(got), "zf=%u", (r.exit.ecx >> 6) & 1);
        snprint(want, sizeof(want), "zf=%u", qc->zf);
        if (qc->mask) {
            unsigned n = 0;
            while (got[n])
                n++;
            snprint(got + n, sizeof(got) - n, " result=%08x", r.exit.eax & qc->mask);
            n = 0;
            while (want[n])
                n++;
            snprint(want + n, sizeof(want) - n, " result=%08x", qc->want & qc->mask);
        }
        if (r.n) /* a query never faults */
            snprint(got, sizeof(got), "unexpected event");
        snprint(name, sizeof(name), "query.%s", qc->name);
        check_str(name, got, want);
    }

    return rt_finish("rings_seg");
}
