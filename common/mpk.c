/*
 * mpk.c: the no-allocation msgpack validator and typed getters.
 *
 * The validator keeps, per nesting level, how many items are still owed;
 * a container may not owe more items than there are bytes left, since every
 * item takes at least one byte.  That bound is what makes the later
 * msgpack-c unpack allocate at most a small multiple of the input size.
 */
#include <string.h>

#include "error.h"
#include "mpk.h"

#define MPK_STACK 32

static uint64_t
be(const uint8_t *p, size_t n)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

int
mpk_head(const uint8_t *p, const uint8_t *end, enum mpk_kind *kind,
    uint64_t *n, size_t *hlen)
{
	uint8_t b;
	size_t lb = 0;

	if (p >= end)
		return CARNET_E_TRUNCATED;
	b = *p;
	*kind = MPK_OTHER;
	*n = 0;
	*hlen = 1;
	if (b >= 0x80 && b <= 0x8f) {
		*kind = MPK_MAP, *n = b & 0x0f;
	} else if (b >= 0xa0 && b <= 0xbf) {
		*kind = MPK_STR, *n = b & 0x1f;
	} else {
		switch (b) {
		case 0xd9: *kind = MPK_STR, lb = 1; break;
		case 0xda: *kind = MPK_STR, lb = 2; break;
		case 0xdb: *kind = MPK_STR, lb = 4; break;
		case 0xde: *kind = MPK_MAP, lb = 2; break;
		case 0xdf: *kind = MPK_MAP, lb = 4; break;
		default: return 0;
		}
	}
	if (lb > 0) {
		if ((size_t)(end - p) < 1 + lb)
			return CARNET_E_TRUNCATED;
		*n = be(p + 1, lb);
		*hlen = 1 + lb;
	}
	if (*kind == MPK_STR && (uint64_t)(end - p) - *hlen < *n)
		return CARNET_E_TRUNCATED;
	return 0;
}

int
mpk_check(const void *buf, size_t len, unsigned max_depth)
{
	const uint8_t *next;
	int rc = mpk_skip(buf, (const uint8_t *)buf + len, max_depth, &next);

	if (rc == 0 && next != (const uint8_t *)buf + len)
		return CARNET_E_TRAILING;
	return rc;
}

int
mpk_skip(const uint8_t *p, const uint8_t *end, unsigned max_depth,
    const uint8_t **next)
{
	uint64_t owed[MPK_STACK];
	unsigned depth = 0;

	if (max_depth >= MPK_STACK)
		max_depth = MPK_STACK - 1;
	owed[0] = 1;
	for (;;) {
		uint8_t b;
		uint64_t n = 0, skip = 0;
		int is_map = 0, is_container = 0;
		size_t lenbytes = 0;

		while (owed[depth] == 0) {
			if (depth == 0) {
				*next = p;
				return 0;
			}
			depth--;
		}
		owed[depth]--;
		if (p >= end)
			return CARNET_E_TRUNCATED;
		b = *p++;
		if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 ||
		    b == 0xc3) {
			continue;
		} else if (b >= 0x80 && b <= 0x8f) {
			n = b & 0x0f, is_map = 1, is_container = 1;
		} else if (b >= 0x90 && b <= 0x9f) {
			n = b & 0x0f, is_container = 1;
		} else if (b >= 0xa0 && b <= 0xbf) {
			skip = b & 0x1f;
		} else {
			switch (b) {
			case 0xc4: case 0xd9: lenbytes = 1; break;
			case 0xc5: case 0xda: lenbytes = 2; break;
			case 0xc6: case 0xdb: lenbytes = 4; break;
			case 0xca: skip = 4; break;
			case 0xcb: skip = 8; break;
			case 0xcc: case 0xd0: skip = 1; break;
			case 0xcd: case 0xd1: skip = 2; break;
			case 0xce: case 0xd2: skip = 4; break;
			case 0xcf: case 0xd3: skip = 8; break;
			case 0xdc: lenbytes = 2, is_container = 1; break;
			case 0xdd: lenbytes = 4, is_container = 1; break;
			case 0xde: lenbytes = 2, is_container = 1, is_map = 1; break;
			case 0xdf: lenbytes = 4, is_container = 1, is_map = 1; break;
			default:
				/* 0xc1 (never used) and every ext type. */
				return CARNET_E_MALFORMED;
			}
			if (lenbytes) {
				if ((size_t)(end - p) < lenbytes)
					return CARNET_E_TRUNCATED;
				n = be(p, lenbytes);
				p += lenbytes;
				if (!is_container)
					skip = n;
			}
		}
		if (!is_container) {
			if ((uint64_t)(end - p) < skip)
				return CARNET_E_TRUNCATED;
			p += skip;
			continue;
		}
		if (is_map)
			n *= 2;
		if (n > (uint64_t)(end - p))
			return CARNET_E_TRUNCATED;
		if (n == 0)
			continue;
		if (depth + 1 > max_depth)
			return CARNET_E_TOO_DEEP;
		owed[++depth] = n;
	}
}

int
mpk_unpack(const void *buf, size_t len, unsigned max_depth,
    msgpack_unpacked *out)
{
	size_t off = 0;
	int rc;

	if ((rc = mpk_check(buf, len, max_depth)) != 0)
		return rc;
	msgpack_unpacked_init(out);
	if (msgpack_unpack_next(out, buf, len, &off) !=
	    MSGPACK_UNPACK_SUCCESS || off != len) {
		msgpack_unpacked_destroy(out);
		return CARNET_E_MALFORMED;
	}
	return 0;
}

