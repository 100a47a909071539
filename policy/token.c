/*
 * token.c: encoding, signing and checking consent tokens and revocations.
 *
 * Decoding is strict: a key we do not know, a field the type does not have
 * or a duplicate makes the token invalid, so that what the person saw
 * before signing is exactly what the broker enforces.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "../common/limits.h"
#include "../common/mpk.h"
#include "token.h"

#define TOKEN_MAX_DEPTH 4

void
token_new_id(struct token *t)
{
	randombytes_buf(t->id, sizeof(t->id));
}

void
token_pack_holders(msgpack_packer *pk, const struct token *t)
{
	unsigned i;

	if (t->any_holder) {
		msgpack_pack_nil(pk);
		return;
	}
	msgpack_pack_array(pk, t->nholders);
	for (i = 0; i < t->nholders; i++)
		mpk_pack_binn(pk, t->holders[i], ID_BYTES);
}

static void
token_pack(msgpack_packer *pk, const struct token *t)
{
	unsigned i, f;
	uint64_t mask;

	msgpack_pack_map(pk, t->has_by ? 13 : 12);
	mpk_pack_cstr(pk, "kind");
	mpk_pack_cstr(pk, "consent");
	mpk_pack_cstr(pk, "v");
	msgpack_pack_uint32(pk, TOKEN_VERSION);
	mpk_pack_cstr(pk, "id");
	mpk_pack_binn(pk, t->id, TOKID_BYTES);
	mpk_pack_cstr(pk, "user");
	mpk_pack_binn(pk, t->user, ID_BYTES);
	mpk_pack_cstr(pk, "app");
	mpk_pack_binn(pk, t->app, ID_BYTES);
	mpk_pack_cstr(pk, "holders");
	token_pack_holders(pk, t);
	mpk_pack_cstr(pk, "types");
	msgpack_pack_array(pk, t->ntypes);
	for (i = 0; i < t->ntypes; i++) {
		const struct token_scope *s = &t->types[i];

		msgpack_pack_map(pk, s->fields_listed ? 2 : 1);
		mpk_pack_cstr(pk, "type");
		mpk_pack_cstr(pk, s->type->name);
		if (!s->fields_listed)
			continue;
		/* only the type's own fields and ref: other bits mean
		 * nothing */
		mask = ((UINT64_C(1) << s->type->nfields) - 1) | FIELD_REF;
		mpk_pack_cstr(pk, "fields");
		msgpack_pack_array(pk,
		    (size_t)__builtin_popcountll(s->fields & mask));
		for (f = 0; f < s->type->nfields; f++)
			if (s->fields & (UINT64_C(1) << f))
				mpk_pack_cstr(pk, s->type->fields[f].name);
		if (s->fields & FIELD_REF)
			mpk_pack_cstr(pk, FIELD_REF_NAME);
	}
	mpk_pack_cstr(pk, "purpose");
	mpk_pack_cstr(pk, t->purpose);
	mpk_pack_cstr(pk, "since");
	msgpack_pack_int64(pk, t->since);
	mpk_pack_cstr(pk, "not_before");
	msgpack_pack_int64(pk, t->not_before);
	mpk_pack_cstr(pk, "expires");
	msgpack_pack_int64(pk, t->expires);
	mpk_pack_cstr(pk, "issued");
	msgpack_pack_int64(pk, t->issued);
	if (t->has_by) {
		mpk_pack_cstr(pk, "by");
		mpk_pack_binn(pk, t->by, ID_BYTES);
	}
}

/* Sign a packed payload: out = signature || payload. */
static int
sign_payload(const msgpack_sbuffer *sb, const uint8_t sk[64], uint8_t **out,
    size_t *outlen, struct cerr *err)
{
	uint8_t *buf;

	if ((buf = malloc(SIG_BYTES + sb->size)) == NULL)
		return cerr_set(err, CARNET_E_NOMEM, "out of memory");
	memcpy(buf + SIG_BYTES, sb->data, sb->size);
	crypto_sign_detached(buf, NULL, (const uint8_t *)sb->data, sb->size,
	    sk);
	*out = buf;
	*outlen = SIG_BYTES + sb->size;
	return 0;
}

