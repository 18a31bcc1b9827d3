#!/usr/bin/env bash
# Trace files: --record, `ringside replay`, `ringside log`, `ringside export --perfetto`, and
# what a bad trace, a bad path, a full disk or a signal leaves behind (one line on stderr and
# a documented status; never a file that claims to be whole when it is not).
#
# usage: trace.sh RINGSIDE WORKDIR CASE GUESTDIR SRCDIR
set -u
ringside=$1
work=$2/trace_$3
case=$3
guests=$4
src=$5
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1

ok=1
say() { echo "FAIL ($case): $*"; ok=0; }
# one_line STATUS WANT_STATUS REGEX: the status and exactly one stderr line matching REGEX
one_line() {
    echo "  exit $1"; sed 's/^/  stderr: /' stderr.txt
    [ "$1" -eq "$2" ] || say "exit status $1, want $2"
    [ "$(wc -l < stderr.txt)" -eq 1 ] || say "stderr has $(wc -l < stderr.txt) lines, want 1"
    grep -Eq "$3" stderr.txt || say "stderr does not match '$3'"
}
# wait_for_bytes FILE N: until FILE holds N bytes (its first flushes), at most 60 s.
wait_for_bytes() {
    for _ in $(seq 600); do
        [ "$(stat -c %s "$1" 2>/dev/null || echo 0)" -ge "$2" ] && return
        sleep 0.1
    done
}
# The demo recorded into demo.rtrace (console output in demo.out, live --log int in live.int).
record_demo() {
    "$ringside" demo --record demo.rtrace --log int --log-file live.int "$@" >demo.out 2>stderr.txt
    status=$?
}
# A trace whose bytes at OFFSET are replaced by HEX, its record checksums fixed (fix=1) or not.
patch() { # IN OUT OFFSET HEX FIX
    python3 - "$@" <<'PY'
import sys, struct
src, dst, off, hexs, fix = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
tab = []  # CRC-32C, the frames' checksum (docs/trace-format.md)
for i in range(256):
    c = i
    for _ in range(8):
        c = (c >> 1) ^ (0x82F63B78 if c & 1 else 0)
    tab.append(c)
def crc32c(data):
    c = 0xFFFFFFFF
    for x in data:
        c = tab[(c ^ x) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF
b = bytearray(open(src, "rb").read())
new = bytes.fromhex(hexs)
b[off:off + len(new)] = new
if fix == "1":
    at = 12
    while at + 9 <= len(b):
        t = b[at]; n = struct.unpack_from("<I", b, at + 1)[0]
        if at + 9 + n > len(b): break
        struct.pack_into("<I", b, at + 5 + n, crc32c(b[at:at + 5 + n]))
        at += 9 + n
open(dst, "wb").write(b)
PY
}
# Byte offset of the kind byte of the event at OFFSET (its length byte in a TREC_EVENTS
# record): after the length and the varint instruction-count step (docs/trace-format.md).
event_kind_at() { # FILE OFFSET
    python3 - "$@" <<'PY'
import sys
b = open(sys.argv[1], "rb").read(); at = int(sys.argv[2]) + 1
while b[at] & 0x80: at += 1
print(at + 1)
PY
}
# Byte offsets of the Nth (1-based) event of a trace (its length byte in a TREC_EVENTS record,
# type 11) and of the record that holds it.
event_offset() { # FILE N
    python3 - "$@" <<'PY'
import sys, struct
b = open(sys.argv[1], "rb").read(); n = int(sys.argv[2])
at = 12
while at + 9 <= len(b):
    t = b[at]; ln = struct.unpack_from("<I", b, at + 1)[0]
    if t == 11:
        i = at + 5
        while i < at + 5 + ln:
            n -= 1
            if n == 0: print(i, at); sys.exit(0)
            i += 1 + b[i]
    at += 9 + ln
PY
}

case "$case" in
record_replay)
    # The demo recorded, then replayed: every event identical, status 0; the console output
    # is the demo's.
    record_demo
    [ "$status" -eq 1 ] || say "demo --record exit status $status, want 1"
    cmp -s demo.out "$src/guests/scenarios/demo.out" || say "console output differs from demo.out"
    "$ringside" replay demo.rtrace >replay.txt 2>stderr.txt; st=$?
    cat replay.txt
    [ "$st" -eq 0 ] || say "replay exit status $st"
    n=$(grep -c . live.int)
    grep -Eq "^replay: [0-9,]+ events identical \([0-9,]+ console bytes out, 0 in\)$" replay.txt ||
        say "no 'replay: N events identical' line"
    [ -s stderr.txt ] && say "replay wrote to stderr: $(cat stderr.txt)"
    ;;
