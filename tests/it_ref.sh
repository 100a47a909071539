#!/usr/bin/env bash
# What an app receives outside a record's body (security issue 30, item 3):
# the real Blue Button 2.0 samples imported through a real carnetd, then
# delivered to an app granted amount_eur only.  The holder's refs
# (fhir:ExplanationOfBenefit/inpatient-4436342082#8@...: the claim id and
# its kind) must not reach it: it gets an opaque id of its own, the same
# over a correction, another one than a second app gets; an app whose
# consent lists ref gets the holder's ref.
source "$(dirname "$0")/itlib.sh"
BB=${CARNET_BLUEBUTTON:-$PWD/../shared/data/bluebutton}
MORE=$(dirname "$BB")/bluebutton-more
[ -d "$BB" ] && [ -d "$MORE" ] || { echo "no Blue Button samples at $BB: skipped"; echo "0 passed, 0 failed"; exit 0; }
start_broker
keys jane bb budget audit
add --role user --name jane --id "$(id jane)"
add --role holder --name bluebutton --id "$(id bb)" --type claim --type dispense --type profile --type coverage
add --role app --name budget --id "$(id budget)" --purpose budget --owner "Budget SAS" --business-model subscription
add --role app --name audit --id "$(id audit)" --purpose budget --owner "Audit SAS" --business-model subscription
printf 'customer,carnet_id\n-20140000008325,%s\n567834,%s\n' "$(id jane)" "$(id jane)" >"$T/enr.csv"
I() { CARNET_KEY="$T/bb.key" timeout 30 "$B/carnet" import fhir --enrollment "$T/enr.csv" --broker "$EP" --data "$DATA" "$@"; }
export_jane() { CARNET_KEY="$T/jane.key" timeout 30 "$B/carnet" export --out "$T/x.json" --broker "$EP" --data "$DATA" >/dev/null 2>&1 || fail "export"; }

I "$BB"/*.json "$MORE"/*.json >"$T/o" 2>"$T/e" || fail "import: $(cat "$T/e")"
export_jane
# 39 claim lines (carrier, inpatient, outpatient; v1 and v2), 10 pharmacy
jq -r '.records[] | select(.type == "claim" or .type == "dispense") | .ref' "$T/x.json" >"$T/refs"
lines=$(wc -l <"$T/refs")
[ "$lines" -eq 49 ] || fail "the samples made $lines claim and pharmacy lines, want 49"
# what each holder ref says: the claim's id (carrier-22639159481...), its kind
jq -r '.records[] | select(.type == "claim" or .type == "dispense") | .claim_id // empty' "$T/x.json" | sort -u >"$T/claim_ids"

C jane consent grant --app "$(id budget)" --types claim,dispense --fields amount_eur --purpose budget --yes >/dev/null 2>"$T/e" || fail "grant: $(cat "$T/e")"
grep -q "^      ref " "$T/e" && fail "a consent of amount_eur shows ref: $(cat "$T/e")"
C budget subscribe --idle-exit 2 >"$T/b1.jsonl" 2>"$T/e"
got=$(wc -l <"$T/b1.jsonl")
[ "$got" -eq 49 ] || fail "budget received $got lines, want 49: $(cat "$T/e")"
jq -e -s 'all(.[]; (keys - ["seq","token","user","holder","type","ref","time","amount_eur"]) == [])' "$T/b1.jsonl" >/dev/null || fail "budget got fields outside its consent: $(head -1 "$T/b1.jsonl")"
# every line's holder ref, every claim id, found anywhere in what it received
leaked=$(grep -c -F -f "$T/refs" "$T/b1.jsonl")
ids=$(grep -c -F -f "$T/claim_ids" "$T/b1.jsonl")
kinds=$(grep -c -E 'carrier|inpatient|outpatient|pharmacy|ExplanationOfBenefit' "$T/b1.jsonl")
echo "# amount_eur only: $leaked of $got lines hold their holder ref, $ids a claim id, $kinds a claim kind"
[ "$leaked" -eq 0 ] && [ "$ids" -eq 0 ] && [ "$kinds" -eq 0 ] || fail "the holder's ref reached an app granted amount_eur only: $leaked of $got lines ($(head -1 "$T/b1.jsonl"))"
jq -e -s 'all(.[]; .ref | test("^carnet:[a-z2-7]{32}$")) and (map(.ref) | unique | length) == 49' "$T/b1.jsonl" >/dev/null || fail "not one opaque id per line: $(jq -s -c 'map(.ref)[:3]' "$T/b1.jsonl")"
ok "an app granted amount_eur gets no byte of the holder refs of 49 Blue Button lines (claim id, kind): an opaque id each"

# the same ids again for the same records (a resubscribe from the cursors)
C budget subscribe --idle-exit 2 >"$T/b0.jsonl" 2>/dev/null
[ ! -s "$T/b0.jsonl" ] || fail "acked records came again"
# a second app: the same 49 lines under other ids (two apps cannot link them)
C jane consent grant --app "$(id audit)" --types claim,dispense --fields amount_eur --purpose budget --yes >/dev/null 2>"$T/e" || fail "grant audit: $(cat "$T/e")"
C audit subscribe --idle-exit 2 >"$T/a1.jsonl" 2>/dev/null
[ "$(wc -l <"$T/a1.jsonl")" -eq 49 ] || fail "audit received $(wc -l <"$T/a1.jsonl")"
common=$(jq -r .ref "$T/a1.jsonl" | grep -c -F -x -f <(jq -r .ref "$T/b1.jsonl"))
[ "$common" -eq 0 ] || fail "$common opaque ids are the same for two apps"
ok "a second app gets other opaque ids for the same 49 lines (0 in common)"

# a correction: the inpatient claim's line 8 changed at the holder (the
# resource has no versionId: its 11 lines get new refs BASE@NEWHASH, each
# a new version of the line it replaces)
jq '.item[7].adjudication |= map(if (.category.coding[0].code | test("rev_cntr_tot_chrg_amt$")) then .amount.value = 9999 else . end)' \
  "$MORE/eob_read_in_pt_v2.json" >"$T/ip2.json"
I "$T/ip2.json" >"$T/o" 2>"$T/e" || fail "corrected import: $(cat "$T/e")"
grep -q "11 of them new versions" "$T/o" || fail "no correction stored: $(cat "$T/o")"
C budget subscribe --idle-exit 2 >"$T/b2.jsonl" 2>/dev/null
[ "$(wc -l <"$T/b2.jsonl")" -eq 11 ] || fail "budget got $(wc -l <"$T/b2.jsonl") records after the correction, want 11"
# each comes under the opaque id the line it corrects had
same=$(jq -s -r --slurpfile b1 "$T/b1.jsonl" '[.[] | . as $n | select(($b1 | map(select(.seq == $n.corrects)) | .[0].ref) == $n.ref)] | length' "$T/b2.jsonl")
[ "$same" -eq 11 ] || fail "$same of 11 corrections came under the id of the record they correct: $(head -2 "$T/b2.jsonl")"
jq -s -e 'any(.[]; .amount_eur == 9999)' "$T/b2.jsonl" >/dev/null || fail "line 8 not corrected: $(cat "$T/b2.jsonl")"
! grep -q -F -f "$T/refs" "$T/b2.jsonl" && ! grep -q inpatient "$T/b2.jsonl" || fail "a correction holds the holder's ref"
ok "the 11 new versions of the inpatient claim's lines come under the opaque ids those lines had, each naming the seq it corrects"

# the erasure notice names what to erase by seq: all the app received
C jane consent revoke "$(jq -r .token "$T/b1.jsonl" | head -1)" >/dev/null 2>"$T/e" || fail "revoke: $(cat "$T/e")"
C budget subscribe --idle-exit 2 >/dev/null 2>"$T/e"
through=$(sed -n 's/.*records up to \([0-9]*\)).*/\1/p' "$T/e" | head -1)
max=$(jq -s 'map(.seq) | max' "$T/b1.jsonl" "$T/b2.jsonl")
[ -n "$through" ] && [ "$through" -ge "$max" ] || fail "the erasure notice covers up to ${through:-nothing}, the app got up to $max: $(cat "$T/e")"
ok "the erasure notice covers every record the app received (through seq $through)"

