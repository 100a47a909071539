/*
 * test_broker.c: the real carnetd, started as a process on loopback with a
 * temporary data directory, driven through the client library and raw
 * frames.  Nothing is mocked: real sockets, CurveZMQ, LMDB on disk.
 */
#include "brokerops.h"

#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include <lmdb.h>
#include <sodium.h>
#include <zmq.h>

#include "../client/client.h"
#include "../client/feed.h"
#include "../common/mpk.h"
#include "../common/proto.h"
#include "../schemas/recjson.h"
#include "../store/store.h"

struct received {
	int n, revoked;
	uint64_t max_seq;
	uint64_t field_union;      /* fields seen, as claim indexes */
	bool wrong_holder, wrong_type;
	uint64_t seqs[256];        /* the first records' seqs, in order */
};

/* ACK one record on c. */
static void
ack_rec(struct client *c, const uint8_t tok[TOKID_BYTES], uint64_t seq)
{
	struct cerr err = {0};
	msgpack_packer *pk = client_begin(c, 1);

	mpk_pack_cstr(pk, "acks");
	msgpack_pack_array(pk, 1);
	msgpack_pack_array(pk, 2);
	mpk_pack_binn(pk, tok, TOKID_BYTES);
	msgpack_pack_uint64(pk, seq);
	assert_int_equal(client_send(c, "ACK", &err), 0);
}

/*
 * On the live feed c, collect until `want` records came (when want > 0)
 * or idle_ms of silence; ack when `ack` is true.
 */
static void
collect(struct client *c, int want, int idle_ms, bool ack,
    const struct keypair *want_holder, const char *want_type,
    struct received *got)
{
	msgpack_unpacked m;
	struct cerr err = {0};
	char cmd[16];
	const struct schema *claim = schema_by_name("claim", 5);

	memset(got, 0, sizeof(*got));
	while ((want == 0 || got->n < want) &&
	    client_recv(c, idle_ms, cmd, &m, &err) == 0) {
		const msgpack_object *recs = mpk_get(&m.data, "recs");
		uint32_t i;

		if (strcmp(cmd, "REVOKED") == 0)
			got->revoked++;
		for (i = 0; recs && i < recs->via.array.size; i++) {
			const msgpack_object *e = &recs->via.array.ptr[i];
			struct record r;
			uint8_t tok[TOKID_BYTES];
			uint64_t seq;
			uint32_t f;

			assert_int_equal(mpk_u64(mpk_get(e, "seq"), &seq), 0);
			assert_int_equal(mpk_bin_n(mpk_get(e, "token"), tok,
			    TOKID_BYTES), 0);
			assert_int_equal(record_from_object_partial(
			    mpk_get(e, "rec"), &r, &err), 0);
			if (want_holder && memcmp(r.holder, want_holder->pk,
			    ID_BYTES) != 0)
				got->wrong_holder = true;
			if (want_type && strcmp(r.type->name, want_type) != 0)
				got->wrong_type = true;
			for (f = 0; r.type == claim && f < r.body->via.map.size;
			    f++) {
				const msgpack_object *k =
				    &r.body->via.map.ptr[f].key;

				got->field_union |= UINT64_C(1) << schema_field(
				    claim, k->via.str.ptr, k->via.str.size);
			}
			if (seq > got->max_seq)
				got->max_seq = seq;
			if (got->n < (int)(sizeof(got->seqs) /
			    sizeof(got->seqs[0])))
				got->seqs[got->n] = seq;
			got->n++;
			if (ack)
				ack_rec(c, tok, seq);
		}
		msgpack_unpacked_destroy(&m);
	}
}

/* Leave the feed, as an app does, and close c. */
static void
feed_close(struct client **c)
{
	struct cerr err = {0};

	client_begin(*c, 0);
	assert_int_equal(client_send(*c, "UNSUB", &err), 0);
	client_destroy(c);
}

/*
 * Subscribe as app with `credit`, collect until `want` records came (when
 * want > 0) or idle_ms of silence; ack when `ack` is true.
 */
static void
subscribe_until(const struct keypair *app, uint64_t credit, int want,
    int idle_ms, bool ack, const struct keypair *want_holder,
    const char *want_type, struct received *got)
{
	struct client *c = feed_with_credit(app, credit);

	collect(c, want, idle_ms, ack, want_holder, want_type, got);
	feed_close(&c);
}

static void
subscribe(const struct keypair *app, uint64_t credit, int idle_ms, bool ack,
    const struct keypair *want_holder, const char *want_type,
    struct received *got)
{
	subscribe_until(app, credit, 0, idle_ms, ack, want_holder, want_type,
	    got);
}

static uint64_t
claim_mask(const char *a, const char *b)
{
	const struct schema *s = schema_by_name("claim", 5);

	return (UINT64_C(1) << schema_field(s, a, strlen(a))) |
	    (UINT64_C(1) << schema_field(s, b, strlen(b)));
}

static void
test_only_consented_records_with_only_allowed_fields(void **state)
{
	struct token t;
	struct cerr err = {0};
	struct received got;

	(void)state;
	make_token(&t, &alice, &budget, "claim",
	    claim_mask("act_code", "amount_eur"), &mgen);
	assert_int_equal(grant_signed(&alice, &t, alice.sk, &err), 0);
	assert_int_equal(put(&mgen, &alice, "claim", "c", 10, NULL), 10);
	assert_int_equal(put(&lab, &alice, "claim", "l", 5, NULL), 5);
	assert_int_equal(put(&mgen, &alice, "dispense", "d", 3, NULL), 3);
	assert_int_equal(put(&mgen, &bob, "claim", "b", 4, NULL), 4);

	subscribe_until(&budget, 1000, 10, 10000, true, &mgen, "claim", &got);
	assert_int_equal(got.n, 10);  /* not lab's, not dispense, not bob's */
	assert_false(got.wrong_holder);
	assert_false(got.wrong_type);
	assert_true(got.field_union == claim_mask("act_code", "amount_eur"));

	/* another app, no consent: nothing */
	subscribe(&other, 1000, 800, true, NULL, NULL, &got);
	assert_int_equal(got.n, 0);
	/* acked: the same app subscribing again gets nothing new */
	subscribe(&budget, 1000, 800, true, NULL, NULL, &got);
	assert_int_equal(got.n, 0);
	broker_alive(&br);
}

static void
test_credit_bounds_sending_and_unacked_is_resent(void **state)
{
	struct token t;
	struct cerr err = {0};
	struct received got;

	(void)state;
	make_token(&t, &alice, &budget, "claim", FIELDS_ALL, NULL);
	assert_int_equal(grant_signed(&alice, &t, alice.sk, &err), 0);
	assert_int_equal(put(&mgen, &alice, "claim", "c", 50, NULL), 50);
	subscribe(&budget, 7, 2500, false, NULL, NULL, &got);
	assert_int_equal(got.n, 7);       /* never past the credit */
	subscribe_until(&budget, 1000, 50, 10000, false, NULL, NULL, &got);
	assert_int_equal(got.n, 50);      /* nothing was acked: all again */
	subscribe(&budget, 20, 2500, true, NULL, NULL, &got);
	assert_int_equal(got.n, 20);
	subscribe_until(&budget, 1000, 30, 10000, true, NULL, NULL, &got);
	assert_int_equal(got.n, 30);      /* from the durable cursor */
}

static void
test_revocation_stops_the_flow(void **state)
{
	struct token t, td;
	struct cerr err = {0};
	struct received got;
	struct client *c;

	(void)state;
	make_token(&t, &alice, &budget, "claim", FIELDS_ALL, NULL);
	assert_int_equal(grant_signed(&alice, &t, alice.sk, &err), 0);
	make_token(&td, &alice, &budget, "dispense", FIELDS_ALL, NULL);
	assert_int_equal(grant_signed(&alice, &td, alice.sk, &err), 0);
	/* under the consent, claims reach the live feed */
	c = feed_with_credit(&budget, 1000);
	assert_int_equal(put(&mgen, &alice, "claim", "a", 5, NULL), 5);
	collect(c, 5, 10000, true, NULL, "claim", &got);
	assert_int_equal(got.n, 5);
	assert_false(got.wrong_type);
	/* revoked: the feed is told, and no claim comes after, though the
	 * same feed goes on receiving under her other consent */
	assert_int_equal(revoke(&alice, &alice, t.id, &err), 0);
	assert_int_equal(put(&mgen, &alice, "claim", "b", 5, NULL), 5);
	assert_int_equal(put(&mgen, &alice, "dispense", "d", 3, NULL), 3);
	collect(c, 0, 1500, true, NULL, "dispense", &got);
	assert_int_equal(got.revoked, 1);
	assert_int_equal(got.n, 3);
	assert_false(got.wrong_type);
	feed_close(&c);
	/* nor on a new feed */
	subscribe(&budget, 1000, 800, true, NULL, NULL, &got);
	assert_int_equal(got.n, 0);
	/* revoking twice is harmless */
	assert_int_equal(revoke(&alice, &alice, t.id, &err), 0);
}

