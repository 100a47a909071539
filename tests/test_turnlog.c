/*
 * test_turnlog.c: turn mode (store/turns.c) with the turn log
 * (store/wal.c) on real files: a process that dies between checkpoints,
 * its turns synced to the log, leaves a store that, replayed at the next
 * start, holds what a replica fed every turn's write set holds; a turn
 * undone leaves nothing in either.
 */
#include "testutil.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <lmdb.h>
#include <sodium.h>

#include "../policy/key.h"
#include "../schemas/recjson.h"
#include "../store/store.h"
#include "../store/wal.h"
#include "storecmp.h"

static struct keypair broker, user, holder;

/* turn's claims for user, 3 a turn, refs t<turn>-<i> */
static void
put_turn(struct store *s, MDB_txn *txn, int turn, uint64_t seqs[3])
{
	char uid[ID_STR_LEN + 1], line[512];
	msgpack_sbuffer sb;
	msgpack_unpacked tree;
	struct record r;
	struct cerr err = {0};
	uint64_t corr;
	bool dup;
	int i;

	id_encode(user.pk, uid);
	msgpack_sbuffer_init(&sb);
	for (i = 0; i < 3; i++) {
		snprintf(line, sizeof(line), "{\"user\":\"%s\",\"ref\":"
		    "\"t%d-%d\",\"time\":%d,\"act_code\":\"C\",\"label\":"
		    "\"Consultation %d\",\"amount_eur\":25,"
		    "\"reimbursed_eur\":16.5,\"practitioner\":\"gp\"}", uid,
		    turn, i, 1488448800 + turn, turn);
		msgpack_sbuffer_clear(&sb);
		assert_int_equal(recjson_encode_line(line, strlen(line),
		    schema_by_name("claim", 5), &sb, &err), 0);
		assert_int_equal(record_decode(sb.data, sb.size, &tree, &r,
		    &err), 0);
		r.has_holder = true;
		memcpy(r.holder, holder.pk, ID_BYTES);
		assert_int_equal(store_record_put(s, txn, &r, &seqs[i], &dup,
		    &corr, NULL, &err), 0);
		assert_false(dup);
		msgpack_unpacked_destroy(&tree);
	}
	msgpack_sbuffer_destroy(&sb);
}

/* The store in dir, keyed or not; *replayed (if not NULL): the turns the
 * key's setting applied again. */
static struct store *
open_store(const char *dir, bool keyed, uint64_t *replayed)
{
	struct store_upgrade up = {0};
	struct cerr err = {0};
	struct store *s;

	if (store_open(dir, 64UL << 20, &s, &err) != 0 ||
	    (keyed && store_set_key(s, broker.sk, &up, &err) != 0))
		fail_msg("store %s: %s", dir, cerr_msg(&err));
	if (replayed != NULL)
		*replayed = up.turns_replayed;
	return s;
}

/* The records in user's stream (their index: no key needed). */
static int
count_records(struct store *s)
{
	struct cerr err = {0};
	struct recmeta m;
	MDB_txn *txn;
	uint64_t after = 0;
	int n = 0;

	assert_int_equal(store_txn_begin(s, NULL, false, &txn, &err), 0);
	while (store_user_next(s, txn, user.pk, after, &m) == 0) {
		after = m.seq;
		n++;
	}
	store_txn_abort(&txn);
	return n;
}

static void
apply(struct store *r, const uint8_t *ws, size_t len)
{
	struct cerr err = {0};
	MDB_txn *txn;

	assert_int_equal(store_txn_begin(r, NULL, true, &txn, &err), 0);
	if (store_wset_apply(r, txn, ws, len, &err) != 0)
		fail_msg("replica: %s", cerr_msg(&err));
	assert_int_equal(store_txn_commit(&txn, &err), 0);
}

/*
 * The broker's life up to its death, in a child: turns 1-3, a checkpoint,
 * turns 4-5 only in the log, turn 6 undone; then it dies with its
 * checkpoint transaction open.  The replica gets every kept turn's set.
 */
