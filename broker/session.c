/*
 * session.c: subscribed app connections.
 *
 * A session exists only for a connection that sent SUB (one per
 * connection, owned by it: it ends with it); other requests are
 * stateless.  A session holds no consents: the delivery pass (deliver.c)
 * walks the app's due index in LMDB.  It keeps only where it stands:
 * the tokens it sent records under that the app has not acked yet (at
 * most b->inflight_max for all of an app's feeds), its place in the due
 * index, its credit.
 *
 * A session is awake (on b->awake) when the pass may find something to
 * send it: records stored for people who consent to its app, a grant or
 * a resume, its own CREDIT or ACK, a time it asked to be woken at.  An
 * idle consent costs nothing: nothing wakes for it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <utlist.h>

#include "../common/mpk.h"
#include "../common/text.h"
#include "../policy/consent.h"
#include "broker.h"

/* The sessions of one app, to wake them together, and what they have
 * in flight together. */
struct app_feeds {
	uint8_t app[ID_BYTES];
	struct session *list; /* through snext, sprev */
	unsigned ninflight;   /* the inflight entries of its sessions */
	bool blocked;         /* one of them waited for room */
	UT_hash_handle hh;
};

static int
id_cmp(const void *a, const void *b)
{
	return memcmp(a, b, ID_BYTES);
}

bool
session_wants_user(const struct session *s, const uint8_t user[ID_BYTES])
{
	return s->users == NULL || bsearch(user, s->users, s->nusers, ID_BYTES,
	    id_cmp) != NULL;
}

/* REVOKED {token, user, reason, erase: {types, holders, through}}. */
static void
pack_revoked(struct broker *b, MDB_txn *txn, msgpack_packer *pk,
    const struct token *t, const char *reason)
{
	uint64_t through = 0;
	unsigned i;

	if (store_cursor_get(b->store, txn, t->id, &through) != 0)
		through = 0;
	msgpack_pack_map(pk, 4);
	mpk_pack_cstr(pk, "token");
	mpk_pack_binn(pk, t->id, TOKID_BYTES);
	mpk_pack_cstr(pk, "user");
	mpk_pack_binn(pk, t->user, ID_BYTES);
	mpk_pack_cstr(pk, "reason");
	mpk_pack_cstr(pk, reason);
	/* What the app must erase: all it got under the token. */
	mpk_pack_cstr(pk, "erase");
	msgpack_pack_map(pk, 3);
	mpk_pack_cstr(pk, "types");
	msgpack_pack_array(pk, t->ntypes);
	for (i = 0; i < t->ntypes; i++)
		mpk_pack_cstr(pk, t->types[i].type->name);
	mpk_pack_cstr(pk, "holders");
	token_pack_holders(pk, t);
	mpk_pack_cstr(pk, "through");
	msgpack_pack_uint64(pk, through);
}

/* Queue REVOKED about t to one connection. */
static void
push_revoked(struct broker *b, MDB_txn *txn, const struct session *s,
    const struct token *t, const char *reason)
{
	struct outmsg *m;
	msgpack_packer pk;

	if ((m = out_push(b, s->conn, MSG_REVOKED, false)) == NULL)
		return;
	msgpack_packer_init(&pk, &m->body, msgpack_sbuffer_write);
	pack_revoked(b, txn, &pk, t, reason);
}

struct reminders {
	struct broker *b;
	MDB_txn *txn;
	struct session *s;
	unsigned n;
	int rc;
};

/* An ended token the app has not confirmed erasing: tell it again. */
static int
remind_one(void *arg, const uint8_t user[ID_BYTES],
    const uint8_t tok[TOKID_BYTES])
{
	struct reminders *rm = arg;
	struct token_state st;
	struct token t;

	if (!session_wants_user(rm->s, user))
		return 0;
	if (store_token_get(rm->b->store, rm->txn, tok, &st) != 0 ||
	    token_peek(st.blob, st.blob_len, &t, NULL) != 0)
		return 0; /* not ours to judge here: the index is a hint */
	push_revoked(rm->b, rm->txn, rm->s, &t, st.state == TOKEN_EXPIRED ?
	    "expired" : "revoked");
	return ++rm->n >= SUB_MAX_REMINDERS;
}

