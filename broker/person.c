/*
 * person.c: the person's consent commands.  APPINFO (who an app is, before
 * consenting), GRANT (a token signed by the person or their delegate; may
 * answer a request), DECLINE, REVOKE, PAUSE and RESUME, RENEW, TOKENS and
 * REQUESTS, and RECEIPT (the broker's signed account of a consent).  Each
 * runs in the request's nested transaction: an error aborts it whole.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "../common/mpk.h"
#include "../common/text.h"
#include "../policy/consent.h"
#include "broker.h"

static void
pack_app_info(msgpack_packer *pk, const struct party *app)
{
	unsigned i;

	mpk_pack_cstr(pk, "app_name");
	mpk_pack_cstr(pk, app->name);
	mpk_pack_cstr(pk, "owner");
	mpk_pack_cstr(pk, app->owner);
	mpk_pack_cstr(pk, "business_model");
	mpk_pack_cstr(pk, app->business_model);
	mpk_pack_cstr(pk, "purposes");
	msgpack_pack_array(pk, app->npurposes);
	for (i = 0; i < app->npurposes; i++)
		mpk_pack_cstr(pk, app->purposes[i]);
}

int
handle_appinfo(struct req *r, struct cerr *err)
{
	uint8_t id[ID_BYTES];
	const struct party *app;
	int rc;

	if ((rc = body_keys(r, err, "app", NULL)) != 0)
		return rc;
	if (mpk_bin_n(mpk_get(r->body, "app"), id, ID_BYTES) != 0)
		return cerr_set(err, CARNET_E_MALFORMED, "APPINFO: want app");
	if (party_of_role(r, id, ROLE_APP, &app) != 0)
		return cerr_set(err, CARNET_E_UNKNOWN_PARTY,
		    "no app is registered with this id");
	reply_begin(r, 5);
	mpk_pack_cstr(&r->pk, "app");
	mpk_pack_binn(&r->pk, app->id, ID_BYTES);
	pack_app_info(&r->pk, app);
	return 0;
}

/*
 * The person answers their pending request whose seq is the body's
 * "request" (when present): it leaves the list.  *app and purpose get the
 * request's app and purpose, for the caller to check or log.
 */
static int
request_answer(struct req *r, bool *answered, uint8_t app[ID_BYTES],
    char purpose[PURPOSE_MAX_BYTES + 1], struct cerr *err)
{
	const msgpack_object *o = mpk_get(r->body, "request");
	msgpack_sbuffer sb;
	msgpack_unpacked tree;
	uint64_t seq;
	bool within;
	int rc;

	*answered = false;
	if (o == NULL)
		return 0;
	if (mpk_u64(o, &seq) != 0)
		return cerr_set(err, CARNET_E_MALFORMED, "%s: request is the "
		    "number of a pending request (REQUESTS seq)",
		    proto_cmd_name(r->cmd));
	msgpack_sbuffer_init(&sb);
	if ((rc = store_request_take(r->b->store, r->txn, r->who->id, seq, &sb,
	    err)) != 0) {
		msgpack_sbuffer_destroy(&sb);
		return rc;
	}
	rc = mpk_unpack(sb.data, sb.size, 2, &tree);
	if (rc == 0 && (mpk_bin_n(mpk_get(&tree.data, "app"), app,
	    ID_BYTES) != 0 || mpk_cstr(mpk_get(&tree.data, "purpose"), purpose,
	    PURPOSE_MAX_BYTES + 1) != 0))
		rc = CARNET_E_STORE;
	within = rc == 0 && deleg_covers_names(r, mpk_get(&tree.data, "types"));
	if (rc == 0)
		msgpack_unpacked_destroy(&tree);
	msgpack_sbuffer_destroy(&sb);
	if (rc != 0)
		return cerr_set(err, CARNET_E_STORE, "%s: request %" PRIu64
		    " is unreadable", proto_cmd_name(r->cmd), seq);
	if (!within) /* the transaction aborts: the request stays */
		return cerr_set(err, CARNET_E_BEYOND_DELEGATION, "%s: request "
		    "%" PRIu64 " asks for types %s did not delegate to you",
		    proto_cmd_name(r->cmd), seq, r->who->name);
	*answered = true;
	return 0;
}

