/*
 * cmd_schema.c: carnet schema: record types and field documentation.
 */
#include <string.h>

#include "../common/mpk.h"
#include "../common/text.h"
#include "../schemas/recjson.h"
#include "../schemas/schema.h"
#include "cmds.h"

static const char schema_help[] =
"usage: carnet schema [TYPE] [--json]\n"
"\n"
"Show the record types carnet knows, or one type's fields: name, kind,\n"
"whether it is required, and what it means.  Works offline.\n";

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
			json_t *o = recjson_schema(s);

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
		/* not a field, yet a consent may list it */
		printf("  %-18s %-15s %-8s %s\n", FIELD_REF_NAME, "string",
		    "envelope", FIELD_REF_DOC);
	}
	return 0;
}
