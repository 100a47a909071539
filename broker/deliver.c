/*
 * deliver.c: the delivery pass, run once per loop turn inside the turn's
 * write transaction, after every request of the turn was handled.
 *
 * For each subscribed app with credit, for each of its tokens, it walks
 * the user's stream from where this connection last looked, checks the
 * token is still active in this very transaction (so a revocation handled
 * earlier in the turn is seen), applies the consent check, strips the
 * fields the token does not list, and appends the use-log entry before
 * queueing the record.  The queue is sent only after the commit.
 */
#include <stdlib.h>
#include <string.h>

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
 * Send one record under token t: log, then queue it minimised.  The stored
 * bytes were validated when stored: they are copied, not decoded (only the
 * kept fields of the body go out).
 */
static int
deliver_one(struct broker *b, MDB_txn *txn, struct session *s,
    struct app_token *t, const struct recmeta *m, uint64_t fields,
    int64_t now, struct batch *bt, struct cerr *err)
{
	struct uselog_entry e;
	size_t mark;
	MDB_val v;
	int rc;

	if ((rc = store_record_get(b->store, txn, t->tok.user, m->seq, &v,
	    err)) != 0)
		return rc == CARNET_E_NOT_FOUND ? 0 : rc;
	if (bt->room == 0 && (rc = batch_start(bt)) != 0)
		return cerr_set(err, rc, "out of memory");
	mark = bt->sb.size;
	msgpack_pack_map(&bt->pk, 3);
	mpk_pack_cstr(&bt->pk, "seq");
	msgpack_pack_uint64(&bt->pk, m->seq);
	mpk_pack_cstr(&bt->pk, "token");
	mpk_pack_binn(&bt->pk, t->tok.id, TOKID_BYTES);
	mpk_pack_cstr(&bt->pk, "rec");
	if ((rc = record_copy_minimised(v.mv_data, v.mv_size, m->type, fields,
	    &bt->sb)) != 0) {
		bt->sb.size = mark;
		return cerr_set(err, rc, "stored record %llu is damaged",
		    (unsigned long long)m->seq);
	}
	memset(&e, 0, sizeof(e));
	e.kind = USE_DELIVER;
	e.time = now;
	e.has_app = e.has_holder = e.has_token = true;
	memcpy(e.app, s->app.id, ID_BYTES);
	memcpy(e.holder, m->holder, ID_BYTES);
	memcpy(e.token, t->tok.id, TOKID_BYTES);
	e.type = m->type;
	e.rseq = m->seq;
	strcpy(e.purpose, t->tok.purpose);
	if (!b->bench_nolog && (rc = ulog_append(b, txn, t->tok.user, &e,
	    err)) != 0) {
		bt->sb.size = mark;
		return rc;
	}
	bt->n++;
	bt->per_type[m->type->index]++;
	return 0;
}

/* Walk one token's stream while credit and budget last. */
static int
deliver_token(struct broker *b, MDB_txn *txn, struct session *s,
    struct app_token *t, int64_t now, size_t *budget, struct batch *bt,
    struct cerr *err)
{
	struct consent_query q = {
		.app = &s->app, .user = t->tok.user, .now = now,
	};
	struct token_state st;
	struct recmeta m;
	uint64_t last, fields, before;
	int rc, verdict;

