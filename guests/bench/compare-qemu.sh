#!/usr/bin/env bash
# Ringside against qemu-system-i386 (TCG) on the same Multiboot image (ringbench.elf, see
# guests/bench/ringbench.c), in one session. A benchmark, not a test: it prints a table.
#
#   guests/bench/compare-qemu.sh [RINGSIDE [REPS]]
#
# Defaults: RINGSIDE = build/ringside (the image is guests/ringbench.elf next to it), REPS = 3.
# QEMU=... picks another QEMU; without one, only Ringside's column is filled. BASE=OTHER_RINGSIDE
# adds a column for another build of Ringside (e.g. the one before a change), run interleaved
# with the others in the same session, and the ratio of the two. RECORD=1 adds a column for
# Ringside with `--record` (a trace file of every transition, in the temporary directory) and
# its time against Ringside's without it; INPUTS=1 one for Ringside with `--record FILE
# --inputs-only` (a trace of the run's inputs only, the events regenerated when it is read).
# Sizes: COMPUTE_N (rounds, default 1000), SYSCALL_N (default 500000), PF_N (default 300000),
# CR3_N (default 300000).
#
# After the table: the start-up medians, every run's CPU time, so that a noisy median shows, and
# the same figures by each emulator's fastest runs.
#
# Method: for each workload, every repetition runs Ringside, QEMU (and BASE) (reversing the
# order every other time), each with N and with N = 0, interleaved; each run's CPU time (user + system, from
# /usr/bin/time, 10 ms resolution) is kept and the medians are taken. The N = 0 run holds the
# start-up (loading, kernel_init, page tables, shutdown), so median(N) - median(0) is the cost of
# the N iterations alone. Instruction counts come from one `ringside run --stats` per run size
# (the guest is deterministic, so QEMU runs the same instructions). CPU time, not wall time:
# this host is shared, and a loaded host inflates wall time but much less the CPU time. N must
# make each emulator's N-run take well over the 10 ms resolution: QEMU runs 1000 compute rounds
# (383M instructions) in about 0.15 s.
set -u

ringside=${1:-build/ringside}
reps=${2:-3}
qemu=${QEMU:-qemu-system-i386}
image=$(dirname "$ringside")/guests/ringbench.elf
for f in "$ringside" "$image"; do
    [ -e "$f" ] || { echo "compare-qemu: $f not found (build first)" >&2; exit 2; }
done
[ -x /usr/bin/time ] || { echo "compare-qemu: /usr/bin/time not found (apt-get install time)" >&2; exit 2; }
base=${BASE:-}
if [ -n "$base" ] && [ ! -x "$base" ]; then
    echo "compare-qemu: BASE=$base is not an executable" >&2
    exit 2
fi
have_qemu=1
command -v "$qemu" >/dev/null 2>&1 || { have_qemu=0; echo "compare-qemu: $qemu not found, Ringside only" >&2; }

declare -A size=([compute]=${COMPUTE_N:-1000} [syscall]=${SYSCALL_N:-500000}
                 [pf]=${PF_N:-300000} [cr3]=${CR3_N:-300000})
workloads="compute syscall pf cr3"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cmpqemu.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT

# /usr/bin/time runs programs, not shell functions: write each as a small script.
cat >"$tmp/run_ringside" <<EOF
#!/bin/sh
exec "$(cd "$(dirname "$ringside")" && pwd)/$(basename "$ringside")" run "$(cd "$(dirname "$image")" && pwd)/$(basename "$image")" --append "\$1" \${2:+"\$2"}
EOF
cat >"$tmp/run_qemu" <<EOF
#!/bin/sh
exec "$qemu" -accel tcg -kernel "$(cd "$(dirname "$image")" && pwd)/$(basename "$image")" -append "\$1" -m 256 \\
    -display none -no-reboot -device isa-debug-exit,iobase=0xf4,iosize=0x04 -serial stdio -monitor none
