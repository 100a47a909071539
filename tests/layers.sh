#!/usr/bin/env bash
# tests/layers.sh CC O "LIBS" LAYER...: the layers, from the top down, as
# they are linked.  Each layer's archive, taken whole, must link against
# the layers after it and the system libraries alone: a call into a layer
# above it, or into a program's own files, fails here and is named.
set -u
CC=$1 O=$2 LIBS=$3; shift 3
layers=("$@")
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
echo 'int main(void) { return 0; }' >"$tmp/main.c"
bad=0
for ((i = 0; i < ${#layers[@]}; i++)); do
  below=()
  for ((j = i + 1; j < ${#layers[@]}; j++)); do below+=("$O/lib${layers[j]}.a"); done
  # shellcheck disable=SC2086
  if ! $CC $LDFLAGS_LAYERS -o "$tmp/a.out" "$tmp/main.c" -Wl,--whole-archive \
      "$O/lib${layers[i]}.a" -Wl,--no-whole-archive "${below[@]}" $LIBS \
      2>"$tmp/err"; then
    echo "layers: ${layers[i]} needs what is not below it:" >&2
    grep -o "undefined reference to [^ ]*" "$tmp/err" | sort -u | sed 's/^/  /' >&2
    bad=1
  fi
done
# and no header of a layer above (or of a program) is included either
for ((i = 0; i < ${#layers[@]}; i++)); do
  ok="${layers[i]}"
  for ((j = i + 1; j < ${#layers[@]}; j++)); do ok="$ok|${layers[j]}"; done
  up=$(grep -Hn '#include "\.\./' "${layers[i]}"/*.[ch] | grep -Ev "#include \"\.\./($ok)/")
  if [ -n "$up" ]; then
    echo "layers: ${layers[i]} includes from above it:" >&2
    echo "$up" | sed 's/^/  /' >&2
    bad=1
  fi
done
[ $bad -eq 0 ] && echo "layers: ${layers[*]}: each links with what is below it alone, and includes nothing from above"
exit $bad
