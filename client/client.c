/*
 * client.c: one DEALER socket with CurveZMQ, watched by a socket monitor.
 *
 * The monitor is how a refused key becomes a clear error instead of a
 * hang: libzmq reports ZMQ_EVENT_HANDSHAKE_FAILED_AUTH with the ZAP status
 * when the broker turns us away, and keeps retrying otherwise.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>
#include <zmq.h>

#include "../common/limits.h"
#include "../common/mpk.h"
#include "../common/zmon.h"
#include "client.h"

#define CLIENT_MAX_DEPTH 8
/*
 * Only the events we act on.  libzmq's I/O thread blocks when the monitor
 * pipe is full, so a client that sits idle through a broker's restarts must
 * not be sent an event per reconnect attempt (ZMQ_EVENT_ALL wedged it).
 */
#define MONITOR_EVENTS (ZMQ_EVENT_HANDSHAKE_SUCCEEDED |                       \
	ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_DISCONNECTED)

struct stashed {
	char cmd[16];
	zmq_msg_t body;
};

struct client {
	void *ctx, *sock, *mon;
	char endpoint[256];
	struct keypair key;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	uint64_t req_seq;
	int call_timeout_ms;
	bool ready, ever_ready, disconnected, reconnected, auth_failed;
	int auth_status;
	struct stashed *stash;
	size_t nstash, capstash, stash_head;
};

static void monitor_drain(struct client *c);

/*
 * CurveZMQ with the broker's key.  A benchmark build (make bench, compiled
 * with CARNET_BENCH) can instead send its id in clear with PLAIN when
 * CARNET_BENCH_PLAIN is set, to measure what CURVE costs; a normal build
 * has no such switch.
 */
static int
set_security(void *sock, const struct keypair *kp, const uint8_t server[32],
    const uint8_t cpk[32], const uint8_t csk[32])
{
#ifdef CARNET_BENCH
	if (getenv("CARNET_BENCH_PLAIN") != NULL) {
		char id[ID_STR_LEN + 1];

		id_encode(kp->pk, id);
		return zmq_setsockopt(sock, ZMQ_PLAIN_USERNAME, id,
		    strlen(id)) != 0 || zmq_setsockopt(sock,
		    ZMQ_PLAIN_PASSWORD, "bench", 5) != 0 ? -1 : 0;
	}
#else
	(void)kp;
#endif
	return zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, server, 32) != 0 ||
	    zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, cpk, 32) != 0 ||
	    zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, csk, 32) != 0 ? -1 : 0;
}

int
client_new(const char *endpoint, const uint8_t broker_id[ID_BYTES],
    const struct keypair *kp, struct client **out, struct cerr *err)
{
	uint8_t server[32], cpk[32], csk[32];
	char mon_ep[64];
	int linger = 1000, ivl = 100, hs = CLIENT_CONNECT_TIMEOUT_MS;
	int64_t maxmsg = CLIENT_FRAME_MAX_BYTES;
	struct client *c;

	if (key_curve_pk(broker_id, server) != 0)
		return cerr_set(err, CARNET_E_BAD_VALUE,
		    "the broker id is not a valid public key");
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return cerr_set(err, CARNET_E_NOMEM, "out of memory");
	c->key = *kp;
	c->call_timeout_ms = CLIENT_CALL_TIMEOUT_MS;
	snprintf(c->endpoint, sizeof(c->endpoint), "%s", endpoint);
	msgpack_sbuffer_init(&c->sb);
	msgpack_packer_init(&c->pk, &c->sb, msgpack_sbuffer_write);
	if (key_curve(kp, cpk, csk) != 0) {
		client_destroy(&c);
		return cerr_set(err, CARNET_E_BAD_VALUE, "bad key pair");
	}
	snprintf(mon_ep, sizeof(mon_ep), "inproc://carnet-monitor-%p",
	    (void *)c);
	if ((c->ctx = zmq_ctx_new()) == NULL ||
	    (c->sock = zmq_socket(c->ctx, ZMQ_DEALER)) == NULL ||
	    set_security(c->sock, kp, server, cpk, csk) != 0 ||
	    zmq_setsockopt(c->sock, ZMQ_LINGER, &linger, sizeof(linger)) != 0 ||
	    zmq_setsockopt(c->sock, ZMQ_RECONNECT_IVL, &ivl, sizeof(ivl)) != 0 ||
	    zmq_setsockopt(c->sock, ZMQ_HANDSHAKE_IVL, &hs, sizeof(hs)) != 0 ||
	    zmq_setsockopt(c->sock, ZMQ_MAXMSGSIZE, &maxmsg,
	    sizeof(maxmsg)) != 0 ||
	    zmq_socket_monitor(c->sock, mon_ep, MONITOR_EVENTS) != 0 ||
	    (c->mon = zmq_socket(c->ctx, ZMQ_PAIR)) == NULL ||
	    zmq_connect(c->mon, mon_ep) != 0 ||
	    zmq_connect(c->sock, endpoint) != 0) {
		sodium_memzero(csk, sizeof(csk));
		cerr_set(err, CARNET_E_TRANSPORT, "cannot connect to %s: %s",
		    endpoint, zmq_strerror(zmq_errno()));
		client_destroy(&c);
		return err ? err->code : CARNET_E_TRANSPORT;
	}
	sodium_memzero(csk, sizeof(csk));
	*out = c;
	return 0;
}

