/*
 * cmd_stats.c: carnet stats: the operator's usage indicators.
 */
#include <stdio.h>
#include <string.h>

#include "../common/mpk.h"
#include "../common/text.h"
#include "cmds.h"

static const char stats_help[] =
"usage: carnet stats [--json] [connection options]\n"
"\n"
"The operator's usage indicators: records put per holder and type,\n"
"grants, revocations and deliveries per app (and type), requests,\n"
"exports and erasures; then the broker's own counters since it started\n"
"(broker/...: turns, records stored and sent, refusals it answered but\n"
"did not log).  Needs an operator key.\n"
"\n" CLI_CONN_HELP;

/* The counters of map st, named prefix + key: into o, or printed. */
static void
stats_add(json_t *o, bool json, const msgpack_object *st, const char *prefix)
{
	uint32_t i;

	for (i = 0; st && st->type == MSGPACK_OBJECT_MAP && i < st->via.map.size;
	    i++) {
		char key[160], name[200];
		uint64_t n;

		if (mpk_cstr(&st->via.map.ptr[i].key, key, sizeof(key)) != 0 ||
		    mpk_u64(&st->via.map.ptr[i].val, &n) != 0)
			continue;
		snprintf(name, sizeof(name), "%s%s", prefix, key);
		if (json)
			json_object_set_new(o, name, json_integer((json_int_t)n));
		else
			printf("%-40s %llu\n", text_term(name),
			    (unsigned long long)n);
	}
}

int
cmd_stats(int argc, char **argv)
{
	struct cli_conn cc = {0};
	const msgpack_object *st;
	msgpack_unpacked reply;
	json_t *o;
	bool json;
	int rc;

	if ((rc = cli_query(argc, argv, stats_help, "stats", "STATS", &cc,
	    &json, &reply)) >= 0)
		return rc;
	o = json_object();
	st = mpk_get(&reply.data, "stats");
	stats_add(o, json, st, "");
	/* the broker's own since it started (refusals it did not log...) */
	stats_add(o, json, mpk_get(&reply.data, "broker"), "broker/");
	if (json)
		cli_print_json(o);
	json_decref(o);
	msgpack_unpacked_destroy(&reply);
	cli_disconnect(&cc);
	return 0;
}
