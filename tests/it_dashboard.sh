#!/usr/bin/env bash
# carnet dashboard against a real carnetd, in a real browser: the HTTP
# guards with curl, then the page in Debian's headless Chromium driven by
# playwright-core (tests/web/dashboard.test.js): consents listed, Revoke
# stops an app's feed (seen by a subscribing app), Accept lets records
# flow, Decline is logged, the timeline and charts show the deliveries,
# the data and downloads, FR/EN labels, and the bad states (broker
# unreachable, key refused, consent expired, no secret).  Screenshots go
# to tests/screenshots/run/.  Leaves nothing running.
source "$(dirname "$0")/itlib.sh"
WEB=$(cd "$(dirname "$0")/web" && pwd)
[ -f "$WEB/node_modules/playwright-core/package.json" ] ||
  fail "playwright-core is missing: run make web-deps (make test does)"
[ -x /usr/bin/chromium ] || fail "/usr/bin/chromium is missing: run make web-deps"

start_broker
keys alice bob stranger mgen labo budget care samu
add --role user --name alice --id "$(id alice)"
add --role user --name bob --id "$(id bob)"
add --role holder --name mgen --id "$(id mgen)" --type claim
add --role holder --name labo --id "$(id labo)" --type lab_result
add --role app --name budget --id "$(id budget)" --purpose budget --owner "Budget SAS" --business-model subscription
add --role app --name care --id "$(id care)" --purpose care-path --owner "Parcours SAS" --business-model "paid by a mutual"
add --role app --name samu --id "$(id samu)" --purpose emergency --owner "SAMU 75" --business-model "public service"

# alice: claims and lab results; budget has a consent and got the claims;
# care asks for the lab results; a short consent to care has expired
claims alice a 5 | C mgen put --type claim >/dev/null || fail "put claims"
labs alice l 4 | C labo put --type lab_result >/dev/null || fail "put labs"
C alice consent grant --app "$(id budget)" --types claim --purpose budget --yes >/dev/null 2>&1 || fail "grant budget"
C alice consent grant --app "$(id care)" --types claim --fields act_code --purpose care-path --expires 2s --yes >/dev/null 2>&1 || fail "grant care, short"
C budget subscribe --idle-exit 2 >"$T/budget0.jsonl" 2>/dev/null || fail "budget subscribe"
[ "$(wc -l <"$T/budget0.jsonl")" -eq 5 ] || fail "budget got $(wc -l <"$T/budget0.jsonl") records before the test, want 5"
C care request --user "$(id alice)" --types lab_result --purpose care-path --note "to chart your HbA1c" >/dev/null || fail "care request"
C budget request --user "$(id alice)" --types lab_result --purpose budget --note "to count lab costs" >/dev/null || fail "budget request"
# bob may view alice's dashboard; alice's emergency card was opened once
C alice delegate grant --to "$(id bob)" --scope view >/dev/null || fail "delegate to bob"
C alice emergency set --types lab_result --apps "$(id samu)" >/dev/null || fail "emergency set"
C samu emergency open --user "$(id alice)" --reason "found unconscious" >/dev/null 2>&1 || fail "emergency open"
sleep 2 # the short consent ends

