/*
 * person.c: a person's consent actions, for the CLI and the dashboard.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/mpk.h"
#include "../schemas/recjson.h"
#include "kept.h"
#include "person.h"

static json_t *
token_json(const struct token *t, const msgpack_object *entry)
{
	char tid[TOKID_STR_LEN + 1], id[ID_STR_LEN + 1], when[TIME_STR_LEN + 1];
	char buf[PARTY_TEXT_MAX_BYTES + 1];
	json_t *o = json_object(), *types = json_array(), *holders;
	unsigned k, i;

	tokid_encode(t->id, tid);
	json_object_set_new(o, "id", json_string(tid));
	mpk_cstr(mpk_get(entry, "state"), buf, sizeof(buf));
	json_object_set_new(o, "state", json_string(buf));
	id_encode(t->app, id);
	json_object_set_new(o, "app", json_string(id));
	mpk_cstr(mpk_get(entry, "app_name"), buf, sizeof(buf));
	json_object_set_new(o, "app_name", json_string(buf));
	mpk_cstr(mpk_get(entry, "owner"), buf, sizeof(buf));
	json_object_set_new(o, "owner", json_string(buf));
	mpk_cstr(mpk_get(entry, "business_model"), buf, sizeof(buf));
	json_object_set_new(o, "business_model", json_string(buf));
	json_object_set_new(o, "purpose", json_string(t->purpose));
	for (k = 0; k < t->ntypes; k++) {
		json_t *ty = json_object(), *fl;

		json_object_set_new(ty, "type",
		    json_string(t->types[k].type->name));
		if (t->types[k].fields_listed) {
			fl = json_array();
			for (i = 0; i < t->types[k].type->nfields; i++)
				if (t->types[k].fields & (UINT64_C(1) << i))
					json_array_append_new(fl, json_string(
					    t->types[k].type->fields[i].name));
			if (t->types[k].fields & FIELD_REF)
				json_array_append_new(fl,
				    json_string(FIELD_REF_NAME));
			json_object_set_new(ty, "fields", fl);
		}
		json_array_append_new(types, ty);
	}
	json_object_set_new(o, "types", types);
	if (t->any_holder) {
		holders = json_string("any");
	} else {
		holders = json_array();
		for (i = 0; i < t->nholders; i++) {
			id_encode(t->holders[i], id);
			json_array_append_new(holders, json_string(id));
		}
	}
	json_object_set_new(o, "holders", holders);
	time_format(t->issued, when);
	json_object_set_new(o, "issued", json_string(when));
	if (t->since) {
		time_format(t->since, when);
		json_object_set_new(o, "since", json_string(when));
	}
	if (t->expires) {
		time_format(t->expires, when);
		json_object_set_new(o, "expires", json_string(when));
	}
	{
		int64_t at = 0, erased = 0;

		if (mpk_i64(mpk_get(entry, "granted_at"), &at) == 0 && at > 0) {
			time_format(at, when);
			json_object_set_new(o, "granted_at", json_string(when));
		}
		at = 0;
		if (mpk_i64(mpk_get(entry, "ended_at"), &at) == 0 && at > 0) {
			time_format(at, when);
			json_object_set_new(o, "ended_at", json_string(when));
			/* the app's confirmation that it erased the data */
			if (mpk_i64(mpk_get(entry, "erased_at"), &erased) == 0 &&
			    erased > 0) {
				time_format(erased, when);
				json_object_set_new(o, "erased_at",
				    json_string(when));
				json_object_set_new(o, "erase",
				    json_string("confirmed"));
			} else {
				json_object_set_new(o, "erase",
				    json_string("pending"));
			}
		}
	}
	return o;
}

json_t *
person_consents_json(const msgpack_object *reply)
{
	const msgpack_object *toks = mpk_get(reply, "tokens");
	json_t *arr = json_array();
	uint32_t k;

	for (k = 0; toks && toks->type == MSGPACK_OBJECT_ARRAY &&
	    k < toks->via.array.size; k++) {
		const msgpack_object *e = &toks->via.array.ptr[k];
		const uint8_t *blob;
		size_t len;
		struct token t;

		if (mpk_bin(mpk_get(e, "token"), &blob, &len) != 0 ||
		    token_open(blob, len, &t, NULL) != 0)
			continue; /* we only show what the person signed */
		json_array_append_new(arr, token_json(&t, e));
	}
	return arr;
}

