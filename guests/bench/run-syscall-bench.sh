#!/usr/bin/env bash
# Ring round trips: how long one system call (ring 3 -> ring 0 -> ring 3) takes on Ringside, in
# host nanoseconds, by int $0x80 and by sysenter. A benchmark, not a test: it prints figures.
#
#   guests/bench/run-syscall-bench.sh [RINGSIDE [N]]
#
# Boots the demo kernel with guests/user/sysbench.c twice, making N and 3N calls each way
# (default N = 200000); the difference in wall time over 2N calls each way is the cost of the
# calls alone, without boot and shutdown. The guest prints the instructions per round trip.
set -u
ringside=${1:-build/ringside}
n=${2:-200000}
dir=$(dirname "$ringside")/guests
for f in "$ringside" "$dir/kernel.elf" "$dir/user/sysbench.elf"; do
    [ -e "$f" ] || { echo "run-syscall-bench: $f not found (build first)" >&2; exit 2; }
done
ringside=$(cd "$(dirname "$ringside")" && pwd)/$(basename "$ringside")

run() { # prints "SECONDS INSTRUCTIONS" and the guest's line on stderr
    local out err
    out=$(cd "$dir" && "$ringside" run kernel.elf --append "init=sysbench" \
          --module "user/sysbench.elf $1" --stats </dev/null 2>/tmp/sysbench.$$)
    err=$(cat /tmp/sysbench.$$); rm -f /tmp/sysbench.$$
    echo "$out" | grep '^sysbench:' >&2
    echo "$err" | sed -n 's/^ringside: \([0-9]*\) instructions in \([0-9.]*\) s.*/\2 \1/p'
}
read -r t1 i1 < <(run "$n")
read -r t3 i3 < <(run "$((3 * n))")
awk -v t1="$t1" -v t3="$t3" -v i1="$i1" -v i3="$i3" -v n="$n" 'BEGIN {
    calls = 4 * n;                       # 2N more calls each way
    ns = (t3 - t1) * 1e9 / calls;
    printf "ring round trip (system call, both ways averaged): %.0f ns, %.0f instructions\n",
           ns, (i3 - i1) / calls;
    printf "measured with: guests/bench/run-syscall-bench.sh %s %d\n", ENVIRON["RS"], n }'