log_text)
    # `ringside log` prints exactly the live --log int lines, through the one formatter.
    record_demo
    "$ringside" log demo.rtrace >log.txt 2>stderr.txt; st=$?
    [ "$st" -eq 0 ] || say "log exit status $st"
    cmp log.txt live.int ||
        say "ringside log differs from the live --log int"
    [ "$(wc -l <log.txt)" -gt 1000 ] || say "only $(wc -l <log.txt) lines"
    # ... with everything the live log names (so the equality is not that of two bare logs).
    for want in '^ *[0-9]+: pid 1 \(hello\) v=80 ' '\| int 0x80 syscall 1 \(write\)$' \
                ' <syscall_stub> ' '\| IRQ0 timer$' '\| back from int 0x80 syscall 1 \(write\) at [0-9]+, [0-9]+ instructions' \
                ' pid 3 \(compute\) ' '\| #PF\(0x0004\): user read of 0x00000000: .* page not present$'; do
        grep -Eq "$want" log.txt || say "no line matches '$want'"
    done
    ;;
log_decorated)
    # What only the running machine knew, carried by the trace: a triple fault's three steps,
    # an interrupt's LAPIC / I/O APIC source; images that changed since: no symbols, one line.
    "$ringside" run "$guests/rings_triple.elf" --record t.rtrace --log int --log-file t.int \
        >/dev/null 2>&1
    "$ringside" log t.rtrace >t.log 2>stderr.txt || say "log of the triple fault failed"
    cmp t.log t.int || say "log of the triple fault differs from the live log"
    grep -Eq '\| triple fault: #GP\(0x040a\): .* -> #NP\(0x006b\): .* -> #NP\(0x0043\): IDT gate 0x08 is not present$' t.log ||
        say "the triple fault's three steps are missing: $(tail -n 1 t.log)"
    "$ringside" export t.rtrace --perfetto t.json || say "export of the triple fault failed"
    "$ringside" log t.rtrace --format jsonl >t.jsonl
    python3 "$src/tests/cli/perfetto_check.py" t.json t.jsonl || say "perfetto_check of the triple fault failed"
    grep -q '"fault":"#GP(0x040a): IDT gate 0x81 has DPL 0 < CPL 3 -> #NP(0x006b)' t.json ||
        say "the triple fault's instant lacks its three steps"
    "$ringside" run "$guests/irq_apic.elf" --max-insns 200000000 --record a.rtrace --log int \
        --log-file a.int <"$src/guests/irq/hello.txt" >/dev/null 2>&1
    "$ringside" log a.rtrace >a.log 2>stderr.txt || say "log of irq_apic failed"
    cmp a.log a.int || say "log of irq_apic differs from the live log"
    grep -q '| LAPIC timer$' a.log && grep -q '| IOAPIC pin 4 → COM1$' a.log ||
        say "the interrupts' sources are missing"
    cp "$guests/kernel.elf" k.elf
    "$ringside" run k.elf --append "init=hello" --module "$guests/user/hello.elf" \
        --record k.rtrace --log int --log-file k.int >/dev/null 2>&1
    "$ringside" log k.rtrace >k.log 2>stderr.txt || say "log of k.rtrace failed"
    cmp k.log k.int || say "log of k.rtrace differs from the live log"
    printf 'x' >>k.elf
    "$ringside" log k.rtrace >k2.log 2>stderr.txt; one_line $? 0 "k.rtrace: no symbols: the recorded image '.*/k.elf' has changed"
    grep -q ' <' k2.log && say "symbols of a changed image were shown"
    cmp -s <(sed 's/ <[^>]*>//g' k.int) k2.log || say "the log without symbols differs otherwise"
    ;;
log_jsonl)
    # jsonl: one JSON object per event with the documented fields; filters select.
    record_demo
    "$ringside" log demo.rtrace --format jsonl >all.jsonl 2>stderr.txt || say "log jsonl failed"
    "$ringside" log demo.rtrace >text.txt 2>>stderr.txt
    python3 - all.jsonl text.txt <<'PY' || say "jsonl check failed"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