static void
test_revoked_push_reaches_a_live_subscriber(void **state)
{
	struct token t;
	struct cerr err = {0};
	struct client *c;
	msgpack_unpacked m;
	char cmd[16];
	bool revoked = false;
	int i;

	(void)state;
	make_token(&t, &alice, &budget, "claim", FIELDS_ALL, NULL);
	assert_int_equal(grant_signed(&alice, &t, alice.sk, &err), 0);
	c = feed_with_credit(&budget, 100);
	assert_int_equal(revoke(&alice, &alice, t.id, &err), 0);
	for (i = 0; i < 5 && !revoked; i++)
		if (client_recv(c, 1000, cmd, &m, &err) == 0) {
			revoked = strcmp(cmd, "REVOKED") == 0;
			msgpack_unpacked_destroy(&m);
		}
	assert_true(revoked);
	client_destroy(&c);
}

static void
test_unregistered_null_and_plain_clients_are_refused(void **state)
{
	struct client *c;
	struct cerr err = {0};
	void *ctx, *s;
	zmq_pollitem_t it;
	int timeout = 1000, i;
	const char *mech[2] = {"null", "plain"};

	(void)state;
	/* an unknown CURVE key: a clear error, fast, not a hang */
	assert_int_equal(client_new(br.endpoint, br.id, &stranger, &c, &err), 0);
	assert_int_equal(client_wait_ready(c, 5000, &err), CARNET_E_AUTH);
	assert_non_null(strstr(err.msg, "refused our key"));
	client_destroy(&c);
	/* NULL and PLAIN clients: no answer to anything */
	for (i = 0; i < 2; i++) {
		ctx = zmq_ctx_new();
		s = zmq_socket(ctx, ZMQ_DEALER);
		zmq_setsockopt(s, ZMQ_RCVTIMEO, &timeout, sizeof(timeout));
		if (i == 1) {
			zmq_setsockopt(s, ZMQ_PLAIN_USERNAME, "admin", 5);
			zmq_setsockopt(s, ZMQ_PLAIN_PASSWORD, "admin", 5);
		}
		assert_int_equal(zmq_connect(s, br.endpoint), 0);
		zmq_send(s, "HELLO", 5, ZMQ_SNDMORE | ZMQ_DONTWAIT);
		zmq_send(s, "\x80", 1, ZMQ_DONTWAIT);
		it.socket = s;
		it.events = ZMQ_POLLIN;
		if (zmq_poll(&it, 1, 1500) > 0)
			fail_msg("a %s client got an answer", mech[i]);
		timeout = 0;
		zmq_setsockopt(s, ZMQ_LINGER, &timeout, sizeof(timeout));
		timeout = 1000;
		zmq_close(s);
		zmq_ctx_term(ctx);
	}
	/* the right key but the wrong broker key: a timeout, clearly said */
	{
		uint8_t wrong[ID_BYTES];

		memcpy(wrong, other.pk, ID_BYTES);
		assert_int_equal(client_new(br.endpoint, wrong, &alice, &c,
		    &err), 0);
		assert_int_equal(client_wait_ready(c, 1500, &err),
		    CARNET_E_TIMEOUT);
		client_destroy(&c);
	}
	broker_alive(&br);
}

static void
test_resend_is_stored_once(void **state)
{
	(void)state;
	assert_int_equal(put(&mgen, &alice, "claim", "r", 20, NULL), 20);
	assert_int_equal(put(&mgen, &alice, "claim", "r", 20, NULL), 0);
	assert_int_equal(put(&mgen, &alice, "claim", "r", 25, NULL), 5);
	/* the same ref from another holder is another record */
	assert_int_equal(put(&lab, &alice, "claim", "r", 20, NULL), 20);
}

/*
 * Fetch a user's whole log over the wire and verify it here.  *count: the
 * uses in the entries that verified (a delivery entry counts each record
 * it covers); *entries, if not NULL: those entries.
 */
static int
fetch_and_verify_entries(const struct keypair *user, uint64_t *count,
    uint64_t *entries, struct cerr *verr)
{
	struct client *c = connect_as(user);
	struct uselog_verifier v;
	msgpack_packer *pk;
	msgpack_unpacked reply;
	struct cerr err = {0};
	uint64_t from = 1, head;
	uint8_t hash[HASH_BYTES], sig[HEAD_SIG_BYTES];
	int rc = 0;

	uselog_verify_init(&v);
	*count = 0;
	if (entries != NULL)
		*entries = 0;
	for (;;) {
		const msgpack_object *es, *h, *more;
		uint32_t i;

		pk = client_begin(c, 1);
		mpk_pack_cstr(pk, "from");
		msgpack_pack_uint64(pk, from);
		assert_int_equal(client_call(c, "LOG", &reply, &err), 0);
		es = mpk_get(&reply.data, "entries");
		h = mpk_get(&reply.data, "head");
		assert_int_equal(mpk_u64(mpk_get(h, "seq"), &head), 0);
		assert_int_equal(mpk_bin_n(mpk_get(h, "hash"), hash,
		    HASH_BYTES), 0);
		assert_int_equal(mpk_bin_n(mpk_get(h, "sig"), sig,
		    HEAD_SIG_BYTES), 0);
		assert_int_equal(uselog_head_verify(user->pk, head, hash, br.id,
		    sig), 0);
		for (i = 0; rc == 0 && i < es->via.array.size; i++) {
			const msgpack_object *eo = &es->via.array.ptr[i];
			struct uselog_entry e;
			const uint64_t *recs;

			rc = uselog_verify_next(&v, eo->via.bin.ptr,
			    eo->via.bin.size, verr);
			if (rc != 0)
				break;
			assert_int_equal(uselog_decode(eo->via.bin.ptr,
			    eo->via.bin.size, &e, NULL), 0);
			*count += e.kind == USE_DELIVER ?
			    uselog_records(&e, &recs) : 1;
			if (entries != NULL)
				(*entries)++;
		}
		from += es->via.array.size;
		more = mpk_get(&reply.data, "more");
		if (rc != 0 || es->via.array.size == 0 || !more->via.boolean) {
			msgpack_unpacked_destroy(&reply);
			break;
		}
		msgpack_unpacked_destroy(&reply);
	}
	client_destroy(&c);
	return rc;
}

static int
fetch_and_verify(const struct keypair *user, uint64_t *count,
    struct cerr *verr)
{
	return fetch_and_verify_entries(user, count, NULL, verr);
}

static void
tamper_log_entry(const uint8_t user[ID_BYTES], uint64_t seq)
{
	char path[512];
	uint8_t key[ID_BYTES + 8], *copy;
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = {sizeof(key), key}, v;
	int i;

	snprintf(path, sizeof(path), "%s/store", br.dir);
	memcpy(key, user, ID_BYTES);
	for (i = 7; i >= 0; i--, seq >>= 8)
		key[ID_BYTES + i] = (uint8_t)seq;
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 32), 0);
	assert_int_equal(mdb_env_set_mapsize(env, BROKER_MAP_BYTES), 0);
	assert_int_equal(mdb_env_open(env, path, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "uselog", 0, &dbi), 0);
	assert_int_equal(mdb_get(txn, dbi, &k, &v), 0);
	copy = malloc(v.mv_size);
	memcpy(copy, v.mv_data, v.mv_size);
	copy[v.mv_size - 1] ^= 0x20; /* the purpose's last letter */
	v.mv_data = copy;
	assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	free(copy);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

