/*
 * kept.h: what a person's client keeps beside their key file, so that a
 * broker whose store was put back to an older state cannot pass unseen:
 *
 *   KEYFILE.head          the newest log head the broker signed for them
 *                         ("seq hash"); KEYFILE.WHO.head for each person
 *                         they act for as a delegate
 *   KEYFILE.revoked       every revocation they signed ("WHO hex" lines)
 *   KEYFILE.ended         (an app's) consents the broker said had ended
 *
 * The broker puts its signed head in the reply to every command of a
 * person (HELLO included); kept_check compares it with the kept one.  A
 * head older than the kept one (or the same entry with another hash) is
 * a rollback: said on stderr, and every revocation kept for that person
 * is sent again, so a consent revived by an old copy of the store ends
 * again before its next record.  To move to a new device, copy the key
 * file with these beside it.
 */
#ifndef CARNET_KEPT_H
#define CARNET_KEPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../policy/uselog.h"
#include "cliconn.h"

/* KEYFILE.what: a file kept beside the key (an app keeps its ended
 * consents in KEYFILE.ended: app_feed_keep_ended). */
void kept_file(const struct cli_conn *cc, const char *what, char *path,
    size_t size);
void kept_head_path(const struct cli_conn *cc, char *path, size_t size);
/* The kept head: true and seq, hash when there is one. */
bool kept_head_load(const struct cli_conn *cc, uint64_t *seq,
    uint8_t hash[HASH_BYTES]);
/* Replace the kept head (a fresh file renamed over: never through a link
 * left in its place). */
void kept_head_save(const struct cli_conn *cc, uint64_t seq,
    const uint8_t hash[HASH_BYTES]);
/* Keep a revocation just accepted by the broker. */
void kept_revocation_add(const struct cli_conn *cc, const uint8_t *blob,
    size_t len);
/*
 * A reply from the broker: if it holds a head, check its signature and
 * compare it with the kept one (see above); keep it when newer.  Returns
 * true when a rollback was seen (and said).
 */
bool kept_check(struct cli_conn *cc, const msgpack_object *reply);

#endif