live = open(sys.argv[2]).read().splitlines()
need = {"icount", "kind", "vector", "error", "cr2", "space", "pid", "before", "after", "text"}
for l in lines:
    assert need <= set(l), l
    for side in ("before", "after"):
        assert {"cpl", "cs", "eip", "ss", "eflags", "cr3", "eax", "ebx", "ecx", "edx"} <= set(l[side])
text = [l["text"] for l in lines if l["kind"] != "cr3"]
calls = [l for l in lines if "syscall" in l]
assert calls and all(l["syscall"]["nr"] == l["before"]["eax"] for l in calls), "syscall numbers"
assert any(l["syscall"]["name"] == "write" for l in calls), "no system call named write"
assert any(l["pid"] == 3 and l["space"] == "compute" for l in lines), "no space named compute"
assert text == live, "jsonl text differs from the live log"
assert any(l["kind"] == "cr3" for l in lines), "no cr3 events in jsonl"
print(f"  {len(lines)} jsonl events")
PY
    # Each filter's selection against all events filtered here (one python for all of them).
    n=0
    for f in "--kind exception" "--vector 0x80" "--cpl 3" "--from 600000 --to 700000" \
             "--kind iret --cpl 0" "--space 0x00153000" "--pid 3" "--space spin"; do
        n=$((n + 1))
        # shellcheck disable=SC2086
        "$ringside" log demo.rtrace --format jsonl $f >"sel$n.jsonl" 2>stderr.txt ||
            say "log $f failed"
        echo "$f" >"sel$n.filter"
    done
    python3 - all.jsonl $(seq -f 'sel%g' "$n") <<'PY' || say "a filter selects wrongly"
import json, sys
allv = [json.loads(l) for l in open(sys.argv[1])]
for base in sys.argv[2:]:
    sel = [json.loads(l) for l in open(base + ".jsonl")]
    f = open(base + ".filter").read().split()
    opts = dict(zip(f[::2], f[1::2]))
    def ok(e):
        if "--kind" in opts and e["kind"] != opts["--kind"]: return False
        if "--vector" in opts and e["vector"] != int(opts["--vector"], 0): return False
        if "--cpl" in opts and e["before"]["cpl"] != int(opts["--cpl"]): return False
        if "--from" in opts and e["icount"] < int(opts["--from"]): return False
        if "--to" in opts and e["icount"] > int(opts["--to"]): return False
        if "--pid" in opts and e["pid"] != int(opts["--pid"]): return False
        sp = opts.get("--space")
        if sp and sp.startswith("0x") and e["before"]["cr3"] != int(sp, 16): return False
        if sp and not sp.startswith("0x") and e["space"] != sp: return False
        return True
    want = [e for e in allv if ok(e)]
    assert sel == want and want, (" ".join(f), len(sel), len(want))
    print(f"  {' '.join(f)}: {len(sel)} events")
PY
    "$ringside" log demo.rtrace --kind bogus >/dev/null 2>stderr.txt; one_line $? 2 "unknown --kind 'bogus'"
    "$ringside" log demo.rtrace --format xml >/dev/null 2>stderr.txt; one_line $? 2 "unknown --format 'xml'"
    ;;
export)
    # Chrome trace-event JSON: structure and counts against the log (perfetto_check.py).
    record_demo
    "$ringside" export demo.rtrace --perfetto demo.json 2>stderr.txt || say "export failed"
    "$ringside" log demo.rtrace --format jsonl >all.jsonl
    python3 "$src/tests/cli/perfetto_check.py" demo.json all.jsonl || say "perfetto_check failed"
    grep -q '"name":"compute (pid 3)"' demo.json || say "no process named compute (pid 3)"
    # The same filters as `ringside log`: the export holds what the filtered log shows.
    for f in "--pid 3" "--kind exception" "--space syscalls --from 600000 --to 5000000" \
             "--vector 0x80 --cpl 3"; do
        # shellcheck disable=SC2086
        "$ringside" export demo.rtrace --perfetto sel.json $f 2>stderr.txt || say "export $f failed"
        # shellcheck disable=SC2086
        "$ringside" log demo.rtrace --format jsonl $f >sel.jsonl
        [ -s sel.jsonl ] || say "the filter $f selects nothing"
        python3 "$src/tests/cli/perfetto_check.py" sel.json sel.jsonl || say "export $f differs from log $f"
    done
    "$ringside" export demo.rtrace --perfetto sel.json --cpl 7 2>stderr.txt; one_line $? 2 "cpl"
    [ -e sel.json.tmp ] && say "a refused export left a temporary file"
    [ -e demo.json.tmp ] && say "the temporary file was left"
    "$ringside" export demo.rtrace --perfetto /nonexistent/x.json 2>stderr.txt
    one_line $? 2 "cannot write '/nonexistent/x.json.tmp'"
    # A device is written, never replaced (no OUT.tmp renamed over it); a full one is an error.
    if [ -c /dev/full ]; then
        "$ringside" export demo.rtrace --perfetto /dev/full 2>stderr.txt
        one_line $? 8 "cannot write '/dev/full': No space left on device"
        [ -c /dev/full ] || say "/dev/full was replaced"
    fi
    ;;
