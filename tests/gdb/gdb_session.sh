#!/bin/bash
# Drives the real gdb (batch mode) against `ringside demo --gdb 127.0.0.1:0 -S` (a free port,
# read from the stub's "listening on" line) and checks what gdb prints.
# usage: gdb_session.sh RINGSIDE GUEST_DIR WORKDIR CASE
set -u
RINGSIDE=$1 GUESTS=$2 WORK=$3 CASE=$4
KERNEL=$GUESTS/kernel.elf
command -v gdb >/dev/null || { echo "gdb not installed (scripts/setup.sh installs it)"; exit 1; }
mkdir -p "$WORK/$CASE" && cd "$WORK/$CASE" || exit 1
rm -f stub.err stub.out

PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; }
trap cleanup EXIT

# serve ARGS...: starts `ringside ARGS... --gdb 127.0.0.1:0` in the guest directory (stdin
# from $STDIN, else inherited), sets PID and PORT.
serve() {
    # A second stub of a case must not find the first one's "listening" line (its closed port)
    # before its own subshell has truncated stub.err: that happened on a starved host.
    rm -f stub.out stub.err
    (cd "$GUESTS" && exec timeout 100 "$RINGSIDE" "$@" --gdb 127.0.0.1:0) \
        < "${STDIN:-/dev/stdin}" > stub.out 2> stub.err &
    PID=$!
    PORT=
    for _ in $(seq 100); do
        PORT=$(sed -n 's/^ringside: gdb: listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' stub.err \
               2>/dev/null)
        [ -n "$PORT" ] && return 0
        sleep 0.1
    done
    echo "the stub did not say where it listens:"; cat stub.err; exit 1
}

# start_stub [extra options]: starts the demo halted under the stub, sets PORT.
start_stub() { serve demo -S "$@"; }

# The demo kernel's console-input scenario (guests/scenarios/upper.*): upper reads lines.
UPPER_IN=$(dirname "$0")/../../guests/scenarios/upper.in
UPPER_OUT=$(dirname "$0")/../../guests/scenarios/upper.out
UPPER_ARGS=(kernel.elf --append "init=upper" --module user/upper.elf)

# Three lines read (breakpoint at console_take), back to the previous read, detach: the run
# goes on; gdb's going back must not change what the guest received.
cat > input_cmds <<'G'
break console_take
continue
continue
continue
reverse-continue
monitor info history
delete
detach
G

# run_gdb FILE: gdb in batch mode with the commands in FILE; output in FILE.log.
run_gdb() {
    timeout 100 gdb -batch -nx -ex 'set pagination off' -ex 'set confirm off' "$KERNEL" \
        -ex "target remote 127.0.0.1:$PORT" -x "$1" > "$1.log" 2>&1
    echo "--- gdb $1:"; cat "$1.log"
}

fail() { echo "FAIL: $*"; exit 1; }
# expect LOG REGEX [what]
expect() { grep -Eq -- "$2" "$1" || fail "${3:-$2} not in $1"; }
# value LOG REGISTER: the hex value `info registers` printed last for REGISTER
value() { grep -E "^$2 +0x" "$1" | tail -1 | awk '{print $2}'; }

# The stub must end when gdb kills the run: status 3 and the "killed by gdb" line.
wait_killed() {
    wait "$PID"; local st=$?
    PID=
    [ "$st" = 3 ] || fail "ringside exited with $st after kill, not 3"
    expect stub.err '^ringside: killed by gdb at ' "the kill line"
}

case $CASE in
break_symbol)
    # Break at a kernel symbol, continue: stopped there, CS = 0x08, CPL 0.
    start_stub
    cat > cmds <<'G'
break kmain
continue
p/x $cs
p $cpl
p/x $eip
p/x &kmain
kill
G
    run_gdb cmds
    expect cmds.log 'Breakpoint 1, kmain' "the breakpoint hit"
    expect cmds.log '^\$1 = 0x8$' "CS 0x08"
    expect cmds.log '^\$2 = 0$' "CPL 0"
    eip=$(sed -n 's/^\$3 = //p' cmds.log); want=$(sed -n 's/^\$4 = //p' cmds.log)
    [ -n "$eip" ] && [ "$eip" = "$want" ] || fail "EIP $eip is not kmain's address $want"
    wait_killed
    ;;
