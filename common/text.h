/*
 * text.h: text that others wrote (party names, an app's note, an emergency
 * reason, record fields) before it is stored, and before it reaches a
 * terminal.
 *
 * Refused: invalid UTF-8, NUL, C0 controls and DEL (escape sequences
 * start with ESC), C1 controls (U+0080..U+009F, which some terminals obey
 * too), and the invisible format characters that reorder or hide what is
 * shown (bidi overrides and isolates, zero-width ones, the BOM).
 */
#ifndef CARNET_TEXT_H
#define CARNET_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* Well-formed UTF-8 without NUL (no overlong forms, no surrogates). */
bool utf8_valid(const char *s, size_t len);
/* utf8_valid, and none of the characters above. */
bool text_printable(const char *s, size_t len);
/*
 * A copy of s safe to print on a terminal: each refused byte or character
 * becomes a visible escape (\x1b, \u202e); always NUL-terminated, cut to
 * size.  Returns out.
 */
char *text_escape(const char *s, size_t len, char *out, size_t size);
/* text_escape of a C string into one of a few rotating static buffers (at
 * most 1 KiB each): for printing several fields in one printf. */
const char *text_term(const char *s);

#endif
