/*
 * broker.h: carnetd's private header, every function listed by file.
 *
 * carnetd is one process with one zmq_poll loop over a CurveZMQ ROUTER
 * socket and the in-process ZAP handler, and one LMDB environment.  A loop
 * turn reads what has arrived, handles it in one write transaction (each
 * request in a nested one, so a bad request undoes only itself), sends
 * what consent allows to subscribed apps, writing their use-log entries
 * in the same transaction, commits durably, and only then sends replies
 * and records.  Revocation is therefore ordered before every later send.
 */
#ifndef CARNET_BROKER_H
#define CARNET_BROKER_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include <msgpack.h>
#include <uthash.h>
#include <zmq.h>

#include "../common/error.h"
#include "../common/limits.h"
#include "../common/proto.h"
#include "../policy/key.h"
#include "../policy/party.h"
#include "../policy/token.h"
#include "../store/store.h"

#define ROUTING_ID_MAX 256
#define ZAP_DOMAIN "carnet"

struct session;
struct conn_acct;

/*
 * One client connection (conn.c): admitted by the ZAP handler for one
 * party, known by the serial that handler gave it, ended when the socket
 * monitor says its TCP connection ended.  Its routing id is only an
 * address, checked against the connection on every message.
 */
struct conn {
	uint64_t serial;
	uint8_t party[ID_BYTES];
	int64_t zap_ms;          /* admitted at */
	uint64_t zap_evseq;      /* monitor events seen when admitted */
	bool registered;         /* its first message came: fd and rid known */
	int fd;
	uint32_t gen;            /* the gen-th connection accepted on fd */
	uint8_t rid[ROUTING_ID_MAX];
	size_t rid_len;
	struct conn_acct *acct;  /* bytes handed to libzmq, not yet released */
	uint64_t pending_bytes;  /* bytes queued this turn, not yet handed */
	struct session *session; /* its feed, if it subscribed */
	bool send_failed;        /* a send to it failed (out_flush) */
	int send_errno;          /* and why */
	UT_hash_handle hh;
};

/* A token a feed sent records under that the app has not acked yet. */
struct inflight {
	uint8_t tok[TOKID_BYTES];
	uint64_t sent;     /* the last seq sent under it */
	uint64_t scan;     /* the last seq examined (>= sent) */
	UT_hash_handle hh;
};

/*
 * A subscribed app connection: one per connection that sent SUB.  It
 * holds no consents (they are read from LMDB when due), only where it
 * stands: see session.c.
 */
struct session {
	struct conn *conn;
	struct party app;
	uint8_t (*users)[ID_BYTES]; /* SUB's users, sorted; NULL: everyone */
	unsigned nusers;
	struct inflight *inflight;  /* by token */
	unsigned ninflight;
	struct app_feeds *feeds;    /* its app's feeds (session.c) */
	uint8_t pos[TOKID_BYTES];   /* the last due token visited */
	bool has_pos;
	bool awake;                 /* on b->awake */
	int64_t wake_at;            /* wake at this time, s (0: no) */
	uint64_t credit;
	int64_t last_seen_ms;
	struct session *anext, *aprev; /* b->awake */
	struct session *snext, *sprev; /* the app's sessions */
	UT_hash_handle hh;          /* b->sessions, by conn */
};

struct party_entry {
	uint8_t id[ID_BYTES];
	struct party p;
	UT_hash_handle hh;
};

/* A decoded token, kept so that a delivery need not decode it again. */
struct token_entry {
	uint8_t id[TOKID_BYTES];
	struct token t;
	UT_hash_handle hh;
};

struct user_last {
	uint8_t user[ID_BYTES];
	uint64_t seq;
	UT_hash_handle hh;
};

/* The head of a person's use log, as of the transaction being written. */
struct log_head {
	uint8_t user[ID_BYTES];
	uint64_t seq;
	uint8_t hash[HASH_BYTES];
	UT_hash_handle hh;
};

/*
 * The clear bytes of records stored lately (recent.c): a ring of cap
 * bytes, entries in seq order; ix is circular (head, n), the first
 * ncommitted entries are known committed.
 */
