/*
 * handlers.c: one handler per command; the loop reads like the protocol.
 *
 * Each handler runs inside its own nested write transaction (r->txn): on
 * error the caller aborts it and sends ERR, so a bad request leaves no
 * trace.  Handlers only queue replies; nothing is sent before the commit.
 * Ids acted upon always come from the authenticated sender (r->from),
 * never from the payload.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "../common/mpk.h"
#include "../common/text.h"
#include "../policy/consent.h"
#include "broker.h"


void
reply_begin(struct req *r, uint32_t nkeys)
{
	msgpack_packer_init(&r->pk, r->reply, msgpack_sbuffer_write);
	msgpack_pack_map(&r->pk, nkeys + (r->has_req ? 1 : 0));
	if (r->has_req) {
		mpk_pack_cstr(&r->pk, "req");
		msgpack_pack_uint64(&r->pk, r->req);
	}
}

void
items_init(struct items *it, struct req *r)
{
	it->r = r;
	it->n = 0;
	msgpack_sbuffer_init(&it->sb);
	msgpack_packer_init(&it->pk, &it->sb, msgpack_sbuffer_write);
}

int
items_reply(struct items *it, const char *key, bool map, uint32_t nextra,
    int rc, struct cerr *err)
{
	if (rc == 0) {
		reply_begin(it->r, 1 + nextra);
		mpk_pack_cstr(&it->r->pk, key);
		if (map)
			msgpack_pack_map(&it->r->pk, it->n);
		else
			msgpack_pack_array(&it->r->pk, it->n);
		msgpack_sbuffer_write(it->r->reply, it->sb.data, it->sb.size);
	}
	msgpack_sbuffer_destroy(&it->sb);
	if (rc != 0 && err != NULL && err->msg[0] == '\0')
		cerr_set(err, rc, "%s: %s", proto_cmd_name(it->r->cmd),
		    carnet_strerror(rc));
	return rc;
}

int
body_keys(struct req *r, struct cerr *err, ...)
{
	const msgpack_object *b = r->body;
	uint32_t i;
	va_list ap;

	for (i = 0; i < b->via.map.size; i++) {
		const msgpack_object *k = &b->via.map.ptr[i].key;
		const char *name;
		bool ok = mpk_str_eq(k, "req") || mpk_str_eq(k, "for");

		va_start(ap, err);
		while (!ok && (name = va_arg(ap, const char *)) != NULL)
			ok = mpk_str_eq(k, name);
		va_end(ap);
		if (!ok)
			return cerr_set(err, CARNET_E_UNKNOWN_FIELD,
			    "%s: unknown key in the request",
			    proto_cmd_name(r->cmd));
	}
	return 0;
}

int
body_page(struct req *r, uint64_t *from, uint64_t *limit, uint64_t page,
    struct cerr *err)
{
	const msgpack_object *o;
	int rc;

	*limit = page;
	if ((rc = body_keys(r, err, "from", "limit", NULL)) != 0)
		return rc;
	if (((o = mpk_get(r->body, "from")) != NULL && mpk_u64(o, from) != 0) ||
	    ((o = mpk_get(r->body, "limit")) != NULL &&
	    mpk_u64(o, limit) != 0))
		return cerr_set(err, CARNET_E_BAD_VALUE,
		    "%s: from and limit are counts", proto_cmd_name(r->cmd));
	if (*limit == 0 || *limit > page)
		*limit = page;
	return 0;
}

void
log_entry_init(struct uselog_entry *e, struct req *r, enum uselog_kind kind)
{
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->time = r->now;
	if (r->deleg != NULL) {
		e->has_by = true;
		memcpy(e->by, r->from->id, ID_BYTES);
	}
}

void
log_entry_about(struct uselog_entry *e, const struct token *t)
{
	e->has_app = e->has_token = true;
	memcpy(e->app, t->app, ID_BYTES);
	memcpy(e->token, t->id, TOKID_BYTES);
	strcpy(e->purpose, t->purpose);
}

int
signed_arg(struct req *r, const char *key, const char *what,
    const uint8_t **p, size_t *n, struct cerr *err)
{
	const msgpack_object *o = mpk_get(r->body, key);

	if (o == NULL || o->type != MSGPACK_OBJECT_BIN)
		return cerr_set(err, CARNET_E_MALFORMED, "%s: want %s, %s",
		    proto_cmd_name(r->cmd), key, what);
	*p = (const uint8_t *)o->via.bin.ptr;
	*n = o->via.bin.size;
	return 0;
}

/* A refused attempt by the sending app, in the person's log. */
static int
log_refused(struct req *r, const uint8_t user[ID_BYTES],
    const struct cerr *why, struct cerr *err)
{
	struct uselog_entry e;
	int rc;

	log_entry_init(&e, r, USE_REFUSED);
	e.has_app = true;
	memcpy(e.app, r->from->id, ID_BYTES);
	snprintf(e.note, sizeof(e.note), "%.*s", (int)(sizeof(e.note) - 1),
	    why->msg);
	if ((rc = broker_log_append(r->b, r->txn, user, &e, err)) != 0)
		return rc;
	return stat_add(r, err, 1, "refused/%s", r->from->name);
}

