#!/usr/bin/env bash
# make demo: a multi-actor run on a temporary broker, told step by step.
# A mutual and a lab push records about three people; a budget app and a
# care-path app receive only what each person consented to; one person
# revokes, one exports, one erases; everyone's log verifies.  Exits 0 only
# if every check holds; leaves nothing running.
set -u
B=${CARNET_BIN:-$PWD/bin}
T=$(mktemp -d /tmp/carnet-demo.XXXX); pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
say() { printf '\n== %s\n' "$*"; }
fail() { echo "DEMO FAILED: $*"; exit 1; }

say "starting carnetd on a temporary directory"
for _ in 1 2 3 4 5; do
  EP=tcp://127.0.0.1:$(( 20000 + (RANDOM % 20000) ))
  "$B/carnetd" --data "$T/broker" --listen "$EP" 2>"$T/broker.log" & pid=$!
  sleep 0.4; kill -0 "$pid" 2>/dev/null && break
done
kill -0 "$pid" 2>/dev/null || fail "carnetd did not start"
echo "broker $(cat "$T/broker/broker.pub") on $EP"

say "every party makes its key; the operator registers them"
for p in anne bruno chloe mgen labo budget parcours op; do
  "$B/carnet" keygen --out "$T/$p.key" >"$T/$p.id" 2>/dev/null || fail "keygen $p"
done
id() { cat "$T/$1.id"; }
reg() { "$B/carnet" party add --data "$T/broker" "$@" || fail "party add $*"; }
for p in anne bruno chloe; do reg --role user --name "$p" --id "$(id $p)"; done
reg --role holder --name mgen --id "$(id mgen)" --type claim --type dispense
reg --role holder --name labo --id "$(id labo)" --type lab_result
reg --role app --name budget --id "$(id budget)" --purpose budget --owner "Budget Sante SAS" --business-model "subscription, 2 EUR/month"
reg --role app --name parcours --id "$(id parcours)" --purpose care-path --owner "Parcours SAS" --business-model "paid by the mutual"
reg --role operator --name op --id "$(id op)"
C() { local who=$1; shift; CARNET_KEY="$T/$who.key" timeout 30 "$B/carnet" "$@" --broker "$EP" --data "$T/broker"; }

say "apps ask before anyone grants (charter: prior, clear information)"
for u in anne bruno chloe; do
  C parcours request --user "$(id $u)" --types lab_result,claim --purpose care-path --note "to follow your care over the years" >/dev/null || fail "request"
done
C anne consent requests

say "people grant different scopes"
echo "anne: budget gets claims and dispensing, amounts only"
TA=$(C anne consent grant --app "$(id budget)" --types claim,dispense --fields claim.act_code,claim.amount_eur,claim.reimbursed_eur,dispense.drug,dispense.amount_eur,dispense.reimbursed_eur --purpose budget --yes 2>/dev/null) || fail "grant anne"
echo "bruno: budget gets claims (all fields); parcours gets lab results, 30 days"
TB=$(C bruno consent grant --app "$(id budget)" --types claim --purpose budget --yes 2>/dev/null) || fail "grant bruno"
C bruno consent grant --app "$(id parcours)" --types lab_result --purpose care-path --expires 30d --yes >/dev/null 2>&1 || fail "grant bruno 2"
echo "chloe: parcours gets lab results from labo only"
C chloe consent grant --app "$(id parcours)" --types lab_result --holders "$(id labo)" --purpose care-path --yes >/dev/null 2>&1 || fail "grant chloe"

claims() { for i in $(seq "$3"); do printf '{"user":"%s","ref":"%s-%d","time":"2017-%02d-%02dT10:00:00Z","act_code":"C","label":"Consultation generaliste","amount_eur":25,"reimbursed_eur":16.5,"mutual_eur":7.5,"practitioner":"generaliste"}\n' "$(id "$1")" "$2" "$i" $(( (i % 12) + 1 )) $(( (i % 27) + 1 )); done; }
drugs() { for i in $(seq "$3"); do printf '{"user":"%s","ref":"%s-%d","time":"2017-%02d-15T09:00:00Z","cip13":"3400930000000","drug":"Metformine 1000 mg","quantity":1,"amount_eur":4.2,"reimbursed_eur":2.9}\n' "$(id "$1")" "$2" "$i" $(( (i % 12) + 1 )); done; }
labs() { for i in $(seq "$3"); do printf '{"user":"%s","ref":"%s-%d","time":"2017-%02d-05T08:00:00Z","loinc":"4548-4","label":"Hemoglobine glyquee","value":6.%d,"unit":"%%","ref_low":4,"ref_high":6}\n' "$(id "$1")" "$2" "$i" $(( (i % 12) + 1 )) $(( i % 10 )); done; }

say "holders push records"
for u in anne bruno chloe; do
  claims $u "c-$u" 24 | C mgen put --type claim || fail "put claims"
  drugs $u "d-$u" 12 | C mgen put --type dispense || fail "put dispense"
  labs $u "l-$u" 6 | C labo put --type lab_result || fail "put labs"
done

say "apps receive only what each person allowed"
C budget subscribe --idle-exit 2 >"$T/budget.jsonl" 2>/dev/null
C parcours subscribe --idle-exit 2 >"$T/parcours.jsonl" 2>/dev/null
nb=$(wc -l <"$T/budget.jsonl"); np=$(wc -l <"$T/parcours.jsonl")
echo "budget received $nb records:"; jq -r '.type' "$T/budget.jsonl" | sort | uniq -c
echo "parcours received $np records:"; jq -r '.type' "$T/parcours.jsonl" | sort | uniq -c
[ "$nb" -eq $(( 24 + 12 + 24 )) ] || fail "budget should have 60 records (anne 24+12, bruno 24)"
[ "$np" -eq 12 ] || fail "parcours should have 12 lab results (bruno 6, chloe 6)"
jq -e -s --arg a "$(id anne)" '[.[] | select(.user == $a and .type == "claim")] | all(has("label") | not)' "$T/budget.jsonl" >/dev/null || fail "anne's labels leaked"
echo "anne's claims reached budget without labels or practitioners (minimised)"

say "bruno revokes budget; new records do not reach it"
C bruno consent revoke "$TB" || fail "revoke"
claims bruno "c2-bruno" 10 | C mgen put --type claim || fail "put after revoke"
C budget subscribe --idle-exit 2 >"$T/budget2.jsonl" 2>/dev/null
nb2=$(jq -s --arg b "$(id bruno)" '[.[] | select(.user == $b)] | length' "$T/budget2.jsonl")
[ "$nb2" -eq 0 ] || fail "$nb2 records reached budget after bruno revoked"
echo "0 records of bruno's after the revocation"

say "anne downloads her data (JSON and FHIR); chloe erases hers"
C anne export --out "$T/anne.json" || fail "export"
C anne export --out "$T/anne.fhir.json" --format fhir || fail "export fhir"
C chloe erase --yes || fail "erase"

say "anne's dashboard: every use of her data"
C anne log | tail -6

say "the operator's usage indicators"
C op stats

say "everyone's log verifies"
for u in anne bruno chloe; do printf '%-6s ' "$u"; C $u log verify || fail "log verify $u"; done
echo; echo "demo: all checks hold"
