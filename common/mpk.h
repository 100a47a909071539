/*
 * mpk.h: safe msgpack reading and small packing helpers over msgpack-c.
 *
 * msgpack-c's unpacker allocates a container from the count in its header
 * before it has seen the bytes, so a 5-byte frame can ask for gigabytes.
 * mpk_unpack() first walks the bytes without allocating: every container's
 * count must fit in the bytes left, nesting is bounded, ext types and
 * trailing bytes are refused.  Only then does msgpack-c build the tree.
 *
 * The getters take an object that may be NULL or of the wrong kind and say
 * so with an error code; nothing reads outside the buffer.
 */
#ifndef CARNET_MPK_H
#define CARNET_MPK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <msgpack.h>

/*
 * Check that buf holds exactly one well-formed msgpack object with at most
 * max_depth nested containers.  Returns 0, CARNET_E_TRUNCATED,
 * CARNET_E_TOO_DEEP, CARNET_E_MALFORMED or CARNET_E_TRAILING.
 */
int mpk_check(const void *buf, size_t len, unsigned max_depth)
    __attribute__((warn_unused_result));

/*
 * Walk the one object starting at p (not past end) without allocating,
 * as mpk_check does, and set *next just after it.
 */
int mpk_skip(const uint8_t *p, const uint8_t *end, unsigned max_depth,
    const uint8_t **next) __attribute__((warn_unused_result));

/* What an object's header says, for walking bytes without unpacking. */
enum mpk_kind { MPK_OTHER, MPK_MAP, MPK_STR };
/*
 * The header at p: a map (n pairs) or a str (n bytes, all within end), or
 * MPK_OTHER; *hlen is the header's own length.
 */
int mpk_head(const uint8_t *p, const uint8_t *end, enum mpk_kind *kind,
    uint64_t *n, size_t *hlen) __attribute__((warn_unused_result));

/*
 * mpk_check, then unpack into *out (initialised here; the caller calls
 * msgpack_unpacked_destroy(out) on success).  Strings and bins in the tree
 * point into buf, which must outlive *out.
 */
int mpk_unpack(const void *buf, size_t len, unsigned max_depth,
    msgpack_unpacked *out) __attribute__((warn_unused_result));

/*
 * mpk_unpack, but the tree owns a copy of the bytes (in its zone), so buf
 * may be freed at once: for messages whose buffer does not outlive them.
 */
int mpk_unpack_copy(const void *buf, size_t len, unsigned max_depth,
    msgpack_unpacked *out) __attribute__((warn_unused_result));

/* The value under a string key in a map object, or NULL. */
const msgpack_object *mpk_get(const msgpack_object *map, const char *key);

/* Typed reads: 0 or CARNET_E_FIELD_TYPE (o NULL gives CARNET_E_MISSING_FIELD). */
int mpk_str(const msgpack_object *o, const char **p, size_t *len);
int mpk_bin(const msgpack_object *o, const uint8_t **p, size_t *len);
/* A bin of exactly n bytes copied to out. */
int mpk_bin_n(const msgpack_object *o, void *out, size_t n);
int mpk_u64(const msgpack_object *o, uint64_t *v);
int mpk_i64(const msgpack_object *o, int64_t *v);
/* Any integer or float, as a double. */
int mpk_num(const msgpack_object *o, double *v);
/* A string copied NUL-terminated into out (size outsz); CARNET_E_TOO_LONG if it does not fit. */
int mpk_cstr(const msgpack_object *o, char *out, size_t outsz);
/* True if o is a string of n bytes equal to s. */
bool mpk_strn_eq(const msgpack_object *o, const char *s, size_t n);

/*
 * Packing helpers.  A short string or binary goes out in one write, header
 * and bytes together (the same bytes as msgpack_pack_str + _body).
 */
void mpk_pack_strn(msgpack_packer *pk, const char *s, size_t len);
void mpk_pack_binn(msgpack_packer *pk, const void *p, size_t len);

/*
 * Inline so that the length of a constant string (the keys) is counted by
 * the compiler, not at every call.
 */
static inline bool
mpk_str_eq(const msgpack_object *o, const char *s)
{
	return mpk_strn_eq(o, s, strlen(s));
}

static inline void
mpk_pack_cstr(msgpack_packer *pk, const char *s)
{
	mpk_pack_strn(pk, s, strlen(s));
}

#endif
