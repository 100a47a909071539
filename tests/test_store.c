/*
 * test_store.c: the LMDB store on a real file in a temporary directory.
 */
#include "testutil.h"

#include <lmdb.h>
#include <sodium.h>

#include "../common/mpk.h"
#include "../policy/key.h"
#include "../schemas/recjson.h"
#include "../store/reckeys.h"
#include "../store/store.h"
#include "storecmp.h"

/*
 * Every test runs with a replica: each write set the store commits is
 * applied to a second store in another directory, and at the end the two
 * hold the same keys and values in every database (unless the test wrote
 * around the store, as an attacker would: tampered).
 */
struct fx {
	char *dir;
	struct store *s;
	char *rdir;
	struct store *r;
	unsigned sets;
};

/* set by the tests that write around the store (tamper_db, an entry
 * rewritten): the replica then stops following */
static bool tampered;

static struct keypair user, user2, app, holder, sealer, other_broker;

static void
to_replica(void *arg, const uint8_t *ws, size_t len)
{
	struct fx *fx = arg;
	struct cerr err = {0};
	MDB_txn *txn;

	if (tampered)
		return;
	assert_int_equal(store_txn_begin(fx->r, NULL, true, &txn, &err), 0);
	if (store_wset_apply(fx->r, txn, ws, len, &err) != 0)
		fail_msg("write set %u: %s", fx->sets, cerr_msg(&err));
	assert_int_equal(store_txn_commit(&txn, &err), 0);
	fx->sets++;
}

/* (Re)open the store as carnetd does, with the broker key that seals the
 * log heads and opens the record keys; rc of store_set_key. */
static int
reopen_with(struct fx *fx, const struct keypair *broker,
    struct store_upgrade *up, struct cerr *err)
{
	store_close(&fx->s);
	assert_int_equal(store_open(fx->dir, 64UL << 20, &fx->s, err), 0);
	store_wset_sink(fx->s, to_replica, fx);
	return store_set_key(fx->s, broker->sk, up, err);
}

/* reopen_with that must work; how many heads it sealed */
static uint64_t
reopen(struct fx *fx, const struct keypair *broker)
{
	struct cerr err = {0};
	struct store_upgrade up;

	if (reopen_with(fx, broker, &up, &err) != 0)
		fail_msg("store key: %s", cerr_msg(&err));
	return up.heads_sealed;
}

static int
setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	if (user.pk[0] == 0 && user.pk[1] == 0) {
		assert_int_equal(key_generate(&user), 0);
		assert_int_equal(key_generate(&user2), 0);
		assert_int_equal(key_generate(&app), 0);
		assert_int_equal(key_generate(&holder), 0);
		assert_int_equal(key_generate(&sealer), 0);
		assert_int_equal(key_generate(&other_broker), 0);
	}
	fx->dir = tu_tmpdir();
	fx->rdir = tu_tmpdir();
	tampered = false;
	assert_int_equal(store_open(fx->rdir, 64UL << 20, &fx->r, NULL), 0);
	reopen(fx, &sealer);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;

	store_close(&fx->s);
	store_close(&fx->s); /* safe twice */
	store_close(&fx->r);
	if (!tampered) {
		assert_true(fx->sets > 0);
		stores_equal(fx->dir, fx->rdir);
	}
	tu_rmtree(&fx->dir);
	tu_rmtree(&fx->rdir);
	free(fx);
	return 0;
}

/* Append e to u's log after its head, as the broker does (it keeps the
 * heads in memory; here they are read back each time). */
static int
log_append(struct store *s, MDB_txn *txn, const uint8_t *u,
    struct uselog_entry *e, struct cerr *err)
{
	uint8_t prev[HASH_BYTES];
	uint64_t last;
	int rc;

	if ((rc = store_log_head(s, txn, u, &last, prev, err)) != 0)
		return rc;
	return store_log_append_after(s, txn, u, e, last, prev, NULL, err);
}

/* The label of the claims make_claim builds. */
static const char *claim_label = "Consultation";

/* Build a claim record for u with ref, into sb/tree/r. */
static void
make_claim(const uint8_t *u, const char *ref, int64_t when,
    msgpack_sbuffer *sb, msgpack_unpacked *tree, struct record *r)
{
	char uid[ID_STR_LEN + 1], line[512];
	struct cerr err;

	id_encode(u, uid);
	snprintf(line, sizeof(line), "{\"user\":\"%s\",\"ref\":\"%s\","
	    "\"time\":%lld,\"act_code\":\"C\",\"label\":\"%s\","
	    "\"amount_eur\":25,\"reimbursed_eur\":16.5,\"practitioner\":\"gp\"}",
	    uid, ref, (long long)when, claim_label);
	msgpack_sbuffer_clear(sb);
	assert_int_equal(recjson_encode_line(line, strlen(line),
	    schema_by_name("claim", 5), sb, &err), 0);
	assert_int_equal(record_decode(sb->data, sb->size, tree, r, &err), 0);
	r->has_holder = true;
	memcpy(r->holder, holder.pk, ID_BYTES);
}

static void
put_claims(struct store *s, const uint8_t *u, const char *prefix, int n,
    int *stored)
{
	msgpack_sbuffer sb;
	msgpack_unpacked tree;
	struct record r;
	struct cerr err;
	MDB_txn *txn;
	char ref[32];
	uint64_t seq;
	bool dup;
	uint64_t corr;
	int i;

	msgpack_sbuffer_init(&sb);
	assert_int_equal(store_txn_begin(s, NULL, true, &txn, &err), 0);
	*stored = 0;
	for (i = 0; i < n; i++) {
		snprintf(ref, sizeof(ref), "%s-%d", prefix, i);
		make_claim(u, ref, 1488448800 + i, &sb, &tree, &r);
		assert_int_equal(store_record_put(s, txn, &r, &seq, &dup, &corr, NULL, &err),
		    0);
		*stored += !dup;
		msgpack_unpacked_destroy(&tree);
	}
	assert_int_equal(store_txn_commit(&txn, &err), 0);
	msgpack_sbuffer_destroy(&sb);
}

static void
test_records_survive_reopen_and_resend_is_stored_once(void **state)
{
	struct fx *fx = *state;
	struct cerr err;
	struct recmeta m;
	MDB_txn *txn;
	MDB_val v;
	msgpack_unpacked tree;
	struct record r;
	uint64_t last, after = 0;
	int stored, n = 0;

	put_claims(fx->s, user.pk, "c", 100, &stored);
	assert_int_equal(stored, 100);
	put_claims(fx->s, user2.pk, "d", 10, &stored);
	assert_int_equal(stored, 10);
	put_claims(fx->s, user.pk, "c", 100, &stored); /* resend */
	assert_int_equal(stored, 0);
	store_close(&fx->s);
	reopen(fx, &sealer);

	assert_int_equal(store_txn_begin(fx->s, NULL, false, &txn, &err), 0);
	while (store_user_next(fx->s, txn, user.pk, after, &m) == 0) {
		assert_true(m.seq > after);
		assert_memory_equal(m.holder, holder.pk, ID_BYTES);
		assert_ptr_equal(m.type, schema_by_name("claim", 5));
		assert_int_equal(store_record_get(fx->s, txn, user.pk, m.seq,
		    &v, &err), 0);
		assert_int_equal(record_decode(v.mv_data, v.mv_size, &tree, &r,
		    &err), 0);
		assert_memory_equal(r.user, user.pk, ID_BYTES);
		assert_int_equal(r.time, m.time);
		msgpack_unpacked_destroy(&tree);
		after = m.seq;
		n++;
	}
	assert_int_equal(n, 100);
	assert_int_equal(store_user_last(fx->s, txn, user.pk, &last), 0);
	assert_int_equal(last, after);
	assert_int_equal(store_user_last(fx->s, txn, app.pk, &last), 0);
	assert_int_equal(last, 0);
	store_txn_abort(&txn);
}

/* Put one claim of person u with ref: the store's answer, its seq and
 * what it corrects (committed when stored). */
static int
put_ref_of(struct store *s, const uint8_t *u, const char *ref, uint64_t *seq,
    uint64_t *corr)
{
	msgpack_sbuffer sb;
	msgpack_unpacked tree;
	struct record r;
	struct cerr err;
	MDB_txn *txn;
	MDB_val plain, got;
	bool dup;
	int rc;

	msgpack_sbuffer_init(&sb);
	make_claim(u, ref, 1488448800, &sb, &tree, &r);
	assert_int_equal(store_txn_begin(s, NULL, true, &txn, &err), 0);
	rc = store_record_put(s, txn, &r, seq, &dup, corr, &plain, &err);
	if (rc == 0) {
		uint8_t *copy;

		assert_false(dup);
		/* the bytes sealed are the bytes the record opens to */
		assert_non_null(copy = malloc(plain.mv_size));
		memcpy(copy, plain.mv_data, plain.mv_size);
		assert_int_equal(store_record_get(s, txn, u, *seq, &got, &err),
		    0);
		assert_int_equal(got.mv_size, plain.mv_size);
		assert_memory_equal(got.mv_data, copy, plain.mv_size);
		free(copy);
		assert_int_equal(store_txn_commit(&txn, &err), 0);
	} else {
		store_txn_abort(&txn);
	}
	msgpack_unpacked_destroy(&tree);
	msgpack_sbuffer_destroy(&sb);
	return rc;
}