static json_t *
requests_json(const msgpack_object *reply)
{
	const msgpack_object *reqs = mpk_get(reply, "requests");
	json_t *arr = json_array();
	uint32_t k, i;

	for (k = 0; reqs && reqs->type == MSGPACK_OBJECT_ARRAY &&
	    k < reqs->via.array.size; k++) {
		const msgpack_object *e = &reqs->via.array.ptr[k];
		const msgpack_object *rq = mpk_get(e, "request");
		const msgpack_object *types = mpk_get(rq, "types");
		char name[PARTY_NAME_MAX_BYTES + 1] = "";
		char purpose[PURPOSE_MAX_BYTES + 1] = "";
		char owner[PARTY_TEXT_MAX_BYTES + 1] = "", note[300] = "";
		char model[PARTY_TEXT_MAX_BYTES + 1] = "", when[TIME_STR_LEN + 1];
		json_t *jt = json_array();
		uint64_t seq = 0;
		int64_t t = 0;

		mpk_u64(mpk_get(e, "seq"), &seq);
		mpk_cstr(mpk_get(e, "app_name"), name, sizeof(name));
		mpk_cstr(mpk_get(e, "owner"), owner, sizeof(owner));
		mpk_cstr(mpk_get(e, "business_model"), model, sizeof(model));
		mpk_cstr(mpk_get(rq, "purpose"), purpose, sizeof(purpose));
		mpk_cstr(mpk_get(rq, "note"), note, sizeof(note));
		mpk_i64(mpk_get(rq, "time"), &t);
		time_format(t, when);
		for (i = 0; types && types->type == MSGPACK_OBJECT_ARRAY &&
		    i < types->via.array.size; i++)
			json_array_append_new(jt, recjson_value(
			    &types->via.array.ptr[i]));
		json_array_append_new(arr, json_pack("{s:I, s:o, s:s, s:s, s:s, "
		    "s:s, s:s, s:o, s:s}", "seq", (json_int_t)seq,
		    "app", cli_json_id(mpk_get(rq, "app")), "app_name", name,
		    "owner", owner, "business_model", model, "purpose", purpose,
		    "note", note, "types", jt, "time", when));
	}
	return arr;
}

int
person_requests(struct cli_conn *cc, uint64_t from, size_t max, json_t **out,
    struct cerr *err)
{
	msgpack_unpacked reply;
	msgpack_packer *pk;
	const msgpack_object *m;
	json_t *page;
	bool more = true;
	int rc = 0;

	*out = json_array();
	while (more && json_array_size(*out) < max) {
		pk = cli_begin(cc, 1);
		mpk_pack_cstr(pk, "from");
		msgpack_pack_uint64(pk, from);
		if ((rc = cli_try(cc, "REQUESTS", &reply, err)) != 0)
			break;
		page = requests_json(&reply.data);
		m = mpk_get(&reply.data, "more");
		more = m != NULL && m->type == MSGPACK_OBJECT_BOOLEAN &&
		    m->via.boolean && mpk_u64(mpk_get(&reply.data, "next"),
		    &from) == 0;
		msgpack_unpacked_destroy(&reply);
		json_array_extend(*out, page);
		json_decref(page);
	}
	while (json_array_size(*out) > max)
		json_array_remove(*out, json_array_size(*out) - 1);
	if (rc != 0) {
		json_decref(*out);
		*out = NULL;
	}
	return rc;
}

int
person_grant(struct cli_conn *cc, struct token *t, const uint64_t *request,
    struct cerr *err)
{
	msgpack_packer *pk;
	msgpack_unpacked reply;
	uint8_t *blob;
	size_t len;
	int rc;

	memcpy(t->user, cc->who, ID_BYTES);
	t->has_by = cc->has_for; /* a delegate signs for the person */
	if (cc->has_for)
		memcpy(t->by, cc->kp.pk, ID_BYTES);
	if ((rc = token_sign(t, cc->kp.sk, &blob, &len, err)) != 0)
		return rc;
	pk = cli_begin(cc, request ? 2 : 1);
	mpk_pack_cstr(pk, "token");
	mpk_pack_binn(pk, blob, len);
	free(blob);
	if (request != NULL) {
		mpk_pack_cstr(pk, "request");
		msgpack_pack_uint64(pk, *request);
	}
	if ((rc = cli_try(cc, "GRANT", &reply, err)) == 0)
		msgpack_unpacked_destroy(&reply);
	return rc;
}

