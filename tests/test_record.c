/*
 * test_record.c: the record codec, JSON conversion and minimisation.
 */
#include "testutil.h"

#include <jansson.h>
#include <sodium.h>

#include "../common/mpk.h"
#include "../schemas/recjson.h"

static uint8_t user_pk[ID_BYTES], holder_pk[ID_BYTES], app_pk[ID_BYTES];
static uint8_t ref_key[RECORD_REF_KEY_BYTES];
static char user_id[ID_STR_LEN + 1];

/* One valid JSON line per type, each with every optional field too. */
static const char *const samples[] = {
	"{\"user\":\"%s\",\"ref\":\"c-1\",\"time\":\"2017-03-02T10:00:00Z\","
	"\"act_code\":\"C\",\"label\":\"Consultation generaliste\","
	"\"amount_eur\":25.0,\"reimbursed_eur\":16.5,\"practitioner\":"
	"\"generaliste\",\"mutual_eur\":7.5,\"provider\":\"Dr Martin\","
	"\"care_kind\":\"consultation\"}",
	"{\"user\":\"%s\",\"ref\":\"d-1\",\"time\":\"2017-03-03T09:00:00Z\","
	"\"cip13\":\"3400930000000\",\"drug\":\"Doliprane 1000 mg\","
	"\"quantity\":2,\"amount_eur\":4.3,\"reimbursed_eur\":2.8,"
	"\"prescriber\":\"generaliste\",\"atc\":\"N02BE01\"}",
	"{\"user\":\"%s\",\"ref\":\"l-1\",\"time\":\"2017-03-04T08:00:00Z\","
	"\"loinc\":\"4548-4\",\"label\":\"Hemoglobine glyquee\",\"value\":6.9,"
	"\"unit\":\"%%\",\"ref_low\":4,\"ref_high\":6,\"lab\":\"Labo Centre\"}",
	"{\"user\":\"%s\",\"ref\":\"o-1\",\"time\":\"2017-03-05T07:00:00Z\","
	"\"kind\":\"weight_kg\",\"value\":81.4,\"device\":\"Scale S1\","
	"\"period_min\":1}",
	"{\"user\":\"%s\",\"ref\":\"p-1\",\"time\":\"2017-01-01T00:00:00Z\","
	"\"birth_year\":1962,\"sex\":\"female\",\"blood_group\":\"O+\","
	"\"allergies\":[\"penicilline\"],\"conditions\":[\"diabete de type 2\"],"
	"\"treatments\":[],\"emergency_contact\":\"Paul 0600000000\","
	"\"name\":\"Anne\"}",
	"{\"user\":\"%s\",\"ref\":\"x-1\",\"time\":\"2017-03-05T12:00:00Z\","
	"\"kind\":\"pm25\",\"value\":31,\"area\":\"Paris 11\","
	"\"source\":\"Airparif\"}",
	"{\"user\":\"%s\",\"ref\":\"v-1\",\"time\":\"2016-01-01T00:00:00Z\","
	"\"plan\":\"Part A\",\"status\":\"active\",\"period_start\":\"2016\"}",
	"{\"user\":\"%s\",\"ref\":\"c-2\",\"time\":\"2020-03-01T00:00:00Z\","
	"\"code\":\"E11.9\",\"system\":\"http://hl7.org/fhir/sid/icd-10\","
	"\"label\":\"Diabete de type 2\",\"clinical_status\":\"active\","
	"\"onset\":\"2020-03\",\"time_precision\":\"month\"}",
	"{\"user\":\"%s\",\"ref\":\"a-1\",\"time\":\"2019-01-01T00:00:00Z\","
	"\"label\":\"Penicilline\",\"category\":\"medication\","
	"\"criticality\":\"high\",\"reactions\":[\"urticaire\"]}",
	"{\"user\":\"%s\",\"ref\":\"i-1\",\"time\":\"2021-05-01T10:00:00Z\","
	"\"vaccine_code\":\"140\",\"system\":\"http://hl7.org/fhir/sid/cvx\","
	"\"label\":\"Influenza\",\"status\":\"completed\",\"dose\":\"2\"}",
};
static const char *const sample_types[] = {"claim", "dispense", "lab_result",
	"observation", "profile", "context", "coverage", "condition", "allergy",
	"immunization"};

static int
setup(void **state)
{
	uint8_t sk[64];

	(void)state;
	assert_true(sodium_init() >= 0);
	crypto_sign_keypair(user_pk, sk);
	crypto_sign_keypair(holder_pk, sk);
	crypto_sign_keypair(app_pk, sk);
	randombytes_buf(ref_key, sizeof(ref_key));
	id_encode(user_pk, user_id);
	return 0;
}

