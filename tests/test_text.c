/*
 * test_text.c: what of others' text may be stored and printed.
 */
#include "testutil.h"

#include <sodium.h>

#include "../common/text.h"

static void
test_plain_text_passes(void **state)
{
	static const char *ok[] = {"budget", "Mon Livret Santé", "€ 25,00",
	    "日本語", "a\"b'c", ""};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		assert_true(text_printable(ok[i], strlen(ok[i])));
}

static void
test_controls_and_hidden_characters_are_refused(void **state)
{
	static const char *bad[] = {
		"steps only\x1b[2K\rclaim",     /* ESC: erase the line */
		"a\nb", "tab\there", "del\x7f",
		"c1 \xc2\x9b" "2J",             /* U+009B, a C1 CSI */
		"\xe2\x80\xae" "reversed",      /* U+202E right-to-left override */
		"zero\xe2\x80\x8bwidth",        /* U+200B */
		"iso\xe2\x81\xa6late",          /* U+2066 */
		"bom\xef\xbb\xbf",              /* U+FEFF */
		"\xc0\xaf",                     /* overlong */
		"\xed\xa0\x80",                 /* a surrogate */
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(text_printable(bad[i], strlen(bad[i])));
	assert_false(text_printable("a\0b", 3));
}

static void
test_escape_makes_them_visible(void **state)
{
	char out[64];

	(void)state;
	assert_string_equal(text_escape("x\x1b[2Ky", 6, out, sizeof(out)),
	    "x\\x1b[2Ky");
	assert_string_equal(text_escape("\xe2\x80\xae" "ab", 5, out,
	    sizeof(out)), "\\u202eab");
	assert_string_equal(text_escape("\xff", 1, out, sizeof(out)), "\\xff");
	assert_string_equal(text_escape("Santé", 6, out, sizeof(out)), "Santé");
	/* cut to size, never in the middle of an escape */
	assert_string_equal(text_escape("\x1b\x1b", 2, out, 6), "\\x1b");
	assert_string_equal(text_term("ok\x07"), "ok\\x07");
}

/*
 * The checks give the same answer for a text whatever printable ASCII
 * surrounds it (the ASCII fast path skips such bytes with one test): over
 * random texts drawn from the bytes that matter (controls, DEL, UTF-8 lead
 * and continuation bytes, the encodings of bidi marks and of U+0085).
 */
static void
test_ascii_around_a_text_changes_nothing(void **state)
{
	static const char *const parts[] = {
		"a", " ", "~", "\x7f", "\x01", "\x1b", "\t", "\xc2", "\x85",
		"\x80", "\xbf", "\xe2", "\x80\xae", "\xe2\x80\x8b", "\xef",
		"\xbb\xbf", "\xf0", "\x9f", "\xc3\xa9", "\xf4\x90", "\xed\xa0",
		"\xd8\x9c", "\xff", "\x00", "\xe2\x81\xa6",
	};
	const size_t np = sizeof(parts) / sizeof(parts[0]);
	char core[64], wrapped[128];
	size_t len, wlen, j, k;
	unsigned i, agree = 0;

	(void)state;
	for (i = 0; i < 20000; i++) {
		len = 0;
		for (j = randombytes_uniform(6); j > 0; j--) {
			const char *p = parts[randombytes_uniform((uint32_t)np)];
			size_t pl = p[0] == '\0' ? 1 : strlen(p);

			memcpy(core + len, p, pl);
			len += pl;
		}
		wlen = 0;
		for (k = randombytes_uniform(9); k > 0; k--)
			wrapped[wlen++] = (char)(0x20 + randombytes_uniform(0x5f));
		memcpy(wrapped + wlen, core, len);
		wlen += len;
		for (k = randombytes_uniform(9); k > 0; k--)
			wrapped[wlen++] = (char)(0x20 + randombytes_uniform(0x5f));
		assert_int_equal(utf8_valid(wrapped, wlen), utf8_valid(core, len));
		assert_int_equal(text_printable(wrapped, wlen),
		    text_printable(core, len));
		agree += !text_printable(core, len);
	}
	/* the draw does reach refused texts, not only plain ones */
	assert_true(agree > 1000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_text_passes),
		cmocka_unit_test(test_controls_and_hidden_characters_are_refused),
		cmocka_unit_test(test_escape_makes_them_visible),
		cmocka_unit_test(test_ascii_around_a_text_changes_nothing),
	};

	assert_true(sodium_init() >= 0);
	return cmocka_run_group_tests_name("text", tests, NULL, NULL);
}
