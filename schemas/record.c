/*
 * record.c: validation and encoding of records.
 *
 * Validation is strict and total: every key of the envelope and the body is
 * known, of the right kind and within its bound, and every string is UTF-8,
 * because records end up in JSON exports and on people's screens.
 */
#include <string.h>

#include <sodium.h>

#include "../common/mpk.h"
#include "record.h"

/* A printable excerpt of a map key, for error messages. */
static const char *
keyname(const msgpack_object *k, char buf[48])
{
	size_t n;

	if (k->type != MSGPACK_OBJECT_STR)
		return "(not a string)";
	n = k->via.str.size < 40 ? k->via.str.size : 40;
	if (!text_printable(k->via.str.ptr, n))
		return "(not printable text)";
	memcpy(buf, k->via.str.ptr, n);
	buf[n] = '\0';
	return buf;
}

static int
check_str(const msgpack_object *o, unsigned max, const char *what,
    const char *name, struct cerr *err)
{
	if (o->type != MSGPACK_OBJECT_STR)
		return cerr_set(err, CARNET_E_FIELD_TYPE,
		    "%s %s: wrong type, want a string", what, name);
	if (o->via.str.size > max)
		return cerr_set(err, CARNET_E_TOO_LONG,
		    "%s %s: %u bytes, at most %u", what, name,
		    o->via.str.size, max);
	if (!utf8_valid(o->via.str.ptr, o->via.str.size))
		return cerr_set(err, CARNET_E_BAD_VALUE,
		    "%s %s: not valid UTF-8 text", what, name);
	if (!text_printable(o->via.str.ptr, o->via.str.size))
		return cerr_set(err, CARNET_E_CONTROL_CHARS,
		    "%s %s: holds control or escape characters", what, name);
	return 0;
}

static int
check_field(const struct field_def *f, const msgpack_object *v,
    struct cerr *err)
{
	uint32_t i;
	int rc;

	switch (f->kind) {
	case FIELD_STR:
		return check_str(v, f->max_bytes, "field", f->name, err);
	case FIELD_INT:
		if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER &&
		    v->type != MSGPACK_OBJECT_NEGATIVE_INTEGER)
			return cerr_set(err, CARNET_E_FIELD_TYPE,
			    "field %s: wrong type, want an integer", f->name);
		if (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
		    v->via.u64 > INT64_MAX)
			return cerr_set(err, CARNET_E_BAD_VALUE,
			    "field %s: integer out of range", f->name);
		return 0;
	case FIELD_NUM:
		if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER &&
		    v->type != MSGPACK_OBJECT_NEGATIVE_INTEGER &&
		    v->type != MSGPACK_OBJECT_FLOAT32 &&
		    v->type != MSGPACK_OBJECT_FLOAT64)
			return cerr_set(err, CARNET_E_FIELD_TYPE,
			    "field %s: wrong type, want a number", f->name);
		if ((v->type == MSGPACK_OBJECT_FLOAT32 ||
		    v->type == MSGPACK_OBJECT_FLOAT64) &&
		    !(v->via.f64 == v->via.f64 && v->via.f64 - v->via.f64 == 0))
			return cerr_set(err, CARNET_E_BAD_VALUE,
			    "field %s: not a finite number", f->name);
		return 0;
	case FIELD_STRLIST:
		if (v->type != MSGPACK_OBJECT_ARRAY)
			return cerr_set(err, CARNET_E_FIELD_TYPE,
			    "field %s: wrong type, want a list of strings",
			    f->name);
		if (v->via.array.size > FIELD_LIST_MAX_ITEMS)
			return cerr_set(err, CARNET_E_TOO_BIG,
			    "field %s: %u items, at most %u", f->name,
			    v->via.array.size, FIELD_LIST_MAX_ITEMS);
		for (i = 0; i < v->via.array.size; i++) {
			const msgpack_object *it = &v->via.array.ptr[i];

			if (it->type == MSGPACK_OBJECT_ARRAY ||
			    it->type == MSGPACK_OBJECT_MAP)
				return cerr_set(err, CARNET_E_TOO_DEEP,
				    "field %s: item %u nests deeper than the "
				    "schema allows", f->name, i);
			if ((rc = check_str(it, f->max_bytes, "field",
			    f->name, err)) != 0)
				return rc;
		}
		return 0;
	}
	return cerr_set(err, CARNET_E_MALFORMED, "field %s: bad schema",
	    f->name);
}

