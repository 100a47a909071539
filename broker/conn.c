/*
 * conn.c: the broker's connections, each bound to the party that
 * authenticated it, and ended when its TCP connection ends.
 *
 * ZeroMQ's ROUTER names a peer by a routing id that the peer may choose,
 * and that libzmq gives to the next peer once the connection holding it is
 * gone.  So a routing id alone says nothing about who is there.  carnetd
 * instead knows each connection by:
 *
 *   - a serial it gives at the handshake: the ZAP handler admits a key and
 *     returns the property "X-Conn: <serial>" in its reply's metadata;
 *     libzmq puts ZAP properties before the peer's own, so every message
 *     of that connection carries our serial and our User-Id, and a peer
 *     cannot set either;
 *   - its socket's fd (the "__fd" property behind ZMQ_SRCFD) and the
 *     generation of that fd, counted from the socket monitor's ACCEPTED
 *     and DISCONNECTED events.
 *
 * Ordering makes the generation exact.  libzmq emits ACCEPTED(fd) before
 * the connection's ZAP request, and DISCONNECTED(fd) before it closes fd,
 * so before that fd number can be accepted again.  The ZAP handler drains
 * the monitor after reading each request and notes how many events it has
 * seen (zap_evseq): the connection is the latest one accepted on its fd
 * if that accept is among them.  A later DISCONNECTED on the fd ends it.
 * Anything queued for a connection that ended is dropped, never sent to
 * whoever holds its routing id now.
 *
 * Routing ids: carnetd seeds libc's rand() from libsodium before creating
 * its ROUTER, so libzmq's automatic ids start at a secret 32-bit value; a
 * connection whose id is not one of those (5 bytes, first 0) chose its
 * own and is refused.  A chosen id that mimics an automatic one can only
 * collide with libzmq's counter (which aborts libzmq) by guessing it; the
 * per-party connection cap, the handshake rate and the kick of silent
 * connections bound how many guesses a party has (docs/SECURITY.md).
 *
 * Bytes queued for a peer are counted: every body goes to libzmq with
 * zmq_msg_init_data and a free callback (run by libzmq's I/O thread when
 * the message is written or dropped) that gives its bytes back, so what
 * the broker holds for one connection, and in all, is known and bounded.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <sodium.h>
#include <zmq.h>

#include "../common/id.h"
#include "../common/zmon.h"
#include "broker.h"

#define MONITOR_EP "inproc://carnetd-router-monitor"
#define CONN_PROP "X-Conn"

/* Bytes handed to libzmq for one connection and not yet released. */
struct conn_acct {
	_Atomic int64_t bytes;
	_Atomic int refs;
	_Atomic int64_t *total; /* the broker's, for all connections */
};

/* One connection's fd, as the monitor saw it. */
struct fd_state {
	uint32_t acc, dis;       /* ACCEPTED and DISCONNECTED events seen */
	uint64_t acc_evseq;      /* event number of the latest ACCEPTED */
	int64_t acc_ms;          /* when it came */
	struct conn *live;       /* the registered connection on it, if any */
};

struct party_conns {
	uint8_t id[ID_BYTES];
	unsigned live;           /* admitted, not ended */
	double tokens;           /* handshake bucket */
	int64_t refill_ms;
	double req_tokens;       /* REQUEST bucket (apps) */
	int64_t req_refill_ms;
	double ref_tokens;       /* refusal entries it may cause (req.c) */
	int64_t ref_refill_ms;
	int64_t warned_ms;
	UT_hash_handle hh;
};

static _Atomic int64_t queued_total;

/* ---- bytes queued for peers ------------------------------------------- */

static struct conn_acct *
acct_new(void)
{
	struct conn_acct *a = calloc(1, sizeof(*a));

	if (a == NULL)
		return NULL;
	atomic_init(&a->bytes, 0);
	atomic_init(&a->refs, 1);
	a->total = &queued_total;
	return a;
}

static void
acct_release(struct conn_acct *a)
{
	if (a != NULL && atomic_fetch_sub(&a->refs, 1) == 1)
		free(a);
}

struct body_hint {
	struct conn_acct *acct;
	size_t bytes;
	char *buf;
};

/* Run by libzmq (its I/O thread, or ours on a failed send). */
static void
body_release(void *data, void *hint)
{
	struct body_hint *h = hint;

	(void)data;
	atomic_fetch_sub(&h->acct->bytes, (int64_t)h->bytes);
	atomic_fetch_sub(h->acct->total, (int64_t)h->bytes);
	acct_release(h->acct);
	free(h->buf);
	free(h);
}

