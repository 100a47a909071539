/*
 * text.c: UTF-8 checks, and what of others' text may reach a terminal.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "text.h"

/* The code point at s[i..] and its length in bytes, or 0 if malformed. */
static size_t
utf8_next(const unsigned char *s, size_t len, size_t i, uint32_t *cp)
{
	unsigned char c = s[i];
	size_t n, k;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf)
		n = 1, *cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 2, *cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 3, *cp = c & 0x07;
	else
		return 0;
	if (len - i <= n)
		return 0;
	for (k = 1; k <= n; k++) {
		if ((s[i + k] & 0xc0) != 0x80)
			return 0;
		*cp = (*cp << 6) | (s[i + k] & 0x3f);
	}
	/* Overlong forms, surrogates, beyond U+10FFFF. */
	if ((n == 2 && *cp < 0x800) || (n == 3 && *cp < 0x10000) ||
	    (*cp >= 0xd800 && *cp <= 0xdfff) || *cp > 0x10ffff)
		return 0;
	return n + 1;
}

static bool
cp_refused(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) ||
	    cp == 0x061c ||                    /* Arabic letter mark */
	    (cp >= 0x200b && cp <= 0x200f) ||  /* zero width, LRM, RLM */
	    (cp >= 0x2028 && cp <= 0x202e) ||  /* separators, bidi embeds */
	    (cp >= 0x2060 && cp <= 0x2069) ||  /* joiners, bidi isolates */
	    cp == 0xfeff;                      /* BOM, zero width no-break */
}

/* Well-formed, no NUL; and, when printable, none of cp_refused. */
static bool
utf8_check(const char *str, size_t len, bool printable)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, n;
	uint32_t cp;

	while (i < len) {
		/* printable ASCII, nearly every byte of a record: one test */
		if (s[i] >= 0x20 && s[i] < 0x7f) {
			i++;
			continue;
		}
		if ((n = utf8_next(s, len, i, &cp)) == 0 || cp == 0 ||
		    (printable && cp_refused(cp)))
			return false;
		i += n;
	}
	return true;
}

bool
utf8_valid(const char *s, size_t len)
{
	return utf8_check(s, len, false);
}

bool
text_printable(const char *s, size_t len)
{
	return utf8_check(s, len, true);
}

char *
text_escape(const char *str, size_t len, char *out, size_t size)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, o = 0, n;
	uint32_t cp;
	char esc[16];

	if (size == 0)
		return out;
	while (i < len) {
		const char *piece;
		size_t plen;

		n = utf8_next(s, len, i, &cp);
		if (n == 0) {
			snprintf(esc, sizeof(esc), "\\x%02x", s[i]);
			piece = esc, plen = strlen(esc), n = 1;
		} else if (cp_refused(cp)) {
			if (cp < 0x100)
				snprintf(esc, sizeof(esc), "\\x%02x",
				    (unsigned)cp);
			else
				snprintf(esc, sizeof(esc), "\\u%04x",
				    (unsigned)cp);
			piece = esc, plen = strlen(esc);
		} else {
			piece = str + i, plen = n;
		}
		if (o + plen >= size)
			break;
		memcpy(out + o, piece, plen);
		o += plen;
		i += n;
	}
	out[o] = '\0';
	return out;
}

const char *
text_term(const char *s)
{
	static char bufs[8][1024];
	static unsigned next;
	char *b = bufs[next++ % 8];

	if (s == NULL)
		return "";
	return text_escape(s, strlen(s), b, sizeof(bufs[0]));
}
