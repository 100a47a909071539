/*
 * wal.c: see wal.h.  It calls no other file of the store.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "../common/fileperm.h"
#include "wal.h"

#define HEAD_BYTES (4 + 8 + 8)
#define HASH_LEN 16

struct wal {
	int fd;
	char path[512];
	uint64_t gen;
	uint64_t off;           /* where the next entry goes */
	uint64_t next_turn;     /* 0: any (the generation's first) */
	bool dirty;
};

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void
put64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t
get_be(const uint8_t *p, int n)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

static int
io_fail(const char *path, struct cerr *err, const char *what)
{
	return cerr_set(err, errno == ENOSPC || errno == EDQUOT ?
	    CARNET_E_STORE_FULL : CARNET_E_IO, "turn log %s: %s: %s", path,
	    what, strerror(errno));
}

int
wal_open(const char *path, uint64_t gen, uint64_t prealloc, struct wal **out,
    struct cerr *err)
{
	struct wal *w;
	struct stat st;
	int rc;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return cerr_set(err, CARNET_E_NOMEM, "out of memory");
	if (strlen(path) >= sizeof(w->path)) {
		free(w);
		return cerr_set(err, CARNET_E_BAD_ARG, "path too long: %s",
		    path);
	}
	strcpy(w->path, path);
	w->gen = gen;
	/* O_NOFOLLOW, O_NONBLOCK: no link or FIFO planted in its place */
	w->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW |
	    O_NONBLOCK, 0600);
	if (w->fd < 0) {
		rc = io_fail(path, err, "cannot open");
		goto fail;
	}
	if (fstat(w->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		rc = cerr_set(err, CARNET_E_IO, "turn log %s: not a regular "
		    "file", path);
		goto fail;
	}
	if ((rc = fileperm_check(w->fd, path, FILEPERM_FILE, err)) != 0)
		goto fail;
	if (prealloc > 0 && (uint64_t)st.st_size < prealloc &&
	    (errno = posix_fallocate(w->fd, 0, (off_t)prealloc)) != 0) {
		rc = io_fail(path, err, "cannot reserve its space");
		goto fail;
	}
	/* the size (and the reserved blocks) durable now, not at each sync */
	if (fsync(w->fd) != 0) {
		rc = io_fail(path, err, "cannot sync");
		goto fail;
	}
	*out = w;
	return 0;
fail:
	wal_close(&w);
	return rc;
}

void
wal_close(struct wal **w)
{
	if (*w == NULL)
		return;
	if ((*w)->fd >= 0)
		close((*w)->fd);
	free(*w);
	*w = NULL;
}

static int
write_all(struct wal *w, const void *buf, size_t n, uint64_t off,
    struct cerr *err)
{
	ssize_t r;

	while (n > 0) {
		if ((r = pwrite(w->fd, buf, n, (off_t)off)) < 0) {
			if (errno == EINTR)
				continue;
			return io_fail(w->path, err, "cannot write");
		}
		buf = (const uint8_t *)buf + r;
		n -= (size_t)r;
		off += (uint64_t)r;
	}
	return 0;
}

int
wal_write(struct wal *w, uint64_t turn, const uint8_t *ws, size_t len,
    struct cerr *err)
{
	uint8_t head[HEAD_BYTES], hash[HASH_LEN];
	crypto_generichash_state h;
	int rc;

	if (len > WAL_SET_MAX)
		return cerr_set(err, CARNET_E_TOO_BIG, "turn log: a write set "
		    "of %zu bytes (at most %u)", len, WAL_SET_MAX);
	if (w->next_turn != 0 && turn != w->next_turn)
		return cerr_set(err, CARNET_E_STORE, "turn log: turn %llu "
		    "after %llu", (unsigned long long)turn,
		    (unsigned long long)(w->next_turn - 1));
	put32(head, (uint32_t)len);
	put64(head + 4, w->gen);
	put64(head + 12, turn);
	crypto_generichash_init(&h, NULL, 0, HASH_LEN);
	crypto_generichash_update(&h, head, sizeof(head));
	crypto_generichash_update(&h, ws, len);
	crypto_generichash_final(&h, hash, HASH_LEN);
	if ((rc = write_all(w, head, sizeof(head), w->off, err)) != 0 ||
	    (rc = write_all(w, ws, len, w->off + sizeof(head), err)) != 0 ||
	    (rc = write_all(w, hash, sizeof(hash), w->off + sizeof(head) +
	    len, err)) != 0)
		return rc;
	w->off += WAL_ENTRY_OVERHEAD + len;
	w->next_turn = turn + 1;
	w->dirty = true;
	return 0;
}