static json_t *
sample_json(unsigned i)
{
	char line[1024];
	json_error_t e;

	snprintf(line, sizeof(line), samples[i], user_id);
	return json_loads(line, 0, &e);
}

static const struct schema *
type_named(const char *n)
{
	return schema_by_name(n, strlen(n));
}

/* Encode obj as type; expect rc, and on success decode it into *r. */
static int
encode(const json_t *obj, const char *type, msgpack_sbuffer *sb,
    struct cerr *err)
{
	msgpack_sbuffer_clear(sb);
	memset(err, 0, sizeof(*err));
	return recjson_encode(obj, type_named(type), sb, err);
}

static void
test_every_type_round_trips_through_json(void **state)
{
	msgpack_sbuffer sb;
	msgpack_unpacked tree;
	struct record r;
	struct cerr err;
	unsigned i;

	(void)state;
	assert_int_equal(schema_count(), 10);
	assert_int_equal(sizeof(sample_types) / sizeof(sample_types[0]), 10);
	msgpack_sbuffer_init(&sb);
	for (i = 0; i < 10; i++) {
		json_t *in = sample_json(i), *out;

		assert_non_null(in);
		assert_int_equal(encode(in, sample_types[i], &sb, &err), 0);
		assert_int_equal(record_decode(sb.data, sb.size, &tree, &r,
		    &err), 0);
		assert_string_equal(r.type->name, sample_types[i]);
		assert_memory_equal(r.user, user_pk, ID_BYTES);
		assert_false(r.has_holder);
		out = recjson_from_record(&r);
		assert_non_null(out);
		/* the output has the type; the input did not */
		assert_int_equal(json_object_del(out, "type"), 0);
		assert_true(json_equal(in, out));
		json_decref(out);
		json_decref(in);
		msgpack_unpacked_destroy(&tree);
	}
	msgpack_sbuffer_destroy(&sb);
}

static void
test_pack_with_holder_round_trips(void **state)
{
	msgpack_sbuffer sb, sb2;
	msgpack_packer pk;
	msgpack_unpacked t1, t2;
	struct record r, r2;
	struct cerr err;
	json_t *in = sample_json(0);

	(void)state;
	msgpack_sbuffer_init(&sb);
	msgpack_sbuffer_init(&sb2);
	assert_int_equal(encode(in, "claim", &sb, &err), 0);
	assert_int_equal(record_decode(sb.data, sb.size, &t1, &r, &err), 0);
	r.has_holder = true;
	memcpy(r.holder, holder_pk, ID_BYTES);
	msgpack_packer_init(&pk, &sb2, msgpack_sbuffer_write);
	record_pack(&pk, &r, FIELDS_ALL);
	assert_int_equal(record_decode(sb2.data, sb2.size, &t2, &r2, &err), 0);
	assert_true(r2.has_holder);
	assert_memory_equal(r2.holder, holder_pk, ID_BYTES);
	assert_string_equal(r2.ref, "c-1");
	assert_int_equal(r2.time, 1488448800);
	assert_int_equal(r2.present, r.present);
	msgpack_unpacked_destroy(&t1);
	msgpack_unpacked_destroy(&t2);
	msgpack_sbuffer_destroy(&sb);
	msgpack_sbuffer_destroy(&sb2);
	json_decref(in);
}

static void
test_minimisation_keeps_exactly_the_listed_fields(void **state)
{
	const struct schema *claim = type_named("claim");
	msgpack_sbuffer sb, sb2;
	msgpack_packer pk;
	msgpack_unpacked t1, t2;
	struct record r, r2;
	struct cerr err;
	json_t *in = sample_json(0), *out;
	uint64_t mask;

	(void)state;
	mask = (UINT64_C(1) << schema_field(claim, "act_code", 8)) |
	    (UINT64_C(1) << schema_field(claim, "amount_eur", 10));
	msgpack_sbuffer_init(&sb);
	msgpack_sbuffer_init(&sb2);
	assert_int_equal(encode(in, "claim", &sb, &err), 0);
	assert_int_equal(record_decode(sb.data, sb.size, &t1, &r, &err), 0);
	msgpack_packer_init(&pk, &sb2, msgpack_sbuffer_write);
	record_pack(&pk, &r, mask);
	/* a minimised record is not a valid full record: required fields gone */
	assert_int_equal(record_decode(sb2.data, sb2.size, &t2, &r2, &err),
	    CARNET_E_MISSING_FIELD);
	assert_int_equal(mpk_unpack(sb2.data, sb2.size, 3, &t2), 0);
	{
		const msgpack_object *body = mpk_get(&t2.data, "body");

		assert_non_null(body);
		assert_int_equal(body->via.map.size, 2);
		assert_non_null(mpk_get(body, "act_code"));
		assert_non_null(mpk_get(body, "amount_eur"));
		assert_null(mpk_get(body, "label"));
		assert_null(mpk_get(body, "practitioner"));
	}
	msgpack_unpacked_destroy(&t2);
	/* and the envelope is kept whole */
	out = recjson_from_record(&r);
	assert_non_null(out);
	json_decref(out);
	msgpack_unpacked_destroy(&t1);
	msgpack_sbuffer_destroy(&sb);
	msgpack_sbuffer_destroy(&sb2);
	json_decref(in);
}

