# itlib.sh: what the integration tests share, sourced by tests/it_*.sh.
# Sets B (the programs), T (a temporary directory, removed at exit), and
# gives ok/fail/has, a carnetd started on a random loopback port, keys,
# parties and the C wrapper that runs carnet as one of them.
set -u
B=${CARNET_BIN:-$PWD/bin}
T=$(mktemp -d /tmp/carnet-it.XXXX); pid=
pass=0
BG=() # more processes to stop at exit
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null
  for p in "${BG[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null; rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "$pass passed, 1 failed"; exit 1; }
ok() { pass=$((pass + 1)); echo "ok - $*"; }
# has COND [FILE]: some JSON value read (one or many) satisfies COND
has() { jq -s -e "any(.[]; $1)" ${2:+"$2"} >/dev/null 2>&1; }

DATA=$T/broker
# start_broker [carnetd options]: on a random port, EP its endpoint
start_broker() {
  for _ in 1 2 3 4 5; do
    EP=tcp://127.0.0.1:$(( 20000 + (RANDOM % 20000) ))
    "$B/carnetd" --data "$DATA" --listen "$EP" "$@" >>"$T/broker.log" 2>&1 & pid=$!
    sleep 0.4
    kill -0 "$pid" 2>/dev/null && return 0
  done
  fail "carnetd did not start: $(tail -1 "$T/broker.log")"
}
stop_broker() { kill -TERM "$pid"; wait "$pid" 2>/dev/null; pid=; }
# keys NAME...: a key pair each, $T/NAME.key, id in $T/NAME.id
keys() { for p in "$@"; do "$B/carnet" keygen --out "$T/$p.key" >"$T/$p.id" 2>/dev/null || fail "keygen $p"; done; }
id() { cat "$T/$1.id"; }
add() { "$B/carnet" party add --data "$DATA" "$@" >/dev/null || fail "party add $*"; }
C() { local who=$1; shift; CARNET_KEY="$T/$who.key" timeout 30 "$B/carnet" "$@" --broker "$EP" --data "$DATA"; }
claims() { for i in $(seq "$3"); do printf '{"user":"%s","ref":"%s-%d","time":"2017-%02d-10T10:00:00Z","act_code":"C","label":"Consultation","amount_eur":25,"reimbursed_eur":16.5,"practitioner":"generaliste"}\n' "$(id "$1")" "$2" "$i" $(( (i % 12) + 1 )); done; }
labs() { for i in $(seq "$3"); do printf '{"user":"%s","ref":"%s-%d","time":"2018-01-%02dT08:00:00Z","loinc":"4548-4","label":"HbA1c","value":6.%d,"unit":"%%","ref_low":4,"ref_high":6}\n' "$(id "$1")" "$2" "$i" $(( (i % 28) + 1 )) "$i"; done; }
