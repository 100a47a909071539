/*
 * uselogs.c: each person's use log (hash-chained, its head sealed at every
 * append and checked at every read) and the consent requests waiting for
 * them.
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

/* The last entry of user's log (key and value), or MDB_NOTFOUND. */
static int
log_last(struct store *s, MDB_txn *txn, const uint8_t user[ID_BYTES],
    MDB_val *k, MDB_val *v)
{
	uint8_t key[ID_BYTES + 8];
	MDB_cursor *c;
	int rc;

	memcpy(key, user, ID_BYTES);
	memset(key + ID_BYTES, 0xff, 8);
	if ((rc = mdb_cursor_open(txn, s->dbi[DB_USELOG], &c)) != 0)
		return rc;
	*k = mval(key, sizeof(key));
	rc = mdb_cursor_get(c, k, v, MDB_SET_RANGE);
	if (rc == 0)
		rc = mdb_cursor_get(c, k, v, MDB_PREV);
	else if (rc == MDB_NOTFOUND)
		rc = mdb_cursor_get(c, k, v, MDB_LAST);
	mdb_cursor_close(c);
	if (rc == 0 && (k->mv_size != ID_BYTES + 8 ||
	    memcmp(k->mv_data, user, ID_BYTES) != 0))
		rc = MDB_NOTFOUND;
	return rc;
}

/* ---- sealed log heads ---------------------------------------------------
 *
 * heads: user(32) -> seq(8) hash(32) seal(32), written with every append;
 * the seal is BLAKE2b keyed with a key derived from the broker's secret
 * key, over user, seq and hash.  A writer of the files without that key
 * cannot cut, drop or change entries and make a head that matches; what
 * it can do is put back an older head with its entries (a rollback),
 * which only a client that kept a newer head can see.
 */
#define HEAD_VAL_BYTES (8 + HASH_BYTES + HASH_BYTES)

static void
head_seal(const struct store *s, const uint8_t user[ID_BYTES], uint64_t seq,
    const uint8_t hash[HASH_BYTES], uint8_t seal[HASH_BYTES])
{
	uint8_t m[ID_BYTES + 8 + HASH_BYTES];

	memcpy(m, user, ID_BYTES);
	be64_put(m + ID_BYTES, seq);
	memcpy(m + ID_BYTES + 8, hash, HASH_BYTES);
	crypto_generichash(seal, HASH_BYTES, m, sizeof(m), s->seal_key,
	    sizeof(s->seal_key));
}

int
st_head_put(struct store *s, MDB_txn *txn, const uint8_t user[ID_BYTES],
    uint64_t seq, const uint8_t hash[HASH_BYTES], struct cerr *err)
{
	uint8_t buf[HEAD_VAL_BYTES];
	MDB_val k = mval(user, ID_BYTES), v = mval(buf, sizeof(buf));
	int rc;

	if (!s->sealing)
		return cerr_set(err, CARNET_E_STORE, "use log: no key to seal "
		    "its head (only carnetd appends)");
	be64_put(buf, seq);
	memcpy(buf + 8, hash, HASH_BYTES);
	head_seal(s, user, seq, hash, buf + 8 + HASH_BYTES);
	if ((rc = st_mdb_put(txn, s->dbi[DB_HEADS], &k, &v, 0)) != 0)
		return st_fail(rc, err, "log head");
	return 0;
}

