/*
 * export.h: "Download my data" as the person's client does it: their
 * records page by page and their verified log, as carnet's JSON or as a
 * FHIR R4 Bundle.  Shared by carnet export and carnet dashboard.
 */
#ifndef CARNET_CLIENT_EXPORT_H
#define CARNET_CLIENT_EXPORT_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "../schemas/record.h"
#include "cli.h"

/* A record as JSON with its seq in the person's stream (none when 0). */
json_t *cli_record_json(const struct record *r, uint64_t seq);

/* Page through CMD {user?, from} replies ({records: [encoded], seqs?,
 * next, more, names?}: EXPORT, EMERGENCY_READ), calling fn with each
 * record that decodes and its seq (0 when the reply gives none), and
 * adding the holders' names to names (when not NULL); the broker's
 * refusal in err. */
int cli_records_fetch(struct cli_conn *cc, const char *cmd, const uint8_t *user,
    void (*fn)(void *arg, const struct record *r, uint64_t seq), void *arg,
    json_t *names, struct cerr *err) __attribute__((warn_unused_result));

/*
 * "Download my data": the person's records and verified log as one JSON
 * document, carnet's form {carnet_export, user, exported_at, records, log,
 * log_head: {seq, verified}, names: {id: name}} or a FHIR R4 Bundle.  NULL with err set when
 * the records cannot be fetched; a log that does not verify still gives
 * the document, with *log_ok false and the reason in err.
 */
json_t *cli_export_doc(struct cli_conn *cc, bool fhir, bool *log_ok,
    struct cerr *err);

#endif
