/*
 * uselog.h: entries of a person's use log (the charter's dashboard), and
 * the hash chain that makes changes to it visible.
 *
 * Each entry is a msgpack map holding the BLAKE2b-256 hash of the previous
 * entry's exact bytes (zeros for the first), so changing or removing an
 * entry breaks every later link.  Entries hold ids and hashes, never record
 * payloads, so erasing records keeps the chain whole.  A chain cannot show
 * that its tail was cut, so the broker also signs the head (seq, hash) it
 * serves; the person's client keeps the last head it saw.
 *
 * Each entry also holds random bytes (its salt), so that its hash, the
 * link the next entry and a signed head carry, and all a delegate is sent
 * of an entry withheld from them, is a commitment: an entry has few
 * possible values (a kind, a second, a count), and without the salt its
 * hash named them.  Entries written before salts verify as they are.
 *
 * The map's keys: seq, time, kind, prev, app, holder, token, type, rseq,
 * purpose (always; app, holder, token and type may be nil), and salt,
 * recs, by and note when they apply.  Any other key is refused.
 *
 * A deliver entry names the record it covers in rseq.  One that covers a
 * batch (the records one visit of the delivery pass sent to one app under
 * one consent, of one holder and one type) also holds "recs": the array
 * of their seqs, 2 to USELOG_RECS_MAX of them, strictly increasing, the
 * first equal to rseq.  Every other field is true of each of them.  An
 * entry without recs covers rseq alone, as every entry written before
 * batches does.  uselog_records() lists them either way.
 */
#ifndef CARNET_USELOG_H
#define CARNET_USELOG_H

#include <stdbool.h>
#include <stdint.h>

#include <msgpack.h>

#include "../common/error.h"
#include "../common/id.h"
#include "../common/limits.h"
#include "../schemas/schema.h"

#define HASH_BYTES 32
#define USELOG_NOTE_MAX_BYTES 200
#define USELOG_SALT_BYTES 16
/* Records one deliver entry may cover: 64 seqs of 9 bytes keep the
 * largest deliver entry (all ids, a 64-byte purpose, a delegate) under
 * the 1024 bytes an entry may take. */
#define USELOG_RECS_MAX 64

/* X(name, wire word, what the person reads) */
#define USELOG_KINDS(X)                                                       \
	X(DELIVER, "deliver", "a record was sent to an app")                  \
	X(GRANT, "grant", "you granted a consent")                            \
	X(REVOKE, "revoke", "you revoked a consent")                          \
	X(EXPORT, "export", "you downloaded your data")                       \
	X(ERASE, "erase", "you erased your records")                          \
	X(REQUEST, "request", "an app asked for your consent")                \
	X(REFUSED, "refused", "an attempt to use your data was refused")     \
	X(PAUSE, "pause", "you paused a consent")                             \
	X(RESUME, "resume", "you resumed a consent")                          \
	X(ERASED, "erased", "the app confirmed it erased what it received")   \
	X(EXPIRE, "expire", "a consent ended on its end date")                \
	X(NOTICE, "notice", "a consent ends soon: renew it or let it end")    \
	X(REVIEW, "review", "an open-ended consent is a year old: review it") \
	X(RENEW, "renew", "a consent was extended")                           \
	X(DELEGATE, "delegate", "you let someone see or manage your consents") \
	X(UNDELEGATE, "undelegate", "you ended someone's access")             \
	X(VIEW, "view", "a delegate read your dashboard")                     \
	X(EMERGENCY_SET, "emergency_set", "you set your emergency card")      \
	X(EMERGENCY, "emergency", "an emergency app opened your card")       \
	X(DECLINE, "decline", "you declined an app's request")               \
	X(CORRECT, "correct", "a holder sent a new version of a record")

enum uselog_kind {
	USE__NONE = 0,
#define X(n, w, d) USE_##n,
	USELOG_KINDS(X)
#undef X
	USE__LAST
};

struct uselog_entry {
	uint64_t seq; /* 1, 2, ... per user */
	int64_t time;
	enum uselog_kind kind;
	uint8_t prev[HASH_BYTES];
	bool has_app, has_holder, has_token;
	uint8_t app[ID_BYTES];
	uint8_t holder[ID_BYTES];
	uint8_t token[TOKID_BYTES];
	const struct schema *type; /* NULL when the entry is about no type */
	uint64_t rseq;             /* record seq (deliver) or a count */
	char purpose[PURPOSE_MAX_BYTES + 1];
	/* Optional: the delegate who acted for the person, and a note (an
	 * emergency's reason, why an attempt was refused). */
	bool has_by;
	uint8_t by[ID_BYTES];
	char note[USELOG_NOTE_MAX_BYTES + 1];
	/* Drawn by the store at append; absent (false) in entries written
	 * before carnet salted them. */
	bool has_salt;
	uint8_t salt[USELOG_SALT_BYTES];
	/* A deliver entry covering a batch: its records' seqs (nrecs 2 to
	 * USELOG_RECS_MAX, increasing, recs[0] == rseq); 0 otherwise.  Last,
	 * so that the rest can be cleared without them. */
	unsigned nrecs;
	uint64_t recs[USELOG_RECS_MAX];
};

const char *uselog_kind_name(enum uselog_kind k);
const char *uselog_kind_doc(enum uselog_kind k);

/*
 * The records a deliver entry covers: their count, and in
 * *seqs a pointer into e (recs, or rseq alone) valid while e is.
 */
size_t uselog_records(const struct uselog_entry *e, const uint64_t **seqs);

void uselog_pack(msgpack_packer *pk, const struct uselog_entry *e);
int uselog_decode(const void *buf, size_t len, struct uselog_entry *e,
    struct cerr *err) __attribute__((warn_unused_result));
void uselog_hash(const void *buf, size_t len, uint8_t out[HASH_BYTES]);

/* Walks a chain entry by entry, in order, from the first. */
struct uselog_verifier {
	uint64_t next_seq;
	uint8_t prev[HASH_BYTES]; /* hash of the last good entry: the head */
};

void uselog_verify_init(struct uselog_verifier *v);
/*
 * Check the next entry: it decodes, its seq follows, and its prev is the
 * hash of the entry before.  0, or CARNET_E_LOG_BROKEN with err naming the
 * entry and what is wrong.
 */
int uselog_verify_next(struct uselog_verifier *v, const void *buf,
    size_t len, struct cerr *err) __attribute__((warn_unused_result));
/*
 * An entry withheld from a delegate limited to some types: only its seq
 * and its hash.  The chain goes on from that hash: what follows is still
 * checked, the withheld entry itself is taken on the broker's word.  The
 * hash of a salted entry tells nothing of it; that of an entry written
 * before salts can be matched against guesses.
 */
int uselog_verify_withheld(struct uselog_verifier *v, uint64_t seq,
    const uint8_t hash[HASH_BYTES], struct cerr *err)
    __attribute__((warn_unused_result));

/* The broker's signature over (user, seq, hash): the head it served. */
#define HEAD_SIG_BYTES 64
void uselog_head_sign(const uint8_t user[ID_BYTES], uint64_t seq,
    const uint8_t hash[HASH_BYTES], const uint8_t broker_sk[64],
    uint8_t sig[HEAD_SIG_BYTES]);
int uselog_head_verify(const uint8_t user[ID_BYTES], uint64_t seq,
    const uint8_t hash[HASH_BYTES], const uint8_t broker_pk[ID_BYTES],
    const uint8_t sig[HEAD_SIG_BYTES]) __attribute__((warn_unused_result));

#endif
