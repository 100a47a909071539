/*
 * export.h: carnet records as FHIR R4 resources, for "Download My Data"
 * (charter art. 3 and 6: machine-readable, portable).  The Bundle is
 * valid R4 (checked in the tests by a FHIR validator) and carnet import
 * fhir reads it back as the same records.
 */
#ifndef CARNET_FHIR_EXPORT_H
#define CARNET_FHIR_EXPORT_H

#include <jansson.h>

#include "../schemas/record.h"

/* A FHIR R4 resource for r, id "carnet-<seq>"; names maps party ids to
 * names (the holder's, for EOB.insurer), or NULL.  NULL on no memory. */
json_t *fhir_resource(const struct record *r, unsigned long long seq,
    json_t *names);
/* A Bundle of type collection around resources (takes the array) for the
 * person user_id: the first Patient (a profile) becomes the person's
 * Patient/<user_id>, which every resource names; with no profile, a
 * Patient holding only the person's carnet id is added. */
json_t *fhir_bundle(json_t *entries, const char *user_id);

#endif