static void
test_restart_keeps_everything_and_tampering_shows(void **state)
{
	struct token t;
	struct cerr err = {0};
	struct received got;
	uint64_t n, entries;

	(void)state;
	make_token(&t, &alice, &budget, "claim", FIELDS_ALL, NULL);
	assert_int_equal(grant_signed(&alice, &t, alice.sk, &err), 0);
	assert_int_equal(put(&mgen, &alice, "claim", "k", 30, NULL), 30);
	subscribe(&budget, 12, 2500, true, NULL, NULL, &got);
	assert_int_equal(got.n, 12);
	assert_int_equal(fetch_and_verify(&alice, &n, &err), 0);
	assert_int_equal(n, 13); /* the grant and 12 deliveries */

	broker_stop(&br);
	broker_start(&br);
	/* records, token and cursor survived: the 18 not acked come now */
	subscribe_until(&budget, 1000, 18, 10000, true, NULL, NULL, &got);
	assert_int_equal(got.n, 18);
	assert_int_equal(fetch_and_verify(&alice, &n, &err), 0);
	assert_int_equal(n, 31);
	/* a resend after the restart is still deduplicated */
	assert_int_equal(put(&mgen, &alice, "claim", "k", 30, NULL), 0);

	/* change one entry on disk behind the broker's back: the first
	 * delivery's (entry 3 exists: the deliveries after the restart) */
	broker_stop(&br);
	tamper_log_entry(alice.pk, 2);
	broker_start(&br);
	memset(&err, 0, sizeof(err));
	assert_int_equal(fetch_and_verify_entries(&alice, &n, &entries, &err),
	    CARNET_E_LOG_BROKEN);
	assert_non_null(strstr(err.msg, "entry 3"));
	assert_int_equal(entries, 2);
}

/* How often the log names each record seq (below 4096) as delivered. */
struct named {
	unsigned times[4096];
	uint64_t entries;
};

static void
name_records(const struct uselog_entry *e, void *arg)
{
	struct named *nm = arg;
	const uint64_t *recs;
	size_t n, i;

	if (e->kind != USE_DELIVER)
		return;
	nm->entries++;
	n = uselog_records(e, &recs);
	for (i = 0; i < n; i++) {
		assert_true(recs[i] < 4096);
		nm->times[recs[i]]++;
	}
}

#define N (2 * USELOG_RECS_MAX)
/*
 * A batch delivered in one turn is covered by fewer entries than records,
 * and the log, read with LOG and verified, still names each record sent
 * exactly once, and nothing else.
 */
static void
test_a_delivered_batch_is_logged_in_few_entries(void **state)
{
	struct token t;
	struct cerr err = {0};
	struct received got;
	struct named *nm = calloc(1, sizeof(*nm));
	uint64_t uses, entries, total = 0;
	int i;

	(void)state;
	/* N: 2 full entries, the group left empty at the end of the visit */
	assert_non_null(nm);
	make_token(&t, &alice, &budget, "claim", FIELDS_ALL, NULL);
	assert_int_equal(grant_signed(&alice, &t, alice.sk, &err), 0);
	assert_int_equal(put(&mgen, &alice, "claim", "b", N, NULL), N);
	subscribe_until(&budget, 1000, N, 10000, true, NULL, NULL, &got);
	assert_int_equal(got.n, N);
	assert_int_equal(fetch_and_verify_entries(&alice, &uses, &entries,
	    &err), 0);
	assert_int_equal(uses, 1 + N);
	/* the grant, then at least 3 batches of at most USELOG_RECS_MAX */
	assert_true(entries < 1 + N);
	assert_true(entries >= 1 + (N + USELOG_RECS_MAX - 1) /
	    USELOG_RECS_MAX);
	log_each(&alice, name_records, nm);
	assert_int_equal(nm->entries, entries - 1);
	for (i = 0; i < got.n; i++)
		assert_int_equal(nm->times[got.seqs[i]], 1);
	for (i = 0; i < 4096; i++)
		total += nm->times[i];
	assert_int_equal(total, N);
	free(nm);
}
#undef N

/* Send raw frames as kp; return the ERR code the broker answers. */
static int
raw_err(const struct keypair *kp, const void *const *frames,
    const size_t *lens, int n)
{
	struct client *c = connect_as(kp);
	struct cerr err = {0};
	msgpack_unpacked m;
	char cmd[16], code[32] = "";

	assert_int_equal(client_send_frames(c, frames, lens, n, &err), 0);
	if (client_recv(c, 3000, cmd, &m, &err) != 0) {
		client_destroy(&c);
		return 0;
	}
	assert_string_equal(cmd, "ERR");
	assert_int_equal(mpk_cstr(mpk_get(&m.data, "code"), code, sizeof(code)),
	    0);
	assert_non_null(mpk_get(&m.data, "message"));
	msgpack_unpacked_destroy(&m);
	client_destroy(&c);
	return carnet_errcode(code, strlen(code));
}

#define RAW2(kp, a, alen, b, blen)                                            \
	raw_err(kp, (const void *[]){a, b}, (const size_t[]){alen, blen}, 2)

static void
test_hostile_frames_get_clear_errors(void **state)
{
	uint8_t *big, deep[64];
	struct client *c;
	msgpack_unpacked reply;
	struct cerr err = {0};
	int i;

	(void)state;
	assert_int_equal(raw_err(&mgen, (const void *[]){"PUT"},
	    (const size_t[]){3}, 1), CARNET_E_MALFORMED);
	assert_int_equal(raw_err(&mgen, (const void *[]){"PUT", "\x80", "x"},
	    (const size_t[]){3, 1, 1}, 3), CARNET_E_MALFORMED);
	assert_int_equal(RAW2(&mgen, "STEAL", 5, "\x80", 1),
	    CARNET_E_UNKNOWN_COMMAND);
	assert_int_equal(RAW2(&mgen, "PUT", 3, "\xc1", 1), CARNET_E_MALFORMED);
	assert_int_equal(RAW2(&mgen, "PUT", 3, "\x92\x01", 2),
	    CARNET_E_TRUNCATED);
	assert_int_equal(RAW2(&mgen, "PUT", 3, "\x80\x80", 2),
	    CARNET_E_TRAILING);
	assert_int_equal(RAW2(&mgen, "PUT", 3, "\x91\x01", 2),
	    CARNET_E_MALFORMED); /* not a map */
	assert_int_equal(RAW2(&mgen, "PUT", 3, "\xdd\xff\xff\xff\xff", 5),
	    CARNET_E_TRUNCATED); /* 4 G items in 5 bytes */
	for (i = 0; i < 40; i++)
		deep[i] = 0x91;
	deep[40] = 0x01;
	assert_int_equal(RAW2(&mgen, "PUT", 3, deep, 41), CARNET_E_TOO_DEEP);
	assert_int_equal(RAW2(&mgen, "PUT", 3, "\x81\xa4recs\x90", 7),
	    CARNET_E_MALFORMED); /* empty batch */
	assert_int_equal(RAW2(&mgen, "PUT", 3, "\x81\xa3" "foo\x01", 6),
	    CARNET_E_UNKNOWN_FIELD);
	/* another role's commands */
	assert_int_equal(RAW2(&mgen, "GRANT", 5, "\x80", 1),
	    CARNET_E_FORBIDDEN);
	assert_int_equal(RAW2(&budget, "PUT", 3, "\x80", 1),
	    CARNET_E_FORBIDDEN);
	assert_int_equal(RAW2(&alice, "SUB", 3, "\x80", 1),
	    CARNET_E_FORBIDDEN);
	assert_int_equal(RAW2(&alice, "STATS", 5, "\x80", 1),
	    CARNET_E_FORBIDDEN);
	assert_int_equal(RAW2(&budget, "LOG", 3, "\x80", 1),
	    CARNET_E_FORBIDDEN);
	/* over the soft size limit: a clear error */
	big = calloc(1, CARNET_FRAME_MAX_BYTES + 10);
	assert_non_null(big);
	big[0] = 0x80;
	assert_int_equal(RAW2(&mgen, "PUT", 3, big, CARNET_FRAME_MAX_BYTES + 10),
	    CARNET_E_TOO_BIG);
	free(big);
	/* over ZMQ_MAXMSGSIZE: the connection is dropped, nothing else */
	big = calloc(1, 5 * CARNET_FRAME_MAX_BYTES);
	assert_non_null(big);
	assert_int_equal(RAW2(&mgen, "PUT", 3, big, 5 * CARNET_FRAME_MAX_BYTES),
	    0);
	free(big);
	/* the broker still serves */
	broker_alive(&br);
	c = connect_as(&mgen);
	client_begin(c, 0);
	assert_int_equal(client_call(c, "HELLO", &reply, &err), 0);
	assert_true(mpk_str_eq(mpk_get(&reply.data, "role"), "holder"));
	msgpack_unpacked_destroy(&reply);
	client_destroy(&c);
}

static void
test_refused_puts_store_nothing(void **state)
{
	int code;

	(void)state;
	/* lab is not registered for dispense: the whole batch is refused */
	assert_int_equal(put(&lab, &alice, "dispense", "x", 3, &code), 0);
	assert_int_equal(code, CARNET_E_UNREGISTERED_TYPE);
	/* records for a user who is not registered */
	assert_int_equal(put(&mgen, &stranger, "claim", "s", 2, &code), 0);
	assert_int_equal(code, CARNET_E_UNKNOWN_PARTY);
	/* nothing of either was stored: the same refs go in fresh later */
	assert_int_equal(put(&mgen, &alice, "dispense", "x", 3, NULL), 3);
}

