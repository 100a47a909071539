/*
 * util.c: the helpers every file of the store uses (store_int.h): LMDB
 * errors as ours, packing and putting, prefix scans, counters in meta.
 * It calls nothing else of the store.
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

/* The scratch buffer, emptied, and a packer on it. */
msgpack_sbuffer *
st_scratch(struct store *s, msgpack_packer *pk)
{
	msgpack_sbuffer_clear(&s->scratch);
	msgpack_packer_init(pk, &s->scratch, msgpack_sbuffer_write);
	return &s->scratch;
}

/* Map an LMDB return code to ours, with a message saying what failed. */
int
st_fail(int rc, struct cerr *err, const char *what)
{
	if (rc == MDB_NOTFOUND)
		return cerr_set(err, CARNET_E_NOT_FOUND, "%s: not found", what);
	if (rc == MDB_KEYEXIST)
		return cerr_set(err, CARNET_E_EXISTS, "%s: already exists", what);
	if (rc == MDB_MAP_FULL || rc == ENOSPC || rc == EDQUOT ||
	    rc == MDB_TXN_FULL)
		return cerr_set(err, CARNET_E_STORE_FULL, "%s: %s", what,
		    mdb_strerror(rc));
	return cerr_set(err, CARNET_E_STORE, "%s: %s", what, mdb_strerror(rc));
}

/* Put with a packer: pack into a buffer, then mdb_put. */
int
st_put_packed(MDB_txn *txn, MDB_dbi dbi, MDB_val *k, msgpack_sbuffer *sb,
    unsigned flags, struct cerr *err, const char *what)
{
	MDB_val v = mval(sb->data, sb->size);
	int rc = st_mdb_put(txn, dbi, k, &v, flags);

	return rc == 0 ? 0 : st_fail(rc, err, what);
}

/*
 * Iterate over the keys of dbi that start with prefix (plen bytes), from
 * the key start (slen bytes, beginning with prefix).  fn gets each pair and
 * returns non-zero to stop; that value is returned.
 */
int
st_scan_prefix(MDB_txn *txn, MDB_dbi dbi, const void *start, size_t slen,
    size_t plen, int (*fn)(void *arg, const MDB_val *k, const MDB_val *v),
    void *arg)
{
	MDB_cursor *c;
	MDB_val k = mval(start, slen), v;
	int rc, stop = 0;

	if ((rc = mdb_cursor_open(txn, dbi, &c)) != 0)
		return st_fail(rc, NULL, "cursor");
	rc = slen ? mdb_cursor_get(c, &k, &v, MDB_SET_RANGE) :
	    mdb_cursor_get(c, &k, &v, MDB_FIRST);
	while (rc == 0 && k.mv_size >= plen &&
	    (plen == 0 || memcmp(k.mv_data, start, plen) == 0)) {
		if ((stop = fn(arg, &k, &v)) != 0)
			break;
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(c);
	if (stop != 0)
		return stop;
	return rc == 0 || rc == MDB_NOTFOUND ? 0 : st_fail(rc, NULL, "scan");
}

/* The next number of counter name (1 at first; not taken yet). */
int
st_meta_peek(struct store *s, MDB_txn *txn, const char *name, uint64_t *n,
    struct cerr *err)
{
	MDB_val k = mval(name, strlen(name)), v;
	int rc;

	rc = mdb_get(txn, s->dbi[DB_META], &k, &v);
	if (rc == MDB_NOTFOUND)
		*n = 1;
	else if (rc != 0 || v.mv_size != 8)
		return st_fail(rc ? rc : MDB_CORRUPTED, err, name);
	else
		*n = be64_get(v.mv_data);
	return 0;
}

/* n (just peeked) is taken: the next one is n + 1. */
int
st_meta_take(struct store *s, MDB_txn *txn, const char *name, uint64_t n,
    struct cerr *err)
{
	MDB_val k = mval(name, strlen(name)), v;
	uint8_t buf[8];
	int rc;

	be64_put(buf, n + 1);
	v = mval(buf, 8);
	if ((rc = st_mdb_put(txn, s->dbi[DB_META], &k, &v, 0)) != 0)
		return st_fail(rc, err, name);
	return 0;
}

int
st_meta_next(struct store *s, MDB_txn *txn, const char *name, uint64_t *n,
    struct cerr *err)
{
	int rc = st_meta_peek(s, txn, name, n, err);

	return rc != 0 ? rc : st_meta_take(s, txn, name, *n, err);
}

/* The top-level commit reads the count once it is told (store.c). */
int
st_withdrawn(struct store *s, MDB_txn *txn, struct cerr *err)
{
	uint64_t n;

	s->withdrawing = true;
	return st_meta_next(s, txn, META_WITHDRAWALS, &n, err);
}

int
st_key_put(MDB_txn *txn, MDB_dbi dbi, const void *k, size_t klen,
    const void *v, size_t vlen, unsigned flags, struct cerr *err,
    const char *what)
{
	MDB_val mk = mval(k, klen), mv = mval(v, vlen);
	int rc = st_mdb_put(txn, dbi, &mk, &mv, flags);

	return rc == 0 ? 0 : st_fail(rc, err, what);
}
