/* Guest rings_io: the I/O permission bitmap and IOPL (SDM vol. 1 19.5).
 *
 * With CPL > IOPL, IN/OUT/INS/OUTS consult the TSS's I/O permission bitmap: every bit for the
 * ports the access touches must be clear, else #GP(0). The bitmap here allows only the UART
 * (0x3F8..0x3FF), so ring 3 can write the console itself (the lines "ring 3: ..." below are
 * written by ring 3). A word or dword access that spans an allowed and a denied port faults. The
 * cpu reads two bitmap bytes for each check; both must lie within the TSS limit (19.5.2: the
 * bitmap ends with a byte of 0xFF). With IOPL = 3 ring 3 needs no bitmap and may use CLI/STI;
 * at IOPL 1 it still may not.
 */
#include <stddef.h>

#include "rings.h"

#define R3(ev) ev " eip=at cs=001b ss=0023 esp=top h=0008:0010 stack=tss back=3"
#define GP0 R3("#GP(0000)")
#define NONE3 "none back=3"

/* Prints the NUL-terminated string at ESI through the UART, polling LSR (ring 3). */
PROBE(io_print, "",
      "1: movw $0x3fd, %dx\n"
      "3: inb %dx, %al\n"
      "   testb $0x20, %al\n"
      "   jz 3b\n"
      "   movb (%esi), %al\n"
      "   testb %al, %al\n"
      "   jz 2f\n"
      "   movw $0x3f8, %dx\n"
      "   outb %al, %dx\n"
      "   incl %esi\n"
      "   jmp 1b\n"
      "2:");
PROBE(io_rep_outsb, "", "rep outsb");
PROBE(io_inb, "", "inb %dx, %al");
PROBE(io_inw, "", "inw %dx, %ax");
PROBE(io_inl, "", "inl %dx, %eax");
PROBE(io_outw, "", "outw %ax, %dx");
PROBE(io_insb, "", "insb");
PROBE(io_in80, "", "inb $0x80, %al");
PROBE(io_cli, "", "cli");
PROBE(io_sti_cli, "", "sti; cli");
PROBE(io_popf_if, "pushl $0x0202; popf", "pushf; popl %eax; pushl $0x0002; popf");

static const char msg_poll[] = "ring 3: this line went out through port 3f8, byte by byte\n";
static const char msg_outs[] = "ring 3: and this one with rep outsb\n";
static uint8_t scratch[16];

/* Reloads TR with the TSS descriptor given a new limit (clearing the busy bit first). */
static void tss_limit(uint32_t limit)
{
    gdt[TSSSEL / 8] = seg_desc((uint32_t)&tss, limit, 0x89, 0x0);
    __asm__ volatile("ltr %w0" : : "r"(TSSSEL));
}

int kmain(const struct multiboot_info *mbi)
{
    (void)mbi;
    rings_init();
    rt_printf("rings_io: the I/O permission bitmap and IOPL\n");
    io_allow(0x3F8, 8, true);
    struct result r;

    /* Allowed ports: ring 3 writes the console itself. */
    RUN3(r, io_print, .esi = (uint32_t)msg_poll);
    expect("io.uart_polled_from_ring3", &r, NONE3);
    RUN3(r, io_rep_outsb, .esi = (uint32_t)msg_outs, .edx = 0x3F8, .ecx = sizeof(msg_outs) - 1);
    expect("io.uart_rep_outsb_from_ring3", &r, NONE3);
    check("io.uart_rep_outsb_from_ring3.ecx", r.exit.ecx, 0);
    RUN3(r, io_inb, .edx = 0x3FD);
    expect("io.inb_3fd", &r, NONE3);
    check("io.inb_3fd.thr_empty", r.exit.eax & 0x20, 0x20);
    RUN3(r, io_inw, .edx = 0x3FE);
    expect("io.inw_3fe_both_allowed", &r, NONE3);
    RUN3(r, io_inl, .edx = 0x3FC);
    expect("io.inl_3fc_all_allowed", &r, NONE3);

    /* Denied ports, and accesses that span allowed and denied ports. */
    RUN3(r, io_inb, .edx = 0x3F7);
    expect("io.inb_3f7_denied", &r, GP0);
    RUN3(r, io_inw, .edx = 0x3F7);
    expect("io.inw_3f7_spans_denied_allowed", &r, GP0);
    RUN3(r, io_outw, .edx = 0x3FF);
    expect("io.outw_3ff_spans_allowed_denied", &r, GP0);
    RUN3(r, io_inl, .edx = 0x3FD);
    expect("io.inl_3fd_spans_allowed_denied", &r, GP0);
    RUN3(r, io_insb, .edx = 0x80, .edi = (uint32_t)scratch);
    expect("io.insb_80_denied", &r, GP0);
    RUN3(r, io_in80);
    expect("io.in_imm_80_denied", &r, GP0);

    /* The last port: its bitmap byte is the last one, the cpu reads the 0xFF byte after it. */
    io_allow(0xFFFF, 1, true);
    RUN3(r, io_inb, .edx = 0xFFFF);
    expect("io.port_ffff_allowed", &r, NONE3);
    tss_limit(offsetof(struct tss, iobitmap_end) - 1); /* the 0xFF byte outside the limit */
    RUN3(r, io_inb, .edx = 0xFFFF);
    expect("io.port_ffff_second_byte_beyond_limit", &r, GP0);
    RUN3(r, io_inb, .edx = 0x3FD);
    expect("io.inb_3fd_with_short_tss", &r, NONE3);
    tss_limit(sizeof(tss) - 1);
    io_allow(0xFFFF, 1, false);
    /* An I/O map base beyond the TSS limit: no bitmap, every port denied. */
    tss.iomap = sizeof(tss);
    RUN3(r, io_inb, .edx = 0x3FD);
    expect("io.map_base_beyond_limit", &r, GP0);
    tss.iomap = (uint16_t)offsetof(struct tss, iobitmap);

    /* IOPL 3: no bitmap check, CLI/STI allowed; POPF may change IF (not IOPL). */
    RUN3(r, io_in80, .eflags = 0x3000);
    expect("io.iopl3.in_imm_80", &r, NONE3);
    RUN3(r, io_insb, .eflags = 0x3000, .edx = 0x80, .edi = (uint32_t)scratch);
    expect("io.iopl3.insb_80", &r, NONE3);
    RUN3(r, io_cli, .eflags = 0x3000);
    expect("io.iopl3.cli", &r, NONE3);
    RUN3(r, io_sti_cli, .eflags = 0x3000);
    expect("io.iopl3.sti_cli", &r, NONE3);
    RUN3(r, io_popf_if, .eflags = 0x3000);
    expect("io.iopl3.popf", &r, NONE3);
    check("io.iopl3.popf_if_set", r.exit.eax & 0x3200, 0x3200);
    check("io.iopl3.popf_if_clear_iopl_kept", r.exit.eflags & 0x3200, 0x3000);
    /* IOPL 1 < CPL 3: CLI faults, I/O goes by the bitmap. */
    RUN3(r, io_cli, .eflags = 0x1000);
    expect("io.iopl1.cli", &r, GP0);
    RUN3(r, io_in80, .eflags = 0x1000);
    expect("io.iopl1.in_imm_80", &r, GP0);
    RUN3(r, io_inb, .eflags = 0x1000, .edx = 0x3FD);
    expect("io.iopl1.inb_3fd", &r, NONE3);

    return rt_finish("rings_io");
}
