/*
 * turn.c: the broker's loop, one turn at a time, in four phases:
 *
 *   read     what has arrived, up to a turn's budget, without waiting;
 *   work     the requests that stop a person's data in a transaction of
 *            their own, committed ahead, then every other request (each in
 *            a nested transaction), the timers and the delivery pass, in
 *            the turn's transaction;
 *   commit   that transaction, durably; if it fails, what the turn did in
 *            memory is undone and its replies become ERR;
 *   release  the turn's replies and records leave, once every gate of the
 *            turn is passed, the witness written first (witness.c).
 *
 * Nothing a turn produces is handed to libzmq before its release, and the
 * release happens in one place, turn_gate_pass, when the last gate of the
 * turn is passed.  Today there is one gate, the local commit; replication
 * adds one (the stream's acknowledgement of the turn's write set), passed
 * where that acknowledgement arrives: the turn is released when both are.
 * carnetd.c starts the broker and calls turn_loop; nothing here calls
 * back into it.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include <zmq.h>

#include "../common/id.h"
#include "../common/mpk.h"
#include "../store/wal.h"
#include "broker.h"

#define TICK_MS 1000
/* with the turn log, a checkpoint at most this many turns apart, and
 * when the log grows past this (it is written again from its start) */
#define CHECKPOINT_TURNS 256
#define CHECKPOINT_LOG_BYTES (64u << 20)

volatile sig_atomic_t broker_stop;

/* One message read from the ROUTER socket. */
struct inmsg {
	zmq_msg_t rid, cmd, body;
	int nframes;
	bool extra_frames;
	bool has_party;
	uint8_t party[ID_BYTES];
	uint64_t conn;     /* its connection's serial; 0: none */
	int conn_rc;       /* why it has none */
	size_t bytes;
};

/*
 * What must be settled before a turn's outputs may leave, one bit each.
 * A gate is passed once its outcome is known: a commit that failed has
 * turned its replies into ERR by then, and those may leave.
 */
enum turn_gate {
	TURN_GATE_COMMIT = 1u << 0, /* the turn's commit returned */
};
#define TURN_GATES_ALL TURN_GATE_COMMIT

/* One turn: what it read, its transaction, the gates it passed. */
struct turn {
	struct broker *b;
	struct inmsg in[BROKER_TURN_MAX_MSGS];
	bool ahead[BROKER_TURN_MAX_MSGS]; /* committed ahead of the turn */
	size_t n;              /* messages read */
	int64_t now;           /* s, the turn's clock */
	MDB_txn *txn;          /* the turn's transaction; NULL: none began */
	size_t out_mark;       /* b->nout when it began: what its failure undoes */
	unsigned gates;        /* passed, enum turn_gate */
	bool released;
	int64_t start_us, work_end_us; /* a benchmark build's timings */
};

/* Read one message (all its frames) without waiting; false if none. */
static bool
read_one(struct broker *b, struct inmsg *in)
{
	int more = 0;
	size_t ml = sizeof(more);
	zmq_msg_t *slots[3] = {&in->rid, &in->cmd, &in->body};
	const char *uid;

	memset(in, 0, sizeof(*in));
	in->conn_rc = CARNET_E_AUTH;
	zmq_msg_init(&in->rid);
	if (zmq_msg_recv(&in->rid, b->router, ZMQ_DONTWAIT) < 0) {
		zmq_msg_close(&in->rid);
		return false;
	}
	in->nframes = 1;
	zmq_msg_init(&in->cmd);
	zmq_msg_init(&in->body);
	for (;;) {
		zmq_msg_t scratch, *dst;

		if (zmq_getsockopt(b->router, ZMQ_RCVMORE, &more, &ml) != 0 ||
		    !more)
			break;
		if (in->nframes < 3) {
			dst = slots[in->nframes];
		} else {
			zmq_msg_init(&scratch);
			dst = &scratch;
		}
		if (zmq_msg_recv(dst, b->router, 0) < 0)
			break;
		if (in->nframes >= 3) {
			zmq_msg_close(&scratch);
			in->extra_frames = true;
		}
		in->nframes++;
	}
	if (in->nframes >= 2 &&
	    (uid = zmq_msg_gets(&in->cmd, "User-Id")) != NULL &&
	    id_decode(uid, in->party) == 0)
		in->has_party = true;
	in->bytes = zmq_msg_size(&in->cmd) + zmq_msg_size(&in->body);
	if (in->has_party) {
		struct conn *c;

		in->conn_rc = conn_of_msg(b, &in->cmd, zmq_msg_data(&in->rid),
		    zmq_msg_size(&in->rid), in->party, &c);
		if (c != NULL)
			in->conn = c->serial;
	}
	return true;
}

