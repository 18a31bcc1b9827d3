#!/usr/bin/env bash
# README.md stays true to the command line: its copy of `ringside --help` (the block after
# "<!-- ringside --help -->") is the usage text the binary prints, byte for byte, and its options
# table has one row per option that usage lists, no other, with the same commands:
#   | `--mem MIB` | run and demo | ... |   for "--mem MIB" under "options for run and demo:".
#
# usage: readme.sh RINGSIDE README
set -u
ringside=$1
readme=$2
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
ok=1
say() { echo "FAIL: $*"; ok=0; }

"$ringside" --help > "$tmp/usage" || say "ringside --help exited $?"
awk '/^<!-- ringside --help -->$/ { marker = 1; next }
     marker && /^```$/ { if (inside) exit; inside = 1; next }
     inside { print }' "$readme" > "$tmp/copy"
[ -s "$tmp/copy" ] || say "no usage block after '<!-- ringside --help -->' in $readme"
diff -u --label "README.md's copy" --label "ringside --help" "$tmp/copy" "$tmp/usage" ||
    say "README.md's usage differs from 'ringside --help' (paste the new text)"

# "SYNOPSIS|COMMANDS" for each option in the usage and each row of the README's table.
awk '/^options for .*:$/ { who = $0; sub(/^options for /, "", who); sub(/:$/, "", who); next }
     /^$/ { who = "" }
     who != "" && /^  -/ { line = substr($0, 3); sub(/  +.*$/, "", line); print line "|" who }' \
    "$tmp/usage" | sort > "$tmp/want"
awk -F' [|] ' '/^[|] option [|] commands [|] meaning [|]$/ { table = 1; next }
     table && /^[|] ---/ { next }
     table && !/^[|]/ { exit }
     table { opt = $1; sub(/^[|] `/, "", opt); sub(/`$/, "", opt); print opt "|" $2 }' \
    "$readme" | sort > "$tmp/have"
[ "$(wc -l < "$tmp/want")" -gt 0 ] || say "no options found in 'ringside --help'"
[ "$(wc -l < "$tmp/have")" -gt 0 ] || say "no '| option | commands | meaning |' table in $readme"
diff -u --label "README.md's options table" --label "ringside --help" "$tmp/have" "$tmp/want" ||
    say "README.md's options table differs from the options 'ringside --help' lists"

[ "$ok" -eq 1 ] || exit 1
echo "PASS: README.md's usage and options table match 'ringside --help' ($(wc -l < "$tmp/want") options)"