int
conn_msg_init(struct conn *c, zmq_msg_t *msg, char *buf, size_t skip,
    size_t n)
{
	struct body_hint *h;

	if ((h = malloc(sizeof(*h))) == NULL)
		return -1;
	h->acct = c->acct;
	h->bytes = n + skip;
	h->buf = buf;
	atomic_fetch_add(&c->acct->refs, 1);
	atomic_fetch_add(&c->acct->bytes, (int64_t)h->bytes);
	atomic_fetch_add(&queued_total, (int64_t)h->bytes);
	if (zmq_msg_init_data(msg, buf + skip, n, body_release, h) != 0) {
		h->buf = NULL; /* the caller still owns buf */
		body_release(NULL, h);
		return -1;
	}
	return 0;
}

uint64_t
conn_queued(const struct conn *c)
{
	int64_t n = atomic_load(&c->acct->bytes);

	return n > 0 ? (uint64_t)n : 0;
}

uint64_t
conn_queued_total(void)
{
	int64_t n = atomic_load(&queued_total);

	return n > 0 ? (uint64_t)n : 0;
}

bool
conn_may_queue(const struct conn *c)
{
	return conn_queued(c) + c->pending_bytes < BROKER_CONN_QUEUE_BYTES &&
	    conn_queued_total() < BROKER_QUEUE_BYTES;
}

/* ---- the monitor ------------------------------------------------------- */

int
conn_monitor_start(struct broker *b, struct cerr *err)
{
	int zero = 0;

	if (zmq_socket_monitor(b->router, MONITOR_EP, ZMQ_EVENT_ACCEPTED |
	    ZMQ_EVENT_DISCONNECTED) != 0 ||
	    (b->mon = zmq_socket(b->ctx, ZMQ_PAIR)) == NULL ||
	    /* never full: libzmq's I/O thread would block on it */
	    zmq_setsockopt(b->mon, ZMQ_RCVHWM, &zero, sizeof(zero)) != 0 ||
	    zmq_setsockopt(b->mon, ZMQ_SNDHWM, &zero, sizeof(zero)) != 0 ||
	    zmq_setsockopt(b->mon, ZMQ_LINGER, &zero, sizeof(zero)) != 0 ||
	    zmq_connect(b->mon, MONITOR_EP) != 0)
		return cerr_set(err, CARNET_E_TRANSPORT,
		    "cannot watch the connections: %s",
		    zmq_strerror(zmq_errno()));
	return 0;
}

static struct fd_state *
fd_get(struct broker *b, int fd)
{
	if (fd < 0 || fd > BROKER_MAX_FD)
		return NULL;
	if ((size_t)fd >= b->nfds) {
		size_t n = b->nfds ? b->nfds : 64;
		struct fd_state *f;

		while (n <= (size_t)fd)
			n *= 2;
		if ((f = realloc(b->fds, n * sizeof(*f))) == NULL)
			return NULL;
		memset(f + b->nfds, 0, (n - b->nfds) * sizeof(*f));
		b->fds = f;
		b->nfds = n;
	}
	return &b->fds[fd];
}

static struct party_conns *
party_conns_get(struct broker *b, const uint8_t id[ID_BYTES], bool create)
{
	struct party_conns *p = NULL;

	HASH_FIND(hh, b->party_conns, id, ID_BYTES, p);
	if (p == NULL && create && (p = calloc(1, sizeof(*p))) != NULL) {
		memcpy(p->id, id, ID_BYTES);
		p->tokens = BROKER_HANDSHAKE_BURST;
		p->refill_ms = p->req_refill_ms = p->ref_refill_ms =
		    time_now_ms();
		p->req_tokens = REQUESTS_BURST;
		p->ref_tokens = REFUSALS_BURST;
		HASH_ADD(hh, b->party_conns, id, ID_BYTES, p);
	}
	return p;
}

void
conn_end(struct broker *b, struct conn *c)
{
	struct party_conns *p;

	/* what lives on the connection (its feed) goes first */
	if (b->conn_ending != NULL)
		b->conn_ending(b, c);
	if (c->registered && c->fd >= 0 && (size_t)c->fd < b->nfds &&
	    b->fds[c->fd].live == c)
		b->fds[c->fd].live = NULL;
	if ((p = party_conns_get(b, c->party, false)) != NULL && p->live > 0)
		p->live--;
	HASH_DEL(b->conns, c);
	acct_release(c->acct);
	free(c);
}

/* One ACCEPTED or DISCONNECTED event on fd. */
static void
fd_event(struct broker *b, uint16_t event, uint32_t fd)
{
	struct fd_state *f;

	/* counted even for an fd past our table: nothing on such an fd is
	 * ever trusted (fd_get fails for it) */
	b->evseq++;
	if ((f = fd_get(b, (int)fd)) == NULL)
		return;
	if (event == ZMQ_EVENT_ACCEPTED) {
		f->acc++;
		f->acc_evseq = b->evseq;
		f->acc_ms = time_now_ms();
		return;
	}
	f->dis++;
	if (f->live != NULL && f->live->gen <= f->dis)
		conn_end(b, f->live);
}