int
store_log_head(struct store *s, MDB_txn *txn, const uint8_t user[ID_BYTES],
    uint64_t *seq, uint8_t hash[HASH_BYTES], struct cerr *err)
{
	uint8_t seal[HASH_BYTES], last_hash[HASH_BYTES];
	MDB_val hk = mval(user, ID_BYTES), hv, k, v;
	const uint8_t *h;
	uint64_t last_seq = 0;
	int rc, hrc;

	rc = log_last(s, txn, user, &k, &v);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return st_fail(rc, err, "log head");
	if (rc == 0) {
		last_seq = be64_get((const uint8_t *)k.mv_data + ID_BYTES);
		uselog_hash(v.mv_data, v.mv_size, last_hash);
	} else {
		memset(last_hash, 0, HASH_BYTES);
	}
	hrc = mdb_get(txn, s->dbi[DB_HEADS], &hk, &hv);
	if (hrc != 0 && hrc != MDB_NOTFOUND)
		return st_fail(hrc, err, "log head");
	if (hrc == MDB_NOTFOUND) {
		if (last_seq != 0)
			return cerr_set(err, CARNET_E_LOG_BROKEN, "use log: %llu "
			    "entries but no sealed head: its head was removed "
			    "from the store", (unsigned long long)last_seq);
	} else {
		h = hv.mv_data;
		if (hv.mv_size != HEAD_VAL_BYTES)
			return cerr_set(err, CARNET_E_LOG_BROKEN,
			    "use log: its sealed head is damaged");
		if (s->sealing) {
			head_seal(s, user, be64_get(h), h + 8, seal);
			if (sodium_memcmp(seal, h + 8 + HASH_BYTES,
			    HASH_BYTES) != 0)
				return cerr_set(err, CARNET_E_LOG_BROKEN,
				    "use log: its head was changed without "
				    "the broker's key");
		}
		if (be64_get(h) != last_seq ||
		    sodium_memcmp(h + 8, last_hash, HASH_BYTES) != 0)
			return cerr_set(err, CARNET_E_LOG_BROKEN,
			    "use log: the sealed head is entry %llu, the "
			    "store ends at entry %llu%s: entries were cut, "
			    "added or changed without the broker's key",
			    (unsigned long long)be64_get(h),
			    (unsigned long long)last_seq,
			    be64_get(h) == last_seq ? " (changed)" : "");
	}
	*seq = last_seq;
	memcpy(hash, last_hash, HASH_BYTES);
	return 0;
}

int
store_log_append_after(struct store *s, MDB_txn *txn,
    const uint8_t user[ID_BYTES], struct uselog_entry *e, uint64_t last,
    const uint8_t prev[HASH_BYTES], uint8_t hash[HASH_BYTES],
    struct cerr *err)
{
	uint8_t key[ID_BYTES + 8], h[HASH_BYTES];
	msgpack_sbuffer *sb;
	msgpack_packer pk;
	MDB_val k;
	int rc;

	e->seq = last + 1;
	memcpy(e->prev, prev, HASH_BYTES);
	/* what makes the entry's hash a commitment (policy/uselog.h) */
	e->has_salt = true;
	randombytes_buf(e->salt, sizeof(e->salt));
	memcpy(key, user, ID_BYTES);
	be64_put(key + ID_BYTES, e->seq);
	sb = st_scratch(s, &pk);
	uselog_pack(&pk, e);
	uselog_hash(sb->data, sb->size, h);
	if (hash != NULL)
		memcpy(hash, h, HASH_BYTES);
	k = mval(key, sizeof(key));
	/* NOOVERWRITE: a head read from a stale cache fails, never forks */
	if ((rc = st_put_packed(txn, s->dbi[DB_USELOG], &k, sb, MDB_NOOVERWRITE,
	    err, "use log")) != 0)
		return rc;
	return st_head_put(s, txn, user, e->seq, h, err);
}

struct log_scan {
	int (*fn)(void *, uint64_t, const MDB_val *);
	void *arg;
	size_t left;
};

static int
log_scan_one(void *arg, const MDB_val *k, const MDB_val *v)
{
	struct log_scan *ls = arg;
	int rc;

	if (ls->left == 0)
		return 1;
	ls->left--;
	if (k->mv_size != ID_BYTES + 8)
		return CARNET_E_STORE;
	rc = ls->fn(ls->arg, be64_get((const uint8_t *)k->mv_data + ID_BYTES),
	    v);
	return rc;
}

/* At most max of user's entries keyed user(32) seq(8) in dbi, seq >= from. */
static int
scan_user_seqs(MDB_txn *txn, MDB_dbi dbi, const uint8_t user[ID_BYTES],
    uint64_t from, size_t max,
    int (*fn)(void *arg, uint64_t seq, const MDB_val *v), void *arg)
{
	uint8_t key[ID_BYTES + 8];
	struct log_scan ls = {fn, arg, max};
	int rc;

	memcpy(key, user, ID_BYTES);
	be64_put(key + ID_BYTES, from);
	rc = st_scan_prefix(txn, dbi, key, sizeof(key), ID_BYTES, log_scan_one,
	    &ls);
	return rc == 1 ? 0 : rc;
}

