/*
 * fuzz_record.c: the record decoder, and what is done with a record that
 * decodes (re-encoding, minimised too, and JSON).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/mpk.h"

#include "../../schemas/recjson.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	msgpack_unpacked tree, back;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	struct record r, r2;
	json_t *j;

	if (record_decode(data, size, &tree, &r, NULL) != 0)
		return 0;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	record_pack(&pk, &r, FIELDS_ALL);
	/* what decodes re-encodes to something that decodes the same */
	if (record_decode(sb.data, sb.size, &back, &r2, NULL) != 0 ||
	    r2.present != r.present || r2.time != r.time)
		abort();
	msgpack_unpacked_destroy(&back);
	/* the delivery path's byte copy agrees with record_pack */
	{
		static const uint8_t key[RECORD_REF_KEY_BYTES], app[ID_BYTES];
		uint64_t mask = r.present & 0x5555555555555555ULL;
		struct record_view v = {mask | FIELD_REF, key, app, r.holder,
		    r.user};
		msgpack_sbuffer copy;
		msgpack_unpacked t4;
		struct record r4;

		msgpack_sbuffer_init(&copy);
		/* as an app sees it: an opaque ref that decodes */
		if (record_copy_minimised(data, size, r.type, &(struct
		    record_view){mask, key, app, r.holder, r.user}, &copy) != 0 ||
		    mpk_unpack(copy.data, copy.size, 4, &t4) != 0)
			abort();
		if (record_from_object_partial(&t4.data, &r4, NULL) != 0 ||
		    strncmp(r4.ref, RECORD_OPAQUE_PREFIX,
		    sizeof(RECORD_OPAQUE_PREFIX) - 1) != 0)
			abort();
		msgpack_unpacked_destroy(&t4);
		msgpack_sbuffer_clear(&copy);
		/* with the holder's ref granted, as record_pack */
		if (record_copy_minimised(data, size, r.type, &v, &copy) != 0)
			abort();
		msgpack_sbuffer_clear(&sb);
		record_pack(&pk, &r, mask);
		if (copy.size != sb.size || memcmp(copy.data, sb.data,
		    sb.size) != 0) {
			/* equal up to key order: the copy keeps the input's */
			msgpack_unpacked t3;
			struct record r3;

			if (mpk_unpack(copy.data, copy.size, 4, &t3) != 0)
				abort();
			if (record_from_object_partial(&t3.data, &r3, NULL) != 0 ||
			    r3.present != (r.present & mask) ||
			    strcmp(r3.ref, r.ref) != 0)
				abort();
			msgpack_unpacked_destroy(&t3);
		}
		msgpack_sbuffer_destroy(&copy);
	}
	msgpack_sbuffer_destroy(&sb);
	j = recjson_from_record(&r);
	json_decref(j);
	msgpack_unpacked_destroy(&tree);
	return 0;
}
