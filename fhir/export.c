/*
 * export.c: each record type as a FHIR R4 resource (export.h).
 *
 *   claim        ExplanationOfBenefit with one item (the act), its
 *                adjudications submitted, benefit, paidbypatient and
 *                carnet's mutual; the claim's diagnoses
 *   dispense     ExplanationOfBenefit of type pharmacy: the drug as the
 *                item, with its amounts (a MedicationDispense has no
 *                place for what was paid)
 *   lab_result   Observation, category laboratory, LOINC code
 *   observation  Observation, category vital-signs: the kind's LOINC code
 *                where it has one (terms.c), carnet's kind system else
 *   context      Observation, code in carnet's context system
 *   profile      Patient
 *   coverage     Coverage
 *   condition, allergy, immunization: Condition, AllergyIntolerance,
 *                Immunization
 *
 * Every resource carries its record's ref as an identifier (system
 * urn:carnet:holder-ref), so that carnet import fhir stores it under the
 * same ref; a record field that has no FHIR element travels as an
 * extension urn:carnet:field:NAME.  A date given less precisely than a
 * day (time_precision) is written at its precision: "2020-03", not the
 * first second of March.  An element R4 requires that carnet does not
 * hold (EOB.insurance.coverage, a payer) says so with a data-absent-reason
 * extension instead of a made-up value.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common/mpk.h"
#include "../schemas/recjson.h"
#include "export.h"
#include "terms.h"
#include "walk.h"

#define ABSENT_EXT "http://hl7.org/fhir/StructureDefinition/data-absent-reason"
#define CLAIM_TYPE "http://terminology.hl7.org/CodeSystem/claim-type"
#define CARE_ROLE "http://terminology.hl7.org/CodeSystem/claimcareteamrole"
#define C4BB_ROLE "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBClaimCareTeamRole"
#define C4BB_ADJ "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBAdjudication"
#define OBS_CATEGORY "http://terminology.hl7.org/CodeSystem/observation-category"
#define INTERPRETATION "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
#define COVERAGE_CLASS "http://terminology.hl7.org/CodeSystem/coverage-class"

/* A body field as JSON (new reference), or NULL when absent. */
static json_t *
field(const struct record *r, const char *name)
{
	const msgpack_object *v = mpk_get(r->body, name);

	return v ? recjson_value(v) : NULL;
}

/* A text field into buf, "" when absent. */
static const char *
str_field(const struct record *r, const char *name, char *buf, size_t sz)
{
	if (mpk_cstr(mpk_get(r->body, name), buf, sz) != 0)
		buf[0] = '\0';
	return buf;
}

static void
set(json_t *o, const char *key, json_t *v)
{
	if (v != NULL)
		json_object_set_new(o, key, v);
}

/* Append v to the array o[key], made on first use. */
static void
push(json_t *o, const char *key, json_t *v)
{
	json_t *a = json_object_get(o, key);

	if (a == NULL) {
		a = json_array();
		json_object_set_new(o, key, a);
	}
	json_array_append_new(a, v);
}

/* An element R4 requires that carnet does not know. */
static json_t *
absent(void)
{
	return json_pack("{s:[{s:s, s:s}]}", "extension", "url", ABSENT_EXT,
	    "valueCode", "unknown");
}

/* A Coding of system (none when empty), code and display (optional). */
static json_t *
coding(const char *system, const char *code, const char *display)
{
	json_t *c = json_object();

	walk_set_text(c, "system", system);
	walk_set_text(c, "code", code);
	walk_set_text(c, "display", display);
	return c;
}

/* A CodeableConcept of one coding and a text (optional). */
static json_t *
concept1(const char *system, const char *code, const char *text)
{
	json_t *cc = json_pack("{s:[o]}", "coding", coding(system, code, NULL));

	walk_set_text(cc, "text", text);
	return cc;
}

/* A coded value "system|code" as a Coding. */
static json_t *
split_coding(const char *pair)
{
	const char *bar = strchr(pair, '|');
	char sys[128];

	if (bar == NULL)
		return coding(NULL, pair, NULL);
	snprintf(sys, sizeof(sys), "%.*s", (int)(bar - pair), pair);
	return coding(sys, bar + 1, NULL);
}