int
store_log_foreach(struct store *s, MDB_txn *txn, const uint8_t user[ID_BYTES],
    uint64_t from, size_t max,
    int (*fn)(void *arg, uint64_t seq, const MDB_val *entry), void *arg)
{
	return scan_user_seqs(txn, s->dbi[DB_USELOG], user, from, max, fn, arg);
}

struct log_check {
	struct uselog_verifier v;
	struct cerr *err;
	uint64_t count;
};

static int
log_check_one(void *arg, uint64_t seq, const MDB_val *entry)
{
	struct log_check *lc = arg;
	int rc;

	if (seq != lc->v.next_seq)
		return cerr_set(lc->err, CARNET_E_LOG_BROKEN,
		    "entry %llu: missing (next stored is %llu)",
		    (unsigned long long)lc->v.next_seq,
		    (unsigned long long)seq);
	if ((rc = uselog_verify_next(&lc->v, entry->mv_data, entry->mv_size,
	    lc->err)) != 0)
		return rc;
	lc->count++;
	return 0;
}

int
store_log_verify(struct store *s, MDB_txn *txn, const uint8_t user[ID_BYTES],
    uint64_t *count, struct cerr *err)
{
	struct log_check lc = {.err = err};
	int rc;

	uint8_t hash[HASH_BYTES];
	uint64_t head;

	uselog_verify_init(&lc.v);
	rc = store_log_foreach(s, txn, user, 0, SIZE_MAX, log_check_one, &lc);
	*count = lc.count;
	if (rc != 0 && rc != CARNET_E_LOG_BROKEN)
		return cerr_set(err, rc, "use log: %s", carnet_strerror(rc));
	if (rc != 0)
		return rc;
	/* and the chain ends where its sealed head says */
	return store_log_head(s, txn, user, &head, hash, err);
}

int
store_request_add(struct store *s, MDB_txn *txn, const uint8_t user[ID_BYTES],
    const void *req, size_t len, struct cerr *err)
{
	uint8_t key[ID_BYTES + 8];
	uint64_t seq;
	int rc;

	if ((rc = st_meta_next(s, txn, META_SEQ, &seq, err)) != 0)
		return rc;
	memcpy(key, user, ID_BYTES);
	be64_put(key + ID_BYTES, seq);
	return st_key_put(txn, s->dbi[DB_REQUESTS], key, sizeof(key), req,
	    len, 0, err, "request");
}

int
store_requests_foreach(struct store *s, MDB_txn *txn,
    const uint8_t user[ID_BYTES], uint64_t from, size_t max,
    int (*fn)(void *arg, uint64_t seq, const MDB_val *req), void *arg)
{
	return scan_user_seqs(txn, s->dbi[DB_REQUESTS], user, from, max, fn,
	    arg);
}

int
store_request_take(struct store *s, MDB_txn *txn,
    const uint8_t user[ID_BYTES], uint64_t seq, msgpack_sbuffer *req,
    struct cerr *err)
{
	uint8_t key[ID_BYTES + 8];
	MDB_val k, v;
	int rc;

	memcpy(key, user, ID_BYTES);
	be64_put(key + ID_BYTES, seq);
	k = mval(key, sizeof(key));
	if ((rc = mdb_get(txn, s->dbi[DB_REQUESTS], &k, &v)) == MDB_NOTFOUND)
		return cerr_set(err, CARNET_E_NOT_FOUND, "no pending request "
		    "%" PRIu64 " (answered already?)", seq);
	if (rc != 0)
		return st_fail(rc, err, "request");
	if (msgpack_sbuffer_write(req, v.mv_data, v.mv_size) != 0)
		return cerr_set(err, CARNET_E_NOMEM, "request: out of memory");
	rc = st_mdb_del(txn, s->dbi[DB_REQUESTS], &k);
	return rc == 0 ? 0 : st_fail(rc, err, "request");
}
