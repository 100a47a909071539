/*
 * test_reckeys.c: the record key file (store/reckeys.h) on a real file in
 * a temporary directory: who may open it, what sealing binds a record to,
 * and that a wiped slot leaves nothing of its key on disk.
 */
#include "testutil.h"

#include <pwd.h>
#include <sys/stat.h>

#include <sodium.h>

#include "../common/limits.h"
#include "../policy/key.h"
#include "../store/reckeys.h"

struct fx {
	char *dir;
	char path[512];
	struct reckeys *k;
};

static struct keypair broker, other_broker, u1, u2, u3;

static int
setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	struct cerr err = {0};

	assert_non_null(fx);
	if (broker.pk[0] == 0 && broker.pk[1] == 0) {
		assert_int_equal(key_generate(&broker), 0);
		assert_int_equal(key_generate(&other_broker), 0);
		assert_int_equal(key_generate(&u1), 0);
		assert_int_equal(key_generate(&u2), 0);
		assert_int_equal(key_generate(&u3), 0);
	}
	fx->dir = tu_tmpdir();
	snprintf(fx->path, sizeof(fx->path), "%s/keys", fx->dir);
	if (reckeys_open(fx->path, broker.sk, &fx->k, &err) != 0)
		fail_msg("open: %s", cerr_msg(&err));
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;

	reckeys_close(&fx->k);
	reckeys_close(&fx->k); /* safe twice */
	assert_null(fx->k);
	tu_rmtree(&fx->dir);
	free(fx);
	return 0;
}

/* Close and open again under key; rc of reckeys_open. */
static int
reopen_with(struct fx *fx, const struct keypair *key, struct cerr *err)
{
	reckeys_close(&fx->k);
	memset(err, 0, sizeof(*err));
	return reckeys_open(fx->path, key->sk, &fx->k, err);
}

static void
reopen(struct fx *fx)
{
	struct cerr err;

	if (reopen_with(fx, &broker, &err) != 0)
		fail_msg("reopen: %s", cerr_msg(&err));
}

