/*
 * main.c: carnet-bench, what carnet costs on top of its transport and how
 * it compares with NATS, each figure next to a baseline measured in the
 * same run (make bench; make bench QUICK=1 for a reduced run).
 *
 *   carnet-bench [--quick] [--out DIR] [--carnetd PATH] [--only LIST]
 *
 * Prints a table, writes DIR/RESULTS.md and DIR/results.json, and ends with
 * "ratio_vs_raw_zmq: X".  The other forms (carnet-bench ROLE k=v ...) are
 * the child processes it starts.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "bench.h"
#include "report.h"
#include "scenarios.h"

static const struct {
	const char *name;
	int (*fn)(int, char **);
} roles[] = {
	{"raw-fwd", raw_forwarder},
	{"raw-prod", raw_producer},
	{"raw-cons", raw_consumer},
	{"c-holder", carnet_holder},
	{"c-app", carnet_app},
	{"c-idle", carnet_idle},
	{"nats-pub", nats_producer},
	{"nats-sub", nats_consumer},
};

static void
usage(FILE *f)
{
	fprintf(f,
"usage: carnet-bench [--quick] [--out DIR] [--carnetd PATH] [--only LIST]\n"
"\n"
"Measures carnet end to end against a raw 3-hop ZeroMQ path (the limit of\n"
"its transport) and against NATS core and JetStream, in the same process\n"
"layout with 300-byte records, and reports every figure with its ratio to\n"
"the baseline of the same run.\n"
"\n"
"  --quick         a reduced run, under a minute (make bench QUICK=1)\n"
"  --out DIR       where RESULTS.md and results.json go (default bench)\n"
"  --carnetd PATH  the broker to measure (default: carnetd beside this\n"
"                  program; make bench builds one with the benchmark\n"
"                  switches, CARNET_BENCH)\n"
"  --only LIST     comma-separated sections: throughput, latency,\n"
"                  revocation, memory, scale, fhir, consents,\n"
"                  connections (default: all)\n"
"  -h, --help      this help\n"
"\n"
"Sections:\n"
"  throughput  raw ZeroMQ; carnet with everything on, then CURVE off, then\n"
"              fsync off, then the use log off (one guarantee at a time);\n"
"              NATS core; NATS JetStream (file storage, acked publishes),\n"
"              with the server's default sync and with sync_interval always\n"
"              (each JetStream row names its nats-server); the bytes carnetd\n"
"              wrote to disk per record stored, beside the record's size\n"
"  latency     holder -> app p50/p99/p99.9 at half of each system's maximum\n"
"              (carnet, raw ZeroMQ, NATS core, both JetStreams)\n"
"  revocation  REVOKE round trips under load, and records delivered under a\n"
"              token after its revocation (must be 0), from the app and\n"
"              from the person's log\n"
"  memory      broker RSS while records queue for an app that gives no credit\n"
"  scale       1..1000 users x 1..16 apps (100 and 1000 x 1 and 16 with\n"
"              --quick), and with 1 M records stored\n"
"  fhir        carnet import fhir's mapping of a 10 000-resource Bundle,\n"
"              records/s, beside parsing the same text\n"
"  consents    100 .. 1 000 000 people consenting while records flow for\n"
"              100: deliveries/s, p99, broker RSS with 16 apps subscribed,\n"
"              SUB, party import rate; each size in a 1 GiB memory cgroup\n"
"              (as root), medians of 3 runs (1 with --quick)\n"
"  connections 2 000 (quick) or 10 000 idle CurveZMQ connections beside a\n"
"              few active ones: the active runs alone, with them, alone\n"
"              again, medians of 3 runs each (1 with --quick)\n"
"\n"
"Environment:\n"
"  CARNET_BENCH_CONSENTS=100,1000000  the consents section's sizes (the\n"
"              first is the baseline)\n"
"  CARNET_BENCH_KEEP=1  keep each deployment's directory (store, broker\n"
"              log) under /tmp/carnet-bench-* to look at after the run\n"
"  CARNET_BENCH_BROKER_WRAP='valgrind --tool=callgrind ...'  run each\n"
"              broker under these words (instruction counts, PROFILE.md)\n"
"\n"
"Needs nats-server on PATH for the NATS rows (make bench puts the 2.10\n"
"series from Debian 13 first on PATH: make nats-server, build/nats-server/);\n"
"without it those rows say 'not run'.\n");
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"quick", no_argument, NULL, 'q'},
		{"out", required_argument, NULL, 'o'},
		{"carnetd", required_argument, NULL, 'c'},
		{"only", required_argument, NULL, 's'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct bench_opts o = {.out = "bench"};
	char self[512], dflt[600];
	size_t i;
	ssize_t len;
	int c;

	if (argc > 1)
		for (i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
			if (strcmp(argv[1], roles[i].name) == 0) {
				if (sodium_init() < 0)
					return 1;
				return roles[i].fn(argc - 2, argv + 2);
			}
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'q':
			o.quick = true;
			break;
		case 'o':
			o.out = optarg;
			break;
		case 'c':
			o.carnetd = optarg;
			break;
		case 's':
			o.only = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (sodium_init() < 0)
		return 1;
	if (o.carnetd == NULL) {
		if ((len = readlink("/proc/self/exe", self, sizeof(self) - 1)) <
		    0)
			return 1;
		self[len] = '\0';
		*strrchr(self, '/') = '\0';
		snprintf(dflt, sizeof(dflt), "%s/carnetd", self);
		o.carnetd = dflt;
	}
	if (access(o.carnetd, X_OK) != 0) {
		fprintf(stderr, "carnet-bench: no broker at %s (--carnetd)\n",
		    o.carnetd);
		return 2;
	}
	return bench_all(&o);
}
