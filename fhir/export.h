/*
 * export.h: carnet records as FHIR R4 resources, for "Download My Data"
 * (charter art. 3 and 6: machine-readable, portable).
 */
#ifndef CARNET_FHIR_EXPORT_H
#define CARNET_FHIR_EXPORT_H

#include <jansson.h>

#include "../schemas/record.h"

/* A FHIR R4 resource for r (Patient r->user is "Patient/<user id>"); NULL
 * on no memory. */
json_t *fhir_resource(const struct record *r, unsigned long long seq);
/* A Bundle of type collection around resources (takes the array). */
json_t *fhir_bundle(json_t *entries, const char *user_id);

#endif
