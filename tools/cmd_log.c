/*
 * cmd_log.c: carnet log, carnet log verify: the person's dashboard of
 * uses (charter art. 8), checked on their own machine.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "../agents/kept.h"
#include "../common/mpk.h"
#include "../common/text.h"
#include "../policy/uselog.h"
#include "../schemas/recjson.h"
#include "cmds.h"

static const char log_help[] =
"usage: carnet log [--json] [--app PUBID] [--for PUBID] [connection options]\n"
"       carnet log verify [--for PUBID] [connection options]\n"
"\n"
"log     every use of your data: each record sent to an app (when, which\n"
"        app, from which holder, what type, under which consent and for\n"
"        what purpose), your grants and revocations, requests, exports and\n"
"        erasures, pauses, renewals, notices before a consent ends, the\n"
"        apps' erase confirmations, what your delegates did (by NAME) and\n"
"        refused attempts.  Emergency openings are shown first, with their\n"
"        reason.  --json prints {\"user\", \"head\", \"emergencies\",\n"
"        \"entries\": [...]}; --app keeps the entries about one app.\n"
"verify  check the whole log here: each entry holds the hash of the one\n"
"        before, and the broker signs the last one.  The head seen last\n"
"        time is kept in KEYFILE.head: a log that shrank or was rewritten\n"
"        since is reported.  Exits 1 naming the first bad entry.\n"
"\n"
"A delegate limited to some types (carnet delegate add --types) sees the\n"
"entries about those types and their own acts; the others are withheld\n"
"(counted, their hashes sent so the chain still checks).\n"
"\n" CLI_CONN_HELP CLI_FOR_HELP;

static int
grow(struct cli_log *lg)
{
	msgpack_unpacked *n = realloc(lg->pages, (lg->npages + 1) *
	    sizeof(*n));

	if (n == NULL)
		return CARNET_E_NOMEM;
	lg->pages = n;
	return 0;
}

void
cli_log_release(struct cli_log *lg)
{
	size_t i;

	for (i = 0; i < lg->npages; i++)
		msgpack_unpacked_destroy(&lg->pages[i]);
	free(lg->pages);
	json_decref(lg->names);
	memset(lg, 0, sizeof(*lg));
}

void
cli_log_foreach(struct cli_log *lg,
    void (*fn)(void *arg, const void *entry, size_t len), void *arg)
{
	size_t p;
	uint32_t i;

	for (p = 0; p < lg->npages; p++) {
		const msgpack_object *es = mpk_get(&lg->pages[p].data, "entries");

		for (i = 0; es && es->type == MSGPACK_OBJECT_ARRAY &&
		    i < es->via.array.size; i++) {
			const msgpack_object *e = &es->via.array.ptr[i];

			if (e->type == MSGPACK_OBJECT_BIN)
				fn(arg, e->via.bin.ptr, e->via.bin.size);
		}
	}
}

struct verify_ctx {
	struct cli_log *lg;
	struct uselog_verifier v;
	bool broken;
	uint64_t saved_seq;
	uint8_t saved_hash[HASH_BYTES];
	bool saved_seen;
};

/* One entry of a LOG page: its bytes, or (to a delegate limited to some
 * types) {withheld: seq, hash}. */
static void
verify_one(struct verify_ctx *vc, const msgpack_object *o, bool delegate)
{
	uint8_t hash[HASH_BYTES];
	uint64_t seq;
	int rc;

	if (vc->broken)
		return;
	if (o->type == MSGPACK_OBJECT_BIN)
		rc = uselog_verify_next(&vc->v, o->via.bin.ptr, o->via.bin.size,
		    &vc->lg->why);
	else if (delegate && mpk_u64(mpk_get(o, "withheld"), &seq) == 0 &&
	    mpk_bin_n(mpk_get(o, "hash"), hash, HASH_BYTES) == 0) {
		rc = uselog_verify_withheld(&vc->v, seq, hash, &vc->lg->why);
		vc->lg->withheld++;
	} else
		rc = cerr_set(&vc->lg->why, CARNET_E_LOG_BROKEN,
		    "entry %llu: withheld from you, or unreadable",
		    (unsigned long long)vc->v.next_seq);
	if (rc != 0) {
		vc->broken = true;
		return;
	}
	vc->lg->count++;
	/* The head we saw last time must still be in the chain, unchanged. */
	if (vc->saved_seq != 0 && vc->v.next_seq - 1 == vc->saved_seq) {
		vc->saved_seen = true;
		if (sodium_memcmp(vc->v.prev, vc->saved_hash, HASH_BYTES) != 0) {
			cerr_set(&vc->lg->why, CARNET_E_LOG_BROKEN,
			    "entry %llu: differs from the one seen before "
			    "(the log was rewritten)",
			    (unsigned long long)vc->saved_seq);
			vc->broken = true;
		}
	}
}

