/*
 * store.h: carnet's durable state, one LMDB environment (DIR/store/).
 *
 * Named databases (keys are raw bytes; seq numbers are 8-byte big-endian
 * so that byte order is numeric order):
 *   meta       "next_seq" -> u64       next record seq (never reused)
 *              "next_withdrawal" -> u64  withdrawals committed + 1
 *   parties    id(32) -> party          the registry (policy/party.h)
 *   curve      curve pk(32) -> id(32)   how ZAP finds a party by its CURVE key
 *   tokens     token id(16) -> state(1) ended_at(8) erased_at(8)
 *              granted_at(8) signed token (the latest, after a renewal)
 *   grants     app(32) user(32) token(16) -> ""       tokens per app
 *   utokens    user(32) token(16) -> app(32)          tokens per user
 *   records    seq(8) -> sealed encoded record (reckeys.h; appended:
 *              seqs only grow)
 *   urecs      user(32) seq(8) -> holder(32) type(1) time(8)   one user's stream
 *   dedup      holder(32) ref -> seq(8)
 *   cursors    token(16) -> seq(8)     highest seq the app acked under the
 *              token, or passed over as not covered by it
 *   uselog     user(32) seq(8) -> use-log entry (policy/uselog.h)
 *   requests   user(32) seq(8) -> consent request from an app
 *   timers     time(8) kind(1) token(16) -> ""   expiries, notices, reviews
 *   delegs     user(32) to(32) -> live(1) ended_at(8) signed delegation
 *   delegs_to  to(32) user(32) -> ""             whom a delegate acts for
 *   cards      user(32) -> emergency card (types, apps; opaque msgpack)
 *   openings   user(32) app(32) -> until(8)      emergency access windows
 *   heads      user(32) -> seq(8) hash(32) seal(32)   each log's sealed head
 *   ukeys      user(32) -> slot(8)   where the person's record key is in
 *              DIR/store/keys (reckeys.h); gone when they erase
 *   kwipe      slot(8) -> ""   slots of committed erasures, to overwrite
 *   kfree      slot(8) -> ""   overwritten slots, free for reuse
 *   due        app(32) token(16) -> user(32)   may have records to send
 *   unerased   app(32) token(16) -> user(32)   ended, erasure unconfirmed
 *   refusals   user(32) party(32) why(2) -> slot(8) count(8)   refusals
 *              of party to user for one reason (an error code): when the
 *              period of the last one logged began (s), how many were only
 *              counted since
 *
 * Every function takes the transaction to work in (store_txn_begin); none
 * commits on its own, so the broker decides what one commit holds.  Errors
 * are CARNET_E_* codes: CARNET_E_STORE_FULL when the map or disk is full,
 * CARNET_E_STORE for other LMDB failures, CARNET_E_NOT_FOUND, _EXISTS.
 * Values returned through MDB_val point into the map and are valid until
 * the transaction ends.
 */
#ifndef CARNET_STORE_H
#define CARNET_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include <lmdb.h>
#include <msgpack.h>

#include "../common/error.h"
#include "../policy/party.h"
#include "../policy/token.h"
#include "../policy/uselog.h"
#include "../schemas/record.h"

struct store;

enum token_state_kind {
	TOKEN_ACTIVE = 1,
	TOKEN_REVOKED = 2,  /* final */
	TOKEN_PAUSED = 3,   /* kept, nothing sent until resumed */
	TOKEN_EXPIRED = 4,  /* final: reached its end date */
};

struct token_state {
	enum token_state_kind state;
	int64_t ended_at;   /* revoked or expired at, 0 while live */
	int64_t erased_at;  /* the app confirmed erasure, 0 until then */
	int64_t granted_at;
	const uint8_t *blob; /* the exact signed bytes, valid in the txn */
	size_t blob_len;
};

/* One record of a user's stream, without its body. */
struct recmeta {
	uint64_t seq;
	uint8_t holder[ID_BYTES];
	const struct schema *type;
	int64_t time;
};

/*
 * Open (creating if needed) the store under dir/store with a map of
 * map_bytes.  *out is owned by the caller: store_close(&s).
 * CARNET_E_FILE_PERMS if dir, dir/store or LMDB's files in it are another
 * user's (root's excepted) or writable by group or others, or a file is a
 * link (fileperm.h); the message says which and how to fix it.
 */
