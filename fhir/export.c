/*
 * export.c: the mapping of each record type to a FHIR R4 resource.
 *
 *   claim        ExplanationOfBenefit (item, adjudication submitted/benefit)
 *   dispense     MedicationDispense
 *   lab_result   Observation, category laboratory, LOINC code
 *   observation  Observation, category vital-signs or activity
 *   profile      Patient, with allergies, conditions and treatments as
 *                extensions-free notes (kept as text: carnet holds labels,
 *                not coded terms)
 *   context      Observation, category environment (no subject)
 *   coverage     Coverage (plan, group, payer, period)
 *   condition    Condition (code with its system, statuses, onset)
 *   allergy      AllergyIntolerance
 *   immunization Immunization
 * A date given less precisely than a day (time_precision) is written at
 * its precision: "2020-03", not the first second of March.
 */
#include <stdlib.h>
#include <string.h>

#include "../common/mpk.h"
#include "../schemas/recjson.h"
#include "export.h"

/* A body field as JSON (new reference), or NULL when absent. */
static json_t *
field(const struct record *r, const char *name)
{
	const msgpack_object *v = mpk_get(r->body, name);

	return v ? recjson_value(v) : NULL;
}

static const char *
str_field(const struct record *r, const char *name, char *buf, size_t sz)
{
	if (mpk_cstr(mpk_get(r->body, name), buf, sz) != 0)
		buf[0] = '\0';
	return buf;
}

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

static json_t *
patient_ref(const struct record *r)
{
	char id[ID_STR_LEN + 1], ref[ID_STR_LEN + 16];

	id_encode(r->user, id);
	snprintf(ref, sizeof(ref), "Patient/%s", id);
	return json_pack("{s:s}", "reference", ref);
}

static json_t *
adjudication(const char *code, json_t *amount)
{
	return json_pack("{s:{s:[{s:s, s:s}]}, s:o}", "category", "coding", "system",
	    "http://terminology.hl7.org/CodeSystem/adjudication", "code", code,
	    "amount", amount);
}

static json_t *
claim_eob(const struct record *r, const char *when)
{
	char code[40], label[170], who[170];
	json_t *adj = json_array(), *m;
	json_t *eob = json_pack("{s:s, s:s, s:{s:[{s:s, s:s}]}, s:s, s:s, s:o}",
	    "resourceType", "ExplanationOfBenefit", "status", "active",
	    "type", "coding", "system",
	    "http://terminology.hl7.org/CodeSystem/claim-type", "code",
	    "professional", "use", "claim", "created", when,
	    "patient", patient_ref(r));

	if ((m = money(r, "amount_eur")) != NULL)
		json_array_append_new(adj, adjudication("submitted", m));
	if ((m = money(r, "reimbursed_eur")) != NULL)
		json_array_append_new(adj, adjudication("benefit", m));
	json_object_set_new(eob, "item", json_pack("[{s:i, s:{s:[{s:s, s:s}], s:s}, s:o}]",
	    "sequence", 1, "productOrService", "coding", "code",
	    str_field(r, "act_code", code, sizeof(code)), "display",
	    str_field(r, "label", label, sizeof(label)), "text", label,
	    "adjudication", adj));
	json_object_set_new(eob, "provider", json_pack("{ss}", "display",
	    str_field(r, "provider", who, sizeof(who))[0] ? who :
	    str_field(r, "practitioner", who, sizeof(who))));
	return eob;
}

static json_t *
dispense(const struct record *r, const char *when)
{
	char code[16], drug[170];
	json_t *q = field(r, "quantity");

	return json_pack("{s:s, s:s, s:{s:[{s:s, s:s, s:s}], s:s}, s:o, s:{s:o}, s:s}",
	    "resourceType", "MedicationDispense", "status", "completed",
	    "medicationCodeableConcept", "coding", "system",
	    "urn:oid:1.2.250.1.213.2.3.1", "code",
	    str_field(r, "cip13", code, sizeof(code)), "display",
	    str_field(r, "drug", drug, sizeof(drug)), "text", drug,
	    "subject", patient_ref(r), "quantity", "value",
	    q ? q : json_null(), "whenHandedOver", when);
}

