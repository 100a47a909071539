/*
 * cmd_consent.c: carnet consent grant | list | revoke | pause | resume |
 * renew | receipt | requests | accept | decline.
 *
 * The token is built and signed here, on the person's machine, after they
 * were shown who the app is, what it will receive and why (charter art. 6:
 * prior, clear, specific consent).  The key never leaves this process.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "../client/person.h"
#include "../common/limits.h"
#include "../common/mpk.h"
#include "../common/text.h"
#include "../policy/consent.h"
#include "../schemas/recjson.h"
#include "cmds.h"

#define FIELDS_MAX 64

static const char consent_help[] =
"usage: carnet consent grant --app PUBID --types T1,T2 --purpose P\n"
"                            [--holders H1,H2] [--fields F1,F2]\n"
"                            [--expires DURATION|DATE] [--since TIME] [--yes]\n"
"       carnet consent list [--json]\n"
"       carnet consent revoke TOKEN_ID\n"
"       carnet consent pause TOKEN_ID\n"
"       carnet consent resume TOKEN_ID [--skip]\n"
"       carnet consent renew TOKEN_ID --expires DURATION|DATE|never\n"
"       carnet consent receipt TOKEN_ID [--out FILE]\n"
"       carnet consent receipt --verify FILE\n"
"       carnet consent requests [--json]\n"
"       carnet consent accept REQUEST [--expires DURATION|DATE] [--yes]\n"
"       carnet consent decline REQUEST [--note TEXT]\n"
"       (each with the connection options below, and --for PUBID)\n"
"\n"
"grant     let an app receive some of your records, for one purpose.  You\n"
"          are shown the app's owner, business model and purposes, and what\n"
"          it will receive, before you sign; prints the consent's id.\n"
"  --app PUBID          the app's id\n"
"  --types T1,T2        record types it may receive (see carnet schema)\n"
"  --purpose P          the purpose, one the app declared\n"
"  --holders H1,H2      only records from these holders (default: any)\n"
"  --fields F1,F2       only these fields (FIELD, or TYPE.FIELD when several\n"
"                       types are granted); the others are stripped before\n"
"                       anything leaves the broker (default: every field).\n"
"                       ref is the holder's own id of each record (for a\n"
"                       FHIR import, the resource's type and id): the app\n"
"                       gets it only when listed, otherwise an id of its\n"
"                       own that says nothing\n"
"  --expires D          end of the consent: a duration (90d, 12h, 1y) or a\n"
"                       date (default: until you revoke it, with a review\n"
"                       notice in your log every year); your log gets a\n"
"                       notice some days before the end (carnetd\n"
"                       --notice-before)\n"
"  --since TIME         only records from TIME on (default: all your history)\n"
"  --yes                sign without asking\n"
"list      your consents, active and ended; for an ended one, whether the\n"
"          app confirmed it erased what it received (erase=pending if not)\n"
"revoke    end a consent at once: no record is sent under it after this\n"
"          command returns\n"
"pause     stop the flow at once, keeping the consent (revoke ends it)\n"
"resume    start it again: what came during the pause is sent, unless\n"
"          --skip, then it never is\n"
"renew     extend a consent that has not ended: same app, data and purpose,\n"
"          new end date, signed again by you\n"
"receipt   the consent receipt (JSON, signed by the broker: app, owner,\n"
"          purpose, data, holders, duration, how to withdraw); --verify\n"
"          checks a saved receipt against the broker's key, offline\n"
"requests  what apps asked you for, and why, each with its number\n"
"accept    grant a request exactly as asked (its app, types and purpose,\n"
"          every field, from any holder), after showing it; --expires as\n"
"          for grant.  Prints the consent's id.  To give less, use grant.\n"
"decline   say no to a request: it leaves the list, and your log keeps\n"
"          the answer (with --note, your reason)\n"
"\n" CLI_CONN_HELP CLI_FOR_HELP
"                      (a delegate signs with their own key; the broker\n"
"                      checks the delegation: view lists, manage changes)\n";

/* Fill the field masks of t from --fields, given t's types. */
static int
grant_fields(struct token *t, char *spec)
{
	char *items[FIELDS_MAX];
	int n, i;
	unsigned k;

	if ((n = cli_split(spec, items, FIELDS_MAX)) <= 0)
		return cli_failx("consent grant", "--fields: 1 to %d fields",
		    FIELDS_MAX);
	for (k = 0; k < t->ntypes; k++) {
		t->types[k].fields = 0;
		t->types[k].fields_listed = true;
	}
	for (i = 0; i < n; i++) {
		char *dot = strchr(items[i], '.');
		const char *fname = dot ? dot + 1 : items[i];
		bool found = false;

		for (k = 0; k < t->ntypes; k++) {
			const struct schema *s = t->types[k].type;
			int idx;

			if (dot && (strlen(s->name) != (size_t)(dot - items[i]) ||
			    strncmp(s->name, items[i], dot - items[i]) != 0))
				continue;
			if ((idx = schema_field_grantable(s, fname,
			    strlen(fname))) < 0)
				continue;
			t->types[k].fields |= UINT64_C(1) << idx;
			found = true;
		}
		if (!found)
			return cli_failx("consent grant", "--fields: no granted "
			    "type has a field '%s' (see carnet schema)",
			    items[i]);
	}
	for (k = 0; k < t->ntypes; k++)
		if (t->types[k].fields == 0)
			return cli_failx("consent grant", "--fields lists no "
			    "field of %s: add %s.FIELD, or grant it apart",
			    t->types[k].type->name, t->types[k].type->name);
	return 0;
}