static void
test_token_attacks(void **state)
{
	struct token t;
	struct cerr err = {0};
	uint8_t unknown[TOKID_BYTES] = {7};
	int code;

	(void)state;
	/* a token naming alice, signed by bob */
	make_token(&t, &alice, &budget, "claim", FIELDS_ALL, NULL);
	assert_int_equal(grant_signed(&alice, &t, bob.sk, &err),
	    CARNET_E_BAD_SIGNATURE);
	/* bob's own valid token, sent by alice */
	make_token(&t, &bob, &budget, "claim", FIELDS_ALL, NULL);
	assert_int_equal(grant_signed(&alice, &t, bob.sk, &err),
	    CARNET_E_WRONG_USER);
	/* a replayed GRANT */
	make_token(&t, &alice, &budget, "claim", FIELDS_ALL, NULL);
	assert_int_equal(grant_signed(&alice, &t, alice.sk, &err), 0);
	assert_int_equal(grant_signed(&alice, &t, alice.sk, &err),
	    CARNET_E_DUPLICATE);
	/* a purpose the app did not declare */
	make_token(&t, &alice, &budget, "claim", FIELDS_ALL, NULL);
	strcpy(t.purpose, "advertising");
	assert_int_equal(grant_signed(&alice, &t, alice.sk, &err),
	    CARNET_E_PURPOSE);
	/* already expired */
	make_token(&t, &alice, &budget, "claim", FIELDS_ALL, NULL);
	t.expires = t.not_before + 1;
	assert_int_equal(grant_signed(&alice, &t, alice.sk, &err),
	    CARNET_E_EXPIRED);
	/* an app that is not registered */
	make_token(&t, &alice, &stranger, "claim", FIELDS_ALL, NULL);
	assert_int_equal(grant_signed(&alice, &t, alice.sk, &err),
	    CARNET_E_UNKNOWN_PARTY);
	/* REVOKE of alice's token signed by bob, sent by bob */
	make_token(&t, &alice, &budget, "claim", FIELDS_ALL, NULL);
	assert_int_equal(grant_signed(&alice, &t, alice.sk, &err), 0);
	code = revoke(&bob, &bob, t.id, &err);
	assert_int_equal(code, CARNET_E_UNKNOWN_TOKEN);
	/* ... or sent by alice */
	assert_int_equal(revoke(&alice, &bob, t.id, &err), CARNET_E_WRONG_USER);
	/* a token that does not exist */
	assert_int_equal(revoke(&alice, &alice, unknown, &err),
	    CARNET_E_UNKNOWN_TOKEN);
	/* an app moving the cursor of another app's consent */
	{
		msgpack_sbuffer sb;
		msgpack_packer pk;

		make_token(&t, &alice, &budget, "claim", FIELDS_ALL, NULL);
		assert_int_equal(grant_signed(&alice, &t, alice.sk, &err), 0);
		msgpack_sbuffer_init(&sb);
		msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
		msgpack_pack_map(&pk, 1);
		mpk_pack_cstr(&pk, "acks");
		msgpack_pack_array(&pk, 1);
		msgpack_pack_array(&pk, 2);
		mpk_pack_binn(&pk, t.id, TOKID_BYTES);
		msgpack_pack_uint64(&pk, 1000);
		assert_int_equal(RAW2(&other, "ACK", 3, sb.data, sb.size),
		    CARNET_E_UNKNOWN_TOKEN);
		msgpack_sbuffer_destroy(&sb);
	}
	broker_alive(&br);
}

/* app asks user for claims, for purpose. */
static void
ask(const struct keypair *app, const struct keypair *user, const char *purpose)
{
	struct client *c = connect_as(app);
	msgpack_packer *pk = client_begin(c, 3);
	msgpack_unpacked reply;
	struct cerr err = {0};

	mpk_pack_cstr(pk, "user");
	mpk_pack_binn(pk, user->pk, ID_BYTES);
	mpk_pack_cstr(pk, "types");
	msgpack_pack_array(pk, 1);
	mpk_pack_cstr(pk, "claim");
	mpk_pack_cstr(pk, "purpose");
	mpk_pack_cstr(pk, purpose);
	if (client_call(c, "REQUEST", &reply, &err) != 0)
		fail_msg("REQUEST: %s", cerr_msg(&err));
	msgpack_unpacked_destroy(&reply);
	client_destroy(&c);
}

/* user's pending requests: how many, their seqs in seqs[0..max). */
static uint32_t
pending(const struct keypair *user, uint64_t *seqs, uint32_t max)
{
	struct client *c = connect_as(user);
	msgpack_unpacked reply;
	struct cerr err = {0};
	const msgpack_object *rs;
	uint32_t i, n;

	client_begin(c, 0);
	assert_int_equal(client_call(c, "REQUESTS", &reply, &err), 0);
	rs = mpk_get(&reply.data, "requests");
	assert_non_null(rs);
	n = rs->via.array.size;
	for (i = 0; i < n && i < max; i++)
		assert_int_equal(mpk_u64(mpk_get(&rs->via.array.ptr[i], "seq"),
		    &seqs[i]), 0);
	msgpack_unpacked_destroy(&reply);
	client_destroy(&c);
	return n;
}

/* GRANT t (signed by its user, kp) answering request seq, or DECLINE seq
 * when t is NULL; a negative seq sends it as text (malformed). */
static int
answer(const struct keypair *kp, const struct token *t, int64_t seq)
{
	struct client *c = connect_as(kp);
	msgpack_packer *pk = client_begin(c, t ? 2 : 1);
	msgpack_unpacked reply;
	struct cerr err = {0};
	uint8_t *blob;
	size_t len;
	int rc;

	if (t != NULL) {
		assert_int_equal(token_sign(t, kp->sk, &blob, &len, &err), 0);
		mpk_pack_cstr(pk, "token");
		mpk_pack_binn(pk, blob, len);
		free(blob);
	}
	mpk_pack_cstr(pk, "request");
	if (seq < 0)
		mpk_pack_cstr(pk, "1");
	else
		msgpack_pack_uint64(pk, (uint64_t)seq);
	rc = client_call(c, t ? "GRANT" : "DECLINE", &reply, &err);
	if (rc == 0)
		msgpack_unpacked_destroy(&reply);
	client_destroy(&c);
	return rc;
}

static void
test_requests_are_answered_once_by_their_person(void **state)
{
	uint64_t seq[4];
	struct token t;

	(void)state;
	ask(&budget, &alice, "budget");
	ask(&other, &alice, "budget");
	assert_int_equal(pending(&alice, seq, 4), 2);
	/* a grant to another app does not answer budget's request, and
	 * the refused GRANT leaves both the token and the request out */
	make_token(&t, &alice, &other, "claim", FIELDS_ALL, NULL);
	assert_int_equal(answer(&alice, &t, (int64_t)seq[0]), CARNET_E_BAD_ARG);
	assert_int_equal(pending(&alice, seq, 4), 2);
	/* nobody answers another person's request */
	make_token(&t, &bob, &budget, "claim", FIELDS_ALL, NULL);
	assert_int_equal(answer(&bob, &t, (int64_t)seq[0]), CARNET_E_NOT_FOUND);
	assert_int_equal(answer(&bob, NULL, (int64_t)seq[1]),
	    CARNET_E_NOT_FOUND);
	assert_int_equal(answer(&alice, NULL, -1), CARNET_E_MALFORMED);
	/* alice accepts budget's, once */
	make_token(&t, &alice, &budget, "claim", FIELDS_ALL, NULL);
	assert_int_equal(answer(&alice, &t, (int64_t)seq[0]), 0);
	assert_int_equal(pending(&alice, seq + 2, 2), 1);
	assert_int_equal(seq[2], seq[1]);
	make_token(&t, &alice, &budget, "claim", FIELDS_ALL, NULL);
	assert_int_equal(answer(&alice, &t, (int64_t)seq[0]),
	    CARNET_E_NOT_FOUND);
	/* and declines the other's, once; an app cannot decline */
	assert_int_equal(RAW2(&other, "DECLINE", 7, "\x81\xa7request\x01", 10),
	    CARNET_E_FORBIDDEN);
	assert_int_equal(answer(&alice, NULL, (int64_t)seq[1]), 0);
	assert_int_equal(answer(&alice, NULL, (int64_t)seq[1]),
	    CARNET_E_NOT_FOUND);
	assert_int_equal(pending(&alice, seq, 4), 0);
	broker_alive(&br);
}

