/*
 * app.c: an app's commands: SUB (its feed), CREDIT, ACK, UNSUB; REQUEST
 * (asking a person for consent, within limits); ERASED (confirming it
 * erased what it got under an ended consent).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "../common/mpk.h"
#include "../common/text.h"
#include "../policy/consent.h"
#include "broker.h"

/* A consent of the app's the person gave, usable now or after a pause. */
struct live_scan {
	struct req *r;
	bool live;
};

static int
live_one(void *arg, const uint8_t tok[TOKID_BYTES])
{
	struct live_scan *ls = arg;
	struct token_state st;
	struct token t;

	if (store_token_get(ls->r->b->store, ls->r->txn, tok, &st) != 0 ||
	    (st.state != TOKEN_ACTIVE && st.state != TOKEN_PAUSED) ||
	    token_peek(st.blob, st.blob_len, &t, NULL) != 0 ||
	    memcmp(t.app, ls->r->from->id, ID_BYTES) != 0 ||
	    consent_live(&t, ls->r->now) == CARNET_E_EXPIRED)
		return 0;
	ls->live = true;
	return 1; /* found: stop */
}

/*
 * SUB may name the people whose feeds the app asks for: each one it has
 * no live consent from is a refused attempt, written to their log.
 */
static int
sub_users(struct req *r, const msgpack_object *users, unsigned *nlive,
    struct cerr *why, struct cerr *err)
{
	const struct party *user;
	uint32_t i;
	int rc;

	*nlive = 0;
	if (users->type != MSGPACK_OBJECT_ARRAY || users->via.array.size == 0 ||
	    users->via.array.size > SUB_MAX_USERS)
		return cerr_set(err, CARNET_E_MALFORMED,
		    "SUB: users is a list of 1 to %d person ids", SUB_MAX_USERS);
	for (i = 0; i < users->via.array.size; i++) {
		const msgpack_object *u = &users->via.array.ptr[i];
		struct live_scan ls = {r, false};

		if (u->type != MSGPACK_OBJECT_BIN || u->via.bin.size != ID_BYTES ||
		    party_of_role(r, (const uint8_t *)u->via.bin.ptr, ROLE_USER,
		    &user) != 0)
			return cerr_set(err, CARNET_E_UNKNOWN_PARTY,
			    "SUB: users[%u] is not a registered person", i + 1);
		/* the person's consents: a few, however many the app has */
		rc = store_tokens_of_user(r->b->store, r->txn, user->id,
		    live_one, &ls);
		if (rc != 0 && rc != 1)
			return cerr_set(err, rc, "SUB: %s", carnet_strerror(rc));
		if (ls.live) {
			(*nlive)++;
			continue;
		}
		cerr_set(why, CARNET_E_NO_CONSENT, "SUB: %s has no live "
		    "consent for app %s", user->name, r->from->name);
		if ((rc = ulog_refused(r, user->id, why, err)) != 0)
			return rc;
	}
	return 0;
}

int
handle_sub(struct req *r, struct cerr *err)
{
	const msgpack_object *users = mpk_get(r->body, "users");
	struct cerr why = {0};
	struct session *s;
	unsigned nlive = 0, reminders = 0;
	int rc;

	if ((rc = body_keys(r, err, "users", NULL)) != 0)
		return rc;
	if (r->conn == NULL)
		return cerr_set(err, CARNET_E_TRANSPORT,
		    "SUB: this connection has ended");
	if (users != NULL) {
		if ((rc = sub_users(r, users, &nlive, &why, err)) != 0)
			return rc;
		if (nlive == 0) {
			/* every one refused (and logged): so is the SUB */
			reply_error(r, &why);
			return 0;
		}
	}
	if ((rc = session_subscribe(r->b, r->txn, r->conn, r->from, users,
	    time_now_ms(), &s, &reminders, err)) != 0)
		return rc;
	log_info("app %s subscribed%s (%u ended consents to erase told "
	    "again)", r->from->name, users != NULL ? " for some people" : "",
	    reminders);
	reply_begin(r, 1);
	mpk_pack_cstr(&r->pk, "reminders");
	msgpack_pack_uint32(&r->pk, reminders);
	return 0;
}

