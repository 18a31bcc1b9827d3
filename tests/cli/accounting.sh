#!/usr/bin/env bash
# The emulator's own accounting agrees with the demo kernel's, process by process, and the
# difference is the one docs/accounting.md explains. The kernel names each process's address
# space through the names port, so --stats says which space is which process (no guessing).
# For every process the kernel's RDTSC count (user + sys: on Ringside RDTSC counts
# instructions) must be at most Ringside's count of instructions in that address space (kernel
# + user), and short of it by at most 8,000: the kernel closes a process's books before it
# prints the process's exit line and switches away, still in its address space. (The user/sys
# split differs too: the kernel's entry and exit stubs run in ring 0 but are charged to the
# process's user time.)
#
#   accounting.sh RINGSIDE
set -u
ringside=$1
out=$("$ringside" demo --stats </dev/null 2>&1)
status=$?
[ "$status" -eq 1 ] || { echo "accounting: ringside demo exited $status" >&2; exit 1; }
echo "$out" | awk '
    # kernel summary:  pid name status ... syscalls  user_tsc  sys_tsc
    /^ +[0-9]+ [a-z]+ +(exit|killed|cpu)/ { n = NF; k[$2] = $(n - 1) + $n; order[++np] = $2 }
    # ringside: address space cr3=0015c000 pid 2 (syscalls): kernel N, user M instructions
    /^ringside: address space cr3=[0-9a-f]+ pid [0-9]+ \(/ {
        name = $0; sub(/.*\(/, "", name); sub(/\).*/, "", name)
        kern = $0; sub(/.*: kernel /, "", kern); sub(/,.*/, "", kern)
        usr = $0; sub(/.*, user /, "", usr); sub(/ .*/, "", usr)
        r[name] = kern + usr
    }
    # every SYSEXIT returns from a SYSENTER: the round trips --stats counts add up to them
    /^ringside: transitions: / { t = $0; sub(/.*sysexit /, "", t); sub(/[^0-9].*/, "", t); sysexits = t }
    /^ringside: round trips / {
        t = $0; sub(/.*by SYSENTER /, "", t); split(t, w, / /); rt = w[1]
        sw = 0; if (t ~ /^[0-9]+ x [0-9.]+ \(\+[0-9]+ across/) { s2 = t; sub(/^[^+]*\+/, "", s2); sw = s2 + 0 }
        sysenter_rt = rt + sw
    }
    END {
        bad = 0
        if (sysexits == "" || sysenter_rt != sysexits) {
            printf "accounting: %s SYSENTER round trips in --stats, %s SYSEXIT transitions\n", sysenter_rt, sysexits
            bad++
        } else
            printf "accounting: %d SYSENTER round trips, one per SYSEXIT\n", sysenter_rt
        for (i = 1; i <= np; i++) {
            p = order[i]
            if (!(p in r)) { printf "accounting: %s has no named address space in --stats\n", p; bad++; continue }
            d = r[p] - k[p]
            ok = d >= 0 && d <= 8000
            printf "accounting: %-10s kernel says %d instructions, Ringside %d: %d more (%s)\n",
                   p, k[p], r[p], d, ok ? "its exit path" : "NOT EXPLAINED"
            if (!ok) bad++
        }
        if (np == 0) { print "accounting: no process to check" > "/dev/stderr"; exit 1 }
        exit bad ? 1 : 0
    }'