static void
show_scope(const struct token *t, FILE *f)
{
	char when[TIME_STR_LEN + 1];
	unsigned k, i;

	for (k = 0; k < t->ntypes; k++) {
		const struct schema *s = t->types[k].type;

		fprintf(f, "  %s (%s):\n", s->name, s->doc);
		for (i = 0; i < s->nfields; i++)
			if (t->types[k].fields & (UINT64_C(1) << i))
				fprintf(f, "      %-18s %s\n", s->fields[i].name,
				    s->fields[i].doc);
		if (t->types[k].fields & FIELD_REF)
			fprintf(f, "      %-18s %s\n", FIELD_REF_NAME,
			    FIELD_REF_DOC);
	}
	if (t->any_holder) {
		fprintf(f, "  from: any of your data holders\n");
	} else {
		for (i = 0; i < t->nholders; i++) {
			char id[ID_STR_LEN + 1];

			id_encode(t->holders[i], id);
			fprintf(f, "  from holder: %s\n", id);
		}
	}
	fprintf(f, "  for the purpose: %s\n", t->purpose);
	if (t->since != 0) {
		time_format(t->since, when);
		fprintf(f, "  records since: %s\n", when);
	} else {
		fprintf(f, "  records since: all your history\n");
	}
	if (t->expires > 0) {
		time_format(t->expires, when);
		fprintf(f, "  until: %s (or until you revoke it)\n", when);
	} else {
		fprintf(f, "  until: you revoke it (carnet consent revoke)\n");
	}
}

/*
 * Prior, clear information (charter art. 6): who the app is, its owner,
 * business model and declared purposes, on stderr before anything is
 * signed.  name gets the app's name; false if purpose is not declared.
 */
static bool
show_app(struct cli_conn *cc, const uint8_t app[ID_BYTES], const char *purpose,
    char *name, size_t namesz)
{
	char owner[PARTY_TEXT_MAX_BYTES + 1] = "", id[ID_STR_LEN + 1];
	char model[PARTY_TEXT_MAX_BYTES + 1] = "", tmp[4 * PURPOSE_MAX_BYTES + 1];
	const msgpack_object *purposes;
	msgpack_packer *pk = cli_begin(cc, 1);
	msgpack_unpacked reply;
	bool declared = false;
	uint32_t k;

	mpk_pack_cstr(pk, "app");
	mpk_pack_binn(pk, app, ID_BYTES);
	cli_call(cc, "APPINFO", "consent", &reply);
	mpk_cstr(mpk_get(&reply.data, "app_name"), name, namesz);
	mpk_cstr(mpk_get(&reply.data, "owner"), owner, sizeof(owner));
	mpk_cstr(mpk_get(&reply.data, "business_model"), model, sizeof(model));
	id_encode(app, id);
	/* others' text: escaped, so that it cannot redraw the screen */
	fprintf(stderr, "App %s (%s)\n  run by: %s\n  business model: %s\n"
	    "  declared purposes:", text_term(name), id, owner[0] ?
	    text_term(owner) : "(not given)", model[0] ? text_term(model) :
	    "(not given)");
	purposes = mpk_get(&reply.data, "purposes");
	for (k = 0; purposes && purposes->type == MSGPACK_OBJECT_ARRAY &&
	    k < purposes->via.array.size; k++) {
		const msgpack_object *p = &purposes->via.array.ptr[k];

		if (p->type != MSGPACK_OBJECT_STR)
			continue;
		fprintf(stderr, " %s", text_escape(p->via.str.ptr,
		    p->via.str.size, tmp, sizeof(tmp)));
		declared = declared || mpk_str_eq(p, purpose);
	}
	fputc('\n', stderr);
	msgpack_unpacked_destroy(&reply);
	return declared;
}

