/*
 * uselog.c: use-log entries and their chain.
 */
#include <string.h>

#include <sodium.h>

#include "../common/mpk.h"
#include "uselog.h"

#define USELOG_MAX_DEPTH 2 /* the map, and recs in it */
#define USELOG_MAX_BYTES 1024

static const char *const kind_names[] = {
	[USE__NONE] = "?",
#define X(n, w, d) [USE_##n] = w,
	USELOG_KINDS(X)
#undef X
};

static const char *const kind_docs[] = {
	[USE__NONE] = "?",
#define X(n, w, d) [USE_##n] = d,
	USELOG_KINDS(X)
#undef X
};

const char *
uselog_kind_name(enum uselog_kind k)
{
	return k > USE__NONE && k < USE__LAST ? kind_names[k] : "?";
}

const char *
uselog_kind_doc(enum uselog_kind k)
{
	return k > USE__NONE && k < USE__LAST ? kind_docs[k] : "?";
}

static void
pack_opt_bin(msgpack_packer *pk, const char *key, bool has, const void *p,
    size_t n)
{
	mpk_pack_cstr(pk, key);
	if (has)
		mpk_pack_binn(pk, p, n);
	else
		msgpack_pack_nil(pk);
}

void
uselog_pack(msgpack_packer *pk, const struct uselog_entry *e)
{
	unsigned i;

	msgpack_pack_map(pk, 10 + (e->has_by ? 1 : 0) +
	    (e->note[0] != '\0' ? 1 : 0) + (e->has_salt ? 1 : 0) +
	    (e->nrecs > 0 ? 1 : 0));
	mpk_pack_cstr(pk, "seq");
	msgpack_pack_uint64(pk, e->seq);
	mpk_pack_cstr(pk, "time");
	msgpack_pack_int64(pk, e->time);
	mpk_pack_cstr(pk, "kind");
	mpk_pack_cstr(pk, uselog_kind_name(e->kind));
	mpk_pack_cstr(pk, "prev");
	mpk_pack_binn(pk, e->prev, HASH_BYTES);
	if (e->has_salt) {
		mpk_pack_cstr(pk, "salt");
		mpk_pack_binn(pk, e->salt, USELOG_SALT_BYTES);
	}
	pack_opt_bin(pk, "app", e->has_app, e->app, ID_BYTES);
	pack_opt_bin(pk, "holder", e->has_holder, e->holder, ID_BYTES);
	pack_opt_bin(pk, "token", e->has_token, e->token, TOKID_BYTES);
	mpk_pack_cstr(pk, "type");
	if (e->type != NULL)
		mpk_pack_cstr(pk, e->type->name);
	else
		msgpack_pack_nil(pk);
	mpk_pack_cstr(pk, "rseq");
	msgpack_pack_uint64(pk, e->rseq);
	if (e->nrecs > 0) {
		mpk_pack_cstr(pk, "recs");
		msgpack_pack_array(pk, e->nrecs);
		for (i = 0; i < e->nrecs; i++)
			msgpack_pack_uint64(pk, e->recs[i]);
	}
	mpk_pack_cstr(pk, "purpose");
	mpk_pack_cstr(pk, e->purpose);
	if (e->has_by) {
		mpk_pack_cstr(pk, "by");
		mpk_pack_binn(pk, e->by, ID_BYTES);
	}
	if (e->note[0] != '\0') {
		mpk_pack_cstr(pk, "note");
		mpk_pack_cstr(pk, e->note);
	}
}

size_t
uselog_records(const struct uselog_entry *e, const uint64_t **seqs)
{
	if (e->nrecs > 0) {
		*seqs = e->recs;
		return e->nrecs;
	}
	*seqs = &e->rseq;
	return 1;
}

