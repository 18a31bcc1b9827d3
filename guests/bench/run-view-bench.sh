#!/usr/bin/env bash
# The trace view's speed on a trace of about 10^6 events: the demo kernel running
# user/sysbench N (default 250000: N system calls by int $0x80 and N by sysenter, each an
# entry and a return) recorded with --record, then view_bench: the open time and the frames per
# second while zooming and panning (software renderer, 1600x1000). A benchmark, not a test.
#
#   guests/bench/run-view-bench.sh [RINGSIDE [N]]
set -u
ringside=${1:-build/ringside}
n=${2:-250000}
build=$(dirname "$ringside")
dir=$build/guests
bench=$build/tests/view/view_bench
for f in "$ringside" "$dir/kernel.elf" "$dir/user/sysbench.elf" "$bench"; do
    [ -e "$f" ] || { echo "run-view-bench: $f not found (build first)" >&2; exit 2; }
done
ringside=$(cd "$build" && pwd)/$(basename "$ringside")
tmp=$(mktemp -d "${TMPDIR:-/tmp}/viewbench.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
(cd "$dir" && "$ringside" run kernel.elf --append "init=sysbench" \
    --module "user/sysbench.elf $n" --record "$tmp/big.rtrace" </dev/null >/dev/null 2>&1)
[ -s "$tmp/big.rtrace" ] || { echo "run-view-bench: recording failed" >&2; exit 1; }
echo "run-view-bench: on $(nproc) cores (load: $(cut -d' ' -f1-3 /proc/loadavg))"
"$bench" "$tmp/big.rtrace"