static int
verify_payload(const uint8_t *buf, size_t len, const uint8_t pk[ID_BYTES],
    const char *what, struct cerr *err)
{
	if (crypto_sign_verify_detached(buf, buf + SIG_BYTES, len - SIG_BYTES,
	    pk) != 0)
		return cerr_set(err, CARNET_E_BAD_SIGNATURE,
		    "%s: the signature is not its signer's", what);
	return 0;
}

static bool
holder_listed(const struct token *t, const uint8_t *h, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		if (memcmp(t->holders[i], h, ID_BYTES) == 0)
			return true;
	return false;
}

static int
decode_holders(const msgpack_object *o, struct token *t, struct cerr *err)
{
	uint32_t i;

	if (o == NULL)
		return cerr_set(err, CARNET_E_MISSING_FIELD,
		    "token: holders is missing");
	if (o->type == MSGPACK_OBJECT_NIL) {
		t->any_holder = true;
		return 0;
	}
	if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size == 0)
		return cerr_set(err, CARNET_E_FIELD_TYPE,
		    "token holders: want a non-empty list or nil");
	if (o->via.array.size > TOKEN_MAX_HOLDERS)
		return cerr_set(err, CARNET_E_TOO_BIG,
		    "token holders: at most %d", TOKEN_MAX_HOLDERS);
	for (i = 0; i < o->via.array.size; i++) {
		if (mpk_bin_n(&o->via.array.ptr[i], t->holders[i],
		    ID_BYTES) != 0)
			return cerr_set(err, CARNET_E_FIELD_TYPE,
			    "token holders: want 32-byte keys");
		if (holder_listed(t, t->holders[i], i))
			return cerr_set(err, CARNET_E_DUPLICATE,
			    "token holders: a holder is listed twice");
	}
	t->nholders = o->via.array.size;
	return 0;
}

static int
decode_scope(const msgpack_object *o, struct token *t, struct token_scope *s,
    struct cerr *err)
{
	const msgpack_object *ty = mpk_get(o, "type"), *fl = mpk_get(o, "fields");
	const char *p;
	size_t len;
	uint32_t i;

	if (o->type != MSGPACK_OBJECT_MAP ||
	    o->via.map.size != (fl != NULL ? 2u : 1u) || ty == NULL)
		return cerr_set(err, CARNET_E_MALFORMED,
		    "token types: want {type, fields?} maps");
	if (mpk_str(ty, &p, &len) != 0 ||
	    (s->type = schema_by_name(p, len)) == NULL)
		return cerr_set(err, CARNET_E_UNKNOWN_TYPE,
		    "token types: unknown record type");
	if (token_scope_of(t, s->type) != NULL)
		return cerr_set(err, CARNET_E_DUPLICATE,
		    "token types: %s listed twice", s->type->name);
	s->fields = FIELDS_ALL;
	if (fl == NULL)
		return 0;
	if (fl->type != MSGPACK_OBJECT_ARRAY || fl->via.array.size == 0)
		return cerr_set(err, CARNET_E_FIELD_TYPE,
		    "token %s fields: want a non-empty list", s->type->name);
	s->fields = 0;
	s->fields_listed = true;
	for (i = 0; i < fl->via.array.size; i++) {
		int idx = -1;

		/* ref: the holder's own ref of the record (schema.h) */
		if (mpk_str(&fl->via.array.ptr[i], &p, &len) == 0)
			idx = schema_field_grantable(s->type, p, len);
		if (idx < 0)
			return cerr_set(err, CARNET_E_UNKNOWN_FIELD,
			    "token %s fields: unknown field", s->type->name);
		if (s->fields & (UINT64_C(1) << idx))
			return cerr_set(err, CARNET_E_DUPLICATE,
			    "token %s fields: %s listed twice", s->type->name,
			    schema_field_name(s->type, (unsigned)idx));
		s->fields |= UINT64_C(1) << idx;
	}
	return 0;
}

