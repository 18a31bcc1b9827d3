#!/usr/bin/env bash
# Runs every guest test image under QEMU and checks it the way ctest checks it on Ringside
# (same expected output, exit status and ignored lines, read from BUILD/guests/guests.list,
# which CMake writes). A helper for developers: the test suite never needs QEMU.
#
#   guests/qemu-check.sh [BUILD_DIR] [NAME...]      (default BUILD_DIR: ./build)
#
# NAME selects images by stem (crc32.O2, fib, ...). Exit status 0 when all pass. A guest whose
# list entry gives a QEMU status (5th field) must exit with that status under QEMU (a triple
# fault: QEMU exits 0); "skip" marks guests that check rules QEMU does not follow. A 6th
# field names a file fed to stdin (the guest's COM1 receiver) instead of /dev/null. QEMU gets
# Ringside's default RAM (-m 256), so the memory sizes the guests read agree.
set -u

here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
[ $# -gt 0 ] && shift
list="$build/guests/guests.list"
if [ ! -r "$list" ]; then
    echo "qemu-check: no $list (configure and build first)" >&2
    exit 2
fi
qemu=${QEMU:-qemu-system-i386}
if ! command -v "$qemu" >/dev/null 2>&1; then
    echo "qemu-check: $qemu not found" >&2
    exit 2
fi

pass=0 fail=0 skipped=0
# Fields are split on \037 rather than on tabs: read would merge the empty fields between tabs.
while IFS=$'\037' read -r image expected status ignore qstatus input; do
    [ -n "$image" ] || continue
    stem=$(basename "$image" .elf)
    if [ $# -gt 0 ]; then
        want=0
        for n in "$@"; do [ "$n" = "$stem" ] && want=1; done
        [ "$want" -eq 1 ] || continue
    fi
    if [ "$qstatus" = skip ]; then
        echo "skip $stem (checks rules where QEMU departs from the SDM)"
        skipped=$((skipped + 1))
        continue
    fi
    [ -n "$qstatus" ] && status=$qstatus
    args=(--expected "$expected" --status "$status")
    [ -n "$ignore" ] && args+=(--ignore "$ignore")
    [ -n "${input:-}" ] && args+=(--input "$input")
    if out=$(bash "$here/run-guest-test.sh" "${args[@]}" -- \
            timeout 60 "$qemu" -kernel "$image" -m 256 \
            -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
            -serial stdio -display none -no-reboot 2>&1); then
        echo "ok   $stem"
        pass=$((pass + 1))
    else
        echo "FAIL $stem"
        echo "$out" | sed 's/^/     /'
        fail=$((fail + 1))
    fi
done < <(tr '\t' '\037' <"$list")
echo "qemu-check: $pass passed, $fail failed, $skipped skipped"
[ "$fail" -eq 0 ]
