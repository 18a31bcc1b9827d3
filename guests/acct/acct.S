/* Guest, pure GNU as: a run whose instruction counts per ring and per address space are known
 * exactly, for `ringside run acct.elf --stats` (test guest.acct.stats, acct/check-stats.sh).
 *
 * It switches CPL by INT n, IRET, SYSENTER and SYSEXIT and CR3 between two page directories
 * (pd_a and pd_b, the same identity map of the first 4 MiB as one user-accessible 4 MiB page) at
 * known points, runs straight-line code only (no loop, no REP, no interrupt: IF stays 0) and
 * prints "acct" with five unpolled OUTs to the UART (0x3F8), then writes 0 to the exit port.
 *
 * The counting rules (src/cpu/cpu.h, account.c): every retired instruction counts once, for
 * the CPL and the address space it ran in; paging off is the address space "cr3=00000000"; an
 * instruction that changes CPL or CR3 (INT, IRET, SYSENTER, SYSEXIT, MOV CR3, and the MOV CR0
 * that turns paging on) counts for the ring and address space it changes to. No instruction
 * here faults. Each step below lists its instructions in order; NOPs come in .rept blocks.
 *
 *   where                 instructions                                   ring 0 / space   count
 *   _start (paging off)   TSS base into its descriptor (5); lgdt, lidt,
 *                         mov eax, mov ds, mov es, mov ss, mov esp, ljmp
 *                         (8); TSS ESP0/SS0 (2); mov ax, ltr (2); two IDT
 *                         gates (2 x 6); the SYSENTER MSRs (xor edx, then
 *                         3 x (mov ecx, mov eax, wrmsr): 10); CR4.PSE
 *                         (3); mov eax, mov cr3 (2: paging is off, so
 *                         still space 0); mov eax,cr0, or (2)            K0              46
 *   mov cr0, eax          paging on: counts in space A                   KA               1
 *   kernel A              1000 nop, 5 push                               KA            1005
 *   iret                  to CPL 3                                       UA               1
 *   user A                mov eax + mov ds + mov es, 2000 nop            UA            2003
 *   int $0x80             to CPL 0                                       KA               1
 *   int80                 mov eax, $pd_b                                 KA               1
 *   mov cr3, eax          to space B                                     KB               1
 *   int80 (cont.)         3000 nop                                       KB            3000
 *   iret                  to CPL 3, after the int                        UB               1
 *   user B                4000 nop                                       UB            4000
 *   sysenter              to CPL 0                                       KB               1
 *   sysenter_entry        500 nop, mov eax, $pd_a                        KB             501
 *   mov cr3, eax          to space A                                     KA               1
 *   (cont.)               600 nop, mov edx, mov ecx                      KA             602
 *   sysexit               to CPL 3                                       UA               1
 *   user A again          700 nop                                        UA             700
 *   int $0x81             to CPL 0                                       KA               1
 *   int81                 mov dx, 5 x (mov al, out), mov al, mov dx,
 *                         out (the exit)                                 KA              14
 *
 *   space 0 (cr3=00000000): kernel 46, user 0
 *   space A (pd_a):         kernel 1 + 1005 + 1 + 1 + 1 + 602 + 1 + 14 = 1626,
 *                           user 1 + 2003 + 1 + 700 = 2705
 *   space B (pd_b):         kernel 1 + 3000 + 1 + 501 = 3503, user 1 + 4000 = 4001
 *   ring 0: 46 + 1626 + 3503 = 5175; ring 3: 2705 + 4001 = 6706; in all 11881
 *   transitions: int 2, iret 2, sysenter 1, sysexit 1
 *
 * It also runs under QEMU (which prints nothing about counts): the output is "acct".
 */

#define MB_MAGIC 0x1BADB002
#define MB_FLAGS 0x00000003
#define UART_THR 0x3F8
#define EXIT_PORT 0xF4

#define SEL_KCODE 0x08
#define SEL_KDATA 0x10
#define SEL_UCODE 0x1B
#define SEL_UDATA 0x23
#define SEL_TSS 0x28

/* An interrupt gate, DPL 3, to SEL_KCODE:handler, written at run time (the linker cannot split
 * a symbol's address into the gate's two halves): 6 instructions. */
.macro GATE vec, handler
        movl $\handler, %eax
        movw %ax, idt + \vec * 8
        movw $SEL_KCODE, idt + \vec * 8 + 2
        movw $0xEE00, idt + \vec * 8 + 4
        shrl $16, %eax
        movw %ax, idt + \vec * 8 + 6
.endm

        .section .multiboot, "a"
        .align 4
        .long MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

        .data
        .align 4096
pd_a:   .long 0x00000087                /* 4 MiB page at 0: P | W | U | PS */
        .fill 1023, 4, 0
