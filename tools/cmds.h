/*
 * cmds.h: the carnet subcommands, one group per cmd_*.c file.
 */
#ifndef CARNET_CMDS_H
#define CARNET_CMDS_H

#include "../agents/cli.h"
#include "../schemas/record.h"

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

/* Page through CMD {user?, from} replies ({records: [encoded], next,
 * more, names?}: EXPORT, EMERGENCY_READ), calling fn with each record that
 * decodes, and adding the holders' names to names (when not NULL); the
 * broker's refusal in err. */
int cli_records_fetch(struct cli_conn *cc, const char *cmd, const uint8_t *user,
    void (*fn)(void *arg, const struct record *r), void *arg, json_t *names,
    struct cerr *err) __attribute__((warn_unused_result));

/*
 * "Download my data": the person's records and verified log as one JSON
 * document, carnet's form {carnet_export, user, exported_at, records, log,
 * log_head: {seq, verified}, names: {id: name}} or a FHIR R4 Bundle.  NULL with err set when
 * the records cannot be fetched; a log that does not verify still gives
 * the document, with *log_ok false and the reason in err.
 */
json_t *cli_export_doc(struct cli_conn *cc, bool fhir, bool *log_ok,
    struct cerr *err);

/* A record type and its documented fields, as carnet schema --json. */
json_t *cli_schema_json(const struct schema *s);

/* Subcommands. */
int cmd_keygen(int argc, char **argv);
int cmd_party(int argc, char **argv);
int cmd_put(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_subscribe(int argc, char **argv);
int cmd_request(int argc, char **argv);
int cmd_consent(int argc, char **argv);
int cmd_log(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_erase(int argc, char **argv);
int cmd_schema(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_whoami(int argc, char **argv);
int cmd_delegate(int argc, char **argv);
int cmd_emergency(int argc, char **argv);
int cmd_dashboard(int argc, char **argv);

#endif
