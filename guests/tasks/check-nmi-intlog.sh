#!/usr/bin/env bash
# ctest guest.nmi.intlog: runs the nmi guest with `--log int` and checks that the NMIs taken
# through the interrupt gate are logged as vector 2 with their source (docs/machine.md):
#   - exactly four deliveries end in "| NMI, self IPI" (two sent from the main program, the
#     one held back until the handler's IRET, the one nested inside INT 2), each with vector
#     2 and i=0 (the NMIs through the task gate are logged as task switches);
#   - INT 2 is logged as a software interrupt ("| int 0x02"), not as an NMI;
#   - the guest passed.
#
#   check-nmi-intlog.sh RINGSIDE IMAGE
set -u
ringside=$1 image=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/nmiint.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT

fail() {
    echo "check-nmi-intlog: $*" >&2
    exit 1
}

"$ringside" run "$image" --max-insns 200000000 --log int --log-file "$tmp/int.log" \
    >"$tmp/out" 2>"$tmp/err"
status=$?
[ "$status" -eq 1 ] || { cat "$tmp/out" "$tmp/err" >&2; fail "exit status $status, want 1"; }
grep -q '^nmi: PASS$' "$tmp/out" || fail "the guest did not pass"
n=$(grep -c ' v=02 e=0000 i=0 .*| NMI, self IPI$' "$tmp/int.log")
[ "$n" -eq 4 ] || { cat "$tmp/int.log" >&2; fail "$n NMI deliveries logged, want 4"; }
m=$(grep -c ' v=02 .*| int 0x02$' "$tmp/int.log")
[ "$m" -eq 1 ] || { cat "$tmp/int.log" >&2; fail "$m INT 2 lines, want 1"; }
exit 0