break_mode)
    # monitor break mode: the first CPL change is the IRET into the first program (ring 3),
    # the second the program's int 0x80 (ring 0, at the system call stub).
    start_stub
    cat > cmds <<'G'
monitor break mode
continue
p $cpl
continue
p $cpl
p/x $cs
x/i $pc
kill
G
    run_gdb cmds
    expect cmds.log 'iret cpl=0 .* -> cpl=3 IP=001b:' "the iret event line"
    expect cmds.log '^\$1 = 3$' "CPL 3 after the iret"
    expect cmds.log 'v=80 e=0000 i=1 cpl=3 .* -> cpl=0 IP=0008:' "the int 0x80 event line"
    expect cmds.log '^\$2 = 0$' "CPL 0 after int 0x80"
    expect cmds.log '^\$3 = 0x8$' "CS 0x08"
    expect cmds.log '<syscall_stub>' "the stop at the int 0x80 handler"
    wait_killed
    ;;
reverse_stepi)
    # Stop at the first system call, step back one instruction: ring 3, on the int $0x80,
    # with the registers a forward run has there (a second session breaks at that address).
    start_stub
    cat > cmds <<'G'
monitor break syscall
continue
reverse-stepi
p $cpl
p/x $cs
x/i $pc
info registers
stepi
p $cpl
reverse-stepi
p $cpl
kill
G
    run_gdb cmds
    wait_killed
    expect cmds.log 'v=80 .*cpl=3 IP=001b:[0-9a-f]+ <[^>]*> SP=0023:[0-9a-f]+ -> cpl=0' "the syscall line"
    # named as --log int names it: the space, the symbols, the system call
    expect cmds.log '^[0-9]+: pid 1 \(hello\) v=80 .*<syscall_int80\+0x[0-9a-f]+>.*<syscall_stub>.* \| int 0x80 syscall [0-9]+ \([a-z]+\)$' \
        "the stop's event line with names"
    expect cmds.log '^\$1 = 3$' "CPL 3 after reverse-stepi"
    expect cmds.log '^\$2 = 0x1b$' "CS 0x1b after reverse-stepi"
    expect cmds.log '=> 0x[0-9a-f]+:[[:space:]]+int +\$0x80' "the int \$0x80 at EIP"
    expect cmds.log '^\$3 = 0$' "CPL 0 after stepping the int again"
    expect cmds.log '^\$4 = 3$' "CPL 3 after the second reverse-stepi"
    ip=$(sed -n 's/.*v=80 .*cpl=3 IP=001b:\([0-9a-f]*\) <[^>]*> SP=0023:\([0-9a-f]*\) .*/\1/p' cmds.log | head -1)
    sp=$(sed -n 's/.*v=80 .*cpl=3 IP=001b:\([0-9a-f]*\) <[^>]*> SP=0023:\([0-9a-f]*\) .*/\2/p' cmds.log | head -1)
    [ "$(value cmds.log eip)" = "0x$((16#$ip))" ] || [ "$(value cmds.log eip)" = "$(printf '0x%x' 0x$ip)" ] ||
        fail "EIP $(value cmds.log eip) is not the event's $ip"
    [ "$(value cmds.log esp)" = "$(printf '0x%x' 0x$sp)" ] || fail "ESP $(value cmds.log esp) is not the event's $sp"
    # The same place reached forward, by a breakpoint at the int (its first execution).
    start_stub
    printf 'break *0x%s\ncontinue\ninfo registers\nkill\n' "$ip" > fwd
    run_gdb fwd
    wait_killed
    expect fwd.log 'Breakpoint 1, 0x0*'"$ip" "the breakpoint at the int"
    for r in eax ecx edx ebx esp ebp esi edi eip eflags cs ss ds es fs gs cr0 cr2 cr3 cr4 cpl; do
        a=$(value cmds.log $r); b=$(value fwd.log $r)
        [ -n "$a" ] && [ "$a" = "$b" ] || fail "$r after reverse-stepi is $a, forward it is $b"
    done
    echo "registers after reverse-stepi equal those of the forward run at the int"
    ;;
watch)
    # A watchpoint on a kernel variable stops right after the instruction that writes it.
    start_stub
    cat > cmds <<'G'
