#!/usr/bin/env bash
# tests/nocycles.sh FILE.o...: the object files of one directory call one
# another without cycles: each file may call only files below it.  The
# calls are read from the symbols (nm) and sorted with tsort, which names
# any loop; the calls between the files of the loop are listed.
set -u
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
where=$(for o in "$@"; do dirname "$o"; done | sort -u | tr '\n' ' ')
for o in "$@"; do
  f=$(basename "$o" .o)
  nm -g --defined-only "$o" | awk -v f="$f" 'NF == 3 {print $3, f}'
done | sort -k1,1 >"$tmp/defs"
for o in "$@"; do
  f=$(basename "$o" .o)
  nm -u "$o" | awk -v f="$f" '{print $2, f}'
done | sort -k1,1 >"$tmp/uses"
# "symbol user definer" for every call between two files
join "$tmp/uses" "$tmp/defs" | awk '$2 != $3' >"$tmp/calls"
awk '{print $2, $3}' "$tmp/calls" | sort -u >"$tmp/edges"
if ! tsort "$tmp/edges" >/dev/null 2>"$tmp/err"; then
  grep -v "input contains a loop" "$tmp/err" | sed "s/^tsort: //" >"$tmp/loop"
  echo "nocycles: ${where}files call one another in a loop:" >&2
  awk 'NR == FNR {in_loop[$1] = 1; next}
    in_loop[$2] && in_loop[$3] {print "  " $2 " calls " $3 ": " $1}' \
    "$tmp/loop" "$tmp/calls" | sort -u >&2
  exit 1
fi
echo "nocycles: ${where}$# files, $(wc -l <"$tmp/edges") calls between files, no loop"
