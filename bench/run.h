/*
 * run.h: one measured run in the shared process layout (run.c).
 */
#ifndef CARNET_BENCH_RUN_H
#define CARNET_BENCH_RUN_H

#include <stdarg.h>

#include "bench.h"

#define RUN_WORDS 16
#define RUN_WORD 600

struct layout {
	const char *name;
	unsigned nprod, ncons;
	uint64_t n_per_prod;    /* records each producer sends */
	uint64_t want_per_cons; /* records each consumer waits for */
	long long rate_per_prod; /* records/s, 0: as fast as it goes */
	unsigned batch;
	bool lat;
	int idle_ms;            /* a consumer stops after this silence */
	const char *const *env; /* for the children */
	/* the role and its connection words for producer or consumer i */
	void (*args)(const struct layout *l, bool prod, unsigned i,
	    char w[][RUN_WORD], int *n);
	/* called once everyone was told to go (revocations, RSS samples) */
	void (*during)(const struct layout *l, struct child *producers,
	    unsigned nprod, int64_t go);
	void *ctx;
};

/* How carnetd's loop turns spent their time (carnet runs only). */
struct turn_stats {
	double turns, work_us, commit_us, max_commit_us, stored, sent;
};

struct outcome {
	double deliver_rate, ingest_rate, elapsed_s;
	uint64_t produced, delivered, expected;
	uint64_t late, revoked_seen, dropped;
	bool complete;
	struct hist lat;
	struct turn_stats turns;
	/* carnet runs: what the broker wrote to disk from the go to the end,
	 * from /proc/PID/io write_bytes (disk_from_io) or, where that reads
	 * 0 or is missing, the growth of its store file; NAN if neither */
	double disk_bytes;
	bool disk_from_io;
};

int run_layout(const struct layout *l, struct outcome *o);
/* True while any of the n children has not exited (not reaped). */
bool children_running(struct child *c, unsigned n);

#endif
