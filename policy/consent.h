/*
 * consent.h: may this app receive this record now, and which fields?
 *
 * The one decision carnet exists to make, as a pure function of a decoded
 * token, the app's registration and the record's envelope.  Signatures are
 * checked once when the token is granted (token_open); revocation is the
 * broker's state, not the token's, and is checked by the caller.
 */
#ifndef CARNET_CONSENT_H
#define CARNET_CONSENT_H

#include <stdint.h>

#include "party.h"
#include "token.h"

struct consent_query {
	const struct party *app;   /* the registered app asking */
	const uint8_t *user;       /* whom the record is about */
	const uint8_t *holder;     /* who pushed it */
	const struct schema *type;
	int64_t record_time;
	int64_t now;
};

/*
 * 0 when t lets q->app receive the record at q->now; *fields is then the
 * mask of body fields it may see (minimisation), with FIELD_REF when the
 * token lists ref (the holder's own ref; never for a token listing no
 * fields).  Otherwise one of
 * CARNET_E_WRONG_APP, _WRONG_USER, _NOT_YET_VALID, _EXPIRED, _PURPOSE (the
 * app has not declared the token's purpose), _NOT_COVERED (type or holder),
 * _TOO_OLD (record before the token's `since`; a since of 0 has no start
 * and covers a record whatever its time).
 */
int consent_check(const struct token *t, const struct consent_query *q,
    uint64_t *fields) __attribute__((warn_unused_result));

/* 0, CARNET_E_NOT_YET_VALID or CARNET_E_EXPIRED. */
int consent_live(const struct token *t, int64_t now)
    __attribute__((warn_unused_result));

#endif
