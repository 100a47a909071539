/*
 * lifecycle.c: what happens to a consent after GRANT, besides pause and
 * revocation (handlers.c): its end date and the notices before it,
 * renewal, the app's confirmation that it erased the data, the broker's
 * signed receipt; and the person's other ways to share control:
 * delegates, and the emergency card.
 *
 * Timers live in LMDB (store.h: timers), so an expiry is never lost to a
 * restart; the loop fires the due ones inside its turn transaction, before
 * the delivery pass, so nothing is sent under a token past its end.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "../common/mpk.h"
#include "../common/text.h"
#include "../policy/consent.h"
#include "broker.h"


/* ---- timers ------------------------------------------------------------ */

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
	log_entry_about(e, t);
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
	switch (kind) {
	case TIMER_EXPIRE:
		if (t.expires == 0 || t.expires > now)
			return 0; /* renewed meanwhile */
		if ((rc = store_token_end(b->store, txn, &t, TOKEN_EXPIRED, now,
		    err)) != 0)
			return rc;
		entry_for_token(&e, USE_EXPIRE, now, &t);
		if ((rc = broker_log_append(b, txn, t.user, &e, err)) != 0)
			return rc;
		session_token_ended(b, txn, &t, "expired");
		return 0;
	case TIMER_NOTICE:
		if (t.expires <= now ||
		    t.expires - now > b->notice_secs + NOTICE_SLACK_S)
			return 0; /* renewed to a later end */
		entry_for_token(&e, USE_NOTICE, now, &t);
		e.rseq = (uint64_t)t.expires;
		return broker_log_append(b, txn, t.user, &e, err);
	case TIMER_REVIEW:
		if (t.expires != 0)
			return 0;
		entry_for_token(&e, USE_REVIEW, now, &t);
		if ((rc = broker_log_append(b, txn, t.user, &e, err)) != 0)
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

/* ---- renewal, erasure, receipts ---------------------------------------- */

int
handle_renew(struct req *r, struct cerr *err)
{
	const uint8_t *blob;
	size_t len;
	struct token_state st;
	struct uselog_entry e;
	struct token t, old;
	int rc;

	if ((rc = body_keys(r, err, "token", NULL)) != 0 ||
	    (rc = signed_arg(r, "token", "the re-signed consent", &blob, &len,
	    err)) != 0 ||
	    (rc = token_open(blob, len, &t, err)) != 0)
		return rc;
	if ((rc = deleg_check_signer(r, t.has_by, t.by, err)) != 0 ||
	    (rc = deleg_check_token(r, &t, err)) != 0 ||
	    (rc = own_token(r, t.id, &st, &old, err)) != 0)
		return rc;
	if (st.state == TOKEN_REVOKED || st.state == TOKEN_EXPIRED ||
	    consent_live(&old, r->now) == CARNET_E_EXPIRED)
		return cerr_set(err, st.state == TOKEN_REVOKED ?
		    CARNET_E_REVOKED : CARNET_E_EXPIRED,
		    "RENEW: this consent has ended: grant a new one");
	if (!token_same_scope(&old, &t))
		return cerr_set(err, CARNET_E_BAD_VALUE,
		    "RENEW: a renewal may change only the end date (and the "
		    "signing time); grant a new consent for anything else");
	if (t.expires != 0 && t.expires <= r->now)
		return cerr_set(err, CARNET_E_EXPIRED,
		    "RENEW: the new end date is already past");
	if ((rc = token_unschedule(r->b, r->txn, &old, err)) != 0 ||
	    (rc = store_token_replace(r->b->store, r->txn, &t, blob, len,
	    err)) != 0 ||
	    (rc = token_schedule(r->b, r->txn, &t, r->now, err)) != 0)
		return rc;
	log_entry_init(&e, r, USE_RENEW);
	log_entry_about(&e, &t);
	e.rseq = (uint64_t)t.expires;
	if ((rc = broker_log_append(r->b, r->txn, t.user, &e, err)) != 0)
		return rc;
	session_token_renewed(r->b, &t);
	reply_begin(r, 2);
	mpk_pack_cstr(&r->pk, "token");
	mpk_pack_binn(&r->pk, t.id, TOKID_BYTES);
	mpk_pack_cstr(&r->pk, "expires");
	msgpack_pack_int64(&r->pk, t.expires);
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
	if ((rc = store_token_erased(r->b->store, r->txn, id, r->now,
	    err)) != 0)
		return rc;
	if (!already) {
		log_entry_init(&e, r, USE_ERASED);
		log_entry_about(&e, &t);
		if ((rc = broker_log_append(r->b, r->txn, t.user, &e,
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

static json_t *
json_time(int64_t t)
{
	char when[TIME_STR_LEN + 1];

	time_format(t, when);
	return json_string(when);
}

static json_t *
json_id(const uint8_t id[ID_BYTES])
{
	char s[ID_STR_LEN + 1];

	id_encode(id, s);
	return json_string(s);
}

/* The receipt: what was consented to, in the spirit of the Kantara
 * Consent Receipt and ISO/IEC 27560, from the stored signed token. */
static json_t *
receipt_json(struct req *r, const struct token *t,
    const struct token_state *st, const struct party *app)
{
	char tid[TOKID_STR_LEN + 1], hex[2 * HASH_BYTES + 1], how[160];
	uint8_t hash[HASH_BYTES];
	json_t *o = json_object(), *data = json_array(), *holders;
	unsigned k, i;

	tokid_encode(t->id, tid);
	uselog_hash(st->blob, st->blob_len, hash);
	sodium_bin2hex(hex, sizeof(hex), hash, sizeof(hash));
	json_object_set_new(o, "receipt_version",
	    json_string("carnet-receipt-1"));
	json_object_set_new(o, "consent_id", json_string(tid));
	json_object_set_new(o, "jurisdiction", json_string("FR"));
	json_object_set_new(o, "principal", json_id(t->user));
	json_object_set_new(o, "signed_by",
	    json_id(t->has_by ? t->by : t->user));
	json_object_set_new(o, "collection_method", json_string(
	    "explicit consent, signed by the person (Ed25519) after being "
	    "shown the app, its owner, business model, purpose and data"));
	json_object_set_new(o, "consent_time", json_time(st->granted_at));
	json_object_set_new(o, "controller", json_pack("{s:o, s:s, s:s, s:s}",
	    "app", json_id(app->id), "name", app->name, "owner", app->owner,
	    "business_model", app->business_model));
	json_object_set_new(o, "purpose", json_string(t->purpose));
	for (k = 0; k < t->ntypes; k++) {
		const struct schema *s = t->types[k].type;
		json_t *fl;

		if (t->types[k].fields_listed) {
			fl = json_array();
			for (i = 0; i < s->nfields; i++)
				if (t->types[k].fields & (UINT64_C(1) << i))
					json_array_append_new(fl,
					    json_string(s->fields[i].name));
		} else {
			fl = json_string("all");
		}
		json_array_append_new(data, json_pack("{s:s, s:s, s:o}",
		    "type", s->name, "description", s->doc, "fields", fl));
	}
	json_object_set_new(o, "data", data);
	if (t->any_holder) {
		holders = json_string("any");
	} else {
		holders = json_array();
		for (i = 0; i < t->nholders; i++)
			json_array_append_new(holders, json_id(t->holders[i]));
	}
	json_object_set_new(o, "holders", holders);
	json_object_set_new(o, "records_since", t->since > 0 ?
	    json_time(t->since) : json_string("all history"));
	json_object_set_new(o, "valid_from", json_time(t->not_before));
	json_object_set_new(o, "valid_until", t->expires > 0 ?
	    json_time(t->expires) : json_string("until withdrawn"));
	snprintf(how, sizeof(how), "carnet consent revoke %s: at once; the "
	    "app must then erase what it received and confirm it", tid);
	json_object_set_new(o, "how_to_withdraw", json_string(how));
	json_object_set_new(o, "token_blake2b", json_string(hex));
	json_object_set_new(o, "broker", json_id(r->b->key.pk));
	return o;
}

int
handle_receipt(struct req *r, struct cerr *err)
{
	uint8_t id[TOKID_BYTES], sig[crypto_sign_BYTES];
	const struct party *app;
	struct token_state st;
	struct token t;
	json_t *o;
	char *text;
	int rc;

	if ((rc = body_keys(r, err, "token", NULL)) != 0)
		return rc;
	if (mpk_bin_n(mpk_get(r->body, "token"), id, TOKID_BYTES) != 0)
		return cerr_set(err, CARNET_E_MALFORMED,
		    "RECEIPT: want token, a consent id");
	if ((rc = own_token(r, id, &st, &t, err)) != 0 ||
	    (rc = log_view(r, "consent receipt", err)) != 0)
		return rc;
	if (party_cached(r->b, r->txn, t.app, &app) != 0)
		return cerr_set(err, CARNET_E_UNKNOWN_PARTY,
		    "RECEIPT: the app is no longer registered");
	o = receipt_json(r, &t, &st, app);
	text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	if (text == NULL)
		return cerr_set(err, CARNET_E_NOMEM, "out of memory");
	crypto_sign_detached(sig, NULL, (const uint8_t *)text, strlen(text),
	    r->b->key.sk);
	reply_begin(r, 3);
	mpk_pack_cstr(&r->pk, "receipt");
	mpk_pack_cstr(&r->pk, text);
	mpk_pack_cstr(&r->pk, "sig");
	mpk_pack_binn(&r->pk, sig, sizeof(sig));
	mpk_pack_cstr(&r->pk, "broker");
	mpk_pack_binn(&r->pk, r->b->key.pk, ID_BYTES);
	free(text);
	return 0;
}

/* ---- delegation ------------------------------------------------------- */

/* The table's delegation values are the policy's scopes. */
_Static_assert(D_VIEW == DELEG_VIEW && D_MANAGE == DELEG_MANAGE,
    "common/proto.h D_* and policy/token.h deleg_scope must agree");

int
deleg_log_refused(struct req *r, MDB_txn *parent, const struct cerr *why)
{
	uint8_t user[ID_BYTES];
	struct uselog_entry e;
	struct cerr err = {0};
	const struct party *p;
	int rc;

	if ((why->code != CARNET_E_NOT_DELEGATE &&
	    why->code != CARNET_E_BEYOND_DELEGATION) ||
	    mpk_bin_n(mpk_get(r->body, "for"), user, ID_BYTES) != 0 ||
	    memcmp(user, r->from->id, ID_BYTES) == 0 ||
	    party_cached(r->b, parent, user, &p) != 0 || p->role != ROLE_USER)
		return 0;
	if ((rc = store_txn_begin(r->b->store, parent, true, &r->txn,
	    &err)) != 0)
		return rc;
	log_entry_init(&e, r, USE_REFUSED);
	e.has_by = true; /* who tried, in the person's name */
	memcpy(e.by, r->from->id, ID_BYTES);
	snprintf(e.note, sizeof(e.note), "%s: %.*s", proto_cmd_name(r->cmd),
	    (int)(sizeof(e.note) - 24), cerr_msg(why));
	if ((rc = broker_log_append(r->b, r->txn, user, &e, &err)) != 0 ||
	    (rc = stat_add(r, &err, 1, "refused/%s", r->from->name)) != 0 ||
	    (rc = store_txn_commit(&r->txn, &err)) != 0) {
		store_txn_abort(&r->txn);
		log_heads_forget(r->b);
		log_warnx("refusal of %s not logged for %s: %s", r->from->name,
		    p->name, cerr_msg(&err));
	}
	return rc;
}

int
deleg_resolve(struct req *r, struct delegation *d, struct cerr *err)
{
	enum deleg_scope need = (enum deleg_scope)proto_cmd_deleg(r->cmd);
	uint8_t user[ID_BYTES];
	char when[TIME_STR_LEN + 1];
	struct deleg_state ds;
	const struct party *p;

	if (mpk_bin_n(mpk_get(r->body, "for"), user, ID_BYTES) != 0)
		return cerr_set(err, CARNET_E_MALFORMED,
		    "%s: for is a person's id", proto_cmd_name(r->cmd));
	if (memcmp(user, r->from->id, ID_BYTES) == 0)
		return 0; /* for oneself */
	if (need == 0)
		return cerr_set(err, CARNET_E_FORBIDDEN,
		    "%s cannot be done for someone else",
		    proto_cmd_name(r->cmd));
	if (party_of_role(r, user, ROLE_USER, &p) != 0)
		return cerr_set(err, CARNET_E_UNKNOWN_PARTY,
		    "%s: for names no registered person",
		    proto_cmd_name(r->cmd));
	if (store_deleg_get(r->b->store, r->txn, user, r->from->id, &ds) != 0)
		return cerr_set(err, CARNET_E_NOT_DELEGATE,
		    "%s has not given you access", p->name);
	if (!ds.live || delegation_open(ds.blob, ds.blob_len, d, NULL) != 0)
		return cerr_set(err, CARNET_E_NOT_DELEGATE,
		    "%s ended your access", p->name);
	if (d->expires != 0 && d->expires <= r->now) {
		time_format(d->expires, when);
		return cerr_set(err, CARNET_E_NOT_DELEGATE,
		    "your access to %s's dashboard ended on %s", p->name, when);
	}
	if (need == DELEG_MANAGE && d->scope != DELEG_MANAGE)
		return cerr_set(err, CARNET_E_NOT_DELEGATE,
		    "%s gave you view access: you may read their dashboard, "
		    "not change their consents (%s)", p->name,
		    proto_cmd_name(r->cmd));
	r->who = p;
	r->deleg = d;
	return 0;
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

static void
deleg_note(char *note, size_t size, const struct delegation *d)
{
	char when[TIME_STR_LEN + 1];
	size_t n;
	unsigned i;

	n = (size_t)snprintf(note, size, "%s", deleg_scope_name(d->scope));
	for (i = 0; i < d->ntypes && n < size; i++)
		n += (size_t)snprintf(note + n, size - n, "%s%s",
		    i ? "," : " of ", d->types[i]->name);
	if (d->expires != 0 && n < size) {
		time_format(d->expires, when);
		snprintf(note + n, size - n, " until %s", when);
	}
}

int
handle_delegate(struct req *r, struct cerr *err)
{
	const uint8_t *blob;
	size_t len;
	const struct party *to;
	struct uselog_entry e;
	struct delegation d;
	int rc;

	if ((rc = body_keys(r, err, "delegation", NULL)) != 0 ||
	    (rc = signed_arg(r, "delegation", "the signed bytes", &blob, &len,
	    err)) != 0 ||
	    (rc = delegation_open(blob, len, &d, err)) != 0)
		return rc;
	if (memcmp(d.user, r->from->id, ID_BYTES) != 0)
		return cerr_set(err, CARNET_E_WRONG_USER,
		    "DELEGATE: signed for another person than you");
	if (party_of_role(r, d.to, ROLE_USER, &to) != 0)
		return cerr_set(err, CARNET_E_UNKNOWN_PARTY,
		    "DELEGATE: a delegate is a registered person");
	if (d.expires != 0 && d.expires <= r->now)
		return cerr_set(err, CARNET_E_EXPIRED,
		    "DELEGATE: its end date is already past");
	if ((rc = store_deleg_put(r->b->store, r->txn, &d, blob, len,
	    err)) != 0)
		return rc;
	log_entry_init(&e, r, USE_DELEGATE);
	e.has_by = true; /* the delegate concerned */
	memcpy(e.by, d.to, ID_BYTES);
	deleg_note(e.note, sizeof(e.note), &d);
	if ((rc = broker_log_append(r->b, r->txn, r->from->id, &e, err)) != 0 ||
	    (rc = stat_add(r, err, 1, "delegate/%s", deleg_scope_name(
	    d.scope))) != 0)
		return rc;
	log_info("user %s gave %s %s access", r->from->name, to->name,
	    deleg_scope_name(d.scope));
	reply_begin(r, 2);
	mpk_pack_cstr(&r->pk, "to");
	mpk_pack_binn(&r->pk, d.to, ID_BYTES);
	mpk_pack_cstr(&r->pk, "scope");
	mpk_pack_cstr(&r->pk, deleg_scope_name(d.scope));
	return 0;
}

int
handle_undelegate(struct req *r, struct cerr *err)
{
	uint8_t to[ID_BYTES];
	struct uselog_entry e;
	int rc;

	if ((rc = body_keys(r, err, "to", NULL)) != 0)
		return rc;
	if (mpk_bin_n(mpk_get(r->body, "to"), to, ID_BYTES) != 0)
		return cerr_set(err, CARNET_E_MALFORMED,
		    "UNDELEGATE: want to, the delegate's id");
	if ((rc = store_deleg_end(r->b->store, r->txn, r->from->id, to, r->now,
	    err)) != 0)
		return rc;
	log_entry_init(&e, r, USE_UNDELEGATE);
	e.has_by = true;
	memcpy(e.by, to, ID_BYTES);
	if ((rc = broker_log_append(r->b, r->txn, r->from->id, &e, err)) != 0)
		return rc;
	reply_begin(r, 0);
	return 0;
}

struct deleg_list {
	struct req *r;
	bool to_me;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	uint32_t n;
};

static int
deleg_list_one(void *arg, const uint8_t other[ID_BYTES])
{
	struct deleg_list *dl = arg;
	const uint8_t *user = dl->to_me ? other : dl->r->from->id;
	const uint8_t *to = dl->to_me ? dl->r->from->id : other;
	const struct party *p;
	struct deleg_state ds;
	struct delegation d;
	unsigned i;

	if (store_deleg_get(dl->r->b->store, dl->r->txn, user, to, &ds) != 0 ||
	    delegation_open(ds.blob, ds.blob_len, &d, NULL) != 0)
		return 0;
	msgpack_pack_map(&dl->pk, 7);
	mpk_pack_cstr(&dl->pk, "id");
	mpk_pack_binn(&dl->pk, other, ID_BYTES);
	mpk_pack_cstr(&dl->pk, "name");
	mpk_pack_cstr(&dl->pk, party_cached(dl->r->b, dl->r->txn, other,
	    &p) == 0 ? p->name : "?");
	mpk_pack_cstr(&dl->pk, "scope");
	mpk_pack_cstr(&dl->pk, deleg_scope_name(d.scope));
	mpk_pack_cstr(&dl->pk, "types");
	msgpack_pack_array(&dl->pk, d.ntypes);
	for (i = 0; i < d.ntypes; i++)
		mpk_pack_cstr(&dl->pk, d.types[i]->name);
	mpk_pack_cstr(&dl->pk, "expires");
	msgpack_pack_int64(&dl->pk, d.expires);
	mpk_pack_cstr(&dl->pk, "state");
	mpk_pack_cstr(&dl->pk, !ds.live ? "ended" : d.expires != 0 &&
	    d.expires <= dl->r->now ? "expired" : "active");
	mpk_pack_cstr(&dl->pk, "ended_at");
	msgpack_pack_int64(&dl->pk, ds.ended_at);
	dl->n++;
	return 0;
}

int
handle_delegates(struct req *r, struct cerr *err)
{
	struct deleg_list dl[2];
	int k, rc = 0;

	if ((rc = body_keys(r, err, NULL)) != 0)
		return rc;
	for (k = 0; k < 2; k++) {
		dl[k].r = r;
		dl[k].to_me = k == 1;
		dl[k].n = 0;
		msgpack_sbuffer_init(&dl[k].sb);
		msgpack_packer_init(&dl[k].pk, &dl[k].sb,
		    msgpack_sbuffer_write);
		if (rc == 0)
			rc = store_delegs_foreach(r->b->store, r->txn, k == 1,
			    r->from->id, deleg_list_one, &dl[k]);
	}
	if (rc == 0) {
		reply_begin(r, 2);
		for (k = 0; k < 2; k++) {
			mpk_pack_cstr(&r->pk, k == 0 ? "given" : "received");
			msgpack_pack_array(&r->pk, dl[k].n);
			msgpack_sbuffer_write(r->reply, dl[k].sb.data,
			    dl[k].sb.size);
		}
	} else {
		cerr_set(err, rc, "DELEGATES: %s", carnet_strerror(rc));
	}
	for (k = 0; k < 2; k++)
		msgpack_sbuffer_destroy(&dl[k].sb);
	return rc;
}

/* ---- emergency access ------------------------------------------------- */

/* The person's card, unpacked, or CARNET_E_NOT_FOUND. */
static int
card_load(struct req *r, const uint8_t user[ID_BYTES], msgpack_unpacked *card)
{
	MDB_val v;
	int rc;

	if ((rc = store_card_get(r->b->store, r->txn, user, &v)) != 0)
		return rc;
	return mpk_unpack(v.mv_data, v.mv_size, CARD_MAX_DEPTH, card);
}

static bool
card_lists(const msgpack_object *card, const char *key, const void *p,
    size_t n)
{
	const msgpack_object *l = mpk_get(card, key);
	uint32_t i;

	for (i = 0; l && l->type == MSGPACK_OBJECT_ARRAY &&
	    i < l->via.array.size; i++) {
		const msgpack_object *o = &l->via.array.ptr[i];

		if ((o->type == MSGPACK_OBJECT_BIN && o->via.bin.size == n &&
		    memcmp(o->via.bin.ptr, p, n) == 0) ||
		    (o->type == MSGPACK_OBJECT_STR && o->via.str.size == n &&
		    memcmp(o->via.str.ptr, p, n) == 0))
			return true;
	}
	return false;
}

int
handle_emergency_set(struct req *r, struct cerr *err)
{
	const msgpack_object *types = mpk_get(r->body, "types");
	const msgpack_object *apps = mpk_get(r->body, "apps");
	const struct party *app;
	struct uselog_entry e;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	uint32_t i;
	int rc;

	if ((rc = body_keys(r, err, "types", "apps", NULL)) != 0)
		return rc;
	if (types == NULL || types->type != MSGPACK_OBJECT_ARRAY ||
	    types->via.array.size > TOKEN_MAX_TYPES || apps == NULL ||
	    apps->type != MSGPACK_OBJECT_ARRAY ||
	    apps->via.array.size > TOKEN_MAX_HOLDERS ||
	    (types->via.array.size == 0) != (apps->via.array.size == 0))
		return cerr_set(err, CARNET_E_MALFORMED,
		    "EMERGENCY_SET: want types (1 to %d) and apps (1 to %d), "
		    "or both empty to remove the card", TOKEN_MAX_TYPES,
		    TOKEN_MAX_HOLDERS);
	for (i = 0; i < types->via.array.size; i++) {
		const char *p;
		size_t len;

		if (mpk_str(&types->via.array.ptr[i], &p, &len) != 0 ||
		    schema_by_name(p, len) == NULL)
			return cerr_set(err, CARNET_E_UNKNOWN_TYPE,
			    "EMERGENCY_SET: types[%u] is no record type", i + 1);
	}
	for (i = 0; i < apps->via.array.size; i++) {
		const msgpack_object *a = &apps->via.array.ptr[i];

		if (a->type != MSGPACK_OBJECT_BIN || a->via.bin.size != ID_BYTES ||
		    party_of_role(r, (const uint8_t *)a->via.bin.ptr, ROLE_APP,
		    &app) != 0)
			return cerr_set(err, CARNET_E_UNKNOWN_PARTY,
			    "EMERGENCY_SET: apps[%u] is not a registered app",
			    i + 1);
	}
	msgpack_sbuffer_init(&sb);
	if (types->via.array.size > 0) {
		msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
		msgpack_pack_map(&pk, 3);
		mpk_pack_cstr(&pk, "types");
		msgpack_pack_object(&pk, *types);
		mpk_pack_cstr(&pk, "apps");
		msgpack_pack_object(&pk, *apps);
		mpk_pack_cstr(&pk, "time");
		msgpack_pack_int64(&pk, r->now);
	}
	rc = store_card_put(r->b->store, r->txn, r->from->id, sb.data, sb.size,
	    err);
	msgpack_sbuffer_destroy(&sb);
	if (rc != 0)
		return rc;
	log_entry_init(&e, r, USE_EMERGENCY_SET);
	if (types->via.array.size == 0) {
		strcpy(e.note, "card removed: nothing opens in an emergency");
	} else {
		size_t n = 0;

		for (i = 0; i < types->via.array.size && n < sizeof(e.note);
		    i++)
			n += (size_t)snprintf(e.note + n, sizeof(e.note) - n,
			    "%s%.*s", i ? "," : "types ",
			    (int)types->via.array.ptr[i].via.str.size,
			    types->via.array.ptr[i].via.str.ptr);
		if (n < sizeof(e.note))
			snprintf(e.note + n, sizeof(e.note) - n, "; %u app%s",
			    apps->via.array.size,
			    apps->via.array.size > 1 ? "s" : "");
	}
	if ((rc = broker_log_append(r->b, r->txn, r->from->id, &e, err)) != 0)
		return rc;
	reply_begin(r, 0);
	return 0;
}

int
handle_emergency_show(struct req *r, struct cerr *err)
{
	msgpack_unpacked card;
	int rc;

	if ((rc = body_keys(r, err, NULL)) != 0 ||
	    (rc = log_view(r, "emergency card", err)) != 0)
		return rc;
	rc = card_load(r, r->who->id, &card);
	if (rc != 0 && rc != CARNET_E_NOT_FOUND)
		return cerr_set(err, rc, "EMERGENCY_SHOW: %s",
		    carnet_strerror(rc));
	if (rc == 0 && !deleg_covers_names(r, mpk_get(&card.data, "types"))) {
		msgpack_unpacked_destroy(&card);
		return cerr_set(err, CARNET_E_BEYOND_DELEGATION,
		    "EMERGENCY_SHOW: %s's card holds types %s did not "
		    "delegate to you", r->who->name, r->who->name);
	}
	reply_begin(r, 1);
	mpk_pack_cstr(&r->pk, "card");
	if (rc == 0) {
		msgpack_pack_object(&r->pk, card.data);
		msgpack_unpacked_destroy(&card);
	} else {
		msgpack_pack_nil(&r->pk);
	}
	return 0;
}

/* The person named by "user", and whether this app may open their card. */
static int
emergency_card(struct req *r, const struct party **user,
    msgpack_unpacked *card, bool *listed, struct cerr *err)
{
	uint8_t id[ID_BYTES];
	int rc;

	*listed = false;
	if (mpk_bin_n(mpk_get(r->body, "user"), id, ID_BYTES) != 0 ||
	    party_of_role(r, id, ROLE_USER, user) != 0)
		return cerr_set(err, CARNET_E_UNKNOWN_PARTY,
		    "%s: user is not a registered person",
		    proto_cmd_name(r->cmd));
	if ((rc = card_load(r, id, card)) != 0) {
		if (rc != CARNET_E_NOT_FOUND)
			return cerr_set(err, rc, "%s: %s",
			    proto_cmd_name(r->cmd), carnet_strerror(rc));
		return 0;
	}
	*listed = card_lists(&card->data, "apps", r->from->id, ID_BYTES);
	if (!*listed)
		msgpack_unpacked_destroy(card);
	return 0;
}

int
handle_emergency_open(struct req *r, struct cerr *err)
{
	const msgpack_object *reason = mpk_get(r->body, "reason");
	const struct party *user;
	msgpack_unpacked card;
	struct uselog_entry e;
	bool listed;
	int64_t until = r->now + r->b->emergency_secs;
	int rc;

	if ((rc = body_keys(r, err, "user", "reason", NULL)) != 0)
		return rc;
	if (reason == NULL || reason->type != MSGPACK_OBJECT_STR ||
	    reason->via.str.size == 0 ||
	    reason->via.str.size > USELOG_NOTE_MAX_BYTES ||
	    !utf8_valid(reason->via.str.ptr, reason->via.str.size))
		return cerr_set(err, CARNET_E_BAD_VALUE,
		    "EMERGENCY_OPEN: give the reason, 1 to %d bytes of text",
		    USELOG_NOTE_MAX_BYTES);
	if (!text_printable(reason->via.str.ptr, reason->via.str.size))
		return cerr_set(err, CARNET_E_CONTROL_CHARS, "EMERGENCY_OPEN: "
		    "the reason holds control or escape characters: they "
		    "could change what the person is shown");
	if ((rc = emergency_card(r, &user, &card, &listed, err)) != 0)
		return rc;
	if (!listed)
		return refuse_logged(r, user->id, CARNET_E_NO_CARD,
		    "emergency access by %s refused: %s's emergency card does "
		    "not name this app (carnet emergency set)", r->from->name,
		    user->name);
	if ((rc = store_opening_put(r->b->store, r->txn, user->id,
	    r->from->id, until, err)) == 0) {
		log_entry_init(&e, r, USE_EMERGENCY);
		e.has_app = true;
		memcpy(e.app, r->from->id, ID_BYTES);
		e.rseq = (uint64_t)until;
		snprintf(e.note, sizeof(e.note), "%.*s",
		    (int)reason->via.str.size, reason->via.str.ptr);
		if ((rc = broker_log_append(r->b, r->txn, user->id, &e,
		    err)) == 0)
			rc = stat_add(r, err, 1, "emergency/%s", r->from->name);
	}
	if (rc == 0) {
		log_info("EMERGENCY: app %s opened %s's card for %lld s",
		    r->from->name, user->name, (long long)r->b->emergency_secs);
		reply_begin(r, 2);
		mpk_pack_cstr(&r->pk, "until");
		msgpack_pack_int64(&r->pk, until);
		mpk_pack_cstr(&r->pk, "types");
		msgpack_pack_object(&r->pk, *mpk_get(&card.data, "types"));
	}
	msgpack_unpacked_destroy(&card);
	return rc;
}

/* One record of the card's types, sent and logged as a use. */
static int
emergency_send(struct req *r, const struct party *user,
    const struct recmeta *m, msgpack_packer *pk, struct cerr *err)
{
	struct uselog_entry e;
	MDB_val v;
	int rc;

	if ((rc = store_record_get(r->b->store, r->txn, user->id, m->seq, &v,
	    err)) != 0)
		return rc == CARNET_E_NOT_FOUND ? 0 : rc;
	mpk_pack_binn(pk, v.mv_data, v.mv_size);
	log_entry_init(&e, r, USE_DELIVER);
	e.has_app = e.has_holder = true;
	memcpy(e.app, r->from->id, ID_BYTES);
	memcpy(e.holder, m->holder, ID_BYTES);
	e.type = m->type;
	e.rseq = m->seq;
	strcpy(e.purpose, "emergency");
	return broker_log_append(r->b, r->txn, user->id, &e, err);
}

int
handle_emergency_read(struct req *r, struct cerr *err)
{
	const struct party *user;
	msgpack_unpacked card;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	struct recmeta m;
	char when[TIME_STR_LEN + 1];
	uint64_t from = 0, after, n = 0, looked = 0;
	int64_t until = 0;
	bool listed, more = false;
	int rc;

	if ((rc = body_keys(r, err, "user", "from", NULL)) != 0)
		return rc;
	if (mpk_get(r->body, "from") != NULL &&
	    mpk_u64(mpk_get(r->body, "from"), &from) != 0)
		return cerr_set(err, CARNET_E_BAD_VALUE,
		    "EMERGENCY_READ: from is a record seq");
	if ((rc = emergency_card(r, &user, &card, &listed, err)) != 0)
		return rc;
	if (!listed)
		return refuse_logged(r, user->id, CARNET_E_NO_CARD,
		    "emergency read by %s refused: not on %s's emergency card",
		    r->from->name, user->name);
	if (store_opening_get(r->b->store, r->txn, user->id, r->from->id,
	    &until) != 0 || until <= r->now) {
		msgpack_unpacked_destroy(&card);
		if (until == 0)
			return refuse_logged(r, user->id, CARNET_E_NO_CARD,
			    "emergency read by %s refused: open it first, with "
			    "a reason", r->from->name);
		time_format(until, when);
		return refuse_logged(r, user->id, CARNET_E_EXPIRED,
		    "emergency read by %s refused: the access ended at %s",
		    r->from->name, when);
	}
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	after = from;
	while ((rc = store_user_next(r->b->store, r->txn, user->id, after,
	    &m)) == 0) {
		if (n == BROKER_EXPORT_PAGE_RECORDS ||
		    looked++ == EMERGENCY_SCAN_FACTOR * BROKER_EXPORT_PAGE_RECORDS) {
			more = true;
			break;
		}
		after = m.seq;
		if (!card_lists(&card.data, "types", m.type->name,
		    strlen(m.type->name)))
			continue;
		if ((rc = emergency_send(r, user, &m, &pk, err)) != 0)
			break;
		n++;
	}
	msgpack_unpacked_destroy(&card);
	if (rc == CARNET_E_NOT_FOUND)
		rc = 0;
	if (rc == 0) {
		reply_begin(r, 4);
		mpk_pack_cstr(&r->pk, "records");
		msgpack_pack_array(&r->pk, (uint32_t)n);
		msgpack_sbuffer_write(r->reply, sb.data, sb.size);
		mpk_pack_cstr(&r->pk, "next");
		msgpack_pack_uint64(&r->pk, after);
		mpk_pack_cstr(&r->pk, "more");
		if (more)
			msgpack_pack_true(&r->pk);
		else
			msgpack_pack_false(&r->pk);
		mpk_pack_cstr(&r->pk, "until");
		msgpack_pack_int64(&r->pk, until);
	} else if (err->msg[0] == '\0') {
		cerr_set(err, rc, "EMERGENCY_READ: %s", carnet_strerror(rc));
	}
	msgpack_sbuffer_destroy(&sb);
	return rc;
}
