/*
 * recjson.c: the JSON face of records, built on jansson.
 */
#include <string.h>

#include "../common/mpk.h"
#include "recjson.h"

static const char *const envelope_keys[] = {"user", "ref", "time", "type",
	"holder", "corrects"};

static bool
is_envelope_key(const char *k)
{
	size_t i;

	for (i = 0; i < sizeof(envelope_keys) / sizeof(envelope_keys[0]); i++)
		if (strcmp(k, envelope_keys[i]) == 0)
			return true;
	return false;
}

/* Pack a JSON value; lists may hold scalars only (depth 1). */
static int
pack_value(msgpack_packer *pk, const char *name, const json_t *v, int depth,
    struct cerr *err)
{
	size_t i;
	int rc;

	switch (json_typeof(v)) {
	case JSON_STRING:
		mpk_pack_strn(pk, json_string_value(v), json_string_length(v));
		return 0;
	case JSON_INTEGER:
		msgpack_pack_int64(pk, json_integer_value(v));
		return 0;
	case JSON_REAL:
		msgpack_pack_double(pk, json_real_value(v));
		return 0;
	case JSON_TRUE:
	case JSON_FALSE:
	case JSON_NULL:
		return cerr_set(err, CARNET_E_FIELD_TYPE,
		    "field %s: wrong type (%s)", name,
		    json_is_null(v) ? "null" : "boolean");
	case JSON_OBJECT:
		return cerr_set(err, depth ? CARNET_E_TOO_DEEP :
		    CARNET_E_FIELD_TYPE, "field %s: %s", name, depth ?
		    "nests deeper than the schema allows" :
		    "wrong type (object)");
	case JSON_ARRAY:
		if (depth > 0)
			return cerr_set(err, CARNET_E_TOO_DEEP,
			    "field %s: nests deeper than the schema allows",
			    name);
		if (json_array_size(v) > FIELD_LIST_MAX_ITEMS)
			return cerr_set(err, CARNET_E_TOO_BIG,
			    "field %s: %zu items, at most %d", name,
			    json_array_size(v), FIELD_LIST_MAX_ITEMS);
		msgpack_pack_array(pk, json_array_size(v));
		for (i = 0; i < json_array_size(v); i++)
			if ((rc = pack_value(pk, name, json_array_get(v, i),
			    depth + 1, err)) != 0)
				return rc;
		return 0;
	}
	return cerr_set(err, CARNET_E_MALFORMED, "field %s: bad JSON", name);
}

static int
pack_id(msgpack_packer *pk, const char *key, const json_t *v,
    struct cerr *err)
{
	uint8_t pk_bytes[ID_BYTES];

	if (!json_is_string(v) ||
	    id_decode(json_string_value(v), pk_bytes) != 0)
		return cerr_set(err, CARNET_E_BAD_VALUE,
		    "envelope %s: not a carnet party id", key);
	mpk_pack_cstr(pk, key);
	mpk_pack_binn(pk, pk_bytes, ID_BYTES);
	return 0;
}

static int
pack_envelope_and_body(msgpack_packer *pk, const json_t *obj,
    const struct schema *type, struct cerr *err)
{
	const json_t *user = json_object_get(obj, "user");
	const json_t *ref = json_object_get(obj, "ref");
	const json_t *t = json_object_get(obj, "time");
	const json_t *holder = json_object_get(obj, "holder");
	const json_t *corrects = json_object_get(obj, "corrects");
	const char *k;
	json_t *v;
	size_t nbody = 0, nenv;
	int64_t when;
	int rc;

	json_object_foreach((json_t *)obj, k, v)
		if (!is_envelope_key(k))
			nbody++;
	nenv = 3 + (user != NULL) + (ref != NULL) + (t != NULL) +
	    (holder != NULL) + (corrects != NULL);
	msgpack_pack_map(pk, nenv);
	if (corrects != NULL) {
		/* checked when the record is read back (record.c) */
		if (!json_is_integer(corrects) || json_integer_value(corrects) < 1)
			return cerr_set(err, CARNET_E_FIELD_TYPE,
			    "envelope corrects: want the seq of a stored record");
		mpk_pack_cstr(pk, "corrects");
		msgpack_pack_uint64(pk, (uint64_t)json_integer_value(corrects));
	}
	if (holder != NULL && (rc = pack_id(pk, "holder", holder, err)) != 0)
		return rc;
	if (user != NULL && (rc = pack_id(pk, "user", user, err)) != 0)
		return rc;
	if (ref != NULL) {
		if (!json_is_string(ref))
			return cerr_set(err, CARNET_E_FIELD_TYPE,
			    "envelope ref: wrong type, want a string");
		mpk_pack_cstr(pk, "ref");
		mpk_pack_strn(pk, json_string_value(ref),
		    json_string_length(ref));
	}
	if (t != NULL) {
		if (json_is_integer(t))
			when = json_integer_value(t);
		else if (!json_is_string(t) ||
		    time_parse(json_string_value(t), &when) != 0)
			return cerr_set(err, CARNET_E_BAD_VALUE,
			    "envelope time: want ISO 8601 from "
			    TIME_RANGE_TEXT ", e.g. 2017-03-02T10:00:00Z");
		mpk_pack_cstr(pk, "time");
		msgpack_pack_int64(pk, when);
	}
	mpk_pack_cstr(pk, "type");
	mpk_pack_cstr(pk, type->name);
	mpk_pack_cstr(pk, "v");
	msgpack_pack_uint32(pk, type->version);
	mpk_pack_cstr(pk, "body");
	msgpack_pack_map(pk, nbody);
	json_object_foreach((json_t *)obj, k, v) {
		if (is_envelope_key(k))
			continue;
		mpk_pack_cstr(pk, k);
		if ((rc = pack_value(pk, k, v, 0, err)) != 0)
			return rc;
	}
	return 0;
}