static int
consent_grant(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_CONN_OPTIONS,
		CLI_FOR_OPTION,
		{"app", required_argument, NULL, 'a'},
		{"types", required_argument, NULL, 't'},
		{"purpose", required_argument, NULL, 'p'},
		{"holders", required_argument, NULL, 'H'},
		{"fields", required_argument, NULL, 'f'},
		{"expires", required_argument, NULL, 'e'},
		{"since", required_argument, NULL, 's'},
		{"yes", no_argument, NULL, 'y'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct cli_conn cc = {0};
	struct token t;
	struct cerr err = {0};
	const char *app = NULL, *purpose = NULL, *expires = NULL, *since = NULL;
	char *types = NULL, *holders = NULL, *fields = NULL;
	char *items[TOKEN_MAX_HOLDERS], name[PARTY_NAME_MAX_BYTES + 1] = "";
	char tid[TOKID_STR_LEN + 1];
	bool yes = false;
	int c, n, i, rc;

	memset(&t, 0, sizeof(t));
	while ((c = getopt_long(argc, argv, "yh", opts, NULL)) != -1) {
		if (cli_conn_opt(&cc, c, optarg))
			continue;
		switch (c) {
		case 'a': app = optarg; break;
		case 't': types = optarg; break;
		case 'p': purpose = optarg; break;
		case 'H': holders = optarg; break;
		case 'f': fields = optarg; break;
		case 'e': expires = optarg; break;
		case 's': since = optarg; break;
		case 'y': yes = true; break;
		case 'h': return fputs(consent_help, stdout), 0;
		default: return cli_usage(consent_help);
		}
	}
	if (app == NULL || types == NULL || purpose == NULL || optind != argc)
		return cli_usage(consent_help);
	if (id_decode(app, t.app) != 0)
		return cli_failx("consent grant", "--app: not a carnet id");
	if ((n = cli_split(types, items, TOKEN_MAX_TYPES)) <= 0)
		return cli_failx("consent grant", "--types: 1 to %d types",
		    TOKEN_MAX_TYPES);
	for (i = 0; i < n; i++) {
		const struct schema *s = schema_by_name(items[i], strlen(items[i]));

		if (s == NULL)
			return cli_failx("consent grant", "unknown record type "
			    "'%s' (see carnet schema)", items[i]);
		if (token_scope_of(&t, s) != NULL)
			return cli_failx("consent grant", "--types: %s given "
			    "twice", s->name);
		t.types[t.ntypes].type = s;
		t.types[t.ntypes++].fields = FIELDS_ALL;
	}
	if (fields != NULL && grant_fields(&t, fields) != 0)
		return 1;
	if (strlen(purpose) == 0 || strlen(purpose) > PURPOSE_MAX_BYTES)
		return cli_failx("consent grant", "--purpose: 1 to %d bytes",
		    PURPOSE_MAX_BYTES);
	strcpy(t.purpose, purpose);
	t.any_holder = holders == NULL;
	if (holders != NULL) {
		if ((n = cli_split(holders, items, TOKEN_MAX_HOLDERS)) <= 0)
			return cli_failx("consent grant", "--holders: 1 to %d "
			    "holders", TOKEN_MAX_HOLDERS);
		for (i = 0; i < n; i++)
			if (id_decode(items[i], t.holders[t.nholders++]) != 0)
				return cli_failx("consent grant", "--holders: "
				    "'%.60s' is not a carnet id", items[i]);
	}
	t.issued = t.not_before = (int64_t)time(NULL);
	if (since != NULL && time_parse(since, &t.since) != 0)
		return cli_failx("consent grant", "--since: want a date from "
		    TIME_RANGE_TEXT ", e.g. 2017-01-01");
	if (expires != NULL) {
		int erc = end_parse(expires, t.issued, &t.expires);

		if (erc == CARNET_E_BAD_VALUE)
			return cli_failx("consent grant", "--expires: want a "
			    "duration (90d, 12h, 1y) or a date");
		if (erc != 0)
			return cli_failx("consent grant", "--expires is in the "
			    "past");
	}

	cli_connect(&cc, "consent grant");
	token_new_id(&t);
	if (!show_app(&cc, t.app, purpose, name, sizeof(name))) {
		cli_disconnect(&cc);
		return cli_failx("consent grant", "app %s has not declared the "
		    "purpose '%s': it may not use your data for it", name,
		    purpose);
	}
	fprintf(stderr, "It will receive, while this consent lasts:\n");
	show_scope(&t, stderr);
	if (!yes && !cli_confirm("Sign this consent?")) {
		cli_disconnect(&cc);
		return cli_failx("consent grant", "not signed: nothing was sent");
	}
	rc = person_grant(&cc, &t, NULL, &err);
	cli_disconnect(&cc);
	if (rc != 0)
		return cli_fail("consent grant", &err);
	tokid_encode(t.id, tid);
	fprintf(stderr, "carnet consent grant: granted to %s; revoke it any "
	    "time with: carnet consent revoke %s\n", name, tid);
	printf("%s\n", tid);
	return 0;
}

static int
consent_list(int argc, char **argv)
{
	struct cli_conn cc = {0};
	msgpack_unpacked reply;
	json_t *all, *o;
	bool json;
	size_t k;
	int rc;

	if ((rc = cli_query(argc, argv, consent_help, "consent list", "TOKENS",
	    &cc, &json, &reply)) >= 0)
		return rc;
	all = person_consents_json(&reply.data);
	msgpack_unpacked_destroy(&reply);
	cli_disconnect(&cc);
	json_array_foreach(all, k, o) {
		json_t *types = json_object_get(o, "types"), *ty;
		size_t i;

		if (json) {
			cli_print_json(o);
			continue;
		}
		printf("%s  %-8s %-12s purpose=%s types=",
		    json_string_value(json_object_get(o, "id")),
		    json_string_value(json_object_get(o, "state")),
		    text_term(json_string_value(json_object_get(o, "app_name"))),
		    text_term(json_string_value(json_object_get(o, "purpose"))));
		json_array_foreach(types, i, ty) {
			json_t *fl = json_object_get(ty, "fields"), *f;
			size_t j;

			printf("%s%s", i ? "," : "",
			    json_string_value(json_object_get(ty, "type")));
			json_array_foreach(fl, j, f)
				printf("%s%s", j ? "+" : "(", json_string_value(f));
			if (fl)
				putchar(')');
		}
		if (json_object_get(o, "expires"))
			printf(" until=%s", json_string_value(
			    json_object_get(o, "expires")));
		if (json_object_get(o, "erase"))
			printf(" erase=%s", json_string_value(
			    json_object_get(o, "erase")));
		putchar('\n');
	}
	json_decref(all);
	return 0;
}

static int
consent_revoke(int argc, char **argv)
{
	struct cli_conn cc = {0};
	struct cerr err = {0};
	uint8_t id[TOKID_BYTES];
	bool already = false;
	int rc;

	if ((rc = cli_one_arg(argc, argv, consent_help, true, NULL, NULL,
	    NULL, &cc)) >= 0)
		return rc;
	if (tokid_decode(argv[optind], id) != 0)
		return cli_failx("consent revoke", "'%.40s' is not a consent id "
		    "(see carnet consent list)", argv[optind]);
	cli_connect(&cc, "consent revoke");
	rc = person_revoke(&cc, id, &already, &err);
	cli_disconnect(&cc);
	if (rc != 0)
		return cli_fail("consent revoke", &err);
	printf("%s %s\n", already ? "already revoked" : "revoked",
	    argv[optind]);
	return 0;
}

/* A request's number, as carnet consent requests prints it. */
static int
request_seq(const char *what, const char *s, uint64_t *seq)
{
	char *end;

	errno = 0;
	*seq = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || *s == '-')
		return cli_failx(what, "'%.40s' is not a request number (see "
		    "carnet consent requests)", s);
	return 0;
}