/*
 * The delivery path copies stored bytes without unpacking: for every
 * sample and many masks it gives exactly what record_pack gives, and a
 * cut or damaged record is refused leaving the buffer as it was.
 */
static void
test_byte_copy_minimisation_equals_pack(void **state)
{
	unsigned i, m, cut;

	(void)state;
	for (i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		const struct schema *type = type_named(sample_types[i]);
		msgpack_sbuffer sb, stored, a, b;
		msgpack_packer pk;
		msgpack_unpacked t1, t2;
		struct record r;
		struct cerr err;
		json_t *in = sample_json(i);

		msgpack_sbuffer_init(&sb);
		msgpack_sbuffer_init(&stored);
		assert_int_equal(encode(in, sample_types[i], &sb, &err), 0);
		assert_int_equal(record_decode(sb.data, sb.size, &t1, &r, &err),
		    0);
		/* stored form: with the holder, as the broker keeps it */
		r.has_holder = true;
		memcpy(r.holder, holder_pk, ID_BYTES);
		msgpack_packer_init(&pk, &stored, msgpack_sbuffer_write);
		record_pack(&pk, &r, FIELDS_ALL);
		assert_int_equal(record_decode(stored.data, stored.size, &t2, &r,
		    &err), 0);
		for (m = 0; m < 40; m++) {
			uint64_t mask = m == 0 ? FIELDS_ALL : m == 1 ? 0 :
			    ((uint64_t)m * 0x9E3779B97F4A7C15ULL) >> (m % 7);
			/* the holder's ref granted: the record as stored */
			struct record_view v = {mask | FIELD_REF, NULL, NULL,
			    NULL, NULL};

			msgpack_sbuffer_init(&a);
			msgpack_sbuffer_init(&b);
			msgpack_sbuffer_write(&b, "xy", 2); /* appends after */
			msgpack_packer_init(&pk, &a, msgpack_sbuffer_write);
			record_pack(&pk, &r, mask);
			assert_int_equal(record_copy_minimised(stored.data,
			    stored.size, type, &v, &b), 0);
			assert_int_equal(b.size, a.size + 2);
			assert_memory_equal(b.data + 2, a.data, a.size);
			msgpack_sbuffer_destroy(&a);
			msgpack_sbuffer_destroy(&b);
		}
		for (cut = 0; cut < stored.size; cut++) {
			msgpack_sbuffer_init(&b);
			msgpack_sbuffer_write(&b, "xy", 2);
			struct record_view v = {FIELDS_ALL / 3, ref_key,
			    app_pk, holder_pk, user_pk};

			assert_int_not_equal(record_copy_minimised(stored.data,
			    cut, type, &v, &b), 0);
			assert_int_equal(b.size, 2);
			msgpack_sbuffer_destroy(&b);
		}
		msgpack_unpacked_destroy(&t1);
		msgpack_unpacked_destroy(&t2);
		msgpack_sbuffer_destroy(&sb);
		msgpack_sbuffer_destroy(&stored);
		json_decref(in);
	}
}

/* A stored claim whose holder ref is ref (with the holder, as kept). */
static void
stored_claim(const char *ref, msgpack_sbuffer *stored)
{
	msgpack_sbuffer sb;
	msgpack_unpacked t;
	msgpack_packer pk;
	struct record r;
	struct cerr err;
	json_t *in = sample_json(0);

	json_object_set_new(in, "ref", json_string(ref));
	msgpack_sbuffer_init(&sb);
	msgpack_sbuffer_init(stored);
	assert_int_equal(encode(in, "claim", &sb, &err), 0);
	assert_int_equal(record_decode(sb.data, sb.size, &t, &r, &err), 0);
	r.has_holder = true;
	memcpy(r.holder, holder_pk, ID_BYTES);
	msgpack_packer_init(&pk, stored, msgpack_sbuffer_write);
	record_pack(&pk, &r, FIELDS_ALL);
	msgpack_unpacked_destroy(&t);
	msgpack_sbuffer_destroy(&sb);
	json_decref(in);
}