static void
inmsg_close(struct inmsg *in)
{
	zmq_msg_close(&in->rid);
	zmq_msg_close(&in->cmd);
	zmq_msg_close(&in->body);
}

static void
refuse(struct broker *b, struct inmsg *in, bool has_req, uint64_t req,
    const struct cerr *err)
{
	b->n_refused++;
	out_error(b, conn_find(b, in->conn), has_req, req, err);
}

/* Decode, check and handle one request in a nested transaction. */
static void
turn_one(struct broker *b, MDB_txn *parent, struct inmsg *in, int64_t now)
{
	struct cerr err = {0};
	struct req r;
	msgpack_unpacked tree;
	msgpack_sbuffer reply;
	const msgpack_object *o;
	struct store_size before;
	size_t mark;
	bool guard;
	int rc;

	memset(&r, 0, sizeof(r));
	r.b = b;
	/* NULL if it ended since (then no reply: its routing id may be
	 * someone else's now) */
	r.conn = conn_find(b, in->conn);
	r.now = now;
	if (in->conn == 0 && in->conn_rc == CARNET_E_FORBIDDEN)
		return; /* a chosen routing id: closed, nothing done */
	if (in->nframes != 3 || in->extra_frames) {
		cerr_set(&err, CARNET_E_MALFORMED,
		    "want two frames: [command][msgpack body]");
		refuse(b, in, false, 0, &err);
		return;
	}
	if (!in->has_party || party_cached(b, parent, in->party, &r.from) != 0) {
		cerr_set(&err, CARNET_E_UNKNOWN_PARTY,
		    "your key is no longer registered");
		refuse(b, in, false, 0, &err);
		return;
	}
	r.cmd = proto_cmd_parse(zmq_msg_data(&in->cmd), zmq_msg_size(&in->cmd));
	if (r.cmd == CMD__NONE) {
		cerr_set(&err, CARNET_E_UNKNOWN_COMMAND,
		    "unknown command (see the protocol in README.md)");
		refuse(b, in, false, 0, &err);
		return;
	}
	if (zmq_msg_size(&in->body) > CARNET_FRAME_MAX_BYTES) {
		cerr_set(&err, CARNET_E_TOO_BIG, "%s: body of %zu bytes, at "
		    "most %d", proto_cmd_name(r.cmd), zmq_msg_size(&in->body),
		    CARNET_FRAME_MAX_BYTES);
		refuse(b, in, false, 0, &err);
		return;
	}
	if ((rc = mpk_unpack(zmq_msg_data(&in->body), zmq_msg_size(&in->body),
	    CARNET_MSGPACK_MAX_DEPTH, &tree)) != 0) {
		cerr_set(&err, rc, "%s: body is not valid msgpack (%s)",
		    proto_cmd_name(r.cmd), carnet_strerror(rc));
		refuse(b, in, false, 0, &err);
		return;
	}
	r.body = &tree.data;
	if ((o = mpk_get(r.body, "req")) != NULL)
		r.has_req = mpk_u64(o, &r.req) == 0;
	if (r.body->type != MSGPACK_OBJECT_MAP) {
		cerr_set(&err, CARNET_E_MALFORMED, "%s: body must be a map",
		    proto_cmd_name(r.cmd));
		refuse(b, in, false, 0, &err);
		msgpack_unpacked_destroy(&tree);
		return;
	}
	/* A peer that does not read its replies gets no more work done but
	 * what queues no reply (C_BUSY_OK); its feed waits too (deliver.c). */
	if (r.conn != NULL && !conn_may_queue(r.conn) &&
	    !(proto_cmd_flags(r.cmd) & C_BUSY_OK)) {
		cerr_set(&err, CARNET_E_BUSY, "%s: %llu bytes of replies wait "
		    "for you (at most %d): read them first",
		    proto_cmd_name(r.cmd),
		    (unsigned long long)conn_queued(r.conn),
		    BROKER_CONN_QUEUE_BYTES);
		refuse(b, in, r.has_req, r.req, &err);
		msgpack_unpacked_destroy(&tree);
		return;
	}
	msgpack_sbuffer_init(&reply);
	r.reply = &reply;
	mark = b->nout;
	/* in the reserve, only a person's way out may make the store grow */
	guard = !(proto_cmd_flags(r.cmd) & C_RESERVE) && reserve_in(b, parent);
	if ((rc = store_txn_begin(b->store, parent, true, &r.txn, &err)) == 0) {
		if (guard)
			store_size(b->store, r.txn, &before);
		dispatch_request(&r, &err, &rc);
		if (rc == 0 && guard && reserve_grew(b, r.txn, &before))
			rc = cerr_set(&err, CARNET_E_STORE_FULL, "%s: the store "
			    "is %u%% full: past %d%% it takes only "
			    "revocations, pauses and erasures until the "
			    "operator makes room (carnetd --map-size)",
			    proto_cmd_name(r.cmd), reserve_fill_pct(b, r.txn),
			    BROKER_RESERVE_FILL_PCT);
		if (rc == 0)
			rc = store_txn_commit(&r.txn, &err);
		else
			store_txn_abort(&r.txn);
		if (rc != 0) {
			cache_rollback(b);
			/* a delegate who overstepped: the person sees it */
			(void)deleg_log_refused(&r, parent, &err);
		}
	}
	if (rc != 0) {
		if (err.code == 0)
			cerr_set(&err, rc, "%s", carnet_strerror(rc));
		while (b->nout > mark)
			out_pop(b);
		refuse(b, in, r.has_req, r.req, &err);
		/* a line a minute per party: the store full refuses many */
		if ((rc == CARNET_E_STORE_FULL || rc == CARNET_E_STORE) &&
		    !conn_refusal_logged(b, r.from->id))
			log_warnx("%s from %s: %s", proto_cmd_name(r.cmd),
			    r.from->name, cerr_msg(&err));
	} else if (!(proto_cmd_flags(r.cmd) & C_NO_REPLY)) {
		struct outmsg *m = out_push(b, r.conn,
		    r.reply_cmd ? r.reply_cmd : MSG_OK, true);

		if (m != NULL) {
			m->has_req = r.has_req;
			m->req = r.req;
			if (reply.size == 0) {
				reply_begin(&r, 0);
			}
			msgpack_sbuffer_destroy(&m->body);
			m->body = reply; /* the queue owns it now */
			msgpack_sbuffer_init(&reply);
			out_count(m, r.conn);
		}
	}
	msgpack_sbuffer_destroy(&reply);
	msgpack_unpacked_destroy(&tree);
}

