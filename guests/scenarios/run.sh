#!/usr/bin/env bash
# Runs the demo kernel's scenarios (NAME.scn in this directory) and checks them.
#
#   run.sh [--update | --qemu | --vs-qemu | --show] [--ringside EXE] BUILD [NAME...]
#
# For each scenario (all of them if no NAME is given) it boots BUILD/guests/KERNEL on
# Ringside with the scenario's modules (BUILD/guests/user/NAME.elf) and command line, feeds
# it the scenario's input file (or nothing), and compares the console output with NAME.out
# and the exit status with `status`, and the transitions Ringside logs (`--log int`) with the
# golden file NAME.int; a mismatch there shows the first differing event. Each run is also
# recorded (--record): `ringside replay` must find every event identical, and `ringside log` of
# the trace must print exactly NAME.int, the live log. --update writes
# NAME.out and NAME.int instead of comparing: review the change (git diff) before committing
# it — the tests never regenerate a golden file themselves.
# --show shows a scenario to a person: what it is about, the command, the guest's console
# output, then its transitions from the recorded trace (`ringside log`), and where the trace is
# kept (so `ringside log/replay/export` can look at it again).
# --qemu runs the same scenario under qemu-system-i386 and only shows its output: QEMU's timer
# and TSC follow the wall clock, so where the timer interrupts differs from run to run.
# --vs-qemu runs it on both with the same instruction-driven clock (QEMU -icount shift=3, i.e.
# 8 ns per instruction, and Ringside --ips 125000000) and compares the two outputs, minus the
# RDTSC figures (QEMU's TSC counts nanoseconds there, Ringside's instructions), the pushed
# EFLAGS of a kernel fault (Ringside sets RF in it, as the SDM says; QEMU does not) and CR3
# (the loaders place modules differently). Console input is paced differently (Ringside feeds
# one byte per character time, QEMU as fast as the receiver takes them), so scenarios with
# input differ. (QEMU's -icount counts each iteration of a REP string instruction, Ringside the
# instruction: the kernel and the programs avoid REP so that the timer falls alike.)
#
# Scenario format: one `key = value` per line, '#' starts a comment line.
#   kernel = kernel.elf            the image, in BUILD/guests (default kernel.elf)
#   module = NAME [ARGS]           a Multiboot module: BUILD/guests/user/NAME.elf (repeatable)
#   cmdline = init=a,b ...         the kernel command line
#   input = FILE                   console input, a file in this directory (default: none)
#   status = N                     expected exit status (1 = the kernel wrote 0 to port 0xF4)
#   max_insns = N                  instruction budget on Ringside (default 2000000000)
#   about = TEXT                   what the scenario shows (for people)
set -u

here=$(cd "$(dirname "$0")" && pwd)
update=0 qemu=0 vs=0 show=0 ringside=""
while [ $# -gt 0 ]; do
    case "$1" in
    --update) update=1; shift ;;
    --qemu) qemu=1; shift ;;
    --vs-qemu) vs=1; shift ;;
    --show) show=1; shift ;;
    --ringside) ringside="$2"; shift 2 ;;
    -h|--help) sed -n '2,32p' "$0"; exit 0 ;;
    -*) echo "run.sh: unknown option '$1'" >&2; exit 2 ;;
    *) break ;;
    esac
