/*
 * records.c: records, sealed at rest under their person's key (reckeys.h);
 * each person's stream; dedup; erasure, which takes the key out of use.
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

/*
 * The slot of user's record key.  With create, a person without one gets a
 * fresh key, in a wiped slot if there is one, else a new slot; the key is
 * written now and made durable before the commit (store_txn_commit).
 */
static int
ukey_slot(struct store *s, MDB_txn *txn, const uint8_t user[ID_BYTES],
    bool create, uint64_t *slot, struct cerr *err)
{
	MDB_val k = mval(user, ID_BYTES), v, fk, fv;
	MDB_cursor *c;
	uint8_t buf[8];
	int rc;

	if (s->keys == NULL)
		return cerr_set(err, CARNET_E_STORE, "records: no key to open "
		    "them (only carnetd reads and writes records)");
	rc = mdb_get(txn, s->dbi[DB_UKEYS], &k, &v);
	if (rc == 0 && v.mv_size == 8) {
		*slot = be64_get(v.mv_data);
		return 0;
	}
	if (rc == MDB_NOTFOUND && !create)
		return cerr_set(err, CARNET_E_STORE, "records of a person "
		    "without a record key (erased, or the store is damaged)");
	if (rc != MDB_NOTFOUND)
		return st_fail(rc == 0 ? MDB_CORRUPTED : rc, err,
		    "record key");
	if ((rc = mdb_cursor_open(txn, s->dbi[DB_KFREE], &c)) != 0)
		return st_fail(rc, err, "record key");
	rc = mdb_cursor_get(c, &fk, &fv, MDB_FIRST);
	if (rc == 0 && fk.mv_size == 8) {
		*slot = be64_get(fk.mv_data);
		rc = st_mdb_cursor_del(c);
	}
	mdb_cursor_close(c);
	if (rc == MDB_NOTFOUND)
		rc = st_meta_next(s, txn, META_KEYSLOT, slot, err);
	else if (rc != 0 || fk.mv_size != 8)
		return st_fail(rc ? rc : MDB_CORRUPTED, err, "record key");
	if (rc != 0)
		return rc;
	if ((rc = reckeys_fill(s->keys, *slot, user, err)) != 0)
		return rc;
	be64_put(buf, *slot);
	v = mval(buf, 8);
	if ((rc = st_mdb_put(txn, s->dbi[DB_UKEYS], &k, &v, 0)) != 0)
		return st_fail(rc, err, "record key");
	return 0;
}

/* Seal plain (user's record at seq) straight into the map at key k. */
int
st_record_seal_put(struct store *s, MDB_txn *txn, const uint8_t user[ID_BYTES],
    uint64_t seq, const void *plain, size_t len, unsigned flags,
    struct cerr *err)
{
	uint8_t key[8];
	MDB_val k = mval(key, 8), v = mval(NULL, len + RECKEYS_OVERHEAD);
	uint64_t slot;
	int rc;

	be64_put(key, seq);
	if ((rc = ukey_slot(s, txn, user, true, &slot, err)) != 0)
		return rc;
	if ((rc = st_mdb_reserve(txn, s->dbi[DB_RECORDS], &k, &v,
	    flags)) != 0)
		return st_fail(rc, err, "record");
	if ((rc = reckeys_seal(s->keys, slot, user, seq, plain, len,
	    v.mv_data, err)) != 0)
		return rc;
	if ((rc = st_wset_filled(txn, s->dbi[DB_RECORDS], &k, &v)) != 0)
		return st_fail(rc, err, "record");
	return 0;
}

struct versions {
	struct store *s;
	MDB_txn *txn;
	const uint8_t *user;
	size_t plen;            /* holder, BASE and "@" */
	uint64_t own;           /* the seq of the ref itself, skipped */
	uint64_t latest;
	unsigned seen;
	int rc;                 /* a store error met on the way */
};