watch n_int80
continue
p n_int80
reverse-stepi
x/i $pc
p n_int80
p/x &n_int80
kill
G
    run_gdb cmds
    wait_killed
    expect cmds.log 'Hardware watchpoint 1: n_int80' "the watchpoint"
    expect cmds.log 'Old value = 0' "the old value"
    expect cmds.log 'New value = 1' "the new value"
    expect cmds.log '^\$1 = 1$' "n_int80 = 1 at the stop"
    addr=$(sed -n 's/^\$3 = \(0x[0-9a-f]*\)$/\1/p' cmds.log)
    [ -n "$addr" ] || fail "no address of n_int80"
    expect cmds.log "=> 0x[0-9a-f]+ <syscall\\+[0-9]+>:.*(inc|add|mov).*$addr" \
        "the instruction before the stop writing n_int80 ($addr)"
    expect cmds.log '^\$2 = 0$' "n_int80 = 0 before that instruction"
    ;;
rwatch_reverse)
    # A read watchpoint stops after the instruction that reads the variable; reverse-continue
    # goes back to the previous breakpoint hit (at the entry of the kernel's system call
    # function), where the kernel had counted one system call less (int 0x80 + sysenter).
    start_stub
    cat > cmds <<'G'
rwatch n_int80
continue
p n_int80
reverse-stepi
x/i $pc
p/x &n_int80
delete
break syscall
continue
continue
continue
p n_int80 + n_sysenter
reverse-continue
p n_int80 + n_sysenter
reverse-continue
p n_int80 + n_sysenter
p $cpl
kill
G
    run_gdb cmds
    wait_killed
    expect cmds.log 'Hardware read watchpoint 1: n_int80' "the read watchpoint"
    expect cmds.log '^Value = 1$' "the value read"
    addr=$(sed -n 's/^\$2 = \(0x[0-9a-f]*\)$/\1/p' cmds.log)
    [ -n "$addr" ] || fail "no address of n_int80"
    expect cmds.log "=> 0x[0-9a-f]+ <syscall\\+[0-9]+>:.*$addr" "the instruction that read n_int80"
    n=$(sed -n 's/^\$3 = //p' cmds.log)
    [ -n "$n" ] && [ "$n" -ge 2 ] || fail "system calls counted after three breaks: '$n'"
    expect cmds.log "^\\\$4 = $((n - 1))$" "one system call less after reverse-continue"
    expect cmds.log "^\\\$5 = $((n - 2))$" "two less after a second reverse-continue"
    expect cmds.log '^\$6 = 0$' "CPL 0 at the breakpoint"
    [ "$(grep -c '^Breakpoint 2, syscall' cmds.log)" = 5 ] || fail "not five stops at syscall"
    ;;
info_idt)
    start_stub
    cat > cmds <<'G'
monitor break syscall
continue
monitor info idt
monitor info gdt
monitor info tss
monitor info mode
monitor info spaces
monitor info pages
monitor info history
monitor help
monitor bogus
kill
G
    run_gdb cmds
    wait_killed
    expect cmds.log '^IDT at 0x[0-9a-f]+, limit 0x07ff \(256 gates\)' "the IDT header"
    expect cmds.log '^  0x80: a 32-bit (interrupt|trap) gate to 0008:[0-9a-f]{8}, DPL 3$' \
        "gate 0x80 with DPL 3 (beyond the first 1000-byte packet of output)"
    expect cmds.log '^  0x0e: a 32-bit interrupt gate to 0008:[0-9a-f]{8}, DPL 0$' \
        "gate 0x0e with DPL 0"
    expect cmds.log '^  \[1\] 0x0008: a readable code segment base 0x00000000 limit 0xffffffff 32-bit, DPL 0$' \
        "the kernel code segment"
    expect cmds.log 'TR 0x[0-9a-f]+: TSS at' "the TSS"
    expect cmds.log '^  ring 0 stack SS:ESP 0010:' "the ring 0 stack"
    expect cmds.log '^CPL 0 \(kernel mode\), CR0 0x[0-9a-f]+ \(PE=1 WP=[01] PG=1\), CR3 0x[0-9a-f]+ \(pid 1 \(hello\)\)' "info mode"
    expect cmds.log '^  CR3 0x[0-9a-f]+ pid 1 \(hello\): [0-9]+ kernel, [1-9][0-9]* user instructions' \
        "the space of pid 1 by name, with user time"
    expect cmds.log '^address spaces by CR3 \(current 0x[0-9a-f]+, pid 1 \(hello\)\):' "the current space's name"
    expect cmds.log '^  icount [0-9]+: CR3 0x[0-9a-f]+ is pid 5 \(nullderef\)$' "the namings in order"
    expect cmds.log '^[0-9a-f]{8}-[0-9a-f]{8} ' "a page range"
    expect cmds.log '^[0-9]+ snapshots, one every' "the history"
    expect cmds.log 'unknown or incomplete monitor command' "the refusal of a bad command"
    ;;