static int
decode_types(const msgpack_object *o, struct token *t, struct cerr *err)
{
	uint32_t i;
	int rc;

	if (o == NULL)
		return cerr_set(err, CARNET_E_MISSING_FIELD,
		    "token: types is missing");
	if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size == 0)
		return cerr_set(err, CARNET_E_FIELD_TYPE,
		    "token types: want a non-empty list");
	if (o->via.array.size > TOKEN_MAX_TYPES)
		return cerr_set(err, CARNET_E_TOO_BIG, "token types: at most %d",
		    TOKEN_MAX_TYPES);
	for (i = 0; i < o->via.array.size; i++) {
		struct token_scope s = {0};

		if ((rc = decode_scope(&o->via.array.ptr[i], t, &s, err)) != 0)
			return rc;
		t->types[t->ntypes++] = s;
	}
	return 0;
}

static const char *const token_keys[] = {"kind", "v", "id", "user", "app",
	"holders", "types", "purpose", "since", "not_before", "expires",
	"issued", "by"};

static int
check_keys(const msgpack_object *o, const char *const *keys, size_t nkeys,
    const char *what, struct cerr *err)
{
	uint32_t i;
	size_t k;

	if (o->type != MSGPACK_OBJECT_MAP)
		return cerr_set(err, CARNET_E_MALFORMED, "%s: want a map", what);
	if (o->via.map.size != nkeys)
		return cerr_set(err, o->via.map.size < nkeys ?
		    CARNET_E_MISSING_FIELD : CARNET_E_UNKNOWN_FIELD,
		    "%s: want exactly %zu keys", what, nkeys);
	for (i = 0; i < o->via.map.size; i++) {
		for (k = 0; k < nkeys; k++)
			if (mpk_str_eq(&o->via.map.ptr[i].key, keys[k]))
				break;
		if (k == nkeys)
			return cerr_set(err, CARNET_E_UNKNOWN_FIELD,
			    "%s: unknown key", what);
	}
	return 0;
}

static int
token_from_object(const msgpack_object *o, struct token *t, struct cerr *err)
{
	uint64_t v;
	int rc;

	memset(t, 0, sizeof(*t));
	t->has_by = o->type == MSGPACK_OBJECT_MAP && mpk_get(o, "by") != NULL;
	if ((rc = check_keys(o, token_keys, t->has_by ? 13 : 12, "token",
	    err)) != 0)
		return rc;
	if (t->has_by && mpk_bin_n(mpk_get(o, "by"), t->by, ID_BYTES) != 0)
		return cerr_set(err, CARNET_E_FIELD_TYPE,
		    "token: by must be a 32-byte key");
	if (!mpk_str_eq(mpk_get(o, "kind"), "consent"))
		return cerr_set(err, CARNET_E_BAD_VALUE,
		    "token: not a consent token");
	if (mpk_u64(mpk_get(o, "v"), &v) != 0 || v != TOKEN_VERSION)
		return cerr_set(err, CARNET_E_BAD_VALUE,
		    "token: unsupported version");
	if (mpk_bin_n(mpk_get(o, "id"), t->id, TOKID_BYTES) != 0 ||
	    mpk_bin_n(mpk_get(o, "user"), t->user, ID_BYTES) != 0 ||
	    mpk_bin_n(mpk_get(o, "app"), t->app, ID_BYTES) != 0)
		return cerr_set(err, CARNET_E_FIELD_TYPE,
		    "token: id, user and app must be keys of the right size");
	if ((rc = decode_holders(mpk_get(o, "holders"), t, err)) != 0 ||
	    (rc = decode_types(mpk_get(o, "types"), t, err)) != 0)
		return rc;
	rc = mpk_cstr(mpk_get(o, "purpose"), t->purpose, sizeof(t->purpose));
	if (rc != 0 || t->purpose[0] == '\0')
		return cerr_set(err, rc == CARNET_E_TOO_LONG ? rc :
		    CARNET_E_BAD_VALUE, "token purpose: want 1 to %d bytes",
		    PURPOSE_MAX_BYTES);
	if (mpk_i64(mpk_get(o, "since"), &t->since) != 0 ||
	    mpk_i64(mpk_get(o, "not_before"), &t->not_before) != 0 ||
	    mpk_i64(mpk_get(o, "expires"), &t->expires) != 0 ||
	    mpk_i64(mpk_get(o, "issued"), &t->issued) != 0)
		return cerr_set(err, CARNET_E_FIELD_TYPE,
		    "token: times must be integers");
	if (t->expires != 0 && t->expires <= t->not_before)
		return cerr_set(err, CARNET_E_BAD_VALUE,
		    "token: expires before it starts");
	return 0;
}

