/*
 * store.c: the LMDB layout of store.h.
 *
 * Key layout decides throughput (see DESIGN.md): records are appended under
 * a global, growing seq with MDB_APPEND; the per-user stream, dedup and
 * cursor indexes hold small values.  Nothing here commits on its own.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "../common/mpk.h"
#include "../policy/key.h"
#include "reckeys.h"
#include "store.h"

enum {
	DB_META, DB_PARTIES, DB_CURVE, DB_TOKENS, DB_GRANTS, DB_UTOKENS,
	DB_ROUTES, DB_RECORDS, DB_URECS, DB_DEDUP, DB_CURSORS, DB_USELOG,
	DB_REQUESTS, DB_STATS, DB_TIMERS, DB_DELEGS, DB_DELEGS_TO, DB_CARDS,
	DB_OPENINGS, DB_HEADS, DB_UKEYS, DB_KFREE, DB_KWIPE, DB__N
};

static const struct {
	const char *name;
	unsigned flags;
} db_defs[DB__N] = {
	[DB_META] = {"meta", 0},
	[DB_PARTIES] = {"parties", 0},
	[DB_CURVE] = {"curve", 0},
	[DB_TOKENS] = {"tokens", 0},
	[DB_GRANTS] = {"grants", 0},
	[DB_UTOKENS] = {"utokens", 0},
	[DB_ROUTES] = {"routes", MDB_DUPSORT | MDB_DUPFIXED},
	[DB_RECORDS] = {"records", 0},
	[DB_URECS] = {"urecs", 0},
	[DB_DEDUP] = {"dedup", 0},
	[DB_CURSORS] = {"cursors", 0},
	[DB_USELOG] = {"uselog", 0},
	[DB_REQUESTS] = {"requests", 0},
	[DB_STATS] = {"stats", 0},
	[DB_TIMERS] = {"timers", 0},
	[DB_DELEGS] = {"delegs", 0},
	[DB_DELEGS_TO] = {"delegs_to", 0},
	[DB_CARDS] = {"cards", 0},
	[DB_OPENINGS] = {"openings", 0},
	[DB_HEADS] = {"heads", 0},
	[DB_UKEYS] = {"ukeys", 0},
	[DB_KFREE] = {"kfree", 0},
	[DB_KWIPE] = {"kwipe", 0},
};

struct store {
	MDB_env *env;
	MDB_dbi dbi[DB__N];
	/* where records and log entries are packed before their put: kept
	 * between calls (a store is used by one thread) */
	msgpack_sbuffer scratch;
	/* the broker's key for sealing log heads (store_seal_key) */
	uint8_t seal_key[HASH_BYTES];
	bool sealing;
	char path[PATH_MAX];       /* DIR/store */
	/* the per-person record keys (reckeys.h), open once the broker key
	 * is known (store_set_key) */
	struct reckeys *keys;
	MDB_txn *top;              /* the top-level write txn, if one is open */
	bool wipe_due;             /* an erasure committed: wipe its key */
	uint8_t *plain;            /* where store_record_get opens a record */
	size_t plain_cap;
};

/* The scratch buffer, emptied, and a packer on it. */
static msgpack_sbuffer *
scratch_packer(struct store *s, msgpack_packer *pk)
{
	msgpack_sbuffer_clear(&s->scratch);
	msgpack_packer_init(pk, &s->scratch, msgpack_sbuffer_write);
	return &s->scratch;
}

#define URECS_VAL_BYTES (ID_BYTES + 1 + 8)
#define TOKSTATE_HDR_BYTES 25
#define TIMER_KEY_BYTES (8 + 1 + TOKID_BYTES)