static void
test_feed_reconnects_and_gets_everything(void **state)
{
	struct token t;
	struct cerr err = {0};
	struct client *c;
	struct app_feed *f;
	struct feed_event ev;
	bool seen[64] = {false};
	uint64_t base = 0;
	int distinct = 0, total = 0, idle = 0;

	(void)state;
	make_token(&t, &alice, &budget, "claim", FIELDS_ALL, NULL);
	assert_int_equal(grant_signed(&alice, &t, alice.sk, &err), 0);
	assert_int_equal(put(&mgen, &alice, "claim", "f", 40, NULL), 40);
	c = connect_as(&budget);
	assert_int_equal(app_feed_open(c, 0, &f, &err), 0);
	while (total < 15 && app_feed_next(f, 2000, &ev, &err) == 0) {
		assert_int_equal(ev.kind, FEED_RECORD);
		if (base == 0)
			base = ev.seq;
		assert_int_equal(app_feed_ack(f, &ev, &err), 0);
		if (!seen[ev.seq - base]) {
			seen[ev.seq - base] = true;
			distinct++;
		}
		total++;
	}
	assert_int_equal(total, 15);
	/* the broker goes away and comes back on the same endpoint */
	broker_stop(&br);
	broker_restart_same(&br);
	while (distinct < 40 && idle < 15) {
		if (app_feed_next(f, 1000, &ev, &err) != 0) {
			idle++;
			continue;
		}
		if (ev.kind != FEED_RECORD)
			continue;
		assert_true(ev.seq >= base && ev.seq - base < 64);
		assert_int_equal(app_feed_ack(f, &ev, &err), 0);
		if (!seen[ev.seq - base]) {
			seen[ev.seq - base] = true;
			distinct++;
		}
		total++;
	}
	assert_int_equal(distinct, 40); /* at least once: none lost */
	app_feed_close(&f);
	client_destroy(&c);
}

static void
test_full_store_refuses_puts_and_keeps_serving(void **state)
{
	struct token t;
	struct cerr err = {0};
	struct client *c;
	msgpack_unpacked reply;
	char prefix[16];
	int code = 0, i;
	uint64_t stored = 0;

	(void)state;
	make_token(&t, &alice, &budget, "claim", FIELDS_ALL, NULL);
	assert_int_equal(grant_signed(&alice, &t, alice.sk, &err), 0);
	/* the same data on a 2 MiB map */
	broker_stop(&br);
	br.map_mib = "2";
	broker_restart_same(&br);
	for (i = 0; i < 400 && code == 0; i++) {
		snprintf(prefix, sizeof(prefix), "f%d", i);
		stored += put(&mgen, &alice, "claim", prefix, 100, &code);
	}
	assert_int_equal(code, CARNET_E_STORE_FULL); /* an error, not an ACK */
	assert_true(stored > 1000);
	/* reads and revocations still work */
	assert_int_equal(fetch_and_verify(&alice, &stored, &err), 0);
	c = connect_as(&alice);
	client_begin(c, 0);
	assert_int_equal(client_call(c, "TOKENS", &reply, &err), 0);
	msgpack_unpacked_destroy(&reply);
	client_destroy(&c);
	assert_int_equal(revoke(&alice, &alice, t.id, &err), 0);
	/* the operator gives it room: records flow again */
	broker_stop(&br);
	br.map_mib = "64";
	broker_restart_same(&br);
	assert_int_equal(put(&mgen, &alice, "claim", "after", 100, NULL), 100);
	br.map_mib = NULL;
}

/* PAUSE or RESUME as `as`; returns the broker's code. */
static int
pause_call(const struct keypair *as, const char *cmd,
    const uint8_t tok[TOKID_BYTES], bool skip)
{
	struct client *c = connect_as(as);
	msgpack_unpacked reply;
	msgpack_packer *pk;
	struct cerr err = {0};
	int rc;

	pk = client_begin(c, strcmp(cmd, "RESUME") == 0 ? 2 : 1);
	mpk_pack_cstr(pk, "token");
	mpk_pack_binn(pk, tok, TOKID_BYTES);
	if (strcmp(cmd, "RESUME") == 0) {
		mpk_pack_cstr(pk, "skip");
		if (skip)
			msgpack_pack_true(pk);
		else
			msgpack_pack_false(pk);
	}
	if ((rc = client_call(c, cmd, &reply, &err)) == 0)
		msgpack_unpacked_destroy(&reply);
	client_destroy(&c);
	return rc;
}

static void
test_pause_keeps_the_consent_and_resume_continues(void **state)
{
	struct token t;
	struct cerr err = {0};
	struct received got;
	uint64_t n;

	(void)state;
	make_token(&t, &alice, &budget, "claim", FIELDS_ALL, NULL);
	assert_int_equal(grant_signed(&alice, &t, alice.sk, &err), 0);
	assert_int_equal(put(&mgen, &alice, "claim", "a", 5, NULL), 5);
	subscribe_until(&budget, 1000, 5, 10000, true, NULL, NULL, &got);
	assert_int_equal(got.n, 5);
	/* paused: nothing flows, the consent stays */
	assert_int_equal(pause_call(&alice, "PAUSE", t.id, false), 0);
	assert_int_equal(put(&mgen, &alice, "claim", "b", 5, NULL), 5);
	subscribe(&budget, 1000, 1500, true, NULL, NULL, &got);
	assert_int_equal(got.n, 0);
	/* resumed: what came during the pause comes now, from the cursor */
	assert_int_equal(pause_call(&alice, "RESUME", t.id, false), 0);
	subscribe_until(&budget, 1000, 5, 10000, true, NULL, NULL, &got);
	assert_int_equal(got.n, 5);
	subscribe(&budget, 1000, 1000, true, NULL, NULL, &got);
	assert_int_equal(got.n, 0);
	/* resumed with skip: what came during the pause is never sent */
	assert_int_equal(pause_call(&alice, "PAUSE", t.id, false), 0);
	assert_int_equal(put(&mgen, &alice, "claim", "c", 3, NULL), 3);
	assert_int_equal(pause_call(&alice, "RESUME", t.id, true), 0);
	subscribe(&budget, 1000, 1500, true, NULL, NULL, &got);
	assert_int_equal(got.n, 0);
	assert_int_equal(put(&mgen, &alice, "claim", "d", 2, NULL), 2);
	subscribe_until(&budget, 1000, 2, 10000, true, NULL, NULL, &got);
	assert_int_equal(got.n, 2);
	/* only the person pauses; a revoked consent stays revoked */
	assert_int_equal(pause_call(&bob, "PAUSE", t.id, false),
	    CARNET_E_UNKNOWN_TOKEN);
	assert_int_equal(revoke(&alice, &alice, t.id, &err), 0);
	assert_int_equal(pause_call(&alice, "RESUME", t.id, false),
	    CARNET_E_REVOKED);
	/* the log holds each step and verifies */
	assert_int_equal(fetch_and_verify(&alice, &n, &err), 0);
	assert_int_equal(n, 1 + 5 + 1 + 1 + 5 + 1 + 1 + 2 + 1);
}

/* The broker's anonymous memory (its heap), in KiB: LMDB's pages of the
 * data file are file-backed and do not count. */
static void
test_stalled_app_vanishing_holder_and_flood_stay_bounded(void **state)
{
	struct token t;
	struct cerr err = {0};
	struct client *stalled;
	struct received got;
	long before, after;
	pid_t child;
	char prefix[16];
	int i;

	(void)state;
	make_token(&t, &alice, &budget, "claim", FIELDS_ALL, NULL);
	assert_int_equal(grant_signed(&alice, &t, alice.sk, &err), 0);
	make_token(&t, &alice, &other, "claim", FIELDS_ALL, NULL);
	assert_int_equal(grant_signed(&alice, &t, alice.sk, &err), 0);
	/* an app that subscribes and never gives credit */
	stalled = feed_with_credit(&other, 0);
	/* a holder that vanishes in the middle of its stream */
	if ((child = fork()) == 0) {
		for (i = 0; i < 1000; i++) {
			snprintf(prefix, sizeof(prefix), "v%d", i);
			put(&mgen, &alice, "claim", prefix, 200, NULL);
		}
		_exit(0);
	}
	tu_sleep_ms(400);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	for (i = 0; i < 5; i++) {
		snprintf(prefix, sizeof(prefix), "w%d", i);
		put(&mgen, &alice, "claim", prefix, 400, NULL);
	}
	before = broker_anon_kib();
	/* a flood, the stalled app still connected */
	for (i = 0; i < 40; i++) {
		snprintf(prefix, sizeof(prefix), "x%d", i);
		assert_int_equal(put(&mgen, &alice, "claim", prefix, 500, NULL),
		    500);
	}
	after = broker_anon_kib();
	/* the other app is served in full */
	/* (slow under sanitizers: wait for the count, not for a pause) */
	subscribe_until(&budget, 100000, 5 * 400 + 40 * 500, 15000, true, NULL,
	    "claim", &got);
	assert_true(got.n >= 5 * 400 + 40 * 500);
	client_destroy(&stalled);
	broker_alive(&br);
	print_message("broker heap: %ld KiB before a 20000-record flood, %ld "
	    "KiB after\n", before, after);
#if !defined(__SANITIZE_ADDRESS__)
	/* LMDB holds the backlog, not the heap */
	assert_true(after - before < 8 * 1024);
#endif
}


