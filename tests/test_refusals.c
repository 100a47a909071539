/*
 * test_refusals.c: what parties with no standing with a person can make
 * the broker write (security issue 30, items 1 and 2), against the real
 * carnetd: an app with no consent naming people in SUB, a person acting
 * `for` someone who did not delegate to them; each refusal is answered,
 * but a party's refusals to one person are logged once a period and
 * within a budget; and past 95 % of the map only what stops a person's
 * data (REVOKE, PAUSE, ERASE) still takes room.
 */
#include "brokerops.h"

#include <sys/stat.h>

/* SUB naming n people (their keys in kps) as the app behind c. */
static int
sub_users(struct client *c, const struct keypair *kps, int n,
    struct cerr *err)
{
	msgpack_packer *pk = client_begin(c, 1);
	msgpack_unpacked reply;
	int i, rc;

	mpk_pack_cstr(pk, "users");
	msgpack_pack_array(pk, (size_t)n);
	for (i = 0; i < n; i++)
		mpk_pack_binn(pk, kps[i].pk, ID_BYTES);
	if ((rc = client_call(c, "SUB", &reply, err)) == 0)
		msgpack_unpacked_destroy(&reply);
	return rc;
}

/* The refused entries naming party (as the app, or as the one who acted:
 * by) in person's log: how many, the counts they name (rseq) added up,
 * and the note of the last one. */
struct refused {
	int n;
	uint64_t counted;
	char note[USELOG_NOTE_MAX_BYTES + 1];
};

struct refused_scan {
	const struct keypair *party;
	struct refused *out;
};

static void
count_refused(const struct uselog_entry *e, void *arg)
{
	struct refused_scan *rs = arg;
	const uint8_t *pk = rs->party->pk;

	if (e->kind != USE_REFUSED ||
	    !((e->has_app && memcmp(e->app, pk, ID_BYTES) == 0) ||
	    (e->has_by && memcmp(e->by, pk, ID_BYTES) == 0)))
		return;
	rs->out->n++;
	rs->out->counted += e->rseq;
	snprintf(rs->out->note, sizeof(rs->out->note), "%s", e->note);
}

static void
log_refused(const struct keypair *person, const struct keypair *party,
    struct refused *out)
{
	struct refused_scan rs = {party, out};

	memset(out, 0, sizeof(*out));
	log_each(person, count_refused, &rs);
}

static long
data_kib(void)
{
	char path[512];
	struct stat st;

	snprintf(path, sizeof(path), "%s/store/data.mdb", br.dir);
	assert_int_equal(stat(path, &st), 0);
	return (long)(st.st_size / 1024);
}

/* A counter of the broker's own, from STATS (-1 when it has none). */
static long long
broker_stat(const char *name)
{
	struct client *c = connect_as(&op);
	struct cerr err = {0};
	msgpack_unpacked reply;
	uint64_t n;
	long long v = -1;

	client_begin(c, 0);
	assert_int_equal(client_call(c, "STATS", &reply, &err), 0);
	if (mpk_u64(mpk_get(mpk_get(&reply.data, "broker"), name), &n) == 0)
		v = (long long)n;
	msgpack_unpacked_destroy(&reply);
	client_destroy(&c);
	return v;
}

/* ---- an app with no consent names people in SUB ----------------------- */

#define PEOPLE 1000
#define SUBS 100

