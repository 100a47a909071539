/*
 * test_wal.c: the turn log (store/wal.c) on a real file: what was synced
 * is read back whole and in order, a crash's torn tail and entries of an
 * older generation are not, and a damaged log is an error.
 */
#include "testutil.h"

#include <sys/stat.h>

#include <sodium.h>

#include "../store/wal.h"

struct fx {
	char *dir;
	char path[600];
};

/* the write set of turn t: len bytes that depend on t */
static size_t
set_of(uint64_t t, uint8_t *buf)
{
	size_t len = (size_t)(t * 37 % 900) + 1, i;

	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)(t * 31 + i);
	return len;
}

struct seen {
	uint64_t turns[64];
	unsigned n;
	bool wrong;             /* a set that is not set_of(its turn) */
};

static int
collect(void *arg, uint64_t turn, const uint8_t *ws, size_t len)
{
	struct seen *s = arg;
	uint8_t want[1024];

	if (s->n == 64)
		return -1;
	if (set_of(turn, want) != len || memcmp(want, ws, len) != 0)
		s->wrong = true;
	s->turns[s->n++] = turn;
	return 0;
}

static void
write_turns(struct wal *w, uint64_t from, uint64_t to)
{
	uint8_t buf[1024];
	struct cerr err = {0};
	uint64_t t;

	for (t = from; t <= to; t++)
		assert_int_equal(wal_write(w, t, buf, set_of(t, buf), &err), 0);
	assert_int_equal(wal_sync(w, &err), 0);
}

/* what replay gives for gen: the turns, and none wrong */
static struct seen
replay(struct fx *fx, uint64_t gen, int want_rc)
{
	struct seen s = {0};
	struct cerr err = {0};
	uint64_t count;

	assert_int_equal(wal_replay(fx->path, gen, collect, &s, &count, &err),
	    want_rc);
	assert_int_equal(count, want_rc == 0 ? s.n : count);
	assert_false(s.wrong);
	return s;
}

static int
setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	fx->dir = tu_tmpdir();
	snprintf(fx->path, sizeof(fx->path), "%s/turns.wal", fx->dir);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;

	tu_rmtree(&fx->dir);
	free(fx);
	return 0;
}

static void
test_synced_turns_come_back_in_order(void **state)
{
	struct fx *fx = *state;
	struct cerr err = {0};
	struct wal *w;
	struct seen s;
	unsigned i;

	/* nothing yet: no file, no entries */
	s = replay(fx, 1, 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(wal_open(fx->path, 1, 1 << 20, &w, &err), 0);
	write_turns(w, 40, 59);
	{
		uint8_t buf[1024];
		uint64_t t, size = 0;

		for (t = 40; t <= 59; t++)
			size += WAL_ENTRY_OVERHEAD + set_of(t, buf);
		assert_int_equal(wal_size(w), size);
	}
	wal_close(&w);
	s = replay(fx, 1, 0);
	assert_int_equal(s.n, 20);
	for (i = 0; i < s.n; i++)
		assert_int_equal(s.turns[i], 40 + i);
	/* a turn out of order is refused at the write */
	assert_int_equal(wal_open(fx->path, 2, 0, &w, &err), 0);
	write_turns(w, 7, 7);
	assert_int_equal(wal_write(w, 9, (const uint8_t *)"x", 1, &err),
	    CARNET_E_STORE);
	wal_close(&w);
}

static void
test_a_torn_tail_ends_the_replay(void **state)
{
	struct fx *fx = *state;
	struct cerr err = {0};
	struct wal *w;
	struct seen s;
	struct stat st;
	uint64_t end;
	int fd;

	assert_int_equal(wal_open(fx->path, 3, 0, &w, &err), 0);
	write_turns(w, 1, 10);
	end = wal_size(w);
	wal_close(&w);
	assert_int_equal(replay(fx, 3, 0).n, 10);
	/* the last entry cut short, as a crash before its sync leaves it */
	assert_int_equal(truncate(fx->path, (off_t)end - 5), 0);
	s = replay(fx, 3, 0);
	assert_int_equal(s.n, 9);
	assert_int_equal(s.turns[8], 9);
	/* a byte of the 9th entry's set changed: the 9th is where it ends */
	assert_int_equal(stat(fx->path, &st), 0);
	fd = open(fx->path, O_RDWR);
	assert_true(fd >= 0);
	{
		uint8_t buf[1024], b;
		uint64_t off = 0, t;

		for (t = 1; t < 9; t++)
			off += WAL_ENTRY_OVERHEAD + set_of(t, buf);
		assert_int_equal(pread(fd, &b, 1, (off_t)off + 20), 1);
		b ^= 0x40;
		assert_int_equal(pwrite(fd, &b, 1, (off_t)off + 20), 1);
	}
	close(fd);
	s = replay(fx, 3, 0);
	assert_int_equal(s.n, 8);
}

static void
test_a_new_generation_hides_the_old_entries(void **state)
{
	struct fx *fx = *state;
	struct cerr err = {0};
	struct wal *w;
	struct seen s;

	assert_int_equal(wal_open(fx->path, 5, 1 << 16, &w, &err), 0);
	write_turns(w, 100, 129);
	assert_int_equal(replay(fx, 5, 0).n, 30);
	/* a checkpoint: generation 6 written over the start of 5's */
	wal_restart(w, 6);
	assert_int_equal(wal_size(w), 0);
	write_turns(w, 130, 132);
	wal_close(&w);
	s = replay(fx, 6, 0);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.turns[0], 130);
	assert_int_equal(s.turns[2], 132);
	/* generation 5, asked for, starts with a 6: nothing of it is read */
	assert_int_equal(replay(fx, 5, 0).n, 0);
}

