/*
 * import.c: the mapping of FHIR R4 resources to carnet records.
 */
#include <stdlib.h>
#include <string.h>

#include "../schemas/recjson.h"
#include "import.h"

/* The value at a dotted path ("item.0.productOrService.coding.0.code"). */
static json_t *
at(json_t *v, const char *path)
{
	char buf[160], *part, *save = NULL, *end;

	snprintf(buf, sizeof(buf), "%s", path);
	for (part = strtok_r(buf, ".", &save); part && v;
	    part = strtok_r(NULL, ".", &save)) {
		long i = strtol(part, &end, 10);

		v = *end == '\0' ? json_array_get(v, (size_t)i) :
		    json_object_get(v, part);
	}
	return v;
}

static const char *
str_at(json_t *v, const char *path)
{
	json_t *s = at(v, path);

	return json_is_string(s) ? json_string_value(s) : NULL;
}

static const char *
first_str(json_t *v, const char *const *paths)
{
	const char *s = NULL;

	for (; *paths && s == NULL; paths++)
		s = str_at(v, *paths);
	return s;
}

/* "Patient/123" -> "123" */
static const char *
ref_id(const char *ref)
{
	const char *slash = ref ? strrchr(ref, '/') : NULL;

	return slash ? slash + 1 : ref;
}

/* True if a coding of codeable concept cc has code (or ends with /code). */
static bool
has_code(json_t *cc, const char *code)
{
	json_t *c;
	size_t i, n = strlen(code);

	json_array_foreach(json_object_get(cc, "coding"), i, c) {
		const char *s = str_at(c, "code");
		size_t l = s ? strlen(s) : 0;

		if (s && (strcmp(s, code) == 0 || (l > n && s[l - n - 1] == '/' &&
		    strcmp(s + l - n, code) == 0)))
			return true;
	}
	return false;
}

/*
 * The amount of the adjudication whose category is code, or NULL; sets
 * *invalid when it is there but not a number.
 */
static json_t *
adjudication(json_t *item, const char *code, const char **currency,
    bool *invalid)
{
	json_t *a;
	size_t i;

	json_array_foreach(json_object_get(item, "adjudication"), i, a)
		if (has_code(json_object_get(a, "category"), code)) {
			json_t *v = at(a, "amount.value");

			if (str_at(a, "amount.currency"))
				*currency = str_at(a, "amount.currency");
			if (v != NULL && !json_is_number(v))
				*invalid = true;
			return json_is_number(v) ? v : NULL;
		}
	return NULL;
}

struct ctx {
	struct fhir_import *im;
	struct cerr *err;
	char where[120];
};

static int
emit(struct ctx *c, const char *type, json_t *obj)
{
	const struct schema *s = schema_by_name(type, strlen(type));
	struct cerr e = {0};
	int rc = recjson_encode(obj, s, &c->im->recs, &e);

	json_decref(obj);
	if (rc != 0)
		return cerr_set(c->err, rc, "%s: %s", c->where, cerr_msg(&e));
	c->im->n++;
	c->im->by_type[s->index]++;
	return 0;
}

static int
bad(struct ctx *c, const char *what)
{
	return cerr_set(c->err, CARNET_E_MALFORMED, "%s: %s", c->where, what);
}

/* The carnet id for a reference to a patient; NULL when not enrolled. */
static int
who(struct ctx *c, const char *ref, const char **id)
{
	if (ref == NULL)
		return bad(c, "names no patient");
	*id = c->im->enrolled(c->im->enrolled_arg, ref_id(ref));
	if (*id == NULL)
		c->im->not_enrolled++;
	return 0;
}

static json_t *
num(json_t *v, double dflt)
{
	return json_is_number(v) ? json_real(json_number_value(v)) :
	    json_real(dflt);
}

