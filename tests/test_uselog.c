/*
 * test_uselog.c: use-log entries (pack, decode, what decode refuses), the
 * hash chain over them, withheld entries and salts, and the broker's
 * signature over a head.  Through policy/uselog.h only.
 */
#include "testutil.h"

#include <sodium.h>

#include "../policy/key.h"
#include "../policy/uselog.h"

/* the optional parts of an entry, as bits of a mask */
enum {
	OPT_APP = 1 << 0,
	OPT_HOLDER = 1 << 1,
	OPT_TOKEN = 1 << 2,
	OPT_TYPE = 1 << 3,
	OPT_BY = 1 << 4,
	OPT_NOTE = 1 << 5,
	OPT_SALT = 1 << 6,
	OPT_PURPOSE = 1 << 7,
	OPT_ALL = (1 << 8) - 1,
};

static const enum uselog_kind kinds[] = {
#define X(n, w, d) USE_##n,
	USELOG_KINDS(X)
#undef X
};
static const char *const kind_words[] = {
#define X(n, w, d) w,
	USELOG_KINDS(X)
#undef X
};
#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))

static struct keypair broker, other_broker, user, other_user;

static int
setup_keys(void **state)
{
	(void)state;
	assert_int_equal(key_generate(&broker), 0);
	assert_int_equal(key_generate(&other_broker), 0);
	assert_int_equal(key_generate(&user), 0);
	assert_int_equal(key_generate(&other_user), 0);
	return 0;
}

/* Bytes that differ from one entry and field to the next. */
static void
pattern(uint8_t *p, size_t n, uint8_t seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(seed * 31 + i * 7 + 1);
}

/* An entry of kind k at seq with the optional parts in mask. */
static void
fill_entry(struct uselog_entry *e, enum uselog_kind k, unsigned mask,
    uint64_t seq)
{
	memset(e, 0, sizeof(*e));
	e->seq = seq;
	e->time = 1700000000 + (int64_t)seq;
	e->kind = k;
	e->rseq = seq * 3;
	if (mask & OPT_APP) {
		e->has_app = true;
		pattern(e->app, ID_BYTES, 1);
	}
	if (mask & OPT_HOLDER) {
		e->has_holder = true;
		pattern(e->holder, ID_BYTES, 2);
	}
	if (mask & OPT_TOKEN) {
		e->has_token = true;
		pattern(e->token, TOKID_BYTES, 3);
	}
	if (mask & OPT_TYPE)
		e->type = schema_by_index((unsigned)(seq % schema_count()));
	if (mask & OPT_BY) {
		e->has_by = true;
		pattern(e->by, ID_BYTES, 4);
	}
	if (mask & OPT_NOTE)
		strcpy(e->note, "why: the card's reason");
	if (mask & OPT_SALT) {
		e->has_salt = true;
		pattern(e->salt, USELOG_SALT_BYTES, (uint8_t)(5 + seq));
	}
	if (mask & OPT_PURPOSE)
		strcpy(e->purpose, "budget");
}

static void
assert_entry_equal(const struct uselog_entry *a, const struct uselog_entry *b)
{
	assert_int_equal(a->seq, b->seq);
	assert_int_equal(a->time, b->time);
	assert_int_equal(a->kind, b->kind);
	assert_memory_equal(a->prev, b->prev, HASH_BYTES);
	assert_int_equal(a->has_app, b->has_app);
	assert_int_equal(a->has_holder, b->has_holder);
	assert_int_equal(a->has_token, b->has_token);
	assert_int_equal(a->has_by, b->has_by);
	assert_int_equal(a->has_salt, b->has_salt);
	/* an absent part reads as zeros */
	assert_memory_equal(a->app, b->app, ID_BYTES);
	assert_memory_equal(a->holder, b->holder, ID_BYTES);
	assert_memory_equal(a->token, b->token, TOKID_BYTES);
	assert_memory_equal(a->by, b->by, ID_BYTES);
	assert_memory_equal(a->salt, b->salt, USELOG_SALT_BYTES);
	assert_ptr_equal(a->type, b->type);
	assert_int_equal(a->rseq, b->rseq);
	assert_int_equal(a->nrecs, b->nrecs);
	if (a->nrecs > 0)
		assert_memory_equal(a->recs, b->recs,
		    a->nrecs * sizeof(a->recs[0]));
	assert_string_equal(a->purpose, b->purpose);
	assert_string_equal(a->note, b->note);
}

/* Pack e into b (cleared first). */
static void
pack(struct tu_buf *b, const struct uselog_entry *e)
{
	tu_buf_reset(b);
	uselog_pack(&b->pk, e);
}

static void
test_kind_names_and_docs(void **state)
{
	size_t i, j;

	(void)state;
	/* every kind of the table, and nothing else, is a kind */
	assert_int_equal(NKINDS, USE__LAST - 1);
	for (i = 0; i < NKINDS; i++) {
		const char *n = uselog_kind_name(kinds[i]);
		const char *d = uselog_kind_doc(kinds[i]);

		assert_int_equal(kinds[i], (enum uselog_kind)(i + 1));
		assert_string_equal(n, kind_words[i]);
		assert_true(n[0] != '\0' && strcmp(n, "?") != 0);
		assert_true(d[0] != '\0' && strcmp(d, "?") != 0);
		/* decode reads the kind into a 16-byte buffer */
		assert_true(strlen(n) < 16);
		for (j = 0; j < i; j++) {
			assert_string_not_equal(n, uselog_kind_name(kinds[j]));
			assert_string_not_equal(d, uselog_kind_doc(kinds[j]));
		}
	}
	assert_string_equal(uselog_kind_name(USE__NONE), "?");
	assert_string_equal(uselog_kind_doc(USE__NONE), "?");
	assert_string_equal(uselog_kind_name(USE__LAST), "?");
	assert_string_equal(uselog_kind_doc(USE__LAST), "?");
	assert_string_equal(uselog_kind_name((enum uselog_kind)1000), "?");
	assert_string_equal(uselog_kind_doc((enum uselog_kind)1000), "?");
}

/* Every kind with every optional part present and absent: decode gives
 * the entry back, and packing it again gives the same bytes. */
static void
test_round_trip_every_kind_and_part(void **state)
{
	struct uselog_entry e, back;
	struct tu_buf b, b2;
	struct cerr err;
	unsigned mask;
	size_t i;

	(void)state;
	tu_buf_init(&b);
	tu_buf_init(&b2);
	for (i = 0; i < NKINDS; i++) {
		for (mask = 0; mask <= OPT_ALL; mask++) {
			fill_entry(&e, kinds[i], mask, 1 + i * 256 + mask);
			pattern(e.prev, HASH_BYTES, (uint8_t)mask);
			pack(&b, &e);
			memset(&err, 0, sizeof(err));
			if (uselog_decode(b.sb.data, b.sb.size, &back,
			    &err) != 0)
				fail_msg("kind %s mask %#x: %s",
				    kind_words[i], mask, cerr_msg(&err));
			assert_entry_equal(&back, &e);
			pack(&b2, &back);
			assert_int_equal(b2.sb.size, b.sb.size);
			assert_memory_equal(b2.sb.data, b.sb.data, b.sb.size);
		}
	}
	tu_buf_release(&b);
	tu_buf_release(&b2);
}