struct accept_opts {
	const char *expires;
	bool yes;
};

static int
accept_opt(void *arg, int c, const char *val)
{
	struct accept_opts *ao = arg;

	if (c == 'e')
		ao->expires = val;
	else if (c == 'y')
		ao->yes = true;
	else
		return -1;
	return 0;
}

static int
consent_accept(int argc, char **argv)
{
	static const struct option extra[] = {
		{"expires", required_argument, NULL, 'e'},
		{"yes", no_argument, NULL, 'y'},
		{NULL, 0, NULL, 0},
	};
	struct accept_opts ao = {0};
	struct cli_conn cc = {0};
	struct cerr err = {0};
	char name[PARTY_NAME_MAX_BYTES + 1] = "", tid[TOKID_STR_LEN + 1];
	struct token t;
	json_t *req;
	int64_t expires = 0;
	uint64_t seq;
	int rc;

	if ((rc = cli_one_arg(argc, argv, consent_help, true, extra,
	    accept_opt, &ao, &cc)) >= 0)
		return rc;
	if (request_seq("consent accept", argv[optind], &seq) != 0)
		return 1;
	if (ao.expires != NULL &&
	    (rc = end_parse(ao.expires, (int64_t)time(NULL), &expires)) != 0)
		return cli_failx("consent accept", rc == CARNET_E_BAD_VALUE ?
		    "--expires: want a duration (90d, 12h, 1y) or a date" :
		    "--expires is in the past");
	cli_connect(&cc, "consent accept");
	if ((rc = person_request_token(&cc, seq, expires, &t, &req,
	    &err)) != 0) {
		cli_disconnect(&cc);
		return cli_fail("consent accept", &err);
	}
	if (!show_app(&cc, t.app, t.purpose, name, sizeof(name))) {
		json_decref(req);
		cli_disconnect(&cc);
		return cli_failx("consent accept", "app %s no longer declares "
		    "the purpose '%s'", name, t.purpose);
	}
	if (json_string_length(json_object_get(req, "note")) > 0)
		fprintf(stderr, "It says why: %s\n", text_term(
		    json_string_value(json_object_get(req, "note"))));
	json_decref(req);
	fprintf(stderr, "It asked for, and will receive while this consent "
	    "lasts:\n");
	show_scope(&t, stderr);
	if (!ao.yes && !cli_confirm("Sign this consent?")) {
		cli_disconnect(&cc);
		return cli_failx("consent accept", "not signed: nothing was "
		    "sent (the request stays; decline it with carnet consent "
		    "decline %llu)", (unsigned long long)seq);
	}
	rc = person_grant(&cc, &t, &seq, &err);
	cli_disconnect(&cc);
	if (rc != 0)
		return cli_fail("consent accept", &err);
	tokid_encode(t.id, tid);
	fprintf(stderr, "carnet consent accept: granted to %s; revoke it any "
	    "time with: carnet consent revoke %s\n", name, tid);
	printf("%s\n", tid);
	return 0;
}

