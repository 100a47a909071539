/*
 * scenarios.c: the sections of make bench, in the order they depend on
 * each other: throughput first (its maxima set the latency load and the
 * baselines of the other sections), then latency, revocation, memory and
 * scale.  Every carnet run starts from a fresh deployment (setup.c).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <nats/nats.h>
#include <sodium.h>

#include "../common/mpk.h"
#include "../policy/key.h"
#include "../policy/uselog.h"
#include "../store/store.h"
#include "report.h"
#include "run.h"
#include "scenarios.h"
#include "setup.h"

#define PRODUCERS 2 /* holders */
#define CONSUMERS 2 /* apps */
#define USERS 100
#define LAT_BATCH 500 /* records per batch, as in every other run */

static const struct bench_opts *O;

static struct {
	uint64_t thru_per_prod;
	double lat_seconds;
	uint64_t race_total, mem_total, scale_total, prefill;
	unsigned revocations, repeat;
} Z;

/* Figures later sections compare with. */
static struct {
	double raw, carnet, carnet_ingest;
} base = {NAN, NAN, NAN};

static bool
wanted(const char *section)
{
	const char *p;
	size_t n = strlen(section);

	if (O->only == NULL)
		return true;
	for (p = O->only; (p = strstr(p, section)) != NULL; p += n)
		if ((p == O->only || p[-1] == ',') && (p[n] == '\0' ||
		    p[n] == ','))
			return true;
	return false;
}

static double
ratio(double a, double b)
{
	return isnan(a) || isnan(b) || b == 0 ? NAN : a / b;
}

static unsigned
random_port(void)
{
	return 20000 + randombytes_uniform(30000);
}

static void
sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

/* ---- raw ZeroMQ --------------------------------------------------- */

static char raw_ep[64];

static void
raw_args(const struct layout *l, bool prod, unsigned i, char w[][RUN_WORD],
    int *n)
{
	(void)l;
	(void)i;
	snprintf(w[(*n)++], RUN_WORD, prod ? "raw-prod" : "raw-cons");
	snprintf(w[(*n)++], RUN_WORD, "ep=%s", raw_ep);
}

static int
raw_run(struct layout *l, struct outcome *o)
{
	struct child fwd;
	struct result r = {0};
	const char *argv[] = {"raw-fwd", raw_ep, NULL};
	char epw[80];
	int tries, rc;

	for (tries = 0; tries < 10; tries++) {
		snprintf(raw_ep, sizeof(raw_ep), "tcp://127.0.0.1:%u",
		    random_port());
		snprintf(epw, sizeof(epw), "ep=%s", raw_ep);
		argv[1] = epw;
		if (child_start(&fwd, "raw forwarder", NULL, argv) == 0 &&
		    child_wait_ready(&fwd) == 0)
			break;
		child_kill(&fwd);
	}
	if (tries == 10)
		return -1;
	l->name = "raw";
	l->args = raw_args;
	rc = run_layout(l, o);
	child_go(&fwd); /* any line stops it */
	child_result(&fwd, &r);
	return rc;
}

/* ---- carnet ------------------------------------------------------- */

static struct deploy *cur_deploy;
static bool cur_stall;

static void
carnet_args(const struct layout *l, bool prod, unsigned i, char w[][RUN_WORD],
    int *n)
{
	struct deploy *d = cur_deploy;

	(void)l;
	snprintf(w[(*n)++], RUN_WORD, prod ? "c-holder" : "c-app");
	snprintf(w[(*n)++], RUN_WORD, "ep=%s", d->endpoint);
	snprintf(w[(*n)++], RUN_WORD, "broker=%s", d->broker_id);
	snprintf(w[(*n)++], RUN_WORD, "key=%s/%s%u.key", d->dir, prod ?
	    "holder" : "app", i);
	if (prod)
		snprintf(w[(*n)++], RUN_WORD, "users=%s/users.bin", d->dir);
	else if (cur_stall)
		snprintf(w[(*n)++], RUN_WORD, "stall=1");
}

static const char *env_full[] = {NULL};
static const char *env_plain[] = {"CARNET_BENCH_PLAIN=1", NULL};
static const char *env_plain_nosync[] = {"CARNET_BENCH_PLAIN=1",
	"CARNET_BENCH_NOSYNC=1", NULL};
static const char *env_plain_nosync_nolog[] = {"CARNET_BENCH_PLAIN=1",
	"CARNET_BENCH_NOSYNC=1", "CARNET_BENCH_NOLOG=1", NULL};

/* A fresh deployment, its broker restarted with env. */
static void
carnet_deploy(struct deploy *d, unsigned users, unsigned apps,
    unsigned other_apps, unsigned bystanders, unsigned map_mib)
{
	memset(d, 0, sizeof(*d));
	d->carnetd = O->carnetd;
	d->nholders = PRODUCERS;
	d->napps = apps;
	d->nother_apps = other_apps;
	d->nusers = users;
	d->nbystanders = bystanders;
	d->map_mib = map_mib;
	deploy_new(d);
}

/* The broker's disk writes when the producers were told to go. */
static struct {
	long long io, store_kib;
	void (*during)(const struct layout *, struct child *, unsigned,
	    int64_t);
} disk0;

static void
disk_mark(const struct layout *l, struct child *kids, unsigned np,
    int64_t go)
{
	disk0.io = proc_write_bytes(cur_deploy->broker);
	disk0.store_kib = deploy_store_kib(cur_deploy);
	if (disk0.during != NULL)
		disk0.during(l, kids, np, go);
}

static int
carnet_run(struct deploy *d, const char *const *env, struct layout *l,
    struct outcome *o)
{
	long long io, kib;
	int rc;

	deploy_stop_broker(d);
	deploy_start_broker(d, env);
	cur_deploy = d;
	l->name = "carnet";
	l->args = carnet_args;
	l->env = env;
	disk0.io = disk0.store_kib = -1;
	disk0.during = l->during;
	l->during = disk_mark;
	rc = run_layout(l, o);
	l->during = disk0.during;
	io = proc_write_bytes(d->broker);
	kib = deploy_store_kib(d);
	o->disk_from_io = disk0.io >= 0 && io > disk0.io;
	if (o->disk_from_io)
		o->disk_bytes = (double)(io - disk0.io);
	else if (disk0.store_kib >= 0 && kib >= disk0.store_kib)
		o->disk_bytes = 1024.0 * (double)(kib - disk0.store_kib);
	else
		o->disk_bytes = NAN;
	deploy_stop_turns(d, &o->turns);
	return rc;
}

/* Fill the store with records of people who consented to nothing. */
static void
carnet_prefill(struct deploy *d, uint64_t n)
{
	char users[600], key[600], ep[96], bid[96], num[32];
	const char *argv[] = {"c-holder", ep, bid, key, users, num, "batch=1000",
		NULL};
	struct child c;
	struct result r = {0};

	snprintf(users, sizeof(users), "users=%s/bystanders.bin", d->dir);
	snprintf(key, sizeof(key), "key=%s/holder0.key", d->dir);
	snprintf(ep, sizeof(ep), "ep=%s", d->endpoint);
	snprintf(bid, sizeof(bid), "broker=%s", d->broker_id);
	snprintf(num, sizeof(num), "n=%llu", (unsigned long long)n);
	printf("  (pre-filling %llu records...)\n", (unsigned long long)n);
	fflush(stdout);
	if (child_start(&c, "prefill", NULL, argv) != 0 ||
	    child_wait_ready(&c) != 0) {
		child_kill(&c);
		return;
	}
	child_go(&c);
	child_result(&c, &r);
}

static void
layout_max(struct layout *l, unsigned ncons, uint64_t per_prod)
{
	memset(l, 0, sizeof(*l));
	l->nprod = PRODUCERS;
	l->ncons = ncons;
	l->n_per_prod = per_prod;
	l->want_per_cons = per_prod * PRODUCERS;
	l->batch = 500;
}

/* ---- NATS ----------------------------------------------------------- */

static char nats_url[64], nats_mode[16];
static pid_t nats_pid;
static char nats_dir[64];