/* recs: 2 to USELOG_RECS_MAX seqs, increasing, the first rseq's. */
static int
get_recs(const msgpack_object *o, struct uselog_entry *e)
{
	uint32_t i;

	if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size < 2 ||
	    o->via.array.size > USELOG_RECS_MAX)
		return CARNET_E_MALFORMED;
	for (i = 0; i < o->via.array.size; i++)
		if (mpk_u64(&o->via.array.ptr[i], &e->recs[i]) != 0 ||
		    (i > 0 && e->recs[i] <= e->recs[i - 1]))
			return CARNET_E_MALFORMED;
	if (e->recs[0] != e->rseq)
		return CARNET_E_MALFORMED;
	e->nrecs = o->via.array.size;
	return 0;
}

static int
get_opt_bin(const msgpack_object *map, const char *key, bool *has, void *out,
    size_t n)
{
	const msgpack_object *o = mpk_get(map, key);

	if (o == NULL)
		return CARNET_E_MISSING_FIELD;
	*has = o->type != MSGPACK_OBJECT_NIL;
	return *has ? mpk_bin_n(o, out, n) : 0;
}

int
uselog_decode(const void *buf, size_t len, struct uselog_entry *e,
    struct cerr *err)
{
	msgpack_unpacked tree;
	const msgpack_object *o, *ty, *by, *note, *salt, *recs;
	char kind[16];
	const char *p;
	size_t plen;
	int i, rc;

	memset(e, 0, sizeof(*e));
	if (len > USELOG_MAX_BYTES)
		return cerr_set(err, CARNET_E_TOO_BIG, "log entry too big");
	if ((rc = mpk_unpack(buf, len, USELOG_MAX_DEPTH, &tree)) != 0)
		return cerr_set(err, rc, "log entry: %s", carnet_strerror(rc));
	o = &tree.data;
	rc = CARNET_E_MALFORMED;
	if (o->type != MSGPACK_OBJECT_MAP)
		goto out;
	by = mpk_get(o, "by");
	note = mpk_get(o, "note");
	salt = mpk_get(o, "salt");
	recs = mpk_get(o, "recs");
	if (o->via.map.size != 10u + (by != NULL) + (note != NULL) +
	    (salt != NULL) + (recs != NULL) ||
	    (by != NULL && mpk_bin_n(by, e->by, ID_BYTES) != 0) ||
	    (note != NULL && mpk_cstr(note, e->note, sizeof(e->note)) != 0) ||
	    (salt != NULL &&
	    mpk_bin_n(salt, e->salt, USELOG_SALT_BYTES) != 0) ||
	    mpk_u64(mpk_get(o, "seq"), &e->seq) != 0 ||
	    mpk_i64(mpk_get(o, "time"), &e->time) != 0 ||
	    mpk_cstr(mpk_get(o, "kind"), kind, sizeof(kind)) != 0 ||
	    mpk_bin_n(mpk_get(o, "prev"), e->prev, HASH_BYTES) != 0 ||
	    get_opt_bin(o, "app", &e->has_app, e->app, ID_BYTES) != 0 ||
	    get_opt_bin(o, "holder", &e->has_holder, e->holder, ID_BYTES) != 0 ||
	    get_opt_bin(o, "token", &e->has_token, e->token, TOKID_BYTES) != 0 ||
	    mpk_u64(mpk_get(o, "rseq"), &e->rseq) != 0 ||
	    mpk_cstr(mpk_get(o, "purpose"), e->purpose,
	    sizeof(e->purpose)) != 0 ||
	    (ty = mpk_get(o, "type")) == NULL)
		goto out;
	/* only a delivery covers a batch */
	for (i = USE__NONE + 1; i < USE__LAST; i++)
		if (strcmp(kind, kind_names[i]) == 0)
			e->kind = (enum uselog_kind)i;
	if (recs != NULL && (e->kind != USE_DELIVER || get_recs(recs, e) != 0))
		goto out;
	if (ty->type != MSGPACK_OBJECT_NIL &&
	    (mpk_str(ty, &p, &plen) != 0 ||
	    (e->type = schema_by_name(p, plen)) == NULL))
		goto out;
	e->has_by = by != NULL;
	e->has_salt = salt != NULL;
	if (e->kind != USE__NONE)
		rc = 0;
out:
	msgpack_unpacked_destroy(&tree);
	if (rc != 0)
		cerr_set(err, rc, "log entry: malformed");
	return rc;
}