static void
put_ref(struct store *s, const char *ref, uint64_t *seq, uint64_t *corr)
{
	assert_int_equal(put_ref_of(s, user.pk, ref, seq, corr), 0);
}

/* A ref BASE@V after BASE@W of the same holder is stored as correcting
 * the latest other version; other refs correct nothing. */
static void
test_new_version_corrects_the_latest(void **state)
{
	struct fx *fx = *state;
	uint64_t v1, v2, v3, other, deeper, plain, corr;
	msgpack_unpacked tree;
	struct record r;
	struct cerr err;
	MDB_txn *txn;
	MDB_val v;

	put_ref(fx->s, "fhir:Condition/c@1", &v1, &corr);
	assert_int_equal(corr, 0);
	put_ref(fx->s, "fhir:Condition/c@2", &v2, &corr);
	assert_int_equal(corr, v1);
	put_ref(fx->s, "fhir:Condition/cc@1", &other, &corr);
	assert_int_equal(corr, 0);                 /* another base */
	put_ref(fx->s, "fhir:Condition/c@2@x", &deeper, &corr);
	assert_int_equal(corr, 0);                 /* base c@2, none before */
	put_ref(fx->s, "fhir:Condition/c@3", &v3, &corr);
	assert_int_equal(corr, v2);                /* the latest, not c@2@x */
	put_ref(fx->s, "no-version", &plain, &corr);
	assert_int_equal(corr, 0);
	/* the holder's same base for another person corrects nothing of hers */
	assert_int_equal(put_ref_of(fx->s, user2.pk, "fhir:Condition/c@4",
	    &other, &corr), 0);
	assert_int_equal(corr, 0);
	/* stored in the record, read back after a reopen */
	store_close(&fx->s);
	reopen(fx, &sealer);
	assert_int_equal(store_txn_begin(fx->s, NULL, false, &txn, &err), 0);
	assert_int_equal(store_record_get(fx->s, txn, user.pk, v3, &v, &err), 0);
	assert_int_equal(record_decode(v.mv_data, v.mv_size, &tree, &r, &err), 0);
	assert_int_equal(r.corrects, v2);
	msgpack_unpacked_destroy(&tree);
	assert_int_equal(store_record_get(fx->s, txn, user.pk, v1, &v, &err), 0);
	assert_int_equal(record_decode(v.mv_data, v.mv_size, &tree, &r, &err), 0);
	assert_int_equal(r.corrects, 0);
	msgpack_unpacked_destroy(&tree);
	store_txn_abort(&txn);
}

/* Past RECORD_VERSIONS_MAX versions of one base, a new one is refused
 * (each put would look at them all), nothing of it stored. */
static void
test_versions_are_bounded(void **state)
{
	struct fx *fx = *state;
	uint64_t seq, corr, last;
	char ref[48];
	MDB_txn *txn;
	struct cerr err;
	int i;

	for (i = 1; i <= RECORD_VERSIONS_MAX; i++) {
		snprintf(ref, sizeof(ref), "eob/1@%d", i);
		put_ref(fx->s, ref, &seq, &corr);
		assert_true(i == 1 ? corr == 0 : corr == seq - 1);
	}
	assert_int_equal(put_ref_of(fx->s, user.pk, "eob/1@next", &seq, &corr),
	    CARNET_E_TOO_BIG);
	put_ref(fx->s, "eob/2@1", &seq, &corr); /* another base still goes */
	assert_int_equal(corr, 0);
	assert_int_equal(store_txn_begin(fx->s, NULL, false, &txn, &err), 0);
	assert_int_equal(store_user_last(fx->s, txn, user.pk, &last), 0);
	assert_int_equal(last, seq);
	store_txn_abort(&txn);
}

static void
make_token(struct token *t, bool any_holder)
{
	memset(t, 0, sizeof(*t));
	token_new_id(t);
	memcpy(t->user, user.pk, ID_BYTES);
	memcpy(t->app, app.pk, ID_BYTES);
	t->any_holder = any_holder;
	if (!any_holder) {
		t->nholders = 1;
		memcpy(t->holders[0], holder.pk, ID_BYTES);
	}
	t->ntypes = 1;
	t->types[0].type = schema_by_name("claim", 5);
	t->types[0].fields = FIELDS_ALL;
	strcpy(t->purpose, "budget");
}

static int
count_user_tok(void *arg, const uint8_t *tok)
{
	(void)tok;
	(*(int *)arg)++;
	return 0;
}

static int
count_tok(void *arg, const uint8_t *u, const uint8_t *tok)
{
	(void)u, (void)tok;
	(*(int *)arg)++;
	return 0;
}

static void
test_tokens_and_revocation(void **state)
{
	struct fx *fx = *state;
	struct token t, t2;
	struct token_state st;
	struct cerr err;
	MDB_txn *txn;
	uint8_t *blob;
	size_t len;
	int utoks = 0, toks = 0;

	make_token(&t, false);
	make_token(&t2, true);
	assert_int_equal(token_sign(&t, user.sk, &blob, &len, &err), 0);
	assert_int_equal(store_txn_begin(fx->s, NULL, true, &txn, &err), 0);
	assert_int_equal(store_token_put(fx->s, txn, &t, blob, len, 1000, &err), 0);
	/* a reused token id (a replayed GRANT) */
	assert_int_equal(store_token_put(fx->s, txn, &t, blob, len, 1000, &err),
	    CARNET_E_EXISTS);
	assert_int_equal(store_token_put(fx->s, txn, &t2, blob, len, 1000, &err), 0);
	assert_int_equal(store_txn_commit(&txn, &err), 0);

	assert_int_equal(store_txn_begin(fx->s, NULL, false, &txn, &err), 0);
	assert_int_equal(store_token_get(fx->s, txn, t.id, &st), 0);
	assert_int_equal(st.state, TOKEN_ACTIVE);
	assert_int_equal(st.blob_len, len);
	assert_memory_equal(st.blob, blob, len);
	assert_int_equal(store_tokens_of_user(fx->s, txn, user.pk,
	    count_user_tok, &utoks), 0);
	assert_int_equal(utoks, 2);
	utoks = 0;
	assert_int_equal(store_tokens_of_user(fx->s, txn, user2.pk,
	    count_user_tok, &utoks), 0);
	assert_int_equal(utoks, 0);
	assert_int_equal(store_tokens_of_app(fx->s, txn, app.pk, count_tok,
	    &toks), 0);
	assert_int_equal(toks, 2);
	store_txn_abort(&txn);

	assert_int_equal(store_txn_begin(fx->s, NULL, true, &txn, &err), 0);
	assert_int_equal(store_token_end(fx->s, txn, &t, TOKEN_REVOKED, 1234, &err), 0);
	assert_int_equal(store_txn_commit(&txn, &err), 0);
	store_close(&fx->s);
	reopen(fx, &sealer);
	assert_int_equal(store_txn_begin(fx->s, NULL, false, &txn, &err), 0);
	assert_int_equal(store_token_get(fx->s, txn, t.id, &st), 0);
	assert_int_equal(st.state, TOKEN_REVOKED);
	assert_int_equal(st.ended_at, 1234);
	assert_int_equal(store_token_get(fx->s, txn, t2.id, &st), 0);
	assert_int_equal(st.state, TOKEN_ACTIVE); /* the other one lives on */
	/* a revocation for a token that does not exist */
	{
		uint8_t unknown[TOKID_BYTES] = {1, 2, 3};

		assert_int_equal(store_token_get(fx->s, txn, unknown, &st),
		    CARNET_E_NOT_FOUND);
	}
	store_txn_abort(&txn);
	free(blob);
}

static void
test_cursor_never_goes_back(void **state)
{
	struct fx *fx = *state;
	uint8_t tok[TOKID_BYTES] = {9};
	struct cerr err;
	MDB_txn *txn;
	uint64_t seq;

	assert_int_equal(store_txn_begin(fx->s, NULL, true, &txn, &err), 0);
	assert_int_equal(store_cursor_get(fx->s, txn, tok, &seq), 0);
	assert_int_equal(seq, 0);
	assert_int_equal(store_cursor_advance(fx->s, txn, tok, 50, NULL, &err),
	    0);
	/* told where it stands: where it was, not the smaller seq asked */
	assert_int_equal(store_cursor_advance(fx->s, txn, tok, 20, &seq, &err),
	    0);
	assert_int_equal(seq, 50);
	assert_int_equal(store_cursor_advance(fx->s, txn, tok, 70, &seq, &err),
	    0);
	assert_int_equal(seq, 70);
	assert_int_equal(store_cursor_advance(fx->s, txn, tok, 60, NULL, &err),
	    0);
	assert_int_equal(store_cursor_get(fx->s, txn, tok, &seq), 0);
	assert_int_equal(seq, 70);
	assert_int_equal(store_txn_commit(&txn, &err), 0);
}