/* Reply ERR with why, while what the handler wrote commits. */
static void
reply_error(struct req *r, const struct cerr *why)
{
	msgpack_sbuffer_clear(r->reply);
	out_pack_error(r->reply, r->has_req, r->req, why);
	r->reply_cmd = MSG_ERR;
}

int
refuse_logged(struct req *r, const uint8_t user[ID_BYTES], int code,
    const char *fmt, ...)
{
	struct cerr why = {0}, err = {0};
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(why.msg, sizeof(why.msg), fmt, ap);
	va_end(ap);
	why.code = code;
	if ((rc = log_refused(r, user, &why, &err)) != 0)
		return rc;
	reply_error(r, &why);
	return 0;
}

int
stat_add(struct req *r, struct cerr *err, uint64_t n, const char *fmt, ...)
{
	char key[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(key, sizeof(key), fmt, ap);
	va_end(ap);
	return store_stat_add(r->b->store, r->txn, key, n, err);
}

static int
handle_hello(struct req *r, struct cerr *err)
{
	int rc;

	if ((rc = body_keys(r, err, NULL)) != 0)
		return rc;
	reply_begin(r, 3);
	mpk_pack_cstr(&r->pk, "id");
	mpk_pack_binn(&r->pk, r->from->id, ID_BYTES);
	mpk_pack_cstr(&r->pk, "role");
	mpk_pack_cstr(&r->pk, party_role_name(r->from->role));
	mpk_pack_cstr(&r->pk, "name");
	mpk_pack_cstr(&r->pk, r->from->name);
	return 0;
}

/* The registered party id, which must have role `role`. */
int
party_of_role(struct req *r, const uint8_t id[ID_BYTES], enum party_role role,
    const struct party **p)
{
	int rc = party_cached(r->b, r->txn, id, p);

	if (rc == 0 && (*p)->role != role)
		rc = CARNET_E_UNKNOWN_PARTY;
	if (rc == CARNET_E_NOT_FOUND)
		rc = CARNET_E_UNKNOWN_PARTY;
	return rc;
}

static int
handle_put(struct req *r, struct cerr *err)
{
	const msgpack_object *recs = mpk_get(r->body, "recs");
	uint64_t seqs[PUT_MAX_RECORDS], per_type[256] = {0};
	unsigned stored = 0, dup = 0, i;
	char uid[ID_STR_LEN + 1];
	int rc;

	if ((rc = body_keys(r, err, "recs", NULL)) != 0)
		return rc;
	if (recs == NULL || recs->type != MSGPACK_OBJECT_ARRAY ||
	    recs->via.array.size == 0)
		return cerr_set(err, CARNET_E_MALFORMED,
		    "PUT: want recs, a non-empty list of records");
	if (recs->via.array.size > PUT_MAX_RECORDS)
		return cerr_set(err, CARNET_E_TOO_BIG,
		    "PUT: %u records, at most %d per batch",
		    recs->via.array.size, PUT_MAX_RECORDS);
	{
		uint64_t used, size;

		store_usage(r->b->store, &used, &size);
		if (used * 100 >= size * BROKER_PUT_MAX_FILL_PCT)
			return cerr_set(err, CARNET_E_STORE_FULL,
			    "PUT: the store is %llu%% full: new records wait "
			    "until the operator makes room (carnetd --map-size); "
			    "nothing of this batch was stored",
			    (unsigned long long)(used * 100 / size));
	}
	for (i = 0; i < recs->via.array.size; i++) {
		const struct party *user;
		struct record rec;
		struct cerr rerr = {0};
		bool is_dup;

		if ((rc = record_from_object(&recs->via.array.ptr[i], &rec,
		    &rerr)) != 0)
			return cerr_set(err, rc, "record %u: %s", i + 1,
			    cerr_msg(&rerr));
		if (rec.has_holder &&
		    memcmp(rec.holder, r->from->id, ID_BYTES) != 0)
			return cerr_set(err, CARNET_E_FORBIDDEN,
			    "record %u: names another holder than you", i + 1);
		rec.has_holder = true;
		memcpy(rec.holder, r->from->id, ID_BYTES);
		if (!party_has_type(r->from, rec.type))
			return cerr_set(err, CARNET_E_UNREGISTERED_TYPE,
			    "record %u: holder %s is not registered for type "
			    "%s", i + 1, r->from->name, rec.type->name);
		if ((rc = party_of_role(r, rec.user, ROLE_USER, &user)) != 0) {
			id_encode(rec.user, uid);
			return cerr_set(err, rc, "record %u: user %s is not "
			    "registered", i + 1, uid);
		}
		if ((rc = store_record_put(r->b->store, r->txn, &rec, &seqs[i],
		    &is_dup, &rerr)) != 0)
			return cerr_set(err, rc, "record %u: %s", i + 1,
			    cerr_msg(&rerr));
		if (is_dup) {
			dup++;
			continue;
		}
		stored++;
		per_type[rec.type->index]++;
		user_last_set(r->b, rec.user, seqs[i]);
	}
	for (i = 0; i < schema_count(); i++)
		if (per_type[i] != 0 && (rc = stat_add(r, err, per_type[i],
		    "put/%s/%s", r->from->name, schema_by_index(i)->name)) != 0)
			return rc;
	r->b->n_stored += stored;
	if (stored > 0)
		r->b->work = true;
	r->reply_cmd = MSG_ACK;
	reply_begin(r, 3);
	mpk_pack_cstr(&r->pk, "stored");
	msgpack_pack_uint32(&r->pk, stored);
	mpk_pack_cstr(&r->pk, "dup");
	msgpack_pack_uint32(&r->pk, dup);
	mpk_pack_cstr(&r->pk, "seqs");
	msgpack_pack_array(&r->pk, recs->via.array.size);
	for (i = 0; i < recs->via.array.size; i++)
		msgpack_pack_uint64(&r->pk, seqs[i]);
	return 0;
}

/* A consent the app may use now or after a pause: not ended. */
struct live_scan {
	struct req *r;
	const uint8_t *user;
	bool live;
};

static int
live_one(void *arg, const uint8_t user[ID_BYTES],
    const uint8_t tok[TOKID_BYTES])
{
	struct live_scan *ls = arg;
	struct token_state st;
	struct token t;

	if (memcmp(user, ls->user, ID_BYTES) != 0 ||
	    store_token_get(ls->r->b->store, ls->r->txn, tok, &st) != 0 ||
	    (st.state != TOKEN_ACTIVE && st.state != TOKEN_PAUSED) ||
	    token_peek(st.blob, st.blob_len, &t, NULL) != 0 ||
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
		struct live_scan ls = {r, NULL, false};

		if (u->type != MSGPACK_OBJECT_BIN || u->via.bin.size != ID_BYTES ||
		    party_of_role(r, (const uint8_t *)u->via.bin.ptr, ROLE_USER,
		    &user) != 0)
			return cerr_set(err, CARNET_E_UNKNOWN_PARTY,
			    "SUB: users[%u] is not a registered person", i + 1);
		ls.user = user->id;
		rc = store_tokens_of_app(r->b->store, r->txn, r->from->id,
		    live_one, &ls);
		if (rc != 0 && rc != 1)
			return cerr_set(err, rc, "SUB: %s", carnet_strerror(rc));
		if (ls.live) {
			(*nlive)++;
			continue;
		}
		cerr_set(why, CARNET_E_NO_CONSENT, "SUB: %s has no live "
		    "consent for app %s", user->name, r->from->name);
		if ((rc = log_refused(r, user->id, why, err)) != 0)
			return rc;
	}
	return 0;
}

static int
handle_sub(struct req *r, struct cerr *err)
{
	const msgpack_object *users = mpk_get(r->body, "users");
	struct cerr why = {0};
	struct session *s;
	unsigned nlive = 0;
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
	    now_ms(), &s, err)) != 0)
		return rc;
	log_info("app %s subscribed with %u live tokens", r->from->name,
	    s->ntokens);
	reply_begin(r, 1);
	mpk_pack_cstr(&r->pk, "tokens");
	msgpack_pack_uint32(&r->pk, s->ntokens);
	return 0;
}

