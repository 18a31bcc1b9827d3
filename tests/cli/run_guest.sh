#!/usr/bin/env bash
# End-to-end runs of tiny guests built at test time: output, exit status and the one-line
# reports for each way a run can end. These need the cpu core.
#
# usage: run_guest.sh RINGSIDE WORKDIR CASE
set -u
ringside=$1
work=$2/$3
case=$3
. "$(dirname "$0")/lib.sh"
need_binutils
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1

# Polling COM1 output of the NUL-terminated string at ESI, and the debug-exit with AL.
lib='
puts:   movb (%esi), %al
        test %al, %al
        jz 3f
        mov $0x3FD, %dx
2:      inb %dx, %al
        test $0x20, %al
        jz 2b
        mov $0x3F8, %dx
        movb (%esi), %al
        outb %al, %dx
        inc %esi
        jmp puts
3:      ret
newline: mov $nl, %esi
        jmp puts
exit:   mov $0xF4, %dx
        outb %al, %dx
        hlt
nl:     .asciz "\n"
'

ok=1
say() { echo "FAIL ($case): $*"; ok=0; }
run() {
    echo "ringside $*"
    "$ringside" "$@" < /dev/null > stdout.txt 2> stderr.txt
    status=$?
    echo "  exit $status"; sed 's/^/  stderr: /' stderr.txt; sed 's/^/  stdout: /' stdout.txt
    [ "$status" -lt 128 ] || say "crashed: exit status $status"
}
want_status() { [ "$status" -eq "$1" ] || say "exit status $status, want $1"; }
want_stdout() { [ "$(cat stdout.txt; echo x)" = "$1"x ] || say "stdout differs from '$1'"; }
want_stderr_line() {
    [ "$(wc -l < stderr.txt)" -eq 1 ] || say "stderr is not one line"
    grep -qE -- "$1" stderr.txt || say "stderr does not match /$1/"
}

case $case in
hello_exit)
    make_elf hello.elf 0x100000 <<< "mov \$0x90000, %esp; mov \$msg, %esi; call puts
        mov \$0x10, %al; jmp exit
        $lib
        msg: .asciz \"hello, ring 0\\n\""
    run run hello.elf
    want_status 33; want_stdout $'hello, ring 0\n'; [ ! -s stderr.txt ] || say "stderr not empty" ;;
partial_line)
    make_elf part.elf 0x100000 <<< "mov \$0x90000, %esp; mov \$msg, %esi; call puts
        mov \$0, %al; jmp exit
        $lib
        msg: .asciz \"no newline\""
    run run part.elf
    want_status 1; want_stdout 'no newline' ;;
big_budget)
    make_elf quick.elf 0x100000 <<< "mov \$2, %al; jmp exit
        $lib"
    run run quick.elf --max-insns 10000000000
    want_status 5 ;;
halt)
    make_elf halt.elf 0x100000 <<< "cli; hlt"
    run run halt.elf
    want_status 0
    want_stderr_line \
        '^ringside: cpu halted with interrupts disabled at [0-9a-f]{4}:0010000[0-9a-f]$' ;;
limit)
    make_elf loop.elf 0x100000 <<< "1: jmp 1b"
    run run loop.elf --max-insns 1000
    want_status 124
    want_stderr_line '^ringside: instruction limit 1000 reached at [0-9a-f]{4}:00100000$' ;;
triple_fault)
    make_elf tf.elf 0x100000 <<< "lidt idtr; ud2
        .align 4
        idtr: .word 0; .long 0"
    run run tf.elf
    want_status 4
    # ud2 with an empty IDT: #UD cannot be delivered (#GP), nor can that #GP, nor the #DF.
    want_stderr_line \
        '^ringside: triple fault at [0-9a-f]{4}:00100007: #.* -> #.* -> #.*, machine shut down( \(.*\))?$' ;;
triple_fault_pf)
    # Paging with only the first 4 MiB mapped (one 4 MiB page) and ESP at 8 MiB: a read of
    # 0x400000 raises #PF, delivering it pushes into the unmapped stack (#PF again: #DF), and
    # so does delivering the #DF. The report decodes each #PF and shows the CR2 it set.
    make_elf tfpf.elf 0x100000 <<< "lgdt gdtr; ljmp \$0x08, \$1f
        1: mov \$0x10, %ax; mov %ax, %ds; mov %ax, %es; mov %ax, %ss
        mov \$0x800000, %esp
        movl \$0x00000083, 0x10000           # PDE 0: 4 MiB page at 0, present, writable
        mov \$gate, %eax; mov (%eax), %ecx; mov 4(%eax), %edx
        mov %ecx, idt+8*8; mov %edx, idt+8*8+4       # #DF and #PF gates, both present
        mov %ecx, idt+14*8; mov %edx, idt+14*8+4
        lidt idtr
        mov \$0x10, %eax; mov %eax, %cr4       # CR4.PSE
        mov \$0x10000, %eax; mov %eax, %cr3
        mov %cr0, %eax; or \$0x80000000, %eax; mov %eax, %cr0
        mov 0x400000, %eax
        handler: hlt
        .align 8
        gdt: .quad 0, 0x00CF9A000000FFFF, 0x00CF92000000FFFF
        gdtr: .word 23; .long gdt
        gate: .word handler - _start + 0x0000, 0x08, 0x8E00, 0x0010
        idtr: .word 256*8-1; .long idt
        .align 8
        idt: .fill 256*8, 1, 0"
    run run tfpf.elf --log int --log-file int.log
    want_status 4
    grep -qE 'shutdown \(triple fault\) v=0e e=0002 cpl=0 IP=0008:[0-9a-f]{8} <_start\+0x[0-9a-f]+> CR2=007ffffc \| triple fault: #PF\(0x0000\): supervisor read of 0x00400000: .* -> #PF\(0x0002\): supervisor write of 0x007ffffc: .* -> #PF\(0x0002\): supervisor write of 0x007ffffc: PDE\[1\] P=0 — page table not present$' int.log \
        || say "no shutdown line with CR2 in the --log int output"
    pf="#PF\\(0x0002\\)"
    want_stderr_line "^ringside: triple fault at 0008:[0-9a-f]{8}: #PF\\(0x0000\\) -> $pf -> $pf, machine shut down \\(#PF\\(0x0000\\): supervisor read of 0x00400000: PDE\\[1\\] P=0 — page table not present; $pf: supervisor write of 0x007ffffc: PDE\\[1\\] P=0 — page table not present; $pf: supervisor write of 0x007ffffc: PDE\\[1\\] P=0 — page table not present\\)$" ;;