static int
map_eob(struct ctx *c, json_t *r)
{
	static const char *const date_paths[] = {"billablePeriod.start",
		"item.0.servicedDate", "item.0.servicedPeriod.start", "created",
		NULL};
	static const char *const provider_paths[] = {"provider.display",
		"provider.identifier.value", "careTeam.0.provider.display",
		"careTeam.0.provider.identifier.value", NULL};
	json_t *items = json_object_get(r, "item"), *item, *type;
	const char *id = str_at(r, "id"), *user, *date, *provider;
	const char *eob_type = NULL;
	bool pharmacy;
	size_t i;
	int rc;

	if ((rc = who(c, str_at(r, "patient.reference"), &user)) != 0 ||
	    user == NULL)
		return rc;
	if (id == NULL)
		return bad(c, "no id");
	if (!json_is_array(items) || json_array_size(items) == 0)
		return bad(c, "no item");
	type = json_object_get(r, "type");
	pharmacy = has_code(type, "pharmacy") || has_code(type, "PDE");
	{
		json_t *cd;
		size_t k;

		json_array_foreach(json_object_get(type, "coding"), k, cd)
			if (str_at(cd, "system") && strstr(str_at(cd, "system"),
			    "eob-type"))
				eob_type = str_at(cd, "code");
	}
	date = first_str(r, date_paths);
	provider = first_str(r, provider_paths);
	json_array_foreach(items, i, item) {
		const char *code = str_at(item, "productOrService.coding.0.code");
		const char *display = first_str(item, (const char *const[]){
		    "productOrService.coding.0.display", "productOrService.text",
		    NULL});
		const char *cur = NULL, *idate;
		char ref[96], label[160];
		json_t *obj, *paid, *back;
		bool invalid = false;

		idate = first_str(item, (const char *const[]){"servicedDate",
		    "servicedPeriod.start", NULL});
		if (idate == NULL && (idate = date) == NULL)
			return bad(c, "no date (billablePeriod, servicedDate, "
			    "created)");
		snprintf(ref, sizeof(ref), "fhir:eob/%.60s#%zu", id, i + 1);
		if (pharmacy) {
			if (code == NULL)
				return bad(c, "a pharmacy item without an NDC code");
			paid = adjudication(item, "tot_rx_cst_amt", &cur, &invalid);
			if (paid == NULL)
				paid = adjudication(item, "submitted", &cur, &invalid);
			back = adjudication(item, "cvrd_d_plan_pd_amt", &cur, &invalid);
			if (back == NULL)
				back = adjudication(item, "benefit", &cur, &invalid);
			if (invalid)
				return bad(c, "an amount is not a number");
			obj = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o}",
			    "user", user, "ref", ref, "time", idate, "cip13", code,
			    "drug", display ? display : code, "quantity",
			    num(at(item, "quantity.value"), 1), "amount_eur",
			    num(paid, 0), "reimbursed_eur", num(back, 0));
			json_object_set_new(obj, "currency",
			    json_string(cur ? cur : c->im->currency));
			if ((rc = emit(c, "dispense", obj)) != 0)
				return rc;
			continue;
		}
		paid = adjudication(item, "submitted", &cur, &invalid);
		back = adjudication(item, "benefit", &cur, &invalid);
		if (back == NULL)
			back = adjudication(item, "paidtoprovider", &cur, &invalid);
		if (invalid)
			return bad(c, "an amount is not a number");
		snprintf(label, sizeof(label), "%s%s%s", display ? display :
		    (eob_type ? eob_type : "claim"), display ? "" : " ",
		    display ? "" : (code ? code : "item"));
		obj = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:s, s:s}",
		    "user", user, "ref", ref, "time", idate, "act_code",
		    code ? code : (eob_type ? eob_type : "UNKNOWN"), "label",
		    label, "amount_eur", num(paid, 0), "reimbursed_eur",
		    num(back, 0), "practitioner", eob_type ? eob_type :
		    "unknown", "currency", cur ? cur : c->im->currency);
		if (provider != NULL)
			json_object_set_new(obj, "provider", json_string(provider));
		if (eob_type && (strcmp(eob_type, "INPATIENT") == 0 ||
		    strcmp(eob_type, "OUTPATIENT") == 0 ||
		    strcmp(eob_type, "SNF") == 0))
			json_object_set_new(obj, "care_kind",
			    json_string("hospital"));
		if ((rc = emit(c, "claim", obj)) != 0)
			return rc;
	}
	return 0;
}

static int
map_patient(struct ctx *c, json_t *r)
{
	const char *id = str_at(r, "id"), *user, *birth, *sex, *given, *family;
	const char *contact;
	char name[160], ref[64];
	json_t *obj;
	int rc;

	if (id == NULL)
		return bad(c, "no id");
	if ((rc = who(c, id, &user)) != 0 || user == NULL)
		return rc;
	if ((birth = str_at(r, "birthDate")) == NULL || strlen(birth) < 4)
		return bad(c, "no birthDate");
	sex = str_at(r, "gender");
	given = str_at(r, "name.0.given.0");
	family = str_at(r, "name.0.family");
	snprintf(name, sizeof(name), "%s%s%s", given ? given : "",
	    given && family ? " " : "", family ? family : "");
	contact = first_str(r, (const char *const[]){"contact.0.name.text",
	    "contact.0.telecom.0.value", NULL});
	/* one profile per Patient: its id is its ref (every Patient of a
	 * holder used to share "fhir:patient", so only the first was kept) */
	snprintf(ref, sizeof(ref), "fhir:patient/%.50s", id);
	obj = json_pack("{s:s, s:s, s:s, s:i, s:s, s:s, s:[], s:[], s:[], s:s}",
	    "user", user, "ref", ref, "time", birth, "birth_year",
	    atoi(birth), "sex", sex ? sex : "unknown", "blood_group", "unknown",
	    "allergies", "conditions", "treatments", "emergency_contact",
	    contact ? contact : "unknown");
	if (name[0] != '\0')
		json_object_set_new(obj, "name", json_string(name));
	return emit(c, "profile", obj);
}

