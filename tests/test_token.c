/*
 * test_token.c: consent tokens, revocations, the consent check and key
 * files.
 */
#include "testutil.h"

#include <sys/stat.h>

#include <sodium.h>

#include "../common/mpk.h"
#include "../policy/consent.h"
#include "../policy/key.h"

static struct keypair user, other, app, holder, holder2;
static struct party app_party;
static const int64_t NOW = 1700000000;

static const struct schema *
T(const char *n)
{
	return schema_by_name(n, strlen(n));
}

static uint64_t
F(const char *type, const char *field)
{
	return UINT64_C(1) << schema_field(T(type), field, strlen(field));
}

static int
setup(void **state)
{
	(void)state;
	assert_int_equal(key_generate(&user), 0);
	assert_int_equal(key_generate(&other), 0);
	assert_int_equal(key_generate(&app), 0);
	assert_int_equal(key_generate(&holder), 0);
	assert_int_equal(key_generate(&holder2), 0);
	memset(&app_party, 0, sizeof(app_party));
	memcpy(app_party.id, app.pk, ID_BYTES);
	app_party.role = ROLE_APP;
	strcpy(app_party.name, "budget");
	app_party.npurposes = 1;
	strcpy(app_party.purposes[0], "budget");
	return 0;
}

/* A token: claim (act_code, amount_eur) and lab_result (all), from holder. */
static void
make_token(struct token *t)
{
	memset(t, 0, sizeof(*t));
	token_new_id(t);
	memcpy(t->user, user.pk, ID_BYTES);
	memcpy(t->app, app.pk, ID_BYTES);
	t->nholders = 1;
	memcpy(t->holders[0], holder.pk, ID_BYTES);
	t->ntypes = 2;
	t->types[0].type = T("claim");
	t->types[0].fields = F("claim", "act_code") | F("claim", "amount_eur");
	t->types[0].fields_listed = true;
	t->types[1].type = T("lab_result");
	t->types[1].fields = FIELDS_ALL;
	strcpy(t->purpose, "budget");
	t->since = NOW - 86400 * 365;
	t->not_before = NOW - 60;
	t->expires = NOW + 86400;
	t->issued = NOW - 60;
}

static void
test_sign_and_open_round_trip(void **state)
{
	struct token t, back;
	struct cerr err;
	uint8_t *blob;
	size_t len;

	(void)state;
	make_token(&t);
	assert_int_equal(token_sign(&t, user.sk, &blob, &len, &err), 0);
	assert_int_equal(token_open(blob, len, &back, &err), 0);
	assert_memory_equal(back.id, t.id, TOKID_BYTES);
	assert_memory_equal(back.user, user.pk, ID_BYTES);
	assert_memory_equal(back.app, app.pk, ID_BYTES);
	assert_false(back.any_holder);
	assert_int_equal(back.nholders, 1);
	assert_int_equal(back.ntypes, 2);
	assert_ptr_equal(back.types[0].type, T("claim"));
	assert_true(back.types[0].fields == t.types[0].fields);
	assert_true(back.types[1].fields == FIELDS_ALL);
	assert_string_equal(back.purpose, "budget");
	assert_int_equal(back.expires, t.expires);
	assert_int_equal(back.since, t.since);
	free(blob);
}

/* Bits past a type's fields mean nothing: the token lists its own only
 * (and ref, the last bit: every bit is every field and the holder's ref). */
static void
test_fields_mask_past_the_type(void **state)
{
	struct token t, back;
	struct cerr err;
	uint8_t *blob;
	size_t len;

	(void)state;
	make_token(&t);
	t.types[0].fields = ~F("claim", "provider"); /* every bit but one */
	assert_int_equal(token_sign(&t, user.sk, &blob, &len, &err), 0);
	assert_int_equal(token_open(blob, len, &back, &err), 0);
	assert_true(back.types[0].fields_listed);
	assert_true(back.types[0].fields ==
	    ((((UINT64_C(1) << T("claim")->nfields) - 1) & ~F("claim",
	    "provider")) | FIELD_REF));
	free(blob);
}

static void
test_every_flipped_byte_is_refused(void **state)
{
	struct token t, back;
	struct cerr err;
	uint8_t *blob;
	size_t len, i;

	(void)state;
	make_token(&t);
	assert_int_equal(token_sign(&t, user.sk, &blob, &len, &err), 0);
	for (i = 0; i < len; i++) {
		blob[i] ^= 0x01;
		assert_int_not_equal(token_open(blob, len, &back, &err), 0);
		blob[i] ^= 0x01;
	}
	assert_int_equal(token_open(blob, len, &back, &err), 0);
	free(blob);
}

