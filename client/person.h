/*
 * person.h: what a person does with their consents, as calls that return
 * errors instead of exiting: shared by the carnet commands and carnet
 * dashboard.  Tokens and revocations are signed here, with the key in
 * cc->kp; it never leaves this process.
 */
#ifndef CARNET_PERSON_H
#define CARNET_PERSON_H

#include "../policy/token.h"
#include "cli.h"

/*
 * A TOKENS reply as a JSON array of consents, each {id, state, app,
 * app_name, owner, business_model, purpose, types: [{type, fields?}],
 * holders: "any" | [id], issued, since?, expires?, granted_at?, ended_at?,
 * erased_at?, erase: "confirmed"|"pending" once ended}; only tokens whose
 * signature verifies are listed.
 */
json_t *person_consents_json(const msgpack_object *reply);
/* The pending requests from seq from on, at most max, as a JSON array
 * of {seq, app, app_name, owner, business_model, purpose, note, types:
 * [name], time} in *out (caller decrefs); REQUESTS page by page. */
int person_requests(struct cli_conn *cc, uint64_t from, size_t max,
    json_t **out, struct cerr *err) __attribute__((warn_unused_result));

/* Sign t (as cc->who, or as their delegate) and send GRANT; request, when
 * not NULL, is the pending request this answers. */
int person_grant(struct cli_conn *cc, struct token *t, const uint64_t *request,
    struct cerr *err) __attribute__((warn_unused_result));
/*
 * Build, unsigned, the token that gives pending request seq exactly what it
 * asked: its app, types (every field), purpose, from any holder, from now
 * until expires (0: until revoked).  *req gets the request as
 * person_requests lists it (caller decrefs).
 */
int person_request_token(struct cli_conn *cc, uint64_t seq, int64_t expires,
    struct token *t, json_t **req, struct cerr *err)
    __attribute__((warn_unused_result));
/* Say no to pending request seq; note (may be NULL) goes to the log. */
int person_decline(struct cli_conn *cc, uint64_t seq, const char *note,
    struct cerr *err) __attribute__((warn_unused_result));
/* Sign and send the revocation of token id; *already: it had ended. */
int person_revoke(struct cli_conn *cc, const uint8_t id[TOKID_BYTES],
    bool *already, struct cerr *err) __attribute__((warn_unused_result));

/* Pause consent id (nothing sent until resumed), or resume it: what came
 * meanwhile is sent, unless skip. */
int person_pause(struct cli_conn *cc, const uint8_t id[TOKID_BYTES], bool pause,
    bool skip, struct cerr *err) __attribute__((warn_unused_result));
/* A DELEGATES reply as a JSON array of {direction: "given"|"received",
 * id, name, scope, state, types: [name] (empty: every type), until: date
 * or null (until revoked)}. */
json_t *person_delegations_json(const msgpack_object *reply);
/* An EMERGENCY_SHOW reply as {card: null | {types: [name], apps: [id]}}. */
json_t *person_card_json(const msgpack_object *reply);
/* End the access of delegate to, at once. */
int person_undelegate(struct cli_conn *cc, const uint8_t to[ID_BYTES],
    struct cerr *err) __attribute__((warn_unused_result));

#endif
