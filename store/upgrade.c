/*
 * upgrade.c: the broker key given to the store (store_set_key), and what
 * that does to a store written by an earlier carnet, once: log heads
 * sealed, records sealed at rest; and erasures a crash left unwiped.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "../common/limits.h"
#include "../common/mpk.h"
#include "../policy/key.h"
#include "store_int.h"

/* Each upgrade below is done once: a meta key says it was. */
static int
upgrade_done(struct store *s, MDB_txn *txn, const char *name, bool *done,
    struct cerr *err, const char *what)
{
	MDB_val k = mval(name, strlen(name)), v;
	int rc = mdb_get(txn, s->dbi[DB_META], &k, &v);

	*done = rc == 0;
	return rc == 0 || rc == MDB_NOTFOUND ? 0 : st_fail(rc, err, what);
}

static int
upgrade_mark(struct store *s, MDB_txn *txn, const char *name,
    struct cerr *err, const char *what)
{
	return st_key_put(txn, s->dbi[DB_META], name, strlen(name), "1", 1, 0,
	    err, what);
}

#define HEADS_SEALED "heads_sealed"

/* A store from before sealed heads: seal each log's last entry once. */
static int
heads_seal_once(struct store *s, uint64_t *sealed, struct cerr *err)
{
	uint8_t key[ID_BYTES + 8], hash[HASH_BYTES];
	MDB_val lk, lv;
	MDB_cursor *c = NULL;
	MDB_txn *txn;
	bool done;
	int rc;

	*sealed = 0;
	if ((rc = store_txn_begin(s, NULL, true, &txn, err)) != 0)
		return rc;
	if ((rc = upgrade_done(s, txn, HEADS_SEALED, &done, err,
	    "log heads")) != 0 || done) {
		store_txn_abort(&txn);
		return rc;
	}
	/* A store from before sealed heads: seal each log's last entry once,
	 * trusting the files as they are now (said in the broker's log). */
	if ((rc = mdb_cursor_open(txn, s->dbi[DB_USELOG], &c)) != 0) {
		rc = st_fail(rc, err, "log heads");
		goto out;
	}
	rc = mdb_cursor_get(c, &lk, &lv, MDB_FIRST);
	while (rc == 0) {
		if (lk.mv_size != ID_BYTES + 8) {
			rc = MDB_CORRUPTED;
			break;
		}
		memcpy(key, lk.mv_data, ID_BYTES);
		memset(key + ID_BYTES, 0xff, 8);
		lk = mval(key, sizeof(key));
		rc = mdb_cursor_get(c, &lk, &lv, MDB_SET_RANGE);
		rc = rc == 0 ? mdb_cursor_get(c, &lk, &lv, MDB_PREV) :
		    rc == MDB_NOTFOUND ? mdb_cursor_get(c, &lk, &lv, MDB_LAST) :
		    rc;
		if (rc != 0)
			break;
		uselog_hash(lv.mv_data, lv.mv_size, hash);
		if ((rc = st_head_put(s, txn, key, be64_get((const uint8_t *)
		    lk.mv_data + ID_BYTES), hash, err)) != 0)
			goto out;
		(*sealed)++;
		rc = mdb_cursor_get(c, &lk, &lv, MDB_NEXT);
	}
	if (rc != MDB_NOTFOUND) {
		rc = st_fail(rc, err, "log heads");
		goto out;
	}
	if ((rc = upgrade_mark(s, txn, HEADS_SEALED, err, "log heads")) != 0)
		goto out;
	mdb_cursor_close(c);
	return store_txn_commit(&txn, err);
out:
	if (c != NULL)
		mdb_cursor_close(c);
	store_txn_abort(&txn);
	return rc;
}

#define RECORDS_SEALED "records_sealed"

/*
 * A store from before sealed records: seal every record under its
 * person's key, RECKEYS_SEAL_BATCH per transaction.  The plain copies stay in the
 * map's free pages until LMDB reuses them (said in the broker's log).
 */
