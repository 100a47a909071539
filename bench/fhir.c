/*
 * fhir.c: the fhir section of make bench: carnet import fhir's mapping
 * of a 10 000-resource Bundle (fhir/import.c), in records per second,
 * beside reading the same text with jansson in the same run (the mapping
 * cannot be faster than the parse it needs: the ratio is what mapping
 * adds).  The Bundle is made here: a Patient, then EOBs of one line
 * (Blue Button variables and HL7 categories, a care team, diagnoses) and
 * weights in [lb_av] (a UCUM conversion), half and half.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../common/id.h"
#include "../fhir/import.h"
#include "bench.h"
#include "report.h"
#include "scenarios.h"

#define RESOURCES 10000

static const char *
enrolled(const void *arg, const char *customer)
{
	return strcmp(customer, "p-1") == 0 ? arg : NULL;
}

static char *
bundle_text(unsigned n)
{
	json_t *entries = json_array(), *doc;
	unsigned i;
	char *text;

	json_array_append_new(entries, json_pack("{s:{s:s, s:s, s:s, s:s}}",
	    "resource", "resourceType", "Patient", "id", "p-1", "birthDate",
	    "1962", "gender", "female"));
	for (i = 1; i < n; i++) {
		char id[32], day[16];

		snprintf(id, sizeof(id), "r-%u", i);
		snprintf(day, sizeof(day), "2020-%02u-%02u", 1 + i % 12,
		    1 + i % 28);
		if (i % 2)
			json_array_append_new(entries, json_pack("{s:{s:s, s:s, "
			    "s:s, s:{s:s}, s:s, s:{s:[{s:s, s:s}]}, s:[{s:i, "
			    "s:{s:s}, s:{s:[{s:s}]}}], s:[{s:i, s:{s:[{s:s, s:s}]}}], "
			    "s:[{s:i, s:[i], s:{s:[{s:s, s:s, s:s}]}, s:s, s:[{s:{s:[{s:s, "
			    "s:s}]}, s:{s:f, s:s}}, {s:{s:[{s:s, s:s}]}, s:{s:f, s:s}}]}]}}",
			    "resource", "resourceType", "ExplanationOfBenefit",
			    "id", id, "status", "active", "patient", "reference",
			    "Patient/p-1", "created", day, "type", "coding", "system",
			    "http://terminology.hl7.org/CodeSystem/claim-type", "code",
			    "professional", "careTeam", "sequence", 1, "provider",
			    "display", "Dr Martin", "role", "coding", "code",
			    "performing", "diagnosis", "sequence", 1,
			    "diagnosisCodeableConcept", "coding", "system",
			    "http://hl7.org/fhir/sid/icd-10", "code", "E11", "item",
			    "sequence", 1, "careTeamSequence", 1, "productOrService",
			    "coding", "system", "http://www.ama-assn.org/go/cpt",
			    "code", "99213", "display", "Office visit", "servicedDate",
			    day, "adjudication", "category", "coding", "system",
			    "http://terminology.hl7.org/CodeSystem/adjudication",
			    "code", "submitted", "amount", "value", 80.0, "currency",
			    "EUR", "category", "coding", "system",
			    "http://terminology.hl7.org/CodeSystem/adjudication",
			    "code", "benefit", "amount", "value", 56.0, "currency",
			    "EUR"));
		else
			json_array_append_new(entries, json_pack("{s:{s:s, s:s, "
			    "s:s, s:{s:[{s:s, s:s}]}, s:{s:s}, s:s, s:{s:f, s:s, s:s, "
			    "s:s}}}", "resource", "resourceType", "Observation", "id",
			    id, "status", "final", "code", "coding", "system",
			    "http://loinc.org", "code", "29463-7", "subject",
			    "reference", "Patient/p-1", "effectiveDateTime", day,
			    "valueQuantity", "value", 150.0 + i % 50, "unit", "lb",
			    "system", "http://unitsofmeasure.org", "code", "[lb_av]"));
	}
	doc = json_pack("{s:s, s:s, s:o}", "resourceType", "Bundle", "type",
	    "collection", "entry", entries);
	text = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	return text;
}

void
section_fhir(bool quick)
{
	char *text = bundle_text(RESOURCES);
	unsigned rounds = quick ? 2 : 5, k, records = 0;
	int64_t parse_ns = 0, map_ns = 0, t0;
	size_t len = strlen(text);
	uint8_t someone[ID_BYTES] = {1};
	char uid[ID_STR_LEN + 1];

	report_section("fhir", "FHIR import", "carnet import fhir's mapping of "
	    "one Bundle of 10 000 resources (a Patient, EOBs of one line with "
	    "amounts, care team and diagnoses, weights in [lb_av] converted to "
	    "kg), in process, beside parsing the same text with jansson; best "
	    "of the rounds.");
	for (k = 0; k < rounds; k++) {
		struct fhir_import im;
		struct cerr err = {0};
		json_error_t je;
		json_t *doc;
		int64_t p, m;

		t0 = mono_ns();
		doc = json_loadb(text, len, 0, &je);
		p = mono_ns() - t0;
		if (doc == NULL) {
			fprintf(stderr, "fhir bench: %s\n", je.text);
			break;
		}
		id_encode(someone, uid);
		fhir_import_init(&im, enrolled, uid, "EUR");
		t0 = mono_ns();
		if (fhir_import_doc(&im, doc, &err) != 0)
			fprintf(stderr, "fhir bench: %s\n", cerr_msg(&err));
		m = mono_ns() - t0;
		records = im.n;
		fhir_import_release(&im);
		json_decref(doc);
		if (k == 0 || p < parse_ns)
			parse_ns = p;
		if (k == 0 || m < map_ns)
			map_ns = m;
	}
	free(text);
	report_fig("fhir_map", "mapping, records/s", records && map_ns ?
	    records / (map_ns / 1e9) : NAN, "rec/s", "%u records from %u "
	    "resources (%.1f MB); %.2f x the time to parse the same text",
	    records, RESOURCES, len / 1e6, map_ns / (double)(parse_ns ?
	    parse_ns : 1));
	report_fig("fhir_parse", "JSON parse of the same Bundle", parse_ns ?
	    RESOURCES / (parse_ns / 1e9) : NAN, "res/s", "jansson json_loadb, "
	    "the baseline");
}
