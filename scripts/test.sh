#!/bin/sh
# Sets up what is missing, builds Ringside twice (optimised, and with AddressSanitizer +
# UndefinedBehaviorSanitizer) and runs every test in both builds with ctest. Both builds run
# even when the first fails; one summary of both comes at the end, and the exit status is
# non-zero if either failed.
# Environment: RINGSIDE_DIFF_CASES=N runs N differential cases instead of the quick subset.
set -u
cd "$(dirname "$0")/.."
sh scripts/setup.sh || { echo "test: setup failed" >&2; exit 1; }
jobs=$(nproc)
summary=""
failed=0
for cfg in build:OFF build-asan:ON; do
    dir=${cfg%%:*}
    san=${cfg##*:}
    echo "== $dir (sanitizers $san): configuring and building"
    mkdir -p "$dir"
    if ! cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRINGSIDE_SANITIZE="$san" \
            >"$dir/configure.log" 2>&1; then
        cat "$dir/configure.log"
        summary="$summary
$dir: configuration failed"
        failed=1
        continue
    fi
    if ! cmake --build "$dir" -j"$jobs" >"$dir/build.log" 2>&1; then
        cat "$dir/build.log"
        summary="$summary
$dir: build failed"
        failed=1
        continue
    fi
    echo "== $dir: running the tests"
    { ctest --test-dir "$dir" -j"$jobs" --output-on-failure </dev/null; echo $? >"$dir/ctest.status"; } \
        2>&1 | tee "$dir/ctest.log"
    [ "$(cat "$dir/ctest.status")" = 0 ] || failed=1
    line=$(grep -E "tests passed|No tests were found" "$dir/ctest.log" | tail -n 1)
    summary="$summary
$dir: ${line:-ctest printed no summary}"
    # What the differential tests proved, as they printed it.
    oracle=$(grep -hE "^diff: (oracle|corpus)=" "$dir/Testing/Temporary/LastTest.log" 2>/dev/null |
             grep -v ", 0 cases,")
    [ -z "$oracle" ] || summary="$summary
$oracle"
done
# Every fuzz target for a bounded number of executions under ASan+UBSan (clang): scripts/fuzz.sh.
echo "== build-fuzz: each fuzz target for a few thousand executions (scripts/fuzz.sh --ci)"
mkdir -p build-fuzz
{ sh scripts/fuzz.sh --ci; echo $? >build-fuzz/ci.status; } 2>&1 | tee build-fuzz/ci.log
[ "$(cat build-fuzz/ci.status)" = 0 ] || failed=1
summary="$summary
$(grep -E "^   fuzz_[a-z0-9_]*: |^fuzz: " build-fuzz/ci.log)"
echo "== summary"
echo "$summary" | sed '/^$/d'
exit $failed