void
conn_monitor_drain(struct broker *b)
{
	uint16_t event;
	uint32_t value;

	while (zmon_next(b->mon, &event, &value))
		if (event == ZMQ_EVENT_ACCEPTED ||
		    event == ZMQ_EVENT_DISCONNECTED)
			fd_event(b, event, value);
}

/* ---- admission (the ZAP handler) --------------------------------------- */

/* One token from a bucket of burst, refilled at per_s: false if empty. */
static bool
bucket_take(double *tokens, int64_t *refill_ms, double burst, double per_s)
{
	int64_t now = time_now_ms();

	*tokens += (double)(now - *refill_ms) * per_s / 1000.0;
	if (*tokens > burst)
		*tokens = burst;
	*refill_ms = now;
	if (*tokens < 1.0)
		return false;
	*tokens -= 1.0;
	return true;
}

bool
conn_may_request(struct broker *b, const uint8_t party[ID_BYTES])
{
	struct party_conns *p = party_conns_get(b, party, true);

	return p != NULL && bucket_take(&p->req_tokens, &p->req_refill_ms,
	    REQUESTS_BURST, REQUESTS_PER_S);
}

/*
 * Refusals are written to a person's log on behalf of whoever was refused:
 * without a bound, a party could fill people's logs, and the store, with
 * attempts it knows will fail.  The bucket is the party's, whatever
 * connection it uses; it is kept while it refills (conn_sweep).
 */
bool
conn_may_log_refusal(struct broker *b, const uint8_t party[ID_BYTES])
{
	struct party_conns *p = party_conns_get(b, party, true);

	return p != NULL && bucket_take(&p->ref_tokens, &p->ref_refill_ms,
	    REFUSALS_BURST, REFUSALS_PER_S);
}

int
conn_admit(struct broker *b, const uint8_t party[ID_BYTES], uint64_t *serial,
    const char **why)
{
	struct party_conns *p;
	struct conn *c;
	int64_t now = time_now_ms();

	conn_monitor_drain(b);
	if ((p = party_conns_get(b, party, true)) == NULL) {
		*why = "out of memory";
		return -1;
	}
	p->tokens += (double)(now - p->refill_ms) *
	    BROKER_HANDSHAKES_PER_S / 1000.0;
	if (p->tokens > BROKER_HANDSHAKE_BURST)
		p->tokens = BROKER_HANDSHAKE_BURST;
	p->refill_ms = now;
	if (p->live >= BROKER_CONNS_PER_PARTY) {
		*why = "too many connections with this key";
		return -1;
	}
	if (p->tokens < 1.0) {
		*why = "too many connections in a short time: wait";
		return -1;
	}
	if (HASH_COUNT(b->conns) >= BROKER_MAX_CONNS) {
		*why = "the broker has too many connections";
		return -1;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->acct = acct_new()) == NULL) {
		free(c);
		*why = "out of memory";
		return -1;
	}
	p->tokens -= 1.0;
	p->live++;
	c->serial = ++b->conn_serial;
	memcpy(c->party, party, ID_BYTES);
	c->zap_ms = now;
	c->zap_evseq = b->evseq;
	c->fd = -1;
	HASH_ADD(hh, b->conns, serial, sizeof(c->serial), c);
	*serial = c->serial;
	return 0;
}

bool
conn_refusal_logged(struct broker *b, const uint8_t party[ID_BYTES])
{
	struct party_conns *p = party_conns_get(b, party, false);
	int64_t now = time_now_ms();

	/* one line a minute per party, not one per attempt */
	if (p != NULL && now - p->warned_ms < 60000)
		return true;
	if (p != NULL)
		p->warned_ms = now;
	return false;
}

size_t
conn_prop(uint64_t serial, uint8_t *buf, size_t size)
{
	char v[24];
	size_t nl = strlen(CONN_PROP), vl;

	vl = (size_t)snprintf(v, sizeof(v), "%llu", (unsigned long long)serial);
	if (size < 1 + nl + 4 + vl)
		return 0;
	buf[0] = (uint8_t)nl;
	memcpy(buf + 1, CONN_PROP, nl);
	buf[1 + nl] = buf[2 + nl] = buf[3 + nl] = 0;
	buf[4 + nl] = (uint8_t)vl;
	memcpy(buf + 5 + nl, v, vl);
	return 5 + nl + vl;
}

/* ---- messages ---------------------------------------------------------- */

struct conn *
conn_find(struct broker *b, uint64_t serial)
{
	struct conn *c = NULL;

	HASH_FIND(hh, b->conns, &serial, sizeof(serial), c);
	return c;
}

