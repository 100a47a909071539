/*
 * walk.h: reading a FHIR document element by element, with the checks
 * every mapper needs: a value of the wrong JSON type is an error naming
 * the entry and the element ("entry 3 (Observation o-1): valueQuantity.value:
 * want a number, got a string"), an absent one is NULL.
 *
 * Errors are sticky: the first one is kept in the walk's cerr and every
 * getter after it returns NULL, so a mapper reads what it needs and checks
 * w->rc once.  Paths are dotted, numbers index arrays: "item.0.quantity".
 */
#ifndef CARNET_FHIR_WALK_H
#define CARNET_FHIR_WALK_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "../common/error.h"

struct fhir_walk {
	struct cerr *err;
	int rc;                /* the first error, 0 while none */
	char where[160];       /* "entry 3 (Observation o-1)" */
	char elem[64];         /* element being read under the resource, "item[2]" */
	json_t *res;           /* the resource being mapped */
	json_t *index;         /* fullUrl and Type/id -> resource (borrowed) */
};

/* Set the first error: "WHERE: ELEM.what". Returns w->rc. */
int walk_fail(struct fhir_walk *w, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The value at path under v, NULL when absent; no type check. */
json_t *walk_at(json_t *v, const char *path);
/* Typed getters: NULL when absent or after an error; a value of another
 * type is an error naming the element.  A string of nothing but white
 * space (not valid FHIR) counts as absent. */
const char *walk_str(struct fhir_walk *w, json_t *v, const char *path);
json_t *walk_num(struct fhir_walk *w, json_t *v, const char *path);
json_t *walk_arr(struct fhir_walk *w, json_t *v, const char *path);
json_t *walk_obj(struct fhir_walk *w, json_t *v, const char *path);
/* The first of paths that holds a string. */
const char *walk_first_str(struct fhir_walk *w, json_t *v,
    const char *const *paths);

/*
 * A FHIR date or dateTime at path: "2014", "2014-03", "2014-03-01", or a
 * time with seconds and a zone.  *t is its first second (UTC), *precision
 * "year", "month" or "day" when it says less than a day (NULL otherwise).
 * 1 when found, 0 when absent; a malformed one is an error.
 */
int walk_date(struct fhir_walk *w, json_t *v, const char *path, int64_t *t,
    const char **precision);

/* Set o[key] to the text s unless s is NULL or empty (what the import
 * writes into records and the export into resources alike). */
void walk_set_text(json_t *o, const char *key, const char *s);

/* A coding's system, under its canonical name (terms_system), or NULL. */
const char *walk_system(struct fhir_walk *w, json_t *coding);
/* A coding's "system|code", into buf; false when it has no code. */
bool walk_coding(struct fhir_walk *w, json_t *coding, char *buf, size_t size);

/*
 * The resource a reference names, resolved the way FHIR resolves it:
 * "#id" in the resource's contained list, a fullUrl of the Bundle
 * (urn:uuid:..., absolute URLs), or Type/id (relative, or the tail of an
 * absolute URL, history dropped).  NULL when not in the document.
 */
json_t *walk_resolve(struct fhir_walk *w, const char *ref);
/* Add a resource to the index under key. */
void walk_index(struct fhir_walk *w, const char *key, json_t *res);

#endif
