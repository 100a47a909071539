/*
 * api.c: the JSON API behind carnet dashboard's page.
 *
 *   GET  /api/status      who the key is, and whether the broker answers
 *   GET  /api/consents    the person's consents (TOKENS)
 *   GET  /api/requests    pending requests from apps (REQUESTS)
 *   GET  /api/log         the use log, verified here (chain, signed head)
 *   GET  /api/data        the person's records (EXPORT: this is logged)
 *   GET  /api/schemas     every record type and its documented fields
 *   GET  /api/delegations who may see or act for the person, and for whom
 *                         they may (DELEGATES)
 *   GET  /api/card        the person's emergency card (EMERGENCY_SHOW)
 *   GET  /api/download?format=json|fhir   "Download my data" (logged)
 *   POST /api/revoke   {token}             sign and send a revocation
 *   POST /api/pause    {token}             nothing sent until resumed
 *   POST /api/resume   {token, skip}       skip: what came meanwhile never
 *                                          is
 *   POST /api/accept   {request, expires}  sign the token a request asked
 *   POST /api/decline  {request, note}
 *   POST /api/undelegate {to}              end a delegate's access
 */
#include <string.h>
#include <time.h>

#include "../client/export.h"
#include "../client/personlog.h"
#include "../client/person.h"
#include "../common/mpk.h"
#include "../schemas/recjson.h"
#include "api.h"

/* After a failed connection, answer at once for this long instead of
 * making every call of the page wait for the connect timeout again. */
#define RETRY_AFTER_MS 1500

static unsigned
http_status(int code)
{
	switch (code) {
	case CARNET_E_TIMEOUT:
	case CARNET_E_TRANSPORT:
		return 503; /* the broker is unreachable */
	case CARNET_E_AUTH:
	case CARNET_E_KEY_PERMS:
	case CARNET_E_FORBIDDEN:
		return 403;
	case CARNET_E_NOT_FOUND:
	case CARNET_E_UNKNOWN_TOKEN:
		return 404;
	case CARNET_E_BAD_ARG:
	case CARNET_E_BAD_VALUE:
	case CARNET_E_MALFORMED:
	case CARNET_E_UNKNOWN_FIELD:
		return 400;
	case CARNET_E_NOMEM:
		return 500;
	default:
		return 409; /* the broker refused */
	}
}

static void
fail(struct dash_out *out, const struct cerr *err)
{
	out->status = http_status(err->code);
	out->json = json_pack("{s:{s:s, s:s}}", "error", "code",
	    carnet_errname(err->code), "message", cerr_msg(err));
}

static void
failx(struct dash_out *out, int code, const char *msg)
{
	struct cerr err;

	cerr_set(&err, code, "%s", msg);
	fail(out, &err);
}

/* Connect if not connected; a failure is remembered for a moment. */
static int
connected(struct dash *d, struct cerr *err)
{
	int64_t now = time_mono_ms();

	if (d->cc.c != NULL)
		return 0;
	if (d->failed_at != 0 && now - d->failed_at < RETRY_AFTER_MS) {
		*err = d->failed;
		return err->code;
	}
	if (cli_open(&d->cc, err) != 0) {
		d->failed = *err;
		d->failed_at = now;
		return err->code;
	}
	d->failed_at = 0;
	return 0;
}

/* After a call: drop a connection that no longer answers, so that the
 * next request connects again (the broker may have restarted). */
static int
settle(struct dash *d, int rc)
{
	if (rc == CARNET_E_TIMEOUT || rc == CARNET_E_TRANSPORT ||
	    rc == CARNET_E_AUTH)
		cli_disconnect(&d->cc);
	return rc;
}

/* CMD with an empty body, its reply turned into {key: conv(reply)}. */
static void
listing(struct dash *d, const char *cmd, const char *key,
    json_t *(*conv)(const msgpack_object *), struct dash_out *out)
{
	msgpack_unpacked reply;
	struct cerr err = {0};

	if (connected(d, &err) != 0)
		return fail(out, &err);
	cli_begin(&d->cc, 0);
	if (settle(d, cli_try(&d->cc, cmd, &reply, &err)) != 0)
		return fail(out, &err);
	out->json = json_pack("{s:o}", key, conv(&reply.data));
	msgpack_unpacked_destroy(&reply);
}

/* The pending requests, page by page: as many as a person may have. */
static void
api_requests(struct dash *d, struct dash_out *out)
{
	struct cerr err = {0};
	json_t *all;

	if (connected(d, &err) != 0)
		return fail(out, &err);
	if (settle(d, person_requests(&d->cc, 0, REQUESTS_PER_PERSON, &all,
	    &err)) != 0)
		return fail(out, &err);
	out->json = json_pack("{s:o}", "requests", all);
}

