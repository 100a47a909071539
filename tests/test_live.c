/*
 * test_live.c: live deliveries from the bytes the PUT brought (the broker
 * keeps the records it stored lately in the clear, broker/recent.c), the
 * real carnetd on loopback: the same frames as when the records are
 * opened from the store after a restart; nothing of a PUT whose
 * transaction aborted; nothing of a person who erased.
 */
#include "brokerops.h"

#include "../client/client.h"
#include "../common/mpk.h"
#include "../schemas/recjson.h"

#define FRAMES_MAX 8

/* What a feed received: each REC frame packed again, as it came. */
struct frames {
	int n, recs;
	msgpack_sbuffer raw[FRAMES_MAX];
	uint64_t seq[64];
	char label[64][64];
};

static void
frames_free(struct frames *f)
{
	int i;

	for (i = 0; i < f->n; i++)
		msgpack_sbuffer_destroy(&f->raw[i]);
	memset(f, 0, sizeof(*f));
}

/* A counter of the broker's own, from STATS. */
static uint64_t
broker_stat(const char *name)
{
	struct client *c = connect_as(&op);
	struct cerr err = {0};
	msgpack_unpacked reply;
	uint64_t n = 0;

	client_begin(c, 0);
	assert_int_equal(client_call(c, "STATS", &reply, &err), 0);
	assert_int_equal(mpk_u64(mpk_get(mpk_get(&reply.data, "broker"),
	    name), &n), 0);
	msgpack_unpacked_destroy(&reply);
	client_destroy(&c);
	return n;
}

/* Read c's frames until want records came or idle_ms of silence; no
 * ACK (a restarted broker sends them all again). */
static void
frames_read(struct client *c, int want, int idle_ms, struct frames *f)
{
	msgpack_unpacked m;
	msgpack_packer pk;
	struct cerr err = {0};
	char cmd[16];

	memset(f, 0, sizeof(*f));
	while ((want == 0 || f->recs < want) &&
	    client_recv(c, idle_ms, cmd, &m, &err) == 0) {
		const msgpack_object *recs = mpk_get(&m.data, "recs");
		uint32_t i;

		if (strcmp(cmd, "REC") == 0) {
			assert_true(f->n < FRAMES_MAX);
			msgpack_sbuffer_init(&f->raw[f->n]);
			msgpack_packer_init(&pk, &f->raw[f->n],
			    msgpack_sbuffer_write);
			msgpack_pack_object(&pk, m.data);
			f->n++;
		}
		for (i = 0; recs && i < recs->via.array.size; i++) {
			const msgpack_object *e = &recs->via.array.ptr[i];
			const msgpack_object *body, *label;
			struct record r;

			assert_true(f->recs < 64);
			assert_int_equal(mpk_u64(mpk_get(e, "seq"),
			    &f->seq[f->recs]), 0);
			assert_int_equal(record_from_object_partial(
			    mpk_get(e, "rec"), &r, &err), 0);
			body = r.body;
			label = body ? mpk_get(body, "label") : NULL;
			if (label != NULL && label->type == MSGPACK_OBJECT_STR)
				snprintf(f->label[f->recs], 64, "%.*s",
				    (int)label->via.str.size,
				    label->via.str.ptr);
			f->recs++;
		}
		msgpack_unpacked_destroy(&m);
	}
}

/* Claims of u as holder h, labelled label-i, ref prefix-i, in one PUT;
 * with bad, one more record that fails validation (the batch is then
 * refused, after the good ones were stored in its transaction).  The
 * broker's code; seqs (may be NULL) gets the seqs ACKed. */