static int
map_coverage(struct ctx *c, json_t *r)
{
	const char *id = str_at(r, "id"), *user, *plan = NULL, *group = NULL;
	const char *start = str_at(r, "period.start"), *end;
	char ref[96];
	json_t *obj, *cl;
	size_t i;
	int rc;

	if (id == NULL)
		return bad(c, "no id");
	if ((rc = who(c, str_at(r, "beneficiary.reference"), &user)) != 0 ||
	    user == NULL)
		return rc;
	json_array_foreach(json_object_get(r, "class"), i, cl) {
		const char *t = str_at(cl, "type.coding.0.code");

		if (t && strcmp(t, "subplan") == 0)
			plan = str_at(cl, "value");
		else if (t && strcmp(t, "plan") == 0 && plan == NULL)
			plan = str_at(cl, "value");
		else if (t && strcmp(t, "subgroup") == 0)
			group = str_at(cl, "value");
	}
	if (plan == NULL)
		plan = first_str(r, (const char *const[]){"type.text",
		    "type.coding.0.code", NULL});
	if (plan == NULL || str_at(r, "status") == NULL)
		return bad(c, "no plan or status");
	snprintf(ref, sizeof(ref), "fhir:coverage/%.60s", id);
	obj = json_pack("{s:s, s:s, s:s, s:s, s:s}", "user", user, "ref", ref,
	    "time", start ? start : "1970-01-01", "plan", plan, "status",
	    str_at(r, "status"));
	if (first_str(r, (const char *const[]){"payor.0.display",
	    "payor.0.identifier.value", NULL}))
		json_object_set_new(obj, "payer", json_string(first_str(r,
		    (const char *const[]){"payor.0.display",
		    "payor.0.identifier.value", NULL})));
	if (group)
		json_object_set_new(obj, "group", json_string(group));
	if (start && strlen(start) >= 10)
		json_object_set_new(obj, "period_start", json_stringn(start, 10));
	if ((end = str_at(r, "period.end")) != NULL && strlen(end) >= 10)
		json_object_set_new(obj, "period_end", json_stringn(end, 10));
	return emit(c, "coverage", obj);
}

static int
map_observation(struct ctx *c, json_t *r)
{
	static const struct {
		const char *loinc, *kind;
	} vitals[] = {
		{"29463-7", "weight_kg"}, {"8867-4", "heart_rate_bpm"},
		{"55423-8", "steps"}, {"93832-4", "sleep_min"},
		{"8480-6", "systolic_mmhg"}, {"8462-4", "diastolic_mmhg"},
	};
	const char *id = str_at(r, "id"), *user, *code, *when, *unit;
	json_t *v = at(r, "valueQuantity.value"), *obj, *cat;
	char ref[96], kind[40];
	bool lab = false;
	size_t i;
	int rc;

	if (id == NULL)
		return bad(c, "no id");
	if ((rc = who(c, str_at(r, "subject.reference"), &user)) != 0 ||
	    user == NULL)
		return rc;
	if ((code = str_at(r, "code.coding.0.code")) == NULL)
		return bad(c, "no code");
	if (!json_is_number(v))
		return bad(c, "no numeric valueQuantity");
	when = first_str(r, (const char *const[]){"effectiveDateTime",
	    "effectivePeriod.start", "issued", NULL});
	if (when == NULL)
		return bad(c, "no effective date");
	json_array_foreach(json_object_get(r, "category"), i, cat)
		lab = lab || has_code(cat, "laboratory");
	unit = first_str(r, (const char *const[]){"valueQuantity.unit",
	    "valueQuantity.code", NULL});
	snprintf(ref, sizeof(ref), "fhir:observation/%.60s", id);
	if (lab) {
		obj = json_pack("{s:s, s:s, s:s, s:s, s:s, s:O, s:s}", "user",
		    user, "ref", ref, "time", when, "loinc", code, "label",
		    first_str(r, (const char *const[]){"code.text",
		    "code.coding.0.display", "code.coding.0.code", NULL}),
		    "value", v, "unit", unit ? unit : "");
		if (json_is_number(at(r, "referenceRange.0.low.value")))
			json_object_set(obj, "ref_low",
			    at(r, "referenceRange.0.low.value"));
		if (json_is_number(at(r, "referenceRange.0.high.value")))
			json_object_set(obj, "ref_high",
			    at(r, "referenceRange.0.high.value"));
		return emit(c, "lab_result", obj);
	}
	snprintf(kind, sizeof(kind), "loinc:%.30s", code);
	for (i = 0; i < sizeof(vitals) / sizeof(vitals[0]); i++)
		if (strcmp(code, vitals[i].loinc) == 0)
			snprintf(kind, sizeof(kind), "%s", vitals[i].kind);
	obj = json_pack("{s:s, s:s, s:s, s:s, s:O, s:s}", "user", user, "ref",
	    ref, "time", when, "kind", kind, "value", v, "device",
	    first_str(r, (const char *const[]){"device.display", NULL}) ?
	    first_str(r, (const char *const[]){"device.display", NULL}) :
	    "unknown");
	return emit(c, "observation", obj);
}