/* Each of names that has no FHIR element, as extensions. */
static void
carnet_fields(json_t *res, const struct record *r, const char *const *names)
{
	for (; *names; names++) {
		int f = schema_field(r->type, *names, strlen(*names));
		json_t *v, *it;
		char url[64];
		size_t i;

		if (f < 0 || (v = field(r, *names)) == NULL)
			continue;
		snprintf(url, sizeof(url), "%s%s", CARNET_FIELD_EXT, *names);
		switch (r->type->fields[f].kind) {
		case FIELD_STRLIST:
			json_array_foreach(v, i, it)
				push(res, "extension", json_pack("{s:s, s:O}", "url",
				    url, "valueString", it));
			json_decref(v);
			break;
		case FIELD_STR:
			push(res, "extension", json_pack("{s:s, s:o}", "url", url,
			    "valueString", v));
			break;
		case FIELD_INT:
			push(res, "extension", json_pack("{s:s, s:o}", "url", url,
			    "valueInteger", v));
			break;
		default:
			push(res, "extension", json_pack("{s:s, s:o}", "url", url,
			    "valueDecimal", v));
			break;
		}
	}
}

static json_t *
patient_ref(const struct record *r)
{
	char id[ID_STR_LEN + 1], ref[ID_STR_LEN + 16];

	id_encode(r->user, id);
	snprintf(ref, sizeof(ref), "Patient/%s", id);
	return json_pack("{s:s}", "reference", ref);
}

/* The holder who sent r, by its carnet id and name. */
static json_t *
holder_ref(const struct record *r, json_t *names)
{
	char id[ID_STR_LEN + 1];
	json_t *h;

	if (!r->has_holder)
		return absent();
	id_encode(r->holder, id);
	h = json_pack("{s:{s:s, s:s}}", "identifier", "system", CARNET_PARTY,
	    "value", id);
	walk_set_text(h, "display", json_string_value(json_object_get(names, id)));
	return h;
}

/* A Quantity of v in UCUM unit (none when empty). */
static json_t *
quantity(json_t *v, const char *unit)
{
	json_t *q = json_pack("{s:o}", "value", v);

	if (unit != NULL && unit[0] != '\0') {
		json_object_set_new(q, "unit", json_string(unit));
		json_object_set_new(q, "system", json_string(UCUM_SYSTEM));
		json_object_set_new(q, "code", json_string(unit));
	}
	return q;
}

/* ------------------------------------------------------------------ */
/* claim and dispense: ExplanationOfBenefit */

static json_t *
money(const struct record *r, const char *name)
{
	json_t *v = field(r, name);
	char cur[4];

	if (v == NULL)
		return NULL;
	str_field(r, "currency", cur, sizeof(cur));
	return json_pack("{s:o, s:s}", "value", v, "currency", cur[0] ? cur : "EUR");
}

/* The adjudication of field under a category, when the field is there. */
static void
adjudicate(json_t *item, const struct record *r, const char *name,
    const char *system, const char *code)
{
	json_t *m = money(r, name);

	if (m != NULL)
		push(item, "adjudication", json_pack("{s:{s:[o]}, s:o}",
		    "category", "coding", coding(system, code, NULL), "amount", m));
}

/* The HL7 claim type of a claim record by its kind of care. */
static const char *
claim_type(const struct record *r)
{
	char k[40];

	str_field(r, "care_kind", k, sizeof(k));
	return strcmp(k, "hospital") == 0 ? "institutional" :
	    strcmp(k, "dental") == 0 ? "oral" : strcmp(k, "optical") == 0 ?
	    "vision" : "professional";
}

/* A care team of one member, named on the item. */
static void
care_team(json_t *eob, json_t *item, const char *who, const char *role)
{
	json_t *m = json_pack("{s:i, s:{s:s}}", "sequence", 1, "provider",
	    "display", who);
	static const char *const hl7[] = {"primary", "assist", "supervisor",
		"other", NULL};
	const char *const *h;
	const char *sys = C4BB_ROLE;

	for (h = hl7; *h; h++)
		if (strcmp(role, *h) == 0)
			sys = CARE_ROLE;
	if (role[0] != '\0')
		json_object_set_new(m, "role", json_pack("{s:[o]}", "coding",
		    coding(sys, role, NULL)));
	json_object_set_new(eob, "careTeam", json_pack("[o]", m));
	json_object_set_new(item, "careTeamSequence", json_pack("[i]", 1));
}