static void
test_token_signed_by_another_key(void **state)
{
	struct token t, back;
	struct cerr err;
	uint8_t *blob;
	size_t len;

	(void)state;
	make_token(&t);
	/* token_sign itself refuses to sign for someone else */
	assert_int_equal(token_sign(&t, other.sk, &blob, &len, &err),
	    CARNET_E_WRONG_USER);
	/* a forger signs the payload with their own key */
	assert_int_equal(token_sign(&t, user.sk, &blob, &len, &err), 0);
	crypto_sign_detached(blob, NULL, blob + SIG_BYTES, len - SIG_BYTES,
	    other.sk);
	assert_int_equal(token_open(blob, len, &back, &err),
	    CARNET_E_BAD_SIGNATURE);
	free(blob);
}

static void
test_widened_scope_breaks_the_signature(void **state)
{
	struct token t, wide, back;
	struct cerr err;
	uint8_t *blob, *wblob;
	size_t len, wlen;

	(void)state;
	make_token(&t);
	assert_int_equal(token_sign(&t, user.sk, &blob, &len, &err), 0);
	wide = t;
	wide.types[0].fields = FIELDS_ALL;
	wide.types[0].fields_listed = false;
	wide.any_holder = true;
	assert_int_equal(token_sign(&wide, user.sk, &wblob, &wlen, &err), 0);
	/* the wider payload under the original signature */
	memcpy(wblob, blob, SIG_BYTES);
	assert_int_equal(token_open(wblob, wlen, &back, &err),
	    CARNET_E_BAD_SIGNATURE);
	free(blob);
	free(wblob);
}

/* Sign arbitrary payload bytes as the user, then open them (into back,
 * when not NULL). */
static int
open_signed(msgpack_sbuffer *sb, struct token *back, struct cerr *err)
{
	uint8_t *blob = malloc(SIG_BYTES + sb->size);
	struct token t;
	int rc;

	assert_non_null(blob);
	memcpy(blob + SIG_BYTES, sb->data, sb->size);
	crypto_sign_detached(blob, NULL, blob + SIG_BYTES, sb->size, user.sk);
	rc = token_open(blob, SIG_BYTES + sb->size, back ? back : &t, err);
	free(blob);
	return rc;
}

static int
open_raw(msgpack_sbuffer *sb, struct cerr *err)
{
	return open_signed(sb, NULL, err);
}

/* A claim-only payload whose fields are the names given, signed and opened. */
static int
open_fields(const char *const *names, unsigned n, struct token *back,
    struct cerr *err)
{
	struct tu_buf b;
	uint8_t id[TOKID_BYTES] = {1};
	unsigned i;
	int rc;

	tu_buf_init(&b);
	msgpack_pack_map(&b.pk, 12);
	mpk_pack_cstr(&b.pk, "kind"); mpk_pack_cstr(&b.pk, "consent");
	mpk_pack_cstr(&b.pk, "v"); msgpack_pack_uint32(&b.pk, 1);
	mpk_pack_cstr(&b.pk, "id"); mpk_pack_binn(&b.pk, id, TOKID_BYTES);
	mpk_pack_cstr(&b.pk, "user"); mpk_pack_binn(&b.pk, user.pk, ID_BYTES);
	mpk_pack_cstr(&b.pk, "app"); mpk_pack_binn(&b.pk, app.pk, ID_BYTES);
	mpk_pack_cstr(&b.pk, "holders"); msgpack_pack_nil(&b.pk);
	mpk_pack_cstr(&b.pk, "types");
	msgpack_pack_array(&b.pk, 1);
	msgpack_pack_map(&b.pk, 2);
	mpk_pack_cstr(&b.pk, "type"); mpk_pack_cstr(&b.pk, "claim");
	mpk_pack_cstr(&b.pk, "fields");
	msgpack_pack_array(&b.pk, n);
	for (i = 0; i < n; i++)
		mpk_pack_cstr(&b.pk, names[i]);
	mpk_pack_cstr(&b.pk, "purpose"); mpk_pack_cstr(&b.pk, "budget");
	mpk_pack_cstr(&b.pk, "since"); msgpack_pack_int64(&b.pk, 0);
	mpk_pack_cstr(&b.pk, "not_before"); msgpack_pack_int64(&b.pk, 0);
	mpk_pack_cstr(&b.pk, "expires"); msgpack_pack_int64(&b.pk, 0);
	mpk_pack_cstr(&b.pk, "issued"); msgpack_pack_int64(&b.pk, 0);
	rc = open_signed(&b.sb, back, err);
	tu_buf_release(&b);
	return rc;
}

