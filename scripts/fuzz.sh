#!/bin/sh
# Builds and runs the libFuzzer targets of tests/fuzz (docs/fuzzing.md) with clang, ASan and
# UBSan, in build-fuzz/.
#
#   sh scripts/fuzz.sh --ci [TARGET...]        a bounded number of executions per target
#                                              (seconds), starting from the checked-in corpus,
#                                              which it does not change; fails on any finding
#   sh scripts/fuzz.sh [--time S] [TARGET...]  fuzz each target for S seconds (default 600),
#                                              then merge what found new coverage into
#                                              tests/fuzz/corpus/TARGET/ (review and commit it)
#   sh scripts/fuzz.sh --build [TARGET...]     only configure and build the targets in build-fuzz/
#                                              (scripts/test.sh builds them beside its other builds)
#   sh scripts/fuzz.sh --coverage [TARGET...]  replay the corpora in a clang coverage build
#                                              (build-cov/) and print llvm-cov's branch
#                                              coverage of deliver.c, task.c and segment.c and
#                                              the src/cpu functions no input reaches
#
# A finding (crash, sanitizer report, failed property, timeout) is written as
# build-fuzz/findings/TARGET-crash-... ; once fixed, copy it to tests/fuzz/regress/TARGET/,
# where ctest replays it in every build (fuzz_replay.TARGET).
# Environment: FUZZ_JOBS (default 1) parallel fuzzing jobs per target without --ci;
# FUZZ_CI_RUNS_cpu / _loader / _gdbpacket / _cli ... (or FUZZ_CI_RUNS for all) the executions per
# target with --ci (defaults 2000, 5000, 2000, 20000 for the others; each capped at 45, 20, 20,
# 15 s). An input may take 30 s (-timeout) on a loaded machine.
set -eu
cd "$(dirname "$0")/.."

mode=fuzz
seconds=600
targets=""
while [ $# -gt 0 ]; do
    case "$1" in
    --ci) mode=ci ;;
    --coverage) mode=coverage ;;
    --build) mode=build ;;
    --time) [ $# -ge 2 ] || { echo "fuzz: --time needs a number of seconds" >&2; exit 2; }
            seconds=$2; shift ;;
    --time=*) seconds=${1#--time=} ;;
    -h|--help) sed -n '2,/^set -eu/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) echo "fuzz: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) targets="$targets $1" ;;
    esac
    shift
done
case "$seconds" in ''|*[!0-9]*) echo "fuzz: --time needs a number of seconds, not '$seconds'" >&2; exit 2 ;; esac
all=$(sed -n 's/^ringside_fuzz_target(\([a-z0-9_]*\).*/\1/p' tests/fuzz/CMakeLists.txt)
[ -n "$targets" ] || targets=$all
for t in $targets; do
    echo "$all" | grep -qx "$t" || { echo "fuzz: no target '$t' (targets: $(echo $all))" >&2; exit 2; }
done
command -v clang >/dev/null 2>&1 || { echo "fuzz: clang is not installed (sh scripts/setup.sh)" >&2; exit 2; }
jobs=$(nproc 2>/dev/null || echo 1)
[ "$jobs" -le 2 ] || jobs=2

