/*
 * cmd_party.c: carnet party add | list, the operator's registry.
 *
 * These open the broker's LMDB store directly (LMDB allows several
 * processes), so they run on the broker's host, with its --data DIR; the
 * running broker sees a new party at its next handshake.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../client/csvmap.h"
#include "../common/plainfile.h"
#include "../common/text.h"
#include "../store/store.h"
#include "cmds.h"
#include "partyfields.h"

static const char party_help[] =
"usage: carnet party add --data DIR --role holder|app|user|operator\n"
"                        --name NAME --id PUBID [--type T]... [--purpose P]...\n"
"                        [--owner TEXT] [--business-model TEXT]\n"
"       carnet party list --data DIR [--json | --csv]\n"
"       carnet party import --data DIR FILE  (many: carnet party import --help)\n"
"\n"
"Register a party with the broker whose state is in DIR (default\n"
DEFAULT_DATA "), or list them.  Only registered keys may connect.\n"
"\n"
"  --role R            user (a person), holder (pushes records), app\n"
"                      (receives them with consent) or operator\n"
"  --name NAME         a short name shown to people, e.g. mgen, budget\n"
"  --id PUBID          the party's public id, from carnet keygen\n"
"  --type T            holder: a record type it may push (repeat; see\n"
"                      carnet schema)\n"
"  --purpose P         app: a purpose it declares, e.g. budget (repeat)\n"
"  --owner TEXT        app: who runs it, shown before people consent\n"
"  --business-model TEXT  app: how it makes money, shown likewise\n"
"  --json              list: one JSON object per party\n"
"  --csv               list: CSV in carnet party import's columns, for a\n"
"                      spreadsheet; a cell starting with = + - @ gets a '\n"
"                      in front, so that it is shown, never run\n"
"\n"
"Names, owners, business models and purposes are text shown to people:\n"
"no control characters, and no = + - @ at the start (a formula).  Types\n"
"are a holder's alone; purposes, owner and business model an app's.\n";

static int
party_add(int argc, char **argv)
{
	static const struct option opts[] = {
		{"data", required_argument, NULL, 'd'},
		{"role", required_argument, NULL, 'r'},
		{"name", required_argument, NULL, 'n'},
		{"id", required_argument, NULL, 'i'},
		{"type", required_argument, NULL, 't'},
		{"purpose", required_argument, NULL, 'p'},
		{"owner", required_argument, NULL, 'o'},
		{"business-model", required_argument, NULL, 'b'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *dir = DEFAULT_DATA, *role = NULL, *name = NULL, *id = NULL;
	struct party p;
	struct store *s = NULL;
	struct cerr err = {0};
	MDB_txn *txn;
	int c, rc = 0;

	memset(&p, 0, sizeof(p));
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': dir = optarg; break;
		case 'r': role = optarg; break;
		case 'n': name = optarg; break;
		case 'i': id = optarg; break;
		case 't': rc = party_add_type(&p, optarg, &err); break;
		case 'p': rc = party_add_purpose(&p, optarg, &err); break;
		case 'o':
			rc = party_text(p.owner, sizeof(p.owner), optarg,
			    "--owner", &err);
			break;
		case 'b':
			rc = party_text(p.business_model,
			    sizeof(p.business_model), optarg,
			    "--business-model", &err);
			break;
		case 'h':
			return fputs(party_help, stdout), 0;
		default:
			return cli_usage(party_help);
		}
		if (rc != 0)
			return cli_fail("party add", &err);
	}
	if (role == NULL || name == NULL || id == NULL || optind != argc)
		return cli_usage(party_help);
	if (party_finish(&p, role, name, id, &err) != 0)
		return cli_fail("party add", &err);
	p.added_at = (int64_t)time(NULL);
	if ((rc = party_open_store(dir, &s, &err)) == 0 &&
	    (rc = store_txn_begin(s, NULL, true, &txn, &err)) == 0) {
		if ((rc = store_party_add(s, txn, &p, &err)) == 0)
			rc = store_txn_commit(&txn, &err);
		else
			store_txn_abort(&txn);
	}
	store_close(&s);
	if (rc != 0)
		return cli_fail("party add", &err);
	printf("added %s %s %s\n", role, p.name, id);
	return 0;
}

struct list_ctx {
	bool json, csv;
};

/* One party as a CSV row: role,name,id,types,purposes,owner,business_model */
static void
list_csv(const struct party *p, const char *id)
{
	char list[PARTY_MAX_PURPOSES * (PURPOSE_MAX_BYTES + 1) + 1];
	size_t o;
	unsigned i;

	printf("%s,", party_role_name(p->role));
	csv_write_cell(stdout, p->name);
	printf(",%s,", id);
	for (i = 0, o = 0, list[0] = '\0'; i < p->ntypes; i++)
		o += (size_t)snprintf(list + o, o < sizeof(list) ?
		    sizeof(list) - o : 0, "%s%s",
		    i ? "|" : "", p->types[i]->name);
	csv_write_cell(stdout, list);
	putchar(',');
	for (i = 0, o = 0, list[0] = '\0'; i < p->npurposes; i++)
		o += (size_t)snprintf(list + o, o < sizeof(list) ?
		    sizeof(list) - o : 0, "%s%s",
		    i ? "|" : "", p->purposes[i]);
	csv_write_cell(stdout, list);
	putchar(',');
	csv_write_cell(stdout, p->owner);
	putchar(',');
	csv_write_cell(stdout, p->business_model);
	putchar('\n');
}