static void
test_signed_but_invalid_payloads(void **state)
{
	static const char *const colour[] = {"colour"};
	struct tu_buf b;
	struct token back;
	struct cerr err;

	(void)state;
	/* an unknown field for claim */
	assert_int_equal(open_fields(colour, 1, &back, &err),
	    CARNET_E_UNKNOWN_FIELD);

	/* keys missing */
	tu_buf_init(&b);
	msgpack_pack_map(&b.pk, 1);
	mpk_pack_cstr(&b.pk, "kind"); mpk_pack_cstr(&b.pk, "consent");
	assert_int_equal(open_raw(&b.sb, &err), CARNET_E_MISSING_FIELD);

	/* nesting past the token depth */
	tu_buf_reset(&b);
	msgpack_pack_array(&b.pk, 1);
	msgpack_pack_array(&b.pk, 1);
	msgpack_pack_array(&b.pk, 1);
	msgpack_pack_array(&b.pk, 1);
	msgpack_pack_array(&b.pk, 1);
	msgpack_pack_nil(&b.pk);
	assert_int_equal(open_raw(&b.sb, &err), CARNET_E_TOO_DEEP);
	tu_buf_release(&b);
}

static void
test_size_bounds(void **state)
{
	uint8_t small[10] = {0}, *big;
	struct token t;
	struct revocation rv;
	struct cerr err;

	(void)state;
	assert_int_equal(token_open(small, sizeof(small), &t, &err),
	    CARNET_E_TRUNCATED);
	big = calloc(1, TOKEN_MAX_BYTES + 1);
	assert_non_null(big);
	assert_int_equal(token_open(big, TOKEN_MAX_BYTES + 1, &t, &err),
	    CARNET_E_TOO_BIG);
	assert_int_equal(revocation_open(big, 1000, &rv, &err),
	    CARNET_E_TOO_BIG);
	free(big);
}

static struct consent_query
query(const char *type, const uint8_t *h, int64_t rtime, int64_t now)
{
	struct consent_query q = {
		.app = &app_party, .user = user.pk, .holder = h,
		.type = T(type), .record_time = rtime, .now = now,
	};

	return q;
}

static void
test_consent_check(void **state)
{
	struct token t;
	struct consent_query q;
	struct party stranger_app = app_party, purposeless = app_party;
	uint64_t fields = 0;

	(void)state;
	make_token(&t);
	q = query("claim", holder.pk, NOW - 3600, NOW);
	assert_int_equal(consent_check(&t, &q, &fields), 0);
	assert_true(fields == (F("claim", "act_code") | F("claim", "amount_eur")));
	q = query("lab_result", holder.pk, NOW - 3600, NOW);
	assert_int_equal(consent_check(&t, &q, &fields), 0);
	assert_true(fields == FIELDS_ALL);

	q = query("claim", holder.pk, NOW - 3600, t.expires);
	assert_int_equal(consent_check(&t, &q, &fields), CARNET_E_EXPIRED);
	q = query("claim", holder.pk, NOW - 3600, t.not_before - 1);
	assert_int_equal(consent_check(&t, &q, &fields), CARNET_E_NOT_YET_VALID);
	q = query("claim", holder2.pk, NOW - 3600, NOW);
	assert_int_equal(consent_check(&t, &q, &fields), CARNET_E_NOT_COVERED);
	q = query("dispense", holder.pk, NOW - 3600, NOW);
	assert_int_equal(consent_check(&t, &q, &fields), CARNET_E_NOT_COVERED);
	q = query("claim", holder.pk, t.since - 1, NOW);
	assert_int_equal(consent_check(&t, &q, &fields), CARNET_E_TOO_OLD);
	q = query("claim", holder.pk, NOW - 3600, NOW);
	q.user = other.pk;
	assert_int_equal(consent_check(&t, &q, &fields), CARNET_E_WRONG_USER);
	memcpy(stranger_app.id, other.pk, ID_BYTES);
	q = query("claim", holder.pk, NOW - 3600, NOW);
	q.app = &stranger_app;
	assert_int_equal(consent_check(&t, &q, &fields), CARNET_E_WRONG_APP);
	strcpy(purposeless.purposes[0], "advertising");
	q.app = &purposeless;
	assert_int_equal(consent_check(&t, &q, &fields), CARNET_E_PURPOSE);

	/* any holder, no end */
	t.any_holder = true;
	t.expires = 0;
	q = query("claim", holder2.pk, NOW - 3600, NOW + 86400 * 3650);
	assert_int_equal(consent_check(&t, &q, &fields), 0);

	/* no since: every record, of year 1 (before 1970) as of year 9999 */
	t.since = 0;
	q = query("claim", holder.pk, TIME_MIN, NOW);
	assert_int_equal(consent_check(&t, &q, &fields), 0);
	q = query("claim", holder.pk, -1, NOW);
	assert_int_equal(consent_check(&t, &q, &fields), 0);
	q = query("claim", holder.pk, TIME_MAX, NOW);
	assert_int_equal(consent_check(&t, &q, &fields), 0);
	/* a since before 1970 still bounds it */
	t.since = -86400;
	q = query("claim", holder.pk, -86401, NOW);
	assert_int_equal(consent_check(&t, &q, &fields), CARNET_E_TOO_OLD);
	q = query("claim", holder.pk, -86400, NOW);
	assert_int_equal(consent_check(&t, &q, &fields), 0);
}