/* What app sees of the stored record under fields: its ref in out. */
static void
seen_ref(const msgpack_sbuffer *stored, const uint8_t app[ID_BYTES],
    uint64_t fields, char out[RECORD_REF_MAX_BYTES + 1], uint64_t *present)
{
	struct record_view v = {fields, ref_key, app, holder_pk, user_pk};
	msgpack_sbuffer b;
	msgpack_unpacked t;
	struct record r;
	struct cerr err;

	msgpack_sbuffer_init(&b);
	assert_int_equal(record_copy_minimised(stored->data, stored->size,
	    type_named("claim"), &v, &b), 0);
	assert_int_equal(mpk_unpack(b.data, b.size, RECORD_MAX_DEPTH, &t), 0);
	assert_int_equal(record_from_object_partial(&t.data, &r, &err), 0);
	strcpy(out, r.ref);
	if (present != NULL)
		*present = r.present;
	msgpack_unpacked_destroy(&t);
	msgpack_sbuffer_destroy(&b);
}

/*
 * What an app sees in place of the holder's ref (security issue 30, item
 * 3): an opaque id of its own, none of the ref's bytes; the same for
 * another version of the record (BASE@V), for another app another; the
 * holder's ref itself only with FIELD_REF.
 */
static void
test_an_app_sees_an_opaque_ref_unless_granted_ref(void **state)
{
	static const char ref[] =
	    "fhir:ExplanationOfBenefit/inpatient-4436342082#8@h0123456789abcdef";
	char seen[RECORD_REF_MAX_BYTES + 1], again[RECORD_REF_MAX_BYTES + 1];
	char other[RECORD_REF_MAX_BYTES + 1], full[RECORD_REF_MAX_BYTES + 1];
	uint8_t app2[ID_BYTES], key2[RECORD_REF_KEY_BYTES];
	msgpack_sbuffer s1, s2, s3;
	uint64_t present;
	size_t i;

	(void)state;
	stored_claim(ref, &s1);
	/* granted ref: the holder's, byte for byte, as before */
	seen_ref(&s1, app_pk, FIELDS_ALL | FIELD_REF, full, NULL);
	assert_string_equal(full, ref);
	assert_true(tu_holds(s1.data, s1.size, "inpatient-4436342082"));
	/* not granted: "carnet:" and 32 base32 characters, nothing of ref */
	seen_ref(&s1, app_pk, UINT64_C(1) << schema_field(type_named("claim"),
	    "amount_eur", 10), seen, &present);
	assert_int_equal(present, UINT64_C(1) << schema_field(
	    type_named("claim"), "amount_eur", 10));
	assert_int_equal(strlen(seen), RECORD_OPAQUE_LEN);
	assert_int_equal(strncmp(seen, "carnet:", 7), 0);
	for (i = 7; i < strlen(seen); i++)
		assert_non_null(strchr("abcdefghijklmnopqrstuvwxyz234567",
		    seen[i]));
	assert_null(strstr(seen, "inpatient"));
	assert_null(strstr(seen, "4436342082"));
	/* the same whatever the body fields, every time */
	seen_ref(&s1, app_pk, FIELDS_ALL, again, NULL);
	assert_string_equal(again, seen);
	/* another version of the record: the same id */
	stored_claim("fhir:ExplanationOfBenefit/inpatient-4436342082#8@h99",
	    &s2);
	seen_ref(&s2, app_pk, FIELDS_ALL, again, NULL);
	assert_string_equal(again, seen);
	/* another line of the claim, another id */
	stored_claim("fhir:ExplanationOfBenefit/inpatient-4436342082#9@h99",
	    &s3);
	seen_ref(&s3, app_pk, FIELDS_ALL, again, NULL);
	assert_string_not_equal(again, seen);
	/* another app, another id */
	randombytes_buf(app2, sizeof(app2));
	seen_ref(&s1, app2, FIELDS_ALL, other, NULL);
	assert_string_not_equal(other, seen);
	/* and another broker key, another id (the key makes it) */
	memcpy(key2, ref_key, sizeof(key2));
	randombytes_buf(ref_key, sizeof(ref_key));
	seen_ref(&s1, app_pk, FIELDS_ALL, other, NULL);
	assert_string_not_equal(other, seen);
	memcpy(ref_key, key2, sizeof(key2));
	msgpack_sbuffer_destroy(&s1);
	msgpack_sbuffer_destroy(&s2);
	msgpack_sbuffer_destroy(&s3);
}

