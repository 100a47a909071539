/*
 * cmd_import.c: carnet import fhir, a holder importing FHIR R4 documents.
 */
#include <string.h>
#include <sys/stat.h>

#include "../client/csvmap.h"
#include "../client/feed.h"
#include "../fhir/import.h"
#include "../schemas/recjson.h"
#include "cmds.h"

static const char import_help[] =
"usage: carnet import fhir --enrollment FILE [--currency CODE] [--dry-run]\n"
"                          [connection options] FILE...\n"
"\n"
"As a holder, import FHIR R4 documents (a Bundle or one resource, e.g. the\n"
"US Blue Button 2.0 API's responses) as carnet records:\n"
"  ExplanationOfBenefit  pharmacy claims: a dispense per item; carrier,\n"
"                        inpatient, outpatient and other claims: a claim\n"
"                        per item (codes, dates, amounts, provider)\n"
"  Patient               profile;   Coverage  coverage\n"
"  Observation           lab_result (laboratory) or observation (vitals)\n"
"Each document is mapped whole and checked before anything is sent: a\n"
"malformed one is refused, naming the entry, and nothing of it is stored.\n"
"Resources about patients not in the enrollment file are skipped, as are\n"
"kinds carnet does not hold.  Running it again stores nothing twice.\n"
"An OperationOutcome (a FHIR server's error report) is refused, saying\n"
"what it reports; a document over 32 MiB is refused before it is read.\n"
"\n"
"  --enrollment FILE  customer,carnet_id rows; the customer is the FHIR\n"
"                     Patient id\n"
"  --currency CODE    currency of amounts that do not say (default USD)\n"
"  --dry-run          map and check only; print the records as JSON lines\n"
"\n" CLI_CONN_HELP;

/* Send the records of one mapped document. */
static int
send_records(struct cli_conn *cc, struct fhir_import *im,
    unsigned long long *stored, unsigned long long *dup, struct cerr *err)
{
	struct holder_batch *hb;
	msgpack_unpacked u;
	size_t off = 0, start = 0;
	int rc = 0;

	if (holder_batch_new(cc->c, &hb) != 0)
		return cerr_set(err, CARNET_E_NOMEM, "out of memory");
	msgpack_unpacked_init(&u);
	while (rc == 0 && msgpack_unpack_next(&u, im->recs.data, im->recs.size,
	    &off) == MSGPACK_UNPACK_SUCCESS) {
		rc = holder_batch_add(hb, im->recs.data + start, off - start, err);
		start = off;
	}
	msgpack_unpacked_destroy(&u);
	if (rc == 0)
		rc = holder_batch_flush(hb, err);
	*stored = hb->stored;
	*dup = hb->dup;
	holder_batch_destroy(&hb);
	return rc;
}

static void
print_dry(struct fhir_import *im)
{
	msgpack_unpacked u;
	struct record r;
	size_t off = 0;

	msgpack_unpacked_init(&u);
	while (msgpack_unpack_next(&u, im->recs.data, im->recs.size, &off) ==
	    MSGPACK_UNPACK_SUCCESS)
		if (record_from_object(&u.data, &r, NULL) == 0) {
			json_t *j = recjson_from_record(&r);

			cli_print_json(j);
			json_decref(j);
		}
	msgpack_unpacked_destroy(&u);
}

static int
import_fhir(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_CONN_OPTIONS,
		{"enrollment", required_argument, NULL, 'e'},
		{"currency", required_argument, NULL, 'c'},
		{"dry-run", no_argument, NULL, 'n'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct cli_conn cc = {0};
	struct enrollment *enr = NULL;
	struct cerr err = {0};
	const char *enrf = NULL, *currency = "USD";
	bool dry = false;
	int c, i, failed = 0;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (cli_conn_opt(&cc, c, optarg))
			continue;
		switch (c) {
		case 'e': enrf = optarg; break;
		case 'c': currency = optarg; break;
		case 'n': dry = true; break;
		case 'h': return fputs(import_help, stdout), 0;
		default: return cli_usage(import_help);
		}
	}
	if (enrf == NULL || optind == argc || strlen(currency) != 3)
		return cli_usage(import_help);
	if (enroll_load(enrf, &enr, &err) != 0)
		return cli_fail("import fhir", &err);
	if (!dry)
		cli_connect(&cc, "import fhir");
	for (i = optind; i < argc; i++) {
		struct fhir_import im;
		struct stat st;
		json_error_t je;
		json_t *doc;
		unsigned long long stored = 0, dup = 0;
		unsigned t;

		if (stat(argv[i], &st) == 0 && S_ISREG(st.st_mode) &&
		    st.st_size > FHIR_DOC_MAX_BYTES) {
			cerr_set(&err, CARNET_E_TOO_BIG, "%s: %lld bytes, over "
			    "the %d a document may have: split it (a Bundle "
			    "into smaller ones); nothing of it was stored",
			    argv[i], (long long)st.st_size, FHIR_DOC_MAX_BYTES);
			cli_fail("import fhir", &err);
			failed++;
			continue;
		}
		doc = json_load_file(argv[i], JSON_REJECT_DUPLICATES, &je);
		if (doc == NULL) {
			cerr_set(&err, CARNET_E_MALFORMED, "%s: not JSON: %s "
			    "(line %d)", argv[i], je.text, je.line);
			cli_fail("import fhir", &err);
			failed++;
			continue;
		}
		fhir_import_init(&im, enroll_lookup_fn, enr, currency);
		if (fhir_import_doc(&im, doc, &err) != 0) {
			cerr_set(&err, err.code, "%s: %s (nothing of it was "
			    "stored)", argv[i], cerr_msg(&err));
			cli_fail("import fhir", &err);
			failed++;
		} else if (dry) {
			print_dry(&im);
		} else if (send_records(&cc, &im, &stored, &dup, &err) != 0) {
			cerr_set(&err, err.code, "%s: %s", argv[i],
			    cerr_msg(&err));
			cli_fail("import fhir", &err);
			failed++;
		} else {
			const char *sep = "";

			printf("%s: %u records (", argv[i], im.n);
			for (t = 0; t < schema_count(); t++)
				if (im.by_type[t]) {
					printf("%s%s %u", sep,
					    schema_by_index(t)->name, im.by_type[t]);
					sep = ", ";
				}
			printf("): %llu stored, %llu already stored; %u "
			    "resources of patients not enrolled, %u of other "
			    "kinds skipped\n", stored, dup, im.not_enrolled,
			    im.other_kinds);
		}
		fhir_import_release(&im);
		json_decref(doc);
	}
	if (!dry)
		cli_disconnect(&cc);
	enroll_free(&enr);
	return failed ? 1 : 0;
}

int
cmd_import(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "fhir") == 0)
		return import_fhir(argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0))
		return fputs(import_help, stdout), 0;
	return cli_usage(import_help);
}
