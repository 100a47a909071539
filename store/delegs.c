/*
 * delegs.c: what a person shares besides consents: delegations, the
 * emergency card and its openings.
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

/* Delegations: delegs user(32) to(32) -> state(1) ended_at(8) blob;

 * delegs_to to(32) user(32) -> "". */
int
store_deleg_put(struct store *s, MDB_txn *txn, const struct delegation *d,
    const uint8_t *blob, size_t len, struct cerr *err)
{
	uint8_t key[2 * ID_BYTES], *val;
	struct deleg_state old;
	int rc;

	/* one replaced may have given more */
	if (store_deleg_get(s, txn, d->user, d->to, &old) == 0 &&
	    (rc = st_withdrawn(s, txn, err)) != 0)
		return rc;
	if ((val = malloc(9 + len)) == NULL)
		return cerr_set(err, CARNET_E_NOMEM, "out of memory");
	val[0] = DELEG_LIVE;
	be64_put(val + 1, 0);
	memcpy(val + 9, blob, len);
	memcpy(key, d->user, ID_BYTES);
	memcpy(key + ID_BYTES, d->to, ID_BYTES);
	rc = st_key_put(txn, s->dbi[DB_DELEGS], key, sizeof(key), val,
	    9 + len, 0, err, "delegations");
	free(val);
	if (rc != 0)
		return rc;
	memcpy(key, d->to, ID_BYTES);
	memcpy(key + ID_BYTES, d->user, ID_BYTES);
	return st_key_put(txn, s->dbi[DB_DELEGS_TO], key, sizeof(key), "", 0,
	    0, err, "delegations");
}

int
store_deleg_get(struct store *s, MDB_txn *txn, const uint8_t user[ID_BYTES],
    const uint8_t to[ID_BYTES], struct deleg_state *ds)
{
	uint8_t key[2 * ID_BYTES];
	MDB_val k, v;
	const uint8_t *p;
	int rc;

	memcpy(key, user, ID_BYTES);
	memcpy(key + ID_BYTES, to, ID_BYTES);
	k = mval(key, sizeof(key));
	if ((rc = mdb_get(txn, s->dbi[DB_DELEGS], &k, &v)) != 0)
		return st_fail(rc, NULL, "delegations");
	if (v.mv_size <= 9)
		return CARNET_E_STORE;
	p = v.mv_data;
	ds->live = p[0] == DELEG_LIVE;
	ds->ended_at = (int64_t)be64_get(p + 1);
	ds->blob = p + 9;
	ds->blob_len = v.mv_size - 9;
	return 0;
}

int
store_deleg_end(struct store *s, MDB_txn *txn, const uint8_t user[ID_BYTES],
    const uint8_t to[ID_BYTES], int64_t at, struct cerr *err)
{
	struct deleg_state ds;
	uint8_t key[2 * ID_BYTES], *val;
	int rc;

	if ((rc = store_deleg_get(s, txn, user, to, &ds)) != 0)
		return cerr_set(err, rc, "you gave this party no access");
	if ((rc = st_withdrawn(s, txn, err)) != 0)
		return rc;
	if ((val = malloc(9 + ds.blob_len)) == NULL)
		return cerr_set(err, CARNET_E_NOMEM, "out of memory");
	val[0] = DELEG_ENDED;
	be64_put(val + 1, (uint64_t)at);
	memcpy(val + 9, ds.blob, ds.blob_len);
	memcpy(key, user, ID_BYTES);
	memcpy(key + ID_BYTES, to, ID_BYTES);
	rc = st_key_put(txn, s->dbi[DB_DELEGS], key, sizeof(key), val,
	    9 + ds.blob_len, 0, err, "delegations");
	free(val);
	return rc;
}

struct pair_scan {
	int (*fn)(void *, const uint8_t *);
	void *arg;
};

static int
pair_scan_one(void *arg, const MDB_val *k, const MDB_val *v)
{
	struct pair_scan *ps = arg;

	(void)v;
	if (k->mv_size != 2 * ID_BYTES)
		return CARNET_E_STORE;
	return ps->fn(ps->arg, (const uint8_t *)k->mv_data + ID_BYTES);
}

int
store_delegs_foreach(struct store *s, MDB_txn *txn, bool to_me,
    const uint8_t id[ID_BYTES], int (*fn)(void *arg,
    const uint8_t other[ID_BYTES]), void *arg)
{
	struct pair_scan ps = {fn, arg};

	return st_scan_prefix(txn, s->dbi[to_me ? DB_DELEGS_TO : DB_DELEGS], id,
	    ID_BYTES, ID_BYTES, pair_scan_one, &ps);
}

/* Emergency cards: user(32) -> opaque bytes; openings user(32) app(32)
 * -> until(8). */
int
store_card_put(struct store *s, MDB_txn *txn, const uint8_t user[ID_BYTES],
    const void *card, size_t len, struct cerr *err)
{
	MDB_val k = mval(user, ID_BYTES);
	int rc;

	/* a card changed may name fewer apps or types */
	if ((rc = st_withdrawn(s, txn, err)) != 0)
		return rc;
	if (len == 0) {
		rc = st_mdb_del(txn, s->dbi[DB_CARDS], &k);
		return rc == 0 || rc == MDB_NOTFOUND ? 0 :
		    st_fail(rc, err, "emergency card");
	}
	return st_key_put(txn, s->dbi[DB_CARDS], user, ID_BYTES, card, len,
	    0, err, "emergency card");
}

int
store_card_get(struct store *s, MDB_txn *txn, const uint8_t user[ID_BYTES],
    MDB_val *card)
{
	MDB_val k = mval(user, ID_BYTES);
	int rc = mdb_get(txn, s->dbi[DB_CARDS], &k, card);

	return rc == 0 ? 0 : st_fail(rc, NULL, "emergency card");
}

int
store_opening_put(struct store *s, MDB_txn *txn, const uint8_t user[ID_BYTES],
    const uint8_t app[ID_BYTES], int64_t until, struct cerr *err)
{
	uint8_t key[2 * ID_BYTES], val[8];

	memcpy(key, user, ID_BYTES);
	memcpy(key + ID_BYTES, app, ID_BYTES);
	be64_put(val, (uint64_t)until);
	return st_key_put(txn, s->dbi[DB_OPENINGS], key, sizeof(key), val,
	    8, 0, err, "emergency openings");
}

int
store_opening_get(struct store *s, MDB_txn *txn, const uint8_t user[ID_BYTES],
    const uint8_t app[ID_BYTES], int64_t *until)
{
	uint8_t key[2 * ID_BYTES];
	MDB_val k, v;
	int rc;

	memcpy(key, user, ID_BYTES);
	memcpy(key + ID_BYTES, app, ID_BYTES);
	k = mval(key, sizeof(key));
	if ((rc = mdb_get(txn, s->dbi[DB_OPENINGS], &k, &v)) != 0)
		return st_fail(rc, NULL, "emergency openings");
	if (v.mv_size != 8)
		return CARNET_E_STORE;
	*until = (int64_t)be64_get(v.mv_data);
	return 0;
}
