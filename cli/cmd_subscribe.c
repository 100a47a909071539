/*
 * cmd_subscribe.c: carnet subscribe: an app receiving records.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../client/feed.h"
#include "../client/kept.h"
#include "../common/limits.h"
#include "../common/mpk.h"
#include "../schemas/recjson.h"
#include "cmds.h"

static const char subscribe_help[] =
"usage: carnet subscribe [--users ID1,ID2] [--confirm-erase] [--max N]\n"
"                        [--idle-exit SECONDS] [connection options]\n"
"\n"
"Receive, as the app whose key you give, the records people consented to,\n"
"one JSON object per line on standard output:\n"
"  {\"seq\": 12, \"token\": \"<consent id>\", \"user\": \"<id>\", \"holder\": \"<id>\",\n"
"   \"type\": \"claim\", \"ref\": \"...\", \"time\": \"...\", <the allowed fields>}\n"
"Only the fields the person's consent lists are present.  Each record is\n"
"acknowledged after it is printed; what was not acknowledged is sent again\n"
"at the next subscribe.  When a consent ends (revoked or expired) a line\n"
"saying so, and what to erase, goes to standard error; the broker says it\n"
"again at each subscribe until the app confirms the erasure.  Ended\n"
"consents are kept in KEYFILE.ended: records under them are refused from\n"
"then on, even from a broker put back to an older copy of its store (the\n"
"count is said on standard error).\n"
"\n"
"  --users ID1,ID2      ask only for these people's records (1000 at most,\n"
"                       as the broker takes in one SUB); each one who\n"
"                       has given this app no live consent is a refused\n"
"                       attempt, written to their log (refused with\n"
"                       no_consent when none has)\n"
"  --confirm-erase      when a consent ends, confirm to the broker that what\n"
"                       it gave was erased (the caller does erase it: the\n"
"                       person sees the confirmation in their log)\n"
"  --max N              stop after N records\n"
"  --idle-exit SECONDS  stop when nothing came for SECONDS (default: run\n"
"                       until interrupted)\n"
"\n" CLI_CONN_HELP;

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void
print_record(const struct feed_event *ev)
{
	char tid[TOKID_STR_LEN + 1];
	json_t *line, *rec = recjson_from_record(&ev->rec);

	if (rec == NULL)
		return;
	tokid_encode(ev->token, tid);
	line = json_pack("{s:I, s:s}", "seq", (json_int_t)ev->seq, "token", tid);
	json_object_update(line, rec);
	cli_print_json(line);
	json_decref(line);
	json_decref(rec);
}

static void
print_ended(const struct feed_event *ev)
{
	char tid[TOKID_STR_LEN + 1], uid[ID_STR_LEN + 1];

	tokid_encode(ev->token, tid);
	id_encode(ev->user, uid);
	fprintf(stderr, "carnet subscribe: consent %s of user %s %s: erase "
	    "the data it gave you (%s, records up to %llu)\n", tid, uid,
	    ev->reason, ev->erase_types,
	    (unsigned long long)ev->erase_through);
}

int
cmd_subscribe(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_CONN_OPTIONS,
		{"max", required_argument, NULL, 'm'},
		{"idle-exit", required_argument, NULL, 'i'},
		{"users", required_argument, NULL, 'u'},
		{"confirm-erase", no_argument, NULL, 'e'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct cli_conn cc = {0};
	struct cerr err = {0};
	struct app_feed *f = NULL;
	uint8_t (*users)[ID_BYTES] = NULL;
	char *items[SUB_MAX_USERS];
	int nusers = 0, k;
	bool confirm = false;
	struct feed_event ev;
	struct sigaction sa;
	uint64_t max = 0, got, refused;
	char path[4096];
	long idle_s = 0;
	time_t last_msg;
	char *end;
	int c, rc;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (cli_conn_opt(&cc, c, optarg))
			continue;
		switch (c) {
		case 'm':
			max = strtoull(optarg, &end, 10);
			if (*end != '\0' || max == 0)
				return cli_failx("subscribe", "--max wants a "
				    "positive count");
			break;
		case 'i':
			idle_s = strtol(optarg, &end, 10);
			if (*end != '\0' || idle_s <= 0)
				return cli_failx("subscribe", "--idle-exit wants "
				    "a positive number of seconds");
			break;
		case 'u':
			if ((nusers = cli_split(optarg, items,
			    SUB_MAX_USERS)) <= 0)
				return cli_failx("subscribe", "--users: 1 to %d "
				    "ids", SUB_MAX_USERS);
			free(users);
			if ((users = calloc((size_t)nusers, ID_BYTES)) == NULL)
				return cli_failx("subscribe", "out of memory");
			for (k = 0; k < nusers; k++)
				if (id_decode(items[k], users[k]) != 0) {
					free(users);
					return cli_failx("subscribe", "--users: "
					    "'%.60s' is not a carnet id",
					    items[k]);
				}
			break;
		case 'e':
			confirm = true;
			break;
		case 'h':
			free(users);
			return fputs(subscribe_help, stdout), 0;
		default:
			free(users);
			return cli_usage(subscribe_help);
		}
	}
	if (optind != argc) {
		free(users);
		return cli_usage(subscribe_help);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	cli_connect(&cc, "subscribe");
	rc = app_feed_open_users(cc.c, max, (const uint8_t (*)[ID_BYTES])users,
	    (unsigned)nusers, &f, &err);
	free(users);
	if (rc == 0) {
		/* consents told ended stay ended, across runs */
		kept_file(&cc, "ended", path, sizeof(path));
		rc = app_feed_keep_ended(f, path, &err);
	}
	if (rc != 0) {
		app_feed_close(&f);
		cli_disconnect(&cc);
		return cli_fail("subscribe", &err);
	}
	last_msg = time(NULL);
	while (!stop && (max == 0 || app_feed_count(f) < max)) {
		rc = app_feed_next(f, 1000, &ev, &err);
		if (rc == CARNET_E_TIMEOUT) {
			rc = 0;
			if (idle_s > 0 && time(NULL) - last_msg >= idle_s)
				break;
			continue;
		}
		if (rc != 0)
			break;
		last_msg = time(NULL);
		if (ev.kind == FEED_REVOKED) {
			print_ended(&ev);
			if (confirm && (rc = app_feed_erased(f, &ev, &err)) != 0)
				break;
			continue;
		}
		print_record(&ev);
		/* Printed, then acked: a crash in between means a resend. */
		fflush(stdout);
		if ((rc = app_feed_ack(f, &ev, &err)) != 0)
			break;
	}
	got = app_feed_count(f);
	refused = app_feed_refused(f);
	app_feed_close(&f);
	cli_disconnect(&cc);
	if (refused > 0)
		fprintf(stderr, "carnet subscribe: WARNING: refused %llu records "
		    "under consents the broker had said were ended (its store "
		    "may have been put back to an older copy)\n",
		    (unsigned long long)refused);
	if (rc != 0)
		return cli_fail("subscribe", &err);
	fprintf(stderr, "carnet subscribe: %llu records received\n",
	    (unsigned long long)got);
	return 0;
}