"$B/carnet" dashboard --help | grep -q "usage: carnet dashboard" || fail "carnet dashboard --help"
"$B/carnet" dashboard --port 99999 >/dev/null 2>&1 && fail "a bad --port was taken"
# dashboard WHO: start one for WHO's key on a free port (not in a
# subshell: BG must know it); DASH_URL gets its printed address
dashboard() {
  CARNET_KEY="$T/$1.key" "$B/carnet" dashboard --port 0 --broker "$EP" --data "$DATA" >"$T/$1.url" 2>"$T/$1.dash.log" &
  BG+=($!)
  for _ in $(seq 50); do [ -s "$T/$1.url" ] && break; sleep 0.1; done
  [ -s "$T/$1.url" ] || fail "carnet dashboard printed no address: $(cat "$T/$1.dash.log")"
  DASH_URL=$(head -1 "$T/$1.url")
}
dashboard alice; URL=$DASH_URL
case $URL in http://127.0.0.1:*/#k=*) ;; *) fail "odd dashboard address: $URL" ;; esac
BASE=${URL%/#k=*}; SECRET=${URL#*#k=}; PORT=${BASE##*:}
dashboard stranger; STRANGER_URL=$DASH_URL
grep -q "refused our key" "$T/stranger.dash.log" || fail "an unregistered key was not reported at start: $(cat "$T/stranger.dash.log")"

# the HTTP guards
code() { curl -s -o "$T/body" -w '%{http_code}' "$@"; }
[ "$(code -D "$T/h" "$BASE/")" = 200 ] || fail "GET / did not answer 200"
grep -qi "^content-security-policy: default-src 'none'" "$T/h" || fail "no strict CSP on the page"
[ "$(code "$BASE/api/status")" = 401 ] || fail "the API answered without the secret"
# the secret with its last character changed (to one it surely is not)
case $SECRET in *0) WRONG=${SECRET%?}1 ;; *) WRONG=${SECRET%?}0 ;; esac
[ "$(code -H "X-Carnet-Secret: $WRONG" "$BASE/api/consents")" = 401 ] || fail "a wrong secret passed"
[ "$(code -H "X-Carnet-Secret: $SECRET" -H "Host: evil.example:$PORT" "$BASE/api/status")" = 421 ] || fail "a foreign Host (DNS rebinding) passed"
[ "$(code -H "X-Carnet-Secret: $SECRET" -X POST -d '{"token":"x"}' "$BASE/api/revoke")" = 415 ] || fail "a POST that is not JSON passed"
[ "$(code -H "X-Carnet-Secret: $SECRET" -H 'Content-Type: application/json' -d '{"token":' "$BASE/api/revoke")" = 400 ] || fail "a malformed body passed"
jq -e '.error.code == "malformed"' "$T/body" >/dev/null || fail "malformed body error: $(cat "$T/body")"
[ "$(code -H "X-Carnet-Secret: $SECRET" -H 'Content-Type: application/json' -d '{"token":"0123456789abcdef0123456789abcdef"}' "$BASE/api/revoke")" = 404 ] || fail "revoking an unknown consent: $(cat "$T/body")"
jq -e '.error.code == "unknown_token"' "$T/body" >/dev/null || fail "unknown consent error: $(cat "$T/body")"
head -c 20000 /dev/zero | tr '\0' a | curl -s -o "$T/body" -w '%{http_code}' -H "X-Carnet-Secret: $SECRET" -H 'Content-Type: application/json' --data-binary @- "$BASE/api/decline" >"$T/code"
[ "$(cat "$T/code")" = 413 ] || fail "a 20 KB body was read: $(cat "$T/code")"
[ "$(code -H "X-Carnet-Secret: $SECRET" "$BASE/api/nothing")" = 404 ] || fail "an unknown call"
[ "$(code --path-as-is "$BASE/../../etc/passwd")" = 404 ] || fail "a path outside the page was served"
[ "$(code -H "X-Carnet-Secret: $SECRET" "$BASE/api/status")" = 200 ] || fail "status with the secret: $(cat "$T/body")"
jq -e --arg id "$(id alice)" '.person == $id and .name == "alice"' "$T/body" >/dev/null || fail "status: $(cat "$T/body")"
ok "HTTP guards: secret, Host, JSON bodies, size limit, CSP; errors carry stable codes"

# a local program holding 200 idle connections does not lock the person
# out (the old limit was 64 connections, each kept 60 s)
IDLE=()
for _ in $(seq 200); do exec {fd}<>"/dev/tcp/127.0.0.1/$PORT" || break; IDLE+=("$fd"); done
[ "${#IDLE[@]}" -eq 200 ] || fail "opened ${#IDLE[@]} idle connections, want 200"
[ "$(code --max-time 5 -H "X-Carnet-Secret: $SECRET" "$BASE/api/consents")" = 200 ] || fail "the dashboard did not answer beside 200 idle connections"
jq -e '.consents | length == 2' "$T/body" >/dev/null || fail "consents beside idle connections: $(cat "$T/body")"
for fd in "${IDLE[@]}"; do exec {fd}>&-; done
ok "200 idle local connections: the dashboard still answers"

# the page, in the browser
mkdir -p tests/screenshots/run
CARNET_BIN=$B T=$T EP=$EP DATA=$DATA URL=$URL STRANGER_URL=$STRANGER_URL \
  BROKER_PID=$pid SHOTS=$PWD/tests/screenshots/run \
  node "$WEB/dashboard.test.js" || fail "the browser test"
pass=$((pass + $(cat "$T/web.passed")))

# what the page did is what the broker holds (the broker was stopped by
# the test, to show the unreachable state: start it again)
start_broker
C alice consent list --json >"$T/list.json" || fail "consent list"
has '.app_name=="budget" and .purpose=="budget" and .state=="revoked"' "$T/list.json" || fail "budget's consent is not revoked"
has '.app_name=="care" and .purpose=="care-path" and .state=="active" and (.expires|length)>0' "$T/list.json" || fail "the accepted consent is not active with its end: $(cat "$T/list.json")"
[ -z "$(C alice consent requests --json)" ] || fail "requests left after accept and decline"
C alice log --json | jq -e '[.entries[] | select(.kind=="decline" and .app_name=="budget" and .note=="not needed")] | length == 1' >/dev/null || fail "the decline is not in the log with its reason"
C alice log verify >/dev/null || fail "alice's log does not verify"
C alice delegate list --json >"$T/dl.json" || fail "delegate list"
has '.name=="bob" and .state=="active"' "$T/dl.json" && fail "bob's access was not ended: $(cat "$T/dl.json")"
ok "the broker holds what the page did: revoked, accepted with an end, declined with a reason, bob's access ended; the log verifies"

# both dashboards stop cleanly on SIGTERM; nothing from the sanitizers
for p in "${BG[@]}"; do kill -TERM "$p" 2>/dev/null; wait "$p" 2>/dev/null || fail "a dashboard exited $? on SIGTERM"; done
BG=()
grep -q "stopped" "$T/alice.dash.log" || fail "the dashboard did not say it stopped: $(tail -2 "$T/alice.dash.log")"
grep -E "Sanitizer|runtime error" "$T"/*.dash.log && fail "sanitizer reports from carnet dashboard"
ok "the dashboards stop cleanly on SIGTERM, with no sanitizer report"
echo "$pass passed, 0 failed"
