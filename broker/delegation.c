/*
 * delegation.c: a person's delegates: DELEGATE, UNDELEGATE, DELEGATES, and
 * "for": checking that a live delegation lets the sender act for the
 * person (deleg_resolve), and writing a refused attempt to that person's
 * log.
 */
#include <stdio.h>
#include <string.h>

#include "../common/mpk.h"
#include "../common/text.h"
#include "../policy/consent.h"
#include "broker.h"


/* The table's delegation values are the policy's scopes. */
_Static_assert(D_VIEW == DELEG_VIEW && D_MANAGE == DELEG_MANAGE,
    "common/proto.h D_* and policy/token.h deleg_scope must agree");

int
deleg_log_refused(struct req *r, MDB_txn *parent, const struct cerr *why)
{
	uint8_t user[ID_BYTES];
	struct uselog_entry e;
	struct cerr err = {0};
	const struct party *p;
	int rc;

	if ((why->code != CARNET_E_NOT_DELEGATE &&
	    why->code != CARNET_E_BEYOND_DELEGATION) ||
	    mpk_bin_n(mpk_get(r->body, "for"), user, ID_BYTES) != 0 ||
	    memcmp(user, r->from->id, ID_BYTES) == 0 ||
	    party_cached(r->b, parent, user, &p) != 0 || p->role != ROLE_USER)
		return 0;
	if ((rc = store_txn_begin(r->b->store, parent, true, &r->txn,
	    &err)) != 0)
		return rc;
	ulog_entry_init(&e, r, USE_REFUSED);
	e.has_by = true; /* who tried, in the person's name */
	memcpy(e.by, r->from->id, ID_BYTES);
	snprintf(e.note, sizeof(e.note), "%s: %.*s", proto_cmd_name(r->cmd),
	    (int)(sizeof(e.note) - 24), cerr_msg(why));
	/* once a period per sender and person, within the sender's budget */
	if ((rc = ulog_refusal(r->b, r->txn, user, r->from->id, why->code, &e,
	    NULL, &err)) != 0 ||
	    (!reserve_in(r->b, r->txn) && (rc = stat_add(r, &err, 1,
	    "refused/%s", r->from->name)) != 0) ||
	    (rc = store_txn_commit(&r->txn, &err)) != 0) {
		store_txn_abort(&r->txn);
		cache_rollback(r->b);
		log_warnx("refusal of %s not logged for %s: %s", r->from->name,
		    p->name, cerr_msg(&err));
	}
	return rc;
}

int
deleg_resolve(struct req *r, struct delegation *d, struct cerr *err)
{
	enum deleg_scope need = (enum deleg_scope)proto_cmd_deleg(r->cmd);
	uint8_t user[ID_BYTES];
	char when[TIME_STR_LEN + 1];
	struct deleg_state ds;
	const struct party *p;

	if (mpk_bin_n(mpk_get(r->body, "for"), user, ID_BYTES) != 0)
		return cerr_set(err, CARNET_E_MALFORMED,
		    "%s: for is a person's id", proto_cmd_name(r->cmd));
	if (memcmp(user, r->from->id, ID_BYTES) == 0)
		return 0; /* for oneself */
	if (need == 0)
		return cerr_set(err, CARNET_E_FORBIDDEN,
		    "%s cannot be done for someone else",
		    proto_cmd_name(r->cmd));
	if (party_of_role(r, user, ROLE_USER, &p) != 0)
		return cerr_set(err, CARNET_E_UNKNOWN_PARTY,
		    "%s: for names no registered person",
		    proto_cmd_name(r->cmd));
	if (store_deleg_get(r->b->store, r->txn, user, r->from->id, &ds) != 0)
		return cerr_set(err, CARNET_E_NOT_DELEGATE,
		    "%s has not given you access", p->name);
	if (!ds.live || delegation_open(ds.blob, ds.blob_len, d, NULL) != 0)
		return cerr_set(err, CARNET_E_NOT_DELEGATE,
		    "%s ended your access", p->name);
	if (d->expires != 0 && d->expires <= r->now) {
		time_format(d->expires, when);
		return cerr_set(err, CARNET_E_NOT_DELEGATE,
		    "your access to %s's dashboard ended on %s", p->name, when);
	}
	if (need == DELEG_MANAGE && d->scope != DELEG_MANAGE)
		return cerr_set(err, CARNET_E_NOT_DELEGATE,
		    "%s gave you view access: you may read their dashboard, "
		    "not change their consents (%s)", p->name,
		    proto_cmd_name(r->cmd));
	r->who = p;
	r->deleg = d;
	return 0;
}

static void
deleg_note(char *note, size_t size, const struct delegation *d)
{
	char when[TIME_STR_LEN + 1];
	size_t n;
	unsigned i;

	n = (size_t)snprintf(note, size, "%s", deleg_scope_name(d->scope));
	for (i = 0; i < d->ntypes && n < size; i++)
		n += (size_t)snprintf(note + n, size - n, "%s%s",
		    i ? "," : " of ", d->types[i]->name);
	if (d->expires != 0 && n < size) {
		time_format(d->expires, when);
		snprintf(note + n, size - n, " until %s", when);
	}
}