struct recent_ent {
	uint64_t seq;
	size_t off;        /* in buf: the person's id, then the record */
	size_t len;        /* the record's bytes */
	bool gone;         /* wiped (the person erased): a miss */
};

struct recent {
	uint8_t *buf;
	size_t cap;        /* bytes; 0: nothing kept */
	size_t wpos;       /* where the next entry goes, or 0 */
	size_t bytes;      /* held by live entries */
	struct recent_ent *ix;
	size_t ixcap, head, n, ncommitted;
};

/* A message to send after the commit, to one connection (by serial: if
 * it ended meanwhile, the message is dropped). */
struct outmsg {
	uint64_t conn;
	const char *cmd;
	msgpack_sbuffer body;
	size_t skip;      /* leading bytes of body not sent (room for a header) */
	bool is_reply;    /* a reply (sent as ERR if the commit fails) */
	size_t counted;   /* bytes in its connection's pending_bytes */
	bool has_req;
	uint64_t req;
};

/* In-memory state changed by the delivery pass, restored if the commit
 * fails (entries are applied last to first). */
struct undo_entry {
	uint64_t *where;
	uint64_t old;
};

struct fd_state;
struct party_conns;
struct app_feeds;

struct broker {
	void *ctx, *router, *zap, *mon;
	struct store *store;
	struct keypair key;
	char endpoint[256];
	struct conn *conns;        /* by serial */
	struct party_conns *party_conns;
	struct fd_state *fds;      /* by fd */
	size_t nfds;
	uint64_t evseq;            /* monitor events seen */
	uint64_t conn_serial;      /* the last serial given */
	struct session *sessions;  /* by connection */
	struct app_feeds *feeds;   /* sessions by app */
	struct session *awake;     /* sessions the delivery pass visits */
	/* Called by conn_end before a connection goes: the layer above
	 * (session.c) ends what lives on it.  conn.c knows no sessions. */
	void (*conn_ending)(struct broker *b, struct conn *c);
	/* Caches (cache.c), each trimmed to cache_max entries at the start
	 * of a turn: the oldest go first. */
	size_t cache_max;
	/* Consents one app may have unacked records under, all its feeds
	 * together (carnetd --inflight): what a feed holds is bounded by
	 * configuration, whatever an app does. */
	unsigned inflight_max;
	struct party_entry *parties;
	struct token_entry *tokens;
	struct user_last *ulast;
	struct log_head *heads;
	/* Records stored lately, in the clear (carnetd --recent): deliveries
	 * served from it, and those that opened the stored record. */
	struct recent recent;
	uint64_t n_from_memory, n_opened;
	struct outmsg *out;
	size_t nout, capout;
	struct undo_entry *undo;
	size_t nundo, capundo;
	unsigned turn;
	bool work; /* the delivery pass may find something to send */
	uint64_t n_stored, n_sent, n_refused;
	uint64_t n_examined; /* consents the delivery passes looked at */
	/*
	 * Guarantees switched off to measure their cost: only in a benchmark
	 * build (make bench compiles with CARNET_BENCH); always false otherwise.
	 */
	bool bench_plain, bench_nolog;
	int64_t log_broken_warned; /* last "records held back" line, s */
	/*
	 * Where a benchmark build's turns go (CARNET_BENCH_TURNS names the
	 * file written at exit): time handling the turn, time in its commit.
	 */
	struct {
		uint64_t turns, work_us, commit_us, max_commit_us;
	} bench_turns;
	/* Consent lifecycle (carnetd options). */
	int64_t notice_secs;    /* notice this long before a token ends */
	int64_t review_secs;    /* an open-ended token's review period */
	int64_t emergency_secs; /* how long an emergency opening lasts */
	int64_t next_timer;     /* earliest timer; 0: unknown, read it */
	/* Refusals (req.c): one logged per party, person and period of
	 * refusal_secs; those neither logged nor counted in the index (past
	 * a party's budget, or in the reserve), since start. */
	int64_t refusal_secs;
	uint64_t n_refusals_unlogged;
	uint8_t refusal_prune_pos[STORE_REFUSAL_POS_BYTES]; /* pruning's place */
	int64_t refusal_pruned_at;               /* s */
	/* Deliveries held back while the store is in its reserve
	 * (reserve.c): the first turn out of it wakes them. */
	bool deliver_held;
	struct witness *witness; /* the store's withdrawals, outside DIR */
	/* The turn log (--checkpoint, turn.c): turns written ahead of LMDB,
	 * which is committed every checkpoint_ms (0: every turn, no log). */
	struct wal *wal;
	int64_t checkpoint_ms;
	int64_t checkpoint_at;    /* ms, the last checkpoint */
	uint64_t wal_turn;        /* the last turn written to the log */
	uint64_t n_checkpoints;
};