static void
be64_put(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t
be64_get(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

/* Map an LMDB return code to ours, with a message saying what failed. */
static int
mdb_fail(int rc, struct cerr *err, const char *what)
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

static MDB_val
mval(const void *p, size_t n)
{
	MDB_val v = {n, (void *)p};

	return v;
}

/*
 * A benchmark build (CARNET_BENCH) may commit without fsync when
 * CARNET_BENCH_NOSYNC is set, to measure what durability costs.
 */
static unsigned
bench_flags(void)
{
#ifdef CARNET_BENCH
	if (getenv("CARNET_BENCH_NOSYNC") != NULL)
		return MDB_NOSYNC;
#endif
	return 0;
}

int
store_open(const char *dir, size_t map_bytes, struct store **out,
    struct cerr *err)
{
	char path[PATH_MAX];
	struct store *s;
	MDB_txn *txn = NULL;
	int i, rc;

	if (snprintf(path, sizeof(path), "%s/store", dir) >= (int)sizeof(path))
		return cerr_set(err, CARNET_E_BAD_ARG, "path too long: %s", dir);
	if (mkdir(path, 0700) != 0 && errno != EEXIST)
		return cerr_set(err, CARNET_E_IO, "cannot create %s: %s", path,
		    strerror(errno));
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return cerr_set(err, CARNET_E_NOMEM, "out of memory");
	strcpy(s->path, path);
	if ((rc = mdb_env_create(&s->env)) != 0 ||
	    (rc = mdb_env_set_maxdbs(s->env, DB__N)) != 0 ||
	    (rc = mdb_env_set_mapsize(s->env, map_bytes)) != 0 ||
	    (rc = mdb_env_open(s->env, path, MDB_NOTLS | bench_flags(),
	    0600)) != 0 || (rc = mdb_env_set_userctx(s->env, s)) != 0) {
		rc = mdb_fail(rc, err, "opening the store");
		goto fail;
	}
	if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0) {
		rc = mdb_fail(rc, err, "opening the store");
		goto fail;
	}
	for (i = 0; i < DB__N; i++)
		if ((rc = mdb_dbi_open(txn, db_defs[i].name,
		    MDB_CREATE | db_defs[i].flags, &s->dbi[i])) != 0) {
			rc = mdb_fail(rc, err, db_defs[i].name);
			goto fail;
		}
	if ((rc = mdb_txn_commit(txn)) != 0) {
		txn = NULL;
		rc = mdb_fail(rc, err, "opening the store");
		goto fail;
	}
	*out = s;
	return 0;
fail:
	if (txn != NULL)
		mdb_txn_abort(txn);
	mdb_env_close(s->env);
	free(s);
	return rc;
}

void
store_close(struct store **s)
{
	if (*s == NULL)
		return;
	mdb_env_close((*s)->env);
	reckeys_close(&(*s)->keys);
	msgpack_sbuffer_destroy(&(*s)->scratch);
	if ((*s)->plain != NULL)
		sodium_memzero((*s)->plain, (*s)->plain_cap);
	free((*s)->plain);
	free(*s);
	*s = NULL;
}

void
store_usage(struct store *s, uint64_t *used, uint64_t *size)
{
	MDB_envinfo info;
	MDB_stat st;

	mdb_env_info(s->env, &info);
	mdb_env_stat(s->env, &st);
	*used = (uint64_t)(info.me_last_pgno + 1) * st.ms_psize;
	*size = info.me_mapsize;
}

int
store_txn_begin(struct store *s, MDB_txn *parent, bool write, MDB_txn **txn,
    struct cerr *err)
{
	int rc = mdb_txn_begin(s->env, parent, write ? 0 : MDB_RDONLY, txn);

	if (rc != 0)
		return mdb_fail(rc, err, "starting a transaction");
	if (parent == NULL && write)
		s->top = *txn;
	return 0;
}

static int keys_wipe_due(struct store *s, struct cerr *err);

/*
 * A top-level write commit makes the record keys it filled durable first
 * (the slots a commit names must hold their keys after a crash), and wipes
 * the keys of the people it erased after (see keys_wipe_due).
 */
int
store_txn_commit(MDB_txn **txn, struct cerr *err)
{
	struct store *s = mdb_env_get_userctx(mdb_txn_env(*txn));
	bool top = s != NULL && *txn == s->top;
	struct cerr werr = {0};
	int rc;

	if (top) {
		s->top = NULL;
		if (s->keys != NULL && (rc = reckeys_sync(s->keys, err)) != 0) {
			store_txn_abort(txn);
			return rc;
		}
	}
	rc = mdb_txn_commit(*txn);
	*txn = NULL;
	if (rc != 0)
		return mdb_fail(rc, err, "commit");
	/* The erasure is committed whatever happens to the wipe; a wipe
	 * that fails is tried again at the next commit and at start. */
	if (top && s->wipe_due && keys_wipe_due(s, &werr) != 0)
		fprintf(stderr, "carnet: wiping erased record keys: %s (tried "
		    "again at the next commit)\n", cerr_msg(&werr));
	return 0;
}

void
store_txn_abort(MDB_txn **txn)
{
	struct store *s;

	if (*txn == NULL)
		return;
	s = mdb_env_get_userctx(mdb_txn_env(*txn));
	if (s != NULL && *txn == s->top)
		s->top = NULL;
	mdb_txn_abort(*txn);
	*txn = NULL;
}

/* Put with a packer: pack into a buffer, then mdb_put. */
static int
put_packed(MDB_txn *txn, MDB_dbi dbi, MDB_val *k, msgpack_sbuffer *sb,
    unsigned flags, struct cerr *err, const char *what)
{
	MDB_val v = mval(sb->data, sb->size);
	int rc = mdb_put(txn, dbi, k, &v, flags);

	return rc == 0 ? 0 : mdb_fail(rc, err, what);
}

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
	rc = put_packed(txn, s->dbi[DB_PARTIES], &k, &sb, MDB_NOOVERWRITE, err,
	    "party");
	msgpack_sbuffer_destroy(&sb);
	if (rc != 0)
		return rc;
	k = mval(curve, 32);
	v = mval(p->id, ID_BYTES);
	if ((rc = mdb_put(txn, s->dbi[DB_CURVE], &k, &v, MDB_NOOVERWRITE)) != 0)
		return mdb_fail(rc, err, "party curve key");
	return 0;
}

int
store_party_get(struct store *s, MDB_txn *txn, const uint8_t id[ID_BYTES],
    struct party *p)
{
	MDB_val k = mval(id, ID_BYTES), v;
	int rc;

	if ((rc = mdb_get(txn, s->dbi[DB_PARTIES], &k, &v)) != 0)
		return mdb_fail(rc, NULL, "party");
	return party_decode(v.mv_data, v.mv_size, p, NULL);
}

int
store_party_by_curve(struct store *s, MDB_txn *txn, const uint8_t curve[32],
    uint8_t id[ID_BYTES])
{
	MDB_val k = mval(curve, 32), v;
	int rc;

	if ((rc = mdb_get(txn, s->dbi[DB_CURVE], &k, &v)) != 0)
		return mdb_fail(rc, NULL, "party");
	if (v.mv_size != ID_BYTES)
		return CARNET_E_STORE;
	memcpy(id, v.mv_data, ID_BYTES);
	return 0;
}

/*
 * Iterate over the keys of dbi that start with prefix (plen bytes), from
 * the key start (slen bytes, beginning with prefix).  fn gets each pair and
 * returns non-zero to stop; that value is returned.
 */
static int
scan_prefix(MDB_txn *txn, MDB_dbi dbi, const void *start, size_t slen,
    size_t plen, int (*fn)(void *arg, const MDB_val *k, const MDB_val *v),
    void *arg)
{
	MDB_cursor *c;
	MDB_val k = mval(start, slen), v;
	int rc, stop = 0;

	if ((rc = mdb_cursor_open(txn, dbi, &c)) != 0)
		return mdb_fail(rc, NULL, "cursor");
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
	return rc == 0 || rc == MDB_NOTFOUND ? 0 : mdb_fail(rc, NULL, "scan");
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

	return scan_prefix(txn, s->dbi[DB_PARTIES], NULL, 0, 0, party_scan_one,
	    &ps);
}

/* The next number of counter name (1 at first; not taken yet). */
static int
meta_peek(struct store *s, MDB_txn *txn, const char *name, uint64_t *n,
    struct cerr *err)
{
	MDB_val k = mval(name, strlen(name)), v;
	int rc;

