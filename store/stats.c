/*
 * stats.c: the operator's usage indicators (named counters).
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "../common/limits.h"
#include "../common/mpk.h"
#include "../policy/key.h"
#include "store_int.h"

int
store_stat_add(struct store *s, MDB_txn *txn, const char *key, uint64_t n,
    struct cerr *err)
{
	MDB_val k = mval(key, strlen(key)), v;
	uint8_t buf[8];
	uint64_t cur = 0;
	int rc = mdb_get(txn, s->dbi[DB_STATS], &k, &v);

	if (rc == 0 && v.mv_size == 8)
		cur = be64_get(v.mv_data);
	else if (rc != MDB_NOTFOUND)
		return st_fail(rc ? rc : MDB_CORRUPTED, err, "stats");
	be64_put(buf, cur + n);
	return st_key_put(txn, s->dbi[DB_STATS], key, strlen(key), buf, 8, 0,
	    err, "stats");
}

struct stat_scan {
	int (*fn)(void *, const char *, uint64_t);
	void *arg;
};

static int
stat_scan_one(void *arg, const MDB_val *k, const MDB_val *v)
{
	struct stat_scan *ss = arg;
	char key[256];

	if (v->mv_size != 8 || k->mv_size >= sizeof(key))
		return CARNET_E_STORE;
	memcpy(key, k->mv_data, k->mv_size);
	key[k->mv_size] = '\0';
	return ss->fn(ss->arg, key, be64_get(v->mv_data));
}

int
store_stats_foreach(struct store *s, MDB_txn *txn,
    int (*fn)(void *arg, const char *key, uint64_t n), void *arg)
{
	struct stat_scan ss = {fn, arg};

	return st_scan_prefix(txn, s->dbi[DB_STATS], NULL, 0, 0, stat_scan_one,
	    &ss);
}