/* The tokens of app in the due index, in order; how many. */
static int
due_list(struct store *s, MDB_txn *txn, const uint8_t *a,
    uint8_t toks[][TOKID_BYTES], int max)
{
	uint8_t tok[TOKID_BYTES], u[ID_BYTES];
	int n = 0, rc;

	while (n < max && (rc = store_due_next(s, txn, a, n ? toks[n - 1] :
	    NULL, tok, u)) == 0) {
		assert_memory_equal(u, user.pk, ID_BYTES);
		memcpy(toks[n++], tok, TOKID_BYTES);
	}
	return n;
}

static int
count_app(void *arg, const uint8_t *a)
{
	assert_memory_equal(a, app.pk, ID_BYTES);
	(*(int *)arg)++;
	return 0;
}

static int
count_unerased(void *arg, const uint8_t *u, const uint8_t *tok)
{
	(void)tok;
	assert_memory_equal(u, user.pk, ID_BYTES);
	(*(int *)arg)++;
	return 0;
}

/* A token is due while its person has records past its cursor, and only
 * while it is active; an ended one waits in unerased for the app's word. */
static void
test_due_index_follows_records_and_states(void **state)
{
	struct fx *fx = *state;
	uint8_t got[4][TOKID_BYTES], tok[TOKID_BYTES], u[ID_BYTES];
	struct token t1, t2;
	struct cerr err;
	MDB_txn *txn;
	uint8_t *blob;
	size_t len;
	int stored, woken = 0, unerased = 0;
	uint64_t last;

	make_token(&t1, false);
	make_token(&t2, true);
	assert_int_equal(token_sign(&t1, user.sk, &blob, &len, &err), 0);
	assert_int_equal(store_txn_begin(fx->s, NULL, true, &txn, &err), 0);
	/* no records yet: granted, not due */
	assert_int_equal(store_token_put(fx->s, txn, &t1, blob, len, 1000,
	    &err), 0);
	assert_int_equal(due_list(fx->s, txn, app.pk, got, 4), 0);
	assert_int_equal(store_txn_commit(&txn, &err), 0);
	put_claims(fx->s, user.pk, "due", 3, &stored);
	assert_int_equal(stored, 3);

	assert_int_equal(store_txn_begin(fx->s, NULL, true, &txn, &err), 0);
	/* a record stored: its person's active tokens are due, apps told */
	assert_int_equal(store_due_user(fx->s, txn, user.pk, count_app,
	    &woken, &err), 0);
	assert_int_equal(woken, 1);
	assert_int_equal(due_list(fx->s, txn, app.pk, got, 4), 1);
	assert_memory_equal(got[0], t1.id, TOKID_BYTES);
	/* granted to someone with records: due at once; each pair once */
	assert_int_equal(store_token_put(fx->s, txn, &t2, blob, len, 1000,
	    &err), 0);
	assert_int_equal(store_due_user(fx->s, txn, user.pk, NULL, NULL,
	    &err), 0);
	assert_int_equal(due_list(fx->s, txn, app.pk, got, 4), 2);
	/* pairs already due still wake their app at the next record */
	woken = 0;
	assert_int_equal(store_due_user(fx->s, txn, user.pk, count_app,
	    &woken, &err), 0);
	assert_int_equal(woken, 2);
	assert_int_equal(due_list(fx->s, txn, app.pk, got, 4), 2);
	assert_int_equal(store_due_next(fx->s, txn, app.pk, got[1], tok, u),
	    CARNET_E_NOT_FOUND);
	assert_int_equal(store_due_next(fx->s, txn, user2.pk, NULL, tok, u),
	    CARNET_E_NOT_FOUND);
	/* paused: out, and not put back by a record; resumed: back */
	assert_int_equal(store_token_set_paused(fx->s, txn, &t1, true, &err),
	    0);
	assert_int_equal(store_due_user(fx->s, txn, user.pk, NULL, NULL,
	    &err), 0);
	assert_int_equal(due_list(fx->s, txn, app.pk, got, 4), 1);
	assert_memory_equal(got[0], t2.id, TOKID_BYTES);
	assert_int_equal(store_token_set_paused(fx->s, txn, &t1, false, &err),
	    0);
	assert_int_equal(due_list(fx->s, txn, app.pk, got, 4), 2);
	/* resumed with a cursor past every record: not due */
	assert_int_equal(store_user_last(fx->s, txn, user.pk, &last), 0);
	assert_int_equal(store_token_set_paused(fx->s, txn, &t1, true, &err),
	    0);
	assert_int_equal(store_cursor_advance(fx->s, txn, t1.id, last, NULL, &err),
	    0);
	assert_int_equal(store_token_set_paused(fx->s, txn, &t1, false, &err),
	    0);
	assert_int_equal(due_list(fx->s, txn, app.pk, got, 4), 1);
	assert_memory_equal(got[0], t2.id, TOKID_BYTES);
	/* ended: out of due, into unerased until the app confirms */
	assert_int_equal(store_token_end(fx->s, txn, &t2, TOKEN_REVOKED, 1500,
	    &err), 0);
	assert_int_equal(due_list(fx->s, txn, app.pk, got, 4), 0);
	assert_int_equal(store_unerased_of_app(fx->s, txn, app.pk,
	    count_unerased, &unerased), 0);
	assert_int_equal(unerased, 1);
	assert_int_equal(store_token_erased(fx->s, txn, &t2, 1600, &err), 0);
	unerased = 0;
	assert_int_equal(store_unerased_of_app(fx->s, txn, app.pk,
	    count_unerased, &unerased), 0);
	assert_int_equal(unerased, 0);
	/* an ended token is not made due by a record */
	assert_int_equal(store_due_user(fx->s, txn, user.pk, NULL, NULL,
	    &err), 0);
	assert_int_equal(due_list(fx->s, txn, app.pk, got, 4), 1);
	assert_memory_equal(got[0], t1.id, TOKID_BYTES);
	assert_int_equal(store_due_del(fx->s, txn, app.pk, t1.id, &err), 0);
	assert_int_equal(store_due_del(fx->s, txn, app.pk, t1.id, &err), 0);
	assert_int_equal(due_list(fx->s, txn, app.pk, got, 4), 0);
	assert_int_equal(store_txn_commit(&txn, &err), 0);
	free(blob);
}

static void
append_entries(struct store *s, const uint8_t *u, int n)
{
	struct uselog_entry e;
	struct cerr err;
	MDB_txn *txn;
	int i;

	assert_int_equal(store_txn_begin(s, NULL, true, &txn, &err), 0);
	for (i = 0; i < n; i++) {
		memset(&e, 0, sizeof(e));
		e.kind = USE_DELIVER;
		e.time = 1700000000 + i;
		e.has_app = true;
		memcpy(e.app, app.pk, ID_BYTES);
		e.has_holder = true;
		memcpy(e.holder, holder.pk, ID_BYTES);
		e.type = schema_by_name("claim", 5);
		e.rseq = (uint64_t)i + 1;
		strcpy(e.purpose, "budget");
		assert_int_equal(log_append(s, txn, u, &e, &err), 0);
	}
	assert_int_equal(store_txn_commit(&txn, &err), 0);
}

static int
verify(struct store *s, const uint8_t *u, uint64_t *count, struct cerr *err)
{
	MDB_txn *txn;
	int rc;

	assert_int_equal(store_txn_begin(s, NULL, false, &txn, err), 0);
	rc = store_log_verify(s, txn, u, count, err);
	store_txn_abort(&txn);
	return rc;
}

/* Open the LMDB file directly, as an attacker with disk access would. */
static void
tamper(const char *dir, const uint8_t *u, uint64_t seq, bool del)
{
	char path[512];
	uint8_t key[ID_BYTES + 8];
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = {sizeof(key), key}, v;
	uint8_t *copy;
	int i;

	tampered = true;
	snprintf(path, sizeof(path), "%s/store", dir);
	memcpy(key, u, ID_BYTES);
	for (i = 7; i >= 0; i--, seq >>= 8)
		key[ID_BYTES + i] = (uint8_t)seq;
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 32), 0);
	assert_int_equal(mdb_env_set_mapsize(env, 64UL << 20), 0);
	assert_int_equal(mdb_env_open(env, path, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "uselog", 0, &dbi), 0);
	if (del) {
		assert_int_equal(mdb_del(txn, dbi, &k, NULL), 0);
	} else {
		assert_int_equal(mdb_get(txn, dbi, &k, &v), 0);
		copy = malloc(v.mv_size);
		memcpy(copy, v.mv_data, v.mv_size);
		copy[v.mv_size - 2] ^= 0x01; /* inside the purpose string */
		v.mv_data = copy;
		assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
		free(copy);
	}
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