	if ((rc = user_last_get(b, txn, t->tok.user, &last)) != 0)
		return cerr_set(err, rc, "reading a user's stream");
	if (last <= t->scan)
		return 0;
	/* The authority on revocation is this transaction, not memory. */
	if ((rc = store_token_get(b->store, txn, t->tok.id, &st)) != 0 ||
	    st.state == TOKEN_REVOKED || st.state == TOKEN_EXPIRED) {
		t->ended = true;
		return 0;
	}
	if (st.state == TOKEN_PAUSED)
		return 0; /* kept: resumes from where it stood */
	while (s->credit > 0 && *budget > 0) {
		rc = store_user_next(b->store, txn, t->tok.user, t->scan, &m);
		if (rc == CARNET_E_NOT_FOUND)
			break;
		if (rc != 0)
			return cerr_set(err, rc, "reading a user's stream");
		q.holder = m.holder;
		q.type = m.type;
		q.record_time = m.time;
		verdict = consent_check(&t->tok, &q, &fields);
		if (verdict == CARNET_E_NOT_YET_VALID)
			break; /* look again on a later tick */
		if (verdict == CARNET_E_EXPIRED) {
			/* its timer (due now) ends it, logs it, tells the app */
			t->ended = true;
			break;
		}
		if ((rc = undo_note(b, &t->scan)) != 0)
			return cerr_set(err, rc, "out of memory");
		before = t->scan;
		t->scan = m.seq;
		if (verdict != 0)
			continue; /* not covered: skipped, never sent */
		if ((rc = deliver_one(b, txn, s, t, &m, fields, now, bt,
		    err)) == CARNET_E_LOG_BROKEN) {
			/* Nothing goes out unlogged: this person's records wait
			 * until the operator repairs their log; the others'
			 * go on. */
			t->scan = before;
			if (now - b->log_broken_warned >= 60) {
				b->log_broken_warned = now;
				log_warnx("records held back: %s",
				    cerr_msg(err));
			}
			return 0;
		}
		if (rc != 0)
			return rc;
		if ((rc = undo_note(b, &s->credit)) != 0)
			return cerr_set(err, rc, "out of memory");
		s->credit--;
		(*budget)--;
	}
	return 0;
}

static int
deliver_session(struct broker *b, MDB_txn *txn, struct session *s,
    int64_t now, size_t *budget, struct cerr *err)
{
	struct batch bt;
	struct outmsg *out;
	unsigned k, i;
	int rc = 0;

	memset(&bt, 0, sizeof(bt));
	msgpack_sbuffer_init(&bt.sb);
	msgpack_packer_init(&bt.pk, &bt.sb, msgpack_sbuffer_write);
	bt.expect = s->credit < *budget ? s->credit : *budget;
	for (k = 0; k < s->ntokens && s->credit > 0 && *budget > 0; k++) {
		i = (s->next_token + k) % s->ntokens;
		if (s->tokens[i].ended)
			continue;
		if ((rc = deliver_token(b, txn, s, &s->tokens[i], now, budget,
		    &bt, err)) != 0)
			break;
		if (s->credit == 0 || *budget == 0)
			s->next_token = i; /* resume here next turn */
	}
	for (i = 0; rc == 0 && i < schema_count(); i++)
		if (bt.per_type[i] != 0) {
			char key[160];

			snprintf(key, sizeof(key), "deliver/%s/%s", s->app.name,
			    schema_by_index(i)->name);
			rc = store_stat_add(b->store, txn, key, bt.per_type[i],
			    err);
		}
	if (rc == 0 && bt.n > 0) {
		if ((out = out_push(b, s->conn, MSG_REC, false)) == NULL) {
			rc = cerr_set(err, CARNET_E_NOMEM, "out of memory");
		} else {
			/* the buffer itself becomes the message: no copy */
			out->skip = batch_finish(&bt);
			msgpack_sbuffer_destroy(&out->body);
			out->body = bt.sb;
			msgpack_sbuffer_init(&bt.sb);
			out_count(out, s->conn);
			b->n_sent += bt.n;
		}
	}
	msgpack_sbuffer_destroy(&bt.sb);
	return rc;
}

int
deliver_pass(struct broker *b, MDB_txn *txn, int64_t now, struct cerr *err)
{
	size_t budget = BROKER_TURN_MAX_SENDS, count, start, i;
	struct session *s, *tmp;
	int pass, rc;

	b->work = false;
	count = HASH_COUNT(b->sessions);
	if (count == 0)
		return 0;
	/* Start one session further each turn, so none waits for ever. */
	start = b->turn % count;
	for (pass = 0; pass < 2; pass++) {
		i = 0;
		HASH_ITER(hh, b->sessions, s, tmp) {
			bool mine = pass == 0 ? i >= start : i < start;

			i++;
			/* credit is the app's word; bytes it has not read are
			 * what the broker holds for it */
			if (!mine || s->credit == 0 || !conn_may_queue(s->conn))
				continue;
			if ((rc = deliver_session(b, txn, s, now, &budget,
			    err)) != 0)
				return rc;
			if (budget == 0) {
				b->work = true;
				return 0;
			}
		}
	}
	return 0;
}