static int
decline_opt(void *arg, int c, const char *val)
{
	if (c != 'n')
		return -1;
	*(const char **)arg = val;
	return 0;
}

static int
consent_decline(int argc, char **argv)
{
	static const struct option extra[] = {
		{"note", required_argument, NULL, 'n'},
		{NULL, 0, NULL, 0},
	};
	struct cli_conn cc = {0};
	struct cerr err = {0};
	const char *note = NULL;
	uint64_t seq;
	int rc;

	if ((rc = cli_one_arg(argc, argv, consent_help, true, extra,
	    decline_opt, &note, &cc)) >= 0)
		return rc;
	if (request_seq("consent decline", argv[optind], &seq) != 0)
		return 1;
	cli_connect(&cc, "consent decline");
	rc = person_decline(&cc, seq, note, &err);
	cli_disconnect(&cc);
	if (rc != 0)
		return cli_fail("consent decline", &err);
	printf("declined request %llu\n", (unsigned long long)seq);
	return 0;
}

/* --skip, which only resume takes. */
static int
skip_opt(void *arg, int c, const char *val)
{
	(void)val;
	if (c != 's')
		return -1;
	*(bool *)arg = true;
	return 0;
}

static int
consent_pause_resume(int argc, char **argv, bool pause)
{
	static const struct option skip[] = {
		{"skip", no_argument, NULL, 's'},
		{NULL, 0, NULL, 0},
	};
	const char *what = pause ? "consent pause" : "consent resume";
	struct cli_conn cc = {0};
	struct cerr err = {0};
	uint8_t id[TOKID_BYTES];
	bool skip_it = false;
	int rc;

	if ((rc = cli_one_arg(argc, argv, consent_help, true, skip,
	    pause ? NULL : skip_opt, &skip_it, &cc)) >= 0)
		return rc;
	if (tokid_decode(argv[optind], id) != 0)
		return cli_failx(what, "'%.40s' is not a consent id (see carnet "
		    "consent list)", argv[optind]);
	cli_connect(&cc, what);
	rc = person_pause(&cc, id, pause, skip_it, &err);
	cli_disconnect(&cc);
	if (rc != 0)
		return cli_fail(what, &err);
	printf("%s %s%s\n", pause ? "paused" : "resumed", argv[optind],
	    skip_it ? " (what came during the pause will not be sent)" : "");
	return 0;
}

