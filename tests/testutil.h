/*
 * testutil.h: helpers shared by the cmocka tests (header-only, tests only).
 */
#ifndef CARNET_TESTUTIL_H
#define CARNET_TESTUTIL_H

#define _XOPEN_SOURCE 700
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

#include <cmocka.h>
#include <msgpack.h>

static inline void
tu_sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* A monotonic clock, ms. */
static inline int64_t
tu_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A fresh temporary directory; the caller frees the string. */
static inline char *
tu_tmpdir(void)
{
	char *d = strdup("/tmp/carnet-test.XXXXXX");

	assert_non_null(d);
	assert_non_null(mkdtemp(d));
	return d;
}

static inline int
tu_rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st, (void)flag, (void)f;
	return remove(p);
}

/* dir and all in it, and the witness a carnetd run on it left beside it
 * (DIR.witness). */
static inline void
tu_rmtree(char **dir)
{
	char w[4096];

	if (*dir == NULL)
		return;
	nftw(*dir, tu_rm_one, 16, FTW_DEPTH | FTW_PHYS);
	snprintf(w, sizeof(w), "%s.witness", *dir);
	(void)unlink(w);
	free(*dir);
	*dir = NULL;
}

/* A packer writing into a fresh sbuffer. */
struct tu_buf {
	msgpack_sbuffer sb;
	msgpack_packer pk;
};

static inline void
tu_buf_init(struct tu_buf *b)
{
	msgpack_sbuffer_init(&b->sb);
	msgpack_packer_init(&b->pk, &b->sb, msgpack_sbuffer_write);
}

static inline void
tu_buf_reset(struct tu_buf *b)
{
	msgpack_sbuffer_clear(&b->sb);
}

static inline void
tu_buf_release(struct tu_buf *b)
{
	msgpack_sbuffer_destroy(&b->sb);
}

/* True when the n bytes at p hold the string s somewhere. */
static inline bool
tu_holds(const void *p, size_t n, const char *s)
{
	size_t len = strlen(s), i;

	for (i = 0; len > 0 && i + len <= n; i++)
		if (memcmp((const char *)p + i, s, len) == 0)
			return true;
	return false;
}

#endif
