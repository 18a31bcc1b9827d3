#!/usr/bin/env bash
# TLB misses: how long a read that misses the TLB and walks the page tables takes on Ringside,
# in host nanoseconds. A benchmark, not a test: it prints figures.
#
#   guests/bench/run-tlb-bench.sh [RINGSIDE [N]]
#
# Boots the demo kernel with guests/user/tlbbench.c twice, making N and 3N rounds of reads over
# 512 pages (default N = 1000), every one a TLB miss; the difference in wall time over 2N rounds
# is the cost of the reads alone, without boot and shutdown. The guest prints the instructions
# per read.
set -u
ringside=${1:-build/ringside}
n=${2:-1000}
dir=$(dirname "$ringside")/guests
for f in "$ringside" "$dir/kernel.elf" "$dir/user/tlbbench.elf"; do
    [ -e "$f" ] || { echo "run-tlb-bench: $f not found (build first)" >&2; exit 2; }
done
ringside=$(cd "$(dirname "$ringside")" && pwd)/$(basename "$ringside")

run() { # prints "SECONDS INSTRUCTIONS" and the guest's line on stderr
    local out err
    out=$(cd "$dir" && "$ringside" run kernel.elf --append "init=tlbbench" \
          --module "user/tlbbench.elf $1" --stats </dev/null 2>/tmp/tlbbench.$$)
    err=$(cat /tmp/tlbbench.$$); rm -f /tmp/tlbbench.$$
    echo "$out" | grep '^tlbbench:' >&2
    echo "$err" | sed -n 's/^ringside: \([0-9]*\) instructions in \([0-9.]*\) s.*/\2 \1/p'
}
read -r t1 i1 < <(run "$n")
read -r t3 i3 < <(run "$((3 * n))")
awk -v t1="$t1" -v t3="$t3" -v i1="$i1" -v i3="$i3" -v n="$n" 'BEGIN {
    reads = 2 * n * 512;                 # 2N more rounds of 512 reads
    printf "TLB miss (read with a page walk): %.1f ns, %.1f instructions per read\n",
           (t3 - t1) * 1e9 / reads, (i3 - i1) / reads;
    printf "measured with: guests/bench/run-tlb-bench.sh %d\n", n }'
