#!/usr/bin/env bash
# The carnet CLI against a real carnetd: the flows the shared e2e check does
# not cover.  Each check prints what it tried; the first failure stops the
# run with the reason.  Leaves nothing running.
source "$(dirname "$0")/itlib.sh"
start_broker
keys alice bob mgen labo budget care op
add --role user --name alice --id "$(id alice)"
add --role user --name bob --id "$(id bob)"
add --role holder --name mgen --id "$(id mgen)" --type claim --type dispense
add --role holder --name labo --id "$(id labo)" --type lab_result
add --role app --name budget --id "$(id budget)" --purpose budget --owner "Budget SAS" --business-model subscription
add --role app --name care --id "$(id care)" --purpose care-path --owner "Parcours SAS" --business-model "paid by a mutual"
add --role operator --name op --id "$(id op)"

# --help everywhere (every command carnet --help lists), and usage errors exit 2
cmds=$("$B/carnet" --help | awk '/^Commands:/ {on = 1; next} on && NF == 0 {exit} on {print $1}')
[ "$(echo "$cmds" | wc -l)" -ge 16 ] || fail "carnet --help lists $(echo "$cmds" | wc -l) commands"
for c in $cmds; do
  "$B/carnet" $c --help >/dev/null 2>&1 || fail "carnet $c --help"
done
"$B/carnet" --help | grep -q "Commands:" || fail "carnet --help"
"$B/carnet" frobnicate >/dev/null 2>&1; [ $? -eq 2 ] || fail "unknown command should exit 2"
"$B/carnetd" --help | grep -q "usage: carnetd" || fail "carnetd --help"
ok "--help for every command; usage errors exit 2"