static int
body_validate(const struct schema *s, const msgpack_object *body,
    uint64_t required, uint64_t *present, struct cerr *err)
{
	uint64_t seen = 0, missing;
	uint32_t i;
	unsigned next = 0; /* bodies mostly come in the schema's order */
	int rc;

	if (body == NULL)
		return cerr_set(err, CARNET_E_MISSING_FIELD,
		    "envelope: body is missing");
	if (body->type != MSGPACK_OBJECT_MAP)
		return cerr_set(err, CARNET_E_FIELD_TYPE,
		    "envelope body: wrong type, want a map");
	for (i = 0; i < body->via.map.size; i++) {
		const msgpack_object *k = &body->via.map.ptr[i].key;
		const msgpack_object *v = &body->via.map.ptr[i].val;
		char kb[48];
		int idx = -1;

		if (k->type == MSGPACK_OBJECT_STR)
			idx = schema_field_from(s, k->via.str.ptr,
			    k->via.str.size, next);
		if (idx < 0)
			return cerr_set(err, CARNET_E_UNKNOWN_FIELD,
			    "%s: unknown field %s", s->name, keyname(k, kb));
		if (seen & (UINT64_C(1) << idx))
			return cerr_set(err, CARNET_E_DUPLICATE,
			    "field %s: given twice", s->fields[idx].name);
		if ((rc = check_field(&s->fields[idx], v, err)) != 0)
			return rc;
		seen |= UINT64_C(1) << idx;
		next = (unsigned)idx + 1;
	}
	missing = required & ~seen;
	if (missing != 0)
		return cerr_set(err, CARNET_E_MISSING_FIELD,
		    "%s: field %s is required", s->name,
		    s->fields[__builtin_ctzll(missing)].name);
	if (required != 0 && schema_one_of(s) != 0 &&
	    (seen & schema_one_of(s)) == 0) {
		char names[200];

		return cerr_set(err, CARNET_E_MISSING_FIELD,
		    "%s: one of %s is required", s->name,
		    schema_one_of_names(s, names, sizeof(names)));
	}
	*present = seen;
	return 0;
}

/* Envelope keys, in encoding order. */
enum { K_HOLDER, K_REF, K_USER, K_TYPE, K_V, K_TIME, K_BODY, K_CORRECTS,
	K__N };
static const char *const env_keys[K__N] = {
	"holder", "ref", "user", "type", "v", "time", "body", "corrects",
};

static int
record_parse(const msgpack_object *o, struct record *r, bool partial,
    struct cerr *err)
{
	const msgpack_object *kv[K__N] = {0};
	const char *p;
	size_t len;
	uint64_t v;
	uint32_t i;
	int rc, k;