	rc = mdb_get(txn, s->dbi[DB_META], &k, &v);
	if (rc == MDB_NOTFOUND)
		*n = 1;
	else if (rc != 0 || v.mv_size != 8)
		return mdb_fail(rc ? rc : MDB_CORRUPTED, err, name);
	else
		*n = be64_get(v.mv_data);
	return 0;
}

/* n (just peeked) is taken: the next one is n + 1. */
static int
meta_take(struct store *s, MDB_txn *txn, const char *name, uint64_t n,
    struct cerr *err)
{
	MDB_val k = mval(name, strlen(name)), v;
	uint8_t buf[8];
	int rc;

	be64_put(buf, n + 1);
	v = mval(buf, 8);
	if ((rc = mdb_put(txn, s->dbi[DB_META], &k, &v, 0)) != 0)
		return mdb_fail(rc, err, name);
	return 0;
}

static int
meta_next(struct store *s, MDB_txn *txn, const char *name, uint64_t *n,
    struct cerr *err)
{
	int rc = meta_peek(s, txn, name, n, err);

	return rc != 0 ? rc : meta_take(s, txn, name, *n, err);
}

#define META_SEQ "next_seq"
#define META_KEYSLOT "next_keyslot"

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
		return mdb_fail(rc == 0 ? MDB_CORRUPTED : rc, err,
		    "record key");
	if ((rc = mdb_cursor_open(txn, s->dbi[DB_KFREE], &c)) != 0)
		return mdb_fail(rc, err, "record key");
	rc = mdb_cursor_get(c, &fk, &fv, MDB_FIRST);
	if (rc == 0 && fk.mv_size == 8) {
		*slot = be64_get(fk.mv_data);
		rc = mdb_cursor_del(c, 0);
	}
	mdb_cursor_close(c);
	if (rc == MDB_NOTFOUND)
		rc = meta_next(s, txn, META_KEYSLOT, slot, err);
	else if (rc != 0 || fk.mv_size != 8)
		return mdb_fail(rc ? rc : MDB_CORRUPTED, err, "record key");
	if (rc != 0)
		return rc;
	if ((rc = reckeys_fill(s->keys, *slot, user, err)) != 0)
		return rc;
	be64_put(buf, *slot);
	v = mval(buf, 8);
	if ((rc = mdb_put(txn, s->dbi[DB_UKEYS], &k, &v, 0)) != 0)
		return mdb_fail(rc, err, "record key");
	return 0;
}

/* Seal plain (user's record at seq) straight into the map at key k. */
static int
record_seal_put(struct store *s, MDB_txn *txn, const uint8_t user[ID_BYTES],
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
	if ((rc = mdb_put(txn, s->dbi[DB_RECORDS], &k, &v,
	    flags | MDB_RESERVE)) != 0)
		return mdb_fail(rc, err, "record");
	return reckeys_seal(s->keys, slot, user, seq, plain, len, v.mv_data,
	    err);
}

int
store_record_put(struct store *s, MDB_txn *txn, const struct record *r,
    uint64_t *seq, bool *dup, struct cerr *err)
{
	uint8_t dkey[ID_BYTES + RECORD_REF_MAX_BYTES], skey[8];
	uint8_t ukey[ID_BYTES + 8], uval[URECS_VAL_BYTES];
	size_t reflen = strlen(r->ref);
	msgpack_sbuffer *sb;
	msgpack_packer pk;
	MDB_val k, v;
	int rc;

	*dup = false;
	memcpy(dkey, r->holder, ID_BYTES);
	memcpy(dkey + ID_BYTES, r->ref, reflen);
	k = mval(dkey, ID_BYTES + reflen);
	if ((rc = meta_peek(s, txn, META_SEQ, seq, err)) != 0)
		return rc;
	/* one lookup: a ref already stored answers with its seq */
	be64_put(skey, *seq);
	v = mval(skey, 8);
	rc = mdb_put(txn, s->dbi[DB_DEDUP], &k, &v, MDB_NOOVERWRITE);
	if (rc == MDB_KEYEXIST) {
		if (v.mv_size != 8)
			return mdb_fail(MDB_CORRUPTED, err, "dedup index");
		*seq = be64_get(v.mv_data);
		*dup = true;
		return 0;
	}
	if (rc != 0)
		return mdb_fail(rc, err, "dedup index");
	if ((rc = meta_take(s, txn, META_SEQ, *seq, err)) != 0)
		return rc;

	sb = scratch_packer(s, &pk);
	record_pack(&pk, r, FIELDS_ALL);
	if ((rc = record_seal_put(s, txn, r->user, *seq, sb->data, sb->size,
	    MDB_APPEND, err)) != 0)
		return rc;

	memcpy(ukey, r->user, ID_BYTES);
	be64_put(ukey + ID_BYTES, *seq);
	memcpy(uval, r->holder, ID_BYTES);
	uval[ID_BYTES] = (uint8_t)r->type->index;
	be64_put(uval + ID_BYTES + 1, (uint64_t)r->time);
	k = mval(ukey, sizeof(ukey));
	v = mval(uval, sizeof(uval));
	if ((rc = mdb_put(txn, s->dbi[DB_URECS], &k, &v, 0)) != 0)
		return mdb_fail(rc, err, "user stream");
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
		return mdb_fail(rc, err, "record");
	if (!reckeys_is_sealed(v.mv_data, v.mv_size))
		return cerr_set(err, CARNET_E_STORE, "record %llu is not sealed",
		    (unsigned long long)seq);
	if ((rc = ukey_slot(s, txn, user, false, &slot, err)) != 0)
		return rc;
	n = v.mv_size - RECKEYS_OVERHEAD;
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
		return mdb_fail(rc, NULL, "cursor");
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	mdb_cursor_close(c);
	if (rc == MDB_NOTFOUND || (rc == 0 && (k.mv_size != sizeof(key) ||
	    memcmp(k.mv_data, user, ID_BYTES) != 0)))
		return CARNET_E_NOT_FOUND;
	if (rc != 0)
		return mdb_fail(rc, NULL, "user stream");
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
		return mdb_fail(rc, NULL, "cursor");
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	if (rc == 0)
		rc = mdb_cursor_get(c, &k, &v, MDB_PREV);
	else if (rc == MDB_NOTFOUND)
		rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
	mdb_cursor_close(c);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return mdb_fail(rc, NULL, "user stream");
	if (k.mv_size == sizeof(key) && memcmp(k.mv_data, user, ID_BYTES) == 0)
		*seq = be64_get((const uint8_t *)k.mv_data + ID_BYTES);
	return 0;
}

