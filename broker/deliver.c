/*
 * deliver.c: the delivery pass, run once per loop turn inside the turn's
 * write transaction, after every request of the turn was handled.
 *
 * It visits the awake sessions only (session.c), and for each one the
 * consents of its app in the due index (store/due.c), from where it
 * stopped last: so its cost is what arrived, not how many people consent.
 * For each due consent it reads the token in this very transaction (so a
 * revocation handled earlier in the turn is seen), walks the person's
 * stream from where this connection stands, applies the consent check,
 * strips the fields the token does not list, and queues the record; the
 * visit's records are covered by use-log entries appended in the same
 * transaction, one per holder and type (of at most USELOG_RECS_MAX
 * records) rather than one per record.  The queue is sent only after the
 * commit, so no record leaves without its entry.
 */
#include <stddef.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include <utlist.h>

#include "../common/mpk.h"
#include "../policy/consent.h"
#include "broker.h"

static int
undo_note(struct broker *b, uint64_t *where)
{
	if (b->nundo == b->capundo) {
		size_t cap = b->capundo ? 2 * b->capundo : 256;
		struct undo_entry *n = realloc(b->undo, cap * sizeof(*n));

		if (n == NULL)
			return CARNET_E_NOMEM;
		b->undo = n;
		b->capundo = cap;
	}
	b->undo[b->nundo].where = where;
	b->undo[b->nundo].old = *where;
	b->nundo++;
	return 0;
}

void
undo_apply(struct broker *b)
{
	while (b->nundo > 0) {
		b->nundo--;
		*b->undo[b->nundo].where = b->undo[b->nundo].old;
	}
}

void
undo_clear(struct broker *b)
{
	b->nundo = 0;
}

/* Records of one visit waiting for their use-log entry: one holder, one
 * type (the consent, app, person and time are the visit's). */
struct log_group {
	uint8_t holder[ID_BYTES];
	const struct schema *type;
	unsigned n;
	uint64_t seqs[USELOG_RECS_MAX];
};

#define DELIVER_LOG_GROUPS 4 /* open at once; a fifth flushes them */

/*
 * One session's records of this turn, packed where they will be sent
 * from: the REC body {"recs": [...]}, its header written last into the
 * room left in front (its size depends on the count).
 */
struct batch {
	msgpack_sbuffer sb;
	msgpack_packer pk;
	uint32_t n;
	size_t room;    /* the first bytes to fill, records follow */
	size_t expect;  /* records this batch may hold */
	uint64_t per_type[256];
	struct log_group groups[DELIVER_LOG_GROUPS];
	unsigned ngroups;
};

#define BATCH_HDR_ROOM 11           /* fixmap, "recs", array 32 */
#define BATCH_REC_BYTES 384         /* a guess to size the buffer once */
#define BATCH_MAX_RESERVE (1u << 20)

/* Room for the header and the records expected, before the first one. */
static int
batch_start(struct batch *bt)
{
	size_t want = bt->expect * BATCH_REC_BYTES + BATCH_HDR_ROOM;

	if (want > BATCH_MAX_RESERVE)
		want = BATCH_MAX_RESERVE;
	if ((bt->sb.data = malloc(want)) == NULL)
		return CARNET_E_NOMEM;
	bt->sb.alloc = want;
	bt->sb.size = bt->room = BATCH_HDR_ROOM;
	return 0;
}

/* Write the header in front of the records; returns where the body starts. */
static size_t
batch_finish(struct batch *bt)
{
	msgpack_sbuffer h;
	msgpack_packer pk;
	size_t skip;

	msgpack_sbuffer_init(&h);
	msgpack_packer_init(&pk, &h, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 1);
	mpk_pack_cstr(&pk, "recs");
	msgpack_pack_array(&pk, bt->n);
	skip = bt->room - h.size; /* h.size <= BATCH_HDR_ROOM */
	memcpy(bt->sb.data + skip, h.data, h.size);
	msgpack_sbuffer_destroy(&h);
	return skip;
}

/*
 * The use-log entry of group g's records, sent under t: one record's entry
 * is as it always was (rseq), more than one name theirs in recs.  An error
 * here fails the whole pass (its nested transaction is aborted): the
 * person's head was checked before the visit's first record.
 */
static int
log_group_flush(struct broker *b, MDB_txn *txn, struct session *s,
    const struct token *t, int64_t now, struct log_group *g,
    struct cerr *err)
{
	struct uselog_entry e;
	int rc;