# the protocol is documented once: README's table is the broker's table
# (command, who sends it, what a delegate needs, how the broker takes it)
"$B/carnetd" --commands >"$T/cmds" || fail "carnetd --commands failed"
awk -F'|' '/^\| from \| command \| delegate \| flags \| reply \|/ {on = 1; next}
  on && !/^\|/ {exit}
  on && $2 !~ /---/ {
    role = $2; gsub(/ /, "", role); d = $4; gsub(/ /, "", d); f = $5; gsub(/ /, "", f)
    if (match($3, /`[A-Z_]+/)) print substr($3, RSTART + 1, RLENGTH - 1), role, d, f
  }' "$(dirname "$0")/../README.md" | sort >"$T/readme_cmds"
sort "$T/cmds" >"$T/broker_cmds"
[ "$(wc -l <"$T/broker_cmds")" -ge 29 ] || fail "carnetd --commands lists $(wc -l <"$T/broker_cmds") commands"
diff "$T/broker_cmds" "$T/readme_cmds" >"$T/e" || fail "README's protocol table and the broker's differ (< broker, > README): $(cat "$T/e")"
# and carnet delegate --help names what each scope lets a delegate send
for scope in view manage; do
  want=$(awk -v s=$scope '$3 == s {print $1}' "$T/cmds" | sort | tr '\n' ' ')
  have=$("$B/carnet" delegate --help | awk -v s=$scope '$1 == s {for (i = 2; i <= NF; i++) if ($i ~ /^[A-Z_]+$/) print $i}' | sort | tr '\n' ' ')
  [ -n "$want" ] && [ "$want" = "$have" ] || fail "delegate --help, $scope: [$have], the broker: [$want]"
done
ok "README's protocol table is the broker's command table, and so is carnet delegate --help"

# the registry refuses what it cannot use
"$B/carnet" party add --data "$DATA" --role holder --name x --id "$(id bob)" 2>"$T/e" && fail "a holder without types was added"
"$B/carnet" party add --data "$DATA" --role user --name x --id nonsense 2>"$T/e" && fail "a bad id was added"
grep -q "not a carnet id" "$T/e" || fail "bad id message: $(cat "$T/e")"
"$B/carnet" party add --data "$DATA" --role user --name again --id "$(id alice)" 2>"$T/e" && fail "a party was added twice"
"$B/carnet" party list --data "$DATA" --json | has '.name=="budget" and .owner=="Budget SAS"' || fail "party list --json"
ok "party add refusals; party list --json"

# key files: never overwritten, refused when open to others
"$B/carnet" keygen --out "$T/alice.key" >/dev/null 2>&1 && fail "keygen overwrote a key"
cp "$T/alice.key" "$T/loose.key"; chmod 644 "$T/loose.key"
CARNET_KEY=$T/loose.key "$B/carnet" whoami --broker "$EP" --data "$DATA" 2>"$T/e" && fail "a 0644 key was used"
grep -q "key_perms" "$T/e" || fail "loose key message: $(cat "$T/e")"
C alice whoami | grep -q "^user alice" || fail "whoami"
# a FIFO where a key, a kept log head or broker.pub is read: refused at
# once, never waited on (timeout's 124 would mean it blocked)
mkfifo -m 600 "$T/fifo.key"
CARNET_KEY=$T/fifo.key timeout 5 "$B/carnet" whoami --broker "$EP" --data "$DATA" 2>"$T/e"; rc=$?
[ $rc -ne 0 ] && [ $rc -ne 124 ] || fail "a FIFO key file: exit $rc"
grep -q "not a file" "$T/e" || fail "FIFO key message: $(cat "$T/e")"
mkdir "$T/fifodata"; mkfifo -m 600 "$T/fifodata/broker.key"
timeout 5 "$B/carnetd" --data "$T/fifodata" --listen "tcp://127.0.0.1:1" >/dev/null 2>"$T/e"; rc=$?
[ $rc -ne 0 ] && [ $rc -ne 124 ] || fail "carnetd on a FIFO key file: exit $rc"
grep -q "not a file" "$T/e" || fail "carnetd FIFO key message: $(cat "$T/e")"
mkfifo -m 600 "$T/bob.key.head"
timeout 10 env CARNET_KEY="$T/bob.key" "$B/carnet" log verify --broker "$EP" --data "$DATA" >/dev/null 2>"$T/e" || fail "log verify beside a FIFO head: $(cat "$T/e")"
rm -f "$T/bob.key.head"
mkfifo -m 600 "$T/fifodata/broker.pub"
CARNET_KEY=$T/bob.key timeout 5 "$B/carnet" whoami --broker "$EP" --data "$T/fifodata" 2>"$T/e"; rc=$?
[ $rc -ne 0 ] && [ $rc -ne 124 ] || fail "a FIFO broker.pub: exit $rc"
# the record key file: a FIFO or a link planted in its place is refused at
# start, and nothing is written through the link
mkdir -p "$T/kfifo/store" "$T/klink/store"; mkfifo -m 600 "$T/kfifo/store/keys"
timeout 5 "$B/carnetd" --data "$T/kfifo" --listen "tcp://127.0.0.1:1" >/dev/null 2>"$T/e"; rc=$?
[ $rc -ne 0 ] && [ $rc -ne 124 ] || fail "carnetd on a FIFO record key file: exit $rc"
grep -q "not a regular file" "$T/e" || fail "FIFO record keys message: $(cat "$T/e")"
ln -s "$T/kvictim" "$T/klink/store/keys"
timeout 5 "$B/carnetd" --data "$T/klink" --listen "tcp://127.0.0.1:1" >/dev/null 2>"$T/e"; rc=$?
[ $rc -ne 0 ] && [ $rc -ne 124 ] || fail "carnetd on a linked record key file: exit $rc"
[ -e "$T/kvictim" ] && fail "the record keys were written through a planted symlink"
grep -q "cannot open .*store/keys" "$T/e" || fail "linked record keys message: $(cat "$T/e")"
# the kept head is written through a fresh file, never through a link
ln -s "$T/victim" "$T/bob.key.head.tmp"
C bob log verify >/dev/null || fail "log verify beside a planted link"
[ -e "$T/victim" ] && fail "the head was written through a planted symlink"
grep -Eq '^[0-9]+ [0-9a-f]{64}$' "$T/bob.key.head" || fail "no head kept: $(cat "$T/bob.key.head")"
ok "key files: no overwrite, loose permissions refused, FIFOs refused at once, no write through links"


# put: a bad line is named, records before it are kept, a rerun stores each once
{ claims alice a 3; echo '{"user":"'"$(id alice)"'","ref":"bad","time":"2017-01-01","act_code":"C","label":"x","amount_eur":"lots","reimbursed_eur":1,"practitioner":"g"}'; } >"$T/bad.jsonl"
C mgen put --type claim "$T/bad.jsonl" >"$T/o" 2>"$T/e" && fail "a bad line was accepted"
grep -q "line 4: field amount_eur" "$T/e" || fail "put error does not name line and field: $(cat "$T/e")"
grep -q "^0 stored" "$T/o" || fail "a batch with a bad line was sent: $(cat "$T/o")"
claims alice a 3 | C mgen put --type claim >"$T/o" || fail "put from stdin"
grep -q "^3 stored, 0 already" "$T/o" || fail "put: $(cat "$T/o")"
claims alice a 3 | C mgen put --type claim >"$T/o" || fail "put again"
grep -q "0 stored, 3 already stored" "$T/o" || fail "rerun stored again: $(cat "$T/o")"
labs alice l 4 | C mgen put --type lab_result >/dev/null 2>"$T/e" && fail "mgen put a type it is not registered for"
grep -q "unregistered_type" "$T/e" || fail "unregistered type message: $(cat "$T/e")"
labs alice l 4 | C labo put --type lab_result >/dev/null || fail "labo put"
ok "put: errors name line and field, resend stored once, types enforced"

# an app asks, the person sees why, then grants a narrow scope
C care request --user "$(id alice)" --types lab_result,claim --purpose care-path --note "to chart your HbA1c" >/dev/null || fail "request"
C care request --user "$(id alice)" --types lab_result --purpose advertising >/dev/null 2>&1 && fail "a request for an undeclared purpose passed"
C alice consent requests --json | has '.app_name=="care" and .purpose=="care-path" and .note=="to chart your HbA1c"' || fail "consent requests"
echo n | C alice consent grant --app "$(id care)" --types lab_result --purpose care-path >/dev/null 2>&1 && fail "granted without a yes"
C alice consent grant --app "$(id care)" --types lab_result --purpose budget --yes >/dev/null 2>"$T/e" && fail "granted an undeclared purpose"
C alice consent grant --app "$(id care)" --types lab_result --fields act_code --purpose care-path --yes >/dev/null 2>&1 && fail "granted a field the type lacks"
TOKL=$(C alice consent grant --app "$(id care)" --types lab_result,claim --fields lab_result.value,lab_result.unit,claim.act_code --holders "$(id labo)" --purpose care-path --yes 2>/dev/null) || fail "narrow grant"
C care subscribe --idle-exit 2 >"$T/care.jsonl" 2>/dev/null
[ "$(wc -l <"$T/care.jsonl")" -eq 4 ] || fail "care got $(wc -l <"$T/care.jsonl") records, want the 4 lab results (claims come from mgen, not listed)"
has '(keys - ["seq","token","user","holder","type","ref","time","value","unit"]) != []' "$T/care.jsonl" && fail "care got fields outside the consent"
ok "request shown with its reason; narrow grant: types, fields, holders"

# expiry: a consent delivers until its end (2 of alice's 3 claims taken),
# then nothing (not the third)
start=$(date +%s)
TOKE=$(C alice consent grant --app "$(id budget)" --types claim --purpose budget --expires 4s --yes 2>/dev/null) || fail "grant with expiry"
C budget subscribe --max 2 --idle-exit 3 >"$T/b0.jsonl" 2>/dev/null
[ "$(wc -l <"$T/b0.jsonl")" -eq 2 ] || fail "a live consent delivered $(wc -l <"$T/b0.jsonl") records, want 2"
left=$((start + 5 - $(date +%s))); [ "$left" -gt 0 ] && sleep "$left"
C budget subscribe --idle-exit 2 >"$T/b.jsonl" 2>/dev/null
[ "$(wc -l <"$T/b.jsonl")" -eq 0 ] || fail "an expired consent delivered $(wc -l <"$T/b.jsonl") records"
C alice consent list --json | has '.id=="'"$TOKE"'" and .state=="expired"' || fail "consent list does not show the expiry"
ok "an expired consent delivers nothing and is listed as expired"

# revoke; list shows it; log names every use
C alice consent revoke "$TOKL" | grep -q "^revoked" || fail "revoke"
C alice consent revoke "$TOKL" | grep -q "already revoked" || fail "second revoke"
C alice consent revoke 0123456789abcdef0123456789abcdef >/dev/null 2>"$T/e" && fail "revoked an unknown consent"
grep -q unknown_token "$T/e" || fail "unknown consent message: $(cat "$T/e")"
C alice consent list --json | has '.id=="'"$TOKL"'" and .state=="revoked"' || fail "consent list after revoke"
C alice log --json >"$T/log.json" || fail "log --json"
[ "$(jq '[.entries[] | select(.kind=="deliver" and .app_name=="care")] | length' "$T/log.json")" -eq 4 ] || fail "log deliveries"
# the 4 went in one visit: one entry covers them (a batch), and the log
# still names each record care received, once
CARE_RECS=$(jq -s -c '[.[].seq] | sort' "$T/care.jsonl")
[ "$(jq -c '[.entries[] | select(.kind=="deliver" and .app_name=="care") | .record] | sort' "$T/log.json")" = "$CARE_RECS" ] || fail "log does not name each record care received once"
[ "$(jq '[.entries[] | select(.kind=="deliver" and .app_name=="care") | .seq] | unique | length' "$T/log.json")" -lt 4 ] || fail "4 deliveries in one visit took 4 entries"
[ "$(jq '[.entries[] | select(.kind=="request")] | length' "$T/log.json")" -eq 1 ] || fail "log request"
C alice log --app "$(id care)" >"$T/log.txt" || fail "log --app"
grep -q "deliver  care" "$T/log.txt" || fail "log text: $(head -3 "$T/log.txt")"
C bob log --json | jq -e '.entries | length == 0' >/dev/null || fail "bob sees entries that are not his"
ok "revoke (idempotent, unknown refused); log has every use; users see only their own"

# export, json and FHIR; erase keeps the log whole
C alice export --out "$T/x.json" 2>/dev/null || fail "export json"
[ "$(jq '.records | length' "$T/x.json")" -eq 7 ] || fail "export has $(jq '.records|length' "$T/x.json") records, want 7"
jq '.records[]' "$T/x.json" | has '.type=="claim" and .label=="Consultation"' || fail "export lost fields"
jq -e '.log_head.verified == true' "$T/x.json" >/dev/null || fail "export log not verified"
[ "$(jq -c '[.log[] | select(.kind=="deliver" and .app_name=="care") | .record] | sort' "$T/x.json")" = "$CARE_RECS" ] || fail "export log does not name each record care received once"
C alice export --out "$T/x.fhir" --format fhir 2>/dev/null || fail "export fhir"
# the 7 records, and alice's Patient that they all name (she has no profile)
jq -e --arg a "$(id alice)" '.resourceType=="Bundle" and (.entry|length)==8 and ([.entry[].resource.resourceType]|unique)==["ExplanationOfBenefit","Observation","Patient"] and .entry[0].resource.id == $a' "$T/x.fhir" >/dev/null || fail "fhir bundle: $(jq -c '[.entry[].resource.resourceType]' "$T/x.fhir")"
# records are sealed at rest: the files never hold them in the clear
grep -c Consultation "$DATA/store/data.mdb" >/dev/null && fail "a record's text is readable in data.mdb"
keyslots() { od -An -v -tx1 -w64 "$DATA/store/keys" | grep -vc '^\( 00\)*$'; }
slots=$(keyslots)
C alice erase >/dev/null 2>&1 && fail "erase without --yes"
C alice erase --yes | grep -q "^7 records erased" || fail "erase"
# her record key is overwritten: what the free pages keep no longer opens
[ "$(keyslots)" -eq $((slots - 1)) ] || fail "erase left her record key: $slots key slots in use, then $(keyslots)"
C alice export --out "$T/y.json" 2>/dev/null || fail "export after erase"
[ "$(jq '.records | length' "$T/y.json")" -eq 0 ] || fail "records left after erase"
claims alice a 3 | C mgen put --type claim | grep -q "0 stored" || fail "a resend brought erased data back"
C alice log verify >/dev/null || fail "log verify after erase"
C alice log --json | jq -e '[.entries[].kind] | index("erase") != null and index("export") != null' >/dev/null || fail "erase/export not logged"
ok "export json + FHIR; records sealed at rest; erase removes records and their key, keeps the log, resists resend"

# a view delegate for claims: her export and erasure are withheld from
# him, and his copy still verifies through them up to the signed head
C alice delegate grant --to "$(id bob)" --scope view --types claim >/dev/null || fail "delegate view for claims"
C bob log verify --for "$(id alice)" | grep -q "some withheld" || fail "the delegate's log verify"
C bob log --for "$(id alice)" --json >"$T/bl" || fail "the delegate reads the log"
jq -e '.head.verified and .head.withheld >= 2 and ([.entries[].kind] | index("export") == null and index("erase") == null)' "$T/bl" >/dev/null || fail "the delegate's log: $(jq -c '{head, kinds: [.entries[].kind]}' "$T/bl")"
C alice log verify >/dev/null || fail "her log verify beside her delegate's"
C alice delegate revoke "$(id bob)" >/dev/null || fail "end the delegation"
ok "a view delegate's log withholds her export and erasure and still verifies; so does hers"

# the operator's indicators
C op stats --json | jq -e '."grant/care" == 1 and ."deliver/care/lab_result" == 4 and ."put/mgen/claim" == 3 and .erase == 1 and ."broker/turns" > 0 and ."broker/refusals_unlogged" == 0' >/dev/null || fail "stats: $(C op stats --json)"
C alice stats >/dev/null 2>&1 && fail "a user read the operator's stats"
ok "operator stats; refused to a user"

# accept answers a request exactly as asked, decline says no: both take it
# off the list, both are in the log; nobody answers another's request
C budget request --user "$(id alice)" --types claim,lab_result --purpose budget --note "to sum your costs" >/dev/null || fail "budget request"
RQ=$(C alice consent requests --json | jq -r 'select(.app_name=="budget") | .seq')
RC=$(C alice consent requests --json | jq -r 'select(.app_name=="care") | .seq')
[ -n "$RQ" ] && [ -n "$RC" ] || fail "requests have no numbers: $(C alice consent requests --json)"
C bob consent decline "$RC" >/dev/null 2>"$T/e" && fail "bob declined alice's request"
grep -q not_found "$T/e" || fail "decline of another's request: $(cat "$T/e")"
echo n | C alice consent accept "$RQ" >/dev/null 2>&1 && fail "accepted without a yes"
TOKA=$(C alice consent accept "$RQ" --expires 30d --yes 2>"$T/e") || fail "accept: $(cat "$T/e")"
grep -q "to sum your costs" "$T/e" || fail "accept does not show the app's reason"
C alice consent list --json | has '.id=="'"$TOKA"'" and .state=="active" and .app_name=="budget" and .purpose=="budget" and ([.types[].type]==["claim","lab_result"]) and .holders=="any" and (.expires|length)>0' || fail "the accepted consent is not the request: $(C alice consent list --json)"
C alice consent accept "$RQ" --yes >/dev/null 2>"$T/e" && fail "a request was accepted twice"
grep -q not_found "$T/e" || fail "second accept: $(cat "$T/e")"
C alice consent decline "$RC" --note "not now" | grep -q "^declined request $RC" || fail "decline"
[ -z "$(C alice consent requests --json)" ] || fail "answered requests still listed"
C alice consent decline 12x >/dev/null 2>&1 && fail "a bad request number passed"
C alice log --json | jq -e '[.entries[] | select(.kind=="decline" and .app_name=="care" and .note=="not now")] | length == 1' >/dev/null || fail "decline not logged with its note"
C alice consent revoke "$TOKA" >/dev/null || fail "revoke the accepted consent"
ok "accept grants what was asked and answers it; decline logged with its note; others' requests out of reach"

# log verify: passes, then fails on an altered entry, naming it
C alice log verify | grep -q "log verified" || fail "log verify on an untouched log"
stop_broker
mdb_dump -s uselog "$DATA/store" >"$T/dump" || fail "mdb_dump"
# values are the even data lines after HEADER=END; flip one hex digit in the 3rd entry
awk 'BEGIN{d=0} /^HEADER=END/{print; d=1; next} d==1 && /^ /{n++; if (n==6) { sub(/.$/, (substr($0,length($0),1)=="0") ? "1" : "0") } } {print}' "$T/dump" >"$T/dump2"
cmp -s "$T/dump" "$T/dump2" && fail "the tamper step changed nothing"
mdb_load -s uselog -f "$T/dump2" "$DATA/store" 2>"$T/e" || fail "mdb_load: $(cat "$T/e")"
start_broker
C alice log verify >"$T/o" 2>"$T/e"; rc=$?
[ $rc -eq 1 ] || fail "log verify exit $rc on an altered log"
grep -q "entry 4" "$T/e" || fail "log verify does not name the first bad entry: $(cat "$T/e")"
ok "log verify fails on an altered entry and names the one after it"
stop_broker

# a store put back to an older copy (after bob revoked): his client sees
# it at his next command and revokes again; the app refuses what comes
# under the consent it was told had ended
start_broker
TB=$(C bob consent grant --app "$(id budget)" --types claim --purpose budget --yes 2>/dev/null) || fail "bob grants budget"
claims bob rb 3 | C mgen put --type claim >/dev/null || fail "put bob's claims"
C budget subscribe --idle-exit 2 >"$T/rb0" 2>/dev/null || fail "budget subscribe"
[ "$(grep -c "$(id bob)" "$T/rb0")" -eq 3 ] || fail "budget got $(grep -c "$(id bob)" "$T/rb0") of bob's records, want 3"
stop_broker
cp -a "$DATA/store" "$T/store.old"
start_broker
C bob consent revoke "$TB" >/dev/null || fail "bob revokes"
C budget subscribe --idle-exit 2 >/dev/null 2>"$T/rb1.err" || fail "budget is told: $(cat "$T/rb1.err")"
grep -q "$TB" "$T/budget.key.ended" || fail "budget did not keep the ended consent"
stop_broker
rm -rf "$DATA/store"; cp -a "$T/store.old" "$DATA/store"
# carnetd refuses the copy (its witness saw the revocation, it_rollback.sh);
# accepted, what follows is the clients' side
timeout 10 "$B/carnetd" --data "$DATA" --listen "tcp://127.0.0.1:$(( 40000 + (RANDOM % 20000) ))" >"$T/o" 2>"$T/e"; rc=$?
[ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -q "behind its witness" "$T/e" || fail "carnetd on the store put back (exit $rc): $(cat "$T/e")"
start_broker --accept-rollback "$(sed -n 's/^withdrawals //p' "$DATA.witness")"
claims bob rb2 3 | C mgen put --type claim >/dev/null || fail "put after the rollback"
C budget subscribe --idle-exit 2 >"$T/rb2" 2>"$T/rb2.err" || fail "budget subscribe after the rollback: $(cat "$T/rb2.err")"
[ "$(grep -c "$(id bob)" "$T/rb2")" -eq 0 ] || fail "records under the ended consent reached the app: $(cat "$T/rb2")"
grep -q "refused 3 records" "$T/rb2.err" || fail "the app did not say it refused them: $(cat "$T/rb2.err")"
C bob consent list --json >/dev/null 2>"$T/rb.err" || fail "bob's next command"
grep -q "WARNING: the broker's copy of your log" "$T/rb.err" || fail "bob was not warned: $(cat "$T/rb.err")"
grep -q "1 revocation sent again" "$T/rb.err" || fail "the revocation was not sent again: $(cat "$T/rb.err")"
C bob consent list --json 2>/dev/null | has ".id==\"$TB\" and .state==\"revoked\"" || fail "the consent is not revoked again"
C bob log verify >/dev/null 2>&1 && fail "log verify passed on a log put back"
ok "a store put back: the person's client warns and revokes again, the app refuses records under the ended consent"
stop_broker

# one broker per data directory: a second one on it refuses to start and
# the first keeps serving; once the first is killed, a new one starts
start_broker
C alice whoami | grep -q "^user alice" || fail "whoami before the second broker"
timeout 10 "$B/carnetd" --data "$DATA" --listen "tcp://127.0.0.1:$(( 40000 + (RANDOM % 20000) ))" >"$T/o" 2>"$T/e"; rc=$?
[ $rc -ne 0 ] && [ $rc -ne 124 ] || fail "a second carnetd on the same data directory ran (exit $rc)"
grep -q "another carnetd (pid $pid) runs on $DATA" "$T/e" || fail "second carnetd message: $(cat "$T/e")"
C alice whoami | grep -q "^user alice" || fail "the first broker stopped serving"
kill -KILL "$pid"; wait "$pid" 2>/dev/null; pid=
start_broker
C alice whoami | grep -q "^user alice" || fail "whoami after a broker was killed and another started"
# a lock file that is a link (planted to truncate what it points to) is refused
mkdir "$T/d2"; echo keep >"$T/victim"; ln -s "$T/victim" "$T/d2/carnetd.lock"
timeout 10 "$B/carnetd" --data "$T/d2" --listen "tcp://127.0.0.1:$(( 40000 + (RANDOM % 20000) ))" >"$T/o" 2>"$T/e"; rc=$?
[ $rc -ne 0 ] && [ $rc -ne 124 ] || fail "carnetd ran with its lock file a link (exit $rc)"
grep -q "carnetd.lock" "$T/e" || fail "link lock message: $(cat "$T/e")"
[ "$(cat "$T/victim")" = keep ] || fail "the file behind the link was changed"
ok "a second carnetd on one data directory is refused, naming the first; after a kill -9 a new one starts; a lock file that is a link is refused"
stop_broker
echo "$pass passed, 0 failed"