static void
api_status(struct dash *d, struct dash_out *out)
{
	const char *endpoint = d->cc.broker ? d->cc.broker :
	    getenv("CARNET_BROKER");
	char who[ID_STR_LEN + 1], role[16] = "", name[PARTY_NAME_MAX_BYTES + 1] = "";
	msgpack_unpacked reply;
	struct cerr err = {0};
	int rc;

	if ((rc = connected(d, &err)) == 0) {
		cli_begin(&d->cc, 0);
		rc = settle(d, cli_try(&d->cc, "HELLO", &reply, &err));
	}
	if (rc != 0)
		return fail(out, &err);
	mpk_cstr(mpk_get(&reply.data, "role"), role, sizeof(role));
	mpk_cstr(mpk_get(&reply.data, "name"), name, sizeof(name));
	msgpack_unpacked_destroy(&reply);
	id_encode(d->cc.kp.pk, who);
	if (strcmp(role, "user") != 0) {
		cerr_set(&err, CARNET_E_FORBIDDEN, "this key is not a person's "
		    "but a %s's (%s): start carnet dashboard with your own key",
		    role, name);
		return fail(out, &err);
	}
	out->json = json_pack("{s:s, s:s, s:s, s:s}", "person", who, "name", name,
	    "broker", endpoint ? endpoint : DEFAULT_BROKER, "lang", d->lang);
}

static void
api_log(struct dash *d, struct dash_out *out)
{
	struct cli_log lg;
	struct cerr err = {0};
	json_t *entries;
	int rc;

	if (connected(d, &err) != 0)
		return fail(out, &err);
	rc = settle(d, cli_log_fetch(&d->cc, &lg));
	if (rc != 0 && rc != CARNET_E_LOG_BROKEN && rc != CARNET_E_MALFORMED) {
		fail(out, &lg.why);
		cli_log_release(&lg);
		return;
	}
	entries = cli_log_entries_json(&lg);
	out->json = json_pack("{s:b, s:I, s:o, s:O}", "verified", lg.ok,
	    "count", (json_int_t)lg.count, "entries", entries, "names",
	    lg.names);
	if (!lg.ok)
		json_object_set_new(out->json, "why", json_string(
		    cerr_msg(&lg.why)));
	cli_log_release(&lg);
}

static json_t *
schemas_json(void)
{
	json_t *arr = json_array();
	unsigned i;

	for (i = 0; i < schema_count(); i++)
		json_array_append_new(arr, recjson_schema(schema_by_index(i)));
	return arr;
}

static void
add_record(void *arg, const struct record *r, uint64_t seq)
{
	json_t *j = cli_record_json(r, seq);

	if (j != NULL)
		json_array_append_new(arg, j);
}

static void
api_data(struct dash *d, struct dash_out *out)
{
	struct cerr err = {0};
	json_t *recs, *names;

	if (connected(d, &err) != 0)
		return fail(out, &err);
	recs = json_array();
	names = json_object();
	if (settle(d, cli_records_fetch(&d->cc, "EXPORT", NULL, add_record,
	    recs, names, &err)) != 0) {
		json_decref(recs);
		json_decref(names);
		return fail(out, &err);
	}
	out->json = json_pack("{s:o, s:o, s:o}", "records", recs, "names",
	    names, "schemas", schemas_json());
}

static void
api_download(struct dash *d, const char *format, struct dash_out *out)
{
	struct cerr err = {0};
	bool fhir, log_ok;

	if (format == NULL || (strcmp(format, "json") != 0 &&
	    strcmp(format, "fhir") != 0))
		return failx(out, CARNET_E_BAD_ARG, "format: json or fhir");
	fhir = strcmp(format, "fhir") == 0;
	if (connected(d, &err) != 0)
		return fail(out, &err);
	out->json = cli_export_doc(&d->cc, fhir, &log_ok, &err);
	if (out->json == NULL) {
		settle(d, err.code);
		return fail(out, &err);
	}
	out->filename = fhir ? "carnet-export.fhir.json" : "carnet-export.json";
}

/* The "request" member of a POST body: a request's number. */
static int
body_seq(json_t *body, uint64_t *seq)
{
	json_t *v = json_object_get(body, "request");

	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return -1;
	*seq = (uint64_t)json_integer_value(v);
	return 0;
}

static void
api_revoke(struct dash *d, json_t *body, struct dash_out *out)
{
	const char *id = json_string_value(json_object_get(body, "token"));
	uint8_t tok[TOKID_BYTES];
	struct cerr err = {0};
	bool already = false;

	if (id == NULL || tokid_decode(id, tok) != 0)
		return failx(out, CARNET_E_BAD_ARG, "want {\"token\": a consent "
		    "id}");
	if (connected(d, &err) != 0 ||
	    settle(d, person_revoke(&d->cc, tok, &already, &err)) != 0)
		return fail(out, &err);
	out->json = json_pack("{s:s, s:b}", "token", id, "already", already);
}

static void
api_pause(struct dash *d, json_t *body, bool pause, struct dash_out *out)
{
	const char *id = json_string_value(json_object_get(body, "token"));
	uint8_t tok[TOKID_BYTES];
	struct cerr err = {0};
	bool skip = json_is_true(json_object_get(body, "skip"));

	if (id == NULL || tokid_decode(id, tok) != 0)
		return failx(out, CARNET_E_BAD_ARG, "want {\"token\": a consent "
		    "id}");
	if (connected(d, &err) != 0 ||
	    settle(d, person_pause(&d->cc, tok, pause, skip, &err)) != 0)
		return fail(out, &err);
	out->json = json_pack("{s:s, s:s}", "token", id, "state",
	    pause ? "paused" : "active");
}