/* The feed this very connection opened: never another's. */
static int
subscribed(struct req *r, struct session **s, struct cerr *err)
{
	if (r->conn == NULL || (*s = r->conn->session) == NULL)
		return cerr_set(err, CARNET_E_BAD_ARG,
		    "%s: send SUB first", proto_cmd_name(r->cmd));
	(*s)->last_seen_ms = now_ms();
	return 0;
}

static int
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
		r->b->work = true;
	r->no_reply = true;
	return 0;
}

static int
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
	r->no_reply = true;
	return 0;
}

static int
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
		if ((rc = store_cursor_advance(r->b->store, r->txn, tok, seq,
		    err)) != 0)
			return rc;
	}
	r->no_reply = true;
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

static int
handle_request_cmd(struct req *r, struct cerr *err)
{
	const msgpack_object *types = mpk_get(r->body, "types");
	const msgpack_object *note = mpk_get(r->body, "note");
	char purpose[PURPOSE_MAX_BYTES + 1];
	uint8_t user_id[ID_BYTES];
	const struct party *user;
	struct uselog_entry e;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	uint32_t i;
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
	for (i = 0; i < types->via.array.size; i++) {
		const char *p;
		size_t len;

		if (mpk_str(&types->via.array.ptr[i], &p, &len) != 0 ||
		    schema_by_name(p, len) == NULL)
			return cerr_set(err, CARNET_E_UNKNOWN_TYPE,
			    "REQUEST: unknown record type");
	}
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
	log_entry_init(&e, r, USE_REQUEST);
	e.has_app = true;
	memcpy(e.app, r->from->id, ID_BYTES);
	strcpy(e.purpose, purpose);
	if ((rc = broker_log_append(r->b, r->txn, user_id, &e,
	    err)) != 0 ||
	    (rc = stat_add(r, err, 1, "request/%s", r->from->name)) != 0)
		return rc;
	reply_begin(r, 0);
	return 0;
}

