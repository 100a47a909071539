/*
 * brokerops.h: what a test does against the real carnetd (header-only,
 * tests only): the broker under test, its parties, connecting as one of
 * them, pushing records, granting and revoking consents, the broker's
 * memory.  Shared by test_broker.c and test_hostile.c.
 */
#ifndef CARNET_BROKEROPS_H
#define CARNET_BROKEROPS_H

#include "brokerfx.h"

#include <time.h>

#include "../client/client.h"
#include "../common/mpk.h"
#include "../policy/uselog.h"
#include "../schemas/recjson.h"

static struct broker br;
static struct keypair alice, bob, mgen, lab, budget, other, stranger, op;

static void
add_party(struct keypair *kp, enum party_role role, const char *name,
    const char *types, const char *purpose)
{
	add_party_in(br.dir, kp, role, name, types, purpose);
}

static int
group_setup(void **state)
{
	(void)state;
	alarm(300); /* a hung broker fails the run instead of blocking it */
	assert_true(sodium_init() >= 0);
	assert_int_equal(key_generate(&alice), 0);
	assert_int_equal(key_generate(&bob), 0);
	assert_int_equal(key_generate(&mgen), 0);
	assert_int_equal(key_generate(&lab), 0);
	assert_int_equal(key_generate(&budget), 0);
	assert_int_equal(key_generate(&other), 0);
	assert_int_equal(key_generate(&stranger), 0);
	assert_int_equal(key_generate(&op), 0);
	return 0;
}

static int
setup(void **state)
{
	(void)state;
	br.dir = tu_tmpdir();
	broker_start(&br);
	add_party(&alice, ROLE_USER, "alice", NULL, NULL);
	add_party(&bob, ROLE_USER, "bob", NULL, NULL);
	add_party(&mgen, ROLE_HOLDER, "mgen", "claim,dispense", NULL);
	add_party(&lab, ROLE_HOLDER, "lab", "claim,lab_result", NULL);
	add_party(&budget, ROLE_APP, "budget", NULL, "budget");
	add_party(&other, ROLE_APP, "other", NULL, "budget");
	add_party(&op, ROLE_OPERATOR, "operator", NULL, NULL);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	broker_stop(&br);
	tu_rmtree(&br.dir);
	return 0;
}

static struct client *
connect_as(const struct keypair *kp)
{
	struct client *c;
	struct cerr err = {0};

	assert_int_equal(client_new(br.endpoint, br.id, kp, &c, &err), 0);
	if (client_wait_ready(c, 5000, &err) != 0)
		fail_msg("connect: %s", cerr_msg(&err));
	return c;
}

/* Every entry of person's log, read with LOG page by page, given to fn. */
static inline void
log_each(const struct keypair *person,
    void (*fn)(const struct uselog_entry *, void *), void *arg)
{
	struct client *c = connect_as(person);
	struct cerr err = {0};
	msgpack_unpacked reply;
	uint64_t from = 1;
	bool more = true;

	while (more) {
		const msgpack_object *ents, *mo;
		msgpack_packer *pk = client_begin(c, 1);
		uint32_t i;

		mpk_pack_cstr(pk, "from");
		msgpack_pack_uint64(pk, from);
		assert_int_equal(client_call(c, "LOG", &reply, &err), 0);
		ents = mpk_get(&reply.data, "entries");
		for (i = 0; i < ents->via.array.size; i++) {
			struct uselog_entry e;

			assert_int_equal(uselog_decode(
			    ents->via.array.ptr[i].via.bin.ptr,
			    ents->via.array.ptr[i].via.bin.size, &e, NULL), 0);
			from = e.seq + 1;
			fn(&e, arg);
		}
		mo = mpk_get(&reply.data, "more");
		more = mo != NULL && mo->type == MSGPACK_OBJECT_BOOLEAN &&
		    mo->via.boolean && ents->via.array.size > 0;
		msgpack_unpacked_destroy(&reply);
	}
	client_destroy(&c);
}

