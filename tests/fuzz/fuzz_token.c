/*
 * fuzz_token.c: signed consent tokens and revocations, as GRANT and REVOKE
 * receive them.  The harness also signs the payload itself (with a fixed
 * key), to reach past the signature into the payload decoder.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "../../policy/consent.h"
#include "../../policy/token.h"
#include "fuzz.h"

static uint8_t pk[32], sk[64];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	uint8_t seed[32] = {1};

	(void)argc, (void)argv;
	if (sodium_init() < 0)
		abort();
	crypto_sign_seed_keypair(pk, sk, seed);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct token t;
	struct revocation rv;
	uint8_t *signed_buf;

	(void)token_open(data, size, &t, NULL);
	(void)revocation_open(data, size, &rv, NULL);
	if (token_peek(data, size, &t, NULL) == 0) {
		struct party app = {0};
		struct consent_query q = {.app = &app, .user = t.user,
			.holder = pk, .type = schema_by_index(0), .now = 1};
		uint64_t fields;

		memcpy(app.id, t.app, 32);
		(void)consent_check(&t, &q, &fields);
	}
	/* a payload signed by the user it names: the decoder is all */
	if (size > TOKEN_MAX_BYTES - SIG_BYTES ||
	    (signed_buf = malloc(SIG_BYTES + size)) == NULL)
		return 0;
	memcpy(signed_buf + SIG_BYTES, data, size);
	crypto_sign_detached(signed_buf, NULL, data, size, sk);
	(void)token_open(signed_buf, SIG_BYTES + size, &t, NULL);
	(void)revocation_open(signed_buf, SIG_BYTES + size, &rv, NULL);
	free(signed_buf);
	return 0;
}
