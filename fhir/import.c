/*
 * import.c: the mapping of FHIR resources to carnet records (import.h).
 *
 * Each mapper reads its resource through walk.h (typed, located reads:
 * the first wrong element stops the document), builds the record as JSON
 * and hands it to recjson_encode, so an imported record meets the same
 * checks as one from the network.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "../schemas/recjson.h"
#include "import.h"
#include "terms.h"
#include "walk.h"

#define NDC_SYSTEM "http://hl7.org/fhir/sid/ndc"
#define HCPCS_MARK "hcpcs"
#define REVENUE_MARK "rev_cntr"
#define ABSENT_SYSTEM "http://terminology.hl7.org/CodeSystem/data-absent-reason"

static const char *const note_texts[] = {
#define X(n, text) text,
	FHIR_NOTES(X)
#undef X
};

const char *
fhir_note_text(enum fhir_note n)
{
	return (unsigned)n < FHIR_NOTE_COUNT ? note_texts[n] : "?";
}

struct ctx {
	struct fhir_walk w;
	struct fhir_import *im;
	bool stu3;              /* Blue Button v1: STU3 shapes and refs */
	struct fhir_kind_count *kind;
	unsigned entry;         /* the Bundle entry being mapped, from 1 */
};

static void
note(struct ctx *c, enum fhir_note n)
{
	c->im->notes[n]++;
}

static struct fhir_kind_count *
kind_count(struct fhir_import *im, const char *kind)
{
	unsigned i;

	for (i = 0; i < im->nkinds; i++)
		if (strcmp(im->kinds[i].kind, kind) == 0)
			return &im->kinds[i];
	if (im->nkinds == FHIR_KINDS_MAX)
		return &im->kinds[FHIR_KINDS_MAX - 1];
	snprintf(im->kinds[im->nkinds].kind, sizeof(im->kinds[0].kind), "%s",
	    im->nkinds == FHIR_KINDS_MAX - 1 ? "(other kinds)" : kind);
	return &im->kinds[im->nkinds++];
}

/*
 * The record fields carnet's export wrote as extensions (terms.h), for
 * what FHIR has no element: they replace what the mapping inferred.  An
 * extension naming no field of the type, or of the wrong value type, is
 * refused.
 */
static void
carnet_fields(struct ctx *c, const struct schema *s, json_t *obj)
{
	json_t *x, *lists = json_object();
	size_t i, n = strlen(CARNET_FIELD_EXT);

	json_array_foreach(walk_arr(&c->w, c->w.res, "extension"), i, x) {
		const char *url = walk_str(&c->w, x, "url"), *name;
		json_t *v = NULL;
		int f;

		if (url == NULL || strncmp(url, CARNET_FIELD_EXT, n) != 0)
			continue;
		name = url + n;
		snprintf(c->w.elem, sizeof(c->w.elem), "extension[%zu]", i);
		if ((f = schema_field(s, name, strlen(name))) < 0) {
			walk_fail(&c->w, CARNET_E_UNKNOWN_FIELD, "%.60s: %s records "
			    "have no field %.40s", url, s->name, name);
			break;
		}
		switch (s->fields[f].kind) {
		case FIELD_STR:
		case FIELD_STRLIST:
			v = json_is_string(json_object_get(x, "valueString")) ?
			    json_object_get(x, "valueString") : NULL;
			break;
		case FIELD_INT:
			v = json_is_integer(json_object_get(x, "valueInteger")) ?
			    json_object_get(x, "valueInteger") : NULL;
			break;
		default:
			v = json_object_get(x, "valueDecimal");
			if (!json_is_number(v))
				v = json_object_get(x, "valueInteger");
			v = json_is_number(v) ? v : NULL;
			break;
		}
		if (v == NULL) {
			walk_fail(&c->w, CARNET_E_FIELD_TYPE, "%.60s: a %s needs a "
			    "value%s", url, field_kind_name(s->fields[f].kind),
			    s->fields[f].kind == FIELD_INT ? "Integer" :
			    s->fields[f].kind == FIELD_NUM ? "Decimal" : "String");
			break;
		}
		if (s->fields[f].kind != FIELD_STRLIST) {
			json_object_set(obj, name, v);
			continue;
		}
		/* the first of a list's extensions replaces what was there */
		if (json_object_get(lists, name) == NULL) {
			json_object_set_new(lists, name, json_true());
			json_object_set_new(obj, name, json_array());
		}
		json_array_append(json_object_get(obj, name), v);
	}
	json_decref(lists);
	if (c->w.rc == 0)
		c->w.elem[0] = '\0';
}

/*
 * A FHIR string may hold line breaks and tabs (a note, a display over two
 * lines); a record's text may not.  s on one line, each run of white
 * space that holds one of them made one space, the ends trimmed; NULL
 * when s has none (nothing to change).  The caller frees the result.
 */
static char *
one_line(const char *s)
{
	char *out, *o;

	if (strpbrk(s, "\r\n\t") == NULL || (out = malloc(strlen(s) + 1)) ==
	    NULL)
		return NULL;
	for (o = out; *s; ) {
		size_t ws = strspn(s, " \r\n\t");

		if (ws > 0) {
			if (o > out && s[ws] != '\0')
				*o++ = ' ';
			s += ws;
		} else
			*o++ = *s++;
	}
	*o = '\0';
	return out;
}

/* v (a string) on one line; false when nothing is left of it (white
 * space only): the caller drops it, as absent (a required field then
 * refuses the entry, naming it). */
static bool
fold_text(struct ctx *c, json_t *v)
{
	char *t = one_line(json_string_value(v));
	bool left;

	if (t == NULL)
		return true;
	json_string_set(v, t);
	left = t[0] != '\0';
	free(t);
	note(c, FHIR_NOTE_TEXT_FOLDED);
	return left;
}

/* Every text of obj (strings and lists of strings) on one line. */
static void
fold_texts(struct ctx *c, json_t *obj)
{
	const char *key;
	json_t *v;
	void *tmp;
	size_t i;

	json_object_foreach_safe(obj, tmp, key, v) {
		if (json_is_string(v)) {
			if (!fold_text(c, v))
				json_object_del(obj, key); /* frees v */
			continue;
		}
		for (i = json_is_array(v) ? json_array_size(v) : 0; i-- > 0; )
			if (json_is_string(json_array_get(v, i)) &&
			    !fold_text(c, json_array_get(v, i)))
				json_array_remove(v, i);
	}
}

static int
emit(struct ctx *c, const char *type, json_t *obj)
{
	const struct schema *s = schema_by_name(type, strlen(type));
	struct cerr e = {0};
	int rc;

	if (c->w.rc != 0) {
		json_decref(obj);
		return c->w.rc;
	}
	if (c->im->n == c->im->entry_cap) {
		unsigned cap = c->im->entry_cap ? c->im->entry_cap * 2 : 256;
		unsigned *p = realloc(c->im->entry_of, cap * sizeof(*p));

		if (p == NULL) {
			json_decref(obj);
			return walk_fail(&c->w, CARNET_E_NOMEM, "out of memory");
		}
		c->im->entry_of = p;
		c->im->entry_cap = cap;
	}
	c->im->entry_of[c->im->n] = c->entry;
	fold_texts(c, obj);
	carnet_fields(c, s, obj);
	if (c->w.rc != 0) {
		json_decref(obj);
		return c->w.rc;
	}
	rc = recjson_encode(obj, s, &c->im->recs, &e);
	json_decref(obj);
	if (rc != 0)
		return walk_fail(&c->w, rc, "as a %s record: %s", type,
		    cerr_msg(&e));
	c->im->n++;
	c->im->by_type[s->index]++;
	c->kind->records++;
	return 0;
}

/* Texts go in with walk_set_text: one over its field's bound is refused
 * (the schema's), so only labels, which may be shortened, use put_label. */

static void
put_num(json_t *obj, const char *key, json_t *n)
{
	if (n != NULL)
		json_object_set_new(obj, key, json_real(json_number_value(n)));
}

/* The length of s cut to max bytes at a character boundary (noted). */
static size_t
cut_len(struct ctx *c, const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n <= max)
		return n;
	note(c, FHIR_NOTE_TEXT_CUT);
	n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return n;
}