static void
nats_args(const struct layout *l, bool prod, unsigned i, char w[][RUN_WORD],
    int *n)
{
	(void)l;
	(void)i;
	snprintf(w[(*n)++], RUN_WORD, prod ? "nats-pub" : "nats-sub");
	snprintf(w[(*n)++], RUN_WORD, "url=%s", nats_url);
	snprintf(w[(*n)++], RUN_WORD, "mode=%s", nats_mode);
}

static bool
have_nats_server(void)
{
	return system("command -v nats-server >/dev/null 2>&1") == 0;
}

/* The nats-server every NATS run starts (the first on PATH; make bench
 * puts build/nats-server's first), as its --version says. */
static const char *
nats_version(void)
{
	static char v[128];

	if (v[0] == '\0')
		report_command_line("nats-server --version 2>/dev/null", v,
		    sizeof(v));
	return v;
}

static void
nats_down(natsConnection *nc)
{
	char cmd[128];

	natsConnection_Destroy(nc);
	stop_prog(nats_pid);
	nats_pid = 0;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", nats_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "bench: could not remove %s\n", nats_dir);
}

/*
 * sync: JetStream fsyncs each write before it acknowledges it
 * (sync_interval: always, nats-server 2.10 and later), as carnet's commit
 * does; otherwise the server's default (a sync every 2 minutes, the page
 * cache meanwhile).
 */
static natsConnection *
nats_up(bool sync)
{
	char port[16], conf[sizeof(nats_dir) + 16];
	const char *argv[] = {"nats-server", "-a", "127.0.0.1", "-p", port,
		"-js", "-sd", nats_dir, NULL, NULL, NULL};
	natsConnection *nc = NULL;
	FILE *f;
	int tries, i;

	snprintf(nats_dir, sizeof(nats_dir), "/tmp/carnet-bench-nats-XXXXXX");
	if (mkdtemp(nats_dir) == NULL)
		return NULL;
	if (sync) {
		snprintf(conf, sizeof(conf), "%s/js.conf", nats_dir);
		if ((f = fopen(conf, "w")) == NULL) {
			nats_down(NULL);
			return NULL;
		}
		fprintf(f, "jetstream {\n  store_dir: \"%s\"\n"
		    "  sync_interval: always\n}\n", nats_dir);
		if (fclose(f) != 0) {
			nats_down(NULL);
			return NULL;
		}
		argv[5] = "-c";
		argv[6] = conf;
		argv[7] = NULL;
	}
	/* a port taken by someone else makes the server exit: another one */
	for (tries = 0; tries < 5; tries++) {
		snprintf(port, sizeof(port), "%u", random_port());
		snprintf(nats_url, sizeof(nats_url), "nats://127.0.0.1:%s",
		    port);
		nats_pid = spawn_prog(argv, NULL, NULL);
		for (i = 0; i < 50; i++) {
			sleep_ms(100);
			if (natsConnection_ConnectTo(&nc, nats_url) == NATS_OK)
				return nc;
			if (waitpid(nats_pid, NULL, WNOHANG) == nats_pid) {
				nats_pid = 0; /* it exited */
				break;
			}
		}
		stop_prog(nats_pid);
		nats_pid = 0;
	}
	fprintf(stderr, "bench: nats-server did not start (5 ports tried)\n");
	nats_down(NULL);
	return NULL;
}

static int
nats_run(const char *mode, struct layout *l, struct outcome *o)
{
	natsConnection *nc;
	jsCtx *js = NULL;
	jsStreamConfig cfg;
	jsStreamInfo *si = NULL;
	jsErrCode jerr = 0;
	const char *subjects[] = {"bench.claims"};
	int rc = -1;
	bool jetstream = strcmp(mode, "core") != 0;

	memset(o, 0, sizeof(*o));
	if (!have_nats_server() ||
	    (nc = nats_up(strcmp(mode, "js-sync") == 0)) == NULL)
		return -1;
	/* the publishers and subscribers only tell core from JetStream */
	snprintf(nats_mode, sizeof(nats_mode), "%s", jetstream ? "js" : "core");
	if (jetstream) {
		jsStreamConfig_Init(&cfg);
		cfg.Name = "BENCH";
		cfg.Subjects = subjects;
		cfg.SubjectsLen = 1;
		cfg.Storage = js_FileStorage;
		if (natsConnection_JetStream(&js, nc, NULL) != NATS_OK ||
		    js_AddStream(&si, js, &cfg, NULL, &jerr) != NATS_OK) {
			fprintf(stderr, "bench: JetStream stream: error %d\n",
			    (int)jerr);
			goto out;
		}
		jsStreamInfo_Destroy(si);
	}
	l->name = jetstream ? "jetstream" : "nats";
	l->args = nats_args;
	rc = run_layout(l, o);
out:
	jsCtx_Destroy(js);
	nats_down(nc);
	return rc;
}

/* ---- throughput ----------------------------------------------------- */

static double
rate_or_nan(int rc, const struct outcome *o)
{
	if (rc != 0 || !o->complete) {
		fprintf(stderr, "bench: incomplete run: %llu of %llu "
		    "deliveries\n", (unsigned long long)o->delivered,
		    (unsigned long long)o->expected);
		return NAN;
	}
	return o->deliver_rate;
}

/*
 * What each system sustains end to end, in records/s entering it: the
 * lower of its ingest and of what each consumer received (raw, carnet,
 * nats, js, js with sync_interval always).  Half of it is the latency section's load.
 */
static struct {
	double ingest;
} peak[5];

static double
sustained(const struct outcome *o, unsigned ncons)
{
	double per_cons = o->deliver_rate / ncons;

	return o->ingest_rate < per_cons ? o->ingest_rate : per_cons;
}

/*
 * How carnetd's loop turns spent their time in run o: handling what the
 * turn read (storing, checking, delivering, logging) and then waiting for
 * the turn's commit (its fsync).
 */
static void
turn_figs(const char *key, const char *run, const struct outcome *o)
{
	const struct turn_stats *t = &o->turns;
	double n = t->turns > 0 ? t->turns : NAN;
	char k[64];

	snprintf(k, sizeof(k), "%s_turn_work_us", key);
	report_fig(k, "broker turn: work", t->work_us / n, "us", "%s; %.0f "
	    "turns, each storing %.0f records and sending %.0f", run,
	    t->turns, t->stored / n, t->sent / n);
	snprintf(k, sizeof(k), "%s_turn_commit_us", key);
	report_fig(k, "broker turn: commit", t->commit_us / n, "us", "waiting "
	    "for its fsync; longest %.0f us", t->max_commit_us);
	snprintf(k, sizeof(k), "%s_commit_share", key);
	report_fig(k, "broker turn: share in the commit", t->turns > 0 ?
	    t->commit_us / (t->work_us + t->commit_us) : NAN, "",
	    "commit / (work + commit)");
}

/* One throughput run of row `row` (0: raw, 1..4: carnet variants). */
static int
throughput_once(unsigned row, const char *const *env, struct outcome *o)
{
	struct layout l;
	struct deploy d;
	int rc;

	layout_max(&l, CONSUMERS, Z.thru_per_prod);
	if (row == 0)
		return raw_run(&l, o);
	carnet_deploy(&d, USERS, CONSUMERS, 0, 0, 0);
	rc = carnet_run(&d, env, &l, o);
	deploy_free(&d);
	return rc;
}

/* The run with the median delivery rate of Z.repeat (incomplete: 0). */
static double
throughput_median(unsigned row, const char *const *env, struct outcome *o)
{
	struct outcome runs[5];
	double rate[5];
	unsigned i, j, n = Z.repeat;

	for (i = 0; i < n; i++) {
		int rc = throughput_once(row, env, &runs[i]);

		rate[i] = rc == 0 && runs[i].complete ? runs[i].deliver_rate : 0;
	}
	/* sort the few runs by rate */
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && rate[j] < rate[j - 1]; j--) {
			double t = rate[j];
			struct outcome to = runs[j];

			rate[j] = rate[j - 1];
			rate[j - 1] = t;
			runs[j] = runs[j - 1];
			runs[j - 1] = to;
		}
	*o = runs[n / 2];
	return rate[n / 2] > 0 ? rate[n / 2] : NAN;
}