/* A copy of the file at from, at to. */
static void
copy_file(const char *from, const char *to)
{
	char buf[65536];
	ssize_t n;
	int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT |
	    O_TRUNC, 0600);

	assert_true(in >= 0 && out >= 0);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		assert_int_equal(write(out, buf, (size_t)n), n);
	assert_int_equal(n, 0);
	close(in);
	close(out);
}

static void
live_and_die(const char *dir, const char *rdir, const char *log)
{
	struct store *s = open_store(dir, true, NULL), *r;
	char from[600], to[600];
	struct cerr err = {0};
	const uint8_t *ws;
	uint64_t seqs[3], count;
	struct wal *w;
	MDB_txn *txn;
	size_t len;
	int turn;

	/* the replica starts where the store does, once keyed */
	store_close(&s);
	snprintf(from, sizeof(from), "%s/store/data.mdb", dir);
	snprintf(to, sizeof(to), "%s/store", rdir);
	assert_int_equal(mkdir(to, 0700), 0);
	snprintf(to, sizeof(to), "%s/store/data.mdb", rdir);
	copy_file(from, to);
	s = open_store(dir, true, NULL);
	r = open_store(rdir, false, NULL);
	assert_int_equal(store_turns_replay(s, log, &count, &err), 0);
	assert_int_equal(count, 0);
	assert_int_equal(store_turns_start(s, &err), 0);
	assert_int_equal(wal_open(log, store_turns_gen(s), 1 << 20, &w, &err),
	    0);
	for (turn = 1; turn <= 6; turn++) {
		assert_int_equal(store_turn_begin(s, &txn, &err), 0);
		put_turn(s, txn, turn, seqs);
		assert_int_equal(store_turn_end(s, &txn, turn != 6, &ws, &len,
		    &err), 0);
		if (turn == 6) {
			assert_int_equal(len, 0);
			continue;
		}
		assert_true(len > 0);
		assert_int_equal(wal_write(w, (uint64_t)turn, ws, len, &err),
		    0);
		assert_int_equal(wal_sync(w, &err), 0);
		apply(r, ws, len);
		if (turn == 3) {
			assert_int_equal(store_checkpoint(s, &err), 0);
			wal_restart(w, store_turns_gen(s));
		}
	}
	store_close(&r);
	_exit(0); /* no checkpoint, no close: as kill -9 leaves it */
}

static void
test_turns_after_the_checkpoint_come_back_from_the_log(void **state)
{
	char *dir = tu_tmpdir(), *rdir = tu_tmpdir(), log[600];
	struct cerr err = {0};
	struct store *s;
	MDB_txn *txn;
	MDB_val v;
	uint64_t count, seq;
	int status, found = 0;
	pid_t pid;

	(void)state;
	snprintf(log, sizeof(log), "%s/store/turns.wal", dir);
	if ((pid = fork()) == 0)
		live_and_die(dir, rdir, log);
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* the checkpoint's turns are in the store, the two after it not */
	assert_int_equal(store_open(dir, 64UL << 20, &s, &err), 0);
	assert_int_equal(count_records(s), 9);
	store_close(&s);
	/* opened with the broker key, as carnetd and every reader of
	 * records open it: the two turns applied again, each record opens */
	s = open_store(dir, true, &count);
	assert_int_equal(count, 2);
	assert_int_equal(count_records(s), 15);
	assert_int_equal(store_txn_begin(s, NULL, false, &txn, &err), 0);
	for (seq = 1; seq <= 20; seq++)
		found += store_record_get(s, txn, user.pk, seq, &v, &err) == 0;
	store_txn_abort(&txn);
	assert_int_equal(found, 15);
	/* a second start replays nothing: a new generation began */
	assert_int_equal(store_turns_replay(s, log, &count, &err), 0);
	assert_int_equal(count, 0);
	store_close(&s);
	/* and the store is the replica, but for the log's generation */
	stores_equal_but(dir, rdir, "wal_gen");
	tu_rmtree(&dir);
	tu_rmtree(&rdir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    test_turns_after_the_checkpoint_come_back_from_the_log),
	};

	if (sodium_init() < 0 || key_generate(&broker) != 0 ||
	    key_generate(&user) != 0 || key_generate(&holder) != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
