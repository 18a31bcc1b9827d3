#!/usr/bin/env bash
# ctest guest.irq_apic.intlog: runs irq_apic with `--log int` and the input file, and checks
# that the external interrupts name their sources, as docs/machine.md says they do:
#   - the periodic and one-shot timer deliveries (vector 0x20) end in "| LAPIC timer" (ten
#     periodic ticks and the held-back one-shot, at least);
#   - the self IPI (vector 0x21) ends in "| self IPI";
#   - COM1's deliveries (vector 0x24) end in "| IOAPIC pin 4 → COM1", one per byte received;
#   - no interrupt is delivered without a source (the 8259A pair is masked) and the run passed;
#   - `--log unimp` names only the POST port 0x80 (kern.c's outb_p): every APIC register the
#     guest touches is claimed.
#
#   check-apic-intlog.sh RINGSIDE IMAGE INPUT
set -u
ringside=$1 image=$2 input=$3
tmp=$(mktemp -d "${TMPDIR:-/tmp}/apicint.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT

fail() {
    echo "check-apic-intlog: $*" >&2
    exit 1
}

"$ringside" run "$image" --max-insns 200000000 --log int,unimp --log-file "$tmp/int.log" \
    <"$input" >"$tmp/out" 2>"$tmp/err"
status=$?
if [ "$status" -ne 1 ]; then
    cat "$tmp/out" "$tmp/err" >&2
    fail "exit status $status, want 1 (the guest passed)"
fi
grep -q '^irq_apic: PASS$' "$tmp/out" || fail "the guest did not pass"
if grep '^unimp:' "$tmp/int.log" | grep -v '^unimp: port 0x0080 write'; then
    fail "unclaimed accesses (above)"
fi
ints=$(grep -c ': \(cr3=[0-9a-f]* \)\?v=.. e=0000 i=0 ' "$tmp/int.log")
timer=$(grep -c ': \(cr3=[0-9a-f]* \)\?v=20 e=0000 i=0 .* | LAPIC timer$' "$tmp/int.log")
ipi=$(grep -c ': \(cr3=[0-9a-f]* \)\?v=21 e=0000 i=0 .* | self IPI$' "$tmp/int.log")
com1=$(grep -c ': \(cr3=[0-9a-f]* \)\?v=24 e=0000 i=0 .* | IOAPIC pin 4 → COM1$' "$tmp/int.log")
bytes=$(sed -n 's/^irq_apic: \([0-9]*\) bytes before the newline$/\1/p' "$tmp/out")
echo "check-apic-intlog: $ints interrupts: $timer LAPIC timer, $ipi self IPI, $com1 IOAPIC pin 4"
[ "$timer" -ge 11 ] || fail "$timer LAPIC timer deliveries, want at least 11"
[ "$ipi" -eq 1 ] || fail "$ipi self IPI deliveries, want 1"
[ -n "$bytes" ] && [ "$com1" -ge 1 ] && [ "$com1" -le $((bytes + 1)) ] \
    || fail "$com1 COM1 deliveries for ${bytes:-?} bytes"
[ "$ints" -eq $((timer + ipi + com1)) ] || fail "$ints interrupts, but only $((timer + ipi + com1)) name their source"
grep -m1 ' | IOAPIC pin 4 → COM1$' "$tmp/int.log"