/* Every record type, and the extremes of the numbers and strings. */
static void
test_round_trip_extremes(void **state)
{
	struct uselog_entry e, back;
	struct tu_buf b;
	struct cerr err;
	unsigned i;

	(void)state;
	tu_buf_init(&b);
	for (i = 0; i < schema_count(); i++) {
		fill_entry(&e, USE_DELIVER, OPT_ALL, 1);
		e.type = schema_by_index(i);
		pack(&b, &e);
		assert_int_equal(uselog_decode(b.sb.data, b.sb.size, &back,
		    &err), 0);
		assert_ptr_equal(back.type, schema_by_index(i));
	}
	fill_entry(&e, USE_EMERGENCY_SET, OPT_ALL, UINT64_MAX);
	e.time = INT64_MIN;
	e.rseq = UINT64_MAX;
	memset(e.purpose, 'p', PURPOSE_MAX_BYTES);
	memset(e.note, 'n', USELOG_NOTE_MAX_BYTES);
	pack(&b, &e);
	assert_int_equal(uselog_decode(b.sb.data, b.sb.size, &back, &err), 0);
	assert_entry_equal(&back, &e);
	e.seq = 0;
	e.time = INT64_MAX;
	e.rseq = 0;
	pack(&b, &e);
	assert_int_equal(uselog_decode(b.sb.data, b.sb.size, &back, &err), 0);
	assert_entry_equal(&back, &e);
	/* an entry of no kind packs as "?", which does not decode */
	fill_entry(&e, USE__NONE, OPT_ALL, 1);
	pack(&b, &e);
	assert_int_equal(uselog_decode(b.sb.data, b.sb.size, &back, &err),
	    CARNET_E_MALFORMED);
	tu_buf_release(&b);
}

/* Every prefix of an entry is refused as truncated, and one byte more as
 * trailing; under ASan a read past the prefix would show. */
static void
test_truncated_entries_are_refused(void **state)
{
	static const unsigned masks[] = {0, OPT_ALL, OPT_SALT | OPT_NOTE};
	struct uselog_entry e, back;
	struct tu_buf b;
	struct cerr err;
	uint8_t *copy;
	size_t m, n;

	(void)state;
	tu_buf_init(&b);
	for (m = 0; m < sizeof(masks) / sizeof(masks[0]); m++) {
		fill_entry(&e, USE_REFUSED, masks[m], 9);
		pack(&b, &e);
		for (n = 0; n < b.sb.size; n++) {
			/* a copy of exactly n bytes */
			copy = malloc(n > 0 ? n : 1);
			assert_non_null(copy);
			memcpy(copy, b.sb.data, n);
			memset(&err, 0, sizeof(err));
			assert_int_equal(uselog_decode(copy, n, &back, &err),
			    CARNET_E_TRUNCATED);
			assert_int_equal(err.code, CARNET_E_TRUNCATED);
			assert_non_null(strstr(err.msg, "log entry"));
			free(copy);
		}
		msgpack_sbuffer_write(&b.sb, "\xc0", 1);
		assert_int_equal(uselog_decode(b.sb.data, b.sb.size, &back,
		    &err), CARNET_E_TRAILING);
		assert_int_equal(err.code, CARNET_E_TRAILING);
	}
	tu_buf_release(&b);
}

/* Values a field can be given in a changed entry. */
enum val {
	V_NIL, V_UINT, V_NEGINT, V_BIGUINT, V_FLOAT, V_BOOL, V_STR, V_EMPTYSTR,
	V_BIN7, V_BIN16, V_BIN32, V_EMPTYARR, V_EMPTYMAP, V_ARR, V__N,
	V_CUSTOM /* the string in custom, custom_len */
};
static const char *custom;
static size_t custom_len;
#define B(v) (1u << (v))

static void
pack_val(msgpack_packer *pk, enum val v)
{
	static const uint8_t bytes[32] = {7};

	switch (v) {
	case V_NIL: msgpack_pack_nil(pk); break;
	case V_UINT: msgpack_pack_uint64(pk, 5); break;
	case V_NEGINT: msgpack_pack_int64(pk, -5); break;
	case V_BIGUINT: msgpack_pack_uint64(pk, (uint64_t)INT64_MAX + 1); break;
	case V_FLOAT: msgpack_pack_double(pk, 1.5); break;
	case V_BOOL: msgpack_pack_true(pk); break;
	case V_STR: msgpack_pack_str_with_body(pk, "x", 1); break;
	case V_EMPTYSTR: msgpack_pack_str_with_body(pk, "", 0); break;
	case V_BIN7: msgpack_pack_bin_with_body(pk, bytes, 7); break;
	case V_BIN16: msgpack_pack_bin_with_body(pk, bytes, 16); break;
	case V_BIN32: msgpack_pack_bin_with_body(pk, bytes, 32); break;
	case V_EMPTYARR: msgpack_pack_array(pk, 0); break;
	case V_EMPTYMAP: msgpack_pack_map(pk, 0); break;
	case V_CUSTOM: msgpack_pack_str_with_body(pk, custom, custom_len); break;
	case V_ARR: /* nested: deeper than recs may go */
		msgpack_pack_array(pk, 1);
		msgpack_pack_array(pk, 1);
		msgpack_pack_uint64(pk, 1);
		break;
	default: fail();
	}
}

enum op { M_SET, M_DROP, M_ADD, M_DUP, M_BINKEY, M_PUT };

/*
 * The entry in (a packed map) with key changed by op: its value set to v,
 * the pair dropped, a pair key: v added (key absent), the pair repeated,
 * its key sent as a bin, or (M_PUT) set or added.  Into out.
 */
static void
mutate(const struct tu_buf *in, const char *key, enum op op, enum val v,
    struct tu_buf *out)
{
	msgpack_unpacked u;
	msgpack_object_kv *kv;
	size_t off = 0, klen = strlen(key);
	uint32_t i, n;
	bool found = false;

	msgpack_unpacked_init(&u);
	assert_int_equal(msgpack_unpack_next(&u, in->sb.data, in->sb.size,
	    &off), MSGPACK_UNPACK_SUCCESS);
	assert_int_equal(u.data.type, MSGPACK_OBJECT_MAP);
	n = u.data.via.map.size;
	for (i = 0; i < n; i++) {
		kv = &u.data.via.map.ptr[i];
		if (kv->key.via.str.size == klen &&
		    memcmp(kv->key.via.str.ptr, key, klen) == 0)
			found = true;
	}
	if (op == M_PUT)
		op = found ? M_SET : M_ADD;
	assert_true(found == (op != M_ADD));
	tu_buf_reset(out);
	msgpack_pack_map(&out->pk, n + (op == M_ADD || op == M_DUP) -
	    (op == M_DROP));
	for (i = 0; i < n; i++) {
		kv = &u.data.via.map.ptr[i];
		if (kv->key.via.str.size != klen ||
		    memcmp(kv->key.via.str.ptr, key, klen) != 0) {
			msgpack_pack_object(&out->pk, kv->key);
			msgpack_pack_object(&out->pk, kv->val);
			continue;
		}
		switch (op) {
		case M_SET:
			msgpack_pack_object(&out->pk, kv->key);
			pack_val(&out->pk, v);
			break;
		case M_DUP:
			msgpack_pack_object(&out->pk, kv->key);
			msgpack_pack_object(&out->pk, kv->val);
			msgpack_pack_object(&out->pk, kv->key);
			msgpack_pack_object(&out->pk, kv->val);
			break;
		case M_BINKEY:
			msgpack_pack_bin_with_body(&out->pk, key, klen);
			msgpack_pack_object(&out->pk, kv->val);
			break;
		default: /* M_DROP */
			break;
		}
	}
	if (op == M_ADD) {
		msgpack_pack_str_with_body(&out->pk, key, klen);
		pack_val(&out->pk, v);
	}
	msgpack_unpacked_destroy(&u);
}