/*
 * Take user's record key out of use: the slot waits in kwipe until this
 * transaction is committed, then is overwritten (keys_wipe_due).  Whatever
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
		return mdb_fail(rc ? rc : MDB_CORRUPTED, err, "record key");
	memcpy(slot, v.mv_data, 8);
	if ((rc = mdb_del(txn, s->dbi[DB_UKEYS], &k, NULL)) != 0)
		return mdb_fail(rc, err, "record key");
	k = mval(slot, 8);
	if ((rc = mdb_put(txn, s->dbi[DB_KWIPE], &k, &e, 0)) != 0)
		return mdb_fail(rc, err, "record key");
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
static int
keys_wipe_due(struct store *s, struct cerr *err)
{
	MDB_val k, v, e = mval("", 0);
	MDB_cursor *c = NULL;
	MDB_txn *txn;
	int rc;

	if (s->keys == NULL)
		return 0;
	if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0)
		return mdb_fail(rc, err, "wiping record keys");
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
		if ((rc = mdb_put(txn, s->dbi[DB_KFREE], &k, &e, 0)) != 0 ||
		    (rc = mdb_cursor_del(c, 0)) != 0)
			goto lmdb;
	}
	if (rc != MDB_NOTFOUND)
		goto lmdb;
	mdb_cursor_close(c);
	c = NULL;
	/* the zeros on disk before the slots may be handed out again */
	if ((rc = reckeys_sync(s->keys, err)) != 0)
		goto out;
	if ((rc = mdb_txn_commit(txn)) != 0) {
		txn = NULL;
		goto lmdb;
	}
	s->wipe_due = false;
	return 0;
lmdb:
	rc = mdb_fail(rc, err, "wiping record keys");
out:
	if (c != NULL)
		mdb_cursor_close(c);
	if (txn != NULL)
		mdb_txn_abort(txn);
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
		return mdb_fail(rc, err, "erase");
	k = mval(key, sizeof(key));
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	while (rc == 0 && k.mv_size == sizeof(key) &&
	    memcmp(k.mv_data, user, ID_BYTES) == 0) {
		memcpy(skey, (const uint8_t *)k.mv_data + ID_BYTES, 8);
		rk = mval(skey, 8);
		rc = mdb_del(txn, s->dbi[DB_RECORDS], &rk, NULL);
		if (rc != 0 && rc != MDB_NOTFOUND)
			break;
		if ((rc = mdb_cursor_del(c, 0)) != 0)
			break;
		(*count)++;
		/* After a delete, NEXT yields the item that followed it. */
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(c);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return mdb_fail(rc, err, "erase");
	return ukey_shred(s, txn, user, err);
}

static int
token_key_put(MDB_txn *txn, MDB_dbi dbi, const void *k, size_t klen,
    const void *v, size_t vlen, unsigned flags, struct cerr *err,
    const char *what)
{
	MDB_val mk = mval(k, klen), mv = mval(v, vlen);
	int rc = mdb_put(txn, dbi, &mk, &mv, flags);

	return rc == 0 ? 0 : mdb_fail(rc, err, what);
}

/* Key of a route: user, holder (zeros: any), type index. */
static void
route_key(uint8_t key[ID_BYTES * 2 + 1], const uint8_t user[ID_BYTES],
    const uint8_t *holder, const struct schema *type)
{
	memcpy(key, user, ID_BYTES);
	if (holder != NULL)
		memcpy(key + ID_BYTES, holder, ID_BYTES);
	else
		memset(key + ID_BYTES, 0, ID_BYTES);
	key[2 * ID_BYTES] = (uint8_t)type->index;
}

/* Add (del=false) or remove the routes of t. */
static int
token_routes(struct store *s, MDB_txn *txn, const struct token *t, bool del,
    struct cerr *err)
{
	uint8_t key[ID_BYTES * 2 + 1], val[ID_BYTES + TOKID_BYTES];
	unsigned h, i, nh = t->any_holder ? 1 : t->nholders;
	MDB_val k, v;
	int rc;

	memcpy(val, t->app, ID_BYTES);
	memcpy(val + ID_BYTES, t->id, TOKID_BYTES);
	for (i = 0; i < t->ntypes; i++)
		for (h = 0; h < nh; h++) {
			route_key(key, t->user, t->any_holder ? NULL :
			    t->holders[h], t->types[i].type);
			k = mval(key, sizeof(key));
			v = mval(val, sizeof(val));
			rc = del ? mdb_del(txn, s->dbi[DB_ROUTES], &k, &v) :
			    mdb_put(txn, s->dbi[DB_ROUTES], &k, &v, 0);
			if (rc != 0 && !(del && rc == MDB_NOTFOUND))
				return mdb_fail(rc, err, "routes");
		}
	return 0;
}