void
client_destroy(struct client **cp)
{
	struct client *c = *cp;
	size_t i;

	if (c == NULL)
		return;
	for (i = c->stash_head; i < c->nstash; i++)
		zmq_msg_close(&c->stash[i].body);
	free(c->stash);
	if (c->sock != NULL) {
		if (c->mon != NULL)
			monitor_drain(c); /* so the I/O thread is not stuck */
		zmq_socket_monitor(c->sock, NULL, 0);
		zmq_close(c->sock);
	}
	if (c->mon != NULL)
		zmq_close(c->mon);
	if (c->ctx != NULL)
		zmq_ctx_term(c->ctx);
	msgpack_sbuffer_destroy(&c->sb);
	key_wipe(&c->key);
	free(c);
	*cp = NULL;
}

const uint8_t *
client_id(const struct client *c)
{
	return c->key.pk;
}

bool
client_reconnected(struct client *c)
{
	bool r = c->reconnected;

	c->reconnected = false;
	return r;
}

/* Read every pending monitor event and update our view of the link. */
static void
monitor_drain(struct client *c)
{
	uint16_t event;
	uint32_t value;

	while (zmon_next(c->mon, &event, &value)) {
		switch (event) {
		case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
			if (c->ever_ready && c->disconnected)
				c->reconnected = true;
			c->ready = c->ever_ready = true;
			c->disconnected = false;
			c->auth_failed = false;
			break;
		case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
			c->auth_failed = true;
			c->auth_status = (int)value;
			c->ready = false;
			break;
		case ZMQ_EVENT_DISCONNECTED:
			c->ready = false;
			c->disconnected = true;
			break;
		default:
			break;
		}
	}
}

static int
auth_error(struct client *c, struct cerr *err)
{
	if (c->auth_status == 500)
		return cerr_set(err, CARNET_E_BUSY,
		    "the broker at %s turned our connection away for now: "
		    "too many connections with this key, or too many in a "
		    "short time; try again in a moment", c->endpoint);
	return cerr_set(err, CARNET_E_AUTH,
	    "the broker at %s refused our key (ZAP status %d): is this "
	    "party registered? (carnet party add)", c->endpoint,
	    c->auth_status);
}

/* ZAP 500: the broker throttles this key; ask again a little later. */

int
client_wait_ready(struct client *c, int timeout_ms, struct cerr *err)
{
	int64_t end = time_mono_ms() + timeout_ms;
	zmq_pollitem_t it = {c->mon, 0, ZMQ_POLLIN, 0};

	for (;;) {
		int64_t left;

		monitor_drain(c);
		if (c->ready)
			return 0;
		if (c->auth_failed && (c->auth_status != 500 ||
		    end - time_mono_ms() < CLIENT_BUSY_RETRY_MS))
			return auth_error(c, err);
		if (c->auth_failed) {
			/* libzmq gives up after a refusal: connect again */
			zmq_disconnect(c->sock, c->endpoint);
			zmq_poll(NULL, 0, CLIENT_BUSY_RETRY_MS);
			c->auth_failed = false;
			if (zmq_connect(c->sock, c->endpoint) != 0)
				return cerr_set(err, CARNET_E_TRANSPORT,
				    "cannot connect to %s: %s", c->endpoint,
				    zmq_strerror(zmq_errno()));
			continue;
		}
		if ((left = end - time_mono_ms()) <= 0)
			return cerr_set(err, CARNET_E_TIMEOUT,
			    "no handshake with a broker at %s in %d ms: is "
			    "carnetd running there, and is the broker id "
			    "right?", c->endpoint, timeout_ms);
		zmq_poll(&it, 1, (long)left);
	}
}