done
if [ $# -lt 1 ]; then
    echo "usage: run.sh [--update | --qemu | --vs-qemu | --show] [--ringside EXE] BUILD [NAME...]" >&2
    exit 2
fi
build=$(cd "$1" && pwd) || exit 2
shift
[ -n "$ringside" ] || ringside="$build/ringside"
ringside=$(cd "$(dirname "$ringside")" && pwd)/$(basename "$ringside") || exit 2
if [ $# -eq 0 ]; then
    set -- $(cd "$here" && ls *.scn | sed 's/\.scn$//')
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/scenario.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT

# What differs between QEMU and Ringside by design (see --vs-qemu).
tsc_filter() {
    sed -E 's/(tsc user )[0-9]+( sys )[0-9]+/\1N\2N/
            s/(tsc per call: int \$0x80 )[0-9]+(, sysenter )[0-9]+/\1N\2N/
            /^ +[0-9]+ [^ ]+ +(exit|killed|cpu)/s/ +[0-9]+ +[0-9]+$//
            /^ +0 \(boot\+idle\)/s/ +[0-9]+$//
            s/eflags=0x000[01]/eflags=0x000?/
            s/cr3=0x[0-9a-f]+/cr3=?/' "$1"
}

failed=0
for name in "$@"; do
    scn="$here/$name.scn"
    if [ ! -r "$scn" ]; then
        echo "run.sh: no scenario $scn" >&2
        failed=$((failed + 1))
        continue
    fi
    kernel=kernel.elf cmdline="" input="" status=1 max_insns=2000000000 about=""
    modules=()
    while IFS= read -r line || [ -n "$line" ]; do
        case "$line" in ''|'#'*) continue ;; esac
        key=$(printf '%s' "${line%%=*}" | sed 's/[[:space:]]*$//')
        val=$(printf '%s' "${line#*=}" | sed 's/^[[:space:]]*//; s/[[:space:]]*$//')
        case "$key" in
        kernel) kernel="$val" ;;
        module) modules+=("$val") ;;
        cmdline) cmdline="$val" ;;
        input) input="$here/$val" ;;
        status) status="$val" ;;
        max_insns) max_insns="$val" ;;
        about) about="$val" ;;
        *) echo "run.sh: $name.scn: unknown key '$key'" >&2; exit 2 ;;
        esac
    done <"$scn"
    [ -n "$input" ] || input=/dev/null

    # The runs use paths relative to BUILD/guests: the loader passes the kernel's path (in the
    # command line) and the module strings to the kernel, which reads them before it starts
    # the timer, so their lengths would shift where the timer interrupts fall.
    initrd=""
    for m in "${modules[@]}"; do
        prog=${m%% *} rest=""
        [ "$prog" != "$m" ] && rest=" ${m#* }"
        initrd="${initrd:+$initrd,}user/$prog.elf$rest"
    done
    qemu_cmd=(qemu-system-i386 -kernel "$kernel" -initrd "$initrd"
              -append "$cmdline" -serial stdio -display none -no-reboot
              -device isa-debug-exit,iobase=0xf4,iosize=0x04)
    if [ "$qemu" -eq 1 ]; then
        echo "=== $name (QEMU)"
        (cd "$build/guests" && timeout 60 "${qemu_cmd[@]}") <"$input"
        echo "=== $name: exit status $? (want $status)"
        continue
    fi

    args=(run "$kernel" --append "$cmdline" --max-insns "$max_insns")
    for m in "${modules[@]}"; do
        prog=${m%% *} rest=""
        [ "$prog" != "$m" ] && rest=" ${m#* }"
        args+=(--module "user/$prog.elf$rest")
    done
    if [ "$vs" -eq 1 ]; then
        (cd "$build/guests" && timeout 60 "${qemu_cmd[@]}" -icount shift=3,sleep=off) \
            <"$input" >"$tmp/qemu" 2>"$tmp/err"
        qgot=$?
        (cd "$build/guests" && "$ringside" "${args[@]}" --ips 125000000) \
            <"$input" >"$tmp/out" 2>>"$tmp/err"
        got=$?
        tsc_filter "$tmp/qemu" >"$tmp/qemu.f"
        tsc_filter "$tmp/out" >"$tmp/out.f"
        if diff -u --label QEMU --label Ringside "$tmp/qemu.f" "$tmp/out.f" && [ "$got" -eq "$qgot" ]; then
            echo "$name: same on QEMU and Ringside"
        else
            echo "$name: DIFFERENT (exit status QEMU $qgot, Ringside $got)" >&2
            failed=$((failed + 1))
        fi
        continue
    fi

    if [ "$show" -eq 1 ]; then
        keep="${TMPDIR:-/tmp}/scenario-$name.rtrace"
        echo "=== $name: $about"
        echo "=== (cd $build/guests && ringside $(printf '%q ' "${args[@]}")--record $keep)"
        (cd "$build/guests" && "$ringside" "${args[@]}" --record "$keep") <"$input"
        got=$?
        echo "=== exit status $got (want $status); the transitions, from the trace:"
        "$ringside" log "$keep"
        echo "=== the trace is $keep: ringside log|replay|export $keep"
        continue
    fi

    (cd "$build/guests" && "$ringside" "${args[@]}" --log int --log-file "$tmp/int" \
        --record "$tmp/trace") <"$input" >"$tmp/out" 2>"$tmp/err"
    got=$?
    if [ "$update" -eq 1 ]; then
        cp "$tmp/out" "$here/$name.out"
        cp "$tmp/int" "$here/$name.int"
        echo "$name: wrote $name.out and $name.int (exit status $got, want $status)"
        [ "$got" -eq "$status" ] || failed=$((failed + 1))
        continue
    fi
    ok=1
    if ! diff -u --label "expected ($name.out)" --label actual "$here/$name.out" "$tmp/out"; then
        ok=0
    fi
    if [ ! -r "$here/$name.int" ]; then
        echo "$name: no golden $name.int (make it with run.sh --update and review it)" >&2
        ok=0
    elif ! cmp -s "$here/$name.int" "$tmp/int"; then
        # The first differing event, with the one before it for context.
        line=$(cmp "$here/$name.int" "$tmp/int" 2>&1 | sed -n 's/.* line \([0-9]*\).*/\1/p')
        [ -n "$line" ] || line=$(( $(wc -l <"$here/$name.int") + 1 ))
        echo "$name: transitions differ from $name.int at event $line:" >&2
        [ "$line" -gt 1 ] && echo "   before:   $(sed -n "$((line - 1))p" "$here/$name.int")" >&2
        echo "   expected: $(sed -n "${line}p" "$here/$name.int")" >&2
        echo "   actual:   $(sed -n "${line}p" "$tmp/int")" >&2
        ok=0
    fi
    if [ "$got" -ne "$status" ]; then
        echo "$name: exit status $got, want $status" >&2
        ok=0
    fi
    # The recorded trace: it replays event for event, and its log is the live log.
    if ! "$ringside" replay "$tmp/trace" >"$tmp/replay" 2>&1 ||
        ! grep -q "^replay: [0-9,]* events identical" "$tmp/replay"; then
        echo "$name: the recorded trace does not replay:" >&2
        head -n 5 "$tmp/replay" >&2
        ok=0
    fi
    # `ringside log` of the trace prints exactly the live --log int lines: names, symbols,
    # system calls, IRQ lines, pairing and triple-fault steps come from the trace.
    if ! "$ringside" log "$tmp/trace" >"$tmp/log" 2>>"$tmp/err" ||
        ! cmp -s "$tmp/log" "$tmp/int"; then
        echo "$name: 'ringside log' of the trace differs from the live --log int:" >&2
        diff "$tmp/log" "$tmp/int" | head -n 4 >&2
        ok=0
    fi
    if [ "$ok" -eq 1 ]; then
        echo "$name: ok"
    else
        echo "$name: FAILED: (cd $build/guests && $ringside ${args[*]})" >&2
        [ -s "$tmp/err" ] && head -n 20 "$tmp/err" >&2
        failed=$((failed + 1))
    fi
done
[ "$failed" -eq 0 ]
