/*
 * turns.c: turn mode (store.h), where the broker's turns are nested
 * transactions of one checkpoint transaction, each turn's write set
 * handed out for the turn log (wal.h), and LMDB committed, with its full
 * sync, only at checkpoints.
 */
#include <string.h>

#include "store_int.h"
#include "wal.h"

int
store_turns_start(struct store *s, struct cerr *err)
{
	MDB_txn *txn;
	int rc;

	if ((rc = store_txn_begin(s, NULL, false, &txn, err)) != 0)
		return rc;
	rc = st_meta_peek(s, txn, META_WAL_GEN, &s->wal_gen, err);
	store_txn_abort(&txn);
	if (rc != 0)
		return rc;
	s->ws.turns = true;
	return 0;
}

uint64_t
store_turns_gen(const struct store *s)
{
	return s->wal_gen;
}

struct replay {
	struct store *s;
	MDB_txn *txn;
	struct cerr *err;
};

static int
replay_one(void *arg, uint64_t turn, const uint8_t *ws, size_t len)
{
	struct replay *r = arg;

	(void)turn;
	return store_wset_apply(r->s, r->txn, ws, len, r->err);
}

int
store_turns_replay(struct store *s, const char *path, uint64_t *count,
    struct cerr *err)
{
	struct replay r = {s, NULL, err};
	int rc;

	*count = 0;
	if (s->ckpt != NULL)
		return cerr_set(err, CARNET_E_STORE, "turn log: replayed "
		    "with turns open");
	if ((rc = store_txn_begin(s, NULL, true, &r.txn, err)) != 0)
		return rc;
	/* the generation read in the transaction that applies it */
	if ((rc = st_meta_peek(s, r.txn, META_WAL_GEN, &s->wal_gen,
	    err)) != 0 ||
	    (rc = wal_replay(path, s->wal_gen, replay_one, &r, count,
	    err)) != 0 || (*count > 0 &&
	    (rc = st_meta_take(s, r.txn, META_WAL_GEN, s->wal_gen, err)) != 0)) {
		store_txn_abort(&r.txn);
		return rc;
	}
	/* nothing to apply: nothing written (another process may be the
	 * broker, between two of its checkpoints: its log is its own) */
	if (*count == 0) {
		store_txn_abort(&r.txn);
		return 0;
	}
	/* the withdrawals the replayed turns counted: read at the commit */
	s->withdrawing = true;
	if ((rc = store_txn_commit(&r.txn, err)) != 0)
		return rc;
	s->wal_gen++;
	return 0;
}

int
store_turn_begin(struct store *s, MDB_txn **txn, struct cerr *err)
{
	int rc;

	if (!s->ws.turns)
		return cerr_set(err, CARNET_E_STORE, "turn mode is not on "
		    "(store_turns_start)");
	if (s->ckpt == NULL &&
	    (rc = store_txn_begin(s, NULL, true, &s->ckpt, err)) != 0) {
		s->ckpt = NULL;
		return rc;
	}
	return store_txn_begin(s, s->ckpt, true, txn, err);
}

int
store_turn_end(struct store *s, MDB_txn **txn, bool keep, const uint8_t **ws,
    size_t *len, struct cerr *err)
{
	struct cerr kerr = {0};
	uint64_t n;
	int rc = 0;

	*ws = NULL;
	*len = 0;
	if (*txn != NULL && keep)
		rc = store_txn_commit(txn, err);
	else
		store_txn_abort(txn);
	/* the slots the set names hold their keys before it is on the disk */
	/* the turns kept so far are in the log: a key file that cannot be
	 * synced ends the checkpoint transaction, and the caller stops */
	if (s->keys != NULL && reckeys_sync(s->keys, &kerr) != 0) {
		store_txn_abort(txn);
		store_turns_abandon(s);
		return cerr_set(err, CARNET_E_IO, "%s", cerr_msg(&kerr));
	}
	if (s->withdrawing && s->ckpt != NULL &&
	    st_meta_peek(s, s->ckpt, META_WITHDRAWALS, &n, &kerr) == 0)
		s->withdrawals = n - 1;
	/* what was kept (what a failed turn's revocations, committed ahead,
	 * wrote too), handed out whatever the turn's own commit did */
	st_wset_take(s, ws, len);
	if (*len > 0)
		s->turns_open++;
	return rc;
}

bool
store_checkpoint_pending(const struct store *s)
{
	return s->ckpt != NULL;
}

bool
store_checkpoint_due(const struct store *s)
{
	/* an erasure's key is wiped at the commit: never left waiting */
	return s->wipe_due;
}

int
store_checkpoint(struct store *s, struct cerr *err)
{
	const uint8_t *ws;
	size_t len;
	int rc;

	if (s->ckpt == NULL)
		return 0;
	if ((rc = st_meta_take(s, s->ckpt, META_WAL_GEN, s->wal_gen,
	    err)) != 0) {
		store_txn_abort(&s->ckpt);
		return rc;
	}
	/* the generation's own put is the checkpoint's, not a turn's */
	st_wset_take(s, &ws, &len);
	if ((rc = store_txn_commit(&s->ckpt, err)) != 0) {
		s->ckpt = NULL;
		return rc;
	}
	s->wal_gen++;
	s->turns_open = 0;
	return 0;
}

void
store_turns_abandon(struct store *s)
{
	store_txn_abort(&s->ckpt);
}