int
handle_grant(struct req *r, struct cerr *err)
{
	const struct party *app, *holder;
	const uint8_t *blob;
	size_t len;
	struct uselog_entry e;
	struct token t;
	uint8_t asked_by[ID_BYTES];
	char asked_for[PURPOSE_MAX_BYTES + 1];
	bool answered;
	uint64_t last;
	unsigned i;
	int rc;

	if ((rc = body_keys(r, err, "token", "request", NULL)) != 0 ||
	    (rc = signed_arg(r, "token", "the signed bytes", &blob, &len,
	    err)) != 0 ||
	    (rc = token_open(blob, len, &t, err)) != 0)
		return rc;
	if (memcmp(t.user, r->who->id, ID_BYTES) != 0)
		return cerr_set(err, CARNET_E_WRONG_USER,
		    "GRANT: the token is about another user than %s",
		    r->deleg ? "the person you act for" : "you");
	if ((rc = deleg_check_signer(r, t.has_by, t.by, err)) != 0 ||
	    (rc = deleg_check_token(r, &t, err)) != 0)
		return rc;
	if (party_of_role(r, t.app, ROLE_APP, &app) != 0)
		return cerr_set(err, CARNET_E_UNKNOWN_PARTY,
		    "GRANT: the token's app is not registered");
	if (!party_has_purpose(app, t.purpose))
		return cerr_set(err, CARNET_E_PURPOSE,
		    "GRANT: app %s has not declared the purpose '%s'",
		    app->name, t.purpose);
	for (i = 0; i < t.nholders; i++)
		if (party_of_role(r, t.holders[i], ROLE_HOLDER, &holder) != 0)
			return cerr_set(err, CARNET_E_UNKNOWN_PARTY,
			    "GRANT: holder %u of the token is not registered",
			    i + 1);
	if (t.expires != 0 && t.expires <= r->now)
		return cerr_set(err, CARNET_E_EXPIRED,
		    "GRANT: the token has already expired");
	if ((rc = request_answer(r, &answered, asked_by, asked_for, err)) != 0)
		return rc;
	if (answered && (memcmp(asked_by, t.app, ID_BYTES) != 0 ||
	    strcmp(asked_for, t.purpose) != 0))
		return cerr_set(err, CARNET_E_BAD_ARG, "GRANT: the request "
		    "answered is from another app or for another purpose");
	if ((rc = store_token_put(r->b->store, r->txn, &t, blob, len, r->now,
	    err)) != 0)
		return rc == CARNET_E_EXISTS ? cerr_set(err, CARNET_E_DUPLICATE,
		    "GRANT: this token id was already granted (a replay?)") :
		    rc;
	if ((rc = token_schedule(r->b, r->txn, &t, r->now, err)) != 0)
		return rc;
	ulog_entry_init(&e, r, USE_GRANT);
	ulog_entry_about(&e, &t);
	if ((rc = ulog_append(r->b, r->txn, t.user, &e, err)) != 0 ||
	    (rc = stat_add(r, err, 1, "grant/%s", app->name)) != 0)
		return rc;
	if ((rc = user_last_get(r->b, r->txn, t.user, &last)) != 0)
		return cerr_set(err, rc, "GRANT: %s", carnet_strerror(rc));
	if (last > 0)
		session_wake_app(r->b, t.app); /* due at once (store_token_put) */
	log_info("user %s granted app %s (%s)", r->from->name, app->name,
	    t.purpose);
	reply_begin(r, 1);
	mpk_pack_cstr(&r->pk, "token");
	mpk_pack_binn(&r->pk, t.id, TOKID_BYTES);
	return 0;
}

