/*
 * memcg.h: a memory cgroup to run the broker in, as an operator bounds a
 * service (systemd's MemoryMax=): its limit counts the process's heap and
 * the store's file pages it brought into memory, which the kernel then
 * reclaims at the limit instead of letting them grow with the file.
 * cgroup v2 (memory.max) or v1 (memory.limit_in_bytes); needs root.
 */
#ifndef CARNET_BENCH_MEMCG_H
#define CARNET_BENCH_MEMCG_H

#include <stdbool.h>
#include <sys/types.h>

struct memcg {
	char path[256];  /* empty: none */
	bool v2;
};

/* A new cgroup limited to mib MiB; -1 (and m->path empty) if the machine
 * offers none we may use. */
int memcg_new(struct memcg *m, unsigned mib);
int memcg_add(const struct memcg *m, pid_t pid);
/* The most the cgroup held (heap and page cache), KiB; -1 if unknown. */
long memcg_peak_kib(const struct memcg *m);
/* Remove it (its processes must have ended). */
void memcg_free(struct memcg *m);
/* Write back, then drop the kernel's clean page cache, so that the pages
 * the broker reads next are charged to its cgroup (a page is charged to
 * whoever first brought it in). */
void memcg_drop_caches(void);

#endif
