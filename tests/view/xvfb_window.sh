#!/bin/bash
# The view's real window under a virtual X server (Xvfb), driven by xdotool (keys, clicks) and
# captured with ImageMagick's `import`; `compare -metric AE` counts the pixels that changed.
#
#   recorded: zoom (+) changes the timeline; n (select) changes the details panel; a click on
#             the whole-run strip moves the timeline; h shows the help; q ends with status 0.
#   live:     demo --view --view-speed 3000 (slow): Space pauses (two captures are equal), . steps
#             to the next transition (the picture changes), Space resumes (it changes again);
#             q before the guest ends stops the run: status 3, "stopped on request".
#             demo --view at full speed: once the guest has halted, closing the window keeps
#             the guest's own status (1, debug-exit 0).
#   no display: one line, status 2.
#
# usage: xvfb_window.sh RINGSIDE WORK   (Xvfb, xdotool and ImageMagick: scripts/setup.sh)
set -u
ringside=$1 work=$2
for t in Xvfb xdotool import compare convert; do
    command -v "$t" >/dev/null || { echo "FAIL: $t not found (scripts/setup.sh installs it)"; exit 1; }
done
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
# In the ASan build, LeakSanitizer reports what SDL's X11 back-end leaves behind (libdbus, GL
# drivers unloaded at exit): not ours. The same model and drawing code runs under LeakSanitizer
# in view_screenshot_pixels and view_bad_*.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"

pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

# No display: refused before anything runs.
"$ringside" demo --record demo.rtrace >demo.out 2>demo.err
[ $? = 1 ] || fail "ringside demo --record did not exit with 1"
env -u DISPLAY -u WAYLAND_DISPLAY -u SDL_VIDEODRIVER "$ringside" view demo.rtrace >nodisp.out 2>nodisp.err
rc=$?
[ $rc = 2 ] || fail "view without a display exited $rc, not 2"
[ "$(wc -l < nodisp.err)" = 1 ] && grep -q "no display" nodisp.err ||
    fail "view without a display: not one line: $(cat nodisp.err)"

# A display of our own (Xvfb picks a free number and writes it to fd 3). -noreset: by default an
# X server resets itself when its last client leaves, and a view started just after the previous
# one quit could connect during that reset and lose its window to it (a live view then ran on,
# drawing into a window the server no longer had: 'no window appeared', a few runs in twenty).
Xvfb -displayfd 3 -screen 0 1700x1100x24 -nolisten tcp -noreset 3>display.txt 2>xvfb.err &
pids+=($!)
for _ in $(seq 50); do [ -s display.txt ] && break; sleep 0.1; done
[ -s display.txt ] || fail "Xvfb did not start: $(cat xvfb.err)"
export DISPLAY=":$(head -1 display.txt)"
unset WAYLAND_DISPLAY SDL_VIDEODRIVER