EOF
record=${RECORD:-}
if [ -n "$record" ]; then
    sed "s|--append \"\\\$1\"|--append \"\\\$1\" --record \"$tmp/trace.rtrace\"|" "$tmp/run_ringside" >"$tmp/run_record"
    grep -q -- "--record" "$tmp/run_record" || { echo "compare-qemu: internal error (run_record)" >&2; exit 2; }
fi
inputs=${INPUTS:-}
if [ -n "$inputs" ]; then
    sed "s|--append \"\\\$1\"|--append \"\\\$1\" --record \"$tmp/inputs.rtrace\" --inputs-only|" "$tmp/run_ringside" >"$tmp/run_inputs"
    grep -q -- "--inputs-only" "$tmp/run_inputs" || { echo "compare-qemu: internal error (run_inputs)" >&2; exit 2; }
fi
if [ -n "$base" ]; then
    base_abs=$(cd "$(dirname "$base")" && pwd)/$(basename "$base")
    sed "s|^exec \"[^\"]*\" run|exec \"$base_abs\" run|" "$tmp/run_ringside" >"$tmp/run_base"
fi
chmod +x "$tmp"/run_*

timed() { # EMU WORKLOAD N: one run, its CPU time appended to $tmp/EMU.WORKLOAD.N
    local emu=$1 w=$2 n=$3 status
    # The last run's trace removed first, outside the timing: `--record` over an existing file
    # truncates it, and freeing ~150 MB of page cache cost 0.04-0.05 s of the run's system
    # time, which is not the cost of recording (docs/performance.md, i15-rec3).
    [ "$emu" = record ] && rm -f "$tmp/trace.rtrace"
    [ "$emu" = inputs ] && rm -f "$tmp/inputs.rtrace"
    /usr/bin/time -f "%U %S" -o "$tmp/time" "$tmp/run_$emu" "$w $n" </dev/null >"$tmp/out" 2>"$tmp/err"
    status=$?
    if [ "$status" -ne 1 ] || ! grep -q "^ringbench: $w $n result" "$tmp/out"; then
        echo "compare-qemu: $emu '$w $n' failed (exit status $status):" >&2
        cat "$tmp/out" "$tmp/err" | tail -n 5 >&2
        exit 1
    fi
    grep "^ringbench: $w $n result" "$tmp/out" >>"$tmp/result.$emu.$w.$n"
    tail -n 1 "$tmp/time" | awk '{ print $1 + $2 }' >>"$tmp/$emu.$w.$n"
}