/* A benchmark build's clock for turn timings; 0 in the normal build. */
static int64_t
bench_clock_us(void)
{
#ifdef CARNET_BENCH
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
#else
	return 0;
#endif
}

static void
bench_turn_note(struct broker *b, int64_t start, int64_t work_end,
    int64_t commit_end)
{
	uint64_t commit = (uint64_t)(commit_end - work_end);

	b->bench_turns.turns++;
	b->bench_turns.work_us += (uint64_t)(work_end - start);
	b->bench_turns.commit_us += commit;
	if (commit > b->bench_turns.max_commit_us)
		b->bench_turns.max_commit_us = commit;
}

/*
 * Mark the messages that stop a person's data (C_AHEAD: REVOKE, PAUSE,
 * ERASE, UNDELEGATE) for a transaction of their own, committed before the
 * rest of the turn: a turn whose commit fails (the map full, a flood of
 * other requests) never takes a revocation with it.  A message whose
 * connection sent another one earlier in the turn, not so marked, keeps
 * its place after it.  How many were marked.
 */
static size_t
turn_mark_ahead(struct turn *t)
{
	struct inmsg *in = t->in;
	size_t i, j, nahead = 0;

	for (i = 0; i < t->n; i++) {
		t->ahead[i] = in[i].nframes == 3 && !in[i].extra_frames &&
		    in[i].has_party && in[i].conn != 0 &&
		    (proto_cmd_flags(proto_cmd_parse(zmq_msg_data(&in[i].cmd),
		    zmq_msg_size(&in[i].cmd))) & C_AHEAD);
		for (j = 0; t->ahead[i] && j < i; j++)
			if (in[j].conn == in[i].conn && !t->ahead[j])
				t->ahead[i] = false;
		nahead += t->ahead[i];
	}
	return nahead;
}

