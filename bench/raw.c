/*
 * raw.c: the baseline, a raw 3-hop ZeroMQ path with carnet's shape and
 * nothing else: producers (DEALER) send batches of 300-byte records and
 * wait for an ACK, as holders do; a forwarding ROUTER copies each batch to
 * every subscribed consumer, then acks; consumers (DEALER) count, and ack
 * each batch back, as apps do.  No storage, no checks, no crypto: the
 * physical limit of our transport on this machine.
 */
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zmq.h>

#include "bench.h"

#define RAW_MAX_CONSUMERS 64

static void *
raw_socket(void *ctx, int type)
{
	void *s = zmq_socket(ctx, type);
	int hwm = 100000, linger = 0;

	if (s == NULL) {
		fprintf(stderr, "raw: %s\n", zmq_strerror(zmq_errno()));
		exit(1);
	}
	zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof(hwm));
	zmq_setsockopt(s, ZMQ_RCVHWM, &hwm, sizeof(hwm));
	zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof(linger));
	return s;
}

int
raw_forwarder(int argc, char **argv)
{
	const char *ep = kv_get(argc, argv, "ep", NULL);
	void *ctx = zmq_ctx_new(), *r = raw_socket(ctx, ZMQ_ROUTER);
	struct { uint8_t id[256]; size_t len; } cons[RAW_MAX_CONSUMERS];
	int ncons = 0, one = 1, i;
	uint64_t batches = 0;

	zmq_setsockopt(r, ZMQ_ROUTER_MANDATORY, &one, sizeof(one));
	if (ep == NULL || zmq_bind(r, ep) != 0) {
		fprintf(stderr, "raw forwarder: cannot bind %s\n", ep ? ep : "");
		return 1;
	}
	printf("READY\n");
	fflush(stdout);
	for (;;) {
		zmq_pollitem_t items[2] = {
			{r, 0, ZMQ_POLLIN, 0}, {NULL, 0, ZMQ_POLLIN, 0},
		};
		zmq_msg_t id, body;

		if (zmq_poll(items, 2, -1) < 0)
			continue;
		if (items[1].revents)
			break; /* stdin closed or written: stop */
		zmq_msg_init(&id);
		zmq_msg_init(&body);
		if (zmq_msg_recv(&id, r, 0) < 0 || zmq_msg_recv(&body, r, 0) < 0)
			continue;
		if (zmq_msg_size(&body) == 3 &&
		    memcmp(zmq_msg_data(&body), "SUB", 3) == 0) {
			if (ncons < RAW_MAX_CONSUMERS &&
			    zmq_msg_size(&id) <= sizeof(cons[0].id)) {
				memcpy(cons[ncons].id, zmq_msg_data(&id),
				    zmq_msg_size(&id));
				cons[ncons++].len = zmq_msg_size(&id);
			}
			zmq_send(r, zmq_msg_data(&id), zmq_msg_size(&id),
			    ZMQ_SNDMORE);
			zmq_send(r, "OK", 2, 0);
		} else if (zmq_msg_size(&body) > 3) {
			/* a batch: to every consumer, then the ACK */
			for (i = 0; i < ncons; i++) {
				zmq_msg_t copy;

				zmq_msg_init(&copy);
				zmq_msg_copy(&copy, &body);
				zmq_send(r, cons[i].id, cons[i].len, ZMQ_SNDMORE);
				if (zmq_msg_send(&copy, r, 0) < 0)
					zmq_msg_close(&copy);
			}
			zmq_send(r, zmq_msg_data(&id), zmq_msg_size(&id),
			    ZMQ_SNDMORE);
			zmq_send(r, "ACK", 3, 0);
			batches++;
		} /* else a consumer's ACK: nothing to do */
		zmq_msg_close(&id);
		zmq_msg_close(&body);
	}
	printf("RESULT batches=%llu\n", (unsigned long long)batches);
	fflush(stdout);
	zmq_close(r);
	zmq_ctx_term(ctx);
	return 0;
}

int
raw_producer(int argc, char **argv)
{
	const char *ep = kv_get(argc, argv, "ep", NULL);
	uint64_t n = (uint64_t)kv_num(argc, argv, "n", 100000), sent = 0;
	unsigned batch = (unsigned)kv_num(argc, argv, "batch", 500);
	void *ctx = zmq_ctx_new(), *d = raw_socket(ctx, ZMQ_DEALER);
	uint8_t *buf = calloc(batch, BENCH_RECORD_BYTES);
	struct pace pc;
	int64_t t0;
	unsigned i;

	if (ep == NULL || buf == NULL || zmq_connect(d, ep) != 0)
		return 1;
	memset(buf, 'x', (size_t)batch * BENCH_RECORD_BYTES);
	ready_and_wait();
	pace_init(&pc, kv_num(argc, argv, "rate", 0), batch);
	t0 = mono_ns();
	while (sent < n) {
		unsigned k = n - sent < batch ? (unsigned)(n - sent) : batch;
		int64_t stamp = pace_next(&pc);
		char ack[8];

		for (i = 0; i < k; i++)
			memcpy(buf + (size_t)i * BENCH_RECORD_BYTES, &stamp,
			    sizeof(stamp));
		if (zmq_send(d, buf, (size_t)k * BENCH_RECORD_BYTES, 0) < 0 ||
		    zmq_recv(d, ack, sizeof(ack), 0) < 0)
			return 1;
		sent += k;
	}
	printf("RESULT n=%llu first=%lld last=%lld\n", (unsigned long long)sent,
	    (long long)t0, (long long)mono_ns());
	fflush(stdout);
	free(buf);
	zmq_close(d);
	zmq_ctx_term(ctx);
	return 0;
}

int
raw_consumer(int argc, char **argv)
{
	const char *ep = kv_get(argc, argv, "ep", NULL);
	void *ctx = zmq_ctx_new(), *d = raw_socket(ctx, ZMQ_DEALER);
	struct hist *lat = kv_num(argc, argv, "lat", 0) ?
	    calloc(1, sizeof(*lat)) : NULL;
	struct tally t = {.want = (uint64_t)kv_num(argc, argv, "n", 0),
	    .lat = lat};
	int idle = (int)kv_num(argc, argv, "idle", BENCH_IDLE_MS);
	char ok[8];

	if (ep == NULL || zmq_connect(d, ep) != 0)
		return 1;
	zmq_setsockopt(d, ZMQ_RCVTIMEO, &idle, sizeof(idle));
	if (zmq_send(d, "SUB", 3, 0) < 0 || zmq_recv(d, ok, sizeof(ok), 0) < 0)
		return 1;
	ready_and_wait();
	while (t.n < t.want) {
		zmq_msg_t m;
		size_t k, i;
		int64_t stamp;

		zmq_msg_init(&m);
		if (zmq_msg_recv(&m, d, 0) < 0)
			break; /* silent for too long: report what came */
		k = zmq_msg_size(&m) / BENCH_RECORD_BYTES;
		for (i = 0; i < k; i++) {
			memcpy(&stamp, (uint8_t *)zmq_msg_data(&m) +
			    i * BENCH_RECORD_BYTES, sizeof(stamp));
			tally_add(&t, stamp, 1);
		}
		zmq_msg_close(&m);
		zmq_send(d, "ACK", 3, ZMQ_DONTWAIT);
	}
	tally_report(&t, NULL);
	free(lat);
	zmq_close(d);
	zmq_ctx_term(ctx);
	return 0;
}