static json_t *
eob(const struct record *r, const char *when, const char *full, json_t *names,
    bool rx)
{
	char code[40], sys[110], label[170], who[170], role[40], s[40];
	json_t *e, *item, *prod, *dx, *it;
	size_t i;

	e = json_pack("{s:s, s:s, s:{s:[o]}, s:s, s:o, s:s, s:o, s:o, s:s, "
	    "s:[{s:b, s:o}]}", "resourceType", "ExplanationOfBenefit",
	    "status", "active", "type", "coding", coding(CLAIM_TYPE, rx ?
	    "pharmacy" : claim_type(r), NULL), "use", "claim", "patient",
	    patient_ref(r), "created", full, "insurer", holder_ref(r, names),
	    "provider", absent(), "outcome", "complete", "insurance", "focal",
	    1, "coverage", absent());
	item = json_pack("{s:i}", "sequence", 1);
	prod = json_object();
	if (rx) {
		str_field(r, "drug", label, sizeof(label));
		if (*str_field(r, "cip13", code, sizeof(code)))
			push(prod, "coding", coding(CIP_SYSTEM, code, label));
		else
			push(prod, "coding", coding(str_field(r, "drug_system",
			    sys, sizeof(sys)), str_field(r, "drug_code", code,
			    sizeof(code)), label));
		if (*str_field(r, "atc", s, sizeof(s)))
			push(prod, "coding", coding(ATC_SYSTEM, s, NULL));
		if (*str_field(r, "prescriber", who, sizeof(who)))
			care_team(e, item, who, "prescribing");
	} else {
		str_field(r, "label", label, sizeof(label));
		push(prod, "coding", coding(str_field(r, "act_system", sys,
		    sizeof(sys)), str_field(r, "act_code", code, sizeof(code)),
		    label));
		/* the billing provider is the EOB's, another the item's */
		str_field(r, "provider_role", role, sizeof(role));
		if (*str_field(r, "provider", who, sizeof(who)) &&
		    strcmp(role, "billing") == 0)
			json_object_set_new(e, "provider", json_pack("{s:s}",
			    "display", who));
		else if (who[0] != '\0')
			care_team(e, item, who, role);
		if (*str_field(r, "revenue_code", s, sizeof(s)))
			json_object_set_new(item, "revenue", json_pack("{s:[o]}",
			    "coding", coding(NULL, s, NULL)));
		dx = field(r, "diagnoses");
		json_array_foreach(dx, i, it)
			push(e, "diagnosis", json_pack("{s:i, s:{s:[o]}}",
			    "sequence", (int)i + 1, "diagnosisCodeableConcept",
			    "coding", split_coding(json_string_value(it))));
		json_decref(dx);
	}
	walk_set_text(prod, "text", label);
	json_object_set_new(item, "productOrService", prod);
	/* a date the holder gave to the day or less is a servicedDate; a
	 * time, a period of that instant */
	if (*str_field(r, "time_precision", s, sizeof(s)))
		json_object_set_new(item, "servicedDate", json_string(when));
	else
		json_object_set_new(item, "servicedPeriod", json_pack(
		    "{s:s, s:s}", "start", full, "end", full));
	if ((it = field(r, "quantity")) != NULL)
		json_object_set_new(item, "quantity", json_pack("{s:o}", "value",
		    it));
	adjudicate(item, r, "amount_eur", ADJUDICATION_SYSTEM, "submitted");
	adjudicate(item, r, "reimbursed_eur", ADJUDICATION_SYSTEM, "benefit");
	adjudicate(item, r, "patient_paid", C4BB_ADJ, "paidbypatient");
	adjudicate(item, r, "mutual_eur", CARNET_ADJUDICATION, "mutual");
	json_object_set_new(e, "item", json_pack("[o]", item));
	/* a line's claim totals are not this EOB's totals: fields (and
	 * their currency, which a line without amounts of its own has no
	 * other place for) */
	carnet_fields(e, r, (const char *const[]){"practitioner", "care_kind",
	    "claim_id", "claim_charged", "claim_paid", "currency", NULL});
	return e;
}

/* ------------------------------------------------------------------ */
/* Observations */

