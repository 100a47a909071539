/*
 * export.c: see export.h.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/mpk.h"
#include "../fhir/export.h"
#include "../schemas/recjson.h"
#include "export.h"
#include "personlog.h"

int
cli_records_fetch(struct cli_conn *cc, const char *cmd, const uint8_t *user,
    void (*fn)(void *arg, const struct record *r, uint64_t seq), void *arg,
    json_t *names, struct cerr *err)
{
	uint64_t from = 0;
	bool more = true;
	int rc;

	while (more) {
		msgpack_packer *pk = client_begin(cc->c, user ? 2 : 1);
		msgpack_unpacked reply;
		const msgpack_object *recs, *m, *seqs;
		uint32_t i;

		if (user != NULL) {
			mpk_pack_cstr(pk, "user");
			mpk_pack_binn(pk, user, ID_BYTES);
		}
		mpk_pack_cstr(pk, "from");
		msgpack_pack_uint64(pk, from);
		if ((rc = cli_try(cc, cmd, &reply, err)) != 0)
			return rc;
		recs = mpk_get(&reply.data, "records");
		seqs = mpk_get(&reply.data, "seqs");
		if (names != NULL)
			cli_names_merge(names, mpk_get(&reply.data, "names"));
		for (i = 0; recs && recs->type == MSGPACK_OBJECT_ARRAY &&
		    i < recs->via.array.size; i++) {
			const msgpack_object *b = &recs->via.array.ptr[i];
			msgpack_unpacked tree;
			struct record r;
			uint64_t seq = 0;

			if (seqs != NULL && seqs->type == MSGPACK_OBJECT_ARRAY &&
			    i < seqs->via.array.size &&
			    mpk_u64(&seqs->via.array.ptr[i], &seq) != 0)
				seq = 0;
			if (b->type != MSGPACK_OBJECT_BIN ||
			    record_decode(b->via.bin.ptr, b->via.bin.size, &tree,
			    &r, NULL) != 0)
				continue;
			fn(arg, &r, seq);
			msgpack_unpacked_destroy(&tree);
		}
		mpk_u64(mpk_get(&reply.data, "next"), &from);
		m = mpk_get(&reply.data, "more");
		more = m && m->type == MSGPACK_OBJECT_BOOLEAN && m->via.boolean;
		msgpack_unpacked_destroy(&reply);
	}
	return 0;
}

json_t *
cli_record_json(const struct record *r, uint64_t seq)
{
	json_t *j = recjson_from_record(r);

	if (j != NULL && seq != 0)
		json_object_set_new(j, "seq", json_integer((json_int_t)seq));
	return j;
}

struct export_ctx {
	json_t *records;
	bool fhir;
	json_t *names;
};

static void
export_one(void *arg, const struct record *r, uint64_t seq)
{
	struct export_ctx *ex = arg;
	json_t *j = ex->fhir ? fhir_resource(r,
	    json_array_size(ex->records) + 1, ex->names) : cli_record_json(r, seq);

	if (j != NULL)
		json_array_append_new(ex->records, j);
}

json_t *
cli_export_doc(struct cli_conn *cc, bool fhir, bool *log_ok, struct cerr *err)
{
	char id[ID_STR_LEN + 1], when[TIME_STR_LEN + 1];
	json_t *records = json_array(), *doc, *names = json_object();
	struct export_ctx ex = {records, fhir, names};
	struct cli_log lg;

	if (cli_records_fetch(cc, "EXPORT", NULL, export_one, &ex, names,
	    err) != 0) {
		json_decref(records);
		json_decref(names);
		return NULL;
	}
	*log_ok = cli_log_fetch(cc, &lg) == 0;
	if (!*log_ok)
		*err = lg.why;
	id_encode(cc->who, id);
	time_format((int64_t)time(NULL), when);
	if (fhir) {
		doc = fhir_bundle(records, id);
	} else {
		json_object_update(names, lg.names);
		doc = json_pack("{s:i, s:s, s:s, s:o, s:o, s:{s:I, s:b}, s:O}",
		    "carnet_export", 1, "user", id, "exported_at", when,
		    "records", records, "log", cli_log_entries_json(&lg),
		    "log_head", "seq", (json_int_t)lg.count, "verified", *log_ok,
		    "names", names);
	}
	json_decref(names);
	cli_log_release(&lg);
	if (doc == NULL)
		cerr_set(err, CARNET_E_NOMEM, "cannot build the export");
	return doc;
}
