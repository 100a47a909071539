/*
 * reckeys.c: see reckeys.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "../common/fileperm.h"
#include "../common/limits.h"
#include "reckeys.h"

#define KEY_BYTES 32
/* v1: XChaCha20-Poly1305, 24-byte nonce; v2: ChaCha20-Poly1305-IETF,
 * 12-byte nonce (no HChaCha20 per record: measured in tools/aeadcost.c) */
#define NONCE1_BYTES crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define NONCE2_BYTES crypto_aead_chacha20poly1305_ietf_NPUBBYTES
#define TAG_BYTES 16
#define AD_BYTES (ID_BYTES + 8)

static const char magic[32] = "carnet record keys v1";

/*
 * Derived keys of recently used slots, direct-mapped by slot number: a
 * delivery then costs no read of the file and no hash.  It follows the
 * file, not the store's transactions: every fill or wipe of a slot
 * replaces or drops its entry, and nothing else changes a slot, so an
 * entry is right whatever transaction commits or aborts.  Bounded:
 * RECKEYS_CACHE_SLOTS entries (72 bytes each), whatever the number of people.
 */

struct cached {
	uint64_t slot;              /* 0: empty */
	uint8_t user[ID_BYTES];
	uint8_t key[KEY_BYTES];     /* the derived AEAD key */
};

struct reckeys {
	int fd;
	char path[512];
	/* subkey of the broker key; every record key is derived under it */
	uint8_t master[KEY_BYTES];
	/* v2 nonce = prefix(4) | counter(8), both random at open, the
	 * counter then counting up: 96 random bits a run, so that two runs
	 * meet only if both the prefixes and the counter ranges do; never
	 * twice in a run, even when a store put back reuses a seq */
	uint8_t prefix[NONCE2_BYTES - 8];
	uint64_t counter;
	bool dirty;
	struct cached *cache;       /* RECKEYS_CACHE_SLOTS entries */
};

static struct cached *
cache_entry(struct reckeys *k, uint64_t slot)
{
	return &k->cache[slot & (RECKEYS_CACHE_SLOTS - 1)];
}

/* The slot now holds key (derived) for user, or nothing (user NULL). */
static void
cache_set(struct reckeys *k, uint64_t slot, const uint8_t *user,
    const uint8_t *key)
{
	struct cached *c = cache_entry(k, slot);

	if (user == NULL) {
		if (c->slot == slot)
			sodium_memzero(c, sizeof(*c));
		return;
	}
	c->slot = slot;
	memcpy(c->user, user, ID_BYTES);
	memcpy(c->key, key, KEY_BYTES);
}

static void
be64_put(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static int
io_fail(struct reckeys *k, struct cerr *err, const char *what)
{
	return cerr_set(err, errno == ENOSPC || errno == EDQUOT ?
	    CARNET_E_STORE_FULL : CARNET_E_IO, "%s %s: %s", what, k->path,
	    strerror(errno));
}

/* Write all of buf at off. */
static int
write_at(struct reckeys *k, const void *buf, size_t n, off_t off,
    struct cerr *err, const char *what)
{
	ssize_t w;

	while (n > 0) {
		if ((w = pwrite(k->fd, buf, n, off)) < 0) {
			if (errno == EINTR)
				continue;
			return io_fail(k, err, what);
		}
		buf = (const uint8_t *)buf + w;
		n -= (size_t)w;
		off += w;
	}
	k->dirty = true;
	return 0;
}

/* Read n bytes at off; CARNET_E_NOT_FOUND when the file ends first. */
static int
read_at(struct reckeys *k, void *buf, size_t n, off_t off, struct cerr *err)
{
	ssize_t r;

	while (n > 0) {
		if ((r = pread(k->fd, buf, n, off)) < 0) {
			if (errno == EINTR)
				continue;
			return io_fail(k, err, "reading");
		}
		if (r == 0)
			return CARNET_E_NOT_FOUND;
		buf = (uint8_t *)buf + r;
		n -= (size_t)r;
		off += r;
	}
	return 0;
}

/* The check in the header: tells a file made under another broker key. */
static void
header_fill(const struct reckeys *k, uint8_t hdr[RECKEYS_SLOT_BYTES])
{
	static const char ctx[] = "carnet-record-keys-check-v1";

	memcpy(hdr, magic, sizeof(magic));
	crypto_generichash(hdr + sizeof(magic), KEY_BYTES,
	    (const uint8_t *)ctx, sizeof(ctx) - 1, k->master, KEY_BYTES);
}

/* The new file's name made durable: fsync of the directory holding it. */
static int
dir_sync(const char *path, struct cerr *err)
{
	char dir[512];
	char *slash;
	int fd, rc = 0;

	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		dir[1] = '\0'; /* the root */
	else
		*slash = '\0';
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    fsync(fd) != 0)
		rc = cerr_set(err, CARNET_E_IO, "%s: cannot sync the directory "
		    "of the new key file: %s", dir, strerror(errno));
	if (fd >= 0)
		close(fd);
	return rc;
}

