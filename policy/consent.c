/*
 * consent.c: the consent check.  Cheap enough for every record: no
 * allocation, no crypto, a few comparisons.
 */
#include <string.h>

#include "consent.h"

int
consent_live(const struct token *t, int64_t now)
{
	if (now < t->not_before)
		return CARNET_E_NOT_YET_VALID;
	if (t->expires != 0 && now >= t->expires)
		return CARNET_E_EXPIRED;
	return 0;
}

int
consent_check(const struct token *t, const struct consent_query *q,
    uint64_t *fields)
{
	const struct token_scope *s;
	int rc;

	if (memcmp(t->app, q->app->id, ID_BYTES) != 0)
		return CARNET_E_WRONG_APP;
	if (memcmp(t->user, q->user, ID_BYTES) != 0)
		return CARNET_E_WRONG_USER;
	if ((rc = consent_live(t, q->now)) != 0)
		return rc;
	if (!party_has_purpose(q->app, t->purpose))
		return CARNET_E_PURPOSE;
	if ((s = token_scope_of(t, q->type)) == NULL ||
	    !token_covers_holder(t, q->holder))
		return CARNET_E_NOT_COVERED;
	/* since 0 is "no start": every record, before 1970 too */
	if (t->since != 0 && q->record_time < t->since)
		return CARNET_E_TOO_OLD;
	/* every field, when none is listed, is the body's: the holder's
	 * ref only when listed (schema.h) */
	*fields = s->fields_listed ? s->fields : FIELDS_ALL;
	return 0;
}