input)
    # Console input is recorded with its arrival and replayed exactly (the upper scenario).
    (cd "$guests" && "$ringside" run kernel.elf --append "init=upper" --module user/upper.elf \
        --record "$work/up.rtrace") <"$src/guests/scenarios/upper.in" >up.out 2>stderr.txt
    cmp -s up.out "$src/guests/scenarios/upper.out" || say "console output differs from upper.out"
    "$ringside" replay up.rtrace >replay.txt 2>&1 || say "replay failed: $(cat replay.txt)"
    cat replay.txt
    grep -Eq "events identical \([0-9,]+ console bytes out, 51 in\)" replay.txt ||
        say "the 51 input bytes were not replayed"
    ;;
max_insns)
    # A run stopped by --max-insns is whole (end record: instruction limit) and replays.
    record_demo --max-insns 700000
    [ "$status" -eq 124 ] || say "exit status $status, want 124"
    "$ringside" log demo.rtrace >log.txt 2>stderr.txt || say "log of a limited run failed: $(cat stderr.txt)"
    cmp -s log.txt live.int || say "log differs from the live log"
    "$ringside" replay demo.rtrace || say "replay of a limited run failed"
    ;;
changed_image)
    # The recorded image changed or vanished: one line naming it, status 2.
    cp "$guests/kernel.elf" k.elf
    "$ringside" run k.elf --append "init=hello" --module "$guests/user/hello.elf" \
        --record k.rtrace >/dev/null 2>&1
    "$ringside" replay k.rtrace >/dev/null 2>&1 || say "replay of the unchanged image failed"
    printf 'x' >>k.elf
    "$ringside" replay k.rtrace 2>stderr.txt; one_line $? 2 "image '.*/k.elf' has changed since the recording"
    rm k.elf
    "$ringside" replay k.rtrace 2>stderr.txt; one_line $? 2 "recorded image is missing: .*k.elf"
    ;;
divergence)
    # A recorded event that the machine does not make (its vector changed, checksums fixed):
    # the first divergence with both events, status 1.
    record_demo
    read -r off block <<<"$(event_offset demo.rtrace 5)"
    # the vector: after the icount step and the kind (docs/trace-format.md)
    patch demo.rtrace bad.rtrace $(($(event_kind_at demo.rtrace "$off") + 1)) 5a 1
    "$ringside" log bad.rtrace >/dev/null 2>&1 || say "the patched trace does not read"
    "$ringside" replay bad.rtrace >replay.txt 2>&1; st=$?
    cat replay.txt
    [ "$st" -eq 1 ] || say "exit status $st, want 1"
    grep -q "^replay: diverged at event 5 (vector differ)" replay.txt || say "no divergence line"
    grep -q "^  recorded: " replay.txt && grep -q "^  replayed: " replay.txt || say "both events not shown"
    ;;
truncated)
    # A file cut short: what it holds is printed, then one line, status 2.
    record_demo
    size=$(stat -c %s demo.rtrace)
    head -c $((size / 2)) demo.rtrace >cut.rtrace
    "$ringside" log cut.rtrace >log.txt 2>stderr.txt; one_line $? 2 "cut.rtrace: trace truncated after [0-9]+ events"
    n=$(wc -l <log.txt)
    [ "$n" -gt 500 ] || say "only $n lines read from the cut file"
    cmp -s <(head -n "$n" live.int) log.txt ||
        say "the lines before the cut differ"
    "$ringside" replay cut.rtrace >replay.txt 2>stderr.txt; one_line $? 2 "truncated"
    grep -q "up to the end of the truncated trace" replay.txt || say "replay of the cut part failed: $(cat replay.txt)"
    head -c 20 demo.rtrace >tiny.rtrace
    "$ringside" log tiny.rtrace 2>stderr.txt; one_line $? 2 "cut short"
    ;;