/* What each field of an entry takes (decode refuses any other value). */
static const struct {
	const char *key;
	unsigned takes;
	bool required;
} fields[] = {
	{"seq", B(V_UINT) | B(V_BIGUINT), true},
	{"time", B(V_UINT) | B(V_NEGINT), true},
	{"kind", 0, true}, /* a kind's word, none of the values here */
	{"prev", B(V_BIN32), true},
	{"app", B(V_NIL) | B(V_BIN32), true},
	{"holder", B(V_NIL) | B(V_BIN32), true},
	{"token", B(V_NIL) | B(V_BIN16), true},
	{"type", B(V_NIL), true}, /* or a type's name */
	{"rseq", B(V_UINT) | B(V_BIGUINT), true},
	{"purpose", B(V_STR) | B(V_EMPTYSTR), true},
	{"salt", B(V_BIN16), false},
	{"by", B(V_BIN32), false}, /* never nil: absent instead */
	{"note", B(V_STR) | B(V_EMPTYSTR), false},
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

/* decode of out: 0 or the code, err set to it */
static int
decode(const struct tu_buf *b, struct uselog_entry *e)
{
	struct cerr err = {0};
	int rc = uselog_decode(b->sb.data, b->sb.size, e, &err);

	assert_int_equal(err.code, rc);
	if (rc != 0)
		assert_non_null(strstr(err.msg, "log entry"));
	return rc;
}

/* Each field given each kind of value: what it takes decodes, the rest is
 * refused (a nested non-empty container as too deep). */
static void
test_wrong_types_are_refused(void **state)
{
	struct uselog_entry e, back;
	struct tu_buf b, m;
	size_t f;
	int v;

	(void)state;
	tu_buf_init(&b);
	tu_buf_init(&m);
	fill_entry(&e, USE_DELIVER, OPT_ALL, 3);
	pack(&b, &e);
	assert_int_equal(decode(&b, &back), 0);
	for (f = 0; f < NFIELDS; f++) {
		for (v = 0; v < V__N; v++) {
			mutate(&b, fields[f].key, M_SET, (enum val)v, &m);
			if (fields[f].takes & B(v))
				assert_int_equal(decode(&m, &back), 0);
			else if (v == V_ARR)
				assert_int_equal(decode(&m, &back),
				    CARNET_E_TOO_DEEP);
			else if (decode(&m, &back) != CARNET_E_MALFORMED)
				fail_msg("%s given value %d: not refused",
				    fields[f].key, v);
		}
	}
	tu_buf_release(&b);
	tu_buf_release(&m);
}

/* in with key's value the string s (n bytes), added if absent */
static void
set_str(const struct tu_buf *in, const char *key, const char *s, size_t n,
    struct tu_buf *out)
{
	custom = s;
	custom_len = n;
	mutate(in, key, M_PUT, V_CUSTOM, out);
}

/* Strings: their bounds, embedded NULs, and the words of kind and type. */
static void
test_strings_are_bounded_and_checked(void **state)
{
	struct uselog_entry e, back;
	struct tu_buf b, m;
	char big[300];

	(void)state;
	tu_buf_init(&b);
	tu_buf_init(&m);
	memset(big, 'a', sizeof(big));
	fill_entry(&e, USE_EMERGENCY, OPT_ALL, 4);
	pack(&b, &e);

	set_str(&b, "note", big, USELOG_NOTE_MAX_BYTES, &m);
	assert_int_equal(decode(&m, &back), 0);
	assert_int_equal(strlen(back.note), USELOG_NOTE_MAX_BYTES);
	set_str(&b, "note", big, USELOG_NOTE_MAX_BYTES + 1, &m);
	assert_int_equal(decode(&m, &back), CARNET_E_MALFORMED);
	set_str(&b, "note", "a\0b", 3, &m);
	assert_int_equal(decode(&m, &back), CARNET_E_MALFORMED);
	/* an empty note sent is taken (and would be packed back without) */
	set_str(&b, "note", "", 0, &m);
	assert_int_equal(decode(&m, &back), 0);
	assert_string_equal(back.note, "");

	set_str(&b, "purpose", big, PURPOSE_MAX_BYTES, &m);
	assert_int_equal(decode(&m, &back), 0);
	set_str(&b, "purpose", big, PURPOSE_MAX_BYTES + 1, &m);
	assert_int_equal(decode(&m, &back), CARNET_E_MALFORMED);
	set_str(&b, "purpose", "a\0b", 3, &m);
	assert_int_equal(decode(&m, &back), CARNET_E_MALFORMED);

	set_str(&b, "kind", "grant", 5, &m);
	assert_int_equal(decode(&m, &back), 0);
	assert_int_equal(back.kind, USE_GRANT);
	set_str(&b, "kind", "?", 1, &m);
	assert_int_equal(decode(&m, &back), CARNET_E_MALFORMED);
	set_str(&b, "kind", "Grant", 5, &m);
	assert_int_equal(decode(&m, &back), CARNET_E_MALFORMED);
	set_str(&b, "kind", "grant\0", 6, &m);
	assert_int_equal(decode(&m, &back), CARNET_E_MALFORMED);
	set_str(&b, "kind", "", 0, &m);
	assert_int_equal(decode(&m, &back), CARNET_E_MALFORMED);
	set_str(&b, "kind", "emergency_settt", 15, &m);
	assert_int_equal(decode(&m, &back), CARNET_E_MALFORMED);
	set_str(&b, "kind", big, 16, &m);
	assert_int_equal(decode(&m, &back), CARNET_E_MALFORMED);

	set_str(&b, "type", "claim", 5, &m);
	assert_int_equal(decode(&m, &back), 0);
	assert_ptr_equal(back.type, schema_by_name("claim", 5));
	set_str(&b, "type", "no_such_type", 12, &m);
	assert_int_equal(decode(&m, &back), CARNET_E_MALFORMED);
	set_str(&b, "type", "", 0, &m);
	assert_int_equal(decode(&m, &back), CARNET_E_MALFORMED);
	tu_buf_release(&b);
	tu_buf_release(&m);
}

/* The map's keys: each required one missing, any repeated, an unknown
 * one, a key sent as bin; and what is not a map at all. */
static void
test_keys_are_exactly_the_known_ones(void **state)
{
	static const unsigned masks[] = {0, OPT_ALL};
	struct uselog_entry e, back;
	struct tu_buf b, m;
	size_t f, i;
	int v;

	(void)state;
	tu_buf_init(&b);
	tu_buf_init(&m);
	for (i = 0; i < 2; i++) {
		fill_entry(&e, USE_CORRECT, masks[i], 5);
		pack(&b, &e);
		for (f = 0; f < NFIELDS; f++) {
			bool present = fields[f].required || masks[i] != 0;

			if (!present) {
				/* an optional part added with a value it
				 * takes is read */
				for (v = 0; v < V__N; v++) {
					mutate(&b, fields[f].key, M_ADD,
					    (enum val)v, &m);
					assert_int_equal(decode(&m, &back) == 0,
					    (fields[f].takes & B(v)) != 0);
				}
				continue;
			}
			mutate(&b, fields[f].key, M_DROP, V_NIL, &m);
			assert_int_equal(decode(&m, &back), fields[f].required ?
			    CARNET_E_MALFORMED : 0);
			mutate(&b, fields[f].key, M_DUP, V_NIL, &m);
			assert_int_equal(decode(&m, &back),
			    CARNET_E_MALFORMED);
			mutate(&b, fields[f].key, M_BINKEY, V_NIL, &m);
			assert_int_equal(decode(&m, &back),
			    CARNET_E_MALFORMED);
		}
		for (v = 0; v < V__N; v++) {
			mutate(&b, "zzz", M_ADD, (enum val)v, &m);
			assert_int_equal(decode(&m, &back), v == V_ARR ?
			    CARNET_E_TOO_DEEP : CARNET_E_MALFORMED);
		}
		/* an unknown key in place of an optional one's count */
		if (masks[i] == 0) {
			mutate(&b, "Note", M_ADD, V_STR, &m);
			assert_int_equal(decode(&m, &back),
			    CARNET_E_MALFORMED);
		}
	}
	/* not a map (an array of one at the top is one level: not too deep) */
	for (v = 0; v < V__N; v++) {
		tu_buf_reset(&m);
		pack_val(&m.pk, (enum val)v);
		assert_int_equal(decode(&m, &back), CARNET_E_MALFORMED);
	}
	tu_buf_release(&b);
	tu_buf_release(&m);
}

/* The size limit is checked before anything is parsed: 1024 bytes. */
static void
test_size_limit(void **state)
{
	struct uselog_entry e, back;
	struct tu_buf b, m;
	char pad[1100];
	size_t base;

	(void)state;
	tu_buf_init(&b);
	tu_buf_init(&m);
	memset(pad, 'z', sizeof(pad));
	fill_entry(&e, USE_DELIVER, OPT_ALL, 6);
	pack(&b, &e);
	/* the entry with an unknown "zzz": str16 of n bytes, 3 + n + 4 */
	set_str(&b, "zzz", pad, 300, &m);
	base = m.sb.size - 300;
	set_str(&b, "zzz", pad, 1024 - base, &m);
	assert_int_equal(m.sb.size, 1024);
	assert_int_equal(decode(&m, &back), CARNET_E_MALFORMED);
	set_str(&b, "zzz", pad, 1025 - base, &m);
	assert_int_equal(m.sb.size, 1025);
	assert_int_equal(decode(&m, &back), CARNET_E_TOO_BIG);
	tu_buf_release(&b);
	tu_buf_release(&m);
}

/* A chain of entries as the store writes them. */
#define NCHAIN 8
struct chain {
	uint8_t *bytes[NCHAIN + 1];
	size_t len[NCHAIN + 1];
	size_t n;
};

static void
chain_add(struct chain *c, const struct uselog_entry *e)
{
	struct tu_buf b;

	tu_buf_init(&b);
	pack(&b, e);
	c->len[c->n] = b.sb.size;
	c->bytes[c->n] = malloc(b.sb.size);
	assert_non_null(c->bytes[c->n]);
	memcpy(c->bytes[c->n], b.sb.data, b.sb.size);
	c->n++;
	tu_buf_release(&b);
}

/* n entries of varied kinds, each after the one before; with salts if
 * salted. */
static void
chain_build(struct chain *c, size_t n, bool salted)
{
	struct uselog_entry e;
	size_t i;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < n; i++) {
		fill_entry(&e, kinds[(i * 5) % NKINDS],
		    (unsigned)(i * 37) & OPT_ALL & ~(unsigned)OPT_SALT,
		    i + 1);
		if (salted) {
			e.has_salt = true;
			randombytes_buf(e.salt, sizeof(e.salt));
		}
		if (i > 0)
			uselog_hash(c->bytes[i - 1], c->len[i - 1], e.prev);
		chain_add(c, &e);
	}
}

