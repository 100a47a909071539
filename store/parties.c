/*
 * parties.c: the registry: parties by id, and by CURVE key for ZAP.
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

int
store_party_add(struct store *s, MDB_txn *txn, const struct party *p,
    struct cerr *err)
{
	uint8_t curve[32];
	msgpack_sbuffer sb;
	msgpack_packer pk;
	MDB_val k, v;
	int rc;

	if (key_curve_pk(p->id, curve) != 0)
		return cerr_set(err, CARNET_E_BAD_VALUE,
		    "party %s: not a valid public key", p->name);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	party_pack(&pk, p);
	k = mval(p->id, ID_BYTES);
	rc = st_put_packed(txn, s->dbi[DB_PARTIES], &k, &sb, MDB_NOOVERWRITE, err,
	    "party");
	msgpack_sbuffer_destroy(&sb);
	if (rc != 0)
		return rc;
	k = mval(curve, 32);
	v = mval(p->id, ID_BYTES);
	if ((rc = st_mdb_put(txn, s->dbi[DB_CURVE], &k, &v, MDB_NOOVERWRITE)) != 0)
		return st_fail(rc, err, "party curve key");
	return 0;
}

int
store_party_get(struct store *s, MDB_txn *txn, const uint8_t id[ID_BYTES],
    struct party *p)
{
	MDB_val k = mval(id, ID_BYTES), v;
	int rc;

	if ((rc = mdb_get(txn, s->dbi[DB_PARTIES], &k, &v)) != 0)
		return st_fail(rc, NULL, "party");
	return party_decode(v.mv_data, v.mv_size, p, NULL);
}

int
store_party_by_curve(struct store *s, MDB_txn *txn, const uint8_t curve[32],
    uint8_t id[ID_BYTES])
{
	MDB_val k = mval(curve, 32), v;
	int rc;

	if ((rc = mdb_get(txn, s->dbi[DB_CURVE], &k, &v)) != 0)
		return st_fail(rc, NULL, "party");
	if (v.mv_size != ID_BYTES)
		return CARNET_E_STORE;
	memcpy(id, v.mv_data, ID_BYTES);
	return 0;
}

struct party_scan {
	int (*fn)(void *, const struct party *);
	void *arg;
};

static int
party_scan_one(void *arg, const MDB_val *k, const MDB_val *v)
{
	struct party_scan *ps = arg;
	struct party p;

	(void)k;
	if (party_decode(v->mv_data, v->mv_size, &p, NULL) != 0)
		return CARNET_E_STORE;
	return ps->fn(ps->arg, &p);
}

int
store_party_foreach(struct store *s, MDB_txn *txn,
    int (*fn)(void *arg, const struct party *p), void *arg)
{
	struct party_scan ps = {fn, arg};

	return st_scan_prefix(txn, s->dbi[DB_PARTIES], NULL, 0, 0, party_scan_one,
	    &ps);
}