/* A label cut to max bytes at a character boundary, said in the report. */
static void
put_label(struct ctx *c, json_t *obj, const char *key, const char *s,
    size_t max)
{
	json_object_set_new(obj, key, json_stringn(s, cut_len(c, s, max)));
}

static void
put_time(json_t *obj, int64_t t, const char *precision)
{
	json_object_set_new(obj, "time", json_integer(t));
	walk_set_text(obj, "time_precision", precision);
}

static bool
fhir_id(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= 64 && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-.") == n;
}

/* The value of a resource's identifier of system, or NULL. */
static const char *
identifier(struct ctx *c, json_t *r, const char *system)
{
	json_t *ident;
	size_t i;

	json_array_foreach(walk_arr(&c->w, r, "identifier"), i, ident) {
		const char *sys = walk_str(&c->w, ident, "system");

		if (sys != NULL && strcmp(sys, system) == 0)
			return walk_str(&c->w, ident, "value");
	}
	return NULL;
}

/*
 * The ref of a resource's record: fhir:[stu3:]TYPE/ID[#ITEM]@VERSION
 * (import.h).  The version hash covers the resource without its meta,
 * which servers rewrite on every read.
 */
static int
make_ref(struct ctx *c, json_t *r, size_t item, char *buf, size_t size)
{
	const char *type = walk_str(&c->w, r, "resourceType");
	const char *id = walk_str(&c->w, r, "id");
	const char *ver = walk_str(&c->w, r, "meta.versionId"), *held;
	char vbuf[2 + 2 * 8 + 1], ib[24] = "";
	int n;

	if (c->w.rc != 0)
		return c->w.rc;
	/* carnet's own export: the ref the record had at its holder, one
	 * record per resource */
	if ((held = identifier(c, r, CARNET_HOLDER_REF)) != NULL) {
		if (item > 1)
			return walk_fail(&c->w, CARNET_E_BAD_VALUE, "identifier: "
			    "%s names one record, and this resource makes "
			    "several (item %zu)", CARNET_HOLDER_REF, item);
		if (strlen(held) >= size)
			return walk_fail(&c->w, CARNET_E_TOO_BIG, "identifier: "
			    "%s \"%.70s\" is over %zu bytes", CARNET_HOLDER_REF,
			    held, size - 1);
		memcpy(buf, held, strlen(held) + 1);
		return 0;
	}
	if (id == NULL || id[0] == '\0')
		return walk_fail(&c->w, CARNET_E_MALFORMED, "id: a %s needs one "
		    "(it is the record's ref)", type);
	/* FHIR ids and versions are [A-Za-z0-9.-]{1,64}: one with "@" or
	 * "#" would pass for another resource's version or item */
	if (!fhir_id(id) || (ver != NULL && !fhir_id(ver)))
		return walk_fail(&c->w, CARNET_E_BAD_VALUE, "%s: \"%.70s\" is "
		    "not a FHIR id (letters, digits, - and ., at most 64)",
		    fhir_id(id) ? "meta.versionId" : "id", fhir_id(id) ? ver : id);
	if (ver == NULL) {
		json_t *copy = json_copy(r);
		char *text;
		uint8_t h[8];

		json_object_del(copy, "meta");
		text = json_dumps(copy, JSON_SORT_KEYS | JSON_COMPACT);
		json_decref(copy);
		if (text == NULL)
			return walk_fail(&c->w, CARNET_E_NOMEM, "out of memory");
		crypto_generichash(h, sizeof(h), (const uint8_t *)text,
		    strlen(text), NULL, 0);
		free(text);
		vbuf[0] = 'h';
		sodium_bin2hex(vbuf + 1, sizeof(vbuf) - 1, h, sizeof(h));
		ver = vbuf;
	}
	if (item > 0)
		snprintf(ib, sizeof(ib), "#%zu", item);
	n = snprintf(buf, size, "fhir:%s%s/%s%s@%s", c->stu3 ? "stu3:" : "",
	    type, id, ib, ver);
	if (n < 0 || (size_t)n >= size)
		return walk_fail(&c->w, CARNET_E_TOO_BIG, "id: \"%.70s\" and "
		    "version \"%.20s\" make a ref over %zu bytes", id, ver,
		    size - 1);
	return 0;
}

/* The carnet id of a Patient resource: by its id, then by each
 * identifier as system|value; NULL when not enrolled. */
static const char *
enrolled_patient(struct ctx *c, json_t *p)
{
	const char *pid = walk_str(&c->w, p, "id"), *id = NULL;
	json_t *ident;
	char key[300];
	size_t i;

	if (pid != NULL)
		id = c->im->enrolled(c->im->enrolled_arg, pid);
	json_array_foreach(walk_arr(&c->w, p, "identifier"), i, ident) {
		const char *sys = walk_str(&c->w, ident, "system");
		const char *val = walk_str(&c->w, ident, "value");

		if (id != NULL || val == NULL)
			continue;
		/* a carnet export names the person by their carnet id: the
		 * holder enrolls it as the customer number */
		if (sys != NULL && strcmp(sys, CARNET_PERSON) == 0)
			snprintf(key, sizeof(key), "%s", val);
		else
			snprintf(key, sizeof(key), "%s|%s", sys ? sys : "", val);
		id = c->im->enrolled(c->im->enrolled_arg, key);
	}
	if (id == NULL && c->w.rc == 0)
		note(c, FHIR_NOTE_NOT_ENROLLED);
	return id;
}

/*
 * The carnet id of the person a reference names: the Patient it resolves
 * to; a reference to a Patient not in the document by the id in it; a
 * logical reference by its identifier.  *id NULL when not enrolled.
 */
static int
who(struct ctx *c, json_t *r, const char *path, const char **id)
{
	json_t *ref = walk_obj(&c->w, r, path), *p, *ident;
	const char *s, *slash;

	*id = NULL;
	if (c->w.rc != 0)
		return c->w.rc;
	if (ref == NULL)
		return walk_fail(&c->w, CARNET_E_MALFORMED, "%s: names no "
		    "patient", path);
	s = walk_str(&c->w, ref, "reference");
	if ((p = walk_resolve(&c->w, s)) != NULL) {
		const char *kind = walk_str(&c->w, p, "resourceType");

		/* a Group or Organization sharing an enrolled Patient's id
		 * must not pass for that person */
		if (kind == NULL || strcmp(kind, "Patient") != 0)
			return walk_fail(&c->w, CARNET_E_BAD_VALUE, "%s: \"%.80s\" "
			    "names a %.24s, not a Patient", path, s,
			    kind ? kind : "resource without a type");
		*id = enrolled_patient(c, p);
	} else if (s == NULL && (ident = walk_obj(&c->w, ref, "identifier")) !=
	    NULL) {
		p = json_pack("{s:[O]}", "identifier", ident);
		*id = enrolled_patient(c, p);
		json_decref(p);
	} else if (s == NULL || strncmp(s, "urn:", 4) == 0 || (slash =
	    strrchr(s, '/')) == NULL) {
		return walk_fail(&c->w, CARNET_E_MALFORMED, "%s: \"%.80s\" "
		    "names no Patient of the document", path,
		    s ? s : "(no reference)");
	} else if (slash - s < 7 || strncmp(slash - 7, "Patient", 7) != 0 ||
	    (slash - s > 7 && slash[-8] != '/')) {
		return walk_fail(&c->w, CARNET_E_BAD_VALUE, "%s: \"%.80s\" "
		    "names no Patient", path, s);
	} else if ((*id = c->im->enrolled(c->im->enrolled_arg, slash + 1)) ==
	    NULL) {
		note(c, FHIR_NOTE_NOT_ENROLLED);
	}
	return c->w.rc;
}

/* A CodeableConcept's coding of system (or its first with a code). */
static json_t *
pick_coding(struct ctx *c, json_t *cc, const char *system)
{
	json_t *cd, *first = NULL;
	size_t i;

	json_array_foreach(walk_arr(&c->w, cc, "coding"), i, cd) {
		const char *sys = walk_system(&c->w, cd);

		if (walk_str(&c->w, cd, "code") == NULL ||
		    (sys && strcmp(sys, ABSENT_SYSTEM) == 0))
			continue;
		if (system && sys && strcmp(sys, system) == 0)
			return cd;
		if (first == NULL)
			first = cd;
	}
	return first;
}