static int
version_seen(void *arg, const MDB_val *k, const MDB_val *v)
{
	struct versions *vs = arg;
	const char *rest = (const char *)k->mv_data + vs->plen;
	uint8_t ukey[ID_BYTES + 8];
	MDB_val uk = mval(ukey, sizeof(ukey)), uv;
	uint64_t seq;

	/* a hostile holder's millions of versions must not make each put
	 * slower than the last */
	if (++vs->seen > RECORD_VERSIONS_MAX)
		return CARNET_E_TOO_BIG;
	/* BASE@V, not BASE@V@W (whose base is BASE@V) */
	if (v->mv_size != 8 || memchr(rest, '@', k->mv_size - vs->plen) != NULL)
		return 0;
	seq = be64_get(v->mv_data);
	if (seq == vs->own || seq <= vs->latest)
		return 0;
	/* only a version of this person's record (a holder's refs are its
	 * own, not per person); an erased one is no longer there */
	memcpy(ukey, vs->user, ID_BYTES);
	be64_put(ukey + ID_BYTES, seq);
	if ((vs->rc = mdb_get(vs->txn, vs->s->dbi[DB_URECS], &uk, &uv)) == 0)
		vs->latest = seq;
	else if (vs->rc != MDB_NOTFOUND)
		return CARNET_E_STORE;
	vs->rc = 0;
	return 0;
}

/* The seq of the latest other version of r's ref (BASE@...) in r's
 * person's stream, or 0; own is the seq of r's own dedup entry. */
static int
other_version(struct store *s, MDB_txn *txn, const struct record *r,
    const uint8_t *dkey, uint64_t own, uint64_t *latest, struct cerr *err)
{
	const char *at = strrchr(r->ref, '@');
	struct versions vs = {s, txn, r->user, 0, own, 0, 0, 0};
	int rc;

	*latest = 0;
	if (at == NULL || at == r->ref)
		return 0;
	vs.plen = ID_BYTES + (size_t)(at - r->ref) + 1;
	rc = st_scan_prefix(txn, s->dbi[DB_DEDUP], dkey, vs.plen, vs.plen,
	    version_seen, &vs);
	if (rc == CARNET_E_TOO_BIG)
		return cerr_set(err, rc, "ref %.*s@...: more than %d versions "
		    "of it are stored; send a new ref for what is a new record",
		    (int)(at - r->ref), r->ref, RECORD_VERSIONS_MAX);
	if (rc == CARNET_E_STORE)
		return st_fail(vs.rc, err, "user stream");
	if (rc != 0)
		return cerr_set(err, rc, "dedup index: %s", carnet_strerror(rc));
	*latest = vs.latest;
	return 0;
}

int
store_record_put(struct store *s, MDB_txn *txn, const struct record *r,
    uint64_t *seq, bool *dup, uint64_t *corrects, MDB_val *plain,
    struct cerr *err)
{
	struct record copy = *r;
	uint8_t dkey[ID_BYTES + RECORD_REF_MAX_BYTES], skey[8];
	uint8_t ukey[ID_BYTES + 8], uval[URECS_VAL_BYTES];
	size_t reflen = strlen(r->ref);
	msgpack_sbuffer *sb;
	msgpack_packer pk;
	MDB_val k, v;
	int rc;

	*dup = false;
	*corrects = 0;
	memcpy(dkey, r->holder, ID_BYTES);
	memcpy(dkey + ID_BYTES, r->ref, reflen);
	k = mval(dkey, ID_BYTES + reflen);
	if ((rc = st_meta_peek(s, txn, META_SEQ, seq, err)) != 0)
		return rc;
	/* one lookup: a ref already stored answers with its seq */
	be64_put(skey, *seq);
	v = mval(skey, 8);
	rc = st_mdb_put(txn, s->dbi[DB_DEDUP], &k, &v, MDB_NOOVERWRITE);
	if (rc == MDB_KEYEXIST) {
		if (v.mv_size != 8)
			return st_fail(MDB_CORRUPTED, err, "dedup index");
		*seq = be64_get(v.mv_data);
		*dup = true;
		return 0;
	}
	if (rc != 0)
		return st_fail(rc, err, "dedup index");
	if ((rc = st_meta_take(s, txn, META_SEQ, *seq, err)) != 0)
		return rc;
	/* the new entry is this ref's own: only older versions count */
	if ((rc = other_version(s, txn, r, dkey, *seq, corrects, err)) != 0)
		return rc;
	copy.corrects = *corrects;

	sb = st_scratch(s, &pk);
	record_pack(&pk, &copy, FIELDS_ALL);
	if ((rc = st_record_seal_put(s, txn, r->user, *seq, sb->data, sb->size,
	    MDB_APPEND, err)) != 0)
		return rc;
	if (plain != NULL)
		*plain = mval(sb->data, sb->size);

