#!/usr/bin/env bash
# tests/nocycles.sh FILE.o...: the object files of one program call one
# another without cycles: each file may call only files below it.  The
# calls are read from the symbols (nm) and sorted with tsort, which names
# any loop.
set -u
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
for o in "$@"; do
  f=$(basename "$o" .o)
  nm -g --defined-only "$o" | awk -v f="$f" 'NF == 3 {print $3, f}'
done | sort -k1,1 >"$tmp/defs"
for o in "$@"; do
  f=$(basename "$o" .o)
  nm -u "$o" | awk -v f="$f" '{print $2, f}'
done | sort -k1,1 >"$tmp/uses"
# "user definer" for every call between two files
join "$tmp/uses" "$tmp/defs" | awk '$2 != $3 {print $2, $3}' | sort -u >"$tmp/edges"
if ! tsort "$tmp/edges" >/dev/null 2>"$tmp/err"; then
  echo "nocycles: files call one another in a loop:" >&2
  grep -v "input contains a loop" "$tmp/err" | sed "s/^tsort: /  /" >&2
  exit 1
fi
echo "nocycles: $# files, $(wc -l <"$tmp/edges") calls between files, no loop"
