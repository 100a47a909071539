/*
 * partyfields.c: a party's fields from text (partyfields.h).
 */
#include <stdio.h>
#include <string.h>

#include "../common/plainfile.h"
#include "../common/text.h"
#include "../policy/key.h"
#include "partyfields.h"

int
party_text(char *dst, size_t sz, const char *src, const char *what,
    struct cerr *err)
{
	if (strlen(src) >= sz || !utf8_valid(src, strlen(src)))
		return cerr_set(err, CARNET_E_TOO_LONG, "%s: at most %zu bytes "
		    "of UTF-8 text", what, sz - 1);
	/* shown to people before they consent: nothing that could change
	 * what their terminal or page shows */
	if (!text_printable(src, strlen(src)))
		return cerr_set(err, CARNET_E_BAD_VALUE, "%s: holds control or "
		    "escape characters [control_chars]", what);
	/* the registry goes to spreadsheets: nothing they would run (tab
	 * and CR, the other two starts OWASP lists, are control characters
	 * refused above) */
	if (src[0] != '\0' && strchr("=+-@", src[0]) != NULL)
		return cerr_set(err, CARNET_E_BAD_VALUE, "%s: '%.40s' starts "
		    "with '%c', which a spreadsheet takes for a formula: start "
		    "it with a letter or a digit", what, src, src[0]);
	strcpy(dst, src);
	return 0;
}

/* What goes with a role: only a holder has types, only an app the rest. */
static int
fields_of_role(const struct party *p, struct cerr *err)
{
	const char *role = party_role_name(p->role), *field, *whose;

	if (p->ntypes > 0 && p->role != ROLE_HOLDER) {
		field = "types";
		whose = "a holder";
	} else if (p->role != ROLE_APP && (p->npurposes > 0 ||
	    p->owner[0] != '\0' || p->business_model[0] != '\0')) {
		field = p->npurposes > 0 ? "purposes" : p->owner[0] != '\0' ?
		    "owner" : "business_model";
		whose = "an app";
	} else
		return 0;
	return cerr_set(err, CARNET_E_BAD_VALUE, "%s: for %s only, not %s %s",
	    field, whose, p->role == ROLE_OPERATOR ? "an" : "a", role);
}

int
party_add_type(struct party *p, const char *name, struct cerr *err)
{
	if (p->ntypes == PARTY_MAX_TYPES)
		return cerr_set(err, CARNET_E_TOO_BIG, "at most %d types",
		    PARTY_MAX_TYPES);
	if ((p->types[p->ntypes] = schema_by_name(name, strlen(name))) == NULL)
		return cerr_set(err, CARNET_E_BAD_VALUE, "unknown record type "
		    "'%.40s' (see carnet schema)", name);
	p->ntypes++;
	return 0;
}

int
party_add_purpose(struct party *p, const char *purpose, struct cerr *err)
{
	if (p->npurposes == PARTY_MAX_PURPOSES)
		return cerr_set(err, CARNET_E_TOO_BIG, "at most %d purposes",
		    PARTY_MAX_PURPOSES);
	if (party_text(p->purposes[p->npurposes], sizeof(p->purposes[0]),
	    purpose, "purpose", err) != 0)
		return err->code;
	p->npurposes++;
	return 0;
}

int
party_finish(struct party *p, const char *role, const char *name,
    const char *id, struct cerr *err)
{
	uint8_t curve[32];

	if (role == NULL || party_role_parse(role, &p->role) != 0)
		return cerr_set(err, CARNET_E_BAD_VALUE, "role: want user, "
		    "holder, app or operator");
	/* well spelt is not enough: the key must be a point the broker can
	 * turn into its CURVE key, or the store refuses it (too late, in the
	 * middle of an import) */
	if (id == NULL || id_decode(id, p->id) != 0 || key_curve_pk(p->id,
	    curve) != 0)
		return cerr_set(err, CARNET_E_BAD_VALUE, "id: '%.60s' is not a "
		    "carnet id (from carnet keygen)", id ? id : "");
	if (name == NULL || name[0] == '\0')
		return cerr_set(err, CARNET_E_BAD_VALUE, "name: missing");
	if (party_text(p->name, sizeof(p->name), name, "name", err) != 0)
		return err->code;
	if (fields_of_role(p, err) != 0)
		return err->code;
	if (p->role == ROLE_HOLDER && p->ntypes == 0)
		return cerr_set(err, CARNET_E_BAD_VALUE, "a holder needs at "
		    "least one type it may push");
	if (p->role == ROLE_APP && p->npurposes == 0)
		return cerr_set(err, CARNET_E_BAD_VALUE, "an app needs at least "
		    "one purpose");
	return 0;
}

int
party_open_store(const char *dir, struct store **s, struct cerr *err)
{
	char path[4096];
	FILE *f;

	/* Refuse a typo: the directory must be a broker's. */
	snprintf(path, sizeof(path), "%s/broker.pub", dir);
	if ((f = plainfile_open(path)) == NULL)
		return cerr_set(err, CARNET_E_NOT_FOUND, "%s is not a broker "
		    "directory (no broker.pub; start carnetd --data %s once)",
		    dir, dir);
	fclose(f);
	return store_open(dir, BROKER_MAP_BYTES, s, err);
}
