/*
 * kept.c: the person's kept head and revocations (kept.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "../common/mpk.h"
#include "../common/plainfile.h"
#include "kept.h"

/* KEYFILE + suffix (".head", ".WHO.head", ".revoked") */
static void
kept_path(const struct cli_conn *cc, const char *what, bool per_person,
    char *path, size_t size)
{
	const char *key = cc->key ? cc->key : getenv("CARNET_KEY");
	char who[ID_STR_LEN + 1];

	if (!per_person || !cc->has_for) {
		snprintf(path, size, "%s.%s", key ? key : "carnet", what);
		return;
	}
	id_encode(cc->who, who);
	snprintf(path, size, "%s.%s.%s", key ? key : "carnet", who, what);
}

void
kept_file(const struct cli_conn *cc, const char *what, char *path,
    size_t size)
{
	kept_path(cc, what, false, path, size);
}

void
kept_head_path(const struct cli_conn *cc, char *path, size_t size)
{
	kept_path(cc, "head", true, path, size);
}

bool
kept_head_load(const struct cli_conn *cc, uint64_t *seq,
    uint8_t hash[HASH_BYTES])
{
	char path[4096], hex[2 * HASH_BYTES + 1];
	unsigned long long s;
	bool ok = false;
	FILE *f;

	kept_head_path(cc, path, sizeof(path));
	if ((f = plainfile_open(path)) == NULL)
		return false;
	if (fscanf(f, "%llu %64s", &s, hex) == 2 &&
	    sodium_hex2bin(hash, HASH_BYTES, hex, strlen(hex), NULL, NULL,
	    NULL) == 0) {
		*seq = s;
		ok = true;
	}
	fclose(f);
	return ok;
}

void
kept_head_save(const struct cli_conn *cc, uint64_t seq,
    const uint8_t hash[HASH_BYTES])
{
	char path[4096], tmp[4200], hex[2 * HASH_BYTES + 1];
	FILE *f;
	bool ok;
	int fd;

	kept_head_path(cc, path, sizeof(path));
	/* a temporary of our own (mkstemp: O_EXCL, never through a link
	 * someone left there), then renamed over the head */
	snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path);
	sodium_bin2hex(hex, sizeof(hex), hash, HASH_BYTES);
	if ((fd = mkstemp(tmp)) < 0)
		return;
	if ((f = fdopen(fd, "w")) == NULL) {
		close(fd);
		unlink(tmp);
		return;
	}
	fprintf(f, "%llu %s\n", (unsigned long long)seq, hex);
	ok = fflush(f) == 0 && fsync(fileno(f)) == 0;
	if (fclose(f) != 0 || !ok || rename(tmp, path) != 0)
		unlink(tmp);
}

void
kept_revocation_add(const struct cli_conn *cc, const uint8_t *blob,
    size_t len)
{
	char path[4096], who[ID_STR_LEN + 1], *hex;
	int fd;

	kept_path(cc, "revoked", false, path, sizeof(path));
	if ((hex = malloc(2 * len + 1)) == NULL)
		return;
	sodium_bin2hex(hex, 2 * len + 1, blob, len);
	id_encode(cc->who, who);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC |
	    O_NONBLOCK, 0600);
	if (fd >= 0) {
		if (dprintf(fd, "%s %s\n", who, hex) < 0 || fsync(fd) != 0)
			fprintf(stderr, "carnet: could not keep the revocation "
			    "in %s: %s\n", path, strerror(errno));
		close(fd);
	}
	free(hex);
}

/* Send again every revocation kept for the person cc acts for. */
static void
reassert(struct cli_conn *cc)
{
	char path[4096], who[ID_STR_LEN + 1], line[2 * 4096 + 128];
	uint8_t blob[4096];
	unsigned sent = 0, failed = 0;
	size_t len;
	FILE *f;

	kept_path(cc, "revoked", false, path, sizeof(path));
	id_encode(cc->who, who);
	if ((f = plainfile_open(path)) == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *sp = strchr(line, ' '), *nl = strchr(line, '\n');
		msgpack_unpacked reply;
		msgpack_packer *pk;
		struct cerr err = {0};

		if (sp == NULL || nl == NULL ||
		    strncmp(line, who, (size_t)(sp - line)) != 0 ||
		    sodium_hex2bin(blob, sizeof(blob), sp + 1,
		    (size_t)(nl - sp - 1), NULL, &len, NULL) != 0)
			continue;
		pk = cli_begin(cc, 1);
		mpk_pack_cstr(pk, "revocation");
		mpk_pack_binn(pk, blob, len);
		if (client_call(cc->c, "REVOKE", &reply, &err) == 0) {
			msgpack_unpacked_destroy(&reply);
			sent++;
		} else {
			failed++;
			fprintf(stderr, "carnet: a revocation could not be sent "
			    "again: %s\n", cerr_msg(&err));
		}
	}
	fclose(f);
	fprintf(stderr, "carnet: %u revocation%s sent again%s\n", sent,
	    sent == 1 ? "" : "s", failed ? "; some failed (see above)" : "");
}