int
log_view(struct req *r, const char *what, struct cerr *err)
{
	struct uselog_entry e;

	if (r->deleg == NULL)
		return 0;
	log_entry_init(&e, r, USE_VIEW);
	snprintf(e.note, sizeof(e.note), "%s", what);
	return broker_log_append(r->b, r->txn, r->who->id, &e, err);
}


/* The parties a page of a reply names, to send their names with it. */
struct names {
	uint8_t ids[REPLY_NAMES_MAX][ID_BYTES];
	unsigned nids;
};

static void
names_note(struct names *n, const uint8_t *id)
{
	unsigned i;

	for (i = 0; i < n->nids; i++)
		if (memcmp(n->ids[i], id, ID_BYTES) == 0)
			return;
	if (n->nids < REPLY_NAMES_MAX)
		memcpy(n->ids[n->nids++], id, ID_BYTES);
}

/* "names": {id: name} of the registered parties noted. */
static void
names_pack(struct req *r, const struct names *n)
{
	const struct party *p[REPLY_NAMES_MAX];
	unsigned i, named = 0;

	for (i = 0; i < n->nids; i++)
		if (party_cached(r->b, r->txn, n->ids[i], &p[named]) == 0)
			named++;
	mpk_pack_cstr(&r->pk, "names");
	msgpack_pack_map(&r->pk, named);
	for (i = 0; i < named; i++) {
		mpk_pack_binn(&r->pk, p[i]->id, ID_BYTES);
		mpk_pack_cstr(&r->pk, p[i]->name);
	}
}

struct log_page {
	struct items it; /* first: the entries */
	uint64_t last;
	struct names names;
};