void
client_set_timeout(struct client *c, int ms)
{
	c->call_timeout_ms = ms;
}

msgpack_packer *
client_begin(struct client *c, uint32_t nkeys)
{
	msgpack_sbuffer_clear(&c->sb);
	msgpack_pack_map(&c->pk, nkeys + 1);
	mpk_pack_cstr(&c->pk, "req");
	msgpack_pack_uint64(&c->pk, ++c->req_seq);
	return &c->pk;
}

int
client_send(struct client *c, const char *cmd, struct cerr *err)
{
	if (c->sb.size == 0)
		client_begin(c, 0);
	if (zmq_send(c->sock, cmd, strlen(cmd), ZMQ_SNDMORE) < 0 ||
	    zmq_send(c->sock, c->sb.data, c->sb.size, 0) < 0)
		return cerr_set(err, CARNET_E_TRANSPORT, "sending %s: %s", cmd,
		    zmq_strerror(zmq_errno()));
	msgpack_sbuffer_clear(&c->sb);
	return 0;
}

int
client_send_frames(struct client *c, const void *const *frames,
    const size_t *lens, int n, struct cerr *err)
{
	int i;

	for (i = 0; i < n; i++)
		if (zmq_send(c->sock, frames[i], lens[i],
		    i + 1 < n ? ZMQ_SNDMORE : 0) < 0)
			return cerr_set(err, CARNET_E_TRANSPORT,
			    "sending frame %d: %s", i + 1,
			    zmq_strerror(zmq_errno()));
	return 0;
}

/* Receive one message [cmd][body]; 0, or CARNET_E_TIMEOUT / _AUTH. */
static int
recv_msg(struct client *c, int64_t end, char cmd[16], zmq_msg_t *body,
    struct cerr *err)
{
	zmq_pollitem_t it[2] = {
		{c->sock, 0, ZMQ_POLLIN, 0},
		{c->mon, 0, ZMQ_POLLIN, 0},
	};
	zmq_msg_t head;
	size_t n;

	for (;;) {
		int64_t left = end - time_mono_ms();

		monitor_drain(c);
		if (c->auth_failed)
			return auth_error(c, err);
		if (zmq_poll(it, 2, left > 0 ? (long)left : 0) < 0) {
			/* A signal: like a timeout, the caller checks its
			 * flags and decides. */
			if (zmq_errno() == EINTR)
				return cerr_set(err, CARNET_E_TIMEOUT,
				    "interrupted");
			return cerr_set(err, CARNET_E_TRANSPORT, "poll: %s",
			    zmq_strerror(zmq_errno()));
		}
		if (it[0].revents & ZMQ_POLLIN)
			break;
		if (left <= 0)
			return cerr_set(err, CARNET_E_TIMEOUT,
			    "no answer from the broker at %s", c->endpoint);
	}
	zmq_msg_init(&head);
	zmq_msg_init(body);
	if (zmq_msg_recv(&head, c->sock, 0) < 0 || !zmq_msg_more(&head) ||
	    zmq_msg_recv(body, c->sock, 0) < 0 || zmq_msg_more(body)) {
		/* drop whatever is left of a malformed message */
		while (zmq_msg_more(body) && zmq_msg_recv(body, c->sock, 0) >= 0)
			;
		zmq_msg_close(&head);
		zmq_msg_close(body);
		return cerr_set(err, CARNET_E_MALFORMED,
		    "malformed message from the broker");
	}
	n = zmq_msg_size(&head) < 15 ? zmq_msg_size(&head) : 15;
	memcpy(cmd, zmq_msg_data(&head), n);
	cmd[n] = '\0';
	zmq_msg_close(&head);
	return 0;
}

