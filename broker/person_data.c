/*
 * person_data.c: the person's data and their dashboard of uses: LOG (their
 * use log, page by page; the signed head, as every reply to a person has
 * it, is added by dispatch.c), EXPORT ("Download my data"), ERASE.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "../common/mpk.h"
#include "../common/text.h"
#include "../policy/consent.h"
#include "broker.h"

struct ulog_page {
	struct items it; /* first: the entries */
	uint64_t last;
	struct names names;
};

/*
 * Whether a delegate limited to some types may read entry e: their own
 * acts, and entries about a type (a record's, or every type of the
 * consent named) they were given.  Entries about nothing typed (exports,
 * other delegates, emergencies) are the person's alone.
 */
static bool
ulog_entry_visible(struct req *r, const struct uselog_entry *e)
{
	struct token_state st;
	struct token t;

	if (r->deleg == NULL || r->deleg->ntypes == 0 ||
	    (e->has_by && memcmp(e->by, r->from->id, ID_BYTES) == 0))
		return true;
	if (e->type != NULL && !deleg_covers_type(r, e->type))
		return false;
	if (e->has_token)
		return store_token_get(r->b->store, r->txn, e->token, &st) == 0 &&
		    token_peek(st.blob, st.blob_len, &t, NULL) == 0 &&
		    deleg_covers_token(r, &t);
	return e->type != NULL;
}

static int
ulog_page_one(void *arg, uint64_t seq, const MDB_val *v)
{
	struct ulog_page *lp = arg;
	struct uselog_entry e;
	uint8_t hash[HASH_BYTES];
	bool decoded = uselog_decode(v->mv_data, v->mv_size, &e, NULL) == 0;

	lp->it.n++;
	lp->last = seq;
	if (lp->it.r->deleg != NULL && (!decoded ||
	    !ulog_entry_visible(lp->it.r, &e))) {
		/* withheld: its hash keeps the chain checkable */
		uselog_hash(v->mv_data, v->mv_size, hash);
		msgpack_pack_map(&lp->it.pk, 2);
		mpk_pack_cstr(&lp->it.pk, "withheld");
		msgpack_pack_uint64(&lp->it.pk, seq);
		mpk_pack_cstr(&lp->it.pk, "hash");
		mpk_pack_binn(&lp->it.pk, hash, HASH_BYTES);
		return 0;
	}
	mpk_pack_binn(&lp->it.pk, v->mv_data, v->mv_size);
	if (decoded) {
		if (e.has_app)
			names_note(&lp->names, e.app);
		if (e.has_holder)
			names_note(&lp->names, e.holder);
		if (e.has_by)
			names_note(&lp->names, e.by);
	}
	return 0;
}

int
handle_log(struct req *r, struct cerr *err)
{
	struct ulog_page lp;
	uint8_t hash[HASH_BYTES];
	uint64_t from = 1, limit = BROKER_LOG_PAGE_ENTRIES, head;
	int rc;

	if ((rc = body_page(r, &from, &limit, BROKER_LOG_PAGE_ENTRIES,
	    err)) != 0)
		return rc;
	/* every page a delegate reads is a reading, logged */
	if (from <= 1)
		rc = ulog_view(r, "log", err);
	else {
		char what[40];

		snprintf(what, sizeof(what), "log from entry %" PRIu64, from);
		rc = ulog_view(r, what, err);
	}
	if (rc != 0)
		return rc;
	/* where the log ends: is there more after this page */
	if ((rc = store_log_head(r->b->store, r->txn, r->who->id, &head,
	    hash, err)) != 0)
		return rc;
	memset(&lp, 0, sizeof(lp));
	items_init(&lp.it, r);
	rc = store_log_foreach(r->b->store, r->txn, r->who->id, from,
	    (size_t)limit, ulog_page_one, &lp);
	if ((rc = items_reply(&lp.it, "entries", false, 2, rc, err)) == 0) {
		names_pack(r, &lp.names);
		reply_page_end(r, lp.it.n > 0 && lp.last < head, NULL);
	}
	return rc;
}

int
handle_export(struct req *r, struct cerr *err)
{
	uint64_t from = 0, limit = BROKER_EXPORT_PAGE_RECORDS, after;
	struct uselog_entry e;
	struct recmeta m;
	struct items recs;
	struct names holders = {0};
	msgpack_sbuffer seqs;
	msgpack_packer spk;
	bool more = false;
	MDB_val v;
	int rc = 0;

	if ((rc = body_page(r, &from, &limit, BROKER_EXPORT_PAGE_RECORDS,
	    err)) != 0)
		return rc;
	items_init(&recs, r);
	msgpack_sbuffer_init(&seqs);
	msgpack_packer_init(&spk, &seqs, msgpack_sbuffer_write);
	after = from;
	while ((rc = store_user_next(r->b->store, r->txn, r->from->id, after,
	    &m)) == 0) {
		if (recs.n == limit) {
			more = true;
			break;
		}
		if ((rc = store_record_get(r->b->store, r->txn, r->from->id,
		    m.seq, &v, err)) != 0)
			break;
		mpk_pack_binn(&recs.pk, v.mv_data, v.mv_size);
		msgpack_pack_uint64(&spk, m.seq);
		names_note(&holders, m.holder);
		after = m.seq;
		recs.n++;
	}
	if (rc == CARNET_E_NOT_FOUND)
		rc = 0;
	if (rc == 0 && from == 0) {
		/* One entry per export, on its first page. */
		ulog_entry_init(&e, r, USE_EXPORT);
		if ((rc = ulog_append(r->b, r->txn, r->from->id,
		    &e, err)) == 0)
			rc = stat_add(r, err, 1, "export");
	}
	/* records, and their seqs (what corrects and the log name) */
	if ((rc = items_reply(&recs, "records", false, 4, rc, err)) == 0) {
		mpk_pack_cstr(&r->pk, "seqs");
		msgpack_pack_array(&r->pk, recs.n);
		msgpack_sbuffer_write(r->reply, seqs.data, seqs.size);
		names_pack(r, &holders);
		reply_page_end(r, more, &after);
	}
	msgpack_sbuffer_destroy(&seqs);
	return rc;
}

int
handle_erase(struct req *r, struct cerr *err)
{
	struct uselog_entry e;
	uint64_t n;
	int rc;

	if ((rc = body_keys(r, err, NULL)) != 0)
		return rc;
	if ((rc = store_user_erase(r->b->store, r->txn, r->from->id, &n,
	    err)) != 0)
		return rc;
	/* their records kept in the clear go now, whatever this commit does */
	recent_forget_user(&r->b->recent, r->from->id);
	ulog_entry_init(&e, r, USE_ERASE);
	e.rseq = n;
	if ((rc = ulog_append(r->b, r->txn, r->from->id, &e,
	    err)) != 0 || (rc = stat_add(r, err, 1, "erase")) != 0)
		return rc;
	log_info("user %s erased %llu records", r->from->name,
	    (unsigned long long)n);
	reply_begin(r, 1);
	mpk_pack_cstr(&r->pk, "erased");
	msgpack_pack_uint64(&r->pk, n);
	return 0;
}