v8086_iret)
    # IRET at CPL 0 to a frame whose EFLAGS has VM = 1: a return to virtual-8086 mode.
    make_elf v86.elf 0x100000 <<< "mov \$0x90000, %esp
        push \$0; push \$0; push \$0; push \$0      # GS FS DS ES
        push \$0x4000; push \$0xFFFE               # SS ESP
        push \$0x20002; push \$0x4200; push \$0x10  # EFLAGS (VM) CS EIP
        v86_iret: iret"
    run run v86.elf
    want_status 6
    at=$(nm v86.elf | awk '$3 == "v86_iret" { print $1 }')
    want_stderr_line '^ringside: virtual-8086 mode is not supported: IRET at 0008:'$at' to 4200:00000010 \(EFLAGS\.VM=1 in the popped frame at CPL 0\); machine stopped$' ;;
v8086_task)
    # A far JMP to a TSS whose EFLAGS has VM = 1: the new task would run in virtual-8086 mode.
    make_elf v86task.elf 0x100000 <<< "lgdt gdtr
        mov \$0x18, %ax; ltr %ax
        v86_jmp: ljmp \$0x20, \$0
        .align 8
        gdt: .quad 0, 0x00CF9A000000FFFF, 0x00CF92000000FFFF
        .word 0x67, tss1 - _start, 0x8910, 0         # 0x18: the running task's TSS
        .word 0x67, tss2 - _start, 0x8910, 0         # 0x20: the v8086 task's TSS
        gdtr: .word 39; .long gdt
        .align 8
        tss1: .fill 0x68, 1, 0
        tss2: .long 0, 0, 0, 0, 0, 0, 0, 0           # link, ESP0..SS2, CR3
        .long 0x1234, 0x20002                        # EIP, EFLAGS (VM)
        .long 0, 0, 0, 0, 0xFFFE, 0, 0, 0            # EAX..EDI
        .long 0x4000, 0x5000, 0x4000, 0x4000, 0, 0   # ES CS SS DS FS GS
        .long 0, 0"
    run run v86task.elf
    want_status 6
    at=$(nm v86task.elf | awk '$3 == "v86_jmp" { print $1 }')
    want_stderr_line '^ringside: virtual-8086 mode is not supported: task switch \(far JMP\) at 0008:'$at' to 5000:00001234 \(EFLAGS\.VM=1 in the new TSS\); machine stopped$' ;;
stats)
    make_elf loop.elf 0x100000 <<< "1: jmp 1b"
    run run loop.elf --max-insns 100000 --stats
    want_status 124
    grep -qE '^ringside: 100000 instructions in [0-9]+\.[0-9]{3} s \([0-9]+\.[0-9] MIPS\)$' \
        stderr.txt || say "no --stats line" ;;
multiboot)
    # The QEMU-style command line "IMAGE APPEND", the module string "FILE ARGS" and the
    # module's contents.
    make_elf mb.elf 0x100000 mb <<< "mov \$0x90000, %esp; mov %ebx, %edi
        cmp \$0x2BADB002, %eax; jne bad
        mov 16(%edi), %esi; call puts; call newline
        mov 24(%edi), %ebx
        mov 8(%ebx), %esi; call puts; call newline
        mov (%ebx), %esi; call puts
        mov \$0x10, %al; jmp exit
        bad: mov \$0x7F, %al; jmp exit
        $lib"
    printf 'MODULE DATA\n\0' > mod.bin
    run run mb.elf --append "console=ttyS0 quiet" --module "mod.bin one two"
    want_status 33
    want_stdout $'mb.elf console=ttyS0 quiet\nmod.bin one two\nMODULE DATA\n' ;;
log)
    make_elf hello.elf 0x100000 <<< "mov \$0x90000, %esp; mov \$msg, %esi; call puts
        mov \$0x10, %al; jmp exit
        $lib
        msg: .asciz \"hi\\n\""
    run run hello.elf --log insn,regs --log-file insn.log
    want_status 33; want_stdout $'hi\n'
    grep -qE '^0 [0-9a-f]{4}:00100000 bc 00 00 09 00 +mov esp, 0x90000$' insn.log \
        || say "no first line"
    grep -qE '^    EAX=00000000 .* EFL=[0-9a-f]{8} \[' insn.log || say "no register line"
    grep -q ' out dx, al$' insn.log || say "no out instruction" ;;
*)
    echo "unknown case $case"; exit 1 ;;
esac
[ "$ok" -eq 1 ] || exit 1
echo "PASS ($case)"
