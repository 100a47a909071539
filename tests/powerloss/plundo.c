/*
 * pl-undo LOG...: after a process that ran under plshim.so was killed,
 * put every file it wrote back as it was at that file's last sync: the
 * state a power loss at that moment would have left (see plshim.c).
 *
 * Each log is read whole; per file, the writes recorded after its last
 * sync are undone newest first, then the file is cut back to the size it
 * had at that sync.  The logs are applied in the order given (one per
 * process run, oldest first); each is emptied once applied, so that the
 * next run's log starts clean.  Prints what it did.  Exit 0, or 1 with a
 * message on a broken log or a file it could not restore.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plshim.h"

struct rec {
	struct plrec h;
	char *path;
	const unsigned char *old;
};

struct counts {
	unsigned long records, syncs, files, writes, bytes;
};

static unsigned char *
slurp(const char *name, size_t *len)
{
	struct stat st;
	unsigned char *buf;
	size_t got = 0;
	ssize_t n;
	int fd;

	if ((fd = open(name, O_RDONLY)) < 0) {
		if (errno == ENOENT) {
			*len = 0;
			return calloc(1, 1);
		}
		return NULL;
	}
	if (fstat(fd, &st) != 0 || (buf = malloc((size_t)st.st_size + 1))
	    == NULL) {
		close(fd);
		return NULL;
	}
	while (got < (size_t)st.st_size &&
	    (n = read(fd, buf + got, (size_t)st.st_size - got)) > 0)
		got += (size_t)n;
	close(fd);
	*len = got;
	return buf;
}

static int
parse(unsigned char *buf, size_t len, struct rec **out, size_t *nout)
{
	struct rec *r = NULL, *nr;
	size_t n = 0, cap = 0, at = 0;
	struct plrec h;

	while (at < len) {
		/* a record cut by the kill is the last one: it never got
		 * its write, so there is nothing to undo for it */
		if (len - at < sizeof(h))
			break;
		memcpy(&h, buf + at, sizeof(h));
		if (h.magic != PL_MAGIC || (h.kind != PL_WRITE &&
		    h.kind != PL_SYNC)) {
			free(r);
			return -1;
		}
		if (len - at - sizeof(h) < (uint64_t)h.pathlen + h.len)
			break;
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			if ((nr = realloc(r, cap * sizeof(*r))) == NULL) {
				free(r);
				return -1;
			}
			r = nr;
		}
		r[n].h = h;
		r[n].path = strndup((char *)buf + at + sizeof(h), h.pathlen);
		r[n].old = buf + at + sizeof(h) + h.pathlen;
		n++;
		at += sizeof(h) + h.pathlen + h.len;
	}
	*out = r;
	*nout = n;
	return 0;
}

static int
put_back(const char *path, struct rec *r, size_t n, struct counts *c)
{
	size_t i, last = 0, first = n;
	bool any = false;
	int fd;

	for (i = 0; i < n; i++) {
		if (strcmp(r[i].path, path) != 0)
			continue;
		if (r[i].h.kind == PL_SYNC) {
			last = i + 1;
			first = n;
		} else if (first == n) {
			first = i;
		}
	}
	if (first == n || first < last)
		return 0;
	if ((fd = open(path, O_WRONLY)) < 0)
		return errno == ENOENT ? 0 : -1;
	for (i = n; i-- > first;) {
		if (strcmp(r[i].path, path) != 0 || r[i].h.kind != PL_WRITE)
			continue;
		if (r[i].h.len > 0 && pwrite(fd, r[i].old, r[i].h.len,
		    (off_t)r[i].h.off) != (ssize_t)r[i].h.len) {
			close(fd);
			return -1;
		}
		c->writes++;
		c->bytes += r[i].h.len;
		any = true;
	}
	if (ftruncate(fd, (off_t)r[first].h.size) != 0 || fsync(fd) != 0) {
		close(fd);
		return -1;
	}
	close(fd);
	c->files += any;
	return 0;
}

static int
undo_log(const char *name, struct counts *c)
{
	unsigned char *buf;
	struct rec *r = NULL;
	size_t len, n = 0, i, j;
	int rc = 0, fd;

	if ((buf = slurp(name, &len)) == NULL) {
		fprintf(stderr, "pl-undo: %s: %s\n", name, strerror(errno));
		return -1;
	}
	if (parse(buf, len, &r, &n) != 0) {
		fprintf(stderr, "pl-undo: %s: not an undo log\n", name);
		free(buf);
		return -1;
	}
	c->records += n;
	for (i = 0; i < n; i++)
		c->syncs += r[i].h.kind == PL_SYNC;
	for (i = 0; i < n && rc == 0; i++) {
		for (j = 0; j < i; j++)
			if (strcmp(r[j].path, r[i].path) == 0)
				break;
		if (j < i)
			continue; /* that file is done */
		if ((rc = put_back(r[i].path, r, n, c)) != 0)
			fprintf(stderr, "pl-undo: %s: %s\n", r[i].path,
			    strerror(errno));
	}
	for (i = 0; i < n; i++)
		free(r[i].path);
	free(r);
	free(buf);
	if (rc == 0 && (fd = open(name, O_WRONLY | O_TRUNC)) >= 0)
		close(fd);
	return rc;
}

int
main(int argc, char **argv)
{
	struct counts c = {0};
	int i;

	if (argc < 2) {
		fprintf(stderr, "usage: pl-undo LOG...\n");
		return 2;
	}
	for (i = 1; i < argc; i++)
		if (undo_log(argv[i], &c) != 0)
			return 1;
	printf("pl-undo: %lu unsynced writes (%lu bytes) undone in %lu "
	    "files; %lu records read, %lu syncs\n", c.writes, c.bytes,
	    c.files, c.records, c.syncs);
	return 0;
}