/* Token value: state(1) ended_at(8) erased_at(8) granted_at(8) blob. */
int
store_token_put(struct store *s, MDB_txn *txn, const struct token *t,
    const uint8_t *blob, size_t len, int64_t now, struct cerr *err)
{
	uint8_t gkey[ID_BYTES * 2 + TOKID_BYTES], ukey[ID_BYTES + TOKID_BYTES];
	uint8_t *val;
	int rc;

	if ((val = malloc(TOKSTATE_HDR_BYTES + len)) == NULL)
		return cerr_set(err, CARNET_E_NOMEM, "out of memory");
	val[0] = TOKEN_ACTIVE;
	be64_put(val + 1, 0);
	be64_put(val + 9, 0);
	be64_put(val + 17, (uint64_t)now);
	memcpy(val + TOKSTATE_HDR_BYTES, blob, len);
	rc = token_key_put(txn, s->dbi[DB_TOKENS], t->id, TOKID_BYTES, val,
	    TOKSTATE_HDR_BYTES + len, MDB_NOOVERWRITE, err, "token");
	free(val);
	if (rc != 0)
		return rc;
	memcpy(gkey, t->app, ID_BYTES);
	memcpy(gkey + ID_BYTES, t->user, ID_BYTES);
	memcpy(gkey + 2 * ID_BYTES, t->id, TOKID_BYTES);
	memcpy(ukey, t->user, ID_BYTES);
	memcpy(ukey + ID_BYTES, t->id, TOKID_BYTES);
	if ((rc = token_key_put(txn, s->dbi[DB_GRANTS], gkey, sizeof(gkey),
	    "", 0, 0, err, "grants")) != 0 ||
	    (rc = token_key_put(txn, s->dbi[DB_UTOKENS], ukey, sizeof(ukey),
	    t->app, ID_BYTES, 0, err, "user tokens")) != 0)
		return rc;
	return token_routes(s, txn, t, false, err);
}

int
store_token_get(struct store *s, MDB_txn *txn, const uint8_t id[TOKID_BYTES],
    struct token_state *st)
{
	MDB_val k = mval(id, TOKID_BYTES), v;
	const uint8_t *p;
	int rc;

	if ((rc = mdb_get(txn, s->dbi[DB_TOKENS], &k, &v)) != 0)
		return mdb_fail(rc, NULL, "token");
	if (v.mv_size <= TOKSTATE_HDR_BYTES)
		return CARNET_E_STORE;
	p = v.mv_data;
	switch (p[0]) {
	case TOKEN_ACTIVE:
	case TOKEN_REVOKED:
	case TOKEN_PAUSED:
	case TOKEN_EXPIRED:
		st->state = (enum token_state_kind)p[0];
		break;
	default:
		return CARNET_E_STORE;
	}
	st->ended_at = (int64_t)be64_get(p + 1);
	st->erased_at = (int64_t)be64_get(p + 9);
	st->granted_at = (int64_t)be64_get(p + 17);
	st->blob = p + TOKSTATE_HDR_BYTES;
	st->blob_len = v.mv_size - TOKSTATE_HDR_BYTES;
	return 0;
}

/* Rewrite a token's header as *st says, with a new blob if blob != NULL. */
static int
token_rewrite(struct store *s, MDB_txn *txn, const uint8_t id[TOKID_BYTES],
    const struct token_state *st, const uint8_t *blob, size_t len,
    struct cerr *err)
{
	uint8_t *val;
	int rc;

	if (blob == NULL) {
		blob = st->blob;
		len = st->blob_len;
	}
	if ((val = malloc(TOKSTATE_HDR_BYTES + len)) == NULL)
		return cerr_set(err, CARNET_E_NOMEM, "out of memory");
	val[0] = (uint8_t)st->state;
	be64_put(val + 1, (uint64_t)st->ended_at);
	be64_put(val + 9, (uint64_t)st->erased_at);
	be64_put(val + 17, (uint64_t)st->granted_at);
	memcpy(val + TOKSTATE_HDR_BYTES, blob, len);
	rc = token_key_put(txn, s->dbi[DB_TOKENS], id, TOKID_BYTES, val,
	    TOKSTATE_HDR_BYTES + len, 0, err, "token");
	free(val);
	return rc;
}

static int
token_state_for(struct store *s, MDB_txn *txn, const uint8_t id[TOKID_BYTES],
    struct token_state *st, struct cerr *err)
{
	int rc = store_token_get(s, txn, id, st);

	return rc == 0 ? 0 : cerr_set(err, rc, "token: %s",
	    carnet_strerror(rc));
}

int
store_token_end(struct store *s, MDB_txn *txn, const struct token *t,
    enum token_state_kind how, int64_t at, struct cerr *err)
{
	struct token_state st;
	int rc;

	if ((rc = token_state_for(s, txn, t->id, &st, err)) != 0)
		return rc;
	st.state = how;
	st.ended_at = at;
	if ((rc = token_rewrite(s, txn, t->id, &st, NULL, 0, err)) != 0)
		return rc;
	return token_routes(s, txn, t, true, err);
}

int
store_token_set_paused(struct store *s, MDB_txn *txn,
    const uint8_t id[TOKID_BYTES], bool paused, struct cerr *err)
{
	struct token_state st;
	int rc;

	if ((rc = token_state_for(s, txn, id, &st, err)) != 0)
		return rc;
	if (st.state == TOKEN_REVOKED || st.state == TOKEN_EXPIRED)
		return cerr_set(err, st.state == TOKEN_REVOKED ?
		    CARNET_E_REVOKED : CARNET_E_EXPIRED,
		    "this consent has ended: grant a new one");
	st.state = paused ? TOKEN_PAUSED : TOKEN_ACTIVE;
	return token_rewrite(s, txn, id, &st, NULL, 0, err);
}

int
store_token_erased(struct store *s, MDB_txn *txn,
    const uint8_t id[TOKID_BYTES], int64_t at, struct cerr *err)
{
	struct token_state st;
	int rc;

	if ((rc = token_state_for(s, txn, id, &st, err)) != 0)
		return rc;
	if (st.state != TOKEN_REVOKED && st.state != TOKEN_EXPIRED)
		return cerr_set(err, CARNET_E_BAD_ARG,
		    "this consent has not ended: nothing to erase yet");
	if (st.erased_at != 0)
		return 0;
	st.erased_at = at;
	return token_rewrite(s, txn, id, &st, NULL, 0, err);
}

