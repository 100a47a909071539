/*
 * out.c: messages waiting for the commit.
 *
 * Nothing leaves the broker before the transaction that justifies it is
 * durable: an ACK after its records, a record after its use-log entry.
 * Each message is for one connection (conn.c), sent only if that
 * connection has not ended: never to whoever holds its routing id now.
 * ROUTER is set to ZMQ_ROUTER_MANDATORY so a vanished peer is an error we
 * see (EHOSTUNREACH), not a silent drop; delivery itself rests on acks and
 * durable cursors, never on the socket.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "../common/mpk.h"
#include "broker.h"

struct outmsg *
out_push(struct broker *b, struct conn *c, const char *cmd, bool is_reply)
{
	struct outmsg *m;

	if (c == NULL)
		return NULL;
	if (b->nout == b->capout) {
		size_t cap = b->capout ? 2 * b->capout : 64;
		struct outmsg *n = realloc(b->out, cap * sizeof(*n));

		if (n == NULL)
			return NULL;
		b->out = n;
		b->capout = cap;
	}
	m = &b->out[b->nout++];
	memset(m, 0, sizeof(*m));
	m->conn = c->serial;
	m->cmd = cmd;
	m->is_reply = is_reply;
	msgpack_sbuffer_init(&m->body);
	return m;
}

void
out_count(struct outmsg *m, struct conn *c)
{
	m->counted = m->body.size;
	c->pending_bytes += m->counted;
}

/* It leaves the queue (sent or dropped): no longer pending. */
static void
out_uncount(struct broker *b, struct outmsg *m)
{
	struct conn *c;

	if (m->counted == 0)
		return;
	if ((c = conn_find(b, m->conn)) != NULL)
		c->pending_bytes -= m->counted < c->pending_bytes ?
		    m->counted : c->pending_bytes;
	m->counted = 0;
}

void
out_pop(struct broker *b)
{
	if (b->nout == 0)
		return;
	out_uncount(b, &b->out[b->nout - 1]);
	msgpack_sbuffer_destroy(&b->out[--b->nout].body);
}

/*
 * The body's frame: its buffer goes to libzmq without a copy, counted
 * against the connection until libzmq releases it; m->skip leading bytes
 * of the buffer are not part of the body.
 */
static int
send_body(struct broker *b, struct conn *c, struct outmsg *m)
{
	size_t n = m->body.size - m->skip;
	zmq_msg_t msg;
	char *buf;
	int e;

	if (n == 0) {
		/* an empty body is an empty map */
		msgpack_sbuffer_clear(&m->body);
		msgpack_sbuffer_write(&m->body, "\x80", 1);
		m->skip = 0;
		n = 1;
	}
	buf = msgpack_sbuffer_release(&m->body);
	if (conn_msg_init(c, &msg, buf, m->skip, n) != 0) {
		free(buf);
		return -1;
	}
	if (zmq_msg_send(&msg, b->router, ZMQ_DONTWAIT) < 0) {
		e = zmq_errno();
		zmq_msg_close(&msg); /* frees buf */
		errno = e;
		return -1;
	}
	return 0;
}

/* 1 when this is the first send that failed to its connection. */
static int
out_send(struct broker *b, struct outmsg *m)
{
	struct conn *c = conn_find(b, m->conn);

	out_uncount(b, m);
	/* Ended, or never registered: whoever holds its routing id now is
	 * someone else. */
	if (c == NULL || !c->registered)
		return 0;
	/* Never block the loop on one slow peer. */
	if (zmq_send(b->router, c->rid, c->rid_len,
	    ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
	    zmq_send(b->router, m->cmd, strlen(m->cmd),
	    ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
	    send_body(b, c, m) < 0) {
		/* The peer is gone or full: the loop drops its feed
		 * (session_drop_failed), which starts again from the durable
		 * cursors when it subscribes again. */
		if (c->send_failed)
			return 0;
		c->send_failed = true;
		c->send_errno = zmq_errno();
		return 1;
	}
	return 0;
}

size_t
out_flush(struct broker *b)
{
	size_t i, failed = 0;

	/* Learn of every connection that ended before sending anything. */
	conn_monitor_drain(b);
	for (i = 0; i < b->nout; i++) {
		failed += (size_t)out_send(b, &b->out[i]);
		msgpack_sbuffer_destroy(&b->out[i].body);
	}
	b->nout = 0;
	return failed;
}

void
out_pack_error(msgpack_sbuffer *sb, bool has_req, uint64_t req,
    const struct cerr *err)
{
	msgpack_packer pk;

	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, has_req ? 3 : 2);
	mpk_pack_cstr(&pk, "code");
	mpk_pack_cstr(&pk, carnet_errname(err->code));
	mpk_pack_cstr(&pk, "message");
	mpk_pack_cstr(&pk, cerr_msg(err));
	if (has_req) {
		mpk_pack_cstr(&pk, "req");
		msgpack_pack_uint64(&pk, req);
	}
}

void
out_error(struct broker *b, struct conn *c, bool has_req, uint64_t req,
    const struct cerr *err)
{
	struct outmsg *m = out_push(b, c, MSG_ERR, true);

	if (m == NULL)
		return;
	m->has_req = has_req;
	m->req = req;
	out_pack_error(&m->body, has_req, req, err);
}

/* The commit failed: every reply becomes this error, pushes are dropped. */
void
out_fail_replies(struct broker *b, size_t from, const struct cerr *err)
{
	size_t i, n = from;

	for (i = from; i < b->nout; i++) {
		struct outmsg *m = &b->out[i];

		out_uncount(b, m);
		if (!m->is_reply) {
			msgpack_sbuffer_destroy(&m->body);
			continue;
		}
		msgpack_sbuffer_clear(&m->body);
		m->skip = 0;
		m->cmd = MSG_ERR;
		out_pack_error(&m->body, m->has_req, m->req, err);
		b->out[n++] = *m;
	}
	b->nout = n;
}
