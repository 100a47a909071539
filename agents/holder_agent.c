/*
 * holder_agent.c: a holder's CSV export to carnet.
 */
#include <stdlib.h>
#include <string.h>

#include "../client/cli.h"
#include "../client/csvmap.h"
#include "../client/feed.h"
#include "holder_agent.h"

struct run {
	const struct holder_kind *k;
	struct csvmap map;
	bool header;
	const struct schema *type;
	struct enrollment *enr;
	struct holder_batch *hb;
	msgpack_sbuffer one;
	unsigned long skipped;
	struct cerr *err;
};

static int
on_row(void *arg, char **cells, int n, unsigned long line)
{
	struct run *r = arg;
	const char *id;
	int rc;

	if (!r->header) {
		r->header = true;
		if ((rc = csvmap_header(&r->map, r->type, cells, n, r->err)) != 0)
			return cerr_set(r->err, rc, "line 1: %s", cerr_msg(r->err));
		return 0;
	}
	if (n != r->map.ncols)
		return cerr_set(r->err, CARNET_E_MALFORMED,
		    "line %lu: %d cells, the header has %d", line, n,
		    r->map.ncols);
	if ((id = enroll_lookup(r->enr, csvmap_customer(&r->map, cells))) ==
	    NULL) {
		r->skipped++; /* not enrolled: nothing of theirs leaves */
		return 0;
	}
	msgpack_sbuffer_clear(&r->one);
	if ((rc = csvmap_row(&r->map, cells, n, id, &r->one, r->err)) != 0)
		return cerr_set(r->err, rc, "line %lu: %s", line,
		    cerr_msg(r->err));
	return holder_batch_add(r->hb, r->one.data, r->one.size, r->err);
}

static void
usage(const struct holder_kind *k, FILE *f)
{
	unsigned i;

	fprintf(f,
"usage: %s --csv FILE --enrollment FILE [--type TYPE] [connection options]\n"
"\n"
"The holder agent of %s: reads its CSV export and pushes the\n"
"rows of people who enrolled to carnet, in batches acknowledged once\n"
"durably stored.  Running it again is safe: rows already stored (same ref)\n"
"are not stored twice.\n"
"\n"
"  --csv FILE         the export (- for standard input); a header row names\n"
"                     the columns: customer, ref, time, and the fields of\n"
"                     the type, e.g.\n"
"                       %s\n"
"  --enrollment FILE  customer,carnet_id rows: who enrolled (rows of other\n"
"                     customers are skipped)\n"
"  --type TYPE        what the export holds:", k->prog, k->who, k->example);
	for (i = 0; k->types[i] != NULL; i++)
		fprintf(f, " %s%s", k->types[i], i == 0 ? " (default)" : "");
	fprintf(f, "\n\n" CLI_CONN_HELP);
}

int
holder_agent_main(const struct holder_kind *k, int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_CONN_OPTIONS,
		{"csv", required_argument, NULL, 'c'},
		{"enrollment", required_argument, NULL, 'e'},
		{"type", required_argument, NULL, 't'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct cli_conn cc = {0};
	struct cerr err = {0};
	struct run r;
	const char *csv = NULL, *enr = NULL, *type = k->types[0];
	FILE *in;
	int c, rc, i;

	memset(&r, 0, sizeof(r));
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (cli_conn_opt(&cc, c, optarg))
			continue;
		switch (c) {
		case 'c': csv = optarg; break;
		case 'e': enr = optarg; break;
		case 't': type = optarg; break;
		case 'h': usage(k, stdout); return 0;
		default: usage(k, stderr); return EXIT_USAGE;
		}
	}
	if (csv == NULL || enr == NULL || optind != argc) {
		usage(k, stderr);
		return EXIT_USAGE;
	}
	for (i = 0; k->types[i] != NULL && strcmp(k->types[i], type) != 0; i++)
		;
	if (k->types[i] == NULL)
		return cli_failx(k->prog, "--type: %s does not hold %s", k->who,
		    type);
	r.k = k;
	r.err = &err;
	r.type = schema_by_name(type, strlen(type));
	if (enroll_load(enr, &r.enr, &err) != 0)
		return cli_fail(k->prog, &err);
	if (strcmp(csv, "-") == 0)
		in = stdin;
	else if ((in = fopen(csv, "r")) == NULL) {
		enroll_free(&r.enr);
		return cli_failx(k->prog, "cannot open %s", csv);
	}
	cli_connect(&cc, k->prog);
	if (holder_batch_new(cc.c, &r.hb) != 0)
		return cli_failx(k->prog, "out of memory");
	msgpack_sbuffer_init(&r.one);
	rc = csv_read(in, on_row, &r, &err);
	if (rc == 0 && !r.header)
		rc = cerr_set(&err, CARNET_E_MALFORMED, "%s is empty", csv);
	if (rc == 0)
		rc = holder_batch_flush(r.hb, &err);
	printf("%s: %llu stored, %llu already stored, %lu rows skipped "
	    "(customers not enrolled)\n", k->prog, r.hb->stored, r.hb->dup,
	    r.skipped);
	if (in != stdin)
		fclose(in);
	msgpack_sbuffer_destroy(&r.one);
	holder_batch_destroy(&r.hb);
	enroll_free(&r.enr);
	cli_disconnect(&cc);
	if (rc != 0) {
		cerr_set(&err, rc, "%s: %s", csv, cerr_msg(&err));
		return cli_fail(k->prog, &err);
	}
	return 0;
}
