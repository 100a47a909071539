/*
 * test_crash.c: kill -9 carnetd at random moments while a holder streams
 * and an app consumes, and check after each kill, on the store itself:
 *   - every ACKed record is stored, none twice;
 *   - cursors never go backwards;
 *   - every record the app received has its use-log entry;
 *   - the person's log chain verifies;
 *   - nothing was delivered under a token after its revocation entry.
 * At the end, every stored record reached the app at least once.  Runs
 * alternate between a commit every turn and the turn log (--checkpoint).
 * CARNET_CRASH_KILLS (default 3) and CARNET_CRASH_RECORDS (3000) size it;
 * make torture runs 50 kills over 1 M records.
 *
 * The same run again as power losses: carnetd runs under the power-loss
 * shim (tests/powerloss/plshim.c) and after each kill pl-undo puts every
 * store file back as it was at its last sync, dropping whatever the page
 * cache held that no fsync had made durable, before the same checks.
 * CARNET_POWERLOSS_KILLS (default 3) and CARNET_POWERLOSS_RECORDS (3000).
 */
#include "brokerfx.h"

#include <time.h>

#include "../client/feed.h"
#include "../common/mpk.h"
#include "../schemas/recjson.h"

#define BATCH 250

static struct broker br;
static struct keypair user, holder, holder2, app;
static size_t nrec;
static bool *acked, *received;
static uint8_t tok1[TOKID_BYTES], tok2[TOKID_BYTES];
static uint64_t last_cursor[2];
static unsigned long kills, checks, records_checked;
/* power losses: unsynced writes dropped, syncs the shim saw */
static unsigned long undo_writes, undo_syncs;
static char shim[PATH_MAX + 16], undo_tool[PATH_MAX + 16];
static char undo_log[PATH_MAX];

static struct client *
connect_retry(const struct keypair *kp)
{
	struct client *c = NULL;
	struct cerr err = {0};
	int i;

	for (i = 0; i < 50; i++) {
		assert_int_equal(client_new(br.endpoint, br.id, kp, &c, &err), 0);
		if (client_wait_ready(c, 2000, &err) == 0) {
			client_set_timeout(c, 1500);
			return c;
		}
		client_destroy(&c);
	}
	fail_msg("cannot connect: %s", cerr_msg(&err));
	return NULL;
}

/* The index a record was sent with, from its ref "r-<index>". */
static long
ref_index(const struct record *r)
{
	return strncmp(r->ref, "r-", 2) == 0 ? atol(r->ref + 2) : -1;
}

struct logscan {
	bool *delivered; /* by record seq, from the log's entries */
	bool revoked_seen, late;
	uint64_t before; /* deliveries under tok1 before its revocation */
};

static int
log_one(void *arg, uint64_t seq, const MDB_val *v)
{
	struct logscan *ls = arg;
	struct uselog_entry e;
	const uint64_t *recs;
	size_t n, i;

	(void)seq;
	if (uselog_decode(v->mv_data, v->mv_size, &e, NULL) != 0)
		return CARNET_E_LOG_BROKEN;
	if (e.kind == USE_REVOKE && e.has_token &&
	    memcmp(e.token, tok1, TOKID_BYTES) == 0)
		ls->revoked_seen = true;
	if (e.kind != USE_DELIVER)
		return 0;
	/* a batch entry: each of its records counts */
	n = uselog_records(&e, &recs);
	if (e.has_token && memcmp(e.token, tok1, TOKID_BYTES) == 0) {
		if (ls->revoked_seen)
			ls->late = true;
		else
			ls->before += n;
	}
	for (i = 0; i < n; i++)
		if (recs[i] < 4 * nrec + 16)
			ls->delivered[recs[i]] = true;
	return 0;
}

