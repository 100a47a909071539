#!/usr/bin/env bash
# carnetd's data directory must be its own (security issue 2, item 4): a
# directory, store or file another user owns or may write, a key file
# others may read, is refused at start, before anything is read or
# written, with the file, its mode or owner and the fix; what carnetd
# creates is safe whatever the umask.  Against the real carnetd and CLI.
source "$(dirname "$0")/itlib.sh"
keys alice
me=$(command id -un)
# refused WHAT: carnetd on $DATA exits 1 at once, saying WHAT (exact)
refused() {
  timeout 10 "$B/carnetd" --data "$DATA" --listen "tcp://127.0.0.1:$(( 40000 + (RANDOM % 20000) ))" >"$T/o" 2>"$T/e"; rc=$?
  [ $rc -eq 1 ] || fail "carnetd exit $rc, want 1, for: $1 ($(cat "$T/e"))"
  grep -qF "carnetd fatal: $1" "$T/e" || fail "carnetd said: $(cat "$T/e"), want: $1"
}
alice_ok() { C alice whoami 2>"$T/e" | grep -q "^user alice" || fail "alice after $1: $(cat "$T/e")"; }

# the good path, under umask 000: what carnetd creates is still closed
mask=$(umask); umask 000
start_broker
umask "$mask"
add --role user --name alice --id "$(id alice)"
alice_ok "the first start"
stop_broker
modes=$(cd "$DATA" && stat -c '%n %a' . broker.key broker.pub carnetd.lock store store/data.mdb store/lock.mdb store/keys | tr '\n' ' ')
[ "$modes" = ". 700 broker.key 600 broker.pub 644 carnetd.lock 600 store 700 store/data.mdb 600 store/lock.mdb 600 store/keys 600 " ] || fail "modes under umask 000: $modes"
ok "under umask 000 carnetd creates DIR and DIR/store 0700, its key, lock, LMDB and record-key files 0600, broker.pub 0644"

# modes: each refused with its fix, then fixed and started again
chmod 777 "$DATA"
refused "bad permissions on $DATA: others may write it (mode 0777): run chmod go-w $DATA [file_perms]"
chmod 770 "$DATA"
refused "bad permissions on $DATA: its group may write it (mode 0770): run chmod go-w $DATA [file_perms]"
chmod 700 "$DATA"
chmod 777 "$DATA/store"
refused "bad permissions on $DATA/store: others may write it (mode 0777): run chmod go-w $DATA/store [file_perms]"
chmod 700 "$DATA/store"
chmod 666 "$DATA/store/data.mdb"
refused "bad permissions on $DATA/store/data.mdb: others may write it (mode 0666): run chmod go-w $DATA/store/data.mdb [file_perms]"
chmod 600 "$DATA/store/data.mdb"
chmod 622 "$DATA/store/lock.mdb"
refused "bad permissions on $DATA/store/lock.mdb: others may write it (mode 0622): run chmod go-w $DATA/store/lock.mdb [file_perms]"
chmod 600 "$DATA/store/lock.mdb"
chmod 666 "$DATA/carnetd.lock"
refused "bad permissions on $DATA/carnetd.lock: others may write it (mode 0666): run chmod go-w $DATA/carnetd.lock [file_perms]"
chmod 600 "$DATA/carnetd.lock"
chmod 640 "$DATA/broker.key"
refused "key file $DATA/broker.key is open to others (mode 0640): run chmod 600 $DATA/broker.key [key_perms]"
chmod 600 "$DATA/broker.key"
chmod 604 "$DATA/store/keys"
refused "key file $DATA/store/keys is open to others (mode 0604): run chmod 600 $DATA/store/keys [key_perms]"
chmod 600 "$DATA/store/keys"
# the CLI opens the store too, and refuses it as well
chmod 757 "$DATA/store"
"$B/carnet" party list --data "$DATA" >/dev/null 2>"$T/e" && fail "party list on a store others may write"
grep -qF "bad permissions on $DATA/store: others may write it (mode 0757): run chmod go-w $DATA/store [file_perms]" "$T/e" || fail "party list said: $(cat "$T/e")"
chmod 700 "$DATA/store"
start_broker
alice_ok "the modes were fixed"
stop_broker
ok "a data directory, store, data.mdb, lock.mdb or lock file others may write, a broker key or record-key file others may read: refused with the chmod that fixes it; fixed, carnetd starts"

# owners: another user's file is refused, even to root (as sshd's
# StrictModes does; root's own files are taken by anyone)
if [ "$(command id -u)" -eq 0 ] && getent passwd nobody >/dev/null; then
  nuid=$(command id -u nobody)
  for f in . store store/data.mdb store/lock.mdb store/keys broker.key carnetd.lock; do
    p=$DATA/$f; [ "$f" = . ] && p=$DATA
    code=file_perms; case $f in *keys | *.key) code=key_perms ;; esac
    chown nobody "$p"
    refused "bad owner of $p: nobody (uid $nuid), not $me who runs this: run chown $me $p [$code]"
    chown root "$p"
  done
  start_broker
  alice_ok "the owners were fixed"
  stop_broker
  ok "a data directory, store, LMDB file, key or lock file owned by nobody is refused to root, with the chown that fixes it"
else
  echo "skip - owners (needs root and a user nobody)"
fi

# a data directory planted whole by another user (the issue's case): its
# key, store and record keys never used, nothing written in it
if [ "$(command id -u)" -eq 0 ] && getent passwd nobody >/dev/null; then
  cp -a "$DATA" "$T/planted"
  chown -R nobody "$T/planted"; chmod 777 "$T/planted"; chmod 666 "$T/planted/store/data.mdb"
  before=$(cd "$T/planted" && find . -printf '%p %s %T@\n' | sort)
  DATA=$T/planted refused "bad owner of $T/planted: nobody (uid $nuid), not $me who runs this: run chown $me $T/planted [file_perms]"
  [ "$(cd "$T/planted" && find . -printf '%p %s %T@\n' | sort)" = "$before" ] || fail "carnetd changed the planted directory"
  ok "a data directory planted by nobody (0777, its own key, a 0666 data.mdb) is refused and left untouched"
fi
# a link in place of data.mdb is not followed
mv "$DATA/store/data.mdb" "$T/data.mdb"; ln -s "$T/data.mdb" "$DATA/store/data.mdb"
refused "cannot open $DATA/store/data.mdb: a link, not a file: LMDB's files must be plain files in the store [file_perms]"
rm "$DATA/store/data.mdb"; mv "$T/data.mdb" "$DATA/store/data.mdb"
start_broker
alice_ok "the link was replaced by the file"
ok "a link in place of data.mdb is refused; the file put back, carnetd starts with its parties"
stop_broker
echo "$pass passed, 0 failed"
