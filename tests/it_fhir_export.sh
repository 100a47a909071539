#!/usr/bin/env bash
# carnet export --format fhir: the Bundle is valid FHIR R4 (checked by a
# real validator, @medplum/core's validateResource over the R4
# StructureDefinitions, tests/web/fhir-validate.mjs) and imports into a
# fresh broker as the same records: a round trip of every record type,
# from the real samples (Blue Button v1/v2, Synthea, ANS) and from
# records a holder put with every field of its type.
source "$(dirname "$0")/itlib.sh"
SHARED=${CARNET_SHARED_DATA:-$PWD/../shared/data}
VALIDATE=$PWD/tests/web/fhir-validate.mjs
[ -d "$SHARED/bluebutton" ] || { echo "no FHIR samples at $SHARED: skipped"; echo "0 passed, 0 failed"; exit 0; }
[ -d "$PWD/tests/web/node_modules/@medplum/core" ] || fail "no FHIR validator: run make web-deps (make test does)"

keys jane bb
register() {
  add --role user --name jane --id "$(id jane)"
  add --role holder --name "Caisse d'exemple" --id "$(id bb)" \
    --type claim --type dispense --type profile --type coverage --type lab_result --type observation \
    --type condition --type allergy --type immunization --type context
}
start_broker
register
J=$(id jane)
# every sample's patient is jane here
printf 'customer,carnet_id\n-20140000008325,%s\n475d72ca-91c7-7211-97e3-f000af33fc04,%s\nExamplefrPatient001,%s\nurn:oid:1.2.250.1.213.1.4.8|2740631234512,%s\n' "$J" "$J" "$J" "$J" >"$T/enr.csv"
CARNET_KEY="$T/bb.key" timeout 60 "$B/carnet" import fhir --enrollment "$T/enr.csv" --broker "$EP" --data "$DATA" \
  "$SHARED"/bluebutton/*.json "$SHARED"/bluebutton-more/*.json "$SHARED"/synthea/*.json "$SHARED"/france/*.json tests/corpus/fhir/fr_mesures.json \
  >"$T/o" 2>"$T/e" || fail "import of the samples: $(cat "$T/e")"

# records a holder sends itself, each type with all its fields
P() { C bb put --type "$1" >"$T/o" 2>"$T/e" || fail "put $1: $(cat "$T/e")"; }
P claim <<J
{"user":"$J","ref":"c-1","time":"2017-03-02T10:15:00Z","act_code":"C","label":"Consultation generaliste","amount_eur":25,"reimbursed_eur":16.5,"practitioner":"generaliste","mutual_eur":7.5,"provider":"Dr Martin","care_kind":"consultation","provider_role":"performing","claim_id":"F-1","claim_charged":25,"claim_paid":16.5,"patient_paid":1,"quantity":1,"diagnoses":["http://hl7.org/fhir/sid/icd-10|E11"]}
{"user":"$J","ref":"c-2","time":"2017-04-01T00:00:00Z","time_precision":"month","act_code":"0301","label":"Laboratoire","practitioner":"outpatient","provider":"CHU","provider_role":"billing","care_kind":"hospital","revenue_code":"0301","currency":"USD","amount_eur":60,"act_system":"https://bluebutton.cms.gov/resources/codesystem/hcpcs"}
{"user":"$J","ref":"c-3","time":"2017-05-02T09:00:00Z","act_code":"SC12","label":"Detartrage","practitioner":"dentiste","provider":"Dr Dent","care_kind":"dental"}
J
P dispense <<J
{"user":"$J","ref":"d-1","time":"2017-03-03T11:00:00Z","cip13":"3400930000010","drug":"Doliprane 1000 mg comprime","quantity":2,"amount_eur":4.3,"reimbursed_eur":2.8,"prescriber":"Dr Martin","atc":"N02BE01","patient_paid":1.5,"claim_id":"P-1"}
{"user":"$J","ref":"d-2","time":"2017-03-04T00:00:00Z","time_precision":"day","drug_code":"9285716","drug_system":"http://data.esante.gouv.fr/ansm/medicament/UCD","drug":"Metformine","quantity":30}
J
P lab_result <<J
{"user":"$J","ref":"l-1","time":"2018-01-05T08:00:00Z","loinc":"4548-4","label":"Hemoglobine glyquee","value":6.8,"unit":"%","ref_low":4,"ref_high":6,"lab":"Labo Bio","interpretation":"H"}
{"user":"$J","ref":"l-2","time":"2018-01-05T08:00:00Z","loinc":"5196-1","label":"Ag HBs","value_code":"http://snomed.info/sct|260385009","value_text":"Negative"}
{"user":"$J","ref":"l-3","time":"2018-01-06T00:00:00Z","time_precision":"day","loinc":"11529-5","label":"Anatomopathologie","value_text":"Pas de cellule atypique"}
J
P observation <<J
{"user":"$J","ref":"o-1","time":"2019-06-01T07:00:00Z","kind":"steps","value":8042,"device":"Podo 3","period_min":1440}
{"user":"$J","ref":"o-2","time":"2019-06-01T07:05:00Z","kind":"blood_pressure","components":["systolic_mmhg|128|mm[Hg]","diastolic_mmhg|82|mm[Hg]"],"label":"Tension"}
{"user":"$J","ref":"o-3","time":"2019-06-02T07:05:00Z","kind":"weight_kg","value":72.5}
{"user":"$J","ref":"o-4","time":"2019-06-02T07:05:00Z","kind":"loinc:2093-3","value":2.1,"unit":"g/L","label":"Cholesterol"}
{"user":"$J","ref":"o-5","time":"2019-01-01T00:00:00Z","time_precision":"year","kind":"smoking","value_code":"http://snomed.info/sct|8517006","value_text":"Ancien fumeur"}
{"user":"$J","ref":"o-6","time":"2019-06-03T07:05:00Z","kind":"code:225908003","system":"http://snomed.info/sct","value":4,"label":"Douleur"}
{"user":"$J","ref":"o-7","time":"2019-06-03T07:06:00Z","kind":"code:EVA-REPOS","value":2}
J
P profile <<J
{"user":"$J","ref":"p-1","time":"2020-01-01T00:00:00Z","birth_year":1962,"sex":"female","blood_group":"O+","allergies":["penicilline"],"conditions":["diabete de type 2","asthme"],"treatments":["metformine 1000 mg"],"emergency_contact":"Paul 06 00 00 00 00","name":"Jeanne Dupont"}
J
P coverage <<J
{"user":"$J","ref":"v-1","time":"2016-01-01T00:00:00Z","plan":"MGEN Equilibre","status":"active","payer":"MGEN","group":"Fonction publique","period_start":"2016-01-01","period_end":"2026-12-31"}
J
P context <<J
{"user":"$J","ref":"x-1","time":"2019-06-01T12:00:00Z","kind":"pm25","value":12.5,"area":"Lyon","source":"Atmo"}
J
P condition <<J
{"user":"$J","ref":"k-1","time":"2015-02-01T00:00:00Z","code":"E11","system":"http://hl7.org/fhir/sid/icd-10","label":"Diabete de type 2","clinical_status":"active","verification":"confirmed","category":"problem-list-item","onset":"2014","abatement":"never"}
J
P allergy <<J
{"user":"$J","ref":"a-1","time":"2010-05-01T00:00:00Z","label":"Penicilline","code":"764146007","system":"http://snomed.info/sct","category":"medication","criticality":"high","clinical_status":"active","verification":"confirmed","reactions":["urticaire","oedeme"]}
J
P immunization <<J
{"user":"$J","ref":"i-1","time":"2021-05-01T09:00:00Z","vaccine_code":"3400930000027","system":"https://smt.esante.gouv.fr/terminologie-cip_ucd","label":"Vaccin grippe","status":"completed","lot":"AB12","dose":"2","performer":"Pharmacie du Centre"}
J

X() { CARNET_KEY="$T/jane.key" timeout 60 "$B/carnet" export --broker "$EP" --data "$DATA" "$@"; }
X --out "$T/a.json" 2>"$T/e" || fail "export: $(cat "$T/e")"
X --format fhir --out "$T/fa.json" 2>"$T/e" || fail "fhir export: $(cat "$T/e")"
n=$(jq '.records | length' "$T/a.json")
[ "$n" -ge 150 ] || fail "the first broker holds $n records"
[ "$(jq '[.records[].type] | unique | length' "$T/a.json")" -eq 10 ] || fail "not every type: $(jq -c '[.records[].type] | unique' "$T/a.json")"
ok "the first broker: $n records of all 10 types (the samples and a holder's own)"

node "$VALIDATE" "$T/fa.json" >"$T/v" 2>&1 || fail "the export is not valid R4: $(grep -v ': information:' "$T/v" | head -20)"
grep -q "Bundle of $n entries: valid R4" "$T/v" || fail "validator: $(tail -1 "$T/v")"
# the validator does see errors: the same Bundle without EOB.insurer
jq '(.entry[] | select(.resource.resourceType == "ExplanationOfBenefit") | .resource) |= del(.insurer)' "$T/fa.json" >"$T/broken.json"
! node "$VALIDATE" "$T/broken.json" >"$T/v2" 2>&1 || fail "the validator passed a Bundle without EOB.insurer"
grep -q "insurer: Missing required property" "$T/v2" || fail "validator: $(tail -3 "$T/v2")"
ok "the FHIR export is valid R4 ($n entries; without EOB.insurer the validator refuses it)"
# the person's Patient is there, and every reference to a Patient names it
jq -e --arg j "$J" '[.entry[].resource | select(.resourceType == "Patient" and .id == $j)] | length == 1' "$T/fa.json" >/dev/null || fail "no Patient/$J"
jq -e --arg j "$J" '[.. | objects | select(has("reference")) | .reference | select(startswith("Patient/"))] | unique == ["Patient/" + $j]' "$T/fa.json" >/dev/null || fail "dangling Patient references"
jq -e '[.entry[].resource | select(.resourceType == "Observation" and .code.coding[0].code == "29463-7")] | length >= 1' "$T/fa.json" >/dev/null || fail "weight without its LOINC code"
jq -e '[.entry[].resource | select(.resourceType == "ExplanationOfBenefit" and .type.coding[0].code == "pharmacy")][0].item[0].adjudication | length >= 1' "$T/fa.json" >/dev/null || fail "pharmacy amounts"
jq -e '[.entry[].resource | select(.resourceType == "ExplanationOfBenefit") | .item[0].productOrService.coding[0] | select(.code == "DEQP003")][0].system == "https://smt.esante.gouv.fr/terminologie-ccam"' "$T/fa.json" >/dev/null || fail "CCAM act without its system"
jq -e '[.entry[].resource | select(.resourceType == "Observation") | .code.coding[0] | select(.code == "225908003")][0].system == "http://snomed.info/sct"' "$T/fa.json" >/dev/null || fail "a SNOMED-coded reading without its system"
jq -e '[.entry[].resource | select(.resourceType == "Patient") | .name[0].text] | index("Jeanne Dupont") != null' "$T/fa.json" >/dev/null || fail "the Patient name"
ok "the Patient, its name, vital LOINC codes, pharmacy amounts are in the export"

# a fresh broker, the same holder importing the export
stop_broker
DATA=$T/broker2
rm -f "$T"/jane.key.head # what jane saw of the first broker's log
start_broker
register
printf 'customer,carnet_id\n%s,%s\n' "$J" "$J" >"$T/enr2.csv"
CARNET_KEY="$T/bb.key" timeout 60 "$B/carnet" import fhir --enrollment "$T/enr2.csv" --broker "$EP" --data "$DATA" \
  "$T/fa.json" >"$T/o" 2>"$T/e" || fail "import of the export: $(cat "$T/e")"
X --out "$T/b.json" 2>"$T/e" || fail "export 2: $(cat "$T/e")"
norm() { jq -S '[.records[] | del(.seq)] | sort_by(.ref)' "$1"; }
norm "$T/a.json" >"$T/a.n"; norm "$T/b.json" >"$T/b.n"
diff "$T/a.n" "$T/b.n" >"$T/d" || fail "the round trip changed records: $(head -40 "$T/d")"
ok "the export imported into a fresh broker gives the same $n records, field by field"
CARNET_KEY="$T/bb.key" timeout 60 "$B/carnet" import fhir --enrollment "$T/enr2.csv" --broker "$EP" --data "$DATA" \
  "$T/fa.json" >"$T/o" 2>"$T/e" || fail "second import of the export: $(cat "$T/e")"
grep -q ": 0 stored, $n already stored" "$T/o" || fail "a re-import of the export: $(cat "$T/o")"
X --format fhir --out "$T/fb.json" 2>"$T/e" || fail "fhir export 2: $(cat "$T/e")"
node "$VALIDATE" "$T/fb.json" >"$T/v" 2>&1 || fail "the second export is not valid R4: $(head -5 "$T/v")"
ok "imported again, the export stores nothing twice; the second broker's export is valid R4 too"
# what a forged export may not do: one holder ref for several records, a
# field the type lacks, a field's value of the wrong type; refused whole
IJ() { CARNET_KEY="$T/bb.key" timeout 60 "$B/carnet" import fhir --enrollment "$T/enr2.csv" --broker "$EP" --data "$DATA" "$@"; }
eob='[.entry[] | select(.resource.resourceType == "ExplanationOfBenefit" and .resource.type.coding[0].code == "professional")][0]'
jq "{resourceType: \"Bundle\", type: \"collection\", entry: [.entry[0], ($eob | .resource.item += [.resource.item[0] | .sequence = 2])]}" "$T/fa.json" >"$T/f1.json"
IJ "$T/f1.json" >"$T/o" 2>"$T/e" && fail "one holder ref for two items was stored"
grep -q "urn:carnet:holder-ref names one record" "$T/e" || fail "two items: $(cat "$T/e")"
jq "{resourceType: \"Bundle\", type: \"collection\", entry: [.entry[0], ($eob | .resource.extension += [{url: \"urn:carnet:field:blood_group\", valueString: \"O+\"}])]}" "$T/fa.json" >"$T/f2.json"
IJ "$T/f2.json" >"$T/o" 2>"$T/e" && fail "a field claims lack was stored"
grep -q "claim records have no field blood_group" "$T/e" || fail "unknown field: $(cat "$T/e")"
jq "{resourceType: \"Bundle\", type: \"collection\", entry: [.entry[0], ($eob | .resource.extension |= map(if .url == \"urn:carnet:field:practitioner\" then {url, valueDecimal: 3} else . end))]}" "$T/fa.json" >"$T/f3.json"
IJ "$T/f3.json" >"$T/o" 2>"$T/e" && fail "a number for a text field was stored"
grep -q "urn:carnet:field:practitioner: a string needs a valueString" "$T/e" || fail "wrong value type: $(cat "$T/e")"
ok "a forged export is refused whole: one holder ref for two items, a field the type lacks, a value of the wrong type"

# a component a holder sent malformed is exported as it is, never as a
# made-up number; importing that export refuses it, naming the component
keys bob
add --role user --name bob --id "$(id bob)"
printf '{"user":"%s","ref":"o-bad","time":"2019-06-01T07:05:00Z","kind":"blood_pressure","components":["systolic_mmhg|abc|mm[Hg]","diastolic_mmhg|82|mm[Hg]"]}\n' "$(id bob)" | C bb put --type observation >"$T/o" 2>"$T/e" || fail "put bob: $(cat "$T/e")"
CARNET_KEY="$T/bob.key" timeout 60 "$B/carnet" export --broker "$EP" --data "$DATA" --format fhir --out "$T/fbob.json" 2>"$T/e" || fail "bob's export: $(cat "$T/e")"
jq -e '[.entry[].resource | select(.resourceType == "Observation") | .component[]] | .[0].valueString == "abc" and (.[0] | has("valueQuantity") | not) and .[1].valueQuantity.value == 82' "$T/fbob.json" >/dev/null || fail "malformed component: $(jq -c '[.entry[].resource.component]' "$T/fbob.json")"
node "$VALIDATE" "$T/fbob.json" >"$T/v" 2>&1 || fail "bob's export is not valid R4: $(head -5 "$T/v")"
printf 'customer,carnet_id\n%s,%s\n' "$(id bob)" "$(id bob)" >"$T/enr3.csv"
CARNET_KEY="$T/bb.key" timeout 60 "$B/carnet" import fhir --enrollment "$T/enr3.csv" --broker "$EP" --data "$DATA" "$T/fbob.json" >"$T/o" 2>"$T/e" && fail "a component without a number was imported"
grep -q "component\[0\]" "$T/e" || fail "refusal: $(cat "$T/e")"
ok "a malformed component is exported as text (valid R4), not as 0, and refused on import naming component[0]"
echo "$pass passed, 0 failed"