static void
test_a_strangers_subs_are_logged_once_per_person(void **state)
{
	static struct keypair people[PEOPLE];
	struct client *c;
	struct cerr err = {0};
	struct refused rf;
	struct token t;
	long before, after;
	int i;

	(void)state;
	add_people(people, PEOPLE, "p");
	/* the good path: with alice's consent, budget's SUB naming her is
	 * taken; other, with no consent from anyone, names her too and her
	 * log says so */
	make_token(&t, &alice, &budget, "claim", FIELDS_ALL, NULL);
	assert_int_equal(grant_signed(&alice, &t, alice.sk, &err), 0);
	c = connect_as(&budget);
	assert_int_equal(sub_users(c, &people[0], 0, &err), CARNET_E_MALFORMED);
	client_destroy(&c);
	{
		struct keypair one[1] = {alice};

		c = connect_as(&budget);
		assert_int_equal(sub_users(c, one, 1, &err), 0);
		client_destroy(&c);
		c = connect_as(&other);
		assert_int_equal(sub_users(c, one, 1, &err),
		    CARNET_E_NO_CONSENT);
		client_destroy(&c);
		log_refused(&alice, &other, &rf);
		assert_int_equal(rf.n, 1);
	}

	/* the attack: SUBS SUBs naming the same PEOPLE people, each of them
	 * refused and answered so */
	before = data_kib();
	c = connect_as(&other);
	for (i = 0; i < SUBS; i++)
		assert_int_equal(sub_users(c, people, PEOPLE, &err),
		    CARNET_E_NO_CONSENT);
	client_destroy(&c);
	after = data_kib();
	log_refused(&people[0], &other, &rf);
	log_refused(&people[PEOPLE - 1], &other, &rf);
	print_message("%d SUBs naming %d people: %d refused entries in one "
	    "person's log, data.mdb %ld KiB -> %ld KiB (broker heap %ld "
	    "KiB)\n", SUBS, PEOPLE, rf.n, before, after, broker_anon_kib());
	/* the first of the period is logged, the others counted */
	assert_int_equal(rf.n, 1);
	log_refused(&people[0], &other, &rf);
	assert_int_equal(rf.n, 1);
	assert_true(after - before < 2048);
	broker_alive(&br);
}

/* ---- someone acts for a person who did not delegate to them ----------- */

#define ATTEMPTS 50

/* LOG for `whom`, sent by c: the broker's code. */
static int
log_for(struct client *c, const struct keypair *whom)
{
	msgpack_packer *pk = client_begin(c, 1);
	msgpack_unpacked reply;
	struct cerr err = {0};
	int rc;

	mpk_pack_cstr(pk, "for");
	mpk_pack_binn(pk, whom->pk, ID_BYTES);
	if ((rc = client_call(c, "LOG", &reply, &err)) == 0)
		msgpack_unpacked_destroy(&reply);
	return rc;
}

static void
test_acting_for_a_non_delegator_is_logged_once_a_period(void **state)
{
	struct refused rf;
	struct client *c;
	int i;

	(void)state;
	/* the good path: bob reads his own log; his first attempt at
	 * alice's is refused and she sees who tried */
	c = connect_as(&bob);
	client_begin(c, 0);
	{
		msgpack_unpacked reply;
		struct cerr err = {0};

		assert_int_equal(client_call(c, "LOG", &reply, &err), 0);
		msgpack_unpacked_destroy(&reply);
	}
	assert_int_equal(log_for(c, &alice), CARNET_E_NOT_DELEGATE);
	log_refused(&alice, &bob, &rf);
	assert_int_equal(rf.n, 1);
	/* again and again: each refused, one entry in her log */
	for (i = 1; i < ATTEMPTS; i++)
		assert_int_equal(log_for(c, &alice), CARNET_E_NOT_DELEGATE);
	client_destroy(&c);
	log_refused(&alice, &bob, &rf);
	print_message("%d attempts for alice by bob: %d entries in her log\n",
	    ATTEMPTS, rf.n);
	assert_int_equal(rf.n, 1);

	/* a period of 1 s: the next period's first attempt is logged and
	 * names how many came between */
	broker_stop(&br);
	br.refusal_period = "1s";
	broker_restart_same(&br);
	tu_sleep_ms(1100);
	c = connect_as(&bob);
	assert_int_equal(log_for(c, &alice), CARNET_E_NOT_DELEGATE);
	client_destroy(&c);
	log_refused(&alice, &bob, &rf);
	print_message("then, next period: %d entries, %llu counted, \"%s\"\n",
	    rf.n, (unsigned long long)rf.counted, rf.note);
	assert_int_equal(rf.n, 2);
	assert_int_equal(rf.counted, ATTEMPTS - 1);
	assert_non_null(strstr(rf.note, "and 49 more since"));
	/* every attempt is accounted for: logged, or counted in one that is */
	assert_int_equal((uint64_t)rf.n + rf.counted, ATTEMPTS + 1);
	br.refusal_period = NULL;
}