/* CREDIT n to c's feed. */
static inline void
credit(struct client *c, uint64_t n)
{
	struct cerr err = {0};
	msgpack_packer *pk = client_begin(c, 1);

	mpk_pack_cstr(pk, "n");
	msgpack_pack_uint64(pk, n);
	assert_int_equal(client_send(c, "CREDIT", &err), 0);
}

/* A connection as app, subscribed, with n credit (0: none yet). */
static inline struct client *
feed_with_credit(const struct keypair *app, uint64_t n)
{
	struct client *c = connect_as(app);
	struct cerr err = {0};
	msgpack_unpacked reply;

	client_begin(c, 0);
	assert_int_equal(client_call(c, "SUB", &reply, &err), 0);
	msgpack_unpacked_destroy(&reply);
	if (n > 0)
		credit(c, n);
	return c;
}

/* n people registered in one transaction, their keys in kps. */
static inline void
add_people(struct keypair *kps, int n, const char *prefix)
{
	struct party p;
	struct store *s;
	struct cerr err;
	MDB_txn *txn;
	int i;

	assert_int_equal(store_open(br.dir, 64UL << 20, &s, &err), 0);
	assert_int_equal(store_txn_begin(s, NULL, true, &txn, &err), 0);
	for (i = 0; i < n; i++) {
		assert_int_equal(key_generate(&kps[i]), 0);
		memset(&p, 0, sizeof(p));
		memcpy(p.id, kps[i].pk, ID_BYTES);
		p.role = ROLE_USER;
		snprintf(p.name, sizeof(p.name), "%s%d", prefix, i);
		assert_int_equal(store_party_add(s, txn, &p, &err), 0);
	}
	assert_int_equal(store_txn_commit(&txn, &err), 0);
	store_close(&s);
}

/* PUT n records of type as holder h for user u; returns stored count. */
static uint64_t
put(const struct keypair *h, const struct keypair *u, const char *type,
    const char *prefix, int n, int *code)
{
	struct client *c = connect_as(h);
	msgpack_sbuffer recs;
	msgpack_packer *pk;
	msgpack_unpacked reply;
	struct cerr err = {0};
	char uid[ID_STR_LEN + 1], line[512];
	uint64_t stored = 0;
	int i, rc;

	id_encode(u->pk, uid);
	msgpack_sbuffer_init(&recs);
	for (i = 0; i < n; i++) {
		if (strcmp(type, "claim") == 0)
			snprintf(line, sizeof(line), "{\"user\":\"%s\",\"ref\":"
			    "\"%s-%d\",\"time\":\"2017-03-02T10:00:00Z\","
			    "\"act_code\":\"C\",\"label\":\"Consultation\","
			    "\"amount_eur\":25,\"reimbursed_eur\":16.5,"
			    "\"practitioner\":\"gp\"}", uid, prefix, i);
		else if (strcmp(type, "dispense") == 0)
			snprintf(line, sizeof(line), "{\"user\":\"%s\",\"ref\":"
			    "\"%s-%d\",\"time\":\"2017-03-03T10:00:00Z\","
			    "\"cip13\":\"3400930000000\",\"drug\":\"Doliprane\","
			    "\"quantity\":1,\"amount_eur\":2.1,"
			    "\"reimbursed_eur\":1.4}", uid, prefix, i);
		else
			snprintf(line, sizeof(line), "{\"user\":\"%s\",\"ref\":"
			    "\"%s-%d\",\"time\":\"2017-03-04T10:00:00Z\","
			    "\"loinc\":\"4548-4\",\"label\":\"HbA1c\","
			    "\"value\":6.9,\"unit\":\"%%\"}", uid, prefix, i);
		assert_int_equal(recjson_encode_line(line, strlen(line),
		    schema_by_name(type, strlen(type)), &recs, &err), 0);
	}
	pk = client_begin(c, 1);
	mpk_pack_cstr(pk, "recs");
	msgpack_pack_array(pk, (size_t)n);
	msgpack_sbuffer_write(pk->data, recs.data, recs.size);
	rc = client_call(c, "PUT", &reply, &err);
	if (code != NULL)
		*code = rc;
	else if (rc != 0)
		fail_msg("PUT: %s", cerr_msg(&err));
	if (rc == 0) {
		assert_int_equal(mpk_u64(mpk_get(&reply.data, "stored"),
		    &stored), 0);
		msgpack_unpacked_destroy(&reply);
	}
	msgpack_sbuffer_destroy(&recs);
	client_destroy(&c);
	return stored;
}