static void
section_throughput(void)
{
	static const struct {
		const char *key, *label;
		const char *const *env;
	} variants[] = {
		{"carnet", "carnet, everything on", env_full},
		{"carnet_nocurve", "carnet, CURVE off", env_plain},
		{"carnet_nocurve_nosync", "carnet, CURVE and fsync off",
			env_plain_nosync},
		{"carnet_nocurve_nosync_nolog", "carnet, CURVE, fsync and use "
			"log off", env_plain_nosync_nolog},
	};
	struct layout l;
	struct outcome o;
	struct outcome full;
	double rate[4], js_pub = NAN, js_rate, js_sync_rate, nats_rate, bpr;
	size_t i;
	int rc;

	report_section("throughput", "Throughput", "Deliveries per second "
	    "(records received by all apps over the run), 2 producers and 2 "
	    "consumers in separate processes over tcp loopback, 300-byte "
	    "records in batches of 500, each consumer receiving every record. "
	    "carnet: 100 people, each consenting to both apps; CURVE, fsync'd "
	    "commits, consent check, minimisation (one field withheld) and a "
	    "use-log entry per delivery. The rows below it turn one guarantee "
	    "off at a time, in a benchmark build only. Full runs: the median of "
	    "3 runs per row (one run each with QUICK=1); each carnet run on a "
	    "fresh store. The broker-turn rows: how carnetd's loop spent "
	    "the everything-on run, timed by the benchmark build: each turn "
	    "handles what it read (store, check, deliver, log) in one "
	    "transaction, then waits for that transaction's fsync'd commit "
	    "before it sends the ACKs and records. Store writes per record: "
	    "what carnetd wrote to disk during the everything-on run (from the go "
	    "to the last delivery: /proc/PID/io write_bytes, or the store "
	    "file's growth where the container reports 0), over the records "
	    "it stored. The JetStream rows name the nats-server that ran "
	    "them.");
	base.raw = throughput_median(0, NULL, &o);
	peak[0].ingest = sustained(&o, CONSUMERS);
	report_fig("raw_zmq", "raw ZeroMQ 3-hop (baseline)", base.raw,
	    "deliv/s", "1.00 x raw");
	for (i = 0; i < 4; i++) {
		rate[i] = throughput_median((unsigned)i + 1, variants[i].env, &o);
		if (i == 0) {
			base.carnet = rate[0];
			base.carnet_ingest = o.ingest_rate;
			peak[1].ingest = sustained(&o, CONSUMERS);
			full = o;
		}
		report_fig(variants[i].key, variants[i].label, rate[i],
		    "deliv/s", "%.2f x raw; ingest %.0f rec/s", ratio(rate[i],
		    base.raw), o.ingest_rate);
	}
	report_fig("cost_curve", "share of time spent on CURVE",
	    1 - ratio(rate[0], rate[1]), "", "1 - (all on / CURVE off)");
	report_fig("cost_fsync", "share of the rest spent on fsync",
	    1 - ratio(rate[1], rate[2]), "", "1 - (CURVE off / + fsync off)");
	report_fig("cost_log", "share of the rest spent on the use log",
	    1 - ratio(rate[2], rate[3]), "", "1 - (+ fsync off / + log off)");
	turn_figs("carnet", "carnet, everything on", &full);
	bpr = full.produced > 0 ? full.disk_bytes / (double)full.produced :
	    NAN;
	report_fig("carnet_store_bpr", "carnet, store bytes written per "
	    "record", bpr, "bytes", "%.2f x the %d-byte record on the wire; "
	    "%.0f bytes over %llu records, %s", ratio(bpr,
	    BENCH_RECORD_BYTES), BENCH_RECORD_BYTES, full.disk_bytes,
	    (unsigned long long)full.produced, full.disk_from_io ?
	    "from /proc/PID/io write_bytes" : "from the store file's growth "
	    "(/proc/PID/io write_bytes read 0 or is missing here)");
	layout_max(&l, CONSUMERS, Z.thru_per_prod);
	rc = nats_run("core", &l, &o);
	nats_rate = rc == 0 ? rate_or_nan(rc, &o) : NAN;
	report_fig("nats_core", "NATS core pub/sub", nats_rate, "deliv/s",
	    "%.2f x raw; carnet %.2f x this; %llu dropped; %s",
	    ratio(nats_rate, base.raw), ratio(base.carnet, nats_rate),
	    (unsigned long long)o.dropped, nats_version());
	peak[2].ingest = sustained(&o, CONSUMERS);
	layout_max(&l, CONSUMERS, Z.thru_per_prod);
	rc = nats_run("js", &l, &o);
	js_rate = rc == 0 ? rate_or_nan(rc, &o) : NAN;
	report_fig("nats_jetstream", "NATS JetStream, file storage",
	    js_rate, "deliv/s", "%.2f x raw; carnet %.2f x this; %s",
	    ratio(js_rate, base.raw), ratio(base.carnet, js_rate),
	    nats_version());
	js_pub = rc == 0 ? o.ingest_rate : NAN;
	peak[3].ingest = sustained(&o, CONSUMERS);
	report_fig("nats_jetstream_acked_pub", "JetStream acked publishes",
	    js_pub, "rec/s", "carnet's durable ingest: %.2f x this; %s",
	    ratio(base.carnet_ingest, js_pub), nats_version());
	layout_max(&l, CONSUMERS, Z.thru_per_prod);
	rc = nats_run("js-sync", &l, &o);
	js_sync_rate = rc == 0 ? rate_or_nan(rc, &o) : NAN;
	report_fig("nats_jetstream_sync", "NATS JetStream, file storage, "
	    "sync_interval always", js_sync_rate, "deliv/s",
	    "%.2f x raw; carnet %.2f x this; %s", ratio(js_sync_rate,
	    base.raw), ratio(base.carnet, js_sync_rate), nats_version());
	peak[4].ingest = sustained(&o, CONSUMERS);
	report_goal("ratio_vs_raw_zmq >= 0.5 with durability, checks and "
	    "audit on", ratio(base.carnet, base.raw) >= 0.5, "%.3f",
	    ratio(base.carnet, base.raw));
	report_goal("carnet deliveries >= 2 x JetStream's (default and "
	    "sync_interval always)", base.carnet >= 2 * js_rate &&
	    base.carnet >= 2 * js_sync_rate, "%.2f x the default (%.0f "
	    "deliv/s), %.2f x sync_interval always (%.0f deliv/s); carnet "
	    "%.0f deliv/s; %s", ratio(base.carnet, js_rate), js_rate,
	    ratio(base.carnet, js_sync_rate), js_sync_rate, base.carnet,
	    nats_version());
	report_goal("stretch: carnet deliveries >= 0.5 x NATS core's",
	    base.carnet >= 0.5 * nats_rate, "%.2f x (carnet %.0f, NATS core "
	    "%.0f deliv/s); %s", ratio(base.carnet, nats_rate), base.carnet,
	    nats_rate, nats_version());
	report_goal("carnet's ACKed ingest above JetStream's acked publish "
	    "rate", base.carnet_ingest > js_pub, "%.0f vs %.0f rec/s; %s",
	    base.carnet_ingest, js_pub, nats_version());
	report_goal("store bytes written per record <= 5 x the record's "
	    "size", bpr <= 5 * BENCH_RECORD_BYTES, "%.0f bytes per %d-byte "
	    "record: %.2f x, %s", bpr, BENCH_RECORD_BYTES, ratio(bpr,
	    BENCH_RECORD_BYTES), full.disk_from_io ? "/proc/PID/io "
	    "write_bytes" : "store file growth (write_bytes read 0 here)");
}

/* ---- latency ----------------------------------------------------------- */

static void
latency_layout(struct layout *l, double peak_ingest)
{
	double per_prod = 0.5 * peak_ingest / PRODUCERS;

	memset(l, 0, sizeof(*l));
	l->nprod = PRODUCERS;
	l->ncons = CONSUMERS;
	l->rate_per_prod = (long long)per_prod;
	/* the same batches as everywhere, paced */
	l->batch = LAT_BATCH;
	l->n_per_prod = (uint64_t)(per_prod * Z.lat_seconds);
	l->n_per_prod -= l->n_per_prod % l->batch;
	l->want_per_cons = l->n_per_prod * PRODUCERS;
	l->lat = true;
}

