/*
 * party.c: the party registry's record format.
 */
#include <string.h>

#include "../common/mpk.h"
#include "party.h"

#define PARTY_MAX_DEPTH 2

static const char *const role_names[] = {
	[ROLE_USER] = "user",
	[ROLE_HOLDER] = "holder",
	[ROLE_APP] = "app",
	[ROLE_OPERATOR] = "operator",
};

const char *
party_role_name(enum party_role r)
{
	if (r < ROLE_USER || r > ROLE_OPERATOR)
		return "?";
	return role_names[r];
}

int
party_role_parse(const char *s, enum party_role *r)
{
	int i;

	for (i = ROLE_USER; i <= ROLE_OPERATOR; i++)
		if (strcmp(s, role_names[i]) == 0) {
			*r = (enum party_role)i;
			return 0;
		}
	return CARNET_E_BAD_VALUE;
}

bool
party_has_type(const struct party *p, const struct schema *s)
{
	unsigned i;

	for (i = 0; i < p->ntypes; i++)
		if (p->types[i] == s)
			return true;
	return false;
}

bool
party_has_purpose(const struct party *p, const char *purpose)
{
	unsigned i;

	for (i = 0; i < p->npurposes; i++)
		if (strcmp(p->purposes[i], purpose) == 0)
			return true;
	return false;
}

void
party_pack(msgpack_packer *pk, const struct party *p)
{
	unsigned i;

	msgpack_pack_map(pk, 8);
	mpk_pack_cstr(pk, "id");
	mpk_pack_binn(pk, p->id, ID_BYTES);
	mpk_pack_cstr(pk, "role");
	mpk_pack_cstr(pk, party_role_name(p->role));
	mpk_pack_cstr(pk, "name");
	mpk_pack_cstr(pk, p->name);
	mpk_pack_cstr(pk, "types");
	msgpack_pack_array(pk, p->ntypes);
	for (i = 0; i < p->ntypes; i++)
		mpk_pack_cstr(pk, p->types[i]->name);
	mpk_pack_cstr(pk, "purposes");
	msgpack_pack_array(pk, p->npurposes);
	for (i = 0; i < p->npurposes; i++)
		mpk_pack_cstr(pk, p->purposes[i]);
	mpk_pack_cstr(pk, "owner");
	mpk_pack_cstr(pk, p->owner);
	mpk_pack_cstr(pk, "business_model");
	mpk_pack_cstr(pk, p->business_model);
	mpk_pack_cstr(pk, "added_at");
	msgpack_pack_int64(pk, p->added_at);
}

int
party_from_object(const msgpack_object *o, struct party *p, struct cerr *err)
{
	const msgpack_object *types, *purposes;
	char role[16], tname[FIELD_NAME_MAX_BYTES + 1];
	uint32_t i;

	memset(p, 0, sizeof(*p));
	if (mpk_bin_n(mpk_get(o, "id"), p->id, ID_BYTES) != 0 ||
	    mpk_cstr(mpk_get(o, "role"), role, sizeof(role)) != 0 ||
	    party_role_parse(role, &p->role) != 0 ||
	    mpk_cstr(mpk_get(o, "name"), p->name, sizeof(p->name)) != 0 ||
	    mpk_cstr(mpk_get(o, "owner"), p->owner, sizeof(p->owner)) != 0 ||
	    mpk_cstr(mpk_get(o, "business_model"), p->business_model,
	    sizeof(p->business_model)) != 0 ||
	    mpk_i64(mpk_get(o, "added_at"), &p->added_at) != 0)
		return cerr_set(err, CARNET_E_MALFORMED, "party: bad record");
	types = mpk_get(o, "types");
	purposes = mpk_get(o, "purposes");
	if (types == NULL || types->type != MSGPACK_OBJECT_ARRAY ||
	    types->via.array.size > PARTY_MAX_TYPES || purposes == NULL ||
	    purposes->type != MSGPACK_OBJECT_ARRAY ||
	    purposes->via.array.size > PARTY_MAX_PURPOSES)
		return cerr_set(err, CARNET_E_MALFORMED, "party: bad lists");
	for (i = 0; i < types->via.array.size; i++) {
		if (mpk_cstr(&types->via.array.ptr[i], tname,
		    sizeof(tname)) != 0 ||
		    (p->types[i] = schema_by_name(tname, strlen(tname))) == NULL)
			return cerr_set(err, CARNET_E_UNKNOWN_TYPE,
			    "party: unknown type");
	}
	p->ntypes = types->via.array.size;
	for (i = 0; i < purposes->via.array.size; i++)
		if (mpk_cstr(&purposes->via.array.ptr[i], p->purposes[i],
		    sizeof(p->purposes[i])) != 0)
			return cerr_set(err, CARNET_E_MALFORMED,
			    "party: bad purpose");
	p->npurposes = purposes->via.array.size;
	return 0;
}

int
party_decode(const void *buf, size_t len, struct party *p, struct cerr *err)
{
	msgpack_unpacked tree;
	int rc;

	if ((rc = mpk_unpack(buf, len, PARTY_MAX_DEPTH, &tree)) != 0)
		return cerr_set(err, rc, "party: %s", carnet_strerror(rc));
	rc = party_from_object(&tree.data, p, err);
	msgpack_unpacked_destroy(&tree);
	return rc;
}