	memset(r, 0, sizeof(*r));
	if (o->type != MSGPACK_OBJECT_MAP)
		return cerr_set(err, CARNET_E_FIELD_TYPE,
		    "record: wrong type, want a map");
	for (i = 0; i < o->via.map.size; i++) {
		const msgpack_object *key = &o->via.map.ptr[i].key;
		char kb[48];

		for (k = 0; k < K__N; k++)
			if (mpk_str_eq(key, env_keys[k]))
				break;
		if (k == K__N)
			return cerr_set(err, CARNET_E_UNKNOWN_FIELD,
			    "envelope: unknown key %s", keyname(key, kb));
		if (kv[k] != NULL)
			return cerr_set(err, CARNET_E_DUPLICATE,
			    "envelope: %s given twice", env_keys[k]);
		kv[k] = &o->via.map.ptr[i].val;
	}
	for (k = K_REF; k <= K_BODY; k++)
		if (kv[k] == NULL)
			return cerr_set(err, CARNET_E_MISSING_FIELD,
			    "envelope: %s is missing", env_keys[k]);
	if (kv[K_HOLDER] != NULL) {
		if (mpk_bin_n(kv[K_HOLDER], r->holder, ID_BYTES) != 0)
			return cerr_set(err, CARNET_E_FIELD_TYPE,
			    "envelope holder: want 32 bytes of public key");
		r->has_holder = true;
	}
	if ((rc = check_str(kv[K_REF], RECORD_REF_MAX_BYTES, "envelope",
	    "ref", err)) != 0)
		return rc;
	if (kv[K_REF]->via.str.size == 0)
		return cerr_set(err, CARNET_E_BAD_VALUE,
		    "envelope ref: must not be empty");
	memcpy(r->ref, kv[K_REF]->via.str.ptr, kv[K_REF]->via.str.size);
	if (mpk_bin_n(kv[K_USER], r->user, ID_BYTES) != 0)
		return cerr_set(err, CARNET_E_FIELD_TYPE,
		    "envelope user: want 32 bytes of public key");
	if (mpk_str(kv[K_TYPE], &p, &len) != 0)
		return cerr_set(err, CARNET_E_FIELD_TYPE,
		    "envelope type: wrong type, want a string");
	if ((r->type = schema_by_name(p, len)) == NULL) {
		char kb[48];

		return cerr_set(err, CARNET_E_UNKNOWN_TYPE,
		    "envelope type: unknown record type %s",
		    keyname(kv[K_TYPE], kb));
	}
	if (mpk_u64(kv[K_V], &v) != 0 || v == 0 || v > r->type->version)
		return cerr_set(err, CARNET_E_BAD_VALUE,
		    "envelope v: want a schema version from 1 to %u",
		    r->type->version);
	r->version = (uint32_t)v;
	if (mpk_i64(kv[K_TIME], &r->time) != 0)
		return cerr_set(err, CARNET_E_FIELD_TYPE,
		    "envelope time: want seconds since the epoch");
	if (!time_in_range(r->time))
		return cerr_set(err, CARNET_E_BAD_VALUE,
		    "envelope time: %lld is outside the times carnet takes, "
		    TIME_RANGE_TEXT, (long long)r->time);
	if (kv[K_CORRECTS] != NULL && (mpk_u64(kv[K_CORRECTS], &r->corrects) !=
	    0 || r->corrects == 0))
		return cerr_set(err, CARNET_E_FIELD_TYPE,
		    "envelope corrects: want the seq of a stored record");
	r->body = kv[K_BODY];
	return body_validate(r->type, r->body, partial ? 0 :
	    schema_required(r->type), &r->present, err);
}

int
record_from_object(const msgpack_object *o, struct record *r,
    struct cerr *err)
{
	return record_parse(o, r, false, err);
}

int
record_from_object_partial(const msgpack_object *o, struct record *r,
    struct cerr *err)
{
	return record_parse(o, r, true, err);
}

int
record_decode(const void *buf, size_t len, msgpack_unpacked *tree,
    struct record *r, struct cerr *err)
{
	int rc;

	if (len > RECORD_MAX_BYTES)
		return cerr_set(err, CARNET_E_TOO_BIG,
		    "record: %zu bytes, at most %d", len, RECORD_MAX_BYTES);
	if ((rc = mpk_unpack(buf, len, RECORD_MAX_DEPTH, tree)) != 0)
		return cerr_set(err, rc, "record: %s", carnet_strerror(rc));
	if ((rc = record_from_object(&tree->data, r, err)) != 0) {
		msgpack_unpacked_destroy(tree);
		return rc;
	}
	return 0;
}