/* The words of a CodeableConcept: its text, else the coding's display. */
static const char *
cc_text(struct ctx *c, json_t *cc, json_t *coding)
{
	const char *t = walk_str(&c->w, cc, "text");

	if (t == NULL && coding != NULL)
		t = walk_str(&c->w, coding, "display");
	return t;
}

/* A code of a status element: a code (R4 CodeableConcept, STU3 string). */
static const char *
status_code(struct ctx *c, json_t *r, const char *path)
{
	json_t *v = walk_at(r, path);

	if (json_is_string(v))
		return json_string_value(v);
	return v ? walk_str(&c->w, v, "coding.0.code") : NULL;
}

/* A name as one line: text, else the given names and the family. */
static const char *
human_name(struct ctx *c, json_t *names, char *buf, size_t size)
{
	json_t *n, *best = NULL, *g;
	const char *t, *family;
	char whole[1024];
	size_t i, o = 0;

	json_array_foreach(names, i, n) {
		const char *use = walk_str(&c->w, n, "use");

		if (best == NULL || (use && strcmp(use, "official") == 0))
			best = n;
	}
	if (best == NULL)
		return NULL;
	if ((t = walk_str(&c->w, best, "text")) != NULL)
		return t;
	family = walk_str(&c->w, best, "family");
	if (json_is_array(json_object_get(best, "family")))
		family = walk_str(&c->w, best, "family.0"); /* DSTU2 shape */
	/* made whole first, then cut to buf at a character boundary, said */
	whole[0] = '\0';
	json_array_foreach(walk_arr(&c->w, best, "given"), i, g)
		if (json_is_string(g) && o < sizeof(whole))
			o += (size_t)snprintf(whole + o, sizeof(whole) - o,
			    "%s%s", o ? " " : "", json_string_value(g));
	if (family != NULL && o < sizeof(whole))
		o += (size_t)snprintf(whole + o, sizeof(whole) - o, "%s%s", o ?
		    " " : "", family);
	if (o == 0)
		return NULL;
	o = cut_len(c, whole, size - 1);
	memcpy(buf, whole, o);
	buf[o] = '\0';
	return buf;
}

/* Who a reference names, in words: the resource's name, the display,
 * or the identifier (a provider number). */
static const char *
party_name(struct ctx *c, json_t *ref, char *buf, size_t size)
{
	const char *s;
	json_t *p;

	if (ref == NULL)
		return NULL;
	if ((s = walk_str(&c->w, ref, "display")) != NULL)
		return s;
	if ((p = walk_resolve(&c->w, walk_str(&c->w, ref, "reference"))) !=
	    NULL) {
		json_t *n = json_object_get(p, "name");

		if (json_is_string(n)) /* Organization */
			return json_string_value(n);
		if ((s = human_name(c, walk_arr(&c->w, p, "name"), buf, size)) !=
		    NULL) /* Practitioner */
			return s;
	}
	return walk_str(&c->w, ref, "identifier.value");
}

/* ------------------------------------------------------------------ */
/* ExplanationOfBenefit */

struct amounts {
	double v[AMOUNT_UNKNOWN + 1];
	unsigned n[AMOUNT_UNKNOWN + 1];
	bool ambiguous[AMOUNT_UNKNOWN + 1];
	const char *currency;
};

static void
amounts_add(struct ctx *c, struct amounts *a, json_t *adj)
{
	enum amount_role role = terms_amount_role(walk_obj(&c->w, adj,
	    "category"));
	json_t *v = walk_num(&c->w, adj, "amount.value");
	const char *cur = walk_str(&c->w, adj, "amount.currency");

	if (v == NULL)
		return;
	if (cur != NULL) {
		if (a->currency && strcmp(a->currency, cur) != 0)
			walk_fail(&c->w, CARNET_E_BAD_VALUE, "amount.currency: "
			    "%s beside %s in one claim", cur, a->currency);
		a->currency = cur;
	}
	if (role == AMOUNT_PAID_PART) {
		a->v[role] += json_number_value(v);
	} else if (a->n[role] > 0 && a->v[role] != json_number_value(v)) {
		a->ambiguous[role] = true;
	} else {
		a->v[role] = json_number_value(v);
	}
	a->n[role]++;
}

/* Put the amount of role in key; true when there was one. */
static bool
amounts_put(struct ctx *c, struct amounts *a, json_t *obj, const char *key,
    enum amount_role role)
{
	if (role == AMOUNT_PAID && (a->n[role] == 0 || a->ambiguous[role]) &&
	    a->n[AMOUNT_PAID_PART] > 0)
		role = AMOUNT_PAID_PART;
	if (a->ambiguous[role]) {
		note(c, FHIR_NOTE_AMBIGUOUS);
		return false;
	}
	if (a->n[role] == 0)
		return false;
	json_object_set_new(obj, key, json_real(a->v[role]));
	return true;
}

/* The claim's kind: BB's eob-type (carrier, pde, inpatient...), else the
 * HL7 claim type (institutional, professional, pharmacy...). */
static const char *
claim_kind(struct ctx *c, json_t *type, char *buf, size_t size, bool *rx)
{
	json_t *cd;
	const char *kind = NULL;
	size_t i;

	*rx = false;
	json_array_foreach(walk_arr(&c->w, type, "coding"), i, cd) {
		const char *sys = walk_str(&c->w, cd, "system");
		const char *code = walk_str(&c->w, cd, "code");

		if (code == NULL || sys == NULL)
			continue;
		if (strcmp(code, "PDE") == 0 || strcmp(code, "pharmacy") == 0)
			*rx = true;
		if (strstr(sys, "eob-type") != NULL)
			kind = code;
		else if (kind == NULL && strstr(sys, "claim-type") != NULL)
			kind = code;
		else if (kind == NULL && strstr(sys, "claimtype") != NULL)
			kind = code;
	}
	if (kind == NULL)
		return "claim";
	for (i = 0; kind[i] && i + 1 < size; i++)
		buf[i] = (char)(kind[i] >= 'A' && kind[i] <= 'Z' ? kind[i] + 32 :
		    kind[i]);
	buf[i] = '\0';
	return buf;
}

static bool
is_care_role(const char *role)
{
	static const char *const roles[] = {"performing", "rendering",
		"attending", "operating", "primary", "supervisor", "assist",
		NULL};
	const char *const *r;

	for (r = roles; role && *r; r++)
		if (strcmp(role, *r) == 0)
			return true;
	return false;
}

/*
 * The provider of an item: its care team member with a care role (not
 * the referring or prescribing doctor; on a pharmacy claim, the
 * prescriber) or with no role at all, else the claim's first member with
 * a care role, else the billing provider.
 */
static const char *
provider_of(struct ctx *c, json_t *r, json_t *item, bool rx,
    const char **role, char *buf, size_t size)
{
	json_t *seqs = walk_arr(&c->w, item, c->stu3 ? "careTeamLinkId" :
	    "careTeamSequence"), *m, *s;
	size_t i, k;
	int pass;

	for (pass = 0; pass < 2; pass++)
		json_array_foreach(walk_arr(&c->w, r, "careTeam"), i, m) {
			const char *rl = walk_str(&c->w, m, "role.coding.0.code");
			json_t *seq = walk_num(&c->w, m, "sequence");
			bool mine = false;

			json_array_foreach(seqs, k, s)
				mine = mine || (seq && json_equal(s, seq));
			if ((pass == 0 && !mine) || !(is_care_role(rl) || (rx &&
			    rl && strcmp(rl, "prescribing") == 0) || (pass == 0 &&
			    walk_at(m, "role") == NULL)))
				continue;
			*role = rl;
			return party_name(c, walk_obj(&c->w, m, "provider"), buf,
			    size);
		}
	*role = "billing";
	return party_name(c, walk_obj(&c->w, r, "provider"), buf, size);
}

