/*
 * bench.h: carnet-bench, the benchmark driver (make bench).
 *
 * One binary plays every part: the orchestrator (bench_main.c) starts
 * itself again as separate processes for each producer, forwarder and
 * consumer, so every system is measured with the same process layout.
 * A child prints "READY" once connected, waits for a line on stdin to
 * start, and ends with one "RESULT k=v ..." line (and a "HIST ..." line
 * of latency buckets when asked for latencies).
 *
 * Times are CLOCK_MONOTONIC nanoseconds, which all processes of the
 * machine share, so a stamp taken by a producer can be read by a consumer.
 */
#ifndef CARNET_BENCH_H
#define CARNET_BENCH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define BENCH_RECORD_BYTES 300  /* a claim, as encoded */
#define BENCH_IDLE_MS 15000     /* a consumer gives up after this silence */

int64_t mono_ns(void);
void sleep_until_ns(int64_t t);

/*
 * An HDR-style histogram: log-linear buckets, 32 per power of two, so any
 * value is known within 3 %, from 1 ns to 2^40 ns (18 minutes).
 */
#define HIST_SUB 32
#define HIST_BUCKETS (41 * HIST_SUB)
struct hist {
	uint64_t count[HIST_BUCKETS];
	uint64_t n;
};
void hist_add(struct hist *h, uint64_t v);
uint64_t hist_pct(const struct hist *h, double pct); /* upper bound */
void hist_print(FILE *f, const struct hist *h);  /* "HIST i:n ..." */
int hist_parse(const char *line, struct hist *h); /* adds a HIST line */

/* Arguments and results: "key=value" words. */
const char *kv_get(int argc, char **argv, const char *key, const char *def);
long long kv_num(int argc, char **argv, const char *key, long long def);

#define RES_MAX 24
struct result {
	int n;
	char key[RES_MAX][24];
	double val[RES_MAX];
	bool has_hist;
	struct hist *hist; /* set by the caller to collect latencies */
};
double res_get(const struct result *r, const char *key);

/* Children. */
struct child {
	pid_t pid;
	FILE *in, *out;
	char name[32];
};
/* Start this very binary with args (NULL-terminated), env given as "K=V". */
int child_start(struct child *c, const char *name, const char *const *env,
    const char *const *args);
int child_wait_ready(struct child *c);
void child_go(struct child *c);
/* Read up to the RESULT line and reap; -1 when it ended without one. */
int child_result(struct child *c, struct result *r);
void child_kill(struct child *c);

/* Starting a program that is not us (carnetd, nats-server). */
pid_t spawn_prog(const char *const *argv, const char *const *env,
    const char *log);
void stop_prog(pid_t pid);
/* RssAnon and RssFile of a process, in KiB; -1 when unknown. */
int proc_rss(pid_t pid, long *anon_kib, long *file_kib);
/* Bytes the process dirtied for storage so far (/proc/PID/io write_bytes:
 * its store's pages, as its commits write them); -1 if unknown. */
long long proc_write_bytes(pid_t pid);

/* In a child: say READY and wait for the orchestrator's go. */
void ready_and_wait(void);

/* The role entry points (each prints READY/RESULT as above). */
int raw_forwarder(int argc, char **argv);
int raw_producer(int argc, char **argv);
int raw_consumer(int argc, char **argv);
int carnet_holder(int argc, char **argv);
int carnet_app(int argc, char **argv);
int carnet_idle(int argc, char **argv);
int nats_producer(int argc, char **argv);
int nats_consumer(int argc, char **argv);

/* Pacing and stamps shared by every producer and consumer. */
struct pace {
	int64_t start, per_batch_ns; /* 0: as fast as possible */
	uint64_t k;
};
void pace_init(struct pace *p, long long rate, unsigned batch);
/* Wait for the next batch's slot; returns the stamp to put in it. */
int64_t pace_next(struct pace *p);

struct tally {
	uint64_t n, want;
	int64_t first, last;
	struct hist *lat; /* NULL: latencies not asked for */
};
void tally_add(struct tally *t, int64_t stamp, uint64_t n);
void tally_report(const struct tally *t, const char *extra);

#endif