/* The p50, p99 and p99.9 of run o in us (NAN: not run), reported; note:
 * added to the p50 row, or NULL. */
static void
lat_figs(const char *key, const char *label, int rc, struct outcome *o,
    double peak_ingest, const char *note, double us[3])
{
	char k[64], lab[96];
	const double pct[3] = {50, 99, 99.9};
	const char *names[3] = {"p50", "p99", "p999"};
	int i;

	for (i = 0; i < 3; i++) {
		us[i] = rc == 0 && o->lat.n > 0 ? (double)hist_pct(&o->lat,
		    pct[i]) / 1000.0 : NAN;
		snprintf(k, sizeof(k), "%s_%s_us", key, names[i]);
		snprintf(lab, sizeof(lab), "%s %s", label, names[i]);
		if (i == 0)
			report_fig(k, lab, us[i], "us", "at %.0f rec/s (half of "
			    "its sustained rate), %llu samples%s%s", 0.5 *
			    peak_ingest, (unsigned long long)o->lat.n, note !=
			    NULL ? "; " : "", note != NULL ? note : "");
		else
			report_fig(k, lab, us[i], "us", NULL);
	}
}

static void
section_latency(void)
{
	static const char *modes[] = {"core", "js", "js-sync"};
	struct layout l;
	struct outcome o;
	struct deploy d;
	double us_raw[3], us_c[3], us_n[3] = {NAN, NAN, NAN};
	double us_js[3] = {NAN, NAN, NAN}, us_jss[3] = {NAN, NAN, NAN};
	unsigned k;
	int rc;

	report_section("latency", "Latency, holder to app", "Producers paced "
	    "at half of what the same system sustained end to end above (the "
	    "lower of its ingest and of each consumer's intake), in the same "
	    "batches of 500 as the throughput runs, sent at a steady pace; each record carries the time "
	    "its batch was due (not when it left, so a late producer counts "
	    "late); latency is read by the consumer. Log-linear histogram, 3 % "
	    "buckets, upper bounds. The broker-turn rows time carnetd's loop "
	    "in the carnet run, as in the throughput section.");
	/* without the throughput section, its two runs that set the load */
	if (isnan(peak[0].ingest) || peak[0].ingest == 0) {
		throughput_once(0, NULL, &o);
		peak[0].ingest = sustained(&o, CONSUMERS);
	}
	if (isnan(peak[1].ingest) || peak[1].ingest == 0) {
		throughput_once(1, env_full, &o);
		peak[1].ingest = sustained(&o, CONSUMERS);
	}
	/* and NATS's: each system at half of its own */
	for (k = 0; k < 3; k++)
		if (isnan(peak[2 + k].ingest) || peak[2 + k].ingest == 0) {
			layout_max(&l, CONSUMERS, Z.thru_per_prod);
			if (nats_run(modes[k], &l, &o) == 0)
				peak[2 + k].ingest = sustained(&o, CONSUMERS);
		}
	latency_layout(&l, peak[0].ingest);
	rc = raw_run(&l, &o);
	lat_figs("raw", "raw ZeroMQ", rc, &o, peak[0].ingest, NULL, us_raw);
	carnet_deploy(&d, USERS, CONSUMERS, 0, 0, 0);
	latency_layout(&l, peak[1].ingest);
	rc = carnet_run(&d, env_full, &l, &o);
	lat_figs("carnet", "carnet", rc, &o, peak[1].ingest, NULL, us_c);
	turn_figs("carnet_lat", "carnet at half load", &o);
	deploy_free(&d);
	report_goal("carnet p99 < 2 ms at half load", us_c[1] < 2000,
	    "p99 %.0f us", us_c[1]);
	if (peak[2].ingest > 0) {
		latency_layout(&l, peak[2].ingest);
		rc = nats_run("core", &l, &o);
		lat_figs("nats", "NATS core", rc, &o, peak[2].ingest,
		    nats_version(), us_n);
	}
	if (peak[3].ingest > 0) {
		latency_layout(&l, peak[3].ingest);
		rc = nats_run("js", &l, &o);
		lat_figs("jetstream", "JetStream", rc, &o, peak[3].ingest,
		    nats_version(), us_js);
	}
	if (peak[4].ingest > 0) {
		latency_layout(&l, peak[4].ingest);
		rc = nats_run("js-sync", &l, &o);
		lat_figs("jetstream_sync", "JetStream, sync_interval always",
		    rc, &o, peak[4].ingest, nats_version(), us_jss);
	}
	report_goal("carnet p50 and p99 at half load <= JetStream's (default "
	    "and sync_interval always)", us_c[0] <= us_js[0] && us_c[1] <=
	    us_js[1] && us_c[0] <= us_jss[0] && us_c[1] <= us_jss[1],
	    "carnet p50 %.0f / p99 %.0f us; JetStream default %.0f / %.0f us, "
	    "sync_interval always %.0f / %.0f us; %s", us_c[0], us_c[1],
	    us_js[0], us_js[1], us_jss[0], us_jss[1], nats_version());
}

/* ---- revocation ------------------------------------------------------ */

static struct {
	struct client **users;
	struct hist took;
	unsigned done;
	double at_share;
} rv;

static void
revoke_during(const struct layout *l, struct child *kids, unsigned np,
    int64_t go)
{
	struct deploy *d = cur_deploy;
	double est = (double)(l->n_per_prod * np) / (isnan(base.carnet_ingest)
	    ? 20000.0 : base.carnet_ingest);
	unsigned i;

	(void)kids;
	/* a random moment in the middle of the stream */
	rv.at_share = 0.2 + 0.3 * randombytes_uniform(1000) / 1000.0;
	sleep_until_ns(go + (int64_t)(rv.at_share * est * 1e9));
	for (i = 0; i < Z.revocations; i++) {
		int64_t took;

		if (deploy_revoke(rv.users[i], &d->users[i], d->tokens +
		    (size_t)i * d->napps * TOKID_BYTES, &took) == 0) {
			hist_add(&rv.took, (uint64_t)took);
			rv.done++;
		}
		sleep_ms(20);
	}
}

struct late_scan {
	const uint8_t *tok;
	bool revoked;
	uint64_t late, before;
};

static int
late_one(void *arg, uint64_t seq, const MDB_val *v)
{
	struct late_scan *ls = arg;
	struct uselog_entry e;
	const uint64_t *recs;

	(void)seq;
	if (uselog_decode(v->mv_data, v->mv_size, &e, NULL) != 0)
		return CARNET_E_LOG_BROKEN;
	if (!e.has_token || memcmp(e.token, ls->tok, TOKID_BYTES) != 0)
		return 0;
	if (e.kind == USE_REVOKE)
		ls->revoked = true;
	else if (e.kind == USE_DELIVER) /* each record of a batch entry */
		(ls->revoked ? &ls->late : &ls->before)[0] +=
		    uselog_records(&e, &recs);
	return 0;
}

/* From the people's own logs: deliveries after each revocation entry. */
static int
late_in_logs(struct deploy *d, uint64_t *late, uint64_t *before)
{
	struct store *s;
	struct cerr err = {0};
	MDB_txn *txn;
	unsigned i;

	*late = *before = 0;
	if (store_open(d->dir, (size_t)d->map_mib << 20, &s, &err) != 0 ||
	    store_txn_begin(s, NULL, false, &txn, &err) != 0) {
		fprintf(stderr, "bench: %s\n", cerr_msg(&err));
		return -1;
	}
	for (i = 0; i < rv.done; i++) {
		struct late_scan ls = {.tok = d->tokens + (size_t)i * d->napps *
		    TOKID_BYTES};

		store_log_foreach(s, txn, d->users[i].pk, 0, SIZE_MAX,
		    late_one, &ls);
		if (!ls.revoked)
			fprintf(stderr, "bench: no REVOKE entry in user %u's "
			    "log\n", i);
		*late += ls.late;
		*before += ls.before;
	}
	store_txn_abort(&txn);
	store_close(&s);
	return 0;
}

