/*
 * holder.c: PUT, a holder's records: checked one by one, stored at once.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "../common/mpk.h"
#include "../common/text.h"
#include "../policy/consent.h"
#include "broker.h"

/* The person's log: holder sent seq, a new version of record old. */
static int
log_correction(struct req *r, const struct record *rec, uint64_t seq,
    uint64_t old, struct cerr *err)
{
	struct uselog_entry e;

	ulog_entry_init(&e, r, USE_CORRECT);
	e.has_holder = true;
	memcpy(e.holder, rec->holder, ID_BYTES);
	e.type = rec->type;
	e.rseq = seq;
	snprintf(e.note, sizeof(e.note), "record %" PRIu64 " replaces record "
	    "%" PRIu64, seq, old);
	return ulog_append(r->b, r->txn, rec->user, &e, err);
}

static int
wake_app(void *arg, const uint8_t app[ID_BYTES])
{
	session_wake_app(arg, app);
	return 0;
}

/* The people a batch stored records for, each once. */
struct put_users {
	uint8_t ids[PUT_MAX_RECORDS][ID_BYTES];
	unsigned n;
};

static void
put_user_note(struct put_users *pu, const uint8_t user[ID_BYTES])
{
	unsigned i;

	for (i = pu->n; i > 0; i--) /* a batch is most often by person */
		if (memcmp(pu->ids[i - 1], user, ID_BYTES) == 0)
			return;
	memcpy(pu->ids[pu->n++], user, ID_BYTES);
}

/* Their consents are due, and their apps' feeds woken. */
static int
put_users_wake(struct req *r, const struct put_users *pu, struct cerr *err)
{
	unsigned i;
	int rc;

	for (i = 0; i < pu->n; i++)
		if ((rc = store_due_user(r->b->store, r->txn, pu->ids[i],
		    wake_app, r->b, err)) != 0)
			return rc;
	return 0;
}

int
handle_put(struct req *r, struct cerr *err)
{
	const msgpack_object *recs = mpk_get(r->body, "recs");
	const msgpack_object *check = mpk_get(r->body, "check");
	bool check_only = check != NULL &&
	    check->type == MSGPACK_OBJECT_BOOLEAN && check->via.boolean;
	uint64_t seqs[PUT_MAX_RECORDS], per_type[256] = {0};
	unsigned stored = 0, dup = 0, corrected = 0, i;
	char uid[ID_STR_LEN + 1];
	static struct put_users pu; /* 32 KiB: not on the stack */
	int rc;

	if ((rc = body_keys(r, err, "recs", "check", NULL)) != 0)
		return rc;
	pu.n = 0;
	if (check != NULL && check->type != MSGPACK_OBJECT_BOOLEAN)
		return cerr_set(err, CARNET_E_FIELD_TYPE,
		    "PUT: check is true or false");
	if (recs == NULL || recs->type != MSGPACK_OBJECT_ARRAY ||
	    recs->via.array.size == 0)
		return cerr_set(err, CARNET_E_MALFORMED,
		    "PUT: want recs, a non-empty list of records");
	if (recs->via.array.size > PUT_MAX_RECORDS)
		return cerr_set(err, CARNET_E_TOO_BIG,
		    "PUT: %u records, at most %d per batch",
		    recs->via.array.size, PUT_MAX_RECORDS);
	{
		uint64_t used, size;

		store_usage(r->b->store, &used, &size);
		if (used * 100 >= size * BROKER_PUT_MAX_FILL_PCT)
			return cerr_set(err, CARNET_E_STORE_FULL,
			    "PUT: the store is %llu%% full: new records wait "
			    "until the operator makes room (carnetd --map-size); "
			    "nothing of this batch was stored",
			    (unsigned long long)(used * 100 / size));
	}
	for (i = 0; i < recs->via.array.size; i++) {
		const struct party *user;
		struct record rec;
		struct cerr rerr = {0};
		uint64_t corrects;
		MDB_val plain;
		bool is_dup;

		if ((rc = record_from_object(&recs->via.array.ptr[i], &rec,
		    &rerr)) != 0)
			return cerr_set(err, rc, "record %u: %s", i + 1,
			    cerr_msg(&rerr));
		if (rec.has_holder &&
		    memcmp(rec.holder, r->from->id, ID_BYTES) != 0)
			return cerr_set(err, CARNET_E_FORBIDDEN,
			    "record %u: names another holder than you", i + 1);
		if (rec.corrects != 0)
			return cerr_set(err, CARNET_E_FORBIDDEN,
			    "record %u: corrects is the broker's to set (send the "
			    "new version under a ref BASE@VERSION)", i + 1);
		rec.has_holder = true;
		memcpy(rec.holder, r->from->id, ID_BYTES);
		if (!party_has_type(r->from, rec.type))
			return cerr_set(err, CARNET_E_UNREGISTERED_TYPE,
			    "record %u: holder %s is not registered for type "
			    "%s", i + 1, r->from->name, rec.type->name);
		if ((rc = party_of_role(r, rec.user, ROLE_USER, &user)) != 0) {
			id_encode(rec.user, uid);
			return cerr_set(err, rc, "record %u: user %s is not "
			    "registered", i + 1, uid);
		}
		if (check_only)
			continue; /* every check made, nothing stored */
		if ((rc = store_record_put(r->b->store, r->txn, &rec, &seqs[i],
		    &is_dup, &corrects, &plain, &rerr)) != 0)
			return cerr_set(err, rc, "record %u: %s", i + 1,
			    cerr_msg(&rerr));
		if (is_dup) {
			dup++;
			continue;
		}
		/* kept in the clear for its live deliveries, gone with any
		 * abort of this turn (cache_rollback); not kept (out of
		 * memory): opened when delivered */
		(void)recent_put(&r->b->recent, rec.user, seqs[i],
		    plain.mv_data, plain.mv_size);
		/* a new version of a record: the person's log says so */
		if (corrects != 0 && (rc = log_correction(r, &rec, seqs[i],
		    corrects, err)) != 0)
			return rc;
		corrected += corrects != 0;
		stored++;
		put_user_note(&pu, rec.user);
		per_type[rec.type->index]++;
		user_last_set(r->b, rec.user, seqs[i]);
	}
	if ((rc = put_users_wake(r, &pu, err)) != 0)
		return rc;
	for (i = 0; i < schema_count(); i++)
		if (per_type[i] != 0 && (rc = stat_add(r, err, per_type[i],
		    "put/%s/%s", r->from->name, schema_by_index(i)->name)) != 0)
			return rc;
	r->b->n_stored += stored;
	r->reply_cmd = MSG_ACK;
	if (check_only) {
		reply_begin(r, 1);
		mpk_pack_cstr(&r->pk, "checked");
		msgpack_pack_uint32(&r->pk, recs->via.array.size);
		return 0;
	}
	reply_begin(r, 4);
	mpk_pack_cstr(&r->pk, "stored");
	msgpack_pack_uint32(&r->pk, stored);
	mpk_pack_cstr(&r->pk, "corrected");
	msgpack_pack_uint32(&r->pk, corrected);
	mpk_pack_cstr(&r->pk, "dup");
	msgpack_pack_uint32(&r->pk, dup);
	mpk_pack_cstr(&r->pk, "seqs");
	msgpack_pack_array(&r->pk, recs->via.array.size);
	for (i = 0; i < recs->via.array.size; i++)
		msgpack_pack_uint64(&r->pk, seqs[i]);
	return 0;
}
