/*
 * req.c: the request toolkit every handler uses, and nothing else: reading
 * a request's body (its keys, pages, signed arguments), building its reply
 * and listings, its entries in the person's use log, and what the sender
 * may act on (a delegate's types).  It calls no handler.
 */
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
body_types(struct req *r, const msgpack_object *types, struct cerr *err)
{
	uint32_t i;

	for (i = 0; i < types->via.array.size; i++) {
		const char *p;
		size_t len;

		if (mpk_str(&types->via.array.ptr[i], &p, &len) != 0 ||
		    schema_by_name(p, len) == NULL)
			return cerr_set(err, CARNET_E_UNKNOWN_TYPE,
			    "%s: types[%u] is no record type",
			    proto_cmd_name(r->cmd), i + 1);
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
ulog_entry_init(struct uselog_entry *e, struct req *r, enum uselog_kind kind)
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
ulog_entry_about(struct uselog_entry *e, const struct token *t)
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

/*
 * Refusals are written for parties that have no standing with the person
 * (an app without consent, someone without a delegation): each costs the
 * person a log entry and the store its bytes.  So a party's refusals to
 * one person for one reason are logged once a period, the next logged one
 * saying how many came between (other reasons, a card's window ended
 * after its absence, still show); a party's logged refusals are rate-bounded
 * (conn.c); and none is logged in the reserve kept for revocations.  The
 * refusal itself is always answered.
 */
int
ulog_refusal(struct broker *b, MDB_txn *txn, const uint8_t user[ID_BYTES],
    const uint8_t party[ID_BYTES], int why, struct uselog_entry *e,
    bool *logged, struct cerr *err)
{
	int64_t period = b->refusal_secs > 0 ? b->refusal_secs :
	    REFUSAL_PERIOD_S, slot = e->time - e->time % period, last = 0;
	char since[TIME_STR_LEN + 1], tail[96];
	uint64_t count = 0;
	size_t room;
	bool has;
	int rc;

	if (logged != NULL)
		*logged = false;
	rc = store_refusal_get(b->store, txn, user, party, why, &last, &count,
	    err);
	if (rc != 0 && rc != CARNET_E_NOT_FOUND)
		return rc;
	has = rc == 0;
	if (has && last == slot) /* logged in this period already */
		return store_refusal_put(b->store, txn, user, party, why, slot,
		    count + 1, err);
	if (reserve_in(b, txn) || !conn_may_log_refusal(b, party)) {
		/* not logged: counted where it costs no room, if it can be */
		if (has)
			return store_refusal_put(b->store, txn, user, party,
			    why, last, count + 1, err);
		b->n_refusals_unlogged++;
		return 0;
	}
	if (has && count > 0) {
		time_format(last, since);
		snprintf(tail, sizeof(tail), " (and %llu more since %s, "
		    "counted, not logged one by one)",
		    (unsigned long long)count, since);
		room = sizeof(e->note) - 1 - strlen(tail);
		if (strlen(e->note) > room)
			e->note[room] = '\0';
		strcat(e->note, tail);
		e->rseq = count;
	}
	if ((rc = ulog_append(b, txn, user, e, err)) != 0 ||
	    (rc = store_refusal_put(b->store, txn, user, party, why, slot, 0,
	    err)) != 0)
		return rc;
	if (logged != NULL)
		*logged = true;
	return 0;
}

int
ulog_refusals_prune(struct broker *b, MDB_txn *txn, int64_t now,
    struct cerr *err)
{
	int64_t period = b->refusal_secs > 0 ? b->refusal_secs :
	    REFUSAL_PERIOD_S;
	unsigned removed;

	return store_refusals_prune(b->store, txn, now - now % period,
	    b->refusal_prune_pos, REFUSALS_PRUNE_PER_TURN, &removed, err);
}

/* A refused attempt by the sending app, in the person's log. */
int
ulog_refused(struct req *r, const uint8_t user[ID_BYTES],
    const struct cerr *why, struct cerr *err)
{
	struct uselog_entry e;
	int rc;

	ulog_entry_init(&e, r, USE_REFUSED);
	e.has_app = true;
	memcpy(e.app, r->from->id, ID_BYTES);
	snprintf(e.note, sizeof(e.note), "%.*s", (int)(sizeof(e.note) - 1),
	    why->msg);
	if ((rc = ulog_refusal(r->b, r->txn, user, r->from->id, why->code, &e,
	    NULL, err)) != 0)
		return rc;
	/* the operator's count of attempts, all of them (a counter: no room
	 * taken but its first time, so not in the reserve) */
	return reserve_in(r->b, r->txn) ? 0 : stat_add(r, err, 1,
	    "refused/%s", r->from->name);
}

/* Reply ERR with why, while what the handler wrote commits. */
void
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
	if ((rc = ulog_refused(r, user, &why, &err)) != 0)
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

int
ulog_view(struct req *r, const char *what, struct cerr *err)
{
	struct uselog_entry e;

	if (r->deleg == NULL)
		return 0;
	ulog_entry_init(&e, r, USE_VIEW);
	snprintf(e.note, sizeof(e.note), "%s", what);
	return ulog_append(r->b, r->txn, r->who->id, &e, err);
}

/* The parties a page of a reply names, to send their names with it. */
void
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
void
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

int
own_token(struct req *r, const uint8_t id[TOKID_BYTES], struct token_state *st,
    struct token *t, struct cerr *err)
{
	if (store_token_get(r->b->store, r->txn, id, st) != 0 ||
	    token_peek(st->blob, st->blob_len, t, NULL) != 0 ||
	    memcmp(t->user, r->who->id, ID_BYTES) != 0)
		return cerr_set(err, CARNET_E_UNKNOWN_TOKEN,
		    "%s: you have no consent with this id",
		    proto_cmd_name(r->cmd));
	/* a delegate limited to some types: only consents within them */
	return deleg_check_scope(r, t, err);
}

int
deleg_check_signer(struct req *r, bool has_by, const uint8_t by[ID_BYTES],
    struct cerr *err)
{
	if (r->deleg == NULL && has_by)
		return cerr_set(err, CARNET_E_FORBIDDEN,
		    "%s: signed by a delegate: only that delegate may send it, "
		    "for you", proto_cmd_name(r->cmd));
	if (r->deleg != NULL &&
	    (!has_by || memcmp(by, r->from->id, ID_BYTES) != 0))
		return cerr_set(err, CARNET_E_BAD_SIGNATURE,
		    "%s: as a delegate, sign with your own key (by: you)",
		    proto_cmd_name(r->cmd));
	return 0;
}

bool
deleg_covers_type(const struct req *r, const struct schema *type)
{
	return r->deleg == NULL || delegation_has_type(r->deleg, type);
}

bool
deleg_covers_token(const struct req *r, const struct token *t)
{
	unsigned i;

	for (i = 0; i < t->ntypes; i++)
		if (!deleg_covers_type(r, t->types[i].type))
			return false;
	return true;
}

bool
deleg_covers_names(const struct req *r, const msgpack_object *types)
{
	const struct schema *s;
	const char *p;
	size_t len;
	uint32_t i;

	if (r->deleg == NULL || r->deleg->ntypes == 0)
		return true;
	if (types == NULL || types->type != MSGPACK_OBJECT_ARRAY)
		return false;
	for (i = 0; i < types->via.array.size; i++)
		if (mpk_str(&types->via.array.ptr[i], &p, &len) != 0 ||
		    (s = schema_by_name(p, len)) == NULL ||
		    !delegation_has_type(r->deleg, s))
			return false;
	return true;
}

int
deleg_check_scope(struct req *r, const struct token *t, struct cerr *err)
{
	unsigned i;

	for (i = 0; i < t->ntypes; i++)
		if (!deleg_covers_type(r, t->types[i].type))
			return cerr_set(err, CARNET_E_BEYOND_DELEGATION,
			    "%s: %s did not delegate the type %s to you",
			    proto_cmd_name(r->cmd), r->who->name,
			    t->types[i].type->name);
	return 0;
}

int
deleg_check_token(struct req *r, const struct token *t, struct cerr *err)
{
	char when[TIME_STR_LEN + 1];
	int rc;

	if (r->deleg == NULL)
		return 0;
	if ((rc = deleg_check_scope(r, t, err)) != 0)
		return rc;
	if (r->deleg->expires != 0 &&
	    (t->expires == 0 || t->expires > r->deleg->expires)) {
		time_format(r->deleg->expires, when);
		return cerr_set(err, CARNET_E_BEYOND_DELEGATION,
		    "%s: the consent would outlast your delegation (until "
		    "%s): give it an earlier end", proto_cmd_name(r->cmd),
		    when);
	}
	return 0;
}

void
reply_page_end(struct req *r, bool more, const uint64_t *next)
{
	mpk_pack_cstr(&r->pk, "more");
	if (more)
		msgpack_pack_true(&r->pk);
	else
		msgpack_pack_false(&r->pk);
	if (next != NULL) {
		mpk_pack_cstr(&r->pk, "next");
		msgpack_pack_uint64(&r->pk, *next);
	}
}
