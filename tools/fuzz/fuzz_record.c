/*
 * fuzz_record.c: the record decoder, and what is done with a record that
 * decodes (re-encoding, minimised too, and JSON).
 */
#include <stdint.h>
#include <stdlib.h>

#include "../../schemas/recjson.h"

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
	msgpack_sbuffer_clear(&sb);
	record_pack(&pk, &r, r.present & 0x5555555555555555ULL);
	msgpack_sbuffer_destroy(&sb);
	j = recjson_from_record(&r);
	json_decref(j);
	msgpack_unpacked_destroy(&tree);
	return 0;
}
