/*
 * loghead.c: the use-log head cache.
 *
 * Appending an entry needs the previous entry's seq and hash.  Reading
 * them back means a cursor seek and a re-hash per delivery; the broker
 * writes every entry itself, so it keeps each person's head in memory,
 * updated as it appends.  What an aborted transaction wrote is gone, and
 * the cache with it: every abort calls log_heads_forget.  A stale head
 * could still not fork a chain: the append refuses an existing key.
 */
#include <stdlib.h>
#include <string.h>

#include "broker.h"

int
broker_log_append(struct broker *b, MDB_txn *txn,
    const uint8_t user[ID_BYTES], struct uselog_entry *e, struct cerr *err)
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
	if ((rc = store_log_append_after(b->store, txn, user, e, h->seq,
	    h->hash, h->hash, err)) != 0) {
		log_heads_forget(b);
		return rc;
	}
	h->seq = e->seq;
	return 0;
}

void
log_heads_forget(struct broker *b)
{
	struct log_head *h, *tmp;

	HASH_ITER(hh, b->heads, h, tmp) {
		HASH_DEL(b->heads, h);
		free(h);
	}
}
