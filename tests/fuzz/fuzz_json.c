/*
 * fuzz_json.c: a JSON line of carnet put (the type from the first byte).
 */
#include <stdint.h>
#include <stdlib.h>

#include "../../schemas/recjson.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct schema *type;
	msgpack_sbuffer sb;
	msgpack_unpacked tree;
	struct record r;

	if (size < 1)
		return 0;
	type = schema_by_index(data[0] % schema_count());
	msgpack_sbuffer_init(&sb);
	if (recjson_encode_line((const char *)data + 1, size - 1, type, &sb,
	    NULL) == 0) {
		/* accepted JSON must give a valid record */
		if (record_decode(sb.data, sb.size, &tree, &r, NULL) != 0)
			abort();
		msgpack_unpacked_destroy(&tree);
	}
	msgpack_sbuffer_destroy(&sb);
	return 0;
}