corrupted)
    record_demo
    read -r off block <<<"$(event_offset demo.rtrace 100)"
    patch demo.rtrace bad.rtrace "$(event_kind_at demo.rtrace "$off")" ff 0
    "$ringside" log bad.rtrace >log.txt 2>stderr.txt; one_line $? 2 "checksum mismatch in the record at byte $block"
    "$ringside" replay bad.rtrace >/dev/null 2>stderr.txt; one_line $? 2 "checksum mismatch"
    "$ringside" export bad.rtrace --perfetto x.json 2>stderr.txt; one_line $? 2 "checksum mismatch"
    read -r off block <<<"$(event_offset demo.rtrace 3)"
    patch demo.rtrace bad2.rtrace "$(event_kind_at demo.rtrace "$off")" 63 1   # kind 99: no such event
    "$ringside" log bad2.rtrace >/dev/null 2>stderr.txt; one_line $? 2 "an event with impossible fields"
    read -r off block <<<"$(event_offset demo.rtrace 7)"
    patch demo.rtrace bad3.rtrace "$off" 02 1   # an event's length below the shortest event
    "$ringside" log bad3.rtrace >/dev/null 2>stderr.txt; one_line $? 2 "an event of the wrong size at byte $off"
    ;;
wrong_version)
    record_demo
    patch demo.rtrace v3.rtrace 8 0300 0
    "$ringside" log v3.rtrace >log.txt 2>stderr.txt; one_line $? 2 "format version 3; this Ringside reads version 5"
    [ -s log.txt ] && say "a wrong-version file printed events"
    ;;
not_trace)
    echo "hello" >text.rtrace
    "$ringside" log text.rtrace 2>stderr.txt; one_line $? 2 "text.rtrace: not a Ringside trace"
    : >empty.rtrace
    "$ringside" replay empty.rtrace 2>stderr.txt; one_line $? 2 "not a Ringside trace"
    "$ringside" log "$guests/kernel.elf" 2>stderr.txt; one_line $? 2 "not a Ringside trace"
    "$ringside" log missing.rtrace 2>stderr.txt; one_line $? 2 "missing.rtrace: cannot open: No such file"
    "$ringside" log . 2>stderr.txt; one_line $? 2 "not a regular file"
    ;;
bad_path)
    # A trace that cannot be created: one line, status 2, the guest never runs.
    "$ringside" demo --record /nonexistent/dir/x.rtrace >out.txt 2>stderr.txt
    one_line $? 2 "cannot write trace file '/nonexistent/dir/x.rtrace'"
    [ -s out.txt ] && say "the guest ran"
    "$ringside" demo --record x.rtrace --realtime 2>stderr.txt; one_line $? 2 "cannot be used with --realtime"
    ;;
disk_full)
    # /dev/full: the first flush fails: one line, status 8.
    [ -c /dev/full ] || { echo "/dev/full is not a device"; exit 77; }
    "$ringside" demo --record /dev/full >/dev/null 2>stderr.txt
    one_line $? 8 "cannot write trace file '/dev/full': No space left on device"
    ;;
sigterm)
    # SIGTERM mid-run: the run stops, the file ends with an end record (whole), replays.
    (cd "$guests" && exec "$ringside" run kernel.elf --append "init=spin cpulimit=100000000" \
        --module user/spin.elf --record "$work/spin.rtrace") >spin.out 2>stderr.txt &
    pid=$!
    wait_for_bytes "$work/spin.rtrace" 4000
    kill -TERM $pid
    wait $pid; st=$?
    one_line $st 143 "stopped by signal 15 at"
    "$ringside" log spin.rtrace >log.txt 2>stderr.txt || say "log after SIGTERM: $(cat stderr.txt)"
    [ "$(wc -l <log.txt)" -gt 10 ] || say "too few events: $(wc -l <log.txt)"
    "$ringside" replay spin.rtrace || say "replay after SIGTERM failed"
    ;;