/* The base of a ref is what store_record_put takes for one record's. */
static void
test_the_ref_base_is_before_the_last_at(void **state)
{
	(void)state;
	assert_int_equal(record_ref_base_len("c-1", 3), 3);
	assert_int_equal(record_ref_base_len("c-1@2", 5), 3);
	assert_int_equal(record_ref_base_len("a@b@c", 5), 3);
	assert_int_equal(record_ref_base_len("@2", 2), 2);
	assert_int_equal(record_ref_base_len("c@", 2), 1);
}

/* "ref" is no type's field, and every type leaves the ref bit free. */
static void
test_ref_is_a_pseudo_field_of_every_type(void **state)
{
	unsigned i;

	(void)state;
	for (i = 0; i < schema_count(); i++) {
		const struct schema *s = schema_by_index(i);

		assert_int_equal(schema_field(s, "ref", 3), -1);
		assert_true(s->nfields <= FIELD_REF_INDEX);
		assert_int_equal(schema_field_grantable(s, "ref", 3),
		    FIELD_REF_INDEX);
		assert_string_equal(schema_field_name(s, FIELD_REF_INDEX),
		    "ref");
		assert_string_equal(schema_field_name(s, 0), s->fields[0].name);
		assert_null(schema_field_name(s, s->nfields));
		assert_int_equal(FIELDS_ALL & FIELD_REF, 0);
	}
}

/* Apply `edit` (a JSON object merged into sample i) and expect code + text. */
static void
expect_json_error(unsigned i, const char *type, const char *edit,
    const char *drop, int code, const char *needle)
{
	json_t *in = sample_json(i), *patch;
	msgpack_sbuffer sb;
	struct cerr err;
	json_error_t je;

	if (edit != NULL) {
		patch = json_loads(edit, 0, &je);
		assert_non_null(patch);
		assert_int_equal(json_object_update(in, patch), 0);
		json_decref(patch);
	}
	if (drop != NULL)
		assert_int_equal(json_object_del(in, drop), 0);
	msgpack_sbuffer_init(&sb);
	assert_int_equal(encode(in, type, &sb, &err), code);
	assert_int_equal(sb.size, 0); /* nothing appended on error */
	if (strstr(err.msg, needle) == NULL)
		fail_msg("message '%s' does not name '%s'", err.msg, needle);
	msgpack_sbuffer_destroy(&sb);
	json_decref(in);
}

static void
test_bad_json_records_name_the_field(void **state)
{
	char longstr[400];

	(void)state;
	expect_json_error(0, "claim", "{\"amount_eur\":\"25\"}", NULL,
	    CARNET_E_FIELD_TYPE, "amount_eur");
	expect_json_error(0, "claim", NULL, "label", CARNET_E_MISSING_FIELD,
	    "label");
	expect_json_error(0, "claim", "{\"colour\":\"blue\"}", NULL,
	    CARNET_E_UNKNOWN_FIELD, "colour");
	expect_json_error(0, "claim", "{\"type\":\"claimz\"}", NULL,
	    CARNET_E_UNKNOWN_TYPE, "type");
	expect_json_error(0, "claim", "{\"act_code\":true}", NULL,
	    CARNET_E_FIELD_TYPE, "act_code");
	expect_json_error(4, "profile", "{\"allergies\":[[\"x\"]]}", NULL,
	    CARNET_E_TOO_DEEP, "allergies");
	expect_json_error(4, "profile", "{\"allergies\":[1]}", NULL,
	    CARNET_E_FIELD_TYPE, "allergies");
	expect_json_error(4, "profile", "{\"birth_year\":1962.5}", NULL,
	    CARNET_E_FIELD_TYPE, "birth_year");
	expect_json_error(0, "claim", "{\"time\":\"yesterday\"}", NULL,
	    CARNET_E_BAD_VALUE, "time");
	expect_json_error(0, "claim", "{\"time\":\"2017-02-30T00:00:00Z\"}",
	    NULL, CARNET_E_BAD_VALUE, "time");
	expect_json_error(0, "claim", "{\"user\":\"not-an-id\"}", NULL,
	    CARNET_E_BAD_VALUE, "user");
	expect_json_error(0, "claim", NULL, "ref", CARNET_E_MISSING_FIELD,
	    "ref");
	/* a lab result with no result at all, a drug with no code */
	expect_json_error(2, "lab_result", NULL, "value", CARNET_E_MISSING_FIELD,
	    "one of value, value_code or value_text is required");
	expect_json_error(1, "dispense", NULL, "cip13", CARNET_E_MISSING_FIELD,
	    "one of cip13 or drug_code is required");
	expect_json_error(0, "claim", "{\"ref\":\"\"}", NULL,
	    CARNET_E_BAD_VALUE, "ref");
	expect_json_error(0, "dispense", NULL, NULL, CARNET_E_UNKNOWN_FIELD,
	    "dispense: unknown field");
	memset(longstr, 'a', sizeof(longstr));
	longstr[0] = '{';
	memcpy(longstr + 1, "\"label\":\"", 9);
	memcpy(longstr + 380, "\"}", 3);
	expect_json_error(0, "claim", longstr, NULL, CARNET_E_TOO_LONG,
	    "label");
}

