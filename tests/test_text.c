/*
 * test_text.c: what of others' text may be stored and printed.
 */
#include "testutil.h"

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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_text_passes),
		cmocka_unit_test(test_controls_and_hidden_characters_are_refused),
		cmocka_unit_test(test_escape_makes_them_visible),
	};

	return cmocka_run_group_tests_name("text", tests, NULL, NULL);
}