/* ---- a party's budget of refusal entries ------------------------------ */

static void
test_a_partys_refusal_entries_are_rate_bounded(void **state)
{
	static struct keypair people[3 * PEOPLE];
	struct timespec t0, t1;
	struct client *c;
	struct cerr err = {0};
	struct refused rf;
	long long unlogged;
	double secs;
	int i, logged = 0;

	(void)state;
	add_people(people, 3 * PEOPLE, "q");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	c = connect_as(&other);
	for (i = 0; i < 3; i++)
		assert_int_equal(sub_users(c, people + i * PEOPLE, PEOPLE,
		    &err), CARNET_E_NO_CONSENT);
	client_destroy(&c);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	/* the good path: the first burst is logged, person by person */
	log_refused(&people[0], &other, &rf);
	assert_int_equal(rf.n, 1);
	log_refused(&people[PEOPLE - 1], &other, &rf);
	assert_int_equal(rf.n, 1);
	for (i = 0; i < 3 * PEOPLE; i += 50) {
		log_refused(&people[i], &other, &rf);
		logged += rf.n;
	}
	unlogged = broker_stat("refusals_unlogged");
	print_message("%d people refused in %.2f s: about %d logged (1 in 50 "
	    "read), %lld answered but not logged\n", 3 * PEOPLE, secs,
	    logged * 50, unlogged);
	/* past the burst, at most the rate: the rest answered, counted */
	assert_true(unlogged >= 3 * PEOPLE - REFUSALS_BURST -
	    (long long)(REFUSALS_PER_S * secs) - 1);
	assert_true(logged * 50 <= REFUSALS_BURST + REFUSALS_PER_S * secs +
	    2 * 50);
}

/* ---- the reserve ------------------------------------------------------ */

/*
 * Fill the stopped broker's store (a map of mib MiB) up to pct % of the
 * map with operator counters: what any other way of filling it leaves.
 */
static unsigned
fill_store(unsigned mib, unsigned pct)
{
	struct store *s;
	struct store_size sz;
	struct cerr err;
	MDB_txn *txn;
	char key[64];
	unsigned i = 0, fill = 0;

	assert_int_equal(store_open(br.dir, (size_t)mib << 20, &s, &err), 0);
	while (fill < pct) {
		int j;

		assert_int_equal(store_txn_begin(s, NULL, true, &txn, &err), 0);
		/* small steps near the end: a step must fit in the map */
		for (j = 0; j < (fill + 2 < pct ? 500 : 10); j++, i++) {
			snprintf(key, sizeof(key), "filler/%08u/%040u", i, i);
			assert_int_equal(store_stat_add(s, txn, key, 1, &err),
			    0);
		}
		store_size(s, txn, &sz);
		fill = (unsigned)(sz.pages * sz.page_bytes * 100 /
		    sz.map_bytes);
		assert_int_equal(store_txn_commit(&txn, &err), 0);
	}
	store_close(&s);
	return fill;
}

/* Records in REC pushes and REVOKED notices, until idle_ms of silence. */
static void
feed_read(struct client *c, int idle_ms, int *recs, int *revoked)
{
	msgpack_unpacked m;
	struct cerr err = {0};
	char cmd[16];

	while (client_recv(c, idle_ms, cmd, &m, &err) == 0) {
		const msgpack_object *l = mpk_get(&m.data, "recs");

		if (strcmp(cmd, "REC") == 0 && l != NULL)
			*recs += (int)l->via.array.size;
		else if (strcmp(cmd, "REVOKED") == 0)
			(*revoked)++;
		msgpack_unpacked_destroy(&m);
	}
}