/* Encode a claim, then corrupt its bytes; decoding must fail cleanly. */
static void
test_malformed_msgpack_is_refused(void **state)
{
	json_t *in = sample_json(0);
	msgpack_sbuffer sb;
	msgpack_unpacked tree;
	struct record r;
	struct cerr err;
	uint8_t *buf;
	size_t i, n;

	(void)state;
	msgpack_sbuffer_init(&sb);
	assert_int_equal(encode(in, "claim", &sb, &err), 0);
	n = sb.size;
	/* every truncation */
	for (i = 0; i < n; i++)
		assert_int_not_equal(record_decode(sb.data, i, &tree, &r, &err),
		    0);
	/* trailing byte */
	buf = malloc(RECORD_MAX_BYTES + 1);
	assert_non_null(buf);
	memcpy(buf, sb.data, n);
	buf[n] = 0;
	assert_int_equal(record_decode(buf, n + 1, &tree, &r, &err),
	    CARNET_E_TRAILING);
	/* oversized */
	memset(buf, 0xc0, RECORD_MAX_BYTES + 1);
	assert_int_equal(record_decode(buf, RECORD_MAX_BYTES + 1, &tree, &r,
	    &err), CARNET_E_TOO_BIG);
	/* every single-byte change either decodes to a valid record or fails */
	for (i = 0; i < n; i++) {
		int v;

		memcpy(buf, sb.data, n);
		for (v = 0; v < 256; v += 7) {
			buf[i] = (uint8_t)v;
			if (record_decode(buf, n, &tree, &r, &err) == 0)
				msgpack_unpacked_destroy(&tree);
		}
	}
	free(buf);
	msgpack_sbuffer_destroy(&sb);
	json_decref(in);
}

static void
test_deep_nesting_in_msgpack(void **state)
{
	/* {"body": [[[[...]]]]} nested past the record depth */
	uint8_t buf[64];
	size_t n = 0;
	msgpack_unpacked tree;
	struct record r;
	struct cerr err;
	int i;

	(void)state;
	buf[n++] = 0x81;
	buf[n++] = 0xa4;
	memcpy(buf + n, "body", 4);
	n += 4;
	for (i = 0; i < 10; i++)
		buf[n++] = 0x91;
	buf[n++] = 0x01;
	assert_int_equal(record_decode(buf, n, &tree, &r, &err),
	    CARNET_E_TOO_DEEP);
}

static void
test_invalid_utf8_and_bad_envelope(void **state)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_unpacked tree;
	struct record r;
	struct cerr err;

	(void)state;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 6);
	mpk_pack_cstr(&pk, "ref");
	mpk_pack_strn(&pk, "\xc3\x28", 2); /* invalid UTF-8 */
	mpk_pack_cstr(&pk, "user");
	mpk_pack_binn(&pk, user_pk, ID_BYTES);
	mpk_pack_cstr(&pk, "type");
	mpk_pack_cstr(&pk, "context");
	mpk_pack_cstr(&pk, "v");
	msgpack_pack_uint32(&pk, 1);
	mpk_pack_cstr(&pk, "time");
	msgpack_pack_int64(&pk, 0);
	mpk_pack_cstr(&pk, "body");
	msgpack_pack_map(&pk, 0);
	assert_int_equal(record_decode(sb.data, sb.size, &tree, &r, &err),
	    CARNET_E_BAD_VALUE);
	assert_non_null(strstr(err.msg, "ref"));
	msgpack_sbuffer_destroy(&sb);

	assert_true(utf8_valid("caf\xc3\xa9", 5));
	assert_false(utf8_valid("\xc0\xaf", 2));     /* overlong */
	assert_false(utf8_valid("\xed\xa0\x80", 3)); /* surrogate */
	assert_false(utf8_valid("a\0b", 3));
	assert_false(utf8_valid("\xe2\x82", 2));     /* cut */
}

static void
test_schema_docs_are_complete(void **state)
{
	unsigned i, f;

	(void)state;
	for (i = 0; i < schema_count(); i++) {
		const struct schema *s = schema_by_index(i);

		assert_int_equal(s->index, i);
		assert_true(strlen(s->doc) > 10);
		for (f = 0; f < s->nfields; f++) {
			assert_true(strlen(s->fields[f].doc) > 10);
			assert_true(strlen(s->fields[f].name) <=
			    FIELD_NAME_MAX_BYTES);
		}
	}
	assert_null(schema_by_name("nope", 4));
	assert_non_null(schema_by_name("lab_result", 10));
}

