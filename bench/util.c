/*
 * util.c: clocks, the latency histogram, key=value words, child processes.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

int64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void
sleep_until_ns(int64_t t)
{
	struct timespec ts = {
		.tv_sec = t / 1000000000, .tv_nsec = t % 1000000000,
	};

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
	    EINTR)
		;
}

static unsigned
hist_index(uint64_t v)
{
	unsigned msb, idx;

	if (v < HIST_SUB)
		return (unsigned)v;
	msb = 63u - (unsigned)__builtin_clzll(v); /* >= 5 */
	/* the 5 bits under the top one choose the sub-bucket */
	idx = (msb - 4) * HIST_SUB + (unsigned)((v >> (msb - 5)) & (HIST_SUB - 1));
	return idx < HIST_BUCKETS ? idx : HIST_BUCKETS - 1;
}

/* The largest value of bucket i. */
static uint64_t
hist_top(unsigned i)
{
	unsigned msb, sub;

	if (i < HIST_SUB)
		return i;
	msb = i / HIST_SUB + 4;
	sub = i % HIST_SUB;
	return ((uint64_t)(HIST_SUB + sub + 1) << (msb - 5)) - 1;
}

void
hist_add(struct hist *h, uint64_t v)
{
	h->count[hist_index(v)]++;
	h->n++;
}

uint64_t
hist_pct(const struct hist *h, double pct)
{
	uint64_t want, seen = 0;
	unsigned i;

	if (h->n == 0)
		return 0;
	want = (uint64_t)((double)h->n * pct / 100.0 + 0.5);
	if (want == 0)
		want = 1;
	for (i = 0; i < HIST_BUCKETS; i++) {
		seen += h->count[i];
		if (seen >= want)
			return hist_top(i);
	}
	return hist_top(HIST_BUCKETS - 1);
}

void
hist_print(FILE *f, const struct hist *h)
{
	unsigned i;

	fputs("HIST", f);
	for (i = 0; i < HIST_BUCKETS; i++)
		if (h->count[i] != 0)
			fprintf(f, " %u:%llu", i, (unsigned long long)h->count[i]);
	fputc('\n', f);
}

int
hist_parse(const char *line, struct hist *h)
{
	const char *p = line + 4;
	unsigned i;
	unsigned long long n;
	int used;

	if (strncmp(line, "HIST", 4) != 0)
		return -1;
	while (sscanf(p, " %u:%llu%n", &i, &n, &used) == 2) {
		if (i >= HIST_BUCKETS)
			return -1;
		h->count[i] += n;
		h->n += n;
		p += used;
	}
	return 0;
}

const char *
kv_get(int argc, char **argv, const char *key, const char *def)
{
	size_t kl = strlen(key);
	int i;

	for (i = 0; i < argc; i++)
		if (strncmp(argv[i], key, kl) == 0 && argv[i][kl] == '=')
			return argv[i] + kl + 1;
	return def;
}

long long
kv_num(int argc, char **argv, const char *key, long long def)
{
	const char *v = kv_get(argc, argv, key, NULL);

	return v != NULL ? strtoll(v, NULL, 10) : def;
}

double
res_get(const struct result *r, const char *key)
{
	int i;

	for (i = 0; i < r->n; i++)
		if (strcmp(r->key[i], key) == 0)
			return r->val[i];
	return 0;
}

/* Set each "K=V" of env (in a child, before exec). */
static void
apply_env(const char *const *env)
{
	char kv[256], *eq;

	for (; env != NULL && *env != NULL; env++) {
		snprintf(kv, sizeof(kv), "%s", *env);
		if ((eq = strchr(kv, '=')) == NULL)
			continue;
		*eq = '\0';
		setenv(kv, eq + 1, 1);
	}
}

int
child_start(struct child *c, const char *name, const char *const *env,
    const char *const *args)
{
	int in[2], out[2];
	const char *argv[32];
	int n = 0;

	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", name);
	if (pipe(in) != 0 || pipe(out) != 0)
		return -1;
	argv[n++] = "carnet-bench";
	while (*args != NULL && n < 31)
		argv[n++] = *args++;
	argv[n] = NULL;
	if ((c->pid = fork()) < 0)
		return -1;
	if (c->pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[0]);
		close(in[1]);
		close(out[0]);
		close(out[1]);
		apply_env(env);
		execv("/proc/self/exe", (char *const *)argv);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	c->in = fdopen(in[1], "w");
	c->out = fdopen(out[0], "r");
	return c->in != NULL && c->out != NULL ? 0 : -1;
}