void
uselog_hash(const void *buf, size_t len, uint8_t out[HASH_BYTES])
{
	crypto_generichash(out, HASH_BYTES, buf, len, NULL, 0);
}

void
uselog_verify_init(struct uselog_verifier *v)
{
	memset(v, 0, sizeof(*v));
	v->next_seq = 1;
}

int
uselog_verify_next(struct uselog_verifier *v, const void *buf, size_t len,
    struct cerr *err)
{
	struct uselog_entry e;

	if (uselog_decode(buf, len, &e, NULL) != 0)
		return cerr_set(err, CARNET_E_LOG_BROKEN,
		    "entry %llu: cannot be read",
		    (unsigned long long)v->next_seq);
	if (e.seq != v->next_seq)
		return cerr_set(err, CARNET_E_LOG_BROKEN,
		    "entry %llu: found seq %llu, an entry is missing or moved",
		    (unsigned long long)v->next_seq,
		    (unsigned long long)e.seq);
	if (sodium_memcmp(e.prev, v->prev, HASH_BYTES) != 0)
		return cerr_set(err, CARNET_E_LOG_BROKEN,
		    "entry %llu: does not follow from entry %llu "
		    "(one of them was changed)",
		    (unsigned long long)e.seq,
		    (unsigned long long)(e.seq - 1));
	uselog_hash(buf, len, v->prev);
	v->next_seq++;
	return 0;
}

int
uselog_verify_withheld(struct uselog_verifier *v, uint64_t seq,
    const uint8_t hash[HASH_BYTES], struct cerr *err)
{
	if (seq != v->next_seq)
		return cerr_set(err, CARNET_E_LOG_BROKEN,
		    "entry %llu: found seq %llu, an entry is missing or moved",
		    (unsigned long long)v->next_seq, (unsigned long long)seq);
	memcpy(v->prev, hash, HASH_BYTES);
	v->next_seq++;
	return 0;
}

#define HEAD_CONTEXT "carnet-log-head-v1"

static void
head_message(uint8_t *m, const uint8_t user[ID_BYTES], uint64_t seq,
    const uint8_t hash[HASH_BYTES])
{
	size_t o = sizeof(HEAD_CONTEXT) - 1;
	int i;

	memcpy(m, HEAD_CONTEXT, o);
	memcpy(m + o, user, ID_BYTES);
	o += ID_BYTES;
	for (i = 7; i >= 0; i--)
		m[o++] = (uint8_t)(seq >> (8 * i));
	memcpy(m + o, hash, HASH_BYTES);
}

#define HEAD_MSG_BYTES (sizeof(HEAD_CONTEXT) - 1 + ID_BYTES + 8 + HASH_BYTES)

void
uselog_head_sign(const uint8_t user[ID_BYTES], uint64_t seq,
    const uint8_t hash[HASH_BYTES], const uint8_t broker_sk[64],
    uint8_t sig[HEAD_SIG_BYTES])
{
	uint8_t m[HEAD_MSG_BYTES];

	head_message(m, user, seq, hash);
	crypto_sign_detached(sig, NULL, m, sizeof(m), broker_sk);
}

int
uselog_head_verify(const uint8_t user[ID_BYTES], uint64_t seq,
    const uint8_t hash[HASH_BYTES], const uint8_t broker_pk[ID_BYTES],
    const uint8_t sig[HEAD_SIG_BYTES])
{
	uint8_t m[HEAD_MSG_BYTES];

	head_message(m, user, seq, hash);
	if (crypto_sign_verify_detached(sig, m, sizeof(m), broker_pk) != 0)
		return CARNET_E_BAD_SIGNATURE;
	return 0;
}
