#!/usr/bin/env bash
# The live log as a person sees it: no line lost, lines whole, the console and the log in the
# order they happened, and stdin that never stalls the guest.
#
#   live_log.sh RINGSIDE BUILD CASE
#
#   pty          `ringside demo --log int` on a terminal (a pty from python3's pty module) that
#                is stdin, stdout and stderr at once (console input on, raw mode): as many
#                event lines as with --log-file, every line whole, every console line there and
#                in order, the nullderef #PF before the kernel says it killed the process
#   shared_pipe  the same with stdout and stderr one pipe (2>&1 | cat)
#   pipe_stall   `sleep 8 | ringside run fib.elf` (a pipe that stays silent for 8 s) ends in
#                well under 8 s
#   partial_line a guest prints "a", makes two INT 0x30 round trips, prints "b\n": with the log
#                and the console on one pipe the console line is whole ("ab") and the four
#                event lines are whole too
#   open_stdin   the demo with a stdin pipe whose writer stays open for a minute ends in less
#                than 20 s, its output as with /dev/null (the kernel's read times out)
set -u
ringside=$1 build=$2 case=$3
here=$(cd "$(dirname "$0")" && pwd)
golden=$here/../../guests/scenarios/demo.out
tmp=$(mktemp -d "${TMPDIR:-/tmp}/live_log.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
fail() { echo "live_log $case: $*" >&2; exit 1; }

ms() { echo $(( $(date +%s%N) / 1000000 )); }

# timed_with_open_stdin SECONDS OUT ARGS...: runs ringside ARGS with stdin a pipe (a fifo)
# whose writer stays open and silent for SECONDS; prints "status milliseconds".
timed_with_open_stdin() {
    local secs=$1 out=$2
    shift 2
    mkfifo "$tmp/fifo" || fail "mkfifo"
    sleep "$secs" > "$tmp/fifo" &
    local writer=$! t0 rc
    t0=$(ms)
    "$ringside" "$@" < "$tmp/fifo" > "$out" 2>&1
    rc=$?
    echo "$rc $(( $(ms) - t0 ))"
    kill "$writer" 2>/dev/null
    wait "$writer" 2>/dev/null
}

# check_mixed FILE: FILE holds the console and the log of `ringside demo --log int` in one
# stream. Compares with a --log-file run: same event lines in the same order, the console
# lines exactly the golden console output, in order, and the order of the #PF and the kill.
check_mixed() {
    local mixed=$1
    tr -d '\r' < "$mixed" > "$tmp/mixed"
    "$ringside" demo --log int --log-file "$tmp/ref.log" </dev/null >/dev/null 2>&1
    local evre='^ *[0-9]+: '
    grep -E "$evre" "$tmp/mixed" > "$tmp/events"
    grep -vE "$evre" "$tmp/mixed" | grep -v '^ringside: ' > "$tmp/console"
    local want got
    want=$(wc -l < "$tmp/ref.log") got=$(wc -l < "$tmp/events")
    [ "$want" -gt 500 ] || fail "the reference log has only $want lines"
    cmp -s "$tmp/ref.log" "$tmp/events" ||
        fail "$got event lines, $want expected; first difference: $(diff "$tmp/ref.log" "$tmp/events" | head -3)"
    diff -u "$golden" "$tmp/console" > "$tmp/d" ||
        fail "console lines differ from demo.out (lost, cut or reordered): $(head -12 "$tmp/d")"
    # The nullderef process's #PF comes before the kernel's line about killing it.
    local pf kill
    pf=$(grep -nE "$evre"'pid 5 \(nullderef\) v=0e .*cpl=3 .*\| #PF\(0x0004\): user read of 0x00000000' "$tmp/mixed" | head -1 | cut -d: -f1)
    kill=$(grep -n 'pid 5 (nullderef) killed' "$tmp/mixed" | head -1 | cut -d: -f1)
    [ -n "$pf" ] && [ -n "$kill" ] || fail "no user #PF line ($pf) or no kill line ($kill)"
    [ "$pf" -lt "$kill" ] || fail "the #PF (line $pf) comes after the kill (line $kill)"
    echo "live_log $case: $got event lines and $(wc -l < "$tmp/console") console lines, whole and in order"
}

case $case in
pty)
    command -v python3 >/dev/null || fail "python3 is needed for the pty"
    python3 - "$ringside" "$tmp/pty.out" <<'PY' || fail "the pty run failed"
