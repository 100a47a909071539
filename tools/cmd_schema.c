/*
 * cmd_schema.c: carnet schema (record types and field documentation) and
 * carnet stats (the operator's usage indicators).
 */
#include <string.h>

#include "../common/mpk.h"
#include "../common/text.h"
#include "../schemas/schema.h"
#include "cmds.h"

static const char schema_help[] =
"usage: carnet schema [TYPE] [--json]\n"
"\n"
"Show the record types carnet knows, or one type's fields: name, kind,\n"
"whether it is required, and what it means.  Works offline.\n";

json_t *
cli_schema_json(const struct schema *s)
{
	json_t *fields = json_array();
	unsigned i;

	for (i = 0; i < s->nfields; i++)
		json_array_append_new(fields, json_pack("{s:s, s:s, s:b, s:s}", "name",
		    s->fields[i].name, "kind", field_kind_name(s->fields[i].kind),
		    "required", s->fields[i].required, "doc", s->fields[i].doc));
	return json_pack("{s:s, s:i, s:s, s:o}", "type", s->name, "version", s->version,
	    "doc", s->doc, "fields", fields);
}

int
cmd_schema(int argc, char **argv)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const struct schema *only = NULL;
	bool json = false;
	unsigned t, i;
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'j')
			json = true;
		else if (c == 'h')
			return fputs(schema_help, stdout), 0;
		else
			return cli_usage(schema_help);
	}
	if (argc - optind > 1)
		return cli_usage(schema_help);
	if (optind < argc && (only = schema_by_name(argv[optind],
	    strlen(argv[optind]))) == NULL)
		return cli_failx("schema", "unknown record type '%s'",
		    argv[optind]);
	for (t = 0; t < schema_count(); t++) {
		const struct schema *s = schema_by_index(t);

		if (only != NULL && s != only)
			continue;
		if (json) {
			json_t *o = cli_schema_json(s);

			cli_print_json(o);
			json_decref(o);
			continue;
		}
		printf("%s (v%u): %s\n", s->name, s->version, s->doc);
		if (only == NULL)
			continue;
		for (i = 0; i < s->nfields; i++)
			printf("  %-18s %-15s %-8s %s\n", s->fields[i].name,
			    field_kind_name(s->fields[i].kind),
			    s->fields[i].required ? "required" : "optional",
			    s->fields[i].doc);
	}
	return 0;
}

static const char stats_help[] =
"usage: carnet stats [--json] [connection options]\n"
"\n"
"The operator's usage indicators: records put per holder and type,\n"
"grants, revocations and deliveries per app (and type), requests,\n"
"exports and erasures.  Needs an operator key.\n"
"\n" CLI_CONN_HELP;

int
cmd_stats(int argc, char **argv)
{
	struct cli_conn cc = {0};
	const msgpack_object *st;
	msgpack_unpacked reply;
	json_t *o;
	bool json;
	uint32_t i;
	int rc;

	if ((rc = cli_query(argc, argv, stats_help, "stats", "STATS", &cc,
	    &json, &reply)) >= 0)
		return rc;
	o = json_object();
	st = mpk_get(&reply.data, "stats");
	for (i = 0; st && st->type == MSGPACK_OBJECT_MAP && i < st->via.map.size;
	    i++) {
		char key[160];
		uint64_t n;

		if (mpk_cstr(&st->via.map.ptr[i].key, key, sizeof(key)) != 0 ||
		    mpk_u64(&st->via.map.ptr[i].val, &n) != 0)
			continue;
		if (json)
			json_object_set_new(o, key, json_integer((json_int_t)n));
		else
			printf("%-40s %llu\n", text_term(key),
			    (unsigned long long)n);
	}
	if (json)
		cli_print_json(o);
	json_decref(o);
	msgpack_unpacked_destroy(&reply);
	cli_disconnect(&cc);
	return 0;
}