/* The whole file at path; *n its size.  The caller frees. */
static uint8_t *
slurp(const char *path, size_t *n)
{
	struct stat st;
	uint8_t *buf;
	ssize_t r;
	int fd;

	assert_true((fd = open(path, O_RDONLY)) >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	*n = (size_t)st.st_size;
	assert_non_null(buf = malloc(*n + 1));
	r = pread(fd, buf, *n, 0);
	assert_int_equal(r, (ssize_t)*n);
	close(fd);
	return buf;
}

/* The 64 bytes of slot on disk (zeros past the end of the file). */
static void
raw_slot(const char *path, uint64_t slot, uint8_t out[RECKEYS_SLOT_BYTES])
{
	uint8_t *file;
	size_t n, off = (size_t)slot * RECKEYS_SLOT_BYTES;

	file = slurp(path, &n);
	memset(out, 0, RECKEYS_SLOT_BYTES);
	if (off < n)
		memcpy(out, file + off, n - off < RECKEYS_SLOT_BYTES ?
		    n - off : RECKEYS_SLOT_BYTES);
	free(file);
}

/* How many times the n bytes of p appear in the file, at any offset. */
static size_t
occurrences(const char *path, const void *p, size_t n)
{
	uint8_t *file;
	size_t size, i, count = 0;

	file = slurp(path, &size);
	for (i = 0; i + n <= size; i++)
		if (memcmp(file + i, p, n) == 0)
			count++;
	free(file);
	return count;
}

static void
write_file(const char *path, const void *p, size_t n, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	assert_true(fd >= 0);
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(write(fd, p, n), (ssize_t)n);
	close(fd);
}

/* A sealed copy of plain (n bytes) under slot for user at seq, in a
 * buffer of exactly its size (so ASan sees any write past it). */
static uint8_t *
seal(struct fx *fx, uint64_t slot, const struct keypair *u, uint64_t seq,
    const void *plain, size_t n)
{
	struct cerr err = {0};
	uint8_t *out = malloc(n + RECKEYS_OVERHEAD);

	assert_non_null(out);
	if (reckeys_seal(fx->k, slot, u->pk, seq, plain, n, out, &err) != 0)
		fail_msg("seal slot %llu: %s", (unsigned long long)slot,
		    cerr_msg(&err));
	return out;
}

/* reckeys_unseal into a buffer of exactly the plain size; when it opens,
 * the plain bytes must be want (wn bytes). */
static int
unseal(struct fx *fx, uint64_t slot, const uint8_t *user, uint64_t seq,
    const uint8_t *sealed, size_t n, const void *want, size_t wn,
    struct cerr *err)
{
	size_t pn = n > RECKEYS_OVERHEAD ? n - RECKEYS_OVERHEAD : 1;
	uint8_t *out = malloc(pn);
	int rc;

	assert_non_null(out);
	memset(err, 0, sizeof(*err));
	rc = reckeys_unseal(fx->k, slot, user, seq, sealed, n, out, err);
	assert_int_equal(err->code, rc);
	if (rc == 0) {
		assert_int_equal(n - RECKEYS_OVERHEAD, wn);
		if (wn > 0)
			assert_memory_equal(out, want, wn);
	}
	free(out);
	return rc;
}

static void
fill(struct fx *fx, uint64_t slot, const struct keypair *u)
{
	struct cerr err = {0};

	if (reckeys_fill(fx->k, slot, u->pk, &err) != 0)
		fail_msg("fill slot %llu: %s", (unsigned long long)slot,
		    cerr_msg(&err));
}

static void
wipe(struct fx *fx, uint64_t slot)
{
	struct cerr err = {0};

	if (reckeys_wipe(fx->k, slot, &err) != 0)
		fail_msg("wipe slot %llu: %s", (unsigned long long)slot,
		    cerr_msg(&err));
}

static void
sync_keys(struct fx *fx)
{
	struct cerr err = {0};

	if (reckeys_sync(fx->k, &err) != 0)
		fail_msg("sync: %s", cerr_msg(&err));
}

/* Made with no access for group or others, whatever the umask; a header
 * slot and nothing else; opens again. */
static void
test_open_creates_a_private_file(void **state)
{
	struct fx *fx = *state;
	uint8_t hdr[RECKEYS_SLOT_BYTES], hdr2[RECKEYS_SLOT_BYTES];
	static const char magic[32] = "carnet record keys v1";
	char path[600];
	struct reckeys *k = NULL;
	struct cerr err;
	struct stat st;
	mode_t old;

	assert_int_equal(stat(fx->path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 077, 0);
	assert_int_equal(st.st_size, RECKEYS_SLOT_BYTES);
	assert_int_equal(st.st_uid, geteuid());
	raw_slot(fx->path, 0, hdr);
	assert_memory_equal(hdr, magic, sizeof(magic));

	/* with a umask that would let anyone in */
	snprintf(path, sizeof(path), "%s/keys2", fx->dir);
	old = umask(0);
	assert_int_equal(reckeys_open(path, broker.sk, &k, &err), 0);
	umask(old);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	reckeys_close(&k);
	/* the header is a function of the broker key */
	raw_slot(path, 0, hdr2);
	assert_memory_equal(hdr, hdr2, RECKEYS_SLOT_BYTES);

	reopen(fx);
	assert_int_equal(stat(fx->path, &st), 0);
	assert_int_equal(st.st_size, RECKEYS_SLOT_BYTES);
	raw_slot(fx->path, 0, hdr2);
	assert_memory_equal(hdr, hdr2, RECKEYS_SLOT_BYTES);
}

/* A file made under another broker key is refused and left as it was. */
static void
test_open_under_another_broker_key_is_refused(void **state)
{
	struct fx *fx = *state;
	const uint8_t rec[] = "a record";
	uint8_t *before, *after, *s;
	size_t nb, na;
	struct cerr err;

	fill(fx, 1, &u1);
	s = seal(fx, 1, &u1, 1, rec, sizeof(rec));
	sync_keys(fx);
	before = slurp(fx->path, &nb);
	assert_int_equal(reopen_with(fx, &other_broker, &err),
	    CARNET_E_STORE);
	assert_int_equal(err.code, CARNET_E_STORE);
	assert_non_null(strstr(err.msg, "another broker key"));
	assert_null(fx->k);
	after = slurp(fx->path, &na);
	assert_int_equal(na, nb);
	assert_memory_equal(after, before, nb);
	/* and the right key still reads it */
	reopen(fx);
	assert_int_equal(unseal(fx, 1, u1.pk, 1, s, sizeof(rec) +
	    RECKEYS_OVERHEAD, rec, sizeof(rec), &err), 0);
	free(before);
	free(after);
	free(s);
}

/* Anything else in its place: another file, a short or damaged header. */
static void
test_open_refuses_what_is_not_a_key_file(void **state)
{
	struct fx *fx = *state;
	uint8_t hdr[RECKEYS_SLOT_BYTES], junk[RECKEYS_SLOT_BYTES];
	size_t n;
	struct cerr err;

	raw_slot(fx->path, 0, hdr);
	reckeys_close(&fx->k);
	memset(junk, 'j', sizeof(junk));
	write_file(fx->path, junk, sizeof(junk), 0600);
	assert_int_equal(reopen_with(fx, &broker, &err), CARNET_E_STORE);
	assert_non_null(strstr(err.msg, "not a carnet record key file"));
	/* the header cut short, at every length */
	for (n = 1; n < RECKEYS_SLOT_BYTES; n++) {
		write_file(fx->path, hdr, n, 0600);
		assert_int_equal(reopen_with(fx, &broker, &err),
		    CARNET_E_STORE);
	}
	/* the magic right, the check not */
	memcpy(junk, hdr, RECKEYS_SLOT_BYTES);
	junk[RECKEYS_SLOT_BYTES - 1] ^= 1;
	write_file(fx->path, junk, sizeof(junk), 0600);
	assert_int_equal(reopen_with(fx, &broker, &err), CARNET_E_STORE);
	assert_non_null(strstr(err.msg, "another broker key"));
	/* the header as it was */
	write_file(fx->path, hdr, sizeof(hdr), 0600);
	reopen(fx);
}

/*
 * Not a regular file: a directory, a FIFO (without blocking), a link
 * (even to a good key file; not followed).  These are CARNET_E_IO, not
 * CARNET_E_KEY_PERMS (fileperm.h: "CARNET_E_IO if fd is of another type").
 */
static void
test_open_refuses_what_is_not_a_regular_file(void **state)
{
	struct fx *fx = *state;
	char p[600], target[600];
	struct reckeys *k = NULL;
	struct cerr err;
	struct stat st;

	snprintf(p, sizeof(p), "%s/adir", fx->dir);
	assert_int_equal(mkdir(p, 0700), 0);
	assert_int_equal(reckeys_open(p, broker.sk, &k, &err), CARNET_E_IO);
	assert_null(k);

	snprintf(p, sizeof(p), "%s/afifo", fx->dir);
	assert_int_equal(mkfifo(p, 0600), 0);
	assert_int_equal(reckeys_open(p, broker.sk, &k, &err), CARNET_E_IO);
	assert_non_null(strstr(err.msg, "not a regular file"));
	assert_null(k);

	snprintf(p, sizeof(p), "%s/alink", fx->dir);
	assert_int_equal(symlink(fx->path, p), 0);
	assert_int_equal(reckeys_open(p, broker.sk, &k, &err), CARNET_E_IO);
	assert_null(k);

	/* a dangling link: refused, and nothing made where it points */
	snprintf(p, sizeof(p), "%s/dangling", fx->dir);
	snprintf(target, sizeof(target), "%s/made", fx->dir);
	assert_int_equal(symlink(target, p), 0);
	assert_int_equal(reckeys_open(p, broker.sk, &k, &err), CARNET_E_IO);
	assert_null(k);
	assert_int_equal(lstat(target, &st), -1);
}

/* A path too long for the handle, or in no directory: refused. */
static void
test_open_refuses_bad_paths(void **state)
{
	struct fx *fx = *state;
	char p[1200];
	struct reckeys *k = NULL;
	struct cerr err;

	memset(p, 'a', sizeof(p) - 1);
	p[0] = '/';
	p[sizeof(p) - 1] = '\0';
	assert_int_equal(reckeys_open(p, broker.sk, &k, &err),
	    CARNET_E_BAD_ARG);
	assert_non_null(strstr(err.msg, "path too long"));
	assert_null(k);
	snprintf(p, sizeof(p), "%s/no/such/dir/keys", fx->dir);
	assert_int_equal(reckeys_open(p, broker.sk, &k, &err), CARNET_E_IO);
	assert_non_null(strstr(err.msg, "cannot open"));
	assert_null(k);
}

/* Any access for group or others is refused, the file left alone. */
static void
test_open_refuses_loose_modes(void **state)
{
	static const mode_t loose[] = {0644, 0640, 0604, 0660, 0620, 0602,
	    0610, 0601, 0666, 0777};
	struct fx *fx = *state;
	uint8_t *before, *after;
	size_t i, nb, na;
	struct cerr err;

	reckeys_close(&fx->k);
	before = slurp(fx->path, &nb);
	for (i = 0; i < sizeof(loose) / sizeof(loose[0]); i++) {
		assert_int_equal(chmod(fx->path, loose[i]), 0);
		assert_int_equal(reopen_with(fx, &broker, &err),
		    CARNET_E_KEY_PERMS);
		assert_non_null(strstr(err.msg, "chmod 600"));
		assert_null(fx->k);
	}
	after = slurp(fx->path, &na);
	assert_int_equal(na, nb);
	assert_memory_equal(after, before, nb);
	/* the owner's own bits are the owner's business */
	assert_int_equal(chmod(fx->path, 0700), 0);
	reopen(fx);
	assert_int_equal(chmod(fx->path, 0600), 0);
	free(before);
	free(after);
}

/* Another user's file is refused, even by root (it could be rewritten
 * under root's feet).  Only as root, who can chown it to nobody. */
static void
test_open_refuses_another_users_file(void **state)
{
	struct fx *fx = *state;
	struct passwd *pw;
	struct cerr err;

	if (geteuid() != 0 || (pw = getpwnam("nobody")) == NULL)
		skip();
	assert_int_equal(chown(fx->path, pw->pw_uid, pw->pw_gid), 0);
	assert_int_equal(reopen_with(fx, &broker, &err), CARNET_E_KEY_PERMS);
	assert_non_null(strstr(err.msg, "bad owner"));
	assert_null(fx->k);
	assert_int_equal(chown(fx->path, 0, 0), 0);
	reopen(fx);
}

/* Fill, seal, sync, close, open: the records open again; the sealed form
 * is version | nonce(24) | ciphertext and tag(16). */
static void
test_sealed_records_open_after_reopen(void **state)
{
	static const size_t lens[] = {0, 1, 15, 16, 17, 200, 4000};
	const struct keypair *users[] = {&u1, &u2, &u3};
	struct fx *fx = *state;
	uint8_t plain[4000], *sealed[3][7];
	struct cerr err;
	size_t u, i;

	randombytes_buf(plain, sizeof(plain));
	for (u = 0; u < 3; u++)
		fill(fx, u + 1, users[u]);
	for (u = 0; u < 3; u++) {
		for (i = 0; i < 7; i++) {
			sealed[u][i] = seal(fx, u + 1, users[u], 100 + i,
			    plain, lens[i]);
			assert_int_equal(sealed[u][i][0], RECKEYS_VERSION);
			assert_true(reckeys_is_sealed(sealed[u][i],
			    lens[i] + RECKEYS_OVERHEAD));
			/* not the plain bytes in the clear */
			if (lens[i] >= 16)
				assert_memory_not_equal(sealed[u][i] + 1 + 24,
				    plain, 16);
		}
	}
	sync_keys(fx);
	reopen(fx);
	for (u = 0; u < 3; u++) {
		for (i = 0; i < 7; i++) {
			if (unseal(fx, u + 1, users[u]->pk, 100 + i,
			    sealed[u][i], lens[i] + RECKEYS_OVERHEAD, plain,
			    lens[i], &err) != 0)
				fail_msg("user %zu len %zu: %s", u, lens[i],
				    cerr_msg(&err));
			free(sealed[u][i]);
		}
	}
	/* the file: the header and three slots */
	assert_int_equal(occurrences(fx->path, u2.pk, ID_BYTES), 1);
	{
		uint8_t slot[RECKEYS_SLOT_BYTES];

		raw_slot(fx->path, 2, slot);
		assert_memory_equal(slot, u2.pk, ID_BYTES);
	}
}

/*
 * A version 1 record, sealed here by hand as reckeys.h describes it
 * (XChaCha20-Poly1305, 24-byte nonce, key BLAKE2b(slot key, keyed with
 * BLAKE2b("carnet-record-key-v1", keyed with the broker secret))): what
 * stores written before issue 31 hold.  n: sizeof plain + the v1 overhead.
 */
static uint8_t *
seal_v1(struct fx *fx, uint64_t slot, const struct keypair *u, uint64_t seq,
    const void *plain, size_t n, size_t *outn)
{
	static const char ctx[] = "carnet-record-key-v1";
	uint8_t raw[RECKEYS_SLOT_BYTES], master[32], key[32], ad[ID_BYTES + 8];
	uint8_t *out = malloc(n + RECKEYS_OVERHEAD_V1);
	unsigned long long clen;
	int i;

	assert_non_null(out);
	raw_slot(fx->path, slot, raw);
	crypto_generichash(master, 32, (const uint8_t *)ctx, sizeof(ctx) - 1,
	    broker.sk, 32);
	crypto_generichash(key, 32, raw + ID_BYTES, 32, master, 32);
	memcpy(ad, u->pk, ID_BYTES);
	for (i = 0; i < 8; i++)
		ad[ID_BYTES + i] = (uint8_t)(seq >> (56 - 8 * i));
	out[0] = 1;
	randombytes_buf(out + 1, 24);
	assert_int_equal(crypto_aead_xchacha20poly1305_ietf_encrypt(out + 25,
	    &clen, plain, n, ad, sizeof(ad), NULL, out + 1, key), 0);
	*outn = (size_t)clen + 25;
	return out;
}

/* Records sealed in version 1 still open after the change to version 2,
 * and are as bound to their place as new ones. */
static void
test_version1_records_still_open(void **state)
{
	struct fx *fx = *state;
	static const uint8_t rec[] = "a record of before issue 31";
	uint8_t out[sizeof(rec)], *s;
	struct cerr err = {0};
	size_t n;

	fill(fx, 2, &u1);
	fill(fx, 3, &u2);
	s = seal_v1(fx, 2, &u1, 7, rec, sizeof(rec), &n);
	assert_int_equal(n, sizeof(rec) + RECKEYS_OVERHEAD_V1);
	assert_true(reckeys_is_sealed(s, n));
	assert_int_equal(reckeys_overhead(s, n), RECKEYS_OVERHEAD_V1);
	assert_int_equal(reckeys_unseal(fx->k, 2, u1.pk, 7, s, n, out, &err),
	    0);
	assert_memory_equal(out, rec, sizeof(rec));
	/* another seq, another person, a flipped byte: refused */
	assert_int_equal(reckeys_unseal(fx->k, 2, u1.pk, 8, s, n, out, &err),
	    CARNET_E_STORE);
	assert_int_equal(reckeys_unseal(fx->k, 3, u2.pk, 7, s, n, out, &err),
	    CARNET_E_STORE);
	s[n - 1] ^= 1;
	assert_int_equal(reckeys_unseal(fx->k, 2, u1.pk, 7, s, n, out, &err),
	    CARNET_E_STORE);
	s[n - 1] ^= 1;
	/* the key wiped: nothing opens it any more */
	wipe(fx, 2);
	assert_int_equal(reckeys_unseal(fx->k, 2, u1.pk, 7, s, n, out, &err),
	    CARNET_E_STORE);
	free(s);
}

/* New records are version 2: ChaCha20-Poly1305-IETF with a 12-byte nonce,
 * opened by libsodium's own call with the key reckeys.h describes; any
 * byte flipped, or another seq or person, refuses. */
static void
test_version2_layout(void **state)
{
	struct fx *fx = *state;
	static const char ctx[] = "carnet-record-key-v1";
	static const uint8_t rec[] = "a record of after issue 31";
	const size_t n = sizeof(rec) + RECKEYS_OVERHEAD;
	uint8_t raw[RECKEYS_SLOT_BYTES], master[32], key[32], ad[ID_BYTES + 8];
	uint8_t out[sizeof(rec)], *s;
	unsigned long long plen;
	struct cerr err;
	size_t i;

	assert_int_equal(RECKEYS_OVERHEAD, 1 + 12 + 16);
	fill(fx, 2, &u1);
	fill(fx, 3, &u2);
	s = seal(fx, 2, &u1, 9, rec, sizeof(rec));
	assert_int_equal(s[0], 2);
	assert_int_equal(reckeys_overhead(s, n), RECKEYS_OVERHEAD_V2);
	raw_slot(fx->path, 2, raw);
	crypto_generichash(master, 32, (const uint8_t *)ctx, sizeof(ctx) - 1,
	    broker.sk, 32);
	crypto_generichash(key, 32, raw + ID_BYTES, 32, master, 32);
	memcpy(ad, u1.pk, ID_BYTES);
	memset(ad + ID_BYTES, 0, 7);
	ad[ID_BYTES + 7] = 9;
	assert_int_equal(crypto_aead_chacha20poly1305_ietf_decrypt(out, &plen,
	    NULL, s + 13, n - 13, ad, sizeof(ad), s + 1, key), 0);
	assert_int_equal(plen, sizeof(rec));
	assert_memory_equal(out, rec, sizeof(rec));
	assert_int_equal(unseal(fx, 2, u1.pk, 9, s, n, rec, sizeof(rec), &err),
	    0);
	assert_int_equal(unseal(fx, 2, u1.pk, 10, s, n, rec, sizeof(rec),
	    &err), CARNET_E_STORE);
	assert_int_equal(unseal(fx, 3, u2.pk, 9, s, n, rec, sizeof(rec), &err),
	    CARNET_E_STORE);
	for (i = 1; i < n; i++) {
		s[i] ^= 0x40;
		assert_int_equal(unseal(fx, 2, u1.pk, 9, s, n, rec,
		    sizeof(rec), &err), CARNET_E_STORE);
		s[i] ^= 0x40;
	}
	/* read as version 1, it does not open either */
	s[0] = 1;
	assert_int_not_equal(reckeys_unseal(fx->k, 2, u1.pk, 9, s, n, out,
	    &err), 0);
	free(s);
}

/* What is and is not a sealed record. */
static void
test_is_sealed(void **state)
{
	uint8_t buf[RECKEYS_OVERHEAD + 1] = {RECKEYS_VERSION};
	struct tu_buf b;
	size_t n;

	(void)state;
	assert_true(reckeys_is_sealed(buf, RECKEYS_OVERHEAD));
	assert_true(reckeys_is_sealed(buf, sizeof(buf)));
	for (n = 0; n < RECKEYS_OVERHEAD; n++)
		assert_false(reckeys_is_sealed(buf, n));
	assert_int_equal(reckeys_overhead(buf, sizeof(buf)), RECKEYS_OVERHEAD);
	/* version 1: its own, larger overhead */
	buf[0] = 1;
	assert_false(reckeys_is_sealed(buf, sizeof(buf)));
	assert_int_equal(reckeys_overhead(buf, sizeof(buf)), 0);
	buf[0] = 3;
	assert_false(reckeys_is_sealed(buf, sizeof(buf)));
	buf[0] = 0;
	assert_false(reckeys_is_sealed(buf, sizeof(buf)));
	/* a record from before sealing: a msgpack map, whatever its size */
	tu_buf_init(&b);
	msgpack_pack_map(&b.pk, 1);
	msgpack_pack_str_with_body(&b.pk, "label", 5);
	msgpack_pack_str_with_body(&b.pk,
	    "Consultation chez le docteur Martin", 35);
	assert_true(b.sb.size >= RECKEYS_OVERHEAD);
	assert_false(reckeys_is_sealed(b.sb.data, b.sb.size));
	tu_buf_reset(&b);
	msgpack_pack_map(&b.pk, 20);
	for (n = 0; n < 20; n++) {
		msgpack_pack_uint64(&b.pk, n);
		msgpack_pack_uint64(&b.pk, n);
	}
	assert_false(reckeys_is_sealed(b.sb.data, b.sb.size)); /* map16 */
	tu_buf_release(&b);
}

/* A sealed record opens only as what and where it was sealed. */
static void
test_unseal_is_bound_to_its_place(void **state)
{
	struct fx *fx = *state;
	const char rec[] = "{\"type\":\"claim\",\"amount_eur\":25}";
	const size_t n = sizeof(rec) + RECKEYS_OVERHEAD;
	uint8_t *s, *t;
	struct cerr err;
	size_t i, len;
	int b;

	fill(fx, 1, &u1);
	fill(fx, 2, &u2);
	fill(fx, 3, &u1); /* a second slot of the same person */
	s = seal(fx, 1, &u1, 7, rec, sizeof(rec));
	assert_int_equal(unseal(fx, 1, u1.pk, 7, s, n, rec, sizeof(rec),
	    &err), 0);
	/* another seq, in any of its bytes */
	assert_int_equal(unseal(fx, 1, u1.pk, 8, s, n, rec, sizeof(rec),
	    &err), CARNET_E_STORE);
	assert_non_null(strstr(err.msg, "does not open"));
	for (i = 0; i < 64; i += 8)
		assert_int_equal(unseal(fx, 1, u1.pk, 7 ^ (UINT64_C(1) << (i +
		    4)), s, n, rec, sizeof(rec), &err), CARNET_E_STORE);
	/* another person at that slot */
	assert_int_equal(unseal(fx, 1, u2.pk, 7, s, n, rec, sizeof(rec),
	    &err), CARNET_E_STORE);
	assert_non_null(strstr(err.msg, "does not hold this person's key"));
	/* another slot: another person's, or another of hers */
	assert_int_equal(unseal(fx, 2, u2.pk, 7, s, n, rec, sizeof(rec),
	    &err), CARNET_E_STORE);
	assert_int_equal(unseal(fx, 3, u1.pk, 7, s, n, rec, sizeof(rec),
	    &err), CARNET_E_STORE);
	assert_non_null(strstr(err.msg, "does not open"));
	/* a slot never filled */
	assert_int_equal(unseal(fx, 9, u1.pk, 7, s, n, rec, sizeof(rec),
	    &err), CARNET_E_STORE);
	/* every bit of every byte: version, nonce, ciphertext, tag */
	t = malloc(n + 1);
	assert_non_null(t);
	for (i = 0; i < n; i++) {
		for (b = 0; b < 8; b++) {
			memcpy(t, s, n);
			t[i] ^= (uint8_t)(1u << b);
			assert_int_equal(unseal(fx, 1, u1.pk, 7, t, n, rec,
			    sizeof(rec), &err), CARNET_E_STORE);
		}
	}
	/* cut short at every length (a copy of exactly that size), or one
	 * byte longer */
	for (len = 0; len < n; len++) {
		uint8_t *c = malloc(len > 0 ? len : 1);

		assert_non_null(c);
		memcpy(c, s, len);
		assert_int_equal(unseal(fx, 1, u1.pk, 7, c, len, rec,
		    sizeof(rec), &err), CARNET_E_STORE);
		assert_non_null(strstr(err.msg, len < RECKEYS_OVERHEAD ?
		    "not sealed" : "does not open"));
		free(c);
	}
	memcpy(t, s, n);
	t[n] = 0;
	assert_int_equal(unseal(fx, 1, u1.pk, 7, t, n + 1, rec, sizeof(rec),
	    &err), CARNET_E_STORE);
	/* and still opens as it was */
	assert_int_equal(unseal(fx, 1, u1.pk, 7, s, n, rec, sizeof(rec),
	    &err), 0);
	free(t);
	free(s);
}

/* Each seal draws its own nonce: the same record twice differs, and no
 * nonce comes back, across opens either. */
static void
test_every_seal_has_its_own_nonce(void **state)
{
	struct fx *fx = *state;
	const char rec[] = "same";
	const size_t n = sizeof(rec) + RECKEYS_OVERHEAD;
	enum { NSEALS = 300 };
	static uint8_t nonces[2 * NSEALS][24];
	uint8_t *a, *b;
	struct cerr err;
	size_t i, j;

	fill(fx, 1, &u1);
	a = seal(fx, 1, &u1, 5, rec, sizeof(rec));
	b = seal(fx, 1, &u1, 5, rec, sizeof(rec));
	assert_memory_not_equal(a, b, n);
	assert_memory_not_equal(a + 1, b + 1, 24);
	assert_int_equal(unseal(fx, 1, u1.pk, 5, a, n, rec, sizeof(rec),
	    &err), 0);
	assert_int_equal(unseal(fx, 1, u1.pk, 5, b, n, rec, sizeof(rec),
	    &err), 0);
	free(a);
	free(b);
	sync_keys(fx);
	for (i = 0; i < 2 * NSEALS; i++) {
		if (i == NSEALS)
			reopen(fx);
		a = seal(fx, 1, &u1, 5, rec, sizeof(rec));
		memcpy(nonces[i], a + 1, 24);
		free(a);
	}
	for (i = 0; i < 2 * NSEALS; i++)
		for (j = 0; j < i; j++)
			assert_memory_not_equal(nonces[i], nonces[j], 24);
}

/*
 * Wipe: the record no longer opens (at once, though its key was in use),
 * the slot is 64 zeros on disk, and neither the key nor the person's id
 * is anywhere in the file; the other slots are untouched.
 */
static void
test_wipe_shreds_the_key(void **state)
{
	struct fx *fx = *state;
	const char rec[] = "lab result: positive";
	const size_t n = sizeof(rec) + RECKEYS_OVERHEAD;
	static const uint8_t zeros[RECKEYS_SLOT_BYTES];
	uint8_t slot[RECKEYS_SLOT_BYTES], before[3][RECKEYS_SLOT_BYTES];
	uint8_t *s1, *s2, *s3, *again;
	struct cerr err;
	int i;

	fill(fx, 1, &u1);
	fill(fx, 2, &u2);
	fill(fx, 3, &u3);
	s1 = seal(fx, 1, &u1, 1, rec, sizeof(rec));
	s2 = seal(fx, 2, &u2, 1, rec, sizeof(rec));
	s3 = seal(fx, 3, &u3, 1, rec, sizeof(rec));
	sync_keys(fx);
	for (i = 0; i < 3; i++) {
		raw_slot(fx->path, (uint64_t)i + 1, before[i]);
		assert_memory_not_equal(before[i] + ID_BYTES, zeros, 32);
		assert_int_equal(occurrences(fx->path, before[i] + ID_BYTES,
		    32), 1);
	}
	assert_memory_equal(before[1], u2.pk, ID_BYTES);

	wipe(fx, 2);
	/* at once, before any sync or reopen */
	assert_int_equal(unseal(fx, 2, u2.pk, 1, s2, n, rec, sizeof(rec),
	    &err), CARNET_E_STORE);
	sync_keys(fx);
	raw_slot(fx->path, 2, slot);
	assert_memory_equal(slot, zeros, RECKEYS_SLOT_BYTES);
	assert_int_equal(occurrences(fx->path, before[1] + ID_BYTES, 32), 0);
	assert_int_equal(occurrences(fx->path, u2.pk, ID_BYTES), 0);
	/* the neighbours, byte for byte */
	raw_slot(fx->path, 1, slot);
	assert_memory_equal(slot, before[0], RECKEYS_SLOT_BYTES);
	raw_slot(fx->path, 3, slot);
	assert_memory_equal(slot, before[2], RECKEYS_SLOT_BYTES);
	assert_int_equal(unseal(fx, 1, u1.pk, 1, s1, n, rec, sizeof(rec),
	    &err), 0);
	assert_int_equal(unseal(fx, 3, u3.pk, 1, s3, n, rec, sizeof(rec),
	    &err), 0);

	reopen(fx);
	assert_int_equal(unseal(fx, 2, u2.pk, 1, s2, n, rec, sizeof(rec),
	    &err), CARNET_E_STORE);
	assert_int_equal(unseal(fx, 1, u1.pk, 1, s1, n, rec, sizeof(rec),
	    &err), 0);
	assert_int_equal(unseal(fx, 3, u3.pk, 1, s3, n, rec, sizeof(rec),
	    &err), 0);
	/* a wiped slot seals nothing more */
	again = malloc(n);
	assert_non_null(again);
	assert_int_equal(reckeys_seal(fx->k, 2, u2.pk, 2, rec, sizeof(rec),
	    again, &err), CARNET_E_STORE);
	/* filled again (a new person there, or the same back): a new key,
	 * under which the old record still does not open */
	fill(fx, 2, &u2);
	sync_keys(fx);
	raw_slot(fx->path, 2, slot);
	assert_memory_equal(slot, u2.pk, ID_BYTES);
	assert_memory_not_equal(slot + ID_BYTES, before[1] + ID_BYTES, 32);
	assert_int_equal(unseal(fx, 2, u2.pk, 1, s2, n, rec, sizeof(rec),
	    &err), CARNET_E_STORE);
	free(again);
	free(s1);
	free(s2);
	free(s3);
}

/* A fill in place of another person's key: theirs is gone. */
static void
test_fill_replaces_the_slot(void **state)
{
	struct fx *fx = *state;
	const char rec[] = "r";
	const size_t n = sizeof(rec) + RECKEYS_OVERHEAD;
	uint8_t old[RECKEYS_SLOT_BYTES], *s;
	struct cerr err;

	fill(fx, 4, &u1);
	s = seal(fx, 4, &u1, 1, rec, sizeof(rec));
	sync_keys(fx);
	raw_slot(fx->path, 4, old);
	fill(fx, 4, &u2);
	sync_keys(fx);
	assert_int_equal(unseal(fx, 4, u1.pk, 1, s, n, rec, sizeof(rec),
	    &err), CARNET_E_STORE);
	assert_non_null(strstr(err.msg, "does not hold this person's key"));
	assert_int_equal(occurrences(fx->path, old + ID_BYTES, 32), 0);
	free(s);
	s = seal(fx, 4, &u2, 1, rec, sizeof(rec));
	assert_int_equal(unseal(fx, 4, u2.pk, 1, s, n, rec, sizeof(rec),
	    &err), 0);
	/* the slots before 4, never filled, are zeros and hold no one's */
	assert_int_equal(reckeys_seal(fx->k, 2, u1.pk, 1, rec, sizeof(rec), s,
	    &err), CARNET_E_STORE);
	free(s);
}

/*
 * Slots that share an entry of the key cache (slot and slot +
 * RECKEYS_CACHE_SLOTS): each reads its own key, and a fill or wipe of one
 * does not stand for the other.
 */
static void
test_slots_sharing_a_cache_entry(void **state)
{
	struct fx *fx = *state;
	const uint64_t a = 5, b = 5 + RECKEYS_CACHE_SLOTS;
	const char rec[] = "cached";
	const size_t n = sizeof(rec) + RECKEYS_OVERHEAD;
	uint8_t *sa, *sb;
	struct cerr err;

	fill(fx, a, &u1);
	sa = seal(fx, a, &u1, 1, rec, sizeof(rec));
	fill(fx, b, &u2);
	sb = seal(fx, b, &u2, 1, rec, sizeof(rec));
	assert_int_equal(unseal(fx, a, u1.pk, 1, sa, n, rec, sizeof(rec),
	    &err), 0);
	assert_int_equal(unseal(fx, b, u2.pk, 1, sb, n, rec, sizeof(rec),
	    &err), 0);
	assert_int_equal(unseal(fx, b, u1.pk, 1, sa, n, rec, sizeof(rec),
	    &err), CARNET_E_STORE);
	assert_int_equal(unseal(fx, a, u2.pk, 1, sb, n, rec, sizeof(rec),
	    &err), CARNET_E_STORE);
	/* the same person in both: still two keys */
	fill(fx, b, &u1);
	assert_int_equal(unseal(fx, a, u1.pk, 1, sa, n, rec, sizeof(rec),
	    &err), 0);
	assert_int_equal(unseal(fx, b, u1.pk, 1, sa, n, rec, sizeof(rec),
	    &err), CARNET_E_STORE);
	/* b cached, a wiped: a does not open */
	wipe(fx, a);
	assert_int_equal(unseal(fx, a, u1.pk, 1, sa, n, rec, sizeof(rec),
	    &err), CARNET_E_STORE);
	free(sb);
	sb = seal(fx, b, &u1, 2, rec, sizeof(rec));
	/* a cached again (refilled), b wiped: b does not open */
	fill(fx, a, &u1);
	free(sa);
	sa = seal(fx, a, &u1, 1, rec, sizeof(rec));
	wipe(fx, b);
	assert_int_equal(unseal(fx, b, u1.pk, 2, sb, n, rec, sizeof(rec),
	    &err), CARNET_E_STORE);
	assert_int_equal(unseal(fx, a, u1.pk, 1, sa, n, rec, sizeof(rec),
	    &err), 0);
	free(sa);
	free(sb);
}

/* Slot 0 is the header and slots past INT64_MAX bytes do not exist:
 * fill, wipe, seal and unseal refuse them, the header untouched. */
static void
test_slots_out_of_range(void **state)
{
	static const uint64_t bad[] = {0,
	    (uint64_t)INT64_MAX / RECKEYS_SLOT_BYTES + 1, UINT64_MAX};
	struct fx *fx = *state;
	uint8_t hdr[RECKEYS_SLOT_BYTES], now[RECKEYS_SLOT_BYTES];
	uint8_t out[8 + RECKEYS_OVERHEAD];
	struct cerr err;
	size_t i;

	raw_slot(fx->path, 0, hdr);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(reckeys_fill(fx->k, bad[i], u1.pk, &err),
		    CARNET_E_STORE);
		assert_non_null(strstr(err.msg, "no slot"));
		assert_int_equal(reckeys_wipe(fx->k, bad[i], &err),
		    CARNET_E_STORE);
		assert_int_equal(reckeys_seal(fx->k, bad[i], u1.pk, 1,
		    "12345678", 8, out, &err), CARNET_E_STORE);
	}
	out[0] = RECKEYS_VERSION;
	assert_int_equal(reckeys_unseal(fx->k, 0, u1.pk, 1, out, sizeof(out),
	    out, &err), CARNET_E_STORE);
	sync_keys(fx);
	raw_slot(fx->path, 0, now);
	assert_memory_equal(now, hdr, RECKEYS_SLOT_BYTES);
	reopen(fx);
}

/*
 * A slot of zeros (wiped, or never filled) holds no one's key, whoever
 * asks, even a caller whose id is 32 zero bytes; nor does slot 0.
 */
static void
test_zero_slots_hold_no_ones_key(void **state)
{
	struct fx *fx = *state;
	static const uint8_t zero_id[ID_BYTES];
	uint8_t out[8 + RECKEYS_OVERHEAD];
	struct cerr err;

	fill(fx, 2, &u1);
	wipe(fx, 2);
	fill(fx, 4, &u1); /* slot 3 a gap of zeros */
	assert_int_equal(reckeys_seal(fx->k, 2, zero_id, 1, "12345678", 8,
	    out, &err), CARNET_E_STORE);
	assert_int_equal(reckeys_seal(fx->k, 3, zero_id, 1, "12345678", 8,
	    out, &err), CARNET_E_STORE);
	assert_int_equal(reckeys_seal(fx->k, 0, zero_id, 1, "12345678", 8,
	    out, &err), CARNET_E_STORE);
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_open_creates_a_private_file),
		T(test_open_under_another_broker_key_is_refused),
		T(test_open_refuses_what_is_not_a_key_file),
		T(test_open_refuses_what_is_not_a_regular_file),
		T(test_open_refuses_bad_paths),
		T(test_open_refuses_loose_modes),
		T(test_open_refuses_another_users_file),
		T(test_sealed_records_open_after_reopen),
		cmocka_unit_test(test_is_sealed),
		T(test_version1_records_still_open),
		T(test_version2_layout),
		T(test_unseal_is_bound_to_its_place),
		T(test_every_seal_has_its_own_nonce),
		T(test_wipe_shreds_the_key),
		T(test_fill_replaces_the_slot),
		T(test_slots_sharing_a_cache_entry),
		T(test_slots_out_of_range),
		T(test_zero_slots_hold_no_ones_key),
	};
#undef T

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests_name("reckeys", tests, NULL, NULL);
}