static void
section_revocation(void)
{
	struct layout l;
	struct outcome o;
	struct deploy d;
	uint64_t late_log = 0, before = 0;
	double p50;
	unsigned i;
	int rc;

	report_section("revocation", "Revocation", "REVOKE sent by the person "
	    "while records stream (2 holders, 1 app, 100 people), at a random "
	    "moment between 20 % and 50 % of the stream; then more people "
	    "revoke, 20 ms apart. Round trip: from sending REVOKE to its OK, "
	    "which the broker sends after the revocation is committed. Late "
	    "records: any record under a token after its REVOKED notice at "
	    "the app (one ordered connection), and any delivery entry after "
	    "the revocation entry in the person's own log.");
	carnet_deploy(&d, USERS, 1, 0, 0, 0);
	memset(&rv, 0, sizeof(rv));
	rv.users = calloc(Z.revocations, sizeof(*rv.users));
	/* the people connect before the stream starts */
	deploy_stop_broker(&d);
	deploy_start_broker(&d, env_full);
	for (i = 0; i < Z.revocations; i++)
		rv.users[i] = deploy_connect(&d, &d.users[i]);
	cur_deploy = &d;
	memset(&l, 0, sizeof(l));
	l.nprod = PRODUCERS;
	l.ncons = 1;
	l.n_per_prod = Z.race_total / PRODUCERS;
	l.want_per_cons = Z.race_total; /* stops on silence: some are cut */
	l.idle_ms = 3000;
	l.batch = 500;
	l.name = "carnet";
	l.args = carnet_args;
	l.env = env_full;
	l.during = revoke_during;
	rc = run_layout(&l, &o);
	for (i = 0; i < Z.revocations; i++)
		client_destroy(&rv.users[i]);
	free(rv.users);
	deploy_stop_broker(&d);
	late_in_logs(&d, &late_log, &before);
	p50 = rv.done > 0 ? (double)hist_pct(&rv.took, 50) / 1000.0 : NAN;
	report_fig("revoke_rtt_p50_us", "REVOKE round trip p50", p50, "us",
	    "%u revocations under load", rv.done);
	report_fig("revoke_rtt_max_us", "REVOKE round trip max",
	    (double)hist_pct(&rv.took, 100) / 1000.0, "us", NULL);
	report_fig("race_records", "records streamed", (double)o.produced,
	    "records", "first revocation at %.0f %% of the stream",
	    100 * rv.at_share);
	report_fig("race_delivered_before", "delivered under the revoked "
	    "tokens before", (double)before, "records", "from the logs");
	report_fig("race_late_app", "records after REVOKED, at the app",
	    (double)o.late, "records", "must be 0");
	report_fig("race_late_log", "deliveries after the revocation entry, "
	    "logs", (double)late_log, "records", "must be 0");
	report_goal("0 records delivered after revocation", rc == 0 &&
	    o.late == 0 && late_log == 0 && rv.done == Z.revocations,
	    "%llu at the apps, %llu in the logs, %u/%u revocations",
	    (unsigned long long)o.late, (unsigned long long)late_log, rv.done,
	    Z.revocations);
	report_goal("REVOKE round trip p50 under the throughput load <= 5 ms",
	    p50 <= 5000, "p50 %.2f ms over %u revocations (max %.2f ms), "
	    "2 holders streaming at full speed", p50 / 1000.0, rv.done,
	    (double)hist_pct(&rv.took, 100) / 1e6);
	deploy_free(&d);
}

/* ---- memory ----------------------------------------------------------- */

#define MEM_SAMPLES 4096

static struct {
	long anon0, anon_max, anon_end, file_end;
	long sample[MEM_SAMPLES];
	unsigned n;
} mem;

static void
memory_during(const struct layout *l, struct child *kids, unsigned np,
    int64_t go)
{
	long anon, file;
	unsigned i;

	(void)go;
	while (children_running(kids, np)) {
		sleep_ms(200);
		if (proc_rss(cur_deploy->broker, &anon, &file) != 0)
			continue;
		if (anon > mem.anon_max)
			mem.anon_max = anon;
		if (mem.n < MEM_SAMPLES)
			mem.sample[mem.n++] = anon;
	}
	sleep_ms(500);
	proc_rss(cur_deploy->broker, &mem.anon_end, &mem.file_end);
	if (mem.anon_end > mem.anon_max)
		mem.anon_max = mem.anon_end;
	for (i = 0; i < l->ncons; i++)
		child_go(&kids[np + i]); /* the stalled app may stop */
}

static int
cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return x < y ? -1 : x > y;
}

/*
 * The median RssAnon of the samples between fractions lo and hi of the run:
 * a level, where a single sample may catch a few batches in flight.
 */
static long
mem_level(double lo, double hi)
{
	long v[MEM_SAMPLES];
	unsigned a = (unsigned)(lo * mem.n), b = (unsigned)(hi * mem.n), k;

	if (b > mem.n)
		b = mem.n;
	if (a >= b)
		return mem.n > 0 ? mem.sample[mem.n - 1] : mem.anon0;
	for (k = a; k < b; k++)
		v[k - a] = mem.sample[k];
	qsort(v, b - a, sizeof(v[0]), cmp_long);
	return v[(b - a) / 2];
}

static void
section_memory(void)
{
	struct layout l;
	struct outcome o;
	struct deploy d;
	long file0, early, late;
	int rc;

	report_section("memory", "Memory with a stalled app", "One app "
	    "subscribes and never gives credit while 2 holders store records "
	    "for it (100 people consenting): everything queues. Broker RSS "
	    "from /proc: RssAnon is the heap (must stay flat: the backlog is "
	    "in LMDB), RssFile the store pages the kernel maps in (reclaimable "
	    "cache). Sampled every 200 ms; flat means the median of the last "
	    "tenth of the run within 1.25 x the median from 5 to 15 % (the "
	    "max is one sample and may catch a few batches in flight).");
	carnet_deploy(&d, USERS, 1, 0, 0, 32768);
	deploy_stop_broker(&d);
	deploy_start_broker(&d, env_full);
	sleep_ms(300);
	memset(&mem, 0, sizeof(mem));
	proc_rss(d.broker, &mem.anon0, &file0);
	mem.anon_max = mem.anon0;
	cur_deploy = &d;
	cur_stall = true;
	memset(&l, 0, sizeof(l));
	l.nprod = PRODUCERS;
	l.ncons = 1;
	l.n_per_prod = Z.mem_total / PRODUCERS;
	l.want_per_cons = 0;
	l.batch = 500;
	l.name = "carnet";
	l.args = carnet_args;
	l.env = env_full;
	l.during = memory_during;
	rc = run_layout(&l, &o);
	cur_stall = false;
	report_fig("mem_queued", "records queued for the stalled app",
	    (double)o.produced, "records", "ingest %.0f rec/s", o.ingest_rate);
	/* the heap once everyone is connected and streaming (5-15 % of the
	 * run), against the heap at the end (the last tenth) */
	early = mem_level(0.05, 0.15);
	late = mem_level(0.9, 1.0);
	report_fig("mem_anon_idle_kib", "RssAnon, idle broker", (double)mem.anon0,
	    "KiB", "before any connection");
	report_fig("mem_anon_early_kib", "RssAnon early", (double)early,
	    "KiB", "median from 5 to 15 %% of the run, connected and streaming");
	report_fig("mem_anon_late_kib", "RssAnon late", (double)late, "KiB",
	    "median of the last tenth of the run: %.2f x early",
	    ratio(late, early));
	report_fig("mem_anon_max_kib", "RssAnon max while queueing",
	    (double)mem.anon_max, "KiB", "%.2f x early (one sample, %u "
	    "taken)", ratio(mem.anon_max, early), mem.n);
	report_fig("mem_anon_end_kib", "RssAnon after the last record",
	    (double)mem.anon_end, "KiB", "%.2f x early", ratio(mem.anon_end,
	    early));
	report_fig("mem_file_end_kib", "RssFile after", (double)mem.file_end,
	    "KiB", "store pages mapped");
	report_fig("mem_store_kib", "store on disk",
	    (double)deploy_store_kib(&d), "KiB", NULL);
	report_goal("broker heap flat with records queued for a stalled app",
	    rc == 0 && late <= early + early / 4, "RssAnon %ld KiB early, %ld "
	    "KiB late (medians), %ld KiB at most, over %llu records", early,
	    late, mem.anon_max, (unsigned long long)o.produced);
	deploy_free(&d);
}

