/*
 * operator.c: HELLO (any party: who the broker takes it for) and STATS (the
 * operator's usage indicators).
 */
#include <string.h>

#include "../common/mpk.h"
#include "../common/text.h"
#include "../policy/consent.h"
#include "broker.h"

int
handle_hello(struct req *r, struct cerr *err)
{
	int rc;

	if ((rc = body_keys(r, err, NULL)) != 0)
		return rc;
	reply_begin(r, 3);
	mpk_pack_cstr(&r->pk, "id");
	mpk_pack_binn(&r->pk, r->from->id, ID_BYTES);
	mpk_pack_cstr(&r->pk, "role");
	mpk_pack_cstr(&r->pk, party_role_name(r->from->role));
	mpk_pack_cstr(&r->pk, "name");
	mpk_pack_cstr(&r->pk, r->from->name);
	return 0;
}

static int
stat_list_one(void *arg, const char *key, uint64_t n)
{
	struct items *sl = arg;

	mpk_pack_cstr(&sl->pk, key);
	msgpack_pack_uint64(&sl->pk, n);
	sl->n++;
	return 0;
}

int
handle_stats(struct req *r, struct cerr *err)
{
	struct items sl;
	int rc;

	if ((rc = body_keys(r, err, NULL)) != 0)
		return rc;
	items_init(&sl, r);
	rc = store_stats_foreach(r->b->store, r->txn, stat_list_one, &sl);
	return items_reply(&sl, "stats", true, 0, rc, err);
}
