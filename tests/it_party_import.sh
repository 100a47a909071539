#!/usr/bin/env bash
# carnet party import: the registry in bulk, against a real carnetd and
# its LMDB store.  Parties from a file connect and act as their role;
# a re-run adds nothing; a bad line, an id given twice or an id registered
# with other details refuses the whole file and writes nothing.
source "$(dirname "$0")/itlib.sh"
start_broker
people=$(seq -f "p%g" 1 40)
# shellcheck disable=SC2086
keys $people mgen budget late
list() { "$B/carnet" party list --data "$DATA" --json | jq -s length; }
PI() { "$B/carnet" party import --data "$DATA" "$@"; }

{
  echo "role,name,id,types,purposes,owner,business_model"
  for p in $people; do echo "user,$p,$(id "$p"),,,,"; done
  echo "holder,mgen,$(id mgen),claim|dispense,,,"
  echo "app,budget,$(id budget),,budget|prevention,\"Budget SAS\",subscription"
} >"$T/parties.csv"
PI --batch 15 "$T/parties.csv" >"$T/o" 2>"$T/e" || fail "import: $(cat "$T/e")"
grep -q "42 lines: 42 new parties added, 0 already registered" "$T/o" || fail "report: $(cat "$T/o")"
grep -q "30 of 42 new parties written" "$T/e" || fail "no progress per batch: $(cat "$T/e")"
[ "$(list)" -eq 42 ] || fail "$(list) parties registered, want 42"
"$B/carnet" party list --data "$DATA" --json | jq -s -e 'map(select(.name == "budget"))[0] | .purposes == ["budget", "prevention"] and .owner == "Budget SAS" and .business_model == "subscription" and .role == "app"' >/dev/null || fail "the app's details"
# they are real parties: the holder puts, the person consents, the app gets
claims p7 c 3 | C mgen put --type claim >/dev/null 2>"$T/e" || fail "put by an imported holder: $(cat "$T/e")"
C p7 consent grant --app "$(id budget)" --types claim --purpose budget --yes >/dev/null 2>"$T/e" || fail "grant by an imported person: $(cat "$T/e")"
C budget subscribe --idle-exit 2 >"$T/feed.jsonl" 2>/dev/null
[ "$(wc -l <"$T/feed.jsonl")" -eq 3 ] || fail "the imported app got $(wc -l <"$T/feed.jsonl") records, want 3"
ok "42 parties from a CSV file in batches of 15, with progress; an imported holder, person and app exchange records"

PI "$T/parties.csv" >"$T/o" 2>"$T/e" || fail "re-run: $(cat "$T/e")"
grep -q "42 lines: 0 new parties added, 42 already registered" "$T/o" || fail "re-run report: $(cat "$T/o")"
[ "$(list)" -eq 42 ] || fail "a re-run changed the registry"
ok "a re-run adds nothing"

# JSON lines, and a grown file: only the new line is written
{ "$B/carnet" party list --data "$DATA" --json | jq -c 'select(.role == "user") | {role, name, id}'
  printf '{"role":"user","name":"late","id":"%s"}\n' "$(id late)"; } >"$T/more.jsonl"
PI --dry-run "$T/more.jsonl" >"$T/o" 2>"$T/e" || fail "dry run: $(cat "$T/e")"
grep -q "41 lines: 1 new party to add (dry run: nothing written), 40 already registered" "$T/o" || fail "dry-run report: $(cat "$T/o")"
[ "$(list)" -eq 42 ] || fail "a dry run wrote"
PI "$T/more.jsonl" >"$T/o" 2>"$T/e" || fail "jsonl: $(cat "$T/e")"
grep -q "1 new party added, 40 already registered" "$T/o" && [ "$(list)" -eq 43 ] || fail "jsonl import: $(cat "$T/o")"
# a file saved by Excel as "CSV UTF-8" starts with a byte order mark
keys bom
printf '\xef\xbb\xbfrole,name,id\r\nuser,bom,%s\r\n' "$(id bom)" >"$T/bom.csv"
PI "$T/bom.csv" >"$T/o" 2>"$T/e" || fail "a CSV with a byte order mark: $(cat "$T/e")"
[ "$(list)" -eq 44 ] || fail "the BOM file added $(( $(list) - 43 )) parties"
ok "JSON lines; --dry-run writes nothing; a grown file adds only its new lines; a CSV from Excel (BOM, CRLF)"

# refused whole, naming the line, nothing written (even one line per
# transaction: every line is checked before the first is written)
keys n1 n2 n3
bad() { # name, file, expected message
  PI --batch 1 "$2" >"$T/o" 2>"$T/e" && fail "$1 was accepted"
  grep -q "$3" "$T/e" || fail "$1: $(cat "$T/e")"
  [ "$(list)" -eq 44 ] || fail "$1: something was written ($(list) parties)"
}
printf 'role,name,id\nuser,n1,%s\nuser,n2,%s\nholder,n3,%s\n' "$(id n1)" "$(id n2)" "$(id n3)" >"$T/b1.csv"
bad "a holder without types" "$T/b1.csv" "line 4: a holder needs at least one type"
printf 'role,name,id,types\nuser,n1,%s,\nholder,n3,%s,claim|x-ray\n' "$(id n1)" "$(id n3)" >"$T/b2.csv"
bad "an unknown type" "$T/b2.csv" "line 3: unknown record type 'x-ray'"
printf 'role,name,id\nuser,n1,%s\nuser,n2,%s\nuser,n1b,%s\n' "$(id n1)" "$(id n2)" "$(id n1)" >"$T/b3.csv"
bad "an id twice" "$T/b3.csv" "line 4: .* is on line 2 too"
printf 'role,name,id\nuser,n1,%s\nuser,other-name,%s\n' "$(id n1)" "$(id p3)" >"$T/b4.csv"
bad "an id registered with other details" "$T/b4.csv" "line 3: .* already registered, as user p3, with other details"
printf 'role,name,id,nickname\nuser,n1,%s,x\n' "$(id n1)" >"$T/b5.csv"
bad "an unknown column" "$T/b5.csv" "line 1: unknown column 'nickname'"
printf '{"role":"user","name":"n1","id":"%s"}\n{"role":"user","name":"n2","id":"%s","age":3}\n' "$(id n1)" "$(id n2)" >"$T/b6.jsonl"
bad "an unknown key" "$T/b6.jsonl" "line 2: unknown key 'age'"
printf '{"role":"user","name":"n1","id":"%s"}\n{"role":"user","name":"n2","id":"%s"\n' "$(id n1)" "$(id n2)" >"$T/b7.jsonl"
bad "a truncated line" "$T/b7.jsonl" "line 2: not JSON"
printf 'role,name,id\nuser,n1,%s\nuser,n2,notanid\n' "$(id n1)" >"$T/b8.csv"
bad "a bad id" "$T/b8.csv" "line 3: id: 'notanid' is not a carnet id"
# well spelt, but not a public key (32 zero bytes): refused before writing
printf 'role,name,id\nuser,n1,%s\nuser,n2,%s\n' "$(id n1)" "$(printf 'a%.0s' $(seq 52))" >"$T/b9.csv"
bad "an id that is no key" "$T/b9.csv" "line 3: id: 'aaaa*' is not a carnet id"
ok "refused whole, naming the line, nothing written: a holder without types, an unknown type, an id twice, an id registered otherwise, an unknown column or key, truncated JSON, a bad id, an id that is no key"
echo "$pass passed, 0 failed"
