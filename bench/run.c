/*
 * run.c: one measured run of any system in the shared layout: P producer
 * processes, C consumer processes, every consumer receiving every record.
 *
 * Every child connects and says READY; then all are told to go at once.
 * Deliveries per second are the records all consumers received over the
 * time from the first producer's start to the last consumer's last record.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "run.h"

#define MAX_CHILDREN 40

static void
word(char w[][RUN_WORD], int *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
word(char w[][RUN_WORD], int *n, const char *fmt, ...)
{
	va_list ap;

	if (*n >= RUN_WORDS - 1)
		return;
	va_start(ap, fmt);
	vsnprintf(w[*n], RUN_WORD, fmt, ap);
	va_end(ap);
	(*n)++;
}

static int
start(struct child *c, const struct layout *l, bool prod, unsigned i)
{
	char w[RUN_WORDS][RUN_WORD], name[32];
	const char *argv[RUN_WORDS + 1];
	int n = 0, k;

	l->args(l, prod, i, w, &n);
	if (prod) {
		word(w, &n, "n=%llu", (unsigned long long)l->n_per_prod);
		word(w, &n, "batch=%u", l->batch);
		word(w, &n, "rate=%lld", l->rate_per_prod);
		word(w, &n, "id=%u", i);
	} else {
		word(w, &n, "n=%llu", (unsigned long long)l->want_per_cons);
		word(w, &n, "lat=%d", l->lat ? 1 : 0);
		word(w, &n, "idle=%d", l->idle_ms ? l->idle_ms : BENCH_IDLE_MS);
	}
	for (k = 0; k < n; k++)
		argv[k] = w[k];
	argv[n] = NULL;
	snprintf(name, sizeof(name), "%s %s%u", l->name, prod ? "producer" :
	    "consumer", i);
	return child_start(c, name, l->env, argv);
}

bool
children_running(struct child *c, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		siginfo_t si;

		memset(&si, 0, sizeof(si));
		if (c[i].pid > 0 && waitid(P_PID, (id_t)c[i].pid, &si,
		    WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == 0)
			return true;
	}
	return false;
}

int
run_layout(const struct layout *l, struct outcome *o)
{
	struct child kids[MAX_CHILDREN];
	unsigned np = l->nprod, nc = l->ncons, i;
	int64_t first = INT64_MAX, plast = 0, clast = 0, go;
	struct result r;
	int rc = 0;

	memset(o, 0, sizeof(*o));
	if (np + nc > MAX_CHILDREN)
		return -1;
	memset(kids, 0, sizeof(kids));
	/* consumers first: they must be subscribed before anything is sent */
	for (i = 0; i < nc; i++)
		if (start(&kids[np + i], l, false, i) != 0 ||
		    child_wait_ready(&kids[np + i]) != 0)
			goto fail;
	for (i = 0; i < np; i++)
		if (start(&kids[i], l, true, i) != 0 ||
		    child_wait_ready(&kids[i]) != 0)
			goto fail;
	go = mono_ns();
	for (i = 0; i < np + nc; i++)
		child_go(&kids[i]);
	if (l->during != NULL)
		l->during(l, kids, np, go);
	for (i = 0; i < np + nc; i++) {
		r.hist = i >= np && l->lat ? &o->lat : NULL;
		if (child_result(&kids[i], &r) != 0) {
			rc = -1;
			continue;
		}
		if (i < np) {
			o->produced += (uint64_t)res_get(&r, "n");
			if (res_get(&r, "first") < (double)first)
				first = (int64_t)res_get(&r, "first");
			if (res_get(&r, "last") > (double)plast)
				plast = (int64_t)res_get(&r, "last");
		} else {
			o->delivered += (uint64_t)res_get(&r, "n");
			if (res_get(&r, "last") > (double)clast)
				clast = (int64_t)res_get(&r, "last");
			o->late += (uint64_t)res_get(&r, "late");
			o->revoked_seen += (uint64_t)res_get(&r, "revoked");
			o->dropped += (uint64_t)res_get(&r, "dropped");
		}
	}
	o->expected = l->want_per_cons * nc;
	if (first < INT64_MAX && clast > first) {
		o->elapsed_s = (double)(clast - first) / 1e9;
		o->deliver_rate = (double)o->delivered / o->elapsed_s;
	}
	if (first < INT64_MAX && plast > first)
		o->ingest_rate = (double)o->produced / ((double)(plast - first) /
		    1e9);
	o->complete = rc == 0 && o->delivered >= o->expected;
	return rc;
fail:
	for (i = 0; i < np + nc; i++)
		child_kill(&kids[i]);
	return -1;
}