static json_t *
observation(const struct record *r, const char *when, const char *category,
    const char *system, const char *code_field, const char *label_field,
    const char *unit_field)
{
	char code[40], label[170], unit[40];
	json_t *v = field(r, "value"), *o;

	str_field(r, code_field, code, sizeof(code));
	str_field(r, label_field, label, sizeof(label));
	str_field(r, unit_field, unit, sizeof(unit));
	o = json_pack("{s:s, s:s, s:[{s:[{s:s, s:s}]}], s:{s:[{s:s, s:s, s:s}], s:s}, s:s, s:{s:o, s:s}}",
	    "resourceType", "Observation", "status", "final",
	    "category", "coding", "system",
	    "http://terminology.hl7.org/CodeSystem/observation-category",
	    "code", category, "code", "coding", "system", system, "code", code,
	    "display", label[0] ? label : code, "text", label[0] ? label : code,
	    "effectiveDateTime", when, "valueQuantity", "value",
	    v ? v : json_null(), "unit", unit);
	if (v == NULL) {
		/* a coded or text value, or components: no Quantity */
		json_t *comps = field(r, "components"), *it;
		char vc[150], vt[170], *bar;
		size_t i;

		json_object_del(o, "valueQuantity");
		if (*str_field(r, "value_code", vc, sizeof(vc)) &&
		    (bar = strchr(vc, '|')) != NULL) {
			*bar = '\0';
			json_object_set_new(o, "valueCodeableConcept", json_pack(
			    "{s:[{s:s, s:s}], s:s}", "coding", "system", vc, "code",
			    bar + 1, "text", str_field(r, "value_text", vt,
			    sizeof(vt))));
		} else if (*str_field(r, "value_text", vt, sizeof(vt))) {
			json_object_set_new(o, "valueString", json_string(vt));
		}
		json_array_foreach(comps, i, it) {
			char part[100], *u, *val;

			snprintf(part, sizeof(part), "%s", json_string_value(it));
			if ((val = strchr(part, '|')) == NULL ||
			    (u = strchr(val + 1, '|')) == NULL)
				continue;
			*val++ = '\0';
			*u++ = '\0';
			if (json_object_get(o, "component") == NULL)
				json_object_set_new(o, "component", json_array());
			json_array_append_new(json_object_get(o, "component"),
			    json_pack("{s:{s:[{s:s, s:s}]}, s:{s:f, s:s, s:s, s:s}}",
			    "code", "coding", "system", system, "code", part,
			    "valueQuantity", "value", strtod(val, NULL), "unit", u,
			    "system", "http://unitsofmeasure.org", "code", u));
		}
		json_decref(comps);
	}
	if (strcmp(category, "environment") != 0)
		json_object_set_new(o, "subject", patient_ref(r));
	if (strcmp(category, "laboratory") == 0) {
		json_t *lo = field(r, "ref_low"), *hi = field(r, "ref_high");

		if (lo != NULL || hi != NULL) {
			json_t *rr = json_object();

			if (lo != NULL)
				json_object_set_new(rr, "low", json_pack(
				    "{s:o, s:s}", "value", lo, "unit", unit));
			if (hi != NULL)
				json_object_set_new(rr, "high", json_pack(
				    "{s:o, s:s}", "value", hi, "unit", unit));
			json_object_set_new(o, "referenceRange",
			    json_pack("[o]", rr));
		}
	}
	return o;
}

static json_t *
profile(const struct record *r)
{
	char id[ID_STR_LEN + 1], sex[20], contact[170];
	json_t *p, *notes = json_array(), *by = field(r, "birth_year");
	const char *lists[] = {"allergies", "conditions", "treatments"};
	size_t i, j;

	id_encode(r->user, id);
	str_field(r, "sex", sex, sizeof(sex));
	p = json_pack("{s:s, s:s, s:s}", "resourceType", "Patient", "id", id,
	    "gender", strcmp(sex, "female") == 0 ? "female" :
	    strcmp(sex, "male") == 0 ? "male" : strcmp(sex, "other") == 0 ?
	    "other" : "unknown");
	if (json_is_integer(by)) {
		char y[8];

		snprintf(y, sizeof(y), "%04lld", (long long)json_integer_value(by));
		json_object_set_new(p, "birthDate", json_string(y));
	}
	json_decref(by);
	json_object_set_new(p, "contact", json_pack("[{s:{s:s}}]", "name", "text",
	    str_field(r, "emergency_contact", contact, sizeof(contact))));
	for (i = 0; i < 3; i++) {
		json_t *l = field(r, lists[i]), *it;
		char line[200];

		json_array_foreach(l, j, it) {
			snprintf(line, sizeof(line), "%s: %s", lists[i],
			    json_string_value(it));
			json_array_append_new(notes, json_string(line));
		}
		json_decref(l);
	}
	{
		json_t *bg = field(r, "blood_group");

		if (json_is_string(bg)) {
			char line[64];

			snprintf(line, sizeof(line), "blood group: %s",
			    json_string_value(bg));
			json_array_append_new(notes, json_string(line));
		}
		json_decref(bg);
	}
	json_object_set_new(p, "text", json_pack("{s:s, s:o}", "status",
	    "additional", "notes", notes));
	return p;
}

