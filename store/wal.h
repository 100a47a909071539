/*
 * wal.h: the turn log, a file of write sets written ahead of LMDB
 * (bench/PROFILE.md, round 11).
 *
 * A turn's write set (store.h, store_wset_sink) is appended as one entry
 * and made durable with one fdatasync, which may run on a thread of its
 * own while the next turn is worked; LMDB is then committed with its full
 * sync only now and then (a checkpoint), and the entries written since the
 * last checkpoint are applied again at start.  The file knows nothing of
 * LMDB: the store keeps the log's generation in its own transactions, and
 * a checkpoint starts a new generation, after which the file is written
 * again from its start.
 *
 * An entry, integers big-endian:
 *   length of the write set (4) | generation (8) | turn (8) | write set |
 *   BLAKE2b-128 of all that came before it in the entry (16)
 * Reading stops at the first entry that does not check out (its length
 * past the file's end, its hash, another generation): a write cut short
 * by a crash is always past the last completed sync, so nothing that
 * was acknowledged is in it.  Within a generation, turns follow one
 * another (n, n + 1, ...): anything else is a damaged log, an error.
 * What the log does not catch: bytes on the disk changed after a sync
 * completed (LMDB does not either).
 *
 * One writer; wal_write and wal_sync may be called from any one thread at a
 * time (the broker's sync thread calls both).
 */
#ifndef CARNET_WAL_H
#define CARNET_WAL_H

#include <stddef.h>
#include <stdint.h>

#include "../common/error.h"

#define WAL_ENTRY_OVERHEAD (4 + 8 + 8 + 16)
/* the largest write set one entry holds */
#define WAL_SET_MAX (256u << 20)

struct wal;

/*
 * Open (creating if needed, mode 0600, nobody else may write it) the log
 * at path, written from its start in generation gen; prealloc bytes are
 * reserved on the disk at open so that a sync need not write the file's
 * size (0: none).
 */
int wal_open(const char *path, uint64_t gen, uint64_t prealloc,
    struct wal **out, struct cerr *err) __attribute__((warn_unused_result));
void wal_close(struct wal **w);

/* Append the write set of turn (the first of a generation is any number,
 * then each the next); not durable until wal_sync returns. */
int wal_write(struct wal *w, uint64_t turn, const uint8_t *ws, size_t len,
    struct cerr *err) __attribute__((warn_unused_result));
/* Every entry written so far made durable. */
int wal_sync(struct wal *w, struct cerr *err)
    __attribute__((warn_unused_result));
/* Start generation gen from the file's start (after a checkpoint). */
void wal_restart(struct wal *w, uint64_t gen);
/* Bytes written in this generation. */
uint64_t wal_size(const struct wal *w);

/*
 * Call fn for each entry of generation gen in the log at path, in order;
 * fn returns non-zero to stop, and that is returned.  A missing file has
 * no entries.  *count: the entries given to fn.
 */
typedef int wal_entry_fn(void *arg, uint64_t turn, const uint8_t *ws,
    size_t len);
int wal_replay(const char *path, uint64_t gen, wal_entry_fn *fn, void *arg,
    uint64_t *count, struct cerr *err) __attribute__((warn_unused_result));

#endif