/* An automatic id: 5 bytes, a zero then libzmq's counter. */
static bool
rid_automatic(const uint8_t *rid, size_t len)
{
	return len == 5 && rid[0] == 0;
}

/* Shut a connection's socket down: libzmq sees the end and closes it. */
static void
fd_kick(struct broker *b, int fd, uint32_t gen)
{
	conn_monitor_drain(b);
	/* only if the fd still holds that connection */
	if ((size_t)fd < b->nfds && b->fds[fd].acc == gen &&
	    b->fds[fd].dis < gen)
		shutdown(fd, SHUT_RDWR);
}

int
conn_of_msg(struct broker *b, zmq_msg_t *cmd, const uint8_t *rid,
    size_t rid_len, const uint8_t party[ID_BYTES], struct conn **out)
{
	const char *s = zmq_msg_gets(cmd, CONN_PROP);
	struct fd_state *f;
	struct conn *c;
	char *end;
	uint64_t serial;
	int fd;

	*out = NULL;
	if (s == NULL)
		return CARNET_E_AUTH;
	serial = strtoull(s, &end, 10);
	if (*end != '\0' || (c = conn_find(b, serial)) == NULL)
		return CARNET_E_AUTH; /* ended, or never admitted */
	if (memcmp(c->party, party, ID_BYTES) != 0)
		return CARNET_E_AUTH; /* cannot happen: both come from ZAP */
	if (c->registered) {
		if (rid_len != c->rid_len || memcmp(rid, c->rid, rid_len) != 0)
			return CARNET_E_AUTH;
		*out = c;
		return 0;
	}
	fd = zmq_msg_get(cmd, ZMQ_SRCFD);
	if ((f = fd_get(b, fd)) == NULL || f->acc == 0 ||
	    f->acc_evseq > c->zap_evseq || f->dis >= f->acc) {
		/* not the latest connection on its fd: it has ended */
		conn_end(b, c);
		return CARNET_E_AUTH;
	}
	if (!rid_automatic(rid, rid_len)) {
		/* a routing id of the peer's choosing: refused, and the
		 * connection closed (its id might shadow another's) */
		uint32_t gen = f->acc;

		conn_end(b, c);
		fd_kick(b, fd, gen);
		return CARNET_E_FORBIDDEN;
	}
	if (f->live != NULL)
		conn_end(b, f->live); /* an older one whose end we missed */
	c->registered = true;
	c->fd = fd;
	c->gen = f->acc;
	memcpy(c->rid, rid, rid_len);
	c->rid_len = rid_len;
	f->live = c;
	*out = c;
	return 0;
}

/*
 * Connections admitted long ago that never sent anything: forget them;
 * sockets accepted that hold no registered connection for as long: shut
 * them down (a silent connection could be holding a chosen routing id).
 */
void
conn_sweep(struct broker *b, int64_t now)
{
	struct conn *c, *tmp;
	struct party_conns *p, *ptmp;
	size_t fd;

	HASH_ITER(hh, b->conns, c, tmp)
		if (!c->registered && now - c->zap_ms > BROKER_SILENT_CONN_MS)
			conn_end(b, c);

	HASH_ITER(hh, b->party_conns, p, ptmp)
		if (p->live == 0 && now - p->refill_ms >
		    1000 * BROKER_HANDSHAKE_BURST / BROKER_HANDSHAKES_PER_S &&
		    now - p->req_refill_ms >
		    1000 * REQUESTS_BURST / REQUESTS_PER_S &&
		    now - p->ref_refill_ms >
		    1000 * REFUSALS_BURST / REFUSALS_PER_S &&
		    now - p->warned_ms > 60000) {
			HASH_DEL(b->party_conns, p);
			free(p);
		}
	for (fd = 0; fd < b->nfds; fd++) {
		struct fd_state *f = &b->fds[fd];

		if (f->acc > f->dis && f->live == NULL &&
		    now - f->acc_ms > BROKER_SILENT_CONN_MS) {
			f->acc_ms = now; /* once per period at most */
			fd_kick(b, (int)fd, f->acc);
		}
	}
}

void
conn_end_all(struct broker *b)
{
	struct conn *c, *tmp;
	struct party_conns *p, *ptmp;

	HASH_ITER(hh, b->conns, c, tmp)
		conn_end(b, c);
	HASH_ITER(hh, b->party_conns, p, ptmp) {
		HASH_DEL(b->party_conns, p);
		free(p);
	}
	free(b->fds);
	b->fds = NULL;
	b->nfds = 0;
}

void
conn_seed_ids(void)
{
	/* libzmq's ROUTER starts its automatic ids from rand() */
	srand(randombytes_random());
}
