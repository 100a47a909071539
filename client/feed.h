/*
 * feed.h: the holder and app sides of the client library.
 *
 * A holder batch gathers encoded records and sends them as PUT batches,
 * each acknowledged only once durably stored, with up to CLIENT_PUT_WINDOW
 * batches in flight (so the broker commits several in one fsync); an app
 * feed subscribes, keeps the broker's credit topped up, acks what the app
 * has handled, and re-subscribes after a reconnect (what was not acked
 * comes again).
 *
 *     holder_batch_new(c, &hb);
 *     while (...) holder_batch_add(hb, rec, len, &err);  // encoded: recjson.h
 *     holder_batch_flush(hb, &err);        // hb->stored, hb->dup
 *     holder_batch_destroy(&hb);
 *
 *     app_feed_open(c, 0, &f, &err);       // 0: no maximum
 *     while (app_feed_next(f, 1000, &ev, &err) == 0)   // ev lives until
 *             if (ev.kind == FEED_RECORD) {             // the next call
 *                     use(&ev.rec);
 *                     app_feed_ack(f, &ev, &err);
 *             }
 *     app_feed_close(&f);
 */
#ifndef CARNET_FEED_H
#define CARNET_FEED_H

#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>

#include "../schemas/record.h"
#include "client.h"

struct holder_batch {
	struct client *c;
	msgpack_sbuffer recs;
	unsigned n;
	unsigned long long stored, dup; /* totals of the ACKs received */
	unsigned long long corrected;   /* of stored: new versions of records
	                                   stored before (ref BASE@V) */
	/* check only: the broker makes every check of a PUT (types, people
	 * registered, room) and stores nothing; checked counts them */
	bool check;
	unsigned long long checked;
	/* PUTs sent and not yet ACKed, oldest first: request id, records */
	unsigned nfly;
	struct {
		uint64_t req;
		unsigned n;
		unsigned long long first; /* index of its first record */
	} fly[CLIENT_PUT_WINDOW];
	unsigned long long added;   /* records added so far */
	/* after a refused PUT: the index (from 0, in the order added) of
	 * the first record of the batch refused; the broker's message names
	 * the record in the batch ("record N: ...") */
	unsigned long long failed_first;
};

int holder_batch_new(struct client *c, struct holder_batch **out);
/* Add one encoded record (a full batch is sent first, without waiting
 * unless CLIENT_PUT_WINDOW batches await their ACK). */
int holder_batch_add(struct holder_batch *hb, const void *rec, size_t len,
    struct cerr *err) __attribute__((warn_unused_result));
/* Send what is gathered as one PUT now, waiting only when the window is
 * full (for holders that send as records come, one by one). */
int holder_batch_send(struct holder_batch *hb, struct cerr *err)
    __attribute__((warn_unused_result));
/* Send what is gathered and wait until every batch sent is ACKed: after
 * it returns 0, everything added so far is durably stored. */
int holder_batch_flush(struct holder_batch *hb, struct cerr *err)
    __attribute__((warn_unused_result));
void holder_batch_destroy(struct holder_batch **hb);

enum feed_kind {
	FEED_RECORD,  /* rec, seq, token are set */
	FEED_REVOKED, /* token, user, reason: erase what it gave, confirm */
};

struct feed_event {
	enum feed_kind kind;
	uint64_t seq;
	uint8_t token[TOKID_BYTES];
	uint8_t user[ID_BYTES];
	char reason[32];
	/* FEED_REVOKED: what to erase (types "a,b"; records up to this seq,
	 * at least), then confirm with app_feed_erased */
	char erase_types[160];
	uint64_t erase_through;
	struct record rec; /* minimised: required fields may be missing */
};

struct app_feed;

/* SUB, then credit for up to max records (0: no maximum): the feed
 * returns exactly max records when that many are waiting, and the broker
 * is never given credit for more. */
int app_feed_open(struct client *c, uint64_t max, struct app_feed **out,
    struct cerr *err) __attribute__((warn_unused_result));
/* The same, asking only for these people's feeds: each one without a live
 * consent is a refused attempt in their log; CARNET_E_NO_CONSENT if none
 * has one. */
int app_feed_open_users(struct client *c, uint64_t max,
    const uint8_t (*users)[ID_BYTES], unsigned nusers, struct app_feed **out,
    struct cerr *err) __attribute__((warn_unused_result));
/* After a FEED_REVOKED: the app erased what it got under ev->token. */
int app_feed_erased(struct app_feed *f, const struct feed_event *ev,
    struct cerr *err) __attribute__((warn_unused_result));
/*
 * The next record or notice, waiting at most timeout_ms
 * (CARNET_E_TIMEOUT when none came); *ev, and what ev->rec points to, stay
 * valid until the next call.  Records that fail validation are
 * reported in err and skipped (not acked: the broker sends them again).
 */
int app_feed_next(struct app_feed *f, int timeout_ms, struct feed_event *ev,
    struct cerr *err) __attribute__((warn_unused_result));
/* The app has handled ev: ack it (sent in batches) and renew credit. */
int app_feed_ack(struct app_feed *f, const struct feed_event *ev,
    struct cerr *err) __attribute__((warn_unused_result));
/*
 * Keep the consents the broker says have ended (revoked or expired) in
 * path (one id a line, appended), and read those kept there before:
 * records under any of them are refused (never returned, never acked;
 * app_feed_next reports CARNET_E_REVOKED in err), even if a broker put
 * back to an older state sends them.  Without it, the same holds for
 * this feed's life.
 */
int app_feed_keep_ended(struct app_feed *f, const char *path,
    struct cerr *err) __attribute__((warn_unused_result));
/* Records refused that way so far. */
uint64_t app_feed_refused(const struct app_feed *f);
/* Records delivered so far. */
uint64_t app_feed_count(const struct app_feed *f);
/* Send pending acks, then free. */
void app_feed_close(struct app_feed **f);

/* "N stored, M already stored" and how many of those stored were
 * corrections, with a newline: what carnet put and import print. */
void holder_counts_print(FILE *f, unsigned long long stored,
    unsigned long long dup, unsigned long long corrected);

#endif