/* The person's stored consent with this id (as the broker keeps it). */
static int
fetch_token(struct cli_conn *cc, const char *what, const uint8_t id[TOKID_BYTES],
    struct token *t)
{
	const msgpack_object *toks;
	msgpack_unpacked reply;
	uint32_t k;
	int rc = CARNET_E_UNKNOWN_TOKEN;

	cli_begin(cc, 0);
	cli_call(cc, "TOKENS", what, &reply);
	toks = mpk_get(&reply.data, "tokens");
	for (k = 0; toks && toks->type == MSGPACK_OBJECT_ARRAY &&
	    k < toks->via.array.size && rc != 0; k++) {
		const uint8_t *blob;
		size_t len;

		if (mpk_bin(mpk_get(&toks->via.array.ptr[k], "token"), &blob,
		    &len) == 0 && token_open(blob, len, t, NULL) == 0 &&
		    memcmp(t->id, id, TOKID_BYTES) == 0)
			rc = 0;
	}
	msgpack_unpacked_destroy(&reply);
	return rc;
}

static int
consent_renew(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_CONN_OPTIONS,
		CLI_FOR_OPTION,
		{"expires", required_argument, NULL, 'e'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct cli_conn cc = {0};
	struct cerr err = {0};
	uint8_t id[TOKID_BYTES], *blob;
	char when[TIME_STR_LEN + 1];
	const char *expires = NULL;
	msgpack_packer *pk;
	msgpack_unpacked reply;
	struct token t;
	int64_t now = (int64_t)time(NULL), end = 0;
	size_t len;
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (cli_conn_opt(&cc, c, optarg))
			continue;
		if (c == 'e')
			expires = optarg;
		else if (c == 'h')
			return fputs(consent_help, stdout), 0;
		else
			return cli_usage(consent_help);
	}
	if (optind + 1 != argc || expires == NULL)
		return cli_usage(consent_help);
	if (tokid_decode(argv[optind], id) != 0)
		return cli_failx("consent renew", "'%.40s' is not a consent id "
		    "(see carnet consent list)", argv[optind]);
	if (strcmp(expires, "never") != 0 && end_parse(expires, now, &end) != 0)
		return cli_failx("consent renew", "--expires: want a duration "
		    "(90d, 1y), a date to come, or never");
	cli_connect(&cc, "consent renew");
	if (fetch_token(&cc, "consent renew", id, &t) != 0) {
		cli_disconnect(&cc);
		return cli_failx("consent renew", "no consent %s (see carnet "
		    "consent list)", argv[optind]);
	}
	t.expires = end;
	t.issued = now;
	t.has_by = cc.has_for;
	if (cc.has_for)
		memcpy(t.by, cc.kp.pk, ID_BYTES);
	if (token_sign(&t, cc.kp.sk, &blob, &len, &err) != 0) {
		cli_disconnect(&cc);
		return cli_fail("consent renew", &err);
	}
	pk = cli_begin(&cc, 1);
	mpk_pack_cstr(pk, "token");
	mpk_pack_binn(pk, blob, len);
	free(blob);
	cli_call(&cc, "RENEW", "consent renew", &reply);
	msgpack_unpacked_destroy(&reply);
	cli_disconnect(&cc);
	if (end == 0) {
		printf("renewed %s: until you revoke it\n", argv[optind]);
	} else {
		time_format(end, when);
		printf("renewed %s: until %s\n", argv[optind], when);
	}
	return 0;
}

