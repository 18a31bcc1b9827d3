#!/usr/bin/env python3
"""Checks a `ringside export --perfetto` file against the trace's `ringside log --format jsonl`.

usage: perfetto_check.py EXPORT.json LOG.jsonl

Structure: the file is one JSON object with "traceEvents"; every event has ph, pid, tid (and
ts, name, cat except metadata); on every track (pid, tid) the timestamps never go back and
every "B" has its "E" with the same name, in nesting order, none left open; every process has
a process_name. Counts: one "transition" slice (not counting those continued on another
space's track after a CR3 load) per entry event in the log (exception,
interrupt, int, sysenter, lcall, ljmp), one "fault" instant per exception and triple fault,
each exception's instant carrying the log's explanation (its "fault" text).
Names: each transition slice is named as the log names the entry (a system call by its name,
or "syscall N"; an exception by its table name, "#PF"; an interrupt or INT n by the words
after " | " in its log line, "IRQ0 timer", "LAPIC timer", "int 0x30") and carries the log
line in args.text, in the log's order; every space the log names is a process called
"NAME (pid N)".
Prints one line per problem and exits 1, or prints a summary and exits 0.
"""
import collections
import json
import sys

ENTRY_KINDS = {"exception", "interrupt", "int", "sysenter", "lcall", "ljmp"}


def slice_name(ev):
    """The name of an entry's slice, from its log object."""
    if "syscall" in ev:
        sc = ev["syscall"]
        return sc["name"] if sc["name"] is not None else f"syscall {sc['nr']}"
    if ev["kind"] == "exception":
        name = ev["fault"].split("(")[0].split(":")[0]
        return f"exception 0x{ev['vector']:02x}" if name.startswith("vector ") else name
    if ev["kind"] in ("interrupt", "int"):
        return ev["text"].split(" | ")[1]
    return ev["kind"]


def main():
    if len(sys.argv) != 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    problems = []
    with open(sys.argv[1]) as f:
        doc = json.load(f)
    events = doc.get("traceEvents")
    if not isinstance(events, list) or not events:
        print("no traceEvents list")
        return 1
    stacks = collections.defaultdict(list)
    last_ts = {}
    named = set()
    pids = set()
    transitions = 0
    slices = []
    process_names = {}
    faults = []
    for i, e in enumerate(events):
        for field in ("ph", "pid", "tid", "name"):
            if field not in e:
                problems.append(f"event {i} lacks {field}: {e}")
        ph = e.get("ph")
        track = (e.get("pid"), e.get("tid"))
        pids.add(e.get("pid"))
        if ph == "M":
            if e.get("name") == "process_name":
                named.add(e.get("pid"))
                process_names[e.get("pid")] = e.get("args", {}).get("name")
            continue
        for field in ("ts", "cat"):
            if field not in e:
                problems.append(f"event {i} lacks {field}: {e}")
        ts = e.get("ts", 0)
        if track in last_ts and ts < last_ts[track]:
            problems.append(f"event {i}: ts {ts} before {last_ts[track]} on track {track}")
        last_ts[track] = ts
        if ph == "B":
            stacks[track].append(e["name"])
            if e.get("cat") == "transition" and not e.get("args", {}).get("continued"):
                transitions += 1
                slices.append((e["name"], e.get("args", {}).get("text")))
        elif ph == "E":
            if not stacks[track]:
                problems.append(f"event {i}: E '{e['name']}' with nothing open on {track}")
            elif stacks[track][-1] != e["name"]:
                problems.append(f"event {i}: E '{e['name']}' closes B '{stacks[track][-1]}'")
                stacks[track].pop()
            else:
                stacks[track].pop()
        elif ph == "i":
            if e.get("cat") == "fault":
                faults.append(e.get("args", {}).get("fault"))
        elif ph == "C":
            if "cpl" not in e.get("args", {}):
                problems.append(f"event {i}: counter without args.cpl")
        else:
            problems.append(f"event {i}: unexpected ph '{ph}'")
    for track, st in stacks.items():
        if st:
            problems.append(f"track {track}: {len(st)} slices never end ({st})")
    for pid in pids - named:
        problems.append(f"process {pid} has no process_name")

    want_transitions = 0
    want_faults = []
    want_slices = []
    want_spaces = set()
    with open(sys.argv[2]) as f:
        for line in f:
            ev = json.loads(line)
            if ev["pid"] is not None:
                want_spaces.add(f"{ev['space']} (pid {ev['pid']})")
            if ev["kind"] in ENTRY_KINDS:
                want_transitions += 1
                want_slices.append((slice_name(ev), ev["text"]))
            if ev["kind"] in ("exception", "shutdown"):
                want_faults.append(ev.get("fault"))
    if transitions != want_transitions:
        problems.append(f"{transitions} transition slices, the log has {want_transitions} entries")
    if slices != want_slices:
        bad = next(i for i, (a, b) in enumerate(zip(slices + [None] * len(want_slices),
                                                     want_slices + [None] * len(slices)))
                   if a != b)
        problems.append(f"transition slice {bad} is {slices[bad] if bad < len(slices) else None}, "
                        f"the log's entry {want_slices[bad] if bad < len(want_slices) else None}")
    missing = want_spaces - set(process_names.values())
    if missing:
        problems.append(f"spaces the log names have no process: {sorted(missing)}")
    if faults != want_faults:
        problems.append(f"fault instants {len(faults)} differ from the log's {len(want_faults)} "
                        f"faults (first: {faults[:1]} vs {want_faults[:1]})")
    for p in problems[:20]:
        print(p)
    if problems:
        return 1
    print(f"perfetto_check: {len(events)} events, {len(pids)} processes, {transitions} "
          f"transition slices, {len(faults)} faults: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