	if (g->n == 0)
		return 0; /* logged when it filled, nothing since */
	memset(&e, 0, offsetof(struct uselog_entry, recs));
	e.kind = USE_DELIVER;
	e.time = now;
	e.has_app = e.has_holder = e.has_token = true;
	memcpy(e.app, s->app.id, ID_BYTES);
	memcpy(e.holder, g->holder, ID_BYTES);
	memcpy(e.token, t->id, TOKID_BYTES);
	e.type = g->type;
	e.rseq = g->seqs[0];
	if (g->n > 1) {
		e.nrecs = g->n;
		memcpy(e.recs, g->seqs, g->n * sizeof(g->seqs[0]));
	}
	strcpy(e.purpose, t->purpose);
	g->n = 0;
	if ((rc = ulog_append(b, txn, t->user, &e, err)) == CARNET_E_LOG_BROKEN)
		rc = CARNET_E_STORE; /* records are queued: never held back */
	return rc;
}

/* Every open group of the visit, logged. */
static int
log_flush(struct broker *b, MDB_txn *txn, struct session *s,
    const struct token *t, int64_t now, struct batch *bt, struct cerr *err)
{
	int rc;

	for (; bt->ngroups > 0; bt->ngroups--)
		if ((rc = log_group_flush(b, txn, s, t, now,
		    &bt->groups[bt->ngroups - 1], err)) != 0)
			return rc;
	return 0;
}

/* Record m, sent under t, into its group; a full group is logged. */
static int
log_note(struct broker *b, MDB_txn *txn, struct session *s,
    const struct token *t, const struct recmeta *m, int64_t now,
    struct batch *bt, struct cerr *err)
{
	struct log_group *g = NULL;
	unsigned i;
	int rc;

	for (i = 0; i < bt->ngroups && g == NULL; i++)
		if (bt->groups[i].type == m->type &&
		    memcmp(bt->groups[i].holder, m->holder, ID_BYTES) == 0)
			g = &bt->groups[i];
	if (g == NULL) {
		if (bt->ngroups == DELIVER_LOG_GROUPS &&
		    (rc = log_flush(b, txn, s, t, now, bt, err)) != 0)
			return rc;
		g = &bt->groups[bt->ngroups++];
		memcpy(g->holder, m->holder, ID_BYTES);
		g->type = m->type;
		g->n = 0;
	}
	g->seqs[g->n++] = m->seq;
	if (g->n == USELOG_RECS_MAX &&
	    (rc = log_group_flush(b, txn, s, t, now, g, err)) != 0)
		return rc;
	return 0;
}

/*
 * Send one record under token t: queue it minimised, and note it for the
 * visit's use-log entries.  The stored bytes were validated when stored:
 * they are copied, not decoded (only the kept fields of the body go out,
 * and the app's opaque id of the record in place of the holder's ref
 * unless t lists ref).
 */
static int
deliver_one(struct broker *b, MDB_txn *txn, struct session *s,
    const struct token *t, const struct recmeta *m, uint64_t fields,
    int64_t now, struct batch *bt, struct cerr *err)
{
	struct record_view view = {
		.fields = fields, .ref_key = store_ref_key(b->store),
		.app = s->app.id, .holder = m->holder, .user = t->user,
	};
	size_t mark;
	MDB_val v;
	int rc;

	if ((rc = record_open(b, txn, t->user, m->seq, &v, err)) != 0)
		return rc == CARNET_E_NOT_FOUND ? 0 : rc;
	if (bt->room == 0 && (rc = batch_start(bt)) != 0)
		return cerr_set(err, rc, "out of memory");
	mark = bt->sb.size;
	msgpack_pack_map(&bt->pk, 3);
	mpk_pack_cstr(&bt->pk, "seq");
	msgpack_pack_uint64(&bt->pk, m->seq);
	mpk_pack_cstr(&bt->pk, "token");
	mpk_pack_binn(&bt->pk, t->id, TOKID_BYTES);
	mpk_pack_cstr(&bt->pk, "rec");
	if ((rc = record_copy_minimised(v.mv_data, v.mv_size, m->type, &view,
	    &bt->sb)) != 0) {
		bt->sb.size = mark;
		return cerr_set(err, rc, "stored record %llu is damaged",
		    (unsigned long long)m->seq);
	}
	if (!b->bench_nolog && (rc = log_note(b, txn, s, t, m, now, bt,
	    err)) != 0) {
		bt->sb.size = mark;
		return rc;
	}
	bt->n++;
	bt->per_type[m->type->index]++;
	return 0;
}

/* Where one visit stands in a person's stream. */
struct walk {
	uint64_t scan;    /* the last seq examined */
	uint64_t sent;    /* the last seq sent, 0: none this visit */
	bool at_end;      /* nothing after scan */
	bool head_ok;     /* the person's log head is read and checked */
};

/* Walk t's person's stream after w->scan while credit and budget last. */
static int
walk_stream(struct broker *b, MDB_txn *txn, struct session *s,
    const struct token *t, int64_t now, size_t *budget, struct batch *bt,
    struct walk *w, struct cerr *err)
{
	struct consent_query q = {
		.app = &s->app, .user = t->user, .now = now,
	};
	struct recmeta m;
	uint64_t fields;
	int rc, verdict;

