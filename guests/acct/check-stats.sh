#!/usr/bin/env bash
# `ringside run acct.elf --stats` reports exactly the instruction counts derived by hand in
# acct.S: per ring, per address space and the transitions (expected/acct.stats, where @PD_A@ and
# @PD_B@ stand for the page directories' addresses, read from the image with nm, and the wall
# time and MIPS are masked). The guest's own output and exit status are checked too.
#
#   check-stats.sh RINGSIDE IMAGE EXPECTED NM
set -u
ringside=$1 image=$2 expected=$3 nm=$4

syms=$("$nm" "$image") || { echo "check-stats: $nm $image failed" >&2; exit 1; }
pd_a=$(awk '$3 == "pd_a" { print $1 }' <<< "$syms")
pd_b=$(awk '$3 == "pd_b" { print $1 }' <<< "$syms")
if [ -z "$pd_a" ] || [ -z "$pd_b" ]; then
    echo "check-stats: no pd_a/pd_b in $image" >&2
    exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/acct-stats.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
"$ringside" run "$image" --stats </dev/null >"$tmp/stdout" 2>"$tmp/stderr"
status=$?

ok=1
if [ "$status" -ne 1 ]; then
    echo "check-stats: exit status $status, want 1"
    ok=0
fi
if [ "$(cat "$tmp/stdout")" != "acct" ]; then
    echo "check-stats: guest output differs from 'acct':"
    cat "$tmp/stdout"
    ok=0
fi
sed -e "s/@PD_A@/$pd_a/" -e "s/@PD_B@/$pd_b/" "$expected" >"$tmp/want"
sed -E 's/ instructions in [0-9.]+ s \([0-9.]+ MIPS\)$/ instructions in T s (M MIPS)/' \
    "$tmp/stderr" >"$tmp/got"
if ! diff -u --label "expected (acct.stats)" --label "ringside --stats" "$tmp/want" "$tmp/got"; then
    ok=0
fi
[ "$ok" -eq 1 ] && echo "check-stats: exact counts as derived in acct.S"
[ "$ok" -eq 1 ]
