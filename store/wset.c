/*
 * wset.c: write sets (store.h), the logical puts and deletes of each
 * top-level write transaction, captured as they are made.
 *
 * Every write of the store goes through st_mdb_put, st_mdb_reserve (then
 * st_wset_filled), st_mdb_del and st_mdb_cursor_del; a check in make test
 * (tests/wset_calls.sh) fails on any other LMDB write in store/.  While a
 * sink is set, the ops of the open top-level transaction are appended to
 * one buffer; a nested transaction that aborts takes its own back (the
 * length at its start is kept on a stack); the sink gets the whole set
 * once the top-level commit is done.
 *
 * The encoding, one op after another, integers big-endian:
 *   put:    0x01, db (1 byte), key length (4), key, value length (4), value
 *   delete: 0x02, db (1 byte), key length (4), key
 * db is the database's number in the store's table (store_int.h: DB_*,
 * only ever appended to).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

/* It calls no other file of the store (util.c calls it). */

enum { OP_PUT = 1, OP_DEL = 2 };

static struct store *
txn_store(MDB_txn *txn)
{
	return mdb_env_get_userctx(mdb_txn_env(txn));
}

void
st_wset_index(struct store *s)
{
	int i;

	memset(s->ws.db_of, 0, sizeof(s->ws.db_of));
	for (i = 0; i < DB__N; i++)
		if (s->dbi[i] < WSET_DBI_MAX)
			s->ws.db_of[s->dbi[i]] = (uint8_t)(i + 1);
}

static int
grow(struct wset *w, size_t more)
{
	size_t cap = w->cap ? w->cap : 4096;
	uint8_t *p;

	if (more > SIZE_MAX / 2 - w->len)
		return ENOMEM;
	while (cap < w->len + more)
		cap *= 2;
	if (cap == w->cap)
		return 0;
	if ((p = realloc(w->buf, cap)) == NULL)
		return ENOMEM;
	w->buf = p;
	w->cap = cap;
	return 0;
}

