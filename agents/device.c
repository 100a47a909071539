/*
 * device.c: carnet-device, the agent of a connected-device maker (scale,
 * tracker, watch).  It streams observations live: simulated time runs at
 * --speed hours per real second from --start, and each reading is a pure
 * function of (seed, customer, hour), so a run is reproducible and a
 * resend stores nothing twice.  It also pushes the day's context for the
 * person's area (pollen index, PM2.5), as device apps show it.
 */
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "../client/cli.h"
#include "../client/csvmap.h"
#include "../client/feed.h"
#include "../schemas/recjson.h"
#include "holder_agent.h"

#define PI 3.14159265358979323846

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static const char *const areas[] = {"Paris 11", "Lyon 3", "Marseille 5",
	"Lille", "Nantes", "Toulouse", "Strasbourg", "Bordeaux"};
#define NAREAS (sizeof(areas) / sizeof(areas[0]))

struct person {
	char customer[80];
	char id[ID_STR_LEN + 1];
	uint64_t key;
	double weight, rest_hr, activity;
	const char *area;
};

static uint64_t
mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static uint64_t
hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

/* A uniform double in [0, 1) for (person, hour, what). */
static double
u01(uint64_t key, long hour, unsigned what)
{
	return (double)(mix(key ^ mix((uint64_t)hour * 16 + what)) >> 11) *
	    0x1.0p-53;
}

/* A normal draw (Box-Muller) for (person, hour, what). */
static double
gauss(uint64_t key, long hour, unsigned what)
{
	double a = u01(key, hour, what) + 1e-12, b = u01(key, hour, what + 8);

	return sqrt(-2 * log(a)) * cos(2 * PI * b);
}

struct stream {
	struct holder_batch *hb;
	msgpack_sbuffer one;
	const struct schema *obs, *ctx;
	unsigned long n;
	struct cerr *err;
};

static int
push(struct stream *st, const struct schema *type, json_t *obj)
{
	int rc;

	msgpack_sbuffer_clear(&st->one);
	rc = recjson_encode(obj, type, &st->one, st->err);
	json_decref(obj);
	if (rc == 0)
		rc = holder_batch_add(st->hb, st->one.data, st->one.size,
		    st->err);
	st->n += rc == 0;
	return rc;
}

static int
reading(struct stream *st, const struct person *p, long hour, int64_t t,
    const char *kind, double value, double period)
{
	char ref[160];
	json_t *o;

	snprintf(ref, sizeof(ref), "%s-%s-%ld", p->customer, kind, hour);
	o = json_pack("{s:s, s:s, s:I, s:s, s:f, s:s}", "user", p->id, "ref",
	    ref, "time", (json_int_t)t, "kind", kind, "value", value, "device",
	    strcmp(kind, "weight_kg") == 0 ? "Scale S2" : "Tracker T5");
	if (period > 0)
		json_object_set_new(o, "period_min", json_real(period));
	return push(st, st->obs, o);
}

/* Everything person p's devices report during simulated hour `hour`. */
static int
hour_of(struct stream *st, const struct person *p, long hour, int64_t t0)
{
	int64_t t = t0 + hour * 3600;
	int h = (int)(hour % 24), rc = 0;
	long day = hour / 24;

	if (h >= 7 && h <= 22)
		rc = reading(st, p, hour, t, "steps", floor(fmax(0,
		    p->activity * (400 + 350 * gauss(p->key, hour, 1)))), 60);
	if (rc == 0 && h % 4 == 2)
		rc = reading(st, p, hour, t, "heart_rate_bpm", round(p->rest_hr +
		    (h >= 8 && h <= 20 ? 12 : 0) + 4 * gauss(p->key, hour, 2)), 0);
	if (rc == 0 && h == 7)
		rc = reading(st, p, hour, t, "weight_kg", round(10 * (p->weight -
		    0.01 * day + 0.4 * gauss(p->key, hour, 3))) / 10, 0);
	if (rc == 0 && h == 8)
		rc = reading(st, p, hour, t, "sleep_min", round(420 +
		    50 * gauss(p->key, hour, 4)), 0);
	if (rc == 0 && h == 12) {
		/* the area's context: the same for everyone there that day */
		uint64_t ak = hash_str(p->area);
		double season = sin(2 * PI * ((double)(day % 365) - 80) / 365);
		char ref[160];

		snprintf(ref, sizeof(ref), "%s-pollen-%ld", p->customer, day);
		rc = push(st, st->ctx, json_pack("{s:s, s:s, s:I, s:s, s:f, "
		    "s:s, s:s}", "user", p->id, "ref", ref, "time", (json_int_t)t,
		    "kind", "pollen", "value", fmax(0, round(2.5 + 2 * season +
		    gauss(ak, day, 5))), "area", p->area, "source", "RNSA"));
		snprintf(ref, sizeof(ref), "%s-pm25-%ld", p->customer, day);
		if (rc == 0)
			rc = push(st, st->ctx, json_pack("{s:s, s:s, s:I, s:s, "
			    "s:f, s:s, s:s}", "user", p->id, "ref", ref, "time",
			    (json_int_t)t, "kind", "pm25", "value", fmax(2,
			    round(14 + 8 * gauss(ak, day, 6))), "area", p->area,
			    "source", "Atmo"));
	}
	return rc;
}

struct load {
	struct person *people;
	unsigned n, cap;
	uint64_t seed;
	bool header;
	struct cerr *err;
};