	memcpy(ukey, r->user, ID_BYTES);
	be64_put(ukey + ID_BYTES, *seq);
	memcpy(uval, r->holder, ID_BYTES);
	uval[ID_BYTES] = (uint8_t)r->type->index;
	be64_put(uval + ID_BYTES + 1, (uint64_t)r->time);
	k = mval(ukey, sizeof(ukey));
	v = mval(uval, sizeof(uval));
	if ((rc = st_mdb_put(txn, s->dbi[DB_URECS], &k, &v, 0)) != 0)
		return st_fail(rc, err, "user stream");
	return 0;
}

int
store_record_get(struct store *s, MDB_txn *txn, const uint8_t user[ID_BYTES],
    uint64_t seq, MDB_val *val, struct cerr *err)
{
	uint8_t key[8];
	MDB_val k = mval(key, 8), v;
	uint64_t slot;
	size_t n;
	void *p;
	int rc;

	be64_put(key, seq);
	if ((rc = mdb_get(txn, s->dbi[DB_RECORDS], &k, &v)) != 0)
		return st_fail(rc, err, "record");
	if (!reckeys_is_sealed(v.mv_data, v.mv_size))
		return cerr_set(err, CARNET_E_STORE, "record %llu is not sealed",
		    (unsigned long long)seq);
	if ((rc = ukey_slot(s, txn, user, false, &slot, err)) != 0)
		return rc;
	n = v.mv_size - reckeys_overhead(v.mv_data, v.mv_size);
	if (n > s->plain_cap) {
		if ((p = malloc(n)) == NULL)
			return cerr_set(err, CARNET_E_NOMEM, "out of memory");
		if (s->plain != NULL)
			sodium_memzero(s->plain, s->plain_cap);
		free(s->plain);
		s->plain = p;
		s->plain_cap = n;
	}
	if ((rc = reckeys_unseal(s->keys, slot, user, seq, v.mv_data,
	    v.mv_size, s->plain, err)) != 0)
		return rc;
	*val = mval(s->plain, n);
	return 0;
}

int
store_user_next(struct store *s, MDB_txn *txn, const uint8_t user[ID_BYTES],
    uint64_t after, struct recmeta *m)
{
	uint8_t key[ID_BYTES + 8];
	MDB_cursor *c;
	MDB_val k = mval(key, sizeof(key)), v;
	int rc;

	if (after == UINT64_MAX)
		return CARNET_E_NOT_FOUND;
	memcpy(key, user, ID_BYTES);
	be64_put(key + ID_BYTES, after + 1);
	if ((rc = mdb_cursor_open(txn, s->dbi[DB_URECS], &c)) != 0)
		return st_fail(rc, NULL, "cursor");
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	mdb_cursor_close(c);
	if (rc == MDB_NOTFOUND || (rc == 0 && (k.mv_size != sizeof(key) ||
	    memcmp(k.mv_data, user, ID_BYTES) != 0)))
		return CARNET_E_NOT_FOUND;
	if (rc != 0)
		return st_fail(rc, NULL, "user stream");
	if (v.mv_size != URECS_VAL_BYTES)
		return CARNET_E_STORE;
	m->seq = be64_get((const uint8_t *)k.mv_data + ID_BYTES);
	memcpy(m->holder, v.mv_data, ID_BYTES);
	m->type = schema_by_index(((const uint8_t *)v.mv_data)[ID_BYTES]);
	m->time = (int64_t)be64_get((const uint8_t *)v.mv_data + ID_BYTES + 1);
	return m->type != NULL ? 0 : CARNET_E_STORE;
}

int
store_user_last(struct store *s, MDB_txn *txn, const uint8_t user[ID_BYTES],
    uint64_t *seq)
{
	uint8_t key[ID_BYTES + 8];
	MDB_cursor *c;
	MDB_val k = mval(key, sizeof(key)), v;
	int rc;

	memcpy(key, user, ID_BYTES);
	memset(key + ID_BYTES, 0xff, 8);
	*seq = 0;
	if ((rc = mdb_cursor_open(txn, s->dbi[DB_URECS], &c)) != 0)
		return st_fail(rc, NULL, "cursor");
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	if (rc == 0)
		rc = mdb_cursor_get(c, &k, &v, MDB_PREV);
	else if (rc == MDB_NOTFOUND)
		rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
	mdb_cursor_close(c);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return st_fail(rc, NULL, "user stream");
	if (k.mv_size == sizeof(key) && memcmp(k.mv_data, user, ID_BYTES) == 0)
		*seq = be64_get((const uint8_t *)k.mv_data + ID_BYTES);
	return 0;
}

