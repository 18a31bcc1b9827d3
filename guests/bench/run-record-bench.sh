#!/usr/bin/env bash
# What recording costs: the run time of the demo and of a compute guest (bench.elf, about 500M
# instructions, few transitions) without and with --record (best of R runs each), the trace's
# size per event, the same recorded zstd-compressed (--record FILE.zst) and of the inputs only
# (--record FILE --inputs-only), and how fast `ringside replay` re-runs and compares it. A benchmark, not a
# test: it prints figures (the goal is <= 10% recording overhead).
#
#   guests/bench/run-record-bench.sh [RINGSIDE [R]]
set -u
ringside=${1:-build/ringside}
reps=${2:-3}
dir=$(dirname "$ringside")/guests
for f in "$ringside" "$dir/kernel.elf" "$dir/bench.elf"; do
    [ -e "$f" ] || { echo "run-record-bench: $f not found (build first)" >&2; exit 2; }
done
ringside=$(cd "$(dirname "$ringside")" && pwd)/$(basename "$ringside")
tmp=$(mktemp -d "${TMPDIR:-/tmp}/recbench.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT

now() { date +%s.%N; }
best() { # best wall time of $reps runs of "$@" (stdout to /dev/null)
    local b="" t0 t1 t
    for _ in $(seq "$reps"); do
        t0=$(now); "$@" >/dev/null 2>&1 </dev/null; t1=$(now)
        t=$(echo "$t1 - $t0" | bc -l)
        if [ -z "$b" ] || [ "$(echo "$t < $b" | bc -l)" -eq 1 ]; then b=$t; fi
    done
    echo "$b"
}

bench() { # NAME, then the ringside arguments
    local name=$1; shift
    local plain rec rep size events insns recz sizez reci sizei
    plain=$(best "$ringside" "$@")
    reci=$(best "$ringside" "$@" --record "$tmp/$name.in.rtrace" --inputs-only)
    sizei=$(stat -c %s "$tmp/$name.in.rtrace")
    rec=$(best "$ringside" "$@" --record "$tmp/$name.rtrace")
    recz=$(best "$ringside" "$@" --record "$tmp/$name.rtrace.zst")
    sizez=$(stat -c %s "$tmp/$name.rtrace.zst")
    rep=$(best "$ringside" replay "$tmp/$name.rtrace")
    size=$(stat -c %s "$tmp/$name.rtrace")
    events=$("$ringside" log "$tmp/$name.rtrace" --format jsonl | wc -l)
    insns=$("$ringside" "$@" --stats 2>&1 >/dev/null </dev/null |
            sed -n 's/^ringside: \([0-9]*\) instructions in .*/\1/p')
    awk -v n="$name" -v p="$plain" -v r="$rec" -v q="$rep" -v s="$size" -v e="$events" \
        -v i="$insns" -v rz="$recz" -v sz="$sizez" -v ri="$reci" -v si="$sizei" 'BEGIN {
        printf "%-8s %12d insns %7d events  run %.3f s  recorded %.3f s (%+.1f%%)  ", n, i, e, p, r, (r - p) * 100 / p
        printf "%.1f bytes/event (%d bytes)  replay %.3f s (%.0f events/s, %.1f MIPS)\n", \
               e ? s / e : 0, s, q, e / q, i / q / 1e6
        printf "%-8s zstd: recorded %.3f s (%+.1f%%)  %.1f bytes/event (%d bytes, %.1fx smaller)\n", \
               n, rz, (rz - p) * 100 / p, e ? sz / e : 0, sz, sz ? s / sz : 0
        printf "%-8s inputs only: recorded %.3f s (%+.1f%%)  %d bytes\n", n, ri, (ri - p) * 100 / p, si }'
}

echo "run-record-bench: best of $reps runs each, on $(nproc) cores (load: $(cut -d' ' -f1-3 /proc/loadavg))"
bench demo demo
bench bench run "$dir/bench.elf"
