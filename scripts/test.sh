#!/bin/sh
# Sets up what is missing, builds Ringside twice (optimised, and with AddressSanitizer +
# UndefinedBehaviorSanitizer) and the fuzz targets once (clang), all three side by side, then
# runs every test in both builds with ctest and each fuzz target for a bounded number of
# executions. Both test runs happen even when the first fails; one summary comes at the end,
# and the exit status is non-zero if anything failed.
# Environment: RINGSIDE_DIFF_CASES=N runs N differential cases instead of the quick subset.
set -u
cd "$(dirname "$0")/.."
sh scripts/setup.sh || { echo "test: setup failed" >&2; exit 1; }
jobs=$(nproc)
summary=""
failed=0
now() { date +%s; }
# The three builds (plain, ASan+UBSan, and scripts/fuzz.sh's clang libFuzzer build) run side by
# side: each has one long compile (src/cpu/control.c's generated handlers) during which a
# build alone would leave a core idle. Each writes DIR/configure.log and DIR/build.log and
# DIR/build.status (0 when it built).
build_dir() { # DIR SANITIZE
    t0=$(now)
    mkdir -p "$1"
    rm -f "$1/build.status"
    if ! cmake -S . -B "$1" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRINGSIDE_SANITIZE="$2" \
            >"$1/configure.log" 2>&1; then
        echo "== $1: configuration failed"; cat "$1/configure.log"; echo 1 >"$1/build.status"; return
    fi
    if ! cmake --build "$1" -j"$jobs" >"$1/build.log" 2>&1; then
        echo "== $1: build failed"; cat "$1/build.log"; echo 1 >"$1/build.status"; return
    fi
    echo "== $1: built in $(( $(now) - t0 )) s"
    echo 0 >"$1/build.status"
}
build_fuzz() {
    t0=$(now)
    mkdir -p build-fuzz
    if sh scripts/fuzz.sh --build >build-fuzz/build-step.log 2>&1; then
        echo "== build-fuzz: built in $(( $(now) - t0 )) s"
    else
        echo "== build-fuzz: build failed (scripts/fuzz.sh --ci below says why)"
    fi
}
t0=$(now)
echo "== building build (plain), build-asan (ASan+UBSan) and build-fuzz (clang, libFuzzer)" \
     "side by side: a few minutes on 2 cores (logs: DIR/build.log)"
build_dir build OFF &
build_dir build-asan ON &
build_fuzz &
wait
echo "== all builds done in $(( $(now) - t0 )) s"
for dir in build build-asan; do
    if [ "$(cat "$dir/build.status" 2>/dev/null)" != 0 ]; then
        summary="$summary
$dir: build failed"
        failed=1
        continue
    fi
    t0=$(now)
    echo "== $dir: running the tests"
    { ctest --test-dir "$dir" -j"$jobs" --output-on-failure </dev/null; echo $? >"$dir/ctest.status"; } \
        2>&1 | tee "$dir/ctest.log"
    echo "== $dir: tests took $(( $(now) - t0 )) s"
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
