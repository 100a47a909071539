#!/usr/bin/env bash
# it_powerloss.sh: the power-loss shim itself (tests/powerloss/), on plain
# files with coreutils: what a file held at its last fsync or fdatasync
# comes back after pl-undo, writes since are dropped, O_DSYNC writes and
# files outside the watched directory are kept.  test_crash relies on it
# to turn a kill -9 of carnetd into a power loss.
. "$(dirname "$0")/itlib.sh"

P=${CARNET_TEST_BUILD:-$PWD/build}/tests
SHIM=$P/plshim.so UNDO=$P/pl-undo
[ -e "$SHIM" ] && [ -x "$UNDO" ] || fail "no $SHIM or $UNDO (make $P/plshim.so $P/pl-undo)"
mkdir "$T/d" "$T/out"
# dd, not the shell's printf: bash's builtins write through stdio, which
# the shim does not see (said in plshim.c)
LD_PRELOAD=$SHIM CARNET_PL_DIR=$T/d CARNET_PL_LOG=$T/undo bash -c '
	w() { printf "$1" | dd of="$2" status=none "${@:3}"; }
	cd "$0" || exit 1
	w AAAA d/f; sync d/f
	w BBBB d/f oflag=append conv=notrunc
	w X d/f bs=1 seek=1 conv=notrunc
	w CCCC d/new
	w DD d/dsync oflag=dsync
	w EEEE d/t; sync d/t
	w FF d/t
	w GGGG out/x' "$T" || fail "the writes under the shim"
[ "$(cat "$T/d/f")" = AXAABBBB ] && [ "$(cat "$T/d/t")" = FF ] &&
    ok "before the loss the page cache holds every write" || fail "writes: $(cat "$T/d/f")"
out=$("$UNDO" "$T/undo") || fail "pl-undo: $out"
grep -q "5 unsynced writes" <<<"$out" && ok "pl-undo names what it dropped: $out" || fail "pl-undo said: $out"
[ "$(cat "$T/d/f")" = AAAA ] && ok "a synced file comes back as at its sync: later appends and overwrites gone" ||
    fail "f holds $(cat "$T/d/f")"
[ ! -s "$T/d/new" ] && ok "a file never synced comes back empty" || fail "new holds $(cat "$T/d/new")"
[ "$(cat "$T/d/t")" = EEEE ] && ok "a rewrite (O_TRUNC) after a sync is undone" || fail "t holds $(cat "$T/d/t")"
[ "$(cat "$T/d/dsync")" = DD ] && ok "O_DSYNC writes are durable at once" || fail "dsync holds $(cat "$T/d/dsync")"
[ "$(cat "$T/out/x")" = GGGG ] && ok "a file outside the watched directory is left alone" || fail "out/x changed"
[ ! -s "$T/undo" ] && ok "the undo log is emptied once applied" || fail "undo log left"
echo "$pass passed, 0 failed"