/* With the broker dead: check the invariants on its store. */
static void
check_store(bool final)
{
	struct store *s;
	struct cerr err = {0};
	MDB_txn *txn;
	struct recmeta m;
	struct logscan ls = {0};
	struct store_upgrade up;
	struct keypair broker;
	char path[600];
	bool *stored = calloc(nrec, sizeof(bool));
	uint64_t after = 0, n, cur;
	size_t i;

	assert_non_null(stored);
	ls.delivered = calloc(4 * nrec + 16, sizeof(bool));
	assert_non_null(ls.delivered);
	assert_int_equal(store_open(br.dir, BROKER_MAP_BYTES, &s, &err), 0);
	/* records open only with the broker's key, as carnetd opens them */
	snprintf(path, sizeof(path), "%s/broker.key", br.dir);
	assert_int_equal(key_read(path, &broker, &err), 0);
	if (store_set_key(s, broker.sk, &up, &err) != 0)
		fail_msg("store key: %s", cerr_msg(&err));
	key_wipe(&broker);
	assert_int_equal(store_txn_begin(s, NULL, false, &txn, &err), 0);
	/* every ACKed record stored, none twice */
	while (store_user_next(s, txn, user.pk, after, &m) == 0) {
		MDB_val v;
		msgpack_unpacked tree;
		struct record r;
		long idx;

		if (store_record_get(s, txn, user.pk, m.seq, &v, &err) != 0)
			fail_msg("record %llu: %s", (unsigned long long)m.seq,
			    cerr_msg(&err));
		assert_int_equal(record_decode(v.mv_data, v.mv_size, &tree, &r,
		    &err), 0);
		idx = ref_index(&r);
		assert_true(idx >= 0 && (size_t)idx < nrec);
		if (stored[idx])
			fail_msg("record r-%ld stored twice", idx);
		stored[idx] = true;
		msgpack_unpacked_destroy(&tree);
		after = m.seq;
		records_checked++;
	}
	for (i = 0; i < nrec; i++)
		if (acked[i] && !stored[i])
			fail_msg("record r-%zu was ACKed but is not stored", i);
	/* cursors never go backwards */
	assert_int_equal(store_cursor_get(s, txn, tok1, &cur), 0);
	assert_true(cur >= last_cursor[0]);
	last_cursor[0] = cur;
	assert_int_equal(store_cursor_get(s, txn, tok2, &cur), 0);
	assert_true(cur >= last_cursor[1]);
	last_cursor[1] = cur;
	/* the chain verifies; every reception has its entry; none late */
	if (store_log_verify(s, txn, user.pk, &n, &err) != 0)
		fail_msg("log: %s", cerr_msg(&err));
	assert_int_equal(store_log_foreach(s, txn, user.pk, 0, SIZE_MAX,
	    log_one, &ls), 0);
	assert_false(ls.late);
	for (i = 0; i < 4 * nrec + 16; i++)
		if (received[i] && !ls.delivered[i])
			fail_msg("record seq %zu reached the app without a log "
			    "entry", i);
	if (final) {
		/* the first consent delivered, then was revoked */
		assert_true(ls.revoked_seen);
		assert_true(ls.before > 0);
		/* everything stored reached the app at least once */
		after = 0;
		while (store_user_next(s, txn, user.pk, after, &m) == 0) {
			if (!received[m.seq])
				fail_msg("stored seq %llu never reached the app",
				    (unsigned long long)m.seq);
			after = m.seq;
		}
	}
	store_txn_abort(&txn);
	store_close(&s);
	free(stored);
	free(ls.delivered);
	checks++;
}

static unsigned long scheduled;

static void
schedule_kill(void)
{
	pid_t victim = br.pid, k = fork();

	scheduled++;
	if (k == 0) {
		tu_sleep_ms(5 + (long)randombytes_uniform(200));
		kill(victim, SIGKILL);
		_exit(0);
	}
	assert_true(k > 0);
}

/* The shim and pl-undo, built beside this test. */
static void
find_tools(void)
{
	char self[PATH_MAX], *slash;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	assert_true(n > 0);
	self[n] = '\0';
	assert_non_null(slash = strrchr(self, '/'));
	*slash = '\0';
	snprintf(shim, sizeof(shim), "%s/plshim.so", self);
	snprintf(undo_tool, sizeof(undo_tool), "%s/pl-undo", self);
	assert_int_equal(access(shim, R_OK), 0);
	assert_int_equal(access(undo_tool, X_OK), 0);
}

/* The dead broker's unsynced writes are lost, as at a power cut. */
static void
power_loss(void)
{
	char cmd[3 * PATH_MAX + 64], line[256];
	unsigned long w, y;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "'%s' '%s'", undo_tool, undo_log);
	assert_non_null(p = popen(cmd, "r"));
	while (fgets(line, sizeof(line), p) != NULL)
		if (sscanf(line, "pl-undo: %lu unsynced writes (%*u bytes) "
		    "undone in %*u files; %*u records read, %lu syncs", &w,
		    &y) == 2) {
			undo_writes += w;
			undo_syncs += y;
		}
	assert_int_equal(pclose(p), 0);
}

/* If the broker died: reap it, check, restart. */
static bool
after_death(void)
{
	int status;

	if (waitpid(br.pid, &status, WNOHANG) != br.pid)
		return false;
	kills++;
	if (br.preload != NULL)
		power_loss();
	check_store(false);
	/* every other run with the turn log (committed every turn, or
	 * logged ahead and checkpointed): a start applies what the last
	 * run logged, whatever this one's option */
	br.checkpoint = kills % 2 ? "200" : "0";
	broker_restart_same(&br);
	return true;
}

