/*
 * dispatch.c: from a command to its handler, through the one command table
 * (common/proto.h): the sender's role, then "for" (a delegate acting for
 * a person), then the handler, then, for the commands whose reply to a
 * person carries it (C_HEAD), the person's signed log head added to the
 * reply.  The table of handlers is generated from the command table:
 * a command without a handler does not link.
 *
 * Each handler runs inside its own nested write transaction (r->txn): on
 * error the caller aborts it and sends ERR, so a bad request leaves no
 * trace.  Handlers only queue replies; nothing is sent before the commit.
 * Ids acted upon always come from the authenticated sender (r->from),
 * never from the payload.
 */
#include <string.h>

#include "../common/mpk.h"
#include "../common/text.h"
#include "../policy/consent.h"
#include "broker.h"

typedef int (*handler_fn)(struct req *, struct cerr *);

static const handler_fn handlers[CMD__LAST] = {
#define X(n, r, dg, f, h) [CMD_##n] = handle_##h,
	CARNET_COMMANDS(X)
#undef X
};

/*
 * Add "head": {seq, hash, sig} to the reply: the person's log head as the
 * transaction leaves it, signed.  The person's client keeps the newest it
 * saw, so a store put back to an older state shows at the next command.
 */
static int
reply_add_head(struct req *r, struct cerr *err)
{
	uint8_t hash[HASH_BYTES], sig[HEAD_SIG_BYTES];
	const uint8_t *p;
	msgpack_sbuffer nb;
	msgpack_packer pk;
	uint32_t n;
	size_t hl;
	uint64_t seq;
	int rc;

	if ((rc = store_log_head(r->b->store, r->txn, r->who->id, &seq, hash,
	    err)) != 0)
		return rc;
	uselog_head_sign(r->who->id, seq, hash, r->b->key.sk, sig);
	if (r->reply->size == 0)
		reply_begin(r, 0);
	/* the reply is one map: its header again, with one key more */
	p = (const uint8_t *)r->reply->data;
	if ((p[0] & 0xf0) == 0x80) {
		n = p[0] & 0x0f;
		hl = 1;
	} else if (p[0] == 0xde && r->reply->size >= 3) {
		n = (uint32_t)p[1] << 8 | p[2];
		hl = 3;
	} else if (p[0] == 0xdf && r->reply->size >= 5) {
		n = (uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 |
		    (uint32_t)p[3] << 8 | p[4];
		hl = 5;
	} else {
		return cerr_set(err, CARNET_E_MALFORMED, "%s: reply is not a "
		    "map", proto_cmd_name(r->cmd));
	}
	msgpack_sbuffer_init(&nb);
	msgpack_packer_init(&pk, &nb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, n + 1);
	msgpack_sbuffer_write(&nb, r->reply->data + hl, r->reply->size - hl);
	mpk_pack_cstr(&pk, "head");
	msgpack_pack_map(&pk, 3);
	mpk_pack_cstr(&pk, "seq");
	msgpack_pack_uint64(&pk, seq);
	mpk_pack_cstr(&pk, "hash");
	mpk_pack_binn(&pk, hash, HASH_BYTES);
	mpk_pack_cstr(&pk, "sig");
	mpk_pack_binn(&pk, sig, HEAD_SIG_BYTES);
	msgpack_sbuffer_destroy(r->reply);
	*r->reply = nb;
	msgpack_packer_init(&r->pk, r->reply, msgpack_sbuffer_write);
	return 0;
}

void
dispatch_request(struct req *r, struct cerr *err, int *rc)
{
	struct delegation d;

	if ((proto_cmd_roles(r->cmd) & (1u << r->from->role)) == 0) {
		*rc = cerr_set(err, CARNET_E_FORBIDDEN,
		    "%s is not a command for a %s", proto_cmd_name(r->cmd),
		    party_role_name(r->from->role));
		return;
	}
	r->who = r->from;
	r->deleg = NULL;
	if (mpk_get(r->body, "for") != NULL &&
	    (*rc = deleg_resolve(r, &d, err)) != 0)
		return;
	*rc = handlers[r->cmd](r, err);
	/* to a person (or their delegate): the head their command leaves */
	if (*rc == 0 && (proto_cmd_flags(r->cmd) & C_HEAD) &&
	    r->from->role == ROLE_USER && r->who->role == ROLE_USER)
		*rc = reply_add_head(r, err);
}