static void
chain_free(struct chain *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		free(c->bytes[i]);
	c->n = 0;
}

/*
 * Verify the n entries at bytes/len: 0 with head set, or the code with
 * err set.
 */
static int
verify(uint8_t *const *bytes, const size_t *len, size_t n,
    uint8_t head[HASH_BYTES], struct cerr *err)
{
	struct uselog_verifier v;
	size_t i;
	int rc;

	uselog_verify_init(&v);
	memset(err, 0, sizeof(*err));
	for (i = 0; i < n; i++)
		if ((rc = uselog_verify_next(&v, bytes[i], len[i], err)) != 0)
			return rc;
	assert_int_equal(v.next_seq, n + 1);
	memcpy(head, v.prev, HASH_BYTES);
	return 0;
}

/* err names entry seq first */
static void
assert_names(const struct cerr *err, uint64_t seq, const char *what)
{
	char want[64];

	assert_int_equal(err->code, CARNET_E_LOG_BROKEN);
	snprintf(want, sizeof(want), "entry %llu: ",
	    (unsigned long long)seq);
	if (strncmp(err->msg, want, strlen(want)) != 0 ||
	    strstr(err->msg, what) == NULL)
		fail_msg("want \"%s...%s\", got \"%s\"", want, what, err->msg);
}

/* ---- batch entries: a delivery covering several records (recs) ---- */

/* The first n bytes equal to s in buf, or NULL. */
static uint8_t *
find(void *buf, size_t len, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i + n <= len; i++)
		if (memcmp((uint8_t *)buf + i, s, n) == 0)
			return (uint8_t *)buf + i;
	return NULL;
}

/* A deliver entry at seq covering n records from first, step apart. */
static void
fill_batch(struct uselog_entry *e, unsigned mask, uint64_t seq, unsigned n,
    uint64_t first, uint64_t step)
{
	unsigned i;

	fill_entry(e, USE_DELIVER, mask, seq);
	e->rseq = first;
	e->nrecs = n;
	for (i = 0; i < n; i++)
		e->recs[i] = first + i * step;
}

/* A batch entry reads back as written, lists its records, and an entry of
 * one record (the old form) lists rseq alone. */
static void
test_batch_round_trip(void **state)
{
	static const unsigned ns[] = {2, 3, 17, USELOG_RECS_MAX};
	static const uint64_t steps[] = {1, 2, 1000003, UINT64_C(1) << 56};
	struct uselog_entry e, back;
	const uint64_t *recs;
	struct tu_buf b;
	size_t i, j;

	(void)state;
	tu_buf_init(&b);
	for (i = 0; i < sizeof(ns) / sizeof(ns[0]); i++)
		for (j = 0; j < sizeof(steps) / sizeof(steps[0]); j++) {
			uint64_t step = ns[i] > 3 && j == 3 ? 1 << 20 : steps[j];

			fill_batch(&e, OPT_ALL, 7, ns[i], 5, step);
			pack(&b, &e);
			assert_int_equal(uselog_decode(b.sb.data, b.sb.size,
			    &back, NULL), 0);
			assert_entry_equal(&e, &back);
			assert_int_equal(uselog_records(&back, &recs), ns[i]);
			assert_ptr_equal(recs, back.recs);
			assert_int_equal(recs[ns[i] - 1], 5 + (ns[i] - 1) * step);
		}
	fill_entry(&e, USE_DELIVER, OPT_ALL, 8);
	pack(&b, &e);
	assert_null(find(b.sb.data, b.sb.size, "recs", 4)); /* the old form */
	assert_int_equal(uselog_decode(b.sb.data, b.sb.size, &back, NULL), 0);
	assert_int_equal(uselog_records(&back, &recs), 1);
	assert_ptr_equal(recs, &back.rseq);
	assert_int_equal(recs[0], 24);
	tu_buf_release(&b);
}