/* The diagnoses of a claim as system|code, at most 32. */
static json_t *
diagnoses(struct ctx *c, json_t *r)
{
	json_t *list = json_array(), *d, *cd;
	char code[140];
	size_t i;

	json_array_foreach(walk_arr(&c->w, r, "diagnosis"), i, d) {
		json_t *cc = walk_obj(&c->w, d, "diagnosisCodeableConcept");

		if (cc == NULL) {
			json_t *cond = walk_resolve(&c->w, walk_str(&c->w, d,
			    "diagnosisReference.reference"));

			cc = cond ? walk_obj(&c->w, cond, "code") : NULL;
		}
		if ((cd = pick_coding(c, cc, NULL)) == NULL ||
		    !walk_coding(&c->w, cd, code, sizeof(code)))
			continue;
		if (json_array_size(list) == 32) {
			note(c, FHIR_NOTE_DIAGNOSES_CUT);
			break;
		}
		json_array_append_new(list, json_string(code));
	}
	return list;
}

/* A CIP13 pack code: 13 digits from 34009, in the ANS CIP/UCD
 * terminology (or the CIP OIDs); a UCD, also 13 digits, is not one. */
static bool
is_cip13(const char *sys, const char *code)
{
	static const char *const systems[] = {CIP_SYSTEM,
		"urn:oid:1.2.250.1.213.2.3.1", "urn:oid:1.2.250.1.213.2.3.2",
		"http://data.esante.gouv.fr/ansm/medicament/codeCIP13", NULL};
	const char *const *s;

	if (sys == NULL || code == NULL || strlen(code) != 13 ||
	    strspn(code, "0123456789") != 13 || strncmp(code, "34009", 5) != 0)
		return false;
	for (s = systems; *s; s++)
		if (strcmp(sys, *s) == 0)
			return true;
	return false;
}

/* An item's productOrService (STU3: service). */
static json_t *
product(struct ctx *c, json_t *item)
{
	return walk_obj(&c->w, item, c->stu3 ? "service" : "productOrService");
}

/* The code of an item: its product unless absent, else an HCPCS
 * modifier, else the revenue centre. */
static json_t *
item_code(struct ctx *c, json_t *item)
{
	json_t *cd = pick_coding(c, product(c, item), NULL), *m, *x;
	size_t i, k;

	if (cd != NULL)
		return cd;
	json_array_foreach(walk_arr(&c->w, item, "modifier"), i, m)
		json_array_foreach(walk_arr(&c->w, m, "coding"), k, x) {
			const char *sys = walk_str(&c->w, x, "system");

			if (sys && strstr(sys, HCPCS_MARK) && walk_str(&c->w, x,
			    "code"))
				return x;
		}
	return pick_coding(c, walk_obj(&c->w, item, "revenue"), NULL);
}

static bool
has_amount(json_t *obj)
{
	static const char *const keys[] = {"amount_eur", "reimbursed_eur",
		"patient_paid", "mutual_eur", "claim_charged", "claim_paid", NULL};
	const char *const *k;

	for (k = keys; *k; k++)
		if (json_object_get(obj, *k) != NULL)
			return true;
	return false;
}

/* One item of a claim: base holds what every item shares (the claim's
 * date, totals, kind, diagnoses), rx says a pharmacy claim. */
static int
map_eob_item(struct ctx *c, json_t *r, json_t *item, size_t i,
    const char *user, json_t *base, bool rx)
{
	json_t *obj = json_deep_copy(base), *cd, *adj;
	struct amounts a = {0};
	const char *prec, *code, *sys, *label, *role = NULL, *who_s, *cur;
	char ref[RECORD_REF_MAX_BYTES + 1], pbuf[160];
	int64_t t;
	size_t k;

	snprintf(c->w.elem, sizeof(c->w.elem), "item[%zu]", i);
	if (make_ref(c, r, i + 1, ref, sizeof(ref)) != 0)
		goto out;
	json_object_set_new(obj, "user", json_string(user));
	json_object_set_new(obj, "ref", json_string(ref));
	if (walk_date(&c->w, item, "servicedDate", &t, &prec) ||
	    walk_date(&c->w, item, "servicedPeriod.start", &t, &prec))
		put_time(obj, t, prec);
	if (json_object_get(obj, "time") == NULL && c->w.rc == 0) {
		walk_fail(&c->w, CARNET_E_MALFORMED, "servicedDate: no date "
		    "for the item nor the claim (billablePeriod, created)");
		goto out;
	}
	json_array_foreach(walk_arr(&c->w, item, "adjudication"), k, adj) {
		snprintf(c->w.elem, sizeof(c->w.elem), "item[%zu].adjudication"
		    "[%zu]", i, k);
		amounts_add(c, &a, adj);
	}
	snprintf(c->w.elem, sizeof(c->w.elem), "item[%zu]", i);
	if (!amounts_put(c, &a, obj, "amount_eur", AMOUNT_CHARGE))
		note(c, FHIR_NOTE_NO_CHARGE);
	if (!amounts_put(c, &a, obj, "reimbursed_eur", AMOUNT_PAID))
		note(c, FHIR_NOTE_NO_PAID);
	amounts_put(c, &a, obj, "patient_paid", AMOUNT_PATIENT);
	amounts_put(c, &a, obj, "mutual_eur", AMOUNT_MUTUAL);
	cd = item_code(c, item);
	code = cd ? walk_str(&c->w, cd, "code") : NULL;
	sys = cd ? walk_str(&c->w, cd, "system") : NULL;
	label = cd ? walk_str(&c->w, cd, "display") : NULL;
	if (label == NULL)
		label = walk_str(&c->w, product(c, item), "text");
	if (code == NULL) {
		walk_fail(&c->w, CARNET_E_MALFORMED, "productOrService: no "
		    "code (nor an HCPCS modifier or a revenue centre)");
		goto out;
	}
	/* the line's currency, else the claim's; amounts without a currency
	 * field are in euros (claim.def); a line without amounts has none */
	cur = a.currency ? a.currency : json_string_value(json_object_get(obj,
	    "currency"));
	if (cur == NULL || strcmp(cur, "EUR") == 0 || !has_amount(obj))
		json_object_del(obj, "currency");
	else
		json_object_set_new(obj, "currency", json_string(cur));
	put_num(obj, "quantity", walk_num(&c->w, item, "quantity.value"));
	who_s = provider_of(c, r, item, rx, &role, pbuf, sizeof(pbuf));
	if (rx) {
		json_t *atc = pick_coding(c, product(c, item), ATC_SYSTEM);
		const char *atc_sys = atc ? walk_str(&c->w, atc, "system") : NULL;

		if (is_cip13(sys, code))
			walk_set_text(obj, "cip13", code);
		else {
			put_label(c, obj, "drug_code", code, 32);
			walk_set_text(obj, "drug_system", sys);
		}
		/* an ATC class beside the drug's own code (pick_coding falls
		 * back to the first coding: only one of ATC's system counts) */
		if (atc != cd && atc_sys != NULL && strcmp(atc_sys, ATC_SYSTEM) == 0)
			walk_set_text(obj, "atc", walk_str(&c->w, atc, "code"));
		put_label(c, obj, "drug", label ? label : code, 160);
		if (json_object_get(obj, "quantity") == NULL)
			json_object_set_new(obj, "quantity", json_real(1));
		/* the prescriber: CARIN's "prescribing" member, or Blue
		 * Button's PDE "primary" one (prscrbr_id); a roleless member,
		 * or the pharmacy, is not named one */
		if (who_s && role && (strcmp(role, "prescribing") == 0 ||
		    strcmp(role, "primary") == 0))
			put_label(c, obj, "prescriber", who_s, 160);
		return emit(c, "dispense", obj);
	}
	put_label(c, obj, "act_code", code, 32);
	walk_set_text(obj, "act_system", sys);
	put_label(c, obj, "label", label ? label : code, 160);
	walk_set_text(obj, "revenue_code", walk_str(&c->w, item,
	    "revenue.coding.0.code"));
	if (who_s != NULL) {
		put_label(c, obj, "provider", who_s, 160);
		walk_set_text(obj, "provider_role", role);
	}
	return emit(c, "claim", obj);
out:
	json_decref(obj);
	return c->w.rc;
}