import os, pty, subprocess, sys, select
master, slave = pty.openpty()
p = subprocess.Popen([sys.argv[1], "demo", "--log", "int"], stdin=slave, stdout=slave,
                     stderr=slave, close_fds=True, start_new_session=True)
os.close(slave)
out = bytearray()
while True:
    r, _, _ = select.select([master], [], [], 60)
    if not r:
        p.kill()
        sys.exit("no output for 60 s")
    try:
        b = os.read(master, 65536)
    except OSError:  # EIO: the last holder of the slave closed it
        break
    if not b:
        break
    out += b
rc = p.wait()
open(sys.argv[2], "wb").write(bytes(out))
if rc != 1:
    sys.exit("ringside demo exited %d, not 1" % rc)
PY
    check_mixed "$tmp/pty.out"
    ;;
shared_pipe)
    "$ringside" demo --log int </dev/null 2>&1 | cat > "$tmp/pipe.out"
    check_mixed "$tmp/pipe.out"
    ;;
pipe_stall)
    t=$(timed_with_open_stdin 8 "$tmp/out" run "$build/guests/fib.elf")
    set -- $t
    [ "$1" -eq 1 ] || fail "fib exited $1: $(cat "$tmp/out")"
    [ "$2" -lt 3000 ] || fail "fib took $2 ms with a slow pipe on stdin (it never reads it)"
    echo "live_log $case: fib with 'sleep 8 |' on stdin took $2 ms"
    ;;
open_stdin)
    t=$(timed_with_open_stdin 60 "$tmp/out" demo)
    set -- $t
    [ "$1" -eq 1 ] || fail "the demo exited $1"
    [ "$2" -lt 20000 ] || fail "the demo took $2 ms with a stdin that stays open"
    diff -u "$golden" "$tmp/out" > "$tmp/d" || fail "output differs: $(head -12 "$tmp/d")"
    echo "live_log $case: the demo with an open, silent stdin took $2 ms, output as with /dev/null"
    ;;
partial_line)
    . "$here/lib.sh"
    need_binutils
    cd "$tmp" || exit 1
    make_elf part.elf 0x100000 <<< "lgdt gdtr; ljmp \$0x08, \$1f
        1: mov \$0x10, %ax; mov %ax, %ds; mov %ax, %es; mov %ax, %ss; mov \$0x90000, %esp
        mov \$gate, %eax; mov (%eax), %ecx; mov 4(%eax), %edx
        mov %ecx, idt+0x30*8; mov %edx, idt+0x30*8+4
        lidt idtr
        mov \$0x3F8, %dx; mov \$'a', %al; outb %al, %dx
        int \$0x30; int \$0x30
        mov \$'b', %al; outb %al, %dx; mov \$10, %al; outb %al, %dx
        mov \$0, %al; mov \$0xF4, %dx; outb %al, %dx
        handler: iret
        .align 8
        gdt: .quad 0, 0x00CF9A000000FFFF, 0x00CF92000000FFFF
        gdtr: .word 23; .long gdt
        gate: .word handler - _start + 0x0000, 0x08, 0x8E00, 0x0010
        idtr: .word 256*8-1; .long idt
        .align 8
        idt: .fill 256*8, 1, 0"
    "$ringside" run part.elf --log int </dev/null 2>&1 | cat > mixed.out
    grep -qx 'ab' mixed.out || fail "the console line is not whole: $(cat mixed.out)"
    n=$(grep -cE '^ *[0-9]+: cr3=00000000 (v=30 e=0000 i=1 .* \| int 0x30|iret .* \| back from int 0x30 at [0-9]+, 1 instruction)$' mixed.out)
    [ "$n" -eq 4 ] || fail "$n whole event lines, 4 expected: $(cat mixed.out)"
    [ "$(wc -l < mixed.out)" -eq 5 ] || fail "more than the 5 lines expected: $(cat mixed.out)"
    echo "live_log $case: the console line 'ab' whole, 4 event lines whole"
    ;;
*) fail "unknown case" ;;
esac