compressed)
    # FILE.zst is written zstd-compressed and read by every command as if it were not.
    "$ringside" demo --record demo.rtrace.zst --log int --log-file live.int >demo.out 2>stderr.txt
    "$ringside" demo --record plain.rtrace >/dev/null 2>&1
    [ "$(head -c 4 demo.rtrace.zst | od -An -tx1 | tr -d ' ')" = 28b52ffd ] ||
        say "demo.rtrace.zst is not zstd"
    zs=$(stat -c %s demo.rtrace.zst) ps=$(stat -c %s plain.rtrace)
    echo "  $ps bytes plain, $zs compressed"
    # (format version 4's events are already small: about 3x, where version 3's shrank 5x)
    [ $((zs * 2)) -lt "$ps" ] || say "compressed $zs bytes, plain $ps: less than 2x smaller"
    "$ringside" log demo.rtrace.zst >log.txt 2>stderr.txt || say "log failed: $(cat stderr.txt)"
    cmp log.txt live.int || say "log of the compressed trace differs from the live log"
    "$ringside" replay demo.rtrace.zst >replay.txt 2>&1 || say "replay failed: $(cat replay.txt)"
    grep -q "events identical" replay.txt || say "no 'events identical'"
    "$ringside" export demo.rtrace.zst --perfetto z.json || say "export failed"
    "$ringside" log demo.rtrace.zst --format jsonl >z.jsonl
    python3 "$src/tests/cli/perfetto_check.py" z.json z.jsonl || say "perfetto_check failed"
    # Cut short: the flushed part reads, then one line; damaged: one line, status 2. (The cut
    # is in the last flush's data: the first 10M instructions' records, most of the demo's,
    # are one zstd block that decodes only whole.)
    head -c $((zs - 200)) demo.rtrace.zst >cut.rtrace.zst
    "$ringside" log cut.rtrace.zst >cut.txt 2>stderr.txt; one_line $? 2 "truncated after [0-9]+ events"
    n=$(wc -l <cut.txt)
    [ "$n" -gt 300 ] || say "only $n lines read from the cut file"
    cmp -s <(head -n "$n" live.int) cut.txt || say "the lines before the cut differ"
    patch demo.rtrace.zst bad.rtrace.zst $((zs / 2)) 5a5a5a5a5a5a5a5a 0
    "$ringside" log bad.rtrace.zst >/dev/null 2>stderr.txt; one_line $? 2 "checksum mismatch|damaged|impossible|bad|unknown|claims"
    printf '\x28\xb5\x2f\xfd\x00\x00' >junk.rtrace.zst
    "$ringside" log junk.rtrace.zst 2>stderr.txt; one_line $? 2 "junk.rtrace.zst: "
    # Killed mid-run: what was flushed decodes.
    (cd "$guests" && exec "$ringside" run kernel.elf --append "init=spin cpulimit=100000000" \
        --module user/spin.elf --record "$work/spin.rtrace.zst") >spin.out 2>/dev/null &
    pid=$!
    wait_for_bytes "$work/spin.rtrace.zst" 1000
    kill -KILL $pid
    wait $pid
    "$ringside" log spin.rtrace.zst >log.txt 2>stderr.txt; one_line $? 2 "truncated after [0-9]+ events"
    [ "$(wc -l <log.txt)" -gt 10 ] || say "too few events read: $(wc -l <log.txt)"
    ;;
sigkill)
    # SIGKILL mid-run: the records flushed so far read, reported as truncated.
    (cd "$guests" && exec "$ringside" run kernel.elf --append "init=spin cpulimit=100000000" \
        --module user/spin.elf --record "$work/spin.rtrace") >spin.out 2>/dev/null &
    pid=$!
    wait_for_bytes "$work/spin.rtrace" 4000
    kill -KILL $pid
    wait $pid
    "$ringside" log spin.rtrace >log.txt 2>stderr.txt; one_line $? 2 "truncated after [0-9]+ events"
    [ "$(wc -l <log.txt)" -gt 10 ] || say "too few events read: $(wc -l <log.txt)"
    ;;