static struct client *
feed_open(const struct keypair *app)
{
	struct client *c = connect_as(app);
	msgpack_unpacked reply;
	struct cerr err = {0};
	msgpack_packer *pk;

	client_begin(c, 0);
	assert_int_equal(client_call(c, "SUB", &reply, &err), 0);
	msgpack_unpacked_destroy(&reply);
	pk = client_begin(c, 1);
	mpk_pack_cstr(pk, "n");
	msgpack_pack_uint64(pk, 1000);
	assert_int_equal(client_send(c, "CREDIT", &err), 0);
	return c;
}

static void
test_the_reserve_is_kept_for_ending_consents(void **state)
{
	static struct keypair people[PEOPLE];
	struct client *app, *c;
	struct token t, t2;
	struct cerr err = {0};
	struct refused rf;
	unsigned fill;
	int code = 0, recs = 0, revoked = 0, i;
	long long unlogged;

	(void)state;
	add_people(people, PEOPLE, "r");
	/* the good path: alice's consent, records flow to budget */
	make_token(&t, &alice, &budget, "claim", FIELDS_ALL, NULL);
	assert_int_equal(grant_signed(&alice, &t, alice.sk, &err), 0);
	put(&mgen, &alice, "claim", "a", 10, NULL);
	app = feed_open(&budget);
	feed_read(app, 1500, &recs, &revoked);
	assert_int_equal(recs, 10);
	client_destroy(&app);
	/* records waiting for the feed, then the store fills past 95 % */
	put(&mgen, &alice, "claim", "b", 10, NULL);
	broker_stop(&br);
	fill = fill_store(8, 96);
	br.map_mib = "8";
	broker_restart_same(&br);
	print_message("the store filled to %u %% of an 8 MiB map\n", fill);

	/* a holder's PUT, a new consent: store_full */
	put(&mgen, &alice, "claim", "c", 1, &code);
	assert_int_equal(code, CARNET_E_STORE_FULL);
	make_token(&t2, &bob, &budget, "claim", FIELDS_ALL, NULL);
	assert_int_equal(grant_signed(&bob, &t2, bob.sk, &err),
	    CARNET_E_STORE_FULL);
	/* a stranger's SUBs: answered, not logged (counted) */
	log_refused(&people[0], &other, &rf);
	assert_int_equal(rf.n, 0);
	c = connect_as(&other);
	for (i = 0; i < 20; i++)
		assert_int_equal(sub_users(c, people, PEOPLE, &err),
		    CARNET_E_NO_CONSENT);
	client_destroy(&c);
	log_refused(&people[0], &other, &rf);
	assert_int_equal(rf.n, 0);
	unlogged = broker_stat("refusals_unlogged");
	assert_true(unlogged >= 20 * PEOPLE);
	/* the feed waits: its records would take room for their log entries */
	app = feed_open(&budget);
	recs = revoked = 0;
	feed_read(app, 1500, &recs, &revoked);
	assert_int_equal(recs, 0);
	/* alice's REVOKE commits; the app is told; nothing more comes */
	assert_int_equal(revoke(&alice, &alice, t.id, &err), 0);
	feed_read(app, 1500, &recs, &revoked);
	assert_int_equal(revoked, 1);
	assert_int_equal(recs, 0);
	client_destroy(&app);
	/* the operator gives it room: nothing flows under the revoked one */
	broker_stop(&br);
	br.map_mib = "64";
	broker_restart_same(&br);
	app = feed_open(&budget);
	recs = revoked = 0;
	feed_read(app, 1500, &recs, &revoked);
	assert_int_equal(recs, 0);
	client_destroy(&app);
	assert_int_equal(put(&mgen, &alice, "claim", "d", 1, NULL), 1);
	br.map_mib = NULL;
	broker_alive(&br);
}

