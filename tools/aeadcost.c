/*
 * aeadcost.c: what sealing one record costs with each AEAD libsodium
 * 1.0.18 offers, and what the per-record key lookup costs (issue 31).
 * Not built by the Makefile (bench/ holds the benchmark driver only); build
 * and run by hand:
 *   cc -O2 -o /tmp/aeadcost tools/aeadcost.c $(pkg-config --cflags --libs libsodium)
 *   /tmp/aeadcost [iterations]            ns per call (clock_gettime)
 *   valgrind --tool=callgrind /tmp/aeadcost 2000 SIZE; callgrind_annotate
 *                                         instructions per call
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#define AD_BYTES 40

static uint8_t key[32], ad[AD_BYTES], plain[1024], out[1024 + 64];
static uint8_t nonce[24], slotkey[32], master[32], cached_user[32];

static __attribute__((noinline)) void
seal_xchacha(size_t n)
{
	unsigned long long c;

	nonce[23]++;
	crypto_aead_xchacha20poly1305_ietf_encrypt(out, &c, plain, n, ad,
	    AD_BYTES, NULL, nonce, key);
}

static __attribute__((noinline)) void
seal_chacha(size_t n)
{
	unsigned long long c;

	nonce[11]++;
	crypto_aead_chacha20poly1305_ietf_encrypt(out, &c, plain, n, ad,
	    AD_BYTES, NULL, nonce, key);
}

static __attribute__((noinline)) void
seal_aesgcm(size_t n)
{
	unsigned long long c;

	nonce[11]++;
	crypto_aead_aes256gcm_encrypt(out, &c, plain, n, ad, AD_BYTES, NULL,
	    nonce, key);
}

/* record_key's cache hit: compare the id, copy the key, wipe it after */
static __attribute__((noinline)) void
key_hit(size_t n)
{
	uint8_t k[32];

	(void)n;
	if (sodium_memcmp(cached_user, ad, 32) == 0)
		memcpy(k, key, 32);
	sodium_memzero(k, sizeof(k));
}

/* record_key's miss, less the pread: BLAKE2b keyed derive */
static __attribute__((noinline)) void
key_derive(size_t n)
{
	(void)n;
	crypto_generichash(key, 32, slotkey, 32, master, 32);
}

static double
now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

static void
run(const char *name, void (*f)(size_t), size_t n, long iters)
{
	double t0, t1;
	long i;

	t0 = now_ns();
	for (i = 0; i < iters; i++)
		f(n);
	t1 = now_ns();
	printf("%-12s %5zu bytes  %8.1f ns/call\n", name, n, (t1 - t0) / iters);
}

int
main(int argc, char **argv)
{
	size_t sizes[] = {300, 1024};
	long iters = argc > 1 ? atol(argv[1]) : 200000;
	size_t i;

	if (argc > 2) /* one size only */
		sizes[0] = sizes[1] = (size_t)atol(argv[2]);
	if (sodium_init() < 0)
		return 1;
	randombytes_buf(key, sizeof(key));
	randombytes_buf(plain, sizeof(plain));
	memcpy(cached_user, ad, 32);
	for (i = 0; i < 2; i++) {
		run("xchacha", seal_xchacha, sizes[i], iters);
		run("chacha-ietf", seal_chacha, sizes[i], iters);
		if (crypto_aead_aes256gcm_is_available())
			run("aes256gcm", seal_aesgcm, sizes[i], iters);
	}
	run("key-hit", key_hit, 0, iters);
	run("key-derive", key_derive, 0, iters);
	return 0;
}