int
recjson_encode(const json_t *obj, const struct schema *type,
    msgpack_sbuffer *out, struct cerr *err)
{
	const json_t *jt;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_unpacked tree;
	struct record r;
	int rc;

	if (!json_is_object(obj))
		return cerr_set(err, CARNET_E_FIELD_TYPE,
		    "record: want a JSON object");
	if ((jt = json_object_get(obj, "type")) != NULL) {
		const struct schema *named = NULL;

		if (json_is_string(jt))
			named = schema_by_name(json_string_value(jt),
			    json_string_length(jt));
		if (named == NULL)
			return cerr_set(err, CARNET_E_UNKNOWN_TYPE,
			    "envelope type: unknown record type");
		if (type != NULL && named != type)
			return cerr_set(err, CARNET_E_BAD_VALUE,
			    "envelope type: %s, but %s was asked for",
			    named->name, type->name);
		type = named;
	}
	if (type == NULL)
		return cerr_set(err, CARNET_E_MISSING_FIELD,
		    "envelope: type is missing");
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	rc = pack_envelope_and_body(&pk, obj, type, err);
	if (rc == 0 && (rc = record_decode(sb.data, sb.size, &tree, &r,
	    err)) == 0) {
		msgpack_unpacked_destroy(&tree);
		msgpack_sbuffer_write(out, sb.data, sb.size);
	}
	msgpack_sbuffer_destroy(&sb);
	return rc;
}

int
recjson_encode_line(const char *line, size_t len, const struct schema *type,
    msgpack_sbuffer *out, struct cerr *err)
{
	json_error_t jerr;
	json_t *obj;
	int rc;

	obj = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (obj == NULL)
		return cerr_set(err, CARNET_E_MALFORMED,
		    "not JSON: %s (column %d)", jerr.text, jerr.column);
	rc = recjson_encode(obj, type, out, err);
	json_decref(obj);
	return rc;
}

json_t *
recjson_value(const msgpack_object *o)
{
	json_t *a;
	uint32_t i;

	switch (o->type) {
	case MSGPACK_OBJECT_STR:
		return json_stringn(o->via.str.ptr, o->via.str.size);
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		return json_integer((json_int_t)o->via.u64);
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		return json_integer(o->via.i64);
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		return json_real(o->via.f64);
	case MSGPACK_OBJECT_ARRAY:
		if ((a = json_array()) == NULL)
			return NULL;
		for (i = 0; i < o->via.array.size; i++) {
			json_t *it = recjson_value(&o->via.array.ptr[i]);

			if (it == NULL || json_is_array(it) ||
			    json_array_append_new(a, it) != 0) {
				json_decref(it);
				json_decref(a);
				return NULL;
			}
		}
		return a;
	default:
		return NULL;
	}
}

json_t *
recjson_from_record(const struct record *r)
{
	char id[ID_STR_LEN + 1], when[TIME_STR_LEN + 1];
	json_t *obj;
	uint32_t i;
	int bad = 0;

	if ((obj = json_object()) == NULL)
		return NULL;
	id_encode(r->user, id);
	bad |= json_object_set_new(obj, "user", json_string(id));
	if (r->has_holder) {
		id_encode(r->holder, id);
		bad |= json_object_set_new(obj, "holder", json_string(id));
	}
	bad |= json_object_set_new(obj, "type", json_string(r->type->name));
	bad |= json_object_set_new(obj, "ref", json_string(r->ref));
	time_format(r->time, when);
	bad |= json_object_set_new(obj, "time", json_string(when));
	if (r->corrects)
		bad |= json_object_set_new(obj, "corrects",
		    json_integer((json_int_t)r->corrects));
	for (i = 0; i < r->body->via.map.size && !bad; i++) {
		const msgpack_object *k = &r->body->via.map.ptr[i].key;
		char name[FIELD_NAME_MAX_BYTES + 1];
		json_t *v = recjson_value(&r->body->via.map.ptr[i].val);

		if (v == NULL || mpk_cstr(k, name, sizeof(name)) != 0) {
			json_decref(v);
			bad = 1;
			break;
		}
		bad |= json_object_set_new(obj, name, v);
	}
	if (bad) {
		json_decref(obj);
		return NULL;
	}
	return obj;
}

json_t *
recjson_schema(const struct schema *s)
{
	json_t *fields = json_array();
	unsigned i;

	for (i = 0; i < s->nfields; i++)
		json_array_append_new(fields, json_pack("{s:s, s:s, s:b, s:s}", "name",
		    s->fields[i].name, "kind", field_kind_name(s->fields[i].kind),
		    "required", s->fields[i].required, "doc", s->fields[i].doc));
	return json_pack("{s:s, s:i, s:s, s:o}", "type", s->name, "version", s->version,
	    "doc", s->doc, "fields", fields);
}