/*
 * Whether a delegate limited to some types may read entry e: their own
 * acts, and entries about a type (a record's, or every type of the
 * consent named) they were given.  Entries about nothing typed (exports,
 * other delegates, emergencies) are the person's alone.
 */
static bool
log_entry_visible(struct req *r, const struct uselog_entry *e)
{
	struct token_state st;
	struct token t;

	if (r->deleg == NULL || r->deleg->ntypes == 0 ||
	    (e->has_by && memcmp(e->by, r->from->id, ID_BYTES) == 0))
		return true;
	if (e->type != NULL && !deleg_covers_type(r, e->type))
		return false;
	if (e->has_token)
		return store_token_get(r->b->store, r->txn, e->token, &st) == 0 &&
		    token_peek(st.blob, st.blob_len, &t, NULL) == 0 &&
		    deleg_covers_token(r, &t);
	return e->type != NULL;
}

static int
log_page_one(void *arg, uint64_t seq, const MDB_val *v)
{
	struct log_page *lp = arg;
	struct uselog_entry e;
	uint8_t hash[HASH_BYTES];
	bool decoded = uselog_decode(v->mv_data, v->mv_size, &e, NULL) == 0;

	lp->it.n++;
	lp->last = seq;
	if (lp->it.r->deleg != NULL && (!decoded ||
	    !log_entry_visible(lp->it.r, &e))) {
		/* withheld: its hash keeps the chain checkable */
		uselog_hash(v->mv_data, v->mv_size, hash);
		msgpack_pack_map(&lp->it.pk, 2);
		mpk_pack_cstr(&lp->it.pk, "withheld");
		msgpack_pack_uint64(&lp->it.pk, seq);
		mpk_pack_cstr(&lp->it.pk, "hash");
		mpk_pack_binn(&lp->it.pk, hash, HASH_BYTES);
		return 0;
	}
	mpk_pack_binn(&lp->it.pk, v->mv_data, v->mv_size);
	if (decoded) {
		if (e.has_app)
			names_note(&lp->names, e.app);
		if (e.has_holder)
			names_note(&lp->names, e.holder);
		if (e.has_by)
			names_note(&lp->names, e.by);
	}
	return 0;
}

static int
handle_log(struct req *r, struct cerr *err)
{
	struct log_page lp;
	uint8_t hash[HASH_BYTES], sig[HEAD_SIG_BYTES];
	uint64_t from = 1, limit = BROKER_LOG_PAGE_ENTRIES, head;
	int rc;

	if ((rc = body_page(r, &from, &limit, BROKER_LOG_PAGE_ENTRIES,
	    err)) != 0)
		return rc;
	/* every page a delegate reads is a reading, logged */
	if (from <= 1)
		rc = log_view(r, "log", err);
	else {
		char what[40];

		snprintf(what, sizeof(what), "log from entry %" PRIu64, from);
		rc = log_view(r, what, err);
	}
	if (rc != 0)
		return rc;
	if ((rc = store_log_head(r->b->store, r->txn, r->who->id, &head,
	    hash, err)) != 0)
		return rc;
	uselog_head_sign(r->who->id, head, hash, r->b->key.sk, sig);
	memset(&lp, 0, sizeof(lp));
	items_init(&lp.it, r);
	rc = store_log_foreach(r->b->store, r->txn, r->who->id, from,
	    (size_t)limit, log_page_one, &lp);
	if ((rc = items_reply(&lp.it, "entries", false, 3, rc, err)) == 0) {
		mpk_pack_cstr(&r->pk, "head");
		msgpack_pack_map(&r->pk, 3);
		mpk_pack_cstr(&r->pk, "seq");
		msgpack_pack_uint64(&r->pk, head);
		mpk_pack_cstr(&r->pk, "hash");
		mpk_pack_binn(&r->pk, hash, HASH_BYTES);
		mpk_pack_cstr(&r->pk, "sig");
		mpk_pack_binn(&r->pk, sig, HEAD_SIG_BYTES);
		names_pack(r, &lp.names);
		mpk_pack_cstr(&r->pk, "more");
		if (lp.it.n > 0 && lp.last < head)
			msgpack_pack_true(&r->pk);
		else
			msgpack_pack_false(&r->pk);
	}
	return rc;
}

