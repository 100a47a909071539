/*
 * store_int.h: what the store's files share, and nothing outside the store
 * sees: the databases, the store itself, byte-order and LMDB helpers.
 * The layout of each database is in store.h.
 */
#ifndef CARNET_STORE_INT_H
#define CARNET_STORE_INT_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include <lmdb.h>
#include <msgpack.h>

#include "../common/error.h"
#include "reckeys.h"
#include "store.h"

enum {
	DB_META, DB_PARTIES, DB_CURVE, DB_TOKENS, DB_GRANTS, DB_UTOKENS,
	DB_RECORDS, DB_URECS, DB_DEDUP, DB_CURSORS, DB_USELOG,
	DB_REQUESTS, DB_STATS, DB_TIMERS, DB_DELEGS, DB_DELEGS_TO, DB_CARDS,
	DB_OPENINGS, DB_HEADS, DB_UKEYS, DB_KFREE, DB_KWIPE, DB_DUE, DB_UNERASED,
	DB_REFUSALS, DB__N
};

#define WSET_NEST_MAX 32
#define WSET_DBI_MAX 64

/* The write set of the open top-level write transaction (wset.c). */
struct wset {
	uint8_t *buf;
	size_t len, cap;
	MDB_txn *nest[WSET_NEST_MAX];  /* the nested write txns open */
	size_t mark[WSET_NEST_MAX];    /* len when each began */
	int depth;
	bool active;                   /* capturing the open top txn */
	bool turns;                    /* turn mode: capture always */
	bool broken;                   /* nested too deep: not a whole set */
	uint8_t db_of[WSET_DBI_MAX];   /* MDB_dbi -> DB_* + 1, 0: none */
	store_wset_fn *sink;
	void *arg;
};

struct store {
	MDB_env *env;
	MDB_dbi dbi[DB__N];
	/* where records and log entries are packed before their put: kept
	 * between calls (a store is used by one thread) */
	msgpack_sbuffer scratch;
	/* the broker's key for sealing log heads (store_set_key) */
	uint8_t seal_key[HASH_BYTES];
	bool sealing;
	/* the key of the opaque refs apps see (store_ref_key) */
	uint8_t ref_key[RECORD_REF_KEY_BYTES];
	bool has_ref_key;
	char path[PATH_MAX];       /* DIR/store */
	/* the per-person record keys (reckeys.h), open once the broker key
	 * is known (store_set_key) */
	struct reckeys *keys;
	MDB_txn *top;              /* the top-level write txn, if one is open */
	bool wipe_due;             /* an erasure committed: wipe its key */
	/* withdrawals (store_withdrawals) as of the last top-level commit,
	 * and whether the open top-level txn counted one */
	uint64_t withdrawals;
	bool withdrawing;
	struct wset ws;
	/* turn mode (turns.c): the open checkpoint transaction, the turn log's
	 * generation it will close, the turns since */
	MDB_txn *ckpt;
	uint64_t wal_gen;
	uint64_t turns_open;
	uint8_t *plain;            /* where store_record_get opens a record */
	size_t plain_cap;
};

#define URECS_VAL_BYTES (ID_BYTES + 1 + 8)

#define TOKSTATE_HDR_BYTES 25

#define TIMER_KEY_BYTES (8 + 1 + TOKID_BYTES)

#define META_SEQ "next_seq"

#define META_KEYSLOT "next_keyslot"

#define META_REF_KEY "ref_key"
/* the generation of the turn log whose entries come after this state */
#define META_WAL_GEN "wal_gen"
/* one more than the withdrawals committed (store_withdrawals) */
#define META_WITHDRAWALS "next_withdrawal"

