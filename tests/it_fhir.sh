#!/usr/bin/env bash
# carnet import fhir against a real carnetd: the real Blue Button 2.0
# samples in ../shared/data/bluebutton and bluebutton-more (v1 and v2),
# Synthea, the French ANS observations, each checked field by field
# against its source file; other well-formed EOBs, resends, corrections,
# and malformed documents that must be refused without storing any of
# their records.
source "$(dirname "$0")/itlib.sh"
BB=${CARNET_BLUEBUTTON:-$PWD/../shared/data/bluebutton}
DATA_DIR=$(dirname "$BB")
[ -d "$BB" ] || { echo "no Blue Button samples at $BB: skipped"; echo "0 passed, 0 failed"; exit 0; }
start_broker
keys jane bb
add --role user --name jane --id "$(id jane)"
add --role holder --name bluebutton --id "$(id bb)" \
  --type claim --type dispense --type profile --type coverage --type lab_result --type observation \
  --type condition --type allergy --type immunization
printf 'customer,carnet_id\n-20140000008325,%s\n' "$(cat "$T/jane.id")" >"$T/enr.csv"
I() { CARNET_KEY="$T/bb.key" timeout 30 "$B/carnet" import fhir --enrollment "$T/enr.csv" --broker "$EP" --data "$DATA" "$@"; }
count() { CARNET_KEY="$T/jane.key" timeout 30 "$B/carnet" export --out "$T/x.json" --broker "$EP" --data "$DATA" 2>/dev/null; jq "$1" "$T/x.json"; }