/* One request being handled. */
struct req {
	struct broker *b;
	MDB_txn *txn;
	struct conn *conn;
	const struct party *from;
	/* The person the request is about: from itself, or the person a
	 * delegate acts for ("for" in the body); then deleg is set. */
	const struct party *who;
	const struct delegation *deleg;
	enum carnet_cmd cmd;
	const msgpack_object *body;
	bool has_req;
	uint64_t req;
	int64_t now;
	const char *reply_cmd;
	msgpack_sbuffer *reply;
	msgpack_packer pk;
};

/* A reply's "names": {id: name} of the parties a listing mentions. */
struct names {
	uint8_t ids[REPLY_NAMES_MAX][ID_BYTES];
	unsigned nids;
};

/*
 * The files, and who calls whom (no cycles): carnetd.c starts the broker
 * and calls turn.c's loop; turn.c calls dispatch, timers, deliver, out,
 * conn, zap, session and witness; dispatch.c calls the handler files
 * (holder, app, person, person_data, delegation, emergency, operator);
 * those call req.c (the toolkit), timers, session and cache;
 * deliver.c calls session, out and cache; session.c calls out and cache;
 * out.c calls conn; req.c calls cache and out's error packing; cache
 * calls recent; recent, conn and log call nothing of the broker's.
 */

/*
 * turn.c: the loop, until broker_stop (set by a signal handler): each
 * turn reads, works (one write transaction, the revocations committed
 * ahead of it), commits, and releases its replies and records once every
 * gate of the turn is passed (today its commit).
 */
extern volatile sig_atomic_t broker_stop;
void turn_loop(struct broker *b);

