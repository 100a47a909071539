#!/usr/bin/env bash
# The consent lifecycle through a real carnetd and the carnet CLI: erase
# confirmation, expiry with its notice, renewal, receipts, delegates,
# the emergency card and refused attempts.  carnetd runs with short
# periods (notice 4 s before an end, emergency openings of 3 s) so that
# time-driven behaviour is checked in seconds.  Leaves nothing running.
source "$(dirname "$0")/itlib.sh"
start_broker --notice-before 4s --emergency-window 3s
keys alice bob carol mgen budget care samu
add --role user --name alice --id "$(id alice)"
add --role user --name bob --id "$(id bob)"
add --role user --name carol --id "$(id carol)"
add --role holder --name mgen --id "$(id mgen)" --type claim --type lab_result --type profile
add --role app --name budget --id "$(id budget)" --purpose budget --owner "Budget SAS" --business-model subscription
add --role app --name care --id "$(id care)" --purpose care-path --owner "Parcours SAS" --business-model "paid by a mutual"
add --role app --name samu --id "$(id samu)" --purpose emergency --owner "SAMU 75" --business-model "public service"
logj() { C "$1" log --json "${@:2}" | jq -c '.entries[]'; }

for c in delegate emergency; do
  "$B/carnet" $c --help | grep -q "usage: carnet $c" || fail "carnet $c --help"
done
"$B/carnetd" --help | grep -q -- "--emergency-window" || fail "carnetd --help lists the lifecycle options"
claims alice a 4 | C mgen put --type claim >/dev/null || fail "put claims"
labs alice l 3 | C mgen put --type lab_result >/dev/null || fail "put labs"

# --- erase confirmation: REVOKED says what to erase; one app confirms, one does not
TB=$(C alice consent grant --app "$(id budget)" --types claim --purpose budget --yes 2>/dev/null) || fail "grant budget"
TC=$(C alice consent grant --app "$(id care)" --types claim --purpose care-path --yes 2>/dev/null) || fail "grant care"
C budget subscribe --max 4 >/dev/null 2>&1 || fail "budget subscribe"
C care subscribe --max 4 >/dev/null 2>&1 || fail "care subscribe"
C alice consent revoke "$TB" >/dev/null || fail "revoke budget"
C alice consent revoke "$TC" >/dev/null || fail "revoke care"
C budget subscribe --confirm-erase --idle-exit 2 >/dev/null 2>"$T/e" || fail "budget subscribe after revoke: $(cat "$T/e")"
grep -q "consent $TB .* revoked: erase the data it gave you (claim, records up to 4)" "$T/e" || fail "REVOKED does not say what to erase: $(cat "$T/e")"
C care subscribe --idle-exit 2 >/dev/null 2>"$T/e" || fail "care subscribe after revoke"
grep -q "consent $TC" "$T/e" || fail "care was not told to erase: $(cat "$T/e")"
C alice consent list --json >"$T/l" || fail "consent list"
has ".id==\"$TB\" and .state==\"revoked\" and .erase==\"confirmed\" and .erased_at" "$T/l" || fail "budget's confirmation not shown: $(cat "$T/l")"
has ".id==\"$TC\" and .erase==\"pending\"" "$T/l" || fail "care's missing confirmation not shown: $(cat "$T/l")"
C alice consent list | grep "$TC" | grep -q "erase=pending" || fail "consent list text: no erase=pending"
logj alice >"$T/log"
has ".kind==\"erased\" and .app_name==\"budget\" and .token==\"$TB\"" "$T/log" || fail "no erased entry in the log"
has ".kind==\"erased\" and .app_name==\"care\"" "$T/log" && fail "care has not confirmed, yet the log says it did"
# the reminder comes again at every SUB until the app confirms
C care subscribe --confirm-erase --idle-exit 1 >/dev/null 2>"$T/e" || fail "care subscribe again"
grep -q "consent $TC" "$T/e" || fail "care was not reminded"
C budget subscribe --idle-exit 1 >/dev/null 2>"$T/e" || fail "budget subscribe again"
grep -q "erase the data" "$T/e" && fail "budget was reminded after confirming"
C alice consent list --json | has ".id==\"$TC\" and .erase==\"confirmed\"" || fail "care's late confirmation not recorded"
ok "erase confirmation: REVOKED names what to erase, ERASED is logged, unconfirmed apps shown and reminded"

