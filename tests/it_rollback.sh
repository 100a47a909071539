#!/usr/bin/env bash
# A data directory put back to a copy older than a revocation (security
# issue 30, item 8): an app offline at the revocation must not be served
# under it by a broker started on the old copy.  carnetd keeps the store's
# withdrawal count in a witness outside DIR (DIR.witness) and refuses a
# store behind it; --accept-rollback N lets it start, loudly, and what is
# left then is the clients' side (the person's client revokes again).
# Leaves nothing running.
source "$(dirname "$0")/itlib.sh"
W=$DATA.witness
start_broker
keys bob mgen budget
add --role user --name bob --id "$(id bob)"
add --role holder --name mgen --id "$(id mgen)" --type claim
add --role app --name budget --id "$(id budget)" --purpose budget --owner "Budget SAS" --business-model subscription
# a broker started by hand on $DATA (or DIR): its exit status, its stderr in $T/e
run_carnetd() {
  timeout 10 "$B/carnetd" --data "${DIR:-$DATA}" --listen "tcp://127.0.0.1:$(( 40000 + (RANDOM % 20000) ))" "$@" >"$T/o" 2>"$T/e"
}
refused() { # refused MESSAGE-PART... [-- carnetd options]
  local opts=() parts=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do parts+=("$1"); shift; done
  [ $# -gt 0 ] && { shift; opts=("$@"); }
  run_carnetd "${opts[@]}"; local rc=$?
  [ $rc -ne 0 ] && [ $rc -ne 124 ] || fail "carnetd started (exit $rc) with ${opts[*]}: $(cat "$T/e")"
  for p in "${parts[@]}"; do grep -qF -- "$p" "$T/e" || fail "no '$p' in: $(cat "$T/e")"; done
}
bobs() { grep -c "$(id bob)" "$1"; }

# the good path: bob consents, the app receives his records
TB=$(C bob consent grant --app "$(id budget)" --types claim --purpose budget --yes 2>"$T/e") || fail "bob grants budget: $(cat "$T/e")"
claims bob a 3 | C mgen put --type claim >/dev/null || fail "put bob's claims"
C budget subscribe --idle-exit 2 >"$T/r0" 2>/dev/null || fail "budget subscribe"
[ "$(bobs "$T/r0")" -eq 3 ] || fail "budget got $(bobs "$T/r0") of bob's records, want 3"
ok "bob's consent: budget receives his 3 records"

# a copy of the whole data directory, broker stopped; then bob revokes
# while budget is offline (it is never told)
stop_broker
cp -a "$DATA" "$T/data.old"
start_broker
C bob consent revoke "$TB" >/dev/null || fail "bob revokes"
claims bob b 3 | C mgen put --type claim >/dev/null || fail "put after the revocation"
stop_broker
[ ! -e "$T/budget.key.ended" ] || fail "budget was told; the scenario wants it offline"

# the copy put back, carnetd started on it: before the witness it served
# budget 3 new records under the revoked consent; now it refuses to start
rm -rf "$DATA"; cp -a "$T/data.old" "$DATA"
run_carnetd & rpid=$!
for _ in $(seq 50); do grep -q "listening on" "$T/o" 2>/dev/null && break; kill -0 "$rpid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$rpid" 2>/dev/null; then
  EP=$(sed -n 's/^carnetd: listening on //p' "$T/o"); pid=$rpid
  claims bob c 3 | C mgen put --type claim >/dev/null
  C budget subscribe --idle-exit 2 >"$T/rb" 2>/dev/null
  fail "carnetd served a store put back to before a revocation: budget got $(bobs "$T/rb") records under the revoked consent"
fi
wait "$rpid"; rc=$?
[ $rc -ne 0 ] && [ $rc -ne 124 ] || fail "carnetd on the old copy: exit $rc"
for p in "the store in $DATA is behind its witness $W: it holds 0 withdrawals, the witness saw 1" \
  "put back to an older copy" "start carnetd once with --accept-rollback 1" "[rolled_back]"; do
  grep -qF -- "$p" "$T/e" || fail "no '$p' in: $(cat "$T/e")"
done
ok "carnetd refuses the data directory put back to before the revocation: $(grep -o 'the store in.*' "$T/e")"

# an option left from another rollback does not accept this one
refused "the witness saw 1" "--accept-rollback names another count" -- --accept-rollback 0
refused "the witness saw 1" -- --accept-rollback 7
ok "--accept-rollback with another count is refused"

# accepted: what remains is the clients' side.  budget, offline at the
# revocation, gets records under it until bob's client speaks; bob's next
# command warns and revokes again; nothing more reaches budget
start_broker --accept-rollback 1
grep -q "ROLLBACK ACCEPTED (--accept-rollback 1): the store in $DATA had 0 withdrawals, its witness $W 1" "$T/broker.log" || fail "no loud log line: $(tail -3 "$T/broker.log")"
grep -q "^withdrawals 2$" "$W" || fail "the witness is not past both copies: $(cat "$W")"
claims bob c 3 | C mgen put --type claim >/dev/null || fail "put after the accepted rollback"
C budget subscribe --idle-exit 2 >"$T/r1" 2>/dev/null || fail "budget subscribe after the accepted rollback"
n_remainder=$(bobs "$T/r1")
[ "$n_remainder" -eq 3 ] || fail "budget got $n_remainder records, the documented remainder is 3"
C bob consent list --json >/dev/null 2>"$T/e" || fail "bob's next command"
grep -q "WARNING: the broker's copy of your log" "$T/e" || fail "bob was not warned: $(cat "$T/e")"
grep -q "1 revocation sent again" "$T/e" || fail "the revocation was not sent again: $(cat "$T/e")"
grep -q "^withdrawals 3$" "$W" || fail "the revocation sent again is not in the witness: $(cat "$W")"
claims bob d 3 | C mgen put --type claim >/dev/null || fail "put after bob's client spoke"
C budget subscribe --idle-exit 2 >"$T/r2" 2>/dev/null || fail "budget subscribe after bob's client spoke"
[ "$(bobs "$T/r2")" -eq 0 ] || fail "budget got $(bobs "$T/r2") records after the revocation was sent again"
ok "--accept-rollback 1: starts, logs the loss; the remainder: budget got $n_remainder records until bob's client revoked again, 0 after"
stop_broker
# bob takes the broker's log as it is now (what the warning tells him)
rm "$T/bob.key.head"

# the next start needs no option; the option left there only warns; the
# old copy is still refused, the count that accepted it once no longer does
start_broker
stop_broker
start_broker --accept-rollback 1
grep -q "accept-rollback 1: nothing to accept" "$T/broker.log" || fail "a needless --accept-rollback is not said"
stop_broker
mv "$DATA" "$T/data.new"; cp -a "$T/data.old" "$DATA"
refused "it holds 0 withdrawals" "the witness saw 3" -- --accept-rollback 1
rm -rf "$DATA"; mv "$T/data.new" "$DATA"
ok "the current store starts without the option; the old copy is refused again, --accept-rollback 1 no longer takes it"

# the witness is written only at commits holding a withdrawal: not at
# puts, deliveries, acks, grants, resumes or reads
start_broker
before="$(stat -c %i "$W") $(cat "$W")"
TC=$(C bob consent grant --app "$(id budget)" --types claim --purpose budget --yes 2>/dev/null) || fail "bob grants again"
for i in 1 2 3 4; do claims bob "p$i" 50 | C mgen put --type claim >/dev/null || fail "put $i"; done
C budget subscribe --idle-exit 2 >"$T/r3" 2>/dev/null || fail "subscribe"
# the new consent covers his 9 earlier records too
[ "$(bobs "$T/r3")" -eq 209 ] || fail "budget got $(bobs "$T/r3") of 209"
C bob consent list --json >/dev/null 2>&1 || fail "bob lists his consents"
[ "$before" = "$(stat -c %i "$W") $(cat "$W")" ] || fail "the witness was written without a withdrawal"
C bob consent pause "$TC" >/dev/null || fail "pause"
grep -q "^withdrawals 4$" "$W" || fail "pause not counted: $(cat "$W")"
after_pause=$(cat "$W")
C bob consent resume "$TC" >/dev/null || fail "resume"
[ "$after_pause" = "$(cat "$W")" ] || fail "resume was counted"
C bob erase --yes >/dev/null 2>&1 || fail "erase"
grep -q "^withdrawals 5$" "$W" || fail "erase not counted: $(cat "$W")"
ok "200 puts, their deliveries, a grant, a resume: the witness untouched; a pause and an erasure: counted (4, then 5)"
stop_broker

# a missing witness, an edited one, a link, a FIFO, one inside DIR
mv "$W" "$T/w.kept"
refused "the store in $DATA has 5 withdrawals and no witness $W" "--accept-rollback 0:" "[rolled_back]"
sed 's/^withdrawals 5$/withdrawals 9/' "$T/w.kept" >"$W"
refused "the witness $W does not verify under this broker's key" "[bad_signature]"
rm "$W"; ln -s "$T/w.kept" "$W"
refused "cannot open the witness $W: a link, not a file" "[file_perms]"
rm "$W"; mkfifo "$W"
refused "$W: not a regular file" "[io]"
rm "$W"; cp "$T/w.kept" "$W"; chmod 0666 "$W"
refused "bad permissions on $W" "[file_perms]"
chmod 0600 "$W"
refused "the witness $DATA/store/w is in $DATA" -- --witness "$DATA/store/w"
ok "a missing, edited, linked, FIFO, loose or in-DIR witness is refused, each saying why"
mv "$W" "$T/w.kept"
start_broker --accept-rollback 0
grep -q "WITNESS REPLACED (--accept-rollback 0): $W was missing" "$T/broker.log" || fail "missing witness replaced: $(tail -2 "$T/broker.log")"
grep -q "^withdrawals 5$" "$W" || fail "the new witness: $(cat "$W")"
C bob whoami >/dev/null || fail "served after the witness was replaced"
stop_broker
ok "--accept-rollback 0 writes a new witness for a store whose witness was lost"

# the witness cannot be written (its directory went): carnetd stops
# before the turn's replies, so bob is not told; the store keeps the
# revocation, and the next start says the witness is missing
mkdir "$T/wdir"; cp "$W" "$T/wdir/w"
start_broker --witness "$T/wdir/w"
TD=$(C bob consent grant --app "$(id budget)" --types claim --purpose budget --yes 2>/dev/null) || fail "bob grants once more"
rm -rf "$T/wdir"
C bob consent revoke "$TD" >/dev/null 2>"$T/bob.e" && fail "bob was told his revocation was done"
wait "$pid"; rc=$?; pid=
[ $rc -eq 1 ] || fail "carnetd went on (exit $rc) without its witness"
grep -q "cannot write the witness $T/wdir/w.*the store has 6 withdrawals and its witness 5: stopping before this turn's replies are sent \[io\]" "$T/broker.log" || fail "no stop message: $(tail -2 "$T/broker.log")"
mkdir "$T/wdir"
refused "has 6 withdrawals and no witness $T/wdir/w" -- --witness "$T/wdir/w"
start_broker --witness "$T/wdir/w" --accept-rollback 0
C bob consent list --json 2>/dev/null | has ".id==\"$TD\" and .state==\"revoked\"" || fail "the store lost the revocation"
stop_broker
ok "a witness that cannot be written: carnetd stops before bob is told (his client: $(tail -1 "$T/bob.e")), the store keeps the revocation"

# a fresh store where another broker's witness was left: taken over, since
# the new store has nothing to protect
rm -rf "$DATA"
start_broker
grep -q "was the witness of broker .*, not of this one" "$T/broker.log" || fail "another broker's witness: $(tail -2 "$T/broker.log")"
grep -q "^withdrawals 0$" "$W" || fail "the fresh store's witness: $(cat "$W")"
stop_broker
# a data directory named . has its witness beside it, by its full name
mkdir "$T/dot"
(cd "$T/dot" && exec "$B/carnetd" --data . --listen "tcp://127.0.0.1:$(( 40000 + (RANDOM % 20000) ))" >"$T/o" 2>"$T/e") & dpid=$!
for _ in $(seq 100); do grep -q "listening on" "$T/o" 2>/dev/null && break; kill -0 "$dpid" 2>/dev/null || break; sleep 0.1; done
kill -TERM "$dpid"; wait "$dpid" 2>/dev/null
[ -f "$T/dot.witness" ] || fail "no witness beside --data .: $(cat "$T/e")"
"$B/carnetd" --help | grep -q -- "--witness FILE" || fail "carnetd --help does not name --witness"
"$B/carnetd" --help | grep -q -- "--accept-rollback N" || fail "carnetd --help does not name --accept-rollback"
ok "a fresh store takes over another broker's witness; --data . has its witness beside it; --help names both options"
echo "$pass passed, 0 failed"
