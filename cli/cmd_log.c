/*
 * cmd_log.c: carnet log, carnet log verify: the person's dashboard of
 * uses (charter art. 8), checked on their own machine.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "../client/kept.h"
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
	json_t *uses = cli_log_entry_uses_json(sc->lg, entry, len), *o;
	size_t i;

	json_array_foreach(uses, i, o)
		if (strcmp(str_of(o, "kind"), "emergency") == 0)
			json_array_append(sc->emergencies, o);
	json_decref(uses);
}

/* One use (o: the caller's reference, taken). */
static void
show_use(struct show_ctx *sc, json_t *o)
{
	const char *app, *holder, *type;

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

/* Each use one entry records (a batch of deliveries: each record). */
static void
show_one(void *arg, const void *entry, size_t len)
{
	struct show_ctx *sc = arg;
	json_t *uses = cli_log_entry_uses_json(sc->lg, entry, len), *o;
	size_t i;

	json_array_foreach(uses, i, o)
		show_use(sc, json_incref(o));
	json_decref(uses);
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