static int
handle_export(struct req *r, struct cerr *err)
{
	uint64_t from = 0, limit = BROKER_EXPORT_PAGE_RECORDS, after;
	struct uselog_entry e;
	struct recmeta m;
	struct items recs;
	struct names holders = {0};
	bool more = false;
	MDB_val v;
	int rc = 0;

	if ((rc = body_page(r, &from, &limit, BROKER_EXPORT_PAGE_RECORDS,
	    err)) != 0)
		return rc;
	items_init(&recs, r);
	after = from;
	while ((rc = store_user_next(r->b->store, r->txn, r->from->id, after,
	    &m)) == 0) {
		if (recs.n == limit) {
			more = true;
			break;
		}
		if ((rc = store_record_get(r->b->store, r->txn, r->from->id,
		    m.seq, &v, err)) != 0)
			break;
		mpk_pack_binn(&recs.pk, v.mv_data, v.mv_size);
		names_note(&holders, m.holder);
		after = m.seq;
		recs.n++;
	}
	if (rc == CARNET_E_NOT_FOUND)
		rc = 0;
	if (rc == 0 && from == 0) {
		/* One entry per export, on its first page. */
		log_entry_init(&e, r, USE_EXPORT);
		if ((rc = broker_log_append(r->b, r->txn, r->from->id,
		    &e, err)) == 0)
			rc = stat_add(r, err, 1, "export");
	}
	if ((rc = items_reply(&recs, "records", false, 3, rc, err)) == 0) {
		names_pack(r, &holders);
		mpk_pack_cstr(&r->pk, "next");
		msgpack_pack_uint64(&r->pk, after);
		mpk_pack_cstr(&r->pk, "more");
		if (more)
			msgpack_pack_true(&r->pk);
		else
			msgpack_pack_false(&r->pk);
	}
	return rc;
}

static int
handle_erase(struct req *r, struct cerr *err)
{
	struct uselog_entry e;
	uint64_t n;
	int rc;

	if ((rc = body_keys(r, err, NULL)) != 0)
		return rc;
	if ((rc = store_user_erase(r->b->store, r->txn, r->from->id, &n,
	    err)) != 0)
		return rc;
	log_entry_init(&e, r, USE_ERASE);
	e.rseq = n;
	if ((rc = broker_log_append(r->b, r->txn, r->from->id, &e,
	    err)) != 0 || (rc = stat_add(r, err, 1, "erase")) != 0)
		return rc;
	log_info("user %s erased %llu records", r->from->name,
	    (unsigned long long)n);
	reply_begin(r, 1);
	mpk_pack_cstr(&r->pk, "erased");
	msgpack_pack_uint64(&r->pk, n);
	return 0;
}

static int
stat_list_one(void *arg, const char *key, uint64_t n)
{
	struct items *sl = arg;

	mpk_pack_cstr(&sl->pk, key);
	msgpack_pack_uint64(&sl->pk, n);
	sl->n++;
	return 0;
}

static int
handle_stats(struct req *r, struct cerr *err)
{
	struct items sl;
	int rc;

	if ((rc = body_keys(r, err, NULL)) != 0)
		return rc;
	items_init(&sl, r);
	rc = store_stats_foreach(r->b->store, r->txn, stat_list_one, &sl);
	return items_reply(&sl, "stats", true, 0, rc, err);
}

typedef int (*handler_fn)(struct req *, struct cerr *);

static const handler_fn handlers[CMD__LAST] = {
	[CMD_HELLO] = handle_hello,
	[CMD_PUT] = handle_put,
	[CMD_SUB] = handle_sub,
	[CMD_CREDIT] = handle_credit,
	[CMD_ACK] = handle_ack,
	[CMD_UNSUB] = handle_unsub,
	[CMD_REQUEST] = handle_request_cmd,
	[CMD_APPINFO] = handle_appinfo,
	[CMD_GRANT] = handle_grant,
	[CMD_DECLINE] = handle_decline,
	[CMD_REVOKE] = handle_revoke,
	[CMD_PAUSE] = handle_pause,
	[CMD_RESUME] = handle_resume,
	[CMD_TOKENS] = handle_tokens,
	[CMD_LOG] = handle_log,
	[CMD_REQUESTS] = handle_requests,
	[CMD_EXPORT] = handle_export,
	[CMD_ERASE] = handle_erase,
	[CMD_STATS] = handle_stats,
	[CMD_ERASED] = handle_erased,
	[CMD_RENEW] = handle_renew,
	[CMD_RECEIPT] = handle_receipt,
	[CMD_DELEGATE] = handle_delegate,
	[CMD_UNDELEGATE] = handle_undelegate,
	[CMD_DELEGATES] = handle_delegates,
	[CMD_EMERGENCY_SET] = handle_emergency_set,
	[CMD_EMERGENCY_SHOW] = handle_emergency_show,
	[CMD_EMERGENCY_OPEN] = handle_emergency_open,
	[CMD_EMERGENCY_READ] = handle_emergency_read,
};

