/*
 * idle.c: the c-idle role: many idle parties connected to carnetd at
 * once, each over its own CurveZMQ connection, as people and apps that
 * opened the app and left it open.  All in one ZeroMQ context (one I/O
 * thread): each socket says HELLO once (the broker closes a connection
 * that never speaks), then nothing until told to go.
 *
 *   c-idle ep=ENDPOINT broker=ID keys=FILE n=N [from=K]
 *
 * FILE holds struct keypair (pk then sk) of registered parties: this one
 * takes N of them from the K-th (each connection takes two descriptors:
 * the bench starts several of these when one may not have enough).
 * Reports RESULT n=<connections that got their HELLO answered>.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <sodium.h>
#include <zmq.h>

#include "../common/id.h"
#include "../policy/key.h"
#include "bench.h"

#define IDLE_WAIT_MS 60000 /* for all the HELLO replies */

static int
idle_open(void *ctx, const char *ep, const uint8_t server[32],
    const struct keypair *kp, void **out)
{
	uint8_t cpk[32], csk[32];
	int linger = 0, tmo = 30000;
	void *s;

	if (key_curve(kp, cpk, csk) != 0 ||
	    (s = zmq_socket(ctx, ZMQ_DEALER)) == NULL)
		return -1;
	if (zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, server, 32) != 0 ||
	    zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, cpk, 32) != 0 ||
	    zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, csk, 32) != 0 ||
	    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof(linger)) != 0 ||
	    zmq_setsockopt(s, ZMQ_RCVTIMEO, &tmo, sizeof(tmo)) != 0 ||
	    zmq_connect(s, ep) != 0 ||
	    zmq_send(s, "HELLO", 5, ZMQ_SNDMORE) < 0 ||
	    zmq_send(s, "\x80", 1, 0) < 0) {
		sodium_memzero(csk, sizeof(csk));
		zmq_close(s);
		return -1;
	}
	sodium_memzero(csk, sizeof(csk));
	*out = s;
	return 0;
}

int
carnet_idle(int argc, char **argv)
{
	const char *ep = kv_get(argc, argv, "ep", NULL);
	const char *bid = kv_get(argc, argv, "broker", NULL);
	const char *path = kv_get(argc, argv, "keys", NULL);
	unsigned n = (unsigned)kv_num(argc, argv, "n", 0), i, ok = 0;
	long from = (long)kv_num(argc, argv, "from", 0);
	uint8_t id[ID_BYTES], server[32];
	struct keypair *keys;
	struct rlimit rl;
	void *ctx, **socks;
	int64_t deadline;
	char buf[64], extra[32];
	FILE *f;

	if (ep == NULL || bid == NULL || path == NULL || n == 0 ||
	    id_decode(bid, id) != 0 || key_curve_pk(id, server) != 0)
		return 1;
	keys = calloc(n, sizeof(*keys));
	socks = calloc(n, sizeof(*socks));
	if (keys == NULL || socks == NULL || (f = fopen(path, "rb")) == NULL ||
	    fseek(f, from * (long)sizeof(*keys), SEEK_SET) != 0 ||
	    fread(keys, sizeof(*keys), n, f) != n)
		return 1;
	fclose(f);
	/* two descriptors per socket (its TCP connection, its mailbox) and
	 * a few for ZeroMQ itself: past the hard limit if root may */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur < 2 * (rlim_t)n + 256) {
		rl.rlim_cur = 2 * (rlim_t)n + 256;
		if (rl.rlim_max < rl.rlim_cur)
			rl.rlim_max = rl.rlim_cur;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			fprintf(stderr, "bench: c-idle: %u connections need %llu "
			    "descriptors: %s\n", n,
			    (unsigned long long)rl.rlim_cur, strerror(errno));
	}
	if ((ctx = zmq_ctx_new()) == NULL ||
	    zmq_ctx_set(ctx, ZMQ_MAX_SOCKETS, (int)n + 64) != 0)
		return 1;
	for (i = 0; i < n; i++)
		if (idle_open(ctx, ep, server, &keys[i], &socks[i]) != 0) {
			fprintf(stderr, "bench: idle connection %u: %s\n", i,
			    zmq_strerror(zmq_errno()));
			n = i;
			break;
		}
	sodium_memzero(keys, (size_t)n * sizeof(*keys));
	free(keys);
	/* the HELLO replies: each connection is admitted and served, all
	 * within IDLE_WAIT_MS */
	deadline = mono_ns() / 1000000 + IDLE_WAIT_MS;
	for (i = 0; i < n; i++) {
		int more = 0, tmo = (int)(deadline - mono_ns() / 1000000);
		size_t len = sizeof(more);

		if (tmo < 0)
			tmo = 0;
		if (zmq_setsockopt(socks[i], ZMQ_RCVTIMEO, &tmo,
		    sizeof(tmo)) != 0 ||
		    zmq_recv(socks[i], buf, sizeof(buf), 0) < 0)
			continue;
		if (zmq_getsockopt(socks[i], ZMQ_RCVMORE, &more, &len) == 0 &&
		    more && zmq_recv(socks[i], buf, sizeof(buf), 0) >= 0)
			ok++;
	}
	ready_and_wait();
	snprintf(extra, sizeof(extra), "open=%u", ok);
	printf("RESULT n=%u %s\n", ok, extra);
	fflush(stdout);
	for (i = 0; i < n; i++)
		zmq_close(socks[i]);
	free(socks);
	zmq_ctx_term(ctx);
	return 0;
}