/* A one-key request body: a bin, or n encoded records back to back. */
struct body {
	const char *key;
	const void *data;
	size_t len, nrecs;
};

static void
call_until_ok(struct client **c, const struct keypair *kp, const char *cmd,
    const struct body *b)
{
	msgpack_unpacked reply;
	struct cerr err = {0};
	int rc, tries;

	for (tries = 0; tries < 100; tries++) {
		msgpack_packer *pk = client_begin(*c, 1);

		mpk_pack_cstr(pk, b->key);
		if (b->nrecs > 0) {
			msgpack_pack_array(pk, b->nrecs);
			msgpack_sbuffer_write(pk->data, b->data, b->len);
		} else {
			mpk_pack_binn(pk, b->data, b->len);
		}
		rc = client_call(*c, cmd, &reply, &err);
		if (rc == 0) {
			msgpack_unpacked_destroy(&reply);
			return;
		}
		if (rc == CARNET_E_DUPLICATE)
			return; /* a GRANT that committed before the kill */
		if (rc != CARNET_E_TIMEOUT && rc != CARNET_E_TRANSPORT)
			fail_msg("%s: %s", cmd, cerr_msg(&err));
		after_death();
		client_destroy(c);
		*c = connect_retry(kp);
	}
	fail_msg("%s never went through", cmd);
}

static void
grant(struct client **c, uint8_t id_out[TOKID_BYTES])
{
	struct token t;
	struct body b = {"token", NULL, 0, 0};
	uint8_t *blob;
	size_t len;

	memset(&t, 0, sizeof(t));
	token_new_id(&t);
	memcpy(t.user, user.pk, ID_BYTES);
	memcpy(t.app, app.pk, ID_BYTES);
	t.any_holder = true;
	t.ntypes = 1;
	t.types[0].type = schema_by_name("claim", 5);
	t.types[0].fields = FIELDS_ALL;
	strcpy(t.purpose, "budget");
	assert_int_equal(token_sign(&t, user.sk, &blob, &len, NULL), 0);
	b.data = blob;
	b.len = len;
	call_until_ok(c, &user, "GRANT", &b);
	free(blob);
	memcpy(id_out, t.id, TOKID_BYTES);
}

static void
revoke(struct client **c, const uint8_t id[TOKID_BYTES])
{
	struct revocation rv = {0};
	struct body b = {"revocation", NULL, 0, 0};
	uint8_t *blob;
	size_t len;

	memcpy(rv.token, id, TOKID_BYTES);
	memcpy(rv.user, user.pk, ID_BYTES);
	rv.time = (int64_t)time(NULL);
	assert_int_equal(revocation_sign(&rv, user.sk, &blob, &len, NULL), 0);
	b.data = blob;
	b.len = len;
	call_until_ok(c, &user, "REVOKE", &b);
	free(blob);
}

static void
put_batch(struct client **c, const struct keypair *kp, size_t from, size_t n)
{
	char uid[ID_STR_LEN + 1], line[400];
	msgpack_sbuffer sb;
	struct body b = {"recs", NULL, 0, 0};
	size_t i;

	id_encode(user.pk, uid);
	msgpack_sbuffer_init(&sb);
	for (i = from; i < from + n; i++) {
		snprintf(line, sizeof(line), "{\"user\":\"%s\",\"ref\":\"r-%zu\","
		    "\"time\":%zu,\"act_code\":\"C\",\"label\":\"Consultation "
		    "generaliste\",\"amount_eur\":25,\"reimbursed_eur\":16.5,"
		    "\"practitioner\":\"generaliste\"}", uid, i, 1488448800 + i);
		assert_int_equal(recjson_encode_line(line, strlen(line),
		    schema_by_name("claim", 5), &sb, NULL), 0);
	}
	b.data = sb.data;
	b.len = sb.size;
	b.nrecs = n;
	call_until_ok(c, kp, "PUT", &b);
	for (i = from; i < from + n; i++)
		acked[i] = true;
	msgpack_sbuffer_destroy(&sb);
}

/* Take what the app has been sent for up to ms, acking it. */
static void
drain(struct app_feed *f, int ms)
{
	struct feed_event ev;
	struct cerr err = {0};

	while (app_feed_next(f, ms, &ev, &err) == 0)
		if (ev.kind == FEED_RECORD) {
			assert_true(ev.seq < 4 * nrec + 16);
			received[ev.seq] = true;
			if (app_feed_ack(f, &ev, &err) != 0)
				break;
		}
}