pd_b:   .long 0x00000087
        .fill 1023, 4, 0

        .align 8
gdt:    .quad 0
        .quad 0x00CF9A000000FFFF        /* 0x08 ring 0 code */
        .quad 0x00CF92000000FFFF        /* 0x10 ring 0 data */
        .quad 0x00CFFA000000FFFF        /* 0x18 ring 3 code */
        .quad 0x00CFF2000000FFFF        /* 0x20 ring 3 data */
        .quad 0x0000890000000067        /* 0x28 32-bit TSS, limit 0x67; base filled in */
gdt_end:
gdt_desc:
        .word gdt_end - gdt - 1
        .long gdt
idt_desc:
        .word 0x82 * 8 - 1
        .long idt

        .bss
        .align 16
idt:    .skip 0x82 * 8
tss:    .skip 0x68
        .align 16
        .skip 4096
kstack_top:
        .skip 4096
sysenter_stack_top:
        .skip 4096
ustack_top:

        .text
        .globl _start
_start:
        /* ---- space 0 (paging off), ring 0: 46 instructions ---- */
        movl $tss, %eax                 /* the TSS base into its descriptor: 5 */
        movw %ax, gdt + SEL_TSS + 2
        shrl $16, %eax
        movb %al, gdt + SEL_TSS + 4
        movb %ah, gdt + SEL_TSS + 7
        lgdt gdt_desc                   /* segments: 8 */
        lidt idt_desc
        movl $SEL_KDATA, %eax
        movl %eax, %ds
        movl %eax, %es
        movl %eax, %ss
        movl $kstack_top, %esp
        ljmp $SEL_KCODE, $1f
1:      movl $kstack_top, tss + 4       /* ESP0, SS0: 2 */
        movl $SEL_KDATA, tss + 8
        movw $SEL_TSS, %ax              /* 2 */
        ltr %ax
        GATE 0x80, int80                /* 6 */
        GATE 0x81, int81                /* 6 */
        xorl %edx, %edx                 /* SYSENTER_CS/ESP/EIP: 10 */
        movl $0x174, %ecx
        movl $SEL_KCODE, %eax
        wrmsr
        movl $0x175, %ecx
        movl $sysenter_stack_top, %eax
        wrmsr
        movl $0x176, %ecx
        movl $sysenter_entry, %eax
        wrmsr
        movl %cr4, %eax                 /* CR4.PSE: 3 */
        orl $0x10, %eax
        movl %eax, %cr4
        movl $pd_a, %eax                /* 2 (paging is off: still space 0) */
        movl %eax, %cr3
        movl %cr0, %eax                 /* 2 */
        orl $0x80000000, %eax
        /* ---- space A, ring 0 ---- */
        movl %eax, %cr0                 /* paging on: 1, in space A */
        .rept 1000
        nop
        .endr
        pushl $SEL_UDATA                /* 5 */
        pushl $ustack_top
        pushl $0x2                      /* EFLAGS: IF = 0, IOPL 0 */
        pushl $SEL_UCODE
        pushl $user_a
        iret                            /* ring 3: 1, user A */

user_a:
        /* ---- space A, ring 3 ---- */
        movl $SEL_UDATA, %eax           /* 3 */
        movl %eax, %ds
        movl %eax, %es
        .rept 2000
        nop
        .endr
        int $0x80                       /* ring 0: 1, kernel A */
        /* ---- space B, ring 3: int80's IRET returns here ---- */
        .rept 4000
        nop
        .endr
        sysenter                        /* ring 0: 1, kernel B */

int80:
        movl $pd_b, %eax                /* 1, kernel A */
        movl %eax, %cr3                 /* space B: 1, kernel B */
        .rept 3000
        nop
        .endr
        iret                            /* ring 3: 1, user B */

sysenter_entry:
        .rept 500
        nop
        .endr
        movl $pd_a, %eax                /* 1, kernel B */
        movl %eax, %cr3                 /* space A: 1, kernel A */
        .rept 600
        nop
        .endr
        movl $user_a2, %edx             /* 2 */
        movl $ustack_top, %ecx
        sysexit                         /* ring 3: 1, user A */

user_a2:
        .rept 700
        nop
        .endr
        int $0x81                       /* ring 0: 1, kernel A */

int81:
        movw $UART_THR, %dx             /* 1 + 10 + 3 = 14 */
        movb $'a', %al
        outb %al, %dx
        movb $'c', %al
        outb %al, %dx
        movb $'c', %al
        outb %al, %dx
        movb $'t', %al
        outb %al, %dx
        movb $'\n', %al
        outb %al, %dx
        movb $0, %al                    /* pass: exit status (0 << 1) | 1 = 1 */
        movw $EXIT_PORT, %dx
        outb %al, %dx
        hlt                             /* not reached */