static int
map_eob(struct ctx *c, json_t *r)
{
	json_t *items = walk_arr(&c->w, r, "item"), *base, *tot, *item, *dx;
	struct amounts a = {0};
	const char *user, *kind, *prec = NULL;
	char kbuf[32];
	int64_t t;
	bool rx;
	size_t i;

	if (who(c, r, "patient", &user) != 0 || user == NULL)
		return c->w.rc;
	if (items == NULL || json_array_size(items) == 0)
		return walk_fail(&c->w, CARNET_E_MALFORMED, "item: none (a "
		    "claim's acts are its items)");
	kind = claim_kind(c, walk_obj(&c->w, r, "type"), kbuf, sizeof(kbuf),
	    &rx);
	base = json_object();
	if (walk_date(&c->w, r, "billablePeriod.start", &t, &prec) ||
	    walk_date(&c->w, r, "created", &t, &prec))
		put_time(base, t, prec);
	json_array_foreach(walk_arr(&c->w, r, "total"), i, tot) {
		snprintf(c->w.elem, sizeof(c->w.elem), "total[%zu]", i);
		if (terms_amount_role(walk_obj(&c->w, tot, "category")) ==
		    AMOUNT_UNKNOWN && walk_num(&c->w, tot, "amount.value"))
			note(c, FHIR_NOTE_TOTAL_NO_CATEGORY);
		amounts_add(c, &a, tot);
	}
	c->w.elem[0] = '\0';
	if (walk_num(&c->w, r, "payment.amount.value") != NULL) {
		a.v[AMOUNT_PAID] = json_number_value(walk_num(&c->w, r,
		    "payment.amount.value"));
		a.n[AMOUNT_PAID] = 1;
		a.ambiguous[AMOUNT_PAID] = false;
	}
	amounts_put(c, &a, base, "claim_charged", AMOUNT_CHARGE);
	amounts_put(c, &a, base, "claim_paid", AMOUNT_PAID);
	walk_set_text(base, "currency", a.currency ? a.currency : c->im->currency);
	/* the claim's id at its holder (in carnet's export, a field) */
	if (identifier(c, r, CARNET_HOLDER_REF) == NULL)
		walk_set_text(base, "claim_id", walk_str(&c->w, r, "id"));
	if (!rx) {
		json_object_set_new(base, "practitioner", json_string(kind));
		if (strcmp(kind, "inpatient") == 0 || strcmp(kind,
		    "outpatient") == 0 || strcmp(kind, "snf") == 0 ||
		    strcmp(kind, "institutional") == 0)
			walk_set_text(base, "care_kind", "hospital");
		dx = diagnoses(c, r);
		if (json_array_size(dx) > 0)
			json_object_set(base, "diagnoses", dx);
		json_decref(dx);
	}
	json_array_foreach(items, i, item)
		if (map_eob_item(c, r, item, i, user, base, rx) != 0)
			break;
	c->w.elem[0] = '\0';
	json_decref(base);
	return c->w.rc;
}

/* ------------------------------------------------------------------ */
/* Patient, Coverage */

/* When a resource without a date of its own was last known true. */
static int64_t
updated(struct ctx *c, json_t *r)
{
	const char *prec;
	int64_t t;

	return walk_date(&c->w, r, "meta.lastUpdated", &t, &prec) ? t :
	    c->im->now;
}

static int
map_patient(struct ctx *c, json_t *r)
{
	const char *user, *birth, *contact, *given;
	char name[160], ref[RECORD_REF_MAX_BYTES + 1];
	json_t *obj;
	int64_t t;

	user = enrolled_patient(c, r);
	if (c->w.rc != 0 || user == NULL)
		return c->w.rc;
	if ((birth = walk_str(&c->w, r, "birthDate")) == NULL) {
		note(c, FHIR_NOTE_NO_BIRTH);
		return c->w.rc;
	}
	if (walk_date(&c->w, r, "birthDate", &t, &(const char *){NULL}) == 0)
		return c->w.rc;
	if (make_ref(c, r, 0, ref, sizeof(ref)) != 0)
		return c->w.rc;
	contact = walk_first_str(&c->w, r, (const char *const[]){
	    "contact.0.name.text", "contact.0.telecom.0.value", NULL});
	/* dated when last known true, not at birth: a consent "since 2016"
	 * must still deliver it */
	obj = json_pack("{s:s, s:s, s:I, s:i, s:s, s:s, s:[], s:[], s:[], s:s}",
	    "user", user, "ref", ref, "time", (json_int_t)updated(c, r),
	    "birth_year", atoi(birth), "sex", walk_str(&c->w, r, "gender") ?
	    walk_str(&c->w, r, "gender") : "unknown", "blood_group", "unknown",
	    "allergies", "conditions", "treatments", "emergency_contact",
	    contact ? contact : "unknown");
	if ((given = human_name(c, walk_arr(&c->w, r, "name"), name,
	    sizeof(name))) != NULL)
		put_label(c, obj, "name", given, 160);
	return emit(c, "profile", obj);
}

static int
map_coverage(struct ctx *c, json_t *r)
{
	const char *user, *plan = NULL, *group = NULL, *start, *end, *prec;
	char ref[RECORD_REF_MAX_BYTES + 1], pbuf[160];
	json_t *obj, *cl;
	int64_t t;
	size_t i;

	if (who(c, r, "beneficiary", &user) != 0 || user == NULL)
		return c->w.rc;
	json_array_foreach(walk_arr(&c->w, r, "class"), i, cl) {
		const char *ty = walk_str(&c->w, cl, "type.coding.0.code");

		if (ty && strcmp(ty, "subplan") == 0)
			plan = walk_str(&c->w, cl, "value");
		else if (ty && strcmp(ty, "plan") == 0 && plan == NULL)
			plan = walk_str(&c->w, cl, "value");
		else if (ty && strcmp(ty, "subgroup") == 0)
			group = walk_str(&c->w, cl, "value");
		else if (ty && strcmp(ty, "group") == 0 && group == NULL)
			group = walk_str(&c->w, cl, "value");
	}
	if (plan == NULL)
		plan = walk_first_str(&c->w, r, (const char *const[]){
		    "type.text", "type.coding.0.display", "type.coding.0.code",
		    NULL});
	if (c->w.rc == 0 && (plan == NULL || walk_str(&c->w, r, "status") ==
	    NULL))
		return walk_fail(&c->w, CARNET_E_MALFORMED, "class, type, "
		    "status: a Coverage needs a plan and a status");
	if (make_ref(c, r, 0, ref, sizeof(ref)) != 0)
		return c->w.rc;
	/* a Coverage without a period is dated when it was last known, not
	 * 1970 */
	if (!walk_date(&c->w, r, "period.start", &t, &prec)) {
		t = updated(c, r);
		prec = NULL;
	}
	obj = json_pack("{s:s, s:s, s:s}", "user", user, "ref", ref,
	    "status", walk_str(&c->w, r, "status"));
	put_label(c, obj, "plan", plan, 80);
	json_object_set_new(obj, "time", json_integer(t));
	walk_set_text(obj, "payer", party_name(c, walk_at(r, "payor.0"), pbuf,
	    sizeof(pbuf)));
	walk_set_text(obj, "group", group);
	if ((start = walk_str(&c->w, r, "period.start")) != NULL)
		json_object_set_new(obj, "period_start", json_stringn(start,
		    strlen(start) < 10 ? strlen(start) : 10));
	if ((end = walk_str(&c->w, r, "period.end")) != NULL)
		json_object_set_new(obj, "period_end", json_stringn(end,
		    strlen(end) < 10 ? strlen(end) : 10));
	return emit(c, "coverage", obj);
}

/* ------------------------------------------------------------------ */
/* Observation */

static double
round_sig(double v)
{
	char b[40];

	snprintf(b, sizeof(b), "%.12g", v);
	return strtod(b, NULL);
}

/* A Quantity in a kind's unit: the number, converted where UCUM defines
 * it; an error naming the unit otherwise. */