median() { sort -g "$1" | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

insns() { # WORKLOAD N -> Ringside's instruction count of that run
    "$tmp/run_ringside" "$1 $2" --stats 2>&1 >/dev/null | sed -n 's/^ringside: \([0-9]*\) instructions in .*/\1/p'
}

emus="ringside"
[ "$have_qemu" -eq 1 ] && emus="$emus qemu"
[ -n "$base" ] && emus="$emus base"
[ -n "$record" ] && emus="$emus record"
[ -n "$inputs" ] && emus="$emus inputs"
reversed=$(echo "$emus" | tr ' ' '\n' | tac | tr '\n' ' ')
for w in $workloads; do
    n=${size[$w]}
    for r in $(seq "$reps"); do
        order=$emus
        [ $((r % 2)) -eq 0 ] && order=$reversed
        for emu in $order; do
            timed "$emu" "$w" "$n"
            timed "$emu" "$w" 0
        done
    done
    for emu in $emus; do
        if ! cmp -s <(sort -u "$tmp/result.ringside.$w.$n") <(sort -u "$tmp/result.$emu.$w.$n"); then
            echo "compare-qemu: ringside and $emu disagree on '$w $n':" >&2
            cat "$tmp/result.ringside.$w.$n" "$tmp/result.$emu.$w.$n" | sort -u >&2
            exit 1
        fi
    done
    i1=$(insns "$w" "$n"); i0=$(insns "$w" 0)
    echo "$w $n $((i1 - i0))" >>"$tmp/insns"
done

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
echo "host: $cpu, $(nproc) cores, $(uname -sr), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "ringside: $("$ringside" --version 2>&1 | head -n 1) ($ringside)"
[ "$have_qemu" -eq 1 ] && echo "qemu: $("$qemu" --version | head -n 1) (TCG)"
[ -n "$base" ] && echo "base: $base (the BASE column)"
[ -n "$record" ] && echo "record: Ringside with --record FILE (the RECORD column; its trace file is removed before each run, outside the timing)"
[ -n "$inputs" ] && echo "inputs: Ringside with --record FILE --inputs-only (the INPUTS column; the same)"
echo "method: CPU time (user+system), median of $reps interleaved runs, run(N) - run(0)"
echo
printf '| %-44s | %14s | %14s | %16s |' workload Ringside "QEMU TCG" "Ringside / QEMU"
[ -n "$base" ] && printf ' %14s | %16s |' BASE "Ringside / BASE"
[ -n "$record" ] && printf ' %14s | %16s |' RECORD "RECORD / Ringside"
[ -n "$inputs" ] && printf ' %14s | %16s |' INPUTS "INPUTS / Ringside"
echo
printf '|%s|%s|%s|%s|' "$(printf -- '-%.0s' {1..46})" "$(printf -- '-%.0s' {1..15}):" \
    "$(printf -- '-%.0s' {1..15}):" "$(printf -- '-%.0s' {1..17}):"
[ -n "$base" ] && printf '%s|%s|' "$(printf -- '-%.0s' {1..15}):" "$(printf -- '-%.0s' {1..17}):"
[ -n "$record" ] && printf '%s|%s|' "$(printf -- '-%.0s' {1..15}):" "$(printf -- '-%.0s' {1..17}):"
[ -n "$inputs" ] && printf '%s|%s|' "$(printf -- '-%.0s' {1..15}):" "$(printf -- '-%.0s' {1..17}):"
echo
while read -r w n di; do
    rs1=$(median "$tmp/ringside.$w.$n"); rs0=$(median "$tmp/ringside.$w.0")
    qm1=nan qm0=nan bs1=nan bs0=nan rc1=nan rc0=nan in1=nan in0=nan
    if [ -n "$record" ]; then
        rc1=$(median "$tmp/record.$w.$n"); rc0=$(median "$tmp/record.$w.0")
    fi
    if [ -n "$inputs" ]; then
        in1=$(median "$tmp/inputs.$w.$n"); in0=$(median "$tmp/inputs.$w.0")
    fi
    if [ "$have_qemu" -eq 1 ]; then
        qm1=$(median "$tmp/qemu.$w.$n"); qm0=$(median "$tmp/qemu.$w.0")
    fi
    if [ -n "$base" ]; then
        bs1=$(median "$tmp/base.$w.$n"); bs0=$(median "$tmp/base.$w.0")
    fi
    awk -v w="$w" -v n="$n" -v di="$di" -v r1="$rs1" -v r0="$rs0" -v q1="$qm1" -v q0="$qm0" \
        -v b1="$bs1" -v b0="$bs0" -v hq="$have_qemu" -v hb="${base:+1}" \
        -v c1="$rc1" -v c0="$rc0" -v hc="${record:+1}" \
        -v i1="$in1" -v i0="$in0" -v hi="${inputs:+1}" 'BEGIN {
        rt = r1 - r0; qt = q1 - q0; bt = b1 - b0; ct = c1 - c0; it = i1 - i0; per = di / n;
        if (w == "compute") {
            label = sprintf("compute, ring 3, paging (%d rounds)", n);
            rv = di / rt / 1e6; qv = hq ? di / qt / 1e6 : 0;
            rs = sprintf("%.0f MIPS", rv); qs = hq ? sprintf("%.0f MIPS", qv) : "-";
            ratio = hq ? sprintf("%.2fx the rate", rv / qv) : "-";
            if (hb) { bv = di / bt / 1e6; bs = sprintf("%.0f MIPS", bv);
                      bratio = sprintf("%.2fx the rate", rv / bv) }
            if (hc) { cv = di / ct / 1e6; cs = sprintf("%.0f MIPS", cv);
                      cratio = sprintf("%.2fx the time", rv / cv) }
            if (hi) { iv = di / it / 1e6; is = sprintf("%.0f MIPS", iv);
                      iratio = sprintf("%.2fx the time", rv / iv) }
        } else {
            if (w == "syscall") label = sprintf("int 0x31 null syscall 3->0->3 (%.0f insns)", per);
            if (w == "pf") label = sprintf("page fault round trip (%.0f insns)", per);
            if (w == "cr3") label = sprintf("CR3 reload+16 walks+invlpg (%.0f insns)", per);
            rv = rt * 1e9 / n; qv = hq ? qt * 1e9 / n : 0;
            rs = sprintf("%.0f ns", rv); qs = hq ? sprintf("%.0f ns", qv) : "-";
            ratio = hq ? sprintf("%.2fx the time", rv / qv) : "-";
            if (hb) { bv = bt * 1e9 / n; bs = sprintf("%.0f ns", bv);
                      bratio = sprintf("%.2fx the time", rv / bv) }
            if (hc) { cv = ct * 1e9 / n; cs = sprintf("%.0f ns", cv);
                      cratio = sprintf("%.2fx the time", cv / rv) }
            if (hi) { iv = it * 1e9 / n; is = sprintf("%.0f ns", iv);
                      iratio = sprintf("%.2fx the time", iv / rv) }
        }
        printf "| %-44s | %14s | %14s | %16s |", label, rs, qs, ratio
        if (hb) printf " %14s | %16s |", bs, bratio
        if (hc) printf " %14s | %16s |", cs, cratio
        if (hi) printf " %14s | %16s |", is, iratio
        printf "\n"
    }'
