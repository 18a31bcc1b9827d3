#!/usr/bin/env bash
# Where Ringside's output goes when it cannot go there: stdout on a full disk, stdout closed,
# a reader that goes away (`| head`), a log file on a full disk. Each must end with exactly one
# line on stderr ("ringside: ...") and its documented status (cli.h, README):
#   8  stdout or the log file could not be written     10  stdout's reader went away
#   2  stdout closed at start (a closed stdin or stderr is quietly replaced by /dev/null)
# and never with a signal (SIGPIPE) or a hang.
#
# usage: output.sh RINGSIDE WORKDIR CASE
set -u
ringside=$1
work=$2/$3
case=$3
. "$(dirname "$0")/lib.sh"
need_binutils
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1

# A guest that prints LINES lines of 63 characters and a newline, then exits with value 0x10
# (status 33); `noisy` also runs 10 instructions between lines.
make_printer() {
    make_elf "$1" 0x100000 <<< "mov \$0x90000, %esp
        mov \$$2, %ecx
    line: mov \$63, %ebx
    char: mov \$0x78, %al; call putc
        dec %ebx; jnz char
        mov \$10, %al; call putc
        loop line
        mov \$0x10, %al; mov \$0xF4, %dx; outb %al, %dx; hlt
    putc: mov %al, %ah; mov \$0x3FD, %dx
    1:  inb %dx, %al; test \$0x20, %al; jz 1b
        mov %ah, %al; mov \$0x3F8, %dx; outb %al, %dx; ret"
}

ok=1
say() { echo "FAIL ($case): $*"; ok=0; }
check() { # STATUS REGEX: the exit status and the one line on stderr
    echo "  exit $status"; sed 's/^/  stderr: /' stderr.txt
    [ "$status" -lt 128 ] || say "killed by a signal: exit status $status"
    [ "$status" -eq "$1" ] || say "exit status $status, want $1"
    [ "$(wc -l < stderr.txt)" -eq 1 ] || say "stderr has $(wc -l < stderr.txt) lines, want 1"
    grep -qE -- "$2" stderr.txt || say "stderr does not match /$2/"
}

case $case in
stdout_full)
    make_printer p.elf 100
    "$ringside" run p.elf < /dev/null > /dev/full 2> stderr.txt
    status=$?
    check 8 '^ringside: cannot write standard output \(the guest.s console\): No space left on device; the run stopped at [0-9a-f]{4}:[0-9a-f]{8}$' ;;
help_full)
    "$ringside" --help > /dev/full 2> stderr.txt
    status=$?
    check 8 '^ringside: cannot write standard output .*: No space left on device' ;;
stdout_closed)
    # With stdout closed, the log file would get fd 1 and the console would land in it.
    make_printer p.elf 3
    "$ringside" run p.elf --log insn --log-file log.txt < /dev/null >&- 2> stderr.txt
    status=$?
    check 2 '^ringside: standard output is closed: '
    if [ -e log.txt ] && grep -q xxxxxxxx log.txt; then say "the console went into the log file"; fi ;;
stdin_stderr_closed)
    # Quietly replaced by /dev/null: the run is as usual.
    make_printer p.elf 3
    "$ringside" run p.elf <&- 2>&- > stdout.txt
    status=$?
    echo "  exit $status"
    [ "$status" -eq 33 ] || say "exit status $status, want 33"
    [ "$(wc -l < stdout.txt)" -eq 3 ] || say "stdout has $(wc -l < stdout.txt) lines, want 3" ;;
broken_pipe)
    # 1 MiB of output, far more than a pipe holds: head's exit must break the pipe.
    make_printer p.elf 16384
    "$ringside" run p.elf < /dev/null 2> stderr.txt | head -c 10 > head.txt
    status=${PIPESTATUS[0]}
    check 10 '^ringside: standard output was closed by its reader \(broken pipe\); the run stopped at [0-9a-f]{4}:[0-9a-f]{8}$'
    [ "$(cat head.txt)" = xxxxxxxxxx ] || say "head did not get the first 10 bytes" ;;
log_full)
    make_printer p.elf 3
    "$ringside" run p.elf --log insn --log-file /dev/full < /dev/null > stdout.txt 2> stderr.txt
    status=$?
    check 8 "^ringside: cannot write log file '/dev/full': No space left on device"
    [ "$(wc -l < stdout.txt)" -eq 3 ] || say "the console is incomplete" ;;
*)
    echo "unknown case $case"; exit 1 ;;
esac
[ "$ok" -eq 1 ] || exit 1
echo "PASS ($case)"
