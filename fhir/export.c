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
 */
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

json_t *
fhir_resource(const struct record *r, unsigned long long seq)
{
	char when[TIME_STR_LEN + 1], id[64];
	const char *t = r->type->name;
	json_t *res;

	time_format(r->time, when);
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