static json_t *
observation(const struct record *r, const char *when, const char *cat_system,
    const char *category, json_t *code)
{
	return json_pack("{s:s, s:s, s:[{s:[o]}], s:o, s:o, s:s}",
	    "resourceType", "Observation", "status", "final", "category",
	    "coding", coding(cat_system, category, NULL), "code", code,
	    "subject", patient_ref(r), "effectiveDateTime", when);
}

/* The code of an observation kind: its LOINC code when it has one, a
 * code:CODE kind's in its system (when the holder gave one). */
static json_t *
kind_code(const char *kind, const char *system, const char *label)
{
	const struct vital *v = terms_vital_of_kind(kind);

	if (v != NULL)
		return concept1(LOINC_SYSTEM, v->loinc, label);
	if (strncmp(kind, "loinc:", 6) == 0)
		return concept1(LOINC_SYSTEM, kind + 6, label);
	if (strncmp(kind, "code:", 5) == 0 && system && *system)
		return concept1(system, kind + 5, label);
	return concept1(CARNET_KIND, kind, label);
}

/* value, value_code or value_text as the Observation's value[x]. */
static void
obs_value(json_t *o, const struct record *r, const char *unit)
{
	json_t *v = field(r, "value");
	char vc[150], vt[170];

	str_field(r, "value_text", vt, sizeof(vt));
	if (v != NULL) {
		json_object_set_new(o, "valueQuantity", quantity(v, unit));
	} else if (*str_field(r, "value_code", vc, sizeof(vc))) {
		json_t *cc = json_pack("{s:[o]}", "coding", split_coding(vc));

		walk_set_text(cc, "text", vt);
		json_object_set_new(o, "valueCodeableConcept", cc);
	} else {
		walk_set_text(o, "valueString", vt);
	}
}

static json_t *
lab_result(const struct record *r, const char *when)
{
	char code[20], label[170], unit[40], s[170];
	json_t *o, *lo = field(r, "ref_low"), *hi = field(r, "ref_high");

	str_field(r, "unit", unit, sizeof(unit));
	o = observation(r, when, OBS_CATEGORY, "laboratory", concept1(
	    LOINC_SYSTEM, str_field(r, "loinc", code, sizeof(code)),
	    str_field(r, "label", label, sizeof(label))));
	obs_value(o, r, unit);
	if (lo != NULL || hi != NULL) {
		json_t *rr = json_object();

		set(rr, "low", lo ? quantity(lo, unit) : NULL);
		set(rr, "high", hi ? quantity(hi, unit) : NULL);
		json_object_set_new(o, "referenceRange", json_pack("[o]", rr));
	}
	if (*str_field(r, "interpretation", s, sizeof(s)))
		json_object_set_new(o, "interpretation", json_pack("[{s:[o]}]",
		    "coding", coding(INTERPRETATION, s, NULL)));
	if (*str_field(r, "lab", s, sizeof(s)))
		json_object_set_new(o, "performer", json_pack("[{s:s}]",
		    "display", s));
	return o;
}

static json_t *
reading(const struct record *r, const char *when)
{
	char kind[48], label[170], unit[40], s[70], sys[110];
	const struct vital *v;
	json_t *o, *comps, *it;
	size_t i;

	str_field(r, "kind", kind, sizeof(kind));
	v = terms_vital_of_kind(kind);
	o = observation(r, when, OBS_CATEGORY, "vital-signs", kind_code(kind,
	    str_field(r, "system", sys, sizeof(sys)), str_field(r, "label",
	    label, sizeof(label))));
	obs_value(o, r, v && v->unit ? v->unit : str_field(r, "unit", unit,
	    sizeof(unit)));
	comps = field(r, "components");
	/* kind|value|unit; a part not in that form is written as it is
	 * (valueString), never as a guessed number */
	json_array_foreach(comps, i, it) {
		char part[100], *u, *val, *end;
		double x;

		snprintf(part, sizeof(part), "%s", json_string_value(it));
		if ((val = strchr(part, '|')) == NULL ||
		    (u = strchr(val + 1, '|')) == NULL) {
			push(o, "component", json_pack("{s:{s:s}, s:s}", "code",
			    "text", "component", "valueString",
			    json_string_value(it)));
			continue;
		}
		*val++ = '\0';
		*u++ = '\0';
		x = strtod(val, &end);
		if (end == val || *end != '\0' || !isfinite(x))
			push(o, "component", json_pack("{s:o, s:s}", "code",
			    kind_code(part, NULL, NULL), "valueString", val));
		else
			push(o, "component", json_pack("{s:o, s:o}", "code",
			    kind_code(part, NULL, NULL), "valueQuantity", quantity(
			    json_real(x), u)));
	}
	json_decref(comps);
	if (*str_field(r, "device", s, sizeof(s)))
		json_object_set_new(o, "device", json_pack("{s:s}", "display",
		    s));
	carnet_fields(o, r, (const char *const[]){"period_min", NULL});
	return o;
}

