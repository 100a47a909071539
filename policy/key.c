/*
 * key.c: key files.  The secret part is the 32-byte seed; the public id in
 * the file is checked against it on every read, so a damaged file is
 * noticed rather than silently used.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "../common/fileperm.h"
#include "../common/limits.h"
#include "key.h"


int
key_generate(struct keypair *kp)
{
	if (sodium_init() < 0)
		return CARNET_E_NOMEM;
	crypto_sign_keypair(kp->pk, kp->sk);
	return 0;
}

int
key_write(const char *path, const struct keypair *kp, struct cerr *err)
{
	char id[ID_STR_LEN + 1], seedhex[2 * crypto_sign_SEEDBYTES + 1];
	char buf[KEYFILE_MAX_BYTES];
	int fd, n, rc = 0;

	id_encode(kp->pk, id);
	sodium_bin2hex(seedhex, sizeof(seedhex), kp->sk, crypto_sign_SEEDBYTES);
	n = snprintf(buf, sizeof(buf),
	    "# carnet key: keep this file secret\npublic %s\nseed %s\n", id,
	    seedhex);
	sodium_memzero(seedhex, sizeof(seedhex));
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = cerr_set(err, errno == EEXIST ? CARNET_E_EXISTS :
		    CARNET_E_IO, "cannot create key file %s: %s", path,
		    strerror(errno));
	} else {
		if (write(fd, buf, (size_t)n) != n || fsync(fd) != 0)
			rc = cerr_set(err, CARNET_E_IO,
			    "cannot write key file %s: %s", path,
			    strerror(errno));
		close(fd);
		if (rc != 0)
			unlink(path);
	}
	sodium_memzero(buf, sizeof(buf));
	return rc;
}

static int
parse_keyfile(char *buf, struct keypair *kp, const char *path,
    struct cerr *err)
{
	char *line, *save = NULL, *pub = NULL, *seed = NULL;
	uint8_t seedbin[crypto_sign_SEEDBYTES], claimed[ID_BYTES];
	size_t binlen = 0;
	int rc = 0;

	for (line = strtok_r(buf, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "public ", 7) == 0)
			pub = line + 7;
		else if (strncmp(line, "seed ", 5) == 0)
			seed = line + 5;
	}
	if (pub == NULL || seed == NULL || id_decode(pub, claimed) != 0 ||
	    strlen(seed) != 2 * crypto_sign_SEEDBYTES ||
	    sodium_hex2bin(seedbin, sizeof(seedbin), seed, strlen(seed), NULL,
	    &binlen, NULL) != 0 || binlen != sizeof(seedbin))
		rc = cerr_set(err, CARNET_E_MALFORMED,
		    "key file %s: not a carnet key (want 'public' and "
		    "'seed' lines)", path);
	else if (crypto_sign_seed_keypair(kp->pk, kp->sk, seedbin) != 0 ||
	    sodium_memcmp(kp->pk, claimed, ID_BYTES) != 0)
		rc = cerr_set(err, CARNET_E_MALFORMED,
		    "key file %s: the public id does not match the seed",
		    path);
	sodium_memzero(seedbin, sizeof(seedbin));
	return rc;
}

int
key_read(const char *path, struct keypair *kp, struct cerr *err)
{
	char buf[KEYFILE_MAX_BYTES + 1];
	struct stat st;
	ssize_t n;
	int fd, rc;

	if (sodium_init() < 0)
		return cerr_set(err, CARNET_E_NOMEM, "libsodium failed to start");
	/* O_NONBLOCK: a FIFO (or a device) named as the key file must not
	 * block the open; fstat then refuses anything but a plain file */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0)
		return cerr_set(err, errno == ENOENT ? CARNET_E_NOT_FOUND :
		    CARNET_E_IO, "cannot open key file %s: %s", path,
		    strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return cerr_set(err, CARNET_E_IO, "key file %s: not a file",
		    path);
	}
	/* another user's, or open to others: refused (see fileperm.h) */
	if ((rc = fileperm_check(fd, path, FILEPERM_SECRET, err)) != 0) {
		close(fd);
		return rc;
	}
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n < 0 || n > KEYFILE_MAX_BYTES)
		rc = cerr_set(err, n < 0 ? CARNET_E_IO : CARNET_E_TOO_BIG,
		    "cannot read key file %s", path);
	else {
		buf[n] = '\0';
		rc = parse_keyfile(buf, kp, path, err);
	}
	sodium_memzero(buf, sizeof(buf));
	if (rc != 0)
		key_wipe(kp);
	return rc;
}

int
key_curve(const struct keypair *kp, uint8_t curve_pk[32],
    uint8_t curve_sk[32])
{
	if (crypto_sign_ed25519_pk_to_curve25519(curve_pk, kp->pk) != 0 ||
	    crypto_sign_ed25519_sk_to_curve25519(curve_sk, kp->sk) != 0)
		return CARNET_E_BAD_VALUE;
	return 0;
}

int
key_curve_pk(const uint8_t ed_pk[ID_BYTES], uint8_t curve_pk[32])
{
	if (crypto_sign_ed25519_pk_to_curve25519(curve_pk, ed_pk) != 0)
		return CARNET_E_BAD_VALUE;
	return 0;
}

void
key_wipe(struct keypair *kp)
{
	sodium_memzero(kp, sizeof(*kp));
}