static void
crash_run(const char *kills_env, const char *records_env, bool powerloss)
{
	const char *k = getenv(kills_env);
	const char *r = getenv(records_env);
	unsigned long want_kills = k ? strtoul(k, NULL, 10) : 3;
	struct client *hc, *hc2, *uc, *ac;
	struct app_feed *f = NULL;
	struct cerr err = {0};
	size_t next = 0, per_kill;
	bool revoked = false;

	memset(&br, 0, sizeof(br));
	memset(last_cursor, 0, sizeof(last_cursor));
	kills = checks = records_checked = scheduled = undo_writes =
	    undo_syncs = 0;
	nrec = r ? strtoul(r, NULL, 10) : 3000;
	nrec -= nrec % BATCH;
	acked = calloc(nrec, sizeof(bool));
	received = calloc(4 * nrec + 16, sizeof(bool));
	assert_non_null(acked);
	assert_non_null(received);
	per_kill = nrec / (want_kills + 1);
	br.dir = tu_tmpdir();
	if (powerloss) {
		find_tools();
		/* outside the data directory: it survives the undo */
		snprintf(undo_log, sizeof(undo_log), "%s.undo", br.dir);
		br.preload = shim;
		br.pl_log = undo_log;
	}
	broker_start(&br);
	assert_int_equal(key_generate(&user), 0);
	assert_int_equal(key_generate(&holder), 0);
	assert_int_equal(key_generate(&holder2), 0);
	assert_int_equal(key_generate(&app), 0);
	add_party_in(br.dir, &user, ROLE_USER, "alice", NULL, NULL);
	add_party_in(br.dir, &holder, ROLE_HOLDER, "mgen", "claim", NULL);
	add_party_in(br.dir, &holder2, ROLE_HOLDER, "cpam", "claim", NULL);
	add_party_in(br.dir, &app, ROLE_APP, "budget", NULL, "budget");
	hc = connect_retry(&holder);
	hc2 = connect_retry(&holder2);
	uc = connect_retry(&user);
	ac = connect_retry(&app);
	grant(&uc, tok1);
	assert_int_equal(app_feed_open(ac, 0, &f, &err), 0);
	while (next < nrec) {
		if (scheduled < want_kills &&
		    next >= (scheduled + 1) * per_kill) {
			/* the previous kill lands before the next is asked */
			while (kills < scheduled) {
				drain(f, 50);
				after_death();
			}
			schedule_kill();
		}
		/* two holders take turns, each with its own refs */
		if ((next / BATCH) % 2 == 0)
			put_batch(&hc, &holder, next, BATCH);
		else
			put_batch(&hc2, &holder2, next, BATCH);
		next += BATCH;
		drain(f, 20);
		if (!revoked && next >= nrec / 2) {
			/* half-way: revoke, then a new consent covering it all */
			revoke(&uc, tok1);
			grant(&uc, tok2);
			revoked = true;
		}
		after_death();
	}
	while (kills < scheduled) {
		drain(f, 50);
		after_death();
	}
	drain(f, 3000);
	/* one last kill at rest, then everything must have arrived */
	kill(br.pid, SIGKILL);
	while (!after_death())
		tu_sleep_ms(10);
	drain(f, 4000);
	kill(br.pid, SIGKILL);
	waitpid(br.pid, NULL, 0);
	br.pid = 0;
	if (powerloss)
		power_loss();
	check_store(true);
	app_feed_close(&f);
	client_destroy(&ac);
	client_destroy(&uc);
	client_destroy(&hc);
	client_destroy(&hc2);
	/* the killers were reaped by nobody: they exited on their own */
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	if (powerloss)
		print_message("power loss: %lu losses survived (%lu unsynced "
		    "writes dropped, %lu syncs seen), %lu checks, %lu stored "
		    "records checked, 0 losses\n", kills, undo_writes,
		    undo_syncs, checks, records_checked);
	else
		print_message("crash: %lu kills survived, %lu checks, %lu "
		    "stored records checked, 0 losses\n", kills, checks,
		    records_checked);
	assert_true(kills >= want_kills);
	if (powerloss) {
		/* the shim did see the broker's syncs */
		assert_true(undo_syncs > 0);
		unlink(undo_log);
	}
	tu_rmtree(&br.dir);
	free(acked);
	free(received);
}

static void
test_kill_9_at_random_moments(void **state)
{
	(void)state;
	crash_run("CARNET_CRASH_KILLS", "CARNET_CRASH_RECORDS", false);
}

static void
test_power_loss_at_random_moments(void **state)
{
	(void)state;
	crash_run("CARNET_POWERLOSS_KILLS", "CARNET_POWERLOSS_RECORDS", true);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kill_9_at_random_moments),
		cmocka_unit_test(test_power_loss_at_random_moments),
	};

	alarm(3600);
	assert_true(sodium_init() >= 0);
	return cmocka_run_group_tests_name("crash", tests, NULL, NULL);
}