# --- receipts, signed by the broker
TR=$(C alice consent grant --app "$(id budget)" --types claim --fields amount_eur,reimbursed_eur --purpose budget --expires 30d --yes 2>/dev/null) || fail "grant for a receipt"
C alice consent receipt "$TR" --out "$T/r.json" 2>/dev/null || fail "consent receipt"
jq -e --arg t "$TR" --arg a "$(id budget)" '.receipt.consent_id==$t and .receipt.controller.app==$a and .receipt.controller.owner=="Budget SAS" and .receipt.purpose=="budget" and (.receipt.data[0].fields|index("amount_eur")) and (.receipt.how_to_withdraw|test("carnet consent revoke")) and (.receipt.valid_until|test("^20"))' "$T/r.json" >/dev/null || fail "receipt content: $(cat "$T/r.json")"
"$B/carnet" consent receipt --verify "$T/r.json" --data "$DATA" | grep -q "intact" || fail "a receipt does not verify"
jq '.receipt.purpose="marketing"' "$T/r.json" >"$T/forged.json"
"$B/carnet" consent receipt --verify "$T/forged.json" --data "$DATA" 2>"$T/e" && fail "a changed receipt verified"
grep -q "bad_signature" "$T/e" || fail "forged receipt message: $(cat "$T/e")"
"$B/carnet" keygen --out "$T/other.key" >"$T/other.id" 2>/dev/null
"$B/carnet" consent receipt --verify "$T/r.json" --broker-id "$(cat "$T/other.id")" 2>/dev/null && fail "a receipt verified against another broker's key"
ok "receipts: content, broker signature verifies offline, a change or another key fails"

# --- expiry: a notice before the end, then the end; renewal moves the end
TX=$(C alice consent grant --app "$(id care)" --types lab_result --purpose care-path --expires 6s --yes 2>/dev/null) || fail "grant 6s"
TY=$(C alice consent grant --app "$(id budget)" --types lab_result --purpose budget --expires 6s --yes 2>/dev/null) || fail "grant 6s (2)"
C alice consent renew "$TY" --expires 1h >"$T/o" || fail "renew"
grep -q "renewed $TY: until" "$T/o" || fail "renew output: $(cat "$T/o")"
C alice consent renew "$TB" --expires 1h 2>"$T/e" && fail "a revoked consent was renewed"
grep -q "revoked" "$T/e" || fail "renew refusal: $(cat "$T/e")"
sleep 2
C care subscribe --idle-exit 5 --confirm-erase >"$T/care.out" 2>"$T/care.err" &
sub=$!
sleep 6
# told apart by their label: an app sees no holder ref, an id of its own
labs alice m 2 | sed 's/"label":"HbA1c"/"label":"after expiry"/' | C mgen put --type lab_result >/dev/null || fail "put labs after expiry"
wait $sub
grep -q '"label":"after expiry"' "$T/care.out" && fail "a record stored after the expiry reached the app"
grep -q '"label":"HbA1c"' "$T/care.out" || fail "care got nothing before the expiry"
grep -q "consent $TX .* expired" "$T/care.err" || fail "care was not told of the expiry: $(cat "$T/care.err")"
C care subscribe --idle-exit 1 >"$T/o" 2>/dev/null
grep -q "\"token\":\"$TX\"" "$T/o" && fail "records sent under an expired consent"
C alice consent list --json >"$T/l"
has ".id==\"$TX\" and .state==\"expired\" and .erase==\"confirmed\"" "$T/l" || fail "expired state: $(cat "$T/l")"
has ".id==\"$TY\" and .state==\"active\"" "$T/l" || fail "a renewed consent expired"
logj alice >"$T/log"
has ".kind==\"notice\" and .token==\"$TX\" and .ends" "$T/log" || fail "no notice before the end"
has ".kind==\"expire\" and .token==\"$TX\"" "$T/log" || fail "no expire entry"
has ".kind==\"renew\" and .token==\"$TY\"" "$T/log" || fail "no renew entry"
has ".kind==\"expire\" and .token==\"$TY\"" "$T/log" && fail "the renewed consent expired"
has ".kind==\"notice\" and .token==\"$TY\"" "$T/log" && fail "a notice for the old end of a renewed consent"
ok "expiry: notice, end, app told and confirms; renewal extends, ended consents cannot be renewed"