/*
 * The holder's ref is granted as the pseudo-field "ref" (security issue
 * 30, item 3): listed, it is FIELD_REF in the mask, signed as "ref" and
 * given by the consent check; a consent listing no fields (every field)
 * does not grant it, even from a mask with every bit set.
 */
static void
test_ref_is_granted_only_when_listed(void **state)
{
	static const char *const with_ref[] = {"amount_eur", "ref"};
	static const char *const twice[] = {"ref", "amount_eur", "ref"};
	static const char *const only_ref[] = {"ref"};
	struct token t, back;
	struct consent_query q;
	struct cerr err;
	uint64_t fields;
	uint8_t *blob;
	size_t len;

	(void)state;
	/* listed: signed as "ref", read back, granted */
	make_token(&t);
	t.types[0].fields = F("claim", "amount_eur") | FIELD_REF;
	assert_int_equal(token_sign(&t, user.sk, &blob, &len, &err), 0);
	assert_true(tu_holds(blob, len, "\xa3ref"));
	assert_int_equal(token_open(blob, len, &back, &err), 0);
	assert_true(back.types[0].fields == (F("claim", "amount_eur") |
	    FIELD_REF));
	assert_true(token_same_scope(&t, &back));
	free(blob);
	q = query("claim", holder.pk, NOW - 3600, NOW);
	assert_int_equal(consent_check(&back, &q, &fields), 0);
	assert_true(fields == (F("claim", "amount_eur") | FIELD_REF));
	/* not listed: the body's fields only */
	t.types[0].fields = F("claim", "amount_eur");
	assert_false(token_same_scope(&t, &back));
	assert_int_equal(consent_check(&t, &q, &fields), 0);
	assert_true(fields == F("claim", "amount_eur"));
	/* every field: the body's, not the holder's ref */
	q = query("lab_result", holder.pk, NOW - 3600, NOW);
	assert_int_equal(consent_check(&t, &q, &fields), 0);
	assert_true(fields == FIELDS_ALL && !(fields & FIELD_REF));
	t.types[1].fields = UINT64_MAX; /* a mask set whole, not listed */
	assert_int_equal(consent_check(&t, &q, &fields), 0);
	assert_true(fields == FIELDS_ALL);
	assert_int_equal(token_sign(&t, user.sk, &blob, &len, &err), 0);
	assert_int_equal(token_open(blob, len, &back, &err), 0);
	assert_false(back.types[1].fields_listed);
	assert_true(back.types[1].fields == FIELDS_ALL);
	free(blob);
	/* the payload as a person's client writes it */
	assert_int_equal(open_fields(with_ref, 2, &back, &err), 0);
	assert_true(back.types[0].fields == (F("claim", "amount_eur") |
	    FIELD_REF));
	assert_int_equal(open_fields(only_ref, 1, &back, &err), 0);
	assert_true(back.types[0].fields == FIELD_REF);
	assert_int_equal(open_fields(twice, 3, &back, &err),
	    CARNET_E_DUPLICATE);
	assert_non_null(strstr(err.msg, "ref listed twice"));
}

