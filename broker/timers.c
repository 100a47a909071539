/*
 * timers.c: a consent's end date, the notices before it and the reviews of
 * open-ended ones.
 *
 * Timers live in LMDB (store.h: timers), so an expiry is never lost to a
 * restart; the loop fires the due ones inside its turn transaction, before
 * the delivery pass, so nothing is sent under a token past its end.
 */
#include <stdio.h>
#include <string.h>

#include "../common/mpk.h"
#include "../common/text.h"
#include "../policy/consent.h"
#include "broker.h"

int
token_schedule(struct broker *b, MDB_txn *txn, const struct token *t,
    int64_t now, struct cerr *err)
{
	int rc;

	b->next_timer = 0; /* read the first one again */
	if (t->expires == 0)
		return store_timer_put(b->store, txn, now + b->review_secs,
		    TIMER_REVIEW, t->id, err);
	if ((rc = store_timer_put(b->store, txn, t->expires, TIMER_EXPIRE,
	    t->id, err)) != 0)
		return rc;
	/* A consent shorter than the notice period gets no notice: the
	 * person just chose its end. */
	if (t->expires - b->notice_secs > now)
		return store_timer_put(b->store, txn,
		    t->expires - b->notice_secs, TIMER_NOTICE, t->id, err);
	return 0;
}

/* Review timers are left: one firing for an ended token does nothing. */
int
token_unschedule(struct broker *b, MDB_txn *txn, const struct token *t,
    struct cerr *err)
{
	int rc;

	if (t->expires == 0)
		return 0;
	if ((rc = store_timer_del(b->store, txn, t->expires, TIMER_EXPIRE,
	    t->id, err)) != 0)
		return rc;
	return store_timer_del(b->store, txn, t->expires - b->notice_secs,
	    TIMER_NOTICE, t->id, err);
}

static void
entry_for_token(struct uselog_entry *e, enum uselog_kind kind, int64_t now,
    const struct token *t)
{
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->time = now;
	ulog_entry_about(e, t);
}

static int
timer_fire(struct broker *b, MDB_txn *txn, int64_t at, enum timer_kind kind,
    const uint8_t tok[TOKID_BYTES], int64_t now, struct cerr *err)
{
	struct token_state st;
	struct uselog_entry e;
	struct token t;
	int rc;

	if (store_token_get(b->store, txn, tok, &st) != 0 ||
	    token_peek(st.blob, st.blob_len, &t, NULL) != 0 ||
	    (st.state != TOKEN_ACTIVE && st.state != TOKEN_PAUSED))
		return 0; /* gone or ended: nothing to do */
	/* In the reserve only the end of a consent is written: a notice or a
	 * review is tried again later (one timer out, one in). */
	if (kind != TIMER_EXPIRE && reserve_in(b, txn)) {
		b->next_timer = 0;
		return store_timer_put(b->store, txn, now +
		    BROKER_RESERVE_RETRY_S, kind, tok, err);
	}
	switch (kind) {
	case TIMER_EXPIRE:
		if (t.expires == 0 || t.expires > now)
			return 0; /* renewed meanwhile */
		if ((rc = store_token_end(b->store, txn, &t, TOKEN_EXPIRED, now,
		    err)) != 0)
			return rc;
		entry_for_token(&e, USE_EXPIRE, now, &t);
		if ((rc = ulog_append(b, txn, t.user, &e, err)) != 0)
			return rc;
		session_token_ended(b, txn, &t, "expired");
		return 0;
	case TIMER_NOTICE:
		if (t.expires <= now ||
		    t.expires - now > b->notice_secs + NOTICE_SLACK_S)
			return 0; /* renewed to a later end */
		entry_for_token(&e, USE_NOTICE, now, &t);
		e.rseq = (uint64_t)t.expires;
		return ulog_append(b, txn, t.user, &e, err);
	case TIMER_REVIEW:
		if (t.expires != 0)
			return 0;
		entry_for_token(&e, USE_REVIEW, now, &t);
		if ((rc = ulog_append(b, txn, t.user, &e, err)) != 0)
			return rc;
		b->next_timer = 0;
		return store_timer_put(b->store, txn,
		    at + b->review_secs > now ? at + b->review_secs :
		    now + b->review_secs, TIMER_REVIEW, tok, err);
	}
	return 0;
}

int
timers_pass(struct broker *b, MDB_txn *txn, int64_t now, struct cerr *err)
{
	uint8_t tok[TOKID_BYTES];
	enum timer_kind kind;
	int64_t at;
	int i, rc;

	if (b->next_timer != 0 && now < b->next_timer)
		return 0;
	for (i = 0; i < BROKER_TIMERS_PER_TURN; i++) {
		rc = store_timer_first(b->store, txn, &at, &kind, tok);
		if (rc == CARNET_E_NOT_FOUND) {
			b->next_timer = INT64_MAX;
			return 0;
		}
		if (rc != 0)
			return cerr_set(err, rc, "reading timers: %s",
			    carnet_strerror(rc));
		if (at > now) {
			b->next_timer = at;
			return 0;
		}
		if ((rc = store_timer_del(b->store, txn, at, kind, tok,
		    err)) != 0 ||
		    (rc = timer_fire(b, txn, at, kind, tok, now, err)) != 0)
			return rc;
	}
	b->next_timer = 0; /* more are due: next turn */
	b->work = true;
	return 0;
}