/* log.c: carnetd's own diagnostics on stderr (not a person's use log). */
void log_init(const char *progname);
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatalx(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

/* zap.c */
int zap_start(struct broker *b, struct cerr *err);
void zap_handle(struct broker *b);

/* conn.c */
void conn_seed_ids(void);
/* Spend one of party's REQUESTs (REQUESTS_BURST, then REQUESTS_PER_S):
 * false when it asks too fast. */
bool conn_may_request(struct broker *b, const uint8_t party[ID_BYTES]);
/* Spend one of party's refusal entries (REFUSALS_BURST, then
 * REFUSALS_PER_S): false when its refusals come too fast to be logged. */
bool conn_may_log_refusal(struct broker *b, const uint8_t party[ID_BYTES]);
int conn_monitor_start(struct broker *b, struct cerr *err);
/* Read every monitor event: connections whose socket closed end. */
void conn_monitor_drain(struct broker *b);
/* The ZAP handler admits party: a new connection and its serial, or -1
 * and why (too many connections, too fast). */
int conn_admit(struct broker *b, const uint8_t party[ID_BYTES],
    uint64_t *serial, const char **why);
/* True when a refusal for this party was logged in the last minute. */
bool conn_refusal_logged(struct broker *b, const uint8_t party[ID_BYTES]);
/* The ZAP metadata naming the serial; its length (0: no room). */
size_t conn_prop(uint64_t serial, uint8_t *buf, size_t size);
/* The live connection a message came from, or an error: it ended, or it
 * chose its routing id (then it is closed). */
int conn_of_msg(struct broker *b, zmq_msg_t *cmd, const uint8_t *rid,
    size_t rid_len, const uint8_t party[ID_BYTES], struct conn **out);
struct conn *conn_find(struct broker *b, uint64_t serial);
void conn_end(struct broker *b, struct conn *c);
void conn_end_all(struct broker *b);
void conn_sweep(struct broker *b, int64_t now_ms);
/* A message whose body is buf[skip..skip+n), counted against c until
 * libzmq releases it (then buf is freed); -1 leaves buf to the caller. */
int conn_msg_init(struct conn *c, zmq_msg_t *msg, char *buf, size_t skip,
    size_t n);
uint64_t conn_queued(const struct conn *c);
uint64_t conn_queued_total(void);
/* Below its own and the broker's bounds on queued bytes. */
bool conn_may_queue(const struct conn *c);

/* reserve.c: the room kept for ending consents (BROKER_RESERVE_FILL_PCT);
 * the commands taken in it are marked C_RESERVE (common/proto.h). */
/* The share of the map txn's databases hold, in percent. */
unsigned reserve_fill_pct(struct broker *b, MDB_txn *txn);
bool reserve_in(struct broker *b, MDB_txn *txn);
/* txn holds more pages or entries than before (store_size). */
bool reserve_grew(struct broker *b, MDB_txn *txn,
    const struct store_size *before);

/* cache.c */
int party_cached(struct broker *b, MDB_txn *txn, const uint8_t id[ID_BYTES],
    const struct party **p);
int user_last_get(struct broker *b, MDB_txn *txn, const uint8_t user[ID_BYTES],
    uint64_t *seq);
void user_last_set(struct broker *b, const uint8_t user[ID_BYTES], uint64_t seq);
/* Append e to the person's use log, after the head kept in memory.  Every
 * use-log entry the broker writes goes through here. */
int ulog_append(struct broker *b, MDB_txn *txn,
    const uint8_t user[ID_BYTES], struct uselog_entry *e, struct cerr *err)
    __attribute__((warn_unused_result));
/* Read and check the person's log head into memory, if it is not there:
 * after 0, an append fails only as the store fails (never
 * CARNET_E_LOG_BROKEN). */
int ulog_head_load(struct broker *b, MDB_txn *txn,
    const uint8_t user[ID_BYTES], struct cerr *err)
    __attribute__((warn_unused_result));
/* The decoded token of st (its state read in this very transaction). */
int token_cached(struct broker *b, const uint8_t id[TOKID_BYTES],
    const struct token_state *st, const struct token **t)
    __attribute__((warn_unused_result));
/* A token's bytes changed (renewed) or it ended. */
void token_forget(struct broker *b, const uint8_t id[TOKID_BYTES]);
/* At the start of a turn (no pointer into a cache is held): each cache
 * down to b->cache_max entries. */
void cache_trim(struct broker *b);
/* After any abort: forget what may not have committed (heads, last seqs,
 * tokens). */
void cache_rollback(struct broker *b);
/* At exit: everything. */
void cache_free(struct broker *b);
/* The bytes of user's record seq as stored: from b->recent when it holds
 * them, else opened from the store (store_record_get); valid until the
 * next call, PUT or abort. */
int record_open(struct broker *b, MDB_txn *txn, const uint8_t user[ID_BYTES],
    uint64_t seq, MDB_val *v, struct cerr *err)
    __attribute__((warn_unused_result));

/*
 * recent.c: the clear bytes of records stored lately, by seq, bounded.
 * init: max_bytes of ring (0: nothing kept; allocated at the first put);
 * release wipes and frees it all.  put copies p (what was sealed for
 * user's seq), after dropping any entry at seq or beyond (a seq given
 * again after an abort); the oldest entries go to make room; a record
 * larger than the ring is not kept; CARNET_E_NOMEM leaves the ring as it
 * was less what was dropped.  get: false on a miss; *v points into the
 * ring until the next put, forget, rollback or release.  forget_user
 * wipes the person's entries (an erasure).  commit: everything put so
 * far has committed; rollback wipes what was put since.
 */
void recent_init(struct recent *r, size_t max_bytes);
void recent_release(struct recent *r);
int recent_put(struct recent *r, const uint8_t user[ID_BYTES], uint64_t seq,
    const void *p, size_t len);
bool recent_get(struct recent *r, const uint8_t user[ID_BYTES], uint64_t seq,
    MDB_val *v);
void recent_forget_user(struct recent *r, const uint8_t user[ID_BYTES]);
void recent_commit(struct recent *r);
void recent_rollback(struct recent *r);

/* out.c: replies and pushes queued during a turn, sent after its commit
 * to connections by serial.  It knows connections, not sessions: a send
 * that fails marks the connection (c->send_failed) for the loop. */
struct outmsg *out_push(struct broker *b, struct conn *c, const char *cmd,
    bool is_reply);
void out_pop(struct broker *b);
/* The body is complete: count it against the connection until it leaves
 * (conn_may_queue sees it before it is handed to libzmq). */
void out_count(struct outmsg *m, struct conn *c);
/* Send everything queued; the number of connections a send failed to. */
size_t out_flush(struct broker *b);
/* The commit that messages from `from` on depended on failed: replies
 * among them become ERR err, the rest are dropped; those before stay. */
void out_fail_replies(struct broker *b, size_t from, const struct cerr *err);
void out_error(struct broker *b, struct conn *c, bool has_req, uint64_t req,
    const struct cerr *err);
void out_pack_error(msgpack_sbuffer *sb, bool has_req, uint64_t req,
    const struct cerr *err);

/* session.c */
/* users: only these people's records (NULL: every person's); ended tokens
 * whose erasure the app has not confirmed get their REVOKED again (at
 * most SUB_MAX_REMINDERS: *reminders says how many). */
int session_subscribe(struct broker *b, MDB_txn *txn, struct conn *c,
    const struct party *app, const msgpack_object *users,
    int64_t now_ms, struct session **out, unsigned *reminders,
    struct cerr *err);
void session_drop(struct broker *b, struct session *s);
/* b->conn_ending: the connection's feed, if any, ends with it. */
void session_conn_ending(struct broker *b, struct conn *c);
void session_drop_all(struct broker *b);
/* Once a tick: drop idle feeds, wake those whose time came. */
void session_tick(struct broker *b, int64_t now_ms);
/* Drop the feeds of connections a send failed to (out_flush): they start
 * again from the durable cursors when the app subscribes again. */
void session_drop_failed(struct broker *b);
/* The delivery pass will visit s (session_sleep: will not). */
void session_wake(struct broker *b, struct session *s);
void session_sleep(struct broker *b, struct session *s);
/* After a delivery pass or a commit was undone: what the passes did is
 * to be done again, so every feed is woken. */
void session_wake_all(struct broker *b);
/* Wake s at `at` (s) if nothing wakes it before. */
void session_wake_at(struct session *s, int64_t at);
/* Something may be due for app: wake its sessions. */
void session_wake_app(struct broker *b, const uint8_t app[ID_BYTES]);
bool session_wants_user(const struct session *s, const uint8_t user[ID_BYTES]);
/* A session's unacked tokens, counted for its app against
 * b->inflight_max.  inflight_full says the app has no room (its feeds
 * are woken when an entry of any of them is freed); never call
 * inflight_free on an entry the delivery pass noted for undo. */
struct inflight *inflight_find(struct session *s,
    const uint8_t tok[TOKID_BYTES]);
bool inflight_full(const struct broker *b, struct session *s);
struct inflight *inflight_add(struct session *s,
    const uint8_t tok[TOKID_BYTES], uint64_t scan);
void inflight_free(struct broker *b, struct session *s, struct inflight *e);
/* A token ended: no more in flight under it; queue REVOKED to the app's
 * sessions, with what the app must erase. */
void session_token_ended(struct broker *b, MDB_txn *txn, const struct token *t,
    const char *reason);

/* req.c: the request toolkit. */
void reply_begin(struct req *r, uint32_t nkeys);
/* Reply ERR with why, while what the handler wrote commits. */
void reply_error(struct req *r, const struct cerr *why);
/* Refuse keys other than the NULL-terminated list (and "req", "for"). */
int body_keys(struct req *r, struct cerr *err, ...);
/* Each item of the list types names a record type, or ERR unknown_type
 * saying "CMD: types[N] is no record type". */
int body_types(struct req *r, const msgpack_object *types, struct cerr *err)
    __attribute__((warn_unused_result));
/* A paged listing's body {from?, limit?}: *from keeps its default when
 * absent; *limit is page when absent, 0 or over it. */
int body_page(struct req *r, uint64_t *from, uint64_t *limit, uint64_t page,
    struct cerr *err) __attribute__((warn_unused_result));
/* The signed bytes the body holds under key, or ERR malformed saying
 * "CMD: want KEY, WHAT". */
int signed_arg(struct req *r, const char *key, const char *what,
    const uint8_t **p, size_t *n, struct cerr *err);
int stat_add(struct req *r, struct cerr *err, uint64_t n, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));
/* Items gathered for a reply {key: [item...]} (or a map of n pairs). */
struct items {
	struct req *r;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	uint32_t n;
};
void items_init(struct items *it, struct req *r);
/* Reply with the items if rc is 0 (extra keys follow if nextra > 0), and
 * free them; returns rc, with err set when it is not 0. */