static void
test_log_chain_verifies_and_detects_changes(void **state)
{
	struct fx *fx = *state;
	struct cerr err;
	uint64_t count;

	append_entries(fx->s, user.pk, 20);
	append_entries(fx->s, user2.pk, 5);
	append_entries(fx->s, user.pk, 5);
	assert_int_equal(verify(fx->s, user.pk, &count, &err), 0);
	assert_int_equal(count, 25);
	assert_int_equal(verify(fx->s, user2.pk, &count, &err), 0);
	assert_int_equal(count, 5);
	store_close(&fx->s);

	tamper(fx->dir, user.pk, 7, false);
	reopen(fx, &sealer);
	memset(&err, 0, sizeof(err));
	assert_int_equal(verify(fx->s, user.pk, &count, &err),
	    CARNET_E_LOG_BROKEN);
	/* the first bad link is the entry after the changed one */
	assert_non_null(strstr(err.msg, "entry 8"));
	assert_int_equal(count, 7);
	/* the other user's chain is untouched */
	assert_int_equal(verify(fx->s, user2.pk, &count, &err), 0);
	store_close(&fx->s);

	tamper(fx->dir, user2.pk, 3, true);
	reopen(fx, &sealer);
	assert_int_equal(verify(fx->s, user2.pk, &count, &err),
	    CARNET_E_LOG_BROKEN);
	assert_non_null(strstr(err.msg, "entry 3"));
}

/* As a writer of the files without the broker's key: one put or delete
 * in db (key, and the value when put). */
static void
tamper_db(const char *dir, const char *db, const void *key, size_t klen,
    const void *val, size_t vlen)
{
	char path[512];
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = {klen, (void *)key}, v = {vlen, (void *)val};

	tampered = true;
	snprintf(path, sizeof(path), "%s/store", dir);
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 32), 0);
	assert_int_equal(mdb_env_set_mapsize(env, 64UL << 20), 0);
	assert_int_equal(mdb_env_open(env, path, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, db, 0, &dbi), 0);
	if (val != NULL)
		assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	else
		assert_int_equal(mdb_del(txn, dbi, &k, NULL), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

/* The raw value of key in db (closes fx's store). */
static size_t
raw_value(struct fx *fx, const char *db, const void *key, size_t klen,
    uint8_t *out, size_t cap)
{
	char path[512];
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = {klen, (void *)key}, v;

	store_close(&fx->s);
	snprintf(path, sizeof(path), "%s/store", fx->dir);
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 32), 0);
	assert_int_equal(mdb_env_open(env, path, MDB_RDONLY, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, db, 0, &dbi), 0);
	assert_int_equal(mdb_get(txn, dbi, &k, &v), 0);
	assert_true(v.mv_size <= cap);
	memcpy(out, v.mv_data, v.mv_size);
	mdb_txn_abort(txn);
	mdb_env_close(env);
	return v.mv_size;
}

/* user's sealed head value as stored (72 bytes) */
static void
head_value(struct fx *fx, const uint8_t *u, uint8_t out[72])
{
	assert_int_equal(raw_value(fx, "heads", u, ID_BYTES, out, 72), 72);
}

static void
log_key(uint8_t key[ID_BYTES + 8], const uint8_t *u, uint64_t seq)
{
	int i;

	memcpy(key, u, ID_BYTES);
	for (i = 7; i >= 0; i--, seq >>= 8)
		key[ID_BYTES + i] = (uint8_t)seq;
}

static int
head_of(struct fx *fx, const uint8_t *u, uint64_t *seq, struct cerr *err)
{
	uint8_t hash[HASH_BYTES];
	MDB_txn *txn;
	int rc;

	assert_int_equal(store_txn_begin(fx->s, NULL, false, &txn, err), 0);
	rc = store_log_head(fx->s, txn, u, seq, hash, err);
	store_txn_abort(&txn);
	return rc;
}

static void
test_log_heads_are_sealed_at_append(void **state)
{
	struct fx *fx = *state;
	struct cerr err = {0};
	uint8_t key[ID_BYTES + 8], head[72], old_head[72];
	struct store_upgrade up;
	char path[600], aside[620];
	uint64_t seq, count;

	/* good path: the head follows every append */
	append_entries(fx->s, user.pk, 6);
	assert_int_equal(head_of(fx, user.pk, &seq, &err), 0);
	assert_int_equal(seq, 6);
	head_value(fx, user.pk, old_head);
	reopen(fx, &sealer);
	append_entries(fx->s, user.pk, 4);
	append_entries(fx->s, user2.pk, 3);
	assert_int_equal(verify(fx->s, user.pk, &count, &err), 0);
	assert_int_equal(count, 10);

	/* the last entry dropped: the chain alone still verifies, the
	 * sealed head does not match */
	store_close(&fx->s);
	log_key(key, user.pk, 10);
	tamper_db(fx->dir, "uselog", key, sizeof(key), NULL, 0);
	reopen(fx, &sealer);
	assert_int_equal(head_of(fx, user.pk, &seq, &err), CARNET_E_LOG_BROKEN);
	assert_non_null(strstr(err.msg, "sealed head is entry 10"));
	assert_int_equal(verify(fx->s, user.pk, &count, &err),
	    CARNET_E_LOG_BROKEN);
	/* a head made without the key: the seal is refused */
	head_value(fx, user.pk, head);
	head[7] = 9; /* seq 9, the hash of entry 9 unknown: any bytes */
	tamper_db(fx->dir, "heads", user.pk, ID_BYTES, head, sizeof(head));
	reopen(fx, &sealer);
	memset(&err, 0, sizeof(err));
	assert_int_equal(head_of(fx, user.pk, &seq, &err), CARNET_E_LOG_BROKEN);
	assert_non_null(strstr(err.msg, "without the broker's key"));
	/* the head removed */
	store_close(&fx->s);
	tamper_db(fx->dir, "heads", user.pk, ID_BYTES, NULL, 0);
	reopen(fx, &sealer);
	assert_int_equal(head_of(fx, user.pk, &seq, &err), CARNET_E_LOG_BROKEN);
	assert_non_null(strstr(err.msg, "no sealed head"));
	/* another broker's key: refused at the start, since the record keys
	 * were made under this one... */
	assert_int_equal(reopen_with(fx, &other_broker, &up, &err),
	    CARNET_E_STORE);
	assert_non_null(strstr(err.msg, "another broker key"));
	/* ...and the heads do not check out under it either */
	snprintf(path, sizeof(path), "%s/store/keys", fx->dir);
	snprintf(aside, sizeof(aside), "%s/store/keys.aside", fx->dir);
	assert_int_equal(rename(path, aside), 0);
	reopen(fx, &other_broker);
	assert_int_equal(head_of(fx, user2.pk, &seq, &err), CARNET_E_LOG_BROKEN);
	store_close(&fx->s);
	assert_int_equal(rename(aside, path), 0);
	/* what is left (and said in the docs): an older head put back
	 * with the entries it sealed verifies here; the person's kept head
	 * is what catches that */
	reopen(fx, &sealer);
	store_close(&fx->s);
	tamper_db(fx->dir, "heads", user.pk, ID_BYTES, old_head,
	    sizeof(old_head));
	for (seq = 7; seq <= 9; seq++) {
		log_key(key, user.pk, seq);
		tamper_db(fx->dir, "uselog", key, sizeof(key), NULL, 0);
	}
	reopen(fx, &sealer);
	assert_int_equal(head_of(fx, user.pk, &seq, &err), 0);
	assert_int_equal(seq, 6);
}

static void
test_logs_from_before_sealed_heads_are_sealed_once(void **state)
{
	struct fx *fx = *state;
	struct cerr err = {0};
	uint64_t seq;

	append_entries(fx->s, user.pk, 5);
	append_entries(fx->s, user2.pk, 2);
	store_close(&fx->s);
	/* as a store written before sealed heads */
	tamper_db(fx->dir, "heads", user.pk, ID_BYTES, NULL, 0);
	tamper_db(fx->dir, "heads", user2.pk, ID_BYTES, NULL, 0);
	tamper_db(fx->dir, "meta", "heads_sealed", 12, NULL, 0);
	assert_int_equal(reopen(fx, &sealer), 2);
	assert_int_equal(head_of(fx, user.pk, &seq, &err), 0);
	assert_int_equal(seq, 5);
	assert_int_equal(head_of(fx, user2.pk, &seq, &err), 0);
	assert_int_equal(seq, 2);
	/* once: a head removed later is not sealed again */
	store_close(&fx->s);
	tamper_db(fx->dir, "heads", user2.pk, ID_BYTES, NULL, 0);
	assert_int_equal(reopen(fx, &sealer), 0);
	assert_int_equal(head_of(fx, user2.pk, &seq, &err),
	    CARNET_E_LOG_BROKEN);
}

static int
salted_one(void *arg, uint64_t seq, const MDB_val *v)
{
	bool *salted = arg;
	struct uselog_entry e;

	assert_true(seq >= 1 && seq <= 5);
	assert_int_equal(uselog_decode(v->mv_data, v->mv_size, &e, NULL), 0);
	salted[seq - 1] = e.has_salt;
	return 0;
}

/*
 * A log from before salts (written by an earlier carnet) verifies as it
 * is and goes on with salted entries; two entries alike in every field
 * hash apart.
 */