static void
test_ids_and_times(void **state)
{
	uint8_t back[ID_BYTES], tok[TOKID_BYTES], tok2[TOKID_BYTES];
	char s[ID_STR_LEN + 1], ts[TOKID_STR_LEN + 1], t[TIME_STR_LEN + 1];
	int64_t when, d;

	(void)state;
	id_encode(user_pk, s);
	assert_int_equal(strlen(s), ID_STR_LEN);
	assert_int_equal(id_decode(s, back), 0);
	assert_memory_equal(back, user_pk, ID_BYTES);
	s[5] = '1'; /* not in the alphabet */
	assert_int_equal(id_decode(s, back), CARNET_E_BAD_VALUE);
	assert_int_equal(id_decode("abc", back), CARNET_E_BAD_VALUE);
	randombytes_buf(tok, sizeof(tok));
	tokid_encode(tok, ts);
	assert_int_equal(tokid_decode(ts, tok2), 0);
	assert_memory_equal(tok, tok2, TOKID_BYTES);
	assert_int_equal(tokid_decode("zz", tok2), CARNET_E_BAD_VALUE);
	assert_int_equal(time_parse("2017-03-02T10:00:00Z", &when), 0);
	assert_int_equal(when, 1488448800);
	assert_int_equal(time_parse("2017-03-02T12:00:00+02:00", &when), 0);
	assert_int_equal(when, 1488448800);
	assert_int_equal(time_parse("2017-03-02", &when), 0);
	assert_int_equal(when, 1488412800);
	time_format(1488448800, t);
	assert_string_equal(t, "2017-03-02T10:00:00Z");
	assert_int_equal(time_parse("2017-13-01", &when), CARNET_E_BAD_VALUE);
	assert_int_equal(time_parse("2017-03-02T10:00:00Zjunk", &when),
	    CARNET_E_BAD_VALUE);
	assert_int_equal(duration_parse("30d", &d), 0);
	assert_int_equal(d, 30 * 86400);
	assert_int_equal(duration_parse("1y", &d), 0);
	assert_int_equal(duration_parse("5x", &d), CARNET_E_BAD_VALUE);
	assert_int_equal(duration_parse("-5d", &d), CARNET_E_BAD_VALUE);
	assert_int_equal(duration_parse("99999999999y", &d),
	    CARNET_E_BAD_VALUE);
}

/*
 * Every time carnet takes it writes with four digits of year and reads
 * back, years 0001 to 9999; nothing outside, even through an offset.
 */
static void
test_times_of_years_1_to_9999_round_trip(void **state)
{
	static const char *const edges[] = {
		"0001-01-01T00:00:00Z", "0099-12-31T23:59:59Z",
		"0999-06-15T12:00:00Z", "1969-12-31T23:59:59Z",
		"9999-12-31T23:59:59Z",
	};
	char t[TIME_STR_LEN + 1];
	int64_t when, back;
	size_t i;

	(void)state;
	assert_int_equal(time_parse(edges[0], &when), 0);
	assert_int_equal(when, TIME_MIN);
	assert_int_equal(time_parse(edges[4], &when), 0);
	assert_int_equal(when, TIME_MAX);
	for (i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
		assert_int_equal(time_parse(edges[i], &when), 0);
		time_format(when, t);
		assert_string_equal(t, edges[i]);
		assert_int_equal(time_parse(t, &back), 0);
		assert_int_equal(back, when);
	}
	assert_int_equal(time_parse("0001-01-01", &when), 0);
	time_format(when, t);
	assert_string_equal(t, "0001-01-01T00:00:00Z");
	assert_int_equal(time_parse("0000-12-31", &when), CARNET_E_BAD_VALUE);
	assert_int_equal(time_parse("1-01-01T00:00:00Z", &when),
	    CARNET_E_BAD_VALUE);
	assert_int_equal(time_parse("0001-01-01T00:00:00+00:01", &when),
	    CARNET_E_BAD_VALUE);
	assert_int_equal(time_parse("9999-12-31T23:59:59-00:01", &when),
	    CARNET_E_BAD_VALUE);
	assert_int_equal(time_parse("0001-01-01T00:00:00-00:01", &when), 0);
	assert_int_equal(when, TIME_MIN + 60);
	assert_true(time_in_range(TIME_MIN) && time_in_range(TIME_MAX));
	assert_false(time_in_range(TIME_MIN - 1) ||
	    time_in_range(TIME_MAX + 1));
	/* out of range, a time is written as its seconds, never as a date */
	time_format(TIME_MAX + 1, t);
	assert_string_equal(t, "253402300800");
	time_format(INT64_MIN, t);
	assert_string_equal(t, "-9223372036854775808");
}