static int
put_claims(const struct keypair *h, const struct keypair *u,
    const char *prefix, const char *label, int n, bool bad, uint64_t *seqs)
{
	const struct schema *claim = schema_by_name("claim", 5);
	struct client *c = connect_as(h);
	msgpack_sbuffer recs;
	msgpack_packer *pk;
	msgpack_unpacked reply;
	struct cerr err = {0};
	char uid[ID_STR_LEN + 1], line[512];
	int i, rc;

	id_encode(u->pk, uid);
	msgpack_sbuffer_init(&recs);
	for (i = 0; i < n; i++) {
		snprintf(line, sizeof(line), "{\"user\":\"%s\",\"ref\":"
		    "\"%s-%d\",\"time\":\"2017-03-02T10:00:00Z\","
		    "\"act_code\":\"C\",\"label\":\"%s-%d\","
		    "\"amount_eur\":%d,\"reimbursed_eur\":16.5,"
		    "\"practitioner\":\"gp\"}", uid, prefix, i, label, i,
		    20 + i);
		assert_int_equal(recjson_encode_line(line, strlen(line), claim,
		    &recs, &err), 0);
	}
	pk = client_begin(c, 1);
	mpk_pack_cstr(pk, "recs");
	msgpack_pack_array(pk, (size_t)n + bad);
	msgpack_sbuffer_write(pk->data, recs.data, recs.size);
	if (bad)
		msgpack_pack_uint32(pk, 7); /* not a record */
	rc = client_call(c, "PUT", &reply, &err);
	if (rc == 0) {
		const msgpack_object *s = mpk_get(&reply.data, "seqs");

		assert_non_null(s);
		assert_int_equal(s->via.array.size, n);
		for (i = 0; seqs != NULL && i < n; i++)
			assert_int_equal(mpk_u64(&s->via.array.ptr[i],
			    &seqs[i]), 0);
		msgpack_unpacked_destroy(&reply);
	}
	msgpack_sbuffer_destroy(&recs);
	client_destroy(&c);
	return rc;
}

static void
grant(const struct keypair *user, const struct keypair *app,
    uint64_t fields, struct token *t)
{
	struct cerr err = {0};

	make_token(t, user, app, "claim", fields, NULL);
	assert_int_equal(grant_signed(user, t, user->sk, &err), 0);
}

static uint64_t
claim_fields(const char *a, const char *b)
{
	const struct schema *s = schema_by_name("claim", 5);

	return (UINT64_C(1) << schema_field(s, a, strlen(a))) |
	    (UINT64_C(1) << schema_field(s, b, strlen(b)));
}

/*
 * Records delivered live (from the bytes their PUT brought) and the same
 * records delivered again after a restart (opened from the store: the
 * new process holds nothing in the clear) are the same frames, to the
 * byte, for an app with a field list (minimised) and one with all.
 */
static void
test_live_and_opened_deliveries_are_the_same_frames(void **state)
{
	struct frames live_b, live_o, again_b, again_o;
	struct client *fb, *fo;
	struct token tb, to;
	uint64_t mem0, mem1, opened0;
	int i;

	(void)state;
	grant(&alice, &budget, claim_fields("amount_eur", "label"), &tb);
	grant(&alice, &other, FIELDS_ALL, &to);
	fb = feed_with_credit(&budget, 20);
	fo = feed_with_credit(&other, 20);
	mem0 = broker_stat("sent_from_memory");
	assert_int_equal(put_claims(&mgen, &alice, "live", "visit", 20, false,
	    NULL), 0);
	frames_read(fb, 20, 3000, &live_b);
	frames_read(fo, 20, 3000, &live_o);
	assert_int_equal(live_b.recs, 20);
	assert_int_equal(live_o.recs, 20);
	mem1 = broker_stat("sent_from_memory");
	assert_int_equal(mem1 - mem0, 40); /* none opened: all from memory */
	client_destroy(&fb);
	client_destroy(&fo);
	/* nothing acked: after a restart both get them all again */
	broker_stop(&br);
	broker_restart_same(&br);
	fb = feed_with_credit(&budget, 0);
	fo = feed_with_credit(&other, 0);
	credit(fb, 20);
	frames_read(fb, 20, 3000, &again_b);
	credit(fo, 20);
	frames_read(fo, 20, 3000, &again_o);
	assert_int_equal(broker_stat("sent_from_memory"), 0);
	opened0 = broker_stat("sent_opened");
	assert_int_equal(opened0, 40);
	assert_int_equal(again_b.recs, 20);
	assert_int_equal(again_o.recs, 20);
	/* the same batches, the same bytes */
	assert_int_equal(live_b.n, again_b.n);
	assert_int_equal(live_o.n, again_o.n);
	for (i = 0; i < live_b.n; i++) {
		assert_int_equal(live_b.raw[i].size, again_b.raw[i].size);
		assert_memory_equal(live_b.raw[i].data, again_b.raw[i].data,
		    live_b.raw[i].size);
	}
	for (i = 0; i < live_o.n; i++) {
		assert_int_equal(live_o.raw[i].size, again_o.raw[i].size);
		assert_memory_equal(live_o.raw[i].data, again_o.raw[i].data,
		    live_o.raw[i].size);
	}
	/* and the minimised ones differ from the whole ones */
	assert_true(live_b.raw[0].size < live_o.raw[0].size);
	frames_free(&live_b);
	frames_free(&live_o);
	frames_free(&again_b);
	frames_free(&again_o);
	client_destroy(&fb);
	client_destroy(&fo);
}