static json_t *
context(const struct record *r, const char *when)
{
	char kind[40], s[70];
	json_t *o = observation(r, when, CARNET_CONTEXT, "environment",
	    concept1(CARNET_CONTEXT, str_field(r, "kind", kind, sizeof(kind)),
	    NULL));

	json_object_set_new(o, "valueQuantity", quantity(field(r, "value"),
	    NULL));
	if (*str_field(r, "source", s, sizeof(s)))
		json_object_set_new(o, "performer", json_pack("[{s:s}]",
		    "display", s));
	carnet_fields(o, r, (const char *const[]){"area", NULL});
	return o;
}

/* ------------------------------------------------------------------ */
/* profile, coverage */

static json_t *
profile(const struct record *r, const char *full)
{
	char id[ID_STR_LEN + 1], sex[20], s[170];
	json_t *p, *by = field(r, "birth_year");
	bool known;

	id_encode(r->user, id);
	str_field(r, "sex", sex, sizeof(sex));
	known = strcmp(sex, "female") == 0 || strcmp(sex, "male") == 0 ||
	    strcmp(sex, "other") == 0 || strcmp(sex, "unknown") == 0;
	p = json_pack("{s:s, s:{s:s}, s:[{s:s, s:s}], s:s}", "resourceType",
	    "Patient", "meta", "lastUpdated", full, "identifier", "system",
	    CARNET_PERSON, "value", id, "gender", known ? sex : "unknown");
	if (json_is_integer(by)) {
		char y[8];

		snprintf(y, sizeof(y), "%04lld", (long long)json_integer_value(by));
		json_object_set_new(p, "birthDate", json_string(y));
	}
	json_decref(by);
	if (*str_field(r, "name", s, sizeof(s)))
		json_object_set_new(p, "name", json_pack("[{s:s}]", "text", s));
	json_object_set_new(p, "contact", json_pack("[{s:{s:s}}]", "name",
	    "text", str_field(r, "emergency_contact", s, sizeof(s))));
	carnet_fields(p, r, (const char *const[]){"blood_group", "allergies",
	    "conditions", "treatments", known ? NULL : "sex", NULL});
	return p;
}

static json_t *
coverage(const struct record *r, const char *full)
{
	char s[170];
	json_t *c, *period = json_object();

	c = json_pack("{s:s, s:{s:s}, s:s, s:o}", "resourceType", "Coverage",
	    "meta", "lastUpdated", full, "status", str_field(r, "status", s,
	    sizeof(s)), "beneficiary", patient_ref(r));
	json_object_set_new(c, "payor", json_pack("[o]", *str_field(r, "payer",
	    s, sizeof(s)) ? json_pack("{s:s}", "display", s) : absent()));
	push(c, "class", json_pack("{s:{s:[o]}, s:s}", "type", "coding",
	    coding(COVERAGE_CLASS, "plan", NULL), "value", str_field(r, "plan",
	    s, sizeof(s))));
	if (*str_field(r, "group", s, sizeof(s)))
		push(c, "class", json_pack("{s:{s:[o]}, s:s}", "type", "coding",
		    coding(COVERAGE_CLASS, "group", NULL), "value", s));
	if (*str_field(r, "period_start", s, sizeof(s)))
		json_object_set_new(period, "start", json_string(s));
	if (*str_field(r, "period_end", s, sizeof(s)))
		json_object_set_new(period, "end", json_string(s));
	if (json_object_size(period) > 0)
		json_object_set_new(c, "period", period);
	else
		json_decref(period);
	return c;
}

/* ------------------------------------------------------------------ */
/* condition, allergy, immunization */

