#!/usr/bin/env bash
# carnet import fhir against a real carnetd: the real Blue Button 2.0
# samples in ../shared/data/bluebutton, other well-formed EOBs (inpatient,
# outpatient), Observations, resends, and malformed documents that must be
# refused without storing any of their records.
source "$(dirname "$0")/itlib.sh"
BB=${CARNET_BLUEBUTTON:-$PWD/../shared/data/bluebutton}
[ -d "$BB" ] || { echo "no Blue Button samples at $BB: skipped"; echo "0 passed, 0 failed"; exit 0; }
start_broker
keys jane bb
add --role user --name jane --id "$(id jane)"
add --role holder --name bluebutton --id "$(id bb)" \
  --type claim --type dispense --type profile --type coverage --type lab_result --type observation
printf 'customer,carnet_id\n-20140000008325,%s\n' "$(cat "$T/jane.id")" >"$T/enr.csv"
I() { CARNET_KEY="$T/bb.key" timeout 30 "$B/carnet" import fhir --enrollment "$T/enr.csv" --broker "$EP" --data "$DATA" "$@"; }
count() { CARNET_KEY="$T/jane.key" timeout 30 "$B/carnet" export --out "$T/x.json" --broker "$EP" --data "$DATA" 2>/dev/null; jq "$1" "$T/x.json"; }

I "$BB"/*.json >"$T/o" 2>"$T/e" || fail "import of the samples: $(cat "$T/e")"
[ "$(count '.records | length')" -eq 16 ] || fail "samples stored $(count '.records|length') records, want 16"
[ "$(count '[.records[] | select(.type == "dispense")] | length')" -eq 10 ] || fail "10 pharmacy EOBs"
count '.records[] | select(.type == "claim")' >"$T/claim"
jq -e '.act_code == "77085" and .amount_eur == 250 and .reimbursed_eur == 50 and .currency == "USD" and .time == "2015-12-01T00:00:00Z" and .provider == "999999999999"' "$T/claim" >/dev/null || fail "carrier claim: $(cat "$T/claim")"
count '.records[] | select(.type == "dispense" and .cip13 == "55111015810")' >"$T/rx"
jq -e '.drug == "Omeprazole - OMEPRAZOLE" and .amount_eur == 10 and .time == "2016-12-01T00:00:00Z"' "$T/rx" >/dev/null || fail "pharmacy claim: $(cat "$T/rx")"
count '.records[] | select(.type == "profile")' | jq -e '.birth_year == 2014 and .sex == "female" and .name == "Jane Doe"' >/dev/null || fail "patient"
[ "$(count '[.records[] | select(.type == "coverage")] | map(.plan) | sort | join(",")')" = '"Part A,Part B,Part C,Part D"' ] || fail "coverage"
ok "the Blue Button samples: 10 pharmacy EOBs, a carrier EOB, the patient, 4 coverages, with codes, dates, amounts, providers"

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
grep -q "5 records" "$T/o" && grep -q "1 resources of patients not enrolled, 1 of other kinds" "$T/o" || fail "other EOBs summary: $(cat "$T/o")"
count '.records[] | select(.ref == "fhir:eob/inpatient-1#1")' | jq -e '.care_kind == "hospital" and .amount_eur == 4200.5 and .provider == "Hopital Saint-Louis" and .label == "Initial hospital care"' >/dev/null || fail "inpatient EOB"
[ "$(count '[.records[] | select(.ref | startswith("fhir:eob/outpatient-1"))] | length')" -eq 2 ] || fail "outpatient EOB items"
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
bad no-patient 'del(.entry[1].resource.patient)' "entry 2 (ExplanationOfBenefit outpatient-2): names no patient"
bad bad-amount '.entry[0].resource.item[0].adjudication[0].amount.value = "lots"' "not a number"
bad no-value 'del(.entry[2].resource.valueQuantity)' "entry 3 (Observation obs-1): no numeric valueQuantity"
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
[ "$(count '[.records[] | select(.type == "profile")] | map(.ref) | sort | join(",")')" = '"fhir:patient/-20140000008325,fhir:patient/second-patient"' ] || fail "profiles: $(count '[.records[] | select(.type == "profile")] | map(.ref)')"
ok "two Patients, two profiles (a ref per Patient id)"
echo "$pass passed, 0 failed"