/* DECLINE {request, note}: the person says no to an app's request. */
int
handle_decline(struct req *r, struct cerr *err)
{
	const msgpack_object *note = mpk_get(r->body, "note");
	struct uselog_entry e;
	bool answered;
	int rc;

	if ((rc = body_keys(r, err, "request", "note", NULL)) != 0)
		return rc;
	if (mpk_get(r->body, "request") == NULL)
		return cerr_set(err, CARNET_E_MALFORMED, "DECLINE: want request, "
		    "the number of a pending request (REQUESTS seq)");
	ulog_entry_init(&e, r, USE_DECLINE);
	if (note != NULL && mpk_cstr(note, e.note, sizeof(e.note)) != 0)
		return cerr_set(err, CARNET_E_BAD_VALUE, "DECLINE: note must be "
		    "text of at most %d bytes", USELOG_NOTE_MAX_BYTES);
	if (!text_printable(e.note, strlen(e.note)))
		return cerr_set(err, CARNET_E_CONTROL_CHARS, "DECLINE: the note "
		    "holds control or escape characters");
	if ((rc = request_answer(r, &answered, e.app, e.purpose, err)) != 0)
		return rc;
	e.has_app = true;
	if ((rc = ulog_append(r->b, r->txn, r->who->id, &e, err)) != 0)
		return rc;
	reply_begin(r, 0);
	return 0;
}

int
handle_revoke(struct req *r, struct cerr *err)
{
	const struct party *app;
	const uint8_t *blob;
	size_t len;
	struct revocation rv;
	struct token_state st;
	struct uselog_entry e;
	struct token t;
	int rc;

	if ((rc = body_keys(r, err, "revocation", NULL)) != 0 ||
	    (rc = signed_arg(r, "revocation", "the signed bytes", &blob, &len,
	    err)) != 0 ||
	    (rc = revocation_open(blob, len, &rv, err)) != 0)
		return rc;
	if (memcmp(rv.user, r->who->id, ID_BYTES) != 0)
		return cerr_set(err, CARNET_E_WRONG_USER,
		    "REVOKE: about another user than %s",
		    r->deleg ? "the person you act for" : "you");
	if ((rc = deleg_check_signer(r, rv.has_by, rv.by, err)) != 0 ||
	    (rc = own_token(r, rv.token, &st, &t, err)) != 0)
		return rc;
	reply_begin(r, 2);
	mpk_pack_cstr(&r->pk, "token");
	mpk_pack_binn(&r->pk, t.id, TOKID_BYTES);
	mpk_pack_cstr(&r->pk, "already");
	msgpack_pack_int(&r->pk, st.state == TOKEN_REVOKED ||
	    st.state == TOKEN_EXPIRED);
	if (st.state == TOKEN_REVOKED || st.state == TOKEN_EXPIRED)
		return 0;
	if ((rc = store_token_end(r->b->store, r->txn, &t, TOKEN_REVOKED,
	    r->now, err)) != 0 ||
	    (rc = token_unschedule(r->b, r->txn, &t, err)) != 0)
		return rc;
	ulog_entry_init(&e, r, USE_REVOKE);
	ulog_entry_about(&e, &t);
	if ((rc = ulog_append(r->b, r->txn, t.user, &e, err)) != 0)
		return rc;
	if (party_cached(r->b, r->txn, t.app, &app) == 0 &&
	    (rc = stat_add(r, err, 1, "revoke/%s", app->name)) != 0)
		return rc;
	session_token_ended(r->b, r->txn, &t, "revoked");
	log_info("user %s revoked a consent", r->from->name);
	return 0;
}

