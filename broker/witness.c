/*
 * witness.c: the store's withdrawal count (store_withdrawals: consents
 * revoked, paused or ended, erasures, delegations and cards narrowed)
 * kept in a file outside the data directory, DIR.witness by default, so
 * that a data directory put back to a copy taken before one of them is
 * refused at start instead of serving apps under consents revoked since.
 *
 * The file is written only after a turn whose commit counted a
 * withdrawal, and before that turn's replies and notices are sent:
 * nobody is told "revoked" unless the witness knows.  It is a fresh
 * mkstemp file (never through a link left there), synced, renamed over
 * the old one, and the directory synced.  It names the broker (its key:
 * a copy of DIR keeps it, a new store gets another) and is MAC'd with a
 * subkey of the broker key, so an edited or damaged witness is noticed.
 * This guards against an operator's or a backup tool's rollback, not
 * against whoever can rewrite both DIR and the witness: with the broker
 * key and an old witness file they can put back a consistent old pair.
 */
#define _DEFAULT_SOURCE /* realpath */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "../common/fileperm.h"
#include "../common/id.h"
#include "broker.h"

#define WITNESS_MAGIC "carnet witness 1"
#define WITNESS_MAX_BYTES 512
#define WITNESS_MAC_CTX "carnet-witness-mac-v1"

struct witness {
	char path[PATH_MAX];
	char dir[PATH_MAX];        /* the directory holding it, synced */
	char broker[ID_STR_LEN + 1];
	uint8_t mac_key[crypto_generichash_BYTES];
	uint64_t count;            /* what the file says now */
};

/* What the file at w->path holds, once read. */
enum wit_state {
	WIT_OK,      /* this broker's, verified: *count, when */
	WIT_MISSING, /* no file */
	WIT_OTHER,   /* another broker's: other */
	WIT_BAD,     /* not a witness, or its MAC does not verify */
};

/* The body the MAC covers, in its one canonical form; its length. */
static int
wit_body(const char *broker, uint64_t count, const char *when, char *out,
    size_t size)
{
	return snprintf(out, size, WITNESS_MAGIC "\nbroker %s\nwithdrawals "
	    "%" PRIu64 "\nwritten %s\n", broker, count, when);
}

static void
wit_mac(const struct witness *w, const char *body, size_t len,
    uint8_t mac[crypto_generichash_BYTES])
{
	crypto_generichash(mac, crypto_generichash_BYTES,
	    (const uint8_t *)body, len, w->mac_key, sizeof(w->mac_key));
}

/*
 * Read and check the witness: 0 and *st (with *count and when for
 * WIT_OK, other for WIT_OTHER), or an error the broker cannot start
 * with (a link, a FIFO, another user's file, one others may write).
 */
static int
wit_read(const struct witness *w, enum wit_state *st, uint64_t *count,
    char when[TIME_STR_LEN + 1], char other[ID_STR_LEN + 1],
    struct cerr *err)
{
	char buf[WITNESS_MAX_BYTES + 1], canon[WITNESS_MAX_BYTES];
	char id[ID_STR_LEN + 2], num[24], at[TIME_STR_LEN + 2];
	char hex[2 * crypto_generichash_BYTES + 1];
	uint8_t mac[crypto_generichash_BYTES], want[crypto_generichash_BYTES];
	size_t len = 0, hex_len;
	ssize_t n;
	char *end;
	int fd, rc, blen;