/* The largest deliver entry: every part, the longest purpose and type
 * name, a delegate, USELOG_RECS_MAX seqs of 9 bytes: within the limit. */
static void
test_batch_fits_the_size_limit(void **state)
{
	struct uselog_entry e, back;
	struct tu_buf b;
	unsigned i;

	(void)state;
	tu_buf_init(&b);
	fill_batch(&e, OPT_ALL & ~OPT_NOTE, UINT64_MAX, USELOG_RECS_MAX,
	    UINT64_MAX - USELOG_RECS_MAX, 1);
	e.time = INT64_MIN;
	memset(e.purpose, 'p', PURPOSE_MAX_BYTES);
	e.purpose[PURPOSE_MAX_BYTES] = '\0';
	for (i = 0; i < schema_count(); i++)
		if (strlen(schema_by_index(i)->name) > strlen(e.type->name))
			e.type = schema_by_index(i);
	pack(&b, &e);
	assert_true(b.sb.size <= 1024);
	assert_int_equal(uselog_decode(b.sb.data, b.sb.size, &back, NULL), 0);
	assert_entry_equal(&e, &back);
	tu_buf_release(&b);
}

/* Every prefix of a batch entry is refused as truncated. */
static void
test_batch_truncated_is_refused(void **state)
{
	struct uselog_entry e, back;
	struct tu_buf b;
	uint8_t *copy;
	size_t n;

	(void)state;
	tu_buf_init(&b);
	fill_batch(&e, OPT_ALL, 3, 5, 100, 300);
	pack(&b, &e);
	for (n = 0; n < b.sb.size; n++) {
		copy = malloc(n > 0 ? n : 1);
		assert_non_null(copy);
		memcpy(copy, b.sb.data, n);
		assert_int_equal(uselog_decode(copy, n, &back, NULL),
		    CARNET_E_TRUNCATED);
		free(copy);
	}
	tu_buf_release(&b);
}

/* e packed, its map given one more pair "recs": the n values in vals
 * (negative: -5 packed, the rest as unsigned). */
static void
pack_with_recs(const struct uselog_entry *e, const int64_t *vals, size_t n,
    struct tu_buf *out)
{
	struct tu_buf b;
	size_t i;

	tu_buf_init(&b);
	pack(&b, e);
	assert_true(((uint8_t)b.sb.data[0] & 0xf0) == 0x80 &&
	    ((uint8_t)b.sb.data[0] & 0x0f) < 15);
	tu_buf_reset(out);
	msgpack_pack_map(&out->pk, ((uint8_t)b.sb.data[0] & 0x0f) + 1u);
	msgpack_sbuffer_write(&out->sb, b.sb.data + 1, b.sb.size - 1);
	msgpack_pack_str_with_body(&out->pk, "recs", 4);
	msgpack_pack_array(&out->pk, n);
	for (i = 0; i < n; i++)
		if (vals[i] < 0)
			msgpack_pack_int64(&out->pk, vals[i]);
		else
			msgpack_pack_uint64(&out->pk, (uint64_t)vals[i]);
	tu_buf_release(&b);
}

/* recs holds 2 to USELOG_RECS_MAX increasing seqs, the first rseq's, in a
 * deliver entry only; any other shape is refused. */
static void
test_batch_bad_shapes_are_refused(void **state)
{
	int64_t v[USELOG_RECS_MAX + 1];
	struct uselog_entry e, back;
	struct tu_buf m;
	size_t i;
	int k;

	(void)state;
	tu_buf_init(&m);
	for (i = 0; i <= USELOG_RECS_MAX; i++)
		v[i] = 40 + (int64_t)i;
	fill_entry(&e, USE_DELIVER, OPT_ALL, 2);
	e.rseq = 40;
	/* the good shapes: 2 and USELOG_RECS_MAX */
	pack_with_recs(&e, v, 2, &m);
	assert_int_equal(decode(&m, &back), 0);
	assert_int_equal(back.nrecs, 2);
	pack_with_recs(&e, v, USELOG_RECS_MAX, &m);
	assert_int_equal(decode(&m, &back), 0);
	/* too few, too many */
	pack_with_recs(&e, v, 0, &m);
	assert_int_equal(decode(&m, &back), CARNET_E_MALFORMED);
	pack_with_recs(&e, v, 1, &m);
	assert_int_equal(decode(&m, &back), CARNET_E_MALFORMED);
	pack_with_recs(&e, v, USELOG_RECS_MAX + 1, &m);
	assert_int_equal(decode(&m, &back), CARNET_E_MALFORMED);
	/* repeated, decreasing, negative */
	v[2] = v[1];
	pack_with_recs(&e, v, 3, &m);
	assert_int_equal(decode(&m, &back), CARNET_E_MALFORMED);
	v[2] = v[1] - 1;
	pack_with_recs(&e, v, 3, &m);
	assert_int_equal(decode(&m, &back), CARNET_E_MALFORMED);
	v[2] = -5;
	pack_with_recs(&e, v, 3, &m);
	assert_int_equal(decode(&m, &back), CARNET_E_MALFORMED);
	v[2] = 42;
	/* the first is not rseq */
	e.rseq = 39;
	pack_with_recs(&e, v, 3, &m);
	assert_int_equal(decode(&m, &back), CARNET_E_MALFORMED);
	e.rseq = 40;
	/* in any other kind of entry */
	for (k = USE__NONE + 1; k < USE__LAST; k++) {
		e.kind = (enum uselog_kind)k;
		pack_with_recs(&e, v, 3, &m);
		assert_int_equal(decode(&m, &back), k == USE_DELIVER ? 0 :
		    CARNET_E_MALFORMED);
	}
	/* not an array of seqs */
	e.kind = USE_DELIVER;
	pack(&m, &e);
	{
		struct tu_buf n;
		int val;

		tu_buf_init(&n);
		for (val = 0; val < V__N; val++) {
			mutate(&m, "recs", M_ADD, (enum val)val, &n);
			assert_int_equal(decode(&n, &back), val == V_ARR ?
			    CARNET_E_TOO_DEEP : CARNET_E_MALFORMED);
		}
		tu_buf_release(&n);
	}
	tu_buf_release(&m);
}

/* A chain of old entries and batch entries verifies; a changed seq in a
 * batch breaks the link after it. */