/* A record's time out of range is refused wherever it comes from: JSON
 * (a date or seconds) or msgpack. */
static void
test_record_time_out_of_range_is_refused(void **state)
{
	const struct schema *claim = schema_by_name("claim", 5);
	msgpack_sbuffer sb, out;
	msgpack_packer pk;
	msgpack_unpacked tree;
	struct record r;
	struct cerr err = {0};
	char line[400];
	static const char *const times[] = {
		"\"0000-12-31T00:00:00Z\"", "-62135596801", "253402300800",
	};
	size_t i;

	(void)state;
	msgpack_sbuffer_init(&sb);
	msgpack_sbuffer_init(&out);
	msgpack_packer_init(&pk, &out, msgpack_sbuffer_write);
	for (i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		snprintf(line, sizeof(line), "{\"user\":\"%s\",\"ref\":\"r\","
		    "\"time\":%s,\"act_code\":\"C\",\"label\":\"x\","
		    "\"practitioner\":\"gp\"}", user_id, times[i]);
		assert_int_equal(recjson_encode_line(line, strlen(line), claim,
		    &sb, &err), CARNET_E_BAD_VALUE);
		assert_non_null(strstr(cerr_msg(&err), TIME_RANGE_TEXT));
	}
	snprintf(line, sizeof(line), "{\"user\":\"%s\",\"ref\":\"r\","
	    "\"time\":-62135596800,\"act_code\":\"C\",\"label\":\"x\","
	    "\"practitioner\":\"gp\"}", user_id);
	assert_int_equal(recjson_encode_line(line, strlen(line), claim, &sb,
	    &err), 0);
	assert_int_equal(record_decode(sb.data, sb.size, &tree, &r, &err), 0);
	r.time = TIME_MIN - 1;
	record_pack(&pk, &r, FIELDS_ALL);
	msgpack_unpacked_destroy(&tree);
	assert_int_equal(record_decode(out.data, out.size, &tree, &r, &err),
	    CARNET_E_BAD_VALUE);
	assert_string_equal(cerr_msg(&err), "envelope time: -62135596801 is "
	    "outside the times carnet takes, " TIME_RANGE_TEXT);
	msgpack_sbuffer_destroy(&out);
	msgpack_sbuffer_destroy(&sb);
}

/* Every field of every type is found from every starting point; no other. */
static void
test_field_lookup_from_any_start(void **state)
{
	unsigned t, f, from;

	(void)state;
	for (t = 0; t < schema_count(); t++) {
		const struct schema *s = schema_by_index(t);

		assert_int_equal(s->name_len, strlen(s->name));
		for (from = 0; from <= s->nfields; from++) {
			for (f = 0; f < s->nfields; f++) {
				const char *n = s->fields[f].name;

				assert_int_equal(s->fields[f].name_len,
				    strlen(n));
				assert_int_equal(schema_field_from(s, n,
				    strlen(n), from), (int)f);
			}
			assert_int_equal(schema_field_from(s, "no_such", 7,
			    from), -1);
			/* a prefix of a name is not that name */
			assert_int_equal(schema_field_from(s, s->fields[0].name,
			    s->fields[0].name_len - 1, from), -1);
		}
		assert_ptr_equal(schema_by_name(s->name, s->name_len), s);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_type_round_trips_through_json),
		cmocka_unit_test(test_field_lookup_from_any_start),
		cmocka_unit_test(test_pack_with_holder_round_trips),
		cmocka_unit_test(test_minimisation_keeps_exactly_the_listed_fields),
		cmocka_unit_test(test_byte_copy_minimisation_equals_pack),
		cmocka_unit_test(test_an_app_sees_an_opaque_ref_unless_granted_ref),
		cmocka_unit_test(test_the_ref_base_is_before_the_last_at),
		cmocka_unit_test(test_ref_is_a_pseudo_field_of_every_type),
		cmocka_unit_test(test_bad_json_records_name_the_field),
		cmocka_unit_test(test_malformed_msgpack_is_refused),
		cmocka_unit_test(test_deep_nesting_in_msgpack),
		cmocka_unit_test(test_invalid_utf8_and_bad_envelope),
		cmocka_unit_test(test_schema_docs_are_complete),
		cmocka_unit_test(test_ids_and_times),
		cmocka_unit_test(test_times_of_years_1_to_9999_round_trip),
		cmocka_unit_test(test_record_time_out_of_range_is_refused),
	};

	return cmocka_run_group_tests_name("record", tests, setup, NULL);
}
