/* Guest rings_triple: a triple fault (SDM vol. 3 6.15, "Interrupt 8", and table 6-5).
 *
 * Ring 3 executes INT 81, whose gate has DPL 0: #GP(0x40a). The #GP gate is not present:
 * delivering #GP raises #NP(13*8+2+1 = 0x6b), contributory after contributory, so #DF. The #DF
 * gate is not present either: #NP(8*8+2+1 = 0x43) while delivering #DF, and the cpu shuts down.
 * Ringside stops with exit status 4 and reports the three events on stderr
 *   "triple fault at 001b:...: #GP(0x040a) -> #NP(0x006b) -> #NP(0x0043), machine shut down";
 * QEMU (-no-reboot) stops too, with status 0. The lines before are the test's stdout.
 */
#include "rings.h"

PROBE(t_int, "", "int $0x81");

int kmain(const struct multiboot_info *mbi)
{
    (void)mbi;
    rings_init();
    rt_printf("rings_triple: #GP -> #NP (gate not present) -> #DF -> #NP (gate not present)\n");
    struct result r;
    RUN3(r, t_int);
    expect("triple.before.int81", &r,
           "#GP(040a) eip=at cs=001b ss=0023 esp=top h=0008:0010 stack=tss back=3");
    set_idt_gate(13, KCODE, isr_table[13], 0xE, 0, false);
    set_idt_gate(8, KCODE, isr_table[8], 0xE, 0, false);
    rt_printf("triple: the next INT 81 from ring 3 cannot be delivered; the machine shuts down\n");
    RUN3(r, t_int);
    rt_printf("triple: still running (no shutdown)\n");
    return 0x7c;
}