void
record_pack(msgpack_packer *pk, const struct record *r, uint64_t fields)
{
	uint32_t i, n = 0;
	unsigned next = 0;

	msgpack_pack_map(pk, 6 + (r->has_holder ? 1 : 0) + (r->corrects ? 1 :
	    0));
	if (r->has_holder) {
		mpk_pack_cstr(pk, "holder");
		mpk_pack_binn(pk, r->holder, ID_BYTES);
	}
	mpk_pack_cstr(pk, "ref");
	mpk_pack_cstr(pk, r->ref);
	mpk_pack_cstr(pk, "user");
	mpk_pack_binn(pk, r->user, ID_BYTES);
	mpk_pack_cstr(pk, "type");
	mpk_pack_cstr(pk, r->type->name);
	mpk_pack_cstr(pk, "v");
	msgpack_pack_uint32(pk, r->version);
	mpk_pack_cstr(pk, "time");
	msgpack_pack_int64(pk, r->time);
	if (r->corrects) {
		mpk_pack_cstr(pk, "corrects");
		msgpack_pack_uint64(pk, r->corrects);
	}
	mpk_pack_cstr(pk, "body");
	n = (uint32_t)__builtin_popcountll(r->present & fields);
	msgpack_pack_map(pk, n);
	for (i = 0; i < r->body->via.map.size; i++) {
		const msgpack_object *k = &r->body->via.map.ptr[i].key;
		int idx = schema_field_from(r->type, k->via.str.ptr,
		    k->via.str.size, next);

		if (idx < 0)
			continue;
		next = (unsigned)idx + 1;
		if (!(fields & (UINT64_C(1) << idx)))
			continue;
		msgpack_pack_object(pk, *k);
		msgpack_pack_object(pk, r->body->via.map.ptr[i].val);
	}
}

/* A body has at most one pair per field, and a type at most 64 fields. */
#define BODY_MAX_PAIRS 64

/* The body's kept pairs: how many, and their bytes as runs of adjacent pairs. */
struct kept {
	const uint8_t *from[BODY_MAX_PAIRS], *to[BODY_MAX_PAIRS];
	unsigned n, nruns;
};

static int
body_kept(const uint8_t *p, const uint8_t *end, const struct schema *type,
    uint64_t fields, struct kept *k, const uint8_t **next)
{
	enum mpk_kind kind;
	uint64_t n, i, klen;
	size_t hlen;
	unsigned from = 0;
	int rc;

	if ((rc = mpk_head(p, end, &kind, &n, &hlen)) != 0)
		return rc;
	if (kind != MPK_MAP || n > BODY_MAX_PAIRS)
		return CARNET_E_MALFORMED;
	p += hlen;
	k->n = k->nruns = 0;
	for (i = 0; i < n; i++) {
		const uint8_t *start = p;
		int idx;

		if ((rc = mpk_head(p, end, &kind, &klen, &hlen)) != 0)
			return rc;
		if (kind != MPK_STR)
			return CARNET_E_MALFORMED;
		idx = schema_field_from(type, (const char *)p + hlen, klen,
		    from);
		p += hlen + klen;
		if (idx >= 0)
			from = (unsigned)idx + 1;
		if ((rc = mpk_skip(p, end, RECORD_MAX_DEPTH, &p)) != 0)
			return rc;
		if (idx < 0 || !(fields & (UINT64_C(1) << idx)))
			continue;
		k->n++;
		if (k->nruns > 0 && k->to[k->nruns - 1] == start) {
			k->to[k->nruns - 1] = p;
		} else {
			k->from[k->nruns] = start;
			k->to[k->nruns++] = p;
		}
	}
	*next = p;
	return 0;
}

size_t
record_ref_base_len(const char *ref, size_t len)
{
	size_t i;

	/* as store_record_put finds versions: "@V" alone is no base */
	for (i = len; i > 1; i--)
		if (ref[i - 1] == '@')
			return i - 1;
	return len;
}

