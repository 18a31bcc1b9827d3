#!/bin/bash
# diff_test --replay on damaged corpora: one line on stderr naming the problem, exit status 2,
# never a pass. Usage: bad_corpus.sh DIFF_TEST CORPUS WORKDIR CASE
set -u
diff_test=$1 corpus=$2 work=$3 case=$4
mkdir -p "$work" && cd "$work" || exit 1
f=$case.rsdc
size=$(stat -c %s "$corpus")
# the offset of the "cases: " line, the last of the text header
header=$(grep -abo -m1 '^cases: ' "$corpus" | head -1 | cut -d: -f1)
case $case in
  missing)   rm -f "$f"; want="cannot read" ;;
  not_corpus) printf 'hello\n' > "$f"; want="not a Ringside differential corpus" ;;
  version)   sed '1s/CORPUS 1/CORPUS 9/' "$corpus" > "$f"; want="version" ;;
  no_count)  sed '/^cases: /d' "$corpus" > "$f"; want="lacks oracle-kind or cases" ;;
  header_cut) head -c $((header + 5)) "$corpus" > "$f"; want="header" ;;
  truncated) head -c $((size / 2)) "$corpus" > "$f"; want="truncated" ;;
  tail_cut)  head -c $((size - 3)) "$corpus" > "$f"; want="truncated" ;;
  flipped)   cp "$corpus" "$f"; printf '\xff\xff\xff\xff' | dd of="$f" bs=1 seek=$((size * 3 / 4)) conv=notrunc status=none
             want="damaged" ;;
  trailing)  { cat "$corpus"; printf 'x'; } > "$f"; want="after the records" ;;
  more)      sed '0,/^cases: /s/^cases: \([0-9]*\)/cases: 1\1/' "$corpus" > "$f"; want="the file holds" ;;
  fewer)     sed '0,/^cases: /s/^cases: \([0-9]*\)[0-9]$/cases: \1/' "$corpus" > "$f"; want="more records than the header" ;;
  *) echo "unknown case $case"; exit 1 ;;
esac
out=$("$diff_test" --replay "$f" 2>$case.err >/dev/null); status=$?
lines=$(wc -l < $case.err)
if [ "$status" -ne 2 ] || [ "$lines" -ne 1 ] || ! grep -q "$want" $case.err; then
    echo "case $case: status $status, $lines line(s) on stderr, expected 2 and one line with '$want':"
    cat $case.err
    exit 1
fi
echo "case $case: $(cat $case.err)"