int
wal_sync(struct wal *w, struct cerr *err)
{
	if (!w->dirty)
		return 0;
	if (fdatasync(w->fd) != 0)
		return io_fail(w->path, err, "cannot sync");
	w->dirty = false;
	return 0;
}

void
wal_restart(struct wal *w, uint64_t gen)
{
	w->gen = gen;
	w->off = 0;
	w->next_turn = 0;
}

uint64_t
wal_size(const struct wal *w)
{
	return w->off;
}

/* Read n bytes at off; 1 when the file ends first. */
static int
read_all(int fd, void *buf, size_t n, uint64_t off, const char *path,
    struct cerr *err)
{
	ssize_t r;

	while (n > 0) {
		if ((r = pread(fd, buf, n, (off_t)off)) < 0) {
			if (errno == EINTR)
				continue;
			return io_fail(path, err, "cannot read");
		}
		if (r == 0)
			return 1;
		buf = (uint8_t *)buf + r;
		n -= (size_t)r;
		off += (uint64_t)r;
	}
	return 0;
}

int
wal_replay(const char *path, uint64_t gen, wal_entry_fn *fn, void *arg,
    uint64_t *count, struct cerr *err)
{
	uint8_t head[HEAD_BYTES], want[HASH_LEN], *buf = NULL;
	crypto_generichash_state h;
	uint64_t off = 0, turn, next = 0;
	size_t len, cap = 0;
	struct stat st;
	int fd, rc = 0;

	*count = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW |
	    O_NONBLOCK)) < 0)
		return errno == ENOENT ? 0 : io_fail(path, err, "cannot open");
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		rc = cerr_set(err, CARNET_E_IO, "turn log %s: not a regular "
		    "file", path);
		goto out;
	}
	for (;;) {
		if ((rc = read_all(fd, head, sizeof(head), off, path,
		    err)) != 0)
			break;
		len = (size_t)get_be(head, 4);
		if (get_be(head + 4, 8) != gen || len > WAL_SET_MAX ||
		    off + WAL_ENTRY_OVERHEAD + len > (uint64_t)st.st_size)
			break; /* another generation, or cut short */
		if (len + HASH_LEN > cap) {
			uint8_t *p = realloc(buf, len + HASH_LEN);

			if (p == NULL) {
				rc = cerr_set(err, CARNET_E_NOMEM, "out of "
				    "memory");
				goto out;
			}
			buf = p;
			cap = len + HASH_LEN;
		}
		if ((rc = read_all(fd, buf, len + HASH_LEN, off + sizeof(head),
		    path, err)) != 0)
			break;
		crypto_generichash_init(&h, NULL, 0, HASH_LEN);
		crypto_generichash_update(&h, head, sizeof(head));
		crypto_generichash_update(&h, buf, len);
		crypto_generichash_final(&h, want, HASH_LEN);
		if (sodium_memcmp(want, buf + len, HASH_LEN) != 0)
			break; /* a write cut short by the crash */
		turn = get_be(head + 12, 8);
		if (next != 0 && turn != next) {
			rc = cerr_set(err, CARNET_E_STORE, "turn log %s: turn "
			    "%llu after %llu at byte %llu: the log is damaged",
			    path, (unsigned long long)turn,
			    (unsigned long long)(next - 1),
			    (unsigned long long)off);
			goto out;
		}
		if ((rc = fn(arg, turn, buf, len)) != 0)
			goto out;
		(*count)++;
		next = turn + 1;
		off += WAL_ENTRY_OVERHEAD + len;
	}
	if (rc == 1)
		rc = 0; /* the file ended */
out:
	free(buf);
	close(fd);
	return rc;
}