# an app whose consent lists ref gets the holder's own ref (audit's first
# consent ended first: what it sent under it was opaque)
C jane consent revoke "$(jq -r .token "$T/a1.jsonl" | head -1)" >/dev/null 2>"$T/e" || fail "revoke audit: $(cat "$T/e")"
C audit subscribe --confirm-erase --idle-exit 2 >/dev/null 2>&1
C jane consent grant --app "$(id audit)" --types claim,dispense --fields amount_eur,ref --purpose budget --yes >"$T/o" 2>"$T/e" || fail "grant with ref: $(cat "$T/e")"
grep -q "^      ref  *Not a field of the record: the holder's own id" "$T/e" || fail "the consent screen does not say what ref is: $(cat "$T/e")"
C jane consent receipt "$(tail -1 "$T/o")" --out "$T/r.json" >/dev/null 2>"$T/e" || fail "receipt: $(cat "$T/e")"
jq -e '(.receipt // .) as $r | [$r.data[] | .fields | index("ref")] | length == 2 and all(. != null)' "$T/r.json" >/dev/null || fail "the receipt does not list ref: $(jq -c . "$T/r.json")"
C jane consent list >"$T/l" 2>/dev/null
grep -q "claim(amount_eur+ref),dispense(amount_eur+ref)" "$T/l" || fail "the consent list does not say ref: $(cat "$T/l")"
C audit subscribe --idle-exit 2 >"$T/a2.jsonl" 2>/dev/null
export_jane
jq -r '.records[] | select(.type == "claim" or .type == "dispense") | .ref' "$T/x.json" >"$T/refs2"
[ "$(wc -l <"$T/a2.jsonl")" -eq 60 ] && [ "$(jq -r .ref "$T/a2.jsonl" | grep -c -F -x -f "$T/refs2")" -eq 60 ] || fail "an app granted ref did not get the holder's refs: $(head -1 "$T/a2.jsonl")"
ok "an app granted ref receives the holder's ref ($(wc -l <"$T/a2.jsonl") lines); the consent screen, receipt and list name ref"

echo "$pass passed, 0 failed"
