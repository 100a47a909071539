/*
 * import.h: FHIR documents (R4, and the STU3 shape of Blue Button 2.0's
 * v1 API) as carnet records, for carnet import fhir.
 *
 *   ExplanationOfBenefit  pharmacy (PDE): a dispense per item; others
 *                         (carrier, inpatient, outpatient, DME, HHA,
 *                         hospice, SNF, Synthea's): a claim per item
 *   Patient               profile
 *   Coverage              coverage
 *   Observation           lab_result (laboratory) or observation (vital
 *                         signs, device readings; components carried whole)
 *   Condition             condition
 *   AllergyIntolerance    allergy
 *   Immunization          immunization
 *   Bundle                each entry's resource (searchset, collection,
 *                         transaction, batch)
 *
 * A document is mapped whole before anything is sent: if one resource is
 * malformed, nothing of it is kept.  Resources about people who are not
 * enrolled, and kinds carnet does not hold, are counted per kind and
 * skipped, with the reason.
 *
 * Each record's ref is stable across re-imports and distinct across
 * resources, versions and API versions:
 *   fhir:[stu3:]TYPE/ID[#ITEM]@VERSION
 * VERSION is meta.versionId, or "h" and a hash of the resource without its
 * meta when it has none: a changed resource gets new refs sharing the
 * part before "@", the broker's mark of a correction.
 */
#ifndef CARNET_FHIR_IMPORT_H
#define CARNET_FHIR_IMPORT_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>
#include <msgpack.h>

#include "../common/error.h"

/* The carnet id of the holder's customer, NULL when not enrolled: the
 * holder's enrollment, which this layer does not know.  Asked with the
 * Patient's id, then with each of its identifiers as "system|value". */
typedef const char *fhir_enrolled_fn(const void *arg, const char *customer);

#define FHIR_KINDS_MAX 48      /* resource kinds counted apart */

/* Why a resource, or part of one, was not stored as given. */
#define FHIR_NOTES(X)                                                        \
	X(NOT_ENROLLED, "resources about patients not in the enrollment")    \
	X(NOT_HELD, "resources of kinds carnet holds no records for")       \
	X(NO_CHARGE, "claim lines whose charge the holder does not give "    \
	    "(amount_eur absent)")                                           \
	X(NO_PAID, "claim lines without what the plan paid "                 \
	    "(reimbursed_eur absent)")                                       \
	X(AMBIGUOUS, "claim amounts given twice with different values "      \
	    "(left absent)")                                                 \
	X(TOTAL_NO_CATEGORY, "claim totals without a category (not used)")  \
	X(DIAGNOSES_CUT, "claims with more diagnoses than a record holds "   \
	    "(32 kept)")                                                     \
	X(NO_VALUE, "observations without a value (dataAbsentReason or "     \
	    "none): skipped")                                                \
	X(LAB_NO_LOINC, "laboratory results without a LOINC code: skipped") \
	X(ERROR_ENTERED, "resources marked entered-in-error: skipped")       \
	X(NO_BIRTH, "Patients without a birthDate (a profile needs the "     \
	    "year): skipped")                                                \
	X(CONVERTED, "readings converted to their kind's unit (UCUM)")       \
	X(TEXT_CUT, "names or labels longer than their field holds, "        \
	    "shortened")                                                     \
	X(TEXT_FOLDED, "texts with line breaks or tabs, written on one "     \
	    "line (each run of white space one space)")                      \
	X(COMPONENT_SYSTEM, "components coded outside LOINC: their code "   \
	    "kept as code:CODE, its system not")

enum fhir_note {
#define X(n, text) FHIR_NOTE_##n,
	FHIR_NOTES(X)
#undef X
	FHIR_NOTE_COUNT
};

/* True for the resource kinds carnet maps to records. */
bool fhir_kind_held(const char *kind);
/* The text of a note, for reports. */
const char *fhir_note_text(enum fhir_note n);

struct fhir_kind_count {
	char kind[32];         /* resourceType */
	unsigned seen;         /* resources of this kind in the documents */
	unsigned mapped;       /* of which mapped to records */
	unsigned records;      /* records they made */
};

struct fhir_import {
	const char *currency;          /* of amounts without one (USD) */
	int64_t now;                   /* the time of resources with no date */
	fhir_enrolled_fn *enrolled;
	const void *enrolled_arg;
	msgpack_sbuffer recs;          /* encoded records, back to back */
	unsigned n;                    /* records in recs */
	unsigned *entry_of;            /* per record: its Bundle entry (from 1;
	                                  0 for a document of one resource) */
	unsigned entry_cap;
	unsigned by_type[32];          /* per schema index */
	struct fhir_kind_count kinds[FHIR_KINDS_MAX];
	unsigned nkinds;
	unsigned notes[FHIR_NOTE_COUNT];
};

void fhir_import_init(struct fhir_import *im, fhir_enrolled_fn *enrolled,
    const void *arg, const char *currency);
void fhir_import_release(struct fhir_import *im);
/* Map one document; on error im is as before the call and err names the
 * entry and the element. */
int fhir_import_doc(struct fhir_import *im, json_t *doc, struct cerr *err)
    __attribute__((warn_unused_result));

#endif