static void
be32_put(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t
be32_get(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/*
 * The op on (txn, dbi) appended, or 0 when nothing is captured; EINVAL
 * for a write outside a captured transaction while a sink waits (a write
 * that would never reach it), ENOMEM.
 */
static int
note(MDB_txn *txn, MDB_dbi dbi, int op, const MDB_val *k, const MDB_val *v)
{
	struct store *s = txn_store(txn);
	struct wset *w;
	size_t n;
	uint8_t *p;

	if (s == NULL || ((w = &s->ws)->sink == NULL && !w->turns))
		return 0;
	if (!w->active || dbi >= WSET_DBI_MAX || w->db_of[dbi] == 0)
		return EINVAL;
	if (k->mv_size > UINT32_MAX || (v != NULL && v->mv_size > UINT32_MAX))
		return EINVAL;
	n = 2 + 4 + k->mv_size + (v != NULL ? 4 + v->mv_size : 0);
	if (grow(w, n) != 0)
		return ENOMEM;
	p = w->buf + w->len;
	*p++ = (uint8_t)op;
	*p++ = (uint8_t)(w->db_of[dbi] - 1);
	be32_put(p, (uint32_t)k->mv_size);
	memcpy(p + 4, k->mv_data, k->mv_size);
	p += 4 + k->mv_size;
	if (v != NULL) {
		be32_put(p, (uint32_t)v->mv_size);
		memcpy(p + 4, v->mv_data, v->mv_size);
	}
	w->len += n;
	return 0;
}

int
st_mdb_put(MDB_txn *txn, MDB_dbi dbi, MDB_val *k, MDB_val *v, unsigned flags)
{
	int rc;

	if (flags & MDB_RESERVE)
		return EINVAL; /* st_mdb_reserve: the value is not there yet */
	if ((rc = mdb_put(txn, dbi, k, v, flags)) != 0)
		return rc;
	/* a failed note leaves the put in a transaction that must abort:
	 * the caller gets an error and so does its commit */
	return note(txn, dbi, OP_PUT, k, v);
}

int
st_mdb_reserve(MDB_txn *txn, MDB_dbi dbi, MDB_val *k, MDB_val *v,
    unsigned flags)
{
	return mdb_put(txn, dbi, k, v, flags | MDB_RESERVE);
}

int
st_wset_filled(MDB_txn *txn, MDB_dbi dbi, const MDB_val *k, const MDB_val *v)
{
	return note(txn, dbi, OP_PUT, k, v);
}

int
st_mdb_del(MDB_txn *txn, MDB_dbi dbi, MDB_val *k)
{
	int rc;

	if ((rc = mdb_del(txn, dbi, k, NULL)) != 0)
		return rc;
	return note(txn, dbi, OP_DEL, k, NULL);
}

int
st_mdb_cursor_del(MDB_cursor *c)
{
	MDB_txn *txn = mdb_cursor_txn(c);
	struct store *s = txn_store(txn);
	size_t len = s != NULL ? s->ws.len : 0;
	MDB_val k, v;
	int rc;

	/* noted first: the key's bytes are on the page the delete changes */
	if ((rc = mdb_cursor_get(c, &k, &v, MDB_GET_CURRENT)) != 0 ||
	    (rc = note(txn, mdb_cursor_dbi(c), OP_DEL, &k, NULL)) != 0)
		return rc;
	if ((rc = mdb_cursor_del(c, 0)) != 0 && s != NULL)
		s->ws.len = len;
	return rc;
}

void
st_wset_begin(struct store *s, MDB_txn *txn, MDB_txn *parent)
{
	struct wset *w = &s->ws;

	if (parent == NULL) {
		w->len = 0;
		w->depth = 0;
		w->active = w->sink != NULL || w->turns;
		w->broken = false;
		return;
	}
	if (!w->active)
		return;
	if (w->depth == WSET_NEST_MAX) {
		w->broken = true; /* the commit refuses the set */
		return;
	}
	w->nest[w->depth] = txn;
	w->mark[w->depth++] = w->len;
}

void
st_wset_nested_end(struct store *s, MDB_txn *txn, bool committed)
{
	struct wset *w = &s->ws;

	if (!w->active || w->depth == 0 || w->nest[w->depth - 1] != txn)
		return;
	w->depth--;
	if (!committed)
		w->len = w->mark[w->depth];
}

bool
st_wset_ok(const struct store *s)
{
	return !s->ws.broken;
}

void
st_wset_top_end(struct store *s, bool committed)
{
	struct wset *w = &s->ws;

	if (w->active && committed && w->len > 0 && w->sink != NULL)
		w->sink(w->arg, w->buf, w->len);
	w->active = false;
	w->len = 0;
	w->depth = 0;
}

/* The set since the last call, handed out (valid until the next write), and
 * the buffer started again: what a turn of turn mode wrote. */
void
st_wset_take(struct store *s, const uint8_t **ws, size_t *len)
{
	*ws = s->ws.buf;
	*len = s->ws.len;
	s->ws.len = 0;
}

void
store_wset_sink(struct store *s, store_wset_fn *fn, void *arg)
{
	s->ws.sink = fn;
	s->ws.arg = arg;
}

void
st_wset_free(struct store *s)
{
	free(s->ws.buf);
	memset(&s->ws, 0, sizeof(s->ws));
}

int
store_wset_apply(struct store *s, MDB_txn *txn, const uint8_t *ws, size_t len,
    struct cerr *err)
{
	const uint8_t *p = ws, *end = ws + len;
	MDB_val k, v;
	uint32_t n;
	int op, db, rc;

	while (p < end) {
		if (end - p < 6)
			goto damaged;
		op = p[0];
		db = p[1];
		n = be32_get(p + 2);
		p += 6;
		if ((op != OP_PUT && op != OP_DEL) || db >= DB__N ||
		    (size_t)(end - p) < n)
			goto damaged;
		k = mval(p, n);
		p += n;
		if (op == OP_PUT) {
			if (end - p < 4 || (size_t)(end - p - 4) <
			    be32_get(p))
				goto damaged;
			v = mval(p + 4, be32_get(p));
			p += 4 + v.mv_size;
			rc = st_mdb_put(txn, s->dbi[db], &k, &v, 0);
		} else {
			/* deleted on the primary, so here too, or the two
			 * stores were not the same before this set */
			rc = st_mdb_del(txn, s->dbi[db], &k);
		}
		if (rc == MDB_NOTFOUND)
			return cerr_set(err, CARNET_E_STORE, "applying a write "
			    "set: a key it deletes is not here (this store "
			    "was not the same as the one it came from)");
		if (rc != 0)
			return cerr_set(err, rc == MDB_MAP_FULL ?
			    CARNET_E_STORE_FULL : CARNET_E_STORE, "applying a "
			    "write set: %s", mdb_strerror(rc));
	}
	return 0;
damaged:
	return cerr_set(err, CARNET_E_STORE, "write set damaged at byte %zu "
	    "of %zu", (size_t)(p - ws), len);
}
