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
/* One decoded entry as JSON (names resolved with lg->names). */
json_t *cli_log_entry_json(struct cli_log *lg, const void *entry, size_t len);
/* Every entry of the fetched log as JSON, in order. */
json_t *cli_log_entries_json(struct cli_log *lg);

#endif