/* Check a saved receipt against the broker's key: exit 0 if it holds. */
static int
receipt_verify(struct cli_conn *cc, const char *path)
{
	uint8_t bid[ID_BYTES], sig[crypto_sign_BYTES];
	struct cerr err = {0};
	json_error_t jerr;
	json_t *doc, *rc_obj;
	const char *hex, *signer;
	char *text = NULL, bidstr[ID_STR_LEN + 1];
	int ok = 0;

	if (cli_conn_broker_id(cc, bid, &err) != 0)
		return cli_fail("consent receipt", &err);
	if ((doc = json_load_file(path, 0, &jerr)) == NULL)
		return cli_failx("consent receipt", "%s: not JSON (%s, line %d)",
		    path, jerr.text, jerr.line);
	rc_obj = json_object_get(doc, "receipt");
	hex = json_string_value(json_object_get(doc, "signature"));
	signer = json_string_value(json_object_get(rc_obj, "broker"));
	id_encode(bid, bidstr);
	if (!json_is_object(rc_obj) || hex == NULL ||
	    sodium_hex2bin(sig, sizeof(sig), hex, strlen(hex), NULL, NULL,
	    NULL) != 0 ||
	    (text = json_dumps(rc_obj, JSON_COMPACT | JSON_SORT_KEYS)) == NULL) {
		json_decref(doc);
		return cli_failx("consent receipt", "%s: not a carnet receipt "
		    "(want receipt and signature) [malformed]", path);
	}
	if (signer == NULL || strcmp(signer, bidstr) != 0)
		fprintf(stderr, "carnet consent receipt: %s: issued by broker "
		    "%s, not %s [bad_signature]\n", path,
		    signer ? signer : "?", bidstr);
	else if (crypto_sign_verify_detached(sig, (const uint8_t *)text,
	    strlen(text), bid) != 0)
		fprintf(stderr, "carnet consent receipt: %s: the broker's "
		    "signature does not verify: the receipt was changed "
		    "[bad_signature]\n", path);
	else
		ok = 1;
	if (ok)
		printf("receipt %s: signed by broker %s, intact\n",
		    json_string_value(json_object_get(rc_obj, "consent_id")),
		    bidstr);
	free(text);
	json_decref(doc);
	return ok ? 0 : 1;
}

