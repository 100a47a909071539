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
"As a holder, import FHIR documents as carnet records: R4 (a Bundle of any\n"
"type, or one resource), the STU3 shape of Blue Button 2.0's v1 API,\n"
"Synthea's bundles, the French ANS guides' resources.\n"
"  ExplanationOfBenefit  pharmacy: a dispense per item; other claims (carrier,\n"
"                        inpatient, outpatient, DME, HHA, hospice, SNF): a\n"
"                        claim per item, with the code and its system, the\n"
"                        line's charge, what the plan paid, the claim's\n"
"                        totals, diagnoses, the provider by role\n"
"  Patient  profile         Coverage  coverage\n"
"  Observation           lab_result (laboratory) or observation (vital signs,\n"
"                        devices; units converted exactly where UCUM says\n"
"                        how, else refused; components kept whole)\n"
"  Condition  condition     AllergyIntolerance  allergy\n"
"  Immunization  immunization\n"
"References of every form are resolved (Patient/ID, absolute URLs,\n"
"urn:uuid fullUrls, contained #id, identifiers).  An amount the document\n"
"does not give is absent, never 0; partial dates keep their precision.\n"
"\n"
"Each document is all or nothing: mapped and checked whole, every batch\n"
"checked by the broker, then stored; a refusal names the entry and the\n"
"element.  An OperationOutcome (a FHIR server's error report) is refused\n"
"saying what it reports; a document over 32 MiB is refused before it is\n"
"read.  Running it again stores nothing twice; a changed resource is\n"
"stored as a new version (ref fhir:TYPE/ID[#ITEM]@VERSION).  The report\n"
"gives, per resource kind, resources -> records or skipped and why.\n"
"\n"
"  --enrollment FILE  customer,carnet_id rows; the customer is the FHIR\n"
"                     Patient id, or an identifier as system|value\n"
"  --currency CODE    currency of amounts that do not say (default USD)\n"
"  --dry-run          map and check only: the records as JSON lines on\n"
"                     stdout, the report on stderr; nothing is sent\n"
"\n" CLI_CONN_HELP;

/* "record N: why" from the broker about a batch as the entry of the
 * document the record came from. */
static void
name_entry(const struct fhir_import *im, json_t *doc,
    unsigned long long first, struct cerr *err)
{
	unsigned k;
	int at = 0;
	unsigned long long i;
	json_t *res;
	char msg[sizeof(err->msg)];

	if (sscanf(cerr_msg(err), "record %u: %n", &k, &at) != 1 || at == 0 ||
	    k == 0 || (i = first + k - 1) >= im->n)
		return;
	res = im->entry_of[i] ? json_object_get(json_array_get(json_object_get(
	    doc, "entry"), im->entry_of[i] - 1), "resource") : doc;
	snprintf(msg, sizeof(msg), "%s", cerr_msg(err) + at);
	if (im->entry_of[i])
		cerr_set(err, err->code, "entry %u (%.24s %.64s): %s",
		    im->entry_of[i], json_string_value(json_object_get(res,
		    "resourceType")), json_string_value(json_object_get(res,
		    "id")), msg);
	else
		cerr_set(err, err->code, "%.24s %.64s: %s",
		    json_string_value(json_object_get(res, "resourceType")),
		    json_string_value(json_object_get(res, "id")), msg);
}

struct put_counts {
	unsigned long long stored, dup, corrected;
};

/* PUT every record of a mapped document, checking only when check. */
static int
put_all(struct cli_conn *cc, struct fhir_import *im, json_t *doc, bool check,
    struct put_counts *n, struct cerr *err)
{
	struct holder_batch *hb;
	msgpack_unpacked u;
	size_t off = 0, start = 0;
	int rc = 0;

	if (holder_batch_new(cc->c, &hb) != 0)
		return cerr_set(err, CARNET_E_NOMEM, "out of memory");
	hb->check = check;
	msgpack_unpacked_init(&u);
	while (rc == 0 && msgpack_unpack_next(&u, im->recs.data, im->recs.size,
	    &off) == MSGPACK_UNPACK_SUCCESS) {
		rc = holder_batch_add(hb, im->recs.data + start, off - start, err);
		start = off;
	}
	msgpack_unpacked_destroy(&u);
	if (rc == 0)
		rc = holder_batch_flush(hb, err);
	if (rc != 0)
		name_entry(im, doc, hb->failed_first, err);
	n->stored = hb->stored;
	n->dup = hb->dup;
	n->corrected = hb->corrected;
	holder_batch_destroy(&hb);
	return rc;
}

/*
 * Send the records of one mapped document: first every batch as a check
 * (the broker refuses then what it would refuse when storing: a type the
 * holder is not registered for, a person not registered, a full store),
 * so that a document is stored whole or not at all; then for real.
 */
static int
send_records(struct cli_conn *cc, struct fhir_import *im, json_t *doc,
    struct put_counts *n, struct cerr *err)
{
	int rc;

	if (im->n == 0)
		return 0;
	if ((rc = put_all(cc, im, doc, true, n, err)) != 0)
		return cerr_set(err, rc, "%s (checked before storing: nothing "
		    "of it was stored)", cerr_msg(err));
	if ((rc = put_all(cc, im, doc, false, n, err)) != 0)
		return cerr_set(err, rc, "%s; %llu of its %u records were "
		    "stored before this: run the import again to store the "
		    "rest (nothing is stored twice)", cerr_msg(err),
		    n->stored + n->dup, im->n);
	return 0;
}

/* Per resource kind: seen -> records, or skipped and why; then the notes. */
static void
print_report(FILE *f, const struct fhir_import *im)
{
	unsigned i;

	for (i = 0; i < im->nkinds; i++) {
		const struct fhir_kind_count *k = &im->kinds[i];

		if (strcmp(k->kind, "Bundle") == 0)
			continue;
		fprintf(f, "  %-22s %5u -> %u record%s", k->kind, k->seen,
		    k->records, k->records == 1 ? "" : "s");
		if (!fhir_kind_held(k->kind))
			fprintf(f, ", skipped: carnet has no record type for "
			    "them");
		else if (k->mapped < k->seen)
			fprintf(f, ", %u skipped (see the notes)",
			    k->seen - k->mapped);
		fputc('\n', f);
	}
	for (i = 0; i < FHIR_NOTE_COUNT; i++)
		if (im->notes[i] != 0)
			fprintf(f, "  note: %u %s\n", im->notes[i],
			    fhir_note_text((enum fhir_note)i));
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
		struct put_counts cnt = {0, 0, 0};
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
			fprintf(stderr, "%s: %u record%s\n", argv[i], im.n,
			    im.n == 1 ? "" : "s");
			print_report(stderr, &im);
		} else if (send_records(&cc, &im, doc, &cnt, &err) != 0) {
			cerr_set(&err, err.code, "%s: %s", argv[i],
			    cerr_msg(&err));
			cli_fail("import fhir", &err);
			failed++;
		} else {
			const char *sep = "";

			printf("%s: %u record%s (", argv[i], im.n, im.n == 1 ?
			    "" : "s");
			for (t = 0; t < schema_count(); t++)
				if (im.by_type[t]) {
					printf("%s%s %u", sep,
					    schema_by_index(t)->name, im.by_type[t]);
					sep = ", ";
				}
			printf("): ");
			holder_counts_print(stdout, cnt.stored, cnt.dup,
			    cnt.corrected);
			print_report(stdout, &im);
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