static void
test_batch_entries_chain(void **state)
{
	struct uselog_entry e;
	struct uselog_verifier v;
	struct tu_buf b[4];
	uint8_t prev[HASH_BYTES] = {0};
	struct cerr err = {0};
	int i;

	(void)state;
	for (i = 0; i < 4; i++) {
		tu_buf_init(&b[i]);
		if (i % 2 == 0)
			fill_entry(&e, USE_DELIVER, OPT_ALL, (uint64_t)i + 1);
		else
			fill_batch(&e, OPT_ALL, (uint64_t)i + 1, 4, 10 * i, 3);
		memcpy(e.prev, prev, HASH_BYTES);
		pack(&b[i], &e);
		uselog_hash(b[i].sb.data, b[i].sb.size, prev);
	}
	uselog_verify_init(&v);
	for (i = 0; i < 4; i++)
		assert_int_equal(uselog_verify_next(&v, b[i].sb.data,
		    b[i].sb.size, &err), 0);
	assert_memory_equal(v.prev, prev, HASH_BYTES);
	/* the last seq of entry 2's recs (its last byte before purpose's
	 * key is a fixint: 10 + 3 * 3 = 19) changed to 20 */
	{
		uint8_t *p = find(b[1].sb.data, b[1].sb.size,
		    "\x13\xa7purpose", 9);

		assert_non_null(p);
		p[0] = 20;
	}
	uselog_verify_init(&v);
	assert_int_equal(uselog_verify_next(&v, b[0].sb.data, b[0].sb.size,
	    &err), 0);
	assert_int_equal(uselog_verify_next(&v, b[1].sb.data, b[1].sb.size,
	    &err), 0);
	assert_int_equal(uselog_verify_next(&v, b[2].sb.data, b[2].sb.size,
	    &err), CARNET_E_LOG_BROKEN);
	for (i = 0; i < 4; i++)
		tu_buf_release(&b[i]);
}

static void
test_chain_verifies_and_its_head_is_the_last_hash(void **state)
{
	struct uselog_verifier v;
	uint8_t head[HASH_BYTES], last[HASH_BYTES];
	struct chain c;
	struct cerr err;
	size_t i;

	(void)state;
	chain_build(&c, NCHAIN, true);
	uselog_verify_init(&v);
	assert_int_equal(v.next_seq, 1);
	for (i = 0; i < HASH_BYTES; i++)
		assert_int_equal(v.prev[i], 0);
	for (i = 0; i < c.n; i++) {
		assert_int_equal(uselog_verify_next(&v, c.bytes[i], c.len[i],
		    &err), 0);
		uselog_hash(c.bytes[i], c.len[i], last);
		assert_memory_equal(v.prev, last, HASH_BYTES);
	}
	assert_int_equal(verify(c.bytes, c.len, c.n, head, &err), 0);
	assert_memory_equal(head, last, HASH_BYTES);
	/* the hash is BLAKE2b-256 of the bytes, unkeyed */
	crypto_generichash(last, HASH_BYTES, c.bytes[c.n - 1],
	    c.len[c.n - 1], NULL, 0);
	assert_memory_equal(head, last, HASH_BYTES);
	chain_free(&c);
}

/* The first entry follows from zeros, and is seq 1. */
static void
test_chain_starts_at_one_from_zeros(void **state)
{
	struct uselog_verifier v;
	struct uselog_entry e;
	struct chain c;
	struct cerr err;

	(void)state;
	memset(&c, 0, sizeof(c));
	fill_entry(&e, USE_GRANT, OPT_ALL, 1);
	e.prev[HASH_BYTES - 1] = 1;
	chain_add(&c, &e);
	fill_entry(&e, USE_GRANT, OPT_ALL, 2);
	chain_add(&c, &e);
	fill_entry(&e, USE_GRANT, OPT_ALL, 0);
	chain_add(&c, &e);
	uselog_verify_init(&v);
	assert_int_equal(uselog_verify_next(&v, c.bytes[0], c.len[0], &err),
	    CARNET_E_LOG_BROKEN);
	assert_names(&err, 1, "does not follow from entry 0");
	uselog_verify_init(&v);
	assert_int_equal(uselog_verify_next(&v, c.bytes[1], c.len[1], &err),
	    CARNET_E_LOG_BROKEN);
	assert_names(&err, 1, "found seq 2");
	uselog_verify_init(&v);
	assert_int_equal(uselog_verify_next(&v, c.bytes[2], c.len[2], &err),
	    CARNET_E_LOG_BROKEN);
	assert_names(&err, 1, "found seq 0");
	/* a failed entry leaves the verifier where it was */
	assert_int_equal(v.next_seq, 1);
	chain_free(&c);
}

/*
 * Each byte of each entry changed (three ways): the chain breaks at that
 * entry when it no longer reads as entry seq after its prev, else at the
 * next one; a change to the last entry that still reads shows only in
 * the head.
 */
static void
test_chain_catches_every_changed_byte(void **state)
{
	static const uint8_t flips[] = {0x01, 0x80, 0xff};
	uint8_t head[HASH_BYTES], got[HASH_BYTES], want_prev[HASH_BYTES];
	uint8_t *orig;
	struct uselog_entry e;
	struct chain c;
	struct cerr err;
	size_t i, j, f, at_entry = 0, at_next = 0, in_head = 0;

	(void)state;
	chain_build(&c, NCHAIN, true);
	assert_int_equal(verify(c.bytes, c.len, c.n, head, &err), 0);
	for (i = 0; i < c.n; i++) {
		orig = c.bytes[i];
		c.bytes[i] = malloc(c.len[i]);
		assert_non_null(c.bytes[i]);
		memset(want_prev, 0, sizeof(want_prev));
		if (i > 0)
			uselog_hash(c.bytes[i - 1], c.len[i - 1], want_prev);
		for (j = 0; j < c.len[i]; j++) {
			for (f = 0; f < sizeof(flips); f++) {
				memcpy(c.bytes[i], orig, c.len[i]);
				c.bytes[i][j] ^= flips[f];
				if (uselog_decode(c.bytes[i], c.len[i], &e,
				    NULL) != 0 || e.seq != i + 1 ||
				    memcmp(e.prev, want_prev, HASH_BYTES) != 0) {
					assert_int_equal(verify(c.bytes, c.len,
					    c.n, got, &err),
					    CARNET_E_LOG_BROKEN);
					assert_names(&err, i + 1, "");
					at_entry++;
				} else if (i + 1 < c.n) {
					assert_int_equal(verify(c.bytes, c.len,
					    c.n, got, &err),
					    CARNET_E_LOG_BROKEN);
					assert_names(&err, i + 2,
					    "does not follow from entry");
					at_next++;
				} else {
					assert_int_equal(verify(c.bytes, c.len,
					    c.n, got, &err), 0);
					assert_memory_not_equal(got, head,
					    HASH_BYTES);
					in_head++;
				}
			}
		}
		free(c.bytes[i]);
		c.bytes[i] = orig;
	}
	/* each way of failing was seen */
	assert_true(at_entry > 0 && at_next > 0 && in_head > 0);
	assert_int_equal(verify(c.bytes, c.len, c.n, got, &err), 0);
	assert_memory_equal(got, head, HASH_BYTES);
	chain_free(&c);
}

