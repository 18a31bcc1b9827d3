#!/usr/bin/env bash
# The emulator's own accounting agrees with the demo kernel's: for every process that ran more
# than 1,000,000 instructions, the kernel's RDTSC count (user + sys, which counts instructions
# in Ringside) matches the kernel + user instructions Ringside counted in one address space
# (--stats, per CR3) to within 1%. (The user/sys split differs by the kernel's entry and exit
# stubs, which Ringside charges to the ring they run in and the kernel to the process's ring.)
#
#   accounting.sh RINGSIDE
set -u
ringside=$1
out=$("$ringside" demo --stats </dev/null 2>&1)
status=$?
[ "$status" -eq 1 ] || { echo "accounting: ringside demo exited $status" >&2; exit 1; }
echo "$out" | awk '
    # kernel summary:  pid name status ... syscalls  user_tsc  sys_tsc
    /^ +[0-9]+ [a-z]+ +(exit|killed|cpu)/ { n = NF; k[$2] = $(n - 1) + $n }
    /^ringside: address space cr3=/ {
        split($0, w, /[ ,]+/)
        for (i = 1; i <= length(w); i++) {
            if (w[i] == "kernel") kern = w[i + 1]
            if (w[i] == "user") usr = w[i + 1]
        }
        space[++ns] = kern + usr
    }
    END {
        bad = 0; checked = 0
        for (p in k) {
            if (k[p] < 1000000) continue
            best = -1
            for (s = 1; s <= ns; s++) {
                d = space[s] - k[p]; if (d < 0) d = -d
                if (best < 0 || d < best) best = d
            }
            rel = best / k[p]
            printf "accounting: %-10s kernel says %d instructions, Ringside %s (off by %.3f%%)\n",
                   p, k[p], (best < 0 ? "nothing" : "within " best), 100 * rel
            checked++
            if (best < 0 || rel > 0.01) bad++
        }
        if (checked == 0) { print "accounting: no process to check" > "/dev/stderr"; exit 1 }
        exit bad ? 1 : 0
    }'