	while (s->credit > 0 && *budget > 0) {
		rc = store_user_next(b->store, txn, t->user, w->scan, &m);
		if (rc == CARNET_E_NOT_FOUND) {
			w->at_end = true;
			break;
		}
		if (rc != 0)
			return cerr_set(err, rc, "reading a user's stream");
		q.holder = m.holder;
		q.type = m.type;
		q.record_time = m.time;
		verdict = consent_check(t, &q, &fields);
		if (verdict == CARNET_E_NOT_YET_VALID) {
			session_wake_at(s, t->not_before);
			break;
		}
		if (verdict == CARNET_E_EXPIRED)
			break; /* its timer (due now) ends it, tells the app */
		if (verdict != 0) {
			w->scan = m.seq; /* not covered: never sent under t */
			continue;
		}
		/* The head is checked before the first record: once one is
		 * queued, an entry that cannot be appended fails the pass. */
		rc = w->head_ok || b->bench_nolog ? 0 :
		    ulog_head_load(b, txn, t->user, err);
		if (rc == CARNET_E_LOG_BROKEN) {
			/* Nothing goes out unlogged: this person's records wait
			 * until the operator repairs their log; the others'
			 * go on. */
			if (now - b->log_broken_warned >= 60) {
				b->log_broken_warned = now;
				log_warnx("records held back: %s",
				    cerr_msg(err));
			}
			session_wake_at(s, now + 60);
			break;
		}
		w->head_ok = rc == 0;
		if (rc != 0 || (rc = deliver_one(b, txn, s, t, &m, fields, now,
		    bt, err)) != 0)
			return rc;
		w->scan = w->sent = m.seq;
		if ((rc = undo_note(b, &s->credit)) != 0)
			return cerr_set(err, rc, "out of memory");
		s->credit--;
		(*budget)--;
	}
	return log_flush(b, txn, s, t, now, bt, err);
}

/*
 * One due consent of s's app.  This connection stands at the durable
 * cursor, or further if it has records in flight under the token.  The
 * consent leaves the due index once its cursor covers the stream; the
 * cursor passes records the token does not cover only while nothing is
 * in flight, so it never passes an unacked record.
 */
static int
visit(struct broker *b, MDB_txn *txn, struct session *s,
    const uint8_t tok[TOKID_BYTES], const uint8_t user[ID_BYTES],
    int64_t now, size_t *budget, struct batch *bt, struct cerr *err)
{
	struct inflight *e;
	struct token_state st;
	const struct token *t;
	struct walk w = {0};
	uint64_t last, cursor;
	int rc;

	b->n_examined++;
	if ((rc = user_last_get(b, txn, user, &last)) != 0 ||
	    (rc = store_cursor_get(b->store, txn, tok, &cursor)) != 0)
		return cerr_set(err, rc, "reading a consent's stream");
	/* acked meanwhile (visited once a pass: no undo note on it yet) */
	if ((e = inflight_find(s, tok)) != NULL && e->scan <= cursor) {
		inflight_free(b, s, e);
		e = NULL;
	}
	w.scan = e != NULL ? e->scan : cursor;
	if (last <= w.scan)
		return e != NULL ? 0 :
		    store_due_del(b->store, txn, s->app.id, tok, err);
	if (e == NULL && inflight_full(b, s))
		return 0; /* an ACK to one of the app's feeds makes room */
	/* The authority on revocation is this transaction, not memory. */
	rc = store_token_get(b->store, txn, tok, &st);
	if (rc == CARNET_E_NOT_FOUND || (rc == 0 && st.state != TOKEN_ACTIVE))
		return store_due_del(b->store, txn, s->app.id, tok, err);
	if (rc != 0 || (rc = token_cached(b, tok, &st, &t)) != 0)
		return cerr_set(err, rc, "reading a consent: %s",
		    carnet_strerror(rc));
	if ((rc = walk_stream(b, txn, s, t, now, budget, bt, &w, err)) != 0)
		return rc;
	if (e == NULL && w.sent == 0) {
		/* nothing in flight: what was passed over is done with */
		if (w.scan > cursor && (rc = store_cursor_advance(b->store,
		    txn, tok, w.scan, NULL, err)) != 0)
			return rc;
		return w.at_end ? store_due_del(b->store, txn, s->app.id, tok,
		    err) : 0;
	}
	if (e == NULL && (e = inflight_add(s, tok, cursor)) == NULL)
		return cerr_set(err, CARNET_E_NOMEM, "out of memory");
	if ((rc = undo_note(b, &e->scan)) != 0 ||
	    (rc = undo_note(b, &e->sent)) != 0)
		return cerr_set(err, rc, "out of memory");
	e->scan = w.scan;
	if (w.sent != 0)
		e->sent = w.sent;
	return 0;
}