static int
split_signed(const uint8_t *buf, size_t len, size_t max, const char *what,
    msgpack_unpacked *tree, struct cerr *err)
{
	int rc;

	if (len > max)
		return cerr_set(err, CARNET_E_TOO_BIG, "%s: %zu bytes, at most %zu",
		    what, len, max);
	if (len <= SIG_BYTES)
		return cerr_set(err, CARNET_E_TRUNCATED,
		    "%s: shorter than a signature", what);
	if ((rc = mpk_unpack(buf + SIG_BYTES, len - SIG_BYTES,
	    TOKEN_MAX_DEPTH, tree)) != 0)
		return cerr_set(err, rc, "%s: %s", what, carnet_strerror(rc));
	return 0;
}

int
token_peek(const uint8_t *buf, size_t len, struct token *t, struct cerr *err)
{
	msgpack_unpacked tree;
	int rc;

	if ((rc = split_signed(buf, len, TOKEN_MAX_BYTES, "token", &tree,
	    err)) != 0)
		return rc;
	rc = token_from_object(&tree.data, t, err);
	msgpack_unpacked_destroy(&tree);
	return rc;
}

int
token_open(const uint8_t *buf, size_t len, struct token *t, struct cerr *err)
{
	struct token tmp;
	int rc;

	if ((rc = token_peek(buf, len, &tmp, err)) != 0)
		return rc;
	if ((rc = verify_payload(buf, len, tmp.has_by ? tmp.by : tmp.user,
	    "token", err)) != 0)
		return rc;
	*t = tmp;
	return 0;
}

int
token_sign(const struct token *t, const uint8_t sk[64], uint8_t **out,
    size_t *outlen, struct cerr *err)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	int rc;

	if (memcmp(sk + 32, t->has_by ? t->by : t->user, ID_BYTES) != 0)
		return cerr_set(err, CARNET_E_WRONG_USER,
		    "token: only its user (or the delegate it names) may sign "
		    "it");
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	token_pack(&pk, t);
	rc = sign_payload(&sb, sk, out, outlen, err);
	msgpack_sbuffer_destroy(&sb);
	return rc;
}

static const char *const revocation_keys[] = {"kind", "v", "token", "user",
	"time", "by"};

int
revocation_sign(const struct revocation *rv, const uint8_t sk[64],
    uint8_t **out, size_t *outlen, struct cerr *err)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	int rc;

	if (memcmp(sk + 32, rv->has_by ? rv->by : rv->user, ID_BYTES) != 0)
		return cerr_set(err, CARNET_E_WRONG_USER,
		    "revocation: only the token's user (or the delegate it "
		    "names) may sign it");
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, rv->has_by ? 6 : 5);
	mpk_pack_cstr(&pk, "kind");
	mpk_pack_cstr(&pk, "revoke");
	mpk_pack_cstr(&pk, "v");
	msgpack_pack_uint32(&pk, TOKEN_VERSION);
	mpk_pack_cstr(&pk, "token");
	mpk_pack_binn(&pk, rv->token, TOKID_BYTES);
	mpk_pack_cstr(&pk, "user");
	mpk_pack_binn(&pk, rv->user, ID_BYTES);
	mpk_pack_cstr(&pk, "time");
	msgpack_pack_int64(&pk, rv->time);
	if (rv->has_by) {
		mpk_pack_cstr(&pk, "by");
		mpk_pack_binn(&pk, rv->by, ID_BYTES);
	}
	rc = sign_payload(&sb, sk, out, outlen, err);
	msgpack_sbuffer_destroy(&sb);
	return rc;
}

int
revocation_open(const uint8_t *buf, size_t len, struct revocation *rv,
    struct cerr *err)
{
	msgpack_unpacked tree;
	const msgpack_object *o;
	struct revocation tmp;
	uint64_t v;
	int rc;

