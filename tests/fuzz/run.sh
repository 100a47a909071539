#!/usr/bin/env bash
# tests/fuzz/run.sh DIR SECONDS NAME...: run each libFuzzer harness
# DIR/fuzz/fuzz_NAME for SECONDS on a working copy of its seed corpus
# (tests/corpus/NAME), and report executions, coverage and corpus size.
# A crash fails the run and keeps the input that caused it in DIR/crashes.
set -u
dir=$1 secs=$2; shift 2
mkdir -p "$dir/crashes"
status=0
printf '%-8s %10s %8s %8s %7s  %s\n' harness execs exec/s cov corpus result | tee "$dir/summary.txt"
for name in "$@"; do
  work="$dir/corpus/$name"; mkdir -p "$work"
  seeds=tests/corpus/$name; [ -d "$seeds" ] || seeds=
  out=$("$dir/fuzz/fuzz_$name" -max_total_time="$secs" -max_len=65536 -print_final_stats=1 \
        -artifact_prefix="$dir/crashes/$name-" -close_fd_mask=3 "$work" $seeds 2>&1); rc=$?
  execs=$(printf '%s\n' "$out" | sed -n 's/^stat::number_of_executed_units: *//p' | tail -1)
  rate=$(printf '%s\n' "$out" | sed -n 's/^stat::average_exec_per_sec: *//p' | tail -1)
  cov=$(printf '%s\n' "$out" | grep -o 'cov: [0-9]*' | tail -1 | cut -d' ' -f2)
  corp=$(printf '%s\n' "$out" | grep -o 'corp: [0-9]*' | tail -1 | cut -d' ' -f2)
  result=ok; [ $rc -eq 0 ] || { result="CRASH (rc $rc), see $dir/crashes"; status=1; printf '%s\n' "$out" | tail -30; }
  printf '%-8s %10s %8s %8s %7s  %s\n' "$name" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${corp:-?}" "$result" | tee -a "$dir/summary.txt"
done
[ $status -eq 0 ] && echo "fuzz: no crash" || echo "fuzz: crashes found"
exit $status