/* PAUSE and RESUME: the person's own, unrevoked consent. */
static int
pause_or_resume(struct req *r, bool pause, struct cerr *err)
{
	const msgpack_object *skip_o = mpk_get(r->body, "skip");
	bool skip = skip_o != NULL && skip_o->type == MSGPACK_OBJECT_BOOLEAN &&
	    skip_o->via.boolean;
	uint8_t id[TOKID_BYTES];
	struct token_state st;
	struct uselog_entry e;
	const struct party *app;
	struct token t;
	uint64_t last = 0;
	int rc;

	if ((rc = pause ? body_keys(r, err, "token", NULL) :
	    body_keys(r, err, "token", "skip", NULL)) != 0)
		return rc;
	if (mpk_bin_n(mpk_get(r->body, "token"), id, TOKID_BYTES) != 0)
		return cerr_set(err, CARNET_E_MALFORMED,
		    "%s: want token, a consent id", proto_cmd_name(r->cmd));
	if ((rc = own_token(r, id, &st, &t, err)) != 0)
		return rc;
	if ((rc = store_token_set_paused(r->b->store, r->txn, &t, pause,
	    err)) != 0)
		return rc;
	if (!pause && skip) {
		/* what came during the pause is never sent under it */
		if ((rc = user_last_get(r->b, r->txn, t.user, &last)) != 0)
			return cerr_set(err, rc, "RESUME: reading your records: "
			    "%s", carnet_strerror(rc));
		if ((rc = store_cursor_advance(r->b->store, r->txn, id, last, NULL,
		    err)) != 0)
			return rc;
	}
	ulog_entry_init(&e, r, pause ? USE_PAUSE : USE_RESUME);
	ulog_entry_about(&e, &t);
	e.rseq = last;
	if ((rc = ulog_append(r->b, r->txn, t.user, &e, err)) != 0)
		return rc;
	if (party_cached(r->b, r->txn, t.app, &app) == 0 &&
	    (rc = stat_add(r, err, 1, "%s/%s", pause ? "pause" : "resume",
	    app->name)) != 0)
		return rc;
	if (!pause)
		session_wake_app(r->b, t.app);
	reply_begin(r, 2);
	mpk_pack_cstr(&r->pk, "token");
	mpk_pack_binn(&r->pk, id, TOKID_BYTES);
	mpk_pack_cstr(&r->pk, "state");
	mpk_pack_cstr(&r->pk, pause ? "paused" : "active");
	return 0;
}

int
handle_pause(struct req *r, struct cerr *err)
{
	return pause_or_resume(r, true, err);
}

int
handle_resume(struct req *r, struct cerr *err)
{
	return pause_or_resume(r, false, err);
}


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
	ulog_entry_init(&e, r, USE_RENEW);
	ulog_entry_about(&e, &t);
	e.rseq = (uint64_t)t.expires;
	if ((rc = ulog_append(r->b, r->txn, t.user, &e, err)) != 0)
		return rc;
	token_forget(r->b, t.id);
	session_wake_app(r->b, t.app); /* an end put off: records may go */
	reply_begin(r, 2);
	mpk_pack_cstr(&r->pk, "token");
	mpk_pack_binn(&r->pk, t.id, TOKID_BYTES);
	mpk_pack_cstr(&r->pk, "expires");
	msgpack_pack_int64(&r->pk, t.expires);
	return 0;
}

static int
tok_list_one(void *arg, const uint8_t tok[TOKID_BYTES])
{
	struct items *tl = arg;
	const struct party *app;
	struct token_state st;
	struct token t;
	int rc;

	if ((rc = store_token_get(tl->r->b->store, tl->r->txn, tok, &st)) != 0 ||
	    (rc = token_peek(st.blob, st.blob_len, &t, NULL)) != 0)
		return rc;
	if (!deleg_covers_token(tl->r, &t))
		return 0; /* not the delegate's to see */
	msgpack_pack_map(&tl->pk, 10);
	mpk_pack_cstr(&tl->pk, "token");
	mpk_pack_binn(&tl->pk, st.blob, st.blob_len);
	mpk_pack_cstr(&tl->pk, "state");
	mpk_pack_cstr(&tl->pk, st.state == TOKEN_REVOKED ? "revoked" :
	    st.state == TOKEN_PAUSED ? "paused" :
	    st.state == TOKEN_EXPIRED ||
	    consent_live(&t, tl->r->now) == CARNET_E_EXPIRED ? "expired" :
	    "active");
	mpk_pack_cstr(&tl->pk, "ended_at");
	msgpack_pack_int64(&tl->pk, st.ended_at);
	mpk_pack_cstr(&tl->pk, "erased_at");
	msgpack_pack_int64(&tl->pk, st.erased_at);
	mpk_pack_cstr(&tl->pk, "granted_at");
	msgpack_pack_int64(&tl->pk, st.granted_at);
	if (party_cached(tl->r->b, tl->r->txn, t.app, &app) != 0)
		app = NULL;
	mpk_pack_cstr(&tl->pk, "app_name");
	mpk_pack_cstr(&tl->pk, app ? app->name : "?");
	mpk_pack_cstr(&tl->pk, "owner");
	mpk_pack_cstr(&tl->pk, app ? app->owner : "?");
	mpk_pack_cstr(&tl->pk, "business_model");
	mpk_pack_cstr(&tl->pk, app ? app->business_model : "?");
	mpk_pack_cstr(&tl->pk, "cursor");
	{
		uint64_t c = 0;

		if ((rc = store_cursor_get(tl->r->b->store, tl->r->txn, tok,
		    &c)) != 0)
			return rc;
		msgpack_pack_uint64(&tl->pk, c);
	}
	mpk_pack_cstr(&tl->pk, "id");
	mpk_pack_binn(&tl->pk, tok, TOKID_BYTES);
	tl->n++;
	return 0;
}

