/*
 * cmd_subscribe.c: carnet subscribe (an app receiving records) and carnet
 * request (an app asking a person for consent).
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/limits.h"
#include "../common/mpk.h"
#include "../schemas/recjson.h"
#include "cli.h"

#define KEEPALIVE_S 20
#define ACKS_MAX 256

static const char subscribe_help[] =
"usage: carnet subscribe [--max N] [--idle-exit SECONDS] [connection options]\n"
"\n"
"Receive, as the app whose key you give, the records people consented to,\n"
"one JSON object per line on standard output:\n"
"  {\"seq\": 12, \"token\": \"<consent id>\", \"user\": \"<id>\", \"holder\": \"<id>\",\n"
"   \"type\": \"claim\", \"ref\": \"...\", \"time\": \"...\", <the allowed fields>}\n"
"Only the fields the person's consent lists are present.  Each record is\n"
"acknowledged after it is printed; what was not acknowledged is sent again\n"
"at the next subscribe.  When a consent ends (revoked or expired) a line\n"
"saying so goes to standard error.\n"
"\n"
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

struct ackset {
	uint8_t tok[ACKS_MAX][TOKID_BYTES];
	uint64_t seq[ACKS_MAX];
	unsigned n;
};

static void
ack_note(struct ackset *a, const uint8_t *tok, uint64_t seq)
{
	unsigned i;

	for (i = 0; i < a->n; i++)
		if (memcmp(a->tok[i], tok, TOKID_BYTES) == 0) {
			if (seq > a->seq[i])
				a->seq[i] = seq;
			return;
		}
	if (a->n < ACKS_MAX) {
		memcpy(a->tok[a->n], tok, TOKID_BYTES);
		a->seq[a->n++] = seq;
	}
}

static int
send_credit(struct client *c, uint64_t n, struct cerr *err)
{
	msgpack_packer *pk = client_begin(c, 1);

	mpk_pack_cstr(pk, "n");
	msgpack_pack_uint64(pk, n);
	return client_send(c, "CREDIT", err);
}

static int
send_acks(struct client *c, struct ackset *a, struct cerr *err)
{
	msgpack_packer *pk;
	unsigned i;

	if (a->n == 0)
		return 0;
	pk = client_begin(c, 1);
	mpk_pack_cstr(pk, "acks");
	msgpack_pack_array(pk, a->n);
	for (i = 0; i < a->n; i++) {
		msgpack_pack_array(pk, 2);
		mpk_pack_binn(pk, a->tok[i], TOKID_BYTES);
		msgpack_pack_uint64(pk, a->seq[i]);
	}
	a->n = 0;
	return client_send(c, "ACK", err);
}

/* SUB, then credit for what we still want. */
static int
subscribe(struct cli_conn *cc, uint64_t want, struct cerr *err)
{
	msgpack_unpacked reply;
	int rc;

	client_begin(cc->c, 0);
	if ((rc = client_call(cc->c, "SUB", &reply, err)) != 0)
		return rc;
	msgpack_unpacked_destroy(&reply);
	return send_credit(cc->c, want, err);
}

/* One received record as a JSON line; 0 or an error (record refused). */
static int
print_record(const msgpack_object *o, uint8_t tok[TOKID_BYTES],
    uint64_t *seq, struct cerr *err)
{
	struct record r;
	json_t *line, *rec;
	char tid[TOKID_STR_LEN + 1];
	int rc;

	if (mpk_u64(mpk_get(o, "seq"), seq) != 0 ||
	    mpk_bin_n(mpk_get(o, "token"), tok, TOKID_BYTES) != 0)
		return cerr_set(err, CARNET_E_MALFORMED, "a record without seq");
	if ((rc = record_from_object_partial(mpk_get(o, "rec"), &r, err)) != 0)
		return rc;
	if ((rec = recjson_from_record(&r)) == NULL)
		return cerr_set(err, CARNET_E_NOMEM, "out of memory");
	tokid_encode(tok, tid);
	line = json_pack("{s:I, s:s}", "seq", (json_int_t)*seq, "token", tid);
	json_object_update(line, rec);
	cli_print_json(line);
	json_decref(line);
	json_decref(rec);
	return 0;
}

static void
print_revoked(const msgpack_object *o)
{
	uint8_t tok[TOKID_BYTES];
	char tid[TOKID_STR_LEN + 1], reason[32] = "ended";
	json_t *user = cli_json_id(mpk_get(o, "user"));

	if (mpk_bin_n(mpk_get(o, "token"), tok, TOKID_BYTES) != 0)
		memset(tok, 0, sizeof(tok));
	tokid_encode(tok, tid);
	if (mpk_cstr(mpk_get(o, "reason"), reason, sizeof(reason)) != 0)
		strcpy(reason, "ended");
	fprintf(stderr, "carnet subscribe: consent %s of user %s %s: erase "
	    "the data it gave you\n", tid,
	    json_is_string(user) ? json_string_value(user) : "?", reason);
	json_decref(user);
}