/* A turn's own transaction: top-level, or with the turn log a turn nested
 * in the checkpoint transaction. */
static int
turn_txn_begin(struct broker *b, MDB_txn **txn, struct cerr *err)
{
	if (b->wal != NULL)
		return store_turn_begin(b->store, txn, err);
	return store_txn_begin(b->store, NULL, true, txn, err);
}

/* The marked messages, handled and committed on their own. */
static void
turn_ahead(struct turn *t)
{
	struct broker *b = t->b;
	struct cerr err = {0};
	MDB_txn *txn;
	size_t i, mark = b->nout;

	if (turn_txn_begin(b, &txn, &err) != 0) {
		for (i = 0; i < t->n; i++)
			if (t->ahead[i])
				refuse(b, &t->in[i], false, 0, &err);
		return;
	}
	for (i = 0; i < t->n; i++)
		if (t->ahead[i])
			turn_one(b, txn, &t->in[i], t->now);
	if (store_txn_commit(&txn, &err) != 0) {
		log_warnx("commit of revocations failed: %s", cerr_msg(&err));
		b->next_timer = 0;
		cache_rollback(b);
		session_wake_all(b);
		out_fail_replies(b, mark, &err);
	}
}

/*
 * Read: what has arrived, without waiting.  libzmq hands out one message
 * per connection in turn, so stopping at a byte budget gives every sender
 * its share of the turn, however much one of them queued.
 */
static void
turn_read(struct turn *t)
{
	size_t bytes;

	for (t->n = 0, bytes = 0; t->n < BROKER_TURN_MAX_MSGS &&
	    bytes < BROKER_TURN_MAX_BYTES && read_one(t->b, &t->in[t->n]);
	    t->n++)
		bytes += t->in[t->n].bytes;
}

/*
 * Work: the revocations first, committed on their own, then everything
 * else read, the timers and the deliveries in the turn's transaction,
 * left open for turn_commit (t->txn NULL if it could not begin: then
 * every request has its ERR).
 */
static void
turn_work(struct turn *t)
{
	struct broker *b = t->b;
	struct cerr err = {0};
	MDB_txn *dtxn;
	size_t i, mark;

	t->now = time_now_ms() / 1000;
	t->start_us = bench_clock_us();
	t->gates = 0;
	t->released = false;
	t->txn = NULL;
	b->turn++;
	cache_trim(b);
	if (turn_mark_ahead(t) > 0)
		turn_ahead(t);
	t->out_mark = b->nout; /* what the main commit's failure undoes */
	if (turn_txn_begin(b, &t->txn, &err) != 0) {
		t->txn = NULL;
		for (i = 0; i < t->n; i++)
			if (!t->ahead[i])
				refuse(b, &t->in[i], false, 0, &err);
		return;
	}
	for (i = 0; i < t->n; i++)
		if (!t->ahead[i])
			turn_one(b, t->txn, &t->in[i], t->now);
	/* Timers, then deliveries, each in a nested txn: if one fails, the
	 * requests still commit. */
	mark = b->nout;
	if ((b->next_timer == 0 || t->now >= b->next_timer) &&
	    store_txn_begin(b->store, t->txn, true, &dtxn, &err) == 0) {
		if (timers_pass(b, dtxn, t->now, &err) == 0 &&
		    store_txn_commit(&dtxn, &err) == 0) {
			/* kept */
		} else {
			store_txn_abort(&dtxn);
			cache_rollback(b);
			b->next_timer = 0;
			while (b->nout > mark)
				out_pop(b);
			log_warnx("timers held back: %s", cerr_msg(&err));
		}
	}
	/* a few rows of the refusal index that count nothing, a second */
	if (t->now != b->refusal_pruned_at &&
	    store_txn_begin(b->store, t->txn, true, &dtxn, &err) == 0) {
		b->refusal_pruned_at = t->now;
		if (ulog_refusals_prune(b, dtxn, t->now, &err) != 0 ||
		    store_txn_commit(&dtxn, &err) != 0) {
			store_txn_abort(&dtxn);
			log_warnx("refusal index not pruned: %s", cerr_msg(&err));
		}
	}
	/* In the reserve deliveries wait (each writes a use-log entry); the
	 * first turn out of it takes them up again. */
	if (b->deliver_held && !reserve_in(b, t->txn)) {
		b->deliver_held = false;
		b->work = true;
		log_info("the store has room again: deliveries go on");
	} else if (b->work && reserve_in(b, t->txn)) {
		if (!b->deliver_held)
			log_warnx("the store is %u%% full: deliveries wait until "
			    "the operator makes room (carnetd --map-size)",
			    reserve_fill_pct(b, t->txn));
		b->deliver_held = true;
		b->work = false;
	}
	mark = b->nout;
	if (b->work &&
	    store_txn_begin(b->store, t->txn, true, &dtxn, &err) == 0) {
		if (deliver_pass(b, dtxn, t->now, &err) == 0 &&
		    store_txn_commit(&dtxn, &err) == 0) {
			/* kept */
		} else {
			store_txn_abort(&dtxn);
			undo_apply(b);
			cache_rollback(b);
			session_wake_all(b);
			while (b->nout > mark)
				out_pop(b);
			log_warnx("delivery held back: %s", cerr_msg(&err));
		}
	}
	t->work_end_us = bench_clock_us();
}

