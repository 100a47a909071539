/*
 * record.h: the record envelope and its msgpack codec.
 *
 * Encoded, a record is a msgpack map:
 *   holder  bin 32   the holder's public key (set by the broker, absent
 *                    from what holders send)
 *   ref     str      the holder's own id for the record (idempotent resend);
 *                    an app is shown an opaque id instead, unless its
 *                    consent lists ref (record_copy_minimised)
 *   user    bin 32   public key of the person the record is about
 *   type    str      a type of schema.h
 *   v       uint     schema version the body follows
 *   time    int      when the fact happened, seconds since the epoch, UTC,
 *                    from TIME_MIN to TIME_MAX (years 0001 to 9999)
 *   corrects uint    optional, set by the broker: the seq of the record this
 *                    one is another version of (same holder, ref BASE@V
 *                    after BASE@W): a correction
 *   body    map      the type's fields (schemas/types/<type>.def)
 * Nothing else is accepted: unknown keys, wrong kinds, over-long strings,
 * invalid UTF-8 and nesting the schema does not allow are all refused with
 * a code and a message naming the field.
 */
#ifndef CARNET_RECORD_H
#define CARNET_RECORD_H

#include <stdbool.h>
#include <stdint.h>

#include <msgpack.h>

#include "../common/error.h"
#include "../common/id.h"
#include "../common/limits.h"
#include "../common/text.h"
#include "schema.h"

/* Nesting of a record on its own: envelope, body, list field. */
#define RECORD_MAX_DEPTH 3

struct record {
	bool has_holder;
	uint8_t holder[ID_BYTES];
	char ref[RECORD_REF_MAX_BYTES + 1];
	uint8_t user[ID_BYTES];
	const struct schema *type;
	uint32_t version;
	int64_t time;
	uint64_t corrects; /* seq of the version this corrects; 0: none */
	/* The validated body map, borrowed from the tree the record was read from. */
	const msgpack_object *body;
	uint64_t present; /* fields present in body */
};

/*
 * Validate a record held in an unpacked tree (o and everything under it
 * must outlive r).  0 or a CARNET_E_* code with err naming the field.
 */
int record_from_object(const msgpack_object *o, struct record *r,
    struct cerr *err) __attribute__((warn_unused_result));

/*
 * The same, for a record minimised under a token: required fields may be
 * missing, everything present is still checked.
 */
int record_from_object_partial(const msgpack_object *o, struct record *r,
    struct cerr *err) __attribute__((warn_unused_result));

/*
 * Decode and validate one encoded record of at most RECORD_MAX_BYTES.
 * On success the caller owns *tree (msgpack_unpacked_destroy) and r points
 * into it and into buf.
 */
int record_decode(const void *buf, size_t len, msgpack_unpacked *tree,
    struct record *r, struct cerr *err) __attribute__((warn_unused_result));

/*
 * Encode r, keeping only the body fields in the mask `fields`
 * (FIELDS_ALL keeps everything; this is where minimisation happens).
 */
void record_pack(msgpack_packer *pk, const struct record *r, uint64_t fields);
/*
 * What an app is shown of a record: an opaque id of its own in place of
 * the holder's ref, "carnet:" and 32 base32 characters of a keyed
 * BLAKE2b-160 of (app, holder, user, the ref's base) under a key of the
 * broker's (store_ref_key).  The base is the ref before its last '@'
 * (BASE@V: the versions of one record, store_record_put), the whole ref
 * when it has none: so a correction comes under the id the app saw for
 * the record it corrects.  Another app, another id; without the key, no
 * way back to the ref.
 */
#define RECORD_REF_KEY_BYTES 32
#define RECORD_OPAQUE_PREFIX "carnet:"
#define RECORD_OPAQUE_HASH_BYTES 20
#define RECORD_OPAQUE_LEN (sizeof(RECORD_OPAQUE_PREFIX) - 1 + 32)

void record_ref_opaque(const uint8_t key[RECORD_REF_KEY_BYTES],
    const uint8_t app[ID_BYTES], const uint8_t holder[ID_BYTES],
    const uint8_t user[ID_BYTES], const char *ref, size_t len,
    char out[RECORD_OPAQUE_LEN + 1]);
/* The length of ref's base (see above). */
size_t record_ref_base_len(const char *ref, size_t len);

/* Who is shown a stored record, and what of it (record_copy_minimised). */
struct record_view {
	uint64_t fields; /* body fields kept; with FIELD_REF, the holder's ref */
	/* without FIELD_REF, the ref shown is record_ref_opaque of these */
	const uint8_t *ref_key;            /* RECORD_REF_KEY_BYTES */
	const uint8_t *app, *holder, *user; /* ID_BYTES each */
};

/*
 * The delivery path: append the stored record buf (of type, validated
 * when it was stored) to out as v says an app sees it, without unpacking
 * it: only the body fields in v->fields, the ref opaque unless FIELD_REF
 * is among them; the other keys and the kept values are copied byte for
 * byte.  With FIELD_REF, equal to record_pack of the decoded record.
 * 0, or CARNET_E_MALFORMED / _TRUNCATED if buf is not a record's shape
 * (out is then left as it was).
 */
int record_copy_minimised(const void *buf, size_t len,
    const struct schema *type, const struct record_view *v,
    msgpack_sbuffer *out) __attribute__((warn_unused_result));

/* True if the len bytes at s are valid UTF-8 without NUL. */

#endif