int
person_request_token(struct cli_conn *cc, uint64_t seq, int64_t expires,
    struct token *t, json_t **req, struct cerr *err)
{
	json_t *all, *r = NULL, *ty;
	size_t i;
	int rc;

	*req = NULL;
	if ((rc = person_requests(cc, seq, 1, &all, err)) != 0)
		return rc;
	json_array_foreach(all, i, r)
		if (json_integer_value(json_object_get(r, "seq")) ==
		    (json_int_t)seq)
			break;
	if (i == json_array_size(all)) {
		json_decref(all);
		return cerr_set(err, CARNET_E_NOT_FOUND, "no pending request %llu "
		    "(answered already?)", (unsigned long long)seq);
	}
	memset(t, 0, sizeof(*t));
	rc = id_decode(json_string_value(json_object_get(r, "app")), t->app);
	json_array_foreach(json_object_get(r, "types"), i, ty) {
		const char *name = json_string_value(ty);
		const struct schema *s = name ? schema_by_name(name,
		    strlen(name)) : NULL;

		if (s == NULL || t->ntypes >= TOKEN_MAX_TYPES) {
			rc = -1;
			break;
		}
		t->types[t->ntypes].type = s;
		t->types[t->ntypes++].fields = FIELDS_ALL;
	}
	if (rc != 0 || t->ntypes == 0 ||
	    strlen(json_string_value(json_object_get(r, "purpose"))) >
	    PURPOSE_MAX_BYTES) {
		json_decref(all);
		return cerr_set(err, CARNET_E_MALFORMED, "request %llu is not "
		    "one this carnet understands", (unsigned long long)seq);
	}
	strcpy(t->purpose, json_string_value(json_object_get(r, "purpose")));
	t->any_holder = true;
	t->issued = t->not_before = (int64_t)time(NULL);
	t->expires = expires;
	memcpy(t->user, cc->who, ID_BYTES);
	token_new_id(t);
	*req = json_incref(r);
	json_decref(all);
	return 0;
}

int
person_decline(struct cli_conn *cc, uint64_t seq, const char *note,
    struct cerr *err)
{
	msgpack_packer *pk = cli_begin(cc, note ? 2 : 1);
	msgpack_unpacked reply;
	int rc;

	mpk_pack_cstr(pk, "request");
	msgpack_pack_uint64(pk, seq);
	if (note != NULL) {
		mpk_pack_cstr(pk, "note");
		mpk_pack_cstr(pk, note);
	}
	if ((rc = cli_try(cc, "DECLINE", &reply, err)) == 0)
		msgpack_unpacked_destroy(&reply);
	return rc;
}

int
person_revoke(struct cli_conn *cc, const uint8_t id[TOKID_BYTES],
    bool *already, struct cerr *err)
{
	struct revocation rv;
	msgpack_packer *pk;
	msgpack_unpacked reply;
	uint8_t *blob;
	size_t len;
	int64_t was = 0;
	int rc;

	memset(&rv, 0, sizeof(rv));
	memcpy(rv.token, id, TOKID_BYTES);
	memcpy(rv.user, cc->who, ID_BYTES);
	if (cc->has_for) {
		rv.has_by = true;
		memcpy(rv.by, cc->kp.pk, ID_BYTES);
	}
	rv.time = (int64_t)time(NULL);
	if ((rc = revocation_sign(&rv, cc->kp.sk, &blob, &len, err)) != 0)
		return rc;
	pk = cli_begin(cc, 1);
	mpk_pack_cstr(pk, "revocation");
	mpk_pack_binn(pk, blob, len);
	if ((rc = cli_try(cc, "REVOKE", &reply, err)) != 0) {
		free(blob);
		return rc;
	}
	/* kept, to be sent again if the broker ever forgets it */
	kept_revocation_add(cc, blob, len);
	free(blob);
	mpk_i64(mpk_get(&reply.data, "already"), &was);
	msgpack_unpacked_destroy(&reply);
	*already = was != 0;
	return 0;
}