step_detach)
    # stepi moves one instruction; detach lets the demo run to its end (status 1).
    start_stub
    cat > cmds <<'G'
p/x $pc
stepi
p/x $pc
stepi
p/x $pc
detach
G
    run_gdb cmds
    expect cmds.log '^\$1 = 0x10000c$' "the entry point"
    expect cmds.log '^\$2 = 0x10000d$' "one instruction (cld) later"
    wait "$PID"; st=$?; PID=
    [ "$st" = 1 ] || fail "the demo ended with $st after detach, not 1"
    expect stub.out 'user' "the demo's console after detach"
    ;;
bad_packets)
    # Hostile bytes on the socket: a bad checksum is refused with '-', an over-long packet
    # and malformed arguments get errors, an unknown packet the empty reply; the stub stays
    # up (a last '?' is answered), stops on Ctrl-C after a continue, and ends on k.
    start_stub
    exec 3<>"/dev/tcp/127.0.0.1/$PORT" || fail "cannot connect"
    csum() { local s=$1 sum=0 i c; for ((i = 0; i < ${#s}; i++)); do
        printf -v c '%d' "'${s:i:1}"; sum=$(((sum + c) & 255)); done; printf '%02x' "$sum"; }
    pkt() { printf '$%s#%s' "$1" "$(csum "$1")" >&3; }
    # reply WANT: the next packet's data (after the ack) must be WANT
    reply() {
        local r x
        IFS= read -r -t 10 -d '#' -u 3 r || fail "no reply (wanted '$1')"
        IFS= read -r -t 10 -N 2 -u 3 x || fail "no checksum (wanted '$1')"
        r=${r#+}; r=${r#\$}
        [ "$r" = "$1" ] || fail "reply '$r', wanted '$1'"
        [ "$x" = "$(csum "$r")" ] || fail "reply checksum $x for '$r'"
        echo "ok: '$1'"
    }
    printf '$g#00' >&3
    IFS= read -r -t 10 -N 1 -u 3 n || fail "no nack"
    [ "$n" = - ] || fail "bad checksum answered '$n', not '-'"
    echo "ok: nack"
    printf '$%s#00' "$(head -c 100000 /dev/zero | tr '\0' a)" >&3
    reply E01
    pkt qRingsideNoSuchThing; reply ""
    pkt 'm0,zz'; reply E16
    pkt 'mfffffffffff,4'; reply E16
    pkt 'm40000000,4'; reply E14      # beyond RAM: an error, not garbage
    pkt 'M100000,2:zz'; reply E16
    pkt 'M40000000,1:00'; reply E14
    pkt 'p999'; reply E16
    pkt 'Pffffffff=00'; reply E16
    pkt 'Z9,100000,1'; reply ""
    pkt 'Z2,100000,99'; reply E16
    pkt 'qRcmd,zz'; reply E16
    pkt 'G00'; reply E16
    pkt 'qXfer:features:read:target.xml:ffffffff,10'; reply l
    printf 'garbage\x01\x02##$$' >&3
    pkt '?'; reply S02
    pkt 'm10000c,1'; reply fc           # the cld at the entry point
    # Ctrl-C while running: the stop reply S02 (the machine is stopped, not ended)
    pkt c; printf '\x03' >&3; reply S02
    pkt 'p24'; reply 00000000           # still there: CPL readable
    pkt k
    exec 3>&-
    wait_killed
    ;;
attach_running)
    # Without -S the guest runs at once; gdb attaching stops it mid-run (S02), detaching lets
    # it finish as without --gdb. ringbench's compute 6000 (about 2*10^9 instructions, 3 s
    # here) prints the result a run without --gdb prints: a guest of 0.5-0.7 s (bench.elf) had
    # sometimes ended before gdb, started after the listening line, attached on a loaded host.
    (cd "$GUESTS" && exec timeout 100 "$RINGSIDE" run ringbench.elf --append "compute 6000" \
        --gdb 127.0.0.1:0) > stub.out 2> stub.err &
    PID=$!
    for _ in $(seq 100); do
        PORT=$(sed -n 's/^ringside: gdb: listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' stub.err 2>/dev/null)
        [ -n "$PORT" ] && break
        sleep 0.1
    done
    [ -n "$PORT" ] || fail "no listening line"
    sleep 0.2
    cat > cmds <<'G'
monitor info mode
detach
G
    timeout 100 gdb -batch -nx -ex 'set pagination off' "$GUESTS/ringbench.elf" \
        -ex "target remote 127.0.0.1:$PORT" -x cmds > cmds.log 2>&1
    cat cmds.log
    expect cmds.log 'icount [1-9][0-9]*$' "a machine stopped after some instructions"
    expect cmds.log '^\[Inferior 1 \(Remote target\) detached\]' "the detach"
    wait "$PID"; st=$?; PID=
    [ "$st" = 1 ] || fail "ringbench.elf ended with $st after detach, not 1 (its end)"
    expect stub.out '^ringbench: compute 6000 result a919f434$' "the guest's own result"
    ;;
bad_options)
    # Bad --gdb values, -S without a stub, an address that cannot be listened on, a port in
    # use: one line on stderr and status 2, no run.
    bad() {
        local want=$1; shift
        (cd "$GUESTS" && timeout 20 "$RINGSIDE" demo "$@") > out 2> err; st=$?
        [ "$st" = 2 ] || fail "ringside demo $* exited $st, not 2"
        [ "$(wc -l < err)" = 1 ] || { cat err; fail "not one line on stderr for $*"; }
        expect err "$want" "the reason for $*"
        [ -s out ] && fail "the guest ran for $*"
        echo "ok: $* -> $(cat err)"
    }
    bad "PORT 0..65535, not '99999'" --gdb 99999
    bad "not 'x'" --gdb x
    bad "not 'host:'" --gdb host:
    bad 'needs --gdb or -s' -S
    bad '--record cannot be used with --gdb' --record x.rtrace -s
    [ -e "$GUESTS/x.rtrace" ] && fail "a trace was written with --gdb"
    bad 'cannot listen' --gdb 192.0.2.1:1234   # an address this host does not have
    start_stub                                  # holds a port
    bad 'cannot listen: Address already in use' --gdb "127.0.0.1:$PORT"
    ;;
break_io)
    # monitor break io: stops right after the first OUT to COM1 (the kernel's UART set-up),
    # says so; one instruction back is that OUT with DX = 0x3f8; going forward again stops
    # after it again.
    start_stub
    cat > cmds <<'G'
monitor break io 0x3f8
continue
reverse-stepi
x/i $pc
p/x $dx
monitor break
continue
monitor break off
monitor break io 0x10000
kill
G
    run_gdb cmds
    wait_killed
    [ "$(grep -Ec '^[0-9]+: write to port 0x03f8 \(1 byte\) by `out dx, al` at 0008:[0-9a-f]{8}$' cmds.log)" = 2 ] ||
        fail "not two stops after the OUT to port 0x3f8"
    expect cmds.log '=> 0x[0-9a-f]+ <console_init\+[0-9]+>:[[:space:]]+out +%al,\(%dx\)' "the OUT one instruction back"
    expect cmds.log '^\$1 = 0x3f8$' "DX = 0x3f8"
    expect cmds.log 'io 0x03f8$' "the condition listed"
    expect cmds.log 'break io 0\.\.0xffff' "the refusal of port 0x10000"
    ;;
replay|replay_inputs_only)
    # A recorded run with console input (the upper scenario), debugged under gdb: it stops
    # where a live run does, goes back, and after the detach ends as recorded, its console
    # (shown once) the recorded one. The same from a trace of the inputs only.
    here=$PWD
    only=()
    [ "$CASE" = replay_inputs_only ] && only=(--inputs-only)
    (cd "$GUESTS" && timeout 100 "$RINGSIDE" run "${UPPER_ARGS[@]}" --record "$here/up.rtrace" \
        "${only[@]}") < "$UPPER_IN" > rec.out 2> rec.err
    cmp -s rec.out "$UPPER_OUT" || fail "the recorded run's console is not upper.out"
    STDIN=/dev/null serve replay "$here/up.rtrace" -S
    cp input_cmds cmds
    run_gdb cmds
    wait "$PID"; st=$?; PID=
    [ "$st" = 0 ] || { cat stub.err; fail "replay under gdb exited $st, not 0"; }
    [ "$(grep -c '^Breakpoint 1, console_take' cmds.log)" = 4 ] || fail "not four stops at console_take"
    expect cmds.log '^[1-9][0-9]* console input bytes logged' "input bytes logged by the stub"
    expect stub.out '^replay: under gdb: the run ended as recorded, at instruction [0-9]+$' "the end line"
    head -n -1 stub.out | cmp -s - "$UPPER_OUT" || { diff <(head -n -1 stub.out) "$UPPER_OUT"; fail "the console under gdb is not upper.out"; }
    if [ "$CASE" = replay_inputs_only ]; then
        [ "$(od -An -tx1 -j10 -N2 up.rtrace | tr -d ' ')" = 0100 ] || fail "not a trace of the inputs only"
    fi
    echo "replayed under gdb: console identical, ended as recorded"
    ;;
