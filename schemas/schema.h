/*
 * schema.h: the record types carnet knows and the fields of each.
 *
 * The tables come from types/<type>.def, one file per type with a line of
 * documentation per field; this header is how the rest of carnet reads
 * them.  All returned pointers are to static storage.
 */
#ifndef CARNET_SCHEMA_H
#define CARNET_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum field_kind {
	FIELD_STR,     /* UTF-8 string of at most max_bytes */
	FIELD_INT,     /* signed integer */
	FIELD_NUM,     /* integer or float */
	FIELD_STRLIST, /* array of strings, each of at most max_bytes */
};

struct field_def {
	const char *name;
	unsigned name_len;
	enum field_kind kind;
	bool required;
	unsigned max_bytes;
	const char *doc;
	bool one_of;     /* one of the type's one_of fields must be there */
};

/*
 * A set of fields is a uint64_t mask: bit i is field i of the type's body.
 * The last bit is the pseudo-field "ref": not in the body, it is the
 * holder's own id of the record, which a consent may grant as a field
 * (FIELD_REF); without it an app sees an opaque id of its own in place
 * of the ref (record_copy_minimised).  So a type has at most 63 fields,
 * and FIELDS_ALL (a consent listing no fields) is every body field, the
 * holder's ref not included.
 */
#define SCHEMA_MAX_FIELDS 63
#define FIELD_REF_INDEX 63
#define FIELD_REF (UINT64_C(1) << FIELD_REF_INDEX)
#define FIELD_REF_NAME "ref"
#define FIELD_REF_DOC "Not a field of the record: the holder's own id of " \
	"it (for a FHIR import its resource type, id and version).  An app " \
	"gets it only when its consent lists ref; otherwise an opaque id " \
	"of its own for the record, the same for its corrections"
#define FIELDS_ALL (FIELD_REF - 1)

struct schema {
	const char *name;
	unsigned name_len;
	unsigned version;
	const char *doc;
	const struct field_def *fields;
	unsigned nfields;
	unsigned index; /* position in types.def; stored in indexes */
};

unsigned schema_count(void);
/* NULL when i >= schema_count(). */
const struct schema *schema_by_index(unsigned i);
/* NULL when no type has this name. */
const struct schema *schema_by_name(const char *name, size_t len);
/* Index of the field, or -1. */
int schema_field(const struct schema *s, const char *name, size_t len);
/*
 * The same, looking from field `from` on (then from the start): a body
 * walked in the schema's order finds each field at the first try when
 * `from` is one past the field found before.
 */
int schema_field_from(const struct schema *s, const char *name, size_t len,
    unsigned from);
/*
 * The bit index of a field a consent may list: a body field's index, or
 * FIELD_REF_INDEX for "ref" (no type has a field of that name); -1 when
 * neither.
 */
int schema_field_grantable(const struct schema *s, const char *name,
    size_t len);
/* The name of bit i of a field mask: a field's, FIELD_REF_NAME, or NULL. */
const char *schema_field_name(const struct schema *s, unsigned i);
/* Mask of the required fields. */
uint64_t schema_required(const struct schema *s);
/* Mask of the fields of which a full record holds at least one (0: none
 * such), e.g. a lab result's value, value_code or value_text. */
uint64_t schema_one_of(const struct schema *s);
/* Their names, "value, value_code or value_text", for messages. */
const char *schema_one_of_names(const struct schema *s, char *buf,
    size_t size);
const char *field_kind_name(enum field_kind k);

#endif
