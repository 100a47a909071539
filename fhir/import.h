/*
 * import.h: FHIR R4 documents (US Blue Button 2.0 and the like) as
 * carnet records, for carnet import fhir.
 *
 *   ExplanationOfBenefit  pharmacy (PDE): one dispense per item
 *                         others (carrier, inpatient, outpatient, DME...):
 *                         one claim per item
 *   Patient               profile
 *   Coverage              coverage
 *   Observation           lab_result (laboratory, LOINC) or observation
 *                         (vital signs, activity)
 *   Bundle                each entry's resource
 * A document is mapped whole before anything is sent: if one resource is
 * malformed, nothing of the document is kept.  Resources about people who
 * are not in the enrollment file, and kinds carnet does not hold, are
 * counted and skipped.
 */
#ifndef CARNET_FHIR_IMPORT_H
#define CARNET_FHIR_IMPORT_H

#include <jansson.h>
#include <msgpack.h>

#include "../common/error.h"

/* The carnet id of the holder's customer (a FHIR Patient id), NULL when
 * not enrolled: the holder's enrollment, which this layer does not know. */
typedef const char *fhir_enrolled_fn(const void *arg, const char *customer);

struct fhir_import {
	const char *currency;          /* of amounts without one (USD) */
	fhir_enrolled_fn *enrolled;
	const void *enrolled_arg;
	msgpack_sbuffer recs;          /* encoded records, back to back */
	unsigned n;                    /* records in recs */
	unsigned by_type[16];          /* per schema index */
	unsigned not_enrolled, other_kinds;
};

void fhir_import_init(struct fhir_import *im, fhir_enrolled_fn *enrolled,
    const void *arg, const char *currency);
void fhir_import_release(struct fhir_import *im);
/* Map one document; on error im is as before the call. */
int fhir_import_doc(struct fhir_import *im, json_t *doc, struct cerr *err)
    __attribute__((warn_unused_result));

#endif