input_reverse)
    # The same live, stdin from upper.in: reverse execution re-delivers the bytes the guest
    # got (it does not read stdin again), so after going back and detaching the output is
    # exactly the scenario's and the guest's exit status is its own (1).
    STDIN=$UPPER_IN serve run "${UPPER_ARGS[@]}" -S
    cp input_cmds cmds
    run_gdb cmds
    wait "$PID"; st=$?; PID=
    [ "$(grep -c '^Breakpoint 1, console_take' cmds.log)" = 4 ] || fail "not four stops at console_take"
    expect cmds.log '^[1-9][0-9]* console input bytes logged' "input bytes logged by the stub"
    cmp -s stub.out "$UPPER_OUT" || { diff stub.out "$UPPER_OUT"; fail "the console after going back is not upper.out"; }
    [ "$st" = 1 ] || { cat stub.err; fail "the guest ended with $st, not 1"; }
    echo "console identical to upper.out after reverse-continue and detach"
    ;;
second_gdb)
    # While one debugger is attached a second is refused (gdb prints why; one line on
    # stderr); after the first detaches, the run goes on and a new one attaches to it.
    STDIN=/dev/null serve run bench.elf -S
    printf 'stepi\nshell sleep 3\nmonitor info mode\ndetach\n' > one
    timeout 100 gdb -batch -nx "$GUESTS/bench.elf" -ex "target remote 127.0.0.1:$PORT" \
        -x one > one.log 2>&1 &
    G1=$!
    sleep 1
    printf 'p $pc\n' > two
    timeout 30 gdb -batch -nx "$GUESTS/bench.elf" -ex "target remote 127.0.0.1:$PORT" \
        -x two > two.log 2>&1
    wait "$G1"
    echo "--- first:"; cat one.log; echo "--- second:"; cat two.log
    expect two.log 'another debugger is attached; detach it first' "the refusal in the second gdb"
    expect stub.err '^ringside: gdb: refused a second debugger: one is attached' "the stub's line"
    expect one.log 'icount 1$' "the first debugger undisturbed (one stepi)"
    expect one.log '^\[Inferior 1 \(Remote target\) detached\]' "the first detach"
    printf 'monitor info mode\nkill\n' > three
    timeout 30 gdb -batch -nx "$GUESTS/bench.elf" -ex "target remote 127.0.0.1:$PORT" \
        -x three > three.log 2>&1
    echo "--- third:"; cat three.log
    expect three.log 'icount [0-9]{4,}$' "a new debugger attached to the running guest"
    wait_killed
    ;;
*)
    echo "unknown case $CASE"; exit 1 ;;
esac
echo "PASS: $CASE"