static void
delegs_add(json_t *arr, const msgpack_object *list, const char *direction)
{
	char name[PARTY_NAME_MAX_BYTES + 1], scope[16], state[16];
	char when[TIME_STR_LEN + 1];
	uint32_t k, i;

	for (k = 0; list && list->type == MSGPACK_OBJECT_ARRAY &&
	    k < list->via.array.size; k++) {
		const msgpack_object *e = &list->via.array.ptr[k];
		const msgpack_object *types = mpk_get(e, "types");
		json_t *jt = json_array();
		int64_t expires = 0;

		name[0] = scope[0] = state[0] = '\0';
		mpk_cstr(mpk_get(e, "name"), name, sizeof(name));
		mpk_cstr(mpk_get(e, "scope"), scope, sizeof(scope));
		mpk_cstr(mpk_get(e, "state"), state, sizeof(state));
		mpk_i64(mpk_get(e, "expires"), &expires);
		for (i = 0; types && types->type == MSGPACK_OBJECT_ARRAY &&
		    i < types->via.array.size; i++)
			json_array_append_new(jt,
			    recjson_value(&types->via.array.ptr[i]));
		if (expires > 0)
			time_format(expires, when);
		json_array_append_new(arr, json_pack("{s:s, s:o, s:s, s:s, s:s, "
		    "s:o, s:o}", "direction", direction, "id",
		    cli_json_id(mpk_get(e, "id")), "name", name, "scope", scope,
		    "state", state, "types", jt, "until", expires > 0 ?
		    json_string(when) : json_null()));
	}
}

json_t *
person_delegations_json(const msgpack_object *reply)
{
	json_t *arr = json_array();

	delegs_add(arr, mpk_get(reply, "given"), "given");
	delegs_add(arr, mpk_get(reply, "received"), "received");
	return arr;
}

json_t *
person_card_json(const msgpack_object *reply)
{
	const msgpack_object *card = mpk_get(reply, "card"), *types, *apps;
	json_t *jt, *ja;
	uint32_t i;

	if (card == NULL || card->type != MSGPACK_OBJECT_MAP)
		return json_pack("{s:n}", "card");
	jt = json_array();
	ja = json_array();
	types = mpk_get(card, "types");
	apps = mpk_get(card, "apps");
	for (i = 0; types && types->type == MSGPACK_OBJECT_ARRAY &&
	    i < types->via.array.size; i++)
		json_array_append_new(jt, recjson_value(&types->via.array.ptr[i]));
	for (i = 0; apps && apps->type == MSGPACK_OBJECT_ARRAY &&
	    i < apps->via.array.size; i++)
		json_array_append_new(ja, cli_json_id(&apps->via.array.ptr[i]));
	return json_pack("{s:{s:o, s:o}}", "card", "types", jt, "apps", ja);
}

int
person_undelegate(struct cli_conn *cc, const uint8_t to[ID_BYTES],
    struct cerr *err)
{
	msgpack_packer *pk = client_begin(cc->c, 1);
	msgpack_unpacked reply;
	int rc;

	mpk_pack_cstr(pk, "to");
	mpk_pack_binn(pk, to, ID_BYTES);
	if ((rc = cli_try(cc, "UNDELEGATE", &reply, err)) == 0)
		msgpack_unpacked_destroy(&reply);
	return rc;
}

int
person_pause(struct cli_conn *cc, const uint8_t id[TOKID_BYTES], bool pause,
    bool skip, struct cerr *err)
{
	msgpack_packer *pk = cli_begin(cc, pause ? 1 : 2);
	msgpack_unpacked reply;
	int rc;

	mpk_pack_cstr(pk, "token");
	mpk_pack_binn(pk, id, TOKID_BYTES);
	if (!pause) {
		mpk_pack_cstr(pk, "skip");
		if (skip)
			msgpack_pack_true(pk);
		else
			msgpack_pack_false(pk);
	}
	if ((rc = cli_try(cc, pause ? "PAUSE" : "RESUME", &reply, err)) == 0)
		msgpack_unpacked_destroy(&reply);
	return rc;
}
