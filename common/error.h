/*
 * error.h: the one project-wide error enum.
 *
 * Every function that can fail returns 0 or a negative CARNET_E_* code.  The
 * same code travels in ERR replies by its stable name (carnet_errname), so a
 * user, a log line and a test all see one word.  The table is written once,
 * below, and everything else is derived from it.
 */
#ifndef CARNET_ERROR_H
#define CARNET_ERROR_H

#include <stddef.h>

/* X(NAME, stable wire name, human message) */
#define CARNET_ERRORS(X)                                                      \
	X(NOMEM, "nomem", "out of memory")                                    \
	X(TRUNCATED, "truncated", "input ends too early")                     \
	X(TOO_BIG, "too_big", "input is over a size limit")                   \
	X(TOO_DEEP, "too_deep", "nesting is deeper than allowed")             \
	X(MALFORMED, "malformed", "input is not well-formed")                 \
	X(TRAILING, "trailing", "unexpected bytes after the message")         \
	X(UNKNOWN_TYPE, "unknown_type", "unknown record type")                \
	X(UNKNOWN_FIELD, "unknown_field", "unknown field")                    \
	X(MISSING_FIELD, "missing_field", "a required field is missing")      \
	X(FIELD_TYPE, "field_type", "a field has the wrong type")             \
	X(TOO_LONG, "too_long", "a string is over its bound")                 \
	X(BAD_VALUE, "bad_value", "a field has an invalid value")             \
	X(BAD_SIGNATURE, "bad_signature", "signature does not verify")        \
	X(EXPIRED, "expired", "the consent token has expired")                \
	X(NOT_YET_VALID, "not_yet_valid", "the consent token is not yet valid") \
	X(WRONG_USER, "wrong_user", "the token belongs to another user")      \
	X(WRONG_APP, "wrong_app", "the token is for another app")             \
	X(NOT_COVERED, "not_covered", "the token does not cover this record") \
	X(TOO_OLD, "too_old", "the record is older than the token allows")    \
	X(PURPOSE, "purpose", "the app has not declared this purpose")        \
	X(UNKNOWN_TOKEN, "unknown_token", "no such consent token")            \
	X(REVOKED, "revoked", "the consent token is revoked")                 \
	X(KEY_PERMS, "key_perms", "key file is open to others or not ours")   \
	X(IO, "io", "input/output error")                                     \
	X(STORE, "store", "storage error")                                    \
	X(STORE_FULL, "store_full", "storage is full")                        \
	X(NOT_FOUND, "not_found", "not found")                                \
	X(EXISTS, "exists", "already exists")                                 \
	X(UNKNOWN_COMMAND, "unknown_command", "unknown command")              \
	X(FORBIDDEN, "forbidden", "not allowed for this party's role")        \
	X(UNKNOWN_PARTY, "unknown_party", "party is not registered")          \
	X(AUTH, "auth", "the broker refused our key")                         \
	X(TIMEOUT, "timeout", "no answer in time")                            \
	X(BAD_ARG, "bad_arg", "invalid argument")                             \
	X(LOG_BROKEN, "log_broken", "the use log does not verify")            \
	X(UNREGISTERED_TYPE, "unregistered_type",                             \
	    "the holder is not registered for this record type")              \
	X(DUPLICATE, "duplicate", "duplicate entry")                          \
	X(TRANSPORT, "transport", "messaging error")                          \
	X(NO_CONSENT, "no_consent", "no live consent covers this")            \
	X(NO_CARD, "no_card", "no emergency card allows this")                \
	X(NOT_DELEGATE, "not_delegate", "you may not act for this person")    \
	X(BEYOND_DELEGATION, "beyond_delegation",                             \
	    "wider than what the person delegated")                           \
	X(BUSY, "busy", "too much is waiting for you: read your replies first") \
	X(RATE, "rate", "too many requests of this kind: try again later")    \
	X(CONTROL_CHARS, "control_chars",                                     \
	    "text holds control or escape characters")                        \
	X(FILE_PERMS, "file_perms",                                           \
	    "a file or directory others may write, or another user's")        \
	X(ROLLED_BACK, "rolled_back",                                         \
	    "the store is older than what its witness saw")

enum carnet_err {
	CARNET_OK = 0,
	CARNET_E__FIRST = -1000,
#define X(n, w, m) CARNET_E_##n,
	CARNET_ERRORS(X)
#undef X
	CARNET_E__LAST
};

/* Human message for a code; never NULL, static storage. */
const char *carnet_strerror(int code);
/* Stable wire name ("truncated", "expired"...); never NULL, static storage. */
const char *carnet_errname(int code);
/* Code for a wire name; CARNET_E_MALFORMED when unknown. */
int carnet_errcode(const char *name, size_t len);

/*
 * An error with its detail: the code and a message that names what failed
 * ("field amount_eur: wrong type, want a number").  Functions that take a
 * struct cerr * accept NULL when the caller wants the code only.
 */
struct cerr {
	int code;
	char msg[240];
};

/* Set err (if not NULL) and return code, for `return cerr_set(...)`;
 * the arguments may include cerr_msg(err) to prefix the old message. */
int cerr_set(struct cerr *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The detail if set, else the code's message. */
const char *cerr_msg(const struct cerr *err);

#endif