done <"$tmp/insns"
echo
echo "start-up (median CPU time of N = 0 runs):"
for w in $workloads; do
    printf '  %-8s ringside %ss' "$w" "$(median "$tmp/ringside.$w.0")"
    [ "$have_qemu" -eq 1 ] && printf ', qemu %ss' "$(median "$tmp/qemu.$w.0")"
    [ -n "$base" ] && printf ', base %ss' "$(median "$tmp/base.$w.0")"
    [ -n "$record" ] && printf ', record %ss' "$(median "$tmp/record.$w.0")"
    [ -n "$inputs" ] && printf ', inputs %ss' "$(median "$tmp/inputs.$w.0")"
    echo
done
echo
echo "every run's CPU time in seconds (each emulator's runs in the order they ran):"
for w in $workloads; do
    n=${size[$w]}
    for emu in $emus; do
        printf '  %-8s %-9s N=%-8s %s\n' "$w" "$emu" "$n" "$(tr '\n' ' ' <"$tmp/$emu.$w.$n")"
        printf '  %-8s %-9s N=%-8s %s\n' "$w" "$emu" 0 "$(tr '\n' ' ' <"$tmp/$emu.$w.0")"
    done
done
echo
echo "by fastest runs (min(N) - min(0); on a host whose runs fall into groups, the fastest group):"
minof() { sort -g "$1" | head -n 1; }
while read -r w n di; do
    line=$(printf '  %-8s' "$w")
    rt=$(awk -v a="$(minof "$tmp/ringside.$w.$n")" -v b="$(minof "$tmp/ringside.$w.0")" 'BEGIN { print a - b }')
    for emu in $emus; do
        t=$(awk -v a="$(minof "$tmp/$emu.$w.$n")" -v b="$(minof "$tmp/$emu.$w.0")" 'BEGIN { print a - b }')
        line="$line $(awk -v emu="$emu" -v t="$t" -v rt="$rt" -v di="$di" -v n="$n" -v w="$w" 'BEGIN {
            if (w == "compute") v = sprintf("%.0f MIPS", di / t / 1e6); else v = sprintf("%.0f ns", t * 1e9 / n);
            r = "";
            if (emu == "record" || emu == "inputs") r = sprintf(" (%.2fx the time)", t / rt);
            else if (emu != "ringside" && w == "compute") r = sprintf(" (Ringside %.2fx the rate)", t / rt);
            else if (emu != "ringside") r = sprintf(" (Ringside %.2fx the time)", rt / t);
            printf "%s %s%s,", emu, v, r }')"
    done
    echo "${line%,}"
done <"$tmp/insns"