/* A CodeableConcept from the record's code field, system and label. */
static json_t *
concept(const struct record *r, const char *code_field)
{
	char code[40], sys[110], label[170];

	str_field(r, "system", sys, sizeof(sys));
	if (!*str_field(r, code_field, code, sizeof(code)))
		return json_pack("{s:s}", "text", str_field(r, "label", label,
		    sizeof(label)));
	return json_pack("{s:[o], s:s}", "coding", coding(strcmp(sys,
	    "unknown") == 0 ? NULL : sys, code, NULL), "text", str_field(r,
	    "label", label, sizeof(label)));
}

/* A status code of system as a CodeableConcept, when the field is set. */
static void
status_concept(json_t *res, const struct record *r, const char *name,
    const char *key, const char *system)
{
	char v[24];

	if (*str_field(r, name, v, sizeof(v)))
		json_object_set_new(res, key, json_pack("{s:[o]}", "coding",
		    coding(system, v, NULL)));
}

/* A date text ("2020-03", a dateTime) as a FHIR choice: key + DateTime
 * when it reads as one, key + String otherwise. */
static void
date_or_text(json_t *res, const struct record *r, const char *name,
    const char *key)
{
	char v[40], k[48];
	int64_t t;
	bool date = false;

	if (!*str_field(r, name, v, sizeof(v)))
		return;
	if (time_parse(v, &t) == 0) {
		date = true;
	} else if (strlen(v) == 4 || strlen(v) == 7 || strlen(v) == 10) {
		size_t i;

		/* YYYY, YYYY-MM, YYYY-MM-DD */
		date = true;
		for (i = 0; v[i]; i++)
			date = date && (i == 4 || i == 7 ? v[i] == '-' :
			    v[i] >= '0' && v[i] <= '9');
	}
	snprintf(k, sizeof(k), "%s%s", key, date ? "DateTime" : "String");
	json_object_set_new(res, k, json_string(v));
}

static json_t *
condition(const struct record *r, const char *when)
{
	json_t *c = json_pack("{s:s, s:o, s:o, s:s}", "resourceType",
	    "Condition", "code", concept(r, "code"), "subject", patient_ref(r),
	    "recordedDate", when);
	char cat[40];

	status_concept(c, r, "clinical_status", "clinicalStatus",
	    "http://terminology.hl7.org/CodeSystem/condition-clinical");
	status_concept(c, r, "verification", "verificationStatus",
	    "http://terminology.hl7.org/CodeSystem/condition-ver-status");
	if (*str_field(r, "category", cat, sizeof(cat)))
		json_object_set_new(c, "category", json_pack("[{s:[o]}]",
		    "coding", coding("http://terminology.hl7.org/CodeSystem/"
		    "condition-category", cat, NULL)));
	date_or_text(c, r, "onset", "onset");
	date_or_text(c, r, "abatement", "abatement");
	return c;
}

static json_t *
allergy(const struct record *r, const char *when)
{
	json_t *a = json_pack("{s:s, s:o, s:o, s:s}", "resourceType",
	    "AllergyIntolerance", "code", concept(r, "code"), "patient",
	    patient_ref(r), "recordedDate", when);
	json_t *re = field(r, "reactions"), *it, *m = json_array();
	char v[24];
	size_t i;

	status_concept(a, r, "clinical_status", "clinicalStatus",
	    "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical");
	status_concept(a, r, "verification", "verificationStatus",
	    "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification");
	if (*str_field(r, "category", v, sizeof(v)))
		json_object_set_new(a, "category", json_pack("[s]", v));
	if (*str_field(r, "criticality", v, sizeof(v)))
		json_object_set_new(a, "criticality", json_string(v));
	json_array_foreach(re, i, it)
		json_array_append_new(m, json_pack("{s:O}", "text", it));
	if (json_array_size(m) > 0)
		json_object_set_new(a, "reaction", json_pack("[{s:o}]",
		    "manifestation", m));
	else
		json_decref(m);
	json_decref(re);
	return a;
}

static json_t *
immunization(const struct record *r, const char *when)
{
	char v[170];
	json_t *im = json_pack("{s:s, s:s, s:o, s:o, s:s}", "resourceType",
	    "Immunization", "status", str_field(r, "status", v, sizeof(v)),
	    "vaccineCode", concept(r, "vaccine_code"), "patient",
	    patient_ref(r), "occurrenceDateTime", when);

	if (*str_field(r, "lot", v, sizeof(v)))
		json_object_set_new(im, "lotNumber", json_string(v));
	if (*str_field(r, "dose", v, sizeof(v)))
		json_object_set_new(im, "protocolApplied", json_pack(
		    "[{s:s}]", "doseNumberString", v));
	if (*str_field(r, "performer", v, sizeof(v)))
		json_object_set_new(im, "performer", json_pack(
		    "[{s:{s:s}}]", "actor", "display", v));
	return im;
}