/*
 * Release: the turn's replies and records leave.  Called once, by
 * turn_gate_pass, when every gate of the turn is passed: the witness of
 * the store's withdrawals is written (synced) before anyone is told of
 * one, then the queue is flushed; the feeds of connections a send failed
 * to end.
 */
static void
turn_release(struct turn *t)
{
	struct broker *b = t->b;

	t->released = true;
	witness_after_commit(b->witness, b->store); /* before anyone is told */
	if (out_flush(b) > 0)
		session_drop_failed(b);
}

/* The turn passed gate: released when that was the last one. */
static void
turn_gate_pass(struct turn *t, enum turn_gate gate)
{
	t->gates |= (unsigned)gate;
	if (!t->released && (t->gates & TURN_GATES_ALL) == TURN_GATES_ALL)
		turn_release(t);
}

/*
 * LMDB committed, with its full sync, and the log written again from its
 * start.  A failure is fatal: turns already told are in the log, which
 * the next start applies again.
 */
static void
turn_checkpoint(struct broker *b)
{
	struct cerr err = {0};

	if (!store_checkpoint_pending(b->store))
		return;
	if (store_checkpoint(b->store, &err) != 0)
		fatalx("checkpoint: %s (what was acknowledged is in the turn "
		    "log, applied again at the next start)", cerr_msg(&err));
	wal_restart(b->wal, store_turns_gen(b->store));
	b->checkpoint_at = time_now_ms();
	b->n_checkpoints++;
}

/*
 * With the turn log, a turn's commit: its transaction kept in the
 * checkpoint transaction, its write set written to the log and synced;
 * then a checkpoint if one is due.  A commit that fails still writes
 * what the turn's revocations, committed ahead, wrote.  A log that cannot
 * be written or synced is fatal: nothing of the turn was told yet.
 */
static int
turn_log_write(struct broker *b, MDB_txn **txn, struct cerr *err)
{
	struct cerr lerr = {0};
	const uint8_t *ws;
	size_t len;
	int rc;

	rc = store_turn_end(b->store, txn, true, &ws, &len, err);
	if (rc == CARNET_E_IO)
		fatalx("%s (nothing of this turn was told; the turns before it "
		    "are applied again at the next start)", cerr_msg(err));
	if (len > 0 && (wal_write(b->wal, ++b->wal_turn, ws, len,
	    &lerr) != 0 || wal_sync(b->wal, &lerr) != 0))
		fatalx("turn log: %s (nothing of this turn was told; the turns "
		    "before it are applied again at the next start)",
		    cerr_msg(&lerr));
	if (store_checkpoint_due(b->store) ||
	    time_now_ms() - b->checkpoint_at >= b->checkpoint_ms ||
	    wal_size(b->wal) >= CHECKPOINT_LOG_BYTES ||
	    b->wal_turn % CHECKPOINT_TURNS == 0)
		turn_checkpoint(b);
	return rc;
}

