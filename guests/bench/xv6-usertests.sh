#!/usr/bin/env bash
# xv6's usertests on Ringside and on qemu-system-i386 (TCG), same kernel, interleaved. A
# benchmark, not a test: it prints CPU times and their ratio. xv6 is not part of Ringside: build
# it outside the tree (README.md, "xv6") and pass its kernelmemfs.
#
#   guests/bench/xv6-usertests.sh RINGSIDE KERNEL [REPS]
#
# REPS defaults to 3. QEMU=... picks another QEMU; without one, only Ringside is timed.
# BASE=OTHER_RINGSIDE adds another build of Ringside (e.g. the one before a change), run
# interleaved with the others. LIMIT=SECONDS (default 900) is the wall-clock limit of one run:
# a run that has not printed "ALL TESTS PASSED" by then is killed and the script fails.
# RECORD=1 adds Ringside with `--record FILE` (a trace of every transition, in the temporary
# directory; the run is killed at the line like the others, so the file is left unfinished) and
# its time against Ringside's without it; INPUTS=1 adds Ringside with `--record FILE
# --inputs-only` (a trace of the run's inputs only) the same way.
#
# Method: each run gets '\nusertests\n' on its standard input (xv6 drops a byte that arrives
# before its UART driver runs, hence the leading newline) and its output goes to a file that is
# watched (every 50 ms); when "ALL TESTS PASSED" appears, the emulator's CPU time (user + system
# of all its threads, /proc/PID/stat, in clock ticks) is read and the emulator is killed (xv6
# then sits at its shell forever). The time therefore includes booting xv6 (a small part) and
# up to 50 ms idling at the shell, the same for both. CPU time, not wall time: the host is
# shared. Repetitions alternate which emulator goes first; medians are printed.
set -u

ringside=${1:-}
kernel=${2:-}
reps=${3:-3}
if [ -z "$ringside" ] || [ -z "$kernel" ]; then
    echo "usage: $0 RINGSIDE KERNEL [REPS]" >&2
    exit 2
fi
for f in "$ringside" "$kernel"; do
    [ -e "$f" ] || { echo "xv6-usertests: $f not found" >&2; exit 2; }
done
qemu=${QEMU:-qemu-system-i386}
limit=${LIMIT:-900}
base=${BASE:-}
if [ -n "$base" ] && [ ! -x "$base" ]; then
    echo "xv6-usertests: BASE=$base is not an executable" >&2
    exit 2
fi
have_qemu=1
command -v "$qemu" >/dev/null 2>&1 || { have_qemu=0; echo "xv6-usertests: $qemu not found, Ringside only" >&2; }
tick=$(getconf CLK_TCK)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/xv6bench.XXXXXX") || exit 2
pid=
cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

printf '\nusertests\n' >"$tmp/input"

start() { # EMU: starts one run in the background, its pid in $pid
    case $1 in
    ringside) "$ringside" run "$kernel" --log unimp <"$tmp/input" >"$tmp/out" 2>"$tmp/err" & ;;
    base) "$base" run "$kernel" --log unimp <"$tmp/input" >"$tmp/out" 2>"$tmp/err" & ;;
    record) "$ringside" run "$kernel" --log unimp --record "$tmp/rec.rtrace" <"$tmp/input" \
                >"$tmp/out" 2>"$tmp/err" & ;;
    inputs) "$ringside" run "$kernel" --log unimp --record "$tmp/in.rtrace" --inputs-only \
                <"$tmp/input" >"$tmp/out" 2>"$tmp/err" & ;;
    qemu) "$qemu" -accel tcg -kernel "$kernel" -m 256 -display none -serial stdio -monitor none \
              -no-reboot <"$tmp/input" >"$tmp/out" 2>"$tmp/err" & ;;
    esac
    pid=$!
}