/*
 * A PUT refused at its second record had stored the first (and kept its
 * bytes) in its transaction, which aborted: the seq it had is given to
 * the next PUT's record, and that is what the app gets, never the bytes
 * of the record that was not stored.
 */
static void
test_a_put_whose_transaction_aborts_is_not_delivered(void **state)
{
	struct frames f;
	struct client *fb;
	struct token t;
	uint64_t seqs[2], before, mem0;

	(void)state;
	grant(&alice, &budget, FIELDS_ALL, &t);
	assert_int_equal(put_claims(&mgen, &alice, "first", "first", 1, false,
	    &before), 0);
	fb = feed_with_credit(&budget, 10);
	frames_read(fb, 1, 3000, &f);
	assert_int_equal(f.recs, 1);
	frames_free(&f);
	mem0 = broker_stat("sent_from_memory");
	/* two good records then one that is no record: refused whole */
	assert_int_equal(put_claims(&mgen, &alice, "ghost", "ghost", 2, true,
	    NULL), CARNET_E_FIELD_TYPE);
	assert_int_equal(put_claims(&mgen, &alice, "real", "real", 2, false,
	    seqs), 0);
	/* the aborted PUT's seqs were given again */
	assert_int_equal(seqs[0], before + 1);
	assert_int_equal(seqs[1], before + 2);
	frames_read(fb, 0, 1500, &f);
	assert_int_equal(f.recs, 2);
	assert_int_equal(f.seq[0], seqs[0]);
	assert_int_equal(f.seq[1], seqs[1]);
	assert_string_equal(f.label[0], "real-0");
	assert_string_equal(f.label[1], "real-1");
	/* live: from memory, the right bytes */
	assert_int_equal(broker_stat("sent_from_memory") - mem0, 2);
	frames_free(&f);
	client_destroy(&fb);
}

/*
 * A person who erases right after a PUT (the next turn, before an app
 * had credit for the records): nothing of theirs is delivered, from
 * memory or the store; another person's records of the same PUT's turn
 * still go, from memory.
 */
static void
test_erasure_right_after_put_delivers_nothing(void **state)
{
	struct frames f;
	struct client *fb, *c;
	struct token ta, tb;
	struct cerr err = {0};
	msgpack_unpacked reply;
	uint64_t n, mem0;
	int i;

	(void)state;
	grant(&alice, &budget, FIELDS_ALL, &ta);
	grant(&bob, &budget, FIELDS_ALL, &tb);
	fb = feed_with_credit(&budget, 0); /* subscribed, no credit yet */
	assert_int_equal(put_claims(&mgen, &alice, "a", "alice", 5, false,
	    NULL), 0);
	assert_int_equal(put_claims(&mgen, &bob, "b", "bob", 3, false, NULL),
	    0);
	c = connect_as(&alice);
	client_begin(c, 0);
	assert_int_equal(client_call(c, "ERASE", &reply, &err), 0);
	assert_int_equal(mpk_u64(mpk_get(&reply.data, "erased"), &n), 0);
	assert_int_equal(n, 5);
	msgpack_unpacked_destroy(&reply);
	client_destroy(&c);
	mem0 = broker_stat("sent_from_memory");
	credit(fb, 100);
	frames_read(fb, 0, 1500, &f);
	assert_int_equal(f.recs, 3);
	for (i = 0; i < f.recs; i++)
		assert_true(strncmp(f.label[i], "bob-", 4) == 0);
	assert_int_equal(broker_stat("sent_from_memory") - mem0, 3);
	assert_int_equal(broker_stat("sent_opened"), 0);
	frames_free(&f);
	client_destroy(&fb);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_live_and_opened_deliveries_are_the_same_frames),
		T(test_a_put_whose_transaction_aborts_is_not_delivered),
		T(test_erasure_right_after_put_delivers_nothing),
#undef T
	};

	(void)put; /* brokerops.h's, not needed here */
	(void)revoke;
	(void)broker_anon_kib;
	return cmocka_run_group_tests_name("live", tests, group_setup, NULL);
}
