/*
 * fuzz_frame.c: what the broker does with a frame before any store access:
 * [command][body] split at the first NUL, the command parsed, the body
 * walked and unpacked with the broker's limits, a PUT's records validated,
 * and the other structures read back from disk (parties, log entries).
 */
#include <stdint.h>
#include <string.h>

#include "../../common/limits.h"
#include "../../common/mpk.h"
#include "../../common/proto.h"
#include "../../policy/party.h"
#include "../../policy/uselog.h"
#include "../../schemas/record.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	const uint8_t *body = nul ? nul + 1 : data;
	size_t blen = nul ? size - (size_t)(nul + 1 - data) : size;
	msgpack_unpacked tree;
	const msgpack_object *recs;
	struct party p;
	struct uselog_entry e;
	struct uselog_verifier v;
	uint32_t i;

	(void)proto_cmd_parse(data, nul ? (size_t)(nul - data) : 0);
	if (mpk_unpack(body, blen, CARNET_MSGPACK_MAX_DEPTH, &tree) == 0) {
		recs = mpk_get(&tree.data, "recs");
		for (i = 0; recs && recs->type == MSGPACK_OBJECT_ARRAY &&
		    i < recs->via.array.size; i++) {
			struct record r;

			(void)record_from_object(&recs->via.array.ptr[i], &r,
			    NULL);
			(void)record_from_object_partial(&recs->via.array.ptr[i],
			    &r, NULL);
		}
		msgpack_unpacked_destroy(&tree);
	}
	(void)party_decode(body, blen, &p, NULL);
	(void)uselog_decode(body, blen, &e, NULL);
	uselog_verify_init(&v);
	(void)uselog_verify_next(&v, body, blen, NULL);
	return 0;
}