int
handle_delegate(struct req *r, struct cerr *err)
{
	const uint8_t *blob;
	size_t len;
	const struct party *to;
	struct uselog_entry e;
	struct delegation d;
	int rc;

	if ((rc = body_keys(r, err, "delegation", NULL)) != 0 ||
	    (rc = signed_arg(r, "delegation", "the signed bytes", &blob, &len,
	    err)) != 0 ||
	    (rc = delegation_open(blob, len, &d, err)) != 0)
		return rc;
	if (memcmp(d.user, r->from->id, ID_BYTES) != 0)
		return cerr_set(err, CARNET_E_WRONG_USER,
		    "DELEGATE: signed for another person than you");
	if (party_of_role(r, d.to, ROLE_USER, &to) != 0)
		return cerr_set(err, CARNET_E_UNKNOWN_PARTY,
		    "DELEGATE: a delegate is a registered person");
	if (d.expires != 0 && d.expires <= r->now)
		return cerr_set(err, CARNET_E_EXPIRED,
		    "DELEGATE: its end date is already past");
	if ((rc = store_deleg_put(r->b->store, r->txn, &d, blob, len,
	    err)) != 0)
		return rc;
	ulog_entry_init(&e, r, USE_DELEGATE);
	e.has_by = true; /* the delegate concerned */
	memcpy(e.by, d.to, ID_BYTES);
	deleg_note(e.note, sizeof(e.note), &d);
	if ((rc = ulog_append(r->b, r->txn, r->from->id, &e, err)) != 0 ||
	    (rc = stat_add(r, err, 1, "delegate/%s", deleg_scope_name(
	    d.scope))) != 0)
		return rc;
	log_info("user %s gave %s %s access", r->from->name, to->name,
	    deleg_scope_name(d.scope));
	reply_begin(r, 2);
	mpk_pack_cstr(&r->pk, "to");
	mpk_pack_binn(&r->pk, d.to, ID_BYTES);
	mpk_pack_cstr(&r->pk, "scope");
	mpk_pack_cstr(&r->pk, deleg_scope_name(d.scope));
	return 0;
}

int
handle_undelegate(struct req *r, struct cerr *err)
{
	uint8_t to[ID_BYTES];
	struct uselog_entry e;
	int rc;

	if ((rc = body_keys(r, err, "to", NULL)) != 0)
		return rc;
	if (mpk_bin_n(mpk_get(r->body, "to"), to, ID_BYTES) != 0)
		return cerr_set(err, CARNET_E_MALFORMED,
		    "UNDELEGATE: want to, the delegate's id");
	if ((rc = store_deleg_end(r->b->store, r->txn, r->from->id, to, r->now,
	    err)) != 0)
		return rc;
	ulog_entry_init(&e, r, USE_UNDELEGATE);
	e.has_by = true;
	memcpy(e.by, to, ID_BYTES);
	if ((rc = ulog_append(r->b, r->txn, r->from->id, &e, err)) != 0)
		return rc;
	reply_begin(r, 0);
	return 0;
}

struct deleg_list {
	struct req *r;
	bool to_me;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	uint32_t n;
};

static int
deleg_list_one(void *arg, const uint8_t other[ID_BYTES])
{
	struct deleg_list *dl = arg;
	const uint8_t *user = dl->to_me ? other : dl->r->from->id;
	const uint8_t *to = dl->to_me ? dl->r->from->id : other;
	const struct party *p;
	struct deleg_state ds;
	struct delegation d;
	unsigned i;

	if (store_deleg_get(dl->r->b->store, dl->r->txn, user, to, &ds) != 0 ||
	    delegation_open(ds.blob, ds.blob_len, &d, NULL) != 0)
		return 0;
	msgpack_pack_map(&dl->pk, 7);
	mpk_pack_cstr(&dl->pk, "id");
	mpk_pack_binn(&dl->pk, other, ID_BYTES);
	mpk_pack_cstr(&dl->pk, "name");
	mpk_pack_cstr(&dl->pk, party_cached(dl->r->b, dl->r->txn, other,
	    &p) == 0 ? p->name : "?");
	mpk_pack_cstr(&dl->pk, "scope");
	mpk_pack_cstr(&dl->pk, deleg_scope_name(d.scope));
	mpk_pack_cstr(&dl->pk, "types");
	msgpack_pack_array(&dl->pk, d.ntypes);
	for (i = 0; i < d.ntypes; i++)
		mpk_pack_cstr(&dl->pk, d.types[i]->name);
	mpk_pack_cstr(&dl->pk, "expires");
	msgpack_pack_int64(&dl->pk, d.expires);
	mpk_pack_cstr(&dl->pk, "state");
	mpk_pack_cstr(&dl->pk, !ds.live ? "ended" : d.expires != 0 &&
	    d.expires <= dl->r->now ? "expired" : "active");
	mpk_pack_cstr(&dl->pk, "ended_at");
	msgpack_pack_int64(&dl->pk, ds.ended_at);
	dl->n++;
	return 0;
}

int
handle_delegates(struct req *r, struct cerr *err)
{
	struct deleg_list dl[2];
	int k, rc = 0;

	if ((rc = body_keys(r, err, NULL)) != 0)
		return rc;
	for (k = 0; k < 2; k++) {
		dl[k].r = r;
		dl[k].to_me = k == 1;
		dl[k].n = 0;
		msgpack_sbuffer_init(&dl[k].sb);
		msgpack_packer_init(&dl[k].pk, &dl[k].sb,
		    msgpack_sbuffer_write);
		if (rc == 0)
			rc = store_delegs_foreach(r->b->store, r->txn, k == 1,
			    r->from->id, deleg_list_one, &dl[k]);
	}
	if (rc == 0) {
		reply_begin(r, 2);
		for (k = 0; k < 2; k++) {
			mpk_pack_cstr(&r->pk, k == 0 ? "given" : "received");
			msgpack_pack_array(&r->pk, dl[k].n);
			msgpack_sbuffer_write(r->reply, dl[k].sb.data,
			    dl[k].sb.size);
		}
	} else {
		cerr_set(err, rc, "DELEGATES: %s", carnet_strerror(rc));
	}
	for (k = 0; k < 2; k++)
		msgpack_sbuffer_destroy(&dl[k].sb);
	return rc;
}