int
cmd_subscribe(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_CONN_OPTIONS,
		{"max", required_argument, NULL, 'm'},
		{"idle-exit", required_argument, NULL, 'i'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct cli_conn cc = {0};
	struct cerr err = {0};
	struct ackset acks;
	struct sigaction sa;
	uint64_t max = 0, got = 0, window;
	long idle_s = 0;
	time_t last_msg, last_sent;
	char *end;
	int c, rc = 0;

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
		case 'h':
			return fputs(subscribe_help, stdout), 0;
		default:
			return cli_usage(subscribe_help);
		}
	}
	if (optind != argc)
		return cli_usage(subscribe_help);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	cli_connect(&cc, "subscribe");
	/* Never let the broker send more than we will print. */
	window = max && max < CLIENT_CREDIT_WINDOW ? max : CLIENT_CREDIT_WINDOW;
	acks.n = 0;
	if ((rc = subscribe(&cc, window, &err)) != 0)
		goto out;
	last_msg = last_sent = time(NULL);
	while (!stop && (max == 0 || got < max)) {
		char cmd[16];
		msgpack_unpacked m;
		const msgpack_object *recs;
		uint32_t i, n = 0;

		if (client_reconnected(cc.c) && (rc = subscribe(&cc,
		    max ? (max - got < window ? max - got : window) : window,
		    &err)) != 0)
			break;
		rc = client_recv(cc.c, 1000, cmd, &m, &err);
		if (rc == CARNET_E_TIMEOUT) {
			rc = 0;
			if (idle_s > 0 && time(NULL) - last_msg >= idle_s)
				break;
			if (time(NULL) - last_sent >= KEEPALIVE_S) {
				if ((rc = send_credit(cc.c, 0, &err)) != 0)
					break;
				last_sent = time(NULL);
			}
			continue;
		}
		if (rc != 0)
			break;
		last_msg = time(NULL);
		if (strcmp(cmd, "REVOKED") == 0) {
			print_revoked(&m.data);
		} else if (strcmp(cmd, "ERR") == 0) {
			struct cerr e2 = {0};
			char msg[200] = "";

			mpk_cstr(mpk_get(&m.data, "message"), msg, sizeof(msg));
			cerr_set(&e2, CARNET_E_MALFORMED, "the broker says: %s",
			    msg);
			cli_fail("subscribe", &e2);
		} else if (strcmp(cmd, "REC") == 0 &&
		    (recs = mpk_get(&m.data, "recs")) != NULL &&
		    recs->type == MSGPACK_OBJECT_ARRAY) {
			for (i = 0; i < recs->via.array.size &&
			    (max == 0 || got < max); i++) {
				uint8_t tok[TOKID_BYTES];
				uint64_t seq;

				if (print_record(&recs->via.array.ptr[i], tok,
				    &seq, &err) != 0) {
					cli_fail("subscribe", &err);
					continue; /* not acked: resent later */
				}
				ack_note(&acks, tok, seq);
				got++;
				n++;
			}
			fflush(stdout);
			if ((rc = send_acks(cc.c, &acks, &err)) != 0 ||
			    (n > 0 && (max == 0 || got < max) &&
			    (rc = send_credit(cc.c, max && max - got < n ?
			    max - got : n, &err)) != 0))
				break;
			last_sent = time(NULL);
		}
		msgpack_unpacked_destroy(&m);
	}
out:
	cli_disconnect(&cc);
	if (rc != 0)
		return cli_fail("subscribe", &err);
	fprintf(stderr, "carnet subscribe: %llu records received\n",
	    (unsigned long long)got);
	return 0;
}

static const char request_help[] =
"usage: carnet request --user ID --types T1,T2 --purpose P [--note TEXT]\n"
"                      [connection options]\n"
"\n"
"As an app, ask a person for consent: they see your request, with your\n"
"owner, business model, the types you want and why, in carnet consent\n"
"requests (and in their log) before they decide.\n"
"\n" CLI_CONN_HELP;

int
cmd_request(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_CONN_OPTIONS,
		{"user", required_argument, NULL, 'u'},
		{"types", required_argument, NULL, 't'},
		{"purpose", required_argument, NULL, 'p'},
		{"note", required_argument, NULL, 'n'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct cli_conn cc = {0};
	const char *user = NULL, *purpose = NULL, *note = "";
	char *types = NULL, *items[TOKEN_MAX_TYPES];
	uint8_t uid[ID_BYTES];
	msgpack_packer *pk;
	msgpack_unpacked reply;
	int c, n, i;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (cli_conn_opt(&cc, c, optarg))
			continue;
		switch (c) {
		case 'u': user = optarg; break;
		case 't': types = optarg; break;
		case 'p': purpose = optarg; break;
		case 'n': note = optarg; break;
		case 'h': return fputs(request_help, stdout), 0;
		default: return cli_usage(request_help);
		}
	}
	if (user == NULL || types == NULL || purpose == NULL || optind != argc)
		return cli_usage(request_help);
	if (id_decode(user, uid) != 0)
		return cli_failx("request", "--user: not a carnet id");
	if ((n = cli_split(types, items, TOKEN_MAX_TYPES)) <= 0)
		return cli_failx("request", "--types: 1 to %d types",
		    TOKEN_MAX_TYPES);
	cli_connect(&cc, "request");
	pk = client_begin(cc.c, 4);
	mpk_pack_cstr(pk, "user");
	mpk_pack_binn(pk, uid, ID_BYTES);
	mpk_pack_cstr(pk, "types");
	msgpack_pack_array(pk, (size_t)n);
	for (i = 0; i < n; i++)
		mpk_pack_cstr(pk, items[i]);
	mpk_pack_cstr(pk, "purpose");
	mpk_pack_cstr(pk, purpose);
	mpk_pack_cstr(pk, "note");
	mpk_pack_cstr(pk, note);
	cli_call(&cc, "REQUEST", "request", &reply);
	msgpack_unpacked_destroy(&reply);
	cli_disconnect(&cc);
	printf("request sent to %s\n", user);
	return 0;
}