/* ------------------------------------------------------------------ */

/* The record's time at the precision the holder gave it. */
static void
time_text(const struct record *r, char when[TIME_STR_LEN + 1])
{
	char prec[10];

	time_format(r->time, when);
	str_field(r, "time_precision", prec, sizeof(prec));
	if (strcmp(prec, "year") == 0)
		when[4] = '\0';
	else if (strcmp(prec, "month") == 0)
		when[7] = '\0';
	else if (strcmp(prec, "day") == 0)
		when[10] = '\0';
}

json_t *
fhir_resource(const struct record *r, unsigned long long seq, json_t *names)
{
	char when[TIME_STR_LEN + 1], full[TIME_STR_LEN + 1], id[64];
	const char *t = r->type->name;
	json_t *res;

	time_text(r, when);
	time_format(r->time, full);
	if (strcmp(t, "claim") == 0 || strcmp(t, "dispense") == 0)
		res = eob(r, when, full, names, strcmp(t, "dispense") == 0);
	else if (strcmp(t, "lab_result") == 0)
		res = lab_result(r, when);
	else if (strcmp(t, "observation") == 0)
		res = reading(r, when);
	else if (strcmp(t, "profile") == 0)
		res = profile(r, full);
	else if (strcmp(t, "coverage") == 0)
		res = coverage(r, full);
	else if (strcmp(t, "condition") == 0)
		res = condition(r, when);
	else if (strcmp(t, "allergy") == 0)
		res = allergy(r, when);
	else if (strcmp(t, "immunization") == 0)
		res = immunization(r, when);
	else
		res = context(r, full);
	if (res == NULL)
		return NULL;
	snprintf(id, sizeof(id), "carnet-%llu", seq);
	json_object_set_new(res, "id", json_string(id));
	if (json_object_get(res, "identifier") == NULL)
		json_object_set_new(res, "identifier", json_array());
	json_array_insert_new(json_object_get(res, "identifier"), 0, json_pack(
	    "{s:s, s:s}", "system", CARNET_HOLDER_REF, "value", r->ref));
	return res;
}

static bool
is_patient(json_t *res)
{
	const char *k = json_string_value(json_object_get(res, "resourceType"));

	return k != NULL && strcmp(k, "Patient") == 0;
}

json_t *
fhir_bundle(json_t *entries, const char *user_id)
{
	json_t *wrapped = json_array(), *res, *main = NULL;
	char me[ID_STR_LEN + 16];
	size_t i;

	/* the person's Patient: the first profile, else their id alone */
	snprintf(me, sizeof(me), "Patient/%s", user_id);
	json_array_foreach(entries, i, res)
		if (main == NULL && is_patient(res))
			main = res;
		else if (is_patient(res))
			json_object_set_new(res, "link", json_pack("[{s:{s:s}, s:s}]",
			    "other", "reference", me, "type", "seealso"));
	if (main == NULL) {
		main = json_pack("{s:s, s:[{s:s, s:s}]}", "resourceType",
		    "Patient", "identifier", "system", CARNET_PERSON, "value",
		    user_id);
		json_array_insert_new(entries, 0, main);
	}
	json_object_set_new(main, "id", json_string(user_id));
	json_array_foreach(entries, i, res) {
		const char *type = json_string_value(json_object_get(res,
		    "resourceType"));
		const char *id = json_string_value(json_object_get(res, "id"));
		char url[160];

		snprintf(url, sizeof(url), "urn:carnet:%s/%s", type ? type : "?",
		    id ? id : "?");
		json_array_append_new(wrapped, json_pack("{s:s, s:O}", "fullUrl",
		    url, "resource", res));
	}
	json_decref(entries);
	return json_pack("{s:s, s:s, s:s, s:{s:[{s:s, s:s}]}, s:o}",
	    "resourceType", "Bundle",
	    "type", "collection", "id", user_id, "meta", "tag", "system",
	    "urn:carnet", "code", "download-my-data", "entry", wrapped);
}