int
reckeys_open(const char *path, const uint8_t secret[64],
    struct reckeys **out, struct cerr *err)
{
	static const char ctx[] = "carnet-record-key-v1";
	uint8_t want[RECKEYS_SLOT_BYTES], have[RECKEYS_SLOT_BYTES];
	struct reckeys *k;
	struct stat st;
	int rc;

	if ((k = calloc(1, sizeof(*k))) == NULL)
		return cerr_set(err, CARNET_E_NOMEM, "out of memory");
	if (strlen(path) >= sizeof(k->path)) {
		free(k);
		return cerr_set(err, CARNET_E_BAD_ARG, "path too long: %s",
		    path);
	}
	strcpy(k->path, path);
	k->fd = -1;
	if ((k->cache = calloc(RECKEYS_CACHE_SLOTS, sizeof(*k->cache))) == NULL) {
		free(k);
		return cerr_set(err, CARNET_E_NOMEM, "out of memory");
	}
	crypto_generichash(k->master, KEY_BYTES, (const uint8_t *)ctx,
	    sizeof(ctx) - 1, secret, 32);
	randombytes_buf(k->prefix, sizeof(k->prefix));
	randombytes_buf(&k->counter, sizeof(k->counter));
	/* O_NONBLOCK and O_NOFOLLOW: no FIFO, no link planted in its place */
	k->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW |
	    O_NONBLOCK, 0600);
	if (k->fd < 0) {
		rc = io_fail(k, err, "cannot open");
		goto fail;
	}
	if (fstat(k->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		rc = cerr_set(err, CARNET_E_IO, "%s: not a regular file",
		    path);
		goto fail;
	}
	/* a key file: the broker's own, nobody else's to read or write */
	if ((rc = fileperm_check(k->fd, path, FILEPERM_SECRET, err)) != 0)
		goto fail;
	header_fill(k, want);
	if (st.st_size == 0) {
		if ((rc = write_at(k, want, sizeof(want), 0, err,
		    "writing")) != 0 || (rc = reckeys_sync(k, err)) != 0 ||
		    (rc = dir_sync(path, err)) != 0)
			goto fail;
	} else {
		if ((rc = read_at(k, have, sizeof(have), 0, err)) != 0 ||
		    memcmp(have, magic, sizeof(magic)) != 0) {
			rc = cerr_set(err, CARNET_E_STORE, "%s: not a carnet "
			    "record key file", path);
			goto fail;
		}
		if (sodium_memcmp(have, want, sizeof(want)) != 0) {
			rc = cerr_set(err, CARNET_E_STORE, "%s: made under "
			    "another broker key: this store's records cannot "
			    "be read with this key", path);
			goto fail;
		}
	}
	*out = k;
	return 0;
fail:
	reckeys_close(&k);
	return rc;
}