inputs_only)
    # --inputs-only: the file holds the run's inputs only (no events nor console output: a
    # fraction of the size);
    # log, export and view regenerate the events by running the guest again and show exactly
    # what the full trace shows; replay checks every count of the end record.
    record_demo
    "$ringside" log demo.rtrace >full.txt 2>/dev/null
    "$ringside" demo --record in.rtrace --inputs-only >in.out 2>stderr.txt; st=$?
    [ "$st" -eq 1 ] || say "demo --record --inputs-only exit status $st, want 1"
    cmp -s in.out "$src/guests/scenarios/demo.out" || say "console output differs from demo.out"
    fs=$(stat -c %s demo.rtrace) is=$(stat -c %s in.rtrace)
    echo "  $fs bytes with events, $is bytes of inputs only"
    [ $((is * 10)) -lt "$fs" ] || say "the inputs-only trace is not 10x smaller ($is vs $fs)"
    [ "$(od -An -tx1 -j10 -N2 in.rtrace | tr -d ' ')" = 0100 ] || say "no inputs-only flag"
    "$ringside" log in.rtrace >log.txt 2>stderr.txt; one_line $? 0 "in.rtrace: a trace of the inputs only: running the guest again"
    cmp log.txt live.int || say "the regenerated log differs from the live --log int"
    cmp log.txt full.txt || say "the regenerated log differs from the full trace's"
    "$ringside" log in.rtrace --format jsonl >in.jsonl 2>/dev/null
    "$ringside" log demo.rtrace --format jsonl >full.jsonl
    cmp in.jsonl full.jsonl || say "the regenerated jsonl differs"
    "$ringside" export in.rtrace --perfetto in.json 2>/dev/null || say "export failed"
    "$ringside" export demo.rtrace --perfetto full.json
    cmp in.json full.json || say "the regenerated Perfetto export differs"
    mkdir lean && cp in.rtrace lean/demo.rtrace   # the view's title is the file's name
    "$ringside" view lean/demo.rtrace --screenshot in.png 2>/dev/null || say "view --screenshot failed"
    "$ringside" view demo.rtrace --screenshot full.png 2>/dev/null
    cmp in.png full.png || say "the view of the regenerated events differs"
    "$ringside" replay in.rtrace >replay.txt 2>stderr.txt; st=$?
    cat replay.txt
    [ "$st" -eq 0 ] || say "replay exit status $st"
    [ -s stderr.txt ] && say "replay wrote to stderr: $(cat stderr.txt)"
    grep -Eq "^replay: the same run: [0-9,]+ instructions, [0-9,]+ events, 3,620 console bytes out, 0 in \(a trace of the inputs only: every count of its end record identical\)$" replay.txt ||
        say "no 'replay: the same run' line"
    # Console input is an input: recorded, fed back, the same events.
    (cd "$guests" && "$ringside" run kernel.elf --append "init=upper" --module user/upper.elf \
        --record "$work/up.rtrace") <"$src/guests/scenarios/upper.in" >/dev/null 2>&1
    (cd "$guests" && "$ringside" run kernel.elf --append "init=upper" --module user/upper.elf \
        --record "$work/upin.rtrace" --inputs-only) <"$src/guests/scenarios/upper.in" >up.out 2>&1
    cmp -s up.out "$src/guests/scenarios/upper.out" || say "console output differs from upper.out"
    "$ringside" log up.rtrace >up.txt 2>&1
    "$ringside" log upin.rtrace >upin.txt 2>/dev/null || say "log of the input run failed"
    cmp up.txt upin.txt || say "the regenerated log of the input run differs"
    "$ringside" replay upin.rtrace >replay.txt 2>&1 || say "replay failed: $(cat replay.txt)"
    grep -q "console bytes out, 51 in (a trace of the inputs only" replay.txt || say "the 51 input bytes were not replayed: $(cat replay.txt)"
    "$ringside" demo --inputs-only 2>stderr.txt; one_line $? 2 "inputs-only needs --record"
    ;;
