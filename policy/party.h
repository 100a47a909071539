/*
 * party.h: who may talk to the broker, and as what.
 *
 * Every party has one role: a user (a person), a holder (pushes records of
 * the types it is registered for), an app (subscribes, with declared
 * purposes, owner and business model shown to people before they grant),
 * or the operator.  Encoded as msgpack for the broker's registry.
 */
#ifndef CARNET_PARTY_H
#define CARNET_PARTY_H

#include <stdbool.h>
#include <stdint.h>

#include <msgpack.h>

#include "../common/error.h"
#include "../common/id.h"
#include "../common/limits.h"
#include "../schemas/schema.h"

enum party_role {
	ROLE_USER = 1,
	ROLE_HOLDER = 2,
	ROLE_APP = 3,
	ROLE_OPERATOR = 4,
};

struct party {
	uint8_t id[ID_BYTES];
	enum party_role role;
	char name[PARTY_NAME_MAX_BYTES + 1];
	unsigned ntypes; /* holder: types it may push */
	const struct schema *types[PARTY_MAX_TYPES];
	unsigned npurposes; /* app: declared purposes */
	char purposes[PARTY_MAX_PURPOSES][PURPOSE_MAX_BYTES + 1];
	char owner[PARTY_TEXT_MAX_BYTES + 1];
	char business_model[PARTY_TEXT_MAX_BYTES + 1];
	int64_t added_at;
};

void party_pack(msgpack_packer *pk, const struct party *p);
int party_from_object(const msgpack_object *o, struct party *p,
    struct cerr *err) __attribute__((warn_unused_result));
int party_decode(const void *buf, size_t len, struct party *p,
    struct cerr *err) __attribute__((warn_unused_result));

const char *party_role_name(enum party_role r);
/* "user", "holder", "app", "operator" -> role; 0 or CARNET_E_BAD_VALUE. */
int party_role_parse(const char *s, enum party_role *r)
    __attribute__((warn_unused_result));
bool party_has_type(const struct party *p, const struct schema *s);
bool party_has_purpose(const struct party *p, const char *purpose);

#endif