static void
test_chain_catches_removed_swapped_repeated(void **state)
{
	uint8_t *b[NCHAIN + 1];
	size_t l[NCHAIN + 1];
	uint8_t head[HASH_BYTES], got[HASH_BYTES];
	char what[80];
	struct chain c;
	struct cerr err;
	size_t i, j, n;

	(void)state;
	chain_build(&c, NCHAIN, true);
	assert_int_equal(verify(c.bytes, c.len, c.n, head, &err), 0);
	/* entry i+1 removed: found at seq i+1 */
	for (i = 0; i < c.n; i++) {
		for (j = 0, n = 0; j < c.n; j++)
			if (j != i)
				b[n] = c.bytes[j], l[n++] = c.len[j];
		if (i + 1 == c.n) {
			/* a tail cut: the chain is whole, the head is not
			 * the one signed */
			assert_int_equal(verify(b, l, n, got, &err), 0);
			assert_memory_not_equal(got, head, HASH_BYTES);
			continue;
		}
		assert_int_equal(verify(b, l, n, got, &err),
		    CARNET_E_LOG_BROKEN);
		snprintf(what, sizeof(what), "found seq %zu, an entry is "
		    "missing or moved", i + 2);
		assert_names(&err, i + 1, what);
	}
	/* entries i+1 and i+2 swapped: found at seq i+1 */
	for (i = 0; i + 1 < c.n; i++) {
		memcpy(b, c.bytes, sizeof(b));
		memcpy(l, c.len, sizeof(l));
		b[i] = c.bytes[i + 1], l[i] = c.len[i + 1];
		b[i + 1] = c.bytes[i], l[i + 1] = c.len[i];
		assert_int_equal(verify(b, l, c.n, got, &err),
		    CARNET_E_LOG_BROKEN);
		snprintf(what, sizeof(what), "found seq %zu", i + 2);
		assert_names(&err, i + 1, what);
	}
	/* entry i+1 repeated: found at seq i+2 */
	for (i = 0; i < c.n; i++) {
		for (j = 0, n = 0; j < c.n; j++) {
			b[n] = c.bytes[j], l[n++] = c.len[j];
			if (j == i)
				b[n] = c.bytes[j], l[n++] = c.len[j];
		}
		assert_int_equal(verify(b, l, n, got, &err),
		    CARNET_E_LOG_BROKEN);
		snprintf(what, sizeof(what), "found seq %zu", i + 1);
		assert_names(&err, i + 2, what);
	}
	chain_free(&c);
}

/* An entry of another chain at the right seq does not follow. */
static void
test_chain_catches_an_entry_of_another_chain(void **state)
{
	uint8_t *b[NCHAIN];
	size_t l[NCHAIN];
	uint8_t got[HASH_BYTES];
	struct chain c, d;
	struct cerr err;
	size_t i;

	(void)state;
	chain_build(&c, NCHAIN, true);
	chain_build(&d, NCHAIN, true); /* same contents, other salts */
	for (i = 0; i < c.n; i++) {
		memcpy(b, c.bytes, sizeof(b));
		memcpy(l, c.len, sizeof(l));
		b[i] = d.bytes[i], l[i] = d.len[i];
		if (i == 0) {
			/* both first entries follow from zeros: the
			 * break is at the next */
			assert_int_equal(verify(b, l, c.n, got, &err),
			    CARNET_E_LOG_BROKEN);
			assert_names(&err, 2, "does not follow from entry 1");
			continue;
		}
		assert_int_equal(verify(b, l, c.n, got, &err),
		    CARNET_E_LOG_BROKEN);
		assert_names(&err, i + 1, "does not follow");
	}
	chain_free(&c);
	chain_free(&d);
}

static void
test_withheld_entries(void **state)
{
	struct uselog_verifier v;
	uint8_t h[HASH_BYTES], head[HASH_BYTES];
	struct chain c;
	struct cerr err;
	size_t i, w;

	(void)state;
	chain_build(&c, NCHAIN, true);
	assert_int_equal(verify(c.bytes, c.len, c.n, head, &err), 0);
	/* any one entry withheld, by its hash: the chain goes on */
	for (w = 0; w < c.n; w++) {
		uselog_verify_init(&v);
		for (i = 0; i < c.n; i++) {
			if (i != w) {
				assert_int_equal(uselog_verify_next(&v,
				    c.bytes[i], c.len[i], &err), 0);
				continue;
			}
			uselog_hash(c.bytes[i], c.len[i], h);
			assert_int_equal(uselog_verify_withheld(&v, i + 1, h,
			    &err), 0);
			assert_int_equal(v.next_seq, i + 2);
			assert_memory_equal(v.prev, h, HASH_BYTES);
		}
		assert_memory_equal(v.prev, head, HASH_BYTES);
	}
	/* all withheld: the head is the last hash given */
	uselog_verify_init(&v);
	for (i = 0; i < c.n; i++) {
		uselog_hash(c.bytes[i], c.len[i], h);
		assert_int_equal(uselog_verify_withheld(&v, i + 1, h, &err),
		    0);
	}
	assert_memory_equal(v.prev, head, HASH_BYTES);
	/* a wrong hash (any bit): the next entry does not follow */
	for (i = 0; i < HASH_BYTES * 8; i += 13) {
		uselog_verify_init(&v);
		assert_int_equal(uselog_verify_next(&v, c.bytes[0], c.len[0],
		    &err), 0);
		uselog_hash(c.bytes[1], c.len[1], h);
		h[i / 8] ^= (uint8_t)(1u << (i % 8));
		assert_int_equal(uselog_verify_withheld(&v, 2, h, &err), 0);
		memset(&err, 0, sizeof(err));
		assert_int_equal(uselog_verify_next(&v, c.bytes[2], c.len[2],
		    &err), CARNET_E_LOG_BROKEN);
		assert_names(&err, 3, "does not follow from entry 2");
	}
	/* a withheld entry at the wrong seq */
	uselog_verify_init(&v);
	uselog_hash(c.bytes[0], c.len[0], h);
	assert_int_equal(uselog_verify_withheld(&v, 2, h, &err),
	    CARNET_E_LOG_BROKEN);
	assert_names(&err, 1, "found seq 2");
	assert_int_equal(uselog_verify_withheld(&v, 0, h, &err),
	    CARNET_E_LOG_BROKEN);
	assert_names(&err, 1, "found seq 0");
	assert_int_equal(v.next_seq, 1);
	assert_int_equal(uselog_verify_withheld(&v, 1, h, &err), 0);
	assert_int_equal(uselog_verify_withheld(&v, 1, h, &err),
	    CARNET_E_LOG_BROKEN);
	assert_names(&err, 2, "found seq 1");
	chain_free(&c);
}

/*
 * The salt makes a hash a commitment: the same entry under two salts has
 * two hashes, and guessing the entry without its salt finds nothing;
 * without a salt (entries from before) the hash names the entry, which a
 * guess over the kinds finds.
 */