static void
test_revocation(void **state)
{
	struct revocation rv = {0}, back;
	struct cerr err;
	uint8_t *blob;
	size_t len;

	(void)state;
	randombytes_buf(rv.token, TOKID_BYTES);
	memcpy(rv.user, user.pk, ID_BYTES);
	rv.time = NOW;
	assert_int_equal(revocation_sign(&rv, other.sk, &blob, &len, &err),
	    CARNET_E_WRONG_USER);
	assert_int_equal(revocation_sign(&rv, user.sk, &blob, &len, &err), 0);
	assert_int_equal(revocation_open(blob, len, &back, &err), 0);
	assert_memory_equal(back.token, rv.token, TOKID_BYTES);
	assert_int_equal(back.time, NOW);
	/* a revocation signed by someone else */
	crypto_sign_detached(blob, NULL, blob + SIG_BYTES, len - SIG_BYTES,
	    other.sk);
	assert_int_equal(revocation_open(blob, len, &back, &err),
	    CARNET_E_BAD_SIGNATURE);
	/* a token is not a revocation, and the other way round */
	{
		struct token t, tb;
		uint8_t *tblob;
		size_t tlen;

		make_token(&t);
		assert_int_equal(token_sign(&t, user.sk, &tblob, &tlen, &err), 0);
		assert_int_not_equal(revocation_open(tblob, tlen, &back, &err),
		    0);
		free(blob);
		assert_int_equal(revocation_sign(&rv, user.sk, &blob, &len,
		    &err), 0);
		assert_int_not_equal(token_open(blob, len, &tb, &err), 0);
		free(tblob);
	}
	free(blob);
}