/* The feed this very connection opened: never another's. */
static int
subscribed(struct req *r, struct session **s, struct cerr *err)
{
	if (r->conn == NULL || (*s = r->conn->session) == NULL)
		return cerr_set(err, CARNET_E_BAD_ARG,
		    "%s: send SUB first", proto_cmd_name(r->cmd));
	(*s)->last_seen_ms = time_now_ms();
	return 0;
}

int
handle_credit(struct req *r, struct cerr *err)
{
	struct session *s;
	uint64_t n;
	int rc;

	if ((rc = body_keys(r, err, "n", NULL)) != 0 ||
	    (rc = subscribed(r, &s, err)) != 0)
		return rc;
	if (mpk_u64(mpk_get(r->body, "n"), &n) != 0 || n > CREDIT_MAX)
		return cerr_set(err, CARNET_E_BAD_VALUE,
		    "CREDIT: want n, from 0 to %d", CREDIT_MAX);
	s->credit += n;
	if (s->credit > CREDIT_MAX)
		s->credit = CREDIT_MAX;
	if (n > 0)
		session_wake(r->b, s);
	return 0;
}

int
handle_unsub(struct req *r, struct cerr *err)
{
	struct session *s;
	int rc;

	if ((rc = body_keys(r, err, NULL)) != 0)
		return rc;
	/* The socket monitor tells us when a connection ends; an app that
	 * leaves says so first, so that nothing is logged as sent to it. */
	if (r->conn != NULL && (s = r->conn->session) != NULL)
		session_drop(r->b, s);
	return 0;
}

/*
 * The app has what it got under t up to seq.  When that is all this
 * connection sent under t, the cursor goes as far as the connection
 * looked (what lay between was not covered by t); a consent whose cursor
 * covers its person's stream is no longer due.
 */
static int
ack_one(struct req *r, const struct token *t, uint64_t seq, struct cerr *err)
{
	struct session *s = r->conn != NULL ? r->conn->session : NULL;
	struct inflight *e = s != NULL ? inflight_find(s, t->id) : NULL;
	uint64_t cursor, last;
	int rc;

	if (e != NULL && seq >= e->sent && e->scan > seq)
		seq = e->scan;
	if ((rc = store_cursor_advance(r->b->store, r->txn, t->id, seq,
	    &cursor, err)) != 0)
		return rc;
	if ((rc = user_last_get(r->b, r->txn, t->user, &last)) != 0)
		return cerr_set(err, rc, "ACK: %s", carnet_strerror(rc));
	if (e != NULL && e->scan <= cursor)
		inflight_free(r->b, s, e);
	if (last <= cursor)
		return store_due_del(r->b->store, r->txn, t->app, t->id, err);
	return 0;
}

int
handle_ack(struct req *r, struct cerr *err)
{
	const msgpack_object *acks = mpk_get(r->body, "acks");
	struct token_state st;
	struct token t;
	uint32_t i;
	int rc;

	if ((rc = body_keys(r, err, "acks", NULL)) != 0)
		return rc;
	if (acks == NULL || acks->type != MSGPACK_OBJECT_ARRAY ||
	    acks->via.array.size > ACK_MAX_ENTRIES)
		return cerr_set(err, CARNET_E_MALFORMED,
		    "ACK: want acks, a list of [token, seq]");
	for (i = 0; i < acks->via.array.size; i++) {
		const msgpack_object *a = &acks->via.array.ptr[i];
		uint8_t tok[TOKID_BYTES];
		uint64_t seq;

		if (a->type != MSGPACK_OBJECT_ARRAY || a->via.array.size != 2 ||
		    mpk_bin_n(&a->via.array.ptr[0], tok, TOKID_BYTES) != 0 ||
		    mpk_u64(&a->via.array.ptr[1], &seq) != 0)
			return cerr_set(err, CARNET_E_MALFORMED,
			    "ACK: entry %u is not [token, seq]", i + 1);
		/* An app moves only its own cursors. */
		if ((rc = store_token_get(r->b->store, r->txn, tok, &st)) != 0 ||
		    (rc = token_peek(st.blob, st.blob_len, &t, NULL)) != 0 ||
		    memcmp(t.app, r->from->id, ID_BYTES) != 0)
			return cerr_set(err, CARNET_E_UNKNOWN_TOKEN,
			    "ACK: entry %u names a token not granted to you",
			    i + 1);
		if ((rc = ack_one(r, &t, seq, err)) != 0)
			return rc;
	}
	return 0;
}