int64_t
reckeys_slots(struct reckeys *k, struct cerr *err)
{
	struct stat st;

	if (fstat(k->fd, &st) != 0) {
		(void)io_fail(k, err, "cannot read the size of");
		return -1;
	}
	return (int64_t)(st.st_size / RECKEYS_SLOT_BYTES);
}

void
reckeys_close(struct reckeys **k)
{
	if (*k == NULL)
		return;
	if ((*k)->fd >= 0)
		close((*k)->fd);
	sodium_memzero((*k)->master, sizeof((*k)->master));
	sodium_memzero((*k)->cache, RECKEYS_CACHE_SLOTS * sizeof(*(*k)->cache));
	free((*k)->cache);
	free(*k);
	*k = NULL;
}

/* The AEAD key of a slot's key. */
static void
derive(const struct reckeys *k, const uint8_t slot_key[KEY_BYTES],
    uint8_t key[KEY_BYTES])
{
	crypto_generichash(key, KEY_BYTES, slot_key, KEY_BYTES, k->master,
	    KEY_BYTES);
}

static int
slot_check(struct reckeys *k, uint64_t slot, struct cerr *err)
{
	if (slot == 0 || slot > (uint64_t)INT64_MAX / RECKEYS_SLOT_BYTES)
		return cerr_set(err, CARNET_E_STORE, "%s: no slot %llu",
		    k->path, (unsigned long long)slot);
	return 0;
}

int
reckeys_fill(struct reckeys *k, uint64_t slot, const uint8_t user[ID_BYTES],
    struct cerr *err)
{
	uint8_t buf[RECKEYS_SLOT_BYTES], key[KEY_BYTES];
	int rc;

	if ((rc = slot_check(k, slot, err)) != 0)
		return rc;
	memcpy(buf, user, ID_BYTES);
	randombytes_buf(buf + ID_BYTES, KEY_BYTES);
	cache_set(k, slot, NULL, NULL);
	rc = write_at(k, buf, sizeof(buf), (off_t)(slot * RECKEYS_SLOT_BYTES),
	    err, "writing");
	if (rc == 0) {
		derive(k, buf + ID_BYTES, key);
		cache_set(k, slot, user, key);
	}
	sodium_memzero(buf, sizeof(buf));
	sodium_memzero(key, sizeof(key));
	return rc;
}

int
reckeys_wipe(struct reckeys *k, uint64_t slot, struct cerr *err)
{
	static const uint8_t zeros[RECKEYS_SLOT_BYTES];
	int rc;

	if ((rc = slot_check(k, slot, err)) != 0)
		return rc;
	cache_set(k, slot, NULL, NULL);
	return write_at(k, zeros, sizeof(zeros),
	    (off_t)(slot * RECKEYS_SLOT_BYTES), err, "wiping");
}

int
reckeys_sync(struct reckeys *k, struct cerr *err)
{
	if (!k->dirty)
		return 0;
	if (fdatasync(k->fd) != 0)
		return io_fail(k, err, "syncing");
	k->dirty = false;
	return 0;
}

size_t
reckeys_overhead(const void *v, size_t n)
{
	size_t o;

	if (n == 0)
		return 0;
	switch (((const uint8_t *)v)[0]) {
	case 1:
		o = RECKEYS_OVERHEAD_V1;
		break;
	case 2:
		o = RECKEYS_OVERHEAD_V2;
		break;
	default:
		return 0;
	}
	return n >= o ? o : 0;
}

bool
reckeys_is_sealed(const void *v, size_t n)
{
	return reckeys_overhead(v, n) != 0;
}