static int
session_users(struct session *s, const msgpack_object *users)
{
	uint32_t i;

	if (users == NULL)
		return 0;
	if ((s->users = calloc(users->via.array.size, ID_BYTES)) == NULL)
		return CARNET_E_NOMEM;
	for (i = 0; i < users->via.array.size; i++) {
		const msgpack_object *u = &users->via.array.ptr[i];

		/* SUB checked each one */
		if (u->type == MSGPACK_OBJECT_BIN && u->via.bin.size == ID_BYTES)
			memcpy(s->users[s->nusers++], u->via.bin.ptr, ID_BYTES);
	}
	qsort(s->users, s->nusers, ID_BYTES, id_cmp);
	return 0;
}

int
session_subscribe(struct broker *b, MDB_txn *txn, struct conn *c,
    const struct party *app, const msgpack_object *users, int64_t now,
    struct session **out, unsigned *reminders, struct cerr *err)
{
	struct app_feeds *f = NULL;
	struct reminders rm;
	struct session *s;
	int rc;

	/* A repeated SUB starts again from the cursors. */
	if (c->session != NULL)
		session_drop(b, c->session);
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    session_users(s, users) != 0) {
		free(s);
		return cerr_set(err, CARNET_E_NOMEM, "out of memory");
	}
	HASH_FIND(hh, b->feeds, app->id, ID_BYTES, f);
	if (f == NULL) {
		/* made only with a session to put in it: never left empty */
		if ((f = calloc(1, sizeof(*f))) == NULL) {
			free(s->users);
			free(s);
			return cerr_set(err, CARNET_E_NOMEM, "out of memory");
		}
		memcpy(f->app, app->id, ID_BYTES);
		HASH_ADD(hh, b->feeds, app, ID_BYTES, f);
	}
	s->conn = c;
	s->app = *app;
	s->feeds = f;
	s->last_seen_ms = now;
	/* the reminders go to this connection: it must exist first */
	HASH_ADD(hh, b->sessions, conn, sizeof(s->conn), s);
	DL_APPEND2(f->list, s, sprev, snext);
	c->session = s;
	c->send_failed = false; /* what failed before this feed is not its */
	rm = (struct reminders){b, txn, s, 0, 0};
	rc = store_unerased_of_app(b->store, txn, app->id, remind_one, &rm);
	if (rc != 0 && rc != 1) {
		session_drop(b, s);
		return cerr_set(err, rc, "reading the app's ended consents: %s",
		    carnet_strerror(rc));
	}
	session_wake(b, s);
	*reminders = rm.n;
	*out = s;
	return 0;
}

void
session_wake(struct broker *b, struct session *s)
{
	if (!s->awake) {
		s->awake = true;
		DL_APPEND2(b->awake, s, aprev, anext);
	}
	b->work = true;
}

void
session_sleep(struct broker *b, struct session *s)
{
	if (s->awake) {
		s->awake = false;
		DL_DELETE2(b->awake, s, aprev, anext);
	}
}

void
session_wake_all(struct broker *b)
{
	struct session *s, *tmp;

	HASH_ITER(hh, b->sessions, s, tmp)
		session_wake(b, s);
}

void
session_wake_at(struct session *s, int64_t at)
{
	if (s->wake_at == 0 || at < s->wake_at)
		s->wake_at = at;
}

void
session_wake_app(struct broker *b, const uint8_t app[ID_BYTES])
{
	struct app_feeds *f = NULL;
	struct session *s;

	HASH_FIND(hh, b->feeds, app, ID_BYTES, f);
	if (f != NULL)
		DL_FOREACH2(f->list, s, snext)
			session_wake(b, s);
}

struct inflight *
inflight_find(struct session *s, const uint8_t tok[TOKID_BYTES])
{
	struct inflight *e = NULL;

	HASH_FIND(hh, s->inflight, tok, TOKID_BYTES, e);
	return e;
}

