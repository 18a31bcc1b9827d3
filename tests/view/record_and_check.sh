#!/bin/bash
# Records the demo into WORK/demo.rtrace, then runs CHECKER RINGSIDE TRACE WORK.
# usage: record_and_check.sh RINGSIDE WORK CHECKER
set -u
ringside=$1 work=$2 checker=$3
rm -rf "$work" && mkdir -p "$work" || exit 1
"$ringside" demo --record "$work/demo.rtrace" >"$work/demo.out" 2>"$work/demo.err"
rc=$?
# The demo ends with debug-exit 0: status 1.
[ "$rc" = 1 ] || { echo "ringside demo --record exited with $rc"; cat "$work/demo.err"; exit 1; }
exec "$checker" "$ringside" "$work/demo.rtrace" "$work"
