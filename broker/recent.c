/*
 * recent.c: the clear bytes of the records stored lately, by seq, so that
 * a record delivered in the turns after its PUT is not opened again: the
 * PUT had them in the clear, they are sealed on the way to the store and
 * kept here exactly as sealed.  Apps catching up on older records read
 * the store (store_record_get), which opens them.
 *
 * One ring of bytes of a fixed size (carnetd --recent), written in seq
 * order: each entry is the person's id then the record; the oldest goes
 * when a new one needs its room.  An index of (seq, place, length) in
 * the same order finds an entry by binary search.
 *
 * An entry never says more than the store.  What was put since the last
 * recent_commit (called at the start of each turn, when whatever the
 * turn before wrote has committed or been rolled back) goes at the next
 * recent_rollback (called after any abort, nested or not): an aborted
 * PUT's seqs are given again to the next PUT.  A person's erasure drops
 * their entries.  Whatever leaves the ring is wiped first.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "broker.h"

#define RECENT_INDEX_MIN 1024

static struct recent_ent *
ent(struct recent *r, size_t i)
{
	return &r->ix[(r->head + i) % r->ixcap];
}

static size_t
ent_end(const struct recent_ent *e)
{
	return e->off + ID_BYTES + e->len;
}

static void
ent_wipe(struct recent *r, struct recent_ent *e)
{
	if (!e->gone) {
		sodium_memzero(r->buf + e->off, ID_BYTES + e->len);
		r->bytes -= ID_BYTES + e->len;
		e->gone = true;
	}
}

static void
drop_oldest(struct recent *r)
{
	ent_wipe(r, ent(r, 0));
	r->head = (r->head + 1) % r->ixcap;
	r->n--;
	if (r->ncommitted > 0)
		r->ncommitted--;
	if (r->n == 0)
		r->head = r->wpos = 0;
}

static void
drop_newest(struct recent *r)
{
	ent_wipe(r, ent(r, r->n - 1));
	r->n--;
	if (r->ncommitted > r->n)
		r->ncommitted = r->n;
	r->wpos = r->n > 0 ? ent_end(ent(r, r->n - 1)) : 0;
	if (r->n == 0)
		r->head = 0;
}

static int
index_grow(struct recent *r)
{
	size_t cap = r->ixcap ? 2 * r->ixcap : RECENT_INDEX_MIN, i;
	struct recent_ent *ix = malloc(cap * sizeof(*ix));

	if (ix == NULL)
		return CARNET_E_NOMEM;
	for (i = 0; i < r->n; i++)
		ix[i] = *ent(r, i);
	free(r->ix);
	r->ix = ix;
	r->ixcap = cap;
	r->head = 0;
	return 0;
}

void
recent_init(struct recent *r, size_t max_bytes)
{
	memset(r, 0, sizeof(*r));
	r->cap = max_bytes;
}

void
recent_release(struct recent *r)
{
	while (r->n > 0)
		drop_oldest(r);
	free(r->buf);
	free(r->ix);
	memset(r, 0, sizeof(*r));
}

int
recent_put(struct recent *r, const uint8_t user[ID_BYTES], uint64_t seq,
    const void *p, size_t len)
{
	size_t need = ID_BYTES + len, start;
	struct recent_ent *e;
	int rc;

	/* a seq given again: what the ring holds for it is stale */
	while (r->n > 0 && ent(r, r->n - 1)->seq >= seq)
		drop_newest(r);
	if (r->cap == 0 || need > r->cap)
		return 0; /* not kept: it will be opened */
	if (r->buf == NULL && (r->buf = calloc(1, r->cap)) == NULL)
		return CARNET_E_NOMEM;
	if (r->n == r->ixcap && (rc = index_grow(r)) != 0)
		return rc;
	start = r->wpos;
	if (start + need > r->cap) {
		/* round to the start: what lies after wpos is the oldest */
		while (r->n > 0 && ent(r, 0)->off >= r->wpos)
			drop_oldest(r);
		start = 0;
	}
	while (r->n > 0 && ent(r, 0)->off < start + need &&
	    start < ent_end(ent(r, 0)))
		drop_oldest(r);
	e = &r->ix[(r->head + r->n) % r->ixcap];
	e->seq = seq;
	e->off = start;
	e->len = len;
	e->gone = false;
	memcpy(r->buf + start, user, ID_BYTES);
	memcpy(r->buf + start + ID_BYTES, p, len);
	r->n++;
	r->bytes += need;
	r->wpos = start + need;
	return 0;
}

bool
recent_get(struct recent *r, const uint8_t user[ID_BYTES], uint64_t seq,
    MDB_val *v)
{
	size_t lo = 0, hi = r->n, mid;
	struct recent_ent *e;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		e = ent(r, mid);
		if (e->seq == seq) {
			if (e->gone || memcmp(r->buf + e->off, user,
			    ID_BYTES) != 0)
				return false;
			v->mv_data = r->buf + e->off + ID_BYTES;
			v->mv_size = e->len;
			return true;
		}
		if (e->seq < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

void
recent_forget_user(struct recent *r, const uint8_t user[ID_BYTES])
{
	struct recent_ent *e;
	size_t i;

	for (i = 0; i < r->n; i++) {
		e = ent(r, i);
		if (!e->gone && memcmp(r->buf + e->off, user, ID_BYTES) == 0)
			ent_wipe(r, e);
	}
}

void
recent_commit(struct recent *r)
{
	r->ncommitted = r->n;
}

void
recent_rollback(struct recent *r)
{
	while (r->n > r->ncommitted)
		drop_newest(r);
}
