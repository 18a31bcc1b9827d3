#!/usr/bin/env bash
# Bad input to `ringside` must give exit status 2, exactly one line on stderr (starting with
# "ringside: "), nothing on stdout, no crash and no core dump.
#
# usage: bad_input.sh RINGSIDE WORKDIR CASE [HOST_CC]
set -u
ringside=$1
work=$2/$3
case=$3
host_cc=${4:-cc}
. "$(dirname "$0")/lib.sh"

rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1

plain_elf() { make_elf "$1" 0x100000 <<< 'hlt'; }

expect=""   # a piece of the error line, when the case pins one down
case $case in
missing_file)
    args=(run does-not-exist.elf); expect="No such file" ;;
directory)
    mkdir adir; args=(run adir); expect="is a directory" ;;
not_elf)
    echo "just some text" > notelf; args=(run notelf); expect="not an ELF file" ;;
empty_file)
    : > empty; args=(run empty); expect="empty file" ;;
elf64)
    : > empty.c
    "$host_cc" -c empty.c -o empty64.o || exit 1
    args=(run empty64.o); expect="ELF64 images are not supported: Ringside is a 32-bit machine" ;;
non_x86)
    # An ELF32 little-endian executable header for ARM (e_machine 40), no program headers.
    printf '\177ELF\001\001\001\000\000\000\000\000\000\000\000\000' > arm.elf
    printf '\002\000\050\000\001\000\000\000\000\000\001\000\064\000\000\000' >> arm.elf
    printf '\000\000\000\000\000\000\000\000\064\000\040\000\000\000\050\000' >> arm.elf
    printf '\000\000\000\000' >> arm.elf
    args=(run arm.elf); expect="machine 40, ARM" ;;
truncated_header)
    need_binutils; plain_elf good.elf; head -c 30 good.elf > cut.elf
    args=(run cut.elf); expect="truncated ELF header" ;;
truncated_phdrs)
    need_binutils; plain_elf good.elf; head -c 60 good.elf > cut.elf
    args=(run cut.elf); expect="truncated program headers" ;;
segment_outside_ram)
    need_binutils; make_elf high.elf 0xF0000000 <<< 'hlt'
    args=(run high.elf); expect="lies outside RAM" ;;
segment_outside_small_ram)
    need_binutils; make_elf at4m.elf 0x400000 <<< 'hlt'
    args=(run at4m.elf --mem 4); expect="lies outside RAM" ;;
unknown_flag)
    args=(run x.elf --frobnicate); expect="unknown option '--frobnicate'" ;;
unknown_command)
    args=(frobnicate); expect="unknown command 'frobnicate'" ;;
run_without_image)
    args=(run); expect="run needs an IMAGE" ;;
two_images)
    args=(run a.elf b.elf); expect="one image only" ;;
missing_value)
    args=(run x.elf --mem); expect="needs a value" ;;
mem_too_small)
    args=(run x.elf --mem 1); expect="--mem must be" ;;
mem_too_big)
    args=(run x.elf --mem=3073); expect="--mem must be" ;;
mem_not_number)
    args=(run x.elf --mem 64M); expect="--mem must be" ;;
mem_negative)
    args=(run x.elf --mem -5); expect="--mem must be" ;;
max_insns_not_number)
    args=(run x.elf --max-insns 1e9); expect="--max-insns must be" ;;
max_insns_overflow)
    args=(run x.elf --max-insns 18446744073709551616); expect="--max-insns must be" ;;
log_unknown)
    args=(run x.elf --log cpu); expect="unknown --log item 'cpu'" ;;
log_file_without_log)
    args=(run x.elf --log-file out.log); expect="--log-file needs --log" ;;
log_file_unwritable)
    need_binutils; plain_elf good.elf
    args=(run good.elf --log insn --log-file no/such/dir/out.log)
    expect="cannot write log file" ;;
demo_with_image)
    args=(demo x.elf); expect="the demo takes no image" ;;
missing_module)
    need_binutils; make_elf mb.elf 0x100000 mb <<< 'hlt'
    args=(run mb.elf --module "no-such-module arg1")
    expect="cannot open module 'no-such-module'" ;;
module_on_plain_elf)
    need_binutils; plain_elf good.elf; echo data > mod
    args=(run good.elf --module mod); expect="no Multiboot header" ;;
fifo_image)
    # A named pipe with no writer: opening it must not block (the test has a TIMEOUT).
    mkfifo pipe.elf || exit 1
    args=(run pipe.elf); expect="image 'pipe.elf' is a named pipe (FIFO), not a file" ;;
fifo_module)
    need_binutils; make_elf mb.elf 0x100000 mb <<< 'hlt'; mkfifo pipe.mod || exit 1
    args=(run mb.elf --module "pipe.mod arg1")
    expect="module 'pipe.mod' is a named pipe (FIFO), not a file" ;;
device_image)
    args=(run /dev/zero); expect="image '/dev/zero' is a device, not a file" ;;
option_not_for_command)
    args=(help --max-insns 5); expect="--max-insns does not apply to 'help'" ;;
flag_with_value)
    args=(run x.elf --stats=yes); expect="option '--stats' takes no value" ;;
help_unknown_command)
    args=(help frobnicate); expect="unknown command 'frobnicate'" ;;
*)
    echo "unknown case $case"; exit 1 ;;
esac

"$ringside" "${args[@]}" < /dev/null > stdout.txt 2> stderr.txt
status=$?

ok=1
say() { echo "FAIL ($case): $*"; ok=0; }
[ "$status" -lt 128 ] || say "crashed: exit status $status"
[ "$status" -eq 2 ] || say "exit status $status, want 2"
[ ! -s stdout.txt ] || say "stdout not empty: $(head -c 200 stdout.txt)"
lines=$(wc -l < stderr.txt)
[ "$lines" -eq 1 ] || say "stderr has $lines lines, want exactly 1"
[ -z "$(tail -c 1 stderr.txt)" ] || say "stderr does not end with a newline"
grep -q '^ringside: ' stderr.txt || say "stderr does not start with 'ringside: '"
[ -z "$expect" ] || grep -qF -- "$expect" stderr.txt || say "stderr lacks '$expect'"
cores=$(find . -maxdepth 1 -name 'core*' | head -1)
[ -z "$cores" ] || say "core dump left: $cores"
[ ! -e no/such/dir/out.log ] || say "log file created"

echo "ringside ${args[*]}"
echo "  exit $status, stderr: $(cat stderr.txt)"
[ "$ok" -eq 1 ] || exit 1
echo "PASS ($case)"
