/*
 * carnet.c: the carnet parts, through the real client library: holders
 * send claims in PUT batches (each ACKed after the broker's durable
 * commit); apps take them from a feed with credit and acks.
 *
 * A claim's ref carries the send stamp at a fixed width, so every record
 * is the same size (BENCH_RECORD_BYTES encoded) and a consumer reads its
 * latency from the record itself.  The stamp comes before the record's
 * number: a holder's refs grow from run to run as a real holder's ids
 * do, and the broker's dedup index takes them in order.  (Number first,
 * each run's refs fell between the last run's, one page of that index
 * written per record: the broker slowed run after run on one store.)
 */
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "../client/feed.h"
#include "../common/mpk.h"
#include "bench.h"

static int
load_key(const char *path, struct keypair *kp)
{
	struct cerr err = {0};

	if (path == NULL || key_read(path, kp, &err) != 0) {
		fprintf(stderr, "bench: key %s: %s\n", path ? path : "(none)",
		    cerr_msg(&err));
		return -1;
	}
	return 0;
}

static struct client *
connect_as(int argc, char **argv, const struct keypair *kp)
{
	const char *ep = kv_get(argc, argv, "ep", NULL);
	const char *bid = kv_get(argc, argv, "broker", NULL);
	uint8_t broker[ID_BYTES];
	struct client *c = NULL;
	struct cerr err = {0};

	if (ep == NULL || bid == NULL || id_decode(bid, broker) != 0 ||
	    client_new(ep, broker, kp, &c, &err) != 0 ||
	    client_wait_ready(c, 10000, &err) != 0) {
		fprintf(stderr, "bench: cannot connect: %s\n", cerr_msg(&err));
		client_destroy(&c);
		return NULL;
	}
	client_set_timeout(c, 60000);
	return c;
}

/* Users' public keys, 32 bytes each, from a file. */
static uint8_t *
load_users(const char *path, size_t *n)
{
	FILE *f = path ? fopen(path, "rb") : NULL;
	uint8_t *u = NULL;
	long sz;

	*n = 0;
	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (sz = ftell(f)) <= 0 ||
	    fseek(f, 0, SEEK_SET) != 0 || (u = malloc((size_t)sz)) == NULL ||
	    fread(u, 1, (size_t)sz, f) != (size_t)sz) {
		free(u);
		u = NULL;
	} else {
		*n = (size_t)sz / ID_BYTES;
	}
	if (f)
		fclose(f);
	return u;
}

#define REF_FMT "%02u-%019lld-%010llu" /* holder, stamp, number */

/* One claim of BENCH_RECORD_BYTES, the label padding it to size. */
static void
claim_encode(msgpack_sbuffer *sb, unsigned holder, uint64_t i,
    int64_t stamp, const uint8_t user[ID_BYTES], size_t label_len)
{
	static const char pad[] = "Consultation generaliste, cabinet de ville, "
	    "secteur 1, tiers payant, parcours de soins coordonnes, medecin "
	    "traitant declare, feuille de soins electronique, teletransmise "
	    "par carte Vitale le jour meme";
	msgpack_packer pk;
	char ref[48];

	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	snprintf(ref, sizeof(ref), REF_FMT, holder, (long long)stamp,
	    (unsigned long long)i);
	msgpack_pack_map(&pk, 6);
	mpk_pack_cstr(&pk, "ref");
	mpk_pack_cstr(&pk, ref);
	mpk_pack_cstr(&pk, "user");
	mpk_pack_binn(&pk, user, ID_BYTES);
	mpk_pack_cstr(&pk, "type");
	mpk_pack_cstr(&pk, "claim");
	mpk_pack_cstr(&pk, "v");
	msgpack_pack_uint32(&pk, 1);
	mpk_pack_cstr(&pk, "time");
	msgpack_pack_int64(&pk, 1700000000 + (int64_t)(i % 1000000));
	mpk_pack_cstr(&pk, "body");
	msgpack_pack_map(&pk, 7);
	mpk_pack_cstr(&pk, "act_code");
	mpk_pack_cstr(&pk, "C");
	mpk_pack_cstr(&pk, "label");
	msgpack_pack_str(&pk, label_len);
	msgpack_pack_str_body(&pk, pad, label_len);
	mpk_pack_cstr(&pk, "amount_eur");
	msgpack_pack_double(&pk, 26.5);
	mpk_pack_cstr(&pk, "reimbursed_eur");
	msgpack_pack_double(&pk, 18.55);
	mpk_pack_cstr(&pk, "practitioner");
	mpk_pack_cstr(&pk, "generaliste");
	mpk_pack_cstr(&pk, "provider");
	mpk_pack_cstr(&pk, "Dr Martin, 75011 Paris");
	mpk_pack_cstr(&pk, "care_kind");
	mpk_pack_cstr(&pk, "consultation");
}

/* The label length that makes a claim BENCH_RECORD_BYTES long. */
static size_t
claim_label_len(void)
{
	msgpack_sbuffer sb;
	uint8_t user[ID_BYTES] = {0};
	size_t base;

	msgpack_sbuffer_init(&sb);
	claim_encode(&sb, 0, 0, 0, user, 40);
	base = sb.size - 40;
	msgpack_sbuffer_destroy(&sb);
	/* str8 header up to 255 bytes: 2 bytes, already counted at 40 */
	return BENCH_RECORD_BYTES - base;
}