/* The batch's records, counted and queued to s's connection. */
static int
batch_send(struct broker *b, MDB_txn *txn, struct session *s,
    struct batch *bt, struct cerr *err)
{
	struct outmsg *out;
	unsigned i;
	int rc;

	for (i = 0; i < schema_count(); i++)
		if (bt->per_type[i] != 0) {
			char key[160];

			snprintf(key, sizeof(key), "deliver/%s/%s", s->app.name,
			    schema_by_index(i)->name);
			if ((rc = store_stat_add(b->store, txn, key,
			    bt->per_type[i], err)) != 0)
				return rc;
		}
	if (bt->n == 0)
		return 0;
	if ((out = out_push(b, s->conn, MSG_REC, false)) == NULL)
		return cerr_set(err, CARNET_E_NOMEM, "out of memory");
	/* the buffer itself becomes the message: no copy */
	out->skip = batch_finish(bt);
	msgpack_sbuffer_destroy(&out->body);
	out->body = bt->sb;
	msgpack_sbuffer_init(&bt->sb);
	out_count(out, s->conn);
	b->n_sent += bt->n;
	return 0;
}

/*
 * Walk s's app's due consents from where s stopped, once round at most:
 * after its place to the end, then from the first up to the first one
 * this walk looked at.  *round is set when it went all the way round:
 * nothing more to do until something wakes s.
 */
static int
deliver_session(struct broker *b, MDB_txn *txn, struct session *s,
    int64_t now, size_t *budget, size_t *visits, bool *round,
    struct cerr *err)
{
	uint8_t tok[TOKID_BYTES], user[ID_BYTES], first[TOKID_BYTES];
	/* first: where the round ends, when the walk began after its place
	 * (from the first consent, the round ends at the end) */
	bool wrapped = !s->has_pos, have_first = false, stop_at_first = false;
	struct batch bt;
	int rc = 0;

	*round = false;
	memset(&bt, 0, sizeof(bt));
	msgpack_sbuffer_init(&bt.sb);
	msgpack_packer_init(&bt.pk, &bt.sb, msgpack_sbuffer_write);
	bt.expect = s->credit < *budget ? s->credit : *budget;
	while (s->credit > 0 && *budget > 0 && *visits > 0) {
		rc = store_due_next(b->store, txn, s->app.id,
		    s->has_pos ? s->pos : NULL, tok, user);
		if (rc == CARNET_E_NOT_FOUND) {
			rc = 0;
			if (wrapped) {
				*round = true;
				break;
			}
			wrapped = true; /* on from the first */
			s->has_pos = false;
			continue;
		}
		if (rc != 0) {
			cerr_set(err, rc, "reading the due index");
			break;
		}
		if (wrapped && stop_at_first && memcmp(tok, first,
		    TOKID_BYTES) >= 0) {
			*round = true;
			break;
		}
		if (!have_first) {
			memcpy(first, tok, TOKID_BYTES);
			have_first = true;
			stop_at_first = !wrapped;
		}
		memcpy(s->pos, tok, TOKID_BYTES);
		s->has_pos = true;
		(*visits)--;
		if (session_wants_user(s, user) && (rc = visit(b, txn, s, tok,
		    user, now, budget, &bt, err)) != 0)
			break;
	}
	if (rc == 0)
		rc = batch_send(b, txn, s, &bt, err);
	msgpack_sbuffer_destroy(&bt.sb);
	return rc;
}

int
deliver_pass(struct broker *b, MDB_txn *txn, int64_t now, struct cerr *err)
{
	size_t budget = BROKER_TURN_MAX_SENDS, visits = BROKER_TURN_MAX_VISITS;
	size_t count = 0, i;
	struct session *s;
	bool round;
	int rc;

	b->work = false;
	DL_COUNT2(b->awake, s, count, anext);
	/* Each awake session once, from the head; those with more to do go
	 * to the tail, so none waits for ever. */
	for (i = 0; i < count && (s = b->awake) != NULL; i++) {
		session_sleep(b, s);
		if (s->credit == 0)
			continue; /* its CREDIT wakes it */
		if (!conn_may_queue(s->conn)) {
			/* bytes it has not read: look again in a while */
			session_wake_at(s, now + 1);
			continue;
		}
		if ((rc = deliver_session(b, txn, s, now, &budget, &visits,
		    &round, err)) != 0) {
			session_wake(b, s); /* tried again next turn */
			return rc;
		}
		if (!round && s->credit > 0)
			session_wake(b, s);
		if (budget == 0 || visits == 0)
			break;
	}
	b->work = b->awake != NULL;
	return 0;
}