struct req_count {
	const uint8_t *app;
	unsigned all, mine;
};

static int
req_count_one(void *arg, uint64_t seq, const MDB_val *v)
{
	struct req_count *rc = arg;
	msgpack_unpacked tree;
	uint8_t app[ID_BYTES];

	(void)seq;
	rc->all++;
	if (mpk_unpack(v->mv_data, v->mv_size, 2, &tree) != 0)
		return 0;
	if (mpk_bin_n(mpk_get(&tree.data, "app"), app, ID_BYTES) == 0 &&
	    memcmp(app, rc->app, ID_BYTES) == 0)
		rc->mine++;
	msgpack_unpacked_destroy(&tree);
	return 0;
}

/*
 * Room for one more request from the sender to user: a few waiting per
 * app and person, a bound per person, a rate per app.  Refused without a
 * word in the person's log, so that a flood cannot fill it.
 */
static int
request_room(struct req *r, const struct party *user, struct cerr *err)
{
	struct req_count n = {r->from->id, 0, 0};
	int rc;

	if ((rc = store_requests_foreach(r->b->store, r->txn, user->id, 0,
	    REQUESTS_PER_PERSON, req_count_one, &n)) != 0)
		return cerr_set(err, rc, "REQUEST: %s", carnet_strerror(rc));
	if (n.mine >= REQUESTS_PER_APP_PERSON)
		return cerr_set(err, CARNET_E_RATE, "REQUEST: %u of your "
		    "requests wait for %s's answer: ask again once they have "
		    "answered", n.mine, user->name);
	if (n.all >= REQUESTS_PER_PERSON)
		return cerr_set(err, CARNET_E_RATE, "REQUEST: %u requests wait "
		    "for %s's answer: ask again later", n.all, user->name);
	if (!conn_may_request(r->b, r->from->id))
		return cerr_set(err, CARNET_E_RATE, "REQUEST: more than %d "
		    "requests, at more than %d a second: slow down",
		    REQUESTS_BURST, REQUESTS_PER_S);
	return 0;
}

