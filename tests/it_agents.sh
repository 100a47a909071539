#!/usr/bin/env bash
# The holder agents against a real carnetd, on a carnet-synth panel:
# enrolled rows stored, others skipped, reruns store nothing twice,
# malformed exports refused at their line, the device stream reproducible
# from its seed.
source "$(dirname "$0")/itlib.sh"
start_broker
: >"$T/ids"
for i in 1 2 3 4 5 6 7 8; do "$B/carnet" keygen --out "$T/u$i.key" 2>/dev/null >>"$T/ids"; done
keys mgen ph lab dev
i=1; while read -r uid; do add --role user --name "u$i" --id "$uid"; i=$((i+1)); done <"$T/ids"
add --role holder --name mgen --id "$(id mgen)" --type claim --type profile
add --role holder --name ph --id "$(id ph)" --type dispense
add --role holder --name lab --id "$(id lab)" --type lab_result
add --role holder --name dev --id "$(id dev)" --type observation --type context
"$B/carnet-synth" --ids "$T/ids" --out "$T/s" --seed 11 >/dev/null || fail "carnet-synth"
for f in mutual pharmacy lab device; do  # a test on nobody proves nothing
  [ "$(wc -l <"$T/s/${f}_enrollment.csv")" -gt 1 ] || fail "nobody enrolled with $f: pick another seed"
done
A() { local who=$1 prog=$2; shift 2; CARNET_KEY="$T/$who.key" timeout 60 "$B/$prog" --broker "$EP" --data "$DATA" "$@"; }
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
