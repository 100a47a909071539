/*
 * cmd_emergency.c: carnet emergency: the person's emergency card, and the
 * emergency apps that open it.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "../client/person.h"
#include "../common/mpk.h"
#include "../common/text.h"
#include "../policy/token.h"
#include "../schemas/recjson.h"
#include "cmds.h"

static const char emergency_help[] =
"usage: carnet emergency set --types T1,T2 --apps PUBID1,PUBID2\n"
"       carnet emergency clear\n"
"       carnet emergency show [--json] [--for PUBID]\n"
"       carnet emergency open --user PUBID --reason TEXT\n"
"       carnet emergency read --user PUBID\n"
"       (each with the connection options below)\n"
"\n"
"set    (person) your emergency card: which record types may be opened in\n"
"       an emergency, and by which emergency apps (ids).  Without a card\n"
"       nothing opens.  clear removes it.\n"
"show   (person, or a delegate with --for) the card\n"
"open   (emergency app) open a person's card, giving the reason: the\n"
"       access lasts a short fixed time (carnetd --emergency-window, 15 min\n"
"       by default), is written to the person's log with the reason and\n"
"       shown at the top of it; prints the records as JSON lines\n"
"read   (emergency app) read the card's records again while the access\n"
"       lasts\n"
"\n" CLI_CONN_HELP;

static int
emergency_set(int argc, char **argv, bool clear)
{
	static const struct option opts[] = {
		CLI_CONN_OPTIONS,
		{"types", required_argument, NULL, 't'},
		{"apps", required_argument, NULL, 'a'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct cli_conn cc = {0};
	char *types = NULL, *apps = NULL, *titems[TOKEN_MAX_TYPES];
	char *aitems[TOKEN_MAX_HOLDERS];
	uint8_t ids[TOKEN_MAX_HOLDERS][ID_BYTES];
	msgpack_packer *pk;
	msgpack_unpacked reply;
	int c, nt = 0, na = 0, i;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (cli_conn_opt(&cc, c, optarg))
			continue;
		if (c == 't' && !clear)
			types = optarg;
		else if (c == 'a' && !clear)
			apps = optarg;
		else if (c == 'h')
			return fputs(emergency_help, stdout), 0;
		else
			return cli_usage(emergency_help);
	}
	if (optind != argc || (!clear && (types == NULL || apps == NULL)))
		return cli_usage(emergency_help);
	if (!clear) {
		if ((nt = cli_split(types, titems, TOKEN_MAX_TYPES)) <= 0 ||
		    (na = cli_split(apps, aitems, TOKEN_MAX_HOLDERS)) <= 0)
			return cli_failx("emergency set", "--types: 1 to %d, "
			    "--apps: 1 to %d", TOKEN_MAX_TYPES,
			    TOKEN_MAX_HOLDERS);
		for (i = 0; i < nt; i++)
			if (schema_by_name(titems[i], strlen(titems[i])) == NULL)
				return cli_failx("emergency set", "unknown "
				    "record type '%s' (see carnet schema)",
				    titems[i]);
		for (i = 0; i < na; i++)
			if (id_decode(aitems[i], ids[i]) != 0)
				return cli_failx("emergency set", "--apps: "
				    "'%.60s' is not a carnet id", aitems[i]);
	}
	cli_connect(&cc, "emergency set");
	pk = client_begin(cc.c, 2);
	mpk_pack_cstr(pk, "types");
	msgpack_pack_array(pk, (size_t)nt);
	for (i = 0; i < nt; i++)
		mpk_pack_cstr(pk, titems[i]);
	mpk_pack_cstr(pk, "apps");
	msgpack_pack_array(pk, (size_t)na);
	for (i = 0; i < na; i++)
		mpk_pack_binn(pk, ids[i], ID_BYTES);
	cli_call(&cc, "EMERGENCY_SET", clear ? "emergency clear" :
	    "emergency set", &reply);
	msgpack_unpacked_destroy(&reply);
	cli_disconnect(&cc);
	if (clear)
		printf("emergency card removed: nothing opens in an "
		    "emergency\n");
	else
		printf("emergency card set: %s, for %d app%s\n", types, na,
		    na > 1 ? "s" : "");
	return 0;
}

static int
emergency_show(int argc, char **argv)
{
	struct cli_conn cc = {0};
	msgpack_unpacked reply;
	json_t *o;
	bool json;
	int rc;

	if ((rc = cli_query(argc, argv, emergency_help, "emergency show",
	    "EMERGENCY_SHOW", &cc, &json, &reply)) >= 0)
		return rc;
	o = person_card_json(&reply.data);
	if (json) {
		cli_print_json(o);
	} else if (json_is_null(json_object_get(o, "card"))) {
		printf("no emergency card: nothing opens in an emergency\n");
	} else {
		char *t = json_dumps(json_object_get(json_object_get(o, "card"),
		    "types"), JSON_COMPACT);
		char *a = json_dumps(json_object_get(json_object_get(o, "card"),
		    "apps"), JSON_COMPACT);

		printf("emergency card: types %s, apps %s\n", t ? t : "?",
		    a ? a : "?");
		free(t);
		free(a);
	}
	json_decref(o);
	msgpack_unpacked_destroy(&reply);
	cli_disconnect(&cc);
	return 0;
}

static void
print_record(void *arg, const struct record *r, uint64_t seq)
{
	uint64_t *n = arg;
	json_t *j = cli_record_json(r, seq);

	if (j != NULL) {
		cli_print_json(j);
		json_decref(j);
		(*n)++;
	}
}

static int
emergency_access(int argc, char **argv, bool open)
{
	static const struct option opts[] = {
		CLI_CONN_OPTIONS,
		{"user", required_argument, NULL, 'u'},
		{"reason", required_argument, NULL, 'r'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *what = open ? "emergency open" : "emergency read";
	struct cli_conn cc = {0};
	const char *user = NULL, *reason = NULL;
	char when[TIME_STR_LEN + 1];
	uint8_t uid[ID_BYTES];
	msgpack_packer *pk;
	msgpack_unpacked reply;
	int64_t until = 0;
	struct cerr err = {0};
	uint64_t n;
	int c, rc;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (cli_conn_opt(&cc, c, optarg))
			continue;
		if (c == 'u')
			user = optarg;
		else if (c == 'r' && open)
			reason = optarg;
		else if (c == 'h')
			return fputs(emergency_help, stdout), 0;
		else
			return cli_usage(emergency_help);
	}
	if (optind != argc || user == NULL || (open && reason == NULL))
		return cli_usage(emergency_help);
	if (id_decode(user, uid) != 0)
		return cli_failx(what, "--user: not a carnet id");
	cli_connect(&cc, what);
	if (open) {
		pk = client_begin(cc.c, 2);
		mpk_pack_cstr(pk, "user");
		mpk_pack_binn(pk, uid, ID_BYTES);
		mpk_pack_cstr(pk, "reason");
		mpk_pack_cstr(pk, reason);
		cli_call(&cc, "EMERGENCY_OPEN", what, &reply);
		mpk_i64(mpk_get(&reply.data, "until"), &until);
		msgpack_unpacked_destroy(&reply);
		time_format(until, when);
		fprintf(stderr, "carnet emergency open: access open until %s; "
		    "the person and their delegates see it, with your "
		    "reason\n", when);
	}
	n = 0;
	rc = cli_records_fetch(&cc, "EMERGENCY_READ", uid, print_record, &n,
	    NULL, &err);
	cli_disconnect(&cc);
	if (rc != 0)
		return cli_fail(what, &err);
	fprintf(stderr, "carnet %s: %llu records\n", what,
	    (unsigned long long)n);
	return 0;
}

int
cmd_emergency(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "set") == 0)
		return emergency_set(argc - 1, argv + 1, false);
	if (argc >= 2 && strcmp(argv[1], "clear") == 0)
		return emergency_set(argc - 1, argv + 1, true);
	if (argc >= 2 && strcmp(argv[1], "show") == 0)
		return emergency_show(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "open") == 0)
		return emergency_access(argc - 1, argv + 1, true);
	if (argc >= 2 && strcmp(argv[1], "read") == 0)
		return emergency_access(argc - 1, argv + 1, false);
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0))
		return fputs(emergency_help, stdout), 0;
	return cli_usage(emergency_help);
}