/*
 * Add "head": {seq, hash, sig} to the reply: the person's log head as the
 * transaction leaves it, signed.  The person's client keeps the newest it
 * saw, so a store put back to an older state shows at the next command.
 */
static int
reply_add_head(struct req *r, struct cerr *err)
{
	uint8_t hash[HASH_BYTES], sig[HEAD_SIG_BYTES];
	const uint8_t *p;
	msgpack_sbuffer nb;
	msgpack_packer pk;
	uint32_t n;
	size_t hl;
	uint64_t seq;
	int rc;

	if ((rc = store_log_head(r->b->store, r->txn, r->who->id, &seq, hash,
	    err)) != 0)
		return rc;
	uselog_head_sign(r->who->id, seq, hash, r->b->key.sk, sig);
	if (r->reply->size == 0)
		reply_begin(r, 0);
	/* the reply is one map: its header again, with one key more */
	p = (const uint8_t *)r->reply->data;
	if ((p[0] & 0xf0) == 0x80) {
		n = p[0] & 0x0f;
		hl = 1;
	} else if (p[0] == 0xde && r->reply->size >= 3) {
		n = (uint32_t)p[1] << 8 | p[2];
		hl = 3;
	} else if (p[0] == 0xdf && r->reply->size >= 5) {
		n = (uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 |
		    (uint32_t)p[3] << 8 | p[4];
		hl = 5;
	} else {
		return cerr_set(err, CARNET_E_MALFORMED, "%s: reply is not a "
		    "map", proto_cmd_name(r->cmd));
	}
	msgpack_sbuffer_init(&nb);
	msgpack_packer_init(&pk, &nb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, n + 1);
	msgpack_sbuffer_write(&nb, r->reply->data + hl, r->reply->size - hl);
	mpk_pack_cstr(&pk, "head");
	msgpack_pack_map(&pk, 3);
	mpk_pack_cstr(&pk, "seq");
	msgpack_pack_uint64(&pk, seq);
	mpk_pack_cstr(&pk, "hash");
	mpk_pack_binn(&pk, hash, HASH_BYTES);
	mpk_pack_cstr(&pk, "sig");
	mpk_pack_binn(&pk, sig, HEAD_SIG_BYTES);
	msgpack_sbuffer_destroy(r->reply);
	*r->reply = nb;
	msgpack_packer_init(&r->pk, r->reply, msgpack_sbuffer_write);
	return 0;
}

const char *
handlers_missing(void)
{
	int c;

	for (c = CMD__NONE + 1; c < CMD__LAST; c++)
		if (handlers[c] == NULL)
			return proto_cmd_name((enum carnet_cmd)c);
	return NULL;
}

void
handle_request(struct req *r, struct cerr *err, int *rc)
{
	struct delegation d;

	if ((proto_cmd_roles(r->cmd) & (1u << r->from->role)) == 0) {
		*rc = cerr_set(err, CARNET_E_FORBIDDEN,
		    "%s is not a command for a %s", proto_cmd_name(r->cmd),
		    party_role_name(r->from->role));
		return;
	}
	r->who = r->from;
	r->deleg = NULL;
	if (mpk_get(r->body, "for") != NULL &&
	    (*rc = deleg_resolve(r, &d, err)) != 0)
		return;
	*rc = handlers[r->cmd](r, err);
	/* to a person (or their delegate): the head their command leaves */
	if (*rc == 0 && !r->no_reply && r->from->role == ROLE_USER &&
	    r->who->role == ROLE_USER && r->cmd != CMD_LOG)
		*rc = reply_add_head(r, err);
}
