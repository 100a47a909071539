/*
 * nats.c: the peer a user might pick instead, NATS (Debian's nats-server
 * and its C client, libnats), in the same layout and with the same
 * 300-byte records.
 *
 *   core: publishers publish each record and flush (a server round trip)
 *         after each batch, as a holder waits for its ACK; every
 *         subscriber gets every record.  No storage, no acks.
 *   js:   JetStream, file storage: publishers publish asynchronously with
 *         at most a batch of acks outstanding and wait for them all; each
 *         subscriber is its own consumer (deliver all, ack-all every 64
 *         records, at most 1000 unacked, as carnet's credit window).
 */
#include <stdlib.h>
#include <string.h>

#include <nats/nats.h>

#include "bench.h"

#define SUBJECT "bench.claims"

static natsConnection *
nats_connect(int argc, char **argv)
{
	natsConnection *nc = NULL;
	natsStatus s = natsConnection_ConnectTo(&nc,
	    kv_get(argc, argv, "url", "nats://127.0.0.1:4222"));

	if (s != NATS_OK) {
		fprintf(stderr, "bench: nats: %s\n", natsStatus_GetText(s));
		return NULL;
	}
	return nc;
}

static bool
is_js(int argc, char **argv)
{
	return strcmp(kv_get(argc, argv, "mode", "core"), "js") == 0;
}

int
nats_producer(int argc, char **argv)
{
	uint64_t n = (uint64_t)kv_num(argc, argv, "n", 100000), i;
	unsigned batch = (unsigned)kv_num(argc, argv, "batch", 500);
	natsConnection *nc = nats_connect(argc, argv);
	jsCtx *js = NULL;
	jsOptions jo;
	uint8_t rec[BENCH_RECORD_BYTES];
	struct pace pc;
	natsStatus s = NATS_OK;
	int64_t t0, stamp = 0;

	if (nc == NULL)
		return 1;
	memset(rec, 'x', sizeof(rec));
	if (is_js(argc, argv)) {
		jsOptions_Init(&jo);
		jo.PublishAsync.MaxPending = batch;
		/* with sync_interval always a full window of acks can take
		 * longer than the 200 ms the library waits by default */
		jo.PublishAsync.StallWait = 30000;
		if ((s = natsConnection_JetStream(&js, nc, &jo)) != NATS_OK)
			goto fail;
	}
	ready_and_wait();
	pace_init(&pc, kv_num(argc, argv, "rate", 0), batch);
	t0 = mono_ns();
	for (i = 0; i < n && s == NATS_OK; i++) {
		if (i % batch == 0)
			stamp = pace_next(&pc);
		memcpy(rec, &stamp, sizeof(stamp));
		s = js ? js_PublishAsync(js, SUBJECT, rec, sizeof(rec), NULL) :
		    natsConnection_Publish(nc, SUBJECT, rec, sizeof(rec));
		if (s == NATS_OK && !js && (i + 1) % batch == 0)
			s = natsConnection_Flush(nc);
	}
	if (s == NATS_OK)
		s = js ? js_PublishAsyncComplete(js, NULL) :
		    natsConnection_Flush(nc);
	if (s != NATS_OK)
		goto fail;
	printf("RESULT n=%llu first=%lld last=%lld\n", (unsigned long long)n,
	    (long long)t0, (long long)mono_ns());
	fflush(stdout);
	jsCtx_Destroy(js);
	natsConnection_Destroy(nc);
	return 0;
fail:
	fprintf(stderr, "bench: nats publish: %s\n", natsStatus_GetText(s));
	return 1;
}

int
nats_consumer(int argc, char **argv)
{
	struct hist *lat = kv_num(argc, argv, "lat", 0) ?
	    calloc(1, sizeof(*lat)) : NULL;
	struct tally t = {.want = (uint64_t)kv_num(argc, argv, "n", 0),
	    .lat = lat};
	natsConnection *nc = nats_connect(argc, argv);
	natsSubscription *sub = NULL;
	jsCtx *js = NULL;
	jsSubOptions so;
	jsErrCode jerr = 0;
	natsStatus s;
	int64_t dropped = 0, idle = kv_num(argc, argv, "idle", BENCH_IDLE_MS);
	char extra[48];

	if (nc == NULL)
		return 1;
	if (is_js(argc, argv)) {
		jsSubOptions_Init(&so);
		so.ManualAck = true;
		so.Config.AckPolicy = js_AckAll;
		so.Config.DeliverPolicy = js_DeliverAll;
		so.Config.MaxAckPending = 1000;
		s = natsConnection_JetStream(&js, nc, NULL);
		if (s == NATS_OK)
			s = js_SubscribeSync(&sub, js, SUBJECT, NULL, &so, &jerr);
	} else {
		s = natsConnection_SubscribeSync(&sub, nc, SUBJECT);
	}
	if (s == NATS_OK)
		s = natsSubscription_SetPendingLimits(sub, 10000000,
		    2000000000);
	if (s == NATS_OK)
		s = natsConnection_Flush(nc);
	if (s != NATS_OK) {
		fprintf(stderr, "bench: nats subscribe: %s (%d)\n",
		    natsStatus_GetText(s), (int)jerr);
		return 1;
	}
	ready_and_wait();
	while (t.n < t.want) {
		natsMsg *m = NULL;
		int64_t stamp = 0;

		if (natsSubscription_NextMsg(&m, sub, idle) != NATS_OK)
			break;
		if (natsMsg_GetDataLength(m) >= (int)sizeof(stamp))
			memcpy(&stamp, natsMsg_GetData(m), sizeof(stamp));
		tally_add(&t, stamp, 1);
		if (js != NULL && (t.n % 64 == 0 || t.n == t.want))
			natsMsg_Ack(m, NULL);
		natsMsg_Destroy(m);
	}
	natsSubscription_GetDropped(sub, &dropped);
	snprintf(extra, sizeof(extra), "dropped=%lld", (long long)dropped);
	tally_report(&t, extra);
	natsSubscription_Destroy(sub);
	jsCtx_Destroy(js);
	natsConnection_Destroy(nc);
	free(lat);
	return 0;
}