int
child_wait_ready(struct child *c)
{
	char line[256];

	while (fgets(line, sizeof(line), c->out) != NULL)
		if (strncmp(line, "READY", 5) == 0)
			return 0;
	fprintf(stderr, "bench: %s ended before it was ready\n", c->name);
	return -1;
}

void
child_go(struct child *c)
{
	fputs("GO\n", c->in);
	fflush(c->in);
}

int
child_result(struct child *c, struct result *r)
{
	static char line[1 << 16];
	int status, found = -1;
	struct hist *keep = r->hist;

	memset(r, 0, sizeof(*r));
	r->hist = keep;
	while (fgets(line, sizeof(line), c->out) != NULL) {
		if (strncmp(line, "HIST", 4) == 0 && r->hist != NULL) {
			hist_parse(line, r->hist);
			r->has_hist = true;
		}
		if (strncmp(line, "RESULT", 6) == 0) {
			char *save = NULL, *w;

			found = 0;
			for (w = strtok_r(line + 6, " \n", &save); w != NULL &&
			    r->n < RES_MAX; w = strtok_r(NULL, " \n", &save)) {
				char *eq = strchr(w, '=');

				if (eq == NULL)
					continue;
				*eq = '\0';
				snprintf(r->key[r->n], sizeof(r->key[0]), "%s", w);
				r->val[r->n++] = strtod(eq + 1, NULL);
			}
		}
	}
	fclose(c->in);
	fclose(c->out);
	waitpid(c->pid, &status, 0);
	c->pid = 0;
	if (found != 0)
		fprintf(stderr, "bench: %s ended without a result\n", c->name);
	return found;
}

void
child_kill(struct child *c)
{
	int status;

	if (c->pid <= 0)
		return;
	kill(c->pid, SIGKILL);
	waitpid(c->pid, &status, 0);
	if (c->in)
		fclose(c->in);
	if (c->out)
		fclose(c->out);
	c->pid = 0;
}

pid_t
spawn_prog(const char *const *argv, const char *const *env, const char *log)
{
	pid_t pid = fork();

	if (pid == 0) {
		int fd = open(log ? log : "/dev/null", O_WRONLY | O_CREAT |
		    O_APPEND, 0644);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		apply_env(env);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	return pid;
}

void
stop_prog(pid_t pid)
{
	int status;

	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
}

int
proc_rss(pid_t pid, long *anon_kib, long *file_kib)
{
	char path[64], line[256];
	FILE *f;

	*anon_kib = *file_kib = -1;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		sscanf(line, "RssAnon: %ld", anon_kib);
		sscanf(line, "RssFile: %ld", file_kib);
	}
	fclose(f);
	return *anon_kib >= 0 ? 0 : -1;
}

long long
proc_write_bytes(pid_t pid)
{
	char path[64], line[256];
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/io", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "write_bytes: %lld", &v) == 1)
			break;
	fclose(f);
	return v;
}

void
pace_init(struct pace *p, long long rate, unsigned batch)
{
	p->start = mono_ns();
	p->per_batch_ns = rate > 0 ? (int64_t)(1e9 * batch / (double)rate) : 0;
	p->k = 0;
}

int64_t
pace_next(struct pace *p)
{
	int64_t slot;

	if (p->per_batch_ns == 0)
		return mono_ns();
	/* the intended time, not the actual one: a late send counts late */
	slot = p->start + (int64_t)p->k++ * p->per_batch_ns;
	sleep_until_ns(slot);
	return slot;
}

void
tally_add(struct tally *t, int64_t stamp, uint64_t n)
{
	int64_t now = mono_ns();

	if (t->n == 0)
		t->first = now;
	t->last = now;
	t->n += n;
	if (t->lat != NULL && stamp > 0)
		while (n-- > 0)
			hist_add(t->lat, (uint64_t)(now > stamp ? now - stamp : 0));
}

void
tally_report(const struct tally *t, const char *extra)
{
	if (t->lat != NULL)
		hist_print(stdout, t->lat);
	printf("RESULT n=%llu first=%lld last=%lld %s\n",
	    (unsigned long long)t->n, (long long)t->first, (long long)t->last,
	    extra ? extra : "");
	fflush(stdout);
}

void
ready_and_wait(void)
{
	char line[16];

	printf("READY\n");
	fflush(stdout);
	if (fgets(line, sizeof(line), stdin) == NULL)
		exit(1); /* the orchestrator is gone */
}
