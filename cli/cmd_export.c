/*
 * cmd_export.c: carnet export ("Download My Data").
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/mpk.h"
#include "../fhir/export.h"
#include "../schemas/recjson.h"
#include "cmds.h"

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