/*
 * Take user's record key out of use: the slot waits in kwipe until this
 * transaction is committed, then is overwritten (st_keys_wipe_due).  Whatever
 * the map's free pages still hold of the records no longer opens.
 */
static int
ukey_shred(struct store *s, MDB_txn *txn, const uint8_t user[ID_BYTES],
    struct cerr *err)
{
	MDB_val k = mval(user, ID_BYTES), v, e = mval("", 0);
	uint8_t slot[8];
	int rc;

	rc = mdb_get(txn, s->dbi[DB_UKEYS], &k, &v);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0 || v.mv_size != 8)
		return st_fail(rc ? rc : MDB_CORRUPTED, err, "record key");
	memcpy(slot, v.mv_data, 8);
	if ((rc = st_mdb_del(txn, s->dbi[DB_UKEYS], &k)) != 0)
		return st_fail(rc, err, "record key");
	k = mval(slot, 8);
	if ((rc = st_mdb_put(txn, s->dbi[DB_KWIPE], &k, &e, 0)) != 0)
		return st_fail(rc, err, "record key");
	s->wipe_due = true;
	return 0;
}

/*
 * Overwrite the slots of committed erasures, make that durable, then
 * free them for reuse.  Run after every commit that may have erased, and
 * at start (a crash between the commit and the wipe).  The slots are in
 * kwipe only if their erasure was committed: an erasure in an aborted
 * (nested) transaction never wipes a live key.
 */
int
st_keys_wipe_due(struct store *s, struct cerr *err)
{
	MDB_val k, v, e = mval("", 0);
	MDB_cursor *c = NULL;
	MDB_txn *txn;
	int rc;

	if (s->keys == NULL)
		return 0;
	if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0)
		return st_fail(rc, err, "wiping record keys");
	st_wset_begin(s, txn, NULL);
	if ((rc = mdb_cursor_open(txn, s->dbi[DB_KWIPE], &c)) != 0)
		goto lmdb;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size != 8) {
			rc = MDB_CORRUPTED;
			break;
		}
		if ((rc = reckeys_wipe(s->keys, be64_get(k.mv_data),
		    err)) != 0)
			goto out;
		if ((rc = st_mdb_put(txn, s->dbi[DB_KFREE], &k, &e, 0)) != 0 ||
		    (rc = st_mdb_cursor_del(c)) != 0)
			goto lmdb;
	}
	if (rc != MDB_NOTFOUND)
		goto lmdb;
	mdb_cursor_close(c);
	c = NULL;
	/* the zeros on disk before the slots may be handed out again */
	if ((rc = reckeys_sync(s->keys, err)) != 0)
		goto out;
	rc = mdb_txn_commit(txn);
	st_wset_top_end(s, rc == 0);
	if (rc != 0) {
		txn = NULL;
		goto lmdb;
	}
	s->wipe_due = false;
	return 0;
lmdb:
	rc = st_fail(rc, err, "wiping record keys");
out:
	if (c != NULL)
		mdb_cursor_close(c);
	if (txn != NULL) {
		st_wset_top_end(s, false);
		mdb_txn_abort(txn);
	}
	return rc;
}

int
store_user_erase(struct store *s, MDB_txn *txn, const uint8_t user[ID_BYTES],
    uint64_t *count, struct cerr *err)
{
	uint8_t key[ID_BYTES + 8], skey[8];
	MDB_cursor *c;
	MDB_val k, v, rk;
	int rc;

	*count = 0;
	memcpy(key, user, ID_BYTES);
	memset(key + ID_BYTES, 0, 8);
	if ((rc = mdb_cursor_open(txn, s->dbi[DB_URECS], &c)) != 0)
		return st_fail(rc, err, "erase");
	k = mval(key, sizeof(key));
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	while (rc == 0 && k.mv_size == sizeof(key) &&
	    memcmp(k.mv_data, user, ID_BYTES) == 0) {
		memcpy(skey, (const uint8_t *)k.mv_data + ID_BYTES, 8);
		rk = mval(skey, 8);
		rc = st_mdb_del(txn, s->dbi[DB_RECORDS], &rk);
		if (rc != 0 && rc != MDB_NOTFOUND)
			break;
		if ((rc = st_mdb_cursor_del(c)) != 0)
			break;
		(*count)++;
		/* After a delete, NEXT yields the item that followed it. */
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(c);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return st_fail(rc, err, "erase");
	if ((rc = st_withdrawn(s, txn, err)) != 0)
		return rc;
	return ukey_shred(s, txn, user, err);
}