static int
records_seal_once(struct store *s, uint64_t *count, struct cerr *err)
{
	MDB_val k, v;
	uint8_t from[ID_BYTES + 8], key[8];
	MDB_cursor *c = NULL;
	MDB_txn *txn = NULL;
	uint8_t *plain = NULL;
	size_t n, cap = 0;
	uint64_t seq;
	unsigned done;
	bool sealed;
	int rc;

	*count = 0;
	memset(from, 0, sizeof(from));
	for (;;) {
		if ((rc = store_txn_begin(s, NULL, true, &txn, err)) != 0)
			goto out;
		if ((rc = upgrade_done(s, txn, RECORDS_SEALED, &sealed, err,
		    "sealing records")) != 0 || sealed)
			goto out;
		if ((rc = mdb_cursor_open(txn, s->dbi[DB_URECS], &c)) != 0)
			goto lmdb;
		k = mval(from, sizeof(from));
		rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
		for (done = 0; rc == 0 && done < RECKEYS_SEAL_BATCH; done++) {
			if (k.mv_size != sizeof(from)) {
				rc = MDB_CORRUPTED;
				break;
			}
			memcpy(from, k.mv_data, sizeof(from));
			seq = be64_get(from + ID_BYTES);
			be64_put(key, seq);
			k = mval(key, 8);
			if ((rc = mdb_get(txn, s->dbi[DB_RECORDS], &k,
			    &v)) != 0 && rc != MDB_NOTFOUND)
				break;
			if (rc == 0 && !reckeys_is_sealed(v.mv_data,
			    v.mv_size)) {
				if ((n = v.mv_size) > cap) {
					free(plain);
					if ((plain = malloc(cap = n)) == NULL) {
						rc = ENOMEM;
						break;
					}
				}
				memcpy(plain, v.mv_data, n);
				if ((rc = st_record_seal_put(s, txn, from, seq,
				    plain, n, 0, err)) != 0)
					goto out;
				(*count)++;
			}
			rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
		}
		mdb_cursor_close(c);
		c = NULL;
		if (rc == MDB_NOTFOUND) {
			if ((rc = upgrade_mark(s, txn, RECORDS_SEALED, err,
			    "sealing records")) != 0 ||
			    (rc = store_txn_commit(&txn, err)) != 0)
				goto out;
			break;
		}
		if (rc != 0)
			goto lmdb;
		if ((rc = store_txn_commit(&txn, err)) != 0)
			goto out;
		/* go on after the last one sealed */
		seq = be64_get(from + ID_BYTES);
		be64_put(from + ID_BYTES, seq + 1);
	}
	goto out;
lmdb:
	rc = rc == ENOMEM ? cerr_set(err, CARNET_E_NOMEM, "out of memory") :
	    st_fail(rc, err, "sealing records");
out:
	if (c != NULL)
		mdb_cursor_close(c);
	store_txn_abort(&txn);
	if (plain != NULL)
		sodium_memzero(plain, cap);
	free(plain);
	return rc;
}

/* A store from before the due and unerased indexes: fill them once. */
#define DUE_FILLED "due_filled"

struct fill {
	struct store *s;
	MDB_txn *txn;
	struct cerr *err;
	uint64_t n;
};

static int
fill_one(void *arg, const MDB_val *k, const MDB_val *v)
{
	struct fill *f = arg;
	const uint8_t *p = k->mv_data, *app = p, *user = p + ID_BYTES,
	    *tok = p + 2 * ID_BYTES;
	struct token_state st;
	uint64_t cursor, last;
	int rc;

	(void)v;
	if (k->mv_size != 2 * ID_BYTES + TOKID_BYTES)
		return CARNET_E_STORE;
	if ((rc = store_token_get(f->s, f->txn, tok, &st)) != 0)
		return rc;
	switch (st.state) {
	case TOKEN_ACTIVE:
		if ((rc = store_cursor_get(f->s, f->txn, tok, &cursor)) != 0 ||
		    (rc = store_user_last(f->s, f->txn, user, &last)) != 0)
			return rc;
		if (last <= cursor)
			return 0;
		f->n++;
		return store_due_put(f->s, f->txn, app, tok, user, f->err);
	case TOKEN_REVOKED:
	case TOKEN_EXPIRED:
		if (st.erased_at != 0)
			return 0;
		f->n++;
		return st_unerased_put(f->s, f->txn, app, tok, user, f->err);
	default:
		return 0; /* paused: a resume puts it back in due */
	}
}

static int
due_fill_once(struct store *s, uint64_t *count, struct cerr *err)
{
	struct fill f = {s, NULL, err, 0};
	bool done;
	int rc;

	*count = 0;
	if ((rc = store_txn_begin(s, NULL, true, &f.txn, err)) != 0)
		return rc;
	if ((rc = upgrade_done(s, f.txn, DUE_FILLED, &done, err,
	    "due index")) != 0 || done) {
		store_txn_abort(&f.txn);
		return rc;
	}
	rc = st_scan_prefix(f.txn, s->dbi[DB_GRANTS], NULL, 0, 0, fill_one, &f);
	if (rc != 0) {
		store_txn_abort(&f.txn);
		return cerr_set(err, rc, "filling the due index: %s",
		    carnet_strerror(rc));
	}
	if ((rc = upgrade_mark(s, f.txn, DUE_FILLED, err, "due index")) != 0) {
		store_txn_abort(&f.txn);
		return rc;
	}
	*count = f.n;
	return store_txn_commit(&f.txn, err);
}

