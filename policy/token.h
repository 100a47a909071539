/*
 * token.h: consent tokens and revocations, signed by the person.
 *
 * A token's payload is a msgpack map
 *   kind "consent", v 1, id bin 16 (random), user bin 32, app bin 32,
 *   holders [bin 32...] or nil (any holder),
 *   types [{type: str, fields: [str...] (absent: every field)}...],
 *   purpose str, since int (0: no start), not_before int,
 *   expires int (0: no end), issued int         (times: epoch seconds)
 *   by bin 32 (optional: a delegate who signed for the user)
 * and the signed form is the 64-byte detached Ed25519 signature of the
 * payload followed by the payload.  The broker keeps those exact bytes.
 * A revocation is {kind "revoke", v 1, token bin 16, user bin 32, time int},
 * signed the same way (also with an optional "by").  A delegation is
 *   {kind "delegate", v 1, id bin 16, user bin 32, to bin 32,
 *    scope "view"|"manage", types [str...] or nil (every type),
 *    expires int (0: no end), issued int}
 * signed by the user: it lets `to` read the user's dashboard (view) or
 * also grant, revoke, pause, resume and renew for them (manage), within
 * its types and end date.  Nothing here does I/O.
 */
#ifndef CARNET_TOKEN_H
#define CARNET_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#include "../common/error.h"
#include "../common/id.h"
#include "../common/limits.h"
#include "../schemas/schema.h"

#define TOKEN_VERSION 1
#define SIG_BYTES 64

struct token_scope {
	const struct schema *type;
	uint64_t fields; /* mask over type's fields; FIELDS_ALL when unlisted */
	bool fields_listed;
};

struct token {
	uint8_t id[TOKID_BYTES];
	uint8_t user[ID_BYTES];
	uint8_t app[ID_BYTES];
	bool any_holder;
	unsigned nholders;
	uint8_t holders[TOKEN_MAX_HOLDERS][ID_BYTES];
	unsigned ntypes;
	struct token_scope types[TOKEN_MAX_TYPES];
	char purpose[PURPOSE_MAX_BYTES + 1];
	int64_t since;      /* oldest record time the app may see, 0: none */
	int64_t not_before; /* start of validity */
	int64_t expires;    /* end of validity, 0 for none */
	int64_t issued;
	bool has_by;        /* signed by a delegate, not the user */
	uint8_t by[ID_BYTES];
};

struct revocation {
	uint8_t token[TOKID_BYTES];
	uint8_t user[ID_BYTES];
	int64_t time;
	bool has_by;
	uint8_t by[ID_BYTES];
};

enum deleg_scope {
	DELEG_VIEW = 1,   /* read the dashboard: consents, log, requests */
	DELEG_MANAGE = 2, /* and grant, revoke, pause, resume, renew */
};

struct delegation {
	uint8_t id[TOKID_BYTES];
	uint8_t user[ID_BYTES];
	uint8_t to[ID_BYTES];
	enum deleg_scope scope;
	unsigned ntypes; /* 0: every type */
	const struct schema *types[TOKEN_MAX_TYPES];
	int64_t expires; /* 0: until the user ends it */
	int64_t issued;
};

/* Fill t->id with random bytes. */
void token_new_id(struct token *t);
/* t's holders as the token encodes them: nil for any, else a list of ids. */
void token_pack_holders(msgpack_packer *pk, const struct token *t);

/*
 * Sign t with the Ed25519 secret key of its user, or of t->by when
 * t->has_by (a delegate).  On success *out is a malloc'd signed token of *outlen bytes,
 * the caller frees it.
 */
int token_sign(const struct token *t, const uint8_t sk[64], uint8_t **out,
    size_t *outlen, struct cerr *err) __attribute__((warn_unused_result));

/*
 * Check a signed token: size bounds, well-formed payload, and a signature
 * by the user the payload names (or by its "by", a delegate, whose right
 * to sign the broker checks).  Fills *t only on success.  Errors:
 * CARNET_E_TOO_BIG, _TRUNCATED, _MALFORMED, _UNKNOWN_FIELD, _UNKNOWN_TYPE,
 * _BAD_VALUE, _BAD_SIGNATURE...
 */
int token_open(const uint8_t *buf, size_t len, struct token *t,
    struct cerr *err) __attribute__((warn_unused_result));

/* Decode the payload of a signed token without checking the signature
 * (for showing what a stored token says). */
int token_peek(const uint8_t *buf, size_t len, struct token *t,
    struct cerr *err) __attribute__((warn_unused_result));

int revocation_sign(const struct revocation *rv, const uint8_t sk[64],
    uint8_t **out, size_t *outlen, struct cerr *err)
    __attribute__((warn_unused_result));
int revocation_open(const uint8_t *buf, size_t len, struct revocation *rv,
    struct cerr *err) __attribute__((warn_unused_result));

/* True when a and b grant the same thing (all but expires, issued, by). */
bool token_same_scope(const struct token *a, const struct token *b);

int delegation_sign(const struct delegation *d, const uint8_t sk[64],
    uint8_t **out, size_t *outlen, struct cerr *err)
    __attribute__((warn_unused_result));
int delegation_open(const uint8_t *buf, size_t len, struct delegation *d,
    struct cerr *err) __attribute__((warn_unused_result));
const char *deleg_scope_name(enum deleg_scope s);
bool delegation_has_type(const struct delegation *d, const struct schema *t);

/* The scope entry for a type, or NULL. */
const struct token_scope *token_scope_of(const struct token *t,
    const struct schema *type);
bool token_covers_holder(const struct token *t, const uint8_t holder[ID_BYTES]);

#endif
