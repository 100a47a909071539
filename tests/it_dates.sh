#!/usr/bin/env bash
# Record times across carnet's whole range, 0001-01-01T00:00:00Z to
# 9999-12-31T23:59:59Z, against a real carnetd: a consent without --since
# delivers every one of them; carnet writes them with four-digit years,
# so its FHIR export of a year-1 record imports into a fresh broker as the
# same record; a time outside the range is refused, naming the range.
source "$(dirname "$0")/itlib.sh"
RANGE="0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z"
keys jane mg bud
register() {
  add --role user --name jane --id "$(id jane)"
  add --role holder --name mg --id "$(id mg)" --type claim
  add --role app --name bud --id "$(id bud)" --purpose budget
}
start_broker
register
J=$(id jane)
claim() { printf '{"user":"%s","ref":"%s","time":%s,"act_code":"C","label":"Consultation","amount_eur":25,"reimbursed_eur":16.5,"practitioner":"gp"}\n' "$J" "$1" "$2"; }

# 33 of year 1 and 3 of year 9999, mixed, under a consent given before
C jane consent grant --app "$(id bud)" --types claim --purpose budget --yes >/dev/null 2>"$T/e" || fail "grant: $(cat "$T/e")"
for i in $(seq 36); do
  if [ $((i % 12)) -eq 6 ]; then claim "y$i" '"9999-12-31T23:59:59Z"'; else claim "y$i" '"0001-01-01T00:00:00Z"'; fi
done | C mg put --type claim >"$T/o" 2>"$T/e" || fail "put: $(cat "$T/e")"
grep -q "36 stored" "$T/o" || fail "put: $(cat "$T/o")"
C bud subscribe --idle-exit 2 >"$T/s.jsonl" 2>/dev/null || fail "subscribe"
[ "$(wc -l <"$T/s.jsonl")" -eq 36 ] || fail "$(wc -l <"$T/s.jsonl") of 36 records delivered"
[ "$(jq -s '[.[] | select(.time == "0001-01-01T00:00:00Z")] | length' "$T/s.jsonl")" -eq 33 ] || fail "year 1: $(jq -c .time "$T/s.jsonl" | sort | uniq -c)"
[ "$(jq -s '[.[] | select(.time == "9999-12-31T23:59:59Z")] | length' "$T/s.jsonl")" -eq 3 ] || fail "year 9999"
ok "a consent without --since delivers all 36 records of years 0001 and 9999 (33 + 3, mixed)"

# outside the range: refused before anything is sent, naming the range
for t in '"0000-12-31T00:00:00Z"' '"0001-01-01T00:00:00+00:01"' -62135596801 253402300800; do
  claim out "$t" | C mg put --type claim >"$T/o" 2>"$T/e" && fail "time $t was stored"
  grep -q "envelope time: .*$RANGE" "$T/e" || fail "time $t: $(cat "$T/e")"
done
C jane consent grant --app "$(id bud)" --types claim --purpose budget --since 0000-01-01 --yes >/dev/null 2>"$T/e" && fail "granted --since year 0"
grep -q -- "--since: want a date from $RANGE" "$T/e" || fail "--since year 0: $(cat "$T/e")"
ok "times before 0001 or after 9999 (dates, offsets, seconds) are refused naming the range; so is --since 0000-01-01"

# the FHIR export writes year 1 as 0001 and a fresh broker takes it back
X() { CARNET_KEY="$T/jane.key" timeout 60 "$B/carnet" export --broker "$EP" --data "$DATA" "$@"; }
X --out "$T/a.json" 2>"$T/e" || fail "export: $(cat "$T/e")"
X --format fhir --out "$T/fa.json" 2>"$T/e" || fail "fhir export: $(cat "$T/e")"
eobs='[.entry[].resource | select(.resourceType == "ExplanationOfBenefit")]'
jq -e "$eobs | map(select(.created == \"0001-01-01T00:00:00Z\" and .item[0].servicedPeriod.start == .created)) | length == 33" "$T/fa.json" >/dev/null || fail "year 1 in FHIR: $(jq -c "$eobs | map(.created) | unique" "$T/fa.json")"
grep -q '"1-01-01' "$T/fa.json" && fail "a year of fewer than four digits in the FHIR export"
stop_broker
DATA=$T/broker2
rm -f "$T"/jane.key.head
start_broker
register
printf 'customer,carnet_id\n%s,%s\n' "$J" "$J" >"$T/enr.csv"
IJ() { CARNET_KEY="$T/mg.key" timeout 60 "$B/carnet" import fhir --enrollment "$T/enr.csv" --broker "$EP" --data "$DATA" "$@"; }
IJ "$T/fa.json" >"$T/o" 2>"$T/e" || fail "import of the export: $(cat "$T/e")"
X --out "$T/b.json" 2>"$T/e" || fail "export 2: $(cat "$T/e")"
norm() { jq -S '[.records[] | del(.seq)] | sort_by(.ref)' "$1"; }
norm "$T/a.json" >"$T/a.n"; norm "$T/b.json" >"$T/b.n"
diff "$T/a.n" "$T/b.n" >"$T/d" || fail "the round trip changed records: $(head -20 "$T/d")"
ok "the FHIR export of the year-1 and year-9999 records imports into a fresh broker as the same 36 records"

# a FHIR date of year 0 is refused, naming the element and the range
jq '.entry |= map(if .resource.resourceType == "ExplanationOfBenefit" then .resource.item[0].servicedPeriod.start = "0000-06-01" else . end)' "$T/fa.json" >"$T/f0.json"
IJ "$T/f0.json" >"$T/o" 2>"$T/e" && fail "a FHIR date of year 0 was imported"
grep -q "servicedPeriod.start: \"0000-06-01\" is not a FHIR date of years 0001 to 9999" "$T/e" || fail "year 0: $(cat "$T/e")"
ok "a FHIR date of year 0 is refused, naming servicedPeriod.start and the range"
echo "$pass passed, 0 failed"
