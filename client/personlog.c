/*
 * personlog.c: see personlog.h.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "../common/mpk.h"
#include "../policy/uselog.h"
#include "../schemas/recjson.h"
#include "kept.h"
#include "personlog.h"

static int
grow(struct cli_log *lg)
{
	msgpack_unpacked *n = realloc(lg->pages, (lg->npages + 1) *
	    sizeof(*n));

	if (n == NULL)
		return CARNET_E_NOMEM;
	lg->pages = n;
	return 0;
}

void
cli_log_release(struct cli_log *lg)
{
	size_t i;

	for (i = 0; i < lg->npages; i++)
		msgpack_unpacked_destroy(&lg->pages[i]);
	free(lg->pages);
	json_decref(lg->names);
	memset(lg, 0, sizeof(*lg));
}

void
cli_log_foreach(struct cli_log *lg,
    void (*fn)(void *arg, const void *entry, size_t len), void *arg)
{
	size_t p;
	uint32_t i;

	for (p = 0; p < lg->npages; p++) {
		const msgpack_object *es = mpk_get(&lg->pages[p].data, "entries");

		for (i = 0; es && es->type == MSGPACK_OBJECT_ARRAY &&
		    i < es->via.array.size; i++) {
			const msgpack_object *e = &es->via.array.ptr[i];

			if (e->type == MSGPACK_OBJECT_BIN)
				fn(arg, e->via.bin.ptr, e->via.bin.size);
		}
	}
}

struct verify_ctx {
	struct cli_log *lg;
	struct uselog_verifier v;
	bool broken;
	uint64_t saved_seq;
	uint8_t saved_hash[HASH_BYTES];
	bool saved_seen;
};

/* One entry of a LOG page: its bytes, or (to a delegate limited to some
 * types) {withheld: seq, hash}. */
static void
verify_one(struct verify_ctx *vc, const msgpack_object *o, bool delegate)
{
	uint8_t hash[HASH_BYTES];
	uint64_t seq;
	int rc;

	if (vc->broken)
		return;
	if (o->type == MSGPACK_OBJECT_BIN)
		rc = uselog_verify_next(&vc->v, o->via.bin.ptr, o->via.bin.size,
		    &vc->lg->why);
	else if (delegate && mpk_u64(mpk_get(o, "withheld"), &seq) == 0 &&
	    mpk_bin_n(mpk_get(o, "hash"), hash, HASH_BYTES) == 0) {
		rc = uselog_verify_withheld(&vc->v, seq, hash, &vc->lg->why);
		vc->lg->withheld++;
	} else
		rc = cerr_set(&vc->lg->why, CARNET_E_LOG_BROKEN,
		    "entry %llu: withheld from you, or unreadable",
		    (unsigned long long)vc->v.next_seq);
	if (rc != 0) {
		vc->broken = true;
		return;
	}
	vc->lg->count++;
	/* The head we saw last time must still be in the chain, unchanged. */
	if (vc->saved_seq != 0 && vc->v.next_seq - 1 == vc->saved_seq) {
		vc->saved_seen = true;
		if (sodium_memcmp(vc->v.prev, vc->saved_hash, HASH_BYTES) != 0) {
			cerr_set(&vc->lg->why, CARNET_E_LOG_BROKEN,
			    "entry %llu: differs from the one seen before "
			    "(the log was rewritten)",
			    (unsigned long long)vc->saved_seq);
			vc->broken = true;
		}
	}
}

int
cli_log_fetch(struct cli_conn *cc, struct cli_log *lg)
{
	struct verify_ctx vc;
	uint8_t bid[ID_BYTES], hash[HASH_BYTES], sig[HEAD_SIG_BYTES];
	uint64_t from = 1, head = 0;
	const msgpack_object *h;
	bool more = true;
	size_t p;
	uint32_t i;

	memset(lg, 0, sizeof(*lg));
	lg->names = json_object();
	/* the head kept before this reading (each reply may replace it) */
	memset(&vc, 0, sizeof(vc));
	if (!kept_head_load(cc, &vc.saved_seq, vc.saved_hash))
		vc.saved_seq = 0;
	while (more) {
		msgpack_packer *pk = cli_begin(cc, 1);
		msgpack_unpacked *page;
		const msgpack_object *es, *m;

		mpk_pack_cstr(pk, "from");
		msgpack_pack_uint64(pk, from);
		if (grow(lg) != 0)
			return cerr_set(&lg->why, CARNET_E_NOMEM, "out of memory");
		page = &lg->pages[lg->npages];
		if (cli_try(cc, "LOG", page, &lg->why) != 0)
			return lg->why.code;
		lg->npages++;
		es = mpk_get(&page->data, "entries");
		h = mpk_get(&page->data, "head");
		if (es == NULL || es->type != MSGPACK_OBJECT_ARRAY ||
		    mpk_u64(mpk_get(h, "seq"), &head) != 0 ||
		    mpk_bin_n(mpk_get(h, "hash"), hash, HASH_BYTES) != 0 ||
		    mpk_bin_n(mpk_get(h, "sig"), sig, HEAD_SIG_BYTES) != 0)
			return cerr_set(&lg->why, CARNET_E_MALFORMED,
			    "unreadable LOG reply");
		cli_names_merge(lg->names, mpk_get(&page->data, "names"));
		from += es->via.array.size;
		m = mpk_get(&page->data, "more");
		more = m != NULL && m->type == MSGPACK_OBJECT_BOOLEAN &&
		    m->via.boolean && es->via.array.size > 0;
	}
	/* Verify here: the chain, then the broker's word on its head. */
	vc.lg = lg;
	uselog_verify_init(&vc.v);
	for (p = 0; p < lg->npages; p++) {
		const msgpack_object *es = mpk_get(&lg->pages[p].data, "entries");

		for (i = 0; i < es->via.array.size; i++)
			verify_one(&vc, &es->via.array.ptr[i], cc->has_for);
	}
	if (vc.broken)
		return lg->why.code;
	if (lg->count != head || sodium_memcmp(vc.v.prev, hash, HASH_BYTES) != 0)
		return cerr_set(&lg->why, CARNET_E_LOG_BROKEN,
		    "the log's last entry (%llu) is not the head the broker "
		    "signed (%llu)", (unsigned long long)lg->count,
		    (unsigned long long)head);
	if (cli_conn_broker_id(cc, bid, NULL) != 0 ||
	    uselog_head_verify(cc->who, head, hash, bid, sig) != 0)
		return cerr_set(&lg->why, CARNET_E_LOG_BROKEN,
		    "the broker's signature on the log head does not verify");
	if (vc.saved_seq > head)
		return cerr_set(&lg->why, CARNET_E_LOG_BROKEN,
		    "the log shrank: %llu entries, %llu seen before",
		    (unsigned long long)head,
		    (unsigned long long)vc.saved_seq);
	if (vc.saved_seq != 0 && !vc.saved_seen)
		return cerr_set(&lg->why, CARNET_E_LOG_BROKEN,
		    "the entry seen last (%llu) is missing",
		    (unsigned long long)vc.saved_seq);
	kept_head_save(cc, head, hash);
	lg->ok = true;
	return 0;
}

