#!/usr/bin/env bash
# ctest guest.irq_hlt.unimp: `--log unimp` on irq_hlt reports exactly the two things no device
# claims, once each however often they are touched: the POST port 0x80 (written eight times by
# the PIC set-up) and 0xE0000000, beyond the end of RAM (read once).
#
#   check-unimp.sh RINGSIDE IMAGE
set -u
ringside=$1 image=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/unimp.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT

"$ringside" run "$image" --max-insns 200000000 --log unimp --log-file "$tmp/log" \
    </dev/null >"$tmp/out" 2>"$tmp/err"
status=$?
cat "$tmp/log"
if [ "$status" -ne 1 ]; then
    cat "$tmp/out" "$tmp/err" >&2
    echo "check-unimp: exit status $status, want 1" >&2
    exit 1
fi
sed -E 's/ at icount [0-9]+/ at icount N/' "$tmp/log" >"$tmp/got"
printf '%s\n' "unimp: port 0x0080 write (1 byte) at icount N" \
    "unimp: mmio 0xe0000000 read (4 bytes) at icount N, beyond RAM (which ends at 0x10000000)" \
    >"$tmp/want"
if ! diff -u --label expected --label actual "$tmp/want" "$tmp/got"; then
    echo "check-unimp: the unclaimed accesses reported are not as expected" >&2
    exit 1
fi