/* The broker's own counter of consents its delivery passes looked at. */
static uint64_t
consents_examined(void)
{
	struct client *c = connect_as(&op);
	msgpack_unpacked reply;
	struct cerr err = {0};
	uint64_t n = 0;

	client_begin(c, 0);
	assert_int_equal(client_call(c, "STATS", &reply, &err), 0);
	assert_int_equal(mpk_u64(mpk_get(mpk_get(&reply.data, "broker"),
	    "consents_examined"), &n), 0);
	msgpack_unpacked_destroy(&reply);
	client_destroy(&c);
	return n;
}

#define IDLE_PEOPLE 150

/*
 * Many people consent to budget, records arrive for alice only: the
 * delivery passes look at alice's consent, never at the idle ones, and a
 * subscribed feed with nothing new costs no look at all.
 */
static void
test_idle_consents_are_never_visited(void **state)
{
	static struct keypair idle[IDLE_PEOPLE];
	struct client *c;
	struct app_feed *f;
	struct feed_event ev;
	struct store *s;
	MDB_txn *txn;
	struct token t;
	struct cerr err = {0};
	uint64_t before, after;
	int i, got = 0;

	(void)state;
	/* the people registered in one transaction, as party import does */
	assert_int_equal(store_open(br.dir, 64UL << 20, &s, &err), 0);
	assert_int_equal(store_txn_begin(s, NULL, true, &txn, &err), 0);
	for (i = 0; i < IDLE_PEOPLE; i++) {
		struct party p;

		assert_int_equal(key_generate(&idle[i]), 0);
		memset(&p, 0, sizeof(p));
		memcpy(p.id, idle[i].pk, ID_BYTES);
		p.role = ROLE_USER;
		snprintf(p.name, sizeof(p.name), "idle %d", i);
		assert_int_equal(store_party_add(s, txn, &p, &err), 0);
	}
	assert_int_equal(store_txn_commit(&txn, &err), 0);
	store_close(&s);
	for (i = 0; i < IDLE_PEOPLE; i++) {
		make_token(&t, &idle[i], &budget, "claim", FIELDS_ALL, NULL);
		assert_int_equal(grant_signed(&idle[i], &t, idle[i].sk, &err),
		    0);
	}
	make_token(&t, &alice, &budget, "claim", FIELDS_ALL, NULL);
	assert_int_equal(grant_signed(&alice, &t, alice.sk, &err), 0);

	c = connect_as(&budget);
	assert_int_equal(app_feed_open(c, 0, &f, &err), 0);
	before = consents_examined();
	/* the good path: alice's records flow, in several turns */
	for (i = 0; i < 4; i++) {
		char prefix[8];

		snprintf(prefix, sizeof(prefix), "i%d", i);
		assert_int_equal(put(&mgen, &alice, "claim", prefix, 5, NULL),
		    5);
		while (got < 5 * (i + 1) && app_feed_next(f, 3000, &ev,
		    &err) == 0)
			if (ev.kind == FEED_RECORD) {
				assert_memory_equal(ev.token, t.id,
				    TOKID_BYTES);
				assert_int_equal(app_feed_ack(f, &ev, &err), 0);
				got++;
			}
	}
	assert_int_equal(got, 20);
	after = consents_examined();
	/* alice's consent, once per pass that had something for it: a
	 * pass over every consent would have looked at 151 at once */
	print_message("consents examined: %llu\n", (unsigned long long)(after - before));
	assert_true(after > before);
	if (after - before >= IDLE_PEOPLE)
		fail_msg("%llu consents examined for 20 records of one person",
		    (unsigned long long)(after - before));
	/* nothing new for two ticks: nothing examined, feed still open */
	assert_int_equal(app_feed_next(f, 2500, &ev, &err), CARNET_E_TIMEOUT);
	assert_int_equal(consents_examined(), after);
	app_feed_close(&f);
	client_destroy(&c);
}

/* Records that come on c until ms of silence; the first one's token and
 * seq in tok and seq. */
static int
recs_within(struct client *c, int ms, uint8_t tok[TOKID_BYTES],
    uint64_t *seq)
{
	struct cerr err = {0};
	msgpack_unpacked m;
	char cmd[16];
	int n = 0;

	while (client_recv(c, ms, cmd, &m, &err) == 0) {
		const msgpack_object *recs = mpk_get(&m.data, "recs");
		uint32_t i;

		for (i = 0; recs != NULL && recs->type ==
		    MSGPACK_OBJECT_ARRAY && i < recs->via.array.size; i++) {
			if (n++ > 0)
				continue;
			assert_int_equal(mpk_bin_n(mpk_get(
			    &recs->via.array.ptr[i], "token"), tok,
			    TOKID_BYTES), 0);
			assert_int_equal(mpk_u64(mpk_get(
			    &recs->via.array.ptr[i], "seq"), seq), 0);
		}
		msgpack_unpacked_destroy(&m);
	}
	return n;
}

/*
 * A feed walks its app's due consents in token order and goes on after
 * the one it stopped at.  Stopped at the last one, it goes round from the
 * first: a first one with nothing new (its record in flight) must not end
 * the round before the others were looked at.  Three people, tokens
 * 0x10.., 0x80.., 0xf0.., one record at a time (credit 1, never acked).
 */
static void
test_a_feed_stopped_at_the_last_consent_goes_round(void **state)
{
	static struct keypair carol;
	static const uint8_t first_byte[3] = {0x10, 0x80, 0xf0};
	const struct keypair *who[3] = {&alice, &bob, &carol};
	struct cerr err = {0};
	uint8_t tok[TOKID_BYTES];
	uint64_t seq;
	struct client *c;
	struct token t;
	int i;

	(void)state;
	assert_int_equal(key_generate(&carol), 0);
	add_party(&carol, ROLE_USER, "carol", NULL, NULL);
	for (i = 0; i < 3; i++) {
		make_token(&t, who[i], &budget, "claim", FIELDS_ALL, NULL);
		t.id[0] = first_byte[i];
		assert_int_equal(grant_signed(who[i], &t, who[i]->sk, &err), 0);
	}
	c = feed_with_credit(&budget, 0);
	/* the good path: alice's record, then carol's: the feed stands at
	 * carol's consent, the last one, alice's record still in flight */
	assert_int_equal(put(&mgen, &alice, "claim", "a1", 1, NULL), 1);
	credit(c, 1);
	assert_int_equal(recs_within(c, 1500, tok, &seq), 1);
	assert_int_equal(tok[0], 0x10);
	assert_int_equal(put(&mgen, &carol, "claim", "c1", 1, NULL), 1);
	credit(c, 1);
	assert_int_equal(recs_within(c, 1500, tok, &seq), 1);
	assert_int_equal(tok[0], 0xf0);
	/* bob's record waits for credit; given, the feed goes round past
	 * alice's consent (nothing new) to bob's */
	assert_int_equal(put(&mgen, &bob, "claim", "b1", 1, NULL), 1);
	assert_int_equal(recs_within(c, 1500, tok, &seq), 0);
	credit(c, 1);
	assert_int_equal(recs_within(c, 1500, tok, &seq), 1);
	assert_int_equal(tok[0], 0x80);
	client_destroy(&c);
}

/*
 * An app that never acks holds at most --inflight consents with records
 * in flight, all its connections together: the broker's memory for it is
 * bounded by configuration.  An ACK makes room for one more; a feed that
 * ends gives its room back.
 */