int
store_token_replace(struct store *s, MDB_txn *txn, const struct token *t,
    const uint8_t *blob, size_t len, struct cerr *err)
{
	struct token_state st;
	int rc;

	if ((rc = token_state_for(s, txn, t->id, &st, err)) != 0)
		return rc;
	return token_rewrite(s, txn, t->id, &st, blob, len, err);
}

/* Timers: time(8) kind(1) token(16) -> "". */
static void
timer_key(uint8_t key[TIMER_KEY_BYTES], int64_t at, enum timer_kind kind,
    const uint8_t tok[TOKID_BYTES])
{
	be64_put(key, (uint64_t)(at < 0 ? 0 : at));
	key[8] = (uint8_t)kind;
	memcpy(key + 9, tok, TOKID_BYTES);
}

int
store_timer_put(struct store *s, MDB_txn *txn, int64_t at,
    enum timer_kind kind, const uint8_t tok[TOKID_BYTES], struct cerr *err)
{
	uint8_t key[TIMER_KEY_BYTES];

	timer_key(key, at, kind, tok);
	return token_key_put(txn, s->dbi[DB_TIMERS], key, sizeof(key), "", 0, 0,
	    err, "timers");
}

int
store_timer_del(struct store *s, MDB_txn *txn, int64_t at,
    enum timer_kind kind, const uint8_t tok[TOKID_BYTES], struct cerr *err)
{
	uint8_t key[TIMER_KEY_BYTES];
	MDB_val k;
	int rc;

	timer_key(key, at, kind, tok);
	k = mval(key, sizeof(key));
	rc = mdb_del(txn, s->dbi[DB_TIMERS], &k, NULL);
	return rc == 0 || rc == MDB_NOTFOUND ? 0 : mdb_fail(rc, err, "timers");
}

int
store_timer_first(struct store *s, MDB_txn *txn, int64_t *at,
    enum timer_kind *kind, uint8_t tok[TOKID_BYTES])
{
	MDB_cursor *c;
	MDB_val k, v;
	const uint8_t *p;
	int rc;

	if ((rc = mdb_cursor_open(txn, s->dbi[DB_TIMERS], &c)) != 0)
		return mdb_fail(rc, NULL, "timers");
	rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
	mdb_cursor_close(c);
	if (rc != 0)
		return mdb_fail(rc, NULL, "timers");
	if (k.mv_size != TIMER_KEY_BYTES)
		return CARNET_E_STORE;
	p = k.mv_data;
	*at = (int64_t)be64_get(p);
	*kind = (enum timer_kind)p[8];
	memcpy(tok, p + 9, TOKID_BYTES);
	return 0;
}

/* Delegations: delegs user(32) to(32) -> state(1) ended_at(8) blob;
 * delegs_to to(32) user(32) -> "". */