/* REVOKE of tok as alice on c (connected already): the broker's code. */
static int
revoke_on(struct client *c, const uint8_t tok[TOKID_BYTES])
{
	struct revocation rv = {0};
	msgpack_unpacked reply;
	struct cerr err = {0};
	msgpack_packer *pk;
	uint8_t *blob;
	size_t len;
	int rc;

	memcpy(rv.token, tok, TOKID_BYTES);
	memcpy(rv.user, alice.pk, ID_BYTES);
	rv.time = (int64_t)time(NULL);
	assert_int_equal(revocation_sign(&rv, alice.sk, &blob, &len, &err), 0);
	pk = client_begin(c, 1);
	mpk_pack_cstr(pk, "revocation");
	mpk_pack_binn(pk, blob, len);
	free(blob);
	if ((rc = client_call(c, "REVOKE", &reply, &err)) == 0)
		msgpack_unpacked_destroy(&reply);
	return rc;
}

#define ROUNDS 8
#define FLOOD 300

/*
 * The turn: a store at 96 %, a stranger's flood of SUBs each
 * naming one person, and a person's REVOKE read amid it.  Before the fix
 * the flood took the last pages and the REVOKEs failed (in their own
 * request, or with the commit of the turn they shared); now the flood
 * cannot take the reserve, and every REVOKE commits.
 */
static void
test_a_strangers_flood_never_takes_a_revocation_with_it(void **state)
{
	static struct keypair people[ROUNDS * FLOOD];
	struct client *app, *me;
	struct token t[ROUNDS];
	struct cerr err = {0};
	unsigned fill;
	int r, i, ok = 0;

	(void)state;
	add_people(people, ROUNDS * FLOOD, "s");
	/* the good path: consents granted while there is room */
	for (r = 0; r < ROUNDS; r++) {
		make_token(&t[r], &alice, &budget, "claim", FIELDS_ALL, NULL);
		assert_int_equal(grant_signed(&alice, &t[r], alice.sk, &err),
		    0);
	}
	broker_stop(&br);
	fill = fill_store(8, 96);
	br.map_mib = "8";
	broker_restart_same(&br);
	app = connect_as(&other);
	me = connect_as(&alice);
	for (r = 0; r < ROUNDS; r++) {
		int code;

		for (i = 0; i < FLOOD; i++) {
			msgpack_packer *pk = client_begin(app, 1);

			mpk_pack_cstr(pk, "users");
			msgpack_pack_array(pk, 1);
			mpk_pack_binn(pk, people[r * FLOOD + i].pk, ID_BYTES);
			assert_int_equal(client_send(app, "SUB", &err), 0);
			if (i == FLOOD / 10) /* in the flood's turn */
				tu_sleep_ms(1);
		}
		code = revoke_on(me, t[r].id);
		ok += code == 0;
		if (code != 0)
			print_message("round %d: REVOKE %s\n", r + 1,
			    carnet_errname(code));
	}
	client_destroy(&me);
	client_destroy(&app);
	print_message("store at %u %%: %d of %d REVOKEs sent amid a stranger's "
	    "flood committed\n", fill, ok, ROUNDS);
	assert_int_equal(ok, ROUNDS);
	br.map_mib = NULL;
	broker_alive(&br);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_a_strangers_subs_are_logged_once_per_person),
		T(test_acting_for_a_non_delegator_is_logged_once_a_period),
		T(test_a_partys_refusal_entries_are_rate_bounded),
		T(test_the_reserve_is_kept_for_ending_consents),
		T(test_a_strangers_flood_never_takes_a_revocation_with_it),
#undef T
	};

	return cmocka_run_group_tests_name("refusals", tests, group_setup,
	    NULL);
}