static void
test_an_app_that_never_acks_holds_at_most_inflight_consents(void **state)
{
	static struct keypair carol;
	const struct keypair *who[3] = {&alice, &bob, &carol};
	struct client *a, *b;
	struct cerr err = {0};
	uint8_t tok[TOKID_BYTES], tok2[TOKID_BYTES];
	uint64_t seq, seq2;
	struct token t;
	int i;

	(void)state;
	broker_stop(&br);
	br.inflight = "2";
	broker_start(&br);
	br.inflight = NULL;
	assert_int_equal(key_generate(&carol), 0);
	add_party(&carol, ROLE_USER, "carol", NULL, NULL);
	for (i = 0; i < 3; i++) {
		char ref[8];

		make_token(&t, who[i], &budget, "claim", FIELDS_ALL, NULL);
		assert_int_equal(grant_signed(who[i], &t, who[i]->sk, &err), 0);
		snprintf(ref, sizeof(ref), "p%d", i);
		assert_int_equal(put(&mgen, who[i], "claim", ref, 1, NULL), 1);
	}
	/* plenty of credit, no ACK: two people's records, not the third's */
	a = feed_with_credit(&budget, 100);
	assert_int_equal(recs_within(a, 1500, tok, &seq), 2);
	/* a second feed of the same app gets no room of its own */
	b = feed_with_credit(&budget, 100);
	assert_int_equal(recs_within(b, 1500, tok2, &seq2), 0);
	/* one ACK: room for one more consent, on either feed */
	ack_rec(a, tok, seq);
	assert_int_equal(recs_within(a, 1500, tok2, &seq2) +
	    recs_within(b, 10, tok2, &seq2), 1);
	/* the first feed leaves: its room goes to the second */
	client_begin(a, 0);
	assert_int_equal(client_send(a, "UNSUB", &err), 0);
	assert_true(recs_within(b, 1500, tok2, &seq2) >= 1);
	client_destroy(&a);
	client_destroy(&b);
}

/*
 * PUT one claim of u per time, as holder h, packed by hand (not through
 * recjson, which would refuse a time out of range before the broker
 * sees it): the broker's code, err its message.
 */
static int
put_claims_at(const struct keypair *h, const struct keypair *u,
    const char *prefix, const int64_t *times, int n, struct cerr *err)
{
	struct client *c = connect_as(h);
	const struct schema *claim = schema_by_name("claim", 5);
	msgpack_sbuffer one;
	msgpack_unpacked tree, reply;
	msgpack_packer *pk;
	struct record r;
	char uid[ID_STR_LEN + 1], line[512];
	int i, rc;

	id_encode(u->pk, uid);
	snprintf(line, sizeof(line), "{\"user\":\"%s\",\"ref\":\"t\","
	    "\"time\":\"2017-03-02T10:00:00Z\",\"act_code\":\"C\","
	    "\"label\":\"Consultation\",\"practitioner\":\"gp\"}", uid);
	msgpack_sbuffer_init(&one);
	assert_int_equal(recjson_encode_line(line, strlen(line), claim, &one,
	    err), 0);
	assert_int_equal(record_decode(one.data, one.size, &tree, &r, err), 0);
	pk = client_begin(c, 1);
	mpk_pack_cstr(pk, "recs");
	msgpack_pack_array(pk, (size_t)n);
	for (i = 0; i < n; i++) {
		snprintf(r.ref, sizeof(r.ref), "%s-%d", prefix, i);
		r.time = times[i];
		record_pack(pk, &r, FIELDS_ALL);
	}
	msgpack_unpacked_destroy(&tree);
	msgpack_sbuffer_destroy(&one);
	rc = client_call(c, "PUT", &reply, err);
	if (rc == 0)
		msgpack_unpacked_destroy(&reply);
	client_destroy(&c);
	return rc;
}

/*
 * A consent without since covers every record whatever its time: the
 * first and last second carnet takes (0001-01-01, 9999-12-31), mixed; a
 * since, even before 1970, still bounds it; a time outside the range is
 * refused at PUT, naming the range.
 */
static void
test_every_time_in_range_is_delivered_without_since(void **state)
{
	int64_t times[36], out[2] = {TIME_MIN - 1, TIME_MAX + 1};
	struct token t;
	struct cerr err = {0};
	struct received got;
	int i;

	(void)state;
	for (i = 0; i < 36; i++)  /* 33 of year 1, 3 of year 9999, mixed */
		times[i] = i % 12 == 5 ? TIME_MAX : TIME_MIN + i;
	assert_int_equal(put_claims_at(&mgen, &alice, "y", times, 36, &err),
	    0);
	make_token(&t, &alice, &budget, "claim", FIELDS_ALL, NULL);
	assert_int_equal(grant_signed(&alice, &t, alice.sk, &err), 0);
	subscribe_until(&budget, 100, 36, 1500, true, &mgen, "claim", &got);
	assert_int_equal(got.n, 36);
	/* since 1960-01-01: only the three of year 9999 */
	make_token(&t, &alice, &other, "claim", FIELDS_ALL, NULL);
	assert_int_equal(time_parse("1960-01-01", &t.since), 0);
	assert_int_equal(grant_signed(&alice, &t, alice.sk, &err), 0);
	subscribe(&other, 100, 1500, true, NULL, NULL, &got);
	assert_int_equal(got.n, 3);
	for (i = 0; i < 2; i++) {
		memset(&err, 0, sizeof(err));
		assert_int_equal(put_claims_at(&mgen, &alice, "out", &out[i], 1,
		    &err), CARNET_E_BAD_VALUE);
		assert_non_null(strstr(cerr_msg(&err), "record 1: envelope "
		    "time: "));
		assert_non_null(strstr(cerr_msg(&err), "outside the times "
		    "carnet takes, 0001-01-01T00:00:00Z to "
		    "9999-12-31T23:59:59Z"));
	}
	/* nothing of them was stored: one more record, one more delivery */
	assert_int_equal(put_claims_at(&mgen, &alice, "out", &times[0], 1,
	    &err), 0);
	subscribe_until(&budget, 100, 0, 1500, true, NULL, NULL, &got);
	assert_int_equal(got.n, 1);
}

/* PUT one claim of u per ref, as holder h; returns how many were stored. */
static uint64_t
put_refs(const struct keypair *h, const struct keypair *u,
    const char *const *refs, int n, uint64_t *corrected)
{
	struct client *c = connect_as(h);
	const struct schema *claim = schema_by_name("claim", 5);
	msgpack_sbuffer recs;
	msgpack_unpacked reply;
	msgpack_packer *pk;
	struct cerr err = {0};
	char uid[ID_STR_LEN + 1], line[512];
	uint64_t stored = 0;
	int i;

	id_encode(u->pk, uid);
	msgpack_sbuffer_init(&recs);
	for (i = 0; i < n; i++) {
		snprintf(line, sizeof(line), "{\"user\":\"%s\",\"ref\":\"%s\","
		    "\"time\":\"2017-03-02T10:00:00Z\",\"act_code\":\"C\","
		    "\"label\":\"Consultation\",\"amount_eur\":%d,"
		    "\"practitioner\":\"gp\"}", uid, refs[i], 20 + i);
		assert_int_equal(recjson_encode_line(line, strlen(line), claim,
		    &recs, &err), 0);
	}
	pk = client_begin(c, 1);
	mpk_pack_cstr(pk, "recs");
	msgpack_pack_array(pk, (size_t)n);
	msgpack_sbuffer_write(pk->data, recs.data, recs.size);
	if (client_call(c, "PUT", &reply, &err) != 0)
		fail_msg("PUT: %s", cerr_msg(&err));
	assert_int_equal(mpk_u64(mpk_get(&reply.data, "stored"), &stored), 0);
	if (corrected != NULL && mpk_u64(mpk_get(&reply.data, "corrected"),
	    corrected) != 0)
		*corrected = 0;
	msgpack_unpacked_destroy(&reply);
	msgpack_sbuffer_destroy(&recs);
	client_destroy(&c);
	return stored;
}

#define SEEN_MAX 16

/* What an app's feed received, frame by frame, as raw bytes. */
struct seen {
	int n, revoked;
	int frames_with_secret;  /* frames holding the holders' refs' text */
	int recs_with_secret;    /* records whose ref is the holder's */
	uint64_t seq[SEEN_MAX], corrects[SEEN_MAX], through;
	char ref[SEEN_MAX][RECORD_REF_MAX_BYTES + 1];
};

/*
 * Read c's frames until idle_ms of silence, acking each record (with
 * ack); each
 * frame packed again to bytes (strings and bins as they came) is looked
 * through for `secret`, the text the holder put in its refs.
 */
static void
feed_raw(struct client *c, int idle_ms, bool ack, const char *secret,
    struct seen *s)
{
	msgpack_unpacked m;
	msgpack_sbuffer raw;
	msgpack_packer pk;
	struct cerr err = {0};
	char cmd[16];