int items_reply(struct items *it, const char *key, bool map, uint32_t nextra,
    int rc, struct cerr *err);
/* The end of a page of a listing: "more" and, when given, "next" (where
 * the next page starts): two keys, or one. */
void reply_page_end(struct req *r, bool more, const uint64_t *next);
void names_note(struct names *n, const uint8_t *id);
void names_pack(struct req *r, const struct names *n);
/* A use-log entry of this kind at r->now, naming the delegate if one acts. */
void ulog_entry_init(struct uselog_entry *e, struct req *r,
    enum uselog_kind kind);
/* The entry is about token t: its app, id and purpose. */
void ulog_entry_about(struct uselog_entry *e, const struct token *t);
/* A delegate read the person's dashboard (what): that is an act, logged;
 * nothing when the person reads their own. */
int ulog_view(struct req *r, const char *what, struct cerr *err);
/* A refused attempt by the sending app, in the person's log. */
int ulog_refused(struct req *r, const uint8_t user[ID_BYTES],
    const struct cerr *why, struct cerr *err);
/*
 * Every refusal goes through here: e (a refused entry naming party, by
 * e->app or e->by) is written to user's log if it is party's first
 * refusal to user for this reason (why, the error code) in this period,
 * within party's budget and outside the reserve, naming in its note (and
 * rseq) how many were counted since the last one logged; otherwise it is
 * only counted (in the index, or in b->n_refusals_unlogged).  *logged
 * (may be NULL) says which.
 */
