#!/bin/sh
# Sets up what is missing, builds Ringside twice (optimised, and with AddressSanitizer +
# UndefinedBehaviorSanitizer) and runs every test in both builds with ctest.
# Environment: RINGSIDE_DIFF_CASES=N runs N differential cases instead of the quick subset.
set -eu
cd "$(dirname "$0")/.."
sh scripts/setup.sh
jobs=$(nproc)
for cfg in build:OFF build-asan:ON; do
    dir=${cfg%%:*}
    san=${cfg##*:}
    echo "== $dir (sanitizers $san)"
    cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRINGSIDE_SANITIZE="$san" >/dev/null
    cmake --build "$dir" -j"$jobs" >"$dir/build.log" 2>&1 || { cat "$dir/build.log"; exit 1; }
    ctest --test-dir "$dir" -j"$jobs" --output-on-failure </dev/null
done
