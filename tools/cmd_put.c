/*
 * cmd_put.c: carnet put, a holder pushing records as JSON lines.
 */
#include <stdlib.h>
#include <string.h>

#include "../common/limits.h"
#include "../common/mpk.h"
#include "../schemas/recjson.h"
#include "cli.h"

#define PUT_BATCH_BYTES (512 * 1024)

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

struct put_state {
	struct cli_conn cc;
	msgpack_sbuffer batch;
	unsigned nbatch;
	unsigned long long stored, dup;
};

static int
flush(struct put_state *ps, struct cerr *err)
{
	msgpack_packer *pk;
	msgpack_unpacked reply;
	uint64_t stored = 0, dup = 0;
	int rc;

	if (ps->nbatch == 0)
		return 0;
	pk = client_begin(ps->cc.c, 1);
	mpk_pack_cstr(pk, "recs");
	msgpack_pack_array(pk, ps->nbatch);
	msgpack_sbuffer_write(pk->data, ps->batch.data, ps->batch.size);
	if ((rc = client_call(ps->cc.c, "PUT", &reply, err)) != 0)
		return rc;
	if (mpk_u64(mpk_get(&reply.data, "stored"), &stored) != 0 ||
	    mpk_u64(mpk_get(&reply.data, "dup"), &dup) != 0 ||
	    stored + dup != ps->nbatch)
		rc = cerr_set(err, CARNET_E_MALFORMED,
		    "the broker's ACK does not account for the batch");
	msgpack_unpacked_destroy(&reply);
	ps->stored += stored;
	ps->dup += dup;
	ps->nbatch = 0;
	msgpack_sbuffer_clear(&ps->batch);
	return rc;
}

int
cmd_put(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_CONN_OPTIONS,
		{"type", required_argument, NULL, 't'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct put_state ps;
	const struct schema *type = NULL;
	struct cerr err = {0};
	char *line = NULL;
	size_t cap = 0, before;
	ssize_t len;
	unsigned long lineno = 0;
	FILE *in = stdin;
	int c, rc = 0;

	memset(&ps, 0, sizeof(ps));
	while ((c = getopt_long(argc, argv, "t:h", opts, NULL)) != -1) {
		if (cli_conn_opt(&ps.cc, c, optarg))
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
	cli_connect(&ps.cc, "put");
	msgpack_sbuffer_init(&ps.batch);
	while ((len = getline(&line, &cap, in)) > 0) {
		lineno++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len == 0)
			continue;
		before = ps.batch.size;
		if ((rc = recjson_encode_line(line, (size_t)len, type, &ps.batch,
		    &err)) != 0) {
			ps.batch.size = before;
			cerr_set(&err, rc, "line %lu: %s", lineno,
			    cerr_msg(&err));
			break;
		}
		ps.nbatch++;
		if ((ps.nbatch == CLIENT_PUT_BATCH ||
		    ps.batch.size >= PUT_BATCH_BYTES) &&
		    (rc = flush(&ps, &err)) != 0)
			break;
	}
	if (rc == 0)
		rc = flush(&ps, &err);
	if (in != stdin)
		fclose(in);
	free(line);
	msgpack_sbuffer_destroy(&ps.batch);
	cli_disconnect(&ps.cc);
	printf("%llu stored, %llu already stored\n", ps.stored, ps.dup);
	if (rc != 0) {
		cli_fail("put", &err);
		fprintf(stderr, "carnet put: stopped; the %llu records stored "
		    "before stay stored.  Fix the input and run again: nothing "
		    "is stored twice\n", ps.stored);
		return 1;
	}
	return 0;
}
