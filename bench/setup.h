/*
 * setup.h: one carnet deployment for a benchmark run (setup.c).
 */
#ifndef CARNET_BENCH_SETUP_H
#define CARNET_BENCH_SETUP_H

#include <sys/wait.h>

#include "../client/client.h"
#include "../policy/key.h"
#include "bench.h"
#include "memcg.h"
#include "run.h"

struct deploy {
	/* asked for */
	const char *carnetd;
	unsigned nholders, napps, nusers;
	/* more apps after the napps: registered, no grant from the users;
	 * deploy_idle_consents gives each idle person one of them too */
	unsigned nother_apps;
	unsigned nbystanders; /* registered, no consent: for pre-filled records */
	unsigned map_mib;     /* 0: 4096 */
	const struct memcg *memcg; /* the broker runs in it, if not NULL */
	/* made */
	char dir[512];
	char endpoint[64];
	char broker_id[ID_STR_LEN + 1];
	pid_t broker;
	struct keypair *holders, *apps, *users; /* users, then bystanders */
	/* apps: the napps, then the nother_apps */
	uint8_t *tokens; /* [user][app] token ids */
};

/* Make the directory, keys, parties and grants (broker left running). */
int deploy_new(struct deploy *d);
void deploy_start_broker(struct deploy *d, const char *const *env);
void deploy_stop_broker(struct deploy *d);
/* Stop the broker and read how its turns spent their time (0s if unknown). */
void deploy_stop_turns(struct deploy *d, struct turn_stats *ts);
struct client *deploy_connect(struct deploy *d, const struct keypair *kp);
int deploy_revoke(struct client *c, const struct keypair *user,
    const uint8_t tok[TOKID_BYTES], int64_t *took_ns);
/*
 * n more people, each consenting to the napps apps and never getting a
 * record, and person k to other app k % nother_apps as well (if any):
 * tokens signed here and written straight to the store as GRANT stores
 * them (with their review timer; GRANT's own cost is measured elsewhere),
 * the people registered with `carnet party import` (its rate in
 * *import_per_s).  The broker must be stopped.
 */
int deploy_idle_consents(struct deploy *d, unsigned n, double *import_per_s);
/* Compact the stopped broker's store (LMDB's copy without free pages, put
 * in place of the file): its size before and after, MiB. */
int deploy_compact(struct deploy *d, double *before_mib, double *after_mib);
/* Disk used by the store, in KiB. */
long long deploy_store_kib(const struct deploy *d);
/* Stop the broker and remove the directory. */
void deploy_free(struct deploy *d);

#endif