bool
inflight_full(const struct broker *b, struct session *s)
{
	if (s->feeds->ninflight < b->inflight_max)
		return false;
	s->feeds->blocked = true; /* an ACK to any of them makes room */
	return true;
}

struct inflight *
inflight_add(struct session *s, const uint8_t tok[TOKID_BYTES], uint64_t scan)
{
	struct inflight *e = calloc(1, sizeof(*e));

	if (e == NULL)
		return NULL;
	memcpy(e->tok, tok, TOKID_BYTES);
	e->scan = e->sent = scan;
	HASH_ADD(hh, s->inflight, tok, TOKID_BYTES, e);
	s->ninflight++;
	s->feeds->ninflight++;
	return e;
}

/* n entries of s's went: room for the app's feeds if they waited. */
static void
inflight_gone(struct broker *b, struct session *s, unsigned n)
{
	struct app_feeds *f = s->feeds;

	s->ninflight -= n;
	f->ninflight -= n;
	if (f->blocked && n > 0) {
		f->blocked = false;
		session_wake_app(b, f->app);
	}
}

void
inflight_free(struct broker *b, struct session *s, struct inflight *e)
{
	HASH_DEL(s->inflight, e);
	free(e);
	inflight_gone(b, s, 1);
}

void
session_drop(struct broker *b, struct session *s)
{
	struct app_feeds *f;
	struct inflight *e, *tmp;
	unsigned n = s->ninflight;

	if (s->conn != NULL && s->conn->session == s)
		s->conn->session = NULL;
	session_sleep(b, s);
	HASH_DEL(b->sessions, s);
	HASH_ITER(hh, s->inflight, e, tmp) {
		HASH_DEL(s->inflight, e);
		free(e);
	}
	/* the others may take what it had in flight, and its room */
	f = s->feeds;
	DL_DELETE2(f->list, s, sprev, snext);
	inflight_gone(b, s, n);
	if (f->list == NULL) {
		HASH_DEL(b->feeds, f);
		free(f);
	}
	free(s->users);
	free(s);
}

void
session_drop_all(struct broker *b)
{
	struct session *s, *tmp;

	HASH_ITER(hh, b->sessions, s, tmp)
		session_drop(b, s);
}

void
session_tick(struct broker *b, int64_t now_ms)
{
	struct session *s, *tmp;

	HASH_ITER(hh, b->sessions, s, tmp) {
		if (now_ms - s->last_seen_ms > SESSION_IDLE_MS) {
			log_info("app %s: connection idle, dropped", s->app.name);
			session_drop(b, s);
			continue;
		}
		if (s->wake_at != 0 && now_ms / 1000 >= s->wake_at) {
			s->wake_at = 0;
			session_wake(b, s);
		}
	}
}

void
session_token_ended(struct broker *b, MDB_txn *txn, const struct token *t,
    const char *reason)
{
	struct app_feeds *f = NULL;
	struct inflight *e;
	struct session *s;

	token_forget(b, t->id);
	HASH_FIND(hh, b->feeds, t->app, ID_BYTES, f);
	if (f == NULL)
		return;
	DL_FOREACH2(f->list, s, snext) {
		if ((e = inflight_find(s, t->id)) != NULL)
			inflight_free(b, s, e);
		push_revoked(b, txn, s, t, reason);
	}
}

void
session_drop_failed(struct broker *b)
{
	struct session *s, *tmp;

	HASH_ITER(hh, b->sessions, s, tmp) {
		if (!s->conn->send_failed)
			continue;
		log_info("app %s: %s, feed dropped", s->app.name,
		    s->conn->send_errno == EHOSTUNREACH ? "gone" :
		    "not reading");
		s->conn->send_failed = false;
		session_drop(b, s);
	}
}

void
session_conn_ending(struct broker *b, struct conn *c)
{
	if (c->session != NULL)
		session_drop(b, c->session);
}
