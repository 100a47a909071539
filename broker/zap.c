/*
 * zap.c: the ZAP handler (RFC 27) that admits only registered parties.
 *
 * CurveZMQ fails open unless configured exactly: a CURVE server with no
 * ZAP handler accepts any client key.  So the handler is bound before the
 * ROUTER socket exists (carnetd refuses to start otherwise), the ROUTER
 * sets a ZAP domain and ZMQ_ZAP_ENFORCE_DOMAIN, and here every request
 * that is not CURVE, not our domain, or not a key in the registry is
 * refused.  The user id we return is the party id the broker then reads
 * from each message's metadata: the broker never trusts an id written in a
 * payload.
 */
#include <string.h>

#include <zmq.h>

#include "../common/id.h"
#include "broker.h"

#define ZAP_ENDPOINT "inproc://zeromq.zap.01"

int
zap_start(struct broker *b, struct cerr *err)
{
	int linger = 0;

	if ((b->zap = zmq_socket(b->ctx, ZMQ_REP)) == NULL ||
	    zmq_setsockopt(b->zap, ZMQ_LINGER, &linger, sizeof(linger)) != 0 ||
	    zmq_bind(b->zap, ZAP_ENDPOINT) != 0)
		return cerr_set(err, CARNET_E_TRANSPORT,
		    "cannot bind the ZAP handler: %s", zmq_strerror(zmq_errno()));
	return 0;
}

static void
zap_reply(struct broker *b, const void *reqid, size_t reqid_len,
    const char *code, const char *text, const char *user,
    const uint8_t *meta, size_t meta_len)
{
	zmq_send(b->zap, "1.0", 3, ZMQ_SNDMORE);
	zmq_send(b->zap, reqid, reqid_len, ZMQ_SNDMORE);
	zmq_send(b->zap, code, strlen(code), ZMQ_SNDMORE);
	zmq_send(b->zap, text, strlen(text), ZMQ_SNDMORE);
	zmq_send(b->zap, user, strlen(user), ZMQ_SNDMORE);
	zmq_send(b->zap, meta, meta_len, 0);
}

/*
 * Refusals are logged, but a stranger knocking in a loop must not fill the
 * log: the first in a period gets a line, the others are counted in the
 * next one.
 */
static void
zap_log_refusal(const char *addr, const char *why)
{
	static int64_t period_start;
	static unsigned long suppressed;
	int64_t now = time_now_ms();

	if (now - period_start < 10000) {
		suppressed++;
		return;
	}
	if (suppressed > 0)
		log_warnx("refused a connection from %s: %s (and %lu other "
		    "refusals in the last %lld s)", addr, why, suppressed,
		    (long long)(now - period_start) / 1000);
	else
		log_warnx("refused a connection from %s: %s", addr, why);
	period_start = now;
	suppressed = 0;
}

/*
 * Benchmark builds only (bench_plain is never set otherwise): PLAIN, the
 * user name being a registered party's id, sent in clear.
 */
static const char *
zap_plain(struct broker *b, const uint8_t *name, size_t len,
    char user[ID_STR_LEN + 1], const char **why)
{
	uint8_t id[ID_BYTES];
	struct party p;
	MDB_txn *txn;
	int rc;

	if (len != ID_STR_LEN) {
		*why = "PLAIN user name is not a party id";
		return "400";
	}
	memcpy(user, name, ID_STR_LEN);
	user[ID_STR_LEN] = '\0';
	if (id_decode(user, id) != 0) {
		*why = "PLAIN user name is not a party id";
		return "400";
	}
	if (store_txn_begin(b->store, NULL, false, &txn, NULL) != 0) {
		*why = "store unavailable";
		return "500";
	}
	rc = store_party_get(b->store, txn, id, &p);
	store_txn_abort(&txn);
	if (rc != 0) {
		*why = "unknown key";
		return "400";
	}
	*why = "OK";
	return "200";
}

/* Decide on one request; return the status and set user to the party id. */
static const char *
zap_decide(struct broker *b, uint8_t f[][ZAP_FRAME_MAX], const size_t *len,
    int n, char user[ID_STR_LEN + 1], const char **why)
{
	uint8_t id[ID_BYTES];
	MDB_txn *txn;
	int rc;

	if (n < 7 || len[0] != 3 || memcmp(f[0], "1.0", 3) != 0) {
		*why = "malformed ZAP request";
		return "500";
	}
	if (len[2] != strlen(ZAP_DOMAIN) ||
	    memcmp(f[2], ZAP_DOMAIN, len[2]) != 0) {
		*why = "wrong domain";
		return "400";
	}
	if (b->bench_plain && n == 8 && len[5] == 5 &&
	    memcmp(f[5], "PLAIN", 5) == 0)
		return zap_plain(b, f[6], len[6], user, why);
	if (n != 7 || len[5] != 5 || memcmp(f[5], "CURVE", 5) != 0 ||
	    len[6] != 32) {
		*why = "only CURVE is accepted";
		return "400";
	}
	if (store_txn_begin(b->store, NULL, false, &txn, NULL) != 0) {
		*why = "store unavailable";
		return "500";
	}
	rc = store_party_by_curve(b->store, txn, f[6], id);
	store_txn_abort(&txn);
	if (rc != 0) {
		*why = "unknown key";
		return "400";
	}
	id_encode(id, user);
	*why = "OK";
	return "200";
}

void
zap_handle(struct broker *b)
{
	uint8_t f[ZAP_MAX_FRAMES][ZAP_FRAME_MAX];
	size_t len[ZAP_MAX_FRAMES];
	char user[ID_STR_LEN + 1] = "", addr[64] = "";
	uint8_t meta[64], party[ID_BYTES];
	size_t meta_len = 0;
	uint64_t serial;
	const char *code, *why;
	int more, n = 0, sz;
	size_t ml = sizeof(more);

	do {
		uint8_t scratch[ZAP_FRAME_MAX];

		sz = zmq_recv(b->zap, n < ZAP_MAX_FRAMES ? f[n] : scratch,
		    ZAP_FRAME_MAX, ZMQ_DONTWAIT);
		if (sz < 0)
			return;
		if (n < ZAP_MAX_FRAMES)
			len[n] = (size_t)sz > ZAP_FRAME_MAX ? ZAP_FRAME_MAX :
			    (size_t)sz;
		n++;
		if (zmq_getsockopt(b->zap, ZMQ_RCVMORE, &more, &ml) != 0)
			more = 0;
	} while (more);
	code = zap_decide(b, f, len, n, user, &why);
	if (n > 3)
		snprintf(addr, sizeof(addr), "%.*s", (int)(len[3] < 63 ?
		    len[3] : 63), (const char *)f[3]);
	/* A known key: a connection of its own, with our serial on it. */
	if (code[0] == '2' && id_decode(user, party) == 0) {
		if (conn_admit(b, party, &serial, &why) != 0) {
			/* RFC 27's 300 (temporary) makes libzmq drop the
			 * connection without a word; 500 reaches the client,
			 * whose library waits and tries again */
			code = "500";
			if (!conn_refusal_logged(b, party))
				log_warnx("refused a connection of %s: %s",
				    user, why);
			user[0] = '\0';
		} else if ((meta_len = conn_prop(serial, meta,
		    sizeof(meta))) == 0) {
			code = "500";
			why = "internal error";
			user[0] = '\0';
		}
	} else if (code[0] != '2') {
		zap_log_refusal(addr, why);
	}
	zap_reply(b, n > 1 ? f[1] : (const uint8_t *)"", n > 1 ? len[1] : 0,
	    code, why, user, meta, meta_len);
}
