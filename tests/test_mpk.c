/*
 * test_mpk.c: the msgpack validator refuses what could make msgpack-c
 * allocate from a header or read past the end.
 */
#include "testutil.h"

#include "../common/error.h"
#include "../common/mpk.h"

static void
check_bytes(const char *bytes, size_t n, unsigned depth, int want)
{
	assert_int_equal(mpk_check(bytes, n, depth), want);
}

/* A string literal's bytes, without its NUL. */
#define CHECK(lit, depth, want) check_bytes(lit, sizeof(lit) - 1, depth, want)

static void
test_valid_scalars_and_containers(void **state)
{
	(void)state;
	CHECK("\x01", 0, 0);
	CHECK("\xc0", 0, 0);
	CHECK("\x81\xa1k\x92\x01\x02", 2, 0);
	CHECK("\xcb\x40\x39\0\0\0\0\0\0", 0, 0);
	CHECK("\x80", 0, 0); /* empty map has no depth cost */
}

static void
test_truncated(void **state)
{
	(void)state;
	CHECK("", 4, CARNET_E_TRUNCATED);
	CHECK("\xa5" "abc", 4, CARNET_E_TRUNCATED);
	CHECK("\xcb\x40\x39", 4, CARNET_E_TRUNCATED);
	CHECK("\x92\x01", 4, CARNET_E_TRUNCATED);
	CHECK("\xda\x00", 4, CARNET_E_TRUNCATED);
}

static void
test_huge_count_refused_before_allocation(void **state)
{
	(void)state;
	/* array32 and map32 claiming 4 billion items in a handful of bytes */
	CHECK("\xdd\xff\xff\xff\xff\x01", 4, CARNET_E_TRUNCATED);
	CHECK("\xdf\x7f\xff\xff\xff\x01\x01", 4, CARNET_E_TRUNCATED);
	CHECK("\xc6\xff\xff\xff\xff", 4, CARNET_E_TRUNCATED);
}

static void
test_depth_bound(void **state)
{
	char deep[64];
	int i;

	(void)state;
	for (i = 0; i < 40; i++)
		deep[i] = '\x91';
	deep[40] = '\x01';
	check_bytes(deep, 41, 6, CARNET_E_TOO_DEEP);
	check_bytes(deep + 34, 7, 6, 0);
	check_bytes(deep + 33, 8, 6, CARNET_E_TOO_DEEP);
	/* even a caller asking for more than the walker's stack is bounded */
	check_bytes(deep, 41, 1000, CARNET_E_TOO_DEEP);
}

static void
test_trailing_and_reserved(void **state)
{
	(void)state;
	CHECK("\x01\x02", 4, CARNET_E_TRAILING);
	CHECK("\xc1", 4, CARNET_E_MALFORMED);
	CHECK("\xd4\x01\x02", 4, CARNET_E_MALFORMED); /* fixext */
	CHECK("\xc7\x01\x05\x00", 4, CARNET_E_MALFORMED); /* ext8 */
}

static void
test_every_byte_prefix_is_safe(void **state)
{
	static const char good[] = "\x83\xa1" "a\x01\xa1" "b\x92\xa2" "xy\xcb"
	    "\x40\x39\0\0\0\0\0\0\xa1" "c\xc4\x03" "abc";
	size_t n = sizeof(good) - 1, i;
	msgpack_unpacked u;

	(void)state;
	assert_int_equal(mpk_unpack(good, n, 4, &u), 0);
	msgpack_unpacked_destroy(&u);
	for (i = 0; i < n; i++)
		assert_int_equal(mpk_unpack(good, i, 4, &u),
		    CARNET_E_TRUNCATED);
}

static void
test_getters_reject_wrong_kinds(void **state)
{
	msgpack_unpacked u;
	const msgpack_object *o;
	const char *p;
	size_t len;
	uint64_t v;
	char small[3];

	(void)state;
	static const char m[] = "\x82\xa1" "a\xa3" "xyz\xa1" "b\x05";

	assert_int_equal(mpk_unpack(m, sizeof(m) - 1, 2, &u), 0);
	o = &u.data;
	assert_int_equal(mpk_str(mpk_get(o, "a"), &p, &len), 0);
	assert_int_equal(len, 3);
	assert_int_equal(mpk_u64(mpk_get(o, "a"), &v), CARNET_E_FIELD_TYPE);
	assert_int_equal(mpk_u64(mpk_get(o, "b"), &v), 0);
	assert_int_equal(v, 5);
	assert_int_equal(mpk_u64(mpk_get(o, "zz"), &v), CARNET_E_MISSING_FIELD);
	assert_int_equal(mpk_cstr(mpk_get(o, "a"), small, sizeof(small)),
	    CARNET_E_TOO_LONG);
	msgpack_unpacked_destroy(&u);
}

/* The bug this caught: a tree read from a message that was then freed. */
static void
test_unpack_copy_outlives_its_buffer(void **state)
{
	static const char m[] = "\x81\xa4" "name\xa5" "alice";
	msgpack_unpacked u;
	char *buf = malloc(sizeof(m));
	char name[8];

	(void)state;
	assert_non_null(buf);
	memcpy(buf, m, sizeof(m));
	assert_int_equal(mpk_unpack_copy(buf, sizeof(m) - 1, 2, &u), 0);
	memset(buf, 'x', sizeof(m));
	free(buf);
	assert_int_equal(mpk_cstr(mpk_get(&u.data, "name"), name,
	    sizeof(name)), 0);
	assert_string_equal(name, "alice");
	msgpack_unpacked_destroy(&u);
	assert_int_equal(mpk_unpack_copy("\xdd\xff\xff\xff\xff", 5, 4, &u),
	    CARNET_E_TRUNCATED);
}

/*
 * The one-write packers give msgpack-c's own bytes, at every length around
 * their limits (fixstr < 32, str 8 past it; bin 8 up to 64 in one write).
 */
static void
test_packers_match_msgpack(void **state)
{
	char src[300];
	size_t len;

	(void)state;
	for (len = 0; len < sizeof(src); len++)
		src[len] = (char)('a' + len % 26);
	for (len = 0; len <= sizeof(src); len++) {
		msgpack_sbuffer a, b;
		msgpack_packer pa, pb;
		int kind;

		for (kind = 0; kind < 2; kind++) {
			msgpack_sbuffer_init(&a);
			msgpack_sbuffer_init(&b);
			msgpack_packer_init(&pa, &a, msgpack_sbuffer_write);
			msgpack_packer_init(&pb, &b, msgpack_sbuffer_write);
			if (kind == 0) {
				mpk_pack_strn(&pa, src, len);
				msgpack_pack_str(&pb, len);
				msgpack_pack_str_body(&pb, src, len);
			} else {
				mpk_pack_binn(&pa, src, len);
				msgpack_pack_bin(&pb, len);
				msgpack_pack_bin_body(&pb, src, len);
			}
			assert_int_equal(a.size, b.size);
			assert_memory_equal(a.data, b.data, a.size);
			msgpack_sbuffer_destroy(&a);
			msgpack_sbuffer_destroy(&b);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_scalars_and_containers),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_huge_count_refused_before_allocation),
		cmocka_unit_test(test_depth_bound),
		cmocka_unit_test(test_trailing_and_reserved),
		cmocka_unit_test(test_every_byte_prefix_is_safe),
		cmocka_unit_test(test_getters_reject_wrong_kinds),
		cmocka_unit_test(test_unpack_copy_outlives_its_buffer),
		cmocka_unit_test(test_packers_match_msgpack),
	};

	return cmocka_run_group_tests_name("mpk", tests, NULL, NULL);
}
