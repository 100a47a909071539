/*
 * due.c: two indexes that let the broker visit the consents something
 * happened to, never all of them:
 *
 *   due      app(32) token(16) -> user(32)   may have records to send
 *   unerased app(32) token(16) -> user(32)   ended, erasure not confirmed
 *
 * A pair enters `due` when a record is stored for the person, at a grant
 * to someone with records and at a resume; it leaves when the token's
 * cursor covers the person's stream, or the token pauses or ends.  A pair
 * enters `unerased` when its token ends and leaves when the app confirms
 * the erasure.  A store from before these indexes gets them filled once
 * (upgrade.c).
 */
#include <string.h>

#include "../common/limits.h"
#include "store_int.h"

#define INDEX_KEY_BYTES (ID_BYTES + TOKID_BYTES)

static void
index_key(uint8_t key[INDEX_KEY_BYTES], const uint8_t app[ID_BYTES],
    const uint8_t tok[TOKID_BYTES])
{
	memcpy(key, app, ID_BYTES);
	memcpy(key + ID_BYTES, tok, TOKID_BYTES);
}

static int
index_put(MDB_txn *txn, MDB_dbi dbi, const uint8_t app[ID_BYTES],
    const uint8_t tok[TOKID_BYTES], const uint8_t user[ID_BYTES],
    struct cerr *err, const char *what)
{
	uint8_t key[INDEX_KEY_BYTES];
	MDB_val k = mval(key, sizeof(key)), v = mval(user, ID_BYTES);
	int rc;

	index_key(key, app, tok);
	/* already there is the common case: no page is written for it */
	rc = st_mdb_put(txn, dbi, &k, &v, MDB_NOOVERWRITE);
	return rc == 0 || rc == MDB_KEYEXIST ? 0 : st_fail(rc, err, what);
}

static int
index_del(MDB_txn *txn, MDB_dbi dbi, const uint8_t app[ID_BYTES],
    const uint8_t tok[TOKID_BYTES], struct cerr *err, const char *what)
{
	uint8_t key[INDEX_KEY_BYTES];
	MDB_val k = mval(key, sizeof(key));
	int rc;

	index_key(key, app, tok);
	rc = st_mdb_del(txn, dbi, &k);
	return rc == 0 || rc == MDB_NOTFOUND ? 0 : st_fail(rc, err, what);
}

int
store_due_put(struct store *s, MDB_txn *txn, const uint8_t app[ID_BYTES],
    const uint8_t tok[TOKID_BYTES], const uint8_t user[ID_BYTES],
    struct cerr *err)
{
	return index_put(txn, s->dbi[DB_DUE], app, tok, user, err,
	    "due index");
}

int
st_due_has(struct store *s, MDB_txn *txn, const uint8_t app[ID_BYTES],
    const uint8_t tok[TOKID_BYTES], bool *has, struct cerr *err)
{
	uint8_t key[INDEX_KEY_BYTES];
	MDB_val k = mval(key, sizeof(key)), v;
	int rc;

	index_key(key, app, tok);
	rc = mdb_get(txn, s->dbi[DB_DUE], &k, &v);
	*has = rc == 0;
	return rc == 0 || rc == MDB_NOTFOUND ? 0 : st_fail(rc, err,
	    "due index");
}

int
store_due_del(struct store *s, MDB_txn *txn, const uint8_t app[ID_BYTES],
    const uint8_t tok[TOKID_BYTES], struct cerr *err)
{
	return index_del(txn, s->dbi[DB_DUE], app, tok, err, "due index");
}

int
store_due_next(struct store *s, MDB_txn *txn, const uint8_t app[ID_BYTES],
    const uint8_t *after, uint8_t tok[TOKID_BYTES], uint8_t user[ID_BYTES])
{
	uint8_t key[INDEX_KEY_BYTES];
	MDB_cursor *c;
	MDB_val k, v;
	int rc;

	memset(key, 0, sizeof(key));
	memcpy(key, app, ID_BYTES);
	if (after != NULL)
		memcpy(key + ID_BYTES, after, TOKID_BYTES);
	k = mval(key, after ? sizeof(key) : ID_BYTES);
	if ((rc = mdb_cursor_open(txn, s->dbi[DB_DUE], &c)) != 0)
		return st_fail(rc, NULL, "due index");
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	/* SET_RANGE lands on `after` itself when it is there: step past */
	if (rc == 0 && after != NULL && k.mv_size == sizeof(key) &&
	    memcmp(k.mv_data, key, sizeof(key)) == 0)
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	if (rc == 0 && (k.mv_size != sizeof(key) || memcmp(k.mv_data, app,
	    ID_BYTES) != 0))
		rc = MDB_NOTFOUND;
	if (rc == 0 && v.mv_size != ID_BYTES)
		rc = MDB_CORRUPTED;
	if (rc == 0) {
		memcpy(tok, (const uint8_t *)k.mv_data + ID_BYTES, TOKID_BYTES);
		memcpy(user, v.mv_data, ID_BYTES);
	}
	mdb_cursor_close(c);
	if (rc == MDB_NOTFOUND)
		return CARNET_E_NOT_FOUND;
	return rc ? st_fail(rc, NULL, "due index") : 0;
}

int
st_unerased_put(struct store *s, MDB_txn *txn, const uint8_t app[ID_BYTES],
    const uint8_t tok[TOKID_BYTES], const uint8_t user[ID_BYTES],
    struct cerr *err)
{
	return index_put(txn, s->dbi[DB_UNERASED], app, tok, user, err,
	    "unerased index");
}

int
st_unerased_del(struct store *s, MDB_txn *txn, const uint8_t app[ID_BYTES],
    const uint8_t tok[TOKID_BYTES], struct cerr *err)
{
	return index_del(txn, s->dbi[DB_UNERASED], app, tok, err,
	    "unerased index");
}

struct unerased_scan {
	int (*fn)(void *, const uint8_t *, const uint8_t *);
	void *arg;
};

static int
unerased_one(void *arg, const MDB_val *k, const MDB_val *v)
{
	struct unerased_scan *us = arg;

	if (k->mv_size != INDEX_KEY_BYTES || v->mv_size != ID_BYTES)
		return CARNET_E_STORE;
	return us->fn(us->arg, v->mv_data,
	    (const uint8_t *)k->mv_data + ID_BYTES);
}

int
store_unerased_of_app(struct store *s, MDB_txn *txn,
    const uint8_t app[ID_BYTES], int (*fn)(void *arg,
    const uint8_t user[ID_BYTES], const uint8_t tok[TOKID_BYTES]), void *arg)
{
	struct unerased_scan us = {fn, arg};

	return st_scan_prefix(txn, s->dbi[DB_UNERASED], app, ID_BYTES,
	    ID_BYTES, unerased_one, &us);
}