int
carnet_holder(int argc, char **argv)
{
	uint64_t n = (uint64_t)kv_num(argc, argv, "n", 100000), i;
	unsigned batch = (unsigned)kv_num(argc, argv, "batch", 500);
	unsigned hid = (unsigned)kv_num(argc, argv, "id", 0);
	size_t nusers, label = claim_label_len();
	uint8_t *users = load_users(kv_get(argc, argv, "users", NULL), &nusers);
	struct keypair kp;
	struct client *c;
	struct holder_batch *hb;
	struct cerr err = {0};
	msgpack_sbuffer sb;
	struct pace pc;
	int64_t t0, stamp = 0;

	if (users == NULL || nusers == 0 ||
	    load_key(kv_get(argc, argv, "key", NULL), &kp) != 0 ||
	    (c = connect_as(argc, argv, &kp)) == NULL ||
	    holder_batch_new(c, &hb) != 0)
		return 1;
	msgpack_sbuffer_init(&sb);
	ready_and_wait();
	pace_init(&pc, kv_num(argc, argv, "rate", 0), batch);
	t0 = mono_ns();
	for (i = 0; i < n; i++) {
		if (i % batch == 0)
			stamp = pace_next(&pc);
		msgpack_sbuffer_clear(&sb);
		claim_encode(&sb, hid, i, stamp, users + ID_BYTES * (i % nusers),
		    label);
		if (holder_batch_add(hb, sb.data, sb.size, &err) != 0 ||
		    ((i + 1) % batch == 0 && holder_batch_send(hb, &err) != 0))
			goto fail;
	}
	if (holder_batch_flush(hb, &err) != 0)
		goto fail;
	printf("RESULT n=%llu first=%lld last=%lld stored=%llu dup=%llu "
	    "bytes=%zu\n", (unsigned long long)n, (long long)t0,
	    (long long)mono_ns(), hb->stored, hb->dup, sb.size);
	fflush(stdout);
	msgpack_sbuffer_destroy(&sb);
	holder_batch_destroy(&hb);
	client_destroy(&c);
	free(users);
	return 0;
fail:
	fprintf(stderr, "bench: holder %u: %s\n", hid, cerr_msg(&err));
	return 1;
}

/* The stamp in a record's ref. */
static int64_t
ref_stamp(const char *ref)
{
	const char *dash = strchr(ref, '-');

	return dash ? strtoll(dash + 1, NULL, 10) : 0;
}

#define REVOKED_MAX 64

/* An app that never gives credit: what queues for it stays in LMDB. */
static int
stalled_app(struct client *c)
{
	msgpack_unpacked reply;
	struct cerr err = {0};
	client_begin(c, 0);
	if (client_call(c, "SUB", &reply, &err) != 0) {
		fprintf(stderr, "bench: SUB: %s\n", cerr_msg(&err));
		return 1;
	}
	msgpack_unpacked_destroy(&reply);
	ready_and_wait();
	/* CREDIT 0 keeps the session alive until stdin says stop */
	for (;;) {
		struct pollfd in = {.fd = 0, .events = POLLIN};
		msgpack_packer *pk;

		if (poll(&in, 1, 5000) != 0)
			break;
		pk = client_begin(c, 1);
		mpk_pack_cstr(pk, "n");
		msgpack_pack_uint64(pk, 0);
		if (client_send(c, "CREDIT", &err) != 0)
			break;
	}
	printf("RESULT n=0\n");
	fflush(stdout);
	client_destroy(&c);
	return 0;
}

int
carnet_app(int argc, char **argv)
{
	struct hist *lat = kv_num(argc, argv, "lat", 0) ?
	    calloc(1, sizeof(*lat)) : NULL;
	struct tally t = {.want = (uint64_t)kv_num(argc, argv, "n", 0),
	    .lat = lat};
	uint8_t revoked[REVOKED_MAX][TOKID_BYTES];
	unsigned nrevoked = 0, k;
	int idle = (int)kv_num(argc, argv, "idle", BENCH_IDLE_MS);
	uint64_t late = 0;
	struct keypair kp;
	struct client *c;
	struct app_feed *f;
	struct feed_event ev;
	struct cerr err = {0};
	char extra[64];

	if (load_key(kv_get(argc, argv, "key", NULL), &kp) != 0 ||
	    (c = connect_as(argc, argv, &kp)) == NULL)
		return 1;
	if (kv_num(argc, argv, "stall", 0))
		return stalled_app(c);
	if (app_feed_open(c, 0, &f, &err) != 0) {
		fprintf(stderr, "bench: app: %s\n", cerr_msg(&err));
		return 1;
	}
	ready_and_wait();
	while (t.n < t.want) {
		int rc = app_feed_next(f, idle, &ev, &err);

		if (rc == CARNET_E_TIMEOUT)
			break;
		if (rc != 0) {
			fprintf(stderr, "bench: app: %s\n", cerr_msg(&err));
			continue;
		}
		if (ev.kind == FEED_REVOKED) {
			if (nrevoked < REVOKED_MAX)
				memcpy(revoked[nrevoked++], ev.token,
				    TOKID_BYTES);
			continue;
		}
		/* after REVOKED, nothing more may come under that token */
		for (k = 0; k < nrevoked; k++)
			if (memcmp(revoked[k], ev.token, TOKID_BYTES) == 0)
				late++;
		tally_add(&t, ref_stamp(ev.rec.ref), 1);
		if (app_feed_ack(f, &ev, &err) != 0)
			break;
	}
	snprintf(extra, sizeof(extra), "revoked=%u late=%llu", nrevoked,
	    (unsigned long long)late);
	tally_report(&t, extra);
	app_feed_close(&f);
	client_destroy(&c);
	free(lat);
	return 0;
}
