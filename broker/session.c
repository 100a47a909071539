/*
 * session.c: subscribed app connections.
 *
 * A session exists only for a connection that sent SUB (one per
 * connection, owned by it: it ends with it); other requests are
 * stateless.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../common/mpk.h"
#include "../common/text.h"
#include "../policy/consent.h"
#include "broker.h"

static int
session_add_token(struct session *s, const struct token *t, uint64_t cursor)
{
	struct app_token *at;

	if (s->ntokens == s->captokens) {
		unsigned cap = s->captokens ? 2 * s->captokens : 8;
		struct app_token *n = realloc(s->tokens, cap * sizeof(*n));

		if (n == NULL)
			return CARNET_E_NOMEM;
		s->tokens = n;
		s->captokens = cap;
	}
	at = &s->tokens[s->ntokens++];
	memset(at, 0, sizeof(*at));
	at->tok = *t;
	at->scan = cursor;
	return 0;
}

struct sub_load {
	struct broker *b;
	MDB_txn *txn;
	struct session *s;
	const msgpack_object *users;
	unsigned reminders;
	int rc;
};

static bool
user_listed(const msgpack_object *users, const uint8_t user[ID_BYTES])
{
	uint32_t i;

	if (users == NULL)
		return true;
	for (i = 0; i < users->via.array.size; i++) {
		const msgpack_object *u = &users->via.array.ptr[i];

		if (u->type == MSGPACK_OBJECT_BIN && u->via.bin.size == ID_BYTES &&
		    memcmp(u->via.bin.ptr, user, ID_BYTES) == 0)
			return true;
	}
	return false;
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

/* An ended token the app has not confirmed erasing: tell it again. */
static void
remind_erase(struct sub_load *sl, const struct token_state *st)
{
	struct token t;

	if (sl->reminders >= SUB_MAX_REMINDERS ||
	    token_peek(st->blob, st->blob_len, &t, NULL) != 0)
		return;
	sl->reminders++;
	push_revoked(sl->b, sl->txn, sl->s, &t, st->state == TOKEN_EXPIRED ?
	    "expired" : "revoked");
}

static int
sub_load_one(void *arg, const uint8_t user[ID_BYTES],
    const uint8_t tok[TOKID_BYTES])
{
	struct sub_load *sl = arg;
	struct token_state st;
	struct token t;
	uint64_t cursor;

	if (!user_listed(sl->users, user))
		return 0;
	if ((sl->rc = store_token_get(sl->b->store, sl->txn, tok, &st)) != 0)
		return sl->rc;
	if (st.state == TOKEN_REVOKED || st.state == TOKEN_EXPIRED) {
		if (st.erased_at == 0)
			remind_erase(sl, &st);
		return 0;
	}
	/* The signature was checked at GRANT; the stored bytes are ours. */
	if ((sl->rc = token_peek(st.blob, st.blob_len, &t, NULL)) != 0 ||
	    (sl->rc = store_cursor_get(sl->b->store, sl->txn, tok,
	    &cursor)) != 0 ||
	    (sl->rc = session_add_token(sl->s, &t, cursor)) != 0)
		return sl->rc;
	return 0;
}

int
session_subscribe(struct broker *b, MDB_txn *txn, struct conn *c,
    const struct party *app, const msgpack_object *users, int64_t now,
    struct session **out, struct cerr *err)
{
	struct session *s;
	struct sub_load sl;
	int rc;

	/* A repeated SUB starts again from the cursors. */
	if (c->session != NULL)
		session_drop(b, c->session);
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return cerr_set(err, CARNET_E_NOMEM, "out of memory");
	s->conn = c;
	s->app = *app;
	s->last_seen_ms = now;
	sl = (struct sub_load){b, txn, s, users, 0, 0};
	/* the reminders go to this connection: it must exist first */
	HASH_ADD(hh, b->sessions, conn, sizeof(s->conn), s);
	c->session = s;
	c->send_failed = false; /* what failed before this feed is not its */
	rc = store_tokens_of_app(b->store, txn, app->id, sub_load_one, &sl);
	if (rc != 0) {
		session_drop(b, s);
		return cerr_set(err, rc, "loading the app's tokens: %s",
		    carnet_strerror(rc));
	}
	b->work = true;
	*out = s;
	return 0;
}

void
session_drop(struct broker *b, struct session *s)
{
	if (s->conn != NULL && s->conn->session == s)
		s->conn->session = NULL;
	HASH_DEL(b->sessions, s);
	free(s->tokens);
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
session_expire_idle(struct broker *b, int64_t now)
{
	struct session *s, *tmp;

	HASH_ITER(hh, b->sessions, s, tmp)
		if (now - s->last_seen_ms > SESSION_IDLE_MS) {
			log_info("app %s: connection idle, dropped", s->app.name);
			session_drop(b, s);
		}
}

void
session_token_granted(struct broker *b, const struct token *t)
{
	struct session *s, *tmp;

	HASH_ITER(hh, b->sessions, s, tmp)
		if (memcmp(s->app.id, t->app, ID_BYTES) == 0 &&
		    session_add_token(s, t, 0) != 0)
			log_warnx("app %s: out of memory adding a token",
			    s->app.name);
	b->work = true;
}

void
session_token_skip(struct broker *b, const uint8_t tok[TOKID_BYTES],
    uint64_t seq)
{
	struct session *s, *tmp;
	unsigned i;

	HASH_ITER(hh, b->sessions, s, tmp)
		for (i = 0; i < s->ntokens; i++)
			if (memcmp(s->tokens[i].tok.id, tok, TOKID_BYTES) == 0 &&
			    s->tokens[i].scan < seq)
				s->tokens[i].scan = seq;
}

void
session_token_ended(struct broker *b, MDB_txn *txn, const struct token *t,
    const char *reason)
{
	struct session *s, *tmp;
	unsigned i;

	HASH_ITER(hh, b->sessions, s, tmp) {
		if (memcmp(s->app.id, t->app, ID_BYTES) != 0)
			continue;
		for (i = 0; i < s->ntokens; i++)
			if (memcmp(s->tokens[i].tok.id, t->id, TOKID_BYTES) == 0)
				s->tokens[i].ended = true;
		push_revoked(b, txn, s, t, reason);
	}
}

void
session_token_renewed(struct broker *b, const struct token *t)
{
	struct session *s, *tmp;
	unsigned i;

	HASH_ITER(hh, b->sessions, s, tmp)
		for (i = 0; i < s->ntokens; i++)
			if (memcmp(s->tokens[i].tok.id, t->id, TOKID_BYTES) == 0)
				s->tokens[i].tok = *t;
	b->work = true;
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