int store_open(const char *dir, size_t map_bytes, struct store **out,
    struct cerr *err) __attribute__((warn_unused_result));
/* Close and set *s to NULL; safe on NULL. */
void store_close(struct store **s);

/* Begin a transaction (nested under parent when not NULL). */
int store_txn_begin(struct store *s, MDB_txn *parent, bool write,
    MDB_txn **txn, struct cerr *err) __attribute__((warn_unused_result));
/* Commit (durably, for a top-level txn); the txn is gone either way. */
int store_txn_commit(MDB_txn **txn, struct cerr *err)
    __attribute__((warn_unused_result));
void store_txn_abort(MDB_txn **txn);

/*
 * Write sets: the logical puts and deletes of a top-level write
 * transaction (not LMDB's pages), in the order made, without those of
 * nested transactions that aborted (wset.c has the encoding).  With a
 * sink set, each top-level write transaction's set is captured and given
 * to fn once its commit is done (nothing when it wrote nothing); NULL
 * stops the capture.  store_wset_apply makes the same writes in txn: a
 * store that applies every set of another, in order, from the same
 * start, holds the same keys and values (records sealed as they are: the
 * record key file is not in them).
 */
typedef void store_wset_fn(void *arg, const uint8_t *ws, size_t len);
void store_wset_sink(struct store *s, store_wset_fn *fn, void *arg);
int store_wset_apply(struct store *s, MDB_txn *txn, const uint8_t *ws,
    size_t len, struct cerr *err) __attribute__((warn_unused_result));

/*
 * Turn mode (turns.c): each turn a nested transaction of one checkpoint
 * transaction, its write set handed out at its end for the turn log
 * (wal.h), to be made durable there before anything the turn did is told;
 * LMDB committed, with its full sync, at store_checkpoint only.
 *
 * store_turns_start: turn mode on (after store_set_key).
 * store_turns_replay: the entries of the store's generation in the log at
 *   path applied in one transaction, which starts the next generation
 *   (none: nothing written); *count of them.  store_set_key does it, with
 *   DIR/store/turns.wal, so that whoever reads records reads them all.
 * store_turns_gen: the generation the turns' entries go in (wal_open,
 *   wal_restart after a checkpoint).
 * store_turn_begin: the turn's transaction, nested in the checkpoint one
 *   (begun if none is open).
 * store_turn_end: the turn kept (committed into the checkpoint
 *   transaction) or undone; *ws, *len: its write set (valid until the
 *   next write; empty when it wrote nothing), the record key file synced;
 *   with *txn NULL, what was kept since the last turn ended (a turn
 *   whose own transaction did not begin).  The set is handed out when the
 *   turn's own commit fails too: what was kept before it is in it.
 *   CARNET_E_IO: the record key file could not be synced; the checkpoint
 *   transaction is dropped, and the broker must stop (the log has what
 *   was told).
 * store_checkpoint: the checkpoint transaction committed (durable) with the
 *   next generation; the log is then written again from its start.
 * store_checkpoint_due: a turn did what must be committed now (an
 *   erasure: its key is wiped at the commit).
 * store_turns_abandon: the open checkpoint transaction dropped (what a
 *   crash does; the log brings it back).
 */
int store_turns_start(struct store *s, struct cerr *err)
    __attribute__((warn_unused_result));
int store_turns_replay(struct store *s, const char *path, uint64_t *count,
    struct cerr *err) __attribute__((warn_unused_result));
uint64_t store_turns_gen(const struct store *s);
int store_turn_begin(struct store *s, MDB_txn **txn, struct cerr *err)
    __attribute__((warn_unused_result));
int store_turn_end(struct store *s, MDB_txn **txn, bool keep,
    const uint8_t **ws, size_t *len, struct cerr *err)
    __attribute__((warn_unused_result));
int store_checkpoint(struct store *s, struct cerr *err)
    __attribute__((warn_unused_result));
bool store_checkpoint_due(const struct store *s);
/* whether turns wait for a checkpoint */
bool store_checkpoint_pending(const struct store *s);
void store_turns_abandon(struct store *s);

/*
 * Withdrawals committed: each consent revoked, paused or ended by its
 * date, each erasure, each delegation ended or replaced and each change
 * of an emergency card adds one, in the transaction that does it, so a
 * copy of the store taken before such a change has a smaller count (the
 * broker's witness, outside the data directory, keeps the count to refuse
 * such a copy).  The value is as of the last top-level commit (or the
 * open): an aborted transaction counts nothing.  0 for a store from
 * before the count.
 */
