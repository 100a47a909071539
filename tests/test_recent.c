/*
 * test_recent.c: the ring of records stored lately, in the clear
 * (broker/recent.c): lookups, its bound, the oldest going first, what an
 * abort and an erasure take away, and the bytes wiped when they go.
 */
#include "testutil.h"

#include "../broker/broker.h"

static const uint8_t ALICE[ID_BYTES] = {1}, BOB[ID_BYTES] = {2};

/* A record of len bytes for seq: its bytes say which seq it is. */
static void
rec_bytes(uint64_t seq, uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(0x80 | ((seq + i) & 0x7f));
}

static void
put(struct recent *r, const uint8_t *user, uint64_t seq, size_t len)
{
	uint8_t p[4096];

	assert_true(len <= sizeof(p));
	rec_bytes(seq, p, len);
	assert_int_equal(recent_put(r, user, seq, p, len), 0);
}

/* The ring holds seq as put, for user. */
static bool
holds(struct recent *r, const uint8_t *user, uint64_t seq, size_t len)
{
	uint8_t p[4096];
	MDB_val v;

	if (!recent_get(r, user, seq, &v))
		return false;
	rec_bytes(seq, p, len);
	assert_int_equal(v.mv_size, len);
	assert_memory_equal(v.mv_data, p, len);
	return true;
}

/* No byte of the ring outside its live entries is anything but zero
 * (what left was wiped); for the bytes ever written. */
static void
assert_wiped_outside_live(struct recent *r)
{
	uint8_t *live;
	size_t i, j;

	assert_non_null(live = calloc(1, r->cap));
	for (i = 0; i < r->n; i++) {
		struct recent_ent *e = &r->ix[(r->head + i) % r->ixcap];

		if (e->gone)
			continue;
		for (j = 0; j < ID_BYTES + e->len; j++)
			live[e->off + j] = 1;
	}
	for (i = 0; i < r->cap; i++)
		if (!live[i] && r->buf[i] != 0)
			fail_msg("byte %zu of the ring not wiped", i);
	free(live);
}

static void
test_found_as_put_missed_otherwise(void **state)
{
	struct recent r;

	(void)state;
	recent_init(&r, 1 << 20);
	put(&r, ALICE, 5, 300);
	put(&r, BOB, 6, 200);
	put(&r, ALICE, 9, 100);
	assert_true(holds(&r, ALICE, 5, 300));
	assert_true(holds(&r, BOB, 6, 200));
	assert_true(holds(&r, ALICE, 9, 100));
	assert_false(holds(&r, ALICE, 7, 100)); /* never put */
	assert_false(holds(&r, ALICE, 6, 200)); /* another person's */
	assert_false(holds(&r, BOB, 10, 1));
	recent_release(&r);
}

/* Bounded by bytes: the oldest go first, a lookup of them misses, and
 * what is held never passes the bound; what left was wiped. */
static void
test_bounded_the_oldest_go_first(void **state)
{
	struct recent r;
	uint64_t seq, oldest = 0;
	size_t cap = 10000, len;

	(void)state;
	recent_init(&r, cap);
	for (seq = 1; seq <= 2000; seq++) {
		len = 50 + (seq * 37) % 400;
		put(&r, seq % 3 ? ALICE : BOB, seq, len);
		assert_true(r.bytes <= cap);
		assert_true(holds(&r, seq % 3 ? ALICE : BOB, seq, len));
	}
	/* what is held is the newest run of seqs, without a hole */
	for (seq = 2000; seq >= 1; seq--) {
		len = 50 + (seq * 37) % 400;
		if (!holds(&r, seq % 3 ? ALICE : BOB, seq, len))
			break;
		oldest = seq;
	}
	assert_true(oldest > 1900 && oldest < 2000);
	for (; seq >= 1; seq--)
		assert_false(holds(&r, seq % 3 ? ALICE : BOB, seq,
		    50 + (seq * 37) % 400));
	assert_true(r.bytes > cap / 2); /* the room is used */
	assert_wiped_outside_live(&r);
	/* a record larger than the ring is not kept */
	recent_release(&r);
	recent_init(&r, 1000);
	put(&r, ALICE, 1, 100);
	put(&r, ALICE, 2, 2000);
	assert_false(holds(&r, ALICE, 2, 2000));
	assert_true(holds(&r, ALICE, 1, 100));
	recent_release(&r);
	/* 0: nothing kept */
	recent_init(&r, 0);
	put(&r, ALICE, 1, 100);
	assert_false(holds(&r, ALICE, 1, 100));
	recent_release(&r);
}

