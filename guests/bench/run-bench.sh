#!/usr/bin/env bash
# Runs the benchmark guest on Ringside and prints its speed. A benchmark, not a test: it
# prints figures and fails only if the guest itself fails (wrong checksum) or cannot run.
#
#   guests/bench/run-bench.sh [RINGSIDE [IMAGE]]
#
# Defaults: RINGSIDE = ./build/ringside, IMAGE = guests/bench.elf next to RINGSIDE.
# Prints the guest's checksum line, the MIPS line of `ringside run IMAGE --stats`, and the
# wall-clock time of the whole run.
set -u

ringside=${1:-build/ringside}
image=${2:-$(dirname "$ringside")/guests/bench.elf}
for f in "$ringside" "$image"; do
    if [ ! -e "$f" ]; then
        echo "run-bench: $f not found (build first)" >&2
        exit 2
    fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT

start=$(date +%s.%N)
"$ringside" run "$image" --stats </dev/null >"$tmp/out" 2>"$tmp/err"
status=$?
end=$(date +%s.%N)

grep -h 'checksum' "$tmp/out"
if ! grep -hi 'mips' "$tmp/out" "$tmp/err"; then
    echo "run-bench: no MIPS line in the --stats output; it was:"
    cat "$tmp/err"
fi
awk -v s="$start" -v e="$end" \
    'BEGIN { printf "wall clock: %.2f s (whole run, incl. loading)\n", e - s }'
if [ "$status" -ne 1 ]; then
    echo "run-bench: ringside exited with status $status (want 1: the guest passed)" >&2
    tail -n 5 "$tmp/out" >&2
    exit 1
fi