int ulog_refusal(struct broker *b, MDB_txn *txn, const uint8_t user[ID_BYTES],
    const uint8_t party[ID_BYTES], int why, struct uselog_entry *e,
    bool *logged, struct cerr *err) __attribute__((warn_unused_result));
/* Rows of the refusal index that count nothing and whose period is over:
 * removed, a few a turn. */
int ulog_refusals_prune(struct broker *b, MDB_txn *txn, int64_t now,
    struct cerr *err) __attribute__((warn_unused_result));
/*
 * Refuse an app's attempt on a person's data and write it to that
 * person's log: the reply is ERR (code, message) but the entry commits.
 * Returns 0 (the request "succeeds" in writing the refusal).
 */
int refuse_logged(struct req *r, const uint8_t user[ID_BYTES], int code,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
int party_of_role(struct req *r, const uint8_t id[ID_BYTES],
    enum party_role role, const struct party **p);
/* r->who's own consent with this id: its stored state and payload. */
int own_token(struct req *r, const uint8_t id[TOKID_BYTES],
    struct token_state *st, struct token *t, struct cerr *err);
/* A delegate's signed token or revocation: its signer must be the sender,
 * and a token must stay within the delegation. */
int deleg_check_signer(struct req *r, bool has_by, const uint8_t by[ID_BYTES],
    struct cerr *err);
int deleg_check_token(struct req *r, const struct token *t, struct cerr *err);
/* What a delegate limited to some types may see or act on: a type they
 * were given, a consent or request whose every type they were given.
 * Always true for the person themselves or an unlimited delegate. */
bool deleg_covers_type(const struct req *r, const struct schema *type);
bool deleg_covers_token(const struct req *r, const struct token *t);
bool deleg_covers_names(const struct req *r, const msgpack_object *types);
/* Refuse (beyond_delegation) a consent outside the delegate's types. */
int deleg_check_scope(struct req *r, const struct token *t, struct cerr *err);

/* The handlers, one per command of common/proto.h, by family: operator.c
 * (HELLO, STATS), holder.c (PUT), app.c (SUB, CREDIT, ACK, UNSUB, REQUEST,
 * ERASED), person.c (APPINFO, GRANT, DECLINE, REVOKE, PAUSE, RESUME, RENEW,
 * TOKENS, REQUESTS, RECEIPT), person_data.c (LOG, EXPORT, ERASE),
 * delegation.c (DELEGATE, UNDELEGATE, DELEGATES), emergency.c
 * (EMERGENCY_*). */
#define X(n, roles, deleg, f, h) int handle_##h(struct req *, struct cerr *);
CARNET_COMMANDS(X)
#undef X

/* delegation.c */
/* Check "for": a live delegation from that person to the sender, wide
 * enough for r->cmd; sets r->who and r->deleg. */
int deleg_resolve(struct req *r, struct delegation *d, struct cerr *err);
/* After a request sent "for" someone was refused as not_delegate or
 * beyond_delegation (and its transaction aborted): write the attempt to
 * that person's log (refused, by the sender, the reason as note) in a
 * transaction of its own under parent.  Any other refusal: nothing. */
int deleg_log_refused(struct req *r, MDB_txn *parent, const struct cerr *why);

/* dispatch.c */
void dispatch_request(struct req *r, struct cerr *err, int *rc);

/* timers.c: a consent's end, notices before it, reviews. */
int token_schedule(struct broker *b, MDB_txn *txn, const struct token *t,
    int64_t now, struct cerr *err) __attribute__((warn_unused_result));
int token_unschedule(struct broker *b, MDB_txn *txn, const struct token *t,
    struct cerr *err) __attribute__((warn_unused_result));
/* Fire the timers due at now (in the turn's transaction). */
int timers_pass(struct broker *b, MDB_txn *txn, int64_t now,
    struct cerr *err) __attribute__((warn_unused_result));

/*
 * witness.c: the store's withdrawal count (store_withdrawals) recorded in
 * a file outside the data directory, so that a store put back to a copy
 * older than a revocation is refused.
 * witness_open, at start: reads the witness at path (NULL: DIR.witness,
 * beside dir; CARNET_E_BAD_ARG when dir has no name), checks the store
 * against it: behind it (CARNET_E_ROLLED_BACK), none for a store with
 * withdrawals (CARNET_E_ROLLED_BACK), another broker's for such a store
 * (CARNET_E_BAD_ARG), not verifying (CARNET_E_BAD_SIGNATURE), unsafe
 * (CARNET_E_FILE_PERMS); writes it for a new store or one ahead.  accept
 * (--accept-rollback accept_n) lets a store behind start when accept_n is
 * the count the witness saw (0 for a missing, foreign or bad one): both
 * go on past it, loudly.  *out: witness_destroy(&w).
 * witness_after_commit: after each turn's commit, before its sends;
 * writes the file (synced) only when the commit counted withdrawals; if
 * that fails, carnetd stops before anyone is told.
 */
struct witness;
int witness_open(const char *path, const char *dir, struct store *s,
    const struct keypair *key, bool accept, uint64_t accept_n,
    struct witness **out, struct cerr *err)
    __attribute__((warn_unused_result));
void witness_after_commit(struct witness *w, struct store *s);
void witness_destroy(struct witness **w);

/* deliver.c */
int deliver_pass(struct broker *b, MDB_txn *txn, int64_t now,
    struct cerr *err);
void undo_apply(struct broker *b);
void undo_clear(struct broker *b);

#endif