int
store_deleg_put(struct store *s, MDB_txn *txn, const struct delegation *d,
    const uint8_t *blob, size_t len, struct cerr *err)
{
	uint8_t key[2 * ID_BYTES], *val;
	int rc;

	if ((val = malloc(9 + len)) == NULL)
		return cerr_set(err, CARNET_E_NOMEM, "out of memory");
	val[0] = DELEG_LIVE;
	be64_put(val + 1, 0);
	memcpy(val + 9, blob, len);
	memcpy(key, d->user, ID_BYTES);
	memcpy(key + ID_BYTES, d->to, ID_BYTES);
	rc = token_key_put(txn, s->dbi[DB_DELEGS], key, sizeof(key), val,
	    9 + len, 0, err, "delegations");
	free(val);
	if (rc != 0)
		return rc;
	memcpy(key, d->to, ID_BYTES);
	memcpy(key + ID_BYTES, d->user, ID_BYTES);
	return token_key_put(txn, s->dbi[DB_DELEGS_TO], key, sizeof(key), "", 0,
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
		return mdb_fail(rc, NULL, "delegations");
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
	if ((val = malloc(9 + ds.blob_len)) == NULL)
		return cerr_set(err, CARNET_E_NOMEM, "out of memory");
	val[0] = DELEG_ENDED;
	be64_put(val + 1, (uint64_t)at);
	memcpy(val + 9, ds.blob, ds.blob_len);
	memcpy(key, user, ID_BYTES);
	memcpy(key + ID_BYTES, to, ID_BYTES);
	rc = token_key_put(txn, s->dbi[DB_DELEGS], key, sizeof(key), val,
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

	return scan_prefix(txn, s->dbi[to_me ? DB_DELEGS_TO : DB_DELEGS], id,
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

	if (len == 0) {
		rc = mdb_del(txn, s->dbi[DB_CARDS], &k, NULL);
		return rc == 0 || rc == MDB_NOTFOUND ? 0 :
		    mdb_fail(rc, err, "emergency card");
	}
	return token_key_put(txn, s->dbi[DB_CARDS], user, ID_BYTES, card, len,
	    0, err, "emergency card");
}

int
store_card_get(struct store *s, MDB_txn *txn, const uint8_t user[ID_BYTES],
    MDB_val *card)
{
	MDB_val k = mval(user, ID_BYTES);
	int rc = mdb_get(txn, s->dbi[DB_CARDS], &k, card);

	return rc == 0 ? 0 : mdb_fail(rc, NULL, "emergency card");
}

int
store_opening_put(struct store *s, MDB_txn *txn, const uint8_t user[ID_BYTES],
    const uint8_t app[ID_BYTES], int64_t until, struct cerr *err)
{
	uint8_t key[2 * ID_BYTES], val[8];

	memcpy(key, user, ID_BYTES);
	memcpy(key + ID_BYTES, app, ID_BYTES);
	be64_put(val, (uint64_t)until);
	return token_key_put(txn, s->dbi[DB_OPENINGS], key, sizeof(key), val,
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
		return mdb_fail(rc, NULL, "emergency openings");
	if (v.mv_size != 8)
		return CARNET_E_STORE;
	*until = (int64_t)be64_get(v.mv_data);
	return 0;
}

struct tok_scan {
	int (*app_fn)(void *, const uint8_t *, const uint8_t *);
	int (*user_fn)(void *, const uint8_t *);
	void *arg;
};

static int
app_tok_one(void *arg, const MDB_val *k, const MDB_val *v)
{
	struct tok_scan *ts = arg;
	const uint8_t *p = k->mv_data;

	(void)v;
	if (k->mv_size != 2 * ID_BYTES + TOKID_BYTES)
		return CARNET_E_STORE;
	return ts->app_fn(ts->arg, p + ID_BYTES, p + 2 * ID_BYTES);
}

int
store_tokens_of_app(struct store *s, MDB_txn *txn, const uint8_t app[ID_BYTES],
    int (*fn)(void *arg, const uint8_t user[ID_BYTES],
    const uint8_t tok[TOKID_BYTES]), void *arg)
{
	struct tok_scan ts = {fn, NULL, arg};

	return scan_prefix(txn, s->dbi[DB_GRANTS], app, ID_BYTES, ID_BYTES,
	    app_tok_one, &ts);
}

static int
user_tok_one(void *arg, const MDB_val *k, const MDB_val *v)
{
	struct tok_scan *ts = arg;

	(void)v;
	if (k->mv_size != ID_BYTES + TOKID_BYTES)
		return CARNET_E_STORE;
	return ts->user_fn(ts->arg, (const uint8_t *)k->mv_data + ID_BYTES);
}

int
store_tokens_of_user(struct store *s, MDB_txn *txn,
    const uint8_t user[ID_BYTES],
    int (*fn)(void *arg, const uint8_t tok[TOKID_BYTES]), void *arg)
{
	struct tok_scan ts = {NULL, fn, arg};

	return scan_prefix(txn, s->dbi[DB_UTOKENS], user, ID_BYTES, ID_BYTES,
	    user_tok_one, &ts);
}

int
store_routes(struct store *s, MDB_txn *txn, const uint8_t user[ID_BYTES],
    const uint8_t holder[ID_BYTES], const struct schema *type,
    int (*fn)(void *arg, const uint8_t app[ID_BYTES],
    const uint8_t tok[TOKID_BYTES]), void *arg)
{
	uint8_t key[ID_BYTES * 2 + 1];
	MDB_cursor *c;
	MDB_val k, v;
	int pass, rc, stop = 0;

	if ((rc = mdb_cursor_open(txn, s->dbi[DB_ROUTES], &c)) != 0)
		return mdb_fail(rc, NULL, "cursor");
	/* Routes for this holder, then routes for any holder. */
	for (pass = 0; pass < 2 && stop == 0; pass++) {
		route_key(key, user, pass == 0 ? holder : NULL, type);
		k = mval(key, sizeof(key));
		rc = mdb_cursor_get(c, &k, &v, MDB_SET_KEY);
		while (rc == 0 && stop == 0) {
			if (v.mv_size != ID_BYTES + TOKID_BYTES) {
				stop = CARNET_E_STORE;
				break;
			}
			stop = fn(arg, v.mv_data,
			    (const uint8_t *)v.mv_data + ID_BYTES);
			rc = mdb_cursor_get(c, &k, &v, MDB_NEXT_DUP);
		}
		if (rc != 0 && rc != MDB_NOTFOUND && stop == 0)
			stop = mdb_fail(rc, NULL, "routes");
	}
	mdb_cursor_close(c);
	return stop;
}

int
store_cursor_get(struct store *s, MDB_txn *txn, const uint8_t tok[TOKID_BYTES],
    uint64_t *seq)
{
	MDB_val k = mval(tok, TOKID_BYTES), v;
	int rc = mdb_get(txn, s->dbi[DB_CURSORS], &k, &v);

	*seq = 0;
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0 || v.mv_size != 8)
		return mdb_fail(rc ? rc : MDB_CORRUPTED, NULL, "cursor");
	*seq = be64_get(v.mv_data);
	return 0;
}

int
store_cursor_advance(struct store *s, MDB_txn *txn,
    const uint8_t tok[TOKID_BYTES], uint64_t seq, struct cerr *err)
{
	uint8_t buf[8];
	uint64_t cur;
	int rc;

	if ((rc = store_cursor_get(s, txn, tok, &cur)) != 0)
		return cerr_set(err, rc, "cursor: %s", carnet_strerror(rc));
	if (seq <= cur)
		return 0;
	be64_put(buf, seq);
	return token_key_put(txn, s->dbi[DB_CURSORS], tok, TOKID_BYTES, buf, 8,
	    0, err, "cursor");
}

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
#define HEADS_SEALED "heads_sealed"

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

static int
head_put(struct store *s, MDB_txn *txn, const uint8_t user[ID_BYTES],
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
	if ((rc = mdb_put(txn, s->dbi[DB_HEADS], &k, &v, 0)) != 0)
		return mdb_fail(rc, err, "log head");
	return 0;
}

/* A store from before sealed heads: seal each log's last entry once. */
static int
heads_seal_once(struct store *s, uint64_t *sealed, struct cerr *err)
{
	uint8_t key[ID_BYTES + 8], hash[HASH_BYTES];
	MDB_val k = mval(HEADS_SEALED, strlen(HEADS_SEALED)), v, lk, lv;
	MDB_cursor *c = NULL;
	MDB_txn *txn;
	int rc;

	*sealed = 0;
	if ((rc = store_txn_begin(s, NULL, true, &txn, err)) != 0)
		return rc;
	rc = mdb_get(txn, s->dbi[DB_META], &k, &v);
	if (rc != MDB_NOTFOUND) {
		store_txn_abort(&txn);
		return rc == 0 ? 0 : mdb_fail(rc, err, "log heads");
	}
	/* A store from before sealed heads: seal each log's last entry once,
	 * trusting the files as they are now (said in the broker's log). */
	if ((rc = mdb_cursor_open(txn, s->dbi[DB_USELOG], &c)) != 0) {
		rc = mdb_fail(rc, err, "log heads");
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
		if ((rc = head_put(s, txn, key, be64_get((const uint8_t *)
		    lk.mv_data + ID_BYTES), hash, err)) != 0)
			goto out;
		(*sealed)++;
		rc = mdb_cursor_get(c, &lk, &lv, MDB_NEXT);
	}
	if (rc != MDB_NOTFOUND) {
		rc = mdb_fail(rc, err, "log heads");
		goto out;
	}
	v = mval("1", 1);
	if ((rc = mdb_put(txn, s->dbi[DB_META], &k, &v, 0)) != 0) {
		rc = mdb_fail(rc, err, "log heads");
		goto out;
	}
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
	MDB_val mk = mval(RECORDS_SEALED, strlen(RECORDS_SEALED)), k, v;
	uint8_t from[ID_BYTES + 8], key[8];
	MDB_cursor *c = NULL;
	MDB_txn *txn = NULL;
	uint8_t *plain = NULL;
	size_t n, cap = 0;
	uint64_t seq;
	unsigned done;
	int rc;

	*count = 0;
	memset(from, 0, sizeof(from));
	for (;;) {
		if ((rc = store_txn_begin(s, NULL, true, &txn, err)) != 0)
			goto out;
		rc = mdb_get(txn, s->dbi[DB_META], &mk, &v);
		if (rc != MDB_NOTFOUND) {
			rc = rc == 0 ? 0 : mdb_fail(rc, err, "sealing records");
			goto out;
		}
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
				if ((rc = record_seal_put(s, txn, from, seq,
				    plain, n, 0, err)) != 0)
					goto out;
				(*count)++;
			}
			rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
		}
		mdb_cursor_close(c);
		c = NULL;
		if (rc == MDB_NOTFOUND) {
			v = mval("1", 1);
			if ((rc = mdb_put(txn, s->dbi[DB_META], &mk, &v,
			    0)) != 0)
				goto lmdb;
			if ((rc = store_txn_commit(&txn, err)) != 0)
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
	    mdb_fail(rc, err, "sealing records");
out:
	if (c != NULL)
		mdb_cursor_close(c);
	store_txn_abort(&txn);
	if (plain != NULL)
		sodium_memzero(plain, cap);
	free(plain);
	return rc;
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
	if ((rc = reckeys_open(path, secret, &s->keys, err)) != 0)
		return rc;
	/* erasures committed just before a crash: their keys go now */
	if ((rc = keys_wipe_due(s, err)) != 0 ||
	    (rc = heads_seal_once(s, &up->heads_sealed, err)) != 0)
		return rc;
	return records_seal_once(s, &up->records_sealed, err);
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
		return mdb_fail(rc, err, "log head");
	if (rc == 0) {
		last_seq = be64_get((const uint8_t *)k.mv_data + ID_BYTES);
		uselog_hash(v.mv_data, v.mv_size, last_hash);
	} else {
		memset(last_hash, 0, HASH_BYTES);
	}
	hrc = mdb_get(txn, s->dbi[DB_HEADS], &hk, &hv);
	if (hrc != 0 && hrc != MDB_NOTFOUND)
		return mdb_fail(hrc, err, "log head");
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
	memcpy(key, user, ID_BYTES);
	be64_put(key + ID_BYTES, e->seq);
	sb = scratch_packer(s, &pk);
	uselog_pack(&pk, e);
	uselog_hash(sb->data, sb->size, h);
	if (hash != NULL)
		memcpy(hash, h, HASH_BYTES);
	k = mval(key, sizeof(key));
	/* NOOVERWRITE: a head read from a stale cache fails, never forks */
	if ((rc = put_packed(txn, s->dbi[DB_USELOG], &k, sb, MDB_NOOVERWRITE,
	    err, "use log")) != 0)
		return rc;
	return head_put(s, txn, user, e->seq, h, err);
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
	rc = scan_prefix(txn, dbi, key, sizeof(key), ID_BYTES, log_scan_one,
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

	if ((rc = meta_next(s, txn, META_SEQ, &seq, err)) != 0)
		return rc;
	memcpy(key, user, ID_BYTES);
	be64_put(key + ID_BYTES, seq);
	return token_key_put(txn, s->dbi[DB_REQUESTS], key, sizeof(key), req,
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
		return mdb_fail(rc, err, "request");
	if (msgpack_sbuffer_write(req, v.mv_data, v.mv_size) != 0)
		return cerr_set(err, CARNET_E_NOMEM, "request: out of memory");
	rc = mdb_del(txn, s->dbi[DB_REQUESTS], &k, NULL);
	return rc == 0 ? 0 : mdb_fail(rc, err, "request");
}

int
store_stat_add(struct store *s, MDB_txn *txn, const char *key, uint64_t n,
    struct cerr *err)
{
	MDB_val k = mval(key, strlen(key)), v;
	uint8_t buf[8];
	uint64_t cur = 0;
	int rc = mdb_get(txn, s->dbi[DB_STATS], &k, &v);

	if (rc == 0 && v.mv_size == 8)
		cur = be64_get(v.mv_data);
	else if (rc != MDB_NOTFOUND)
		return mdb_fail(rc ? rc : MDB_CORRUPTED, err, "stats");
	be64_put(buf, cur + n);
	return token_key_put(txn, s->dbi[DB_STATS], key, strlen(key), buf, 8, 0,
	    err, "stats");
}

struct stat_scan {
	int (*fn)(void *, const char *, uint64_t);
	void *arg;
};

static int
stat_scan_one(void *arg, const MDB_val *k, const MDB_val *v)
{
	struct stat_scan *ss = arg;
	char key[256];

	if (v->mv_size != 8 || k->mv_size >= sizeof(key))
		return CARNET_E_STORE;
	memcpy(key, k->mv_data, k->mv_size);
	key[k->mv_size] = '\0';
	return ss->fn(ss->arg, key, be64_get(v->mv_data));
}

int
store_stats_foreach(struct store *s, MDB_txn *txn,
    int (*fn)(void *arg, const char *key, uint64_t n), void *arg)
{
	struct stat_scan ss = {fn, arg};

	return scan_prefix(txn, s->dbi[DB_STATS], NULL, 0, 0, stat_scan_one,
	    &ss);
}