/* ---- scale ----------------------------------------------------------- */

/* What bounds a scale run: its broker turns and its writes, as a note. */
static const char *
scale_turns(const struct outcome *o, char *buf, size_t n)
{
	const struct turn_stats *t = &o->turns;
	double turns = t->turns > 0 ? t->turns : NAN;

	snprintf(buf, n, "%.0f turns of %.0f records stored, work %.0f us, "
	    "commit %.0f us; %.0f bytes written per record", t->turns,
	    t->stored / turns, t->work_us / turns, t->commit_us / turns,
	    o->produced > 0 ? o->disk_bytes / (double)o->produced : NAN);
	return buf;
}

static void
section_scale(void)
{
	static const unsigned users_full[] = {1, 10, 100, 1000};
	static const unsigned users_quick[] = {100, 1000};
	static const unsigned apps_full[] = {1, 4, 16};
	static const unsigned apps_quick[] = {1, 16};
	const unsigned *users = O->quick ? users_quick : users_full;
	const unsigned *apps = O->quick ? apps_quick : apps_full;
	unsigned nu = O->quick ? 2 : 4, na = O->quick ? 2 : 3, u, a;
	struct layout l;
	struct outcome o;
	struct deploy d;
	char key[64], label[96], turns[160];
	double r, at100 = NAN, at1000 = NAN;
	int rc;

	report_section("scale", "Scale", "carnet with everything on, 2 holders; "
	    "each app is its own process and every person consents to every "
	    "app, so deliveries = records x apps. Then the 100-people, 2-app "
	    "run again with records of other people already stored.");
	if (isnan(base.raw)) {
		throughput_once(0, NULL, &o);
		base.raw = o.deliver_rate;
	}
	for (u = 0; u < nu; u++)
		for (a = 0; a < na; a++) {
			carnet_deploy(&d, users[u], apps[a], 0, 0, 0);
			layout_max(&l, apps[a], Z.scale_total / PRODUCERS);
			rc = carnet_run(&d, env_full, &l, &o);
			r = rate_or_nan(rc, &o);
			snprintf(key, sizeof(key), "scale_u%u_a%u", users[u],
			    apps[a]);
			snprintf(label, sizeof(label), "%u people, %u apps",
			    users[u], apps[a]);
			report_fig(key, label, r, "deliv/s", "ingest %.0f rec/s; "
			    "%.2f x raw (2 apps); %s", o.ingest_rate, ratio(r,
			    base.raw), scale_turns(&o, turns, sizeof(turns)));
			deploy_free(&d);
			if (apps[a] == 16 && users[u] == 100)
				at100 = r;
			if (apps[a] == 16 && users[u] == 1000)
				at1000 = r;
		}
	report_goal("1 000 people x 16 apps >= 0.9 x 100 people x 16 apps",
	    ratio(at1000, at100) >= 0.9, "%.2f x (%.0f vs %.0f deliv/s)",
	    ratio(at1000, at100), at1000, at100);
	if (isnan(base.carnet)) {
		throughput_once(1, env_full, &o);
		base.carnet = o.deliver_rate;
	}
	carnet_deploy(&d, USERS, CONSUMERS, 0, 100, 16384);
	carnet_prefill(&d, Z.prefill);
	layout_max(&l, CONSUMERS, Z.thru_per_prod);
	rc = carnet_run(&d, env_full, &l, &o);
	r = rate_or_nan(rc, &o);
	snprintf(label, sizeof(label), "100 people, 2 apps, %llu records "
	    "stored before", (unsigned long long)Z.prefill);
	report_fig("scale_prefilled", label, r, "deliv/s", "%.2f x the same "
	    "on an empty store", ratio(r, base.carnet));
	deploy_free(&d);
}

/* The median of n values; NAN if one of them is. */
static double
median(double *v, unsigned n)
{
	unsigned i, j;

	for (i = 0; i < n; i++)
		if (isnan(v[i]))
			return NAN;
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && v[j] < v[j - 1]; j--) {
			double t = v[j];

			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	return n > 0 ? v[n / 2] : NAN;
}

/* One throughput run on the running broker, not counted. */
static void
warm_up(struct deploy *d)
{
	struct layout l;
	struct outcome o;

	cur_deploy = d;
	layout_max(&l, CONSUMERS, Z.thru_per_prod);
	l.name = "carnet";
	l.args = carnet_args;
	l.env = env_full;
	run_layout(&l, &o);
}

/*
 * On the running broker: the median throughput of Z.repeat runs, then the
 * median p99 of as many runs paced at *pace (set from the first run if
 * NAN; NAN after: not run).  A p99 over seconds hangs on a few slow
 * fsyncs of a shared disk: one run alone says little.  *wpr: the bytes
 * the broker dirtied for its store per record, over the throughput runs
 * (what its commits write, whatever the disk's speed; NAN if unknown).
 */
static void
active_runs(struct deploy *d, double *thru, double *pace, double *p99,
    double *wpr)
{
	double t[5], p[5];
	struct layout l;
	struct outcome o;
	unsigned i, n = Z.repeat;
	long long w0 = proc_write_bytes(d->broker), w1;
	uint64_t produced = 0;
	int rc;

	cur_deploy = d;
	for (i = 0; i < n; i++) {
		layout_max(&l, CONSUMERS, Z.thru_per_prod);
		l.name = "carnet";
		l.args = carnet_args;
		l.env = env_full;
		rc = run_layout(&l, &o);
		t[i] = rate_or_nan(rc, &o);
		produced += o.produced;
		if (isnan(*pace) && rc == 0)
			*pace = sustained(&o, CONSUMERS);
	}
	w1 = proc_write_bytes(d->broker);
	*wpr = w0 >= 0 && w1 >= w0 && produced > 0 ?
	    (double)(w1 - w0) / (double)produced : NAN;
	*thru = median(t, n);
	*p99 = NAN;
	if (isnan(*pace))
		return;
	for (i = 0; i < n; i++) {
		latency_layout(&l, *pace);
		l.name = "carnet";
		l.args = carnet_args;
		l.env = env_full;
		p[i] = run_layout(&l, &o) == 0 && o.lat.n > 0 ?
		    (double)hist_pct(&o.lat, 99) / 1000.0 : NAN;
	}
	*p99 = median(p, n);
}

/* ---- consents ------------------------------------------------------- */

#define FEEDS 16
#define MEMCG_MIB 1024 /* the broker's memory limit, as the goal */

/* The time SUB takes for app 0 (its reply), in ms. */
static double
sub_ms(struct deploy *d)
{
	struct client *c = deploy_connect(d, &d->apps[0]);
	msgpack_unpacked reply;
	struct cerr err = {0};
	int64_t t0 = mono_ns();
	double ms = NAN;

	client_begin(c, 0);
	if (client_call(c, "SUB", &reply, &err) == 0) {
		ms = (double)(mono_ns() - t0) / 1e6;
		msgpack_unpacked_destroy(&reply);
	}
	client_begin(c, 0);
	if (client_send(c, "UNSUB", &err) != 0)
		ms = NAN;
	client_destroy(&c);
	return ms;
}

