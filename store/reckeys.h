/*
 * reckeys.h: records at rest, each person's under a key of their own, so
 * that erasing a person destroys the one thing that could read what the
 * store files still hold of them (crypto-shredding).
 *
 * The keys live outside LMDB, in a file of fixed 64-byte slots
 * (DIR/store/keys): slot 0 is a header (magic, and a check that the file
 * goes with this broker key), slot n is user(32) key(32).  A slot is
 * overwritten in place when its person is erased: LMDB frees pages without
 * wiping them and copies whole pages when it compacts, so a key kept in
 * LMDB would outlive its deletion; a slot zeroed in place does not.  Which
 * slot is whose is kept in the store (ukeys), in the same transactions as
 * the records; the file only follows it.
 *
 * The AEAD key of a record is BLAKE2b(slot key, keyed with a subkey of the
 * broker's secret key): a copy of the store directory without the broker
 * key reads nothing.  A sealed record is written as
 *   version(1) = 2 | nonce(12) | ChaCha20-Poly1305-IETF(record) tag(16)
 * the nonce being prefix(4) | counter(8, big-endian), both random when
 * the key file is opened, the counter counting up per record; records of
 * version 1 (before issue 31) still open:
 *   version(1) = 1 | nonce(24) | XChaCha20-Poly1305-IETF(record) tag(16)
 * Both have the person's id and the record's seq (8, big-endian) as
 * associated data, so a record moved to another seq or person does not
 * open.  Both AEADs are libsodium's portable code: any node reads them.
 */
#ifndef CARNET_RECKEYS_H
#define CARNET_RECKEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/error.h"
#include "../common/id.h"

#define RECKEYS_SLOT_BYTES 64
/* the version new records are sealed in */
#define RECKEYS_VERSION 2
/* what sealing adds to a record: version, nonce, tag; per version */
#define RECKEYS_OVERHEAD_V1 (1 + 24 + 16)
#define RECKEYS_OVERHEAD_V2 (1 + 12 + 16)
/* what reckeys_seal adds (RECKEYS_VERSION's) */
#define RECKEYS_OVERHEAD RECKEYS_OVERHEAD_V2

struct reckeys;

/*
 * Open (creating if needed) the key file at path, for the broker whose
 * Ed25519 secret key is secret.  Refuses a file made under another broker
 * key, anything but a regular file, and one open to others or another
 * user's (CARNET_E_KEY_PERMS, fileperm.h).  *out: reckeys_close(&k).
 */
int reckeys_open(const char *path, const uint8_t secret[64],
    struct reckeys **out, struct cerr *err)
    __attribute__((warn_unused_result));
void reckeys_close(struct reckeys **k);

/* A new random key for user at slot (>= 1).  Not durable until
 * reckeys_sync. */
int reckeys_fill(struct reckeys *k, uint64_t slot,
    const uint8_t user[ID_BYTES], struct cerr *err)
    __attribute__((warn_unused_result));
/* Overwrite slot with zeros.  Not durable until reckeys_sync. */
int reckeys_wipe(struct reckeys *k, uint64_t slot, struct cerr *err)
    __attribute__((warn_unused_result));
/* Make every fill and wipe since the last sync durable. */
int reckeys_sync(struct reckeys *k, struct cerr *err)
    __attribute__((warn_unused_result));

/* How many slots the file holds, the header's included (-1: cannot tell,
 * err set). */
int64_t reckeys_slots(struct reckeys *k, struct cerr *err);

/* Whether stored bytes are a sealed record, of either version (records
 * from before sealing are msgpack maps, which never start with 1 or 2). */
bool reckeys_is_sealed(const void *v, size_t n);
/* What sealing added to the n stored bytes at v (the plain record is n
 * less this); 0 when they are not a sealed record. */
size_t reckeys_overhead(const void *v, size_t n);

/* Seal len bytes of plain into out (len + RECKEYS_OVERHEAD bytes) under
 * the key at slot, which must be user's. */
int reckeys_seal(struct reckeys *k, uint64_t slot,
    const uint8_t user[ID_BYTES], uint64_t seq, const void *plain,
    size_t len, uint8_t *out, struct cerr *err)
    __attribute__((warn_unused_result));
/* Open a sealed record of len bytes, of either version, into out
 * (len - reckeys_overhead(sealed, len) bytes).  CARNET_E_STORE when it does not open: damaged, moved, or its
 * key wiped. */
int reckeys_unseal(struct reckeys *k, uint64_t slot,
    const uint8_t user[ID_BYTES], uint64_t seq, const void *sealed,
    size_t len, uint8_t *out, struct cerr *err)
    __attribute__((warn_unused_result));

#endif