static int
consent_receipt(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_CONN_OPTIONS,
		CLI_FOR_OPTION,
		{"out", required_argument, NULL, 'o'},
		{"verify", required_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct cli_conn cc = {0};
	const char *out = NULL, *verify = NULL, *text;
	uint8_t id[TOKID_BYTES];
	char hex[2 * crypto_sign_BYTES + 1], bid[ID_STR_LEN + 1];
	const uint8_t *sig, *broker;
	size_t siglen, blen, tlen;
	msgpack_packer *pk;
	msgpack_unpacked reply;
	json_t *doc, *rec;
	int c, rc = 0;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (cli_conn_opt(&cc, c, optarg))
			continue;
		if (c == 'o')
			out = optarg;
		else if (c == 'v')
			verify = optarg;
		else if (c == 'h')
			return fputs(consent_help, stdout), 0;
		else
			return cli_usage(consent_help);
	}
	if (verify != NULL)
		return optind == argc ? receipt_verify(&cc, verify) :
		    cli_usage(consent_help);
	if (optind + 1 != argc)
		return cli_usage(consent_help);
	if (tokid_decode(argv[optind], id) != 0)
		return cli_failx("consent receipt", "'%.40s' is not a consent "
		    "id (see carnet consent list)", argv[optind]);
	cli_connect(&cc, "consent receipt");
	pk = cli_begin(&cc, 1);
	mpk_pack_cstr(pk, "token");
	mpk_pack_binn(pk, id, TOKID_BYTES);
	cli_call(&cc, "RECEIPT", "consent receipt", &reply);
	if (mpk_str(mpk_get(&reply.data, "receipt"), &text, &tlen) != 0 ||
	    mpk_bin(mpk_get(&reply.data, "sig"), &sig, &siglen) != 0 ||
	    siglen != crypto_sign_BYTES ||
	    mpk_bin(mpk_get(&reply.data, "broker"), &broker, &blen) != 0 ||
	    blen != ID_BYTES ||
	    (rec = json_loadb(text, tlen, 0, NULL)) == NULL) {
		msgpack_unpacked_destroy(&reply);
		cli_disconnect(&cc);
		return cli_failx("consent receipt", "the broker's reply is not "
		    "a receipt [malformed]");
	}
	sodium_bin2hex(hex, sizeof(hex), sig, siglen);
	id_encode(broker, bid);
	doc = json_pack("{s:o, s:s, s:s, s:s}", "receipt", rec, "signature",
	    hex, "signature_alg", "Ed25519 over the receipt as compact JSON "
	    "with sorted keys", "verify_with",
	    "carnet consent receipt --verify FILE --broker-id BROKER");
	msgpack_unpacked_destroy(&reply);
	cli_disconnect(&cc);
	if (out != NULL) {
		if (json_dump_file(doc, out, JSON_INDENT(2) | JSON_SORT_KEYS) != 0)
			rc = cli_failx("consent receipt", "cannot write %s", out);
		else
			fprintf(stderr, "carnet consent receipt: saved in %s "
			    "(signed by broker %s)\n", out, bid);
	} else {
		json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
		putchar('\n');
	}
	json_decref(doc);
	return rc;
}

static int
consent_requests(int argc, char **argv)
{
	struct cli_conn cc = {0};
	struct cerr err = {0};
	json_t *all, *o;
	bool json;
	size_t k;
	int rc;

	if ((rc = cli_query(argc, argv, consent_help, "consent requests",
	    NULL, &cc, &json, NULL)) >= 0)
		return rc;
	if (person_requests(&cc, 0, SIZE_MAX, &all, &err) != 0)
		exit(cli_fail("consent requests", &err));
	cli_disconnect(&cc);
	json_array_foreach(all, k, o) {
		char *ts;

		if (json) {
			cli_print_json(o);
			continue;
		}
		ts = json_dumps(json_object_get(o, "types"), JSON_COMPACT);
		printf("%lld  %s  %s (%s, %s) asks for %s, purpose %s%s%s\n"
		    "    accept: carnet consent accept %lld    decline: carnet "
		    "consent decline %lld\n",
		    (long long)json_integer_value(json_object_get(o, "seq")),
		    json_string_value(json_object_get(o, "time")),
		    text_term(json_string_value(json_object_get(o, "app_name"))),
		    text_term(json_string_value(json_object_get(o, "owner"))),
		    text_term(json_string_value(json_object_get(o,
		    "business_model"))), ts ? text_term(ts) : "?",
		    text_term(json_string_value(json_object_get(o, "purpose"))),
		    json_string_length(json_object_get(o, "note")) ? ": " : "",
		    text_term(json_string_value(json_object_get(o, "note"))),
		    (long long)json_integer_value(json_object_get(o, "seq")),
		    (long long)json_integer_value(json_object_get(o, "seq")));
		free(ts);
	}
	json_decref(all);
	return 0;
}

int
cmd_consent(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "grant") == 0)
		return consent_grant(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "list") == 0)
		return consent_list(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "revoke") == 0)
		return consent_revoke(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "pause") == 0)
		return consent_pause_resume(argc - 1, argv + 1, true);
	if (argc >= 2 && strcmp(argv[1], "resume") == 0)
		return consent_pause_resume(argc - 1, argv + 1, false);
	if (argc >= 2 && strcmp(argv[1], "renew") == 0)
		return consent_renew(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "receipt") == 0)
		return consent_receipt(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "requests") == 0)
		return consent_requests(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "accept") == 0)
		return consent_accept(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "decline") == 0)
		return consent_decline(argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0))
		return fputs(consent_help, stdout), 0;
	return cli_usage(consent_help);
}
