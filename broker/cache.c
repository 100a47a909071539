/*
 * cache.c: what the loop keeps in memory instead of reading LMDB again:
 * parties by id, decoded tokens, the last record seq per person, and the
 * head of each person's use log (appending an entry needs the previous
 * entry's seq and hash; the broker writes every entry itself, through
 * ulog_append, so it keeps each head as it appends).
 *
 * Each is bounded: at the start of a turn, when no pointer into a cache
 * is held, the oldest entries beyond b->cache_max go (uthash keeps the
 * order they came in).  Memory stays what the operator chose, whatever
 * the number of people; a miss costs one LMDB read.
 *
 * Only what commits is true: after any abort, nested or not, the loop
 * calls cache_rollback, and the caches are read again from LMDB on
 * demand.  The records stored lately are kept in the clear (recent.c):
 * those of the turn being written go with any abort.  A stale head could still not fork a chain: the append refuses
 * an existing key.  Parties are never written by the broker, so a
 * rollback keeps them.
 */
#include <stdlib.h>
#include <string.h>

#include "../common/mpk.h"
#include "../common/text.h"
#include "../policy/consent.h"
#include "broker.h"

int
party_cached(struct broker *b, MDB_txn *txn, const uint8_t id[ID_BYTES],
    const struct party **p)
{
	struct party_entry *e = NULL;
	int rc;

	HASH_FIND(hh, b->parties, id, ID_BYTES, e);
	if (e == NULL) {
		if ((e = calloc(1, sizeof(*e))) == NULL)
			return CARNET_E_NOMEM;
		if ((rc = store_party_get(b->store, txn, id, &e->p)) != 0) {
			free(e);
			return rc;
		}
		memcpy(e->id, id, ID_BYTES);
		HASH_ADD(hh, b->parties, id, ID_BYTES, e);
	}
	*p = &e->p;
	return 0;
}

int
token_cached(struct broker *b, const uint8_t id[TOKID_BYTES],
    const struct token_state *st, const struct token **t)
{
	struct token_entry *e = NULL;
	int rc;

	HASH_FIND(hh, b->tokens, id, TOKID_BYTES, e);
	if (e == NULL) {
		if ((e = malloc(sizeof(*e))) == NULL)
			return CARNET_E_NOMEM;
		/* The signature was checked at GRANT; the stored bytes are
		 * ours. */
		if ((rc = token_peek(st->blob, st->blob_len, &e->t,
		    NULL)) != 0) {
			free(e);
			return rc;
		}
		memcpy(e->id, id, TOKID_BYTES);
		HASH_ADD(hh, b->tokens, id, TOKID_BYTES, e);
	}
	*t = &e->t;
	return 0;
}

void
token_forget(struct broker *b, const uint8_t id[TOKID_BYTES])
{
	struct token_entry *e = NULL;

	HASH_FIND(hh, b->tokens, id, TOKID_BYTES, e);
	if (e != NULL) {
		HASH_DEL(b->tokens, e);
		free(e);
	}
}

/* The oldest entries of a uthash table beyond max, freed. */
#define TRIM(head, max) do {						\
	while (HASH_COUNT(head) > (max)) {				\
		__typeof__(head) old_ = (head);				\
		HASH_DEL((head), old_);					\
		free(old_);						\
	}								\
} while (0)

void
cache_trim(struct broker *b)
{
	/* the turn before committed, or its abort rolled the ring back */
	recent_commit(&b->recent);
	TRIM(b->parties, b->cache_max);
	TRIM(b->tokens, b->cache_max);
	TRIM(b->ulast, b->cache_max);
	TRIM(b->heads, b->cache_max);
}

int
user_last_get(struct broker *b, MDB_txn *txn, const uint8_t user[ID_BYTES],
    uint64_t *seq)
{
	struct user_last *u = NULL;
	int rc;

	HASH_FIND(hh, b->ulast, user, ID_BYTES, u);
	if (u != NULL) {
		*seq = u->seq;
		return 0;
	}
	if ((rc = store_user_last(b->store, txn, user, seq)) != 0)
		return rc;
	user_last_set(b, user, *seq);
	return 0;
}

void
user_last_set(struct broker *b, const uint8_t user[ID_BYTES], uint64_t seq)
{
	struct user_last *u = NULL;

	HASH_FIND(hh, b->ulast, user, ID_BYTES, u);
	if (u == NULL) {
		if ((u = calloc(1, sizeof(*u))) == NULL)
			return; /* a cache miss later reads the store */
		memcpy(u->user, user, ID_BYTES);
		HASH_ADD(hh, b->ulast, user, ID_BYTES, u);
	}
	if (seq > u->seq)
		u->seq = seq;
}


static int
head_cached(struct broker *b, MDB_txn *txn, const uint8_t user[ID_BYTES],
    struct log_head **hp, struct cerr *err)
{
	struct log_head *h = NULL;
	int rc;

	HASH_FIND(hh, b->heads, user, ID_BYTES, h);
	if (h == NULL) {
		if ((h = calloc(1, sizeof(*h))) == NULL)
			return cerr_set(err, CARNET_E_NOMEM, "out of memory");
		memcpy(h->user, user, ID_BYTES);
		if ((rc = store_log_head(b->store, txn, user, &h->seq,
		    h->hash, err)) != 0) {
			free(h);
			return rc;
		}
		HASH_ADD(hh, b->heads, user, ID_BYTES, h);
	}
	*hp = h;
	return 0;
}

int
ulog_head_load(struct broker *b, MDB_txn *txn, const uint8_t user[ID_BYTES],
    struct cerr *err)
{
	struct log_head *h;

	return head_cached(b, txn, user, &h, err);
}

int
ulog_append(struct broker *b, MDB_txn *txn,
    const uint8_t user[ID_BYTES], struct uselog_entry *e, struct cerr *err)
{
	struct log_head *h;
	int rc;

	if ((rc = head_cached(b, txn, user, &h, err)) != 0)
		return rc;
	if ((rc = store_log_append_after(b->store, txn, user, e, h->seq,
	    h->hash, h->hash, err)) != 0) {
		cache_rollback(b);
		return rc;
	}
	h->seq = e->seq;
	return 0;
}

void
cache_rollback(struct broker *b)
{
	TRIM(b->heads, 0);
	TRIM(b->ulast, 0);
	/* a renewal that did not commit may have been decoded */
	TRIM(b->tokens, 0);
	/* records put since the turn began: their seqs may be given again */
	recent_rollback(&b->recent);
}

void
cache_free(struct broker *b)
{
	cache_rollback(b);
	TRIM(b->parties, 0);
	recent_release(&b->recent);
}

int
record_open(struct broker *b, MDB_txn *txn, const uint8_t user[ID_BYTES],
    uint64_t seq, MDB_val *v, struct cerr *err)
{
	if (recent_get(&b->recent, user, seq, v)) {
		b->n_from_memory++;
		return 0;
	}
	b->n_opened++;
	return store_record_get(b->store, txn, user, seq, v, err);
}