	if ((rc = split_signed(buf, len, REVOCATION_MAX_BYTES, "revocation",
	    &tree, err)) != 0)
		return rc;
	o = &tree.data;
	memset(&tmp, 0, sizeof(tmp));
	tmp.has_by = o->type == MSGPACK_OBJECT_MAP && mpk_get(o, "by") != NULL;
	if ((rc = check_keys(o, revocation_keys, tmp.has_by ? 6 : 5,
	    "revocation", err)) == 0) {
		if (!mpk_str_eq(mpk_get(o, "kind"), "revoke") ||
		    mpk_u64(mpk_get(o, "v"), &v) != 0 || v != TOKEN_VERSION ||
		    mpk_bin_n(mpk_get(o, "token"), tmp.token, TOKID_BYTES) != 0 ||
		    mpk_bin_n(mpk_get(o, "user"), tmp.user, ID_BYTES) != 0 ||
		    mpk_i64(mpk_get(o, "time"), &tmp.time) != 0 ||
		    (tmp.has_by && mpk_bin_n(mpk_get(o, "by"), tmp.by,
		    ID_BYTES) != 0))
			rc = cerr_set(err, CARNET_E_MALFORMED,
			    "revocation: bad fields");
	}
	msgpack_unpacked_destroy(&tree);
	if (rc == 0 && (rc = verify_payload(buf, len, tmp.has_by ? tmp.by :
	    tmp.user, "revocation", err)) == 0)
		*rv = tmp;
	return rc;
}

bool
token_same_scope(const struct token *a, const struct token *b)
{
	unsigned i;

	if (memcmp(a->id, b->id, TOKID_BYTES) != 0 ||
	    memcmp(a->user, b->user, ID_BYTES) != 0 ||
	    memcmp(a->app, b->app, ID_BYTES) != 0 ||
	    a->any_holder != b->any_holder || a->nholders != b->nholders ||
	    a->ntypes != b->ntypes || strcmp(a->purpose, b->purpose) != 0 ||
	    a->since != b->since || a->not_before != b->not_before)
		return false;
	for (i = 0; i < a->nholders; i++)
		if (memcmp(a->holders[i], b->holders[i], ID_BYTES) != 0)
			return false;
	for (i = 0; i < a->ntypes; i++)
		if (a->types[i].type != b->types[i].type ||
		    a->types[i].fields_listed != b->types[i].fields_listed ||
		    (a->types[i].fields_listed &&
		    a->types[i].fields != b->types[i].fields))
			return false;
	return true;
}

const char *
deleg_scope_name(enum deleg_scope s)
{
	return s == DELEG_MANAGE ? "manage" : "view";
}

bool
delegation_has_type(const struct delegation *d, const struct schema *t)
{
	unsigned i;

	if (d->ntypes == 0)
		return true;
	for (i = 0; i < d->ntypes; i++)
		if (d->types[i] == t)
			return true;
	return false;
}

static const char *const delegation_keys[] = {"kind", "v", "id", "user",
	"to", "scope", "types", "expires", "issued"};

int
delegation_sign(const struct delegation *d, const uint8_t sk[64],
    uint8_t **out, size_t *outlen, struct cerr *err)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	unsigned i;
	int rc;

	if (memcmp(sk + 32, d->user, ID_BYTES) != 0)
		return cerr_set(err, CARNET_E_WRONG_USER,
		    "delegation: only the person may sign it");
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 9);
	mpk_pack_cstr(&pk, "kind");
	mpk_pack_cstr(&pk, "delegate");
	mpk_pack_cstr(&pk, "v");
	msgpack_pack_uint32(&pk, TOKEN_VERSION);
	mpk_pack_cstr(&pk, "id");
	mpk_pack_binn(&pk, d->id, TOKID_BYTES);
	mpk_pack_cstr(&pk, "user");
	mpk_pack_binn(&pk, d->user, ID_BYTES);
	mpk_pack_cstr(&pk, "to");
	mpk_pack_binn(&pk, d->to, ID_BYTES);
	mpk_pack_cstr(&pk, "scope");
	mpk_pack_cstr(&pk, deleg_scope_name(d->scope));
	mpk_pack_cstr(&pk, "types");
	if (d->ntypes == 0) {
		msgpack_pack_nil(&pk);
	} else {
		msgpack_pack_array(&pk, d->ntypes);
		for (i = 0; i < d->ntypes; i++)
			mpk_pack_cstr(&pk, d->types[i]->name);
	}
	mpk_pack_cstr(&pk, "expires");
	msgpack_pack_int64(&pk, d->expires);
	mpk_pack_cstr(&pk, "issued");
	msgpack_pack_int64(&pk, d->issued);
	rc = sign_payload(&sb, sk, out, outlen, err);
	msgpack_sbuffer_destroy(&sb);
	return rc;
}

