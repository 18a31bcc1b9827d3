/* Guest rings_df: #DF from a broken TSS stack (SDM vol. 3 6.15 "Interrupt 8", table 6-5).
 *
 * An event in ring 3 whose handler is in ring 0 needs the TSS's SS0:ESP0. When SS0 is unusable
 * (null, wrong RPL/DPL, not present) the delivery raises #TS or #SS with the SS0 selector; that
 * exception needs the same stack, so its delivery fails the same way. The first fault (#GP from
 * HLT, or the #SS/#TS of a software INT's delivery) and the second are both contributory, so the
 * cpu raises #DF with error code 0.
 *
 * For the #DF handler to run, its own delivery must not need SS0 either. Its gate points at a
 * conforming code segment (KCONF, DPL 0): a conforming handler runs at the current CPL (3), so
 * there is no stack switch and the frame (EFLAGS, CS, EIP, error code; no SS:ESP) goes on the
 * ring 3 stack. The handler (conf_df in entry.S) records what it sees, repairs SS0:ESP0 and
 * leaves with int $0x80, which switches stacks through the repaired TSS. (The EIP that #DF
 * pushes is undefined, 6.15, so it is not checked.)
 *
 * Each check is one line: "#DF(error) cs=<pushed CS> h=<handler CS>:<SS> stack=<frame>
 * exit=<CS at the int $0x80 that ended the probe>".
 */
#include "rings.h"

PROBE(d_hlt, "", "hlt");
PROBE(d_int, "", "int $0x84");
PROBE(d_ud2, "", "ud2");

#define DF "#DF(0000) cs=001b h=003b:0023 stack=top-16 exit=003b"

int kmain(const struct multiboot_info *mbi)
{
    (void)mbi;
    rings_init();
    rt_printf("rings_df: #DF from a broken TSS stack, handled by a conforming #DF handler\n");
    struct result r;
    char got[160];
    set_idt_gate(8, KCONF, conf_df, 0xE, 0, true);

    /* HLT -> #GP(0); delivering it needs SS0 -> #TS/#SS -> contributory twice -> #DF. */
    RUNCONF3(r, 0, TRAP_TOP, got, d_hlt);
    check_str("df.hlt.ss0_null", got, DF);
    RUNCONF3(r, UDATA | 3, TRAP_TOP, got, d_hlt);
    check_str("df.hlt.ss0_rpl3", got, DF);
    RUNCONF3(r, UDATA, TRAP_TOP, got, d_hlt);
    check_str("df.hlt.ss0_dpl3", got, DF);
    RUNCONF3(r, KCODE, TRAP_TOP, got, d_hlt);
    check_str("df.hlt.ss0_code", got, DF);
    RUNCONF3(r, URO, TRAP_TOP, got, d_hlt);
    check_str("df.hlt.ss0_read_only", got, DF);
    RUNCONF3(r, 0x403, TRAP_TOP, got, d_hlt);
    check_str("df.hlt.ss0_beyond_gdt", got, DF);
    RUNCONF3(r, KNP, TRAP_TOP, got, d_hlt);
    check_str("df.hlt.ss0_not_present", got, DF);
    /* INT 84 (software): #TS/#SS while delivering it, again while delivering that -> #DF. */
    RUNCONF3(r, 0, TRAP_TOP, got, d_int);
    check_str("df.int84.ss0_null", got, DF);
    RUNCONF3(r, KNP, TRAP_TOP, got, d_int);
    check_str("df.int84.ss0_not_present", got, DF);
    /* #UD (benign) then #TS: handled one after the other, so still a #DF via the second #TS. */
    RUNCONF3(r, UDATA | 3, TRAP_TOP, got, d_ud2);
    check_str("df.ud2.ss0_rpl3", got, DF);

    /* The first fault itself, seen by a conforming #TS handler: after INT 84 (software, so EXT
     * = 0) with a bad SS0 the #TS carries the SS0 selector (vol. 2 INT n: null SS0 -> #TS(EXT);
     * RPL or DPL != new CPL, not writable data, beyond the table -> #TS(SS0 + EXT)). The EXT = 1
     * cases, and #SS for a not-present SS0, are in rings_sdm (QEMU differs there). */
    set_idt_gate(10, KCONF, conf_ts, 0xE, 0, true);
    RUNCONF3(r, 0, TRAP_TOP, got, d_int);
    check_str("ts.int84.ss0_null", got, "#TS(0000) cs=001b h=003b:0023 stack=top-16 exit=003b");
    RUNCONF3(r, UDATA | 3, TRAP_TOP, got, d_int);
    check_str("ts.int84.ss0_rpl3", got, "#TS(0020) cs=001b h=003b:0023 stack=top-16 exit=003b");
    RUNCONF3(r, UDATA, TRAP_TOP, got, d_int);
    check_str("ts.int84.ss0_dpl3", got, "#TS(0020) cs=001b h=003b:0023 stack=top-16 exit=003b");
    RUNCONF3(r, KCODE, TRAP_TOP, got, d_int);
    check_str("ts.int84.ss0_code", got, "#TS(0008) cs=001b h=003b:0023 stack=top-16 exit=003b");
    RUNCONF3(r, URO, TRAP_TOP, got, d_int);
    check_str("ts.int84.ss0_read_only", got, "#TS(0068) cs=001b h=003b:0023 stack=top-16 exit=003b");
    RUNCONF3(r, 0x403, TRAP_TOP, got, d_int);
    check_str("ts.int84.ss0_beyond_gdt", got, "#TS(0400) cs=001b h=003b:0023 stack=top-16 exit=003b");
    set_idt_default(10);

    /* With the TSS repaired the ordinary path works again. */
    set_idt_default(8);
    RUN3(r, d_hlt);
    expect("df.after.hlt", &r,
           "#GP(0000) eip=at cs=001b ss=0023 esp=top h=0008:0010 stack=tss back=3");
    return rt_finish("rings_df");
}