static int
list_one(void *arg, const struct party *p)
{
	struct list_ctx *lc = arg;
	char id[ID_STR_LEN + 1], when[TIME_STR_LEN + 1];
	unsigned i;

	id_encode(p->id, id);
	time_format(p->added_at, when);
	if (lc->csv) {
		list_csv(p, id);
		return 0;
	}
	if (lc->json) {
		json_t *o = json_object(), *types = json_array(),
		    *purposes = json_array();

		for (i = 0; i < p->ntypes; i++)
			json_array_append_new(types, json_string(p->types[i]->name));
		for (i = 0; i < p->npurposes; i++)
			json_array_append_new(purposes, json_string(p->purposes[i]));
		json_object_set_new(o, "id", json_string(id));
		json_object_set_new(o, "role", json_string(party_role_name(p->role)));
		json_object_set_new(o, "name", json_string(p->name));
		json_object_set_new(o, "types", types);
		json_object_set_new(o, "purposes", purposes);
		json_object_set_new(o, "owner", json_string(p->owner));
		json_object_set_new(o, "business_model",
		    json_string(p->business_model));
		json_object_set_new(o, "added_at", json_string(when));
		cli_print_json(o);
		json_decref(o);
		return 0;
	}
	printf("%-8s %-16s %s", party_role_name(p->role), text_term(p->name),
	    id);
	for (i = 0; i < p->ntypes; i++)
		printf("%s%s", i ? "," : " types=", p->types[i]->name);
	for (i = 0; i < p->npurposes; i++)
		printf("%s%s", i ? "," : " purposes=",
		    text_term(p->purposes[i]));
	if (p->owner[0])
		printf(" owner=\"%s\"", text_term(p->owner));
	if (p->business_model[0])
		printf(" business-model=\"%s\"",
		    text_term(p->business_model));
	putchar('\n');
	return 0;
}

static int
party_list(int argc, char **argv)
{
	static const struct option opts[] = {
		{"data", required_argument, NULL, 'd'},
		{"json", no_argument, NULL, 'j'},
		{"csv", no_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *dir = DEFAULT_DATA;
	struct list_ctx lc = {false, false};
	struct store *s = NULL;
	struct cerr err = {0};
	MDB_txn *txn;
	int c, rc;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'd')
			dir = optarg;
		else if (c == 'j')
			lc.json = true;
		else if (c == 'c')
			lc.csv = true;
		else if (c == 'h')
			return fputs(party_help, stdout), 0;
		else
			return cli_usage(party_help);
	}
	if (optind != argc || (lc.json && lc.csv))
		return cli_usage(party_help);
	if ((rc = party_open_store(dir, &s, &err)) == 0 &&
	    (rc = store_txn_begin(s, NULL, false, &txn, &err)) == 0) {
		if (lc.csv)
			puts("role,name,id,types,purposes,owner,business_model");
		rc = store_party_foreach(s, txn, list_one, &lc);
		store_txn_abort(&txn);
		if (rc != 0)
			cerr_set(&err, rc, "reading the registry: %s",
			    carnet_strerror(rc));
	}
	store_close(&s);
	return rc ? cli_fail("party list", &err) : 0;
}

int
cmd_party(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "add") == 0)
		return party_add(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "list") == 0)
		return party_list(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "import") == 0)
		return party_import(argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0))
		return fputs(party_help, stdout), 0;
	return cli_usage(party_help);
}