static bool
vital_value(struct ctx *c, json_t *q, const struct vital *k, double *out,
    double *period_min)
{
	json_t *v = walk_num(&c->w, q, "value");
	const char *sys = walk_str(&c->w, q, "system");
	const char *code = walk_str(&c->w, q, "code");
	const char *unit = walk_str(&c->w, q, "unit"), *accepted = "";

	if (v == NULL)
		return false;
	/* a unit in words only counts when it is spelt as a UCUM code */
	if (code == NULL && sys == NULL)
		code = unit;
	if (code == NULL || (sys != NULL && strcmp(sys, UCUM_SYSTEM) != 0)) {
		walk_fail(&c->w, CARNET_E_BAD_VALUE, "code: unit \"%.30s\" is "
		    "not a UCUM code: a %s reading is refused rather than "
		    "guessed", code ? code : unit ? unit : "(none)", k->kind);
		return false;
	}
	if (!terms_convert(k, code, json_number_value(v), out, &accepted,
	    period_min)) {
		walk_fail(&c->w, CARNET_E_BAD_VALUE, "code: %.30s is a unit %s "
		    "cannot take: carnet converts exactly only %s; refused",
		    code, k->kind, accepted);
		return false;
	}
	if (strcmp(code, k->unit) != 0 && *period_min == 0)
		note(c, FHIR_NOTE_CONVERTED);
	*out = round_sig(*out);
	return true;
}

/* The value of an Observation or component into obj: a Quantity (value,
 * unit), a code, a text; false when it has none. */
static bool
obs_value(struct ctx *c, json_t *o, json_t *obj, const struct vital *k)
{
	json_t *q = walk_obj(&c->w, o, "valueQuantity"), *cd;
	const char *s;
	char code[140], elem[sizeof(c->w.elem)];

	if (q != NULL && walk_num(&c->w, o, "valueQuantity.value") != NULL) {
		double v, period = 0;
		bool ok = true;

		/* errors inside name the element: component[1].valueQuantity */
		memcpy(elem, c->w.elem, sizeof(elem));
		snprintf(c->w.elem, sizeof(c->w.elem), "%.48s%svalueQuantity", elem,
		    elem[0] ? "." : "");
		if (k != NULL && k->unit != NULL) {
			if ((ok = vital_value(c, q, k, &v, &period)))
				json_object_set_new(obj, "value", json_real(v));
			if (ok && period > 0)
				json_object_set_new(obj, "period_min",
				    json_real(period));
		} else {
			put_num(obj, "value", walk_num(&c->w, q, "value"));
			walk_set_text(obj, "unit", walk_first_str(&c->w, q,
			    (const char *const[]){"code", "unit", NULL}));
		}
		if (c->w.rc == 0)
			memcpy(c->w.elem, elem, sizeof(elem));
		return ok && c->w.rc == 0;
	}
	if ((cd = pick_coding(c, walk_obj(&c->w, o, "valueCodeableConcept"),
	    NULL)) != NULL && walk_coding(&c->w, cd, code, sizeof(code))) {
		put_label(c, obj, "value_code", code, 140);
		if ((s = cc_text(c, walk_obj(&c->w, o, "valueCodeableConcept"),
		    cd)) != NULL)
			put_label(c, obj, "value_text", s, 160);
		return true;
	}
	if ((s = walk_str(&c->w, o, "valueString")) != NULL) {
		put_label(c, obj, "value_text", s, 160);
		return true;
	}
	if (json_is_boolean(walk_at(o, "valueBoolean"))) {
		walk_set_text(obj, "value_text", json_is_true(walk_at(o,
		    "valueBoolean")) ? "true" : "false");
		return true;
	}
	if (walk_num(&c->w, o, "valueInteger") != NULL) {
		put_num(obj, "value", walk_num(&c->w, o, "valueInteger"));
		return true;
	}
	return false;
}

/* Components as kind|value|unit, in the kind's unit when it has one. */
static bool
obs_components(struct ctx *c, json_t *r, json_t *obj)
{
	json_t *list = json_array(), *cp;
	size_t i;

	json_array_foreach(walk_arr(&c->w, r, "component"), i, cp) {
		json_t *cd = pick_coding(c, walk_obj(&c->w, cp, "code"),
		    LOINC_SYSTEM);
		const char *code = cd ? walk_str(&c->w, cd, "code") : NULL;
		const char *sys = cd ? walk_system(&c->w, cd) : NULL;
		bool own = sys != NULL && strcmp(sys, CARNET_KIND) == 0;
		const struct vital *k = own ? terms_vital_of_kind(code) :
		    terms_vital(code);
		json_t *v = json_object();
		/* both larger than an item may be: a cut item is refused by
		 * the schema, not stored cut */
		char item[192], kname[96];

		snprintf(c->w.elem, sizeof(c->w.elem), "component[%zu]", i);
		if (code == NULL || !obs_value(c, cp, v, k) ||
		    !json_is_number(json_object_get(v, "value"))) {
			json_decref(v);
			if (c->w.rc == 0)
				walk_fail(&c->w, CARNET_E_MALFORMED, "a component "
				    "needs a code and a numeric valueQuantity");
			break;
		}
		if ((k != NULL && k->unit != NULL) || own)
			snprintf(kname, sizeof(kname), "%s", own ? code : k->kind);
		else if (sys != NULL && strcmp(sys, LOINC_SYSTEM) == 0)
			snprintf(kname, sizeof(kname), "loinc:%s", code);
		else {
			/* kind|value|unit has no room for a system: the code
			 * stays, not called LOINC, and the report says so */
			snprintf(kname, sizeof(kname), "code:%s", code);
			note(c, FHIR_NOTE_COMPONENT_SYSTEM);
		}
		snprintf(item, sizeof(item), "%s|%.12g|%s", kname,
		    json_number_value(json_object_get(v, "value")),
		    k && k->unit ? k->unit : json_string_value(json_object_get(v,
		    "unit")) ? json_string_value(json_object_get(v, "unit")) : "");
		json_array_append_new(list, json_string(item));
		json_decref(v);
	}
	c->w.elem[0] = '\0';
	if (c->w.rc != 0 || json_array_size(list) == 0) {
		json_decref(list);
		return false;
	}
	json_object_set_new(obj, "components", list);
	return true;
}

/* An environment reading of carnet's export (a context record). */
static int
map_context(struct ctx *c, json_t *r, const char *user, const char *ref,
    int64_t t, const char *kind)
{
	json_t *obj = json_pack("{s:s, s:s, s:I}", "user", user, "ref", ref,
	    "time", (json_int_t)t);
	char pb[160];

	put_label(c, obj, "kind", kind, 32);
	put_num(obj, "value", walk_num(&c->w, r, "valueQuantity.value"));
	walk_set_text(obj, "source", party_name(c, walk_at(r, "performer.0"), pb,
	    sizeof(pb)));
	return emit(c, "context", obj);
}

