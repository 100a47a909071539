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
	if ((rc = items_reply(&sl, "stats", true, 1, rc, err)) != 0)
		return rc;
	/* this process's own counters, since it started */
	mpk_pack_cstr(&r->pk, "broker");
	msgpack_pack_map(&r->pk, 8);
	mpk_pack_cstr(&r->pk, "turns");
	msgpack_pack_uint64(&r->pk, r->b->turn);
	mpk_pack_cstr(&r->pk, "stored");
	msgpack_pack_uint64(&r->pk, r->b->n_stored);
	mpk_pack_cstr(&r->pk, "sent");
	msgpack_pack_uint64(&r->pk, r->b->n_sent);
	/* consents the delivery passes looked at: what arrived, not how
	 * many people consent */
	mpk_pack_cstr(&r->pk, "consents_examined");
	msgpack_pack_uint64(&r->pk, r->b->n_examined);
	/* records sent from the bytes their PUT brought (carnetd --recent),
	 * and those opened from the store */
	mpk_pack_cstr(&r->pk, "sent_from_memory");
	msgpack_pack_uint64(&r->pk, r->b->n_from_memory);
	mpk_pack_cstr(&r->pk, "sent_opened");
	msgpack_pack_uint64(&r->pk, r->b->n_opened);
	mpk_pack_cstr(&r->pk, "feeds");
	msgpack_pack_uint32(&r->pk, HASH_COUNT(r->b->sessions));
	/* refusals answered but neither logged nor counted in the index: a
	 * party past its budget, or the store in its reserve */
	mpk_pack_cstr(&r->pk, "refusals_unlogged");
	msgpack_pack_uint64(&r->pk, r->b->n_refusals_unlogged);
	return 0;
}