static int
load_row(void *arg, char **cells, int n, unsigned long line)
{
	struct load *l = arg;
	struct person *p;
	uint8_t pk[ID_BYTES];

	if (!l->header) {
		l->header = true;
		return 0;
	}
	if (n != 2 || id_decode(cells[1], pk) != 0 ||
	    strlen(cells[0]) >= sizeof(p->customer))
		return cerr_set(l->err, CARNET_E_MALFORMED,
		    "enrollment line %lu: want customer,carnet_id", line);
	if (l->n == l->cap) {
		unsigned cap = l->cap ? 2 * l->cap : 32;
		struct person *np = realloc(l->people, cap * sizeof(*np));

		if (np == NULL)
			return cerr_set(l->err, CARNET_E_NOMEM, "out of memory");
		l->people = np;
		l->cap = cap;
	}
	p = &l->people[l->n++];
	strcpy(p->customer, cells[0]);
	strcpy(p->id, cells[1]);
	p->key = mix(l->seed ^ hash_str(cells[0]));
	p->weight = 62 + 30 * u01(p->key, -1, 1);
	p->rest_hr = 56 + 20 * u01(p->key, -1, 2);
	p->activity = 0.4 + 1.2 * u01(p->key, -1, 3);
	p->area = areas[mix(p->key) % NAREAS];
	return 0;
}

static const char help[] =
"usage: carnet-device --enrollment FILE [--seed N] [--duration SECONDS]\n"
"                     [--speed HOURS] [--start DATE] [connection options]\n"
"\n"
"The agent of a connected-device maker: streams the readings of the\n"
"devices of enrolled people (steps per hour, heart rate, weight, sleep)\n"
"and the day's pollen and PM2.5 for their area, as they happen.\n"
"Simulated time runs at --speed hours (default 12) per real second from\n"
"--start (default 2017-01-01) for --duration real seconds (default 30);\n"
"every reading follows from --seed (default 1), the customer and the hour,\n"
"so the same run gives the same data, and a resend stores nothing twice.\n"
"\n"
"  --enrollment FILE  customer,carnet_id rows of the people who enrolled\n"
"\n" CLI_CONN_HELP;

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_CONN_OPTIONS,
		{"enrollment", required_argument, NULL, 'e'},
		{"seed", required_argument, NULL, 's'},
		{"duration", required_argument, NULL, 'd'},
		{"speed", required_argument, NULL, 'v'},
		{"start", required_argument, NULL, 'S'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct cli_conn cc = {0};
	struct cerr err = {0};
	struct load l;
	struct stream st;
	struct sigaction sa;
	struct timespec t0, now, nap = {0, 100 * 1000000L};
	const char *enr = NULL, *start = "2017-01-01";
	double duration = 30, speed = 12, elapsed = 0;
	long hour = 0, target;
	int64_t start_t;
	unsigned i;
	FILE *f;
	int c, rc = 0;

	memset(&l, 0, sizeof(l));
	l.seed = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (cli_conn_opt(&cc, c, optarg))
			continue;
		switch (c) {
		case 'e': enr = optarg; break;
		case 's': l.seed = strtoull(optarg, NULL, 10); break;
		case 'd': duration = atof(optarg); break;
		case 'v': speed = atof(optarg); break;
		case 'S': start = optarg; break;
		case 'h': return fputs(help, stdout), 0;
		default: return cli_usage(help);
		}
	}
	if (enr == NULL || optind != argc || duration <= 0 || speed <= 0)
		return cli_usage(help);
	if (time_parse(start, &start_t) != 0)
		return cli_failx("carnet-device", "--start: want a date");
	l.err = &err;
	if ((f = fopen(enr, "r")) == NULL)
		return cli_failx("carnet-device", "cannot open %s", enr);
	rc = csv_read(f, load_row, &l, &err);
	fclose(f);
	if (rc != 0)
		return cli_fail("carnet-device", &err);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	cli_connect(&cc, "carnet-device");
	memset(&st, 0, sizeof(st));
	st.err = &err;
	st.obs = schema_by_name("observation", 11);
	st.ctx = schema_by_name("context", 7);
	msgpack_sbuffer_init(&st.one);
	if (holder_batch_new(cc.c, &st.hb) != 0)
		return cli_failx("carnet-device", "out of memory");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (rc == 0 && !stop && elapsed < duration) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		elapsed = (double)(now.tv_sec - t0.tv_sec) +
		    (double)(now.tv_nsec - t0.tv_nsec) / 1e9;
		target = (long)(fmin(elapsed, duration) * speed);
		for (; rc == 0 && hour < target; hour++)
			for (i = 0; rc == 0 && i < l.n; i++)
				rc = hour_of(&st, &l.people[i], hour, start_t);
		/* Live: what happened this tick is sent now. */
		if (rc == 0)
			rc = holder_batch_flush(st.hb, &err);
		if (rc == 0 && elapsed < duration)
			nanosleep(&nap, NULL);
	}
	printf("carnet-device: %lu readings for %u people over %ld simulated "
	    "hours: %llu stored, %llu already stored\n", st.n, l.n, hour,
	    st.hb->stored, st.hb->dup);
	msgpack_sbuffer_destroy(&st.one);
	holder_batch_destroy(&st.hb);
	free(l.people);
	cli_disconnect(&cc);
	return rc ? cli_fail("carnet-device", &err) : 0;
}