static json_t *
name_of(struct cli_log *lg, json_t *id)
{
	json_t *n = json_is_string(id) ?
	    json_object_get(lg->names, json_string_value(id)) : NULL;

	return n ? json_incref(n) : json_null();
}

/* One use as JSON: entry e, naming record rec if it is a delivery. */
static json_t *
use_json(struct cli_log *lg, const struct uselog_entry *e, uint64_t rec)
{
	char when[TIME_STR_LEN + 1], s[ID_STR_LEN + 1], tid[TOKID_STR_LEN + 1];
	json_t *o, *app = json_null(), *holder = json_null();

	time_format(e->time, when);
	if (e->has_app) {
		id_encode(e->app, s);
		app = json_string(s);
	}
	if (e->has_holder) {
		id_encode(e->holder, s);
		holder = json_string(s);
	}
	o = json_pack("{s:I, s:s, s:s, s:s, s:o, s:o}", "seq", (json_int_t)e->seq, "time", when,
	    "kind", uselog_kind_name(e->kind), "what", uselog_kind_doc(e->kind),
	    "app", app, "app_name", name_of(lg, app));
	json_object_set_new(o, "holder", holder);
	json_object_set_new(o, "holder_name", name_of(lg, holder));
	json_object_set_new(o, "type", e->type ? json_string(e->type->name) :
	    json_null());
	if (e->kind == USE_DELIVER || e->kind == USE_CORRECT)
		json_object_set_new(o, "record", json_integer((json_int_t)rec));
	else if (e->kind == USE_ERASE)
		json_object_set_new(o, "erased", json_integer((json_int_t)e->rseq));
	else if ((e->kind == USE_NOTICE || e->kind == USE_RENEW ||
	    e->kind == USE_EMERGENCY) && e->rseq != 0) {
		time_format((int64_t)e->rseq, when);
		json_object_set_new(o, e->kind == USE_EMERGENCY ? "until" :
		    "ends", json_string(when));
	}
	if (e->has_by) {
		json_t *by;

		id_encode(e->by, s);
		by = json_string(s);
		json_object_set_new(o, "by_name", name_of(lg, by));
		json_object_set_new(o, "by", by);
	}
	if (e->note[0] != '\0')
		json_object_set_new(o, "note", json_string(e->note));
	if (e->has_token) {
		tokid_encode(e->token, tid);
		json_object_set_new(o, "token", json_string(tid));
	} else {
		json_object_set_new(o, "token", json_null());
	}
	json_object_set_new(o, "purpose", json_string(e->purpose));
	return o;
}

json_t *
cli_log_entry_uses_json(struct cli_log *lg, const void *entry, size_t len)
{
	struct uselog_entry e;
	const uint64_t *recs;
	size_t n, i;
	json_t *arr;

	if (uselog_decode(entry, len, &e, NULL) != 0 ||
	    (arr = json_array()) == NULL)
		return NULL;
	n = uselog_records(&e, &recs);
	for (i = 0; i < n; i++)
		json_array_append_new(arr, use_json(lg, &e, recs[i]));
	return arr;
}

static void
collect_entry(void *arg, const void *entry, size_t len)
{
	json_t *uses = cli_log_entry_uses_json(((void **)arg)[0], entry, len);

	if (uses != NULL)
		json_array_extend(((void **)arg)[1], uses);
	json_decref(uses);
}

json_t *
cli_log_entries_json(struct cli_log *lg)
{
	json_t *arr = json_array();
	void *ctx[2] = {lg, arr};

	cli_log_foreach(lg, collect_entry, ctx);
	return arr;
}