/* Broker memory with FEEDS feeds open, one per app, in KiB. */
static void
feeds_rss(struct deploy *d, long *anon, long *file)
{
	struct client *c[FEEDS];
	msgpack_unpacked reply;
	msgpack_packer *pk;
	struct cerr err = {0};
	unsigned i;

	for (i = 0; i < FEEDS; i++) {
		c[i] = deploy_connect(d, &d->apps[i % (d->napps +
		    d->nother_apps)]);
		client_begin(c[i], 0);
		if (client_call(c[i], "SUB", &reply, &err) == 0)
			msgpack_unpacked_destroy(&reply);
		pk = client_begin(c[i], 1);
		mpk_pack_cstr(pk, "n");
		msgpack_pack_uint64(pk, 1000);
		if (client_send(c[i], "CREDIT", &err) != 0)
			fprintf(stderr, "bench: CREDIT: %s\n", cerr_msg(&err));
	}
	sleep_ms(1000);
	proc_rss(d->broker, anon, file);
	for (i = 0; i < FEEDS; i++)
		client_destroy(&c[i]);
}

static void
section_consents(void)
{
	static const unsigned full[] = {100, 10000, 100000, 1000000};
	static const unsigned quick[] = {100, 10000, 100000};
	const unsigned *sizes = O->quick ? quick : full;
	unsigned nsizes = O->quick ? 3 : 4, i, own[8];
	const char *pick = getenv("CARNET_BENCH_CONSENTS");
	double thru0 = NAN, p99_0 = NAN, pace = NAN, imp = NAN, wpr0 = NAN;
	double r, p99, sub, wpr;
	long anon, file, fanon, ffile;
	struct memcg cg;
	double before_mib = NAN, after_mib = NAN;
	char where[128];
	struct outcome o;
	struct deploy d;
	char key[64], label[96];

	report_section("consents", "Consents", "N people consent to 2 apps "
	    "each, records flow for 100 of them (2 holders, 2 apps, as in the "
	    "throughput section): the broker's cost must follow what arrives, "
	    "not how many consent. Each idle person also consents to one of "
	    "14 other apps, so that 16 apps hold consents; the memory figure "
	    "is taken with all 16 subscribed. The idle consents are signed in "
	    "the benchmark and written to the store as GRANT writes them; the "
	    "idle people are registered with carnet party import, then the store "
	    "is compacted (README: after a bulk enrolment). Each size runs "
	    "in a 1 GiB memory cgroup after the page cache was dropped, a "
	    "warm-up run first; each figure is the median of 3 runs (1 in "
	    "QUICK runs). Latency runs at half the 100-consent run's "
	    "sustained rate. RSS is the broker's heap (anonymous) and the "
	    "LMDB pages it touched (file).");
	/* CARNET_BENCH_CONSENTS=100,1000000: other sizes (the first is the
	 * baseline) */
	if (pick != NULL) {
		char *end;

		for (nsizes = 0; nsizes < 8 && *pick != '\0'; nsizes++) {
			own[nsizes] = (unsigned)strtoul(pick, &end, 10);
			if (end == pick || own[nsizes] < USERS)
				break;
			pick = *end == ',' ? end + 1 : end;
		}
		sizes = own;
	}
	for (i = 0; i < nsizes; i++) {
		unsigned n = sizes[i];

		printf("  (%u people consenting...)\n", n);
		fflush(stdout);
		carnet_deploy(&d, USERS, CONSUMERS, FEEDS - CONSUMERS, 0,
		    n >= 100000 ? 16384 : 0);
		deploy_stop_broker(&d);
		if (n > USERS)
			deploy_idle_consents(&d, n - USERS, &imp);
		/* as README says after a bulk enrolment: compacted, so that
		 * LMDB does not write every commit to free pages strewn over
		 * the file */
		if (n > USERS && deploy_compact(&d, &before_mib, &after_mib)
		    != 0)
			before_mib = after_mib = NAN;
		/* each size in a cgroup of its own, the store's pages read
		 * afresh: charged to the broker's cgroup */
		if (memcg_new(&cg, MEMCG_MIB) == 0) {
			memcg_drop_caches();
			d.memcg = &cg;
		}
		deploy_start_broker(&d, env_full);
		cur_deploy = &d;
		sub = sub_ms(&d);
		/* a first run warms the store's hot pages, read afresh after
		 * the page cache was dropped; the ones after count */
		warm_up(&d);
		active_runs(&d, &r, &pace, &p99, &wpr);
		if (i == 0) {
			thru0 = r;
			p99_0 = p99;
			wpr0 = wpr;
		}
		proc_rss(d.broker, &anon, &file);
		feeds_rss(&d, &fanon, &ffile);
		snprintf(key, sizeof(key), "consents_%u", n);
		snprintf(label, sizeof(label), "%u people consenting", n);
		report_fig(key, label, r, "deliv/s", "%.2f x the 100-consent "
		    "run", ratio(r, thru0));
		snprintf(key, sizeof(key), "consents_%u_p99_us", n);
		report_fig(key, "  p99 latency", p99, "us", "%.2f x the "
		    "100-consent run", ratio(p99, p99_0));
		snprintf(key, sizeof(key), "consents_%u_store_bpr", n);
		report_fig(key, "  store writes per record", wpr, "bytes",
		    "%.2f x the 100-consent run (pages the broker's commits "
		    "dirtied, /proc/PID/io)", ratio(wpr, wpr0));
		snprintf(key, sizeof(key), "consents_%u_rss_mib", n);
		if (d.memcg != NULL)
			snprintf(where, sizeof(where), "in a %d MiB memory "
			    "cgroup, peak %.0f MiB", MEMCG_MIB,
			    memcg_peak_kib(&cg) / 1024.0);
		else
			snprintf(where, sizeof(where), "no memory cgroup (not "
			    "root?): map pages grow with the store");
		report_fig(key, "  broker RSS", (anon + file) / 1024.0, "MiB",
		    "heap %.0f MiB, map pages %.0f MiB; with %d apps "
		    "subscribed: heap %.0f MiB, map %.0f MiB; %s",
		    anon / 1024.0, file / 1024.0, FEEDS, fanon / 1024.0,
		    ffile / 1024.0, where);
		snprintf(key, sizeof(key), "consents_%u_sub_ms", n);
		report_fig(key, "  SUB", sub, "ms", "an app with %u consents "
		    "subscribing", n);
		if (n > USERS) {
			snprintf(key, sizeof(key), "consents_%u_import", n);
			report_fig(key, "  party import", imp, "people/s",
			    "%u people registered in one run; the store "
			    "compacted after: %.0f -> %.0f MiB", n - USERS,
			    before_mib, after_mib);
		}
		if (i == nsizes - 1) {
			report_goal("throughput at the most consents >= 0.9 x "
			    "the 100-consent run", ratio(r, thru0) >= 0.9,
			    "%.2f x at %u", ratio(r, thru0), n);
			report_goal("p99 at the most consents <= 1/0.9 x the "
			    "100-consent run", ratio(p99, p99_0) <= 1 / 0.9,
			    "%.2f x at %u", ratio(p99, p99_0), n);
			report_goal("broker RSS under 1 GiB", (fanon + ffile) <
			    1024 * 1024, "%.0f MiB with %d apps subscribed "
			    "(heap %.0f MiB), %s", (fanon + ffile) / 1024.0, FEEDS,
			    fanon / 1024.0, where);
			report_goal("SUB under 1 s", sub < 1000, "%.1f ms", sub);
		}
		deploy_stop_turns(&d, &o.turns);
		if (o.turns.turns > 0) {
			snprintf(key, sizeof(key), "consents_%u_commit_us", n);
			report_fig(key, "  commit per turn", o.turns.commit_us /
			    o.turns.turns, "us", "work %.0f us per turn, longest "
			    "commit %.1f ms, over %.0f turns (all runs)",
			    o.turns.work_us / o.turns.turns,
			    o.turns.max_commit_us / 1000.0, o.turns.turns);
		}
		deploy_free(&d);
		if (d.memcg != NULL)
			memcg_free(&cg);
		d.memcg = NULL;
	}
}

/* ---- connections ---------------------------------------------------- */