static json_t *
coverage(const struct record *r)
{
	char plan[90], status[20], payer[170], group[90], start[12], end[12];
	json_t *c, *period = json_object();

	c = json_pack("{s:s, s:s, s:o, s:[{s:{s:[{s:s}]}, s:s}]}",
	    "resourceType", "Coverage", "status",
	    str_field(r, "status", status, sizeof(status)), "beneficiary",
	    patient_ref(r), "class", "type", "coding", "code", "plan", "value",
	    str_field(r, "plan", plan, sizeof(plan)));
	if (*str_field(r, "payer", payer, sizeof(payer)))
		json_object_set_new(c, "payor", json_pack("[{s:s}]", "display",
		    payer));
	if (*str_field(r, "group", group, sizeof(group)))
		json_array_append_new(json_object_get(c, "class"), json_pack(
		    "{s:{s:[{s:s}]}, s:s}", "type", "coding", "code", "group",
		    "value", group));
	if (*str_field(r, "period_start", start, sizeof(start)))
		json_object_set_new(period, "start", json_string(start));
	if (*str_field(r, "period_end", end, sizeof(end)))
		json_object_set_new(period, "end", json_string(end));
	json_object_set_new(c, "period", period);
	return c;
}

/* A CodeableConcept from the record's code field, system and label. */
static json_t *
concept(const struct record *r, const char *code_field)
{
	char code[40], sys[110], label[170];
	json_t *cc;

	str_field(r, code_field, code, sizeof(code));
	str_field(r, "system", sys, sizeof(sys));
	str_field(r, "label", label, sizeof(label));
	cc = json_pack("{s:s}", "text", label);
	if (code[0] != '\0') {
		json_t *cd = json_pack("{s:s, s:s}", "code", code, "display",
		    label);

		if (sys[0] != '\0' && strcmp(sys, "unknown") != 0)
			json_object_set_new(cd, "system", json_string(sys));
		json_object_set_new(cc, "coding", json_pack("[o]", cd));
	}
	return cc;
}

/* A status code of system as a CodeableConcept, when the field is set. */
static void
status_concept(json_t *res, const struct record *r, const char *field,
    const char *key, const char *system)
{
	char v[24];

	if (*str_field(r, field, v, sizeof(v)))
		json_object_set_new(res, key, json_pack("{s:[{s:s, s:s}]}",
		    "coding", "system", system, "code", v));
}

/* A date text ("2020-03", a dateTime) as a FHIR choice: key + DateTime
 * when it reads as one, key + String otherwise. */
static void
date_or_text(json_t *res, const struct record *r, const char *field,
    const char *key)
{
	char v[40], k[48];
	int64_t t;
	bool date = false;

	if (!*str_field(r, field, v, sizeof(v)))
		return;
	if (time_parse(v, &t) == 0)
		date = true;
	else if (strlen(v) == 4 || (strlen(v) == 7 && v[4] == '-'))
		date = strspn(v, "0123456789-") == strlen(v);
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
		json_object_set_new(c, "category", json_pack("[{s:[{s:s, s:s}]}]",
		    "coding", "system",
		    "http://terminology.hl7.org/CodeSystem/condition-category",
		    "code", cat));
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
fhir_resource(const struct record *r, unsigned long long seq)
{
	char when[TIME_STR_LEN + 1], id[64];
	const char *t = r->type->name;
	json_t *res;

	time_text(r, when);
	if (strcmp(t, "claim") == 0)
		res = claim_eob(r, when);
	else if (strcmp(t, "dispense") == 0)
		res = dispense(r, when);
	else if (strcmp(t, "lab_result") == 0)
		res = observation(r, when, "laboratory", "http://loinc.org",
		    "loinc", "label", "unit");
	else if (strcmp(t, "observation") == 0)
		res = observation(r, when, "vital-signs",
		    "urn:carnet:observation-kind", "kind", "kind", "kind");
	else if (strcmp(t, "profile") == 0)
		return profile(r);
	else if (strcmp(t, "coverage") == 0)
		res = coverage(r);
	else if (strcmp(t, "condition") == 0)
		res = condition(r, when);
	else if (strcmp(t, "allergy") == 0)
		res = allergy(r, when);
	else if (strcmp(t, "immunization") == 0)
		res = immunization(r, when);
	else
		res = observation(r, when, "environment",
		    "urn:carnet:context-kind", "kind", "area", "kind");
	if (res == NULL)
		return NULL;
	snprintf(id, sizeof(id), "carnet-%llu", seq);
	json_object_set_new(res, "id", json_string(id));
	json_object_set_new(res, "identifier", json_pack("[{s:s, s:s}]", "system",
	    "urn:carnet:holder-ref", "value", r->ref));
	return res;
}

json_t *
fhir_bundle(json_t *entries, const char *user_id)
{
	json_t *wrapped = json_array(), *res;
	size_t i;

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