static int
unpack_body(zmq_msg_t *body, msgpack_unpacked *out, struct cerr *err)
{
	/* The message is closed right after: the tree keeps its own copy. */
	int rc = mpk_unpack_copy(zmq_msg_data(body), zmq_msg_size(body),
	    CLIENT_MAX_DEPTH, out);

	return rc ? cerr_set(err, rc, "unreadable message from the broker") : 0;
}

static void
stash_push(struct client *c, const char *cmd, zmq_msg_t *body)
{
	if (c->stash_head > 0 && c->stash_head == c->nstash)
		c->stash_head = c->nstash = 0;
	if (c->nstash == c->capstash && c->nstash - c->stash_head < CLIENT_STASH_MAX) {
		size_t cap = c->capstash ? 2 * c->capstash : 16;
		struct stashed *n = realloc(c->stash, cap * sizeof(*n));

		if (n != NULL) {
			c->stash = n;
			c->capstash = cap;
		}
	}
	if (c->nstash == c->capstash) {
		zmq_msg_close(body); /* over the bound: the broker resends */
		return;
	}
	snprintf(c->stash[c->nstash].cmd, 16, "%s", cmd);
	zmq_msg_init(&c->stash[c->nstash].body);
	zmq_msg_move(&c->stash[c->nstash].body, body);
	zmq_msg_close(body);
	c->nstash++;
}

/* The ERR body as our error. */
static int
err_from_body(const msgpack_object *o, struct cerr *err)
{
	const char *p;
	size_t len;
	char msg[200] = "";
	int code = CARNET_E_MALFORMED;

	if (mpk_str(mpk_get(o, "code"), &p, &len) == 0)
		code = carnet_errcode(p, len);
	if (mpk_str(mpk_get(o, "message"), &p, &len) == 0)
		snprintf(msg, sizeof(msg), "%.*s", (int)len, p);
	return cerr_set(err, code, "%s", msg[0] ? msg : carnet_strerror(code));
}

uint64_t
client_last_req(const struct client *c)
{
	return c->req_seq;
}

int
client_reply(struct client *c, uint64_t want, msgpack_unpacked *reply,
    struct cerr *err)
{
	int64_t end = time_mono_ms() + c->call_timeout_ms;
	uint64_t got;
	char rcmd[16];
	zmq_msg_t body;
	int rc;

	for (;;) {
		if ((rc = recv_msg(c, end, rcmd, &body, err)) != 0)
			return rc;
		if (strcmp(rcmd, "OK") != 0 && strcmp(rcmd, "ACK") != 0 &&
		    strcmp(rcmd, "ERR") != 0) {
			stash_push(c, rcmd, &body);
			continue;
		}
		rc = unpack_body(&body, reply, err);
		zmq_msg_close(&body);
		if (rc != 0)
			return rc;
		if (mpk_u64(mpk_get(&reply->data, "req"), &got) != 0 ||
		    got != want) {
			/* a late answer to an earlier call, or an ERR about
			 * a message without reply: keep it for recv */
			if (strcmp(rcmd, "ERR") == 0 &&
			    mpk_get(&reply->data, "req") == NULL) {
				rc = err_from_body(&reply->data, err);
				msgpack_unpacked_destroy(reply);
				return rc;
			}
			msgpack_unpacked_destroy(reply);
			continue;
		}
		if (strcmp(rcmd, "ERR") == 0) {
			rc = err_from_body(&reply->data, err);
			msgpack_unpacked_destroy(reply);
			return rc;
		}
		return 0;
	}
}

int
client_call(struct client *c, const char *cmd, msgpack_unpacked *reply,
    struct cerr *err)
{
	uint64_t want = c->req_seq;
	int rc;

	if ((rc = client_send(c, cmd, err)) != 0)
		return rc;
	return client_reply(c, want, reply, err);
}

int
client_recv(struct client *c, int timeout_ms, char cmd[16],
    msgpack_unpacked *body, struct cerr *err)
{
	zmq_msg_t m;
	int rc;

	if (c->stash_head < c->nstash) {
		struct stashed *s = &c->stash[c->stash_head++];

		memcpy(cmd, s->cmd, 16);
		rc = unpack_body(&s->body, body, err);
		zmq_msg_close(&s->body);
		return rc;
	}
	if ((rc = recv_msg(c, time_mono_ms() + timeout_ms, cmd, &m, err)) != 0)
		return rc;
	rc = unpack_body(&m, body, err);
	zmq_msg_close(&m);
	return rc;
}
