#!/usr/bin/env bash
# Runs one guest and checks it: its stdout (the guest's UART output) must equal the expected
# file exactly, and its exit status must be the expected one (1 = the guest wrote 0, "pass",
# to the debug-exit port: status = (value << 1) | 1).
#
#   run-guest-test.sh --expected FILE [--status N] [--ignore REGEX] [--stderr REGEX]
#                     [--input FILE] -- COMMAND [ARGS...]
#
# --ignore drops the lines matching the extended regex REGEX from both sides before comparing
# (for output that depends on the loader, like the demo's command line). --stderr requires a
# line of the command's stderr to match the extended regex REGEX (e.g. the triple-fault
# report). --input feeds FILE to the command's stdin (the guest's COM1 receiver) instead of
# /dev/null. On a mismatch it prints a unified diff (expected -> actual) and the command's
# stderr, and exits 1.
set -u

expected="" want_status=1 ignore="" want_stderr="" input=/dev/null
while [ $# -gt 0 ]; do
    case "$1" in
    --expected) expected="$2"; shift 2 ;;
    --status) want_status="$2"; shift 2 ;;
    --ignore) ignore="$2"; shift 2 ;;
    --stderr) want_stderr="$2"; shift 2 ;;
    --input) input="$2"; shift 2 ;;
    --) shift; break ;;
    *) echo "run-guest-test: unknown option '$1'" >&2; exit 2 ;;
    esac
done
if [ -z "$expected" ] || [ $# -eq 0 ]; then
    echo "usage: run-guest-test.sh --expected FILE [--status N] [--ignore REGEX]" \
         "[--stderr REGEX] [--input FILE] -- COMMAND..." >&2
    exit 2
fi
if [ ! -r "$expected" ]; then
    echo "run-guest-test: cannot read expected output '$expected'" >&2
    exit 2
fi
if [ ! -r "$input" ]; then
    echo "run-guest-test: cannot read input '$input'" >&2
    exit 2
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/guest-test.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT

"$@" <"$input" >"$tmp/stdout" 2>"$tmp/stderr"
status=$?

filter() {
    if [ -n "$ignore" ]; then
        grep -Ev -- "$ignore" "$1" || true
    else
        cat "$1"
    fi
}
filter "$expected" >"$tmp/want"
filter "$tmp/stdout" >"$tmp/got"

ok=1
if ! diff -u --label "expected ($(basename "$expected"))" --label "actual" \
        "$tmp/want" "$tmp/got"; then
    echo "run-guest-test: output differs from $expected" >&2
    ok=0
fi
if [ "$status" -ne "$want_status" ]; then
    echo "run-guest-test: exit status $status, want $want_status" >&2
    ok=0
fi
if [ -n "$want_stderr" ] && ! grep -Eq -- "$want_stderr" "$tmp/stderr"; then
    echo "run-guest-test: no line of stderr matches '$want_stderr'" >&2
    ok=0
fi
if [ "$ok" -eq 0 ]; then
    echo "run-guest-test: command: $*" >&2
    if [ -s "$tmp/stderr" ]; then
        echo "run-guest-test: its stderr (first 40 lines):" >&2
        head -n 40 "$tmp/stderr" >&2
    fi
    exit 1
fi
exit 0