uint64_t store_withdrawals(const struct store *s);
/*
 * Raise the count to n in a commit of its own (nothing if it is already
 * there or past it): a store accepted after a rollback goes on past what
 * its witness had seen, so that neither copy passes as current later.
 */
int store_withdrawals_raise(struct store *s, uint64_t n, struct cerr *err)
    __attribute__((warn_unused_result));

/* Bytes of the map in use and the map's size. */
void store_usage(struct store *s, uint64_t *used, uint64_t *size);

/* Parties. */
int store_party_add(struct store *s, MDB_txn *txn, const struct party *p,
    struct cerr *err) __attribute__((warn_unused_result));
int store_party_get(struct store *s, MDB_txn *txn, const uint8_t id[ID_BYTES],
    struct party *p) __attribute__((warn_unused_result));
int store_party_by_curve(struct store *s, MDB_txn *txn,
    const uint8_t curve_pk[32], uint8_t id[ID_BYTES])
    __attribute__((warn_unused_result));
/* Calls fn for every party in id order; stops when fn returns non-zero. */
int store_party_foreach(struct store *s, MDB_txn *txn,
    int (*fn)(void *arg, const struct party *p), void *arg);

/*
 * Store a validated record r (with r->has_holder set), sealed under its
 * person's key (made at their first record).  If (holder, ref) is already
 * stored, *dup is set and *seq is the stored one; nothing is written.
 * A ref BASE@V when the holder stored BASE@W before is a correction: the
 * record is stored with corrects = the seq of the latest such version,
 * also in *corrects (0 otherwise).  plain (may be NULL): the bytes that
 * were sealed, what store_record_get gives back for seq, in a buffer of
 * the store's valid until its next write (untouched for a dup).
 */
int store_record_put(struct store *s, MDB_txn *txn, const struct record *r,
    uint64_t *seq, bool *dup, uint64_t *corrects, MDB_val *plain,
    struct cerr *err) __attribute__((warn_unused_result));
/*
 * The encoded record at seq of user's stream, opened with user's key into
 * a buffer of the store's, valid until the next store_record_get
 * (CARNET_E_NOT_FOUND once erased; CARNET_E_STORE if it does not open).
 */
int store_record_get(struct store *s, MDB_txn *txn,
    const uint8_t user[ID_BYTES], uint64_t seq, MDB_val *val,
    struct cerr *err) __attribute__((warn_unused_result));
/* The first record of user's stream with seq > after, or CARNET_E_NOT_FOUND. */
int store_user_next(struct store *s, MDB_txn *txn, const uint8_t user[ID_BYTES],
    uint64_t after, struct recmeta *m) __attribute__((warn_unused_result));
/* Highest seq in user's stream, 0 when empty. */
int store_user_last(struct store *s, MDB_txn *txn,
    const uint8_t user[ID_BYTES], uint64_t *seq)
    __attribute__((warn_unused_result));
/*
 * Remove every record of user and take their record key out of use: once
 * the transaction commits, its slot in DIR/store/keys is overwritten, so
 * what the map's free pages still hold of the records no longer opens.
 * The dedup entries (holder, ref) stay, so a holder's resend does not
 * bring erased data back; *count is how many records went.
 */
int store_user_erase(struct store *s, MDB_txn *txn,
    const uint8_t user[ID_BYTES], uint64_t *count, struct cerr *err)
    __attribute__((warn_unused_result));

/* Consent tokens.  put: CARNET_E_EXISTS if the id is already known.  The
 * due index follows: a token granted to or resumed by a person with
 * records waiting is put in it; one paused or ended leaves it (and an
 * ended one enters unerased until store_token_erased). */
int store_token_put(struct store *s, MDB_txn *txn, const struct token *t,
    const uint8_t *blob, size_t len, int64_t now, struct cerr *err)
    __attribute__((warn_unused_result));
int store_token_get(struct store *s, MDB_txn *txn,
    const uint8_t id[TOKID_BYTES], struct token_state *st)
    __attribute__((warn_unused_result));
/* End a token (how: TOKEN_REVOKED or TOKEN_EXPIRED) at time `at`. */
int store_token_end(struct store *s, MDB_txn *txn, const struct token *t,
    enum token_state_kind how, int64_t at, struct cerr *err)
    __attribute__((warn_unused_result));