/*
 * Commit: the turn's transaction, durably.  If it fails, what the turn
 * changed in memory is undone and the replies queued since it began
 * become ERR (those of the revocations committed ahead stay).  Either way
 * the commit's gate is passed.
 */
static void
turn_commit(struct turn *t)
{
	struct broker *b = t->b;
	struct cerr err = {0};
	int rc;

	if (t->txn != NULL) {
		rc = b->wal != NULL ? turn_log_write(b, &t->txn, &err) :
		    store_txn_commit(&t->txn, &err);
		t->txn = NULL;
		bench_turn_note(b, t->start_us, t->work_end_us,
		    bench_clock_us());
		if (rc != 0) {
			log_warnx("commit failed: %s", cerr_msg(&err));
			b->next_timer = 0;
			undo_apply(b);
			cache_rollback(b);
			session_wake_all(b);
			out_fail_replies(b, t->out_mark, &err);
		}
		undo_clear(b);
	} else if (b->wal != NULL) {
		/* no turn transaction: what was committed ahead still goes
		 * to the log before its replies leave */
		(void)turn_log_write(b, &t->txn, &err);
	}
	turn_gate_pass(t, TURN_GATE_COMMIT);
}

static void
turn_close(struct turn *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		inmsg_close(&t->in[i]);
}

/*
 * How long the loop may wait for work: with the turn log, turns not yet
 * checkpointed are committed when the checkpoint period ends, idle or not
 * (readers of the store see them then, and `carnet party add` waits no
 * longer for the writer's lock).
 */
static long
idle_wait(struct broker *b)
{
	int64_t left;

	if (b->wal == NULL || !store_checkpoint_pending(b->store))
		return BROKER_POLL_MS;
	left = b->checkpoint_at + b->checkpoint_ms - time_now_ms();
	if (left <= 0) {
		turn_checkpoint(b);
		return BROKER_POLL_MS;
	}
	return left < BROKER_POLL_MS ? (long)left : BROKER_POLL_MS;
}

void
turn_loop(struct broker *b)
{
	static struct turn t;
	zmq_pollitem_t items[3] = {
		{b->zap, 0, ZMQ_POLLIN, 0},
		{b->router, 0, ZMQ_POLLIN, 0},
		{b->mon, 0, ZMQ_POLLIN, 0},
	};
	int64_t last_tick = time_now_ms(), last_report = last_tick;
	uint64_t stored = 0, sent = 0;
	size_t i;
	int rc;

	t.b = b;
	while (!broker_stop) {
		/*
		 * While there is work or the last turn read something, the
		 * ROUTER is only read without waiting; it is polled when the
		 * broker has nothing to do and waits.  Polling it asks libzmq
		 * whether it could send, which with ROUTER_MANDATORY walks the
		 * peers' pipes until one has room: all of them when every
		 * peer's queue is full (stalled apps).
		 */
		if (b->work || t.n > 0)
			rc = zmq_poll(items, 1, 0); /* the ZAP handler only */
		else
			rc = zmq_poll(items, 3, idle_wait(b));
		if (rc < 0) {
			if (zmq_errno() == EINTR)
				continue;
			fatalx("poll: %s", zmq_strerror(zmq_errno()));
		}
		if (items[0].revents & ZMQ_POLLIN)
			for (i = 0; i < 64; i++)
				zap_handle(b);
		conn_monitor_drain(b);
		turn_read(&t);
		if (time_now_ms() - last_tick >= TICK_MS) {
			/* Time ends consents and wakes feeds that wait. */
			last_tick = time_now_ms();
			b->work = b->work || b->next_timer == 0 ||
			    last_tick / 1000 >= b->next_timer;
			session_tick(b, last_tick);
			conn_sweep(b, last_tick);
		}
		if (t.n > 0 || b->work) {
			turn_work(&t);
			turn_commit(&t);
		}
		turn_close(&t);
		if (time_now_ms() - last_report >= 10000 &&
		    (b->n_stored != stored || b->n_sent != sent)) {
			log_info("%llu records stored, %llu sent to apps",
			    (unsigned long long)b->n_stored,
			    (unsigned long long)b->n_sent);
			stored = b->n_stored;
			sent = b->n_sent;
			last_report = time_now_ms();
		}
	}
	if (b->wal != NULL)
		turn_checkpoint(b);
}