# --- delegation: view cannot grant; manage stays within types and end date
C alice delegate grant --to "$(id bob)" --scope view >/dev/null || fail "delegate view"
C bob consent list --for "$(id alice)" --json >"$T/l" || fail "a view delegate cannot list"
has ".id==\"$TY\"" "$T/l" || fail "delegate's list lacks alice's consents"
C bob consent grant --for "$(id alice)" --app "$(id care)" --types claim --purpose care-path --expires 1h --yes 2>"$T/e" >/dev/null && fail "a view delegate granted"
grep -q "not_delegate" "$T/e" || fail "view delegate refusal: $(cat "$T/e")"
C carol consent list --for "$(id alice)" 2>"$T/e" >/dev/null && fail "a stranger read alice's consents"
grep -q "not_delegate" "$T/e" || fail "stranger refusal: $(cat "$T/e")"
C alice delegate grant --to "$(id bob)" --scope manage --types claim --expires 2h >/dev/null || fail "delegate manage"
C bob consent grant --for "$(id alice)" --app "$(id care)" --types lab_result --purpose care-path --expires 1h --yes 2>"$T/e" >/dev/null && fail "a delegate granted a type not delegated"
grep -q "beyond_delegation" "$T/e" || fail "type refusal: $(cat "$T/e")"
C bob consent grant --for "$(id alice)" --app "$(id care)" --types claim --purpose care-path --yes 2>"$T/e" >/dev/null && fail "a delegate granted past the delegation's end"
grep -q "beyond_delegation" "$T/e" || fail "end refusal: $(cat "$T/e")"
TD=$(C bob consent grant --for "$(id alice)" --app "$(id care)" --types claim --purpose care-path --expires 1h --yes 2>/dev/null) || fail "a manage delegate could not grant"
C bob consent pause "$TD" --for "$(id alice)" >/dev/null || fail "delegate pause"
C bob consent revoke "$TD" --for "$(id alice)" >/dev/null || fail "delegate revoke"
C bob log --for "$(id alice)" --json >"$T/bl" || fail "delegate reads the log"
jq -e ".head.verified" "$T/bl" >/dev/null || fail "the delegate's copy of the log does not verify: $(head -c 300 "$T/bl")"
logj alice >"$T/log"
for k in grant pause revoke; do
  has ".kind==\"$k\" and .token==\"$TD\" and .by_name==\"bob\"" "$T/log" || fail "$k by the delegate not logged naming bob"
done
has ".kind==\"view\" and .by_name==\"bob\"" "$T/log" || fail "the delegate's reading not logged"
# the attempts that overstepped are in alice's log too, naming who tried:
# once an hour for each reason (the view delegate's not_delegate, then
# beyond_delegation for the type; the end's, the same reason, is counted)
[ "$(jq -s '[.[] | select(.kind=="refused" and .by_name=="bob" and (.note|test("GRANT: ")))] | length' "$T/log")" -eq 2 ] || fail "bob's refused grants are not in alice's log, once per reason: $(jq -c 'select(.kind=="refused")' "$T/log")"
has '.kind=="refused" and .by_name=="carol" and (.note|test("has not given you access"))' "$T/log" || fail "carol's attempt is not in alice's log"
has ".kind==\"delegate\" and .by_name==\"bob\" and (.note|test(\"manage\"))" "$T/log" || fail "the delegation not logged"
C bob delegate list --json | has '.direction=="received" and .name=="alice" and .scope=="manage"' || fail "delegate list (received)"
C alice delegate revoke "$(id bob)" >/dev/null || fail "delegate revoke"
C bob consent list --for "$(id alice)" 2>"$T/e" >/dev/null && fail "an ended delegate still reads"
grep -q "not_delegate" "$T/e" || fail "ended delegate refusal: $(cat "$T/e")"
C alice delegate list --json | has '.direction=="given" and .name=="bob" and .state=="ended"' || fail "delegate list (given, ended)"
ok "delegation: view reads only, manage within types and end date, every act logged naming the delegate, revocable"