cpu_ticks() { # PID -> utime + stime of the whole process (all threads), in clock ticks
    # Fields after the command name (which is in parentheses and may hold spaces): utime is
    # the 14th field of the line, stime the 15th.
    sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}

timed() { # EMU: one run; its CPU time in seconds appended to $tmp/EMU
    local emu=$1 ticks=
    start "$emu"
    SECONDS=0
    while kill -0 "$pid" 2>/dev/null; do
        if grep -q "ALL TESTS PASSED" "$tmp/out"; then
            ticks=$(cpu_ticks "$pid")
            break
        fi
        if [ "$SECONDS" -ge "$limit" ]; then
            echo "xv6-usertests: $emu did not pass usertests within ${limit}s; its last output:" >&2
            tail -n 5 "$tmp/out" "$tmp/err" >&2
            exit 1
        fi
        sleep 0.05
    done
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    pid=
    if [ -z "$ticks" ]; then
        echo "xv6-usertests: $emu ended without \"ALL TESTS PASSED\"; its last output:" >&2
        tail -n 5 "$tmp/out" "$tmp/err" >&2
        exit 1
    fi
    awk -v t="$ticks" -v hz="$tick" 'BEGIN { printf "%.2f\n", t / hz }' >>"$tmp/$emu"
    echo "  $emu run: $(tail -n 1 "$tmp/$emu") s CPU" >&2
}

median() { sort -g "$1" | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

emus="ringside"
[ "$have_qemu" -eq 1 ] && emus="$emus qemu"
[ -n "$base" ] && emus="$emus base"
[ "${RECORD:-0}" = 1 ] && emus="$emus record"
[ "${INPUTS:-0}" = 1 ] && emus="$emus inputs"
reversed=$(echo "$emus" | tr ' ' '\n' | tac | tr '\n' ' ')
load0=$(cut -d' ' -f1-3 /proc/loadavg)
for r in $(seq "$reps"); do
    order=$emus
    [ $((r % 2)) -eq 0 ] && order=$reversed
    for emu in $order; do
        timed "$emu"
    done
done

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
echo "host: $cpu, $(nproc) cores, $(uname -sr), load average $load0 (start), $(cut -d' ' -f1-3 /proc/loadavg) (end)"
echo "kernel: $kernel"
echo "ringside: $("$ringside" --version 2>&1 | head -n 1) ($ringside)"
[ "$have_qemu" -eq 1 ] && echo "qemu: $("$qemu" --version | head -n 1) (TCG)"
[ -n "$base" ] && echo "base: $base"
echo "method: CPU time (user+system) until \"ALL TESTS PASSED\", median of $reps interleaved runs"
echo
rs=$(median "$tmp/ringside")
printf '| %-10s | %12s | %-40s |\n' emulator "CPU time" "runs (s)"
printf '|%s|%s|%s|\n' "------------" "-------------:" "------------------------------------------"
for emu in $emus; do
    printf '| %-10s | %10.2f s | %-40s |\n' "$emu" "$(median "$tmp/$emu")" "$(tr '\n' ' ' <"$tmp/$emu")"
done
echo
if [ "$have_qemu" -eq 1 ]; then
    awk -v r="$rs" -v q="$(median "$tmp/qemu")" 'BEGIN { printf "Ringside / QEMU: %.2fx the time\n", r / q }'
fi
if [ -n "$base" ]; then
    awk -v r="$rs" -v b="$(median "$tmp/base")" 'BEGIN { printf "Ringside / BASE: %.2fx the time\n", r / b }'
fi
if [ "${RECORD:-0}" = 1 ]; then
    awk -v r="$rs" -v w="$(median "$tmp/record")" 'BEGIN { printf "RECORD / Ringside: %.2fx the time\n", w / r }'
fi
if [ "${INPUTS:-0}" = 1 ]; then
    awk -v r="$rs" -v w="$(median "$tmp/inputs")" 'BEGIN { printf "INPUTS / Ringside: %.2fx the time\n", w / r }'
fi
