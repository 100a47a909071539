/*
 * schema.c: the type registry, built from types/types.def at compile time.
 */
#include <stdio.h>
#include <string.h>

#include "schema.h"

#define OPT 0
#define REQ 1
#define ONE 2 /* optional, but one of the type's ONE fields is needed */

/* Pass 1: an index per type. */
#define SCHEMA_BEGIN(n, v, d) SCHEMA_IDX_##n,
#define FIELD(n, k, r, m, d)
#define SCHEMA_END(n)
enum {
#include "types/types.def"
};
#undef SCHEMA_BEGIN
#undef FIELD
#undef SCHEMA_END

/* Pass 2: the field table of each type. */
#define SCHEMA_BEGIN(n, v, d) static const struct field_def n##_fields[] = {
#define FIELD(n, k, r, m, d)                                                  \
	{#n, sizeof(#n) - 1, FIELD_##k, r == REQ, m, d, r == ONE},
#define SCHEMA_END(n)                                                         \
	};                                                                    \
	_Static_assert(sizeof(n##_fields) / sizeof(n##_fields[0]) <=          \
	    SCHEMA_MAX_FIELDS, #n " has too many fields");
#include "types/types.def"
#undef SCHEMA_BEGIN
#undef FIELD
#undef SCHEMA_END

/* Pass 3: the registry. */
#define SCHEMA_BEGIN(n, v, d)                                                 \
	{#n, sizeof(#n) - 1, v, d, n##_fields,                                \
	    sizeof(n##_fields) / sizeof(n##_fields[0]), SCHEMA_IDX_##n},
#define FIELD(n, k, r, m, d)
#define SCHEMA_END(n)
static const struct schema schemas[] = {
#include "types/types.def"
};
#undef SCHEMA_BEGIN
#undef FIELD
#undef SCHEMA_END

#define NSCHEMAS (sizeof(schemas) / sizeof(schemas[0]))

_Static_assert(NSCHEMAS < 256, "a type index is stored in one byte");

unsigned
schema_count(void)
{
	return NSCHEMAS;
}

const struct schema *
schema_by_index(unsigned i)
{
	if (i >= NSCHEMAS)
		return NULL;
	return &schemas[i];
}

const struct schema *
schema_by_name(const char *name, size_t len)
{
	unsigned i;

	for (i = 0; i < NSCHEMAS; i++)
		if (schemas[i].name_len == len &&
		    memcmp(schemas[i].name, name, len) == 0)
			return schema_by_index(i);
	return NULL;
}

int
schema_field(const struct schema *s, const char *name, size_t len)
{
	return schema_field_from(s, name, len, 0);
}

int
schema_field_from(const struct schema *s, const char *name, size_t len,
    unsigned from)
{
	unsigned i, k;

	for (k = 0; k < s->nfields; k++) {
		i = from + k < s->nfields ? from + k : from + k - s->nfields;
		if (s->fields[i].name_len == len &&
		    memcmp(s->fields[i].name, name, len) == 0)
			return (int)i;
	}
	return -1;
}

int
schema_field_grantable(const struct schema *s, const char *name, size_t len)
{
	if (len == sizeof(FIELD_REF_NAME) - 1 &&
	    memcmp(name, FIELD_REF_NAME, len) == 0)
		return FIELD_REF_INDEX;
	return schema_field(s, name, len);
}

const char *
schema_field_name(const struct schema *s, unsigned i)
{
	if (i == FIELD_REF_INDEX)
		return FIELD_REF_NAME;
	return i < s->nfields ? s->fields[i].name : NULL;
}

/* The fields that are required (one_of false) or one-of (true), as bits. */
static uint64_t
fields_needed(const struct schema *s, bool one_of)
{
	uint64_t m = 0;
	unsigned i;

	for (i = 0; i < s->nfields; i++)
		if (one_of ? s->fields[i].one_of : s->fields[i].required)
			m |= UINT64_C(1) << i;
	return m;
}

uint64_t
schema_required(const struct schema *s)
{
	return fields_needed(s, false);
}

uint64_t
schema_one_of(const struct schema *s)
{
	return fields_needed(s, true);
}

const char *
schema_one_of_names(const struct schema *s, char *buf, size_t size)
{
	uint64_t m = schema_one_of(s);
	size_t o = 0;
	unsigned i;

	buf[0] = '\0';
	for (i = 0; i < s->nfields && o < size; i++)
		if (m & (UINT64_C(1) << i)) {
			m &= ~(UINT64_C(1) << i);
			o += (size_t)snprintf(buf + o, size - o, "%s%s", o == 0 ?
			    "" : m == 0 ? " or " : ", ", s->fields[i].name);
		}
	return buf;
}

const char *
field_kind_name(enum field_kind k)
{
	switch (k) {
	case FIELD_STR: return "string";
	case FIELD_INT: return "integer";
	case FIELD_NUM: return "number";
	case FIELD_STRLIST: return "list of strings";
	}
	return "?";
}