int
handle_request(struct req *r, struct cerr *err)
{
	const msgpack_object *types = mpk_get(r->body, "types");
	const msgpack_object *note = mpk_get(r->body, "note");
	char purpose[PURPOSE_MAX_BYTES + 1];
	uint8_t user_id[ID_BYTES];
	const struct party *user;
	struct uselog_entry e;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	int rc;

	if ((rc = body_keys(r, err, "user", "types", "purpose", "note",
	    NULL)) != 0)
		return rc;
	if (mpk_bin_n(mpk_get(r->body, "user"), user_id, ID_BYTES) != 0 ||
	    party_of_role(r, user_id, ROLE_USER, &user) != 0)
		return cerr_set(err, CARNET_E_UNKNOWN_PARTY,
		    "REQUEST: user is not registered");
	if (mpk_cstr(mpk_get(r->body, "purpose"), purpose,
	    sizeof(purpose)) != 0 || !party_has_purpose(r->from, purpose))
		return cerr_set(err, CARNET_E_PURPOSE,
		    "REQUEST: purpose must be one the app %s declared",
		    r->from->name);
	if (types == NULL || types->type != MSGPACK_OBJECT_ARRAY ||
	    types->via.array.size == 0 ||
	    types->via.array.size > TOKEN_MAX_TYPES)
		return cerr_set(err, CARNET_E_MALFORMED,
		    "REQUEST: want types, a list of record types");
	if ((rc = body_types(r, types, err)) != 0)
		return rc;
	if (note != NULL && (note->type != MSGPACK_OBJECT_STR ||
	    note->via.str.size > REQUEST_NOTE_MAX_BYTES ||
	    !utf8_valid(note->via.str.ptr, note->via.str.size)))
		return cerr_set(err, CARNET_E_BAD_VALUE,
		    "REQUEST: note must be text of at most %d bytes",
		    REQUEST_NOTE_MAX_BYTES);
	if (note != NULL && !text_printable(note->via.str.ptr,
	    note->via.str.size))
		return cerr_set(err, CARNET_E_CONTROL_CHARS, "REQUEST: the note "
		    "holds control or escape characters: they could change "
		    "what the person is shown");
	if ((rc = request_room(r, user, err)) != 0)
		return rc;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 5);
	mpk_pack_cstr(&pk, "app");
	mpk_pack_binn(&pk, r->from->id, ID_BYTES);
	mpk_pack_cstr(&pk, "purpose");
	mpk_pack_cstr(&pk, purpose);
	mpk_pack_cstr(&pk, "types");
	msgpack_pack_object(&pk, *types);
	mpk_pack_cstr(&pk, "note");
	if (note != NULL)
		msgpack_pack_object(&pk, *note);
	else
		mpk_pack_cstr(&pk, "");
	mpk_pack_cstr(&pk, "time");
	msgpack_pack_int64(&pk, r->now);
	rc = store_request_add(r->b->store, r->txn, user_id, sb.data, sb.size,
	    err);
	msgpack_sbuffer_destroy(&sb);
	if (rc != 0)
		return rc;
	ulog_entry_init(&e, r, USE_REQUEST);
	e.has_app = true;
	memcpy(e.app, r->from->id, ID_BYTES);
	strcpy(e.purpose, purpose);
	if ((rc = ulog_append(r->b, r->txn, user_id, &e,
	    err)) != 0 ||
	    (rc = stat_add(r, err, 1, "request/%s", r->from->name)) != 0)
		return rc;
	reply_begin(r, 0);
	return 0;
}

int
handle_erased(struct req *r, struct cerr *err)
{
	uint8_t id[TOKID_BYTES];
	struct token_state st;
	struct uselog_entry e;
	struct token t;
	bool already;
	int rc;

	if ((rc = body_keys(r, err, "token", NULL)) != 0)
		return rc;
	if (mpk_bin_n(mpk_get(r->body, "token"), id, TOKID_BYTES) != 0)
		return cerr_set(err, CARNET_E_MALFORMED,
		    "ERASED: want token, a consent id");
	if (store_token_get(r->b->store, r->txn, id, &st) != 0 ||
	    token_peek(st.blob, st.blob_len, &t, NULL) != 0 ||
	    memcmp(t.app, r->from->id, ID_BYTES) != 0)
		return cerr_set(err, CARNET_E_UNKNOWN_TOKEN,
		    "ERASED: no consent with this id was granted to you");
	already = st.erased_at != 0;
	if ((rc = store_token_erased(r->b->store, r->txn, &t, r->now,
	    err)) != 0)
		return rc;
	if (!already) {
		ulog_entry_init(&e, r, USE_ERASED);
		ulog_entry_about(&e, &t);
		if ((rc = ulog_append(r->b, r->txn, t.user, &e,
		    err)) != 0 ||
		    (rc = stat_add(r, err, 1, "erased/%s", r->from->name)) != 0)
			return rc;
	}
	reply_begin(r, 2);
	mpk_pack_cstr(&r->pk, "token");
	mpk_pack_binn(&r->pk, id, TOKID_BYTES);
	mpk_pack_cstr(&r->pk, "already");
	msgpack_pack_int(&r->pk, already);
	return 0;
}