# Waits (up to 90 s: a sanitizer build on a loaded machine is slow) for the view's window to be
# shown and drawn (a first frame has panels: not a black window); sets WID. The search is made
# again on every try: a window id found once may belong to a window that is gone by the next try,
# and this xdotool dies of the BadWindow when any window vanishes during its search (its errors go
# to xdotool.err, import's to import.err, for the message below).
wait_window() {
    local mean=0 start=$SECONDS
    WID=""
    while [ $((SECONDS - start)) -lt 90 ]; do
        WID=$(timeout 5 xdotool search --onlyvisible --name "^Ringside view$" 2>>xdotool.err |
              head -1)
        if [ -n "$WID" ] && timeout 20 import -window "$WID" drawn.ppm 2>>import.err; then
            mean=$(convert drawn.ppm -format "%[fx:int(mean*1000)]" info: 2>/dev/null)
            [ "${mean:-0}" -gt 30 ] && break
        fi
        sleep 0.2
    done
    [ -n "$WID" ] || fail "no window was shown within 90 s (last lines of xdotool's errors: \
$(tail -n 2 xdotool.err 2>/dev/null); of the views: $(tail -n 3 view.err live.err fast.err 2>/dev/null))"
    [ "${mean:-0}" -gt 30 ] || fail "window $WID was never drawn within 90 s (mean ${mean:-0}; \
import: $(tail -n 2 import.err 2>/dev/null); the views: $(tail -n 3 view.err live.err fast.err 2>/dev/null))"
    timeout 5 xdotool windowfocus "$WID" 2>/dev/null || true
    sleep 0.1
}
# Keys to the view's window (focused first: a loaded machine may have let focus go).
press() {
    timeout 5 xdotool windowfocus "$WID" 2>/dev/null || true
    sleep 0.1
    timeout 10 xdotool key --delay 60 "$@"
}
# q, then the process must end within 20 s; sets RC to its exit status.
quit_and_wait() {
    local pid=$1
    press q
    for _ in $(seq 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && fail "the view did not end within 20 s of q"
    wait "$pid"
    RC=$?
}
# The window as an uncompressed picture (PNG would cost seconds on a loaded machine).
shot() { sleep 0.4; timeout 20 import -window "$WID" "$1.ppm" || fail "import $1"; }
# Pixels that differ between two captures inside the rectangle W x H + X + Y of the window.
differ() {
    local a=$1 b=$2 geom=$3
    convert "$a.ppm" -crop "$geom" +repage "$a.crop.ppm"
    convert "$b.ppm" -crop "$geom" +repage "$b.crop.ppm"
    compare -metric AE "$a.crop.ppm" "$b.crop.ppm" null: 2>&1 | awk '{ printf "%d\n", $1 }'
}
# The layout at 1600x1000, scale 1 (src/frontend/view/layout.c): the timeline panel's lanes,
# the details panel on the right, the whole window.
lanes() { echo "900x330+150+80"; }
details() { echo "500x400+1080+80"; }
whole() { echo "1600x1000+0+0"; }

# ---- a recorded run ----
"$ringside" view demo.rtrace >view.out 2>view.err &
vpid=$!
pids+=($vpid)
wait_window
shot a
press plus plus plus
shot b
n=$(differ a b "$(lanes)")
[ "$n" -gt 2000 ] || fail "zooming in changed $n pixels of the lanes"
echo "zoom: $n pixels of the lanes changed"
press n
shot c
n=$(differ b c "$(details)")
[ "$n" -gt 2000 ] || fail "selecting an event changed $n pixels of the details panel"
echo "select (n): $n pixels of the details panel changed"
# A click on the whole-run strip at 80% moves the window there.
timeout 10 xdotool mousemove --window "$WID" $((90 + 1500 * 8 / 10)) 48 click 1
shot d
n=$(differ c d "$(lanes)")
[ "$n" -gt 2000 ] || fail "a click on the whole-run strip changed $n pixels of the lanes"
echo "click on the strip: $n pixels of the lanes changed"
press h
shot e
n=$(differ d e "$(whole)")
[ "$n" -gt 20000 ] || fail "h (help) changed $n pixels"
echo "help: $n pixels changed"
press h
quit_and_wait $vpid
rc=$RC
[ $rc = 0 ] || fail "view exited $rc after q: $(cat view.err)"

# ---- live, slow: pause, step, resume, then close before the guest ends ----
"$ringside" demo --view --view-speed 3000 >live.out 2>live.err &
lpid=$!
pids+=($lpid)
wait_window
press space
# Paused: after the frame that was being drawn, two captures 0.6 s apart are the same.
n=1
for _ in $(seq 10); do
    shot p1
    sleep 0.6
    shot p2
    n=$(differ p1 p2 "$(whole)")
    [ "$n" = 0 ] && break
done
[ "$n" = 0 ] || fail "paused, yet $n pixels changed"
press period
shot p3
n=$(differ p2 p3 "$(details)")
[ "$n" -gt 1000 ] || fail "a step (.) changed $n pixels of the details panel"
echo "live step (.): $n pixels of the details panel changed"
press space
sleep 1
shot p4
n=$(differ p3 p4 "$(whole)")
[ "$n" -gt 500 ] || fail "resumed, yet only $n pixels changed in a second"
echo "live, resumed: $n pixels changed in a second"
quit_and_wait $lpid
rc=$RC
[ $rc = 3 ] || fail "closing the live window mid-run exited $rc, not 3: $(cat live.err)"
grep -q "stopped on request" live.err || fail "no 'stopped on request' line: $(cat live.err)"
grep -q "halting" live.out && fail "the guest ran to its end although the window was closed"

# ---- live, fast: the guest ends, then the window is closed: the guest's status ----
# (at --width 1280 --height 800: the live window has that size)
"$ringside" demo --view --view-speed 50000000 --width 1280 --height 800 >fast.out 2>fast.err &
fpid=$!
pids+=($fpid)
wait_window
geom=$(timeout 5 xdotool getwindowgeometry "$WID" | sed -n 's/.*Geometry: *//p')
[ "$geom" = 1280x800 ] || fail "the live window is $geom, not the 1280x800 asked"
for _ in $(seq 100); do grep -q "halting" fast.out && break; sleep 0.1; done
grep -q "halting" fast.out || fail "the fast live demo did not end"
shot f1
quit_and_wait $fpid
rc=$RC
[ $rc = 1 ] || fail "the live demo exited $rc after its end, not the guest's 1: $(cat fast.err)"
cmp -s fast.out demo.out ||
    fail "the live demo's console differs from the recorded demo's"
echo "PASS: recorded and live windows respond; statuses 0, 3 and 1"