int
cli_log_fetch(struct cli_conn *cc, struct cli_log *lg)
{
	struct verify_ctx vc;
	uint8_t bid[ID_BYTES], hash[HASH_BYTES], sig[HEAD_SIG_BYTES];
	uint64_t from = 1, head = 0;
	const msgpack_object *h;
	bool more = true;
	size_t p;
	uint32_t i;

	memset(lg, 0, sizeof(*lg));
	lg->names = json_object();
	/* the head kept before this reading (each reply may replace it) */
	memset(&vc, 0, sizeof(vc));
	if (!kept_head_load(cc, &vc.saved_seq, vc.saved_hash))
		vc.saved_seq = 0;
	while (more) {
		msgpack_packer *pk = cli_begin(cc, 1);
		msgpack_unpacked *page;
		const msgpack_object *es, *m;

		mpk_pack_cstr(pk, "from");
		msgpack_pack_uint64(pk, from);
		if (grow(lg) != 0)
			return cerr_set(&lg->why, CARNET_E_NOMEM, "out of memory");
		page = &lg->pages[lg->npages];
		if (cli_try(cc, "LOG", page, &lg->why) != 0)
			return lg->why.code;
		lg->npages++;
		es = mpk_get(&page->data, "entries");
		h = mpk_get(&page->data, "head");
		if (es == NULL || es->type != MSGPACK_OBJECT_ARRAY ||
		    mpk_u64(mpk_get(h, "seq"), &head) != 0 ||
		    mpk_bin_n(mpk_get(h, "hash"), hash, HASH_BYTES) != 0 ||
		    mpk_bin_n(mpk_get(h, "sig"), sig, HEAD_SIG_BYTES) != 0)
			return cerr_set(&lg->why, CARNET_E_MALFORMED,
			    "unreadable LOG reply");
		cli_names_merge(lg->names, mpk_get(&page->data, "names"));
		from += es->via.array.size;
		m = mpk_get(&page->data, "more");
		more = m != NULL && m->type == MSGPACK_OBJECT_BOOLEAN &&
		    m->via.boolean && es->via.array.size > 0;
	}
	/* Verify here: the chain, then the broker's word on its head. */
	vc.lg = lg;
	uselog_verify_init(&vc.v);
	for (p = 0; p < lg->npages; p++) {
		const msgpack_object *es = mpk_get(&lg->pages[p].data, "entries");

		for (i = 0; i < es->via.array.size; i++)
			verify_one(&vc, &es->via.array.ptr[i], cc->has_for);
	}
	if (vc.broken)
		return lg->why.code;
	if (lg->count != head || sodium_memcmp(vc.v.prev, hash, HASH_BYTES) != 0)
		return cerr_set(&lg->why, CARNET_E_LOG_BROKEN,
		    "the log's last entry (%llu) is not the head the broker "
		    "signed (%llu)", (unsigned long long)lg->count,
		    (unsigned long long)head);
	if (cli_conn_broker_id(cc, bid, NULL) != 0 ||
	    uselog_head_verify(cc->who, head, hash, bid, sig) != 0)
		return cerr_set(&lg->why, CARNET_E_LOG_BROKEN,
		    "the broker's signature on the log head does not verify");
	if (vc.saved_seq > head)
		return cerr_set(&lg->why, CARNET_E_LOG_BROKEN,
		    "the log shrank: %llu entries, %llu seen before",
		    (unsigned long long)head,
		    (unsigned long long)vc.saved_seq);
	if (vc.saved_seq != 0 && !vc.saved_seen)
		return cerr_set(&lg->why, CARNET_E_LOG_BROKEN,
		    "the entry seen last (%llu) is missing",
		    (unsigned long long)vc.saved_seq);
	kept_head_save(cc, head, hash);
	lg->ok = true;
	return 0;
}

static json_t *
name_of(struct cli_log *lg, json_t *id)
{
	json_t *n = json_is_string(id) ?
	    json_object_get(lg->names, json_string_value(id)) : NULL;

	return n ? json_incref(n) : json_null();
}