/* Pause (TOKEN_PAUSED) or resume (TOKEN_ACTIVE) a token that has not ended. */
int store_token_set_paused(struct store *s, MDB_txn *txn,
    const struct token *t, bool paused, struct cerr *err)
    __attribute__((warn_unused_result));
/* The app confirmed it erased what it got under an ended token. */
int store_token_erased(struct store *s, MDB_txn *txn, const struct token *t,
    int64_t at, struct cerr *err) __attribute__((warn_unused_result));
/* Keep a renewed token's signed bytes (same id and scope), state unchanged. */
int store_token_replace(struct store *s, MDB_txn *txn, const struct token *t,
    const uint8_t *blob, size_t len, struct cerr *err)
    __attribute__((warn_unused_result));

/* Timers, in time order. */
enum timer_kind {
	TIMER_EXPIRE = 1, /* the token ends */
	TIMER_NOTICE = 2, /* tell the person it ends soon */
	TIMER_REVIEW = 3, /* an open-ended token's yearly review */
};
int store_timer_put(struct store *s, MDB_txn *txn, int64_t at,
    enum timer_kind kind, const uint8_t tok[TOKID_BYTES], struct cerr *err)
    __attribute__((warn_unused_result));
int store_timer_del(struct store *s, MDB_txn *txn, int64_t at,
    enum timer_kind kind, const uint8_t tok[TOKID_BYTES], struct cerr *err)
    __attribute__((warn_unused_result));
/* The earliest timer, or CARNET_E_NOT_FOUND. */
int store_timer_first(struct store *s, MDB_txn *txn, int64_t *at,
    enum timer_kind *kind, uint8_t tok[TOKID_BYTES])
    __attribute__((warn_unused_result));

/* Delegations (one per user and delegate: a new one replaces the old). */
enum { DELEG_LIVE = 1, DELEG_ENDED = 2 };
struct deleg_state {
	bool live;
	int64_t ended_at;
	const uint8_t *blob; /* the signed delegation, valid in the txn */
	size_t blob_len;
};
int store_deleg_put(struct store *s, MDB_txn *txn, const struct delegation *d,
    const uint8_t *blob, size_t len, struct cerr *err)
    __attribute__((warn_unused_result));
int store_deleg_get(struct store *s, MDB_txn *txn, const uint8_t user[ID_BYTES],
    const uint8_t to[ID_BYTES], struct deleg_state *ds)
    __attribute__((warn_unused_result));
int store_deleg_end(struct store *s, MDB_txn *txn, const uint8_t user[ID_BYTES],
    const uint8_t to[ID_BYTES], int64_t at, struct cerr *err)
    __attribute__((warn_unused_result));
/* The delegates of id (to_me false), or the people id is a delegate of. */
int store_delegs_foreach(struct store *s, MDB_txn *txn, bool to_me,
    const uint8_t id[ID_BYTES], int (*fn)(void *arg,
    const uint8_t other[ID_BYTES]), void *arg);

/* Emergency cards (len 0 removes it) and access windows. */
int store_card_put(struct store *s, MDB_txn *txn, const uint8_t user[ID_BYTES],
    const void *card, size_t len, struct cerr *err)
    __attribute__((warn_unused_result));
int store_card_get(struct store *s, MDB_txn *txn, const uint8_t user[ID_BYTES],
    MDB_val *card) __attribute__((warn_unused_result));
int store_opening_put(struct store *s, MDB_txn *txn, const uint8_t user[ID_BYTES],
    const uint8_t app[ID_BYTES], int64_t until, struct cerr *err)
    __attribute__((warn_unused_result));
int store_opening_get(struct store *s, MDB_txn *txn, const uint8_t user[ID_BYTES],
    const uint8_t app[ID_BYTES], int64_t *until)
    __attribute__((warn_unused_result));
/* Token ids granted to app (any user, any state), in key order. */
int store_tokens_of_app(struct store *s, MDB_txn *txn,
    const uint8_t app[ID_BYTES],
    int (*fn)(void *arg, const uint8_t user[ID_BYTES],
    const uint8_t tok[TOKID_BYTES]), void *arg);
int store_tokens_of_user(struct store *s, MDB_txn *txn,
    const uint8_t user[ID_BYTES],
    int (*fn)(void *arg, const uint8_t tok[TOKID_BYTES]), void *arg);