# --- emergency: nothing opens without a card; with one, a fixed window
C samu emergency open --user "$(id alice)" --reason "road accident" >/dev/null 2>"$T/e" && fail "emergency opened without a card"
grep -q "no_card" "$T/e" || fail "no-card refusal: $(cat "$T/e")"
C alice emergency set --types lab_result,profile --apps "$(id samu)" >/dev/null || fail "emergency set"
C alice emergency show --json | jq -e --arg s "$(id samu)" '.card.apps==[$s]' >/dev/null || fail "emergency show"
C care emergency open --user "$(id alice)" --reason "curious" >/dev/null 2>"$T/e" && fail "an app not on the card opened it"
C samu emergency open --user "$(id alice)" --reason "road accident, unconscious" >"$T/em" 2>"$T/e" || fail "emergency open: $(cat "$T/e")"
[ "$(jq -s 'length' "$T/em")" -eq 5 ] || fail "emergency open gave $(jq -s length "$T/em") records, want 5 lab results"
jq -s -e 'all(.[]; .type=="lab_result")' "$T/em" >/dev/null || fail "emergency open gave a type not on the card"
# every field of the card's types, under opaque ids: not the lab's refs (l-1...)
jq -s -e 'all(.[]; (.ref | test("^carnet:[a-z2-7]{32}$")) and .loinc == "4548-4")' "$T/em" >/dev/null || fail "emergency records not under opaque ids: $(head -1 "$T/em")"
C samu emergency read --user "$(id alice)" >/dev/null 2>&1 || fail "emergency read within the window"
sleep 4
C samu emergency read --user "$(id alice)" >/dev/null 2>"$T/e" && fail "emergency access outlived its window"
grep -q "expired" "$T/e" || fail "window refusal: $(cat "$T/e")"
C alice log >"$T/text" || fail "log text"
head -1 "$T/text" | grep -q "EMERGENCY ACCESS .*samu .*road accident, unconscious" || fail "the emergency is not at the top of the log: $(head -2 "$T/text")"
logj alice >"$T/log"
has '.kind=="refused" and .app_name=="samu" and (.note|test("card"))' "$T/log" || fail "the attempt without a card is not in the log"
has '.kind=="refused" and .app_name=="care"' "$T/log" || fail "the off-card app's attempt is not in the log"
has '.kind=="refused" and .app_name=="samu" and (.note|test("ended"))' "$T/log" || fail "the late read is not in the log"
[ "$(jq -s '[.[] | select(.kind=="deliver" and .purpose=="emergency")] | length' "$T/log")" -eq 10 ] || fail "emergency reads not logged record by record"
ok "emergency: refused without a card or off it, opens with a reason for a fixed window, first in the log"

# --- refused attempts: an app asking for a feed it has no consent for
C budget subscribe --users "$(id carol)" --idle-exit 1 >/dev/null 2>"$T/e" && fail "subscribe to a person without consent"
grep -q "no_consent" "$T/e" || fail "no-consent refusal: $(cat "$T/e")"
logj carol | has '.kind=="refused" and .app_name=="budget"' || fail "carol's log lacks the refused attempt"
C budget subscribe --users "$(id alice),$(id carol)" --idle-exit 1 >/dev/null 2>&1 || fail "subscribe with one live consent"
# the second, within the hour and for the same reason, is counted, not
# written again (the next one written says how many came between)
[ "$(logj carol | jq -s '[.[] | select(.kind=="refused")] | length')" -eq 1 ] || fail "the second attempt on carol was logged again within the hour"
logj alice | has '.kind=="refused" and .app_name=="budget"' && fail "alice, who consented, got a refusal entry"
C alice log verify >/dev/null || fail "alice's log does not verify after all this"
ok "refused attempts: logged for the person concerned, only them"

echo "$pass passed, 0 failed"
