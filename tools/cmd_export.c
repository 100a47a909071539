/*
 * cmd_export.c: carnet export ("Download My Data") and carnet erase.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/mpk.h"
#include "../schemas/recjson.h"
#include "cmds.h"
#include "fhir.h"

static const char export_help[] =
"usage: carnet export --out FILE [--format json|fhir] [connection options]\n"
"\n"
"Download all your records as the broker stores them (every field, from\n"
"every holder) and your log of uses, into FILE:\n"
"  json  {\"user\", \"exported_at\", \"records\": [...], \"log\": [...]}, records\n"
"        in the same form as carnet put reads them (the default)\n"
"  fhir  a FHIR R4 Bundle (collection): claims as ExplanationOfBenefit,\n"
"        dispensing as MedicationDispense, lab results and device readings\n"
"        as Observation, the profile as Patient\n"
"The export itself is written to your log.\n"
"\n" CLI_CONN_HELP;

int
cli_records_fetch(struct cli_conn *cc, const char *cmd, const uint8_t *user,
    void (*fn)(void *arg, const struct record *r), void *arg, json_t *names,
    struct cerr *err)
{
	uint64_t from = 0;
	bool more = true;
	int rc;

	while (more) {
		msgpack_packer *pk = client_begin(cc->c, user ? 2 : 1);
		msgpack_unpacked reply;
		const msgpack_object *recs, *m;
		uint32_t i;

		if (user != NULL) {
			mpk_pack_cstr(pk, "user");
			mpk_pack_binn(pk, user, ID_BYTES);
		}
		mpk_pack_cstr(pk, "from");
		msgpack_pack_uint64(pk, from);
		if ((rc = cli_try(cc, cmd, &reply, err)) != 0)
			return rc;
		recs = mpk_get(&reply.data, "records");
		if (names != NULL)
			cli_names_merge(names, mpk_get(&reply.data, "names"));
		for (i = 0; recs && recs->type == MSGPACK_OBJECT_ARRAY &&
		    i < recs->via.array.size; i++) {
			const msgpack_object *b = &recs->via.array.ptr[i];
			msgpack_unpacked tree;
			struct record r;

			if (b->type != MSGPACK_OBJECT_BIN ||
			    record_decode(b->via.bin.ptr, b->via.bin.size, &tree,
			    &r, NULL) != 0)
				continue;
			fn(arg, &r);
			msgpack_unpacked_destroy(&tree);
		}
		mpk_u64(mpk_get(&reply.data, "next"), &from);
		m = mpk_get(&reply.data, "more");
		more = m && m->type == MSGPACK_OBJECT_BOOLEAN && m->via.boolean;
		msgpack_unpacked_destroy(&reply);
	}
	return 0;
}

struct export_ctx {
	json_t *records;
	bool fhir;
};

static void
export_one(void *arg, const struct record *r)
{
	struct export_ctx *ex = arg;
	json_t *j = ex->fhir ? fhir_resource(r,
	    json_array_size(ex->records) + 1) : recjson_from_record(r);

	if (j != NULL)
		json_array_append_new(ex->records, j);
}

json_t *
cli_export_doc(struct cli_conn *cc, bool fhir, bool *log_ok, struct cerr *err)
{
	char id[ID_STR_LEN + 1], when[TIME_STR_LEN + 1];
	json_t *records = json_array(), *doc;
	struct export_ctx ex = {records, fhir};
	struct cli_log lg;

	json_t *names = json_object();

	if (cli_records_fetch(cc, "EXPORT", NULL, export_one, &ex, names,
	    err) != 0) {
		json_decref(records);
		json_decref(names);
		return NULL;
	}
	*log_ok = cli_log_fetch(cc, &lg) == 0;
	if (!*log_ok)
		*err = lg.why;
	id_encode(cc->who, id);
	time_format((int64_t)time(NULL), when);
	if (fhir) {
		doc = fhir_bundle(records, id);
	} else {
		json_object_update(names, lg.names);
		doc = json_pack("{s:i, s:s, s:s, s:o, s:o, s:{s:I, s:b}, s:O}",
		    "carnet_export", 1, "user", id, "exported_at", when,
		    "records", records, "log", cli_log_entries_json(&lg),
		    "log_head", "seq", (json_int_t)lg.count, "verified", *log_ok,
		    "names", names);
	}
	json_decref(names);
	cli_log_release(&lg);
	if (doc == NULL)
		cerr_set(err, CARNET_E_NOMEM, "cannot build the export");
	return doc;
}

int
cmd_export(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_CONN_OPTIONS,
		{"out", required_argument, NULL, 'o'},
		{"format", required_argument, NULL, 'f'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct cli_conn cc = {0};
	const char *out = NULL, *format = "json";
	json_t *doc;
	struct cerr err = {0};
	bool fhir, log_ok;
	int c;

	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		if (cli_conn_opt(&cc, c, optarg))
			continue;
		switch (c) {
		case 'o': out = optarg; break;
		case 'f': format = optarg; break;
		case 'h': return fputs(export_help, stdout), 0;
		default: return cli_usage(export_help);
		}
	}
	if (out == NULL || optind != argc)
		return cli_usage(export_help);
	if (strcmp(format, "json") != 0 && strcmp(format, "fhir") != 0)
		return cli_failx("export", "--format: json or fhir");
	fhir = strcmp(format, "fhir") == 0;
	cli_connect(&cc, "export");
	doc = cli_export_doc(&cc, fhir, &log_ok, &err);
	cli_disconnect(&cc);
	if (doc == NULL)
		return cli_fail("export", &err);
	if (!log_ok)
		cli_fail("export", &err);
	if (json_dump_file(doc, out, JSON_INDENT(1) |
	    JSON_ENSURE_ASCII) != 0) {
		json_decref(doc);
		return cli_failx("export", "cannot write %s", out);
	}
	fprintf(stderr, "carnet export: wrote %zu records to %s (%s)\n",
	    json_array_size(fhir ? json_object_get(doc, "entry") :
	    json_object_get(doc, "records")), out, format);
	json_decref(doc);
	return log_ok ? 0 : 1;
}

static const char erase_help[] =
"usage: carnet erase --yes [connection options]\n"
"\n"
"Erase all your records at the broker.  Your log stays whole (it holds\n"
"ids and hashes, never the data) and records the erasure.  A holder that\n"
"sends the same records again does not bring them back.  Apps that\n"
"received your data before keep what they were sent: revoke their\n"
"consents (carnet consent revoke) to ask them to erase it.\n"
"\n" CLI_CONN_HELP;

int
cmd_erase(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_CONN_OPTIONS,
		{"yes", no_argument, NULL, 'y'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct cli_conn cc = {0};
	msgpack_unpacked reply;
	uint64_t n = 0;
	bool yes = false;
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (cli_conn_opt(&cc, c, optarg))
			continue;
		if (c == 'y')
			yes = true;
		else if (c == 'h')
			return fputs(erase_help, stdout), 0;
		else
			return cli_usage(erase_help);
	}
	if (!yes || optind != argc)
		return cli_usage(erase_help);
	cli_connect(&cc, "erase");
	client_begin(cc.c, 0);
	cli_call(&cc, "ERASE", "erase", &reply);
	mpk_u64(mpk_get(&reply.data, "erased"), &n);
	msgpack_unpacked_destroy(&reply);
	cli_disconnect(&cc);
	printf("%llu records erased\n", (unsigned long long)n);
	return 0;
}