/*
 * The due index: (app, token) pairs that may have records to send, so a
 * delivery pass visits what arrived, not every consent.  put is
 * idempotent; del of an absent pair is not an error.  next: the first
 * token of app after `after` (NULL: the first) and its person, or
 * CARNET_E_NOT_FOUND.  Ending a token takes it out.
 */
int store_due_put(struct store *s, MDB_txn *txn, const uint8_t app[ID_BYTES],
    const uint8_t tok[TOKID_BYTES], const uint8_t user[ID_BYTES],
    struct cerr *err) __attribute__((warn_unused_result));
int store_due_del(struct store *s, MDB_txn *txn, const uint8_t app[ID_BYTES],
    const uint8_t tok[TOKID_BYTES], struct cerr *err)
    __attribute__((warn_unused_result));
int store_due_next(struct store *s, MDB_txn *txn, const uint8_t app[ID_BYTES],
    const uint8_t *after, uint8_t tok[TOKID_BYTES], uint8_t user[ID_BYTES])
    __attribute__((warn_unused_result));
/* A record was stored for user: each of their active tokens goes in the
 * due index, and fn (if not NULL) is told its app. */
int store_due_user(struct store *s, MDB_txn *txn, const uint8_t user[ID_BYTES],
    int (*fn)(void *arg, const uint8_t app[ID_BYTES]), void *arg,
    struct cerr *err) __attribute__((warn_unused_result));
/* The ended tokens of app whose erasure it has not confirmed, in key
 * order; fn returns non-zero to stop (and that is returned). */
int store_unerased_of_app(struct store *s, MDB_txn *txn,
    const uint8_t app[ID_BYTES], int (*fn)(void *arg,
    const uint8_t user[ID_BYTES], const uint8_t tok[TOKID_BYTES]),
    void *arg);

/* Delivery cursors: highest seq per token the app acked, or that was
 * passed over as not covered by the token (0 if none). */
int store_cursor_get(struct store *s, MDB_txn *txn,
    const uint8_t tok[TOKID_BYTES], uint64_t *seq)
    __attribute__((warn_unused_result));
/* Never moves a cursor backwards; *at (when not NULL) is where it is
 * after. */
int store_cursor_advance(struct store *s, MDB_txn *txn,
    const uint8_t tok[TOKID_BYTES], uint64_t seq, uint64_t *at,
    struct cerr *err)
    __attribute__((warn_unused_result));

/*
 * Append e after a head the caller already knows (seq last, entry hash
 * prev), and give the new entry's hash: for a caller that caches heads.
 * Sets e's seq, prev and a fresh random salt.  A stale head fails (the
 * key exists) rather than forking the chain.
 */
int store_log_append_after(struct store *s, MDB_txn *txn,
    const uint8_t user[ID_BYTES], struct uselog_entry *e, uint64_t last,
    const uint8_t prev[HASH_BYTES], uint8_t hash[HASH_BYTES],
    struct cerr *err) __attribute__((warn_unused_result));
/*
 * Head of user's log: last seq (0 when empty) and its hash (zeros), once
 * checked against the head sealed at the last append: CARNET_E_LOG_BROKEN
 * when entries were cut, added or changed, or the head altered, by
 * someone without the broker's key.
 */
int store_log_head(struct store *s, MDB_txn *txn, const uint8_t user[ID_BYTES],
    uint64_t *seq, uint8_t hash[HASH_BYTES], struct cerr *err)
    __attribute__((warn_unused_result));
/* What store_set_key did to a store written by an earlier carnet. */
struct store_upgrade {
	uint64_t heads_sealed;   /* logs whose head was sealed now */
	uint64_t records_sealed; /* records sealed under their person's key */
	uint64_t due_filled;     /* consents put in the due and unerased
	                          * indexes, once */
	bool ref_key_made;       /* the key of opaque refs was made now */
	uint64_t turns_replayed; /* turns of the turn log applied again */
};

/*
 * The broker's secret key (64 bytes, Ed25519), needed before any log
 * append and any record read or write.  Log heads are sealed with a key
 * derived from it on every append and checked on every read; records are
 * sealed under per-person keys (reckeys.h) opened through another.  Opens
 * DIR/store/keys (refused if made under another broker key), wipes the
 * keys of erasures a crash left pending, and upgrades a store from before
 * sealed heads or records, once (*up says what it did).  Also reads the
 * key of the opaque refs apps see (store_ref_key), making it at the first
 * start (a store written before opaque refs gets it then).
 */