static inline void
be64_put(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static inline uint64_t
be64_get(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

static inline MDB_val
mval(const void *p, size_t n)
{
	MDB_val v = {n, (void *)p};

	return v;
}

/*
 * wset.c: every write of the store, captured into the write set of its
 * top-level transaction when a sink is set.  LMDB's return codes (0,
 * MDB_*, EINVAL for a write outside a captured transaction, ENOMEM).
 * st_mdb_reserve is mdb_put with MDB_RESERVE: once the value is filled,
 * st_wset_filled notes it.
 */
int st_mdb_put(MDB_txn *txn, MDB_dbi dbi, MDB_val *k, MDB_val *v,
    unsigned flags);
int st_mdb_reserve(MDB_txn *txn, MDB_dbi dbi, MDB_val *k, MDB_val *v,
    unsigned flags);
int st_wset_filled(MDB_txn *txn, MDB_dbi dbi, const MDB_val *k,
    const MDB_val *v);
int st_mdb_del(MDB_txn *txn, MDB_dbi dbi, MDB_val *k);
int st_mdb_cursor_del(MDB_cursor *c);
/* The hooks of store_txn_*: a write txn begun (parent NULL: top level), a
 * nested one ended, the top one ended (the sink called when committed);
 * whether the set is whole; the dbi table, once the databases are open. */
void st_wset_begin(struct store *s, MDB_txn *txn, MDB_txn *parent);
void st_wset_nested_end(struct store *s, MDB_txn *txn, bool committed);
bool st_wset_ok(const struct store *s);
void st_wset_top_end(struct store *s, bool committed);
void st_wset_index(struct store *s);
void st_wset_take(struct store *s, const uint8_t **ws, size_t *len);
void st_wset_free(struct store *s);

/* The scratch buffer, emptied, and a packer on it. */
msgpack_sbuffer *st_scratch(struct store *s, msgpack_packer *pk);
/* Map an LMDB return code to ours, with a message saying what failed. */
int st_fail(int rc, struct cerr *err, const char *what);
/* Put with a packer: pack into a buffer, then mdb_put. */
int st_put_packed(MDB_txn *txn, MDB_dbi dbi, MDB_val *k, msgpack_sbuffer *sb,
    unsigned flags, struct cerr *err, const char *what);
int st_key_put(MDB_txn *txn, MDB_dbi dbi, const void *k, size_t klen,
    const void *v, size_t vlen, unsigned flags, struct cerr *err,
    const char *what);
/* Call fn for every key of dbi from start (slen bytes; 0: the first)
 * whose first plen bytes are start's; fn returns non-zero to stop, and
 * that value is returned. */
int st_scan_prefix(MDB_txn *txn, MDB_dbi dbi, const void *start, size_t slen,
    size_t plen, int (*fn)(void *arg, const MDB_val *k, const MDB_val *v),
    void *arg);
/* Counters in meta: the next number (1 at first), taken or not. */
int st_meta_peek(struct store *s, MDB_txn *txn, const char *name, uint64_t *n,
    struct cerr *err);
int st_meta_take(struct store *s, MDB_txn *txn, const char *name, uint64_t n,
    struct cerr *err);
int st_meta_next(struct store *s, MDB_txn *txn, const char *name, uint64_t *n,
    struct cerr *err);
/* util.c: one more withdrawal (a consent ended or paused, records
 * erased, a delegation ended or narrowed, a card changed) in txn. */
int st_withdrawn(struct store *s, MDB_txn *txn, struct cerr *err)
    __attribute__((warn_unused_result));
/* records.c: erased people's record keys overwritten (after a commit, at
 * start); a record sealed under user's key and put at seq. */
int st_keys_wipe_due(struct store *s, struct cerr *err);
int st_record_seal_put(struct store *s, MDB_txn *txn,
    const uint8_t user[ID_BYTES], uint64_t seq, const void *plain,
    size_t len, unsigned flags, struct cerr *err);
/* due.c: whether (app, tok) is in the due index (*has), or an error. */
int st_due_has(struct store *s, MDB_txn *txn, const uint8_t app[ID_BYTES],
    const uint8_t tok[TOKID_BYTES], bool *has, struct cerr *err)
    __attribute__((warn_unused_result));
/* due.c: the index of ended tokens whose erasure is not confirmed. */
int st_unerased_put(struct store *s, MDB_txn *txn, const uint8_t app[ID_BYTES],
    const uint8_t tok[TOKID_BYTES], const uint8_t user[ID_BYTES],
    struct cerr *err) __attribute__((warn_unused_result));
int st_unerased_del(struct store *s, MDB_txn *txn, const uint8_t app[ID_BYTES],
    const uint8_t tok[TOKID_BYTES], struct cerr *err)
    __attribute__((warn_unused_result));
/* uselogs.c: user's log head set to (seq, hash), sealed. */
int st_head_put(struct store *s, MDB_txn *txn, const uint8_t user[ID_BYTES],
    uint64_t seq, const uint8_t hash[HASH_BYTES], struct cerr *err);

#endif