static void
test_salt_makes_the_hash_a_commitment(void **state)
{
	uint8_t h1[HASH_BYTES], h2[HASH_BYTES], h3[HASH_BYTES], g[HASH_BYTES];
	struct uselog_entry e, guess, back;
	struct tu_buf b;
	size_t i, found;

	(void)state;
	tu_buf_init(&b);
	fill_entry(&e, USE_EMERGENCY, OPT_APP | OPT_TYPE, 7);
	e.has_salt = true;
	memset(e.salt, 0xa5, sizeof(e.salt));
	pack(&b, &e);
	uselog_hash(b.sb.data, b.sb.size, h1);
	pack(&b, &e);
	uselog_hash(b.sb.data, b.sb.size, h3);
	assert_memory_equal(h1, h3, HASH_BYTES); /* same salt, same hash */
	e.salt[USELOG_SALT_BYTES - 1] ^= 1;
	pack(&b, &e);
	uselog_hash(b.sb.data, b.sb.size, h2);
	assert_memory_not_equal(h1, h2, HASH_BYTES);
	e.has_salt = false;
	pack(&b, &e);
	uselog_hash(b.sb.data, b.sb.size, h3);
	assert_memory_not_equal(h1, h3, HASH_BYTES);
	assert_memory_not_equal(h2, h3, HASH_BYTES);
	assert_int_equal(uselog_decode(b.sb.data, b.sb.size, &back, NULL), 0);
	assert_false(back.has_salt);

	/* guessing the kind of the entry from its hash */
	for (found = 0, i = 0; i < NKINDS; i++) {
		guess = e;
		guess.kind = kinds[i];
		guess.has_salt = false;
		pack(&b, &guess);
		uselog_hash(b.sb.data, b.sb.size, g);
		if (memcmp(g, h3, HASH_BYTES) == 0) {
			assert_int_equal(kinds[i], USE_EMERGENCY);
			found++;
		}
		assert_memory_not_equal(g, h1, HASH_BYTES);
		assert_memory_not_equal(g, h2, HASH_BYTES);
	}
	assert_int_equal(found, 1);
	tu_buf_release(&b);
}

/* Entries without salts verify, and a chain may go on salted from them. */
static void
test_unsalted_entries_verify(void **state)
{
	uint8_t head[HASH_BYTES];
	struct uselog_entry e;
	struct chain c;
	struct cerr err;
	size_t i;

	(void)state;
	chain_build(&c, NCHAIN, false);
	for (i = 0; i < c.n; i++) {
		assert_int_equal(uselog_decode(c.bytes[i], c.len[i], &e, NULL),
		    0);
		assert_false(e.has_salt);
	}
	assert_int_equal(verify(c.bytes, c.len, c.n, head, &err), 0);
	fill_entry(&e, USE_DELIVER, OPT_ALL, NCHAIN + 1);
	memcpy(e.prev, head, HASH_BYTES);
	chain_add(&c, &e);
	assert_int_equal(verify(c.bytes, c.len, c.n, head, &err), 0);
	chain_free(&c);
}

static void
test_head_signatures(void **state)
{
	uint8_t hash[HASH_BYTES], sig[HEAD_SIG_BYTES], sig2[HEAD_SIG_BYTES];
	uint8_t u[ID_BYTES], h[HASH_BYTES], s[HEAD_SIG_BYTES];
	const uint64_t seq = 0x0102030405060708ULL;
	size_t i;

	(void)state;
	pattern(hash, HASH_BYTES, 9);
	uselog_head_sign(user.pk, seq, hash, broker.sk, sig);
	assert_int_equal(uselog_head_verify(user.pk, seq, hash, broker.pk,
	    sig), 0);
	/* Ed25519: the same head signs the same */
	uselog_head_sign(user.pk, seq, hash, broker.sk, sig2);
	assert_memory_equal(sig, sig2, HEAD_SIG_BYTES);

	assert_int_equal(uselog_head_verify(other_user.pk, seq, hash,
	    broker.pk, sig), CARNET_E_BAD_SIGNATURE);
	assert_int_equal(uselog_head_verify(user.pk, seq, hash,
	    other_broker.pk, sig), CARNET_E_BAD_SIGNATURE);
	assert_int_equal(uselog_head_verify(user.pk, seq + 1, hash, broker.pk,
	    sig), CARNET_E_BAD_SIGNATURE);
	assert_int_equal(uselog_head_verify(user.pk, seq - 1, hash, broker.pk,
	    sig), CARNET_E_BAD_SIGNATURE);
	/* every byte of the seq counts, in its place */
	for (i = 0; i < 64; i += 8)
		assert_int_equal(uselog_head_verify(user.pk,
		    seq ^ (UINT64_C(1) << i), hash, broker.pk, sig),
		    CARNET_E_BAD_SIGNATURE);
	assert_int_equal(uselog_head_verify(user.pk, 0x0807060504030201ULL,
	    hash, broker.pk, sig), CARNET_E_BAD_SIGNATURE);
	for (i = 0; i < ID_BYTES; i++) {
		memcpy(u, user.pk, ID_BYTES);
		u[i] ^= 0x10;
		assert_int_equal(uselog_head_verify(u, seq, hash, broker.pk,
		    sig), CARNET_E_BAD_SIGNATURE);
	}
	for (i = 0; i < HASH_BYTES; i++) {
		memcpy(h, hash, HASH_BYTES);
		h[i] ^= 0x01;
		assert_int_equal(uselog_head_verify(user.pk, seq, h, broker.pk,
		    sig), CARNET_E_BAD_SIGNATURE);
	}
	for (i = 0; i < HEAD_SIG_BYTES; i++) {
		memcpy(s, sig, HEAD_SIG_BYTES);
		s[i] ^= 0x01;
		assert_int_equal(uselog_head_verify(user.pk, seq, hash,
		    broker.pk, s), CARNET_E_BAD_SIGNATURE);
	}
	/* signed by another broker: not ours */
	uselog_head_sign(user.pk, seq, hash, other_broker.sk, s);
	assert_int_equal(uselog_head_verify(user.pk, seq, hash, broker.pk, s),
	    CARNET_E_BAD_SIGNATURE);
	assert_int_equal(uselog_head_verify(user.pk, seq, hash,
	    other_broker.pk, s), 0);
	/* seq 0, the head of an empty log, signs too */
	memset(h, 0, sizeof(h));
	uselog_head_sign(user.pk, 0, h, broker.sk, s);
	assert_int_equal(uselog_head_verify(user.pk, 0, h, broker.pk, s), 0);
	assert_int_equal(uselog_head_verify(user.pk, 1, h, broker.pk, s),
	    CARNET_E_BAD_SIGNATURE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kind_names_and_docs),
		cmocka_unit_test(test_round_trip_every_kind_and_part),
		cmocka_unit_test(test_round_trip_extremes),
		cmocka_unit_test(test_truncated_entries_are_refused),
		cmocka_unit_test(test_wrong_types_are_refused),
		cmocka_unit_test(test_strings_are_bounded_and_checked),
		cmocka_unit_test(test_keys_are_exactly_the_known_ones),
		cmocka_unit_test(test_size_limit),
		cmocka_unit_test(test_batch_round_trip),
		cmocka_unit_test(test_batch_fits_the_size_limit),
		cmocka_unit_test(test_batch_truncated_is_refused),
		cmocka_unit_test(test_batch_bad_shapes_are_refused),
		cmocka_unit_test(test_batch_entries_chain),
		cmocka_unit_test(test_chain_verifies_and_its_head_is_the_last_hash),
		cmocka_unit_test(test_chain_starts_at_one_from_zeros),
		cmocka_unit_test(test_chain_catches_every_changed_byte),
		cmocka_unit_test(test_chain_catches_removed_swapped_repeated),
		cmocka_unit_test(test_chain_catches_an_entry_of_another_chain),
		cmocka_unit_test(test_withheld_entries),
		cmocka_unit_test(test_salt_makes_the_hash_a_commitment),
		cmocka_unit_test(test_unsalted_entries_verify),
		cmocka_unit_test(test_head_signatures),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests_name("uselog", tests, setup_keys, NULL);
}
