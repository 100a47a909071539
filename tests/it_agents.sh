#!/usr/bin/env bash
# The holder agents against a real carnetd, on a carnet-synth panel:
# enrolled rows stored, others skipped, reruns store nothing twice,
# malformed exports refused at their line, the device stream reproducible
# from its seed.
set -u
B=${CARNET_BIN:-$PWD/bin}
T=$(mktemp -d /tmp/carnet-agents.XXXX); pid=; pass=0
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "$pass passed, 1 failed"; exit 1; }
ok() { pass=$((pass + 1)); echo "ok - $*"; }
for _ in 1 2 3 4 5; do
  EP=tcp://127.0.0.1:$(( 20000 + (RANDOM % 20000) ))
  "$B/carnetd" --data "$T/d" --listen "$EP" >/dev/null 2>"$T/log" & pid=$!
  sleep 0.4; kill -0 "$pid" 2>/dev/null && break
done
: >"$T/ids"
for i in 1 2 3 4 5 6 7 8; do "$B/carnet" keygen --out "$T/u$i.key" 2>/dev/null >>"$T/ids"; done
for p in mgen ph lab dev; do "$B/carnet" keygen --out "$T/$p.key" >"$T/$p.id" 2>/dev/null; done
i=1; while read -r id; do "$B/carnet" party add --data "$T/d" --role user --name "u$i" --id "$id" >/dev/null; i=$((i+1)); done <"$T/ids"
add() { "$B/carnet" party add --data "$T/d" --role holder "$@" >/dev/null || fail "party add $*"; }
add --name mgen --id "$(cat "$T/mgen.id")" --type claim --type profile
add --name ph --id "$(cat "$T/ph.id")" --type dispense
add --name lab --id "$(cat "$T/lab.id")" --type lab_result
add --name dev --id "$(cat "$T/dev.id")" --type observation --type context
"$B/carnet-synth" --ids "$T/ids" --out "$T/s" --seed 11 >/dev/null || fail "carnet-synth"
for f in mutual pharmacy lab device; do  # a test on nobody proves nothing
  [ "$(wc -l <"$T/s/${f}_enrollment.csv")" -gt 1 ] || fail "nobody enrolled with $f: pick another seed"
done
A() { local who=$1 prog=$2; shift 2; CARNET_KEY="$T/$who.key" timeout 60 "$B/$prog" --broker "$EP" --data "$T/d" "$@"; }
enrolled_rows() { # csv enrollment: rows of enrolled customers
  awk -F, 'NR == FNR { if (FNR > 1) e[$1] = 1; next } FNR > 1 && ($1 in e)' "$2" "$1" | wc -l
}
for spec in "mgen carnet-insurer mutual_claims.csv mutual_enrollment.csv" \
            "mgen carnet-insurer mutual_profiles.csv mutual_enrollment.csv --type profile" \
            "ph carnet-pharmacy pharmacy.csv pharmacy_enrollment.csv" \
            "lab carnet-lab lab.csv lab_enrollment.csv"; do
  set -- $spec
  want=$(enrolled_rows "$T/s/$3" "$T/s/$4")
  total=$(( $(wc -l <"$T/s/$3") - 1 ))
  A "$1" "$2" --csv "$T/s/$3" --enrollment "$T/s/$4" "${@:5}" >"$T/o" 2>"$T/e" || fail "$2 $3: $(cat "$T/e")"
  grep -q ": $want stored, 0 already stored, $(( total - want )) rows skipped" "$T/o" || fail "$2 $3: want $want stored, $(( total - want )) skipped: $(cat "$T/o")"
  A "$1" "$2" --csv "$T/s/$3" --enrollment "$T/s/$4" "${@:5}" | grep -q ": 0 stored, $want already stored" || fail "$2 $3: rerun stored again"
done
ok "insurer, pharmacy and lab: enrolled rows stored, others skipped, reruns store nothing"

A mgen carnet-insurer --csv "$T/s/pharmacy.csv" --enrollment "$T/s/mutual_enrollment.csv" 2>"$T/e" >/dev/null && fail "a pharmacy export passed as claims"
grep -q "line 1: header: column 'cip13' is not a field of claim" "$T/e" || fail "wrong header message: $(cat "$T/e")"
cust=$(sed -n 2p "$T/s/lab_enrollment.csv" | cut -d, -f1)
{ head -3 "$T/s/lab.csv"; echo "$cust,bad,2017-02-30,4548-4,HbA1c,6.1,%,4,6"; } >"$T/bad.csv"
A lab carnet-lab --csv "$T/bad.csv" --enrollment "$T/s/lab_enrollment.csv" 2>"$T/e" >/dev/null && fail "a bad date passed"
grep -q "line 4: column time" "$T/e" || fail "bad date message: $(cat "$T/e")"
A lab carnet-lab --type claim --csv "$T/s/lab.csv" --enrollment "$T/s/lab_enrollment.csv" 2>/dev/null >/dev/null; [ $? -eq 1 ] || fail "a lab pushed claims"
A ph carnet-pharmacy --csv "$T/s/pharmacy.csv" --enrollment "$T/nope.csv" 2>"$T/e" >/dev/null && fail "a missing enrollment file passed"
ok "malformed exports and wrong uses refused, naming line and column"

A dev carnet-device --enrollment "$T/s/device_enrollment.csv" --seed 5 --duration 2 --speed 24 >"$T/d1" || fail "device: $(cat "$T/d1")"
n=$(sed -n 's/.*: \([0-9]*\) stored, 0 already stored/\1/p' "$T/d1")
[ -n "$n" ] && [ "$n" -gt 0 ] || fail "device stored nothing: $(cat "$T/d1")"
A dev carnet-device --enrollment "$T/s/device_enrollment.csv" --seed 5 --duration 1 --speed 24 | grep -q ": 0 stored, [0-9]* already stored" || fail "same seed, same hours: stored again"
ok "device stream: $n readings, the same seed gives the same readings (none stored twice)"
echo "$pass passed, 0 failed"