/* The AEAD key of user's records, from the slot. */
static int
record_key(struct reckeys *k, uint64_t slot, const uint8_t user[ID_BYTES],
    uint8_t key[KEY_BYTES], struct cerr *err)
{
	struct cached *c = cache_entry(k, slot);
	uint8_t buf[RECKEYS_SLOT_BYTES];
	int rc;

	/* first: an empty cache entry reads as slot 0 of the zero id */
	if ((rc = slot_check(k, slot, err)) != 0)
		return rc;
	if (c->slot == slot && sodium_memcmp(c->user, user, ID_BYTES) == 0) {
		memcpy(key, c->key, KEY_BYTES);
		return 0;
	}
	rc = read_at(k, buf, sizeof(buf), (off_t)(slot * RECKEYS_SLOT_BYTES),
	    err);
	/* a slot of zeros (wiped, or never filled) holds no key, not even
	 * one for the zero id */
	if (rc == CARNET_E_NOT_FOUND || (rc == 0 &&
	    (sodium_memcmp(buf, user, ID_BYTES) != 0 ||
	    sodium_is_zero(buf + ID_BYTES, KEY_BYTES))))
		rc = cerr_set(err, CARNET_E_STORE, "%s: slot %llu does not "
		    "hold this person's key", k->path,
		    (unsigned long long)slot);
	if (rc == 0) {
		derive(k, buf + ID_BYTES, key);
		cache_set(k, slot, user, key);
	}
	sodium_memzero(buf, sizeof(buf));
	return rc;
}

static void
ad_fill(uint8_t ad[AD_BYTES], const uint8_t user[ID_BYTES], uint64_t seq)
{
	memcpy(ad, user, ID_BYTES);
	be64_put(ad + ID_BYTES, seq);
}

int
reckeys_seal(struct reckeys *k, uint64_t slot, const uint8_t user[ID_BYTES],
    uint64_t seq, const void *plain, size_t len, uint8_t *out,
    struct cerr *err)
{
	uint8_t key[KEY_BYTES], ad[AD_BYTES];
	unsigned long long clen;
	int rc;

	if ((rc = record_key(k, slot, user, key, err)) != 0)
		return rc;
	out[0] = RECKEYS_VERSION;
	memcpy(out + 1, k->prefix, sizeof(k->prefix));
	be64_put(out + 1 + sizeof(k->prefix), k->counter++);
	ad_fill(ad, user, seq);
	crypto_aead_chacha20poly1305_ietf_encrypt(out + 1 + NONCE2_BYTES,
	    &clen, plain, len, ad, sizeof(ad), NULL, out + 1, key);
	sodium_memzero(key, sizeof(key));
	return 0;
}

int
reckeys_unseal(struct reckeys *k, uint64_t slot, const uint8_t user[ID_BYTES],
    uint64_t seq, const void *sealed, size_t len, uint8_t *out,
    struct cerr *err)
{
	const uint8_t *in = sealed;
	uint8_t key[KEY_BYTES], ad[AD_BYTES];
	unsigned long long plen;
	int rc;

	if (!reckeys_is_sealed(sealed, len))
		return cerr_set(err, CARNET_E_STORE, "record %llu is not "
		    "sealed", (unsigned long long)seq);
	if ((rc = record_key(k, slot, user, key, err)) != 0)
		return rc;
	ad_fill(ad, user, seq);
	/* both versions: the same key, AD and layout, only the AEAD and
	 * its nonce size differ */
	if (in[0] == 1)
		rc = crypto_aead_xchacha20poly1305_ietf_decrypt(out, &plen,
		    NULL, in + 1 + NONCE1_BYTES, len - 1 - NONCE1_BYTES, ad,
		    sizeof(ad), in + 1, key);
	else
		rc = crypto_aead_chacha20poly1305_ietf_decrypt(out, &plen,
		    NULL, in + 1 + NONCE2_BYTES, len - 1 - NONCE2_BYTES, ad,
		    sizeof(ad), in + 1, key);
	sodium_memzero(key, sizeof(key));
	if (rc != 0)
		return cerr_set(err, CARNET_E_STORE, "record %llu does not open "
		    "with its person's key (damaged or moved)",
		    (unsigned long long)seq);
	return 0;
}