/*
 * The key of opaque refs, from meta, or made once: random, not derived
 * from the broker key, so that a new broker key does not change the ids
 * apps hold.
 */
static int
ref_key_once(struct store *s, bool *made, struct cerr *err)
{
	MDB_val k = mval(META_REF_KEY, strlen(META_REF_KEY)), v;
	MDB_txn *txn;
	int rc;

	*made = false;
	if ((rc = store_txn_begin(s, NULL, true, &txn, err)) != 0)
		return rc;
	rc = mdb_get(txn, s->dbi[DB_META], &k, &v);
	if (rc == 0 && v.mv_size == RECORD_REF_KEY_BYTES) {
		memcpy(s->ref_key, v.mv_data, RECORD_REF_KEY_BYTES);
		s->has_ref_key = true;
		store_txn_abort(&txn);
		return 0;
	}
	if (rc != MDB_NOTFOUND) {
		store_txn_abort(&txn);
		return st_fail(rc == 0 ? MDB_CORRUPTED : rc, err,
		    "the key of opaque refs");
	}
	randombytes_buf(s->ref_key, RECORD_REF_KEY_BYTES);
	if ((rc = st_key_put(txn, s->dbi[DB_META], META_REF_KEY,
	    strlen(META_REF_KEY), s->ref_key, RECORD_REF_KEY_BYTES, 0, err,
	    "the key of opaque refs")) != 0 ||
	    (rc = store_txn_commit(&txn, err)) != 0) {
		store_txn_abort(&txn);
		sodium_memzero(s->ref_key, RECORD_REF_KEY_BYTES);
		return rc;
	}
	s->has_ref_key = *made = true;
	return 0;
}

const uint8_t *
store_ref_key(const struct store *s)
{
	return s->has_ref_key ? s->ref_key : NULL;
}

/*
 * Every slot the store handed out is in the key file: a key file lost,
 * emptied or cut short (a copy of DIR without it, a restore of data.mdb
 * alone) would leave those people's records unreadable, and a new file
 * made in its place would say nothing of it.  Slots are filled and synced
 * before the transaction that hands them out commits, so after any crash
 * the file holds at least those.
 */
static int
keys_cover_slots(struct store *s, const char *path, struct cerr *err)
{
	MDB_txn *txn;
	uint64_t next;
	int64_t have;
	int rc;

	if ((rc = store_txn_begin(s, NULL, false, &txn, err)) != 0)
		return rc;
	rc = st_meta_peek(s, txn, META_KEYSLOT, &next, err);
	store_txn_abort(&txn);
	if (rc != 0)
		return rc;
	if ((have = reckeys_slots(s->keys, err)) < 0)
		return CARNET_E_IO;
	if ((uint64_t)have < next)
		return cerr_set(err, CARNET_E_STORE, "%s holds %lld key slots, "
		    "the store handed out %llu: the records of the people "
		    "past it could not be read; put back the key file that "
		    "goes with this data.mdb", path, (long long)have - 1,
		    (unsigned long long)next - 1);
	return 0;
}

int
store_set_key(struct store *s, const uint8_t secret[64],
    struct store_upgrade *up, struct cerr *err)
{
	static const char ctx[] = "carnet-log-head-seal-v1";
	char path[PATH_MAX + 8];
	int rc;

	memset(up, 0, sizeof(*up));
	/* a subkey: the signing key itself never keys anything else */
	crypto_generichash(s->seal_key, sizeof(s->seal_key),
	    (const uint8_t *)ctx, sizeof(ctx) - 1, secret, 32);
	s->sealing = true;
	snprintf(path, sizeof(path), "%s/keys", s->path);
	reckeys_close(&s->keys);
	if ((rc = reckeys_open(path, secret, &s->keys, err)) != 0 ||
	    (rc = keys_cover_slots(s, path, err)) != 0)
		return rc;
	/* the turns a broker logged after its last checkpoint (turns.c) */
	if (snprintf(path, sizeof(path), "%s/turns.wal", s->path) >=
	    (int)sizeof(path))
		return cerr_set(err, CARNET_E_BAD_ARG, "path too long: %s",
		    s->path);
	if ((rc = store_turns_replay(s, path, &up->turns_replayed, err)) != 0)
		return rc;
	/* erasures committed just before a crash: their keys go now */
	if ((rc = st_keys_wipe_due(s, err)) != 0 ||
	    (rc = heads_seal_once(s, &up->heads_sealed, err)) != 0)
		return rc;
	if ((rc = records_seal_once(s, &up->records_sealed, err)) != 0 ||
	    (rc = ref_key_once(s, &up->ref_key_made, err)) != 0)
		return rc;
	return due_fill_once(s, &up->due_filled, err);
}