int
handle_tokens(struct req *r, struct cerr *err)
{
	struct items tl;
	int rc;

	if ((rc = body_keys(r, err, NULL)) != 0 ||
	    (rc = ulog_view(r, "consents", err)) != 0)
		return rc;
	items_init(&tl, r);
	rc = store_tokens_of_user(r->b->store, r->txn, r->who->id,
	    tok_list_one, &tl);
	return items_reply(&tl, "tokens", false, 0, rc, err);
}

struct req_page {
	struct items it; /* first: the requests */
	uint64_t limit, seen, last;
	bool more;
};

static int
req_list_one(void *arg, uint64_t seq, const MDB_val *v)
{
	struct req_page *rp = arg;
	struct items *rl = &rp->it;
	const struct party *app;
	msgpack_unpacked tree;
	uint8_t app_id[ID_BYTES];
	int rc;

	if (rp->seen == rp->limit) {
		rp->more = true;
		return 1; /* a page read: stop */
	}
	rp->seen++;
	rp->last = seq;
	if ((rc = mpk_unpack(v->mv_data, v->mv_size, 2, &tree)) != 0)
		return rc;
	if (mpk_bin_n(mpk_get(&tree.data, "app"), app_id, ID_BYTES) != 0 ||
	    party_cached(rl->r->b, rl->r->txn, app_id, &app) != 0) {
		msgpack_unpacked_destroy(&tree);
		return 0; /* the app is gone: skip its request */
	}
	if (!deleg_covers_names(rl->r, mpk_get(&tree.data, "types"))) {
		msgpack_unpacked_destroy(&tree);
		return 0; /* not the delegate's to see */
	}
	msgpack_pack_map(&rl->pk, 6);
	mpk_pack_cstr(&rl->pk, "seq");
	msgpack_pack_uint64(&rl->pk, seq);
	mpk_pack_cstr(&rl->pk, "request");
	msgpack_pack_object(&rl->pk, tree.data);
	pack_app_info(&rl->pk, app);
	msgpack_unpacked_destroy(&tree);
	rl->n++;
	return 0;
}

int
handle_requests(struct req *r, struct cerr *err)
{
	uint64_t from = 0, limit = REQUESTS_PAGE;
	struct req_page rp;
	int rc;

	if ((rc = body_page(r, &from, &limit, REQUESTS_PAGE, err)) != 0)
		return rc;
	if ((rc = ulog_view(r, "requests", err)) != 0)
		return rc;
	memset(&rp, 0, sizeof(rp));
	items_init(&rp.it, r);
	rp.limit = limit;
	rc = store_requests_foreach(r->b->store, r->txn, r->who->id, from,
	    (size_t)limit + 1, req_list_one, &rp);
	if ((rc = items_reply(&rp.it, "requests", false, 2, rc, err)) == 0) {
		uint64_t next = rp.last + 1;

		reply_page_end(r, rp.more, &next);
	}
	return rc;
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
			if (t->types[k].fields & FIELD_REF)
				json_array_append_new(fl,
				    json_string(FIELD_REF_NAME));
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
	json_object_set_new(o, "records_since", t->since != 0 ?
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
	    (rc = ulog_view(r, "consent receipt", err)) != 0)
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