int store_set_key(struct store *s, const uint8_t secret[64],
    struct store_upgrade *up, struct cerr *err)
    __attribute__((warn_unused_result));
/*
 * The RECORD_REF_KEY_BYTES random key under which an app's opaque id of
 * a record is made (record_ref_opaque), kept in the store's meta so that
 * the ids an app saw stay the same across restarts; NULL before
 * store_set_key.  Owned by the store, wiped at store_close.
 */
const uint8_t *store_ref_key(const struct store *s);
/* Raw entries of user's log with seq >= from, in order, at most max. */
int store_log_foreach(struct store *s, MDB_txn *txn,
    const uint8_t user[ID_BYTES], uint64_t from, size_t max,
    int (*fn)(void *arg, uint64_t seq, const MDB_val *entry), void *arg);
/* Walk user's whole chain; CARNET_E_LOG_BROKEN names the first bad entry. */
int store_log_verify(struct store *s, MDB_txn *txn,
    const uint8_t user[ID_BYTES], uint64_t *count, struct cerr *err)
    __attribute__((warn_unused_result));

/* Consent requests from apps to a user (opaque msgpack bytes). */
int store_request_add(struct store *s, MDB_txn *txn,
    const uint8_t user[ID_BYTES], const void *req, size_t len,
    struct cerr *err) __attribute__((warn_unused_result));
/* At most max of user's requests, from seq from on, in order. */
int store_requests_foreach(struct store *s, MDB_txn *txn,
    const uint8_t user[ID_BYTES], uint64_t from, size_t max,
    int (*fn)(void *arg, uint64_t seq, const MDB_val *req), void *arg);
/* Remove user's request seq once answered (granted or declined), copying
 * its bytes into *req (valid until the transaction changes the table
 * again: read it first); CARNET_E_NOT_FOUND if there is none. */
int store_request_take(struct store *s, MDB_txn *txn,
    const uint8_t user[ID_BYTES], uint64_t seq, msgpack_sbuffer *req,
    struct cerr *err) __attribute__((warn_unused_result));

/*
 * Refused attempts of party on user's data, counted per reason (why, a
 * CARNET_E_* code) (refusals.c): when the period of the last one written
 * to user's log began (slot, in s), and how many were only counted after
 * it.  get: CARNET_E_NOT_FOUND when there is no row.  prune: from pos (the
 * key where the last call stopped, zeros at first; updated), look at max
 * rows at most and remove those of a period that began before slot and
 * that count nothing.
 */
#define STORE_REFUSAL_POS_BYTES (2 * ID_BYTES + 2)
int store_refusal_get(struct store *s, MDB_txn *txn,
    const uint8_t user[ID_BYTES], const uint8_t party[ID_BYTES], int why,
    int64_t *slot, uint64_t *count, struct cerr *err)
    __attribute__((warn_unused_result));
int store_refusal_put(struct store *s, MDB_txn *txn,
    const uint8_t user[ID_BYTES], const uint8_t party[ID_BYTES], int why,
    int64_t slot, uint64_t count, struct cerr *err)
    __attribute__((warn_unused_result));
int store_refusals_prune(struct store *s, MDB_txn *txn, int64_t slot,
    uint8_t pos[STORE_REFUSAL_POS_BYTES], unsigned max, unsigned *removed,
    struct cerr *err) __attribute__((warn_unused_result));

/*
 * The databases' size as txn sees them: the pages they hold (branch,
 * leaf and overflow pages, LMDB's free-page list and names included: not
 * the free pages themselves, which LMDB reuses) and entries, all
 * databases together; the page and map sizes.  Compared before and after
 * a request, it says whether the request made the store grow; unlike
 * store_usage (the highest page ever written), it shrinks when an erasure
 * frees pages.
 */
struct store_size {
	uint64_t pages, entries, page_bytes, map_bytes;
};
void store_size(struct store *s, MDB_txn *txn, struct store_size *sz);

/* Operator counters: add n to the counter named key. */
int store_stat_add(struct store *s, MDB_txn *txn, const char *key, uint64_t n,
    struct cerr *err) __attribute__((warn_unused_result));
int store_stats_foreach(struct store *s, MDB_txn *txn,
    int (*fn)(void *arg, const char *key, uint64_t n), void *arg);

#endif