void
record_ref_opaque(const uint8_t key[RECORD_REF_KEY_BYTES],
    const uint8_t app[ID_BYTES], const uint8_t holder[ID_BYTES],
    const uint8_t user[ID_BYTES], const char *ref, size_t len,
    char out[RECORD_OPAQUE_LEN + 1])
{
	static const char ctx[] = "carnet-opaque-ref-v1";
	uint8_t h[RECORD_OPAQUE_HASH_BYTES];
	crypto_generichash_state st;

	crypto_generichash_init(&st, key, RECORD_REF_KEY_BYTES, sizeof(h));
	crypto_generichash_update(&st, (const uint8_t *)ctx, sizeof(ctx));
	crypto_generichash_update(&st, app, ID_BYTES);
	crypto_generichash_update(&st, holder, ID_BYTES);
	crypto_generichash_update(&st, user, ID_BYTES);
	/* the base last: its length is the rest, nothing to delimit */
	crypto_generichash_update(&st, (const uint8_t *)ref,
	    record_ref_base_len(ref, len));
	crypto_generichash_final(&st, h, sizeof(h));
	memcpy(out, RECORD_OPAQUE_PREFIX, sizeof(RECORD_OPAQUE_PREFIX) - 1);
	id_b32_encode(h, sizeof(h), out + sizeof(RECORD_OPAQUE_PREFIX) - 1);
	sodium_memzero(&st, sizeof(st));
}

int
record_copy_minimised(const void *buf, size_t len, const struct schema *type,
    const struct record_view *v, msgpack_sbuffer *out)
{
	const uint8_t *p = buf, *end = p + len, *val, *run;
	size_t mark = out->size, hlen;
	enum mpk_kind kind;
	uint64_t n, i, klen;
	msgpack_packer pk;
	struct kept k;
	unsigned j;
	int rc;

	msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
	if ((rc = mpk_head(p, end, &kind, &n, &hlen)) != 0 ||
	    (rc = kind == MPK_MAP ? 0 : CARNET_E_MALFORMED) != 0)
		goto fail;
	/* bytes kept as they are go out in runs, one write per run */
	run = p;
	p += hlen;
	for (i = 0; i < n; i++) {
		if ((rc = mpk_head(p, end, &kind, &klen, &hlen)) != 0)
			goto fail;
		if (kind != MPK_STR) {
			rc = CARNET_E_MALFORMED;
			goto fail;
		}
		val = p + hlen + klen;
		if (klen == 3 && memcmp(p + hlen, "ref", 3) == 0 &&
		    !(v->fields & FIELD_REF)) {
			char opaque[RECORD_OPAQUE_LEN + 1];

			if ((rc = mpk_head(val, end, &kind, &klen,
			    &hlen)) != 0)
				goto fail;
			if (kind != MPK_STR || v->ref_key == NULL) {
				rc = CARNET_E_MALFORMED;
				goto fail;
			}
			record_ref_opaque(v->ref_key, v->app, v->holder,
			    v->user, (const char *)val + hlen, (size_t)klen,
			    opaque);
			msgpack_sbuffer_write(out, (const char *)run,
			    (size_t)(val - run));
			mpk_pack_cstr(&pk, opaque);
			run = p = val + hlen + klen;
			continue;
		}
		if (klen == 4 && memcmp(p + hlen, "body", 4) == 0) {
			if ((rc = body_kept(val, end, type, v->fields, &k,
			    &p)) != 0)
				goto fail;
			msgpack_sbuffer_write(out, (const char *)run,
			    (size_t)(val - run));
			msgpack_pack_map(&pk, k.n);
			for (j = 0; j < k.nruns; j++)
				msgpack_sbuffer_write(out, (const char *)k.from[j],
				    (size_t)(k.to[j] - k.from[j]));
			run = p;
			continue;
		}
		if ((rc = mpk_skip(val, end, RECORD_MAX_DEPTH, &p)) != 0)
			goto fail;
	}
	msgpack_sbuffer_write(out, (const char *)run, (size_t)(p - run));
	if (p == end)
		return 0;
	rc = CARNET_E_TRAILING;
fail:
	out->size = mark;
	return rc;
}