/* Sign and GRANT a token; returns the broker's code. */
static int
grant_signed(const struct keypair *sender, const struct token *t,
    const uint8_t *sk, struct cerr *err)
{
	struct client *c = connect_as(sender);
	msgpack_packer *pk;
	msgpack_unpacked reply;
	uint8_t *blob;
	size_t len;
	int rc;

	/* sign with sk, whoever t->user is: forgeries are tested too */
	struct token tmp = *t;

	memcpy(tmp.user, sk + 32, ID_BYTES);
	assert_int_equal(token_sign(&tmp, sk, &blob, &len, err), 0);
	if (memcmp(tmp.user, t->user, ID_BYTES) != 0) {
		/* re-sign the payload naming t->user with the wrong key */
		uint8_t *blob2;
		size_t len2;
		struct keypair fake;

		memcpy(fake.sk, sk, 64);
		free(blob);
		tmp = *t;
		memcpy(fake.sk + 32, t->user, ID_BYTES); /* pass the self-check */
		assert_int_equal(token_sign(&tmp, fake.sk, &blob2, &len2, err), 0);
		crypto_sign_detached(blob2, NULL, blob2 + SIG_BYTES,
		    len2 - SIG_BYTES, sk);
		blob = blob2;
		len = len2;
	}
	pk = client_begin(c, 1);
	mpk_pack_cstr(pk, "token");
	mpk_pack_binn(pk, blob, len);
	free(blob);
	rc = client_call(c, "GRANT", &reply, err);
	if (rc == 0)
		msgpack_unpacked_destroy(&reply);
	client_destroy(&c);
	return rc;
}

static void
make_token(struct token *t, const struct keypair *user,
    const struct keypair *app, const char *type, uint64_t fields,
    const struct keypair *holder)
{
	memset(t, 0, sizeof(*t));
	token_new_id(t);
	memcpy(t->user, user->pk, ID_BYTES);
	memcpy(t->app, app->pk, ID_BYTES);
	t->any_holder = holder == NULL;
	if (holder != NULL) {
		t->nholders = 1;
		memcpy(t->holders[0], holder->pk, ID_BYTES);
	}
	t->ntypes = 1;
	t->types[0].type = schema_by_name(type, strlen(type));
	t->types[0].fields = fields;
	t->types[0].fields_listed = fields != FIELDS_ALL;
	strcpy(t->purpose, "budget");
	t->issued = t->not_before = (int64_t)time(NULL) - 5;
}

static int
revoke(const struct keypair *sender, const struct keypair *signer,
    const uint8_t tok[TOKID_BYTES], struct cerr *err)
{
	struct client *c = connect_as(sender);
	struct revocation rv = {0};
	msgpack_packer *pk;
	msgpack_unpacked reply;
	uint8_t *blob;
	size_t len;
	int rc;

	memcpy(rv.token, tok, TOKID_BYTES);
	memcpy(rv.user, signer->pk, ID_BYTES);
	rv.time = (int64_t)time(NULL);
	assert_int_equal(revocation_sign(&rv, signer->sk, &blob, &len, err), 0);
	pk = client_begin(c, 1);
	mpk_pack_cstr(pk, "revocation");
	mpk_pack_binn(pk, blob, len);
	free(blob);
	rc = client_call(c, "REVOKE", &reply, err);
	if (rc == 0)
		msgpack_unpacked_destroy(&reply);
	client_destroy(&c);
	return rc;
}

/* The broker's anonymous resident memory (heap), in KiB. */
static long
broker_anon_kib(void)
{
	char path[64], line[128];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)br.pid);
	assert_non_null(f = fopen(path, "r"));
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "RssAnon: %ld", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

#endif