inputs_only_bad)
    # A trace of the inputs only whose run cannot be regenerated, or is not whole.
    cp "$guests/kernel.elf" k.elf
    "$ringside" run k.elf --append "init=hello" --module "$guests/user/hello.elf" \
        --record k.rtrace --inputs-only >/dev/null 2>&1
    "$ringside" log k.rtrace >/dev/null 2>&1 || say "log of the unchanged image failed"
    # the end record's instruction count changed (checksums fixed): the guest runs differently
    size=$(stat -c %s k.rtrace)
    patch k.rtrace bad.rtrace $((size - 160)) 0100000000000000 1
    "$ringside" replay bad.rtrace >replay.txt 2>&1; st=$?
    cat replay.txt
    [ "$st" -eq 1 ] || say "replay exit status $st, want 1"
    grep -q "^replay: diverged at the end: recorded 1 instructions" replay.txt || say "no divergence line"
    "$ringside" log bad.rtrace >log.txt 2>stderr.txt; st=$?
    [ "$st" -eq 2 ] || say "log exit status $st, want 2"
    grep -q "bad.rtrace: cannot regenerate its events: the guest ran differently this time (replay: diverged at the end" stderr.txt ||
        say "no 'cannot regenerate' line: $(cat stderr.txt)"
    [ -s log.txt ] && say "events were printed from a run that diverged"
    printf 'x' >>k.elf
    "$ringside" log k.rtrace >/dev/null 2>stderr.txt; st=$?
    [ "$st" -eq 2 ] || say "log exit status $st, want 2"
    grep -q "k.rtrace: cannot regenerate its events: the recorded image '.*/k.elf' has changed since the recording" stderr.txt ||
        say "no 'image has changed' line: $(cat stderr.txt)"
    # an events record in a trace of the inputs only: damaged
    "$ringside" demo --record ev.rtrace >/dev/null 2>&1
    patch ev.rtrace evflag.rtrace 10 0100 0
    "$ringside" log evflag.rtrace >/dev/null 2>stderr.txt; st=$?
    [ "$st" -eq 2 ] || say "log exit status $st, want 2"
    grep -Eq "a regenerated record \(type [0-9]+\) at byte [0-9]+ in a trace of the inputs only" stderr.txt ||
        say "no 'a regenerated record' line: $(cat stderr.txt)"
    # SIGKILL mid-run: the file ends at its last flush; the events up to its last progress mark
    # are regenerated and shown, then one line, status 2.
    (cd "$guests" && exec "$ringside" run kernel.elf --append "init=spin cpulimit=100000000" \
        --module user/spin.elf --record "$work/spin.rtrace" --inputs-only) >spin.out 2>/dev/null &
    pid=$!
    for _ in $(seq 600); do
        grep -q "$(printf '\x0c\x10')" spin.rtrace 2>/dev/null && break   # a TREC_MARK frame
        sleep 0.1
    done
    sleep 0.3
    kill -KILL $pid
    wait $pid
    "$ringside" log spin.rtrace >log.txt 2>stderr.txt; st=$?
    [ "$st" -eq 2 ] || say "log exit status $st, want 2"
    grep -Eq "spin.rtrace: trace truncated after [0-9]+ instructions" stderr.txt || say "no truncated line: $(cat stderr.txt)"
    [ "$(wc -l <log.txt)" -gt 10 ] || say "too few events regenerated: $(wc -l <log.txt)"
    "$ringside" replay spin.rtrace >replay.txt 2>stderr.txt; st=$?
    cat replay.txt
    [ "$st" -eq 2 ] || say "replay exit status $st, want 2"
    grep -q "truncated, replayed to its last mark" replay.txt || say "no replay of the cut part: $(cat replay.txt)"
    ;;
portable)
    # RINGSIDE_PORTABLE=1: the recorder's portable encoder and checksum and the cpu's portable
    # EFLAGS fold instead of AVX2, SSE4.2 and LAHF; the traces are the same bytes, and replay.
    # (the same command line both times: the header holds it)
    for w in "syscall 300" "pf 300" "cr3 300" "compute 2"; do
        "$ringside" run "$guests/ringbench.elf" --append "$w" --record t.rtrace >/dev/null 2>&1
        mv t.rtrace t.fast.rtrace
        RINGSIDE_PORTABLE=1 "$ringside" run "$guests/ringbench.elf" --append "$w" \
            --record t.rtrace >/dev/null 2>&1
        [ "$(stat -c %s t.rtrace)" -gt 1000 ] || say "$w: trace too small"
        cmp t.fast.rtrace t.rtrace || say "$w: the portable trace differs"
        "$ringside" replay t.rtrace >replay.txt 2>&1 || say "$w: replay failed: $(cat replay.txt)"
        grep -q "events identical" replay.txt || say "$w: no 'events identical'"
    done
    "$ringside" demo --record demo.rtrace >/dev/null 2>&1
    mv demo.rtrace demo.fast.rtrace
    RINGSIDE_PORTABLE=1 "$ringside" demo --record demo.rtrace >/dev/null 2>&1
    cmp demo.fast.rtrace demo.rtrace || say "demo: the portable trace differs"
    ;;
*)
    echo "unknown case $case"; exit 2 ;;
esac
[ "$ok" -eq 1 ] && echo "ok ($case)"
[ "$ok" -eq 1 ]