	memset(s, 0, sizeof(*s));
	while (client_recv(c, idle_ms, cmd, &m, &err) == 0) {
		const msgpack_object *recs = mpk_get(&m.data, "recs");
		uint32_t i;

		msgpack_sbuffer_init(&raw);
		msgpack_packer_init(&pk, &raw, msgpack_sbuffer_write);
		msgpack_pack_object(&pk, m.data);
		s->frames_with_secret += tu_holds(raw.data, raw.size, secret);
		msgpack_sbuffer_destroy(&raw);
		if (strcmp(cmd, "REVOKED") == 0) {
			s->revoked++;
			assert_int_equal(mpk_u64(mpk_get(mpk_get(&m.data,
			    "erase"), "through"), &s->through), 0);
		}
		for (i = 0; recs && i < recs->via.array.size; i++) {
			const msgpack_object *e = &recs->via.array.ptr[i];
			uint8_t tok[TOKID_BYTES];
			struct record r;

			assert_true(s->n < SEEN_MAX);
			assert_int_equal(mpk_u64(mpk_get(e, "seq"),
			    &s->seq[s->n]), 0);
			assert_int_equal(mpk_bin_n(mpk_get(e, "token"), tok,
			    TOKID_BYTES), 0);
			assert_int_equal(record_from_object_partial(
			    mpk_get(e, "rec"), &r, &err), 0);
			strcpy(s->ref[s->n], r.ref);
			s->corrects[s->n] = r.corrects;
			s->recs_with_secret += strstr(r.ref, secret) != NULL;
			s->n++;
			if (ack)
				ack_rec(c, tok, s->seq[s->n - 1]);
		}
		msgpack_unpacked_destroy(&m);
	}
}

/* The ref s received with the record of seq, or NULL. */
static const char *
seen_ref_of(const struct seen *s, uint64_t seq)
{
	int i;

	for (i = 0; i < s->n; i++)
		if (s->seq[i] == seq)
			return s->ref[i];
	return NULL;
}

/*
 * Security issue 30, item 3: the holder's ref stays at the broker.  An app
 * granted amount_eur only received every record's ref as the holder wrote
 * it (here a clinic's name and a claim id): now no frame it receives
 * holds a byte of it, only an opaque id of its own per record, the same
 * for a correction (whose corrects names the seq it saw), covered by the
 * erasure notice; another app gets other ids; an app whose consent lists
 * ref gets the holder's ref.
 */
static void
test_the_holders_ref_reaches_an_app_only_when_granted(void **state)
{
	static const char *const refs[] = {
		"hiv-clinic-7731/claim-1@1", "hiv-clinic-7731/claim-2@1",
		"hiv-clinic-7731/claim-3@1", "hiv-clinic-7731/claim-4@1",
	};
	static const char *const fix[] = {"hiv-clinic-7731/claim-2@2"};
	const char *secret = "hiv-clinic";
	const struct schema *claim = schema_by_name("claim", 5);
	uint64_t amount = UINT64_C(1) << schema_field(claim, "amount_eur", 10);
	struct token tb, to, tl;
	struct cerr err = {0};
	struct client *c, *c2;
	struct seen b, b2, o, o2, l, rv;
	uint64_t corrected = 0, max = 0;
	int i, j;

	(void)state;
	add_party(&stranger, ROLE_APP, "ledger", NULL, "budget");
	assert_int_equal(put_refs(&mgen, &alice, refs, 4, NULL), 4);
	make_token(&tb, &alice, &budget, "claim", amount, NULL);
	assert_int_equal(grant_signed(&alice, &tb, alice.sk, &err), 0);
	make_token(&to, &alice, &other, "claim", amount, NULL);
	assert_int_equal(grant_signed(&alice, &to, alice.sk, &err), 0);

	/* granted amount_eur: 4 records, none with the holder's ref */
	c = feed_with_credit(&budget, 100);
	feed_raw(c, 1500, true, secret, &b);
	print_message("# budget (amount_eur): %d records, %d frames holding "
	    "the holder's refs, %d records with the holder's ref\n", b.n,
	    b.frames_with_secret, b.recs_with_secret);
	assert_int_equal(b.n, 4);
	assert_int_equal(b.recs_with_secret, 0);
	assert_int_equal(b.frames_with_secret, 0);
	for (i = 0; i < b.n; i++) {
		assert_int_equal(strlen(b.ref[i]), RECORD_OPAQUE_LEN);
		assert_int_equal(strncmp(b.ref[i], "carnet:", 7), 0);
		assert_null(strstr(b.ref[i], "claim-"));
		for (j = 0; j < i; j++)
			assert_string_not_equal(b.ref[i], b.ref[j]);
		if (b.seq[i] > max)
			max = b.seq[i];
	}
	/* another app, not acking: the same records under other ids */
	c2 = feed_with_credit(&other, 100);
	feed_raw(c2, 1500, false, secret, &o);
	feed_close(&c2);
	assert_int_equal(o.n, 4);
	assert_int_equal(o.frames_with_secret, 0);
	for (i = 0; i < o.n; i++)
		for (j = 0; j < b.n; j++)
			assert_string_not_equal(o.ref[i], b.ref[j]);

	/* a correction of claim 2: under the id claim 2 had */
	assert_int_equal(put_refs(&mgen, &alice, fix, 1, &corrected), 1);
	assert_int_equal(corrected, 1);
	feed_raw(c, 1500, true, secret, &b2);
	assert_int_equal(b2.n, 1);
	assert_int_equal(b2.frames_with_secret, 0);
	assert_non_null(seen_ref_of(&b, b2.corrects[0]));
	assert_string_equal(b2.ref[0], seen_ref_of(&b, b2.corrects[0]));
	assert_string_equal(b2.ref[0], b.ref[1]);
	if (b2.seq[0] > max)
		max = b2.seq[0];
	feed_close(&c);

	/* the erasure notice covers, by seq, all the app received */
	broker_stop(&br);
	broker_restart_same(&br);
	assert_int_equal(revoke(&alice, &alice, tb.id, &err), 0);
	c = feed_with_credit(&budget, 100);
	feed_raw(c, 1500, true, secret, &rv);
	feed_close(&c);
	assert_int_equal(rv.revoked, 1);
	assert_int_equal(rv.n, 0);
	assert_true(rv.through >= max);
	assert_int_equal(rv.frames_with_secret, 0);

	/* after a restart, the other app's 4 unacked records come again
	 * under the ids it saw, and the correction under claim 2's */
	c2 = feed_with_credit(&other, 100);
	feed_raw(c2, 1500, true, secret, &o2);
	feed_close(&c2);
	assert_int_equal(o2.n, 5);
	assert_int_equal(o2.frames_with_secret, 0);
	for (i = 0; i < 4; i++)
		assert_string_equal(seen_ref_of(&o2, o.seq[i]), o.ref[i]);
	assert_string_equal(seen_ref_of(&o2, b2.seq[0]), o.ref[1]);

	/* granted ref: the holder's refs, as the holder wrote them */
	make_token(&tl, &alice, &stranger, "claim", amount | FIELD_REF, NULL);
	assert_int_equal(grant_signed(&alice, &tl, alice.sk, &err), 0);
	c = feed_with_credit(&stranger, 100);
	feed_raw(c, 1500, true, secret, &l);
	feed_close(&c);
	assert_int_equal(l.n, 5);
	assert_int_equal(l.recs_with_secret, 5);
	for (i = 0; i < l.n; i++)
		assert_true(strcmp(l.ref[i], i < 4 ? refs[i] : fix[0]) == 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_only_consented_records_with_only_allowed_fields),
		T(test_credit_bounds_sending_and_unacked_is_resent),
		T(test_revocation_stops_the_flow),
		T(test_revoked_push_reaches_a_live_subscriber),
		T(test_unregistered_null_and_plain_clients_are_refused),
		T(test_resend_is_stored_once),
		T(test_restart_keeps_everything_and_tampering_shows),
		T(test_a_delivered_batch_is_logged_in_few_entries),
		T(test_hostile_frames_get_clear_errors),
		T(test_refused_puts_store_nothing),
		T(test_token_attacks),
		T(test_requests_are_answered_once_by_their_person),
		T(test_feed_reconnects_and_gets_everything),
		T(test_full_store_refuses_puts_and_keeps_serving),
		T(test_stalled_app_vanishing_holder_and_flood_stay_bounded),
		T(test_pause_keeps_the_consent_and_resume_continues),
		T(test_idle_consents_are_never_visited),
		T(test_a_feed_stopped_at_the_last_consent_goes_round),
		T(test_an_app_that_never_acks_holds_at_most_inflight_consents),
		T(test_every_time_in_range_is_delivered_without_since),
		T(test_the_holders_ref_reaches_an_app_only_when_granted),
#undef T
	};

	return cmocka_run_group_tests_name("broker", tests, group_setup, NULL);
}
