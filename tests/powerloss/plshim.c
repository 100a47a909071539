/*
 * plshim.c: an LD_PRELOAD shim that makes a kill -9 look like a power loss.
 *
 * kill -9 leaves the page cache alone: every write a process made reaches
 * the disk in the end, synced or not, so a missing or misplaced fsync goes
 * unseen.  Under this shim, each write into a file below CARNET_PL_DIR that
 * is not yet durable is first recorded in an undo log (CARNET_PL_LOG, kept
 * outside that directory): the bytes it overwrites and the file's size
 * before it.  An fsync or fdatasync of the file marks everything before it
 * durable; writes through a descriptor opened O_SYNC or O_DSYNC are durable
 * at once.  After the process is killed, pl-undo (plundo.c) applies the log
 * backwards: each file is put back as it was at its last sync, which is
 * what a machine that lost power would find (the harshest case: it drops
 * every unsynced write, where a real disk may keep some).
 *
 * Intercepted: open, open64, openat, openat64 (O_TRUNC), write, pwrite,
 * pwrite64, writev, pwritev, ftruncate, ftruncate64, fsync, fdatasync.
 * Not seen: writes through mmap (carnet's LMDB does not use MDB_WRITEMAP),
 * stdio's own writes (glibc calls its write internally), and directory
 * entries (a rename or a new name is taken as durable).  The descriptor is
 * resolved through /proc/self/fd at every call, so a descriptor number
 * that glibc closed and reused behind the shim's back is never mistaken
 * for another file.
 *
 * Log record: struct plrec, then the path, then the old bytes.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#include "plshim.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static char dir[PATH_MAX];
static size_t dirlen;
static int logfd = -1;

static int (*real_open)(const char *, int, ...);
static int (*real_openat)(int, const char *, int, ...);
static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_pwrite)(int, const void *, size_t, off_t);
static ssize_t (*real_writev)(int, const struct iovec *, int);
static ssize_t (*real_pwritev)(int, const struct iovec *, int, off_t);
static int (*real_ftruncate)(int, off_t);
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);

#define REAL(name) real_##name = (__typeof__(real_##name))dlsym(RTLD_NEXT, #name)

static void
setup(void)
{
	const char *d = getenv("CARNET_PL_DIR"), *l = getenv("CARNET_PL_LOG");

	REAL(open);
	REAL(openat);
	REAL(write);
	REAL(pwrite);
	REAL(writev);
	REAL(pwritev);
	REAL(ftruncate);
	REAL(fsync);
	REAL(fdatasync);
	if (d == NULL || l == NULL || realpath(d, dir) == NULL)
		return;
	dirlen = strlen(dir);
	logfd = real_open(l, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (logfd < 0) {
		fprintf(stderr, "plshim: cannot open %s: %s\n", l,
		    strerror(errno));
		abort();
	}
}

static void
init(void)
{
	pthread_once(&once, setup);
}

static bool
below_dir(const char *path)
{
	return logfd >= 0 && strncmp(path, dir, dirlen) == 0 &&
	    path[dirlen] == '/';
}

/* The file behind fd, if it is one the shim watches. */
static bool
watched(int fd, char path[PATH_MAX])
{
	char link[64];
	ssize_t n;

	if (logfd < 0 || fd < 0 || fd == logfd)
		return false;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	if ((n = readlink(link, path, PATH_MAX - 1)) <= 0)
		return false;
	path[n] = '\0';
	return below_dir(path);
}

static void
log_all(const void *p, size_t n)
{
	const char *c = p;
	ssize_t w;

	while (n > 0) {
		if ((w = real_write(logfd, c, n)) < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "plshim: undo log: %s\n",
			    strerror(errno));
			abort(); /* a lost undo record would hide a loss */
		}
		c += w;
		n -= (size_t)w;
	}
}

static void
log_rec(uint8_t kind, const char *path, uint64_t off, const void *old,
    uint64_t len, uint64_t size)
{
	struct plrec r;

	memset(&r, 0, sizeof(r));
	r.magic = PL_MAGIC;
	r.kind = kind;
	r.pathlen = (uint32_t)strlen(path);
	r.off = off;
	r.len = len;
	r.size = size;
	log_all(&r, sizeof(r));
	log_all(path, r.pathlen);
	if (len > 0)
		log_all(old, len);
}

/*
 * Before bytes [off, off + len) of path change: the bytes there now (those
 * inside the file) and the file's size.
 */
