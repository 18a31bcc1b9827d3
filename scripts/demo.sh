#!/bin/sh
# Sets up what is missing, builds Ringside and runs the bundled demo guest.
set -eu
cd "$(dirname "$0")/.."
sh scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >build/build.log 2>&1 || { cat build/build.log; exit 1; }
status=0
./build/ringside demo --stats "$@" || status=$?
# The demo guest ends through QEMU's isa-debug-exit with value 0, i.e. status (0 << 1) | 1 = 1.
[ "$status" -eq 1 ] || { echo "demo: unexpected exit status $status" >&2; exit 1; }