/* What was put since the last commit goes with a rollback, wiped; what
 * committed stays; a seq given again replaces what was held from it on. */
static void
test_rollback_takes_what_did_not_commit(void **state)
{
	struct recent r;

	(void)state;
	recent_init(&r, 1 << 16);
	put(&r, ALICE, 1, 100);
	put(&r, ALICE, 2, 100);
	recent_commit(&r);
	put(&r, ALICE, 3, 100);
	put(&r, BOB, 4, 100);
	recent_rollback(&r);
	assert_true(holds(&r, ALICE, 1, 100));
	assert_true(holds(&r, ALICE, 2, 100));
	assert_false(holds(&r, ALICE, 3, 100));
	assert_false(holds(&r, BOB, 4, 100));
	assert_wiped_outside_live(&r);
	/* the seqs come again, with other bytes */
	put(&r, BOB, 3, 40);
	assert_true(holds(&r, BOB, 3, 40));
	assert_false(holds(&r, ALICE, 3, 100));
	/* without a rollback (the ring's own guard): a seq given again drops
	 * what was held at it and beyond */
	put(&r, ALICE, 5, 100);
	put(&r, ALICE, 4, 60);
	assert_true(holds(&r, ALICE, 4, 60));
	assert_false(holds(&r, ALICE, 5, 100));
	assert_wiped_outside_live(&r);
	recent_release(&r);
}

/* Round the ring, then roll back across the place it went round. */
static void
test_rollback_across_the_wrap(void **state)
{
	struct recent r;
	uint64_t seq;

	(void)state;
	recent_init(&r, 4096);
	for (seq = 1; seq <= 20; seq++)
		put(&r, ALICE, seq, 300);
	recent_commit(&r);
	for (; seq <= 30; seq++)
		put(&r, ALICE, seq, 300);
	recent_rollback(&r);
	for (seq = 21; seq <= 30; seq++)
		assert_false(holds(&r, ALICE, seq, 300));
	for (seq = 20; seq >= 1 && holds(&r, ALICE, seq, 300); seq--)
		;
	assert_true(seq < 20); /* the committed ones not taken by the round */
	assert_wiped_outside_live(&r);
	for (seq = 21; seq <= 60; seq++) {
		put(&r, ALICE, seq, 1 + seq * 7 % 500);
		assert_true(r.bytes <= 4096);
	}
	assert_true(holds(&r, ALICE, 60, 1 + 60 * 7 % 500));
	assert_wiped_outside_live(&r);
	recent_release(&r);
}

/* An erasure wipes the person's entries only, committed or not. */
static void
test_forget_user_wipes_their_records(void **state)
{
	struct recent r;
	uint64_t seq;

	(void)state;
	recent_init(&r, 1 << 16);
	for (seq = 1; seq <= 40; seq++)
		put(&r, seq % 2 ? ALICE : BOB, seq, 120);
	recent_commit(&r);
	put(&r, ALICE, 41, 120);
	recent_forget_user(&r, ALICE);
	for (seq = 1; seq <= 41; seq++)
		assert_true(holds(&r, seq % 2 ? ALICE : BOB, seq, 120) ==
		    (seq % 2 == 0));
	assert_wiped_outside_live(&r);
	/* not a byte of alice's id or records left in the ring */
	assert_false(tu_holds(r.buf, r.cap, "\x01"));
	/* her later records are kept again */
	put(&r, ALICE, 42, 120);
	assert_true(holds(&r, ALICE, 42, 120));
	recent_rollback(&r);
	assert_false(holds(&r, ALICE, 42, 120));
	assert_true(holds(&r, BOB, 40, 120));
	recent_release(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_found_as_put_missed_otherwise),
		cmocka_unit_test(test_bounded_the_oldest_go_first),
		cmocka_unit_test(test_rollback_takes_what_did_not_commit),
		cmocka_unit_test(test_rollback_across_the_wrap),
		cmocka_unit_test(test_forget_user_wipes_their_records),
	};

	return cmocka_run_group_tests_name("recent", tests, NULL, NULL);
}
