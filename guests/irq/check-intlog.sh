#!/usr/bin/env bash
# ctest guest.irq_timer.intlog: runs irq_timer twice with `--log int` and checks
#   - both runs print the same and log the same, byte for byte (device time is deterministic);
#   - the first IRQ 0 delivery is logged at the deadline the guest computed ("info: tick 1
#     deadline N"), from ring 3 into ring 0:  N: v=20 e=0000 i=0 cpl=3 IP=001b:... -> cpl=0
#     IP=0008:...;
#   - every IRQ 0 delivery is from ring 3, and the IRET that follows it goes back to ring 3 at
#     the EIP that was interrupted.
#
#   check-intlog.sh RINGSIDE IMAGE
set -u
ringside=$1 image=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/intlog.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT

fail() {
    echo "check-intlog: $*" >&2
    exit 1
}

for run in 1 2; do
    "$ringside" run "$image" --max-insns 200000000 --log int --log-file "$tmp/int$run.log" \
        </dev/null >"$tmp/out$run" 2>"$tmp/err$run"
    status=$?
    if [ "$status" -ne 1 ]; then
        cat "$tmp/out$run" "$tmp/err$run" >&2
        fail "run $run: exit status $status, want 1 (the guest passed)"
    fi
done
cmp -s "$tmp/out1" "$tmp/out2" || fail "the two runs printed different output"
if ! cmp -s "$tmp/int1.log" "$tmp/int2.log"; then
    diff "$tmp/int1.log" "$tmp/int2.log" | head -20 >&2
    fail "the two runs logged different transitions"
fi

deadline=$(sed -n 's/^info: tick 1 deadline \([0-9][0-9]*\) .*/\1/p' "$tmp/out1")
[ -n "$deadline" ] || fail "the guest printed no 'info: tick 1 deadline' line"
first=$(grep -m1 -E ' v=20 ' "$tmp/int1.log")
echo "first IRQ 0 delivery: $first"
want="^ *$deadline: cr3=[0-9a-f]{8} v=20 e=0000 i=0 cpl=3 IP=001b:[0-9a-f]{8}( <[^>]+>)? SP=0023:[0-9a-f]{8} -> cpl=0 IP=0008:[0-9a-f]{8}( <[^>]+>)? SP=0010:[0-9a-f]{8} \\| IRQ0 timer$"
echo "$first" | grep -Eq "$want" || fail "want a line matching '$want'"

# Each delivery from ring 3 and the IRET after it, back to the same CS:EIP.
awk '
    / v=20 / {
        n++
        if ($0 !~ / cpl=3 IP=001b:/) { print "IRQ 0 not from ring 3: " $0; bad = 1 }
        match($0, /IP=001b:[0-9a-f]+/); from = substr($0, RSTART + 3, RLENGTH - 3)
        pending = 1
        next
    }
    pending && / iret / {
        match($0, /-> cpl=3 IP=[0-9a-f]+:[0-9a-f]+/)
        back = substr($0, RSTART + 12, RLENGTH - 12)
        if (back != from) { print "IRET went to " back ", not " from; bad = 1 }
        pending = 0
    }
    END {
        if (n != 3) { print "IRQ 0 deliveries: " n ", want 3"; bad = 1 }
        if (pending) { print "no IRET after the last IRQ 0"; bad = 1 }
        exit bad
    }' "$tmp/int1.log" >&2 || fail "the IRQ 0 deliveries and returns are not as expected"
echo "check-intlog: ok ($(wc -l <"$tmp/int1.log") identical log lines in two runs)"