json_t *
cli_log_entry_json(struct cli_log *lg, const void *entry, size_t len)
{
	struct uselog_entry e;
	char when[TIME_STR_LEN + 1], s[ID_STR_LEN + 1], tid[TOKID_STR_LEN + 1];
	json_t *o, *app = json_null(), *holder = json_null();

	if (uselog_decode(entry, len, &e, NULL) != 0)
		return NULL;
	time_format(e.time, when);
	if (e.has_app) {
		id_encode(e.app, s);
		app = json_string(s);
	}
	if (e.has_holder) {
		id_encode(e.holder, s);
		holder = json_string(s);
	}
	o = json_pack("{s:I, s:s, s:s, s:s, s:o, s:o}", "seq", (json_int_t)e.seq, "time", when,
	    "kind", uselog_kind_name(e.kind), "what", uselog_kind_doc(e.kind),
	    "app", app, "app_name", name_of(lg, app));
	json_object_set_new(o, "holder", holder);
	json_object_set_new(o, "holder_name", name_of(lg, holder));
	json_object_set_new(o, "type", e.type ? json_string(e.type->name) :
	    json_null());
	if (e.kind == USE_DELIVER)
		json_object_set_new(o, "record", json_integer((json_int_t)e.rseq));
	else if (e.kind == USE_ERASE)
		json_object_set_new(o, "erased", json_integer((json_int_t)e.rseq));
	else if ((e.kind == USE_NOTICE || e.kind == USE_RENEW ||
	    e.kind == USE_EMERGENCY) && e.rseq != 0) {
		time_format((int64_t)e.rseq, when);
		json_object_set_new(o, e.kind == USE_EMERGENCY ? "until" :
		    "ends", json_string(when));
	}
	if (e.has_by) {
		json_t *by;

		id_encode(e.by, s);
		by = json_string(s);
		json_object_set_new(o, "by_name", name_of(lg, by));
		json_object_set_new(o, "by", by);
	}
	if (e.note[0] != '\0')
		json_object_set_new(o, "note", json_string(e.note));
	if (e.has_token) {
		tokid_encode(e.token, tid);
		json_object_set_new(o, "token", json_string(tid));
	} else {
		json_object_set_new(o, "token", json_null());
	}
	json_object_set_new(o, "purpose", json_string(e.purpose));
	return o;
}

static void
collect_entry(void *arg, const void *entry, size_t len)
{
	json_t *o = cli_log_entry_json(((void **)arg)[0], entry, len);

	if (o != NULL)
		json_array_append_new(((void **)arg)[1], o);
}

json_t *
cli_log_entries_json(struct cli_log *lg)
{
	json_t *arr = json_array();
	void *ctx[2] = {lg, arr};

	cli_log_foreach(lg, collect_entry, ctx);
	return arr;
}

struct show_ctx {
	struct cli_log *lg;
	json_t *entries, *emergencies;
	const char *app;
	bool json;
	uint64_t shown;
};

/* A field for the terminal: others' text (names, notes, reasons) is
 * escaped, so that it cannot redraw the screen. */
static const char *
str_of(json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v ? text_term(v) : "";
}

/* Emergency openings come first: the person must not miss one. */
static void
collect_emergency(void *arg, const void *entry, size_t len)
{
	struct show_ctx *sc = arg;
	json_t *o = cli_log_entry_json(sc->lg, entry, len);

	if (o != NULL && strcmp(str_of(o, "kind"), "emergency") == 0)
		json_array_append(sc->emergencies, o);
	json_decref(o);
}