int
mpk_unpack_copy(const void *buf, size_t len, unsigned max_depth,
    msgpack_unpacked *out)
{
	msgpack_zone *z;
	void *copy;
	size_t off = 0;
	int rc;

	if ((rc = mpk_check(buf, len, max_depth)) != 0)
		return rc;
	if ((z = msgpack_zone_new(MSGPACK_ZONE_CHUNK_SIZE)) == NULL)
		return CARNET_E_NOMEM;
	if ((copy = msgpack_zone_malloc(z, len ? len : 1)) == NULL) {
		msgpack_zone_free(z);
		return CARNET_E_NOMEM;
	}
	memcpy(copy, buf, len);
	msgpack_unpacked_init(out);
	if (msgpack_unpack(copy, len, &off, z, &out->data) !=
	    MSGPACK_UNPACK_SUCCESS || off != len) {
		msgpack_zone_free(z);
		return CARNET_E_MALFORMED;
	}
	out->zone = z; /* freed by msgpack_unpacked_destroy */
	return 0;
}

const msgpack_object *
mpk_get(const msgpack_object *map, const char *key)
{
	size_t klen = strlen(key);
	uint32_t i;

	if (map == NULL || map->type != MSGPACK_OBJECT_MAP)
		return NULL;
	for (i = 0; i < map->via.map.size; i++) {
		const msgpack_object *k = &map->via.map.ptr[i].key;

		if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == klen &&
		    memcmp(k->via.str.ptr, key, klen) == 0)
			return &map->via.map.ptr[i].val;
	}
	return NULL;
}

int
mpk_str(const msgpack_object *o, const char **p, size_t *len)
{
	if (o == NULL)
		return CARNET_E_MISSING_FIELD;
	if (o->type != MSGPACK_OBJECT_STR)
		return CARNET_E_FIELD_TYPE;
	*p = o->via.str.ptr;
	*len = o->via.str.size;
	return 0;
}

int
mpk_bin(const msgpack_object *o, const uint8_t **p, size_t *len)
{
	if (o == NULL)
		return CARNET_E_MISSING_FIELD;
	if (o->type != MSGPACK_OBJECT_BIN)
		return CARNET_E_FIELD_TYPE;
	*p = (const uint8_t *)o->via.bin.ptr;
	*len = o->via.bin.size;
	return 0;
}

int
mpk_bin_n(const msgpack_object *o, void *out, size_t n)
{
	const uint8_t *p;
	size_t len;
	int rc;

	if ((rc = mpk_bin(o, &p, &len)) != 0)
		return rc;
	if (len != n)
		return CARNET_E_BAD_VALUE;
	memcpy(out, p, n);
	return 0;
}

int
mpk_u64(const msgpack_object *o, uint64_t *v)
{
	if (o == NULL)
		return CARNET_E_MISSING_FIELD;
	if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		return CARNET_E_FIELD_TYPE;
	*v = o->via.u64;
	return 0;
}

int
mpk_i64(const msgpack_object *o, int64_t *v)
{
	if (o == NULL)
		return CARNET_E_MISSING_FIELD;
	if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
		*v = o->via.i64;
		return 0;
	}
	if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		return CARNET_E_FIELD_TYPE;
	if (o->via.u64 > INT64_MAX)
		return CARNET_E_BAD_VALUE;
	*v = (int64_t)o->via.u64;
	return 0;
}

int
mpk_num(const msgpack_object *o, double *v)
{
	if (o == NULL)
		return CARNET_E_MISSING_FIELD;
	switch (o->type) {
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		*v = (double)o->via.u64;
		return 0;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		*v = (double)o->via.i64;
		return 0;
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		*v = o->via.f64;
		return 0;
	default:
		return CARNET_E_FIELD_TYPE;
	}
}

int
mpk_cstr(const msgpack_object *o, char *out, size_t outsz)
{
	const char *p;
	size_t len;
	int rc;

	if ((rc = mpk_str(o, &p, &len)) != 0)
		return rc;
	if (len >= outsz)
		return CARNET_E_TOO_LONG;
	if (memchr(p, '\0', len) != NULL)
		return CARNET_E_BAD_VALUE;
	memcpy(out, p, len);
	out[len] = '\0';
	return 0;
}

bool
mpk_strn_eq(const msgpack_object *o, const char *s, size_t n)
{
	return o != NULL && o->type == MSGPACK_OBJECT_STR &&
	    o->via.str.size == n && memcmp(o->via.str.ptr, s, n) == 0;
}

/* A binary this short goes out with its header in one write. */
#define MPK_SHORT_BIN 64

void
mpk_pack_strn(msgpack_packer *pk, const char *s, size_t len)
{
	char buf[1 + 31];

	if (len < 32) { /* fixstr: the length in the header byte */
		buf[0] = (char)(0xa0 | len);
		memcpy(buf + 1, s, len);
		pk->callback(pk->data, buf, len + 1);
		return;
	}
	msgpack_pack_str(pk, len);
	msgpack_pack_str_body(pk, s, len);
}

void
mpk_pack_binn(msgpack_packer *pk, const void *p, size_t len)
{
	char buf[2 + MPK_SHORT_BIN];

	if (len <= MPK_SHORT_BIN) { /* bin 8: one length byte */
		buf[0] = (char)0xc4;
		buf[1] = (char)len;
		memcpy(buf + 2, p, len);
		pk->callback(pk->data, buf, len + 2);
		return;
	}
	msgpack_pack_bin(pk, len);
	msgpack_pack_bin_body(pk, p, len);
}