static int
map_observation(struct ctx *c, json_t *r)
{
	json_t *cd, *cat, *obj, *range;
	const char *user, *code, *sys, *label, *prec = NULL, *status, *s;
	const struct vital *k;
	char ref[RECORD_REF_MAX_BYTES + 1], kind[48];
	bool lab = false, has;
	int64_t t;
	size_t i;

	if (who(c, r, "subject", &user) != 0 || user == NULL)
		return c->w.rc;
	if ((status = walk_str(&c->w, r, "status")) != NULL &&
	    strcmp(status, "entered-in-error") == 0) {
		note(c, FHIR_NOTE_ERROR_ENTERED);
		return 0;
	}
	cd = pick_coding(c, walk_obj(&c->w, r, "code"), LOINC_SYSTEM);
	if (c->w.rc == 0 && cd == NULL)
		return walk_fail(&c->w, CARNET_E_MALFORMED, "code: no coding "
		    "with a code");
	code = walk_str(&c->w, cd, "code");
	sys = walk_system(&c->w, cd);
	label = cc_text(c, walk_obj(&c->w, r, "code"), cd);
	if (!walk_date(&c->w, r, "effectiveDateTime", &t, &prec) &&
	    !walk_date(&c->w, r, "effectivePeriod.start", &t, &prec) &&
	    !walk_date(&c->w, r, "effectiveInstant", &t, &prec) &&
	    !walk_date(&c->w, r, "issued", &t, &prec) && c->w.rc == 0)
		return walk_fail(&c->w, CARNET_E_MALFORMED, "effective[x]: no "
		    "date (effectiveDateTime, effectivePeriod, issued)");
	if (make_ref(c, r, 0, ref, sizeof(ref)) != 0)
		return c->w.rc;
	if (sys != NULL && strcmp(sys, CARNET_CONTEXT) == 0)
		return map_context(c, r, user, ref, t, code);
	json_array_foreach(walk_arr(&c->w, r, "category"), i, cat) {
		json_t *x;
		size_t j;

		json_array_foreach(walk_arr(&c->w, cat, "coding"), j, x)
			lab = lab || ((s = walk_str(&c->w, x, "code")) != NULL &&
			    strcmp(s, "laboratory") == 0);
	}
	obj = json_pack("{s:s, s:s}", "user", user, "ref", ref);
	put_time(obj, t, prec);
	if (lab) {
		if (sys == NULL || strcmp(sys, LOINC_SYSTEM) != 0) {
			json_decref(obj);
			note(c, FHIR_NOTE_LAB_NO_LOINC);
			return c->w.rc;
		}
		put_label(c, obj, "loinc", code, 16);
		put_label(c, obj, "label", label ? label : code, 160);
		has = obs_value(c, r, obj, NULL);
		range = walk_obj(&c->w, r, "referenceRange.0");
		put_num(obj, "ref_low", walk_num(&c->w, range, "low.value"));
		put_num(obj, "ref_high", walk_num(&c->w, range, "high.value"));
		walk_set_text(obj, "interpretation", walk_str(&c->w, r,
		    "interpretation.0.coding.0.code"));
		{
			char pb[160];
			json_t *perf = walk_at(r, "performer.0");

			if (perf != NULL)
				walk_set_text(obj, "lab", party_name(c, perf, pb,
				    sizeof(pb)));
		}
		if (!has) {
			json_decref(obj);
			note(c, FHIR_NOTE_NO_VALUE);
			return c->w.rc;
		}
		return emit(c, "lab_result", obj);
	}
	/* the code whole: one longer than a kind holds is refused by the
	 * schema, naming the entry, never cut (kind[] is larger than it) */
	k = sys && strcmp(sys, LOINC_SYSTEM) == 0 ? terms_vital(code) : NULL;
	if (k != NULL)
		snprintf(kind, sizeof(kind), "%s", k->kind);
	else if (sys && strcmp(sys, CARNET_KIND) == 0) /* carnet's export */
		snprintf(kind, sizeof(kind), "%s", code);
	else if (sys && strcmp(sys, LOINC_SYSTEM) == 0)
		snprintf(kind, sizeof(kind), "loinc:%s", code);
	else {
		snprintf(kind, sizeof(kind), "code:%s", code ? code : "");
		walk_set_text(obj, "system", sys);
	}
	json_object_set_new(obj, "kind", json_string(kind));
	if (label)
		put_label(c, obj, "label", label, 160);
	walk_set_text(obj, "device", walk_str(&c->w, r, "device.display"));
	has = obs_value(c, r, obj, k);
	if (!has && c->w.rc == 0 && walk_arr(&c->w, r, "component") != NULL)
		has = obs_components(c, r, obj);
	if (!has) {
		json_decref(obj);
		if (c->w.rc == 0)
			note(c, FHIR_NOTE_NO_VALUE);
		return c->w.rc;
	}
	return emit(c, "observation", obj);
}

/* ------------------------------------------------------------------ */
/* Condition, AllergyIntolerance, Immunization */

/* The time of a clinical fact: the first of paths that holds a date,
 * else when it was last updated. */
static void
clinical_time(struct ctx *c, json_t *r, json_t *obj,
    const char *const *paths)
{
	const char *prec = NULL;
	int64_t t;

	for (; *paths; paths++)
		if (walk_date(&c->w, r, *paths, &t, &prec)) {
			put_time(obj, t, prec);
			return;
		}
	put_time(obj, updated(c, r), NULL);
}

/* The coded part shared by the clinical kinds: code, system, label. */
static json_t *
clinical_base(struct ctx *c, json_t *r, const char *subject,
    const char *code_path, const char *code_key, bool code_required)
{
	json_t *cc = walk_obj(&c->w, r, code_path), *cd, *obj;
	const char *user, *label, *verif = status_code(c, r,
	    "verificationStatus");
	char ref[RECORD_REF_MAX_BYTES + 1];

	if (who(c, r, subject, &user) != 0 || user == NULL)
		return NULL;
	if (verif && strcmp(verif, "entered-in-error") == 0) {
		note(c, FHIR_NOTE_ERROR_ENTERED);
		return NULL;
	}
	cd = pick_coding(c, cc, NULL);
	label = cc_text(c, cc, cd);
	if (c->w.rc == 0 && ((cd == NULL && code_required) || (cd == NULL &&
	    label == NULL))) {
		walk_fail(&c->w, CARNET_E_MALFORMED, "%s: no code", code_path);
		return NULL;
	}
	if (make_ref(c, r, 0, ref, sizeof(ref)) != 0)
		return NULL;
	obj = json_pack("{s:s, s:s}", "user", user, "ref", ref);
	if (cd != NULL) {
		put_label(c, obj, code_key, walk_str(&c->w, cd, "code"), 32);
		walk_set_text(obj, "system", walk_system(&c->w, cd) ?
		    walk_system(&c->w, cd) : "unknown");
	}
	put_label(c, obj, "label", label ? label : walk_str(&c->w, cd, "code"),
	    160);
	walk_set_text(obj, "clinical_status", status_code(c, r, "clinicalStatus"));
	walk_set_text(obj, "verification", verif);
	return obj;
}

static int
map_condition(struct ctx *c, json_t *r)
{
	json_t *obj = clinical_base(c, r, "subject", "code", "code", true);

	if (obj == NULL)
		return c->w.rc;
	walk_set_text(obj, "category", walk_str(&c->w, r,
	    "category.0.coding.0.code"));
	walk_set_text(obj, "onset", walk_first_str(&c->w, r, (const char *const[]){
	    "onsetDateTime", "onsetPeriod.start", "onsetString", NULL}));
	walk_set_text(obj, "abatement", walk_first_str(&c->w, r, (const char *const[])
	    {"abatementDateTime", "abatementPeriod.start", "abatementString",
	    NULL}));
	clinical_time(c, r, obj, (const char *const[]){"recordedDate",
	    "assertedDate", "onsetDateTime", "onsetPeriod.start", NULL});
	return emit(c, "condition", obj);
}

static int
map_allergy(struct ctx *c, json_t *r)
{
	json_t *obj = clinical_base(c, r, "patient", "code", "code", false);
	json_t *re, *m, *list;
	size_t i, k;

	if (obj == NULL)
		return c->w.rc;
	walk_set_text(obj, "category", walk_str(&c->w, r, "category.0"));
	walk_set_text(obj, "criticality", walk_str(&c->w, r, "criticality"));
	list = json_array();
	json_array_foreach(walk_arr(&c->w, r, "reaction"), i, re)
		json_array_foreach(walk_arr(&c->w, re, "manifestation"), k, m) {
			const char *t = cc_text(c, m, pick_coding(c, m, NULL));

			if (t != NULL && json_array_size(list) < 32)
				json_array_append_new(list, json_stringn(t,
				    cut_len(c, t, 80)));
		}
	if (json_array_size(list) > 0)
		json_object_set(obj, "reactions", list);
	json_decref(list);
	clinical_time(c, r, obj, (const char *const[]){"recordedDate",
	    "assertedDate", "onsetDateTime", "onsetPeriod.start", NULL});
	return emit(c, "allergy", obj);
}

static int
map_immunization(struct ctx *c, json_t *r)
{
	json_t *obj = clinical_base(c, r, "patient", "vaccineCode",
	    "vaccine_code", true), *dose;
	char pb[160];

	if (obj == NULL)
		return c->w.rc;
	walk_set_text(obj, "status", walk_str(&c->w, r, "status"));
	walk_set_text(obj, "lot", walk_str(&c->w, r, "lotNumber"));
	if ((dose = walk_at(r, "protocolApplied.0.doseNumberPositiveInt")) !=
	    NULL && json_is_integer(dose)) {
		char d[16];

		snprintf(d, sizeof(d), "%lld", (long long)json_integer_value(dose));
		walk_set_text(obj, "dose", d);
	} else {
		walk_set_text(obj, "dose", walk_str(&c->w, r,
		    "protocolApplied.0.doseNumberString"));
	}
	walk_set_text(obj, "performer", party_name(c, walk_obj(&c->w, r,
	    "performer.0.actor"), pb, sizeof(pb)));
	if (json_object_get(obj, "status") == NULL && c->w.rc == 0) {
		json_decref(obj);
		return walk_fail(&c->w, CARNET_E_MALFORMED, "status: an "
		    "Immunization needs one");
	}
	clinical_time(c, r, obj, (const char *const[]){"occurrenceDateTime",
	    "date", "recorded", NULL});
	if (strcmp(json_string_value(json_object_get(obj, "status")),
	    "entered-in-error") == 0) {
		json_decref(obj);
		note(c, FHIR_NOTE_ERROR_ENTERED);
		return 0;
	}
	return emit(c, "immunization", obj);
}

