/*
 * cmd_put.c: carnet put, a holder pushing records as JSON lines.
 */
#include <stdlib.h>
#include <string.h>

#include "../client/feed.h"
#include "../common/limits.h"
#include "../common/mpk.h"
#include "../schemas/recjson.h"
#include "cmds.h"

static const char put_help[] =
"usage: carnet put --type TYPE [connection options] [FILE]\n"
"\n"
"Push records to the broker as the holder whose key you give.  FILE (or\n"
"standard input) holds one JSON object per line: the envelope fields\n"
"  user  the person's carnet id      ref   your own id for the record\n"
"  time  when it happened (ISO 8601, e.g. 2017-03-02T10:00:00Z)\n"
"beside the fields of TYPE (see carnet schema TYPE).  Each line is checked\n"
"before it is sent; at the first bad line carnet put stops, sending\n"
"nothing more.  Records are sent in batches of up to 500 and acknowledged\n"
"once durably stored; a record sent again with the same ref is not stored\n"
"twice, so after an error you can fix the input and run it all again.\n"
"Prints \"N stored, M already stored\".\n"
"\n" CLI_CONN_HELP;

int
cmd_put(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_CONN_OPTIONS,
		{"type", required_argument, NULL, 't'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct cli_conn cc = {0};
	struct holder_batch *hb = NULL;
	msgpack_sbuffer one;
	const struct schema *type = NULL;
	struct cerr err = {0};
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	unsigned long lineno = 0;
	FILE *in = stdin;
	int c, rc = 0;

	while ((c = getopt_long(argc, argv, "t:h", opts, NULL)) != -1) {
		if (cli_conn_opt(&cc, c, optarg))
			continue;
		if (c == 't') {
			if ((type = schema_by_name(optarg, strlen(optarg))) == NULL)
				return cli_failx("put", "unknown record type "
				    "'%s' (see carnet schema)", optarg);
		} else if (c == 'h') {
			return fputs(put_help, stdout), 0;
		} else {
			return cli_usage(put_help);
		}
	}
	if (type == NULL || argc - optind > 1)
		return cli_usage(put_help);
	if (optind < argc && strcmp(argv[optind], "-") != 0 &&
	    (in = fopen(argv[optind], "r")) == NULL)
		return cli_failx("put", "cannot open %s", argv[optind]);
	cli_connect(&cc, "put");
	if (holder_batch_new(cc.c, &hb) != 0)
		return cli_failx("put", "out of memory");
	msgpack_sbuffer_init(&one);
	while ((len = getline(&line, &cap, in)) > 0) {
		lineno++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len == 0)
			continue;
		/* A bad line stops the run before its batch is sent. */
		msgpack_sbuffer_clear(&one);
		if ((rc = recjson_encode_line(line, (size_t)len, type, &one,
		    &err)) != 0) {
			cerr_set(&err, rc, "line %lu: %s", lineno,
			    cerr_msg(&err));
			break;
		}
		if ((rc = holder_batch_add(hb, one.data, one.size, &err)) != 0)
			break;
	}
	if (rc == 0)
		rc = holder_batch_flush(hb, &err);
	if (in != stdin)
		fclose(in);
	free(line);
	msgpack_sbuffer_destroy(&one);
	cli_disconnect(&cc);
	holder_counts_print(stdout, hb->stored, hb->dup, hb->corrected);
	if (rc != 0) {
		cli_fail("put", &err);
		fprintf(stderr, "carnet put: stopped; the %llu records stored "
		    "before stay stored.  Fix the input and run again: nothing "
		    "is stored twice\n", hb->stored);
		holder_batch_destroy(&hb);
		return 1;
	}
	holder_batch_destroy(&hb);
	return 0;
}
