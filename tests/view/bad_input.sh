#!/bin/bash
# The view given bad input: one line on stderr, exit status 2, no crash, and no PNG claiming
# to be whole when nothing could be drawn. A damaged trace is drawn as far as it goes (the
# picture is of what it holds), with one line saying so, and status 2.
#
# usage: bad_input.sh RINGSIDE WORK CASE
set -u
here=$(cd "$(dirname "$0")" && pwd)
ringside=$1 work=$2/$3 case=$3
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
fail() { echo "FAIL ($case): $*"; exit 1; }

# expect STATUS PATTERN PNG(yes/no) -- ringside arguments
expect() {
    local want=$1 pattern=$2 png=$3
    shift 4
    "$ringside" "$@" >out.txt 2>err.txt
    local rc=$?
    [ "$rc" = "$want" ] || fail "exit status $rc, not $want: $(cat err.txt)"
    [ "$(wc -l < err.txt)" = 1 ] || fail "not one line on stderr: $(cat err.txt)"
    grep -q -- "$pattern" err.txt || fail "stderr lacks '$pattern': $(cat err.txt)"
    [ -s out.txt ] && fail "stdout is not empty: $(cat out.txt)"
    if [ "$png" = yes ]; then
        [ -s out.png ] || fail "no out.png"
        head -c 8 out.png | od -An -tx1 | grep -q "89 50 4e 47 0d 0a 1a 0a" || fail "out.png is not a PNG"
    else
        ls out.png* >/dev/null 2>&1 && fail "a PNG (or a part of one) was left: $(ls out.png*)"
    fi
    echo "PASS ($case): status $rc, $(cat err.txt)"
}

record() {
    "$ringside" demo --record demo.rtrace >/dev/null 2>&1
    [ -s demo.rtrace ] || fail "cannot record the demo"
}

case $case in
missing)
    expect 2 "no-such.rtrace" no -- view no-such.rtrace --screenshot out.png ;;
not_trace)
    head -c 5000 /dev/urandom > junk.rtrace
    expect 2 "junk.rtrace" no -- view junk.rtrace --screenshot out.png ;;
empty)
    : > empty.rtrace
    expect 2 "empty.rtrace" no -- view empty.rtrace --screenshot out.png ;;
directory)
    mkdir dir.rtrace
    expect 2 "dir.rtrace" no -- view dir.rtrace --screenshot out.png ;;
truncated)
    record
    head -c $(( $(stat -c %s demo.rtrace) / 2 )) demo.rtrace > half.rtrace
    expect 2 "truncated\|cut" yes -- view half.rtrace --screenshot out.png ;;
corrupt)
    record
    cp demo.rtrace bad.rtrace
    printf '\xff\xff\xff\xff' | dd of=bad.rtrace bs=1 seek=200000 conv=notrunc status=none
    expect 2 "bad.rtrace" yes -- view bad.rtrace --screenshot out.png ;;
select_range)
    record
    expect 2 "select 99999999" no -- view demo.rtrace --screenshot out.png --select 99999999 ;;
at_not_number)
    record
    expect 2 "at must be" no -- view demo.rtrace --screenshot out.png --at 12x ;;
span_zero)
    record
    expect 2 "span must be" no -- view demo.rtrace --screenshot out.png --span 0 ;;
width_small)
    record
    expect 2 "width" no -- view demo.rtrace --screenshot out.png --width 10 ;;
unwritable)
    record
    expect 2 "cannot write" no -- view demo.rtrace --screenshot /nonexistent-dir/out.png ;;
size_without_view)
    expect 2 "need --view" no -- demo --width 1280 ;;
speed_without_view)
    expect 2 "view-speed needs --view" no -- demo --view-speed 10 ;;
view_with_gdb)
    expect 2 "cannot be used with --gdb" no -- demo --view -s ;;
screenshot_not_for_run)
    expect 2 "screenshot" no -- demo --screenshot out.png ;;
no_server)
    # DISPLAY names a display nobody serves: one line, not a window drawn where nobody sees it
    # (SDL's offscreen fallback) and a run that never ends. (libdbus, opened by SDL_Init, leaks
    # when SDL_Init fails: lsan-sdl.supp, for the sanitizer build.)
    record
    export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$here/lsan-sdl.supp:print_suppressions=0"
    unset WAYLAND_DISPLAY SDL_VIDEODRIVER
    export DISPLAY=:65000
    expect 2 "no display answers at DISPLAY=:65000" no -- view demo.rtrace
    expect 2 "no display answers at DISPLAY=:65000" no -- demo --view ;;
invisible_driver)
    record
    export SDL_VIDEODRIVER=dummy
    expect 2 "SDL_VIDEODRIVER=dummy shows no window" no -- view demo.rtrace
    export SDL_VIDEODRIVER=offscreen
    expect 2 "SDL_VIDEODRIVER=offscreen shows no window" no -- demo --view ;;
*)
    fail "unknown case" ;;
esac
