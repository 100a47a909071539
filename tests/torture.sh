#!/usr/bin/env bash
# make torture: the long part of the reliability suite.  kill -9 carnetd
# at random moments over a long stream (tests/test_crash.c), then every
# fuzz harness for a while; writes the figures to docs/RELIABILITY.md.
set -u
KILLS=${TORTURE_KILLS:-50} RECORDS=${TORTURE_RECORDS:-1000000} FUZZ=${TORTURE_FUZZ_SECONDS:-300}
LOSSES=${TORTURE_POWERLOSSES:-100} LOSS_RECORDS=${TORTURE_POWERLOSS_RECORDS:-200000}
B=${CARNET_BIN:-$PWD/bin}
out=$(mktemp)
echo "== kill -9 x $KILLS over $RECORDS records, then $LOSSES power losses over $LOSS_RECORDS"
start=$(date +%s)
CARNET_BIN=$B CARNET_CRASH_KILLS=$KILLS CARNET_CRASH_RECORDS=$RECORDS \
    CARNET_POWERLOSS_KILLS=$LOSSES CARNET_POWERLOSS_RECORDS=$LOSS_RECORDS \
    build/tests/test_crash >"$out" 2>&1
crash_rc=$?
crash_s=$(( $(date +%s) - start ))
line=$(grep -o '^crash: .*' "$out" || tail -3 "$out")
loss_line=$(grep -o '^power loss: .*' "$out" || echo "power loss: did not finish")
echo "$line"
echo "$loss_line"
echo "== fuzzing, ${FUZZ}s per harness"
make --no-print-directory CC=clang O=build/fuzz SANFLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer" fuzz-build >/dev/null
bash tests/fuzz/run.sh build/fuzz "$FUZZ" record json token frame fhir csv
fuzz_rc=$?
{
  echo "# Reliability figures"
  echo
  echo "Written by \`make torture\` on $(date -u +%Y-%m-%d) ($(nproc) cores, $(uname -r))."
  echo
  echo "## Crashes (tests/test_crash.c)"
  echo
  echo "kill -9 of carnetd at random moments (5 to 205 ms after a kill is asked)"
  echo "while two holders take turns streaming acknowledged batches of 250 claims and an app"
  echo "consumes and acks; half-way the person revokes the app's consent and"
  echo "grants a new one.  After each kill, on the store itself: every ACKed"
  echo "record is stored and none twice, cursors never went backwards, every"
  echo "record the app received has its use-log entry, the chain verifies,"
  echo "nothing was delivered under the revoked token after its revocation;"
  echo "at the end every stored record reached the app at least once."
  echo
  echo "    $line"
  echo
  echo "## Power losses (tests/test_crash.c under tests/powerloss/)"
  echo
  echo "The same run with carnetd under an LD_PRELOAD shim that records, before"
  echo "each write into the data directory, what it overwrites; after each kill"
  echo "pl-undo puts every file back as it was at its last fsync or fdatasync"
  echo "(writes through O_DSYNC descriptors, LMDB's meta page, are durable at"
  echo "once), as a machine that lost power would find it, then the same checks."
  echo "A kill -9 alone cannot see a missing fsync (the page cache survives it):"
  echo "with commits made without fsync (the benchmark build's"
  echo "CARNET_BENCH_NOSYNC) the kill -9 run passes and this one fails at once."
  echo
  echo "    $loss_line"
  echo "    ($KILLS kills and $LOSSES power losses asked, $RECORDS and $LOSS_RECORDS records, ${crash_s}s in all, exit $crash_rc)"
  echo
  echo "## Fuzzing (tests/fuzz/, libFuzzer + ASan + UBSan, ${FUZZ}s each)"
  echo
  echo '```'
  cat build/fuzz/summary.txt
  echo '```'
  echo
  echo "Seeds: tests/corpus/.  \`make fuzz FUZZ_SECONDS=N\` runs them again;"
  echo "\`make test\` runs each for 4 s."
} >docs/RELIABILITY.md
rm -f "$out"
[ $crash_rc -eq 0 ] && [ $fuzz_rc -eq 0 ] && echo "torture: all held (docs/RELIABILITY.md)" || { echo "torture: FAILED"; exit 1; }
