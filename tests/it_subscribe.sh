#!/usr/bin/env bash
# carnet subscribe --max over a backlog larger than the client's credit
# window (CLIENT_CREDIT_WINDOW, 1000 records): each run prints exactly
# --max records, and the next run gets the rest, none lost, none twice.
# The client tops its credit up in steps of a quarter window or more; the
# last step before --max is smaller and must be granted all the same.
# Leaves nothing running.
source "$(dirname "$0")/itlib.sh"
start_broker
keys alice mgen budget
add --role user --name alice --id "$(id alice)"
add --role holder --name mgen --id "$(id mgen)" --type claim
add --role app --name budget --id "$(id budget)" --purpose budget --owner "Budget SAS" --business-model subscription
# 3000 claims as itlib's claims makes them, written by one awk (claims
# runs a process a line)
awk -v u="$(id alice)" 'BEGIN { for (i = 1; i <= 3000; i++) printf "{\"user\":\"%s\",\"ref\":\"s-%d\",\"time\":\"2017-%02d-10T10:00:00Z\",\"act_code\":\"C\",\"label\":\"Consultation\",\"amount_eur\":25,\"reimbursed_eur\":16.5,\"practitioner\":\"generaliste\"}\n", u, i, (i % 12) + 1 }' >"$T/claims.jsonl"
C mgen put --type claim "$T/claims.jsonl" | grep -q "^3000 stored" || fail "put 3000 claims"
C alice consent grant --app "$(id budget)" --types claim --purpose budget --yes >/dev/null 2>&1 || fail "grant"

# count FILE WANT WHAT: FILE holds WANT records, and the run said so
count() {
  [ "$(wc -l <"$1")" -eq "$2" ] || fail "$3: printed $(wc -l <"$1") records, want $2"
  grep -q "^carnet subscribe: $2 records received$" "$1.err" || fail "$3: $(cat "$1.err")"
}
# --max below the backlog (and above the window), then --max exactly the
# backlog left (above the window too); the idle exit only ends a run that
# would otherwise wait for records that never come
C budget subscribe --max 1800 --idle-exit 2 >"$T/s1" 2>"$T/s1.err" || fail "subscribe --max 1800: $(cat "$T/s1.err")"
count "$T/s1" 1800 "--max 1800 over 3000"
C budget subscribe --max 1200 --idle-exit 2 >"$T/s2" 2>"$T/s2.err" || fail "subscribe --max 1200: $(cat "$T/s2.err")"
count "$T/s2" 1200 "--max 1200 over the 1200 left"
C budget subscribe --idle-exit 1 >"$T/s3" 2>"$T/s3.err" || fail "subscribe after: $(cat "$T/s3.err")"
count "$T/s3" 0 "a subscribe once all was taken"
ok "subscribe --max 1800, then --max 1200, over 3000 records (window 1000): exactly that many each"

# together, each of the 3000 records once
cat "$T/s1" "$T/s2" | jq -r '"\(.token) \(.seq)"' | sort | uniq -d >"$T/twice"
[ ! -s "$T/twice" ] || fail "records delivered twice: $(head -3 "$T/twice")"
[ "$(cat "$T/s1" "$T/s2" | jq -r .ref | sort -u | wc -l)" -eq 3000 ] || fail "the two runs do not hold the 3000 refs"
ok "the two runs hold each of the 3000 records once"
stop_broker
echo "$pass passed, 0 failed"