static void
test_logs_from_before_salts_verify_and_go_on_salted(void **state)
{
	struct fx *fx = *state;
	struct uselog_entry e;
	struct tu_buf b;
	struct cerr err = {0};
	uint8_t key[ID_BYTES + 8], prev[HASH_BYTES] = {0}, h2[HASH_BYTES];
	bool salted[5];
	uint64_t seq, count;
	MDB_txn *txn;

	store_close(&fx->s);
	tu_buf_init(&b);
	for (seq = 1; seq <= 3; seq++) {
		memset(&e, 0, sizeof(e));
		e.seq = seq;
		e.time = 1600000000 + (int64_t)seq;
		e.kind = USE_EXPORT;
		memcpy(e.prev, prev, HASH_BYTES);
		tu_buf_reset(&b);
		uselog_pack(&b.pk, &e);
		uselog_hash(b.sb.data, b.sb.size, prev);
		log_key(key, user.pk, seq);
		tamper_db(fx->dir, "uselog", key, sizeof(key), b.sb.data,
		    b.sb.size);
	}
	tu_buf_release(&b);
	tamper_db(fx->dir, "meta", "heads_sealed", 12, NULL, 0);
	assert_int_equal(reopen(fx, &sealer), 1);
	assert_int_equal(verify(fx->s, user.pk, &count, &err), 0);
	assert_int_equal(count, 3);
	append_entries(fx->s, user.pk, 2);
	assert_int_equal(verify(fx->s, user.pk, &count, &err), 0);
	assert_int_equal(count, 5);
	assert_int_equal(store_txn_begin(fx->s, NULL, false, &txn, &err), 0);
	assert_int_equal(store_log_foreach(fx->s, txn, user.pk, 1, SIZE_MAX,
	    salted_one, salted), 0);
	assert_false(salted[0] || salted[1] || salted[2]);
	assert_true(salted[3] && salted[4]);
	store_txn_abort(&txn);

	/* the same first entry for two people: apart only by its salt */
	append_entries(fx->s, user2.pk, 1);
	append_entries(fx->s, app.pk, 1);
	assert_int_equal(store_txn_begin(fx->s, NULL, false, &txn, &err), 0);
	assert_int_equal(store_log_head(fx->s, txn, user2.pk, &seq, prev,
	    &err), 0);
	assert_int_equal(store_log_head(fx->s, txn, app.pk, &seq, h2, &err),
	    0);
	assert_memory_not_equal(prev, h2, HASH_BYTES);
	store_txn_abort(&txn);
}

/* A store from before the due index gets it filled once at open. */
static void
test_due_index_filled_once_for_an_older_store(void **state)
{
	struct fx *fx = *state;
	uint8_t got[4][TOKID_BYTES], key[ID_BYTES + TOKID_BYTES];
	struct token t1, t2, t3;
	struct store_upgrade up;
	struct cerr err = {0};
	MDB_txn *txn;
	uint8_t *blob;
	size_t len;
	uint64_t last;
	int stored, unerased = 0;

	make_token(&t1, false);
	make_token(&t2, false);
	make_token(&t3, false);
	assert_int_equal(token_sign(&t1, user.sk, &blob, &len, &err), 0);
	put_claims(fx->s, user.pk, "old", 2, &stored);
	assert_int_equal(store_txn_begin(fx->s, NULL, true, &txn, &err), 0);
	assert_int_equal(store_token_put(fx->s, txn, &t1, blob, len, 1000,
	    &err), 0);
	assert_int_equal(store_token_put(fx->s, txn, &t2, blob, len, 1000,
	    &err), 0);
	assert_int_equal(store_token_put(fx->s, txn, &t3, blob, len, 1000,
	    &err), 0);
	assert_int_equal(store_token_end(fx->s, txn, &t2, TOKEN_REVOKED, 1100,
	    &err), 0);
	assert_int_equal(store_user_last(fx->s, txn, user.pk, &last), 0);
	assert_int_equal(store_cursor_advance(fx->s, txn, t3.id, last, NULL, &err),
	    0);
	assert_int_equal(store_txn_commit(&txn, &err), 0);
	store_close(&fx->s);
	/* as written before the indexes */
	memcpy(key, app.pk, ID_BYTES);
	memcpy(key + ID_BYTES, t1.id, TOKID_BYTES);
	tamper_db(fx->dir, "due", key, sizeof(key), NULL, 0);
	memcpy(key + ID_BYTES, t3.id, TOKID_BYTES);
	tamper_db(fx->dir, "due", key, sizeof(key), NULL, 0);
	memcpy(key + ID_BYTES, t2.id, TOKID_BYTES);
	tamper_db(fx->dir, "unerased", key, sizeof(key), NULL, 0);
	tamper_db(fx->dir, "meta", "due_filled", 10, NULL, 0);
	assert_int_equal(reopen_with(fx, &sealer, &up, &err), 0);
	assert_int_equal(up.due_filled, 2);
	assert_int_equal(store_txn_begin(fx->s, NULL, false, &txn, &err), 0);
	/* t1 has records past its cursor; t3 has none; t2 ended */
	assert_int_equal(due_list(fx->s, txn, app.pk, got, 4), 1);
	assert_memory_equal(got[0], t1.id, TOKID_BYTES);
	assert_int_equal(store_unerased_of_app(fx->s, txn, app.pk,
	    count_unerased, &unerased), 0);
	assert_int_equal(unerased, 1);
	store_txn_abort(&txn);
	/* once */
	assert_int_equal(reopen_with(fx, &sealer, &up, &err), 0);
	assert_int_equal(up.due_filled, 0);
	free(blob);
}

static void
test_log_head_signature(void **state)
{
	struct keypair broker;
	uint8_t hash[HASH_BYTES] = {1}, sig[HEAD_SIG_BYTES];

	(void)state;
	assert_int_equal(key_generate(&broker), 0);
	uselog_head_sign(user.pk, 42, hash, broker.sk, sig);
	assert_int_equal(uselog_head_verify(user.pk, 42, hash, broker.pk, sig),
	    0);
	assert_int_equal(uselog_head_verify(user.pk, 41, hash, broker.pk, sig),
	    CARNET_E_BAD_SIGNATURE);
	assert_int_equal(uselog_head_verify(user2.pk, 42, hash, broker.pk, sig),
	    CARNET_E_BAD_SIGNATURE);
}

static void
test_erase_keeps_the_log_whole(void **state)
{
	struct fx *fx = *state;
	struct cerr err;
	struct recmeta m;
	MDB_txn *txn;
	uint64_t n, count;
	int stored;

	put_claims(fx->s, user.pk, "c", 300, &stored);
	put_claims(fx->s, user2.pk, "d", 3, &stored);
	append_entries(fx->s, user.pk, 10);
	assert_int_equal(store_txn_begin(fx->s, NULL, true, &txn, &err), 0);
	assert_int_equal(store_user_erase(fx->s, txn, user.pk, &n, &err), 0);
	assert_int_equal(n, 300);
	assert_int_equal(store_txn_commit(&txn, &err), 0);
	assert_int_equal(store_txn_begin(fx->s, NULL, false, &txn, &err), 0);
	assert_int_equal(store_user_next(fx->s, txn, user.pk, 0, &m),
	    CARNET_E_NOT_FOUND);
	assert_int_equal(store_user_next(fx->s, txn, user2.pk, 0, &m), 0);
	store_txn_abort(&txn);
	assert_int_equal(verify(fx->s, user.pk, &count, &err), 0);
	assert_int_equal(count, 10);
	/* a resend after erasure does not bring the data back */
	put_claims(fx->s, user.pk, "c", 300, &stored);
	assert_int_equal(stored, 0);
}

/* How many times needle (n bytes) occurs in the files of DIR/store. */
static int
occurrences(const char *dir, const void *needle, size_t n)
{
	static const char *const files[] = {"data.mdb", "lock.mdb", "keys"};
	char path[600];
	unsigned char *buf;
	size_t len, i, f;
	int hits = 0;
	FILE *fp;

	buf = malloc(64UL << 20);
	assert_non_null(buf);
	for (f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
		snprintf(path, sizeof(path), "%s/store/%s", dir, files[f]);
		if ((fp = fopen(path, "rb")) == NULL)
			continue;
		len = fread(buf, 1, 64UL << 20, fp);
		fclose(fp);
		for (i = 0; i + n <= len; i++)
			hits += memcmp(buf + i, needle, n) == 0;
	}
	free(buf);
	return hits;
}

/* The record key of u as the key file holds it (false: no slot names u). */
static bool
slot_key_of(const char *dir, const uint8_t *u, uint8_t key[32])
{
	uint8_t slot[64];
	char path[600];
	bool found = false;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/store/keys", dir);
	assert_non_null(fp = fopen(path, "rb"));
	while (fread(slot, 1, sizeof(slot), fp) == sizeof(slot))
		if (memcmp(slot, u, ID_BYTES) == 0) {
			assert_false(found); /* one slot per person */
			memcpy(key, slot + ID_BYTES, 32);
			found = true;
		}
	fclose(fp);
	return found;
}

/* The label of u's first record, read through the store. */
static int
first_label(struct store *s, const uint8_t *u, char *out, size_t n,
    struct cerr *err)
{
	msgpack_unpacked tree;
	const msgpack_object *o;
	struct record r;
	struct recmeta m;
	MDB_txn *txn;
	MDB_val v;
	int rc;