/*
 * The log grew since the kept head: is the kept entry still in it, the
 * same?  (A store put back, then grown past the kept seq, fails here.)
 * A delegate's reading would be logged under the person at each
 * command: theirs is checked by carnet log verify instead.
 */
static bool
kept_entry_holds(struct cli_conn *cc, uint64_t kept_seq,
    const uint8_t kept[HASH_BYTES])
{
	const msgpack_object *es;
	msgpack_unpacked reply;
	msgpack_packer *pk;
	struct cerr err = {0};
	uint8_t hash[HASH_BYTES];
	bool same = false;

	if (cc->has_for || kept_seq == 0)
		return true;
	pk = cli_begin(cc, 2);
	mpk_pack_cstr(pk, "from");
	msgpack_pack_uint64(pk, kept_seq);
	mpk_pack_cstr(pk, "limit");
	msgpack_pack_uint64(pk, 1);
	if (client_call(cc->c, "LOG", &reply, &err) != 0)
		return true; /* cannot tell now: the next command will */
	es = mpk_get(&reply.data, "entries");
	if (es != NULL && es->type == MSGPACK_OBJECT_ARRAY &&
	    es->via.array.size == 1 &&
	    es->via.array.ptr[0].type == MSGPACK_OBJECT_BIN) {
		const msgpack_object *e = &es->via.array.ptr[0];

		uselog_hash(e->via.bin.ptr, e->via.bin.size, hash);
		same = sodium_memcmp(hash, kept, HASH_BYTES) == 0;
	}
	msgpack_unpacked_destroy(&reply);
	return same;
}

bool
kept_check(struct cli_conn *cc, const msgpack_object *reply)
{
	const msgpack_object *h = mpk_get(reply, "head");
	uint8_t hash[HASH_BYTES], kept[HASH_BYTES], sig[HEAD_SIG_BYTES];
	uint8_t bid[ID_BYTES];
	uint64_t seq, kept_seq;
	struct cerr err = {0};
	char path[4096];

	if (h == NULL || mpk_u64(mpk_get(h, "seq"), &seq) != 0 ||
	    mpk_bin_n(mpk_get(h, "hash"), hash, HASH_BYTES) != 0 ||
	    mpk_bin_n(mpk_get(h, "sig"), sig, HEAD_SIG_BYTES) != 0)
		return false;
	if (cli_conn_broker_id(cc, bid, &err) != 0 ||
	    uselog_head_verify(cc->who, seq, hash, bid, sig) != 0) {
		fprintf(stderr, "carnet: WARNING: the broker's signature on "
		    "your log's head does not verify\n");
		return false;
	}
	if (!kept_head_load(cc, &kept_seq, kept) ||
	    (seq > kept_seq && kept_entry_holds(cc, kept_seq, kept))) {
		kept_head_save(cc, seq, hash);
		return false;
	}
	if (seq == kept_seq && sodium_memcmp(hash, kept, HASH_BYTES) == 0)
		return false;
	/* Older than what was seen, or the same entry changed: the store
	 * was put back or rewritten.  The newer kept head stays. */
	kept_head_path(cc, path, sizeof(path));
	fprintf(stderr, "carnet: WARNING: the broker's copy of %s log %s "
	    "(entry %llu now, entry %llu seen before): its store was put "
	    "back to an older copy or rewritten; consents you revoked may "
	    "be live again. Sending your revocations again. (To take the "
	    "broker's log as it is now, remove %s.)\n",
	    cc->has_for ? "this person's" : "your",
	    seq < kept_seq ? "is behind the one you saw" :
	    "does not hold the entry you saw", (unsigned long long)seq,
	    (unsigned long long)kept_seq, path);
	reassert(cc);
	return true;
}