static void
show_one(void *arg, const void *entry, size_t len)
{
	struct show_ctx *sc = arg;
	json_t *o = cli_log_entry_json(sc->lg, entry, len);
	const char *app, *holder, *type;

	if (o == NULL)
		return;
	app = json_string_value(json_object_get(o, "app"));
	if (sc->app != NULL && (app == NULL || strcmp(app, sc->app) != 0)) {
		json_decref(o);
		return;
	}
	sc->shown++;
	if (sc->json) {
		json_array_append_new(sc->entries, o);
		return;
	}
	holder = json_string_value(json_object_get(o, "holder_name"));
	type = json_string_value(json_object_get(o, "type"));
	printf("%6lld  %s  %-8s %-12s", (long long)json_integer_value(
	    json_object_get(o, "seq")), json_string_value(json_object_get(o,
	    "time")), json_string_value(json_object_get(o, "kind")),
	    json_is_string(json_object_get(o, "app_name")) ?
	    json_string_value(json_object_get(o, "app_name")) : "-");
	if (type != NULL)
		printf(" %s#%lld from %s", type, (long long)json_integer_value(
		    json_object_get(o, "record")), holder ? holder : "?");
	if (json_object_get(o, "erased"))
		printf(" %lld records", (long long)json_integer_value(
		    json_object_get(o, "erased")));
	if (*json_string_value(json_object_get(o, "purpose")))
		printf(" purpose=%s", json_string_value(json_object_get(o,
		    "purpose")));
	if (json_is_string(json_object_get(o, "token")))
		printf(" consent=%.8s", json_string_value(json_object_get(o,
		    "token")));
	if (json_object_get(o, "ends"))
		printf(" ends=%s", str_of(o, "ends"));
	if (json_object_get(o, "until"))
		printf(" until=%s", str_of(o, "until"));
	if (json_object_get(o, "by"))
		printf(" by=%s", json_is_string(json_object_get(o, "by_name")) ?
		    str_of(o, "by_name") : str_of(o, "by"));
	if (json_object_get(o, "note"))
		printf(" (%s)", str_of(o, "note"));
	putchar('\n');
	json_decref(o);
}

static int
log_show(struct cli_conn *cc, bool json, const char *app)
{
	struct cli_log lg;
	struct show_ctx sc = {.app = app, .json = json};
	char id[ID_STR_LEN + 1];
	int rc = cli_log_fetch(cc, &lg);

	sc.lg = &lg;
	sc.entries = json_array();
	sc.emergencies = json_array();
	cli_log_foreach(&lg, collect_emergency, &sc);
	if (!json) {
		size_t i;
		json_t *e;

		json_array_foreach(sc.emergencies, i, e)
			printf("!! EMERGENCY ACCESS %s: %s opened your emergency "
			    "card until %s, reason: %s\n", str_of(e, "time"),
			    json_is_string(json_object_get(e, "app_name")) ?
			    str_of(e, "app_name") : str_of(e, "app"),
			    str_of(e, "until"), str_of(e, "note"));
	}
	cli_log_foreach(&lg, show_one, &sc);
	id_encode(cc->who, id);
	if (json) {
		json_t *out = json_pack("{s:s, s:{s:I, s:b, s:I}, s:o, s:o}",
		    "user", id, "head", "seq", (json_int_t)lg.count, "verified",
		    lg.ok, "withheld", (json_int_t)lg.withheld, "emergencies",
		    sc.emergencies, "entries", sc.entries);

		cli_print_json(out);
		json_decref(out);
	} else {
		json_decref(sc.entries);
		json_decref(sc.emergencies);
		printf("%llu of %llu entries shown; %s\n",
		    (unsigned long long)sc.shown, (unsigned long long)lg.count,
		    lg.ok ? "the log verifies" : "THE LOG DOES NOT VERIFY");
		if (lg.withheld > 0)
			printf("%llu entries withheld: they concern types not "
			    "delegated to you\n",
			    (unsigned long long)lg.withheld);
	}
	if (rc != 0)
		cli_fail("log", &lg.why);
	cli_log_release(&lg);
	return rc ? 1 : 0;
}

int
cmd_log(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_CONN_OPTIONS,
		CLI_FOR_OPTION,
		{"json", no_argument, NULL, 'j'},
		{"app", required_argument, NULL, 'a'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct cli_conn cc = {0};
	const char *app = NULL;
	bool json = false, verify = false;
	int c, rc;

	if (argc >= 2 && strcmp(argv[1], "verify") == 0) {
		verify = true;
		argc--;
		argv++;
	}
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (cli_conn_opt(&cc, c, optarg))
			continue;
		switch (c) {
		case 'j': json = true; break;
		case 'a': app = optarg; break;
		case 'h': return fputs(log_help, stdout), 0;
		default: return cli_usage(log_help);
		}
	}
	if (optind != argc)
		return cli_usage(log_help);
	cli_connect(&cc, verify ? "log verify" : "log");
	if (verify) {
		struct cli_log lg;

		if ((rc = cli_log_fetch(&cc, &lg)) != 0)
			cli_fail("log verify", &lg.why);
		else
			printf("log verified: %llu entries%s, chained and "
			    "signed by the broker\n",
			    (unsigned long long)lg.count, lg.withheld ?
			    " (some withheld: not delegated to you)" : "");
		cli_log_release(&lg);
		rc = rc ? 1 : 0;
	} else {
		rc = log_show(&cc, json, app);
	}
	cli_disconnect(&cc);
	return rc;
}