	assert_int_equal(store_txn_begin(s, NULL, false, &txn, err), 0);
	if ((rc = store_user_next(s, txn, u, 0, &m)) == 0 &&
	    (rc = store_record_get(s, txn, u, m.seq, &v, err)) == 0) {
		assert_int_equal(record_decode(v.mv_data, v.mv_size, &tree,
		    &r, err), 0);
		assert_non_null(o = mpk_get(r.body, "label"));
		snprintf(out, n, "%.*s", (int)o->via.str.size,
		    o->via.str.ptr);
		msgpack_unpacked_destroy(&tree);
	}
	store_txn_abort(&txn);
	return rc;
}

static void
test_erased_records_leave_nothing_readable(void **state)
{
	static const char secret[] = "Psychiatrie-ERASEME";
	struct fx *fx = *state;
	struct cerr err = {0};
	uint8_t key[32], key2[32];
	char label[64];
	MDB_txn *txn, *nested;
	uint64_t n;
	int stored;

	claim_label = secret;
	put_claims(fx->s, user.pk, "psy", 50, &stored);
	claim_label = "Kine-KEEPME";
	put_claims(fx->s, user2.pk, "kine", 50, &stored);
	claim_label = "Consultation";
	/* good path: the records read back through the store... */
	assert_int_equal(first_label(fx->s, user.pk, label, sizeof(label),
	    &err), 0);
	assert_string_equal(label, secret);
	/* ...and are sealed at rest: no plain copy in the files */
	assert_int_equal(occurrences(fx->dir, secret, strlen(secret)), 0);
	assert_int_equal(occurrences(fx->dir, "KEEPME", 6), 0);
	/* each person's key is in the key file, once */
	assert_true(slot_key_of(fx->dir, user.pk, key));
	assert_true(slot_key_of(fx->dir, user2.pk, key2));
	assert_int_equal(occurrences(fx->dir, key, 32), 1);

	/* an erasure in a nested transaction that is aborted wipes nothing,
	 * though its parent commits */
	assert_int_equal(store_txn_begin(fx->s, NULL, true, &txn, &err), 0);
	assert_int_equal(store_txn_begin(fx->s, txn, true, &nested, &err), 0);
	assert_int_equal(store_user_erase(fx->s, nested, user.pk, &n, &err),
	    0);
	assert_int_equal(n, 50);
	store_txn_abort(&nested);
	assert_int_equal(store_txn_commit(&txn, &err), 0);
	assert_int_equal(first_label(fx->s, user.pk, label, sizeof(label),
	    &err), 0);
	assert_int_equal(occurrences(fx->dir, key, 32), 1);

	/* the erasure: the key is overwritten on commit, found nowhere */
	assert_int_equal(store_txn_begin(fx->s, NULL, true, &txn, &err), 0);
	assert_int_equal(store_user_erase(fx->s, txn, user.pk, &n, &err), 0);
	assert_int_equal(n, 50);
	assert_int_equal(store_txn_commit(&txn, &err), 0);
	assert_int_equal(occurrences(fx->dir, key, 32), 0);
	assert_false(slot_key_of(fx->dir, user.pk, key));
	assert_int_equal(first_label(fx->s, user.pk, label, sizeof(label),
	    &err), CARNET_E_NOT_FOUND);
	/* the other person's records are untouched */
	assert_int_equal(first_label(fx->s, user2.pk, label, sizeof(label),
	    &err), 0);
	assert_string_equal(label, "Kine-KEEPME");
	assert_int_equal(occurrences(fx->dir, key2, 32), 1);
	reopen(fx, &sealer);
	assert_int_equal(first_label(fx->s, user2.pk, label, sizeof(label),
	    &err), 0);

	/* a new record later gets a new key (in the wiped slot) */
	put_claims(fx->s, user.pk, "new", 1, &stored);
	assert_int_equal(stored, 1);
	assert_true(slot_key_of(fx->dir, user.pk, key2));
	assert_memory_not_equal(key, key2, 32);
	assert_int_equal(first_label(fx->s, user.pk, label, sizeof(label),
	    &err), 0);
}

