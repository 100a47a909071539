/*
 * terms.h: what FHIR codes mean to carnet: the adjudication categories
 * of claims (HL7, CARIN Blue Button, Blue Button 2.0 variables), the
 * vital signs and device readings that have a record kind with a fixed
 * unit, and the UCUM conversions to those units.
 */
#ifndef CARNET_FHIR_TERMS_H
#define CARNET_FHIR_TERMS_H

#include <stdbool.h>

#include <jansson.h>

#define UCUM_SYSTEM "http://unitsofmeasure.org"
#define LOINC_SYSTEM "http://loinc.org"
#define ATC_SYSTEM "http://www.whocc.no/atc"
/* CIP13 packs (and UCD units) in the ANS terminology server */
#define CIP_SYSTEM "https://smt.esante.gouv.fr/terminologie-cip_ucd"
#define ADJUDICATION_SYSTEM "http://terminology.hl7.org/CodeSystem/adjudication"

/*
 * carnet's own names in FHIR, written by the export and read back by the
 * import so that an export re-imports as the same records:
 *   HOLDER_REF  identifier: the record's ref at its holder
 *   PERSON      identifier of a Patient: the person's carnet id
 *   PARTY       identifier of a holder (EOB.insurer)
 *   FIELD_EXT   extension url prefix: a record field without a FHIR
 *               element (urn:carnet:field:care_kind), value[x] by type
 *   KIND        Observation.code: an observation kind without a LOINC code
 *   CONTEXT     Observation.code: a context record's kind
 *   MUTUAL      adjudication category: paid by the complementary mutual
 */
#define CARNET_HOLDER_REF "urn:carnet:holder-ref"
#define CARNET_PERSON "urn:carnet:person"
#define CARNET_PARTY "urn:carnet:party"
#define CARNET_FIELD_EXT "urn:carnet:field:"
#define CARNET_KIND "urn:carnet:observation-kind"
#define CARNET_CONTEXT "urn:carnet:context-kind"
#define CARNET_ADJUDICATION "urn:carnet:adjudication"

/*
 * The canonical URI of a code system known under several names: LOINC
 * is also published by the ANS (TRE_A04-Loinc, the same codes) and named
 * by its OID.  Any other system is returned as it is (NULL for NULL).
 */
const char *terms_system(const char *system);

/* What an amount of a claim is. */
enum amount_role {
	AMOUNT_OTHER,      /* known, not carried (deductible, allowed...) */
	AMOUNT_CHARGE,     /* what was charged for the line or claim */
	AMOUNT_PAID,       /* what the plan paid, whole */
	AMOUNT_PAID_PART,  /* a part of what the plan paid (to provider, to patient) */
	AMOUNT_PATIENT,    /* what the person paid */
	AMOUNT_MUTUAL,     /* what the complementary mutual paid (carnet) */
	AMOUNT_UNKNOWN,    /* no category carnet knows */
};

/*
 * The role of an adjudication or total by its category: a Blue Button
 * variable code decides when there is one (it is the more precise: BB
 * tags a per-unit rate "submitted" too), else the HL7 / CARIN code.
 */
enum amount_role terms_amount_role(json_t *category);

/* A reading with a record kind of its own (observation.def). */
struct vital {
	const char *loinc;
	const char *kind;      /* weight_kg... or NULL for blood_pressure */
	const char *unit;      /* the kind's UCUM unit */
};

/* The vital for a LOINC code, or NULL. */
const struct vital *terms_vital(const char *loinc);
/* The vital of a record kind (its first LOINC code), or NULL. */
const struct vital *terms_vital_of_kind(const char *kind);

/*
 * Convert v in UCUM unit `ucum` to the kind's unit, exactly as UCUM
 * defines it (annotations such as {beats} are units of one).  false when
 * carnet knows no exact conversion: the caller refuses the reading.
 * The units a kind accepts, for messages, in *accepted.  A count per
 * time (steps 1/(24.h), UCUM's "per day") is the count over that time:
 * *period_min is then its minutes (1440), else 0.
 */
bool terms_convert(const struct vital *k, const char *ucum, double v,
    double *out, const char **accepted, double *period_min);

#endif