static void
save_range(const char *path, uint64_t off, uint64_t len)
{
	struct stat st;
	uint64_t have = 0;
	char *old = NULL;
	ssize_t got;
	int rfd;

	if ((rfd = real_open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return; /* gone: nothing to put back */
	if (fstat(rfd, &st) != 0) {
		close(rfd);
		return;
	}
	if (off < (uint64_t)st.st_size) {
		have = (uint64_t)st.st_size - off;
		if (have > len)
			have = len;
		if ((old = malloc(have)) == NULL)
			abort();
		got = pread(rfd, old, have, (off_t)off);
		have = got > 0 ? (uint64_t)got : 0;
	}
	close(rfd);
	log_rec(PL_WRITE, path, off, old, have, (uint64_t)st.st_size);
	free(old);
}

static bool
durable_fd(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl >= 0 && (fl & (O_SYNC | O_DSYNC)) != 0;
}

/* A write of len bytes at off (-1: at the descriptor's position). */
static void
before_write(int fd, off_t off, uint64_t len)
{
	char path[PATH_MAX];
	struct stat st;
	int fl;

	init();
	if (len == 0 || !watched(fd, path) || durable_fd(fd))
		return;
	if (off < 0) {
		fl = fcntl(fd, F_GETFL);
		if (fl >= 0 && (fl & O_APPEND) != 0)
			off = fstat(fd, &st) == 0 ? st.st_size : 0;
		else
			off = lseek(fd, 0, SEEK_CUR);
		if (off < 0)
			return; /* a pipe or the like */
	}
	pthread_mutex_lock(&lock);
	save_range(path, (uint64_t)off, len);
	pthread_mutex_unlock(&lock);
}

static void
before_truncate(const char *path, off_t to)
{
	struct stat st;

	if (stat(path, &st) != 0 || (off_t)st.st_size == to)
		return;
	pthread_mutex_lock(&lock);
	if ((off_t)st.st_size > to)
		save_range(path, (uint64_t)to, (uint64_t)(st.st_size - to));
	else
		log_rec(PL_WRITE, path, (uint64_t)st.st_size, NULL, 0,
		    (uint64_t)st.st_size);
	pthread_mutex_unlock(&lock);
}

static void
after_sync(int fd)
{
	char path[PATH_MAX];

	if (!watched(fd, path))
		return;
	pthread_mutex_lock(&lock);
	log_rec(PL_SYNC, path, 0, NULL, 0, 0);
	pthread_mutex_unlock(&lock);
}

/* O_TRUNC on an existing watched file: save what it held. */
static void
before_open(int dirfd, const char *name, int flags)
{
	char full[PATH_MAX * 2], path[PATH_MAX];

	init();
	if ((flags & O_TRUNC) == 0 || logfd < 0 || name == NULL)
		return;
	if (name[0] == '/' || dirfd == AT_FDCWD)
		snprintf(full, sizeof(full), "%s", name);
	else
		snprintf(full, sizeof(full), "/proc/self/fd/%d/%s", dirfd,
		    name);
	if (realpath(full, path) == NULL || !below_dir(path))
		return;
	before_truncate(path, 0);
}

static mode_t
mode_arg(int flags, va_list ap)
{
	return (flags & (O_CREAT | O_TMPFILE)) ? (mode_t)va_arg(ap, int) : 0;
}

static int
shim_openat(int dirfd, const char *path, int flags, mode_t mode)
{
	before_open(dirfd, path, flags);
	return dirfd == AT_FDCWD ? real_open(path, flags, mode) :
	    real_openat(dirfd, path, flags, mode);
}

/* open(2)'s optional mode, read only when flags say it was passed */
#define OPEN_MODE(flags, mode) do {					\
	va_list ap_;							\
	va_start(ap_, flags);						\
	mode = mode_arg(flags, ap_);					\
	va_end(ap_);							\
} while (0)

int
open(const char *path, int flags, ...)
{
	mode_t mode;

	OPEN_MODE(flags, mode);
	return shim_openat(AT_FDCWD, path, flags, mode);
}

int
open64(const char *path, int flags, ...)
{
	mode_t mode;

	OPEN_MODE(flags, mode);
	return shim_openat(AT_FDCWD, path, flags, mode);
}

int
openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode;

	OPEN_MODE(flags, mode);
	return shim_openat(dirfd, path, flags, mode);
}

int
openat64(int dirfd, const char *path, int flags, ...)
{
	mode_t mode;

	OPEN_MODE(flags, mode);
	return shim_openat(dirfd, path, flags, mode);
}

static uint64_t
iov_len(const struct iovec *iov, int n)
{
	uint64_t len = 0;
	int i;

	for (i = 0; i < n; i++)
		len += iov[i].iov_len;
	return len;
}

ssize_t
write(int fd, const void *buf, size_t n)
{
	before_write(fd, -1, n);
	return real_write(fd, buf, n);
}

ssize_t
pwrite(int fd, const void *buf, size_t n, off_t off)
{
	before_write(fd, off, n);
	return real_pwrite(fd, buf, n, off);
}

ssize_t
pwrite64(int fd, const void *buf, size_t n, off_t off)
{
	before_write(fd, off, n);
	return real_pwrite(fd, buf, n, off);
}

ssize_t
writev(int fd, const struct iovec *iov, int n)
{
	before_write(fd, -1, iov_len(iov, n));
	return real_writev(fd, iov, n);
}

ssize_t
pwritev(int fd, const struct iovec *iov, int n, off_t off)
{
	before_write(fd, off, iov_len(iov, n));
	return real_pwritev(fd, iov, n, off);
}

int
ftruncate(int fd, off_t to)
{
	char path[PATH_MAX];

	init();
	if (watched(fd, path) && !durable_fd(fd))
		before_truncate(path, to);
	return real_ftruncate(fd, to);
}

int
ftruncate64(int fd, off_t to)
{
	return ftruncate(fd, to);
}

int
fsync(int fd)
{
	int rc;

	init();
	if ((rc = real_fsync(fd)) == 0)
		after_sync(fd);
	return rc;
}

int
fdatasync(int fd)
{
	int rc;

	init();
	if ((rc = real_fdatasync(fd)) == 0)
		after_sync(fd);
	return rc;
}