if [ "$mode" = coverage ]; then
    dir=build-cov
    mkdir -p $dir
    cmake -S . -B $dir -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DCMAKE_C_FLAGS="-fprofile-instr-generate -fcoverage-mapping" >$dir/configure.log 2>&1 ||
        { cat $dir/configure.log; exit 1; }
    bins=""
    for t in $targets; do bins="$bins replay_$t"; done
    # shellcheck disable=SC2086
    cmake --build $dir -j"$jobs" --target $bins >$dir/build.log 2>&1 || { cat $dir/build.log; exit 1; }
    rm -rf $dir/profiles && mkdir -p $dir/profiles
    objects=""
    for t in $targets; do
        set -- tests/fuzz/corpus/$t
        [ -d tests/fuzz/regress/$t ] && set -- "$@" tests/fuzz/regress/$t
        LLVM_PROFILE_FILE=$dir/profiles/$t.profraw $dir/tests/fuzz/replay_$t "$@" 2>/dev/null
        # llvm-cov takes the first binary plainly, every further one after -object.
        if [ -z "$objects" ]; then objects=$dir/tests/fuzz/replay_$t
        else objects="$objects -object $dir/tests/fuzz/replay_$t"; fi
    done
    llvm-profdata merge -sparse $dir/profiles/*.profraw -o $dir/profiles/all.profdata
    echo "== branch coverage (llvm-cov report, corpora of: $(echo $targets))"
    # shellcheck disable=SC2086
    llvm-cov report $objects -instr-profile=$dir/profiles/all.profdata -show-branch-summary \
        src/cpu/deliver.c src/cpu/task.c src/cpu/segment.c src/cpu/system.c src/cpu/control.c
    echo "== src/cpu functions no input reaches"
    # shellcheck disable=SC2086
    llvm-cov report $objects -instr-profile=$dir/profiles/all.profdata -show-functions \
        src/cpu/*.c | awk 'NF >= 4 && $4 == "0.00%" {print "  " $1}'
    exit 0
fi

dir=build-fuzz
mkdir -p $dir
cmake -S . -B $dir -DCMAKE_C_COMPILER=clang -DRINGSIDE_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    >$dir/configure.log 2>&1 || { cat $dir/configure.log; exit 1; }
bins=""
for t in $targets; do bins="$bins fuzz_$t"; done
# shellcheck disable=SC2086
cmake --build $dir -j"$jobs" --target $bins >$dir/build.log 2>&1 || { cat $dir/build.log; exit 1; }
[ "$mode" != build ] || exit 0
mkdir -p $dir/findings

failed=0
for t in $targets; do
    dict=""
    [ -f tests/fuzz/$t.dict ] && dict="-dict=tests/fuzz/$t.dict"
    seeds=tests/fuzz/corpus/$t
    work=$dir/work-$t
    rm -rf "$work" && mkdir -p "$work"
    log=$dir/fuzz-$t.log
    if [ "$mode" = ci ]; then
        runs=$(eval echo "\${FUZZ_CI_RUNS_$t:-\${FUZZ_CI_RUNS:-}}")
        # Executions, and a cap in seconds for a loaded machine: about 80 s in all.
        case $t in
        cpu) runs=${runs:-2000}; cap=45 ;;
        loader) runs=${runs:-5000}; cap=20 ;;
        gdbpacket) runs=${runs:-2000}; cap=20 ;; # a machine per input, resumes run it
        *) runs=${runs:-20000}; cap=15 ;;
        esac
        # New inputs go to the scratch directory; the checked-in corpus is only read.
        # shellcheck disable=SC2086
        set -- -runs="$runs" -max_total_time=$cap -timeout=30 -max_len=4096 -print_final_stats=1 \
               -artifact_prefix=$dir/findings/$t- $dict "$work" "$seeds"
        echo "== fuzz_$t $*"
        if ! $dir/tests/fuzz/fuzz_$t "$@" >"$log" 2>&1; then
            tail -n 40 "$log"
            echo "fuzz: fuzz_$t found something: $dir/findings/" >&2
            failed=1
        fi
    else
        # shellcheck disable=SC2086
        set -- -max_total_time="$seconds" -timeout=30 -max_len=4096 -print_final_stats=1 \
               -jobs="${FUZZ_JOBS:-1}" -workers="${FUZZ_JOBS:-1}" \
               -artifact_prefix=$dir/findings/$t- $dict "$work" "$seeds"
        echo "== fuzz_$t $*"
        $dir/tests/fuzz/fuzz_$t "$@" >"$log" 2>&1 || { tail -n 40 "$log"; failed=1; }
        # Keep what adds coverage: merge the scratch directory into the checked-in corpus.
        $dir/tests/fuzz/fuzz_$t -merge=1 "$seeds" "$work" >>"$log" 2>&1
        echo "   corpus now $(ls "$seeds" | wc -l) files (git status tests/fuzz/corpus)"
    fi
    # The figures: executions, executions per second, edges reached.
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
    echo "   fuzz_$t: ${execs:-?} executions, ${speed:-?} exec/s, ${cov:-?} edges"
done
exit $failed