	*st = WIT_BAD;
	fd = open(w->path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		*st = WIT_MISSING;
		return 0;
	}
	if (fd < 0)
		return cerr_set(err, errno == ELOOP ? CARNET_E_FILE_PERMS :
		    CARNET_E_IO, "cannot open the witness %s: %s", w->path,
		    errno == ELOOP ? "a link, not a file" : strerror(errno));
	if ((rc = fileperm_check(fd, w->path, FILEPERM_FILE, err)) != 0) {
		close(fd);
		return rc;
	}
	while (len < sizeof(buf) - 1 &&
	    (n = read(fd, buf + len, sizeof(buf) - 1 - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = cerr_set(err, CARNET_E_IO, "cannot read the "
			    "witness %s: %s", w->path, strerror(errno));
			close(fd);
			return rc;
		}
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	if (len >= sizeof(buf) - 1 || memchr(buf, '\0', len) != NULL)
		return 0; /* WIT_BAD */
	/* loosely parsed, then rebuilt and compared byte for byte */
	if (sscanf(buf, WITNESS_MAGIC " broker %53s withdrawals %23s "
	    "written %21s", id, num, at) != 3 || strlen(id) != ID_STR_LEN ||
	    strlen(at) != TIME_STR_LEN || num[0] < '0' || num[0] > '9')
		return 0;
	errno = 0;
	*count = strtoull(num, &end, 10);
	if (*end != '\0' || errno != 0)
		return 0;
	blen = wit_body(id, *count, at, canon, sizeof(canon));
	if (blen <= 0 || (size_t)blen >= sizeof(canon) ||
	    (size_t)blen > len || memcmp(buf, canon, (size_t)blen) != 0)
		return 0;
	hex_len = 2 * crypto_generichash_BYTES;
	if (len != (size_t)blen + 4 + hex_len + 1 ||
	    memcmp(buf + blen, "mac ", 4) != 0 || buf[len - 1] != '\n')
		return 0;
	memcpy(hex, buf + blen + 4, hex_len);
	hex[hex_len] = '\0';
	if (strcmp(id, w->broker) != 0) {
		snprintf(other, ID_STR_LEN + 1, "%s", id);
		*st = WIT_OTHER;
		return 0;
	}
	if (sodium_hex2bin(mac, sizeof(mac), hex, hex_len, NULL, NULL,
	    NULL) != 0)
		return 0;
	wit_mac(w, canon, (size_t)blen, want);
	if (crypto_verify_32(mac, want) != 0)
		return 0;
	memcpy(when, at, TIME_STR_LEN + 1);
	*st = WIT_OK;
	return 0;
}

/* Write the witness for count: a fresh file, synced, renamed, the
 * directory synced. */
static int
wit_write(struct witness *w, uint64_t count, struct cerr *err)
{
	char tmp[PATH_MAX + 8], body[WITNESS_MAX_BYTES];
	char when[TIME_STR_LEN + 1], hex[2 * crypto_generichash_BYTES + 1];
	uint8_t mac[crypto_generichash_BYTES];
	int fd, dfd, len, rc = 0;
	const char *what = "";

	time_format(time_now_ms() / 1000, when);
	len = wit_body(w->broker, count, when, body, sizeof(body));
	wit_mac(w, body, (size_t)len, mac);
	sodium_bin2hex(hex, sizeof(hex), mac, sizeof(mac));
	len += snprintf(body + len, sizeof(body) - (size_t)len, "mac %s\n",
	    hex);
	snprintf(tmp, sizeof(tmp), "%s.XXXXXX", w->path);
	if ((fd = mkstemp(tmp)) < 0)
		return cerr_set(err, CARNET_E_IO, "cannot write the witness "
		    "%s: %s", tmp, strerror(errno));
	if (write(fd, body, (size_t)len) != len) {
		what = "write";
		rc = errno ? errno : EIO;
	} else if (fsync(fd) != 0) {
		what = "sync";
		rc = errno;
	}
	if (close(fd) != 0 && rc == 0) {
		what = "close";
		rc = errno;
	}
	if (rc == 0 && rename(tmp, w->path) != 0) {
		what = "rename";
		rc = errno;
	}
	if (rc != 0) {
		unlink(tmp);
		return cerr_set(err, CARNET_E_IO, "cannot %s the witness %s: "
		    "%s", what, w->path, strerror(rc));
	}
	if ((dfd = open(w->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    fsync(dfd) != 0) {
		rc = cerr_set(err, CARNET_E_IO, "cannot sync %s, the witness's "
		    "directory: %s", w->dir, strerror(errno));
		if (dfd >= 0)
			close(dfd);
		return rc;
	}
	close(dfd);
	w->count = count;
	return 0;
}

/* DIR.witness, beside DIR (not in it: it would be put back with it);
 * a DIR named . or .. by its full name. */
static int
wit_default_path(const char *dir, char *out, size_t size, struct cerr *err)
{
	char real[PATH_MAX];
	size_t n = strlen(dir), b;

	while (n > 1 && dir[n - 1] == '/')
		n--;
	for (b = n; b > 0 && dir[b - 1] != '/'; b--)
		; /* the last name starts at b */
	if ((n - b == 1 && dir[b] == '.') ||
	    (n - b == 2 && memcmp(dir + b, "..", 2) == 0)) {
		if (realpath(dir, real) == NULL)
			return cerr_set(err, CARNET_E_IO, "cannot resolve %s: %s",
			    dir, strerror(errno));
		dir = real;
		n = strlen(dir);
	}
	if (n == 0 || (n == 1 && dir[0] == '/'))
		return cerr_set(err, CARNET_E_BAD_ARG, "--data %s: no name to "
		    "put its witness beside: give --witness FILE, outside it",
		    dir);
	if (snprintf(out, size, "%.*s.witness", (int)n, dir) >= (int)size)
		return cerr_set(err, CARNET_E_TOO_LONG, "--data %s: path too "
		    "long for its witness", dir);
	return 0;
}

/* What a refusal adds, logged before it (a cerr holds one short line):
 * what was lost and the way past. */
static void
wit_hint(const char *what, uint64_t n)
{
	log_warnx("%s; put the newest copy of the data directory back, or, if "
	    "this one is the newest there is, start carnetd once with "
	    "--accept-rollback %" PRIu64 ": it logs what is lost; people's "
	    "clients send their revocations again at their next command, and "
	    "apps offline since may receive records under them until then "
	    "(docs/SECURITY.md, item 8)", what, n);
}

int
witness_open(const char *path, const char *dir, struct store *s,
    const struct keypair *key, bool accept, uint64_t accept_n,
    struct witness **out, struct cerr *err)
{
	static const char ctx[] = WITNESS_MAC_CTX;
	char when[TIME_STR_LEN + 1] = "", other[ID_STR_LEN + 1] = "";
	char real_dir[PATH_MAX], real_wdir[PATH_MAX];
	struct witness *w;
	enum wit_state st;
	uint64_t have = store_withdrawals(s), seen = 0;
	const char *slash;
	int rc;

	*out = NULL;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return cerr_set(err, CARNET_E_NOMEM, "out of memory");
	if (path == NULL) {
		if ((rc = wit_default_path(dir, w->path, sizeof(w->path) - 8,
		    err)) != 0)
			goto fail;
		path = w->path;
	} else if (snprintf(w->path, sizeof(w->path), "%s", path) >=
	    (int)sizeof(w->path) - 8) {
		rc = cerr_set(err, CARNET_E_TOO_LONG, "--witness: path too "
		    "long");
		goto fail;
	}
	if ((slash = strrchr(path, '/')) == NULL)
		strcpy(w->dir, ".");
	else if (slash == path)
		strcpy(w->dir, "/");
	else
		snprintf(w->dir, sizeof(w->dir), "%.*s", (int)(slash - path),
		    path);
	/* a witness in DIR would be put back with it */
	if (realpath(dir, real_dir) != NULL &&
	    realpath(w->dir, real_wdir) != NULL &&
	    strncmp(real_wdir, real_dir, strlen(real_dir)) == 0 &&
	    (real_wdir[strlen(real_dir)] == '\0' ||
	    real_wdir[strlen(real_dir)] == '/')) {
		rc = cerr_set(err, CARNET_E_BAD_ARG, "the witness %s is in %s: "
		    "a copy of the data directory put back would bring its "
		    "witness back with it; give --witness a file outside it",
		    path, dir);
		goto fail;
	}
	id_encode(key->pk, w->broker);
	/* a subkey: the signing key itself never keys anything else */
	crypto_generichash(w->mac_key, sizeof(w->mac_key),
	    (const uint8_t *)ctx, sizeof(ctx) - 1, key->sk, 32);
	if ((rc = wit_read(w, &st, &seen, when, other, err)) != 0)
		goto fail;
	if (st == WIT_OK && have >= seen) {
		if (accept)
			log_warnx("--accept-rollback %" PRIu64 ": nothing to "
			    "accept, the store is not behind its witness %s "
			    "(%" PRIu64 " withdrawals, the witness %" PRIu64
			    "): remove the option", accept_n, path, have, seen);
		w->count = seen;
		/* ahead: a stop between a commit and its witness */
		if (have > seen && (rc = wit_write(w, have, err)) != 0)
			goto fail;
	} else if (st == WIT_OK && accept && accept_n == seen) {
		/* on past both: neither copy passes as current later */
		if ((rc = store_withdrawals_raise(s, seen + 1, err)) != 0 ||
		    (rc = wit_write(w, seen + 1, err)) != 0)
			goto fail;
		log_warnx("ROLLBACK ACCEPTED (--accept-rollback %" PRIu64 "): "
		    "the store in %s had %" PRIu64 " withdrawals, its witness "
		    "%s %" PRIu64 " (written %s): the %" PRIu64 " after the "
		    "copy are lost; people's clients send their revocations "
		    "again at their next command, and until then apps may "
		    "receive records under them; both now at %" PRIu64
		    ": remove the option", accept_n, dir, have, path, seen,
		    when, seen - have, seen + 1);
	} else if (st == WIT_OK) {
		wit_hint("the data directory was put back to an older copy: "
		    "the withdrawals after it (consents revoked, paused or "
		    "ended, erasures, delegations or emergency cards narrowed) "
		    "are lost, and apps could get records under consents "
		    "revoked since", seen);
		rc = cerr_set(err, CARNET_E_ROLLED_BACK, "the store in %s is "
		    "behind its witness %s: it holds %" PRIu64 " withdrawals, "
		    "the witness saw %" PRIu64 " (%s)%s", dir, path, have, seen,
		    when, accept ? "; --accept-rollback names another count" :
		    "");
		goto fail;
	} else if (have == 0 && st != WIT_BAD) {
		/* a new store, or one from before the witness */
		if ((rc = wit_write(w, 0, err)) != 0)
			goto fail;
		if (st == WIT_OTHER)
			log_warnx("%s was the witness of broker %s, not of this "
			    "one (%s), whose store has no withdrawals yet: it "
			    "is this broker's now", path, other, w->broker);
		else
			log_info("witness %s created: the store's withdrawals "
			    "are recorded there, outside %s", path, dir);
	} else if (accept && accept_n == 0) {
		if ((rc = wit_write(w, have, err)) != 0)
			goto fail;
		log_warnx("WITNESS REPLACED (--accept-rollback 0): %s %s; the "
		    "store in %s, with %" PRIu64 " withdrawals, is taken as "
		    "the newest: if it was put back, people's clients send "
		    "their revocations again at their next command; remove "
		    "the option", path, st == WIT_MISSING ? "was missing" :
		    st == WIT_OTHER ? "was another broker's" :
		    "did not verify", dir, have);
	} else {
		wit_hint(st == WIT_MISSING ? "the data directory was moved "
		    "(give --witness where its witness is), or restored where "
		    "its witness is not, possibly from a copy older than a "
		    "revocation" : st == WIT_OTHER ? "give each broker its own "
		    "--witness" : "the witness was edited or damaged: what it "
		    "saw is unknown", 0);
		if (st == WIT_MISSING)
			rc = cerr_set(err, CARNET_E_ROLLED_BACK, "the store in "
			    "%s has %" PRIu64 " withdrawals and no witness %s",
			    dir, have, path);
		else if (st == WIT_OTHER)
			rc = cerr_set(err, CARNET_E_BAD_ARG, "the witness %s is "
			    "broker %s's, not this broker's, whose store has %"
			    PRIu64 " withdrawals", path, other, have);
		else
			rc = cerr_set(err, CARNET_E_BAD_SIGNATURE, "the witness "
			    "%s does not verify under this broker's key", path);
		goto fail;
	}
	*out = w;
	return 0;
fail:
	sodium_memzero(w, sizeof(*w));
	free(w);
	return rc;
}

void
witness_after_commit(struct witness *w, struct store *s)
{
	struct cerr err = {0};
	uint64_t have = store_withdrawals(s);

	if (w == NULL || have <= w->count)
		return;
	if (wit_write(w, have, &err) != 0)
		/* the turn's replies are not sent: nobody is told of a
		 * withdrawal a rollback could undo unseen; the store keeps
		 * it, the next start writes the witness or refuses */
		fatalx("%s; the store has %" PRIu64 " withdrawals and its "
		    "witness %" PRIu64 ": stopping before this turn's replies "
		    "are sent [%s]", cerr_msg(&err), have, w->count,
		    carnet_errname(err.code));
}

void
witness_destroy(struct witness **w)
{
	if (*w == NULL)
		return;
	sodium_memzero(*w, sizeof(**w));
	free(*w);
	*w = NULL;
}