/* ------------------------------------------------------------------ */
/* Documents */

/* What an OperationOutcome says went wrong. */
static const char *
outcome_text(struct ctx *c, json_t *r)
{
	const char *t = walk_first_str(&c->w, r, (const char *const[]){
	    "issue.0.diagnostics", "issue.0.details.text", "issue.0.code",
	    NULL});

	return t != NULL ? t : "no diagnostics";
}

/* The STU3 shape of Blue Button v1: items name a service, care team
 * links, the pre-R4 claim-type system. */
static bool
looks_stu3(json_t *r)
{
	json_t *item = walk_at(r, "item.0");
	json_t *sys = walk_at(r, "type.coding");
	json_t *cd;
	size_t i;

	if (json_object_get(item, "service") || json_object_get(item,
	    "careTeamLinkId") || json_object_get(item, "diagnosisLinkId"))
		return true;
	json_array_foreach(sys, i, cd)
		if (json_is_string(json_object_get(cd, "system")) &&
		    strcmp(json_string_value(json_object_get(cd, "system")),
		    "http://hl7.org/fhir/ex-claimtype") == 0)
			return true;
	return false;
}

static const struct {
	const char *kind;
	int (*map)(struct ctx *, json_t *);
} mappers[] = {
	{"ExplanationOfBenefit", map_eob},
	{"Patient", map_patient},
	{"Coverage", map_coverage},
	{"Observation", map_observation},
	{"Condition", map_condition},
	{"AllergyIntolerance", map_allergy},
	{"Immunization", map_immunization},
};

bool
fhir_kind_held(const char *kind)
{
	size_t i;

	for (i = 0; i < sizeof(mappers) / sizeof(mappers[0]); i++)
		if (strcmp(kind, mappers[i].kind) == 0)
			return true;
	return false;
}

static int
map_resource(struct ctx *c, json_t *r, bool top)
{
	const char *kind = json_is_object(r) ? walk_str(&c->w, r,
	    "resourceType") : NULL;
	unsigned before;
	size_t i;

	if (c->w.rc != 0)
		return c->w.rc;
	if (kind == NULL)
		return walk_fail(&c->w, CARNET_E_MALFORMED, "not a FHIR "
		    "resource (no resourceType)");
	c->w.res = r;
	c->w.elem[0] = '\0';
	c->kind = kind_count(c->im, kind);
	c->kind->seen++;
	/* a server's error report where data was expected: say so, store
	 * nothing (in a Bundle it may be a search's warning: skipped) */
	if (strcmp(kind, "OperationOutcome") == 0 && top)
		return walk_fail(&c->w, CARNET_E_BAD_VALUE, "an "
		    "OperationOutcome, the FHIR server's report of an error, "
		    "not data: %.20s: %.160s", walk_str(&c->w, r,
		    "issue.0.severity") ? walk_str(&c->w, r, "issue.0.severity") :
		    "?", outcome_text(c, r));
	for (i = 0; i < sizeof(mappers) / sizeof(mappers[0]); i++)
		if (strcmp(kind, mappers[i].kind) == 0) {
			bool was = c->stu3;

			before = c->im->n;
			c->stu3 = was || looks_stu3(r);
			mappers[i].map(c, r);
			c->stu3 = was;
			if (c->w.rc == 0 && c->im->n > before)
				c->kind->mapped++;
			return c->w.rc;
		}
	note(c, FHIR_NOTE_NOT_HELD);
	return 0;
}

/* Index a Bundle's entries by fullUrl and Type/id, then map each. */
static int
map_bundle(struct ctx *c, json_t *b)
{
	json_t *entries = walk_arr(&c->w, b, "entry"), *e, *res;
	const char *url, *kind, *id;
	char key[200];
	size_t i;

	json_array_foreach(entries, i, e) {
		res = json_object_get(e, "resource");
		url = json_string_value(json_object_get(e, "fullUrl"));
		kind = json_string_value(json_object_get(res, "resourceType"));
		id = json_string_value(json_object_get(res, "id"));
		if (url != NULL)
			walk_index(&c->w, url, res);
		if (kind != NULL && id != NULL) {
			snprintf(key, sizeof(key), "%s/%s", kind, id);
			walk_index(&c->w, key, res);
		}
	}
	json_array_foreach(entries, i, e) {
		res = json_object_get(e, "resource");
		c->entry = (unsigned)i + 1;
		snprintf(c->w.where, sizeof(c->w.where), "entry %zu (%.24s "
		    "%.64s)", i + 1, json_string_value(json_object_get(res,
		    "resourceType")) ? json_string_value(json_object_get(res,
		    "resourceType")) : "?", json_string_value(json_object_get(res,
		    "id")) ? json_string_value(json_object_get(res, "id")) : "?");
		if (json_is_object(e) && res == NULL && json_is_string(walk_at(e,
		    "request.method")))
			/* a transaction's DELETE (or a conditional request):
			 * a holder takes back nothing through an import */
			return walk_fail(&c->w, CARNET_E_MALFORMED, "a %.8s "
			    "request without a resource (%.64s): carnet imports "
			    "resources, it does not delete or patch records",
			    json_string_value(walk_at(e, "request.method")),
			    json_is_string(walk_at(e, "request.url")) ?
			    json_string_value(walk_at(e, "request.url")) : "");
		if (!json_is_object(e) || res == NULL)
			return walk_fail(&c->w, CARNET_E_MALFORMED, "an entry "
			    "without a resource");
		if (json_is_string(json_object_get(res, "resourceType")) &&
		    strcmp(json_string_value(json_object_get(res,
		    "resourceType")), "Bundle") == 0)
			return walk_fail(&c->w, CARNET_E_MALFORMED, "a Bundle "
			    "inside a Bundle");
		if (map_resource(c, res, false) != 0)
			return c->w.rc;
	}
	return c->w.rc;
}

void
fhir_import_init(struct fhir_import *im, fhir_enrolled_fn *enrolled,
    const void *arg, const char *currency)
{
	memset(im, 0, sizeof(*im));
	im->enrolled = enrolled;
	im->enrolled_arg = arg;
	im->currency = currency;
	im->now = time_now_ms() / 1000;
	msgpack_sbuffer_init(&im->recs);
}

void
fhir_import_release(struct fhir_import *im)
{
	msgpack_sbuffer_destroy(&im->recs);
	free(im->entry_of);
	im->entry_of = NULL;
}

int
fhir_import_doc(struct fhir_import *im, json_t *doc, struct cerr *err)
{
	struct fhir_import saved = *im;
	struct ctx c;
	const char *kind;
	int rc;

	memset(&c, 0, sizeof(c));
	c.im = im;
	c.w.err = err;
	c.w.index = json_object();
	kind = json_string_value(json_object_get(doc, "resourceType"));
	snprintf(c.w.where, sizeof(c.w.where), "%.24s %.64s", kind ? kind :
	    "document", json_string_value(json_object_get(doc, "id")) ?
	    json_string_value(json_object_get(doc, "id")) : "");
	if (kind != NULL && strcmp(kind, "Bundle") == 0) {
		c.stu3 = false;
		c.kind = kind_count(im, "Bundle");
		c.kind->seen++;
		rc = map_bundle(&c, doc);
	} else {
		rc = map_resource(&c, doc, true);
	}
	json_decref(c.w.index);
	if (rc != 0) {
		/* Nothing of a bad document is kept. */
		size_t size = saved.recs.size;

		saved.recs = im->recs;
		saved.recs.size = size;
		saved.entry_of = im->entry_of;
		saved.entry_cap = im->entry_cap;
		*im = saved;
	}
	return rc;
}