/* n people registered straight in the store, their keys in DIR/idle.keys. */
static void
idle_keys(struct deploy *d, unsigned n, char *path, size_t size)
{
	struct store *s;
	struct cerr err = {0};
	struct keypair kp;
	struct party p;
	MDB_txn *txn;
	unsigned i;
	FILE *f;

	snprintf(path, size, "%s/idle.keys", d->dir);
	if ((f = fopen(path, "wb")) == NULL ||
	    store_open(d->dir, (size_t)d->map_mib << 20, &s, &err) != 0 ||
	    store_txn_begin(s, NULL, true, &txn, &err) != 0) {
		fprintf(stderr, "bench: idle keys: %s\n", cerr_msg(&err));
		exit(1);
	}
	for (i = 0; i < n; i++) {
		if (key_generate(&kp) != 0)
			exit(1);
		memset(&p, 0, sizeof(p));
		memcpy(p.id, kp.pk, ID_BYTES);
		p.role = ROLE_USER;
		snprintf(p.name, sizeof(p.name), "idle%u", i);
		if (store_party_add(s, txn, &p, &err) != 0 ||
		    fwrite(&kp, sizeof(kp), 1, f) != 1) {
			fprintf(stderr, "bench: idle keys: %s\n", cerr_msg(&err));
			exit(1);
		}
	}
	sodium_memzero(&kp, sizeof(kp));
	if (store_txn_commit(&txn, &err) != 0 || fclose(f) != 0)
		exit(1);
	store_close(&s);
}

#define IDLE_PER_CHILD 4000 /* two descriptors each, under a 20 000 limit */

/* Start the c-idle children for n connections (IDLE_PER_CHILD each) and
 * wait for their HELLOs; 0, or -1 with every child gone. */
static int
idle_open_all(struct deploy *d, const char *keys, unsigned n,
    struct child *c, unsigned *nc)
{
	char ep[96], bid[96], kw[640], num[8][32], from[8][32];
	const char *argv[8][7];
	unsigned k;
	int rc = 0;

	snprintf(ep, sizeof(ep), "ep=%s", d->endpoint);
	snprintf(bid, sizeof(bid), "broker=%s", d->broker_id);
	snprintf(kw, sizeof(kw), "keys=%s", keys);
	*nc = (n + IDLE_PER_CHILD - 1) / IDLE_PER_CHILD;
	for (k = 0; k < *nc; k++) {
		unsigned first = k * IDLE_PER_CHILD;

		snprintf(num[k], sizeof(num[k]), "n=%u", n - first <
		    IDLE_PER_CHILD ? n - first : IDLE_PER_CHILD);
		snprintf(from[k], sizeof(from[k]), "from=%u", first);
		argv[k][0] = "c-idle";
		argv[k][1] = ep;
		argv[k][2] = bid;
		argv[k][3] = kw;
		argv[k][4] = num[k];
		argv[k][5] = from[k];
		argv[k][6] = NULL;
		if (child_start(&c[k], "idle", NULL, argv[k]) != 0) {
			rc = -1;
			*nc = k;
			break;
		}
	}
	for (k = 0; k < *nc; k++)
		if (child_wait_ready(&c[k]) != 0)
			rc = -1;
	if (rc != 0)
		for (k = 0; k < *nc; k++)
			child_kill(&c[k]);
	return rc;
}

/*
 * The active runs alone, then with n idle connections, then alone again
 * once they closed (A, B, A): each run adds its records to the store, so
 * "with" is set against the mean of the runs before and after it.
 */
static void
section_connections(void)
{
	unsigned n = O->quick ? 2000 : 10000, k, nc, opened = 0;
	double t0, t1, t2, p0, p1, p2, w0, w1, w2, pace = NAN, ta, pa;
	long a0, f0, a1, f1;
	char keys[600];
	struct child c[8];
	struct result r;
	struct deploy d;

	report_section("connections", "Idle connections", "Records flow for "
	    "100 people from 2 holders to 2 apps, alone, then with N other "
	    "people connected over CurveZMQ, each having said HELLO and then "
	    "nothing (4 000 per process), then alone again once they left; "
	    "the same broker, a warm-up run first. Each run adds to the "
	    "store, so the runs with them are set against the mean of the "
	    "runs alone before and after; each figure is the median of 3 "
	    "runs (1 in QUICK runs). RSS: the broker's heap.");
	carnet_deploy(&d, USERS, CONSUMERS, 0, 0, 16384); /* 13 runs */
	deploy_stop_broker(&d);
	idle_keys(&d, n, keys, sizeof(keys));
	deploy_start_broker(&d, env_full);
	warm_up(&d);
	active_runs(&d, &t0, &pace, &p0, &w0);
	proc_rss(d.broker, &a0, &f0);
	printf("  (%u idle connections opening...)\n", n);
	fflush(stdout);
	if (idle_open_all(&d, keys, n, c, &nc) != 0) {
		report_fig("conns_idle", "idle connections", NAN, "", "the idle "
		    "connections did not open");
		deploy_free(&d);
		return;
	}
	sleep_ms(10000); /* the handshakes that were slow finish */
	active_runs(&d, &t1, &pace, &p1, &w1);
	proc_rss(d.broker, &a1, &f1);
	for (k = 0; k < nc; k++) {
		memset(&r, 0, sizeof(r));
		child_go(&c[k]);
		child_result(&c[k], &r);
		opened += (unsigned)res_get(&r, "n");
	}
	sleep_ms(10000); /* the broker sees them go */
	active_runs(&d, &t2, &pace, &p2, &w2);
	ta = (t0 + t2) / 2;
	pa = (p0 + p2) / 2;
	report_fig("conns_alone", "alone, before and after", ta, "deliv/s",
	    "before %.0f, after %.0f; p99 %.0f and %.0f us; heap %.0f MiB",
	    t0, t2, p0, p2, a0 / 1024.0);
	report_fig("conns_store_bpr", "  store writes per record", w1,
	    "bytes", "with them; alone %.0f before, %.0f after (pages the "
	    "broker's commits dirtied: they grow with the store)", w0, w2);
	report_fig("conns_idle", "with idle connections", t1, "deliv/s",
	    "%u of %u open and answered; %.2f x alone", opened, n,
	    ratio(t1, ta));
	report_fig("conns_idle_p99_us", "  p99 latency", p1, "us", "%.2f x "
	    "alone", ratio(p1, pa));
	report_fig("conns_idle_heap_kib", "  broker heap per connection",
	    (a1 - a0) / (double)n, "KiB", "heap %.0f MiB with them",
	    a1 / 1024.0);
	report_goal("active throughput with idle connections >= 0.9 x alone",
	    ratio(t1, ta) >= 0.9, "%.2f x", ratio(t1, ta));
	report_goal("active p99 with idle connections <= 1/0.9 x alone",
	    ratio(p1, pa) <= 1 / 0.9, "%.2f x", ratio(p1, pa));
	deploy_free(&d);
}

int
bench_all(const struct bench_opts *o)
{
	char commands[256];
	double rvr;

	O = o;
	if (o->quick) {
		Z.thru_per_prod = 10000;
		Z.lat_seconds = 1.5;
		Z.race_total = 20000;
		Z.mem_total = 60000;
		Z.scale_total = 10000;
		Z.prefill = 50000;
		Z.revocations = 5;
		Z.repeat = 1;
	} else {
		Z.thru_per_prod = 100000;
		Z.lat_seconds = 5;
		Z.race_total = 1000000;
		Z.mem_total = 10000000;
		Z.scale_total = 100000;
		Z.prefill = 1000000;
		Z.revocations = 20;
		Z.repeat = 3;
	}
	if (wanted("throughput"))
		section_throughput();
	if (wanted("latency"))
		section_latency();
	if (wanted("revocation"))
		section_revocation();
	if (wanted("memory"))
		section_memory();
	if (wanted("scale"))
		section_scale();
	if (wanted("consents"))
		section_consents();
	if (wanted("connections"))
		section_connections();
	if (wanted("fhir"))
		section_fhir(o->quick);
	rvr = ratio(base.carnet, base.raw);
	snprintf(commands, sizeof(commands), "make bench%s%s%s",
	    o->quick ? " QUICK=1" : "", o->only ? " ONLY=" : "",
	    o->only ? o->only : "");
	if (report_write(o->out, o->quick, commands, rvr) != 0)
		return 1;
	printf("\nwrote %s/RESULTS.md and %s/results.json\n", o->out, o->out);
	printf("ratio_vs_raw_zmq: %.3f\n", rvr);
	return 0;
}