/* the bytes of the log at path: *n of them */
static uint8_t *
slurp(const char *path, size_t *n)
{
	struct stat st;
	uint8_t *p;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	p = malloc((size_t)st.st_size + 1);
	assert_non_null(p);
	assert_int_equal(read(fd, p, (size_t)st.st_size), st.st_size);
	close(fd);
	*n = (size_t)st.st_size;
	return p;
}

/* within a generation, a gap between turns is damage, not a tail */
static void
test_a_gap_in_the_turns_is_an_error(void **state)
{
	struct fx *fx = *state;
	struct cerr err = {0};
	struct seen s = {0};
	uint8_t buf[1024], *a, *b;
	char other[700];
	struct wal *w;
	size_t na, nb, first;
	uint64_t count;
	int fd;

	snprintf(other, sizeof(other), "%s/other.wal", fx->dir);
	assert_int_equal(wal_open(fx->path, 8, 0, &w, &err), 0);
	write_turns(w, 10, 12);
	wal_close(&w);
	assert_int_equal(wal_open(other, 8, 0, &w, &err), 0);
	write_turns(w, 20, 20);
	wal_close(&w);
	/* turn 10, then turn 20: each entry whole, the log damaged */
	a = slurp(fx->path, &na);
	b = slurp(other, &nb);
	first = WAL_ENTRY_OVERHEAD + set_of(10, buf);
	fd = open(fx->path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, a, first), (ssize_t)first);
	assert_int_equal(write(fd, b, nb), (ssize_t)nb);
	close(fd);
	assert_int_equal(wal_replay(fx->path, 8, collect, &s, &count, &err),
	    CARNET_E_STORE);
	assert_non_null(strstr(err.msg, "turn 20 after 10"));
	assert_int_equal(count, 1);
	free(a);
	free(b);
}

/* the callback's stop is returned; a FIFO in the log's place refused */
static void
test_the_callback_stops_and_odd_files_are_refused(void **state)
{
	struct fx *fx = *state;
	struct cerr err = {0};
	struct seen s = {.n = 64};
	struct wal *w;
	uint64_t count;
	char fifo[700];

	assert_int_equal(wal_open(fx->path, 1, 0, &w, &err), 0);
	write_turns(w, 1, 2);
	wal_close(&w);
	assert_int_equal(wal_replay(fx->path, 1, collect, &s, &count, &err),
	    -1);
	assert_int_equal(count, 0);
	snprintf(fifo, sizeof(fifo), "%s/fifo.wal", fx->dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(wal_open(fifo, 1, 0, &w, &err), CARNET_E_IO);
	assert_non_null(strstr(err.msg, "not a regular file"));
	assert_int_equal(wal_replay(fifo, 1, collect, &s, &count, &err),
	    CARNET_E_IO);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_synced_turns_come_back_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_torn_tail_ends_the_replay, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_new_generation_hides_the_old_entries, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_gap_in_the_turns_is_an_error, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_the_callback_stops_and_odd_files_are_refused, setup,
		    teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
