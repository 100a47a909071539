/*
 * personlog.h: the person's use log as their client sees it: fetched page
 * by page from the broker, verified on this machine (the chain, the
 * broker's signature on its head, the head kept from last time), and
 * shown as JSON.  Shared by carnet log and carnet dashboard.
 */
#ifndef CARNET_PERSONLOG_H
#define CARNET_PERSONLOG_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>
#include <msgpack.h>

#include "cli.h"

/* The person's whole log, fetched page by page and verified: the chain,
 * the broker's signature on its head, and the head seen last time (kept in
 * KEYFILE.head) which must still be part of it. */
struct cli_log {
	msgpack_unpacked *pages;
	size_t npages;
	json_t *names;      /* id -> name of apps and holders */
	uint64_t count;
	uint64_t withheld;  /* to a delegate: entries outside their types */
	bool ok;            /* the chain and head verified */
	struct cerr why;    /* otherwise, what is wrong */
};
int cli_log_fetch(struct cli_conn *cc, struct cli_log *lg);
void cli_log_release(struct cli_log *lg);
/* Call fn for each raw entry of the fetched log, in order. */
void cli_log_foreach(struct cli_log *lg,
    void (*fn)(void *arg, const void *entry, size_t len), void *arg);
/*
 * The uses one entry records, as a JSON array the caller frees (names
 * resolved with lg->names), or NULL if it cannot be read: one object per
 * entry, except a delivery covering a batch: one per record (each with
 * the entry's seq and its own "record"), as if each had its entry.
 */
json_t *cli_log_entry_uses_json(struct cli_log *lg, const void *entry,
    size_t len);
/* Every use of the fetched log as JSON, in order (see above). */
json_t *cli_log_entries_json(struct cli_log *lg);

#endif
