#!/bin/sh
# Records tests/diff/corpus.rsdc: differential cases with the results of an oracle, which
# `ctest -R diff_corpus` then replays against Ringside on any host, with no oracle at all.
#
#   sh scripts/record-diff-corpus.sh [auto|hardware|qemu-i386]
#
# auto (the default) uses the host CPU when this machine runs i386 programs and reports their
# faults as a CPU does, else qemu-i386. The corpus header names the oracle that produced it.
set -eu
cd "$(dirname "$0")/.."
oracle=${1:-auto}
sh scripts/setup.sh
echo "record-diff-corpus: building diff_test" >&2
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target diff_test >build/build.log 2>&1 || { cat build/build.log; exit 1; }
echo "record-diff-corpus: running 150000 cases against the oracle ($oracle)" >&2
RINGSIDE_DIFF_SEED=0x434F5250 ./build/tests/diff/diff_test --oracle "$oracle" \
    --record tests/diff/corpus.rsdc build/tests/diff/native_runner 150000
head -n 8 tests/diff/corpus.rsdc