static void
test_key_files(void **state)
{
	char *dir = tu_tmpdir(), path[256];
	struct keypair kp, back;
	struct cerr err;
	uint8_t cpk[32], csk[32];
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/alice.key", dir);
	assert_int_equal(key_generate(&kp), 0);
	assert_int_equal(key_write(path, &kp, &err), 0);
	assert_int_equal(key_write(path, &kp, &err), CARNET_E_EXISTS);
	assert_int_equal(key_read(path, &back, &err), 0);
	assert_memory_equal(back.pk, kp.pk, ID_BYTES);
	assert_memory_equal(back.sk, kp.sk, 64);
	assert_int_equal(key_curve(&back, cpk, csk), 0);
	key_wipe(&back);
	{
		static const uint8_t zero[sizeof(back)];

		assert_memory_equal(&back, zero, sizeof(back));
	}
	/* loose permissions are refused */
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(key_read(path, &back, &err), CARNET_E_KEY_PERMS);
	assert_non_null(strstr(err.msg, "chmod 600"));
	assert_int_equal(chmod(path, 0600), 0);
	/* damaged contents */
	snprintf(path, sizeof(path), "%s/bad.key", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("public abc\nseed 00\n", f);
	fclose(f);
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(key_read(path, &back, &err), CARNET_E_MALFORMED);
	snprintf(path, sizeof(path), "%s/missing.key", dir);
	assert_int_equal(key_read(path, &back, &err), CARNET_E_NOT_FOUND);
	tu_rmtree(&dir);
}

/* A delegate signs a token naming the person: it verifies against the
 * delegate's key, and "by" cannot be dropped or swapped after signing. */
static void
test_delegate_signed_token(void **state)
{
	struct token t, back;
	struct cerr err = {0};
	uint8_t *blob, *blob2;
	size_t len, len2;

	(void)state;
	make_token(&t);
	t.has_by = true;
	memcpy(t.by, other.pk, ID_BYTES);
	/* the person's own key is not the signer this token names */
	assert_int_equal(token_sign(&t, user.sk, &blob, &len, &err),
	    CARNET_E_WRONG_USER);
	assert_int_equal(token_sign(&t, other.sk, &blob, &len, &err), 0);
	assert_int_equal(token_open(blob, len, &back, &err), 0);
	assert_true(back.has_by);
	assert_memory_equal(back.by, other.pk, ID_BYTES);
	assert_memory_equal(back.user, user.pk, ID_BYTES);
	assert_true(token_same_scope(&t, &back));
	/* the same payload without "by", under the delegate's signature */
	t.has_by = false;
	assert_int_equal(token_sign(&t, user.sk, &blob2, &len2, &err), 0);
	memcpy(blob2, blob, SIG_BYTES);
	assert_int_equal(token_open(blob2, len2, &back, &err),
	    CARNET_E_BAD_SIGNATURE);
	free(blob);
	free(blob2);
}

static void
test_same_scope_ignores_only_the_end(void **state)
{
	struct token a, b;

	(void)state;
	make_token(&a);
	b = a;
	b.expires = a.expires + 3600;
	b.issued = a.issued + 10;
	assert_true(token_same_scope(&a, &b));
	b.types[0].fields |= F("claim", "label");
	assert_false(token_same_scope(&a, &b));
	b = a;
	strcpy(b.purpose, "marketing");
	assert_false(token_same_scope(&a, &b));
	b = a;
	b.any_holder = true;
	b.nholders = 0;
	assert_false(token_same_scope(&a, &b));
}

static void
test_delegation_round_trip_and_tamper(void **state)
{
	struct delegation d, back;
	struct cerr err = {0};
	uint8_t *blob;
	size_t len, i;

	(void)state;
	memset(&d, 0, sizeof(d));
	randombytes_buf(d.id, sizeof(d.id));
	memcpy(d.user, user.pk, ID_BYTES);
	memcpy(d.to, other.pk, ID_BYTES);
	d.scope = DELEG_MANAGE;
	d.ntypes = 1;
	d.types[0] = T("claim");
	d.expires = NOW + 86400;
	d.issued = NOW;
	assert_int_equal(delegation_sign(&d, other.sk, &blob, &len, &err),
	    CARNET_E_WRONG_USER);
	assert_int_equal(delegation_sign(&d, user.sk, &blob, &len, &err), 0);
	assert_int_equal(delegation_open(blob, len, &back, &err), 0);
	assert_int_equal(back.scope, DELEG_MANAGE);
	assert_true(delegation_has_type(&back, T("claim")));
	assert_false(delegation_has_type(&back, T("lab_result")));
	assert_int_equal(back.expires, d.expires);
	for (i = 0; i < len; i++) {
		blob[i] ^= 0x20;
		assert_int_not_equal(delegation_open(blob, len, &back, NULL), 0);
		blob[i] ^= 0x20;
	}
	free(blob);
	/* to oneself is refused; no types means every type */
	memcpy(d.to, user.pk, ID_BYTES);
	assert_int_equal(delegation_sign(&d, user.sk, &blob, &len, &err), 0);
	assert_int_equal(delegation_open(blob, len, &back, &err),
	    CARNET_E_BAD_VALUE);
	free(blob);
	memcpy(d.to, other.pk, ID_BYTES);
	d.ntypes = 0;
	assert_int_equal(delegation_sign(&d, user.sk, &blob, &len, &err), 0);
	assert_int_equal(delegation_open(blob, len, &back, &err), 0);
	assert_true(delegation_has_type(&back, T("lab_result")));
	free(blob);
}

static void
test_revocation_by_a_delegate(void **state)
{
	struct revocation rv, back;
	struct cerr err = {0};
	uint8_t *blob;
	size_t len;

	(void)state;
	memset(&rv, 0, sizeof(rv));
	memcpy(rv.user, user.pk, ID_BYTES);
	rv.has_by = true;
	memcpy(rv.by, other.pk, ID_BYTES);
	rv.time = NOW;
	assert_int_equal(revocation_sign(&rv, user.sk, &blob, &len, &err),
	    CARNET_E_WRONG_USER);
	assert_int_equal(revocation_sign(&rv, other.sk, &blob, &len, &err), 0);
	assert_int_equal(revocation_open(blob, len, &back, &err), 0);
	assert_true(back.has_by);
	assert_memory_equal(back.by, other.pk, ID_BYTES);
	free(blob);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sign_and_open_round_trip),
		cmocka_unit_test(test_fields_mask_past_the_type),
		cmocka_unit_test(test_every_flipped_byte_is_refused),
		cmocka_unit_test(test_token_signed_by_another_key),
		cmocka_unit_test(test_widened_scope_breaks_the_signature),
		cmocka_unit_test(test_signed_but_invalid_payloads),
		cmocka_unit_test(test_size_bounds),
		cmocka_unit_test(test_consent_check),
		cmocka_unit_test(test_ref_is_granted_only_when_listed),
		cmocka_unit_test(test_revocation),
		cmocka_unit_test(test_key_files),
		cmocka_unit_test(test_delegate_signed_token),
		cmocka_unit_test(test_same_scope_ignores_only_the_end),
		cmocka_unit_test(test_delegation_round_trip_and_tamper),
		cmocka_unit_test(test_revocation_by_a_delegate),
	};

	return cmocka_run_group_tests_name("token", tests, setup, NULL);
}
