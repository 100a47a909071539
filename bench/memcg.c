/*
 * memcg.c: a memory cgroup for the broker under benchmark (see memcg.h).
 */
#define _DEFAULT_SOURCE /* sync */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "memcg.h"

static int
write_file(const char *dir, const char *name, const char *text)
{
	char path[320];
	FILE *f;
	int rc;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "w")) == NULL)
		return -1;
	rc = fputs(text, f) < 0 ? -1 : 0;
	if (fclose(f) != 0)
		rc = -1;
	return rc;
}

static long
read_num(const char *dir, const char *name)
{
	char path[320];
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	if (fscanf(f, "%lld", &v) != 1)
		v = -1;
	fclose(f);
	return (long)v;
}

int
memcg_new(struct memcg *m, unsigned mib)
{
	static const struct {
		const char *root, *limit;
		bool v2;
	} kinds[] = {
		{"/sys/fs/cgroup", "memory.max", true},
		{"/sys/fs/cgroup/memory", "memory.limit_in_bytes", false},
	};
	char bytes[32];
	struct stat st;
	size_t i;

	memset(m, 0, sizeof(*m));
	snprintf(bytes, sizeof(bytes), "%llu",
	    (unsigned long long)mib << 20);
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		char probe[300];

		snprintf(probe, sizeof(probe), "%s/%s", kinds[i].root,
		    kinds[i].v2 ? "cgroup.controllers" : "memory.usage_in_bytes");
		if (stat(probe, &st) != 0)
			continue;
		snprintf(m->path, sizeof(m->path), "%s/carnet-bench-%d",
		    kinds[i].root, (int)getpid());
		m->v2 = kinds[i].v2;
		if (mkdir(m->path, 0755) != 0) {
			m->path[0] = '\0';
			continue;
		}
		if (write_file(m->path, kinds[i].limit, bytes) == 0)
			return 0;
		rmdir(m->path);
		m->path[0] = '\0';
	}
	return -1;
}

int
memcg_add(const struct memcg *m, pid_t pid)
{
	char text[32];

	if (m->path[0] == '\0')
		return -1;
	snprintf(text, sizeof(text), "%d", (int)pid);
	return write_file(m->path, "cgroup.procs", text);
}

long
memcg_peak_kib(const struct memcg *m)
{
	long v;

	if (m->path[0] == '\0')
		return -1;
	v = read_num(m->path, m->v2 ? "memory.peak" :
	    "memory.max_usage_in_bytes");
	return v < 0 ? -1 : v / 1024;
}

void
memcg_free(struct memcg *m)
{
	if (m->path[0] != '\0' && rmdir(m->path) != 0)
		fprintf(stderr, "bench: could not remove %s\n", m->path);
	m->path[0] = '\0';
}

void
memcg_drop_caches(void)
{
	sync();
	if (write_file("/proc/sys/vm", "drop_caches", "1") != 0)
		fprintf(stderr, "bench: could not drop the page cache (not "
		    "root?): the broker's pages may be charged elsewhere\n");
}
