#!/bin/bash
# Figures for reverse execution (not a ctest: it runs for seconds): the history's snapshots
# (count, RAM pages they hold) and the time gdb's reverse-stepi takes 10^8 instructions into a
# run of bench.elf, with the time for the forward run to get there.
# usage: tests/gdb/reverse_figures.sh BUILD_DIR [ICOUNT]
set -u
BUILD=$(cd "$1" && pwd) N=${2:-100000000}
tmp=$(mktemp -d) && trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
timeout 300 "$BUILD/ringside" run "$BUILD/guests/bench.elf" --gdb 127.0.0.1:0 -S > out 2> err &
pid=$!
for _ in $(seq 100); do
    port=$(sed -n 's/^ringside: gdb: listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' err)
    [ -n "$port" ] && break
    sleep 0.1
done
cat > cmds <<G
set pagination off
set confirm off
target remote 127.0.0.1:$port
monitor break icount $N
shell date +T0=%s.%N
continue
shell date +T1=%s.%N
monitor info mode
monitor info history
shell date +T2=%s.%N
reverse-stepi
shell date +T3=%s.%N
monitor info mode
reverse-stepi
shell date +T4=%s.%N
stepi
stepi
shell date +T5=%s.%N
monitor info mode
kill
G
timeout 300 gdb -batch -nx "$BUILD/guests/bench.elf" -x cmds > log 2>&1
wait $pid
t() { sed -n "s/^$1=//p" log; }
grep -E '^([0-9]+ snapshots|  icount)' log | sed -n '1,4p'
grep -E '^CPL' log | sed 's/.*icount/at icount/'
awk -v t0="$(t T0)" -v t1="$(t T1)" -v t2="$(t T2)" -v t3="$(t T3)" -v t4="$(t T4)" \
    -v t5="$(t T5)" -v n="$N" 'BEGIN {
    printf "forward to icount %d (monitor break icount, no hook): %.2f s\n", n, t1 - t0
    printf "reverse-stepi: %.3f s, then %.3f s; two stepi forward: %.3f s\n", t3 - t2, t4 - t3, t5 - t4 }'
