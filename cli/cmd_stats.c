/*
 * cmd_stats.c: carnet stats: the operator's usage indicators.
 */
#include <string.h>

#include "../common/mpk.h"
#include "../common/text.h"
#include "cmds.h"

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