static int
delegation_from_object(const msgpack_object *o, struct delegation *d,
    struct cerr *err)
{
	const msgpack_object *ty;
	const char *p;
	size_t len;
	uint64_t v;
	uint32_t i;
	int rc;

	memset(d, 0, sizeof(*d));
	if ((rc = check_keys(o, delegation_keys, 9, "delegation", err)) != 0)
		return rc;
	if (!mpk_str_eq(mpk_get(o, "kind"), "delegate") ||
	    mpk_u64(mpk_get(o, "v"), &v) != 0 || v != TOKEN_VERSION ||
	    mpk_bin_n(mpk_get(o, "id"), d->id, TOKID_BYTES) != 0 ||
	    mpk_bin_n(mpk_get(o, "user"), d->user, ID_BYTES) != 0 ||
	    mpk_bin_n(mpk_get(o, "to"), d->to, ID_BYTES) != 0 ||
	    mpk_i64(mpk_get(o, "expires"), &d->expires) != 0 ||
	    mpk_i64(mpk_get(o, "issued"), &d->issued) != 0)
		return cerr_set(err, CARNET_E_MALFORMED,
		    "delegation: bad fields");
	if (mpk_str_eq(mpk_get(o, "scope"), "view"))
		d->scope = DELEG_VIEW;
	else if (mpk_str_eq(mpk_get(o, "scope"), "manage"))
		d->scope = DELEG_MANAGE;
	else
		return cerr_set(err, CARNET_E_BAD_VALUE,
		    "delegation: scope is view or manage");
	if (memcmp(d->user, d->to, ID_BYTES) == 0)
		return cerr_set(err, CARNET_E_BAD_VALUE,
		    "delegation: to yourself");
	ty = mpk_get(o, "types");
	if (ty->type == MSGPACK_OBJECT_NIL)
		return 0;
	if (ty->type != MSGPACK_OBJECT_ARRAY || ty->via.array.size == 0 ||
	    ty->via.array.size > TOKEN_MAX_TYPES)
		return cerr_set(err, CARNET_E_FIELD_TYPE,
		    "delegation types: want 1 to %d types, or nil",
		    TOKEN_MAX_TYPES);
	for (i = 0; i < ty->via.array.size; i++) {
		const struct schema *s = NULL;

		if (mpk_str(&ty->via.array.ptr[i], &p, &len) == 0)
			s = schema_by_name(p, len);
		if (s == NULL)
			return cerr_set(err, CARNET_E_UNKNOWN_TYPE,
			    "delegation types: unknown record type");
		if (delegation_has_type(d, s) && d->ntypes > 0)
			return cerr_set(err, CARNET_E_DUPLICATE,
			    "delegation types: %s listed twice", s->name);
		d->types[d->ntypes++] = s;
	}
	return 0;
}

int
delegation_open(const uint8_t *buf, size_t len, struct delegation *d,
    struct cerr *err)
{
	msgpack_unpacked tree;
	struct delegation tmp;
	int rc;

	if ((rc = split_signed(buf, len, REVOCATION_MAX_BYTES + 256,
	    "delegation", &tree, err)) != 0)
		return rc;
	rc = delegation_from_object(&tree.data, &tmp, err);
	msgpack_unpacked_destroy(&tree);
	if (rc == 0 && (rc = verify_payload(buf, len, tmp.user, "delegation",
	    err)) == 0)
		*d = tmp;
	return rc;
}

const struct token_scope *
token_scope_of(const struct token *t, const struct schema *type)
{
	unsigned i;

	for (i = 0; i < t->ntypes; i++)
		if (t->types[i].type == type)
			return &t->types[i];
	return NULL;
}

bool
token_covers_holder(const struct token *t, const uint8_t holder[ID_BYTES])
{
	return t->any_holder || holder_listed(t, holder, t->nholders);
}