/* What an OperationOutcome says went wrong. */
static const char *
outcome_text(json_t *r)
{
	const char *t = first_str(r, (const char *const[]){
	    "issue.0.diagnostics", "issue.0.details.text", "issue.0.code",
	    NULL});

	return t != NULL ? t : "no diagnostics";
}

static int
map_resource(struct ctx *c, json_t *r, int depth)
{
	const char *kind = str_at(r, "resourceType");
	json_t *e;
	size_t i;
	int rc;

	if (!json_is_object(r) || kind == NULL)
		return bad(c, "not a FHIR resource (no resourceType)");
	if (strcmp(kind, "Bundle") == 0) {
		if (depth > 0)
			return bad(c, "a Bundle inside a Bundle");
		if (!json_is_array(json_object_get(r, "entry")) &&
		    json_object_get(r, "entry") != NULL)
			return bad(c, "entry is not a list");
		json_array_foreach(json_object_get(r, "entry"), i, e) {
			json_t *res = json_object_get(e, "resource");

			snprintf(c->where, sizeof(c->where), "entry %zu (%.20s "
			    "%.60s)", i + 1, str_at(res, "resourceType") ?
			    str_at(res, "resourceType") : "?", str_at(res, "id") ?
			    str_at(res, "id") : "?");
			if ((rc = map_resource(c, res, depth + 1)) != 0)
				return rc;
		}
		return 0;
	}
	if (depth == 0)
		snprintf(c->where, sizeof(c->where), "%.20s %.60s", kind,
		    str_at(r, "id") ? str_at(r, "id") : "?");
	/* a server's error report where data was expected: say so, store
	 * nothing (in a Bundle it may be a search's warning: skipped) */
	if (strcmp(kind, "OperationOutcome") == 0 && depth == 0)
		return cerr_set(c->err, CARNET_E_BAD_VALUE, "an "
		    "OperationOutcome, the FHIR server's report of an error, "
		    "not data: %.20s: %.160s", str_at(r, "issue.0.severity") ?
		    str_at(r, "issue.0.severity") : "?", outcome_text(r));
	if (strcmp(kind, "ExplanationOfBenefit") == 0)
		return map_eob(c, r);
	if (strcmp(kind, "Patient") == 0)
		return map_patient(c, r);
	if (strcmp(kind, "Coverage") == 0)
		return map_coverage(c, r);
	if (strcmp(kind, "Observation") == 0)
		return map_observation(c, r);
	c->im->other_kinds++;
	return 0;
}

void
fhir_import_init(struct fhir_import *im, fhir_enrolled_fn *enrolled,
    const void *arg, const char *currency)
{
	memset(im, 0, sizeof(*im));
	im->enrolled = enrolled;
	im->enrolled_arg = arg;
	im->currency = currency;
	msgpack_sbuffer_init(&im->recs);
}

void
fhir_import_release(struct fhir_import *im)
{
	msgpack_sbuffer_destroy(&im->recs);
}

int
fhir_import_doc(struct fhir_import *im, json_t *doc, struct cerr *err)
{
	struct fhir_import saved = *im;
	struct ctx c = {im, err, "document"};
	int rc = map_resource(&c, doc, 0);

	if (rc != 0) {
		/* Nothing of a bad document is kept. */
		size_t size = saved.recs.size;

		saved.recs = im->recs;
		saved.recs.size = size;
		*im = saved;
	}
	return rc;
}
