#!/bin/bash
# guests/template copied out of the tree: `make` builds it with nothing but its own Makefile,
# `make run` passes on Ringside, `make qemu` too when qemu-system-i386 is installed, and the
# README's gdb walkthrough gives what the README says.
# usage: template.sh RINGSIDE TEMPLATE_DIR WORKDIR
set -u
RINGSIDE=$1 TEMPLATE=$2 WORK=$3
fail() { echo "FAIL: $*"; exit 1; }
expect() { grep -Eq -- "$2" "$1" || { cat "$1"; fail "${3:-$2} not in $1"; }; }
rm -rf "$WORK" && mkdir -p "$WORK" && cp -r "$TEMPLATE" "$WORK/kernel" && cd "$WORK/kernel" || exit 1
make > make.log 2>&1 || { cat make.log; fail "make"; }
make -s run RINGSIDE="$RINGSIDE" > run.log 2>&1 || { cat run.log; fail "make run"; }
expect run.log '^hello from ring 3$' "the ring 3 program's output"
expect run.log '^kernel: user exited, 2 system calls$' "the kernel's last line"
echo "ok: make run"
if command -v qemu-system-i386 > /dev/null; then
    timeout 60 make -s qemu > qemu.log 2>&1 || { cat qemu.log; fail "make qemu"; }
    diff qemu.log run.log || fail "QEMU's output differs"
    echo "ok: make qemu, the same output"
else
    echo "note: qemu-system-i386 not installed; the QEMU run was not tried"
fi

# The walkthrough (a free port instead of 1234).
rm -f stub.out stub.err # not a listening line of an earlier run in this directory
timeout 100 "$RINGSIDE" run kernel.elf --gdb 127.0.0.1:0 -S > stub.out 2> stub.err &
pid=$!
trap 'kill $pid 2>/dev/null' EXIT
for _ in $(seq 100); do
    port=$(sed -n 's/^ringside: gdb: listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' stub.err 2>/dev/null)
    [ -n "$port" ] && break
    sleep 0.1
done
[ -n "$port" ] || fail "no listening line"
cat > cmds <<'G'
break kmain
continue
p $cpl
monitor break mode
continue
p $cpl
x/i $pc
continue
monitor info idt
monitor info tss
reverse-stepi
p $cpl
x/i $pc
monitor break off
watch syscalls
continue
kill
G
timeout 100 gdb -batch -nx -ex 'set pagination off' -ex 'set confirm off' kernel.elf \
    -ex "target remote 127.0.0.1:$port" -x cmds > gdb.log 2>&1
cat gdb.log
expect gdb.log '^Breakpoint 1, kmain \(\) at kernel.c:' "the breakpoint at kmain"
expect gdb.log '^\$1 = 0$' "CPL 0 in kmain"
expect gdb.log 'iret cpl=0 IP=0008:[0-9a-f]+ .*-> cpl=3 IP=001b:' "the IRET into ring 3"
expect gdb.log '^\$2 = 3$' "CPL 3 after it"
expect gdb.log '<user_main>' "user_main's first instruction"
expect gdb.log 'v=80 e=0000 i=1 cpl=3 IP=001b:[0-9a-f]+ .*-> cpl=0 IP=0008:' "the int \$0x80"
expect gdb.log '^  0x80: a 32-bit interrupt gate to 0008:[0-9a-f]{8}, DPL 3$' "gate 0x80, DPL 3"
expect gdb.log '^  0x0d: a 32-bit interrupt gate to 0008:[0-9a-f]{8}, DPL 0$' "gate 0x0d, DPL 0"
expect gdb.log '^  ring 0 stack SS:ESP 0010:' "the TSS's ring 0 stack"
expect gdb.log '^\$3 = 3$' "CPL 3 after reverse-stepi"
expect gdb.log 'int +\$0x80' "the int \$0x80 after reverse-stepi"
expect gdb.log '^Hardware watchpoint 2: syscalls' "the watchpoint"
expect gdb.log '^New value = 1$' "the counter's new value"
wait $pid; st=$?
[ "$st" = 3 ] || fail "ringside ended with $st after kill"
echo "PASS: template"