static void
api_accept(struct dash *d, json_t *body, struct dash_out *out)
{
	const char *exp = json_string_value(json_object_get(body, "expires"));
	char tid[TOKID_STR_LEN + 1];
	struct cerr err = {0};
	struct token t;
	json_t *req;
	int64_t expires = 0;
	uint64_t seq;
	int rc;

	if (body_seq(body, &seq) != 0)
		return failx(out, CARNET_E_BAD_ARG, "want {\"request\": a "
		    "request's number, \"expires\": \"90d\" or a date or \"\"}");
	if (exp != NULL && exp[0] != '\0' &&
	    (rc = end_parse(exp, (int64_t)time(NULL), &expires)) != 0)
		return failx(out, CARNET_E_BAD_VALUE, rc == CARNET_E_BAD_VALUE ?
		    "expires: a duration (90d, 12h, 1y) or a date" :
		    "expires is in the past");
	if (connected(d, &err) != 0 ||
	    settle(d, person_request_token(&d->cc, seq, expires, &t, &req,
	    &err)) != 0)
		return fail(out, &err);
	json_decref(req);
	if (settle(d, person_grant(&d->cc, &t, &seq, &err)) != 0)
		return fail(out, &err);
	tokid_encode(t.id, tid);
	out->json = json_pack("{s:s}", "token", tid);
}

static void
api_decline(struct dash *d, json_t *body, struct dash_out *out)
{
	const char *note = json_string_value(json_object_get(body, "note"));
	struct cerr err = {0};
	uint64_t seq;

	if (body_seq(body, &seq) != 0)
		return failx(out, CARNET_E_BAD_ARG, "want {\"request\": a "
		    "request's number, \"note\": why (optional)}");
	if (note != NULL && note[0] == '\0')
		note = NULL;
	if (connected(d, &err) != 0 ||
	    settle(d, person_decline(&d->cc, seq, note, &err)) != 0)
		return fail(out, &err);
	out->json = json_pack("{s:I}", "declined", (json_int_t)seq);
}

static void
api_undelegate(struct dash *d, json_t *body, struct dash_out *out)
{
	const char *to = json_string_value(json_object_get(body, "to"));
	uint8_t id[ID_BYTES];
	struct cerr err = {0};

	if (to == NULL || id_decode(to, id) != 0)
		return failx(out, CARNET_E_BAD_ARG, "want {\"to\": a delegate's "
		    "id}");
	if (connected(d, &err) != 0 ||
	    settle(d, person_undelegate(&d->cc, id, &err)) != 0)
		return fail(out, &err);
	out->json = json_pack("{s:s}", "ended", to);
}

void
dash_api(struct dash *d, const char *method, const char *path,
    const char *arg, json_t *body, struct dash_out *out)
{
	bool get = strcmp(method, "GET") == 0, post = strcmp(method, "POST") == 0;

	memset(out, 0, sizeof(*out));
	out->status = 200;
	if (get && strcmp(path, "status") == 0)
		api_status(d, out);
	else if (get && strcmp(path, "consents") == 0)
		listing(d, "TOKENS", "consents", person_consents_json, out);
	else if (get && strcmp(path, "requests") == 0)
		api_requests(d, out);
	else if (get && strcmp(path, "log") == 0)
		api_log(d, out);
	else if (get && strcmp(path, "data") == 0)
		api_data(d, out);
	else if (get && strcmp(path, "schemas") == 0)
		out->json = json_pack("{s:o}", "schemas", schemas_json());
	else if (get && strcmp(path, "delegations") == 0)
		listing(d, "DELEGATES", "delegations", person_delegations_json,
		    out);
	else if (get && strcmp(path, "card") == 0)
		listing(d, "EMERGENCY_SHOW", "emergency", person_card_json, out);
	else if (get && strcmp(path, "download") == 0)
		api_download(d, arg, out);
	else if (post && strcmp(path, "revoke") == 0)
		api_revoke(d, body, out);
	else if (post && (strcmp(path, "pause") == 0 ||
	    strcmp(path, "resume") == 0))
		api_pause(d, body, path[0] == 'p', out);
	else if (post && strcmp(path, "accept") == 0)
		api_accept(d, body, out);
	else if (post && strcmp(path, "decline") == 0)
		api_decline(d, body, out);
	else if (post && strcmp(path, "undelegate") == 0)
		api_undelegate(d, body, out);
	else
		failx(out, CARNET_E_NOT_FOUND, "no such call");
	if (out->json == NULL)
		failx(out, CARNET_E_NOMEM, "out of memory");
}

void
dash_close(struct dash *d)
{
	if (d->cc.c != NULL)
		cli_disconnect(&d->cc);
}