static void
be64_fill(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

/*
 * A key file lost or cut short beside a data.mdb whose people hold key
 * slots is refused at the start, naming both counts: a fresh file made in
 * its place would leave their records unreadable without a word.
 */
static void
test_a_lost_key_file_is_refused(void **state)
{
	struct fx *fx = *state;
	struct cerr err = {0};
	struct store_upgrade up;
	char path[600], aside[620], label[64];
	int stored;

	put_claims(fx->s, user.pk, "c", 2, &stored);
	put_claims(fx->s, user2.pk, "d", 1, &stored);
	assert_int_equal(first_label(fx->s, user2.pk, label, sizeof(label),
	    &err), 0);
	store_close(&fx->s);
	snprintf(path, sizeof(path), "%s/store/keys", fx->dir);
	snprintf(aside, sizeof(aside), "%s/store/keys.aside", fx->dir);
	/* gone: a new one would be made, holding nobody's key */
	assert_int_equal(rename(path, aside), 0);
	assert_int_equal(reopen_with(fx, &sealer, &up, &err), CARNET_E_STORE);
	assert_non_null(strstr(err.msg, "holds 0 key slots, the store handed "
	    "out 2"));
	store_close(&fx->s);
	assert_int_equal(unlink(path), 0);
	/* cut short: user2's slot missing */
	assert_int_equal(rename(aside, path), 0);
	assert_int_equal(truncate(path, 2 * RECKEYS_SLOT_BYTES), 0);
	assert_int_equal(reopen_with(fx, &sealer, &up, &err), CARNET_E_STORE);
	assert_non_null(strstr(err.msg, "holds 1 key slots"));
	store_close(&fx->s);
}

static void
test_records_are_sealed_to_their_place(void **state)
{
	struct fx *fx = *state;
	struct cerr err = {0};
	struct store_upgrade up;
	uint8_t k1[8], k2[8], plain[1024], sealed[1024], slot[8], ukey[40];
	size_t plen, slen;
	struct recmeta m;
	char label[64];
	MDB_txn *txn;
	MDB_val v;
	int stored;

	put_claims(fx->s, user.pk, "c", 3, &stored);
	put_claims(fx->s, user2.pk, "d", 1, &stored);
	assert_int_equal(store_txn_begin(fx->s, NULL, false, &txn, &err), 0);
	assert_int_equal(store_user_next(fx->s, txn, user.pk, 0, &m), 0);
	assert_int_equal(store_record_get(fx->s, txn, user.pk, m.seq, &v,
	    &err), 0);
	memcpy(plain, v.mv_data, plen = v.mv_size);
	store_txn_abort(&txn);
	be64_fill(k1, m.seq);
	be64_fill(k2, m.seq + 1);

	/* a sealed record moved to another seq does not open */
	slen = raw_value(fx, "records", k2, 8, sealed, sizeof(sealed));
	tamper_db(fx->dir, "records", k1, 8, sealed, slen);
	reopen(fx, &sealer);
	assert_int_equal(first_label(fx->s, user.pk, label, sizeof(label),
	    &err), CARNET_E_STORE);
	assert_non_null(strstr(err.msg, "does not open"));
	/* nor under another person's key (their slot put in hers) */
	store_close(&fx->s);
	tamper_db(fx->dir, "records", k1, 8, sealed, slen);
	raw_value(fx, "ukeys", user2.pk, ID_BYTES, slot, sizeof(slot));
	raw_value(fx, "ukeys", user.pk, ID_BYTES, ukey, sizeof(ukey));
	tamper_db(fx->dir, "ukeys", user.pk, ID_BYTES, slot, 8);
	reopen(fx, &sealer);
	assert_int_equal(first_label(fx->s, user.pk, label, sizeof(label),
	    &err), CARNET_E_STORE);
	assert_non_null(strstr(err.msg, "does not hold this person's key"));
	store_close(&fx->s);
	tamper_db(fx->dir, "ukeys", user.pk, ID_BYTES, ukey, 8);

	/* a plain record written into the files is not served... */
	tamper_db(fx->dir, "records", k1, 8, plain, plen);
	reopen(fx, &sealer);
	assert_int_equal(first_label(fx->s, user.pk, label, sizeof(label),
	    &err), CARNET_E_STORE);
	assert_non_null(strstr(err.msg, "not sealed"));
	/* ...but a store from before sealed records is sealed once */
	store_close(&fx->s);
	tamper_db(fx->dir, "meta", "records_sealed", 14, NULL, 0);
	assert_int_equal(reopen_with(fx, &sealer, &up, &err), 0);
	assert_int_equal(up.records_sealed, 1);
	assert_int_equal(first_label(fx->s, user.pk, label, sizeof(label),
	    &err), 0);
	assert_string_equal(label, "Consultation");
	assert_int_equal(reopen_with(fx, &sealer, &up, &err), 0);
	assert_int_equal(up.records_sealed, 0);
}

static void
test_an_erasure_cut_short_is_wiped_at_start(void **state)
{
	struct fx *fx = *state;
	struct cerr err = {0};
	uint8_t key[32], slot[8];
	char label[64];
	int stored;

	put_claims(fx->s, user.pk, "c", 5, &stored);
	assert_true(slot_key_of(fx->dir, user.pk, key));
	/* as a crash leaves an erasure: committed, its slot not yet
	 * overwritten */
	raw_value(fx, "ukeys", user.pk, ID_BYTES, slot, sizeof(slot));
	tamper_db(fx->dir, "ukeys", user.pk, ID_BYTES, NULL, 0);
	tamper_db(fx->dir, "kwipe", slot, 8, "", 0);
	assert_int_equal(occurrences(fx->dir, key, 32), 1);
	reopen(fx, &sealer);
	assert_int_equal(occurrences(fx->dir, key, 32), 0);
	assert_int_equal(first_label(fx->s, user.pk, label, sizeof(label),
	    &err), CARNET_E_STORE);
}

static void
test_full_map_is_an_error_not_a_crash(void **state)
{
	char *dir = tu_tmpdir();
	struct store *s;
	struct cerr err;
	msgpack_sbuffer sb;
	msgpack_unpacked tree;
	struct record r;
	MDB_txn *txn;
	uint64_t seq;
	bool dup;
	uint64_t corr;
	struct store_upgrade up;
	int i, rc = 0, committed = 0;
	char ref[32];

	(void)state;
	assert_int_equal(store_open(dir, 256 * 1024, &s, &err), 0);
	assert_int_equal(store_set_key(s, sealer.sk, &up, &err), 0);
	msgpack_sbuffer_init(&sb);
	for (i = 0; i < 100000 && rc == 0; i++) {
		assert_int_equal(store_txn_begin(s, NULL, true, &txn, &err), 0);
		snprintf(ref, sizeof(ref), "r-%d", i);
		make_claim(user.pk, ref, 1488448800, &sb, &tree, &r);
		rc = store_record_put(s, txn, &r, &seq, &dup, &corr, NULL, &err);
		msgpack_unpacked_destroy(&tree);
		if (rc == 0)
			rc = store_txn_commit(&txn, &err);
		else
			store_txn_abort(&txn);
		committed += rc == 0;
	}
	assert_int_equal(rc, CARNET_E_STORE_FULL);
	assert_true(committed > 10);
	/* what was committed is still there */
	store_close(&s);
	assert_int_equal(store_open(dir, 256 * 1024, &s, &err), 0);
	assert_int_equal(store_txn_begin(s, NULL, false, &txn, &err), 0);
	assert_int_equal(store_user_last(s, txn, user.pk, &seq), 0);
	assert_int_equal(seq, (uint64_t)committed);
	store_txn_abort(&txn);
	store_close(&s);
	msgpack_sbuffer_destroy(&sb);
	tu_rmtree(&dir);
}

/* A nested transaction that aborts takes its writes out of the write set
 * too: the replica (compared at teardown) holds what the store kept. */
static void
test_write_sets_follow_nested_transactions(void **state)
{
	struct fx *fx = *state;
	msgpack_sbuffer sb;
	msgpack_unpacked tree;
	struct record r;
	struct cerr err = {0};
	MDB_txn *top, *kept, *undone;
	const char *refs[] = {"top-1", "undone-1", "kept-1", "top-2"};
	MDB_txn **in[] = {&top, &undone, &kept, &top};
	uint64_t seq, corr, before = fx->sets;
	bool dup;
	int i;

	msgpack_sbuffer_init(&sb);
	assert_int_equal(store_txn_begin(fx->s, NULL, true, &top, &err), 0);
	for (i = 0; i < 4; i++) {
		if (i == 1)
			assert_int_equal(store_txn_begin(fx->s, top, true,
			    &undone, &err), 0);
		if (i == 2) {
			store_txn_abort(&undone);
			assert_int_equal(store_txn_begin(fx->s, top, true,
			    &kept, &err), 0);
		}
		if (i == 3)
			assert_int_equal(store_txn_commit(&kept, &err), 0);
		make_claim(user.pk, refs[i], 1488448800 + i, &sb, &tree, &r);
		assert_int_equal(store_record_put(fx->s, *in[i], &r, &seq,
		    &dup, &corr, NULL, &err), 0);
		assert_false(dup);
		msgpack_unpacked_destroy(&tree);
	}
	assert_int_equal(store_txn_commit(&top, &err), 0);
	assert_int_equal(fx->sets, before + 1);
	/* the undone ref is not stored, here or in the replica */
	make_claim(user.pk, "undone-1", 1488448800, &sb, &tree, &r);
	assert_int_equal(store_txn_begin(fx->s, NULL, true, &top, &err), 0);
	assert_int_equal(store_record_put(fx->s, top, &r, &seq, &dup, &corr,
	    NULL, &err), 0);
	assert_false(dup);
	msgpack_unpacked_destroy(&tree);
	store_txn_abort(&top);
	assert_int_equal(fx->sets, before + 1);
	msgpack_sbuffer_destroy(&sb);
}

static void
test_parties(void **state)
{
	struct fx *fx = *state;
	struct party p = {0}, back;
	uint8_t curve[32], id[ID_BYTES];
	struct cerr err;
	MDB_txn *txn;

	memcpy(p.id, holder.pk, ID_BYTES);
	p.role = ROLE_HOLDER;
	strcpy(p.name, "mgen");
	p.ntypes = 1;
	p.types[0] = schema_by_name("claim", 5);
	assert_int_equal(store_txn_begin(fx->s, NULL, true, &txn, &err), 0);
	assert_int_equal(store_party_add(fx->s, txn, &p, &err), 0);
	assert_int_equal(store_party_add(fx->s, txn, &p, &err),
	    CARNET_E_EXISTS);
	assert_int_equal(store_txn_commit(&txn, &err), 0);
	assert_int_equal(store_txn_begin(fx->s, NULL, false, &txn, &err), 0);
	assert_int_equal(store_party_get(fx->s, txn, holder.pk, &back), 0);
	assert_string_equal(back.name, "mgen");
	assert_int_equal(back.role, ROLE_HOLDER);
	assert_true(party_has_type(&back, schema_by_name("claim", 5)));
	assert_false(party_has_type(&back, schema_by_name("dispense", 8)));
	assert_int_equal(key_curve_pk(holder.pk, curve), 0);
	assert_int_equal(store_party_by_curve(fx->s, txn, curve, id), 0);
	assert_memory_equal(id, holder.pk, ID_BYTES);
	assert_int_equal(store_party_get(fx->s, txn, user.pk, &back),
	    CARNET_E_NOT_FOUND);
	store_txn_abort(&txn);
}

/* Timers come out in time order and survive a reopen; a token's end,
 * erase confirmation and renewal keep the other fields of its state. */
static void
test_timers_and_token_lifecycle(void **state)
{
	struct fx *fx = *state;
	struct token t, t2;
	struct token_state st;
	struct cerr err;
	enum timer_kind kind;
	uint8_t tok[TOKID_BYTES], *blob, *blob2;
	int64_t at;
	size_t len, len2;
	MDB_txn *txn;

	make_token(&t, false);
	t.expires = 5000;
	assert_int_equal(token_sign(&t, user.sk, &blob, &len, &err), 0);
	assert_int_equal(store_txn_begin(fx->s, NULL, true, &txn, &err), 0);
	assert_int_equal(store_timer_first(fx->s, txn, &at, &kind, tok),
	    CARNET_E_NOT_FOUND);
	assert_int_equal(store_token_put(fx->s, txn, &t, blob, len, 1000,
	    &err), 0);
	/* erasure cannot be confirmed for a live consent */
	assert_int_equal(store_token_erased(fx->s, txn, &t, 1100, &err),
	    CARNET_E_BAD_ARG);
	assert_int_equal(store_timer_put(fx->s, txn, 5000, TIMER_EXPIRE, t.id,
	    &err), 0);
	assert_int_equal(store_timer_put(fx->s, txn, 300, TIMER_NOTICE, t.id,
	    &err), 0);
	assert_int_equal(store_timer_put(fx->s, txn, 70000, TIMER_REVIEW, t.id,
	    &err), 0);
	assert_int_equal(store_txn_commit(&txn, &err), 0);
	store_close(&fx->s);
	reopen(fx, &sealer);

	assert_int_equal(store_txn_begin(fx->s, NULL, true, &txn, &err), 0);
	assert_int_equal(store_timer_first(fx->s, txn, &at, &kind, tok), 0);
	assert_int_equal(at, 300);
	assert_int_equal(kind, TIMER_NOTICE);
	assert_memory_equal(tok, t.id, TOKID_BYTES);
	assert_int_equal(store_timer_del(fx->s, txn, at, kind, tok, &err), 0);
	assert_int_equal(store_timer_first(fx->s, txn, &at, &kind, tok), 0);
	assert_int_equal(at, 5000);
	assert_int_equal(kind, TIMER_EXPIRE);
	/* renewal: new bytes, same state */
	t2 = t;
	t2.expires = 9000;
	assert_int_equal(token_sign(&t2, user.sk, &blob2, &len2, &err), 0);
	assert_int_equal(store_token_set_paused(fx->s, txn, &t, true, &err),
	    0);
	assert_int_equal(store_token_replace(fx->s, txn, &t2, blob2, len2,
	    &err), 0);
	assert_int_equal(store_token_get(fx->s, txn, t.id, &st), 0);
	assert_int_equal(st.state, TOKEN_PAUSED);
	assert_int_equal(st.granted_at, 1000);
	assert_int_equal(st.blob_len, len2);
	assert_memory_equal(st.blob, blob2, len2);
	/* the end, then the app's confirmation (once) */
	assert_int_equal(store_token_end(fx->s, txn, &t2, TOKEN_EXPIRED, 9000,
	    &err), 0);
	assert_int_equal(store_token_set_paused(fx->s, txn, &t, false, &err),
	    CARNET_E_EXPIRED);
	assert_int_equal(store_token_erased(fx->s, txn, &t, 9100, &err), 0);
	assert_int_equal(store_token_erased(fx->s, txn, &t, 9999, &err), 0);
	assert_int_equal(store_token_get(fx->s, txn, t.id, &st), 0);
	assert_int_equal(st.state, TOKEN_EXPIRED);
	assert_int_equal(st.ended_at, 9000);
	assert_int_equal(st.erased_at, 9100);
	assert_int_equal(st.granted_at, 1000);
	assert_memory_equal(st.blob, blob2, len2);
	assert_int_equal(store_txn_commit(&txn, &err), 0);
	free(blob);
	free(blob2);
}

/*
 * The key of the opaque refs apps see (security issue 30, item 3): made
 * at the first start, kept in meta across restarts (so an app's ids stay
 * the same), made once for a store from before it; a damaged one stops
 * the start rather than be replaced by a new one (every id would change).
 */
static void
test_the_ref_key_is_made_once_and_kept(void **state)
{
	struct fx *fx = *state;
	uint8_t k1[RECORD_REF_KEY_BYTES], zero[RECORD_REF_KEY_BYTES] = {0};
	struct store_upgrade up;
	struct cerr err = {0};

	/* setup started it once: here it is, and a restart keeps it */
	assert_non_null(store_ref_key(fx->s));
	memcpy(k1, store_ref_key(fx->s), sizeof(k1));
	assert_memory_not_equal(k1, zero, sizeof(k1));
	assert_int_equal(reopen_with(fx, &sealer, &up, &err), 0);
	assert_false(up.ref_key_made);
	assert_memory_equal(store_ref_key(fx->s), k1, sizeof(k1));
	/* before store_set_key, none */
	store_close(&fx->s);
	assert_int_equal(store_open(fx->dir, 64UL << 20, &fx->s, &err), 0);
	assert_null(store_ref_key(fx->s));
	/* a store from before opaque refs gets one, once */
	store_close(&fx->s);
	tamper_db(fx->dir, "meta", "ref_key", 7, NULL, 0);
	assert_int_equal(reopen_with(fx, &sealer, &up, &err), 0);
	assert_true(up.ref_key_made);
	assert_memory_not_equal(store_ref_key(fx->s), k1, sizeof(k1));
	memcpy(k1, store_ref_key(fx->s), sizeof(k1));
	assert_int_equal(reopen_with(fx, &sealer, &up, &err), 0);
	assert_false(up.ref_key_made);
	assert_memory_equal(store_ref_key(fx->s), k1, sizeof(k1));
	/* a damaged key: the start stops, nothing made in its place */
	store_close(&fx->s);
	tamper_db(fx->dir, "meta", "ref_key", 7, "short", 5);
	assert_int_equal(reopen_with(fx, &sealer, &up, &err), CARNET_E_STORE);
	assert_non_null(strstr(cerr_msg(&err), "opaque refs"));
	assert_false(up.ref_key_made);
}

/*
 * The withdrawal count (carnetd's witness keeps it outside DIR): one per
 * pause, end, erasure and card change, known once its transaction commits;
 * puts, grants and resumes count nothing, nor does an aborted transaction,
 * nested or not; it survives a reopen and is only ever raised.
 */
static void
test_withdrawals_are_counted_at_commit(void **state)
{
	struct fx *fx = *state;
	struct token t, t2;
	struct cerr err;
	MDB_txn *txn, *sub;
	uint8_t *blob;
	size_t len;
	uint64_t n;
	int stored;

	assert_int_equal(store_withdrawals(fx->s), 0);
	put_claims(fx->s, user.pk, "w", 3, &stored);
	assert_int_equal(stored, 3);
	make_token(&t, false);
	make_token(&t2, true);
	assert_int_equal(token_sign(&t, user.sk, &blob, &len, &err), 0);
	assert_int_equal(store_txn_begin(fx->s, NULL, true, &txn, &err), 0);
	assert_int_equal(store_token_put(fx->s, txn, &t, blob, len, 1000,
	    &err), 0);
	assert_int_equal(store_token_put(fx->s, txn, &t2, blob, len, 1000,
	    &err), 0);
	assert_int_equal(store_txn_commit(&txn, &err), 0);
	assert_int_equal(store_withdrawals(fx->s), 0);

	/* a pause: counted at the commit, not before */
	assert_int_equal(store_txn_begin(fx->s, NULL, true, &txn, &err), 0);
	assert_int_equal(store_token_set_paused(fx->s, txn, &t, true, &err),
	    0);
	assert_int_equal(store_withdrawals(fx->s), 0);
	assert_int_equal(store_txn_commit(&txn, &err), 0);
	assert_int_equal(store_withdrawals(fx->s), 1);
	/* a resume counts nothing */
	assert_int_equal(store_txn_begin(fx->s, NULL, true, &txn, &err), 0);
	assert_int_equal(store_token_set_paused(fx->s, txn, &t, false, &err),
	    0);
	assert_int_equal(store_txn_commit(&txn, &err), 0);
	assert_int_equal(store_withdrawals(fx->s), 1);
	/* a revocation in a nested txn that aborts, and in a top-level one
	 * that aborts: nothing */
	assert_int_equal(store_txn_begin(fx->s, NULL, true, &txn, &err), 0);
	assert_int_equal(store_txn_begin(fx->s, txn, true, &sub, &err), 0);
	assert_int_equal(store_token_end(fx->s, sub, &t, TOKEN_REVOKED, 1100,
	    &err), 0);
	store_txn_abort(&sub);
	assert_int_equal(store_txn_commit(&txn, &err), 0);
	assert_int_equal(store_withdrawals(fx->s), 1);
	assert_int_equal(store_txn_begin(fx->s, NULL, true, &txn, &err), 0);
	assert_int_equal(store_token_end(fx->s, txn, &t, TOKEN_REVOKED, 1100,
	    &err), 0);
	store_txn_abort(&txn);
	assert_int_equal(store_withdrawals(fx->s), 1);
	/* a revocation kept by its nested txn, an expiry, an erasure and a
	 * card change in one commit: four */
	assert_int_equal(store_txn_begin(fx->s, NULL, true, &txn, &err), 0);
	assert_int_equal(store_txn_begin(fx->s, txn, true, &sub, &err), 0);
	assert_int_equal(store_token_end(fx->s, sub, &t, TOKEN_REVOKED, 1200,
	    &err), 0);
	assert_int_equal(store_txn_commit(&sub, &err), 0);
	assert_int_equal(store_token_end(fx->s, txn, &t2, TOKEN_EXPIRED, 1200,
	    &err), 0);
	assert_int_equal(store_user_erase(fx->s, txn, user.pk, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_int_equal(store_card_put(fx->s, txn, user.pk, "c", 1, &err), 0);
	assert_int_equal(store_txn_commit(&txn, &err), 0);
	assert_int_equal(store_withdrawals(fx->s), 5);
	reopen(fx, &sealer);
	assert_int_equal(store_withdrawals(fx->s), 5);
	/* raised past a witness, never lowered */
	assert_int_equal(store_withdrawals_raise(fx->s, 9, &err), 0);
	assert_int_equal(store_withdrawals(fx->s), 9);
	assert_int_equal(store_withdrawals_raise(fx->s, 4, &err), 0);
	assert_int_equal(store_withdrawals(fx->s), 9);
	reopen(fx, &sealer);
	assert_int_equal(store_withdrawals(fx->s), 9);
	free(blob);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_records_survive_reopen_and_resend_is_stored_once,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_tokens_and_revocation, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_withdrawals_are_counted_at_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_new_version_corrects_the_latest, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_versions_are_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_due_index_follows_records_and_states, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_due_index_filled_once_for_an_older_store, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_cursor_never_goes_back,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_log_chain_verifies_and_detects_changes, setup,
		    teardown),
		cmocka_unit_test(test_log_head_signature),
		cmocka_unit_test_setup_teardown(
		    test_log_heads_are_sealed_at_append, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_logs_from_before_sealed_heads_are_sealed_once, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_logs_from_before_salts_verify_and_go_on_salted, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_erase_keeps_the_log_whole,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_erased_records_leave_nothing_readable, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_lost_key_file_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_records_are_sealed_to_their_place, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_an_erasure_cut_short_is_wiped_at_start, setup,
		    teardown),
		cmocka_unit_test(test_full_map_is_an_error_not_a_crash),
		cmocka_unit_test_setup_teardown(
		    test_the_ref_key_is_made_once_and_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parties, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_write_sets_follow_nested_transactions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timers_and_token_lifecycle,
		    setup, teardown),
	};

	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