I "$BB"/*.json >"$T/o" 2>"$T/e" || fail "import of the samples: $(cat "$T/e")"
[ "$(count '.records | length')" -eq 16 ] || fail "samples stored $(count '.records|length') records, want 16"
[ "$(count '[.records[] | select(.type == "dispense")] | length')" -eq 10 ] || fail "10 pharmacy EOBs"
count '.records[] | select(.type == "claim")' >"$T/claim"
# eob_read_carrier_v2.json: line 1 HCPCS 77085, line_sbmtd_chrg_amt 250,
# line_nch_pmt_amt 50, careTeam 1 performing NPI 999999999999 (the
# referring doctor is not the provider), diagnoses ICD-10 M810, payment 50
jq -e '.act_code == "77085" and .act_system == "https://bluebutton.cms.gov/resources/codesystem/hcpcs" and .amount_eur == 250 and .reimbursed_eur == 50 and .currency == "USD" and .time == "2015-12-01T00:00:00Z" and .time_precision == "day" and .provider == "999999999999" and .provider_role == "performing" and (.diagnoses | index("http://hl7.org/fhir/sid/icd-10|M810")) != null and .claim_paid == 50 and .claim_id == "carrier-22639159481" and .practitioner == "carrier" and (.ref | test("^fhir:ExplanationOfBenefit/carrier-22639159481#1@h[0-9a-f]{16}$"))' "$T/claim" >/dev/null || fail "carrier claim: $(cat "$T/claim")"
count '.records[] | select(.type == "dispense" and .drug_code == "55111015810")' >"$T/rx"
# a PDE: NDC (not a CIP13), tot_rx_cst_amt 10, cvrd_d_plan_pd_amt 0, 30 units
jq -e '.drug == "Omeprazole - OMEPRAZOLE" and .drug_system == "http://hl7.org/fhir/sid/ndc" and .cip13 == null and .amount_eur == 10 and .reimbursed_eur == 0 and .quantity == 30 and .time == "2016-12-01T00:00:00Z"' "$T/rx" >/dev/null || fail "pharmacy claim: $(cat "$T/rx")"
# dated when last updated (meta.lastUpdated), not at the birth date; every
# given name (Jane, X) kept
count '.records[] | select(.type == "profile")' | jq -e '.birth_year == 2014 and .sex == "female" and .name == "Jane X Doe" and .time == "2020-11-09T22:50:14Z"' >/dev/null || fail "patient"
[ "$(count '[.records[] | select(.type == "coverage")] | map(.plan) | sort | join(",")')" = '"Part A,Part B,Part C,Part D"' ] || fail "coverage"
ok "the Blue Button samples: 10 pharmacy EOBs, a carrier EOB, the patient, 4 coverages, with codes, dates, amounts, providers"

# a pharmacy line whose care-team member has no role (the fuzzer's find:
# it crashed the import): stored, nobody named prescriber
jq 'del(.entry[0].resource.careTeam[].role)' "$BB/eob_search_v2.json" >"$T/pde-norole.json"
I --dry-run "$T/pde-norole.json" >"$T/o" 2>"$T/e" || fail "a PDE with a roleless care team: $(cat "$T/e")"
jq -s -e '.[0].type == "dispense" and (.[0] | has("prescriber") | not) and ([.[] | select(has("prescriber"))] | length == 9)' "$T/o" >/dev/null || fail "roleless prescriber: $(head -2 "$T/o")"
I "$BB"/*.json | grep -c "0 stored, " | grep -q 4 || fail "a re-import stored again"
ok "a re-import stores nothing twice"

cat >"$T/other.json" <<'J'
{"resourceType": "Bundle", "type": "searchset", "entry": [
 {"resource": {"resourceType": "ExplanationOfBenefit", "id": "inpatient-1", "status": "active",
   "type": {"coding": [{"system": "https://bluebutton.cms.gov/resources/codesystem/eob-type", "code": "INPATIENT"},
                       {"system": "http://terminology.hl7.org/CodeSystem/claim-type", "code": "institutional"}]},
   "patient": {"reference": "Patient/-20140000008325"}, "billablePeriod": {"start": "2016-02-01", "end": "2016-02-05"},
   "provider": {"display": "Hopital Saint-Louis"},
   "item": [{"sequence": 1, "revenue": {"coding": [{"code": "0120"}]},
             "productOrService": {"coding": [{"system": "https://bluebutton.cms.gov/resources/codesystem/hcpcs", "code": "99223", "display": "Initial hospital care"}]},
             "adjudication": [{"category": {"coding": [{"code": "submitted"}]}, "amount": {"value": 4200.5, "currency": "USD"}},
                              {"category": {"coding": [{"code": "benefit"}]}, "amount": {"value": 3900, "currency": "USD"}}]}]}},
 {"resource": {"resourceType": "ExplanationOfBenefit", "id": "outpatient-1", "status": "active",
   "type": {"coding": [{"system": "https://bluebutton.cms.gov/resources/codesystem/eob-type", "code": "OUTPATIENT"}]},
   "patient": {"reference": "Patient/-20140000008325"},
   "item": [{"servicedDate": "2016-03-10", "productOrService": {"coding": [{"code": "36415"}]},
             "adjudication": [{"category": {"coding": [{"code": "submitted"}]}, "amount": {"value": 12}}]},
            {"servicedDate": "2016-03-10", "productOrService": {"coding": [{"code": "80053"}]}}]}},
 {"resource": {"resourceType": "Observation", "id": "obs-1", "status": "final",
   "category": [{"coding": [{"code": "laboratory"}]}], "code": {"coding": [{"system": "http://loinc.org", "code": "4548-4", "display": "HbA1c"}]},
   "subject": {"reference": "Patient/-20140000008325"}, "effectiveDateTime": "2016-04-01T08:00:00Z",
   "valueQuantity": {"value": 6.8, "unit": "%"}, "referenceRange": [{"low": {"value": 4}, "high": {"value": 6}}]}},
 {"resource": {"resourceType": "Observation", "id": "obs-2", "status": "final",
   "category": [{"coding": [{"code": "vital-signs"}]}], "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
   "subject": {"reference": "Patient/-20140000008325"}, "effectiveDateTime": "2016-04-02",
   "valueQuantity": {"value": 71.5, "unit": "kg"}}},
 {"resource": {"resourceType": "Observation", "id": "obs-3", "status": "final", "code": {"coding": [{"code": "29463-7"}]},
   "subject": {"reference": "Patient/someone-else"}, "effectiveDateTime": "2016-04-02", "valueQuantity": {"value": 80}}},
 {"resource": {"resourceType": "Practitioner", "id": "pr-1"}}
]}
J
I "$T/other.json" >"$T/o" 2>"$T/e" || fail "other EOBs: $(cat "$T/e")"
grep -q "5 records" "$T/o" && grep -q "note: 1 resources about patients not in the enrollment" "$T/o" &&
  grep -Eq "Practitioner +1 -> 0 records, skipped: carnet has no record type" "$T/o" &&
  grep -Eq "Observation +3 -> 2 records" "$T/o" || fail "other EOBs summary: $(cat "$T/o")"
count '.records[] | select(.ref | startswith("fhir:ExplanationOfBenefit/inpatient-1#1@"))' | jq -e '.care_kind == "hospital" and .amount_eur == 4200.5 and .provider == "Hopital Saint-Louis" and .provider_role == "billing" and .label == "Initial hospital care" and .revenue_code == "0120"' >/dev/null || fail "inpatient EOB"
[ "$(count '[.records[] | select(.ref | startswith("fhir:ExplanationOfBenefit/outpatient-1#"))] | length')" -eq 2 ] || fail "outpatient EOB items"
# the second outpatient line gives no amount: absent, never 0, and said
count '.records[] | select(.ref | startswith("fhir:ExplanationOfBenefit/outpatient-1#2@"))' | jq -e 'has("amount_eur") == false and has("reimbursed_eur") == false' >/dev/null || fail "an absent amount was stored"
grep -q "note: 2 claim lines whose charge the holder does not give\|note: 1 claim lines whose charge" "$T/o" || fail "absent amounts not reported: $(cat "$T/o")"
count '.records[] | select(.type == "lab_result")' | jq -e '.loinc == "4548-4" and .value == 6.8 and .ref_high == 6' >/dev/null || fail "lab observation"
count '.records[] | select(.type == "observation")' | jq -e '.kind == "weight_kg" and .value == 71.5' >/dev/null || fail "vital sign"
ok "inpatient and outpatient EOBs, lab and vital-sign Observations; others' patients and other kinds skipped"

before=$(count '.records | length')
bad() { # name, jq edit of other.json, expected text
  jq "$2" "$T/other.json" | sed 's/"inpatient-1"/"inpatient-2"/; s/"outpatient-1"/"outpatient-2"/' >"$T/$1.json"
  I "$T/$1.json" >"$T/o" 2>"$T/e" && fail "$1 was accepted"
  grep -q "$3" "$T/e" || fail "$1: message does not say '$3': $(cat "$T/e")"
  grep -q "nothing of it was stored" "$T/e" || fail "$1: does not say nothing was stored"
  [ "$(count '.records | length')" -eq "$before" ] || fail "$1 stored part of the document"
}
bad no-patient 'del(.entry[1].resource.patient)' "entry 2 (ExplanationOfBenefit outpatient-2): patient: names no patient"
bad bad-amount '.entry[0].resource.item[0].adjudication[0].amount.value = "lots"' "entry 1 (ExplanationOfBenefit inpatient-2): item\[0\].adjudication\[0\].amount.value: want a number, got a string"
bad second-item '.entry[1].resource.item[1].adjudication = [{"category": {"coding": [{"code": "submitted"}]}, "amount": {"value": "12"}}]' "item\[1\].adjudication\[0\].amount.value: want a number, got a string"
bad str-total '.entry[0].resource.total = [{"category": {"coding": [{"code": "submitted"}]}, "amount": {"value": "4200"}}]' "total\[0\].amount.value: want a number, got a string"
bad str-payment '.entry[0].resource.payment = {"amount": {"value": "3900"}}' "payment.amount.value: want a number, got a string"
bad no-value '.entry[2].resource.valueQuantity.value = "6.8"' "entry 3 (Observation obs-1): valueQuantity.value: want a number, got a string"
bad bad-unit '.entry[3].resource.valueQuantity = {"value": 12.5, "unit": "stone", "system": "http://unitsofmeasure.org", "code": "[stone_av]"}' "entry 4 (Observation obs-2): valueQuantity.code: \[stone_av\] is a unit weight_kg cannot take: carnet converts exactly only kg, g, \[lb_av\]"
bad bad-date '.entry[2].resource.effectiveDateTime = "01/04/2016"' "effectiveDateTime: \"01/04/2016\" is not a FHIR date"
bad forged-id '.entry[2].resource.id = "obs-1#2@h00"' "entry 3 (Observation obs-1#2@h00): id: \"obs-1#2@h00\" is not a FHIR id"
bad group-ref '.entry[1].resource.patient.reference = "Group/-20140000008325"' "patient: \"Group/-20140000008325\" names no Patient"
bad org-ref '.entry += [{"fullUrl": "urn:uuid:0e1f", "resource": {"resourceType": "Organization", "id": "-20140000008325"}}] | .entry[1].resource.patient.reference = "urn:uuid:0e1f"' "patient: \"urn:uuid:0e1f\" names a Organization, not a Patient"
bad urn-nowhere '.entry[1].resource.patient.reference = "urn:uuid:0e1f"' "patient: \"urn:uuid:0e1f\" names no Patient of the document"
bad no-type 'del(.entry[3].resource.resourceType)' "no resourceType"
bad no-date 'del(.entry[1].resource.item[].servicedDate)' "no date"
head -c 700 "$BB/eob_search_v2.json" >"$T/cut.json"
I "$T/cut.json" >/dev/null 2>"$T/e" && fail "a truncated document was accepted"
grep -q "not JSON" "$T/e" || fail "truncated: $(cat "$T/e")"
[ "$(count '.records | length')" -eq "$before" ] || fail "a truncated document stored records"
ok "malformed documents (no patient, bad amount, no value, no type, no date, truncated) refused whole, with the entry named"

# a server's error report is not data; a document over the size bound is
# refused before it is read
cat >"$T/oo.json" <<'J'
{"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "forbidden", "diagnostics": "token expired"}]}
J
I "$T/oo.json" >/dev/null 2>"$T/e" && fail "an OperationOutcome was imported"
grep -q "OperationOutcome.*error: token expired" "$T/e" || fail "OperationOutcome message: $(cat "$T/e")"
{ head -c 1000 "$BB/eob_search_v2.json"; } >"$T/huge.json"; truncate -s 33M "$T/huge.json"
I "$T/huge.json" >/dev/null 2>"$T/e" && fail "a 33 MB document was accepted"
grep -q "over the 33554432 a document may have.*\[too_big\]" "$T/e" || fail "too big: $(cat "$T/e")"
[ "$(count '.records | length')" -eq "$before" ] || fail "a refused document stored records"
ok "an OperationOutcome and a 33 MB document refused, saying why, nothing stored"

# each Patient is its own profile (they all had the ref fhir:patient)
printf 'customer,carnet_id\n-20140000008325,%s\nsecond-patient,%s\n' "$(cat "$T/jane.id")" "$(cat "$T/jane.id")" >"$T/enr2.csv"
cat >"$T/two.json" <<'J'
{"resourceType": "Bundle", "type": "collection", "entry": [
 {"resource": {"resourceType": "Patient", "id": "-20140000008325", "gender": "female", "birthDate": "2014-01-01", "name": [{"family": "Doe", "given": ["Jane"]}]}},
 {"resource": {"resourceType": "Patient", "id": "second-patient", "gender": "female", "birthDate": "1950-06-01", "name": [{"family": "Doe", "given": ["Janet"]}]}}
]}
J
CARNET_KEY="$T/bb.key" timeout 30 "$B/carnet" import fhir --enrollment "$T/enr2.csv" --broker "$EP" --data "$DATA" "$T/two.json" >"$T/o" 2>"$T/e" || fail "two patients: $(cat "$T/e")"
[ "$(count '[.records[] | select(.type == "profile" and (.ref | startswith("fhir:Patient/second-patient@")))] | length')" -eq 1 ] || fail "profiles: $(count '[.records[] | select(.type == "profile")] | map(.ref)')"
grep -q "2 records.*2 stored, 0 already stored" "$T/o" || fail "two patients: $(cat "$T/o")"
ok "two Patients, two profiles (a ref per Patient id)"

# --- the other real samples, field by field from their source files ---
MORE=$DATA_DIR/bluebutton-more
if [ -d "$MORE" ]; then
  I "$MORE"/*.json >"$T/o" 2>"$T/e" || fail "bluebutton-more: $(cat "$T/e")"
  # eob_read_in_pt_v2.json: 11 revenue-centre lines, each charge in
  # rev_cntr_tot_chrg_amt (line 1: 0111, 4000, 3 days); what Medicare paid
  # is only in payment (10000); its total has no category (not used)
  count '[.records[] | select(.claim_id == "inpatient-4436342082")]' >"$T/ip"
  jq -e 'length == 11 and (.[] | select(.ref | test("#1@")) | .act_code == "0111" and .act_system == "https://bluebutton.cms.gov/resources/variables/rev_cntr" and .revenue_code == "0111" and .amount_eur == 4000 and .quantity == 3 and has("reimbursed_eur") == false and .claim_paid == 10000 and has("claim_charged") == false and .care_kind == "hospital" and .practitioner == "inpatient" and .time == "2015-04-01T00:00:00Z") and ([.[].amount_eur] | add) == $sum' --argjson sum "$(jq '[.item[].adjudication[] | select(.category.coding[].code | test("rev_cntr_tot_chrg_amt$")) | .amount.value] | add' "$MORE/eob_read_in_pt_v2.json")" "$T/ip" >/dev/null || fail "inpatient sample: $(jq -c '.[0]' "$T/ip")"
  # eob_read_out_pt_v2.json: line 1 is HCPCS 80048 (a modifier) in revenue
  # centre 0301, charge 60 (the rate, 10, is not the charge), paid 0;
  # claim total charge 300, payment 20
  count '.records[] | select(.claim_id == "outpatient-4412920419" and (.ref | test("#1@")))' >"$T/op"
  jq -e '.act_code == "80048" and (.act_system | test("hcpcs")) and .revenue_code == "0301" and .amount_eur == 60 and .reimbursed_eur == 0 and .claim_charged == 300 and .claim_paid == 20 and (.diagnoses | index("http://hl7.org/fhir/sid/icd-9-cm|4019")) != null' "$T/op" >/dev/null || fail "outpatient sample: $(cat "$T/op")"
  # eob_search_v1.json (STU3): 10 carrier claims, 21 lines; refs of their
  # own (v1 and v2 of one claim share its id); line 1: HCPCS 99214, 150
  count '[.records[] | select(.ref | startswith("fhir:stu3:ExplanationOfBenefit/"))]' >"$T/v1"
  jq -e 'length == 21 and (.[] | select(.ref | startswith("fhir:stu3:ExplanationOfBenefit/carrier--20587716665#1@")) | .act_code == "99214" and .amount_eur == 150 and .reimbursed_eur == 0 and .time == "2014-03-01T00:00:00Z")' "$T/v1" >/dev/null || fail "v1 sample: $(jq -c '.[0]' "$T/v1")"
  ok "Blue Button inpatient, outpatient (v2) and carrier (v1) samples: revenue and HCPCS codes, line charges, payments, diagnoses; v1 refs apart"

  # the other Blue Button claim types carry the same CMS variables: SNF,
  # HHA and hospice claims are institutional (revenue centres, as the
  # inpatient sample), DME is a carrier-like line claim.  Each retyped
  # sample maps to the same lines and amounts under its own practitioner.
  retype() { jq --arg c "$2" '(.type.coding[] | select(.system | test("eob-type$")) | .code) = $c | .id = "\($c)-\(.id)"' "$1"; }
  for t in SNF HHA HOSPICE; do
    retype "$MORE/eob_read_in_pt_v2.json" "$t" >"$T/rt.json"
    I --dry-run "$T/rt.json" >"$T/o" 2>"$T/e" || fail "$t: $(cat "$T/e")"
    want=$(echo "$t" | tr 'A-Z' 'a-z')
    jq -s -e --arg p "$want" --argjson sum "$(jq '[.item[].adjudication[] | select(.category.coding[].code | test("rev_cntr_tot_chrg_amt$")) | .amount.value] | add' "$MORE/eob_read_in_pt_v2.json")" 'length == 11 and all(.[]; .practitioner == $p and .type == "claim" and .claim_paid == 10000) and ([.[].amount_eur] | add) == $sum' "$T/o" >/dev/null || fail "$t claim: $(head -1 "$T/o")"
  done
  retype "$BB/eob_read_carrier_v2.json" DME >"$T/rt.json"
  I --dry-run "$T/rt.json" >"$T/o" 2>"$T/e" || fail "DME: $(cat "$T/e")"
  jq -s -e 'length == 1 and .[0].practitioner == "dme" and .[0].amount_eur == 250 and .[0].reimbursed_eur == 50 and .[0].act_code == "77085"' "$T/o" >/dev/null || fail "DME claim: $(cat "$T/o")"
  ok "Blue Button SNF, HHA, hospice (institutional) and DME claims: the same lines and amounts, each its own kind"
fi

SYN=$(ls "$DATA_DIR"/synthea/*.json 2>/dev/null | head -1)
if [ -n "$SYN" ]; then
  syn_patient=$(jq -r '.entry[] | select(.resource.resourceType == "Patient") | .resource.id' "$SYN")
  printf 'customer,carnet_id\n%s,%s\n' "$syn_patient" "$(cat "$T/jane.id")" >"$T/enr-syn.csv"
  CARNET_KEY="$T/bb.key" timeout 60 "$B/carnet" import fhir --enrollment "$T/enr-syn.csv" --broker "$EP" --data "$DATA" "$SYN" >"$T/o" 2>"$T/e" || fail "synthea: $(cat "$T/e")"
  grep -q "85 records" "$T/o" && grep -Eq "Encounter +13 -> 0 records, skipped" "$T/o" && grep -Eq "Immunization +18 -> 18 records" "$T/o" || fail "synthea summary: $(cat "$T/o")"
  count '[.records[] | select(.ref | test("^fhir:(ExplanationOfBenefit|Immunization|Condition|Observation|Patient)/[0-9a-f-]{36}"))]' >"$T/syn"
  # urn:uuid references resolved: everything is jane's; the BP panel's
  # components carried whole; the coded lab result kept; the claim totals
  # the source gives (total submitted, payment) add up as in the source
  jq -e 'length == 85' "$T/syn" >/dev/null || fail "synthea records: $(jq length "$T/syn")"
  jq -e '[.[] | select(.kind == "blood_pressure")][0].components == ["diastolic_mmhg|72|mm[Hg]", "systolic_mmhg|116|mm[Hg]"]' "$T/syn" >/dev/null || fail "synthea BP"
  jq -e '[.[] | select(.type == "lab_result" and .loinc == "94531-1")][0] | .value_code == "http://snomed.info/sct|260373001" and .value_text == "Detected (qualifier value)"' "$T/syn" >/dev/null || fail "synthea coded lab"
  jq -e '[.[] | select(.type == "immunization")][0] | .vaccine_code == "140" and .system == "http://hl7.org/fhir/sid/cvx" and .status == "completed" and .time == "2011-04-07T04:20:23Z"' "$T/syn" >/dev/null || fail "synthea immunization"
  jq -e '[.[] | select(.type == "condition" and .code == "49727002")][0] | .system == "http://snomed.info/sct" and .label == "Cough (finding)" and .clinical_status == "resolved" and .onset == "2020-03-06T20:20:23-08:00"' "$T/syn" >/dev/null || fail "synthea condition"
  want_charged=$(jq '[.entry[].resource | select(.resourceType == "ExplanationOfBenefit") | .total[0].amount.value] | add' "$SYN")
  want_paid=$(jq '[.entry[].resource | select(.resourceType == "ExplanationOfBenefit") | .payment.amount.value] | add' "$SYN")
  jq -e --argjson c "$want_charged" --argjson p "$want_paid" 'def near($a; $b): ($a - $b) * ($a - $b) < 0.000001; [.[] | select(.type == "claim")] | unique_by(.claim_id) | near([.[].claim_charged] | add; $c) and near([.[].claim_paid] | add; $p) and $c > 1000' "$T/syn" >/dev/null || fail "synthea claim totals: want $want_charged / $want_paid"
  # the same bundle as a transaction, a collection, a history: the same
  # 85 records; a transaction's DELETE is refused whole, saying why
  for bt in transaction collection history; do
    jq --arg t "$bt" '.type = $t' "$SYN" >"$T/syn-$bt.json"
    CARNET_KEY="$T/bb.key" timeout 60 "$B/carnet" import fhir --enrollment "$T/enr-syn.csv" --dry-run --broker "$EP" --data "$DATA" "$T/syn-$bt.json" >"$T/o" 2>"$T/e" || fail "synthea as a $bt: $(cat "$T/e")"
    grep -q "syn-$bt.json: 85 records" "$T/e" && [ "$(wc -l <"$T/o")" -eq 85 ] || fail "synthea as a $bt: $(head -1 "$T/e")"
  done
  jq '.type = "transaction" | .entry += [{request: {method: "DELETE", url: "Observation/x"}}]' "$SYN" >"$T/syn-del.json"
  CARNET_KEY="$T/bb.key" timeout 60 "$B/carnet" import fhir --enrollment "$T/enr-syn.csv" --broker "$EP" --data "$DATA" "$T/syn-del.json" >/dev/null 2>"$T/e" && fail "a transaction with a DELETE was accepted"
  grep -q "a DELETE request without a resource (Observation/x): carnet imports resources, it does not delete" "$T/e" || fail "DELETE message: $(cat "$T/e")"
  ok "Synthea bundle: urn:uuid references, 85 records (claims with totals $want_charged USD, immunizations, conditions, vitals with components, coded labs)"
fi

FR=$DATA_DIR/france
if [ -d "$FR" ]; then
  printf 'customer,carnet_id\nExamplefrPatient001,%s\n' "$(cat "$T/jane.id")" >"$T/enr-fr.csv"
  CARNET_KEY="$T/bb.key" timeout 30 "$B/carnet" import fhir --enrollment "$T/enr-fr.csv" --broker "$EP" --data "$DATA" "$FR"/*.json >"$T/o" 2>"$T/e" || fail "france: $(cat "$T/e")"
  count '.records[] | select(.ref | startswith("fhir:Observation/ExampleMesFrObservationBodyWeight001@"))' | jq -e '.kind == "weight_kg" and .value == 96 and .time == "2022-11-06T00:00:00Z" and .time_precision == "day"' >/dev/null || fail "ANS weight"
  count '.records[] | select(.ref | startswith("fhir:Observation/ExampleMesFrObservationBP001@"))' | jq -e '.kind == "blood_pressure" and .components == ["systolic_mmhg|107|mm[Hg]", "diastolic_mmhg|60|mm[Hg]"]' >/dev/null || fail "ANS blood pressure"
  ok "ANS Mesures de sante: body weight (UCUM kg), blood pressure components"
fi

# French FHIR beyond the samples: an FR Core patient enrolled by her INS,
# ANS readings (LOINC under the ANS's own URI, glucose in mg/dL, steps per
# day), codes of other systems, CCAM and NGAP acts on a claim
FRB=$(dirname "$0")/corpus/fhir/fr_mesures.json
keys claire
add --role user --name claire --id "$(id claire)"
printf 'customer,carnet_id\nurn:oid:1.2.250.1.213.1.4.8|2740631234512,%s\n' "$(id claire)" >"$T/enr-frb.csv"
IFR() { CARNET_KEY="$T/bb.key" timeout 30 "$B/carnet" import fhir --enrollment "$T/enr-frb.csv" --broker "$EP" --data "$DATA" "$@"; }
IFR "$FRB" >"$T/o" 2>"$T/e" || fail "FR Core / ANS bundle: $(cat "$T/e")"
grep -q "10 records" "$T/o" || fail "FR bundle summary: $(cat "$T/o")"
CARNET_KEY="$T/claire.key" timeout 30 "$B/carnet" export --out "$T/xb.json" --broker "$EP" --data "$DATA" 2>/dev/null || fail "claire's export"
fr() { jq -e ".records[] | select(.ref | startswith(\"fhir:$1@\")) | $2" "$T/xb.json" >/dev/null || fail "$1: $(jq -c ".records[] | select(.ref | startswith(\"fhir:$1@\"))" "$T/xb.json")"; }
fr Patient/fr-p1 '.name == "Claire Anne Lefèvre" and .birth_year == 1974'
fr Observation/fr-glu1 '.kind == "glucose_mmol_l" and .value == 5.99480450276 and .time == "2023-02-14T06:30:00Z"'
fr Observation/fr-spo2 '.kind == "spo2_pct" and .value == 97'
fr Observation/fr-steps '.kind == "steps" and .value == 8412 and .period_min == 1440 and .time_precision == "day"'
fr Observation/fr-hr '.kind == "heart_rate_bpm" and .value == 64'
fr Observation/fr-waist '.kind == "loinc:8280-0" and .value == 84 and .unit == "cm" and .label == "Tour de taille"'
fr Observation/fr-pain '.kind == "code:225908003" and .system == "http://snomed.info/sct" and .value == 3'
fr Condition/fr-c1 '.code == "E11.9" and .system == "https://smt.esante.gouv.fr/terminologie-cim-10" and .time_precision == "month"'
fr 'ExplanationOfBenefit/fr-eob1#1' '.act_code == "DEQP003" and .act_system == "https://smt.esante.gouv.fr/terminologie-ccam" and .amount_eur == 14.26 and .reimbursed_eur == 9.98 and .provider == "Dr Martin, cardiologue"'
fr 'ExplanationOfBenefit/fr-eob1#2' '.act_code == "APC" and has("act_system") == false and .label == "Avis ponctuel de consultant" and .amount_eur == 60'
# FHIR strings may hold line breaks and tabs, records may not: folded, said
jq '.entry[7].resource.code.coding[0].display = "Diabète de type 2,\r\n\tsans complication\n"' "$FRB" >"$T/frnl.json"
IFR --dry-run "$T/frnl.json" >"$T/o" 2>"$T/e" || fail "a display over two lines: $(cat "$T/e")"
jq -s -e 'map(select(.type == "condition"))[0].label == "Diabète de type 2, sans complication"' "$T/o" >/dev/null || fail "folded label: $(cat "$T/o")"
grep -q "1 texts with line breaks or tabs, written on one line" "$T/e" || fail "the fold is not reported: $(cat "$T/e")"
jq '.entry[7].resource.code.coding[0].display = "bell\u0007"' "$FRB" >"$T/frbel.json"
IFR --dry-run "$T/frbel.json" >/dev/null 2>"$T/e" && fail "a control character was accepted"
grep -q "entry 8 (Condition fr-c1).*control" "$T/e" || fail "control character message: $(cat "$T/e")"
# a display of white space only (not valid FHIR) is absent: the code is the label
jq '.entry[7].resource.code.coding[0].display = " \n\t "' "$FRB" >"$T/frws.json"
IFR --dry-run "$T/frws.json" >"$T/o" 2>"$T/e" || fail "a blank display: $(cat "$T/e")"
jq -s -e 'map(select(.type == "condition"))[0].label == "E11.9"' "$T/o" >/dev/null || fail "blank display: $(grep condition "$T/o")"
# a code longer than a kind holds is refused, never stored cut
jq --arg c "$(printf 'X%.0s' $(seq 60))" '.entry[6].resource.code.coding[0].code = $c' "$FRB" >"$T/frlong.json"
IFR --dry-run "$T/frlong.json" >/dev/null 2>"$T/e" && fail "a 60-character code was accepted (cut?)"
grep -q "entry 7 (Observation fr-pain).*kind" "$T/e" || fail "long code message: $(cat "$T/e")"
# a name longer than the field is cut at a character, and said
jq --arg f "$(printf 'é%.0s' $(seq 100))" '.entry[0].resource.name[0].family = $f' "$FRB" >"$T/frname.json"
IFR --dry-run "$T/frname.json" >"$T/o" 2>"$T/e" || fail "a long name: $(cat "$T/e")"
jq -s -e 'map(select(.type == "profile"))[0].name | startswith("Claire Anne éé") and (utf8bytelength <= 160)' "$T/o" >/dev/null || fail "long name: $(grep profile "$T/o")"
grep -q "1 names or labels longer than their field holds, shortened" "$T/e" || fail "the cut name is not said: $(cat "$T/e")"
# components coded outside LOINC are not called LOINC
jq '.entry[1].resource = {resourceType: "Observation", id: "fr-bp-sct", status: "final", code: {coding: [{system: "http://loinc.org", code: "85354-9"}]}, subject: {reference: "Patient/fr-p1"}, effectiveDateTime: "2023-02-14", component: [{code: {coding: [{system: "http://snomed.info/sct", code: "271649006"}]}, valueQuantity: {value: 121, system: "http://unitsofmeasure.org", code: "mm[Hg]"}}]}' "$FRB" >"$T/frsct.json"
IFR --dry-run "$T/frsct.json" >"$T/o" 2>"$T/e" || fail "a SNOMED component: $(cat "$T/e")"
jq -s -e 'map(select(.ref | startswith("fhir:Observation/fr-bp-sct@")))[0].components == ["code:271649006|121|mm[Hg]"]' "$T/o" >/dev/null || fail "SNOMED component: $(grep fr-bp-sct "$T/o")"
grep -q "1 components coded outside LOINC" "$T/e" || fail "the component's system loss is not said: $(cat "$T/e")"
ok "FR Core patient enrolled by INS; ANS readings (ANS LOINC URI, glucose 108 mg/dL as 5.995 mmol/L, steps 1/(24.h) as a day's count); SNOMED and CIM-10 codes with their systems; CCAM and NGAP acts; line breaks folded and said, other control characters refused; blank texts absent, long codes refused not cut, non-LOINC components not called LOINC"

# --- references of every form, enrollment by identifier, partial dates,
# units, corrections ---
printf 'customer,carnet_id\nurn:oid:1.2.250.1.213.1.4.8|2800175123456,%s\n' "$(cat "$T/jane.id")" >"$T/enr-ins.csv"
cat >"$T/forms.json" <<'J'
{"resourceType": "Bundle", "type": "transaction", "entry": [
 {"fullUrl": "urn:uuid:8a1c7e0e-0000-4000-8000-000000000001", "resource": {"resourceType": "Patient", "id": "p-9",
   "identifier": [{"system": "urn:oid:1.2.250.1.213.1.4.8", "value": "2800175123456"}], "birthDate": "1980", "gender": "male",
   "name": [{"use": "official", "family": "Martin", "given": ["Paul"]}], "meta": {"lastUpdated": "2021-01-01T00:00:00Z"}}},
 {"fullUrl": "urn:uuid:8a1c7e0e-0000-4000-8000-000000000002", "resource": {"resourceType": "Observation", "id": "w-9", "status": "final",
   "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]}, "subject": {"reference": "urn:uuid:8a1c7e0e-0000-4000-8000-000000000001"},
   "effectiveDateTime": "2021-02-03T08:00:00+01:00", "valueQuantity": {"value": 79.4, "unit": "lb", "system": "http://unitsofmeasure.org", "code": "[lb_av]"}}},
 {"resource": {"resourceType": "Condition", "id": "c-9", "clinicalStatus": {"coding": [{"code": "active"}]},
   "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "E11", "display": "Diabete de type 2"}]},
   "subject": {"reference": "Patient/p-9"}, "onsetDateTime": "2020-03"}},
 {"resource": {"resourceType": "AllergyIntolerance", "id": "a-9", "category": ["medication"], "criticality": "high",
   "code": {"text": "Penicilline"}, "patient": {"reference": "https://fhir.example.org/r4/Patient/p-9/_history/2"},
   "reaction": [{"manifestation": [{"text": "urticaire"}]}]}},
 {"resource": {"resourceType": "Coverage", "id": "cov-9", "status": "active", "type": {"text": "MGEN Equilibre"},
   "beneficiary": {"identifier": {"system": "urn:oid:1.2.250.1.213.1.4.8", "value": "2800175123456"}}, "meta": {"lastUpdated": "2021-06-01T00:00:00Z"}}},
 {"resource": {"resourceType": "ExplanationOfBenefit", "id": "eob-9", "status": "active", "contained": [{"resourceType": "Organization", "id": "org1", "name": "Clinique du Parc"}],
   "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/claim-type", "code": "professional"}]},
   "patient": {"reference": "Patient/p-9"}, "provider": {"reference": "#org1"}, "created": "2021-03-04",
   "item": [{"sequence": 1, "productOrService": {"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "99213", "display": "Office visit"}]},
             "adjudication": [{"category": {"coding": [{"system": "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBAdjudication", "code": "paidtoprovider"}]}, "amount": {"value": 60, "currency": "EUR"}},
                              {"category": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/adjudication", "code": "submitted"}]}, "amount": {"value": 80, "currency": "EUR"}}]}]}}
]}
J
IF() { CARNET_KEY="$T/bb.key" timeout 30 "$B/carnet" import fhir --enrollment "$T/enr-ins.csv" --broker "$EP" --data "$DATA" "$@"; }
IF "$T/forms.json" >"$T/o" 2>"$T/e" || fail "reference forms: $(cat "$T/e")"
grep -q "6 records" "$T/o" || fail "reference forms summary: $(cat "$T/o")"
count '.records[] | select(.ref | startswith("fhir:Observation/w-9@"))' | jq -e '.kind == "weight_kg" and .value == 36.015234178 and .time == "2021-02-03T07:00:00Z" and has("time_precision") == false' >/dev/null || fail "79.4 [lb_av] as kg: $(count '.records[] | select(.ref | startswith("fhir:Observation/w-9@"))')"
count '.records[] | select(.ref | startswith("fhir:Condition/c-9@"))' | jq -e '.time == "2020-03-01T00:00:00Z" and .time_precision == "month" and .onset == "2020-03" and .system == "http://hl7.org/fhir/sid/icd-10"' >/dev/null || fail "partial onset"
count '.records[] | select(.ref | startswith("fhir:Patient/p-9@"))' | jq -e '.birth_year == 1980 and .name == "Paul Martin" and .time == "2021-01-01T00:00:00Z"' >/dev/null || fail "partial birthDate"
count '.records[] | select(.ref | startswith("fhir:AllergyIntolerance/a-9@"))' | jq -e '.label == "Penicilline" and .criticality == "high" and .reactions == ["urticaire"]' >/dev/null || fail "absolute reference"
count '.records[] | select(.ref | startswith("fhir:Coverage/cov-9@"))' | jq -e '.plan == "MGEN Equilibre" and .time == "2021-06-01T00:00:00Z" and has("period_start") == false' >/dev/null || fail "coverage without a period (logical reference)"
count '.records[] | select(.ref | startswith("fhir:ExplanationOfBenefit/eob-9#1@"))' | jq -e '.provider == "Clinique du Parc" and .provider_role == "billing" and .act_system == "http://www.ama-assn.org/go/cpt" and .amount_eur == 80 and .reimbursed_eur == 60 and has("currency") == false' >/dev/null || fail "contained provider, CARIN amounts"
ok "urn:uuid, relative, absolute and contained references; enrollment by identifier; 79.4 [lb_av] as 36.015 kg; partial dates kept with their precision; a Coverage without a period dated when last updated"

IF "$T/forms.json" >"$T/o" 2>"$T/e" && grep -q "0 stored, 6 already stored" "$T/o" || fail "re-import: $(cat "$T/o" "$T/e")"
# an app jane lets see her conditions gets the first version
keys care
add --role app --name care --id "$(id care)" --purpose care-path --owner "Parcours SAS" --business-model subscription
C jane consent grant --app "$(id care)" --types condition --purpose care-path --yes >/dev/null 2>"$T/e" || fail "grant: $(cat "$T/e")"
C care subscribe --idle-exit 2 >"$T/care1.jsonl" 2>/dev/null
# the app sees an opaque id of its own, not the holder's ref (fhir:Condition/c-9@...)
cref=$(jq -r 'select(.type == "condition" and .code == "E11" and .label == "Diabete de type 2") | .ref' "$T/care1.jsonl")
[[ $cref == carnet:* ]] || fail "the app did not get the Condition under an opaque id: $(cat "$T/care1.jsonl")"
! grep -q 'fhir:' "$T/care1.jsonl" || fail "the app got holder refs: $(grep -m1 'fhir:' "$T/care1.jsonl")"
jq '.entry[2].resource.clinicalStatus.coding[0].code = "resolved"' "$T/forms.json" >"$T/forms2.json"
IF "$T/forms2.json" >"$T/o" 2>"$T/e" && grep -q "1 stored, 5 already stored (1 of them new versions of records stored before: corrections)" "$T/o" || fail "a corrected Condition: $(cat "$T/o" "$T/e")"
[ "$(count '[.records[] | select(.ref | startswith("fhir:Condition/c-9@"))] | map(.clinical_status) | sort | join(",")')" = '"active,resolved"' ] || fail "both versions of the Condition"
old=$(count '.records[] | select(.ref | startswith("fhir:Condition/c-9@")) | select(.clinical_status == "active") | .seq')
new=$(count '.records[] | select(.ref | startswith("fhir:Condition/c-9@")) | select(.clinical_status == "resolved") | .seq')
count '.records[] | select(.seq == '"$new"')' | jq -e '.corrects == '"$old" >/dev/null || fail "the new version does not say it corrects record $old"
count '.records[] | select(.seq == '"$old"')' | jq -e 'has("corrects") | not' >/dev/null || fail "the first version says it corrects"
jq -e '[.log[] | select(.kind == "correct" and .record == '"$new"')] | length == 1' "$T/x.json" >/dev/null || fail "no correction in jane's log: $(jq -c '[.log[] | select(.kind == "correct")]' "$T/x.json")"
C care subscribe --idle-exit 2 >"$T/care2.jsonl" 2>/dev/null
jq -s -e --arg r "$cref" 'map(select(.ref == $r)) | length == 1 and .[0].corrects == '"$old"' and .[0].clinical_status == "resolved"' "$T/care2.jsonl" >/dev/null || fail "the app was not told of the correction under the id it saw: $(cat "$T/care2.jsonl")"
printf '{"user":"%s","ref":"k-1@2","corrects":1,"time":"2020-01-01T00:00:00Z","code":"E11","system":"x","label":"y"}\n' "$(id jane)" | C bb put --type condition >"$T/o" 2>"$T/e" && fail "a holder set corrects"
grep -q "corrects is the broker's to set" "$T/e" || fail "holder-set corrects: $(cat "$T/e")"
ok "a re-import stores nothing twice; a changed resource is a new version under the same ref base, marked as correcting the first (import report, record, person's log, app: under the opaque id it saw)"

# one document, several PUT batches: a refusal in the last batch stores
# nothing of the first ones (every batch is checked first)
keys lab2
add --role holder --name lab2 --id "$(id lab2)" --type observation
before=$(count '.records | length')
jq -n --arg p "-20140000008325" '{resourceType: "Bundle", type: "collection", entry: ([range(0; 1200) | {resource: {resourceType: "Observation", id: "big-\(.)", status: "final", code: {coding: [{system: "http://loinc.org", code: "8867-4"}]}, subject: {reference: "Patient/\($p)"}, effectiveDateTime: "2021-01-01T00:00:00Z", valueQuantity: {value: 60, system: "http://unitsofmeasure.org", code: "/min"}}}] + [{resource: {resourceType: "Condition", id: "late", code: {coding: [{system: "http://snomed.info/sct", code: "44054006"}]}, subject: {reference: "Patient/\($p)"}}}])}' >"$T/big.json"
CARNET_KEY="$T/lab2.key" timeout 60 "$B/carnet" import fhir --enrollment "$T/enr.csv" --broker "$EP" --data "$DATA" "$T/big.json" >"$T/o" 2>"$T/e" && fail "a document with a type the holder is not registered for was accepted"
grep -q "entry 1201 (Condition late): .*not registered for type condition.*nothing of it was stored" "$T/e" || fail "big document message: $(cat "$T/e")"
[ "$(count '.records | length')" -eq "$before" ] || fail "part of a refused 1201-entry document was stored"
ok "a 1201-entry document refused in its second batch: nothing stored, the entry named"

# the export carries the new kinds as their own resources, codes with their
# systems, partial dates at their precision, no empty values
CARNET_KEY="$T/jane.key" timeout 30 "$B/carnet" export --format fhir --out "$T/fx.json" --broker "$EP" --data "$DATA" 2>"$T/e" || fail "fhir export: $(cat "$T/e")"
jq -e '[.entry[].resource | select(.resourceType == "Condition" and .code.coding[0].code == "E11")][0] | .code.coding[0].system == "http://hl7.org/fhir/sid/icd-10" and .onsetDateTime == "2020-03" and .recordedDate == "2020-03"' "$T/fx.json" >/dev/null || fail "exported Condition"
jq -e '[.entry[].resource | select(.resourceType == "Immunization")] | length == 18 and (.[0].vaccineCode.coding[0].system == "http://hl7.org/fhir/sid/cvx")' "$T/fx.json" >/dev/null || fail "exported Immunizations"
jq -e '[.entry[].resource | select(.resourceType == "AllergyIntolerance")][0] | .code.text == "Penicilline" and .criticality == "high"' "$T/fx.json" >/dev/null || fail "exported AllergyIntolerance"
jq -e '[.. | objects | select(has("valueQuantity")) | .valueQuantity | select(.value == null)] | length == 0' "$T/fx.json" >/dev/null || fail "an exported value is null"
jq -e '[.entry[].resource | select(.resourceType == "Observation" and (.component | length) == 2)] | length >= 2' "$T/fx.json" >/dev/null || fail "exported blood pressure components"
ok "FHIR export: Condition, AllergyIntolerance, Immunization with coded systems, partial dates at their precision, components, no null values"
echo "$pass passed, 0 failed"
